//! `civgrid import roster FILE…`: departments and staff from CSV files and XLSX workbooks, all
//! or nothing, with a report naming every wrong row.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::os_user;
use crate::audit::Actor;
use crate::db::Db;
use crate::staff::roster::{self, Problem, RosterError, MAX_ROWS};
use crate::staff::Staff;

fn refused(problems: &[Problem]) -> anyhow::Error {
    let mut text = format!("the roster was refused ({} problems); nothing was imported\n", problems.len());
    for p in problems {
        text.push_str(&format!("  {p}\n"));
    }
    anyhow::anyhow!(text)
}

/// Creates the passwords file: new (an existing file is never overwritten), readable by its
/// owner only, written and synced before the accounts exist, so no password is ever lost.
fn create_passwords_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
            "--passwords-out {}: the file exists; name a new file (an existing one is never overwritten)",
            path.display()
        ),
        _ => anyhow::anyhow!("--passwords-out {}: cannot create: {e}", path.display()),
    })
}

pub(super) async fn run(
    db: Db,
    session_ttl_hours: i64,
    files: &[PathBuf],
    passwords_out: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(p) = passwords_out.filter(|p| p.exists()) {
        anyhow::bail!(
            "--passwords-out {}: the file exists; name a new file (an existing one is never overwritten)",
            p.display()
        );
    }
    let mut rows_left = MAX_ROWS;
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match roster::read_file(f, &mut rows_left) {
            Ok(t) => tables.extend(t),
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(refused(&problems));
    }
    let parsed = roster::parse(&tables).map_err(|p| refused(&p))?;
    let staff = Staff::new(db, session_ttl_hours);
    let prepared = staff.prepare_roster(parsed, passwords_out.is_some()).await.map_err(explain)?;
    let written = match (passwords_out, prepared.passwords()) {
        (Some(path), Some(list)) => {
            let mut file = create_passwords_file(path)?;
            let mut out = csv::Writer::from_writer(Vec::new());
            out.write_record(["username", "display_name", "one_time_password"])?;
            for (u, n, p) in list {
                out.write_record([u, n, p.expose()])?;
            }
            let bytes = out.into_inner().map_err(|e| anyhow::anyhow!("passwords file: {e}"))?;
            let done = file.write_all(&bytes).and_then(|()| file.sync_all());
            if let Err(e) = done {
                let _ = std::fs::remove_file(path);
                anyhow::bail!("--passwords-out {}: cannot write: {e}; nothing was imported", path.display());
            }
            Some(path)
        }
        _ => None,
    };
    let outcome = match staff.import_roster(&Actor::cli(&os_user()), prepared).await {
        Ok(o) => o,
        Err(e) => {
            // The accounts do not exist: their passwords must not outlive them.
            if let Some(path) = written {
                let _ = std::fs::remove_file(path);
            }
            return Err(explain(e));
        }
    };
    for n in &outcome.notes {
        println!("note: {n}");
    }
    for d in &outcome.departments_skipped {
        println!("department {d}: exists with the same name and area, skipped");
    }
    println!(
        "imported: {} departments created, {} skipped; {} accounts created",
        outcome.departments_created.len(),
        outcome.departments_skipped.len(),
        outcome.accounts.len()
    );
    match written {
        Some(path) if !outcome.accounts.is_empty() => println!(
            "one-time passwords written to {} (readable by you only): hand each to its owner, then delete the \
             file. Each must be changed at first sign-in.",
            path.display()
        ),
        Some(path) => {
            let _ = std::fs::remove_file(path);
        }
        None if !outcome.accounts.is_empty() => println!(
            "the accounts have NO password yet and cannot sign in: the security administrator (安全管理员) sets a \
             one-time password for each in the workbench (or import with --passwords-out FILE)"
        ),
        None => {}
    }
    Ok(())
}

fn explain(e: RosterError) -> anyhow::Error {
    match e {
        RosterError::Refused(p) => refused(&p),
        RosterError::Staff(e) => anyhow::anyhow!("[{}] {e}; nothing was imported", e.code()),
    }
}
