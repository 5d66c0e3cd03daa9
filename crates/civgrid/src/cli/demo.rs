//! `civgrid demo`: the demo district, seeded on first start, on its own SQLite database in
//! `--data` or on the database given with `--database` (PostgreSQL: several nodes, as for real).

use std::path::{Path, PathBuf};

use super::Cli;
use crate::audit::{self, ChangeFilter};
use crate::db::{Backend, DatabaseUrl, Db};
use crate::secret::Secret;
use crate::{app, demo, telemetry};

/// The demo's folder when `--data` is not given.
const DEFAULT_DATA: &str = "./civgrid-demo";

/// What a database holds, as far as the demo is concerned.
#[derive(Debug, PartialEq, Eq)]
enum Holds {
    /// No district and no accounts: the demo may seed it.
    Nothing,
    /// The demo district, created by the demo's seeder: served as it is.
    Demo,
    /// Someone's installation (a district not seeded by the demo, or accounts without one).
    Other(String),
}

/// Tells the demo's database from an empty one and from a real installation, by who created
/// the district (the seeder's change record), so a district's data is never seeded over.
async fn holds(db: &Db) -> anyhow::Result<Holds> {
    let territory = crate::territory::Territory::new(db.clone());
    let areas = territory.areas().await?;
    let Some(district) = areas.iter().find(|a| a.level == "district") else {
        let accounts = crate::staff::Staff::new(db.clone(), 1).list().await?.len();
        return Ok(if accounts == 0 {
            Holds::Nothing
        } else {
            Holds::Other(format!("{accounts} staff accounts and no district"))
        });
    };
    let filter = ChangeFilter {
        entity: Some("area".into()),
        entity_id: Some(district.code.clone()),
        limit: 1000,
        ..Default::default()
    };
    let seeded = audit::list(db, &filter)
        .await?
        .iter()
        .any(|c| c.action == "area.create" && c.actor == audit::Actor::system("demo-seed").label());
    Ok(if seeded && district.code == demo::DISTRICT_CODE {
        Holds::Demo
    } else {
        Holds::Other(format!("the district {} {}, not created by the demo", district.code, district.name))
    })
}

pub(super) async fn run(
    cli: &Cli,
    data: Option<&Path>,
    seed_only: bool,
    open311_key: &Option<Secret>,
) -> anyhow::Result<()> {
    let mut settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let given_url = settings.database_url.clone();
    let witness_here = settings.ledger_witnesses.witnesses.is_empty();
    let postgres = given_url.as_ref().is_some_and(|u| u.backend() == Backend::Postgres);
    let keys_here = postgres && settings.ledger_key_dir.is_none();
    // --data holds the SQLite database, the PostgreSQL demo's ledger keys or the in-process
    // witness; given when it would hold none of them, it is refused rather than ignored.
    if let Some(d) = data {
        if given_url.is_some() && !keys_here && !witness_here {
            anyhow::bail!(
                "--data {}: nothing of this demo would be kept there — the database is given with --database, \
                 the ledger keys with --ledger-key-dir (or beside the SQLite file) and the witnesses with \
                 --ledger-witness; leave --data out",
                d.display()
            );
        }
    }
    let data = data.map_or_else(|| PathBuf::from(DEFAULT_DATA), Path::to_path_buf);
    // The demo is plain HTTP unless given a certificate: Secure cookies only with TLS, unless set.
    settings.secure_cookies = Some(settings.secure_cookies.unwrap_or(settings.tls.is_some()));
    let tls = if seed_only { None } else { app::load_tls(&settings)? };
    if let Some(tls) = &tls {
        crate::tls::log_loaded(&tls.loaded, &tls.files);
    }
    std::fs::create_dir_all(&data).map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", data.display()))?;
    let url = match given_url {
        Some(u) => u,
        None => format!("sqlite://{}", data.join("civgrid.db").display()).parse()?,
    };
    if keys_here {
        settings.ledger_key_dir = Some(data.join("ledger-keys"));
    }
    settings.database_url = Some(url.clone());
    let _serving = crate::backup::serving_lock(&url)?;
    let db = app::open_database(&url, &settings).await?;
    let holds = holds(&db).await?;
    if let Holds::Other(what) = &holds {
        anyhow::bail!(
            "{} holds an installation that is not the demo ({what}): the demo never seeds over it. \
             Give the demo a database of its own (an empty PostgreSQL database, or no --database for \
             SQLite in --data), or serve this one with `civgrid serve`",
            url.redacted()
        );
    }
    // The audit bureau's witness runs in-process unless real witnesses are configured.
    if witness_here {
        let keys = app::ledger_keys(&db, &settings)?;
        settings.ledger_witnesses = demo::ledger::start_witness(&data, &keys).await?;
    }
    let state = app::state(db, &settings).await?;
    let witness_client = reqwest::Client::new();
    if holds == Holds::Nothing {
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
    } else {
        println!("The demo district is already seeded in {}: served as it is.", url.redacted());
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
    let base = format!("{}://{addr}", if tls.is_some() { "https" } else { "http" });
    print_banner(&base, &url, &open311_key);
    if let Some(c) = state.certificates.recent(1).await?.first() {
        println!("  Ledger:     {base}/ledger/checkpoint · {base}/ledger/trust");
        println!("  Verify:     {base}/verify/{}  (a demo certificate)", c.number);
        println!();
    }
    app::serve_metrics(&settings, &state).await?;
    app::serve(state, listener, tls).await
}

fn print_banner(base: &str, url: &DatabaseUrl, open311_key: &str) {
    println!();
    println!("civgrid demo — 禅城区 (440604) on {}", url.redacted());
    println!("  URL:        {base}/");
    println!("  workbench:  {base}/login  (each role lands on its own workbench)");
    println!("  citizens:   {base}/portal");
    println!("  health:     {base}/healthz");
    println!("  locate:     {base}/api/v1/locate?lng=113.1107&lat=23.0296&datum=gcj02");
    println!("  grids:      {base}/api/v1/grids.geojson");
    println!("  metrics:    {base}/metrics");
    println!("  Open311:    {base}/open311/v2/discovery.xml  (POST api_key: {open311_key})");
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
