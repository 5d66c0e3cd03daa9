//! `civgrid-bench services` (issue 5): a year of a busy district's one-window services —
//! 1,500,000 applications by default — on SQLite or in a scratch PostgreSQL schema; statistics
//! queries timed through `Services::statistics`, and acceptance with material reuse timed over
//! loopback HTTP against this executable serving the prepared database.
//!
//! **How the applications are made** (as the indicator benchmark makes its cases, see
//! [`crate::bulk`]). A few hundred to a few thousand applications are replayed through the real
//! service at past instants over the last year, in order ([`replay`]): submissions at windows and
//! online, with materials attached from the applicant's e-licences and earlier applications,
//! one-time missing-materials notices and the complete submission after them, refusals,
//! suspensions for special steps, parallel approvals decided department by department, some
//! rejections, conclusions issuing e-licences (which later applications then attach), ratings
//! of applications and window visits, appeals of bad ratings — every one a `Services` call.
//! The concluded applications, with their visits, materials, approval steps and ratings, and
//! every refusal and missing-materials notice with its visit, are then copied inside the
//! database (`INSERT … SELECT`, ids offset per copy) into the same tables and columns the store
//! writes, until there are N applications. Each copy is moved by a whole number of weeks, back or
//! forward (a pseudo-random function of the application and the copy, among the shifts that keep
//! it inside the year and all it did in the past), so weekdays, working hours and every stored
//! working-time span stay valid (the demo calendar has no holidays) and the copies are spread
//! evenly over the year before now. Applications still open are not copied: one accepted months
//! ago and still open would be an artefact of the copying. Copies are not in the ledger (as the
//! indicator copies are not), keep their template's applicant and e-licence numbers, and carry
//! derived notice numbers. The statistics the service keeps per hour, day and month are then
//! rebuilt from the records, as after restoring a database.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration as StdDuration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;

use crate::bulk::{
    advance_identity, copy_hash_sql, copy_in_batches, database_version, default_settings, maintain, number_sql,
    seed_demo, shifted_sql, timed, Place,
};
use civgrid::cases::calendar::Calendar;
use civgrid::db::{Backend, Db, LocalTime};
use civgrid::demo::{account, pick, weighted, working_instant};
use civgrid::demo::{DEMO_PASSWORD, DISTRICT_CODE};
use civgrid::identity::{CreditCode, ResidentId};
use civgrid::services::applications::{ApplicantInput, Channel, MaterialInput, NewApplication, NewRefusal, Outcome};
use civgrid::services::approvals::{CheckInput, DecisionInput, SuspendInput};
use civgrid::services::catalogue::{ApplicantType, MaterialSpec, ServiceItem};
use civgrid::services::ratings::{AppealDecisionInput, AppealInput, NewRating};
use civgrid::services::statistics::GroupBy;
use civgrid::staff::{Principal, Role};
use civgrid::web::AppState;

mod copies;
mod measure;
mod replay;

use copies::*;
use measure::*;
use replay::*;

/// The SQL of the local (UTC+8) day of a stored timestamp, as the server's stores write it.
fn local_day_sql(dialect: Backend, expr: &str) -> String {
    dialect.local_time(expr, LocalTime::Day)
}

/// `civgrid-bench services`.
#[derive(Debug, Clone, Args)]
pub struct ServicesArgs {
    /// The `civgrid` server binary to start (default: `civgrid` beside this executable).
    #[arg(long, env = "CIVGRID_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// `sqlite`, or a postgres:// URL (scratch schema, dropped afterwards unless --keep).
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    #[arg(long, default_value = "bench-data/services")]
    pub work: PathBuf,
    /// Applications in the database, over one year.
    #[arg(long, default_value_t = 1_500_000)]
    pub applications: usize,
    /// Applications replayed through the real service, then copied.
    #[arg(long, default_value_t = 1500)]
    pub templates: usize,
    /// Timed runs of each statistics query (after one untimed run).
    #[arg(long, default_value_t = 20)]
    pub repeat: usize,
    /// Acceptances with material reuse timed over loopback HTTP, one at a time (0 skips them).
    #[arg(long, default_value_t = 2000)]
    pub requests: usize,
    /// Untimed acceptances before the timed ones.
    #[arg(long, default_value_t = 100)]
    pub warmup: usize,
    /// Keep the database (SQLite file or PostgreSQL schema) afterwards.
    #[arg(long)]
    pub keep: bool,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// What the replay did through the service.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplaySummary {
    pub submissions: usize,
    pub accepted: usize,
    pub online: usize,
    pub missing_notices: usize,
    pub refusals: usize,
    pub suspensions: usize,
    pub decisions: usize,
    pub approved: usize,
    pub rejected: usize,
    pub licences_issued: usize,
    pub materials_from_licences: usize,
    pub materials_from_earlier: usize,
    pub ratings: usize,
    pub appeals: usize,
}

/// One timed statistics query.
#[derive(Debug, Clone, Serialize)]
pub struct StatisticsTiming {
    pub by: String,
    /// The one department asked about, or none for the whole district.
    pub department: Option<String>,
    pub period: String,
    /// Applications accepted in the period (within the department).
    pub accepted: i64,
    /// Rows (keys) in the answer.
    pub rows: usize,
    pub runs: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Acceptances over loopback HTTP.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceTiming {
    pub item: String,
    pub warmup: usize,
    /// Materials attached from the e-licence library or an earlier application, per request.
    pub materials_reused: usize,
    /// Materials handed in with each request.
    pub materials_submitted: usize,
    pub latency: crate::intake::Latency,
}

/// What `civgrid-bench services` measured.
#[derive(Debug, Clone, Serialize)]
pub struct ServicesReport {
    pub machine: crate::MachineInfo,
    pub database: String,
    pub applications: i64,
    pub materials: i64,
    pub steps: i64,
    pub notices: i64,
    pub ratings: i64,
    pub templates: usize,
    pub replay: ReplaySummary,
    pub seed_seconds: f64,
    pub copy_seconds: f64,
    pub rebuild_seconds: f64,
    pub statistics: Vec<StatisticsTiming>,
    pub acceptance: Option<AcceptanceTiming>,
    pub notes: Vec<String>,
}

impl std::fmt::Display for ServicesReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "### Services over {} applications — {} ({})",
            self.applications, self.database, self.machine.date_utc
        )?;
        writeln!(f)?;
        let r = &self.replay;
        writeln!(
            f,
            "{} applications, {} materials, {} approval steps, {} notices, {} ratings. {} applications replayed \
             through the service in {:.0} s ({} accepted, {} online, {} missing-materials notices, {} refusals, \
             {} suspensions, {} decisions, {} approved, {} rejected, {} e-licences issued, {} materials attached \
             from e-licences and {} from earlier applications, {} ratings, {} appeals), copied in {:.0} s; the \
             statistics kept per hour, day and month rebuilt from the records in {:.1} s.",
            self.applications,
            self.materials,
            self.steps,
            self.notices,
            self.ratings,
            self.templates,
            self.seed_seconds,
            r.accepted,
            r.online,
            r.missing_notices,
            r.refusals,
            r.suspensions,
            r.decisions,
            r.approved,
            r.rejected,
            r.licences_issued,
            r.materials_from_licences,
            r.materials_from_earlier,
            r.ratings,
            r.appeals,
            self.copy_seconds,
            self.rebuild_seconds,
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "| statistics by | department | period | accepted in period | rows | runs | p50 ms | p99 ms | max ms |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|")?;
        for t in &self.statistics {
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
                t.by,
                t.department.as_deref().unwrap_or("whole district"),
                t.period,
                t.accepted,
                t.rows,
                t.runs,
                t.p50_ms,
                t.p99_ms,
                t.max_ms
            )?;
        }
        if let Some(a) = &self.acceptance {
            writeln!(f)?;
            writeln!(
                f,
                "| acceptance over loopback HTTP | requests | reused per request | p50 ms | p90 ms | p99 ms | max ms |"
            )?;
            writeln!(f, "|---|---|---|---|---|---|---|")?;
            writeln!(
                f,
                "| {} ({} submitted, one at a time, after {} warm-up) | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                a.item,
                a.materials_submitted,
                a.warmup,
                a.latency.count,
                a.materials_reused,
                a.latency.p50_ms,
                a.latency.p90_ms,
                a.latency.p99_ms,
                a.latency.max_ms
            )?;
        }
        if !self.notes.is_empty() {
            writeln!(f)?;
        }
        for n in &self.notes {
            writeln!(f, "- {n}")?;
        }
        Ok(())
    }
}

/// Builds a database of `--applications` applications over a year and times statistics and
/// acceptance on it.
pub async fn bench_services(a: &ServicesArgs) -> anyhow::Result<ServicesReport> {
    let place = Place::create(&a.backend, &a.work, "services").await?;
    let result = run(a, &place).await;
    place.finish(a.keep, result).await
}

async fn run(a: &ServicesArgs, place: &Place) -> anyhow::Result<ServicesReport> {
    let now = Utc::now();
    let t = Instant::now();
    seed_demo(place, 0, now).await?;
    let settings = default_settings(place)?;
    let db = civgrid::app::open_database(&place.url, &settings).await?;
    let state = civgrid::app::state(db.clone(), &settings).await?;
    let replayed = replay(&state, a.templates, now).await?;
    let seed_seconds = t.elapsed().as_secs_f64();
    println!("replayed {} applications through the service in {seed_seconds:.1} s: {replayed:?}", a.templates);

    let t = Instant::now();
    copy_applications(&db, a.applications, now).await?;
    let copy_seconds = t.elapsed().as_secs_f64();
    let count = |table: &'static str| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}")).fetch_one(db.pool()).await }
    };
    let applications = count("service_application").await?;
    println!("{applications} applications after {copy_seconds:.1} s of copying");
    let t = Instant::now();
    state.services.rebuild_statistics().await?;
    let rebuild_seconds = t.elapsed().as_secs_f64();
    println!("kept statistics rebuilt from the records in {rebuild_seconds:.1} s");

    let statistics = time_statistics(&state, now, a.repeat).await?;
    let acceptance = if a.requests > 0 { Some(time_acceptance(a, place, &state).await?) } else { None };
    let database = database_version(&db).await;
    let report = ServicesReport {
        machine: crate::MachineInfo::current(),
        database,
        applications,
        materials: count("service_material").await?,
        steps: count("service_step").await?,
        notices: count("service_notice").await?,
        ratings: count("service_rating").await?,
        templates: a.templates,
        replay: replayed,
        seed_seconds,
        copy_seconds,
        rebuild_seconds,
        statistics,
        acceptance,
        notes: vec![
            format!(
                "Statistics are timed in-process through `Services::statistics` (pool of {} connections); the \
                 periods end where the replay ended (the start of the run). Acceptance is timed at the client, \
                 from sending the request to the end of the response, against `civgrid serve` (release, its \
                 defaults) on the same database; the requests name no contact, so no notification is queued.",
                settings.db_max_connections
            ),
            "Copies are made of concluded applications only (one accepted months ago and still open would be \
             an artefact), so the open applications are the replay's own; copies are not in the ledger."
                .to_owned(),
        ],
    };
    db.close().await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_people_have_valid_distinct_numbers() {
        let mut rng = StdRng::seed_from_u64(1);
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let all = people(&mut rng, 300, 50, today).unwrap();
        assert_eq!(all.len(), 350);
        assert_eq!(all.iter().map(|a| &a.id).collect::<HashSet<_>>().len(), 350);
        for a in &all {
            match a.kind {
                ApplicantType::Person => assert!(ResidentId::parse(&a.id).is_ok(), "{}", a.id),
                ApplicantType::Entity => assert!(CreditCode::parse(&a.id).is_ok(), "{}", a.id),
            }
        }
        assert!(all.iter().any(|a| a.id.starts_with("440604") && &a.id[6..10] <= "1946"), "some are 80 or more");
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let mut rng = StdRng::seed_from_u64(2);
        let items = [("never", 0), ("often", 9), ("rarely", 1)];
        let picks: Vec<&str> = (0..1000).filter_map(|_| weighted(&mut rng, &items).copied()).collect();
        assert_eq!(picks.len(), 1000);
        assert!(!picks.contains(&"never"));
        assert!(picks.iter().filter(|p| **p == "often").count() > 800);
    }

    /// The SQL that moves copies: whole weeks, back or forward, never out of the year or past
    /// the horizon, in the stored format; local days as the service keys them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn copies_move_by_whole_weeks_inside_the_year() {
        let dir = tempfile::tempdir().unwrap();
        let url: civgrid::db::DatabaseUrl = format!("sqlite://{}", dir.path().join("s.db").display()).parse().unwrap();
        let db = Db::connect(&url, 1).await.unwrap();
        let b = Backend::Sqlite;
        let one = |sql: String| {
            let db = db.clone();
            async move { sqlx::query_scalar::<_, String>(&sql).fetch_one(db.pool()).await.unwrap() }
        };
        let weeks =
            |later: &str, earlier: &str| format!("select cast({} as text)", weeks_between_sql(b, later, earlier));
        assert_eq!(one(weeks("'2026-11-22T10:00:00.000Z'", "'2026-11-01T09:00:00.000Z'")).await, "3");
        assert_eq!(one(weeks("'2026-11-01T09:00:00.000Z'", "'2026-11-22T10:00:00.000Z'")).await, "0");
        let t = "'2026-11-01T10:00:00.000Z'";
        assert_eq!(one(format!("select {}", shifted_sql(b, t, "-2"))).await, "2026-11-15T10:00:00.000Z");
        assert_eq!(one(format!("select {}", shifted_sql(b, t, "3"))).await, "2026-10-11T10:00:00.000Z");
        assert_eq!(one(format!("select {}", local_day_sql(b, "'2026-11-01T16:30:00.000Z'"))).await, "2026-11-02");
        // A template accepted on 1 November and concluded on 10 November, in a year from
        // 1 January to a horizon of 20 November: copies land between 1 January and 20 November.
        let (accepted, concluded) = ("'2026-11-01T10:00:00.000Z'", "'2026-11-10T10:00:00.000Z'");
        let w = spread_sql(b, "7", accepted, concluded, "2026-01-01T00:00:00.000Z", "2026-11-20T00:00:00.000Z");
        let sql = format!(
            "with recursive k(n) as (select 1 union all select n + 1 from k where n < 400)
             select min({a}) || ' ' || max({c}) || ' ' || count(distinct {w}) from k",
            a = shifted_sql(b, accepted, &w),
            c = shifted_sql(b, concluded, &w),
        );
        let got = one(sql).await;
        let parts: Vec<&str> = got.split(' ').collect();
        assert!(parts[0] >= "2026-01-01" && parts[1] <= "2026-11-20", "{got}");
        // 43 weeks back, one forward, or none.
        assert_eq!(parts[2], "45", "{got}");
        db.close().await;
    }

    #[test]
    fn sample_files_prove_their_format() {
        for f in ["pdf", "png", "jpg", "ofd"] {
            let b = sample_file(f, "x");
            assert_eq!(civgrid::services::applications::sniff_format(&b), Some(f));
        }
    }
}
