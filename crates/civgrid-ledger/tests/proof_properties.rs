//! Property tests over random trees: proofs generated from a store built by the Appender in
//! random batches always verify, any tampering makes them fail, and batching never changes the
//! tree.

use civgrid_ledger::hash::Hash;
use civgrid_ledger::tree::{
    consistency_proof, consistency_proof_ids, inclusion_proof, inclusion_proof_ids, root_at, root_ids,
};
use civgrid_ledger::verify::{verify_consistency, verify_inclusion};
use civgrid_ledger::{leaf_hash, Appender, HashReader, LedgerError, MemoryStore, NodeId};
use proptest::prelude::*;

fn leaves(seed: u64, n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat())).collect()
}

/// Builds a store by appending `leaves` in batches of the given sizes (cycled).
fn build_in_batches(leaves: &[Hash], batches: &[usize]) -> MemoryStore {
    let mut store = MemoryStore::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < leaves.len() {
        let take = batches[i % batches.len()].min(leaves.len() - pos);
        store.append_leaves(&leaves[pos..pos + take]).unwrap();
        pos += take;
        i += 1;
    }
    store
}

fn flip(h: &Hash, byte: usize, bit: u8) -> Hash {
    let mut h = *h;
    h[byte] ^= 1 << bit;
    h
}

/// A tree plus sampled (index, size) and (old, new) pairs, always including the edges.
fn tree_case() -> impl Strategy<Value = (u64, usize, Vec<usize>, Vec<(u64, u64)>)> {
    (any::<u64>(), 1usize..3000, prop::collection::vec(1usize..300, 1..8)).prop_flat_map(|(seed, n, batches)| {
        let pairs = prop::collection::vec((0..n as u64, 1..=n as u64), 40);
        (Just(seed), Just(n), Just(batches), pairs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn batching_never_changes_the_tree((seed, n, batches, _) in tree_case()) {
        let leaves = leaves(seed, n);
        let batched = build_in_batches(&leaves, &batches);
        // One leaf at a time, recording each root through the Appender.
        let mut single = MemoryStore::new();
        let mut appender = Appender::new();
        prop_assert_eq!(root_at(0, &batched).unwrap(), appender.root());
        for (i, leaf) in leaves.iter().enumerate() {
            single.write(&appender.extend(&[*leaf]).unwrap());
            prop_assert_eq!(root_at(i as u64 + 1, &batched).unwrap(), appender.root(), "root at {}", i + 1);
        }
        prop_assert_eq!(batched.node_count(), single.node_count());
        for (level, count) in (0..12u8).map(|l| (l, n as u64 >> l)) {
            for index in 0..count {
                let id = NodeId::new(level, index);
                prop_assert_eq!(batched.get(&id), single.get(&id));
            }
        }
    }

    #[test]
    fn inclusion_proofs_verify_and_resist_tampering((seed, n, batches, pairs) in tree_case()) {
        let leaves = leaves(seed, n);
        let store = build_in_batches(&leaves, &batches);
        let n = n as u64;
        let edges = [(0, n), (n - 1, n), (0, 1)];
        for (index, size) in pairs.into_iter().chain(edges) {
            let size = size.max(index + 1);
            let root = root_at(size, &store).unwrap();
            let leaf = leaves[index as usize];
            let proof = inclusion_proof(index, size, &store).unwrap();
            prop_assert!(inclusion_proof_ids(index, size).unwrap().iter().all(|id| id.is_complete_in(size)));
            verify_inclusion(&leaf, index, size, &proof, &root).unwrap();

            // Every byte of every proof hash matters.
            for (i, h) in proof.iter().enumerate() {
                for byte in 0..32 {
                    let mut bad = proof.clone();
                    bad[i] = flip(h, byte, ((i + byte) % 8) as u8);
                    prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
                }
            }
            for i in 1..proof.len() {
                let mut swapped = proof.clone();
                swapped.swap(i - 1, i);
                prop_assert!(verify_inclusion(&leaf, index, size, &swapped, &root).is_err());
            }
            for byte in 0..32 {
                prop_assert!(verify_inclusion(&leaf, index, size, &proof, &flip(&root, byte, 3)).is_err());
                prop_assert!(verify_inclusion(&flip(&leaf, byte, 5), index, size, &proof, &root).is_err());
            }
            if !proof.is_empty() {
                prop_assert!(verify_inclusion(&leaf, index, size, &proof[1..], &root).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root);
            prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
            if index + 1 < size {
                prop_assert!(verify_inclusion(&leaf, index + 1, size, &proof, &root).is_err());
            }
            if index > 0 {
                prop_assert!(verify_inclusion(&leaf, index - 1, size, &proof, &root).is_err());
            }
            prop_assert!(verify_inclusion(&leaf, size, size, &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_resist_tampering((seed, n, batches, pairs) in tree_case()) {
        let leaves = leaves(seed, n);
        let store = build_in_batches(&leaves, &batches);
        let n = n as u64;
        let edges = [(1, n), (n, n), (n.saturating_sub(1).max(1), n)];
        for (a, b) in pairs.into_iter().chain(edges) {
            let (old, new) = (a.clamp(1, b), b);
            let old_root = root_at(old, &store).unwrap();
            let new_root = root_at(new, &store).unwrap();
            let proof = consistency_proof(old, new, &store).unwrap();
            prop_assert!(consistency_proof_ids(old, new).unwrap().iter().all(|id| id.is_complete_in(new)));
            prop_assert!(root_ids(new).iter().all(|id| id.is_complete_in(new)));
            verify_consistency(old, new, &old_root, &new_root, &proof).unwrap();
            if old == new {
                prop_assert!(proof.is_empty());
            }

            for (i, h) in proof.iter().enumerate() {
                for byte in 0..32 {
                    let mut bad = proof.clone();
                    bad[i] = flip(h, byte, ((i + byte) % 8) as u8);
                    prop_assert!(verify_consistency(old, new, &old_root, &new_root, &bad).is_err());
                }
            }
            for i in 1..proof.len() {
                let mut swapped = proof.clone();
                swapped.swap(i - 1, i);
                prop_assert!(verify_consistency(old, new, &old_root, &new_root, &swapped).is_err());
            }
            for byte in 0..32 {
                prop_assert!(verify_consistency(old, new, &flip(&old_root, byte, 1), &new_root, &proof).is_err());
                prop_assert!(verify_consistency(old, new, &old_root, &flip(&new_root, byte, 6), &proof).is_err());
            }
            if !proof.is_empty() {
                prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof[..proof.len() - 1]).is_err());
            }
            let mut longer = proof.clone();
            longer.push(old_root);
            prop_assert!(verify_consistency(old, new, &old_root, &new_root, &longer).is_err());
            if old != new {
                prop_assert!(verify_consistency(new, old, &new_root, &old_root, &proof).is_err());
            }
        }
    }
}

/// A reader that counts calls, to check that each proof is ONE batched lookup.
struct CountingReader<'a> {
    inner: &'a MemoryStore,
    calls: std::cell::Cell<usize>,
}

impl HashReader for CountingReader<'_> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, LedgerError> {
        self.calls.set(self.calls.get() + 1);
        self.inner.read_hashes(ids)
    }
}

#[test]
fn each_proof_is_one_read() {
    let leaves = leaves(7, 1000);
    let store = build_in_batches(&leaves, &[37]);
    let reader = CountingReader { inner: &store, calls: std::cell::Cell::new(0) };
    inclusion_proof(500, 999, &reader).unwrap();
    consistency_proof(300, 999, &reader).unwrap();
    root_at(999, &reader).unwrap();
    assert_eq!(reader.calls.get(), 3);
}

#[test]
fn proofs_beyond_the_tree_are_refused_precisely() {
    let leaves = leaves(1, 10);
    let store = build_in_batches(&leaves, &[3]);
    assert_eq!(inclusion_proof(10, 10, &store).unwrap_err().code(), "index_out_of_range");
    assert_eq!(consistency_proof(11, 10, &store).unwrap_err().code(), "size_decreased");
    // Asking about a tree larger than what is stored names the missing node.
    assert_eq!(inclusion_proof(3, 12, &store).unwrap_err().code(), "missing_node");
    assert_eq!(root_at(11, &store).unwrap_err().code(), "missing_node");
    assert!(consistency_proof(0, 10, &store).unwrap().is_empty());
}

#[test]
fn tampered_store_is_detected_by_verification() {
    let leaves = leaves(3, 300);
    let mut store = build_in_batches(&leaves, &[50]);
    let root = store.root().unwrap();
    // Someone edits a stored interior node behind the log's back.
    store.insert(NodeId::new(2, 5), [0xAA; 32]);
    let proof = inclusion_proof(17, 300, &store).unwrap();
    assert!(verify_inclusion(&leaves[17], 17, 300, &proof, &root).is_err());
}
