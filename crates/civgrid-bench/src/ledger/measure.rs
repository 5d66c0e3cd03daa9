//! The measurements of `civgrid-bench ledger`: appends, single entries, checkpoint latency,
//! proofs, bundles, the hashing ceiling and the targets they are held to.

use super::*;

/// Writers append `range` in batches while the sequencer loop runs; timed until a signed
/// checkpoint covers every entry.
pub(super) async fn durable_appends(
    ledger: &Ledger,
    range: Range<u64>,
    batch: usize,
    writers: usize,
    every: Duration,
) -> anyhow::Result<AppendRun> {
    let db = ledger.db().clone();
    let base = checkpoint_size(&db).await?;
    let checkpoints_before = checkpoint_count(&db).await?;
    let total = range.end - range.start;
    let target = base + total;
    let start = Instant::now();
    let sequencer = {
        let l = ledger.clone();
        tokio::spawn(async move { l.run_sequencer(every).await })
    };
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            append_concurrently(&db, range, batch, writers).await?;
            Ok::<Instant, anyhow::Error>(Instant::now())
        })
    };
    let step = (total / 10).max(1);
    let mut progress = Vec::new();
    let mut next_mark = base + step;
    let mut committed_at: Option<Instant> = None;
    let mut writer = Some(writer);
    let mut last_growth = (base, Instant::now());
    let end = loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let size = checkpoint_size(&db).await.context("reading the newest checkpoint")?;
        let now = Instant::now();
        while size >= next_mark && next_mark <= target {
            progress.push((next_mark - base, (now - start).as_secs_f64()));
            println!("  {:>11} entries checkpointed after {:7.1} s", next_mark - base, (now - start).as_secs_f64());
            next_mark += step;
        }
        if writer.as_ref().is_some_and(|w| w.is_finished()) {
            if let Some(w) = writer.take() {
                committed_at = Some(w.await.context("writers panicked")??);
            }
        }
        if size >= target && committed_at.is_some() {
            break now;
        }
        if size > last_growth.0 {
            last_growth = (size, now);
        } else if committed_at.is_some() && now - last_growth.1 > Duration::from_secs(60) {
            sequencer.abort();
            anyhow::bail!("the sequencer made no progress for 60 s (checkpoint size {size} of {target})");
        }
    };
    sequencer.abort();
    let seconds = (end - start).as_secs_f64();
    let commit_seconds = committed_at.map_or(seconds, |c| (c - start).as_secs_f64());
    Ok(AppendRun {
        entries: total,
        batch,
        writers,
        sequencer_ms: every.as_millis() as u64,
        seconds,
        durable_per_s: total as f64 / seconds,
        commit_seconds,
        committed_per_s: total as f64 / commit_seconds,
        progress,
        checkpoints_signed: checkpoint_count(&db).await? - checkpoints_before,
    })
}

/// One entry per transaction, `concurrency` tasks at once; `group` sends them through
/// [`Db::write`] (SQLite's group commit) instead of a transaction of their own.
pub(super) async fn single_entries(
    ledger: &Ledger,
    range: Range<u64>,
    concurrency: usize,
    group: bool,
    every: Duration,
) -> anyhow::Result<SingleRun> {
    let db = ledger.db().clone();
    let sequencer = {
        let l = ledger.clone();
        tokio::spawn(async move { l.run_sequencer(every).await })
    };
    let count = (range.end - range.start) as usize;
    let next = Arc::new(AtomicU64::new(range.start));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (db, next, end) = (db.clone(), next.clone(), range.end);
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    return Ok::<(), anyhow::Error>(());
                }
                let (reference, content) = bench_record(n);
                let now = civgrid::db::now_text();
                if group {
                    db.write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
                        Box::pin(async move {
                            append_in(tx, RECORD_KIND, &reference, &content, &now).await?;
                            Ok(())
                        })
                    })
                    .await?;
                } else {
                    // A transaction of its own beside the application's one write path, to
                    // show what the group commit saves: `BEGIN IMMEDIATE` on SQLite so the
                    // write lock is taken before the first read.
                    let begin = if db.backend() == civgrid::db::Dialect::Sqlite { "begin immediate" } else { "begin" };
                    let mut tx = db.pool().begin_with(begin).await?;
                    append_in(&mut tx, RECORD_KIND, &reference, &content, &now).await?;
                    tx.commit().await?;
                }
            }
        });
    }
    let mut failed = None;
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done.context("single-entry task panicked").and_then(|r| r) {
            failed.get_or_insert(e);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    sequencer.abort();
    if let Some(e) = failed {
        return Err(e);
    }
    let path = if group {
        "single-entry units through `Db::write` (SQLite group commit: one transaction and fsync per group)"
    } else {
        "single-entry transactions of their own (`begin`, `append_in`, `commit`: one fsync each)"
    };
    Ok(SingleRun { path: path.to_owned(), transactions: count, concurrency, seconds, per_s: count as f64 / seconds })
}

/// One writer commits single entries at `rate`; an observer reads the newest checkpoint every
/// 2 ms and notes when it first covers each entry.
pub(super) async fn checkpoint_latency(
    ledger: &Ledger,
    first: u64,
    rate: f64,
    seconds: f64,
    every: Duration,
) -> anyhow::Result<LatencyRun> {
    let db = ledger.db().clone();
    // Start from a quiet log whose every entry is in a checkpoint.
    ledger.integrate().await?;
    let base = checkpoint_size(&db).await?;
    anyhow::ensure!(!ledger.has_pending().await?, "entries still pending before the latency run");
    let count = (rate * seconds).round().max(1.0) as u64;
    let commits: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::with_capacity(count as usize)));
    let sequencer = {
        let l = ledger.clone();
        tokio::spawn(async move { l.run_sequencer(every).await })
    };
    let writer = {
        let (db, commits) = (db.clone(), commits.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            for k in 0..count {
                tick.tick().await;
                let (reference, content) = bench_record(first + k);
                let now = civgrid::db::now_text();
                db.write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
                    Box::pin(async move {
                        append_in(tx, RECORD_KIND, &reference, &content, &now).await?;
                        Ok(())
                    })
                })
                .await?;
                let at = Instant::now();
                commits.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.push(at);
            }
            Ok::<(), anyhow::Error>(())
        })
    };
    let poll = Duration::from_millis(2);
    let mut latencies: Vec<Duration> = Vec::with_capacity(count as usize);
    let mut stalled_since = Instant::now();
    while (latencies.len() as u64) < count {
        tokio::time::sleep(poll).await;
        let size = checkpoint_size(&db).await?;
        let now = Instant::now();
        let before = latencies.len();
        {
            let commits = commits.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            while latencies.len() < commits.len() && base + (latencies.len() as u64) < size {
                latencies.push(now - commits[latencies.len()]);
            }
        }
        if latencies.len() > before {
            stalled_since = now;
        } else if writer.is_finished() && now - stalled_since > Duration::from_secs(30) {
            break;
        }
    }
    sequencer.abort();
    writer.await.context("latency writer panicked")??;
    anyhow::ensure!(
        latencies.len() as u64 == count,
        "only {} of {count} entries reached a checkpoint",
        latencies.len()
    );
    Ok(LatencyRun {
        rate_per_s: rate,
        sequencer_ms: every.as_millis() as u64,
        poll_ms: poll.as_millis() as u64,
        latency: Dist::of(&latencies),
    })
}

/// Inclusion proofs for `samples` random leaves of the latest checkpoint: without the node
/// cache, first touch, and again; a sample is verified against the signed root.
pub(super) async fn proof_run(ledger: &Ledger, samples: usize, seed: u64) -> anyhow::Result<ProofRun> {
    let db = ledger.db();
    let checkpoint = ledger.checkpoint().await?;
    let size = checkpoint.size;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let leaves: Vec<u64> = (0..samples.max(1)).map(|_| rng.gen_range(0..size)).collect();

    let plain = ledger.clone().with_node_cache(0, 0);
    let mut no_cache = Vec::with_capacity(leaves.len());
    for &i in &leaves {
        let t = Instant::now();
        std::hint::black_box(plain.inclusion_proof(i, size).await?);
        no_cache.push(t.elapsed());
    }

    ledger.clear_node_cache();
    let mut cold = Vec::with_capacity(leaves.len());
    let mut proofs = Vec::with_capacity(leaves.len());
    for &i in &leaves {
        let t = Instant::now();
        let proof = ledger.inclusion_proof(i, size).await?;
        cold.push(t.elapsed());
        proofs.push(proof);
    }

    let mut order: Vec<usize> = (0..leaves.len()).collect();
    order.shuffle(&mut rng);
    let mut warm = Vec::with_capacity(leaves.len());
    for &k in &order {
        let t = Instant::now();
        let proof = ledger.inclusion_proof(leaves[k], size).await?;
        warm.push(t.elapsed());
        anyhow::ensure!(proof == proofs[k], "cached proof of leaf {} differs from the first one", leaves[k]);
    }

    let cache_after = ledger.cache_stats();

    ledger.clear_node_cache();
    let t = Instant::now();
    let loaded_nodes = ledger.load_tree().await?;
    let load_ms = t.elapsed().as_millis() as u64;
    let fresh: Vec<u64> = (0..samples.max(1)).map(|_| rng.gen_range(0..size)).collect();
    let mut resident = Vec::with_capacity(fresh.len());
    for &i in &fresh {
        let t = Instant::now();
        let proof = ledger.inclusion_proof(i, size).await?;
        resident.push(t.elapsed());
        let check = plain.inclusion_proof(i, size).await?;
        anyhow::ensure!(proof == check, "resident-tree proof of leaf {i} differs from the database's");
    }

    let mut verified = 0;
    for (&i, proof) in leaves.iter().zip(&proofs).take(200) {
        let (kind, reference, sha): (String, String, String) =
            sqlx::query_as("select kind, ref, content_sha256 from ledger_entry where seq = $1")
                .bind(i as i64)
                .fetch_optional(db.pool())
                .await?
                .with_context(|| format!("no entry at leaf {i}"))?;
        let hash: Hash = hex::decode(&sha)?.try_into().map_err(|_| anyhow::anyhow!("leaf {i}: not a SHA-256"))?;
        let leaf = Entry::new(&kind, &reference, hash)?.leaf_hash();
        verify_inclusion(&leaf, i, size, proof, &checkpoint.root)
            .map_err(|err| anyhow::anyhow!("proof of leaf {i} does not verify: {err}"))?;
        verified += 1;
    }
    Ok(ProofRun {
        tree_size: size,
        no_cache: Dist::of(&no_cache),
        cold: Dist::of(&cold),
        warm: Dist::of(&warm),
        cache_after,
        load_ms,
        loaded_nodes,
        resident: Dist::of(&resident),
        verified,
    })
}

/// Issues a certificate-shaped entry, has the witness cosign its checkpoint, builds the bundle
/// the platform serves, and times offline verification of its bytes.
pub(super) async fn bundle_run(ledger: &Ledger, cosigner: &Cosigner, iterations: usize) -> anyhow::Result<BundleRun> {
    const KIND: &str = "certificate";
    let reference = "BENCH-2026-000001";
    let content = json!({
        "number": reference,
        "type": "no_criminal_record",
        "type_name": {"zh": "无犯罪记录证明", "en": "Certificate of no criminal record"},
        "subject": {"name": "张三", "id_number": "440604199001011234"},
        "fields": {"purpose": "employment"},
        "valid_until": "2027-05-22",
        "issuing_department": "public_security",
        "issued_at": civgrid::db::now_text(),
        "log_origin": ledger.origin(),
    });
    let signature = sign_certificate(ledger.keys().issuer_signer(), KIND, reference, &content)?;
    let (entry_ref, entry_content) = (reference.to_owned(), content.clone());
    ledger
        .db()
        .write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
            Box::pin(async move {
                append_in(tx, KIND, &entry_ref, &entry_content, &civgrid::db::now_text()).await?;
                Ok(())
            })
        })
        .await?;
    ledger.integrate().await?;
    let checkpoint = ledger.checkpoint().await?;
    let body = civgrid_ledger::note::parse_note(&checkpoint.note)?.text;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let line = cosigner.cosign(&body, now)?;
    let note = civgrid_ledger::note::add_signature_lines(&checkpoint.note, &line)?;
    ledger.add_cosignatures(checkpoint.size, &note, &cosigner.vkey()).await?;
    let (leaf, proof, cosigned) =
        ledger.trusted_proof(KIND, reference).await?.context("no witnessed checkpoint covers the certificate")?;
    let proof_hashes = proof.len();
    let bundle = Bundle::build(KIND, reference, content, signature, leaf, proof, cosigned)?;
    let bytes = bundle.to_json().into_bytes();
    let trust = ledger.trust_file();
    let verified = verify_bundle(&bytes, &trust)?;
    anyhow::ensure!(verified.checkpoint.quorum_met, "the bundle's checkpoint does not meet the quorum");
    let witnesses = verified.checkpoint.cosignatures.len();
    let bundle_bytes = bytes.len();
    let verify = tokio::task::spawn_blocking(move || {
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations.max(1) {
            let t = Instant::now();
            let ok = verify_bundle(std::hint::black_box(&bytes), &trust).is_ok();
            times.push(t.elapsed());
            assert!(ok, "a bundle that verified once must verify again");
        }
        Dist::of(&times)
    })
    .await?;
    Ok(BundleRun { bundle_bytes, proof_hashes, tree_size: checkpoint.size, witnesses, verify })
}

/// The in-memory core at the same size: build time and proof latency (for reference).
pub(super) fn memory_store_proofs(size: u64, samples: usize, seed: u64) -> anyhow::Result<(f64, Dist)> {
    let start = Instant::now();
    let mut store = MemoryStore::with_capacity(size as usize);
    let mut chunk = Vec::with_capacity(100_000);
    let mut i = 0u64;
    while i < size {
        chunk.clear();
        let end = (i + 100_000).min(size);
        chunk.extend((i..end).map(|n| leaf_hash(&n.to_be_bytes())));
        store.append_leaves(&chunk)?;
        i = end;
    }
    let build = start.elapsed().as_secs_f64();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let leaf = rng.gen_range(0..size);
        let t = Instant::now();
        std::hint::black_box(civgrid_ledger::tree::inclusion_proof(leaf, size, &store)?);
        times.push(t.elapsed());
    }
    Ok((build, Dist::of(&times)))
}

pub(super) fn sha_ceiling() -> ShaCeiling {
    let per_s = |n: u64, t: Instant| n as f64 / t.elapsed().as_secs_f64();
    let buffer = vec![0x5au8; 1 << 20];
    let rounds = 512u64;
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(Sha256::digest(std::hint::black_box(&buffer)));
    }
    let bulk_mb_per_s = per_s(rounds * (1 << 20), t) / 1e6;

    let entries: Vec<Vec<u8>> = (0..1024u64)
        .map(|n| {
            let (reference, content) = bench_record(n);
            Entry::for_content(RECORD_KIND, &reference, &content).map(|e| e.to_bytes()).unwrap_or_default()
        })
        .collect();
    let entry_bytes = entries.first().map_or(0, Vec::len);
    let n = 2_000_000u64;
    let t = Instant::now();
    for k in 0..n {
        std::hint::black_box(leaf_hash(std::hint::black_box(&entries[(k % 1024) as usize])));
    }
    let leaf_hashes_per_s = per_s(n, t);

    let mut h: Hash = [1; 32];
    let t = Instant::now();
    for _ in 0..n {
        h = node_hash(std::hint::black_box(&h), std::hint::black_box(&[2; 32]));
    }
    std::hint::black_box(h);
    let node_hashes_per_s = per_s(n, t);

    let records: Vec<Value> = (0..1024u64).map(|k| bench_record(k).1).collect();
    let m = 200_000u64;
    let t = Instant::now();
    for k in 0..m {
        std::hint::black_box(civgrid_ledger::entry::content_hash(&records[(k % 1024) as usize]).ok());
    }
    let content_hashes_per_s = per_s(m, t);
    ShaCeiling {
        bulk_mb_per_s,
        entry_bytes,
        leaf_hashes_per_s,
        node_hashes_per_s,
        content_hashes_per_s,
        sequencer_ceiling_per_s: 1.0 / (1.0 / leaf_hashes_per_s + 1.0 / node_hashes_per_s),
    }
}

pub(super) fn targets(sqlite: &BackendRun, sha: &ShaCeiling) -> Vec<TargetCheck> {
    let at_10m = sqlite.proofs.tree_size >= 10_000_000;
    let proof = |d: &Dist, what: &str| TargetCheck {
        target: format!("inclusion proof p99 at 10 M entries, {what}"),
        required: "≤ 50 µs".into(),
        measured: format!("{:.1} µs at {} entries", d.p99_us, thousands(sqlite.proofs.tree_size as f64)),
        pass: at_10m.then_some(d.p99_us <= 50.0),
    };
    vec![
        TargetCheck {
            target: "durable appends/s on SQLite (batched, until in a signed checkpoint)".into(),
            required: "≥ 50,000 /s".into(),
            measured: format!(
                "{} /s ({} entries; SHA-256 ceiling of the sequencer {} /s)",
                thousands(sqlite.appends.durable_per_s),
                thousands(sqlite.appends.entries as f64),
                thousands(sha.sequencer_ceiling_per_s)
            ),
            pass: Some(sqlite.appends.durable_per_s >= 50_000.0),
        },
        proof(&sqlite.proofs.warm, "warm node cache (leaf asked before)"),
        proof(&sqlite.proofs.cold, "cold (first touch of the leaf, nothing cached)"),
        proof(&sqlite.proofs.resident, "first touch of the leaf, tree resident (loaded at start)"),
        TargetCheck {
            target: "append → signed checkpoint covering it (SQLite)".into(),
            required: "≤ 1 s".into(),
            measured: format!(
                "max {:.0} ms (p99 {:.0} ms)",
                sqlite.latency.latency.max_us / 1e3,
                sqlite.latency.latency.p99_us / 1e3
            ),
            pass: Some(sqlite.latency.latency.max_us <= 1e6),
        },
    ]
}
