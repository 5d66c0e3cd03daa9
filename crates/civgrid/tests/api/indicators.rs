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

/// The kept rows, moved by every transition of a few hundred demo cases in every state, answer
/// exactly what a scan of the records answers, for every kind of scope and for periods that
/// start and end mid-day; and a rebuild from the records reproduces the rows.
async fn kept_indicators_agree_with_the_records_and_with_a_rebuild(b: Backend) {
    use civgrid::cases::indicators::{self, Scope};
    let app = TestApp::demo(b).await;
    let s = &app.state;
    let now = Utc::now();
    let made = civgrid::demo::seed_cases(&s.territory, &s.staff, &s.cases, 240, now).await.expect("seed cases");
    assert!(made >= 200, "{made}");
    let handler = s.staff.authenticate(&app.login("handler_cg").await).await.expect("handler").staff_id;
    let worker = s.staff.authenticate(&app.login("gw_440604010001").await).await.expect("worker").staff_id;
    let scopes = [
        Scope::Area("440604".into()),
        Scope::Area("440604010".into()),
        Scope::Area("440604010001".into()),
        Scope::Area("44060401000101".into()),
        Scope::Area("4406040".into()),
        Scope::Department("cgj".into()),
        Scope::Person(handler),
        Scope::Person(worker),
    ];
    let h = chrono::Duration::hours;
    let periods = [
        (now - h(24 * 100), now + h(1)),
        (now - h(24 * 37 + 5), now - h(24 * 2 + 7)),
        (now - h(24 * 61 + 13), now - h(24 * 30)),
        (now - h(30), now - h(3)),
    ];
    let rows = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let mut v: Vec<(String, String, String, Vec<i64>, i64)> = sqlx::query_as::<_, (String, String, String, i64, i64, i64, i64, i64, f64)>(
                "select scope, grain, period, filed, closed, dispatched, verified, handling_spans, handling_hours from case_stat",
            )
            .fetch_all(db.pool())
            .await
            .expect("rows")
            .into_iter()
            .filter(|r| r.3 != 0 || r.4 != 0 || r.5 != 0 || r.6 != 0 || r.7 != 0 || r.8.abs() > 1e-9)
            .map(|r| (r.0, r.1, r.2, vec![r.3, r.4, r.5, r.6, r.7], (r.8 * 1000.0).round() as i64))
            .collect();
            v.sort();
            v
        }
    };
    let mut compared = 0;
    for scope in &scopes {
        for (from, to) in periods {
            let kept = s.cases.indicators(scope, from, to).await.expect("indicators");
            let mut scanned: indicators::Indicators =
                indicators::scan(&s.db, scope, from, to).await.expect("scan").into();
            // The sums of hours are added in another order: equal up to the rounding of the last digit.
            let (a, b) = (kept.average_handling_working_hours, scanned.average_handling_working_hours);
            assert!(
                a.zip(b).is_none_or(|(a, b)| (a - b).abs() < 0.011) && a.is_some() == b.is_some(),
                "{scope:?} {from} → {to}: {kept:?} {scanned:?}"
            );
            scanned.average_handling_working_hours = a;
            scanned.counts.handling_hours = kept.counts.handling_hours;
            assert_eq!(kept, scanned, "{scope:?} {from} → {to}");
            compared += kept.counts.filed;
        }
    }
    assert!(compared > 500, "the comparison covered real cases ({compared})");
    let before = rows(&app).await;
    assert!(!before.is_empty());
    s.cases.rebuild_indicators().await.expect("rebuild");
    assert_eq!(rows(&app).await, before, "incremental rows = rows rebuilt from the records");
}
both_backends!(kept_indicators_agree_with_the_records_and_with_a_rebuild);

/// The migration that introduced `case_transition.staff_id` filled it from the actor labels of
/// existing rows; it must read them exactly as the code that writes new rows does.
async fn the_migration_reads_staff_members_from_labels_as_the_code_does(b: Backend) {
    let migration = match b {
        Backend::Sqlite => include_str!("../../migrations/sqlite/20261122000024_case_stat.sql"),
        Backend::Postgres => include_str!("../../migrations/postgres/20261122000024_case_stat.sql"),
    };
    let backfill: String = migration
        .split(';')
        .find(|s| s.contains("update case_transition"))
        .expect("the backfill statement")
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let app = TestApp::demo(b).await;
    let s = &app.state;
    civgrid::demo::seed_cases(&s.territory, &s.staff, &s.cases, 30, Utc::now()).await.expect("seed cases");
    let handler = app.login("handler_cg").await;
    let (_, list) = app.get_as("/api/v1/cases?limit=1", &handler).await;
    let id = list["cases"][0]["id"].as_i64().or(list[0]["id"].as_i64()).expect("a case");
    for label in
        ["token:4:staff:12:gw_1", "staff:3:admin", "cli:staff", "citizen", "open311:key:2", "system:escalation"]
    {
        sqlx::query(
            "insert into case_transition (case_id, at, actor, role, action, from_state, to_state) values ($1, '2026-12-01T00:00:00.000Z', $2, 'staff', 'note', 'received', 'received')",
        )
        .bind(id)
        .bind(label)
        .execute(s.db.pool())
        .await
        .expect("insert");
    }
    sqlx::query("update case_transition set staff_id = null").execute(s.db.pool()).await.expect("clear");
    sqlx::query(&backfill).execute(s.db.pool()).await.expect("backfill");
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("select actor, staff_id from case_transition").fetch_all(s.db.pool()).await.expect("rows");
    let named = rows.iter().filter(|(_, id)| id.is_some()).count();
    assert!(named > 30, "the demo's actions in staff members' names are attributed ({named})");
    for (actor, staff_id) in rows {
        assert_eq!(staff_id, civgrid::audit::Actor::staff_id_of(&actor), "{actor}");
    }
}
both_backends!(the_migration_reads_staff_members_from_labels_as_the_code_does);

/// A transaction that read a case which someone else changed meanwhile writes nothing (on
/// PostgreSQL the stale update matches no row; SQLite refuses the stale snapshot's write), so
/// two racing transitions can never both move the case's counts. (Transitions themselves take
/// SQLite's write lock before they read, so there they cannot race at all; the snapshot here
/// is a read transaction's, which is what a deferred transaction was.)
async fn a_stale_case_is_never_written_back(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = &app.state;
    civgrid::demo::seed_cases(&s.territory, &s.staff, &s.cases, 10, Utc::now()).await.expect("seed cases");
    let id: i64 = sqlx::query_scalar("select min(id) from case_record").fetch_one(s.db.pool()).await.expect("id");
    let mut tx = s.db.begin_read().await.expect("begin");
    let mut stale = civgrid::cases::stale_write::find_case(&mut tx, id).await.expect("read").expect("case");
    sqlx::query("update case_record set updated_at = '2099-01-01T00:00:00.000Z' where id = $1")
        .bind(id)
        .execute(s.db.pool())
        .await
        .expect("the other writer");
    stale.rating = Some(1);
    let written = civgrid::cases::stale_write::update_case(&mut tx, &stale, "2026-12-06T00:00:00.000Z").await;
    assert!(!matches!(written, Ok(true)), "{written:?}");
    drop(tx);
    let rating: Option<i64> = sqlx::query_scalar("select rating from case_record where id = $1")
        .bind(id)
        .fetch_one(s.db.pool())
        .await
        .expect("rating");
    assert_ne!(rating, Some(1));
}
both_backends!(a_stale_case_is_never_written_back);
