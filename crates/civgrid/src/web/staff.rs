//! Sign-in and staff administration endpoints. Administration is split three ways (等保
//! 三权分立): the system `admin` manages departments and accounts in their areas, the
//! `security_admin` grants roles, resets passwords, ends sessions and issues API tokens, and
//! the `auditor` reads the change and access records (web/territory.rs) and writes nothing.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{request_token, ApiJson, ApiPath, Auth, RequestId, SESSION_COOKIE};
use super::limit::ClientAddr;
use super::AppState;
use crate::staff::{NewAccount, Role, StaffPatch};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/admin/departments", get(list_departments))
        .route("/api/v1/admin/departments/{code}", put(put_department))
        .route("/api/v1/admin/staff", get(list_staff).post(create_staff))
        .route("/api/v1/admin/staff/{id}", get(find_staff).patch(update_staff))
        .route("/api/v1/admin/staff/{id}/sessions", delete(revoke_sessions))
        .route("/api/v1/admin/api-tokens", post(issue_token))
        .route("/api/v1/admin/api-tokens/{id}", delete(revoke_token))
}

#[derive(educe::Educe, Deserialize)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    password: String,
}

/// `POST /api/v1/auth/login`: opens a server-side session, returned both as an HttpOnly
/// cookie (browsers) and in the body (apps and scripts send it as a bearer token). Guesses
/// are counted per client address (through trusted proxies only) and username.
async fn login(State(state): State<AppState>, addr: ClientAddr, ApiJson(body): ApiJson<Login>) -> ApiResult<Response> {
    let outcome = state.staff.login(&body.username, &body.password, &addr.label()).await?;
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure}", outcome.token);
    let mut resp = Json(json!({
        "token": outcome.token, "expires_at": outcome.expires_at, "staff": outcome.principal,
    }))
    .into_response();
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = request_token(&headers) {
        state.staff.logout(&token).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0").parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(educe::Educe, Deserialize)]
#[educe(Debug)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    username: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    old_password: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    new_password: String,
}

/// `POST /api/v1/auth/password`: changes one's own password with the old one, without a
/// session (an account with a one-time password has none). Throttled as a sign-in; ends every
/// session and API token of the account.
async fn change_password(
    State(state): State<AppState>,
    addr: ClientAddr,
    rid: RequestId,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    state
        .staff
        .change_password(&body.username, &body.old_password, &body.new_password, &addr.label(), rid.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(auth: Auth) -> Json<Value> {
    Json(json!(auth.0))
}

/// Reading the organisation: the system admin and the security admin (each sees the accounts
/// of their areas).
fn require_administrator(auth: &Auth) -> ApiResult<()> {
    if auth.0.has_role(Role::Admin) || auth.0.has_role(Role::SecurityAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("administration"))
    }
}

async fn list_departments(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    require_administrator(&auth)?;
    Ok(Json(json!({"departments": state.staff.departments().await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentBody {
    name: String,
    area_code: String,
}

async fn put_department(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<DepartmentBody>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin, &body.area_code, "managing departments in this area")?;
    let d = state
        .staff
        .put_department(&auth.0.actor(), Some(&auth.0), &code, &body.name, &body.area_code, rid.as_deref())
        .await?;
    Ok(Json(json!(d)))
}

async fn list_staff(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    require_administrator(&auth)?;
    Ok(Json(json!({"staff": state.staff.list_for(&auth.0).await?})))
}

async fn find_staff(State(state): State<AppState>, auth: Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Value>> {
    require_administrator(&auth)?;
    Ok(Json(json!(state.staff.get_for(&auth.0, id).await?)))
}

/// `POST /api/v1/admin/staff`: the system admin creates an account in their areas, without
/// password or roles (the security admin gives those).
async fn create_staff(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewAccount>,
) -> ApiResult<impl IntoResponse> {
    if !auth.0.has_role(Role::Admin) {
        return Err(ApiError::forbidden("creating accounts (the system administrator's duty)"));
    }
    let view = state.staff.create_account(&auth.0, body, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// `PATCH /api/v1/admin/staff/{id}`: the organisation's fields by the admin, roles and a
/// one-time password by the security admin; the service checks which the caller may change.
async fn update_staff(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StaffPatch>,
) -> ApiResult<Json<Value>> {
    require_administrator(&auth)?;
    Ok(Json(json!(state.staff.update(&auth.0, id, body, rid.as_deref()).await?)))
}

async fn revoke_sessions(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    require_security_admin(&auth)?;
    let n = state.staff.revoke_sessions(&auth.0, id, rid.as_deref()).await?;
    Ok(Json(json!({"sessions_revoked": n})))
}

fn require_security_admin(auth: &Auth) -> ApiResult<()> {
    if auth.0.has_role(Role::SecurityAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("sessions and API tokens (the security administrator's duty)"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    staff_id: i64,
    name: String,
    /// Days the token is valid: 1–365.
    valid_days: i64,
}

/// Issues an API token for another system; the token is in this response only.
async fn issue_token(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<impl IntoResponse> {
    require_security_admin(&auth)?;
    let (id, token, expires_ms) =
        state.staff.issue_api_token(&auth.0, body.staff_id, &body.name, body.valid_days, rid.as_deref()).await?;
    let expires_at = chrono::DateTime::from_timestamp_millis(expires_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "token": token, "staff_id": body.staff_id, "expires_at": expires_at})),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require_security_admin(&auth)?;
    state.staff.revoke_api_token(&auth.0, id, rid.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
