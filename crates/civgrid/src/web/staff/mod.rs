//! Sign-in and staff administration endpoints. Administration is split three ways (等保
//! 三权分立): the system `admin` manages departments and accounts in their areas, the
//! `security_admin` grants roles, resets passwords, ends sessions and issues API tokens, and
//! the `auditor` reads the change and access records (web/territory.rs) and writes nothing.
//!
//! Request and answer types are in `types.rs`.

mod types;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{request_token, ApiJson, ApiPath, Auth, RequestId, SESSION_COOKIE};
use super::limit::ClientAddr;
use super::AppState;
use crate::staff::Role;
use types::*;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(me))
        .routes(routes!(list_departments))
        .routes(routes!(put_department))
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(find_staff, update_staff))
        .routes(routes!(revoke_sessions))
        .routes(routes!(issue_token))
        .routes(routes!(revoke_token))
}

/// `POST /api/v1/auth/login`: opens a server-side session, returned both as an HttpOnly
/// cookie (browsers) and in the body (apps and scripts send it as a bearer token). Guesses
/// are counted per client address (through trusted proxies only) and username.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", summary = "Sign in: a session (cookie and bearer token)",
    request_body = Login,
    responses((status = 200, description = "signed in; the session is also set as an HttpOnly cookie", body = LoginAnswer)))]
async fn login(State(state): State<AppState>, addr: ClientAddr, ApiJson(body): ApiJson<Login>) -> ApiResult<Response> {
    let outcome = state.staff.login(&body.username, &body.password, &addr.label()).await?;
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure}", outcome.token);
    let mut resp = Json(LoginAnswer::from(outcome)).into_response();
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `POST /api/v1/auth/logout`: ends the session behind the request's token (if any) and
/// clears the cookie; idempotent.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", summary = "Sign out: end this session",
    security((), ("bearer" = []), ("cookie" = [])),
    responses((status = 204, description = "the session (if any) has ended and the cookie is cleared")))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = request_token(&headers) {
        state.staff.logout(&token).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    if let Ok(v) = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}").parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `POST /api/v1/auth/password`: changes one's own password with the old one, without a
/// session (an account with a one-time password has none). Throttled as a sign-in; ends every
/// session and API token of the account.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    summary = "Change one's own password with the old one (ends every session and API token)",
    request_body = PasswordChange,
    responses((status = 204, description = "changed")))]
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

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", summary = "Who is calling: account, roles, credential",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the caller", body = PrincipalView)))]
async fn me(auth: Auth) -> Json<PrincipalView> {
    Json(PrincipalView::from(auth.0))
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

#[utoipa::path(get, path = "/api/v1/admin/departments", tag = "staff", summary = "Departments (administrators)",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "every department", body = Departments)))]
async fn list_departments(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Departments>> {
    require_administrator(&auth)?;
    let departments = state.staff.departments().await?.into_iter().map(DepartmentView::from).collect();
    Ok(Json(Departments { departments }))
}

#[utoipa::path(put, path = "/api/v1/admin/departments/{code}", tag = "staff",
    summary = "Create or rename a department in one's areas (admin)",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "the department's code: 2–32 of a–z, 0–9, `_`, `-`")),
    request_body = DepartmentBody,
    responses((status = 200, description = "the department", body = DepartmentView)))]
async fn put_department(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<DepartmentBody>,
) -> ApiResult<Json<DepartmentView>> {
    auth.require(Role::Admin, &body.area_code, "managing departments in this area")?;
    let d = state
        .staff
        .put_department(&auth.0.actor(), Some(&auth.0), &code, &body.name, &body.area_code, rid.as_deref())
        .await?;
    Ok(Json(DepartmentView::from(d)))
}

#[utoipa::path(get, path = "/api/v1/admin/staff", tag = "staff", summary = "Accounts of one's areas (administrators)",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the accounts whose home area is the caller's", body = StaffList)))]
async fn list_staff(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<StaffList>> {
    require_administrator(&auth)?;
    let staff = state.staff.list_for(&auth.0).await?.into_iter().map(StaffAccount::from).collect();
    Ok(Json(StaffList { staff }))
}

#[utoipa::path(get, path = "/api/v1/admin/staff/{id}", tag = "staff", summary = "One account of one's areas (administrators)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the account's id")),
    responses((status = 200, description = "the account", body = StaffAccount)))]
async fn find_staff(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<StaffAccount>> {
    require_administrator(&auth)?;
    Ok(Json(StaffAccount::from(state.staff.get_for(&auth.0, id).await?)))
}

/// `POST /api/v1/admin/staff`: the system admin creates an account in their areas, without
/// password or roles (the security admin gives those).
#[utoipa::path(post, path = "/api/v1/admin/staff", tag = "staff",
    summary = "Create an account in one's areas, without password or roles (admin)",
    security(("bearer" = []), ("cookie" = [])),
    request_body = NewAccountBody,
    responses((status = 201, description = "the account", body = StaffAccount)))]
async fn create_staff(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewAccountBody>,
) -> ApiResult<(StatusCode, Json<StaffAccount>)> {
    if !auth.0.has_role(Role::Admin) {
        return Err(ApiError::forbidden("creating accounts (the system administrator's duty)"));
    }
    let view = state.staff.create_account(&auth.0, body.into(), rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(StaffAccount::from(view))))
}

/// `PATCH /api/v1/admin/staff/{id}`: the organisation's fields by the admin, roles and a
/// one-time password by the security admin; the service checks which the caller may change.
#[utoipa::path(patch, path = "/api/v1/admin/staff/{id}", tag = "staff",
    summary = "Change an account: organisation (admin), roles and one-time password (security admin)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the account's id")),
    request_body = StaffPatchBody,
    responses((status = 200, description = "the account after the change", body = StaffAccount)))]
async fn update_staff(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StaffPatchBody>,
) -> ApiResult<Json<StaffAccount>> {
    require_administrator(&auth)?;
    Ok(Json(StaffAccount::from(state.staff.update(&auth.0, id, body.into(), rid.as_deref()).await?)))
}

#[utoipa::path(delete, path = "/api/v1/admin/staff/{id}/sessions", tag = "staff",
    summary = "End every session of an account (security admin)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the account's id")),
    responses((status = 200, description = "how many sessions ended", body = SessionsRevoked)))]
async fn revoke_sessions(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SessionsRevoked>> {
    require_security_admin(&auth)?;
    let sessions_revoked = state.staff.revoke_sessions(&auth.0, id, rid.as_deref()).await?;
    Ok(Json(SessionsRevoked { sessions_revoked }))
}

fn require_security_admin(auth: &Auth) -> ApiResult<()> {
    if auth.0.has_role(Role::SecurityAdmin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("sessions and API tokens (the security administrator's duty)"))
    }
}

/// Issues an API token for another system; the token is in this response only.
#[utoipa::path(post, path = "/api/v1/admin/api-tokens", tag = "staff",
    summary = "Issue an API token acting as an account; shown once (security admin)",
    security(("bearer" = []), ("cookie" = [])),
    request_body = NewToken,
    responses((status = 201, description = "the token, shown once", body = IssuedApiToken)))]
async fn issue_token(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedApiToken>)> {
    require_security_admin(&auth)?;
    let issued =
        state.staff.issue_api_token(&auth.0, body.staff_id, &body.name, body.valid_days, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(IssuedApiToken::from(issued))))
}

#[utoipa::path(delete, path = "/api/v1/admin/api-tokens/{id}", tag = "staff",
    summary = "Revoke an API token (security admin)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the token's id")),
    responses((status = 204, description = "revoked")))]
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
