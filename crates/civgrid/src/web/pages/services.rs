//! The one-window services pages (issue 6, second slice): the window clerk's workbench
//! (accept with material reuse, the one-time notice, refusal, follow by number), the
//! approver's queue with the item's checklist, and the citizen's side of the portal (apply
//! online, follow by number with the ID number, rate once concluded).
//!
//! As everywhere in `pages`, these only read through `Services` with the reader's `Principal`
//! (so an approver sees exactly their department's steps, as the API shows them); every write
//! is sent by `app.js` to `/api/v1/service-…`.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

use super::{
    error_page, frame, html, lang_of, local_at, local_time, not_yours, public_frame, staff_only, Frame, Opt, Tr,
};
use crate::services::applications::{ApplicationView, ListedApplication};
use crate::services::catalogue::ApplicantType;
use crate::services::{ServiceError, ServiceItem};
use crate::staff::{Principal, Role};
use crate::web::error::ApiError;
use crate::web::limit::{Budget, ClientAddr};
use crate::web::AppState;

/// How many applications a list shows.
const LIST_LIMIT: i64 = 50;

/// A material of an item, as the acceptance form lists it.
pub struct MaterialLine {
    pub code: String,
    pub name: String,
    pub required: bool,
    /// The e-licence type that stands in for it (empty: none).
    pub licence_type: String,
    pub reusable: bool,
    pub formats: String,
    /// The file input's `accept` (`.pdf,.jpg`).
    pub accept: String,
    pub max_kb: i64,
    pub paper_only: bool,
    /// Paper is accepted (the medium is `paper` or `either`).
    pub paper_ok: bool,
    pub note: String,
}

/// An item as the acceptance form shows it.
pub struct ItemForm {
    pub code: String,
    pub name: String,
    pub department: String,
    pub person: bool,
    pub conditions: Vec<String>,
    pub promised_days: i64,
    pub max_visits: i64,
    pub materials: Vec<MaterialLine>,
}

fn item_form(item: &ServiceItem, department: String) -> ItemForm {
    let s = &item.spec;
    ItemForm {
        code: item.code.clone(),
        name: s.name.clone(),
        department,
        person: s.applicant_type == ApplicantType::Person,
        conditions: s.conditions.clone(),
        promised_days: s.promised_limit_days,
        max_visits: s.max_visits,
        materials: s
            .materials
            .iter()
            .map(|m| MaterialLine {
                code: m.code.clone(),
                name: m.name.clone(),
                required: m.required,
                licence_type: m.licence_type.clone().unwrap_or_default(),
                reusable: m.reusable,
                formats: m.formats.join(", "),
                accept: m.formats.iter().map(|f| format!(".{f}")).collect::<Vec<_>>().join(","),
                max_kb: m.max_kb,
                paper_only: m.medium == "paper",
                paper_ok: m.medium != "electronic",
                note: m.note.clone(),
            })
            .collect(),
    }
}

/// A material of an application and where it came from.
pub struct MaterialSource {
    pub code: String,
    pub name: String,
    /// `submitted`, `paper`, `licence` or `earlier`.
    pub source: String,
    pub source_label: &'static str,
    /// The e-licence number, or the earlier application's material id (staff only).
    pub detail: String,
}

/// One department's part of one step.
pub struct StepLine {
    /// 1-based, for people.
    pub index: i64,
    pub name: String,
    pub department: String,
    pub state: String,
    pub state_label: &'static str,
    pub decided_at: String,
    pub note: String,
    pub checks: Vec<CheckLine>,
}

pub struct CheckLine {
    pub code: String,
    /// The criterion as the item version words it.
    pub text: String,
    pub met: bool,
    pub note: String,
}

pub struct EventLine {
    pub at: String,
    pub label: &'static str,
    pub note: String,
}

/// An application as the pages show it (staff or applicant).
pub struct AppDetail {
    pub number: String,
    pub item_name: String,
    pub item_code: String,
    pub applicant_name: String,
    pub applicant_id: String,
    pub channel_label: &'static str,
    pub window: String,
    pub state: String,
    pub state_label: &'static str,
    pub sla: String,
    pub sla_label: &'static str,
    pub accepted: String,
    pub deadline: String,
    pub concluded: String,
    pub licence_number: String,
    pub reused: usize,
    pub materials: Vec<MaterialSource>,
    pub steps: Vec<StepLine>,
    pub events: Vec<EventLine>,
}

impl AppDetail {
    pub fn concluded(&self) -> bool {
        !self.concluded.is_empty()
    }
}

/// Keeps the first six and last four characters of an ID number.
fn mask(id: &str) -> String {
    let n = id.chars().count();
    if n <= 10 {
        return id.to_owned();
    }
    id.chars().enumerate().map(|(i, c)| if i < 6 || i >= n - 4 { c } else { '*' }).collect()
}

/// The criteria texts of the item version an application was accepted under, by code.
async fn criteria_texts(state: &AppState, v: &ApplicationView) -> Result<Vec<(String, String)>, ApiError> {
    let item = state.services.item(&v.application.item_code, Some(v.application.item_version)).await?;
    Ok(item.spec.steps.iter().flat_map(|s| s.checklist.iter().map(|c| (c.code.clone(), c.text.clone()))).collect())
}

fn detail(
    l: Tr,
    v: ApplicationView,
    departments: &[(String, String)],
    texts: &[(String, String)],
    for_applicant: bool,
) -> AppDetail {
    let dept = |code: &str| {
        departments.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
    };
    let a = v.application;
    let materials: Vec<MaterialSource> = v
        .materials
        .into_iter()
        .map(|m| MaterialSource {
            source_label: l.t(&format!("svc.source.{}", m.source)),
            detail: match (m.source.as_str(), for_applicant) {
                (_, true) => String::new(),
                ("licence", _) => m.licence_number.unwrap_or_default(),
                ("earlier", _) => m.reused_from.map(|id| format!("#{id}")).unwrap_or_default(),
                _ => String::new(),
            },
            code: m.code,
            name: m.name,
            source: m.source,
        })
        .collect();
    let steps = v
        .steps
        .into_iter()
        .map(|s| {
            let checks = s
                .checklist
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|c| CheckLine {
                            text: texts
                                .iter()
                                .find(|(k, _)| c["code"].as_str() == Some(k))
                                .map(|(_, t)| t.clone())
                                .unwrap_or_default(),
                            code: c["code"].as_str().unwrap_or_default().to_owned(),
                            met: c["met"].as_bool().unwrap_or(false),
                            note: c["note"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            StepLine {
                index: s.step.step_index + 1,
                name: s.step.step_name,
                department: dept(&s.step.department_code),
                state_label: l.t(&format!("svc.step.{}", s.step.state)),
                state: s.step.state,
                decided_at: s.step.decided_at.as_deref().map(local_time).unwrap_or_default(),
                note: s.step.note.unwrap_or_default(),
                checks,
            }
        })
        .collect();
    let events = v
        .events
        .into_iter()
        .map(|e| EventLine {
            at: local_time(&e.at),
            label: l.t(&format!("svc.event.{}", e.action)),
            note: e.note.unwrap_or_default(),
        })
        .collect();
    AppDetail {
        reused: materials.iter().filter(|m| m.source == "licence" || m.source == "earlier").count(),
        number: a.number,
        item_name: v.item_name,
        item_code: a.item_code,
        applicant_name: a.applicant_name,
        applicant_id: if for_applicant { mask(&a.applicant_id) } else { a.applicant_id },
        channel_label: l.t(&format!("svc.channel.{}", a.channel)),
        window: a.window_code.unwrap_or_default(),
        state_label: l.t(&format!("svc.state.{}", a.state)),
        state: a.state,
        sla_label: l.t(&format!("svc.sla.{}", v.sla)),
        sla: v.sla.to_owned(),
        accepted: local_at(&a.accepted_at),
        deadline: local_at(&a.deadline),
        concluded: a.concluded_at.as_ref().map(local_at).unwrap_or_default(),
        // The applicant's own e-licence (the API gives it to them too), to verify.
        licence_number: a.licence_number.unwrap_or_default(),
        materials,
        steps,
        events,
    }
}

/// A line of a list of applications.
pub struct AppSummary {
    pub number: String,
    pub item_code: String,
    pub applicant_name: String,
    pub state: String,
    pub state_label: &'static str,
    pub sla: String,
    pub sla_label: &'static str,
    pub accepted: String,
    pub deadline: String,
}

fn summary(l: Tr, v: &ListedApplication) -> AppSummary {
    let a = &v.application;
    AppSummary {
        number: a.number.clone(),
        item_code: a.item_code.clone(),
        applicant_name: a.applicant_name.clone(),
        state_label: l.t(&format!("svc.state.{}", a.state)),
        state: a.state.clone(),
        sla_label: l.t(&format!("svc.sla.{}", v.sla)),
        sla: v.sla.to_owned(),
        accepted: local_at(&a.accepted_at),
        deadline: local_at(&a.deadline),
    }
}

async fn departments(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    Ok(state.staff.departments().await?.into_iter().map(|d| (d.code, d.name)).collect())
}

fn item_options(items: &[ServiceItem], departments: &[(String, String)]) -> Vec<Opt> {
    items
        .iter()
        .filter(|i| i.spec.active)
        .map(|i| {
            let d = departments.iter().find(|(c, _)| *c == i.spec.department_code).map_or("", |(_, n)| n.as_str());
            Opt { code: i.code.clone(), label: format!("{} · {}", i.spec.name, d) }
        })
        .collect()
}

/// The chosen item's form, if `code` names an active item.
async fn chosen_item(
    state: &AppState,
    code: Option<&str>,
    departments: &[(String, String)],
) -> Result<Option<ItemForm>, ApiError> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    match state.services.item(code, None).await {
        Ok(item) if item.spec.active => {
            let d = departments
                .iter()
                .find(|(c, _)| *c == item.spec.department_code)
                .map_or(item.spec.department_code.clone(), |(_, n)| n.clone());
            Ok(Some(item_form(&item, d)))
        }
        Ok(_) | Err(ServiceError::ItemNotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The window clerk (窗口人员).

#[derive(Template)]
#[template(path = "window.html")]
struct WindowPage {
    l: Tr,
    page: Frame,
    items: Vec<Opt>,
    item: Option<ItemForm>,
    number: String,
    found: Option<AppDetail>,
    recent: Vec<AppSummary>,
    /// The next page of the latest applications, and the way back to the first.
    pager: Pager,
}

#[derive(Debug, Deserialize)]
pub(super) struct WindowQuery {
    item: Option<String>,
    number: Option<String>,
    /// The page of the latest applications after this one.
    after: Option<i64>,
}

/// Links of a paged list: the next page, and the first when this is not it.
pub struct Pager {
    pub next: Option<String>,
    pub first: Option<String>,
}

impl Pager {
    fn new(path: &str, anchor: &str, after: Option<i64>, next: Option<i64>) -> Pager {
        Pager {
            next: next.map(|id| format!("{path}?after={id}#{anchor}")),
            first: after.map(|_| format!("{path}#{anchor}")),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct AfterQuery {
    after: Option<i64>,
}

/// `GET /workbench/window?item=&number=`: accept an application (materials the government
/// holds are attached by the API and shown), print the one-time notice, refuse with a reason,
/// follow an application by number, the latest applications.
pub(super) async fn window_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<WindowQuery>,
) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !p.has_role(Role::WindowClerk) {
        return not_yours(l, &uri, &p);
    }
    let number: String = q.number.as_deref().unwrap_or("").trim().chars().take(40).collect();
    let run = async {
        let departments = departments(&state).await?;
        let items = state.services.items().await?;
        let item = chosen_item(&state, q.item.as_deref(), &departments).await?;
        let found = match number.as_str() {
            "" => None,
            n => match state.services.get(&p, n, request_id(&headers)).await {
                Ok(v) => {
                    let texts = criteria_texts(&state, &v).await?;
                    Some(detail(l, v, &departments, &texts, false))
                }
                Err(ServiceError::ApplicationNotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
        };
        let (rows, next) = state.services.list_page(&p, None, false, q.after, LIST_LIMIT, request_id(&headers)).await?;
        let recent = rows.iter().map(|v| summary(l, v)).collect();
        let pager = Pager::new("/workbench/window", "recent-title", q.after, next);
        Ok::<_, ApiError>(WindowPage {
            l,
            page: frame(l, &uri, Some(&p)),
            items: item_options(&items, &departments),
            item,
            number: number.clone(),
            found,
            recent,
            pager,
        })
    };
    match run.await {
        Ok(page) => {
            let status =
                if page.found.is_none() && !page.number.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
            html(status, page.render())
        }
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

// ---------------------------------------------------------------------------------------------
// The approver (后台审批人员).

/// A step waiting for the reader's department, with its checklist.
pub struct Task {
    pub app: AppDetail,
    pub step: i64,
    /// 1-based, for people.
    pub step_no: i64,
    pub step_name: String,
    /// Every department of the step (parallel approval when more than one).
    pub parallel: Vec<String>,
    pub criteria: Vec<Opt>,
    /// The item's special steps (特殊环节) the application may be suspended for.
    pub special_steps: Vec<String>,
}

#[derive(Template)]
#[template(path = "approve.html")]
struct ApprovePage {
    l: Tr,
    page: Frame,
    department: String,
    /// 好差评整改: the department's rectification tasks from bad ratings.
    rectifications: Vec<RectLine>,
    tasks: Vec<Task>,
    /// In review, with the department's step still to come (an earlier step is open).
    upcoming: Vec<AppSummary>,
    /// In review, the department's steps decided: other departments are still deciding.
    others: Vec<AppSummary>,
    /// In a special step (clock stopped), to resume.
    suspended: Vec<AppSummary>,
    concluded: Vec<AppSummary>,
    /// The next page of the applications in review, and the way back to the first.
    pager: Pager,
}

/// A rectification task (整改) as the responsible unit sees it: what the applicant said, the
/// deadline, and what it may do now (reply with the callback when open, appeal while open or
/// replied).
pub struct RectLine {
    pub id: i64,
    pub state: String,
    pub state_label: &'static str,
    pub target: String,
    pub grade: String,
    pub comment: String,
    pub deadline: String,
    pub overdue: bool,
    pub reply: String,
    pub callback_note: String,
    pub appeal_reason: String,
    pub appeal_decision: String,
    pub can_reply: bool,
    pub can_appeal: bool,
}

pub(super) fn rect_line(
    l: Tr,
    r: crate::services::RectificationRow,
    rating: Option<crate::services::RatingRow>,
) -> RectLine {
    let open = matches!(r.state.as_str(), "open" | "replied" | "appealed");
    RectLine {
        id: r.id,
        state_label: l.t(&format!("rect.state.{}", r.state)),
        can_reply: r.state == "open",
        can_appeal: r.state == "open" || r.state == "replied",
        overdue: open && r.deadline.as_str() < crate::db::now_text().as_str(),
        deadline: local_time(&r.deadline),
        target: rating.as_ref().map(|x| x.target_ref.clone()).unwrap_or_default(),
        grade: rating
            .as_ref()
            .map(|x| format!("{} {}", x.grade, l.t(&format!("psvc.grade.{}", x.grade))))
            .unwrap_or_default(),
        comment: rating.and_then(|x| x.comment).unwrap_or_default(),
        reply: r.reply.unwrap_or_default(),
        callback_note: r.callback_note.unwrap_or_default(),
        appeal_reason: r.appeal_reason.unwrap_or_default(),
        appeal_decision: r.appeal_decision.unwrap_or_default(),
        state: r.state,
    }
}

/// `GET /workbench/approve`: the department's approval queue — each open step with the item's
/// decision checklist for the department, the materials and where they came from, and which
/// other departments decide the same step in parallel.
pub(super) async fn approve_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<AfterQuery>,
) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(dept) = approver_department(&p) else { return not_yours(l, &uri, &p) };
    let run = async {
        let departments = departments(&state).await?;
        let name = |code: &str| {
            departments.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
        };
        let mut tasks = Vec::new();
        let mut upcoming = Vec::new();
        let mut others = Vec::new();
        // Whoever has waited longest comes first: the applications in review, oldest first, a
        // page at a time.
        let (in_review, next) =
            state.services.list_page(&p, Some("in_review"), true, q.after, LIST_LIMIT, request_id(&headers)).await?;
        let pager = Pager::new("/workbench/approve", "queue-approve", q.after, next);
        for row in in_review {
            let number = row.application.number.as_str();
            // The view shows only the reader's department's steps.
            let v = state.services.get(&p, number, request_id(&headers)).await?;
            let Some(open) = v.steps.iter().find(|s| s.step.state == "pending").map(|s| s.step.step_index) else {
                if v.steps.iter().any(|s| s.step.state == "waiting") {
                    upcoming.push(summary(l, &row));
                } else {
                    others.push(summary(l, &row));
                }
                continue;
            };
            let item = state.services.item(&v.application.item_code, Some(v.application.item_version)).await?;
            let texts: Vec<(String, String)> = item
                .spec
                .steps
                .iter()
                .flat_map(|s| s.checklist.iter().map(|c| (c.code.clone(), c.text.clone())))
                .collect();
            let Some(spec) = item.spec.steps.get(usize::try_from(open).unwrap_or(usize::MAX)) else { continue };
            let criteria =
                spec.checklist_for(&dept).map(|c| Opt { code: c.code.clone(), label: c.text.clone() }).collect();
            let parallel = spec.departments.iter().map(|d| name(d)).collect();
            let step_name = spec.name.clone();
            let special_steps = item.spec.special_steps.iter().map(|s| s.name.clone()).collect();
            tasks.push(Task {
                app: detail(l, v, &departments, &texts, false),
                step: open,
                step_no: open + 1,
                step_name,
                parallel,
                criteria,
                special_steps,
            });
        }
        let suspended = state
            .services
            .list(&p, Some("suspended"), LIST_LIMIT, request_id(&headers))
            .await?
            .iter()
            .map(|v| summary(l, v))
            .collect();
        let mut concluded = Vec::new();
        for s in ["approved", "rejected"] {
            concluded.extend(
                state.services.list(&p, Some(s), 10, request_id(&headers)).await?.iter().map(|v| summary(l, v)),
            );
        }
        concluded.sort_by(|a, b| b.accepted.cmp(&a.accepted));
        let rectifications = state
            .services
            .rectifications_with_ratings(&p)
            .await?
            .into_iter()
            .map(|(r, rating)| rect_line(l, r, rating))
            .collect();
        Ok::<_, ApiError>(ApprovePage {
            l,
            page: frame(l, &uri, Some(&p)),
            department: name(&dept),
            rectifications,
            tasks,
            upcoming,
            others,
            suspended,
            concluded,
            pager,
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

/// The department an approver decides for (none: no approver workbench).
pub(super) fn approver_department(p: &Principal) -> Option<String> {
    if p.has_role(Role::Approver) {
        p.department_code.clone()
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// The citizen's side (一网通办).

#[derive(Template)]
#[template(path = "portal_services.html")]
struct PortalServicesPage {
    l: Tr,
    page: Frame,
    items: Vec<Opt>,
    item: Option<ItemForm>,
    /// The follow form's number (empty here).
    number: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct ItemQuery {
    item: Option<String>,
}

/// `GET /portal/services?item=`: apply online for an item; follow an application.
pub(super) async fn portal_services(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<ItemQuery>,
) -> Response {
    let l = Tr(lang_of(&headers));
    let run = async {
        let departments = departments(&state).await?;
        let items = state.services.items().await?;
        let item = chosen_item(&state, q.item.as_deref(), &departments).await?;
        Ok::<_, ApiError>(PortalServicesPage {
            l,
            page: public_frame(l, &uri, &headers),
            items: item_options(&items, &departments),
            item,
            number: String::new(),
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, None, e),
    }
}

#[derive(Template)]
#[template(path = "portal_application.html")]
struct PortalApplicationPage {
    l: Tr,
    page: Frame,
    number: String,
    asked: bool,
    found: Option<AppDetail>,
    /// The application's access key, for the rating form (sent back to the API, never shown).
    access_key: String,
}

#[derive(educe::Educe, Deserialize)]
#[educe(Debug)]
pub(super) struct FollowForm {
    number: String,
    #[educe(Debug(method(crate::secret::redacted)))]
    access_key: String,
}

/// The request id the request-id layer set (for the access record).
fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

/// `GET /portal/application`: the form to follow an application.
pub(super) async fn portal_application_form(State(_): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let l = Tr(lang_of(&headers));
    let page = PortalApplicationPage {
        l,
        page: public_frame(l, &uri, &headers),
        number: String::new(),
        asked: false,
        found: None,
        access_key: String::new(),
    };
    html(StatusCode::OK, page.render())
}

/// `POST /portal/application` (number, access key): the application's progress as its
/// applicant sees it. A form post, so the key stays out of addresses and history; a wrong pair
/// answers exactly like an unknown number, wrong keys are counted per number and each address
/// has a lookup budget.
pub(super) async fn portal_application(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    addr: ClientAddr,
    Form(f): Form<FollowForm>,
) -> Response {
    let l = Tr(lang_of(&headers));
    if let Err(e) = state.limits.spend(Budget::AnonymousLookup, addr) {
        return error_page(l, &uri, None, e);
    }
    let number: String = f.number.trim().chars().take(40).collect();
    let access_key: String = f.access_key.trim().chars().take(64).collect();
    let found = match state.services.lookup(&number, &access_key, request_id(&headers)).await {
        Ok(v) => {
            let texts = match criteria_texts(&state, &v).await {
                Ok(t) => t,
                Err(e) => return error_page(l, &uri, None, e),
            };
            match departments(&state).await {
                Ok(d) => Some(detail(l, v, &d, &texts, true)),
                Err(e) => return error_page(l, &uri, None, e),
            }
        }
        Err(ServiceError::ApplicationNotFound(_)) => None,
        Err(e) => return error_page(l, &uri, None, e.into()),
    };
    let status = if found.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    let access_key = if found.is_some() { access_key } else { String::new() };
    let page =
        PortalApplicationPage { l, page: public_frame(l, &uri, &headers), number, asked: true, found, access_key };
    html(status, page.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_masked_in_the_middle() {
        assert_eq!(mask("44060419950312042X"), "440604********042X");
        assert_eq!(mask("short"), "short");
    }
}
