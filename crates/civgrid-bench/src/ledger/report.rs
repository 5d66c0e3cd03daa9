//! What `civgrid-bench ledger` reports, and how it prints.

use super::*;

/// Latency percentiles (nearest rank), in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Dist {
    pub samples: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

impl Dist {
    pub(super) fn of(samples: &[Duration]) -> Dist {
        if samples.is_empty() {
            return Dist::default();
        }
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let at = |q: f64| us[((q * us.len() as f64).ceil() as usize).clamp(1, us.len()) - 1];
        Dist {
            samples: us.len(),
            p50_us: at(0.50),
            p99_us: at(0.99),
            max_us: at(1.0),
            mean_us: us.iter().sum::<f64>() / us.len() as f64,
        }
    }

    pub(super) fn us(&self) -> String {
        format!("p50 {:.1} µs, p99 {:.1} µs (max {:.0} µs)", self.p50_us, self.p99_us, self.max_us)
    }

    pub(super) fn ms(&self) -> String {
        format!("p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms", self.p50_us / 1e3, self.p99_us / 1e3, self.max_us / 1e3)
    }
}

/// Hashing on one core: the ceiling any append path is bounded by.
#[derive(Debug, Clone, Serialize)]
pub struct ShaCeiling {
    /// SHA-256 over 1 MiB buffers.
    pub bulk_mb_per_s: f64,
    /// RFC 6962 leaf hashes of real entry lines (`civgrid/v1 <kind> <ref> <hex>\n`).
    pub entry_bytes: usize,
    pub leaf_hashes_per_s: f64,
    pub node_hashes_per_s: f64,
    /// Canonical JSON + SHA-256 of a benchmark record (the record owner's share).
    pub content_hashes_per_s: f64,
    /// One leaf hash and one node hash per entry (the sequencer's hashing; one core).
    pub sequencer_ceiling_per_s: f64,
}

/// One durable-append run.
#[derive(Debug, Clone, Serialize)]
pub struct AppendRun {
    pub entries: u64,
    pub batch: usize,
    pub writers: usize,
    pub sequencer_ms: u64,
    /// First append → last entry covered by a signed checkpoint.
    pub seconds: f64,
    pub durable_per_s: f64,
    /// First append → last commit (entries written, not yet all logged).
    pub commit_seconds: f64,
    pub committed_per_s: f64,
    /// (entries covered by a signed checkpoint, seconds since the first append).
    pub progress: Vec<(u64, f64)>,
    pub checkpoints_signed: u64,
}

/// Single-entry transactions.
#[derive(Debug, Clone, Serialize)]
pub struct SingleRun {
    /// How each entry was committed.
    pub path: String,
    pub transactions: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub per_s: f64,
}

/// Append → signed checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyRun {
    pub rate_per_s: f64,
    pub sequencer_ms: u64,
    /// How often the observer read the newest checkpoint.
    pub poll_ms: u64,
    pub latency: Dist,
}

/// Inclusion proofs at one tree size.
#[derive(Debug, Clone, Serialize)]
pub struct ProofRun {
    pub tree_size: u64,
    /// Every node read from the database, the checkpoint size too (the code before the cache).
    pub no_cache: Dist,
    /// Node cache empty at the start; each sampled leaf asked for the first time.
    pub cold: Dist,
    /// The same leaves again, in another order: every node from the cache.
    pub warm: Dist,
    pub cache_after: civgrid::ledger::CacheStats,
    /// Reading the whole stored tree into memory (`Ledger::load_tree`, as a node does at start).
    pub load_ms: u64,
    pub loaded_nodes: u64,
    /// After that load, with the rest of the cache empty: other leaves, each asked for the
    /// first time.
    pub resident: Dist,
    /// Proofs checked against the signed root with leaves recomputed from stored entries.
    pub verified: usize,
}

/// One database's figures.
#[derive(Debug, Clone, Serialize)]
pub struct BackendRun {
    pub backend: String,
    /// Version and the durability settings in effect.
    pub settings: String,
    pub appends: AppendRun,
    pub single: Vec<SingleRun>,
    pub latency: LatencyRun,
    /// The query plan of the node lookup behind every proof.
    pub lookup_plan: String,
    /// The query plan of the sequencer's numbering statement.
    pub sequence_plan: String,
    pub proofs: ProofRun,
}

/// A certificate bundle verified offline.
#[derive(Debug, Clone, Serialize)]
pub struct BundleRun {
    pub bundle_bytes: usize,
    pub proof_hashes: usize,
    pub tree_size: u64,
    pub witnesses: usize,
    pub verify: Dist,
}

/// Everything `civgrid-bench ledger` measured.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerBenchReport {
    pub machine: MachineInfo,
    pub command: String,
    pub sha256: ShaCeiling,
    pub sqlite: BackendRun,
    pub postgres: Option<BackendRun>,
    /// `civgrid_ledger::tree::inclusion_proof` over a `MemoryStore` of the same size.
    pub memory_store_proof: Dist,
    pub memory_store_build_seconds: f64,
    pub bundle: BundleRun,
    pub targets: Vec<TargetCheck>,
}

impl LedgerBenchReport {
    pub(super) fn column<'a>(&'a self, f: impl Fn(&'a BackendRun) -> String) -> (String, Option<String>) {
        (f(&self.sqlite), self.postgres.as_ref().map(f))
    }
}

impl fmt::Display for LedgerBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        writeln!(
            f,
            "#### `civgrid-bench ledger`: SQLite log of {} entries{}\n",
            thousands(self.sqlite.appends.entries as f64),
            self.postgres
                .as_ref()
                .map(|p| format!(", PostgreSQL log of {}", thousands(p.appends.entries as f64)))
                .unwrap_or_default()
        )?;
        writeln!(f, "{m}\n")?;
        writeln!(f, "Command: `{}`\n", self.command)?;
        let pg = self.postgres.is_some();
        writeln!(f, "| measure | SQLite |{}", if pg { " PostgreSQL |" } else { "" })?;
        writeln!(f, "| --- | --- |{}", if pg { " --- |" } else { "" })?;
        let mut row = |name: &str, (s, p): (String, Option<String>)| -> fmt::Result {
            match (pg, p) {
                (true, Some(p)) => writeln!(f, "| {name} | {s} | {p} |"),
                (true, None) => writeln!(f, "| {name} | {s} | — |"),
                _ => writeln!(f, "| {name} | {s} |"),
            }
        };
        row("database and durability in effect", self.column(|b| b.settings.clone()))?;
        let a = &self.sqlite.appends;
        row(
            &format!(
                "**durable appends/s**: transactions of {} entries from {} writers, sequencer every {} ms; first append → last entry in a signed checkpoint",
                thousands(a.batch as f64),
                a.writers,
                a.sequencer_ms
            ),
            self.column(|b| {
                format!(
                    "**{} /s** ({} entries in {:.1} s, {} checkpoints)",
                    thousands(b.appends.durable_per_s),
                    thousands(b.appends.entries as f64),
                    b.appends.seconds,
                    thousands(b.appends.checkpoints_signed as f64)
                )
            }),
        )?;
        row(
            "same run, first append → last commit",
            self.column(|b| format!("{} /s ({:.1} s)", thousands(b.appends.committed_per_s), b.appends.commit_seconds)),
        )?;
        row(
            "same run, entries in a signed checkpoint after … (tree growth)",
            self.column(|b| {
                b.appends
                    .progress
                    .iter()
                    .map(|(n, s)| format!("{} M {:.0} s", *n as f64 / 1e6, s))
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        )?;
        for i in 0..self.sqlite.single.len() {
            let s = &self.sqlite.single[i];
            row(
                &format!("{}, {} concurrent", s.path, s.concurrency),
                self.column(|b| {
                    b.single
                        .get(i)
                        .map(|s| {
                            format!(
                                "{} /s ({} in {:.1} s)",
                                thousands(s.per_s),
                                thousands(s.transactions as f64),
                                s.seconds
                            )
                        })
                        .unwrap_or_else(|| "— (one transaction per call on PostgreSQL)".into())
                }),
            )?;
        }
        let l = &self.sqlite.latency;
        row(
            &format!(
                "**append → signed checkpoint** (1 entry every {:.0} ms, sequencer every {} ms, observed every {} ms)",
                1e3 / l.rate_per_s,
                l.sequencer_ms,
                l.poll_ms
            ),
            self.column(|b| format!("**{}**", b.latency.latency.ms())),
        )?;
        row(
            "plan of the sequencer's numbering `update … returning`",
            self.column(|b| format!("`{}`", b.sequence_plan)),
        )?;
        row("tree size for the proofs", self.column(|b| thousands(b.proofs.tree_size as f64)))?;
        row("plan of the node lookup (`(level, idx) in (values …)`)", self.column(|b| format!("`{}`", b.lookup_plan)))?;
        row(
            "inclusion proof, `Ledger::inclusion_proof`, no cache (every node and the checkpoint size read from the database)",
            self.column(|b| b.proofs.no_cache.us()),
        )?;
        row(
            "inclusion proof, **cold**: node cache empty at the start, each leaf asked for the first time",
            self.column(|b| format!("**{}**", b.proofs.cold.us())),
        )?;
        row(
            "inclusion proof, **warm**: the same leaves again (every node from the cache)",
            self.column(|b| format!("**{}**", b.proofs.warm.us())),
        )?;
        row(
            "reading the stored tree into memory (`Ledger::load_tree`, run by every node at start)",
            self.column(|b| format!("{} nodes in {} ms", thousands(b.proofs.loaded_nodes as f64), b.proofs.load_ms)),
        )?;
        row(
            "inclusion proof, **tree resident**: after that load, other leaves, each asked for the first time",
            self.column(|b| format!("**{}**", b.proofs.resident.us())),
        )?;
        row(
            "node cache after the warm run (upper / lower nodes held)",
            self.column(|b| {
                format!(
                    "{} / {}",
                    thousands(b.proofs.cache_after.upper_nodes as f64),
                    thousands(b.proofs.cache_after.lower_nodes as f64)
                )
            }),
        )?;
        row(
            "proofs verified against the signed root (leaves recomputed from stored entries)",
            self.column(|b| b.proofs.verified.to_string()),
        )?;
        row(
            &format!(
                "inclusion proof, in-memory core (`MemoryStore`, same size; built in {:.1} s)",
                self.memory_store_build_seconds
            ),
            (self.memory_store_proof.us(), pg.then(|| "(same)".to_owned())),
        )?;
        writeln!(f)?;
        let s = &self.sha256;
        let b = &self.bundle;
        writeln!(f, "| CPU-bound | value |")?;
        writeln!(f, "| --- | --- |")?;
        writeln!(f, "| SHA-256, 1 MiB buffers, one core | {} MB/s |", thousands(s.bulk_mb_per_s))?;
        writeln!(
            f,
            "| RFC 6962 leaf hashes of real {}-byte entry lines, one core | {} /s |",
            s.entry_bytes,
            thousands(s.leaf_hashes_per_s)
        )?;
        writeln!(f, "| node hashes, one core | {} /s |", thousands(s.node_hashes_per_s))?;
        writeln!(
            f,
            "| canonical JSON + SHA-256 of a record's content (record owner's share) | {} /s |",
            thousands(s.content_hashes_per_s)
        )?;
        writeln!(
            f,
            "| **hashing ceiling of the sequencer** (one leaf + one node hash per entry, one core) | **{} entries/s** |",
            thousands(s.sequencer_ceiling_per_s)
        )?;
        writeln!(
            f,
            "| **bundle verification** (`verify_bundle`: parse, issuer signature, log signature, {}-hash inclusion proof at {} entries, {} witness cosignature) | **{}** ({} bytes) |",
            b.proof_hashes,
            thousands(b.tree_size as f64),
            b.witnesses,
            b.verify.us(),
            thousands(b.bundle_bytes as f64)
        )?;
        writeln!(f)?;
        writeln!(f, "| target (issue 4) | required | measured | result |")?;
        writeln!(f, "| --- | --- | --- | --- |")?;
        for t in &self.targets {
            let r = match t.pass {
                Some(true) => "PASS",
                Some(false) => "**FAIL**",
                None => "not measured at this size",
            };
            writeln!(f, "| {} | {} | {} | {} |", t.target, t.required, t.measured, r)?;
        }
        Ok(())
    }
}
