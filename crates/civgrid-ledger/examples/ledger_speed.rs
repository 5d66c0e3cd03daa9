//! Micro-benchmark of the ledger core (issue 4 "Speed"): the SHA-256 ceiling, Appender
//! throughput, inclusion-proof generation latency at 10 M leaves in a MemoryStore, and
//! verification latency.
//!
//! Run: `cargo run --release -p civgrid-ledger --example ledger_speed [-- LEAVES]`
//! (default 10,000,000 leaves; the MemoryStore then holds ~20 M node hashes, ~1.7 GB).

use std::hint::black_box;
use std::time::{Duration, Instant};

use civgrid_ledger::checkpoint::Checkpoint;
use civgrid_ledger::hash::{node_hash, Hash};
use civgrid_ledger::note::{open, Signer};
use civgrid_ledger::tree::{consistency_proof, inclusion_proof, inclusion_proof_ids, root_at};
use civgrid_ledger::verify::{verify_consistency, verify_inclusion};
use civgrid_ledger::{leaf_hash, Appender, MemoryStore};
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

fn per_sec(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// p50 / p99 / max of per-operation samples, in microseconds.
fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    let mean = samples.iter().sum::<Duration>().as_secs_f64() * 1e6 / samples.len() as f64;
    format!("p50 {:.2} µs, p99 {:.2} µs, max {:.2} µs, mean {:.2} µs", at(0.5), at(0.99), at(1.0), mean)
}

fn main() {
    let leaves: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(6962);
    println!("civgrid-ledger speed, {leaves} leaves");

    // 1. SHA-256 ceiling.
    let buffer = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    let rounds = 256;
    for _ in 0..rounds {
        black_box(Sha256::digest(black_box(&buffer)));
    }
    let elapsed = start.elapsed();
    println!("sha256 bulk:          {:.0} MB/s", per_sec(rounds * (1 << 20), elapsed) / 1e6);
    let count = 2_000_000u64;
    let start = Instant::now();
    for i in 0..count {
        black_box(leaf_hash(black_box(&[i.to_le_bytes(), i.to_be_bytes(), [7; 8], [9; 8]].concat())));
    }
    println!("leaf_hash (32 B):     {:.2} M/s", per_sec(count, start.elapsed()) / 1e6);
    let start = Instant::now();
    let mut h = [1u8; 32];
    for _ in 0..count {
        h = node_hash(black_box(&h), black_box(&[2u8; 32]));
    }
    black_box(h);
    println!("node_hash:            {:.2} M/s", per_sec(count, start.elapsed()) / 1e6);

    // 2. Appender throughput.
    let start = Instant::now();
    let leaf_hashes: Vec<Hash> = (0..leaves).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let hashing = start.elapsed();
    println!("leaf hashes computed: {:.2} M/s ({:.2?})", per_sec(leaves, hashing) / 1e6, hashing);

    let mut appender = Appender::new();
    let mut out = Vec::with_capacity(2 * 1000);
    let start = Instant::now();
    for batch in leaf_hashes.chunks(1000) {
        out.clear();
        appender.extend_into(batch, &mut out).expect("append");
        black_box(&out);
    }
    let pure = start.elapsed();
    println!("Appender (no store):  {:.2} M leaves/s", per_sec(leaves, pure) / 1e6);

    let mut store = MemoryStore::with_capacity(leaves as usize);
    let start = Instant::now();
    let mut batch_sizes = [1usize, 10, 100, 1000, 10_000].iter().cycle();
    let mut pos = 0usize;
    while pos < leaf_hashes.len() {
        let take = (*batch_sizes.next().expect("cycle")).min(leaf_hashes.len() - pos);
        store.append_leaves(&leaf_hashes[pos..pos + take]).expect("append");
        pos += take;
    }
    let building = start.elapsed();
    println!(
        "Appender+MemoryStore: {:.2} M leaves/s ({:.2?}, {} nodes, batches 1..10,000)",
        per_sec(leaves, building) / 1e6,
        building,
        store.node_count()
    );
    assert_eq!(store.root().expect("root"), appender.root());

    // 3. Inclusion proof generation at full size: ids + lookups + assembly.
    let size = leaves;
    let samples = 100_000;
    let indices: Vec<u64> = (0..samples).map(|_| rng.gen_range(0..size)).collect();
    let mut ids_only = Vec::with_capacity(samples);
    let mut full = Vec::with_capacity(samples);
    let mut proofs = Vec::with_capacity(samples);
    for &i in &indices {
        let t = Instant::now();
        black_box(inclusion_proof_ids(i, size).expect("ids"));
        ids_only.push(t.elapsed());
        let t = Instant::now();
        let proof = inclusion_proof(i, size, &store).expect("proof");
        full.push(t.elapsed());
        proofs.push(proof);
    }
    println!("inclusion ids:        {}", percentiles(ids_only));
    println!(
        "inclusion proof:      {}  (ids + HashMap lookups + assembly, {} hashes avg)",
        percentiles(full),
        proofs.iter().map(Vec::len).sum::<usize>() / proofs.len()
    );

    // 4. Verification.
    let root = root_at(size, &store).expect("root");
    let mut verify = Vec::with_capacity(samples);
    for (&i, proof) in indices.iter().zip(&proofs) {
        let t = Instant::now();
        verify_inclusion(&leaf_hashes[i as usize], i, size, proof, &root).expect("verifies");
        verify.push(t.elapsed());
    }
    println!("inclusion verify:     {}", percentiles(verify));

    let mut cgen = Vec::with_capacity(10_000);
    let mut cver = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let old = rng.gen_range(1..=size);
        let old_root = root_at(old, &store).expect("root");
        let t = Instant::now();
        let proof = consistency_proof(old, size, &store).expect("proof");
        cgen.push(t.elapsed());
        let t = Instant::now();
        verify_consistency(old, size, &old_root, &root, &proof).expect("verifies");
        cver.push(t.elapsed());
    }
    println!("consistency proof:    {}", percentiles(cgen));
    println!("consistency verify:   {}", percentiles(cver));

    // 5. Checkpoint: root + Ed25519 signed note, and opening it.
    let signer = Signer::generate("ledger.example/log").expect("key");
    let verifier = signer.verifier();
    let mut sign = Vec::with_capacity(2000);
    let mut opening = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let t = Instant::now();
        let note = Checkpoint::new("ledger.example/log", size, root_at(size, &store).expect("root"))
            .expect("checkpoint")
            .sign(&signer)
            .expect("sign");
        sign.push(t.elapsed());
        let t = Instant::now();
        black_box(open(&note, std::slice::from_ref(&verifier)).expect("opens"));
        opening.push(t.elapsed());
    }
    println!("checkpoint sign:      {}", percentiles(sign));
    println!("checkpoint open:      {}", percentiles(opening));
}
