//! The case classes (every version of the catalogue) and the working calendar.

use super::*;

/// A catalogue entry (one version of a minor class).
#[derive(Debug, Clone, PartialEq)]
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
