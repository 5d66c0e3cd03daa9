//! `civgrid backup` / `civgrid restore` through the real binary on both backends: a backup
//! taken while reports keep arriving restores into a fresh database that audits clean; every
//! bad input is refused with its code and changes nothing; a restore that would roll the ledger
//! back behind what a witness cosigned (or the target's own checkpoint) is refused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use civgrid::db::{DatabaseUrl, Db};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::helpers::{civgrid, new_place, Backend, DbPlace, TestApp};

fn keys_of(app: &TestApp) -> String {
    app.place.dir.as_ref().expect("dir").path().join("ledger-keys").to_str().expect("path").to_owned()
}

/// Runs the binary; (exit code, stdout + stderr).
fn run(args: &[&str]) -> (Option<i32>, String) {
    let (code, out, err) = civgrid(args);
    (code, out + &err)
}

async fn run_async(args: Vec<String>) -> (Option<i32>, String) {
    tokio::task::spawn_blocking(move || run(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.expect("join")
}

fn backup(url: &DatabaseUrl, out: &Path) -> (Option<i32>, String) {
    run(&["--database", url.as_str(), "backup", "--out", out.to_str().expect("path")])
}

fn restore(url: &DatabaseUrl, file: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["--database", url.as_str()];
    let witness: Vec<&str> = extra.iter().copied().filter(|a| a.contains(' ')).collect();
    for w in &witness {
        args.extend(["--ledger-witness", w]);
    }
    args.extend(["restore", file.to_str().expect("path")]);
    args.extend(extra.iter().copied().filter(|a| !a.contains(' ')));
    run(&args)
}

#[track_caller]
fn refused(got: (Option<i32>, String), code: &str) -> String {
    assert_eq!(got.0, Some(1), "expected refusal {code}: {}", got.1);
    assert!(got.1.contains(&format!("civgrid: {code}: ")), "expected {code}: {}", got.1);
    got.1
}

async fn report_one(app: &TestApp) -> bool {
    let (s, _) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &json!({"description": "井盖缺失", "class_code": "0101", "lng": 113.1107, "lat": 23.0296, "datum": "gcj02"}),
        )
        .await;
    s == StatusCode::CREATED
}

/// The demo district with cases (their transitions) and certificates, all in the ledger.
async fn with_ledger(b: Backend) -> TestApp {
    let app = TestApp::demo(b).await;
    let s = &app.state;
    civgrid::demo::seed_cases(&s.territory, &s.staff, &s.cases, 30, chrono::Utc::now()).await.expect("cases");
    civgrid::demo::ledger::seed_certificates(&s.certificates).await.expect("certificates");
    assert!(report_one(&app).await, "a report is accepted");
    s.ledger.integrate().await.expect("integrate");
    app
}

/// Tables of a target; 0 for a SQLite file that does not exist.
async fn tables(place: &DbPlace) -> i64 {
    if place.url.backend() == civgrid::db::Backend::Sqlite {
        let file = place.url.as_str().trim_start_matches("sqlite://");
        if !Path::new(file).exists() {
            return 0;
        }
    }
    let db = Db::connect(&place.url, 1).await.expect("connect");
    let sql = match place.url.backend() {
        civgrid::db::Backend::Sqlite => "select count(*) from sqlite_master where type = 'table'",
        civgrid::db::Backend::Postgres => {
            "select count(*) from information_schema.tables where table_schema = current_schema()"
        }
    };
    let n: i64 = sqlx::query_scalar(sql).fetch_one(db.pool()).await.expect("count tables");
    db.close().await;
    n
}

async fn count(url: &DatabaseUrl, sql: &str) -> i64 {
    let db = Db::connect(url, 1).await.expect("connect");
    let n: i64 = sqlx::query_scalar(sql).fetch_one(db.pool()).await.expect(sql);
    db.close().await;
    n
}

fn audit(url: &DatabaseUrl, keys: &str) -> (Option<i32>, String) {
    run(&["--database", url.as_str(), "--ledger-key-dir", keys, "audit"])
}

/// Backup while a task keeps posting reports; restore into a fresh database with the binary;
/// the audit is clean and the records are those of one instant during the backup.
async fn a_backup_taken_while_writing_restores_and_audits_clean(b: Backend) {
    let app = Arc::new(with_ledger(b).await);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("civgrid.bak");
    let before = app.count("case_record").await;
    let stop = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicU64::new(0));
    let writer = {
        let (app, stop, posted) = (app.clone(), stop.clone(), posted.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if report_one(&app).await {
                    posted.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    // Let the writer get going, so the snapshot is taken under load.
    while posted.load(Ordering::Relaxed) < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (code, out) = run_async(vec![
        "--database".into(),
        app.place.url.as_str().into(),
        "backup".into(),
        "--out".into(),
        file.to_str().expect("path").into(),
    ])
    .await;
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("writer");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("backup of"), "{out}");
    eprintln!("{out}");
    let after = app.count("case_record").await;
    assert!(posted.load(Ordering::Relaxed) > 3, "reports kept arriving during the backup");
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("civgrid.bak")], "only the finished backup is left");

    let target = new_place(b).await;
    let (code, out) = restore(&target.url, &file, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Now run `civgrid audit`"), "{out}");
    // The sizes and times, for the run's log.
    eprintln!("{out}");
    let (code, out) = audit(&target.url, &keys_of(&app));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("clean"), "{out}");
    let restored = count(&target.url, "select count(*) from case_record").await;
    assert!((before..=after).contains(&restored), "restored {restored} cases; {before} before and {after} after");
    assert!(restored > before, "the snapshot includes reports made during the writing");
    assert_eq!(count(&target.url, "select count(*) from certificate").await, 3);
    // Each restored case has its transitions and their ledger entries (the audit compared them).
    let entries = count(&target.url, "select count(*) from ledger_entry").await;
    assert!(entries >= count(&target.url, "select count(*) from case_transition").await + 3);
    // The restored database takes new writes (identity sequences continue after the rows).
    let node = TestApp::node(Arc::new(target)).await;
    assert!(report_one(&node).await, "a report on the restored database");
}
both_backends!(a_backup_taken_while_writing_restores_and_audits_clean);

/// Replaces the metadata of a backup (a SQLite file or an archive, whose digest is redone).
async fn with_metadata(file: &Path, out: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let bytes = std::fs::read(file).expect("read");
    if bytes.starts_with(b"SQLite format 3\0") {
        std::fs::write(out, &bytes).expect("copy");
        let url: DatabaseUrl = format!("sqlite://{}", out.display()).parse().expect("url");
        let db = Db::connect(&url, 1).await.expect("open");
        let text: String =
            sqlx::query_scalar("select metadata from civgrid_backup").fetch_one(db.pool()).await.expect("m");
        let mut meta: serde_json::Value = serde_json::from_str(&text).expect("json");
        edit(&mut meta);
        sqlx::query("update civgrid_backup set metadata = $1")
            .bind(meta.to_string())
            .execute(db.pool())
            .await
            .expect("u");
        db.close().await;
        return;
    }
    let magic = b"CIVGRID-ARCHIVE\n".len();
    let nl = magic + bytes[magic..].iter().position(|b| *b == b'\n').expect("meta line");
    let len: usize = std::str::from_utf8(&bytes[magic + 5..nl]).expect("utf8").parse().expect("len");
    let mut meta: serde_json::Value = serde_json::from_slice(&bytes[nl + 1..nl + 1 + len]).expect("json");
    edit(&mut meta);
    let json = meta.to_string();
    let mut body = bytes[..magic].to_vec();
    body.extend(format!("meta {}\n{json}", json.len()).as_bytes());
    body.extend(&bytes[nl + 1 + len..bytes.len() - 72]);
    let digest = hex::encode(Sha256::digest(&body));
    body.extend(format!("sha256 {digest}\n").as_bytes());
    std::fs::write(out, body).expect("write");
}

fn other(b: Backend) -> Backend {
    match b {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    }
}

/// Each bad input gets its code and leaves the output or the target as it was.
async fn bad_input_is_refused_and_changes_nothing(b: Backend) {
    let app = with_ledger(b).await;
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("good.bak");
    assert_eq!(backup(&app.place.url, &good).0, Some(0));
    let good_bytes = std::fs::read(&good).expect("read");

    // Backups: an existing file (unless --force), an unwritable place, a full disk.
    refused(backup(&app.place.url, &good), "backup_exists");
    assert_eq!(std::fs::read(&good).expect("read"), good_bytes, "the existing file is untouched");
    let (code, out) =
        run(&["--database", app.place.url.as_str(), "backup", "--out", good.to_str().expect("p"), "--force"]);
    assert_eq!(code, Some(0), "{out}");
    let nowhere = dir.path().join("no-such-folder").join("x.bak");
    let out = refused(backup(&app.place.url, &nowhere), "backup_unwritable");
    assert!(out.contains("no-such-folder"), "{out}");
    assert!(!dir.path().join("no-such-folder").exists());
    let in_a_file = good.join("x.bak");
    refused(backup(&app.place.url, &in_a_file), "backup_unwritable");
    full_disk(&app.place.url);

    // Restores into a fresh target: each refused, the target still empty.
    let target = new_place(b).await;
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not a backup\n").expect("write");
    refused(restore(&target.url, &text, &[]), "backup_foreign");
    let random = dir.path().join("random.db");
    {
        let url: DatabaseUrl = format!("sqlite://{}", random.display()).parse().expect("url");
        let db = Db::connect(&url, 1).await.expect("open");
        sqlx::query("create table t (x integer)").execute(db.pool()).await.expect("create");
        db.close().await;
    }
    refused(restore(&target.url, &random, &[]), "backup_foreign");
    let truncated = dir.path().join("truncated.bak");
    std::fs::write(&truncated, &good_bytes[..good_bytes.len() / 2]).expect("write");
    refused(restore(&target.url, &truncated, &[]), "backup_truncated");
    let corrupt = dir.path().join("corrupt.bak");
    let mut bytes = good_bytes.clone();
    match b {
        // Pages 2–20 overwritten: the b-trees there no longer parse.
        Backend::Sqlite => bytes[4096..20 * 4096].fill(0xA5),
        Backend::Postgres => {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
        }
    }
    std::fs::write(&corrupt, &bytes).expect("write");
    refused(restore(&target.url, &corrupt, &[]), "backup_corrupt");
    let newer = dir.path().join("newer.bak");
    with_metadata(&good, &newer, |m| m["migrations"].as_array_mut().expect("list").push(json!(29991231000000_i64)))
        .await;
    let out = refused(restore(&target.url, &newer, &[]), "backup_newer_release");
    assert!(out.contains("29991231000000"), "names the unknown migration: {out}");
    let elsewhere = TestApp::empty(other(b)).await;
    let foreign_backend = dir.path().join("other-backend.bak");
    assert_eq!(backup(&elsewhere.place.url, &foreign_backend).0, Some(0));
    let out = refused(restore(&target.url, &foreign_backend, &[]), "backup_other_backend");
    assert!(out.contains("restore it into"), "{out}");
    assert_eq!(tables(&target).await, 0, "nothing was written to the target");

    // A good backup restores; again without --replace it is refused; while civgrid uses the
    // target it is refused even with --replace.
    let (code, out) = restore(&target.url, &good, &[]);
    assert_eq!(code, Some(0), "{out}");
    let cases = count(&target.url, "select count(*) from case_record").await;
    refused(restore(&target.url, &good, &[]), "restore_target_not_empty");
    let serving = match b {
        Backend::Sqlite => (civgrid::backup::serving_lock(&target.url).expect("lock"), None),
        Backend::Postgres => (None, Some(Db::connect(&target.url, 1).await.expect("connect"))),
    };
    if let Some(db) = &serving.1 {
        assert!(db.ping().await);
    }
    refused(restore(&target.url, &good, &["--replace"]), "restore_target_in_use");
    drop(serving.0);
    if let Some(db) = serving.1 {
        db.close().await;
    }
    assert_eq!(count(&target.url, "select count(*) from case_record").await, cases);
    let (code, out) = restore(&target.url, &good, &["--replace"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("replacing its database"), "{out}");
    assert_eq!(audit(&target.url, &keys_of(&app)).0, Some(0));
}
both_backends!(bad_input_is_refused_and_changes_nothing);

/// A backup onto a full disk (a 256 kB tmpfs) fails with a clear error and leaves no file.
/// Needs root to mount; elsewhere it says so and checks nothing.
fn full_disk(url: &DatabaseUrl) {
    let dir = tempfile::tempdir().expect("dir");
    let mount =
        std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"]).arg(dir.path()).output();
    if !mount.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("full-disk case not run: cannot mount a small tmpfs here (needs root)");
        return;
    }
    let out_file: PathBuf = dir.path().join("full.bak");
    let result = backup(url, &out_file);
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("e").file_name()).collect();
    let _ = std::process::Command::new("umount").arg(dir.path()).status();
    let out = refused(result, "backup_unwritable");
    assert!(out.contains("full"), "says the disk is full: {out}");
    assert!(left.is_empty(), "nothing left on the full disk: {left:?}");
}

/// Back up at size N; the log grows and the witness cosigns M > N; restoring the old backup is
/// refused (by the witness, and by the target's own checkpoint); a newer backup restores. A log
/// restored anyway (no witness configured) is told off by the witness: the serving side's metric.
async fn a_restore_never_forks_the_ledger(b: Backend) {
    use civgrid::ledger::{Ledger, LedgerKeys, WitnessPolicy};
    use civgrid_ledger::cosignature::Cosigner;
    use civgrid_ledger::witness::LogConfig;

    let app = with_ledger(b).await;
    let keys_dir = keys_of(&app);
    let keys = LedgerKeys::load_or_create(Path::new(&keys_dir), None).expect("keys");
    let cosigner = Cosigner::generate("audit.witness").expect("witness key");
    let state_dir = tempfile::tempdir().expect("dir");
    let logs = vec![LogConfig { origin: keys.origin().to_owned(), verifiers: vec![keys.log_verifier()] }];
    let service = civgrid::witness::WitnessService::open(cosigner.clone(), logs, state_dir.path()).expect("witness");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(civgrid::witness::serve_until(service, listener, std::future::pending()));
    let spec = format!("sjj {} {url}", cosigner.vkey());
    let policy = WitnessPolicy::parse(std::slice::from_ref(&spec), Some("1 1")).expect("policy");
    let ledger = Ledger::new(app.state.db.clone(), keys, policy.clone());
    let client = reqwest::Client::new();
    ledger.integrate().await.expect("integrate");
    assert_eq!(ledger.collect_cosignatures(&client).await.expect("cosign"), 1);
    let n = ledger.checkpoint().await.expect("checkpoint").size;

    let dir = tempfile::tempdir().expect("dir");
    let old = dir.path().join("old.bak");
    assert_eq!(backup(&app.place.url, &old).0, Some(0));
    for _ in 0..3 {
        assert!(report_one(&app).await);
    }
    ledger.integrate().await.expect("integrate");
    assert_eq!(ledger.collect_cosignatures(&client).await.expect("cosign"), 1);
    let m = ledger.checkpoint().await.expect("checkpoint").size;
    assert!(m > n, "the log grew: {n} → {m}");

    // (b) The witness has cosigned M: the old backup is refused, the fresh target stays empty.
    let target = new_place(b).await;
    let out = refused(restore(&target.url, &old, &[&spec]), "restore_would_fork");
    assert!(out.contains(&format!("cosigned a checkpoint of size {m}")), "{out}");
    assert!(out.contains(&format!("newest is of size {n}")) && out.contains("sjj"), "{out}");
    assert!(out.contains(&format!("restore a newer backup that holds at least {m}")), "{out}");
    assert_eq!(tables(&target).await, 0, "nothing was written");

    // A backup holding M restores with the witness asked.
    let new = dir.path().join("new.bak");
    assert_eq!(backup(&app.place.url, &new).0, Some(0));
    let (code, out) = restore(&target.url, &new, &[&spec]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(audit(&target.url, &keys_dir).0, Some(0));

    // (a) The target's own newest checkpoint (M) is larger than the old backup's: refused even
    // with --replace and no witness configured; the target keeps its ledger.
    let out = refused(restore(&target.url, &old, &["--replace"]), "restore_would_fork");
    assert!(out.contains(&format!("the target database's ledger already has a checkpoint of size {m}")), "{out}");
    assert_eq!(count(&target.url, "select max(size) from ledger_checkpoint").await, m as i64);

    // Restored anyway where nothing can tell (an empty target, no witness configured): the
    // serving side finds out from the witness and says so in the metrics.
    let blind = new_place(b).await;
    assert_eq!(restore(&blind.url, &old, &[]).0, Some(0));
    let db = Db::connect(&blind.url, 2).await.expect("connect");
    let keys = LedgerKeys::load_or_create(Path::new(&keys_dir), None).expect("keys");
    let rolled_back = Ledger::new(db.clone(), keys, policy);
    // The checkpoint of size N is cosigned already; the log's next one goes to the witness.
    db.write(|tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
        Box::pin(async move {
            civgrid::ledger::append_in(tx, "bench_record", "r1", &json!({"n": 1}), &civgrid::db::now_text()).await?;
            Ok(())
        })
    })
    .await
    .expect("append");
    rolled_back.integrate().await.expect("integrate");
    assert!(rolled_back.checkpoint().await.expect("checkpoint").size < m);
    assert_eq!(rolled_back.collect_cosignatures(&client).await.expect("collect"), 0, "the witness refuses");
    db.close().await;
    let admin = app.login("admin").await;
    let (s, body, _) = app
        .request(
            axum::http::Request::get("/metrics")
                .header("authorization", format!("Bearer {admin}"))
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let text = body.as_str().expect("text").to_owned();
    let line = format!("civgrid_ledger_witness_ahead{{witness=\"{url}\"}} {m}");
    assert!(
        text.lines().any(|l| l == line),
        "{line} in {}",
        text.lines().filter(|l| l.contains("ahead")).collect::<Vec<_>>().join("\n")
    );
}
both_backends!(a_restore_never_forks_the_ledger);

/// The upgrade path: a backup made by an older release (its database migrated only so far)
/// restores and is migrated to this release.
async fn an_older_backup_is_migrated_on_restore(b: Backend) {
    let place = new_place(b).await;
    let backend = place.url.backend();
    let all = civgrid::db::migrations(backend);
    let older = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all[..all.len() - 3].to_vec()),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    };
    let db = Db::connect(&place.url, 1).await.expect("connect");
    older.run(db.pool()).await.expect("older migrations");
    db.close().await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("older.bak");
    let (code, out) = backup(&place.url, &file);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("{} migrations", all.len() - 3)), "{out}");
    let target = new_place(b).await;
    let (code, out) = restore(&target.url, &file, &[]);
    assert_eq!(code, Some(0), "{out}");
    let applied = count(&target.url, "select count(*) from _sqlx_migrations").await;
    assert_eq!(applied, all.len() as i64, "migrated to this release");
}
both_backends!(an_older_backup_is_migrated_on_restore);
