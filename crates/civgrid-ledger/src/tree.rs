//! The Merkle tree over stored complete subtrees.
//!
//! Storage model (the tlog-tiles model): a node at `level` L and `index` i is the RFC 6962 hash of
//! leaves `[i·2^L, (i+1)·2^L)` and is stored only once all of those leaves exist. Stored nodes are
//! therefore immutable: appending never rewrites a row, which is what lets a database table of
//! node hashes be append-only and lets tiles be cached forever. Roots and proof elements that
//! cover an incomplete right edge ("ephemeral" nodes) are recomputed on demand from the complete
//! subtrees under them.
//!
//! Every computation is split in two: a pure plan naming the stored node ids it needs (so a
//! database fetches them in ONE query), and an assembly step from the fetched hashes.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::LedgerError;
use crate::hash::{empty_root, node_hash, Hash};

/// Address of a stored complete subtree: `level` 0 holds leaf hashes; a node at level L, index i
/// covers leaves `[i·2^L, (i+1)·2^L)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0 = leaf hash). At most 63 in a tree of at most 2^64 − 1 leaves.
    pub level: u8,
    /// Position among the nodes of that level, left to right.
    pub index: u64,
}

impl NodeId {
    /// A node id.
    pub const fn new(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }

    /// The id of leaf hash `index`.
    pub const fn leaf(index: u64) -> NodeId {
        NodeId { level: 0, index }
    }

    /// The first leaf this node covers and one past its last, as `u128` because the end of the
    /// last possible subtree is 2^64.
    pub fn leaf_range(&self) -> (u128, u128) {
        let width = 1u128 << self.level.min(64);
        let start = u128::from(self.index) << self.level.min(64);
        (start, start.saturating_add(width))
    }

    /// Whether this node is complete (and so stored) in a tree of `size` leaves.
    pub fn is_complete_in(&self, size: u64) -> bool {
        self.level < 64 && self.leaf_range().1 <= u128::from(size)
    }
}

/// Read access to stored node hashes, implemented by the database layer and [`MemoryStore`].
///
/// Implementations must return exactly one hash per id, in the order asked, or an error (use
/// [`LedgerError::MissingNode`] for an absent node so callers can tell damage from I/O failure).
pub trait HashReader {
    /// Returns the stored hashes for `ids`, in the same order.
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, LedgerError>;
}

/// The stored node ids a root or proof needs, and how to combine their hashes.
///
/// Each output hash is the right fold (`node_hash(a, node_hash(b, …))`) of a run of consecutive
/// ids: a run of one is a stored node itself; a longer run rebuilds an ephemeral node on the
/// tree's incomplete right edge from the complete subtrees under it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProofPlan {
    ids: Vec<NodeId>,
    /// Length of each run of `ids` that folds into one output hash.
    runs: Vec<usize>,
}

impl ProofPlan {
    /// The node ids to fetch, in the order [`ProofPlan::assemble`] expects their hashes.
    pub fn ids(&self) -> &[NodeId] {
        &self.ids
    }

    /// Number of hashes [`ProofPlan::assemble`] will produce.
    pub fn output_len(&self) -> usize {
        self.runs.len()
    }

    /// Combines the fetched hashes (one per id, same order) into the output hashes.
    pub fn assemble(&self, hashes: &[Hash]) -> Result<Vec<Hash>, LedgerError> {
        if hashes.len() != self.ids.len() {
            return Err(LedgerError::StoreMismatch { requested: self.ids.len(), returned: hashes.len() });
        }
        let mut out = Vec::with_capacity(self.runs.len());
        let mut rest = hashes;
        for &run in &self.runs {
            let (group, tail) = rest.split_at(run.min(rest.len()));
            rest = tail;
            out.push(
                fold_right(group)
                    .ok_or(LedgerError::StoreMismatch { requested: self.ids.len(), returned: hashes.len() })?,
            );
        }
        Ok(out)
    }

    /// Fetches the ids from `reader` and assembles the output hashes.
    pub fn fetch(&self, reader: &dyn HashReader) -> Result<Vec<Hash>, LedgerError> {
        if self.ids.is_empty() {
            return Ok(Vec::new());
        }
        let hashes = reader.read_hashes(&self.ids)?;
        self.assemble(&hashes)
    }

    fn push_node(&mut self, level: u32, index: u64) {
        self.ids.push(NodeId { level: level_u8(level), index });
        self.runs.push(1);
    }

    /// Pushes the complete subtrees of `[begin, end)` as one run. `begin` must be a multiple of
    /// the largest power of two not above `end - begin` (true for tree prefixes and for the right
    /// sibling on the path to the last leaf), so the subtrees follow the set bits of the width.
    fn push_range(&mut self, begin: u64, end: u64) {
        let width = end.saturating_sub(begin);
        let mut pos = begin;
        let mut run = 0;
        for level in (0..64u32).rev() {
            if (width >> level) & 1 == 1 {
                self.ids.push(NodeId { level: level_u8(level), index: pos >> level });
                pos = pos.saturating_add(1u64 << level);
                run += 1;
            }
        }
        if run > 0 {
            self.runs.push(run);
        }
    }

    /// Pushes the audit path of leaf `leaf` in a tree of `size` leaves (`leaf < size`), from the
    /// bottom up, omitting the siblings below `skip_levels`.
    ///
    /// Below the level where the paths to `leaf` and to the last leaf part ("inner" levels) each
    /// sibling is a complete subtree, except possibly a right sibling on the incomplete edge;
    /// above it ("border" levels) the siblings are the complete left subtrees.
    fn push_path(&mut self, leaf: u64, size: u64, skip_levels: u32) {
        let last = size.saturating_sub(1);
        let inner = 64 - (leaf ^ last).leading_zeros();
        for level in skip_levels..inner {
            let node = leaf >> level;
            let sibling = node ^ 1;
            let sibling_start = u128::from(sibling) << level;
            let sibling_end = sibling_start + (1u128 << level);
            if node & 1 == 1 || sibling_end <= u128::from(size) {
                self.push_node(level, sibling);
            } else {
                // The right sibling holds the tree's last leaves and is not complete: rebuild it.
                self.push_range(u64::try_from(sibling_start).unwrap_or(u64::MAX), size);
            }
        }
        for level in inner.max(skip_levels)..64 {
            if (leaf >> level) & 1 == 1 {
                self.push_node(level, (leaf >> level) ^ 1);
            }
        }
    }
}

fn level_u8(level: u32) -> u8 {
    u8::try_from(level).unwrap_or(u8::MAX)
}

/// `node_hash(h0, node_hash(h1, … node_hash(hn-1, hn)))`, or `None` for no hashes.
fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The complete subtrees whose right fold is the root of a tree of `size` leaves, largest first
/// (one per set bit of `size`; none for the empty tree).
pub fn root_ids(size: u64) -> Vec<NodeId> {
    let mut plan = ProofPlan::default();
    plan.push_range(0, size);
    plan.ids
}

/// The root of a tree of `size` leaves from the hashes of [`root_ids`]`(size)`, in that order.
pub fn root_from_hashes(size: u64, hashes: &[Hash]) -> Result<Hash, LedgerError> {
    let ids = root_ids(size);
    if hashes.len() != ids.len() {
        return Err(LedgerError::StoreMismatch { requested: ids.len(), returned: hashes.len() });
    }
    Ok(fold_right(hashes).unwrap_or_else(empty_root))
}

/// The RFC 6962 root (MTH) of the first `size` leaves.
pub fn root_at(size: u64, reader: &dyn HashReader) -> Result<Hash, LedgerError> {
    let ids = root_ids(size);
    if ids.is_empty() {
        return Ok(empty_root());
    }
    let hashes = reader.read_hashes(&ids)?;
    root_from_hashes(size, &hashes)
}

/// The plan for the RFC 9162 inclusion proof of leaf `index` in a tree of `size` leaves.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, LedgerError> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    let mut plan = ProofPlan::default();
    plan.push_path(index, size, 0);
    Ok(plan)
}

/// The node ids the inclusion proof of leaf `index` in a tree of `size` leaves needs.
pub fn inclusion_proof_ids(index: u64, size: u64) -> Result<Vec<NodeId>, LedgerError> {
    Ok(inclusion_plan(index, size)?.ids)
}

/// The RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in a tree of `size`
/// leaves, bottom-up.
pub fn inclusion_proof(index: u64, size: u64, reader: &dyn HashReader) -> Result<Vec<Hash>, LedgerError> {
    inclusion_plan(index, size)?.fetch(reader)
}

/// The plan for the RFC 9162 consistency proof from `old` leaves to `new` leaves.
///
/// The proof is empty when `old == new` and when `old == 0`: a tree is trivially consistent with
/// the empty tree, and the tlog-witness protocol requires an empty proof from old size 0.
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, LedgerError> {
    if old > new {
        return Err(LedgerError::SizeDecreased { old, new });
    }
    let mut plan = ProofPlan::default();
    if old == 0 || old == new {
        return Ok(plan);
    }
    // The old tree's last complete subtree, of 2^k leaves, ends at leaf old-1. The proof is that
    // subtree's hash (omitted when it is the whole old tree, i.e. old is a power of two, because
    // the verifier already holds the old root) followed by its audit path in the new tree.
    let k = old.trailing_zeros();
    let last_old = old - 1;
    if last_old >> k != 0 {
        plan.push_node(k, last_old >> k);
    }
    plan.push_path(last_old, new, k);
    Ok(plan)
}

/// The node ids the consistency proof from `old` to `new` leaves needs.
pub fn consistency_proof_ids(old: u64, new: u64) -> Result<Vec<NodeId>, LedgerError> {
    Ok(consistency_plan(old, new)?.ids)
}

/// The RFC 9162 §2.1.4.1 consistency proof from the tree of `old` leaves to the tree of `new`
/// leaves (empty if `old` is 0 or equals `new`).
pub fn consistency_proof(old: u64, new: u64, reader: &dyn HashReader) -> Result<Vec<Hash>, LedgerError> {
    consistency_plan(old, new)?.fetch(reader)
}

/// Incremental tree builder: turns appended leaf hashes into every node that becomes complete.
///
/// It keeps only the "frontier" (the complete subtrees of the current tree, one per set bit of
/// the size), so appending costs one node hash per leaf on average and never reads more than 64
/// stored hashes. Keep an `Appender` alive across batches to skip even that read; rebuild it
/// with [`Appender::open`] after a failed or rolled-back write.
#[derive(Clone)]
pub struct Appender {
    size: u64,
    /// Hashes of [`root_ids`]`(size)`: highest level first.
    frontier: Vec<Hash>,
}

impl fmt::Debug for Appender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Appender").field("size", &self.size).finish_non_exhaustive()
    }
}

impl Appender {
    /// An appender for an empty tree.
    pub fn new() -> Appender {
        Appender { size: 0, frontier: Vec::new() }
    }

    /// An appender positioned at a tree of `size` leaves, reading its frontier from `reader`.
    pub fn open(size: u64, reader: &dyn HashReader) -> Result<Appender, LedgerError> {
        let ids = root_ids(size);
        let frontier = if ids.is_empty() { Vec::new() } else { reader.read_hashes(&ids)? };
        if frontier.len() != ids.len() {
            return Err(LedgerError::StoreMismatch { requested: ids.len(), returned: frontier.len() });
        }
        Ok(Appender { size, frontier })
    }

    /// Appends `new_leaves` to the tree of `size` leaves stored in `reader` and returns every
    /// node that becomes complete (the leaves themselves included), ready to be written in the
    /// same transaction as the records they log.
    pub fn append(size: u64, new_leaves: &[Hash], reader: &dyn HashReader) -> Result<Vec<(NodeId, Hash)>, LedgerError> {
        let mut appender = Appender::open(size, reader)?;
        appender.extend(new_leaves)
    }

    /// Current number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Current root hash (the empty-tree root when there are no leaves).
    pub fn root(&self) -> Hash {
        fold_right(&self.frontier).unwrap_or_else(empty_root)
    }

    /// Appends leaves and returns the newly complete nodes.
    pub fn extend(&mut self, new_leaves: &[Hash]) -> Result<Vec<(NodeId, Hash)>, LedgerError> {
        let mut out = Vec::with_capacity(new_leaves.len().saturating_mul(2));
        self.extend_into(new_leaves, &mut out)?;
        Ok(out)
    }

    /// Like [`Appender::extend`] but appends the new nodes to `out`, so a hot loop can reuse one
    /// buffer. Nothing is appended to the tree if the batch would overflow it.
    pub fn extend_into(&mut self, new_leaves: &[Hash], out: &mut Vec<(NodeId, Hash)>) -> Result<(), LedgerError> {
        let added = u64::try_from(new_leaves.len()).map_err(|_| LedgerError::TreeFull)?;
        // Keep the size at most u64::MAX so every leaf index and node range stays representable.
        self.size.checked_add(added).ok_or(LedgerError::TreeFull)?;
        for leaf in new_leaves {
            let position = self.size;
            out.push((NodeId::leaf(position), *leaf));
            let mut hash = *leaf;
            let mut level = 0u32;
            // Binary-counter carry: while the new node is a right child, merge with the frontier.
            while (position >> level) & 1 == 1 {
                let Some(left) = self.frontier.pop() else {
                    // Unreachable while the frontier has one hash per set bit of size.
                    return Err(LedgerError::MissingNode(NodeId::new(level_u8(level), (position >> level) - 1)));
                };
                hash = node_hash(&left, &hash);
                level += 1;
                out.push((NodeId::new(level_u8(level), position >> level), hash));
            }
            self.frontier.push(hash);
            self.size += 1;
        }
        Ok(())
    }
}

impl Default for Appender {
    fn default() -> Self {
        Appender::new()
    }
}

/// A fast non-cryptographic hasher for [`NodeId`] keys (multiply-rotate, as in rustc's FxHash).
///
/// SipHash's flooding resistance buys nothing here: the store's keys are produced by the
/// Appender in sequence, never chosen by a requester, and SipHash would double the cost of
/// building a 10 M leaf store.
#[derive(Default, Clone, Copy)]
pub struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap`-backed node store for tests, tools and benchmarks: the reference [`HashReader`]
/// the database implementation must agree with.
#[derive(Clone, Default)]
pub struct MemoryStore {
    nodes: HashMap<NodeId, Hash, BuildHasherDefault<NodeIdHasher>>,
    size: u64,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").field("size", &self.size).field("nodes", &self.nodes.len()).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// An empty store with room for a tree of about `leaves` leaves (about 2 nodes per leaf).
    pub fn with_capacity(leaves: usize) -> MemoryStore {
        MemoryStore { nodes: HashMap::with_capacity_and_hasher(leaves.saturating_mul(2), Default::default()), size: 0 }
    }

    /// Number of leaves appended through [`MemoryStore::append_leaves`].
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of stored node hashes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The stored hash of one node.
    pub fn get(&self, id: &NodeId) -> Option<&Hash> {
        self.nodes.get(id)
    }

    /// Appends leaf hashes with [`Appender::append`] and stores every newly complete node.
    pub fn append_leaves(&mut self, leaf_hashes: &[Hash]) -> Result<(), LedgerError> {
        let nodes = Appender::append(self.size, leaf_hashes, self)?;
        self.write(&nodes);
        self.size += leaf_hashes.len() as u64;
        Ok(())
    }

    /// Stores node hashes as given (for loading from elsewhere, or tampering in tests). Does not
    /// change [`MemoryStore::size`].
    pub fn write(&mut self, nodes: &[(NodeId, Hash)]) {
        self.nodes.extend(nodes.iter().copied());
    }

    /// Stores one node hash as given, returning the previous one.
    pub fn insert(&mut self, id: NodeId, hash: Hash) -> Option<Hash> {
        self.nodes.insert(id, hash)
    }

    /// Removes one node hash (for damage tests).
    pub fn remove(&mut self, id: &NodeId) -> Option<Hash> {
        self.nodes.remove(id)
    }

    /// Root of the tree of [`MemoryStore::size`] leaves.
    pub fn root(&self) -> Result<Hash, LedgerError> {
        root_at(self.size, self)
    }
}

impl HashReader for MemoryStore {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, LedgerError> {
        ids.iter().map(|id| self.nodes.get(id).copied().ok_or(LedgerError::MissingNode(*id))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    /// RFC 6962 MTH computed by the definition, as an oracle for the stored-subtree code.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// RFC 6962 §2.1.1 PATH(m, D[n]) by the definition.
    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    /// RFC 6962 §2.1.2 SUBPROOF(m, D[n], b) by the definition.
    fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if complete { Vec::new() } else { vec![mth(leaves)] };
        }
        let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
        if m <= k {
            let mut p = subproof(m, &leaves[..k], complete);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn plans_match_rfc_definitions() {
        let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut store = MemoryStore::new();
        store.append_leaves(&leaves).unwrap();
        for n in 1..=leaves.len() {
            assert_eq!(root_at(n as u64, &store).unwrap(), mth(&leaves[..n]), "root {n}");
            for m in 0..n {
                assert_eq!(inclusion_proof(m as u64, n as u64, &store).unwrap(), path(m, &leaves[..n]), "path {m} {n}");
            }
            for m in 1..n {
                assert_eq!(
                    consistency_proof(m as u64, n as u64, &store).unwrap(),
                    subproof(m, &leaves[..n], true),
                    "consistency {m} {n}"
                );
            }
        }
    }

    #[test]
    fn node_ranges_do_not_overflow() {
        let top = NodeId::new(63, 1);
        assert_eq!(top.leaf_range(), (1u128 << 63, 1u128 << 64));
        assert!(!top.is_complete_in(u64::MAX));
        assert!(NodeId::new(63, 0).is_complete_in(u64::MAX));
        // Paths at the far end of the largest tree stay in range.
        let plan = inclusion_plan(u64::MAX - 1, u64::MAX).unwrap();
        // The last leaf of a 2^64 - 1 leaf tree sits alone; its path is the 63 subtrees to its left.
        assert_eq!(plan.output_len(), 63);
        let plan = consistency_plan(u64::MAX - 1, u64::MAX).unwrap();
        assert!(plan.output_len() > 0);
    }

    #[test]
    fn appender_refuses_overflow() {
        let mut a = Appender { size: u64::MAX, frontier: Vec::new() };
        assert_eq!(a.extend(&[[0; 32]]).unwrap_err(), LedgerError::TreeFull);
    }
}
