//! `civgrid backup` and `civgrid restore` (the work is in crate::backup).

use std::path::Path;

use super::{require_url, Cli};
use crate::backup::{self, RestoreOptions};
use crate::telemetry;

/// `civgrid backup --out FILE [--force]`. Ctrl-C stops it and removes the partial file.
pub(super) async fn backup(cli: &Cli, out: &Path, force: bool) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let url = require_url(&settings)?;
    let started = std::time::Instant::now();
    let summary = tokio::select! {
        r = backup::backup(&url, out, force) => r?,
        // Dropping the backup's future removes its partial file (see backup::Partial).
        _ = tokio::signal::ctrl_c() => anyhow::bail!("backup_interrupted: interrupted; no backup was written"),
    };
    let m = &summary.metadata;
    println!(
        "backup of {} written to {} ({} bytes, {:.1} s): {} migrations, ledger tree size {}, newest checkpoint size {}",
        url.redacted(),
        summary.path.display(),
        summary.bytes,
        started.elapsed().as_secs_f64(),
        m.migrations.len(),
        m.tree_size,
        m.checkpoint_size
    );
    Ok(())
}

/// `civgrid restore FILE [--replace]`.
pub(super) async fn restore(cli: &Cli, file: &Path, replace: bool) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let url = require_url(&settings)?;
    let started = std::time::Instant::now();
    let opts = RestoreOptions { replace, witnesses: settings.ledger_witnesses.clone() };
    let summary = backup::restore(&url, file, &opts).await?;
    let m = &summary.metadata;
    println!(
        "restored {} (civgrid {}, taken {}) into {}{} in {:.1} s: ledger tree size {}, newest checkpoint size {}; \
         migrated to this release. Now run `civgrid audit`.",
        file.display(),
        m.civgrid_version,
        m.created_at,
        url.redacted(),
        if summary.replaced { " (replacing its database)" } else { "" },
        started.elapsed().as_secs_f64(),
        m.tree_size,
        m.checkpoint_size
    );
    Ok(())
}
