//! The civgrid archive: a PostgreSQL logical backup in one file, streamed both ways.
//!
//! ```text
//! CIVGRID-ARCHIVE\n                  magic
//! meta LEN\n JSON                    the Metadata (LEN bytes)
//! table NAME COL,COL,…\n             then any number of
//! data LEN\n BYTES                     chunks of that table's COPY text
//! end-table\n
//! …
//! end\n
//! sha256 HEX\n                       SHA-256 of every byte before this line
//! ```
//!
//! Length-prefixed chunks keep the writer streaming (each chunk is what the server sent) and
//! let a reader tell a truncated file (no trailer) from a corrupt one (wrong digest) without
//! buffering a table.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{BackupError, Metadata};

pub const MAGIC: &str = "CIVGRID-ARCHIVE\n";
/// Largest chunk a reader accepts (a writer's chunks are the server's COPY messages, ≤ 64 kB
/// or so): a corrupt length cannot make it allocate gigabytes.
const MAX_CHUNK: usize = 64 * 1024 * 1024;

fn corrupt(why: impl std::fmt::Display) -> BackupError {
    BackupError::new("backup_corrupt", format!("the archive is corrupt: {why}; use another backup"))
}

fn truncated() -> BackupError {
    BackupError::new(
        "backup_truncated",
        "the archive ends early (truncated: an interrupted copy?); use a complete backup",
    )
}

/// Writes an archive, hashing as it goes.
pub struct Writer {
    out: BufWriter<std::fs::File>,
    hash: Sha256,
}

impl Writer {
    pub fn create(path: &Path, meta: &Metadata) -> std::io::Result<Writer> {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut w = Writer { out: BufWriter::with_capacity(1 << 20, file), hash: Sha256::new() };
        w.put(MAGIC.as_bytes())?;
        let json = serde_json::to_vec(meta).map_err(std::io::Error::other)?;
        w.put(format!("meta {}\n", json.len()).as_bytes())?;
        w.put(&json)?;
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    pub fn table(&mut self, name: &str, columns: &[String]) -> std::io::Result<()> {
        self.put(format!("table {name} {}\n", columns.join(",")).as_bytes())
    }

    pub fn data(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.put(format!("data {}\n", bytes.len()).as_bytes())?;
        self.put(bytes)
    }

    pub fn end_table(&mut self) -> std::io::Result<()> {
        self.put(b"end-table\n")
    }

    /// Writes the end and the digest, flushes and syncs.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.put(b"end\n")?;
        let digest = hex::encode(self.hash.clone().finalize());
        self.out.write_all(format!("sha256 {digest}\n").as_bytes())?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// One step of an archive.
pub enum Event {
    Table { name: String, columns: Vec<String> },
    Data(Vec<u8>),
    EndTable,
}

/// Reads an archive front to back, hashing as it goes.
pub struct Reader {
    input: BufReader<std::fs::File>,
    hash: Sha256,
    pub metadata: Metadata,
    ended: bool,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, BackupError> {
        let file = std::fs::File::open(path)
            .map_err(|e| BackupError::new("backup_unreadable", format!("cannot open {}: {e}", path.display())))?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut hash = Sha256::new();
        let magic = read_line(&mut input, &mut hash)?;
        if format!("{magic}\n") != MAGIC {
            return Err(BackupError::new("backup_foreign", "not a civgrid archive"));
        }
        let line = read_line(&mut input, &mut hash)?;
        let len =
            line.strip_prefix("meta ").and_then(|n| n.parse::<usize>().ok()).ok_or_else(|| corrupt("no metadata"))?;
        let bytes = read_exact(&mut input, &mut hash, len)?;
        let metadata = Metadata::parse(std::str::from_utf8(&bytes).map_err(corrupt)?)?;
        Ok(Reader { input, hash, metadata, ended: false })
    }

    /// The next step; `None` after `end` (whose digest [`Reader::check_digest`] then checks).
    pub fn next_event(&mut self) -> Result<Option<Event>, BackupError> {
        if self.ended {
            return Ok(None);
        }
        let line = read_line(&mut self.input, &mut self.hash)?;
        if line == "end" {
            self.ended = true;
            return Ok(None);
        }
        if line == "end-table" {
            return Ok(Some(Event::EndTable));
        }
        if let Some(n) = line.strip_prefix("data ") {
            let len = n.parse::<usize>().ok().filter(|l| *l <= MAX_CHUNK).ok_or_else(|| corrupt("bad chunk length"))?;
            return Ok(Some(Event::Data(read_exact(&mut self.input, &mut self.hash, len)?)));
        }
        if let Some(rest) = line.strip_prefix("table ") {
            let (name, cols) = rest.split_once(' ').ok_or_else(|| corrupt("bad table line"))?;
            let ident =
                |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let columns: Vec<String> = cols.split(',').map(str::to_owned).collect();
            if !ident(name) || !columns.iter().all(|c| ident(c)) {
                return Err(corrupt(format!("bad table name or columns {rest:?}")));
            }
            return Ok(Some(Event::Table { name: name.to_owned(), columns }));
        }
        Err(corrupt(format!("unexpected line {:?}", line.chars().take(40).collect::<String>())))
    }

    /// After `end`: the trailer's digest must match every byte before it, and nothing follows.
    pub fn check_digest(mut self) -> Result<(), BackupError> {
        let expected = hex::encode(self.hash.clone().finalize());
        let mut line = String::new();
        self.input.read_line(&mut line).map_err(corrupt)?;
        let Some(found) = line.strip_suffix('\n').and_then(|l| l.strip_prefix("sha256 ")) else {
            return Err(truncated());
        };
        if found != expected {
            return Err(BackupError::new(
                "backup_corrupt",
                "the archive's SHA-256 does not match its contents (the file was changed or damaged); use another backup",
            ));
        }
        let mut rest = [0u8; 1];
        if self.input.read(&mut rest).map_err(corrupt)? != 0 {
            return Err(corrupt("bytes after the trailer"));
        }
        Ok(())
    }
}

fn read_line(input: &mut BufReader<std::fs::File>, hash: &mut Sha256) -> Result<String, BackupError> {
    let mut buf = Vec::new();
    // A line of the format is short; a longer one is not this format.
    let n = input.by_ref().take(4096).read_until(b'\n', &mut buf).map_err(corrupt)?;
    if n == 0 {
        return Err(truncated());
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n < 4096 { truncated() } else { corrupt("overlong line") });
    }
    hash.update(&buf);
    buf.pop();
    String::from_utf8(buf).map_err(corrupt)
}

fn read_exact(input: &mut BufReader<std::fs::File>, hash: &mut Sha256, len: usize) -> Result<Vec<u8>, BackupError> {
    let mut buf = vec![0u8; len];
    input.read_exact(&mut buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            truncated()
        } else {
            corrupt(e)
        }
    })?;
    hash.update(&buf);
    Ok(buf)
}

/// Reads the whole archive and checks its structure and digest; returns its metadata.
pub fn verify(path: &Path) -> Result<Metadata, BackupError> {
    let mut r = Reader::open(path)?;
    let mut in_table = false;
    while let Some(e) = r.next_event()? {
        match e {
            Event::Table { .. } if !in_table => in_table = true,
            Event::Data(_) if in_table => {}
            Event::EndTable if in_table => in_table = false,
            _ => return Err(corrupt("tables are not well nested")),
        }
    }
    if in_table {
        return Err(corrupt("a table does not end"));
    }
    let meta = r.metadata.clone();
    r.check_digest()?;
    Ok(meta)
}
