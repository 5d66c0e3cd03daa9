//! The witness's durable state: per log origin, the checkpoint it last cosigned.
//!
//! One file per origin, named by the SHA-256 of the origin (origins are URL-like and may hold
//! `/`), holding the checkpoint body (`origin\nsize\nroot\n`). A save writes a temporary file,
//! fsyncs it, renames it over the old one and fsyncs the directory, so after a crash the file is
//! either the old state or the new one, never a mixture and never missing. The directory is
//! locked (`witness.lock`) so a second witness process cannot share it: two processes each
//! serialising requests on their own could still roll each other's state back.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use civgrid_ledger::checkpoint::Checkpoint;
use civgrid_ledger::witness::WitnessState;
use sha2::{Digest, Sha256};

/// Why the state directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("witness state {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("witness state directory {0} is in use by another witness process")]
    Locked(PathBuf),
    /// A state file exists but cannot be read back. The witness refuses to start (or to answer
    /// for that log) rather than forget what it cosigned, which would let the log roll back.
    #[error("witness state file {0} is damaged ({1}); restore it from backup — deleting it lets the log rewrite history unnoticed")]
    Corrupt(PathBuf, String),
}

/// The state directory, locked for this process.
#[derive(Debug)]
pub struct StateStore {
    dir: PathBuf,
    _lock: File,
}

impl StateStore {
    /// Opens (creating it with mode 0700 if needed) and locks the state directory.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        let io = |e| StateError::Io(dir.to_path_buf(), e);
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
        let lock_path = dir.join("witness.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| StateError::Io(lock_path.clone(), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(StateError::Locked(dir.to_path_buf())),
            Err(TryLockError::Error(e)) => return Err(StateError::Io(lock_path, e)),
        }
        Ok(StateStore { dir: dir.to_path_buf(), _lock: lock })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file_name(origin: &str) -> String {
        let digest = Sha256::digest(origin.as_bytes());
        format!("{}.checkpoint", hex::encode(digest))
    }

    /// The state file of `origin`.
    pub fn path(&self, origin: &str) -> PathBuf {
        self.dir.join(Self::file_name(origin))
    }

    /// The last cosigned state for `origin`, or `None` if it never cosigned for it.
    pub fn load(&self, origin: &str) -> Result<Option<WitnessState>, StateError> {
        let path = self.path(origin);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StateError::Io(path, e)),
        };
        let checkpoint = Checkpoint::parse(&text).map_err(|e| StateError::Corrupt(path.clone(), e.to_string()))?;
        if checkpoint.origin != origin {
            return Err(StateError::Corrupt(path, format!("it is for origin {:?}", checkpoint.origin)));
        }
        Ok(Some(WitnessState { origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.root }))
    }

    /// Saves `state` atomically and durably (temporary file, fsync, rename, fsync directory).
    pub fn save(&self, state: &WitnessState) -> Result<(), StateError> {
        let text =
            Checkpoint { origin: state.origin.clone(), size: state.size, root: state.root, extensions: Vec::new() }
                .to_text();
        let path = self.path(&state.origin);
        let tmp = self.dir.join(format!(".{}.tmp", Self::file_name(&state.origin)));
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| StateError::Io(p, e)
        };
        let mut file =
            OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(io(&path))?;
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))?;
        Ok(())
    }

    /// Keeps a refused but log-signed request (an inconsistent proof, a fork at the same size)
    /// as evidence of the log's misbehaviour. Best effort: failures are only logged.
    pub fn keep_evidence(&self, origin: &str, code: &str, body: &[u8]) {
        let dir = self.dir.join("evidence");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!("{now}-{}-{code}.req", &Self::file_name(origin)[..16]);
        let result = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .and_then(|()| fs::write(dir.join(&name), body));
        match result {
            Ok(()) => {
                tracing::error!(origin, code, evidence = %dir.join(&name).display(), "log misbehaviour: request kept as evidence")
            }
            Err(e) => {
                tracing::error!(origin, code, error = %e, "log misbehaviour: could not keep the request as evidence")
            }
        }
    }
}
