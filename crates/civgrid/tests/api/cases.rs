use axum::body::Body;
use axum::http::{Request, StatusCode};
use civgrid_geo::Datum;
use geo::InteriorPoint;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

/// A point inside a grid (GCJ-02).
pub async fn inside(app: &TestApp, grid: &str) -> (f64, f64) {
    let (_, g) = app.get(&format!("/api/v1/grids/{grid}")).await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = shape.interior_point().expect("point");
    (p.x(), p.y())
}

async fn report(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.send_json("POST", "/api/v1/reports", None, &body).await
}

async fn act(app: &TestApp, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    app.send_json("POST", &format!("/api/v1/cases/{id}/transitions"), Some(token), &body).await
}

async fn step(app: &TestApp, token: &str, id: i64, body: Value, expect_state: &str) -> Value {
    let (s, v) = act(app, token, id, body.clone()).await;
    assert_eq!(s, StatusCode::OK, "{body} → {v}");
    assert_eq!(v["state"], expect_state, "{v}");
    v
}

async fn a_citizen_report_goes_round_the_whole_loop(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let (s, v) = report(
        &app,
        json!({"description": "小区门口有一堆暴露垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
                                      "reporter_contact": "13800000000"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["case"]["id"].as_i64().expect("id");
    assert_eq!(v["case"]["state"], "received");
    assert_eq!(v["case"]["grid_code"], "44060401000101");
    assert!(v["case"]["number"].as_str().is_some_and(|n| n.len() == 14));
    assert!(v["case"].get("reporter_contact").is_none(), "contact details are not echoed");

    let intake = app.login("intake").await;
    let leader = app.login("shift_leader").await;
    let dispatcher = app.login("dispatcher").await;
    let handler = app.login("handler_cg").await;
    let worker = app.login("gridworker").await;
    let worker2 = app.login("gridworker_pt").await;

    step(&app, &intake, id, json!({"action": "accept"}), "accepted").await;
    step(&app, &leader, id, json!({"action": "file"}), "filed").await;
    let v =
        step(&app, &dispatcher, id, json!({"action": "dispatch", "assist_departments": ["scjg"]}), "dispatched").await;
    assert_eq!(v["lead_department"], "cgj");
    assert!(v["handle_deadline"].is_string());
    assert_eq!(v["departments"].as_array().map(Vec::len), Some(2));
    step(&app, &handler, id, json!({"action": "take"}), "handling").await;
    step(&app, &handler, id, json!({"action": "feedback", "note": "已清运"}), "handled").await;
    step(&app, &worker, id, json!({"action": "fail", "note": "仍有残留"}), "rework").await;
    step(&app, &handler, id, json!({"action": "feedback", "note": "已彻底清理"}), "handled").await;
    step(&app, &worker2, id, json!({"action": "pass"}), "verified").await;
    let v = step(&app, &leader, id, json!({"action": "close"}), "closed").await;
    assert_eq!(v["rework_count"], 1);
    assert!(v["closed_at"].is_string());
    let v = step(&app, &intake, id, json!({"action": "rate", "rating": 5}), "closed").await;
    assert_eq!(v["rating"], 5);
    let history = v["transitions"].as_array().expect("history");
    assert_eq!(history.len(), 11);
    assert_eq!(history[0]["action"], "report");
    assert_eq!(history[6]["from_state"], "handled");
    assert_eq!(history[6]["to_state"], "rework");
    assert_eq!(history[6]["note"], "仍有残留");
    assert!(history[6]["actor"].as_str().is_some_and(|a| a.ends_with(":gridworker")));
    assert_eq!(v["next_actions"], json!(["rate"]));
}
both_backends!(a_citizen_report_goes_round_the_whole_loop);

async fn wrong_roles_states_and_scopes_are_refused(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let (_, v) =
        report(&app, json!({"description": "占道经营", "class_code": "0401", "lng": x, "lat": y, "datum": "gcj02"}))
            .await;
    let id = v["case"]["id"].as_i64().expect("id");
    // A case elsewhere: not in the grid worker's grid.
    let (ox, oy) = inside(&app, "44060410001601").await;
    let (_, v) = report(
        &app,
        json!({"description": "南庄的占道经营", "class_code": "0401", "lng": ox, "lat": oy, "datum": "gcj02"}),
    )
    .await;
    let other = v["case"]["id"].as_i64().expect("id");

    let intake = app.login("intake").await;
    let dispatcher = app.login("dispatcher").await;
    let leader = app.login("shift_leader").await;
    let handler_cg = app.login("handler_cg").await;
    let handler_sj = app.login("handler_sj").await;
    let worker = app.login("gridworker").await;
    let clerk = app.login("clerk").await;

    // Wrong state, wrong role, missing reason: each refused and nothing written.
    assert_error(&act(&app, &leader, id, json!({"action": "close"})).await, StatusCode::CONFLICT, "illegal_transition");
    assert_error(&act(&app, &dispatcher, id, json!({"action": "accept"})).await, StatusCode::FORBIDDEN, "forbidden");
    step(&app, &intake, id, json!({"action": "accept"}), "accepted").await;
    assert_error(
        &act(&app, &leader, id, json!({"action": "refuse"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "note_required",
    );
    assert_error(
        &act(&app, &leader, id, json!({"action": "fly"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    );
    assert_error(
        &act(&app, &leader, id, json!({"note": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    step(&app, &leader, id, json!({"action": "file"}), "filed").await;
    assert_error(
        &act(&app, &dispatcher, id, json!({"action": "dispatch", "lead_department": "nope"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_department",
    );
    step(&app, &dispatcher, id, json!({"action": "dispatch"}), "dispatched").await;
    // Only the lead department's handlers may take it; others do not even see it.
    assert_error(
        &app.get_as(&format!("/api/v1/cases/{id}"), &handler_sj).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    );
    assert_error(&act(&app, &handler_sj, id, json!({"action": "take"})).await, StatusCode::NOT_FOUND, "case_not_found");
    step(&app, &handler_cg, id, json!({"action": "take"}), "handling").await;
    step(&app, &handler_cg, id, json!({"action": "return", "note": "不属于本部门职责"}), "returned").await;
    step(&app, &dispatcher, id, json!({"action": "dispatch"}), "dispatched").await;
    step(&app, &handler_cg, id, json!({"action": "take"}), "handling").await;
    step(&app, &handler_cg, id, json!({"action": "feedback", "note": "已劝离"}), "handled").await;
    // A handler cannot verify their own work (nor any work: verification is a grid worker's).
    assert_error(&act(&app, &handler_cg, id, json!({"action": "pass"})).await, StatusCode::FORBIDDEN, "forbidden");

    // Who sees what.
    let (_, list) = app.get_as("/api/v1/cases", &worker).await;
    let ids: Vec<i64> = list["cases"].as_array().expect("cases").iter().filter_map(|c| c["id"].as_i64()).collect();
    assert!(ids.contains(&id) && !ids.contains(&other), "grid worker sees only their grid: {ids:?}");
    assert_error(
        &app.get_as(&format!("/api/v1/cases/{other}"), &worker).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    );
    let (_, list) = app.get_as("/api/v1/cases", &handler_sj).await;
    assert_eq!(list["cases"].as_array().map(Vec::len), Some(0), "other departments see nothing");
    let (_, list) = app.get_as("/api/v1/cases", &dispatcher).await;
    assert_eq!(list["cases"].as_array().map(Vec::len), Some(2), "district roles see the district");
    let (_, list) = app.get_as("/api/v1/cases", &clerk).await;
    assert_eq!(list["cases"].as_array().map(Vec::len), Some(0), "window clerks read no cases");
    assert_error(&app.get("/api/v1/cases").await, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_error(
        &app.get_as("/api/v1/cases?state=lost", &dispatcher).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id}"), &dispatcher).await;
    assert_eq!(v["return_count"], 1);
    assert_eq!(v["transitions"].as_array().map(Vec::len), Some(9), "refused attempts left no trace");
}
both_backends!(wrong_roles_states_and_scopes_are_refused);

async fn a_verifier_must_not_be_the_handler(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    // One person who is both a handler of 城管 and a grid worker of the grid.
    let both_id = app
        .create_staff(
            &json!({"username": "both", "display_name": "身兼两职", "department_code": "cgj",
                "roles": [{"role": "handler", "area_code": "440604"}, {"role": "grid_worker", "area_code": "440604010001"}]}),
            "Long-enough-pw1",
        )
        .await;
    let (s, _) = app
        .send_json(
            "PUT",
            &format!("/api/v1/admin/grids/44060401000101/workers/{both_id}"),
            Some(&admin),
            &json!({"kind": "part_time"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (x, y) = inside(&app, "44060401000101").await;
    let (_, v) =
        report(&app, json!({"description": "暴露垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02"}))
            .await;
    let id = v["case"]["id"].as_i64().expect("id");
    let both = app.login_with("both", "Long-enough-pw1").await;
    step(&app, &app.login("intake").await, id, json!({"action": "accept"}), "accepted").await;
    step(&app, &app.login("shift_leader").await, id, json!({"action": "file"}), "filed").await;
    step(&app, &app.login("dispatcher").await, id, json!({"action": "dispatch"}), "dispatched").await;
    step(&app, &both, id, json!({"action": "take"}), "handling").await;
    step(&app, &both, id, json!({"action": "feedback", "note": "处理完毕"}), "handled").await;
    assert_error(&act(&app, &both, id, json!({"action": "pass"})).await, StatusCode::FORBIDDEN, "verifier_is_handler");
    step(&app, &app.login("gridworker").await, id, json!({"action": "pass"}), "verified").await;
}
both_backends!(a_verifier_must_not_be_the_handler);

async fn bad_reports_are_refused_and_write_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let cases = [
        (
            json!({"description": "没有位置", "class_code": "0101"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_location",
        ),
        (json!({"description": "半个位置", "lng": x}), StatusCode::UNPROCESSABLE_ENTITY, "partial_location"),
        (
            json!({"description": "北京", "lng": 116.39, "lat": 39.9, "datum": "gcj02"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "outside_territory",
        ),
        (
            json!({"description": "x", "class_code": "9999", "lng": x, "lat": y, "datum": "gcj02"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_class",
        ),
        (json!({"description": "", "lng": x, "lat": y}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_description"),
        // PostgreSQL cannot store a NUL; no control character but line breaks and tabs passes.
        (
            json!({"description": "油烟\u{0}直排", "lng": x, "lat": y}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_description",
        ),
        (
            json!({"description": "油烟\u{1b}[31m", "lng": x, "lat": y}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_description",
        ),
        (
            json!({"description": "长".repeat(4001), "lng": x, "lat": y}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_description",
        ),
        (json!({"description": "x", "lng": x, "lat": 95.0}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (
            json!({"description": "x", "lng": x, "lat": y, "channel": "pigeon"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_channel",
        ),
        (
            json!({"description": "x", "lng": x, "lat": y, "priority": "high"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&report(&app, body).await, status, code);
    }
    assert_eq!(app.count("case_record").await, 0);
    assert_eq!(app.count("case_transition").await, 0);

    // The same submission twice (a retry) creates one case.
    let body = json!({"description": "井盖缺失", "class_code": "1101", "lng": x, "lat": y, "datum": "gcj02", "idempotency_key": "app-7f3a"});
    let (s1, v1) = report(&app, body.clone()).await;
    let (s2, v2) = report(&app, body).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(v1["case"]["id"], v2["case"]["id"]);
    assert_eq!(v2["created"], false);
    assert_eq!(app.count("case_record").await, 1);

    // A second report of the same class a few metres away is flagged as a possible duplicate
    // and can be merged by intake.
    let (_, v3) = report(
        &app,
        json!({"description": "这里井盖不见了", "class_code": "1101", "lng": x + 0.00005, "lat": y, "datum": "gcj02"}),
    )
    .await;
    assert_eq!(v3["duplicates"][0]["id"], v1["case"]["id"], "{v3}");
    let id3 = v3["case"]["id"].as_i64().expect("id");
    let intake = app.login("intake").await;
    let merged = act(&app, &intake, id3, json!({"action": "merge", "duplicate_of": v1["case"]["id"]})).await;
    assert_eq!(merged.1["state"], "merged", "{}", merged.1);
}
both_backends!(bad_reports_are_refused_and_write_nothing);

async fn hotline_text_is_structured_by_intake(b: Backend) {
    let app = TestApp::demo(b).await;
    let (s, v) = report(&app, json!({"description": "市民来电：祖庙路口有人占道卖水果", "channel": "hotline"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["case"]["id"].as_i64().expect("id");
    assert!(v["case"]["grid_code"].is_null());
    let intake = app.login("intake").await;
    assert_error(
        &act(&app, &intake, id, json!({"action": "accept"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "class_required",
    );
    assert_error(
        &act(&app, &intake, id, json!({"action": "accept", "class_code": "0401"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "location_required",
    );
    let (x, y) = inside(&app, "44060401000101").await;
    let v = step(
        &app,
        &intake,
        id,
        json!({"action": "accept", "class_code": "0401", "lng": x, "lat": y, "datum": "gcj02"}),
        "accepted",
    )
    .await;
    assert_eq!(v["grid_code"], "44060401000101");
    assert_eq!(v["class_code"], "0401");
}
both_backends!(hotline_text_is_structured_by_intake);

async fn extensions_suspensions_and_supervision(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let (_, v) =
        report(&app, json!({"description": "路灯不亮", "class_code": "1102", "lng": x, "lat": y, "datum": "gcj02"}))
            .await;
    let id = v["case"]["id"].as_i64().expect("id");
    let dispatcher = app.login("dispatcher").await;
    let handler = app.login("handler_cg").await;
    let commander = app.login("commander").await;
    step(&app, &app.login("intake").await, id, json!({"action": "accept"}), "accepted").await;
    step(&app, &app.login("shift_leader").await, id, json!({"action": "file"}), "filed").await;
    let v = step(&app, &dispatcher, id, json!({"action": "dispatch"}), "dispatched").await;
    let first_deadline = v["handle_deadline"].as_str().expect("deadline").to_owned();
    step(&app, &handler, id, json!({"action": "take"}), "handling").await;
    assert_error(
        &act(&app, &dispatcher, id, json!({"action": "decide_extension", "approve": true, "extension_days": 2})).await,
        StatusCode::CONFLICT,
        "no_extension_requested",
    );
    let v = step(&app, &handler, id, json!({"action": "request_extension", "note": "需更换灯杆"}), "handling").await;
    assert_eq!(v["extension_requested"], true);
    let v = step(
        &app,
        &dispatcher,
        id,
        json!({"action": "decide_extension", "approve": true, "extension_days": 2}),
        "handling",
    )
    .await;
    assert!(v["handle_deadline"].as_str().expect("deadline") > first_deadline.as_str());
    assert_eq!(v["extension_requested"], false);
    step(&app, &dispatcher, id, json!({"action": "suspend", "note": "等待供电部门"}), "suspended").await;
    step(&app, &dispatcher, id, json!({"action": "resume"}), "handling").await;
    let v = step(&app, &commander, id, json!({"action": "supervise", "note": "请加快处置"}), "handling").await;
    assert_eq!(v["supervised"], true);
    let v = step(&app, &commander, id, json!({"action": "escalate", "note": "超期升级"}), "handling").await;
    assert_eq!(v["escalation_level"], 1);
}
both_backends!(extensions_suspensions_and_supervision);

/// The demo's months of cases: replayed through the workflow, every stage represented.
async fn demo_cases_cover_every_stage(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = &app.state;
    let now = chrono::Utc::now();
    let made = civgrid::demo::seed_cases(&s.territory, &s.staff, &s.cases, 120, now).await.expect("seed cases");
    assert_eq!(made, 120);
    let commander = app.login("commander").await;
    let (_, v) = app.get_as("/api/v1/cases?limit=500", &commander).await;
    let states: std::collections::BTreeSet<String> =
        v["cases"].as_array().expect("cases").iter().filter_map(|c| c["state"].as_str().map(str::to_owned)).collect();
    for st in ["received", "accepted", "refused", "dispatched", "handling", "handled", "closed"] {
        assert!(states.contains(st), "{st} missing from {states:?}");
    }
    let from = (now - chrono::Duration::days(100)).format("%Y-%m-%d").to_string();
    let to = (now + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let (_, v) = app.get_as(&format!("/api/v1/indicators?scope=area:440604&from={from}&to={to}"), &commander).await;
    let i = &v["indicators"];
    assert!(i["filed"].as_i64().unwrap_or(0) > 50, "{i}");
    assert!(i["closure_rate"].as_f64().is_some_and(|r| r > 0.3 && r < 1.0), "{i}");
    // Seeded actions say they were seeded.
    let (_, case) = app.get_as("/api/v1/cases/1", &commander).await;
    assert!(
        case["transitions"].as_array().is_some_and(|t| t
            .iter()
            .skip(1)
            .all(|t| t["actor"].as_str().is_some_and(|a| a.starts_with("system:demo-seed")))),
        "{case}"
    );
}
both_backends!(demo_cases_cover_every_stage);

/// Overdue cases climb one level per elapsed time limit, once, whoever runs the sweep.
async fn overdue_cases_escalate_automatically(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    // 暴露垃圾: 2 working hours. Dispatched Monday 09:20 → due 11:20.
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).expect("t").with_timezone(&chrono::Utc);
    let monday = app.state.cases.at(at("2026-11-16T09:00:00+08:00"));
    let r = civgrid::cases::NewReport {
        description: "暴露垃圾".into(),
        class_code: Some("0101".into()),
        lng: Some(x),
        lat: Some(y),
        datum: Some("gcj02".into()),
        ..Default::default()
    };
    let id = monday.report("citizen", r).await.expect("report").case.id;
    for (user, action) in [("intake", "accept"), ("shift_leader", "file"), ("dispatcher", "dispatch")] {
        let p = app.state.staff.authenticate(&app.login(user).await).await.expect("principal");
        let req: civgrid::cases::TransitionRequest = serde_json::from_value(json!({"action": action})).expect("req");
        app.state.cases.at(at("2026-11-16T09:20:00+08:00")).transition(&p, id, req).await.expect(action);
    }
    // 12:00: overdue by less than one more limit → subdistrict level (1).
    assert_eq!(app.state.cases.at(at("2026-11-16T12:00:00+08:00")).escalate_overdue().await.expect("sweep"), 1);
    assert_eq!(
        app.state.cases.at(at("2026-11-16T12:01:00+08:00")).escalate_overdue().await.expect("sweep"),
        0,
        "once per level"
    );
    // Tuesday 10:00: 11:20 + 2 h = Mon 15:20 passed, + 2 h = Mon 17:20 passed, + 2 h = Tue 10:20 not yet → level 3 capped.
    assert_eq!(app.state.cases.at(at("2026-11-17T10:00:00+08:00")).escalate_overdue().await.expect("sweep"), 1);
    let commander = app.login("commander").await;
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id}"), &commander).await;
    assert_eq!(v["escalation_level"], 3);
    let escalations: Vec<&Value> =
        v["transitions"].as_array().expect("t").iter().filter(|t| t["action"] == "escalate").collect();
    assert_eq!(escalations.len(), 2);
    assert_eq!(escalations[0]["actor"], "system:escalation");
    assert_eq!(escalations[0]["note"], "超期自动升级：社区 → 街道");
}
both_backends!(overdue_cases_escalate_automatically);

async fn photos_are_checked_stored_and_served(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let (_, v) =
        report(&app, json!({"description": "井盖缺失", "class_code": "1101", "lng": x, "lat": y, "datum": "gcj02"}))
            .await;
    let id = v["case"]["id"].as_i64().expect("id");
    let worker = app.login("gridworker").await;
    let uri = format!("/api/v1/cases/{id}/photos");
    // A JPEG whose scan (SOS) holds everything after it.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
    jpeg.extend(std::iter::repeat_n(7u8, 3 * 1024 * 1024));
    let (s, v) = app.send_raw("POST", &uri, Some(&worker), "image/jpeg", jpeg.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let photo = v["id"].as_i64().expect("photo id");
    assert_eq!(v["size"], jpeg.len());
    let req = axum::http::Request::get(format!("{uri}/{photo}"))
        .header("authorization", format!("Bearer {worker}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.expect("response");
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let got = http_body_util::BodyExt::collect(resp.into_body()).await.expect("body").to_bytes();
    assert_eq!(got.len(), jpeg.len());

    assert_error(
        &app.send_raw("POST", &uri, Some(&worker), "image/png", jpeg[..100].to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_photo",
    );
    assert_error(
        &app.send_raw("POST", &uri, Some(&worker), "image/jpeg", b"<svg onload=alert(1)>".to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_photo",
    );
    let mut huge = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02];
    huge.extend(std::iter::repeat_n(0u8, 6 * 1024 * 1024));
    assert_error(
        &app.send_raw("POST", &uri, Some(&worker), "image/jpeg", huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
    let other_dept = app.login("handler_sj").await;
    assert_error(
        &app.send_raw("POST", &uri, Some(&other_dept), "image/jpeg", jpeg[..100].to_vec()).await,
        StatusCode::NOT_FOUND,
        "case_not_found",
    );
    for _ in 1..civgrid::cases::MAX_PHOTOS_PER_CASE {
        assert_eq!(
            app.send_raw("POST", &uri, Some(&worker), "image/jpeg", jpeg[..64].to_vec()).await.0,
            StatusCode::CREATED
        );
    }
    assert_error(
        &app.send_raw("POST", &uri, Some(&worker), "image/jpeg", jpeg[..64].to_vec()).await,
        StatusCode::CONFLICT,
        "too_many_photos",
    );
    let (_, list) = app.get_as(&uri, &worker).await;
    assert_eq!(list["photos"].as_array().map(Vec::len), Some(civgrid::cases::MAX_PHOTOS_PER_CASE as usize));
    assert_eq!(app.count("case_photo").await, civgrid::cases::MAX_PHOTOS_PER_CASE);
}
both_backends!(photos_are_checked_stored_and_served);

/// A citizen who reports without signing in is given a key, once, to attach photos to that
/// case from the portal for a day. The key is refused on another case, after the day, or when
/// missing; a staff member's report gets no key; nothing refused is stored.
async fn a_citizen_attaches_photos_with_the_key_their_report_gave(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let body = |words: &str, key: &str| json!({"description": words, "class_code": "1101", "lng": x, "lat": y, "datum": "gcj02", "idempotency_key": key});
    let (s, v) = report(&app, body("井盖不见了", "portal-1")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (id, number) = (v["case"]["id"].as_i64().unwrap(), v["case"]["number"].as_str().unwrap().to_owned());
    let key = v["photo_key"].as_str().expect("a photo key").to_owned();
    assert!(key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert!(v["case"].get("reporter_photo_key").is_none(), "the stored hash is not shown");
    // A retry answers with the same case, but the key was given once.
    let (s, again) = report(&app, body("井盖不见了", "portal-1")).await;
    assert_eq!((s, again["case"]["id"].as_i64()), (StatusCode::OK, Some(id)));
    assert!(again.get("photo_key").is_none(), "{again}");
    let (s, other) = report(&app, body("另一个井盖", "portal-2")).await;
    assert_eq!(s, StatusCode::CREATED);
    let other_key = other["photo_key"].as_str().unwrap().to_owned();
    let worker = app.login("gridworker").await;
    let (_, staff_report) =
        app.send_json("POST", "/api/v1/reports", Some(&worker), &body("巡查发现", "patrol-1")).await;
    assert!(staff_report.get("photo_key").is_none(), "a session attaches photos itself: {staff_report}");

    let send = |number: String, key: Option<String>, content_type: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            let mut req = axum::http::Request::post(format!("/api/v1/public/cases/{number}/photos"))
                .header("content-type", content_type);
            if let Some(k) = key {
                req = req.header("x-photo-key", k);
            }
            let (s, v, _) = app.request(req.body(axum::body::Body::from(bytes)).expect("request")).await;
            (s, v)
        }
    };
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 4];
    let (s, v) = send(number.clone(), Some(key.clone()), "image/jpeg", jpeg.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, photos) = app.get_as(&format!("/api/v1/cases/{id}/photos"), &worker).await;
    assert_eq!(photos["photos"][0]["uploaded_by"], "citizen", "{photos}");
    let (_, case) = app.get_as(&format!("/api/v1/cases/{id}"), &worker).await;
    let attached = case["transitions"].as_array().unwrap().iter().find(|t| t["action"] == "attach_photo").cloned();
    assert_eq!(attached.map(|t| (t["actor"].clone(), t["role"].clone())), Some((json!("citizen"), json!("reporter"))));

    let staff_no = staff_report["case"]["number"].as_str().unwrap().to_owned();
    let refused = [
        (send(number.clone(), None, "image/jpeg", jpeg.clone()).await, StatusCode::UNAUTHORIZED, "photo_key_required"),
        (
            send(number.clone(), Some(other_key.clone()), "image/jpeg", jpeg.clone()).await,
            StatusCode::FORBIDDEN,
            "photo_key_mismatch",
        ),
        (
            send(number.clone(), Some("0".repeat(32)), "image/jpeg", jpeg.clone()).await,
            StatusCode::FORBIDDEN,
            "photo_key_mismatch",
        ),
        (
            send(staff_no, Some(key.clone()), "image/jpeg", jpeg.clone()).await,
            StatusCode::FORBIDDEN,
            "photo_key_mismatch",
        ),
        (
            send("20990101999999".into(), Some(key.clone()), "image/jpeg", jpeg.clone()).await,
            StatusCode::NOT_FOUND,
            "case_not_found",
        ),
        (
            send(number.clone(), Some(key.clone()), "image/png", jpeg.clone()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_photo",
        ),
        (
            send(number.clone(), Some(key.clone()), "image/jpeg", b"<svg/>".to_vec()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_photo",
        ),
    ];
    for (got, status, code) in refused {
        assert_error(&got, status, code);
    }
    // A day later the key no longer opens the case.
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(civgrid::cases::PHOTO_KEY_HOURS + 1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    sqlx::query("update case_record set created_at = $1 where id = $2")
        .bind(&day_ago)
        .bind(id)
        .execute(app.state.db.pool())
        .await
        .expect("age the case");
    assert_error(
        &send(number.clone(), Some(key.clone()), "image/jpeg", jpeg.clone()).await,
        StatusCode::FORBIDDEN,
        "photo_key_expired",
    );
    assert_eq!(app.count("case_photo").await, 1, "nothing refused was stored");
}
both_backends!(a_citizen_attaches_photos_with_the_key_their_report_gave);

/// A component whose owner cannot be established goes to the nearest owner of last resort.
async fn ownerless_components_go_to_the_owner_of_last_resort(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let (_, list) = app.get_as("/api/v1/admin/last-resort", &admin).await;
    assert_eq!(list["last_resort"], json!([{"area_code": "440604", "department_code": "cgj"}]));
    let (x, y) = inside(&app, "44060401000101").await;
    let new_case = |class: &'static str| json!({"description": "井盖缺失，权属不明", "class_code": class, "lng": x, "lat": y, "datum": "gcj02"});
    let intake = app.login("intake").await;
    let leader = app.login("shift_leader").await;
    let dispatcher = app.login("dispatcher").await;
    let ready = |class| {
        let body = new_case(class);
        let (app, intake, leader) = (&app, &intake, &leader);
        async move {
            let (s, v) = report(app, body).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            let id = v["case"]["id"].as_i64().expect("id");
            step(app, intake, id, json!({"action": "accept"}), "accepted").await;
            step(app, leader, id, json!({"action": "file"}), "filed").await;
            id
        }
    };
    // The community's own owner of last resort beats the district's.
    let set = app
        .send_json("PUT", "/api/v1/admin/last-resort/440604010001", Some(&admin), &json!({"department_code": "zjsl"}))
        .await;
    assert_eq!(set.0, StatusCode::NO_CONTENT, "{}", set.1);
    let id = ready("1101").await;
    let v = step(&app, &dispatcher, id, json!({"action": "dispatch", "owner_unknown": true}), "dispatched").await;
    assert_eq!(v["lead_department"], "zjsl");
    let changes = app.count("change_record where entity = 'last_resort_department'").await;
    assert_eq!(changes, 2, "setting an owner of last resort leaves a trace");

    // Cleared: the district's applies.
    let del = app.send_json("DELETE", "/api/v1/admin/last-resort/440604010001", Some(&admin), &json!({})).await;
    assert_eq!(del.0, StatusCode::NO_CONTENT);
    let id = ready("1101").await;
    let v = step(&app, &dispatcher, id, json!({"action": "dispatch", "owner_unknown": true}), "dispatched").await;
    assert_eq!(v["lead_department"], "cgj");

    // Refusals, each leaving the case filed.
    let id = ready("0101").await;
    let r = act(&app, &dispatcher, id, json!({"action": "dispatch", "owner_unknown": true})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let r = act(&app, &dispatcher, id, json!({"action": "dispatch", "owner_unknown": true, "lead_department": "cgj"}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let del = app.send_json("DELETE", "/api/v1/admin/last-resort/440604", Some(&admin), &json!({})).await;
    assert_eq!(del.0, StatusCode::NO_CONTENT);
    let id2 = ready("1101").await;
    let r = act(&app, &dispatcher, id2, json!({"action": "dispatch", "owner_unknown": true})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "no_last_resort_department");
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id2}"), &dispatcher).await;
    assert_eq!(v["state"], "filed");
    // Only district admins set it; unknown departments and grid-level areas are refused.
    let r = app
        .send_json("PUT", "/api/v1/admin/last-resort/440604", Some(&dispatcher), &json!({"department_code": "cgj"}))
        .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{}", r.1);
    let r = app
        .send_json("PUT", "/api/v1/admin/last-resort/440604", Some(&admin), &json!({"department_code": "nope"}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_department");
    let r = app
        .send_json("PUT", "/api/v1/admin/last-resort/44060401000101", Some(&admin), &json!({"department_code": "cgj"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_code");
}
both_backends!(ownerless_components_go_to_the_owner_of_last_resort);

/// A case reported in grid 44060401000101 (with the reporter's contact, if any) and taken
/// through the loop to `closed`: (id, number).
pub async fn closed_case(app: &TestApp, contact: Option<&str>) -> (i64, String) {
    let (x, y) = inside(app, "44060401000101").await;
    let mut body =
        json!({"description": "人行道上有暴露垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02"});
    if let Some(c) = contact {
        body["reporter_contact"] = json!(c);
    }
    let (s, v) = report(app, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["case"]["id"].as_i64().expect("id");
    let number = v["case"]["number"].as_str().expect("number").to_owned();
    for (user, body, to) in [
        ("intake", json!({"action": "accept"}), "accepted"),
        ("shift_leader", json!({"action": "file"}), "filed"),
        ("dispatcher", json!({"action": "dispatch"}), "dispatched"),
        ("handler_cg", json!({"action": "take"}), "handling"),
        ("handler_cg", json!({"action": "feedback", "note": "已清运"}), "handled"),
        ("gridworker", json!({"action": "pass"}), "verified"),
        ("shift_leader", json!({"action": "close"}), "closed"),
    ] {
        step(app, &app.login(user).await, id, body, to).await;
    }
    (id, number)
}

async fn rate(app: &TestApp, number: &str, body: Value) -> (StatusCode, Value) {
    app.send_json("POST", &format!("/api/v1/public/cases/{number}/rating"), None, &body).await
}

async fn the_reporter_rates_a_closed_case_with_the_contact_left_with_the_report(b: Backend) {
    let app = TestApp::demo(b).await;
    let (id, number) = closed_case(&app, Some("138-0000-1234")).await;
    let intake = app.login("intake").await;
    let written = || async { (app.count("case_transition").await, app.count("ledger_entry").await) };
    let before = written().await;

    // Every bad input is refused precisely, and nothing is written.
    let ok = json!({"rating": 4, "contact": "13800001234"});
    assert_error(&rate(&app, "NOPE", ok.clone()).await, StatusCode::NOT_FOUND, "case_not_found");
    let wrong = rate(&app, &number, json!({"rating": 4, "contact": "13900001234"})).await;
    assert_error(&wrong, StatusCode::FORBIDDEN, "contact_mismatch");
    assert!(!wrong.1.to_string().contains("1234"), "the stored contact is not revealed: {}", wrong.1);
    assert_error(
        &rate(&app, &number, json!({"rating": 4, "contact": "  "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "contact_required",
    );
    for bad in [0, 6, -1] {
        let r = rate(&app, &number, json!({"rating": bad, "contact": "13800001234"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rating");
    }
    let long = "很".repeat(501);
    let r = rate(&app, &number, json!({"rating": 4, "comment": long, "contact": "13800001234"})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_comment");
    let r = rate(&app, &number, json!({"rating": 4, "comment": "a\u{0}b", "contact": "13800001234"})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_comment");
    let r = rate(&app, &number, json!({"rating": 4, "contact": "13800001234", "actor": "x"})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(written().await, before, "nothing written");
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id}"), &intake).await;
    assert!(v["rating"].is_null(), "{v}");

    // The right contact, written differently (spaces instead of hyphens), rates it once.
    let (s, v) =
        rate(&app, &number, json!({"rating": 4, "comment": "清理及时\n谢谢", "contact": " 138 0000 1234 "})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v, json!({"number": number, "state": "closed", "rating": 4}));
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id}"), &intake).await;
    assert_eq!(v["rating"], 4);
    let last = v["transitions"].as_array().and_then(|t| t.last()).cloned().expect("trace");
    assert_eq!(
        (&last["action"], &last["actor"], &last["role"], &last["from_state"], &last["to_state"], &last["note"]),
        (
            &json!("rate"),
            &json!("citizen"),
            &json!("reporter"),
            &json!("closed"),
            &json!("closed"),
            &json!("清理及时\n谢谢")
        )
    );
    // Recorded like any transition: its row and its ledger entry, nothing else.
    assert_eq!(written().await, (before.0 + 1, before.1 + 1));

    // One rating a case: neither the reporter again nor the callback operator.
    assert_error(&rate(&app, &number, ok.clone()).await, StatusCode::CONFLICT, "already_rated");
    let callback = act(&app, &intake, id, json!({"action": "rate", "rating": 5})).await;
    assert_error(&callback, StatusCode::CONFLICT, "already_rated");

    // Not closed yet: refused, even with the right contact.
    let (x, y) = inside(&app, "44060401000101").await;
    let (_, v) = report(
        &app,
        json!({"description": "另一处垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
               "reporter_contact": "a@example.cn"}),
    )
    .await;
    let open = v["case"]["number"].as_str().expect("number").to_owned();
    let r = rate(&app, &open, json!({"rating": 5, "contact": "A@Example.cn"})).await;
    assert_error(&r, StatusCode::CONFLICT, "case_not_closed");

    // Reported without a contact: only the callback operator rates it.
    let (id2, silent) = closed_case(&app, None).await;
    assert_error(&rate(&app, &silent, ok).await, StatusCode::CONFLICT, "no_reporter_contact");
    let r = act(&app, &intake, id2, json!({"action": "rate", "rating": 9})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_rating");
    let v = step(&app, &intake, id2, json!({"action": "rate", "rating": 3}), "closed").await;
    assert_eq!(v["rating"], 3);
}
both_backends!(the_reporter_rates_a_closed_case_with_the_contact_left_with_the_report);

/// Guessing a reporter's contact is throttled per case: after five wrong contacts in fifteen
/// minutes the case cannot be rated from the portal (even with the right one) until the window
/// passes; other cases are not affected, and nothing is rated meanwhile.
async fn guessing_a_reporters_contact_is_throttled(b: Backend) {
    let app = TestApp::demo(b).await;
    let (id, number) = closed_case(&app, Some("13800001234")).await;
    let (_, other) = closed_case(&app, Some("13700001234")).await;
    for n in 0..civgrid::cases::MAX_REPORTER_CHECK_FAILURES {
        let wrong = rate(&app, &number, json!({"rating": 1, "contact": format!("1390000{n:04}")})).await;
        assert_error(&wrong, StatusCode::FORBIDDEN, "contact_mismatch");
    }
    let req = Request::post(format!("/api/v1/public/cases/{number}/rating"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"rating": 5, "contact": "13800001234"}).to_string()))
        .expect("request");
    let (s, v, headers) = app.request(req).await;
    assert_error(&(s, v), StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    let wait: i64 =
        headers.get("retry-after").and_then(|h| h.to_str().ok()).and_then(|h| h.parse().ok()).expect("Retry-After");
    assert!((1..=900).contains(&wait), "{wait}");
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id}"), &app.login("intake").await).await;
    assert!(v["rating"].is_null(), "{v}");
    // Another case's reporter is not held up by it.
    let (s, v) = rate(&app, &other, json!({"rating": 5, "contact": "13700001234"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
both_backends!(guessing_a_reporters_contact_is_throttled);
