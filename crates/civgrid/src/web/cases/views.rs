//! The cases context's request and response types: what a client sends and sees, never a store
//! row. Each answer keeps the JSON keys the API has always had; the reporter's name and contact
//! appear only in the views of those who work a case (`reporter`, see cases/sight.rs).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::cases::indicators::Indicators;
use crate::cases::state::Action;
use crate::cases::{
    CaseClass, CaseItem, CaseRow, CaseView, DuplicateCandidate, PhotoMeta, ReportOutcome, ReporterView, TransitionRow,
};

/// A catalogue class (one version), as listed and as answered when a version is added.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassView {
    pub code: String,
    pub version: i64,
    /// `event` or `component`.
    pub kind: String,
    pub major_code: String,
    pub major_name: String,
    pub minor_name: String,
    pub filing_criteria: String,
    pub closing_criteria: String,
    pub time_limit: i64,
    /// `working_hours` or `working_days`.
    pub time_limit_unit: String,
    pub department_code: String,
    pub duplicate_radius_m: f64,
    pub duplicate_window_hours: i64,
    pub self_handle_allowed: bool,
    pub active: bool,
}

impl From<CaseClass> for ClassView {
    fn from(c: CaseClass) -> ClassView {
        ClassView {
            code: c.code,
            version: c.version,
            kind: c.kind,
            major_code: c.major_code,
            major_name: c.major_name,
            minor_name: c.minor_name,
            filing_criteria: c.filing_criteria,
            closing_criteria: c.closing_criteria,
            time_limit: c.time_limit,
            time_limit_unit: c.time_limit_unit,
            department_code: c.department_code,
            duplicate_radius_m: c.duplicate_radius_m,
            duplicate_window_hours: c.duplicate_window_hours,
            self_handle_allowed: c.self_handle_allowed,
            active: c.active,
        }
    }
}

/// `GET /api/v1/case-classes`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Classes {
    pub classes: Vec<ClassView>,
}

/// `PUT /api/v1/admin/case-classes/{code}`: the class's fields (its code is in the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassBody {
    /// `event` or `component`.
    pub kind: String,
    pub major_code: String,
    pub major_name: String,
    pub minor_name: String,
    pub filing_criteria: String,
    pub closing_criteria: String,
    #[schema(minimum = 1)]
    pub time_limit: i64,
    /// `working_hours` or `working_days`.
    pub time_limit_unit: String,
    pub department_code: String,
    #[schema(minimum = 0)]
    pub duplicate_radius_m: f64,
    #[schema(minimum = 0)]
    pub duplicate_window_hours: i64,
    pub self_handle_allowed: bool,
    pub active: bool,
}

impl ClassBody {
    /// The class with this code; its version is given by the service.
    pub fn into_class(self, code: String) -> CaseClass {
        CaseClass {
            code,
            version: 0,
            kind: self.kind,
            major_code: self.major_code,
            major_name: self.major_name,
            minor_name: self.minor_name,
            filing_criteria: self.filing_criteria,
            closing_criteria: self.closing_criteria,
            time_limit: self.time_limit,
            time_limit_unit: self.time_limit_unit,
            department_code: self.department_code,
            duplicate_radius_m: self.duplicate_radius_m,
            duplicate_window_hours: self.duplicate_window_hours,
            self_handle_allowed: self.self_handle_allowed,
            active: self.active,
        }
    }
}

/// One exception to the working week.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` or `workday`.
    pub kind: String,
    pub note: String,
}

/// `GET /api/v1/admin/calendar`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDays {
    pub days: Vec<CalendarDay>,
}

/// `PUT /api/v1/admin/calendar/{day}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayBody {
    /// `holiday` or `workday`.
    pub kind: String,
    #[serde(default)]
    pub note: String,
}

/// An area's owner of last resort (兜底部门).
#[derive(Debug, Serialize, ToSchema)]
pub struct LastResort {
    pub area_code: String,
    pub department_code: String,
}

/// `GET /api/v1/admin/last-resort`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastResorts {
    pub last_resort: Vec<LastResort>,
}

/// `PUT /api/v1/admin/last-resort/{area}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LastResortBody {
    pub department_code: String,
}

/// `POST /api/v1/reports`: a report as it arrives.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    pub description: String,
    /// `web`, `app`, `open311`, `hotline`, `wechat`, `sms`, `patrol` or `sensor` (default `web`).
    pub channel: Option<String>,
    pub class_code: Option<String>,
    #[schema(minimum = -180, maximum = 180)]
    pub lng: Option<f64>,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// `wgs84` (default), `cgcs2000`, `gcj02` or `bd09`.
    pub datum: Option<String>,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    /// Makes a retry safe (the `Idempotency-Key` header does the same).
    pub idempotency_key: Option<String>,
    /// A link to a photo or video published elsewhere (http or https).
    #[schema(format = "uri")]
    pub media_url: Option<String>,
}

impl From<ReportBody> for crate::cases::NewReport {
    fn from(b: ReportBody) -> crate::cases::NewReport {
        crate::cases::NewReport {
            description: b.description,
            channel: b.channel,
            class_code: b.class_code,
            lng: b.lng,
            lat: b.lat,
            datum: b.datum,
            address: b.address,
            reporter_name: b.reporter_name,
            reporter_contact: b.reporter_contact,
            idempotency_key: b.idempotency_key,
            media_url: b.media_url,
        }
    }
}

/// A case without its reporter: what every view of a case shows (the reporter is added only
/// for those who work it).
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseFields {
    pub id: i64,
    /// The acceptance number (受理编号).
    pub number: String,
    pub state: String,
    pub channel: String,
    pub description: String,
    pub class_code: Option<String>,
    pub class_version: Option<i64>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub grid_code: Option<String>,
    pub address: Option<String>,
    pub media_url: Option<String>,
    pub lead_department: Option<String>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub handle_deadline: Option<DateTime<Utc>>,
    pub escalation_level: i64,
    pub supervised: bool,
    pub extension_requested: bool,
    pub duplicate_of: Option<i64>,
    pub rating: Option<i64>,
    pub rework_count: i64,
    pub return_count: i64,
    pub reported_by: String,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub filed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub dispatched_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub handled_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verify_deadline: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<CaseRow> for CaseFields {
    fn from(c: CaseRow) -> CaseFields {
        CaseFields {
            id: c.id,
            number: c.number,
            state: c.state,
            channel: c.channel,
            description: c.description,
            class_code: c.class_code,
            class_version: c.class_version,
            lng: c.lng,
            lat: c.lat,
            grid_code: c.grid_code,
            address: c.address,
            media_url: c.media_url,
            lead_department: c.lead_department,
            handle_deadline: c.handle_deadline,
            escalation_level: c.escalation_level,
            supervised: c.supervised,
            extension_requested: c.extension_requested,
            duplicate_of: c.duplicate_of,
            rating: c.rating,
            rework_count: c.rework_count,
            return_count: c.return_count,
            reported_by: c.reported_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            filed_at: c.filed_at,
            dispatched_at: c.dispatched_at,
            handled_at: c.handled_at,
            verified_at: c.verified_at,
            verify_deadline: c.verify_deadline,
            closed_at: c.closed_at,
        }
    }
}

/// The reporter of a case, shown only to those who work it (the read is recorded, 查阅留痕).
#[derive(Debug, Serialize, ToSchema)]
pub struct Reporter {
    pub name: Option<String>,
    pub contact: Option<String>,
}

impl From<ReporterView> for Reporter {
    fn from(r: ReporterView) -> Reporter {
        Reporter { name: r.name, contact: r.contact }
    }
}

/// A case in a list: for those who work it, with the reporter.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseListItem {
    #[serde(flatten)]
    pub case: CaseFields,
    /// Personal data: present only for those who work the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
}

impl From<CaseItem> for CaseListItem {
    fn from(i: CaseItem) -> CaseListItem {
        CaseListItem { case: i.case.into(), reporter: i.reporter.map(Reporter::from) }
    }
}

/// `GET /api/v1/cases`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseListItem>,
}

/// `GET /api/v1/cases?state&limit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only cases in this state.
    pub state: Option<String>,
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
}

/// `GET /api/v1/map/cases?limit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// At most this many (up to 20,000, default 10,000).
    pub limit: Option<i64>,
}

/// `GET /api/v1/map/cases`: the live cases as rows, each an array in the order of `fields`.
/// Built by the database and passed through; this type documents the shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapCases {
    pub fields: Vec<String>,
    /// Each row an array of numbers, strings, booleans and nulls, in the order of `fields`.
    #[schema(value_type = Vec<Vec<Value>>)]
    pub cases: Vec<Vec<serde_json::Value>>,
}

/// One recorded move of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
}

impl From<TransitionRow> for TransitionView {
    fn from(t: TransitionRow) -> TransitionView {
        TransitionView {
            at: t.at,
            actor: t.actor,
            role: t.role,
            action: t.action,
            from_state: t.from_state,
            to_state: t.to_state,
            note: t.note,
        }
    }
}

/// `GET /api/v1/cases/{id}` and the answer to a transition: a case with its departments,
/// history and the actions that may follow.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseFields,
    pub state_label: &'static str,
    /// `[department_code, "lead" | "assist"]` pairs.
    #[schema(value_type = Vec<Vec<String>>)]
    pub departments: Vec<(String, String)>,
    pub transitions: Vec<TransitionView>,
    pub next_actions: Vec<Action>,
    /// Personal data: present only for those who work the case (the read is recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
}

impl From<CaseView> for CaseDetail {
    fn from(v: CaseView) -> CaseDetail {
        CaseDetail {
            case: v.case.into(),
            state_label: v.state_label,
            departments: v.departments,
            transitions: v.transitions.into_iter().map(TransitionView::from).collect(),
            next_actions: v.next_actions,
            reporter: v.reporter.map(Reporter::from),
        }
    }
}

/// A possible duplicate of a new report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Duplicate {
    pub id: i64,
    pub number: String,
    pub distance_m: f64,
}

impl From<DuplicateCandidate> for Duplicate {
    fn from(d: DuplicateCandidate) -> Duplicate {
        Duplicate { id: d.id, number: d.number, distance_m: d.distance_m }
    }
}

/// `POST /api/v1/reports`: the case as filed (without the reporter), likely duplicates, and for
/// a report made without a session the key to attach photos with (given once).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportAnswer {
    pub case: CaseFields,
    /// False when the idempotency key named an earlier report: nothing new was written.
    pub created: bool,
    pub duplicates: Vec<Duplicate>,
    /// Given only with the first answer to a report made without a session (`X-Photo-Key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo_key: Option<String>,
}

impl From<ReportOutcome> for ReportAnswer {
    fn from(o: ReportOutcome) -> ReportAnswer {
        ReportAnswer {
            case: o.case.into(),
            created: o.created,
            duplicates: o.duplicates.into_iter().map(Duplicate::from).collect(),
            photo_key: o.photo_key,
        }
    }
}

/// `POST /api/v1/cases/{id}/transitions`: the action and what it may carry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    pub action: Option<Action>,
    pub note: Option<String>,
    pub class_code: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub datum: Option<String>,
    pub lead_department: Option<String>,
    /// At dispatch of a component whose owner cannot be established: route to the owner of
    /// last resort of the nearest area that has one.
    #[serde(default)]
    pub owner_unknown: bool,
    #[serde(default)]
    pub assist_departments: Vec<String>,
    pub duplicate_of: Option<i64>,
    pub approve: Option<bool>,
    pub extension_days: Option<u32>,
    pub rating: Option<i64>,
}

impl From<TransitionBody> for crate::cases::TransitionRequest {
    fn from(b: TransitionBody) -> crate::cases::TransitionRequest {
        crate::cases::TransitionRequest {
            action: b.action,
            note: b.note,
            class_code: b.class_code,
            lng: b.lng,
            lat: b.lat,
            datum: b.datum,
            lead_department: b.lead_department,
            owner_unknown: b.owner_unknown,
            assist_departments: b.assist_departments,
            duplicate_of: b.duplicate_of,
            approve: b.approve,
            extension_days: b.extension_days,
            rating: b.rating,
        }
    }
}

/// `POST /api/v1/public/cases/{number}/rating`: the reporter's rating of their closed case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    pub comment: Option<String>,
    /// The phone number or e-mail address left with the report.
    pub contact: String,
}

impl From<RatingBody> for crate::cases::ReporterRating {
    fn from(b: RatingBody) -> crate::cases::ReporterRating {
        crate::cases::ReporterRating { rating: b.rating, comment: b.comment, contact: b.contact }
    }
}

/// What the portal may show anyone of a rated case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rated {
    pub number: String,
    pub state: String,
    pub rating: Option<i64>,
}

/// `GET /api/v1/indicators?scope&from&to`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// `area:CODE`, `department:CODE` or `person:STAFF_ID`.
    pub scope: String,
    /// `YYYY-MM-DD` (00:00 China Standard Time) or RFC 3339.
    pub from: String,
    /// `YYYY-MM-DD` (00:00 China Standard Time) or RFC 3339; the period ends before it.
    pub to: String,
}

/// The indicators' counts and rates (docs/INDICATORS.md); a rate with no denominator is null.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorValues {
    pub filed: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub dispatched: i64,
    pub handled: i64,
    pub handled_on_time: i64,
    pub reworked: i64,
    pub dispatched_without_return: i64,
    pub verified: i64,
    pub verified_on_time: i64,
    pub closure_rate: Option<f64>,
    pub on_time_closure_rate: Option<f64>,
    pub handling_rate: Option<f64>,
    pub on_time_handling_rate: Option<f64>,
    pub rework_rate: Option<f64>,
    pub dispatch_accuracy: Option<f64>,
    pub on_time_verification_rate: Option<f64>,
    pub average_handling_working_hours: Option<f64>,
}

impl From<Indicators> for IndicatorValues {
    fn from(i: Indicators) -> IndicatorValues {
        let c = i.counts;
        IndicatorValues {
            filed: c.filed,
            closed: c.closed,
            closed_on_time: c.closed_on_time,
            dispatched: c.dispatched,
            handled: c.handled,
            handled_on_time: c.handled_on_time,
            reworked: c.reworked,
            dispatched_without_return: c.dispatched_without_return,
            verified: c.verified,
            verified_on_time: c.verified_on_time,
            closure_rate: i.closure_rate,
            on_time_closure_rate: i.on_time_closure_rate,
            handling_rate: i.handling_rate,
            on_time_handling_rate: i.on_time_handling_rate,
            rework_rate: i.rework_rate,
            dispatch_accuracy: i.dispatch_accuracy,
            on_time_verification_rate: i.on_time_verification_rate,
            average_handling_working_hours: i.average_handling_working_hours,
        }
    }
}

/// `GET /api/v1/indicators`: the scope and period asked for, and the indicators.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorsAnswer {
    pub scope: String,
    /// The period's start as parsed (chrono's RFC 3339 form, as always answered here).
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<Utc>,
    pub indicators: IndicatorValues,
}

/// A stored photo's metadata, for those who work the case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Photo {
    pub id: i64,
    pub content_type: String,
    /// Hex SHA-256 of the stored bytes (metadata stripped).
    pub sha256: String,
    pub size: i64,
    pub uploaded_by: String,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<PhotoMeta> for Photo {
    fn from(p: PhotoMeta) -> Photo {
        Photo {
            id: p.id,
            content_type: p.content_type,
            sha256: p.sha256,
            size: p.size,
            uploaded_by: p.uploaded_by,
            created_at: p.created_at,
        }
    }
}

/// `GET /api/v1/cases/{id}/photos`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Photos {
    pub photos: Vec<Photo>,
}

/// The answer to a reporter's photo: only what they sent, as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterPhoto {
    pub id: i64,
    pub content_type: String,
    pub size: i64,
}

/// An image as a request's or an answer's body (JPEG, PNG or WebP). Only a schema: the handlers
/// read and write the bytes themselves, so the field is never read.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Image(#[allow(dead_code)] Vec<u8>);
