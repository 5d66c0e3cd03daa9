//! SQL for the case loop.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::indicators::{next_prefix, Scope};
use super::rollup::{Cell, Counts, Filed, INTEGER_COLUMNS};
use crate::db::{flag, now_text, Db, Dialect, Tx};
use crate::periods::Grain;

/// A catalogue entry (one version of a minor class).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct CaseClass {
    pub code: String,
    pub version: i64,
    pub kind: String,
    pub major_code: String,
    pub major_name: String,
    pub minor_name: String,
    pub filing_criteria: String,
    pub closing_criteria: String,
    pub time_limit: i64,
    pub time_limit_unit: String,
    pub department_code: String,
    pub duplicate_radius_m: f64,
    pub duplicate_window_hours: i64,
    pub self_handle_allowed: bool,
    pub active: bool,
}

const CLASS_COLUMNS: &str = "code, version, kind, major_code, major_name, minor_name, filing_criteria, closing_criteria, \
     time_limit, time_limit_unit, department_code, duplicate_radius_m, duplicate_window_hours, self_handle_allowed, active";

fn class_from(r: &AnyRow) -> Result<CaseClass, sqlx::Error> {
    Ok(CaseClass {
        code: r.try_get("code")?,
        version: r.try_get("version")?,
        kind: r.try_get("kind")?,
        major_code: r.try_get("major_code")?,
        major_name: r.try_get("major_name")?,
        minor_name: r.try_get("minor_name")?,
        filing_criteria: r.try_get("filing_criteria")?,
        closing_criteria: r.try_get("closing_criteria")?,
        time_limit: r.try_get("time_limit")?,
        time_limit_unit: r.try_get("time_limit_unit")?,
        department_code: r.try_get("department_code")?,
        duplicate_radius_m: r.try_get("duplicate_radius_m")?,
        duplicate_window_hours: r.try_get("duplicate_window_hours")?,
        self_handle_allowed: flag(r, "self_handle_allowed")?,
        active: flag(r, "active")?,
    })
}

/// The newest version of every class.
pub async fn current_classes(db: &Db) -> Result<Vec<CaseClass>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {CLASS_COLUMNS} from case_class c
         where version = (select max(version) from case_class d where d.code = c.code) order by code"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(class_from).collect()
}

pub async fn current_class(tx: &mut Tx<'_>, code: &str) -> Result<Option<CaseClass>, sqlx::Error> {
    let row =
        sqlx::query(&format!("select {CLASS_COLUMNS} from case_class where code = $1 order by version desc limit 1"))
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?;
    row.as_ref().map(class_from).transpose()
}

/// [`current_class`] outside a transaction (intake reads it before its write transaction;
/// class versions are only ever added, so the read cannot go stale in a harmful way).
pub async fn current_class_now(db: &Db, code: &str) -> Result<Option<CaseClass>, sqlx::Error> {
    let row =
        sqlx::query(&format!("select {CLASS_COLUMNS} from case_class where code = $1 order by version desc limit 1"))
            .bind(code)
            .fetch_optional(db.pool())
            .await?;
    row.as_ref().map(class_from).transpose()
}

pub async fn class_version(tx: &mut Tx<'_>, code: &str, version: i64) -> Result<Option<CaseClass>, sqlx::Error> {
    let row = sqlx::query(&format!("select {CLASS_COLUMNS} from case_class where code = $1 and version = $2"))
        .bind(code)
        .bind(version)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(class_from).transpose()
}

pub async fn insert_class(tx: &mut Tx<'_>, c: &CaseClass, by: &str) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "insert into case_class ({CLASS_COLUMNS}, created_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&c.code)
    .bind(c.version)
    .bind(&c.kind)
    .bind(&c.major_code)
    .bind(&c.major_name)
    .bind(&c.minor_name)
    .bind(&c.filing_criteria)
    .bind(&c.closing_criteria)
    .bind(c.time_limit)
    .bind(&c.time_limit_unit)
    .bind(&c.department_code)
    .bind(c.duplicate_radius_m)
    .bind(c.duplicate_window_hours)
    .bind(i64::from(c.self_handle_allowed))
    .bind(i64::from(c.active))
    .bind(now_text())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// (day, kind, note) of every calendar exception.
pub async fn calendar_days(db: &Db) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    let rows = sqlx::query("select day, kind, note from calendar_day order by day").fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("day")?, r.try_get("kind")?, r.try_get("note")?))).collect()
}

pub async fn put_calendar_day(tx: &mut Tx<'_>, day: &str, kind: &str, note: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into calendar_day (day, kind, note, updated_at) values ($1, $2, $3, $4)
         on conflict (day) do update set kind = excluded.kind, note = excluded.note, updated_at = excluded.updated_at",
    )
    .bind(day)
    .bind(kind)
    .bind(note)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_calendar_day(tx: &mut Tx<'_>, day: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("delete from calendar_day where day = $1").bind(day).execute(&mut **tx).await?.rows_affected())
}

/// A case as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub channel: String,
    pub description: String,
    pub class_code: Option<String>,
    pub class_version: Option<i64>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub media_url: Option<String>,
    #[serde(skip)]
    pub reporter_name: Option<String>,
    #[serde(skip)]
    pub reporter_contact: Option<String>,
    pub lead_department: Option<String>,
    pub handle_deadline: Option<String>,
    pub escalation_level: i64,
    pub supervised: bool,
    pub extension_requested: bool,
    pub duplicate_of: Option<i64>,
    pub rating: Option<i64>,
    pub rework_count: i64,
    pub return_count: i64,
    pub reported_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub filed_at: Option<String>,
    pub dispatched_at: Option<String>,
    pub handled_at: Option<String>,
    pub verified_at: Option<String>,
    pub verify_deadline: Option<String>,
    pub closed_at: Option<String>,
    /// Working hours from dispatch to the latest feedback, on the calendar in force at that
    /// feedback (for the average handling time; NULL on rows handled before it was stored).
    #[serde(skip)]
    pub handling_working_hours: Option<f64>,
}

pub const CASE_COLUMNS: &str = "id, number, state, channel, description, class_code, class_version, lng, lat, grid_code, \
     address, media_url, reporter_name, reporter_contact, lead_department, handle_deadline, escalation_level, supervised, \
     extension_requested, duplicate_of, rating, rework_count, return_count, reported_by, created_at, updated_at, filed_at, \
     dispatched_at, handled_at, verified_at, verify_deadline, closed_at, handling_working_hours";

pub fn case_from(r: &AnyRow) -> Result<CaseRow, sqlx::Error> {
    Ok(CaseRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        state: r.try_get("state")?,
        channel: r.try_get("channel")?,
        description: r.try_get("description")?,
        class_code: r.try_get("class_code")?,
        class_version: r.try_get("class_version")?,
        lng: r.try_get("lng")?,
        lat: r.try_get("lat")?,
        grid_code: r.try_get("grid_code")?,
        address: r.try_get("address")?,
        media_url: r.try_get("media_url")?,
        reporter_name: r.try_get("reporter_name")?,
        reporter_contact: r.try_get("reporter_contact")?,
        lead_department: r.try_get("lead_department")?,
        handle_deadline: r.try_get("handle_deadline")?,
        escalation_level: r.try_get("escalation_level")?,
        supervised: flag(r, "supervised")?,
        extension_requested: flag(r, "extension_requested")?,
        duplicate_of: r.try_get("duplicate_of")?,
        rating: r.try_get("rating")?,
        rework_count: r.try_get("rework_count")?,
        return_count: r.try_get("return_count")?,
        reported_by: r.try_get("reported_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        filed_at: r.try_get("filed_at")?,
        dispatched_at: r.try_get("dispatched_at")?,
        handled_at: r.try_get("handled_at")?,
        verified_at: r.try_get("verified_at")?,
        verify_deadline: r.try_get("verify_deadline")?,
        handling_working_hours: r.try_get("handling_working_hours")?,
        closed_at: r.try_get("closed_at")?,
    })
}

pub async fn find_case(tx: &mut Tx<'_>, id: i64) -> Result<Option<CaseRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {CASE_COLUMNS} from case_record where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(case_from).transpose()
}

/// The case with this number (受理编号).
pub async fn find_case_by_number(tx: &mut Tx<'_>, number: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {CASE_COLUMNS} from case_record where number = $1"))
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(case_from).transpose()
}

pub async fn find_by_idempotency_key(tx: &mut Tx<'_>, key: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {CASE_COLUMNS} from case_record where idempotency_key = $1"))
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(case_from).transpose()
}

/// The new case's fields.
#[derive(Debug)]
pub struct InsertCase<'a> {
    pub channel: &'a str,
    pub description: &'a str,
    pub class: Option<(&'a str, i64)>,
    pub point: Option<(f64, f64)>,
    pub grid_code: Option<&'a str>,
    pub address: Option<&'a str>,
    pub media_url: Option<&'a str>,
    pub reporter_name: Option<&'a str>,
    pub reporter_contact: Option<&'a str>,
    pub reported_by: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub created_at: &'a str,
    /// SHA-256 (hex) of the key a reporter without a session attaches photos with.
    pub reporter_photo_key: Option<&'a str>,
}

/// Inserts cases (in multi-row statements) and gives each its number (the UTC date of its
/// report + its id, at least six digits), returning the stored rows in the order given; `None`
/// for a case whose idempotency key is already taken, by an earlier case or one earlier in
/// `cases` (nothing is written for it).
///
/// The ids are taken before the INSERT (on SQLite under the write lock the caller holds, on
/// PostgreSQL from the column's sequence), so each row is written once, already numbered, and
/// the stored row is known without reading it back.
pub async fn insert_cases(tx: &mut Tx<'_>, cases: &[InsertCase<'_>]) -> Result<Vec<Option<CaseRow>>, sqlx::Error> {
    const WIDTH: usize = 19;
    if cases.is_empty() {
        return Ok(vec![]);
    }
    let dialect = Dialect::of(tx);
    let ids = dialect.take_ids(tx, "case_record", cases.len()).await?;
    let numbers: Vec<String> = cases
        .iter()
        .zip(&ids)
        .map(|(c, id)| {
            let day: String = c.created_at.chars().filter(char::is_ascii_digit).take(8).collect();
            format!("{day}{id:06}")
        })
        .collect();
    let mut written = vec![false; cases.len()];
    let mut at = 0;
    for chunk in cases.chunks(256) {
        let range = at..at + chunk.len();
        at += chunk.len();
        let sql = format!(
            "insert into case_record (id, number, state, channel, description, class_code, class_version, lng, lat,
               grid_code, address, reporter_name, reporter_contact, reported_by, idempotency_key, created_at,
               updated_at, media_url, reporter_photo_key)
             {} values {} on conflict (idempotency_key) do nothing",
            dialect.explicit_ids(),
            dialect.values(chunk.len(), WIDTH)
        );
        let mut q = sqlx::query(&sql);
        for (c, i) in chunk.iter().zip(range.clone()) {
            q = q
                .bind(ids[i])
                .bind(numbers[i].as_str())
                .bind("received")
                .bind(c.channel)
                .bind(c.description)
                .bind(c.class.map(|(code, _)| code))
                .bind(c.class.map(|(_, v)| v))
                .bind(c.point.map(|p| p.0))
                .bind(c.point.map(|p| p.1))
                .bind(c.grid_code)
                .bind(c.address)
                .bind(c.reporter_name)
                .bind(c.reporter_contact)
                .bind(c.reported_by)
                .bind(c.idempotency_key)
                .bind(c.created_at)
                .bind(c.created_at)
                .bind(c.media_url)
                .bind(c.reporter_photo_key);
        }
        let inserted = q.execute(&mut **tx).await?.rows_affected();
        if inserted == chunk.len() as u64 {
            written[range].iter_mut().for_each(|w| *w = true);
            continue;
        }
        // Some idempotency keys were taken: which of this chunk's ids are now rows.
        let sql = format!("select id from case_record where id in ({})", dialect.list(chunk.len()));
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for i in range.clone() {
            q = q.bind(ids[i]);
        }
        let present: std::collections::HashSet<i64> = q.fetch_all(&mut **tx).await?.into_iter().collect();
        for i in range {
            written[i] = present.contains(&ids[i]);
        }
    }
    Ok(cases
        .iter()
        .zip(ids)
        .zip(numbers)
        .zip(written)
        .map(|(((c, id), number), written)| written.then(|| new_case_row(id, number, c)))
        .collect())
}

/// The row a freshly inserted case is stored as (the columns' defaults for the rest).
pub(super) fn new_case_row(id: i64, number: String, c: &InsertCase<'_>) -> CaseRow {
    CaseRow {
        id,
        number,
        state: "received".into(),
        channel: c.channel.into(),
        description: c.description.into(),
        class_code: c.class.map(|(code, _)| code.into()),
        class_version: c.class.map(|(_, v)| v),
        lng: c.point.map(|p| p.0),
        lat: c.point.map(|p| p.1),
        grid_code: c.grid_code.map(Into::into),
        address: c.address.map(Into::into),
        media_url: c.media_url.map(Into::into),
        reporter_name: c.reporter_name.map(Into::into),
        reporter_contact: c.reporter_contact.map(Into::into),
        lead_department: None,
        handle_deadline: None,
        escalation_level: 0,
        supervised: false,
        extension_requested: false,
        duplicate_of: None,
        rating: None,
        rework_count: 0,
        return_count: 0,
        reported_by: c.reported_by.into(),
        created_at: c.created_at.into(),
        updated_at: c.created_at.into(),
        filed_at: None,
        dispatched_at: None,
        handled_at: None,
        verified_at: None,
        verify_deadline: None,
        closed_at: None,
        handling_working_hours: None,
    }
}

/// One transition to record.
#[derive(Debug)]
pub struct NewTransition<'a> {
    pub case_id: i64,
    pub actor: &'a str,
    pub role: &'a str,
    pub action: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub note: Option<&'a str>,
    pub at: &'a str,
    /// What the entry commits to of the case this transaction leaves behind (`trace::covered`).
    pub after: After<'a>,
}

/// Where a transition's entry finds the case row it commits to.
#[derive(Debug, Clone, Copy)]
pub enum After<'a> {
    /// The row as the writer holds it.
    Row(&'a CaseRow),
    /// Computed beforehand, outside the writer (a report's: `trace::covered` of the row it
    /// will be stored as).
    Covered(&'a serde_json::Value),
    /// Read back in the transaction (the writer changed the row in SQL).
    ReadBack,
}

/// Inserts transition rows, at most one per case, in multi-row statements; returns their ids
/// in the order given. Call it through `trace::record_all`, which also writes the rows' ledger
/// entries, in a transaction that already holds the write lock (`Db::write`, or after the
/// case's own write): the ids are taken before the INSERT (see `take_ids`).
///
/// `after[i]` is the canonical JSON of what `ts[i]`'s entry commits to of the case it leaves
/// behind (`trace::covered`).
pub async fn insert_transitions(
    tx: &mut Tx<'_>,
    ts: &[NewTransition<'_>],
    after: &[Option<String>],
) -> Result<Vec<i64>, sqlx::Error> {
    if ts.is_empty() {
        return Ok(vec![]);
    }
    let dialect = Dialect::of(tx);
    let ids = dialect.take_ids(tx, "case_transition", ts.len()).await?;
    for ((chunk, chunk_ids), chunk_after) in ts.chunks(256).zip(ids.chunks(256)).zip(after.chunks(256)) {
        let sql = format!(
            "insert into case_transition (id, case_id, at, actor, role, action, from_state, to_state, note, staff_id,
               case_after)
             {} values {}",
            dialect.explicit_ids(),
            dialect.values(chunk.len(), 11)
        );
        let mut q = sqlx::query(&sql);
        for ((t, id), a) in chunk.iter().zip(chunk_ids).zip(chunk_after) {
            q = q
                .bind(*id)
                .bind(t.case_id)
                .bind(t.at)
                .bind(t.actor)
                .bind(t.role)
                .bind(t.action)
                .bind(t.from)
                .bind(t.to)
                .bind(t.note)
                .bind(crate::audit::Actor::staff_id_of(t.actor))
                .bind(a.as_deref());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(ids)
}

/// The rows of these cases as `tx` sees them, by id.
pub async fn cases_by_ids(
    tx: &mut Tx<'_>,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, CaseRow>, sqlx::Error> {
    let dialect = Dialect::of(tx);
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(256) {
        let sql = format!("select {CASE_COLUMNS} from case_record where id in ({})", dialect.list(chunk.len()));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let c = case_from(&r)?;
            found.insert(c.id, c);
        }
    }
    Ok(found)
}

/// Every case row, by id (for `civgrid audit`).
pub async fn all_cases(db: &Db) -> Result<std::collections::HashMap<i64, CaseRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {CASE_COLUMNS} from case_record")).fetch_all(db.pool()).await?;
    rows.iter().map(|r| case_from(r).map(|c| (c.id, c))).collect()
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TransitionRow {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
}

pub async fn transitions(db: &Db, case_id: i64) -> Result<Vec<TransitionRow>, sqlx::Error> {
    let rows = sqlx::query(
        "select at, actor, role, action, from_state, to_state, note from case_transition where case_id = $1 order by id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TransitionRow {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                role: r.try_get("role")?,
                action: r.try_get("action")?,
                from_state: r.try_get("from_state")?,
                to_state: r.try_get("to_state")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// The actor of the latest feedback (the handler a verifier must differ from).
pub async fn last_feedback_actor(tx: &mut Tx<'_>, case_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select actor from case_transition where case_id = $1 and action = 'feedback' order by id desc limit 1",
    )
    .bind(case_id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn departments_of(tx: &mut Tx<'_>, case_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "select department_code, role from case_department where case_id = $1 order by role desc, department_code",
    )
    .bind(case_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("department_code")?, r.try_get("role")?))).collect()
}

pub async fn set_departments(tx: &mut Tx<'_>, case_id: i64, lead: &str, assist: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from case_department where case_id = $1").bind(case_id).execute(&mut **tx).await?;
    sqlx::query("insert into case_department (case_id, department_code, role) values ($1, $2, 'lead')")
        .bind(case_id)
        .bind(lead)
        .execute(&mut **tx)
        .await?;
    for d in assist.iter().filter(|d| d.as_str() != lead) {
        sqlx::query("insert into case_department (case_id, department_code, role) values ($1, $2, 'assist') on conflict do nothing")
            .bind(case_id)
            .bind(d)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Whether a staff member is assigned to a grid.
pub async fn is_assigned(tx: &mut Tx<'_>, grid: &str, staff_id: i64) -> Result<bool, sqlx::Error> {
    let n: Option<i64> =
        sqlx::query_scalar("select staff_id from grid_assignment where grid_code = $1 and staff_id = $2")
            .bind(grid)
            .bind(staff_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(n.is_some())
}

/// Where to look for a new report's duplicates: open cases of its class reported since
/// `since` inside `bbox` (min lng, min lat, max lng, max lat; GCJ-02), narrowed by the caller
/// with the exact distance.
#[derive(Debug, Clone, Copy)]
pub struct Near<'a> {
    pub since: &'a str,
    pub bbox: (f64, f64, f64, f64),
}

/// What [`check_report`] read.
#[derive(Debug, Default)]
pub struct Checked {
    /// The stored territory revision, when its subquery was given.
    pub territory_revision: Option<i64>,
    /// The newest version of the class, when a class was given and it exists.
    pub class_version: Option<i64>,
    /// The duplicate candidates, when a [`Near`] was given (at most 20, oldest first).
    pub nearby: Vec<Nearby>,
}

/// One read for a new report: the territory revision (`revision_sql`, a scalar subquery the
/// territory module gives), the newest version of its class, and the duplicate candidates near
/// it. A report is routed with the territory index and the class this node holds; this read
/// says whether they are still current while it fetches what it needs anyway. From the pool:
/// suggestions are advisory, so intake reads them outside its write transaction.
pub async fn check_report(
    db: &Db,
    revision_sql: Option<&str>,
    class: Option<(&str, Option<Near<'_>>)>,
) -> Result<Checked, sqlx::Error> {
    let none = "cast(null as bigint)";
    let version = match class {
        Some(_) => "(select max(version) from case_class where code = $1)",
        None => none,
    };
    let head = format!("select {} as territory_revision, {version} as class_version", revision_sql.unwrap_or(none));
    let near = class.and_then(|(_, near)| near);
    let sql = match near {
        None => head,
        Some(_) => format!(
            "select k.territory_revision, k.class_version, n.id, n.number, n.lng, n.lat, n.grid_code from ({head}) k
             left join (select id, number, lng, lat, grid_code from case_record where class_code = $1 and created_at >= $2
               and lng between $3 and $4 and lat between $5 and $6
               and {OPEN_CASE} order by id limit {CANDIDATES_PER_PROBE}) n on true"
        ),
    };
    let mut q = sqlx::query(&sql);
    if let Some((code, _)) = class {
        q = q.bind(code);
    }
    if let Some(n) = near {
        q = q.bind(n.since).bind(n.bbox.0).bind(n.bbox.2).bind(n.bbox.1).bind(n.bbox.3);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let mut checked = Checked::default();
    for r in &rows {
        checked.territory_revision = r.try_get("territory_revision")?;
        checked.class_version = r.try_get("class_version")?;
        if near.is_none() {
            continue;
        }
        if r.try_get::<Option<i64>, _>("id")?.is_some() {
            checked.nearby.push(nearby_from(r)?);
        }
    }
    checked.nearby.sort_by_key(|n| n.id);
    Ok(checked)
}

/// Where to look for one queued case's duplicates (see [`nearby_open_cases_of`]).
#[derive(Debug, Clone)]
pub struct Probe {
    pub case_id: i64,
    pub class_code: String,
    /// Earliest report time of a candidate.
    pub since: String,
    /// (min lng, min lat, max lng, max lat), GCJ-02.
    pub bbox: (f64, f64, f64, f64),
}

/// An open case, as both duplicate looks write it: exactly the condition of the partial index
/// `case_duplicate_open` (migration 20261206000004), or the planner will not use it.
const OPEN_CASE: &str = "state not in ('refused', 'merged', 'closed')";

/// Most candidates read for one probe (the nearest are chosen from these by the caller).
const CANDIDATES_PER_PROBE: i64 = 20;

/// For every probe at once, the open cases of its class inside its box, reported since its
/// `since` and before its case (a lower id): (probe's case id, candidate). One query for a whole
/// page of queues, each probe a range of the `case_duplicate_open` index (class, lat, lng),
/// which holds the open cases only and every column read here.
pub async fn nearby_open_cases_of(db: &Db, probes: &[Probe]) -> Result<Vec<(i64, Nearby)>, sqlx::Error> {
    if probes.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = db.backend();
    let near = format!(
        "o.class_code = p.class_code and o.lat between p.y0 and p.y1 and o.lng between p.x0 and p.x1
         and o.created_at >= p.since and o.id < p.case_id and o.{OPEN_CASE}"
    );
    let values = dialect.values(probes.len(), 7);
    let sql = match dialect {
        Dialect::Sqlite => {
            format!(
                "with p (case_id, class_code, since, x0, y0, x1, y1) as (values {values})
             select case_id, id, number, lng, lat, grid_code from (
               select p.case_id, o.id, o.number, o.lng, o.lat, o.grid_code,
                      row_number() over (partition by p.case_id order by o.id desc) as k
               from p join case_record o on {near}
             ) as near where k <= {CANDIDATES_PER_PROBE} order by case_id, id"
            )
        }
        Dialect::Postgres => {
            // PostgreSQL hashes the probes and scans every open case for the join above (90 ms at
            // 200,000 cases, growing with the table); a lateral subquery per probe is a range of the
            // `case_duplicate_open` index each (SQLite has no LATERAL, and plans the join that way itself).
            format!(
                "with p (case_id, class_code, since, x0, y0, x1, y1) as (values {values})
             select p.case_id, n.id, n.number, n.lng, n.lat, n.grid_code from p cross join lateral (
               select o.id, o.number, o.lng, o.lat, o.grid_code from case_record o where {near}
               order by o.id desc limit {CANDIDATES_PER_PROBE}
             ) n order by p.case_id, n.id"
            )
        }
    };
    let mut q = sqlx::query(&sql);
    for p in probes {
        q = q
            .bind(p.case_id)
            .bind(p.class_code.as_str())
            .bind(p.since.as_str())
            .bind(p.bbox.0)
            .bind(p.bbox.1)
            .bind(p.bbox.2)
            .bind(p.bbox.3);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("case_id")?, nearby_from(r)?))).collect()
}

fn nearby_from(r: &AnyRow) -> Result<Nearby, sqlx::Error> {
    Ok(Nearby {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        lng: r.try_get("lng")?,
        lat: r.try_get("lat")?,
        grid_code: r.try_get("grid_code")?,
    })
}

/// SHA-256 (hex) of the key the case's reporter attaches photos with, if they reported
/// without a session.
pub async fn reporter_photo_key(tx: &mut Tx<'_>, case_id: i64) -> Result<Option<String>, sqlx::Error> {
    let key: Option<Option<String>> = sqlx::query_scalar("select reporter_photo_key from case_record where id = $1")
        .bind(case_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(key.flatten())
}

/// An open case near a new report (a duplicate candidate).
#[derive(Debug)]
pub struct Nearby {
    pub id: i64,
    pub number: String,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub grid_code: Option<String>,
}

/// Writes every mutable field of a case back (the service has already decided the values),
/// provided nobody changed the case since it was read (`c.updated_at` is still the stored
/// value); false, writing nothing, otherwise. Two transitions of one case that race on
/// PostgreSQL thus cannot both apply (the second waits for the first's row lock, then finds
/// the row changed).
pub async fn update_case(tx: &mut Tx<'_>, c: &CaseRow, now: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update case_record set state = $1, class_code = $2, class_version = $3, grid_code = $4, lng = $5, lat = $6,
           lead_department = $7, handle_deadline = $8, escalation_level = $9, supervised = $10, extension_requested = $11,
           duplicate_of = $12, rating = $13, rework_count = $14, return_count = $15, filed_at = $16, dispatched_at = $17,
           handled_at = $18, verified_at = $19, verify_deadline = $20, closed_at = $21, updated_at = $22
         where id = $23 and updated_at = $24",
    )
    .bind(&c.state)
    .bind(&c.class_code)
    .bind(c.class_version)
    .bind(&c.grid_code)
    .bind(c.lng)
    .bind(c.lat)
    .bind(&c.lead_department)
    .bind(&c.handle_deadline)
    .bind(c.escalation_level)
    .bind(i64::from(c.supervised))
    .bind(i64::from(c.extension_requested))
    .bind(c.duplicate_of)
    .bind(c.rating)
    .bind(c.rework_count)
    .bind(c.return_count)
    .bind(&c.filed_at)
    .bind(&c.dispatched_at)
    .bind(&c.handled_at)
    .bind(&c.verified_at)
    .bind(&c.verify_deadline)
    .bind(&c.closed_at)
    .bind(now)
    .bind(c.id)
    .bind(&c.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the working hours from dispatch to the feedback just given. (A statement of its own so
/// that no NULL float is ever bound: sqlx's Any driver would type it as an integer for
/// PostgreSQL's statement cache.)
pub async fn set_handling_hours(tx: &mut Tx<'_>, id: i64, hours: f64) -> Result<(), sqlx::Error> {
    sqlx::query("update case_record set handling_working_hours = $1 where id = $2")
        .bind(hours)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

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

/// Cases with the department whose handling deadline has passed: (id, class, version, deadline, level, state).
pub async fn overdue_cases(db: &Db, now: &str) -> Result<Vec<(i64, String, i64, String, i64, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, class_code, class_version, handle_deadline, escalation_level, state from case_record
         where state in ('dispatched', 'handling', 'rework') and handle_deadline < $1 and escalation_level < 3
           and class_code is not null and class_version is not null order by id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("class_code")?,
                r.try_get("class_version")?,
                r.try_get("handle_deadline")?,
                r.try_get("escalation_level")?,
                r.try_get("state")?,
            ))
        })
        .collect()
}

/// Raises the escalation level only if nobody else (another node's sweeper) did first.
pub async fn raise_escalation(tx: &mut Tx<'_>, id: i64, from: i64, to: i64, now: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update case_record set escalation_level = $1, updated_at = $2 where id = $3 and escalation_level = $4",
    )
    .bind(to)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A stored photo's metadata.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhotoMeta {
    pub id: i64,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
    pub uploaded_by: String,
    pub created_at: String,
}

pub async fn photo_count(tx: &mut Tx<'_>, case_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from case_photo where case_id = $1").bind(case_id).fetch_one(&mut **tx).await
}

pub async fn insert_photo(
    tx: &mut Tx<'_>,
    case_id: i64,
    content_type: &str,
    bytes: &[u8],
    sha256: &str,
    uploaded_by: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into case_photo (case_id, content_type, bytes, sha256, size, uploaded_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(case_id)
    .bind(content_type)
    .bind(bytes)
    .bind(sha256)
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(uploaded_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

pub async fn photos(db: &Db, case_id: i64) -> Result<Vec<PhotoMeta>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, content_type, sha256, size, uploaded_by, created_at from case_photo where case_id = $1 order by id",
    )
    .bind(case_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PhotoMeta {
                id: r.try_get("id")?,
                content_type: r.try_get("content_type")?,
                sha256: r.try_get("sha256")?,
                size: r.try_get("size")?,
                uploaded_by: r.try_get("uploaded_by")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

pub async fn photo_bytes(db: &Db, case_id: i64, photo_id: i64) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query("select content_type, bytes from case_photo where case_id = $1 and id = $2")
        .bind(case_id)
        .bind(photo_id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok((r.try_get("content_type")?, r.try_get("bytes")?))).transpose()
}

/// (area, department) of every owner of last resort.
pub async fn last_resort_departments(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("select area_code, department_code from last_resort_department order by area_code")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| Ok((r.try_get("area_code")?, r.try_get("department_code")?))).collect()
}

pub async fn last_resort_for(tx: &mut Tx<'_>, area: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select department_code from last_resort_department where area_code = $1")
        .bind(area)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn put_last_resort(
    tx: &mut Tx<'_>,
    area: &str,
    department: Option<&str>,
    by: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    match department {
        Some(d) => sqlx::query(
            "insert into last_resort_department (area_code, department_code, updated_at, updated_by)
             values ($1, $2, $3, $4)
             on conflict (area_code) do update set department_code = excluded.department_code,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(area)
        .bind(d)
        .bind(now)
        .bind(by)
        .execute(&mut **tx)
        .await
        .map(|_| ()),
        None => sqlx::query("delete from last_resort_department where area_code = $1")
            .bind(area)
            .execute(&mut **tx)
            .await
            .map(|_| ()),
    }
}

// ---- evaluation indicators (rollup.rs, indicators.rs) ----

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
        filed_at: r.try_get("filed_at")?,
        grid_code: r.try_get("grid_code")?,
        lead_department: r.try_get("lead_department")?,
        dispatched_at: r.try_get("dispatched_at")?,
        handled_at: r.try_get("handled_at")?,
        handle_deadline: r.try_get("handle_deadline")?,
        closed_at: r.try_get("closed_at")?,
        verified_at: r.try_get("verified_at")?,
        verify_deadline: r.try_get("verify_deadline")?,
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

/// Marks the rows as needing a rebuild (after cases were written behind the loop's back).
pub async fn invalidate_stats(db: &Db) -> Result<(), sqlx::Error> {
    sqlx::query("update case_stat_state set built = 0 where id = 1").execute(db.pool()).await?;
    Ok(())
}

/// Handled cases without a stored handling time: (id, dispatched_at, handled_at).
pub async fn untimed_feedback(tx: &mut Tx<'_>) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, dispatched_at, handled_at from case_record
         where dispatched_at is not null and handled_at is not null and handling_working_hours is null",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("dispatched_at")?, r.try_get("handled_at")?))).collect()
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

impl Visibility {
    /// What `p` may see of the cases (the same reading as `Cases::list`): areas by role,
    /// a handler's department, a grid worker's grids.
    pub fn of(p: &crate::staff::Principal) -> Visibility {
        let areas_of = |roles: &[crate::staff::Role]| -> Vec<String> {
            p.roles.iter().filter(|g| roles.contains(&g.role)).map(|g| g.area_code.clone()).collect()
        };
        Visibility {
            areas: areas_of(&super::CASE_LOOP_AREA_ROLES),
            oversight_areas: areas_of(&super::OVERSIGHT_AREA_ROLES),
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
