//! Area and grid codes. A code is validated once, on construction; everything downstream can
//! trust it. The hierarchy is encoded in the digits, so the parent of any code is its prefix:
//!
//! | level       | digits | example          | standard                        |
//! |-------------|--------|------------------|---------------------------------|
//! | district    | 6      | `440604`         | GB/T 2260 county-level division |
//! | subdistrict | 9      | `440604001`      | 街道/镇, 3 digits `001`–`999`   |
//! | community   | 12     | `440604001002`   | 社区/村, 3 digits `001`–`999`   |
//! | grid        | 14     | `44060400100203` | GB/T 30428 unit grid, `01`–`99` |

use std::fmt;

use serde::{Deserialize, Serialize};

/// GB/T 2260 province-level prefixes in use.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82,
];

/// Why a code was refused. `code()` gives the stable API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("`{0}` is not a code: codes are 6 (district), 9 (subdistrict), 12 (community) or 14 (grid) ASCII digits")]
    Malformed(String),
    #[error("`{code}` is not a {expected} code ({digits} digits expected)")]
    WrongLevel { code: String, expected: &'static str, digits: usize },
    #[error("`{0}` is not a GB/T 2260 district code: the province prefix does not exist")]
    UnknownProvince(String),
    #[error("`{0}` is not a district code: a GB/T 2260 district code does not end in 00")]
    NotADistrict(String),
    #[error("`{0}` has a zero segment: subdistrict and community segments run 001–999, grid segments 01–99")]
    ZeroSegment(String),
}

impl CodeError {
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::Malformed(_)
            | CodeError::UnknownProvince(_)
            | CodeError::NotADistrict(_)
            | CodeError::ZeroSegment(_) => "invalid_code",
            CodeError::WrongLevel { .. } => "wrong_code_level",
        }
    }
}

/// The three administrative levels above a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    District,
    Subdistrict,
    Community,
}

impl AreaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::District => "district",
            AreaLevel::Subdistrict => "subdistrict",
            AreaLevel::Community => "community",
        }
    }
    pub fn digits(self) -> usize {
        match self {
            AreaLevel::District => 6,
            AreaLevel::Subdistrict => 9,
            AreaLevel::Community => 12,
        }
    }
    pub fn parse(s: &str) -> Option<AreaLevel> {
        match s {
            "district" => Some(AreaLevel::District),
            "subdistrict" => Some(AreaLevel::Subdistrict),
            "community" => Some(AreaLevel::Community),
            _ => None,
        }
    }
}

fn check_digits(s: &str) -> Result<(), CodeError> {
    if s.is_empty() || s.len() > 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::Malformed(truncate(s)));
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(32).collect()
}

/// Checks the district part and every segment after it.
fn check_segments(s: &str) -> Result<(), CodeError> {
    let province: u8 = s[0..2].parse().map_err(|_| CodeError::Malformed(truncate(s)))?;
    if !PROVINCES.contains(&province) {
        return Err(CodeError::UnknownProvince(s.to_owned()));
    }
    if &s[4..6] == "00" {
        return Err(CodeError::NotADistrict(s.to_owned()));
    }
    for (start, end) in [(6, 9), (9, 12), (12, 14)] {
        if s.len() >= end && s[start..end].bytes().all(|b| b == b'0') {
            return Err(CodeError::ZeroSegment(s.to_owned()));
        }
    }
    Ok(())
}

/// A district, subdistrict or community code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    /// Parses any area level, inferring it from the length.
    pub fn parse(s: &str) -> Result<AreaCode, CodeError> {
        check_digits(s)?;
        if ![6, 9, 12].contains(&s.len()) {
            return Err(CodeError::Malformed(truncate(s)));
        }
        check_segments(s)?;
        Ok(AreaCode(s.to_owned()))
    }

    /// Parses a code that must be at `level`.
    pub fn parse_at(s: &str, level: AreaLevel) -> Result<AreaCode, CodeError> {
        check_digits(s)?;
        if s.len() != level.digits() {
            return Err(CodeError::WrongLevel { code: truncate(s), expected: level.as_str(), digits: level.digits() });
        }
        check_segments(s)?;
        Ok(AreaCode(s.to_owned()))
    }

    pub fn level(&self) -> AreaLevel {
        match self.0.len() {
            6 => AreaLevel::District,
            9 => AreaLevel::Subdistrict,
            _ => AreaLevel::Community,
        }
    }

    /// The enclosing area; a district has none.
    pub fn parent(&self) -> Option<AreaCode> {
        match self.level() {
            AreaLevel::District => None,
            AreaLevel::Subdistrict => Some(AreaCode(self.0[..6].to_owned())),
            AreaLevel::Community => Some(AreaCode(self.0[..9].to_owned())),
        }
    }

    pub fn district(&self) -> AreaCode {
        AreaCode(self.0[..6].to_owned())
    }

    /// Whether `other` (an area or grid code) lies within this area (or is it).
    pub fn covers(&self, other: &str) -> bool {
        other.starts_with(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The child code with the given 3-digit sequence number (1–999).
    pub fn child(&self, seq: u16) -> Option<AreaCode> {
        if !(1..=999).contains(&seq) || self.level() == AreaLevel::Community {
            return None;
        }
        Some(AreaCode(format!("{}{:03}", self.0, seq)))
    }

    /// The grid code with the given 2-digit sequence number (1–99) in this community.
    pub fn grid(&self, seq: u8) -> Option<GridCode> {
        if !(1..=99).contains(&seq) || self.level() != AreaLevel::Community {
            return None;
        }
        Some(GridCode(format!("{}{:02}", self.0, seq)))
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.0
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 14-digit GB/T 30428 unit-grid code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct GridCode(String);

impl GridCode {
    pub fn parse(s: &str) -> Result<GridCode, CodeError> {
        check_digits(s)?;
        if s.len() != 14 {
            return Err(CodeError::WrongLevel { code: truncate(s), expected: "grid", digits: 14 });
        }
        check_segments(s)?;
        Ok(GridCode(s.to_owned()))
    }
    pub fn community(&self) -> AreaCode {
        AreaCode(self.0[..12].to_owned())
    }
    pub fn subdistrict(&self) -> AreaCode {
        AreaCode(self.0[..9].to_owned())
    }
    pub fn district(&self) -> AreaCode {
        AreaCode(self.0[..6].to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<GridCode> for String {
    fn from(c: GridCode) -> String {
        c.0
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_grid_code_knows_its_ancestors() {
        let g = GridCode::parse("44060400100203").unwrap();
        assert_eq!(g.community().as_str(), "440604001002");
        assert_eq!(g.subdistrict().as_str(), "440604001");
        assert_eq!(g.district().as_str(), "440604");
        assert_eq!(g.community().parent().unwrap().as_str(), "440604001");
    }

    #[test]
    fn bad_codes_are_refused_with_a_reason() {
        assert!(matches!(AreaCode::parse("44060"), Err(CodeError::Malformed(_))));
        assert!(matches!(AreaCode::parse("44O604"), Err(CodeError::Malformed(_))));
        assert!(matches!(AreaCode::parse("990604"), Err(CodeError::UnknownProvince(_))));
        assert!(matches!(AreaCode::parse("440600"), Err(CodeError::NotADistrict(_))));
        assert!(matches!(AreaCode::parse("440604000"), Err(CodeError::ZeroSegment(_))));
        assert!(matches!(GridCode::parse("44060400100200"), Err(CodeError::ZeroSegment(_))));
        assert!(matches!(GridCode::parse("440604001002"), Err(CodeError::WrongLevel { .. })));
        assert!(matches!(AreaCode::parse_at("440604001", AreaLevel::Community), Err(CodeError::WrongLevel { .. })));
        assert_eq!(AreaCode::parse("440604").unwrap().level(), AreaLevel::District);
    }

    #[test]
    fn coverage_is_a_prefix_relation() {
        let s = AreaCode::parse("440604001").unwrap();
        assert!(s.covers("44060400100203"));
        assert!(!s.covers("44060400200203"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,20}") {
            let _ = AreaCode::parse(&s);
            let _ = GridCode::parse(&s);
        }

        #[test]
        fn generated_children_parse_back(sub in 1u16..=999, com in 1u16..=999, g in 1u8..=99) {
            let d = AreaCode::parse("440604").unwrap();
            let c = d.child(sub).unwrap().child(com).unwrap();
            let grid = c.grid(g).unwrap();
            prop_assert_eq!(GridCode::parse(grid.as_str()).unwrap(), grid.clone());
            prop_assert_eq!(grid.community(), c);
        }
    }
}
