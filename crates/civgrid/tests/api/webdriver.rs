//! A small W3C WebDriver client for the browser tests: Debian's `chromedriver` driving headless
//! `chromium`, both started here on free ports with a fresh profile each. It speaks the handful
//! of WebDriver commands the tests need (navigate, find, click, type, run a script, take a
//! screenshot) over the `reqwest` client civgrid already uses, so the tests add no dependency.
//!
//! Browsers cannot be downloaded on our machines: the tests **fail** (never skip) when
//! `chromium` or `chromedriver` is missing; `.ci/run` installs them with apt-get.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The W3C name of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a wait may last before the test gives up as hung (a guard, not a speed target).
const PATIENCE: Duration = Duration::from_secs(60);

pub fn chromium_path() -> PathBuf {
    PathBuf::from(std::env::var("CIVGRID_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
}

pub fn chromedriver_path() -> PathBuf {
    PathBuf::from(std::env::var("CIVGRID_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A running chromedriver; killed when dropped.
pub struct Driver {
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

impl Driver {
    pub async fn start() -> Driver {
        let (chromium, chromedriver) = (chromium_path(), chromedriver_path());
        assert!(
            chromium.exists() && chromedriver.exists(),
            "the browser tests need Debian's chromium and chromedriver ({} and {}): apt-get install -y chromium chromium-driver",
            chromium.display(),
            chromedriver.display()
        );
        let port = free_port();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
        let started = Instant::now();
        loop {
            let ready = match driver.http.get(format!("{}/status", driver.url)).send().await {
                Ok(r) => r.json::<Value>().await.ok().is_some_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return driver;
            }
            assert!(started.elapsed() < PATIENCE, "chromedriver did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A new browser (its own Chromium process and profile) with a window of the given size.
    pub async fn session(&self, width: u32, height: u32) -> Session {
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium_path(), "args": args},
        }}});
        let v = call(&self.http, reqwest::Method::POST, &format!("{}/session", self.url), Some(caps)).await;
        let id = v["sessionId"].as_str().unwrap_or_else(|| panic!("new session: {v}")).to_owned();
        Session {
            http: self.http.clone(),
            base: format!("{}/session/{id}", self.url),
            driver: self.url.trim_start_matches("http://").to_owned(),
            id,
            open: true,
            _profile: profile,
        }
    }
}

async fn call(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
    let mut req = http.request(method.clone(), url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or_else(|e| panic!("{method} {url}: not JSON: {e}"));
    assert!(status.is_success(), "{method} {url}: {status} {}", v["value"]);
    v["value"].clone()
}

/// One browser window.
pub struct Session {
    http: reqwest::Client,
    base: String,
    /// host:port of chromedriver, and the session there (for closing it from `Drop`).
    driver: String,
    id: String,
    open: bool,
    _profile: tempfile::TempDir,
}

/// A test that fails half-way still ends its browser: chromedriver quits Chromium when the
/// session is deleted (killing chromedriver alone would leave Chromium running).
impl Drop for Session {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        use std::io::{Read, Write};
        if let Ok(mut conn) = std::net::TcpStream::connect(&self.driver) {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.id, self.driver
            );
            if conn.write_all(req.as_bytes()).is_ok() {
                let _ = conn.read_to_end(&mut Vec::new());
            }
        }
    }
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    /// Runs `body` as a function in the page; its return value.
    pub async fn js(&self, body: &str, args: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": body, "args": args}))).await
    }

    /// Waits until the script returns something other than null/false/"" and returns it.
    pub async fn until(&self, what: &str, body: &str, args: Value) -> Value {
        let started = Instant::now();
        loop {
            let v = self.js(body, args.clone()).await;
            if !(v.is_null() || v == false || v == "") {
                return v;
            }
            if started.elapsed() > PATIENCE {
                self.screenshot("timeout").await;
                let url = self.js("return location.href", json!([])).await;
                panic!("waited in vain for {what} (at {url}; screenshot target/screenshots/timeout.png)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching the CSS selector and returns it.
    pub async fn find(&self, css: &str) -> Element {
        self.until(&format!("`{css}`"), "return document.querySelector(arguments[0]) !== null", json!([css])).await;
        let v = self.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        Element(v[ELEMENT].as_str().unwrap_or_else(|| panic!("element {css}: {v}")).to_owned())
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{}/click", e.0), Some(json!({}))).await;
    }

    /// Clears a field and types into it, as a person would.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{}/clear", e.0), Some(json!({}))).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{}/value", e.0), Some(json!({"text": text}))).await;
    }

    /// Chooses a file in an `<input type=file>` (chromedriver reads it from this machine).
    pub async fn send_file(&self, css: &str, path: &std::path::Path) {
        let e = self.find(css).await;
        let text = path.to_str().expect("UTF-8 path");
        self.cmd(reqwest::Method::POST, &format!("/element/{}/value", e.0), Some(json!({"text": text}))).await;
    }

    /// The text of the first element matching the selector, once it has some.
    pub async fn text(&self, css: &str) -> String {
        let v = self
            .until(
                &format!("text in `{css}`"),
                "const e = document.querySelector(arguments[0]); return e && e.textContent.trim();",
                json!([css]),
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the page's path is `path`.
    pub async fn at(&self, path: &str) {
        self.until(&format!("the page {path}"), "return location.pathname === arguments[0]", json!([path])).await;
        self.until("the page to load", "return document.readyState === 'complete'", json!([])).await;
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.cmd(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await;
    }

    /// Saves a PNG of the viewport as `target/screenshots/{name}.png` (CI artefacts; not
    /// committed) and returns it.
    pub async fn screenshot(&self, name: &str) -> Vec<u8> {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default()).expect("PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), &png).expect("write screenshot");
        png
    }

    pub async fn close(mut self) {
        if self.http.delete(&self.base).send().await.is_ok() {
            self.open = false;
        }
    }
}

pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}
