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
use serde::Serialize;
use serde_json::json;

use crate::cases::state::TransitionError;
use crate::cases::CaseError;
use crate::identity::IdError;
use crate::staff::StaffError;
use crate::territory::codes::CodeError;
use crate::territory::TerritoryError;

/// Declares [`ErrorCode`] from one table (variant = "code" => status), so the list, the wire
/// string and the status cannot drift apart; the generated matches list every variant.
macro_rules! error_codes {
    ($($variant:ident = $code:literal => $status:ident,)*) => {
        /// Every stable code the JSON API answers with (docs/API-DESIGN.md). A new failure
        /// needs a variant here, a status below and a message in both languages (a test
        /// checks the last).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status the code is answered with.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    Unauthenticated = "unauthenticated" => UNAUTHORIZED,
    Forbidden = "forbidden" => FORBIDDEN,
    NotFound = "not_found" => NOT_FOUND,
    TooManyRequests = "too_many_requests" => TOO_MANY_REQUESTS,
    TooManyAttempts = "too_many_attempts" => TOO_MANY_REQUESTS,
    Internal = "internal" => INTERNAL_SERVER_ERROR,
    DatabaseUnavailable = "database_unavailable" => SERVICE_UNAVAILABLE,
    UnsupportedMediaType = "unsupported_media_type" => UNSUPPORTED_MEDIA_TYPE,
    InvalidJson = "invalid_json" => BAD_REQUEST,
    InvalidBody = "invalid_body" => UNPROCESSABLE_ENTITY,
    BodyTooLarge = "body_too_large" => PAYLOAD_TOO_LARGE,
    InvalidQuery = "invalid_query" => BAD_REQUEST,
    InvalidPath = "invalid_path" => BAD_REQUEST,
    InvalidLimit = "invalid_limit" => BAD_REQUEST,
    InvalidScope = "invalid_scope" => BAD_REQUEST,
    UnknownDatum = "unknown_datum" => BAD_REQUEST,
    MissingDatum = "missing_datum" => BAD_REQUEST,
    CoordinateNotFinite = "coordinate_not_finite" => BAD_REQUEST,
    CoordinateOutOfRange = "coordinate_out_of_range" => BAD_REQUEST,
    InvalidCode = "invalid_code" => BAD_REQUEST,
    WrongCodeLevel = "wrong_code_level" => BAD_REQUEST,
    OutsideTerritory = "outside_territory" => UNPROCESSABLE_ENTITY,
    NoTerritory = "no_territory" => SERVICE_UNAVAILABLE,
    AreaNotFound = "area_not_found" => NOT_FOUND,
    GridNotFound = "grid_not_found" => NOT_FOUND,
    AreaExists = "area_exists" => CONFLICT,
    ParentMissing = "parent_missing" => UNPROCESSABLE_ENTITY,
    SecondDistrict = "second_district" => CONFLICT,
    InvalidName = "invalid_name" => BAD_REQUEST,
    ImportRefused = "import_refused" => UNPROCESSABLE_ENTITY,
    StaffNotFound = "staff_not_found" => NOT_FOUND,
    InvalidWorkerKind = "invalid_worker_kind" => BAD_REQUEST,
    InvalidCredentials = "invalid_credentials" => UNAUTHORIZED,
    InvalidUsername = "invalid_username" => BAD_REQUEST,
    UsernameTaken = "username_taken" => CONFLICT,
    WeakPassword = "weak_password" => BAD_REQUEST,
    PasswordChangeRequired = "password_change_required" => FORBIDDEN,
    DutiesCombined = "duties_combined" => UNPROCESSABLE_ENTITY,
    AreaRequired = "area_required" => UNPROCESSABLE_ENTITY,
    InvalidTokenLifetime = "invalid_token_lifetime" => BAD_REQUEST,
    InvalidDisplayName = "invalid_display_name" => BAD_REQUEST,
    UnknownRole = "unknown_role" => BAD_REQUEST,
    DepartmentNotFound = "department_not_found" => UNPROCESSABLE_ENTITY,
    DepartmentExists = "department_exists" => CONFLICT,
    InvalidDepartmentCode = "invalid_department_code" => BAD_REQUEST,
    DepartmentRequired = "department_required" => UNPROCESSABLE_ENTITY,
    NotGridWorker = "not_grid_worker" => UNPROCESSABLE_ENTITY,
    TokenNotFound = "token_not_found" => NOT_FOUND,
    CaseNotFound = "case_not_found" => NOT_FOUND,
    InvalidDescription = "invalid_description" => UNPROCESSABLE_ENTITY,
    MissingLocation = "missing_location" => UNPROCESSABLE_ENTITY,
    PartialLocation = "partial_location" => UNPROCESSABLE_ENTITY,
    UnknownChannel = "unknown_channel" => UNPROCESSABLE_ENTITY,
    UnknownClass = "unknown_class" => UNPROCESSABLE_ENTITY,
    UnknownDepartment = "unknown_department" => UNPROCESSABLE_ENTITY,
    ClassRequired = "class_required" => UNPROCESSABLE_ENTITY,
    LocationRequired = "location_required" => UNPROCESSABLE_ENTITY,
    IllegalTransition = "illegal_transition" => CONFLICT,
    NoteRequired = "note_required" => UNPROCESSABLE_ENTITY,
    VerifierIsHandler = "verifier_is_handler" => FORBIDDEN,
    SelfHandleNotAllowed = "self_handle_not_allowed" => UNPROCESSABLE_ENTITY,
    InvalidDuplicate = "invalid_duplicate" => CONFLICT,
    NoExtensionRequested = "no_extension_requested" => CONFLICT,
    InvalidField = "invalid_field" => UNPROCESSABLE_ENTITY,
    AlreadyAtTop = "already_at_top" => CONFLICT,
    InvalidPhoto = "invalid_photo" => UNSUPPORTED_MEDIA_TYPE,
    TooManyPhotos = "too_many_photos" => CONFLICT,
    CasePhotosWithheld = "case_photos_withheld" => FORBIDDEN,
    PhotoNotPermitted = "photo_not_permitted" => FORBIDDEN,
    NoLastResortDepartment = "no_last_resort_department" => UNPROCESSABLE_ENTITY,
    InvalidRating = "invalid_rating" => UNPROCESSABLE_ENTITY,
    AlreadyRated = "already_rated" => CONFLICT,
    CaseNotClosed = "case_not_closed" => CONFLICT,
    InvalidComment = "invalid_comment" => UNPROCESSABLE_ENTITY,
    ContactRequired = "contact_required" => UNPROCESSABLE_ENTITY,
    NoReporterContact = "no_reporter_contact" => CONFLICT,
    ContactMismatch = "contact_mismatch" => FORBIDDEN,
    PhotoKeyRequired = "photo_key_required" => UNAUTHORIZED,
    PhotoKeyMismatch = "photo_key_mismatch" => FORBIDDEN,
    PhotoKeyExpired = "photo_key_expired" => FORBIDDEN,
    CaseChanged = "case_changed" => CONFLICT,
    InvalidItem = "invalid_item" => UNPROCESSABLE_ENTITY,
    InvalidIdNumber = "invalid_id_number" => UNPROCESSABLE_ENTITY,
    InvalidIdNumberBirthDate = "invalid_id_number_birth_date" => UNPROCESSABLE_ENTITY,
    InvalidIdNumberChecksum = "invalid_id_number_checksum" => UNPROCESSABLE_ENTITY,
    InvalidCreditCode = "invalid_credit_code" => UNPROCESSABLE_ENTITY,
    InvalidCreditCodeChecksum = "invalid_credit_code_checksum" => UNPROCESSABLE_ENTITY,
    ItemNotFound = "item_not_found" => NOT_FOUND,
    UnknownItem = "unknown_item" => UNPROCESSABLE_ENTITY,
    ItemInactive = "item_inactive" => UNPROCESSABLE_ENTITY,
    ApplicantTypeMismatch = "applicant_type_mismatch" => UNPROCESSABLE_ENTITY,
    NotEligible = "not_eligible" => UNPROCESSABLE_ENTITY,
    UnknownMaterial = "unknown_material" => UNPROCESSABLE_ENTITY,
    DuplicateMaterial = "duplicate_material" => UNPROCESSABLE_ENTITY,
    MaterialWrongFormat = "material_wrong_format" => UNPROCESSABLE_ENTITY,
    MaterialTooLarge = "material_too_large" => UNPROCESSABLE_ENTITY,
    InvalidMaterial = "invalid_material" => UNPROCESSABLE_ENTITY,
    ApplicationNotFound = "application_not_found" => NOT_FOUND,
    NoticeNotFound = "notice_not_found" => NOT_FOUND,
    ApplicationConcluded = "application_concluded" => CONFLICT,
    OutOfTurn = "out_of_turn" => CONFLICT,
    AlreadyDecided = "already_decided" => CONFLICT,
    StepNotFound = "step_not_found" => NOT_FOUND,
    CriterionUnchecked = "criterion_unchecked" => UNPROCESSABLE_ENTITY,
    UnknownCriterion = "unknown_criterion" => UNPROCESSABLE_ENTITY,
    CriteriaNotMet = "criteria_not_met" => UNPROCESSABLE_ENTITY,
    RejectionWithoutUnmetCriterion = "rejection_without_unmet_criterion" => UNPROCESSABLE_ENTITY,
    ApplicationSuspended = "application_suspended" => CONFLICT,
    NotSuspended = "not_suspended" => CONFLICT,
    UnknownSpecialStep = "unknown_special_step" => UNPROCESSABLE_ENTITY,
    NoDepartment = "no_department" => FORBIDDEN,
    NotConcluded = "not_concluded" => CONFLICT,
    RectificationNotFound = "rectification_not_found" => NOT_FOUND,
    IllegalRectificationState = "illegal_rectification_state" => CONFLICT,
    InvalidPeriod = "invalid_period" => BAD_REQUEST,
    AccessKeyThrottled = "access_key_throttled" => TOO_MANY_REQUESTS,
    LicenceTypeOwnedElsewhere = "licence_type_owned_elsewhere" => UNPROCESSABLE_ENTITY,
    ApplicationNotApproved = "application_not_approved" => CONFLICT,
    ItemIssuesNoLicence = "item_issues_no_licence" => UNPROCESSABLE_ENTITY,
    LicenceInForce = "licence_in_force" => CONFLICT,
    CertificateNotFound = "certificate_not_found" => NOT_FOUND,
    AlreadyRevoked = "already_revoked" => CONFLICT,
    NotYetLogged = "not_yet_logged" => CONFLICT,
    OtherDepartment = "other_department" => FORBIDDEN,
    NoCheckpoint = "no_checkpoint" => NOT_FOUND,
    IndexOutOfRange = "index_out_of_range" => BAD_REQUEST,
    SizeDecreased = "size_decreased" => BAD_REQUEST,
    NotTilePath = "not_tile_path" => BAD_REQUEST,
    BadTileLevel = "bad_tile_level" => BAD_REQUEST,
    BadTileIndex = "bad_tile_index" => BAD_REQUEST,
    TileIndexLeadingZeros = "tile_index_leading_zeros" => BAD_REQUEST,
    TileIndexTooLarge = "tile_index_too_large" => BAD_REQUEST,
    BadTileWidth = "bad_tile_width" => BAD_REQUEST,
    TilePathExtraSegments = "tile_path_extra_segments" => BAD_REQUEST,
    InvalidKey = "invalid_key" => BAD_REQUEST,
    Open311KeyNotFound = "open311_key_not_found" => NOT_FOUND,
    Open311KeyRevoked = "open311_key_revoked" => CONFLICT,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error envelope as the document shows it: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The inside of the envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: ErrorCode,
    /// For people; may change between releases.
    pub message: String,
    /// Facts a client can act on (an import's problems, the criteria not met, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    /// The code's status ([`ErrorCode::status`]), except where a mapping below says otherwise.
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
    pub retry_after_s: Option<i64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status: code.status(), code, message: message.into(), details: None, retry_after_s: None }
    }
    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }
    pub fn with_retry_after(mut self, retry_after_s: i64) -> ApiError {
        self.retry_after_s = Some(retry_after_s);
        self
    }
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(code, message)
    }
    pub fn unauthenticated() -> ApiError {
        ApiError::new(ErrorCode::Unauthenticated, "sign in first: send a session or API token")
    }
    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, format!("your roles do not allow {what}"))
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }
    /// An anonymous budget ([`super::limit::Budget`]) is spent for now.
    pub fn too_many_requests(retry_after_s: u64) -> ApiError {
        ApiError::new(
            ErrorCode::TooManyRequests,
            format!("too many requests from your address; try again in {retry_after_s} s"),
        )
        .with_retry_after(i64::try_from(retry_after_s).unwrap_or(i64::MAX))
    }
    /// Logs the cause (once, here) and hides it from the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error.cause = %cause, "request failed");
        ApiError::new(ErrorCode::Internal, "internal error; the request id identifies it in the logs")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope { error: ErrorBody { code: self.code, message: self.message, details: self.details } };
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
            ApiError::new(ErrorCode::DatabaseUnavailable, "the database is not answering; try again shortly")
        }
        // sqlx's error is non-exhaustive: every other failure is ours, never the caller's.
        _ => ApiError::internal(e),
    }
}

fn code_error(e: &CodeError) -> ErrorCode {
    match e {
        CodeError::Malformed(_)
        | CodeError::UnknownProvince(_)
        | CodeError::NotADistrict(_)
        | CodeError::ZeroSegment(_) => ErrorCode::InvalidCode,
        CodeError::WrongLevel { .. } => ErrorCode::WrongCodeLevel,
    }
}

pub(crate) fn id_error(e: &IdError) -> ErrorCode {
    match e {
        IdError::ResidentIdShape => ErrorCode::InvalidIdNumber,
        IdError::ResidentIdBirthDate => ErrorCode::InvalidIdNumberBirthDate,
        IdError::ResidentIdChecksum => ErrorCode::InvalidIdNumberChecksum,
        IdError::CreditCodeShape => ErrorCode::InvalidCreditCode,
        IdError::CreditCodeChecksum => ErrorCode::InvalidCreditCodeChecksum,
    }
}

impl From<TerritoryError> for ApiError {
    fn from(e: TerritoryError) -> ApiError {
        let code = match &e {
            TerritoryError::Store(s) => return store_error(s),
            TerritoryError::Code(c) => code_error(c),
            TerritoryError::InvalidName => ErrorCode::InvalidName,
            TerritoryError::InvalidWorkerKind => ErrorCode::InvalidWorkerKind,
            TerritoryError::OutsideTerritory { .. } => ErrorCode::OutsideTerritory,
            TerritoryError::ImportRefused(_) => ErrorCode::ImportRefused,
            TerritoryError::NoTerritory => ErrorCode::NoTerritory,
            TerritoryError::AreaNotFound(_) => ErrorCode::AreaNotFound,
            TerritoryError::GridNotFound(_) => ErrorCode::GridNotFound,
            TerritoryError::StaffNotFound(_) => ErrorCode::StaffNotFound,
            TerritoryError::AreaExists(_) => ErrorCode::AreaExists,
            TerritoryError::SecondDistrict(_) => ErrorCode::SecondDistrict,
            TerritoryError::ParentMissing(_) => ErrorCode::ParentMissing,
        };
        let mut err = ApiError::new(code, e.to_string());
        if let TerritoryError::ImportRefused(problems) = &e {
            err = err.with_details(json!({"problems": problems}));
        }
        err
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> ApiError {
        let code = match &e {
            StaffError::Store(s) => return store_error(s),
            StaffError::Internal(i) => return ApiError::internal(i),
            StaffError::InvalidCredentials => ErrorCode::InvalidCredentials,
            StaffError::Unauthenticated => ErrorCode::Unauthenticated,
            StaffError::Throttled { .. } => ErrorCode::TooManyAttempts,
            StaffError::Forbidden(_) => ErrorCode::Forbidden,
            StaffError::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            StaffError::DutiesCombined => ErrorCode::DutiesCombined,
            StaffError::AreaRequired => ErrorCode::AreaRequired,
            StaffError::WeakPassword(_) => ErrorCode::WeakPassword,
            StaffError::InvalidTokenLifetime => ErrorCode::InvalidTokenLifetime,
            StaffError::UsernameTaken(_) => ErrorCode::UsernameTaken,
            StaffError::DepartmentExists(_) => ErrorCode::DepartmentExists,
            StaffError::StaffNotFound(_) => ErrorCode::StaffNotFound,
            StaffError::TokenNotFound(_) => ErrorCode::TokenNotFound,
            StaffError::DepartmentNotFound(_) => ErrorCode::DepartmentNotFound,
            StaffError::DepartmentRequired(_) => ErrorCode::DepartmentRequired,
            StaffError::NotGridWorker => ErrorCode::NotGridWorker,
            StaffError::InvalidUsername => ErrorCode::InvalidUsername,
            StaffError::InvalidDisplayName => ErrorCode::InvalidDisplayName,
            StaffError::UnknownRole(_) => ErrorCode::UnknownRole,
            StaffError::InvalidDepartmentCode => ErrorCode::InvalidDepartmentCode,
            StaffError::InvalidWorkerKind => ErrorCode::InvalidWorkerKind,
            StaffError::Code(c) => code_error(c),
            // An area or grid named in an account's body that does not exist: the body cannot
            // be processed (422), unlike a missing area or grid in the address (404).
            StaffError::AreaNotFound(_) | StaffError::GridNotFound(_) => {
                let code = if matches!(e, StaffError::AreaNotFound(_)) {
                    ErrorCode::AreaNotFound
                } else {
                    ErrorCode::GridNotFound
                };
                let mut err = ApiError::new(code, e.to_string());
                err.status = StatusCode::UNPROCESSABLE_ENTITY;
                return err;
            }
        };
        let mut err = ApiError::new(code, e.to_string());
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
        let code = match &r {
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            JsonRejection::JsonSyntaxError(_) => ErrorCode::InvalidJson,
            JsonRejection::JsonDataError(_) => ErrorCode::InvalidBody,
            JsonRejection::BytesRejection(_) => ErrorCode::BodyTooLarge,
            // axum's rejection is non-exhaustive; a kind it adds later is a body we cannot read.
            _ => ErrorCode::InvalidBody,
        };
        ApiError::new(code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::new(ErrorCode::InvalidQuery, r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::new(ErrorCode::InvalidPath, r.body_text())
    }
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> ApiError {
        let code = match &e {
            CaseError::Territory(_) | CaseError::Store(_) | CaseError::Ledger(_) => {
                return match e {
                    CaseError::Territory(t) => t.into(),
                    CaseError::Store(s) => store_error(&s),
                    // A record's ledger entry cannot be refused for the caller's input: any
                    // failure is ours.
                    other => ApiError::internal(&other),
                };
            }
            CaseError::NotFound(_) | CaseError::NumberNotFound(_) => ErrorCode::CaseNotFound,
            CaseError::ContactMismatch => ErrorCode::ContactMismatch,
            CaseError::PhotoKeyMismatch => ErrorCode::PhotoKeyMismatch,
            CaseError::PhotoKeyExpired => ErrorCode::PhotoKeyExpired,
            CaseError::PhotoKeyRequired => ErrorCode::PhotoKeyRequired,
            CaseError::ReporterCheckThrottled { .. } => ErrorCode::TooManyAttempts,
            CaseError::AlreadyRated => ErrorCode::AlreadyRated,
            CaseError::NotClosed => ErrorCode::CaseNotClosed,
            CaseError::NoReporterContact => ErrorCode::NoReporterContact,
            CaseError::Transition(TransitionError::WrongRole { .. }) => ErrorCode::Forbidden,
            CaseError::Transition(TransitionError::WrongState { .. }) => ErrorCode::IllegalTransition,
            CaseError::Transition(TransitionError::NoteRequired { .. }) => ErrorCode::NoteRequired,
            CaseError::VerifierIsHandler => ErrorCode::VerifierIsHandler,
            CaseError::PhotosWithheld(_) => ErrorCode::CasePhotosWithheld,
            CaseError::PhotoNotPermitted(_) => ErrorCode::PhotoNotPermitted,
            CaseError::NoExtensionRequested => ErrorCode::NoExtensionRequested,
            CaseError::AlreadyAtTop => ErrorCode::AlreadyAtTop,
            CaseError::InvalidDuplicate => ErrorCode::InvalidDuplicate,
            CaseError::InvalidPhoto => ErrorCode::InvalidPhoto,
            CaseError::TooManyPhotos => ErrorCode::TooManyPhotos,
            CaseError::Changed(_) => ErrorCode::CaseChanged,
            CaseError::InvalidDescription => ErrorCode::InvalidDescription,
            CaseError::MissingLocation(_) => ErrorCode::MissingLocation,
            CaseError::PartialLocation => ErrorCode::PartialLocation,
            CaseError::UnknownChannel(_) => ErrorCode::UnknownChannel,
            CaseError::UnknownClass(_) => ErrorCode::UnknownClass,
            CaseError::UnknownDepartment(_) => ErrorCode::UnknownDepartment,
            CaseError::ClassRequired => ErrorCode::ClassRequired,
            CaseError::LocationRequired => ErrorCode::LocationRequired,
            CaseError::SelfHandleNotAllowed(_) => ErrorCode::SelfHandleNotAllowed,
            CaseError::InvalidField(_) => ErrorCode::InvalidField,
            CaseError::NoLastResort(_) => ErrorCode::NoLastResortDepartment,
            CaseError::InvalidRating => ErrorCode::InvalidRating,
            CaseError::InvalidComment => ErrorCode::InvalidComment,
            CaseError::ContactRequired => ErrorCode::ContactRequired,
        };
        let mut err = ApiError::new(code, e.to_string());
        if let CaseError::ReporterCheckThrottled { retry_after_s } = e {
            err.retry_after_s = Some(retry_after_s);
        }
        err
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> ApiError {
        ApiError::new(ErrorCode::BodyTooLarge, r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use super::super::pages::i18n::{Lang, Tr};
    use super::*;

    #[test]
    fn every_error_code_has_a_message_in_both_languages() {
        let missing: Vec<_> = ErrorCode::ALL
            .iter()
            .filter(|c| {
                let key = format!("error.{}", c.as_str());
                Tr(Lang::Zh).t(&key) == "?" || Tr(Lang::En).t(&key) == "?"
            })
            .collect();
        assert!(missing.is_empty(), "no message for {missing:?}");
    }

    /// The wire string, the serialized form and the list agree, and no code is listed twice.
    #[test]
    fn codes_are_unique_and_serialize_as_their_string() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), json!(c.as_str()));
            assert!(seen.insert(c.as_str()), "{c} twice");
        }
        assert_eq!(ErrorCode::ALL.len(), seen.len());
        assert_eq!(ErrorCode::Internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
