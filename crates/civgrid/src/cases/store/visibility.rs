//! Who sees which cases, and the lists, pages and map they see.

use super::*;

/// Who sees which cases: case-loop area roles by grid-code prefix (district-level ones also
/// cases not yet located), handlers by their department, grid workers by their assigned grids —
/// all of these whole — and oversight roles by area, without the reporter and photos.
#[derive(Debug, Default)]
pub struct Visibility {
    /// Areas whose cases are seen whole.
    pub areas: Vec<String>,
    /// Areas whose cases are seen without the reporter and the photos (admin, auditor).
    pub oversight_areas: Vec<String>,
    pub department: Option<String>,
    pub grid_worker: Option<i64>,
}

/// The cases `v` may see, newest first, each with whether it is seen whole (with the reporter)
/// rather than for oversight only.
pub async fn list_visible(
    db: &Db,
    v: &Visibility,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<(CaseRow, bool)>, sqlx::Error> {
    let mut binds: Vec<String> = Vec::new();
    let states: Vec<&str> = state.into_iter().collect();
    // Whether each row is seen whole, decided by the same conditions as the list itself.
    let whole = match whole_conditions(v, &mut binds) {
        Some(c) => format!("case when {c} then 1 else 0 end"),
        None => "0".to_owned(),
    };
    let columns = format!("{CASE_COLUMNS}, cast({whole} as bigint) as seen_whole");
    let Some(mut sql) = visible_select(&columns, v, &states, &mut binds) else { return Ok(vec![]) };
    sql.push_str(&format!(" order by id desc limit {limit}"));
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((case_from(r)?, flag(r, "seen_whole")?))).collect()
}

impl Visibility {
    /// What `p` may see of the cases (the same reading as `Cases::list`): areas by role,
    /// a handler's department, a grid worker's grids.
    pub fn of(p: &crate::staff::Principal) -> Visibility {
        let areas_of = |roles: &[crate::staff::Role]| -> Vec<String> {
            p.roles.iter().filter(|g| roles.contains(&g.role)).map(|g| g.area_code.clone()).collect()
        };
        Visibility {
            areas: areas_of(&crate::cases::CASE_LOOP_AREA_ROLES),
            oversight_areas: areas_of(&crate::cases::OVERSIGHT_AREA_ROLES),
            department: p.handler_department().map(str::to_owned),
            grid_worker: p.has_role(crate::staff::Role::GridWorker).then_some(p.staff_id),
        }
    }
}

/// Where a page of a case list starts (keyset paging on the id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageAt {
    /// Newest first (id descending) instead of oldest first.
    pub newest_first: bool,
    /// The page after this id in the list's order …
    pub after: Option<i64>,
    /// … or the page before it (`after` wins when both are given).
    pub before: Option<i64>,
    /// Which of the cases in the states.
    pub only: Only,
}

/// A narrower queue within its states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Only {
    #[default]
    All,
    /// An extension has been asked for and not yet decided.
    ExtensionRequested,
    /// Closed and not yet rated by the reporter (回访 to do).
    Unrated,
}

impl Only {
    /// Written literally (not bound) so the partial indexes of migration 20261206000002 apply.
    fn sql(self) -> &'static str {
        match self {
            Only::All => "",
            Only::ExtensionRequested => " and extension_requested <> 0",
            // `closed_at` is set by closing; named so the `case_callback_queue` index applies.
            Only::Unrated => " and rating is null and closed_at is not null",
        }
    }
}

/// One page of the cases `v` may see in `states` (every state when empty), at most `limit`,
/// in the list's order; and whether more lie beyond it in the direction it was read (past its
/// end for a first or `after` page, before its start for a `before` page). The visible cases
/// of a state are found through the (state, id) order of the `case_state` index.
pub async fn list_visible_page(
    db: &Db,
    v: &Visibility,
    states: &[&str],
    at: PageAt,
    limit: i64,
) -> Result<(Vec<CaseRow>, bool), sqlx::Error> {
    // Read forwards (the list's order) from the start or after a case, backwards before one.
    let (cursor, forwards) = match (at.after, at.before) {
        (Some(id), _) => (Some(id), true),
        (None, Some(id)) => (Some(id), false),
        (None, None) => (None, true),
    };
    let ascending = forwards != at.newest_first;
    let limit = limit.clamp(1, 500);
    // One query per state, each read in id order through the `case_state` index (its entries
    // of one state are in id order), so none sorts or reads more than a page; then merged.
    let each: Vec<Option<&str>> =
        if states.is_empty() { vec![None] } else { states.iter().map(|s| Some(*s)).collect() };
    let mut rows: Vec<CaseRow> = Vec::new();
    for state in each {
        let mut binds: Vec<String> = Vec::new();
        let one: Vec<&str> = state.into_iter().collect();
        let Some(mut sql) = visible_select(CASE_COLUMNS, v, &one, &mut binds) else { return Ok((vec![], false)) };
        sql.push_str(at.only.sql());
        if let Some(id) = cursor {
            // Ids are integers, written into the statement (every bind here is text).
            sql.push_str(&format!(" and id {} {id}", if ascending { ">" } else { "<" }));
        }
        sql.push_str(&format!(" order by id {} limit {}", if ascending { "asc" } else { "desc" }, limit + 1));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        for r in q.fetch_all(db.pool()).await? {
            rows.push(case_from(&r)?);
        }
    }
    if ascending {
        rows.sort_by_key(|c| c.id);
    } else {
        rows.sort_by_key(|c| std::cmp::Reverse(c.id));
    }
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    if !forwards {
        rows.reverse();
    }
    Ok((rows, more))
}

/// `select {columns} from case_record where` the cases `v` may see in `states` (every state
/// when empty), with the text it binds pushed onto `binds`; `None` when `v` sees nothing.
fn visible_select(columns: &str, v: &Visibility, states: &[&str], binds: &mut Vec<String>) -> Option<String> {
    let mut conds: Vec<String> = whole_conditions(v, binds).into_iter().collect();
    conds.extend(v.oversight_areas.iter().map(|area| area_condition(area, binds)));
    if conds.is_empty() {
        return None;
    }
    let mut sql = format!("select {columns} from case_record where ({})", conds.join(" or "));
    if !states.is_empty() {
        let mut marks = Vec::new();
        for s in states {
            binds.push((*s).to_owned());
            marks.push(format!("${}", binds.len()));
        }
        sql.push_str(&format!(" and state in ({})", marks.join(", ")));
    }
    Some(sql)
}

/// The cases of an area (and for a district, the cases not yet located).
fn area_condition(area: &str, binds: &mut Vec<String>) -> String {
    binds.push(format!("{area}%"));
    let district_wide = if area.len() == 6 { " or grid_code is null" } else { "" };
    format!("(grid_code like ${}{district_wide})", binds.len())
}

/// The condition (over `case_record`) of the cases `v` sees whole; `None` when there are none.
fn whole_conditions(v: &Visibility, binds: &mut Vec<String>) -> Option<String> {
    let mut conds: Vec<String> = v.areas.iter().map(|area| area_condition(area, binds)).collect();
    if let Some(d) = &v.department {
        binds.push(d.clone());
        conds.push(format!(
            "exists (select 1 from case_department cd where cd.case_id = case_record.id and cd.department_code = ${})",
            binds.len()
        ));
    }
    if let Some(id) = v.grid_worker {
        binds.push(id.to_string());
        conds.push(format!(
            "grid_code in (select grid_code from grid_assignment where cast(staff_id as text) = ${})",
            binds.len()
        ));
    }
    (!conds.is_empty()).then(|| format!("({})", conds.join(" or ")))
}

/// The states of a case still being worked on (not closed, refused or merged).
pub const LIVE_STATES: [&str; 10] = [
    "received",
    "accepted",
    "filed",
    "returned",
    "dispatched",
    "handling",
    "suspended",
    "handled",
    "rework",
    "verified",
];

/// The columns of [`live_visible_json`]'s rows, in order.
pub const MAP_CASE_FIELDS: [&str; 11] = [
    "id",
    "number",
    "state",
    "lng",
    "lat",
    "grid_code",
    "class_code",
    "handle_deadline",
    "supervised",
    "created_at",
    "updated_at",
];

/// The newest `limit` live cases `v` may see that have a place (what the command map draws), as
/// one JSON array of rows, each an array of the [`MAP_CASE_FIELDS`] (`supervised` a boolean).
///
/// Rows rather than objects, written without building a value per case: the map asks for
/// 10,000 cases, and objects were twice the bytes of rows and cost forty times the query to
/// decode and serialise as case records (issue 6's page benchmark). SQLite writes the JSON
/// itself (`json_group_array`), which spares each row a trip from its connection's thread.
/// PostgreSQL sends the rows, serialised here: its `json_build_array` works out every
/// argument's type again on every call, 25 ms for 10,000 rows against 5 ms for the rows.
pub async fn live_visible_json(db: &Db, v: &Visibility, limit: i64) -> Result<String, sqlx::Error> {
    let mut binds: Vec<String> = Vec::new();
    let Some(mut inner) = visible_select(&MAP_CASE_FIELDS.join(", "), v, &[], &mut binds) else {
        return Ok("[]".to_owned());
    };
    // The states as literals, as the partial index `case_live` names them (migration
    // 20261206000001): read newest first through it, no sort, no closed case visited.
    let live = LIVE_STATES.map(|s| format!("'{s}'")).join(", ");
    inner.push_str(&format!(
        " and state in ({live}) and lng is not null order by id desc limit {}",
        limit.clamp(1, 20_000)
    ));
    let head = "id, number, state, lng, lat, grid_code, class_code, handle_deadline";
    let tail = "created_at, updated_at";
    if db.backend() == Dialect::Postgres {
        let sql = format!("select {head}, supervised <> 0 as supervised, {tail} from ({inner}) live order by id desc");
        let mut q = sqlx::query_as::<_, MapCase>(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(db.pool()).await?;
        return serde_json::to_string(&rows).map_err(|e| sqlx::Error::Decode(Box::new(e)));
    }
    let sql = format!(
        "select json_group_array(json_array({head}, \
         json(case when supervised <> 0 then 'true' else 'false' end), {tail}) order by id desc) \
         from ({inner}) live"
    );
    let mut q = sqlx::query_scalar::<_, String>(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    q.fetch_one(db.pool()).await
}

/// One row of [`live_visible_json`]: the [`MAP_CASE_FIELDS`], serialised as an array.
#[derive(sqlx::FromRow, Serialize)]
struct MapCase(
    i64,
    String,
    String,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    String,
    String,
);

/// Failed checks of a case's reporter contact since `since_ms`, and the oldest one's time.
pub async fn reporter_check_failures(
    tx: &mut Tx<'_>,
    case_id: i64,
    since_ms: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query(
        "select count(*) as n, min(at_ms) as oldest from reporter_check_failure where case_id = $1 and at_ms >= $2",
    )
    .bind(case_id)
    .bind(since_ms)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

/// Counts one failed check of a case's reporter contact (committed even though the request
/// that made it is refused: that is what throttles guessing).
pub async fn record_reporter_check_failure(tx: &mut Tx<'_>, case_id: i64, at_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("insert into reporter_check_failure (case_id, at_ms) values ($1, $2)")
        .bind(case_id)
        .bind(at_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
