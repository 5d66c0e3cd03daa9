//! Server-rendered pages (issue 6): one sign-on, a workbench per role, the command centre's
//! map and the citizen portal. Templates live in `crates/civgrid/templates/` (askama, compiled
//! in and auto-escaping), the stylesheet and scripts in `crates/civgrid/assets/` (compiled in;
//! no CDN, no outside calls).
//!
//! Pages only read, through the same domain services the API uses; every action a person takes
//! is sent by the page's script to the JSON API (`/api/v1/…`), so there is one write path. A
//! page without a valid session redirects to `/login`. Chinese first; the `lang=en` cookie
//! (set by `/lang/en`) switches every page and every error message to English.

mod admin;
mod charts;
pub(super) mod i18n;
mod services;
mod trends;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub use i18n::{Lang, Tr};

use super::error::ApiError;
use super::extract::request_token;
use super::AppState;
use crate::cases::state::{self, Action, State as CaseState};
use crate::cases::store::Only;
use crate::cases::{CaseClass, CaseRow};
use crate::staff::{Principal, Role, StaffError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(map_page))
        .route("/login", get(login))
        .route("/lang/{code}", get(set_lang))
        .route("/workbench", get(workbench))
        .route("/workbench/grid", get(grid_page))
        .route("/workbench/desk", get(desk_page))
        .route("/workbench/handler", get(handler_page))
        .route("/workbench/command", get(command_page))
        .route("/workbench/trends", get(trends::trends_page))
        .route("/workbench/cases", get(cases_page))
        .route("/workbench/window", get(services::window_page))
        .route("/workbench/approve", get(services::approve_page))
        .route("/workbench/admin", get(admin::admin_page))
        .route("/portal", get(portal))
        .route("/kiosk", get(kiosk))
        .route("/kiosk/exit", get(kiosk_exit))
        .route("/portal/track", get(track))
        .route("/portal/services", get(services::portal_services))
        .route("/portal/application", get(services::portal_application_form).post(services::portal_application))
        .route("/assets/{file}", get(asset))
}

// ---------------------------------------------------------------------------------------------
// What every page shares.

/// The page frame: language, who is signed in, the workbench links, the toggle's way back.
pub struct Frame {
    pub i18n: String,
    pub back: String,
    pub me: Option<Me>,
    pub nav: Vec<NavLink>,
    /// A 24-hour self-service terminal (the `kiosk=1` cookie set by `/kiosk`): big buttons,
    /// no staff sign-in link, back to the kiosk's start after a while untouched.
    pub kiosk: bool,
}

pub struct Me {
    pub name: String,
    pub roles: String,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The page language, from the `lang` cookie.
fn lang_of(headers: &HeaderMap) -> Lang {
    let v = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "lang")
        .map(|(_, v)| v.trim());
    Lang::from_cookie(v)
}

/// Percent-encodes a local path for a query parameter.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Longest redirect target kept.
const MAX_LOCAL_PATH: usize = 2048;

/// A redirect target given by the client, kept only if it is a path on this site: one `/` and
/// then no second `/` or `\`, and nothing but visible ASCII — browsers drop tabs and line
/// breaks from a location (`/%09/host` would become `//host`, another site), and anything
/// else cannot be sent in a `Location` header at all.
fn local_path(p: Option<&str>, default: &str) -> String {
    match p {
        Some(p) if is_local_path(p) => p.to_owned(),
        _ => default.to_owned(),
    }
}

fn is_local_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && b.len() <= MAX_LOCAL_PATH
        && b.iter().all(|c| c.is_ascii_graphic() && *c != b'\\')
}

/// The workbenches a person's roles open: (path, label key).
fn workbenches(p: &Principal) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    if p.has_role(Role::Admin) || p.has_role(Role::SecurityAdmin) {
        v.push(("/workbench/admin", "wb.admin"));
    }
    if [Role::Commander, Role::Admin, Role::Auditor].iter().any(|r| p.has_role(*r)) {
        v.push(("/workbench/command", "wb.command"));
        v.push(("/workbench/trends", "wb.trends"));
    }
    if [Role::IntakeOperator, Role::ShiftLeader, Role::Dispatcher].iter().any(|r| p.has_role(*r)) {
        v.push(("/workbench/desk", "wb.desk"));
    }
    if p.handler_department().is_some() {
        v.push(("/workbench/handler", "wb.handler"));
    }
    if p.has_role(Role::GridWorker) {
        v.push(("/workbench/grid", "wb.grid"));
    }
    if p.has_role(Role::WindowClerk) {
        v.push(("/workbench/window", "wb.window"));
    }
    if services::approver_department(p).is_some() {
        v.push(("/workbench/approve", "wb.approve"));
    }
    v.push(("/workbench/cases", "wb.cases"));
    v
}

fn frame(l: Tr, uri: &Uri, me: Option<&Principal>) -> Frame {
    let path = uri.path();
    let back = encode(uri.path_and_query().map(|p| p.as_str()).unwrap_or(path));
    let nav = match me {
        Some(p) => workbenches(p)
            .into_iter()
            .map(|(href, key)| NavLink { href, label: l.t(key), current: href == path })
            .collect(),
        None => vec![
            NavLink { href: "/portal", label: l.t("nav.portal"), current: path == "/portal" },
            NavLink { href: "/portal/services", label: l.t("nav.services"), current: path == "/portal/services" },
            NavLink { href: "/", label: l.t("nav.map"), current: path == "/" },
            NavLink { href: "/verify", label: l.t("nav.verify"), current: false },
        ],
    };
    let me = me.map(|p| {
        let mut roles: Vec<&str> = p.roles.iter().map(|g| l.t(&format!("role.{}", g.role.as_str()))).collect();
        roles.dedup();
        Me { name: p.display_name.clone(), roles: roles.join("、") }
    });
    Frame { i18n: l.json(), back, me, nav, kiosk: false }
}

/// Whether the browser is a self-service terminal (the `kiosk=1` cookie).
fn kiosk_of(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .any(|(k, v)| k == "kiosk" && v.trim() == "1")
}

/// The frame of a citizen's page: on a kiosk, one way back to the kiosk's start instead of
/// the portal's links.
fn public_frame(l: Tr, uri: &Uri, headers: &HeaderMap) -> Frame {
    let mut f = frame(l, uri, None);
    if kiosk_of(headers) {
        f.kiosk = true;
        f.nav = vec![NavLink { href: "/kiosk", label: l.t("kiosk.home"), current: uri.path() == "/kiosk" }];
    }
    f
}

/// The base-map tile URL the maps lay under the grids (`{z}/{x}/{y}`; empty: none).
fn tiles(state: &AppState) -> String {
    state.settings.map_tile_url.clone().unwrap_or_default()
}

fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(b) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], b)
            .into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Tr,
    page: Frame,
    title: String,
    message: String,
}

/// An error as a page in the reader's language (the details stay in the log).
fn error_page(l: Tr, uri: &Uri, me: Option<&Principal>, e: ApiError) -> Response {
    let key = format!("error.{}", e.code);
    let message = match l.t(&key) {
        "?" => e.message.clone(),
        m => m.to_owned(),
    };
    let page = MessagePage { l, page: frame(l, uri, me), title: l.t("common.error").to_owned(), message };
    html(e.status, page.render())
}

/// The signed-in staff member, or `None` for a missing, expired or revoked session.
async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Option<Principal>, ApiError> {
    let Some(token) = request_token(headers) else { return Ok(None) };
    match state.staff.authenticate(&token).await {
        Ok(p) => Ok(Some(p)),
        Err(StaffError::Unauthenticated) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A staff page's gate: the person, or the response to send instead (sign in first).
async fn staff_only(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<(Tr, Principal), Response> {
    let l = Tr(lang_of(headers));
    match viewer(state, headers).await {
        Ok(Some(p)) => Ok((l, p)),
        Ok(None) => {
            let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/workbench");
            Err(Redirect::to(&format!("/login?next={}", encode(next))).into_response())
        }
        Err(e) => Err(error_page(l, uri, None, e)),
    }
}

/// 403 as a page, when a signed-in person opens a workbench their roles do not include.
fn not_yours(l: Tr, uri: &Uri, p: &Principal) -> Response {
    let page = MessagePage {
        l,
        page: frame(l, uri, Some(p)),
        title: l.t("forbidden.title").to_owned(),
        message: l.t("forbidden.body").to_owned(),
    };
    html(StatusCode::FORBIDDEN, page.render())
}

// ---------------------------------------------------------------------------------------------
// Cases as the workbenches show them.

/// A choice in a select.
pub struct Opt {
    pub code: String,
    pub label: String,
}

/// One action a person may take on a case, as a small form the script sends to the API.
pub struct ActionForm {
    pub action: &'static str,
    pub label: &'static str,
    pub note_required: bool,
    pub class: bool,
    pub location: bool,
    pub department: bool,
    pub duplicate: bool,
    pub extension_days: bool,
    pub approve: bool,
    /// The callback's satisfaction rating (回访, 1–5).
    pub rating: bool,
    /// Photos may be attached (sent to `/api/v1/cases/{id}/photos` before the action).
    pub photos: bool,
    /// No field to fill in: a plain button.
    pub inline: bool,
}

pub struct CaseCard {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub state_label: &'static str,
    pub class_code: String,
    pub class_label: String,
    pub description: String,
    pub grid_code: String,
    pub address: String,
    pub department: String,
    /// The lead department, or the class's department before dispatch (the dispatch default).
    pub department_code: String,
    pub deadline: String,
    pub overdue: bool,
    pub reported: String,
    pub forms: Vec<ActionForm>,
    /// Likely duplicates (filled in by the desk for the cases at intake or awaiting dispatch).
    pub duplicates: Vec<DuplicateLink>,
    /// The reader may merge this case (the `merge` action is among its forms).
    pub can_merge: bool,
}

/// A likely duplicate of a case on a queue: an earlier case to merge it into.
pub struct DuplicateLink {
    pub id: i64,
    pub number: String,
    pub distance_m: i64,
}

/// What the pages need to label cases.
struct Labels {
    classes: Vec<CaseClass>,
    departments: Vec<(String, String)>,
}

impl Labels {
    async fn load(state: &AppState) -> Result<Labels, ApiError> {
        let classes = state.cases.classes().await?;
        let departments = state.staff.departments().await?.into_iter().map(|d| (d.code, d.name)).collect();
        Ok(Labels { classes, departments })
    }

    fn class(&self, code: &str) -> Option<&CaseClass> {
        self.classes.iter().find(|c| c.code == code)
    }

    fn class_options(&self) -> Vec<Opt> {
        self.classes
            .iter()
            .filter(|c| c.active)
            .map(|c| Opt {
                code: c.code.clone(), label: format!("{} · {} › {}", c.code, c.major_name, c.minor_name)
            })
            .collect()
    }

    fn department_options(&self) -> Vec<Opt> {
        self.departments.iter().map(|(c, n)| Opt { code: c.clone(), label: n.clone() }).collect()
    }

    fn department(&self, code: &str) -> String {
        self.departments.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
    }
}

/// RFC 3339 UTC text as China Standard Time, to the minute.
fn local_time(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|t| chrono::FixedOffset::east_opt(8 * 3600).map(|cst| t.with_timezone(&cst)))
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| s.to_owned())
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Accept => "accept",
        Action::Merge => "merge",
        Action::SelfHandle => "self_handle",
        Action::File => "file",
        Action::Refuse => "refuse",
        Action::Dispatch => "dispatch",
        Action::Take => "take",
        Action::Return => "return",
        Action::Feedback => "feedback",
        Action::Pass => "pass",
        Action::Fail => "fail",
        Action::Close => "close",
        Action::Suspend => "suspend",
        Action::Resume => "resume",
        Action::RequestExtension => "request_extension",
        Action::DecideExtension => "decide_extension",
        Action::Supervise => "supervise",
        Action::Escalate => "escalate",
        Action::Rate => "rate",
    }
}

/// The actions of `offered` the transition table allows from the case's state to someone
/// holding the roles `p` holds (the API still decides, for this very case).
fn forms_for(l: Tr, p: &Principal, c: &CaseRow, offered: &[Action]) -> Vec<ActionForm> {
    let Some(now) = CaseState::parse(&c.state) else { return vec![] };
    state::RULES
        .iter()
        .filter(|r| offered.contains(&r.action) && r.from.contains(&now) && p.has_role(r.role))
        .filter(|r| match r.action {
            Action::DecideExtension => c.extension_requested,
            Action::RequestExtension => !c.extension_requested,
            _ => true,
        })
        .map(|r| {
            let name = action_name(r.action);
            let class = r.action == Action::Accept;
            let location = class && c.grid_code.is_none();
            let department = r.action == Action::Dispatch;
            let duplicate = r.action == Action::Merge;
            let extension_days = matches!(r.action, Action::RequestExtension | Action::DecideExtension);
            let approve = r.action == Action::DecideExtension;
            ActionForm {
                action: name,
                label: l.action(name),
                note_required: r.note_required,
                class,
                location,
                department,
                duplicate,
                extension_days,
                approve,
                rating: r.action == Action::Rate,
                photos: matches!(r.action, Action::Feedback | Action::Fail),
                inline: !(r.note_required
                    || location
                    || duplicate
                    || extension_days
                    || approve
                    || r.action == Action::Rate),
            }
        })
        .collect()
}

fn card(l: Tr, p: &Principal, labels: &Labels, c: &CaseRow, offered: &[Action]) -> CaseCard {
    let class = c.class_code.as_deref().and_then(|code| labels.class(code));
    let class_label = class.map(|k| format!("{} › {}", k.major_name, k.minor_name)).unwrap_or_default();
    let lead = c.lead_department.clone().or_else(|| class.map(|k| k.department_code.clone())).unwrap_or_default();
    let with_department = CaseState::parse(&c.state).is_some_and(CaseState::with_department);
    let overdue = with_department && c.handle_deadline.as_deref().is_some_and(|d| d < crate::db::now_text().as_str());
    let forms = forms_for(l, p, c, offered);
    CaseCard {
        id: c.id,
        number: c.number.clone(),
        state: c.state.clone(),
        state_label: l.state(&c.state),
        class_code: c.class_code.clone().unwrap_or_default(),
        class_label,
        description: c.description.clone(),
        grid_code: c.grid_code.clone().unwrap_or_default(),
        address: c.address.clone().unwrap_or_default(),
        department: c.lead_department.as_deref().map(|d| labels.department(d)).unwrap_or_default(),
        department_code: lead,
        deadline: c.handle_deadline.as_deref().map(local_time).unwrap_or_default(),
        overdue,
        reported: local_time(&c.created_at),
        can_merge: forms.iter().any(|f| f.action == "merge"),
        forms,
        duplicates: Vec::new(),
    }
}

/// One titled queue of cases, a page of it at a time.
pub struct Queue {
    pub id: &'static str,
    pub title: &'static str,
    pub cards: Vec<CaseCard>,
    /// The links to the previous and the next page of this queue (none: no such page).
    pub prev: Option<String>,
    pub next: Option<String>,
    /// The cases behind the cards, in the same order.
    rows: Vec<CaseRow>,
}

const QUEUE_LIMIT: i64 = 50;

/// Which page of which queue a page shows (`?queue=dispatch&after=123` or `&before=45`);
/// the page's other queues start at their first page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    queue: Option<String>,
    after: Option<i64>,
    before: Option<i64>,
}

/// Who is reading, in which language, with the labels to show: what a queue is built from.
struct Reader<'a> {
    state: &'a AppState,
    l: Tr,
    p: &'a Principal,
    labels: &'a Labels,
    /// The page's path, for the paging links.
    path: &'a str,
    at: &'a PageQuery,
}

impl Reader<'_> {
    /// A page of the cases in `states` the reader may see (those `only` names), oldest first
    /// (whoever has waited longest), with the `offered` actions their roles allow.
    async fn queue(
        &self,
        (id, title): (&'static str, &'static str),
        states: &[&str],
        offered: &[Action],
        only: Only,
    ) -> Result<Queue, ApiError> {
        self.page_of(id, title, states, false, offered, only).await
    }

    /// A page of a list by id, oldest or newest first, with its previous and next links.
    async fn page_of(
        &self,
        id: &'static str,
        title: &'static str,
        states: &[&str],
        newest_first: bool,
        offered: &[Action],
        only: Only,
    ) -> Result<Queue, ApiError> {
        use crate::cases::store::{list_visible_page, PageAt, Visibility};
        let mine = self.at.queue.as_deref() == Some(id);
        let at = PageAt {
            newest_first,
            after: self.at.after.filter(|_| mine),
            before: self.at.before.filter(|_| mine),
            only,
        };
        let seen = Visibility::of(self.p);
        let (rows, more) = list_visible_page(&self.state.db, &seen, states, at, QUEUE_LIMIT)
            .await
            .map_err(crate::cases::CaseError::from)?;
        let link = |k: &str, v: i64| format!("{}?queue={id}&{k}={v}#queue-{id}", self.path);
        let (first, last) = (rows.first().map(|c| c.id), rows.last().map(|c| c.id));
        let backwards = at.after.is_none() && at.before.is_some();
        let (has_prev, has_next) = match (at.after, backwards) {
            (Some(_), _) => (true, more),
            (None, true) => (more, true),
            (None, false) => (false, more),
        };
        let prev = first.filter(|_| has_prev).map(|v| link("before", v));
        let next = last.filter(|_| has_next).map(|v| link("after", v));
        // An empty page reached by a stale link still offers the way back to the first.
        let prev = match (prev, rows.is_empty(), at.after.or(at.before)) {
            (None, true, Some(_)) => Some(format!("{}#queue-{id}", self.path)),
            (p, _, _) => p,
        };
        let cards = rows.iter().map(|c| card(self.l, self.p, self.labels, c, offered)).collect();
        Ok(Queue { id, title: self.l.t(title), cards, prev, next, rows })
    }

    /// Shows on the cards of `queues` each case's likely duplicates, read for the whole page
    /// in one query (`Cases::duplicate_suggestions`).
    async fn suggest_duplicates(&self, queues: &mut [Queue]) -> Result<(), ApiError> {
        let rows: Vec<&CaseRow> = queues.iter().flat_map(|q| q.rows.iter()).collect();
        let found = self.state.cases.duplicate_suggestions(self.p, &rows, &self.labels.classes).await?;
        for card in queues.iter_mut().flat_map(|q| q.cards.iter_mut()) {
            let Some(list) = found.get(&card.id) else { continue };
            card.duplicates = list
                .iter()
                .map(|d| DuplicateLink { id: d.id, number: d.number.clone(), distance_m: d.distance_m.round() as i64 })
                .collect();
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Pages.

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Tr,
    page: Frame,
    next: String,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the one sign-on for all staff (the form posts to `/api/v1/auth/login`).
async fn login(State(state): State<AppState>, headers: HeaderMap, uri: Uri, q: Query<NextQuery>) -> Response {
    let l = Tr(lang_of(&headers));
    let next = local_path(q.next.as_deref(), "/workbench");
    if let Ok(Some(_)) = viewer(&state, &headers).await {
        return Redirect::to(&next).into_response();
    }
    html(StatusCode::OK, LoginPage { l, page: frame(l, &uri, None), next }.render())
}

#[derive(Debug, Deserialize)]
struct BackQuery {
    back: Option<String>,
}

/// `GET /lang/{zh|en}?back=/path`: remembers the language for a year and goes back.
async fn set_lang(Path(code): Path<String>, q: Query<BackQuery>) -> Response {
    let lang = if code == "en" { "en" } else { "zh" };
    let back = local_path(q.back.as_deref(), "/");
    let mut resp = Redirect::to(&back).into_response();
    if let Ok(v) = format!("lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax").parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /workbench`: each role lands on its own workbench.
async fn workbench(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match staff_only(&state, &headers, &uri).await {
        Ok((_, p)) => Redirect::to(workbenches(&p)[0].0).into_response(),
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    l: Tr,
    page: Frame,
    /// The base-map tile URL for the report form's map (empty: none).
    tiles: String,
    grids: Vec<String>,
    classes: Vec<Opt>,
    departments: Vec<Opt>,
    queues: Vec<Queue>,
}

/// `GET /workbench/grid`: the grid worker's phone page — report, verify.
async fn grid_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, at: Query<PageQuery>) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !p.has_role(Role::GridWorker) {
        return not_yours(l, &uri, &p);
    }
    let run = async {
        let labels = Labels::load(&state).await?;
        let rd = Reader { state: &state, l, p: &p, labels: &labels, path: uri.path(), at: &at };
        let grids = state.territory.grids_of_worker(p.staff_id).await?;
        let verify =
            rd.queue(("verify", "grid.to_verify"), &["handled"], &[Action::Pass, Action::Fail], Only::All).await?;
        let recent = rd.page_of("recent", "grid.recent", &[], true, &[Action::SelfHandle], Only::All).await?;
        Ok::<_, ApiError>(GridPage {
            l,
            page: frame(l, &uri, Some(&p)),
            tiles: tiles(&state),
            grids,
            classes: labels.class_options(),
            departments: labels.department_options(),
            queues: vec![verify, recent],
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

#[derive(Template)]
#[template(path = "queues.html")]
struct QueuesPage {
    l: Tr,
    page: Frame,
    title: &'static str,
    /// A line under the title (empty: none).
    intro: &'static str,
    classes: Vec<Opt>,
    departments: Vec<Opt>,
    queues: Vec<Queue>,
}

/// `GET /workbench/desk`: intake operator, shift leader and dispatcher — their queues.
async fn desk_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, at: Query<PageQuery>) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if ![Role::IntakeOperator, Role::ShiftLeader, Role::Dispatcher].iter().any(|r| p.has_role(*r)) {
        return not_yours(l, &uri, &p);
    }
    let run = async {
        let labels = Labels::load(&state).await?;
        let rd = Reader { state: &state, l, p: &p, labels: &labels, path: uri.path(), at: &at };
        let mut queues = Vec::new();
        if p.has_role(Role::IntakeOperator) {
            let offered = [Action::Accept, Action::Merge];
            queues.push(rd.queue(("received", "desk.received"), &["received"], &offered, Only::All).await?);
        }
        if p.has_role(Role::ShiftLeader) {
            let offered = [Action::File, Action::Refuse];
            queues.push(rd.queue(("accepted", "desk.accepted"), &["accepted"], &offered, Only::All).await?);
        }
        if p.has_role(Role::Dispatcher) {
            let offered = [Action::Dispatch];
            let q = rd.queue(("dispatch", "desk.to_dispatch"), &["filed", "returned"], &offered, Only::All);
            queues.push(q.await?);
            let offered = [Action::DecideExtension, Action::Suspend];
            let with_department = ["dispatched", "handling", "rework"];
            let q = rd.queue(("extensions", "desk.extensions"), &with_department, &offered, Only::ExtensionRequested);
            queues.push(q.await?);
            let offered = [Action::Resume];
            queues.push(rd.queue(("suspended", "desk.suspended"), &["suspended"], &offered, Only::All).await?);
        }
        if p.has_role(Role::IntakeOperator) {
            // The callback (回访): closed cases whose reporter has not been asked yet.
            let q = rd.queue(("callback", "desk.callback"), &["closed"], &[Action::Rate], Only::Unrated);
            queues.push(q.await?);
        }
        if p.has_role(Role::ShiftLeader) {
            let offered = [Action::Close];
            queues.push(rd.queue(("verified", "desk.verified"), &["verified"], &offered, Only::All).await?);
        }
        rd.suggest_duplicates(&mut queues).await?;
        Ok::<_, ApiError>(QueuesPage {
            l,
            page: frame(l, &uri, Some(&p)),
            title: l.t("desk.title"),
            intro: "",
            classes: labels.class_options(),
            departments: labels.department_options(),
            queues,
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

/// `GET /workbench/handler`: the department's cases — take, return, feedback, extension.
async fn handler_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, at: Query<PageQuery>) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if p.handler_department().is_none() {
        return not_yours(l, &uri, &p);
    }
    let run = async {
        let labels = Labels::load(&state).await?;
        let rd = Reader { state: &state, l, p: &p, labels: &labels, path: uri.path(), at: &at };
        let offered = [Action::Take, Action::Return, Action::Feedback, Action::RequestExtension];
        let queues = vec![
            rd.queue(("dispatched", "handler.dispatched"), &["dispatched"], &offered, Only::All).await?,
            rd.queue(("working", "handler.working"), &["handling", "rework"], &offered, Only::All).await?,
        ];
        Ok::<_, ApiError>(QueuesPage {
            l,
            page: frame(l, &uri, Some(&p)),
            title: l.t("handler.title"),
            intro: "",
            classes: vec![],
            departments: vec![],
            queues,
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

/// `GET /workbench/cases`: every case the person may see (roles without a workbench yet).
async fn cases_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, at: Query<PageQuery>) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let run = async {
        let labels = Labels::load(&state).await?;
        let rd = Reader { state: &state, l, p: &p, labels: &labels, path: uri.path(), at: &at };
        let all = rd.page_of("all", "cases.title", &[], true, &[], Only::All).await?;
        Ok::<_, ApiError>(QueuesPage {
            l,
            page: frame(l, &uri, Some(&p)),
            title: l.t("cases.title"),
            // Only this list: the person's roles have no workbench of their own yet.
            intro: if workbenches(&p).len() == 1 { l.t("cases.no_workbench") } else { "" },
            classes: vec![],
            departments: vec![],
            queues: vec![all],
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

#[derive(Template)]
#[template(path = "command.html")]
struct CommandPage {
    l: Tr,
    page: Frame,
    /// The district and its subdistricts, for the indicator table.
    areas: Vec<Opt>,
    groups: Vec<(&'static str, &'static str)>,
    /// Departments, for the indicators side by side.
    departments: Vec<Opt>,
    /// Supervision (督办) is the commander's.
    can_supervise: bool,
    /// The case classes, for the heat layer.
    classes: Vec<Opt>,
    /// The base-map tile URL (`{z}/{x}/{y}`; empty: none).
    tiles: String,
}

/// `GET /workbench/command`: the one map — grids, live cases by state, indicators per area.
async fn command_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if ![Role::Commander, Role::Admin, Role::Auditor].iter().any(|r| p.has_role(*r)) {
        return not_yours(l, &uri, &p);
    }
    let areas = match state.territory.areas().await {
        Ok(a) => a,
        Err(e) => return error_page(l, &uri, Some(&p), e.into()),
    };
    let areas = areas
        .into_iter()
        .filter(|a| a.level == "district" || a.level == "subdistrict")
        .filter(|a| p.roles.iter().any(|g| a.code.starts_with(&g.area_code)))
        .map(|a| Opt { code: a.code, label: a.name })
        .collect();
    let groups = ["intake", "dispatch", "department", "verify", "closed", "ended"]
        .into_iter()
        .map(|g| (g, l.t(&format!("command.group.{g}"))))
        .collect();
    let departments = match state.staff.departments().await {
        Ok(d) => d.into_iter().map(|d| Opt { code: d.code, label: d.name }).collect(),
        Err(e) => return error_page(l, &uri, Some(&p), e.into()),
    };
    let can_supervise = p.has_role(Role::Commander);
    let classes = match Labels::load(&state).await {
        Ok(labels) => labels.class_options(),
        Err(e) => return error_page(l, &uri, Some(&p), e),
    };
    let tiles = tiles(&state);
    let page =
        CommandPage { l, page: frame(l, &uri, Some(&p)), areas, groups, departments, can_supervise, classes, tiles };
    html(StatusCode::OK, page.render())
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    l: Tr,
    page: Frame,
    /// The base-map tile URL (`{z}/{x}/{y}`; empty: none).
    tiles: String,
}

/// `GET /`: the public map of grids — click a point to find its grid, community, subdistrict.
async fn map_page(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let l = Tr(lang_of(&headers));
    let me = viewer(&state, &headers).await.ok().flatten();
    let tiles = tiles(&state);
    html(StatusCode::OK, MapPage { l, page: frame(l, &uri, me.as_ref()), tiles }.render())
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    l: Tr,
    page: Frame,
    classes: Vec<Opt>,
    /// The base-map tile URL for the report form's map (empty: none).
    tiles: String,
}

/// `GET /portal`: the citizen portal — report a problem, follow it by number.
async fn portal(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let l = Tr(lang_of(&headers));
    match Labels::load(&state).await {
        Ok(labels) => html(
            StatusCode::OK,
            PortalPage {
                l,
                page: public_frame(l, &uri, &headers),
                classes: labels.class_options(),
                tiles: tiles(&state),
            }
            .render(),
        ),
        Err(e) => error_page(l, &uri, None, e),
    }
}

#[derive(Template)]
#[template(path = "kiosk.html")]
struct KioskPage {
    l: Tr,
    page: Frame,
}

/// `GET /kiosk`: a 24-hour self-service terminal's start — big buttons, no sign-in. It marks
/// the browser as a kiosk (the `kiosk=1` cookie), so the portal's pages lead back here and
/// return here after two minutes untouched; `/kiosk/exit` ends that.
async fn kiosk(headers: HeaderMap, uri: Uri) -> Response {
    let l = Tr(lang_of(&headers));
    let mut page = frame(l, &uri, None);
    page.kiosk = true;
    page.nav = vec![];
    let mut resp = html(StatusCode::OK, KioskPage { l, page }.render());
    if let Ok(v) = "kiosk=1; Path=/; Max-Age=31536000; SameSite=Lax".parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /kiosk/exit`: the browser is no longer a kiosk.
async fn kiosk_exit() -> Response {
    let mut resp = Redirect::to("/").into_response();
    if let Ok(v) = "kiosk=; Path=/; Max-Age=0; SameSite=Lax".parse() {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage {
    l: Tr,
    page: Frame,
    number: String,
    found: Option<Tracked>,
}

pub struct Tracked {
    pub number: String,
    pub state: String,
    pub state_label: &'static str,
    pub class_label: String,
    pub description: String,
    pub agency: String,
    pub reported: String,
    pub updated: String,
    pub closed: String,
    pub end_note: String,
    pub rating: RatingOffer,
}

/// What the reporter may do about the rating (评价) of a followed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingOffer {
    /// Not closed yet: nothing to rate.
    NotYet,
    /// Closed and not rated: the form, to be sent with the contact left with the report.
    Open,
    /// Closed, not rated, reported without a contact: the callback operator will call.
    ByCallback,
    Rated,
}

#[derive(Debug, Deserialize)]
struct TrackQuery {
    number: Option<String>,
}

/// `GET /portal/track?number=…`: a case's public progress by its number (no personal data).
async fn track(State(state): State<AppState>, headers: HeaderMap, uri: Uri, q: Query<TrackQuery>) -> Response {
    let l = Tr(lang_of(&headers));
    let number: String = q.number.as_deref().unwrap_or("").trim().chars().take(40).collect();
    let found = async {
        if number.is_empty() {
            return Ok::<_, ApiError>(None);
        }
        let Some(id) = crate::cases::public::id_by_number(&state.db, &number).await? else { return Ok(None) };
        let Some(c) = crate::cases::public::find(&state.db, id).await? else { return Ok(None) };
        let rateable = CaseState::parse(&c.state).is_some_and(|s| state::rule(Action::Rate).from.contains(&s));
        let rating = match (rateable, c.rated, c.reporter_reachable) {
            (false, _, _) => RatingOffer::NotYet,
            (true, true, _) => RatingOffer::Rated,
            (true, false, true) => RatingOffer::Open,
            (true, false, false) => RatingOffer::ByCallback,
        };
        Ok(Some(Tracked {
            number: c.number,
            state_label: l.state(&c.state),
            state: c.state,
            class_label: format!("{} › {}", c.group_name, c.class_name),
            description: c.description,
            agency: c.agency.unwrap_or_default(),
            reported: local_time(&c.created_at),
            updated: local_time(&c.updated_at),
            closed: c.closed_at.as_deref().map(local_time).unwrap_or_default(),
            end_note: c.end_note.unwrap_or_default(),
            rating,
        }))
    };
    match found.await {
        Ok(found) => {
            let status = if found.is_none() && !number.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
            html(status, TrackPage { l, page: public_frame(l, &uri, &headers), number, found }.render())
        }
        Err(e) => error_page(l, &uri, None, e),
    }
}

/// `GET /assets/{file}`: the stylesheet and scripts, compiled into the binary.
async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (include_str!("../../../assets/app.css"), "text/css; charset=utf-8"),
        "app.js" => (include_str!("../../../assets/app.js"), "text/javascript; charset=utf-8"),
        "map.js" => (include_str!("../../../assets/map.js"), "text/javascript; charset=utf-8"),
        "verify.css" => (include_str!("../../../assets/verify.css"), "text/css; charset=utf-8"),
        "verify.js" => (include_str!("../../../assets/verify.js"), "text/javascript; charset=utf-8"),
        _ => return ApiError::not_found("no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/workbench/desk?x=1"), "/"), "/workbench/desk?x=1");
        assert_eq!(local_path(Some("/x?u=http://a"), "/"), "/x?u=http://a");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "workbench",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\u{3000}/evil.example",
            "/案卷",
            "",
        ] {
            assert_eq!(local_path(Some(bad), "/d"), "/d", "{bad:?}");
        }
        assert_eq!(local_path(None, "/d"), "/d");
    }

    proptest::proptest! {
        /// Whatever a client sends, the target is a path of this site a `Location` header can
        /// carry, and no browser reads it as another host.
        #[test]
        fn a_redirect_never_leaves_the_site(p in "\\PC{0,12}|/[\\t\\n/\\\\ a-z%.:]{0,12}") {
            let out = local_path(Some(&p), "/");
            let cleaned: String = out.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
            proptest::prop_assert!(cleaned.starts_with('/') && !cleaned.starts_with("//"));
            proptest::prop_assert!(!cleaned.starts_with("/\\"));
            proptest::prop_assert!(axum::http::HeaderValue::from_str(&out).is_ok());
        }
    }

    #[test]
    fn paths_are_encoded_for_a_query() {
        assert_eq!(encode("/portal/track?number=A 1&x"), "/portal/track%3Fnumber%3DA%201%26x");
        assert_eq!(encode("/路"), "/%E8%B7%AF");
    }

    #[test]
    fn times_are_shown_in_china_standard_time() {
        assert_eq!(local_time("2026-12-06T16:30:00.000Z"), "2026-12-07 00:30");
        assert_eq!(local_time("not a time"), "not a time");
    }
}
