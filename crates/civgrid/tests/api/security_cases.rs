//! Issue 14 (cases): who reads cases and their photos, who adds photos, what the public sees of
//! the words of a report, and the budgets of anonymous callers — each attacked through the
//! real router, on both databases.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::cases::{closed_case, inside};
use crate::helpers::{assert_error, Backend, TestApp};

/// A JSON request from a given client address (in-process requests carry none).
pub fn from_addr(method: &str, uri: &str, ip: &str, body: &Value) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let addr: SocketAddr = format!("{ip}:40000").parse().expect("address");
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

/// Access records (查阅留痕) of a case for a purpose.
async fn reads(app: &TestApp, purpose: &str, case_id: i64) -> i64 {
    sqlx::query_scalar(
        "select count(*) from access_record where subject_kind = 'case' and subject = $1 and purpose = $2",
    )
    .bind(case_id.to_string())
    .bind(purpose)
    .fetch_one(app.state.db.pool())
    .await
    .expect("count access records")
}

/// A case in grid 44060401000101 with the reporter's name and contact and one photo the grid
/// worker took: (case id, photo id).
async fn reported_with_photo(app: &TestApp) -> (i64, String) {
    let (x, y) = inside(app, "44060401000101").await;
    let body = json!({"description": "路灯不亮", "class_code": "1102", "lng": x, "lat": y, "datum": "gcj02",
                      "reporter_name": "王小明", "reporter_contact": "13800001234"});
    let (s, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["case"]["id"].as_i64().expect("id");
    let worker = app.login("gridworker").await;
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 4];
    let (s, v) = app.send_raw("POST", &format!("/api/v1/cases/{id}/photos"), Some(&worker), "image/jpeg", jpeg).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (id, v["id"].as_i64().expect("photo id").to_string())
}

/// Window clerks, approvers, safety officers and witnesses read no case; admins and auditors
/// read the cases of their areas without the reporter and without photos; those who work the
/// case read it whole, and every read of its reporter or photos is recorded.
async fn only_the_case_loop_reads_cases_whole(b: Backend) {
    let app = TestApp::demo(b).await;
    let (id, photo) = reported_with_photo(&app).await;
    let case_uri = format!("/api/v1/cases/{id}");
    let photos_uri = format!("{case_uri}/photos");
    let photo_uri = format!("{photos_uri}/{photo}");

    for user in ["clerk", "approver", "safety", "witness"] {
        let token = app.login(user).await;
        assert_error(&app.get_as(&case_uri, &token).await, StatusCode::NOT_FOUND, "case_not_found");
        assert_error(&app.get_as(&photos_uri, &token).await, StatusCode::NOT_FOUND, "case_not_found");
        assert_error(&app.get_as(&photo_uri, &token).await, StatusCode::NOT_FOUND, "case_not_found");
        let (s, list) = app.get_as("/api/v1/cases", &token).await;
        assert_eq!((s, list["cases"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{user}: {list}");
    }
    for user in ["admin", "auditor"] {
        let token = app.login(user).await;
        let (s, v) = app.get_as(&case_uri, &token).await;
        assert_eq!(s, StatusCode::OK, "{user}: {v}");
        assert!(v.get("reporter").is_none(), "{user} sees no reporter: {v}");
        assert!(!v.to_string().contains("13800001234") && !v.to_string().contains("王小明"), "{v}");
        let (_, list) = app.get_as("/api/v1/cases", &token).await;
        let listed = list["cases"].as_array().expect("cases").iter().find(|c| c["id"] == id).cloned().expect("listed");
        assert!(listed.get("reporter").is_none(), "{user}: {listed}");
        assert_error(&app.get_as(&photos_uri, &token).await, StatusCode::FORBIDDEN, "case_photos_withheld");
        assert_error(&app.get_as(&photo_uri, &token).await, StatusCode::FORBIDDEN, "case_photos_withheld");
    }
    assert_eq!((reads(&app, "case.read", id).await, reads(&app, "case.photos", id).await), (0, 0));

    // Those who work the case see the reporter; each read is recorded with the case id.
    let intake = app.login("intake").await;
    let (s, v) = app.get_as(&case_uri, &intake).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["reporter"], json!({"name": "王小明", "contact": "13800001234"}));
    assert_eq!(reads(&app, "case.read", id).await, 1);
    let (_, list) = app.get_as("/api/v1/cases", &intake).await;
    let listed = list["cases"].as_array().expect("cases").iter().find(|c| c["id"] == id).cloned().expect("listed");
    assert_eq!(listed["reporter"]["contact"], "13800001234");
    assert_eq!(reads(&app, "case.read", id).await, 2, "one access row per case a list returns");
    let worker = app.login("gridworker").await;
    let (s, _) = app.get_as(&photos_uri, &worker).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get_as(&photo_uri, &worker).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(reads(&app, "case.photos", id).await, 2);
    let actor: String = sqlx::query_scalar(
        "select actor from access_record where subject = $1 and purpose = 'case.photos' order by id limit 1",
    )
    .bind(id.to_string())
    .fetch_one(app.state.db.pool())
    .await
    .expect("actor");
    assert!(actor.ends_with(":gridworker"), "{actor}");
}
both_backends!(only_the_case_loop_reads_cases_whole);

/// Only those who act on the case add photos: the auditor, the window clerk, the approver, the
/// admin and the commander cannot, and cannot fill its twelve slots.
async fn only_those_acting_on_a_case_add_photos(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let body = json!({"description": "井盖缺失", "class_code": "1101", "lng": x, "lat": y, "datum": "gcj02"});
    let (_, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    let id = v["case"]["id"].as_i64().expect("id");
    let uri = format!("/api/v1/cases/{id}/photos");
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 9, 9];
    for (user, status, code) in [
        ("auditor", StatusCode::FORBIDDEN, "photo_not_permitted"),
        ("admin", StatusCode::FORBIDDEN, "photo_not_permitted"),
        ("commander", StatusCode::FORBIDDEN, "photo_not_permitted"),
        ("clerk", StatusCode::NOT_FOUND, "case_not_found"),
        ("approver", StatusCode::NOT_FOUND, "case_not_found"),
    ] {
        let token = app.login(user).await;
        for _ in 0..=civgrid::cases::MAX_PHOTOS_PER_CASE {
            let got = app.send_raw("POST", &uri, Some(&token), "image/jpeg", jpeg.clone()).await;
            assert_error(&got, status, code);
        }
    }
    assert_eq!(app.count("case_photo").await, 0, "no slot was taken");
    for user in ["gridworker", "intake"] {
        let token = app.login(user).await;
        let (s, v) = app.send_raw("POST", &uri, Some(&token), "image/jpeg", jpeg.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{user}: {v}");
    }
    // A closed case takes no more photos, even from its grid worker.
    let (closed, _) = closed_case(&app, None).await;
    let worker = app.login("gridworker").await;
    let got = app.send_raw("POST", &format!("/api/v1/cases/{closed}/photos"), Some(&worker), "image/jpeg", jpeg).await;
    assert_error(&got, StatusCode::FORBIDDEN, "photo_not_permitted");
}
both_backends!(only_those_acting_on_a_case_add_photos);

/// The rating endpoint does not tell whether a contact reported a case: a case that cannot be
/// rated (not closed, rated already) answers so whatever contact is given, and no guess is
/// counted against it.
async fn the_rating_checks_the_case_before_the_contact(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let body = json!({"description": "垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
                      "reporter_contact": "13800001234"});
    let (_, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    let open = v["case"]["number"].as_str().expect("number").to_owned();
    let rate = |number: String, contact: &'static str| {
        let app = &app;
        async move {
            let uri = format!("/api/v1/public/cases/{number}/rating");
            app.send_json("POST", &uri, None, &json!({"rating": 5, "contact": contact})).await
        }
    };
    for contact in ["13800001234", "13900009999"] {
        assert_error(&rate(open.clone(), contact).await, StatusCode::CONFLICT, "case_not_closed");
    }
    let (_, closed) = closed_case(&app, Some("13700001234")).await;
    let (s, v) = rate(closed.clone(), "13700001234").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    for contact in ["13700001234", "13900009999"] {
        assert_error(&rate(closed.clone(), contact).await, StatusCode::CONFLICT, "already_rated");
    }
    assert_eq!(app.count("reporter_check_failure").await, 0, "no guess was counted");
}
both_backends!(the_rating_checks_the_case_before_the_contact);

/// Anonymous reports spend the client address's budget: a flood from one address is refused
/// with 429 and Retry-After, while another address and a signed-in caller still report.
async fn anonymous_reports_have_a_budget_per_address(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let body = json!({"description": "垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02"});
    let mut accepted = 0;
    let mut refused = None;
    for _ in 0..40 {
        let (s, v, h) = app.request(from_addr("POST", "/api/v1/reports", "203.0.113.7", &body)).await;
        match s {
            StatusCode::CREATED => accepted += 1,
            _ => {
                refused = Some((s, v, h));
                break;
            }
        }
    }
    let (s, v, h) = refused.expect("the flood is refused");
    assert_error(&(s, v), StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(h.get("retry-after").is_some());
    assert!((20..=30).contains(&accepted), "{accepted}");
    let (s, v, _) = app.request(from_addr("POST", "/api/v1/reports", "203.0.113.8", &body)).await;
    assert_eq!(s, StatusCode::CREATED, "another address: {v}");
    let mut staff = from_addr("POST", "/api/v1/reports", "203.0.113.7", &body);
    let token = app.login("gridworker").await;
    staff.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    let (s, v, _) = app.request(staff).await;
    assert_eq!(s, StatusCode::CREATED, "a signed-in reporter is accountable: {v}");
}
both_backends!(anonymous_reports_have_a_budget_per_address);

/// The public rating and photo-key endpoints spend the address's lookup budget, so numbers
/// cannot be tried one after another from one address.
async fn public_case_lookups_have_a_budget_per_address(b: Backend) {
    let app = TestApp::demo(b).await;
    let mut statuses = Vec::new();
    for n in 0..40 {
        let uri = format!("/api/v1/public/cases/2099010100{n:04}/rating");
        let (s, _, _) =
            app.request(from_addr("POST", &uri, "198.51.100.9", &json!({"rating": 5, "contact": "1"}))).await;
        statuses.push(s);
    }
    assert!(statuses.contains(&StatusCode::NOT_FOUND));
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let mut photo = from_addr("POST", "/api/v1/public/cases/20990101000001/photos", "198.51.100.9", &json!({}));
    photo.headers_mut().insert("x-photo-key", "0".repeat(32).parse().expect("header"));
    let (s, v, _) = app.request(photo).await;
    assert_error(&(s, v), StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let other = "/api/v1/public/cases/20990101000001/rating";
    let (s, _, _) = app.request(from_addr("POST", other, "198.51.100.10", &json!({"rating": 5, "contact": "1"}))).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another address is not held up");
}
both_backends!(public_case_lookups_have_a_budget_per_address);

/// ID and phone numbers typed into a report's words are masked wherever the public reads the
/// case (the portal's tracking page, Open311); staff who work the case read them as typed.
async fn public_case_views_mask_personal_numbers(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let words = "门口垃圾，我是440604199001011234，电话13800138000，座机0757-83331234";
    let body = json!({"description": words, "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
                      "address": "祖庙路1号 联系13900139000"});
    let (_, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    let (id, number) = (v["case"]["id"].as_i64().expect("id"), v["case"]["number"].as_str().expect("no").to_owned());
    let secrets = ["440604199001011234", "13800138000", "83331234", "13900139000"];
    let (s, page) = app.get(&format!("/portal/track?number={number}")).await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = app.get("/open311/v2/requests.json").await;
    let (_, one) = app.get(&format!("/open311/v2/requests/{id}.json")).await;
    for (what, text) in [("track", page.to_string()), ("list", list.to_string()), ("one", one.to_string())] {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows {secret}: {text}");
        }
    }
    assert!(list.to_string().contains("138******00"), "{list}");
    let (_, v) = app.get_as(&format!("/api/v1/cases/{id}"), &app.login("intake").await).await;
    assert_eq!(v["description"], words);
}
both_backends!(public_case_views_mask_personal_numbers);

/// A `media_url` is parsed: only http(s) with a host and without credentials is kept.
async fn media_urls_are_parsed(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    for bad in ["https:evil.example/x", "http://user:pw@example.org/p.jpg", "https://", "javascript:alert(1)"] {
        let body = json!({"description": "垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
                          "media_url": bad});
        let got = app.send_json("POST", "/api/v1/reports", None, &body).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
    assert_eq!(app.count("case_record where media_url is not null").await, 0);
    let body = json!({"description": "垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02",
                      "media_url": "https://img.example.cn/a.jpg"});
    let (s, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
both_backends!(media_urls_are_parsed);

/// `civgrid audit` covers the case row: an edit behind the loop's back of the words, the
/// contact, the state, the department, the grid or the deadline is named (as the case's latest
/// transition's entry no longer matching), and undoing it makes the audit clean again.
async fn the_audit_covers_the_case_row(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let body = json!({"description": "井盖缺失", "class_code": "1101", "lng": x, "lat": y, "datum": "gcj02",
                      "reporter_contact": "13800001234"});
    let (_, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    let id = v["case"]["id"].as_i64().expect("id");
    for (user, action) in [("intake", "accept"), ("shift_leader", "file"), ("dispatcher", "dispatch")] {
        let token = app.login(user).await;
        let uri = format!("/api/v1/cases/{id}/transitions");
        let (s, v) = app.send_json("POST", &uri, Some(&token), &json!({"action": action})).await;
        assert_eq!(s, StatusCode::OK, "{action}: {v}");
    }
    app.state.ledger.integrate().await.expect("integrate");
    let audit = || async {
        let sets = vec![civgrid::cases::trace::records(&app.state.db).await.expect("records")];
        civgrid::ledger::audit::audit(&app.state.ledger, &sets).await.expect("audit")
    };
    let clean = audit().await;
    assert!(clean.is_clean(), "{:?}", clean.findings);
    // The public entry does not carry the contact in clear.
    let latest: i64 = sqlx::query_scalar("select max(id) from case_transition where case_id = $1")
        .bind(id)
        .fetch_one(app.state.db.pool())
        .await
        .expect("latest");
    let after: String = sqlx::query_scalar("select case_after from case_transition where id = $1")
        .bind(latest)
        .fetch_one(app.state.db.pool())
        .await
        .expect("case_after");
    assert!(!after.contains("13800001234") && after.contains("\"lead_department\":\"zjsl\""), "{after}");

    for (column, value) in [
        ("description", "改过的描述"),
        ("reporter_contact", "13900009999"),
        ("state", "closed"),
        ("lead_department", "cgj"),
        ("grid_code", "44060401000102"),
        ("handle_deadline", "2099-01-01T00:00:00.000Z"),
    ] {
        let pool = app.state.db.pool();
        let was: Option<String> = sqlx::query_scalar(&format!("select {column} from case_record where id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await
            .expect("read");
        let set = format!("update case_record set {column} = $1 where id = $2");
        sqlx::query(&set).bind(value).bind(id).execute(pool).await.expect("edit");
        let report = audit().await;
        let named: Vec<_> = report.findings.iter().map(|f| (f.code, f.reference.clone())).collect();
        assert_eq!(named, vec![("record_changed", Some(latest.to_string()))], "{column}: {:?}", report.findings);
        let detail = &report.findings[0].detail;
        let named_column =
            if matches!(column, "description" | "reporter_contact") { "what was reported" } else { column };
        assert!(detail.contains(&format!("case {id}: {named_column}")), "{column}: {detail}");
        assert!(!detail.contains("13900009999"), "the contact is not shown: {detail}");
        sqlx::query(&set).bind(was).bind(id).execute(pool).await.expect("undo");
        assert!(audit().await.is_clean(), "{column} undone");
    }
}
both_backends!(the_audit_covers_the_case_row);

/// A photo's EXIF (where it was taken) is stripped before it is stored, so it is never served;
/// the image data is kept as it was, and an unreadable image is refused.
async fn photos_are_stored_without_their_metadata(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let body = json!({"description": "路灯不亮", "class_code": "1102", "lng": x, "lat": y, "datum": "gcj02"});
    let (_, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    let id = v["case"]["id"].as_i64().expect("id");
    let exif = b"Exif\0\0MM\0*GPSLatitude 23.0312 GPSLongitude 113.1214";
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend(u16::try_from(exif.len() + 2).expect("short").to_be_bytes());
    jpeg.extend(exif);
    let pixels = [0xFF, 0xDA, 0x00, 0x02, 5, 6, 7, 8, 0xFF, 0xD9];
    jpeg.extend(pixels);
    let worker = app.login("gridworker").await;
    let uri = format!("/api/v1/cases/{id}/photos");
    let (s, v) = app.send_raw("POST", &uri, Some(&worker), "image/jpeg", jpeg.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let req = Request::get(format!("{uri}/{}", v["id"]))
        .header("authorization", format!("Bearer {worker}"))
        .body(Body::empty())
        .expect("request");
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.expect("response");
    let served = http_body_util::BodyExt::collect(resp.into_body()).await.expect("body").to_bytes();
    assert!(!String::from_utf8_lossy(&served).contains("GPS"), "the place is not served");
    assert_eq!(&served[..2], &[0xFF, 0xD8]);
    assert!(served.ends_with(&pixels), "the image data is kept byte for byte");
    let broken = app.send_raw("POST", &uri, Some(&worker), "image/jpeg", vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2]).await;
    assert_error(&broken, StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_photo");
}
both_backends!(photos_are_stored_without_their_metadata);
