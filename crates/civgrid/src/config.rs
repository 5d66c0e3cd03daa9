//! Settings, each defined once: a field of [`SettingArgs`] (or [`ListenArgs`], the listen
//! address of `demo` and `serve`) is the setting — its name is the config-file key, its `long` the
//! flag, its `env` the `CIVGRID_*` variable, its doc comment the help, its type what clap and the
//! TOML reader parse. [`Settings::resolve`] merges them (flag, then environment — clap reads
//! both —, then the TOML config file, then the default) and validates each once at start-up.
//! Anything wrong stops the process with a message naming the setting and all three places it
//! can come from.
//!
//! Each command uses only some settings ([`DATABASE`], [`POOL`], [`LOG`], [`LEDGER`], [`SERVER`]): one given
//! to a command that does not use it on the command line or in the environment is refused
//! ([`refuse_unused`]); the config file may hold the settings of every command (one file serves
//! `serve`, `migrate` and `audit`), but a key no command knows is refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::db::{Backend, DatabaseUrl};
use crate::secret::Secret;

/// Declares a settings struct once and gives it what is done with every field alike, so adding
/// a setting is adding one field.
macro_rules! settings_struct {
    ($(#[$meta:meta])* pub struct $name:ident {
        $($(#[$field_meta:meta])* pub $field:ident: Option<$ty:ty>,)*
    }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: Option<$ty>,)*
        }

        impl $name {
            /// Each setting given here, else the one given in `other` (flag and environment over
            /// the config file).
            pub fn or(self, other: $name) -> $name {
                $name { $($field: self.$field.or(other.$field),)* }
            }

            /// The keys of the settings given here.
            pub fn given(&self) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $(if self.$field.is_some() {
                    keys.push(stringify!($field));
                })*
                keys
            }
        }
    };
}

settings_struct! {
    /// The settings given before the command: `civgrid [SETTINGS] COMMAND`.
    #[derive(Debug, Default, Clone, Args, Deserialize)]
    #[serde(default)]
    pub struct SettingArgs {
        /// sqlite://PATH or postgres://USER@HOST/DB (migrate, import, export, audit, serve).
        #[arg(long = "database", env = "CIVGRID_DATABASE_URL", hide_env_values = true)]
        pub database_url: Option<Secret>,
        /// Size of the database pool (default: PostgreSQL 10; SQLite twice the cores, 4–16).
        #[arg(long, env = "CIVGRID_DB_MAX_CONNECTIONS")]
        pub db_max_connections: Option<u32>,
        /// text (default) or json.
        #[arg(long, env = "CIVGRID_LOG_FORMAT")]
        pub log_format: Option<String>,
        /// Hours a staff session lives (1–720, default 12; demo, serve).
        #[arg(long, env = "CIVGRID_SESSION_TTL_HOURS")]
        pub session_ttl_hours: Option<i64>,
        /// Seconds a request may take (1–3600, default 30; demo, serve).
        #[arg(long, env = "CIVGRID_REQUEST_TIMEOUT_S")]
        pub request_timeout_s: Option<u64>,
        /// Mark session cookies Secure (default: true for serve; for demo only with TLS). false
        /// only for a plain-HTTP lab: the session then travels in clear text.
        #[arg(long, env = "CIVGRID_SECURE_COOKIES")]
        pub secure_cookies: Option<bool>,
        /// PEM file of the server's certificate chain (leaf first) to serve HTTPS; with tls_key.
        #[arg(long, env = "CIVGRID_TLS_CERT")]
        pub tls_cert: Option<PathBuf>,
        /// PEM file of the certificate's private key (PKCS#8, RSA or EC; not encrypted); with
        /// tls_cert.
        #[arg(long, env = "CIVGRID_TLS_KEY")]
        pub tls_key: Option<PathBuf>,
        /// Send Strict-Transport-Security (default: true with tls_cert/tls_key, else false; set
        /// true behind a reverse proxy that terminates TLS).
        #[arg(long, env = "CIVGRID_HSTS")]
        pub hsts: Option<bool>,
        /// A second listen address serving only `/metrics` without sign-in, for a Prometheus
        /// scraper (bind it to loopback or the management network, never the public one); none
        /// by default — `/metrics` on the main address needs an administrator or auditor.
        #[arg(long, env = "CIVGRID_METRICS_ADDR")]
        pub metrics_addr: Option<String>,
        /// The government's own base-map tiles drawn under the grids, e.g.
        /// https://tiles.example.gov.cn/{z}/{x}/{y}.png (Web Mercator, GCJ-02); none by default.
        #[arg(long, env = "CIVGRID_MAP_TILE_URL")]
        pub map_tile_url: Option<String>,
        /// A reverse proxy whose X-Forwarded-For names the client, by IP address (repeatable; in
        /// the environment, separate several with ','). Without one the TCP peer is the client.
        #[arg(long = "trusted-proxy", env = "CIVGRID_TRUSTED_PROXIES", value_delimiter = ',')]
        pub trusted_proxies: Option<Vec<String>>,
        /// Mail relay for reporter notifications, smtp://host:port.
        #[arg(long, env = "CIVGRID_SMTP_URL")]
        pub smtp_url: Option<String>,
        /// Sender address of notification e-mails.
        #[arg(long, env = "CIVGRID_SMTP_FROM")]
        pub smtp_from: Option<String>,
        /// SMS/WeChat gateway webhook for notifications to non-e-mail contacts.
        #[arg(long, env = "CIVGRID_NOTIFY_WEBHOOK_URL")]
        pub notify_webhook_url: Option<String>,
        /// Shared secret (≥ 16 characters) for the webhook's HMAC-SHA256 signature.
        #[arg(long, env = "CIVGRID_NOTIFY_WEBHOOK_SECRET", hide_env_values = true)]
        pub notify_webhook_secret: Option<Secret>,
        /// Directory of the ledger's signing keys (created 0700 with 0600 key files on first
        /// start; every node of one database must share it). Default: `ledger-keys` beside a
        /// SQLite file.
        #[arg(long, env = "CIVGRID_LEDGER_KEY_DIR")]
        pub ledger_key_dir: Option<PathBuf>,
        /// The log's origin (checkpoint first line), used when the keys are first generated.
        #[arg(long, env = "CIVGRID_LEDGER_ORIGIN")]
        pub ledger_origin: Option<String>,
        /// A witness the log asks to cosign checkpoints: "DEPARTMENT VKEY URL" (repeatable; in
        /// the environment, separate several with ';').
        #[arg(long = "ledger-witness", env = "CIVGRID_LEDGER_WITNESSES", value_delimiter = ';')]
        pub ledger_witnesses: Option<Vec<String>>,
        /// "MIN_WITNESSES MIN_DEPARTMENTS" whose cosignatures make a checkpoint trusted (default:
        /// 1 1 with witnesses, 0 0 without).
        #[arg(long, env = "CIVGRID_LEDGER_QUORUM")]
        pub ledger_quorum: Option<String>,
    }
}

settings_struct! {
    /// The listen address, given after `demo` or `serve`.
    #[derive(Debug, Default, Clone, Args, Deserialize)]
    #[serde(default)]
    pub struct ListenArgs {
        /// Listen address (default 127.0.0.1:8080).
        #[arg(long, env = "CIVGRID_ADDR")]
        pub addr: Option<String>,
    }
}

/// Which database.
pub const DATABASE: &[&str] = &["database_url"];
/// The database pool's size (the demo has one too, on its own database).
pub const POOL: &[&str] = &["db_max_connections"];
/// The log's format.
pub const LOG: &[&str] = &["log_format"];
/// The ledger's keys and witnesses.
pub const LEDGER: &[&str] = &["ledger_key_dir", "ledger_origin", "ledger_witnesses", "ledger_quorum"];
/// What only a serving process uses: sessions, requests, pages, notifications.
pub const SERVER: &[&str] = &[
    "addr",
    "session_ttl_hours",
    "request_timeout_s",
    "secure_cookies",
    "tls_cert",
    "tls_key",
    "hsts",
    "metrics_addr",
    "map_tile_url",
    "trusted_proxies",
    "smtp_url",
    "smtp_from",
    "notify_webhook_url",
    "notify_webhook_secret",
];

/// Every setting's clap argument (flag, variable, help), found by its key.
fn setting_args() -> Vec<clap::Arg> {
    let settings = SettingArgs::augment_args(clap::Command::new("settings"));
    let listen = ListenArgs::augment_args(clap::Command::new("listen"));
    settings.get_arguments().chain(listen.get_arguments()).cloned().collect()
}

/// Every setting's key (its config-file key).
pub fn keys() -> Vec<String> {
    setting_args().iter().map(|a| a.get_id().as_str().to_owned()).collect()
}

/// The listen settings set in the environment: a command without a listen address does not read
/// them, so they are looked up here to be refused rather than silently ignored.
pub fn listen_env_given() -> Vec<&'static str> {
    use clap::FromArgMatches as _;
    // Parsing no arguments leaves exactly what the environment gives.
    let matches = ListenArgs::augment_args(clap::Command::new("listen")).try_get_matches_from(["listen"]);
    matches.ok().and_then(|m| ListenArgs::from_arg_matches(&m).ok()).map_or_else(Vec::new, |l| l.given())
}

/// "--flag / CIVGRID_VAR": where a setting is given to one command.
fn flag_and_env(key: &str) -> String {
    let args = setting_args();
    match args.iter().find(|a| a.get_id() == key) {
        Some(a) => {
            let flag = a.get_long().map_or_else(|| key.replace('_', "-"), str::to_owned);
            let env = a.get_env().map_or_else(String::new, |e| format!(" / {}", e.to_string_lossy()));
            format!("--{flag}{env}")
        }
        None => format!("--{}", key.replace('_', "-")),
    }
}

/// The setting's three places: "--flag / CIVGRID_VAR / `key` in the config file".
fn named(key: &str) -> String {
    format!("{} / `{key}` in the config file", flag_and_env(key))
}

/// Refuses the settings given on the command line or in the environment (`given`) that
/// `command` does not use (`used`): a setting accepted and ignored would look applied.
pub fn refuse_unused(command: &str, given: &[&str], used: &[&[&str]]) -> Result<(), ConfigError> {
    let unused: Vec<&str> = given.iter().copied().filter(|k| !used.iter().any(|group| group.contains(k))).collect();
    if unused.is_empty() {
        return Ok(());
    }
    let mut text = format!("`civgrid {command}` does not use ");
    text.push_str(&unused.iter().map(|k| flag_and_env(k)).collect::<Vec<_>>().join(", "));
    text.push_str(" (given on the command line or in the environment)");
    Err(ConfigError(text))
}

/// The TOML config file (`--config FILE` / `CIVGRID_CONFIG`): any setting's key, for any command.
/// Unknown keys are refused so that a misspelt setting is never silently ignored.
#[derive(Debug, Default)]
pub struct FileConfig {
    pub settings: SettingArgs,
    pub listen: ListenArgs,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        FileConfig::parse(&text).map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let known = keys();
        if let Some(unknown) = table.keys().find(|k| !known.contains(k)) {
            return Err(format!("unknown field `{unknown}`, expected one of {}", known.join(", ")));
        }
        let settings = SettingArgs::deserialize(table.clone()).map_err(|e| e.to_string())?;
        let listen = ListenArgs::deserialize(table).map_err(|e| e.to_string())?;
        Ok(FileConfig { settings, listen })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Values given on the command line or in the environment (clap merges those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub settings: SettingArgs,
    pub listen: ListenArgs,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Option<DatabaseUrl>,
    pub addr: SocketAddr,
    pub log_format: LogFormat,
    pub db_max_connections: u32,
    pub session_ttl_hours: i64,
    pub request_timeout: Duration,
    /// Session cookies `Secure`; `None` leaves it to the command (serve: yes; demo: with TLS).
    pub secure_cookies: Option<bool>,
    /// The certificate and key files to serve HTTPS with (both or neither; read by `crate::tls`).
    pub tls: Option<crate::tls::TlsFiles>,
    /// Send `Strict-Transport-Security`; `None`: when TLS is on.
    pub hsts: Option<bool>,
    /// Where `/metrics` is served without sign-in for a scraper, if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    pub notify: crate::notify::NotifySettings,
    /// Where the ledger keys live; when unset, `ledger-keys` beside a SQLite file (PostgreSQL
    /// requires it: every node of one database must share the keys).
    pub ledger_key_dir: Option<PathBuf>,
    pub ledger_origin: Option<String>,
    /// Witnesses the log asks for cosignatures, and how many make a checkpoint trusted.
    pub ledger_witnesses: crate::ledger::WitnessPolicy,
    /// The government's own base-map tiles (`{z}/{x}/{y}` in Web Mercator, GCJ-02 as the grids
    /// are) drawn under the grids; none by default — the map needs no tiles.
    pub map_tile_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (sign-in throttling and the
    /// anonymous budgets count by client address); none by default — the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The pool's size when none is configured. PostgreSQL: 10 connections. SQLite: twice the
/// cores, at least 4 — each connection is a thread of this process, and past that they only
/// add switching between threads (issue 3's intake benchmark on 2 cores: 4,983 reports/s with
/// 4 connections, 4,501–4,647 with 10).
fn default_pool(url: Option<&DatabaseUrl>) -> u32 {
    match url.map(DatabaseUrl::backend) {
        Some(Backend::Postgres) => 10,
        _ => {
            let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
            (2 * cores).clamp(4, 16)
        }
    }
}

impl Settings {
    /// The defaults for `url` (those that depend on the database, the pool's size, are its),
    /// as the benchmarks open their scratch databases.
    pub fn for_database(url: &DatabaseUrl) -> Result<Settings, ConfigError> {
        let settings = SettingArgs { database_url: Some(Secret::new(url.as_str())), ..Default::default() };
        Settings::resolve(Overrides { settings, ..Default::default() }, FileConfig::default())
    }

    pub fn resolve(over: Overrides, file: FileConfig) -> Result<Settings, ConfigError> {
        let s = over.settings.or(file.settings);
        let listen = over.listen.or(file.listen);
        let database_url = match &s.database_url {
            Some(u) => Some(
                u.expose()
                    .parse::<DatabaseUrl>()
                    .map_err(|e| ConfigError(format!("{}: {e}", named("database_url"))))?,
            ),
            None => None,
        };
        let addr_text = listen.addr.unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.parse::<SocketAddr>().map_err(|_| {
            ConfigError(format!("{}: `{addr_text}` is not a socket address (e.g. 127.0.0.1:8080)", named("addr")))
        })?;
        let log_format = match s.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!("{}: `{other}` is not text or json", named("log_format"))));
            }
        };
        let db_max_connections = s.db_max_connections.unwrap_or_else(|| default_pool(database_url.as_ref()));
        if !(1..=500).contains(&db_max_connections) {
            return Err(ConfigError(format!("{}: must be 1–500", named("db_max_connections"))));
        }
        let session_ttl_hours = s.session_ttl_hours.unwrap_or(12);
        if !(1..=24 * 30).contains(&session_ttl_hours) {
            return Err(ConfigError(format!("{}: must be 1–720 hours", named("session_ttl_hours"))));
        }
        let timeout_s = s.request_timeout_s.unwrap_or(30);
        if !(1..=3600).contains(&timeout_s) {
            return Err(ConfigError(format!("{}: must be 1–3600 seconds", named("request_timeout_s"))));
        }
        let smtp = match &s.smtp_url {
            Some(u) => Some(
                crate::notify::NotifySettings::parse_smtp(u)
                    .map_err(|e| ConfigError(format!("{}: {e}", named("smtp_url"))))?,
            ),
            None => None,
        };
        let webhook_url = s.notify_webhook_url;
        if let Some(u) = &webhook_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "{}: `{u}` must be an http:// or https:// URL",
                    named("notify_webhook_url")
                )));
            }
        }
        let webhook_secret = s.notify_webhook_secret;
        if webhook_url.is_some() && webhook_secret.as_ref().is_none_or(|s| s.expose().len() < 16) {
            return Err(ConfigError(format!(
                "{}: a secret of at least 16 characters is required with a webhook",
                named("notify_webhook_secret")
            )));
        }
        let notify = crate::notify::NotifySettings { smtp, smtp_from: s.smtp_from, webhook_url, webhook_secret };
        let ledger_origin = s.ledger_origin;
        if let Some(o) = &ledger_origin {
            if !civgrid_ledger::note::is_valid_key_name(o) {
                return Err(ConfigError(format!(
                    "{}: `{o}` is not a valid origin (no spaces or '+', e.g. civgrid.example.gov.cn/ledger)",
                    named("ledger_origin")
                )));
            }
        }
        let witness_specs = s.ledger_witnesses.unwrap_or_default();
        let ledger_witnesses = crate::ledger::WitnessPolicy::parse(&witness_specs, s.ledger_quorum.as_deref())
            .map_err(|e| ConfigError(format!("{} / {}: {e}", named("ledger_witnesses"), named("ledger_quorum"))))?;
        let map_tile_url = s.map_tile_url.filter(|u| !u.trim().is_empty());
        if let Some(u) = &map_tile_url {
            let local_or_web =
                u.starts_with('/') && !u.starts_with("//") || u.starts_with("http://") || u.starts_with("https://");
            let placeholders = ["{z}", "{x}", "{y}"].iter().all(|p| u.contains(p));
            if !local_or_web || !placeholders || u.chars().any(|c| c.is_whitespace() || c == '"' || c == '<') {
                return Err(ConfigError(format!(
                    "{}: `{u}` must be an http(s):// URL or a path on this server with {{z}}, {{x}} and {{y}} \
                     (e.g. https://tiles.example.gov.cn/{{z}}/{{x}}/{{y}}.png)",
                    named("map_tile_url")
                )));
            }
        }
        let mut trusted_proxies = Vec::new();
        for raw in s.trusted_proxies.unwrap_or_default() {
            let ip = raw.trim().parse::<std::net::IpAddr>().map_err(|_| {
                ConfigError(format!(
                    "{}: `{raw}` is not an IP address (give each proxy's address, e.g. 10.0.0.1; no ranges)",
                    named("trusted_proxies")
                ))
            })?;
            if !trusted_proxies.contains(&ip) {
                trusted_proxies.push(ip);
            }
        }
        let metrics_addr = match &s.metrics_addr {
            Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
                ConfigError(format!(
                    "{}: `{text}` is not a socket address (e.g. 127.0.0.1:9180)",
                    named("metrics_addr")
                ))
            })?),
            None => None,
        };
        let tls = match (s.tls_cert, s.tls_key) {
            (Some(cert), Some(key)) => Some(crate::tls::TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError(format!(
                    "{} is given without {}: HTTPS needs both the certificate and its private key",
                    named("tls_cert"),
                    named("tls_key")
                )));
            }
            (None, Some(_)) => {
                return Err(ConfigError(format!(
                    "{} is given without {}: HTTPS needs both the certificate and its private key",
                    named("tls_key"),
                    named("tls_cert")
                )));
            }
        };
        Ok(Settings {
            metrics_addr,
            tls,
            hsts: s.hsts,
            trusted_proxies,
            map_tile_url,
            ledger_witnesses,
            ledger_key_dir: s.ledger_key_dir,
            ledger_origin,
            notify,
            database_url,
            addr,
            log_format,
            db_max_connections,
            session_ttl_hours,
            request_timeout: Duration::from_secs(timeout_s),
            secure_cookies: s.secure_cookies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(settings: SettingArgs) -> Overrides {
        Overrides { settings, ..Default::default() }
    }

    #[test]
    fn a_map_tile_url_needs_its_placeholders_and_is_off_by_default() {
        let s = Settings::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(s.map_tile_url, None);
        let file = FileConfig::parse("map_tile_url = \"/tiles/{z}/{x}/{y}.png\"").unwrap();
        let s = Settings::resolve(Overrides::default(), file).unwrap();
        assert_eq!(s.map_tile_url.as_deref(), Some("/tiles/{z}/{x}/{y}.png"));
        for bad in [
            "https://tiles.example/{z}/{x}.png",
            "ftp://t/{z}/{x}/{y}",
            "//cdn.example/{z}/{x}/{y}",
            "/t/{z}/{x}/{y}\"x",
        ] {
            let over = flags(SettingArgs { map_tile_url: Some(bad.into()), ..Default::default() });
            let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
            assert!(e.0.contains("map_tile_url"), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_beat_the_file_and_defaults_fill_the_rest() {
        let file = FileConfig::parse("addr = \"0.0.0.0:9000\"\nsession_ttl_hours = 8").unwrap();
        let over = Overrides { listen: ListenArgs { addr: Some("127.0.0.1:7000".into()) }, ..Default::default() };
        let s = Settings::resolve(over, file).unwrap();
        assert_eq!(s.addr.port(), 7000);
        assert_eq!(s.session_ttl_hours, 8);
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.database_url.is_none());
        assert!((4..=16).contains(&s.db_max_connections), "SQLite, the default: {}", s.db_max_connections);
        let pg = flags(SettingArgs { database_url: Some(Secret::new("postgres://u@h/db")), ..Default::default() });
        assert_eq!(Settings::resolve(pg, FileConfig::default()).unwrap().db_max_connections, 10);
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        assert!(Settings::resolve(Overrides::default(), FileConfig::default()).unwrap().trusted_proxies.is_empty());
        let file = FileConfig::parse("trusted_proxies = [\"10.0.0.1\", \"::1\"]").unwrap();
        let s = Settings::resolve(Overrides::default(), file).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        for bad in ["10.0.0.0/8", "proxy.local", ""] {
            let over = flags(SettingArgs { trusted_proxies: Some(vec![bad.into()]), ..Default::default() });
            let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
            assert!(e.0.contains("CIVGRID_TRUSTED_PROXIES"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_settings_name_where_they_come_from() {
        let over = Overrides { listen: ListenArgs { addr: Some("nowhere".into()) }, ..Default::default() };
        let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
        assert!(e.0.contains("CIVGRID_ADDR"), "{e}");
        let e = Settings::resolve(
            flags(SettingArgs { database_url: Some(Secret::new("mysql://x")), ..Default::default() }),
            FileConfig::default(),
        )
        .unwrap_err();
        assert!(e.0.contains("sqlite:// or postgres://"), "{e}");
        assert!(e.0.contains("--database / CIVGRID_DATABASE_URL / `database_url` in the config file"), "{e}");
        assert!(FileConfig::parse("adr = \"x\"").is_err(), "unknown keys are refused");
    }

    /// The one definition holds: every setting's clap id is a key the file reader knows (a value
    /// of the wrong type under it is refused, not ignored), and each setting belongs to a group
    /// the commands choose from.
    #[test]
    fn every_setting_is_a_file_key_and_in_one_group() {
        let keys = keys();
        assert_eq!(keys.len(), 21, "{keys:?}");
        for key in &keys {
            let e = FileConfig::parse(&format!("{key} = {{ wrong = 1 }}")).unwrap_err();
            assert!(e.contains("invalid type"), "{key}: {e}");
            let groups = [DATABASE, POOL, LOG, LEDGER, SERVER].iter().filter(|g| g.contains(&key.as_str())).count();
            assert_eq!(groups, 1, "{key}");
        }
        let grouped: usize = [DATABASE, POOL, LOG, LEDGER, SERVER].iter().map(|g| g.len()).sum();
        assert_eq!(grouped, keys.len(), "no group names a setting that does not exist");
    }

    #[test]
    fn a_command_refuses_a_setting_it_does_not_use() {
        assert!(refuse_unused("migrate", &["database_url", "log_format"], &[DATABASE, POOL, LOG]).is_ok());
        let e = refuse_unused("migrate", &["database_url", "addr", "smtp_url"], &[DATABASE, POOL, LOG]).unwrap_err();
        assert!(
            e.0.contains("`civgrid migrate` does not use --addr / CIVGRID_ADDR, --smtp-url / CIVGRID_SMTP_URL"),
            "{e}"
        );
        let e = refuse_unused("verify", &["database_url"], &[]).unwrap_err();
        assert!(e.0.contains("--database / CIVGRID_DATABASE_URL"), "{e}");
    }

    #[test]
    fn tls_needs_both_files_and_names_the_missing_one() {
        let s = Settings::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert!(s.tls.is_none() && s.hsts.is_none() && s.secure_cookies.is_none());
        let file =
            FileConfig::parse("tls_cert = \"/etc/civgrid/cert.pem\"\ntls_key = \"/etc/civgrid/key.pem\"").unwrap();
        let s = Settings::resolve(Overrides::default(), file).unwrap();
        assert_eq!(s.tls.map(|t| t.key), Some(PathBuf::from("/etc/civgrid/key.pem")));
        let over = flags(SettingArgs { tls_cert: Some("c.pem".into()), ..Default::default() });
        let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
        assert!(e.0.starts_with("--tls-cert / CIVGRID_TLS_CERT") && e.0.contains("without --tls-key"), "{e}");
        let over = flags(SettingArgs { tls_key: Some("k.pem".into()), ..Default::default() });
        let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
        assert!(e.0.starts_with("--tls-key / CIVGRID_TLS_KEY") && e.0.contains("without --tls-cert"), "{e}");
    }

    #[test]
    fn settings_never_show_a_secret_in_debug() {
        let over = flags(SettingArgs {
            database_url: Some(Secret::new("postgres://civ:pg-pass-1234@db/civ")),
            notify_webhook_url: Some("https://sms.example/hook".into()),
            notify_webhook_secret: Some(Secret::new("hmac-secret-5678-abcdef")),
            ..Default::default()
        });
        let printed = format!("{over:?}");
        assert!(!printed.contains("pg-pass-1234") && !printed.contains("hmac-secret-5678"), "{printed}");
        let settings = Settings::resolve(over, FileConfig::default()).unwrap();
        for printed in [format!("{settings:?}"), format!("{:?}", settings.notify), format!("{settings:#?}")] {
            assert!(!printed.contains("pg-pass-1234"), "{printed}");
            assert!(!printed.contains("hmac-secret-5678"), "{printed}");
        }
        assert!(format!("{settings:?}").contains("https://sms.example/hook"), "only secrets are hidden");
        let file = FileConfig::parse("notify_webhook_secret = \"hmac-secret-5678-abcdef\"").unwrap();
        assert!(!format!("{file:?}").contains("hmac-secret-5678"));
    }
}
