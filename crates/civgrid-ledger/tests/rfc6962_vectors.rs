//! Conformance against the public RFC 6962 / RFC 9162 vectors of transparency-dev/merkle
//! (see tests/vectors/README.md): known roots and node hashes of the 8-leaf reference tree, the
//! single-hash known answers, and every inclusion and consistency probe, tampered ones included.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use civgrid_ledger::hash::{node_hash_raw, Hash};
use civgrid_ledger::tree::{consistency_proof, inclusion_proof, root_at, NodeId};
use civgrid_ledger::verify::{verify_consistency, verify_inclusion};
use civgrid_ledger::{empty_root, leaf_hash, MemoryStore};
use serde::Deserialize;
use sha2::{Digest, Sha256};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn hex32(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rfc6962 {
    leaf_inputs_hex: Vec<String>,
    node_hashes_hex: Vec<Vec<String>>,
    root_hashes_hex: Vec<String>,
    known_answers: KnownAnswers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KnownAnswers {
    empty_root_hex: String,
    leaf_l123456_hex: String,
    empty_leaf_hex: String,
    node_n123_n456_hex: String,
}

fn reference() -> Rfc6962 {
    serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("rfc6962.json")).unwrap()).unwrap()
}

fn reference_store() -> (MemoryStore, Vec<Hash>) {
    let r = reference();
    let leaves: Vec<Hash> = r.leaf_inputs_hex.iter().map(|h| leaf_hash(&hex::decode(h).unwrap())).collect();
    let mut store = MemoryStore::new();
    store.append_leaves(&leaves).unwrap();
    (store, leaves)
}

#[test]
fn known_answer_hashes() {
    let k = reference().known_answers;
    assert_eq!(empty_root(), hex32(&k.empty_root_hex));
    assert_eq!(leaf_hash(b"L123456"), hex32(&k.leaf_l123456_hex));
    assert_eq!(leaf_hash(b""), hex32(&k.empty_leaf_hex));
    assert_eq!(node_hash_raw(b"N123", b"N456"), hex32(&k.node_n123_n456_hex));
}

#[test]
fn known_roots_for_sizes_0_to_8() {
    let r = reference();
    let (store, leaves) = reference_store();
    assert_eq!(r.root_hashes_hex.len(), 9);
    for (size, want) in r.root_hashes_hex.iter().enumerate() {
        assert_eq!(root_at(size as u64, &store).unwrap(), hex32(want), "root of size {size}");
        // Building one leaf at a time gives the same roots.
        let mut one_by_one = MemoryStore::new();
        for leaf in &leaves[..size] {
            one_by_one.append_leaves(&[*leaf]).unwrap();
        }
        assert_eq!(one_by_one.root().unwrap(), hex32(want), "incremental root of size {size}");
    }
}

#[test]
fn known_node_hashes_are_stored() {
    let r = reference();
    let (store, _) = reference_store();
    let mut count = 0;
    for (level, hashes) in r.node_hashes_hex.iter().enumerate() {
        for (index, want) in hashes.iter().enumerate() {
            assert_eq!(store.get(&NodeId::new(level as u8, index as u64)), Some(&hex32(want)), "node {level}/{index}");
            count += 1;
        }
    }
    assert_eq!(store.node_count(), count, "exactly the complete subtrees are stored");
}

/// Decodes a vector hash. Our API takes `[u8; 32]`, so a hash of another length cannot be passed
/// at all: that counts as the verification refusing it. The two "don't care" placeholders
/// ("don't care 1/2", used where only the sizes matter) stand for arbitrary distinct hashes.
fn decode_hash(s: &str) -> Option<Hash> {
    if s == "ZG9uJ3QgY2FyZSAx" || s == "ZG9uJ3QgY2FyZSAy" {
        return Some(Sha256::digest(s.as_bytes()).into());
    }
    STANDARD.decode(s).ok()?.try_into().ok()
}

fn decode_proof(p: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    p.as_deref().unwrap_or_default().iter().map(|h| decode_hash(h)).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProbe {
    file: String,
    #[serde(alias = "leafIndex")]
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyProbe {
    file: String,
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

fn probes<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    std::fs::read_to_string(vectors_dir().join(name))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn inclusion_probes() {
    let probes: Vec<InclusionProbe> = probes("inclusion.jsonl");
    assert_eq!(probes.len(), 99);
    let (mut passed, mut refused) = (0, 0);
    for p in &probes {
        let result = match (decode_hash(&p.leaf_hash), decode_hash(&p.root), decode_proof(&p.proof)) {
            (Some(leaf), Some(root), Some(proof)) => {
                verify_inclusion(&leaf, p.leaf_idx, p.tree_size, &proof, &root).map_err(|e| e.code())
            }
            _ => Err("not_a_32_byte_hash"),
        };
        assert_eq!(result.is_err(), p.want_err, "{}: {result:?}", p.file);
        if result.is_ok() {
            passed += 1;
        } else {
            refused += 1;
        }
    }
    assert_eq!((passed, refused), (6, 93));
}

#[test]
fn consistency_probes() {
    let probes: Vec<ConsistencyProbe> = probes("consistency.jsonl");
    assert_eq!(probes.len(), 102);
    let (mut passed, mut refused) = (0, 0);
    for p in &probes {
        let result = match (decode_hash(&p.root1), decode_hash(&p.root2), decode_proof(&p.proof)) {
            (Some(r1), Some(r2), Some(proof)) => {
                verify_consistency(p.size1, p.size2, &r1, &r2, &proof).map_err(|e| e.code())
            }
            _ => Err("not_a_32_byte_hash"),
        };
        assert_eq!(result.is_err(), p.want_err, "{}: {result:?}", p.file);
        if result.is_ok() {
            passed += 1;
        } else {
            refused += 1;
        }
    }
    assert_eq!((passed, refused), (11, 91));
}

/// The happy-path proofs over the reference tree are exactly what our generator produces.
#[test]
fn generated_proofs_equal_the_vectors() {
    let (store, _) = reference_store();
    let mut checked = 0;
    for p in probes::<InclusionProbe>("inclusion.jsonl") {
        if p.want_err || p.tree_size > 8 || !p.file.ends_with("happy-path.json") {
            continue;
        }
        let want = decode_proof(&p.proof).unwrap();
        assert_eq!(inclusion_proof(p.leaf_idx, p.tree_size, &store).unwrap(), want, "{}", p.file);
        checked += 1;
    }
    for p in probes::<ConsistencyProbe>("consistency.jsonl") {
        if p.want_err || p.size2 > 8 || !p.file.ends_with("happy-path.json") {
            continue;
        }
        let want = decode_proof(&p.proof).unwrap();
        assert_eq!(consistency_proof(p.size1, p.size2, &store).unwrap(), want, "{}", p.file);
        checked += 1;
    }
    assert_eq!(checked, 10);
}

/// Every proof between every pair of sizes of the reference tree verifies against the published
/// roots, and is refused against every other published root.
#[test]
fn all_reference_proofs_verify_against_published_roots() {
    let r = reference();
    let (store, leaves) = reference_store();
    let roots: Vec<Hash> = r.root_hashes_hex.iter().map(|h| hex32(h)).collect();
    for size in 1..=8u64 {
        for index in 0..size {
            let proof = inclusion_proof(index, size, &store).unwrap();
            for (other, root) in roots.iter().enumerate() {
                let result = verify_inclusion(&leaves[index as usize], index, size, &proof, root);
                assert_eq!(result.is_ok(), other as u64 == size, "inclusion {index} in {size} vs root {other}");
            }
        }
        for old in 1..=size {
            let proof = consistency_proof(old, size, &store).unwrap();
            verify_consistency(old, size, &roots[old as usize], &roots[size as usize], &proof).unwrap();
            for (other, root) in roots.iter().enumerate() {
                if other as u64 != old && root != &roots[old as usize] {
                    assert!(verify_consistency(old, size, root, &roots[size as usize], &proof).is_err());
                }
            }
        }
    }
}
