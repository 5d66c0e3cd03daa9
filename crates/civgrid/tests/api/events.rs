use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use civgrid_geo::Datum;
use geo::InteriorPoint;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

/// An open SSE stream.
struct Stream {
    body: Body,
    buf: String,
}

impl Stream {
    async fn open(app: &TestApp, token: &str) -> Stream {
        let req =
            Request::get("/api/v1/events").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty());
        let resp = app.router.clone().oneshot(req.expect("request")).await.expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
        Stream { body: resp.into_body(), buf: String::new() }
    }

    /// The next `case` event's data, or None if nothing arrives within the wait.
    async fn next_case(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: case") {
                    let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
                    return serde_json::from_str(data).ok();
                }
                continue;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame()).await.ok()??.ok()?;
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

async fn inside(app: &TestApp, grid: &str) -> (f64, f64) {
    let (_, g) = app.get(&format!("/api/v1/grids/{grid}")).await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = shape.interior_point().expect("point");
    (p.x(), p.y())
}

async fn report_in(app: &TestApp, grid: &str, class: &str) -> i64 {
    let (x, y) = inside(app, grid).await;
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &json!({"description": "推送测试", "class_code": class, "lng": x, "lat": y, "datum": "gcj02"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["case"]["id"].as_i64().expect("id")
}

const WAIT: Duration = Duration::from_secs(5);

async fn whoever_must_act_hears_of_it_live(b: Backend) {
    let app = TestApp::demo(b).await;
    let mut worker = Stream::open(&app, &app.login("gridworker").await).await;
    let mut handler = Stream::open(&app, &app.login("handler_cg").await).await;
    let mut commander = Stream::open(&app, &app.login("commander").await).await;
    // Roles that read no case hear of none (the rule of the case list, issue 14).
    let mut clerk = Stream::open(&app, &app.login("clerk").await).await;
    let mut approver = Stream::open(&app, &app.login("approver").await).await;
    let mut auditor = Stream::open(&app, &app.login("auditor").await).await;

    let elsewhere = report_in(&app, "44060410001601", "0101").await;
    let mine = report_in(&app, "44060401000101", "0101").await;
    // The grid worker hears only of their grid; the command centre of both.
    let ev = worker.next_case(WAIT).await.expect("event for the grid worker");
    assert_eq!((ev["case_id"].as_i64(), ev["action"].as_str()), (Some(mine), Some("report")));
    assert_eq!(commander.next_case(WAIT).await.expect("first")["case_id"].as_i64(), Some(elsewhere));
    assert_eq!(commander.next_case(WAIT).await.expect("second")["case_id"].as_i64(), Some(mine));
    // The auditor oversees the district's cases (without the reporter, which no event carries).
    assert_eq!(auditor.next_case(WAIT).await.expect("oversight")["case_id"].as_i64(), Some(elsewhere));
    assert!(clerk.next_case(Duration::from_millis(500)).await.is_none(), "a window clerk hears of no case");
    assert!(approver.next_case(Duration::from_millis(500)).await.is_none(), "an approver hears of no case");

    // The department hears when the case is dispatched to it.
    for (user, action) in [("intake", "accept"), ("shift_leader", "file"), ("dispatcher", "dispatch")] {
        let token = app.login(user).await;
        let (s, v) = app
            .send_json("POST", &format!("/api/v1/cases/{mine}/transitions"), Some(&token), &json!({"action": action}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let ev = handler.next_case(WAIT).await.expect("dispatch event for the department");
    assert_eq!(ev["action"], "dispatch");
    assert_eq!(ev["state"], "dispatched");
    assert_eq!(ev["departments"], json!(["cgj"]));

    assert_error(&app.get("/api/v1/events").await, StatusCode::UNAUTHORIZED, "unauthenticated");
}
both_backends!(whoever_must_act_hears_of_it_live);

/// A report that arrives at node A is pushed to a grid worker connected to node B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_at_one_node_is_pushed_from_another_postgres() {
    let a = TestApp::demo(Backend::Postgres).await;
    let node_b = TestApp::node(a.place.clone()).await;
    let mut worker_on_b = Stream::open(&node_b, &node_b.login("gridworker").await).await;
    let id = report_in(&a, "44060401000101", "0401").await;
    let ev = worker_on_b.next_case(WAIT).await.expect("event crosses nodes");
    assert_eq!(ev["case_id"].as_i64(), Some(id));
    assert_eq!(ev["grid_code"], "44060401000101");
}
