//! `GET /api/v1/events`: a server-sent event stream of the case events the caller must act on
//! or may watch — their grids for a grid worker, their department's cases for a handler, their
//! area for district-level roles (dispatchers, the command centre, …).
//!
//! A stream lives only as long as what opened it: every [`RECHECK`] the session or token is
//! resolved again (without counting as use), and the stream ends when it has ended (logout,
//! idle timeout, expiry, password change, deactivation) or the caller's roles changed (the
//! client reconnects and hears what the new roles allow).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use tokio_stream::{Stream, StreamExt};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use super::extract::{request_token, Auth};
use super::AppState;
use crate::push::CaseEvent;
use crate::staff::{Principal, Role};

/// How often an open stream checks that its session or token is still live.
const RECHECK: Duration = Duration::from_secs(2);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// What one subscriber is allowed to hear about.
#[derive(Debug, Clone)]
struct Interest {
    area_prefixes: Vec<String>,
    department: Option<String>,
    grids: Vec<String>,
}

impl Interest {
    /// Hears of the cases the caller may read (`Visibility::of`, the rule of `Cases::list`):
    /// a window clerk, an approver or a witness hears of none.
    fn of(p: &Principal, grids: Vec<String>) -> Interest {
        let sight = crate::cases::Visibility::of(p);
        Interest {
            area_prefixes: sight.areas.into_iter().chain(sight.oversight_areas).collect(),
            department: sight.department,
            grids: if p.has_role(Role::GridWorker) { grids } else { vec![] },
        }
    }

    fn wants(&self, ev: &CaseEvent) -> bool {
        let by_area = match &ev.grid_code {
            Some(g) => self.area_prefixes.iter().any(|a| g.starts_with(a.as_str())),
            None => self.area_prefixes.iter().any(|a| a.len() == 6),
        };
        by_area
            || self.department.as_ref().is_some_and(|d| ev.departments.contains(d))
            || ev.grid_code.as_ref().is_some_and(|g| self.grids.contains(g))
    }
}

/// The stream: one `case` event (JSON data) per change the caller may hear of.
#[utoipa::path(get, path = "/api/v1/events", tag = "cases", summary = "Server-sent events for the caller's cases",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "an event stream", content_type = "text/event-stream", body = String)))]
async fn events(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let grids = state.territory.grids_of_worker(auth.0.staff_id).await?;
    let interest = Interest::of(&auth.0, grids);
    // The stream holds the flag, the watcher only a weak reference: once the client goes, the
    // watcher stops too.
    let ended = Arc::new(AtomicBool::new(false));
    if let Some(token) = request_token(&headers) {
        tokio::spawn(watch_credential(state.clone(), token, auth.0.clone(), Arc::downgrade(&ended)));
    }
    // A tick wakes the stream on every re-check, so an ended stream closes even when no
    // event arrives.
    let ticks = IntervalStream::new(tokio::time::interval(RECHECK)).map(|_| None);
    let events = BroadcastStream::new(state.hub.subscribe()).map(Some);
    let stream = events.merge(ticks).take_while(move |_| !ended.load(Ordering::Acquire)).filter_map(move |item| {
        match item? {
            Ok(ev) if interest.wants(&ev) => {
                let data = serde_json::to_string(&*ev).unwrap_or_default();
                Some(Ok(Event::default().event("case").id(format!("{}-{}", ev.case_id, ev.at)).data(data)))
            }
            Ok(_) => None,
            // A subscriber too slow to keep up is told so and should re-read its case list.
            Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
                Some(Ok(Event::default().event("lagged").data(n.to_string())))
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Re-resolves the stream's credential every [`RECHECK`]; marks the stream ended when the
/// session or token no longer resolves (or resolves to other roles). Stops when the stream is
/// gone. A database that does not answer ends nothing (the next check decides).
async fn watch_credential(state: AppState, token: String, opened_as: Principal, ended: std::sync::Weak<AtomicBool>) {
    let mut tick = tokio::time::interval(RECHECK);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(flag) = ended.upgrade() else { return };
        let still = match state.staff.resolve_unused(&token).await {
            Ok(p) => p.roles == opened_as.roles && p.department_code == opened_as.department_code,
            Err(crate::staff::StaffError::Store(e)) => {
                tracing::warn!(error.cause = %e, "event stream: could not re-check the session");
                true
            }
            Err(_) => false,
        };
        if !still {
            flag.store(true, Ordering::Release);
            return;
        }
    }
}
