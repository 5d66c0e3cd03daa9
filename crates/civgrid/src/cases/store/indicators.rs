//! Evaluation indicators: the rows rollup.rs keeps and indicators.rs reads.

use super::*;

/// The staff members who have acted on a case.
pub async fn case_staff(tx: &mut Tx<'_>, case_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("select distinct staff_id from case_transition where case_id = $1 and staff_id is not null")
        .bind(case_id)
        .fetch_all(&mut **tx)
        .await
}

/// Adds each cell's counts to its `case_stat` row (created when new), a few hundred rows per
/// statement; `cells` are distinct.
pub(crate) async fn add_stats(tx: &mut Tx<'_>, cells: &[(Cell, Counts)]) -> Result<(), sqlx::Error> {
    const WIDTH: usize = 3 + INTEGER_COLUMNS.len() + 1;
    let columns = INTEGER_COLUMNS.join(", ");
    let sums: Vec<String> = INTEGER_COLUMNS
        .iter()
        .chain(&["handling_hours"])
        .map(|c| format!("{c} = case_stat.{c} + excluded.{c}"))
        .collect();
    for chunk in cells.chunks(400) {
        let sql = format!(
            "insert into case_stat (scope, grain, period, {columns}, handling_hours) values {}
             on conflict (scope, grain, period) do update set {}",
            Dialect::of(tx).values(chunk.len(), WIDTH),
            sums.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for ((scope, grain, period), c) in chunk {
            q = q.bind(scope).bind(grain.as_str()).bind(period);
            for v in c.integers() {
                q = q.bind(v);
            }
            q = q.bind(c.handling_hours);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The sum of a scope's rows of `grain` over the periods `[from, to)`.
pub(crate) async fn stat_sum(db: &Db, scope: &str, grain: Grain, from: &str, to: &str) -> Result<Counts, sqlx::Error> {
    // PostgreSQL sums bigints as numeric: cast back.
    let sums: Vec<String> =
        INTEGER_COLUMNS.iter().map(|c| format!("coalesce(cast(sum({c}) as bigint), 0) as {c}")).collect();
    let sql = format!(
        "select {}, coalesce(sum(handling_hours), 0.0) as handling_hours from case_stat
         where scope = $1 and grain = $2 and period >= $3 and period < $4",
        sums.join(", ")
    );
    let row = sqlx::query(&sql).bind(scope).bind(grain.as_str()).bind(from).bind(to).fetch_one(db.pool()).await?;
    let mut v = [0_i64; 11];
    for (slot, c) in v.iter_mut().zip(INTEGER_COLUMNS) {
        *slot = row.try_get(c)?;
    }
    Ok(Counts::from_integers(v, row.try_get("handling_hours")?))
}

const FILED_COLUMNS: &str = "filed_at, grid_code, lead_department, dispatched_at, handled_at, handle_deadline, \
     closed_at, verified_at, verify_deadline, rework_count, return_count, handling_working_hours";

fn filed_from(r: &AnyRow) -> Result<Filed, sqlx::Error> {
    Ok(Filed {
        filed_at: at_opt(r, "filed_at")?,
        grid_code: r.try_get("grid_code")?,
        lead_department: r.try_get("lead_department")?,
        dispatched_at: at_opt(r, "dispatched_at")?,
        handled_at: at_opt(r, "handled_at")?,
        handle_deadline: at_opt(r, "handle_deadline")?,
        closed_at: at_opt(r, "closed_at")?,
        verified_at: at_opt(r, "verified_at")?,
        verify_deadline: at_opt(r, "verify_deadline")?,
        rework_count: r.try_get("rework_count")?,
        return_count: r.try_get("return_count")?,
        handling_working_hours: r.try_get("handling_working_hours")?,
    })
}

/// The scope as an SQL condition on `case_record` with its values bound as `$3` (and `$4`).
/// An area is a range of grid codes (not `like 'code%'`), so that an index on the grid code
/// serves it on both backends.
fn scope_sql(scope: &Scope) -> (&'static str, Vec<String>) {
    match scope {
        Scope::Area(code) => match next_prefix(code) {
            Some(end) => ("grid_code >= $3 and grid_code < $4", vec![code.clone(), end]),
            None => ("grid_code >= $3", vec![code.clone()]),
        },
        Scope::Department(code) => ("lead_department = $3", vec![code.clone()]),
        Scope::Person(id) => (
            "exists (select 1 from case_transition t where t.case_id = case_record.id and t.staff_id = cast($3 as bigint))",
            vec![id.to_string()],
        ),
    }
}

/// The cases of a scope filed in `[from, to)`, as the indicators read them.
pub async fn filed_in(db: &Db, scope: &Scope, from: &str, to: &str) -> Result<Vec<Filed>, sqlx::Error> {
    let (cond, values) = scope_sql(scope);
    let sql = format!("select {FILED_COLUMNS} from case_record where filed_at >= $1 and filed_at < $2 and {cond}");
    let mut q = sqlx::query(&sql).bind(from).bind(to);
    for v in &values {
        q = q.bind(v);
    }
    q.fetch_all(db.pool()).await?.iter().map(filed_from).collect()
}

/// Whether `case_stat` may be read (else it is rebuilt first).
pub async fn stats_built(db: &Db) -> Result<bool, sqlx::Error> {
    let built: Option<i64> =
        sqlx::query_scalar("select built from case_stat_state where id = 1").fetch_optional(db.pool()).await?;
    Ok(built == Some(1))
}

/// Starts a rebuild: keeps every writer of the rows out until commit (SQLite: this write takes
/// the database's write lock; PostgreSQL: the table lock, which the writers' upserts wait for)
/// and empties them.
pub async fn begin_stats_rebuild(tx: &mut Tx<'_>, dialect: Dialect) -> Result<(), sqlx::Error> {
    dialect.lock_for_rebuild(tx, &["case_stat"]).await?;
    sqlx::query("insert into case_stat_state (id, built) values (1, 0) on conflict (id) do update set built = 0")
        .execute(&mut **tx)
        .await?;
    sqlx::query("delete from case_stat").execute(&mut **tx).await?;
    Ok(())
}

pub async fn finish_stats_rebuild(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("update case_stat_state set built = 1 where id = 1").execute(&mut **tx).await?;
    Ok(())
}

/// Handled cases without a stored handling time: (id, dispatched_at, handled_at).
pub async fn untimed_feedback(tx: &mut Tx<'_>) -> Result<Vec<(i64, DateTime<Utc>, DateTime<Utc>)>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, dispatched_at, handled_at from case_record
         where dispatched_at is not null and handled_at is not null and handling_working_hours is null",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, at(r, "dispatched_at")?, at(r, "handled_at")?))).collect()
}

/// Calls `f` with every (case, staff member who acted on it), streamed, repeats included (the
/// caller keeps sets; a `distinct` here made PostgreSQL sort millions of rows on disk).
pub async fn each_case_staff(tx: &mut Tx<'_>, mut f: impl FnMut(i64, i64)) -> Result<(), sqlx::Error> {
    use tokio_stream::StreamExt;
    let mut rows =
        sqlx::query("select case_id, staff_id from case_transition where staff_id is not null").fetch(&mut **tx);
    while let Some(r) = rows.next().await {
        let r = r?;
        f(r.try_get("case_id")?, r.try_get("staff_id")?);
    }
    Ok(())
}

/// Calls `f` with every filed case, streamed.
pub async fn each_filed(tx: &mut Tx<'_>, mut f: impl FnMut(i64, Filed)) -> Result<(), sqlx::Error> {
    use tokio_stream::StreamExt;
    let sql = format!("select id, {FILED_COLUMNS} from case_record where filed_at is not null");
    let mut rows = sqlx::query(&sql).fetch(&mut **tx);
    while let Some(r) = rows.next().await {
        let r = r?;
        f(r.try_get("id")?, filed_from(&r)?);
    }
    Ok(())
}
