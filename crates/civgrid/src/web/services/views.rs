//! What the services endpoints answer: one type per answer, built from the domain's types, so
//! a store row never reaches a client and every key on the wire is written down here. The
//! applicant's ID number and name appear only in the application views (staff by scope, or the
//! applicant with the access key); notices show the ID number masked.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::services::applications::{ApplicationView, ListedApplication, Missing, NoticeView, Outcome};
use crate::services::ratings::RatingOutcome;
use crate::services::statistics::{Row, Statistics};
use crate::services::{ItemSpec, ServiceItem};

/// `GET /api/v1/service-items`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<ItemView>,
}

/// One stored version of a service item: its definition as submitted, with what the server
/// derived (code, version, basic code, type name) and who added it when.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub code: String,
    pub version: i64,
    pub basic_code: String,
    pub item_type_name: String,
    /// The item's definition as an administrator submits it (`ItemSpec`). Documented as an
    /// open object: `ItemSpec` refuses unknown fields as a request body, and a schema that
    /// refused them here would refuse this very answer.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub spec: ItemSpec,
    pub created_at: String,
    pub created_by: String,
}

impl From<ServiceItem> for ItemView {
    fn from(i: ServiceItem) -> ItemView {
        ItemView {
            code: i.code,
            version: i.version,
            basic_code: i.basic_code,
            item_type_name: i.item_type_name,
            spec: i.spec,
            created_at: i.created_at,
            created_by: i.created_by,
        }
    }
}

/// `POST /api/v1/admin/service-deadlines/sweep`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SweepResult {
    /// Applications warned now (less than a working day left).
    pub warned: usize,
    /// Applications marked overdue now.
    pub overdue: usize,
}

/// The fields every view of an application carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationFields {
    pub number: String,
    pub item_code: String,
    pub item_version: i64,
    pub department_code: String,
    /// The applicant's ID number or credit code.
    pub applicant_id: String,
    pub applicant_name: String,
    /// `window` or `online`.
    pub channel: String,
    pub window_code: Option<String>,
    pub clerk: Option<String>,
    pub state: String,
    pub current_step: i64,
    pub max_visits: i64,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub accepted_at: DateTime<Utc>,
    /// The promised deadline.
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub deadline: DateTime<Utc>,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub legal_deadline: DateTime<Utc>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub warned_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub overdue_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub suspended_at: Option<DateTime<Utc>>,
    pub suspended_step: Option<String>,
    #[serde(serialize_with = "crate::web::wire::at_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub concluded_at: Option<DateTime<Utc>>,
    pub licence_number: Option<String>,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// The row's shown fields; its id, contact, visit and access-key hash stay on the server.
macro_rules! application_fields {
    ($a:expr) => {{
        let a = $a;
        ApplicationFields {
            number: a.number,
            item_code: a.item_code,
            item_version: a.item_version,
            department_code: a.department_code,
            applicant_id: a.applicant_id,
            applicant_name: a.applicant_name,
            channel: a.channel,
            window_code: a.window_code,
            clerk: a.clerk,
            state: a.state,
            current_step: a.current_step,
            max_visits: a.max_visits,
            accepted_at: a.accepted_at,
            deadline: a.deadline,
            legal_deadline: a.legal_deadline,
            warned_at: a.warned_at,
            overdue_at: a.overdue_at,
            suspended_at: a.suspended_at,
            suspended_step: a.suspended_step,
            concluded_at: a.concluded_at,
            licence_number: a.licence_number,
            updated_at: a.updated_at,
        }
    }};
}

/// An application in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    #[serde(flatten)]
    pub application: ApplicationFields,
    pub state_label: String,
    /// `on_time`, `warning`, `overdue`, `suspended`, `concluded` or `concluded_late`.
    pub sla: String,
}

impl From<ListedApplication> for ApplicationSummary {
    fn from(l: ListedApplication) -> ApplicationSummary {
        ApplicationSummary {
            application: application_fields!(l.application),
            state_label: l.state_label.to_owned(),
            sla: l.sla.to_owned(),
        }
    }
}

/// `GET /api/v1/service-applications`, `GET /api/v1/applicants/{id_number}/applications`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub applications: Vec<ApplicationSummary>,
}

/// An application with its materials, steps and history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDetail {
    #[serde(flatten)]
    pub application: ApplicationFields,
    pub item_name: String,
    pub state_label: String,
    /// `on_time`, `warning` (less than one working day left), `overdue`, `suspended` or
    /// `concluded` / `concluded_late`.
    pub sla: String,
    pub materials: Vec<MaterialView>,
    pub steps: Vec<StepView>,
    pub events: Vec<EventView>,
}

impl From<ApplicationView> for ApplicationDetail {
    fn from(v: ApplicationView) -> ApplicationDetail {
        ApplicationDetail {
            application: application_fields!(v.application),
            item_name: v.item_name,
            state_label: v.state_label.to_owned(),
            sla: v.sla.to_owned(),
            materials: v
                .materials
                .into_iter()
                .map(|m| MaterialView {
                    id: m.id,
                    position: m.position,
                    code: m.code,
                    name: m.name,
                    source: m.source,
                    format: m.format,
                    size_bytes: m.size_bytes,
                    sha256: m.sha256,
                    licence_number: m.licence_number,
                    reused_from: m.reused_from,
                    created_at: m.created_at,
                })
                .collect(),
            steps: v
                .steps
                .into_iter()
                .map(|s| StepView {
                    step_index: s.step.step_index,
                    step_name: s.step.step_name,
                    department_code: s.step.department_code,
                    state: s.step.state,
                    note: s.step.note,
                    decided_by: s.step.decided_by,
                    decided_at: s.step.decided_at,
                    checklist: s.checklist,
                })
                .collect(),
            events: v
                .events
                .into_iter()
                .map(|e| EventView { at: e.at, actor: e.actor, action: e.action, note: e.note })
                .collect(),
        }
    }
}

/// A material of an application: submitted, or reused from an earlier one or a licence.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialView {
    pub id: i64,
    pub position: i64,
    pub code: String,
    pub name: String,
    pub source: String,
    pub format: Option<String>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub licence_number: Option<String>,
    pub reused_from: Option<i64>,
    pub created_at: String,
}

/// One department's part of an approval step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub step_index: i64,
    pub step_name: String,
    pub department_code: String,
    pub state: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// `[{code, met, note}]` once decided, else null.
    #[schema(value_type = Option<Vec<Object>>)]
    pub checklist: Value,
}

/// One entry of an application's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
}

/// A missing-materials or refusal notice (the applicant's number masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeData {
    pub number: String,
    /// `missing_materials` or `refusal`.
    pub kind: String,
    pub item_code: String,
    pub item_version: i64,
    pub item_name: String,
    pub applicant_id_masked: String,
    pub channel: String,
    pub window_code: Option<String>,
    pub visit_number: Option<String>,
    pub missing: Vec<MissingMaterial>,
    pub reason: Option<String>,
    pub issued_at: String,
    /// Where the printable document is.
    pub document: String,
}

impl From<NoticeView> for NoticeData {
    fn from(n: NoticeView) -> NoticeData {
        NoticeData {
            number: n.number,
            kind: n.kind,
            item_code: n.item_code,
            item_version: n.item_version,
            item_name: n.item_name,
            applicant_id_masked: n.applicant_id_masked,
            channel: n.channel,
            window_code: n.window_code,
            visit_number: n.visit_number,
            missing: n.missing.into_iter().map(MissingMaterial::from).collect(),
            reason: n.reason,
            issued_at: n.issued_at,
            document: n.document,
        }
    }
}

/// A missing material as the notice lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingMaterial {
    pub code: String,
    pub name: String,
    pub count: i64,
    pub medium: String,
    pub formats: Vec<String>,
    pub max_kb: i64,
    pub note: String,
}

impl From<Missing> for MissingMaterial {
    fn from(m: Missing) -> MissingMaterial {
        MissingMaterial {
            code: m.code,
            name: m.name,
            count: m.count,
            medium: m.medium,
            formats: m.formats,
            max_kb: m.max_kb,
            note: m.note,
        }
    }
}

/// `POST /api/v1/service-applications`: accepted (201), or a missing-materials notice (200).
#[derive(Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Submission {
    /// `access_key` is shown here once: with the number it lets the applicant follow the
    /// application, rate it and fetch the e-licence it issues.
    Accepted {
        application: Box<ApplicationDetail>,
        visit_number: Option<String>,
        access_key: String,
    },
    MissingMaterials {
        notice: Box<NoticeData>,
    },
}

impl From<Outcome> for Submission {
    fn from(o: Outcome) -> Submission {
        match o {
            Outcome::Accepted { application, visit_number, access_key } => Submission::Accepted {
                application: Box::new(ApplicationDetail::from(*application)),
                visit_number,
                access_key,
            },
            Outcome::MissingMaterials { notice } => {
                Submission::MissingMaterials { notice: Box::new(NoticeData::from(*notice)) }
            }
        }
    }
}

/// `GET /api/v1/applicants/{id_number}/licences`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LicenceList {
    pub licences: Vec<super::super::certificates::CertificateData>,
}

/// A rating (好差评); the rater's ID number is never shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub id: i64,
    /// `application` or `visit`.
    pub target_kind: String,
    pub target_ref: String,
    pub grade: i64,
    pub comment: Option<String>,
    pub responsible_department: Option<String>,
    pub item_code: Option<String>,
    pub window_code: Option<String>,
    pub clerk: Option<String>,
    #[serde(serialize_with = "crate::web::wire::at")]
    #[schema(value_type = String, format = DateTime)]
    pub rated_at: DateTime<Utc>,
    pub void: bool,
}

/// A rectification task of a bad rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationView {
    pub id: i64,
    pub rating_id: i64,
    pub department_code: String,
    pub state: String,
    pub deadline: String,
    pub reply: Option<String>,
    pub callback_note: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<String>,
    pub feedback_grade: Option<i64>,
    pub feedback_at: Option<String>,
    pub appeal_reason: Option<String>,
    pub appealed_by: Option<String>,
    pub appealed_at: Option<String>,
    pub appeal_decision: Option<String>,
    pub appeal_decided_by: Option<String>,
    pub appeal_decided_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Converts a rectification row (the type is private to the services context).
macro_rules! rectification_view {
    ($r:expr) => {{
        let r = $r;
        RectificationView {
            id: r.id,
            rating_id: r.rating_id,
            department_code: r.department_code,
            state: r.state,
            deadline: r.deadline,
            reply: r.reply,
            callback_note: r.callback_note,
            replied_by: r.replied_by,
            replied_at: r.replied_at,
            feedback_grade: r.feedback_grade,
            feedback_at: r.feedback_at,
            appeal_reason: r.appeal_reason,
            appealed_by: r.appealed_by,
            appealed_at: r.appealed_at,
            appeal_decision: r.appeal_decision,
            appeal_decided_by: r.appeal_decided_by,
            appeal_decided_at: r.appeal_decided_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }};
}
pub(super) use rectification_view;

/// `GET /api/v1/service-rectifications`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationList {
    pub rectifications: Vec<RectificationView>,
}

/// `POST /api/v1/service-ratings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingAnswer {
    pub rating: RatingView,
    pub grade_label: String,
    /// The rectification task a bad rating opens.
    pub rectification: Option<RectificationView>,
}

impl From<RatingOutcome> for RatingAnswer {
    fn from(o: RatingOutcome) -> RatingAnswer {
        let r = o.rating;
        RatingAnswer {
            rating: RatingView {
                id: r.id,
                target_kind: r.target_kind,
                target_ref: r.target_ref,
                grade: r.grade,
                comment: r.comment,
                responsible_department: r.responsible_department,
                item_code: r.item_code,
                window_code: r.window_code,
                clerk: r.clerk,
                rated_at: r.rated_at,
                void: r.void,
            },
            grade_label: o.grade_label.to_owned(),
            rectification: o.rectification.map(|r| rectification_view!(r)),
        }
    }
}

/// `GET /api/v1/service-statistics`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsView {
    /// `item`, `department`, `window` or `clerk`.
    pub group_by: String,
    /// The one department asked about, if any.
    pub department: Option<String>,
    pub from: String,
    pub to: String,
    pub rows: Vec<StatisticsRow>,
    pub total: StatisticsRow,
}

impl From<Statistics> for StatisticsView {
    fn from(s: Statistics) -> StatisticsView {
        StatisticsView {
            group_by: s.group_by.to_owned(),
            department: s.department,
            from: s.from,
            to: s.to,
            rows: s.rows.into_iter().map(StatisticsRow::from).collect(),
            total: StatisticsRow::from(s.total),
        }
    }
}

/// One group's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsRow {
    pub key: String,
    pub accepted: i64,
    pub online: i64,
    pub concluded: i64,
    pub approved: i64,
    pub rejected: i64,
    pub in_progress: i64,
    pub overdue_open: i64,
    pub missing_notices: i64,
    pub refusals: i64,
    pub avg_handling_working_days: Option<f64>,
    pub p90_handling_working_days: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub materials_reused: i64,
    pub materials_asked: i64,
    pub visits_saved: i64,
    pub ratings: i64,
    pub bad_ratings: i64,
    pub satisfaction: Option<f64>,
}

impl From<Row> for StatisticsRow {
    fn from(r: Row) -> StatisticsRow {
        StatisticsRow {
            key: r.key,
            accepted: r.accepted,
            online: r.online,
            concluded: r.concluded,
            approved: r.approved,
            rejected: r.rejected,
            in_progress: r.in_progress,
            overdue_open: r.overdue_open,
            missing_notices: r.missing_notices,
            refusals: r.refusals,
            avg_handling_working_days: r.avg_handling_working_days,
            p90_handling_working_days: r.p90_handling_working_days,
            on_time_rate: r.on_time_rate,
            materials_reused: r.materials_reused,
            materials_asked: r.materials_asked,
            visits_saved: r.visits_saved,
            ratings: r.ratings,
            bad_ratings: r.bad_ratings,
            satisfaction: r.satisfaction,
        }
    }
}
