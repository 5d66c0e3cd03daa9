//! The `civgrid` command line.

use std::io::Write;
use std::path::PathBuf;

use civgrid_geo::Datum;
use clap::{Parser, Subcommand};

use crate::config::{self, FileConfig, ListenArgs, Overrides, SettingArgs, Settings};
use crate::db::DatabaseUrl;
use crate::secret::Secret;
use crate::territory::{Territory, TerritoryError};
use crate::{app, telemetry};

mod admin;
mod backup;
mod demo;
mod migrate;
mod records;
mod roster;

pub use admin::AdminCommand;

#[derive(Debug, Parser)]
#[command(
    name = "civgrid",
    version,
    about = "civgrid — grid governance, one-window services and a trust ledger for a district",
    after_help = "Settings go before the command (`civgrid --database URL serve`), except the listen \
                  address (`serve --addr`). A command refuses a setting it does not use, given as a flag \
                  or a CIVGRID_* variable; the config file may hold the settings of every command."
)]
pub struct Cli {
    /// TOML config file: any of the settings below by their key (the flag's name with '_',
    /// e.g. database_url, trusted_proxies, addr); unknown keys are refused.
    #[arg(long, env = "CIVGRID_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub settings: SettingArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the demo district (seeded on first start) on its own SQLite database in --data, or
    /// on the PostgreSQL database given with --database.
    Demo {
        #[command(flatten)]
        listen: ListenArgs,
        /// Folder of the demo's SQLite database, ledger keys and witness (default
        /// ./civgrid-demo); with PostgreSQL, of the ledger keys and witness only.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seed the demo database (if not yet seeded) and exit without serving.
        #[arg(long)]
        seed_only: bool,
        /// The Open311 API key for POST requests (only its hash is stored); a random one is
        /// generated and printed when not given.
        #[arg(long, env = "CIVGRID_OPEN311_KEY", hide_env_values = true)]
        open311_key: Option<Secret>,
    },
    /// Serve the platform against the configured database (migrates first).
    Serve {
        #[command(flatten)]
        listen: ListenArgs,
    },
    /// Apply database migrations and exit (every command migrates first; this one only that).
    Migrate {
        /// List the pending migrations and apply nothing: exit 0 when none is pending, 3 when
        /// some are, 1 when the database cannot be checked or another release migrated it.
        #[arg(long)]
        check: bool,
    },
    /// Check the trust ledger against the records: recompute every entry from the stored
    /// records and the tree from the entries, verify every checkpoint; name each record that was
    /// changed, deleted or inserted behind the log's back. Exit status 1 when anything is found.
    Audit {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import territory data.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export territory data.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Verify a certificate bundle offline against a published trust file (exit 0 valid,
    /// 1 invalid, 2 usage error).
    Verify {
        /// The bundle (civgrid-bundle/v1 JSON).
        bundle: PathBuf,
        /// The trust file: origin, log and issuer keys, witnesses and quorum.
        #[arg(long)]
        trust: PathBuf,
    },
    /// Run a tlog-witness for the ledger (another department, an auditor).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// The first administrators of an installation, and password recovery from the host.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent backup of the database to a file, safe while civgrid serves
    /// (SQLite: a snapshot copy; PostgreSQL: a civgrid archive of one snapshot).
    Backup {
        /// The backup file (written as FILE.partial, renamed when complete).
        #[arg(long)]
        out: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into the configured database after checking it, the target and the
    /// witnesses (a restore that would roll the ledger back behind a cosigned checkpoint is
    /// refused); then migrate it to this release.
    Restore {
        /// The backup file (from `civgrid backup`).
        file: PathBuf,
        /// Replace the database the target already holds.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Generate a witness cosigning key: the private key goes to a new file (mode 0600), the
    /// verifier key to stdout.
    Keygen {
        /// Key name, e.g. witness.sifaju.example/w1 (no spaces or '+').
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve C2SP tlog-witness `POST /add-checkpoint` for one log.
    Serve {
        /// The witness private key file (from `witness keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The log's verifier key (repeat during a key rotation).
        #[arg(long = "log-vkey", required = true)]
        log_vkey: Vec<String>,
        /// The log's checkpoint origin.
        #[arg(long)]
        origin: String,
        /// Directory of the witness state (one file per log, saved before every answer).
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value = "127.0.0.1:7380")]
        addr: std::net::SocketAddr,
    },
}

/// A command that has already printed its outcome and exits with this status (see main.rs).
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Create the district from its outline (once per installation).
    District {
        file: PathBuf,
        /// GB/T 2260 district code, e.g. 440604.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// Datum of the file's coordinates: wgs84 (also CGCS2000), gcj02 or bd09.
        #[arg(long)]
        datum: Datum,
    },
    /// Import grids from a GeoJSON FeatureCollection (all or nothing).
    Grids {
        file: PathBuf,
        /// Datum of the file's coordinates: wgs84 (also CGCS2000), gcj02 or bd09.
        #[arg(long)]
        datum: Datum,
        /// Redraw grids whose code already exists instead of refusing them.
        #[arg(long)]
        replace: bool,
    },
    /// Import departments and staff from CSV files and XLSX workbooks (all or nothing, with a
    /// report naming every wrong row; columns in docs/OPERATIONS.md).
    Roster {
        /// CSV files and XLSX workbooks (each sheet a table), imported together as one roster.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Give each new account a one-time password, written to this new file (mode 0600,
        /// never overwritten). Without it the accounts have no password until the security
        /// administrator sets one.
        #[arg(long, value_name = "FILE")]
        passwords_out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every grid as GeoJSON (GCJ-02) to stdout or --out.
    Grids {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn os_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into())
}

impl Command {
    /// The command's name and the groups of settings it uses (see config.rs).
    fn uses(&self) -> (&'static str, &'static [&'static [&'static str]]) {
        use config::{DATABASE, LEDGER, LOG, POOL, SERVER};
        match self {
            // Seeding only: nothing is served, so the server's settings would be ignored.
            Command::Demo { seed_only: true, .. } => ("demo --seed-only", &[DATABASE, POOL, LOG, LEDGER]),
            // Its own SQLite file under --data unless a database is given.
            Command::Demo { .. } => ("demo", &[DATABASE, POOL, LOG, LEDGER, SERVER]),
            Command::Serve { .. } => ("serve", &[DATABASE, POOL, LOG, LEDGER, SERVER]),
            Command::Migrate { .. } => ("migrate", &[DATABASE, POOL, LOG]),
            Command::Audit { .. } => ("audit", &[DATABASE, POOL, LOG, LEDGER]),
            Command::Import(_) => ("import", &[DATABASE, POOL, LOG]),
            // Writes GeoJSON to stdout: no log lines there.
            Command::Export(_) => ("export", &[DATABASE, POOL]),
            Command::Verify { .. } => ("verify", &[]),
            Command::Witness(WitnessCommand::Keygen { .. }) => ("witness keygen", &[]),
            Command::Witness(WitnessCommand::Serve { .. }) => ("witness serve", &[LOG]),
            Command::Admin(_) => ("admin", &[DATABASE, POOL, LOG]),
            Command::Backup { .. } => ("backup", &[DATABASE, LOG]),
            // The witnesses are asked what they have cosigned; the ledger's keys are not used.
            Command::Restore { .. } => ("restore", &[DATABASE, LOG, &["ledger_witnesses", "ledger_quorum"]]),
        }
    }

    /// The command's own listen address, for those that listen.
    fn listen(&self) -> Option<&ListenArgs> {
        match self {
            Command::Demo { listen, .. } | Command::Serve { listen } => Some(listen),
            _ => None,
        }
    }
}

impl Cli {
    /// Refuses settings given (flag or environment) to a command that does not use them.
    pub fn check(&self) -> anyhow::Result<()> {
        let (name, used) = self.command.uses();
        let mut given = self.settings.given();
        match self.command.listen() {
            Some(listen) => given.extend(listen.given()),
            None => given.extend(config::listen_env_given()),
        }
        config::refuse_unused(name, &given, used)?;
        if used.is_empty() && self.config.is_some() {
            anyhow::bail!("`civgrid {name}` uses no settings: it does not read --config / CIVGRID_CONFIG");
        }
        Ok(())
    }

    fn settings(&self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(p) => FileConfig::load(p)?,
            None => FileConfig::default(),
        };
        let over =
            Overrides { settings: self.settings.clone(), listen: self.command.listen().cloned().unwrap_or_default() };
        Ok(Settings::resolve(over, file)?)
    }
}

fn require_url(settings: &Settings) -> anyhow::Result<DatabaseUrl> {
    settings.database_url.clone().ok_or_else(|| {
        anyhow::anyhow!("no database: give --database URL, CIVGRID_DATABASE_URL or database_url in the config file")
    })
}

/// Reports a refused import as a readable list, one line per problem.
fn explain(e: TerritoryError) -> anyhow::Error {
    if let TerritoryError::ImportRefused(problems) = &e {
        let mut text = format!("{e}\n");
        for p in problems {
            let which = match (p.feature, &p.feature_id) {
                (Some(i), Some(id)) => format!("feature #{i} (id {id})"),
                (Some(i), None) => format!("feature #{i}"),
                _ => "file".to_owned(),
            };
            text.push_str(&format!("  {which}: [{}] {}\n", p.code, p.message));
        }
        return anyhow::anyhow!(text);
    }
    e.into()
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    cli.check()?;
    match &cli.command {
        Command::Demo { listen: _, data, seed_only, open311_key } => {
            demo::run(&cli, data.as_deref(), *seed_only, open311_key).await
        }
        Command::Serve { listen: _ } => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            let url = require_url(&settings)?;
            // Before the database is touched: a bad certificate stops here with nothing done.
            let tls = app::load_tls(&settings)?;
            app::warn_about_transport(&settings, tls.as_ref());
            let _serving = crate::backup::serving_lock(&url)?;
            let db = app::open_database(&url, &settings).await?;
            let listener = tokio::net::TcpListener::bind(settings.addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.addr))?;
            let scheme = if tls.is_some() { "https" } else { "http" };
            tracing::info!(addr = %listener.local_addr()?, scheme, database = %url.redacted(), "civgrid serving");
            let state = app::state(db, &settings).await?;
            app::serve_metrics(&settings, &state).await?;
            app::serve(state, listener, tls).await
        }
        Command::Audit { json } => records::audit(&cli, *json).await,
        Command::Migrate { check } => migrate::run(&cli, *check).await,
        Command::Import(cmd) => records::import(&cli, cmd).await,
        Command::Export(ExportCommand::Grids { out }) => {
            let settings = cli.settings()?;
            let url = require_url(&settings)?;
            let db = app::open_database(&url, &settings).await?;
            let fc = Territory::new(db).export_geojson().await?;
            let text = fc.to_string();
            match out {
                Some(p) => std::fs::write(p, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            Ok(())
        }
        Command::Admin(cmd) => admin::run(&cli, cmd).await,
        Command::Backup { out, force } => backup::backup(&cli, out, *force).await,
        Command::Restore { file, replace } => backup::restore(&cli, file, *replace).await,
        Command::Verify { bundle, trust } => crate::witness::cli::verify(bundle, trust),
        Command::Witness(WitnessCommand::Keygen { name, out }) => crate::witness::cli::keygen(name, out),
        Command::Witness(WitnessCommand::Serve { key, log_vkey, origin, state, addr }) => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            crate::witness::cli::serve(key, log_vkey, origin, state, *addr).await
        }
    }
}
