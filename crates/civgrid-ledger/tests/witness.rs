//! The tlog-witness add-checkpoint state machine: a log and a witness talking through request
//! bodies, including every refusal the protocol prescribes and its HTTP status.

use std::path::PathBuf;

use civgrid_ledger::checkpoint::Checkpoint;
use civgrid_ledger::cosignature::{verify_cosignatures, Cosigner};
use civgrid_ledger::hash::Hash;
use civgrid_ledger::note::{add_signature_lines, Signer};
use civgrid_ledger::tree::consistency_proof;
use civgrid_ledger::witness::{AddCheckpointRequest, LogConfig, Witness, WitnessError, WitnessState};
use civgrid_ledger::{leaf_hash, MemoryStore};

const ORIGIN: &str = "ledger.chancheng.example/log";

struct Log {
    signer: Signer,
    store: MemoryStore,
}

impl Log {
    fn new(seed: u8) -> Log {
        Log { signer: Signer::from_seed(ORIGIN, &[seed; 32]).unwrap(), store: MemoryStore::new() }
    }

    fn grow_to(&mut self, size: u64, salt: u8) {
        let leaves: Vec<Hash> =
            (self.store.size()..size).map(|i| leaf_hash(&[&[salt][..], &i.to_be_bytes()].concat())).collect();
        self.store.append_leaves(&leaves).unwrap();
    }

    fn checkpoint(&self) -> String {
        Checkpoint::new(ORIGIN, self.store.size(), self.store.root().unwrap()).unwrap().sign(&self.signer).unwrap()
    }

    fn request(&self, old: u64) -> AddCheckpointRequest {
        let body = AddCheckpointRequest {
            old_size: old,
            proof: consistency_proof(old, self.store.size(), &self.store).unwrap(),
            checkpoint: self.checkpoint(),
        }
        .to_body();
        AddCheckpointRequest::parse(body.as_bytes()).unwrap()
    }
}

fn witness(log: &Log) -> Witness {
    Witness::new(
        Cosigner::from_seed("witness.sifaju.example/w1", &[9; 32]).unwrap(),
        vec![LogConfig { origin: ORIGIN.into(), verifiers: vec![log.signer.verifier()] }],
    )
}

fn refusal(
    w: &Witness,
    req: &AddCheckpointRequest,
    state: Option<&WitnessState>,
) -> (u16, &'static str, Option<String>) {
    let e = w.add_checkpoint(req, state, 1_700_000_000).unwrap_err();
    (e.status(), e.code(), e.response_body())
}

#[test]
fn witness_follows_a_growing_log() {
    let mut log = Log::new(1);
    let w = witness(&log);
    log.grow_to(10, 0);
    let first = w.add_checkpoint(&log.request(0), None, 1_700_000_000).unwrap();
    assert_eq!((first.new_state.size, first.new_state.root), (10, log.store.root().unwrap()));

    // The log attaches the cosignature; anyone trusting the witness key can check it.
    let cosigned = add_signature_lines(&log.checkpoint(), &first.response_body).unwrap();
    let found = verify_cosignatures(&cosigned, &[w.cosigner().verifier()]).unwrap();
    assert_eq!(found[0].timestamp, 1_700_000_000);

    let mut state = first.new_state;
    for size in [11, 16, 17, 100, 256, 1000] {
        let old = state.size;
        log.grow_to(size, 0);
        state = w.add_checkpoint(&log.request(old), Some(&state), 1_700_000_001).unwrap().new_state;
        assert_eq!(state.size, size);
    }
    // Re-submitting the current checkpoint is fine (fresh timestamp).
    let again = w.add_checkpoint(&log.request(1000), Some(&state), 1_700_000_002).unwrap();
    assert_eq!(again.new_state, state);
}

#[test]
fn stale_and_forked_logs_are_caught() {
    let mut log = Log::new(1);
    let w = witness(&log);
    log.grow_to(25, 0);
    let state = WitnessState { origin: ORIGIN.into(), size: 25, root: log.store.root().unwrap() };

    // Wrong old size: 409 with the witness's size so the log can retry.
    log.grow_to(30, 0);
    assert_eq!(refusal(&w, &log.request(10), Some(&state)), (409, "old_size_mismatch", Some("25\n".into())));
    assert_eq!(
        w.add_checkpoint(&log.request(10), Some(&state), 0).unwrap_err().content_type(),
        Some("text/x.tlog.size")
    );
    assert_eq!(refusal(&w, &log.request(0), Some(&state)).0, 409);

    // A fork: same key, a different history of the same size, then longer.
    let mut fork = Log::new(1);
    fork.grow_to(25, 7);
    assert_eq!(refusal(&w, &fork.request(25), Some(&state)), (409, "root_conflict", Some("25\n".into())));
    fork.grow_to(40, 7);
    assert_eq!(refusal(&w, &fork.request(25), Some(&state)).1, "inconsistent_proof");
    assert_eq!(refusal(&w, &fork.request(25), Some(&state)).0, 422);

    // A genuine proof with one hash altered.
    let mut req = log.request(25);
    req.proof[0][0] ^= 1;
    assert_eq!(refusal(&w, &req, Some(&state)).0, 422);
    // A proof from old size 0 must be empty.
    let mut req = log.request(0);
    req.proof.push([0; 32]);
    assert_eq!(refusal(&w, &req, None), (422, "unexpected_proof", None));
    // Old size beyond the checkpoint.
    let mut req = log.request(30);
    req.old_size = 31;
    assert_eq!(refusal(&w, &req, Some(&state)), (400, "old_size_too_large", None));
    // State handed in for another origin is the caller's bug.
    let other = WitnessState { origin: "other.example/log".into(), ..state.clone() };
    assert_eq!(refusal(&w, &log.request(25), Some(&other)).0, 500);
}

#[test]
fn authentication_failures() {
    let mut log = Log::new(1);
    let w = witness(&log);
    log.grow_to(5, 0);

    let mut stranger = Log::new(2);
    stranger.grow_to(5, 0);
    assert_eq!(refusal(&w, &stranger.request(0), None), (403, "not_signed_by_log", None));

    let mut tampered = log.request(0);
    tampered.checkpoint = tampered.checkpoint.replacen("\n5\n", "\n6\n", 1);
    assert_eq!(refusal(&w, &tampered, None).0, 403);

    let mut unknown = Log::new(1);
    unknown.signer = Signer::from_seed("elsewhere.example/log", &[1; 32]).unwrap();
    unknown.grow_to(5, 0);
    let req = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: Checkpoint::new("elsewhere.example/log", 5, unknown.store.root().unwrap())
            .unwrap()
            .sign(&unknown.signer)
            .unwrap(),
    };
    assert_eq!(refusal(&w, &req, None), (404, "unknown_origin", None));

    // A size-0 checkpoint must carry the empty-tree root.
    let bogus = AddCheckpointRequest {
        old_size: 0,
        proof: vec![],
        checkpoint: Checkpoint::new(ORIGIN, 0, [1; 32]).unwrap().sign(&log.signer).unwrap(),
    };
    assert_eq!(refusal(&w, &bogus, None).0, 422);
}

#[test]
fn request_bodies() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/c2sp_examples.json");
    let ex: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let body = ex["witnessRequestExample"]["body"].as_str().unwrap();
    let req = AddCheckpointRequest::parse(body.as_bytes()).unwrap();
    assert_eq!(req.old_size, 20852014);
    assert_eq!(req.proof.len(), 4);
    assert_eq!(req.unverified_checkpoint().unwrap().size, 20852163);
    assert_eq!(req.to_body(), body, "round trip");

    let note = "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} o AAAAAAA=\n";
    let line = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    let malformed = [
        format!("old 1\n\n{note}").replace("old 1", "old 01"),
        format!("old -1\n\n{note}"),
        format!("Old 1\n\n{note}"),
        format!("old 1\n{note}"),
        format!("old 1\n{}\n{note}", line.repeat(64)),
        format!("old 1\nPlRNCrwH\n\n{note}"),
        format!("old 1\n{line}"),
        "old 1".to_string(),
        "old 1\n\no\n1\nroot\n".to_string(),
    ];
    for body in &malformed {
        let e = AddCheckpointRequest::parse(body.as_bytes()).unwrap_err();
        assert_eq!(e.status(), 400, "{body:?}: {e}");
    }
    assert!(AddCheckpointRequest::parse(format!("old 1\n{}\n{note}", line.repeat(63)).as_bytes()).is_ok());
    assert_eq!(AddCheckpointRequest::parse(b"old 1\n\n\xff").unwrap_err().status(), 400);
    assert!(matches!(
        AddCheckpointRequest::parse(format!("old 1\n\n{note}").as_bytes()).unwrap().unverified_checkpoint(),
        Ok(Checkpoint { size: 1, .. })
    ));
    let e = AddCheckpointRequest::parse(b"old 1\n\nno sigs\n\n").unwrap_err();
    assert!(matches!(e, WitnessError::MalformedNote(_)));
}
