//! C2SP tlog-cosignature/v1 (c2sp.org/tlog-cosignature): a witness's timestamped Ed25519
//! statement "as of time T, the largest consistent tree I have seen for this origin has this
//! root".
//!
//! The signed message is `cosignature/v1\ntime <T>\n` followed by the checkpoint body; the
//! signature line carries `key id ‖ u64 big-endian T ‖ 64-byte signature`. Key ids use type byte
//! 0x04, so a cosigner key can never be mistaken for a log's note key (type 0x01), and because
//! the message does not name the cosigner, every witness must have its own key.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::note::{self, NoteError, NoteSignature};

/// Signature type byte of Ed25519 cosignature/v1.
pub const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Largest timestamp the spec allows (2^63 − 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Why a cosignature or cosigner key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// A key string, name or checkpoint text was invalid.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The timestamp exceeds 2^63 − 1.
    #[error("cosignature timestamp exceeds 2^63 - 1")]
    TimestampTooLarge,
    /// The signature bytes are not `u64 timestamp ‖ 64-byte signature`.
    #[error("cosignature is not a timestamp and an Ed25519 signature")]
    Malformed,
    /// A trusted cosigner's signature does not verify over the checkpoint.
    #[error("cosignature by {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// Cosigner name.
        name: String,
        /// Cosigner key id.
        key_id: u32,
    },
}

impl CosignatureError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            CosignatureError::Note(e) => e.code(),
            CosignatureError::TimestampTooLarge => "cosignature_timestamp_too_large",
            CosignatureError::Malformed => "malformed_cosignature",
            CosignatureError::BadSignature { .. } => "bad_cosignature",
        }
    }
}

/// The exact bytes a cosignature/v1 signs.
pub fn cosigned_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// A witness's cosigning key. `Debug` shows name and key id only.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner").field("name", &self.name).field("key_id", &format_args!("{:08x}", self.id)).finish()
    }
}

impl Cosigner {
    /// Generates a new cosigning key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Cosigner, CosignatureError> {
        Cosigner::from_signing_key(name, SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The cosigner for a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Cosigner, CosignatureError> {
        Cosigner::from_signing_key(name, SigningKey::from_bytes(seed))
    }

    fn from_signing_key(name: &str, key: SigningKey) -> Result<Cosigner, CosignatureError> {
        if !note::is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName.into());
        }
        let id = note::key_id(name, SIG_TYPE_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Ok(Cosigner { name: name.to_string(), id, key })
    }

    /// Parses `PRIVATE+KEY+<name>+<id>+<base64(0x04 ‖ seed)>`.
    pub fn from_private_key(skey: &str) -> Result<Cosigner, CosignatureError> {
        let (name, id, key) = note::parse_signing_key(skey, SIG_TYPE_COSIGNATURE_V1)?;
        Ok(Cosigner { name, id, key })
    }

    /// The private key string (secret: store restrictively, never log).
    pub fn private_key(&self) -> String {
        note::format_signing_key(&self.name, self.id, SIG_TYPE_COSIGNATURE_V1, &self.key)
    }

    /// Cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id (type 0x04).
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier { name: self.name.clone(), id: self.id, key: self.key.verifying_key() }
    }

    /// The verifier key string (`<name>+<id>+base64(0x04 ‖ key)`) to publish.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// Cosigns a checkpoint body at `timestamp` (POSIX seconds) and returns the signature line,
    /// newline included.
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> Result<String, CosignatureError> {
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampTooLarge);
        }
        note::check_text(checkpoint_text)?;
        let signature = self.key.sign(cosigned_message(checkpoint_text, timestamp).as_bytes());
        let mut bytes = Vec::with_capacity(72);
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(note::signature_line(&self.name, self.id, &bytes))
    }
}

/// A trusted witness public key for cosignature/v1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

/// A verified cosignature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// Cosigner name.
    pub name: String,
    /// Cosigner key id.
    pub key_id: u32,
    /// When the witness cosigned (POSIX seconds).
    pub timestamp: u64,
}

/// Splits cosignature bytes (after the key id) into timestamp and Ed25519 signature.
pub fn split_cosignature(signature: &[u8]) -> Result<(u64, [u8; 64]), CosignatureError> {
    let (time, sig) = signature.split_first_chunk::<8>().ok_or(CosignatureError::Malformed)?;
    let sig = <[u8; 64]>::try_from(sig).map_err(|_| CosignatureError::Malformed)?;
    let timestamp = u64::from_be_bytes(*time);
    if timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::TimestampTooLarge);
    }
    Ok((timestamp, sig))
}

impl CosignatureVerifier {
    /// Parses `<name>+<id>+base64(0x04 ‖ key)`, checking the key id and refusing weak keys.
    pub fn parse(vkey: &str) -> Result<CosignatureVerifier, CosignatureError> {
        let (name, id, key) = note::parse_verifying_key(vkey, SIG_TYPE_COSIGNATURE_V1)?;
        Ok(CosignatureVerifier { name, id, key })
    }

    /// The verifier for a raw 32-byte Ed25519 public key.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<CosignatureVerifier, CosignatureError> {
        if !note::is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName.into());
        }
        let key = note::checked_verifying_key(public_key)?;
        Ok(CosignatureVerifier {
            name: name.to_string(),
            id: note::key_id(name, SIG_TYPE_COSIGNATURE_V1, public_key),
            key,
        })
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        note::format_key(&self.name, self.id, SIG_TYPE_COSIGNATURE_V1, self.key.as_bytes())
    }

    /// Cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// Whether a signature line belongs to this cosigner (name and key id both match).
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        signature.name == self.name && signature.key_id == self.id
    }

    /// Verifies one signature line of this cosigner over `checkpoint_text` and returns its
    /// timestamp.
    pub fn verify(&self, checkpoint_text: &str, signature: &NoteSignature) -> Result<u64, CosignatureError> {
        let bad = || CosignatureError::BadSignature { name: signature.name.clone(), key_id: signature.key_id };
        if !self.matches(signature) {
            return Err(bad());
        }
        let (timestamp, sig) = split_cosignature(&signature.signature)?;
        let message = cosigned_message(checkpoint_text, timestamp);
        self.key.verify_strict(message.as_bytes(), &Signature::from_bytes(&sig)).map_err(|_| bad())?;
        Ok(timestamp)
    }
}

/// Verifies the cosignatures in a checkpoint note by the given witnesses.
///
/// Lines by other keys (the log's own signature, unknown witnesses) are ignored. A line by a
/// trusted witness that does not verify fails the whole note, as for note signatures. Returns
/// one cosignature per witness that signed (the latest timestamp if it signed more than once).
/// This checks cosignatures only: open the note with the log's key separately.
pub fn verify_cosignatures(
    note_text: &str,
    witnesses: &[CosignatureVerifier],
) -> Result<Vec<Cosignature>, CosignatureError> {
    let parsed = note::parse_note(note_text)?;
    let mut found: Vec<Cosignature> = Vec::new();
    for sig in &parsed.signatures {
        let Some(witness) = witnesses.iter().find(|w| w.matches(sig)) else { continue };
        let timestamp = witness.verify(&parsed.text, sig)?;
        match found.iter_mut().find(|c| c.name == sig.name && c.key_id == sig.key_id) {
            Some(existing) => existing.timestamp = existing.timestamp.max(timestamp),
            None => found.push(Cosignature { name: sig.name.clone(), key_id: sig.key_id, timestamp }),
        }
    }
    Ok(found)
}
