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

/// The SQL of the local (UTC+8) day of a stored timestamp, as the server's stores write it.
fn local_day_sql(dialect: Backend, expr: &str) -> String {
    dialect.local_time(expr, LocalTime::Day)
}
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

// ---------------------------------------------------------------- the replay

/// Window code, clerk account (the demo's `clerk` exists; the others are made here) and name.
const WINDOWS: [(&str, &str, &str); 8] = [
    ("QZ-01", "clerk", "窗口人员"),
    ("QZ-02", "clerk_qz02", "区行政服务中心综合窗口二"),
    ("QZ-03", "clerk_qz03", "区行政服务中心综合窗口三"),
    ("QZ-04", "clerk_qz04", "区行政服务中心综合窗口四"),
    ("ZM-01", "clerk_zm01", "祖庙街道便民服务中心窗口"),
    ("SW-01", "clerk_sw01", "石湾镇街道便民服务中心窗口"),
    ("ZC-01", "clerk_zc01", "张槎街道便民服务中心窗口"),
    ("NZ-01", "clerk_nz01", "南庄镇便民服务中心窗口"),
];

const SURNAMES: [&str; 16] =
    ["陈", "李", "黄", "梁", "何", "张", "王", "林", "吴", "罗", "冯", "邓", "周", "谢", "麦", "潘"];
const GIVEN: [&str; 16] = [
    "嘉怡", "子轩", "志明", "婉清", "伟强", "晓彤", "俊杰", "丽娟", "家豪", "淑芬", "建华", "美玲", "浩然", "雅婷",
    "国栋", "秀英",
];
const PLACES: [&str; 8] = ["祖庙", "石湾", "张槎", "南庄", "季华", "汾江", "岭南", "澜石"];
const TRADES: [&str; 8] = ["餐饮", "商贸", "建筑工程", "物流", "医药", "文化传播", "环保科技", "物业管理"];
/// Where residents' numbers were issued (most locally), with weights.
const AREAS: [(&str, u32); 8] = [
    ("440604", 60),
    ("440605", 10),
    ("440606", 5),
    ("440103", 5),
    ("441302", 5),
    ("430102", 5),
    ("450102", 5),
    ("510104", 5),
];
const CREDIT_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A generated applicant and what the replay knows the platform holds for them.
struct Applicant {
    id: String,
    name: String,
    kind: ApplicantType,
    /// Licence types in their e-licence library, with when the first was issued.
    licences: HashMap<String, DateTime<Utc>>,
    /// Material codes they submitted in an accepted application.
    submitted: HashSet<String>,
}

impl Applicant {
    fn input(&self) -> ApplicantInput {
        ApplicantInput { id_number: self.id.clone(), name: self.name.clone(), contact: None }
    }

    /// Whether the platform attaches this material by itself at `t`.
    fn holds(&self, m: &MaterialSpec, t: DateTime<Utc>) -> bool {
        self.licenced(m, t) || (m.reusable && self.submitted.contains(&m.code))
    }

    /// Whether an e-licence issued by `t` stands in for this material.
    fn licenced(&self, m: &MaterialSpec, t: DateTime<Utc>) -> bool {
        m.licence_type.as_ref().and_then(|l| self.licences.get(l)).is_some_and(|at| *at <= t)
    }
}

/// A valid resident ID of someone `age` years old on `today`, issued in `area`.
fn resident(rng: &mut StdRng, area: &str, age: i64, today: NaiveDate) -> anyhow::Result<String> {
    let birth = today - Duration::days(age * 365 + age / 4 + rng.gen_range(0..365));
    let first17 = format!("{area}{}{:03}", birth.format("%Y%m%d"), rng.gen_range(1..1000));
    Ok(ResidentId::complete(&first17)?.as_str().to_owned())
}

fn people(rng: &mut StdRng, persons: usize, entities: usize, today: NaiveDate) -> anyhow::Result<Vec<Applicant>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < persons + entities {
        let (id, name, kind) = if out.len() < persons {
            // One in eight is old enough for the old-age allowance (本市户籍, 80 or more).
            let (area, age) = if rng.gen_bool(0.125) {
                ("440604", rng.gen_range(80..96))
            } else {
                (weighted(rng, &AREAS).copied().unwrap_or(DISTRICT_CODE), rng.gen_range(18..80))
            };
            let name = format!("{}{}", SURNAMES[rng.gen_range(0..16)], GIVEN[rng.gen_range(0..16)]);
            (resident(rng, area, age, today)?, name, ApplicantType::Person)
        } else {
            let org: String = (0..9).map(|_| CREDIT_CHARS[rng.gen_range(0..CREDIT_CHARS.len())] as char).collect();
            let code = CreditCode::complete(&format!("91{DISTRICT_CODE}{org}"))?.as_str().to_owned();
            let name = format!("佛山市禅城区{}{}有限公司", PLACES[rng.gen_range(0..8)], TRADES[rng.gen_range(0..8)]);
            (code, name, ApplicantType::Entity)
        };
        if seen.insert(id.clone()) {
            out.push(Applicant { id, name, kind, licences: HashMap::new(), submitted: HashSet::new() });
        }
    }
    Ok(out)
}

/// A small file whose first bytes prove `format` (what the service checks), different per `text`.
fn sample_file(format: &str, text: &str) -> Vec<u8> {
    let head: &[u8] = match format {
        "pdf" => b"%PDF-1.4\n% ",
        "png" => &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
        "jpg" => &[0xFF, 0xD8, 0xFF, 0xE0],
        _ => b"PK\x03\x04",
    };
    let mut b = head.to_vec();
    b.extend_from_slice(text.as_bytes());
    b.extend_from_slice(b"\n%%EOF\n");
    b
}

/// An electronic material for `spec`, in the first format it accepts (PDF when it can).
fn material(spec: &MaterialSpec, text: &str) -> MaterialInput {
    let format = if spec.formats.iter().any(|f| f == "pdf") { "pdf" } else { spec.formats[0].as_str() };
    MaterialInput {
        code: spec.code.clone(),
        medium: None,
        format: Some(format.to_owned()),
        content_base64: Some(base64::engine::general_purpose::STANDARD.encode(sample_file(format, text))),
        copies: None,
    }
}

/// Every criterion `department` checks in `step` of `item`, met — or the first one not met.
fn checklist(item: &ServiceItem, step: usize, department: &str, approve: bool) -> Vec<CheckInput> {
    item.spec.steps[step]
        .checklist_for(department)
        .enumerate()
        .map(|(i, c)| CheckInput {
            code: c.code.clone(),
            met: approve || i > 0,
            note: (!approve && i == 0).then(|| "经核查与实际情况不符".to_owned()),
        })
        .collect()
}

/// The demo's accounts by username, to act as them.
struct Accounts<'a> {
    staff: &'a civgrid::staff::Staff,
    ids: HashMap<String, i64>,
}

impl<'a> Accounts<'a> {
    async fn load(staff: &'a civgrid::staff::Staff) -> anyhow::Result<Accounts<'a>> {
        let ids = staff.list().await?.into_iter().map(|s| (s.staff.username.clone(), s.staff.id)).collect();
        Ok(Accounts { staff, ids })
    }

    async fn principal(&self, username: &str) -> anyhow::Result<Principal> {
        let id = self.ids.get(username).ok_or_else(|| anyhow::anyhow!("demo account {username} is missing"))?;
        Ok(self.staff.demo_principal(*id).await?)
    }
}

/// Everyone the replay acts as, and the clock.
struct Replay<'a> {
    state: &'a AppState,
    calendar: Calendar,
    now: DateTime<Utc>,
    rng: StdRng,
    items: Vec<ServiceItem>,
    windows: Vec<(String, Principal)>,
    approvers: HashMap<String, Principal>,
    admin: Principal,
    people: Vec<Applicant>,
    summary: ReplaySummary,
}

/// Replays `count` applications through the service, accepted at instants over the year before
/// `now` and taken in that order (the same for the same `now`, but for the random notice and
/// e-licence numbers).
async fn replay(state: &AppState, count: usize, now: DateTime<Utc>) -> anyhow::Result<ReplaySummary> {
    let mut rng = StdRng::seed_from_u64(5_440_604);
    let staff = &state.staff;
    let mut accounts = Accounts::load(staff).await?;
    let mut windows = Vec::new();
    for (window, username, name) in WINDOWS {
        if !accounts.ids.contains_key(username) {
            let id = account(staff, username, name, Some("xzfw"), Role::WindowClerk, DISTRICT_CODE).await?;
            accounts.ids.insert(username.to_owned(), id);
        }
        windows.push((window.to_owned(), accounts.principal(username).await?));
    }
    let mut approvers = HashMap::new();
    approvers.insert("scjg".to_owned(), accounts.principal("approver").await?);
    for (username, _, dept) in civgrid::demo::services::APPROVERS {
        approvers.insert(dept.to_owned(), accounts.principal(username).await?);
    }
    let today = now.with_timezone(&civgrid::demo::services::cst()).date_naive();
    let mut r = Replay {
        state,
        calendar: state.cases.calendar().await?,
        now,
        items: state.services.items().await?,
        windows,
        approvers,
        admin: accounts.principal("admin").await?,
        people: people(&mut rng, (count / 3).max(60), (count / 8).max(20), today)?,
        rng,
        summary: ReplaySummary::default(),
    };
    let mut starts: Vec<(DateTime<Utc>, bool)> = (0..count)
        .map(|_| {
            let online = r.rng.gen_bool(0.3);
            let days_ago = r.rng.gen_range(1..YEAR_DAYS);
            (r.instant(online, days_ago), online)
        })
        .collect();
    starts.sort();
    for (i, (t, online)) in starts.into_iter().enumerate() {
        r.one(online, t).await?;
        if (i + 1) % 500 == 0 {
            println!("  {} applications replayed", i + 1);
        }
    }
    Ok(r.summary)
}

/// A timestamp as the services store it (RFC 3339, milliseconds, UTC).
fn stored_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Replay<'_> {
    /// An instant `days_ago` days back: in office hours on a working day at a window, any time
    /// online.
    fn instant(&mut self, online: bool, days_ago: i64) -> DateTime<Utc> {
        if !online {
            return working_instant(&mut self.rng, self.now, days_ago);
        }
        self.now - Duration::days(days_ago) - Duration::minutes(self.rng.gen_range(0..1440))
    }

    /// An item and an eligible applicant for it: often someone holding an e-licence the item
    /// takes in place of a material, or someone who applied before.
    fn choose(&mut self, at: DateTime<Utc>) -> (usize, usize) {
        let today = at.with_timezone(&civgrid::demo::services::cst()).date_naive();
        let fits = |item: &ServiceItem, a: &Applicant| {
            item.spec.applicant_type == a.kind && civgrid::demo::services::eligible(item, &a.id, today)
        };
        if self.rng.gen_bool(0.35) {
            let mut pairs = Vec::new();
            for (p, a) in self.people.iter().enumerate().filter(|(_, a)| !a.licences.is_empty()) {
                for (i, item) in self.items.iter().enumerate() {
                    if item.spec.materials.iter().any(|m| a.licenced(m, at)) && fits(item, a) {
                        pairs.push((i, p));
                    }
                }
            }
            if let Some(pair) = pick(&mut self.rng, &pairs) {
                return *pair;
            }
        }
        loop {
            let i = self.rng.gen_range(0..self.items.len());
            let returning = self.rng.gen_bool(0.4);
            let candidates: Vec<usize> = (0..self.people.len())
                .filter(|&p| fits(&self.items[i], &self.people[p]))
                .filter(|&p| !returning || !self.people[p].submitted.is_empty())
                .collect();
            if let Some(p) = pick(&mut self.rng, &candidates) {
                return (i, *p);
            }
        }
    }

    /// Hours of working time from `t`, plus some minutes.
    fn after(&mut self, t: DateTime<Utc>, working_hours: f64) -> DateTime<Utc> {
        let jitter = Duration::minutes(self.rng.gen_range(0..60));
        self.calendar.add_working_hours(t, working_hours.max(1.0) as u32) + jitter
    }

    async fn one(&mut self, online: bool, mut t: DateTime<Utc>) -> anyhow::Result<()> {
        let (i, p) = self.choose(t);
        let item = self.items[i].clone();
        let window = (!online).then(|| self.rng.gen_range(0..self.windows.len()));
        let at_window = |r: &Self| window.map(|w| (r.windows[w].0.clone(), r.windows[w].1.clone()));
        let services = self.state.services.at(t);
        if let (Some((code, clerk)), true) = (at_window(self), self.rng.gen_bool(0.03)) {
            let reason = "申请事项依法不需要取得行政许可".to_owned();
            let refusal =
                NewRefusal { item_code: item.code.clone(), applicant: self.people[p].input(), reason, window: code };
            services.refuse(&clerk, refusal).await?;
            self.summary.refusals += 1;
            return Ok(());
        }
        // Hand in what the platform does not hold; now and then forget one thing.
        let needed: Vec<&MaterialSpec> = item.spec.materials.iter().filter(|m| !self.people[p].holds(m, t)).collect();
        let forget = if self.rng.gen_bool(0.12) { pick(&mut self.rng, &needed).map(|m| m.code.clone()) } else { None };
        let mut codes: Vec<String> =
            needed.iter().map(|m| m.code.clone()).filter(|c| Some(c) != forget.as_ref()).collect();
        let mut accepted = None;
        for attempt in 0..2 {
            let materials = codes
                .iter()
                .filter_map(|c| item.material(c))
                .map(|m| material(m, &format!("{} {} {t}", self.people[p].id, m.code)))
                .collect();
            let request = NewApplication {
                item_code: item.code.clone(),
                applicant: self.people[p].input(),
                materials,
                window: at_window(self).map(|w| w.0),
            };
            let channel = at_window(self);
            let channel = match &channel {
                Some((_, clerk)) => Channel::Window(clerk),
                None => Channel::Online,
            };
            self.summary.submissions += 1;
            match self.state.services.at(t).submit(channel, request).await? {
                Outcome::Accepted { application, visit_number, access_key } => {
                    accepted = Some((application, visit_number, access_key));
                    break;
                }
                Outcome::MissingMaterials { notice } => {
                    anyhow::ensure!(attempt == 0, "the complete submission was refused: {:?}", notice.missing);
                    self.summary.missing_notices += 1;
                    codes.extend(notice.missing.iter().map(|m| m.code.clone()));
                    t += Duration::minutes(self.rng.gen_range(30..4320));
                    if t >= self.now {
                        return Ok(());
                    }
                }
            }
        }
        let Some((application, visit, access_key)) = accepted else { return Ok(()) };
        let number = application.application.number.clone();
        self.summary.accepted += 1;
        self.summary.online += usize::from(online);
        for m in &application.materials {
            match m.source.as_str() {
                "licence" => self.summary.materials_from_licences += 1,
                "earlier" => self.summary.materials_from_earlier += 1,
                _ => {
                    self.people[p].submitted.insert(m.code.clone());
                }
            }
        }
        if let (Some(visit), true) = (visit, self.rng.gen_bool(0.25)) {
            let at = t + Duration::minutes(self.rng.gen_range(5..30));
            if at < self.now {
                self.rate("visit", &visit, Proof::IdNumber, p, at).await?;
            }
        }
        let Some((result, concluded)) = self.decide(&item, &number, t).await? else { return Ok(()) };
        if result {
            if let Some(r) = &item.spec.result {
                self.people[p].licences.entry(r.licence_type.clone()).or_insert(concluded);
                self.summary.licences_issued += 1;
            }
        }
        if self.rng.gen_bool(0.6) {
            let at = concluded + Duration::minutes(self.rng.gen_range(60..4320));
            if at < self.now {
                self.rate("application", &number, Proof::Key(&access_key), p, at).await?;
            }
        }
        Ok(())
    }

    /// The back office: steps in turn, each department of a step at its own time, now and then a
    /// suspension for a special step or a rejection. Some(approved?, when) once concluded.
    async fn decide(
        &mut self,
        item: &ServiceItem,
        number: &str,
        mut t: DateTime<Utc>,
    ) -> anyhow::Result<Option<(bool, DateTime<Utc>)>> {
        let steps = item.spec.steps.len();
        let reject = self.rng.gen_bool(0.07).then(|| self.rng.gen_range(0..steps));
        let budget = item.spec.promised_limit_days as f64 * 7.0 / steps as f64;
        for (s, step) in item.spec.steps.iter().enumerate() {
            if s == 0 && !item.spec.special_steps.is_empty() && self.rng.gen_bool(0.15) {
                let special =
                    item.spec.special_steps[self.rng.gen_range(0..item.spec.special_steps.len())].name.clone();
                let who = self.approvers[&step.departments[0]].clone();
                let hours = self.rng.gen_range(1.0..4.0);
                t = self.after(t, hours);
                if t >= self.now {
                    return Ok(None);
                }
                let input = SuspendInput { special_step: special, note: None };
                self.state.services.at(t).suspend(&who, number, input).await?;
                self.summary.suspensions += 1;
                let hours = self.rng.gen_range(7.0..28.0);
                t = self.after(t, hours);
                if t >= self.now {
                    return Ok(None);
                }
                self.state.services.at(t).resume(&who, number).await?;
            }
            let mut turns = Vec::new();
            for d in &step.departments {
                let share = self.rng.gen_range(0.15..1.3);
                turns.push((self.after(t, budget * share), d.clone()));
            }
            turns.sort();
            let rejecting = reject == Some(s);
            for (k, (at, dept)) in turns.iter().enumerate() {
                if *at >= self.now {
                    return Ok(None);
                }
                let approve = !(rejecting && k == 0);
                let input = DecisionInput {
                    step: s as i64,
                    decision: if approve { "approve" } else { "reject" }.into(),
                    checklist: checklist(item, s, dept, approve),
                    note: (!approve).then(|| "不符合审查要点，不予许可".to_owned()),
                };
                let who = self.approvers.get(dept).ok_or_else(|| anyhow::anyhow!("no approver of {dept}"))?;
                let view = self.state.services.at(*at).decide(who, number, input).await?;
                self.summary.decisions += 1;
                if !approve {
                    self.summary.rejected += 1;
                    return Ok(Some((false, *at)));
                }
                if view.application.state == "approved" {
                    self.summary.approved += 1;
                    return Ok(Some((true, *at)));
                }
                t = *at;
            }
        }
        anyhow::bail!("{number}: every step was approved but the application did not conclude")
    }

    /// 好差评, mostly good; a bad one is sometimes appealed by the unit and decided by the admin.
    async fn rate(
        &mut self,
        target: &str,
        number: &str,
        proof: Proof<'_>,
        p: usize,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let grade = match self.rng.gen_range(0..100) {
            0..55 => 5,
            55..85 => 4,
            85..93 => 3,
            93..97 => 2,
            _ => 1,
        };
        let rating = NewRating {
            target: target.into(),
            number: number.into(),
            access_key: match proof {
                Proof::Key(k) => Some(k.to_owned()),
                Proof::IdNumber => None,
            },
            id_number: match proof {
                Proof::Key(_) => None,
                Proof::IdNumber => Some(self.people[p].id.clone()),
            },
            grade,
            comment: None,
        };
        let outcome = self.state.services.at(at).rate(rating).await?;
        self.summary.ratings += 1;
        let Some(task) = outcome.rectification else { return Ok(()) };
        let Some(unit) = self.approvers.get(&task.department_code).cloned() else { return Ok(()) };
        if !self.rng.gen_bool(0.25) || at + Duration::days(2) >= self.now {
            return Ok(());
        }
        let appeal = AppealInput { reason: "申请人误评：当次办理已一次办结".into() };
        self.state.services.at(at + Duration::days(1)).appeal(&unit, task.id, appeal).await?;
        let upheld = self.rng.gen_bool(0.5);
        let decision =
            AppealDecisionInput { upheld, note: if upheld { "经核实属误评" } else { "评价属实" }.into() };
        self.state.services.at(at + Duration::days(2)).decide_appeal(&self.admin, task.id, decision).await?;
        self.summary.appeals += 1;
        Ok(())
    }
}

// ---------------------------------------------------------------- the copies

/// Days of history: the replay's and the copies'.
const YEAR_DAYS: i64 = 364;

/// Whole weeks from `earlier` to `later` (SQL timestamps), rounded down, at least 0.
fn weeks_between_sql(b: Backend, later: &str, earlier: &str) -> String {
    match b {
        Backend::Sqlite => format!("max(0, cast((julianday({later}) - julianday({earlier})) / 7 as integer))"),
        Backend::Postgres => format!(
            "greatest(0, floor(extract(epoch from (({later})::timestamptz - ({earlier})::timestamptz)) / 604800)::bigint)"
        ),
    }
}

/// Weeks copy `k.n` of a template is moved back (negative: forward), as SQL: pseudo-random
/// among the whole weeks that keep its first event (`first`) after `start` and its last
/// (`last`) before `horizon`.
fn spread_sql(b: Backend, id: &str, first: &str, last: &str, start: &str, horizon: &str) -> String {
    let back = weeks_between_sql(b, first, &format!("'{start}'"));
    let forward = weeks_between_sql(b, &format!("'{horizon}'"), last);
    format!("({} - {forward})", copy_hash_sql(id, &format!("{back} + {forward} + 1")))
}

/// Copies the concluded applications (with their visits, materials, steps and ratings) and every
/// notice (with its visit) inside the database until there are `target` applications. Copy *k*
/// of application *a* gets id `a + k·stride` and is moved by whole weeks, a pseudo-random
/// function of (a, k), within the year before `now`, concluded at least four days before it
/// (its ratings come later); a notice and its visit, or a visit that led to nothing, likewise.
async fn copy_applications(db: &Db, target: usize, now: DateTime<Utc>) -> anyhow::Result<()> {
    let b = db.backend();
    let scalar = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await }
    };
    let total = scalar("select count(*) from service_application").await?;
    let concluded = scalar("select count(*) from service_application where concluded_at is not null").await?;
    let apps = scalar("select coalesce(max(id), 0) from service_application").await?;
    let visits = scalar("select coalesce(max(id), 0) from service_visit").await?;
    let ratings = scalar("select coalesce(max(id), 0) from service_rating").await?;
    anyhow::ensure!(concluded > 0, "no concluded applications to copy");
    let copies = ((target as i64 - total).max(0) + concluded - 1) / concluded;
    anyhow::ensure!(copies < 100_000, "{copies} copies: replay more templates (notice numbers hold 5 digits of copy)");
    let overriding = if b == Backend::Postgres { "overriding system value" } else { "" };
    let start = stored_time(now - Duration::days(YEAR_DAYS));
    let (settled, done) = (stored_time(now - Duration::days(4)), stored_time(now - Duration::days(1)));
    let wa = spread_sql(b, "a.id", "a.accepted_at", "a.concluded_at", &start, &settled);
    let wv = spread_sql(b, "v.id", "v.at", "v.at", &start, &done);
    let wn = spread_sql(b, "coalesce(n.visit_id, 0)", "n.issued_at", "n.issued_at", &start, &done);
    let copied = "a.id <= {apps} and a.concluded_at is not null".replace("{apps}", &apps.to_string());
    let numbered =
        |prefix: &str, at: &str, id: &str| format!("'{prefix}' || {}", number_sql(b, &local_day_sql(b, at), id));
    let visit_columns = "id, number, window_code, clerk, clerk_department, applicant_id, item_code, outcome, at";
    let visit_copy = |w: &str, from: &str| {
        let at = shifted_sql(b, "v.at", w);
        let id = format!("(v.id + k.n * {visits})");
        format!(
            "insert into service_visit ({visit_columns}) {overriding}
             select {id}, {number}, v.window_code, v.clerk, v.clerk_department, v.applicant_id, v.item_code,
               v.outcome, {at} {from}",
            number = numbered("CK", &at, &id),
        )
    };
    // Visits that led to an application move with it; the others (notices, refusals) by copy.
    let app_visits = visit_copy(
        &wa,
        &format!("from service_application a join service_visit v on v.id = a.visit_id cross join k where {copied}"),
    );
    let other_visits = visit_copy(
        &wv,
        &format!("from service_visit v cross join k where v.id <= {visits} and v.outcome <> 'accepted'"),
    );
    let copy_marker = match b {
        Backend::Sqlite => "printf('%05d', k.n)".to_owned(),
        Backend::Postgres => "lpad(k.n::text, 5, '0')".to_owned(),
    };
    // Notice numbers are 18 characters: the prefix, `x` (never in a random number), the copy, and
    // the last ten characters of the template's number.
    let notices = format!(
        "insert into service_notice (number, kind, item_code, item_version, applicant_id, channel, window_code,
           visit_id, missing, reason, issued_by, issued_at)
         select substr(n.number, 1, 2) || 'x' || {copy_marker} || substr(n.number, 9), n.kind, n.item_code,
           n.item_version, n.applicant_id, n.channel, n.window_code, n.visit_id + k.n * {visits}, n.missing,
           n.reason, n.issued_by, {issued}
         from service_notice n cross join k where substr(n.number, 3, 1) <> 'x'",
        issued = shifted_sql(b, "n.issued_at", &wn),
    );
    let shift = |col: &str| shifted_sql(b, &format!("a.{col}"), &wa);
    let app_id = format!("(a.id + k.n * {apps})");
    let applications = format!(
        "insert into service_application (id, number, item_code, item_version, department_code, applicant_id,
           applicant_name, contact, channel, window_code, clerk, visit_id, state, current_step, max_visits,
           accepted_at, deadline, legal_deadline, warned_at, overdue_at, suspended_at, suspended_step,
           concluded_at, licence_number, updated_at, handling_working_hours) {overriding}
         select {app_id}, {number}, a.item_code, a.item_version, a.department_code, a.applicant_id,
           a.applicant_name, a.contact, a.channel, a.window_code, a.clerk, a.visit_id + k.n * {visits}, a.state,
           a.current_step, a.max_visits, {accepted}, {deadline}, {legal}, {warned}, {overdue}, {suspended},
           a.suspended_step, {concluded}, a.licence_number, {updated}, a.handling_working_hours
         from service_application a cross join k where {copied}",
        number = numbered("BJ", &shift("accepted_at"), &app_id),
        accepted = shift("accepted_at"),
        deadline = shift("deadline"),
        legal = shift("legal_deadline"),
        warned = shift("warned_at"),
        overdue = shift("overdue_at"),
        suspended = shift("suspended_at"),
        concluded = shift("concluded_at"),
        updated = shift("updated_at"),
    );
    let materials = format!(
        "insert into service_material (application_id, position, code, name, source, format, size_bytes, sha256,
           content, licence_number, reused_from, applicant_id, created_at)
         select m.application_id + k.n * {apps}, m.position, m.code, m.name, m.source, m.format, m.size_bytes,
           m.sha256, m.content, m.licence_number, m.reused_from, m.applicant_id, {created}
         from service_application a join service_material m on m.application_id = a.id cross join k
         where {copied} order by k.n, m.id",
        created = shifted_sql(b, "m.created_at", &wa),
    );
    let steps = format!(
        "insert into service_step (application_id, step_index, step_name, department_code, state, checklist, note,
           decided_by, decided_at)
         select s.application_id + k.n * {apps}, s.step_index, s.step_name, s.department_code, s.state,
           s.checklist, s.note, s.decided_by, {decided}
         from service_application a join service_step s on s.application_id = a.id cross join k
         where {copied} order by k.n, s.id",
        decided = shifted_sql(b, "s.decided_at", &wa),
    );
    // `c` is the copy (application or visit) whose number the copied rating names.
    let rating_copy = |w: &str, from: &str| {
        format!(
            "insert into service_rating (target_kind, target_ref, applicant_id, grade, comment,
               responsible_department, item_code, window_code, clerk, rated_at, void)
             select r.target_kind, c.number, r.applicant_id, r.grade, r.comment, r.responsible_department,
               r.item_code, r.window_code, r.clerk, {rated}, r.void {from} order by k.n, r.id",
            rated = shifted_sql(b, "r.rated_at", w),
        )
    };
    let app_ratings = rating_copy(
        &wa,
        &format!(
            "from service_application a join service_rating r on r.target_kind = 'application' and r.target_ref = a.number
             cross join k join service_application c on c.id = a.id + k.n * {apps} where {copied} and r.id <= {ratings}"
        ),
    );
    let app_visit_ratings = rating_copy(
        &wa,
        &format!(
            "from service_application a join service_visit v on v.id = a.visit_id
               join service_rating r on r.target_kind = 'visit' and r.target_ref = v.number
             cross join k join service_visit c on c.id = v.id + k.n * {visits} where {copied} and r.id <= {ratings}"
        ),
    );
    let other_visit_ratings = rating_copy(
        &wv,
        &format!(
            "from service_rating r join service_visit v on v.number = r.target_ref
             cross join k join service_visit c on c.id = v.id + k.n * {visits}
             where r.id <= {ratings} and r.target_kind = 'visit' and v.outcome <> 'accepted'"
        ),
    );
    let statements = [
        app_visits,
        other_visits,
        notices,
        applications,
        materials,
        steps,
        app_ratings,
        app_visit_ratings,
        other_visit_ratings,
    ];
    copy_in_batches(db, copies, concluded, "applications", |ks| {
        statements.iter().map(|s| format!("{ks} {s}")).collect()
    })
    .await?;
    advance_identity(db, "service_visit").await?;
    advance_identity(db, "service_application").await?;
    maintain(db).await
}

// ---------------------------------------------------------------- the measurements

async fn time_statistics(state: &AppState, now: DateTime<Utc>, repeat: usize) -> anyhow::Result<Vec<StatisticsTiming>> {
    let busiest: String = sqlx::query_scalar(
        "select department_code from service_application group by department_code order by count(*) desc limit 1",
    )
    .fetch_one(state.db.pool())
    .await?;
    let periods = [("last 30 days", 30), ("last 90 days", 90), ("last 365 days", 365)];
    let mut queries: Vec<(GroupBy, &str, Option<String>, &str, i64)> = Vec::new();
    for (by, name) in [
        (GroupBy::Department, "department"),
        (GroupBy::Item, "item"),
        (GroupBy::Window, "window"),
        (GroupBy::Clerk, "clerk"),
    ] {
        for (period, days) in periods {
            queries.push((by, name, None, period, days));
        }
    }
    for (period, days) in periods {
        queries.push((GroupBy::Item, "item", Some(busiest.clone()), period, days));
    }
    queries.push((GroupBy::Clerk, "clerk", Some(busiest.clone()), "last 365 days", 365));
    let mut out = Vec::new();
    for (by, name, department, period, days) in queries {
        let from = now - Duration::days(days);
        let (first, l) = timed(repeat, || state.services.statistics(by, from, now, department.as_deref())).await?;
        println!(
            "by {name}{} {period}: {} accepted, {} rows — p50 {:.1} ms, p99 {:.1} ms",
            department.as_deref().map(|d| format!(" in {d}")).unwrap_or_default(),
            first.total.accepted,
            first.rows.len(),
            l.p50_ms,
            l.p99_ms
        );
        out.push(StatisticsTiming {
            by: name.to_owned(),
            department,
            period: period.to_owned(),
            accepted: first.total.accepted,
            rows: first.rows.len(),
            runs: l.count,
            p50_ms: l.p50_ms,
            p99_ms: l.p99_ms,
            max_ms: l.max_ms,
        });
    }
    Ok(out)
}

/// The code of the demo item with this main-item number (e.g. `00301`).
fn item_code(items: &[ServiceItem], main: &str) -> anyhow::Result<String> {
    items
        .iter()
        .find(|i| i.spec.main_item == main)
        .map(|i| i.code.clone())
        .ok_or_else(|| anyhow::anyhow!("no item {main}"))
}

/// Makes `warmup + requests` people holders of an individual business licence (registration
/// through the service, concluded by the approver), then serves the database from this
/// executable and applies for each, one at a time, for a food business licence at a window:
/// the licence, ID card and premises proof attach themselves; three materials are handed in.
async fn time_acceptance(a: &ServicesArgs, place: &Place, state: &AppState) -> anyhow::Result<AcceptanceTiming> {
    let items = state.services.items().await?;
    let (registration, food) = (item_code(&items, "00301")?, item_code(&items, "00302")?);
    let food_item = state.services.item(&food, None).await?;
    let accounts = Accounts::load(&state.staff).await?;
    let (clerk, approver) = (accounts.principal("clerk").await?, accounts.principal("approver").await?);
    let registration_item = state.services.item(&registration, None).await?;
    let mut rng = StdRng::seed_from_u64(302);
    let today = Utc::now().with_timezone(&civgrid::demo::services::cst()).date_naive();
    let holders = people(&mut rng, a.warmup + a.requests, 0, today)?;
    let t = Instant::now();
    for h in &holders {
        let materials = ["id_card", "premises_proof", "application_form"]
            .iter()
            .filter_map(|c| registration_item.material(c))
            .map(|m| material(m, &format!("{} {}", h.id, m.code)))
            .collect();
        let request = NewApplication {
            item_code: registration.clone(),
            applicant: h.input(),
            materials,
            window: Some(WINDOWS[0].0.into()),
        };
        let Outcome::Accepted { application, .. } = state.services.submit(Channel::Window(&clerk), request).await?
        else {
            anyhow::bail!("the registration of {} was not accepted", h.id)
        };
        let decision = DecisionInput {
            step: 0,
            decision: "approve".into(),
            checklist: checklist(&registration_item, 0, "scjg", true),
            note: None,
        };
        state.services.decide(&approver, &application.application.number, decision).await?;
    }
    state.ledger.integrate().await?;
    println!("{} business licences issued through the service in {:.1} s", holders.len(), t.elapsed().as_secs_f64());

    let backend = place.backend.as_str().to_owned();
    // The server is started as the intake benchmark starts it; only these options apply.
    let options = crate::intake::IntakeOptions {
        exe: crate::server_bin(a.server_bin.as_deref())?,
        database_url: place.url.as_str().to_owned(),
        backend: backend.clone(),
        rates: Vec::new(),
        step_seconds: 0.0,
        warmup_seconds: 0.0,
        closed_loop_connections: 0,
        max_in_flight: 1,
        worker_share: 0.0,
        worker_username: String::new(),
        worker_password: String::new(),
        worker_community: String::new(),
        server_log: a.work.join(format!("serve-services-{backend}.log")),
        server_args: place
            .key_dir
            .iter()
            .flat_map(|d| ["--ledger-key-dir".to_owned(), d.display().to_string()])
            .collect(),
        seed: 0,
    };
    let mut server = crate::intake::Server::start(&options)?;
    let client = reqwest::Client::builder().timeout(StdDuration::from_secs(30)).tcp_nodelay(true).build()?;
    let base = server.base.clone();
    crate::intake::wait_healthy(&client, &base, &mut server).await?;
    let token = crate::intake::login(&client, &base, "clerk", DEMO_PASSWORD).await?;
    let submitted = ["floor_plan", "food_safety_rules", "application_form"];
    let mut micros = Vec::with_capacity(a.requests);
    let mut reused = 0;
    for (i, h) in holders.iter().enumerate() {
        let materials: Vec<MaterialInput> = submitted
            .iter()
            .filter_map(|c| food_item.material(c))
            .map(|m| material(m, &format!("{} {}", h.id, m.code)))
            .collect();
        let body = json!({
            "item_code": food,
            "applicant": {"id_number": h.id, "name": h.name},
            "window": WINDOWS[0].0,
            "materials": materials.iter().map(|m| json!({"code": m.code, "format": m.format, "content_base64": m.content_base64})).collect::<Vec<_>>(),
        });
        let t = Instant::now();
        let response =
            client.post(format!("{base}/api/v1/service-applications")).bearer_auth(&token).json(&body).send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let elapsed = t.elapsed().as_micros() as u64;
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        anyhow::ensure!(status.as_u16() == 201 && v["outcome"] == "accepted", "acceptance {i} answered {status}: {v}");
        let sources: Vec<&str> = v["application"]["materials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["source"].as_str())
            .collect();
        let n = sources.iter().filter(|s| matches!(**s, "licence" | "earlier")).count();
        anyhow::ensure!(sources.contains(&"licence"), "acceptance {i} attached no e-licence: {sources:?}");
        reused = n;
        if i >= a.warmup {
            micros.push(elapsed);
        }
    }
    server.stop();
    let latency = crate::intake::Latency::from_micros(micros);
    println!(
        "acceptance with reuse: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latency.p50_ms, latency.p99_ms, latency.max_ms
    );
    Ok(AcceptanceTiming {
        item: food_item.spec.name.clone(),
        warmup: a.warmup,
        materials_reused: reused,
        materials_submitted: submitted.len(),
        latency,
    })
}

/// How a rater proves the target is theirs: an application's access key, or (for a visit to a
/// window) the ID number shown there.
#[derive(Debug, Clone, Copy)]
enum Proof<'a> {
    Key(&'a str),
    IdNumber,
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
