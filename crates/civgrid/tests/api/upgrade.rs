//! Upgrades (issue 19): a database made by the previous release (0.1.0, fixtures under
//! tests/fixtures/0.1.0, see its README) migrates to this one with its data and its sessions;
//! `civgrid migrate --check` lists what is pending and applies nothing; a database that another
//! release migrated is refused by every command with the versions and the way forward.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use civgrid::db::{DatabaseUrl, Db};

use crate::both_backends;
use crate::helpers::{civgrid, new_place, Backend, DbPlace, TestApp};

/// `civgrid migrate --check`'s status when migrations are pending (cli/migrate.rs).
const PENDING: i32 = 3;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/0.1.0")
}

fn dir_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// One connection of its own: the PostgreSQL dump sets the session's search_path.
async fn connect(url: &DatabaseUrl) -> Db {
    Db::connect(url, 1).await.expect("connect")
}

/// Loads the 0.1.0 fixture of this backend into `place`.
async fn load_fixture(b: Backend, place: &DbPlace) {
    match b {
        Backend::Sqlite => {
            let to = place.dir.as_ref().expect("dir").path().join("t.db");
            std::fs::copy(fixtures().join("sqlite/civgrid.db"), to).expect("copy the SQLite fixture");
        }
        Backend::Postgres => {
            let db = connect(&place.url).await;
            let schema: String =
                sqlx::query_scalar("select current_schema()::text").fetch_one(db.pool()).await.unwrap();
            db.close().await;
            let dump = std::fs::read_to_string(fixtures().join("postgres/civgrid.sql")).expect("read the dump");
            // The dump names its schema (`fixture_0_1_0`); the test's own schema replaces it,
            // which exists already.
            let dump = dump.replace("CREATE SCHEMA fixture_0_1_0;", "").replace("fixture_0_1_0", &schema);
            let db = connect(&place.url).await;
            sqlx::raw_sql(&dump).execute(db.pool()).await.expect("load the PostgreSQL fixture");
            db.close().await;
        }
    }
}

/// A copy of the fixture's ledger keys with the modes civgrid insists on (git keeps neither).
fn ledger_keys(b: Backend, into: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let from = fixtures().join(dir_name(b)).join("ledger-keys");
    let to = into.join("ledger-keys");
    std::fs::create_dir_all(&to).expect("key dir");
    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o700)).expect("mode");
    for entry in std::fs::read_dir(&from).expect("fixture keys") {
        let entry = entry.expect("entry");
        let file = to.join(entry.file_name());
        std::fs::copy(entry.path(), &file).expect("copy key");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("mode");
    }
    to
}

/// Rows of every table but sqlx's own, by name.
async fn counts(db: &Db, b: Backend) -> Vec<(String, i64)> {
    let list = match b {
        Backend::Sqlite => {
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' \
             and name <> '_sqlx_migrations' order by name"
        }
        Backend::Postgres => {
            "select table_name::text from information_schema.tables where table_schema = current_schema() \
             and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations' order by table_name"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(list).fetch_all(db.pool()).await.expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {t}")).fetch_one(db.pool()).await.unwrap();
        out.push((t, n));
    }
    out
}

async fn applied_versions(db: &Db) -> Vec<i64> {
    sqlx::query_scalar("select version from _sqlx_migrations order by version").fetch_all(db.pool()).await.unwrap()
}

/// This build's migrations of the backend, by version, from the migration folder.
fn release_versions(b: Backend) -> Vec<i64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir_name(b));
    let mut v: Vec<i64> = std::fs::read_dir(dir)
        .expect("migrations")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| n.split('_').next().expect("version").parse().expect("numeric version"))
        .collect();
    v.sort();
    v
}

async fn a_database_of_the_previous_release_upgrades_with_its_data_and_sessions(b: Backend) {
    let place = new_place(b).await;
    load_fixture(b, &place).await;
    let url = place.url.as_str().to_owned();
    let work = tempfile::tempdir().expect("dir");
    let keys = ledger_keys(b, work.path());
    let token = std::fs::read_to_string(fixtures().join(dir_name(b)).join("session.token")).expect("token");
    let token = token.trim();

    // Sessions expire (12 h by default, and sooner when idle): the copy's session is made
    // current before the upgrade, as if it had been used a moment ago.
    let db = connect(&place.url).await;
    let later = civgrid::db::at_text(&(chrono::Utc::now() + chrono::Duration::hours(1)));
    let renewed = sqlx::query("update session set expires_at = $1, last_seen_ms = $2 where revoked_at is null")
        .bind(later)
        .bind(civgrid::db::now_ms())
        .execute(db.pool())
        .await
        .expect("renew the session");
    assert_eq!(renewed.rows_affected(), 1, "the fixture holds one session, made by 0.1.0's sign-in");
    let before = counts(&db, b).await;
    let old_versions = applied_versions(&db).await;
    db.close().await;
    let find = |name: &str| before.iter().find(|(t, _)| t == name).map(|(_, n)| *n).unwrap_or(0);
    assert_eq!(find("grid"), 1046, "the fixture is the demo district");
    assert!(find("staff") > 0 && find("case_record") > 0 && find("ledger_entry") > 0, "{before:?}");

    // --check lists exactly this release's migrations the fixture lacks, and applies nothing.
    let pending: Vec<i64> = release_versions(b).into_iter().filter(|v| !old_versions.contains(v)).collect();
    let (code, out, err) = civgrid(&["--database", &url, "migrate", "--check"]);
    if pending.is_empty() {
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(out.contains("no pending migrations"), "{out}");
    } else {
        assert_eq!(code, Some(PENDING), "{out}{err}");
        assert!(out.contains(&format!("{} migration(s) of civgrid 0.2.0 pending", pending.len())), "{out}");
        for v in &pending {
            assert!(out.contains(&format!("  {v}  ")), "{v} not listed: {out}");
        }
    }
    let db = connect(&place.url).await;
    assert_eq!(applied_versions(&db).await, old_versions, "--check applied nothing");
    db.close().await;

    let (code, out, err) = civgrid(&["--database", &url, "migrate"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = civgrid(&["--database", &url, "migrate", "--check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("no pending migrations"), "{out}");

    // Every row of every table the old release had is still there.
    let db = connect(&place.url).await;
    let after = counts(&db, b).await;
    db.close().await;
    for (table, n) in &before {
        let now = after.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        assert_eq!(now, Some(*n), "table {table} after the upgrade");
    }

    // The old release's session still signs its holder in.
    let app = TestApp::node(std::sync::Arc::new(place)).await;
    let (s, me) = app.get_as("/api/v1/auth/me", token).await;
    assert_eq!(s, StatusCode::OK, "{me}");

    // And the ledger agrees with the records, under the keys the old release made.
    let url = app.place.url.as_str().to_owned();
    let (code, out, err) =
        civgrid(&["--database", &url, "--ledger-key-dir", keys.to_str().expect("path"), "audit", "--json"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("audit JSON");
    assert_eq!(report["findings"], serde_json::json!([]), "{out}");
    assert!(report["entries_checked"].as_u64().unwrap_or(0) > 0, "{out}");
}
both_backends!(a_database_of_the_previous_release_upgrades_with_its_data_and_sessions);

/// On an empty database every migration is pending; --check says so with status 3 and creates
/// nothing; after `migrate`, it answers 0.
async fn migrate_check_lists_pending_migrations_and_applies_nothing(b: Backend) {
    let place = new_place(b).await;
    let url = place.url.as_str().to_owned();
    if b == Backend::Sqlite {
        // A mistyped path is an error, not a new empty database.
        let (code, _, err) = civgrid(&["--database", &url, "migrate", "--check"]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("no database at"), "{err}");
        let file = place.dir.as_ref().expect("dir").path().join("t.db");
        assert!(!file.exists(), "--check created the database");
        // An empty file in SQLite's default journal mode (not civgrid's WAL), as a copy made
        // outside civgrid may be: every migration is pending.
        std::fs::write(&file, b"").expect("empty database file");
    }
    let all = release_versions(b);
    let (code, out, err) = civgrid(&["--database", &url, "migrate", "--check"]);
    assert_eq!(code, Some(PENDING), "{out}{err}");
    assert!(out.contains(&format!("{} migration(s) of civgrid 0.2.0 pending", all.len())), "{out}");
    assert!(out.contains("20261122000001  foundation"), "{out}");
    let db = connect(&place.url).await;
    let status = db.migration_status().await.expect("status");
    assert_eq!((status.applied, status.pending.len()), (0, all.len()), "--check applied nothing");
    db.close().await;

    let (code, out, err) = civgrid(&["--database", &url, "migrate"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = civgrid(&["--database", &url, "migrate", "--check"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("up to date with civgrid 0.2.0 ({} applied)", all.len())), "{out}");
}
both_backends!(migrate_check_lists_pending_migrations_and_applies_nothing);

/// A database that a newer release migrated, or whose applied migration differs from the
/// released file, is refused by every command that opens it, naming the versions and what to
/// do, and nothing is changed.
async fn a_database_from_another_release_is_refused_by_every_command(b: Backend) {
    let app = TestApp::empty(b).await;
    let url = app.place.url.as_str().to_owned();
    let db = connect(&app.place.url).await;
    sqlx::query(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
         values (29991231000000, 'from the future', true, $1, 0)",
    )
    .bind(vec![0_u8; 48])
    .execute(db.pool())
    .await
    .expect("a newer release's migration");
    let versions = applied_versions(&db).await;
    db.close().await;

    let keys = tempfile::tempdir().expect("dir");
    let key_dir = keys.path().to_str().expect("path");
    let grids = keys.path().join("grids.geojson");
    let commands: [Vec<&str>; 5] = [
        vec!["migrate"],
        vec!["migrate", "--check"],
        vec!["--ledger-key-dir", key_dir, "audit"],
        vec!["export", "grids", "--out", grids.to_str().expect("path")],
        vec!["import", "grids", "/nonexistent.geojson", "--datum", "gcj02"],
    ];
    for args in &commands {
        let mut all = vec!["--database", url.as_str()];
        all.extend(args.iter().copied());
        let (code, out, err) = civgrid(&all);
        assert_eq!(code, Some(1), "{args:?}: {out}{err}");
        assert!(err.contains("29991231000000 (from the future)"), "{args:?}: {err}");
        assert!(err.contains("a newer civgrid release upgraded it"), "{args:?}: {err}");
        assert!(err.contains("Nothing was changed."), "{args:?}: {err}");
    }
    assert!(!grids.exists(), "export wrote a file from a refused database");
    let db = connect(&app.place.url).await;
    assert_eq!(applied_versions(&db).await, versions, "nothing was migrated");

    // An applied migration that differs from the released file.
    sqlx::query("delete from _sqlx_migrations where version = 29991231000000").execute(db.pool()).await.unwrap();
    sqlx::query("update _sqlx_migrations set checksum = $1 where version = 20261122000002")
        .bind(vec![1_u8; 48])
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    for args in [vec!["migrate"], vec!["migrate", "--check"]] {
        let mut all = vec!["--database", url.as_str()];
        all.extend(args.iter().copied());
        let (code, out, err) = civgrid(&all);
        assert_eq!(code, Some(1), "{args:?}: {out}{err}");
        assert!(err.contains("differ from the ones released with civgrid 0.2.0"), "{err}");
        assert!(err.contains("20261122000002 (cases)"), "{err}");
    }
}
both_backends!(a_database_from_another_release_is_refused_by_every_command);
