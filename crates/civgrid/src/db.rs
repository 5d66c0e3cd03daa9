//! The database handle shared by every store: one `AnyPool` over SQLite (the embedded default)
//! or PostgreSQL (for several nodes), chosen by the URL scheme in exactly one place.
//!
//! Queries are written once in the dialect both backends accept (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`), using only the types the Any driver carries (i64, f64, String). Migrations
//! live in two directories, `migrations/sqlite` and `migrations/postgres`, kept in step.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Transaction};

/// Which engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Why a database URL was refused before any connection was tried.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UrlError {
    #[error("database URL is empty")]
    Empty,
    #[error("database URL must start with sqlite:// or postgres:// (got `{0}`)")]
    UnsupportedScheme(String),
}

/// A validated database URL.
#[derive(Debug, Clone, PartialEq)]
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
    url: DatabaseUrl,
}

pub type Tx<'a> = Transaction<'a, sqlx::Any>;

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
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if url_is_sqlite(conn.backend_name()) {
                        // WAL lets readers proceed while the single writer commits; foreign
                        // keys are on by default in sqlx's SQLite driver.
                        sqlx::query("pragma journal_mode = wal").execute(&mut *conn).await?;
                        sqlx::query("pragma busy_timeout = 10000").execute(&mut *conn).await?;
                        sqlx::query("pragma foreign_keys = on").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url_text)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", url.redacted()))?;
        Ok(Db { pool, backend: url.backend, url: url.clone() })
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&self.pool).await?;
        Ok(())
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

    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        self.pool.begin().await
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
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
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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

    #[test]
    fn passwords_are_redacted() {
        let u: DatabaseUrl = "postgres://civ:secret@db:5432/civ".parse().unwrap();
        assert_eq!(u.redacted(), "postgres://civ:***@db:5432/civ");
    }
}
