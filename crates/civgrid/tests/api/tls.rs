//! HTTPS from the real binary: a throwaway intranet CA and server certificate (rcgen), a client
//! that trusts only that CA; Secure cookies and HSTS; every bad TLS input stopping start-up;
//! the certificate swapped on SIGHUP; the drain on shutdown over TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

/// A CA and a server certificate for `localhost` and 127.0.0.1 it signed, as PEM text.
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn pki(validity: Option<(time::OffsetDateTime, time::OffsetDateTime)>) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "禅城区政务内网 CA (test)");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).expect("CA").pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("params");
    params.distinguished_name.push(DnType::CommonName, "civgrid.test");
    if let Some((from, to)) = validity {
        params.not_before = from;
        params.not_after = to;
    }
    let cert = params.signed_by(&key, &issuer).expect("sign").pem();
    Pki { ca, cert, key: key.serialize_pem() }
}

impl Pki {
    /// Writes the certificate and key to `dir` (as an operator would install them).
    fn install(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, &self.cert).expect("write cert");
        std::fs::write(&key, &self.key).expect("write key");
        (cert, key)
    }

    /// A client that trusts this CA only.
    fn client(&self) -> reqwest::Client {
        let root = reqwest::Certificate::from_pem(self.ca.as_bytes()).expect("CA pem");
        reqwest::Client::builder().add_root_certificate(root).timeout(Duration::from_secs(10)).build().expect("client")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The real binary, serving in the background; killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `civgrid SETTINGS COMMAND --addr 127.0.0.1:PORT` and waits until it listens.
    fn start(settings: &[&str], command: &[&str]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_civgrid"));
        for (k, _) in std::env::vars() {
            if k.starts_with("CIVGRID_") {
                cmd.env_remove(k);
            }
        }
        let child = cmd
            .args(settings)
            .args(command)
            .args(["--addr", &addr])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start civgrid");
        let mut server = Server { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                server.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("civgrid exited with {status} before listening: {err}");
            }
            assert!(started.elapsed() < Duration::from_secs(60), "civgrid did not listen within a minute");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        let host = if scheme == "https" { "localhost" } else { "127.0.0.1" };
        format!("{scheme}://{host}:{}{path}", self.port)
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().expect("kill");
        assert!(ok.success());
    }

    /// Stops it with SIGTERM and returns its exit status and log.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal("TERM");
        let mut out = String::new();
        if let Some(o) = self.child.stdout.take() {
            BufReader::new(o).read_to_string(&mut out).expect("stdout");
        }
        (self.child.wait().expect("wait"), out)
    }
}

/// The settings that put the binary on a test app's database and ledger keys.
fn on(app: &TestApp) -> Vec<String> {
    let keys = app.place.dir.as_ref().expect("dir").path().join("ledger-keys");
    vec![
        "--database".into(),
        app.place.url.as_str().to_owned(),
        "--ledger-key-dir".into(),
        keys.to_str().expect("path").to_owned(),
    ]
}

fn login_body() -> serde_json::Value {
    serde_json::json!({"username": "admin", "password": civgrid::demo::DEMO_PASSWORD})
}

/// `civgrid serve` with a certificate from the district's CA: HTTPS only, HSTS on every
/// answer, the session cookie `Secure`; a client that does not trust the CA, and plain HTTP to
/// the same port, get nothing; SIGTERM drains and exits 0.
async fn serve_https_with_an_intranet_ca(b: Backend) {
    let app = TestApp::demo(b).await;
    let dir = tempfile::tempdir().expect("dir");
    let pki = pki(None);
    let (cert, key) = pki.install(dir.path());
    let mut settings = on(&app);
    settings.extend(["--tls-cert".into(), cert.display().to_string(), "--tls-key".into(), key.display().to_string()]);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let server = Server::start(&settings, &["serve"]);
    let client = pki.client();

    let resp = client.get(server.url("https", "/healthz")).send().await.expect("https healthz");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["strict-transport-security"], "max-age=31536000");
    let resp = client.get(server.url("https", "/no-such-page")).send().await.expect("404");
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["strict-transport-security"], "max-age=31536000", "on every answer");

    let resp = client.post(server.url("https", "/api/v1/auth/login")).json(&login_body()).send().await.expect("login");
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(cookie.starts_with("civgrid_session=") && cookie.contains("; Secure"), "{cookie}");
    let resp = client.post(server.url("https", "/api/v1/auth/logout")).send().await.expect("logout");
    assert!(resp.headers()["set-cookie"].to_str().expect("cookie").contains("; Secure"));

    let stranger = pki_client_of_another_ca();
    assert!(stranger.get(server.url("https", "/healthz")).send().await.is_err(), "an unknown CA is refused");
    let plain = reqwest::Client::new().get(server.url("http", "/healthz")).send().await;
    assert!(plain.is_err(), "plain HTTP to the TLS port gets no answer: {plain:?}");

    let (status, log) = server.stop();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("serving HTTPS") && log.contains("civgrid.test"), "{log}");
}
both_backends!(serve_https_with_an_intranet_ca);

fn pki_client_of_another_ca() -> reqwest::Client {
    pki(None).client()
}

/// Without TLS, `serve` still marks the session cookie Secure (it expects a TLS proxy in front,
/// and warns when none is configured) and sends no HSTS; `--hsts true` sends it behind a TLS
/// proxy; `--secure-cookies false` is the plain-HTTP lab, with a warning.
async fn serve_without_tls_keeps_cookies_secure(b: Backend) {
    let app = TestApp::demo(b).await;
    let base = on(&app);
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let client = reqwest::Client::new();
    let cases: [(&[&str], bool, bool, &str); 3] = [
        (&[], true, false, "no TLS here and no trusted proxy"),
        (&["--hsts", "true", "--trusted-proxy", "127.0.0.1"], true, true, ""),
        (&["--secure-cookies", "false"], false, false, "secure_cookies is false"),
    ];
    for (extra, secure, hsts, warning) in cases {
        let settings: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let server = Server::start(&settings, &["serve"]);
        let resp = client.get(server.url("http", "/healthz")).send().await.expect("healthz");
        assert_eq!(resp.headers().contains_key("strict-transport-security"), hsts, "{extra:?}");
        let resp =
            client.post(server.url("http", "/api/v1/auth/login")).json(&login_body()).send().await.expect("login");
        assert_eq!(resp.status(), 200);
        let cookie = resp.headers()["set-cookie"].to_str().expect("cookie").to_owned();
        assert_eq!(cookie.contains("; Secure"), secure, "{extra:?}: {cookie}");
        let (status, log) = server.stop();
        assert!(status.success(), "{log}");
        if warning.is_empty() {
            assert!(!log.contains("WARN"), "{extra:?}: {log}");
        } else {
            assert!(log.contains(warning), "{extra:?}: {log}");
        }
    }
}
both_backends!(serve_without_tls_keeps_cookies_secure);

/// SIGHUP reads the files again: a renewed certificate (here from another CA) is served to new
/// connections without a restart; files that fail the checks are refused and the certificate in
/// use is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_swaps_the_certificate_and_keeps_it_when_the_new_files_are_bad() {
    let app = TestApp::demo(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("dir");
    let (old, new) = (pki(None), pki(None));
    let (cert, key) = old.install(dir.path());
    let mut settings = on(&app);
    settings.extend(["--tls-cert".into(), cert.display().to_string(), "--tls-key".into(), key.display().to_string()]);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let server = Server::start(&settings, &["serve"]);
    let healthz = server.url("https", "/healthz");
    assert!(old.client().get(&healthz).send().await.is_ok());
    assert!(new.client().get(&healthz).send().await.is_err());

    new.install(dir.path());
    server.signal("HUP");
    let started = Instant::now();
    while new.client().get(&healthz).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "the renewed certificate is served after SIGHUP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(old.client().get(&healthz).send().await.is_err(), "the old certificate is no longer served");

    // A key that is not the certificate's: refused, the renewed certificate stays.
    std::fs::write(&key, pki(None).key).expect("write");
    server.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(new.client().get(&healthz).send().await.is_ok(), "the certificate in use is kept");
    let (status, log) = server.stop();
    assert!(status.success());
    assert!(log.contains("SIGHUP: the TLS certificate was read again"), "{log}");
    assert!(log.contains("SIGHUP: the TLS files were refused") && log.contains("does not belong"), "{log}");
}

/// Each bad TLS input stops `serve` (and the demo) at start-up with a line naming the setting
/// and the file, a non-zero exit, nothing served and the database not even created.
#[test]
fn bad_tls_input_stops_start_up_before_anything_is_done() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let good = pki(None);
    let (cert, key) = good.install(d);
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let other_key = write("other-key.pem", &pki(None).key);
    let garbage = write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
    let text = write("text.pem", "hello\n");
    let encrypted = write(
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let expired = pki(Some((rcgen::date_time_ymd(2020, 1, 1), rcgen::date_time_ymd(2021, 1, 1))));
    let expired_cert = write("expired.pem", &expired.cert);
    let expired_key = write("expired-key.pem", &expired.key);
    let future = pki(Some((rcgen::date_time_ymd(2090, 1, 1), rcgen::date_time_ymd(2091, 1, 1))));
    let future_cert = write("future.pem", &future.cert);
    let future_key = write("future-key.pem", &future.key);
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let missing = d.join("missing.pem").display().to_string();

    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (&missing, &key, vec!["--tls-cert / CIVGRID_TLS_CERT", "cannot read", "missing.pem", "No such file"]),
        (&cert, &missing, vec!["--tls-key / CIVGRID_TLS_KEY", "cannot read", "missing.pem"]),
        (&garbage, &key, vec!["--tls-cert", "garbage.pem is not a PEM file"]),
        (&text, &key, vec!["--tls-cert", "text.pem holds no PEM certificate"]),
        (&key, &key, vec!["--tls-cert", "holds no PEM certificate"]),
        (&cert, &cert, vec!["--tls-key", "holds a certificate, not a private key (are the two files swapped?)"]),
        (&cert, &encrypted, vec!["--tls-key", "holds no unencrypted PEM private key"]),
        (&cert, &other_key, vec!["--tls-key", "other-key.pem does not belong to the certificate in"]),
        (&expired_cert, &expired_key, vec!["--tls-cert", "expired on 2021-01-01", "renewed certificate"]),
        (&future_cert, &future_key, vec!["--tls-cert", "not valid before 2090-01-01"]),
    ];
    for (c, k, expect) in cases {
        let db = d.join("never.db");
        let url = format!("sqlite://{}", db.display());
        let (code, out, err) = crate::helpers::civgrid(&[
            "--database",
            &url,
            "--tls-cert",
            c,
            "--tls-key",
            k,
            "serve",
            "--addr",
            "127.0.0.1:0",
        ]);
        assert_eq!(code, Some(1), "{c} {k}: {out}{err}");
        for e in &expect {
            assert!(err.contains(e), "{c} {k}: expected `{e}` in: {err}");
        }
        assert!(!db.exists(), "nothing is opened before the certificate is checked");
    }
    // The demo checks the same files the same way.
    let data = d.join("demo");
    let (code, _, err) = crate::helpers::civgrid(&[
        "--tls-cert",
        &expired_cert,
        "--tls-key",
        &expired_key,
        "demo",
        "--data",
        data.to_str().expect("path"),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("expired on 2021-01-01"), "{err}");
    assert!(!data.exists(), "nothing created");
    // One of the two, from a flag or the environment: refused, naming the missing one.
    let (code, _, err) =
        crate::helpers::civgrid(&["--database", "sqlite:///nonexistent/x.db", "--tls-cert", &cert, "serve"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--tls-cert / CIVGRID_TLS_CERT") && err.contains("without --tls-key"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args(["--database", "sqlite:///nonexistent/x.db", "serve"])
        .env_remove("CIVGRID_TLS_CERT")
        .env("CIVGRID_TLS_KEY", &key)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-key / CIVGRID_TLS_KEY") && err.contains("without --tls-cert"), "{err}");
}

/// A certificate near its end is served, with a warning in the log at start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_near_its_end_is_served_with_a_warning() {
    let app = TestApp::empty(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("dir");
    let now = time::OffsetDateTime::now_utc();
    let pki = pki(Some((now - time::Duration::days(300), now + time::Duration::days(10))));
    let (cert, key) = pki.install(dir.path());
    let mut settings = on(&app);
    settings.extend(["--tls-cert".into(), cert.display().to_string(), "--tls-key".into(), key.display().to_string()]);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    let server = Server::start(&settings, &["serve"]);
    assert!(pki.client().get(server.url("https", "/healthz")).send().await.is_ok());
    let (_, log) = server.stop();
    assert!(log.contains("the TLS certificate ends soon") && log.contains("days_left=9"), "{log}");
}

/// SIGTERM over TLS: the listener closes, a request already in flight is answered, then the
/// server stops — the same drain as plain HTTP (tests/api/ops.rs), driven in-process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_over_tls_finishes_in_flight_requests() {
    let app = TestApp::empty(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("dir");
    let pki = pki(None);
    let (cert, key) = pki.install(dir.path());
    let files = civgrid::tls::TlsFiles { cert, key };
    let loaded = civgrid::tls::load(&files, chrono::Utc::now()).expect("load");
    let tls = civgrid::app::Tls { files, loaded };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(civgrid::app::serve_with(app.state.clone(), listener, Some(tls), async {
        let _ = stop_rx.await;
    }));

    // A blocking rustls client on its own thread, sending half a request, then the rest.
    let (half_sent_tx, half_sent_rx) = std::sync::mpsc::channel::<()>();
    let (go_on_tx, go_on_rx) = std::sync::mpsc::channel::<()>();
    let ca = pki.ca.clone();
    let client = std::thread::spawn(move || {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(ca.as_bytes()).expect("ca")).expect("root");
        #[allow(deprecated)]
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
        let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).expect("conn");
        let tcp = std::net::TcpStream::connect(addr).expect("connect");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let body = r#"{"username":"nobody","password":"wrong password"}"#;
        let head = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).expect("head");
        tls.write_all(&body.as_bytes()[..10]).expect("half");
        tls.flush().expect("flush");
        half_sent_tx.send(()).expect("signal");
        go_on_rx.recv().expect("wait");
        tls.write_all(&body.as_bytes()[10..]).expect("rest");
        let mut reader = BufReader::new(tls);
        let mut status = String::new();
        reader.read_line(&mut status).expect("status line");
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        (status, rest)
    });
    tokio::task::spawn_blocking(move || half_sent_rx.recv()).await.expect("join").expect("half sent");
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop_tx.send(()).expect("stop");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!server.is_finished(), "the server waits for the in-flight request");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener closed after shutdown began");
    go_on_tx.send(()).expect("go on");
    let (status, rest) = tokio::task::spawn_blocking(move || client.join()).await.expect("join").expect("client");
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    assert!(rest.contains("invalid_credentials"), "{rest}");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops after draining")
        .expect("join")
        .expect("serve");
}

/// Behind HAProxy (`option forwardfor` adds its own `X-Forwarded-For` line after any the client
/// sent) the client is the proxy's line, not the client's own: forging the header does not
/// spread guesses over made-up addresses.
async fn a_forwarded_for_line_added_by_the_proxy_names_the_client(b: Backend) {
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    let app = TestApp::demo(b).await;
    let mut web = (*app.state.settings).clone();
    web.trusted_proxies = vec!["10.0.0.1".parse().expect("ip")];
    let router = civgrid::web::router(app.state.with_settings(web));
    let login = |forged: String, password: String| {
        let router = router.clone();
        async move {
            let body = serde_json::json!({"username": "clerk", "password": password}).to_string();
            let mut req = Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-forwarded-for", forged)
                .header("x-forwarded-for", "203.0.113.5")
                .body(axum::body::Body::from(body))
                .expect("request");
            let peer: std::net::SocketAddr = "10.0.0.1:40000".parse().expect("addr");
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            router.oneshot(req).await.expect("answer").status()
        }
    };
    for i in 0..5 {
        assert_eq!(login(format!("192.0.2.{i}"), format!("Wrong-guess-{i}")).await, StatusCode::UNAUTHORIZED);
    }
    let right = civgrid::demo::DEMO_PASSWORD.to_owned();
    assert_eq!(login("192.0.2.99".into(), right).await, StatusCode::TOO_MANY_REQUESTS, "counted for 203.0.113.5");
}
both_backends!(a_forwarded_for_line_added_by_the_proxy_names_the_client);

/// `--metrics-addr`: a second listener with `/metrics` for a scraper, without sign-in and
/// nothing else on it; the main address still answers `/metrics` only to an administrator or
/// auditor. An address that cannot be bound stops the start.
async fn a_scraper_reads_metrics_on_its_own_address(b: Backend) {
    let app = TestApp::demo(b).await;
    let base = on(&app);
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let mut settings: Vec<&str> = base.iter().map(String::as_str).collect();
    settings.extend(["--secure-cookies", "false", "--metrics-addr", &metrics_addr]);
    let server = Server::start(&settings, &["serve"]);
    let client = reqwest::Client::new();
    // Traffic on the main address shows in the scraped text.
    let _ = client.get(server.url("http", "/healthz")).send().await.expect("healthz");
    let scraped = client.get(format!("http://{metrics_addr}/metrics")).send().await.expect("scrape");
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.expect("text");
    assert!(text.contains("civgrid_http_requests_total") && text.contains("civgrid_db_pool_max_connections"), "{text}");
    // Only /metrics lives there; the main address keeps its rule.
    let other = client.get(format!("http://{metrics_addr}/api/v1/staff")).send().await.expect("other");
    assert_eq!(other.status(), 404);
    let main = client.get(server.url("http", "/metrics")).send().await.expect("main");
    assert_eq!(main.status(), 401);
    // The address is taken now: a second server refuses to start rather than run unmonitored.
    let mut second = Command::new(env!("CARGO_BIN_EXE_civgrid"));
    let out = second
        .args(&settings)
        .args(["serve", "--addr", &format!("127.0.0.1:{}", free_port())])
        .output()
        .expect("second");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("metrics_addr"), "{err}");
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}
both_backends!(a_scraper_reads_metrics_on_its_own_address);
