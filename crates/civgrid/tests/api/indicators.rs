//! The evaluation indicators against a hand-computed fixture (see docs/INDICATORS.md).

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use civgrid::cases::{NewReport, TransitionRequest};
use civgrid::staff::Principal;
use civgrid_geo::Datum;
use geo::InteriorPoint;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+08:00")).expect("time").with_timezone(&Utc)
}

struct Fixture {
    app: TestApp,
    point: (f64, f64),
}

impl Fixture {
    async fn principal(&self, user: &str) -> Principal {
        let token = self.app.login(user).await;
        self.app.state.staff.authenticate(&token).await.expect("principal")
    }

    async fn report(&self, when: &str, class: &str) -> i64 {
        let r = NewReport {
            description: "指标测试".into(),
            class_code: Some(class.into()),
            lng: Some(self.point.0),
            lat: Some(self.point.1),
            datum: Some("gcj02".into()),
            ..Default::default()
        };
        self.app.state.cases.at(at(when)).report("citizen", r).await.expect("report").case.id
    }

    async fn act(&self, when: &str, user: &str, id: i64, action: &str, extra: Value) {
        let mut body = json!({"action": action, "note": "说明"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let req: TransitionRequest = serde_json::from_value(body).expect("request");
        let p = self.principal(user).await;
        self.app
            .state
            .cases
            .at(at(when))
            .transition(&p, id, req)
            .await
            .unwrap_or_else(|e| panic!("{action} at {when}: {e}"));
    }
}

async fn indicators_match_the_hand_computed_fixture(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, g) = app.get("/api/v1/grids/44060401000101").await;
    let shape = civgrid_geo::import::parse_boundary(g["geometry"].to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = shape.interior_point().expect("point");
    let f = Fixture { app, point: (p.x(), p.y()) };
    let none = json!({});
    // Monday 2026-11-16. A: on time all the way.
    let a = f.report("2026-11-16T09:00:00", "0101").await;
    f.act("2026-11-16T09:05:00", "intake", a, "accept", none.clone()).await;
    f.act("2026-11-16T09:10:00", "shift_leader", a, "file", none.clone()).await;
    f.act("2026-11-16T09:20:00", "dispatcher", a, "dispatch", none.clone()).await; // due 11:20
    f.act("2026-11-16T09:30:00", "handler_cg", a, "take", none.clone()).await;
    f.act("2026-11-16T10:20:00", "handler_cg", a, "feedback", none.clone()).await; // 1.0 h; verify due 16:20
    f.act("2026-11-16T10:50:00", "gridworker", a, "pass", none.clone()).await;
    f.act("2026-11-16T11:00:00", "shift_leader", a, "close", none.clone()).await;
    // B: late, reworked once, verified late the second time.
    let bb = f.report("2026-11-16T09:00:00", "0101").await;
    f.act("2026-11-16T09:05:00", "intake", bb, "accept", none.clone()).await;
    f.act("2026-11-16T09:10:00", "shift_leader", bb, "file", none.clone()).await;
    f.act("2026-11-16T09:20:00", "dispatcher", bb, "dispatch", none.clone()).await; // due 11:20
    f.act("2026-11-16T09:30:00", "handler_cg", bb, "take", none.clone()).await;
    f.act("2026-11-16T15:20:00", "handler_cg", bb, "feedback", none.clone()).await;
    f.act("2026-11-16T16:00:00", "gridworker", bb, "fail", none.clone()).await;
    f.act("2026-11-17T09:30:00", "handler_cg", bb, "feedback", none.clone()).await; // verify due 15:30
    f.act("2026-11-17T16:00:00", "gridworker_pt", bb, "pass", none.clone()).await;
    f.act("2026-11-17T16:10:00", "shift_leader", bb, "close", none.clone()).await;
    // C: returned once, re-dispatched, still being handled.
    let c = f.report("2026-11-16T09:00:00", "1102").await;
    f.act("2026-11-16T09:05:00", "intake", c, "accept", none.clone()).await;
    f.act("2026-11-16T09:10:00", "shift_leader", c, "file", none.clone()).await;
    f.act("2026-11-16T09:20:00", "dispatcher", c, "dispatch", none.clone()).await;
    f.act("2026-11-16T10:00:00", "handler_cg", c, "return", none.clone()).await;
    f.act("2026-11-16T10:30:00", "dispatcher", c, "dispatch", none.clone()).await;
    f.act("2026-11-16T10:40:00", "handler_cg", c, "take", none.clone()).await;
    // D: refused, never filed. E: filed, not dispatched.
    let d = f.report("2026-11-16T09:00:00", "0401").await;
    f.act("2026-11-16T09:05:00", "intake", d, "accept", none.clone()).await;
    f.act("2026-11-16T09:10:00", "shift_leader", d, "refuse", none.clone()).await;
    let e = f.report("2026-11-16T09:00:00", "0401").await;
    f.act("2026-11-16T09:05:00", "intake", e, "accept", none.clone()).await;
    f.act("2026-11-16T09:15:00", "shift_leader", e, "file", none.clone()).await;

    let commander = f.app.login("commander").await;
    let get = |scope: &str| format!("/api/v1/indicators?scope={scope}&from=2026-11-16&to=2026-11-17");
    let (s, v) = f.app.get_as(&get("area:440604010"), &commander).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let i = &v["indicators"];
    let counts = [
        "filed",
        "closed",
        "closed_on_time",
        "dispatched",
        "handled",
        "handled_on_time",
        "reworked",
        "dispatched_without_return",
        "verified",
        "verified_on_time",
    ]
    .map(|k| i[k].as_i64().unwrap_or(-1));
    assert_eq!(counts, [4, 2, 1, 3, 2, 1, 1, 2, 2, 1], "{i}");
    assert_eq!(i["closure_rate"], 0.5);
    assert_eq!(i["on_time_closure_rate"], 0.25);
    assert_eq!(i["handling_rate"], 0.6667);
    assert_eq!(i["on_time_handling_rate"], 0.3333);
    assert_eq!(i["rework_rate"], 0.5);
    assert_eq!(i["dispatch_accuracy"], 0.6667);
    assert_eq!(i["on_time_verification_rate"], 0.5);
    // (1.0 h + 7 h 10 min) / 2
    assert_eq!(i["average_handling_working_hours"], 4.08);

    let (_, v) = f.app.get_as(&get("department:cgj"), &commander).await;
    assert_eq!(v["indicators"]["filed"], 3, "{v}");
    let handler = f.principal("handler_cg").await;
    let (_, v) = f.app.get_as(&get(&format!("person:{}", handler.staff_id)), &commander).await;
    assert_eq!(v["indicators"]["filed"], 3, "{v}");
    let (_, v) = f.app.get_as(&get("area:440604011"), &commander).await;
    assert_eq!(v["indicators"]["filed"], 0);
    assert!(v["indicators"]["closure_rate"].is_null(), "no denominator, no rate");
    // The next day holds none of these filings.
    let (_, v) = f.app.get_as("/api/v1/indicators?scope=area:440604&from=2026-11-17&to=2026-11-18", &commander).await;
    assert_eq!(v["indicators"]["filed"], 0);

    let clerk = f.app.login("clerk").await;
    assert_error(&f.app.get_as(&get("area:440604"), &clerk).await, StatusCode::FORBIDDEN, "forbidden");
    let own = f.app.login("handler_cg").await;
    assert_eq!(f.app.get_as(&get("department:cgj"), &own).await.0, StatusCode::OK);
    assert_error(&f.app.get_as(&get("department:scjg"), &own).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&f.app.get_as(&get("grid:1"), &commander).await, StatusCode::BAD_REQUEST, "invalid_scope");
    assert_error(
        &f.app.get_as("/api/v1/indicators?scope=area:440604&from=yesterday&to=2026-11-18", &commander).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &f.app.get_as("/api/v1/indicators?scope=area:440604&from=2026-11-18&to=2026-11-17", &commander).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
}
both_backends!(indicators_match_the_hand_computed_fixture);
