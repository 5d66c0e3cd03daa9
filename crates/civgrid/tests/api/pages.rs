//! The pages without a browser: they answer, in Chinese by default and in English when the
//! `lang=en` cookie says so; staff pages send strangers to the sign-in page; each role lands on
//! its own workbench; the assets are served from the binary.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};
use crate::pages_services::service_item_code;

/// (status, headers, body text) of a GET with optional cookies.
pub(crate) async fn page(
    app: &TestApp,
    uri: &str,
    cookie: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
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
    for uri in ["/", "/login", "/portal", "/portal/track", "/portal/services", "/portal/application"] {
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
        "/workbench/trends",
        "/workbench/cases",
        "/workbench/window",
        "/workbench/approve",
        "/workbench/admin",
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
        ("clerk", "/workbench/window"),
        ("approver", "/workbench/approve"),
        ("approver_jtj", "/workbench/approve"),
        ("safety", "/workbench/cases"),
        ("admin", "/workbench/admin"),
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
    let safety = format!("civgrid_session={}", app.login("safety").await);
    let (_, _, body) = page(&app, "/workbench/cases", Some(&safety)).await;
    assert!(body.contains("您的角色暂无专门工作台"), "a role without a workbench is told why it sees a list");
    // The window clerk does not see approval queues, nor an approver the window.
    let clerk = format!("civgrid_session={}", app.login("clerk").await);
    let (s, _, _) = page(&app, "/workbench/approve", Some(&clerk)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let approver = format!("civgrid_session={}", app.login("approver").await);
    let (s, _, _) = page(&app, "/workbench/window", Some(&approver)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
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

pub(crate) fn form_post(uri: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::from(body.to_owned())).expect("request")
}

pub(crate) async fn send(app: &TestApp, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.router.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8"))
}

/// The section of a page between the element with `id` and the end of its section.
pub(crate) fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let s = &body[body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"))..];
    &s[..s.find("</section>").unwrap_or(s.len())]
}

async fn the_admin_workbench_reads_what_the_admin_api_manages(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.login("admin").await;
    let (s, v) = app
        .send_json(
            "PUT",
            "/api/v1/admin/calendar/2027-02-11",
            Some(&token),
            &serde_json::json!({"kind": "workday", "note": "春节调休"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let admin = format!("civgrid_session={token}");
    let (s, _, body) = page(&app, "/workbench/admin", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("<tr data-department=\"cgj\"><td>cgj</td><td>禅城区城市管理和综合执法局</td>"));
    assert!(body.contains("data-staff=\"approver_jtj\"") && body.contains("审批人员 @ 440604"));
    assert!(body.contains("data-class=\"0101\"") && body.contains("暴露垃圾") && body.contains("2 工作小时"));
    assert!(body.contains("data-day=\"2027-02-11\" data-kind=\"workday\"") && body.contains("春节调休"));
    assert!(body.contains("id=\"import-form\"") && body.contains("id=\"staff-form\""));
    let (_, _, en) = page(&app, "/workbench/admin", Some(&format!("{admin}; lang=en"))).await;
    assert!(
        en.contains("Working-day calendar") && en.contains("2 working hours") && en.contains("Make-up working day")
    );
    // Only administrators.
    for user in ["commander", "clerk", "approver"] {
        let cookie = format!("civgrid_session={}", app.login(user).await);
        let (s, _, _) = page(&app, "/workbench/admin", Some(&cookie)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}");
    }
}
both_backends!(the_admin_workbench_reads_what_the_admin_api_manages);

async fn base_map_tiles_are_offered_only_when_configured(b: Backend) {
    let app = TestApp::demo(b).await;
    let commander = format!("civgrid_session={}", app.login("commander").await);
    let worker = format!("civgrid_session={}", app.login("gridworker").await);
    // The map page, the command map and the report forms' small maps (portal, grid worker).
    let pages = [
        ("/", commander.as_str()),
        ("/workbench/command", commander.as_str()),
        ("/portal", ""),
        ("/workbench/grid", worker.as_str()),
    ];
    for (uri, cookie) in pages {
        let (s, _, body) = page(&app, uri, Some(cookie)).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(!body.contains("data-tiles"), "{uri}: no tiles by default");
    }
    let mut web = (*app.state.settings).clone();
    web.map_tile_url = Some("https://tiles.example.gov.cn/{z}/{x}/{y}.png".into());
    let state = app.state.with_settings(web);
    let router = civgrid::web::router(state);
    for (uri, cookie) in pages {
        let req = Request::get(uri).header(header::COOKIE, cookie).body(Body::empty()).expect("request");
        let resp = router.clone().oneshot(req).await.expect("response");
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        let body =
            String::from_utf8(resp.into_body().collect().await.expect("body").to_bytes().to_vec()).expect("UTF-8");
        assert!(body.contains("data-tiles=\"https:"), "{uri}");
        assert!(body.contains("tiles.example.gov.cn"), "{uri}");
        if uri == "/portal" || uri == "/workbench/grid" {
            let map = &body[body.find("id=\"pick-map\"").expect("the report form's map")..];
            assert!(map[..map.find('>').unwrap()].contains("data-tiles=\"https:"), "{uri}: on the small map");
        }
    }
}
both_backends!(base_map_tiles_are_offered_only_when_configured);

/// The commander's indicators as charts: an area's rates per month (or week) as lines, the
/// departments side by side as bars, each beside a table of the same numbers.
async fn indicator_trends_are_charts_with_their_tables(b: Backend) {
    let app = TestApp::demo(b).await;
    let now = chrono::Utc::now();
    civgrid::demo::seed_cases(&app.state.territory, &app.state.staff, &app.state.cases, 60, now)
        .await
        .expect("history");
    let commander = format!("civgrid_session={}", app.login("commander").await);
    let (s, _, body) = page(&app, "/workbench/trends", Some(&commander)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let chart = section(&body, "trend-title");
    assert!(chart.contains("<svg class=\"chart\" id=\"trend-chart\"") && chart.contains("role=\"img\""));
    assert!(chart.contains("aria-describedby=\"trend-table-caption\""), "the table is the chart's text");
    for series in ["closure", "on_time_closure", "handling"] {
        assert!(chart.contains(&format!("data-series=\"{series}\"")), "{series}");
    }
    assert!(chart.contains("<polyline points=\""), "some rate is drawn");
    assert!(chart.contains("<title>结案率 "), "each point says what it is");
    assert_eq!(chart.matches("<tr data-period=").count(), 12, "twelve months");
    // The table's counts are the indicators API's over the same span.
    let filed: i64 = chart
        .split("<tr data-period=")
        .skip(1)
        .map(|row| {
            let td = &row[row.find("<td>").unwrap() + 4..];
            td[..td.find("</td>").unwrap()].parse::<i64>().unwrap()
        })
        .sum();
    let first = &chart[chart.find("<tr data-period=\"").unwrap() + 17..];
    let first = &first[..7];
    let to = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let token = app.login("commander").await;
    let (s, v) = app.get_as(&format!("/api/v1/indicators?scope=area:440604&from={first}-01&to={to}"), &token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(filed, v["indicators"]["filed"].as_i64().unwrap(), "{v}");
    assert!(filed > 0, "the replayed history was filed");
    // The departments side by side, with their table.
    let depts = section(&body, "dept-chart-title");
    assert!(depts.contains("id=\"dept-chart\"") && depts.contains("<rect x="));
    assert!(depts.contains("<tr data-department=\"cgj\"><th scope=\"row\">禅城区城市管理和综合执法局</th>"));
    // The subdistricts (街道) side by side, each row the indicators API's for that area.
    let areas = section(&body, "area-chart-title");
    assert!(areas.contains("各街道指标对比") && areas.contains("id=\"area-chart\"") && areas.contains("<rect x="));
    assert!(areas.contains("aria-describedby=\"area-table-caption\""), "the table is the chart's text");
    assert_eq!(areas.matches("<tr data-area=").count(), 4, "the demo district's four subdistricts");
    let row = &areas[areas.find("<tr data-area=\"440604010\">").expect("祖庙街道")..];
    let filed: i64 = row[row.find("<td>").unwrap() + 4..row.find("</td>").unwrap()].parse().unwrap();
    let (_, v) = app.get_as(&format!("/api/v1/indicators?scope=area:440604010&from={first}-01&to={to}"), &token).await;
    assert_eq!(filed, v["indicators"]["filed"].as_i64().unwrap(), "{v}");
    let subdistrict_total: i64 = areas
        .split("<tr data-area=")
        .skip(1)
        .map(|row| row[row.find("<td>").unwrap() + 4..row.find("</td>").unwrap()].parse::<i64>().unwrap())
        .sum();
    assert!(subdistrict_total > 0);
    // By week, in English.
    let (s, _, body) =
        page(&app, "/workbench/trends?grain=week&area=440604", Some(&format!("{commander}; lang=en"))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(section(&body, "trend-title").matches("<tr data-period=").count(), 13, "thirteen weeks");
    assert!(
        body.contains("Closure, on-time closure and handling rates by week") && body.contains("<title>Closure rate ")
    );
    assert!(section(&body, "area-chart-title").contains("Subdistricts side by side"));
    // An area the reader's roles do not cover, and a role without the command centre.
    let (s, _, _) = page(&app, "/workbench/trends?area=110101", Some(&commander)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let handler = format!("civgrid_session={}", app.login("handler_cg").await);
    let (s, _, _) = page(&app, "/workbench/trends", Some(&handler)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The command centre links to it.
    let (_, _, body) = page(&app, "/workbench/command", Some(&commander)).await;
    assert!(body.contains("href=\"/workbench/trends\""));
}
both_backends!(indicator_trends_are_charts_with_their_tables);

/// The hrefs of a queue's paging links: (previous, next).
pub(crate) fn pager_links(queue: &str) -> (Option<String>, Option<String>) {
    let href = |rel: &str| {
        let at = queue.find(&format!("rel=\"{rel}\""))?;
        let before = &queue[..at];
        let start = before.rfind("href=\"")? + 6;
        Some(before[start..].split('"').next()?.replace("&amp;", "&").replace("&#38;", "&"))
    };
    (href("prev"), href("next"))
}

fn case_numbers(queue: &str) -> Vec<String> {
    queue.split("data-case-number=\"").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect()
}

/// Queues longer than a page: 50 at a time, oldest first, with next and previous links.
async fn queues_page_through_more_than_fifty_cases(b: Backend) {
    let app = TestApp::demo(b).await;
    let mut numbers = Vec::new();
    // Hotline calls are typed in by the intake operator (anonymous reports have a budget).
    let operator = app.login("intake").await;
    for i in 0..57 {
        let (s, v) = app
            .send_json(
                "POST",
                "/api/v1/reports",
                Some(&operator),
                &serde_json::json!({"description": format!("热线第{i}件：路灯不亮"), "channel": "hotline"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        numbers.push(v["case"]["number"].as_str().unwrap().to_owned());
    }
    let intake = format!("civgrid_session={}", app.login("intake").await);
    let (s, _, body) = page(&app, "/workbench/desk", Some(&intake)).await;
    assert_eq!(s, StatusCode::OK);
    let first = section(&body, "queue-received");
    let shown = case_numbers(first);
    assert_eq!(shown.len(), 50, "one page");
    assert_eq!(shown, numbers[..50], "oldest first");
    let (prev, next) = pager_links(first);
    assert_eq!(prev, None, "no page before the first");
    let next = next.expect("a next page");
    assert!(next.starts_with("/workbench/desk?queue=received&after="), "{next}");
    let (s, _, body) = page(&app, &next, Some(&intake)).await;
    assert_eq!(s, StatusCode::OK);
    let second = section(&body, "queue-received");
    assert_eq!(case_numbers(second), numbers[50..], "the rest");
    let (prev, next) = pager_links(second);
    assert_eq!(next, None, "the last page");
    let prev = prev.expect("a previous page");
    let (_, _, body) = page(&app, &prev, Some(&intake)).await;
    let back = section(&body, "queue-received");
    assert_eq!(case_numbers(back), numbers[..50], "the fifty before the last page's first");
    let (prev, next) = pager_links(back);
    assert!(prev.is_none() && next.is_some(), "the first page again: {prev:?} {next:?}");
    // The list of every case pages newest first, in English.
    let (_, _, body) = page(&app, "/workbench/cases", Some(&format!("{intake}; lang=en"))).await;
    let all = section(&body, "queue-all");
    assert_eq!(case_numbers(all).first(), numbers.last());
    assert!(all.contains("Next page"));
    let (_, next) = pager_links(all);
    let (_, _, body) = page(&app, &next.expect("next"), Some(&intake)).await;
    assert_eq!(case_numbers(section(&body, "queue-all")).last(), numbers.first());
}
both_backends!(queues_page_through_more_than_fifty_cases);

/// The administrator edits the case catalogue and the service item catalogue: the editor opens
/// filled with the current version, and what the script sends makes a new version the page lists.
async fn the_admin_workbench_edits_both_catalogues(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.login("admin").await;
    let admin = format!("civgrid_session={token}");
    let (s, _, body) = page(&app, "/workbench/admin?class=0101", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    let form = &body[body.find("id=\"class-form\"").expect("class form")..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains("data-editing=\"true\"") && form.contains("value=\"0101\" readonly"), "{form}");
    assert!(form.contains("name=\"time_limit\" type=\"number\" min=\"1\" step=\"1\" required value=\"2\""), "{form}");
    assert!(form.contains("<option value=\"working_hours\" selected>"), "{form}");
    assert!(body.contains("href=\"/workbench/admin?class=0101#class-form\""));
    // A new version through the API the form posts to; an invalid one is refused by its code.
    let (_, classes) = app.get("/api/v1/case-classes").await;
    let mut class = classes["classes"].as_array().unwrap().iter().find(|c| c["code"] == "0101").unwrap().clone();
    let obj = class.as_object_mut().unwrap();
    obj.remove("code");
    obj.remove("version");
    obj.insert("time_limit".into(), serde_json::json!(0));
    let (s, v) = app.send_json("PUT", "/api/v1/admin/case-classes/0101", Some(&token), &class).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")), "{v}");
    class["time_limit"] = serde_json::json!(3);
    let (s, v) = app.send_json("PUT", "/api/v1/admin/case-classes/0101", Some(&token), &class).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, body) = page(&app, "/workbench/admin", Some(&admin)).await;
    let row = &body[body.find("<tr data-class=\"0101\">").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("3 工作小时") && row.contains("<td>v2</td>"), "{row}");
    // The error the form shows, in each language.
    let (_, _, zh) = page(&app, "/workbench/admin", Some(&admin)).await;
    assert!(zh.contains("\"invalid_field\":\"填写的内容有误，请检查。\""));

    // Service items: listed, and the editor carries the whole definition.
    let item = service_item_code(&app, "最低生活保障申请").await;
    let (_, _, body) = page(&app, &format!("/workbench/admin?item={item}"), Some(&format!("{admin}; lang=en"))).await;
    assert!(body.contains(&format!("<tr data-item=\"{item}\">")) && body.contains("Service item catalogue"));
    let form = &body[body.find("id=\"item-form\"").expect("item form")..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains(&format!("data-code=\"{item}\"")) && form.contains("value=\"最低生活保障申请\""));
    assert!(
        form.contains("household_register") && (form.contains("&quot;steps&quot;") || form.contains("&#34;steps&#34;"))
    );
    let (_, v) = app.get(&format!("/api/v1/service-items/{item}")).await;
    let mut spec = v.clone();
    let obj = spec.as_object_mut().unwrap();
    for k in ["code", "version", "basic_code", "item_type_name", "created_at", "created_by"] {
        obj.remove(k);
    }
    obj.insert("promised_limit_days".into(), serde_json::json!(3));
    let (s, v) = app.send_json("POST", "/api/v1/admin/service-items", Some(&token), &spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["code"].as_str(), Some(item.as_str()), "the same item, a new version");
    let (_, _, body) = page(&app, "/workbench/admin", Some(&admin)).await;
    let row = &body[body.find(&format!("<tr data-item=\"{item}\">")).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("/ 3 工作日") && row.contains("<td>v2</td>"), "{row}");
    // A new item's editor starts from a complete definition.
    assert!(body.contains("&quot;item_type&quot;") || body.contains("&#34;item_type&#34;"));
}
both_backends!(the_admin_workbench_edits_both_catalogues);

/// A 24-hour self-service terminal: big buttons without sign-in; the portal's pages then lead
/// back to the kiosk's start instead of offering the staff sign-in.
async fn the_kiosk_is_a_big_button_portal_without_sign_in(b: Backend) {
    let app = TestApp::demo(b).await;
    let (s, h, body) = page(&app, "/kiosk", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h[header::SET_COOKIE].to_str().unwrap().starts_with("kiosk=1;"));
    assert!(body.contains("class=\" kiosk\"") && body.contains("data-kiosk=\"true\""), "{body}");
    for go in ["report", "track", "apply", "application", "verify"] {
        assert!(body.contains(&format!("data-kiosk-go=\"{go}\"")), "{go}");
    }
    assert!(!body.contains("href=\"/login\""), "no staff sign-in on a kiosk");
    for uri in ["/portal", "/portal/track", "/portal/services", "/portal/application"] {
        let (s, _, body) = page(&app, uri, Some("kiosk=1")).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        assert!(body.contains("data-kiosk=\"true\"") && body.contains("<a href=\"/kiosk\""), "{uri}");
        assert!(!body.contains("href=\"/login\""), "{uri}");
        // Without the cookie the portal is the ordinary one.
        let (_, _, body) = page(&app, uri, None).await;
        assert!(!body.contains("data-kiosk") && body.contains("href=\"/login\""), "{uri}");
    }
    let (_, _, en) = page(&app, "/kiosk", Some("lang=en")).await;
    assert!(en.contains("24-hour self-service") && en.contains("Report a problem"));
    let (s, h, _) = page(&app, "/kiosk/exit", Some("kiosk=1")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h[header::SET_COOKIE].to_str().unwrap().starts_with("kiosk=;"));
}
both_backends!(the_kiosk_is_a_big_button_portal_without_sign_in);

/// The command map's data: every live case with a place the reader may see, compact; closed
/// ones and other departments' are not in it.
async fn the_map_reads_the_live_cases_compactly(b: Backend) {
    let app = TestApp::demo(b).await;
    civgrid::demo::seed_cases(&app.state.territory, &app.state.staff, &app.state.cases, 40, chrono::Utc::now())
        .await
        .expect("history");
    let commander = app.login("commander").await;
    let (s, v) = app.get_as("/api/v1/map/cases", &commander).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    // Rows back into objects, as the map does.
    let cases: Vec<Value> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r = r.as_array().unwrap();
            assert_eq!(r.len(), fields.len());
            Value::Object(fields.iter().zip(r).map(|(f, x)| (f.to_string(), x.clone())).collect())
        })
        .collect();
    let (_, all) = app.get_as("/api/v1/cases?limit=500", &commander).await;
    let live: Vec<i64> = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !["closed", "refused", "merged"].contains(&c["state"].as_str().unwrap()) && !c["lng"].is_null())
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(!live.is_empty());
    assert_eq!(cases.iter().map(|c| c["id"].as_i64().unwrap()).collect::<Vec<_>>(), live, "newest first, live only");
    assert!(!fields.iter().any(|k| *k == "description" || *k == "reporter_contact"), "{fields:?}");
    for k in ["id", "number", "state", "lng", "lat", "grid_code", "class_code", "supervised", "updated_at"] {
        assert!(fields.contains(&k), "{k}");
    }
    // The same values as the full case list, types and all.
    let full = all["cases"].as_array().unwrap().iter().find(|c| c["id"] == cases[0]["id"]).unwrap();
    for k in ["number", "state", "grid_code", "class_code", "handle_deadline", "supervised", "created_at", "updated_at"]
    {
        assert_eq!(cases[0][k], full[k], "{k}");
    }
    for k in ["lng", "lat"] {
        assert!((cases[0][k].as_f64().unwrap() - full[k].as_f64().unwrap()).abs() < 1e-9, "{k}");
    }
    let (_, v) = app.get_as("/api/v1/map/cases?limit=2", &commander).await;
    assert_eq!(v["cases"].as_array().unwrap().len(), 2);
    // Someone who sees no case gets an empty list, not an error.
    let (s, v) = app.get_as("/api/v1/map/cases", &app.login("witness").await).await;
    assert_eq!((s, v["cases"].clone()), (StatusCode::OK, json!([])), "{v}");
    // A handler sees only the department's cases; a stranger nothing.
    let handler = app.login("handler_cg").await;
    let (_, v) = app.get_as("/api/v1/map/cases", &handler).await;
    let mine = v["cases"].as_array().unwrap();
    assert!(!mine.is_empty() && mine.len() < cases.len(), "{} of {}", mine.len(), cases.len());
    for c in mine {
        let (_, one) = app.get_as(&format!("/api/v1/cases/{}", c[0]), &handler).await;
        assert!(one["departments"].to_string().contains("cgj"), "{one}");
    }
    let (s, _) = app.get("/api/v1/map/cases").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
both_backends!(the_map_reads_the_live_cases_compactly);

/// The portal offers the reporter the rating of a closed case (评价), says why a case reported
/// without a contact cannot be rated online, and thanks once rated; the callback queue drops it.
async fn the_portal_offers_the_reporter_the_rating_of_a_closed_case(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, number) = crate::cases::closed_case(&app, Some("13800001234")).await;
    let (s, _, body) = page(&app, &format!("/portal/track?number={number}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let form = &body[body.find("id=\"case-rate-form\"").expect("the rating form")..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains(&format!("data-number=\"{number}\"")));
    for field in ["cr-rating", "cr-comment", "cr-contact"] {
        assert!(form.contains(&format!("<label for=\"{field}\"")), "{field} is labelled");
    }
    assert!(form.contains("上报时留下的联系方式") && form.contains("非常满意"));
    assert!(!body.contains("13800001234"), "the contact is never shown");
    let (_, _, en) = page(&app, &format!("/portal/track?number={number}"), Some("lang=en")).await;
    assert!(en.contains("Rate how it was handled") && en.contains("Contact left with the report"));
    // The callback operator sees it in the callback queue until it is rated.
    let intake = format!("civgrid_session={}", app.login("intake").await);
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&intake)).await;
    assert!(section(&desk, "queue-callback").contains(&format!("data-case-number=\"{number}\"")));

    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/public/cases/{number}/rating"),
            None,
            &serde_json::json!({"rating": 5, "contact": "13800001234"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, _, body) = page(&app, &format!("/portal/track?number={number}"), None).await;
    assert!(!body.contains("id=\"case-rate-form\"") && body.contains("id=\"case-rated\""));
    assert!(body.contains("已评价"));
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&intake)).await;
    assert!(!section(&desk, "queue-callback").contains(&format!("data-case-number=\"{number}\"")));

    // Reported without a contact: the page says the callback operator will call.
    let (_, silent) = crate::cases::closed_case(&app, None).await;
    let (_, _, body) = page(&app, &format!("/portal/track?number={silent}"), None).await;
    assert!(!body.contains("id=\"case-rate-form\"") && body.contains("id=\"case-rate-callback\""));
    assert!(body.contains("回访员会电话回访"));
    // An open case offers nothing to rate.
    let (x, y) = crate::cases::inside(&app, "44060401000101").await;
    let (_, v) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &serde_json::json!({"description": "垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
                "reporter_contact": "13800001234"}),
        )
        .await;
    let (s, _, body) =
        page(&app, &format!("/portal/track?number={}", v["case"]["number"].as_str().unwrap()), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!body.contains("case-rate"), "nothing to rate while open");
}
both_backends!(the_portal_offers_the_reporter_the_rating_of_a_closed_case);

/// Two reports of one class a few metres apart: the desk shows the earlier as the later one's
/// likely duplicate, with a one-click merge for the intake operator (the shift leader sees the
/// suggestion without the button), and the merge it sends goes through.
async fn the_desk_suggests_likely_duplicates_with_a_one_click_merge(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = crate::cases::inside(&app, "44060401000101").await;
    let mut cases = Vec::new();
    for (dx, words) in [(0.0, "路口有一堆垃圾"), (0.00003, "路口垃圾没人清"), (0.00005, "又看到那堆垃圾")]
    {
        let (s, v) = app
            .send_json(
                "POST",
                "/api/v1/reports",
                None,
                &serde_json::json!({"description": words, "class_code": "0101", "lng": x + dx, "lat": y, "datum": "gcj02"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        cases.push((v["case"]["id"].as_i64().unwrap(), v["case"]["number"].as_str().unwrap().to_owned()));
    }
    let [(first, first_no), (second, second_no), (third, third_no)] =
        [&cases[0], &cases[1], &cases[2]].map(Clone::clone);
    let intake_token = app.login("intake").await;
    let (s, _) = app
        .send_json(
            "POST",
            &format!("/api/v1/cases/{third}/transitions"),
            Some(&intake_token),
            &serde_json::json!({"action": "accept"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let card = |body: &str, number: &str| -> String {
        let s =
            &body[body.find(&format!("data-case-number=\"{number}\"")).unwrap_or_else(|| panic!("no card {number}"))..];
        s[..s.find("</article>").unwrap()].to_owned()
    };
    let intake = format!("civgrid_session={intake_token}");
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&intake)).await;
    let later = card(section(&desk, "queue-received"), &second_no);
    assert!(later.contains(&format!("data-duplicate-of=\"{first_no}\"")), "{later}");
    assert!(later.contains("疑似重复") && later.contains("相距 3 m"), "{later}");
    assert!(
        later.contains(&format!("name=\"duplicate_of\" value=\"{first}\""))
            && later.contains(&format!("合并到 {first_no}")),
        "one click merges it into the earlier case: {later}"
    );
    let earlier = card(section(&desk, "queue-received"), &first_no);
    assert!(!earlier.contains(&format!("data-duplicate-of=\"{second_no}\"")), "only earlier cases are suggested");
    // The shift leader sees the suggestions of the case to file, without a merge button.
    let leader = format!("civgrid_session={}", app.login("shift_leader").await);
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&leader)).await;
    let to_file = card(section(&desk, "queue-accepted"), &third_no);
    assert!(to_file.contains(&format!("data-duplicate-of=\"{first_no}\"")));
    assert!(to_file.contains(&format!("data-duplicate-of=\"{second_no}\"")));
    assert!(!to_file.contains("data-action=\"merge\""), "{to_file}");
    let (_, _, en) = page(&app, "/workbench/desk", Some(&format!("{leader}; lang=en"))).await;
    assert!(en.contains("Likely duplicates"));

    // The merge the button sends.
    let (s, v) = app
        .send_json(
            "POST",
            &format!("/api/v1/cases/{second}/transitions"),
            Some(&intake_token),
            &serde_json::json!({"action": "merge", "duplicate_of": first}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["state"].as_str(), v["duplicate_of"].as_i64()), (Some("merged"), Some(first)));
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&intake)).await;
    assert!(!section(&desk, "queue-received").contains(&format!("data-case-number=\"{second_no}\"")));
    // A merged case is no longer anyone's likely duplicate.
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&leader)).await;
    assert!(!card(section(&desk, "queue-accepted"), &third_no).contains(&format!("data-duplicate-of=\"{second_no}\"")));
}
both_backends!(the_desk_suggests_likely_duplicates_with_a_one_click_merge);

/// Two reports of one class a few metres apart on either side of a subdistrict boundary: a
/// district-wide shift leader is shown the earlier as the later one's likely duplicate; one
/// scoped to the later case's subdistrict is not told of a case outside it.
async fn the_desk_suggests_only_duplicates_in_the_readers_area(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = crate::cases::inside(&app, "44060401000101").await;
    let subdistrict_at = |v: &serde_json::Value| v["grid"]["code"].as_str().map(|g| g[..9].to_owned());
    // Walk out of the grid's subdistrict (440604010) in steps of about 4 m until the next
    // step lies in another subdistrict of the district.
    let mut pair = None;
    'walk: for (dx, dy) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
        let mut last = (x, y);
        for i in 1..4000 {
            let at = (x + dx * 0.00004 * f64::from(i), y + dy * 0.00004 * f64::from(i));
            let (_, v) = app.get(&format!("/api/v1/locate?lng={}&lat={}&datum=gcj02", at.0, at.1)).await;
            match subdistrict_at(&v).as_deref() {
                Some("440604010") => last = at,
                Some(_) => {
                    pair = Some((last, at));
                    break 'walk;
                }
                None => continue 'walk,
            }
        }
    }
    let (inside_point, across) = pair.expect("440604010 borders another subdistrict");
    let mut numbers = Vec::new();
    for (at, words) in [(across, "桥头一堆垃圾"), (inside_point, "桥头垃圾没人清")] {
        let (s, v) = app
            .send_json(
                "POST",
                "/api/v1/reports",
                None,
                &serde_json::json!({"description": words, "class_code": "0101", "lng": at.0, "lat": at.1, "datum": "gcj02"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        numbers.push((v["case"]["id"].as_i64().unwrap(), v["case"]["number"].as_str().unwrap().to_owned()));
    }
    let [(_, across_no), (later, later_no)] = [&numbers[0], &numbers[1]].map(Clone::clone);
    let (s, _) = app
        .send_json(
            "POST",
            &format!("/api/v1/cases/{later}/transitions"),
            Some(&app.login("intake").await),
            &serde_json::json!({"action": "accept"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.create_staff(
        &serde_json::json!({"username": "zumiao_leader", "display_name": "祖庙值班长",
            "department_code": "zhzx", "roles": [{"role": "shift_leader", "area_code": "440604010"}]}),
        "Long-enough-pw1",
    )
    .await;

    let card = |body: &str| -> String {
        let s = &body[body.find(&format!("data-case-number=\"{later_no}\"")).expect("the later case's card")..];
        s[..s.find("</article>").unwrap()].to_owned()
    };
    let district = format!("civgrid_session={}", app.login("shift_leader").await);
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&district)).await;
    let seen = card(section(&desk, "queue-accepted"));
    assert!(seen.contains(&format!("data-duplicate-of=\"{across_no}\"")), "{seen}");
    let scoped = format!("civgrid_session={}", app.login_with("zumiao_leader", "Long-enough-pw1").await);
    let (_, _, desk) = page(&app, "/workbench/desk", Some(&scoped)).await;
    let seen = card(section(&desk, "queue-accepted"));
    assert!(!seen.contains("data-duplicate-of"), "a case outside the reader's subdistrict is not suggested: {seen}");
}
both_backends!(the_desk_suggests_only_duplicates_in_the_readers_area);

/// The admin workbench offers each account's editor filled with its name, department, roles
/// and grids, labelled for keyboard and screen reader.
async fn the_admin_workbench_edits_staff_accounts(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, me) = app.get_as("/api/v1/auth/me", &app.login("gridworker").await).await;
    let id = me["staff_id"].as_i64().unwrap();
    let admin = format!("civgrid_session={}", app.login("admin").await);
    let (s, _, body) = page(&app, "/workbench/admin", Some(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    let form = &body[body.find(&format!("<form class=\"staff-edit\" data-id=\"{id}\"")).expect("the editor")..];
    let form = &form[..form.find("</form>").unwrap()];
    // The system admin's editor: the organisation's fields, no roles or password (三权分立).
    for field in ["name", "dept", "grids", "kind"] {
        assert!(form.contains(&format!("<label for=\"se-{id}-{field}\"")), "{field} is labelled");
    }
    assert!(!form.contains("name=\"grant\"") && !form.contains("name=\"password\""), "{form}");
    assert!(form.contains("value=\"祖庙第01社区网格员\""), "{form}");
    assert!(form.contains(">44060401000101</textarea>"), "{form}");
    // The security admin's: the roles kept or added, a one-time password, nothing else.
    let security = format!("civgrid_session={}", app.login("security_admin").await);
    let (s, _, body) = page(&app, "/workbench/admin", Some(&security)).await;
    assert_eq!(s, StatusCode::OK);
    let sform = &body[body.find(&format!("<form class=\"staff-edit\" data-id=\"{id}\"")).expect("the editor")..];
    let sform = &sform[..sform.find("</form>").unwrap()];
    for field in ["role", "area", "password"] {
        assert!(sform.contains(&format!("<label for=\"se-{id}-{field}\"")), "{field} is labelled");
    }
    assert!(sform.contains("name=\"grant\" value=\"grid_worker@440604010001\" checked"), "{sform}");
    assert!(!sform.contains("name=\"grids\""), "{sform}");
    assert!(!body.contains("id=\"import-form\""), "the security admin has no territory tools");
    let (_, _, en) = page(&app, "/workbench/admin", Some(&format!("{admin}; lang=en"))).await;
    assert!(en.contains("Grids worked in"));
    let (_, _, en) = page(&app, "/workbench/admin", Some(&format!("{security}; lang=en"))).await;
    assert!(en.contains("Roles kept (untick to withdraw)"));

    // A grid of the other kind than most carries its kind on its line, so saving the form as
    // it stands keeps every grid's kind.
    let token = admin.trim_start_matches("civgrid_session=");
    let grids = serde_json::json!({"grids": [{"code": "44060401000101", "kind": "full_time"},
        {"code": "44060401000102", "kind": "part_time"}]});
    let (s, v) = app.send_json("PATCH", &format!("/api/v1/admin/staff/{id}"), Some(token), &grids).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for (lang, line) in [("zh", "44060401000102 兼职"), ("en", "44060401000102 Part-time")] {
        let (_, _, body) = page(&app, "/workbench/admin", Some(&format!("{admin}; lang={lang}"))).await;
        let form = &body[body.find(&format!("<form class=\"staff-edit\" data-id=\"{id}\"")).unwrap()..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains(&format!(">44060401000101\n{line}</textarea>")), "{form}");
        assert!(form.contains("<option value=\"full_time\" selected>"), "{form}");
    }
}
both_backends!(the_admin_workbench_edits_staff_accounts);
