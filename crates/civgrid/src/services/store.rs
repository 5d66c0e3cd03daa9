//! SQL for one-window services. Plain functions over the caller's transaction (or the pool for
//! reads that need none).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::catalogue::{item_type_name, ItemSpec, ServiceItem};
use crate::db::{flag, Db, Dialect, LocalTime, Tx};

// ---------------------------------------------------------------- catalogue

const ITEM_COLUMNS: &str = "code, version, basic_code, definition, created_at, created_by";

fn item_from(r: &AnyRow) -> Result<ServiceItem, sqlx::Error> {
    let definition: String = r.try_get("definition")?;
    let spec: ItemSpec = serde_json::from_str(&definition).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(ServiceItem {
        code: r.try_get("code")?,
        version: r.try_get("version")?,
        basic_code: r.try_get("basic_code")?,
        item_type_name: item_type_name(&spec.item_type).to_owned(),
        spec,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

/// Every item's newest version, read through `ex`: the pool (`db.pool()`) or the caller's
/// transaction (`&mut **tx`).
pub async fn current_items<'e>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any>,
) -> Result<Vec<ServiceItem>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {ITEM_COLUMNS} from service_item i
         where version = (select max(version) from service_item j where j.code = i.code) order by code"
    ))
    .fetch_all(ex)
    .await?;
    rows.iter().map(item_from).collect()
}

pub async fn current_item(tx: &mut Tx<'_>, code: &str) -> Result<Option<ServiceItem>, sqlx::Error> {
    let row =
        sqlx::query(&format!("select {ITEM_COLUMNS} from service_item where code = $1 order by version desc limit 1"))
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?;
    row.as_ref().map(item_from).transpose()
}

pub async fn item_version(tx: &mut Tx<'_>, code: &str, version: i64) -> Result<Option<ServiceItem>, sqlx::Error> {
    let row = sqlx::query(&format!("select {ITEM_COLUMNS} from service_item where code = $1 and version = $2"))
        .bind(code)
        .bind(version)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(item_from).transpose()
}

pub async fn insert_item(tx: &mut Tx<'_>, item: &ServiceItem) -> Result<(), sqlx::Error> {
    let s = &item.spec;
    let definition = serde_json::to_string(s).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query(
        "insert into service_item (code, version, basic_code, item_type, department_code, name, applicant_type,
            legal_limit_days, promised_limit_days, max_visits, definition, active, created_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&item.code)
    .bind(item.version)
    .bind(&item.basic_code)
    .bind(&s.item_type)
    .bind(&s.department_code)
    .bind(&s.name)
    .bind(s.applicant_type.as_str())
    .bind(s.legal_limit_days)
    .bind(s.promised_limit_days)
    .bind(s.max_visits)
    .bind(definition)
    .bind(i64::from(s.active))
    .bind(&item.created_at)
    .bind(&item.created_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// item code → department, over every version (for grouping notices in statistics).
pub async fn item_departments(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("select distinct code, department_code from service_item").fetch_all(db.pool()).await?;
    rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("department_code")?))).collect()
}

/// `YYYY-MM-DD` of the local (UTC+8) day of a stored timestamp (SQL expression `expr`), in SQL.
pub fn local_day_sql(dialect: Dialect, expr: &str) -> String {
    dialect.local_time(expr, LocalTime::Day)
}

/// `YYYY-MM-DDTHH` of the local (UTC+8) hour of a stored timestamp, in SQL.
pub fn local_hour_sql(dialect: Dialect, expr: &str) -> String {
    dialect.local_time(expr, LocalTime::Hour)
}

// ---------------------------------------------------------------- applicants and visits

/// A random reference for a new applicant row: the subject of access records (never the ID
/// number).
fn applicant_ref() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

/// Registers an applicant. Identified in person (at a window, the clerk has seen their identity
/// document), a known applicant's registered name and contact are updated too; known only from
/// what they typed online, it is a first registration but never a change to an existing one
/// (anyone can type anyone's ID number; what they supplied stays on their application).
pub async fn register_applicant(
    tx: &mut Tx<'_>,
    id_number: &str,
    kind: &str,
    name: &str,
    contact: Option<&str>,
    now: &str,
    in_person: bool,
) -> Result<(), sqlx::Error> {
    let on_conflict = if in_person {
        "do update set name = excluded.name,
            contact = coalesce(excluded.contact, service_applicant.contact), updated_at = excluded.updated_at"
    } else {
        "do nothing"
    };
    sqlx::query(&format!(
        "insert into service_applicant (id_number, kind, name, contact, created_at, updated_at, ref)
         values ($1, $2, $3, $4, $5, $5, $6)
         on conflict (id_number) {on_conflict}"
    ))
    .bind(id_number)
    .bind(kind)
    .bind(name)
    .bind(contact)
    .bind(now)
    .bind(applicant_ref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The applicant's random reference (the subject of access records).
pub async fn applicant_ref_in(tx: &mut Tx<'_>, id_number: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select ref from service_applicant where id_number = $1")
        .bind(id_number)
        .fetch_optional(&mut **tx)
        .await
        .map(Option::flatten)
}

/// Wrong access keys given for an application number since `since_ms`: how many, and the
/// oldest one's time.
pub async fn key_failures(tx: &mut Tx<'_>, number: &str, since_ms: i64) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query(
        "select count(*) as n, min(at_ms) as oldest from service_key_failure where number = $1 and at_ms >= $2",
    )
    .bind(number)
    .bind(since_ms)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

pub async fn record_key_failure(tx: &mut Tx<'_>, number: &str, at_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("insert into service_key_failure (number, at_ms) values ($1, $2)")
        .bind(number)
        .bind(at_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub struct NewVisit<'a> {
    pub window_code: &'a str,
    pub clerk: &'a str,
    pub clerk_department: Option<&'a str>,
    pub applicant_id: &'a str,
    pub item_code: &'a str,
    pub outcome: &'a str,
    pub at: &'a str,
}

/// Inserts a visit and gives it its number (`CK` + local date + id); returns (id, number).
pub async fn insert_visit(tx: &mut Tx<'_>, v: &NewVisit<'_>, date: &str) -> Result<(i64, String), sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "insert into service_visit (window_code, clerk, clerk_department, applicant_id, item_code, outcome, at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(v.window_code)
    .bind(v.clerk)
    .bind(v.clerk_department)
    .bind(v.applicant_id)
    .bind(v.item_code)
    .bind(v.outcome)
    .bind(v.at)
    .fetch_one(&mut **tx)
    .await?;
    let number = format!("CK{date}{id:06}");
    sqlx::query("update service_visit set number = $1 where id = $2").bind(&number).bind(id).execute(&mut **tx).await?;
    Ok((id, number))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VisitRow {
    pub id: i64,
    pub number: String,
    pub window_code: String,
    pub clerk: String,
    pub clerk_department: Option<String>,
    pub applicant_id: String,
    pub item_code: String,
    pub outcome: String,
    pub at: String,
}

pub async fn find_visit(tx: &mut Tx<'_>, number: &str) -> Result<Option<VisitRow>, sqlx::Error> {
    let row = sqlx::query(
        "select id, number, window_code, clerk, clerk_department, applicant_id, item_code, outcome, at
         from service_visit where number = $1",
    )
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(VisitRow {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            window_code: r.try_get("window_code")?,
            clerk: r.try_get("clerk")?,
            clerk_department: r.try_get("clerk_department")?,
            applicant_id: r.try_get("applicant_id")?,
            item_code: r.try_get("item_code")?,
            outcome: r.try_get("outcome")?,
            at: r.try_get("at")?,
        })
    })
    .transpose()
}

// ---------------------------------------------------------------- notices

#[derive(Debug, Clone, serde::Serialize)]
pub struct NoticeRow {
    pub number: String,
    pub kind: String,
    pub item_code: String,
    pub item_version: i64,
    pub applicant_id: String,
    pub channel: String,
    pub window_code: Option<String>,
    pub visit_id: Option<i64>,
    /// JSON array of the missing materials.
    pub missing: String,
    pub reason: Option<String>,
    pub issued_by: String,
    pub issued_at: String,
    /// The name given with the application the notice answers.
    pub applicant_name: Option<String>,
}

const NOTICE_COLUMNS: &str = "number, kind, item_code, item_version, applicant_id, channel, window_code, visit_id, \
                              missing, reason, issued_by, issued_at, applicant_name";

fn notice_from(r: &AnyRow) -> Result<NoticeRow, sqlx::Error> {
    Ok(NoticeRow {
        number: r.try_get("number")?,
        kind: r.try_get("kind")?,
        item_code: r.try_get("item_code")?,
        item_version: r.try_get("item_version")?,
        applicant_id: r.try_get("applicant_id")?,
        channel: r.try_get("channel")?,
        window_code: r.try_get("window_code")?,
        visit_id: r.try_get("visit_id")?,
        missing: r.try_get("missing")?,
        reason: r.try_get("reason")?,
        issued_by: r.try_get("issued_by")?,
        issued_at: r.try_get("issued_at")?,
        applicant_name: r.try_get("applicant_name")?,
    })
}

pub async fn insert_notice(tx: &mut Tx<'_>, n: &NoticeRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "insert into service_notice ({NOTICE_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&n.number)
    .bind(&n.kind)
    .bind(&n.item_code)
    .bind(n.item_version)
    .bind(&n.applicant_id)
    .bind(&n.channel)
    .bind(&n.window_code)
    .bind(n.visit_id)
    .bind(&n.missing)
    .bind(&n.reason)
    .bind(&n.issued_by)
    .bind(&n.issued_at)
    .bind(&n.applicant_name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn find_notice(db: &Db, number: &str) -> Result<Option<NoticeRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {NOTICE_COLUMNS} from service_notice where number = $1"))
        .bind(number)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(notice_from).transpose()
}

pub async fn notices_between(db: &Db, from: &str, to: &str) -> Result<Vec<NoticeRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("select {NOTICE_COLUMNS} from service_notice where issued_at >= $1 and issued_at < $2"))
            .bind(from)
            .bind(to)
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(notice_from).collect()
}

pub async fn applicant_name(db: &Db, id_number: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select name from service_applicant where id_number = $1")
        .bind(id_number)
        .fetch_optional(db.pool())
        .await
}

// ---------------------------------------------------------------- applications

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApplicationRow {
    #[serde(skip)]
    pub id: i64,
    pub number: String,
    pub item_code: String,
    pub item_version: i64,
    pub department_code: String,
    pub applicant_id: String,
    pub applicant_name: String,
    #[serde(skip)]
    pub contact: Option<String>,
    pub channel: String,
    pub window_code: Option<String>,
    pub clerk: Option<String>,
    #[serde(skip)]
    pub visit_id: Option<i64>,
    pub state: String,
    pub current_step: i64,
    pub max_visits: i64,
    pub accepted_at: String,
    pub deadline: String,
    pub legal_deadline: String,
    pub warned_at: Option<String>,
    pub overdue_at: Option<String>,
    pub suspended_at: Option<String>,
    pub suspended_step: Option<String>,
    pub concluded_at: Option<String>,
    pub licence_number: Option<String>,
    pub updated_at: String,
    /// SHA-256 of the access key handed to the applicant once (none before issue 14).
    #[serde(skip)]
    pub access_key_hash: Option<String>,
}

impl ApplicationRow {
    pub fn is_concluded(&self) -> bool {
        matches!(self.state.as_str(), "approved" | "rejected")
    }
}

const APP_COLUMNS: &str =
    "id, number, item_code, item_version, department_code, applicant_id, applicant_name, contact, \
    channel, window_code, clerk, visit_id, state, current_step, max_visits, accepted_at, deadline, legal_deadline, \
    warned_at, overdue_at, suspended_at, suspended_step, concluded_at, licence_number, updated_at, access_key_hash";

fn app_from(r: &AnyRow) -> Result<ApplicationRow, sqlx::Error> {
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
        accepted_at: r.try_get("accepted_at")?,
        deadline: r.try_get("deadline")?,
        legal_deadline: r.try_get("legal_deadline")?,
        warned_at: r.try_get("warned_at")?,
        overdue_at: r.try_get("overdue_at")?,
        suspended_at: r.try_get("suspended_at")?,
        suspended_step: r.try_get("suspended_step")?,
        concluded_at: r.try_get("concluded_at")?,
        licence_number: r.try_get("licence_number")?,
        updated_at: r.try_get("updated_at")?,
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
    .bind(&a.deadline)
    .bind(&a.legal_deadline)
    .bind(&a.warned_at)
    .bind(&a.overdue_at)
    .bind(&a.suspended_at)
    .bind(&a.suspended_step)
    .bind(&a.concluded_at)
    .bind(&a.licence_number)
    .bind(&a.updated_at)
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

pub async fn applications_between(db: &Db, from: &str, to: &str) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {APP_COLUMNS} from service_application where accepted_at >= $1 and accepted_at < $2"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(app_from).collect()
}

pub async fn all_applications(db: &Db) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("select {APP_COLUMNS} from service_application order by id")).fetch_all(db.pool()).await?;
    rows.iter().map(app_from).collect()
}

// ---------------------------------------------------------------- materials

#[derive(Debug, Clone, serde::Serialize)]
pub struct MaterialRow {
    pub id: i64,
    #[serde(skip)]
    pub application_id: i64,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub source: String,
    pub format: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub licence_number: Option<String>,
    pub reused_from: Option<i64>,
    pub created_at: String,
}

const MATERIAL_COLUMNS: &str =
    "id, application_id, position, code, name, source, format, size_bytes, sha256, licence_number, reused_from, created_at";

fn material_from(r: &AnyRow) -> Result<MaterialRow, sqlx::Error> {
    Ok(MaterialRow {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        position: r.try_get("position")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        source: r.try_get("source")?,
        format: r.try_get("format")?,
        size_bytes: r.try_get("size_bytes")?,
        sha256: r.try_get("sha256")?,
        licence_number: r.try_get("licence_number")?,
        reused_from: r.try_get("reused_from")?,
        created_at: r.try_get("created_at")?,
    })
}

pub struct NewMaterial<'a> {
    pub position: i64,
    pub code: &'a str,
    pub name: &'a str,
    pub source: &'a str,
    pub format: Option<&'a str>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<&'a str>,
    pub content: Option<&'a [u8]>,
    pub licence_number: Option<&'a str>,
    pub reused_from: Option<i64>,
}

pub async fn insert_material(
    tx: &mut Tx<'_>,
    application_id: i64,
    applicant_id: &str,
    m: &NewMaterial<'_>,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into service_material (application_id, position, code, name, source, format, size_bytes, sha256,
            content, licence_number, reused_from, applicant_id, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(application_id)
    .bind(m.position)
    .bind(m.code)
    .bind(m.name)
    .bind(m.source)
    .bind(m.format)
    .bind(m.size_bytes)
    .bind(m.sha256)
    .bind(m.content.map(<[u8]>::to_vec))
    .bind(m.licence_number)
    .bind(m.reused_from)
    .bind(applicant_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest electronic material of this code the applicant submitted in an earlier
/// application: (material id, format, size, sha256).
pub async fn earlier_material(
    tx: &mut Tx<'_>,
    applicant_id: &str,
    code: &str,
) -> Result<Option<(i64, Option<String>, Option<i64>, Option<String>)>, sqlx::Error> {
    let row = sqlx::query(
        "select id, format, size_bytes, sha256 from service_material
         where applicant_id = $1 and code = $2 and source = 'submitted' order by id desc limit 1",
    )
    .bind(applicant_id)
    .bind(code)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("format")?, r.try_get("size_bytes")?, r.try_get("sha256")?)))
        .transpose()
}

pub async fn materials_of(db: &Db, application_id: i64) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {MATERIAL_COLUMNS} from service_material where application_id = $1 order by position"
    ))
    .bind(application_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(material_from).collect()
}

/// The materials of an application, read inside the writing transaction.
/// True when an application with a step of `department` has the licence as a material.
pub async fn licence_material_for_department(
    tx: &mut Tx<'_>,
    licence_number: &str,
    department: &str,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from service_material m
         where m.licence_number = $1
           and exists (select 1 from service_step s where s.application_id = m.application_id and s.department_code = $2)",
    )
    .bind(licence_number)
    .bind(department)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

pub async fn materials_in(tx: &mut Tx<'_>, application_id: i64) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {MATERIAL_COLUMNS} from service_material where application_id = $1 order by position"
    ))
    .bind(application_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(material_from).collect()
}

pub async fn all_materials(db: &Db) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("select {MATERIAL_COLUMNS} from service_material order by application_id, position"))
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(material_from).collect()
}

/// (application id, source, count) for applications accepted in `[from, to)`.
pub async fn material_counts_between(db: &Db, from: &str, to: &str) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "select m.application_id, m.source, count(*) as n from service_material m
           join service_application a on a.id = m.application_id
         where a.accepted_at >= $1 and a.accepted_at < $2 group by m.application_id, m.source",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("application_id")?, r.try_get("source")?, r.try_get("n")?))).collect()
}

// ---------------------------------------------------------------- steps and events

#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRow {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub application_id: i64,
    pub step_index: i64,
    pub step_name: String,
    pub department_code: String,
    pub state: String,
    /// JSON array `[{code, met, note}]` once decided.
    #[serde(skip)]
    pub checklist: Option<String>,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

const STEP_COLUMNS: &str =
    "id, application_id, step_index, step_name, department_code, state, checklist, note, decided_by, decided_at";

fn step_from(r: &AnyRow) -> Result<StepRow, sqlx::Error> {
    Ok(StepRow {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        step_index: r.try_get("step_index")?,
        step_name: r.try_get("step_name")?,
        department_code: r.try_get("department_code")?,
        state: r.try_get("state")?,
        checklist: r.try_get("checklist")?,
        note: r.try_get("note")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
    })
}

pub async fn insert_step(
    tx: &mut Tx<'_>,
    application_id: i64,
    index: i64,
    name: &str,
    department: &str,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into service_step (application_id, step_index, step_name, department_code, state)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(application_id)
    .bind(index)
    .bind(name)
    .bind(department)
    .bind(state)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn steps_in(tx: &mut Tx<'_>, application_id: i64) -> Result<Vec<StepRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {STEP_COLUMNS} from service_step where application_id = $1 order by step_index, department_code"
    ))
    .bind(application_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(step_from).collect()
}

pub async fn steps_of(db: &Db, application_id: i64) -> Result<Vec<StepRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {STEP_COLUMNS} from service_step where application_id = $1 order by step_index, department_code"
    ))
    .bind(application_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(step_from).collect()
}

/// Records a decision on a pending step; false when it was not pending any more.
pub async fn decide_step(
    tx: &mut Tx<'_>,
    id: i64,
    state: &str,
    checklist: &str,
    note: Option<&str>,
    by: &str,
    at: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update service_step set state = $1, checklist = $2, note = $3, decided_by = $4, decided_at = $5
         where id = $6 and state = 'pending'",
    )
    .bind(state)
    .bind(checklist)
    .bind(note)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Moves every step of `index` from one state to another.
pub async fn set_steps_state(
    tx: &mut Tx<'_>,
    application_id: i64,
    index: Option<i64>,
    from: &str,
    to: &str,
) -> Result<u64, sqlx::Error> {
    let r = match index {
        Some(i) => {
            sqlx::query(
                "update service_step set state = $1 where application_id = $2 and step_index = $3 and state = $4",
            )
            .bind(to)
            .bind(application_id)
            .bind(i)
            .bind(from)
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query("update service_step set state = $1 where application_id = $2 and state = $3")
                .bind(to)
                .bind(application_id)
                .bind(from)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(r.rows_affected())
}

pub async fn all_decided_steps(db: &Db) -> Result<Vec<(String, StepRow)>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select a.number as app_number, {} from service_step s join service_application a on a.id = s.application_id
         where s.decided_at is not null order by s.id",
        STEP_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("app_number")?, step_from(r)?))).collect()
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
}

pub async fn insert_event(
    tx: &mut Tx<'_>,
    application_id: i64,
    at: &str,
    actor: &str,
    action: &str,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into service_event (application_id, at, actor, action, note) values ($1, $2, $3, $4, $5)")
        .bind(application_id)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(note)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn events_of(db: &Db, application_id: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    let rows = sqlx::query("select at, actor, action, note from service_event where application_id = $1 order by id")
        .bind(application_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------- ratings and rectification

#[derive(Debug, Clone, serde::Serialize)]
pub struct RatingRow {
    pub id: i64,
    pub target_kind: String,
    pub target_ref: String,
    #[serde(skip)]
    pub applicant_id: String,
    pub grade: i64,
    pub comment: Option<String>,
    pub responsible_department: Option<String>,
    pub item_code: Option<String>,
    pub window_code: Option<String>,
    pub clerk: Option<String>,
    pub rated_at: String,
    pub void: bool,
}

const RATING_COLUMNS: &str = "id, target_kind, target_ref, applicant_id, grade, comment, responsible_department, \
    item_code, window_code, clerk, rated_at, void";

fn rating_from(r: &AnyRow) -> Result<RatingRow, sqlx::Error> {
    Ok(RatingRow {
        id: r.try_get("id")?,
        target_kind: r.try_get("target_kind")?,
        target_ref: r.try_get("target_ref")?,
        applicant_id: r.try_get("applicant_id")?,
        grade: r.try_get("grade")?,
        comment: r.try_get("comment")?,
        responsible_department: r.try_get("responsible_department")?,
        item_code: r.try_get("item_code")?,
        window_code: r.try_get("window_code")?,
        clerk: r.try_get("clerk")?,
        rated_at: r.try_get("rated_at")?,
        void: flag(r, "void")?,
    })
}

/// Inserts a rating; None when the target already has one.
pub async fn insert_rating(tx: &mut Tx<'_>, r: &RatingRow) -> Result<Option<RatingRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "insert into service_rating (target_kind, target_ref, applicant_id, grade, comment, responsible_department,
            item_code, window_code, clerk, rated_at, void)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0)
         on conflict (target_kind, target_ref) do nothing returning {RATING_COLUMNS}"
    ))
    .bind(&r.target_kind)
    .bind(&r.target_ref)
    .bind(&r.applicant_id)
    .bind(r.grade)
    .bind(&r.comment)
    .bind(&r.responsible_department)
    .bind(&r.item_code)
    .bind(&r.window_code)
    .bind(&r.clerk)
    .bind(&r.rated_at)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(rating_from).transpose()
}

pub async fn find_rating(tx: &mut Tx<'_>, id: i64) -> Result<Option<RatingRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {RATING_COLUMNS} from service_rating where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(rating_from).transpose()
}

/// Voids a rating; false when it was void already.
pub async fn void_rating(tx: &mut Tx<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("update service_rating set void = 1 where id = $1 and void = 0")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn ratings_between(db: &Db, from: &str, to: &str) -> Result<Vec<RatingRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("select {RATING_COLUMNS} from service_rating where rated_at >= $1 and rated_at < $2"))
            .bind(from)
            .bind(to)
            .fetch_all(db.pool())
            .await?;
    rows.iter().map(rating_from).collect()
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RectificationRow {
    pub id: i64,
    pub rating_id: i64,
    pub department_code: String,
    pub state: String,
    pub deadline: String,
    pub reply: Option<String>,
    pub callback_note: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<String>,
    pub feedback_grade: Option<i64>,
    pub feedback_at: Option<String>,
    pub appeal_reason: Option<String>,
    pub appealed_by: Option<String>,
    pub appealed_at: Option<String>,
    pub appeal_decision: Option<String>,
    pub appeal_decided_by: Option<String>,
    pub appeal_decided_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const RECT_COLUMNS: &str = "id, rating_id, department_code, state, deadline, reply, callback_note, replied_by, \
    replied_at, feedback_grade, feedback_at, appeal_reason, appealed_by, appealed_at, appeal_decision, \
    appeal_decided_by, appeal_decided_at, created_at, updated_at";

fn rect_from(r: &AnyRow) -> Result<RectificationRow, sqlx::Error> {
    Ok(RectificationRow {
        id: r.try_get("id")?,
        rating_id: r.try_get("rating_id")?,
        department_code: r.try_get("department_code")?,
        state: r.try_get("state")?,
        deadline: r.try_get("deadline")?,
        reply: r.try_get("reply")?,
        callback_note: r.try_get("callback_note")?,
        replied_by: r.try_get("replied_by")?,
        replied_at: r.try_get("replied_at")?,
        feedback_grade: r.try_get("feedback_grade")?,
        feedback_at: r.try_get("feedback_at")?,
        appeal_reason: r.try_get("appeal_reason")?,
        appealed_by: r.try_get("appealed_by")?,
        appealed_at: r.try_get("appealed_at")?,
        appeal_decision: r.try_get("appeal_decision")?,
        appeal_decided_by: r.try_get("appeal_decided_by")?,
        appeal_decided_at: r.try_get("appeal_decided_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert_rectification(
    tx: &mut Tx<'_>,
    rating_id: i64,
    department: &str,
    deadline: &str,
    now: &str,
) -> Result<RectificationRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "insert into service_rectification (rating_id, department_code, state, deadline, created_at, updated_at)
         values ($1, $2, 'open', $3, $4, $4) returning {RECT_COLUMNS}"
    ))
    .bind(rating_id)
    .bind(department)
    .bind(deadline)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    rect_from(&row)
}

pub async fn find_rectification(tx: &mut Tx<'_>, id: i64) -> Result<Option<RectificationRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {RECT_COLUMNS} from service_rectification where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(rect_from).transpose()
}

/// Writes a rectification's mutable fields, only if it is still in `expected` state.
pub async fn update_rectification(tx: &mut Tx<'_>, r: &RectificationRow, expected: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update service_rectification set state = $1, deadline = $2, reply = $3, callback_note = $4, replied_by = $5,
            replied_at = $6, feedback_grade = $7, feedback_at = $8, appeal_reason = $9, appealed_by = $10,
            appealed_at = $11, appeal_decision = $12, appeal_decided_by = $13, appeal_decided_at = $14,
            updated_at = $15
         where id = $16 and state = $17",
    )
    .bind(&r.state)
    .bind(&r.deadline)
    .bind(&r.reply)
    .bind(&r.callback_note)
    .bind(&r.replied_by)
    .bind(&r.replied_at)
    .bind(r.feedback_grade)
    .bind(&r.feedback_at)
    .bind(&r.appeal_reason)
    .bind(&r.appealed_by)
    .bind(&r.appealed_at)
    .bind(&r.appeal_decision)
    .bind(&r.appeal_decided_by)
    .bind(&r.appeal_decided_at)
    .bind(&r.updated_at)
    .bind(r.id)
    .bind(expected)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_rectifications(db: &Db, department: Option<&str>) -> Result<Vec<RectificationRow>, sqlx::Error> {
    let rows = match department {
        Some(d) => {
            sqlx::query(&format!(
                "select {RECT_COLUMNS} from service_rectification where department_code = $1 order by id desc"
            ))
            .bind(d)
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query(&format!("select {RECT_COLUMNS} from service_rectification order by id desc"))
                .fetch_all(db.pool())
                .await?
        }
    };
    rows.iter().map(rect_from).collect()
}

// ---------------------------------------------------------------- statistics kept per day and month

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
pub async fn untimed_conclusions(tx: &mut Tx<'_>) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, accepted_at, concluded_at from service_application
         where concluded_at is not null and handling_working_hours is null",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("accepted_at")?, r.try_get("concluded_at")?))).collect()
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
