//! Applicants (by their random reference) and their visits to the window.

use super::*;

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

/// What a rating of a window visit needs of the visit.
#[derive(Debug, Clone)]
pub struct VisitRow {
    pub window_code: String,
    pub clerk: String,
    pub clerk_department: Option<String>,
    pub applicant_id: String,
    pub item_code: String,
}

pub async fn find_visit(tx: &mut Tx<'_>, number: &str) -> Result<Option<VisitRow>, sqlx::Error> {
    let row = sqlx::query(
        "select window_code, clerk, clerk_department, applicant_id, item_code from service_visit where number = $1",
    )
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        Ok(VisitRow {
            window_code: r.try_get("window_code")?,
            clerk: r.try_get("clerk")?,
            clerk_department: r.try_get("clerk_department")?,
            applicant_id: r.try_get("applicant_id")?,
            item_code: r.try_get("item_code")?,
        })
    })
    .transpose()
}
