//! C2SP tlog-witness (c2sp.org/tlog-witness) `add-checkpoint`, as a pure decision.
//!
//! A witness (another department, an auditor) keeps, per log origin, the size and root of the
//! last checkpoint it cosigned. It cosigns a new checkpoint only if the log signed it and proves
//! it extends that state, so a log that forks or rewrites history is caught by every witness it
//! asks. The HTTP server around this function must, for each origin, read the state, call
//! [`Witness::add_checkpoint`] and persist [`Accepted::new_state`] in one atomic step (a
//! transaction or compare-and-swap) *before* replying; otherwise two concurrent requests can roll
//! the state back (the race the spec describes).

use crate::b64;
use crate::checkpoint::{parse_canonical_u64, Checkpoint, CheckpointError};
use crate::cosignature::{CosignatureError, Cosigner};
use crate::hash::{empty_root, Hash};
use crate::note::{self, NoteError, Verifier};
use crate::verify::{verify_consistency, ProofError};

/// Most consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// Content type of a 409 response body (the witness's current size).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Why the witness refused a request, with the HTTP status the protocol prescribes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    /// The body is not `old <size>`, proof lines, a blank line and a note.
    #[error("malformed add-checkpoint request: {0}")]
    MalformedRequest(&'static str),
    /// The checkpoint note is not a well-formed note.
    #[error("malformed checkpoint note: {0}")]
    MalformedNote(NoteError),
    /// The note text is not a well-formed checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(CheckpointError),
    /// The witness does not know the checkpoint's origin.
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No signature by a trusted log key verifies (or a trusted key's signature is forged).
    #[error("checkpoint is not validly signed by the log: {0}")]
    NotSignedByLog(NoteError),
    /// The old size is larger than the checkpoint's size.
    #[error("old size {old} is larger than checkpoint size {size}")]
    OldSizeTooLarge {
        /// Old size in the request.
        old: u64,
        /// Checkpoint size.
        size: u64,
    },
    /// The old size is not the size the witness last cosigned; the log must retry from it.
    #[error("old size {old} does not match the last cosigned size {current_size}")]
    OldSizeMismatch {
        /// Old size in the request.
        old: u64,
        /// The witness's current size for this origin.
        current_size: u64,
    },
    /// Same size as the witness's state but a different root: the log forked.
    #[error("checkpoint has the cosigned size {current_size} but a different root")]
    RootConflict {
        /// The witness's current size.
        current_size: u64,
    },
    /// A consistency proof was sent with old size 0 or for an unchanged size.
    #[error("consistency proof must be empty when the size does not grow from a known tree")]
    UnexpectedProof,
    /// The consistency proof does not prove the checkpoint extends the cosigned tree.
    #[error("consistency proof does not verify: {0}")]
    Inconsistent(ProofError),
    /// The state handed in belongs to a different origin (a bug in the caller).
    #[error("witness state is for origin {state:?}, checkpoint is for {checkpoint:?}")]
    StateOriginMismatch {
        /// Origin of the state passed in.
        state: String,
        /// Origin of the checkpoint.
        checkpoint: String,
    },
    /// Cosigning failed (timestamp out of range).
    #[error("cosigning failed: {0}")]
    Cosign(CosignatureError),
}

impl WitnessError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessError::MalformedRequest(_) => "malformed_request",
            WitnessError::MalformedNote(_) => "malformed_checkpoint_note",
            WitnessError::MalformedCheckpoint(_) => "malformed_checkpoint",
            WitnessError::UnknownOrigin(_) => "unknown_origin",
            WitnessError::NotSignedByLog(_) => "not_signed_by_log",
            WitnessError::OldSizeTooLarge { .. } => "old_size_too_large",
            WitnessError::OldSizeMismatch { .. } => "old_size_mismatch",
            WitnessError::RootConflict { .. } => "root_conflict",
            WitnessError::UnexpectedProof => "unexpected_proof",
            WitnessError::Inconsistent(_) => "inconsistent_proof",
            WitnessError::StateOriginMismatch { .. } => "state_origin_mismatch",
            WitnessError::Cosign(_) => "cosign_failed",
        }
    }

    /// The HTTP status tlog-witness prescribes: 400 malformed or old size beyond the
    /// checkpoint, 403 not signed by the log, 404 unknown origin, 409 old size mismatch or
    /// same-size fork, 422 bad consistency proof; 500 for the caller's own faults.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::MalformedRequest(_)
            | WitnessError::MalformedNote(_)
            | WitnessError::MalformedCheckpoint(_)
            | WitnessError::OldSizeTooLarge { .. } => 400,
            WitnessError::NotSignedByLog(_) => 403,
            WitnessError::UnknownOrigin(_) => 404,
            WitnessError::OldSizeMismatch { .. } | WitnessError::RootConflict { .. } => 409,
            WitnessError::UnexpectedProof | WitnessError::Inconsistent(_) => 422,
            WitnessError::StateOriginMismatch { .. } | WitnessError::Cosign(_) => 500,
        }
    }

    /// The response body the protocol prescribes, if any: for 409, the witness's current size
    /// in decimal and a newline (content type [`SIZE_CONTENT_TYPE`]), so the log can retry.
    pub fn response_body(&self) -> Option<String> {
        match self {
            WitnessError::OldSizeMismatch { current_size, .. } | WitnessError::RootConflict { current_size } => {
                Some(format!("{current_size}\n"))
            }
            _ => None,
        }
    }

    /// Content type of [`WitnessError::response_body`].
    pub fn content_type(&self) -> Option<&'static str> {
        self.response_body().map(|_| SIZE_CONTENT_TYPE)
    }
}

/// The latest checkpoint a witness cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessState {
    /// Log origin.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash at that size.
    pub root: Hash,
}

/// A log the witness is configured to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The log's checkpoint origin.
    pub origin: String,
    /// The log's note keys (several during a key rotation).
    pub verifiers: Vec<Verifier>,
}

/// An `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// Size of the checkpoint the log believes the witness last cosigned.
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

impl AddCheckpointRequest {
    /// Parses a request body: `old <size>\n`, up to 63 base64 hash lines, a blank line, then the
    /// checkpoint note.
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, WitnessError> {
        if body.len() > note::MAX_NOTE_SIZE + 4096 {
            return Err(WitnessError::MalformedRequest("body too large"));
        }
        let body = std::str::from_utf8(body).map_err(|_| WitnessError::MalformedRequest("body is not UTF-8"))?;
        let (first, mut rest) = body.split_once('\n').ok_or(WitnessError::MalformedRequest("missing old size line"))?;
        let old =
            first.strip_prefix("old ").ok_or(WitnessError::MalformedRequest("first line must be 'old <size>'"))?;
        let old_size =
            parse_canonical_u64(old).ok_or(WitnessError::MalformedRequest("old size is not canonical decimal"))?;
        let mut proof = Vec::new();
        loop {
            let (line, tail) =
                rest.split_once('\n').ok_or(WitnessError::MalformedRequest("missing blank line before checkpoint"))?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(WitnessError::MalformedRequest("more than 63 proof lines"));
            }
            proof.push(b64::decode_32(line).ok_or(WitnessError::MalformedRequest("proof line is not a base64 hash"))?);
        }
        note::parse_note(rest).map_err(WitnessError::MalformedNote)?;
        Ok(AddCheckpointRequest { old_size, proof, checkpoint: rest.to_string() })
    }

    /// The request body, as a log sends it.
    pub fn to_body(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&b64::encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }

    /// The checkpoint body, parsed but NOT authenticated: use it only to find the log's
    /// configuration and the witness state for its origin.
    pub fn unverified_checkpoint(&self) -> Result<Checkpoint, WitnessError> {
        let parsed = note::parse_note(&self.checkpoint).map_err(WitnessError::MalformedNote)?;
        Checkpoint::parse(&parsed.text).map_err(WitnessError::MalformedCheckpoint)
    }
}

/// A cosigned checkpoint: the state to persist and the response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The new state for the origin. Persist it atomically before replying.
    pub new_state: WitnessState,
    /// The authenticated checkpoint.
    pub checkpoint: Checkpoint,
    /// The 200 response body: the cosignature line(s), newline-terminated.
    pub response_body: String,
}

/// A witness: its cosigning key and the logs it follows.
#[derive(Debug, Clone)]
pub struct Witness {
    cosigner: Cosigner,
    logs: Vec<LogConfig>,
}

impl Witness {
    /// A witness with its key and configured logs.
    pub fn new(cosigner: Cosigner, logs: Vec<LogConfig>) -> Witness {
        Witness { cosigner, logs }
    }

    /// The cosigning key.
    pub fn cosigner(&self) -> &Cosigner {
        &self.cosigner
    }

    /// The configuration for `origin`, if the witness follows that log.
    pub fn log(&self, origin: &str) -> Option<&LogConfig> {
        self.logs.iter().find(|l| l.origin == origin)
    }

    /// Decides an add-checkpoint request against the stored `state` for the checkpoint's origin
    /// (`None` if this witness never cosigned for it), cosigning at `now` (POSIX seconds).
    pub fn add_checkpoint(
        &self,
        request: &AddCheckpointRequest,
        state: Option<&WitnessState>,
        now: u64,
    ) -> Result<Accepted, WitnessError> {
        add_checkpoint(&self.logs, state, request, &self.cosigner, now)
    }
}

/// The add-checkpoint decision (see the module docs), checks in the spec's order.
pub fn add_checkpoint(
    logs: &[LogConfig],
    state: Option<&WitnessState>,
    request: &AddCheckpointRequest,
    cosigner: &Cosigner,
    now: u64,
) -> Result<Accepted, WitnessError> {
    let claimed = request.unverified_checkpoint()?;
    let log = logs.iter().find(|l| l.origin == claimed.origin).ok_or(WitnessError::UnknownOrigin(claimed.origin))?;
    let opened = note::open(&request.checkpoint, &log.verifiers).map_err(WitnessError::NotSignedByLog)?;
    let checkpoint = Checkpoint::parse(&opened.text).map_err(WitnessError::MalformedCheckpoint)?;

    if request.old_size > checkpoint.size {
        return Err(WitnessError::OldSizeTooLarge { old: request.old_size, size: checkpoint.size });
    }
    if let Some(s) = state {
        if s.origin != checkpoint.origin {
            return Err(WitnessError::StateOriginMismatch { state: s.origin.clone(), checkpoint: checkpoint.origin });
        }
    }
    let current_size = state.map_or(0, |s| s.size);
    if request.old_size != current_size {
        return Err(WitnessError::OldSizeMismatch { old: request.old_size, current_size });
    }
    if checkpoint.size == 0 && checkpoint.root != empty_root() {
        // The empty tree has exactly one root; anything else is not a tree head at all.
        return Err(WitnessError::Inconsistent(ProofError::RootMismatch));
    }
    match state {
        Some(s) if s.size == checkpoint.size => {
            if !request.proof.is_empty() {
                return Err(WitnessError::UnexpectedProof);
            }
            if s.root != checkpoint.root {
                return Err(WitnessError::RootConflict { current_size });
            }
        }
        // First checkpoint from this log (or a state at size 0): every tree extends the empty
        // tree, and the spec requires the proof to be empty.
        None => {
            if !request.proof.is_empty() {
                return Err(WitnessError::UnexpectedProof);
            }
        }
        Some(s) if s.size == 0 => {
            if !request.proof.is_empty() {
                return Err(WitnessError::UnexpectedProof);
            }
        }
        Some(s) => {
            verify_consistency(s.size, checkpoint.size, &s.root, &checkpoint.root, &request.proof)
                .map_err(WitnessError::Inconsistent)?;
        }
    }

    let response_body = cosigner.cosign(&opened.text, now).map_err(WitnessError::Cosign)?;
    Ok(Accepted {
        new_state: WitnessState { origin: checkpoint.origin.clone(), size: checkpoint.size, root: checkpoint.root },
        checkpoint,
        response_body,
    })
}
