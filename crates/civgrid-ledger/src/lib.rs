//! The pure core of the civgrid trust ledger (PRODUCT.md capability 4, issue 4).
//!
//! A district government's records are only credible to outsiders if anyone can check that the
//! history was never rewritten. Rather than a home-made chain, this crate implements the public,
//! widely implemented transparency-log formats so the proofs can be checked by independent tools:
//!
//! - [`hash`]: RFC 6962 leaf and node hashing (SHA-256 with 0x00 / 0x01 domain separation).
//! - [`tree`]: node addressing over stored *complete* subtrees, inclusion / consistency proof and
//!   root computation from a [`tree::HashReader`], the batch [`tree::Appender`], and an in-memory
//!   [`tree::MemoryStore`].
//! - [`verify`]: RFC 9162 §2.1.3.2 / §2.1.4.2 proof verification.
//! - [`note`]: C2SP signed-note (Ed25519) signing, verifier keys and opening.
//! - [`checkpoint`]: C2SP tlog-checkpoint bodies.
//! - [`tiles`]: C2SP tlog-tiles paths, tile contents and entry bundles.
//! - [`cosignature`]: C2SP tlog-cosignature/v1 (timestamped Ed25519) cosignatures.
//! - [`entry`]: what a leaf commits to (kind, reference, SHA-256 of canonical JSON content).
//! - [`witness`]: the C2SP tlog-witness `add-checkpoint` decision as a pure state machine.
//! - [`policy`]: the published trust file (log, issuer and witness keys, witness quorum) and the
//!   evaluation of a cosigned checkpoint against it.
//! - [`bundle`]: certificate bundles (issuer signature, inclusion proof, cosigned checkpoint)
//!   and their offline verification.
//!
//! Nothing here does I/O: storage, HTTP and the CLI wire these functions to a database so the
//! security-critical logic can be tested exhaustively against the public test vectors.
//!
//! ```
//! use civgrid_ledger::tree::{inclusion_proof, inclusion_proof_ids};
//! use civgrid_ledger::verify::verify_inclusion;
//! use civgrid_ledger::{leaf_hash, MemoryStore};
//!
//! let leaves: Vec<_> = (0u32..5).map(|i| leaf_hash(&i.to_be_bytes())).collect();
//! let mut store = MemoryStore::new();
//! store.append_leaves(&leaves)?;
//! let root = store.root()?;
//! // A database fetches `inclusion_proof_ids(3, 5)` in one query; MemoryStore does it in memory.
//! assert_eq!(inclusion_proof_ids(3, 5)?.len(), 3);
//! let proof = inclusion_proof(3, 5, &store)?;
//! verify_inclusion(&leaves[3], 3, 5, &proof, &root)?;
//! # Ok::<(), civgrid_ledger::LedgerError>(())
//! ```
//!
//! Library code never panics on input: malformed input yields an error whose `code()` is a
//! stable snake_case string, suitable for API error bodies and audit logs.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod bundle;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
mod error;
pub mod hash;
pub mod note;
pub mod policy;
pub mod tiles;
pub mod tree;
pub mod verify;
pub mod witness;

pub use entry::Entry;
pub use error::LedgerError;
pub use hash::{empty_root, leaf_hash, node_hash, Hash};
pub use tree::{Appender, HashReader, MemoryStore, NodeId};

/// Strict standard base64 (RFC 4648 §4, padded, canonical trailing bits), shared by every format
/// here so one lenient decoder cannot make two different encodings of the same bytes acceptable.
pub(crate) mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    pub(crate) fn encode(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    /// Decodes strictly: padding required, no whitespace, non-zero trailing bits rejected.
    pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
        STANDARD.decode(text).ok()
    }

    /// Decodes a base64 string that must hold exactly 32 bytes (a hash or a public key).
    pub(crate) fn decode_32(text: &str) -> Option<[u8; 32]> {
        let bytes = decode(text)?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok()
    }
}
