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
mod cards;
mod charts;
pub(super) mod i18n;
mod public;
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

use cards::*;
use public::*;

use super::error::ApiError;
use super::extract::request_token;
use super::AppState;
use crate::cases::state::{self, Action, State as CaseState};
use crate::cases::Only;
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
