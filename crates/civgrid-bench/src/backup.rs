//! `civgrid-bench backup` (issue 19): `civgrid backup` of a large SQLite database taken while
//! reports keep arriving at a fixed rate, and `civgrid restore` of the result.
//!
//! 1. **The database.** The demo district with `templates` cases replayed through the real
//!    workflow, copied inside the database ([`crate::bulk::copy_cases`]) until it holds
//!    `cases` cases — about 1 KiB each with their transitions and indexes, so 5 GB is some
//!    millions. The copies are not in the trust ledger (they were written behind its back), which
//!    does not matter for copying bytes. `--reuse` keeps a database built before.
//! 2. **Under load.** `civgrid serve` on it, and the open-loop report load of `civgrid-bench
//!    intake` at `rate` reports/s (latency from each report's scheduled send, so a stall shows in
//!    every report that should have gone out meanwhile): first a step with nothing else running
//!    (the baseline), then a step during which `civgrid backup --out FILE` runs from its own
//!    process, as an operator's cron job would. The report latencies of the requests scheduled
//!    while the backup ran are summarised on their own.
//! 3. **Restore.** With the server stopped, `civgrid restore FILE` into a fresh database, timed,
//!    beside the time a plain `cp` of the same file takes on this disk (the floor).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::bulk::{copy_cases, database_version, default_settings, seed_demo, Place};
use crate::intake::{IntakeOptions, Load, StepResult};

/// `civgrid-bench backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The `civgrid` server binary (default: `civgrid` beside this executable).
    #[arg(long, env = "CIVGRID_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// Folder for the database, the backup, the restored copy and the logs.
    #[arg(long, default_value = "bench-data/backup")]
    pub work: PathBuf,
    /// Cases in the database (5 GB is about 4.5 million).
    #[arg(long, default_value_t = 4_500_000)]
    pub cases: usize,
    /// Cases replayed through the workflow, then copied.
    #[arg(long, default_value_t = 1000)]
    pub templates: usize,
    /// Reuse the database in --work if one is there (built by an earlier run).
    #[arg(long)]
    pub reuse: bool,
    /// Build the database and stop.
    #[arg(long)]
    pub prepare_only: bool,
    /// Offered reports per second.
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// Seconds of the baseline step.
    #[arg(long, default_value_t = 30.0)]
    pub baseline_seconds: f64,
    /// Seconds of the step the backup runs in (it starts 5 s in; a backup that outlasts the
    /// step is reported as such).
    #[arg(long, default_value_t = 300.0)]
    pub backup_seconds: f64,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One timed command.
#[derive(Debug, Clone, Serialize)]
pub struct Timed {
    pub what: String,
    pub seconds: f64,
    pub ok: bool,
    /// The command's last output lines.
    pub output: String,
}

/// What `civgrid-bench backup` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub machine: crate::MachineInfo,
    pub database: String,
    pub cases: i64,
    pub database_bytes: u64,
    pub backup_bytes: u64,
    pub server: String,
    pub rate: u32,
    pub baseline: StepResult,
    pub backup_step: StepResult,
    pub during_backup: StepResult,
    pub backup: Timed,
    pub backup_within_step: bool,
    pub restore: Timed,
    pub copy_floor: Timed,
    pub restored_cases: i64,
    pub cases_at_backup_start: i64,
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &self.machine;
        writeln!(f, "### Backup under load and restore — {} ({})", self.database, m.date_utc)?;
        writeln!(f)?;
        writeln!(
            f,
            "Machine: {} CPUs ({}), {:.0} GiB. Database: {} cases, {:.2} GiB on disk ({} bytes). Server: {}.",
            m.nproc,
            m.cpu_model,
            gib(m.mem_total_bytes),
            self.cases,
            gib(self.database_bytes),
            self.database_bytes,
            self.server.trim()
        )?;
        writeln!(f)?;
        writeln!(f, "| step | scheduled | acknowledged | errors | achieved /s | p50 ms | p99 ms | p99.9 ms | max ms | civgrid CPU | machine busy |")?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|---|---|")?;
        for (label, s) in [
            ("baseline (no backup)", &self.baseline),
            ("whole step with the backup", &self.backup_step),
            ("**while `civgrid backup` ran**", &self.during_backup),
        ] {
            let errors = if s.errors.is_empty() {
                "0".to_owned()
            } else {
                s.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
            };
            writeln!(
                f,
                "| {label} ({}/s) | {} | {} | {errors} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} % |",
                self.rate,
                s.scheduled,
                s.acknowledged,
                s.achieved_per_sec,
                s.latency.p50_ms,
                s.latency.p99_ms,
                s.latency.p999_ms,
                s.latency.max_ms,
                s.server_cpu_cores,
                s.machine_cpu_busy * 100.0
            )?;
        }
        writeln!(f)?;
        writeln!(f, "| command | seconds | ok |")?;
        writeln!(f, "|---|---|---|")?;
        for t in [&self.backup, &self.restore, &self.copy_floor] {
            writeln!(f, "| `{}` | {:.1} | {} |", t.what, t.seconds, if t.ok { "yes" } else { "**no**" })?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "Backup file: {:.2} GiB. The backup {} the step. Cases when the backup started: {}; in the restored database: {}.",
            gib(self.backup_bytes),
            if self.backup_within_step { "finished within" } else { "**outlasted**" },
            self.cases_at_backup_start,
            self.restored_cases
        )?;
        Ok(())
    }
}

/// Runs `cmd`, timing it; its output goes to `log`.
fn timed(what: &str, mut cmd: Command, log: &Path) -> anyhow::Result<Timed> {
    let t = Instant::now();
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    let seconds = t.elapsed().as_secs_f64();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    std::fs::write(log, &text)?;
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    let output = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    println!("{what}: {seconds:.1} s, {}", if out.status.success() { "ok" } else { "FAILED" });
    Ok(Timed { what: what.to_owned(), seconds, ok: out.status.success(), output })
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

async fn count_cases(url: &str) -> anyhow::Result<i64> {
    let db = civgrid::db::Db::connect(&url.parse()?, 1).await?;
    let n: i64 = sqlx::query_scalar("select count(*) from case_record").fetch_one(db.pool()).await?;
    db.close().await;
    Ok(n)
}

pub async fn bench_backup(a: &BackupArgs) -> anyhow::Result<Option<BackupReport>> {
    let exe = crate::server_bin(a.server_bin.as_deref())?;
    let db_path = a.work.join("backup-sqlite").join("civgrid.db");
    let place = if a.reuse && db_path.is_file() {
        println!("reusing {}", db_path.display());
        Place::existing_sqlite(&db_path)?
    } else {
        let place = Place::create("sqlite", &a.work, "backup").await?;
        let t = Instant::now();
        seed_demo(&place, a.templates, chrono::Utc::now()).await?;
        println!("replayed {} cases through the workflow in {:.0} s", a.templates, t.elapsed().as_secs_f64());
        let settings = default_settings(&place)?;
        let db = civgrid::app::open_database(&place.url, &settings).await?;
        let t = Instant::now();
        copy_cases(&db, a.cases).await?;
        db.close().await;
        println!("copied to {} cases in {:.0} s", a.cases, t.elapsed().as_secs_f64());
        place
    };
    let url = place.url.as_str().to_owned();
    let database_bytes = file_size(&db_path);
    println!("database: {:.2} GiB", gib(database_bytes));
    if a.prepare_only {
        return Ok(None);
    }
    let db = civgrid::db::Db::connect(&place.url, 1).await?;
    let database = database_version(&db).await;
    db.close().await;

    let out = a.work.join("civgrid.backup");
    let restored_dir = a.work.join("restored");
    for p in [&out, &a.work.join("copy-floor.db")] {
        if p.exists() {
            std::fs::remove_file(p)?;
        }
    }
    if restored_dir.exists() {
        std::fs::remove_dir_all(&restored_dir)?;
    }
    std::fs::create_dir_all(&restored_dir)?;

    let options = IntakeOptions {
        exe: exe.clone(),
        database_url: url.clone(),
        backend: "sqlite".into(),
        rates: vec![a.rate],
        step_seconds: a.baseline_seconds,
        warmup_seconds: 0.0,
        closed_loop_connections: 0,
        max_in_flight: 512,
        worker_share: 0.1,
        worker_username: "gw_440604010001".into(),
        worker_password: civgrid::demo::DEMO_PASSWORD.into(),
        worker_community: "440604010001".into(),
        server_log: a.work.join("serve.log"),
        server_args: vec!["--trusted-proxy".into(), "127.0.0.1".into()],
        seed: 7,
    };
    let load = Load::start(&options).await?;
    let server = load.server_version.clone();
    println!("warming up …");
    let _ = load.open_step_during(300, 5.0, 1, Duration::ZERO, async {}).await;
    let (baseline, _, _) = load.open_step_during(a.rate, a.baseline_seconds, 2, Duration::ZERO, async {}).await;
    println!("baseline: p99 {:.2} ms, {} errors kinds", baseline.latency.p99_ms, baseline.errors.len());

    let cases_at_backup_start = count_cases(&url).await?;
    let mut cmd = Command::new(&exe);
    cmd.arg("--database").arg(&url).arg("backup").arg("--out").arg(&out);
    let log = a.work.join("backup.log");
    let job = async {
        let (cmd, log) = (cmd, log.clone());
        tokio::task::spawn_blocking(move || timed("civgrid backup --out FILE", cmd, &log)).await
    };
    let (backup_step, during_backup, (_, end, backup)) =
        load.open_step_during(a.rate, a.backup_seconds, 3, Duration::from_secs(5), job).await;
    let backup = backup??;
    let backup_within_step =
        end <= Instant::now() && backup.seconds + 5.0 <= a.backup_seconds && during_backup.scheduled > 0;
    println!(
        "during the backup: p99 {:.2} ms over {} reports; whole step p99 {:.2} ms",
        during_backup.latency.p99_ms, during_backup.scheduled, backup_step.latency.p99_ms
    );
    load.stop();
    let backup_bytes = file_size(&out);

    let target = restored_dir.join("civgrid.db");
    let mut cmd = Command::new(&exe);
    cmd.arg("--database").arg(format!("sqlite://{}", target.display())).arg("restore").arg(&out);
    let restore = timed("civgrid restore FILE", cmd, &a.work.join("restore.log"))?;
    let restored_cases = if restore.ok { count_cases(&format!("sqlite://{}", target.display())).await? } else { 0 };
    let mut cmd = Command::new("cp");
    cmd.arg(&out).arg(a.work.join("copy-floor.db"));
    let copy_floor = timed("cp FILE (the floor)", cmd, &a.work.join("cp.log"))?;
    let _ = std::fs::remove_file(a.work.join("copy-floor.db"));

    Ok(Some(BackupReport {
        machine: crate::MachineInfo::current(),
        database,
        cases: cases_at_backup_start,
        database_bytes,
        backup_bytes,
        server,
        rate: a.rate,
        baseline,
        backup_step,
        during_backup,
        backup,
        backup_within_step,
        restore,
        copy_floor,
        restored_cases,
        cases_at_backup_start,
    }))
}
