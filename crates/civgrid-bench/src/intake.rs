//! `civgrid-bench intake`: report intake end to end over loopback HTTP against a separately
//! running `civgrid serve` (the release binary), with an open-loop load generator.
//!
//! * **Open loop, no coordinated omission.** Request *i* of a step at rate *R* is scheduled at
//!   `start + i/R`, whatever happened to earlier requests; its latency runs from that scheduled
//!   instant to the end of the response. A server that stalls therefore shows the stall in every
//!   request that should have been sent meanwhile. At most `max_in_flight` requests are open at
//!   once (one HTTP/1.1 connection each); a request waiting for a free connection is still timed
//!   from its scheduled instant.
//! * **Only acknowledged reports count**: `201 Created` (the case is committed when the server
//!   answers). Every other answer is counted as an error by status.
//! * **Report → push.** A grid worker signs in and keeps `GET /api/v1/events` (SSE) open; a fixed
//!   share of the reports is placed in that worker's grids, and for each the time from the
//!   report's scheduled send to the arrival of its `report` event is recorded.
//! * A closed-loop step (N connections sending back to back) gives the saturation throughput.
//!
//! The database is prepared (seeded) by the caller, which also measures the raw-insert ceiling
//! with [`raw_insert_ceiling`] on the same pool settings the server uses.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use geo::{BoundingRect, Intersects};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::machine::MachineInfo;

mod display;

/// What to run.
#[derive(Debug, Clone)]
pub struct IntakeOptions {
    /// The `civgrid` executable to serve with (normally the running one).
    pub exe: PathBuf,
    /// The prepared, seeded database the server opens.
    pub database_url: String,
    /// `sqlite` or `postgres`, for the report.
    pub backend: String,
    /// Offered rates of the open-loop steps, reports per second.
    pub rates: Vec<u32>,
    pub step_seconds: f64,
    pub warmup_seconds: f64,
    /// Connections of the closed-loop saturation step (0 skips it).
    pub closed_loop_connections: usize,
    pub max_in_flight: usize,
    /// Share of reports placed in the subscribed grid worker's grids.
    pub worker_share: f64,
    /// The subscribed grid worker (a demo account) and its community (grid-code prefix).
    pub worker_username: String,
    pub worker_password: String,
    pub worker_community: String,
    /// Where the server's log goes.
    pub server_log: PathBuf,
    /// Extra settings given before the command: `civgrid --database URL ARGS… serve` (e.g.
    /// `--ledger-key-dir DIR`).
    pub server_args: Vec<String>,
    pub seed: u64,
}

/// Latency summary in milliseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Summarises durations given in microseconds.
    pub fn from_micros(mut v: Vec<u64>) -> Latency {
        if v.is_empty() {
            return Latency::default();
        }
        v.sort_unstable();
        let ms = |x: u64| x as f64 / 1000.0;
        Latency {
            count: v.len(),
            p50_ms: ms(percentile(&v, 50.0)),
            p90_ms: ms(percentile(&v, 90.0)),
            p99_ms: ms(percentile(&v, 99.0)),
            p999_ms: ms(percentile(&v, 99.9)),
            max_ms: ms(*v.last().unwrap_or(&0)),
        }
    }
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
/// values at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// When request `i` of a step at `rate` per second is due, after the step's start.
pub fn scheduled_offset(i: u64, rate: u32) -> Duration {
    Duration::from_nanos(i.saturating_mul(1_000_000_000) / u64::from(rate.max(1)))
}

/// How many requests a step of `seconds` at `rate` schedules.
pub fn scheduled_count(rate: u32, seconds: f64) -> u64 {
    (f64::from(rate) * seconds).round() as u64
}

/// One measured step.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// `open 2000/s` or `closed 64 conns`.
    pub label: String,
    pub offered_per_sec: Option<u32>,
    pub seconds: f64,
    pub scheduled: u64,
    /// `201 Created`: committed and acknowledged.
    pub acknowledged: u64,
    /// Answers other than 201, by status (`transport` for connection errors, `unfinished` for
    /// requests still open when the step's grace period ended).
    pub errors: Vec<(String, u64)>,
    /// Acknowledged reports per second of wall time (from the first scheduled send to the last
    /// answer).
    pub achieved_per_sec: f64,
    /// From the scheduled send (open loop) or the actual send (closed loop) to the answer.
    pub latency: Latency,
    /// How late the generator started requests after their scheduled instant (its own lag).
    pub send_lag: Latency,
    /// Report → SSE push to the subscribed grid worker, from the scheduled send.
    pub push: Latency,
    /// Acknowledged reports in the worker's grids whose event never arrived.
    pub push_missing: u64,
    /// CPU used by the server process and by this load generator, in cores (1.0 = one core busy).
    pub server_cpu_cores: f64,
    pub client_cpu_cores: f64,
    /// Share of the whole machine's CPU time that was busy (all processes, the database server
    /// and anything else running included), from `/proc/stat`.
    pub machine_cpu_busy: f64,
    /// Whether the step kept up: ≥ 99.9 % acknowledged, achieved ≥ 98 % of offered, p99 < 1 s.
    pub sustained: bool,
}

/// The raw single-row insert ceiling of the same database.
#[derive(Debug, Clone, Serialize)]
pub struct Ceiling {
    pub what: String,
    pub connections: usize,
    pub inserts_per_sec: f64,
    pub latency: Latency,
}

/// Everything [`run`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeReport {
    pub machine: MachineInfo,
    pub backend: String,
    pub database: String,
    pub server: String,
    pub steps: Vec<StepResult>,
    pub ceilings: Vec<Ceiling>,
    pub notes: Vec<String>,
}

impl IntakeReport {
    /// Highest offered rate that was sustained.
    pub fn sustained_rate(&self) -> Option<u32> {
        self.steps.iter().filter(|s| s.sustained).filter_map(|s| s.offered_per_sec).max()
    }
}

/// A running `civgrid serve`, stopped (SIGTERM, then kill) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(o: &IntakeOptions) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(&o.server_log)
            .with_context(|| format!("cannot create {}", o.server_log.display()))?;
        let child = Command::new(&o.exe)
            .arg("--database")
            .arg(&o.database_url)
            .args(&o.server_args)
            .arg("serve")
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", o.exe.display()))?;
        Ok(Server { child, base: format!("http://127.0.0.1:{port}") })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// CPU seconds (user + system) used so far by a process, from `/proc/PID/stat` (0 if unreadable).
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the file, 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// (busy, total) CPU ticks of the whole machine so far, from `/proc/stat`.
fn machine_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return (0, 0) };
    let Some(line) = stat.lines().next() else { return (0, 0) };
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// Busy share between two [`machine_ticks`] readings.
pub fn busy_share(before: (u64, u64), after: (u64, u64)) -> f64 {
    let total = after.1.saturating_sub(before.1);
    if total == 0 {
        return 0.0;
    }
    after.0.saturating_sub(before.0) as f64 / total as f64
}

/// A grid to report in: its code, shape and bounding box (GCJ-02).
#[derive(Debug, Clone)]
struct Spot {
    grid: String,
    shape: geo::MultiPolygon<f64>,
    rect: geo::Rect<f64>,
}

impl Spot {
    /// A uniformly random point inside the grid (rejection sampling in its bounding box; the
    /// centre of the box if 100 tries miss, which the demo's convex-ish grids never do).
    fn point(&self, rng: &mut StdRng) -> (f64, f64) {
        for _ in 0..100 {
            let x = rng.gen_range(self.rect.min().x..=self.rect.max().x);
            let y = rng.gen_range(self.rect.min().y..=self.rect.max().y);
            if self.shape.intersects(&geo::Point::new(x, y)) {
                return (x, y);
            }
        }
        let c = self.rect.center();
        (c.x, c.y)
    }
}

/// What every request needs.
struct Ctx {
    client: reqwest::Client,
    base: String,
    spots: Vec<Spot>,
    worker_spots: Vec<Spot>,
    classes: Vec<(String, String)>,
    worker_share: f64,
    run_id: u64,
    seq: AtomicU64,
    pushes: Arc<Mutex<HashMap<i64, Instant>>>,
    max_in_flight: usize,
    server_pid: String,
}

#[derive(Debug, Deserialize)]
struct Created {
    case: CreatedCase,
}

#[derive(Debug, Deserialize)]
struct CreatedCase {
    id: i64,
}

/// One answered (or failed) request.
#[derive(Clone)]
struct Sample {
    scheduled: Instant,
    started: Instant,
    done: Instant,
    /// HTTP status, or 0 for a transport error.
    status: u16,
    case_id: Option<i64>,
    for_worker: bool,
}

impl Ctx {
    fn body(&self, rng: &mut StdRng) -> (Vec<u8>, bool) {
        let for_worker = !self.worker_spots.is_empty() && rng.gen_bool(self.worker_share);
        let spots = if for_worker { &self.worker_spots } else { &self.spots };
        let spot = &spots[rng.gen_range(0..spots.len())];
        let (lng, lat) = spot.point(rng);
        let (code, name) = &self.classes[rng.gen_range(0..self.classes.len())];
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let body = serde_json::json!({
            "description": format!("【压测 {n}】{name}：网格 {} 附近，请尽快处理。", spot.grid),
            "channel": "app",
            "class_code": code,
            "lng": lng,
            "lat": lat,
            "datum": "gcj02",
            "address": format!("禅城区 网格 {}", spot.grid),
            "idempotency_key": format!("bench-{}-{n}", self.run_id),
        });
        (serde_json::to_vec(&body).unwrap_or_default(), for_worker)
    }

    /// Posts one report as a citizen at `citizen` (an address in 10/8): the server is started
    /// trusting this process as its reverse proxy, so the `X-Forwarded-For` it sends names the
    /// citizen, as an office's proxy would — and each citizen's anonymous budget is spent,
    /// checked and counted as in production.
    async fn send(&self, body: Vec<u8>, citizen: u32) -> (u16, Option<i64>) {
        let citizen = std::net::Ipv4Addr::from(0x0a00_0000 | (citizen & 0x00ff_ffff));
        let resp = self
            .client
            .post(format!("{}/api/v1/reports", self.base))
            .header("content-type", "application/json")
            .header("x-forwarded-for", citizen.to_string())
            .body(body)
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                let bytes = r.bytes().await.unwrap_or_default();
                let id = if status == 201 {
                    serde_json::from_slice::<Created>(&bytes).ok().map(|c| c.case.id)
                } else {
                    None
                };
                (status, id)
            }
            Err(_) => (0, None),
        }
    }
}

/// A running `civgrid serve` with a signed-in grid worker listening for pushes: what every
/// step needs.
pub struct Load {
    ctx: Arc<Ctx>,
    server: Server,
    sse: tokio::task::JoinHandle<()>,
    /// `/healthz` as the server answered at start.
    pub server_version: String,
}

impl Load {
    /// Starts the server on the prepared database and readies the load generator.
    pub async fn start(o: &IntakeOptions) -> anyhow::Result<Load> {
        let mut server = Server::start(o)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()?;
        let base = server.base.clone();
        wait_healthy(&client, &base, &mut server).await?;
        let server_version = client.get(format!("{base}/healthz")).send().await?.text().await.unwrap_or_default();

        let (spots, worker_spots) = spots(&client, &base, &o.worker_community).await?;
        let classes = classes(&client, &base).await?;
        let token = login(&client, &base, &o.worker_username, &o.worker_password).await?;
        let pushes = Arc::new(Mutex::new(HashMap::new()));
        let sse = tokio::spawn(subscribe(client.clone(), base.clone(), token, pushes.clone()));
        tokio::time::sleep(Duration::from_millis(300)).await;

        let ctx = Arc::new(Ctx {
            client,
            base,
            spots,
            worker_spots,
            classes,
            worker_share: o.worker_share,
            run_id: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            seq: AtomicU64::new(0),
            pushes,
            max_in_flight: o.max_in_flight,
            server_pid: server.pid().to_string(),
        });
        Ok(Load { ctx, server, sse, server_version })
    }

    /// One open-loop step at `rate` for `seconds` while `job` runs (started `delay` into the
    /// step): the whole step, the requests scheduled while the job ran, and the job's outcome
    /// with its start and end.
    pub async fn open_step_during<T>(
        &self,
        rate: u32,
        seconds: f64,
        seed: u64,
        delay: Duration,
        job: impl std::future::Future<Output = T>,
    ) -> (StepResult, StepResult, (Instant, Instant, T)) {
        let timed_job = async {
            tokio::time::sleep(delay).await;
            let t0 = Instant::now();
            let out = job.await;
            (t0, Instant::now(), out)
        };
        let (run, job_out) = tokio::join!(open_loop_samples(&self.ctx, rate, seconds, seed), timed_job);
        let (from, to) = (job_out.0, job_out.1);
        let during: Vec<Sample> =
            run.samples.iter().filter(|s| s.scheduled >= from && s.scheduled <= to).cloned().collect();
        let during_n = during.len() as u64;
        let label = format!("open {rate}/s");
        let window = summarise(
            &self.ctx,
            format!("{label} during the job"),
            Some(rate),
            to.saturating_duration_since(from).as_secs_f64(),
            during_n,
            during,
            from,
            to,
            run.cpu,
            true,
        );
        let whole = summarise(
            &self.ctx,
            label,
            Some(rate),
            seconds,
            run.n,
            run.samples,
            run.start,
            run.wall_end,
            run.cpu,
            true,
        );
        (whole, window, job_out)
    }

    /// Stops the load generator's listener and the server.
    pub fn stop(mut self) {
        self.sse.abort();
        self.server.stop();
    }
}

/// Runs every step against a fresh server process. The caller prepared the database.
pub async fn run(o: &IntakeOptions) -> anyhow::Result<IntakeReport> {
    let machine = MachineInfo::current();
    let load = Load::start(o).await?;
    let ctx = load.ctx.clone();
    let server_version = load.server_version.clone();

    let mut steps = Vec::new();
    if o.warmup_seconds > 0.0 {
        let w = open_loop(&ctx, 300, o.warmup_seconds, o.seed).await;
        println!("warm-up: {} of {} acknowledged", w.acknowledged, w.scheduled);
    }
    for (k, &rate) in o.rates.iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let s = open_loop(&ctx, rate, o.step_seconds, o.seed + 1 + k as u64).await;
        println!(
            "{}: {} / {} acknowledged, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, push p99 {:.2} ms, civgrid CPU {:.2}, machine busy {:.0} %",
            s.label,
            s.acknowledged,
            s.scheduled,
            s.achieved_per_sec,
            s.latency.p50_ms,
            s.latency.p99_ms,
            s.push.p99_ms,
            s.server_cpu_cores,
            s.machine_cpu_busy * 100.0
        );
        std::io::stdout().flush().ok();
        steps.push(s);
    }
    if o.closed_loop_connections > 0 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let s = closed_loop(&ctx, o.closed_loop_connections, o.step_seconds, o.seed + 100).await;
        println!(
            "{}: {} acknowledged, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
            s.label, s.acknowledged, s.achieved_per_sec, s.latency.p50_ms, s.latency.p99_ms
        );
        steps.push(s);
    }
    load.stop();
    Ok(IntakeReport {
        machine,
        backend: o.backend.clone(),
        database: String::new(),
        server: format!("civgrid serve (release), {}", server_version.trim()),
        steps,
        ceilings: vec![],
        notes: vec![],
    })
}

pub async fn wait_healthy(client: &reqwest::Client, base: &str, server: &mut Server) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = server.child.try_wait() {
            anyhow::bail!("civgrid serve exited ({status}) before answering /healthz; see its log");
        }
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("civgrid serve did not become healthy within 120 s")
}

/// The demo grids, and those of the worker's community.
async fn spots(client: &reqwest::Client, base: &str, community: &str) -> anyhow::Result<(Vec<Spot>, Vec<Spot>)> {
    let text = client.get(format!("{base}/api/v1/grids.geojson")).send().await?.error_for_status()?.text().await?;
    let fc: geojson::FeatureCollection = text.parse::<geojson::GeoJson>()?.try_into()?;
    let (mut all, mut worker) = (Vec::new(), Vec::new());
    for f in &fc.features {
        let code = f.property("code").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let Some(g) = &f.geometry else { continue };
        let shape = civgrid_geo::import::parse_boundary(g.to_string().as_bytes(), civgrid_geo::Datum::Gcj02)
            .map_err(|r| anyhow::anyhow!("grid {code}: {r}"))?;
        let Some(rect) = shape.bounding_rect() else { continue };
        let spot = Spot { grid: code.clone(), shape, rect };
        if code.starts_with(community) {
            worker.push(spot.clone());
        }
        all.push(spot);
    }
    anyhow::ensure!(!all.is_empty(), "the server has no grids");
    Ok((all, worker))
}

async fn classes(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<(String, String)>> {
    let v: serde_json::Value =
        client.get(format!("{base}/api/v1/case-classes")).send().await?.error_for_status()?.json().await?;
    let list: Vec<(String, String)> = v["classes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["active"].as_bool().unwrap_or(false))
                .filter_map(|c| Some((c["code"].as_str()?.to_owned(), c["minor_name"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!list.is_empty(), "the server has no active case classes");
    Ok(list)
}

pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("signing in as {username}"))?
        .json()
        .await?;
    v["token"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("no token in the login answer"))
}

#[derive(Debug, Deserialize)]
struct PushedEvent {
    case_id: i64,
    action: String,
}

/// Reads the SSE stream and notes when each case's `report` event arrived.
async fn subscribe(client: reqwest::Client, base: String, token: String, pushes: Arc<Mutex<HashMap<i64, Instant>>>) {
    let resp = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(24 * 3600))
        .send()
        .await;
    let Ok(mut resp) = resp else {
        eprintln!("SSE subscription failed");
        return;
    };
    let mut buf = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        let now = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        for ev in take_events(&mut buf) {
            if let Ok(p) = serde_json::from_str::<PushedEvent>(&ev) {
                if p.action == "report" {
                    if let Ok(mut m) = pushes.lock() {
                        m.entry(p.case_id).or_insert(now);
                    }
                }
            }
        }
    }
}

/// Removes complete SSE events (blank-line terminated) from `buf` and returns the data of each
/// `case` event.
pub fn take_events(buf: &mut String) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(end) = buf.find("\n\n") {
        let block: String = buf.drain(..end + 2).collect();
        let mut kind = "message";
        let mut data = String::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                kind = if v.trim() == "case" { "case" } else { "other" };
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if kind == "case" && !data.is_empty() {
            out.push(data);
        }
    }
    out
}

/// The raw samples of one open-loop step.
struct OpenRun {
    n: u64,
    samples: Vec<Sample>,
    start: Instant,
    wall_end: Instant,
    cpu: (f64, f64, f64),
}

async fn open_loop(ctx: &Arc<Ctx>, rate: u32, seconds: f64, seed: u64) -> StepResult {
    let r = open_loop_samples(ctx, rate, seconds, seed).await;
    summarise(ctx, format!("open {rate}/s"), Some(rate), seconds, r.n, r.samples, r.start, r.wall_end, r.cpu, true)
}

async fn open_loop_samples(ctx: &Arc<Ctx>, rate: u32, seconds: f64, seed: u64) -> OpenRun {
    let n = scheduled_count(rate, seconds);
    let sem = Arc::new(Semaphore::new(ctx.max_in_flight));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut set = JoinSet::new();
    let (srv0, cli0, m0) = (cpu_seconds(&ctx.server_pid), cpu_seconds("self"), machine_ticks());
    let start = Instant::now() + Duration::from_millis(20);
    for i in 0..n {
        let at = start + scheduled_offset(i, rate);
        if Instant::now() < at {
            tokio::time::sleep_until(at.into()).await;
        }
        let (body, for_worker) = ctx.body(&mut rng);
        let citizen: u32 = rng.gen();
        let (ctx2, sem2) = (ctx.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem2.acquire_owned().await;
            let started = Instant::now();
            let (status, case_id) = ctx2.send(body, citizen).await;
            Sample { scheduled: at, started, done: Instant::now(), status, case_id, for_worker }
        });
    }
    let samples = collect(&mut set, Duration::from_secs(30)).await;
    let wall_end = samples.iter().map(|s| s.done).max().unwrap_or(start);
    let (srv1, cli1, m1) = (cpu_seconds(&ctx.server_pid), cpu_seconds("self"), machine_ticks());
    // Let the last pushes arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    OpenRun { n, samples, start, wall_end, cpu: (srv1 - srv0, cli1 - cli0, busy_share(m0, m1)) }
}

async fn closed_loop(ctx: &Arc<Ctx>, connections: usize, seconds: f64, seed: u64) -> StepResult {
    let mut set = JoinSet::new();
    let (srv0, cli0, m0) = (cpu_seconds(&ctx.server_pid), cpu_seconds("self"), machine_ticks());
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    for c in 0..connections {
        let ctx2 = ctx.clone();
        set.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed + c as u64);
            let mut out = Vec::new();
            while Instant::now() < end {
                let (body, for_worker) = ctx2.body(&mut rng);
                let citizen: u32 = rng.gen();
                let started = Instant::now();
                let (status, case_id) = ctx2.send(body, citizen).await;
                out.push(Sample { scheduled: started, started, done: Instant::now(), status, case_id, for_worker });
            }
            out
        });
    }
    let mut samples = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(v) = r {
            samples.extend(v);
        }
    }
    let wall_end = samples.iter().map(|s| s.done).max().unwrap_or(end);
    let (srv1, cli1, m1) = (cpu_seconds(&ctx.server_pid), cpu_seconds("self"), machine_ticks());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = samples.len() as u64;
    summarise(
        ctx,
        format!("closed {connections} conns"),
        None,
        seconds,
        n,
        samples,
        start,
        wall_end,
        (srv1 - srv0, cli1 - cli0, busy_share(m0, m1)),
        false,
    )
}

async fn collect(set: &mut JoinSet<Sample>, grace: Duration) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(set.len());
    let deadline = tokio::time::Instant::now() + grace;
    loop {
        match tokio::time::timeout_at(deadline, set.join_next()).await {
            Ok(Some(Ok(s))) => samples.push(s),
            Ok(Some(Err(_))) => {}
            Ok(None) | Err(_) => break,
        }
    }
    set.abort_all();
    samples
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    ctx: &Ctx,
    label: String,
    offered: Option<u32>,
    seconds: f64,
    scheduled: u64,
    samples: Vec<Sample>,
    start: Instant,
    wall_end: Instant,
    cpu: (f64, f64, f64),
    open: bool,
) -> StepResult {
    let mut errors: HashMap<String, u64> = HashMap::new();
    let (mut lat, mut lag, mut push) = (Vec::new(), Vec::new(), Vec::new());
    let mut acknowledged = 0;
    let mut push_missing = 0;
    let pushes = ctx.pushes.lock().map(|m| m.clone()).unwrap_or_default();
    for s in &samples {
        lag.push(s.started.saturating_duration_since(s.scheduled).as_micros() as u64);
        if s.status == 201 {
            acknowledged += 1;
            lat.push(s.done.saturating_duration_since(s.scheduled).as_micros() as u64);
            if s.for_worker {
                match s.case_id.and_then(|id| pushes.get(&id)) {
                    Some(t) => push.push(t.saturating_duration_since(s.scheduled).as_micros() as u64),
                    None => push_missing += 1,
                }
            }
        } else {
            let key = if s.status == 0 { "transport".to_owned() } else { s.status.to_string() };
            *errors.entry(key).or_default() += 1;
        }
    }
    let unfinished = scheduled.saturating_sub(samples.len() as u64);
    if unfinished > 0 {
        errors.insert("unfinished".into(), unfinished);
    }
    let wall = wall_end.saturating_duration_since(start).as_secs_f64().max(seconds.min(1e-3));
    let achieved = acknowledged as f64 / wall;
    let latency = Latency::from_micros(lat);
    let sustained = open
        && offered.is_some_and(|r| {
            acknowledged as f64 >= 0.999 * scheduled as f64
                && achieved >= 0.98 * f64::from(r)
                && latency.p99_ms < 1000.0
        });
    let mut errors: Vec<(String, u64)> = errors.into_iter().collect();
    errors.sort();
    StepResult {
        label,
        offered_per_sec: offered,
        seconds,
        scheduled,
        acknowledged,
        errors,
        achieved_per_sec: achieved,
        latency,
        send_lag: Latency::from_micros(lag),
        push: Latency::from_micros(push),
        push_missing,
        server_cpu_cores: cpu.0 / wall,
        client_cpu_cores: cpu.1 / wall,
        machine_cpu_busy: cpu.2,
        sustained,
    }
}

/// Raw single-row inserts into a scratch table of the same database, through the given pool
/// (open it with civgrid's own settings so durability matches): each INSERT is its own
/// autocommit transaction, first from one connection, then from `connections` at once.
pub async fn raw_insert_ceiling(
    pool: &sqlx::AnyPool,
    backend: &str,
    seconds: f64,
    connections: usize,
) -> anyhow::Result<Vec<Ceiling>> {
    let id = if backend == "sqlite" { "integer primary key autoincrement" } else { "bigserial primary key" };
    sqlx::query("drop table if exists bench_raw_insert").execute(pool).await?;
    sqlx::query(&format!(
        "create table bench_raw_insert (id {id}, number text not null, state text not null, channel text not null,
           description text not null, class_code text, class_version integer, lng double precision,
           lat double precision, grid_code text, address text, reported_by text not null,
           idempotency_key text unique, created_at text not null, updated_at text not null)"
    ))
    .execute(pool)
    .await?;
    let seq = Arc::new(AtomicU64::new(0));
    let mut out = Vec::new();
    for conns in [1, connections.max(1)] {
        let end = Instant::now() + Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let mut set = JoinSet::new();
        for _ in 0..conns {
            let (pool, seq) = (pool.clone(), seq.clone());
            set.spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < end {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let now = "2026-11-22T06:00:00.000Z";
                    let r = sqlx::query(
                        "insert into bench_raw_insert (number, state, channel, description, class_code, class_version,
                           lng, lat, grid_code, address, reported_by, idempotency_key, created_at, updated_at)
                         values ($1, 'received', 'app', $2, '0101', 1, 113.1, 23.0, '44060401000101', $3, 'citizen', $4, $5, $5)",
                    )
                    .bind(format!("20261122{n:06}"))
                    .bind(format!("【压测 {n}】暴露垃圾：网格 44060401000101 附近，请尽快处理。"))
                    .bind("禅城区 网格 44060401000101")
                    .bind(format!("raw-{n}"))
                    .bind(now)
                    .execute(&pool)
                    .await;
                    if r.is_ok() {
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                }
                lat
            });
        }
        let mut lat = Vec::new();
        while let Some(r) = set.join_next().await {
            lat.extend(r.unwrap_or_default());
        }
        let wall = start.elapsed().as_secs_f64();
        out.push(Ceiling {
            what: format!("{backend}, autocommit INSERT"),
            connections: conns,
            inserts_per_sec: lat.len() as f64 / wall,
            latency: Latency::from_micros(lat),
        });
    }
    sqlx::query("drop table bench_raw_insert").execute(pool).await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 99.9), 100);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
        let l = Latency::from_micros(vec![3000, 1000, 2000]);
        assert_eq!((l.count, l.p50_ms, l.max_ms), (3, 2.0, 3.0));
    }

    #[test]
    fn the_schedule_is_evenly_spaced_and_independent_of_answers() {
        assert_eq!(scheduled_count(2000, 15.0), 30_000);
        assert_eq!(scheduled_offset(0, 2000), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 2000), Duration::from_micros(500));
        assert_eq!(scheduled_offset(2000, 2000), Duration::from_secs(1));
        assert_eq!(scheduled_offset(3, 3), Duration::from_secs(1));
        // No drift over a long step: request i is due at exactly i/R seconds.
        assert_eq!(scheduled_offset(299_999, 5000), Duration::from_nanos(59_999_800_000));
    }

    #[test]
    fn busy_share_is_the_busy_fraction_of_elapsed_ticks() {
        assert_eq!(busy_share((100, 400), (250, 600)), 0.75);
        assert_eq!(busy_share((5, 5), (5, 5)), 0.0);
    }

    #[test]
    fn sse_events_are_split_on_blank_lines() {
        let mut buf = String::from(
            ": keep-alive\n\nevent: case\ndata: {\"case_id\":1}\nid: 1-x\n\nevent: lagged\ndata: 3\n\nevent: case\ndata: {\"ca",
        );
        assert_eq!(take_events(&mut buf), vec!["{\"case_id\":1}".to_owned()]);
        assert_eq!(buf, "event: case\ndata: {\"ca");
        buf.push_str("se_id\":2}\n\n");
        assert_eq!(take_events(&mut buf), vec!["{\"case_id\":2}".to_owned()]);
        assert!(buf.is_empty());
    }
}
