//! SQL for departments, staff, roles, sessions and login attempts (API tokens: `crate::tokens`).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::{self, now_text, Db, Tx};

/// A department. Serialised only into the change record (`department.create`/`.update`), with
/// its times as stored; the API answers with its own view (web/staff.rs).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DepartmentRow {
    pub code: String,
    pub name: String,
    pub area_code: String,
    #[serde(serialize_with = "stored_at")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "stored_at")]
    pub updated_at: DateTime<Utc>,
}

/// A time in the change record as the table stores it, so a record reads as it always did.
fn stored_at<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&db::at_text(t))
}

fn department_from(r: &AnyRow) -> Result<DepartmentRow, sqlx::Error> {
    Ok(DepartmentRow {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        area_code: r.try_get("area_code")?,
        created_at: db::at(r, "created_at")?,
        updated_at: db::at(r, "updated_at")?,
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

/// A staff row without the password hash. Serialised only into the change record, inside
/// [`super::StaffView`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub department_code: Option<String>,
    /// The area whose administrators manage the account.
    pub area_code: Option<String>,
    pub active: bool,
    /// The password was set by someone else and must be changed before signing in.
    pub must_change_password: bool,
    #[serde(serialize_with = "stored_at")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "stored_at")]
    pub updated_at: DateTime<Utc>,
}

fn staff_from(r: &AnyRow) -> Result<StaffRow, sqlx::Error> {
    Ok(StaffRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        department_code: r.try_get("department_code")?,
        area_code: r.try_get("area_code")?,
        active: db::flag(r, "active")?,
        must_change_password: db::flag(r, "must_change_password")?,
        created_at: db::at(r, "created_at")?,
        updated_at: db::at(r, "updated_at")?,
    })
}

const STAFF_COLUMNS: &str =
    "id, username, display_name, department_code, area_code, active, must_change_password, created_at, updated_at";

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

pub async fn find_staff_by_username(tx: &mut Tx<'_>, username: &str) -> Result<Option<StaffRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {STAFF_COLUMNS} from staff where username = $1"))
        .bind(username)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(staff_from).transpose()
}

/// (username, role) of every grant of an administrative duty (admin, security admin, auditor),
/// active account or not, by username.
pub async fn administrators(tx: &mut Tx<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "select distinct s.username, r.role from staff s join staff_role r on r.staff_id = s.id
         where r.role in ('admin', 'security_admin', 'auditor') order by s.username, r.role",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("username")?, r.try_get("role")?))).collect()
}

/// What a sign-in checks a password against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: i64,
    pub password_hash: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
}

pub async fn credentials(db: &Db, username: &str) -> Result<Option<Credentials>, sqlx::Error> {
    let row = sqlx::query("select id, password_hash, active, must_change_password from staff where username = $1")
        .bind(username)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        Ok(Credentials {
            id: r.try_get("id")?,
            password_hash: r.try_get("password_hash")?,
            active: db::flag(&r, "active")?,
            must_change_password: db::flag(&r, "must_change_password")?,
        })
    })
    .transpose()
}

pub async fn insert_staff(
    tx: &mut Tx<'_>,
    username: &str,
    display_name: &str,
    password_hash: Option<&str>,
    department: Option<&str>,
    area: &str,
) -> Result<i64, sqlx::Error> {
    let now = now_text();
    sqlx::query_scalar(
        "insert into staff (username, display_name, password_hash, department_code, area_code, active,
                            must_change_password, created_at, updated_at)
         values ($1, $2, $3, $4, $5, 1, 0, $6, $6) returning id",
    )
    .bind(username)
    .bind(display_name)
    .bind(password_hash)
    .bind(department)
    .bind(area)
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

/// Sets a password; `must_change` when someone else chose it (one-time).
pub async fn set_password(tx: &mut Tx<'_>, id: i64, hash: &str, must_change: bool) -> Result<(), sqlx::Error> {
    sqlx::query("update staff set password_hash = $1, must_change_password = $2, updated_at = $3 where id = $4")
        .bind(hash)
        .bind(i64::from(must_change))
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

pub async fn insert_session(
    tx: &mut Tx<'_>,
    hash: &str,
    staff_id: i64,
    expires_at: &DateTime<Utc>,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into session (token_hash, staff_id, created_at, expires_at, last_seen_ms) values ($1, $2, $3, $4, $5)",
    )
    .bind(hash)
    .bind(staff_id)
    .bind(now_text())
    .bind(db::at_text(expires_at))
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// (staff id, last use in ms) behind a live session of an active account: not revoked, not
/// past its absolute expiry, used since `idle_since_ms`.
pub async fn session_staff(
    db: &Db,
    hash: &str,
    now: &DateTime<Utc>,
    idle_since_ms: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "select s.staff_id, s.last_seen_ms from session s join staff u on u.id = s.staff_id
         where s.token_hash = $1 and s.revoked_at is null and s.expires_at > $2 and s.last_seen_ms > $3
           and u.active = 1 and u.must_change_password = 0",
    )
    .bind(hash)
    .bind(db::at_text(now))
    .bind(idle_since_ms)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| Ok((r.try_get("staff_id")?, r.try_get("last_seen_ms")?))).transpose()
}

/// Marks a session used now (only moving forward, so a slow request cannot move it back).
pub async fn touch_session(tx: &mut Tx<'_>, hash: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update session set last_seen_ms = $1 where token_hash = $2 and last_seen_ms < $1")
        .bind(now_ms)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends all but the `keep` most recently opened live sessions of an account.
pub async fn end_oldest_sessions(tx: &mut Tx<'_>, staff_id: i64, keep: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "update session set revoked_at = $1
         where staff_id = $2 and revoked_at is null and token_hash not in (
             select token_hash from session where staff_id = $2 and revoked_at is null and expires_at > $1
             order by created_at desc, last_seen_ms desc limit $3)",
    )
    .bind(now_text())
    .bind(staff_id)
    .bind(keep)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected())
}

pub async fn revoke_session(tx: &mut Tx<'_>, hash: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update session set revoked_at = $1 where token_hash = $2 and revoked_at is null")
        .bind(now_text())
        .bind(hash)
        .execute(&mut **tx)
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

/// Keeps the sign-in history (every attempt, for the record; throttling reads
/// `login_throttle`).
pub async fn record_attempt(
    tx: &mut Tx<'_>,
    username: &str,
    ip: &str,
    at_ms: i64,
    ok: bool,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into login_attempt (username, client_ip, at_ms, succeeded) values ($1, $2, $3, $4) returning id",
    )
    .bind(username)
    .bind(ip)
    .bind(at_ms)
    .bind(i64::from(ok))
    .fetch_one(&mut **tx)
    .await
}

pub async fn mark_attempt_succeeded(tx: &mut Tx<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update login_attempt set succeeded = 1 where id = $1").bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// Takes back one counted guess (a right password is not a guess against the address).
pub async fn uncount_guess(tx: &mut Tx<'_>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update login_throttle set failures = failures - 1 where key = $1 and failures > 0")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Counts one guess against `key` and returns (guesses in the window, the window's start).
/// One upsert: the row's lock orders parallel guesses, so each sees the ones before it. A
/// window older than `window_ms` starts again at this guess.
pub async fn count_guess(tx: &mut Tx<'_>, key: &str, now_ms: i64, window_ms: i64) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query(
        "insert into login_throttle (key, window_start_ms, failures) values ($1, $2, 1)
         on conflict (key) do update set
             failures = case when login_throttle.window_start_ms <= $3 then 1 else login_throttle.failures + 1 end,
             window_start_ms = case when login_throttle.window_start_ms <= $3 then $2
                                    else login_throttle.window_start_ms end
         returning failures, window_start_ms",
    )
    .bind(key)
    .bind(now_ms)
    .bind(now_ms - window_ms)
    .fetch_one(&mut **tx)
    .await?;
    Ok((row.try_get("failures")?, row.try_get("window_start_ms")?))
}

/// Forgets the guesses counted against `key` (after the right password).
pub async fn clear_guesses(tx: &mut Tx<'_>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from login_throttle where key = $1").bind(key).execute(&mut **tx).await?;
    Ok(())
}

/// Drops counters whose window has passed, so the table holds only the last window's keys.
pub async fn forget_old_guesses(tx: &mut Tx<'_>, before_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from login_throttle where window_start_ms < $1").bind(before_ms).execute(&mut **tx).await?;
    Ok(())
}

/// Staff ids of the accounts whose home area lies under one of `areas`.
pub async fn staff_ids_under(db: &Db, areas: &[String]) -> Result<Vec<i64>, sqlx::Error> {
    let mut out = Vec::new();
    for area in areas {
        let ids: Vec<i64> = sqlx::query_scalar("select id from staff where area_code like $1 order by id")
            .bind(format!("{area}%"))
            .fetch_all(db.pool())
            .await?;
        out.extend(ids);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
