//! The `civgrid` binary itself: migrate, import, export, and start-up validation.

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{new_place, Backend};

fn civgrid(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = crate::helpers::civgrid(args);
    (code == Some(0), out, err)
}

async fn import_and_export_from_the_command_line(b: Backend) {
    let place = new_place(b).await;
    let url = place.url.as_str().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let outline = dir.path().join("district.geojson");
    std::fs::write(&outline, civgrid::demo::DISTRICT_GEOJSON).expect("write");

    let (ok, out, err) = civgrid(&["--database", &url, "migrate"]);
    assert!(ok, "{out}{err}");
    let outline_s = outline.to_str().expect("path");
    let (ok, out, err) = civgrid(&[
        "--database",
        &url,
        "import",
        "district",
        outline_s,
        "--code",
        "440604",
        "--name",
        "禅城区",
        "--datum",
        "gcj02",
    ]);
    assert!(ok, "{out}{err}");

    // A bad file: refused with one line per problem, nothing imported.
    let bad = dir.path().join("bad.geojson");
    let bad_fc = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "44060401000101", "name": "北京"},
         "geometry": {"type": "Polygon", "coordinates": [[[116.39, 39.9], [116.4, 39.9], [116.4, 39.91], [116.39, 39.9]]]}},
        {"type": "Feature", "properties": {"code": "123", "name": "x"},
         "geometry": {"type": "Polygon", "coordinates": [[[113.05, 23.0], [113.06, 23.0], [113.06, 23.01], [113.05, 23.0]]]}}
    ]});
    std::fs::write(&bad, bad_fc.to_string()).expect("write");
    let (ok, _, err) =
        civgrid(&["--database", &url, "import", "grids", bad.to_str().expect("path"), "--datum", "gcj02"]);
    assert!(!ok);
    assert!(err.contains("feature #0") && err.contains("feature #1"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    // The demo's grids import; the export carries them all back out.
    let good = dir.path().join("grids.geojson");
    std::fs::write(&good, civgrid::demo::demo_grids_geojson().expect("layout")).expect("write");
    let (ok, out, err) =
        civgrid(&["--database", &url, "import", "grids", good.to_str().expect("path"), "--datum", "gcj02"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1046 grids created"), "{out}");
    let exported = dir.path().join("out.geojson");
    let (ok, out, err) = civgrid(&["--database", &url, "export", "grids", "--out", exported.to_str().expect("path")]);
    assert!(ok, "{out}{err}");
    let fc: Value = serde_json::from_slice(&std::fs::read(&exported).expect("read")).expect("json");
    assert_eq!(fc["features"].as_array().map(Vec::len), Some(1046));
    assert_eq!(fc["datum"], "gcj02");
    // Re-importing the export with --replace redraws every grid in place.
    let (ok, out, err) = civgrid(&[
        "--database",
        &url,
        "import",
        "grids",
        exported.to_str().expect("path"),
        "--datum",
        "gcj02",
        "--replace",
    ]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1046 replaced"), "{out}");
}
both_backends!(import_and_export_from_the_command_line);

#[test]
fn bad_settings_stop_start_up_with_a_clear_message() {
    let (ok, _, err) = civgrid(&["--database", "mysql://db/x", "migrate"]);
    assert!(!ok);
    assert!(err.contains("CIVGRID_DATABASE_URL") && err.contains("sqlite:// or postgres://"), "{err}");
    let (ok, _, err) = civgrid(&["migrate"]);
    assert!(!ok);
    assert!(err.contains("no database"), "{err}");
    let (ok, _, err) = civgrid(&["--database", "sqlite:///tmp/x.db", "serve", "--addr", "not-an-address"]);
    assert!(!ok);
    assert!(err.contains("CIVGRID_ADDR"), "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("civgrid.toml");
    std::fs::write(&cfg, "databse_url = \"sqlite://x\"\n").expect("write");
    let (ok, _, err) = civgrid(&["--config", cfg.to_str().expect("path"), "migrate"]);
    assert!(!ok);
    assert!(err.contains("unknown field") && err.contains("databse_url"), "{err}");
    let (ok, _, err) =
        civgrid(&["--database", "sqlite:///tmp/x.db", "import", "grids", "/nonexistent.geojson", "--datum", "mars"]);
    assert!(!ok);
    assert!(err.contains("mars"), "{err}");
}

/// The binary with `env` added to a clean environment of settings.
fn civgrid_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CIVGRID_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.args(args).envs(env.iter().copied()).output().expect("run civgrid");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A setting a command does not use is refused, as a flag or from the environment, instead of
/// being accepted and ignored: `demo --seed-only` serves nothing, so it refuses the server's
/// settings. The config file may hold every command's settings.
#[test]
fn a_command_refuses_settings_it_does_not_use() {
    let (ok, _, err) = civgrid(&["demo", "--database", "postgres://x"]);
    assert!(!ok);
    assert!(err.contains("--database"), "settings go before the command: {err}");
    let (ok, _, err) = civgrid(&["--secure-cookies", "true", "demo", "--seed-only"]);
    assert!(!ok);
    assert!(err.contains("`civgrid demo --seed-only` does not use --secure-cookies / CIVGRID_SECURE_COOKIES"), "{err}");
    let (ok, err) = civgrid_env(&["demo", "--seed-only"], &[("CIVGRID_TLS_CERT", "/etc/civgrid/cert.pem")]);
    assert!(!ok);
    assert!(err.contains("CIVGRID_TLS_CERT"), "{err}");
    let (ok, err) = civgrid_env(&["demo", "--seed-only"], &[("CIVGRID_ADDR", "127.0.0.1:9")]);
    assert!(!ok);
    assert!(err.contains("--addr / CIVGRID_ADDR"), "{err}");

    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    let (ok, err) = civgrid_env(&["--database", &url, "migrate"], &[("CIVGRID_ADDR", "127.0.0.1:9")]);
    assert!(!ok);
    assert!(err.contains("`civgrid migrate` does not use --addr / CIVGRID_ADDR"), "{err}");
    let (ok, _, err) = civgrid(&["--database", &url, "--smtp-url", "smtp://relay", "migrate"]);
    assert!(!ok);
    assert!(err.contains("--smtp-url / CIVGRID_SMTP_URL"), "{err}");
    let (ok, _, err) = civgrid(&["--log-format", "json", "verify", "b.json", "--trust", "t.json"]);
    assert!(!ok);
    assert!(err.contains("`civgrid verify` does not use --log-format"), "{err}");

    // One file for every command: `migrate` takes its database from it and leaves the rest.
    let cfg = dir.path().join("civgrid.toml");
    let text = format!("database_url = \"{url}\"\naddr = \"127.0.0.1:9\"\nsmtp_url = \"smtp://relay\"\n");
    std::fs::write(&cfg, text).expect("write");
    let (ok, out, err) = civgrid(&["--config", cfg.to_str().expect("path"), "migrate"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("migrations applied"), "{out}");
}

/// Rows of `table` in a database.
async fn count(url: &civgrid::db::DatabaseUrl, table: &str) -> i64 {
    let db = civgrid::db::Db::connect(url, 1).await.expect("connect");
    let n: i64 =
        sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(db.pool()).await.expect("count");
    db.close().await;
    n
}

/// `civgrid --database postgres://… demo` seeds the demo into PostgreSQL (its ledger keys and
/// witness under --data, the Open311 key given stored), a second run serves it as it is, and a
/// database holding another installation is never seeded over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_on_postgresql() {
    let place = new_place(Backend::Postgres).await;
    let url = place.url.as_str().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("demo");
    let data_s = data.to_str().expect("path");
    let key = "pg-demo-open311-key";
    let started = std::time::Instant::now();
    let (ok, out, err) = civgrid(&["--database", &url, "demo", "--data", data_s, "--seed-only", "--open311-key", key]);
    assert!(ok, "{out}{err}");
    eprintln!("demo seeded on PostgreSQL in {:?}", started.elapsed());
    assert!(out.contains("Seeded 400 demo cases") && out.contains("demo database ready"), "{out}");
    assert_eq!(count(&place.url, "case_record").await, 400);
    assert_eq!(count(&place.url, "grid").await, 1046);
    let hash = civgrid::open311::hash_key(key);
    assert_eq!(count(&place.url, &format!("bearer_token where token_hash = '{hash}'")).await, 1, "--open311-key kept");
    assert!(data.join("ledger-keys").is_dir() && data.join("witness").is_dir(), "keys and witness under --data");
    assert!(!data.join("civgrid.db").exists(), "no SQLite database beside them");

    let (ok, out, err) = civgrid(&["--database", &url, "demo", "--data", data_s, "--seed-only"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("already seeded") && !out.contains("Seeding"), "{out}");
    assert_eq!(count(&place.url, "case_record").await, 400, "not seeded twice");

    // Served: plain HTTP, so the demo's session cookie is not Secure and there is no HSTS.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args(["--database", &url, "demo", "--data", data_s, "--addr", &addr])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("demo");
    let client = reqwest::Client::new();
    let login = json!({"username": "admin", "password": civgrid::demo::DEMO_PASSWORD});
    let started = std::time::Instant::now();
    let resp = loop {
        match client.post(format!("http://{addr}/api/v1/auth/login")).json(&login).send().await {
            Ok(r) => break r,
            Err(_) if started.elapsed() < std::time::Duration::from_secs(60) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the demo did not answer: {e}"),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(resp.status(), 200);
    assert!(!resp.headers().contains_key("strict-transport-security"));
    let cookie = resp.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cookie.starts_with("civgrid_session=") && !cookie.contains("Secure"), "{cookie}");

    // Another installation: a district imported for real. Refused, nothing added.
    let other = new_place(Backend::Postgres).await;
    let other_url = other.url.as_str().to_owned();
    let outline = dir.path().join("district.geojson");
    std::fs::write(&outline, civgrid::demo::DISTRICT_GEOJSON).expect("write");
    let (ok, out, err) = civgrid(&[
        "--database",
        &other_url,
        "import",
        "district",
        outline.to_str().expect("path"),
        "--code",
        "440604",
        "--name",
        "禅城区",
        "--datum",
        "gcj02",
    ]);
    assert!(ok, "{out}{err}");
    let other_data = dir.path().join("other");
    let (ok, out, err) =
        civgrid(&["--database", &other_url, "demo", "--data", other_data.to_str().expect("path"), "--seed-only"]);
    assert!(!ok, "{out}");
    assert!(err.contains("holds an installation that is not the demo"), "{err}");
    assert!(
        err.contains("the district 440604 禅城区, not created by the demo") && err.contains("civgrid serve"),
        "{err}"
    );
    assert_eq!(count(&other.url, "grid").await, 0, "nothing seeded");
    assert_eq!(count(&other.url, "staff").await, 0, "no demo accounts");
    assert!(!other_data.join("ledger-keys").exists(), "no keys made for a refused demo");

    // --data that would hold nothing (keys and witnesses given elsewhere) is refused.
    let (ok, out, _) = civgrid(&[
        "witness",
        "keygen",
        "--name",
        "w.test/w1",
        "--out",
        dir.path().join("w.key").to_str().expect("path"),
    ]);
    assert!(ok);
    let witness = format!("sjj {} http://127.0.0.1:9", out.trim());
    let keys = dir.path().join("keys");
    let (ok, _, err) = civgrid(&[
        "--database",
        &url,
        "--ledger-key-dir",
        keys.to_str().expect("path"),
        "--ledger-witness",
        &witness,
        "demo",
        "--data",
        data_s,
        "--seed-only",
    ]);
    assert!(!ok);
    assert!(err.contains("--data") && err.contains("nothing of this demo would be kept there"), "{err}");
}
