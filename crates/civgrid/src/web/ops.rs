//! Operations endpoints: `/healthz`, `/metrics`, and the request metrics middleware.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::Auth;
use super::AppState;
use crate::staff::Role;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics_text))
        .routes(routes!(super::openapi::openapi_json))
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the database does not answer.
    #[schema(pattern = "^(ok|degraded)$")]
    pub status: &'static str,
    /// `up` or `down`.
    #[schema(pattern = "^(up|down)$")]
    pub database: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// The process-wide Prometheus recorder (metrics are process-global by nature; installing it
/// once lets several in-process apps, as in tests, share it).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder is installed already; then ours simply stays empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Whether the process is up and the database answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", summary = "Process and database health",
    responses((status = 200, description = "the process is up and the database answers", body = Health), (status = 503, description = "the database does not answer", body = Health)))]
async fn healthz(State(state): State<AppState>) -> Response {
    let up = state.db.ping().await;
    let body = Health {
        status: if up { "ok" } else { "degraded" },
        database: if up { "up" } else { "down" },
        backend: state.db.backend().as_str(),
        version: env!("CARGO_PKG_VERSION"),
    };
    let status = if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// `GET /metrics`: the Prometheus text, for the system administrator's and the auditor's
/// monitoring (a scraper sends an API token of such an account). Route names and counts say
/// what the office is doing; they are not for anyone on the network.
#[utoipa::path(get, path = "/metrics", tag = "ops", summary = "Prometheus metrics (administrators and auditors)",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
async fn metrics_text(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    if !(auth.0.has_role(Role::Admin) || auth.0.has_role(Role::Auditor)) {
        return Err(ApiError::forbidden("reading the metrics"));
    }
    Ok(render(&state))
}

/// The Prometheus text exposition of this process.
fn render(state: &AppState) -> Response {
    let pool = state.db.pool();
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("civgrid_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("civgrid_db_pool_connections", "state" => "in_use").set(size - idle);
    metrics::gauge!("civgrid_db_pool_max_connections").set(f64::from(pool.options().get_max_connections()));
    let handle = prometheus();
    // Without the exporter's own HTTP listener nobody else drains histogram buffers.
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}

/// The router of the `metrics_addr` listener: `GET /metrics` without sign-in and nothing else,
/// for a Prometheus scraper on the management network (a scraper cannot hold a session, and API
/// tokens are never issued to the administrators and auditors who may read `/metrics` on the
/// main address).
pub fn scrape_router(state: AppState) -> axum::Router {
    async fn scrape(State(state): State<AppState>) -> Response {
        render(&state)
    }
    axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(state)
}

/// Counts requests and their latency by route template (never the raw path, which would let
/// clients create unbounded label values), and the number in flight.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let path =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    metrics::gauge!("civgrid_http_requests_in_flight").increment(1.0);
    let resp = next.run(req).await;
    metrics::gauge!("civgrid_http_requests_in_flight").decrement(1.0);
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("path", path), ("status", status)];
    metrics::counter!("civgrid_http_requests_total", &labels).increment(1);
    metrics::histogram!("civgrid_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    resp
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see docs/API-DESIGN.md")
}
