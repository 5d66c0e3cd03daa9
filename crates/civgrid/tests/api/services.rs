//! One-window services end to end: apply with reuse → parallel approvals → conclusion →
//! e-licence in the library → reused by the next application → ratings → rectification; the
//! bad-input list, each refused with its code and nothing written; the working-day clock.

use axum::http::StatusCode;
use base64::Engine as _;
use civgrid::identity::{CreditCode, ResidentId};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn pdf() -> String {
    b64(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

fn png() -> String {
    b64(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
}

fn jpg() -> String {
    b64(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'])
}

fn person(first17: &str) -> String {
    ResidentId::complete(first17).expect("valid id").as_str().to_owned()
}

fn entity(first17: &str) -> String {
    CreditCode::complete(first17).expect("valid code").as_str().to_owned()
}

fn doc(code: &str, content: String) -> Value {
    json!({"code": code, "content_base64": content})
}

async fn item_code(app: &TestApp, name_prefix: &str) -> String {
    let (s, v) = app.get("/api/v1/service-items").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["items"].as_array().expect("items");
    assert!(items.len() >= 30, "demo catalogue has {} items", items.len());
    items
        .iter()
        .find(|i| i["name"].as_str().is_some_and(|n| n.starts_with(name_prefix)))
        .and_then(|i| i["code"].as_str())
        .unwrap_or_else(|| panic!("no item {name_prefix}"))
        .to_owned()
}

/// Every criterion the caller's department checks in `step`, all met.
async fn all_met(app: &TestApp, item: &str, step: usize, dept: &str) -> Value {
    let (_, v) = app.get(&format!("/api/v1/service-items/{item}")).await;
    let checks: Vec<Value> = v["steps"][step]["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .filter(|c| c["department"].as_str().is_none_or(|d| d == dept))
        .map(|c| json!({"code": c["code"], "met": true}))
        .collect();
    Value::Array(checks)
}

async fn decide(app: &TestApp, token: &str, number: &str, body: &Value) -> (StatusCode, Value) {
    app.send_json("POST", &format!("/api/v1/service-applications/{number}/decisions"), Some(token), body).await
}

/// Counts of every table a refused request must leave alone.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut v = Vec::new();
    for t in [
        "service_applicant",
        "service_visit",
        "service_notice",
        "service_application",
        "service_material",
        "service_step",
        "service_event",
        "service_rating",
        "service_rectification",
        "outbox",
        "ledger_entry",
        "certificate",
    ] {
        v.push(app.count(t).await);
    }
    let decided: i64 =
        sqlx::query_scalar("select count(*) from service_step where state <> 'pending' and state <> 'waiting'")
            .fetch_one(app.state.db.pool())
            .await
            .expect("count");
    v.push(decided);
    v
}

async fn inject_crash(app: &TestApp, b: Backend, kind: &str) {
    let pool = app.state.db.pool();
    match b {
        Backend::Sqlite => {
            sqlx::query(&format!(
                "create trigger crash_midway before insert on ledger_entry when new.kind = '{kind}'
                 begin select raise(abort, 'injected crash'); end"
            ))
            .execute(pool)
            .await
            .expect("trigger");
        }
        Backend::Postgres => {
            sqlx::query(&format!(
                "create function crash_midway() returns trigger language plpgsql as $f$
                 begin if new.kind = '{kind}' then raise exception 'injected crash'; end if; return new; end $f$"
            ))
            .execute(pool)
            .await
            .expect("function");
            sqlx::query("create trigger crash_midway before insert on ledger_entry for each row execute function crash_midway()")
                .execute(pool)
                .await
                .expect("trigger");
        }
    }
}

async fn remove_crash(app: &TestApp, b: Backend) {
    let sql = match b {
        Backend::Sqlite => "drop trigger crash_midway",
        Backend::Postgres => "drop trigger crash_midway on ledger_entry",
    };
    sqlx::query(sql).execute(app.state.db.pool()).await.expect("drop trigger");
}

async fn the_whole_story(b: Backend) {
    let app = TestApp::demo(b).await;
    let clerk = app.login("clerk").await;
    let scjg = app.login("approver").await;
    let xfj = app.login("approver_xfj").await;
    let sthj = app.login("approver_sthj").await;
    let admin = app.login("admin").await;
    let registration = item_code(&app, "个体工商户设立登记").await;
    let bundle = item_code(&app, "开办餐饮店一件事").await;
    assert_eq!(registration, "XK00301000-440604-scjg");
    let id = person("44060419850312004");
    let applicant = json!({"id_number": id, "name": "陈大文", "contact": "chen@example.cn"});

    // 1. At a window, everything handed in: accepted with a number.
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&clerk),
            &json!({"item_code": registration, "applicant": applicant, "window": "ZM-01", "materials": [
                doc("id_card", pdf()), doc("premises_proof", jpg()), doc("application_form", pdf())]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["outcome"], "accepted");
    let first = v["application"]["number"].as_str().expect("number").to_owned();
    let first_key = v["access_key"].as_str().expect("access key, once").to_owned();
    let visit = v["visit_number"].as_str().expect("visit").to_owned();
    assert!(first.starts_with("BJ"), "{first}");
    assert_eq!(v["application"]["state"], "in_review");
    assert_eq!(v["application"]["channel"], "window");
    assert_eq!(v["application"]["materials"].as_array().map(Vec::len), Some(3));

    // The clerk accepts but does not approve.
    let body = json!({"step": 0, "decision": "approve", "checklist": all_met(&app, &registration, 0, "scjg").await});
    assert_error(&decide(&app, &clerk, &first, &body).await, StatusCode::FORBIDDEN, "forbidden");
    let (s, v) = decide(&app, &scjg, &first, &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "approved");
    let licence = v["licence_number"].as_str().expect("licence issued").to_owned();

    // The e-licence is in the applicant's library (read at a window).
    let (s, v) = app.get_as(&format!("/api/v1/applicants/{id}/licences"), &clerk).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let lib = v["licences"].as_array().expect("licences");
    assert!(lib.iter().any(|l| l["number"] == licence.as_str() && l["type"] == "business_licence_individual"), "{v}");
    let (s, _) = app.get(&format!("/api/v1/certificates/{licence}/check")).await;
    assert!(s == StatusCode::OK || s == StatusCode::CONFLICT);

    // 2. Online, nothing handed in: one notice lists everything missing — online nothing the
    //    platform holds is attached (anyone can type anyone's ID number).
    let (s, v) = app
        .send_json("POST", "/api/v1/service-applications", None, &json!({"item_code": bundle, "applicant": applicant}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "missing_materials");
    let mut missing: Vec<&str> =
        v["notice"]["missing"].as_array().expect("missing").iter().filter_map(|m| m["code"].as_str()).collect();
    missing.sort_unstable();
    assert_eq!(
        missing,
        [
            "application_form",
            "business_licence",
            "fire_plan",
            "floor_plan",
            "food_safety_rules",
            "id_card",
            "premises_proof"
        ]
    );
    let notice = v["notice"]["number"].as_str().expect("notice").to_owned();
    let (s, html, headers) = app.get_bytes(&format!("/api/v1/service-notices/{notice}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(html).expect("utf-8");
    for needle in ["一次性告知书", "经营场所平面布局图", "食品安全管理制度", "消防设施平面图", "陈大文", "共 7 项"]
    {
        assert!(html.contains(needle), "{needle} missing from the notice");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "no outside assets");

    // 3. At a window (the clerk has seen the ID card) with the four the platform does not hold:
    //    accepted; three materials attached themselves.
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&clerk),
            &json!({"item_code": bundle, "applicant": applicant, "window": "ZM-02", "materials": [
                doc("application_form", pdf()), doc("fire_plan", pdf()), doc("floor_plan", png()),
                doc("food_safety_rules", pdf())]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["application"]["number"].as_str().expect("number").to_owned();
    let second_key = v["access_key"].as_str().expect("access key").to_owned();
    let sources: Vec<(String, String)> = v["application"]["materials"]
        .as_array()
        .expect("materials")
        .iter()
        .map(|m| (m["code"].as_str().unwrap().to_owned(), m["source"].as_str().unwrap().to_owned()))
        .collect();
    for (code, source) in [("business_licence", "licence"), ("id_card", "earlier"), ("premises_proof", "earlier")] {
        assert!(sources.contains(&(code.into(), source.into())), "{code} from {source}: {sources:?}");
    }
    assert!(v["application"]["materials"].as_array().unwrap().iter().any(|m| m["licence_number"] == licence.as_str()));

    // Progress by number: only with the application's own access key.
    let (s, v) =
        crate::security_services::get_with_key(&app, &format!("/api/v1/service-applications/{second}"), &second_key)
            .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("in_review")), "{v}");
    assert_error(
        &crate::security_services::get_with_key(&app, &format!("/api/v1/service-applications/{second}"), &first_key)
            .await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    );

    // The applicant's applications by ID number, at a window.
    let (s, v) = app.get_as(&format!("/api/v1/applicants/{id}/applications"), &clerk).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["applications"].as_array().map(Vec::len), Some(2), "{v}");

    // 4. Parallel approvals. Out of turn, then twice: refused, nothing written.
    let before = snapshot(&app).await;
    let fire = json!({"step": 1, "decision": "approve", "checklist": all_met(&app, &bundle, 1, "xfj").await});
    assert_error(&decide(&app, &xfj, &second, &fire).await, StatusCode::CONFLICT, "out_of_turn");
    assert_eq!(snapshot(&app).await, before);
    let review = json!({"step": 0, "decision": "approve", "checklist": all_met(&app, &bundle, 0, "scjg").await});
    let (s, v) = decide(&app, &scjg, &second, &review).await;
    assert_eq!((s, v["current_step"].as_i64()), (StatusCode::OK, Some(1)), "{v}");
    let before = snapshot(&app).await;
    assert_error(&decide(&app, &scjg, &second, &review).await, StatusCode::CONFLICT, "already_decided");
    // A criterion left unchecked, or approving against an unmet one.
    let unchecked = json!({"step": 1, "decision": "approve", "checklist": []});
    let got = decide(&app, &xfj, &second, &unchecked).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "criterion_unchecked");
    assert_eq!(got.1["error"]["details"]["criteria"], json!(["fire_ok"]));
    let unmet = json!({"step": 1, "decision": "approve", "checklist": [{"code": "fire_ok", "met": false, "note": "疏散通道堵塞"}]});
    assert_error(&decide(&app, &xfj, &second, &unmet).await, StatusCode::UNPROCESSABLE_ENTITY, "criteria_not_met");
    assert_eq!(snapshot(&app).await, before);

    let (s, v) = decide(&app, &xfj, &second, &fire).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("in_review")), "{v}");
    // An approver sees only their department's steps.
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["department_code"] == "xfj"), "{v}");
    let layout = json!({"step": 1, "decision": "approve", "checklist": all_met(&app, &bundle, 1, "scjg").await});
    let (s, v) = decide(&app, &scjg, &second, &layout).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("in_review")), "{v}");

    // The last approval concludes and issues the licence in one transaction: a crash midway
    // (the conclusion's ledger write fails) leaves no half-decided application.
    let fumes = json!({"step": 1, "decision": "approve", "checklist": all_met(&app, &bundle, 1, "sthj").await});
    let before = snapshot(&app).await;
    inject_crash(&app, b, "service_conclusion").await;
    let (s, v) = decide(&app, &sthj, &second, &fumes).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{v}");
    remove_crash(&app, b).await;
    assert_eq!(snapshot(&app).await, before, "nothing of the failed decision was kept");
    let (_, v) = app.get_as(&format!("/api/v1/service-applications/{second}"), &clerk).await;
    assert_eq!(v["state"], "in_review");
    assert!(v["steps"].as_array().unwrap().iter().any(|s| s["department_code"] == "sthj" && s["state"] == "pending"));
    let (s, v) = decide(&app, &sthj, &second, &fumes).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let food_licence = v["licence_number"].as_str().expect("food licence").to_owned();
    let (_, v) = app.get_as(&format!("/api/v1/applicants/{id}/licences"), &clerk).await;
    assert!(
        v["licences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["number"] == food_licence.as_str() && l["type"] == "food_business_licence"),
        "{v}"
    );

    // A concluded application cannot change.
    let before = snapshot(&app).await;
    assert_error(&decide(&app, &scjg, &second, &layout).await, StatusCode::CONFLICT, "application_concluded");
    let suspend = json!({"special_step": "现场核查"});
    let got =
        app.send_json("POST", &format!("/api/v1/service-applications/{second}/suspend"), Some(&scjg), &suspend).await;
    assert_error(&got, StatusCode::CONFLICT, "application_concluded");
    assert_eq!(snapshot(&app).await, before);

    // 5. 好差评: one rating per application and per visit; bad ones open rectification.
    let rate = |target: &str, number: &str, grade: i64| {
        let mut body = json!({"target": target, "number": number, "grade": grade, "comment": "评价"});
        match (target, number) {
            ("visit", _) => body["id_number"] = json!(id),
            (_, n) if n == first => body["access_key"] = json!(first_key),
            _ => body["access_key"] = json!(second_key),
        }
        body
    };
    let (s, v) = app.send_json("POST", "/api/v1/service-ratings", None, &rate("application", &second, 5)).await;
    assert_eq!((s, v["grade_label"].as_str()), (StatusCode::CREATED, Some("非常满意")), "{v}");
    assert!(v["rectification"].is_null());
    let again = app.send_json("POST", "/api/v1/service-ratings", None, &rate("application", &second, 1)).await;
    assert_error(&again, StatusCode::CONFLICT, "already_rated");
    let (s, v) = app.send_json("POST", "/api/v1/service-ratings", None, &rate("application", &first, 2)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["rectification"]["department_code"], "scjg");
    let task = v["rectification"]["id"].as_i64().expect("task");
    let (s, v) = app.send_json("POST", "/api/v1/service-ratings", None, &rate("visit", &visit, 1)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["rectification"]["department_code"], "xzfw", "the window's unit answers for the visit");
    let visit_task = v["rectification"]["id"].as_i64().expect("task");

    // The responsible unit replies with its callback; another unit cannot touch the task.
    let reply = json!({"reply": "已约谈窗口人员并优化登记流程", "callback_note": "已电话回访申请人"});
    let got = app.send_json("POST", &format!("/api/v1/service-rectifications/{task}/reply"), Some(&xfj), &reply).await;
    assert_error(&got, StatusCode::NOT_FOUND, "rectification_not_found");
    let (s, v) =
        app.send_json("POST", &format!("/api/v1/service-rectifications/{task}/reply"), Some(&scjg), &reply).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("replied")), "{v}");
    // The applicant's ID number does not prove the rated application is theirs; its key does.
    let fb = json!({"id_number": id, "result": "unsatisfied"});
    let got = app.send_json("POST", &format!("/api/v1/service-rectifications/{task}/feedback"), None, &fb).await;
    assert_error(&got, StatusCode::NOT_FOUND, "rectification_not_found");
    let fb = json!({"access_key": first_key, "result": "satisfied"});
    let (s, v) = app.send_json("POST", &format!("/api/v1/service-rectifications/{task}/feedback"), None, &fb).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("closed")), "{v}");
    // The window's unit appeals the visit rating as mistaken; the administrator upholds it.
    let appeal = json!({"reason": "申请人误评：当次办理已一次办结"});
    let (s, v) = app
        .send_json("POST", &format!("/api/v1/service-rectifications/{visit_task}/appeal"), Some(&clerk), &appeal)
        .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("appealed")), "{v}");
    let decision = json!({"upheld": true, "note": "经核实属误评"});
    let url = format!("/api/v1/service-rectifications/{visit_task}/appeal-decision");
    assert_error(&app.send_json("POST", &url, Some(&clerk), &decision).await, StatusCode::FORBIDDEN, "forbidden");
    let (s, v) = app.send_json("POST", &url, Some(&admin), &decision).await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("voided")), "{v}");

    // 6. Notifications went through the outbox: acceptances, the notice, decisions.
    let to_applicant: i64 = sqlx::query_scalar("select count(*) from outbox where recipient = 'chen@example.cn'")
        .fetch_one(app.state.db.pool())
        .await
        .expect("count");
    assert_eq!(to_applicant, 5, "2 acceptances, 1 missing-materials notice, 2 conclusions");

    // 7. Statistics by department over today.
    let (s, v) = app.get_as("/api/v1/service-statistics?by=department&from=2000-01-01&to=2100-01-01", &admin).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let row = v["rows"].as_array().unwrap().iter().find(|r| r["key"] == "scjg").expect("scjg row").clone();
    assert_eq!(row["accepted"], 2);
    assert_eq!(row["concluded"], 2);
    assert_eq!(row["online"], 0, "both acceptances were at a window");
    assert_eq!(row["on_time_rate"], 1.0);
    assert_eq!(row["materials_reused"], 3);
    assert_eq!(row["materials_asked"], 7);
    assert_eq!(row["missing_notices"], 1);
    assert_eq!(row["ratings"], 2, "the voided visit rating does not count: {row}");
    assert_eq!(row["satisfaction"], 0.5);
    assert!(row["p90_handling_working_days"].is_number());
    let (s, v) = app.get_as("/api/v1/service-statistics?by=window&from=2000-01-01&to=2100-01-01", &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["rows"].as_array().unwrap().iter().any(|r| r["key"] == "ZM-01" && r["accepted"] == 1), "{v}");
    assert_error(
        &app.get_as("/api/v1/service-statistics?by=planet&from=2026-01-01&to=2027-01-01", &admin).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );

    // 8. The ledger holds acceptances, decisions and conclusions, and the audit is clean.
    app.state.ledger.integrate().await.expect("integrate");
    let (s, _) = app.get(&format!("/api/v1/ledger/entries/service_acceptance/{second}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app.get(&format!("/api/v1/ledger/entries/service_decision/{second}:1:sthj")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let report = crate::ledger::run_audit_all(&app).await;
    assert!(report.is_clean(), "{:?}", report.findings);
    assert!(!report.kinds_not_audited.iter().any(|k| k.starts_with("service_")), "{:?}", report.kinds_not_audited);
    // Tampering with a recorded decision is caught.
    sqlx::query("update service_step set note = 'edited' where department_code = 'sthj'")
        .execute(app.state.db.pool())
        .await
        .expect("tamper");
    let report = crate::ledger::run_audit_all(&app).await;
    assert!(
        report.findings.iter().any(|f| f.code == "record_changed" && f.kind.as_deref() == Some("service_decision")),
        "{:?}",
        report.findings
    );
}
both_backends!(the_whole_story);

async fn bad_input_is_refused_and_nothing_is_written(b: Backend) {
    let app = TestApp::demo(b).await;
    let clerk = app.login("clerk").await;
    let scjg = app.login("approver").await;
    let gaj = app.login("approver_gaj").await;
    let admin = app.login("admin").await;
    let registration = item_code(&app, "个体工商户设立登记").await;
    let allowance = item_code(&app, "高龄老人津贴申请").await;
    let fire_check = item_code(&app, "公众聚集场所投入使用").await;
    let good_id = person("44060419850312004");
    let submit = |item: &str, id: &str, materials: Value| {
        json!({"item_code": item, "applicant": {"id_number": id, "name": "李小梅"}, "window": "ZM-02",
               "materials": materials})
    };
    let full = json!([doc("id_card", pdf()), doc("premises_proof", pdf()), doc("application_form", pdf())]);
    let before = snapshot(&app).await;
    let post = |body: Value, token: Option<String>| {
        let app = &app;
        async move { app.send_json("POST", "/api/v1/service-applications", token.as_deref(), &body).await }
    };
    let cases: Vec<(Value, Option<String>, StatusCode, &str)> = vec![
        (
            submit(&registration, "440604198503120041", full.clone()),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number_checksum",
        ),
        (
            submit(&registration, "44060419850312", full.clone()),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number",
        ),
        (
            submit(&fire_check, "91350100M000100Y44", json!([])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_credit_code_checksum",
        ),
        (
            submit(&fire_check, &good_id, json!([])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "applicant_type_mismatch",
        ),
        (
            submit(&registration, &entity("91440604MA4UH5XK0"), full.clone()),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "applicant_type_mismatch",
        ),
        (
            submit(&registration, &good_id, json!([doc("application_form", png())])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "material_wrong_format",
        ),
        (
            submit(
                &registration,
                &good_id,
                json!([{"code": "application_form", "format": "png", "content_base64": pdf()}]),
            ),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "material_wrong_format",
        ),
        (
            submit(&registration, &good_id, json!([doc("id_card", b64(b"plain text, not a document"))])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "material_wrong_format",
        ),
        (
            submit(
                &registration,
                &good_id,
                json!([doc("id_card", b64(&[b"%PDF-".as_slice(), &vec![b'x'; 600 * 1024]].concat()))]),
            ),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "material_too_large",
        ),
        (
            submit(&registration, &good_id, json!([doc("horoscope", pdf())])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_material",
        ),
        (
            submit(&registration, &good_id, json!([doc("id_card", pdf()), doc("id_card", pdf())])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "duplicate_material",
        ),
        (
            submit(&allowance, &good_id, json!([])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_eligible",
        ),
        (
            submit("XK99999000-440604-scjg", &good_id, json!([])),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_item",
        ),
        (submit(&registration, &good_id, full.clone()), Some(scjg.clone()), StatusCode::FORBIDDEN, "forbidden"),
        (
            json!({"item_code": registration, "applicant": {"id_number": good_id, "name": "李小梅"}, "materials": full}),
            Some(clerk.clone()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (submit(&registration, &good_id, full.clone()), None, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
    ];
    for (body, token, status, code) in cases {
        let got = post(body, token).await;
        assert_error(&got, status, code);
    }
    assert_eq!(snapshot(&app).await, before, "refused submissions wrote nothing");
    let got = post(submit(&allowance, &person("44060419960101002"), json!([])), Some(clerk.clone())).await;
    assert!(got.1["error"]["details"]["failed"].as_array().is_some_and(|f| !f.is_empty()), "{}", got.1);

    // One good application, then every bad decision.
    let (s, v) = post(submit(&registration, &good_id, full.clone()), Some(clerk.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["application"]["number"].as_str().unwrap().to_owned();
    let key = v["access_key"].as_str().unwrap().to_owned();
    let met = all_met(&app, &registration, 0, "scjg").await;
    let mut one_unmet = met.clone();
    one_unmet[0]["met"] = json!(false);
    let mut unmet_no_note = one_unmet.clone();
    one_unmet[0]["note"] = json!("身份信息不一致");
    unmet_no_note[0]["note"] = Value::Null;
    let before = snapshot(&app).await;
    let bad: Vec<(String, Value, StatusCode, &str)> = vec![
        (
            scjg.clone(),
            json!({"step": 0, "decision": "approve", "checklist": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "criterion_unchecked",
        ),
        (
            scjg.clone(),
            json!({"step": 0, "decision": "approve", "checklist": [{"code": "mood", "met": true}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_criterion",
        ),
        (
            scjg.clone(),
            json!({"step": 0, "decision": "approve", "checklist": one_unmet}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "criteria_not_met",
        ),
        (
            scjg.clone(),
            json!({"step": 0, "decision": "reject", "checklist": met}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejection_without_unmet_criterion",
        ),
        (
            scjg.clone(),
            json!({"step": 0, "decision": "reject", "checklist": unmet_no_note}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "note_required",
        ),
        (
            scjg.clone(),
            json!({"step": 3, "decision": "approve", "checklist": met}),
            StatusCode::NOT_FOUND,
            "step_not_found",
        ),
        (
            scjg.clone(),
            json!({"step": 0, "decision": "maybe", "checklist": met}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            gaj.clone(),
            json!({"step": 0, "decision": "approve", "checklist": met}),
            StatusCode::NOT_FOUND,
            "application_not_found",
        ),
        (
            clerk.clone(),
            json!({"step": 0, "decision": "approve", "checklist": met}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ];
    for (token, body, status, code) in bad {
        assert_error(&decide(&app, &token, &number, &body).await, status, code);
    }
    let got = app
        .send_json(
            "POST",
            &format!("/api/v1/service-applications/{number}/suspend"),
            Some(&scjg),
            &json!({"special_step": "占卜"}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "unknown_special_step");
    let got =
        app.send_json("POST", &format!("/api/v1/service-applications/{number}/resume"), Some(&scjg), &json!({})).await;
    assert_error(&got, StatusCode::CONFLICT, "not_suspended");
    let got = app
        .send_json(
            "POST",
            "/api/v1/service-ratings",
            None,
            &json!({"target": "application", "number": number, "access_key": key, "grade": 4}),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "not_concluded");
    let got = app
        .send_json(
            "POST",
            "/api/v1/service-ratings",
            None,
            &json!({"target": "application", "number": number, "access_key": key, "grade": 9}),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(snapshot(&app).await, before, "refused decisions wrote nothing");
    // An approver of another department does not even see it.
    assert_error(
        &app.get_as(&format!("/api/v1/service-applications/{number}"), &gaj).await,
        StatusCode::NOT_FOUND,
        "application_not_found",
    );
    let (_, v) = app.get_as("/api/v1/service-applications", &gaj).await;
    assert_eq!(v["applications"].as_array().map(Vec::len), Some(0), "{v}");

    // A reasoned rejection concludes it: no licence, and it cannot be decided again.
    let (s, v) =
        decide(&app, &scjg, &number, &json!({"step": 0, "decision": "reject", "checklist": one_unmet_note(&met)}))
            .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("rejected")), "{v}");
    assert!(v["licence_number"].is_null());
    let before = snapshot(&app).await;
    assert_error(
        &decide(&app, &scjg, &number, &json!({"step": 0, "decision": "approve", "checklist": met})).await,
        StatusCode::CONFLICT,
        "application_concluded",
    );
    assert_eq!(snapshot(&app).await, before);

    // Refusal (不予受理) with a printable notice; unknown notices are not found.
    let (s, v) = app
        .send_json("POST", "/api/v1/service-refusals", Some(&clerk), &json!({"item_code": registration,
            "applicant": {"id_number": good_id, "name": "李小梅"}, "reason": "申请事项不属于本机关职权范围", "window": "ZM-02"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, html, _) = app.get_bytes(v["document"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&html).contains("不予受理通知书"));
    assert_error(
        &app.get("/api/v1/service-notices/GZ0000000000000000").await,
        StatusCode::NOT_FOUND,
        "notice_not_found",
    );

    // The catalogue: only a district admin adds versions; an application keeps its version.
    let (_, mut spec) = app.get(&format!("/api/v1/service-items/{registration}")).await;
    for k in ["code", "version", "basic_code", "item_type_name", "created_at", "created_by"] {
        spec.as_object_mut().unwrap().remove(k);
    }
    spec["promised_limit_days"] = json!(2);
    assert_error(
        &app.send_json("POST", "/api/v1/admin/service-items", Some(&clerk), &spec).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let mut broken = spec.clone();
    broken["promised_limit_days"] = json!(99);
    assert_error(
        &app.send_json("POST", "/api/v1/admin/service-items", Some(&admin), &broken).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_item",
    );
    let (s, v) = app.send_json("POST", "/api/v1/admin/service-items", Some(&admin), &spec).await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::CREATED, Some(2)), "{v}");
    let (_, v) = app.get_as(&format!("/api/v1/service-applications/{number}"), &clerk).await;
    assert_eq!(v["item_version"], 1);
    let (_, v) = app.get(&format!("/api/v1/service-items/{registration}?version=1")).await;
    assert_eq!(v["promised_limit_days"], 1);
}
both_backends!(bad_input_is_refused_and_nothing_is_written);

fn one_unmet_note(met: &Value) -> Value {
    let mut v = met.clone();
    v[0]["met"] = json!(false);
    v[0]["note"] = json!("身份信息不一致");
    v
}

/// The working-day clock: the deadline from the promised limit, a warning with less than a
/// working day left, overdue afterwards; a special step outside the limit moves the deadline.
async fn the_clock_warns_marks_overdue_and_stops_for_special_steps(b: Backend) {
    use civgrid::services::applications::{Channel, NewApplication};
    let app = TestApp::demo(b).await;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    let services = &app.state.services;
    let mzj_token = app.login("approver_mzj").await;
    let mzj = app.state.staff.authenticate(&mzj_token).await.expect("principal");
    let permit = item_code(&app, "居住证办理").await;
    let relief = item_code(&app, "最低生活保障申请").await;
    let id = person("44060419900101003");
    let new = |item: &str, materials: Value| -> NewApplication {
        serde_json::from_value(json!({"item_code": item, "applicant": {"id_number": id, "name": "黄志强"},
            "materials": materials}))
        .unwrap()
    };
    let monday = services.at(at("2026-11-23T10:00:00+08:00"));
    let all = json!([
        doc("id_card", pdf()),
        doc("photo", jpg()),
        doc("residence_proof", pdf()),
        doc("application_form", pdf())
    ]);
    let out = monday.submit(Channel::Online, new(&permit, all)).await.expect("accepted");
    let v = outcome_json(&out);
    let number = v["application"]["number"].as_str().unwrap().to_owned();
    let key = v["access_key"].as_str().unwrap().to_owned();
    // 10 working days after Monday 23 November: Monday 7 December, 18:00 local.
    assert_eq!(v["application"]["deadline"], "2026-12-07T10:00:00.000Z", "{v}");
    assert_eq!(v["application"]["sla"], "on_time");
    assert_eq!(services.at(at("2026-12-04T10:00:00+08:00")).sweep_deadlines().await.unwrap(), (0, 0));
    assert_eq!(services.at(at("2026-12-07T10:00:00+08:00")).sweep_deadlines().await.unwrap(), (1, 0));
    assert_eq!(services.at(at("2026-12-07T11:00:00+08:00")).sweep_deadlines().await.unwrap(), (0, 0), "warned once");
    assert_eq!(services.at(at("2026-12-08T09:30:00+08:00")).sweep_deadlines().await.unwrap(), (0, 1));
    let (_, v) =
        crate::security_services::get_with_key(&app, &format!("/api/v1/service-applications/{number}"), &key).await;
    assert_eq!(v["sla"], "overdue", "{v}");
    assert!(v["overdue_at"].is_string() && v["warned_at"].is_string());

    // 最低生活保障: 20 working days → Monday 21 December; the household check (3 working days,
    // not counted) moves it to Thursday 24 December.
    let out = monday
        .submit(
            Channel::Online,
            new(
                &relief,
                json!([
                    doc("id_card", pdf()),
                    doc("household_register", pdf()),
                    doc("income_statement", pdf()),
                    doc("authorisation", pdf())
                ]),
            ),
        )
        .await
        .expect("accepted");
    let v = outcome_json(&out);
    let number = v["application"]["number"].as_str().unwrap().to_owned();
    assert_eq!(v["application"]["deadline"], "2026-12-21T10:00:00.000Z");
    let input = |s: &str| serde_json::from_value(json!({"special_step": s, "note": "入户核对"})).unwrap();
    services
        .at(at("2026-11-23T11:00:00+08:00"))
        .suspend(&mzj, &number, input("家庭经济状况核对"))
        .await
        .expect("suspend");
    let again = services.at(at("2026-11-23T11:30:00+08:00")).suspend(&mzj, &number, input("家庭经济状况核对")).await;
    assert_eq!(again.unwrap_err().code(), "application_suspended");
    let decision = serde_json::from_value(json!({"step": 0, "decision": "approve", "checklist": [
        {"code": "identity", "met": true}, {"code": "home_visit", "met": true}]}))
    .unwrap();
    let refused = services.at(at("2026-11-24T10:00:00+08:00")).decide(&mzj, &number, decision).await;
    assert_eq!(refused.unwrap_err().code(), "application_suspended");
    let v = services.at(at("2026-11-26T11:00:00+08:00")).resume(&mzj, &number).await.expect("resume");
    assert_eq!(civgrid::db::at_text(&v.application.deadline), "2026-12-24T10:00:00.000Z");
    assert_eq!(v.application.state, "in_review");
}
both_backends!(the_clock_warns_marks_overdue_and_stops_for_special_steps);

/// Two departments approving the same parallel step at the same moment: both decisions land,
/// the application concludes exactly once, with one e-licence.
async fn simultaneous_parallel_approvals_conclude_once(b: Backend) {
    let app = TestApp::demo(b).await;
    let zjsl = app.login("approver_zjsl").await;
    let mzj = app.login("approver_mzj").await;
    let housing = item_code(&app, "公共租赁住房资格申请").await;
    let id = person("44060419900101003");
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            None,
            &json!({"item_code": housing, "applicant": {"id_number": id, "name": "黄志强"}, "materials": [
                doc("id_card", pdf()), doc("household_register", pdf()), doc("income_statement", pdf())]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["application"]["number"].as_str().unwrap().to_owned();
    let key = v["access_key"].as_str().unwrap().to_owned();
    let certificates = app.count("certificate").await;
    let a = json!({"step": 0, "decision": "approve", "checklist": all_met(&app, &housing, 0, "zjsl").await});
    let c = json!({"step": 0, "decision": "approve", "checklist": all_met(&app, &housing, 0, "mzj").await});
    let (x, y) = tokio::join!(decide(&app, &zjsl, &number, &a), decide(&app, &mzj, &number, &c));
    assert_eq!((x.0, y.0), (StatusCode::OK, StatusCode::OK), "{} {}", x.1, y.1);
    let (_, v) =
        crate::security_services::get_with_key(&app, &format!("/api/v1/service-applications/{number}"), &key).await;
    assert_eq!(v["state"], "approved", "{v}");
    assert!(v["licence_number"].is_string());
    assert_eq!(app.count("certificate").await, certificates + 1, "one licence");
    let conclusions: i64 = sqlx::query_scalar("select count(*) from ledger_entry where kind = 'service_conclusion'")
        .fetch_one(app.state.db.pool())
        .await
        .expect("count");
    assert_eq!(conclusions, 1);
}
both_backends!(simultaneous_parallel_approvals_conclude_once);

/// The statistics the writes keep per hour, day and month agree with the records: a period of
/// whole days or months (read from the kept rows) and one that starts and ends inside the first
/// and last hour of the records (partly read from the records directly) see the same
/// applications, notices and ratings and answer alike; so do a day and a part of it, and an hour
/// and a part of it; and rebuilding the kept rows from the records changes nothing.
async fn statistics_kept_per_hour_agree_with_the_records(b: Backend) {
    use civgrid::services::applications::{Channel, NewApplication, NewRefusal, Outcome};
    use civgrid::services::statistics::GroupBy;
    use serde::de::DeserializeOwned;
    let app = TestApp::demo(b).await;
    let services = &app.state.services;
    let principal = |username: &'static str| {
        let app = &app;
        async move { app.state.staff.authenticate(&app.login(username).await).await.expect("principal") }
    };
    let (clerk, scjg, xfj, admin) = (
        principal("clerk").await,
        principal("approver").await,
        principal("approver_xfj").await,
        principal("admin").await,
    );
    let registration = item_code(&app, "个体工商户设立登记").await;
    let food = item_code(&app, "食品经营许可").await;
    let fire_check = item_code(&app, "公众聚集场所投入使用").await;
    // Day 0 is twelve days ago (local); everything happens between 09:00 and 12:00 local.
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let day0 = (chrono::Utc::now() - chrono::Duration::days(12)).with_timezone(&cst).date_naive();
    let at = |day: i64, hh: u32, mm: u32| {
        let d = day0 + chrono::Duration::days(day);
        d.and_hms_opt(hh, mm, 0).unwrap().and_local_timezone(cst).unwrap().with_timezone(&chrono::Utc)
    };
    fn input<T: DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).expect("input")
    }
    let (a, bee, c) = (person("44060419850312004"), person("44060419900101003"), person("44060419780615002"));
    let firm = entity("91440604MA4UH5XK0");
    let apply = |item: &str, id: &str, materials: Value, window: Option<&str>| -> NewApplication {
        input(json!({"item_code": item, "applicant": {"id_number": id, "name": "申请人"}, "materials": materials,
            "window": window}))
    };
    let number = |o: &Outcome| outcome_json(o)["application"]["number"].as_str().unwrap().to_owned();
    let key = |o: &Outcome| outcome_json(o)["access_key"].as_str().unwrap().to_owned();
    let checks = |item: &str, step: usize, dept: &'static str| {
        let app = &app;
        let item = item.to_owned();
        async move { all_met(app, &item, step, dept).await }
    };
    let decision = |step: i64, kind: &str, checklist: Value| {
        input(json!({"step": step, "decision": kind, "checklist": checklist}))
    };

    let full = json!([doc("id_card", pdf()), doc("premises_proof", jpg()), doc("application_form", pdf())]);
    let first = services
        .at(at(0, 10, 0))
        .submit(Channel::Window(&clerk), apply(&registration, &a, full.clone(), Some("ZM-01")))
        .await
        .unwrap();
    let first_number = number(&first);
    let visit = outcome_json(&first)["visit_number"].as_str().unwrap().to_owned();
    let missing =
        services.at(at(0, 10, 30)).submit(Channel::Online, apply(&registration, &bee, json!([]), None)).await.unwrap();
    assert!(matches!(missing, Outcome::MissingMaterials { .. }));
    let refusal: NewRefusal = input(json!({"item_code": registration, "applicant": {"id_number": c, "name": "申请人"},
        "reason": "不属于本窗口受理范围", "window": "ZM-02"}));
    services.at(at(0, 11, 0)).refuse(&clerk, refusal).await.unwrap();
    let met = checks(&registration, 0, "scjg").await;
    services.at(at(2, 10, 0)).decide(&scjg, &first_number, decision(0, "approve", met)).await.unwrap();
    // Accepted and never decided: open, and past its one-day limit by now.
    services.at(at(2, 10, 30)).submit(Channel::Online, apply(&registration, &bee, full.clone(), None)).await.unwrap();
    let rate = |target: &str, number: &str, proof: &str, grade: i64| {
        let how = if target == "visit" { "id_number" } else { "access_key" };
        input(json!({"target": target, "number": number, how: proof, "grade": grade}))
    };
    services.at(at(2, 11, 0)).rate(rate("application", &first_number, &key(&first), 5)).await.unwrap();
    let materials = json!([doc("floor_plan", png()), doc("food_safety_rules", pdf()), doc("application_form", pdf())]);
    let third = services
        .at(at(4, 10, 0))
        .submit(Channel::Window(&clerk), apply(&food, &a, materials, Some("ZM-01")))
        .await
        .unwrap();
    let third_number = number(&third);
    let visit_rating = services.at(at(4, 10, 30)).rate(rate("visit", &visit, &a, 1)).await.unwrap();
    for step in 0..2 {
        let met = checks(&food, step, "scjg").await;
        services
            .at(at(6, 10, 10 * step as u32))
            .decide(&scjg, &third_number, decision(step as i64, "approve", met))
            .await
            .unwrap();
    }
    services.at(at(6, 11, 0)).rate(rate("application", &third_number, &key(&third), 2)).await.unwrap();
    let task = visit_rating.rectification.expect("a bad rating opens a task").id;
    services.at(at(8, 10, 0)).appeal(&clerk, task, input(json!({"reason": "误评"}))).await.unwrap();
    services
        .at(at(8, 10, 30))
        .decide_appeal(&admin, task, input(json!({"upheld": true, "note": "属误评"})))
        .await
        .unwrap();
    let fire = json!([doc("business_licence", pdf()), doc("fire_plan", pdf()), doc("commitment", pdf())]);
    let fourth =
        services.at(at(8, 11, 0)).submit(Channel::Online, apply(&fire_check, &firm, fire, None)).await.unwrap();
    let unmet = one_unmet_note(&checks(&fire_check, 0, "xfj").await);
    services.at(at(8, 11, 30)).decide(&xfj, &number(&fourth), decision(0, "reject", unmet)).await.unwrap();

    let answers = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| async move {
        let mut all = Vec::new();
        for by in GroupBy::ALL {
            for dept in [None, Some("scjg"), Some("xzfw"), Some("xfj")] {
                let s = services.statistics(by, from, to, dept).await.expect("statistics");
                let row = |r: &civgrid::services::statistics::Row| {
                    json!({"key": r.key, "accepted": r.accepted, "online": r.online, "concluded": r.concluded,
                        "approved": r.approved, "rejected": r.rejected, "in_progress": r.in_progress,
                        "overdue_open": r.overdue_open, "missing_notices": r.missing_notices,
                        "refusals": r.refusals, "avg_handling_working_days": r.avg_handling_working_days,
                        "p90_handling_working_days": r.p90_handling_working_days, "on_time_rate": r.on_time_rate,
                        "materials_reused": r.materials_reused, "materials_asked": r.materials_asked,
                        "visits_saved": r.visits_saved, "ratings": r.ratings, "bad_ratings": r.bad_ratings,
                        "satisfaction": r.satisfaction})
                };
                all.push(json!({"rows": s.rows.iter().map(row).collect::<Vec<_>>(), "total": row(&s.total)}));
            }
        }
        all
    };
    let whole = answers(at(0, 0, 0), at(9, 0, 0)).await;
    assert_eq!(whole, answers(at(0, 9, 1), at(8, 11, 59)).await, "whole days and records at both ends");
    assert_eq!(answers(at(0, 0, 0), at(1, 0, 0)).await, answers(at(0, 9, 1), at(0, 11, 59)).await, "a day and a part");
    assert_eq!(answers(at(0, 10, 0), at(0, 11, 0)).await, answers(at(0, 10, 0), at(0, 10, 59)).await, "an hour");
    // The whole months around them (read from the monthly rows).
    use chrono::Datelike;
    let midnight = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0).unwrap().and_local_timezone(cst).unwrap().with_timezone(&chrono::Utc)
    };
    let first_month = day0.with_day(1).unwrap();
    let after = (day0 + chrono::Duration::days(9)).with_day(1).unwrap() + chrono::Months::new(1);
    assert_eq!(whole, answers(midnight(first_month), midnight(after)).await, "whole months");
    let total = &whole[4]["total"];
    for (field, expected) in [
        ("accepted", json!(4)),
        ("online", json!(2)),
        ("concluded", json!(3)),
        ("approved", json!(2)),
        ("rejected", json!(1)),
        ("in_progress", json!(1)),
        ("overdue_open", json!(1)),
        ("missing_notices", json!(1)),
        ("refusals", json!(1)),
        ("materials_reused", json!(3)),
        ("ratings", json!(2)),
        ("bad_ratings", json!(1)),
        ("satisfaction", json!(0.5)),
    ] {
        assert_eq!(total[field], expected, "{field}: {total}");
    }
    assert!(total["p90_handling_working_days"].is_number() && total["avg_handling_working_days"].is_number());
    let scjg_items = &whole[1]["rows"];
    assert_eq!(scjg_items.as_array().map(Vec::len), Some(2), "scjg's two items: {scjg_items}");
    services.rebuild_statistics().await.expect("rebuild");
    assert_eq!(whole, answers(at(0, 0, 0), at(9, 0, 0)).await, "rebuilt from the records");
}
both_backends!(statistics_kept_per_hour_agree_with_the_records);

/// What the tests read of a submission's outcome (the domain type is not serialised; the
/// API's answer type is built from it), with the wire's values.
fn outcome_json(o: &civgrid::services::applications::Outcome) -> Value {
    use civgrid::services::applications::Outcome;
    match o {
        Outcome::Accepted { application, visit_number, access_key } => json!({
            "outcome": "accepted",
            "application": {
                "number": application.application.number,
                "deadline": civgrid::db::at_text(&application.application.deadline),
                "sla": application.sla,
            },
            "visit_number": visit_number,
            "access_key": access_key,
        }),
        Outcome::MissingMaterials { notice } => {
            json!({"outcome": "missing_materials", "notice": {"number": notice.number}})
        }
    }
}
