//! The database handle shared by every store: one `AnyPool` over SQLite (the embedded default)
//! or PostgreSQL (for several nodes), chosen by the URL scheme in exactly one place.
//!
//! Queries are written once in the dialect both backends accept; every place where the two
//! differ is a method of [`Dialect`] (see `dialect.rs`). Migrations live in two directories,
//! `migrations/sqlite` and `migrations/postgres`; the tests check that the two migrated schemas
//! agree and that a released migration never changes (`migrations/RELEASED.sha256`).

mod dialect;
mod row;

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};

pub use dialect::{Dialect, LocalTime};
pub use row::{at, at_opt, at_text, flag, parse_at};

/// Which engine a URL points at: its [`Dialect`].
pub type Backend = Dialect;

/// Why a database URL was refused before any connection was tried.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UrlError {
    #[error("database URL is empty")]
    Empty,
    #[error("database URL must start with sqlite:// or postgres:// (got `{0}`)")]
    UnsupportedScheme(String),
}

/// A validated database URL. `Debug` shows it [`redacted`](DatabaseUrl::redacted).
#[derive(Clone, PartialEq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }
    pub fn as_str(&self) -> &str {
        &self.url
    }
    /// The URL with any password replaced, for logs and start-up banners.
    pub fn redacted(&self) -> String {
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &self.url[s + 3..at];
                match creds.find(':') {
                    Some(c) => format!("{}{}:***{}", &self.url[..s + 3], &creds[..c], &self.url[at..]),
                    None => self.url.clone(),
                }
            }
            _ => self.url.clone(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseUrl").field("url", &self.redacted()).field("backend", &self.backend).finish()
    }
}

impl FromStr for DatabaseUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(UrlError::Empty);
        }
        let backend = if s.starts_with("sqlite:") {
            Backend::Sqlite
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            let scheme = s.split(':').next().unwrap_or(s);
            return Err(UrlError::UnsupportedScheme(scheme.to_owned()));
        };
        Ok(DatabaseUrl { url: s.to_owned(), backend })
    }
}

/// The pool plus the backend it talks to.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Shared: every service holds a clone of the handle, and the router clones them all per request.
    url: std::sync::Arc<DatabaseUrl>,
    /// SQLite only: the queue of the group committer (see [`Db::write`]).
    writes: Option<mpsc::Sender<Job>>,
    /// SQLite only: the group committer's own one-connection pool.
    writer: Option<AnyPool>,
}

pub type Tx<'a> = Transaction<'a, sqlx::Any>;

/// A boxed, sendable future (the shape of work handed to [`Db::write`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Told, after the group's commit, whether its work is durable.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One caller's work inside the group transaction: runs, says whether it succeeded (so its
/// savepoint is kept or rolled back), and hands back what to do once the commit is known.
type Job = Box<dyn for<'t> FnOnce(&'t mut Tx<'static>) -> BoxFuture<'t, (bool, Finish)> + Send>;

/// Longest the SQLite WAL file stays once the checkpointer has caught up (see `checkpoint_wal`).
pub const WAL_SIZE_LIMIT: u64 = 16 * 1024 * 1024;

/// Most units of work committed together (bounds a group's latency).
const MAX_GROUP: usize = 256;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects without migrating. SQLite files are created when missing.
    pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let mut url_text = url.as_str().to_owned();
        if url.backend == Backend::Sqlite && !url_text.contains("mode=") && !url_text.contains(":memory:") {
            url_text.push(if url_text.contains('?') { '&' } else { '?' });
            url_text.push_str("mode=rwc");
        }
        let pool = pool_options(max_connections)
            .connect(&url_text)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", url.redacted()))?;
        let activity = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (writes, writer) = if url.backend == Backend::Sqlite {
            let (tx, rx) = mpsc::channel(4 * MAX_GROUP);
            // The committer always writes through the same connection: SQLite drops a
            // connection's page cache whenever another connection committed since its last
            // transaction, so a committer taking any connection of the pool would re-read the
            // pages it had just written on most groups.
            // (An in-memory database exists once per connection: there the pool must do.)
            let committer = if url_text.contains(":memory:") {
                pool.clone()
            } else {
                pool_options(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect(&url_text)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", url.redacted()))?
            };
            let writer = committer.clone();
            // The committer drives one statement after another; on a thread of its own it is
            // woken at once instead of queueing behind every request task at each step.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let groups = activity.clone();
            std::thread::Builder::new()
                .name("civgrid-commit".into())
                .spawn(move || runtime.block_on(group_commit(committer, rx, groups)))?;
            let checkpointer = pool.clone();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let quiet = activity.clone();
            std::thread::Builder::new()
                .name("civgrid-checkpoint".into())
                .spawn(move || runtime.block_on(checkpoint_wal(checkpointer, quiet)))?;
            (Some(tx), Some(writer))
        } else {
            (None, None)
        };
        Ok(Db { pool, backend: url.backend, url: std::sync::Arc::new(url.clone()), writes, writer })
    }

    /// Runs `work` in a write transaction and returns its result only once that transaction is
    /// committed (durably, with the pool's `synchronous` setting); an `Err` from `work` writes
    /// nothing. This is the one write path: every transaction that writes is a unit of work
    /// given here (reads that need one snapshot use [`Db::begin_read`]).
    ///
    /// `work` runs on the committer (SQLite), so it must not call `write` itself — the
    /// committer would wait for itself — nor do slow work that is not the database's
    /// (hash passwords, call out) before it returns.
    ///
    /// On PostgreSQL this is one transaction per call: the server already shares one WAL flush
    /// among transactions that commit together. SQLite has one writer and flushes its WAL once
    /// per commit, so there the calls are *group committed*: a single task takes every unit of
    /// work waiting (up to 256), runs each inside its own savepoint of one `BEGIN IMMEDIATE`
    /// transaction (a failing unit rolls back to its savepoint and affects no other), commits
    /// once, and only then answers each caller. A failed commit fails every unit of the group.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx<'static>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        let Some(queue) = &self.writes else {
            let mut tx = self.pool.begin().await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            return Ok(value);
        };
        let (done, answer) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let result = work(tx).await;
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit| {
                    let out = match (result, commit) {
                        (Ok(v), Ok(())) => Ok(v),
                        (Ok(_), Err(e)) => Err(E::from(group_error(&e))),
                        (Err(e), _) => Err(e),
                    };
                    let _ = done.send(out);
                });
                (ok, finish)
            })
        });
        queue.send(job).await.map_err(|_| E::from(group_error("the group committer has stopped")))?;
        answer.await.map_err(|_| E::from(group_error("the write was dropped before commit (see the log)")))?
    }

    /// Applies the embedded migrations of this backend, after refusing a database that another
    /// release migrated (see [`MigrationStatus::refuse_foreign`]): sqlx's own errors name one
    /// version and no way forward.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.migration_status().await?.refuse_foreign()?;
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        migrator_of(self.backend)
    }

    /// Compares the migrations applied to this database with those this binary carries;
    /// changes nothing (a database never migrated has every migration pending).
    pub async fn migration_status(&self) -> anyhow::Result<MigrationStatus> {
        // sqlx keeps its record in `_sqlx_migrations`, created by the first `migrate`.
        let exists_sql = match self.backend {
            Backend::Sqlite => "select count(*) from sqlite_master where type = 'table' and name = '_sqlx_migrations'",
            Backend::Postgres => {
                "select count(*) from information_schema.tables \
                 where table_schema = current_schema() and table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(&self.pool).await?;
        let applied: Vec<(i64, String, Vec<u8>, i64)> = if exists > 0 {
            sqlx::query_as(
                "select version, description, checksum, cast(case when success then 1 else 0 end as bigint) \
                 from _sqlx_migrations order by version",
            )
            .fetch_all(&self.pool)
            .await?
        } else {
            Vec::new()
        };
        let known: Vec<&sqlx::migrate::Migration> =
            self.migrator().iter().filter(|m| !m.migration_type.is_down_migration()).collect();
        let mut status = MigrationStatus { applied: applied.len(), ..MigrationStatus::default() };
        for (version, description, checksum, success) in &applied {
            let info = MigrationInfo { version: *version, description: description.clone() };
            match known.iter().find(|m| m.version == *version) {
                None => status.unknown.push(info),
                Some(m) if m.checksum.as_ref() != checksum.as_slice() => status.modified.push(info),
                Some(_) if *success == 0 => status.unfinished.push(info),
                Some(_) => {}
            }
        }
        for m in known {
            if !applied.iter().any(|(v, ..)| *v == m.version) {
                status.pending.push(MigrationInfo { version: m.version, description: m.description.to_string() });
            }
        }
        Ok(status)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL this pool was opened with (for side connections such as LISTEN).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Begins a transaction that only reads (one consistent snapshot; takes no write lock).
    pub async fn begin_read(&self) -> Result<Tx<'static>, sqlx::Error> {
        self.pool.begin().await
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// This release's embedded migrations of `backend`, oldest first (backups name the ones they
/// hold; a restore recreates a PostgreSQL schema from them).
pub fn migrations(backend: Backend) -> &'static [sqlx::migrate::Migration] {
    &migrator_of(backend).migrations
}

/// The one place that picks a backend's embedded migrator.
fn migrator_of(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
    }
}

/// One migration: its version (the file's timestamp) and description (the rest of its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub description: String,
}

impl std::fmt::Display for MigrationInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.version, self.description)
    }
}

/// How a database's applied migrations compare with this binary's.
#[derive(Debug, Default)]
pub struct MigrationStatus {
    /// How many migrations the database records as applied.
    pub applied: usize,
    /// This binary's migrations the database has not had yet, oldest first.
    pub pending: Vec<MigrationInfo>,
    /// Applied, but not carried by this binary: a newer release migrated the database.
    pub unknown: Vec<MigrationInfo>,
    /// Applied from a file whose checksum differs from this binary's.
    pub modified: Vec<MigrationInfo>,
    /// Recorded as failed part-way.
    pub unfinished: Vec<MigrationInfo>,
}

/// A database this binary must not touch, with the versions and the way forward.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ForeignMigrations(String);

impl MigrationStatus {
    /// Refuses a database that this release cannot safely read or migrate. Running on would
    /// either fail part-way through sqlx's checks or, worse, serve a schema the code does not
    /// expect; nothing is changed before this check.
    pub fn refuse_foreign(&self) -> Result<(), ForeignMigrations> {
        let release = env!("CARGO_PKG_VERSION");
        let list = |v: &[MigrationInfo]| v.iter().map(|m| format!("\n  {m}")).collect::<String>();
        let mut text = String::new();
        if !self.unknown.is_empty() {
            text.push_str(&format!(
                "the database has migrations that civgrid {release} does not know:{}\n\
                 a newer civgrid release upgraded it. Run that release (or a newer one) against it, \
                 or restore the backup taken before the upgrade; civgrid never downgrades a database.\n",
                list(&self.unknown)
            ));
        }
        if !self.modified.is_empty() {
            text.push_str(&format!(
                "the database has migrations that differ from the ones released with civgrid {release}:{}\n\
                 it was migrated by a build with edited migration files. Restore a backup made by a \
                 released civgrid, or migrate a copy with the release that made it.\n",
                list(&self.modified)
            ));
        }
        if !self.unfinished.is_empty() {
            text.push_str(&format!(
                "the database records migrations that failed part-way:{}\n\
                 restore the backup taken before the upgrade and run `civgrid migrate` again.\n",
                list(&self.unfinished)
            ));
        }
        if text.is_empty() {
            return Ok(());
        }
        text.push_str("Nothing was changed.");
        Err(ForeignMigrations(text))
    }
}

/// The options of every pool: its size, and the settings each new SQLite connection gets.
fn pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings every connection it hands out by default: one extra round trip per
        // query on PostgreSQL (a report makes several). A connection that broke is found
        // by its first query instead, which fails and is closed rather than reused.
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if url_is_sqlite(conn.backend_name()) {
                    // WAL lets readers proceed while the single writer commits; foreign
                    // keys are on by default in sqlx's SQLite driver.
                    sqlx::query("pragma journal_mode = wal").execute(&mut *conn).await?;
                    sqlx::query("pragma busy_timeout = 10000").execute(&mut *conn).await?;
                    sqlx::query("pragma foreign_keys = on").execute(&mut *conn).await?;
                    // Statement journals of savepoints (group commit) stay in memory; this
                    // touches no durability: the database and its WAL are synced as before.
                    sqlx::query("pragma temp_store = memory").execute(&mut *conn).await?;
                    // No checkpoint inside a commit: the connection that commits past 1,000
                    // WAL pages would copy them into the database and sync it before
                    // answering (tens of milliseconds at the tail of every writer's
                    // latency). A thread of the pool checkpoints instead (see below).
                    sqlx::query("pragma wal_autocheckpoint = 0").execute(&mut *conn).await?;
                } else {
                    // Names the session in pg_stat_activity, so `civgrid restore` can see a
                    // civgrid process on the same database and schema (see backup/postgres.rs).
                    sqlx::query(
                        "select set_config('application_name', 'civgrid/' || coalesce(current_schema(), ''), false)",
                    )
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            })
        })
}

fn group_error(why: &str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!("group commit: {why}")))
}

/// The SQLite group committer: one write transaction per group of waiting units of work.
async fn group_commit(
    pool: AnyPool,
    mut queue: mpsc::Receiver<Job>,
    activity: std::sync::Arc<std::sync::atomic::AtomicU64>,
) {
    while let Some(first) = queue.recv().await {
        activity.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("civgrid_group_commit_size").record(group.len() as f64);
        // Dropping a job unrun makes its caller fail with "dropped before commit".
        let mut tx = match pool.begin_with("begin immediate").await {
            Ok(tx) => tx,
            Err(e) => {
                tracing::warn!(error = %e, units = group.len(), "group commit could not begin");
                continue;
            }
        };
        let mut finishes: Vec<Finish> = Vec::with_capacity(group.len());
        let mut broken: Option<String> = None;
        // Each unit runs between `savepoint unit` and `release unit` (after `rollback to unit`
        // when it failed); the end of one unit and the start of the next go in one round trip.
        let units = group.len();
        let mut opening: &str = "savepoint unit";
        for (i, job) in group.into_iter().enumerate() {
            if broken.is_some() {
                continue;
            }
            if let Err(e) = sqlx::query(opening).execute(&mut *tx).await {
                broken = Some(e.to_string());
                continue;
            }
            let (ok, finish) = job(&mut tx).await;
            finishes.push(finish);
            let last = i + 1 == units;
            opening = match (ok, last) {
                (true, false) => "release unit; savepoint unit",
                (false, false) => "rollback to unit; release unit; savepoint unit",
                (true, true) => "release unit",
                (false, true) => "rollback to unit; release unit",
            };
            if last {
                if let Err(e) = sqlx::query(opening).execute(&mut *tx).await {
                    broken = Some(e.to_string());
                }
            }
        }
        let outcome = match broken {
            Some(e) => {
                let _ = tx.rollback().await;
                tracing::warn!(error = %e, "group commit abandoned");
                Err(e)
            }
            None => tx.commit().await.map_err(|e| {
                tracing::warn!(error = %e, "group commit failed");
                e.to_string()
            }),
        };
        for finish in finishes {
            finish(outcome.clone());
        }
    }
}

/// Copies the SQLite WAL into the database every 200 ms, beside the writers rather than inside
/// one of their commits (`wal_autocheckpoint` is off). PASSIVE never waits for a reader or a
/// writer; what it cannot copy yet it copies the next time. Ends when the pool is closed.
///
/// The WAL file never shrinks by itself (200 MB were seen after a burst). In a quiet moment —
/// no write begun or committed on this node since the previous pass — when a pass has copied
/// every frame of a WAL longer than [`WAL_SIZE_LIMIT`], a TRUNCATE checkpoint empties the file:
/// with nothing left to copy it only waits for the readers of older snapshots. Never under
/// load: TRUNCATE holds writers back while it waits, which cut intake by a third when it ran
/// whenever the WAL passed the limit.
async fn checkpoint_wal(pool: AnyPool, activity: std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let mut seen = activity.load(std::sync::atomic::Ordering::Relaxed);
    while !pool.is_closed() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if pool.is_closed() {
            break;
        }
        let now = activity.load(std::sync::atomic::Ordering::Relaxed);
        let quiet = now == seen;
        seen = now;
        match sqlx::query_as::<_, (i64, i64, i64)>("pragma wal_checkpoint(passive)").fetch_one(&pool).await {
            Ok((0, frames, copied)) if quiet && frames == copied && frames > wal_limit_frames(&pool).await => {
                if let Err(e) = sqlx::query("pragma wal_checkpoint(truncate)").execute(&pool).await {
                    tracing::debug!(error = %e, "WAL truncation failed; retrying");
                }
            }
            Ok(_) => {}
            Err(e) => {
                if !pool.is_closed() {
                    tracing::debug!(error = %e, "WAL checkpoint failed; retrying");
                }
            }
        }
    }
}

/// [`WAL_SIZE_LIMIT`] in frames of this database's page size.
async fn wal_limit_frames(pool: &AnyPool) -> i64 {
    let page: i64 = sqlx::query_scalar("pragma page_size").fetch_one(pool).await.unwrap_or(4096);
    WAL_SIZE_LIMIT as i64 / (page.max(512) + 24)
}

fn url_is_sqlite(backend_name: &str) -> bool {
    backend_name.eq_ignore_ascii_case("sqlite")
}

/// Rows touched, for updates that must hit exactly one row.
pub fn affected(r: &AnyQueryResult) -> u64 {
    r.rows_affected()
}

/// Now as the RFC 3339 UTC text every table stores.
pub fn now_text() -> String {
    at_text(&chrono::Utc::now())
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether an error is a unique or primary-key violation, on either backend.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.kind(), sqlx::error::ErrorKind::UniqueViolation),
        _ => false,
    }
}

/// Whether an error is a foreign-key violation, on either backend.
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => matches!(d.kind(), sqlx::error::ErrorKind::ForeignKeyViolation),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_classified_by_scheme() {
        assert_eq!("sqlite://x.db".parse::<DatabaseUrl>().unwrap().backend(), Backend::Sqlite);
        assert_eq!("postgres://u@h/db".parse::<DatabaseUrl>().unwrap().backend(), Backend::Postgres);
        assert_eq!("".parse::<DatabaseUrl>(), Err(UrlError::Empty));
        assert_eq!("mysql://h/db".parse::<DatabaseUrl>(), Err(UrlError::UnsupportedScheme("mysql".into())));
    }

    /// A unit that fails rolls back to its savepoint and only its caller sees the error; every
    /// other unit of the same groups is committed and acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_commit_isolates_failing_units() {
        let dir = tempfile::tempdir().unwrap();
        let url: DatabaseUrl = format!("sqlite://{}", dir.path().join("g.db").display()).parse().unwrap();
        let db = Db::connect(&url, 4).await.unwrap();
        sqlx::query("create table t (k integer primary key, note text not null)").execute(db.pool()).await.unwrap();
        let mut handles = Vec::new();
        for i in 0..60_i64 {
            let db = db.clone();
            handles.push(tokio::spawn(async move {
                db.write(move |tx| -> BoxFuture<'_, Result<i64, sqlx::Error>> {
                    Box::pin(async move {
                        // Two statements per unit; keys 40–59 collide with 0–19 on the second.
                        sqlx::query("insert into t (k, note) values ($1, 'first')")
                            .bind(1000 + i)
                            .execute(&mut **tx)
                            .await?;
                        sqlx::query("insert into t (k, note) values ($1, 'second')")
                            .bind(i % 40)
                            .execute(&mut **tx)
                            .await?;
                        Ok(i)
                    })
                })
                .await
            }));
        }
        let mut ok = Vec::new();
        let mut failed = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(i) => ok.push(i),
                Err(e) => {
                    assert!(is_unique_violation(&e), "{e}");
                    failed += 1;
                }
            }
        }
        assert_eq!(ok.len() + failed, 60);
        assert_eq!(ok.len(), 40, "each key in 0–39 is taken exactly once");
        let rows: i64 = sqlx::query_scalar("select count(*) from t").fetch_one(db.pool()).await.unwrap();
        // A failed unit leaves nothing behind, not even its first statement.
        assert_eq!(rows, 2 * ok.len() as i64);
        for i in ok {
            let first: i64 = sqlx::query_scalar("select count(*) from t where k = $1")
                .bind(1000 + i)
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(first, 1);
        }
        db.close().await;
    }

    /// After a burst of writes the WAL is cut back to its limit instead of keeping its size.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_shrinks_after_a_burst() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.db");
        let url: DatabaseUrl = format!("sqlite://{}", file.display()).parse().unwrap();
        let db = Db::connect(&url, 4).await.unwrap();
        sqlx::query("create table t (k integer primary key, v text not null)").execute(db.pool()).await.unwrap();
        let wal = dir.path().join("w.db-wal");
        // One transaction of 48 MiB: the WAL holds all of it until the commit.
        db.write(|tx| -> BoxFuture<'_, Result<(), sqlx::Error>> {
            Box::pin(async move {
                let chunk = "x".repeat(1 << 20);
                for i in 0..48_i64 {
                    sqlx::query("insert into t (k, v) values ($1, $2)").bind(i).bind(&chunk).execute(&mut **tx).await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > WAL_SIZE_LIMIT, "the burst grew the WAL past the limit: {grown}");
        // Once the node is quiet, the checkpointer copies the frames and empties the file.
        let mut size = grown;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            size = std::fs::metadata(&wal).unwrap().len();
            if size <= WAL_SIZE_LIMIT {
                break;
            }
        }
        assert!(size <= WAL_SIZE_LIMIT, "WAL still {size} bytes after the burst (limit {WAL_SIZE_LIMIT})");
        db.close().await;
    }

    #[test]
    fn passwords_are_redacted() {
        let u: DatabaseUrl = "postgres://civ:secret@db:5432/civ".parse().unwrap();
        assert_eq!(u.redacted(), "postgres://civ:***@db:5432/civ");
    }
}
