//! One-window services endpoints: the catalogue, acceptance (window or online), notices,
//! progress, decisions, suspension, the e-licence library, ratings and rectification,
//! statistics. Thin: extract, authorise visibly, call `Services`, map the result.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/service-items", get(list_items))
        .route("/api/v1/service-items/{code}", get(find_item))
        .route("/api/v1/admin/service-items", post(put_item))
        .route("/api/v1/admin/service-deadlines/sweep", post(sweep))
        .route("/api/v1/service-applications", post(submit).get(list_applications))
        .route("/api/v1/service-applications/{number}", get(find_application))
        .route("/api/v1/service-applications/{number}/decisions", post(decide))
        .route("/api/v1/service-applications/{number}/suspend", post(suspend))
        .route("/api/v1/service-applications/{number}/resume", post(resume))
        .route("/api/v1/service-refusals", post(refuse))
        .route("/api/v1/service-notices/{number}", get(notice))
        .route("/api/v1/applicants/{id_number}/licences", get(library))
        .route("/api/v1/applicants/{id_number}/applications", get(applications_of))
        .route("/api/v1/service-ratings", post(rate))
        .route("/api/v1/service-rectifications", get(rectifications))
        .route("/api/v1/service-rectifications/{id}/reply", post(reply))
        .route("/api/v1/service-rectifications/{id}/feedback", post(feedback))
        .route("/api/v1/service-rectifications/{id}/appeal", post(appeal))
        .route("/api/v1/service-rectifications/{id}/appeal-decision", post(appeal_decision))
        .route("/api/v1/service-statistics", get(statistics))
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

async fn list_items(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"items": state.services.items().await?})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionQuery {
    version: Option<i64>,
}

async fn find_item(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<VersionQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.item(&code, q.version).await?)))
}

async fn require_district_admin(state: &AppState, auth: &Auth) -> ApiResult<()> {
    let district = state.territory.areas().await?.into_iter().find(|a| a.level == "district").map(|a| a.code);
    match district {
        Some(d) => auth.require(Role::Admin, &d, "changing the service catalogue"),
        None => Err(ApiError::from(crate::territory::TerritoryError::NoTerritory)),
    }
}

/// `POST /api/v1/admin/service-items`: a new version of an item (district admin).
async fn put_item(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(spec): ApiJson<ItemSpec>,
) -> ApiResult<impl IntoResponse> {
    require_district_admin(&state, &auth).await?;
    let item = state.services.put_item(&auth.0.actor(), spec, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!(item))))
}

async fn sweep(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    require_district_admin(&state, &auth).await?;
    let (warned, overdue) = state.services.sweep_deadlines().await?;
    Ok(Json(json!({"warned": warned, "overdue": overdue})))
}

/// `POST /api/v1/service-applications`: with a window clerk's token, a window acceptance;
/// without a token, an online application (一网通办).
async fn submit(
    State(state): State<AppState>,
    MaybeAuth(clerk): MaybeAuth,
    addr: ClientAddr,
    ApiJson(body): ApiJson<NewApplication>,
) -> ApiResult<Response> {
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
    Ok((status, Json(json!(outcome))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
}

async fn list_applications(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Value>> {
    let list = state.services.list(&auth.0, q.state.as_deref(), q.limit.unwrap_or(100), rid.as_deref()).await?;
    Ok(Json(json!({"applications": list})))
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
async fn find_application(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    rid: RequestId,
    ApiPath(number): ApiPath<String>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> ApiResult<Json<Value>> {
    if let Some(key) = access_key(&headers) {
        state.limits.spend(Budget::AnonymousLookup, addr)?;
        return Ok(Json(json!(state.services.lookup(&number, key, rid.as_deref()).await?)));
    }
    let token = request_token(&headers).ok_or_else(ApiError::unauthenticated)?;
    let p = state.staff.authenticate(&token).await?;
    Ok(Json(json!(state.services.get(&p, &number, rid.as_deref()).await?)))
}

async fn decide(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.decide(&auth.0, &number, body).await?)))
}

async fn suspend(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<SuspendInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.suspend(&auth.0, &number, body).await?)))
}

async fn resume(State(state): State<AppState>, auth: Auth, ApiPath(number): ApiPath<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.resume(&auth.0, &number).await?)))
}

async fn refuse(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewRefusal>,
) -> ApiResult<impl IntoResponse> {
    let notice = state.services.refuse(&auth.0, body).await?;
    Ok((StatusCode::CREATED, Json(json!(notice))))
}

/// `GET /api/v1/service-notices/{number}`: the printable notice (HTML); `?format=json` for data.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeQuery {
    format: Option<String>,
}

async fn notice(
    State(state): State<AppState>,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<NoticeQuery>,
) -> ApiResult<Response> {
    let (view, item, name) = state.services.notice(&number).await?;
    if q.format.as_deref() == Some("json") {
        return Ok(Json(json!(view)).into_response());
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
async fn library(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id_number): ApiPath<String>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"licences": state.services.library(&auth.0, &id_number, rid.as_deref()).await?})))
}

/// An applicant's applications by ID number: window clerks only, every read recorded. An
/// applicant follows each application by its number and access key instead.
async fn applications_of(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiPath(id_number): ApiPath<String>,
    ApiQuery(NoQuery {}): ApiQuery<NoQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"applications": state.services.applications_of(&auth.0, &id_number, rid.as_deref()).await?})))
}

async fn rate(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(body): ApiJson<NewRating>,
) -> ApiResult<impl IntoResponse> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    let out = state.services.rate(body).await?;
    Ok((StatusCode::CREATED, Json(json!(out))))
}

async fn rectifications(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"rectifications": state.services.rectifications(&auth.0).await?})))
}

async fn reply(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReplyInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.reply(&auth.0, id, body).await?)))
}

async fn feedback(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FeedbackInput>,
) -> ApiResult<Json<Value>> {
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    Ok(Json(json!(state.services.feedback(id, body).await?)))
}

async fn appeal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AppealInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.appeal(&auth.0, id, body).await?)))
}

async fn appeal_decision(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AppealDecisionInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.services.decide_appeal(&auth.0, id, body).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    by: String,
    from: String,
    to: String,
    /// One department's records only (as `by=department` keys them).
    department: Option<String>,
}

async fn statistics(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(json!(state.services.statistics(by, from, to, department).await?)))
}
