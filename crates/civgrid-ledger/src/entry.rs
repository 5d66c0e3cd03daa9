//! What one leaf of the civgrid log commits to, and the canonical JSON that record contents are
//! hashed in.
//!
//! An entry never carries the record itself — case notes and certificate contents may hold
//! personal data, and entry bundles are public — only the record's kind, its reference and the
//! SHA-256 of its canonical content. Anyone holding the record (the platform's auditor, a citizen
//! holding a certificate) recomputes the entry and checks it is in the log; nobody else learns
//! anything from the log but the counts.
//!
//! Entry bytes: `civgrid/v1 <kind> <ref> <sha256 hex>\n` — one line, so an entry bundle is easy
//! to read by eye and by any tool.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::hash::{leaf_hash, Hash};

const PREFIX: &str = "civgrid/v1";

/// Why an entry or a piece of canonical content was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The kind is not 1–32 characters of `a-z`, `0-9` and `_`.
    #[error("entry kind must be 1-32 characters of a-z, 0-9 and _")]
    InvalidKind,
    /// The reference is not 1–128 characters of `A-Z a-z 0-9 . _ : -`.
    #[error("entry reference must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'")]
    InvalidReference,
    /// The entry bytes are not `civgrid/v1 <kind> <ref> <sha256 hex>\n`.
    #[error("malformed entry: {0}")]
    Malformed(&'static str),
    /// Canonical JSON holds only integers, strings, booleans, null, arrays and objects: a
    /// fractional or out-of-range number has more than one textual form.
    #[error("canonical content cannot hold the non-integer number {0}")]
    NonIntegerNumber(String),
}

impl EntryError {
    /// A stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            EntryError::InvalidKind => "invalid_entry_kind",
            EntryError::InvalidReference => "invalid_entry_reference",
            EntryError::Malformed(_) => "malformed_entry",
            EntryError::NonIntegerNumber(_) => "non_integer_number",
        }
    }
}

/// One log entry: a record's kind, its reference and the hash of its canonical content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    kind: String,
    reference: String,
    content_sha256: Hash,
}

fn valid_kind(kind: &str) -> bool {
    (1..=32).contains(&kind.len()) && kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn valid_reference(r: &str) -> bool {
    (1..=128).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b))
}

impl Entry {
    /// An entry for a record whose canonical content hashes to `content_sha256`.
    pub fn new(kind: &str, reference: &str, content_sha256: Hash) -> Result<Entry, EntryError> {
        if !valid_kind(kind) {
            return Err(EntryError::InvalidKind);
        }
        if !valid_reference(reference) {
            return Err(EntryError::InvalidReference);
        }
        Ok(Entry { kind: kind.to_owned(), reference: reference.to_owned(), content_sha256 })
    }

    /// The entry of a record given as JSON: its canonical form is hashed.
    pub fn for_content(kind: &str, reference: &str, content: &serde_json::Value) -> Result<Entry, EntryError> {
        Entry::new(kind, reference, content_hash(content)?)
    }

    /// Parses entry bytes, strictly: exactly the form [`Entry::to_bytes`] writes.
    pub fn parse(bytes: &[u8]) -> Result<Entry, EntryError> {
        let text = std::str::from_utf8(bytes).map_err(|_| EntryError::Malformed("not UTF-8"))?;
        let line = text.strip_suffix('\n').ok_or(EntryError::Malformed("missing final newline"))?;
        let mut parts = line.split(' ');
        let (Some(prefix), Some(kind), Some(reference), Some(hex_hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(EntryError::Malformed("expected four space-separated fields"));
        };
        if prefix != PREFIX {
            return Err(EntryError::Malformed("unknown entry format"));
        }
        if hex_hash.len() != 64 || !hex_hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(EntryError::Malformed("content hash is not 64 lowercase hex digits"));
        }
        let mut hash = [0u8; 32];
        for (i, out) in hash.iter_mut().enumerate() {
            let pair = hex_hash.get(2 * i..2 * i + 2).ok_or(EntryError::Malformed("content hash"))?;
            *out = u8::from_str_radix(pair, 16).map_err(|_| EntryError::Malformed("content hash"))?;
        }
        Entry::new(kind, reference, hash)
    }

    /// The entry bytes the leaf hashes (the same as its `Display` text; written directly because
    /// the sequencer hashes every entry).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PREFIX.len() + self.kind.len() + self.reference.len() + 68);
        for part in [PREFIX, self.kind.as_str(), self.reference.as_str()] {
            out.extend_from_slice(part.as_bytes());
            out.push(b' ');
        }
        for b in &self.content_sha256 {
            for nibble in [b >> 4, b & 0x0f] {
                out.push(if nibble < 10 { b'0' + nibble } else { b'a' + nibble - 10 });
            }
        }
        out.push(b'\n');
        out
    }

    /// The RFC 6962 leaf hash of the entry bytes.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.to_bytes())
    }

    /// The record kind, e.g. `case_transition`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The record's reference within its kind.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The SHA-256 of the record's canonical content.
    pub fn content_sha256(&self) -> &Hash {
        &self.content_sha256
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX} {} {} ", self.kind, self.reference)?;
        for b in &self.content_sha256 {
            write!(f, "{b:02x}")?;
        }
        writeln!(f)
    }
}

/// SHA-256 of the canonical JSON of `content`.
pub fn content_hash(content: &serde_json::Value) -> Result<Hash, EntryError> {
    Ok(Sha256::digest(canonical_json(content)?).into())
}

/// Canonical JSON (the RFC 8785 JCS form for the values it accepts): object members sorted by
/// key (UTF-16 code units, as JCS says), no insignificant whitespace, strings escaped as
/// serde_json escapes them (the JCS escapes for the control characters, everything else
/// literal), integers only.
pub fn canonical_json(value: &serde_json::Value) -> Result<Vec<u8>, EntryError> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), EntryError> {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(EntryError::NonIntegerNumber(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping is the JCS one: \" \\ \b \f \n \r \t, other controls as
    // \u00xx, everything else (including non-ASCII and '/') literal.
    let escaped = serde_json::Value::String(s.to_owned()).to_string();
    out.extend_from_slice(escaped.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn canonical_form_sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": {"z": [true, null, "x"], "y": -3}, "中": "文\n"});
        assert_eq!(
            String::from_utf8(canonical_json(&v).unwrap()).unwrap(),
            r#"{"a":{"y":-3,"z":[true,null,"x"]},"b":1,"中":"文\n"}"#
        );
    }

    #[test]
    fn fractional_numbers_are_refused() {
        assert_eq!(canonical_json(&json!({"x": 1.5})).unwrap_err().code(), "non_integer_number");
    }

    #[test]
    fn entry_round_trips_and_rejects_variants() {
        let e = Entry::for_content("case_transition", "42", &json!({"to": "closed"})).unwrap();
        let bytes = e.to_bytes();
        assert_eq!(bytes, e.to_string().into_bytes(), "to_bytes and Display agree");
        assert!(bytes.starts_with(b"civgrid/v1 case_transition 42 "));
        assert_eq!(Entry::parse(&bytes).unwrap(), e);
        let text = String::from_utf8(bytes).unwrap();
        for bad in [
            text.trim_end().to_owned(),
            text.replace("civgrid/v1", "civgrid/v2"),
            text.replace(" 42 ", " 42  "),
            text.to_uppercase(),
            format!("{text}\n"),
        ] {
            assert!(Entry::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert_eq!(Entry::new("Case", "1", [0; 32]).unwrap_err().code(), "invalid_entry_kind");
        assert_eq!(Entry::new("case", "a b", [0; 32]).unwrap_err().code(), "invalid_entry_reference");
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Entry::parse(&bytes);
        }

        #[test]
        fn canonical_json_is_independent_of_member_order(pairs in proptest::collection::btree_map("[a-z中]{0,4}", any::<i64>(), 0..8)) {
            let forward: serde_json::Map<String, serde_json::Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let reversed: serde_json::Map<String, serde_json::Value> = pairs.iter().rev().map(|(k, v)| (k.clone(), json!(v))).collect();
            prop_assert_eq!(canonical_json(&forward.into()).unwrap(), canonical_json(&reversed.into()).unwrap());
        }
    }
}
