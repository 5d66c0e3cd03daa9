//! The trust ledger (issue 4): a transparency log under every record that matters.
//!
//! - A record's owner calls [`append_in`] inside the record's own transaction, so a record and
//!   its log entry commit or roll back together.
//! - The sequencer ([`Ledger::integrate`], run by every node every few hundred milliseconds)
//!   numbers committed entries in batches, writes the newly complete Merkle nodes and signs a
//!   C2SP checkpoint. On PostgreSQL the state row's lock makes one node at a time do it.
//! - Reads (tiles, entry bundles, proofs) come from the immutable node table; proofs go through
//!   an in-process cache of node hashes ([`cache`]), which can never be stale because stored
//!   nodes never change.
//! - [`audit`] recomputes every entry from the records and the tree from the entries.
//!
//! All the hashing, proof and note logic lives in the pure `civgrid-ledger` crate; this module
//! only stores and serves.

pub mod audit;
mod cache;
pub mod keys;
mod store;
mod witnessing;

use std::sync::Arc;
use std::time::Duration;

use civgrid_ledger::checkpoint::Checkpoint;
use civgrid_ledger::tiles::{encode_entry_bundle, encode_hash_tile, parse_tile_path, TileKind};
use civgrid_ledger::tree::{consistency_plan, inclusion_plan, root_ids, ProofPlan};
use civgrid_ledger::{Appender, Entry, Hash, HashReader, NodeId};

use crate::db::{Db, Tx};
pub use cache::CacheStats;
pub use keys::{KeyError, LedgerKeys};
/// The sequencer's numbering statement, for `civgrid-bench ledger` to show its query plan.
pub use store::sequence_sql;
pub use store::CheckpointRow;
pub use witnessing::{WitnessEndpoint, WitnessPolicy};

/// Entries numbered per sequencer transaction.
const BATCH: i64 = 20_000;

/// Failures of the ledger service.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    /// Malformed input or a request the tree cannot answer (the code says which).
    #[error(transparent)]
    Core(#[from] civgrid_ledger::LedgerError),
    #[error("{0}")]
    NotFound(String),
    #[error("the log has no checkpoint yet")]
    NoCheckpoint,
    /// The stored tree is damaged (a node is missing): an audit will name it.
    #[error("the stored tree is damaged: {0}")]
    Damaged(String),
}

impl LogError {
    pub fn code(&self) -> &'static str {
        match self {
            LogError::Store(_) => "internal",
            LogError::Core(e) => e.code(),
            LogError::NotFound(_) => "not_found",
            LogError::NoCheckpoint => "no_checkpoint",
            LogError::Damaged(_) => "ledger_damaged",
        }
    }
}

impl From<civgrid_ledger::entry::EntryError> for LogError {
    fn from(e: civgrid_ledger::entry::EntryError) -> LogError {
        LogError::Core(e.into())
    }
}

impl From<civgrid_ledger::tiles::TileError> for LogError {
    fn from(e: civgrid_ledger::tiles::TileError) -> LogError {
        LogError::Core(e.into())
    }
}

/// Writes the log entry of a record inside the record's transaction. `content` is the record's
/// canonical projection: the same function must produce it at write time and in the audit.
pub async fn append_in(
    tx: &mut Tx<'_>,
    kind: &str,
    reference: &str,
    content: &serde_json::Value,
    now: &str,
) -> Result<Entry, LogError> {
    let entry = Entry::for_content(kind, reference, content)?;
    store::insert_entry(tx, kind, reference, &hex::encode(entry.content_sha256()), now).await?;
    Ok(entry)
}

/// Writes the log entries of many records of one kind inside the records' transaction, in
/// multi-row INSERTs: `(reference, canonical content)` per record, as for [`append_in`]. All or
/// nothing, with the transaction.
pub async fn append_batch_in(
    tx: &mut Tx<'_>,
    kind: &str,
    records: &[(String, serde_json::Value)],
    now: &str,
) -> Result<Vec<Entry>, LogError> {
    let entries = records
        .iter()
        .map(|(reference, content)| Entry::for_content(kind, reference, content))
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<(&str, String)> = entries.iter().map(|e| (e.reference(), hex::encode(e.content_sha256()))).collect();
    store::insert_entries(tx, kind, &rows, now).await?;
    Ok(entries)
}

/// A located entry with its inclusion proof in the latest checkpoint.
#[derive(Debug, Clone)]
pub struct EntryProof {
    pub kind: String,
    pub reference: String,
    pub content_sha256: String,
    /// Leaf index; `None` while the entry waits for the sequencer (well under a second).
    pub leaf_index: Option<u64>,
    pub tree_size: Option<u64>,
    pub inclusion_proof: Vec<Hash>,
    pub checkpoint: Option<String>,
}

/// What one sequencer batch integrated.
struct Pass {
    leaves: u64,
    size: u64,
    nodes: Vec<(NodeId, Hash)>,
}

/// The ledger service.
#[derive(Clone)]
pub struct Ledger {
    db: Db,
    keys: Arc<LedgerKeys>,
    policy: Arc<WitnessPolicy>,
    cache: Arc<cache::NodeCache>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("origin", &self.keys.origin()).finish_non_exhaustive()
    }
}

/// Node hashes fetched for one computation, served to the pure tree code.
struct Fetched<'a> {
    ids: &'a [NodeId],
    hashes: Vec<Hash>,
}

impl HashReader for Fetched<'_> {
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, civgrid_ledger::LedgerError> {
        ids.iter()
            .map(|id| {
                self.ids
                    .iter()
                    .position(|x| x == id)
                    .and_then(|i| self.hashes.get(i).copied())
                    .ok_or(civgrid_ledger::LedgerError::MissingNode(*id))
            })
            .collect()
    }
}

impl Ledger {
    pub fn new(db: Db, keys: LedgerKeys, policy: WitnessPolicy) -> Ledger {
        Ledger {
            db,
            keys: Arc::new(keys),
            policy: Arc::new(policy),
            cache: Arc::new(cache::NodeCache::new(cache::DEFAULT_CAPACITY, cache::DEFAULT_RESIDENT)),
        }
    }

    /// The same log with a node-hash cache of `capacity` hashes and a resident tree of at most
    /// `resident` nodes (0 and 0: none, every node is read from the database). The defaults
    /// hold about a million cached hashes (≤ 64 MB) and a resident tree of 2^25 nodes (1 GiB).
    pub fn with_node_cache(mut self, capacity: usize, resident: usize) -> Ledger {
        self.cache = Arc::new(cache::NodeCache::new(capacity, resident));
        self
    }

    /// Reads the stored tree into the node cache's resident tree, level by level in index
    /// order, until the tree or the budget ends; returns the nodes added. Nodes only ever get
    /// added to the tree, so this may run beside the sequencer and the proofs (a node the
    /// sequencer adds meanwhile is read here or appended by it).
    pub async fn load_tree(&self) -> Result<u64, LogError> {
        const CHUNK: u64 = 100_000;
        let mut added = 0u64;
        for level in 0..64u8 {
            let mut any = false;
            loop {
                let start = self.cache.resident_len(level);
                let hashes = store::node_range(&self.db, level, start, start + CHUNK).await?;
                if hashes.is_empty() {
                    break;
                }
                any = true;
                let took = self.cache.extend_resident(level, start, &hashes);
                added += took as u64;
                if took == 0 && self.cache.resident_len(level) == start {
                    return Ok(added); // the budget is spent
                }
                if (hashes.len() as u64) < CHUNK {
                    break;
                }
            }
            if !any && self.cache.resident_len(level) == 0 {
                break;
            }
        }
        Ok(added)
    }

    /// Sizes and hit counts of the node-hash cache.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Empties the node-hash cache (benchmarks measure first touches this way).
    pub fn clear_node_cache(&self) {
        self.cache.clear();
    }

    /// The sequencer loop every node runs: [`Ledger::integrate`] every `every` (a pass that
    /// overruns delays the next tick instead of bunching them), so a committed entry is covered
    /// by a signed checkpoint within about `every` plus one pass.
    pub async fn run_sequencer(&self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match self.integrate().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(ledger.integrated = n, "integrated ledger entries"),
                Err(e) => tracing::warn!(error = %e, "ledger sequencer pass failed"),
            }
        }
    }

    pub fn policy(&self) -> &WitnessPolicy {
        &self.policy
    }

    pub fn keys(&self) -> &LedgerKeys {
        &self.keys
    }

    pub fn origin(&self) -> &str {
        self.keys.origin()
    }

    /// Fetches `ids`: from the node cache, the rest in one query; a missing node means the
    /// stored tree is damaged.
    async fn fetch(&self, ids: &[NodeId]) -> Result<Vec<Hash>, LogError> {
        self.fetch_via(ids, None).await
    }

    /// [`Ledger::fetch`], reading misses through `tx` when given. Only committed nodes may be
    /// read this way (the cache keeps what it reads), i.e. before `tx` writes any node.
    async fn fetch_via(&self, ids: &[NodeId], tx: Option<&mut Tx<'_>>) -> Result<Vec<Hash>, LogError> {
        let (mut found, missing) = self.cache.get(ids);
        if missing > 0 {
            let wanted: Vec<NodeId> = ids.iter().zip(&found).filter(|(_, h)| h.is_none()).map(|(id, _)| *id).collect();
            let read = match tx {
                Some(tx) => store::read_nodes(tx, &wanted).await?,
                None => store::read_nodes(&mut *self.db.pool().acquire().await?, &wanted).await?,
            };
            self.cache.put(wanted.iter().zip(&read).filter_map(|(id, h)| Some((*id, (*h)?))));
            let mut read = read.into_iter();
            for slot in found.iter_mut().filter(|h| h.is_none()) {
                *slot = read.next().flatten();
            }
        }
        ids.iter()
            .zip(found)
            .map(|(id, h)| {
                h.ok_or_else(|| LogError::Damaged(format!("node level {} index {} is missing", id.level, id.index)))
            })
            .collect()
    }

    async fn run_plan(&self, plan: &ProofPlan) -> Result<Vec<Hash>, LogError> {
        let hashes = self.fetch(plan.ids()).await?;
        Ok(plan.assemble(&hashes)?)
    }

    /// One sequencer step: numbers the committed entries in batches of up to 20,000, each batch
    /// in one transaction that stores its new nodes and the state, followed by a signed
    /// checkpoint; signs one if the newest is missing or behind even when nothing was pending.
    /// Returns the number of entries integrated.
    pub async fn integrate(&self) -> Result<u64, LogError> {
        let mut total = 0u64;
        // A cheap read first: an idle pass must not take the write lock (nor, on SQLite, cost
        // a group commit) just to find nothing to do.
        while store::has_pending(&self.db).await? {
            // Through `Db::write`: on SQLite the pass queues behind record writes in the group
            // committer instead of fighting them for the write lock (a lost race there costs a
            // busy-handler sleep of up to 100 ms on one side or the other).
            let this = self.clone();
            let pass = self
                .db
                .write(move |tx| -> crate::db::BoxFuture<'_, Result<Option<Pass>, LogError>> {
                    Box::pin(async move { this.integrate_in(tx).await })
                })
                .await?;
            let Some(pass) = pass else { break };
            // Committed, so final: keep the new upper nodes (few, shared by many proofs) and the
            // new frontier (what the next pass reads first).
            let size = pass.size;
            let on_frontier =
                |id: &NodeId| id.level < 64 && (size >> id.level) & 1 == 1 && id.index == (size >> id.level) - 1;
            self.cache.extend_resident_with(&pass.nodes);
            self.cache
                .put(pass.nodes.iter().copied().filter(|(id, _)| id.level >= cache::UPPER_LEVEL || on_frontier(id)));
            total += pass.leaves;
            // A checkpoint per batch: under a backlog the signed tree keeps up batch by batch
            // instead of waiting until the backlog is drained.
            self.sign_if_behind().await?;
            if (pass.leaves as i64) < BATCH {
                return Ok(total);
            }
        }
        // Nothing (more) pending: still sign if the newest checkpoint is missing or behind.
        self.sign_if_behind().await?;
        Ok(total)
    }

    /// One sequencer batch inside a write transaction: numbers up to [`BATCH`] pending entries,
    /// stores the newly complete nodes and moves the tree state. `None` when nothing was pending.
    async fn integrate_in(&self, tx: &mut Tx<'_>) -> Result<Option<Pass>, LogError> {
        let (size, _) = store::lock_state(tx).await?;
        let pending = store::sequence_pending(tx, size, BATCH).await?;
        if pending.is_empty() {
            return Ok(None);
        }
        let ids = root_ids(size);
        // Through the transaction: it holds SQLite's write lock, and every other pooled
        // connection may be a writer waiting for that lock.
        let frontier = self.fetch_via(&ids, Some(tx)).await?;
        let mut appender = Appender::open(size, &Fetched { ids: &ids, hashes: frontier })?;
        let leaves = pending
            .iter()
            .map(|e| {
                let hash = hex_hash(&e.content_sha256)?;
                Ok(Entry::new(&e.kind, &e.reference, hash)?.leaf_hash())
            })
            .collect::<Result<Vec<Hash>, LogError>>()?;
        let nodes = appender.extend(&leaves)?;
        store::insert_nodes(tx, &nodes).await?;
        store::set_state(tx, appender.size(), &appender.root(), &crate::db::now_text()).await?;
        Ok(Some(Pass { leaves: leaves.len() as u64, size: appender.size(), nodes }))
    }

    /// Signs a checkpoint for the integrated tree when the newest one is smaller.
    async fn sign_if_behind(&self) -> Result<Option<CheckpointRow>, LogError> {
        let (size, root) = store::state(&self.db).await?;
        let latest = store::latest_checkpoint(&self.db).await?;
        if latest.as_ref().is_some_and(|c| c.size >= size) {
            return Ok(None);
        }
        let checkpoint = Checkpoint::new(self.origin(), size, root).map_err(civgrid_ledger::LedgerError::from)?;
        let note = checkpoint.sign(self.keys.log_signer()).map_err(civgrid_ledger::LedgerError::from)?;
        let now = crate::db::now_text();
        let (row_note, row_now) = (note.clone(), now.clone());
        self.db
            .write(move |tx| -> crate::db::BoxFuture<'_, Result<(), sqlx::Error>> {
                Box::pin(async move { store::insert_checkpoint(tx, size, &root, &row_note, &row_now).await })
            })
            .await?;
        metrics::gauge!("civgrid_ledger_size").set(size as f64);
        Ok(Some(CheckpointRow { size, root, note, cosigned_by: String::new(), created_at: now }))
    }

    /// Whether entries wait for the sequencer (a cheap indexed probe).
    pub async fn has_pending(&self) -> Result<bool, LogError> {
        Ok(store::has_pending(&self.db).await?)
    }

    pub async fn checkpoint(&self) -> Result<CheckpointRow, LogError> {
        let latest = store::latest_checkpoint(&self.db).await?.ok_or(LogError::NoCheckpoint)?;
        self.cache.saw_checkpoint(latest.size);
        Ok(latest)
    }

    pub async fn checkpoints(&self) -> Result<Vec<CheckpointRow>, LogError> {
        Ok(store::checkpoints(&self.db).await?)
    }

    /// Records the witness cosignature lines on the checkpoint of `size`.
    pub async fn add_cosignatures(&self, size: u64, note: &str, cosigned_by: &str) -> Result<(), LogError> {
        Ok(store::update_checkpoint_note(&self.db, size, note, cosigned_by).await?)
    }

    pub async fn witness_size(&self, vkey: &str) -> Result<u64, LogError> {
        Ok(store::witness_size(&self.db, vkey).await?)
    }

    pub async fn set_witness_size(&self, vkey: &str, size: u64) -> Result<(), LogError> {
        Ok(store::set_witness_size(&self.db, vkey, size, &crate::db::now_text()).await?)
    }

    /// A tile or entry bundle, by its C2SP tlog-tiles path (`tile/…`), as of the latest
    /// checkpoint.
    pub async fn tile(&self, path: &str) -> Result<Vec<u8>, LogError> {
        let tile = parse_tile_path(path)?;
        let size = self.checkpoint().await?.size;
        if !tile.is_available_at(size) {
            return Err(LogError::NotFound(format!("{path} is beyond the tree of size {size}")));
        }
        let (level, range) = tile.node_range();
        match tile.kind() {
            TileKind::Hashes(_) => {
                let hashes = store::node_range(&self.db, level, range.start, range.end).await?;
                if hashes.len() as u64 != range.end - range.start {
                    return Err(LogError::Damaged(format!("nodes of {path} are missing")));
                }
                Ok(encode_hash_tile(&hashes))
            }
            TileKind::Entries => {
                let rows = store::entries_by_seq(&self.db, range.start, range.end).await?;
                if rows.len() as u64 != range.end - range.start {
                    return Err(LogError::Damaged(format!("entries of {path} are missing")));
                }
                let entries = rows
                    .iter()
                    .map(|e| Ok(Entry::new(&e.kind, &e.reference, hex_hash(&e.content_sha256)?)?.to_bytes()))
                    .collect::<Result<Vec<_>, LogError>>()?;
                Ok(encode_entry_bundle(&entries)?)
            }
        }
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` (≤ the latest checkpoint).
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.within_checkpoint(size).await?;
        self.run_plan(&inclusion_plan(index, size)?).await
    }

    /// RFC 9162 consistency proof between two tree sizes (≤ the latest checkpoint).
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, LogError> {
        self.within_checkpoint(new).await?;
        self.run_plan(&consistency_plan(old, new)?).await
    }

    async fn within_checkpoint(&self, size: u64) -> Result<(), LogError> {
        // Checkpoints only grow: a size at or below one already seen needs no query.
        if self.cache.published_at_least(size) {
            return Ok(());
        }
        let published = self.checkpoint().await?.size;
        if size > published {
            return Err(LogError::Core(civgrid_ledger::LedgerError::IndexOutOfRange { index: size, size: published }));
        }
        Ok(())
    }

    /// The entry of a record and its inclusion proof in the latest checkpoint.
    pub async fn find(&self, kind: &str, reference: &str) -> Result<EntryProof, LogError> {
        let entry = store::entry_by_record(&self.db, kind, reference)
            .await?
            .ok_or_else(|| LogError::NotFound(format!("no {kind} {reference} in the log")))?;
        let mut out = EntryProof {
            kind: entry.kind,
            reference: entry.reference,
            content_sha256: entry.content_sha256,
            leaf_index: None,
            tree_size: None,
            inclusion_proof: Vec::new(),
            checkpoint: None,
        };
        let Some(seq) = entry.seq else { return Ok(out) };
        let seq = u64::try_from(seq).map_err(|_| LogError::Damaged("negative leaf index".into()))?;
        out.leaf_index = Some(seq);
        let checkpoint = self.checkpoint().await?;
        if seq < checkpoint.size {
            out.inclusion_proof = self.run_plan(&inclusion_plan(seq, checkpoint.size)?).await?;
            out.tree_size = Some(checkpoint.size);
            out.checkpoint = Some(checkpoint.note);
        }
        Ok(out)
    }

    /// Leaf index, inclusion proof and checkpoint note for a record, against the newest
    /// checkpoint that covers it and meets the witness quorum; `None` until there is one.
    pub async fn trusted_proof(
        &self,
        kind: &str,
        reference: &str,
    ) -> Result<Option<(u64, Vec<Hash>, String)>, LogError> {
        let Some(entry) = store::entry_by_record(&self.db, kind, reference).await? else {
            return Err(LogError::NotFound(format!("no {kind} {reference} in the log")));
        };
        let Some(seq) = entry.seq else { return Ok(None) };
        let seq = u64::try_from(seq).map_err(|_| LogError::Damaged("negative leaf index".into()))?;
        let trust = self.trust_file();
        // Witnesses cosign about once a second; the newest few checkpoints hold a trusted one.
        for c in store::recent_checkpoints(&self.db, 200).await? {
            if c.size <= seq {
                break;
            }
            if trust.trusted_checkpoint(&c.note).is_ok() {
                let proof = self.run_plan(&inclusion_plan(seq, c.size)?).await?;
                return Ok(Some((seq, proof, c.note)));
            }
        }
        Ok(None)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}

fn hex_hash(text: &str) -> Result<Hash, LogError> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash)
        .map_err(|_| LogError::Damaged(format!("stored content hash {text:?} is not 64 hex digits")))?;
    Ok(hash)
}
