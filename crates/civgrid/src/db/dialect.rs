//! Every place where the SQL the stores send differs between SQLite and PostgreSQL.
//!
//! Queries are written once in the dialect both backends accept (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT … DO UPDATE`, `UPDATE … FROM`, window functions), using only the
//! types the Any driver carries (i64, f64, String, bytes). What the two engines spell or plan
//! differently is asked of a [`Dialect`], taken from the connection the statement runs on
//! ([`Dialect::of`]) or from the handle ([`crate::db::Db::backend`]). A store that needs a
//! wholly different statement per engine (a plan only one engine can take) matches on the
//! `Dialect`, so the difference stays exhaustive and visible.

use sqlx::AnyConnection;

/// The SQL dialect of one backend (also: which engine a database URL points at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// How a local (UTC+8) time of a stored timestamp is truncated by [`Dialect::local_time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTime {
    /// `YYYY-MM-DD`
    Day,
    /// `YYYY-MM-DDTHH`
    Hour,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The dialect of the connection (or transaction) a statement is about to run on.
    pub fn of(conn: &AnyConnection) -> Dialect {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }

    /// `(p, p, …), (p, p, …), …`: `rows` tuples of `per_row` placeholders for a multi-row
    /// VALUES.
    ///
    /// Anonymous `?` on SQLite, `$n` on PostgreSQL. sqlx binds a numbered SQLite parameter
    /// after looking its name up with `sqlite3_bind_parameter_name`, which walks the
    /// statement's list of names: quadratic in the parameters, and most of the time of a
    /// 3,000-parameter INSERT. `?` parameters are bound by position.
    pub fn values(self, rows: usize, per_row: usize) -> String {
        let mut sql = String::with_capacity(rows * per_row * 7);
        let mut n = 0;
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ",(" });
            for c in 0..per_row {
                if c > 0 {
                    sql.push(',');
                }
                self.push_placeholder(&mut sql, &mut n);
            }
            sql.push(')');
        }
        sql
    }

    /// `p, p, …`: `n` placeholders for an `in (…)` list (positional, as [`Dialect::values`]).
    pub fn list(self, n: usize) -> String {
        let mut sql = String::with_capacity(n * 4);
        let mut k = 0;
        for i in 0..n {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push_placeholder(&mut sql, &mut k);
        }
        sql
    }

    fn push_placeholder(self, sql: &mut String, n: &mut usize) {
        match self {
            Dialect::Sqlite => sql.push('?'),
            Dialect::Postgres => {
                *n += 1;
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
    }

    /// What follows `insert into t (id, …)` when the ids were taken by [`Dialect::take_ids`]:
    /// PostgreSQL's identity columns (`generated always`) refuse a given value without it.
    pub fn explicit_ids(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "overriding system value",
        }
    }

    /// `clause` where only PostgreSQL's planner needs it, nothing on SQLite. Only for clauses
    /// that change no result (a condition the rest of the statement already implies), written
    /// to steer a plan.
    pub fn postgres_hint(self, clause: &str) -> &str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => clause,
        }
    }

    /// SQL for the local (UTC+8, the districts' time) day or hour of a stored RFC 3339
    /// timestamp (the SQL expression `expr`), as text that sorts by time.
    pub fn local_time(self, expr: &str, unit: LocalTime) -> String {
        match (self, unit) {
            (Dialect::Sqlite, LocalTime::Day) => format!("strftime('%Y-%m-%d', {expr}, '+8 hours')"),
            (Dialect::Sqlite, LocalTime::Hour) => format!("strftime('%Y-%m-%dT%H', {expr}, '+8 hours')"),
            (Dialect::Postgres, LocalTime::Day) => {
                format!("to_char((({expr})::timestamptz + interval '8 hours') at time zone 'UTC', 'YYYY-MM-DD')")
            }
            (Dialect::Postgres, LocalTime::Hour) => format!(
                "to_char((({expr})::timestamptz + interval '8 hours') at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24')"
            ),
        }
    }

    /// Keeps every other writer of `tables` out until the transaction ends, before a rebuild
    /// empties and refills them. SQLite: nothing to do, a write transaction already holds the
    /// database's only write lock. PostgreSQL: the tables' EXCLUSIVE lock (readers go on).
    pub async fn lock_for_rebuild(self, conn: &mut AnyConnection, tables: &[&str]) -> Result<(), sqlx::Error> {
        match self {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => {
                let sql = format!("lock table {} in exclusive mode", tables.join(", "));
                sqlx::query(&sql).execute(conn).await.map(|_| ())
            }
        }
    }

    /// `n` unused ids of `table` (an AUTOINCREMENT / identity `id` column), ascending, for rows
    /// inserted with [`Dialect::explicit_ids`]. On SQLite the caller must hold the write lock
    /// (`Db::write`) from before this read to its INSERT.
    pub async fn take_ids(self, conn: &mut AnyConnection, table: &str, n: usize) -> Result<Vec<i64>, sqlx::Error> {
        match self {
            Dialect::Sqlite => {
                // The highest id ever given (AUTOINCREMENT never reuses one, even after a delete).
                let last: i64 = sqlx::query_scalar(&format!(
                    "select max(coalesce((select seq from sqlite_sequence where name = '{table}'), 0),
                                coalesce((select max(id) from {table}), 0))"
                ))
                .fetch_one(conn)
                .await?;
                Ok((1..=n as i64).map(|i| last + i).collect())
            }
            Dialect::Postgres => {
                sqlx::query_scalar(&format!(
                    "select nextval(pg_get_serial_sequence('{table}', 'id')) from generate_series(1, $1::bigint)"
                ))
                .bind(n as i64)
                .fetch_all(conn)
                .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_positional_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(Dialect::Sqlite.values(2, 3), "(?,?,?),(?,?,?)");
        assert_eq!(Dialect::Postgres.values(2, 2), "($1,$2),($3,$4)");
        assert_eq!(Dialect::Sqlite.list(3), "?, ?, ?");
        assert_eq!(Dialect::Postgres.list(3), "$1, $2, $3");
        assert_eq!(Dialect::Postgres.list(0), "");
    }

    #[test]
    fn hints_reach_only_postgres() {
        assert_eq!(Dialect::Sqlite.postgres_hint(" and x"), "");
        assert_eq!(Dialect::Postgres.postgres_hint(" and x"), " and x");
    }
}
