//! The web layer under attack (issue 14): redirects that leave the site, forged request ids,
//! personal data in request logs, the security headers and caching of personal data.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

fn location(headers: &axum::http::HeaderMap) -> String {
    headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// `/lang/{code}?back=` and `/login?next=` follow only paths of this site: a tab or line break
/// that browsers drop (`/%09/host` → `//host`) is refused, and no input makes the redirect panic.
async fn redirects_stay_on_the_site(b: Backend) {
    let app = TestApp::demo(b).await;
    for bad in ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "//evil.example", "/%5cevil.example"]
    {
        let req = Request::get(format!("/lang/en?back={bad}")).body(Body::empty()).expect("request");
        let (s, _, h) = app.request(req).await;
        assert!(s.is_redirection(), "{bad}: {s}");
        assert_eq!(location(&h), "/", "{bad}");
    }
    let req = Request::get("/lang/en?back=/portal%3Fx%3D1").body(Body::empty()).expect("request");
    let (_, _, h) = app.request(req).await;
    assert_eq!(location(&h), "/portal?x=1");

    // Signed in, the sign-in page sends the person on at once: only to a path of this site.
    let token = app.login("commander").await;
    for (next, want) in [("/%09/evil.example", "/workbench"), ("/workbench/command", "/workbench/command")] {
        let req = Request::get(format!("/login?next={next}"))
            .header(header::COOKIE, format!("civgrid_session={token}"))
            .body(Body::empty())
            .expect("request");
        let (s, _, h) = app.request(req).await;
        assert!(s.is_redirection(), "{next}: {s}");
        assert_eq!(location(&h), want, "{next}");
    }
    // Signed out, the page carries the target for after sign-in: the same rule.
    let (s, page) = app.get("/login?next=/%09/evil.example").await;
    assert_eq!(s, StatusCode::OK);
    let page = page.as_str().expect("html").to_owned();
    assert!(page.contains(r#"data-next="/workbench""#), "the bad target is replaced");
}
both_backends!(redirects_stay_on_the_site);

/// The request id is the server's own: a client's `x-request-id` can neither forge log fields
/// nor stand in the change record as another request's id.
async fn a_client_cannot_choose_the_request_id(b: Backend) {
    let app = TestApp::demo(b).await;
    let admin = app.login("admin").await;
    let forged = "abc\" level=ERROR user=root";
    let req = Request::put("/api/v1/admin/departments/qxj")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", forged)
        .body(Body::from(r#"{"name":"区气象局","area_code":"440604"}"#))
        .expect("request");
    let (s, v, h) = app.request(req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = h.get("x-request-id").and_then(|v| v.to_str().ok()).expect("x-request-id").to_owned();
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
    let recorded: Option<String> =
        sqlx::query_scalar("select request_id from change_record where entity_id = 'qxj' order by id desc limit 1")
            .fetch_one(app.state.db.pool())
            .await
            .expect("change record");
    assert_eq!(recorded.as_deref(), Some(id.as_str()), "the change record carries the server's id");

    // A well-formed client id is not the request's id either (it could name another request).
    let req = Request::get("/healthz").header("x-request-id", "0123456789abcdef").body(Body::empty()).expect("req");
    let (_, _, h) = app.request(req).await;
    assert_ne!(h.get("x-request-id").and_then(|v| v.to_str().ok()), Some("0123456789abcdef"));
}
both_backends!(a_client_cannot_choose_the_request_id);

/// A writer the log lines of one test go to.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Request log lines name the route's template, never the path with the numbers of people and
/// records in it, and carry a client's request id only as its own, sanitised field.
#[test]
fn request_logs_carry_no_numbers_from_the_path() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let app = TestApp::empty(Backend::Sqlite).await;
        for uri in ["/api/v1/applicants/11010519491231002X/licences", "/api/v1/certificates/ZS4406042026000001/check"] {
            let req = Request::get(uri).header("x-request-id", "a\" forged=1").body(Body::empty()).expect("request");
            app.request(req).await;
        }
        let req = Request::get("/healthz").header("x-request-id", "client-7").body(Body::empty()).expect("request");
        app.request(req).await;
    });
    let text = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
    assert!(text.contains("route=/api/v1/applicants/{id_number}/licences"), "{text}");
    assert!(!text.contains("11010519491231002X"), "an ID number reached the log:\n{text}");
    assert!(!text.contains("ZS4406042026000001"), "a certificate number reached the log:\n{text}");
    assert!(!text.contains("forged=1"), "a client's header forged a log field:\n{text}");
    assert!(text.contains("client_request_id=client-7"), "{text}");
}

/// Every answer carries the security headers; answers with personal data are not stored.
async fn security_headers_and_no_store(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.login("commander").await;
    let req = Request::get("/api/v1/cases").header(header::AUTHORIZATION, format!("Bearer {token}"));
    let (s, _, h) = app.request(req.body(Body::empty()).expect("request")).await;
    assert_eq!(s, StatusCode::OK);
    let get = |h: &axum::http::HeaderMap, k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(get(&h, "cache-control"), "no-store");
    for (status, page) in [(StatusCode::OK, "/portal"), (StatusCode::NOT_FOUND, "/no/such/page")] {
        let (s, _, h) = app.request(Request::get(page).body(Body::empty()).expect("request")).await;
        assert_eq!(s, status, "{page}");
        let csp = get(&h, "content-security-policy");
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(get(&h, "x-content-type-options"), "nosniff", "{page}");
        assert_eq!(get(&h, "x-frame-options"), "DENY", "{page}");
        assert_eq!(get(&h, "referrer-policy"), "no-referrer", "{page}");
    }
    // Assets keep their own caching (they carry nothing personal).
    let (_, _, h) = app.request(Request::get("/assets/app.css").body(Body::empty()).expect("request")).await;
    assert_eq!(get(&h, "cache-control"), "no-cache");
}
both_backends!(security_headers_and_no_store);

/// No page carries inline script or style, which the Content-Security-Policy would block (a
/// page that relied on one would silently stop working in the browser).
async fn pages_carry_no_inline_script_or_style(b: Backend) {
    let app = TestApp::demo(b).await;
    let mut pages: Vec<(Option<String>, &str)> =
        ["/", "/login", "/portal", "/portal/services", "/portal/application", "/kiosk", "/verify"]
            .into_iter()
            .map(|p| (None, p))
            .collect();
    for (who, page) in [
        ("commander", "/workbench/command"),
        ("commander", "/workbench/trends"),
        ("intake", "/workbench/desk"),
        ("handler_cg", "/workbench/handler"),
        ("gridworker", "/workbench/grid"),
        ("clerk", "/workbench/window"),
        ("approver", "/workbench/approve"),
        ("admin", "/workbench/admin"),
    ] {
        pages.push((Some(app.login(who).await), page));
    }
    for (token, page) in pages {
        let mut req = Request::get(page);
        if let Some(t) = &token {
            req = req.header(header::COOKIE, format!("civgrid_session={t}"));
        }
        let (s, body, _) = app.request(req.body(Body::empty()).expect("request")).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        let html = body.as_str().expect("html");
        assert!(!html.contains("<style"), "{page} has a <style> element");
        assert!(!html.contains(" style=\""), "{page} has a style attribute");
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..html[i..].find('>').map_or(html.len(), |e| i + e)];
            assert!(
                tag.contains(" src=\"/assets/") || tag.contains("type=\"application/json\""),
                "{page}: inline {tag}"
            );
        }
        for handler in [" onclick=", " onload=", " onsubmit=", " onchange=", "javascript:"] {
            assert!(!html.contains(handler), "{page} has an inline handler {handler}");
        }
    }
}
both_backends!(pages_carry_no_inline_script_or_style);
