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
        secure_cookies: settings.secure_cookies,
        notify: settings.notify.clone(),
    };
    AppState::new(db, web, settings.session_ttl_hours)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start live push (LISTEN): {e}"))
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting, lets in-flight requests finish (each
/// bounded by the request timeout) and closes the pool.
pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    serve_until(state, listener, shutdown_signal()).await
}

/// Serves until `shutdown` completes, then drains as [`serve`] does.
pub async fn serve_until(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = state.db.clone();
    let sweeper = tokio::spawn(sweep_overdue(state.cases.clone()));
    let courier = tokio::spawn(deliver_notifications(state.outbox.clone()));
    let router = web::router(state);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    sweeper.abort();
    courier.abort();
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

/// Once a minute, escalates cases whose time limit has passed.
async fn sweep_overdue(cases: crate::cases::Cases) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match cases.escalate_overdue().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(cases.escalated = n, "escalated overdue cases"),
            Err(e) => tracing::warn!(error = %e, "overdue sweep failed"),
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
