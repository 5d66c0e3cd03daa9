//! `civgrid migrate [--check]`: apply this release's migrations, or list the pending ones.

use super::{require_url, Cli, Exit};
use crate::db::{Backend, DatabaseUrl, Db};
use crate::{app, telemetry};

/// `migrate --check`'s status when migrations are pending: distinct from 1 (an error, including
/// a database another release migrated) and 2 (a usage error, from clap), so an upgrade script
/// can tell "upgrade needed" from "cannot tell".
pub const PENDING: u8 = 3;

pub(super) async fn run(cli: &Cli, check: bool) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let url = require_url(&settings)?;
    if !check {
        app::open_database(&url, &settings).await?;
        println!("migrations applied to {}", url.redacted());
        return Ok(());
    }
    let db = Db::connect(&existing(&url)?, settings.db_max_connections).await?;
    let status = db.migration_status().await;
    db.close().await;
    let status = status?;
    status.refuse_foreign().map_err(|e| anyhow::anyhow!("{}: {e}", url.redacted()))?;
    let release = env!("CARGO_PKG_VERSION");
    if status.pending.is_empty() {
        println!(
            "no pending migrations: {} is up to date with civgrid {release} ({} applied)",
            url.redacted(),
            status.applied
        );
        return Ok(());
    }
    println!("{} migration(s) of civgrid {release} pending on {}:", status.pending.len(), url.redacted());
    for m in &status.pending {
        println!("  {}  {}", m.version, m.description);
    }
    println!("back up the database, then run `civgrid migrate` (or start `civgrid serve`) to apply them");
    Err(Exit(PENDING).into())
}

/// `--check` applies nothing and creates no database: a mistyped SQLite path is an error rather
/// than a new empty file. (Opening an existing file sets it to WAL mode, as every command does;
/// a read-only connection cannot, and would refuse a file in another journal mode, such as a
/// copy made with `VACUUM INTO`.)
fn existing(url: &DatabaseUrl) -> anyhow::Result<DatabaseUrl> {
    if url.backend() != Backend::Sqlite || url.as_str().contains(":memory:") {
        return Ok(url.clone());
    }
    let path = url.as_str().trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if !std::path::Path::new(path).exists() {
        anyhow::bail!(
            "no database at {path}: nothing to check (`civgrid migrate` creates and migrates it; check database_url)"
        );
    }
    Ok(url.clone())
}
