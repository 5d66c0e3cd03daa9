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
pub mod ops;
mod pages;
mod services;
mod staff;
mod territory;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::response::Response;
use axum::Router;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId as TowerRequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;

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
    /// Send `Strict-Transport-Security` on every answer (native TLS, or a TLS proxy in front).
    pub hsts: bool,
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

/// The request id a client sent, kept aside for correlation: only the server's own id is the
/// request's id (in the logs, the change record and the access record), so a client cannot
/// forge log fields or pass its request off as another one.
#[derive(Debug, Clone)]
pub struct ClientRequestId(pub String);

/// Longest client request id kept (a UUID with braces fits).
const MAX_CLIENT_REQUEST_ID: usize = 64;

/// Takes the client's `x-request-id` off the request before the server's own is set; keeps it
/// (as [`ClientRequestId`]) only when it is short and made of letters, digits, `-`, `_`, `.`.
async fn set_aside_client_request_id(mut req: Request<axum::body::Body>, next: axum::middleware::Next) -> Response {
    if let Some(v) = req.headers_mut().remove(&REQUEST_ID) {
        let ok = |s: &&str| {
            !s.is_empty()
                && s.len() <= MAX_CLIENT_REQUEST_ID
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if let Some(id) = v.to_str().ok().filter(ok) {
            let id = ClientRequestId(id.to_owned());
            req.extensions_mut().insert(id);
        }
    }
    next.run(req).await
}

/// The Content-Security-Policy of every answer: our own scripts, styles and images only (plus
/// the district's base-map tiles when configured), no inline script, no framing.
fn content_security_policy(map_tile_url: Option<&str>) -> HeaderValue {
    let tiles = map_tile_url.and_then(tile_origin).map(|o| format!(" {o}")).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"))
}

/// `scheme://host[:port]` of a tile URL template, if it names one in plain characters.
fn tile_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = rest.split('/').next()?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']');
    (!host.is_empty() && host.bytes().all(plain)).then(|| format!("{scheme}://{host}"))
}

/// Answers are not stored by browsers or proxies unless their handler says otherwise (assets,
/// ledger tiles): API answers and pages carry personal data.
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// The API's routes with their operations: each context's `routes()` registers handlers with
/// `utoipa_axum::routes!`, which routes and documents them in one step ([`openapi::document`]).
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    use utoipa::OpenApi;
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(ops::routes())
        .merge(territory::routes())
        .merge(staff::routes())
        .merge(cases::routes())
        .merge(events::routes())
        .merge(open311::routes())
        .merge(ledger::routes())
        .merge(certificates::routes())
        .merge(services::routes())
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request is counted.
    ops::prometheus();
    let timeout = state.settings.request_timeout;
    let csp = content_security_policy(state.settings.map_tile_url.as_deref());
    // A year, this host only: includeSubDomains would bind every other host under the
    // government's domain to HTTPS, which this server cannot promise, and preload is a choice
    // for the domain's owner, made with the browsers' list and hard to undo.
    let hsts = state.settings.hsts.then_some(HeaderValue::from_static("max-age=31536000"));
    let (api, _) = api_routes().split_for_parts();
    api.merge(pages::routes())
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
                    let client_id = req.extensions().get::<ClientRequestId>().map(|c| c.0.as_str()).unwrap_or("-");
                    // The route's template, never the path: paths carry numbers of people and
                    // records (an applicant's ID number, a certificate's number).
                    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("-");
                    tracing::info_span!("request", request_id = %request_id, client_request_id = %client_id,
                        method = %req.method(), route = %route)
                })
                // One line per request at info; 5xx are logged where they are mapped (ApiError).
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros))
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeId))
        .layer(axum::middleware::from_fn(set_aside_client_request_id))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, NO_STORE))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, csp))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, move |_: &Response| hsts.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tile_server_is_the_only_other_image_origin() {
        assert_eq!(
            tile_origin("https://tiles.gov.example:8443/{z}/{x}/{y}.png").as_deref(),
            Some("https://tiles.gov.example:8443")
        );
        assert_eq!(tile_origin("javascript:alert(1)"), None);
        assert_eq!(tile_origin("https://a b/{z}"), None);
        assert_eq!(tile_origin("https://x.example;script-src *//{z}"), None);
        let csp = content_security_policy(Some("http://10.1.2.3/t/{z}/{x}/{y}.png"));
        let csp = csp.to_str().unwrap();
        assert!(csp.contains("img-src 'self' data: blob: http://10.1.2.3;"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self';"), "{csp}");
    }
}
