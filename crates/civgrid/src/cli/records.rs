//! The commands over the records: `audit` and `import`.

use super::{explain, os_user, require_url, Cli, ImportCommand};
use crate::audit::Actor;
use crate::territory::{ExistingGrids, Territory};
use crate::{app, telemetry};

/// `civgrid audit`: exit status 1 when anything is found.
pub(super) async fn audit(cli: &Cli, json: bool) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let url = require_url(&settings)?;
    let db = app::open_database(&url, &settings).await?;
    let ledger =
        crate::ledger::Ledger::new(db.clone(), app::ledger_keys(&db, &settings)?, settings.ledger_witnesses.clone());
    // Every module whose records the ledger logs contributes its record set here.
    let mut sets = vec![crate::cases::trace::records(&db).await?];
    sets.extend(crate::certificates::Certificates::records(&db).await?);
    sets.extend(crate::services::trace::records(&db).await?);
    let report = crate::ledger::audit::audit(&ledger, &sets).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "audited {} records, {} entries, {} tree nodes, {} checkpoints (tree size {})",
            report.records_checked,
            report.entries_checked,
            report.nodes_checked,
            report.checkpoints_checked,
            report.tree_size
        );
        for k in &report.kinds_not_audited {
            println!("  note: entries of kind {k} have no record owner here and were not compared");
        }
        for f in &report.findings {
            let what = match (&f.kind, &f.reference) {
                (Some(k), Some(r)) => format!("{k} {r}: "),
                _ => String::new(),
            };
            println!("  {:<26} {what}{}", f.code, f.detail);
        }
        println!(
            "{}",
            if report.is_clean() { "clean: records, entries, tree and checkpoints agree" } else { "TAMPERING FOUND" }
        );
    }
    db.close().await;
    if !report.is_clean() {
        std::process::exit(1);
    }
    Ok(())
}

/// `civgrid import …`.
pub(super) async fn import(cli: &Cli, cmd: &ImportCommand) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let url = require_url(&settings)?;
    let db = app::open_database(&url, &settings).await?;
    let territory = Territory::new(db);
    let actor = Actor::cli(&os_user());
    match cmd {
        ImportCommand::District { file, code, name, datum } => {
            let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            territory.create_district(&actor, code, name, &bytes, *datum, None).await.map_err(explain)?;
            println!("district {code} {name} created");
        }
        ImportCommand::Grids { file, datum, replace } => {
            let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let existing = if *replace { ExistingGrids::Replace } else { ExistingGrids::Refuse };
            let s = territory.import_grids(&actor, &bytes, *datum, existing, None).await.map_err(explain)?;
            println!(
                "imported: {} grids created, {} replaced, {} areas created (territory revision {})",
                s.created, s.replaced, s.areas_created, s.revision
            );
        }
        ImportCommand::Roster { files, passwords_out } => {
            let db = territory.db().clone();
            super::roster::run(db, settings.session_ttl_hours, files, passwords_out.as_deref()).await?;
        }
    }
    Ok(())
}
