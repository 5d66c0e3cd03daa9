//! `civgrid-bench pages` (issue 6's speed target): the server render time of the busiest pages
//! — the desk's queues (intake, filing, dispatch), the handler's queue, the command page and
//! the command map's data — over a database of a million cases, and the command map of all
//! 1,046 demo grids with 10,000 live cases in headless Chromium: from navigation to the grids
//! and markers drawn, then how long a zoom and a pan take to reach the screen.
//!
//! The database is made exactly as `civgrid-bench indicators` makes it
//! ([`crate::bulk`]: demo cases replayed through the case service, then copied inside the
//! database), so the two benchmarks measure the same data. Pages are requested in-process
//! through the real router (middleware, session lookup, domain, template) one at a time; the
//! browser is Debian's `chromium` driven by `chromedriver` over W3C WebDriver on loopback, as
//! the browser tests drive it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use clap::Args;
use serde::Serialize;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::bulk::{database_version, load_cases, Loaded, Place};
use civgrid::demo::DEMO_PASSWORD;

/// `civgrid-bench pages`.
#[derive(Debug, Clone, Args)]
pub struct PagesArgs {
    /// `sqlite`, or a postgres:// URL (scratch schema, dropped afterwards unless --keep).
    #[arg(long, default_value = "sqlite")]
    pub backend: String,
    #[arg(long, default_value = "bench-data/pages")]
    pub work: PathBuf,
    /// Cases in the database.
    #[arg(long, default_value_t = 1_000_000)]
    pub cases: usize,
    /// Cases replayed through the workflow, then copied.
    #[arg(long, default_value_t = 1000)]
    pub templates: usize,
    /// Timed requests of each page (after two untimed ones).
    #[arg(long, default_value_t = 200)]
    pub repeat: usize,
    /// Page loads of the command map in Chromium (0: no browser part).
    #[arg(long, default_value_t = 5)]
    pub browser_runs: usize,
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    #[arg(long, default_value = "/usr/bin/chromedriver")]
    pub chromedriver: PathBuf,
    /// Keep the database (SQLite file or PostgreSQL schema) afterwards.
    #[arg(long)]
    pub keep: bool,
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One page's server render times.
#[derive(Debug, Clone, Serialize)]
pub struct PageTiming {
    pub page: String,
    pub user: String,
    /// Size of the answer.
    pub bytes: usize,
    pub runs: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Within the 50 ms p99 target.
    pub ok: bool,
}

/// One load of the command map in Chromium.
#[derive(Debug, Clone, Serialize)]
pub struct MapLoad {
    /// From navigation start to the first frame showing the grids and markers
    /// (`performance.now()` in the page).
    pub drawn_ms: f64,
    /// From navigation start to the map's data received (grids, recent and live cases).
    pub data_ms: f64,
    /// … to the grids and boundaries built in the page (before the first frame shows them).
    pub grids_ms: f64,
    /// … to the case markers placed.
    pub cases_ms: f64,
    /// A wheel zoom: from the event to the next frame painted.
    pub zoom_ms: f64,
    /// A drag pan: from the first pointer event to the next frame painted.
    pub pan_ms: f64,
    /// Drawn, then a zoom and a pan answered: the page is interactive.
    pub interactive_ms: f64,
    pub grids: i64,
    pub markers: i64,
}

/// What `civgrid-bench pages` measured.
#[derive(Debug, Clone, Serialize)]
pub struct PagesReport {
    pub machine: crate::MachineInfo,
    pub database: String,
    pub cases: i64,
    pub live_cases: i64,
    pub templates: usize,
    pub seed_seconds: f64,
    pub copy_seconds: f64,
    pub rebuild_seconds: f64,
    pub pages: Vec<PageTiming>,
    pub browser: String,
    pub map_loads: Vec<MapLoad>,
    /// Worst interactive time over the loads (target ≤ 1,000 ms).
    pub map_interactive_max_ms: Option<f64>,
}

impl std::fmt::Display for PagesReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "### Pages over {} cases — {} ({})", self.cases, self.database, self.machine.date_utc)?;
        writeln!(f)?;
        writeln!(
            f,
            "{} cases ({} live); {} replayed through the workflow in {:.0} s, copied in {:.0} s; indicator rows \
             rebuilt in {:.1} s. {} CPUs, {}.",
            self.cases,
            self.live_cases,
            self.templates,
            self.seed_seconds,
            self.copy_seconds,
            self.rebuild_seconds,
            self.machine.nproc,
            self.machine.cpu_model
        )?;
        writeln!(f)?;
        writeln!(f, "Server render, in-process through the router, one request at a time (target p99 ≤ 50 ms):")?;
        writeln!(f)?;
        writeln!(f, "| page | as | bytes | runs | p50 ms | p99 ms | max ms | ≤ 50 ms |")?;
        writeln!(f, "|---|---|---|---|---|---|---|---|")?;
        for t in &self.pages {
            writeln!(
                f,
                "| `{}` | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} |",
                t.page,
                t.user,
                t.bytes,
                t.runs,
                t.p50_ms,
                t.p99_ms,
                t.max_ms,
                if t.ok { "yes" } else { "**no**" }
            )?;
        }
        if !self.map_loads.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "Command map in {} (headless, 1600×1000), all grids and the live cases (target: interactive ≤ 1,000 ms):",
                self.browser
            )?;
            writeln!(f)?;
            writeln!(
                f,
                "| load | grids | markers | data in ms | grids built ms | markers placed ms | drawn ms | zoom ms | pan ms | interactive ms |"
            )?;
            writeln!(f, "|---|---|---|---|---|---|---|---|---|---|")?;
            for (i, m) in self.map_loads.iter().enumerate() {
                writeln!(
                    f,
                    "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
                    i + 1,
                    m.grids,
                    m.markers,
                    m.data_ms,
                    m.grids_ms,
                    m.cases_ms,
                    m.drawn_ms,
                    m.zoom_ms,
                    m.pan_ms,
                    m.interactive_ms
                )?;
            }
        }
        Ok(())
    }
}

/// Builds a database of `cases` cases as `bench indicators` does and times the pages over it.
pub async fn bench_pages(a: &PagesArgs) -> anyhow::Result<PagesReport> {
    let place = Place::create(&a.backend, &a.work, "pages").await?;
    let result = run(a, &place).await;
    place.finish(a.keep, result).await
}

/// The pages timed: (user, path).
const PAGES: &[(&str, &str)] = &[
    ("intake", "/workbench/desk"),
    ("shift_leader", "/workbench/desk"),
    ("dispatcher", "/workbench/desk"),
    ("handler_cg", "/workbench/handler"),
    ("commander", "/workbench/command"),
    ("commander", "/api/v1/map/cases?limit=10000"),
    ("commander", "/api/v1/cases?limit=500"),
    ("commander", "/api/v1/grids.geojson"),
    ("commander", "/workbench/cases"),
    ("commander", "/workbench/trends"),
];

async fn run(a: &PagesArgs, place: &Place) -> anyhow::Result<PagesReport> {
    let Loaded { db, state, cases, seed_seconds, copy_seconds, rebuild_seconds, .. } =
        load_cases(place, a.templates, a.cases).await?;
    let live_cases: i64 = sqlx::query_scalar(&format!(
        "select count(*) from case_record where state in ({})",
        civgrid::cases::LIVE_STATES.map(|s| format!("'{s}'")).join(", ")
    ))
    .fetch_one(db.pool())
    .await?;
    println!("{cases} cases ({live_cases} live)");
    let router = civgrid::web::router(state);

    let mut tokens = std::collections::HashMap::new();
    for (user, _) in PAGES {
        if !tokens.contains_key(*user) {
            tokens.insert(*user, login(&router, user).await?);
        }
    }
    let mut pages = Vec::new();
    for (user, path) in PAGES {
        let cookie = format!("civgrid_session={}", tokens[*user]);
        let mut bytes = 0;
        for _ in 0..2 {
            bytes = get(&router, path, &cookie).await?;
        }
        let mut micros = Vec::with_capacity(a.repeat);
        for _ in 0..a.repeat {
            let t = Instant::now();
            get(&router, path, &cookie).await?;
            micros.push(t.elapsed().as_micros() as u64);
        }
        let l = crate::intake::Latency::from_micros(micros);
        println!("{path} as {user}: {bytes} bytes, p50 {:.1} ms, p99 {:.1} ms", l.p50_ms, l.p99_ms);
        pages.push(PageTiming {
            page: (*path).to_owned(),
            user: (*user).to_owned(),
            bytes,
            runs: l.count,
            p50_ms: l.p50_ms,
            p99_ms: l.p99_ms,
            max_ms: l.max_ms,
            ok: l.p99_ms <= 50.0,
        });
    }

    let (browser, map_loads) = if a.browser_runs > 0 {
        let cookie = tokens["commander"].clone();
        browser_map(a, router.clone(), &cookie).await?
    } else {
        (String::new(), Vec::new())
    };
    let map_interactive_max_ms = map_loads.iter().map(|m| m.interactive_ms).reduce(f64::max);
    let database = database_version(&db).await;
    db.close().await;
    Ok(PagesReport {
        machine: crate::MachineInfo::current(),
        database,
        cases,
        live_cases,
        templates: a.templates,
        seed_seconds,
        copy_seconds,
        rebuild_seconds,
        pages,
        browser,
        map_loads,
        map_interactive_max_ms,
    })
}

async fn login(router: &axum::Router, user: &str) -> anyhow::Result<String> {
    let body = json!({"username": user, "password": DEMO_PASSWORD}).to_string();
    let req =
        Request::post("/api/v1/auth/login").header(header::CONTENT_TYPE, "application/json").body(Body::from(body))?;
    let resp = router.clone().oneshot(req).await?;
    anyhow::ensure!(resp.status() == StatusCode::OK, "login {user}: {}", resp.status());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    let v: Value = serde_json::from_slice(&bytes)?;
    v["token"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("login {user}: no token"))
}

/// GETs `path` with the session cookie, reading the whole answer; its size.
async fn get(router: &axum::Router, path: &str, cookie: &str) -> anyhow::Result<usize> {
    let req = Request::get(path).header(header::COOKIE, cookie).body(Body::empty())?;
    let resp = router.clone().oneshot(req).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "{path}: {status} {}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
    );
    Ok(bytes.len())
}

// ---------------------------------------------------------------------------------------------
// The browser part: a few W3C WebDriver commands over loopback.

struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = http.request(method.clone(), url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let v: Value = resp.json().await?;
    anyhow::ensure!(status.is_success(), "{method} {url}: {status} {}", v["value"]);
    Ok(v["value"].clone())
}

/// Serves `router` on a free loopback port and loads the command map `browser_runs` times.
async fn browser_map(a: &PagesArgs, router: axum::Router, token: &str) -> anyhow::Result<(String, Vec<MapLoad>)> {
    anyhow::ensure!(
        a.chromium.exists() && a.chromedriver.exists(),
        "the browser part needs {} and {} (apt-get install -y chromium chromium-driver), or --browser-runs 0",
        a.chromium.display(),
        a.chromedriver.display()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(&a.chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
    let started = Instant::now();
    loop {
        let ready = match driver.http.get(format!("{}/status", driver.url)).send().await {
            Ok(r) => r.json::<Value>().await.ok().is_some_and(|v| v["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "chromedriver did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = a.work.join("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile)?;
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": a.chromium, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            format!("--user-data-dir={}", std::fs::canonicalize(&profile)?.display()), "--window-size=1600,1000"]},
    }}});
    let v = call(&driver.http, reqwest::Method::POST, &format!("{}/session", driver.url), Some(caps)).await?;
    let id = v["sessionId"].as_str().ok_or_else(|| anyhow::anyhow!("new session: {v}"))?.to_owned();
    let browser = format!("Chromium {}", v["capabilities"]["browserVersion"].as_str().unwrap_or("?"));
    let session = format!("{}/session/{id}", driver.url);
    let result = map_loads(&driver.http, &session, &format!("http://{addr}"), token, a.browser_runs).await;
    let _ = driver.http.delete(&session).send().await;
    server.abort();
    Ok((browser, result?))
}

/// Waits in the page for the map to be drawn, then zooms with the wheel and pans with a drag,
/// each timed from its event to the next painted frame.
const MEASURE: &str = r#"
const done = arguments[arguments.length - 1];
const svg = document.getElementById("command-map");
const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
const wait = () => new Promise(r => {
  const check = () => (svg && svg.dataset.drawn ? r() : setTimeout(check, 5));
  check();
});
(async () => {
  await wait();
  // The grids and markers are in the page: wait for the frame that shows them.
  await frame();
  const drawn = performance.now();
  const box = svg.getBoundingClientRect();
  const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
  let t = performance.now();
  svg.dispatchEvent(new WheelEvent("wheel", { deltaY: -100, clientX: cx, clientY: cy, bubbles: true, cancelable: true }));
  await frame();
  const zoom = performance.now() - t;
  t = performance.now();
  svg.dispatchEvent(new PointerEvent("pointerdown", { clientX: cx, clientY: cy, bubbles: true }));
  svg.dispatchEvent(new PointerEvent("pointermove", { clientX: cx + 80, clientY: cy + 40, bubbles: true }));
  window.dispatchEvent(new PointerEvent("pointerup", { clientX: cx + 80, clientY: cy + 40, bubbles: true }));
  await frame();
  const pan = performance.now() - t;
  // When the map's data had arrived (the last of the grids, the recent and the live cases).
  const data = Math.max(0, ...performance.getEntriesByType("resource")
    .filter(e => /grids\.geojson|\/api\/v1\/(map\/)?cases\?/.test(e.name)).map(e => e.responseEnd));
  const mark = n => (performance.getEntriesByName(n)[0] || { startTime: NaN }).startTime;
  done({ drawn, data, grids_drawn: mark("civgrid:grids"), cases_placed: mark("civgrid:cases"), zoom, pan,
    end: performance.now(),
    grids: svg.querySelectorAll("path[data-grid]").length, markers: svg.querySelectorAll("circle.marker").length });
})();
"#;

async fn map_loads(
    http: &reqwest::Client,
    session: &str,
    base: &str,
    token: &str,
    runs: usize,
) -> anyhow::Result<Vec<MapLoad>> {
    use reqwest::Method;
    call(http, Method::POST, &format!("{session}/timeouts"), Some(json!({"script": 120_000, "pageLoad": 120_000})))
        .await?;
    // The session cookie belongs to the server's origin: visit it once, then set it.
    call(http, Method::POST, &format!("{session}/url"), Some(json!({"url": format!("{base}/login")}))).await?;
    call(
        http,
        Method::POST,
        &format!("{session}/cookie"),
        Some(json!({"cookie": {"name": "civgrid_session", "value": token, "path": "/"}})),
    )
    .await?;
    let mut loads = Vec::new();
    // One untimed load warms the server's caches and the browser's script cache.
    for run in 0..=runs {
        call(http, Method::POST, &format!("{session}/url"), Some(json!({"url": format!("{base}/workbench/command")})))
            .await?;
        let v =
            call(http, Method::POST, &format!("{session}/execute/async"), Some(json!({"script": MEASURE, "args": []})))
                .await?;
        let n = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let m = MapLoad {
            drawn_ms: n("drawn"),
            data_ms: n("data"),
            grids_ms: n("grids_drawn"),
            cases_ms: n("cases_placed"),
            zoom_ms: n("zoom"),
            pan_ms: n("pan"),
            interactive_ms: n("drawn") + n("zoom") + n("pan"),
            grids: v["grids"].as_i64().unwrap_or(0),
            markers: v["markers"].as_i64().unwrap_or(0),
        };
        println!(
            "command map{}: {} grids, {} markers; data at {:.0} ms, grids built {:.0}, markers placed {:.0}, drawn at {:.0} ms; zoom {:.0} ms, pan {:.0} ms",
            if run == 0 { " (warm-up)" } else { "" },
            m.grids,
            m.markers,
            m.data_ms,
            m.grids_ms,
            m.cases_ms,
            m.drawn_ms,
            m.zoom_ms,
            m.pan_ms
        );
        if run > 0 {
            loads.push(m);
        }
    }
    Ok(loads)
}
