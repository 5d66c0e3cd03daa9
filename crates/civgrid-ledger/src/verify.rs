//! Proof verification per RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).
//!
//! This is the code a citizen's verifier, a witness and `civgrid verify` rely on, so it checks
//! more than the RFC's loop: the proof length is fixed by the tree shape and is checked before any
//! hashing (a padded or truncated proof is refused outright, never "probably fine"), and hashes
//! are typed as 32-byte arrays so a short or empty "hash" cannot even be expressed.

use crate::hash::{node_hash, Hash};

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Inclusion of a leaf at or beyond the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// Claimed leaf index.
        index: u64,
        /// Claimed tree size.
        size: u64,
    },
    /// The proof has the wrong number of hashes for the claimed sizes.
    #[error("proof has {got} hashes, expected {want}")]
    WrongProofSize {
        /// Hashes supplied.
        got: usize,
        /// Hashes the tree shape requires.
        want: usize,
    },
    /// The proof does not lead to the claimed (new) root.
    #[error("proof does not lead to the claimed root")]
    RootMismatch,
    /// The consistency proof does not lead to the claimed old root.
    #[error("consistency proof does not lead to the claimed old root")]
    OldRootMismatch,
    /// The new tree is smaller than the old one.
    #[error("tree size decreased from {old} to {new}")]
    SizeDecreased {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// A consistency proof from the empty tree was presented. It would prove nothing (every tree
    /// extends the empty tree), so it is refused rather than reported as a valid proof; the
    /// witness protocol handles old size 0 separately.
    #[error("a consistency proof from the empty tree proves nothing")]
    OldSizeZero,
}

impl ProofError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::IndexOutOfRange { .. } => "index_out_of_range",
            ProofError::WrongProofSize { .. } => "wrong_proof_size",
            ProofError::RootMismatch => "root_mismatch",
            ProofError::OldRootMismatch => "old_root_mismatch",
            ProofError::SizeDecreased { .. } => "size_decreased",
            ProofError::OldSizeZero => "old_size_zero",
        }
    }
}

/// Splits the audit path of `index` in a tree of `size` leaves into its "inner" part (levels
/// below the point where the paths to `index` and to the last leaf part; siblings on either side)
/// and its "border" part (complete left subtrees above it). Their sum is the only valid proof
/// length. Requires `index < size`.
fn decompose(index: u64, size: u64) -> (u32, u32) {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner, border)
}

/// Hashes `seed` up through `proof` for the inner levels, choosing the side from `index`'s bits.
fn chain_inner(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(
        seed,
        |acc, (i, p)| {
            if (index >> i) & 1 == 0 {
                node_hash(&acc, p)
            } else {
                node_hash(p, &acc)
            }
        },
    )
}

/// Like [`chain_inner`] but only takes left siblings: the hash of the same subtree as it was
/// before the right-hand leaves were added (used for the old root of a consistency proof).
fn chain_inner_left_only(seed: Hash, proof: &[Hash], index: u64) -> Hash {
    proof.iter().enumerate().fold(seed, |acc, (i, p)| if (index >> i) & 1 == 1 { node_hash(p, &acc) } else { acc })
}

/// Hashes `seed` with the border siblings, which are all to the left.
fn chain_border(seed: Hash, proof: &[Hash]) -> Hash {
    proof.iter().fold(seed, |acc, p| node_hash(p, &acc))
}

/// The root an inclusion proof leads to, after checking the index and the proof length.
pub fn root_from_inclusion_proof(leaf_hash: &Hash, index: u64, size: u64, proof: &[Hash]) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    let want = (inner + border) as usize;
    if proof.len() != want {
        return Err(ProofError::WrongProofSize { got: proof.len(), want });
    }
    let (inner_part, border_part) = proof.split_at(inner as usize);
    Ok(chain_border(chain_inner(*leaf_hash, inner_part, index), border_part))
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves with root `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if root_from_inclusion_proof(leaf_hash, index, size, proof)? != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root`.
///
/// Equal sizes need an empty proof and equal roots. `old_size == 0` is refused with
/// [`ProofError::OldSizeZero`] (see there).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeDecreased { old: old_size, new: new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofSize { got: proof.len(), want: 0 });
        }
        if old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    if old_size == 0 {
        return Err(ProofError::OldSizeZero);
    }
    // The proof is the audit path of the old tree's last leaf in the new tree, minus the levels
    // inside the old tree's last complete subtree (2^shift leaves), preceded by that subtree's
    // hash unless it is the whole old tree (then the verifier's old root serves).
    let (inner, border) = decompose(old_size - 1, new_size);
    let shift = old_size.trailing_zeros();
    let inner = inner.saturating_sub(shift);
    let old_is_power_of_two = old_size.is_power_of_two();
    let start = usize::from(!old_is_power_of_two);
    let want = start + (inner + border) as usize;
    if proof.len() != want {
        return Err(ProofError::WrongProofSize { got: proof.len(), want });
    }
    let (seed, path) = match proof.split_first() {
        Some((first, rest)) if !old_is_power_of_two => (*first, rest),
        _ => (*old_root, proof),
    };
    let (inner_part, border_part) = path.split_at(inner as usize);
    let mask = (old_size - 1) >> shift;
    let old_calc = chain_border(chain_inner_left_only(seed, inner_part, mask), border_part);
    if old_calc != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    let new_calc = chain_border(chain_inner(seed, inner_part, mask), border_part);
    if new_calc != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}
