//! C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the signed statement "the log with this
//! origin has this many entries and this root".
//!
//! The body is exactly: origin line, decimal tree size without leading zeros, base64 root, then
//! optional non-empty extension lines, each ending in a newline. Parsing is strict because two
//! parties comparing checkpoints byte for byte (witnesses, monitors, our verifier) must never
//! disagree on what a checkpoint says.

use std::fmt;

use crate::b64;
use crate::hash::Hash;
use crate::note::{self, NoteError, Signer, VerifiedNote, Verifier};

/// Why a checkpoint body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text does not end with a newline.
    #[error("checkpoint text must end with a newline")]
    MissingFinalNewline,
    /// Fewer than the three mandatory lines.
    #[error("checkpoint needs origin, size and root lines")]
    TooFewLines,
    /// The origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// The size line is not a canonical decimal `u64`.
    #[error("checkpoint size is not a decimal number without leading zeros")]
    BadSize,
    /// The root line is not canonical base64 of 32 bytes.
    #[error("checkpoint root is not base64 of a 32-byte hash")]
    BadRoot,
    /// An extension line is empty.
    #[error("checkpoint extension lines must be non-empty")]
    EmptyExtensionLine,
    /// A control character (other than the line ends) is present.
    #[error("checkpoint contains a control character")]
    ControlCharacter,
    /// The text is larger than a note may be.
    #[error("checkpoint is too large")]
    TooLarge,
}

impl CheckpointError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointError::MissingFinalNewline => "checkpoint_missing_final_newline",
            CheckpointError::TooFewLines => "checkpoint_too_few_lines",
            CheckpointError::EmptyOrigin => "checkpoint_empty_origin",
            CheckpointError::BadSize => "checkpoint_bad_size",
            CheckpointError::BadRoot => "checkpoint_bad_root",
            CheckpointError::EmptyExtensionLine => "checkpoint_empty_extension_line",
            CheckpointError::ControlCharacter => "checkpoint_control_character",
            CheckpointError::TooLarge => "checkpoint_too_large",
        }
    }
}

/// A checkpoint body (the note text, without signatures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, conventionally a schema-less URL such as `ledger.example.gov.cn/log`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Opaque extension lines (not recommended: monitors cannot audit them).
    pub extensions: Vec<String>,
}

/// Parses a canonical decimal `u64`: ASCII digits only, no sign, no leading zero unless "0".
pub(crate) fn parse_canonical_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// A checkpoint without extension lines. Fails if the origin could not be parsed back
    /// (empty, or containing a newline or control character).
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, CheckpointError> {
        let checkpoint = Checkpoint { origin: origin.to_string(), size, root, extensions: Vec::new() };
        checkpoint.validate()?;
        Ok(checkpoint)
    }

    fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::EmptyExtensionLine);
        }
        let lines = std::iter::once(&self.origin).chain(self.extensions.iter());
        if lines.flat_map(|l| l.chars()).any(char::is_control) {
            return Err(CheckpointError::ControlCharacter);
        }
        Ok(())
    }

    /// Parses a checkpoint body strictly.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > note::MAX_NOTE_SIZE {
            return Err(CheckpointError::TooLarge);
        }
        let body = text.strip_suffix('\n').ok_or(CheckpointError::MissingFinalNewline)?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        let size = lines.next().ok_or(CheckpointError::TooFewLines)?;
        let root = lines.next().ok_or(CheckpointError::TooFewLines)?;
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_canonical_u64(size).ok_or(CheckpointError::BadSize)?;
        let root = b64::decode_32(root).ok_or(CheckpointError::BadRoot)?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        let checkpoint = Checkpoint { origin: origin.to_string(), size, root, extensions };
        checkpoint.validate()?;
        Ok(checkpoint)
    }

    /// The body text, each line newline-terminated.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, b64::encode(&self.root));
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Signs the checkpoint into a note. The log's key name should equal the origin.
    pub fn sign(&self, signer: &Signer) -> Result<String, NoteError> {
        signer.sign(&self.to_text())
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A checkpoint whose note carried a signature by one of the log's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The opened note (verified and unknown signatures).
    pub note: VerifiedNote,
}

/// Opens a signed checkpoint note with the log's verifiers and parses its body.
pub fn open_checkpoint(note_text: &str, log_verifiers: &[Verifier]) -> Result<SignedCheckpoint, crate::LedgerError> {
    let note = note::open(note_text, log_verifiers)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    Ok(SignedCheckpoint { checkpoint, note })
}
