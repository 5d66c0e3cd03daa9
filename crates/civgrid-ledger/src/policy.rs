//! The published trust file: everything an outsider needs to check a checkpoint or a certificate
//! bundle offline, and the witness quorum that makes a checkpoint trusted.
//!
//! ```text
//! # civgrid trust file for 禅城区
//! origin ledger.chancheng.example/log
//! log ledger.chancheng.example/log+1a2b3c4d+AZ…
//! issuer issuer.chancheng.example+5e6f7a8b+AQ…
//! witness sifaju witness.sifaju.example/w1+0c0d0e0f+BA…
//! witness shujuju witness.shujuju.example/w1+10203040+BA…
//! quorum 2 2
//! ```
//!
//! One item per line; blank lines and lines whose first non-blank character is `#` are ignored.
//! Fields are separated by exactly one space and lines carry no leading or trailing whitespace
//! (so a CRLF file, a tab or a stray space is refused with its line number rather than read in
//! some other way than the author meant). `origin` takes the rest of the line verbatim, because a
//! checkpoint origin may contain spaces.
//!
//! - `origin <origin line>`: exactly once; checkpoints for any other origin are refused.
//! - `log <vkey>`: one or more Ed25519 signed-note keys of the log (several during rotation).
//! - `issuer <vkey>`: one or more Ed25519 signed-note keys of certificate issuers.
//! - `witness <department> <vkey>`: zero or more tlog-cosignature/v1 keys, each belonging to a
//!   department (code: 2–32 of `a-z 0-9 _ -`, as in the platform's staff directory).
//! - `quorum <min witnesses> <min departments>`: exactly once. A checkpoint is trusted when at
//!   least that many listed witnesses cosigned it and they belong to at least that many distinct
//!   departments. `quorum 0 0` trusts the log's signature alone (for development only).
//!
//! The same key may not be listed twice (in one role or across `log` and `issuer`): a log key
//! that could also issue certificates would erase the separation the two roles exist for.

use std::fmt;

use crate::checkpoint::{parse_canonical_u64, Checkpoint, CheckpointError};
use crate::cosignature::{verify_cosignatures, CosignatureError, CosignatureVerifier};
use crate::note::{self, NoteError, NoteSignature, VerifiedNote, Verifier};

/// Largest trust file accepted, in bytes.
pub const MAX_TRUST_FILE_SIZE: usize = 64 * 1024;

/// Why a trust file was refused. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustFileError {
    /// The file is larger than [`MAX_TRUST_FILE_SIZE`].
    #[error("trust file is larger than {MAX_TRUST_FILE_SIZE} bytes")]
    TooLarge,
    /// The bytes are not UTF-8.
    #[error("trust file is not valid UTF-8")]
    NotUtf8,
    /// A control character (tab, carriage return, …) is present.
    #[error("line {line}: control character (tab, carriage return, …) in trust file")]
    ControlCharacter {
        /// Line number.
        line: usize,
    },
    /// Leading or trailing whitespace, or fields separated by more than one space.
    #[error("line {line}: fields must be separated by single spaces, without leading or trailing whitespace")]
    Whitespace {
        /// Line number.
        line: usize,
    },
    /// The first word is not one of `origin`, `log`, `issuer`, `witness`, `quorum`.
    #[error("line {line}: unknown item {word:?} (expected origin, log, issuer, witness or quorum)")]
    UnknownItem {
        /// Line number.
        line: usize,
        /// The word found.
        word: String,
    },
    /// An item has the wrong number of fields.
    #[error("line {line}: `{item}` expects {expected}")]
    WrongFieldCount {
        /// Line number.
        line: usize,
        /// The item.
        item: &'static str,
        /// What it expects, in words.
        expected: &'static str,
    },
    /// `origin` appears twice.
    #[error("line {line}: second origin line (a trust file describes one log)")]
    DuplicateOrigin {
        /// Line number.
        line: usize,
    },
    /// `quorum` appears twice.
    #[error("line {line}: second quorum line")]
    DuplicateQuorum {
        /// Line number.
        line: usize,
    },
    /// A `log` key is not a valid Ed25519 signed-note verifier key.
    #[error("line {line}: bad log key: {source}")]
    BadLogKey {
        /// Line number.
        line: usize,
        /// Why.
        source: NoteError,
    },
    /// An `issuer` key is not a valid Ed25519 signed-note verifier key.
    #[error("line {line}: bad issuer key: {source}")]
    BadIssuerKey {
        /// Line number.
        line: usize,
        /// Why.
        source: NoteError,
    },
    /// A `witness` key is not a valid cosignature/v1 verifier key.
    #[error("line {line}: bad witness key: {source}")]
    BadWitnessKey {
        /// Line number.
        line: usize,
        /// Why.
        source: CosignatureError,
    },
    /// A department code is not 2–32 characters of `a-z 0-9 _ -`.
    #[error("line {line}: department code must be 2-32 characters of a-z, 0-9, '_' or '-'")]
    BadDepartment {
        /// Line number.
        line: usize,
    },
    /// The same key (name and key id) is listed twice.
    #[error("line {line}: key {key} is listed twice")]
    DuplicateKey {
        /// Line number of the second listing.
        line: usize,
        /// `name+hexid`.
        key: String,
    },
    /// A quorum number is not a canonical decimal.
    #[error("line {line}: quorum numbers must be decimal without leading zeros")]
    BadQuorum {
        /// Line number.
        line: usize,
    },
    /// No `origin` line.
    #[error("trust file has no origin line")]
    MissingOrigin,
    /// The origin is not a valid checkpoint origin line.
    #[error("origin is not a valid checkpoint origin")]
    BadOrigin,
    /// No `log` line.
    #[error("trust file lists no log key")]
    MissingLogKey,
    /// No `issuer` line.
    #[error("trust file lists no issuer key")]
    MissingIssuerKey,
    /// No `quorum` line.
    #[error("trust file has no quorum line")]
    MissingQuorum,
    /// The quorum asks for more witnesses or departments than the file lists.
    #[error("quorum needs {min_witnesses} witnesses from {min_departments} departments but the file lists {witnesses} witnesses from {departments} departments")]
    QuorumUnreachable {
        /// Required witnesses.
        min_witnesses: usize,
        /// Required departments.
        min_departments: usize,
        /// Listed witnesses.
        witnesses: usize,
        /// Distinct listed departments.
        departments: usize,
    },
}

impl TrustFileError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            TrustFileError::TooLarge => "trust_file_too_large",
            TrustFileError::NotUtf8 => "trust_file_not_utf8",
            TrustFileError::ControlCharacter { .. } => "trust_file_control_character",
            TrustFileError::Whitespace { .. } => "trust_file_whitespace",
            TrustFileError::UnknownItem { .. } => "trust_file_unknown_item",
            TrustFileError::WrongFieldCount { .. } => "trust_file_wrong_field_count",
            TrustFileError::DuplicateOrigin { .. } => "trust_file_duplicate_origin",
            TrustFileError::DuplicateQuorum { .. } => "trust_file_duplicate_quorum",
            TrustFileError::BadLogKey { .. } => "trust_file_bad_log_key",
            TrustFileError::BadIssuerKey { .. } => "trust_file_bad_issuer_key",
            TrustFileError::BadWitnessKey { .. } => "trust_file_bad_witness_key",
            TrustFileError::BadDepartment { .. } => "trust_file_bad_department",
            TrustFileError::DuplicateKey { .. } => "trust_file_duplicate_key",
            TrustFileError::BadQuorum { .. } => "trust_file_bad_quorum",
            TrustFileError::MissingOrigin => "trust_file_missing_origin",
            TrustFileError::BadOrigin => "trust_file_bad_origin",
            TrustFileError::MissingLogKey => "trust_file_missing_log_key",
            TrustFileError::MissingIssuerKey => "trust_file_missing_issuer_key",
            TrustFileError::MissingQuorum => "trust_file_missing_quorum",
            TrustFileError::QuorumUnreachable { .. } => "trust_file_quorum_unreachable",
        }
    }
}

/// Why a checkpoint is not trusted under a trust file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The note is not a well-formed signed note.
    #[error("checkpoint note is malformed: {0}")]
    MalformedNote(NoteError),
    /// No signature by a listed log key.
    #[error("checkpoint is not signed by a trusted log key: {0}")]
    NotSignedByLog(NoteError),
    /// A signature claiming a listed log key does not verify: the checkpoint was altered.
    #[error("checkpoint's log signature does not verify (the checkpoint was altered): {0}")]
    BadLogSignature(NoteError),
    /// The signed text is not a checkpoint.
    #[error("checkpoint body is malformed: {0}")]
    MalformedCheckpoint(CheckpointError),
    /// The checkpoint is for another log.
    #[error("checkpoint is for origin {found:?}, the trust file is for {expected:?}")]
    WrongOrigin {
        /// The trust file's origin.
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// A cosignature line claiming a listed witness key does not verify.
    #[error("a cosignature by a trusted witness does not verify (the checkpoint was altered): {0}")]
    BadCosignature(CosignatureError),
    /// Too few witnesses, or witnesses from too few departments, cosigned.
    #[error("witness quorum not met: {witnesses} of {min_witnesses} witnesses, {departments} of {min_departments} departments")]
    QuorumNotMet {
        /// Witnesses whose cosignature verified.
        witnesses: usize,
        /// Distinct departments among them.
        departments: usize,
        /// Required witnesses.
        min_witnesses: usize,
        /// Required departments.
        min_departments: usize,
    },
}

impl PolicyError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::MalformedNote(_) => "checkpoint_note_malformed",
            PolicyError::NotSignedByLog(_) => "checkpoint_not_signed_by_log",
            PolicyError::BadLogSignature(_) => "checkpoint_signature_invalid",
            PolicyError::MalformedCheckpoint(_) => "checkpoint_malformed",
            PolicyError::WrongOrigin { .. } => "checkpoint_wrong_origin",
            PolicyError::BadCosignature(_) => "cosignature_invalid",
            PolicyError::QuorumNotMet { .. } => "witness_quorum_not_met",
        }
    }
}

/// A witness listed in the trust file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedWitness {
    /// The department running it.
    pub department: String,
    /// Its cosignature/v1 key.
    pub verifier: CosignatureVerifier,
}

/// How many witnesses, from how many distinct departments, must cosign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    /// Minimum number of listed witnesses whose cosignature verifies.
    pub min_witnesses: usize,
    /// Minimum number of distinct departments among them.
    pub min_departments: usize,
}

/// A parsed, validated trust file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustFile {
    /// The log's checkpoint origin.
    pub origin: String,
    /// The log's note keys.
    pub logs: Vec<Verifier>,
    /// Certificate issuers' note keys.
    pub issuers: Vec<Verifier>,
    /// Witnesses and their departments.
    pub witnesses: Vec<TrustedWitness>,
    /// The quorum.
    pub quorum: Quorum,
}

/// A verified cosignature by a listed witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessCosignature {
    /// The witness's department.
    pub department: String,
    /// Witness key name.
    pub name: String,
    /// Witness key id.
    pub key_id: u32,
    /// When the witness cosigned (POSIX seconds).
    pub timestamp: u64,
}

/// A checkpoint signed by a listed log key, with the listed witnesses' verified cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointVerdict {
    /// The checkpoint body.
    pub checkpoint: Checkpoint,
    /// The log keys that signed it (`name+hexid`).
    pub log_keys: Vec<String>,
    /// Verified cosignatures by listed witnesses, in note order.
    pub cosignatures: Vec<WitnessCosignature>,
    /// Distinct departments among [`CheckpointVerdict::cosignatures`], sorted.
    pub departments: Vec<String>,
    /// Signature lines by keys the trust file does not list (ignored, reported).
    pub unknown_signers: Vec<String>,
    /// Whether the quorum is met.
    pub quorum_met: bool,
}

/// Whether `code` is a department code: 2–32 characters of `a-z 0-9 _ -`.
pub fn is_valid_department(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b))
}

fn key_label(name: &str, id: u32) -> String {
    format!("{name}+{id:08x}")
}

impl TrustFile {
    /// Parses a trust file strictly (see the module docs).
    pub fn parse(bytes: &[u8]) -> Result<TrustFile, TrustFileError> {
        if bytes.len() > MAX_TRUST_FILE_SIZE {
            return Err(TrustFileError::TooLarge);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| TrustFileError::NotUtf8)?;
        let mut origin: Option<String> = None;
        let mut quorum: Option<Quorum> = None;
        let mut logs: Vec<Verifier> = Vec::new();
        let mut issuers: Vec<Verifier> = Vec::new();
        let mut witnesses: Vec<TrustedWitness> = Vec::new();
        let mut note_keys: Vec<String> = Vec::new();

        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            if raw.chars().any(char::is_control) {
                return Err(TrustFileError::ControlCharacter { line });
            }
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if trimmed.len() != raw.len() {
                return Err(TrustFileError::Whitespace { line });
            }
            let (item, rest) = raw.split_once(' ').unwrap_or((raw, ""));
            if item == "origin" {
                if origin.is_some() {
                    return Err(TrustFileError::DuplicateOrigin { line });
                }
                if rest.is_empty() {
                    return Err(TrustFileError::WrongFieldCount { line, item: "origin", expected: "the origin line" });
                }
                origin = Some(rest.to_owned());
                continue;
            }
            let fields: Vec<&str> = if rest.is_empty() { Vec::new() } else { rest.split(' ').collect() };
            if fields.iter().any(|f| f.is_empty()) || raw.chars().any(|c| c.is_whitespace() && c != ' ') {
                return Err(TrustFileError::Whitespace { line });
            }
            match (item, fields.as_slice()) {
                ("log", [vkey]) | ("issuer", [vkey]) => {
                    let parsed = Verifier::parse(vkey).map_err(|source| {
                        if item == "log" {
                            TrustFileError::BadLogKey { line, source }
                        } else {
                            TrustFileError::BadIssuerKey { line, source }
                        }
                    })?;
                    let label = key_label(parsed.name(), parsed.key_id());
                    if note_keys.contains(&label) {
                        return Err(TrustFileError::DuplicateKey { line, key: label });
                    }
                    note_keys.push(label);
                    if item == "log" {
                        logs.push(parsed);
                    } else {
                        issuers.push(parsed);
                    }
                }
                ("log", _) => {
                    return Err(TrustFileError::WrongFieldCount { line, item: "log", expected: "one verifier key" })
                }
                ("issuer", _) => {
                    return Err(TrustFileError::WrongFieldCount { line, item: "issuer", expected: "one verifier key" })
                }
                ("witness", [department, vkey]) => {
                    if !is_valid_department(department) {
                        return Err(TrustFileError::BadDepartment { line });
                    }
                    let verifier = CosignatureVerifier::parse(vkey)
                        .map_err(|source| TrustFileError::BadWitnessKey { line, source })?;
                    if witnesses
                        .iter()
                        .any(|w| w.verifier.name() == verifier.name() && w.verifier.key_id() == verifier.key_id())
                    {
                        return Err(TrustFileError::DuplicateKey {
                            line,
                            key: key_label(verifier.name(), verifier.key_id()),
                        });
                    }
                    witnesses.push(TrustedWitness { department: (*department).to_owned(), verifier });
                }
                ("witness", _) => {
                    return Err(TrustFileError::WrongFieldCount {
                        line,
                        item: "witness",
                        expected: "a department code and one cosignature verifier key",
                    })
                }
                ("quorum", [w, d]) => {
                    if quorum.is_some() {
                        return Err(TrustFileError::DuplicateQuorum { line });
                    }
                    let parse = |s: &str| {
                        parse_canonical_u64(s)
                            .and_then(|n| usize::try_from(n).ok())
                            .ok_or(TrustFileError::BadQuorum { line })
                    };
                    quorum = Some(Quorum { min_witnesses: parse(w)?, min_departments: parse(d)? });
                }
                ("quorum", _) => {
                    return Err(TrustFileError::WrongFieldCount {
                        line,
                        item: "quorum",
                        expected: "minimum witnesses and minimum departments",
                    })
                }
                (word, _) => return Err(TrustFileError::UnknownItem { line, word: word.to_owned() }),
            }
        }

        let origin = origin.ok_or(TrustFileError::MissingOrigin)?;
        // The origin must be something a checkpoint can carry as its first line.
        if Checkpoint::new(&origin, 0, crate::hash::empty_root()).is_err() {
            return Err(TrustFileError::BadOrigin);
        }
        if logs.is_empty() {
            return Err(TrustFileError::MissingLogKey);
        }
        if issuers.is_empty() {
            return Err(TrustFileError::MissingIssuerKey);
        }
        let quorum = quorum.ok_or(TrustFileError::MissingQuorum)?;
        let file = TrustFile { origin, logs, issuers, witnesses, quorum };
        let departments = file.departments().len();
        if quorum.min_witnesses > file.witnesses.len() || quorum.min_departments > departments {
            return Err(TrustFileError::QuorumUnreachable {
                min_witnesses: quorum.min_witnesses,
                min_departments: quorum.min_departments,
                witnesses: file.witnesses.len(),
                departments,
            });
        }
        Ok(file)
    }

    /// The file text: one line per item, in the order origin, log, issuer, witness, quorum.
    /// Parsing it gives back an equal [`TrustFile`].
    pub fn render(&self) -> String {
        let mut out = format!("origin {}\n", self.origin);
        for v in &self.logs {
            out.push_str(&format!("log {}\n", v.vkey()));
        }
        for v in &self.issuers {
            out.push_str(&format!("issuer {}\n", v.vkey()));
        }
        for w in &self.witnesses {
            out.push_str(&format!("witness {} {}\n", w.department, w.verifier.vkey()));
        }
        out.push_str(&format!("quorum {} {}\n", self.quorum.min_witnesses, self.quorum.min_departments));
        out
    }

    /// The distinct departments of the listed witnesses, sorted.
    pub fn departments(&self) -> Vec<String> {
        let mut d: Vec<String> = self.witnesses.iter().map(|w| w.department.clone()).collect();
        d.sort();
        d.dedup();
        d
    }

    /// The listed witnesses' cosignature verifiers.
    pub fn witness_verifiers(&self) -> Vec<CosignatureVerifier> {
        self.witnesses.iter().map(|w| w.verifier.clone()).collect()
    }

    /// Checks only the log's side of a checkpoint note: a listed log key signed it (a listed
    /// key's signature that fails is an error) and it is a checkpoint for the trust file's
    /// origin. Cosignatures are not looked at; [`TrustFile::evaluate_checkpoint`] does that.
    pub fn open_checkpoint(&self, note_text: &str) -> Result<(Checkpoint, VerifiedNote), PolicyError> {
        let opened = note::open(note_text, &self.logs).map_err(|e| match e {
            NoteError::BadSignature { .. } => PolicyError::BadLogSignature(e),
            NoteError::NoTrustedSignature { .. } => PolicyError::NotSignedByLog(e),
            other => PolicyError::MalformedNote(other),
        })?;
        let checkpoint = Checkpoint::parse(&opened.text).map_err(PolicyError::MalformedCheckpoint)?;
        if checkpoint.origin != self.origin {
            return Err(PolicyError::WrongOrigin { expected: self.origin.clone(), found: checkpoint.origin });
        }
        Ok((checkpoint, opened))
    }

    /// Evaluates a signed checkpoint note: it must be signed by a listed log key and be for the
    /// trust file's origin; every cosignature line claiming a listed witness key must verify.
    /// Lines by unlisted keys are ignored (and reported). Whether the quorum is met is in the
    /// verdict; use [`TrustFile::trusted_checkpoint`] to require it.
    pub fn evaluate_checkpoint(&self, note_text: &str) -> Result<CheckpointVerdict, PolicyError> {
        let parsed = note::parse_note(note_text).map_err(PolicyError::MalformedNote)?;
        let (checkpoint, opened) = self.open_checkpoint(note_text)?;
        let found = verify_cosignatures(note_text, &self.witness_verifiers()).map_err(PolicyError::BadCosignature)?;
        let mut cosignatures = Vec::with_capacity(found.len());
        for c in found {
            if let Some(w) =
                self.witnesses.iter().find(|w| w.verifier.name() == c.name && w.verifier.key_id() == c.key_id)
            {
                cosignatures.push(WitnessCosignature {
                    department: w.department.clone(),
                    name: c.name,
                    key_id: c.key_id,
                    timestamp: c.timestamp,
                });
            }
        }
        let mut departments: Vec<String> = cosignatures.iter().map(|c| c.department.clone()).collect();
        departments.sort();
        departments.dedup();
        let is_listed = |s: &NoteSignature| {
            opened.verified.iter().any(|v| v.name == s.name && v.key_id == s.key_id)
                || self.witnesses.iter().any(|w| w.verifier.matches(s))
        };
        let mut unknown_signers: Vec<String> = Vec::new();
        for s in parsed.signatures.iter().filter(|s| !is_listed(s)) {
            let label = s.key_label();
            if !unknown_signers.contains(&label) {
                unknown_signers.push(label);
            }
        }
        let quorum_met =
            cosignatures.len() >= self.quorum.min_witnesses && departments.len() >= self.quorum.min_departments;
        Ok(CheckpointVerdict {
            checkpoint,
            log_keys: opened.verified.iter().map(NoteSignature::key_label).collect(),
            cosignatures,
            departments,
            unknown_signers,
            quorum_met,
        })
    }

    /// [`TrustFile::evaluate_checkpoint`], refusing a checkpoint whose quorum is not met.
    pub fn trusted_checkpoint(&self, note_text: &str) -> Result<CheckpointVerdict, PolicyError> {
        let verdict = self.evaluate_checkpoint(note_text)?;
        if !verdict.quorum_met {
            return Err(PolicyError::QuorumNotMet {
                witnesses: verdict.cosignatures.len(),
                departments: verdict.departments.len(),
                min_witnesses: self.quorum.min_witnesses,
                min_departments: self.quorum.min_departments,
            });
        }
        Ok(verdict)
    }
}

impl fmt::Display for TrustFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::str::FromStr for TrustFile {
    type Err = TrustFileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TrustFile::parse(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::Cosigner;
    use crate::note::{add_signature_lines, Signer};
    use proptest::prelude::*;

    const ORIGIN: &str = "ledger.chancheng.example/log";

    struct Keys {
        log: Signer,
        issuer: Signer,
        witnesses: Vec<(&'static str, Cosigner)>,
    }

    fn keys() -> Keys {
        Keys {
            log: Signer::from_seed(ORIGIN, &[1; 32]).unwrap(),
            issuer: Signer::from_seed("issuer.chancheng.example", &[2; 32]).unwrap(),
            witnesses: vec![
                ("sifaju", Cosigner::from_seed("witness.sifaju.example/w1", &[3; 32]).unwrap()),
                ("sifaju", Cosigner::from_seed("witness.sifaju.example/w2", &[4; 32]).unwrap()),
                ("shujuju", Cosigner::from_seed("witness.shujuju.example/w1", &[5; 32]).unwrap()),
            ],
        }
    }

    fn trust_text(k: &Keys, quorum: &str) -> String {
        let mut t =
            format!("# 禅城区 trust file\n\norigin {ORIGIN}\nlog {}\nissuer {}\n", k.log.vkey(), k.issuer.vkey());
        for (d, w) in &k.witnesses {
            t.push_str(&format!("  # {d}\nwitness {d} {}\n", w.vkey()));
        }
        t.push_str(&format!("quorum {quorum}\n"));
        t
    }

    fn checkpoint(k: &Keys, cosigners: &[usize]) -> String {
        let cp = Checkpoint::new(ORIGIN, 5, [7; 32]).unwrap();
        let mut note = cp.sign(&k.log).unwrap();
        for &i in cosigners {
            let line = k.witnesses[i].1.cosign(&cp.to_text(), 1_700_000_000 + i as u64).unwrap();
            note = add_signature_lines(&note, &line).unwrap();
        }
        note
    }

    #[test]
    fn parses_renders_and_round_trips() {
        let k = keys();
        let file = TrustFile::parse(trust_text(&k, "2 2").as_bytes()).unwrap();
        assert_eq!(file.origin, ORIGIN);
        assert_eq!(file.logs.len(), 1);
        assert_eq!(file.issuers.len(), 1);
        assert_eq!(file.witnesses.len(), 3);
        assert_eq!(file.departments(), vec!["shujuju".to_owned(), "sifaju".to_owned()]);
        assert_eq!(file.quorum, Quorum { min_witnesses: 2, min_departments: 2 });
        let rendered = file.render();
        assert_eq!(TrustFile::parse(rendered.as_bytes()).unwrap(), file);
        assert!(!rendered.contains('#'));
    }

    #[test]
    fn origin_keeps_spaces() {
        let k = keys();
        let text = trust_text(&k, "0 0").replace(&format!("origin {ORIGIN}"), "origin go.sum database tree");
        assert_eq!(TrustFile::parse(text.as_bytes()).unwrap().origin, "go.sum database tree");
    }

    #[test]
    fn refusals_name_the_line_and_problem() {
        let k = keys();
        let good = trust_text(&k, "2 2");
        let log_line = format!("log {}", k.log.vkey());
        let w0 = format!("witness sifaju {}", k.witnesses[0].1.vkey());
        let cases: Vec<(String, &str)> = vec![
            (good.replace('\n', "\r\n"), "trust_file_control_character"),
            (good.replace(&log_line, &format!("log  {}", k.log.vkey())), "trust_file_whitespace"),
            (good.replace(&log_line, &format!("{log_line} ")), "trust_file_whitespace"),
            (good.replace(&log_line, &format!(" {log_line}")), "trust_file_whitespace"),
            (good.replace(&log_line, &format!("log\t{}", k.log.vkey())), "trust_file_control_character"),
            (good.replace(&log_line, &format!("logs {}", k.log.vkey())), "trust_file_unknown_item"),
            (good.replace(&log_line, &format!("{log_line} extra")), "trust_file_wrong_field_count"),
            (good.replace(&log_line, "log"), "trust_file_wrong_field_count"),
            (format!("{good}origin other\n"), "trust_file_duplicate_origin"),
            (format!("{good}quorum 1 1\n"), "trust_file_duplicate_quorum"),
            (good.replace(&log_line, &log_line.replace('+', "-")), "trust_file_bad_log_key"),
            (good.replace(&log_line, &format!("log {}", k.witnesses[0].1.vkey())), "trust_file_bad_log_key"),
            (good.replace("issuer ", "issuer x"), "trust_file_bad_issuer_key"),
            (good.replace(&w0, &format!("witness sifaju {}", k.log.vkey())), "trust_file_bad_witness_key"),
            (good.replace(&w0, &format!("witness 司法局 {}", k.witnesses[0].1.vkey())), "trust_file_bad_department"),
            (good.replace(&w0, &format!("witness SFJ {}", k.witnesses[0].1.vkey())), "trust_file_bad_department"),
            (good.replace(&w0, &format!("witness {}", k.witnesses[0].1.vkey())), "trust_file_wrong_field_count"),
            (format!("{good}witness other {}\n", k.witnesses[0].1.vkey()), "trust_file_duplicate_key"),
            (format!("{good}log {}\n", k.log.vkey()), "trust_file_duplicate_key"),
            (format!("{good}issuer {}\n", k.log.vkey()), "trust_file_duplicate_key"),
            (good.replace("quorum 2 2", "quorum 02 2"), "trust_file_bad_quorum"),
            (good.replace("quorum 2 2", "quorum -1 2"), "trust_file_bad_quorum"),
            (good.replace("quorum 2 2", "quorum 2"), "trust_file_wrong_field_count"),
            (good.replace(&format!("origin {ORIGIN}\n"), ""), "trust_file_missing_origin"),
            (good.replace(&format!("{log_line}\n"), ""), "trust_file_missing_log_key"),
            (good.replace(&format!("issuer {}\n", k.issuer.vkey()), ""), "trust_file_missing_issuer_key"),
            (good.replace("quorum 2 2\n", ""), "trust_file_missing_quorum"),
            (good.replace("quorum 2 2", "quorum 4 1"), "trust_file_quorum_unreachable"),
            (good.replace("quorum 2 2", "quorum 1 3"), "trust_file_quorum_unreachable"),
            ("origin x\n\u{feff}log y\n".to_owned(), "trust_file_unknown_item"),
        ];
        for (text, code) in cases {
            let err = TrustFile::parse(text.as_bytes()).unwrap_err();
            assert_eq!(err.code(), code, "{err} for\n{text}");
        }
        assert_eq!(TrustFile::parse(&[0xff, 0xfe]).unwrap_err().code(), "trust_file_not_utf8");
        assert_eq!(TrustFile::parse(&vec![b'#'; MAX_TRUST_FILE_SIZE + 1]).unwrap_err().code(), "trust_file_too_large");
        // Line numbers point at the offending line (1-based, comments counted).
        let err = TrustFile::parse(good.replace(&log_line, "log x").as_bytes()).unwrap_err();
        assert!(matches!(err, TrustFileError::BadLogKey { line: 4, .. }), "{err:?}");
    }

    #[test]
    fn quorum_counts_witnesses_and_departments() {
        let k = keys();
        let file = TrustFile::parse(trust_text(&k, "2 2").as_bytes()).unwrap();
        // Two witnesses of one department: enough witnesses, too few departments.
        let v = file.evaluate_checkpoint(&checkpoint(&k, &[0, 1])).unwrap();
        assert_eq!(v.cosignatures.len(), 2);
        assert_eq!(v.departments, vec!["sifaju".to_owned()]);
        assert!(!v.quorum_met);
        let err = file.trusted_checkpoint(&checkpoint(&k, &[0, 1])).unwrap_err();
        assert_eq!(err.code(), "witness_quorum_not_met");
        // One from each department.
        let v = file.trusted_checkpoint(&checkpoint(&k, &[0, 2])).unwrap();
        assert_eq!(v.departments, vec!["shujuju".to_owned(), "sifaju".to_owned()]);
        assert_eq!(v.cosignatures[0].timestamp, 1_700_000_000);
        assert_eq!(v.log_keys, vec![key_label(k.log.name(), k.log.key_id())]);
        assert!(v.unknown_signers.is_empty());
        // All three.
        assert_eq!(file.trusted_checkpoint(&checkpoint(&k, &[0, 1, 2])).unwrap().cosignatures.len(), 3);
        // None.
        assert!(!file.evaluate_checkpoint(&checkpoint(&k, &[])).unwrap().quorum_met);
        // Quorum 0 0 trusts the log signature alone.
        let open = TrustFile::parse(trust_text(&k, "0 0").as_bytes()).unwrap();
        assert!(open.trusted_checkpoint(&checkpoint(&k, &[])).unwrap().quorum_met);
    }

    #[test]
    fn unknown_cosigners_are_ignored_and_reported() {
        let k = keys();
        let file = TrustFile::parse(trust_text(&k, "1 1").as_bytes()).unwrap();
        let stranger = Cosigner::from_seed("witness.elsewhere.example", &[9; 32]).unwrap();
        let cp = Checkpoint::new(ORIGIN, 5, [7; 32]).unwrap();
        let note = add_signature_lines(&checkpoint(&k, &[]), &stranger.cosign(&cp.to_text(), 1).unwrap()).unwrap();
        let v = file.evaluate_checkpoint(&note).unwrap();
        assert!(!v.quorum_met);
        assert_eq!(v.unknown_signers, vec![key_label(stranger.name(), stranger.key_id())]);
        assert_eq!(file.trusted_checkpoint(&note).unwrap_err().code(), "witness_quorum_not_met");
        // Alongside a listed witness, the stranger changes nothing.
        let note = add_signature_lines(&checkpoint(&k, &[2]), &stranger.cosign(&cp.to_text(), 1).unwrap()).unwrap();
        assert!(file.trusted_checkpoint(&note).is_ok());
    }

    #[test]
    fn a_forged_cosignature_by_a_listed_witness_is_an_error() {
        let k = keys();
        let file = TrustFile::parse(trust_text(&k, "1 1").as_bytes()).unwrap();
        // A cosignature by witness 0 over a different checkpoint, attached to this one.
        let other = Checkpoint::new(ORIGIN, 6, [8; 32]).unwrap();
        let forged = k.witnesses[0].1.cosign(&other.to_text(), 1).unwrap();
        let note = add_signature_lines(&checkpoint(&k, &[2]), &forged).unwrap();
        assert_eq!(file.evaluate_checkpoint(&note).unwrap_err().code(), "cosignature_invalid");
    }

    #[test]
    fn checkpoint_refusals() {
        let k = keys();
        let file = TrustFile::parse(trust_text(&k, "0 0").as_bytes()).unwrap();
        let good = checkpoint(&k, &[0]);
        // Body edited: the log signature no longer verifies.
        assert_eq!(
            file.evaluate_checkpoint(&good.replacen("\n5\n", "\n6\n", 1)).unwrap_err().code(),
            "checkpoint_signature_invalid"
        );
        // Log signature line removed: only a cosignature left.
        let lines: Vec<&str> = good.split_inclusive('\n').collect();
        let without_log: String =
            lines.iter().filter(|l| !l.starts_with(&format!("\u{2014} {ORIGIN} "))).copied().collect();
        assert_eq!(file.evaluate_checkpoint(&without_log).unwrap_err().code(), "checkpoint_not_signed_by_log");
        // No signature block at all.
        assert_eq!(file.evaluate_checkpoint("x\n").unwrap_err().code(), "checkpoint_note_malformed");
        // Signed by the log key but for another origin.
        let other = Checkpoint::new("elsewhere.example/log", 1, [0; 32]).unwrap().sign(&k.log).unwrap();
        assert_eq!(file.evaluate_checkpoint(&other).unwrap_err().code(), "checkpoint_wrong_origin");
        // Signed by the log key, but not a checkpoint.
        let text = k.log.sign("hello\n").unwrap();
        assert_eq!(file.evaluate_checkpoint(&text).unwrap_err().code(), "checkpoint_malformed");
        // Signed by the issuer key only.
        let cp = Checkpoint::new(ORIGIN, 5, [7; 32]).unwrap().sign(&k.issuer).unwrap();
        assert_eq!(file.evaluate_checkpoint(&cp).unwrap_err().code(), "checkpoint_not_signed_by_log");
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = TrustFile::parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_near_valid_text(cut in 0usize..2000, insert in "[ \\t#a-z0-9+]{0,3}") {
            let k = keys();
            let mut text = trust_text(&k, "2 2");
            let at = cut % text.len();
            if text.is_char_boundary(at) {
                text.insert_str(at, &insert);
                if let Ok(file) = TrustFile::parse(text.as_bytes()) {
                    prop_assert_eq!(TrustFile::parse(file.render().as_bytes()).unwrap(), file);
                }
            }
        }
    }
}
