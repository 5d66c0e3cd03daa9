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

type Map = HashMap<NodeId, Hash, BuildHasherDefault<NodeIdHasher>>;

#[derive(Default)]
struct Generations {
    young: Map,
    old: Map,
}

/// See the module docs. A capacity of 0 disables caching.
pub struct NodeCache {
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
    pub upper_nodes: usize,
    pub lower_nodes: usize,
    pub hits: u64,
    pub misses: u64,
}

impl NodeCache {
    pub fn new(capacity: usize) -> NodeCache {
        NodeCache {
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
        self.upper_cap > 0
    }

    /// Looks every id up; returns the hashes found (by position) and the number missing.
    pub fn get(&self, ids: &[NodeId]) -> (Vec<Option<Hash>>, usize) {
        let mut out = vec![None; ids.len()];
        if !self.enabled() {
            return (out, ids.len());
        }
        let mut missing = 0;
        let mut any_lower = false;
        if let Ok(upper) = self.upper.read() {
            for (slot, id) in out.iter_mut().zip(ids) {
                if id.level >= UPPER_LEVEL {
                    *slot = upper.get(id).copied();
                } else {
                    any_lower = true;
                }
            }
        }
        if any_lower {
            if let Ok(mut lower) = self.lower.lock() {
                for (slot, id) in out.iter_mut().zip(ids) {
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
        if let Ok(mut upper) = self.upper.write() {
            upper.clear();
        }
        if let Ok(mut lower) = self.lower.lock() {
            *lower = Generations::default();
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
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
        let cache = NodeCache::new(16); // 8 upper, generations of 4 lower
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
    fn a_zero_capacity_cache_holds_nothing() {
        let cache = NodeCache::new(0);
        cache.put([(NodeId::new(9, 0), [1; 32])]);
        cache.saw_checkpoint(10);
        assert_eq!(cache.get(&[NodeId::new(9, 0)]).1, 1);
        assert!(!cache.published_at_least(1));
    }

    #[test]
    fn published_size_only_grows() {
        let cache = NodeCache::new(4);
        assert!(!cache.published_at_least(0), "no checkpoint seen yet");
        cache.saw_checkpoint(10);
        cache.saw_checkpoint(7);
        assert!(cache.published_at_least(10));
        assert!(!cache.published_at_least(11));
    }
}
