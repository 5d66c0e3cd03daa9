//! Certificates: issue from an approved application and revoke (the issuing department), read
//! the content or fetch the bundle (the holder with their application's access key, or the
//! issuing department), check validity by number or verify an uploaded file (anyone), the QR
//! code and the verification page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::extract::{ApiJson, ApiPath, Auth, MaybeAuth, RequestId};
use super::limit::{Budget, ClientAddr};
use super::AppState;
use crate::certificates::{CertificateError, CertificateView, Issuer, Verification};
use crate::services::licences::Reader;
use crate::staff::{Principal, Role};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_certificate))
        .routes(routes!(verify_bundle))
        .routes(routes!(find_certificate))
        .routes(routes!(revoke_certificate))
        .routes(routes!(certificate_bundle))
        .routes(routes!(check_certificate))
        .routes(routes!(certificate_qr))
        // The verification page is a page, not part of the API document.
        .route("/verify", get(page))
        .route("/verify/{number}", get(page))
}

const NUMBER: &str = "the certificate number";

/// A stored certificate: its signed content and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateData {
    pub number: String,
    pub r#type: String,
    /// The signed canonical content (holder, licence, validity).
    #[schema(value_type = Object)]
    pub content: Value,
    pub department_code: String,
    pub issued_by: String,
    pub issued_at: String,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
}

impl From<CertificateView> for CertificateData {
    fn from(c: CertificateView) -> CertificateData {
        CertificateData {
            number: c.number,
            r#type: c.r#type,
            content: c.content,
            department_code: c.department_code,
            issued_by: c.issued_by,
            issued_at: c.issued_at,
            revoked_at: c.revoked_at,
            revoke_reason: c.revoke_reason,
        }
    }
}

/// The result of checking a bundle: never "valid" for anything tampered.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    pub valid: bool,
    /// `ok`, a bundle error code, `revoked` or `unknown_to_registry`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    pub number: Option<String>,
    /// The verified certificate content (an uploaded bundle's only).
    #[schema(value_type = Option<Object>)]
    pub certificate: Option<Value>,
    pub leaf_index: Option<u64>,
    pub tree_size: Option<u64>,
    pub witness_departments: Vec<String>,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
}

impl From<Verification> for VerificationView {
    fn from(v: Verification) -> VerificationView {
        VerificationView {
            valid: v.valid,
            code: v.code,
            message_zh: v.message_zh,
            message_en: v.message_en,
            number: v.number,
            certificate: v.certificate,
            leaf_index: v.leaf_index,
            tree_size: v.tree_size,
            witness_departments: v.witness_departments,
            revoked_at: v.revoked_at,
            revoke_reason: v.revoke_reason,
        }
    }
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    /// The approved application whose e-licence is issued (again, after a revocation).
    application_number: String,
}

/// `POST /api/v1/certificates`: issue the e-licence of an approved application (an approver of
/// the department whose item issues it). There is no issuing of free content.
#[utoipa::path(post, path = "/api/v1/certificates", tag = "certificates",
    summary = "Issue (again, after a revocation) the e-licence of an approved application (approver of the item's department)",
    security(("bearer" = []), ("cookie" = [])), request_body = IssueBody,
    responses((status = 201, description = "the issued certificate", body = CertificateData)))]
async fn issue_certificate(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    ApiJson(body): ApiJson<IssueBody>,
) -> ApiResult<(StatusCode, Json<CertificateData>)> {
    let view = state.services.issue_licence(&auth.0, &body.application_number, rid.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// `GET /api/v1/certificates/{number}`: the stored certificate, for the issuing department's
/// approvers and window clerks (and approvers deciding on an application that attaches it), or
/// the holder with the access key (`X-Access-Key`); recorded.
#[utoipa::path(get, path = "/api/v1/certificates/{number}", tag = "certificates",
    summary = "A stored certificate: the issuing department, or the holder with the application's access key (X-Access-Key)",
    params(("number" = String, Path, description = NUMBER),
        ("X-Access-Key" = Option<String>, Header, description = "the access key the application's acceptance handed out (once)")),
    responses((status = 200, description = "the certificate", body = CertificateData)))]
async fn find_certificate(
    State(state): State<AppState>,
    MaybeAuth(principal): MaybeAuth,
    headers: HeaderMap,
    addr: ClientAddr,
    rid: RequestId,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<CertificateData>> {
    let reader = reader(&state, &headers, addr, principal.as_ref())?;
    Ok(Json(state.services.read_certificate(reader, &number, rid.as_deref()).await?.into()))
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    reason: String,
}

/// `POST /api/v1/certificates/{number}/revoke`: the issuing department (or an admin) revokes.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/revoke", tag = "certificates",
    summary = "Revoke (issuing department, or an admin of its area)",
    security(("bearer" = []), ("cookie" = [])), params(("number" = String, Path, description = NUMBER)),
    request_body = RevokeBody,
    responses((status = 200, description = "the revoked certificate", body = CertificateData)))]
async fn revoke_certificate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<String>,
    ApiJson(body): ApiJson<RevokeBody>,
) -> ApiResult<Json<CertificateData>> {
    let by = revoker(&state, &auth.0, &number).await?;
    Ok(Json(state.certificates.revoke(&by, &number, &body.reason).await?.into()))
}

/// `GET /api/v1/certificates/{number}/bundle`: the verifiable bundle, as a file, for the same
/// readers as the certificate itself; recorded.
#[utoipa::path(get, path = "/api/v1/certificates/{number}/bundle", tag = "certificates",
    summary = "The verifiable bundle (signature, proof, cosigned checkpoint): the issuing department, or the holder with X-Access-Key",
    params(("number" = String, Path, description = NUMBER),
        ("X-Access-Key" = Option<String>, Header, description = "the access key the application's acceptance handed out (once)")),
    responses((status = 200, description = "the bundle, as a file", content_type = "application/json", body = Object)))]
async fn certificate_bundle(
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
#[utoipa::path(post, path = "/api/v1/certificates/verify", tag = "certificates",
    summary = "Verify an uploaded bundle (≤ 1 MiB)",
    request_body(content = Object, content_type = "application/json", description = "a civgrid certificate bundle (≤ 1 MiB)"),
    responses((status = 200, description = "the verdict", body = VerificationView)))]
async fn verify_bundle(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<VerificationView>> {
    Ok(Json(state.certificates.verify(&body).await?.into()))
}

/// `GET /api/v1/certificates/{number}/check`: verify the current bundle of a number (the QR):
/// valid or revoked, type, issuing department, dates — nothing about the holder.
#[utoipa::path(get, path = "/api/v1/certificates/{number}/check", tag = "certificates",
    summary = "Verify the current bundle of a number (QR target): validity only, nothing about the holder",
    params(("number" = String, Path, description = NUMBER)),
    responses((status = 200, description = "the verdict", body = VerificationView)))]
async fn check_certificate(
    State(state): State<AppState>,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Json<VerificationView>> {
    Ok(Json(state.certificates.check(&number).await?.into()))
}

/// `GET /api/v1/certificates/{number}/qr.svg`: a QR code of the verification page's address.
#[utoipa::path(get, path = "/api/v1/certificates/{number}/qr.svg", tag = "certificates",
    summary = "QR code of the verification page", params(("number" = String, Path, description = NUMBER)),
    responses((status = 200, description = "the QR code", content_type = "image/svg+xml", body = String)))]
async fn certificate_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
) -> ApiResult<Response> {
    // Only existing certificates get a code (and the number's shape is checked there).
    state.certificates.get(&number).await?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    // Served over HTTPS — natively (HSTS then on) or behind a TLS proxy (Secure cookies).
    let scheme = if state.settings.secure_cookies || state.settings.hsts { "https" } else { "http" };
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
