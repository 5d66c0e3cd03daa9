//! C2SP signed-note (c2sp.org/signed-note) with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then signature lines
//! `— <key name> base64(key id ‖ signature)`. Checkpoints, witness cosignatures and our
//! certificate bundles are all notes, so this parser is the front door for every signed artefact
//! the platform accepts: it refuses anything that is not exactly in the format, and it only ever
//! returns text whose signature by a trusted key was verified.
//!
//! Key strings use the Go `sumdb/note` forms that the transparency-log ecosystem shares:
//! verifier key `<name>+<hex key id>+base64(0x01 ‖ public key)` and signer key
//! `PRIVATE+KEY+<name>+<hex key id>+base64(0x01 ‖ seed)`.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::b64;

/// Signature type byte of Ed25519 note signatures.
pub const SIG_TYPE_ED25519: u8 = 0x01;

/// Largest note accepted, in bytes. The spec asks verifiers to bound the size; this leaves room
/// for far more than the 16 signatures verifiers must accept, even post-quantum ones (~5 kB).
pub const MAX_NOTE_SIZE: usize = 256 * 1024;

/// Most signature lines accepted in one note (the spec's floor is 16).
pub const MAX_SIGNATURES: usize = 100;

const SIGNATURE_PREFIX: &str = "\u{2014} ";
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a note, key or signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The bytes are not UTF-8.
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// A control character other than newline is present.
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    /// The note is larger than [`MAX_NOTE_SIZE`].
    #[error("note is larger than {MAX_NOTE_SIZE} bytes")]
    TooLarge,
    /// There is no blank line followed by newline-terminated signature lines.
    #[error("note has no signature block")]
    NoSignatureBlock,
    /// A signature line is not `— <name> <base64>` with a valid name and at least 5 bytes.
    #[error("signature line {line} is malformed")]
    MalformedSignatureLine {
        /// 1-based line number within the signature block.
        line: usize,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A signature by a trusted key failed to verify: the note was altered or forged.
    #[error("signature by trusted key {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// No signature by a trusted key. `unknown` lists the signers present (`name+keyid`).
    #[error("note has no signature by a trusted key (signed by: {})", unknown.join(", "))]
    NoTrustedSignature {
        /// The untrusted signers found, as `name+hexid`.
        unknown: Vec<String>,
    },
    /// Text to sign does not end in a newline, or contains a control character.
    #[error("note text must be non-empty, end with a newline and contain no control characters")]
    InvalidText,
    /// A key name is empty or contains whitespace, `+` or a control character.
    #[error("key name must be non-empty without spaces, '+' or control characters")]
    InvalidKeyName,
    /// A key string is not in the vkey / private key form.
    #[error("malformed key string")]
    MalformedKey,
    /// The key's signature type byte is not the one expected.
    #[error("unsupported key type 0x{0:02x}")]
    UnsupportedKeyType(u8),
    /// The key id in a key string does not match the key.
    #[error("key id does not match the key")]
    KeyIdMismatch,
    /// The public key is a small-order point, which could make forged signatures verify.
    #[error("weak public key")]
    WeakKey,
    /// Two trusted verifiers share a name and key id, so a signature could not be attributed.
    #[error("two trusted keys share name and key id {name}+{key_id:08x}")]
    AmbiguousVerifier {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
}

impl NoteError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::NotUtf8 => "not_utf8",
            NoteError::ControlCharacter => "control_character",
            NoteError::TooLarge => "note_too_large",
            NoteError::NoSignatureBlock => "no_signature_block",
            NoteError::MalformedSignatureLine { .. } => "malformed_signature_line",
            NoteError::TooManySignatures => "too_many_signatures",
            NoteError::BadSignature { .. } => "bad_signature",
            NoteError::NoTrustedSignature { .. } => "no_trusted_signature",
            NoteError::InvalidText => "invalid_text",
            NoteError::InvalidKeyName => "invalid_key_name",
            NoteError::MalformedKey => "malformed_key",
            NoteError::UnsupportedKeyType(_) => "unsupported_key_type",
            NoteError::KeyIdMismatch => "key_id_mismatch",
            NoteError::WeakKey => "weak_key",
            NoteError::AmbiguousVerifier { .. } => "ambiguous_verifier",
        }
    }
}

/// `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]` as a big-endian integer: the key id that,
/// together with the name, identifies a key in signature lines.
pub fn key_id(name: &str, sig_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', sig_type]);
    h.update(public_key);
    let digest = h.finalize();
    let mut first = [0u8; 4];
    first.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
    u32::from_be_bytes(first)
}

/// Whether `name` may be a key name: non-empty, no Unicode whitespace, no `+` (the key-string
/// separator) and no control characters (which notes may not contain).
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// Checks the note-wide rules: size bound and no control characters except newline.
fn check_characters(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge);
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

/// Checks text about to be signed: it must be a valid note text on its own.
pub(crate) fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::InvalidText);
    }
    check_characters(text).map_err(|e| if e == NoteError::TooLarge { e } else { NoteError::InvalidText })
}

/// Formats a key string `<name>+<hex id>+base64(type ‖ key)`.
pub(crate) fn format_key(name: &str, id: u32, sig_type: u8, key: &[u8]) -> String {
    let mut material = Vec::with_capacity(key.len() + 1);
    material.push(sig_type);
    material.extend_from_slice(key);
    format!("{name}+{id:08x}+{}", b64::encode(&material))
}

/// Parses `<name>+<8 hex digits>+base64(type ‖ 32-byte key)` for the given type.
fn parse_key_fields(s: &str, sig_type: u8) -> Result<(String, u32, [u8; 32]), NoteError> {
    let (name, rest) = s.split_once('+').ok_or(NoteError::MalformedKey)?;
    let (hex, material) = rest.split_once('+').ok_or(NoteError::MalformedKey)?;
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName);
    }
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey);
    }
    let id = u32::from_str_radix(hex, 16).map_err(|_| NoteError::MalformedKey)?;
    let bytes = b64::decode(material).ok_or(NoteError::MalformedKey)?;
    let (&ty, key) = bytes.split_first().ok_or(NoteError::MalformedKey)?;
    if ty != sig_type {
        return Err(NoteError::UnsupportedKeyType(ty));
    }
    let key = <[u8; 32]>::try_from(key).map_err(|_| NoteError::MalformedKey)?;
    Ok((name.to_string(), id, key))
}

/// Parses a verifier key of `sig_type` and checks its key id and that the point is strong.
pub(crate) fn parse_verifying_key(s: &str, sig_type: u8) -> Result<(String, u32, VerifyingKey), NoteError> {
    let (name, id, key) = parse_key_fields(s, sig_type)?;
    if key_id(&name, sig_type, &key) != id {
        return Err(NoteError::KeyIdMismatch);
    }
    Ok((name, id, checked_verifying_key(&key)?))
}

/// Decodes a public key, refusing invalid encodings and small-order points.
pub(crate) fn checked_verifying_key(key: &[u8; 32]) -> Result<VerifyingKey, NoteError> {
    let key = VerifyingKey::from_bytes(key).map_err(|_| NoteError::MalformedKey)?;
    if key.is_weak() {
        return Err(NoteError::WeakKey);
    }
    Ok(key)
}

/// Parses `PRIVATE+KEY+<name>+<hex id>+base64(type ‖ seed)` and checks the key id against the
/// derived public key (so a mistyped or swapped key is caught before anything is signed).
pub(crate) fn parse_signing_key(s: &str, sig_type: u8) -> Result<(String, u32, SigningKey), NoteError> {
    let rest = s.strip_prefix(PRIVATE_KEY_PREFIX).ok_or(NoteError::MalformedKey)?;
    let (name, id, seed) = parse_key_fields(rest, sig_type)?;
    let key = SigningKey::from_bytes(&seed);
    if key_id(&name, sig_type, key.verifying_key().as_bytes()) != id {
        return Err(NoteError::KeyIdMismatch);
    }
    Ok((name, id, key))
}

/// Formats the private key string for `key`.
pub(crate) fn format_signing_key(name: &str, id: u32, sig_type: u8, key: &SigningKey) -> String {
    format!("{PRIVATE_KEY_PREFIX}{}", format_key(name, id, sig_type, key.as_bytes()))
}

/// Formats one signature line, newline included.
pub(crate) fn signature_line(name: &str, id: u32, signature: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(4 + signature.len());
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(signature);
    format!("{SIGNATURE_PREFIX}{name} {}\n", b64::encode(&bytes))
}

/// An Ed25519 note signing key with its name.
///
/// `Debug` shows the name and key id only: the secret never reaches logs.
#[derive(Clone)]
pub struct Signer {
    name: String,
    id: u32,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("name", &self.name).field("key_id", &format_args!("{:08x}", self.id)).finish()
    }
}

impl Signer {
    /// Generates a new key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Signer, NoteError> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Signer::from_signing_key(name, key)
    }

    /// The signer for a 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Signer, NoteError> {
        Signer::from_signing_key(name, SigningKey::from_bytes(seed))
    }

    fn from_signing_key(name: &str, key: SigningKey) -> Result<Signer, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        let id = key_id(name, SIG_TYPE_ED25519, key.verifying_key().as_bytes());
        Ok(Signer { name: name.to_string(), id, key })
    }

    /// Parses a `PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>` string.
    pub fn from_private_key(skey: &str) -> Result<Signer, NoteError> {
        let (name, id, key) = parse_signing_key(skey, SIG_TYPE_ED25519)?;
        Ok(Signer { name, id, key })
    }

    /// The private key string. It is the secret: store it with restrictive permissions and
    /// never log it.
    pub fn private_key(&self) -> String {
        format_signing_key(&self.name, self.id, SIG_TYPE_ED25519, &self.key)
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier { name: self.name.clone(), id: self.id, key: self.key.verifying_key() }
    }

    /// The verifier key string to publish.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// The signature line (`— <name> <base64>\n`) for note `text`.
    pub fn signature_line(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        Ok(signature_line(&self.name, self.id, &signature.to_bytes()))
    }

    /// Signs `text` into a complete note: text, blank line, signature line.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        sign_note(text, &[self])
    }
}

/// Signs `text` with several signers, in order.
pub fn sign_note(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    check_text(text)?;
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 110);
    note.push_str(text);
    note.push('\n');
    for signer in signers {
        note.push_str(&signer.signature_line(text)?);
    }
    Ok(note)
}

/// A trusted Ed25519 note verifier key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses a `<name>+<hex id>+<base64(0x01 ‖ key)>` verifier key, checking the key id and
    /// refusing weak keys.
    pub fn parse(vkey: &str) -> Result<Verifier, NoteError> {
        let (name, id, key) = parse_verifying_key(vkey, SIG_TYPE_ED25519)?;
        Ok(Verifier { name, id, key })
    }

    /// The verifier for a raw 32-byte Ed25519 public key.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Verifier, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName);
        }
        let key = checked_verifying_key(public_key)?;
        Ok(Verifier { name: name.to_string(), id: key_id(name, SIG_TYPE_ED25519, public_key), key })
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        format_key(&self.name, self.id, SIG_TYPE_ED25519, self.key.as_bytes())
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The raw public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `signature` (64 bytes, after the key id) is this key's signature of `message`.
    /// Uses `verify_strict`, which also refuses malleable and small-order signatures.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match Signature::from_slice(signature) {
            Ok(sig) => self.key.verify_strict(message, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

impl FromStr for Verifier {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Verifier::parse(s)
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.vkey())
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key id (first 4 bytes of the decoded signature).
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, newline included, exactly as it would be written.
    pub fn to_line(&self) -> String {
        signature_line(&self.name, self.key_id, &self.signature)
    }

    /// `name+hexid`, the way keys are named in error reports.
    pub fn key_label(&self) -> String {
        format!("{}+{:08x}", self.name, self.key_id)
    }
}

/// A note split into text and signature lines, no signature checked yet. Use it to route a
/// note (for instance to read a checkpoint's origin and pick the log's keys), never to trust it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedNote {
    /// The note text, final newline included.
    pub text: String,
    /// The signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

/// A note whose text is signed by at least one trusted key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The note text, final newline included.
    pub text: String,
    /// Signatures by trusted keys, one per key, in note order.
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys not in the trusted list (ignored as the spec requires, but reported
    /// so that, for instance, unexpected signers can be noticed). Duplicate lines are dropped.
    pub unknown: Vec<NoteSignature>,
}

impl VerifiedNote {
    /// Whether the key `name`+`key_id` verified.
    pub fn is_signed_by(&self, name: &str, key_id: u32) -> bool {
        self.verified.iter().any(|s| s.name == name && s.key_id == key_id)
    }
}

/// Splits a note into text and signature lines, checking the format but no signature.
pub fn parse_note(note: &str) -> Result<ParsedNote, NoteError> {
    check_characters(note)?;
    let split = note.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
    let text = note.get(..=split).ok_or(NoteError::NoSignatureBlock)?;
    let block = note.get(split + 2..).ok_or(NoteError::NoSignatureBlock)?;
    if block.is_empty() || !block.ends_with('\n') {
        return Err(NoteError::NoSignatureBlock);
    }
    let mut signatures = Vec::new();
    for (i, line) in block.split_terminator('\n').enumerate() {
        if i >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        signatures.push(parse_signature_line(line).ok_or(NoteError::MalformedSignatureLine { line: i + 1 })?);
    }
    Ok(ParsedNote { text: text.to_string(), signatures })
}

/// Parses `— <name> <base64>` (no newline) into its parts.
pub(crate) fn parse_signature_line(line: &str) -> Option<NoteSignature> {
    let rest = line.strip_prefix(SIGNATURE_PREFIX)?;
    let (name, encoded) = rest.split_once(' ')?;
    if !is_valid_key_name(name) {
        return None;
    }
    let bytes = b64::decode(encoded)?;
    if bytes.len() < 5 {
        return None;
    }
    let (id, signature) = bytes.split_at(4);
    let key_id = u32::from_be_bytes(<[u8; 4]>::try_from(id).ok()?);
    Some(NoteSignature { name: name.to_string(), key_id, signature: signature.to_vec() })
}

/// Opens a note: checks its format, verifies every signature by a trusted key, and returns the
/// text only if at least one trusted key signed it.
///
/// Signatures by unknown keys (name and key id not both matching a verifier) are ignored, as the
/// spec requires, and listed in [`VerifiedNote::unknown`]. A trusted key's signature that fails
/// rejects the whole note (the spec's SHOULD): a note carrying a forged signature is evidence of
/// tampering, not something to half-accept.
pub fn open(note: &str, verifiers: &[Verifier]) -> Result<VerifiedNote, NoteError> {
    for (i, v) in verifiers.iter().enumerate() {
        if verifiers.iter().skip(i + 1).any(|w| w.name == v.name && w.id == v.id) {
            return Err(NoteError::AmbiguousVerifier { name: v.name.clone(), key_id: v.id });
        }
    }
    let parsed = parse_note(note)?;
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unknown: Vec<NoteSignature> = Vec::new();
    for sig in parsed.signatures {
        match verifiers.iter().find(|v| v.name == sig.name && v.id == sig.key_id) {
            Some(v) => {
                if !v.verify(parsed.text.as_bytes(), &sig.signature) {
                    return Err(NoteError::BadSignature { name: sig.name, key_id: sig.key_id });
                }
                if !verified.iter().any(|s| s.name == sig.name && s.key_id == sig.key_id) {
                    verified.push(sig);
                }
            }
            None => {
                if !unknown.contains(&sig) {
                    unknown.push(sig);
                }
            }
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoTrustedSignature { unknown: unknown.iter().map(NoteSignature::key_label).collect() });
    }
    Ok(VerifiedNote { text: parsed.text, verified, unknown })
}

/// [`open`] for raw bytes (for example an HTTP body), refusing invalid UTF-8.
pub fn open_bytes(note: &[u8], verifiers: &[Verifier]) -> Result<VerifiedNote, NoteError> {
    if note.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge);
    }
    let note = std::str::from_utf8(note).map_err(|_| NoteError::NotUtf8)?;
    open(note, verifiers)
}

/// Adds signature lines (such as a witness's cosignature response) to a note, dropping lines
/// already present. The lines are checked for format only; verify the result with [`open`] or
/// the cosignature verifier.
pub fn add_signature_lines(note: &str, lines: &str) -> Result<String, NoteError> {
    let parsed = parse_note(note)?;
    let mut out = String::with_capacity(note.len() + lines.len());
    out.push_str(note);
    let mut seen: Vec<NoteSignature> = parsed.signatures;
    if !lines.is_empty() && !lines.ends_with('\n') {
        return Err(NoteError::MalformedSignatureLine { line: lines.split_terminator('\n').count() });
    }
    for (i, line) in lines.split_terminator('\n').enumerate() {
        let sig = parse_signature_line(line).ok_or(NoteError::MalformedSignatureLine { line: i + 1 })?;
        if !seen.contains(&sig) {
            out.push_str(line);
            out.push('\n');
            seen.push(sig);
        }
        if seen.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
    }
    check_characters(&out)?;
    Ok(out)
}
