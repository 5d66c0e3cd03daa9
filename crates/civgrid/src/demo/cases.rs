//! Months of demo cases, replayed through the real case service at past instants, so that the
//! indicators, lists and maps show something real: every state is represented, some cases are
//! late, some reworked, some returned. Deterministic (fixed seed).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use geo::InteriorPoint;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::audit::Actor;
use crate::cases::{Cases, NewReport, TransitionRequest};
use crate::staff::{NewStaff, Principal, Role, RoleGrant, Staff};
use crate::territory::Territory;

use super::{DEMO_PASSWORD, DISTRICT_CODE};

/// How far each demo case gets: (final stage, weight).
const OUTCOMES: [(&str, u32); 12] = [
    ("received", 4),
    ("accepted", 4),
    ("refused", 5),
    ("filed", 4),
    ("dispatched", 6),
    ("returned", 3),
    ("handling", 8),
    ("suspended", 2),
    ("handled", 6),
    ("rework", 3),
    ("verified", 5),
    ("closed", 50),
];

/// One of `items`, each as likely (the demo's and the benchmarks' replays draw with it).
pub fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.gen_range(0..items.len()))
    }
}

/// One of `items`, each as likely as its weight.
pub fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> Option<&'a T> {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (item, w) in items {
        if roll < *w {
            return Some(item);
        }
        roll -= w;
    }
    None
}

/// A working-day instant `days_ago` days before `now`, between 09:00 and 17:00 China time.
pub fn working_instant(rng: &mut StdRng, now: DateTime<Utc>, days_ago: i64) -> DateTime<Utc> {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(utc_offset);
    let mut day = (now - Duration::days(days_ago)).with_timezone(&cst).date_naive();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.pred_opt().unwrap_or(day);
    }
    let minutes = rng.gen_range(9 * 60..17 * 60);
    let t = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN);
    cst.from_local_datetime(&day.and_time(t)).single().map_or(now, |d| d.with_timezone(&Utc))
}

/// UTC, the fallback for an offset that cannot fail.
fn utc_offset() -> chrono::FixedOffset {
    use chrono::Offset;
    Utc.fix()
}

/// Creates a demo staff account (password [`DEMO_PASSWORD`]) with one role; returns its id.
pub async fn account(
    staff: &Staff,
    username: &str,
    name: &str,
    dept: Option<&str>,
    role: Role,
    area: &str,
) -> anyhow::Result<i64> {
    let view = staff
        .create(
            &Actor::system("demo-seed"),
            NewStaff {
                username: username.into(),
                display_name: name.into(),
                password: DEMO_PASSWORD.into(),
                department_code: dept.map(Into::into),
                roles: vec![RoleGrant { role, area_code: area.into() }],
            },
            None,
        )
        .await?;
    Ok(view.staff.id)
}

/// Seeds `count` cases spread over the last 90 days before `now`. Returns how many were made.
pub async fn seed_cases(
    territory: &Territory,
    staff: &Staff,
    cases: &Cases,
    count: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(440_604);
    let actor = Actor::system("demo-seed");
    let all = staff.list().await?;
    let by_name: HashMap<String, i64> = all.iter().map(|s| (s.staff.username.clone(), s.staff.id)).collect();
    let id_of = |u: &str| by_name.get(u).copied().ok_or_else(|| anyhow::anyhow!("demo account {u} is missing"));

    // A handler for every department a class routes to, and a grid worker for every community.
    let classes = cases.classes().await?;
    let mut handlers: HashMap<String, Principal> = HashMap::new();
    handlers.insert("cgj".into(), staff.demo_principal(id_of("handler_cg")?).await?);
    handlers.insert("scjg".into(), staff.demo_principal(id_of("handler_sj")?).await?);
    for c in &classes {
        if !handlers.contains_key(&c.department_code) {
            let u = format!("handler_{}", c.department_code);
            let id = account(
                staff,
                &u,
                &format!("{}处置员", c.department_code),
                Some(&c.department_code),
                Role::Handler,
                DISTRICT_CODE,
            )
            .await?;
            handlers.insert(c.department_code.clone(), staff.demo_principal(id).await?);
        }
    }
    let grids = territory.export_geojson().await?;
    let mut points: Vec<(String, f64, f64)> = Vec::new();
    let mut workers: HashMap<String, Principal> = HashMap::new();
    for f in &grids.features {
        let code = f.property("code").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let Some(g) = &f.geometry else { continue };
        let shape = civgrid_geo::import::parse_boundary(g.to_string().as_bytes(), civgrid_geo::Datum::Gcj02)
            .map_err(|r| anyhow::anyhow!("{r}"))?;
        let Some(p) = shape.interior_point() else { continue };
        let community = code.get(..12).unwrap_or_default().to_owned();
        if !workers.contains_key(&community) {
            let name = f.property("community_name").and_then(|v| v.as_str()).unwrap_or("社区");
            let id = account(
                staff,
                &format!("gw_{community}"),
                &format!("{name}网格员"),
                None,
                Role::GridWorker,
                &community,
            )
            .await?;
            workers.insert(community.clone(), staff.demo_principal(id).await?);
        }
        if let Some(w) = workers.get(&community) {
            territory.assign_worker(&actor, &code, w.staff_id, "full_time", None).await?;
        }
        points.push((code, p.x(), p.y()));
    }
    let intake = staff.demo_principal(id_of("intake")?).await?;
    let leader = staff.demo_principal(id_of("shift_leader")?).await?;
    let dispatcher = staff.demo_principal(id_of("dispatcher")?).await?;

    let mut made = 0;
    for _ in 0..count {
        let (Some(class), Some((grid, x, y))) = (pick(&mut rng, &classes), pick(&mut rng, &points)) else { break };
        let outcome = weighted(&mut rng, &OUTCOMES).copied().unwrap_or("closed");
        let days_ago = rng.gen_range(1..90);
        let mut t = working_instant(&mut rng, now, days_ago);
        let report = NewReport {
            description: format!("{}：{}附近", class.minor_name, grid),
            channel: Some(["web", "app", "patrol", "hotline", "open311"][rng.gen_range(0..5)].into()),
            class_code: Some(class.code.clone()),
            lng: Some(*x),
            lat: Some(*y),
            datum: Some("gcj02".into()),
            ..Default::default()
        };
        let case = cases.at(t).report("demo-seed:citizen", report).await?.case;
        made += 1;
        let handler = handlers.get(&class.department_code);
        let worker = workers.get(grid.get(..12).unwrap_or_default());
        let (Some(handler), Some(worker)) = (handler, worker) else { continue };
        let mut steps: Vec<(&Principal, serde_json::Value)> = vec![(&intake, json!({"action": "accept"}))];
        match outcome {
            "received" => steps.clear(),
            "accepted" => {}
            "refused" => steps.push((&leader, json!({"action": "refuse", "note": "经核实不属于立案范围"}))),
            _ => {
                steps.push((&leader, json!({"action": "file"})));
                if outcome != "filed" {
                    steps.push((&dispatcher, json!({"action": "dispatch"})));
                }
                if outcome == "returned" {
                    steps.push((handler, json!({"action": "return", "note": "非本部门职责，请改派"})));
                }
                if ["handling", "suspended", "handled", "rework", "verified", "closed"].contains(&outcome) {
                    steps.push((handler, json!({"action": "take"})));
                }
                if outcome == "suspended" {
                    steps.push((&dispatcher, json!({"action": "suspend", "note": "需协调其他部门"})));
                }
                if ["handled", "rework", "verified", "closed"].contains(&outcome) {
                    steps.push((handler, json!({"action": "feedback", "note": "已现场处置"})));
                    if outcome == "rework" || (outcome != "handled" && rng.gen_bool(0.12)) {
                        steps.push((worker, json!({"action": "fail", "note": "现场仍未整改到位"})));
                        if outcome != "rework" {
                            steps.push((handler, json!({"action": "feedback", "note": "已整改"})));
                        }
                    }
                }
                if ["verified", "closed"].contains(&outcome) {
                    steps.push((worker, json!({"action": "pass"})));
                }
                if outcome == "closed" {
                    steps.push((&leader, json!({"action": "close"})));
                    if rng.gen_bool(0.6) {
                        steps.push((&intake, json!({"action": "rate", "rating": rng.gen_range(3..=5)})));
                    }
                }
            }
        }
        for (who, body) in steps {
            // Minutes to hours between steps; one case in five is slow to be handled.
            let slow = body["action"] == "feedback" && rng.gen_bool(0.2);
            t += Duration::minutes(if slow { rng.gen_range(300..3000) } else { rng.gen_range(5..120) });
            if t >= now {
                break;
            }
            let req: TransitionRequest = serde_json::from_value(body)?;
            cases.at(t).transition(who, case.id, req).await?;
        }
    }
    Ok(made)
}
