//! Sign-in and staff administration endpoints.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{request_token, ApiJson, ApiPath, Auth, RequestId, SESSION_COOKIE};
use super::AppState;
use crate::staff::{NewStaff, Role, RoleGrant, StaffPatch};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/admin/departments", get(list_departments))
        .route("/api/v1/admin/departments/{code}", put(put_department))
        .route("/api/v1/admin/staff", get(list_staff).post(create_staff))
        .route("/api/v1/admin/staff/{id}", get(find_staff).patch(update_staff))
        .route("/api/v1/admin/staff/{id}/sessions", delete(revoke_sessions))
        .route("/api/v1/admin/api-tokens", post(issue_token))
        .route("/api/v1/admin/api-tokens/{id}", delete(revoke_token))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

/// `POST /api/v1/auth/login`: opens a server-side session, returned both as an HttpOnly
/// cookie (browsers) and in the body (apps and scripts send it as a bearer token).
async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Response> {
    let ip = connect.map(|Extension(ConnectInfo(a))| a.ip().to_string()).unwrap_or_else(|| "unknown".into());
    let outcome = state.staff.login(&body.username, &body.password, &ip).await?;
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

async fn me(auth: Auth) -> Json<Value> {
    Json(json!(auth.0))
}

fn require_admin(auth: &Auth) -> ApiResult<()> {
    if auth.0.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("administration"))
    }
}

/// An admin may only hand out or change roles inside the areas they administer.
fn require_grants(auth: &Auth, grants: &[RoleGrant]) -> ApiResult<()> {
    for g in grants {
        auth.require(Role::Admin, &g.area_code, &format!("granting {} in {}", g.role.as_str(), g.area_code))?;
    }
    Ok(())
}

async fn list_departments(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    require_admin(&auth)?;
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
    let d = state.staff.put_department(&auth.0.actor(), &code, &body.name, &body.area_code, rid.as_deref()).await?;
    Ok(Json(json!(d)))
}

async fn list_staff(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    require_admin(&auth)?;
    Ok(Json(json!({"staff": state.staff.list().await?})))
}

async fn find_staff(State(state): State<AppState>, auth: Auth, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Value>> {
    require_admin(&auth)?;
    Ok(Json(json!(state.staff.get(id).await?)))
}

async fn create_staff(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewStaff>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&auth)?;
    require_grants(&auth, &body.roles)?;
    let view = state.staff.create(&auth.0.actor(), body, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

async fn update_staff(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StaffPatch>,
) -> ApiResult<Json<Value>> {
    require_admin(&auth)?;
    let current = state.staff.get(id).await?;
    require_grants(&auth, &current.roles)?;
    if let Some(roles) = &body.roles {
        require_grants(&auth, roles)?;
    }
    for g in body.grids.iter().flatten() {
        auth.require(Role::Admin, g.code.trim(), &format!("assigning grid {}", g.code.trim()))?;
    }
    Ok(Json(json!(state.staff.update(&auth.0.actor(), id, body, rid.as_deref()).await?)))
}

async fn revoke_sessions(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    require_admin(&auth)?;
    require_grants(&auth, &state.staff.get(id).await?.roles)?;
    let n = state.staff.revoke_sessions(&auth.0.actor(), id, rid.as_deref()).await?;
    Ok(Json(json!({"sessions_revoked": n})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    staff_id: i64,
    name: String,
}

/// Issues an API token for another system; the token is in this response only.
async fn issue_token(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<impl IntoResponse> {
    require_admin(&auth)?;
    require_grants(&auth, &state.staff.get(body.staff_id).await?.roles)?;
    let (id, token) = state.staff.issue_api_token(&auth.0.actor(), body.staff_id, &body.name, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "token": token, "staff_id": body.staff_id}))))
}

async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require_admin(&auth)?;
    state.staff.revoke_api_token(&auth.0.actor(), id, rid.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
