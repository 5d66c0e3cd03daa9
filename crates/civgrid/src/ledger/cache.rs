//! An in-process cache of stored node hashes.
//!
//! A stored node is the hash of a *complete* subtree and is never updated once written (see
//! `civgrid_ledger::tree`), and the cache only holds hashes read from committed rows. A cached
//! hash therefore can never be stale, whichever node of the cluster wrote it: caching needs no
//! invalidation and is safe with several nodes on one PostgreSQL database.
//!
//! Two parts, because proofs touch the tree unevenly:
//! - **upper** nodes (level ≥ [`UPPER_LEVEL`]) are 1/128 of all nodes and shared by the proofs of
//!   many leaves (the top ones by every proof); they are kept until the upper budget is full
//!   (half the capacity: all of them for trees up to about `capacity` × 64 leaves).
//! - **lower** nodes (the bottom 8 levels, one level-0 tile's worth per leaf) are kept in two
//!   generations: a hit in the old one is promoted, and when the young one fills up it becomes
//!   the old one (an approximate LRU without per-hit bookkeeping). Recently written or proven
//!   leaves stay warm; a proof for a leaf nobody asked about recently reads its lower nodes from
//!   the database.
//!
//! In front of both, the **resident tree**: for each level, the hashes of nodes `0..n` in one
//! array (32 bytes a node, about 64 bytes per leaf in all levels), filled by
//! [`crate::ledger::Ledger::load_tree`] at start and extended by the sequencer's passes. While it
//! holds the whole tree no proof reads the database, whichever leaf it is for. It grows only by
//! appending the next node of a level, so it never holds a gap, and it stops growing at its
//! budget (the rest is served by the two parts below).
//!
//! The audit never reads through this cache: it compares the database with a recomputation.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use civgrid_ledger::tree::NodeIdHasher;
use civgrid_ledger::{Hash, NodeId};

/// Nodes at this level and above cover at least one full level-0 tile (256 leaves).
pub const UPPER_LEVEL: u8 = 8;

/// Default capacity in node hashes (about 60 bytes each in memory: ≤ 64 MB).
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// Default budget of the resident tree in node hashes: 2^25 nodes (1 GiB) hold every node of a
/// log of 16 million entries.
pub const DEFAULT_RESIDENT: usize = 1 << 25;

type Map = HashMap<NodeId, Hash, BuildHasherDefault<NodeIdHasher>>;

#[derive(Default)]
struct Generations {
    young: Map,
    old: Map,
}

/// See the module docs. A capacity of 0 disables caching.
pub struct NodeCache {
    /// The resident tree: `levels[l][i]` is node (l, i).
    resident: RwLock<Vec<Vec<Hash>>>,
    resident_cap: usize,
    upper: RwLock<Map>,
    lower: Mutex<Generations>,
    upper_cap: usize,
    generation_cap: usize,
    /// One more than the largest checkpoint size seen (0: none seen yet). Checkpoints only
    /// grow, so a size at or below it is known to be published without asking the database.
    published: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters for benchmarks and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    pub resident_nodes: usize,
    pub upper_nodes: usize,
    pub lower_nodes: usize,
    pub hits: u64,
    pub misses: u64,
}

impl NodeCache {
    /// A cache of `capacity` hashes beside a resident tree of at most `resident` nodes.
    pub fn new(capacity: usize, resident: usize) -> NodeCache {
        NodeCache {
            resident: RwLock::new(Vec::new()),
            resident_cap: resident,
            upper: RwLock::new(Map::default()),
            lower: Mutex::new(Generations::default()),
            upper_cap: capacity / 2,
            generation_cap: capacity / 4,
            published: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        self.upper_cap > 0 || self.resident_cap > 0
    }

    /// How many nodes of `level` the resident tree holds (nodes `0..n`).
    pub fn resident_len(&self, level: u8) -> u64 {
        self.resident.read().map(|r| r.get(usize::from(level)).map_or(0, |l| l.len() as u64)).unwrap_or(0)
    }

    /// Appends the nodes that continue their level of the resident tree; returns how many did.
    /// Nodes `level, start..` given in index order.
    pub fn extend_resident(&self, level: u8, start: u64, hashes: &[Hash]) -> usize {
        let Ok(mut r) = self.resident.write() else { return 0 };
        let used: usize = r.iter().map(Vec::len).sum();
        let room = self.resident_cap.saturating_sub(used);
        let l = usize::from(level);
        if r.len() <= l {
            r.resize_with(l + 1, Vec::new);
        }
        let have = r[l].len() as u64;
        if start > have {
            return 0;
        }
        let skip = usize::try_from(have - start).unwrap_or(usize::MAX);
        let take = hashes.len().saturating_sub(skip).min(room);
        if take > 0 {
            r[l].extend_from_slice(&hashes[skip..skip + take]);
        }
        take
    }

    /// Offers a committed pass's nodes to the resident tree (those that continue a level).
    pub fn extend_resident_with(&self, nodes: &[(NodeId, Hash)]) {
        if self.resident_cap == 0 {
            return;
        }
        let Ok(mut r) = self.resident.write() else { return };
        let mut used: usize = r.iter().map(Vec::len).sum();
        for (id, hash) in nodes {
            let l = usize::from(id.level);
            if used >= self.resident_cap || l >= 64 {
                break;
            }
            if r.len() <= l {
                r.resize_with(l + 1, Vec::new);
            }
            if r[l].len() as u64 == id.index {
                r[l].push(*hash);
                used += 1;
            }
        }
    }

    /// Looks every id up; returns the hashes found (by position) and the number missing.
    pub fn get(&self, ids: &[NodeId]) -> (Vec<Option<Hash>>, usize) {
        let mut out = vec![None; ids.len()];
        if !self.enabled() {
            return (out, ids.len());
        }
        let mut missing = 0;
        let mut any_lower = false;
        if let Ok(r) = self.resident.read() {
            for (slot, id) in out.iter_mut().zip(ids) {
                *slot = r.get(usize::from(id.level)).and_then(|l| l.get(usize::try_from(id.index).ok()?)).copied();
            }
        }
        if let Ok(upper) = self.upper.read() {
            for (slot, id) in out.iter_mut().zip(ids).filter(|(slot, _)| slot.is_none()) {
                if id.level >= UPPER_LEVEL {
                    *slot = upper.get(id).copied();
                } else {
                    any_lower = true;
                }
            }
        }
        if any_lower {
            if let Ok(mut lower) = self.lower.lock() {
                for (slot, id) in out.iter_mut().zip(ids).filter(|(slot, _)| slot.is_none()) {
                    if id.level < UPPER_LEVEL {
                        *slot = lower.get(id);
                    }
                }
            }
        }
        for slot in &out {
            if slot.is_none() {
                missing += 1;
            }
        }
        self.hits.fetch_add((ids.len() - missing) as u64, Ordering::Relaxed);
        self.misses.fetch_add(missing as u64, Ordering::Relaxed);
        (out, missing)
    }

    /// Remembers hashes read from committed rows (or written by a committed transaction).
    pub fn put(&self, nodes: impl IntoIterator<Item = (NodeId, Hash)> + Clone) {
        if !self.enabled() {
            return;
        }
        let mut has_lower = false;
        if let Ok(mut upper) = self.upper.write() {
            for (id, hash) in nodes.clone() {
                if id.level >= UPPER_LEVEL {
                    if upper.len() < self.upper_cap {
                        upper.insert(id, hash);
                    }
                } else {
                    has_lower = true;
                }
            }
        }
        if has_lower {
            if let Ok(mut lower) = self.lower.lock() {
                for (id, hash) in nodes.into_iter().filter(|(id, _)| id.level < UPPER_LEVEL) {
                    lower.insert(id, hash, self.generation_cap);
                }
            }
        }
    }

    /// Whether a checkpoint of at least `size` is known to exist.
    pub fn published_at_least(&self, size: u64) -> bool {
        self.enabled() && size < self.published.load(Ordering::Relaxed)
    }

    pub fn saw_checkpoint(&self, size: u64) {
        self.published.fetch_max(size.saturating_add(1), Ordering::Relaxed);
    }

    /// Forgets every hash (benchmarks measure first touches this way).
    pub fn clear(&self) {
        if let Ok(mut r) = self.resident.write() {
            *r = Vec::new();
        }
        if let Ok(mut upper) = self.upper.write() {
            upper.clear();
        }
        if let Ok(mut lower) = self.lower.lock() {
            *lower = Generations::default();
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            resident_nodes: self.resident.read().map(|r| r.iter().map(Vec::len).sum()).unwrap_or(0),
            upper_nodes: self.upper.read().map(|u| u.len()).unwrap_or(0),
            lower_nodes: self.lower.lock().map(|l| l.young.len() + l.old.len()).unwrap_or(0),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

impl Generations {
    fn get(&mut self, id: &NodeId) -> Option<Hash> {
        if let Some(h) = self.young.get(id) {
            return Some(*h);
        }
        let h = self.old.remove(id)?;
        self.young.insert(*id, h);
        Some(h)
    }

    fn insert(&mut self, id: NodeId, hash: Hash, cap: usize) {
        if self.young.len() >= cap {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(id, hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_upper_nodes_and_recent_lower_nodes() {
        let cache = NodeCache::new(16, 0); // 8 upper, generations of 4 lower
        let upper: Vec<(NodeId, Hash)> = (0..10).map(|i| (NodeId::new(9, i), [i as u8; 32])).collect();
        cache.put(upper.iter().copied());
        let ids: Vec<NodeId> = upper.iter().map(|n| n.0).collect();
        let (found, missing) = cache.get(&ids);
        assert_eq!(missing, 2, "the upper budget holds 8");
        assert_eq!(found[3], Some([3; 32]));

        let lower: Vec<(NodeId, Hash)> = (0..9).map(|i| (NodeId::leaf(i), [100 + i as u8; 32])).collect();
        cache.put(lower.iter().copied());
        // 0..4 were pushed to the old generation and then dropped; 4..8 old, 8 young.
        assert_eq!(cache.get(&[NodeId::leaf(0)]).1, 1);
        assert_eq!(cache.get(&[NodeId::leaf(5)]).0[0], Some([105; 32]));
        assert_eq!(cache.get(&[NodeId::leaf(8)]).0[0], Some([108; 32]));
        cache.clear();
        assert_eq!(cache.get(&[NodeId::leaf(8), NodeId::new(9, 1)]).1, 2);
    }

    #[test]
    fn the_resident_tree_grows_only_by_the_next_node_and_within_its_budget() {
        let cache = NodeCache::new(0, 5);
        assert_eq!(cache.extend_resident(0, 1, &[[1; 32]]), 0, "a gap is refused");
        assert_eq!(cache.extend_resident(0, 0, &[[0; 32], [1; 32]]), 2);
        assert_eq!(cache.extend_resident(0, 1, &[[1; 32], [2; 32]]), 1, "the overlap is skipped");
        cache.extend_resident_with(&[(NodeId::new(1, 0), [10; 32]), (NodeId::new(1, 2), [12; 32])]);
        assert_eq!((cache.resident_len(0), cache.resident_len(1)), (3, 1));
        assert_eq!(cache.extend_resident(0, 3, &[[3; 32], [4; 32]]), 1, "the budget of 5 is spent");
        let (found, missing) = cache.get(&[NodeId::leaf(3), NodeId::new(1, 0), NodeId::leaf(4)]);
        assert_eq!((found[0], found[1], missing), (Some([3; 32]), Some([10; 32]), 1));
        cache.clear();
        assert_eq!(cache.stats().resident_nodes, 0);
    }

    #[test]
    fn a_zero_capacity_cache_holds_nothing() {
        let cache = NodeCache::new(0, 0);
        cache.put([(NodeId::new(9, 0), [1; 32])]);
        cache.saw_checkpoint(10);
        assert_eq!(cache.get(&[NodeId::new(9, 0)]).1, 1);
        assert!(!cache.published_at_least(1));
    }

    #[test]
    fn published_size_only_grows() {
        let cache = NodeCache::new(4, 0);
        assert!(!cache.published_at_least(0), "no checkpoint seen yet");
        cache.saw_checkpoint(10);
        cache.saw_checkpoint(7);
        assert!(cache.published_at_least(10));
        assert!(!cache.published_at_least(11));
    }
}
