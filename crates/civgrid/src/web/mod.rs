//! HTTP: the router, shared state, middleware (request ids, tracing, metrics, timeouts, body
//! limits) and thin handlers that extract, authorise visibly, call a domain service and map the
//! result. No SQL here.

mod cases;
mod certificates;
pub mod error;
mod events;
pub mod extract;
mod ledger;
pub mod limit;
mod open311;
pub mod openapi;
mod ops;
mod pages;
mod services;
mod staff;
mod territory;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId as TowerRequestId, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::cases::Cases;
use crate::db::Db;
use crate::push::Hub;
use crate::staff::Staff;
use crate::territory::Territory;

/// Shared state: the database and the domain services. Cheap to clone; nothing in here may
/// hold state that another node would contradict (the locator cache checks the database).
/// Behind one shared pointer, since the router clones the state for each request and each
/// extractor.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppServices>);

impl std::ops::Deref for AppState {
    type Target = AppServices;
    fn deref(&self) -> &AppServices {
        &self.0
    }
}

/// The node's domain services, shared by every request.
#[derive(Debug, Clone)]
pub struct AppServices {
    pub db: Db,
    pub territory: Territory,
    pub staff: Staff,
    pub cases: Cases,
    pub hub: Hub,
    pub outbox: crate::notify::Outbox,
    pub ledger: crate::ledger::Ledger,
    pub certificates: crate::certificates::Certificates,
    pub services: crate::services::Services,
    pub settings: Arc<WebSettings>,
    /// Per-address budgets of anonymous writes on this node.
    pub limits: Arc<limit::Limits>,
}

/// The knobs the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub request_timeout: Duration,
    /// Mark session cookies `Secure` (set when served behind TLS).
    pub secure_cookies: bool,
    /// Where reporter notifications are delivered.
    pub notify: crate::notify::NotifySettings,
    /// Base-map tiles for the maps (`{z}/{x}/{y}`), if the district has its own.
    pub map_tile_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client ([`limit::ClientAddr`]).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl AppState {
    /// The same services under other web settings (a second router over one node's services).
    pub fn with_settings(&self, settings: WebSettings) -> AppState {
        let mut services = (*self.0).clone();
        services.settings = Arc::new(settings);
        AppState(Arc::new(services))
    }

    /// Builds the services; on PostgreSQL this also starts the node's LISTEN task.
    pub async fn new(
        db: Db,
        settings: WebSettings,
        session_ttl_hours: i64,
        ledger_keys: crate::ledger::LedgerKeys,
        witnesses: crate::ledger::WitnessPolicy,
    ) -> Result<AppState, sqlx::Error> {
        let territory = Territory::new(db.clone());
        let hub = Hub::start(&db).await?;
        let ledger = crate::ledger::Ledger::new(db.clone(), ledger_keys, witnesses);
        let certificates = crate::certificates::Certificates::new(db.clone(), ledger.clone());
        let cases = Cases::new(db.clone(), territory.clone(), hub.clone());
        Ok(AppState(Arc::new(AppServices {
            outbox: crate::notify::Outbox::new(db.clone(), settings.notify.clone()),
            services: crate::services::Services::new(db.clone(), cases.clone(), certificates.clone()),
            certificates,
            ledger,
            cases,
            hub,
            territory,
            staff: Staff::new(db.clone(), session_ttl_hours),
            db,
            settings: Arc::new(settings),
            limits: Arc::new(limit::Limits::default()),
        })))
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Ordinary JSON bodies are small; grid imports get their own, larger limit.
const BODY_LIMIT: usize = 1024 * 1024;
pub const IMPORT_BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Clone, Copy, Debug)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<TowerRequestId> {
        let mut b = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
        hex::encode(b).parse().ok().map(TowerRequestId::new)
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request is counted.
    ops::prometheus();
    let timeout = state.settings.request_timeout;
    Router::new()
        .merge(ops::routes())
        .merge(territory::routes())
        .merge(staff::routes())
        .merge(cases::routes())
        .merge(events::routes())
        .merge(openapi::routes())
        .merge(open311::routes())
        .merge(ledger::routes())
        .merge(certificates::routes())
        .merge(services::routes())
        .merge(pages::routes())
        .fallback(ops::not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(ops::track_metrics))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.uri().path())
                })
                // One line per request at info; 5xx are logged where they are mapped (ApiError).
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros))
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeId))
}
