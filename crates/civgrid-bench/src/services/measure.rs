//! The measurements: statistics queries and acceptance with material reuse over HTTP.

use super::*;

pub(super) async fn time_statistics(
    state: &AppState,
    now: DateTime<Utc>,
    repeat: usize,
) -> anyhow::Result<Vec<StatisticsTiming>> {
    let busiest: String = sqlx::query_scalar(
        "select department_code from service_application group by department_code order by count(*) desc limit 1",
    )
    .fetch_one(state.db.pool())
    .await?;
    let periods = [("last 30 days", 30), ("last 90 days", 90), ("last 365 days", 365)];
    let mut queries: Vec<(GroupBy, &str, Option<String>, &str, i64)> = Vec::new();
    for (by, name) in [
        (GroupBy::Department, "department"),
        (GroupBy::Item, "item"),
        (GroupBy::Window, "window"),
        (GroupBy::Clerk, "clerk"),
    ] {
        for (period, days) in periods {
            queries.push((by, name, None, period, days));
        }
    }
    for (period, days) in periods {
        queries.push((GroupBy::Item, "item", Some(busiest.clone()), period, days));
    }
    queries.push((GroupBy::Clerk, "clerk", Some(busiest.clone()), "last 365 days", 365));
    let mut out = Vec::new();
    for (by, name, department, period, days) in queries {
        let from = now - Duration::days(days);
        let (first, l) = timed(repeat, || state.services.statistics(by, from, now, department.as_deref())).await?;
        println!(
            "by {name}{} {period}: {} accepted, {} rows — p50 {:.1} ms, p99 {:.1} ms",
            department.as_deref().map(|d| format!(" in {d}")).unwrap_or_default(),
            first.total.accepted,
            first.rows.len(),
            l.p50_ms,
            l.p99_ms
        );
        out.push(StatisticsTiming {
            by: name.to_owned(),
            department,
            period: period.to_owned(),
            accepted: first.total.accepted,
            rows: first.rows.len(),
            runs: l.count,
            p50_ms: l.p50_ms,
            p99_ms: l.p99_ms,
            max_ms: l.max_ms,
        });
    }
    Ok(out)
}

/// The code of the demo item with this main-item number (e.g. `00301`).
pub(super) fn item_code(items: &[ServiceItem], main: &str) -> anyhow::Result<String> {
    items
        .iter()
        .find(|i| i.spec.main_item == main)
        .map(|i| i.code.clone())
        .ok_or_else(|| anyhow::anyhow!("no item {main}"))
}

/// Makes `warmup + requests` people holders of an individual business licence (registration
/// through the service, concluded by the approver), then serves the database from this
/// executable and applies for each, one at a time, for a food business licence at a window:
/// the licence, ID card and premises proof attach themselves; three materials are handed in.
pub(super) async fn time_acceptance(
    a: &ServicesArgs,
    place: &Place,
    state: &AppState,
) -> anyhow::Result<AcceptanceTiming> {
    let items = state.services.items().await?;
    let (registration, food) = (item_code(&items, "00301")?, item_code(&items, "00302")?);
    let food_item = state.services.item(&food, None).await?;
    let accounts = Accounts::load(&state.staff).await?;
    let (clerk, approver) = (accounts.principal("clerk").await?, accounts.principal("approver").await?);
    let registration_item = state.services.item(&registration, None).await?;
    let mut rng = StdRng::seed_from_u64(302);
    let today = Utc::now().with_timezone(&civgrid::demo::services::cst()).date_naive();
    let holders = people(&mut rng, a.warmup + a.requests, 0, today)?;
    let t = Instant::now();
    for h in &holders {
        let materials = ["id_card", "premises_proof", "application_form"]
            .iter()
            .filter_map(|c| registration_item.material(c))
            .map(|m| material(m, &format!("{} {}", h.id, m.code)))
            .collect();
        let request = NewApplication {
            item_code: registration.clone(),
            applicant: h.input(),
            materials,
            window: Some(WINDOWS[0].0.into()),
        };
        let Outcome::Accepted { application, .. } = state.services.submit(Channel::Window(&clerk), request).await?
        else {
            anyhow::bail!("the registration of {} was not accepted", h.id)
        };
        let decision = DecisionInput {
            step: 0,
            decision: "approve".into(),
            checklist: checklist(&registration_item, 0, "scjg", true),
            note: None,
        };
        state.services.decide(&approver, &application.application.number, decision).await?;
    }
    state.ledger.integrate().await?;
    println!("{} business licences issued through the service in {:.1} s", holders.len(), t.elapsed().as_secs_f64());

    let backend = place.backend.as_str().to_owned();
    // The server is started as the intake benchmark starts it; only these options apply.
    let options = crate::intake::IntakeOptions {
        exe: crate::server_bin(a.server_bin.as_deref())?,
        database_url: place.url.as_str().to_owned(),
        backend: backend.clone(),
        rates: Vec::new(),
        step_seconds: 0.0,
        warmup_seconds: 0.0,
        closed_loop_connections: 0,
        max_in_flight: 1,
        worker_share: 0.0,
        worker_username: String::new(),
        worker_password: String::new(),
        worker_community: String::new(),
        server_log: a.work.join(format!("serve-services-{backend}.log")),
        server_args: place
            .key_dir
            .iter()
            .flat_map(|d| ["--ledger-key-dir".to_owned(), d.display().to_string()])
            .collect(),
        seed: 0,
    };
    let mut server = crate::intake::Server::start(&options)?;
    let client = reqwest::Client::builder().timeout(StdDuration::from_secs(30)).tcp_nodelay(true).build()?;
    let base = server.base.clone();
    crate::intake::wait_healthy(&client, &base, &mut server).await?;
    let token = crate::intake::login(&client, &base, "clerk", DEMO_PASSWORD).await?;
    let submitted = ["floor_plan", "food_safety_rules", "application_form"];
    let mut micros = Vec::with_capacity(a.requests);
    let mut reused = 0;
    for (i, h) in holders.iter().enumerate() {
        let materials: Vec<MaterialInput> = submitted
            .iter()
            .filter_map(|c| food_item.material(c))
            .map(|m| material(m, &format!("{} {}", h.id, m.code)))
            .collect();
        let body = json!({
            "item_code": food,
            "applicant": {"id_number": h.id, "name": h.name},
            "window": WINDOWS[0].0,
            "materials": materials.iter().map(|m| json!({"code": m.code, "format": m.format, "content_base64": m.content_base64})).collect::<Vec<_>>(),
        });
        let t = Instant::now();
        let response =
            client.post(format!("{base}/api/v1/service-applications")).bearer_auth(&token).json(&body).send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let elapsed = t.elapsed().as_micros() as u64;
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        anyhow::ensure!(status.as_u16() == 201 && v["outcome"] == "accepted", "acceptance {i} answered {status}: {v}");
        let sources: Vec<&str> = v["application"]["materials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["source"].as_str())
            .collect();
        let n = sources.iter().filter(|s| matches!(**s, "licence" | "earlier")).count();
        anyhow::ensure!(sources.contains(&"licence"), "acceptance {i} attached no e-licence: {sources:?}");
        reused = n;
        if i >= a.warmup {
            micros.push(elapsed);
        }
    }
    server.stop();
    let latency = crate::intake::Latency::from_micros(micros);
    println!(
        "acceptance with reuse: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latency.p50_ms, latency.p99_ms, latency.max_ms
    );
    Ok(AcceptanceTiming {
        item: food_item.spec.name.clone(),
        warmup: a.warmup,
        materials_reused: reused,
        materials_submitted: submitted.len(),
        latency,
    })
}
