//! SQL for departments, staff, roles, sessions, API tokens and login attempts.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{now_text, Db, Tx};

#[derive(Debug, Clone, serde::Serialize)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub area_code: String,
    pub created_at: String,
    pub updated_at: String,
}

fn department_from(r: &AnyRow) -> Result<DepartmentRow, sqlx::Error> {
    Ok(DepartmentRow {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        area_code: r.try_get("area_code")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn list_departments(db: &Db) -> Result<Vec<DepartmentRow>, sqlx::Error> {
    let rows = sqlx::query("select code, name, area_code, created_at, updated_at from department order by code")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(department_from).collect()
}

pub async fn find_department(tx: &mut Tx<'_>, code: &str) -> Result<Option<DepartmentRow>, sqlx::Error> {
    let row = sqlx::query("select code, name, area_code, created_at, updated_at from department where code = $1")
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(department_from).transpose()
}

pub async fn insert_department(tx: &mut Tx<'_>, code: &str, name: &str, area: &str) -> Result<(), sqlx::Error> {
    let now = now_text();
    sqlx::query("insert into department (code, name, area_code, created_at, updated_at) values ($1, $2, $3, $4, $4)")
        .bind(code)
        .bind(name)
        .bind(area)
        .bind(&now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn update_department(tx: &mut Tx<'_>, code: &str, name: &str, area: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update department set name = $1, area_code = $2, updated_at = $3 where code = $4")
        .bind(name)
        .bind(area)
        .bind(now_text())
        .bind(code)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A staff row without the password hash.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_code: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn staff_from(r: &AnyRow) -> Result<StaffRow, sqlx::Error> {
    let active: i64 = r.try_get("active")?;
    Ok(StaffRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        department_code: r.try_get("department_code")?,
        active: active != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const STAFF_COLUMNS: &str = "id, username, display_name, department_code, active, created_at, updated_at";

pub async fn list_staff(db: &Db) -> Result<Vec<StaffRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("select {STAFF_COLUMNS} from staff order by id")).fetch_all(db.pool()).await?;
    rows.iter().map(staff_from).collect()
}

pub async fn find_staff(tx: &mut Tx<'_>, id: i64) -> Result<Option<StaffRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {STAFF_COLUMNS} from staff where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(staff_from).transpose()
}

pub async fn find_staff_db(db: &Db, id: i64) -> Result<Option<StaffRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {STAFF_COLUMNS} from staff where id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(staff_from).transpose()
}

/// (id, password hash, active) for a login.
pub async fn credentials(db: &Db, username: &str) -> Result<Option<(i64, Option<String>, bool)>, sqlx::Error> {
    let row = sqlx::query("select id, password_hash, active from staff where username = $1")
        .bind(username)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        let active: i64 = r.try_get("active")?;
        Ok((r.try_get("id")?, r.try_get("password_hash")?, active != 0))
    })
    .transpose()
}

pub async fn insert_staff(
    tx: &mut Tx<'_>,
    username: &str,
    display_name: &str,
    password_hash: Option<&str>,
    department: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let now = now_text();
    sqlx::query_scalar(
        "insert into staff (username, display_name, password_hash, department_code, active, created_at, updated_at)
         values ($1, $2, $3, $4, 1, $5, $5) returning id",
    )
    .bind(username)
    .bind(display_name)
    .bind(password_hash)
    .bind(department)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await
}

pub async fn update_staff(
    tx: &mut Tx<'_>,
    id: i64,
    display_name: &str,
    department: Option<&str>,
    active: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("update staff set display_name = $1, department_code = $2, active = $3, updated_at = $4 where id = $5")
        .bind(display_name)
        .bind(department)
        .bind(i64::from(active))
        .bind(now_text())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx<'_>, id: i64, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update staff set password_hash = $1, updated_at = $2 where id = $3")
        .bind(hash)
        .bind(now_text())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn roles(db: &Db, staff_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("select role, area_code from staff_role where staff_id = $1 order by role, area_code")
        .bind(staff_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|r| Ok((r.try_get("role")?, r.try_get("area_code")?))).collect()
}

pub async fn roles_tx(tx: &mut Tx<'_>, staff_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query("select role, area_code from staff_role where staff_id = $1 order by role, area_code")
        .bind(staff_id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("role")?, r.try_get("area_code")?))).collect()
}

pub async fn replace_roles(tx: &mut Tx<'_>, staff_id: i64, grants: &[(String, String)]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from staff_role where staff_id = $1").bind(staff_id).execute(&mut **tx).await?;
    for (role, area) in grants {
        sqlx::query("insert into staff_role (staff_id, role, area_code) values ($1, $2, $3)")
            .bind(staff_id)
            .bind(role)
            .bind(area)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn insert_session(tx: &mut Tx<'_>, hash: &str, staff_id: i64, expires_at: &str) -> Result<(), sqlx::Error> {
    sqlx::query("insert into session (token_hash, staff_id, created_at, expires_at) values ($1, $2, $3, $4)")
        .bind(hash)
        .bind(staff_id)
        .bind(now_text())
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The staff id behind a live (unrevoked, unexpired) session of an active account.
pub async fn session_staff(db: &Db, hash: &str, now: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select s.staff_id from session s join staff u on u.id = s.staff_id
         where s.token_hash = $1 and s.revoked_at is null and s.expires_at > $2 and u.active = 1",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await
}

pub async fn revoke_session(db: &Db, hash: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update session set revoked_at = $1 where token_hash = $2 and revoked_at is null")
        .bind(now_text())
        .bind(hash)
        .execute(db.pool())
        .await?;
    Ok(r.rows_affected())
}

pub async fn revoke_sessions_of(tx: &mut Tx<'_>, staff_id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update session set revoked_at = $1 where staff_id = $2 and revoked_at is null")
        .bind(now_text())
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

pub async fn insert_api_token(tx: &mut Tx<'_>, name: &str, hash: &str, staff_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into api_token (name, token_hash, staff_id, created_at) values ($1, $2, $3, $4) returning id",
    )
    .bind(name)
    .bind(hash)
    .bind(staff_id)
    .bind(now_text())
    .fetch_one(&mut **tx)
    .await
}

/// (token id, staff id) behind a live API token of an active account.
pub async fn api_token_staff(db: &Db, hash: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "select t.id, t.staff_id from api_token t join staff u on u.id = t.staff_id
         where t.token_hash = $1 and t.revoked_at is null and u.active = 1",
    )
    .bind(hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("staff_id")?))).transpose()
}

pub async fn revoke_api_token(tx: &mut Tx<'_>, id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update api_token set revoked_at = $1 where id = $2 and revoked_at is null")
        .bind(now_text())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

pub async fn record_attempt(db: &Db, username: &str, ip: &str, at_ms: i64, ok: bool) -> Result<(), sqlx::Error> {
    sqlx::query("insert into login_attempt (username, client_ip, at_ms, succeeded) values ($1, $2, $3, $4)")
        .bind(username)
        .bind(ip)
        .bind(at_ms)
        .bind(i64::from(ok))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Failures for a username since `since_ms` and after its last success, with the oldest one's time.
pub async fn recent_failures_for_user(
    db: &Db,
    username: &str,
    since_ms: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query(
        "select count(*) as n, min(at_ms) as oldest from login_attempt
         where username = $1 and succeeded = 0 and at_ms > $2
           and at_ms > coalesce((select max(at_ms) from login_attempt where username = $1 and succeeded = 1), 0)",
    )
    .bind(username)
    .bind(since_ms)
    .fetch_one(db.pool())
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

pub async fn recent_failures_for_ip(db: &Db, ip: &str, since_ms: i64) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query(
        "select count(*) as n, min(at_ms) as oldest from login_attempt where client_ip = $1 and succeeded = 0 and at_ms > $2",
    )
    .bind(ip)
    .bind(since_ms)
    .fetch_one(db.pool())
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}
