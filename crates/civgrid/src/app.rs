//! Building and running the application.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::db::{DatabaseUrl, Db};
use crate::web::{self, AppState, WebSettings};

/// Opens the database and applies migrations.
pub async fn open_database(url: &DatabaseUrl, settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(url, settings.db_max_connections).await?;
    db.migrate().await.map_err(|e| anyhow::anyhow!("migrating {} failed: {e}", url.redacted()))?;
    Ok(db)
}

pub async fn state(db: Db, settings: &Settings) -> anyhow::Result<AppState> {
    let web = WebSettings {
        request_timeout: settings.request_timeout,
        // Secure unless the command (the demo on plain HTTP) or the operator said otherwise.
        secure_cookies: settings.secure_cookies.unwrap_or(true),
        hsts: settings.hsts.unwrap_or(settings.tls.is_some()),
        notify: settings.notify.clone(),
        map_tile_url: settings.map_tile_url.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
    };
    let keys = ledger_keys(&db, settings)?;
    AppState::new(db, web, settings.session_ttl_hours, keys, settings.ledger_witnesses.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot start live push (LISTEN): {e}"))
}

/// Loads (or on first start creates) the ledger keys.
pub fn ledger_keys(db: &Db, settings: &Settings) -> anyhow::Result<crate::ledger::LedgerKeys> {
    let dir = match (&settings.ledger_key_dir, db.backend()) {
        (Some(dir), _) => dir.clone(),
        (None, crate::db::Backend::Sqlite) => {
            let url = db.url().as_str();
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
            path.parent().unwrap_or(std::path::Path::new(".")).join("ledger-keys")
        }
        (None, crate::db::Backend::Postgres) => anyhow::bail!(
            "PostgreSQL needs --ledger-key-dir / CIVGRID_LEDGER_KEY_DIR / `ledger_key_dir`: \
             every node of one database must sign with the same ledger keys"
        ),
    };
    Ok(crate::ledger::LedgerKeys::load_or_create(&dir, settings.ledger_origin.as_deref())?)
}

/// HTTPS: the files (read again on SIGHUP) and what was read from them at start-up.
#[derive(Debug)]
pub struct Tls {
    pub files: crate::tls::TlsFiles,
    pub loaded: crate::tls::Loaded,
}

/// Reads and checks the configured TLS files, if any (before anything is opened or bound).
pub fn load_tls(settings: &Settings) -> anyhow::Result<Option<Tls>> {
    let Some(files) = settings.tls.clone() else {
        return Ok(None);
    };
    let loaded = crate::tls::load(&files, chrono::Utc::now()).map_err(|e| anyhow::anyhow!(e))?;
    Ok(Some(Tls { files, loaded }))
}

/// The warnings a serving process gives about how its sessions travel.
pub fn warn_about_transport(settings: &Settings, tls: Option<&Tls>) {
    if let Some(tls) = tls {
        crate::tls::log_loaded(&tls.loaded, &tls.files);
    }
    match settings.secure_cookies {
        Some(false) => tracing::warn!(
            "secure_cookies is false: session cookies are sent over plain HTTP too — only for a lab, \
             never where staff sign in for real"
        ),
        None | Some(true) if tls.is_none() && settings.trusted_proxies.is_empty() && settings.hsts != Some(true) => {
            tracing::warn!(
                "no TLS here and no trusted proxy: browsers keep the Secure session cookie only over \
                 HTTPS — give --tls-cert/--tls-key or serve behind a TLS proxy (trusted_proxies)"
            );
        }
        _ => {}
    }
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting, lets in-flight requests finish (each
/// bounded by the request timeout) and closes the pool. With `tls`, serves HTTPS only.
pub async fn serve(state: AppState, listener: TcpListener, tls: Option<Tls>) -> anyhow::Result<()> {
    serve_with(state, listener, tls, shutdown_signal()).await
}

/// Starts the `metrics_addr` listener (`/metrics` without sign-in, for a scraper) when one is
/// configured; it lives as long as the process. Refuses to start when the address cannot be
/// bound, rather than serving without the monitoring the operator asked for.
pub async fn serve_metrics(settings: &Settings, state: &AppState) -> anyhow::Result<()> {
    let Some(addr) = settings.metrics_addr else { return Ok(()) };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (metrics_addr / --metrics-addr): {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "serving /metrics for scrapers");
    let router = web::ops::scrape_router(state.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// Serves plain HTTP until `shutdown` completes, then drains as [`serve`] does.
pub async fn serve_until(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(state, listener, None, shutdown).await
}

/// Serves (HTTPS with `tls`) until `shutdown` completes, then drains as [`serve`] does.
pub async fn serve_with(
    state: AppState,
    listener: TcpListener,
    tls: Option<Tls>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    let sweeper = tokio::spawn(sweep_overdue(state.cases.clone(), state.services.clone()));
    let courier = tokio::spawn(deliver_notifications(state.outbox.clone()));
    let sequencer = tokio::spawn(run_sequencer(state.ledger.clone()));
    let loader = tokio::spawn(load_ledger_tree(state.ledger.clone()));
    let witnessing = tokio::spawn(run_witnessing(state.ledger.clone()));
    let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await?,
        Some(tls) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_config(tls.loaded.config.clone());
            let reloader = tokio::spawn(crate::tls::reload_on_hangup(tls.files, config.clone()));
            // The same drain as axum::serve's: stop accepting, let open connections finish.
            let handle = axum_server::Handle::new();
            let draining = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                draining.graceful_shutdown(None);
            });
            axum_server::from_tcp_rustls(listener.into_std()?, config)?.handle(handle).http1_only().serve(app).await?;
            reloader.abort();
        }
    }
    sweeper.abort();
    courier.abort();
    sequencer.abort();
    loader.abort();
    witnessing.abort();
    tracing::info!("in-flight requests finished; closing the database pool");
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

/// Once a minute, escalates cases whose time limit has passed and warns about or marks
/// service applications near or past their promised time limit.
async fn sweep_overdue(cases: crate::cases::Cases, services: crate::services::Services) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match cases.escalate_overdue().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cases.escalated = n, "escalated overdue cases"),
            Err(e) => tracing::warn!(error = %e, "overdue sweep failed"),
        }
        match services.sweep_deadlines().await {
            Ok((0, 0)) => {}
            Ok((warned, overdue)) => tracing::info!(
                applications.warned = warned,
                applications.overdue = overdue,
                "swept application deadlines"
            ),
            Err(e) => tracing::warn!(error = %e, "application deadline sweep failed"),
        }
    }
}

/// Every second, delivers due notifications (and retries failed ones when their time comes).
async fn deliver_notifications(outbox: crate::notify::Outbox) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = outbox.deliver_due(chrono::Utc::now()).await {
            tracing::warn!(error = %e, "notification delivery pass failed");
        }
    }
}

/// Integrates committed ledger entries and signs a checkpoint several times a second, so a
/// record is covered by a signed checkpoint well within a second of its commit.
/// Reads the ledger's tree into memory once, beside the requests, so inclusion proofs and tiles
/// stop reading node rows.
async fn load_ledger_tree(ledger: crate::ledger::Ledger) {
    let started = std::time::Instant::now();
    match ledger.load_tree().await {
        Ok(n) => tracing::info!(nodes = n, ms = started.elapsed().as_millis() as u64, "ledger tree resident"),
        Err(e) => tracing::warn!(error = %e, "reading the ledger tree into memory failed; proofs read the database"),
    }
}

async fn run_sequencer(ledger: crate::ledger::Ledger) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match ledger.integrate().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(ledger.integrated = n, "integrated ledger entries"),
            Err(e) => tracing::warn!(error = %e, "ledger sequencer pass failed"),
        }
    }
}

/// Once a second, asks the configured witnesses to cosign the newest checkpoint.
async fn run_witnessing(ledger: crate::ledger::Ledger) {
    if ledger.policy().witnesses.is_empty() {
        return;
    }
    let client = match reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the witness client; checkpoints stay uncosigned");
            return;
        }
    };
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = ledger.collect_cosignatures(&client).await {
            tracing::warn!(error = %e, "collecting cosignatures failed");
        }
    }
}
