//! Live push: whoever must act on a case hears of it as it happens.
//!
//! Every node keeps one local broadcast channel that its SSE streams read. How events reach it:
//! * **PostgreSQL** (several nodes): the writer calls `pg_notify` *inside* the transaction that
//!   changes the case, so the event is delivered exactly when (and only if) the change commits,
//!   to every node's `LISTEN` connection — including the writer's own. The channel name is
//!   derived from the database and schema, so separate installations on one server never mix.
//! * **SQLite** (one embedded node): the event goes to the local channel after commit.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::sync::broadcast;

use crate::db::{Backend, Db, Tx};

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
        let hub = Hub { tx, backend: db.backend(), channel: Arc::new(channel), alive: Arc::new(()) };
        if hub.backend == Backend::Postgres {
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
                        Ok(Ok(n)) => match serde_json::from_str::<CaseEvent>(n.payload()) {
                            Ok(ev) => {
                                let _ = sender.send(Arc::new(ev));
                            }
                            Err(e) => tracing::warn!(error = %e, "unreadable case event"),
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

    /// Queues the event in the writer's transaction (PostgreSQL); a no-op on SQLite.
    pub async fn notify_in(&self, tx: &mut Tx<'_>, ev: &CaseEvent) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            let payload = serde_json::to_string(ev).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            sqlx::query("select pg_notify($1, $2)")
                .bind(self.channel.as_str())
                .bind(payload)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Delivers the event locally after commit (SQLite); PostgreSQL delivers through LISTEN.
    pub fn after_commit(&self, ev: CaseEvent) {
        if self.backend == Backend::Sqlite {
            let _ = self.tx.send(Arc::new(ev));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CaseEvent>> {
        self.tx.subscribe()
    }
}
