//! The one JSON error envelope every endpoint answers with:
//!
//! ```json
//! {"error": {"code": "outside_territory", "message": "…", "details": …}}
//! ```
//!
//! `code` is stable snake_case (documented in docs/API-DESIGN.md); `message` is for people.
//! Internal failures are logged once here, inside the request span, and the client sees only
//! `internal` — never database text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::cases::CaseError;
use crate::staff::StaffError;
use crate::territory::TerritoryError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<serde_json::Value>,
    pub retry_after_s: Option<i64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: None, retry_after_s: None }
    }
    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthenticated() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first: send a session or API token")
    }
    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("your roles do not allow {what}"))
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// An anonymous budget ([`super::limit::Budget`]) is spent for now.
    pub fn too_many_requests(retry_after_s: u64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many requests from your address; try again in {retry_after_s} s"),
        );
        e.retry_after_s = Some(i64::try_from(retry_after_s).unwrap_or(i64::MAX));
        e
    }
    /// Logs the cause (once, here) and hides it from the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error.cause = %cause, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the request id identifies it in the logs",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(d) = self.details {
            body["error"]["details"] = d;
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(s) = self.retry_after_s {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

pub(crate) fn store_error(e: &sqlx::Error) -> ApiError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            tracing::error!(error.cause = %e, "database unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database is not answering; try again shortly",
            )
        }
        _ => ApiError::internal(e),
    }
}

impl From<TerritoryError> for ApiError {
    fn from(e: TerritoryError) -> ApiError {
        let status = match &e {
            TerritoryError::Store(s) => return store_error(s),
            TerritoryError::Code(_) | TerritoryError::InvalidName | TerritoryError::InvalidWorkerKind => {
                StatusCode::BAD_REQUEST
            }
            TerritoryError::OutsideTerritory { .. } | TerritoryError::ImportRefused(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            TerritoryError::NoTerritory => StatusCode::SERVICE_UNAVAILABLE,
            TerritoryError::AreaNotFound(_) | TerritoryError::GridNotFound(_) | TerritoryError::StaffNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            TerritoryError::AreaExists(_) | TerritoryError::SecondDistrict(_) => StatusCode::CONFLICT,
            TerritoryError::ParentMissing(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let mut err = ApiError::new(status, e.code(), e.to_string());
        if let TerritoryError::ImportRefused(problems) = &e {
            err = err.with_details(json!({"problems": problems}));
        }
        err
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> ApiError {
        let status = match &e {
            StaffError::Store(s) => return store_error(s),
            StaffError::Internal(i) => return ApiError::internal(i),
            StaffError::InvalidCredentials | StaffError::Unauthenticated => StatusCode::UNAUTHORIZED,
            StaffError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            StaffError::Forbidden(_) | StaffError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            StaffError::DutiesCombined | StaffError::AreaRequired => StatusCode::UNPROCESSABLE_ENTITY,
            StaffError::WeakPassword(_) | StaffError::InvalidTokenLifetime => StatusCode::BAD_REQUEST,
            StaffError::UsernameTaken(_) | StaffError::DepartmentExists(_) => StatusCode::CONFLICT,
            StaffError::StaffNotFound(_) | StaffError::TokenNotFound(_) => StatusCode::NOT_FOUND,
            StaffError::AreaNotFound(_)
            | StaffError::DepartmentNotFound(_)
            | StaffError::GridNotFound(_)
            | StaffError::DepartmentRequired(_)
            | StaffError::NotGridWorker => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut err = ApiError::new(status, e.code(), e.to_string());
        if let StaffError::Throttled { retry_after_s } = e {
            err.retry_after_s = Some(retry_after_s);
        }
        err
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        store_error(&e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let (status, code) = match &r {
            JsonRejection::MissingJsonContentType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            JsonRejection::JsonSyntaxError(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            JsonRejection::JsonDataError(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            JsonRejection::BytesRejection(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            _ => (StatusCode::BAD_REQUEST, "invalid_body"),
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request("invalid_path", r.body_text())
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        let e = match e {
            CaseError::Territory(t) => return t.into(),
            CaseError::Store(s) => return store_error(&s),
            // A record's ledger entry cannot be refused for the caller's input: any failure is ours.
            CaseError::Ledger(l) => return ApiError::internal(&l),
            other => other,
        };
        let status = match &e {
            CaseError::NotFound(_) | CaseError::NumberNotFound(_) => StatusCode::NOT_FOUND,
            CaseError::ContactMismatch | CaseError::PhotoKeyMismatch | CaseError::PhotoKeyExpired => {
                StatusCode::FORBIDDEN
            }
            CaseError::PhotoKeyRequired => StatusCode::UNAUTHORIZED,
            CaseError::ReporterCheckThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            CaseError::AlreadyRated | CaseError::NotClosed | CaseError::NoReporterContact => StatusCode::CONFLICT,
            CaseError::Transition(t) if t.code() == "forbidden" => StatusCode::FORBIDDEN,
            CaseError::Transition(t) if t.code() == "illegal_transition" => StatusCode::CONFLICT,
            CaseError::VerifierIsHandler => StatusCode::FORBIDDEN,
            CaseError::PhotosWithheld(_) | CaseError::PhotoNotPermitted(_) => StatusCode::FORBIDDEN,
            CaseError::NoExtensionRequested | CaseError::AlreadyAtTop | CaseError::InvalidDuplicate => {
                StatusCode::CONFLICT
            }
            CaseError::InvalidPhoto => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CaseError::TooManyPhotos | CaseError::Changed(_) => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let mut err = ApiError::new(status, e.code(), e.to_string());
        if let CaseError::ReporterCheckThrottled { retry_after_s } = e {
            err.retry_after_s = Some(retry_after_s);
        }
        err
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", r.body_text())
    }
}
