//! PostgreSQL backup (a civgrid archive of `COPY … TO STDOUT` in one snapshot) and restore
//! (one transaction: schema from the backup's migrations, `COPY … FROM STDIN`, sequences).
//! Plain `PgConnection`s: COPY is not part of sqlx's `Any` driver.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::migrate::Migrate as _;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};
use tokio_stream::StreamExt as _;

use super::archive::{self, Event, Reader, Writer};
use super::{check_no_fork, io_error, BackupError, Metadata, RestoreOptions, RestoreSummary, TargetLedger};
use crate::db::{Backend, DatabaseUrl};

fn db_error(code: &'static str, what: &str, e: impl std::fmt::Display) -> BackupError {
    BackupError::new(code, format!("{what}: {e}"))
}

async fn connect(url: &DatabaseUrl) -> Result<PgConnection, BackupError> {
    let mut conn = PgConnection::connect(url.as_str())
        .await
        .map_err(|e| db_error("database_unavailable", &format!("cannot connect to {}", url.redacted()), e))?;
    // Named like the server's sessions: a restore sees a running backup as a user of the
    // database (and a backup sees nothing: it only reads).
    sqlx::query("select set_config('application_name', 'civgrid/' || coalesce(current_schema(), ''), false)")
        .execute(&mut conn)
        .await
        .map_err(|e| db_error("database_unavailable", "cannot name the session", e))?;
    Ok(conn)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The base tables of the current schema, parents before children (foreign-key order), the
/// migration history first.
async fn tables_in_order(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let edges: Vec<(String, String)> = sqlx::query_as(
        "select child.relname::text, parent.relname::text
         from pg_constraint c
         join pg_class child on child.oid = c.conrelid
         join pg_class parent on parent.oid = c.confrelid
         join pg_namespace n on n.oid = child.relnamespace
         where c.contype = 'f' and n.nspname = current_schema() and c.conrelid <> c.confrelid",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (child, parent) in &edges {
        parents.entry(child.as_str()).or_default().insert(parent.as_str());
    }
    let mut done: Vec<String> = Vec::new();
    let mut left: Vec<&String> = names.iter().collect();
    left.sort_by_key(|n| n.as_str() != "_sqlx_migrations");
    while !left.is_empty() {
        let before = left.len();
        left.retain(|n| {
            let ready = parents.get(n.as_str()).is_none_or(|ps| ps.iter().all(|p| done.iter().any(|d| d == p)));
            if ready {
                done.push((*n).clone());
            }
            !ready
        });
        if left.len() == before {
            // A cycle of foreign keys: none today; keep the rest in name order.
            done.extend(left.drain(..).cloned());
        }
    }
    Ok(done)
}

async fn columns(conn: &mut PgConnection, table: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select column_name::text from information_schema.columns
         where table_schema = current_schema() and table_name = $1 and is_generated = 'NEVER'
         order by ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
}

pub(super) async fn backup(url: &DatabaseUrl, partial: &Path) -> Result<Metadata, BackupError> {
    let mut conn = connect(url).await?;
    let fail = |e: sqlx::Error| db_error("backup_failed", "reading the database failed", e);
    // One snapshot for every table: what the archive holds is the database at one instant,
    // while the server keeps writing.
    sqlx::query("start transaction isolation level repeatable read, read only")
        .execute(&mut conn)
        .await
        .map_err(fail)?;
    let tables = tables_in_order(&mut conn).await.map_err(fail)?;
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(BackupError::new("backup_not_civgrid", "the database is not a civgrid database (never migrated)"));
    }
    let migrations: Vec<i64> =
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(&mut conn)
            .await
            .map_err(fail)?;
    let tree_size: i64 = sqlx::query_scalar("select size from ledger_state where id = 1")
        .fetch_optional(&mut conn)
        .await
        .map_err(fail)?
        .unwrap_or(0);
    let checkpoint = match sqlx::query("select size, note from ledger_checkpoint order by size desc limit 1")
        .fetch_optional(&mut conn)
        .await
        .map_err(fail)?
    {
        Some(r) => {
            Some((r.try_get::<i64, _>("size").map_err(fail)? as u64, r.try_get::<String, _>("note").map_err(fail)?))
        }
        None => None,
    };
    let meta = Metadata::new(Backend::Postgres, migrations, tree_size as u64, checkpoint);
    let write = |e: std::io::Error| io_error("backup_unwritable", "write", partial, e);
    let mut out = Writer::create(partial, &meta).map_err(write)?;
    for table in &tables {
        let cols = columns(&mut conn, table).await.map_err(fail)?;
        out.table(table, &cols).map_err(write)?;
        let list = cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        let mut stream = conn.copy_out_raw(&format!("copy {} ({list}) to stdout", quote(table))).await.map_err(fail)?;
        // Chunk by chunk as the server sends them: nothing of a table is held in memory.
        while let Some(chunk) = stream.next().await {
            out.data(&chunk.map_err(fail)?).map_err(write)?;
        }
        drop(stream);
        out.end_table().map_err(write)?;
    }
    sqlx::query("commit").execute(&mut conn).await.map_err(fail)?;
    conn.close().await.ok();
    out.finish().map_err(write)?;
    Ok(meta)
}

/// Other civgrid sessions on the target database and schema (a server, a backup).
async fn other_sessions(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select 'pid ' || pid || ' from ' || coalesce(client_addr::text, 'local socket') || ' since ' || backend_start::text
         from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid()
           and application_name = 'civgrid/' || coalesce(current_schema(), '')",
    )
    .fetch_all(&mut *conn)
    .await
}

pub(super) async fn restore(
    url: &DatabaseUrl,
    file: &Path,
    opts: &RestoreOptions,
) -> Result<RestoreSummary, BackupError> {
    // A full pass first: the digest and the structure, before anything is touched.
    let meta = archive::verify(file)?;
    meta.check(Backend::Postgres)?;
    let mut conn = connect(url).await?;
    let fail = |e: sqlx::Error| db_error("restore_failed", "the restore failed and was rolled back", e);
    let others = other_sessions(&mut conn).await.map_err(fail)?;
    if !others.is_empty() {
        return Err(BackupError::new(
            "restore_target_in_use",
            format!(
                "civgrid is connected to the target database ({}): stop every civgrid server of this database (systemctl stop civgrid) and retry",
                others.join("; ")
            ),
        ));
    }
    let existing: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = current_schema() and table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(fail)?;
    let target = if existing.is_empty() {
        None
    } else {
        let size: Option<i64> = if existing.iter().any(|t| t == "ledger_checkpoint") {
            sqlx::query_scalar("select max(size) from ledger_checkpoint").fetch_one(&mut conn).await.map_err(fail)?
        } else {
            None
        };
        Some(TargetLedger { checkpoint_size: size.unwrap_or(0) as u64 })
    };
    if target.is_some() && !opts.replace {
        return Err(BackupError::new(
            "restore_target_not_empty",
            format!(
                "the target schema already holds {} tables: give --replace to replace them (back them up first), or restore into an empty database",
                existing.len()
            ),
        ));
    }
    check_no_fork(&meta, target, &opts.witnesses).await?;

    let mut tx = conn.begin().await.map_err(fail)?;
    for t in &existing {
        sqlx::query(&format!("drop table if exists {} cascade", quote(t))).execute(&mut *tx).await.map_err(fail)?;
    }
    // The schema exactly as the backup's release left it: its migrations, from this binary.
    tx.ensure_migrations_table()
        .await
        .map_err(|e| db_error("restore_failed", "creating the migration table failed", e))?;
    let known = crate::db::migrations(Backend::Postgres);
    for v in &meta.migrations {
        let m = known.iter().find(|m| m.version == *v).ok_or_else(|| {
            BackupError::new("backup_newer_release", format!("migration {v} is unknown to this release"))
        })?;
        sqlx::raw_sql(&m.sql).execute(&mut *tx).await.map_err(fail)?;
    }
    // Rows the migrations seeded (the empty ledger state, catalogues) come from the backup.
    let created: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = current_schema() and table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(fail)?;
    let all = created.iter().map(|t| quote(t)).collect::<Vec<_>>().join(", ");
    sqlx::query(&format!("truncate {all}")).execute(&mut *tx).await.map_err(fail)?;

    let mut reader = Reader::open(file)?;
    let mut restored: Vec<String> = Vec::new();
    while let Some(event) = reader.next_event()? {
        let Event::Table { name, columns } = event else {
            return Err(BackupError::new("backup_corrupt", "the archive changed while it was restored"));
        };
        if !created.contains(&name) {
            return Err(BackupError::new(
                "backup_corrupt",
                format!("the archive holds a table {name} its migrations do not create"),
            ));
        }
        let list = columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        let mut copy = tx.copy_in_raw(&format!("copy {} ({list}) from stdin", quote(&name))).await.map_err(fail)?;
        loop {
            match reader.next_event() {
                Ok(Some(Event::Data(bytes))) => {
                    copy.send(bytes).await.map_err(fail)?;
                }
                Ok(Some(Event::EndTable)) => break,
                Ok(_) => {
                    copy.abort("archive damaged").await.ok();
                    return Err(BackupError::new("backup_corrupt", "the archive changed while it was restored"));
                }
                Err(e) => {
                    copy.abort("archive damaged").await.ok();
                    return Err(e);
                }
            }
        }
        copy.finish().await.map_err(fail)?;
        restored.push(name);
    }
    reader.check_digest()?;
    // Identity and serial columns continue after the restored rows.
    let serials: Vec<(String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text from information_schema.columns
         where table_schema = current_schema() and (is_identity = 'YES' or column_default like 'nextval(%')",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(fail)?;
    for (table, column) in serials {
        let sql = format!(
            "select setval(pg_get_serial_sequence($1, $2), coalesce((select max({c}) from {t}), 0) + 1, false)",
            c = quote(&column),
            t = quote(&table)
        );
        sqlx::query(&sql).bind(quote(&table)).bind(&column).execute(&mut *tx).await.map_err(fail)?;
    }
    // The backup's migration history must be this release's, byte for byte.
    let sums: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("select version, checksum from _sqlx_migrations").fetch_all(&mut *tx).await.map_err(fail)?;
    for (version, sum) in sums {
        if known.iter().any(|m| m.version == version && *m.checksum != *sum) {
            return Err(BackupError::new(
                "backup_migration_mismatch",
                format!("the backup's migration {version} differs from this release's: it was not made by a civgrid release"),
            ));
        }
    }
    tx.commit().await.map_err(fail)?;
    conn.close().await.ok();
    super::upgrade(url).await?;
    Ok(RestoreSummary { metadata: meta, replaced: target.is_some() })
}
