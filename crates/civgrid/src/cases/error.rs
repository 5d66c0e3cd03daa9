//! What can go wrong with a case, each with its stable API code (`CaseError::code`).

use super::{MAX_DESCRIPTION_CHARS, MAX_PHOTOS_PER_CASE, MAX_RATING_COMMENT_CHARS, PHOTO_KEY_HOURS};
use crate::cases::state::TransitionError;
use crate::territory::TerritoryError;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("case {0} does not exist or is not visible to you")]
    NotFound(i64),
    #[error(
        "description must be 1–{MAX_DESCRIPTION_CHARS} characters, with line breaks but no other control characters"
    )]
    InvalidDescription,
    #[error("a location (lng, lat) is required for reports from channel `{0}`")]
    MissingLocation(String),
    #[error("lng and lat must be given together")]
    PartialLocation,
    #[error("unknown channel `{0}`; expected one of web, app, open311, hotline, wechat, sms, patrol, sensor")]
    UnknownChannel(String),
    #[error("unknown or inactive class `{0}`")]
    UnknownClass(String),
    #[error("department {0} does not exist")]
    UnknownDepartment(String),
    #[error("the case has no class yet: give class_code")]
    ClassRequired,
    #[error("the case has no location in the territory yet: give lng and lat")]
    LocationRequired,
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("the verifier must be someone other than the handler who gave the feedback")]
    VerifierIsHandler,
    #[error("class {0} does not allow self-handling by the grid worker")]
    SelfHandleNotAllowed(String),
    #[error("duplicate_of must name another open case")]
    InvalidDuplicate,
    #[error("no extension has been requested")]
    NoExtensionRequested,
    #[error("{0}")]
    InvalidField(String),
    #[error("the case is already at the city level")]
    AlreadyAtTop,
    #[error("photos must be readable JPEG, PNG or WebP images of at most 5 MiB, and the content must match the declared type")]
    InvalidPhoto,
    #[error("a case carries at most {MAX_PHOTOS_PER_CASE} photos")]
    TooManyPhotos,
    #[error("the photos of case {0} are shown only to those who act on the case")]
    PhotosWithheld(i64),
    #[error("photos are added only by those who act on the case in its current state (its grid worker, the intake operator, shift leader or dispatcher of its area, or a handler of its lead department)")]
    PhotoNotPermitted(i64),
    #[error("case {0} was changed by someone else meanwhile; reload it and try again")]
    Changed(i64),
    #[error("no case has the number `{0}`")]
    NumberNotFound(String),
    #[error("`rating` must be 1–5")]
    InvalidRating,
    #[error("the case has been rated already; a case takes one rating")]
    AlreadyRated,
    #[error("only a closed case can be rated")]
    NotClosed,
    #[error("the comment must be at most {MAX_RATING_COMMENT_CHARS} characters, with line breaks but no other control characters")]
    InvalidComment,
    #[error("give the phone number or e-mail address you left with the report")]
    ContactRequired,
    #[error("the case was reported without a contact, so it cannot be rated online; the callback operator rates it")]
    NoReporterContact,
    #[error("that is not the contact left with the report")]
    ContactMismatch,
    #[error("too many wrong contacts for this case; try again in {retry_after_s} s")]
    ReporterCheckThrottled { retry_after_s: i64 },
    #[error("send the photo key given with the report in the `X-Photo-Key` header")]
    PhotoKeyRequired,
    #[error("that is not the photo key given with this case's report")]
    PhotoKeyMismatch,
    #[error(
        "photos can be added with the report's key for {PHOTO_KEY_HOURS} hours after reporting; that time has passed"
    )]
    PhotoKeyExpired,
    #[error("no owner-of-last-resort department is set for the case's community, subdistrict or district ({0})")]
    NoLastResort(String),
    #[error(transparent)]
    Territory(#[from] TerritoryError),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LogError),
}

impl CaseError {
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::NotFound(_) => "case_not_found",
            CaseError::InvalidDescription => "invalid_description",
            CaseError::MissingLocation(_) => "missing_location",
            CaseError::PartialLocation => "partial_location",
            CaseError::UnknownChannel(_) => "unknown_channel",
            CaseError::UnknownClass(_) => "unknown_class",
            CaseError::UnknownDepartment(_) => "unknown_department",
            CaseError::ClassRequired => "class_required",
            CaseError::LocationRequired => "location_required",
            CaseError::Transition(t) => t.code(),
            CaseError::VerifierIsHandler => "verifier_is_handler",
            CaseError::SelfHandleNotAllowed(_) => "self_handle_not_allowed",
            CaseError::InvalidDuplicate => "invalid_duplicate",
            CaseError::NoExtensionRequested => "no_extension_requested",
            CaseError::InvalidField(_) => "invalid_field",
            CaseError::AlreadyAtTop => "already_at_top",
            CaseError::InvalidPhoto => "invalid_photo",
            CaseError::TooManyPhotos => "too_many_photos",
            CaseError::PhotosWithheld(_) => "case_photos_withheld",
            CaseError::PhotoNotPermitted(_) => "photo_not_permitted",
            CaseError::NoLastResort(_) => "no_last_resort_department",
            CaseError::NumberNotFound(_) => "case_not_found",
            CaseError::InvalidRating => "invalid_rating",
            CaseError::AlreadyRated => "already_rated",
            CaseError::NotClosed => "case_not_closed",
            CaseError::InvalidComment => "invalid_comment",
            CaseError::ContactRequired => "contact_required",
            CaseError::NoReporterContact => "no_reporter_contact",
            CaseError::ContactMismatch => "contact_mismatch",
            CaseError::ReporterCheckThrottled { .. } => "too_many_attempts",
            CaseError::PhotoKeyRequired => "photo_key_required",
            CaseError::PhotoKeyMismatch => "photo_key_mismatch",
            CaseError::PhotoKeyExpired => "photo_key_expired",
            CaseError::Changed(_) => "case_changed",
            CaseError::Territory(e) => e.code(),
            CaseError::Store(_) => "internal",
            CaseError::Ledger(e) => e.code(),
        }
    }
}
