//! One-window services endpoints: the catalogue, acceptance (window or online), notices,
//! progress, decisions, suspension, the e-licence library, ratings and rectification,
//! statistics. Thin: extract, authorise visibly, call `Services`, map the result into the
//! answer types of [`views`].

mod views;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{request_token, ApiJson, ApiPath, ApiQuery, Auth, MaybeAuth, RequestId};
use super::limit::{Budget, ClientAddr};
use super::AppState;
use crate::services::applications::{Channel, NewApplication, NewRefusal, Outcome};
use crate::services::approvals::{DecisionInput, SuspendInput};
use crate::services::ratings::{AppealDecisionInput, AppealInput, FeedbackInput, NewRating, ReplyInput};
use crate::services::statistics::GroupBy;
use crate::services::{ItemSpec, ServiceError};
use crate::staff::Role;
pub use views::*;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_service_items))
        .routes(routes!(find_service_item))
        .routes(routes!(put_service_item))
        .routes(routes!(sweep_service_deadlines))
        .routes(routes!(submit_application, list_applications))
        .routes(routes!(find_application))
        .routes(routes!(decide_application))
        .routes(routes!(suspend_application))
        .routes(routes!(resume_application))
        .routes(routes!(refuse_application))
        .routes(routes!(service_notice))
        .routes(routes!(licence_library))
        .routes(routes!(applications_of_applicant))
        .routes(routes!(rate_service))
        .routes(routes!(list_rectifications))
        .routes(routes!(reply_rectification))
        .routes(routes!(rectification_feedback))
        .routes(routes!(appeal_rating))
        .routes(routes!(decide_appeal))
        .routes(routes!(service_statistics))
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let code = match &e {
            ServiceError::Certificate(_) | ServiceError::Store(_) | ServiceError::Ledger(_) => {
                return match e {
                    ServiceError::Certificate(c) => c.into(),
                    ServiceError::Store(s) => super::error::store_error(&s),
                    other => ApiError::internal(&other),
                };
            }
            ServiceError::ItemNotFound(_) => ErrorCode::ItemNotFound,
            ServiceError::ApplicationNotFound(_) => ErrorCode::ApplicationNotFound,
            ServiceError::NoticeNotFound(_) => ErrorCode::NoticeNotFound,
            ServiceError::RectificationNotFound(_) => ErrorCode::RectificationNotFound,
            ServiceError::NoSuchStep(_) => ErrorCode::StepNotFound,
            ServiceError::Concluded(_) => ErrorCode::ApplicationConcluded,
            ServiceError::OutOfTurn { .. } => ErrorCode::OutOfTurn,
            ServiceError::AlreadyDecided { .. } => ErrorCode::AlreadyDecided,
            ServiceError::Suspended(_) => ErrorCode::ApplicationSuspended,
            ServiceError::NotSuspended(_) => ErrorCode::NotSuspended,
            ServiceError::AlreadyRated(_) => ErrorCode::AlreadyRated,
            ServiceError::NotConcluded(_) => ErrorCode::NotConcluded,
            ServiceError::RectificationState(_) => ErrorCode::IllegalRectificationState,
            ServiceError::NotApproved(_) => ErrorCode::ApplicationNotApproved,
            ServiceError::LicenceInForce(_) => ErrorCode::LicenceInForce,
            ServiceError::Forbidden(_) => ErrorCode::Forbidden,
            ServiceError::NoDepartment => ErrorCode::NoDepartment,
            ServiceError::InvalidPeriod(_) => ErrorCode::InvalidPeriod,
            ServiceError::LicenceTypeOwned { .. } => ErrorCode::LicenceTypeOwnedElsewhere,
            ServiceError::NoLicenceForItem(_) => ErrorCode::ItemIssuesNoLicence,
            ServiceError::AccessKeyThrottled { .. } => ErrorCode::AccessKeyThrottled,
            ServiceError::InvalidField(_) => ErrorCode::InvalidField,
            ServiceError::InvalidItem(_) => ErrorCode::InvalidItem,
            ServiceError::Id(i) => super::error::id_error(i),
            ServiceError::UnknownItem(_) => ErrorCode::UnknownItem,
            ServiceError::ItemInactive(_) => ErrorCode::ItemInactive,
            ServiceError::UnknownDepartment(_) => ErrorCode::UnknownDepartment,
            ServiceError::ApplicantTypeMismatch { .. } => ErrorCode::ApplicantTypeMismatch,
            ServiceError::NotEligible(_) => ErrorCode::NotEligible,
            ServiceError::UnknownMaterial(_) => ErrorCode::UnknownMaterial,
            ServiceError::DuplicateMaterial(_) => ErrorCode::DuplicateMaterial,
            ServiceError::MaterialWrongFormat { .. } => ErrorCode::MaterialWrongFormat,
            ServiceError::MaterialTooLarge { .. } => ErrorCode::MaterialTooLarge,
            ServiceError::InvalidMaterial(..) => ErrorCode::InvalidMaterial,
            ServiceError::CriterionUnchecked(_) => ErrorCode::CriterionUnchecked,
            ServiceError::UnknownCriterion(_) => ErrorCode::UnknownCriterion,
            ServiceError::CriteriaNotMet(_) => ErrorCode::CriteriaNotMet,
            ServiceError::NoUnmetCriterion => ErrorCode::RejectionWithoutUnmetCriterion,
            ServiceError::NoteRequired(_) => ErrorCode::NoteRequired,
            ServiceError::UnknownSpecialStep(_) => ErrorCode::UnknownSpecialStep,
        };
        let mut err = ApiError::new(code, e.to_string());
        match &e {
            ServiceError::NotEligible(failed) => err = err.with_details(json!({"failed": failed})),
            ServiceError::CriterionUnchecked(c) | ServiceError::CriteriaNotMet(c) => {
                err = err.with_details(json!({"criteria": c}))
            }
            ServiceError::AccessKeyThrottled { retry_after_s } => err = err.with_retry_after(*retry_after_s),
            _ => {}
        }
        err
    }
}

const NUMBER: &str = "the application number";

/// `GET /api/v1/service-items`: the catalogue, newest version of each item.
#[utoipa::path(get, path = "/api/v1/service-items", tag = "services",
    summary = "The service item catalogue (newest version of each item)",
    responses((status = 200, description = "the items", body = ItemList)))]
async fn list_service_items(State(state): State<AppState>) -> ApiResult<Json<ItemList>> {
    let items = state.services.items().await?.into_iter().map(ItemView::from).collect();
    Ok(Json(ItemList { items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct VersionQuery {
    /// A version of the item; the newest when absent.
    version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/service-items/{code}", tag = "services", summary = "One service item (?version)",
    params(("code" = String, Path, description = "the item's implementation code"), VersionQuery),
    responses((status = 200, description = "the item", body = ItemView)))]
async fn find_service_item(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Json<ItemView>> {
    Ok(Json(state.services.item(&code, q.version).await?.into()))
}

async fn require_district_admin(state: &AppState, auth: &Auth) -> ApiResult<()> {
    let district = state.territory.areas().await?.into_iter().find(|a| a.level == "district").map(|a| a.code);
    match district {
        Some(d) => auth.require(Role::Admin, &d, "changing the service catalogue"),
        None => Err(ApiError::from(crate::territory::TerritoryError::NoTerritory)),
    }
}

/// `POST /api/v1/admin/service-items`: a new version of an item (district admin).
#[utoipa::path(post, path = "/api/v1/admin/service-items", tag = "services",
    summary = "Add a new version of a service item (district admin)",
    security(("bearer" = []), ("cookie" = [])), request_body = ItemSpec,
    responses((status = 201, description = "the stored version", body = ItemView)))]
async fn put_service_item(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(spec): ApiJson<ItemSpec>,
) -> ApiResult<(StatusCode, Json<ItemView>)> {
    require_district_admin(&state, &auth).await?;
    let item = state.services.put_item(&auth.0.actor(), spec, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(item.into())))
}

#[utoipa::path(post, path = "/api/v1/admin/service-deadlines/sweep", tag = "services",
    summary = "Warn and mark overdue applications now (district admin)",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "how many were warned and marked", body = SweepResult)))]
async fn sweep_service_deadlines(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<SweepResult>> {
    require_district_admin(&state, &auth).await?;
    let (warned, overdue) = state.services.sweep_deadlines().await?;
    Ok(Json(SweepResult { warned, overdue }))
}

/// `POST /api/v1/service-applications`: with a window clerk's token, a window acceptance;
/// without a token, an online application (一网通办).
#[utoipa::path(post, path = "/api/v1/service-applications", tag = "services",
    summary = "Apply: at a window (clerk token) or online (no token); accepted (201, with the access key, shown once) or a missing-materials notice (200)",
    request_body = NewApplication,
    responses(
        (status = 201, description = "accepted, with the access key (shown once)", body = Submission),
        (status = 200, description = "a missing-materials notice", body = Submission)))]
async fn submit_application(
    State(state): State<AppState>,
    MaybeAuth(clerk): MaybeAuth,
    addr: ClientAddr,
    ApiJson(body): ApiJson<NewApplication>,
) -> ApiResult<(StatusCode, Json<Submission>)> {
    let outcome = match clerk {
        Some(p) => state.services.submit(Channel::Window(&p), body).await?,
        None => {
            // Anonymous floods are bounded per address before anything is read or written.
            state.limits.spend(Budget::AnonymousApplication, addr)?;
            state.services.submit(Channel::Online, body).await?
        }
    };
    let status = match outcome {
        Outcome::Accepted { .. } => StatusCode::CREATED,
        Outcome::MissingMaterials { .. } => StatusCode::OK,
    };
    Ok((status, Json(outcome.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `in_review`, `suspended`, `approved` or `rejected`.
    state: Option<String>,
    /// At most this many (1–500; 100 when absent).
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/service-applications", tag = "services",
    summary = "Applications the caller may see (?state&limit)",
    security(("bearer" = []), ("cookie" = [])), params(ListQuery),
    responses((status = 200, description = "newest first", body = ApplicationList)))]
async fn list_applications(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ApplicationList>> {
    let list = state.services.list(&auth.0, q.state.as_deref(), q.limit.unwrap_or(100), rid.as_deref()).await?;
    Ok(Json(ApplicationList { applications: list.into_iter().map(ApplicationSummary::from).collect() }))
}

/// No parameters: the ways in of before (`?id_number=`, `?application_number=`) are refused
/// with `invalid_query`, not ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

/// The header an applicant sends the access key in (never in the address, which logs keep).
pub const ACCESS_KEY_HEADER: &str = "x-access-key";

/// The access key an anonymous applicant sent, if any.
pub(super) fn access_key(headers: &HeaderMap) -> Option<&str> {
    headers.get(ACCESS_KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty())
}

/// Staff with a token see it by their scope; the applicant sends the access key handed out
/// at acceptance (`X-Access-Key`); knowing the applicant's ID number proves nothing.
#[utoipa::path(get, path = "/api/v1/service-applications/{number}", tag = "services",
    summary = "An application: staff by scope, or the applicant with the access key (X-Access-Key)",
    params(("number" = String, Path, description = NUMBER),
        ("X-Access-Key" = Option<String>, Header, description = "the access key the application's acceptance handed out (once)")),
    responses((status = 200, description = "the application", body = ApplicationDetail)))]
async fn find_application(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    rid: RequestId,
    ApiPath(number): ApiPath<String>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> ApiResult<Json<ApplicationDetail>> {
    if let Some(key) = access_key(&headers) {
        state.limits.spend(Budget::AnonymousLookup, addr)?;
        return Ok(Json(state.services.lookup(&number, key, rid.as_deref()).await?.into()));
    }
    let token = request_token(&headers).ok_or_else(ApiError::unauthenticated)?;
    let p = state.staff.authenticate(&token).await?;
    Ok(Json(state.services.get(&p, &number, rid.as_deref()).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/service-applications/{number}/decisions", tag = "services",
    summary = "Decide the caller's department's step against its checklist (approver)",
    security(("bearer" = []), ("cookie" = [])), params(("number" = String, Path, description = NUMBER)),
    request_body = DecisionInput,
    responses((status = 200, description = "the application after the decision", body = ApplicationDetail)))]
async fn decide_application(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionInput>,
) -> ApiResult<Json<ApplicationDetail>> {
    Ok(Json(state.services.decide(&auth.0, &number, body).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/service-applications/{number}/suspend", tag = "services",
    summary = "Suspend for a special step (approver)",
    security(("bearer" = []), ("cookie" = [])), params(("number" = String, Path, description = NUMBER)),
    request_body = SuspendInput,
    responses((status = 200, description = "the suspended application", body = ApplicationDetail)))]
async fn suspend_application(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<SuspendInput>,
) -> ApiResult<Json<ApplicationDetail>> {
    Ok(Json(state.services.suspend(&auth.0, &number, body).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/service-applications/{number}/resume", tag = "services",
    summary = "Resume after a special step (approver)",
    security(("bearer" = []), ("cookie" = [])), params(("number" = String, Path, description = NUMBER)),
    responses((status = 200, description = "the resumed application", body = ApplicationDetail)))]
async fn resume_application(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<ApplicationDetail>> {
    Ok(Json(state.services.resume(&auth.0, &number).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/service-refusals", tag = "services",
    summary = "Refuse to accept (不予受理) with a reason (window clerk)",
    security(("bearer" = []), ("cookie" = [])), request_body = NewRefusal,
    responses((status = 201, description = "the refusal notice", body = NoticeData)))]
async fn refuse_application(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewRefusal>,
) -> ApiResult<(StatusCode, Json<NoticeData>)> {
    let notice = state.services.refuse(&auth.0, body).await?;
    Ok((StatusCode::CREATED, Json(notice.into())))
}

/// `GET /api/v1/service-notices/{number}`: the printable notice (HTML); `?format=json` for data.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct NoticeQuery {
    /// `json` for the data; the printable HTML document otherwise.
    #[param(pattern = "^(json|html)$")]
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/service-notices/{number}", tag = "services",
    summary = "A missing-materials or refusal notice as a printable HTML document (?format=json)",
    params(("number" = String, Path, description = "the notice number"), NoticeQuery),
    responses((status = 200, description = "the notice", content(
        (String = "text/html"), (NoticeData = "application/json")))))]
async fn service_notice(
    State(state): State<AppState>,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<NoticeQuery>,
) -> ApiResult<Response> {
    let (view, item, name) = state.services.notice(&number).await?;
    if q.format.as_deref() == Some("json") {
        return Ok(Json(NoticeData::from(view)).into_response());
    }
    let departments = state.staff.departments().await?;
    let dept = departments
        .iter()
        .find(|d| d.code == item.spec.department_code)
        .map_or(item.spec.department_code.clone(), |d| d.name.clone());
    let html = crate::services::notice::render(&view, &item, &name, &dept);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
        .into_response())
}

/// The e-licence library by ID number: window clerks only, every read recorded.
#[utoipa::path(get, path = "/api/v1/applicants/{id_number}/licences", tag = "services",
    summary = "An applicant's e-licence library by ID number (window clerks; recorded)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id_number" = String, Path, description = "the applicant's ID number or credit code")),
    responses((status = 200, description = "the licences", body = LicenceList)))]
async fn licence_library(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id_number): ApiPath<String>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> ApiResult<Json<LicenceList>> {
    let licences = state.services.library(&auth.0, &id_number, rid.as_deref()).await?;
    Ok(Json(LicenceList { licences: licences.into_iter().map(Into::into).collect() }))
}

/// An applicant's applications by ID number: window clerks only, every read recorded. An
/// applicant follows each application by its number and access key instead.
#[utoipa::path(get, path = "/api/v1/applicants/{id_number}/applications", tag = "services",
    summary = "An applicant's applications by ID number (window clerks; recorded)",
    security(("bearer" = []), ("cookie" = [])),
    params(("id_number" = String, Path, description = "the applicant's ID number or credit code")),
    responses((status = 200, description = "the applications", body = ApplicationList)))]
async fn applications_of_applicant(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id_number): ApiPath<String>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> ApiResult<Json<ApplicationList>> {
    let list = state.services.applications_of(&auth.0, &id_number, rid.as_deref()).await?;
    Ok(Json(ApplicationList { applications: list.into_iter().map(ApplicationSummary::from).collect() }))
}

#[utoipa::path(post, path = "/api/v1/service-ratings", tag = "services",
    summary = "Rate an application (with its access key) or a window visit (with the ID number) (好差评, 1–5)",
    request_body = NewRating,
    responses((status = 201, description = "the rating, and the rectification a bad one opens", body = RatingAnswer)))]
async fn rate_service(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(body): ApiJson<NewRating>,
) -> ApiResult<(StatusCode, Json<RatingAnswer>)> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    let out = state.services.rate(body).await?;
    Ok((StatusCode::CREATED, Json(out.into())))
}

#[utoipa::path(get, path = "/api/v1/service-rectifications", tag = "services",
    summary = "Rectification tasks of bad ratings", security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "the tasks the caller may see", body = RectificationList)))]
async fn list_rectifications(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<RectificationList>> {
    let list = state.services.rectifications(&auth.0).await?;
    Ok(Json(RectificationList { rectifications: list.into_iter().map(|r| rectification_view!(r)).collect() }))
}

#[utoipa::path(post, path = "/api/v1/service-rectifications/{id}/reply", tag = "services",
    summary = "Reply and record the callback (responsible unit)",
    security(("bearer" = []), ("cookie" = [])), params(("id" = i64, Path, description = "the rectification's id")),
    request_body = ReplyInput,
    responses((status = 200, description = "the rectification", body = RectificationView)))]
async fn reply_rectification(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReplyInput>,
) -> ApiResult<Json<RectificationView>> {
    Ok(Json(rectification_view!(state.services.reply(&auth.0, id, body).await?)))
}

#[utoipa::path(post, path = "/api/v1/service-rectifications/{id}/feedback", tag = "services",
    summary = "The applicant rates the fix (proven as the rating was)",
    params(("id" = i64, Path, description = "the rectification's id")), request_body = FeedbackInput,
    responses((status = 200, description = "the rectification", body = RectificationView)))]
async fn rectification_feedback(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FeedbackInput>,
) -> ApiResult<Json<RectificationView>> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    Ok(Json(rectification_view!(state.services.feedback(id, body).await?)))
}

#[utoipa::path(post, path = "/api/v1/service-rectifications/{id}/appeal", tag = "services",
    summary = "Appeal a mistaken rating (responsible unit)",
    security(("bearer" = []), ("cookie" = [])), params(("id" = i64, Path, description = "the rectification's id")),
    request_body = AppealInput,
    responses((status = 200, description = "the rectification", body = RectificationView)))]
async fn appeal_rating(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AppealInput>,
) -> ApiResult<Json<RectificationView>> {
    Ok(Json(rectification_view!(state.services.appeal(&auth.0, id, body).await?)))
}

#[utoipa::path(post, path = "/api/v1/service-rectifications/{id}/appeal-decision", tag = "services",
    summary = "Decide an appeal (admin)",
    security(("bearer" = []), ("cookie" = [])), params(("id" = i64, Path, description = "the rectification's id")),
    request_body = AppealDecisionInput,
    responses((status = 200, description = "the rectification", body = RectificationView)))]
async fn decide_appeal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AppealDecisionInput>,
) -> ApiResult<Json<RectificationView>> {
    Ok(Json(rectification_view!(state.services.decide_appeal(&auth.0, id, body).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// `item`, `department`, `window` or `clerk`.
    #[param(pattern = "^(item|department|window|clerk)$")]
    by: String,
    /// YYYY-MM-DD (local midnight) or RFC 3339.
    from: String,
    /// YYYY-MM-DD (local midnight) or RFC 3339.
    to: String,
    /// One department's records only (as `by=department` keys them).
    #[param(max_length = 32)]
    department: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/service-statistics", tag = "services",
    summary = "Statistics per item, department, window or clerk (?by&from&to&department)",
    security(("bearer" = []), ("cookie" = [])), params(StatsQuery),
    responses((status = 200, description = "the figures", body = StatisticsView)))]
async fn service_statistics(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<StatisticsView>> {
    let allowed = [Role::Admin, Role::Auditor, Role::WindowClerk, Role::Approver, Role::Commander];
    if !allowed.iter().any(|r| auth.0.has_role(*r)) {
        return Err(ApiError::forbidden("reading service statistics"));
    }
    let by = GroupBy::parse(&q.by).ok_or_else(|| {
        ApiError::bad_request(ErrorCode::InvalidQuery, "`by` must be item, department, window or clerk")
    })?;
    let (from, to) = (super::wire::instant(&q.from, "from")?, super::wire::instant(&q.to, "to")?);
    let department = q.department.as_deref().map(str::trim).filter(|d| !d.is_empty());
    if department.is_some_and(|d| d.len() > 32) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidQuery,
            "`department` is a department code (at most 32 characters)",
        ));
    }
    Ok(Json(state.services.statistics(by, from, to, department).await?.into()))
}
