//! Issue 14, the services and certificates findings, attacked through the real router: an ID
//! number proves nothing (no reuse online, no overwritten applicant, the access key and its
//! throttle), licences by ID number only for window clerks, certificates by number tell only
//! validity, issuing only from an approved application of the owning department, the anonymous
//! budgets, every read recorded, one key at `/ledger/vkey`.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

pub fn pdf() -> String {
    base64::engine::general_purpose::STANDARD
        .encode(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

pub fn person(first17: &str) -> String {
    civgrid::identity::ResidentId::complete(first17).expect("valid id").as_str().to_owned()
}

/// A GET with the applicant's access key (and a session token, if any).
pub async fn get_with_key(app: &TestApp, uri: &str, key: &str) -> (StatusCode, Value) {
    let req = Request::get(uri).header("x-access-key", key).body(Body::empty()).expect("request");
    let (s, v, _) = app.request(req).await;
    (s, v)
}

/// The code of the demo item whose name starts with `prefix`.
pub async fn item_code(app: &TestApp, prefix: &str) -> String {
    let (_, v) = app.get("/api/v1/service-items").await;
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .and_then(|i| i["code"].as_str())
        .unwrap_or_else(|| panic!("no item {prefix}"))
        .to_owned()
}

/// Every material of the item, as PDF.
async fn all_materials(app: &TestApp, item: &str) -> Value {
    let (_, v) = app.get(&format!("/api/v1/service-items/{item}")).await;
    let m: Vec<Value> = v["materials"]
        .as_array()
        .expect("materials")
        .iter()
        .map(|m| json!({"code": m["code"], "content_base64": pdf()}))
        .collect();
    Value::Array(m)
}

/// Every criterion of step 0 for `dept`, met.
async fn all_met(app: &TestApp, item: &str, dept: &str) -> Value {
    let (_, v) = app.get(&format!("/api/v1/service-items/{item}")).await;
    let checks: Vec<Value> = v["steps"][0]["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .filter(|c| c["department"].as_str().is_none_or(|d| d == dept))
        .map(|c| json!({"code": c["code"], "met": true}))
        .collect();
    Value::Array(checks)
}

/// An application accepted at the window for 无犯罪记录证明开具 (public security).
pub struct Accepted {
    pub number: String,
    pub key: String,
    pub item: String,
}

pub async fn accept_at_window(app: &TestApp, id: &str, name: &str) -> Accepted {
    let clerk = app.login("clerk").await;
    let item = item_code(app, "无犯罪记录证明开具").await;
    let body = json!({"item_code": item, "window": "ZM-03", "materials": all_materials(app, &item).await,
                      "applicant": {"id_number": id, "name": name, "contact": "holder@example.cn"}});
    let (s, v) = app.send_json("POST", "/api/v1/service-applications", Some(&clerk), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let key = v["access_key"].as_str().expect("the access key, once").to_owned();
    Accepted { number: v["application"]["number"].as_str().expect("number").to_owned(), key, item }
}

/// Approves the application (public security's one step); returns the licence issued.
pub async fn approve(app: &TestApp, a: &Accepted) -> String {
    let gaj = app.login("approver_gaj").await;
    let body = json!({"step": 0, "decision": "approve", "checklist": all_met(app, &a.item, "gaj").await});
    let url = format!("/api/v1/service-applications/{}/decisions", a.number);
    let (s, v) = app.send_json("POST", &url, Some(&gaj), &body).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    v["licence_number"].as_str().expect("licence").to_owned()
}

/// An e-licence issued the only way there is: accepted at a window, approved by the department
/// that issues its type. (number, the application, its access key)
pub async fn issued_licence(app: &TestApp, id: &str, name: &str) -> (String, Accepted) {
    let a = accept_at_window(app, id, name).await;
    let licence = approve(app, &a).await;
    (licence, a)
}

async fn access_records(app: &TestApp, purpose: &str, subject: &str) -> i64 {
    sqlx::query_scalar("select count(*) from access_record where purpose = $1 and subject = $2")
        .bind(purpose)
        .bind(subject)
        .fetch_one(app.state.db.pool())
        .await
        .expect("count")
}

async fn applicant_row(app: &TestApp, id: &str) -> (String, Option<String>) {
    let row: (String, Option<String>) =
        sqlx::query_as("select name, contact from service_applicant where id_number = $1")
            .bind(id)
            .fetch_one(app.state.db.pool())
            .await
            .expect("applicant");
    row
}

/// Finding 1: an online application in someone else's name gets nothing of theirs and changes
/// nothing of theirs.
async fn an_online_application_reuses_nothing_and_overwrites_nobody(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = person("44060419900101003");
    let (licence, _) = issued_licence(&app, &id, "陈嘉怡").await;
    let registered = applicant_row(&app, &id).await;
    assert_eq!(registered, ("陈嘉怡".to_owned(), Some("holder@example.cn".to_owned())));

    // Nothing handed in: the notice lists every material — none "held already" — and prints the
    // name the online applicant gave, not the registered one.
    let item = item_code(&app, "无犯罪记录证明开具").await;
    let impostor = json!({"id_number": id, "name": "冒名者", "contact": "evil@example.cn"});
    let (s, v) = app
        .send_json("POST", "/api/v1/service-applications", None, &json!({"item_code": item, "applicant": impostor}))
        .await;
    assert_eq!((s, v["outcome"].as_str()), (StatusCode::OK, Some("missing_materials")), "{v}");
    let missing: Vec<&str> =
        v["notice"]["missing"].as_array().unwrap().iter().filter_map(|m| m["code"].as_str()).collect();
    assert!(missing.contains(&"id_card"), "the earlier ID card is not reused online: {missing:?}");
    let (_, html, _) = app.get_bytes(v["notice"]["document"].as_str().unwrap()).await;
    let html = String::from_utf8_lossy(&html);
    assert!(html.contains("冒名者") && !html.contains("陈嘉怡"), "the notice names the online applicant");

    // Everything handed in: accepted with only what was submitted; no licence number anywhere.
    let body = json!({"item_code": item, "applicant": impostor, "materials": all_materials(&app, &item).await});
    let (s, v) = app.send_json("POST", "/api/v1/service-applications", None, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sources: Vec<&str> =
        v["application"]["materials"].as_array().unwrap().iter().filter_map(|m| m["source"].as_str()).collect();
    assert!(sources.iter().all(|s| *s == "submitted"), "{sources:?}");
    assert!(!v.to_string().contains(&licence), "the holder's licence number is not revealed");
    assert!(v["access_key"].is_string());

    // The registered name and contact (printed on official notices) are untouched.
    assert_eq!(applicant_row(&app, &id).await, registered);
    // What the online applicant supplied stays on their application.
    let n = v["application"]["number"].as_str().unwrap();
    let (_, v) =
        get_with_key(&app, &format!("/api/v1/service-applications/{n}"), v["access_key"].as_str().unwrap()).await;
    assert_eq!(v["applicant_name"], "冒名者");
}
both_backends!(an_online_application_reuses_nothing_and_overwrites_nobody);

/// Finding 1: the number and the ID number open nothing; the access key does, and guessing it
/// is throttled per application on every node.
async fn follow_ups_need_the_access_key_and_guesses_are_throttled(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = person("44060419900101011");
    let a = accept_at_window(&app, &id, "梁子轩").await;
    let n = &a.number;

    // The ways in of before: all refused now.
    assert_error(
        &app.get(&format!("/api/v1/service-applications/{n}?id_number={id}")).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &app.get(&format!("/api/v1/applicants/{id}/licences?application_number={n}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &app.get(&format!("/api/v1/applicants/{id}/licences")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &app.get(&format!("/api/v1/applicants/{id}/applications")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &app.get(&format!("/api/v1/service-applications/{n}")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    // The key opens it, without staff names; the read is recorded.
    let (s, v) = get_with_key(&app, &format!("/api/v1/service-applications/{n}"), &a.key).await;
    assert_eq!((s, v["number"].as_str()), (StatusCode::OK, Some(n.as_str())), "{v}");
    assert!(v["clerk"].is_null(), "{v}");
    let app_id: i64 = sqlx::query_scalar("select id from service_application where number = $1")
        .bind(n)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(access_records(&app, "application.read_by_applicant", &app_id.to_string()).await, 1);

    // Guesses: the same answer as an unknown number, counted in the database.
    for _ in 0..5 {
        assert_error(
            &get_with_key(&app, &format!("/api/v1/service-applications/{n}"), "00000000000000000000000000000000").await,
            StatusCode::NOT_FOUND,
            "application_not_found",
        );
    }
    // Throttled now, even with the right key, and on another node of the same database.
    let other = TestApp::node(app.place.clone()).await;
    let got = get_with_key(&other, &format!("/api/v1/service-applications/{n}"), &a.key).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "access_key_throttled");
    // The portal's form post is throttled the same way.
    let req = Request::post("/portal/application")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("number={n}&access_key={}", a.key)))
        .unwrap();
    let (s, _, _) = app.request(req).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}
both_backends!(follow_ups_need_the_access_key_and_guesses_are_throttled);

/// The portal follows an application by number and key (a form post), never by ID number.
async fn the_portal_follows_by_number_and_key(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = person("44060419900101020");
    let a = accept_at_window(&app, &id, "黄志明").await;
    let post = |body: String| {
        Request::post("/portal/application")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let (s, page, _) = app.request(post(format!("number={}&access_key={}", a.number, a.key))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.as_str().is_some_and(|p| p.contains(&a.number)), "{page}");
    let (s, _, _) = app.request(post(format!("number={}&id_number={id}", a.number))).await;
    assert!(s.is_client_error(), "the ID number is no longer accepted: {s}");
    let (s, _, _) = app.request(post(format!("number={}&access_key=wrong", a.number))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
both_backends!(the_portal_follows_by_number_and_key);

/// Findings 1 and 6: e-licences and applications by ID number are for window clerks only, and
/// every read is recorded against the applicant's reference, never the ID number.
async fn licences_by_id_number_are_for_window_clerks_and_recorded(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = person("44060419900101038");
    let (licence, _) = issued_licence(&app, &id, "何婉清").await;
    for who in ["admin", "auditor", "approver", "approver_gaj", "safety"] {
        let token = app.login(who).await;
        for path in ["licences", "applications"] {
            let got = app.get_as(&format!("/api/v1/applicants/{id}/{path}"), &token).await;
            assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let clerk = app.login("clerk").await;
    let (s, v) = app.get_as(&format!("/api/v1/applicants/{id}/licences"), &clerk).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["licences"].as_array().unwrap().iter().any(|l| l["number"] == licence.as_str()));
    let (s, v) = app.get_as(&format!("/api/v1/applicants/{id}/applications"), &clerk).await;
    assert_eq!((s, v["applications"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{v}");
    let applicant_ref: String = sqlx::query_scalar("select ref from service_applicant where id_number = $1")
        .bind(&id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(access_records(&app, "licences.read", &applicant_ref).await, 1);
    assert_eq!(access_records(&app, "licences.read", &licence).await, 1);
    let with_id: i64 = sqlx::query_scalar("select count(*) from access_record where subject = $1")
        .bind(&id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(with_id, 0, "no access record names the ID number");
}
both_backends!(licences_by_id_number_are_for_window_clerks_and_recorded);

/// Finding 6: staff read applications by the policy — a window clerk any, an approver only
/// with a step of their department, admins and auditors none — and every read is recorded.
async fn staff_read_applications_by_the_policy(b: Backend) {
    let app = TestApp::demo(b).await;
    let a = accept_at_window(&app, &person("44060419900101046"), "邓志强").await;
    let url = format!("/api/v1/service-applications/{}", a.number);
    for who in ["admin", "auditor"] {
        assert_error(&app.get_as(&url, &app.login(who).await).await, StatusCode::FORBIDDEN, "forbidden");
        let (s, v) = app.get_as("/api/v1/service-applications", &app.login(who).await).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    // Market supervision has no step on a public-security application.
    assert_error(&app.get_as(&url, &app.login("approver").await).await, StatusCode::NOT_FOUND, "application_not_found");
    let (s, _) = app.get_as(&url, &app.login("approver_gaj").await).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get_as(&url, &app.login("clerk").await).await;
    assert_eq!(s, StatusCode::OK);
    let app_id: i64 = sqlx::query_scalar("select id from service_application where number = $1")
        .bind(&a.number)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(access_records(&app, "application.read", &app_id.to_string()).await, 2);
}
both_backends!(staff_read_applications_by_the_policy);

/// Finding 2 (and 6): a certificate number tells validity only; the content and the bundle go
/// to the holder with the key and to the issuing department; every read is recorded; the public
/// log entry is a salted commitment.
async fn a_certificate_number_tells_validity_only(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = person("44060419900101054");
    let (licence, a) = issued_licence(&app, &id, "陈美玲").await;
    app.state.ledger.integrate().await.expect("integrate");

    let (s, v) = app.get(&format!("/api/v1/certificates/{licence}/check")).await;
    assert_eq!((s, v["valid"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    assert_eq!(v["certificate"]["type"], "no_criminal_record");
    assert_eq!(v["certificate"]["issuing_department"], "gaj");
    let text = v.to_string();
    assert!(!text.contains("陈美玲") && !text.contains(&id) && !text.contains(&a.number), "{text}");
    assert!(v["certificate"]["subject"].is_null() && v["certificate"]["fields"].is_null());

    // Anonymous: neither the content nor the bundle.
    for path in ["", "/bundle"] {
        let got = app.get(&format!("/api/v1/certificates/{licence}{path}")).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "unauthenticated");
        // A guessed key answers as an unknown certificate.
        let got = get_with_key(&app, &format!("/api/v1/certificates/{licence}{path}"), "not-the-key").await;
        assert_error(&got, StatusCode::NOT_FOUND, "certificate_not_found");
    }
    // Staff outside the issuing department, and every role of no standing: not found.
    for who in ["approver", "clerk", "admin", "auditor", "safety"] {
        let token = app.login(who).await;
        for path in ["", "/bundle"] {
            let got = app.get_as(&format!("/api/v1/certificates/{licence}{path}"), &token).await;
            assert_error(&got, StatusCode::NOT_FOUND, "certificate_not_found");
        }
    }
    // The issuing department reads it; the holder fetches the bundle with the key.
    let (s, v) = app.get_as(&format!("/api/v1/certificates/{licence}"), &app.login("approver_gaj").await).await;
    assert_eq!((s, v["content"]["subject"]["name"].as_str()), (StatusCode::OK, Some("陈美玲")), "{v}");
    let req = Request::get(format!("/api/v1/certificates/{licence}/bundle"))
        .header("x-access-key", &a.key)
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let (_, trust, _) = app.get_bytes("/ledger/trust").await;
    let trust = civgrid_ledger::policy::TrustFile::parse(&trust).expect("trust file");
    let verified = civgrid_ledger::bundle::verify_bundle(&bytes, &trust).expect("the holder's bundle verifies offline");
    assert_eq!(access_records(&app, "certificate.read", &licence).await, 1);
    assert_eq!(access_records(&app, "certificate.bundle", &licence).await, 1);

    // The log entry commits to a content with a random salt: the holder cannot be confirmed by
    // hashing a guessed name and ID number.
    let salt = verified.content["salt"].as_str().expect("salt");
    assert_eq!(salt.len(), 32);
    let mut unsalted = verified.content.clone();
    unsalted.as_object_mut().unwrap().remove("salt");
    let guess = civgrid_ledger::entry::content_hash(&unsalted).unwrap();
    assert_ne!(&guess, verified.entry.content_sha256());
    // The audit still recomputes every entry from the records.
    let report = crate::ledger::run_audit_all(&app).await;
    assert!(report.is_clean(), "{:?}", report.findings);
}
both_backends!(a_certificate_number_tells_validity_only);

/// Finding 3: no certificate of free content; an e-licence only from an approved application,
/// by the department whose item issues its type; a type cannot be given to another department.
async fn certificates_come_only_from_approved_applications_of_the_owning_department(b: Backend) {
    let app = TestApp::demo(b).await;
    let scjg = app.login("approver").await;
    let gaj = app.login("approver_gaj").await;
    let before = (app.count("certificate").await, app.count("ledger_entry").await);
    // The probe's request: a 无犯罪记录证明 from market supervision, for anyone.
    let forged = json!({"type": "no_criminal_record", "subject_name": "张三",
                        "subject_id_number": "11010519491231002X", "fields": {}});
    let got = app.send_json("POST", "/api/v1/certificates", Some(&scjg), &forged).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!((app.count("certificate").await, app.count("ledger_entry").await), before, "nothing written");

    let a = accept_at_window(&app, &person("44060419900101062"), "周晓彤").await;
    let body = json!({"application_number": a.number});
    // Not approved yet; another department; not an approver.
    assert_error(
        &app.send_json("POST", "/api/v1/certificates", Some(&gaj), &body).await,
        StatusCode::CONFLICT,
        "application_not_approved",
    );
    assert_error(
        &app.send_json("POST", "/api/v1/certificates", Some(&scjg), &body).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    );
    for who in ["admin", "clerk"] {
        let got = app.send_json("POST", "/api/v1/certificates", Some(&app.login(who).await), &body).await;
        assert_error(&got, StatusCode::FORBIDDEN, "forbidden");
    }
    let licence = approve(&app, &a).await;
    // Its licence is in force: no second one.
    assert_error(
        &app.send_json("POST", "/api/v1/certificates", Some(&gaj), &body).await,
        StatusCode::CONFLICT,
        "licence_in_force",
    );
    // Revoked (a mistake): the owning department issues it again, with the application's content.
    let revoke = format!("/api/v1/certificates/{licence}/revoke");
    assert_error(
        &app.send_json("POST", &revoke, Some(&scjg), &json!({"reason": "x"})).await,
        StatusCode::FORBIDDEN,
        "other_department",
    );
    let (s, v) = app.send_json("POST", &revoke, Some(&gaj), &json!({"reason": "信息有误"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = app.send_json("POST", "/api/v1/certificates", Some(&gaj), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["content"]["subject"]["name"], "周晓彤");
    assert_eq!(v["content"]["fields"]["application_number"], a.number.as_str());
    assert_eq!(v["department_code"], "gaj");

    // The catalogue cannot hand the type to another department.
    let admin = app.login("admin").await;
    let registration = item_code(&app, "个体工商户设立登记").await;
    let (_, mut spec) = app.get(&format!("/api/v1/service-items/{registration}")).await;
    for k in ["code", "version", "basic_code", "item_type_name", "created_at", "created_by"] {
        spec.as_object_mut().unwrap().remove(k);
    }
    spec["result"]["licence_type"] = json!("no_criminal_record");
    let got = app.send_json("POST", "/api/v1/admin/service-items", Some(&admin), &spec).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "licence_type_owned_elsewhere");
}
both_backends!(certificates_come_only_from_approved_applications_of_the_owning_department);

fn from(addr: &str, mut req: Request<Body>) -> Request<Body> {
    req.extensions_mut().insert(ConnectInfo::<std::net::SocketAddr>(addr.parse().unwrap()));
    req
}

/// Finding 15: online applications and lookups are budgeted per address (before anything is
/// read or written); another address is not affected.
async fn anonymous_applications_and_lookups_are_budgeted(b: Backend) {
    let app = TestApp::demo(b).await;
    let apply = |addr: &str| {
        let body = json!({"item_code": "no-such-item", "applicant": {"id_number": "x", "name": "x"}});
        from(
            addr,
            Request::post("/api/v1/service-applications")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
    };
    let mut refused = None;
    for i in 0..40 {
        let (s, v, h) = app.request(apply("192.0.2.10:4000")).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(v["error"]["code"], "too_many_requests");
            assert!(h.contains_key(header::RETRY_AFTER));
            refused = Some(i);
            break;
        }
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }
    assert_eq!(refused, Some(20), "the 21st application from one address is refused");
    let (s, _, _) = app.request(apply("192.0.2.11:4000")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "another address has its own budget");

    // A different number each time, so the per-number key throttle is not what refuses.
    let lookup = |addr: &str, i: i32| {
        let uri = format!("/api/v1/service-applications/BJ{i}");
        from(addr, Request::get(uri).header("x-access-key", "k").body(Body::empty()).unwrap())
    };
    let mut refused = None;
    for i in 0..60 {
        let (s, v, _) = app.request(lookup("192.0.2.12:4000", i)).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(v["error"]["code"], "too_many_requests");
            refused = Some(i);
            break;
        }
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    }
    assert_eq!(refused, Some(30), "lookups have a budget too");
}
both_backends!(anonymous_applications_and_lookups_are_budgeted);

/// Low: `/ledger/vkey` serves the log's one verifier key (as signed-note clients read it).
async fn the_vkey_endpoint_serves_the_log_key_only(b: Backend) {
    let app = TestApp::empty(b).await;
    let (s, body, _) = app.get_bytes("/ledger/vkey").await;
    assert_eq!(s, StatusCode::OK);
    let body = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines, vec![app.state.ledger.keys().log_verifier().vkey()], "{body}");
    // The issuer key is published in the trust file.
    let (_, trust, _) = app.get_bytes("/ledger/trust").await;
    let trust = String::from_utf8(trust).unwrap();
    assert!(trust.contains(&format!("issuer {}", app.state.ledger.keys().issuer_verifier().vkey())), "{trust}");
}
both_backends!(the_vkey_endpoint_serves_the_log_key_only);

/// Finding 6: an approver sees a licence only as a material of an application on which their
/// department has a step.
async fn an_approver_reads_a_licence_only_as_a_material_of_their_step(b: Backend) {
    let app = TestApp::demo(b).await;
    civgrid::demo::ledger::seed_certificates(&app.state.certificates).await.expect("certificates");
    // The seeded 无犯罪记录证明 (public security) of 陈嘉怡.
    let id = person("44060419950312042");
    let clerk = app.login("clerk").await;
    let (_, v) = app.get_as(&format!("/api/v1/applicants/{id}/licences"), &clerk).await;
    let licence = v["licences"].as_array().unwrap().iter().find(|l| l["type"] == "no_criminal_record").expect("seeded")
        ["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("/api/v1/certificates/{licence}");
    let jtj = app.login("approver_jtj").await;
    assert_error(&app.get_as(&url, &jtj).await, StatusCode::NOT_FOUND, "certificate_not_found");
    // A window application for 网约车驾驶员证 reuses it; 交通 has a step on that application.
    let item = item_code(&app, "网络预约出租汽车驾驶员证核发").await;
    let materials: Vec<Value> = ["id_card", "driving_licence", "application_form"]
        .iter()
        .map(|c| json!({"code": c, "content_base64": pdf()}))
        .collect();
    let body = json!({"item_code": item, "window": "W01", "applicant": {"id_number": id, "name": "陈嘉怡"},
                      "materials": materials});
    let (s, v) = app.send_json("POST", "/api/v1/service-applications", Some(&clerk), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["application"]["materials"].as_array().unwrap().iter().any(|m| m["licence_number"] == licence.as_str()));
    let (s, v) = app.get_as(&url, &jtj).await;
    assert_eq!((s, v["number"].as_str()), (StatusCode::OK, Some(licence.as_str())), "{v}");
    // Market supervision has no step on it: still not found.
    assert_error(&app.get_as(&url, &app.login("approver").await).await, StatusCode::NOT_FOUND, "certificate_not_found");
    assert_eq!(access_records(&app, "certificate.read", &licence).await, 1);
}
both_backends!(an_approver_reads_a_licence_only_as_a_material_of_their_step);
