//! The one-window service pages without a browser: the window and the approver's workbench,
//! reuse, checklists, special steps, rectification tasks and paging (the case pages are in
//! pages.rs, whose request helpers these share).

use axum::http::StatusCode;

use super::pages::{form_post, page, pager_links, section, send};
use crate::both_backends;
use crate::helpers::{Backend, TestApp};

pub(crate) async fn service_item_code(app: &TestApp, name: &str) -> String {
    let (_, v) = app.get("/api/v1/service-items").await;
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"] == name)
        .and_then(|i| i["code"].as_str())
        .unwrap_or_else(|| panic!("no item {name}"))
        .to_owned()
}

/// The ride-hailing driver licence: 交通 and 公安 approve in parallel; the no-criminal-record
/// certificate the demo issued to 陈嘉怡 stands in for one material.
async fn services_pages_show_reuse_checklists_and_each_departments_steps(b: Backend) {
    let app = TestApp::demo(b).await;
    // As `civgrid demo` does: three certificates, one a no-criminal-record proof of 陈嘉怡.
    civgrid::demo::ledger::seed_certificates(&app.state.certificates).await.expect("certificates");
    let item = service_item_code(&app, "网络预约出租汽车驾驶员证核发").await;
    let id = civgrid::identity::ResidentId::complete("44060419950312042").expect("id").as_str().to_owned();
    let clerk = format!("civgrid_session={}", app.login("clerk").await);

    // The acceptance form lists the item's materials and which of them the government may hold.
    let (s, _, body) = page(&app, &format!("/workbench/window?item={item}"), Some(&clerk)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("id=\"apply-form\"") && body.contains("data-channel=\"window\""));
    assert!(body.contains("data-licence=\"no_criminal_record\"") && body.contains("可由电子证照库调取"));
    assert!(body.contains("机动车驾驶证") && body.contains("id=\"refuse-form\""));

    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n%%EOF\n");
    let token = app.login("clerk").await;
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&token),
            &serde_json::json!({"item_code": item, "window": "W01",
                "applicant": {"id_number": id, "name": "陈嘉怡"},
                "materials": [{"code": "id_card", "format": "pdf", "content_base64": pdf},
                    {"code": "driving_licence", "format": "pdf", "content_base64": pdf},
                    {"code": "application_form", "format": "pdf", "content_base64": pdf}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["application"]["number"].as_str().expect("number").to_owned();
    let key = v["access_key"].as_str().expect("the access key").to_owned();

    // The clerk follows it by number: every material with its source, both parallel departments.
    let (s, _, body) = page(&app, &format!("/workbench/window?number={number}"), Some(&clerk)).await;
    assert_eq!(s, StatusCode::OK);
    let found = section(&body, "followed-title");
    assert!(found.contains(&format!("data-application=\"{number}\"")));
    assert!(found.contains("data-material=\"no_criminal_record\" data-source=\"licence\""), "{found}");
    assert!(found.contains("data-material=\"application_form\" data-source=\"submitted\""));
    assert!(found.contains("禅城区交通运输局") && found.contains("公安局禅城分局"), "both parallel departments");
    assert!(section(&body, "recent-title").contains(&format!("data-application=\"{number}\"")));
    let (s, _, body) = page(&app, "/workbench/window?number=BJ000", Some(&clerk)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("没有找到这个办件"));

    // Each approver sees the step with their own department's criteria only.
    let jtj = format!("civgrid_session={}; lang=en", app.login("approver_jtj").await);
    let (s, _, body) = page(&app, "/workbench/approve", Some(&jtj)).await;
    assert_eq!(s, StatusCode::OK);
    let queue = section(&body, "queue-approve");
    assert!(queue.contains(&format!("data-task=\"{number}\"")) && queue.contains("Decision checklist"));
    assert!(
        queue.contains("data-criterion=\"driving_3_years\"") && !queue.contains("data-criterion=\"background_ok\"")
    );
    assert!(queue.contains("Decided in parallel by"), "the parallel departments are named");
    assert!(queue.contains("From the e-licence library"), "the reused material is shown in English");
    let gaj = format!("civgrid_session={}", app.login("approver_gaj").await);
    let (_, _, body) = page(&app, "/workbench/approve", Some(&gaj)).await;
    let queue = section(&body, "queue-approve");
    assert!(
        queue.contains("data-criterion=\"background_ok\"") && !queue.contains("data-criterion=\"driving_3_years\"")
    );
    // An approver sees only their department's steps, and nothing of other departments' items.
    assert_eq!(queue.matches("<tr data-step=").count(), 1, "only 公安's step: {queue}");
    let scjg = format!("civgrid_session={}", app.login("approver").await);
    let (_, _, body) = page(&app, "/workbench/approve", Some(&scjg)).await;
    assert!(!body.contains(&number), "市场监管 has no step on it");

    // 交通 approves; 公安 still has its step open, and the clerk sees one approved, one pending.
    let t = app.login("approver_jtj").await;
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/service-applications/{number}/decisions"),
            Some(&t),
            &serde_json::json!({"step": 0, "decision": "approve", "checklist": [{"code": "driving_3_years", "met": true}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, body) = page(&app, "/workbench/approve", Some(&jtj)).await;
    assert!(!section(&body, "queue-approve").contains(&number), "decided: out of 交通's queue");
    assert!(
        section(&body, "others-title").contains(&format!("data-application=\"{number}\"")),
        "others still deciding"
    );
    let (_, _, body) = page(&app, &format!("/workbench/window?number={number}"), Some(&clerk)).await;
    let found = section(&body, "followed-title");
    assert!(found.contains("data-state=\"approved\"") && found.contains("data-state=\"pending\""));
    assert!(
        found.contains("data-check=\"driving_3_years\" data-met=\"true\"") && found.contains("取得相应准驾车型驾驶证")
    );

    // The applicant follows it with the number and the access key, by a form post.
    let (s, body) =
        send(&app, form_post("/portal/application", &format!("number={number}&access_key={key}"), None)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains(&format!("data-application=\"{number}\"")) && body.contains("审查中"));
    assert!(body.contains("440604********042"), "the ID number is masked");
    assert!(!body.contains("id=\"rate-form\""), "no rating before conclusion");
    let (s, body) = send(
        &app,
        form_post("/portal/application", &format!("number={number}&access_key=0123456789abcdef"), Some("lang=en")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("No application matches") && !body.contains(&format!("data-application=\"{number}\"")));

    // 公安 approves: concluded, the applicant may rate it.
    let t = app.login("approver_gaj").await;
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/service-applications/{number}/decisions"),
            Some(&t),
            &serde_json::json!({"step": 0, "decision": "approve", "checklist": [{"code": "background_ok", "met": true}]}),
        )
        .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let (_, body) =
        send(&app, form_post("/portal/application", &format!("number={number}&access_key={key}"), None)).await;
    assert!(body.contains("id=\"rate-form\"") && body.contains("已办结（准予）"));
    assert!(body.contains("href=\"/verify/CG"), "the e-licence it issued, to verify");
    assert!(
        body.contains("id=\"licence-download\"") && body.contains(&format!("data-key=\"{key}\"")),
        "the holder downloads the bundle with the key"
    );

    // The portal offers the catalogue for online applications.
    let (s, _, body) = page(&app, &format!("/portal/services?item={item}"), Some("lang=en")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("data-channel=\"online\"") && !body.contains("id=\"refuse-form\""));
    assert!(body.contains("href=\"/verify\""));
}
both_backends!(services_pages_show_reuse_checklists_and_each_departments_steps);

/// 最低生活保障 has special steps: the approver stops the clock for one and resumes it.
async fn an_approver_suspends_for_a_special_step_and_resumes(b: Backend) {
    let app = TestApp::demo(b).await;
    let item = service_item_code(&app, "最低生活保障申请").await;
    let id = civgrid::identity::ResidentId::complete("44060419800101001").expect("id").as_str().to_owned();
    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n%%EOF\n");
    let materials: Vec<serde_json::Value> = ["id_card", "household_register", "income_statement", "authorisation"]
        .iter()
        .map(|c| serde_json::json!({"code": c, "format": "pdf", "content_base64": pdf}))
        .collect();
    let clerk = app.login("clerk").await;
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&clerk),
            &serde_json::json!({"item_code": item, "window": "W02", "applicant": {"id_number": id, "name": "何伟"},
                "materials": materials}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["application"]["number"].as_str().expect("number").to_owned();
    let mzj = format!("civgrid_session={}", app.login("approver_mzj").await);
    let (_, _, body) = page(&app, "/workbench/approve", Some(&mzj)).await;
    let task = &body[body.find(&format!("data-task=\"{number}\"")).expect("task")..];
    assert!(
        task.contains(&format!("form class=\"suspend\" data-number=\"{number}\"")) && task.contains("家庭经济状况核对")
    );
    let t = app.login("approver_mzj").await;
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/service-applications/{number}/suspend"),
            Some(&t),
            &serde_json::json!({"special_step": "家庭经济状况核对"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, body) = page(&app, "/workbench/approve", Some(&mzj)).await;
    assert!(!section(&body, "queue-approve").contains(&number), "not decided while suspended");
    let suspended = section(&body, "suspended-title");
    assert!(suspended.contains(&format!("button type=\"button\" class=\"ghost-dark resume\" data-number=\"{number}\"")));
    let (s, v) = app
        .send_json("POST", &format!("/api/v1/service-applications/{number}/resume"), Some(&t), &serde_json::json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, body) = page(&app, "/workbench/approve", Some(&mzj)).await;
    assert!(section(&body, "queue-approve").contains(&format!("data-task=\"{number}\"")), "back in the queue");
    assert!(!section(&body, "suspended-title").contains(&number));
}
both_backends!(an_approver_suspends_for_a_special_step_and_resumes);

/// A bad rating opens a rectification task (整改) that the responsible department's approver
/// sees on their workbench, with the forms to reply and to appeal.
async fn a_bad_rating_becomes_a_rectification_task_on_the_approvers_page(b: Backend) {
    let app = TestApp::demo(b).await;
    civgrid::demo::ledger::seed_certificates(&app.state.certificates).await.expect("certificates");
    let item = service_item_code(&app, "网络预约出租汽车驾驶员证核发").await;
    let id = civgrid::identity::ResidentId::complete("44060419950312042").expect("id").as_str().to_owned();
    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n%%EOF\n");
    let token = app.login("clerk").await;
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&token),
            &serde_json::json!({"item_code": item, "window": "W01",
                "applicant": {"id_number": id, "name": "陈嘉怡"},
                "materials": [{"code": "id_card", "format": "pdf", "content_base64": pdf},
                    {"code": "driving_licence", "format": "pdf", "content_base64": pdf},
                    {"code": "application_form", "format": "pdf", "content_base64": pdf}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["application"]["number"].as_str().expect("number").to_owned();
    let key = v["access_key"].as_str().expect("the access key").to_owned();
    for (user, criterion) in [("approver_jtj", "driving_3_years"), ("approver_gaj", "background_ok")] {
        let t = app.login(user).await;
        let (s, v) = app
            .send_json(
                "POST",
                &format!("/api/v1/service-applications/{number}/decisions"),
                Some(&t),
                &serde_json::json!({"step": 0, "decision": "approve", "checklist": [{"code": criterion, "met": true}]}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{user}: {v}");
    }
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/service-ratings",
            None,
            &serde_json::json!({"target": "application", "number": number, "access_key": key, "grade": 1,
                "comment": "<b>等了很久</b>"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let dept = v["rectification"]["department_code"].as_str().expect("a rectification task").to_owned();
    let rect = v["rectification"]["id"].as_i64().unwrap();
    let approver = format!("civgrid_session={}", app.login(&format!("approver_{dept}")).await);
    let (s, _, body) = page(&app, "/workbench/approve", Some(&approver)).await;
    assert_eq!(s, StatusCode::OK);
    let tasks = section(&body, "rect-title");
    let task = &tasks[tasks.find(&format!("data-rectification=\"{rect}\"")).expect("the task")..];
    assert!(task.contains("data-state=\"open\"") && task.contains("待整改") && task.contains(&number));
    assert!(task.contains("1 非常不满意"));
    assert!(task.contains("&lt;b&gt;等了很久") || task.contains("&#60;b&#62;等了很久"), "escaped");
    assert!(task.contains(&format!("form class=\"rect-reply\" data-id=\"{rect}\"")));
    assert!(task.contains(&format!("form class=\"rect-appeal\" data-id=\"{rect}\"")));
    // The reply the form sends; then only the appeal is left, in English too.
    let t = app.login(&format!("approver_{dept}")).await;
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/service-rectifications/{rect}/reply"),
            Some(&t),
            &serde_json::json!({"reply": "已增派窗口人员", "callback_note": "已电话回访申请人"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, body) = page(&app, "/workbench/approve", Some(&format!("{approver}; lang=en"))).await;
    let tasks = section(&body, "rect-title");
    assert!(tasks.contains("data-state=\"replied\"") && tasks.contains("Replied; the applicant to judge"));
    assert!(tasks.contains("已增派窗口人员") && tasks.contains("已电话回访申请人"));
    assert!(!tasks.contains("form class=\"rect-reply\"") && tasks.contains("form class=\"rect-appeal\""));
    // Another department's approver does not see it.
    let other = format!("civgrid_session={}", app.login("approver").await);
    let (_, _, body) = page(&app, "/workbench/approve", Some(&other)).await;
    assert!(!section(&body, "rect-title").contains(&format!("data-rectification=\"{rect}\"")));
    // The department appeals; the administrator sees the appeal with the form to decide it.
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/service-rectifications/{rect}/appeal"),
            Some(&t),
            &serde_json::json!({"reason": "申请人材料不全，系其本人原因"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let admin_token = app.login("admin").await;
    let admin = format!("civgrid_session={admin_token}");
    let (_, _, body) = page(&app, "/workbench/admin", Some(&admin)).await;
    let appeals = section(&body, "appeals-title");
    assert!(appeals.contains(&format!("form class=\"appeal-decision\" data-id=\"{rect}\"")), "{appeals}");
    assert!(appeals.contains("申请人材料不全"));
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/service-rectifications/{rect}/appeal-decision"),
            Some(&admin_token),
            &serde_json::json!({"upheld": true, "note": "经核实属实"}),
        )
        .await;
    assert_eq!((s, v["state"].as_str()), (StatusCode::OK, Some("voided")), "{v}");
    let (_, _, body) = page(&app, "/workbench/admin", Some(&admin)).await;
    assert!(!section(&body, "appeals-title").contains(&format!("data-rectification=\"{rect}\"")));
    let (_, _, body) = page(&app, "/workbench/approve", Some(&approver)).await;
    assert!(section(&body, "rect-title").contains("评价已撤销") && body.contains("经核实属实"));
}
both_backends!(a_bad_rating_becomes_a_rectification_task_on_the_approvers_page);

/// The window's latest applications and the approver's queue page beyond 50: the window newest
/// first, the approver whoever has waited longest first.
async fn service_lists_page_beyond_fifty_applications(b: Backend) {
    let app = TestApp::demo(b).await;
    let item = service_item_code(&app, "最低生活保障申请").await;
    let id = civgrid::identity::ResidentId::complete("44060419800101001").expect("id").as_str().to_owned();
    let pdf = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n%%EOF\n");
    let materials: Vec<serde_json::Value> = ["id_card", "household_register", "income_statement", "authorisation"]
        .iter()
        .map(|c| serde_json::json!({"code": c, "format": "pdf", "content_base64": pdf}))
        .collect();
    let clerk_token = app.login("clerk").await;
    let mut numbers = Vec::new();
    for _ in 0..53 {
        let (s, v) = app
            .send_json(
                "POST",
                "/api/v1/service-applications",
                Some(&clerk_token),
                &serde_json::json!({"item_code": item, "window": "W02", "applicant": {"id_number": id, "name": "何伟"},
                    "materials": materials}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        numbers.push(v["application"]["number"].as_str().expect("number").to_owned());
    }
    let listed = |body: &str, id: &str, attr: &str| -> Vec<String> {
        section(body, id)
            .split(&format!("{attr}=\""))
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect()
    };
    let clerk = format!("civgrid_session={clerk_token}");
    let (_, _, body) = page(&app, "/workbench/window", Some(&clerk)).await;
    let newest: Vec<String> = numbers.iter().rev().cloned().collect();
    assert_eq!(listed(&body, "recent-title", "data-application"), newest[..50]);
    let (prev, next) = pager_links(section(&body, "recent-title"));
    assert!(prev.is_none());
    let next = next.expect("a next page");
    let (_, _, body) = page(&app, &next, Some(&clerk)).await;
    assert_eq!(listed(&body, "recent-title", "data-application"), newest[50..]);
    assert!(
        section(&body, "recent-title").contains("data-pager=\"first\"")
            && pager_links(section(&body, "recent-title")).1.is_none()
    );

    let mzj = format!("civgrid_session={}", app.login("approver_mzj").await);
    let (_, _, body) = page(&app, "/workbench/approve", Some(&mzj)).await;
    assert_eq!(listed(&body, "queue-approve", "data-task"), numbers[..50], "oldest first");
    let (_, next) = pager_links(section(&body, "queue-approve"));
    let (_, _, body) = page(&app, &next.expect("a next page"), Some(&mzj)).await;
    assert_eq!(listed(&body, "queue-approve", "data-task"), numbers[50..]);
}
both_backends!(service_lists_page_beyond_fifty_applications);
