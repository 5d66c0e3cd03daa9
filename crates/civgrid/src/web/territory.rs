//! Territory endpoints: point → grid routing, the grid map layer, and territory administration.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use civgrid_geo::{Datum, LngLat};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, RequestId};
use super::{AppState, IMPORT_BODY_LIMIT};
use crate::audit::{self, AccessFilter, ChangeFilter};
use crate::staff::Role;
use crate::territory::codes::{AreaCode, AreaLevel};
use crate::territory::ExistingGrids;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/locate", get(locate))
        .route("/api/v1/grids.geojson", get(grids_geojson))
        .route("/api/v1/areas", get(list_areas))
        .route("/api/v1/areas/{code}", get(find_area))
        .route("/api/v1/grids/{code}", get(find_grid))
        .route("/api/v1/admin/areas", post(create_area))
        .route("/api/v1/admin/areas/{code}", patch(rename_area))
        .route("/api/v1/admin/grids/import", post(import_grids).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
        .route("/api/v1/admin/grids/{code}", patch(rename_grid))
        .route("/api/v1/admin/grids/{code}/workers/{staff_id}", put(assign_worker).delete(unassign_worker))
        .route("/api/v1/admin/changes", get(list_changes))
        .route("/api/v1/admin/access-records", get(list_access_records))
}

fn parse_datum(raw: Option<&str>) -> ApiResult<Datum> {
    match raw {
        None => Ok(Datum::Wgs84),
        Some(s) => s.parse().map_err(|e: civgrid_geo::datum::UnknownDatum| {
            ApiError::bad_request(ErrorCode::UnknownDatum, e.to_string())
        }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocateQuery {
    lng: f64,
    lat: f64,
    /// wgs84 (default: GPS, CGCS2000), gcj02 (AMap/Tencent maps) or bd09 (Baidu maps).
    datum: Option<String>,
}

/// `GET /api/v1/locate?lng=…&lat=…&datum=wgs84|gcj02|bd09` — which grid is this point in?
async fn locate(State(state): State<AppState>, ApiQuery(q): ApiQuery<LocateQuery>) -> ApiResult<Json<Value>> {
    let datum = parse_datum(q.datum.as_deref())?;
    let point = LngLat::new(q.lng, q.lat).map_err(|e| ApiError::bad_request(coord_error(&e), e.to_string()))?;
    let found = state.territory.locate(point, datum).await?;
    Ok(Json(json!({
        "grid": found.grid,
        "community": found.community,
        "subdistrict": found.subdistrict,
        "district": found.district,
        "input": {"lng": q.lng, "lat": q.lat, "datum": datum.as_str()},
        "gcj02": {"lng": found.lng_gcj02, "lat": found.lat_gcj02},
    })))
}

/// `GET /api/v1/grids.geojson` — every grid as a FeatureCollection (GCJ-02).
async fn grids_geojson(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let fc = state.territory.export_geojson().await?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], fc.to_string()))
}

async fn list_areas(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"areas": state.territory.areas().await?})))
}

async fn find_area(State(state): State<AppState>, ApiPath(code): ApiPath<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.territory.area(&code).await?)))
}

/// Roles that read a grid's cases (the case loop, and the admin and auditor who read cases of
/// their areas) and may see its grid workers; the public sees the grid without them (no staff
/// names or usernames to the world).
const SEES_GRID_WORKERS: [Role; 8] = [
    Role::GridWorker,
    Role::IntakeOperator,
    Role::ShiftLeader,
    Role::Dispatcher,
    Role::Commander,
    Role::Handler,
    Role::Admin,
    Role::Auditor,
];

async fn find_grid(
    State(state): State<AppState>,
    auth: Option<Auth>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let g = state.territory.grid(&code).await?;
    let sees_workers = auth.is_some_and(|a| SEES_GRID_WORKERS.iter().any(|r| a.0.can(*r, &g.code)));
    let workers = if sees_workers { json!(state.territory.grid_workers(&code).await?) } else { json!([]) };
    let geometry: Value = serde_json::from_str(&g.geometry).map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({
        "code": g.code, "name": g.name, "community_code": g.community_code, "area_m2": g.area_m2,
        "datum": "gcj02", "geometry": geometry, "workers": workers,
        "created_at": g.created_at, "updated_at": g.updated_at,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewArea {
    code: String,
    name: String,
}

/// Creates a subdistrict or community. Needs `admin` over its parent area.
async fn create_area(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewArea>,
) -> ApiResult<impl IntoResponse> {
    let parent: String = body.code.chars().take(body.code.len().saturating_sub(3)).collect();
    auth.require(Role::Admin, &parent, "creating areas here")?;
    let row = state.territory.create_area(&auth.0.actor(), &body.code, &body.name, rid.as_deref()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(row))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    name: String,
}

async fn rename_area(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<Rename>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin, &code, "renaming this area")?;
    Ok(Json(json!(state.territory.rename_area(&auth.0.actor(), &code, &body.name, rid.as_deref()).await?)))
}

async fn rename_grid(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<Rename>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin, &code, "renaming this grid")?;
    state.territory.rename_grid(&auth.0.actor(), &code, &body.name, rid.as_deref()).await?;
    Ok(Json(json!({"code": code, "name": body.name.trim()})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// The datum the file's coordinates are in; required, because guessing wrong moves every
    /// grid by hundreds of metres.
    datum: Option<String>,
    /// `true` lets the file redraw grids that already exist.
    replace: Option<bool>,
}

/// `POST /api/v1/admin/grids/import?datum=…` with a GeoJSON FeatureCollection body.
async fn import_grids(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = body.map_err(ApiError::from)?;
    let district = state.territory.areas().await?.into_iter().find(|a| a.level == "district").map(|a| a.code);
    let district = district.ok_or_else(|| ApiError::from(crate::territory::TerritoryError::NoTerritory))?;
    auth.require(Role::Admin, &district, "importing grids")?;
    let Some(raw) = q.datum.as_deref() else {
        return Err(ApiError::bad_request(
            ErrorCode::MissingDatum,
            "say which datum the file is in: ?datum=wgs84|gcj02|bd09",
        ));
    };
    let datum = parse_datum(Some(raw))?;
    let existing = if q.replace.unwrap_or(false) { ExistingGrids::Replace } else { ExistingGrids::Refuse };
    let summary = state.territory.import_grids(&auth.0.actor(), &body, datum, existing, rid.as_deref()).await?;
    Ok(Json(json!(summary)))
}

/// The admin may assign only accounts they manage (in their areas, holding working roles).
async fn require_manages(state: &AppState, auth: &Auth, staff_id: i64) -> ApiResult<()> {
    let account = state.staff.get_for(&auth.0, staff_id).await?;
    if auth.0.manages(Role::Admin, &account) {
        Ok(())
    } else {
        Err(ApiError::forbidden("assigning this account (outside your areas or not yours to manage)"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignment {
    kind: String,
}

async fn assign_worker(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath((code, staff_id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<Assignment>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin, &code, "assigning grid workers here")?;
    require_manages(&state, &auth, staff_id).await?;
    state.territory.assign_worker(&auth.0.actor(), &code, staff_id, &body.kind, rid.as_deref()).await?;
    Ok(Json(json!({"workers": state.territory.grid_workers(&code).await?})))
}

async fn unassign_worker(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath((code, staff_id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin, &code, "removing grid workers here")?;
    require_manages(&state, &auth, staff_id).await?;
    state.territory.unassign_worker(&auth.0.actor(), &code, staff_id, rid.as_deref()).await?;
    Ok(Json(json!({"workers": state.territory.grid_workers(&code).await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    before_id: Option<i64>,
    limit: Option<i64>,
}

/// The change and access records carry no area (a record names an entity, not where it
/// lies), so they cannot be cut by area: they are read by the auditor holding the role for
/// the whole district, and by nobody else — not the administrators whose actions they record
/// (等保 三权分立: the auditor audits, and writes nothing).
fn require_district_auditor(auth: &Auth, what: &str) -> ApiResult<()> {
    let district_wide = |code: &str| AreaCode::parse(code).is_ok_and(|a| a.level() == AreaLevel::District);
    if auth.0.roles.iter().any(|g| g.role == Role::Auditor && district_wide(&g.area_code)) {
        Ok(())
    } else {
        Err(ApiError::forbidden(what))
    }
}

fn check_limit(limit: Option<i64>) -> ApiResult<i64> {
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(ErrorCode::InvalidLimit, "limit must be 1–1000"));
    }
    Ok(limit)
}

/// The change record, newest first: the district's auditor only.
async fn list_changes(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> ApiResult<Json<Value>> {
    require_district_auditor(&auth, "reading the change record (the district auditor's duty)")?;
    let limit = check_limit(q.limit)?;
    let filter = ChangeFilter { entity: q.entity, entity_id: q.entity_id, before_id: q.before_id, limit };
    Ok(Json(json!({"changes": audit::list(&state.db, &filter).await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessQuery {
    subject_kind: Option<String>,
    subject: Option<String>,
    actor: Option<String>,
    before_id: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/admin/access-records`: who read which personal data (查阅留痕), newest
/// first: the district's auditor only.
async fn list_access_records(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> ApiResult<Json<Value>> {
    require_district_auditor(&auth, "reading the access record (the district auditor's duty)")?;
    let limit = check_limit(q.limit)?;
    let filter = AccessFilter {
        subject_kind: q.subject_kind,
        subject: q.subject,
        actor: q.actor,
        before_id: q.before_id,
        limit,
    };
    Ok(Json(json!({"access_records": audit::list_access(&state.db, &filter).await?})))
}

fn coord_error(e: &civgrid_geo::coord::CoordError) -> ErrorCode {
    use civgrid_geo::coord::CoordError;
    match e {
        CoordError::NotFinite => ErrorCode::CoordinateNotFinite,
        CoordError::LngOutOfRange(_) | CoordError::LatOutOfRange(_) => ErrorCode::CoordinateOutOfRange,
    }
}
