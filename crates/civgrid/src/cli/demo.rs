//! `civgrid demo`: the demo district on its own database, seeded on first start.

use std::path::Path;

use super::Cli;
use crate::db::DatabaseUrl;
use crate::secret::Secret;
use crate::{app, demo, telemetry};

pub(super) async fn run(cli: &Cli, data: &Path, seed_only: bool, open311_key: &Option<Secret>) -> anyhow::Result<()> {
    let mut settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    std::fs::create_dir_all(data).map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", data.display()))?;
    let url: DatabaseUrl = format!("sqlite://{}", data.join("civgrid.db").display()).parse()?;
    settings.database_url = Some(url.clone());
    let _serving = crate::backup::serving_lock(&url)?;
    let db = app::open_database(&url, &settings).await?;
    // The audit bureau's witness runs in-process unless real witnesses are configured.
    if settings.ledger_witnesses.witnesses.is_empty() {
        let keys = app::ledger_keys(&db, &settings)?;
        settings.ledger_witnesses = demo::ledger::start_witness(data, &keys).await?;
    }
    let state = app::state(db, &settings).await?;
    let witness_client = reqwest::Client::new();
    if !demo::is_seeded(&state.territory).await? {
        println!("Seeding the demo district 禅城区 (440604): 4 subdistricts, 85 communities, 1,046 grids …");
        demo::seed(&state.territory, &state.staff, &state.cases).await?;
        let n = demo::seed_cases(&state.territory, &state.staff, &state.cases, 400, chrono::Utc::now()).await?;
        println!("Seeded {n} demo cases over the last 90 days (replayed through the case workflow).");
        let certificates = demo::ledger::seed_certificates(&state.certificates).await?;
        let logged = state.ledger.integrate().await?;
        let cosigned = state.ledger.collect_cosignatures(&witness_client).await?;
        let cp = state.ledger.checkpoint().await?;
        println!(
            "Ledger: {logged} entries logged ({} certificates); checkpoint of size {} signed and cosigned by {cosigned} witness.",
            certificates.len(),
            cp.size
        );
    }
    let keys = crate::open311::Keys::new(state.db.clone());
    if let Some(k) = open311_key {
        keys.ensure_demo_key(Some(k.expose())).await.map_err(|e| anyhow::anyhow!("--open311-key: {e}"))?;
    }
    if seed_only {
        println!("demo database ready: {}", url.redacted());
        return Ok(());
    }
    let open311_key = match open311_key {
        Some(k) => k.expose().to_owned(),
        None => keys.ensure_demo_key(None).await?,
    };
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.addr))?;
    let addr = listener.local_addr()?;
    print_banner(addr, &url, &open311_key);
    if let Some(c) = state.certificates.recent(1).await?.first() {
        println!("  Ledger:     http://{addr}/ledger/checkpoint · http://{addr}/ledger/trust");
        println!("  Verify:     http://{addr}/verify/{}  (a demo certificate)", c.number);
        println!();
    }
    app::serve(state, listener).await
}

fn print_banner(addr: std::net::SocketAddr, url: &DatabaseUrl, open311_key: &str) {
    println!();
    println!("civgrid demo — 禅城区 (440604) on {}", url.redacted());
    println!("  URL:        http://{addr}/");
    println!("  workbench:  http://{addr}/login  (each role lands on its own workbench)");
    println!("  citizens:   http://{addr}/portal");
    println!("  health:     http://{addr}/healthz");
    println!("  locate:     http://{addr}/api/v1/locate?lng=113.1107&lat=23.0296&datum=gcj02");
    println!("  grids:      http://{addr}/api/v1/grids.geojson");
    println!("  metrics:    http://{addr}/metrics");
    println!("  Open311:    http://{addr}/open311/v2/discovery.xml  (POST api_key: {open311_key})");
    println!("  Demo staff accounts (password for all: {}):", demo::DEMO_PASSWORD);
    for (username, display_name, _, role, area) in demo::ACCOUNTS {
        println!(
            "    {username:<14} {role:<16} {display_name} @ {}",
            area.unwrap_or(demo::DISTRICT_CODE),
            role = role.as_str()
        );
    }
    println!(
        "  Sign in at /login, or: POST /api/v1/auth/login {{\"username\":\"admin\",\"password\":\"{}\"}}",
        demo::DEMO_PASSWORD
    );
    println!();
}
