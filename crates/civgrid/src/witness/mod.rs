//! A witness (another department, an auditor) for the trust ledger, and the log's client for it.
//!
//! The server speaks C2SP tlog-witness: `POST /add-checkpoint` with `old <size>`, a consistency
//! proof, a blank line and the log-signed checkpoint. The decision is
//! [`civgrid_ledger::witness::add_checkpoint`]; this module adds what the pure core cannot:
//!
//! - **Atomic state, saved before replying.** Requests for one origin run one at a time; each
//!   reads the state file, decides, and writes the new state durably ([`StateStore::save`])
//!   before the cosignature leaves the process. The critical section runs on a blocking thread
//!   that finishes even if the client hangs up, so memory and disk never disagree. The state
//!   file is the only truth (no cache), and a damaged one stops the witness rather than let it
//!   forget what it cosigned.
//! - **The protocol's answers.** 200 with the cosignature line; 400 malformed or old size beyond
//!   the checkpoint; 403 not signed by a configured log key; 404 origin not followed; 409 with
//!   the witness's size as `text/x.tlog.size` when the old size is stale (or the same size holds
//!   another root); 422 when the consistency proof fails (or a proof accompanies `old 0`).
//!   Refused but log-signed requests that prove misbehaviour (422 inconsistent, 409 fork) are
//!   kept under `<state>/evidence/`.
//! - **Keys** ([`write_new_key`], [`read_key`]): the private key file is created 0600 and never
//!   overwritten; the key is never logged.
//!
//! The log side is [`request_cosignature`] (and [`request_verified_cosignature`]).

pub mod cli;
mod client;
mod store;

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use civgrid_ledger::cosignature::{CosignatureError, Cosigner};
use civgrid_ledger::note::MAX_NOTE_SIZE;
use civgrid_ledger::witness::{AddCheckpointRequest, LogConfig, Witness, WitnessError};

pub use client::{request_cosignature, request_verified_cosignature, WitnessClientError};
pub use store::{StateError, StateStore};

/// Largest request body accepted (a maximal note plus 63 proof lines), as the core parser does.
pub const MAX_REQUEST_BODY: usize = MAX_NOTE_SIZE + 4096;

/// Why an add-checkpoint request got no cosignature.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The protocol refuses it (status and body from [`WitnessError`]).
    #[error(transparent)]
    Refused(#[from] WitnessError),
    /// The state could not be read or saved: nothing was cosigned (500).
    #[error("witness state: {0}")]
    State(#[from] StateError),
}

impl AddError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            AddError::Refused(e) => e.code(),
            AddError::State(_) => "witness_state_unavailable",
        }
    }
}

/// A running witness: its key, the logs it follows, its locked state directory, and one lock
/// per origin.
#[derive(Debug)]
pub struct WitnessService {
    witness: Witness,
    store: StateStore,
    origins: HashMap<String, Mutex<()>>,
}

impl WitnessService {
    /// Opens the state directory (creating and locking it) and checks every followed log's state
    /// file reads back.
    pub fn open(cosigner: Cosigner, logs: Vec<LogConfig>, state_dir: &Path) -> Result<Arc<WitnessService>, StateError> {
        let store = StateStore::open(state_dir)?;
        let mut origins = HashMap::new();
        for log in &logs {
            if let Some(state) = store.load(&log.origin)? {
                tracing::info!(origin = %log.origin, size = state.size, "witness state loaded");
            }
            origins.insert(log.origin.clone(), Mutex::new(()));
        }
        Ok(Arc::new(WitnessService { witness: Witness::new(cosigner, logs), store, origins }))
    }

    /// The witness's cosignature verifier key, to publish in trust files.
    pub fn vkey(&self) -> String {
        self.witness.cosigner().vkey()
    }

    /// The state directory.
    pub fn store(&self) -> &StateStore {
        &self.store
    }

    /// Decides one add-checkpoint request body and, if cosigned, saves the new state before
    /// returning the cosignature lines. Blocking (file I/O): call from a blocking thread.
    pub fn add_checkpoint_blocking(&self, body: &[u8], now: u64) -> Result<String, AddError> {
        let request = AddCheckpointRequest::parse(body)?;
        let claimed = request.unverified_checkpoint()?;
        let Some(lock) = self.origins.get(&claimed.origin) else {
            return Err(WitnessError::UnknownOrigin(claimed.origin).into());
        };
        // A poisoned lock only means an earlier request panicked; the state file is the truth
        // and is re-read below, so carrying on is safe.
        let _serial = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = self.store.load(&claimed.origin)?;
        let accepted = match self.witness.add_checkpoint(&request, state.as_ref(), now) {
            Ok(a) => a,
            Err(e) => {
                if matches!(e, WitnessError::Inconsistent(_) | WitnessError::RootConflict { .. }) {
                    self.store.keep_evidence(&claimed.origin, e.code(), body);
                }
                return Err(e.into());
            }
        };
        if state.as_ref() != Some(&accepted.new_state) {
            self.store.save(&accepted.new_state)?;
        }
        tracing::info!(
            origin = %accepted.new_state.origin,
            old = request.old_size,
            size = accepted.new_state.size,
            "checkpoint cosigned"
        );
        Ok(accepted.response_body)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The witness's HTTP interface: `POST /add-checkpoint`.
pub fn router(service: Arc<WitnessService>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY))
        .with_state(service)
}

async fn add_checkpoint(State(service): State<Arc<WitnessService>>, body: Bytes) -> Response {
    let now = unix_now();
    let worker = Arc::clone(&service);
    // spawn_blocking runs to the end even if this future is dropped (client gone), so a decision
    // is always either fully saved or not made.
    let outcome = tokio::task::spawn_blocking(move || worker.add_checkpoint_blocking(&body, now)).await;
    match outcome {
        Ok(Ok(lines)) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], lines).into_response(),
        Ok(Err(AddError::Refused(e))) => refusal(&e),
        Ok(Err(AddError::State(e))) => {
            tracing::error!(error = %e, "witness state unavailable; nothing cosigned");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "witness_state_unavailable: the witness could not read or save its state\n",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "add-checkpoint worker failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal: add-checkpoint failed\n")
        }
    }
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body.into()).into_response()
}

/// The protocol's answer to a refusal: its status; for 409 the size as `text/x.tlog.size`,
/// otherwise `code: explanation` as plain text.
fn refusal(e: &WitnessError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(code = e.code(), error = %e, "add-checkpoint failed");
    } else {
        tracing::warn!(code = e.code(), status = status.as_u16(), error = %e, "add-checkpoint refused");
    }
    match (e.response_body(), e.content_type()) {
        (Some(body), Some(content_type)) => (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
        _ => text(status, format!("{}: {e}\n", e.code())),
    }
}

/// Serves `router(service)` on `listener` until `shutdown` completes.
pub async fn serve_until(
    service: Arc<WitnessService>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service)).with_graceful_shutdown(shutdown).await
}

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{0} already exists; refusing to overwrite a key")]
    Exists(PathBuf),
    #[error("key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("key file {0} does not hold a witness (cosignature/v1) private key: {1}")]
    Malformed(PathBuf, CosignatureError),
}

/// Writes `cosigner`'s private key to a new file `path` with mode 0600. Never overwrites.
pub fn write_new_key(cosigner: &Cosigner, path: &Path) -> Result<(), KeyFileError> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists(path.to_path_buf())
        } else {
            KeyFileError::Io(path.to_path_buf(), e)
        }
    })?;
    let io = |e| KeyFileError::Io(path.to_path_buf(), e);
    file.write_all(format!("{}\n", cosigner.private_key()).as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// Reads a witness private key file, warning if group or others may read it.
pub fn read_key(path: &Path) -> Result<Cosigner, KeyFileError> {
    let io = |e| KeyFileError::Io(path.to_path_buf(), e);
    let meta = std::fs::metadata(path).map_err(io)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "witness key file is readable by group or others; run chmod 600");
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    Cosigner::from_private_key(line).map_err(|e| KeyFileError::Malformed(path.to_path_buf(), e))
}
