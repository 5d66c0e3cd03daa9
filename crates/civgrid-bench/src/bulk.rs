//! Benchmark support that needs the platform itself (issue 3): a fresh seeded demo database on
//! SQLite or in a scratch PostgreSQL schema, the intake benchmark's set-up around
//! [`crate::intake`], and a database of a million cases for the indicator queries.
//!
//! **How the million cases are made.** A few hundred to a few thousand cases are replayed
//! through the real case service at past instants ([`civgrid::demo::seed_cases`]: every report,
//! dispatch, feedback, verification … is a real `Cases` call). Those cases, with their
//! departments and every transition, are then copied into the same tables until there are N
//! cases, each copy moved back in time by a whole number of weeks (so weekdays, working hours
//! and the spans between its steps are unchanged) over three years. The copies are made inside
//! the database (`INSERT … SELECT` from the replayed rows, ids offset per copy) into the same
//! tables and columns the store writes; no other schema is involved. The demo calendar has no
//! holidays, so a copy's stored handling hours are what its feedback would have stored.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use clap::Args;
use serde::Serialize;

use civgrid::cases::indicators::Scope;

use civgrid::config::Settings;
use civgrid::db::{Backend, DatabaseUrl, Db};

/// `civgrid-bench intake`.
#[derive(Debug, Clone, Args)]
pub struct IntakeArgs {
    /// The `civgrid` server binary to start (default: `civgrid` beside this executable).
    #[arg(long, env = "CIVGRID_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
    /// `sqlite`, or a postgres:// URL in whose database a scratch schema is created (and dropped
    /// afterwards).
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    /// Folder for the SQLite database, the server log and nothing else (emptied first).
    #[arg(long, default_value = "bench-data/intake")]
    pub work: PathBuf,
    /// Offered rates of the open-loop steps (reports per second).
    #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,5000")]
    pub rates: Vec<u32>,
    /// Seconds per step.
    #[arg(long, default_value_t = 15.0)]
    pub seconds: f64,
    /// Connections of the closed-loop saturation step (0 skips it).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Most requests open at once in an open-loop step.
    #[arg(long, default_value_t = 512)]
    pub max_in_flight: usize,
    /// Seconds per raw-insert ceiling run.
    #[arg(long, default_value_t = 10.0)]
    pub ceiling_seconds: f64,
    /// The server's pool size (`--db-max-connections`); its default when not given.
    #[arg(long)]
    pub server_pool: Option<u32>,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `civgrid-bench indicators`.
#[derive(Debug, Clone, Args)]
pub struct IndicatorArgs {
    /// `sqlite`, or a postgres:// URL (scratch schema, dropped afterwards unless --keep).
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    #[arg(long, default_value = "bench-data/indicators")]
    pub work: PathBuf,
    /// Cases in the database.
    #[arg(long, default_value_t = 1_000_000)]
    pub cases: usize,
    /// Cases replayed through the real workflow, then copied.
    #[arg(long, default_value_t = 1000)]
    pub templates: usize,
    /// Timed runs of each query (after one untimed run).
    #[arg(long, default_value_t = 20)]
    pub repeat: usize,
    /// Keep the database (SQLite file or PostgreSQL schema) afterwards.
    #[arg(long)]
    pub keep: bool,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// A scratch database: a SQLite file in a fresh folder, or a PostgreSQL schema.
pub(crate) struct Place {
    pub(crate) url: DatabaseUrl,
    /// Ledger signing keys (PostgreSQL needs them named; SQLite keeps them beside the file).
    pub(crate) key_dir: Option<PathBuf>,
    pub(crate) backend: Backend,
    admin_url: Option<DatabaseUrl>,
    schema: Option<String>,
}

impl Place {
    /// Creates the scratch database `name` (and the work folder `work`).
    pub(crate) async fn create(backend: &str, work: &Path, name: &str) -> anyhow::Result<Place> {
        std::fs::create_dir_all(work)?;
        if backend == "sqlite" {
            let dir = work.join(format!("{name}-sqlite"));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            let url: DatabaseUrl = format!("sqlite://{}", dir.join("civgrid.db").display()).parse()?;
            return Ok(Place { url, key_dir: None, backend: Backend::Sqlite, admin_url: None, schema: None });
        }
        let admin: DatabaseUrl = backend.parse()?;
        anyhow::ensure!(admin.backend() == Backend::Postgres, "--backend must be sqlite or a postgres:// URL");
        let schema = format!("civgrid_bench_{name}");
        let db = Db::connect(&admin, 1).await?;
        sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(db.pool()).await?;
        sqlx::query(&format!("create schema {schema}")).execute(db.pool()).await?;
        db.close().await;
        let sep = if admin.as_str().contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}options=-c%20search_path%3D{schema}", admin.as_str()).parse()?;
        let key_dir = work.join(format!("{name}-postgres-ledger-keys"));
        if key_dir.exists() {
            std::fs::remove_dir_all(&key_dir)?;
        }
        Ok(Place {
            url,
            key_dir: Some(key_dir),
            backend: Backend::Postgres,
            admin_url: Some(admin),
            schema: Some(schema),
        })
    }

    /// A SQLite database built by an earlier run.
    pub(crate) fn existing_sqlite(path: &Path) -> anyhow::Result<Place> {
        let url: DatabaseUrl = format!("sqlite://{}", path.display()).parse()?;
        Ok(Place { url, key_dir: None, backend: Backend::Sqlite, admin_url: None, schema: None })
    }

    /// Drops the scratch schema unless it is to be kept, and hands on the run's result.
    pub(crate) async fn finish<T>(&self, keep: bool, result: anyhow::Result<T>) -> anyhow::Result<T> {
        if !keep {
            self.drop_schema().await?;
        }
        result
    }

    async fn drop_schema(&self) -> anyhow::Result<()> {
        if let (Some(admin), Some(schema)) = (&self.admin_url, &self.schema) {
            let db = Db::connect(admin, 1).await?;
            sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(db.pool()).await?;
            db.close().await;
        }
        Ok(())
    }
}

pub(crate) fn default_settings(place: &Place) -> anyhow::Result<Settings> {
    // With the URL, so the defaults that depend on the database (the pool's size) are its.
    let mut settings = Settings::for_database(&place.url)?;
    settings.ledger_key_dir = place.key_dir.clone();
    Ok(settings)
}

/// Seeds the demo district and `cases` demo cases (as `civgrid demo --seed-only` does).
pub(crate) async fn seed_demo(place: &Place, cases: usize, now: DateTime<Utc>) -> anyhow::Result<()> {
    let settings = default_settings(place)?;
    let db = civgrid::app::open_database(&place.url, &settings).await?;
    let state = civgrid::app::state(db.clone(), &settings).await?;
    civgrid::demo::seed(&state.territory, &state.staff, &state.cases).await?;
    civgrid::demo::seed_cases(&state.territory, &state.staff, &state.cases, cases, now).await?;
    db.close().await;
    Ok(())
}

pub(crate) async fn database_version(db: &Db) -> String {
    let q = match db.backend() {
        Backend::Sqlite => "select 'SQLite ' || sqlite_version()",
        Backend::Postgres => "select 'PostgreSQL ' || current_setting('server_version')",
    };
    let version: String = sqlx::query_scalar(q).fetch_one(db.pool()).await.unwrap_or_default();
    if db.backend() == Backend::Sqlite {
        let sync: i64 = sqlx::query_scalar("pragma synchronous").fetch_one(db.pool()).await.unwrap_or(-1);
        let mode: String = sqlx::query_scalar("pragma journal_mode").fetch_one(db.pool()).await.unwrap_or_default();
        let sync = ["OFF", "NORMAL", "FULL", "EXTRA"].get(sync as usize).copied().unwrap_or("?");
        return format!("{version}, journal_mode={mode}, synchronous={sync}");
    }
    let sync: String = sqlx::query_scalar("select current_setting('synchronous_commit')")
        .fetch_one(db.pool())
        .await
        .unwrap_or_default();
    let fsync: String =
        sqlx::query_scalar("select current_setting('fsync')").fetch_one(db.pool()).await.unwrap_or_default();
    format!("{version}, fsync={fsync}, synchronous_commit={sync}")
}

/// Seeds a fresh demo district, serves it from this executable in a separate process, drives
/// it, and measures the raw-insert ceiling of the same database with civgrid's own pool.
pub async fn bench_intake(a: &IntakeArgs) -> anyhow::Result<crate::intake::IntakeReport> {
    let place = Place::create(&a.backend, &a.work, "intake").await?;
    let result = run_intake(a, &place).await;
    place.finish(false, result).await
}

async fn run_intake(a: &IntakeArgs, place: &Place) -> anyhow::Result<crate::intake::IntakeReport> {
    let t = Instant::now();
    seed_demo(place, 400, Utc::now()).await?;
    println!("seeded the demo district with 400 cases in {:.1} s", t.elapsed().as_secs_f64());
    let backend = place.backend.as_str().to_owned();
    let options = crate::intake::IntakeOptions {
        exe: crate::server_bin(a.server_bin.as_deref())?,
        database_url: place.url.as_str().to_owned(),
        backend: backend.clone(),
        rates: a.rates.clone(),
        step_seconds: a.seconds,
        warmup_seconds: 3.0,
        closed_loop_connections: a.connections,
        max_in_flight: a.max_in_flight,
        worker_share: 0.1,
        worker_username: "gw_440604010001".into(),
        worker_password: civgrid::demo::DEMO_PASSWORD.into(),
        worker_community: "440604010001".into(),
        server_log: a.work.join(format!("serve-{backend}.log")),
        // The load generator stands for the office's reverse proxy, naming each citizen in
        // `X-Forwarded-For`, so the anonymous budgets are spent per citizen as in production.
        server_args: ["--trusted-proxy".to_owned(), "127.0.0.1".to_owned()]
            .into_iter()
            .chain(place.key_dir.iter().flat_map(|d| ["--ledger-key-dir".to_owned(), d.display().to_string()]))
            .chain(a.server_pool.iter().flat_map(|n| ["--db-max-connections".to_owned(), n.to_string()]))
            .collect(),
        seed: 3,
    };
    let mut report = crate::intake::run(&options).await?;
    let mut settings = default_settings(place)?;
    if let Some(n) = a.server_pool {
        settings.db_max_connections = n;
    }
    let db = Db::connect(&place.url, settings.db_max_connections).await?;
    report.database = database_version(&db).await;
    let cases: i64 = sqlx::query_scalar("select count(*) from case_record").fetch_one(db.pool()).await?;
    report.notes.push(format!(
        "The server ran with its defaults (pool of {} connections, logs at info to a file). The database held {cases} cases at the end.",
        settings.db_max_connections
    ));
    println!("measuring the raw-insert ceiling …");
    report.ceilings =
        crate::intake::raw_insert_ceiling(db.pool(), &backend, a.ceiling_seconds, settings.db_max_connections as usize)
            .await?;
    db.close().await;
    Ok(report)
}

/// One timed indicator query.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorTiming {
    pub scope: String,
    pub period: String,
    /// Cases filed in the period within the scope (the query's population).
    pub filed: i64,
    pub runs: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What `civgrid-bench indicators` measured.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorReport {
    pub machine: crate::MachineInfo,
    pub database: String,
    pub cases: i64,
    pub transitions: i64,
    pub templates: usize,
    pub seed_seconds: f64,
    pub copy_seconds: f64,
    /// Rebuilding the indicator rows from the copied records (`Cases::rebuild_indicators`).
    pub rebuild_seconds: f64,
    pub timings: Vec<IndicatorTiming>,
}

impl std::fmt::Display for IndicatorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "### Indicators over {} cases — {} ({})", self.cases, self.database, self.machine.date_utc)?;
        writeln!(f)?;
        writeln!(
            f,
            "{} cases and {} transitions; {} replayed through the workflow in {:.0} s, copied in {:.0} s; \
             the indicator rows rebuilt from the records in {:.1} s.",
            self.cases, self.transitions, self.templates, self.seed_seconds, self.copy_seconds, self.rebuild_seconds
        )?;
        writeln!(f)?;
        writeln!(f, "| scope | period | filed in scope | runs | p50 ms | p99 ms | max ms |")?;
        writeln!(f, "|---|---|---|---|---|---|---|")?;
        for t in &self.timings {
            writeln!(
                f,
                "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} |",
                t.scope, t.period, t.filed, t.runs, t.p50_ms, t.p99_ms, t.max_ms
            )?;
        }
        Ok(())
    }
}

/// Builds (or reuses, with the same folder/schema and --keep) a database of `cases` cases and
/// times indicator queries over it through `Cases::indicators`.
pub async fn bench_indicators(a: &IndicatorArgs) -> anyhow::Result<IndicatorReport> {
    let place = Place::create(&a.backend, &a.work, "indicators").await?;
    let result = run_indicators(a, &place).await;
    place.finish(a.keep, result).await
}

/// A database of `cases` cases made from `templates` demo cases replayed through the workflow
/// (then copied inside the database), with the case loop's indicator rows rebuilt, and how long
/// each step took.
pub(crate) struct Loaded {
    pub db: Db,
    pub state: civgrid::web::AppState,
    pub now: DateTime<Utc>,
    pub cases: i64,
    pub seed_seconds: f64,
    pub copy_seconds: f64,
    pub rebuild_seconds: f64,
}

pub(crate) async fn load_cases(place: &Place, templates: usize, cases: usize) -> anyhow::Result<Loaded> {
    let now = Utc::now();
    let t = Instant::now();
    seed_demo(place, templates, now).await?;
    let seed_seconds = t.elapsed().as_secs_f64();
    println!("replayed {templates} cases through the workflow in {seed_seconds:.1} s");

    let settings = default_settings(place)?;
    let db = civgrid::app::open_database(&place.url, &settings).await?;
    let t = Instant::now();
    copy_cases(&db, cases).await?;
    let copy_seconds = t.elapsed().as_secs_f64();
    let cases: i64 = sqlx::query_scalar("select count(*) from case_record").fetch_one(db.pool()).await?;
    println!("{cases} cases after {copy_seconds:.1} s of copying");

    let state = civgrid::app::state(db.clone(), &settings).await?;
    // The copies were written behind the case loop's back: rebuild its rows from the records.
    let t = Instant::now();
    state.cases.rebuild_indicators().await?;
    let rebuild_seconds = t.elapsed().as_secs_f64();
    println!("indicator rows rebuilt in {rebuild_seconds:.1} s");
    Ok(Loaded { db, state, now, cases, seed_seconds, copy_seconds, rebuild_seconds })
}

async fn run_indicators(a: &IndicatorArgs, place: &Place) -> anyhow::Result<IndicatorReport> {
    let Loaded { db, state, now, cases, seed_seconds, copy_seconds, rebuild_seconds } =
        load_cases(place, a.templates, a.cases).await?;
    let transitions: i64 = sqlx::query_scalar("select count(*) from case_transition").fetch_one(db.pool()).await?;
    let handler: i64 =
        sqlx::query_scalar("select id from staff where username = 'handler_cg'").fetch_one(db.pool()).await?;
    let day = |d: i64| now - Duration::days(d);
    let queries: Vec<(String, String, DateTime<Utc>, DateTime<Utc>)> = vec![
        ("area:440604".into(), "last 30 days".into(), day(30), now),
        ("area:440604".into(), "last 90 days".into(), day(90), now),
        ("area:440604".into(), "last 365 days".into(), day(365), now),
        ("area:440604".into(), "all (4 years)".into(), day(4 * 365), now),
        ("area:440604010".into(), "last 365 days".into(), day(365), now),
        ("area:440604010001".into(), "last 365 days".into(), day(365), now),
        ("area:44060401000101".into(), "last 365 days".into(), day(365), now),
        ("department:cgj".into(), "last 30 days".into(), day(30), now),
        ("department:cgj".into(), "last 365 days".into(), day(365), now),
        (format!("person:{handler}"), "last 90 days".into(), day(90), now),
        (format!("person:{handler}"), "last 365 days".into(), day(365), now),
    ];
    let mut timings = Vec::new();
    for (scope_text, period, from, to) in queries {
        let scope = Scope::parse(&scope_text).ok_or_else(|| anyhow::anyhow!("bad scope {scope_text}"))?;
        let (first, l) = timed(a.repeat, || state.cases.indicators(&scope, from, to)).await?;
        println!(
            "{scope_text} {period}: filed {} — p50 {:.1} ms, p99 {:.1} ms",
            first.counts.filed, l.p50_ms, l.p99_ms
        );
        timings.push(IndicatorTiming {
            scope: scope_text,
            period,
            filed: first.counts.filed,
            runs: l.count,
            p50_ms: l.p50_ms,
            p99_ms: l.p99_ms,
            max_ms: l.max_ms,
        });
    }
    let database = database_version(&db).await;
    db.close().await;
    Ok(IndicatorReport {
        machine: crate::MachineInfo::current(),
        database,
        cases,
        transitions,
        templates: a.templates,
        seed_seconds,
        copy_seconds,
        rebuild_seconds,
        timings,
    })
}

/// Runs `query` once untimed, then `repeat` times timed: the first answer and the timings.
pub(crate) async fn timed<T, E, F>(
    repeat: usize,
    mut query: impl FnMut() -> F,
) -> Result<(T, crate::intake::Latency), E>
where
    F: std::future::Future<Output = Result<T, E>>,
{
    let first = query().await?;
    let mut micros = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        query().await?;
        micros.push(t.elapsed().as_micros() as u64);
    }
    Ok((first, crate::intake::Latency::from_micros(micros)))
}

/// SQL for a stored timestamp `col` moved back by `weeks` (an SQL integer expression; negative
/// moves forward) weeks, in the stored format (`YYYY-MM-DDTHH:MM:SS.mmmZ`); NULL stays NULL.
pub(crate) fn shifted_sql(backend: Backend, col: &str, weeks: &str) -> String {
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%dT%H:%M:%fZ', {col}, printf('%+d days', -(({weeks}) * 7)))"),
        Backend::Postgres => format!(
            "to_char(({col}::timestamptz - ({weeks}) * interval '7 days') at time zone 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        ),
    }
}

/// The case number (`YYYYMMDD` of the report day + the id, at least six digits) in SQL.
pub(crate) fn number_sql(backend: Backend, created: &str, id: &str) -> String {
    let day = format!("replace(substr({created}, 1, 10), '-', '')");
    match backend {
        Backend::Sqlite => format!("{day} || printf('%06d', {id})"),
        Backend::Postgres => format!("{day} || lpad(({id})::text, greatest(6, length(({id})::text)), '0')"),
    }
}

/// A pseudo-random number in `0..modulus` (an SQL expression) for copy `k.n` of the template
/// with id `id`, as SQL over the copy numbers of [`copy_in_batches`].
pub(crate) fn copy_hash_sql(id: &str, modulus: &str) -> String {
    format!("((({id}) * 7919 + k.n * 104729) % ({modulus}))")
}

/// Makes copies 1..=`copies` of a set of templates (`per_copy` rows of `what` each) inside the
/// database: `statements` gives the SQL for a batch of copies, each statement starting with the
/// common table expression it is handed (`k(n)`, the batch's copy numbers). One transaction per
/// batch of about 20,000 rows.
pub(crate) async fn copy_in_batches(
    db: &Db,
    copies: i64,
    per_copy: i64,
    what: &str,
    statements: impl Fn(&str) -> Vec<String>,
) -> anyhow::Result<()> {
    let per_statement = (20_000 / per_copy.max(1)).max(1);
    let started = Instant::now();
    let mut k0 = 1;
    while k0 <= copies {
        let k1 = (k0 + per_statement - 1).min(copies);
        let ks = format!("with recursive k(n) as (select {k0} union all select n + 1 from k where n < {k1})");
        let batch = statements(&ks);
        db.write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), sqlx::Error>> {
            Box::pin(async move {
                for sql in batch {
                    sqlx::query(&sql).execute(&mut **tx).await?;
                }
                Ok(())
            })
        })
        .await?;
        if db.backend() == Backend::Sqlite {
            // Start the WAL over after each batch: left alone it only grows (tens of GB for a
            // 5 GB database), the disk fills before the copies end.
            sqlx::query("pragma wal_checkpoint(truncate)").execute(db.pool()).await?;
        }
        let made = k1 * per_copy;
        if (k1 - k0 + 1) * per_copy >= 100_000 || made / 100_000 != (k0 - 1) * per_copy / 100_000 {
            println!("  {made} {what} copied ({:.0} s)", started.elapsed().as_secs_f64());
        }
        k0 = k1 + 1;
    }
    Ok(())
}

/// After copies with explicit ids: moves a PostgreSQL identity past them (SQLite needs nothing).
pub(crate) async fn advance_identity(db: &Db, table: &str) -> anyhow::Result<()> {
    if db.backend() == Backend::Postgres {
        sqlx::query(&format!("select setval(pg_get_serial_sequence('{table}', 'id'), (select max(id) from {table}))"))
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// As a maintained installation would be: statistics and, on PostgreSQL, the visibility map
/// that index-only scans rely on (autovacuum's work; ANALYZE or `pragma optimize` on SQLite).
pub(crate) async fn maintain(db: &Db) -> anyhow::Result<()> {
    let maintain = if db.backend() == Backend::Postgres { "vacuum analyze" } else { "analyze" };
    sqlx::query(maintain).execute(db.pool()).await?;
    Ok(())
}

/// Copies the existing cases (the templates, with their departments and transitions) inside
/// the database until there are `target`: copy *k* of template *t* gets id `t + k·stride` and
/// is moved back by 1–156 weeks, a pseudo-random function of (t, k), over three years.
pub(crate) async fn copy_cases(db: &Db, target: usize) -> anyhow::Result<()> {
    let b = db.backend();
    let templates: i64 = sqlx::query_scalar("select count(*) from case_record").fetch_one(db.pool()).await?;
    let stride: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from case_record").fetch_one(db.pool()).await?;
    anyhow::ensure!(templates > 0, "no cases to copy");
    let copies = ((target as i64 - templates).max(0) + templates - 1) / templates;
    let overriding = if b == Backend::Postgres { "overriding system value" } else { "" };
    let w = format!("({} + 1)", copy_hash_sql("c.id", "156"));
    let created = shifted_sql(b, "c.created_at", &w);
    let new_id = format!("(c.id + k.n * {stride})");
    let shift = |col: &str| shifted_sql(b, &format!("c.{col}"), &w);
    let cases = format!(
        "insert into case_record (id, number, state, channel, description, class_code, class_version, lng,
           lat, grid_code, address, media_url, reporter_name, reporter_contact, lead_department,
           handle_deadline, escalation_level, supervised, extension_requested, rating, rework_count,
           return_count, reported_by, created_at, updated_at, filed_at, dispatched_at, handled_at,
           verified_at, verify_deadline, closed_at, handling_working_hours) {overriding}
         select {new_id}, {number}, c.state, c.channel, c.description, c.class_code, c.class_version, c.lng,
           c.lat, c.grid_code, c.address, c.media_url, c.reporter_name, c.reporter_contact,
           c.lead_department, {deadline}, c.escalation_level, c.supervised, c.extension_requested, c.rating,
           c.rework_count, c.return_count, c.reported_by, {created}, {updated}, {filed}, {dispatched},
           {handled}, {verified}, {verify_deadline}, {closed}, c.handling_working_hours
         from case_record c, k where c.id <= {stride}",
        number = number_sql(b, &created, &new_id),
        deadline = shift("handle_deadline"),
        updated = shift("updated_at"),
        filed = shift("filed_at"),
        dispatched = shift("dispatched_at"),
        handled = shift("handled_at"),
        verified = shift("verified_at"),
        verify_deadline = shift("verify_deadline"),
        closed = shift("closed_at"),
    );
    let transitions = format!(
        "insert into case_transition (case_id, at, actor, role, action, from_state, to_state, note, staff_id)
         select t.case_id + k.n * {stride}, {at}, t.actor, t.role, t.action, t.from_state, t.to_state, t.note,
           t.staff_id
         from case_transition t, k where t.case_id <= {stride} order by k.n, t.id",
        at = shifted_sql(b, "t.at", &format!("({} + 1)", copy_hash_sql("t.case_id", "156"))),
    );
    let departments = format!(
        "insert into case_department (case_id, department_code, role)
         select d.case_id + k.n * {stride}, d.department_code, d.role
         from case_department d, k where d.case_id <= {stride}"
    );
    copy_in_batches(db, copies, templates, "cases", |ks| {
        [&cases, &transitions, &departments].iter().map(|sql| format!("{ks} {sql}")).collect()
    })
    .await?;
    advance_identity(db, "case_record").await?;
    maintain(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_keep_the_stored_time_format_and_number_shape() {
        let sql = shifted_sql(Backend::Sqlite, "c.at", "2");
        assert!(sql.contains("'%Y-%m-%dT%H:%M:%fZ'") && sql.contains("(2) * 7"), "{sql}");
        let sql = shifted_sql(Backend::Postgres, "c.at", "2");
        assert!(sql.contains(r#"'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"#), "{sql}");
        assert!(number_sql(Backend::Sqlite, "x", "7").ends_with("printf('%06d', 7)"));
        assert!(number_sql(Backend::Postgres, "x", "7").contains("greatest(6"));
    }
}
