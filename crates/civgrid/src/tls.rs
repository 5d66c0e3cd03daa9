//! Native TLS: HTTPS straight from the PEM certificate chain and private key a district's
//! intranet CA hands out (`tls_cert`, `tls_key`), with rustls on the ring provider.
//!
//! Everything is checked at start-up, before the database is opened or a port is bound, so a
//! wrong file stops the process with a line naming the setting instead of a server that every
//! browser refuses: missing or unreadable files, no PEM certificate, no PEM private key (an
//! encrypted key included: there is nobody to type its passphrase), a key that is not the
//! certificate's, and a certificate outside its validity dates. The expired certificate is
//! refused rather than warned about: every client that checks certificates would refuse it
//! anyway, and a refusal at start-up puts the reason in the service log instead of in each
//! user's browser; one within [`EXPIRY_WARNING_DAYS`] of its end is served with a warning.
//!
//! SIGHUP reads the two files again and, when they pass the same checks, swaps the certificate
//! in place: new connections get the new one, open connections and the process are untouched.
//! A renewal is copying the new files and `systemctl reload civgrid`; files that fail the checks
//! are logged and the certificate in use is kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use chrono::{DateTime, Utc};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use x509_cert::der::Decode;

/// A certificate this close to its end is served with a warning at start-up and on reload.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The two files HTTPS is served with (`tls_cert`, `tls_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

const CERT: &str = "--tls-cert / CIVGRID_TLS_CERT / `tls_cert`";
const KEY: &str = "--tls-key / CIVGRID_TLS_KEY / `tls_key`";

/// A certificate and key that passed every check, ready to serve.
#[derive(Debug)]
pub struct Loaded {
    pub config: Arc<rustls::ServerConfig>,
    /// The leaf certificate's subject, for the start-up log.
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

impl Loaded {
    /// Days until the certificate ends (negative once ended).
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after - now).num_days()
    }
}

/// Reads and checks the files (see the module's comment); the error names the setting at fault.
pub fn load(files: &TlsFiles, now: DateTime<Utc>) -> Result<Loaded, String> {
    let cert_pem = read(&files.cert, CERT)?;
    let key_pem = read(&files.key, KEY)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{CERT}: {} is not a PEM file: {e}", files.cert.display()))?;
    let Some(leaf) = chain.first() else {
        return Err(format!("{CERT}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", files.cert.display()));
    };
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            let certificate = CertificateDer::pem_slice_iter(&key_pem).next().is_some_and(|c| c.is_ok());
            let what = if certificate {
                "holds a certificate, not a private key (are the two files swapped?)"
            } else {
                "holds no unencrypted PEM private key (PKCS#8, RSA or EC; an encrypted key needs a \
                 passphrase nobody is there to type: decrypt it with `openssl pkey`)"
            };
            format!("{KEY}: {} {what}", files.key.display())
        }
        e => format!("{KEY}: {} is not a PEM file: {e}", files.key.display()),
    })?;
    let parsed = x509_cert::Certificate::from_der(leaf.as_ref())
        .map_err(|e| format!("{CERT}: the first certificate in {} cannot be read: {e}", files.cert.display()))?;
    let validity = &parsed.tbs_certificate.validity;
    let not_before = instant(validity.not_before.to_unix_duration());
    let not_after = instant(validity.not_after.to_unix_duration());
    let subject = parsed.tbs_certificate.subject.to_string();
    if now < not_before {
        return Err(format!(
            "{CERT}: the certificate in {} ({subject}) is not valid before {not_before}: check the clock or the certificate",
            files.cert.display()
        ));
    }
    if now > not_after {
        return Err(format!(
            "{CERT}: the certificate in {} ({subject}) expired on {not_after}: every browser would refuse it; \
             install a renewed certificate",
            files.cert.display()
        ));
    }
    // ring, not aws-lc-rs (cmake and a C toolchain to build, minutes on a small machine);
    // rustls deprecates ring's provider only for lacking post-quantum key exchange, which the
    // browsers and intranet clients of a district do not need yet.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => format!(
                "{KEY}: the private key in {} does not belong to the certificate in {} ({CERT})",
                files.key.display(),
                files.cert.display()
            ),
            e => format!("{KEY}: the key in {} cannot be used: {e}", files.key.display()),
        })?;
    // HTTP/1.1 only, as the plain server speaks (axum's `http1`).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded { config: Arc::new(config), subject, not_after })
}

fn read(path: &Path, setting: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{setting}: cannot read {}: {e}", path.display()))
}

fn instant(since_epoch: std::time::Duration) -> DateTime<Utc> {
    i64::try_from(since_epoch.as_secs())
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Logs what is served, warning when the end is near.
pub fn log_loaded(loaded: &Loaded, files: &TlsFiles) {
    let days = loaded.days_left(Utc::now());
    if days < EXPIRY_WARNING_DAYS {
        tracing::warn!(subject = %loaded.subject, not_after = %loaded.not_after, days_left = days,
            cert = %files.cert.display(), "the TLS certificate ends soon: renew it and send SIGHUP");
    } else {
        tracing::info!(subject = %loaded.subject, not_after = %loaded.not_after, cert = %files.cert.display(),
            "serving HTTPS");
    }
}

/// Without SIGHUP, a new certificate needs a restart.
#[cfg(not(unix))]
pub async fn reload_on_hangup(_files: TlsFiles, _config: RustlsConfig) {}

/// On every SIGHUP, reads the files again and swaps the certificate when they pass the checks.
#[cfg(unix)]
pub async fn reload_on_hangup(files: TlsFiles, config: RustlsConfig) {
    let mut hangups = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: a new certificate needs a restart");
            return;
        }
    };
    while hangups.recv().await.is_some() {
        match load(&files, Utc::now()) {
            Ok(loaded) => {
                config.reload_from_config(loaded.config.clone());
                log_loaded(&loaded, &files);
                tracing::info!("SIGHUP: the TLS certificate was read again and is served to new connections");
            }
            Err(e) => tracing::error!(error = %e, "SIGHUP: the TLS files were refused; the certificate in use is kept"),
        }
    }
}
