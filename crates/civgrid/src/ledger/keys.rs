//! The ledger's signing keys: generated on first start, kept in files only the service account
//! can read, never logged.
//!
//! Two keys, so that a leaked certificate-issuing key cannot forge the log's history and vice
//! versa: `log.key` signs checkpoints (its name is the log's origin, as C2SP recommends) and
//! `issuer.key` signs certificate contents. Rotation is documented in docs/LEDGER.md.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use civgrid_ledger::note::{Signer, Verifier};

/// The ledger's signers.
#[derive(Clone)]
pub struct LedgerKeys {
    log: Signer,
    issuer: Signer,
}

impl fmt::Debug for LedgerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only public halves: private keys must never reach a log line.
        f.debug_struct("LedgerKeys").field("log", &self.log.vkey()).field("issuer", &self.issuer.vkey()).finish()
    }
}

/// Why the keys could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("ledger key directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("ledger key file {0} is readable by group or others (mode {1:o}); run `chmod 600 {0}`")]
    Permissions(PathBuf, u32),
    #[error("ledger key file {0} is not a signed-note private key")]
    Malformed(PathBuf),
    #[error("`{0}` is not a valid ledger origin (a key name: no spaces or '+', e.g. civgrid.example.gov.cn/ledger)")]
    InvalidOrigin(String),
    #[error("the configured ledger origin `{configured}` differs from the log key's name `{key}`; see docs/LEDGER.md on rotating keys")]
    OriginMismatch { configured: String, key: String },
}

impl LedgerKeys {
    /// Fresh keys held only in memory (tests and benchmarks).
    pub fn generate(origin: &str) -> Result<LedgerKeys, KeyError> {
        let log = Signer::generate(origin).map_err(|_| KeyError::InvalidOrigin(origin.to_owned()))?;
        let issuer = Signer::generate(&issuer_name(origin)).map_err(|_| KeyError::InvalidOrigin(origin.to_owned()))?;
        Ok(LedgerKeys { log, issuer })
    }

    /// Loads the keys from `dir`, creating the directory (0700) and the key files (0600) on
    /// first start. A key file others can read is refused, as ssh refuses one.
    pub fn load_or_create(dir: &Path, origin: Option<&str>) -> Result<LedgerKeys, KeyError> {
        let io = |e| KeyError::Io(dir.to_owned(), e);
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode_private().create(dir).map_err(io)?;
        }
        let log_path = dir.join("log.key");
        let issuer_path = dir.join("issuer.key");
        // Each key is created on its own when missing, so moving one aside rotates just that one.
        let log = if log_path.exists() {
            let log = Signer::from_private_key(read_private(&log_path)?.trim())
                .map_err(|_| KeyError::Malformed(log_path.clone()))?;
            if let Some(configured) = origin {
                if configured != log.name() {
                    return Err(KeyError::OriginMismatch {
                        configured: configured.to_owned(),
                        key: log.name().to_owned(),
                    });
                }
            }
            log
        } else {
            let origin = origin.unwrap_or(DEFAULT_ORIGIN);
            let log = Signer::generate(origin).map_err(|_| KeyError::InvalidOrigin(origin.to_owned()))?;
            write_private(&log_path, &log.private_key())?;
            tracing::info!(log_vkey = %log.vkey(), dir = %dir.display(), "generated the ledger log key");
            log
        };
        let issuer = if issuer_path.exists() {
            Signer::from_private_key(read_private(&issuer_path)?.trim())
                .map_err(|_| KeyError::Malformed(issuer_path.clone()))?
        } else {
            let name = issuer_name(log.name());
            let issuer = Signer::generate(&name).map_err(|_| KeyError::InvalidOrigin(name.clone()))?;
            write_private(&issuer_path, &issuer.private_key())?;
            tracing::info!(issuer_vkey = %issuer.vkey(), dir = %dir.display(), "generated the certificate issuer key");
            issuer
        };
        Ok(LedgerKeys { log, issuer })
    }

    /// The log's origin (the checkpoint's first line and the log key's name).
    pub fn origin(&self) -> &str {
        self.log.name()
    }

    pub fn log_signer(&self) -> &Signer {
        &self.log
    }

    pub fn issuer_signer(&self) -> &Signer {
        &self.issuer
    }

    pub fn log_verifier(&self) -> Verifier {
        self.log.verifier()
    }

    pub fn issuer_verifier(&self) -> Verifier {
        self.issuer.verifier()
    }
}

/// Origin used when none is configured on first start.
pub const DEFAULT_ORIGIN: &str = "civgrid.local/ledger";

fn issuer_name(origin: &str) -> String {
    format!("{origin}/issuer")
}

trait PrivateDir {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateDir for std::fs::DirBuilder {
    #[cfg(unix)]
    fn mode_private(&mut self) -> &mut Self {
        use std::os::unix::fs::DirBuilderExt as _;
        self.mode(0o700)
    }
    #[cfg(not(unix))]
    fn mode_private(&mut self) -> &mut Self {
        self
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), KeyError> {
    let io = |e| KeyError::Io(path.to_owned(), e);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)
}

fn read_private(path: &Path) -> Result<String, KeyError> {
    let io = |e| KeyError::Io(path.to_owned(), e);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions(path.to_owned(), mode));
        }
    }
    std::fs::read_to_string(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let first = LedgerKeys::load_or_create(&keys_dir, Some("civgrid.test/ledger")).unwrap();
        assert_eq!(first.origin(), "civgrid.test/ledger");
        let again = LedgerKeys::load_or_create(&keys_dir, None).unwrap();
        assert_eq!(again.log_verifier().vkey(), first.log_verifier().vkey());
        assert_eq!(again.issuer_verifier().vkey(), first.issuer_verifier().vkey());
        assert!(!format!("{first:?}").contains("PRIVATE"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(keys_dir.join("log.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(keys_dir.join("log.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(LedgerKeys::load_or_create(&keys_dir, None), Err(KeyError::Permissions(..))));
            std::fs::set_permissions(keys_dir.join("log.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(matches!(
            LedgerKeys::load_or_create(&keys_dir, Some("other/ledger")),
            Err(KeyError::OriginMismatch { .. })
        ));
        assert!(matches!(LedgerKeys::generate("bad origin"), Err(KeyError::InvalidOrigin(_))));
        // Rotation: a key moved aside is replaced on its own; the other is kept.
        std::fs::rename(keys_dir.join("log.key"), dir.path().join("old-log.key")).unwrap();
        let rotated = LedgerKeys::load_or_create(&keys_dir, Some("civgrid.test/ledger-2027")).unwrap();
        assert_eq!(rotated.origin(), "civgrid.test/ledger-2027");
        assert_ne!(rotated.log_verifier().vkey(), first.log_verifier().vkey());
        assert_eq!(rotated.issuer_verifier().vkey(), first.issuer_verifier().vkey());
    }
}
