//! The witness server (C2SP tlog-witness over real HTTP, in-process, on a random port) with a
//! real in-memory log; its state surviving a restart; and the `civgrid verify` / `civgrid
//! witness keygen` commands of the built binary.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use civgrid::witness::{
    request_cosignature, request_verified_cosignature, StateError, StateStore, WitnessClientError, WitnessService,
};
use civgrid_ledger::bundle::{sign_certificate, Bundle};
use civgrid_ledger::checkpoint::Checkpoint;
use civgrid_ledger::cosignature::{verify_cosignatures, CosignatureVerifier, Cosigner};
use civgrid_ledger::note::{add_signature_lines, Signer};
use civgrid_ledger::tree::{consistency_proof, inclusion_proof};
use civgrid_ledger::witness::{AddCheckpointRequest, LogConfig};
use civgrid_ledger::{leaf_hash, Entry, Hash, MemoryStore};
use serde_json::json;
use tokio::sync::oneshot;

use crate::helpers::civgrid;

const ORIGIN: &str = "ledger.chancheng.example/log";
const OTHER_ORIGIN: &str = "ledger.nanhai.example/log";

/// A log in memory: a note signer and a tree.
struct Log {
    origin: &'static str,
    signer: Signer,
    store: MemoryStore,
}

impl Log {
    fn new(origin: &'static str, seed: u8) -> Log {
        Log { origin, signer: Signer::from_seed(origin, &[seed; 32]).expect("key"), store: MemoryStore::new() }
    }

    fn append(&mut self, leaves: &[Hash]) {
        self.store.append_leaves(leaves).expect("append");
    }

    fn grow_to(&mut self, size: u64, salt: u8) {
        let leaves: Vec<Hash> =
            (self.store.size()..size).map(|i| leaf_hash(&[&[salt][..], &i.to_be_bytes()].concat())).collect();
        self.append(&leaves);
    }

    fn checkpoint_body(&self) -> Checkpoint {
        Checkpoint::new(self.origin, self.store.size(), self.store.root().expect("root")).expect("checkpoint")
    }

    fn checkpoint(&self) -> String {
        self.checkpoint_body().sign(&self.signer).expect("sign")
    }

    fn request(&self, old: u64) -> AddCheckpointRequest {
        let proof =
            if old == 0 { Vec::new() } else { consistency_proof(old, self.store.size(), &self.store).expect("proof") };
        AddCheckpointRequest { old_size: old, proof, checkpoint: self.checkpoint() }
    }
}

struct Running {
    url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("join").expect("serve");
    }
}

fn witness_key() -> Cosigner {
    Cosigner::from_seed("witness.sifaju.example/w1", &[42; 32]).expect("key")
}

fn open_service(dir: &Path, logs: &[&Log]) -> Result<Arc<WitnessService>, StateError> {
    let configs =
        logs.iter().map(|l| LogConfig { origin: l.origin.to_owned(), verifiers: vec![l.signer.verifier()] }).collect();
    WitnessService::open(witness_key(), configs, dir)
}

async fn start(service: Arc<WitnessService>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(civgrid::witness::serve_until(service, listener, async {
        let _ = stopped.await;
    }));
    Running { url, stop, task }
}

/// Posts a raw body; returns status, content type and body.
async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, String, String) {
    let r = reqwest::Client::new().post(format!("{url}/add-checkpoint")).body(body).send().await.expect("post");
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, ct, r.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witness_speaks_tlog_witness_and_keeps_its_state() {
    let dir = tempfile::tempdir().expect("dir");
    let state_dir = dir.path().join("state");
    let mut log = Log::new(ORIGIN, 1);
    let mut other = Log::new(OTHER_ORIGIN, 2);
    let witness_vkey = witness_key().vkey();
    let verifier = CosignatureVerifier::parse(&witness_vkey).expect("vkey");
    let service = open_service(&state_dir, &[&log, &other]).expect("open");
    assert_eq!(service.vkey(), witness_vkey);
    let server = start(service).await;
    let client = reqwest::Client::new();

    // First checkpoint (old 0, empty proof): cosigned, and the cosignature verifies with the
    // witness's published key.
    log.grow_to(10, 0);
    let lines = request_cosignature(&client, &server.url, &log.request(0)).await.expect("first cosignature");
    let cosigned = add_signature_lines(&log.checkpoint(), &lines).expect("attach");
    let found = verify_cosignatures(&cosigned, std::slice::from_ref(&verifier)).expect("verifies");
    assert_eq!(found.len(), 1);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    assert!(found[0].timestamp.abs_diff(now) < 60, "cosignature time {} vs now {now}", found[0].timestamp);

    // Growth with a valid consistency proof: cosigned (checked by the verifying client too).
    log.grow_to(25, 0);
    let (own, _) =
        request_verified_cosignature(&client, &server.url, &log.request(10), &verifier).await.expect("growth");
    assert!(own.starts_with("\u{2014} witness.sifaju.example/w1 "), "{own}");
    // The same checkpoint again (old = size = 25, same root): cosigned again, state unchanged.
    request_cosignature(&client, &server.url, &log.request(25)).await.expect("same checkpoint");

    // Stale old size: 409 with the witness's size as text/x.tlog.size.
    log.grow_to(30, 0);
    match request_cosignature(&client, &server.url, &log.request(10)).await {
        Err(WitnessClientError::Conflict { size }) => assert_eq!(size, 25),
        other => panic!("expected 409, got {other:?}"),
    }
    let (status, ct, body) = post(&server.url, log.request(10).to_body()).await;
    assert_eq!((status, ct.as_str(), body.as_str()), (409, "text/x.tlog.size", "25\n"));

    // Inconsistent proof (a proof hash flipped): 422, evidence kept.
    let mut bad = log.request(25);
    bad.proof[0][0] ^= 1;
    let (status, _, body) = post(&server.url, bad.to_body()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.starts_with("inconsistent_proof"), "{body}");
    // A fork: a different tree of 30 leaves that does not extend the cosigned 25.
    let mut fork = Log::new(ORIGIN, 1);
    fork.grow_to(30, 7);
    let forged = AddCheckpointRequest {
        old_size: 25,
        proof: consistency_proof(25, 30, &fork.store).expect("proof"),
        checkpoint: fork.checkpoint(),
    };
    assert_eq!(post(&server.url, forged.to_body()).await.0, 422);
    // The same size with another root: 409 (a fork at the witness's own size).
    let mut same_size_fork = Log::new(ORIGIN, 1);
    same_size_fork.grow_to(25, 9);
    let (status, ct, body) = post(&server.url, same_size_fork.request(25).to_body()).await;
    assert_eq!((status, ct.as_str(), body.as_str()), (409, "text/x.tlog.size", "25\n"));
    let evidence = std::fs::read_dir(state_dir.join("evidence")).expect("evidence dir").count();
    assert_eq!(evidence, 3, "inconsistent, forked and same-size fork requests kept");

    // Unknown origin: 404.
    let mut stranger = Log::new("ledger.elsewhere.example/log", 3);
    stranger.grow_to(5, 0);
    assert_eq!(post(&server.url, stranger.request(0).to_body()).await.0, 404);
    match request_cosignature(&client, &server.url, &stranger.request(0)).await {
        Err(e @ WitnessClientError::Refused { status: 404, .. }) => assert_eq!(e.code(), "witness_refused"),
        other => panic!("expected 404, got {other:?}"),
    }

    // Not signed by the log's key (right origin, another key): 403. A forged signature by the
    // right key (checkpoint edited after signing): 403.
    let mut impostor = Log::new(ORIGIN, 99);
    impostor.grow_to(30, 0);
    let (status, _, body) = post(&server.url, impostor.request(25).to_body()).await;
    assert_eq!(status, 403, "{body}");
    let edited = log.request(25).to_body().replacen("\n30\n", "\n31\n", 1);
    assert_eq!(post(&server.url, edited).await.0, 403);

    // Malformed bodies: 400.
    for body in [
        "hello".to_owned(),
        "old 25\n".to_owned(),
        "old 025\n\n".to_owned() + &log.checkpoint(),
        "old 25\nnot-base64\n\n".to_owned() + &log.checkpoint(),
        log.request(25).to_body().replace("\u{2014}", "-"),
    ] {
        let (status, _, text) = post(&server.url, body.clone()).await;
        assert_eq!(status, 400, "{body:?} → {text}");
    }
    assert_eq!(post(&server.url, vec![0xffu8, 0xfe, b'\n']).await.0, 400);
    // Old size beyond the checkpoint: 400.
    let mut beyond = log.request(25);
    beyond.old_size = 31;
    beyond.proof.clear();
    assert_eq!(post(&server.url, beyond.to_body()).await.0, 400);
    // A proof with old 0: 422 (on a log the witness has not seen yet).
    other.grow_to(8, 0);
    let mut with_proof = other.request(0);
    with_proof.proof.push([0; 32]);
    assert_eq!(post(&server.url, with_proof.to_body()).await.0, 422);
    // Only POST.
    let r = client.get(format!("{}/add-checkpoint", server.url)).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 405);

    // Nothing above moved the state: still 25.
    let (status, _, body) = post(&server.url, log.request(0).to_body()).await;
    assert_eq!((status, body.as_str()), (409, "25\n"));

    // A second witness process cannot share the state directory.
    assert!(matches!(open_service(&state_dir, &[&log]), Err(StateError::Locked(_))));

    // Restart with the same state directory: the state survived.
    server.stop().await;
    let store_file = StateStore::open(&state_dir).expect("reopen store").path(ORIGIN);
    let saved = std::fs::read_to_string(&store_file).expect("state file");
    assert_eq!(saved, log_checkpoint_text_at(&log, 25));
    assert_eq!(std::fs::metadata(&store_file).expect("meta").permissions().mode() & 0o777, 0o600);
    let server = start(open_service(&state_dir, &[&log, &other]).expect("reopen")).await;
    match request_cosignature(&client, &server.url, &log.request(0)).await {
        Err(WitnessClientError::Conflict { size }) => assert_eq!(size, 25),
        other => panic!("expected 409 after restart, got {other:?}"),
    }
    request_verified_cosignature(&client, &server.url, &log.request(25), &verifier).await.expect("grows after restart");
    server.stop().await;

    // A damaged state file stops the witness from starting rather than forgetting.
    std::fs::write(&store_file, "garbage").expect("damage");
    assert!(matches!(open_service(&state_dir, &[&log]), Err(StateError::Corrupt(..))));
}

/// The checkpoint body of `log`'s first `size` leaves (the witness's state file format).
fn log_checkpoint_text_at(log: &Log, size: u64) -> String {
    let root = civgrid_ledger::tree::root_at(size, &log.store).expect("root");
    Checkpoint::new(log.origin, size, root).expect("checkpoint").to_text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_for_one_log_are_serialised() {
    let dir = tempfile::tempdir().expect("dir");
    let mut log = Log::new(ORIGIN, 1);
    let server = start(open_service(dir.path(), &[&log]).expect("open")).await;
    let client = reqwest::Client::new();
    log.grow_to(4, 0);
    request_cosignature(&client, &server.url, &log.request(0)).await.expect("first");
    // Eight checkpoints of different sizes, all claiming old 4, sent at once: exactly one wins;
    // every other gets 409 with the winner's size (never a rollback to a smaller tree).
    let mut requests = Vec::new();
    for size in 5..13 {
        log.grow_to(size, 0);
        requests.push(log.request(4));
    }
    let answers = futures_join(&client, &server.url, requests).await;
    let winners: Vec<u64> = answers.iter().filter_map(|(size, r)| r.as_ref().ok().map(|_| *size)).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (_, r) in &answers {
        match r {
            Ok(_) => {}
            Err(WitnessClientError::Conflict { size }) => assert_eq!(*size, winners[0]),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    server.stop().await;
}

async fn futures_join(
    client: &reqwest::Client,
    url: &str,
    requests: Vec<AddCheckpointRequest>,
) -> Vec<(u64, Result<String, WitnessClientError>)> {
    let mut tasks = Vec::new();
    for req in requests {
        let (client, url) = (client.clone(), url.to_owned());
        let size = req.unverified_checkpoint().expect("checkpoint").size;
        tasks.push(tokio::spawn(async move { (size, request_cosignature(&client, &url, &req).await) }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

/// A certificate issued into a real log, cosigned by two witnesses of two departments through
/// the witness server, verified by `civgrid verify`; tampered copies are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn civgrid_verify_checks_bundles_offline() {
    let dir = tempfile::tempdir().expect("dir");
    let issuer = Signer::from_seed("gongan.chancheng.example", &[5; 32]).expect("issuer");
    let mut log = Log::new(ORIGIN, 1);
    let content =
        json!({"type": "无犯罪记录证明", "holder": {"name": "张三", "id_sha256": "9f86d0"}, "issued": "2026-11-22"});
    let entry = Entry::for_content("certificate", "440604-GA-2026-000123", &content).expect("entry");
    log.grow_to(6, 0);
    log.append(&[entry.leaf_hash()]);
    log.grow_to(11, 0);

    // The first witness runs as a server; the second cosigns directly (a different department).
    let server = start(open_service(&dir.path().join("w1"), &[&log]).expect("open")).await;
    let lines = request_cosignature(&reqwest::Client::new(), &server.url, &log.request(0)).await.expect("cosign");
    server.stop().await;
    let second = Cosigner::from_seed("witness.shujuju.example/w1", &[43; 32]).expect("key");
    let mut checkpoint = add_signature_lines(&log.checkpoint(), &lines).expect("attach");
    checkpoint = add_signature_lines(
        &checkpoint,
        &second.cosign(&log.checkpoint_body().to_text(), 1_763_800_000).expect("cosign"),
    )
    .expect("attach");

    let bundle = Bundle::build(
        "certificate",
        "440604-GA-2026-000123",
        content.clone(),
        sign_certificate(&issuer, "certificate", "440604-GA-2026-000123", &content).expect("sign"),
        6,
        inclusion_proof(6, 11, &log.store).expect("proof"),
        checkpoint,
    )
    .expect("build");
    let trust = format!(
        "# 禅城区 trust file\norigin {ORIGIN}\nlog {}\nissuer {}\nwitness sifaju {}\nwitness shujuju {}\nquorum 2 2\n",
        log.signer.vkey(),
        issuer.vkey(),
        witness_key().vkey(),
        second.vkey()
    );
    let trust_path = dir.path().join("trust.txt");
    std::fs::write(&trust_path, trust).expect("write");
    let trust_s = trust_path.to_str().expect("path");
    let good = dir.path().join("good.json");
    std::fs::write(&good, bundle.to_json()).expect("write");

    let (code, out, err) = civgrid(&["verify", good.to_str().expect("path"), "--trust", trust_s]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.starts_with("有效 VALID: certificate 440604-GA-2026-000123"), "{out}");
    assert!(out.contains("entry #6 of 11") && out.contains("sifaju") && out.contains("shujuju"), "{out}");
    assert!(out.contains("张三"), "{out}");

    // Tampered: the holder's name changed.
    let mut tampered = bundle.clone();
    tampered.content["holder"]["name"] = json!("李四");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, tampered.to_json()).expect("write");
    let (code, out, err) = civgrid(&["verify", bad.to_str().expect("path"), "--trust", trust_s]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("无效 INVALID [content_hash_mismatch]"), "{out}");
    assert!(out.contains("内容被篡改") && out.contains("differs from the issuer-signed hash"), "{out}");

    // Truncated: refused as malformed.
    let text = bundle.to_json();
    std::fs::write(&bad, &text[..text.len() / 2]).expect("write");
    let (code, out, _) = civgrid(&["verify", bad.to_str().expect("path"), "--trust", trust_s]);
    assert_eq!(code, Some(1));
    assert!(out.contains("[bundle_malformed_json]"), "{out}");

    // Usage errors: exit 2.
    let (code, _, err) = civgrid(&["verify", good.to_str().expect("path"), "--trust", "/nonexistent/trust.txt"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("无法读取信任文件") && err.contains("cannot read trust file"), "{err}");
    std::fs::write(&trust_path, "origin x\nquorum 0 0\n").expect("write");
    let (code, _, err) = civgrid(&["verify", good.to_str().expect("path"), "--trust", trust_s]);
    assert_eq!(code, Some(2));
    assert!(err.contains("trust_file_missing_log_key"), "{err}");
    let (code, _, _) = civgrid(&["verify", good.to_str().expect("path")]);
    assert_eq!(code, Some(2), "missing --trust is a usage error");
}

#[test]
fn witness_keygen_writes_a_private_key_0600_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("w1.key");
    let out_s = out.to_str().expect("path");
    let (code, stdout, stderr) = civgrid(&["witness", "keygen", "--name", "witness.sifaju.example/w1", "--out", out_s]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let vkey = stdout.trim();
    let verifier = CosignatureVerifier::parse(vkey).expect("stdout is the verifier key");
    assert_eq!(verifier.name(), "witness.sifaju.example/w1");
    let meta = std::fs::metadata(&out).expect("key file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let private = std::fs::read_to_string(&out).expect("read");
    let key = civgrid::witness::read_key(&out).expect("key file reads back");
    assert_eq!(key.vkey(), vkey);
    // The private key appears nowhere but in the file.
    let secret = private.trim().rsplit('+').next().expect("material");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));

    let (code, _, stderr) = civgrid(&["witness", "keygen", "--name", "other", "--out", out_s]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).expect("read"), private, "the key is untouched");
    let (code, _, stderr) =
        civgrid(&["witness", "keygen", "--name", "bad name", "--out", dir.path().join("x").to_str().expect("p")]);
    assert_eq!(code, Some(1), "{stderr}");
}
