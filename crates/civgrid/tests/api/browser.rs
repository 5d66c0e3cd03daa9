//! The case loop walked in real headless Chromium, as the people who use civgrid walk it: a grid
//! worker reports on the phone page, the intake operator accepts, the shift leader files, the
//! dispatcher dispatches, the handler takes it and gives feedback, the grid worker verifies,
//! the shift leader closes — and the commander, watching the one map in a second browser the
//! whole time, sees the case turn closed without reloading. The citizen then follows it by
//! number. Screenshots of the main pages go to target/screenshots/.

use std::net::SocketAddr;

use civgrid_geo::Datum;
use geo::InteriorPoint;
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::webdriver::{Driver, Session};

/// Serves the app on a free local port, as `civgrid serve` does; returns its base URL.
async fn serve(app: &TestApp) -> String {
    serve_router(app.router.clone()).await
}

async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    format!("http://{addr}")
}

/// A point inside a grid (GCJ-02).
async fn inside(app: &TestApp, grid: &str) -> (f64, f64) {
    let (_, g) = app.get(&format!("/api/v1/grids/{grid}")).await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = shape.interior_point().expect("point");
    (p.x(), p.y())
}

async fn sign_in(s: &Session, base: &str, username: &str, lands_on: &str) {
    s.goto(&format!("{base}/login")).await;
    s.type_into("#username", username).await;
    s.type_into("#password", civgrid::demo::DEMO_PASSWORD).await;
    s.click("#login-form button[type=submit]").await;
    s.at(lands_on).await;
}

/// The code of the demo service item called `name`.
async fn item_code_of(app: &TestApp, name: &str) -> String {
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

async fn sign_out(s: &Session) {
    s.click("#logout").await;
    s.at("/login").await;
}

/// Takes `action` on the case numbered `number` from its card, and waits for the page to say
/// the case now stands in `state_label`.
async fn act(s: &Session, number: &str, action: &str, note: Option<&str>, state_label: &str) {
    let card = format!("[data-case-number=\"{number}\"]");
    // Actions with something to fill in are folded away until opened.
    let summary = format!("{card} summary[data-open=\"{action}\"]");
    let closed = "const m = document.querySelector(arguments[0]); return m !== null && !m.parentElement.open;";
    if s.js(closed, json!([summary])).await == true {
        s.click(&summary).await;
    }
    if let Some(note) = note {
        s.type_into(&format!("{card} form[data-action=\"{action}\"] textarea[name=note]"), note).await;
    }
    s.click(&format!("{card} form[data-action=\"{action}\"] button[type=submit]")).await;
    s.until(
        &format!("{action} on {number} to show {state_label}"),
        "const f = document.getElementById('flash'); \
         return f !== null && f.textContent.includes(arguments[0]) && f.textContent.includes(arguments[1]);",
        json!([number, state_label]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_loop_walks_in_a_real_browser() {
    let app = TestApp::demo(Backend::Sqlite).await;
    let base = serve(&app).await;
    let driver = Driver::start().await;
    let (x, y) = inside(&app, "44060401000101").await;

    // The grid worker, on a phone-sized screen, reports with a tap on the map, then corrects
    // the point by typing coordinates.
    let staff = driver.session(390, 844).await;
    // A wrong password is refused, and the page says so in Chinese (the code mapped, not the
    // server's English message).
    staff.goto(&format!("{base}/login")).await;
    staff.type_into("#username", "gridworker").await;
    staff.type_into("#password", "not-the-password").await;
    staff.click("#login-form button[type=submit]").await;
    assert_eq!(staff.text("#login-form [data-error]").await, "用户名或密码不正确。");
    // A real image to attach as the report's photo: the browser's own screenshot.
    let photo_dir = tempfile::tempdir().expect("photo dir");
    let photo = photo_dir.path().join("scene.png");
    std::fs::write(&photo, staff.screenshot("login-refused").await).expect("photo");
    sign_in(&staff, &base, "gridworker", "/workbench/grid").await;
    staff.find("#pick-map path[data-grid=\"44060401000101\"].mine").await;
    // The map opens on the worker's own grid; a tap in its middle finds that grid.
    staff.js("document.getElementById('pick-map').scrollIntoView({block: 'center'}); return true;", json!([])).await;
    staff.click("#pick-map").await;
    staff.until("the tapped point", "return document.getElementById('r-lng').value", json!([])).await;
    let located = staff.text("#r-located").await;
    staff.screenshot("grid-worker-tap").await;
    assert!(located.ends_with("44060401000101"), "{located}");
    staff.click("#r-class option[value=\"0101\"]").await;
    staff.type_into("#r-desc", "浏览器测试：小区门口有一堆暴露垃圾").await;
    staff.type_into("#r-lng", &format!("{x:.7}")).await;
    staff.type_into("#r-lat", &format!("{y:.7}")).await;
    staff.click("#r-datum option[value=\"gcj02\"]").await;
    staff.send_file("#r-photos", &photo).await;
    staff.screenshot("grid-worker-report").await;
    staff.click("#report-form button[type=submit]").await;
    let number = staff.text("#report-number").await;
    assert!(number.len() >= 8, "a case number: {number}");
    assert_eq!(staff.text("#report-photos").await, "1 张照片已上传");
    staff.js("document.getElementById('report-result').scrollIntoView(); return true;", json!([])).await;
    staff.screenshot("grid-worker-reported").await;
    sign_out(&staff).await;
    staff.resize(1280, 900).await;

    // The commander opens the one map in a browser of their own and keeps it open; they sign
    // in with the keyboard alone (Enter in the password field submits).
    let commander = driver.session(1440, 900).await;
    commander.goto(&format!("{base}/login")).await;
    commander.type_into("#username", "commander").await;
    commander.type_into("#password", &format!("{}\u{E007}", civgrid::demo::DEMO_PASSWORD)).await;
    commander.at("/workbench/command").await;
    let marker = format!("#command-map circle[data-case-number=\"{number}\"]");
    commander.find(&format!("{marker}[data-state=\"received\"]")).await;
    commander.until("the live stream", "return document.getElementById('live').dataset.live === 'on'", json!([])).await;
    commander.js("window.__sameDocument = true; return true;", json!([])).await;
    // Zooming changes the view; clicking the case shows its grid, workers and cases, and the
    // commander supervises it (督办) with one click and a note.
    let whole = commander.js("return document.getElementById('command-map').getAttribute('viewBox')", json!([])).await;
    commander.click(".map-tools button:first-child").await;
    let zoomed = commander.js("return document.getElementById('command-map').getAttribute('viewBox')", json!([])).await;
    assert_ne!(whole, zoomed, "zoomed in");
    commander.click(".map-tools button:last-child").await;
    commander.click(&marker).await;
    let entry = format!("#grid-detail li[data-case-number=\"{number}\"]");
    assert!(commander.text("#grid-detail h3").await.ends_with("44060401000101"));
    assert!(commander.text("#grid-detail p").await.contains("祖庙第01社区网格员"), "the grid's workers");
    commander.type_into(&format!("{entry} input[name=note]"), "请尽快处置").await;
    commander.click(&format!("{entry} button[type=submit]")).await;
    commander
        .until(
            "the supervision",
            "const e = document.querySelector(arguments[0]); return e !== null && e.textContent.includes('已督办')",
            json!([entry]),
        )
        .await;
    let (_, v) = app.get_as("/api/v1/cases?state=received", &app.login("commander").await).await;
    assert_eq!(v["cases"][0]["supervised"], true, "supervised through the API: {v}");
    // The map draws the district, subdistrict and community boundaries over the grids; heat by
    // class colours the grid holding the open 暴露垃圾 case, and no grid for another class.
    for level in ["district", "subdistrict", "community"] {
        commander.find(&format!("#command-map path.bound[data-bound=\"{level}\"]")).await;
    }
    commander.click("#heat-class option[value=\"0101\"]").await;
    commander.find("#command-map.heat-on path[data-grid=\"44060401000101\"][data-heat].heat1").await;
    assert!(commander.text("#heat-total").await.contains("1 / 1"));
    commander.screenshot("command-heat").await;
    commander.click("#heat-class option[value=\"0701\"]").await;
    commander
        .until(
            "no heat for 0701",
            "return document.querySelectorAll('#command-map path[data-heat]').length === 0",
            json!([]),
        )
        .await;
    commander.click("#heat-class option[value=\"\"]").await;
    commander
        .until("heat off", "return !document.getElementById('command-map').classList.contains('heat-on')", json!([]))
        .await;

    sign_in(&staff, &base, "intake", "/workbench/desk").await;
    staff.screenshot("desk-intake").await;
    act(&staff, &number, "accept", None, "待立案").await;
    sign_out(&staff).await;

    sign_in(&staff, &base, "shift_leader", "/workbench/desk").await;
    act(&staff, &number, "file", None, "待派遣").await;
    sign_out(&staff).await;

    sign_in(&staff, &base, "dispatcher", "/workbench/desk").await;
    let dept = staff
        .js(
            "return document.querySelector(`[data-case-number=\"${arguments[0]}\"] select[name=lead_department]`).value",
            json!([number]),
        )
        .await;
    assert_eq!(dept, "cgj", "dispatch defaults to the class's department");
    staff.screenshot("desk-dispatcher").await;
    act(&staff, &number, "dispatch", None, "待处置").await;
    sign_out(&staff).await;

    sign_in(&staff, &base, "handler_cg", "/workbench/handler").await;
    // The handler sees the grid worker's photo.
    staff.click(&format!("[data-case-number=\"{number}\"] details[data-photos] summary")).await;
    staff
        .until(
            "the photo to show",
            "const i = document.querySelector(`[data-case-number=\"${arguments[0]}\"] .photo-list img`); \
             return i !== null && i.complete && i.naturalWidth > 0;",
            json!([number]),
        )
        .await;
    act(&staff, &number, "take", None, "处置中").await;
    // Feedback without the required note: the API refuses it and the page says why, in Chinese.
    let card = format!("[data-case-number=\"{number}\"]");
    staff.click(&format!("{card} summary[data-open=\"feedback\"]")).await;
    staff.click(&format!("{card} form[data-action=\"feedback\"] button[type=submit]")).await;
    let refusal = staff.text(&format!("{card} form[data-action=\"feedback\"] [data-error]")).await;
    assert_eq!(refusal, "请填写说明（原因）。");
    staff.type_into(&format!("{card} form[data-action=\"feedback\"] textarea[name=note]"), "已清运完毕").await;
    staff.screenshot("handler").await;
    staff.click(&format!("{card} form[data-action=\"feedback\"] button[type=submit]")).await;
    staff
        .until(
            "feedback to show 待核查",
            "const f = document.getElementById('flash'); return f && f.textContent.includes(arguments[0]) && f.textContent.includes('待核查');",
            json!([number]),
        )
        .await;
    sign_out(&staff).await;

    sign_in(&staff, &base, "gridworker", "/workbench/grid").await;
    act(&staff, &number, "pass", None, "待结案").await;
    sign_out(&staff).await;

    sign_in(&staff, &base, "shift_leader", "/workbench/desk").await;
    act(&staff, &number, "close", None, "已结案").await;
    sign_out(&staff).await;

    // The callback (回访): the intake operator records the reporter's satisfaction.
    sign_in(&staff, &base, "intake", "/workbench/desk").await;
    staff.click(&format!("[data-case-number=\"{number}\"] summary[data-open=\"rate\"]")).await;
    staff.click(&format!("[data-case-number=\"{number}\"] select[name=rating] option[value=\"4\"]")).await;
    act(&staff, &number, "rate", None, "已结案").await;
    let (_, v) = app.get_as("/api/v1/cases?state=closed", &app.login("intake").await).await;
    assert_eq!(v["cases"][0]["rating"], 4, "{v}");
    sign_out(&staff).await;

    // The commander saw it close live: the marker changed state in the same document.
    commander.find(&format!("{marker}[data-state=\"closed\"]")).await;
    commander.find(&format!("#changes li[data-case-number=\"{number}\"][data-state=\"closed\"]")).await;
    commander
        .until(
            "the grid panel to follow",
            "const e = document.querySelector(arguments[0]); return e !== null && e.textContent.includes('已结案')",
            json!([entry]),
        )
        .await;
    // Indicators are read again after changes: urban management closed its one case on time.
    commander
        .until(
            "the department's indicators",
            "return document.querySelector('#dept-bars li[data-department=\"cgj\"] .bar-value').textContent === '100.0%（1/1）'",
            json!([]),
        )
        .await;
    assert_eq!(commander.js("return window.__sameDocument === true", json!([])).await, true, "no reload");
    commander.screenshot("command-centre").await;
    commander.close().await;

    // A citizen reports on the portal without signing in, and is given a number to follow.
    staff.goto(&format!("{base}/portal")).await;
    staff.find("#pick-map path").await;
    staff.screenshot("portal").await;
    staff.click("#r-class option[value=\"0401\"]").await;
    staff.type_into("#r-desc", "门口有人占道经营").await;
    staff.type_into("#r-lng", &format!("{x:.7}")).await;
    staff.type_into("#r-lat", &format!("{y:.7}")).await;
    staff.click("#r-datum option[value=\"gcj02\"]").await;
    staff.send_file("#r-photos", &photo).await;
    staff.click("#report-form button[type=submit]").await;
    let citizens = staff.text("#report-number").await;
    assert_ne!(citizens, number);
    // The photo went with the key the report's answer gave the citizen's browser.
    assert_eq!(staff.text("#report-photos").await, "1 张照片已上传");
    staff.click("#report-follow").await;
    staff.at("/portal/track").await;
    staff.find(&format!("#tracked[data-case-number=\"{citizens}\"][data-state=\"received\"]")).await;

    // The citizen follows the first case by number, then reads it in English.
    staff.goto(&format!("{base}/portal")).await;
    staff.type_into("#t-number", &number).await;
    staff.click("#t-number ~ button[type=submit]").await;
    staff.at("/portal/track").await;
    staff.find(&format!("#tracked[data-case-number=\"{number}\"][data-state=\"closed\"]")).await;
    staff.click("#lang-toggle").await;
    staff.until("English", "return document.documentElement.lang === 'en'", json!([])).await;
    let state = staff.text("#tracked .badge").await;
    assert_eq!(state, "Closed");
    staff.screenshot("portal-track-en").await;

    // The public map answers where a point is (in English now: the choice persists).
    staff.goto(&format!("{base}/")).await;
    staff.find("#grid-map path").await;
    staff.type_into("#m-lng", &format!("{x:.7}")).await;
    staff.type_into("#m-lat", &format!("{y:.7}")).await;
    staff.click("#map-locate button[type=submit]").await;
    let grid = staff.text("#map-result dd").await;
    assert!(grid.ends_with("44060401000101"), "{grid}");
    staff.find("#grid-map path.hit[data-grid=\"44060401000101\"]").await;
    staff.screenshot("map-en").await;

    // A citizen who left a phone number rates their closed case (评价) on the portal: a wrong
    // number is refused in their language, the right one records the rating.
    let (rated, rated_no) = crate::cases::closed_case(&app, Some("13800001234")).await;
    staff.goto(&format!("{base}/portal/track?number={rated_no}")).await;
    staff.click("#cr-rating option[value=\"4\"]").await;
    staff.type_into("#cr-comment", "清理及时").await;
    staff.type_into("#cr-contact", "13900009999").await;
    staff.click("#case-rate-form button[type=submit]").await;
    staff
        .until(
            "the wrong contact refused",
            "return document.querySelector('#case-rate-form [data-error]').textContent === arguments[0]",
            json!(["That is not the contact left with the report."]),
        )
        .await;
    staff.type_into("#cr-contact", "13800001234").await;
    staff.click("#case-rate-form button[type=submit]").await;
    staff
        .until(
            "the rating recorded",
            "return document.querySelector('#case-rate-form [data-done]').textContent !== ''",
            json!([]),
        )
        .await;
    staff.screenshot("portal-case-rated-en").await;
    let (_, case) = app.get_as(&format!("/api/v1/cases/{rated}"), &app.login("commander").await).await;
    assert_eq!(case["rating"], 4, "{case}");
    staff.close().await;
}

/// Marks every criterion of the task for `number` met (or the one named not met) and presses
/// `decision`.
async fn decide(s: &Session, number: &str, criteria: &[(&str, bool)], decision: &str) {
    let task = format!("[data-task=\"{number}\"]");
    for (code, met) in criteria {
        let value = if *met { "yes" } else { "no" };
        s.click(&format!("{task} input[name=\"met-{code}\"][value=\"{value}\"]")).await;
    }
    s.click(&format!("{task} button[value=\"{decision}\"]")).await;
}

/// The one-window services loop in headless Chromium: the window clerk accepts a ride-hailing
/// driver's application — first told at once what is missing (the printable notice), then
/// with the files, the no-criminal-record proof taken from the e-licence library by itself —;
/// 交通 and 公安 approve it in parallel against their own checklists (a "not met" without a
/// finding is refused, in Chinese); the applicant follows it on the portal, rates it, and
/// applies online for another item, attaching the ID card again: online, nothing the platform
/// holds is reused, since knowing an ID number proves nothing (issue 14).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_loop_walks_in_a_real_browser() {
    let app = TestApp::demo(Backend::Sqlite).await;
    civgrid::demo::ledger::seed_certificates(&app.state.certificates).await.expect("certificates");
    let base = serve(&app).await;
    let driver = Driver::start().await;
    let id = civgrid::identity::ResidentId::complete("44060419950312042").expect("id").as_str().to_owned();
    let files = tempfile::tempdir().expect("files");
    let pdf = files.path().join("scan.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .expect("pdf");

    let s = driver.session(1280, 900).await;
    sign_in(&s, &base, "clerk", "/workbench/window").await;
    s.click("#item-select option[value^=\"XK00701000\"]").await;
    s.find("#apply-form[data-item^=\"XK00701000\"]").await;
    s.type_into("#a-id", &id).await;
    s.type_into("#a-name", "陈嘉怡").await;
    // Once the number is typed, the library shows what the government already holds.
    let held = s.text("[data-material=\"no_criminal_record\"] [data-reuse]").await;
    assert!(held.contains("电子证照库已有"), "{held}");
    // Nothing attached: one notice lists everything still missing, and nothing is accepted.
    s.click("#apply-form button[type=submit]").await;
    s.find("#apply-missing li[data-material=\"driving_licence\"]").await;
    let missing = s.js("return document.querySelectorAll('#apply-missing li').length", json!([])).await;
    assert_eq!(missing, 3, "id card, driving licence, form; not the certificate the library holds");
    s.screenshot("window-missing").await;
    let notice = s.js("return document.getElementById('notice-link').getAttribute('href')", json!([])).await;
    s.goto(&format!("{base}{}", notice.as_str().expect("notice link"))).await;
    let title = s.text("h1").await;
    assert!(title.contains("一次性告知"), "{title}");
    s.screenshot("window-notice-print").await;
    s.goto(&format!("{base}/workbench/window")).await;
    s.click("#item-select option[value^=\"XK00701000\"]").await;
    s.find("#apply-form[data-item^=\"XK00701000\"]").await;
    s.type_into("#a-id", &id).await;
    s.type_into("#a-name", "陈嘉怡").await;
    for m in ["id_card", "driving_licence", "application_form"] {
        s.send_file(&format!("#m-{m}"), &pdf).await;
    }
    s.click("#apply-form button[type=submit]").await;
    let number = s.text("#apply-number").await;
    // The access key, shown once beside the number, is what the applicant follows it with.
    let key = s.text("#apply-key").await;
    assert!(number.starts_with("BJ"), "{number}");
    s.find("#apply-reused li[data-material=\"no_criminal_record\"][data-source=\"licence\"]").await;
    s.screenshot("window-accepted").await;
    s.click("#apply-open").await;
    s.find(&format!(
        "#application[data-application=\"{number}\"] tr[data-material=\"no_criminal_record\"][data-source=\"licence\"]"
    ))
    .await;
    let steps = s
        .js("return document.querySelectorAll('#application tr[data-step][data-state=\"pending\"]').length", json!([]))
        .await;
    assert_eq!(steps, 2, "both departments decide the one step in parallel");
    s.screenshot("window-follow").await;
    sign_out(&s).await;

    // 交通 approves against its own criterion.
    sign_in(&s, &base, "approver_jtj", "/workbench/approve").await;
    s.find(&format!("[data-task=\"{number}\"] [data-criterion=\"driving_3_years\"]")).await;
    s.screenshot("approver-queue").await;
    decide(&s, &number, &[("driving_3_years", true)], "approve").await;
    s.until(
        "交通's decision",
        "const f = document.getElementById('flash'); return f !== null && f.textContent.includes(arguments[0]);",
        json!([number]),
    )
    .await;
    s.find(&format!("#others-title ~ table tr[data-application=\"{number}\"]")).await;
    sign_out(&s).await;

    // 公安: "not met" without a finding is refused with the code's message in Chinese; then met.
    sign_in(&s, &base, "approver_gaj", "/workbench/approve").await;
    decide(&s, &number, &[("background_ok", false)], "approve").await;
    let error = s.text(&format!("[data-task=\"{number}\"] form.decide [data-error]")).await;
    assert_eq!(error, "请填写说明（原因）。");
    decide(&s, &number, &[("background_ok", true)], "approve").await;
    s.until(
        "公安's decision concludes it",
        "const f = document.getElementById('flash'); return f !== null && f.textContent.includes(arguments[0]) && f.textContent.includes(arguments[1]);",
        json!([number, "已办结（准予）"]),
    )
    .await;
    sign_out(&s).await;

    // 民政 stops the clock of a 低保 application (accepted through the API) for a special step,
    // then resumes it.
    let item = {
        let (_, v) = app.get("/api/v1/service-items").await;
        v["items"].as_array().expect("items").iter().find(|i| i["name"] == "最低生活保障申请").expect("低保")["code"]
            .as_str()
            .expect("code")
            .to_owned()
    };
    let pdf64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n%%EOF\n");
    let materials: Vec<serde_json::Value> = ["id_card", "household_register", "income_statement", "authorisation"]
        .iter()
        .map(|c| json!({"code": c, "format": "pdf", "content_base64": pdf64}))
        .collect();
    let other = civgrid::identity::ResidentId::complete("44060419800101001").expect("id").as_str().to_owned();
    let (status, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&app.login("clerk").await),
            &json!({"item_code": item, "window": "W02", "applicant": {"id_number": other, "name": "何伟"}, "materials": materials}),
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::CREATED, "{v}");
    let dibao = v["application"]["number"].as_str().expect("number").to_owned();
    sign_in(&s, &base, "approver_mzj", "/workbench/approve").await;
    s.click(&format!("[data-task=\"{dibao}\"] details.act-more summary")).await;
    s.click(&format!("[data-task=\"{dibao}\"] form.suspend option[value=\"公示\"]")).await;
    s.click(&format!("[data-task=\"{dibao}\"] form.suspend button[type=submit]")).await;
    s.find(&format!("ul.suspended li[data-application=\"{dibao}\"] button.resume")).await;
    assert!(s.text("#flash").await.contains("公示"));
    s.click(&format!("ul.suspended button.resume[data-number=\"{dibao}\"]")).await;
    s.until(
        "the clock resumed",
        "const f = document.getElementById('flash'); return document.readyState === 'complete' && f !== null \
         && f.textContent.includes(arguments[0]) && document.querySelector('ul.suspended li') === null",
        json!([dibao]),
    )
    .await;
    s.find(&format!("[data-task=\"{dibao}\"] form.decide")).await;
    sign_out(&s).await;

    // The applicant follows it on the portal with the number and the access key, and rates it.
    s.goto(&format!("{base}/portal/services")).await;
    s.type_into("#f-number", &number).await;
    s.type_into("#f-key", &key).await;
    s.click("#follow-form button[type=submit]").await;
    s.at("/portal/application").await;
    s.find(&format!("#application[data-application=\"{number}\"][data-state=\"approved\"]")).await;
    s.click("#rate-grade option[value=\"5\"]").await;
    s.click("#rate-form button[type=submit]").await;
    let rated = s.text("#rate-form [data-done]").await;
    assert!(rated.contains("非常满意"), "{rated}");
    s.screenshot("portal-application").await;
    // The conclusion issued an e-licence; once the log has taken it under a checkpoint (the
    // sequencer does so within a second in a running node), the applicant verifies it.
    app.state.ledger.integrate().await.expect("integrate");
    s.click("#application a[href^=\"/verify/\"]").await;
    let verdict = s.text("#out:not([hidden]) p.verdict").await;
    assert!(verdict.contains("证书真实有效"), "{verdict}");
    s.screenshot("portal-licence-verified").await;
    // A number that names no certificate is refused in the reader's language.
    s.type_into("#number", "CG-NO-SUCH").await;
    s.click("#byNumber button[type=submit]").await;
    s.until(
        "the unknown number refused",
        "const v = document.querySelector('#out p.verdict'); return v !== null && v.textContent.startsWith(arguments[0]);",
        json!(["没有这个编号的证书。"]),
    )
    .await;
    // A second rating is refused (一事一评), in the reader's language.
    s.goto(&format!("{base}/portal/services")).await;
    s.type_into("#f-number", &number).await;
    s.type_into("#f-key", &key).await;
    s.click("#follow-form button[type=submit]").await;
    s.click("#rate-form button[type=submit]").await;
    assert_eq!(s.text("#rate-form [data-error]").await, "已经评价过了，每件只能评价一次。");

    // Online (一网通办): anyone can type anyone's ID number, so nothing the platform holds is
    // attached; the applicant hands in every material and gets their own access key.
    s.goto(&format!("{base}/portal/services")).await;
    s.click("#item-select option[value^=\"GG00202000\"]").await;
    s.find("#apply-form[data-channel=\"online\"][data-item^=\"GG00202000\"]").await;
    s.type_into("#a-id", &id).await;
    s.type_into("#a-name", "陈嘉怡").await;
    s.send_file("#m-id_card", &pdf).await;
    s.send_file("#m-application_form", &pdf).await;
    s.click("#apply-form button[type=submit]").await;
    let online = s.text("#apply-number").await;
    assert_ne!(online, number);
    assert_ne!(s.text("#apply-key").await, key);
    assert_eq!(s.js("return document.getElementById('apply-reused') === null;", json!([])).await, json!(true));
    s.screenshot("portal-apply-online").await;

    // The administrator adds a make-up working day, removes it, and is told feature by feature
    // why a grid file cannot be imported.
    sign_in(&s, &base, "admin", "/workbench/admin").await;
    s.js("document.getElementById('day-date').value = '2027-02-11'; return true;", json!([])).await;
    s.click("#day-kind option[value=\"workday\"]").await;
    s.type_into("#day-note", "春节调休").await;
    s.click("#day-form button[type=submit]").await;
    s.find("#days tr[data-day=\"2027-02-11\"][data-kind=\"workday\"]").await;
    s.click("#departments-title ~ details summary").await;
    s.type_into("#dept-code", "sjzx").await;
    s.type_into("#dept-name", "区数据资源中心").await;
    s.click("#dept-form button[type=submit]").await;
    s.find("#departments tr[data-department=\"sjzx\"]").await;
    s.click("#staff-title ~ details summary").await;
    s.type_into("#st-username", "data_clerk").await;
    s.type_into("#st-name", "数据专员").await;
    s.click("#st-dept option[value=\"sjzx\"]").await;
    s.click("#staff-form button[type=submit]").await;
    s.find("#staff tr[data-staff=\"data_clerk\"] td[data-active=\"true\"]").await;
    s.click("#staff tr[data-staff=\"data_clerk\"] button.staff-active").await;
    s.find("#staff tr[data-staff=\"data_clerk\"] td[data-active=\"false\"]").await;
    s.click("#days button[data-day=\"2027-02-11\"]").await;
    s.until(
        "the day removed",
        "return document.readyState === 'complete' && document.getElementById('flash').textContent !== '' \
         && document.querySelector('#days tr[data-day=\"2027-02-11\"]') === null",
        json!([]),
    )
    .await;
    let bad = files.path().join("grids.geojson");
    let square = "[[[113.1,23.0],[113.101,23.0],[113.101,23.001],[113.1,23.001],[113.1,23.0]]]";
    let geojson = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","id":"g-7","properties":{{"code":"4406040100019","name":"坏网格"}},"geometry":{{"type":"Polygon","coordinates":{square}}}}}]}}"#
    );
    std::fs::write(&bad, geojson).expect("geojson");
    s.send_file("#import-file", &bad).await;
    s.click("#import-datum option[value=\"gcj02\"]").await;
    s.click("#import-form button[type=submit]").await;
    s.find("#import-problems tr[data-problem]").await;
    assert_eq!(s.text("#import-form [data-error]").await, "文件有问题，未导入。");
    s.screenshot("admin-import-problems").await;

    // The administrator edits a class of the case catalogue: a bad time limit is refused in
    // Chinese, a good one makes version 2.
    s.goto(&format!("{base}/workbench/admin?class=0101#class-form")).await;
    s.js("document.getElementById('cl-limit').value = '0'; return true;", json!([])).await;
    s.click("#class-form button[type=submit]").await;
    s.until(
        "the class refused",
        "return document.querySelector('#class-form [data-error]').textContent === arguments[0];",
        json!(["填写的内容有误，请检查。"]),
    )
    .await;
    s.js("document.getElementById('cl-limit').value = '3'; return true;", json!([])).await;
    s.click("#class-form button[type=submit]").await;
    s.until(
        "the class saved as version 2",
        "const r = document.querySelector('#classes tr[data-class=\"0101\"]'); \
         return document.readyState === 'complete' && r !== null && r.textContent.includes('v2') && r.textContent.includes('3 工作小时');",
        json!([]),
    )
    .await;
    // … and a service item: broken JSON is caught before sending, a shorter promise is saved.
    let item = s
        .js(
            "return [...document.querySelectorAll('#items tr[data-item]')].find(r => r.textContent.includes('最低生活保障申请')).dataset.item;",
            json!([]),
        )
        .await;
    let item = item.as_str().expect("item code").to_owned();
    s.goto(&format!("{base}/workbench/admin?item={item}#item-form")).await;
    s.js(
        "const t = document.getElementById('it-spec'); t.dataset.was = t.value; t.value = '{ broken'; return true;",
        json!([]),
    )
    .await;
    s.click("#item-form button[type=submit]").await;
    s.until(
        "the broken definition caught",
        "return document.querySelector('#item-form [data-error]').textContent === arguments[0];",
        json!(["完整定义不是有效的 JSON，请检查括号和引号。"]),
    )
    .await;
    s.js(
        "const t = document.getElementById('it-spec'); t.value = t.dataset.was; \
         document.getElementById('it-promised').value = '3'; return true;",
        json!([]),
    )
    .await;
    s.click("#item-form button[type=submit]").await;
    s.until(
        "the item saved as version 2",
        "const r = document.querySelector(`#items tr[data-item=\"${arguments[0]}\"]`); \
         return document.readyState === 'complete' && r !== null && r.textContent.includes('v2') && r.textContent.includes('/ 3 ');",
        json!([item]),
    )
    .await;
    s.screenshot("admin-catalogues").await;
    // The administrator renames a grid worker with two grids of different kinds and adds a
    // third part-time grid by typing its kind after it: each grid keeps or gets its kind.
    let admin_token = app.login("admin").await;
    let (_, me) = app.get_as("/api/v1/auth/me", &app.login("gridworker").await).await;
    let worker = me["staff_id"].as_i64().expect("staff id");
    let grids = json!({"grids": [{"code": "44060401000101", "kind": "full_time"}, {"code": "44060401000102", "kind": "part_time"}]});
    let (status, v) =
        app.send_json("PATCH", &format!("/api/v1/admin/staff/{worker}"), Some(&admin_token), &grids).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{v}");
    s.goto(&format!("{base}/workbench/admin#staff-title")).await;
    s.click(&format!("summary[data-edit-staff=\"{worker}\"]")).await;
    s.type_into(&format!("#se-{worker}-name"), "祖庙网格员甲").await;
    s.js(
        "const g = document.getElementById(`se-${arguments[0]}-grids`); g.value += '\\n44060401000103 兼职'; return true;",
        json!([worker]),
    )
    .await;
    s.click(&format!("form.staff-edit[data-id=\"{worker}\"] button[type=submit]")).await;
    s.until(
        "the account saved",
        "return document.readyState === 'complete' && document.getElementById('flash').textContent.includes(arguments[0]);",
        json!(["gridworker"]),
    )
    .await;
    for (grid, kind) in
        [("44060401000101", "full_time"), ("44060401000102", "part_time"), ("44060401000103", "part_time")]
    {
        let (_, g) = app.get_as(&format!("/api/v1/grids/{grid}"), &admin_token).await;
        assert!(
            g["workers"].as_array().expect("workers").iter().any(|w| w["staff_id"] == worker && w["kind"] == kind),
            "{grid} {kind}: {g}"
        );
    }
    // The indicators as charts, over a replayed history.
    civgrid::demo::seed_cases(&app.state.territory, &app.state.staff, &app.state.cases, 60, chrono::Utc::now())
        .await
        .expect("history");
    s.goto(&format!("{base}/workbench/trends")).await;
    s.find("#trend-chart g[data-series=\"closure\"] polyline").await;
    s.find("#dept-chart rect").await;
    s.screenshot("trends").await;
    s.js("document.getElementById('dept-chart').scrollIntoView(); return true;", json!([])).await;
    s.screenshot("trends-departments").await;
    sign_out(&s).await;

    // A bad rating opens a rectification task: the responsible department's approver replies
    // from the workbench with what was fixed and the callback made.
    let other = civgrid::identity::ResidentId::complete("44060419880808001").expect("id").as_str().to_owned();
    let scan = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"%PDF-1.4\n%%EOF\n");
    let clerk = app.login("clerk").await;
    let materials: Vec<serde_json::Value> = ["id_card", "driving_licence", "no_criminal_record", "application_form"]
        .iter()
        .map(|c| json!({"code": c, "format": "pdf", "content_base64": scan}))
        .collect();
    let (st, v) = app
        .send_json(
            "POST",
            "/api/v1/service-applications",
            Some(&clerk),
            &json!({"item_code": item_code_of(&app, "网络预约出租汽车驾驶员证核发").await, "window": "W01",
                "applicant": {"id_number": other, "name": "黎志强"}, "materials": materials}),
        )
        .await;
    assert_eq!(st, axum::http::StatusCode::CREATED, "{v}");
    let bad = v["application"]["number"].as_str().expect("number").to_owned();
    let bad_key = v["access_key"].as_str().expect("access key").to_owned();
    for (user, criterion) in [("approver_jtj", "driving_3_years"), ("approver_gaj", "background_ok")] {
        let t = app.login(user).await;
        let (st, v) = app
            .send_json(
                "POST",
                &format!("/api/v1/service-applications/{bad}/decisions"),
                Some(&t),
                &json!({"step": 0, "decision": "approve", "checklist": [{"code": criterion, "met": true}]}),
            )
            .await;
        assert_eq!(st, axum::http::StatusCode::OK, "{v}");
    }
    let (st, v) = app
        .send_json(
            "POST",
            "/api/v1/service-ratings",
            None,
            &json!({"target": "application", "number": bad, "access_key": bad_key, "grade": 2, "comment": "窗口排队太久"}),
        )
        .await;
    assert_eq!(st, axum::http::StatusCode::CREATED, "{v}");
    let rect = v["rectification"]["id"].as_i64().expect("a rectification task");
    let dept = v["rectification"]["department_code"].as_str().expect("department").to_owned();
    sign_in(&s, &base, &format!("approver_{dept}"), "/workbench/approve").await;
    let task = format!("[data-rectification=\"{rect}\"]");
    s.find(&format!("{task}[data-state=\"open\"]")).await;
    s.type_into(&format!("#rr-{rect}"), "已增设取号机并调整窗口").await;
    s.type_into(&format!("#rc-{rect}"), "已电话回访，申请人认可").await;
    s.click(&format!("{task} form.rect-reply button[type=submit]")).await;
    s.find(&format!("{task}[data-state=\"replied\"]")).await;
    assert!(s.text("#flash").await.contains(&format!("#{rect}")));
    s.screenshot("approve-rectification").await;
    // … then holds the rating mistaken and appeals; the administrator dismisses the appeal and
    // the task is open again.
    s.click(&format!("{task} details summary")).await;
    s.type_into(&format!("#ra-{rect}"), "排队系系统故障所致，已另行处理").await;
    s.click(&format!("{task} form.rect-appeal button[type=submit]")).await;
    s.find(&format!("{task}[data-state=\"appealed\"]")).await;
    sign_out(&s).await;
    sign_in(&s, &base, "admin", "/workbench/admin").await;
    let appeal = format!("#appeals [data-rectification=\"{rect}\"]");
    s.click(&format!("{appeal} input[name=upheld][value=\"false\"]")).await;
    s.type_into(&format!("#ad-{rect}"), "排队时长属实，继续整改").await;
    s.click(&format!("{appeal} button[type=submit]")).await;
    s.until(
        "the appeal decided",
        "return document.readyState === 'complete' && document.getElementById('flash').textContent.includes(arguments[0]) \
         && document.querySelector(arguments[1]) === null",
        json!([format!("#{rect}"), appeal]),
    )
    .await;
    sign_out(&s).await;

    // A self-service terminal: big buttons, no sign-in, and always a way back to the start.
    s.goto(&format!("{base}/kiosk")).await;
    s.click("[data-kiosk-go=\"report\"]").await;
    s.at("/portal").await;
    s.find("body[data-kiosk=\"true\"] header a[href=\"/kiosk\"]").await;
    assert_eq!(s.js("return document.querySelector('a[href=\"/login\"]') === null", json!([])).await, true);
    s.screenshot("kiosk-portal").await;
    s.click("header a[href=\"/kiosk\"]").await;
    s.at("/kiosk").await;
    s.goto(&format!("{base}/kiosk/exit")).await;
    s.at("/").await;

    // With a base-map tile URL configured, the map lays tiles under the grids, each where its
    // Web Mercator corners fall, covering the view; without it (every page above) none.
    s.goto(&format!("{base}/")).await;
    s.find("#grid-map path[data-grid]").await;
    assert_eq!(s.js("return document.querySelectorAll('#grid-map image, #grid-map.tiled').length", json!([])).await, 0);
    let mut web = (*app.state.settings).clone();
    web.map_tile_url = Some("/test-tiles/{z}/{x}/{y}.png".into());
    let state = app.state.with_settings(web);
    let tiled = serve_router(civgrid::web::router(state)).await;
    s.goto(&format!("{tiled}/")).await;
    s.find("#grid-map.tiled image.tile").await;
    let placed = s
        .js(
            "const svg = document.getElementById('grid-map'); const b = svg.viewBox.baseVal; \
             const cx = b.x + b.width / 2, cy = b.y + b.height / 2; \
             const imgs = [...svg.querySelectorAll('image.tile')]; \
             const named = imgs.every(i => i.getAttribute('href') === `/test-tiles/${i.dataset.z}/${i.dataset.x}/${i.dataset.y}.png`); \
             const covers = imgs.some(i => { const x = +i.getAttribute('x'), y = +i.getAttribute('y'); \
               return x <= cx && cx <= x + +i.getAttribute('width') && y <= cy && cy <= y + +i.getAttribute('height'); }); \
             const below = svg.firstElementChild.classList.contains('tiles'); \
             return named && covers && below;",
            json!([]),
        )
        .await;
    assert_eq!(placed, true, "tiles named by z/x/y, covering the view, under the grids");
    s.close().await;
}
