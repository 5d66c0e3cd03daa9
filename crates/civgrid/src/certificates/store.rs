//! SQL for certificates.

use sqlx::Row as _;

use crate::db::{Db, Tx};

#[derive(Debug, Clone)]
pub struct CertificateRow {
    pub number: String,
    pub r#type: String,
    pub subject_id: String,
    pub content: String,
    pub signature: String,
    pub department_code: String,
    pub issued_by: String,
    pub issued_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

const COLUMNS: &str = "number, type, subject_id, content, signature, department_code, issued_by, issued_at, \
                       revoked_at, revoked_by, revoke_reason";

fn row_from(r: &sqlx::any::AnyRow) -> Result<CertificateRow, sqlx::Error> {
    Ok(CertificateRow {
        number: r.try_get("number")?,
        r#type: r.try_get("type")?,
        subject_id: r.try_get("subject_id")?,
        content: r.try_get("content")?,
        signature: r.try_get("signature")?,
        department_code: r.try_get("department_code")?,
        issued_by: r.try_get("issued_by")?,
        issued_at: r.try_get("issued_at")?,
        revoked_at: r.try_get("revoked_at")?,
        revoked_by: r.try_get("revoked_by")?,
        revoke_reason: r.try_get("revoke_reason")?,
    })
}

pub async fn insert(tx: &mut Tx<'_>, c: &CertificateRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into certificate (number, type, subject_id, content, signature, department_code, issued_by, issued_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.number)
    .bind(&c.r#type)
    .bind(&c.subject_id)
    .bind(&c.content)
    .bind(&c.signature)
    .bind(&c.department_code)
    .bind(&c.issued_by)
    .bind(&c.issued_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One certificate by its number, read through `ex`: the pool (`db.pool()`) or the caller's
/// transaction (`&mut **tx`).
pub async fn find<'e>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any>,
    number: &str,
) -> Result<Option<CertificateRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {COLUMNS} from certificate where number = $1"))
        .bind(number)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(row_from).transpose()
}

/// Marks a certificate revoked; false when it was already revoked (or does not exist).
pub async fn revoke(tx: &mut Tx<'_>, number: &str, at: &str, by: &str, reason: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update certificate set revoked_at = $1, revoked_by = $2, revoke_reason = $3
         where number = $4 and revoked_at is null",
    )
    .bind(at)
    .bind(by)
    .bind(reason)
    .bind(number)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn all(db: &Db) -> Result<Vec<CertificateRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {COLUMNS} from certificate")).fetch_all(db.pool()).await?;
    rows.iter().map(row_from).collect()
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<CertificateRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {COLUMNS} from certificate order by issued_at desc limit $1"))
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(row_from).collect()
}

/// Every certificate issued to one holder, newest first.
pub async fn for_subject_in(tx: &mut Tx<'_>, subject_id: &str) -> Result<Vec<CertificateRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {COLUMNS} from certificate where subject_id = $1 order by issued_at desc, number"
    ))
    .bind(subject_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(row_from).collect()
}
