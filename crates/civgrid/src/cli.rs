//! The `civgrid` command line.

use std::io::Write;
use std::path::PathBuf;

use civgrid_geo::Datum;
use clap::{Parser, Subcommand};

use crate::audit::Actor;
use crate::config::{self, FileConfig, ListenArgs, Overrides, SettingArgs, Settings};
use crate::db::DatabaseUrl;
use crate::secret::Secret;
use crate::territory::{ExistingGrids, Territory, TerritoryError};
use crate::{app, demo, telemetry};

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
    /// Start the demo district on its own SQLite database (seeded on first start).
    Demo {
        #[command(flatten)]
        listen: ListenArgs,
        /// Folder for the SQLite database.
        #[arg(long, default_value = "./civgrid-demo")]
        data: PathBuf,
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
    /// Apply database migrations and exit.
    Migrate,
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
            // The demo's database is its own SQLite file under --data.
            Command::Demo { .. } => ("demo", &[POOL, LOG, LEDGER, SERVER]),
            Command::Serve { .. } => ("serve", &[DATABASE, POOL, LOG, LEDGER, SERVER]),
            Command::Migrate => ("migrate", &[DATABASE, POOL, LOG]),
            Command::Audit { .. } => ("audit", &[DATABASE, POOL, LOG, LEDGER]),
            Command::Import(_) => ("import", &[DATABASE, POOL, LOG]),
            // Writes GeoJSON to stdout: no log lines there.
            Command::Export(_) => ("export", &[DATABASE, POOL]),
            Command::Verify { .. } => ("verify", &[]),
            Command::Witness(WitnessCommand::Keygen { .. }) => ("witness keygen", &[]),
            Command::Witness(WitnessCommand::Serve { .. }) => ("witness serve", &[LOG]),
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
            let mut settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            std::fs::create_dir_all(data)
                .map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", data.display()))?;
            let url: DatabaseUrl = format!("sqlite://{}", data.join("civgrid.db").display()).parse()?;
            settings.database_url = Some(url.clone());
            let db = app::open_database(&url, &settings).await?;
            // The audit bureau's witness runs in-process unless real witnesses are configured.
            if settings.ledger_witnesses.witnesses.is_empty() {
                let keys = app::ledger_keys(&db, &settings)?;
                settings.ledger_witnesses = demo::ledger::start_witness(data, &keys).await?;
            }
            let state = app::state(db, &settings).await?;
            let witness_client = reqwest::Client::new();
            if !demo::is_seeded(&state.territory).await? {
                println!("Seeding the demo district 禅城区 (440604): 4 subdistricts, 85 communities, 1,046 grids …");
                demo::seed(&state.territory, &state.staff, &state.cases).await?;
                let n = demo::seed_cases(&state.territory, &state.staff, &state.cases, 400, chrono::Utc::now()).await?;
                println!("Seeded {n} demo cases over the last 90 days (replayed through the case workflow).");
                let certificates = demo::ledger::seed_certificates(&state.certificates).await?;
                let logged = state.ledger.integrate().await?;
                let cosigned = state.ledger.collect_cosignatures(&witness_client).await?;
                let cp = state.ledger.checkpoint().await?;
                println!(
                    "Ledger: {logged} entries logged ({} certificates); checkpoint of size {} signed and cosigned by {cosigned} witness.",
                    certificates.len(),
                    cp.size
                );
            }
            let keys = crate::open311::Keys::new(state.db.clone());
            if let Some(k) = open311_key {
                keys.ensure_demo_key(Some(k.expose())).await.map_err(|e| anyhow::anyhow!("--open311-key: {e}"))?;
            }
            if *seed_only {
                println!("demo database ready: {}", url.redacted());
                return Ok(());
            }
            let open311_key = match open311_key {
                Some(k) => k.expose().to_owned(),
                None => keys.ensure_demo_key(None).await?,
            };
            let listener = tokio::net::TcpListener::bind(settings.addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.addr))?;
            let addr = listener.local_addr()?;
            print_banner(addr, &url, &open311_key);
            if let Some(c) = state.certificates.recent(1).await?.first() {
                println!("  Ledger:     http://{addr}/ledger/checkpoint · http://{addr}/ledger/trust");
                println!("  Verify:     http://{addr}/verify/{}  (a demo certificate)", c.number);
                println!();
            }
            app::serve(state, listener).await
        }
        Command::Serve { listen: _ } => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            let url = require_url(&settings)?;
            let db = app::open_database(&url, &settings).await?;
            let listener = tokio::net::TcpListener::bind(settings.addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.addr))?;
            tracing::info!(addr = %listener.local_addr()?, database = %url.redacted(), "civgrid serving");
            app::serve(app::state(db, &settings).await?, listener).await
        }
        Command::Audit { json } => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            let url = require_url(&settings)?;
            let db = app::open_database(&url, &settings).await?;
            let ledger = crate::ledger::Ledger::new(
                db.clone(),
                app::ledger_keys(&db, &settings)?,
                settings.ledger_witnesses.clone(),
            );
            // Every module whose records the ledger logs contributes its record set here.
            let mut sets = vec![crate::cases::trace::records(&db).await?];
            sets.extend(crate::certificates::Certificates::records(&db).await?);
            sets.extend(crate::services::trace::records(&db).await?);
            let report = crate::ledger::audit::audit(&ledger, &sets).await?;
            if *json {
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
                    if report.is_clean() {
                        "clean: records, entries, tree and checkpoints agree"
                    } else {
                        "TAMPERING FOUND"
                    }
                );
            }
            db.close().await;
            if !report.is_clean() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Migrate => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            let url = require_url(&settings)?;
            app::open_database(&url, &settings).await?;
            println!("migrations applied to {}", url.redacted());
            Ok(())
        }
        Command::Import(cmd) => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            let url = require_url(&settings)?;
            let db = app::open_database(&url, &settings).await?;
            let territory = Territory::new(db);
            let actor = Actor::cli(&os_user());
            match cmd {
                ImportCommand::District { file, code, name, datum } => {
                    let bytes =
                        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                    territory.create_district(&actor, code, name, &bytes, *datum, None).await.map_err(explain)?;
                    println!("district {code} {name} created");
                }
                ImportCommand::Grids { file, datum, replace } => {
                    let bytes =
                        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                    let existing = if *replace { ExistingGrids::Replace } else { ExistingGrids::Refuse };
                    let s = territory.import_grids(&actor, &bytes, *datum, existing, None).await.map_err(explain)?;
                    println!(
                        "imported: {} grids created, {} replaced, {} areas created (territory revision {})",
                        s.created, s.replaced, s.areas_created, s.revision
                    );
                }
            }
            Ok(())
        }
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
        Command::Verify { bundle, trust } => crate::witness::cli::verify(bundle, trust),
        Command::Witness(WitnessCommand::Keygen { name, out }) => crate::witness::cli::keygen(name, out),
        Command::Witness(WitnessCommand::Serve { key, log_vkey, origin, state, addr }) => {
            let settings = cli.settings()?;
            let _log = telemetry::init(settings.log_format);
            crate::witness::cli::serve(key, log_vkey, origin, state, *addr).await
        }
    }
}

fn print_banner(addr: std::net::SocketAddr, url: &DatabaseUrl, open311_key: &str) {
    println!();
    println!("civgrid demo — 禅城区 (440604) on {}", url.redacted());
    println!("  URL:        http://{addr}/");
    println!("  workbench:  http://{addr}/login  (each role lands on its own workbench)");
    println!("  citizens:   http://{addr}/portal");
    println!("  health:     http://{addr}/healthz");
    println!("  locate:     http://{addr}/api/v1/locate?lng=113.1107&lat=23.0296&datum=gcj02");
    println!("  grids:      http://{addr}/api/v1/grids.geojson");
    println!("  metrics:    http://{addr}/metrics");
    println!("  Open311:    http://{addr}/open311/v2/discovery.xml  (POST api_key: {open311_key})");
    println!("  Demo staff accounts (password for all: {}):", demo::DEMO_PASSWORD);
    for (username, display_name, _, role, area) in demo::ACCOUNTS {
        println!(
            "    {username:<14} {role:<16} {display_name} @ {}",
            area.unwrap_or(demo::DISTRICT_CODE),
            role = role.as_str()
        );
    }
    println!(
        "  Sign in at /login, or: POST /api/v1/auth/login {{\"username\":\"admin\",\"password\":\"{}\"}}",
        demo::DEMO_PASSWORD
    );
    println!();
}
