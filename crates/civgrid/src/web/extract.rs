//! Extractors that turn malformed requests into our error envelope, and the caller's identity.

use axum::extract::{FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::error::ApiError;
use super::AppState;
use crate::staff::{Principal, Role};

/// `axum::Json` whose rejections use our envelope.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` whose rejections use our envelope.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejections use our envelope.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

pub const SESSION_COOKIE: &str = "civgrid_session";

/// The bearer token or session cookie of a request, if any.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some(t) = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")) {
            return Some(t.trim().to_owned());
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The signed-in caller; rejects with 401 when there is no valid session or token.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = request_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        let principal = state.staff.authenticate(&token).await?;
        Ok(Auth(principal))
    }
}

/// `Option<Auth>`: the caller when a live session or token came with the request; anonymous
/// (None) otherwise — for answers that show staff more than the public.
impl<S> OptionalFromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some(token) = request_token(&parts.headers) else { return Ok(None) };
        match state.staff.authenticate(&token).await {
            Ok(p) => Ok(Some(Auth(p))),
            Err(crate::staff::StaffError::Unauthenticated) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The caller when the request carries a session or token — refused with 401 when it carries
/// one that has ended, as [`Auth`] — or `None` for an anonymous caller (endpoints that serve
/// both: reports, applications, a certificate's holder).
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Principal>);

impl<S> FromRequestParts<S> for MaybeAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match request_token(&parts.headers) {
            Some(token) => Ok(MaybeAuth(Some(AppState::from_ref(state).staff.authenticate(&token).await?))),
            None => Ok(MaybeAuth(None)),
        }
    }
}

impl Auth {
    /// Refuses unless the caller holds `role` over `area` (an area or grid code).
    pub fn require(&self, role: Role, area: &str, what: &str) -> Result<(), ApiError> {
        if self.0.can(role, area) {
            Ok(())
        } else {
            Err(ApiError::forbidden(what))
        }
    }
}

/// The request id set by the request-id layer, for the change record.
#[derive(Debug, Clone)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)))
    }
}

impl RequestId {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}
