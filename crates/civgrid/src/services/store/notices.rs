//! Notices issued to applicants, and an applicant's name as a notice shows it.

use super::*;

#[derive(Debug, Clone)]
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
    pub issued_at: DateTime<Utc>,
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
        issued_at: crate::db::at(r, "issued_at")?,
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
    .bind(at_text(&n.issued_at))
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

pub async fn applicant_name(db: &Db, id_number: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select name from service_applicant where id_number = $1")
        .bind(id_number)
        .fetch_optional(db.pool())
        .await
}
