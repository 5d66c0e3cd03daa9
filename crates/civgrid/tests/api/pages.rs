//! The pages without a browser: they answer, in Chinese by default and in English when the
//! `lang=en` cookie says so; staff pages send strangers to the sign-in page; each role lands on
//! its own workbench; the assets are served from the binary.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// (status, headers, body text) of a GET with optional cookies.
async fn page(app: &TestApp, uri: &str, cookie: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::get(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let resp = app.router.clone().oneshot(req.body(Body::empty()).expect("request")).await.expect("response");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

fn location(h: &axum::http::HeaderMap) -> &str {
    h.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn public_pages_speak_chinese_first_and_english_when_asked(b: Backend) {
    let app = TestApp::demo(b).await;
    for uri in ["/", "/login", "/portal", "/portal/track"] {
        let (s, h, body) = page(&app, uri, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{uri}");
        assert!(body.contains("<html lang=\"zh-CN\">"), "{uri}");
        let (s, _, body) = page(&app, uri, Some("lang=en")).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(body.contains("<html lang=\"en\">"), "{uri}");
    }
    let (_, _, zh) = page(&app, "/login", None).await;
    assert!(zh.contains("统一登录") && !zh.contains(">Sign in<"));
    let (_, _, en) = page(&app, "/login", Some("other=1; lang=en")).await;
    assert!(en.contains(">Sign in<") && !en.contains("统一登录"));
    // The portal lists the catalogue to report against.
    let (_, _, portal) = page(&app, "/portal", None).await;
    assert!(portal.contains("value=\"0101\"") && portal.contains("暴露垃圾"));
}
both_backends!(public_pages_speak_chinese_first_and_english_when_asked);

async fn the_language_toggle_remembers_the_choice_and_goes_back(b: Backend) {
    let app = TestApp::demo(b).await;
    let (s, h, _) = page(&app, "/lang/en?back=/portal/track%3Fnumber%3DX", None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), "/portal/track?number=X");
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("lang=en;") && cookie.contains("Path=/"), "{cookie}");
    let (_, h, _) = page(&app, "/lang/zh?back=https://evil.example/", None).await;
    assert_eq!(location(&h), "/", "only local paths");
    assert!(h[header::SET_COOKIE].to_str().unwrap().starts_with("lang=zh;"));
    // Every page carries the toggle back to where it is.
    let (_, _, body) = page(&app, "/portal/track?number=A1", None).await;
    assert!(body.contains("href=\"/lang/en?back=/portal/track%3Fnumber%3DA1\""), "{body}");
}
both_backends!(the_language_toggle_remembers_the_choice_and_goes_back);

async fn workbenches_need_a_session_and_each_role_lands_on_its_own(b: Backend) {
    let app = TestApp::demo(b).await;
    for uri in [
        "/workbench",
        "/workbench/grid",
        "/workbench/desk",
        "/workbench/handler",
        "/workbench/command",
        "/workbench/cases",
    ] {
        let (s, h, _) = page(&app, uri, None).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(location(&h), format!("/login?next={}", uri), "{uri}");
        let (s, h, _) = page(&app, uri, Some("civgrid_session=cgs_expired_or_made_up")).await;
        assert_eq!((s, location(&h).starts_with("/login?next=")), (StatusCode::SEE_OTHER, true), "{uri}");
    }
    for (user, home) in [
        ("gridworker", "/workbench/grid"),
        ("intake", "/workbench/desk"),
        ("shift_leader", "/workbench/desk"),
        ("dispatcher", "/workbench/desk"),
        ("handler_cg", "/workbench/handler"),
        ("commander", "/workbench/command"),
        ("clerk", "/workbench/cases"),
    ] {
        let cookie = format!("civgrid_session={}", app.login(user).await);
        let (s, h, _) = page(&app, "/workbench", Some(&cookie)).await;
        assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, home), "{user}");
        let (s, _, body) = page(&app, home, Some(&cookie)).await;
        assert_eq!(s, StatusCode::OK, "{user} {home}");
        assert!(body.contains("id=\"logout\""), "{user}");
        // The sign-in page sends someone already signed in straight on.
        let (s, h, _) = page(&app, "/login?next=/workbench/cases", Some(&cookie)).await;
        assert_eq!((s, location(&h)), (StatusCode::SEE_OTHER, "/workbench/cases"), "{user}");
    }
    let clerk = format!("civgrid_session={}", app.login("clerk").await);
    let (_, _, body) = page(&app, "/workbench/cases", Some(&clerk)).await;
    assert!(body.contains("您的角色暂无专门工作台"), "the clerk is told why they see a list");
    // A workbench the roles do not include is refused, in the reader's language.
    let cookie = format!("civgrid_session={}; lang=en", app.login("gridworker").await);
    let (s, _, body) = page(&app, "/workbench/desk", Some(&cookie)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.contains("Your roles do not include this workbench."), "{body}");
}
both_backends!(workbenches_need_a_session_and_each_role_lands_on_its_own);

async fn queues_show_the_cases_each_role_must_act_on(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, g) = app.get("/api/v1/grids/44060401000101").await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), civgrid_geo::Datum::Gcj02)
        .expect("shape");
    let p = geo::InteriorPoint::interior_point(&shape).expect("point");
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &serde_json::json!({"description": "<script>alert(1)</script>井盖缺失", "class_code": "1101",
                "lng": p.x(), "lat": p.y(), "datum": "gcj02"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let number = v["case"]["number"].as_str().unwrap().to_owned();
    let intake = format!("civgrid_session={}", app.login("intake").await);
    let (_, _, body) = page(&app, "/workbench/desk", Some(&intake)).await;
    assert!(body.contains(&format!("data-case-number=\"{number}\"")), "the new report is in the intake queue");
    assert!(body.contains("data-action=\"accept\""));
    assert!(!body.contains("data-action=\"dispatch\""), "intake operators do not dispatch");
    assert!(!body.contains("<script>alert(1)</script>"), "escaped");
    assert!(body.contains("&lt;script&gt;alert(1)") || body.contains("&#60;script&#62;alert(1)"), "escaped");
    // A hotline report arrives without class or place: accepting it asks for both.
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &serde_json::json!({"description": "热线：某路口井盖缺失", "channel": "hotline"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let hotline = v["case"]["id"].as_i64().unwrap();
    let (_, _, body) = page(&app, "/workbench/desk", Some(&intake)).await;
    assert!(body.contains(&format!("id=\"lng-{hotline}\"")) && body.contains(&format!("id=\"cls-{hotline}-accept\"")));
    assert!(
        !body.contains(&format!("id=\"lng-{}\"", v["case"]["id"].as_i64().unwrap() - 1)),
        "located reports are not asked"
    );
    // Someone else's queue does not show it: the handler sees only dispatched department cases.
    let handler = format!("civgrid_session={}", app.login("handler_cg").await);
    let (_, _, body) = page(&app, "/workbench/handler", Some(&handler)).await;
    assert!(!body.contains(&format!("data-case-number=\"{number}\"")));
    // The citizen follows it by number; an unknown number is a 404 page that says so.
    let (s, _, body) = page(&app, &format!("/portal/track?number={number}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("data-state=\"received\"") && body.contains("待受理"));
    let (s, _, body) = page(&app, "/portal/track?number=NOPE", Some("lang=en")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("No case has this number"));
    // A handler's extension request reaches the dispatcher's queue with the decision form.
    let id = v["case"]["id"].as_i64().unwrap() - 1;
    let tokens = [
        ("intake", serde_json::json!({"action": "accept"})),
        ("shift_leader", serde_json::json!({"action": "file"})),
        ("dispatcher", serde_json::json!({"action": "dispatch", "lead_department": "cgj"})),
        ("handler_cg", serde_json::json!({"action": "take"})),
        ("handler_cg", serde_json::json!({"action": "request_extension", "note": "需要调配吊车", "extension_days": 3})),
    ];
    for (user, body) in tokens {
        let t = app.login(user).await;
        let (s, r) = app.send_json("POST", &format!("/api/v1/cases/{id}/transitions"), Some(&t), &body).await;
        assert_eq!(s, StatusCode::OK, "{user} {body}: {r}");
    }
    let dispatcher = format!("civgrid_session={}", app.login("dispatcher").await);
    let (_, _, body) = page(&app, "/workbench/desk", Some(&dispatcher)).await;
    let queue = &body[body.find("id=\"queue-extensions\"").expect("extension queue")..];
    let queue = &queue[..queue.find("</section>").unwrap()];
    assert!(
        queue.contains(&format!("data-case-number=\"{number}\"")) && queue.contains("data-action=\"decide_extension\"")
    );
}
both_backends!(queues_show_the_cases_each_role_must_act_on);

#[tokio::test]
async fn assets_come_from_the_binary() {
    let app = TestApp::empty(Backend::Sqlite).await;
    for (file, kind) in [("app.css", "text/css"), ("app.js", "text/javascript"), ("map.js", "text/javascript")] {
        let (s, h, body) = page(&app, &format!("/assets/{file}"), None).await;
        assert_eq!(s, StatusCode::OK, "{file}");
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind), "{file}");
        // The SVG namespace is a name, not an address that is fetched.
        let body = body.replace("http://www.w3.org/2000/svg", "");
        assert!(!body.contains("http://") && !body.contains("https://"), "{file} calls nothing outside");
    }
    let (s, _, _) = page(&app, "/assets/../Cargo.toml", None).await;
    assert_ne!(s, StatusCode::OK);
}
