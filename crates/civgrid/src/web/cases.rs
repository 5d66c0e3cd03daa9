//! Case-loop endpoints: the catalogue, the working calendar, reports, cases and transitions.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, MaybeAuth, RequestId};
use super::limit::{Budget, ClientAddr};
use super::AppState;
use crate::cases::{CaseClass, NewReport, ReporterRating, TransitionRequest};
use crate::staff::Role;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/case-classes", get(list_classes))
        .route("/api/v1/admin/case-classes/{code}", put(put_class))
        .route("/api/v1/admin/calendar", get(list_calendar))
        .route("/api/v1/admin/last-resort", get(list_last_resort))
        .route("/api/v1/admin/last-resort/{area}", put(put_last_resort).delete(delete_last_resort))
        .route("/api/v1/admin/calendar/{day}", put(put_day).delete(delete_day))
        .route("/api/v1/reports", post(report))
        .route("/api/v1/cases", get(list_cases))
        .route("/api/v1/map/cases", get(map_cases))
        .route("/api/v1/cases/{id}", get(find_case))
        .route("/api/v1/cases/{id}/transitions", post(transition))
        .route("/api/v1/public/cases/{number}/rating", post(reporter_rating))
        .route("/api/v1/indicators", get(indicators))
        .route(
            "/api/v1/cases/{id}/photos",
            get(list_photos)
                .post(add_photo)
                .layer(axum::extract::DefaultBodyLimit::max(crate::cases::MAX_PHOTO_BYTES + 1024)),
        )
        .route("/api/v1/cases/{id}/photos/{photo_id}", get(get_photo))
        .route(
            "/api/v1/public/cases/{number}/photos",
            post(reporter_photo).layer(axum::extract::DefaultBodyLimit::max(crate::cases::MAX_PHOTO_BYTES + 1024)),
        )
}

async fn list_classes(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"classes": state.cases.classes().await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassBody {
    kind: String,
    major_code: String,
    major_name: String,
    minor_name: String,
    filing_criteria: String,
    closing_criteria: String,
    time_limit: i64,
    time_limit_unit: String,
    department_code: String,
    duplicate_radius_m: f64,
    duplicate_window_hours: i64,
    self_handle_allowed: bool,
    active: bool,
}

/// Adds a new version of a catalogue class. Needs `admin` over the district.
async fn put_class(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<ClassBody>,
) -> ApiResult<Json<Value>> {
    require_district_admin(&state, &auth).await?;
    let class = CaseClass {
        code,
        version: 0,
        kind: b.kind,
        major_code: b.major_code,
        major_name: b.major_name,
        minor_name: b.minor_name,
        filing_criteria: b.filing_criteria,
        closing_criteria: b.closing_criteria,
        time_limit: b.time_limit,
        time_limit_unit: b.time_limit_unit,
        department_code: b.department_code,
        duplicate_radius_m: b.duplicate_radius_m,
        duplicate_window_hours: b.duplicate_window_hours,
        self_handle_allowed: b.self_handle_allowed,
        active: b.active,
    };
    Ok(Json(json!(state.cases.put_class(auth.0.actor().label(), class).await?)))
}

async fn require_district_admin(state: &AppState, auth: &Auth) -> ApiResult<()> {
    let district = state.territory.areas().await?.into_iter().find(|a| a.level == "district").map(|a| a.code);
    match district {
        Some(d) => auth.require(Role::Admin, &d, "changing the catalogue or calendar"),
        None => Err(ApiError::from(crate::territory::TerritoryError::NoTerritory)),
    }
}

async fn list_calendar(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let _ = auth;
    let days: Vec<Value> = state
        .cases
        .calendar_days()
        .await?
        .into_iter()
        .map(|(d, k, n)| json!({"day": d, "kind": k, "note": n}))
        .collect();
    Ok(Json(json!({"days": days})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DayBody {
    kind: String,
    #[serde(default)]
    note: String,
}

async fn list_last_resort(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let _ = auth;
    let list: Vec<Value> = state
        .cases
        .last_resorts()
        .await?
        .into_iter()
        .map(|(a, d)| json!({"area_code": a, "department_code": d}))
        .collect();
    Ok(Json(json!({"last_resort": list})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LastResortBody {
    department_code: String,
}

/// Sets an area's owner of last resort (兜底部门). Needs `admin` over the district.
async fn put_last_resort(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(area): ApiPath<String>,
    ApiJson(b): ApiJson<LastResortBody>,
) -> ApiResult<StatusCode> {
    require_district_admin(&state, &auth).await?;
    state.cases.put_last_resort(&auth.0.actor(), &area, Some(&b.department_code), rid.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_last_resort(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(area): ApiPath<String>,
) -> ApiResult<StatusCode> {
    require_district_admin(&state, &auth).await?;
    state.cases.put_last_resort(&auth.0.actor(), &area, None, rid.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn put_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(day): ApiPath<String>,
    ApiJson(b): ApiJson<DayBody>,
) -> ApiResult<StatusCode> {
    require_district_admin(&state, &auth).await?;
    state.cases.put_calendar_day(&day, Some(&b.kind), &b.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_day(State(state): State<AppState>, auth: Auth, ApiPath(day): ApiPath<String>) -> ApiResult<StatusCode> {
    require_district_admin(&state, &auth).await?;
    state.cases.put_calendar_day(&day, None, "").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/reports`: anyone may report (citizens anonymously, within the address's
/// report budget); a signed-in caller is recorded as the reporter. An `Idempotency-Key` header
/// (or field) makes retries safe.
async fn report(
    State(state): State<AppState>,
    MaybeAuth(staff): MaybeAuth,
    addr: ClientAddr,
    headers: HeaderMap,
    ApiJson(mut body): ApiJson<NewReport>,
) -> ApiResult<impl IntoResponse> {
    let reporter = match staff {
        Some(p) => p.actor().label().to_owned(),
        None => {
            state.limits.spend(Budget::AnonymousReport, addr)?;
            crate::cases::REPORTER_ACTOR.to_owned()
        }
    };
    if body.idempotency_key.is_none() {
        body.idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    }
    let outcome = state.cases.report(&reporter, body).await?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(outcome)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
}

async fn list_cases(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let cases = state.cases.list(&auth.0, q.state.as_deref(), q.limit.unwrap_or(100), rid.as_deref()).await?;
    Ok(Json(json!({"cases": cases})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapQuery {
    limit: Option<i64>,
}

/// `GET /api/v1/map/cases?limit=10000`: the newest live cases the caller may see that have a
/// place, with only what the command map draws (up to 20,000; default 10,000), compact:
/// `{"fields": ["id", …], "cases": [[…], …]}`. The rows come from the database as JSON text
/// and are passed through.
async fn map_cases(State(state): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<MapQuery>) -> ApiResult<Response> {
    let rows = state.cases.map_json(&auth.0, q.limit.unwrap_or(10_000)).await?;
    let fields = json!(crate::cases::MAP_CASE_FIELDS);
    Ok(([(header::CONTENT_TYPE, "application/json")], format!("{{\"fields\":{fields},\"cases\":{rows}}}"))
        .into_response())
}

async fn find_case(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.cases.get(&auth.0, id, rid.as_deref()).await?)))
}

async fn transition(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TransitionRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.cases.transition(&auth.0, id, req).await?)))
}

/// `POST /api/v1/public/cases/{number}/rating`: the reporter rates their closed case (评价)
/// without signing in; the contact they left with the report shows that the case is theirs.
/// The answer says only what the portal may show anyone. Each try spends the address's lookup
/// budget; wrong contacts are also counted per case in the database.
async fn reporter_rating(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<ReporterRating>,
) -> ApiResult<impl IntoResponse> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    let case = state.cases.rate_as_reporter(&number, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"number": case.number, "state": case.state, "rating": case.rating}))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorQuery {
    /// `area:CODE`, `department:CODE` or `person:STAFF_ID`.
    scope: String,
    /// `YYYY-MM-DD` (00:00 China Standard Time) or RFC 3339.
    from: String,
    to: String,
}

/// `GET /api/v1/indicators?scope=area:440604010&from=2026-11-01&to=2026-12-01`.
/// District-level supervisory roles see every scope; others only their own area or themselves.
async fn indicators(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> ApiResult<Json<Value>> {
    use crate::cases::indicators::Scope;
    let scope = Scope::parse(&q.scope).ok_or_else(|| {
        ApiError::bad_request(ErrorCode::InvalidScope, "scope must be area:CODE, department:CODE or person:STAFF_ID")
    })?;
    let supervisory = [Role::Commander, Role::Admin, Role::Auditor, Role::ShiftLeader, Role::Dispatcher];
    let allowed = match &scope {
        Scope::Area(code) => supervisory.iter().any(|r| auth.0.can(*r, code)),
        Scope::Person(id) => {
            *id == auth.0.staff_id
                || supervisory.iter().any(|r| auth.0.roles.iter().any(|g| g.role == *r && g.area_code.len() == 6))
        }
        Scope::Department(d) => {
            auth.0.department_code.as_deref() == Some(d.as_str())
                || supervisory.iter().any(|r| auth.0.roles.iter().any(|g| g.role == *r && g.area_code.len() == 6))
        }
    };
    if !allowed {
        return Err(ApiError::forbidden("reading these indicators"));
    }
    let (from, to) = (super::wire::instant(&q.from, "from")?, super::wire::instant(&q.to, "to")?);
    let ind = state.cases.indicators(&scope, from, to).await?;
    Ok(Json(json!({"scope": q.scope, "from": from, "to": to, "indicators": ind})))
}

/// An uploaded photo: the image as the request's body, its declared type (checked against the
/// bytes by the domain).
type PhotoBody = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

fn declared_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// `POST /api/v1/cases/{id}/photos` with the image as the body (`image/jpeg|png|webp`, ≤ 5 MiB).
async fn add_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: PhotoBody,
) -> ApiResult<impl IntoResponse> {
    let meta = state.cases.add_photo(&auth.0, id, declared_type(&headers), &body?).await?;
    Ok((StatusCode::CREATED, Json(json!(meta))))
}

/// `POST /api/v1/public/cases/{number}/photos`: a citizen who reported without signing in
/// attaches a photo (the image as the body, as above), showing in `X-Photo-Key` the key the
/// report's answer gave them.
async fn reporter_photo(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiPath(number): ApiPath<String>,
    headers: HeaderMap,
    body: PhotoBody,
) -> ApiResult<impl IntoResponse> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    let key = headers.get("x-photo-key").and_then(|v| v.to_str().ok());
    let meta = state.cases.add_photo_as_reporter(&number, key, declared_type(&headers), &body?).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": meta.id, "content_type": meta.content_type, "size": meta.size}))))
}

async fn list_photos(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"photos": state.cases.photos(&auth.0, id, rid.as_deref()).await?})))
}

async fn get_photo(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath((id, photo_id)): ApiPath<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    let (content_type, bytes) = state.cases.photo(&auth.0, id, photo_id, rid.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes))
}
