//! The log's side of tlog-witness: send `add-checkpoint`, read the cosignature or the refusal.

use civgrid_ledger::cosignature::CosignatureVerifier;
use civgrid_ledger::note::{add_signature_lines, parse_note};
use civgrid_ledger::witness::{AddCheckpointRequest, SIZE_CONTENT_TYPE};

/// Largest witness answer read (a few cosignature lines).
const MAX_RESPONSE: usize = 64 * 1024;

/// Why a witness did not cosign.
#[derive(Debug, thiserror::Error)]
pub enum WitnessClientError {
    /// 409: the witness's last cosigned size for this log is `size`, not the request's old
    /// size (or it holds a different root at the same size). Retry with `old size` and a
    /// consistency proof from there — or, if the log is really at `size` with another root,
    /// the log has forked.
    #[error("witness is at size {size} for this log (409)")]
    Conflict {
        /// The witness's size.
        size: u64,
    },
    /// Any other refusal (400 malformed, 403 not signed by a key it trusts, 404 origin not
    /// followed, 422 inconsistent proof, 5xx).
    #[error("witness refused with HTTP {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The witness's explanation (trimmed, at most 1 kB).
        body: String,
    },
    /// The request did not reach the witness or the answer did not arrive.
    #[error("witness unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    /// The witness answered 200 or 409 with a body that is not what the protocol says.
    #[error("witness answered with a malformed body: {0}")]
    BadResponse(String),
}

impl WitnessClientError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessClientError::Conflict { .. } => "witness_conflict",
            WitnessClientError::Refused { .. } => "witness_refused",
            WitnessClientError::Transport(_) => "witness_unreachable",
            WitnessClientError::BadResponse(_) => "witness_bad_response",
        }
    }
}

fn endpoint(witness_url: &str) -> String {
    format!("{}/add-checkpoint", witness_url.trim_end_matches('/'))
}

/// Asks the witness at `witness_url` (its submission prefix, e.g. `http://127.0.0.1:7380`) to
/// cosign `req.checkpoint`. Returns the cosignature lines (newline-terminated signature lines,
/// format-checked; the caller verifies them with the witness's key, or uses
/// [`request_verified_cosignature`]). A 409 is [`WitnessClientError::Conflict`] with the
/// witness's size.
pub async fn request_cosignature(
    client: &reqwest::Client,
    witness_url: &str,
    req: &AddCheckpointRequest,
) -> Result<String, WitnessClientError> {
    let response = client
        .post(endpoint(witness_url))
        .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(req.to_body())
        .send()
        .await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await?;
    if body.len() > MAX_RESPONSE {
        return Err(WitnessClientError::BadResponse(format!("answer of {} bytes", body.len())));
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    match status {
        200 => {
            if text.is_empty() {
                return Err(WitnessClientError::BadResponse("no cosignature lines".into()));
            }
            add_signature_lines(&req.checkpoint, &text).map_err(|e| WitnessClientError::BadResponse(e.to_string()))?;
            Ok(text)
        }
        409 => {
            let size = text.strip_suffix('\n').and_then(parse_size).ok_or_else(|| {
                WitnessClientError::BadResponse(format!("409 body {text:?} ({content_type}) is not a tree size"))
            })?;
            if !content_type.starts_with(SIZE_CONTENT_TYPE) {
                tracing::debug!(content_type, "witness 409 without the text/x.tlog.size content type");
            }
            Err(WitnessClientError::Conflict { size })
        }
        _ => {
            let mut body = text.trim().to_owned();
            if body.len() > 1024 {
                let mut cut = 1024;
                while !body.is_char_boundary(cut) {
                    cut -= 1;
                }
                body.truncate(cut);
            }
            Err(WitnessClientError::Refused { status, body })
        }
    }
}

/// [`request_cosignature`], then checks the answer with the witness's key: returns only the
/// lines by `witness`, each verified over the checkpoint, and their (latest) timestamp. A 200
/// without a valid cosignature by that key is [`WitnessClientError::BadResponse`].
pub async fn request_verified_cosignature(
    client: &reqwest::Client,
    witness_url: &str,
    req: &AddCheckpointRequest,
    witness: &CosignatureVerifier,
) -> Result<(String, u64), WitnessClientError> {
    let lines = request_cosignature(client, witness_url, req).await?;
    let bad = |e: String| WitnessClientError::BadResponse(e);
    let combined = add_signature_lines(&req.checkpoint, &lines).map_err(|e| bad(e.to_string()))?;
    let before = parse_note(&req.checkpoint).map_err(|e| bad(e.to_string()))?.signatures.len();
    let parsed = parse_note(&combined).map_err(|e| bad(e.to_string()))?;
    let mut own = String::new();
    let mut timestamp: Option<u64> = None;
    for s in parsed.signatures.iter().skip(before).filter(|s| witness.matches(s)) {
        let t = witness.verify(&parsed.text, s).map_err(|e| bad(e.to_string()))?;
        timestamp = Some(timestamp.map_or(t, |x| x.max(t)));
        own.push_str(&s.to_line());
    }
    let timestamp =
        timestamp.ok_or_else(|| bad(format!("no new cosignature by {}+{:08x}", witness.name(), witness.key_id())))?;
    Ok((own, timestamp))
}

/// A decimal size without sign or leading zeros, as in `text/x.tlog.size`.
fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}
