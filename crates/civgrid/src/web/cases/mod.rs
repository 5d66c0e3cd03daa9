//! Case-loop endpoints: the catalogue, the working calendar, reports, cases and transitions.

mod views;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, MaybeAuth, RequestId};
use super::limit::{Budget, ClientAddr};
use super::AppState;
use crate::staff::Role;
pub use views::*;

pub fn routes() -> OpenApiRouter<AppState> {
    // Only the photo uploads take bodies larger than the default limit.
    let photos = OpenApiRouter::new()
        .routes(routes!(list_photos, add_photo))
        .routes(routes!(reporter_photo))
        .layer(DefaultBodyLimit::max(crate::cases::MAX_PHOTO_BYTES + 1024));
    OpenApiRouter::new()
        .routes(routes!(list_classes))
        .routes(routes!(put_class))
        .routes(routes!(list_calendar))
        .routes(routes!(list_last_resort))
        .routes(routes!(put_last_resort, delete_last_resort))
        .routes(routes!(put_day, delete_day))
        .routes(routes!(report))
        .routes(routes!(list_cases))
        .routes(routes!(map_cases))
        .routes(routes!(find_case))
        .routes(routes!(transition))
        .routes(routes!(reporter_rating))
        .routes(routes!(indicators))
        .routes(routes!(get_photo))
        .merge(photos)
}

#[utoipa::path(get, path = "/api/v1/case-classes", tag = "cases", summary = "The catalogue of event and component classes",
    responses((status = 200, description = "the current version of every class", body = Classes)))]
async fn list_classes(State(state): State<AppState>) -> ApiResult<Json<Classes>> {
    let classes = state.cases.classes().await?.into_iter().map(ClassView::from).collect();
    Ok(Json(Classes { classes }))
}

/// Adds a new version of a catalogue class. Needs `admin` over the district.
#[utoipa::path(put, path = "/api/v1/admin/case-classes/{code}", tag = "cases", summary = "Add a new version of a class",
    security(("bearer" = []), ("cookie" = [])),
    params(("code" = String, Path, description = "the class's code (2–16 letters or digits)")),
    request_body = ClassBody,
    responses((status = 200, description = "the version added", body = ClassView)))]
async fn put_class(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<ClassBody>,
) -> ApiResult<Json<ClassView>> {
    require_district_admin(&state, &auth).await?;
    let class = state.cases.put_class(auth.0.actor().label(), b.into_class(code)).await?;
    Ok(Json(class.into()))
}

async fn require_district_admin(state: &AppState, auth: &Auth) -> ApiResult<()> {
    let district = state.territory.areas().await?.into_iter().find(|a| a.level == "district").map(|a| a.code);
    match district {
        Some(d) => auth.require(Role::Admin, &d, "changing the catalogue or calendar"),
        None => Err(ApiError::from(crate::territory::TerritoryError::NoTerritory)),
    }
}

#[utoipa::path(get, path = "/api/v1/admin/calendar", tag = "cases", summary = "Holidays and make-up working days",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the exceptions to the working week", body = CalendarDays)))]
async fn list_calendar(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<CalendarDays>> {
    // Any signed-in staff member may read the calendar time limits are counted on.
    let _ = auth;
    let days = state
        .cases
        .calendar_days()
        .await?
        .into_iter()
        .map(|(day, kind, note)| CalendarDay { day, kind, note })
        .collect();
    Ok(Json(CalendarDays { days }))
}

#[utoipa::path(get, path = "/api/v1/admin/last-resort", tag = "cases", summary = "Owners of last resort (兜底部门) per area",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "every area's owner of last resort", body = LastResorts)))]
async fn list_last_resort(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<LastResorts>> {
    let _ = auth;
    let last_resort = state
        .cases
        .last_resorts()
        .await?
        .into_iter()
        .map(|(area_code, department_code)| LastResort { area_code, department_code })
        .collect();
    Ok(Json(LastResorts { last_resort }))
}

/// Sets an area's owner of last resort (兜底部门). Needs `admin` over the district.
#[utoipa::path(put, path = "/api/v1/admin/last-resort/{area}", tag = "cases", summary = "Set an area's owner of last resort",
    security(("bearer" = []), ("cookie" = [])),
    params(("area" = String, Path, description = "a district, subdistrict or community code")),
    request_body = LastResortBody,
    responses((status = 204, description = "set")))]
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

#[utoipa::path(delete, path = "/api/v1/admin/last-resort/{area}", tag = "cases", summary = "Clear an area's owner of last resort",
    security(("bearer" = []), ("cookie" = [])),
    params(("area" = String, Path, description = "a district, subdistrict or community code")),
    responses((status = 204, description = "cleared")))]
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

#[utoipa::path(put, path = "/api/v1/admin/calendar/{day}", tag = "cases", summary = "Mark a day as holiday or workday",
    security(("bearer" = []), ("cookie" = [])),
    params(("day" = String, Path, description = "YYYY-MM-DD")),
    request_body = DayBody,
    responses((status = 204, description = "marked")))]
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

#[utoipa::path(delete, path = "/api/v1/admin/calendar/{day}", tag = "cases", summary = "Remove a calendar exception",
    security(("bearer" = []), ("cookie" = [])),
    params(("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204, description = "removed")))]
async fn delete_day(State(state): State<AppState>, auth: Auth, ApiPath(day): ApiPath<String>) -> ApiResult<StatusCode> {
    require_district_admin(&state, &auth).await?;
    state.cases.put_calendar_day(&day, None, "").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/reports`: anyone may report (citizens anonymously, within the address's
/// report budget); a signed-in caller is recorded as the reporter. An `Idempotency-Key` header
/// (or field) makes retries safe.
#[utoipa::path(post, path = "/api/v1/reports", tag = "cases", summary = "Report a problem (Idempotency-Key header supported)",
    security((), ("bearer" = []), ("cookie" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "makes a retry safe (as the field does)")),
    request_body = ReportBody,
    responses((status = 201, description = "the case filed", body = ReportAnswer),
              (status = 200, description = "a retry: the case the idempotency key named", body = ReportAnswer)))]
async fn report(
    State(state): State<AppState>,
    MaybeAuth(staff): MaybeAuth,
    addr: ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ReportBody>,
) -> ApiResult<(StatusCode, Json<ReportAnswer>)> {
    let reporter = match staff {
        Some(p) => p.actor().label().to_owned(),
        None => {
            state.limits.spend(Budget::AnonymousReport, addr)?;
            crate::cases::REPORTER_ACTOR.to_owned()
        }
    };
    let mut body = crate::cases::NewReport::from(body);
    if body.idempotency_key.is_none() {
        body.idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    }
    let outcome = state.cases.report(&reporter, body).await?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(outcome.into())))
}

#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", summary = "Cases the caller may see (?state&limit)",
    security(("bearer" = []), ("cookie" = [])),
    params(ListQuery),
    responses((status = 200, description = "newest first; the reporter only for those who work a case", body = CaseList)))]
async fn list_cases(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<CaseList>> {
    let cases = state.cases.list(&auth.0, q.state.as_deref(), q.limit.unwrap_or(100), rid.as_deref()).await?;
    Ok(Json(CaseList { cases: cases.into_iter().map(CaseListItem::from).collect() }))
}

/// `GET /api/v1/map/cases?limit=10000`: the newest live cases the caller may see that have a
/// place, with only what the command map draws (up to 20,000; default 10,000), compact:
/// `{"fields": ["id", …], "cases": [[…], …]}`. The rows come from the database as JSON text
/// and are passed through.
#[utoipa::path(get, path = "/api/v1/map/cases", tag = "cases",
    summary = "Live cases with a place for the command map, as rows: {fields, cases} (?limit ≤ 20000)",
    security(("bearer" = []), ("cookie" = [])),
    params(MapQuery),
    responses((status = 200, description = "the rows, each in the order of `fields`", body = MapCases)))]
async fn map_cases(State(state): State<AppState>, auth: Auth, ApiQuery(q): ApiQuery<MapQuery>) -> ApiResult<Response> {
    let rows = state.cases.map_json(&auth.0, q.limit.unwrap_or(10_000)).await?;
    let fields = serde_json::to_string(&crate::cases::MAP_CASE_FIELDS).map_err(|e| ApiError::internal(&e))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], format!("{{\"fields\":{fields},\"cases\":{rows}}}"))
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", summary = "One case with departments, history and next actions",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the case's id")),
    responses((status = 200, description = "the case; the reporter only for those who work it", body = CaseDetail)))]
async fn find_case(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(state.cases.get(&auth.0, id, rid.as_deref()).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", tag = "cases", summary = "Move a case by one action",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the case's id")),
    request_body = TransitionBody,
    responses((status = 200, description = "the case as moved (without the reporter)", body = CaseDetail)))]
async fn transition(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TransitionBody>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(state.cases.transition(&auth.0, id, req.into()).await?.into()))
}

/// `POST /api/v1/public/cases/{number}/rating`: the reporter rates their closed case (评价)
/// without signing in; the contact they left with the report shows that the case is theirs.
/// The answer says only what the portal may show anyone. Each try spends the address's lookup
/// budget; wrong contacts are also counted per case in the database.
#[utoipa::path(post, path = "/api/v1/public/cases/{number}/rating", tag = "cases",
    summary = "The reporter rates their closed case (评价, 1–5), proven by the contact left with the report",
    params(("number" = String, Path, description = "the case's acceptance number")),
    request_body = RatingBody,
    responses((status = 201, description = "rated", body = Rated)))]
async fn reporter_rating(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<RatingBody>,
) -> ApiResult<(StatusCode, Json<Rated>)> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    let case = state.cases.rate_as_reporter(&number, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(Rated { number: case.number, state: case.state, rating: case.rating })))
}

/// `GET /api/v1/indicators?scope=area:440604010&from=2026-11-01&to=2026-12-01`.
/// District-level supervisory roles see every scope; others only their own area or themselves.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "cases", summary = "Evaluation indicators (?scope&from&to)",
    security(("bearer" = []), ("cookie" = [])),
    params(IndicatorQuery),
    responses((status = 200, description = "the indicators of the scope over [from, to)", body = IndicatorsAnswer)))]
async fn indicators(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<IndicatorQuery>,
) -> ApiResult<Json<IndicatorsAnswer>> {
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
    Ok(Json(IndicatorsAnswer { scope: q.scope, from, to, indicators: ind.into() }))
}

/// An uploaded photo: the image as the request's body, its declared type (checked against the
/// bytes by the domain).
type PhotoBody = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

fn declared_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// `POST /api/v1/cases/{id}/photos` with the image as the body (`image/jpeg|png|webp`, ≤ 5 MiB).
#[utoipa::path(post, path = "/api/v1/cases/{id}/photos", tag = "cases",
    summary = "Attach a photo (image/jpeg|png|webp body, ≤ 5 MiB)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the case's id")),
    request_body(content((Image = "image/jpeg"), (Image = "image/png"), (Image = "image/webp")),
        description = "the image; its type is proven from the bytes"),
    responses((status = 201, description = "the photo as stored (metadata stripped)", body = Photo)))]
async fn add_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: PhotoBody,
) -> ApiResult<(StatusCode, Json<Photo>)> {
    let meta = state.cases.add_photo(&auth.0, id, declared_type(&headers), &body?).await?;
    Ok((StatusCode::CREATED, Json(meta.into())))
}

/// `POST /api/v1/public/cases/{number}/photos`: a citizen who reported without signing in
/// attaches a photo (the image as the body, as above), showing in `X-Photo-Key` the key the
/// report's answer gave them.
#[utoipa::path(post, path = "/api/v1/public/cases/{number}/photos", tag = "cases",
    summary = "The reporter attaches a photo within 24 h of reporting, with the key the report gave (X-Photo-Key)",
    params(("number" = String, Path, description = "the case's acceptance number"),
           ("X-Photo-Key" = String, Header, description = "the photo key the report answered")),
    request_body(content((Image = "image/jpeg"), (Image = "image/png"), (Image = "image/webp")),
        description = "the image; its type is proven from the bytes"),
    responses((status = 201, description = "the photo as stored", body = ReporterPhoto)))]
async fn reporter_photo(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiPath(number): ApiPath<String>,
    headers: HeaderMap,
    body: PhotoBody,
) -> ApiResult<(StatusCode, Json<ReporterPhoto>)> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    let key = headers.get("x-photo-key").and_then(|v| v.to_str().ok());
    let meta = state.cases.add_photo_as_reporter(&number, key, declared_type(&headers), &body?).await?;
    Ok((StatusCode::CREATED, Json(ReporterPhoto { id: meta.id, content_type: meta.content_type, size: meta.size })))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/photos", tag = "cases", summary = "Photos of a case",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the case's id")),
    responses((status = 200, description = "the photos' metadata (the read is recorded)", body = Photos)))]
async fn list_photos(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Photos>> {
    let photos = state.cases.photos(&auth.0, id, rid.as_deref()).await?;
    Ok(Json(Photos { photos: photos.into_iter().map(Photo::from).collect() }))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/photos/{photo_id}", tag = "cases", summary = "A photo's bytes",
    security(("bearer" = []), ("cookie" = [])),
    params(("id" = i64, Path, description = "the case's id"), ("photo_id" = i64, Path, description = "the photo's id")),
    responses((status = 200, description = "the image (the read is recorded)",
        content((Image = "image/jpeg"), (Image = "image/png"), (Image = "image/webp")))))]
async fn get_photo(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath((id, photo_id)): ApiPath<(i64, i64)>,
) -> ApiResult<impl IntoResponse> {
    let (content_type, bytes) = state.cases.photo(&auth.0, id, photo_id, rid.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes))
}
