//! Case rows and their transitions: reading, the batched insert of intake, departments.

use super::*;

/// A case as stored.
#[derive(Debug, Clone)]
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
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    pub lead_department: Option<String>,
    pub handle_deadline: Option<DateTime<Utc>>,
    pub escalation_level: i64,
    pub supervised: bool,
    pub extension_requested: bool,
    pub duplicate_of: Option<i64>,
    pub rating: Option<i64>,
    pub rework_count: i64,
    pub return_count: i64,
    pub reported_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub filed_at: Option<DateTime<Utc>>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verify_deadline: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Working hours from dispatch to the latest feedback, on the calendar in force at that
    /// feedback (for the average handling time; NULL on rows handled before it was stored).
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
        handle_deadline: at_opt(r, "handle_deadline")?,
        escalation_level: r.try_get("escalation_level")?,
        supervised: flag(r, "supervised")?,
        extension_requested: flag(r, "extension_requested")?,
        duplicate_of: r.try_get("duplicate_of")?,
        rating: r.try_get("rating")?,
        rework_count: r.try_get("rework_count")?,
        return_count: r.try_get("return_count")?,
        reported_by: r.try_get("reported_by")?,
        created_at: at(r, "created_at")?,
        updated_at: at(r, "updated_at")?,
        filed_at: at_opt(r, "filed_at")?,
        dispatched_at: at_opt(r, "dispatched_at")?,
        handled_at: at_opt(r, "handled_at")?,
        verified_at: at_opt(r, "verified_at")?,
        verify_deadline: at_opt(r, "verify_deadline")?,
        handling_working_hours: r.try_get("handling_working_hours")?,
        closed_at: at_opt(r, "closed_at")?,
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
    pub created_at: DateTime<Utc>,
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
            let day = c.created_at.format("%Y%m%d");
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
                .bind(at_text(&c.created_at))
                .bind(at_text(&c.created_at))
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
pub(in crate::cases) fn new_case_row(id: i64, number: String, c: &InsertCase<'_>) -> CaseRow {
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
        created_at: c.created_at,
        updated_at: c.created_at,
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

#[derive(Debug, Clone)]
pub struct TransitionRow {
    pub at: DateTime<Utc>,
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
                at: at(r, "at")?,
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
