//! The records every cell is aimed at, the staff members who attack them, and each cell's
//! well-formed request.

use super::policy::Scope;
use super::*;
use civgrid::staff::Role::{Approver, GridWorker, Handler, SafetyOfficer, WindowClerk};

pub(crate) const DISTRICT: &str = "440604";
/// 祖庙街道: the subdistrict holding the seeded records.
pub(crate) const OWN_AREA: &str = "440604010";
pub(crate) const OWN_COMMUNITY: &str = "440604010001";
pub(crate) const OWN_GRID: &str = "44060401000101";
/// 南庄镇: another subdistrict of the same district.
pub(crate) const FOREIGN_AREA: &str = "440604100";
pub(crate) const FOREIGN_COMMUNITY: &str = "440604100001";
pub(crate) const FOREIGN_GRID: &str = "44060410000101";

pub(crate) const REPORTER_NAME: &str = "矩阵报告人";
pub(crate) const REPORTER_CONTACT: &str = "13912340001";

/// A staff member the matrix signs in as.
pub(crate) struct Caller {
    pub(crate) role: Role,
    pub(crate) scope: Scope,
    pub(crate) token: String,
}

/// The records every cell is aimed at, all in 祖庙 (the own scope).
pub(crate) struct Fixture {
    pub(crate) case_id: i64,
    pub(crate) case_number: String,
    pub(crate) photo_key: String,
    pub(crate) photo_id: i64,
    pub(crate) transition_id: i64,
    /// In review, with a step of 市场监管 (scjg).
    pub(crate) application: String,
    /// Concluded; its e-licence is `licence`; `concluded_key` is its access key (handed out
    /// once, at acceptance).
    pub(crate) concluded: String,
    pub(crate) concluded_id: String,
    pub(crate) concluded_key: String,
    pub(crate) licence: String,
    /// A second e-licence of scjg (another approved application), for the revocation row;
    /// that application, not yet rated, and its access key are the rating row's.
    pub(crate) revocable: String,
    pub(crate) unrated: (String, String),
    /// An approved application whose e-licence was revoked, for the re-issue row.
    pub(crate) reissuable: String,
    /// An account only the security admin's rows act on (a one-time password).
    pub(crate) target_id: i64,
    /// How often the password-change row has changed [`PASSWORD_USER`]'s password (per
    /// backend: the two run at once).
    pub(crate) password_changes: AtomicU64,
    pub(crate) notice: String,
    pub(crate) rectification: i64,
    pub(crate) item: String,
    pub(crate) item_spec: Value,
    pub(crate) checklist: Value,
    pub(crate) class_body: Value,
    pub(crate) grid_point: (f64, f64),
    open311_key: String,
    open311_key_id: i64,
    pub(crate) api_token_id: i64,
    /// A demo grid worker of the own grid who is no matrix caller (edited by admin rows).
    pub(crate) worker_id: i64,
    pub(crate) tile: String,
    pub(crate) tree_size: u64,
    /// Strings no answer may carry where the policy hides personal data.
    pub(crate) personal: Vec<String>,
}

pub(crate) fn person(first17: &str) -> String {
    ResidentId::complete(first17).expect("valid id").as_str().to_owned()
}

pub(crate) fn pdf() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .encode(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

pub(crate) fn jpg() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(JPEG)
}

/// A minimal readable JPEG (photos must be images: their metadata is stripped): a scan (SOS)
/// holding a few bytes, then the end of the image (as security_cases.rs sends).
pub(crate) const JPEG: [u8; 12] = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 5, 6, 7, 8, 0xFF, 0xD9];

#[track_caller]
pub(crate) fn ok(got: &(StatusCode, Value), what: &str) {
    assert!(got.0.is_success(), "matrix seed: {what}: {} {}", got.0, got.1);
}

pub(crate) async fn seed(app: &TestApp) -> Fixture {
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
    // Concluded applications (one step: approved, the e-licence issued): (number, access
    // key, licence number).
    let decision = json!({"step": 0, "decision": "approve", "checklist": checklist});
    let approved = |id: String, name: &'static str, what: &'static str| {
        let (clerk, scjg, decision, apply) = (&clerk, &scjg, &decision, &apply);
        async move {
            let got = app.send_json("POST", "/api/v1/service-applications", Some(clerk), &apply(&id, name)).await;
            ok(&got, what);
            let number = got.1["application"]["number"].as_str().expect("number").to_owned();
            let key = got.1["access_key"].as_str().expect("access key").to_owned();
            let got = app
                .send_json("POST", &format!("/api/v1/service-applications/{number}/decisions"), Some(scjg), decision)
                .await;
            ok(&got, what);
            let licence = got.1["licence_number"].as_str().expect("licence").to_owned();
            (number, key, licence)
        }
    };
    let (concluded, concluded_key, licence) = approved(concluded_id.clone(), "矩阵申请乙", "second application").await;
    let (unrated, unrated_key, revocable) = approved(person("44060419900101004"), "冼矩阵", "revocable licence").await;
    let (reissuable, _, revoked) = approved(person("44060419900101007"), "冼矩阵", "re-issuable licence").await;
    let got = app
        .send_json(
            "POST",
            &format!("/api/v1/certificates/{revoked}/revoke"),
            Some(&scjg),
            &json!({"reason": "矩阵换证"}),
        )
        .await;
    ok(&got, "revoke before re-issue");
    let got = app
        .send_json(
            "POST",
            "/api/v1/service-ratings",
            None,
            &json!({"target": "application", "number": concluded, "access_key": concluded_key, "grade": 1, "comment": "太慢"}),
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
    // API tokens are the security administrator's to issue (三权分立).
    let security = app.login("security_admin").await;
    let got = app
        .send_json(
            "POST",
            "/api/v1/admin/api-tokens",
            Some(&security),
            &json!({"staff_id": worker_id, "name": "matrix", "valid_days": 30}),
        )
        .await;
    ok(&got, "api token");
    let api_token_id = got.1["id"].as_i64().expect("token id");
    // Accounts no caller signs in as: one whose one-time password the security admin's rows
    // set, one whose own password the password-change row changes.
    let target_id = seed_account(app, "mx_target", "matrix-password-1").await;
    seed_account(app, PASSWORD_USER, &password_of(0)).await;

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
        person("44060419900101004"),
        person("44060419900101007"),
    ];
    Fixture {
        case_id,
        case_number,
        photo_key,
        photo_id,
        transition_id,
        application,
        concluded,
        concluded_id,
        concluded_key,
        licence,
        revocable,
        unrated: (unrated, unrated_key),
        reissuable,
        target_id,
        password_changes: AtomicU64::new(0),
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

/// The account `POST /api/v1/auth/password` changes the password of: the n-th change goes
/// from `password_of(n)` to `password_of(n + 1)`.
pub(crate) const PASSWORD_USER: &str = "mx_password";

pub(crate) fn password_of(n: u64) -> String {
    format!("Matrix-pass-{n}-changed")
}

/// A grid worker of the own community, created through the staff service.
async fn seed_account(app: &TestApp, username: &str, password: &str) -> i64 {
    let new = NewStaff {
        username: username.into(),
        display_name: username.into(),
        password: password.into(),
        department_code: None,
        roles: vec![RoleGrant { role: GridWorker, area_code: OWN_COMMUNITY.into() }],
    };
    app.state.staff.create(&Actor::system("matrix"), new, None).await.expect(username).staff.id
}

/// One staff member per role and scope, created through the staff service with its role and
/// password at once (over the API the admin creates the account and the security admin grants
/// the role and a one-time password: `TestApp::create_staff`), and signed in once: an account
/// keeps at most three sessions, so each caller's token is reused for every cell.
pub(crate) async fn callers(app: &TestApp) -> Vec<Caller> {
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
pub(crate) type Payload = (&'static str, Vec<u8>);

/// A cell's request.
pub(crate) struct Call {
    pub(crate) method: &'static str,
    pub(crate) uri: String,
    pub(crate) body: Option<Payload>,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// A string an answer that lists or shows the record contains.
    pub(crate) marker: Option<String>,
}

pub(crate) static SERIAL: AtomicU64 = AtomicU64::new(0);

pub(crate) fn call(fx: &Fixture, method: &'static str, path: &str, anonymous: bool) -> Call {
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
            json_body(json!({"username": format!("mx_new_{n}"), "display_name": "矩阵新人", "area_code": OWN_AREA})),
            None,
        ),
        ("get", "/api/v1/admin/staff/{id}") => (format!("/api/v1/admin/staff/{}", fx.worker_id), None, None),
        ("patch", "/api/v1/admin/staff/{id}") => (
            format!("/api/v1/admin/staff/{}", fx.worker_id),
            json_body(json!({"display_name": format!("祖庙兼职网格员{n}")})),
            None,
        ),
        ("patch", "/api/v1/admin/staff/{id}#password") => (
            format!("/api/v1/admin/staff/{}", fx.target_id),
            json_body(json!({"password": format!("One-time-pass-{}", 2026 + n)})),
            None,
        ),
        ("post", "/api/v1/auth/password") => {
            let k = fx.password_changes.fetch_add(1, Ordering::Relaxed);
            let change =
                json!({"username": PASSWORD_USER, "old_password": password_of(k), "new_password": password_of(k + 1)});
            (path.into(), json_body(change), None)
        }
        ("delete", "/api/v1/admin/staff/{id}/sessions") => {
            (format!("/api/v1/admin/staff/{}/sessions", fx.worker_id), None, None)
        }
        ("post", "/api/v1/admin/api-tokens") => {
            let token = json!({"staff_id": fx.worker_id, "name": format!("matrix {n}"), "valid_days": 30});
            (path.into(), json_body(token), None)
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
        ("post", "/api/v1/certificates") => {
            (path.into(), json_body(json!({"application_number": fx.reissuable})), None)
        }
        ("post", "/api/v1/certificates/verify") => (path.into(), json_body(json!({})), None),
        ("get", "/api/v1/certificates/{number}" | "/api/v1/certificates/{number}#key") => {
            (format!("/api/v1/certificates/{}", fx.licence), None, Some(fx.licence.clone()))
        }
        ("get", "/api/v1/certificates/{number}/bundle" | "/api/v1/certificates/{number}/bundle#key") => {
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
        ("post", "/api/v1/service-applications") => {
            // Online without a token; at a window (a clerk's token) with the window's name.
            let mut body = json!({"item_code": fx.item, "applicant": {"id_number": person("44060419900101005"), "name": "矩阵申请丁"}});
            if !anonymous {
                body["window"] = json!("ZM-01");
            }
            (path.into(), json_body(body), None)
        }
        ("get", "/api/v1/service-applications") => (path.into(), None, Some(fx.application.clone())),
        // Knowing the number proves nothing; the `#key` row sends the access key.
        ("get", "/api/v1/service-applications/{number}") => {
            (format!("/api/v1/service-applications/{}", fx.application), None, Some(fx.application.clone()))
        }
        ("get", "/api/v1/service-applications/{number}#key") => {
            (format!("/api/v1/service-applications/{}", fx.concluded), None, Some(fx.concluded.clone()))
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
            (format!("/api/v1/applicants/{}/licences", fx.concluded_id), None, Some(fx.licence.clone()))
        }
        ("get", "/api/v1/applicants/{id_number}/applications") => {
            (format!("/api/v1/applicants/{}/applications", fx.concluded_id), None, Some(fx.concluded.clone()))
        }
        ("post", "/api/v1/service-ratings") => (
            path.into(),
            json_body(json!({"target": "application", "number": fx.unrated.0, "access_key": fx.unrated.1, "grade": 5})),
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
            json_body(json!({"access_key": fx.concluded_key, "result": "satisfied"})),
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
        // A guessed key shows nothing; the `#key` row sends the application's own.
        ("post", "/portal/application") => (
            path.into(),
            Some((
                "application/x-www-form-urlencoded",
                format!("number={}&access_key=not-the-key-{n}", fx.application).into_bytes(),
            )),
            None,
        ),
        ("post", "/portal/application#key") => (
            path.into(),
            Some((
                "application/x-www-form-urlencoded",
                format!("number={}&access_key={}", fx.concluded, fx.concluded_key).into_bytes(),
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
    if path.ends_with("#key") {
        headers.push(("x-access-key", fx.concluded_key.clone()));
    }
    let method = if method == "any" { "get" } else { method };
    Call { method, uri, body, headers, marker }
}
