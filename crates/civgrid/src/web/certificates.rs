//! Certificates: issue from an approved application and revoke (the issuing department), read
//! the content or fetch the bundle (the holder with their application's access key, or the
//! issuing department), check validity by number or verify an uploaded file (anyone), the QR
//! code and the verification page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, Auth, MaybeAuth, RequestId};
use super::limit::{Budget, ClientAddr};
use super::AppState;
use crate::certificates::{CertificateError, Issuer};
use crate::services::licences::Reader;
use crate::staff::{Principal, Role};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/certificates", post(issue))
        .route("/api/v1/certificates/verify", post(verify))
        .route("/api/v1/certificates/{number}", get(find))
        .route("/api/v1/certificates/{number}/revoke", post(revoke))
        .route("/api/v1/certificates/{number}/bundle", get(bundle))
        .route("/api/v1/certificates/{number}/check", get(check))
        .route("/api/v1/certificates/{number}/qr.svg", get(qr))
        .route("/verify", get(page))
        .route("/verify/{number}", get(page))
}

impl From<CertificateError> for ApiError {
    fn from(e: CertificateError) -> ApiError {
        let code = match &e {
            CertificateError::Store(s) => return super::error::store_error(s),
            CertificateError::Ledger(l) => return ApiError::internal(l),
            CertificateError::Damaged(_) => return ApiError::internal(&e),
            CertificateError::NotFound(_) => ErrorCode::CertificateNotFound,
            CertificateError::AlreadyRevoked(_) => ErrorCode::AlreadyRevoked,
            // Logged within the second: worth retrying.
            CertificateError::NotYetLogged(_) => {
                return ApiError::new(ErrorCode::NotYetLogged, e.to_string()).with_retry_after(1)
            }
            CertificateError::NoDepartment => ErrorCode::NoDepartment,
            CertificateError::OtherDepartment(_) => ErrorCode::OtherDepartment,
            CertificateError::InvalidField(_) => ErrorCode::InvalidField,
        };
        ApiError::new(code, e.to_string())
    }
}

/// Who revokes: an approver of the issuing department, or an administrator whose areas hold
/// the issuing department.
async fn revoker(state: &AppState, p: &Principal, number: &str) -> Result<Issuer, ApiError> {
    let is_approver = p.has_role(Role::Approver);
    if !(is_approver || p.has_role(Role::Admin)) {
        return Err(ApiError::forbidden("revoking certificates"));
    }
    let mut is_admin = false;
    if p.has_role(Role::Admin) {
        let cert = state.certificates.find(number).await?;
        let departments = state.staff.departments().await?;
        let area = departments.iter().find(|d| d.code == cert.department_code).map(|d| d.area_code.clone());
        is_admin = area.is_some_and(|a| p.can(Role::Admin, &a));
    }
    Ok(Issuer { actor: p.actor().label().to_owned(), department: p.department_code.clone(), is_admin })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    /// The approved application whose e-licence is issued (again, after a revocation).
    application_number: String,
}

/// `POST /api/v1/certificates`: issue the e-licence of an approved application (an approver of
/// the department whose item issues it). There is no issuing of free content.
async fn issue(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<IssueBody>,
) -> ApiResult<impl IntoResponse> {
    let view = state.services.issue_licence(&auth.0, &body.application_number, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// `GET /api/v1/certificates/{number}`: the stored certificate, for the issuing department's
/// approvers and window clerks (and approvers deciding on an application that attaches it), or
/// the holder with the access key (`X-Access-Key`); recorded.
async fn find(
    State(state): State<AppState>,
    MaybeAuth(principal): MaybeAuth,
    headers: HeaderMap,
    addr: ClientAddr,
    rid: RequestId,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let reader = reader(&state, &headers, addr, principal.as_ref())?;
    Ok(Json(json!(state.services.read_certificate(reader, &number, rid.as_deref()).await?)))
}

/// Staff by their session; otherwise the holder's access key, spent from the lookup budget.
fn reader<'a>(
    state: &AppState,
    headers: &'a HeaderMap,
    addr: ClientAddr,
    principal: Option<&'a Principal>,
) -> Result<Reader<'a>, ApiError> {
    if let Some(p) = principal {
        return Ok(Reader::Staff(p));
    }
    let key = super::services::access_key(headers).ok_or_else(ApiError::unauthenticated)?;
    state.limits.spend(Budget::AnonymousLookup, addr)?;
    Ok(Reader::Holder { key })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    reason: String,
}

/// `POST /api/v1/certificates/{number}/revoke`: the issuing department (or an admin) revokes.
async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> ApiResult<Json<Value>> {
    let by = revoker(&state, &auth.0, &number).await?;
    Ok(Json(json!(state.certificates.revoke(&by, &number, &body.reason).await?)))
}

/// `GET /api/v1/certificates/{number}/bundle`: the verifiable bundle, as a file, for the same
/// readers as the certificate itself; recorded.
async fn bundle(
    State(state): State<AppState>,
    MaybeAuth(principal): MaybeAuth,
    headers: HeaderMap,
    addr: ClientAddr,
    rid: RequestId,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Response> {
    let reader = reader(&state, &headers, addr, principal.as_ref())?;
    let bundle = state.services.certificate_bundle(reader, &number, rid.as_deref()).await?;
    let disposition = format!("attachment; filename=\"{number}.civgrid.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|e| ApiError::internal(&e))?),
        ],
        bundle.to_json(),
    )
        .into_response())
}

/// `POST /api/v1/certificates/verify`: check an uploaded bundle (any body type, ≤ 1 MiB).
async fn verify(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.certificates.verify(&body).await?)))
}

/// `GET /api/v1/certificates/{number}/check`: verify the current bundle of a number (the QR):
/// valid or revoked, type, issuing department, dates — nothing about the holder.
async fn check(State(state): State<AppState>, ApiPath(number): ApiPath<String>) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.certificates.check(&number).await?)))
}

/// `GET /api/v1/certificates/{number}/qr.svg`: a QR code of the verification page's address.
async fn qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Response> {
    // Only existing certificates get a code (and the number's shape is checked there).
    state.certificates.get(&number).await?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.settings.secure_cookies { "https" } else { "http" };
    let url = format!("{scheme}://{host}/verify/{number}");
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::internal(&e))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The verification page (upload a bundle, or open `/verify/<number>` from a QR code).
async fn page() -> Response {
    static PAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        include_str!("../../assets/verify.html").replace("__CIVGRID_ERRORS__", &super::pages::i18n::errors_json_both())
    });
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], PAGE.as_str())
        .into_response()
}
