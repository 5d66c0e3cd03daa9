//! `civgrid audit`: recompute every entry from the stored records and the tree from the entries,
//! and name each record that was changed, deleted or inserted behind the log's back.
//!
//! Three layers are checked, each against the one above it:
//! 1. records → entries: every record's canonical content must hash to its entry's hash; a
//!    record without an entry was inserted behind the log, an entry without a record points at
//!    a deleted one;
//! 2. entries → tree: leaf indices are 0…n−1 without gaps, every stored node equals the one
//!    recomputed from the entries;
//! 3. tree → checkpoints: each signed checkpoint verifies under the log key and its root equals
//!    the recomputed root at its size — so rewriting the tree to match edited records is caught
//!    by the signatures that witnesses also hold.

use std::collections::HashMap;

use civgrid_ledger::checkpoint::open_checkpoint;
use civgrid_ledger::entry::content_hash;
use civgrid_ledger::{Appender, Entry, Hash, NodeId};
use serde::Serialize;

use super::{hex_hash, store, Ledger, LogError};

/// The key under which a record owner may annotate a recomputed record's content with what it
/// knows of a difference (e.g. the case loop names the case columns that no longer match what
/// the case's latest transition logged). Taken out before hashing; added to a `record_changed`
/// finding's detail.
pub const AUDIT_NOTE: &str = "_audit_note";

/// A record's content without its owner's note, and the note.
fn split_note(content: &serde_json::Value) -> (std::borrow::Cow<'_, serde_json::Value>, Option<String>) {
    match content.get(AUDIT_NOTE).and_then(serde_json::Value::as_str) {
        Some(note) => {
            let mut bare = content.clone();
            if let Some(map) = bare.as_object_mut() {
                map.remove(AUDIT_NOTE);
            }
            (std::borrow::Cow::Owned(bare), Some(note.to_owned()))
        }
        None => (std::borrow::Cow::Borrowed(content), None),
    }
}

/// The records of one kind, as their owner recomputes them: (reference, canonical content).
#[derive(Debug, Clone)]
pub struct RecordSet {
    pub kind: String,
    pub records: Vec<(String, serde_json::Value)>,
}

/// One discrepancy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// `record_changed`, `record_deleted`, `record_inserted`, `entry_changed`, `entry_missing`,
    /// `node_changed`, `node_missing`, `checkpoint_invalid`, `checkpoint_root_mismatch`,
    /// `state_root_mismatch`.
    pub code: &'static str,
    pub kind: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub detail: String,
}

/// What the audit looked at and what it found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub records_checked: u64,
    pub entries_checked: u64,
    pub nodes_checked: u64,
    pub checkpoints_checked: u64,
    pub tree_size: u64,
    /// Kinds in the log that no record owner provided (not compared with records).
    pub kinds_not_audited: Vec<String>,
    pub findings: Vec<Finding>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

const CHUNK: i64 = 10_000;

fn finding(code: &'static str, kind: Option<&str>, reference: Option<&str>, detail: String) -> Finding {
    Finding { code, kind: kind.map(str::to_owned), reference: reference.map(str::to_owned), detail }
}

/// Runs the audit over `sets` (one per record kind the caller's modules own).
pub async fn audit(ledger: &Ledger, sets: &[RecordSet]) -> Result<AuditReport, LogError> {
    let db = ledger.db();
    let mut findings = Vec::new();
    let mut records_checked = 0u64;

    // 1. records → entries
    for set in sets {
        let mut entries: HashMap<String, store::EntryRow> =
            store::entries_of_kind(db, &set.kind).await?.into_iter().map(|e| (e.reference.clone(), e)).collect();
        for (reference, content) in &set.records {
            records_checked += 1;
            let (content, note) = split_note(content);
            let hash = hex::encode(content_hash(&content)?);
            match entries.remove(reference) {
                None => findings.push(finding(
                    "record_inserted",
                    Some(&set.kind),
                    Some(reference),
                    "the record has no log entry: it was written behind the log's back".into(),
                )),
                Some(e) if e.content_sha256 != hash => findings.push(finding(
                    "record_changed",
                    Some(&set.kind),
                    Some(reference),
                    match &note {
                        Some(n) => format!("content hashes to {hash}, the log holds {}: {n}", e.content_sha256),
                        None => format!("content hashes to {hash}, the log holds {}", e.content_sha256),
                    },
                )),
                Some(_) => {}
            }
        }
        let mut deleted: Vec<_> = entries.into_keys().collect();
        deleted.sort();
        for reference in deleted {
            findings.push(finding(
                "record_deleted",
                Some(&set.kind),
                Some(&reference),
                "the log holds an entry for a record that no longer exists".into(),
            ));
        }
    }
    let audited: Vec<&str> = sets.iter().map(|s| s.kind.as_str()).collect();
    let kinds_not_audited =
        store::entry_kinds(db).await?.into_iter().filter(|k| !audited.contains(&k.as_str())).collect();

    // 2. entries → tree, 3. tree → checkpoints
    let (state_size, state_root) = store::state(db).await?;
    let checkpoints = store::checkpoints(db).await?;
    let verifier = ledger.keys().log_verifier();
    let mut roots_wanted: Vec<(u64, Hash, String)> = Vec::new();
    let mut checkpoints_checked = 0u64;
    for c in &checkpoints {
        checkpoints_checked += 1;
        match open_checkpoint(&c.note, std::slice::from_ref(&verifier)) {
            Ok(signed) if signed.checkpoint.size == c.size && signed.checkpoint.root == c.root => {
                roots_wanted.push((c.size, c.root, c.created_at.clone()));
            }
            Ok(_) => findings.push(finding(
                "checkpoint_invalid",
                None,
                None,
                format!("checkpoint row of size {} does not match its signed note", c.size),
            )),
            Err(e) => findings.push(finding(
                "checkpoint_invalid",
                None,
                None,
                format!("checkpoint of size {} does not verify under the log key: {}", c.size, e.code()),
            )),
        }
    }
    roots_wanted.sort_by_key(|r| r.0);
    let mut roots = RootChecks { wanted: roots_wanted, next: 0 };

    let mut appender = Appender::new();
    let mut entries_checked = 0u64;
    let mut nodes_checked = 0u64;
    let mut expected_seq = 0u64;
    roots.check(&appender, &mut findings);
    loop {
        let rows = store::leaves_from(db, expected_seq, CHUNK).await?;
        if rows.is_empty() {
            break;
        }
        let mut leaves = Vec::with_capacity(rows.len());
        for (seq, row, stored_leaf) in &rows {
            if *seq != expected_seq {
                findings.push(finding(
                    "entry_missing",
                    None,
                    None,
                    format!("leaf indices {expected_seq}–{} have no entry: entries were deleted", seq - 1),
                ));
                // Keep walking so later damage is named too; the tree check stops being exact.
                expected_seq = *seq;
            }
            entries_checked += 1;
            let leaf = match hex_hash(&row.content_sha256).and_then(|h| Ok(Entry::new(&row.kind, &row.reference, h)?)) {
                Ok(entry) => entry.leaf_hash(),
                Err(e) => {
                    findings.push(finding("entry_changed", Some(&row.kind), Some(&row.reference), e.to_string()));
                    [0u8; 32]
                }
            };
            if let Some(stored) = stored_leaf {
                if *stored != leaf {
                    findings.push(finding(
                        "entry_changed",
                        Some(&row.kind),
                        Some(&row.reference),
                        format!("entry at leaf {seq} no longer hashes to the leaf stored in the tree"),
                    ));
                }
            }
            leaves.push((*seq, leaf));
            expected_seq += 1;
        }
        // Extend in pieces that stop at every checkpoint size, so each signed root is compared.
        let mut new_nodes: Vec<(NodeId, Hash)> = Vec::new();
        let mut rest: &[(u64, Hash)] = &leaves;
        while !rest.is_empty() {
            let stop = roots.leaves_until_next(appender.size()).unwrap_or(rest.len()).min(rest.len());
            let (now, later) = rest.split_at(stop);
            let hashes: Vec<Hash> = now.iter().map(|l| l.1).collect();
            appender.extend_into(&hashes, &mut new_nodes)?;
            roots.check(&appender, &mut findings);
            rest = later;
        }
        let ids: Vec<NodeId> = new_nodes.iter().map(|n| n.0).collect();
        let stored = store::read_nodes(&mut *db.pool().acquire().await?, &ids).await?;
        for ((id, want), got) in new_nodes.iter().zip(stored) {
            nodes_checked += 1;
            match got {
                None if id.is_complete_in(state_size) => findings.push(finding(
                    "node_missing",
                    None,
                    None,
                    format!("tree node level {} index {} is missing", id.level, id.index),
                )),
                Some(h) if h != *want && id.level > 0 => findings.push(finding(
                    "node_changed",
                    None,
                    None,
                    format!("tree node level {} index {} differs from the one recomputed", id.level, id.index),
                )),
                _ => {}
            }
        }
    }
    if appender.size() != state_size || appender.root() != state_root {
        findings.push(finding(
            "state_root_mismatch",
            None,
            None,
            format!(
                "the stored tree state (size {state_size}) differs from the tree recomputed from {} entries",
                appender.size()
            ),
        ));
    }
    Ok(AuditReport {
        records_checked,
        entries_checked,
        nodes_checked,
        checkpoints_checked,
        tree_size: state_size,
        kinds_not_audited,
        findings,
    })
}

/// Signed roots to compare, in size order, as the recomputed tree grows past them.
struct RootChecks {
    wanted: Vec<(u64, Hash, String)>,
    next: usize,
}

impl RootChecks {
    fn check(&mut self, appender: &Appender, findings: &mut Vec<Finding>) {
        while let Some((size, root, at)) = self.wanted.get(self.next) {
            if *size > appender.size() {
                break;
            }
            if *size == appender.size() && appender.root() != *root {
                findings.push(finding(
                    "checkpoint_root_mismatch",
                    None,
                    None,
                    format!("the tree recomputed from the entries differs from the checkpoint of size {size} signed at {at}"),
                ));
            }
            self.next += 1;
        }
    }

    /// Leaves to append before the next signed size (None when there is none ahead).
    fn leaves_until_next(&self, size: u64) -> Option<usize> {
        let (next, _, _) = self.wanted.get(self.next)?;
        usize::try_from(next.checked_sub(size)?).ok().filter(|n| *n > 0)
    }
}
