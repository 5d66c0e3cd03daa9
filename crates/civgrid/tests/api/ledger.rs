//! The trust ledger over the real router: every case transition is a leaf, checkpoints verify
//! under the published key, tiles and proofs agree with them, bad paths and proof requests are
//! refused precisely, and `audit` names records changed, deleted or inserted behind its back.

use axum::http::StatusCode;
use base64::Engine as _;
use civgrid::cases::trace;
use civgrid::ledger::audit;
use civgrid_ledger::checkpoint::{open_checkpoint, Checkpoint};
use civgrid_ledger::note::Verifier;
use civgrid_ledger::tiles::{decode_entry_bundle, decode_hash_tile};
use civgrid_ledger::verify::{verify_consistency, verify_inclusion};
use civgrid_ledger::{leaf_hash, Hash};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

async fn log_verifier(app: &TestApp) -> Verifier {
    let (s, body, _) = app.get_bytes("/ledger/vkey").await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(body).expect("utf-8");
    Verifier::parse(text.lines().next().expect("log vkey")).expect("vkey parses")
}

async fn checkpoint(app: &TestApp) -> (Checkpoint, String) {
    let (s, body, headers) = app.get_bytes("/ledger/checkpoint").await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let note = String::from_utf8(body).expect("utf-8");
    let signed = open_checkpoint(&note, &[log_verifier(app).await]).expect("checkpoint verifies under /ledger/vkey");
    (signed.checkpoint, note)
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|h| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(h.as_str().expect("b64")).expect("b64");
            Hash::try_from(bytes.as_slice()).expect("32 bytes")
        })
        .collect()
}

async fn transition_ids(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("select id from case_transition order by id").fetch_all(app.state.db.pool()).await.expect("ids")
}

async fn report_one(app: &TestApp) -> i64 {
    let (_, grid) = app.get("/api/v1/grids/44060401000101").await;
    let shape = civgrid_geo::import::parse_boundary(grid["geometry"].to_string().as_bytes(), civgrid_geo::Datum::Gcj02)
        .expect("shape");
    let p = geo::InteriorPoint::interior_point(&shape).expect("point");
    let (s, v) = app
        .send_json(
            "POST",
            "/api/v1/reports",
            None,
            &json!({"description": "井盖缺失", "class_code": "0101", "lng": p.x(), "lat": p.y(), "datum": "gcj02"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["case"]["id"].as_i64().expect("id")
}

/// The demo district with a few months of case history (several tiles of leaves).
async fn with_history(b: Backend) -> TestApp {
    let app = TestApp::demo(b).await;
    let s = &app.state;
    civgrid::demo::seed_cases(&s.territory, &s.staff, &s.cases, 120, chrono::Utc::now()).await.expect("seed cases");
    app
}

async fn every_transition_is_a_verifiable_leaf(b: Backend) {
    let app = with_history(b).await;
    assert_error(&app.get("/ledger/checkpoint").await, StatusCode::NOT_FOUND, "no_checkpoint");
    let integrated = app.state.ledger.integrate().await.expect("integrate");
    let ids = transition_ids(&app).await;
    assert_eq!(integrated as usize, ids.len(), "every demo transition became a leaf");
    assert!(ids.len() > 512, "the demo's history spans several tiles: {}", ids.len());
    let (cp, _) = checkpoint(&app).await;
    assert_eq!(cp.size as usize, ids.len());
    assert_eq!(app.state.ledger.integrate().await.expect("idle pass"), 0, "nothing new, nothing signed");

    // One transition's proof, from the JSON API, verifies against the signed root.
    let id = ids[ids.len() / 2];
    let (s, e) = app.get(&format!("/api/v1/ledger/entries/case_transition/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["tree_size"], cp.size);
    let index = e["leaf_index"].as_u64().expect("leaf index");
    let content: [u8; 32] = hex::decode(e["content_sha256"].as_str().unwrap()).unwrap().try_into().unwrap();
    let entry = civgrid_ledger::Entry::new("case_transition", &id.to_string(), content).unwrap();
    verify_inclusion(&entry.leaf_hash(), index, cp.size, &hashes(&e["inclusion_proof"]), &cp.root)
        .expect("inclusion proof verifies");
    // …and a neighbour's leaf at the same index does not.
    let other = civgrid_ledger::Entry::new("case_transition", &(id + 1).to_string(), content).unwrap();
    assert!(verify_inclusion(&other.leaf_hash(), index, cp.size, &hashes(&e["inclusion_proof"]), &cp.root).is_err());

    // Tiles: the level-0 tile holds the leaf hashes of the entry bundle's entries, and the
    // level-1 tile's hashes are the roots of the full level-0 tiles.
    let (s, bundle, headers) = app.get_bytes("/ledger/tile/entries/000").await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
    let entries = decode_entry_bundle(&bundle).expect("bundle");
    assert_eq!(entries.len(), 256);
    let (_, tile0, _) = app.get_bytes("/ledger/tile/0/000").await;
    let leaves = decode_hash_tile(&tile0).expect("tile");
    for (entry, leaf) in entries.iter().zip(&leaves) {
        assert_eq!(leaf_hash(entry), *leaf);
        civgrid_ledger::Entry::parse(entry).expect("entries parse");
    }
    let width = cp.size / 256;
    let (s, tile1, _) = app.get_bytes(&format!("/ledger/tile/1/000.p/{width}")).await;
    assert_eq!(s, StatusCode::OK);
    let level8 = decode_hash_tile(&tile1).expect("tile");
    assert_eq!(level8.len() as u64, width);
    let mut store = civgrid_ledger::MemoryStore::new();
    store.append_leaves(&leaves).unwrap();
    assert_eq!(store.root().unwrap(), level8[0], "level-1 tile hash = root of the first 256 leaves");
    let partial = cp.size % 256;
    if partial > 0 {
        let (s, _, _) = app.get_bytes(&format!("/ledger/tile/0/{:03}.p/{partial}", cp.size / 256)).await;
        assert_eq!(s, StatusCode::OK);
    }

    // Growth: a new report is a new leaf; the two checkpoints are consistent.
    report_one(&app).await;
    app.state.ledger.integrate().await.expect("integrate");
    let (cp2, _) = checkpoint(&app).await;
    assert_eq!(cp2.size, cp.size + 1);
    let (s, c) = app.get(&format!("/api/v1/ledger/proof/consistency?old={}&new={}", cp.size, cp2.size)).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    verify_consistency(cp.size, cp2.size, &cp.root, &cp2.root, &hashes(&c["consistency_proof"])).expect("consistent");
    let (s, p) = app.get(&format!("/api/v1/ledger/proof/inclusion?index={}", cp.size)).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["tree_size"], cp2.size);
}
both_backends!(every_transition_is_a_verifiable_leaf);

async fn bad_tile_paths_and_proof_requests_are_refused(b: Backend) {
    let app = with_history(b).await;
    app.state.ledger.integrate().await.expect("integrate");
    let (cp, _) = checkpoint(&app).await;
    for (path, code) in [
        ("/ledger/tile/0/1", "bad_tile_index"),
        ("/ledger/tile/64/000", "bad_tile_level"),
        ("/ledger/tile/01/000", "bad_tile_level"),
        ("/ledger/tile/0/x000/001", "tile_index_leading_zeros"),
        ("/ledger/tile/0/000.p/0", "bad_tile_width"),
        ("/ledger/tile/0/000.p/256", "bad_tile_width"),
        ("/ledger/tile/entries/000/extra", "tile_path_extra_segments"),
        ("/ledger/tile/0/abc", "bad_tile_index"),
    ] {
        assert_error(&app.get(path).await, StatusCode::BAD_REQUEST, code);
    }
    // Well-formed but beyond the tree.
    assert_error(&app.get("/ledger/tile/0/x001/000").await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&app.get("/ledger/tile/3/000").await, StatusCode::NOT_FOUND, "not_found");
    let size = cp.size;
    assert_error(
        &app.get(&format!("/api/v1/ledger/proof/inclusion?index={size}")).await,
        StatusCode::BAD_REQUEST,
        "index_out_of_range",
    );
    assert_error(
        &app.get(&format!("/api/v1/ledger/proof/inclusion?index=0&size={}", size + 1)).await,
        StatusCode::BAD_REQUEST,
        "index_out_of_range",
    );
    assert_error(
        &app.get(&format!("/api/v1/ledger/proof/consistency?old={}&new=1", size)).await,
        StatusCode::BAD_REQUEST,
        "size_decreased",
    );
    assert_error(&app.get("/api/v1/ledger/proof/inclusion?index=-1").await, StatusCode::BAD_REQUEST, "invalid_query");
    assert_error(&app.get("/api/v1/ledger/proof/inclusion?idx=1").await, StatusCode::BAD_REQUEST, "invalid_query");
    assert_error(
        &app.get("/api/v1/ledger/proof/inclusion?index=1&size=99999999999999999999").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &app.get("/api/v1/ledger/entries/case_transition/999999999").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // A refused transition writes no entry.
    let before = app.count("ledger_entry").await;
    let id = report_one(&app).await;
    assert_eq!(app.count("ledger_entry").await, before + 1);
    let handler = app.login("handler_cg").await;
    let refused = app
        .send_json("POST", &format!("/api/v1/cases/{id}/transitions"), Some(&handler), &json!({"action": "close"}))
        .await;
    assert!(refused.0.is_client_error(), "{}", refused.1);
    assert_eq!(app.count("ledger_entry").await, before + 1, "a refused transition left no leaf");
}
both_backends!(bad_tile_paths_and_proof_requests_are_refused);

/// The audit over every record owner (cases, certificates and services), as `civgrid audit` runs it.
pub async fn run_audit_all(app: &TestApp) -> audit::AuditReport {
    let mut sets = vec![trace::records(&app.state.db).await.expect("records")];
    sets.extend(civgrid::certificates::Certificates::records(&app.state.db).await.expect("certificates"));
    sets.extend(civgrid::services::trace::records(&app.state.db).await.expect("services"));
    audit::audit(&app.state.ledger, &sets).await.expect("audit runs")
}

async fn run_audit(app: &TestApp) -> audit::AuditReport {
    let records = trace::records(&app.state.db).await.expect("records");
    audit::audit(&app.state.ledger, &[records]).await.expect("audit runs")
}

fn codes(report: &audit::AuditReport) -> Vec<(&'static str, Option<String>)> {
    let mut v: Vec<_> = report.findings.iter().map(|f| (f.code, f.reference.clone())).collect();
    v.sort();
    v
}

async fn audit_names_what_was_changed_behind_the_logs_back(b: Backend) {
    let app = with_history(b).await;
    app.state.ledger.integrate().await.expect("integrate");
    let clean = run_audit(&app).await;
    assert!(clean.is_clean(), "{:?}", clean.findings);
    assert_eq!(clean.records_checked, clean.entries_checked);
    assert!(clean.checkpoints_checked >= 1);

    let ids = transition_ids(&app).await;
    let (changed, deleted) = (ids[10], ids[20]);
    let pool = app.state.db.pool();
    sqlx::query("update case_transition set note = 'edited by hand' where id = $1")
        .bind(changed)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("delete from case_transition where id = $1").bind(deleted).execute(pool).await.unwrap();
    let inserted: i64 = sqlx::query_scalar(
        "insert into case_transition (case_id, at, actor, role, action, from_state, to_state)
         select case_id, at, actor, role, action, from_state, to_state from case_transition where id = $1 returning id",
    )
    .bind(ids[30])
    .fetch_one(pool)
    .await
    .unwrap();
    let report = run_audit(&app).await;
    assert_eq!(
        codes(&report),
        vec![
            ("record_changed", Some(changed.to_string())),
            ("record_deleted", Some(deleted.to_string())),
            ("record_inserted", Some(inserted.to_string())),
        ],
        "{:?}",
        report.findings
    );

    // Rewriting the entry to match the edited record breaks the leaf the tree holds.
    let record = trace::records(&app.state.db).await.unwrap();
    let (_, content) = record.records.iter().find(|(r, _)| *r == changed.to_string()).unwrap().clone();
    let forged = hex::encode(civgrid_ledger::entry::content_hash(&content).unwrap());
    sqlx::query("update ledger_entry set content_sha256 = $1 where kind = 'case_transition' and ref = $2")
        .bind(&forged)
        .bind(changed.to_string())
        .execute(pool)
        .await
        .unwrap();
    let report = run_audit(&app).await;
    assert!(report.findings.iter().any(|f| f.code == "entry_changed" && f.reference == Some(changed.to_string())));
    assert!(!report.findings.iter().any(|f| f.code == "record_changed"), "{:?}", report.findings);

    // Rewriting an inner node as well is caught against the signed checkpoint.
    sqlx::query("update ledger_node set hash = $1 where level = 1 and idx = 0")
        .bind(vec![7u8; 32])
        .execute(pool)
        .await
        .unwrap();
    let report = run_audit(&app).await;
    assert!(report.findings.iter().any(|f| f.code == "node_changed"), "{:?}", report.findings);
}
both_backends!(audit_names_what_was_changed_behind_the_logs_back);

async fn two_nodes_sequence_one_log(b: Backend) {
    let a = with_history(b).await;
    let b_node = TestApp::node(a.place.clone()).await;
    // Both nodes' sequencers race over the same pending entries.
    let (x, y) = tokio::join!(a.state.ledger.integrate(), b_node.state.ledger.integrate());
    let total = x.expect("node a") + y.expect("node b");
    assert_eq!(total as usize, transition_ids(&a).await.len(), "each entry sequenced exactly once");
    for _ in 0..5 {
        report_one(&a).await;
        report_one(&b_node).await;
    }
    let (x, y) = tokio::join!(a.state.ledger.integrate(), b_node.state.ledger.integrate());
    assert_eq!(x.unwrap() + y.unwrap(), 10);
    let (cp_a, _) = checkpoint(&a).await;
    let (cp_b, _) = checkpoint(&b_node).await;
    assert_eq!(cp_a, cp_b);
    assert!(run_audit(&a).await.is_clean());
}
both_backends!(two_nodes_sequence_one_log);

/// `civgrid audit` through the binary: clean, then exit 1 naming a record edited in the database.
async fn the_audit_command_finds_a_hand_edit(b: Backend) {
    let app = with_history(b).await;
    app.state.ledger.integrate().await.expect("integrate");
    let url = app.place.url.as_str().to_owned();
    let keys = app.place.dir.as_ref().expect("dir").path().join("ledger-keys");
    let keys = keys.to_str().expect("path").to_owned();
    let run = || {
        let (code, out, err) = crate::helpers::civgrid(&["--database", &url, "--ledger-key-dir", &keys, "audit"]);
        (code, out + &err)
    };
    let (code, out) = run();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("clean"), "{out}");
    let id = transition_ids(&app).await[5];
    sqlx::query("update case_transition set actor = 'someone-else' where id = $1")
        .bind(id)
        .execute(app.state.db.pool())
        .await
        .expect("edit");
    let (code, out) = run();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("record_changed             case_transition {id}:")), "{out}");
    assert!(out.contains("TAMPERING FOUND"), "{out}");
}
both_backends!(the_audit_command_finds_a_hand_edit);

/// The log submits its checkpoint to a witness of another department over the tlog-witness
/// protocol; the cosigned checkpoint meets the published trust file's quorum.
async fn a_witness_cosigns_and_the_trust_file_accepts_it(b: Backend) {
    use civgrid::ledger::{Ledger, LedgerKeys, WitnessPolicy};
    use civgrid_ledger::cosignature::Cosigner;
    use civgrid_ledger::policy::TrustFile;
    use civgrid_ledger::witness::LogConfig;

    let app = with_history(b).await;
    let key_dir = app.place.dir.as_ref().expect("dir").path().join("ledger-keys");
    let keys = LedgerKeys::load_or_create(&key_dir, None).expect("keys");
    let cosigner = Cosigner::generate("audit.witness").expect("witness key");
    let state_dir = tempfile::tempdir().expect("dir");
    let logs = vec![LogConfig { origin: keys.origin().to_owned(), verifiers: vec![keys.log_verifier()] }];
    let service = civgrid::witness::WitnessService::open(cosigner.clone(), logs, state_dir.path()).expect("witness");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(civgrid::witness::serve_until(service, listener, std::future::pending()));

    let policy = WitnessPolicy::parse(&[format!("sjj {} {url}", cosigner.vkey())], Some("1 1")).expect("policy");
    let ledger = Ledger::new(app.state.db.clone(), keys, policy);
    ledger.integrate().await.expect("integrate");
    let client = reqwest::Client::new();
    assert_eq!(ledger.collect_cosignatures(&client).await.expect("collect"), 1);
    assert_eq!(ledger.collect_cosignatures(&client).await.expect("again"), 0, "already cosigned");
    let trust = TrustFile::parse(ledger.trust_file().render().as_bytes()).expect("trust file round-trips");
    let note = ledger.checkpoint().await.expect("checkpoint").note;
    let verdict = trust.trusted_checkpoint(&note).expect("quorum met");
    assert_eq!(verdict.departments, vec!["sjj".to_owned()]);

    // Growth: the witness checks consistency from the size it saw.
    report_one(&app).await;
    ledger.integrate().await.expect("integrate");
    assert_eq!(ledger.collect_cosignatures(&client).await.expect("collect"), 1);
    let note = ledger.checkpoint().await.expect("checkpoint").note;
    trust.trusted_checkpoint(&note).expect("the grown checkpoint is cosigned too");

    // The witness forgot nothing: a log that lost its record of the witness's size is told
    // (409) and retries from the witness's size.
    sqlx::query("delete from ledger_witness").execute(app.state.db.pool()).await.expect("forget");
    report_one(&app).await;
    ledger.integrate().await.expect("integrate");
    assert_eq!(ledger.collect_cosignatures(&client).await.expect("collect after 409"), 1);

    // The platform publishes the same trust file (here without witnesses configured).
    let (s, body, _) = app.get_bytes("/ledger/trust").await;
    assert_eq!(s, StatusCode::OK);
    let published = TrustFile::parse(&body).expect("published trust file parses");
    assert_eq!(published.origin, trust.origin);
}
both_backends!(a_witness_cosigns_and_the_trust_file_accepts_it);

/// Entry kind of the records the batched-path test logs (as `civgrid-bench ledger` does).
const RECORD_KIND: &str = "bench_record";

/// Record number `n`: about the size of a case transition's canonical projection.
fn bench_record(n: u64) -> (String, Value) {
    let actions = ["report", "accept", "dispatch", "handle", "verify", "close"];
    let content = json!({"record": n, "case": n / 6, "action": actions[(n % 6) as usize], "note": "benchmark record"});
    (format!("r{n:010}"), content)
}

/// Appends records `range` as transactions of `batch` entries through `Db::write`, from
/// `writers` concurrent tasks (the batched path `civgrid-bench ledger` measures).
async fn append_concurrently(db: &civgrid::db::Db, range: std::ops::Range<u64>, batch: u64, writers: usize) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let next = std::sync::Arc::new(AtomicU64::new(range.start));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (db, next, end) = (db.clone(), next.clone(), range.end);
        tasks.spawn(async move {
            loop {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                if first >= end {
                    return;
                }
                let records: Vec<(String, Value)> = (first..(first + batch).min(end)).map(bench_record).collect();
                let now = civgrid::db::now_text();
                db.write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
                    Box::pin(async move {
                        civgrid::ledger::append_batch_in(tx, RECORD_KIND, &records, &now).await?;
                        Ok(())
                    })
                })
                .await
                .expect("batched appends");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("writer task");
    }
}

/// The benchmark's batched path (`civgrid-bench ledger`): entries written with
/// `append_batch_in` from concurrent transactions form a tree the audit finds clean, proofs
/// through the node cache equal proofs read from the database and verify, and a batch whose
/// transaction rolls back leaves nothing behind.
async fn batched_appends_audit_clean_and_roll_back(b: Backend) {
    let app = TestApp::empty(b).await;
    let (db, ledger) = (&app.state.db, &app.state.ledger);
    append_concurrently(db, 0..2_600, 250, 3).await;
    assert_eq!(ledger.integrate().await.expect("integrate"), 2_600);
    let records: Vec<_> = (0..2_600).map(bench_record).collect();
    let set = audit::RecordSet { kind: RECORD_KIND.to_owned(), records };
    let report = audit::audit(ledger, std::slice::from_ref(&set)).await.expect("audit");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!((report.records_checked, report.entries_checked, report.tree_size), (2_600, 2_600, 2_600));

    let (cp, _) = checkpoint(&app).await;
    let uncached = ledger.clone().with_node_cache(0, 0);
    // A node starting on this log reads the whole tree into memory, or as much as its budget
    // allows; either way its proofs are the database's.
    let nodes = app.count("ledger_node").await as u64;
    let resident = ledger.clone().with_node_cache(0, 1 << 20);
    assert_eq!(resident.load_tree().await.expect("load"), nodes);
    assert_eq!(resident.load_tree().await.expect("again"), 0, "nothing left to read");
    assert_eq!(resident.cache_stats().resident_nodes as u64, nodes);
    let partial = ledger.clone().with_node_cache(0, 3_000);
    assert_eq!(partial.load_tree().await.expect("load within budget"), 3_000);
    for leaf in [0u64, 1, 2_047, 2_048, 2_599] {
        let from_db = uncached.inclusion_proof(leaf, cp.size).await.expect("uncached");
        assert_eq!(resident.inclusion_proof(leaf, cp.size).await.expect("resident"), from_db, "leaf {leaf}");
        assert_eq!(partial.inclusion_proof(leaf, cp.size).await.expect("partial"), from_db, "leaf {leaf}");
    }
    assert_eq!(resident.cache_stats().misses, 0, "a resident tree reads no node row");
    for leaf in [0u64, 255, 256, 1_337, 2_599] {
        let cached = ledger.inclusion_proof(leaf, cp.size).await.expect("proof");
        assert_eq!(cached, ledger.inclusion_proof(leaf, cp.size).await.expect("again"), "warm = cold");
        assert_eq!(cached, uncached.inclusion_proof(leaf, cp.size).await.expect("uncached"), "cache = database");
        let row: (String, String) = sqlx::query_as("select ref, content_sha256 from ledger_entry where seq = $1")
            .bind(leaf as i64)
            .fetch_one(db.pool())
            .await
            .expect("entry");
        let hash: Hash = hex::decode(&row.1).expect("hex").try_into().expect("32 bytes");
        let entry = civgrid_ledger::Entry::new(RECORD_KIND, &row.0, hash).expect("entry");
        verify_inclusion(&entry.leaf_hash(), leaf, cp.size, &cached, &cp.root).expect("verifies");
    }
    assert!(ledger.cache_stats().hits > 0);

    let before = app.count("ledger_entry").await;
    // A unit of work that fails after its batch is rolled back with it.
    let extra: Vec<_> = (10_000..10_500).map(bench_record).collect();
    let refused = db
        .write(move |tx| -> civgrid::db::BoxFuture<'_, Result<(), civgrid::ledger::LogError>> {
            Box::pin(async move {
                let written =
                    civgrid::ledger::append_batch_in(tx, RECORD_KIND, &extra, "2026-11-22T08:00:00.000Z").await?;
                assert_eq!(written.len(), 500);
                Err(civgrid::ledger::LogError::NoCheckpoint)
            })
        })
        .await;
    assert!(matches!(refused, Err(civgrid::ledger::LogError::NoCheckpoint)), "{refused:?}");
    assert_eq!(app.count("ledger_entry").await, before, "a rolled-back batch wrote no entry");
    assert!(!ledger.has_pending().await.expect("pending"));
    assert_eq!(ledger.integrate().await.expect("integrate"), 0);

    // A batch with one bad reference is refused before anything is written.
    let bad = vec![bench_record(20_000), ("not a reference".to_owned(), json!({}))];
    // The unit commits after the refusal, so anything written before it would be kept.
    let refused = db
        .write(move |tx| -> civgrid::db::BoxFuture<'_, Result<bool, civgrid::ledger::LogError>> {
            Box::pin(async move {
                Ok(civgrid::ledger::append_batch_in(tx, RECORD_KIND, &bad, "2026-11-22T08:00:00.000Z").await.is_err())
            })
        })
        .await
        .expect("commit");
    assert!(refused);
    assert_eq!(app.count("ledger_entry").await, before);
    let report = audit::audit(ledger, &[set]).await.expect("audit");
    assert!(report.is_clean(), "{:?}", report.findings);
}
both_backends!(batched_appends_audit_clean_and_roll_back);
