//! Applications: their rows, locking, due and overdue marks, lists.

use super::*;

#[derive(Debug, Clone)]
pub struct ApplicationRow {
    pub id: i64,
    pub number: String,
    pub item_code: String,
    pub item_version: i64,
    pub department_code: String,
    pub applicant_id: String,
    pub applicant_name: String,
    pub contact: Option<String>,
    pub channel: String,
    pub window_code: Option<String>,
    pub clerk: Option<String>,
    pub visit_id: Option<i64>,
    pub state: String,
    pub current_step: i64,
    pub max_visits: i64,
    pub accepted_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub legal_deadline: DateTime<Utc>,
    pub warned_at: Option<DateTime<Utc>>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_step: Option<String>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub licence_number: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// SHA-256 of the access key handed to the applicant once (none before issue 14).
    pub access_key_hash: Option<String>,
}

impl ApplicationRow {
    pub fn is_concluded(&self) -> bool {
        matches!(self.state.as_str(), "approved" | "rejected")
    }
}

pub(super) const APP_COLUMNS: &str =
    "id, number, item_code, item_version, department_code, applicant_id, applicant_name, contact, \
    channel, window_code, clerk, visit_id, state, current_step, max_visits, accepted_at, deadline, legal_deadline, \
    warned_at, overdue_at, suspended_at, suspended_step, concluded_at, licence_number, updated_at, access_key_hash";

pub(super) fn app_from(r: &AnyRow) -> Result<ApplicationRow, sqlx::Error> {
    Ok(ApplicationRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        item_code: r.try_get("item_code")?,
        item_version: r.try_get("item_version")?,
        department_code: r.try_get("department_code")?,
        applicant_id: r.try_get("applicant_id")?,
        applicant_name: r.try_get("applicant_name")?,
        contact: r.try_get("contact")?,
        channel: r.try_get("channel")?,
        window_code: r.try_get("window_code")?,
        clerk: r.try_get("clerk")?,
        visit_id: r.try_get("visit_id")?,
        state: r.try_get("state")?,
        current_step: r.try_get("current_step")?,
        max_visits: r.try_get("max_visits")?,
        accepted_at: crate::db::at(r, "accepted_at")?,
        deadline: crate::db::at(r, "deadline")?,
        legal_deadline: crate::db::at(r, "legal_deadline")?,
        warned_at: crate::db::at_opt(r, "warned_at")?,
        overdue_at: crate::db::at_opt(r, "overdue_at")?,
        suspended_at: crate::db::at_opt(r, "suspended_at")?,
        suspended_step: r.try_get("suspended_step")?,
        concluded_at: crate::db::at_opt(r, "concluded_at")?,
        licence_number: r.try_get("licence_number")?,
        updated_at: crate::db::at(r, "updated_at")?,
        access_key_hash: r.try_get("access_key_hash")?,
    })
}

pub struct NewApplication<'a> {
    pub item: &'a ServiceItem,
    pub applicant_id: &'a str,
    pub applicant_name: &'a str,
    pub contact: Option<&'a str>,
    pub channel: &'a str,
    pub window_code: Option<&'a str>,
    pub clerk: Option<&'a str>,
    pub visit_id: Option<i64>,
    pub accepted_at: &'a str,
    pub deadline: &'a str,
    pub legal_deadline: &'a str,
    pub access_key_hash: &'a str,
}

/// Inserts an application and numbers it (`BJ` + local date + id).
pub async fn insert_application(
    tx: &mut Tx<'_>,
    a: &NewApplication<'_>,
    date: &str,
) -> Result<ApplicationRow, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "insert into service_application (item_code, item_version, department_code, applicant_id, applicant_name,
            contact, channel, window_code, clerk, visit_id, state, current_step, max_visits, accepted_at, deadline,
            legal_deadline, updated_at, access_key_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'in_review', 0, $11, $12, $13, $14, $12, $15) returning id",
    )
    .bind(&a.item.code)
    .bind(a.item.version)
    .bind(&a.item.spec.department_code)
    .bind(a.applicant_id)
    .bind(a.applicant_name)
    .bind(a.contact)
    .bind(a.channel)
    .bind(a.window_code)
    .bind(a.clerk)
    .bind(a.visit_id)
    .bind(a.item.spec.max_visits)
    .bind(a.accepted_at)
    .bind(a.deadline)
    .bind(a.legal_deadline)
    .bind(a.access_key_hash)
    .fetch_one(&mut **tx)
    .await?;
    let number = format!("BJ{date}{id:06}");
    let row = sqlx::query(&format!("update service_application set number = $1 where id = $2 returning {APP_COLUMNS}"))
        .bind(&number)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    app_from(&row)
}

pub async fn find_application(tx: &mut Tx<'_>, number: &str) -> Result<Option<ApplicationRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {APP_COLUMNS} from service_application where number = $1"))
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(app_from).transpose()
}

/// Takes the application's row lock (PostgreSQL) or the write lock (SQLite) before anything
/// is read, so parallel decisions on one application are serialised; returns the row.
pub async fn lock_application(tx: &mut Tx<'_>, number: &str, now: &str) -> Result<Option<ApplicationRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "update service_application set updated_at = $1 where number = $2 returning {APP_COLUMNS}"
    ))
    .bind(now)
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(app_from).transpose()
}

/// Writes the mutable part of an application.
pub async fn update_application(tx: &mut Tx<'_>, a: &ApplicationRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update service_application set state = $1, current_step = $2, deadline = $3, legal_deadline = $4,
            warned_at = $5, overdue_at = $6, suspended_at = $7, suspended_step = $8, concluded_at = $9,
            licence_number = $10, updated_at = $11 where id = $12",
    )
    .bind(&a.state)
    .bind(a.current_step)
    .bind(at_text(&a.deadline))
    .bind(at_text(&a.legal_deadline))
    .bind(a.warned_at.as_ref().map(at_text))
    .bind(a.overdue_at.as_ref().map(at_text))
    .bind(a.suspended_at.as_ref().map(at_text))
    .bind(&a.suspended_step)
    .bind(a.concluded_at.as_ref().map(at_text))
    .bind(&a.licence_number)
    .bind(at_text(&a.updated_at))
    .bind(a.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Applications visible in a staff list: all, or only those with a step of `department`.
pub async fn list_applications(
    db: &Db,
    department: Option<&str>,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<ApplicationRow>, sqlx::Error> {
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
    n += 1;
    sql.push_str(&format!(" order by a.id desc limit ${n}"));
    let mut q = sqlx::query(&sql);
    if let Some(d) = department {
        q = q.bind(d);
    }
    if let Some(s) = state {
        q = q.bind(s);
    }
    let rows = q.bind(limit).fetch_all(db.pool()).await?;
    rows.iter().map(app_from).collect()
}

/// Every application of one applicant, newest first.
pub async fn applications_of(db: &Db, applicant_id: &str) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {APP_COLUMNS} from service_application where applicant_id = $1 order by id desc limit 500"
    ))
    .bind(applicant_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(app_from).collect()
}

/// Open applications (in review) whose deadline is before `horizon`.
pub async fn due_applications(db: &Db, horizon: &str) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {APP_COLUMNS} from service_application where state = 'in_review' and deadline < $1
           and overdue_at is null order by id"
    ))
    .bind(horizon)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(app_from).collect()
}

/// Sets warned_at once; false when another node already did.
pub async fn mark_warned(tx: &mut Tx<'_>, id: i64, now: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("update service_application set warned_at = $1 where id = $2 and warned_at is null")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn mark_overdue(tx: &mut Tx<'_>, id: i64, now: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update service_application set overdue_at = $1 where id = $2 and overdue_at is null and state = 'in_review'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn all_applications(db: &Db) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("select {APP_COLUMNS} from service_application order by id")).fetch_all(db.pool()).await?;
    rows.iter().map(app_from).collect()
}
