//! Issue 14 (cases) under load: many staff moving cases at once beside anonymous reports, and a
//! flood of anonymous ratings beside a staff read, never answer 5xx (no transaction waits for a
//! second pooled connection or for the writer it holds up).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::both_backends;
use crate::cases::{closed_case, inside};
use crate::helpers::{Backend, TestApp};
use crate::security_cases::from_addr;

/// The status of one request through the router.
async fn status_of(router: axum::Router, req: Request<Body>) -> StatusCode {
    router.oneshot(req).await.expect("router never fails").status()
}

fn staff_json(uri: &str, token: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// The transitions one session makes on each of its cases: (session token, request).
type Steps = Vec<(String, Value)>;

/// Six staff sessions make 50 transitions each on cases of their own while anonymous citizens
/// report from many addresses: every answer is a success, none a 5xx.
async fn many_staff_and_citizens_at_once_never_get_5xx(b: Backend) {
    let app = TestApp::demo(b).await;
    let (x, y) = inside(&app, "44060401000101").await;
    let operator = app.login("intake").await;
    let report = json!({"description": "垃圾", "class_code": "0101", "lng": x, "lat": y, "datum": "gcj02"});
    let mut made = JoinSet::new();
    for _ in 0..150 {
        let router = app.router.clone();
        let req = staff_json("/api/v1/reports", &operator, &report);
        made.spawn(async move {
            let resp = router.oneshot(req).await.expect("response");
            let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.expect("body").to_bytes();
            serde_json::from_slice::<Value>(&bytes).expect("json")["case"]["id"].as_i64().expect("id")
        });
    }
    let mut ids: Vec<i64> = made.join_all().await;
    ids.sort_unstable();

    // Three commanders supervise and escalate 25 cases each; three intake/shift-leader pairs
    // accept and file 25 cases each: 50 transitions per session, on distinct cases.
    let mut work: Vec<(Steps, Vec<i64>)> = Vec::new();
    for (k, chunk) in ids.chunks(25).enumerate() {
        let steps = if k < 3 {
            let commander = app.login("commander").await;
            vec![
                (commander.clone(), json!({"action": "supervise", "note": "督办"})),
                (commander, json!({"action": "escalate", "note": "升级"})),
            ]
        } else {
            vec![
                (app.login("intake").await, json!({"action": "accept"})),
                (app.login("shift_leader").await, json!({"action": "file"})),
            ]
        };
        work.push((steps, chunk.to_vec()));
    }
    let before = app.count("case_transition").await;
    let mut tasks = JoinSet::new();
    for (steps, cases) in work {
        let router = app.router.clone();
        tasks.spawn(async move {
            let mut got = Vec::new();
            for id in cases {
                for (token, body) in &steps {
                    let uri = format!("/api/v1/cases/{id}/transitions");
                    got.push(status_of(router.clone(), staff_json(&uri, token, body)).await);
                }
            }
            got
        });
    }
    for n in 0..40 {
        let router = app.router.clone();
        let req = from_addr("POST", "/api/v1/reports", &format!("192.0.2.{}", n + 1), &report);
        tasks.spawn(async move { vec![status_of(router, req).await] });
    }
    let statuses: Vec<StatusCode> = tasks.join_all().await.into_iter().flatten().collect();
    let failed: Vec<&StatusCode> = statuses.iter().filter(|s| !s.is_success()).collect();
    assert!(failed.is_empty(), "every request succeeds: {failed:?}");
    assert_eq!(statuses.len(), 6 * 50 + 40);
    assert_eq!(app.count("case_transition").await, before + 6 * 50 + 40);
}
both_backends!(many_staff_and_citizens_at_once_never_get_5xx);

/// Eighty anonymous ratings at once, most with wrong contacts, while a staff member reads the
/// cases: no 5xx, the staff read succeeds, and each case takes one rating.
async fn a_flood_of_ratings_leaves_the_service_up(b: Backend) {
    let app = Arc::new(TestApp::demo(b).await);
    let mut numbers = Vec::new();
    for n in 0..4 {
        numbers.push(closed_case(&app, Some(&format!("1380000{n:04}"))).await.1);
    }
    let reader = app.login("dispatcher").await;
    let mut tasks = JoinSet::new();
    for k in 0..80usize {
        let router = app.router.clone();
        let number = numbers[k % numbers.len()].clone();
        // One in eight gives the right contact (of the first case); the rest guess.
        let contact = if k % 8 == 0 { format!("1380000{:04}", k % 4) } else { format!("1370000{k:04}") };
        let req = from_addr(
            "POST",
            &format!("/api/v1/public/cases/{number}/rating"),
            &format!("198.18.0.{}", k + 1),
            &json!({"rating": 4, "contact": contact}),
        );
        tasks.spawn(async move { ("rating", status_of(router, req).await) });
    }
    for _ in 0..5 {
        let router = app.router.clone();
        let req = Request::get("/api/v1/cases")
            .header("authorization", format!("Bearer {reader}"))
            .body(Body::empty())
            .expect("request");
        tasks.spawn(async move { ("staff read", status_of(router, req).await) });
    }
    let results = tasks.join_all().await;
    for (what, status) in &results {
        assert!(!status.is_server_error(), "{what}: {status}");
        if *what == "staff read" {
            assert_eq!(*status, StatusCode::OK);
        } else {
            assert!(
                [StatusCode::CREATED, StatusCode::FORBIDDEN, StatusCode::CONFLICT, StatusCode::TOO_MANY_REQUESTS]
                    .contains(status),
                "{status}"
            );
        }
    }
    let rated: i64 = sqlx::query_scalar("select count(*) from case_record where rating is not null")
        .fetch_one(app.state.db.pool())
        .await
        .expect("count");
    let created = results.iter().filter(|(_, s)| *s == StatusCode::CREATED).count() as i64;
    assert!(created <= 4 && rated >= created, "{created} ratings answered, {rated} stored");
}
both_backends!(a_flood_of_ratings_leaves_the_service_up);
