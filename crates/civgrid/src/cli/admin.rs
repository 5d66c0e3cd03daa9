//! `civgrid admin …`: the first administrators of an installation, and a password reset from the
//! host when no administrator can do it.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{os_user, require_url, Cli};
use crate::audit::Actor;
use crate::secret::Secret;
use crate::staff::host::{FirstAdministrator, HostError};
use crate::staff::{password, Role, Staff};
use crate::territory::Territory;
use crate::{app, telemetry};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the three administrators of a new installation — system (admin), security
    /// (security_admin) and audit (auditor), kept apart (三权分立) — each holding its duty in the
    /// district, with a one-time password that must be changed at first sign-in. Refused when
    /// any administrator exists.
    Init {
        /// Username of the system administrator (系统管理员).
        #[arg(long, default_value = "sysadmin")]
        sysadmin: String,
        /// Username of the security administrator (安全管理员).
        #[arg(long, default_value = "secadmin")]
        secadmin: String,
        /// Username of the audit administrator (审计管理员).
        #[arg(long, default_value = "auditadmin")]
        auditadmin: String,
        /// Take the passwords from files instead of generating them: DIR/<username>, one per
        /// administrator, holding the password on one line. Each must pass the password policy.
        #[arg(long, value_name = "DIR")]
        passwords_from: Option<PathBuf>,
    },
    /// Give an account a new one-time password from the host (recovery: whoever can run this
    /// holds the database URL). Ends the account's sessions and API tokens; leaves a change record.
    ResetPassword {
        username: String,
        /// Take the password from FILE (one line, policy-checked) instead of generating one.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

/// The longest password file read (a password has at most 256 characters).
const MAX_PASSWORD_FILE: u64 = 4096;

/// A password from a file: its one line (a final line break is not part of it).
fn read_password(path: &Path) -> anyhow::Result<Secret> {
    let what = path.display();
    let meta = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("cannot read password file {what}: {e}"))?;
    if meta.len() > MAX_PASSWORD_FILE {
        anyhow::bail!("password file {what} is {} bytes: it holds one password on one line", meta.len());
    }
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read password file {what}: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("password file {what} is not UTF-8 text"))?;
    let line = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text);
    if line.contains(['\n', '\r']) {
        anyhow::bail!("password file {what} has more than one line: it holds one password on one line");
    }
    Ok(Secret::new(line))
}

fn refused(command: &str, e: HostError) -> anyhow::Error {
    anyhow::anyhow!("{command}: [{}] {e}", e.code())
}

pub(super) async fn run(cli: &Cli, cmd: &AdminCommand) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    let _log = telemetry::init(settings.log_format);
    let url = require_url(&settings)?;
    let db = app::open_database(&url, &settings).await?;
    let staff = Staff::new(db.clone(), settings.session_ttl_hours);
    let actor = Actor::cli(&os_user());
    let result = match cmd {
        AdminCommand::Init { sysadmin, secadmin, auditadmin, passwords_from } => {
            let territory = Territory::new(db.clone());
            init(&staff, &territory, &actor, [sysadmin, secadmin, auditadmin], passwords_from.as_deref()).await
        }
        AdminCommand::ResetPassword { username, password_file } => {
            reset(&staff, &actor, username, password_file.as_deref()).await
        }
    };
    db.close().await;
    result
}

async fn init(
    staff: &Staff,
    territory: &Territory,
    actor: &Actor,
    usernames: [&String; 3],
    passwords_from: Option<&Path>,
) -> anyhow::Result<()> {
    let duties = [(Role::Admin, "系统管理员"), (Role::SecurityAdmin, "安全管理员"), (Role::Auditor, "审计管理员")];
    let mut admins = Vec::with_capacity(3);
    for ((role, title), username) in duties.into_iter().zip(usernames) {
        let password = match passwords_from {
            Some(dir) => read_password(&dir.join(username))
                .map_err(|e| anyhow::anyhow!("admin init: {e} (--passwords-from holds one file per username)"))?,
            None => Secret::new(password::generate(username)),
        };
        admins.push(FirstAdministrator { role, username: username.clone(), display_name: title.to_owned(), password });
    }
    let areas = territory.areas().await?;
    let Some(district) = areas.iter().find(|a| a.level == "district") else {
        anyhow::bail!(
            "admin init: [no_district] there is no district yet, and each administrator holds its duty in it: \
             import the district first: civgrid import district FILE --code CODE --name NAME --datum DATUM"
        );
    };
    let views =
        staff.init_administrators(actor, &district.code, admins.clone()).await.map_err(|e| refused("admin init", e))?;
    println!(
        "Three administrators created in {} ({}), each holding one duty (三权分立):",
        district.name, district.code
    );
    println!();
    for (a, v) in admins.iter().zip(&views) {
        let pw = if passwords_from.is_some() { "(from its file)" } else { a.password.expose() };
        println!("  {:<6} {:<15} {:<24} {}", a.display_name, a.role.as_str(), v.staff.username, pw);
    }
    println!();
    if passwords_from.is_none() {
        println!("These passwords are shown this once and kept only as hashes: hand each to its administrator");
        println!("now, separately.");
    }
    println!("Each password is ONE-TIME: the first sign-in must change it (signing in answers");
    println!("password_change_required; change it on the sign-in page or with POST /api/v1/auth/password).");
    Ok(())
}

async fn reset(staff: &Staff, actor: &Actor, username: &str, password_file: Option<&Path>) -> anyhow::Result<()> {
    let password = match password_file {
        Some(f) => read_password(f).map_err(|e| anyhow::anyhow!("admin reset-password: {e}"))?,
        None => Secret::new(password::generate(username)),
    };
    let done = staff
        .reset_password_from_host(actor, username, &password)
        .await
        .map_err(|e| refused("admin reset-password", e))?;
    println!(
        "{} ({}): new one-time password set; {} sessions and {} API tokens ended.",
        done.staff.staff.username, done.staff.staff.display_name, done.sessions_revoked, done.api_tokens_revoked
    );
    if password_file.is_none() {
        println!();
        println!("  one-time password: {}", password.expose());
        println!();
        println!("It is shown this once and kept only as a hash.");
    }
    println!("It must be changed at the next sign-in (signing in answers password_change_required).");
    if !done.staff.staff.active {
        println!(
            "Note: the account is DEACTIVATED and stays so: it cannot sign in until the system administrator \
             reactivates it in the workbench."
        );
    }
    Ok(())
}
