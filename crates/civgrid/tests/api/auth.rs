use axum::http::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

async fn login_me_logout(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.login("dispatcher").await;
    let (s, me) = app.get_as("/api/v1/auth/me", &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["username"], "dispatcher");
    assert_eq!(me["roles"][0]["role"], "dispatcher");
    assert_eq!(me["roles"][0]["area_code"], "440604");

    let (s, _) = app.send_json("POST", "/api/v1/auth/logout", Some(&token), &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(&app.get_as("/api/v1/auth/me", &token).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_error(&app.get("/api/v1/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_error(&app.get_as("/api/v1/auth/me", "cgs_forged").await, StatusCode::UNAUTHORIZED, "unauthenticated");
}
both_backends!(login_me_logout);

async fn password_guessing_is_throttled(b: Backend) {
    let app = TestApp::demo(b).await;
    let wrong = json!({"username": "approver", "password": "not-the-password"});
    for _ in 0..5 {
        let got = app.send_json("POST", "/api/v1/auth/login", None, &wrong).await;
        assert_error(&got, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // Locked now, even with the right password: that is what stops guessing.
    let right = json!({"username": "approver", "password": civgrid::demo::DEMO_PASSWORD});
    let got = app.send_json("POST", "/api/v1/auth/login", None, &right).await;
    assert_error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    // Other accounts are not affected.
    app.login("clerk").await;
    // An unknown user is refused the same way as a wrong password.
    let ghost = json!({"username": "ghost", "password": "whatever-it-is"});
    assert_error(
        &app.send_json("POST", "/api/v1/auth/login", None, &ghost).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}
both_backends!(password_guessing_is_throttled);

async fn malformed_login_bodies(b: Backend) {
    let app = TestApp::empty(b).await;
    let got = app.send_raw("POST", "/api/v1/auth/login", None, "application/json", b"{\"username\":".to_vec()).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "invalid_json");
    let got =
        app.send_json("POST", "/api/v1/auth/login", None, &json!({"username": "a", "password": "b", "otp": 1})).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let got = app.send_raw("POST", "/api/v1/auth/login", None, "text/plain", b"hello".to_vec()).await;
    assert_error(&got, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let big = vec![b' '; 2 * 1024 * 1024];
    let got = app.send_raw("POST", "/api/v1/auth/login", None, "application/json", big).await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert_eq!(app.count("session").await, 0);
}
both_backends!(malformed_login_bodies);

async fn api_tokens_act_for_systems_until_revoked(b: Backend) {
    let app = TestApp::demo(b).await;
    let security = app.login("security_admin").await;
    let (_, staff) = app.get_as("/api/v1/admin/staff", &security).await;
    let commander =
        staff["staff"].as_array().expect("staff").iter().find(|s| s["username"] == "commander").expect("commander");
    let id = commander["id"].as_i64().expect("id");
    let body = json!({"staff_id": id, "name": "大屏系统", "valid_days": 30});
    let (s, issued) = app.send_json("POST", "/api/v1/admin/api-tokens", Some(&security), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    assert!(issued["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{issued}");
    let token = issued["token"].as_str().expect("token");
    let (s, me) = app.get_as("/api/v1/auth/me", token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["credential"]["kind"], "api_token");
    assert_eq!(me["username"], "commander");

    let token_id = issued["id"].as_i64().expect("id");
    let (s, _) =
        app.send_json("DELETE", &format!("/api/v1/admin/api-tokens/{token_id}"), Some(&security), &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(&app.get_as("/api/v1/auth/me", token).await, StatusCode::UNAUTHORIZED, "unauthenticated");
    let got =
        app.send_json("DELETE", &format!("/api/v1/admin/api-tokens/{token_id}"), Some(&security), &json!({})).await;
    assert_error(&got, StatusCode::NOT_FOUND, "token_not_found");
}
both_backends!(api_tokens_act_for_systems_until_revoked);
