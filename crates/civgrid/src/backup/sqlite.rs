//! SQLite backup and restore. The SQL here runs on plain `SqliteConnection`s: the snapshot
//! through the serving database's own file (read-only), the metadata on the copy.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

use super::{
    check_no_fork, io_error, lock_path, sqlite_file, BackupError, Metadata, Partial, RestoreOptions, RestoreSummary,
    TargetLedger,
};
use crate::db::{Backend, DatabaseUrl};

fn db_error(code: &'static str, what: &str, e: sqlx::Error) -> BackupError {
    BackupError::new(code, format!("{what}: {e}"))
}

async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10))
        .connect()
        .await
}

/// `VACUUM INTO` `partial`, then the metadata table and `quick_check` on the copy.
pub(super) async fn backup(url: &DatabaseUrl, partial: &Path) -> Result<Metadata, BackupError> {
    let Some(source) = sqlite_file(url) else {
        return Err(BackupError::new("backup_no_database", "an in-memory database cannot be backed up"));
    };
    if !source.is_file() {
        return Err(BackupError::new(
            "backup_no_database",
            format!("no database at {}: check --database", source.display()),
        ));
    }
    let mut conn = SqliteConnectOptions::from_str(url.as_str())
        .map_err(|e| db_error("backup_no_database", "bad SQLite URL", e))?
        .read_only(true)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| db_error("backup_no_database", &format!("cannot open {}", source.display()), e))?;
    let target =
        partial.to_str().ok_or_else(|| BackupError::new("backup_unwritable", "the output path is not UTF-8"))?;
    // One read transaction over the WAL: writers keep committing while the copy is made, and
    // the copy is the database as of the transaction's start.
    let vacuum = sqlx::query("vacuum into $1").bind(target).execute(&mut conn).await;
    conn.close().await.ok();
    if let Err(e) = vacuum {
        let msg = e.to_string();
        let hint = if msg.contains("full") {
            " (the disk is full: free space or back up elsewhere)"
        } else if msg.contains("unable to open") {
            " (cannot create the file there: check the folder exists and this user may write to it)"
        } else {
            ""
        };
        return Err(BackupError::new("backup_unwritable", format!("cannot write {}: {msg}{hint}", partial.display())));
    }
    let mut copy = open(partial, false).await.map_err(|e| db_error("backup_unwritable", "cannot open the copy", e))?;
    let result = describe_and_mark(&mut copy).await;
    copy.close().await.ok();
    result
}

/// Reads the copy's migrations and ledger state, adds the metadata table, checks the copy.
async fn describe_and_mark(copy: &mut SqliteConnection) -> Result<Metadata, BackupError> {
    let fail = |e: sqlx::Error| {
        let full = e.to_string().contains("full");
        BackupError::new(
            "backup_unwritable",
            format!("cannot finish the copy: {e}{}", if full { " (the disk is full)" } else { "" }),
        )
    };
    let has_migrations: bool =
        sqlx::query_scalar("select count(*) > 0 from sqlite_master where type = 'table' and name = '_sqlx_migrations'")
            .fetch_one(&mut *copy)
            .await
            .map_err(fail)?;
    if !has_migrations {
        return Err(BackupError::new("backup_not_civgrid", "the database is not a civgrid database (never migrated)"));
    }
    let migrations: Vec<i64> =
        sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
            .fetch_all(&mut *copy)
            .await
            .map_err(fail)?;
    let tree_size: i64 = sqlx::query_scalar("select size from ledger_state where id = 1")
        .fetch_optional(&mut *copy)
        .await
        .map_err(fail)?
        .unwrap_or(0);
    let checkpoint = sqlx::query("select size, note from ledger_checkpoint order by size desc limit 1")
        .fetch_optional(&mut *copy)
        .await
        .map_err(fail)?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get::<i64, _>("size")? as u64, r.try_get::<String, _>("note")?)))
        .transpose()
        .map_err(fail)?;
    let meta = Metadata::new(Backend::Sqlite, migrations, tree_size as u64, checkpoint);
    let json = serde_json::to_string(&meta).map_err(|e| BackupError::new("internal", e.to_string()))?;
    // A rollback journal, not WAL: the finished backup is one self-contained file.
    sqlx::query("pragma journal_mode = delete").execute(&mut *copy).await.map_err(fail)?;
    sqlx::query("create table civgrid_backup (format integer not null, metadata text not null)")
        .execute(&mut *copy)
        .await
        .map_err(fail)?;
    sqlx::query("insert into civgrid_backup (format, metadata) values ($1, $2)")
        .bind(meta.format as i64)
        .bind(&json)
        .execute(&mut *copy)
        .await
        .map_err(fail)?;
    quick_check(copy)
        .await
        .map_err(|e| BackupError::new("backup_unwritable", format!("the copy fails its check: {}", e.message)))?;
    Ok(meta)
}

async fn quick_check(conn: &mut SqliteConnection) -> Result<(), BackupError> {
    let rows: Vec<String> = sqlx::query_scalar("pragma quick_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| BackupError::new("backup_corrupt", format!("the backup is damaged: {e}; use another backup")))?;
    if rows != ["ok"] {
        return Err(BackupError::new(
            "backup_corrupt",
            format!("the backup is damaged (quick_check: {}); use another backup", rows.join("; ")),
        ));
    }
    Ok(())
}

/// The length a SQLite file's header promises, when the header says it is valid.
fn promised_len(file: &Path) -> std::io::Result<Option<u64>> {
    use std::io::Read as _;
    let mut h = [0u8; 100];
    let mut f = std::fs::File::open(file)?;
    if f.read(&mut h)? < 100 {
        return Ok(Some(u64::MAX));
    }
    let page = match u16::from_be_bytes([h[16], h[17]]) {
        1 => 65_536u64,
        p => u64::from(p),
    };
    let pages = u64::from(u32::from_be_bytes([h[28], h[29], h[30], h[31]]));
    // The in-header size is valid only when the change counter matches version-valid-for.
    Ok((h[24..28] == h[92..96]).then_some(page * pages))
}

/// Opens a file that starts like SQLite and reads its civgrid metadata (a foreign or damaged
/// file is refused with its reason).
pub(super) async fn read_metadata(file: &Path) -> Result<(SqliteConnection, Metadata), BackupError> {
    let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if promised_len(file).ok().flatten().is_some_and(|want| len < want) {
        return Err(BackupError::new(
            "backup_truncated",
            format!(
                "{} is shorter than its header says (truncated: an interrupted copy?); use a complete backup",
                file.display()
            ),
        ));
    }
    let mut conn = open(file, true)
        .await
        .map_err(|e| BackupError::new("backup_corrupt", format!("cannot open {} as SQLite: {e}", file.display())))?;
    let marked: Result<bool, sqlx::Error> =
        sqlx::query_scalar("select count(*) > 0 from sqlite_master where type = 'table' and name = 'civgrid_backup'")
            .fetch_one(&mut conn)
            .await;
    match marked {
        Ok(true) => {}
        Ok(false) => {
            return Err(BackupError::new(
                "backup_foreign",
                format!("{} is a SQLite database but not a civgrid backup (made by `civgrid backup`)", file.display()),
            ))
        }
        Err(e) => return Err(BackupError::new("backup_corrupt", format!("{} is damaged: {e}", file.display()))),
    }
    let text: Option<String> = sqlx::query_scalar("select metadata from civgrid_backup limit 1")
        .fetch_optional(&mut conn)
        .await
        .map_err(|e| BackupError::new("backup_corrupt", format!("{} is damaged: {e}", file.display())))?;
    let meta = Metadata::parse(&text.unwrap_or_default())?;
    Ok((conn, meta))
}

/// The backup's migrations must be this release's, byte for byte (a later `migrate` compares
/// the checksums and would refuse the restored database otherwise).
async fn check_checksums(conn: &mut SqliteConnection) -> Result<(), BackupError> {
    let rows = sqlx::query("select version, checksum from _sqlx_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| BackupError::new("backup_corrupt", format!("cannot read the backup's migrations: {e}")))?;
    let known = crate::db::migrations(Backend::Sqlite);
    for r in rows {
        let version: i64 = r.try_get("version").unwrap_or_default();
        let sum: Vec<u8> = r.try_get("checksum").unwrap_or_default();
        if let Some(m) = known.iter().find(|m| m.version == version) {
            if *m.checksum != *sum {
                return Err(BackupError::new(
                    "backup_migration_mismatch",
                    format!("the backup's migration {version} differs from this release's: it was not made by a civgrid release"),
                ));
            }
        }
    }
    Ok(())
}

/// What the target file holds: nothing, or a database with (perhaps) a ledger.
async fn inspect_target(file: &Path) -> Result<Option<TargetLedger>, BackupError> {
    if std::fs::metadata(file).map(|m| m.len() == 0).unwrap_or(true) {
        return Ok(None);
    }
    let mut conn = open(file, true).await.map_err(|e| {
        BackupError::new("restore_target_unreadable", format!("cannot open the target {}: {e}", file.display()))
    })?;
    let tables: i64 = sqlx::query_scalar("select count(*) from sqlite_master where type = 'table'")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| BackupError::new("restore_target_unreadable", format!("cannot read the target: {e}")))?;
    if tables == 0 {
        conn.close().await.ok();
        return Ok(None);
    }
    let size: Option<i64> =
        sqlx::query_scalar("select max(size) from ledger_checkpoint").fetch_one(&mut conn).await.unwrap_or(None);
    conn.close().await.ok();
    Ok(Some(TargetLedger { checkpoint_size: size.unwrap_or(0) as u64 }))
}

pub(super) async fn restore(
    url: &DatabaseUrl,
    file: &Path,
    opts: &RestoreOptions,
) -> Result<RestoreSummary, BackupError> {
    let (mut conn, meta) = read_metadata(file).await?;
    let checked = async {
        meta.check(Backend::Sqlite)?;
        check_checksums(&mut conn).await?;
        quick_check(&mut conn).await
    }
    .await;
    conn.close().await.ok();
    checked?;
    let Some(target) = sqlite_file(url) else {
        return Err(BackupError::new("restore_target_unreadable", "cannot restore into an in-memory database"));
    };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(BackupError::new(
            "restore_target_unreadable",
            format!("the folder {} does not exist: create it first", dir.display()),
        ));
    }
    let lock_file = lock_path(&target);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_file)
        .map_err(|e| io_error("restore_target_unreadable", "open the lock file", &lock_file, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(BackupError::new(
                "restore_target_in_use",
                format!(
                    "a civgrid server is serving {} (it holds {}): stop it (systemctl stop civgrid) and retry",
                    target.display(),
                    lock_file.display()
                ),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(io_error("restore_target_unreadable", "lock", &lock_file, e));
        }
    }
    let existing = inspect_target(&target).await?;
    if existing.is_some() && !opts.replace {
        return Err(BackupError::new(
            "restore_target_not_empty",
            format!(
                "{} already holds a database: give --replace to replace it (back it up first), or restore elsewhere",
                target.display()
            ),
        ));
    }
    check_no_fork(&meta, existing, &opts.witnesses).await?;

    // The copy goes beside the target (same file system, so the rename is atomic), is made a
    // plain civgrid database and synced, and only then replaces the target.
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".restore.partial");
    let partial = Partial::new(target.with_file_name(name));
    let _ = std::fs::remove_file(&partial.path);
    std::fs::copy(file, &partial.path)
        .map_err(|e| io_error("restore_unwritable", "copy the backup to", &partial.path, e))?;
    let mut copy =
        open(&partial.path, false).await.map_err(|e| db_error("restore_unwritable", "cannot open the copy", e))?;
    let unmark = sqlx::query("drop table civgrid_backup").execute(&mut copy).await;
    copy.close().await.ok();
    unmark.map_err(|e| db_error("restore_unwritable", "cannot prepare the copy", e))?;
    std::fs::File::open(&partial.path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("restore_unwritable", "sync", &partial.path, e))?;
    // The old database's WAL and shared memory must not be applied to the new file.
    for suffix in ["-wal", "-shm"] {
        let mut n = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        n.push(suffix);
        match std::fs::remove_file(target.with_file_name(n)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("restore_unwritable", "remove the old", &target, e)),
        }
    }
    std::fs::rename(&partial.path, &target).map_err(|e| io_error("restore_unwritable", "rename into", &target, e))?;
    partial.keep();
    super::sync_file_and_dir(&target).map_err(|e| io_error("restore_unwritable", "sync", &target, e))?;
    super::upgrade(url).await?;
    drop(lock);
    Ok(RestoreSummary { metadata: meta, replaced: existing.is_some() })
}
