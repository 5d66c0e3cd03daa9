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

mod measure;
mod report;

use measure::*;
pub use report::*;

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
