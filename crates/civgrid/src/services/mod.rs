//! One-window government services (一门式, 一网通办): the versioned item catalogue, acceptance at
//! any window or online with material reuse and the one-time missing-materials notice, the
//! back office with parallel approvals against explicit checklists and working-day clocks,
//! conclusion with a signed e-licence, 好差评 with the rectification loop, and statistics.
//! docs/SERVICES.md describes the whole flow.
//!
//! Public face: [`Services`] and [`ServiceError`]; the catalogue types in [`catalogue`]. SQL
//! lives in `store` (private); ledger contents in [`trace`].

pub mod applications;
pub mod approvals;
pub mod catalogue;
pub mod licences;
mod lookup;
pub mod notice;
pub mod ratings;
pub mod statistics;
// Private: other contexts and the web layer go through the service.
mod store;
pub mod trace;

use chrono::{DateTime, Utc};

use crate::cases::calendar::Calendar;
use crate::cases::{Cases, Clock};
use crate::certificates::{CertificateError, Certificates};
use crate::db::Db;
use crate::identity::IdError;
use crate::staff::{Principal, Role};
pub use catalogue::{ItemSpec, ServiceItem};
pub use store::{RatingRow, RectificationRow};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    InvalidField(String),
    #[error("{0}")]
    InvalidItem(String),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("service item {0} does not exist")]
    ItemNotFound(String),
    #[error("service item {0} does not exist")]
    UnknownItem(String),
    #[error("service item {0} is not offered at present")]
    ItemInactive(String),
    #[error("department {0} does not exist")]
    UnknownDepartment(String),
    #[error("this item is for {expected} applicants: give a {}", if *.expected == "person" { "resident ID number" } else { "unified social credit code" })]
    ApplicantTypeMismatch { expected: &'static str },
    #[error("the applicant does not meet the item's conditions: {}", .0.join("; "))]
    NotEligible(Vec<String>),
    #[error("the item has no material `{0}`")]
    UnknownMaterial(String),
    #[error("material `{0}` was given twice")]
    DuplicateMaterial(String),
    #[error("material `{code}` must be {expected}; the content is {got}")]
    MaterialWrongFormat { code: String, expected: String, got: String },
    #[error("material `{code}` is {size} bytes; at most {max} are accepted")]
    MaterialTooLarge { code: String, size: usize, max: usize },
    #[error("material `{0}`: {1}")]
    InvalidMaterial(String, String),
    #[error("application {0} does not exist or is not visible to you")]
    ApplicationNotFound(String),
    #[error("notice {0} does not exist")]
    NoticeNotFound(String),
    #[error("application {0} is concluded; nothing about it can change")]
    Concluded(String),
    #[error("step {step} is not yet open: an earlier step must be decided first")]
    OutOfTurn { step: i64 },
    #[error("your department has already decided step {step}")]
    AlreadyDecided { step: i64 },
    #[error("your department has no step {0} on this application")]
    NoSuchStep(i64),
    #[error("criteria not checked: {}", .0.join(", "))]
    CriterionUnchecked(Vec<String>),
    #[error("the step has no criterion `{0}`")]
    UnknownCriterion(String),
    #[error("approval needs every criterion met; not met: {}", .0.join(", "))]
    CriteriaNotMet(Vec<String>),
    #[error("a rejection must name at least one criterion that is not met")]
    NoUnmetCriterion,
    #[error("criterion `{0}` is marked not met: say why in its note")]
    NoteRequired(String),
    #[error("application {0} is suspended for a special step; resume it first")]
    Suspended(String),
    #[error("application {0} is not suspended")]
    NotSuspended(String),
    #[error("the item has no special step `{0}`")]
    UnknownSpecialStep(String),
    #[error("your roles do not allow {0}")]
    Forbidden(&'static str),
    #[error("this needs a staff account with a department")]
    NoDepartment,
    #[error("{0} has already been rated")]
    AlreadyRated(String),
    #[error("application {0} can be rated once it is concluded")]
    NotConcluded(String),
    #[error("rectification task {0} does not exist or is not visible to you")]
    RectificationNotFound(i64),
    #[error("the rectification task is `{0}`; this action is not possible now")]
    RectificationState(String),
    #[error("{0}")]
    InvalidPeriod(String),
    #[error("too many wrong access keys for this application; try again in {retry_after_s} s")]
    AccessKeyThrottled { retry_after_s: i64 },
    #[error("e-licence type `{licence_type}` is issued by department {department}; an item of another department cannot issue it")]
    LicenceTypeOwned { licence_type: String, department: String },
    #[error("application {0} is not approved; only an approved application issues an e-licence")]
    NotApproved(String),
    #[error("the item of application {0} issues no e-licence")]
    NoLicenceForItem(String),
    #[error("application {0} already has an e-licence in force; revoke it before issuing another")]
    LicenceInForce(String),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LogError),
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::InvalidField(_) => "invalid_field",
            ServiceError::InvalidItem(_) => "invalid_item",
            ServiceError::Id(e) => e.code(),
            ServiceError::ItemNotFound(_) => "item_not_found",
            ServiceError::UnknownItem(_) => "unknown_item",
            ServiceError::ItemInactive(_) => "item_inactive",
            ServiceError::UnknownDepartment(_) => "unknown_department",
            ServiceError::ApplicantTypeMismatch { .. } => "applicant_type_mismatch",
            ServiceError::NotEligible(_) => "not_eligible",
            ServiceError::UnknownMaterial(_) => "unknown_material",
            ServiceError::DuplicateMaterial(_) => "duplicate_material",
            ServiceError::MaterialWrongFormat { .. } => "material_wrong_format",
            ServiceError::MaterialTooLarge { .. } => "material_too_large",
            ServiceError::InvalidMaterial(..) => "invalid_material",
            ServiceError::ApplicationNotFound(_) => "application_not_found",
            ServiceError::NoticeNotFound(_) => "notice_not_found",
            ServiceError::Concluded(_) => "application_concluded",
            ServiceError::OutOfTurn { .. } => "out_of_turn",
            ServiceError::AlreadyDecided { .. } => "already_decided",
            ServiceError::NoSuchStep(_) => "step_not_found",
            ServiceError::CriterionUnchecked(_) => "criterion_unchecked",
            ServiceError::UnknownCriterion(_) => "unknown_criterion",
            ServiceError::CriteriaNotMet(_) => "criteria_not_met",
            ServiceError::NoUnmetCriterion => "rejection_without_unmet_criterion",
            ServiceError::NoteRequired(_) => "note_required",
            ServiceError::Suspended(_) => "application_suspended",
            ServiceError::NotSuspended(_) => "not_suspended",
            ServiceError::UnknownSpecialStep(_) => "unknown_special_step",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::NoDepartment => "no_department",
            ServiceError::AlreadyRated(_) => "already_rated",
            ServiceError::NotConcluded(_) => "not_concluded",
            ServiceError::RectificationNotFound(_) => "rectification_not_found",
            ServiceError::RectificationState(_) => "illegal_rectification_state",
            ServiceError::InvalidPeriod(_) => "invalid_period",
            ServiceError::AccessKeyThrottled { .. } => "access_key_throttled",
            ServiceError::LicenceTypeOwned { .. } => "licence_type_owned_elsewhere",
            ServiceError::NotApproved(_) => "application_not_approved",
            ServiceError::NoLicenceForItem(_) => "item_issues_no_licence",
            ServiceError::LicenceInForce(_) => "licence_in_force",
            ServiceError::Certificate(e) => e.code(),
            ServiceError::Store(_) => "internal",
            ServiceError::Ledger(e) => e.code(),
        }
    }
}

/// The service.
#[derive(Debug, Clone)]
pub struct Services {
    db: Db,
    cases: Cases,
    certificates: Certificates,
    clock: Clock,
}

pub(crate) fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) use crate::periods::cst;

/// Local (UTC+8) date of an instant as `YYYYMMDD`, for numbers.
pub(crate) fn local_date_compact(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y%m%d").to_string()
}

/// Local (UTC+8) date of an instant as `YYYY-MM-DD`.
pub(crate) fn local_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%d").to_string()
}

pub(crate) fn clean_opt(s: &Option<String>, max: usize, what: &str) -> Result<Option<String>, ServiceError> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max || t.chars().any(char::is_control) => {
            Err(ServiceError::InvalidField(format!("{what} must be at most {max} printable characters")))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

pub(crate) fn clean_req(s: &str, max: usize, what: &str) -> Result<String, ServiceError> {
    clean_opt(&Some(s.to_owned()), max, what)?
        .ok_or_else(|| ServiceError::InvalidField(format!("{what} is required (1–{max} characters)")))
}

/// A random capability number (as certificates use): prefix + 16 characters.
pub(crate) fn random_number(prefix: &str) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let tail: String = (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("{prefix}{tail}")
}

/// How staff relate to applications (docs/SERVICES.md, the access policy).
#[derive(Debug, Clone)]
pub(crate) enum StaffScope {
    /// Window clerks (无差别受理: any window serves any item) see every application and step.
    All,
    /// Approvers see applications with a step of their department, and only those steps.
    Department(String),
}

pub(crate) fn staff_scope(p: &Principal) -> Option<StaffScope> {
    if p.has_role(Role::WindowClerk) {
        return Some(StaffScope::All);
    }
    if p.has_role(Role::Approver) {
        return p.department_code.clone().map(StaffScope::Department);
    }
    None
}

impl Services {
    pub fn new(db: Db, cases: Cases, certificates: Certificates) -> Services {
        Services { db, cases, certificates, clock: Clock::System }
    }

    /// The same service acting at a given instant (tests of the clocks; replaying history).
    pub fn at(&self, t: DateTime<Utc>) -> Services {
        Services { clock: Clock::At(t), ..self.clone() }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The working-day calendar of the case loop (holidays, make-up days).
    pub(crate) async fn calendar(&self) -> Result<Calendar, ServiceError> {
        self.cases.calendar().await.map_err(|e| match e {
            crate::cases::CaseError::Store(s) => ServiceError::Store(s),
            other => ServiceError::InvalidField(other.to_string()),
        })
    }

    /// Every item's newest version.
    pub async fn items(&self) -> Result<Vec<ServiceItem>, ServiceError> {
        Ok(store::current_items(self.db.pool()).await?)
    }

    /// One item: its newest version, or the version asked for.
    pub async fn item(&self, code: &str, version: Option<i64>) -> Result<ServiceItem, ServiceError> {
        let mut tx = self.db.begin_read().await?;
        let item = match version {
            Some(v) => store::item_version(&mut tx, code, v).await?,
            None => store::current_item(&mut tx, code).await?,
        };
        tx.commit().await?;
        item.ok_or_else(|| ServiceError::ItemNotFound(code.chars().take(48).collect()))
    }

    /// Adds a new version of an item (or its first). Applications keep the version they were
    /// accepted under. The change is recorded (留痕).
    pub async fn put_item(
        &self,
        actor: &crate::audit::Actor,
        spec: ItemSpec,
        request_id: Option<&str>,
    ) -> Result<ServiceItem, ServiceError> {
        put_item(&self.db, actor, spec, request_id).await
    }
}

/// [`Services::put_item`] without the service (the demo seeds the catalogue with it).
pub async fn put_item(
    db: &Db,
    actor: &crate::audit::Actor,
    spec: ItemSpec,
    request_id: Option<&str>,
) -> Result<ServiceItem, ServiceError> {
    spec.validate()?;
    let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
    db.write(move |tx| Box::pin(async move { put_item_in(tx, &actor, spec, request_id.as_deref()).await })).await
}

/// [`put_item`] inside the write transaction.
async fn put_item_in(
    tx: &mut crate::db::Tx<'static>,
    actor: &crate::audit::Actor,
    spec: ItemSpec,
    request_id: Option<&str>,
) -> Result<ServiceItem, ServiceError> {
    let mut area = None;
    for d in spec.departments() {
        match crate::staff::find_department(tx, d).await? {
            None => return Err(ServiceError::UnknownDepartment(d.chars().take(32).collect())),
            Some(row) if d == spec.department_code => area = Some(row.area_code),
            Some(_) => {}
        }
    }
    let area = area.ok_or_else(|| ServiceError::UnknownDepartment(spec.department_code.clone()))?;
    let code = spec.code(&area);
    // An e-licence type belongs to one department: the one whose items issue it. Another
    // department's item cannot be made to issue it (a 无犯罪记录证明 from market supervision).
    if let Some(r) = &spec.result {
        let owner = store::current_items(&mut **tx).await?.into_iter().find(|i| {
            i.code != code
                && i.spec.department_code != spec.department_code
                && i.spec.result.as_ref().is_some_and(|o| o.licence_type == r.licence_type)
        });
        if let Some(o) = owner {
            return Err(ServiceError::LicenceTypeOwned {
                licence_type: r.licence_type.clone(),
                department: o.spec.department_code,
            });
        }
    }
    let before = store::current_item(tx, &code).await?;
    let item = ServiceItem {
        version: before.as_ref().map_or(1, |b| b.version + 1),
        basic_code: spec.basic_code(),
        item_type_name: catalogue::item_type_name(&spec.item_type).to_owned(),
        code,
        spec,
        created_at: crate::db::now_text(),
        created_by: actor.label().to_owned(),
    };
    store::insert_item(tx, &item).await?;
    crate::audit::record(
        tx,
        crate::audit::Change {
            actor,
            action: "service_item.version",
            entity: "service_item",
            entity_id: &item.code,
            before: before.map(|b| serde_json::json!({"version": b.version})),
            after: Some(serde_json::json!({"version": item.version, "name": item.spec.name})),
            request_id,
        },
    )
    .await?;
    Ok(item)
}
