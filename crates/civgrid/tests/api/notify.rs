//! Reporter notifications: outbox rows written with the change, delivered over SMTP and a signed
//! webhook, retried with back-off, surviving restarts.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use civgrid::notify::{NotifySettings, Outbox};
use civgrid_geo::Datum;
use geo::InteriorPoint;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// A minimal SMTP server that accepts everything and keeps (recipient, data).
async fn fake_smtp() -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 fake ESMTP\r\n").await;
                let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            if let Ok(mut m) = store.lock() {
                                m.push((rcpt.clone(), data.clone()));
                            }
                            let _ = w.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 fake\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt = line[8..].trim().trim_matches(|c| c == '<' || c == '>').to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, mails)
}

type Hooks = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A gateway that fails the first `failures` calls with 500 and records every call.
async fn fake_gateway(failures: usize) -> (String, Hooks) {
    let calls: Hooks = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let n = seen.lock().map(|mut v| {
                    v.push((headers, body));
                    v.len()
                });
                if n.unwrap_or(0) <= failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, calls)
}

const SECRET: &str = "a-shared-secret-of-some-length";

async fn report_with_contact(app: &TestApp, contact: &str) -> i64 {
    let (_, g) = app.get("/api/v1/grids/44060401000101").await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = shape.interior_point().expect("point");
    let body = json!({"description": "路灯不亮", "class_code": "1102", "lng": p.x(), "lat": p.y(), "datum": "gcj02", "reporter_contact": contact});
    let (s, v) = app.send_json("POST", "/api/v1/reports", None, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["case"]["id"].as_i64().expect("id")
}

async fn reporters_hear_of_every_status_change(b: Backend) {
    let app = TestApp::demo(b).await;
    let (smtp_port, mails) = fake_smtp().await;
    let (url, hooks) = fake_gateway(1).await;
    let settings = NotifySettings {
        smtp: Some(("127.0.0.1".into(), smtp_port)),
        smtp_from: Some("noreply@chancheng.gov.cn".into()),
        webhook_url: Some(url),
        webhook_secret: Some(SECRET.into()),
    };
    let outbox = Outbox::new(app.state.db.clone(), settings);

    let emailed = report_with_contact(&app, "citizen@example.org").await;
    let texted = report_with_contact(&app, "13800000000").await;
    assert_eq!(app.count("outbox").await, 2, "written with the report");

    let now = Utc::now();
    let d = outbox.deliver_due(now).await.expect("deliver");
    assert_eq!((d.sent, d.retrying, d.failed), (1, 1, 0), "the gateway failed once");
    assert_eq!(mails.lock().expect("mails").first().map(|m| m.0.clone()), Some("citizen@example.org".into()));
    // Not due again until the back-off has passed.
    assert_eq!(outbox.deliver_due(now).await.expect("deliver").sent, 0);
    let d = outbox.deliver_due(now + chrono::Duration::seconds(30)).await.expect("deliver");
    assert_eq!(d.sent, 1);
    let calls = hooks.lock().expect("calls").clone();
    assert_eq!(calls.len(), 2);
    let (headers, body) = &calls[1];
    let ts = headers["x-civgrid-timestamp"].to_str().expect("ts");
    let sig = headers["x-civgrid-signature"].to_str().expect("sig");
    assert_eq!(sig, format!("sha256={}", civgrid::notify::sign(SECRET, ts, body)), "signed with the shared secret");
    let payload: serde_json::Value = serde_json::from_str(body).expect("json");
    assert_eq!(payload["recipient"], "13800000000");
    assert!(payload["text"].as_str().is_some_and(|t| t.contains("已登记")), "{payload}");

    // A status change queues a message; a note-only action (督办) does not.
    let intake = app.login("intake").await;
    let commander = app.login("commander").await;
    let before = app.count("outbox").await;
    let (s, _) = app
        .send_json("POST", &format!("/api/v1/cases/{emailed}/transitions"), Some(&intake), &json!({"action": "accept"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .send_json(
            "POST",
            &format!("/api/v1/cases/{emailed}/transitions"),
            Some(&commander),
            &json!({"action": "supervise", "note": "内部督办"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.count("outbox").await, before + 1);
    let _ = texted;
}
both_backends!(reporters_hear_of_every_status_change);

async fn the_outbox_survives_restarts_and_gives_up_eventually(b: Backend) {
    let app = TestApp::demo(b).await;
    report_with_contact(&app, "13900000000").await;
    // Node A has no gateway configured: the message waits.
    let a = Outbox::new(app.state.db.clone(), NotifySettings::default());
    let now = Utc::now();
    let d = a.deliver_due(now).await.expect("deliver");
    assert_eq!(d.retrying, 1);
    // A restarted node with a (permanently failing) gateway keeps retrying until it gives up.
    let node_b = TestApp::node(app.place.clone()).await;
    let (url, hooks) = fake_gateway(usize::MAX).await;
    let b_outbox = Outbox::new(
        node_b.state.db.clone(),
        NotifySettings { webhook_url: Some(url), webhook_secret: Some(SECRET.into()), ..Default::default() },
    );
    let mut t = now;
    let mut failed = 0;
    for _ in 0..civgrid::notify::MAX_ATTEMPTS {
        t += chrono::Duration::hours(2);
        failed += b_outbox.deliver_due(t).await.expect("deliver").failed;
    }
    assert_eq!(failed, 1);
    assert_eq!(hooks.lock().expect("calls").len(), (civgrid::notify::MAX_ATTEMPTS - 1) as usize);
    assert_eq!(node_b.count("outbox where failed_at is not null").await, 1);
    assert_eq!(b_outbox.deliver_due(t + chrono::Duration::hours(2)).await.expect("deliver"), Default::default());
}
both_backends!(the_outbox_survives_restarts_and_gives_up_eventually);
