//! The public face of the trust ledger: C2SP tlog-checkpoint and tlog-tiles under `/ledger/`,
//! and JSON proofs under `/api/v1/ledger/`. Everything here is public by design — entries carry
//! only hashes — so no sign-in is needed to check the platform's history.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::AppState;
use crate::ledger::LogError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ledger/checkpoint", get(checkpoint))
        .route("/ledger/vkey", get(vkey))
        .route("/ledger/trust", get(trust))
        .route("/ledger/tile/{*rest}", get(tile))
        .route("/api/v1/ledger/proof/inclusion", get(inclusion))
        .route("/api/v1/ledger/proof/consistency", get(consistency))
        .route("/api/v1/ledger/entries/{kind}/{reference}", get(entry))
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> ApiError {
        use civgrid_ledger::tiles::TileError;
        use civgrid_ledger::LedgerError;
        let code = match &e {
            LogError::Store(s) => return super::error::store_error(s),
            LogError::Damaged(_) => return ApiError::internal(&e),
            LogError::NotFound(_) => ErrorCode::NotFound,
            LogError::NoCheckpoint => ErrorCode::NoCheckpoint,
            // What a caller's index, sizes or tile path can be refused for.
            LogError::Core(LedgerError::IndexOutOfRange { .. }) => ErrorCode::IndexOutOfRange,
            LogError::Core(LedgerError::SizeDecreased { .. }) => ErrorCode::SizeDecreased,
            LogError::Core(LedgerError::Tile(t)) => match t {
                TileError::NotATilePath => ErrorCode::NotTilePath,
                TileError::BadLevel => ErrorCode::BadTileLevel,
                TileError::BadIndex => ErrorCode::BadTileIndex,
                TileError::IndexLeadingZeros => ErrorCode::TileIndexLeadingZeros,
                TileError::IndexTooLarge => ErrorCode::TileIndexTooLarge,
                TileError::BadWidth => ErrorCode::BadTileWidth,
                TileError::ExtraSegments => ErrorCode::TilePathExtraSegments,
                // Tile bodies are built by the server from its own store.
                TileError::EntryTooLarge(_) | TileError::TruncatedBundle | TileError::BadTileLength(_) => {
                    return ApiError::internal(&e)
                }
            },
            // The rest fail on the server's own tree, notes or entries, never on the request.
            LogError::Core(
                LedgerError::TreeFull
                | LedgerError::MissingNode(_)
                | LedgerError::StoreMismatch { .. }
                | LedgerError::Store(_)
                | LedgerError::Proof(_)
                | LedgerError::Note(_)
                | LedgerError::Checkpoint(_)
                | LedgerError::Cosignature(_)
                | LedgerError::Witness(_)
                | LedgerError::Entry(_),
            ) => return ApiError::internal(&e),
        };
        ApiError::new(code, e.to_string())
    }
}

fn text(body: impl Into<String>, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body.into(),
    )
        .into_response()
}

/// `GET /ledger/checkpoint`: the latest signed (and cosigned) checkpoint note.
async fn checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(text(state.ledger.checkpoint().await?.note, "no-cache"))
}

/// `GET /ledger/vkey`: the log's signed-note verifier key — one key, as signed-note clients
/// and witnesses read it. The certificate issuer's key is published in the trust file
/// (`/ledger/trust`, its `issuer` line), which is what certificate verifiers read.
async fn vkey(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.ledger.keys().log_verifier().vkey()), "max-age=3600")
}

/// `GET /ledger/trust`: the trust file (origin, log and issuer keys, witnesses, quorum) that
/// `civgrid verify` and any offline verifier need.
async fn trust(State(state): State<AppState>) -> Response {
    text(state.ledger.trust_file().render(), "max-age=300")
}

/// `GET /ledger/tile/<L>/<N>[.p/<W>]` and `/ledger/tile/entries/<N>[.p/<W>]`.
async fn tile(State(state): State<AppState>, Path(rest): Path<String>) -> ApiResult<Response> {
    let path = format!("tile/{rest}");
    let body = state.ledger.tile(&path).await?;
    // Stored nodes never change, so a full tile is immutable; a partial one is too, at its width.
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

fn b64(hashes: &[civgrid_ledger::Hash]) -> Vec<String> {
    hashes.iter().map(|h| base64::engine::general_purpose::STANDARD.encode(h)).collect()
}

/// `GET /api/v1/ledger/proof/inclusion?index=I[&size=N]` (size defaults to the checkpoint's).
async fn inclusion(
    State(state): State<AppState>,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = q?;
    let size = match q.size {
        Some(s) => s,
        None => state.ledger.checkpoint().await?.size,
    };
    let proof = state.ledger.inclusion_proof(q.index, size).await?;
    Ok(Json(json!({"leaf_index": q.index, "tree_size": size, "inclusion_proof": b64(&proof)})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

/// `GET /api/v1/ledger/proof/consistency?old=M[&new=N]`.
async fn consistency(
    State(state): State<AppState>,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = q?;
    let new = match q.new {
        Some(s) => s,
        None => state.ledger.checkpoint().await?.size,
    };
    let proof = state.ledger.consistency_proof(q.old, new).await?;
    Ok(Json(json!({"old_size": q.old, "new_size": new, "consistency_proof": b64(&proof)})))
}

/// `GET /api/v1/ledger/entries/{kind}/{ref}`: where a record sits in the log, with its proof.
async fn entry(
    State(state): State<AppState>,
    Path((kind, reference)): Path<(String, String)>,
) -> ApiResult<Json<crate::ledger::EntryProof>> {
    Ok(Json(state.ledger.find(&kind, &reference).await?))
}
