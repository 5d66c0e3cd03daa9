//! Settings, layered and validated once at start-up: command-line flag, then `CIVGRID_*`
//! environment variable (clap reads both), then the TOML config file, then the default.
//! Anything wrong stops the process with a message naming the setting and all three places it
//! can come from.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::db::{Backend, DatabaseUrl};

/// The TOML config file (`--config FILE` / `CIVGRID_CONFIG`). Unknown keys are refused so that
/// a misspelt setting is never silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub addr: Option<String>,
    pub log_format: Option<String>,
    pub db_max_connections: Option<u32>,
    pub session_ttl_hours: Option<i64>,
    pub request_timeout_s: Option<u64>,
    pub secure_cookies: Option<bool>,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub notify_webhook_url: Option<String>,
    pub notify_webhook_secret: Option<String>,
    pub ledger_key_dir: Option<std::path::PathBuf>,
    pub ledger_origin: Option<String>,
    pub ledger_witnesses: Option<Vec<String>>,
    pub ledger_quorum: Option<String>,
    pub map_tile_url: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
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
    pub database_url: Option<String>,
    pub addr: Option<String>,
    pub log_format: Option<String>,
    pub db_max_connections: Option<u32>,
    pub session_ttl_hours: Option<i64>,
    pub request_timeout_s: Option<u64>,
    pub secure_cookies: Option<bool>,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub notify_webhook_url: Option<String>,
    pub notify_webhook_secret: Option<String>,
    pub ledger_key_dir: Option<std::path::PathBuf>,
    pub ledger_origin: Option<String>,
    pub ledger_witnesses: Option<Vec<String>>,
    pub ledger_quorum: Option<String>,
    pub map_tile_url: Option<String>,
    pub trusted_proxies: Option<Vec<String>>,
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
    pub secure_cookies: bool,
    pub notify: crate::notify::NotifySettings,
    /// Where the ledger keys live; when unset, `ledger-keys` beside a SQLite file (PostgreSQL
    /// requires it: every node of one database must share the keys).
    pub ledger_key_dir: Option<std::path::PathBuf>,
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

fn named(key: &str) -> String {
    format!("--{} / CIVGRID_{} / `{}` in the config file", key.replace('_', "-"), key.to_uppercase(), key)
}

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
        let over = Overrides { database_url: Some(url.as_str().to_owned()), ..Default::default() };
        Settings::resolve(over, FileConfig::default())
    }

    pub fn resolve(over: Overrides, file: FileConfig) -> Result<Settings, ConfigError> {
        let database_url = match over.database_url.or(file.database_url) {
            Some(u) => {
                Some(u.parse::<DatabaseUrl>().map_err(|e| ConfigError(format!("{}: {e}", named("database_url"))))?)
            }
            None => None,
        };
        let addr_text = over.addr.or(file.addr).unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.parse::<SocketAddr>().map_err(|_| {
            ConfigError(format!("{}: `{addr_text}` is not a socket address (e.g. 127.0.0.1:8080)", named("addr")))
        })?;
        let log_format = match over.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!("{}: `{other}` is not text or json", named("log_format"))));
            }
        };
        let db_max_connections =
            over.db_max_connections.or(file.db_max_connections).unwrap_or_else(|| default_pool(database_url.as_ref()));
        if !(1..=500).contains(&db_max_connections) {
            return Err(ConfigError(format!("{}: must be 1–500", named("db_max_connections"))));
        }
        let session_ttl_hours = over.session_ttl_hours.or(file.session_ttl_hours).unwrap_or(12);
        if !(1..=24 * 30).contains(&session_ttl_hours) {
            return Err(ConfigError(format!("{}: must be 1–720 hours", named("session_ttl_hours"))));
        }
        let timeout_s = over.request_timeout_s.or(file.request_timeout_s).unwrap_or(30);
        if !(1..=3600).contains(&timeout_s) {
            return Err(ConfigError(format!("{}: must be 1–3600 seconds", named("request_timeout_s"))));
        }
        let smtp = match over.smtp_url.or(file.smtp_url) {
            Some(u) => Some(
                crate::notify::NotifySettings::parse_smtp(&u)
                    .map_err(|e| ConfigError(format!("{}: {e}", named("smtp_url"))))?,
            ),
            None => None,
        };
        let webhook_url = over.notify_webhook_url.or(file.notify_webhook_url);
        if let Some(u) = &webhook_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "{}: `{u}` must be an http:// or https:// URL",
                    named("notify_webhook_url")
                )));
            }
        }
        let webhook_secret = over.notify_webhook_secret.or(file.notify_webhook_secret);
        if webhook_url.is_some() && webhook_secret.as_deref().is_none_or(|s| s.len() < 16) {
            return Err(ConfigError(format!(
                "{}: a secret of at least 16 characters is required with a webhook",
                named("notify_webhook_secret")
            )));
        }
        let notify = crate::notify::NotifySettings {
            smtp,
            smtp_from: over.smtp_from.or(file.smtp_from),
            webhook_url,
            webhook_secret,
        };
        let ledger_origin = over.ledger_origin.or(file.ledger_origin);
        if let Some(o) = &ledger_origin {
            if !civgrid_ledger::note::is_valid_key_name(o) {
                return Err(ConfigError(format!(
                    "{}: `{o}` is not a valid origin (no spaces or '+', e.g. civgrid.example.gov.cn/ledger)",
                    named("ledger_origin")
                )));
            }
        }
        let ledger_key_dir = over.ledger_key_dir.or(file.ledger_key_dir);
        let witness_specs = over.ledger_witnesses.or(file.ledger_witnesses).unwrap_or_default();
        let quorum = over.ledger_quorum.or(file.ledger_quorum);
        let ledger_witnesses = crate::ledger::WitnessPolicy::parse(&witness_specs, quorum.as_deref())
            .map_err(|e| ConfigError(format!("{} / {}: {e}", named("ledger_witnesses"), named("ledger_quorum"))))?;
        let map_tile_url = over.map_tile_url.or(file.map_tile_url).filter(|u| !u.trim().is_empty());
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
        for raw in over.trusted_proxies.or(file.trusted_proxies).unwrap_or_default() {
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
        Ok(Settings {
            trusted_proxies,
            map_tile_url,
            ledger_witnesses,
            ledger_key_dir,
            ledger_origin,
            notify,
            database_url,
            addr,
            log_format,
            db_max_connections,
            session_ttl_hours,
            request_timeout: Duration::from_secs(timeout_s),
            secure_cookies: over.secure_cookies.or(file.secure_cookies).unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_tile_url_needs_its_placeholders_and_is_off_by_default() {
        let s = Settings::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(s.map_tile_url, None);
        let file: FileConfig = toml::from_str("map_tile_url = \"/tiles/{z}/{x}/{y}.png\"").unwrap();
        let s = Settings::resolve(Overrides::default(), file).unwrap();
        assert_eq!(s.map_tile_url.as_deref(), Some("/tiles/{z}/{x}/{y}.png"));
        for bad in [
            "https://tiles.example/{z}/{x}.png",
            "ftp://t/{z}/{x}/{y}",
            "//cdn.example/{z}/{x}/{y}",
            "/t/{z}/{x}/{y}\"x",
        ] {
            let over = Overrides { map_tile_url: Some(bad.into()), ..Default::default() };
            let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
            assert!(e.0.contains("map_tile_url"), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_beat_the_file_and_defaults_fill_the_rest() {
        let file: FileConfig = toml::from_str("addr = \"0.0.0.0:9000\"\nsession_ttl_hours = 8").unwrap();
        let over = Overrides { addr: Some("127.0.0.1:7000".into()), ..Default::default() };
        let s = Settings::resolve(over, file).unwrap();
        assert_eq!(s.addr.port(), 7000);
        assert_eq!(s.session_ttl_hours, 8);
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.database_url.is_none());
        assert!((4..=16).contains(&s.db_max_connections), "SQLite, the default: {}", s.db_max_connections);
        let pg = Overrides { database_url: Some("postgres://u@h/db".into()), ..Default::default() };
        assert_eq!(Settings::resolve(pg, FileConfig::default()).unwrap().db_max_connections, 10);
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        assert!(Settings::resolve(Overrides::default(), FileConfig::default()).unwrap().trusted_proxies.is_empty());
        let file: FileConfig = toml::from_str("trusted_proxies = [\"10.0.0.1\", \"::1\"]").unwrap();
        let s = Settings::resolve(Overrides::default(), file).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
        for bad in ["10.0.0.0/8", "proxy.local", ""] {
            let over = Overrides { trusted_proxies: Some(vec![bad.into()]), ..Default::default() };
            let e = Settings::resolve(over, FileConfig::default()).unwrap_err();
            assert!(e.0.contains("CIVGRID_TRUSTED_PROXIES"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_settings_name_where_they_come_from() {
        let e =
            Settings::resolve(Overrides { addr: Some("nowhere".into()), ..Default::default() }, FileConfig::default())
                .unwrap_err();
        assert!(e.0.contains("CIVGRID_ADDR"), "{e}");
        let e = Settings::resolve(
            Overrides { database_url: Some("mysql://x".into()), ..Default::default() },
            FileConfig::default(),
        )
        .unwrap_err();
        assert!(e.0.contains("sqlite:// or postgres://"), "{e}");
        assert!(toml::from_str::<FileConfig>("adr = \"x\"").is_err(), "unknown keys are refused");
    }
}
