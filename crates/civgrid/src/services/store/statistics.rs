//! Statistics kept per day and month, their rebuild from the records, and the paged list of
//! applications.

use super::*;

/// What one record adds to a statistics row, or what rows add up to (docs/SERVICES.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub accepted: i64,
    pub online: i64,
    pub concluded: i64,
    pub approved: i64,
    pub rejected: i64,
    pub on_time: i64,
    /// Σ working hours from acceptance to conclusion of the concluded ones.
    pub handling_hours: f64,
    pub materials_reused: i64,
    pub materials_asked: i64,
    pub visits_saved: i64,
    pub missing_notices: i64,
    pub refusals: i64,
    pub ratings: i64,
    pub bad_ratings: i64,
    pub good_ratings: i64,
}

/// The integer counts, in this order, as columns of `service_stat` and of the queries below.
const COUNT_COLUMNS: [&str; 14] = [
    "accepted",
    "online",
    "concluded",
    "approved",
    "rejected",
    "on_time",
    "materials_reused",
    "materials_asked",
    "visits_saved",
    "missing_notices",
    "refusals",
    "ratings",
    "bad_ratings",
    "good_ratings",
];

impl Counts {
    fn integers(&self) -> [i64; 14] {
        [
            self.accepted,
            self.online,
            self.concluded,
            self.approved,
            self.rejected,
            self.on_time,
            self.materials_reused,
            self.materials_asked,
            self.visits_saved,
            self.missing_notices,
            self.refusals,
            self.ratings,
            self.bad_ratings,
            self.good_ratings,
        ]
    }

    fn from_row(r: &AnyRow) -> Result<Counts, sqlx::Error> {
        let v = |c: &str| r.try_get::<i64, _>(c);
        Ok(Counts {
            accepted: v("accepted")?,
            online: v("online")?,
            concluded: v("concluded")?,
            approved: v("approved")?,
            rejected: v("rejected")?,
            on_time: v("on_time")?,
            handling_hours: r.try_get("handling_hours")?,
            materials_reused: v("materials_reused")?,
            materials_asked: v("materials_asked")?,
            visits_saved: v("visits_saved")?,
            missing_notices: v("missing_notices")?,
            refusals: v("refusals")?,
            ratings: v("ratings")?,
            bad_ratings: v("bad_ratings")?,
            good_ratings: v("good_ratings")?,
        })
    }
}

/// One row of `service_stat` / `service_stat_duration`: a grouping's key over an hour
/// (`YYYY-MM-DDTHH`), a day (`YYYY-MM-DD`) or a month (`YYYY-MM`), local, for one department or
/// all of them (`*`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub dimension: &'static str,
    pub grain: &'static str,
    pub period: String,
    pub key: String,
    pub department: String,
}

const CELL_COLUMNS: &str = "dimension, grain, period, group_key, department";

/// The sums of the count columns, named as the columns (PostgreSQL sums bigints as numeric).
fn summed_counts() -> String {
    let mut s: Vec<String> = COUNT_COLUMNS.iter().map(|c| format!("cast(sum({c}) as bigint) as {c}")).collect();
    s.push("sum(handling_hours) as handling_hours".into());
    s.join(", ")
}

/// Adds `c` to each of `cells` (distinct, in one order for every writer: rows are locked in
/// it), in one statement.
pub async fn add_counts(tx: &mut Tx<'_>, cells: &[Cell], c: &Counts) -> Result<(), sqlx::Error> {
    let sums: Vec<String> = COUNT_COLUMNS
        .iter()
        .chain(&["handling_hours"])
        .map(|c| format!("{c} = service_stat.{c} + excluded.{c}"))
        .collect();
    let sql = format!(
        "insert into service_stat ({CELL_COLUMNS}, {}, handling_hours) values {}
         on conflict (dimension, grain, period, group_key, department) do update set {}",
        COUNT_COLUMNS.join(", "),
        Dialect::of(tx).values(cells.len(), 20),
        sums.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for cell in cells {
        q = q.bind(cell.dimension).bind(cell.grain).bind(&cell.period).bind(&cell.key).bind(&cell.department);
        for v in c.integers() {
            q = q.bind(v);
        }
        q = q.bind(c.handling_hours);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The histograms of `cells`, locked for the caller's transaction (created empty if new).
pub async fn lock_durations(tx: &mut Tx<'_>, cells: &[Cell]) -> Result<Vec<(Cell, Vec<u8>)>, sqlx::Error> {
    let sql = format!(
        "insert into service_stat_duration ({CELL_COLUMNS}, histogram) values {}
         on conflict (dimension, grain, period, group_key, department)
         do update set histogram = service_stat_duration.histogram returning {CELL_COLUMNS}, histogram",
        Dialect::of(tx).values(cells.len(), 6)
    );
    let mut q = sqlx::query(&sql);
    for cell in cells {
        q = q.bind(cell.dimension).bind(cell.grain).bind(&cell.period).bind(&cell.key).bind(&cell.department);
        q = q.bind(Vec::<u8>::new());
    }
    let rows = q.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| {
            let (dimension, grain): (String, String) = (r.try_get("dimension")?, r.try_get("grain")?);
            let cell = cells.iter().find(|c| {
                c.dimension == dimension
                    && c.grain == grain
                    && r.try_get::<String, _>("period").is_ok_and(|p| p == c.period)
                    && r.try_get::<String, _>("group_key").is_ok_and(|k| k == c.key)
                    && r.try_get::<String, _>("department").is_ok_and(|d| d == c.department)
            });
            let cell = cell.ok_or_else(|| sqlx::Error::Protocol("a histogram row that was not asked for".into()))?;
            Ok((cell.clone(), r.try_get("histogram")?))
        })
        .collect()
}

/// Writes histograms (replacing what was there), in one statement.
pub async fn put_durations(tx: &mut Tx<'_>, histograms: &[(Cell, Vec<u8>)]) -> Result<(), sqlx::Error> {
    if histograms.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "insert into service_stat_duration ({CELL_COLUMNS}, histogram) values {}
         on conflict (dimension, grain, period, group_key, department) do update set histogram = excluded.histogram",
        Dialect::of(tx).values(histograms.len(), 6)
    );
    let mut q = sqlx::query(&sql);
    for (cell, h) in histograms {
        q = q.bind(cell.dimension).bind(cell.grain).bind(&cell.period).bind(&cell.key).bind(&cell.department);
        q = q.bind(h.clone());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// The condition on a grouping's rows of one grain over `[$2, $3)`, for one department (`$4`)
/// or all of them.
fn cells_where(department: Option<&str>) -> &'static str {
    if department.is_some() {
        "dimension = $1 and department = $4 and grain = $5 and period >= $2 and period < $3"
    } else {
        "dimension = $1 and grain = $4 and period >= $2 and period < $3"
    }
}

/// Sums per key of a grouping's rows of `grain` with periods in `[from, to)`; `department` is
/// the department (or `*`) the rows are kept for, or none for every department's rows.
pub async fn stat_counts(
    db: &Db,
    dimension: &str,
    grain: &str,
    from: &str,
    to: &str,
    department: Option<&str>,
) -> Result<Vec<(String, Counts)>, sqlx::Error> {
    let sql = format!(
        "select group_key, {} from service_stat where {} group by group_key",
        summed_counts(),
        cells_where(department)
    );
    let mut q = sqlx::query(&sql).bind(dimension).bind(from).bind(to);
    if let Some(d) = department {
        q = q.bind(d);
    }
    let rows = q.bind(grain).fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("group_key")?, Counts::from_row(r)?))).collect()
}

/// The histograms (key, histogram) of the same rows as [`stat_counts`].
pub async fn stat_durations(
    db: &Db,
    dimension: &str,
    grain: &str,
    from: &str,
    to: &str,
    department: Option<&str>,
) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    let sql = format!("select group_key, histogram from service_stat_duration where {}", cells_where(department));
    let mut q = sqlx::query(&sql).bind(dimension).bind(from).bind(to);
    if let Some(d) = department {
        q = q.bind(d);
    }
    let rows = q.bind(grain).fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("group_key")?, r.try_get("histogram")?))).collect()
}

/// A grouping's key of an application (`a`), a notice (`n`) or a rating (`r`), in SQL; the
/// department is the `department` grouping's key.
fn key_sql(dimension: &str, record: char) -> &'static str {
    match (record, dimension) {
        ('a', "item") => "a.item_code",
        ('a', "department") => "a.department_code",
        ('a', "window") => "coalesce(a.window_code, 'online')",
        ('a', _) => "coalesce(a.clerk, 'online')",
        ('n', "item") => "n.item_code",
        ('n', "department") => {
            "coalesce((select max(i.department_code) from service_item i where i.code = n.item_code), '')"
        }
        ('n', "window") => "coalesce(n.window_code, 'online')",
        ('n', _) => "n.issued_by",
        (_, "item") => "coalesce(r.item_code, '')",
        (_, "department") => {
            "coalesce(r.responsible_department,
               (select max(i.department_code) from service_item i where i.code = r.item_code), '')"
        }
        (_, "window") => "coalesce(r.window_code, 'online')",
        _ => "coalesce(r.clerk, 'online')",
    }
}

/// Every record's contribution as one row (`group_key`, `department`, `hour`, the counts and
/// `overdue_open` — open and past its deadline at `$3`): applications by acceptance time,
/// notices by issue time, ratings (not voided) by rating time, each in `[$1, $2)` when `ranged`.
fn records_sql(backend: Dialect, dimension: &str, ranged: bool) -> String {
    let range = |col: &str| if ranged { format!(" and {col} >= $1 and {col} < $2") } else { String::new() };
    let hour = |col: &str| local_hour_sql(backend, col);
    let zero = "cast(0 as double precision)";
    let overdue = if ranged { "case when a.concluded_at is null and a.deadline < $3 then 1 else 0 end" } else { "0" };
    format!(
        "select {akey} as group_key, a.department_code as department, {ahour} as hour, 1 as accepted,
           case when a.channel = 'online' then 1 else 0 end as online,
           case when a.concluded_at is not null then 1 else 0 end as concluded,
           case when a.concluded_at is not null and a.state = 'approved' then 1 else 0 end as approved,
           case when a.concluded_at is not null and a.state = 'rejected' then 1 else 0 end as rejected,
           case when a.concluded_at is not null and a.concluded_at <= a.deadline then 1 else 0 end as on_time,
           case when a.concluded_at is not null then coalesce(a.handling_working_hours, {zero}) else {zero} end
             as handling_hours,
           a.reused as materials_reused, a.asked as materials_asked,
           a.reused + case when a.max_visits > a.visits then a.max_visits - a.visits else 0 end as visits_saved,
           0 as missing_notices, 0 as refusals, 0 as ratings, 0 as bad_ratings, 0 as good_ratings,
           {overdue} as overdue_open
         from (select a.*, case when a.channel = 'window' then 1 else 0 end as visits,
                 (select count(*) from service_material m where m.application_id = a.id
                    and m.source in ('licence', 'earlier')) as reused,
                 (select count(*) from service_material m where m.application_id = a.id
                    and m.source in ('submitted', 'paper')) as asked
               from service_application a where 1 = 1{arange}) a
         union all
         select {nkey}, {ndept}, {nhour}, 0, 0, 0, 0, 0, 0, {zero}, 0, 0, 0,
           case when n.kind = 'refusal' then 0 else 1 end, case when n.kind = 'refusal' then 1 else 0 end,
           0, 0, 0, 0
         from service_notice n where 1 = 1{nrange}
         union all
         select {rkey}, {rdept}, {rhour}, 0, 0, 0, 0, 0, 0, {zero}, 0, 0, 0, 0, 0, 1,
           case when r.grade <= 2 then 1 else 0 end, case when r.grade >= 3 then 1 else 0 end, 0
         from service_rating r where r.void = 0{rrange}",
        akey = key_sql(dimension, 'a'),
        ahour = hour("a.accepted_at"),
        arange = range("a.accepted_at"),
        nkey = key_sql(dimension, 'n'),
        ndept = key_sql("department", 'n'),
        nhour = hour("n.issued_at"),
        nrange = range("n.issued_at"),
        rkey = key_sql(dimension, 'r'),
        rdept = key_sql("department", 'r'),
        rhour = hour("r.rated_at"),
        rrange = range("r.rated_at"),
    )
}

/// Counts read from the records of `[from, to)` (the partial days at a period's ends) per key
/// and department, with the open applications past their deadline at `now`.
pub async fn record_counts(
    db: &Db,
    dimension: &str,
    from: &str,
    to: &str,
    now: &str,
) -> Result<Vec<(String, String, Counts, i64)>, sqlx::Error> {
    let sql = format!(
        "select group_key, department, {}, cast(sum(overdue_open) as bigint) as overdue_open
         from ({}) x group by group_key, department",
        summed_counts(),
        records_sql(db.backend(), dimension, true)
    );
    let rows = sqlx::query(&sql).bind(from).bind(to).bind(now).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            let counts = Counts::from_row(r)?;
            Ok((r.try_get("group_key")?, r.try_get("department")?, counts, r.try_get("overdue_open")?))
        })
        .collect()
}

/// (key, department, working hours) of the applications of `[from, to)` with a handling time.
pub async fn record_durations(
    db: &Db,
    dimension: &str,
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, f64)>, sqlx::Error> {
    let sql = format!(
        "select {} as group_key, a.department_code as department, a.handling_working_hours as hours
         from service_application a where a.accepted_at >= $1 and a.accepted_at < $2
           and a.concluded_at is not null and a.handling_working_hours is not null",
        key_sql(dimension, 'a')
    );
    let rows = sqlx::query(&sql).bind(from).bind(to).fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("group_key")?, r.try_get("department")?, r.try_get("hours")?))).collect()
}

/// Open applications accepted in `[from, to)` whose deadline is before `now`, per key.
pub async fn overdue_open(
    db: &Db,
    dimension: &str,
    from: &str,
    to: &str,
    now: &str,
    department: Option<&str>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let filter = if department.is_some() { " and a.department_code = $4" } else { "" };
    let sql = format!(
        "select {} as group_key, count(*) as n from service_application a
         where a.concluded_at is null and a.accepted_at >= $1 and a.accepted_at < $2 and a.deadline < $3{filter}
         group by 1",
        key_sql(dimension, 'a')
    );
    let mut q = sqlx::query(&sql).bind(from).bind(to).bind(now);
    if let Some(d) = department {
        q = q.bind(d);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("group_key")?, r.try_get("n")?))).collect()
}

/// Whether the kept statistics may be read (else they are rebuilt first).
pub async fn statistics_built(db: &Db) -> Result<bool, sqlx::Error> {
    let built: Option<i64> =
        sqlx::query_scalar("select built from service_stat_state where id = 1").fetch_optional(db.pool()).await?;
    Ok(built == Some(1))
}

/// Starts a rebuild: marks the statistics unusable, keeps every writer out until commit
/// (SQLite: this write takes the database's write lock; PostgreSQL: the tables' lock, which the
/// writers' row updates wait for) and empties them.
pub async fn begin_rebuild(tx: &mut Tx<'_>, dialect: Dialect) -> Result<(), sqlx::Error> {
    dialect.lock_for_rebuild(tx, &["service_stat", "service_stat_duration"]).await?;
    sqlx::query("insert into service_stat_state (id, built) values (1, 0) on conflict (id) do update set built = 0")
        .execute(&mut **tx)
        .await?;
    sqlx::query("delete from service_stat").execute(&mut **tx).await?;
    sqlx::query("delete from service_stat_duration").execute(&mut **tx).await?;
    Ok(())
}

pub async fn finish_rebuild(tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("update service_stat_state set built = 1 where id = 1").execute(&mut **tx).await?;
    Ok(())
}

/// Concluded applications without a stored handling time: (id, accepted_at, concluded_at).
pub async fn untimed_conclusions(tx: &mut Tx<'_>) -> Result<Vec<(i64, DateTime<Utc>, DateTime<Utc>)>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, accepted_at, concluded_at from service_application
         where concluded_at is not null and handling_working_hours is null",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, crate::db::at(r, "accepted_at")?, crate::db::at(r, "concluded_at")?)))
        .collect()
}

pub async fn set_handling_hours(tx: &mut Tx<'_>, id: i64, hours: f64) -> Result<(), sqlx::Error> {
    sqlx::query("update service_application set handling_working_hours = $1 where id = $2")
        .bind(hours)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Recomputes one grouping's rows from the records: its hours per department from the records,
/// from those the days, from the days the months, and for `all_departments` the rows over every
/// department (`*`).
pub async fn rebuild_counts(
    tx: &mut Tx<'_>,
    backend: Dialect,
    dimension: &str,
    all_departments: bool,
) -> Result<(), sqlx::Error> {
    let columns = format!("{CELL_COLUMNS}, {}, handling_hours", COUNT_COLUMNS.join(", "));
    let sums = summed_counts();
    sqlx::query(&format!(
        "insert into service_stat ({columns})
         select cast($1 as text), 'hour', hour, group_key, department, {sums} from ({}) x
         group by hour, group_key, department",
        records_sql(backend, dimension, false)
    ))
    .bind(dimension)
    .execute(&mut **tx)
    .await?;
    for (grain, from, width) in [("day", "hour", 10), ("month", "day", 7)] {
        sqlx::query(&format!(
            "insert into service_stat ({columns})
             select dimension, '{grain}', substr(period, 1, {width}), group_key, department, {sums}
             from service_stat where dimension = $1 and grain = '{from}'
             group by dimension, substr(period, 1, {width}), group_key, department"
        ))
        .bind(dimension)
        .execute(&mut **tx)
        .await?;
    }
    if all_departments {
        sqlx::query(&format!(
            "insert into service_stat ({columns})
             select dimension, grain, period, group_key, '*', {sums} from service_stat
             where dimension = $1 group by dimension, grain, period, group_key"
        ))
        .bind(dimension)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Every timed conclusion: the application's key in each of `dimensions` (in that order), its
/// department, its local acceptance hour and its working hours.
pub async fn timed_conclusions(
    tx: &mut Tx<'_>,
    backend: Dialect,
    dimensions: &[&str],
) -> Result<Vec<(Vec<String>, String, String, f64)>, sqlx::Error> {
    let keys: Vec<String> =
        dimensions.iter().enumerate().map(|(i, d)| format!("{} as k{i}", key_sql(d, 'a'))).collect();
    let sql = format!(
        "select {}, a.department_code as department, {} as hour, a.handling_working_hours as hours
         from service_application a where a.concluded_at is not null and a.handling_working_hours is not null",
        keys.join(", "),
        local_hour_sql(backend, "a.accepted_at")
    );
    let rows = sqlx::query(&sql).fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| {
            let keys = (0..dimensions.len()).map(|i| r.try_get(format!("k{i}").as_str())).collect::<Result<_, _>>()?;
            Ok((keys, r.try_get("department")?, r.try_get("hour")?, r.try_get("hours")?))
        })
        .collect()
}

/// One page of the applications visible in a staff list (all, or those with a step of
/// `department`) in `state`, by id — newest or oldest first — after the application with id
/// `after` in that order; and whether more follow.
pub async fn list_applications_page(
    db: &Db,
    department: Option<&str>,
    state: Option<&str>,
    oldest_first: bool,
    after: Option<i64>,
    limit: i64,
) -> Result<(Vec<ApplicationRow>, bool), sqlx::Error> {
    let mut sql = format!("select {APP_COLUMNS} from service_application a where 1 = 1");
    let mut n = 0;
    if department.is_some() {
        n += 1;
        sql.push_str(&format!(
            " and exists (select 1 from service_step s where s.application_id = a.id and s.department_code = ${n})"
        ));
    }
    if state.is_some() {
        n += 1;
        sql.push_str(&format!(" and a.state = ${n}"));
    }
    if let Some(id) = after {
        // An integer, written into the statement.
        sql.push_str(&format!(" and a.id {} {id}", if oldest_first { ">" } else { "<" }));
    }
    sql.push_str(&format!(" order by a.id {} limit {}", if oldest_first { "asc" } else { "desc" }, limit + 1));
    let mut q = sqlx::query(&sql);
    if let Some(d) = department {
        q = q.bind(d);
    }
    if let Some(s) = state {
        q = q.bind(s);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let more = rows.len() as i64 > limit;
    let apps = rows.iter().take(limit as usize).map(app_from).collect::<Result<Vec<_>, _>>()?;
    Ok((apps, more))
}
