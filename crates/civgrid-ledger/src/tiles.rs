//! C2SP tlog-tiles (c2sp.org/tlog-tiles): the log served as immutable, cacheable files.
//!
//! A hash tile at level L, index N holds up to 256 consecutive node hashes of tree level 8·L
//! (level-0 tiles hold leaf hashes); `tile/entries/N` holds the matching entries. A tile path
//! addresses a database range directly (`(8·L, N·256 .. N·256+W)`), so the parser is the
//! boundary between untrusted URLs and queries: it accepts exactly one spelling of each tile and
//! refuses everything else with a precise error, never panicking.

use std::fmt;
use std::ops::Range;

use crate::hash::{Hash, HASH_SIZE};
use crate::tree::NodeId;

/// Tree levels per tile.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u16 = 256;
/// Largest entry an entry bundle can carry (uint16 length prefix).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;
/// Longest tile path accepted (the longest valid one is well under this).
const MAX_PATH_LEN: usize = 128;

/// Why a tile path or tile body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// The path does not start with `tile/`, or is absurdly long.
    #[error("not a tile path")]
    NotATilePath,
    /// The level is not a decimal 0–63 without leading zeros.
    #[error("tile level must be a decimal between 0 and 63 without leading zeros")]
    BadLevel,
    /// An index segment is not `xDDD` (or `DDD` last), or the index is missing.
    #[error("tile index must be 3-digit groups, all but the last prefixed with 'x'")]
    BadIndex,
    /// The index has a leading all-zero group (`x000/…`), a second spelling of a smaller index.
    #[error("tile index has leading zero groups")]
    IndexLeadingZeros,
    /// The index does not fit, or names a tile beyond the largest possible tree.
    #[error("tile index is beyond the largest possible tree")]
    IndexTooLarge,
    /// The `.p/<W>` width is not a decimal 1–255 without leading zeros.
    #[error("partial tile width must be a decimal between 1 and 255 without leading zeros")]
    BadWidth,
    /// Segments follow the index (or the width).
    #[error("tile path has extra segments")]
    ExtraSegments,
    /// An entry is longer than [`MAX_ENTRY_SIZE`].
    #[error("entry of {0} bytes does not fit a uint16 length")]
    EntryTooLarge(usize),
    /// An entry bundle ends inside a length prefix or entry.
    #[error("entry bundle is truncated")]
    TruncatedBundle,
    /// A hash tile body is not a whole number of 1–256 hashes.
    #[error("hash tile body of {0} bytes is not 1 to 256 hashes")]
    BadTileLength(usize),
}

impl TileError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            TileError::NotATilePath => "not_tile_path",
            TileError::BadLevel => "bad_tile_level",
            TileError::BadIndex => "bad_tile_index",
            TileError::IndexLeadingZeros => "tile_index_leading_zeros",
            TileError::IndexTooLarge => "tile_index_too_large",
            TileError::BadWidth => "bad_tile_width",
            TileError::ExtraSegments => "tile_path_extra_segments",
            TileError::EntryTooLarge(_) => "entry_too_large",
            TileError::TruncatedBundle => "truncated_entry_bundle",
            TileError::BadTileLength(_) => "bad_tile_length",
        }
    }
}

/// Which resource a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hash tile at tile level `L` (hashes of tree level 8·L).
    Hashes(u8),
    /// Entry bundle.
    Entries,
}

/// A validated tile address. Construct with [`parse_tile_path`], [`TilePath::hashes`] or
/// [`TilePath::entries`]; every value names a tile that can exist in a tree of at most
/// 2^64 − 1 leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TilePath {
    kind: TileKind,
    index: u64,
    width: u16,
}

impl TilePath {
    /// Hash tile `index` at tile level `level`, `width` hashes wide (256 = full).
    pub fn hashes(level: u8, index: u64, width: u16) -> Result<TilePath, TileError> {
        if level > 63 {
            return Err(TileError::BadLevel);
        }
        TilePath::checked(TileKind::Hashes(level), index, width)
    }

    /// Entry bundle `index`, `width` entries wide (256 = full).
    pub fn entries(index: u64, width: u16) -> Result<TilePath, TileError> {
        TilePath::checked(TileKind::Entries, index, width)
    }

    fn checked(kind: TileKind, index: u64, width: u16) -> Result<TilePath, TileError> {
        if width == 0 || width > TILE_WIDTH {
            return Err(TileError::BadWidth);
        }
        let tile = TilePath { kind, index, width };
        // The last node the tile holds must lie within a tree of u64::MAX leaves.
        let shift = tile.node_level_u32();
        let end = u128::from(index) * u128::from(TILE_WIDTH) + u128::from(width);
        if shift >= 64 || end > (u128::from(u64::MAX) >> shift) {
            return Err(TileError::IndexTooLarge);
        }
        Ok(tile)
    }

    /// Hash tile or entry bundle.
    pub fn kind(&self) -> TileKind {
        self.kind
    }

    /// Tile index N.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Number of hashes or entries: 256 for a full tile, 1–255 for a partial one.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether this is a partial (`.p/W`) tile.
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    fn node_level_u32(&self) -> u32 {
        match self.kind {
            TileKind::Hashes(level) => u32::from(level) * TILE_HEIGHT,
            TileKind::Entries => 0,
        }
    }

    /// The stored tree level and node index range this tile holds: for a hash tile the node
    /// hashes to serve, for an entry bundle the leaf indices of its entries. One range query.
    pub fn node_range(&self) -> (u8, Range<u64>) {
        let start = self.index.saturating_mul(u64::from(TILE_WIDTH));
        let level = u8::try_from(self.node_level_u32()).unwrap_or(u8::MAX);
        (level, start..start.saturating_add(u64::from(self.width)))
    }

    /// The node ids whose hashes make up this tile's body, in order (for an entry bundle: the
    /// leaf hashes its entries must hash to).
    pub fn node_ids(&self) -> Vec<NodeId> {
        let (level, range) = self.node_range();
        range.map(|index| NodeId::new(level, index)).collect()
    }

    /// Whether every hash or entry of this tile exists in a tree of `size` leaves.
    pub fn is_available_at(&self, size: u64) -> bool {
        let (level, range) = self.node_range();
        range.end <= size >> level
    }

    /// The path, `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    pub fn to_path(&self) -> String {
        let mut path = match self.kind {
            TileKind::Hashes(level) => format!("tile/{level}/"),
            TileKind::Entries => "tile/entries/".to_string(),
        };
        path.push_str(&format_tile_index(self.index));
        if self.is_partial() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_path())
    }
}

/// Encodes a tile index as zero-padded 3-digit groups, all but the last prefixed with `x`:
/// 1234067 → `x001/x234/067`, 5 → `005`.
pub fn format_tile_index(index: u64) -> String {
    let digits = index.to_string();
    let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
    let groups: Vec<&str> = padded.as_bytes().chunks(3).filter_map(|g| std::str::from_utf8(g).ok()).collect();
    let mut out = String::with_capacity(padded.len() + groups.len() * 2);
    for (i, group) in groups.iter().enumerate() {
        if i + 1 < groups.len() {
            out.push('x');
            out.push_str(group);
            out.push('/');
        } else {
            out.push_str(group);
        }
    }
    out
}

/// Exactly three ASCII digits.
fn three_digits(s: &str) -> Option<u64> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Decimal in `1..=max` (or `0..=max` when `allow_zero`) without leading zeros.
fn small_decimal(s: &str, max: u16, allow_zero: bool) -> Option<u16> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    let value: u16 = s.parse().ok()?;
    (value <= max && (allow_zero || value > 0)).then_some(value)
}

/// Parses a tile path relative to the log prefix: `tile/<L>/<N>[.p/<W>]` or
/// `tile/entries/<N>[.p/<W>]`, refusing every other spelling.
pub fn parse_tile_path(path: &str) -> Result<TilePath, TileError> {
    if path.len() > MAX_PATH_LEN {
        return Err(TileError::NotATilePath);
    }
    let rest = path.strip_prefix("tile/").ok_or(TileError::NotATilePath)?;
    let mut segments = rest.split('/');
    let first = segments.next().unwrap_or_default();
    let kind = if first == "entries" {
        TileKind::Entries
    } else {
        let level = small_decimal(first, 63, true).ok_or(TileError::BadLevel)?;
        TileKind::Hashes(u8::try_from(level).map_err(|_| TileError::BadLevel)?)
    };

    let mut index: u64 = 0;
    let mut groups = 0usize;
    let partial = loop {
        let segment = segments.next().ok_or(TileError::BadIndex)?;
        groups += 1;
        let (digits, last, partial) = match segment.strip_prefix('x') {
            Some(d) => (d, false, false),
            None => match segment.strip_suffix(".p") {
                Some(d) => (d, true, true),
                None => (segment, true, false),
            },
        };
        let value = three_digits(digits).ok_or(TileError::BadIndex)?;
        if groups == 1 && !last && value == 0 {
            return Err(TileError::IndexLeadingZeros);
        }
        index = index.checked_mul(1000).and_then(|i| i.checked_add(value)).ok_or(TileError::IndexTooLarge)?;
        if last {
            break partial;
        }
    };
    let width = if partial {
        let w = segments.next().ok_or(TileError::BadWidth)?;
        small_decimal(w, TILE_WIDTH - 1, false).ok_or(TileError::BadWidth)?
    } else {
        TILE_WIDTH
    };
    if segments.next().is_some() {
        return Err(TileError::ExtraSegments);
    }
    TilePath::checked(kind, index, width)
}

/// Full tiles and the partial tile width (0 if none) at tile level `level` for a tree of `size`
/// leaves. For 70,000 leaves: level 0 → (273, 112), level 1 → (1, 17), level 2 → (0, 1).
pub fn tiles_at_level(size: u64, level: u8) -> (u64, u16) {
    let shift = u32::from(level) * TILE_HEIGHT;
    let nodes = size.checked_shr(shift).unwrap_or(0);
    let partial = u16::try_from(nodes % u64::from(TILE_WIDTH)).unwrap_or(0);
    (nodes / u64::from(TILE_WIDTH), partial)
}

/// Encodes entries as an entry bundle: each as a big-endian uint16 length and the bytes.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    let total: usize = entries.iter().map(|e| e.as_ref().len() + 2).sum();
    let mut out = Vec::with_capacity(total);
    for entry in entries {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge(entry.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Splits an entry bundle back into entries.
pub fn decode_entry_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (len, tail) = rest.split_first_chunk::<2>().ok_or(TileError::TruncatedBundle)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(TileError::TruncatedBundle);
        }
        let (entry, tail) = tail.split_at(len);
        entries.push(entry);
        rest = tail;
    }
    Ok(entries)
}

/// A hash tile body: the hashes concatenated.
pub fn encode_hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Splits a hash tile body into hashes, refusing bodies that are not 1–256 whole hashes.
pub fn decode_hash_tile(body: &[u8]) -> Result<Vec<Hash>, TileError> {
    if body.is_empty() || !body.len().is_multiple_of(HASH_SIZE) || body.len() > HASH_SIZE * usize::from(TILE_WIDTH) {
        return Err(TileError::BadTileLength(body.len()));
    }
    Ok(body.chunks_exact(HASH_SIZE).filter_map(|c| <Hash>::try_from(c).ok()).collect())
}
