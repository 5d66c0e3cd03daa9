//! Issue 14, staff work: sign-in throttling under parallel guessing and behind proxies,
//! area-scoped administration, separation of duties (三权分立), sessions that end.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

/// A sign-in from `peer`, optionally through a proxy header.
async fn login_from(
    router: &axum::Router,
    peer: &str,
    forwarded: Option<&str>,
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    let mut req = Request::post("/api/v1/auth/login").header(header::CONTENT_TYPE, "application/json");
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = req.body(Body::from(json!({"username": username, "password": password}).to_string())).unwrap();
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Twenty wrong guesses at once: each is counted before its password is checked, so only
/// the first five are evaluated. The right password from that address is then refused, but
/// the real user elsewhere signs in: a stranger cannot lock them out.
async fn parallel_guesses_are_counted_before_they_are_checked(b: Backend) {
    let app = TestApp::demo(b).await;
    let guesses = (0..20).map(|i| {
        let router = app.router.clone();
        async move { login_from(&router, "203.0.113.7", None, "approver", &format!("Wrong-guess-{i}")).await }
    });
    let answers = futures_join_all(guesses).await;
    let evaluated = answers.iter().filter(|(s, _)| *s == StatusCode::UNAUTHORIZED).count();
    let refused = answers
        .iter()
        .filter(|(s, v)| *s == StatusCode::TOO_MANY_REQUESTS && v["error"]["code"] == "too_many_attempts")
        .count();
    assert_eq!((evaluated, refused), (5, 15), "{answers:?}");
    let got = login_from(&app.router, "203.0.113.7", None, "approver", civgrid::demo::DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let got = login_from(&app.router, "198.51.100.20", None, "approver", civgrid::demo::DEMO_PASSWORD).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
}
both_backends!(parallel_guesses_are_counted_before_they_are_checked);

async fn futures_join_all<F: std::future::Future<Output = (StatusCode, Value)> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<(StatusCode, Value)> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Behind a trusted proxy every client has its own count; the header of an untrusted peer
/// is ignored.
async fn the_client_address_comes_through_trusted_proxies_only(b: Backend) {
    let app = TestApp::demo(b).await;
    let mut web = (*app.state.settings).clone();
    web.trusted_proxies = vec!["10.0.0.1".parse().unwrap()];
    let router = civgrid::web::router(app.state.with_settings(web));
    for i in 0..5 {
        let got = login_from(&router, "10.0.0.1", Some("203.0.113.9"), "clerk", &format!("Wrong-guess-{i}")).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let got = login_from(&router, "10.0.0.1", Some("203.0.113.9"), "clerk", civgrid::demo::DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // Another client through the same proxy is not locked.
    let got = login_from(&router, "10.0.0.1", Some("198.51.100.4"), "clerk", civgrid::demo::DEMO_PASSWORD).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    // A peer that is no proxy cannot pick the address it is counted under.
    let got = login_from(&router, "203.0.113.9", Some("198.51.100.77"), "clerk", civgrid::demo::DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
}
both_backends!(the_client_address_comes_through_trusted_proxies_only);

/// A subdistrict admin sees and acts on their subdistrict's accounts only; one-time passwords
/// must be changed before the first session.
async fn a_subdistrict_admin_acts_only_in_their_subdistrict(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let security = app.login("security_admin").await;
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/admin/staff",
            Some(&admin),
            &json!({"username": "zumiao_admin", "display_name": "祖庙管理员", "area_code": "440604010"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let weak = json!({"roles": [{"role": "admin", "area_code": "440604010"}], "password": "long enough pw"});
    assert_error(
        &app.send_json("PATCH", &format!("/api/v1/admin/staff/{id}"), Some(&security), &weak).await,
        StatusCode::BAD_REQUEST,
        "weak_password",
    );
    let grant = json!({"roles": [{"role": "admin", "area_code": "440604010"}], "password": "One-time-2026!"});
    let (s, v) = app.send_json("PATCH", &format!("/api/v1/admin/staff/{id}"), Some(&security), &grant).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let login = json!({"username": "zumiao_admin", "password": "One-time-2026!"});
    assert_error(
        &app.send_json("POST", "/api/v1/auth/login", None, &login).await,
        StatusCode::FORBIDDEN,
        "password_change_required",
    );
    let change =
        json!({"username": "zumiao_admin", "old_password": "One-time-2026!", "new_password": "Zumiao-Admin-77"});
    let (s, v) = app.send_json("POST", "/api/v1/auth/password", None, &change).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let sub = app.login_with("zumiao_admin", "Zumiao-Admin-77").await;

    let (_, list) = app.get_as("/api/v1/admin/staff", &sub).await;
    let names: Vec<&str> = list["staff"].as_array().unwrap().iter().filter_map(|s| s["username"].as_str()).collect();
    assert!(names.contains(&"gridworker") && names.contains(&"zumiao_admin"), "{names:?}");
    assert!(!names.contains(&"admin") && !names.contains(&"dispatcher"), "district accounts are not theirs: {names:?}");
    let (_, me) = app.get_as("/api/v1/auth/me", &admin).await;
    let district_admin = me["staff_id"].as_i64().unwrap();
    assert_error(
        &app.get_as(&format!("/api/v1/admin/staff/{district_admin}"), &sub).await,
        StatusCode::NOT_FOUND,
        "staff_not_found",
    );
    let before = app.count("change_record").await;
    for (method, uri, body) in [
        (
            "POST",
            "/api/v1/admin/staff".to_owned(),
            json!({"username": "x_handler", "display_name": "x", "area_code": "440604"}),
        ),
        (
            "POST",
            "/api/v1/admin/staff".to_owned(),
            json!({"username": "x_handler", "display_name": "x", "area_code": "440604010", "department_code": "cgj"}),
        ),
        ("PUT", "/api/v1/admin/departments/cgj".to_owned(), json!({"name": "夺来的城管", "area_code": "440604010"})),
        ("PATCH", format!("/api/v1/admin/staff/{district_admin}"), json!({"active": false})),
        ("PATCH", format!("/api/v1/admin/staff/{id}"), json!({"display_name": "自己改自己"})),
    ] {
        let got = app.send_json(method, &uri, Some(&sub), &body).await;
        assert!(matches!(got.0, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{method} {uri}: {got:?}");
    }
    assert_error(&app.get_as("/api/v1/admin/changes", &sub).await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(app.count("change_record").await, before, "nothing written");
}
both_backends!(a_subdistrict_admin_acts_only_in_their_subdistrict);

/// 三权分立: the admin neither grants roles nor sets passwords nor mints tokens; the security
/// admin grants nothing to themselves, no second security admin and no two duties in one
/// account; tokens expire within a year and are not for administrators; only the auditor
/// reads the records.
async fn duties_are_separated(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let security = app.login("security_admin").await;
    let auditor = app.login("auditor").await;
    let id_of = |v: &Value, name: &str| -> i64 {
        v["staff"].as_array().unwrap().iter().find(|s| s["username"] == name).unwrap()["id"].as_i64().unwrap()
    };
    let (_, all) = app.get_as("/api/v1/admin/staff", &security).await;
    let (auditor_id, admin_id, security_id, commander_id) =
        (id_of(&all, "auditor"), id_of(&all, "admin"), id_of(&all, "security_admin"), id_of(&all, "commander"));
    let before = app.count("change_record").await;
    let refused = [
        (
            &admin,
            format!("/api/v1/admin/staff/{auditor_id}"),
            json!({"password": "Auditor-pass-2026"}),
            StatusCode::FORBIDDEN,
        ),
        (&admin, format!("/api/v1/admin/staff/{auditor_id}"), json!({"active": false}), StatusCode::FORBIDDEN),
        (&admin, format!("/api/v1/admin/staff/{security_id}"), json!({"active": false}), StatusCode::FORBIDDEN),
        (
            &admin,
            format!("/api/v1/admin/staff/{admin_id}"),
            json!({"roles": [{"role": "admin", "area_code": "440604"}, {"role": "dispatcher", "area_code": "440604"}]}),
            StatusCode::FORBIDDEN,
        ),
        (
            &security,
            format!("/api/v1/admin/staff/{security_id}"),
            json!({"roles": [{"role": "security_admin", "area_code": "440604"}, {"role": "commander", "area_code": "440604"}]}),
            StatusCode::FORBIDDEN,
        ),
        (
            &security,
            format!("/api/v1/admin/staff/{commander_id}"),
            json!({"roles": [{"role": "security_admin", "area_code": "440604"}]}),
            StatusCode::FORBIDDEN,
        ),
        (
            &security,
            format!("/api/v1/admin/staff/{commander_id}"),
            json!({"roles": [{"role": "admin", "area_code": "440604"}, {"role": "auditor", "area_code": "440604"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (&auditor, format!("/api/v1/admin/staff/{commander_id}"), json!({"active": false}), StatusCode::FORBIDDEN),
    ];
    for (who, uri, body, status) in refused {
        let got = app.send_json("PATCH", &uri, Some(who), &body).await;
        assert_eq!(got.0, status, "{uri} {body}: {}", got.1);
    }
    for (who, body, status, code) in [
        (&admin, json!({"staff_id": commander_id, "name": "x", "valid_days": 30}), StatusCode::FORBIDDEN, "forbidden"),
        (&security, json!({"staff_id": admin_id, "name": "x", "valid_days": 30}), StatusCode::FORBIDDEN, "forbidden"),
        (
            &security,
            json!({"staff_id": security_id, "name": "x", "valid_days": 30}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            &security,
            json!({"staff_id": commander_id, "name": "x", "valid_days": 400}),
            StatusCode::BAD_REQUEST,
            "invalid_token_lifetime",
        ),
        (&security, json!({"staff_id": commander_id, "name": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    ] {
        assert_error(&app.send_json("POST", "/api/v1/admin/api-tokens", Some(who), &body).await, status, code);
    }
    assert_eq!(app.count("change_record").await, before, "nothing written");
    assert_eq!(app.count("bearer_token where kind = 'api_token'").await, 0);
    // The records are the auditor's to read.
    assert_eq!(app.get_as("/api/v1/admin/changes", &auditor).await.0, StatusCode::OK);
    let (s, v) = app.get_as("/api/v1/admin/access-records?limit=5", &auditor).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["access_records"].is_array());
    for who in [&admin, &security] {
        assert_error(&app.get_as("/api/v1/admin/changes", who).await, StatusCode::FORBIDDEN, "forbidden");
        assert_error(&app.get_as("/api/v1/admin/access-records", who).await, StatusCode::FORBIDDEN, "forbidden");
    }
}
both_backends!(duties_are_separated);

/// Sessions end: beyond the most an account holds, after the idle timeout, and with every
/// API token when the password changes or the account is deactivated.
async fn sessions_and_tokens_end(b: Backend) {
    let app = TestApp::demo(b).await;
    let security = app.login("security_admin").await;
    let admin = app.login("admin").await;
    let first = app.login("commander").await;
    for _ in 0..civgrid::staff::session::MAX_SESSIONS {
        app.login("commander").await;
    }
    assert_error(&app.get_as("/api/v1/auth/me", &first).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    let idle = app.login("commander").await;
    sqlx::query("update session set last_seen_ms = 1 where revoked_at is null and staff_id = (select id from staff where username = 'commander')")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    assert_error(&app.get_as("/api/v1/auth/me", &idle).await, StatusCode::UNAUTHORIZED, "unauthenticated");

    let session = app.login("commander").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &session).await;
    let id = me["staff_id"].as_i64().unwrap();
    let (s, issued) = app
        .send_json(
            "POST",
            "/api/v1/admin/api-tokens",
            Some(&security),
            &json!({"staff_id": id, "name": "大屏", "valid_days": 7}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    let token = issued["token"].as_str().unwrap().to_owned();
    let change =
        json!({"username": "commander", "old_password": civgrid::demo::DEMO_PASSWORD, "new_password": "Zhihui-new-77"});
    assert_error(
        &app.send_json(
            "POST",
            "/api/v1/auth/password",
            None,
            &json!({"username": "commander", "old_password": "Wrong-one-2026", "new_password": "Zhihui-new-77"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (s, v) = app.send_json("POST", "/api/v1/auth/password", None, &change).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_error(&app.get_as("/api/v1/auth/me", &session).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_error(&app.get_as("/api/v1/auth/me", &token).await, StatusCode::UNAUTHORIZED, "unauthenticated");

    // Deactivation ends tokens for good: reactivating does not bring them back.
    let (_, issued) = app
        .send_json(
            "POST",
            "/api/v1/admin/api-tokens",
            Some(&security),
            &json!({"staff_id": id, "name": "大屏", "valid_days": 7}),
        )
        .await;
    let token = issued["token"].as_str().unwrap().to_owned();
    for active in [false, true] {
        let (s, v) = app
            .send_json("PATCH", &format!("/api/v1/admin/staff/{id}"), Some(&admin), &json!({"active": active}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    assert_error(&app.get_as("/api/v1/auth/me", &token).await, StatusCode::UNAUTHORIZED, "unauthenticated");
}
both_backends!(sessions_and_tokens_end);

/// An event stream ends within seconds of its session ending.
async fn an_event_stream_ends_with_its_session(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.login("commander").await;
    let req =
        Request::get("/api/v1/events").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty());
    let resp = app.router.clone().oneshot(req.unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    let (s, _) = app.send_json("POST", "/api/v1/auth/logout", Some(&token), &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let ended = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match body.frame().await {
                None => return true,
                Some(Err(_)) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true), "the stream ended after logout");
}
both_backends!(an_event_stream_ends_with_its_session);

/// The public sees a grid without its workers; staff working its cases see them.
async fn grid_workers_are_not_public(b: Backend) {
    let app = TestApp::demo(b).await;
    let (s, g) = app.get("/api/v1/grids/44060401000101").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["workers"], json!([]), "{g}");
    assert!(!g.to_string().contains("gridworker"));
    let (_, g) = app.get_as("/api/v1/grids/44060401000101", &app.login("dispatcher").await).await;
    assert_eq!(g["workers"].as_array().map(Vec::len), Some(2), "{g}");
    let (_, g) = app.get_as("/api/v1/grids/44060401000101", &app.login("clerk").await).await;
    assert_eq!(g["workers"], json!([]), "a window clerk works no cases");
}
both_backends!(grid_workers_are_not_public);

/// The security admin lands on the admin workbench, which shows them the staff editor only.
async fn the_security_admin_lands_on_the_admin_workbench(b: Backend) {
    let app = TestApp::demo(b).await;
    let cookie = format!("civgrid_session={}", app.login("security_admin").await);
    let req = Request::get("/workbench").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    let (s, _, headers) = app.request(req).await;
    assert!(s.is_redirection(), "{s}");
    assert_eq!(headers[header::LOCATION], "/workbench/admin");
    let req = Request::get("/workbench/admin").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    let (s, body, _) = app.request(req).await;
    assert_eq!(s, StatusCode::OK);
    let body = body.as_str().unwrap_or_default();
    assert!(body.contains("id=\"staff\"") && !body.contains("id=\"staff-form\""), "no account creation for them");
}
both_backends!(the_security_admin_lands_on_the_admin_workbench);

/// Guesses spread over many addresses still meet the per-username ceiling: after fifty in
/// the window the username is locked from every address.
async fn guesses_from_many_addresses_meet_the_username_ceiling(b: Backend) {
    let app = TestApp::demo(b).await;
    let per_address = civgrid::staff::MAX_GUESSES_PER_PAIR;
    let addresses = civgrid::staff::MAX_GUESSES_PER_USER / per_address;
    let guesses = (0..addresses).map(|a| {
        let router = app.router.clone();
        async move {
            let mut last = (StatusCode::OK, Value::Null);
            for i in 0..per_address {
                last = login_from(&router, &format!("198.18.0.{}", a + 1), None, "approver", &format!("Wrong-{a}-{i}"))
                    .await;
                assert_eq!(last.0, StatusCode::UNAUTHORIZED, "{}", last.1);
            }
            last
        }
    });
    futures_join_all(guesses).await;
    let got = login_from(&app.router, "198.18.1.1", None, "approver", civgrid::demo::DEMO_PASSWORD).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // Other accounts are untouched.
    let got = login_from(&app.router, "198.18.1.1", None, "clerk", civgrid::demo::DEMO_PASSWORD).await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
}
both_backends!(guesses_from_many_addresses_meet_the_username_ceiling);

/// The auditor reads the access trail back by subject and actor (溯源倒查); malformed filters
/// are refused with their codes.
async fn the_auditor_reads_the_access_trail(b: Backend) {
    let app = TestApp::demo(b).await;
    let auditor = app.login("auditor").await;
    let commander = app.login("commander").await;
    let report = json!({"description": "楼道堆放杂物", "channel": "hotline", "reporter_name": "李女士", "reporter_contact": "13800138000"});
    let (s, v) = app.send_json("POST", "/api/v1/reports", None, &report).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app.get_as("/api/v1/cases?limit=50", &commander).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let read: Vec<String> = v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["reporter"].is_object())
        .map(|c| c["id"].as_i64().expect("id").to_string())
        .collect();
    assert!(!read.is_empty(), "the reported case is read with its reporter");

    let (s, v) = app.get_as("/api/v1/admin/access-records?subject_kind=case&limit=1000", &auditor).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let trail = v["access_records"].as_array().expect("records");
    for id in &read {
        assert!(
            trail
                .iter()
                .any(|r| r["subject"] == id.as_str() && r["actor"].as_str().is_some_and(|a| a.ends_with(":commander"))),
            "the commander's read of case {id} is in the trail"
        );
    }
    let one = &read[0];
    let (_, v) = app.get_as(&format!("/api/v1/admin/access-records?subject_kind=case&subject={one}"), &auditor).await;
    let narrowed = v["access_records"].as_array().expect("records");
    assert!(!narrowed.is_empty() && narrowed.iter().all(|r| r["subject"] == one.as_str()), "{v}");

    for (query, code) in [("limit=0", "invalid_limit"), ("limit=1001", "invalid_limit"), ("who=x", "invalid_query")] {
        let got = app.get_as(&format!("/api/v1/admin/access-records?{query}"), &auditor).await;
        assert_error(&got, StatusCode::BAD_REQUEST, code);
    }
}
both_backends!(the_auditor_reads_the_access_trail);
