//! Changes to a stored case: transitions, escalation, photos, last-resort departments.

use super::*;

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
    .bind(c.handle_deadline.as_ref().map(at_text))
    .bind(c.escalation_level)
    .bind(i64::from(c.supervised))
    .bind(i64::from(c.extension_requested))
    .bind(c.duplicate_of)
    .bind(c.rating)
    .bind(c.rework_count)
    .bind(c.return_count)
    .bind(c.filed_at.as_ref().map(at_text))
    .bind(c.dispatched_at.as_ref().map(at_text))
    .bind(c.handled_at.as_ref().map(at_text))
    .bind(c.verified_at.as_ref().map(at_text))
    .bind(c.verify_deadline.as_ref().map(at_text))
    .bind(c.closed_at.as_ref().map(at_text))
    .bind(now)
    .bind(c.id)
    .bind(at_text(&c.updated_at))
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

/// Cases with the department whose handling deadline has passed: (id, class, version, deadline, level, state).
pub async fn overdue_cases(
    db: &Db,
    now: &str,
) -> Result<Vec<(i64, String, i64, DateTime<Utc>, i64, String)>, sqlx::Error> {
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
                at(r, "handle_deadline")?,
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
#[derive(Debug, Clone)]
pub struct PhotoMeta {
    pub id: i64,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
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
                created_at: at(r, "created_at")?,
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
