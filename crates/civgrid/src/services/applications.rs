//! Acceptance (受理) at any window or online: the applicant by one number, the completeness
//! check against the item's material list with materials the platform already holds attached
//! by themselves, the one-time missing-materials notice (一次性告知) or refusal (不予受理), the
//! application number, and progress by number.

use base64::Engine as _;
use chrono::Datelike;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest as _;

use super::catalogue::{ApplicantType, MaterialSpec, ServiceItem};
pub(crate) use super::lookup::applicant_actor;
use super::statistics::{self, Keys};
use super::store::{self, ApplicationRow, Counts, EventRow, MaterialRow, NoticeRow, StepRow};
use super::{clean_opt, clean_req, local_date, local_date_compact, random_number, text, trace, ServiceError, Services};
use crate::certificates::{CertificateView, Certificates};
use crate::identity::{CreditCode, ResidentId};
use crate::staff::{Principal, Role};

/// Who the applicant is.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    pub id_number: String,
    pub name: String,
    /// E-mail or phone; several separated by `;`.
    pub contact: Option<String>,
}

/// A submitted material: electronic (base64 content, format proven from the bytes) or paper
/// (seen by the clerk at the window).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialInput {
    pub code: String,
    /// `electronic` (default) or `paper`.
    pub medium: Option<String>,
    /// The declared format (pdf, jpg, png, ofd); must match the content.
    pub format: Option<String>,
    pub content_base64: Option<String>,
    /// Paper copies handed in.
    pub copies: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    pub item_code: String,
    pub applicant: ApplicantInput,
    #[serde(default)]
    pub materials: Vec<MaterialInput>,
    /// The window's code (required at a window, absent online).
    pub window: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefusal {
    pub item_code: String,
    pub applicant: ApplicantInput,
    pub reason: String,
    pub window: String,
}

/// Where an application comes in.
#[derive(Debug, Clone)]
pub enum Channel<'a> {
    Window(&'a Principal),
    Online,
}

/// A missing material as the notice lists it. Serialize and Deserialize: a notice stores its
/// list as JSON (`service_notice.missing`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Missing {
    pub code: String,
    pub name: String,
    pub count: i64,
    pub medium: String,
    pub formats: Vec<String>,
    pub max_kb: i64,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct NoticeView {
    pub number: String,
    pub kind: String,
    pub item_code: String,
    pub item_version: i64,
    pub item_name: String,
    pub applicant_id_masked: String,
    pub channel: String,
    pub window_code: Option<String>,
    pub visit_number: Option<String>,
    pub missing: Vec<Missing>,
    pub reason: Option<String>,
    pub issued_at: String,
    /// Where the printable document is.
    pub document: String,
}

/// The result of a submission.
#[derive(educe::Educe, Clone)]
#[educe(Debug)]
pub enum Outcome {
    /// `access_key` is shown here once: with the number it lets the applicant follow the
    /// application, rate it and fetch the e-licence it issues (only its hash is stored).
    Accepted {
        application: Box<ApplicationView>,
        visit_number: Option<String>,
        #[educe(Debug(method(crate::secret::redacted)))]
        access_key: String,
    },
    MissingMaterials {
        notice: Box<NoticeView>,
    },
}

/// An application with its materials, steps and history.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub application: ApplicationRow,
    pub item_name: String,
    pub state_label: &'static str,
    /// `on_time`, `warning` (less than one working day left), `overdue`, `suspended` or
    /// `concluded` / `concluded_late`.
    pub sla: &'static str,
    pub materials: Vec<MaterialRow>,
    pub steps: Vec<StepView>,
    pub events: Vec<EventRow>,
}

/// An application in a list: the row and where it stands.
#[derive(Debug, Clone)]
pub struct ListedApplication {
    pub application: ApplicationRow,
    pub state_label: &'static str,
    pub sla: &'static str,
}

#[derive(Debug, Clone)]
pub struct StepView {
    pub step: StepRow,
    pub checklist: Value,
}

pub fn state_label(state: &str) -> &'static str {
    match state {
        "in_review" => "审查中",
        "suspended" => "特殊环节（计时暂停）",
        "approved" => "已办结（准予）",
        "rejected" => "已办结（不予）",
        _ => "",
    }
}

/// The format the bytes prove.
pub fn sniff_format(b: &[u8]) -> Option<&'static str> {
    match b {
        [b'%', b'P', b'D', b'F', b'-', ..] => Some("pdf"),
        [0xFF, 0xD8, 0xFF, ..] => Some("jpg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("png"),
        // OFD (GB/T 33190) is a ZIP container.
        [b'P', b'K', 0x03, 0x04, ..] => Some("ofd"),
        _ => None,
    }
}

/// The applicant's number, parsed as the item requires.
pub(crate) fn parse_applicant(kind: ApplicantType, id: &str) -> Result<String, ServiceError> {
    match kind {
        ApplicantType::Person => match ResidentId::parse(id) {
            Ok(r) => Ok(r.as_str().to_owned()),
            Err(e) if CreditCode::parse(id).is_ok() => {
                let _ = e;
                Err(ServiceError::ApplicantTypeMismatch { expected: "person" })
            }
            Err(e) => Err(e.into()),
        },
        ApplicantType::Entity => match CreditCode::parse(id) {
            Ok(c) => Ok(c.as_str().to_owned()),
            Err(e) if ResidentId::parse(id).is_ok() => {
                let _ = e;
                Err(ServiceError::ApplicantTypeMismatch { expected: "entity" })
            }
            Err(e) => Err(e.into()),
        },
    }
}

/// Either kind of number (for lookups by the applicant).
pub(crate) fn parse_any_id(id: &str) -> Result<String, ServiceError> {
    match ResidentId::parse(id) {
        Ok(r) => Ok(r.as_str().to_owned()),
        Err(e) => match CreditCode::parse(id) {
            Ok(c) => Ok(c.as_str().to_owned()),
            Err(_) => Err(e.into()),
        },
    }
}

pub(crate) fn mask(id: &str) -> String {
    if id.len() == 18 {
        format!("{}********{}", &id[..6], &id[14..])
    } else {
        "******".into()
    }
}

/// Checks the machine-checkable conditions; names every one that fails.
pub(crate) fn check_eligibility(item: &ServiceItem, id: &str, today: chrono::NaiveDate) -> Result<(), ServiceError> {
    let e = &item.spec.eligibility;
    if item.spec.applicant_type != ApplicantType::Person {
        return Ok(());
    }
    let mut failed = Vec::new();
    let birth = chrono::NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").ok();
    let age = birth.map(|b| {
        let mut a = today.year() - b.year();
        if (today.month(), today.day()) < (b.month(), b.day()) {
            a -= 1;
        }
        i64::from(a)
    });
    if let (Some(min), Some(age)) = (e.min_age, age) {
        if age < min {
            failed.push(format!("申请人须年满{min}周岁（现{age}周岁）"));
        }
    }
    if let (Some(max), Some(age)) = (e.max_age, age) {
        if age > max {
            failed.push(format!("申请人须不超过{max}周岁（现{age}周岁）"));
        }
    }
    if let Some(p) = &e.id_area_prefix {
        if !id.starts_with(p.as_str()) {
            failed.push(format!("申请人身份证号码地址码须以{p}开头"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::NotEligible(failed))
    }
}

/// A material checked before any write.
struct Checked {
    code: String,
    paper: bool,
    format: Option<&'static str>,
    bytes: Vec<u8>,
    sha256: Option<String>,
}

fn check_material(spec: &MaterialSpec, m: &MaterialInput) -> Result<Checked, ServiceError> {
    let code = spec.code.clone();
    let medium = m.medium.as_deref().unwrap_or("electronic");
    match medium {
        "paper" => {
            if spec.medium == "electronic" {
                return Err(ServiceError::InvalidMaterial(
                    code,
                    "this material is accepted electronically only".into(),
                ));
            }
            let copies = m.copies.unwrap_or(spec.count);
            if copies < spec.count || m.content_base64.is_some() {
                return Err(ServiceError::InvalidMaterial(
                    code,
                    format!("{} paper copies are needed, without content", spec.count),
                ));
            }
            Ok(Checked { code, paper: true, format: None, bytes: Vec::new(), sha256: None })
        }
        "electronic" => {
            if spec.medium == "paper" {
                return Err(ServiceError::InvalidMaterial(code, "this material is accepted on paper only".into()));
            }
            let b64 = m
                .content_base64
                .as_deref()
                .ok_or_else(|| ServiceError::InvalidMaterial(code.clone(), "content_base64 is required".into()))?;
            let max = usize::try_from(spec.max_kb).unwrap_or(0) * 1024;
            // Refuse before decoding when the text alone is too long.
            if b64.len() / 4 * 3 > max + 3 {
                return Err(ServiceError::MaterialTooLarge { code, size: b64.len() / 4 * 3, max });
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| ServiceError::InvalidMaterial(code.clone(), "content_base64 is not base64".into()))?;
            if bytes.len() > max {
                return Err(ServiceError::MaterialTooLarge { code, size: bytes.len(), max });
            }
            let sniffed = sniff_format(&bytes);
            let expected = spec.formats.join("/");
            let ok = sniffed.is_some_and(|f| spec.formats.iter().any(|a| a == f))
                && m.format.as_deref().is_none_or(|d| Some(d) == sniffed);
            if !ok {
                return Err(ServiceError::MaterialWrongFormat {
                    code,
                    expected,
                    got: sniffed.unwrap_or("not a PDF, JPEG, PNG or OFD file").to_owned(),
                });
            }
            let sha = hex::encode(sha2::Sha256::digest(&bytes));
            Ok(Checked { code, paper: false, format: sniffed, bytes, sha256: Some(sha) })
        }
        other => Err(ServiceError::InvalidMaterial(
            code,
            format!("medium `{}` is not electronic or paper", other.chars().take(16).collect::<String>()),
        )),
    }
}

fn clean_window(w: &str) -> Result<String, ServiceError> {
    let w = w.trim();
    let ok = (1..=32).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(w.to_owned())
    } else {
        Err(ServiceError::InvalidField("window must be 1–32 of A-Z a-z 0-9 - _".into()))
    }
}

impl Services {
    async fn active_item(&self, code: &str) -> Result<ServiceItem, ServiceError> {
        let mut tx = self.db.begin_read().await?;
        let item = store::current_item(&mut tx, code).await?;
        tx.commit().await?;
        let item = item.ok_or_else(|| ServiceError::UnknownItem(code.chars().take(48).collect()))?;
        if !item.spec.active {
            return Err(ServiceError::ItemInactive(item.code));
        }
        Ok(item)
    }

    /// Takes an application: checks the applicant and every submitted material first, then in
    /// one transaction attaches what the platform holds, and either accepts (number, steps,
    /// ledger entry, notification) or issues one notice listing everything still missing.
    pub async fn submit(&self, channel: Channel<'_>, req: NewApplication) -> Result<Outcome, ServiceError> {
        let (window, clerk, clerk_department) = match &channel {
            Channel::Window(p) => {
                if !p.has_role(Role::WindowClerk) {
                    return Err(ServiceError::Forbidden("accepting applications (window clerks only)"));
                }
                let w = req
                    .window
                    .as_deref()
                    .ok_or_else(|| ServiceError::InvalidField("window is required at a window".into()))?;
                (Some(clean_window(w)?), Some(p.actor().label().to_owned()), p.department_code.clone())
            }
            Channel::Online => {
                if req.window.is_some() {
                    return Err(ServiceError::InvalidField("online applications name no window".into()));
                }
                (None, None, None)
            }
        };
        let item = self.active_item(&req.item_code).await?;
        let applicant_id = parse_applicant(item.spec.applicant_type, &req.applicant.id_number)?;
        let name = clean_req(&req.applicant.name, 100, "applicant.name")?;
        let contact = clean_opt(&req.applicant.contact, 200, "applicant.contact")?;
        let now_dt = self.now();
        let today = now_dt.with_timezone(&super::cst()).date_naive();
        check_eligibility(&item, &applicant_id, today)?;
        let mut given: Vec<Checked> = Vec::new();
        for m in &req.materials {
            let spec = item
                .material(&m.code)
                .ok_or_else(|| ServiceError::UnknownMaterial(m.code.chars().take(40).collect()))?;
            if given.iter().any(|g| g.code == m.code) {
                return Err(ServiceError::DuplicateMaterial(m.code.clone()));
            }
            given.push(check_material(spec, m)?);
        }
        let calendar = self.calendar().await?;
        let now = text(now_dt);
        let date = local_date_compact(now_dt);
        let channel_name = if window.is_some() { "window" } else { "online" };

        // One unit of work through `Db::write`: on SQLite, SQLite's group committer, where a
        // transaction of its own would race the committer and the ledger sequencer for the
        // write lock and wait in SQLite's busy handler, which sleeps in steps of milliseconds.
        // Its first write takes the lock, so nothing read here can be overtaken.
        // Only a clerk who has seen the applicant's identity document attaches what the platform
        // holds for that number or updates the registered name and contact; online, anyone can
        // type anyone's number, so an online application carries only what it submits.
        let in_person = window.is_some();
        // Handed to the applicant once, when the application is accepted.
        let key = crate::staff::OnceKey::new();
        let written = self
            .db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<Written, ServiceError>> {
                Box::pin(async move {
                let kind = item.spec.applicant_type.as_str();
                store::register_applicant(tx, &applicant_id, kind, &name, contact.as_deref(), &now, in_person).await?;
                let library = if in_person {
                    Certificates::library_in(tx, &applicant_id, &local_date(now_dt)).await?
                } else {
                    Vec::new()
                };
                // Every material: submitted now, or held already (e-licence, earlier application).
                let mut plan: Vec<(usize, &MaterialSpec, Plan)> = Vec::new();
                let mut missing = Vec::new();
                for (pos, spec) in item.spec.materials.iter().enumerate() {
                    if let Some(g) = given.iter().position(|g| g.code == spec.code) {
                        plan.push((pos, spec, Plan::Given(g)));
                        continue;
                    }
                    if let Some(t) = &spec.licence_type {
                        if let Some(l) = library.iter().find(|l| &l.r#type == t) {
                            plan.push((pos, spec, Plan::Licence(l.clone())));
                            continue;
                        }
                    }
                    if spec.reusable && in_person {
                        if let Some(e) = store::earlier_material(tx, &applicant_id, &spec.code).await? {
                            plan.push((pos, spec, Plan::Earlier(e)));
                            continue;
                        }
                    }
                    if spec.required {
                        missing.push(Missing {
                            code: spec.code.clone(),
                            name: spec.name.clone(),
                            count: spec.count,
                            medium: spec.medium.clone(),
                            formats: spec.formats.clone(),
                            max_kb: spec.max_kb,
                            note: spec.note.clone(),
                        });
                    }
                }
                let visit = match (&window, &clerk) {
                    (Some(w), Some(c)) => Some(
                        store::insert_visit(
                            tx,
                            &store::NewVisit {
                                window_code: w,
                                clerk: c,
                                clerk_department: clerk_department.as_deref(),
                                applicant_id: &applicant_id,
                                item_code: &item.code,
                                outcome: if missing.is_empty() { "accepted" } else { "missing_materials" },
                                at: &now,
                            },
                            &date,
                        )
                        .await?,
                    ),
                    _ => None,
                };

                if !missing.is_empty() {
                    let row = NoticeRow {
                        number: random_number("GZ"),
                        kind: "missing_materials".into(),
                        item_code: item.code.clone(),
                        item_version: item.version,
                        applicant_id: applicant_id.clone(),
                        channel: channel_name.into(),
                        window_code: window.clone(),
                        visit_id: visit.as_ref().map(|v| v.0),
                        missing: serde_json::to_string(&missing).map_err(|e| ServiceError::InvalidField(e.to_string()))?,
                        reason: None,
                        issued_by: clerk.clone().unwrap_or_else(|| "system:online".into()),
                        issued_at: now_dt,
                        applicant_name: Some(name.clone()),
                    };
                    store::insert_notice(tx, &row).await?;
                    if let Some(c) = &contact {
                        let names: Vec<&str> = missing.iter().map(|m| m.name.as_str()).collect();
                        crate::notify::enqueue_message_in(
                            tx,
                            c,
                            &format!("【一次性告知】{}：请补齐材料", item.spec.name),
                            &format!(
                                "您申请的“{}”尚缺以下材料：{}。本告知书一次性列明全部需补正的材料（告知书编号 {}），补齐后可到任一窗口或网上办理。",
                                item.spec.name,
                                names.join("、"),
                                row.number
                            ),
                            &now,
                        )
                        .await?;
                    }
                    let counts = Counts { missing_notices: 1, ..Counts::default() };
                    statistics::count_in(tx, &Keys::notice(&row, &item.spec.department_code), row.issued_at, &counts)
                        .await?;
                    return Ok(Written::Missing(Box::new(notice_view(&item, row, visit.map(|v| v.1)))));
                }

                let deadline = calendar.add_working_days(now_dt, u32::try_from(item.spec.promised_limit_days).unwrap_or(1));
                let legal = calendar.add_working_days(now_dt, u32::try_from(item.spec.legal_limit_days).unwrap_or(1));
                let app = store::insert_application(
                    tx,
                    &store::NewApplication {
                        item: &item,
                        applicant_id: &applicant_id,
                        applicant_name: &name,
                        contact: contact.as_deref(),
                        channel: channel_name,
                        window_code: window.as_deref(),
                        clerk: clerk.as_deref(),
                        visit_id: visit.as_ref().map(|v| v.0),
                        accepted_at: &now,
                        deadline: &text(deadline),
                        legal_deadline: &text(legal),
                        access_key_hash: &key.sha256,
                    },
                    &date,
                )
                .await?;
                for (pos, spec, how) in &plan {
                    let position = *pos as i64;
                    let m = match how {
                        Plan::Given(i) => {
                            let g = &given[*i];
                            store::NewMaterial {
                                position,
                                code: &spec.code,
                                name: &spec.name,
                                source: if g.paper { "paper" } else { "submitted" },
                                format: g.format,
                                size_bytes: (!g.paper).then_some(g.bytes.len() as i64),
                                sha256: g.sha256.as_deref(),
                                content: (!g.paper).then_some(g.bytes.as_slice()),
                                licence_number: None,
                                reused_from: None,
                            }
                        }
                        Plan::Licence(l) => store::NewMaterial {
                            position,
                            code: &spec.code,
                            name: &spec.name,
                            source: "licence",
                            format: None,
                            size_bytes: None,
                            sha256: None,
                            content: None,
                            licence_number: Some(&l.number),
                            reused_from: None,
                        },
                        Plan::Earlier((id, format, size, sha)) => store::NewMaterial {
                            position,
                            code: &spec.code,
                            name: &spec.name,
                            source: "earlier",
                            format: format.as_deref(),
                            size_bytes: *size,
                            sha256: sha.as_deref(),
                            content: None,
                            licence_number: None,
                            reused_from: Some(*id),
                        },
                    };
                    store::insert_material(tx, app.id, &applicant_id, &m, &now).await?;
                }
                for (i, s) in item.spec.steps.iter().enumerate() {
                    for d in &s.departments {
                        store::insert_step(tx, app.id, i as i64, &s.name, d, if i == 0 { "pending" } else { "waiting" })
                            .await?;
                    }
                }
                let actor = clerk.clone().unwrap_or_else(|| "system:online".into());
                let reused = plan.iter().filter(|(_, _, p)| !matches!(p, Plan::Given(_))).count();
                store::insert_event(tx, app.id, &now, &actor, "accept", Some(&format!("受理；复用已有材料 {reused} 项")))
                    .await?;
                let materials = store::materials_in(tx, app.id).await?;
                crate::ledger::append_in(
                    tx,
                    trace::ACCEPTANCE_KIND,
                    &app.number,
                    &trace::acceptance_content(&app, &materials),
                    &now,
                )
                .await?;
                if let Some(c) = &contact {
                    crate::notify::enqueue_message_in(
                        tx,
                        c,
                        &format!("【受理通知】{}（办件编号 {}）", item.spec.name, app.number),
                        &format!(
                            "您申请的“{}”已受理，办件编号 {}，承诺办结时限 {} 个工作日（{} 前）。凭办件编号和受理时给出的查询码可随时查询进度。",
                            item.spec.name,
                            app.number,
                            item.spec.promised_limit_days,
                            local_date(deadline)
                        ),
                        &now,
                    )
                    .await?;
                }
                let (reused, asked) = (reused as i64, (plan.len() - reused) as i64);
                let counts = Counts {
                    accepted: 1,
                    online: i64::from(window.is_none()),
                    materials_reused: reused,
                    materials_asked: asked,
                    visits_saved: (app.max_visits - i64::from(window.is_some())).max(0) + reused,
                    ..Counts::default()
                };
                statistics::count_in(tx, &Keys::application(&app), app.accepted_at, &counts).await?;
                Ok(Written::Accepted { app: Box::new(app), visit_number: visit.map(|v| v.1) })
                })
            })
            .await?;
        match written {
            Written::Missing(notice) => Ok(Outcome::MissingMaterials { notice }),
            Written::Accepted { app, visit_number } => {
                let view = self.view(*app, None).await?;
                Ok(Outcome::Accepted { application: Box::new(view), visit_number, access_key: key.key })
            }
        }
    }

    /// 不予受理: a clerk refuses with a reason; the notice is printable like the missing one.
    pub async fn refuse(&self, clerk: &Principal, req: NewRefusal) -> Result<NoticeView, ServiceError> {
        if !clerk.has_role(Role::WindowClerk) {
            return Err(ServiceError::Forbidden("refusing applications (window clerks only)"));
        }
        let window = clean_window(&req.window)?;
        let item = self.active_item(&req.item_code).await?;
        let applicant_id = parse_applicant(item.spec.applicant_type, &req.applicant.id_number)?;
        let name = clean_req(&req.applicant.name, 100, "applicant.name")?;
        let contact = clean_opt(&req.applicant.contact, 200, "applicant.contact")?;
        let reason = clean_req(&req.reason, 1000, "reason")?;
        let now_dt = self.now();
        let now = text(now_dt);
        let actor = clerk.actor().label().to_owned();
        let clerk_department = clerk.department_code.clone();
        let (row, visit, item) = self
            .db
            .write(move |tx| {
                Box::pin(async move {
                    store::register_applicant(
                        tx,
                        &applicant_id,
                        item.spec.applicant_type.as_str(),
                        &name,
                        contact.as_deref(),
                        &now,
                        true,
                    )
                    .await?;
                    let visit = store::insert_visit(
                        tx,
                        &store::NewVisit {
                            window_code: &window,
                            clerk: &actor,
                            clerk_department: clerk_department.as_deref(),
                            applicant_id: &applicant_id,
                            item_code: &item.code,
                            outcome: "refused",
                            at: &now,
                        },
                        &local_date_compact(now_dt),
                    )
                    .await?;
                    let row = NoticeRow {
                        number: random_number("BY"),
                        kind: "refusal".into(),
                        item_code: item.code.clone(),
                        item_version: item.version,
                        applicant_id,
                        channel: "window".into(),
                        window_code: Some(window),
                        visit_id: Some(visit.0),
                        missing: "[]".into(),
                        reason: Some(reason.clone()),
                        issued_by: actor,
                        issued_at: now_dt,
                        applicant_name: Some(name.clone()),
                    };
                    store::insert_notice(tx, &row).await?;
                    if let Some(c) = &contact {
                        crate::notify::enqueue_message_in(
                            tx,
                            c,
                            &format!("【不予受理通知】{}", item.spec.name),
                            &format!(
                                "您申请的“{}”不予受理。理由：{reason}（通知书编号 {}）。",
                                item.spec.name, row.number
                            ),
                            &now,
                        )
                        .await?;
                    }
                    let counts = Counts { refusals: 1, ..Counts::default() };
                    statistics::count_in(tx, &Keys::notice(&row, &item.spec.department_code), row.issued_at, &counts)
                        .await?;
                    Ok::<_, ServiceError>((row, visit, item))
                })
            })
            .await?;
        Ok(notice_view(&item, row, Some(visit.1)))
    }

    /// A notice by its number (a random capability, like a certificate number).
    pub async fn notice(&self, number: &str) -> Result<(NoticeView, ServiceItem, String), ServiceError> {
        let ok = number.len() == 18 && number.bytes().all(|b| b.is_ascii_alphanumeric());
        let row = if ok { store::find_notice(&self.db, number).await? } else { None };
        let row = row.ok_or_else(|| ServiceError::NoticeNotFound(number.chars().take(32).collect()))?;
        let item = self.item(&row.item_code, Some(row.item_version)).await?;
        // The name given with the application; notices from before issue 14 print the
        // registered one.
        let name = match row.applicant_name.clone() {
            Some(n) => n,
            None => store::applicant_name(&self.db, &row.applicant_id).await?.unwrap_or_default(),
        };
        Ok((notice_view(&item, row, None), item, name))
    }
}

/// What an acceptance wrote, to be shown once committed.
enum Written {
    Missing(Box<NoticeView>),
    Accepted { app: Box<ApplicationRow>, visit_number: Option<String> },
}

enum Plan {
    Given(usize),
    Licence(CertificateView),
    Earlier((i64, Option<String>, Option<i64>, Option<String>)),
}

fn notice_view(item: &ServiceItem, row: NoticeRow, visit_number: Option<String>) -> NoticeView {
    NoticeView {
        document: format!("/api/v1/service-notices/{}", row.number),
        missing: serde_json::from_str(&row.missing).unwrap_or_default(),
        number: row.number,
        kind: row.kind,
        item_code: row.item_code,
        item_version: row.item_version,
        item_name: item.spec.name.clone(),
        applicant_id_masked: mask(&row.applicant_id),
        channel: row.channel,
        window_code: row.window_code,
        visit_number,
        reason: row.reason,
        issued_at: text(row.issued_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_proven_from_the_bytes() {
        assert_eq!(sniff_format(b"%PDF-1.7 ..."), Some("pdf"));
        assert_eq!(sniff_format(&[0xFF, 0xD8, 0xFF, 0xE1]), Some("jpg"));
        assert_eq!(sniff_format(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]), Some("png"));
        assert_eq!(sniff_format(b"PK\x03\x04ofd"), Some("ofd"));
        assert_eq!(sniff_format(b"%PD"), None);
        assert_eq!(sniff_format(b"GIF89a"), None);
    }

    #[test]
    fn the_number_must_fit_the_item() {
        let person = "11010519491231002X";
        let entity = "91350100M000100Y43";
        assert_eq!(parse_applicant(ApplicantType::Person, person).unwrap(), person);
        assert_eq!(parse_applicant(ApplicantType::Entity, entity).unwrap(), entity);
        assert_eq!(parse_applicant(ApplicantType::Person, entity).unwrap_err().code(), "applicant_type_mismatch");
        assert_eq!(parse_applicant(ApplicantType::Entity, person).unwrap_err().code(), "applicant_type_mismatch");
        assert_eq!(
            parse_applicant(ApplicantType::Person, "110105194912310021").unwrap_err().code(),
            "invalid_id_number_checksum"
        );
        assert_eq!(parse_any_id("91350100m000100y43").unwrap(), entity);
        assert_eq!(mask(person), "110105********002X");
    }

    #[test]
    fn age_counts_whole_years_to_the_birthday() {
        let mut spec = crate::services::catalogue::tests_support::sample();
        spec.eligibility.min_age = Some(80);
        let item = ServiceItem {
            code: "x".into(),
            version: 1,
            basic_code: "x".into(),
            item_type_name: String::new(),
            spec,
            created_at: String::new(),
            created_by: String::new(),
        };
        let id = "11010519461123001X";
        let id = crate::identity::ResidentId::complete(&id[..17]).unwrap();
        let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert!(check_eligibility(&item, id.as_str(), day(11, 23)).is_ok(), "80 on the birthday");
        let e = check_eligibility(&item, id.as_str(), day(11, 22)).unwrap_err();
        assert_eq!(e.code(), "not_eligible");
    }
}
