//! Certificate bundles: a record (出生医学证明, 学历学位, 无犯罪记录证明, a community-correction
//! record…) that anyone can check offline with only the published trust file.
//!
//! ```json
//! {
//!   "format": "civgrid-bundle/v1",
//!   "kind": "certificate",
//!   "ref": "440604-GZ-2026-000123",
//!   "content": {"holder": "…", "issued": "2026-11-22"},
//!   "signature": "civgrid certificate v1\ncertificate 440604-GZ-2026-000123 <sha256 hex>\n\n— issuer… …\n",
//!   "leaf_index": 41,
//!   "inclusion_proof": ["<base64 hash>", "…"],
//!   "checkpoint": "<origin>\n<size>\n<root>\n\n— <log> …\n— <witness> …\n"
//! }
//! ```
//!
//! - `signature` is a signed note by the issuing department whose text is exactly
//!   `civgrid certificate v1\n<kind> <ref> <sha256 hex of the canonical content>\n`
//!   ([`certificate_statement`]);
//! - the log leaf at `leaf_index` is [`Entry::for_content`]`(kind, ref, content)`;
//! - `inclusion_proof` proves that leaf is in the tree `checkpoint` describes;
//! - `checkpoint` is signed by the log and cosigned by witnesses.
//!
//! [`verify_bundle`] checks all of it, in that order, and names the first failure
//! ([`BundleError::code`], with Chinese and English wording).
//!
//! **What is signed, and so what may change.** The issuer signs the SHA-256 of the content's
//! *canonical* JSON, the log commits to the entry, the checkpoint notes are signed byte for byte.
//! The bundle's own JSON text is not signed: it is read strictly (size limit, no duplicate keys,
//! no unknown fields, exact types) and then only its parsed value matters. So two bundle files
//! that parse to the same value — differing in whitespace, member order or string escapes such as
//! `"\u0041"` for `"A"` — are the same bundle and both verify. Any change to the parsed value
//! (a content field, the reference, the index, a proof hash, a byte of either note) is refused.
//! Signature lines by keys the trust file does not list are ignored, as the signed-note spec
//! requires, and reported in [`VerifiedBundle::checkpoint`]'s `unknown_signers`.
//!
//! Offline verification shows that the issuer signed this content and that the log committed to
//! it before a checkpoint the witnesses vouch for. Whether the certificate has since been revoked
//! (a later log entry) needs a fresh checkpoint and is checked online.

use std::fmt;

use serde_json::Value;

use crate::b64;
use crate::checkpoint::Checkpoint;
use crate::entry::{canonical_json, content_hash, Entry, EntryError};
use crate::hash::Hash;
use crate::note::{self, NoteError, NoteSignature, Signer};
use crate::policy::{CheckpointVerdict, PolicyError, TrustFile};
use crate::verify::{verify_inclusion, ProofError};

mod strict;
use strict::strict_json;

/// The `format` value of this bundle version.
pub const BUNDLE_FORMAT: &str = "civgrid-bundle/v1";

/// Largest bundle accepted, in bytes (1 MiB).
pub const MAX_BUNDLE_SIZE: usize = 1024 * 1024;

/// First line of the issuer's signed statement.
pub const CERTIFICATE_STATEMENT_HEADER: &str = "civgrid certificate v1";

/// Most inclusion-proof hashes a bundle may carry (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF_HASHES: usize = 64;

/// The bundle's members, in the order they are written.
const FIELDS: [&str; 8] =
    ["format", "kind", "ref", "content", "signature", "leaf_index", "inclusion_proof", "checkpoint"];

/// Why a bundle was refused (or could not be built). Variants are in verification order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The file is larger than [`MAX_BUNDLE_SIZE`].
    #[error("bundle is larger than {MAX_BUNDLE_SIZE} bytes")]
    TooLarge,
    /// The bytes are not a complete JSON document (truncated, invalid UTF-8, trailing data…).
    #[error("bundle is not valid JSON: {0}")]
    MalformedJson(String),
    /// An object repeats a member name, which different readers resolve differently.
    #[error("bundle JSON repeats a member name: {0}")]
    DuplicateKey(String),
    /// The document is not a JSON object.
    #[error("bundle is not a JSON object")]
    NotAnObject,
    /// A member this format does not define.
    #[error("bundle has an unknown member {0:?}")]
    UnknownField(String),
    /// A required member is absent.
    #[error("bundle lacks the member {0:?}")]
    MissingField(&'static str),
    /// A member has the wrong JSON type.
    #[error("bundle member {field:?} must be {expected}")]
    WrongType {
        /// The member.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// `format` is not [`BUNDLE_FORMAT`].
    #[error("unsupported bundle format {0:?} (expected {BUNDLE_FORMAT})")]
    UnsupportedFormat(String),
    /// An inclusion-proof member is not base64 of 32 bytes.
    #[error("inclusion proof hash {index} is not base64 of a 32-byte hash")]
    BadProofHash {
        /// 0-based position in the proof.
        index: usize,
    },
    /// More than [`MAX_PROOF_HASHES`] proof hashes.
    #[error("inclusion proof has more than {MAX_PROOF_HASHES} hashes")]
    ProofTooLong,
    /// `kind` or `ref` is not valid for a log entry.
    #[error("invalid entry: {0}")]
    InvalidEntry(EntryError),
    /// The content cannot be put in canonical form (fractional or huge numbers).
    #[error("content cannot be canonicalised: {0}")]
    ContentNotCanonical(EntryError),
    /// `signature` is not a well-formed signed note.
    #[error("issuer signature is not a well-formed signed note: {0}")]
    IssuerNoteMalformed(NoteError),
    /// No signature by an issuer key the trust file lists.
    #[error("not signed by a trusted issuer: {0}")]
    IssuerUnknown(NoteError),
    /// A signature claiming a trusted issuer key does not verify.
    #[error("issuer signature does not verify: {0}")]
    IssuerSignatureInvalid(NoteError),
    /// The issuer's signed text is not a certificate statement.
    #[error("issuer's signed text is not a civgrid certificate statement")]
    IssuerStatementMalformed,
    /// The issuer signed a statement about another kind or reference.
    #[error("issuer signed {signed:?}, the bundle is for {bundle:?}")]
    IssuerStatementMismatch {
        /// `<kind> <ref>` the issuer signed.
        signed: String,
        /// `<kind> <ref>` of the bundle.
        bundle: String,
    },
    /// The content's hash is not the one the issuer signed: the content was changed.
    #[error("content hash {actual} differs from the issuer-signed hash {signed}")]
    ContentHashMismatch {
        /// Hex hash the issuer signed.
        signed: String,
        /// Hex hash of the bundle's content.
        actual: String,
    },
    /// The checkpoint is malformed, not signed by the log, for another origin, carries a forged
    /// cosignature, or lacks the witness quorum (see the inner code).
    #[error("{0}")]
    Checkpoint(PolicyError),
    /// `leaf_index` is not below the checkpoint's size.
    #[error("leaf index {index} is not below the checkpoint's tree size {size}")]
    LeafIndexOutOfRange {
        /// The bundle's leaf index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The inclusion proof does not lead from the entry to the checkpoint's root.
    #[error("inclusion proof does not verify: {0}")]
    InclusionProofInvalid(ProofError),
    /// Building a bundle: the issuer key could not sign.
    #[error("cannot sign: {0}")]
    Sign(NoteError),
}

impl BundleError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::TooLarge => "bundle_too_large",
            BundleError::MalformedJson(_) => "bundle_malformed_json",
            BundleError::DuplicateKey(_) => "bundle_duplicate_key",
            BundleError::NotAnObject => "bundle_not_an_object",
            BundleError::UnknownField(_) => "bundle_unknown_field",
            BundleError::MissingField(_) => "bundle_missing_field",
            BundleError::WrongType { .. } => "bundle_wrong_type",
            BundleError::UnsupportedFormat(_) => "bundle_unsupported_format",
            BundleError::BadProofHash { .. } => "bundle_bad_proof_hash",
            BundleError::ProofTooLong => "bundle_proof_too_long",
            BundleError::InvalidEntry(e) => e.code(),
            BundleError::ContentNotCanonical(_) => "content_not_canonical",
            BundleError::IssuerNoteMalformed(_) => "issuer_note_malformed",
            BundleError::IssuerUnknown(_) => "issuer_unknown",
            BundleError::IssuerSignatureInvalid(_) => "issuer_signature_invalid",
            BundleError::IssuerStatementMalformed => "issuer_statement_malformed",
            BundleError::IssuerStatementMismatch { .. } => "issuer_statement_mismatch",
            BundleError::ContentHashMismatch { .. } => "content_hash_mismatch",
            BundleError::Checkpoint(e) => e.code(),
            BundleError::LeafIndexOutOfRange { .. } => "leaf_index_out_of_range",
            BundleError::InclusionProofInvalid(_) => "inclusion_proof_invalid",
            BundleError::Sign(_) => "sign_failed",
        }
    }

    /// The reason in Chinese, for the command line and the verification page.
    pub fn zh(&self) -> &'static str {
        match self {
            BundleError::TooLarge => "凭证文件过大（超过 1 MiB）",
            BundleError::MalformedJson(_) => "凭证文件不是完整有效的 JSON（可能被截断或损坏）",
            BundleError::DuplicateKey(_) => "凭证 JSON 中有重复的字段名",
            BundleError::NotAnObject => "凭证文件不是 JSON 对象",
            BundleError::UnknownField(_) => "凭证含有未定义的字段",
            BundleError::MissingField(_) => "凭证缺少必需的字段",
            BundleError::WrongType { .. } => "凭证字段类型错误",
            BundleError::UnsupportedFormat(_) => "不支持的凭证格式版本",
            BundleError::BadProofHash { .. } => "包含证明中的哈希值格式错误",
            BundleError::ProofTooLong => "包含证明过长",
            BundleError::InvalidEntry(_) => "证书类别或编号格式无效",
            BundleError::ContentNotCanonical(_) => "证书内容无法规范化（含小数或超大数字）",
            BundleError::IssuerNoteMalformed(_) => "签发机构签名格式错误或缺失",
            BundleError::IssuerUnknown(_) => "签发机构不在信任文件中（未知的签名密钥）",
            BundleError::IssuerSignatureInvalid(_) => "签发机构签名验证失败（签名内容被篡改）",
            BundleError::IssuerStatementMalformed => "签发机构签名的内容不是证书声明",
            BundleError::IssuerStatementMismatch { .. } => "签发机构签署的证书类别或编号与本凭证不符",
            BundleError::ContentHashMismatch { .. } => "证书内容与签发机构签署的内容不符（内容被篡改）",
            BundleError::Checkpoint(e) => match e {
                PolicyError::MalformedNote(_) => "检查点格式错误",
                PolicyError::NotSignedByLog(_) => "检查点没有可信日志密钥的签名",
                PolicyError::BadLogSignature(_) => "检查点的日志签名验证失败（检查点被篡改）",
                PolicyError::MalformedCheckpoint(_) => "检查点内容格式错误",
                PolicyError::WrongOrigin { .. } => "检查点属于另一个日志",
                PolicyError::BadCosignature(_) => "见证方的联署签名验证失败（检查点被篡改）",
                PolicyError::QuorumNotMet { .. } => "见证方联署数量或部门数不足，未达到信任策略要求",
            },
            BundleError::LeafIndexOutOfRange { .. } => "日志条目序号超出检查点的树大小",
            BundleError::InclusionProofInvalid(_) => "包含证明验证失败：该证书不在此检查点记录的日志中",
            BundleError::Sign(_) => "无法签名",
        }
    }
}

/// The statement an issuer signs for an entry: `civgrid certificate v1\n<kind> <ref> <hex>\n`.
pub fn certificate_statement(entry: &Entry) -> String {
    // Entry's text is `civgrid/v1 <kind> <ref> <hex>\n`; the statement reuses its last three
    // fields so the two can never disagree on how the hash is written.
    let line = entry.to_string();
    let fields = line.split_once(' ').map_or(line.as_str(), |(_, rest)| rest);
    format!("{CERTIFICATE_STATEMENT_HEADER}\n{fields}")
}

/// Signs a certificate: the issuer's note over [`certificate_statement`] of the content's entry.
pub fn sign_certificate(issuer: &Signer, kind: &str, reference: &str, content: &Value) -> Result<String, BundleError> {
    let entry = entry_for(kind, reference, content)?;
    issuer.sign(&certificate_statement(&entry)).map_err(BundleError::Sign)
}

fn entry_for(kind: &str, reference: &str, content: &Value) -> Result<Entry, BundleError> {
    let hash = content_hash(content).map_err(BundleError::ContentNotCanonical)?;
    Entry::new(kind, reference, hash).map_err(BundleError::InvalidEntry)
}

fn hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A certificate bundle (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Entry kind, e.g. `certificate`.
    pub kind: String,
    /// The certificate's reference.
    pub reference: String,
    /// The certificate content (a JSON object).
    pub content: Value,
    /// The issuer's signed note over [`certificate_statement`].
    pub signature: String,
    /// The entry's 0-based index in the log.
    pub leaf_index: u64,
    /// Inclusion proof of the entry in the checkpoint's tree.
    pub inclusion_proof: Vec<Hash>,
    /// The log-signed, witness-cosigned checkpoint note.
    pub checkpoint: String,
}

/// A bundle that verified, and what it proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    /// The log entry (kind, reference, content hash).
    pub entry: Entry,
    /// The certificate content.
    pub content: Value,
    /// The trusted issuer keys that signed (`name+hexid`).
    pub issuer_keys: Vec<String>,
    /// The entry's index in the log.
    pub leaf_index: u64,
    /// The checkpoint and its witnesses.
    pub checkpoint: CheckpointVerdict,
}

impl Bundle {
    /// Assembles a bundle from the parts the platform holds, checking that they fit together:
    /// valid kind and reference, canonicalisable object content, an issuer note whose statement
    /// is this content's, a well-formed checkpoint, and an inclusion proof that leads from the
    /// entry to its root. Keys are not checked here (the server may not hold the trust file);
    /// [`Bundle::verify`] does that.
    pub fn build(
        kind: &str,
        reference: &str,
        content: Value,
        signature: String,
        leaf_index: u64,
        inclusion_proof: Vec<Hash>,
        checkpoint: String,
    ) -> Result<Bundle, BundleError> {
        if !content.is_object() {
            return Err(BundleError::WrongType { field: "content", expected: "an object" });
        }
        if inclusion_proof.len() > MAX_PROOF_HASHES {
            return Err(BundleError::ProofTooLong);
        }
        let bundle = Bundle {
            kind: kind.to_owned(),
            reference: reference.to_owned(),
            content,
            signature,
            leaf_index,
            inclusion_proof,
            checkpoint,
        };
        let entry = bundle.entry()?;
        let statement = note::parse_note(&bundle.signature).map_err(BundleError::IssuerNoteMalformed)?;
        check_statement(&statement.text, &entry)?;
        let cp =
            note::parse_note(&bundle.checkpoint).map_err(|e| BundleError::Checkpoint(PolicyError::MalformedNote(e)))?;
        let cp =
            Checkpoint::parse(&cp.text).map_err(|e| BundleError::Checkpoint(PolicyError::MalformedCheckpoint(e)))?;
        bundle.check_inclusion(&entry, &cp)?;
        Ok(bundle)
    }

    /// The log entry this bundle's kind, reference and content make.
    pub fn entry(&self) -> Result<Entry, BundleError> {
        entry_for(&self.kind, &self.reference, &self.content)
    }

    /// Reads a bundle file strictly: size, JSON syntax, no duplicate member names, exactly the
    /// defined members with their types, the supported format. Nothing is verified yet.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() > MAX_BUNDLE_SIZE {
            return Err(BundleError::TooLarge);
        }
        let value = strict_json(bytes)?;
        let Value::Object(mut map) = value else { return Err(BundleError::NotAnObject) };
        // The format first: a later version may define other members.
        match map.get("format") {
            None => return Err(BundleError::MissingField("format")),
            Some(Value::String(f)) if f == BUNDLE_FORMAT => {}
            Some(Value::String(f)) => return Err(BundleError::UnsupportedFormat(f.clone())),
            Some(_) => return Err(BundleError::WrongType { field: "format", expected: "a string" }),
        }
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(BundleError::UnknownField(unknown.clone()));
        }
        if let Some(missing) = FIELDS.iter().find(|f| !map.contains_key(**f)) {
            return Err(BundleError::MissingField(missing));
        }
        let mut take = |field: &'static str| map.remove(field).ok_or(BundleError::MissingField(field));
        let string = |field: &'static str, v: Value| match v {
            Value::String(s) => Ok(s),
            _ => Err(BundleError::WrongType { field, expected: "a string" }),
        };
        take("format")?;
        let kind = string("kind", take("kind")?)?;
        let reference = string("ref", take("ref")?)?;
        let content = take("content")?;
        if !content.is_object() {
            return Err(BundleError::WrongType { field: "content", expected: "an object" });
        }
        let signature = string("signature", take("signature")?)?;
        let leaf_index = match take("leaf_index")? {
            Value::Number(n) if n.is_u64() => {
                n.as_u64().ok_or(BundleError::WrongType { field: "leaf_index", expected: "a non-negative integer" })?
            }
            _ => return Err(BundleError::WrongType { field: "leaf_index", expected: "a non-negative integer" }),
        };
        let Value::Array(items) = take("inclusion_proof")? else {
            return Err(BundleError::WrongType { field: "inclusion_proof", expected: "an array of base64 strings" });
        };
        let checkpoint = string("checkpoint", take("checkpoint")?)?;
        if items.len() > MAX_PROOF_HASHES {
            return Err(BundleError::ProofTooLong);
        }
        let mut inclusion_proof = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let Value::String(s) = item else {
                return Err(BundleError::WrongType {
                    field: "inclusion_proof",
                    expected: "an array of base64 strings",
                });
            };
            inclusion_proof.push(b64::decode_32(&s).ok_or(BundleError::BadProofHash { index })?);
        }
        Ok(Bundle { kind, reference, content, signature, leaf_index, inclusion_proof, checkpoint })
    }

    /// Verifies the bundle against a trust file, in order: entry and content, issuer signature
    /// over exactly this content's hash, checkpoint signed by a listed log key for the trust
    /// file's origin, inclusion proof of the entry to the checkpoint's root, witness quorum.
    pub fn verify(&self, trust: &TrustFile) -> Result<VerifiedBundle, BundleError> {
        let entry = self.entry()?;

        let issuer = note::open(&self.signature, &trust.issuers).map_err(|e| match e {
            NoteError::BadSignature { .. } => BundleError::IssuerSignatureInvalid(e),
            NoteError::NoTrustedSignature { .. } => BundleError::IssuerUnknown(e),
            other => BundleError::IssuerNoteMalformed(other),
        })?;
        check_statement(&issuer.text, &entry)?;

        let (checkpoint, _) = trust.open_checkpoint(&self.checkpoint).map_err(BundleError::Checkpoint)?;
        self.check_inclusion(&entry, &checkpoint)?;

        let verdict = trust.trusted_checkpoint(&self.checkpoint).map_err(BundleError::Checkpoint)?;
        Ok(VerifiedBundle {
            entry,
            content: self.content.clone(),
            issuer_keys: issuer.verified.iter().map(NoteSignature::key_label).collect(),
            leaf_index: self.leaf_index,
            checkpoint: verdict,
        })
    }

    fn check_inclusion(&self, entry: &Entry, checkpoint: &Checkpoint) -> Result<(), BundleError> {
        if self.leaf_index >= checkpoint.size {
            return Err(BundleError::LeafIndexOutOfRange { index: self.leaf_index, size: checkpoint.size });
        }
        verify_inclusion(&entry.leaf_hash(), self.leaf_index, checkpoint.size, &self.inclusion_proof, &checkpoint.root)
            .map_err(BundleError::InclusionProofInvalid)
    }

    /// The bundle file: members in the documented order, one per line, content in canonical
    /// form.
    pub fn to_json(&self) -> String {
        let s = |v: &str| Value::String(v.to_owned()).to_string();
        let content = canonical_json(&self.content)
            .ok()
            .and_then(|c| String::from_utf8(c).ok())
            .unwrap_or_else(|| self.content.to_string());
        let proof: Vec<String> = self.inclusion_proof.iter().map(|h| s(&b64::encode(h))).collect();
        let values = [
            s(BUNDLE_FORMAT),
            s(&self.kind),
            s(&self.reference),
            content,
            s(&self.signature),
            self.leaf_index.to_string(),
            format!("[{}]", proof.join(", ")),
            s(&self.checkpoint),
        ];
        let members: Vec<String> = FIELDS.iter().zip(values).map(|(k, v)| format!("  \"{k}\": {v}")).collect();
        format!("{{\n{}\n}}\n", members.join(",\n"))
    }
}

impl fmt::Display for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

/// Reads and verifies a bundle file against a trust file ([`Bundle::parse`] then
/// [`Bundle::verify`]).
pub fn verify_bundle(bytes: &[u8], trust: &TrustFile) -> Result<VerifiedBundle, BundleError> {
    Bundle::parse(bytes)?.verify(trust)
}

/// Checks that `text` is exactly the certificate statement for `entry`.
fn check_statement(text: &str, entry: &Entry) -> Result<(), BundleError> {
    let body = text
        .strip_prefix(CERTIFICATE_STATEMENT_HEADER)
        .and_then(|r| r.strip_prefix('\n'))
        .and_then(|r| r.strip_suffix('\n'))
        .ok_or(BundleError::IssuerStatementMalformed)?;
    let mut parts = body.split(' ');
    let (Some(kind), Some(reference), Some(hash), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BundleError::IssuerStatementMalformed);
    };
    // Parse the signed statement as an entry so its hash must be 64 lowercase hex digits.
    let signed = Entry::parse(format!("civgrid/v1 {kind} {reference} {hash}\n").as_bytes())
        .map_err(|_| BundleError::IssuerStatementMalformed)?;
    if signed.kind() != entry.kind() || signed.reference() != entry.reference() {
        return Err(BundleError::IssuerStatementMismatch {
            signed: format!("{} {}", signed.kind(), signed.reference()),
            bundle: format!("{} {}", entry.kind(), entry.reference()),
        });
    }
    if signed.content_sha256() != entry.content_sha256() {
        return Err(BundleError::ContentHashMismatch {
            signed: hex(signed.content_sha256()),
            actual: hex(entry.content_sha256()),
        });
    }
    if certificate_statement(entry) != text {
        return Err(BundleError::IssuerStatementMalformed);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
