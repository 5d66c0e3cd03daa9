//! `civgrid-bench ledger`: the trust ledger's speed (issue 4, "Speed"), measured through the
//! code the platform runs: [`append_batch_in`] / [`append_in`] inside record transactions, the
//! sequencer loop ([`Ledger::run_sequencer`]), [`Ledger::inclusion_proof`], and
//! `civgrid_ledger::bundle::verify_bundle`, on a fresh SQLite file (and a fresh PostgreSQL schema
//! when given) opened with the application's pool settings and migrations.
//!
//! What it measures, in one run:
//! 1. the SHA-256 ceiling on this machine (bulk MB/s, entry leaf hashes/s, node hashes/s);
//! 2. durable appends/s: writers commit transactions of `--batch` entries each while the
//!    sequencer integrates them; the clock runs from the first append until the last entry is
//!    covered by a signed checkpoint (on SQLite this run builds the `--entries` tree);
//! 3. single-entry transactions/s (one commit per entry), for honesty;
//! 4. append → signed checkpoint latency at a steady rate with the sequencer every 200 ms;
//! 5. inclusion-proof latency at the tree's size: no cache, first touch (cold) and repeated
//!    (warm) through the node cache, with the in-memory core (`MemoryStore`) beside it;
//! 6. bundle verification (a real certificate bundle with one witness cosignature).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{thousands, MachineInfo, TargetCheck};
use anyhow::Context as _;
use civgrid_ledger::bundle::{sign_certificate, verify_bundle, Bundle};
use civgrid_ledger::cosignature::Cosigner;
use civgrid_ledger::verify::verify_inclusion;
use civgrid_ledger::{leaf_hash, node_hash, Entry, Hash, MemoryStore};
use clap::Args;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use civgrid::config::Settings;
use civgrid::db::{Backend, DatabaseUrl, Db};
use civgrid::ledger::{append_batch_in, append_in, Ledger, LedgerKeys, WitnessPolicy};

/// Entry kind of the benchmark's records.
pub const RECORD_KIND: &str = "bench_record";

const ACTIONS: [&str; 6] = ["report", "accept", "dispatch", "handle", "verify", "close"];

/// `civgrid-bench ledger`.
#[derive(Debug, Clone, Args)]
pub struct LedgerBenchArgs {
    /// Entries in the SQLite log (the durable-append run builds this tree; proofs are measured
    /// at this size).
    #[arg(long, default_value_t = 10_000_000)]
    pub entries: u64,
    /// A postgres:// URL: the same runs in a scratch schema created there and dropped afterwards.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Entries appended in the PostgreSQL durable-append run.
    #[arg(long, default_value_t = 1_000_000)]
    pub postgres_entries: u64,
    /// Entries per record transaction in the durable-append run.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent writer tasks in the durable-append run.
    #[arg(long, default_value_t = 4)]
    pub writers: usize,
    /// Single-entry transactions.
    #[arg(long, default_value_t = 5000)]
    pub single: usize,
    /// Concurrent tasks committing single-entry transactions.
    #[arg(long, default_value_t = 32)]
    pub single_concurrency: usize,
    /// Entries per second in the append → checkpoint latency run.
    #[arg(long, default_value_t = 100.0)]
    pub latency_rate: f64,
    /// Seconds of the latency run.
    #[arg(long, default_value_t = 20.0)]
    pub latency_seconds: f64,
    /// Sequencer interval in milliseconds (the application runs it every 200 ms).
    #[arg(long, default_value_t = 200)]
    pub sequencer_ms: u64,
    /// Random leaves whose inclusion proofs are timed.
    #[arg(long, default_value_t = 10_000)]
    pub proofs: usize,
    /// Timed bundle verifications.
    #[arg(long, default_value_t = 2000)]
    pub verifications: usize,
    #[arg(long, default_value_t = 4)]
    pub seed: u64,
    /// The pool's size (the application's default for the database when not given).
    #[arg(long)]
    pub db_max_connections: Option<u32>,
    /// Folder for the scratch SQLite database (default: a fresh temporary folder). Removed
    /// afterwards either way.
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Also write the report as Markdown here.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The record the benchmark logs as number `n`: about the size of a case transition's canonical
/// projection (~150 bytes of canonical JSON).
pub fn bench_record(n: u64) -> (String, Value) {
    let content = json!({
        "record": n,
        "case": n / 6,
        "action": ACTIONS[(n % 6) as usize],
        "by": format!("staff_{:04}", n % 997),
        "at": "2026-11-22T08:00:00.000Z",
        "note": "benchmark record",
    });
    (format!("r{n:010}"), content)
}

/// Appends records `range` as transactions of `batch` entries ([`append_batch_in`]), from
/// `writers` concurrent tasks, as fast as the database commits them.
pub async fn append_concurrently(db: &Db, range: Range<u64>, batch: usize, writers: usize) -> anyhow::Result<()> {
    let batch = batch.max(1) as u64;
    let next = Arc::new(AtomicU64::new(range.start));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers.max(1) {
        let (db, next, end) = (db.clone(), next.clone(), range.end);
        tasks.spawn(async move {
            loop {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                if first >= end {
                    return Ok::<(), anyhow::Error>(());
                }
                let records: Vec<(String, Value)> = (first..(first + batch).min(end)).map(bench_record).collect();
                let now = civgrid::db::now_text();
                let t = Instant::now();
                // As record owners write: through `Db::write` (a transaction per call on
                // PostgreSQL; SQLite's group committer, which the sequencer also queues behind).
                let written = db
                    .write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
                        Box::pin(async move {
                            append_batch_in(tx, RECORD_KIND, &records, &now).await?;
                            Ok(())
                        })
                    })
                    .await;
                written.with_context(|| {
                    format!("transaction of records {first}… failed after {:.1} s", t.elapsed().as_secs_f64())
                })?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("writer task panicked")??;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Report

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
    fn of(samples: &[Duration]) -> Dist {
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

    fn us(&self) -> String {
        format!("p50 {:.1} µs, p99 {:.1} µs (max {:.0} µs)", self.p50_us, self.p99_us, self.max_us)
    }

    fn ms(&self) -> String {
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

// ---------------------------------------------------------------------------------------------
// Running

/// A scratch database, removed on drop (SQLite folder) or by [`Place::remove`] (PG schema).
struct Place {
    url: DatabaseUrl,
    dir: Option<PathBuf>,
    pg: Option<(DatabaseUrl, String)>,
}

impl Place {
    fn sqlite(work: Option<&Path>) -> anyhow::Result<Place> {
        let dir = match work {
            Some(w) => w.join(format!("civgrid-bench-ledger-{}", std::process::id())),
            None => std::env::temp_dir().join(format!("civgrid-bench-ledger-{}", std::process::id())),
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}", dir.join("ledger.db").display()).parse()?;
        Ok(Place { url, dir: Some(dir), pg: None })
    }

    async fn postgres(admin: &str) -> anyhow::Result<Place> {
        let admin: DatabaseUrl = admin.parse()?;
        anyhow::ensure!(admin.backend() == Backend::Postgres, "--postgres must be a postgres:// URL");
        let schema = format!("civgrid_bench_ledger_{}", std::process::id());
        let db = Db::connect(&admin, 1).await?;
        sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(db.pool()).await?;
        sqlx::query(&format!("create schema {schema}")).execute(db.pool()).await?;
        db.close().await;
        let sep = if admin.as_str().contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}options=-c%20search_path%3D{schema}", admin.as_str()).parse()?;
        Ok(Place { url, dir: None, pg: Some((admin, schema)) })
    }

    async fn remove(&mut self) -> anyhow::Result<()> {
        if let Some((admin, schema)) = self.pg.take() {
            let db = Db::connect(&admin, 1).await?;
            sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(db.pool()).await?;
            db.close().await;
        }
        if let Some(dir) = self.dir.take() {
            std::fs::remove_dir_all(&dir)?;
        }
        Ok(())
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn origin() -> &'static str {
    "bench.civgrid.local/ledger"
}

/// Warnings and errors to stderr (the report goes to stdout); sqlx's slow-statement warnings,
/// which would print every multi-row INSERT, only with `CIVGRID_LOG=warn`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CIVGRID_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// The application's settings for the scratch database (its defaults, the pool as given).
fn settings_for(a: &LedgerBenchArgs, url: &DatabaseUrl) -> anyhow::Result<Settings> {
    let mut settings = Settings::for_database(url)?;
    if let Some(n) = a.db_max_connections {
        settings.db_max_connections = n;
    }
    Ok(settings)
}

/// Runs everything; see the module docs.
pub async fn run(a: &LedgerBenchArgs) -> anyhow::Result<LedgerBenchReport> {
    init_logging();
    anyhow::ensure!(a.entries > 0 && a.postgres_entries > 0, "--entries must be positive");
    anyhow::ensure!(a.latency_rate > 0.0 && a.latency_seconds > 0.0, "the latency run needs a rate and a duration");
    let machine = MachineInfo::current();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let cosigner = Cosigner::generate("witness.bench.civgrid.local/w1")?;
    let policy = WitnessPolicy::parse(&[format!("audit {} http://127.0.0.1:9/unused", cosigner.vkey())], None)
        .map_err(|e| anyhow::anyhow!(e))?;
    let keys = LedgerKeys::generate(origin())?;

    println!("SHA-256 ceiling (one core) …");
    let sha256 = tokio::task::spawn_blocking(sha_ceiling).await?;

    let mut place = Place::sqlite(a.work.as_deref())?;
    let outcome = async {
        let db = civgrid::app::open_database(&place.url, &settings_for(a, &place.url)?).await?;
        let ledger = Ledger::new(db.clone(), keys.clone(), policy.clone());
        let run = run_backend(a, &ledger, a.entries).await?;
        println!("bundle verification …");
        let bundle = bundle_run(&ledger, &cosigner, a.verifications).await?;
        db.close().await;
        Ok::<_, anyhow::Error>((run, bundle))
    }
    .await;
    place.remove().await?;
    let (sqlite, bundle) = outcome?;

    println!("in-memory core: MemoryStore of {} leaves …", sqlite.proofs.tree_size);
    let (size, samples, seed) = (sqlite.proofs.tree_size, a.proofs, a.seed);
    let (memory_store_build_seconds, memory_store_proof) =
        tokio::task::spawn_blocking(move || memory_store_proofs(size, samples, seed)).await??;

    let postgres = match &a.postgres {
        None => None,
        Some(url) => {
            let mut place = Place::postgres(url).await?;
            let outcome = async {
                let db = civgrid::app::open_database(&place.url, &settings_for(a, &place.url)?).await?;
                let ledger = Ledger::new(db.clone(), keys.clone(), policy.clone());
                let run = run_backend(a, &ledger, a.postgres_entries).await;
                db.close().await;
                run
            }
            .await;
            place.remove().await?;
            Some(outcome?)
        }
    };

    let targets = targets(&sqlite, &sha256);
    Ok(LedgerBenchReport {
        machine,
        command,
        sha256,
        sqlite,
        postgres,
        memory_store_proof,
        memory_store_build_seconds,
        bundle,
        targets,
    })
}

async fn run_backend(a: &LedgerBenchArgs, ledger: &Ledger, entries: u64) -> anyhow::Result<BackendRun> {
    let db = ledger.db();
    let settings = durability(db).await;
    let name = db.backend().as_str();
    println!("{name}: {settings}");
    let every = Duration::from_millis(a.sequencer_ms.max(1));

    println!("{name}: durable appends, {entries} entries in transactions of {} from {} writers …", a.batch, a.writers);
    let appends = durable_appends(ledger, 0..entries, a.batch, a.writers, every).await?;
    println!(
        "{name}: {:.0} entries/s durable and checkpointed ({:.1} s); {:.0}/s committed",
        appends.durable_per_s, appends.seconds, appends.committed_per_s
    );

    let lookup_plan = query_plan(
        db,
        "select level, idx, hash from ledger_node where (level, idx) in (values ($1, 5), (1, $2), (8, 0))",
    )
    .await;
    let sequence_plan = query_plan(db, &civgrid::ledger::sequence_sql(db.backend())).await;
    println!("{name}: node lookup plan: {lookup_plan}");
    println!("{name}: sequencing plan: {sequence_plan}");
    println!("{name}: inclusion proofs at {entries} …");
    let proofs = proof_run(ledger, a.proofs, a.seed).await?;
    println!(
        "{name}: proofs no cache {} | cold {} | warm {} | tree resident (loaded in {} ms) {}",
        proofs.no_cache.us(),
        proofs.cold.us(),
        proofs.warm.us(),
        proofs.load_ms,
        proofs.resident.us()
    );

    let mut next = entries;
    let mut single = Vec::new();
    println!("{name}: {} single-entry transactions …", a.single);
    single.push(single_entries(ledger, next..next + a.single as u64, a.single_concurrency, false, every).await?);
    next += a.single as u64;
    if db.backend() == Backend::Sqlite {
        single.push(single_entries(ledger, next..next + a.single as u64, a.single_concurrency, true, every).await?);
        next += a.single as u64;
    }
    for s in &single {
        println!("{name}: {}: {:.0}/s", s.path, s.per_s);
    }

    println!("{name}: append → checkpoint latency, {} entries/s for {} s …", a.latency_rate, a.latency_seconds);
    let latency = checkpoint_latency(ledger, next, a.latency_rate, a.latency_seconds, every).await?;
    println!("{name}: append → signed checkpoint {}", latency.latency.ms());

    Ok(BackendRun { backend: name.to_owned(), settings, appends, single, latency, lookup_plan, sequence_plan, proofs })
}

/// Version and durability settings as the pool's connections see them.
async fn durability(db: &Db) -> String {
    match db.backend() {
        Backend::Sqlite => {
            let version: String =
                sqlx::query_scalar("select sqlite_version()").fetch_one(db.pool()).await.unwrap_or_default();
            let sync: i64 = sqlx::query_scalar("pragma synchronous").fetch_one(db.pool()).await.unwrap_or(-1);
            let mode: String = sqlx::query_scalar("pragma journal_mode").fetch_one(db.pool()).await.unwrap_or_default();
            let sync = ["OFF", "NORMAL", "FULL", "EXTRA"].get(sync as usize).copied().unwrap_or("?");
            format!("SQLite {version}, journal_mode={mode}, synchronous={sync}")
        }
        Backend::Postgres => {
            let setting = |name: &'static str| async move {
                sqlx::query_scalar::<_, String>(&format!("select current_setting('{name}')"))
                    .fetch_one(db.pool())
                    .await
                    .unwrap_or_default()
            };
            format!(
                "PostgreSQL {}, fsync={}, synchronous_commit={}, wal_sync_method={}",
                setting("server_version").await,
                setting("fsync").await,
                setting("synchronous_commit").await,
                setting("wal_sync_method").await
            )
        }
    }
}

/// How the database plans `sql` (not run): a full scan in the node lookup or the sequencing
/// statement would be fatal at 10 M entries.
async fn query_plan(db: &Db, sql: &str) -> String {
    let plan: Result<Vec<String>, sqlx::Error> = match db.backend() {
        Backend::Sqlite => sqlx::query(&format!("explain query plan {sql}"))
            .bind(0i64)
            .bind(20_000i64)
            .fetch_all(db.pool())
            .await
            .map(|rows| rows.iter().filter_map(|r| sqlx::Row::try_get::<String, _>(r, "detail").ok()).collect()),
        Backend::Postgres => sqlx::query_scalar::<_, String>(&format!("explain (costs off) {sql}"))
            .bind(0i64)
            .bind(20_000i64)
            .fetch_all(db.pool())
            .await
            .map(|lines| lines.iter().map(|l| l.trim().trim_start_matches("-> ").trim().to_owned()).collect()),
    };
    plan.map(|p| p.join("; ")).unwrap_or_else(|e| format!("unknown ({e})"))
}

async fn checkpoint_size(db: &Db) -> anyhow::Result<u64> {
    let size: Option<i64> = sqlx::query_scalar("select max(size) from ledger_checkpoint").fetch_one(db.pool()).await?;
    Ok(size.map_or(0, |s| s as u64))
}

async fn checkpoint_count(db: &Db) -> anyhow::Result<u64> {
    let n: i64 = sqlx::query_scalar("select count(*) from ledger_checkpoint").fetch_one(db.pool()).await?;
    Ok(n as u64)
}

/// Writers append `range` in batches while the sequencer loop runs; timed until a signed
/// checkpoint covers every entry.
async fn durable_appends(
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
async fn single_entries(
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
                    let mut tx = db.begin().await?;
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
        "single-entry transactions (`begin`, `append_in`, `commit`: one fsync each)"
    };
    Ok(SingleRun { path: path.to_owned(), transactions: count, concurrency, seconds, per_s: count as f64 / seconds })
}

/// One writer commits single entries at `rate`; an observer reads the newest checkpoint every
/// 2 ms and notes when it first covers each entry.
async fn checkpoint_latency(
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
                let mut tx = db.begin().await?;
                append_in(&mut tx, RECORD_KIND, &reference, &content, &now).await?;
                tx.commit().await?;
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
async fn proof_run(ledger: &Ledger, samples: usize, seed: u64) -> anyhow::Result<ProofRun> {
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
async fn bundle_run(ledger: &Ledger, cosigner: &Cosigner, iterations: usize) -> anyhow::Result<BundleRun> {
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
    let mut tx = ledger.db().begin().await?;
    append_in(&mut tx, KIND, reference, &content, &civgrid::db::now_text()).await?;
    tx.commit().await?;
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
fn memory_store_proofs(size: u64, samples: usize, seed: u64) -> anyhow::Result<(f64, Dist)> {
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

fn sha_ceiling() -> ShaCeiling {
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

fn targets(sqlite: &BackendRun, sha: &ShaCeiling) -> Vec<TargetCheck> {
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

// ---------------------------------------------------------------------------------------------
// Display

impl LedgerBenchReport {
    fn column<'a>(&'a self, f: impl Fn(&'a BackendRun) -> String) -> (String, Option<String>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let dist = Dist::of(&d);
        assert_eq!((dist.p50_us, dist.p99_us, dist.max_us), (50.0, 99.0, 100.0));
        assert_eq!(Dist::of(&[]).samples, 0);
    }

    #[test]
    fn bench_records_are_valid_entries() {
        let (reference, content) = bench_record(1_234);
        assert!(Entry::for_content(RECORD_KIND, &reference, &content).is_ok());
        assert_eq!(thousands(1234567.8), "1,234,568");
    }
}
