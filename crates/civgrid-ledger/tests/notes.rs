//! Signed notes, checkpoints and cosignatures against the C2SP spec examples and the Go
//! `sumdb/note` reference example (tests/vectors/c2sp_examples.json), plus malformed cases.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use civgrid_ledger::checkpoint::{open_checkpoint, Checkpoint};
use civgrid_ledger::cosignature::{
    cosigned_message, split_cosignature, verify_cosignatures, CosignatureVerifier, Cosigner,
};
use civgrid_ledger::note::{
    add_signature_lines, key_id, open, open_bytes, parse_note, sign_note, NoteError, Signer, Verifier, MAX_SIGNATURES,
    SIG_TYPE_ED25519,
};
use serde_json::Value;

fn examples() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/c2sp_examples.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(v, |v, k| &v[*k]).as_str().unwrap()
}

#[test]
fn c2sp_example_note_verifies() {
    let ex = examples();
    let v = Verifier::parse(s(&ex, &["c2spVerifiedExample", "vkey"])).unwrap();
    assert_eq!(v.name(), "example.com/foo");
    assert_eq!(format!("{:08x}", v.key_id()), "530d903a");
    assert_eq!(key_id(v.name(), SIG_TYPE_ED25519, &v.public_key()), 0x530d903a);
    assert_eq!(v.vkey(), s(&ex, &["c2spVerifiedExample", "vkey"]), "vkey round trip");
    let opened = open(s(&ex, &["c2spVerifiedExample", "note"]), &[v]).unwrap();
    assert_eq!(opened.text, s(&ex, &["c2spVerifiedExample", "text"]));
    assert!(opened.is_signed_by("example.com/foo", 0x530d903a));
    assert!(opened.unknown.is_empty());
}

#[test]
fn go_reference_key_signs_byte_for_byte() {
    let ex = examples();
    let go = &ex["goExample"];
    let signer = Signer::from_private_key(s(go, &["skey"])).unwrap();
    assert_eq!(signer.private_key(), s(go, &["skey"]), "private key round trip");
    assert_eq!(signer.vkey(), s(go, &["vkey"]));
    assert_eq!(format!("{:08x}", signer.key_id()), "c74f20a3");
    // Ed25519 is deterministic, so our note must equal the reference byte for byte.
    let want = format!("{}\n{}", s(go, &["text"]), s(go, &["sigLine"]));
    assert_eq!(signer.sign(s(go, &["text"])).unwrap(), want);
    // Debug never shows the secret.
    let debug = format!("{signer:?}");
    assert!(debug.contains("PeterNeumann") && !debug.contains("AYEKFALV"), "{debug}");
}

#[test]
fn go_doubly_signed_note() {
    let ex = examples();
    let go = &ex["goExample"];
    let peter = Verifier::parse(s(go, &["vkey"])).unwrap();
    let enoch = Verifier::parse(s(go, &["enochVkey"])).unwrap();
    let note = format!("{}\n{}{}", s(go, &["text"]), s(go, &["sigLine"]), s(go, &["enochSigLine"]));
    let both = open(&note, &[peter.clone(), enoch.clone()]).unwrap();
    assert_eq!(both.verified.len(), 2);
    // Trusting only Enoch: Peter's signature is reported as unknown, not failed.
    let only_enoch = open(&note, &[enoch]).unwrap();
    assert_eq!(only_enoch.verified.len(), 1);
    assert_eq!(only_enoch.unknown.len(), 1);
    assert_eq!(only_enoch.unknown[0].key_label(), "PeterNeumann+c74f20a3");
    // Reference bad keys: wrong length and unknown algorithm, each with an adjusted key id.
    for bad in go["badVkeys"].as_array().unwrap() {
        assert!(Verifier::parse(bad.as_str().unwrap()).is_err(), "{bad}");
    }
}

#[test]
fn tampered_wrong_key_and_truncated_notes_are_refused() {
    let ex = examples();
    let note = s(&ex, &["c2spVerifiedExample", "note"]);
    let v = Verifier::parse(s(&ex, &["c2spVerifiedExample", "vkey"])).unwrap();

    let tampered = note.replace("example message", "exemplary message");
    assert_eq!(open(&tampered, std::slice::from_ref(&v)).unwrap_err().code(), "bad_signature");

    let other = Signer::generate("example.com/foo").unwrap().verifier();
    let err = open(note, &[other]).unwrap_err();
    assert_eq!(err.code(), "no_trusted_signature");
    assert!(err.to_string().contains("example.com/foo+530d903a"), "{err}");

    // Every strict prefix of the note is refused.
    for (end, _) in note.char_indices() {
        assert!(open(&note[..end], std::slice::from_ref(&v)).is_err(), "truncated at {end}");
    }
    assert_eq!(open(note.trim_end_matches('\n'), std::slice::from_ref(&v)).unwrap_err().code(), "no_signature_block");
    // A signature from the right name but another key id is unknown, not verified.
    let forged_id = note.replace("Uw2QOkn8", "Uw2QOkn9");
    assert!(open(&forged_id, std::slice::from_ref(&v)).is_err());
    // Flipping any bit of the signature is caught.
    let sig = STANDARD.decode(note.rsplit(' ').next().unwrap().trim_end()).unwrap();
    for i in 4..sig.len() {
        let mut bad = sig.clone();
        bad[i] ^= 0x20;
        let forged = format!(
            "{}\n\u{2014} example.com/foo {}\n",
            s(&ex, &["c2spVerifiedExample", "text"]),
            STANDARD.encode(&bad)
        );
        assert_eq!(open(&forged, std::slice::from_ref(&v)).unwrap_err().code(), "bad_signature", "byte {i}");
    }
}

#[test]
fn c2sp_poem_note_parses_with_blank_line_in_text() {
    let ex = examples();
    let parsed = parse_note(s(&ex, &["c2spPoemExample", "note"])).unwrap();
    assert_eq!(parsed.text, s(&ex, &["c2spPoemExample", "text"]));
    assert_eq!(parsed.signatures.len(), 1);
    assert_eq!(parsed.signatures[0].name, "quasimodo.example/salvatore");
    assert_eq!(parsed.signatures[0].to_line().trim_end(), s(&ex, &["c2spPoemExample", "note"]).lines().last().unwrap());
    // No key for it is published, so it can never be opened as trusted.
    let err = open(s(&ex, &["c2spPoemExample", "note"]), &[]).unwrap_err();
    assert_eq!(err.code(), "no_trusted_signature");
}

#[test]
fn malformed_notes_are_refused_precisely() {
    let signer = Signer::generate("log.example/a").unwrap();
    let v = signer.verifier();
    let good = signer.sign("hello\n").unwrap();
    let line = good.lines().last().unwrap();
    let cases: Vec<(String, &str)> = vec![
        (good.replace('\u{2014}', "-"), "malformed_signature_line"),
        (good.replace("\u{2014} ", "\u{2014}"), "malformed_signature_line"),
        (good.replace("log.example/a ", "log.example/a  "), "malformed_signature_line"),
        (format!("hello\n\n{line}\n\n"), "no_signature_block"),
        (format!("hel\rlo\n\n{line}\n"), "control_character"),
        // A signature cut short still decodes, but is no longer a valid signature.
        (format!("hello\n\n{}\n", &line[..line.len() - 4]), "bad_signature"),
        ("hello\n\n\u{2014} log.example/a AAAA\n".to_string(), "malformed_signature_line"),
        (format!("hello\n\n\u{2014} bad+name {}\n", line.rsplit(' ').next().unwrap()), "malformed_signature_line"),
        ("hello\n".to_string(), "no_signature_block"),
        (String::new(), "no_signature_block"),
        (format!("hello\n\n{}", format!("{line}\n").repeat(MAX_SIGNATURES + 1)), "too_many_signatures"),
    ];
    for (note, code) in cases {
        assert_eq!(open(&note, std::slice::from_ref(&v)).unwrap_err().code(), code, "{note:?}");
    }
    assert_eq!(open_bytes(b"hello\n\n\xff\n", std::slice::from_ref(&v)).unwrap_err().code(), "not_utf8");
    // Duplicate trusted verifiers are ambiguous.
    assert_eq!(open(&good, &[v.clone(), v.clone()]).unwrap_err().code(), "ambiguous_verifier");
    // Text that cannot be a note text cannot be signed.
    for text in ["", "no newline", "tab\there\n"] {
        assert_eq!(signer.sign(text).unwrap_err(), NoteError::InvalidText, "{text:?}");
    }
    for name in ["", "has space", "has+plus", "tab\tname", "nbsp\u{a0}name"] {
        assert_eq!(Signer::generate(name).unwrap_err().code(), "invalid_key_name", "{name:?}");
    }
    // A duplicated trusted line is accepted once; a trusted line that fails anywhere rejects.
    let doubled = format!("{good}{line}\n");
    assert_eq!(open(&doubled, std::slice::from_ref(&v)).unwrap().verified.len(), 1);
}

#[test]
fn multi_signer_round_trip_and_key_strings() {
    let a = Signer::generate("log.example/a").unwrap();
    let b = Signer::generate("log.example/b").unwrap();
    let note = sign_note("line one\n\nline three\n", &[&a, &b]).unwrap();
    let opened = open(&note, &[a.verifier(), b.verifier()]).unwrap();
    assert_eq!(opened.text, "line one\n\nline three\n");
    assert_eq!(opened.verified.len(), 2);
    // Private and verifier key strings round-trip; a wrong key id is caught.
    let again = Signer::from_private_key(&a.private_key()).unwrap();
    assert_eq!(again.vkey(), a.vkey());
    assert_eq!(Verifier::parse(&a.vkey()).unwrap(), a.verifier());
    let mut wrong = a.vkey();
    let id_at = wrong.find('+').unwrap() + 1;
    wrong.replace_range(id_at..id_at + 8, "00000000");
    assert_eq!(Verifier::parse(&wrong).unwrap_err().code(), "key_id_mismatch");
    assert_eq!(Verifier::parse("name+530d903a+AQ==").unwrap_err().code(), "malformed_key");
    assert_eq!(Verifier::parse("nokey").unwrap_err().code(), "malformed_key");
    // A small-order point is refused even with a correct key id.
    let mut weak = [0u8; 32];
    weak[0] = 1; // the identity point
    assert_eq!(Verifier::from_public_key("x", &weak).unwrap_err().code(), "weak_key");
    // A cosigner key string is not a note verifier key.
    let w = Cosigner::generate("witness.example/w").unwrap();
    assert_eq!(Verifier::parse(&w.vkey()).unwrap_err().code(), "unsupported_key_type");
}

#[test]
fn checkpoint_spec_example_and_round_trips() {
    let ex = examples();
    let cp = &ex["checkpointExample"];
    let parsed = Checkpoint::parse(s(cp, &["text"])).unwrap();
    assert_eq!(parsed.origin, "example.com/behind-the-sofa");
    assert_eq!(parsed.size, 20852163);
    assert_eq!(STANDARD.encode(parsed.root), s(cp, &["rootBase64"]));
    assert!(parsed.extensions.is_empty());
    assert_eq!(parsed.to_text(), s(cp, &["text"]));

    let mut with_ext = Checkpoint::new("ledger.example/log", 0, civgrid_ledger::empty_root()).unwrap();
    with_ext.extensions = vec!["ext one".into(), "— ext two".into()];
    assert_eq!(Checkpoint::parse(&with_ext.to_text()).unwrap(), with_ext);

    let signer = Signer::generate("ledger.example/log").unwrap();
    let note = with_ext.sign(&signer).unwrap();
    let opened = open_checkpoint(&note, &[signer.verifier()]).unwrap();
    assert_eq!(opened.checkpoint, with_ext);
    assert_eq!(open_checkpoint(&note, &[]).unwrap_err().code(), "no_trusted_signature");
}

#[test]
fn malformed_checkpoints_are_refused_precisely() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let cases = [
        (format!("o\n1\n{root}"), "checkpoint_missing_final_newline"),
        ("o\n1\n".to_string(), "checkpoint_too_few_lines"),
        (format!("\n1\n{root}\n"), "checkpoint_empty_origin"),
        (format!("o\n01\n{root}\n"), "checkpoint_bad_size"),
        (format!("o\n+1\n{root}\n"), "checkpoint_bad_size"),
        (format!("o\n 1\n{root}\n"), "checkpoint_bad_size"),
        (format!("o\n18446744073709551616\n{root}\n"), "checkpoint_bad_size"),
        (format!("o\n\n{root}\n"), "checkpoint_bad_size"),
        ("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".to_string(), "checkpoint_bad_root"),
        ("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".to_string(), "checkpoint_bad_root"),
        ("o\n1\nAAAA\n".to_string(), "checkpoint_bad_root"),
        (format!("o\n1\n{root}\n\n"), "checkpoint_empty_extension_line"),
        (format!("o\n1\n{root}\next\n\nmore\n"), "checkpoint_empty_extension_line"),
        (format!("o\x07\n1\n{root}\n"), "checkpoint_control_character"),
    ];
    for (text, code) in cases {
        assert_eq!(Checkpoint::parse(&text).unwrap_err().code(), code, "{text:?}");
    }
    assert_eq!(Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size, 0);
    assert_eq!(Checkpoint::new("", 1, [0; 32]).unwrap_err().code(), "checkpoint_empty_origin");
    assert_eq!(Checkpoint::new("a\nb", 1, [0; 32]).unwrap_err().code(), "checkpoint_control_character");
}

#[test]
fn cosignature_spec_example_structure() {
    let ex = examples();
    let cp = &ex["checkpointExample"];
    let note = format!("{}\n{}{}", s(cp, &["text"]), s(cp, &["logSigLine"]), s(cp, &["cosigLine"]));
    let parsed = parse_note(&note).unwrap();
    let cosig = &parsed.signatures[1];
    assert_eq!(cosig.name, "witness.example.com/w1");
    // The example's timestamp is the one its cosigned-message example shows.
    let (timestamp, _) = split_cosignature(&cosig.signature).unwrap();
    assert_eq!(timestamp, cp["cosigTimestamp"].as_u64().unwrap());
    assert_eq!(cosigned_message(s(cp, &["text"]), timestamp), s(cp, &["cosignedMessageExample"]));
}

#[test]
fn cosign_and_verify_round_trip() {
    let log = Signer::generate("ledger.example/log").unwrap();
    let w1 = Cosigner::generate("witness.example/w1").unwrap();
    let w2 = Cosigner::generate("witness.example/w2").unwrap();
    let text = Checkpoint::new("ledger.example/log", 5, [7; 32]).unwrap().to_text();
    let note = log.sign(&text).unwrap();
    let lines = format!("{}{}", w1.cosign(&text, 1_700_000_000).unwrap(), w2.cosign(&text, 1_700_000_005).unwrap());
    let cosigned = add_signature_lines(&note, &lines).unwrap();
    // Adding the same lines again changes nothing.
    assert_eq!(add_signature_lines(&cosigned, &lines).unwrap(), cosigned);

    let trusted = [w1.verifier(), w2.verifier()];
    let found = verify_cosignatures(&cosigned, &trusted).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].timestamp, 1_700_000_000);
    // The log's note signature still verifies; the cosignatures are unknown to it.
    let opened = open(&cosigned, &[log.verifier()]).unwrap();
    assert_eq!(opened.unknown.len(), 2);
    // Key strings round-trip.
    assert_eq!(CosignatureVerifier::parse(&w1.vkey()).unwrap(), w1.verifier());
    assert_eq!(Cosigner::from_private_key(&w1.private_key()).unwrap().vkey(), w1.vkey());
    assert!(!format!("{w1:?}").contains(&w1.private_key()));

    // Tampering: another checkpoint text, a changed timestamp, a cosignature by another key.
    let other_text = Checkpoint::new("ledger.example/log", 6, [7; 32]).unwrap().to_text();
    let moved = format!("{}\n{}", other_text, w1.cosign(&text, 1_700_000_000).unwrap());
    assert_eq!(verify_cosignatures(&moved, &trusted).unwrap_err().code(), "bad_cosignature");
    let line = w1.cosign(&text, 1_700_000_000).unwrap();
    let mut raw = STANDARD.decode(line.trim_end().rsplit(' ').next().unwrap()).unwrap();
    raw[11] ^= 1; // timestamp byte
    let retimed = format!("{text}\n\u{2014} witness.example/w1 {}\n", STANDARD.encode(&raw));
    assert_eq!(verify_cosignatures(&retimed, &trusted).unwrap_err().code(), "bad_cosignature");
    let impostor = Cosigner::generate("witness.example/w1").unwrap();
    let forged = format!("{text}\n{}", impostor.cosign(&text, 1).unwrap());
    assert!(verify_cosignatures(&forged, &trusted).unwrap().is_empty(), "other key id: ignored, not trusted");
    assert_eq!(w1.cosign(&text, u64::MAX).unwrap_err().code(), "cosignature_timestamp_too_large");
}
