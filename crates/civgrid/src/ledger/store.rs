//! SQL for the ledger. Node rows are written once and never updated; entries get their leaf
//! index (`seq`) exactly once, from the sequencer.

use civgrid_ledger::{Hash, NodeId};
use sqlx::Row as _;

use crate::db::{Db, Dialect, Tx};

/// Rows per multi-row INSERT or lookup (3 or 2 parameters each; well under both engines'
/// parameter limits).
const INSERT_CHUNK: usize = 1000;

/// An entry as stored.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub seq: Option<i64>,
    pub kind: String,
    pub reference: String,
    pub content_sha256: String,
}

fn entry_from(r: &sqlx::any::AnyRow) -> Result<EntryRow, sqlx::Error> {
    Ok(EntryRow {
        seq: r.try_get("seq")?,
        kind: r.try_get("kind")?,
        reference: r.try_get("ref")?,
        content_sha256: r.try_get("content_sha256")?,
    })
}

fn hash_from(bytes: Vec<u8>) -> Result<Hash, sqlx::Error> {
    Hash::try_from(bytes.as_slice()).map_err(|_| sqlx::Error::Decode("stored hash is not 32 bytes".into()))
}

fn to_i64(v: u64) -> Result<i64, sqlx::Error> {
    i64::try_from(v).map_err(|_| sqlx::Error::Protocol("ledger index beyond i64".into()))
}

fn to_u64(v: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(v).map_err(|_| sqlx::Error::Decode("negative ledger index".into()))
}

pub async fn insert_entry(
    tx: &mut Tx<'_>,
    kind: &str,
    reference: &str,
    content_sha256: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into ledger_entry (kind, ref, content_sha256, created_at) values ($1, $2, $3, $4)")
        .bind(kind)
        .bind(reference)
        .bind(content_sha256)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Rows per multi-row entry INSERT (4 parameters each).
const ENTRY_CHUNK: usize = 2000;

/// Inserts entries of one kind in multi-row INSERTs: `(reference, content_sha256 hex)` pairs.
pub async fn insert_entries(
    tx: &mut Tx<'_>,
    kind: &str,
    entries: &[(&str, String)],
    now: &str,
) -> Result<(), sqlx::Error> {
    let dialect = Dialect::of(tx);
    for chunk in entries.chunks(ENTRY_CHUNK) {
        let sql = format!(
            "insert into ledger_entry (kind, ref, content_sha256, created_at) values {}",
            dialect.values(chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (reference, content_sha256) in chunk {
            q = q.bind(kind).bind(*reference).bind(content_sha256.as_str()).bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Takes the sequencer's lock (a write to the state row: SQLite's write lock, PostgreSQL's row
/// lock) and returns the integrated size and root.
pub async fn lock_state(tx: &mut Tx<'_>) -> Result<(u64, Hash), sqlx::Error> {
    sqlx::query("update ledger_state set updated_at = updated_at where id = 1").execute(&mut **tx).await?;
    let row = sqlx::query("select size, root from ledger_state where id = 1").fetch_one(&mut **tx).await?;
    Ok((to_u64(row.try_get("size")?)?, hash_from(row.try_get("root")?)?))
}

pub async fn state(db: &Db) -> Result<(u64, Hash), sqlx::Error> {
    let row = sqlx::query("select size, root from ledger_state where id = 1").fetch_one(db.pool()).await?;
    Ok((to_u64(row.try_get("size")?)?, hash_from(row.try_get("root")?)?))
}

pub async fn set_state(tx: &mut Tx<'_>, size: u64, root: &Hash, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update ledger_state set size = $1, root = $2, updated_at = $3 where id = 1")
        .bind(to_i64(size)?)
        .bind(root.to_vec())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn has_pending(db: &Db) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("select id from ledger_entry where seq is null limit 1").fetch_optional(db.pool()).await?.is_some())
}

/// The statement of [`sequence_pending`] (`$1` first leaf index, `$2` limit).
pub fn sequence_sql(dialect: Dialect) -> String {
    let pending_only = dialect.postgres_hint(" and ledger_entry.seq is null");
    format!(
        "update ledger_entry set seq = $1 + r.rn - 1
         from (select id, row_number() over (order by id) as rn
               from ledger_entry where seq is null order by id limit $2) as r
         where ledger_entry.id = r.id{pending_only}
         returning seq, kind, ref, content_sha256"
    )
}

/// Gives up to `limit` unsequenced entries the leaf indices `first_seq…`, in commit-id order, in
/// ONE statement (so the set numbered is the set returned, whatever commits meanwhile).
///
/// On PostgreSQL the join also says `ledger_entry.seq is null`, which changes nothing (`r` holds
/// only such rows) but lets the planner drive the join from the small pending index: with stale
/// statistics it otherwise chose a hash join over a sequential scan of the whole table, once per
/// batch. SQLite must not get it: it then loops over every pending row and scans `r` for each.
pub async fn sequence_pending(tx: &mut Tx<'_>, first_seq: u64, limit: i64) -> Result<Vec<EntryRow>, sqlx::Error> {
    let sql = sequence_sql(Dialect::of(tx));
    let rows = sqlx::query(&sql).bind(to_i64(first_seq)?).bind(limit).fetch_all(&mut **tx).await?;
    let mut out = rows.iter().map(entry_from).collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|e| e.seq);
    Ok(out)
}

pub async fn insert_nodes(tx: &mut Tx<'_>, nodes: &[(NodeId, Hash)]) -> Result<(), sqlx::Error> {
    let dialect = Dialect::of(tx);
    for chunk in nodes.chunks(INSERT_CHUNK) {
        let sql = format!("insert into ledger_node (level, idx, hash) values {}", dialect.values(chunk.len(), 3));
        let mut q = sqlx::query(&sql);
        for (id, hash) in chunk {
            q = q.bind(i64::from(id.level)).bind(to_i64(id.index)?).bind(hash.to_vec());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Reads the hashes of `ids` in one query, in the order asked. A missing node is reported as
/// `None` at its place so the caller can name it. `conn` is a pooled connection
/// (`&mut *db.pool().acquire().await?`) or the caller's transaction (`&mut **tx`): a caller
/// holding SQLite's write lock must not wait for a second pooled connection (every other one
/// may be waiting for that lock).
pub async fn read_nodes(conn: &mut sqlx::AnyConnection, ids: &[NodeId]) -> Result<Vec<Option<Hash>>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = Dialect::of(conn);
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(INSERT_CHUNK) {
        let sql = format!(
            "select level, idx, hash from ledger_node where (level, idx) in (values {})",
            dialect.values(chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(i64::from(id.level)).bind(to_i64(id.index)?);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let level: i64 = row.try_get("level")?;
            let idx: i64 = row.try_get("idx")?;
            found.insert((level, idx), hash_from(row.try_get("hash")?)?);
        }
    }
    ids.iter().map(|id| Ok(found.get(&(i64::from(id.level), to_i64(id.index)?)).copied())).collect()
}

/// Hashes of nodes `start..end` at `level`, in order (for a tile).
pub async fn node_range(db: &Db, level: u8, start: u64, end: u64) -> Result<Vec<Hash>, sqlx::Error> {
    let rows = sqlx::query("select hash from ledger_node where level = $1 and idx >= $2 and idx < $3 order by idx")
        .bind(i64::from(level))
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(|r| hash_from(r.try_get("hash")?)).collect()
}

/// Entries with leaf indices `start..end`, in order.
pub async fn entries_by_seq(db: &Db, start: u64, end: u64) -> Result<Vec<EntryRow>, sqlx::Error> {
    let rows = sqlx::query(
        "select seq, kind, ref, content_sha256 from ledger_entry where seq >= $1 and seq < $2 order by seq",
    )
    .bind(to_i64(start)?)
    .bind(to_i64(end)?)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(entry_from).collect()
}

pub async fn entry_by_record(db: &Db, kind: &str, reference: &str) -> Result<Option<EntryRow>, sqlx::Error> {
    let row = sqlx::query("select seq, kind, ref, content_sha256 from ledger_entry where kind = $1 and ref = $2")
        .bind(kind)
        .bind(reference)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(entry_from).transpose()
}

/// All entries of one kind, keyed by reference (for the audit).
pub async fn entries_of_kind(db: &Db, kind: &str) -> Result<Vec<EntryRow>, sqlx::Error> {
    let rows = sqlx::query("select seq, kind, ref, content_sha256 from ledger_entry where kind = $1")
        .bind(kind)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(entry_from).collect()
}

/// Distinct entry kinds present.
pub async fn entry_kinds(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select distinct kind from ledger_entry order by kind").fetch_all(db.pool()).await
}

#[derive(Debug, Clone)]
pub struct CheckpointRow {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    /// Space-separated vkeys of the witnesses whose cosignatures the note carries.
    pub cosigned_by: String,
    pub created_at: String,
}

pub async fn insert_checkpoint(
    tx: &mut Tx<'_>,
    size: u64,
    root: &Hash,
    note: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    // Another node may have signed the same size first: the tree is the same, keep theirs.
    sqlx::query(
        "insert into ledger_checkpoint (size, root, note, created_at) values ($1, $2, $3, $4)
         on conflict (size) do nothing",
    )
    .bind(to_i64(size)?)
    .bind(root.to_vec())
    .bind(note)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update_checkpoint_note(db: &Db, size: u64, note: &str, cosigned_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update ledger_checkpoint set note = $1, cosigned_by = $2 where size = $3")
        .bind(note)
        .bind(cosigned_by)
        .bind(to_i64(size)?)
        .execute(db.pool())
        .await?;
    Ok(())
}

fn checkpoint_from(r: &sqlx::any::AnyRow) -> Result<CheckpointRow, sqlx::Error> {
    Ok(CheckpointRow {
        size: to_u64(r.try_get("size")?)?,
        root: hash_from(r.try_get("root")?)?,
        note: r.try_get("note")?,
        cosigned_by: r.try_get("cosigned_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn latest_checkpoint(db: &Db) -> Result<Option<CheckpointRow>, sqlx::Error> {
    let row = sqlx::query(
        "select size, root, note, cosigned_by, created_at from ledger_checkpoint order by size desc limit 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(checkpoint_from).transpose()
}

/// The newest `limit` checkpoints, newest first.
pub async fn recent_checkpoints(db: &Db, limit: i64) -> Result<Vec<CheckpointRow>, sqlx::Error> {
    let rows = sqlx::query(
        "select size, root, note, cosigned_by, created_at from ledger_checkpoint order by size desc limit $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(checkpoint_from).collect()
}

pub async fn checkpoints(db: &Db) -> Result<Vec<CheckpointRow>, sqlx::Error> {
    let rows = sqlx::query("select size, root, note, cosigned_by, created_at from ledger_checkpoint order by size")
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(checkpoint_from).collect()
}

pub async fn witness_size(db: &Db, vkey: &str) -> Result<u64, sqlx::Error> {
    let size: Option<i64> = sqlx::query_scalar("select size from ledger_witness where vkey = $1")
        .bind(vkey)
        .fetch_optional(db.pool())
        .await?;
    size.map(to_u64).transpose().map(|s| s.unwrap_or(0))
}

pub async fn set_witness_size(db: &Db, vkey: &str, size: u64, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into ledger_witness (vkey, size, updated_at) values ($1, $2, $3)
         on conflict (vkey) do update set size = excluded.size, updated_at = excluded.updated_at",
    )
    .bind(vkey)
    .bind(to_i64(size)?)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Leaf hashes and entries in `seq` order from `start`, at most `limit` (for the audit's walk).
pub async fn leaves_from(db: &Db, start: u64, limit: i64) -> Result<Vec<(u64, EntryRow, Option<Hash>)>, sqlx::Error> {
    let rows = sqlx::query(
        "select e.seq, e.kind, e.ref, e.content_sha256, n.hash
         from ledger_entry e left join ledger_node n on n.level = 0 and n.idx = e.seq
         where e.seq >= $1 order by e.seq limit $2",
    )
    .bind(to_i64(start)?)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let e = entry_from(r)?;
            let seq = to_u64(e.seq.unwrap_or(-1))?;
            let hash: Option<Vec<u8>> = r.try_get("hash")?;
            Ok((seq, e, hash.map(hash_from).transpose()?))
        })
        .collect()
}
