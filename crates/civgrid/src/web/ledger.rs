//! The public face of the trust ledger: C2SP tlog-checkpoint and tlog-tiles under `/ledger/`,
//! and JSON proofs under `/api/v1/ledger/`. Everything here is public by design — entries carry
//! only hashes — so no sign-in is needed to check the platform's history.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorCode};
use super::AppState;
use crate::ledger::LogError;

pub fn routes() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(checkpoint))
        .routes(routes!(vkey))
        .routes(routes!(trust))
        // A tile path spans segments (`{*rest}`), which `routes!` cannot register: it is routed
        // here and documented from the handler's own `#[utoipa::path]` as `{tile_path}`.
        .route("/ledger/tile/{*rest}", get(tile))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
        .routes(routes!(entry));
    router.get_openapi_mut().merge(TileDoc::openapi());
    router
}

/// The operation of the catch-all tile route, which the router cannot document itself.
#[derive(utoipa::OpenApi)]
#[openapi(paths(tile))]
struct TileDoc;

/// `GET /api/v1/ledger/proof/inclusion`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// RFC 9162 audit path, base64 hashes, leaf upward.
    pub inclusion_proof: Vec<String>,
}

/// `GET /api/v1/ledger/proof/consistency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub old_size: u64,
    pub new_size: u64,
    /// RFC 9162 consistency proof, base64 hashes.
    pub consistency_proof: Vec<String>,
}

/// `GET /api/v1/ledger/entries/{kind}/{reference}`: where a record sits in the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
    /// Hex SHA-256 of the record's canonical content.
    pub content_sha256: String,
    /// Leaf index; null while the entry waits for the sequencer (well under a second).
    pub leaf_index: Option<u64>,
    /// The checkpoint's size the proof is against; null until the entry is in one.
    pub tree_size: Option<u64>,
    /// Base64 hashes; empty until the entry is in a checkpoint.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint note the proof is against.
    pub checkpoint: Option<String>,
}

impl From<crate::ledger::EntryProof> for EntryView {
    fn from(p: crate::ledger::EntryProof) -> EntryView {
        EntryView {
            inclusion_proof: b64(&p.inclusion_proof),
            kind: p.kind,
            reference: p.reference,
            content_sha256: p.content_sha256,
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            checkpoint: p.checkpoint,
        }
    }
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
#[utoipa::path(get, path = "/ledger/checkpoint", tag = "ledger", summary = "Latest C2SP signed (and cosigned) checkpoint",
    responses((status = 200, description = "the checkpoint note", content_type = "text/plain", body = String)))]
async fn checkpoint(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(text(state.ledger.checkpoint().await?.note, "no-cache"))
}

/// `GET /ledger/vkey`: the log's signed-note verifier key — one key, as signed-note clients
/// and witnesses read it. The certificate issuer's key is published in the trust file
/// (`/ledger/trust`, its `issuer` line), which is what certificate verifiers read.
#[utoipa::path(get, path = "/ledger/vkey", tag = "ledger", summary = "Signed-note verifier key of the log",
    responses((status = 200, description = "the verifier key line", content_type = "text/plain", body = String)))]
async fn vkey(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.ledger.keys().log_verifier().vkey()), "max-age=3600")
}

/// `GET /ledger/trust`: the trust file (origin, log and issuer keys, witnesses, quorum) that
/// `civgrid verify` and any offline verifier need.
#[utoipa::path(get, path = "/ledger/trust", tag = "ledger", summary = "Trust file: origin, log/issuer keys, witnesses and quorum",
    responses((status = 200, description = "the trust file", content_type = "text/plain", body = String)))]
async fn trust(State(state): State<AppState>) -> Response {
    text(state.ledger.trust_file().render(), "max-age=300")
}

/// `GET /ledger/tile/<L>/<N>[.p/<W>]` and `/ledger/tile/entries/<N>[.p/<W>]`.
#[utoipa::path(get, path = "/ledger/tile/{tile_path}", tag = "ledger",
    summary = "C2SP tlog-tiles hash tile or entry bundle",
    params(("tile_path" = String, Path, allow_reserved,
        description = "`<L>/<N>[.p/<W>]` (a hash tile) or `entries/<N>[.p/<W>]` (an entry bundle); spans segments")),
    responses((status = 200, description = "the tile's bytes (C2SP tlog-tiles); immutable, cached for a year",
        content_type = "application/octet-stream")))]
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct InclusionQuery {
    /// The leaf.
    index: u64,
    /// The tree size; the latest checkpoint's when absent.
    size: Option<u64>,
}

fn b64(hashes: &[civgrid_ledger::Hash]) -> Vec<String> {
    hashes.iter().map(|h| base64::engine::general_purpose::STANDARD.encode(h)).collect()
}

/// `GET /api/v1/ledger/proof/inclusion?index=I[&size=N]` (size defaults to the checkpoint's).
#[utoipa::path(get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger", summary = "RFC 9162 inclusion proof",
    params(InclusionQuery), responses((status = 200, description = "the proof", body = InclusionProof)))]
async fn inclusion(
    State(state): State<AppState>,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<InclusionProof>> {
    let Query(q) = q?;
    let size = match q.size {
        Some(s) => s,
        None => state.ledger.checkpoint().await?.size,
    };
    let proof = state.ledger.inclusion_proof(q.index, size).await?;
    Ok(Json(InclusionProof { leaf_index: q.index, tree_size: size, inclusion_proof: b64(&proof) }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConsistencyQuery {
    /// The older tree size.
    old: u64,
    /// The newer tree size; the latest checkpoint's when absent.
    new: Option<u64>,
}

/// `GET /api/v1/ledger/proof/consistency?old=M[&new=N]`.
#[utoipa::path(get, path = "/api/v1/ledger/proof/consistency", tag = "ledger", summary = "RFC 9162 consistency proof",
    params(ConsistencyQuery), responses((status = 200, description = "the proof", body = ConsistencyProof)))]
async fn consistency(
    State(state): State<AppState>,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ConsistencyProof>> {
    let Query(q) = q?;
    let new = match q.new {
        Some(s) => s,
        None => state.ledger.checkpoint().await?.size,
    };
    let proof = state.ledger.consistency_proof(q.old, new).await?;
    Ok(Json(ConsistencyProof { old_size: q.old, new_size: new, consistency_proof: b64(&proof) }))
}

/// `GET /api/v1/ledger/entries/{kind}/{reference}`: where a record sits in the log, with its proof.
#[utoipa::path(get, path = "/api/v1/ledger/entries/{kind}/{reference}", tag = "ledger",
    summary = "Where a record sits in the log, with its proof",
    params(("kind" = String, Path, description = "the record's kind (case_transition, certificate, …)"),
           ("reference" = String, Path, description = "the record's reference")),
    responses((status = 200, description = "the entry", body = EntryView)))]
async fn entry(
    State(state): State<AppState>,
    Path((kind, reference)): Path<(String, String)>,
) -> ApiResult<Json<EntryView>> {
    Ok(Json(state.ledger.find(&kind, &reference).await?.into()))
}
