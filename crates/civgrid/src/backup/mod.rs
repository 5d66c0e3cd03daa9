//! `civgrid backup` and `civgrid restore` (issue 19 item 6): a consistent copy of the database
//! taken while the server writes, and a restore that checks everything before it changes
//! anything — above all that it would not roll the trust ledger back behind a checkpoint a
//! witness has already cosigned (that would fork the log).
//!
//! - SQLite: `VACUUM INTO` a `FILE.partial` (one read transaction; the WAL writers go on), a
//!   metadata table added to the copy, `quick_check`, fsync, rename. A restore is a file copy
//!   plus checks, never row by row.
//! - PostgreSQL: a civgrid archive ([`archive`]) of every table's `COPY … TO STDOUT` taken in
//!   one `REPEATABLE READ, READ ONLY` transaction; restored in one transaction that recreates the
//!   schema from the backup's own migrations and `COPY … FROM STDIN`s the rows.
//!
//! The two formats are told apart by their first bytes; a backup restores only into its own
//! backend. All SQL of backup and restore lives in this module's `sqlite.rs` and `postgres.rs`.

mod archive;
mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

use civgrid_ledger::witness::AddCheckpointRequest;
use serde::{Deserialize, Serialize};

use crate::db::{Backend, DatabaseUrl};
use crate::ledger::WitnessPolicy;
use crate::witness::{request_cosignature, WitnessClientError};

/// The version of both backup formats this release writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Why a backup or a restore was refused or failed. `code` is stable (scripts may match it);
/// the message says what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct BackupError {
    pub code: &'static str,
    pub message: String,
}

impl BackupError {
    pub fn new(code: &'static str, message: impl Into<String>) -> BackupError {
        BackupError { code, message: message.into() }
    }
}

fn io_error(code: &'static str, what: &str, path: &Path, e: std::io::Error) -> BackupError {
    let hint = match e.raw_os_error() {
        Some(28) => " (the disk is full: free space or back up elsewhere)",
        Some(13) | Some(1) => " (permission denied: choose a place this user may write)",
        Some(30) => " (read-only file system)",
        _ => "",
    };
    BackupError::new(code, format!("cannot {what} {}: {e}{hint}", path.display()))
}

/// What a backup says about itself: checked before a restore changes anything.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// The civgrid release that wrote it.
    pub civgrid_version: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The applied migrations (versions), oldest first.
    pub migrations: Vec<i64>,
    /// The ledger's integrated tree size in the snapshot.
    pub tree_size: u64,
    /// The newest signed checkpoint (its note, with cosignatures), if any.
    pub checkpoint: Option<String>,
    /// That checkpoint's size (0 without one).
    pub checkpoint_size: u64,
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

impl Metadata {
    fn new(backend: Backend, migrations: Vec<i64>, tree_size: u64, checkpoint: Option<(u64, String)>) -> Metadata {
        let (checkpoint_size, checkpoint) = match checkpoint {
            Some((s, n)) => (s, Some(n)),
            None => (0, None),
        };
        Metadata {
            format: FORMAT_VERSION,
            civgrid_version: env!("CARGO_PKG_VERSION").to_owned(),
            backend: backend_name(backend).to_owned(),
            created_at: crate::db::now_text(),
            migrations,
            tree_size,
            checkpoint,
            checkpoint_size,
        }
    }

    fn parse(text: &str) -> Result<Metadata, BackupError> {
        serde_json::from_str(text)
            .map_err(|e| BackupError::new("backup_corrupt", format!("the backup's metadata is unreadable: {e}")))
    }

    /// Refuses a backup this binary cannot restore: another format, another backend, or
    /// migrations this release does not know (a newer release wrote it).
    fn check(&self, target: Backend) -> Result<(), BackupError> {
        if self.format != FORMAT_VERSION {
            return Err(BackupError::new(
                "backup_newer_format",
                format!(
                    "the backup has format {} but this civgrid ({}) reads format {FORMAT_VERSION}: restore it with the release that wrote it ({})",
                    self.format,
                    env!("CARGO_PKG_VERSION"),
                    self.civgrid_version
                ),
            ));
        }
        if self.backend != backend_name(target) {
            return Err(other_backend(&self.backend, target));
        }
        let known: Vec<i64> = crate::db::migrations(target).iter().map(|m| m.version).collect();
        let unknown: Vec<String> =
            self.migrations.iter().filter(|v| !known.contains(v)).map(|v| v.to_string()).collect();
        if !unknown.is_empty() {
            return Err(BackupError::new(
                "backup_newer_release",
                format!(
                    "the backup was made by civgrid {} and holds migrations this civgrid ({}) does not know: {}; restore it with that release or a newer one",
                    self.civgrid_version,
                    env!("CARGO_PKG_VERSION"),
                    unknown.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

fn other_backend(found: &str, target: Backend) -> BackupError {
    let (want, hint) = match found {
        "sqlite" => ("SQLite", "give --database sqlite:///path/to/civgrid.db"),
        _ => ("PostgreSQL", "give --database postgres://…"),
    };
    BackupError::new(
        "backup_other_backend",
        format!(
            "this is a {want} backup and the configured database is {}: restore it into {want} ({hint}); moving between backends is not supported by restore",
            match target {
                Backend::Sqlite => "SQLite",
                Backend::Postgres => "PostgreSQL",
            }
        ),
    )
}

/// The temporary name a backup is written under; never a valid backup name.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// Removes the partial file when dropped unless [`Partial::keep`] was called: no error path
/// (nor a panic) leaves a half-written backup behind.
struct Partial {
    path: PathBuf,
    done: bool,
}

impl Partial {
    fn new(path: PathBuf) -> Partial {
        Partial { path, done: false }
    }
    fn keep(mut self) {
        self.done = true;
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Syncs a file and its directory entry (after a rename), so a finished backup survives a crash.
fn sync_file_and_dir(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// What `civgrid backup` wrote.
#[derive(Debug)]
pub struct BackupSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub metadata: Metadata,
}

/// Writes a backup of the database at `url` to `out` (refused when `out` exists, unless
/// `force`). Safe while civgrid serves and writes. On any failure no file is left at `out` and
/// the partial file is removed.
pub async fn backup(url: &DatabaseUrl, out: &Path, force: bool) -> Result<BackupSummary, BackupError> {
    if out.is_dir() {
        return Err(BackupError::new("backup_exists", format!("{} is a directory: give a file name", out.display())));
    }
    if out.exists() && !force {
        return Err(BackupError::new(
            "backup_exists",
            format!("{} exists: choose another name, or give --force to replace it", out.display()),
        ));
    }
    let partial = Partial::new(partial_path(out));
    // A partial file is ours by its name: one left by an interrupted run is stale.
    match std::fs::remove_file(&partial.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("backup_unwritable", "remove the stale", &partial.path, e)),
    }
    let metadata = match url.backend() {
        Backend::Sqlite => sqlite::backup(url, &partial.path).await?,
        Backend::Postgres => postgres::backup(url, &partial.path).await?,
    };
    std::fs::File::open(&partial.path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("backup_unwritable", "sync", &partial.path, e))?;
    std::fs::rename(&partial.path, out).map_err(|e| io_error("backup_unwritable", "rename into", out, e))?;
    partial.keep();
    sync_file_and_dir(out).map_err(|e| io_error("backup_unwritable", "sync", out, e))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(BackupSummary { path: out.to_owned(), bytes, metadata })
}

/// What kind of file a backup is, by its first bytes.
enum Kind {
    Sqlite,
    Archive,
}

fn sniff(file: &Path) -> Result<Kind, BackupError> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(file)
        .map_err(|e| BackupError::new("backup_unreadable", format!("cannot open {}: {e}", file.display())))?;
    let mut head = [0u8; 16];
    let mut got = 0;
    while got < head.len() {
        match f.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                return Err(BackupError::new("backup_unreadable", format!("cannot read {}: {e}", file.display())))
            }
        }
    }
    if &head[..got] == b"SQLite format 3\0" {
        Ok(Kind::Sqlite)
    } else if got > 0 && archive::MAGIC.as_bytes().starts_with(&head[..got]) {
        // (The magic is 16 bytes; a file cut inside it is an archive the reader calls truncated.)
        Ok(Kind::Archive)
    } else {
        Err(BackupError::new(
            "backup_foreign",
            format!("{} is not a civgrid backup (neither a SQLite backup nor a civgrid archive)", file.display()),
        ))
    }
}

/// What `civgrid restore` did.
#[derive(Debug)]
pub struct RestoreSummary {
    pub metadata: Metadata,
    /// The target held a civgrid database that was replaced.
    pub replaced: bool,
}

/// The restore's options.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// Replace a target that holds a civgrid database.
    pub replace: bool,
    /// The configured witnesses, asked what they have cosigned.
    pub witnesses: WitnessPolicy,
}

/// Restores `file` into the database at `url`. Verifies the file, that nothing serves the
/// target, that the target is empty (or `replace`), and that the restore would not roll the
/// ledger back behind the target's own checkpoint or one a witness cosigned — all before the
/// first change. Then brings the restored database up to this release's migrations.
pub async fn restore(url: &DatabaseUrl, file: &Path, opts: &RestoreOptions) -> Result<RestoreSummary, BackupError> {
    let kind = sniff(file)?;
    match (kind, url.backend()) {
        (Kind::Sqlite, Backend::Sqlite) => sqlite::restore(url, file, opts).await,
        (Kind::Archive, Backend::Postgres) => postgres::restore(url, file, opts).await,
        (Kind::Sqlite, target) => {
            // A SQLite file that is a civgrid backup is named as such; any other is foreign.
            sqlite::read_metadata(file).await?;
            Err(other_backend("sqlite", target))
        }
        (Kind::Archive, target) => {
            archive::verify(file)?;
            Err(other_backend("postgres", target))
        }
    }
}

/// The ledger's state in a target that is about to be replaced.
#[derive(Debug, Clone, Copy)]
struct TargetLedger {
    checkpoint_size: u64,
}

/// Refuses a restore that would put the ledger behind what was already published: the
/// target's own newest checkpoint, or a tree a configured witness has cosigned.
async fn check_no_fork(
    meta: &Metadata,
    target: Option<TargetLedger>,
    witnesses: &WitnessPolicy,
) -> Result<(), BackupError> {
    let n = meta.checkpoint_size;
    let forward = |m: u64| {
        format!(
            "The safe way forward: restore a newer backup that holds at least {m} ledger entries. If none exists, \
             this log cannot continue: end it and start a new log under a new origin (docs/OPERATIONS.md, \
             \"Ending a log\"). Restoring this backup anyway would fork the log: two different trees would be \
             signed for the same sizes, and every verifier holding the larger checkpoint would see it."
        )
    };
    if let Some(t) = target {
        if t.checkpoint_size > n {
            return Err(BackupError::new(
                "restore_would_fork",
                format!(
                    "the target database's ledger already has a checkpoint of size {}, the backup's newest is of size {n}: \
                     restoring would roll the log back by {} entries. {}",
                    t.checkpoint_size,
                    t.checkpoint_size - n,
                    forward(t.checkpoint_size)
                ),
            ));
        }
    }
    if witnesses.witnesses.is_empty() {
        return Ok(());
    }
    let Some(note) = &meta.checkpoint else {
        return Err(BackupError::new(
            "restore_unverifiable",
            "the backup holds no signed checkpoint, so the configured witnesses cannot be asked whether they have \
             cosigned a larger tree; restore a backup taken after the log's first checkpoint",
        ));
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| BackupError::new("internal", format!("HTTP client: {e}")))?;
    // The backup's checkpoint, claimed as the witness's own size with an empty proof: a witness
    // that has cosigned a larger tree answers 409 with its size; one at the same size with
    // another root answers 409 with that size; one at or behind this size has nothing against it.
    let req = AddCheckpointRequest { old_size: n, proof: Vec::new(), checkpoint: note.clone() };
    for w in &witnesses.witnesses {
        match request_cosignature(&client, &w.url, &req).await {
            Ok(_) => {}
            Err(WitnessClientError::Conflict { size }) if size < n => {}
            Err(WitnessClientError::Conflict { size }) if size == n => {
                return Err(BackupError::new(
                    "restore_would_fork",
                    format!(
                        "witness {} ({}) has cosigned a different tree of the same size {n} as the backup's checkpoint: \
                         this backup is not of the log the witness follows. {}",
                        w.department,
                        w.url,
                        forward(n)
                    ),
                ))
            }
            Err(WitnessClientError::Conflict { size }) => {
                return Err(BackupError::new(
                    "restore_would_fork",
                    format!(
                        "witness {} ({}) has already cosigned a checkpoint of size {size}, the backup's newest is of size {n}: \
                         restoring would roll the log back by {} entries behind what the witness vouched for. {}",
                        w.department,
                        w.url,
                        size - n,
                        forward(size)
                    ),
                ))
            }
            Err(e) => {
                return Err(BackupError::new(
                    "restore_witness_unavailable",
                    format!(
                        "witness {} ({}) could not be asked what it has cosigned ({e}); without its answer the restore \
                         might fork the log. Make it reachable and retry (only if you know it has cosigned nothing \
                         beyond size {n}, leave it out of ledger_witnesses for this command)",
                        w.department, w.url
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// The lock file beside a SQLite database that serving processes hold shared and a restore
/// holds exclusively.
fn lock_path(db_file: &Path) -> PathBuf {
    let mut name = db_file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db_file.with_file_name(name)
}

/// The file of a SQLite URL (None for an in-memory database).
fn sqlite_file(url: &DatabaseUrl) -> Option<PathBuf> {
    let s = url.as_str().trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let s = s.split('?').next().unwrap_or(s);
    (!s.is_empty() && !s.contains(":memory:")).then(|| PathBuf::from(s))
}

/// Taken by `serve` and `demo` for as long as they run: on SQLite a shared lock on
/// `DATABASE.lock`, so that `civgrid restore` (which takes it exclusively) refuses to swap the
/// file under a running server, and a server does not start during a restore. PostgreSQL needs
/// none (a restore looks for other civgrid sessions instead).
pub fn serving_lock(url: &DatabaseUrl) -> anyhow::Result<Option<std::fs::File>> {
    let Some(file) = (url.backend() == Backend::Sqlite).then(|| sqlite_file(url)).flatten() else {
        return Ok(None);
    };
    let path = lock_path(&file);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", path.display()))?;
    match lock.try_lock_shared() {
        Ok(()) => Ok(Some(lock)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "a restore of {} is running ({} is locked): wait for it to finish",
            file.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => anyhow::bail!("cannot lock {}: {e}", path.display()),
    }
}

/// Brings a restored database up to this release's migrations (the upgrade path).
async fn upgrade(url: &DatabaseUrl) -> Result<(), BackupError> {
    let fail = |e: anyhow::Error| {
        BackupError::new("restore_migrate_failed", format!("restored, but migrating to this release failed: {e:#}"))
    };
    let db = crate::db::Db::connect(url, 1).await.map_err(fail)?;
    let migrated = db.migrate().await;
    db.close().await;
    migrated.map_err(fail)
}
