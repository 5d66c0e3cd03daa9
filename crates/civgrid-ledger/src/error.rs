//! The crate-wide error: every module's error folds into [`LedgerError`] so callers (the database
//! layer, HTTP handlers) can map one type to a response while keeping the precise `code()`.

use crate::checkpoint::CheckpointError;
use crate::cosignature::CosignatureError;
use crate::entry::EntryError;
use crate::note::NoteError;
use crate::tiles::TileError;
use crate::tree::NodeId;
use crate::verify::ProofError;
use crate::witness::WitnessError;

/// Errors from tree operations, plus every per-module error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A leaf index at or beyond the tree size was asked for.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A consistency proof was asked for from a larger tree to a smaller one.
    #[error("tree size decreased from {old} to {new}")]
    SizeDecreased {
        /// The earlier (claimed smaller) size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// Appending would take the tree past 2^64 − 1 leaves.
    #[error("the tree cannot grow past 2^64 - 1 leaves")]
    TreeFull,
    /// A node hash the computation needs is not stored: the store is behind the claimed size,
    /// or was damaged.
    #[error("node hash level {} index {} is not stored", .0.level, .0.index)]
    MissingNode(NodeId),
    /// A [`crate::HashReader`] returned a different number of hashes than ids requested.
    #[error("store returned {returned} hashes for {requested} ids")]
    StoreMismatch {
        /// How many ids were requested.
        requested: usize,
        /// How many hashes came back.
        returned: usize,
    },
    /// A storage backend failed (the message comes from the backend).
    #[error("store error: {0}")]
    Store(String),
    /// A proof failed to verify.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A signed note was malformed or did not verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A checkpoint body was malformed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A tile path or tile body was malformed.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// A cosignature was malformed or did not verify.
    #[error(transparent)]
    Cosignature(#[from] CosignatureError),
    /// A witness refused an add-checkpoint request.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// A log entry or canonical content was malformed.
    #[error(transparent)]
    Entry(#[from] EntryError),
}

impl LedgerError {
    /// A stable snake_case identifier for the failure, for API bodies and logs. Wrapped errors
    /// report their own code so callers need not unwrap them.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::IndexOutOfRange { .. } => "index_out_of_range",
            LedgerError::SizeDecreased { .. } => "size_decreased",
            LedgerError::TreeFull => "tree_full",
            LedgerError::MissingNode(_) => "missing_node",
            LedgerError::StoreMismatch { .. } => "store_mismatch",
            LedgerError::Store(_) => "store_error",
            LedgerError::Proof(e) => e.code(),
            LedgerError::Note(e) => e.code(),
            LedgerError::Checkpoint(e) => e.code(),
            LedgerError::Tile(e) => e.code(),
            LedgerError::Cosignature(e) => e.code(),
            LedgerError::Witness(e) => e.code(),
            LedgerError::Entry(e) => e.code(),
        }
    }
}
