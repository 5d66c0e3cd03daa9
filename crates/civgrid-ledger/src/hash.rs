//! RFC 6962 §2.1 hashing (restated in RFC 9162 §2.1.1).
//!
//! Leaves and interior nodes are hashed with different one-byte prefixes so that no leaf can ever
//! be presented as an interior node (second-preimage resistance); that prefix is the whole reason
//! a plain "hash of the concatenation" tree is not good enough for a public log.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: every leaf hash, node hash and root in the tree.
pub type Hash = [u8; 32];

/// Size of a [`Hash`](type@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// `SHA-256(0x00 ‖ data)`: the hash of one log entry.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    node_hash_raw(left, right)
}

/// [`node_hash`] over byte strings of any length. Exists for the RFC 6962 known-answer tests,
/// which hash short strings such as `"N123"`; tree code always uses [`node_hash`].
pub fn node_hash_raw(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `SHA-256("")`: the root of the empty tree, as RFC 6962 defines it.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}
