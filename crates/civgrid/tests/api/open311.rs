//! Open311 GeoReport v2 at /open311/v2/: every resource in JSON and XML (the XML parsed to prove
//! it well-formed), POST form-encoded with an API key, the open/closed mapping through the staff
//! workflow, the GET filters, and every bad input answered with the spec's status and error
//! body while writing nothing.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use civgrid_geo::{Datum, LngLat};
use geo::InteriorPoint;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

const GRID: &str = "44060401000101";

/// A WGS-84 point (lng, lat) inside a grid.
async fn inside_wgs84(app: &TestApp, grid: &str) -> (f64, f64) {
    let (_, g) = app.get(&format!("/api/v1/grids/{grid}")).await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = shape.interior_point().expect("point");
    let gcj = LngLat::new(p.x(), p.y()).expect("point");
    let w = civgrid_geo::datum::convert(gcj, Datum::Gcj02, Datum::Wgs84);
    (w.lng(), w.lat())
}

/// application/x-www-form-urlencoded, every byte outside the unreserved set escaped.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// Status, body text and headers of a raw request.
async fn call(app: &TestApp, method: &str, uri: &str, body: Option<(&str, String)>) -> (StatusCode, String, HeaderMap) {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match body {
        Some((ct, b)) => {
            req = req.header(header::CONTENT_TYPE, ct);
            Body::from(b)
        }
        None => Body::empty(),
    };
    let resp = app.router.clone().oneshot(req.body(body).expect("request")).await.expect("router never fails");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8(bytes.to_vec()).expect("UTF-8 body"), headers)
}

async fn get_json(app: &TestApp, uri: &str) -> (StatusCode, Value) {
    let (s, body, h) = call(app, "GET", uri, None).await;
    assert_eq!(h[header::CONTENT_TYPE], "application/json; charset=utf-8", "{uri}");
    (s, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {body}")))
}

/// GETs an XML resource, checks its declaration and content type, and returns the text.
async fn get_xml(app: &TestApp, uri: &str) -> (StatusCode, String) {
    let (s, body, h) = call(app, "GET", uri, None).await;
    assert_eq!(h[header::CONTENT_TYPE], "text/xml; charset=utf-8", "{uri}");
    assert!(body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#), "{uri}: {body}");
    roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{uri}: not well-formed XML ({e}): {body}"));
    (s, body)
}

async fn post(app: &TestApp, fmt: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
    let (s, body, _) = call(
        app,
        "POST",
        &format!("/open311/v2/requests.{fmt}"),
        Some(("application/x-www-form-urlencoded; charset=utf-8", form(pairs))),
    )
    .await;
    (s, body)
}

/// Asserts a JSON error array with one error of this code.
#[track_caller]
fn assert_json_error(got: &(StatusCode, String), status: StatusCode, needle: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    let v: Value = serde_json::from_str(&got.1).expect("JSON error body");
    let errors = v.as_array().expect("an array of errors");
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0]["code"], status.as_u16(), "{v}");
    let d = errors[0]["description"].as_str().expect("description");
    assert!(d.contains(needle), "`{d}` should mention `{needle}`");
}

/// Asserts an XML `<errors><error><code/><description/></error></errors>` body.
#[track_caller]
fn assert_xml_error(got: &(StatusCode, String), status: StatusCode, needle: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    let doc = roxmltree::Document::parse(&got.1).expect("well-formed XML error");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "errors");
    let error = root.children().find(|n| n.has_tag_name("error")).expect("<error>");
    let child = |name: &str| error.children().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).unwrap_or("");
    assert_eq!(child("code"), status.as_u16().to_string());
    assert!(child("description").contains(needle), "`{}` should mention `{needle}`", child("description"));
}

/// Issues an Open311 key through the admin API.
async fn issue_key(app: &TestApp, name: &str) -> (i64, String) {
    let admin = app.login("admin").await;
    let (s, v) = app.send_json("POST", "/api/v1/admin/open311-keys", Some(&admin), &json!({"name": name})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (v["id"].as_i64().expect("id"), v["key"].as_str().expect("key").to_owned())
}

/// Posts a valid request and returns its id.
async fn file(app: &TestApp, key: &str, code: &str, (lng, lat): (f64, f64), description: &str) -> String {
    let (lat, lng) = (lat.to_string(), lng.to_string());
    let (s, body) = post(
        app,
        "json",
        &[("api_key", key), ("service_code", code), ("lat", &lat), ("long", &lng), ("description", description)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    v[0]["service_request_id"].as_str().expect("string id").to_owned()
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) {
    let (s, v) = app.send_json("POST", &format!("/api/v1/cases/{id}/transitions"), Some(token), &body).await;
    assert_eq!(s, StatusCode::OK, "{body} → {v}");
}

async fn discovery_services_and_definitions_in_both_formats(b: Backend) {
    let app = TestApp::demo(b).await;

    let (s, d) = get_json(&app, "/open311/v2/discovery.json").await;
    assert_eq!(s, StatusCode::OK);
    let ep = &d["endpoints"][0];
    assert_eq!(ep["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(ep["formats"], json!(["text/xml", "application/json"]));
    assert!(d["key_service"].as_str().is_some_and(|k| k.contains("api_key")));
    let (s, x) = get_xml(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(s, StatusCode::OK);
    let doc = roxmltree::Document::parse(&x).expect("xml");
    assert_eq!(doc.root_element().tag_name().name(), "discovery");
    let formats: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("format")).filter_map(|n| n.text()).collect();
    assert_eq!(formats, ["text/xml", "application/json"]);
    // The endpoint URL follows the Host the client used.
    let req = Request::get("/open311/v2/discovery.json").header(header::HOST, "gov.example:8080").body(Body::empty());
    let (_, v, _) = app.request(req.expect("request")).await;
    assert_eq!(v["endpoints"][0]["url"], "http://gov.example:8080/open311/v2");

    for uri in ["/open311/v2/services.json", "/open311/v2/services.json?jurisdiction_id=440604&jurisdiction_id="] {
        let (s, v) = get_json(&app, uri).await;
        assert_eq!(s, StatusCode::OK);
        let list = v.as_array().expect("array");
        assert_eq!(list.len(), civgrid::demo::CLASSES.len());
        let trash = list.iter().find(|s| s["service_code"] == "0101").expect("0101 as a string code");
        assert_eq!(trash["service_name"], "暴露垃圾");
        assert_eq!(trash["group"], "市容环境");
        assert_eq!(trash["metadata"], false);
        assert_eq!(trash["type"], "realtime");
        assert!(trash["keywords"].as_str().is_some_and(|k| k.contains("暴露垃圾")));
        assert!(trash["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let (_, x) = get_xml(&app, "/open311/v2/services.xml").await;
    let doc = roxmltree::Document::parse(&x).expect("xml");
    assert_eq!(doc.root_element().tag_name().name(), "services");
    let services: Vec<_> = doc.root_element().children().filter(|n| n.has_tag_name("service")).collect();
    assert_eq!(services.len(), civgrid::demo::CLASSES.len());
    let code = services[0].children().find(|n| n.has_tag_name("service_code")).and_then(|n| n.text());
    assert_eq!(code, Some("0101"), "leading zeros kept");

    let (s, v) = get_json(&app, "/open311/v2/services/0101.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"service_code": "0101", "attributes": []}));
    let (s, x) = get_xml(&app, "/open311/v2/services/1101.xml").await;
    assert_eq!(s, StatusCode::OK);
    let doc = roxmltree::Document::parse(&x).expect("xml");
    assert_eq!(doc.root_element().tag_name().name(), "service_definition");
    assert!(doc.descendants().any(|n| n.has_tag_name("attributes")));

    // Not found, wrong jurisdiction, unknown format or resource: the spec's error bodies.
    let (s, body, _) = call(&app, "GET", "/open311/v2/services/9999.json", None).await;
    assert_json_error(&(s, body), StatusCode::NOT_FOUND, "service_code");
    let (s, body, _) = call(&app, "GET", "/open311/v2/services/9999.xml", None).await;
    assert_xml_error(&(s, body), StatusCode::NOT_FOUND, "service_code");
    let (s, body, _) = call(&app, "GET", "/open311/v2/services.json?jurisdiction_id=sfgov.org", None).await;
    assert_json_error(&(s, body), StatusCode::NOT_FOUND, "jurisdiction_id");
    let (s, body, _) = call(&app, "GET", "/open311/v2/services.xml?jurisdiction_id=440605", None).await;
    assert_xml_error(&(s, body), StatusCode::NOT_FOUND, "440604");
    let (s, body, _) = call(&app, "GET", "/open311/v2/services/0101.html", None).await;
    assert_xml_error(&(s, body), StatusCode::NOT_FOUND, "format");
    let (s, body, _) = call(&app, "GET", "/open311/v2/servicerequestupdates.json", None).await;
    assert_json_error(&(s, body), StatusCode::NOT_FOUND, "resource");
}
both_backends!(discovery_services_and_definitions_in_both_formats);

async fn a_posted_request_is_tracked_until_closed(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, key) = issue_key(&app, "市民通App").await;
    let (lng, lat) = inside_wgs84(&app, GRID).await;
    let (slat, slng) = (lat.to_string(), lng.to_string());
    let (s, body) = post(
        &app,
        "xml",
        &[
            ("api_key", key.as_str()),
            ("jurisdiction_id", "440604"),
            ("service_code", "0101"),
            ("lat", &slat),
            ("long", &slng),
            ("address_string", "祖庙街道 <某> 路 & 1 号"),
            ("description", "路口有一堆暴露垃圾，\n气味很大 \"急\""),
            ("first_name", "三"),
            ("last_name", "张"),
            ("email", "zhang3@example.cn"),
            ("phone", "13800000000"),
            ("media_url", "https://img.example.cn/a.jpg?x=1&y=2"),
            ("device_id", "tt222111"),
            ("attribute[WHISPAWN]", "123456"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let doc = roxmltree::Document::parse(&body).expect("well-formed");
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let text = |name: &str| doc.descendants().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).map(str::to_owned);
    let id = text("service_request_id").expect("service_request_id");
    assert!(text("token").is_none(), "never both an id and a token");
    assert!(text("service_notice").is_some_and(|n| n.contains("受理编号")));

    // Filed as an ordinary case of channel open311, reported by the key's name.
    let intake = app.login("intake").await;
    let (_, case) = app.get_as(&format!("/api/v1/cases/{id}"), &intake).await;
    assert_eq!(case["channel"], "open311");
    assert_eq!(case["reported_by"], "open311:市民通App");
    assert_eq!(case["grid_code"], GRID);
    assert_eq!(case["class_code"], "0101");

    let (s, v) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = &v.as_array().expect("a list of one")[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_notes"], "待受理");
    assert_eq!(r["service_code"], "0101");
    assert_eq!(r["service_name"], "暴露垃圾");
    assert_eq!(r["description"], "路口有一堆暴露垃圾，\n气味很大 \"急\"");
    assert_eq!(r["address"], "祖庙街道 <某> 路 & 1 号");
    assert_eq!(r["media_url"], "https://img.example.cn/a.jpg?x=1&y=2");
    assert!((r["lat"].as_f64().expect("lat") - lat).abs() < 1e-6, "{} vs {lat}", r["lat"]);
    assert!((r["long"].as_f64().expect("long") - lng).abs() < 1e-6, "{} vs {lng}", r["long"]);
    assert!(r["requested_datetime"].as_str().is_some_and(|t| t.ends_with("+08:00") && t.len() == 25), "{r}");
    assert_eq!(r["agency_responsible"], Value::Null);
    assert!(r.get("email").is_none() && r.get("phone").is_none(), "no reporter details in public output");
    // The XML twin, parsed and escaped properly.
    let (_, x) = get_xml(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    let doc = roxmltree::Document::parse(&x).expect("xml");
    let field = |name: &str| doc.descendants().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).map(str::to_owned);
    assert_eq!(field("address").as_deref(), Some("祖庙街道 <某> 路 & 1 号"));
    assert_eq!(field("media_url").as_deref(), Some("https://img.example.cn/a.jpg?x=1&y=2"));
    assert!((field("lat").expect("lat").parse::<f64>().expect("number") - lat).abs() < 1e-6);
    assert!(!x.contains("13800000000") && !x.contains("zhang3"), "no reporter details in public output");

    // The token (the case number) resolves at once.
    let number = case["number"].as_str().expect("number");
    let (s, v) = get_json(&app, &format!("/open311/v2/tokens/{number}.json")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!([{"service_request_id": id, "token": number}]));
    let (s, _) = get_xml(&app, &format!("/open311/v2/tokens/{number}.xml")).await;
    assert_eq!(s, StatusCode::OK);

    // Through the staff workflow to closed.
    let leader = app.login("shift_leader").await;
    let dispatcher = app.login("dispatcher").await;
    let handler = app.login("handler_cg").await;
    let worker = app.login("gridworker").await;
    act(&app, &intake, &id, json!({"action": "accept"})).await;
    act(&app, &leader, &id, json!({"action": "file"})).await;
    act(&app, &dispatcher, &id, json!({"action": "dispatch"})).await;
    let (_, v) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(v[0]["status"], "open");
    assert_eq!(v[0]["status_notes"], "待处置");
    assert_eq!(v[0]["agency_responsible"], "禅城区城市管理和综合执法局");
    assert!(v[0]["expected_datetime"].as_str().is_some_and(|t| t.ends_with("+08:00")), "{v}");
    act(&app, &handler, &id, json!({"action": "take"})).await;
    act(&app, &handler, &id, json!({"action": "feedback", "note": "已清运"})).await;
    act(&app, &worker, &id, json!({"action": "pass"})).await;
    act(&app, &leader, &id, json!({"action": "close"})).await;
    let (_, v) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(v[0]["status"], "closed", "{v}");
    assert_eq!(v[0]["status_notes"], "已结案");
    let (_, staff_view) = app.get_as(&format!("/api/v1/cases/{id}"), &intake).await;
    let closed_at = staff_view["closed_at"].as_str().expect("closed_at");
    let closed_at = chrono::DateTime::parse_from_rfc3339(closed_at).expect("RFC 3339").with_timezone(&chrono::Utc);
    assert_eq!(v[0]["updated_datetime"], civgrid::open311::w3c(&closed_at), "updated = when it was closed");

    // A request without description takes the service name; the case channel is counted.
    let (s, body) =
        post(&app, "json", &[("api_key", &key), ("service_code", "1101"), ("lat", &slat), ("long", &slng)]).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let id2 =
        serde_json::from_str::<Value>(&body).expect("json")[0]["service_request_id"].as_str().expect("id").to_owned();
    let (_, v) = get_json(&app, &format!("/open311/v2/requests/{id2}.json")).await;
    assert_eq!(v[0]["description"], "井盖缺失");
    assert_eq!(v[0]["media_url"], Value::Null);
}
both_backends!(a_posted_request_is_tracked_until_closed);

async fn get_requests_filters(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, key) = issue_key(&app, "filters").await;
    let p = inside_wgs84(&app, GRID).await;
    let a = file(&app, &key, "0101", p, "垃圾一").await;
    let bb = file(&app, &key, "0101", p, "垃圾二").await;
    let c = file(&app, &key, "0401", p, "占道经营").await;
    // A hotline report with no class yet is not a public service request.
    let (s, _) =
        app.send_json("POST", "/api/v1/reports", None, &json!({"description": "电话反映", "channel": "hotline"})).await;
    assert_eq!(s, StatusCode::CREATED);
    // One refused (closed, with the reason) and one merged into another.
    let intake = app.login("intake").await;
    let leader = app.login("shift_leader").await;
    act(&app, &intake, &c, json!({"action": "accept"})).await;
    act(&app, &leader, &c, json!({"action": "refuse", "note": "经核实为合法摊位"})).await;
    act(&app, &intake, &bb, json!({"action": "merge", "duplicate_of": a.parse::<i64>().expect("id")})).await;

    let ids = |v: &Value| -> Vec<String> {
        v.as_array().expect("array").iter().map(|r| r["service_request_id"].as_str().expect("id").to_owned()).collect()
    };
    let (s, v) = get_json(&app, "/open311/v2/requests.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ids(&v), [c.as_str(), bb.as_str(), a.as_str()], "newest first, only classified cases");
    let refused = &v[0];
    assert_eq!(refused["status"], "closed");
    assert_eq!(refused["status_notes"], "不予立案：经核实为合法摊位");
    assert_eq!(v[1]["status"], "closed");
    assert!(v[1]["status_notes"].as_str().is_some_and(|n| n.starts_with("已合并：与受理编号")), "{}", v[1]);

    let (_, v) = get_json(&app, "/open311/v2/requests.json?status=open").await;
    assert_eq!(ids(&v), [a.as_str()]);
    let (_, v) = get_json(&app, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(ids(&v), [c.as_str(), bb.as_str()]);
    let (_, v) = get_json(&app, "/open311/v2/requests.json?status=open,closed&service_code=").await;
    assert_eq!(v.as_array().map(Vec::len), Some(3), "empty arguments count as absent");
    let (_, v) = get_json(&app, "/open311/v2/requests.json?service_code=0401").await;
    assert_eq!(ids(&v), [c.as_str()]);
    let (_, v) = get_json(&app, "/open311/v2/requests.json?service_code=0101,0401&status=closed").await;
    assert_eq!(ids(&v), [c.as_str(), bb.as_str()]);
    // service_request_id overrides every other argument.
    let (_, v) =
        get_json(&app, &format!("/open311/v2/requests.json?service_request_id={a},{c},999999&status=closed")).await;
    assert_eq!(ids(&v), [c.as_str(), a.as_str()]);

    let now = chrono::Utc::now();
    let w3c = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let hour = chrono::Duration::hours(1);
    let (_, v) = get_json(&app, &format!("/open311/v2/requests.json?start_date={}", w3c(now - hour))).await;
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let (_, v) = get_json(&app, &format!("/open311/v2/requests.json?start_date={}", w3c(now + hour))).await;
    assert_eq!(v, json!([]));
    let (_, v) = get_json(&app, &format!("/open311/v2/requests.json?end_date={}", w3c(now - hour))).await;
    assert_eq!(v, json!([]));
    // An offset, percent-encoded or not.
    let cst = (now - hour).with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"));
    let local = cst.format("%Y-%m-%dT%H:%M:%S").to_string();
    let (_, v) = get_json(&app, &format!("/open311/v2/requests.json?start_date={local}%2B08:00&status=open")).await;
    assert_eq!(ids(&v), [a.as_str()]);
    let (_, v) = get_json(&app, &format!("/open311/v2/requests.json?start_date={local}+08:00&status=open")).await;
    assert_eq!(ids(&v), [a.as_str()]);
    let (s, x) = get_xml(&app, "/open311/v2/requests.xml?status=closed").await;
    assert_eq!(s, StatusCode::OK);
    let doc = roxmltree::Document::parse(&x).expect("xml");
    assert_eq!(doc.root_element().children().filter(|n| n.has_tag_name("request")).count(), 2);
    let (_, x) = get_xml(&app, &format!("/open311/v2/requests.xml?start_date={}", w3c(now + hour))).await;
    assert!(x.contains("<service_requests>"), "{x}");

    // Malformed filters: 400 with the spec's body.
    for (q, needle) in [
        ("start_date=2026-01-01", "start_date"),
        ("start_date=2026-01-01T00:00:00", "start_date"),
        ("end_date=yesterday", "end_date"),
        ("start_date=2026-13-01T00:00:00Z", "start_date"),
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90 days"),
        ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "before"),
        ("status=pending", "status"),
        ("service_code=9999", "service_code"),
    ] {
        let (s, body, _) = call(&app, "GET", &format!("/open311/v2/requests.json?{q}"), None).await;
        assert_json_error(&(s, body), StatusCode::BAD_REQUEST, needle);
        let (s, body, _) = call(&app, "GET", &format!("/open311/v2/requests.xml?{q}"), None).await;
        assert_xml_error(&(s, body), StatusCode::BAD_REQUEST, needle);
    }
    let (s, body, _) = call(&app, "GET", "/open311/v2/requests.json?jurisdiction_id=sfgov.org", None).await;
    assert_json_error(&(s, body), StatusCode::NOT_FOUND, "jurisdiction_id");
}
both_backends!(get_requests_filters);

/// A bad POST: its form, the status it must get, a word its description must contain.
type BadPost = (Vec<(String, String)>, StatusCode, &'static str);

async fn bad_requests_get_the_spec_errors_and_write_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, key) = issue_key(&app, "bad-input").await;
    let (lng, lat) = inside_wgs84(&app, GRID).await;
    let (lat, lng) = (lat.to_string(), lng.to_string());
    let long_text = "长".repeat(4001);
    let base = |extra: &[(&'static str, &str)], skip: &[&str]| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = [
            ("api_key", key.as_str()),
            ("service_code", "0101"),
            ("lat", &lat),
            ("long", &lng),
            ("description", "垃圾"),
        ]
        .iter()
        .filter(|(k, _)| !skip.contains(k))
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in extra {
            pairs.retain(|(pk, _)| pk != k);
            pairs.push(((*k).to_owned(), (*v).to_owned()));
        }
        pairs
    };
    let cases: Vec<BadPost> = vec![
        (base(&[], &["api_key"]), StatusCode::FORBIDDEN, "api_key"),
        (base(&[("api_key", "cgo_wrong")], &[]), StatusCode::FORBIDDEN, "api_key"),
        (base(&[("api_key", "")], &[]), StatusCode::FORBIDDEN, "api_key"),
        (base(&[("service_code", "9999")], &[]), StatusCode::NOT_FOUND, "service_code"),
        (base(&[], &["service_code"]), StatusCode::BAD_REQUEST, "service_code"),
        (base(&[], &["lat", "long"]), StatusCode::BAD_REQUEST, "location"),
        (base(&[("address_string", "祖庙路 1 号")], &["lat", "long"]), StatusCode::BAD_REQUEST, "address_string"),
        (base(&[("address_id", "545483")], &["lat", "long"]), StatusCode::BAD_REQUEST, "address_id"),
        (base(&[], &["long"]), StatusCode::BAD_REQUEST, "together"),
        (base(&[("lat", "39.9"), ("long", "116.4")], &[]), StatusCode::BAD_REQUEST, "outside"),
        (base(&[("description", long_text.as_str())], &[]), StatusCode::BAD_REQUEST, "4001"),
        (base(&[("lat", "abc")], &[]), StatusCode::BAD_REQUEST, "lat"),
        (base(&[("long", "181")], &[]), StatusCode::BAD_REQUEST, "long"),
        (base(&[("lat", "NaN")], &[]), StatusCode::BAD_REQUEST, "lat"),
        (base(&[("email", "not an email")], &[]), StatusCode::BAD_REQUEST, "email"),
        (base(&[("media_url", "javascript:alert(1)")], &[]), StatusCode::BAD_REQUEST, "media_url"),
        (base(&[("jurisdiction_id", "sfgov.org")], &[]), StatusCode::NOT_FOUND, "jurisdiction_id"),
    ];
    let before = (app.count("case_record").await, app.count("case_transition").await);
    for (pairs, status, needle) in &cases {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_json_error(&post(&app, "json", &pairs).await, *status, needle);
        assert_xml_error(&post(&app, "xml", &pairs).await, *status, needle);
    }
    // Not a form at all.
    let (s, body, _) = call(
        &app,
        "POST",
        "/open311/v2/requests.json",
        Some(("application/json", json!({"api_key": key, "service_code": "0101"}).to_string())),
    )
    .await;
    assert_json_error(&(s, body), StatusCode::BAD_REQUEST, "x-www-form-urlencoded");
    assert_eq!((app.count("case_record").await, app.count("case_transition").await), before, "nothing written");

    // Unknown requests and tokens: 404.
    for uri in ["/open311/v2/requests/999999.json", "/open311/v2/requests/abc.json", "/open311/v2/tokens/nope.json"] {
        let (s, body, _) = call(&app, "GET", uri, None).await;
        assert_json_error(&(s, body), StatusCode::NOT_FOUND, "not found");
    }
    let (s, body, _) = call(&app, "GET", "/open311/v2/requests/999999.xml", None).await;
    assert_xml_error(&(s, body), StatusCode::NOT_FOUND, "999999");

    // The api_key may also come in the query string (as some clients send it).
    let pairs = base(&[], &["api_key"]);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (s, body, _) = call(
        &app,
        "POST",
        &format!("/open311/v2/requests.json?api_key={key}"),
        Some(("application/x-www-form-urlencoded", form(&pairs))),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // Text no XML can carry (a control character from another channel) is dropped, not emitted.
    let gcj = civgrid_geo::datum::convert(
        LngLat::new(lng.parse().expect("lng"), lat.parse().expect("lat")).expect("point"),
        Datum::Wgs84,
        Datum::Gcj02,
    );
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &json!({"description": "bell<x>&", "class_code": "0101", "lng": gcj.lng(), "lat": gcj.lat(), "datum": "gcj02"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Reports now refuse control characters; a record stored before that still carries one.
    sqlx::query("update case_record set description = $1 where id = $2")
        .bind("bell\u{7}<x>&")
        .bind(v["case"]["id"].as_i64().expect("id"))
        .execute(app.state.db.pool())
        .await
        .expect("an older record");
    let (s, x) = get_xml(&app, &format!("/open311/v2/requests/{}.xml", v["case"]["id"])).await;
    assert_eq!(s, StatusCode::OK);
    let doc = roxmltree::Document::parse(&x).expect("xml");
    let d = doc.descendants().find(|n| n.has_tag_name("description")).and_then(|n| n.text());
    assert_eq!(d, Some("bell<x>&"));
}
both_backends!(bad_requests_get_the_spec_errors_and_write_nothing);

async fn keys_are_issued_revoked_and_recorded(b: Backend) {
    let app = TestApp::demo(b).await;
    let p = inside_wgs84(&app, GRID).await;
    let (id, key) = issue_key(&app, "街道App").await;
    assert!(key.starts_with("cgo_") && key.len() > 60);
    let stored: String =
        sqlx::query_scalar("select token_hash from bearer_token where kind = 'open311_key' and id = $1")
            .bind(id)
            .fetch_one(app.state.db.pool())
            .await
            .expect("row");
    assert_eq!(stored, civgrid::open311::hash_key(&key), "only the hash is stored");
    assert!(!stored.contains(&key[4..]));
    file(&app, &key, "0101", p, "有效的 key").await;

    // Only an admin over the district manages keys.
    let intake = app.login("intake").await;
    let (s, _) = app.send_json("POST", "/api/v1/admin/open311-keys", Some(&intake), &json!({"name": "x"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.send_json("POST", "/api/v1/admin/open311-keys", None, &json!({"name": "x"})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let admin = app.login("admin").await;
    let (s, _) = app.send_json("POST", "/api/v1/admin/open311-keys", Some(&admin), &json!({"name": " "})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = app.get_as("/api/v1/admin/open311-keys", &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["keys"]
        .as_array()
        .is_some_and(|k| k.iter().any(|k| k["name"] == "街道App" && k.get("key_hash").is_none())));

    // Revoked: the key stops working at once.
    let (s, _) = app.send_json("DELETE", &format!("/api/v1/admin/open311-keys/{id}"), Some(&intake), &json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app.send_json("DELETE", &format!("/api/v1/admin/open311-keys/{id}"), Some(&admin), &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let before = app.count("case_record").await;
    let (lat, lng) = (p.1.to_string(), p.0.to_string());
    let got = post(&app, "json", &[("api_key", &key), ("service_code", "0101"), ("lat", &lat), ("long", &lng)]).await;
    assert_json_error(&got, StatusCode::FORBIDDEN, "api_key");
    assert_eq!(app.count("case_record").await, before);
    let (s, v) = app.send_json("DELETE", &format!("/api/v1/admin/open311-keys/{id}"), Some(&admin), &json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["code"], "open311_key_not_found");
    let auditor = app.login("auditor").await;
    let (_, v) = app.get_as(&format!("/api/v1/admin/changes?entity=open311_key&entity_id={id}"), &auditor).await;
    let actions: Vec<&str> =
        v["changes"].as_array().expect("changes").iter().filter_map(|c| c["action"].as_str()).collect();
    assert_eq!(actions, ["open311_key.revoke", "open311_key.issue"]);

    // The demo key: a given key is stored once however often the demo restarts; a generated one
    // replaces the one generated before.
    let keys = civgrid::open311::Keys::new(app.state.db.clone());
    assert_eq!(keys.ensure_demo_key(Some("demo-open311-key")).await.expect("key"), "demo-open311-key");
    keys.ensure_demo_key(Some("demo-open311-key")).await.expect("idempotent");
    let n: i64 = sqlx::query_scalar("select count(*) from bearer_token where kind = 'open311_key' and name = 'demo'")
        .fetch_one(app.state.db.pool())
        .await
        .expect("count");
    assert_eq!(n, 1);
    file(&app, "demo-open311-key", "0101", p, "demo key").await;
    assert!(keys.ensure_demo_key(Some("short")).await.is_err());
    let g1 = keys.ensure_demo_key(None).await.expect("generated");
    let g2 = keys.ensure_demo_key(None).await.expect("generated");
    assert_ne!(g1, g2);
    assert!(keys.verify(&g1).await.expect("verify").is_none(), "the previous generated key is revoked");
    assert!(keys.verify(&g2).await.expect("verify").is_some());
    assert!(keys.verify("demo-open311-key").await.expect("verify").is_some(), "a given key is kept");
}
both_backends!(keys_are_issued_revoked_and_recorded);
