use axum::http::StatusCode;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

async fn health_metrics_and_unknown_routes(b: Backend) {
    let app = TestApp::empty(b).await;
    let (s, v) = app.get("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["database"], "up");
    assert_eq!(v["backend"], if b == Backend::Sqlite { "sqlite" } else { "postgres" });

    assert_error(&app.get("/no/such/thing").await, StatusCode::NOT_FOUND, "not_found");

    // A database that stops answering is reported, not hidden.
    app.state.db.close().await;
    let (s, v) = app.get("/healthz").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["database"], "down");
}
both_backends!(health_metrics_and_unknown_routes);

/// The metrics are for the system administrator's and the auditor's monitoring only.
async fn metrics_need_an_administrator_or_auditor(b: Backend) {
    let app = TestApp::demo(b).await;
    assert_error(&app.get("/metrics").await, StatusCode::UNAUTHORIZED, "unauthenticated");
    let gw = app.login("gridworker").await;
    assert_error(&app.get_as("/metrics", &gw).await, StatusCode::FORBIDDEN, "forbidden");
    for who in ["admin", "auditor"] {
        let token = app.login(who).await;
        let (s, v) = app.get_as("/metrics", &token).await;
        assert_eq!(s, StatusCode::OK, "{who}");
        let text = v.as_str().expect("metrics are text");
        assert!(text.contains("civgrid_http_requests_total"), "{text}");
        assert!(text.contains("civgrid_db_pool_connections"), "{text}");
    }
}
both_backends!(metrics_need_an_administrator_or_auditor);

async fn every_response_carries_a_request_id(b: Backend) {
    let app = TestApp::empty(b).await;
    let req = axum::http::Request::get("/healthz").body(axum::body::Body::empty()).expect("request");
    let (_, _, headers) = app.request(req).await;
    let id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).expect("x-request-id");
    assert_eq!(id.len(), 16);
}
both_backends!(every_response_carries_a_request_id);

/// Shutdown stops accepting but lets a request that is already in flight finish.
async fn graceful_shutdown_finishes_in_flight_requests(b: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::empty(b).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(civgrid::app::serve_until(app.state.clone(), listener, async {
        let _ = stop_rx.await;
    }));

    // Start a request and send only half of its body.
    let body = r#"{"username":"nobody","password":"wrong password"}"#;
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("head");
    conn.write_all(&body.as_bytes()[..10]).await.expect("half");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    stop_tx.send(()).expect("stop");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!server.is_finished(), "the server waits for the in-flight request");
    // New connections are no longer accepted.
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "listener closed after shutdown began");

    conn.write_all(&body.as_bytes()[10..]).await.expect("rest");
    let mut response = String::new();
    conn.read_to_string(&mut response).await.expect("response");
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains("invalid_credentials"), "{response}");
    tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("server stops after draining")
        .expect("join")
        .expect("serve");
}
both_backends!(graceful_shutdown_finishes_in_flight_requests);

/// Every documented operation exists in the router (none falls through to the fallback).
async fn the_openapi_document_lists_only_real_endpoints(b: Backend) {
    let app = TestApp::empty(b).await;
    let (s, doc) = app.get("/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    // What is served is the document generated from the router (tests/api/openapi.rs).
    assert_eq!(doc, civgrid::web::openapi::document());
    let paths = doc["paths"].as_object().expect("paths");
    for (path, ops) in paths {
        for method in ops.as_object().expect("ops").keys() {
            let uri = path
                .replace("{code}", "440604")
                .replace("{staff_id}", "1")
                .replace("{id}", "1")
                .replace("{photo_id}", "1")
                .replace("{day}", "2026-12-01")
                .replace("{area}", "440604")
                .replace("{tile_path}", "0/000")
                .replace("{kind}", "case_transition")
                .replace("{ref}", "1")
                .replace("{number}", "CG0000000000000000")
                .replace("{id_number}", "11010519491231002X");
            if uri == "/api/v1/events" {
                continue; // a stream; covered by the events tests
            }
            let req = axum::http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .body(axum::body::Body::empty())
                .expect("request");
            let (status, body, _) = app.request(req).await;
            let fell_through = status == StatusCode::NOT_FOUND
                && body["error"]["message"].as_str().is_some_and(|m| m.starts_with("no such endpoint"));
            let wrong_method = status == StatusCode::METHOD_NOT_ALLOWED;
            assert!(!fell_through && !wrong_method, "{method} {path} is documented but not routed ({status})");
        }
    }
}
both_backends!(the_openapi_document_lists_only_real_endpoints);
