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
/// being accepted and ignored: the demo runs on its own SQLite database and says so rather than
/// quietly ignoring `--database postgres://…`. The config file may hold every command's settings.
#[test]
fn a_command_refuses_settings_it_does_not_use() {
    let (ok, _, err) = civgrid(&["demo", "--database", "postgres://x"]);
    assert!(!ok);
    assert!(err.contains("--database"), "{err}");
    let (ok, _, err) = civgrid(&["--database", "postgres://x", "demo", "--seed-only"]);
    assert!(!ok);
    assert!(err.contains("`civgrid demo` does not use --database / CIVGRID_DATABASE_URL"), "{err}");
    assert!(err.contains("own SQLite database"), "{err}");
    let (ok, err) = civgrid_env(&["demo", "--seed-only"], &[("CIVGRID_DATABASE_URL", "postgres://x")]);
    assert!(!ok);
    assert!(err.contains("CIVGRID_DATABASE_URL"), "{err}");

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
