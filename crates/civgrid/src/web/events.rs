//! `GET /api/v1/events`: a server-sent event stream of the case events the caller must act on
//! or may watch — their grids for a grid worker, their department's cases for a handler, their
//! area for district-level roles (dispatchers, the command centre, …).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::error::ApiResult;
use super::extract::Auth;
use super::AppState;
use crate::push::CaseEvent;
use crate::staff::{Principal, Role};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

/// What one subscriber is allowed to hear about.
#[derive(Debug, Clone)]
struct Interest {
    area_prefixes: Vec<String>,
    department: Option<String>,
    grids: Vec<String>,
}

impl Interest {
    fn of(p: &Principal, grids: Vec<String>) -> Interest {
        Interest {
            area_prefixes: p.case_areas(),
            department: p.handler_department().map(str::to_owned),
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

async fn events(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let grids = state.territory.grids_of_worker(auth.0.staff_id).await?;
    let interest = Interest::of(&auth.0, grids);
    let stream = BroadcastStream::new(state.hub.subscribe()).filter_map(move |item| match item {
        Ok(ev) if interest.wants(&ev) => {
            let data = serde_json::to_string(&*ev).unwrap_or_default();
            Some(Ok(Event::default().event("case").id(format!("{}-{}", ev.case_id, ev.at)).data(data)))
        }
        Ok(_) => None,
        // A subscriber too slow to keep up is told so and should re-read its case list.
        Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default().event("lagged").data(n.to_string())))
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
