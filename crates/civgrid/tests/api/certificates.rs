//! Certificates end to end: issue, bundle, verify online and offline, revoke, audit.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

fn good() -> Value {
    json!({
        "type": "no_criminal_record",
        "subject_name": "张三",
        "subject_id_number": "11010519491231002X",
        "fields": {"purpose": "出国留学", "checked_period": "2008-01-01 至 2026-11-01"},
        "valid_until": "2027-05-22",
    })
}

async fn issue(app: &TestApp, token: &str) -> String {
    let (s, v) = app.send_json("POST", "/api/v1/certificates", Some(token), &good()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["content"]["subject"]["name"], "张三");
    assert_eq!(v["department_code"], "scjg");
    v["number"].as_str().expect("number").to_owned()
}

async fn bundle_text(app: &TestApp, number: &str) -> (StatusCode, String) {
    let (s, body, _) = app.get_bytes(&format!("/api/v1/certificates/{number}/bundle")).await;
    (s, String::from_utf8(body).expect("utf-8"))
}

async fn verify(app: &TestApp, bytes: &str) -> Value {
    let (s, v) = app.send_raw("POST", "/api/v1/certificates/verify", None, "application/json", bytes.into()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn a_certificate_is_issued_verified_and_revoked(b: Backend) {
    let app = TestApp::demo(b).await;
    let approver = app.login("approver").await;
    let number = issue(&app, &approver).await;

    // Not yet sequenced: a precise, retryable refusal.
    let (s, v, headers) = app
        .request(
            axum::http::Request::get(format!("/api/v1/certificates/{number}/bundle"))
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
        bundle.replace("张三", "李四"),
        bundle.replace("出国留学", "出国旅游"),
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

    // Revocation is logged, and the old bundle no longer passes.
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
    let approver = app.login("approver").await;
    let clerk = app.login("clerk").await;
    let before = (app.count("certificate").await, app.count("ledger_entry").await);
    let with = |k: &str, v: Value| {
        let mut body = good();
        body[k] = v;
        body
    };
    let cases = [
        (with("type", json!("passport")), StatusCode::UNPROCESSABLE_ENTITY, "unknown_certificate_type"),
        (
            with("subject_id_number", json!("110105194912310021")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number_checksum",
        ),
        (
            with("subject_id_number", json!("110105194913310021")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_id_number_birth_date",
        ),
        (with("subject_id_number", json!("12345")), StatusCode::UNPROCESSABLE_ENTITY, "invalid_id_number"),
        (with("subject_name", json!(" ")), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (with("fields", json!({"Bad Key": "x"})), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (with("fields", json!({"note": "x".repeat(501)})), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (with("valid_until", json!("2027-13-01")), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (with("extra", json!(1)), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
    ];
    for (body, status, code) in cases {
        assert_error(&app.send_json("POST", "/api/v1/certificates", Some(&approver), &body).await, status, code);
    }
    let r = app.send_json("POST", "/api/v1/certificates", Some(&clerk), &good()).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = app.send_json("POST", "/api/v1/certificates", None, &good()).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!((app.count("certificate").await, app.count("ledger_entry").await), before, "nothing written");

    // Unknown or malformed numbers.
    assert_error(
        &app.get("/api/v1/certificates/CG0000000000000000/bundle").await,
        StatusCode::NOT_FOUND,
        "certificate_not_found",
    );
    assert_error(&app.get("/api/v1/certificates/../../etc/bundle").await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&app.get("/api/v1/certificates/nope/check").await, StatusCode::NOT_FOUND, "certificate_not_found");
    // Only the issuing department (or an admin) revokes; a clerk cannot.
    let number = issue(&app, &approver).await;
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
    let approver = app.login("approver").await;
    let number = issue(&app, &approver).await;
    app.state.ledger.integrate().await.expect("integrate");
    let (_, bundle) = bundle_text(&app, &number).await;
    let (_, trust, _) = app.get_bytes("/ledger/trust").await;
    let dir = tempfile::tempdir().expect("dir");
    let (bundle_path, trust_path, bad_path) =
        (dir.path().join("c.civgrid.json"), dir.path().join("trust.txt"), dir.path().join("bad.json"));
    std::fs::write(&bundle_path, &bundle).unwrap();
    std::fs::write(&trust_path, &trust).unwrap();
    std::fs::write(&bad_path, bundle.replace("张三", "王五")).unwrap();
    let run = |file: &std::path::Path| {
        crate::helpers::civgrid(&["verify", file.to_str().unwrap(), "--trust", trust_path.to_str().unwrap()])
    };
    let (code, out, err) = run(&bundle_path);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&bad_path);
    assert_eq!(code, Some(1), "{out}{err}");
}
both_backends!(the_verify_command_checks_a_downloaded_bundle);
