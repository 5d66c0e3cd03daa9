//! The authorization matrix (issue 14): every endpoint of the router × every role (from
//! `Role::ALL`, so a role added later is attacked too) and the anonymous caller × a scope that
//! holds the record (own area, department or grid), one that does not (a foreign subdistrict or
//! department) and the whole district, asserted against the written policy table [`POLICY`].
//!
//! The endpoint list is not retyped: [`routed`] reads the `.route("…", method(…))` calls of
//! `src/web/**/*.rs`, and `every_route_has_a_policy_row` fails when a routed (path, method) has
//! no row here, or (for the JSON API) no operation in the OpenAPI document — so an endpoint
//! cannot ship without saying who may call it.
//!
//! Each cell sends a well-formed request (a valid body for writes, so a refusal is never hidden
//! behind 422) against records seeded once per backend (see [`seed`]); within a row the callers
//! that must be refused go first, so a write that is served cannot change what a refusal sees.
//! Every failing cell is collected and printed at the end, grouped by endpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use civgrid::audit::Actor;
use civgrid::identity::ResidentId;
use civgrid::staff::{NewStaff, Role, RoleGrant};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const DISTRICT: &str = "440604";
/// 祖庙街道: the subdistrict holding the seeded records.
const OWN_AREA: &str = "440604010";
const OWN_COMMUNITY: &str = "440604010001";
const OWN_GRID: &str = "44060401000101";
/// 南庄镇: another subdistrict of the same district.
const FOREIGN_AREA: &str = "440604100";
const FOREIGN_COMMUNITY: &str = "440604100001";
const FOREIGN_GRID: &str = "44060410000101";

const REPORTER_NAME: &str = "矩阵报告人";
const REPORTER_CONTACT: &str = "13912340001";

/// Where a staff member's roles reach, relative to the seeded records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    /// Their area, department and grid hold the records (祖庙; the case's lead department, the
    /// application's and certificate's department; the case's grid).
    Own,
    /// Another subdistrict (南庄), department and grid.
    Foreign,
    /// The whole district, the records' department and grid.
    District,
}

/// How far a grant must reach for a cell to be served.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// Any holder of the role (e.g. 无差别受理: any window clerk).
    Any,
    /// The holder's area, department or grid must hold the record (own and district scopes).
    Holds,
    /// Only a holder over the whole district (district-wide catalogues and calendars).
    District,
}

/// What a served caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shows {
    Full,
    /// Served without personal data (admin and auditor read cases without the reporter).
    NoPersonal,
}

type Grants = &'static [(Role, Reach, Shows)];

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Anyone, but the answer carries no personal data (holder's name, ID number, reporter).
    AnyoneNoPersonal,
    /// The catch-all of an unknown resource: the same 404 for everyone.
    Fallback,
    /// Anonymous → 401; every staff member is served.
    SignedIn,
    /// Anonymous → 401; the grants are served; every other role refused (403/404, a list
    /// without the record).
    Roles(Grants),
    /// Anonymous callers are served (an online application); staff by the grants.
    RolesOrOnline(Grants),
    /// Anonymous callers without the proof the policy asks for (an access key) are refused,
    /// whatever number they know; staff by the grants.
    RolesOrProof(Grants),
    /// A page: anonymous → the sign-in page; the roles (all staff when empty) served, others 403.
    Page(&'static [Role]),
}

use Reach::{Any, Holds};
use Role::*;
use Shows::{Full, NoPersonal};

const CASE_READ: Grants = &[
    (GridWorker, Holds, Full),
    (IntakeOperator, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
    (Commander, Holds, Full),
    (Handler, Holds, Full),
    (Admin, Holds, NoPersonal),
    (Auditor, Holds, NoPersonal),
];
const PHOTO_READ: Grants = &[
    (GridWorker, Holds, Full),
    (IntakeOperator, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
    (Commander, Holds, Full),
    (Handler, Holds, Full),
];
const PHOTO_ADD: Grants = &[
    (GridWorker, Holds, Full),
    (IntakeOperator, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
    (Handler, Holds, Full),
];
const SUPERVISE: Grants = &[(Commander, Holds, Full)];
const TAKE: Grants = &[(Handler, Holds, Full)];
const SUPERVISORY: Grants = &[
    (Commander, Holds, Full),
    (Admin, Holds, Full),
    (Auditor, Holds, Full),
    (ShiftLeader, Holds, Full),
    (Dispatcher, Holds, Full),
];
const ADMIN: Grants = &[(Admin, Holds, Full)];
const ADMIN_ANY: Grants = &[(Admin, Any, Full)];
const DISTRICT_ADMIN: Grants = &[(Admin, Reach::District, Full)];
/// The change record and the metrics: administrators and auditors.
const CHANGES: Grants = &[(Admin, Any, Full), (Auditor, Any, Full)];
const APPLICATION_READ: Grants = &[(WindowClerk, Any, Full), (Approver, Holds, Full)];
const APPROVER: Grants = &[(Approver, Holds, Full)];
const CLERK: Grants = &[(WindowClerk, Any, Full)];
const CERTIFICATE_READ: Grants = &[(Approver, Holds, Full), (WindowClerk, Holds, Full)];
/// The issuing department, or an administrator (the policy is silent; this is today's rule).
const REVOKE: Grants = &[(Approver, Holds, Full), (Admin, Any, Full)];
const ISSUE: Grants = &[(Approver, Any, Full)];
/// The responsible unit of a rating: approvers and window clerks of the department.
const UNIT: Grants = &[(Approver, Holds, Full), (WindowClerk, Holds, Full)];
const RECTIFICATIONS: Grants =
    &[(Admin, Any, Full), (Auditor, Any, Full), (Approver, Any, Full), (WindowClerk, Any, Full)];
const STATISTICS: Grants = &[
    (Admin, Any, Full),
    (Auditor, Any, Full),
    (WindowClerk, Any, Full),
    (Approver, Any, Full),
    (Commander, Any, Full),
];

/// The policy: (method, path as routed, who). Paths are the router's own templates; a `#name`
/// after one marks a second row for the same endpoint with another request.
#[rustfmt::skip]
const POLICY: &[(&str, &str, Who)] = &[
    // ops and the document
    ("get", "/healthz", Who::Anyone),
    ("get", "/metrics", Who::Roles(CHANGES)),
    ("get", "/api/v1/openapi.json", Who::Anyone),
    // territory
    ("get", "/api/v1/locate", Who::Anyone),
    ("get", "/api/v1/grids.geojson", Who::Anyone),
    ("get", "/api/v1/areas", Who::Anyone),
    ("get", "/api/v1/areas/{code}", Who::Anyone),
    ("get", "/api/v1/grids/{code}", Who::Anyone),
    ("post", "/api/v1/admin/areas", Who::Roles(ADMIN)),
    ("patch", "/api/v1/admin/areas/{code}", Who::Roles(ADMIN)),
    ("post", "/api/v1/admin/grids/import", Who::Roles(DISTRICT_ADMIN)),
    ("patch", "/api/v1/admin/grids/{code}", Who::Roles(ADMIN)),
    ("put", "/api/v1/admin/grids/{code}/workers/{staff_id}", Who::Roles(ADMIN)),
    ("delete", "/api/v1/admin/grids/{code}/workers/{staff_id}", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/changes", Who::Roles(CHANGES)),
    // staff
    ("post", "/api/v1/auth/login", Who::Anyone),
    ("get", "/api/v1/auth/me", Who::SignedIn),
    ("get", "/api/v1/admin/departments", Who::Roles(ADMIN_ANY)),
    ("put", "/api/v1/admin/departments/{code}", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/staff", Who::Roles(ADMIN_ANY)),
    ("post", "/api/v1/admin/staff", Who::Roles(ADMIN)),
    ("get", "/api/v1/admin/staff/{id}", Who::Roles(ADMIN)),
    ("patch", "/api/v1/admin/staff/{id}", Who::Roles(ADMIN)),
    ("delete", "/api/v1/admin/staff/{id}/sessions", Who::Roles(ADMIN)),
    ("post", "/api/v1/admin/api-tokens", Who::Roles(ADMIN)),
    ("delete", "/api/v1/admin/api-tokens/{id}", Who::Roles(ADMIN)),
    // cases
    ("get", "/api/v1/case-classes", Who::Anyone),
    ("put", "/api/v1/admin/case-classes/{code}", Who::Roles(DISTRICT_ADMIN)),
    ("get", "/api/v1/admin/calendar", Who::SignedIn),
    ("put", "/api/v1/admin/calendar/{day}", Who::Roles(DISTRICT_ADMIN)),
    ("delete", "/api/v1/admin/calendar/{day}", Who::Roles(DISTRICT_ADMIN)),
    ("get", "/api/v1/admin/last-resort", Who::SignedIn),
    ("put", "/api/v1/admin/last-resort/{area}", Who::Roles(DISTRICT_ADMIN)),
    ("delete", "/api/v1/admin/last-resort/{area}", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/reports", Who::Anyone),
    ("get", "/api/v1/cases", Who::Roles(CASE_READ)),
    ("get", "/api/v1/map/cases", Who::Roles(CASE_READ)),
    ("get", "/api/v1/cases/{id}", Who::Roles(CASE_READ)),
    ("post", "/api/v1/cases/{id}/transitions", Who::Roles(SUPERVISE)),
    // The same endpoint, a write of the lead department: a handler of another department is refused.
    ("post", "/api/v1/cases/{id}/transitions#take", Who::Roles(TAKE)),
    ("post", "/api/v1/public/cases/{number}/rating", Who::Anyone),
    ("post", "/api/v1/public/cases/{number}/photos", Who::Anyone),
    ("get", "/api/v1/cases/{id}/photos", Who::Roles(PHOTO_READ)),
    ("post", "/api/v1/cases/{id}/photos", Who::Roles(PHOTO_ADD)),
    ("get", "/api/v1/cases/{id}/photos/{photo_id}", Who::Roles(PHOTO_READ)),
    ("get", "/api/v1/indicators", Who::Roles(SUPERVISORY)),
    ("get", "/api/v1/events", Who::SignedIn),
    // ledger: public, and no entry carries identifying content
    ("get", "/ledger/checkpoint", Who::Anyone),
    ("get", "/ledger/vkey", Who::Anyone),
    ("get", "/ledger/trust", Who::Anyone),
    ("get", "/ledger/tile/{*rest}", Who::AnyoneNoPersonal),
    ("get", "/api/v1/ledger/proof/inclusion", Who::Anyone),
    ("get", "/api/v1/ledger/proof/consistency", Who::Anyone),
    ("get", "/api/v1/ledger/entries/{kind}/{reference}", Who::AnyoneNoPersonal),
    // certificates: validity for anyone, content and bundle for the holder or the issuer
    ("post", "/api/v1/certificates", Who::Roles(ISSUE)),
    ("post", "/api/v1/certificates/verify", Who::Anyone),
    ("get", "/api/v1/certificates/{number}", Who::RolesOrProof(CERTIFICATE_READ)),
    ("get", "/api/v1/certificates/{number}/bundle", Who::RolesOrProof(CERTIFICATE_READ)),
    ("get", "/api/v1/certificates/{number}/check", Who::AnyoneNoPersonal),
    ("get", "/api/v1/certificates/{number}/qr.svg", Who::Anyone),
    ("post", "/api/v1/certificates/{number}/revoke", Who::Roles(REVOKE)),
    ("get", "/verify", Who::Anyone),
    ("get", "/verify/{number}", Who::Anyone),
    // services
    ("get", "/api/v1/service-items", Who::Anyone),
    ("get", "/api/v1/service-items/{code}", Who::Anyone),
    ("post", "/api/v1/admin/service-items", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/admin/service-deadlines/sweep", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/service-applications", Who::RolesOrOnline(CLERK)),
    ("get", "/api/v1/service-applications", Who::Roles(APPLICATION_READ)),
    ("get", "/api/v1/service-applications/{number}", Who::RolesOrProof(APPLICATION_READ)),
    ("post", "/api/v1/service-applications/{number}/decisions", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-applications/{number}/suspend", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-applications/{number}/resume", Who::Roles(APPROVER)),
    ("post", "/api/v1/service-refusals", Who::Roles(CLERK)),
    ("get", "/api/v1/service-notices/{number}", Who::Anyone),
    ("get", "/api/v1/applicants/{id_number}/licences", Who::RolesOrProof(CLERK)),
    ("get", "/api/v1/applicants/{id_number}/applications", Who::RolesOrProof(CLERK)),
    ("post", "/api/v1/service-ratings", Who::Anyone),
    ("get", "/api/v1/service-rectifications", Who::Roles(RECTIFICATIONS)),
    ("post", "/api/v1/service-rectifications/{id}/reply", Who::Roles(UNIT)),
    ("post", "/api/v1/service-rectifications/{id}/feedback", Who::Anyone),
    ("post", "/api/v1/service-rectifications/{id}/appeal", Who::Roles(UNIT)),
    ("post", "/api/v1/service-rectifications/{id}/appeal-decision", Who::Roles(ADMIN_ANY)),
    ("get", "/api/v1/service-statistics", Who::Roles(STATISTICS)),
    // Open311 (keys for systems, the public read model)
    ("get", "/open311/v2/discovery.json", Who::Anyone),
    ("get", "/open311/v2/discovery.xml", Who::Anyone),
    ("get", "/open311/v2/services.json", Who::Anyone),
    ("get", "/open311/v2/services.xml", Who::Anyone),
    ("get", "/open311/v2/services/{file}", Who::Anyone),
    ("get", "/open311/v2/requests.json", Who::AnyoneNoPersonal),
    ("post", "/open311/v2/requests.json", Who::Anyone),
    ("get", "/open311/v2/requests.xml", Who::AnyoneNoPersonal),
    ("post", "/open311/v2/requests.xml", Who::Anyone),
    ("get", "/open311/v2/requests/{file}", Who::AnyoneNoPersonal),
    ("get", "/open311/v2/tokens/{file}", Who::Anyone),
    ("any", "/open311/v2/{*rest}", Who::Fallback),
    ("get", "/api/v1/admin/open311-keys", Who::Roles(DISTRICT_ADMIN)),
    ("post", "/api/v1/admin/open311-keys", Who::Roles(DISTRICT_ADMIN)),
    ("delete", "/api/v1/admin/open311-keys/{id}", Who::Roles(DISTRICT_ADMIN)),
    // pages
    ("get", "/", Who::Anyone),
    ("get", "/login", Who::Anyone),
    ("get", "/lang/{code}", Who::Anyone),
    ("get", "/portal", Who::Anyone),
    ("get", "/kiosk", Who::Anyone),
    ("get", "/kiosk/exit", Who::Anyone),
    ("get", "/portal/track", Who::AnyoneNoPersonal),
    ("get", "/portal/services", Who::Anyone),
    ("get", "/portal/application", Who::Anyone),
    ("post", "/portal/application", Who::AnyoneNoPersonal),
    ("get", "/assets/{file}", Who::Anyone),
    ("get", "/workbench", Who::Page(&[])),
    ("get", "/workbench/grid", Who::Page(&[GridWorker])),
    ("get", "/workbench/desk", Who::Page(&[IntakeOperator, ShiftLeader, Dispatcher])),
    ("get", "/workbench/handler", Who::Page(&[Handler])),
    ("get", "/workbench/command", Who::Page(&[Commander, Admin, Auditor])),
    ("get", "/workbench/trends", Who::Page(&[Commander, Admin, Auditor])),
    ("get", "/workbench/cases", Who::Page(&[])),
    ("get", "/workbench/window", Who::Page(&[WindowClerk])),
    ("get", "/workbench/approve", Who::Page(&[Approver])),
    ("get", "/workbench/admin", Who::Page(&[Admin])),
    // Last: it ends the session it is sent with.
    ("post", "/api/v1/auth/logout", Who::Anyone),
];

/// What one cell must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    Unauthenticated,
    Refused,
    /// Anonymous without proof: 401, 403 or 404, or an answer without the record.
    NoProof,
    ToLogin,
    NotFound,
    Served,
    ServedNoPersonal,
}

fn expect(who: Who, caller: Option<(Role, Scope)>) -> Expect {
    let granted = |grants: Grants, role: Role, scope: Scope| {
        grants.iter().find(|(r, _, _)| *r == role).and_then(|(_, reach, shows)| {
            let reached = match reach {
                Reach::Any => true,
                Reach::Holds => scope != Scope::Foreign,
                Reach::District => scope == Scope::District,
            };
            reached.then_some(if *shows == Full { Expect::Served } else { Expect::ServedNoPersonal })
        })
    };
    match (who, caller) {
        (Who::Anyone, _) => Expect::Served,
        (Who::AnyoneNoPersonal, _) => Expect::ServedNoPersonal,
        (Who::Fallback, _) => Expect::NotFound,
        (Who::SignedIn, None) => Expect::Unauthenticated,
        (Who::SignedIn, Some(_)) => Expect::Served,
        (Who::Roles(_), None) => Expect::Unauthenticated,
        (Who::RolesOrOnline(_), None) => Expect::Served,
        (Who::RolesOrProof(_), None) => Expect::NoProof,
        (Who::Roles(g) | Who::RolesOrOnline(g) | Who::RolesOrProof(g), Some((role, scope))) => {
            granted(g, role, scope).unwrap_or(Expect::Refused)
        }
        (Who::Page(_), None) => Expect::ToLogin,
        (Who::Page(roles), Some((role, _))) => {
            if roles.is_empty() || roles.contains(&role) {
                Expect::Served
            } else {
                Expect::Refused
            }
        }
    }
}

/// A staff member the matrix signs in as.
struct Caller {
    role: Role,
    scope: Scope,
    token: String,
}

/// The records every cell is aimed at, all in 祖庙 (the own scope).
struct Fixture {
    case_id: i64,
    case_number: String,
    photo_key: String,
    photo_id: i64,
    transition_id: i64,
    /// In review, with a step of 市场监管 (scjg).
    application: String,
    applicant_id: String,
    /// Concluded; its e-licence is `licence`.
    concluded: String,
    concluded_id: String,
    licence: String,
    /// A second certificate of scjg, for the revocation row.
    revocable: String,
    notice: String,
    rectification: i64,
    item: String,
    item_spec: Value,
    checklist: Value,
    class_body: Value,
    grid_point: (f64, f64),
    open311_key: String,
    open311_key_id: i64,
    api_token_id: i64,
    /// A demo grid worker of the own grid who is no matrix caller (edited by admin rows).
    worker_id: i64,
    tile: String,
    tree_size: u64,
    /// Strings no answer may carry where the policy hides personal data.
    personal: Vec<String>,
}

fn person(first17: &str) -> String {
    ResidentId::complete(first17).expect("valid id").as_str().to_owned()
}

fn pdf() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

fn jpg() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'])
}

const JPEG: [u8; 8] = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];

#[track_caller]
fn ok(got: &(StatusCode, Value), what: &str) {
    assert!(got.0.is_success(), "matrix seed: {what}: {} {}", got.0, got.1);
}

async fn seed(app: &TestApp) -> Fixture {
    let admin = app.login("admin").await;
    let clerk = app.login("clerk").await;
    let scjg = app.login("approver").await;
    let grid_point = crate::cases::inside(app, OWN_GRID).await;

    // A citizen's report in the own grid, with a name, a contact and a photo; dispatched to 城管.
    let got = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &json!({"description": "矩阵：小区门口暴露垃圾", "class_code": "0101", "lng": grid_point.0,
                    "lat": grid_point.1, "datum": "gcj02", "reporter_name": REPORTER_NAME,
                    "reporter_contact": REPORTER_CONTACT}),
        )
        .await;
    ok(&got, "report");
    let case_id = got.1["case"]["id"].as_i64().expect("case id");
    let case_number = got.1["case"]["number"].as_str().expect("number").to_owned();
    let photo_key = got.1["photo_key"].as_str().expect("photo key").to_owned();
    let req = Request::post(format!("/api/v1/public/cases/{case_number}/photos"))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header("x-photo-key", &photo_key)
        .body(Body::from(JPEG.to_vec()))
        .expect("request");
    let (s, v, _) = app.request(req).await;
    ok(&(s, v.clone()), "reporter photo");
    let photo_id = v["id"].as_i64().expect("photo id");
    for (who, action) in [("intake", "accept"), ("shift_leader", "file"), ("dispatcher", "dispatch")] {
        let token = app.login(who).await;
        let got = app
            .send_json(
                "POST",
                &format!("/api/v1/cases/{case_id}/transitions"),
                Some(&token),
                &json!({"action": action}),
            )
            .await;
        ok(&got, action);
    }
    let transition_id: i64 = sqlx::query_scalar("select min(id) from case_transition where case_id = $1")
        .bind(case_id)
        .fetch_one(app.state.db.pool())
        .await
        .expect("transition");

    // Applications of 个体工商户设立登记 (one step: 市场监管): one in review, one concluded with
    // its e-licence and a bad rating (a rectification task); an online one lacking everything.
    let (_, items) = app.get("/api/v1/service-items").await;
    let item_view = items["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"].as_str().is_some_and(|n| n.starts_with("个体工商户设立登记")))
        .expect("registration item")
        .clone();
    let item = item_view["code"].as_str().expect("code").to_owned();
    let (_, full) = app.get(&format!("/api/v1/service-items/{item}")).await;
    let checklist: Vec<Value> = full["steps"][0]["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .filter(|c| c["department"].as_str().is_none_or(|d| d == "scjg"))
        .map(|c| json!({"code": c["code"], "met": true}))
        .collect();
    let mut item_spec = full.clone();
    for k in ["code", "version", "basic_code", "item_type_name", "created_at", "created_by"] {
        item_spec.as_object_mut().expect("item").remove(k);
    }
    let materials = json!([{"code": "id_card", "content_base64": pdf()}, {"code": "premises_proof", "content_base64": jpg()},
                           {"code": "application_form", "content_base64": pdf()}]);
    let apply = |id: &str, name: &str| json!({"item_code": item, "applicant": {"id_number": id, "name": name}, "window": "ZM-01", "materials": materials});
    let (applicant_id, concluded_id, online_id) =
        (person("44060419900101001"), person("44060419900101002"), person("44060419900101003"));
    let got =
        app.send_json("POST", "/api/v1/service-applications", Some(&clerk), &apply(&applicant_id, "矩阵申请甲")).await;
    ok(&got, "application");
    let application = got.1["application"]["number"].as_str().expect("number").to_owned();
    let got =
        app.send_json("POST", "/api/v1/service-applications", Some(&clerk), &apply(&concluded_id, "矩阵申请乙")).await;
    ok(&got, "second application");
    let concluded = got.1["application"]["number"].as_str().expect("number").to_owned();
    let decision = json!({"step": 0, "decision": "approve", "checklist": checklist});
    let got = app
        .send_json("POST", &format!("/api/v1/service-applications/{concluded}/decisions"), Some(&scjg), &decision)
        .await;
    ok(&got, "approve");
    let licence = got.1["licence_number"].as_str().expect("licence").to_owned();
    let got = app
        .send_json(
            "POST",
            "/api/v1/service-ratings",
            None,
            &json!({"target": "application", "number": concluded, "id_number": concluded_id, "grade": 1, "comment": "太慢"}),
        )
        .await;
    ok(&got, "bad rating");
    let (_, tasks) = app.get_as("/api/v1/service-rectifications", &admin).await;
    let rectification = tasks["rectifications"][0]["id"].as_i64().expect("rectification");
    let got = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            None,
            &json!({"item_code": item, "applicant": {"id_number": online_id, "name": "矩阵申请丙"}}),
        )
        .await;
    ok(&got, "online application");
    let notice = got.1["notice"]["number"].as_str().expect("notice").to_owned();
    let got = app
        .send_json(
            "POST",
            "/api/v1/certificates",
            Some(&scjg),
            &json!({"type": "no_criminal_record", "subject_name": "冼矩阵", "subject_id_number": person("44060419900101004"),
                    "fields": {"purpose": "矩阵"}, "valid_until": "2030-01-01"}),
        )
        .await;
    ok(&got, "certificate");
    let revocable = got.1["number"].as_str().expect("number").to_owned();

    let got = app.send_json("POST", "/api/v1/admin/open311-keys", Some(&admin), &json!({"name": "matrix"})).await;
    ok(&got, "open311 key");
    let (open311_key, open311_key_id) =
        (got.1["key"].as_str().expect("key").to_owned(), got.1["id"].as_i64().expect("id"));
    let (_, staff) = app.get_as("/api/v1/admin/staff", &admin).await;
    let worker_id = staff["staff"]
        .as_array()
        .expect("staff")
        .iter()
        .find(|s| s["username"] == "gridworker_pt")
        .and_then(|s| s["id"].as_i64())
        .expect("gridworker_pt");
    let got = app
        .send_json("POST", "/api/v1/admin/api-tokens", Some(&admin), &json!({"staff_id": worker_id, "name": "matrix"}))
        .await;
    ok(&got, "api token");
    let api_token_id = got.1["id"].as_i64().expect("token id");

    app.state.ledger.integrate().await.expect("integrate");
    let (_, checkpoint, _) = app.get_bytes("/ledger/checkpoint").await;
    let tree_size: u64 =
        String::from_utf8_lossy(&checkpoint).lines().nth(1).and_then(|l| l.parse().ok()).expect("size");
    let tile = if tree_size >= 256 { "entries/000".to_owned() } else { format!("entries/000.p/{tree_size}") };

    let (_, class) = app.get("/api/v1/case-classes").await;
    let mut class_body =
        class["classes"].as_array().expect("classes").iter().find(|c| c["code"] == "0101").expect("0101").clone();
    for k in ["code", "version", "created_at", "created_by"] {
        class_body.as_object_mut().expect("class").remove(k);
    }

    let personal = vec![
        REPORTER_NAME.to_owned(),
        REPORTER_CONTACT.to_owned(),
        applicant_id.clone(),
        concluded_id.clone(),
        online_id,
        "矩阵申请甲".to_owned(),
        "矩阵申请乙".to_owned(),
        "矩阵申请丙".to_owned(),
        "冼矩阵".to_owned(),
    ];
    Fixture {
        case_id,
        case_number,
        photo_key,
        photo_id,
        transition_id,
        application,
        applicant_id,
        concluded,
        concluded_id,
        licence,
        revocable,
        notice,
        rectification,
        item,
        item_spec,
        checklist: Value::Array(checklist),
        class_body,
        grid_point,
        open311_key,
        open311_key_id,
        api_token_id,
        worker_id,
        tile,
        tree_size,
        personal,
    }
}

/// One staff member per role and scope, created through the staff service (as an admin's
/// request would) and signed in.
async fn callers(app: &TestApp) -> Vec<Caller> {
    let actor = Actor::system("matrix");
    let mut out = Vec::new();
    for role in Role::ALL {
        for scope in [Scope::Own, Scope::Foreign, Scope::District] {
            let area = match (role, scope) {
                (_, Scope::District) => DISTRICT,
                (GridWorker, Scope::Own) => OWN_COMMUNITY,
                (GridWorker, Scope::Foreign) => FOREIGN_COMMUNITY,
                (_, Scope::Own) => OWN_AREA,
                (_, Scope::Foreign) => FOREIGN_AREA,
            };
            let own = scope != Scope::Foreign;
            let department = match role {
                Handler => Some(if own { "cgj" } else { "scjg" }),
                Approver | WindowClerk if own => Some("scjg"),
                Approver => Some("gaj"),
                WindowClerk => Some("xzfw"),
                SafetyOfficer => Some("gaj"),
                _ => None,
            };
            let username = format!("mx_{}_{}", role.as_str(), format!("{scope:?}").to_lowercase());
            let password = "matrix-password-1";
            let created = app
                .state
                .staff
                .create(
                    &actor,
                    NewStaff {
                        username: username.clone(),
                        display_name: username.clone(),
                        password: password.into(),
                        department_code: department.map(Into::into),
                        roles: vec![RoleGrant { role, area_code: area.into() }],
                    },
                    None,
                )
                .await;
            // A role the staff rules grant only district-wide (e.g. security_admin) has no
            // subdistrict holder to attack with; its district holder still is.
            let view = match created {
                Ok(v) => v,
                Err(e) if scope != Scope::District => {
                    eprintln!("matrix: no {} holder in {area}: {e}", role.as_str());
                    continue;
                }
                Err(e) => panic!("create {username}: {e}"),
            };
            if role == GridWorker {
                let grid = if own { OWN_GRID } else { FOREIGN_GRID };
                app.state
                    .territory
                    .assign_worker(&actor, grid, view.staff.id, "full_time", None)
                    .await
                    .expect("assign");
            }
            let token = app.login_with(&username, password).await;
            out.push(Caller { role, scope, token });
        }
    }
    out
}

/// A request body: its media type and bytes.
type Payload = (&'static str, Vec<u8>);

/// A cell's request.
struct Call {
    method: &'static str,
    uri: String,
    body: Option<Payload>,
    headers: Vec<(&'static str, String)>,
    /// A string an answer that lists or shows the record contains.
    marker: Option<String>,
}

static SERIAL: AtomicU64 = AtomicU64::new(0);

fn call(fx: &Fixture, method: &'static str, path: &str, anonymous: bool) -> Call {
    let n = SERIAL.fetch_add(1, Ordering::Relaxed);
    let (x, y) = fx.grid_point;
    let json_body = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    let (uri, body, marker): (String, Option<Payload>, Option<String>) = match (method, path) {
        ("get", "/api/v1/locate") => (format!("/api/v1/locate?lng={x}&lat={y}&datum=gcj02"), None, None),
        ("get", "/api/v1/areas/{code}") => (format!("/api/v1/areas/{OWN_AREA}"), None, None),
        ("get", "/api/v1/grids/{code}") => (format!("/api/v1/grids/{OWN_GRID}"), None, None),
        ("post", "/api/v1/admin/areas") => (
            path.into(),
            json_body(json!({"code": format!("{OWN_AREA}{:03}", 900 + n % 99), "name": format!("矩阵社区{n}")})),
            None,
        ),
        ("patch", "/api/v1/admin/areas/{code}") => {
            (format!("/api/v1/admin/areas/{OWN_COMMUNITY}"), json_body(json!({"name": format!("祖庙社区{n}")})), None)
        }
        ("post", "/api/v1/admin/grids/import") => (
            "/api/v1/admin/grids/import?datum=gcj02".into(),
            json_body(json!({"type": "FeatureCollection", "features": []})),
            None,
        ),
        ("patch", "/api/v1/admin/grids/{code}") => {
            (format!("/api/v1/admin/grids/{OWN_GRID}"), json_body(json!({"name": format!("矩阵网格{n}")})), None)
        }
        ("put" | "delete", "/api/v1/admin/grids/{code}/workers/{staff_id}") => (
            format!("/api/v1/admin/grids/{OWN_GRID}/workers/{}", fx.worker_id),
            (method == "put").then(|| json_body(json!({"kind": "part_time"}))).flatten(),
            None,
        ),
        ("post", "/api/v1/auth/login") => {
            (path.into(), json_body(json!({"username": "witness", "password": civgrid::demo::DEMO_PASSWORD})), None)
        }
        ("put", "/api/v1/admin/departments/{code}") => (
            "/api/v1/admin/departments/mxdept".into(),
            json_body(json!({"name": format!("矩阵部门{n}"), "area_code": OWN_AREA})),
            None,
        ),
        ("post", "/api/v1/admin/staff") => (
            path.into(),
            json_body(
                json!({"username": format!("mx_new_{n}"), "display_name": "矩阵新人", "password": "long enough pw",
                             "roles": [{"role": "grid_worker", "area_code": OWN_COMMUNITY}]}),
            ),
            None,
        ),
        ("get", "/api/v1/admin/staff/{id}") => (format!("/api/v1/admin/staff/{}", fx.worker_id), None, None),
        ("patch", "/api/v1/admin/staff/{id}") => (
            format!("/api/v1/admin/staff/{}", fx.worker_id),
            json_body(json!({"display_name": format!("祖庙兼职网格员{n}")})),
            None,
        ),
        ("delete", "/api/v1/admin/staff/{id}/sessions") => {
            (format!("/api/v1/admin/staff/{}/sessions", fx.worker_id), None, None)
        }
        ("post", "/api/v1/admin/api-tokens") => {
            (path.into(), json_body(json!({"staff_id": fx.worker_id, "name": format!("matrix {n}")})), None)
        }
        ("delete", "/api/v1/admin/api-tokens/{id}") => {
            (format!("/api/v1/admin/api-tokens/{}", fx.api_token_id), None, None)
        }
        ("put", "/api/v1/admin/case-classes/{code}") => {
            ("/api/v1/admin/case-classes/0101".into(), json_body(fx.class_body.clone()), None)
        }
        ("put" | "delete", "/api/v1/admin/calendar/{day}") => (
            "/api/v1/admin/calendar/2030-01-02".into(),
            (method == "put").then(|| json_body(json!({"kind": "holiday", "note": "矩阵"}))).flatten(),
            None,
        ),
        ("put" | "delete", "/api/v1/admin/last-resort/{area}") => (
            format!("/api/v1/admin/last-resort/{OWN_AREA}"),
            (method == "put").then(|| json_body(json!({"department_code": "cgj"}))).flatten(),
            None,
        ),
        ("post", "/api/v1/reports") => (
            path.into(),
            json_body(
                json!({"description": format!("矩阵第{n}号：路灯损坏"), "class_code": "1102", "lng": x, "lat": y,
                             "datum": "gcj02"}),
            ),
            None,
        ),
        ("get", "/api/v1/cases") | ("get", "/api/v1/map/cases") => (path.into(), None, Some(fx.case_number.clone())),
        ("get", "/api/v1/cases/{id}") => (format!("/api/v1/cases/{}", fx.case_id), None, Some(fx.case_number.clone())),
        ("post", "/api/v1/cases/{id}/transitions") => (
            format!("/api/v1/cases/{}/transitions", fx.case_id),
            json_body(json!({"action": "supervise", "note": "矩阵督办"})),
            None,
        ),
        ("post", "/api/v1/cases/{id}/transitions#take") => {
            (format!("/api/v1/cases/{}/transitions", fx.case_id), json_body(json!({"action": "take"})), None)
        }
        ("post", "/api/v1/public/cases/{number}/rating") => (
            format!("/api/v1/public/cases/{}/rating", fx.case_number),
            json_body(json!({"rating": 5, "contact": REPORTER_CONTACT})),
            None,
        ),
        ("post", "/api/v1/public/cases/{number}/photos") => {
            (format!("/api/v1/public/cases/{}/photos", fx.case_number), Some(("image/jpeg", JPEG.to_vec())), None)
        }
        ("get", "/api/v1/cases/{id}/photos") => (format!("/api/v1/cases/{}/photos", fx.case_id), None, None),
        ("post", "/api/v1/cases/{id}/photos") => {
            (format!("/api/v1/cases/{}/photos", fx.case_id), Some(("image/jpeg", JPEG.to_vec())), None)
        }
        ("get", "/api/v1/cases/{id}/photos/{photo_id}") => {
            (format!("/api/v1/cases/{}/photos/{}", fx.case_id, fx.photo_id), None, None)
        }
        ("get", "/api/v1/indicators") => {
            (format!("/api/v1/indicators?scope=area:{OWN_AREA}&from=2026-11-01&to=2026-12-01"), None, None)
        }
        ("get", "/ledger/tile/{*rest}") => (format!("/ledger/tile/{}", fx.tile), None, None),
        ("get", "/api/v1/ledger/proof/inclusion") => {
            (format!("/api/v1/ledger/proof/inclusion?index=0&size={}", fx.tree_size), None, None)
        }
        ("get", "/api/v1/ledger/proof/consistency") => {
            (format!("/api/v1/ledger/proof/consistency?old=1&new={}", fx.tree_size), None, None)
        }
        ("get", "/api/v1/ledger/entries/{kind}/{reference}") => {
            (format!("/api/v1/ledger/entries/case_transition/{}", fx.transition_id), None, None)
        }
        ("post", "/api/v1/certificates") => (
            path.into(),
            json_body(
                json!({"type": "no_criminal_record", "subject_name": "冼矩阵", "subject_id_number": fx.personal[8].clone(),
                             "fields": {"purpose": "矩阵"}, "valid_until": "2030-01-01"}),
            ),
            None,
        ),
        ("post", "/api/v1/certificates/verify") => (path.into(), json_body(json!({})), None),
        ("get", "/api/v1/certificates/{number}") => {
            (format!("/api/v1/certificates/{}", fx.licence), None, Some(fx.licence.clone()))
        }
        ("get", "/api/v1/certificates/{number}/bundle") => {
            (format!("/api/v1/certificates/{}/bundle", fx.licence), None, Some(fx.licence.clone()))
        }
        ("get", "/api/v1/certificates/{number}/check") => {
            (format!("/api/v1/certificates/{}/check", fx.licence), None, None)
        }
        ("get", "/api/v1/certificates/{number}/qr.svg") => {
            (format!("/api/v1/certificates/{}/qr.svg", fx.licence), None, None)
        }
        ("post", "/api/v1/certificates/{number}/revoke") => {
            (format!("/api/v1/certificates/{}/revoke", fx.revocable), json_body(json!({"reason": "矩阵撤销"})), None)
        }
        ("get", "/verify/{number}") => (format!("/verify/{}", fx.licence), None, None),
        ("get", "/api/v1/service-items/{code}") => (format!("/api/v1/service-items/{}", fx.item), None, None),
        ("post", "/api/v1/admin/service-items") => (path.into(), json_body(fx.item_spec.clone()), None),
        ("post", "/api/v1/service-applications") => (
            path.into(),
            json_body(
                json!({"item_code": fx.item, "applicant": {"id_number": person("44060419900101005"), "name": "矩阵申请丁"}}),
            ),
            None,
        ),
        ("get", "/api/v1/service-applications") => (path.into(), None, Some(fx.application.clone())),
        ("get", "/api/v1/service-applications/{number}") => {
            let proof = if anonymous { format!("?id_number={}", fx.applicant_id) } else { String::new() };
            (format!("/api/v1/service-applications/{}{proof}", fx.application), None, Some(fx.application.clone()))
        }
        ("post", "/api/v1/service-applications/{number}/decisions") => (
            format!("/api/v1/service-applications/{}/decisions", fx.application),
            json_body(json!({"step": 0, "decision": "approve", "checklist": fx.checklist})),
            None,
        ),
        ("post", "/api/v1/service-applications/{number}/suspend") => (
            format!("/api/v1/service-applications/{}/suspend", fx.application),
            json_body(json!({"special_step": "现场核查", "note": "矩阵"})),
            None,
        ),
        ("post", "/api/v1/service-applications/{number}/resume") => {
            (format!("/api/v1/service-applications/{}/resume", fx.application), None, None)
        }
        ("post", "/api/v1/service-refusals") => (
            path.into(),
            json_body(
                json!({"item_code": fx.item, "applicant": {"id_number": person("44060419900101006"), "name": "矩阵申请戊"},
                             "reason": "不属于本窗口受理范围", "window": "ZM-01"}),
            ),
            None,
        ),
        ("get", "/api/v1/service-notices/{number}") => (format!("/api/v1/service-notices/{}", fx.notice), None, None),
        ("get", "/api/v1/applicants/{id_number}/licences") => {
            let proof = if anonymous { format!("?application_number={}", fx.concluded) } else { String::new() };
            (format!("/api/v1/applicants/{}/licences{proof}", fx.concluded_id), None, Some(fx.licence.clone()))
        }
        ("get", "/api/v1/applicants/{id_number}/applications") => (
            format!("/api/v1/applicants/{}/applications?application_number={}", fx.concluded_id, fx.concluded),
            None,
            Some(fx.concluded.clone()),
        ),
        ("post", "/api/v1/service-ratings") => (
            path.into(),
            json_body(
                json!({"target": "application", "number": fx.concluded, "id_number": fx.concluded_id, "grade": 5}),
            ),
            None,
        ),
        ("get", "/api/v1/service-rectifications") => (path.into(), None, None),
        ("post", "/api/v1/service-rectifications/{id}/reply") => (
            format!("/api/v1/service-rectifications/{}/reply", fx.rectification),
            json_body(json!({"reply": "已整改", "callback_note": "已电话回访"})),
            None,
        ),
        ("post", "/api/v1/service-rectifications/{id}/feedback") => (
            format!("/api/v1/service-rectifications/{}/feedback", fx.rectification),
            json_body(json!({"id_number": fx.concluded_id, "result": "satisfied"})),
            None,
        ),
        ("post", "/api/v1/service-rectifications/{id}/appeal") => (
            format!("/api/v1/service-rectifications/{}/appeal", fx.rectification),
            json_body(json!({"reason": "评价对象有误"})),
            None,
        ),
        ("post", "/api/v1/service-rectifications/{id}/appeal-decision") => (
            format!("/api/v1/service-rectifications/{}/appeal-decision", fx.rectification),
            json_body(json!({"upheld": false, "note": "矩阵"})),
            None,
        ),
        ("get", "/api/v1/service-statistics") => {
            ("/api/v1/service-statistics?by=item&from=2026-11-01&to=2026-12-01".into(), None, None)
        }
        ("get", "/open311/v2/services/{file}") => ("/open311/v2/services/0101.json".into(), None, None),
        ("post", "/open311/v2/requests.json" | "/open311/v2/requests.xml") => {
            let form = format!(
                "api_key={}&service_code=1102&lat={y}&long={x}&description=%E7%9F%A9%E9%98%B5{n}",
                fx.open311_key
            );
            (path.into(), Some(("application/x-www-form-urlencoded", form.into_bytes())), None)
        }
        ("get", "/open311/v2/requests/{file}") => (format!("/open311/v2/requests/{}.json", fx.case_id), None, None),
        ("get", "/open311/v2/tokens/{file}") => (format!("/open311/v2/tokens/{}.json", fx.case_number), None, None),
        ("any", "/open311/v2/{*rest}") => ("/open311/v2/nothing-here.json".into(), None, None),
        ("post", "/api/v1/admin/open311-keys") => {
            (path.into(), json_body(json!({"name": format!("matrix {n}")})), None)
        }
        ("delete", "/api/v1/admin/open311-keys/{id}") => {
            (format!("/api/v1/admin/open311-keys/{}", fx.open311_key_id), None, None)
        }
        ("get", "/lang/{code}") => ("/lang/en?back=/".into(), None, None),
        ("get", "/portal/track") => (format!("/portal/track?number={}", fx.case_number), None, None),
        ("post", "/portal/application") => (
            path.into(),
            Some((
                "application/x-www-form-urlencoded",
                format!("number={}&id_number={}", fx.application, fx.applicant_id).into_bytes(),
            )),
            None,
        ),
        ("get", "/assets/{file}") => ("/assets/app.css".into(), None, None),
        (_, p) if !p.contains('{') => (p.into(), None, None),
        _ => panic!("the matrix has no request for {method} {path}: add one to `call`"),
    };
    let mut headers = Vec::new();
    if path == "/api/v1/public/cases/{number}/photos" {
        headers.push(("x-photo-key", fx.photo_key.clone()));
    }
    let method = if method == "any" { "get" } else { method };
    Call { method, uri, body, headers, marker }
}

/// Sends one cell's request; the body of an event stream is not read (it never ends).
async fn send(app: &TestApp, c: &Call, token: Option<&str>) -> (StatusCode, String, Option<String>) {
    let mut req = Request::builder().method(c.method.to_uppercase().as_str()).uri(&c.uri);
    if let Some(t) = token {
        req = req
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::COOKIE, format!("civgrid_session={t}"));
    }
    for (k, v) in &c.headers {
        req = req.header(*k, v);
    }
    let body = match &c.body {
        Some((ct, bytes)) => {
            req = req.header(header::CONTENT_TYPE, *ct);
            Body::from(bytes.clone())
        }
        None => Body::empty(),
    };
    let resp = app.router.clone().oneshot(req.body(body).expect("request")).await.expect("router never fails");
    let status = resp.status();
    let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let stream =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if stream {
        return (status, String::new(), location);
    }
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned(), location)
}

/// Why a cell's answer breaks the policy, if it does.
fn judge(e: Expect, c: &Call, fx: &Fixture, status: StatusCode, body: &str, location: Option<&str>) -> Option<String> {
    let code = status.as_u16();
    if status.is_server_error() {
        return Some(format!("server error {code}"));
    }
    let personal: Vec<&str> = fx.personal.iter().filter(|p| body.contains(p.as_str())).map(String::as_str).collect();
    let shows_record = c.marker.as_ref().is_some_and(|m| body.contains(m.as_str()));
    let hidden = status == StatusCode::OK && c.marker.is_some() && !shows_record && personal.is_empty();
    let refusal = matches!(code, 401 | 403 | 404);
    match e {
        Expect::Unauthenticated if code == 401 => None,
        Expect::Refused if matches!(code, 403 | 404) || hidden => None,
        Expect::NoProof if refusal || hidden => None,
        Expect::ToLogin if code == 401 || location.is_some_and(|l| l.starts_with("/login")) => None,
        Expect::NotFound if code == 404 => None,
        Expect::Served | Expect::ServedNoPersonal if refusal => Some(format!("refused {code}")),
        Expect::Served | Expect::ServedNoPersonal if c.marker.is_some() && !shows_record && status.is_success() => {
            Some(format!("served {code} without the record"))
        }
        Expect::ServedNoPersonal if !personal.is_empty() => Some(format!("shows personal data {personal:?}")),
        Expect::Served | Expect::ServedNoPersonal => None,
        _ if !personal.is_empty() && status.is_success() => Some(format!("served {code} with {personal:?}")),
        _ => Some(format!("answered {code}")),
    }
}

async fn the_authorization_matrix_holds(b: Backend) {
    let app = TestApp::demo(b).await;
    let fx = seed(&app).await;
    let staff = callers(&app).await;
    // Public rows are sent by the anonymous caller and two staff members, not all of them.
    let spot: Vec<&Caller> = staff.iter().filter(|c| c.role == Witness || c.role == WindowClerk).take(2).collect();
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cells = 0;
    for (method, path, who) in POLICY {
        let everyone = !matches!(who, Who::Anyone | Who::AnyoneNoPersonal | Who::Fallback);
        let chosen: Vec<Option<&Caller>> = std::iter::once(None)
            .chain(staff.iter().filter(|c| everyone || spot.iter().any(|s| std::ptr::eq(*s, *c))).map(Some))
            .collect();
        let mut plan: Vec<(Expect, Option<&Caller>)> =
            chosen.into_iter().map(|c| (expect(*who, c.map(|c| (c.role, c.scope))), c)).collect();
        // Refusals first: a served write cannot then change what a refusal sees.
        plan.sort_by_key(|(e, c)| {
            (matches!(e, Expect::Served | Expect::ServedNoPersonal), c.map(|c| (c.role, c.scope)))
        });
        let mut deleted = false;
        for (e, caller) in plan {
            let c = call(&fx, method, path, caller.is_none());
            let (status, body, location) = send(&app, &c, caller.map(|c| c.token.as_str())).await;
            cells += 1;
            // A delete an earlier caller of this row already made answers 404 now.
            let gone = deleted && status == StatusCode::NOT_FOUND && e == Expect::Served;
            deleted |= *method == "delete" && status.is_success();
            if gone {
                continue;
            }
            if let Some(why) = judge(e, &c, &fx, status, &body, location.as_deref()) {
                let who = caller.map_or("anonymous".to_owned(), |c| format!("{}/{:?}", c.role.as_str(), c.scope));
                let excerpt: String = body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(100).collect();
                failures
                    .entry(format!("{} {path}", method.to_uppercase()))
                    .or_default()
                    .push(format!("{who}: expected {e:?}, {why} — {excerpt}"));
            }
        }
    }
    // The document describes what the server accepts: every well-formed body the matrix sent
    // conforms to the operation's request schema.
    for (method, path, _) in POLICY {
        let c = call(&fx, method, path, false);
        let Some(("application/json", bytes)) = &c.body else { continue };
        let route = route_of(path);
        if !in_openapi_scope(route) {
            continue;
        }
        let schema = civgrid::web::openapi::request_body(method, route)
            .map(|b| b["content"]["application/json"]["schema"].clone())
            .unwrap_or(Value::Null);
        let body: Value = serde_json::from_slice(bytes).expect("json body");
        let mut errors = Vec::new();
        conforms(&schema, &body, "body", &mut errors);
        if !errors.is_empty() {
            failures
                .entry(format!("{} {path} (OpenAPI request schema)", method.to_uppercase()))
                .or_default()
                .extend(errors);
        }
    }
    let report: Vec<String> =
        failures.iter().map(|(ep, cells)| format!("{ep}\n    {}", cells.join("\n    "))).collect();
    assert!(
        failures.is_empty(),
        "{} of {cells} cells break the access policy:\n{}",
        failures.values().map(Vec::len).sum::<usize>(),
        report.join("\n")
    );
}
both_backends!(the_authorization_matrix_holds);

/// Checks `value` against the subset of JSON Schema the OpenAPI document uses.
fn conforms(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if schema.is_null() {
        errors.push(format!("{at}: no schema"));
        return;
    }
    if let Some(branches) = schema["anyOf"].as_array() {
        if !branches.iter().any(|b| {
            let mut e = Vec::new();
            conforms(b, value, at, &mut e);
            e.is_empty()
        }) {
            errors.push(format!("{at}: matches no branch of anyOf"));
        }
        return;
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            errors.push(format!("{at}: {value} is not one of {values:?}"));
        }
    }
    let fits = match schema["type"].as_str() {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("null") => value.is_null(),
        Some(other) => {
            errors.push(format!("{at}: unknown type {other}"));
            return;
        }
    };
    if !fits {
        errors.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return;
    }
    if let (Some(n), Some(min)) = (value.as_f64(), schema["minimum"].as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} < minimum {min}"));
        }
    }
    if let (Some(n), Some(max)) = (value.as_f64(), schema["maximum"].as_f64()) {
        if n > max {
            errors.push(format!("{at}: {n} > maximum {max}"));
        }
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            if !schema["items"].is_null() {
                conforms(&schema["items"], item, &format!("{at}[{i}]"), errors);
            }
        }
    }
    if let Some(fields) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !fields.contains_key(required) {
                errors.push(format!("{at}: lacks required `{required}`"));
            }
        }
        for (k, v) in fields {
            let property = &schema["properties"][k];
            if !property.is_null() {
                conforms(property, v, &format!("{at}.{k}"), errors);
            } else if schema["additionalProperties"] == json!(false) {
                errors.push(format!("{at}: `{k}` is not allowed"));
            } else if schema["additionalProperties"].is_object() {
                conforms(&schema["additionalProperties"], v, &format!("{at}.{k}"), errors);
            }
        }
    }
}

/// (method, path) of every `.route("…", method(…))` call in `src/web/**/*.rs`.
pub fn routed() -> BTreeSet<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/web") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"), &mut files);
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let Some(close) = rest[open + 1..].find('"') else { break };
            let path = rest[open + 1..open + 1 + close].to_owned();
            // The method calls at the route call's own depth, up to its closing parenthesis.
            let args = &rest[open + close + 2..];
            let (mut depth, mut word) = (0i32, String::new());
            for ch in args.chars() {
                match ch {
                    '(' => {
                        if depth == 0 && ["get", "post", "put", "patch", "delete", "any"].contains(&word.as_str()) {
                            out.insert((word.clone(), path.clone()));
                        }
                        depth += 1;
                        word.clear();
                    }
                    ')' if depth == 0 => break,
                    ')' => {
                        depth -= 1;
                        word.clear();
                    }
                    c if c.is_alphanumeric() || c == '_' => word.push(c),
                    _ => word.clear(),
                }
            }
        }
    }
    out
}

/// The routed path of a policy row (`/a/{id}#variant` → `/a/{id}`).
fn route_of(row: &str) -> &str {
    row.split('#').next().unwrap_or(row)
}

/// A path template with its parameter names dropped (`/a/{id}` and `/a/{ref}` match).
fn shape(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

/// Whether a path is part of the JSON API the OpenAPI document describes (pages, the
/// certificate check page and Open311, which has its own discovery document, are not).
fn in_openapi_scope(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/ledger/") || path == "/healthz" || path == "/metrics"
}

#[test]
fn every_route_has_a_policy_row_and_a_documented_operation() {
    let routes = routed();
    assert!(routes.len() > 100, "the scan found only {} routes", routes.len());
    let rows: BTreeSet<(String, String)> =
        POLICY.iter().map(|(m, p, _)| ((*m).to_owned(), route_of(p).to_owned())).collect();
    let doc = civgrid::web::openapi::document();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(p, ops)| ops.as_object().expect("ops").keys().map(move |m| (m.clone(), shape(p))))
        .collect();
    let mut missing = Vec::new();
    for (method, path) in &routes {
        if !rows.contains(&(method.clone(), path.clone())) {
            missing.push(format!("{method} {path}: no row in the matrix's POLICY"));
        }
        if in_openapi_scope(path) && !documented.contains(&(method.clone(), shape(path))) {
            missing.push(format!("{method} {path}: not in the OpenAPI document"));
        }
    }
    for (method, path) in &rows {
        if !routes.contains(&(method.clone(), path.clone())) {
            missing.push(format!("{method} {path}: a POLICY row for no route"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The schema check used above refuses what the document refuses.
#[test]
fn the_request_schema_check_can_fail() {
    let schema = civgrid::web::openapi::request_body("post", "/api/v1/admin/areas").expect("documented")["content"]
        ["application/json"]["schema"]
        .clone();
    let mut errors = Vec::new();
    conforms(&schema, &json!({"code": "440604010099", "name": "新社区"}), "body", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({"code": "440604010099"}),
        json!({"code": 1, "name": "x"}),
        json!({"code": "1", "name": "x", "level": 2}),
    ] {
        let mut errors = Vec::new();
        conforms(&schema, &bad, "body", &mut errors);
        assert!(!errors.is_empty(), "{bad} passed");
    }
}
