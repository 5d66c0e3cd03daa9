//! Certificates end to end: issue (from an approved application), bundle, verify online and
//! offline, revoke, audit.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

/// The holder of the certificates these tests issue.
const HOLDER: &str = "张三";

/// A 无犯罪记录证明 issued the only way there is: an application accepted at a window and
/// approved by public security, whose item issues the type.
async fn issue(app: &TestApp) -> String {
    let id = crate::security_services::person("44060419491231002");
    let (number, _) = crate::security_services::issued_licence(app, &id, HOLDER).await;
    let (_, v) = app.get_as(&format!("/api/v1/certificates/{number}"), &app.login("approver_gaj").await).await;
    assert_eq!(v["content"]["subject"]["name"], HOLDER);
    assert_eq!(v["department_code"], "gaj");
    number
}

/// The bundle as the issuing department fetches it.
async fn bundle_text(app: &TestApp, number: &str) -> (StatusCode, String) {
    let token = app.login("approver_gaj").await;
    let req = axum::http::Request::get(format!("/api/v1/certificates/{number}/bundle"))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    let s = resp.status();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (s, String::from_utf8(bytes.to_vec()).expect("utf-8"))
}

async fn verify(app: &TestApp, bytes: &str) -> Value {
    let (s, v) = app.send_raw("POST", "/api/v1/certificates/verify", None, "application/json", bytes.into()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn a_certificate_is_issued_verified_and_revoked(b: Backend) {
    let app = TestApp::demo(b).await;
    let approver = app.login("approver_gaj").await;
    let number = issue(&app).await;

    // Not yet sequenced: a precise, retryable refusal.
    let (s, v, headers) = app
        .request(
            axum::http::Request::get(format!("/api/v1/certificates/{number}/bundle"))
                .header(axum::http::header::AUTHORIZATION, format!("Bearer {approver}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_yet_logged")), "{v}");
    assert_eq!(headers["retry-after"], "1");

    app.state.ledger.integrate().await.expect("integrate");
    let (s, bundle) = bundle_text(&app, &number).await;
    assert_eq!(s, StatusCode::OK, "{bundle}");
    let v = verify(&app, &bundle).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["certificate"]["number"], number);

    // Offline: the pure verifier with only the published trust file agrees.
    let (_, trust, _) = app.get_bytes("/ledger/trust").await;
    let trust = civgrid_ledger::policy::TrustFile::parse(&trust).expect("trust file");
    civgrid_ledger::bundle::verify_bundle(bundle.as_bytes(), &trust).expect("verifies offline");

    // Tampered or truncated bundles never verify.
    for bad in [
        bundle.replace(HOLDER, "李四"),
        bundle.replace("无犯罪记录证明开具", "无犯罪记录证明伪造"),
        bundle[..bundle.len() / 2].to_owned(),
        String::new(),
        "{}".to_owned(),
    ] {
        let v = verify(&app, &bad).await;
        assert_eq!(v["valid"], false, "{bad:.80} → {v}");
        assert!(v["code"].as_str().is_some_and(|c| c != "ok"));
        assert!(v["message_zh"].as_str().is_some_and(|m| m.starts_with("核验未通过")), "{v}");
    }

    // The QR code's check, the QR itself and the page.
    let (s, v) = app.get(&format!("/api/v1/certificates/{number}/check")).await;
    assert_eq!((s, v["valid"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let (s, svg, headers) = app.get_bytes(&format!("/api/v1/certificates/{number}/qr.svg")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    for page in ["/verify".to_owned(), format!("/verify/{number}")] {
        let (s, html, _) = app.get_bytes(&page).await;
        assert_eq!(s, StatusCode::OK);
        let html = String::from_utf8_lossy(&html);
        assert!(html.contains("证书核验"));
        // The page shows an answer's error by its code in the reader's language.
        assert!(!html.contains("__CIVGRID_ERRORS__"));
        assert!(html.contains("\"certificate_not_found\":\"没有这个编号的证书。\""), "Chinese");
        assert!(html.contains("\"certificate_not_found\":\"No certificate has that number.\""), "English");
    }

    // Revocation is logged, and the old bundle no longer passes. (A fresh session: the helpers
    // above signed the approver in again, and an account keeps only its newest few sessions.)
    let approver = app.login("approver_gaj").await;
    let revoke = format!("/api/v1/certificates/{number}/revoke");
    let (s, v) = app.send_json("POST", &revoke, Some(&approver), &json!({"reason": "持证人申请作废"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["revoked_at"].is_string());
    let again = app.send_json("POST", &revoke, Some(&approver), &json!({"reason": "x"})).await;
    assert_error(&again, StatusCode::CONFLICT, "already_revoked");
    let v = verify(&app, &bundle).await;
    assert_eq!((v["valid"].as_bool(), v["code"].as_str()), (Some(false), Some("revoked")), "{v}");
    app.state.ledger.integrate().await.expect("integrate");
    let (s, _) = app.get(&format!("/api/v1/ledger/entries/certificate_revocation/{number}")).await;
    assert_eq!(s, StatusCode::OK);

    // The audit sees certificates too: an edited content and an undone revocation.
    let pool = app.state.db.pool();
    let clean = crate::ledger::run_audit_all(&app).await;
    assert!(clean.is_clean(), "{:?}", clean.findings);
    sqlx::query("update certificate set content = replace(content, '张三', '李四'), revoked_at = null")
        .execute(pool)
        .await
        .expect("tamper");
    let report = crate::ledger::run_audit_all(&app).await;
    let mut found: Vec<_> = report.findings.iter().map(|f| (f.code, f.kind.clone())).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("record_changed", Some("certificate".to_owned())),
            ("record_deleted", Some("certificate_revocation".to_owned()))
        ]
    );
}
both_backends!(a_certificate_is_issued_verified_and_revoked);

async fn bad_certificate_requests_are_refused_and_write_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let approver = app.login("approver_gaj").await;
    let clerk = app.login("clerk").await;
    let before = (app.count("certificate").await, app.count("ledger_entry").await);
    let cases = [
        (
            json!({"type": "no_criminal_record", "subject_name": "张三"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (json!({"application_number": 7}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (json!({"application_number": "BJ20261207999999"}), StatusCode::NOT_FOUND, "application_not_found"),
        (json!({"application_number": "../x"}), StatusCode::NOT_FOUND, "application_not_found"),
    ];
    for (body, status, code) in cases {
        assert_error(&app.send_json("POST", "/api/v1/certificates", Some(&approver), &body).await, status, code);
    }
    let body = json!({"application_number": "BJ20261207999999"});
    let r = app.send_json("POST", "/api/v1/certificates", Some(&clerk), &body).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = app.send_json("POST", "/api/v1/certificates", None, &body).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!((app.count("certificate").await, app.count("ledger_entry").await), before, "nothing written");

    // Unknown or malformed numbers.
    assert_error(
        &app.get_as("/api/v1/certificates/CG0000000000000000/bundle", &approver).await,
        StatusCode::NOT_FOUND,
        "certificate_not_found",
    );
    assert_error(&app.get("/api/v1/certificates/../../etc/bundle").await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&app.get("/api/v1/certificates/nope/check").await, StatusCode::NOT_FOUND, "certificate_not_found");
    // Only the issuing department (or an admin of its area) revokes; a clerk cannot.
    let number = issue(&app).await;
    let r = app
        .send_json("POST", &format!("/api/v1/certificates/{number}/revoke"), Some(&clerk), &json!({"reason": "x"}))
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = app
        .send_json("POST", &format!("/api/v1/certificates/{number}/revoke"), Some(&approver), &json!({"reason": ""}))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    // An oversized upload is refused before it is read.
    let big = vec![b' '; 2 * 1024 * 1024];
    let r = app.send_raw("POST", "/api/v1/certificates/verify", None, "application/json", big).await;
    assert_eq!(r.0, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.1);
}
both_backends!(bad_certificate_requests_are_refused_and_write_nothing);

/// `civgrid verify` checks a downloaded bundle offline with the published trust file.
async fn the_verify_command_checks_a_downloaded_bundle(b: Backend) {
    let app = TestApp::demo(b).await;
    let number = issue(&app).await;
    app.state.ledger.integrate().await.expect("integrate");
    let (_, bundle) = bundle_text(&app, &number).await;
    let (_, trust, _) = app.get_bytes("/ledger/trust").await;
    let dir = tempfile::tempdir().expect("dir");
    let (bundle_path, trust_path, bad_path) =
        (dir.path().join("c.civgrid.json"), dir.path().join("trust.txt"), dir.path().join("bad.json"));
    std::fs::write(&bundle_path, &bundle).unwrap();
    std::fs::write(&trust_path, &trust).unwrap();
    std::fs::write(&bad_path, bundle.replace(HOLDER, "王五")).unwrap();
    let run = |file: &std::path::Path| {
        crate::helpers::civgrid(&["verify", file.to_str().unwrap(), "--trust", trust_path.to_str().unwrap()])
    };
    let (code, out, err) = run(&bundle_path);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&bad_path);
    assert_eq!(code, Some(1), "{out}{err}");
}
both_backends!(the_verify_command_checks_a_downloaded_bundle);
