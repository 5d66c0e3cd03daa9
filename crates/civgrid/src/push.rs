//! Live push: whoever must act on a case hears of it as it happens.
//!
//! Every node keeps one local broadcast channel that its SSE streams read. How events reach it:
//! * **PostgreSQL** (several nodes): after the change commits, the writer hands the event to its
//!   node's notifier, which sends it with `pg_notify` (several events per notification when they
//!   queue up) to every node's `LISTEN` connection — including the writer's own. The channel
//!   name is derived from the database and schema, so separate installations on one server never
//!   mix. Notifying *after* commit, in a transaction of its own that writes nothing, matters for
//!   speed: PostgreSQL serialises the commits of transactions that issued `NOTIFY` (a lock held
//!   through the WAL flush), which capped report intake at about one commit per flush (issue 3's
//!   benchmark, BENCHMARKS.md). An event is never sent for a change that did not commit; one can
//!   be lost if the node stops between the commit and the notification, which subscribers
//!   already handle as they handle a dropped stream (by re-reading their case list).
//! * **SQLite** (one embedded node): the event goes to the local channel after commit.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::sync::{broadcast, mpsc};

use crate::db::{Backend, Db};

/// A change to a case, as pushed to subscribers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseEvent {
    pub case_id: i64,
    pub number: String,
    pub action: String,
    pub state: String,
    pub grid_code: Option<String>,
    pub departments: Vec<String>,
    pub at: String,
}

/// The node's event hub.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<CaseEvent>>,
    backend: Backend,
    channel: Arc<String>,
    /// Dropped with the last clone of the hub, which stops the LISTEN task.
    alive: Arc<()>,
    /// PostgreSQL: the queue of this node's notifier (closed with the last clone of the hub).
    outgoing: Option<mpsc::UnboundedSender<CaseEvent>>,
}

/// How many events a slow subscriber may fall behind before it is told it lagged.
const BUFFER: usize = 4096;

impl Hub {
    /// Creates the hub; on PostgreSQL also starts this node's LISTEN task.
    pub async fn start(db: &Db) -> Result<Hub, sqlx::Error> {
        let (tx, _) = broadcast::channel(BUFFER);
        let channel = match db.backend() {
            Backend::Postgres => {
                let scope: String = sqlx::query_scalar("select current_database() || '.' || current_schema()")
                    .fetch_one(db.pool())
                    .await?;
                format!("civgrid_{}", &hex::encode(sha2::Sha256::digest(scope.as_bytes()))[..16])
            }
            Backend::Sqlite => String::new(),
        };
        let (outgoing, queue) = mpsc::unbounded_channel();
        let outgoing = (db.backend() == Backend::Postgres).then_some(outgoing);
        let hub = Hub { tx, backend: db.backend(), channel: Arc::new(channel), alive: Arc::new(()), outgoing };
        if hub.backend == Backend::Postgres {
            tokio::spawn(send_notifications(db.clone(), hub.channel.clone(), queue));
            let mut listener = sqlx::postgres::PgListener::connect(db.url().as_str()).await?;
            listener.listen(&hub.channel).await?;
            let sender = hub.tx.clone();
            let alive = Arc::downgrade(&hub.alive);
            tokio::spawn(async move {
                // Ends (closing its connection) once every clone of the hub is gone.
                while alive.upgrade().is_some() {
                    let next = tokio::time::timeout(Duration::from_secs(1), listener.recv()).await;
                    match next {
                        Err(_) => continue,
                        Ok(Ok(n)) => match serde_json::from_str::<Vec<CaseEvent>>(n.payload()) {
                            Ok(events) => {
                                for ev in events {
                                    let _ = sender.send(Arc::new(ev));
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "unreadable case events"),
                        },
                        // recv reconnects on the next call; events sent meanwhile are lost, which
                        // clients recover from by re-reading their case list.
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
        Ok(hub)
    }

    /// Publishes the event of a committed change: locally on SQLite; through the notifier and
    /// every node's LISTEN on PostgreSQL.
    pub fn after_commit(&self, ev: CaseEvent) {
        match &self.outgoing {
            Some(queue) => {
                let _ = queue.send(ev);
            }
            None => {
                let _ = self.tx.send(Arc::new(ev));
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CaseEvent>> {
        self.tx.subscribe()
    }
}

/// PostgreSQL's limit on a notification payload is 8000 bytes; stay below it.
const MAX_PAYLOAD: usize = 7000;

/// Groups queued events into JSON arrays that each fit one notification.
pub fn payloads(events: &[CaseEvent]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut len = 2;
    for ev in events {
        let Ok(one) = serde_json::to_string(ev) else { continue };
        if !current.is_empty() && len + one.len() + 1 > MAX_PAYLOAD {
            out.push(format!("[{}]", current.join(",")));
            current.clear();
            len = 2;
        }
        len += one.len() + 1;
        current.push(one);
    }
    if !current.is_empty() {
        out.push(format!("[{}]", current.join(",")));
    }
    out
}

/// The node's notifier: sends committed events with `pg_notify`, batching what has queued up.
/// It has a connection of its own (reopened after a failure), so that notifications never queue
/// behind requests for a pooled connection.
async fn send_notifications(db: Db, channel: Arc<String>, mut queue: mpsc::UnboundedReceiver<CaseEvent>) {
    use sqlx::Connection as _;
    let mut conn: Option<sqlx::PgConnection> = None;
    while let Some(first) = queue.recv().await {
        let mut events = vec![first];
        while events.len() < 1000 {
            match queue.try_recv() {
                Ok(ev) => events.push(ev),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            match sqlx::PgConnection::connect(db.url().as_str()).await {
                Ok(c) => conn = Some(c),
                Err(e) => tracing::warn!(error = %e, "cannot connect to publish case events"),
            }
        }
        let Some(c) = conn.as_mut() else {
            tracing::warn!(events = events.len(), "case events not published");
            continue;
        };
        for payload in payloads(&events) {
            let sent =
                sqlx::query("select pg_notify($1, $2)").bind(channel.as_str()).bind(payload).execute(&mut *c).await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, events = events.len(), "case events not published");
                conn = None;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64) -> CaseEvent {
        CaseEvent {
            case_id: id,
            number: format!("20261122{id:06}"),
            action: "report".into(),
            state: "received".into(),
            grid_code: Some("44060401000101".into()),
            departments: vec![],
            at: "2026-11-22T07:00:00.000Z".into(),
        }
    }

    #[test]
    fn payloads_fit_a_notification_and_keep_every_event_in_order() {
        let events: Vec<CaseEvent> = (1..=200).map(event).collect();
        let out = payloads(&events);
        assert!(out.len() > 1, "200 events do not fit one notification");
        let mut back = Vec::new();
        for p in &out {
            assert!(p.len() <= MAX_PAYLOAD, "{}", p.len());
            back.extend(serde_json::from_str::<Vec<CaseEvent>>(p).unwrap());
        }
        assert_eq!(back, events);
        assert!(payloads(&[]).is_empty());
    }
}
