//! Territory endpoints: point → grid routing, the grid map layer, and territory administration;
//! and the auditor's reads of the change and access records.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use civgrid_geo::{Datum, LngLat};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, RequestId};
use super::{AppState, IMPORT_BODY_LIMIT};
use crate::audit::{self, AccessFilter, ChangeFilter};
use crate::staff::Role;
use crate::territory::codes::{AreaCode, AreaLevel};
use crate::territory::ExistingGrids;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(locate))
        .routes(routes!(grids_geojson))
        .routes(routes!(list_areas))
        .routes(routes!(find_area))
        .routes(routes!(find_grid))
        .routes(routes!(create_area))
        .routes(routes!(rename_area))
        // Grid files are large: this route alone takes bodies up to IMPORT_BODY_LIMIT.
        .routes(routes!(import_grids).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
        .routes(routes!(rename_grid))
        .routes(routes!(assign_worker, unassign_worker))
        .routes(routes!(list_changes))
        .routes(routes!(list_access_records))
}

fn parse_datum(raw: Option<&str>) -> ApiResult<Datum> {
    match raw {
        None => Ok(Datum::Wgs84),
        Some(s) => s.parse().map_err(|e: civgrid_geo::datum::UnknownDatum| {
            ApiError::bad_request(ErrorCode::UnknownDatum, e.to_string())
        }),
    }
}

// ---- answers -------------------------------------------------------------------------------

/// A code with its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    pub code: String,
    pub name: String,
}

impl From<crate::territory::NamedCode> for Named {
    fn from(n: crate::territory::NamedCode) -> Named {
        Named { code: n.code, name: n.name }
    }
}

/// The point as the client sent it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocateInput {
    pub lng: f64,
    pub lat: f64,
    /// The datum it was read in (`wgs84` when none was named).
    pub datum: String,
}

/// A point in GCJ-02, the storage datum.
#[derive(Debug, Serialize, ToSchema)]
pub struct Gcj02Point {
    pub lng: f64,
    pub lat: f64,
}

/// `GET /api/v1/locate`: the grid and every area above it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Location {
    pub grid: Named,
    pub community: Named,
    pub subdistrict: Named,
    pub district: Named,
    pub input: LocateInput,
    pub gcj02: Gcj02Point,
}

/// An area (district, subdistrict or community).
#[derive(Debug, Serialize, ToSchema)]
pub struct Area {
    pub code: String,
    /// `district`, `subdistrict` or `community`.
    pub level: String,
    /// Null for the district.
    pub parent_code: Option<String>,
    pub name: String,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<crate::territory::AreaRow> for Area {
    fn from(a: crate::territory::AreaRow) -> Area {
        Area {
            code: a.code,
            level: a.level,
            parent_code: a.parent_code,
            name: a.name,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// `GET /api/v1/areas`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Areas {
    pub areas: Vec<Area>,
}

/// A grid worker of a grid, with their names (staff roles only: the public sees none).
#[derive(Debug, Serialize, ToSchema)]
pub struct GridWorker {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    /// `full_time` or `part_time`.
    pub kind: String,
}

impl From<crate::territory::WorkerRow> for GridWorker {
    fn from(w: crate::territory::WorkerRow) -> GridWorker {
        GridWorker { staff_id: w.staff_id, username: w.username, display_name: w.display_name, kind: w.kind }
    }
}

/// A grid's workers after an assignment changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridWorkers {
    pub workers: Vec<GridWorker>,
}

/// `GET /api/v1/grids/{code}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Grid {
    pub code: String,
    pub name: String,
    pub community_code: String,
    pub area_m2: f64,
    /// Always `gcj02`: the datum of `geometry`.
    pub datum: String,
    /// A GeoJSON (Multi)Polygon geometry.
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
    /// Empty unless the caller holds a role that works this grid's cases.
    pub workers: Vec<GridWorker>,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// `PATCH /api/v1/admin/grids/{code}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenamedGrid {
    pub code: String,
    pub name: String,
}

/// What an accepted grid import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub replaced: usize,
    pub areas_created: usize,
    /// The territory revision after the import.
    pub revision: i64,
}

impl From<crate::territory::ImportSummary> for ImportSummary {
    fn from(s: crate::territory::ImportSummary) -> ImportSummary {
        ImportSummary { created: s.created, replaced: s.replaced, areas_created: s.areas_created, revision: s.revision }
    }
}

/// One change record (留痕).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeEntry {
    pub id: i64,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// Who acted: `staff:ID:username`, `token:…`, `cli:…` or `system:…`.
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// The state before, as the context recorded it.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

impl From<audit::ChangeRecord> for ChangeEntry {
    fn from(c: audit::ChangeRecord) -> ChangeEntry {
        ChangeEntry {
            id: c.id,
            at: c.at,
            actor: c.actor,
            action: c.action,
            entity: c.entity,
            entity_id: c.entity_id,
            before: c.before,
            after: c.after,
            request_id: c.request_id,
        }
    }
}

/// `GET /api/v1/admin/changes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changes {
    pub changes: Vec<ChangeEntry>,
}

/// One read of personal data (查阅留痕).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    pub id: i64,
    #[serde(serialize_with = "super::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub actor: String,
    /// What the read was for (`case.read`, `licences.read`, …).
    pub purpose: String,
    pub subject_kind: String,
    pub subject: String,
    pub request_id: Option<String>,
}

impl From<audit::AccessRecord> for AccessEntry {
    fn from(a: audit::AccessRecord) -> AccessEntry {
        AccessEntry {
            id: a.id,
            at: a.at,
            actor: a.actor,
            purpose: a.purpose,
            subject_kind: a.subject_kind,
            subject: a.subject,
            request_id: a.request_id,
        }
    }
}

/// `GET /api/v1/admin/access-records`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRecords {
    pub access_records: Vec<AccessEntry>,
}

// ---- handlers ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct LocateQuery {
    /// Longitude, decimal degrees.
    #[param(minimum = -180, maximum = 180)]
    lng: f64,
    /// Latitude, decimal degrees.
    #[param(minimum = -90, maximum = 90)]
    lat: f64,
    /// wgs84 (default: GPS, CGCS2000), gcj02 (AMap/Tencent maps) or bd09 (Baidu maps), any case.
    datum: Option<String>,
}

/// `GET /api/v1/locate?lng=…&lat=…&datum=wgs84|gcj02|bd09` — which grid is this point in?
#[utoipa::path(get, path = "/api/v1/locate", tag = "territory",
    summary = "Which grid, community, subdistrict and district a point is in (?lng&lat&datum)",
    params(LocateQuery), responses((status = 200, description = "where the point is", body = Location)))]
async fn locate(State(state): State<AppState>, ApiQuery(q): ApiQuery<LocateQuery>) -> ApiResult<Json<Location>> {
    let datum = parse_datum(q.datum.as_deref())?;
    let point = LngLat::new(q.lng, q.lat).map_err(|e| ApiError::bad_request(coord_error(&e), e.to_string()))?;
    let found = state.territory.locate(point, datum).await?;
    Ok(Json(Location {
        grid: found.grid.into(),
        community: found.community.into(),
        subdistrict: found.subdistrict.into(),
        district: found.district.into(),
        input: LocateInput { lng: q.lng, lat: q.lat, datum: datum.as_str().to_owned() },
        gcj02: Gcj02Point { lng: found.lng_gcj02, lat: found.lat_gcj02 },
    }))
}

/// `GET /api/v1/grids.geojson` — every grid as a FeatureCollection (GCJ-02).
#[utoipa::path(get, path = "/api/v1/grids.geojson", tag = "territory",
    summary = "Every grid as a GeoJSON FeatureCollection (GCJ-02)",
    responses((status = 200, content_type = "application/geo+json", body = Object,
        description = "an RFC 7946 FeatureCollection with a top-level `datum` member (`gcj02`); each feature's \
            properties: code, name, community_code, community_name, subdistrict_code, subdistrict_name, \
            district_code, district_name, area_m2")))]
async fn grids_geojson(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let fc = state.territory.export_geojson().await?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], fc.to_string()))
}

#[utoipa::path(get, path = "/api/v1/areas", tag = "territory", summary = "The area hierarchy",
    responses((status = 200, description = "every area, by code", body = Areas)))]
async fn list_areas(State(state): State<AppState>) -> ApiResult<Json<Areas>> {
    Ok(Json(Areas { areas: state.territory.areas().await?.into_iter().map(Area::from).collect() }))
}

#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "territory", summary = "One area",
    params(("code" = String, Path, description = "the area's code (6, 9 or 12 digits)")),
    responses((status = 200, description = "the area", body = Area)))]
async fn find_area(State(state): State<AppState>, ApiPath(code): ApiPath<String>) -> ApiResult<Json<Area>> {
    Ok(Json(state.territory.area(&code).await?.into()))
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

/// Anyone may read a grid; its workers are listed only to the roles that work its cases.
#[utoipa::path(get, path = "/api/v1/grids/{code}", tag = "territory",
    summary = "One grid with geometry and grid workers",
    params(("code" = String, Path, description = "the grid's 14-digit code")),
    security((), ("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the grid", body = Grid)))]
async fn find_grid(
    State(state): State<AppState>,
    auth: Option<Auth>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Grid>> {
    let g = state.territory.grid(&code).await?;
    let sees_workers = auth.is_some_and(|a| SEES_GRID_WORKERS.iter().any(|r| a.0.can(*r, &g.code)));
    let workers = if sees_workers { state.territory.grid_workers(&code).await? } else { vec![] };
    let geometry: serde_json::Value = serde_json::from_str(&g.geometry).map_err(|e| ApiError::internal(&e))?;
    Ok(Json(Grid {
        code: g.code,
        name: g.name,
        community_code: g.community_code,
        area_m2: g.area_m2,
        datum: Datum::Gcj02.as_str().to_owned(),
        geometry,
        workers: workers.into_iter().map(GridWorker::from).collect(),
        created_at: g.created_at,
        updated_at: g.updated_at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewArea {
    /// A 9-digit subdistrict or 12-digit community code under an existing area.
    code: String,
    name: String,
}

/// Creates a subdistrict or community. Needs `admin` over its parent area.
#[utoipa::path(post, path = "/api/v1/admin/areas", tag = "territory", summary = "Create a subdistrict or community",
    security(("bearer" = []), ("cookie" = [])), request_body = NewArea,
    responses((status = 201, description = "the new area", body = Area)))]
async fn create_area(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<NewArea>,
) -> ApiResult<impl IntoResponse> {
    let parent: String = body.code.chars().take(body.code.len().saturating_sub(3)).collect();
    auth.require(Role::Admin, &parent, "creating areas here")?;
    let row = state.territory.create_area(&auth.0.actor(), &body.code, &body.name, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(Area::from(row))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Rename {
    /// 1–64 characters, no control characters.
    name: String,
}

#[utoipa::path(patch, path = "/api/v1/admin/areas/{code}", tag = "territory", summary = "Rename an area",
    security(("bearer" = []), ("cookie" = [])), request_body = Rename,
    params(("code" = String, Path, description = "the area's code")),
    responses((status = 200, description = "the renamed area", body = Area)))]
async fn rename_area(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<Rename>,
) -> ApiResult<Json<Area>> {
    auth.require(Role::Admin, &code, "renaming this area")?;
    Ok(Json(state.territory.rename_area(&auth.0.actor(), &code, &body.name, rid.as_deref()).await?.into()))
}

#[utoipa::path(patch, path = "/api/v1/admin/grids/{code}", tag = "territory", summary = "Rename a grid",
    security(("bearer" = []), ("cookie" = [])), request_body = Rename,
    params(("code" = String, Path, description = "the grid's code")),
    responses((status = 200, description = "the grid's code and new name", body = RenamedGrid)))]
async fn rename_grid(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<Rename>,
) -> ApiResult<Json<RenamedGrid>> {
    auth.require(Role::Admin, &code, "renaming this grid")?;
    state.territory.rename_grid(&auth.0.actor(), &code, &body.name, rid.as_deref()).await?;
    Ok(Json(RenamedGrid { code, name: body.name.trim().to_owned() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// The datum the file's coordinates are in; required, because guessing wrong moves every
    /// grid by hundreds of metres.
    datum: Option<String>,
    /// `true` lets the file redraw grids that already exist.
    replace: Option<bool>,
}

/// `POST /api/v1/admin/grids/import?datum=…` with a GeoJSON FeatureCollection body.
#[utoipa::path(post, path = "/api/v1/admin/grids/import", tag = "territory",
    summary = "Import a grid FeatureCollection, all or nothing (?datum&replace)",
    security(("bearer" = []), ("cookie" = [])), params(ImportQuery),
    request_body(description = "a GeoJSON FeatureCollection of grids (up to 64 MiB)",
        content((Object = "application/geo+json"), (Object = "application/json"))),
    responses((status = 200, description = "what the import did; a refused file answers 422 import_refused \
        with every problem in error.details.problems", body = ImportSummary)))]
async fn import_grids(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportSummary>> {
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
    Ok(Json(summary.into()))
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assignment {
    /// `full_time` or `part_time` (兼职网格员).
    #[schema(pattern = "^(full_time|part_time)$")]
    kind: String,
}

async fn workers_of(state: &AppState, code: &str) -> ApiResult<Json<GridWorkers>> {
    let workers = state.territory.grid_workers(code).await?;
    Ok(Json(GridWorkers { workers: workers.into_iter().map(GridWorker::from).collect() }))
}

#[utoipa::path(put, path = "/api/v1/admin/grids/{code}/workers/{staff_id}", tag = "territory",
    summary = "Assign a grid worker (full_time or part_time)",
    security(("bearer" = []), ("cookie" = [])), request_body = Assignment,
    params(("code" = String, Path, description = "the grid's code"),
           ("staff_id" = i64, Path, description = "the staff account's id")),
    responses((status = 200, description = "the grid's workers", body = GridWorkers)))]
async fn assign_worker(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath((code, staff_id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<Assignment>,
) -> ApiResult<Json<GridWorkers>> {
    auth.require(Role::Admin, &code, "assigning grid workers here")?;
    require_manages(&state, &auth, staff_id).await?;
    state.territory.assign_worker(&auth.0.actor(), &code, staff_id, &body.kind, rid.as_deref()).await?;
    workers_of(&state, &code).await
}

#[utoipa::path(delete, path = "/api/v1/admin/grids/{code}/workers/{staff_id}", tag = "territory",
    summary = "Remove a grid worker",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "the grid's code"),
           ("staff_id" = i64, Path, description = "the staff account's id")),
    responses((status = 200, description = "the grid's workers", body = GridWorkers)))]
async fn unassign_worker(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath((code, staff_id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<GridWorkers>> {
    auth.require(Role::Admin, &code, "removing grid workers here")?;
    require_manages(&state, &auth, staff_id).await?;
    state.territory.unassign_worker(&auth.0.actor(), &code, staff_id, rid.as_deref()).await?;
    workers_of(&state, &code).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ChangesQuery {
    /// Only records of this entity kind (`case`, `area`, `staff`, …).
    entity: Option<String>,
    /// Only records of this entity.
    entity_id: Option<String>,
    /// Records older than this id (the next page).
    before_id: Option<i64>,
    /// 1–1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
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
#[utoipa::path(get, path = "/api/v1/admin/changes", tag = "audit",
    summary = "The change record, newest first (the auditor of a district-level area)",
    security(("bearer" = []), ("cookie" = [])), params(ChangesQuery),
    responses((status = 200, description = "change records, newest first", body = Changes)))]
async fn list_changes(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> ApiResult<Json<Changes>> {
    require_district_auditor(&auth, "reading the change record (the district auditor's duty)")?;
    let limit = check_limit(q.limit)?;
    let filter = ChangeFilter { entity: q.entity, entity_id: q.entity_id, before_id: q.before_id, limit };
    let changes = audit::list(&state.db, &filter).await?;
    Ok(Json(Changes { changes: changes.into_iter().map(ChangeEntry::from).collect() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AccessQuery {
    /// Only reads of this kind of record (`case`, `applicant`, `application`, `certificate`).
    subject_kind: Option<String>,
    /// Only reads of this record.
    subject: Option<String>,
    /// Only reads by this actor label.
    actor: Option<String>,
    /// Records older than this id (the next page).
    before_id: Option<i64>,
    /// 1–1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// `GET /api/v1/admin/access-records`: who read which personal data (查阅留痕), newest
/// first: the district's auditor only.
#[utoipa::path(get, path = "/api/v1/admin/access-records", tag = "audit",
    summary = "Who read which personal data (查阅留痕), newest first (the auditor of a district-level area)",
    security(("bearer" = []), ("cookie" = [])), params(AccessQuery),
    responses((status = 200, description = "access records, newest first", body = AccessRecords)))]
async fn list_access_records(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> ApiResult<Json<AccessRecords>> {
    require_district_auditor(&auth, "reading the access record (the district auditor's duty)")?;
    let limit = check_limit(q.limit)?;
    let filter = AccessFilter {
        subject_kind: q.subject_kind,
        subject: q.subject,
        actor: q.actor,
        before_id: q.before_id,
        limit,
    };
    let records = audit::list_access(&state.db, &filter).await?;
    Ok(Json(AccessRecords { access_records: records.into_iter().map(AccessEntry::from).collect() }))
}

fn coord_error(e: &civgrid_geo::coord::CoordError) -> ErrorCode {
    use civgrid_geo::coord::CoordError;
    match e {
        CoordError::NotFinite => ErrorCode::CoordinateNotFinite,
        CoordError::LngOutOfRange(_) | CoordError::LatOutOfRange(_) => ErrorCode::CoordinateOutOfRange,
    }
}
