use super::*;
use crate::cosignature::Cosigner;
use crate::note::add_signature_lines;
use crate::tree::inclusion_proof;
use crate::{leaf_hash, MemoryStore};
use proptest::prelude::*;
use serde_json::json;

const ORIGIN: &str = "ledger.chancheng.example/log";
const INDEX: u64 = 5;

struct World {
    log: Signer,
    issuer: Signer,
    witnesses: Vec<(&'static str, Cosigner)>,
    stranger: Cosigner,
    store: MemoryStore,
    trust: TrustFile,
}

fn content() -> Value {
    json!({"type": "无犯罪记录证明", "holder": {"name": "张三", "id_sha256": "ab12"}, "issued": "2026-11-22", "serial": 123})
}

/// A log of 13 entries whose entry 5 is our certificate; two witnesses of two departments
/// cosign; the quorum needs both.
fn world() -> World {
    let log = Signer::from_seed(ORIGIN, &[1; 32]).unwrap();
    let issuer = Signer::from_seed("gongan.chancheng.example", &[2; 32]).unwrap();
    let witnesses = vec![
        ("sifaju", Cosigner::from_seed("witness.sifaju.example", &[3; 32]).unwrap()),
        ("shujuju", Cosigner::from_seed("witness.shujuju.example", &[4; 32]).unwrap()),
    ];
    let stranger = Cosigner::from_seed("witness.stranger.example", &[5; 32]).unwrap();
    let mut store = MemoryStore::new();
    let entry = Entry::for_content("certificate", "440604-GA-2026-000123", &content()).unwrap();
    let leaves: Vec<Hash> =
        (0..13u64).map(|i| if i == INDEX { entry.leaf_hash() } else { leaf_hash(&i.to_be_bytes()) }).collect();
    store.append_leaves(&leaves).unwrap();
    let mut trust = format!("origin {ORIGIN}\nlog {}\nissuer {}\n", log.vkey(), issuer.vkey());
    for (d, w) in &witnesses {
        trust.push_str(&format!("witness {d} {}\n", w.vkey()));
    }
    trust.push_str("quorum 2 2\n");
    let trust = TrustFile::parse(trust.as_bytes()).unwrap();
    World { log, issuer, witnesses, stranger, store, trust }
}

impl World {
    fn checkpoint(&self, cosigners: &[&Cosigner]) -> String {
        let cp = Checkpoint::new(ORIGIN, self.store.size(), self.store.root().unwrap()).unwrap();
        let mut note = cp.sign(&self.log).unwrap();
        for c in cosigners {
            note = add_signature_lines(&note, &c.cosign(&cp.to_text(), 1_763_800_000).unwrap()).unwrap();
        }
        note
    }

    fn bundle(&self) -> Bundle {
        let signature = sign_certificate(&self.issuer, "certificate", "440604-GA-2026-000123", &content()).unwrap();
        let proof = inclusion_proof(INDEX, self.store.size(), &self.store).unwrap();
        let cosigners: Vec<&Cosigner> = self.witnesses.iter().map(|(_, c)| c).collect();
        Bundle::build(
            "certificate",
            "440604-GA-2026-000123",
            content(),
            signature,
            INDEX,
            proof,
            self.checkpoint(&cosigners),
        )
        .unwrap()
    }
}

fn code_of(bytes: &[u8], trust: &TrustFile) -> &'static str {
    match verify_bundle(bytes, trust) {
        Ok(_) => "valid",
        Err(e) => e.code(),
    }
}

fn json_of(b: &Bundle) -> Value {
    serde_json::from_str(&b.to_json()).unwrap()
}

fn code_of_value(v: &Value, trust: &TrustFile) -> &'static str {
    code_of(v.to_string().as_bytes(), trust)
}

#[test]
fn a_valid_bundle_verifies_and_round_trips() {
    let w = world();
    let b = w.bundle();
    let text = b.to_json();
    assert_eq!(Bundle::parse(text.as_bytes()).unwrap(), b);
    let v = verify_bundle(text.as_bytes(), &w.trust).unwrap();
    assert_eq!(v.entry.reference(), "440604-GA-2026-000123");
    assert_eq!(v.leaf_index, INDEX);
    assert_eq!(v.content, content());
    assert_eq!(v.issuer_keys, vec![format!("{}+{:08x}", w.issuer.name(), w.issuer.key_id())]);
    assert_eq!(v.checkpoint.checkpoint.size, 13);
    assert_eq!(v.checkpoint.departments, vec!["shujuju".to_owned(), "sifaju".to_owned()]);
    assert!(v.checkpoint.quorum_met);
    // The issuer signed exactly the documented statement.
    let opened = note::open(&b.signature, &w.trust.issuers).unwrap();
    assert_eq!(
        opened.text,
        format!("civgrid certificate v1\ncertificate 440604-GA-2026-000123 {}\n", hex(v.entry.content_sha256()))
    );
}

#[test]
fn semantically_identical_rewrites_verify() {
    let w = world();
    let b = w.bundle();
    // Compact, differently ordered, escaped: the same parsed value, so the same bundle.
    let compact = json_of(&b).to_string();
    assert_eq!(code_of(compact.as_bytes(), &w.trust), "valid");
    let escaped = b.to_json().replacen("\"kind\"", "\"\\u006bind\"", 1);
    assert_eq!(code_of(escaped.as_bytes(), &w.trust), "valid");
    let spaced = b.to_json().replace(": ", " :\t\n ");
    assert_eq!(code_of(spaced.as_bytes(), &w.trust), "valid");
    // An extra cosignature by a key the trust file does not list is ignored (signed-note
    // rules) and reported.
    let mut extra = b.clone();
    let cp = Checkpoint::new(ORIGIN, 13, w.store.root().unwrap()).unwrap();
    extra.checkpoint = add_signature_lines(&b.checkpoint, &w.stranger.cosign(&cp.to_text(), 7).unwrap()).unwrap();
    let v = extra.verify(&w.trust).unwrap();
    assert_eq!(v.checkpoint.unknown_signers, vec![format!("{}+{:08x}", w.stranger.name(), w.stranger.key_id())]);
}

#[test]
fn every_kind_of_tampering_is_refused_with_its_code() {
    let w = world();
    let b = w.bundle();
    let good = json_of(&b);
    let t = &w.trust;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let checkpoint_lines: Vec<String> = b.checkpoint.split_inclusive('\n').map(str::to_owned).collect();
    let without_line = |prefix: &str| -> String {
        checkpoint_lines.iter().filter(|l| !l.starts_with(&format!("\u{2014} {prefix} "))).cloned().collect()
    };
    let flip_proof = |i: usize| {
        let mut p = b.inclusion_proof.clone();
        p[i][0] ^= 1;
        p.iter().map(|h| json!(b64::encode(h))).collect::<Vec<_>>()
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("content field changed", with(&|v| v["content"]["holder"]["name"] = json!("李四")), "content_hash_mismatch"),
        ("content field added", with(&|v| v["content"]["extra"] = json!(true)), "content_hash_mismatch"),
        ("content number changed", with(&|v| v["content"]["serial"] = json!(124)), "content_hash_mismatch"),
        ("content fraction", with(&|v| v["content"]["serial"] = json!(123.5)), "content_not_canonical"),
        ("content not an object", with(&|v| v["content"] = json!([1])), "bundle_wrong_type"),
        ("ref changed", with(&|v| v["ref"] = json!("440604-GA-2026-000124")), "issuer_statement_mismatch"),
        ("kind changed", with(&|v| v["kind"] = json!("licence")), "issuer_statement_mismatch"),
        ("ref invalid", with(&|v| v["ref"] = json!("a b")), "invalid_entry_reference"),
        (
            "proof hash flipped (first)",
            with(&|v| v["inclusion_proof"] = json!(flip_proof(0))),
            "inclusion_proof_invalid",
        ),
        (
            "proof hash flipped (last)",
            with(&|v| v["inclusion_proof"] = json!(flip_proof(b.inclusion_proof.len() - 1))),
            "inclusion_proof_invalid",
        ),
        (
            "proof hash dropped",
            with(&|v| {
                v["inclusion_proof"].as_array_mut().unwrap().pop();
            }),
            "inclusion_proof_invalid",
        ),
        ("proof hash not base64", with(&|v| v["inclusion_proof"][0] = json!("!!")), "bundle_bad_proof_hash"),
        (
            "proof hash short",
            with(&|v| v["inclusion_proof"][0] = json!(b64::encode(&[0; 31]))),
            "bundle_bad_proof_hash",
        ),
        ("proof not an array", with(&|v| v["inclusion_proof"] = json!("x")), "bundle_wrong_type"),
        ("leaf index changed", with(&|v| v["leaf_index"] = json!(INDEX + 1)), "inclusion_proof_invalid"),
        ("leaf index beyond size", with(&|v| v["leaf_index"] = json!(13)), "leaf_index_out_of_range"),
        ("leaf index negative", with(&|v| v["leaf_index"] = json!(-1)), "bundle_wrong_type"),
        ("leaf index fractional", with(&|v| v["leaf_index"] = json!(5.0)), "bundle_wrong_type"),
        ("leaf index as string", with(&|v| v["leaf_index"] = json!("5")), "bundle_wrong_type"),
        (
            "checkpoint size edited",
            with(&|v| v["checkpoint"] = json!(b.checkpoint.replacen("\n13\n", "\n14\n", 1))),
            "checkpoint_signature_invalid",
        ),
        (
            "checkpoint root edited",
            with(&|v| {
                let root = b64::encode(&w.store.root().unwrap());
                let other = b64::encode(&[0; 32]);
                v["checkpoint"] = json!(b.checkpoint.replacen(&root, &other, 1))
            }),
            "checkpoint_signature_invalid",
        ),
        (
            "log signature line removed",
            with(&|v| v["checkpoint"] = json!(without_line(ORIGIN))),
            "checkpoint_not_signed_by_log",
        ),
        (
            "witness cosignature removed",
            with(&|v| v["checkpoint"] = json!(without_line(w.witnesses[0].1.name()))),
            "witness_quorum_not_met",
        ),
        (
            "cosignatures only from an unknown key",
            with(&|v| {
                let cp = w.checkpoint(&[&w.stranger]);
                v["checkpoint"] = json!(cp)
            }),
            "witness_quorum_not_met",
        ),
        (
            "witness cosignature over another checkpoint",
            with(&|v| {
                let other = Checkpoint::new(ORIGIN, 12, [0; 32]).unwrap();
                let forged = w.witnesses[0].1.cosign(&other.to_text(), 1).unwrap();
                v["checkpoint"] = json!(add_signature_lines(&without_line(w.witnesses[0].1.name()), &forged).unwrap())
            }),
            "cosignature_invalid",
        ),
        (
            "checkpoint of another log",
            with(&|v| {
                let cp = Checkpoint::new("other.example/log", 13, w.store.root().unwrap()).unwrap();
                v["checkpoint"] = json!(cp.sign(&w.log).unwrap())
            }),
            "checkpoint_wrong_origin",
        ),
        (
            "checkpoint of an older tree",
            with(&|v| {
                let mut older = MemoryStore::new();
                let leaves: Vec<Hash> = (0..6u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
                older.append_leaves(&leaves).unwrap();
                let cp = Checkpoint::new(ORIGIN, 6, older.root().unwrap()).unwrap();
                let mut note = cp.sign(&w.log).unwrap();
                for (_, c) in &w.witnesses {
                    note = add_signature_lines(&note, &c.cosign(&cp.to_text(), 1).unwrap()).unwrap();
                }
                v["checkpoint"] = json!(note)
            }),
            "inclusion_proof_invalid",
        ),
        (
            "issuer signature line removed",
            with(&|v| v["signature"] = json!(b.signature.split("\n\n").next().unwrap().to_owned() + "\n")),
            "issuer_note_malformed",
        ),
        (
            "signed by an unknown issuer",
            with(&|v| {
                let other = Signer::from_seed("gongan.chancheng.example", &[9; 32]).unwrap();
                v["signature"] =
                    json!(sign_certificate(&other, "certificate", "440604-GA-2026-000123", &content()).unwrap())
            }),
            "issuer_unknown",
        ),
        (
            "signed by the log key, not an issuer",
            with(&|v| {
                v["signature"] =
                    json!(sign_certificate(&w.log, "certificate", "440604-GA-2026-000123", &content()).unwrap())
            }),
            "issuer_unknown",
        ),
        (
            "issuer signature over edited text",
            with(&|v| v["signature"] = json!(b.signature.replacen("000123", "000124", 1))),
            "issuer_signature_invalid",
        ),
        (
            "issuer signed something else",
            with(&|v| v["signature"] = json!(w.issuer.sign("hello\n").unwrap())),
            "issuer_statement_malformed",
        ),
        ("unknown member", with(&|v| v["extra"] = json!(1)), "bundle_unknown_field"),
        (
            "missing member",
            with(&|v| {
                v.as_object_mut().unwrap().remove("checkpoint");
            }),
            "bundle_missing_field",
        ),
        ("format changed", with(&|v| v["format"] = json!("civgrid-bundle/v2")), "bundle_unsupported_format"),
        ("format wrong type", with(&|v| v["format"] = json!(1)), "bundle_wrong_type"),
        ("not an object", json!([1, 2]), "bundle_not_an_object"),
    ];
    for (what, value, code) in cases {
        assert_eq!(code_of_value(&value, t), code, "{what}");
    }

    let text = b.to_json();
    // Truncated JSON, at many points.
    for cut in (0..text.len()).step_by(37) {
        assert_eq!(code_of(&text.as_bytes()[..cut], t), "bundle_malformed_json", "cut at {cut}");
    }
    assert_eq!(code_of(format!("{text}x").as_bytes(), t), "bundle_malformed_json");
    assert_eq!(code_of(format!("{text}{text}").as_bytes(), t), "bundle_malformed_json");
    // Duplicate member, at the top and inside the content.
    let dup = text.replacen("\"kind\": \"certificate\"", "\"kind\": \"certificate\", \"kind\": \"certificate\"", 1);
    assert_eq!(code_of(dup.as_bytes(), t), "bundle_duplicate_key");
    let dup = text.replacen("\"serial\":123", "\"serial\":123,\"serial\":124", 1);
    assert_ne!(dup, text);
    assert_eq!(code_of(dup.as_bytes(), t), "bundle_duplicate_key");
    // Size limit.
    let mut big = text.clone().into_bytes();
    big.resize(MAX_BUNDLE_SIZE + 1, b' ');
    assert_eq!(code_of(&big, t), "bundle_too_large");
    assert_eq!(code_of(&[0xff, 0xfe], t), "bundle_malformed_json");
    // A different trust file (other log key) refuses the same bundle.
    let other_log = Signer::from_seed(ORIGIN, &[8; 32]).unwrap();
    let mut other = t.clone();
    other.logs = vec![other_log.verifier()];
    assert_eq!(code_of(text.as_bytes(), &other), "checkpoint_not_signed_by_log");
    assert!(verify_bundle(b"1", t).unwrap_err().zh().contains("JSON"));
}

#[test]
fn build_refuses_parts_that_do_not_fit() {
    let w = world();
    let b = w.bundle();
    let build = |f: &dyn Fn(&mut Bundle)| {
        let mut p = b.clone();
        f(&mut p);
        Bundle::build(&p.kind, &p.reference, p.content, p.signature, p.leaf_index, p.inclusion_proof, p.checkpoint)
            .map(|_| ())
            .map_err(|e| e.code())
    };
    assert_eq!(build(&|_| {}), Ok(()));
    assert_eq!(build(&|p| p.leaf_index = 4), Err("inclusion_proof_invalid"));
    assert_eq!(build(&|p| p.reference = "x".into()), Err("issuer_statement_mismatch"));
    assert_eq!(build(&|p| p.content = json!({})), Err("content_hash_mismatch"));
    assert_eq!(build(&|p| p.content = json!(1)), Err("bundle_wrong_type"));
    assert_eq!(build(&|p| p.checkpoint = "x\n".into()), Err("checkpoint_note_malformed"));
    assert_eq!(build(&|p| p.inclusion_proof = vec![[0; 32]; 65]), Err("bundle_proof_too_long"));
}

#[test]
fn statement_is_the_entry_fields() {
    let e = Entry::new("certificate", "R-1", [0xab; 32]).unwrap();
    assert_eq!(certificate_statement(&e), format!("civgrid certificate v1\ncertificate R-1 {}\n", "ab".repeat(32)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// A random edit of a valid bundle's bytes verifies only if the file still parses to the
    /// same JSON value (e.g. whitespace between tokens): semantics, not bytes, are what is
    /// signed (see the module docs).
    #[test]
    fn random_mutations_never_verify_unless_semantically_identical(
        edits in proptest::collection::vec((0usize..1_000_000, 0u8..4, any::<u8>()), 1..4)
    ) {
        let w = world();
        let original = w.bundle().to_json();
        let original_value = strict_json(original.as_bytes()).unwrap();
        let mut bytes = original.into_bytes();
        for (at, op, byte) in edits {
            let at = at % (bytes.len() + 1);
            match op {
                0 if at < bytes.len() => bytes[at] ^= 1 << (byte % 8),
                1 if at < bytes.len() => bytes[at] = byte,
                2 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => bytes.truncate(at),
            }
        }
        if verify_bundle(&bytes, &w.trust).is_ok() {
            prop_assert_eq!(strict_json(&bytes).unwrap(), original_value, "verified after a semantic change: {}", String::from_utf8_lossy(&bytes));
        }
    }

    /// The same below the JSON layer: any change to one character of a member's string value
    /// (the notes, the reference, a content string, a proof hash) or to the index is refused.
    #[test]
    fn mutations_inside_members_never_verify(
        field in 0usize..6,
        at in 0usize..1_000_000,
        replacement in prop::sample::select(vec!['a', 'Z', '0', '9', '+', '/', '=', ' ', '\n', '\u{2014}', '-', '中', '\0']),
        bump in 1u64..1000,
    ) {
        let w = world();
        let mut b = w.bundle();
        let mutate = |s: &mut String| {
            let chars: Vec<char> = s.chars().collect();
            let i = at % chars.len();
            if chars[i] == replacement {
                return false;
            }
            *s = chars.iter().enumerate().map(|(j, c)| if j == i { replacement } else { *c }).collect();
            true
        };
        let changed = match field {
            0 => mutate(&mut b.signature),
            1 => mutate(&mut b.checkpoint),
            2 => mutate(&mut b.reference),
            3 => {
                let mut s = b.content["holder"]["name"].as_str().unwrap().to_owned();
                let changed = mutate(&mut s);
                b.content["holder"]["name"] = json!(s);
                changed
            }
            4 => {
                let i = at % b.inclusion_proof.len();
                let mut s = b64::encode(&b.inclusion_proof[i]);
                let changed = mutate(&mut s);
                match b64::decode_32(&s) {
                    Some(h) => b.inclusion_proof[i] = h,
                    None => return Ok(()),
                }
                changed && b64::encode(&b.inclusion_proof[i]) == s
            }
            _ => {
                b.leaf_index = b.leaf_index.wrapping_add(bump);
                true
            }
        };
        if changed {
            let bytes = b.to_json();
            let result = verify_bundle(bytes.as_bytes(), &w.trust);
            prop_assert!(result.is_err(), "verified after changing member {}: {}", field, bytes);
        }
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Bundle::parse(&bytes);
    }
}
