//! Certificates: issue and revoke (staff), fetch a bundle and check one (anyone holding the
//! number or the file), the QR code and the verification page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, Auth};
use super::AppState;
use crate::certificates::{CertificateError, Issuer, NewCertificate};
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
        let status = match &e {
            CertificateError::Store(s) => return super::error::store_error(s),
            CertificateError::Ledger(l) => return ApiError::internal(l),
            CertificateError::Damaged(_) => return ApiError::internal(&e),
            CertificateError::NotFound(_) => StatusCode::NOT_FOUND,
            CertificateError::AlreadyRevoked(_) => StatusCode::CONFLICT,
            CertificateError::NotYetLogged(_) => {
                let mut err = ApiError::new(StatusCode::CONFLICT, e.code(), e.to_string());
                err.retry_after_s = Some(1);
                return err;
            }
            CertificateError::NoDepartment | CertificateError::OtherDepartment(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// Approvers issue for their own department; district administrators for theirs.
fn issuer(p: &Principal) -> Result<Issuer, ApiError> {
    let is_admin = p.has_role(Role::Admin);
    if !(is_admin || p.has_role(Role::Approver)) {
        return Err(ApiError::forbidden("issuing or revoking certificates"));
    }
    Ok(Issuer { actor: p.actor().label().to_owned(), department: p.department_code.clone(), is_admin })
}

/// `POST /api/v1/certificates`: issue a certificate (approver or admin).
async fn issue(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<NewCertificate>,
) -> ApiResult<impl IntoResponse> {
    let by = issuer(&auth.0)?;
    let view = state.certificates.issue(&by, body).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

/// `GET /api/v1/certificates/{number}`: the stored certificate (staff only).
async fn find(State(state): State<AppState>, auth: Auth, ApiPath(number): ApiPath<String>) -> ApiResult<Json<Value>> {
    if auth.0.roles.is_empty() {
        return Err(ApiError::forbidden("reading certificates"));
    }
    Ok(Json(json!(state.certificates.get(&number).await?)))
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
    let by = issuer(&auth.0)?;
    Ok(Json(json!(state.certificates.revoke(&by, &number, &body.reason).await?)))
}

/// `GET /api/v1/certificates/{number}/bundle`: the verifiable bundle, as a file.
async fn bundle(State(state): State<AppState>, ApiPath(number): ApiPath<String>) -> ApiResult<Response> {
    let bundle = state.certificates.bundle(&number).await?;
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

/// `GET /api/v1/certificates/{number}/check`: verify the current bundle of a number (the QR).
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
