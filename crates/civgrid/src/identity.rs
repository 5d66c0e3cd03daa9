//! Identity numbers, validated on construction so nothing downstream re-checks them.

use std::fmt;

/// Why an identity number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("a resident ID number has 18 characters: 17 digits and a digit or X")]
    ResidentIdShape,
    #[error("the resident ID number's birth date is not a real date")]
    ResidentIdBirthDate,
    #[error("the resident ID number's check character does not match (GB 11643)")]
    ResidentIdChecksum,
    #[error("a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, V and Z")]
    CreditCodeShape,
    #[error("the unified social credit code's check character does not match (GB 32100)")]
    CreditCodeChecksum,
}

impl IdError {
    pub fn code(&self) -> &'static str {
        match self {
            IdError::ResidentIdShape => "invalid_id_number",
            IdError::ResidentIdBirthDate => "invalid_id_number_birth_date",
            IdError::ResidentIdChecksum => "invalid_id_number_checksum",
            IdError::CreditCodeShape => "invalid_credit_code",
            IdError::CreditCodeChecksum => "invalid_credit_code_checksum",
        }
    }
}

/// A citizen's resident identity number (公民身份号码, GB 11643-1999): a 6-digit area code,
/// an 8-digit birth date, a 3-digit sequence and an ISO 7064 MOD 11-2 check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

impl ResidentId {
    pub fn parse(text: &str) -> Result<ResidentId, IdError> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        let shape_ok = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !shape_ok {
            return Err(IdError::ResidentIdShape);
        }
        let birth = upper.get(6..14).ok_or(IdError::ResidentIdShape)?;
        if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
            return Err(IdError::ResidentIdBirthDate);
        }
        if check_character(&bytes[..17]) != Some(bytes[17]) {
            return Err(IdError::ResidentIdChecksum);
        }
        Ok(ResidentId(upper))
    }

    /// Completes 17 digits with their check character (for generated demo data).
    pub fn complete(first17: &str) -> Result<ResidentId, IdError> {
        let c = check_character(first17.as_bytes()).ok_or(IdError::ResidentIdShape)?;
        ResidentId::parse(&format!("{first17}{}", c as char))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with the middle (birth date and sequence) hidden, for lists and pages.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

/// The ISO 7064 MOD 11-2 check character of 17 ASCII digits.
fn check_character(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK.get((sum % 11) as usize).copied()
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A legal entity's unified social credit code (统一社会信用代码, GB 32100-2015): a registration
/// authority code, an entity type code, a 6-digit administrative division (GB/T 2260), the
/// 9-character organisation code (GB 11714) and a check character computed modulo 31 over the
/// 31-character alphabet `0-9 A-H J-N P-R T U W-Y` (no I, O, S, V, Z).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn credit_value(c: u8) -> Option<u32> {
    CREDIT_ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The GB 32100 check character of 17 code characters.
fn credit_check(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.iter().zip(CREDIT_WEIGHTS) {
        sum += credit_value(*c)? * w;
    }
    CREDIT_ALPHABET.get(((31 - sum % 31) % 31) as usize).copied()
}

impl CreditCode {
    pub fn parse(text: &str) -> Result<CreditCode, IdError> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        let shape_ok = bytes.len() == 18
            && bytes.iter().all(|c| credit_value(*c).is_some())
            && bytes[2..8].iter().all(u8::is_ascii_digit);
        if !shape_ok {
            return Err(IdError::CreditCodeShape);
        }
        if credit_check(&bytes[..17]) != Some(bytes[17]) {
            return Err(IdError::CreditCodeChecksum);
        }
        Ok(CreditCode(upper))
    }

    /// Completes 17 characters with their check character (for generated demo data).
    pub fn complete(first17: &str) -> Result<CreditCode, IdError> {
        let c = credit_check(first17.to_ascii_uppercase().as_bytes()).ok_or(IdError::CreditCodeShape)?;
        CreditCode::parse(&format!("{first17}{}", c as char))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standard_example_is_accepted() {
        // GB 11643-1999 appendix example and a lower-case x.
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert_eq!(ResidentId::parse("11010519491231002x").unwrap().as_str(), "11010519491231002X");
        assert_eq!(ResidentId::parse("440524188001010014").unwrap().masked(), "440524********0014");
        assert_eq!(ResidentId::complete("11010519491231002").unwrap().as_str(), "11010519491231002X");
        assert!(ResidentId::complete("1101051949123100").is_err());
    }

    #[test]
    fn bad_numbers_are_refused_precisely() {
        assert_eq!(ResidentId::parse("11010519491231002").unwrap_err().code(), "invalid_id_number");
        assert_eq!(ResidentId::parse("1101051949123100XX").unwrap_err().code(), "invalid_id_number");
        assert_eq!(ResidentId::parse("110105194913310021").unwrap_err().code(), "invalid_id_number_birth_date");
        assert_eq!(ResidentId::parse("110105194912310021").unwrap_err().code(), "invalid_id_number_checksum");
    }

    #[test]
    fn credit_codes_are_checked() {
        // A published example code and one completed from its first 17 characters.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        assert_eq!(CreditCode::parse("91350100m000100y43").unwrap().as_str(), "91350100M000100Y43");
        assert_eq!(CreditCode::complete("91440604MA4UH5XK0").unwrap().as_str().len(), 18);
        assert_eq!(CreditCode::parse("91350100M000100Y44").unwrap_err().code(), "invalid_credit_code_checksum");
        assert_eq!(CreditCode::parse("91350100M000100Y4").unwrap_err().code(), "invalid_credit_code");
        // I, O, S, V and Z are not in the alphabet; the division must be digits.
        assert_eq!(CreditCode::parse("91350100M000100I43").unwrap_err().code(), "invalid_credit_code");
        assert_eq!(CreditCode::parse("9135A100M000100Y43").unwrap_err().code(), "invalid_credit_code");
    }

    proptest! {
        #[test]
        fn exactly_one_credit_check_character_fits(body in "[1-9A-HNY][1-9][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{9}") {
            let valid: Vec<char> = CREDIT_ALPHABET.iter().map(|&b| b as char)
                .filter(|c| CreditCode::parse(&format!("{body}{c}")).is_ok()).collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn credit_parsing_never_panics(s in "\\PC{0,24}") {
            let _ = CreditCode::parse(&s);
        }

        #[test]
        fn exactly_one_check_character_fits(body in "[1-6][0-9]{5}(19[5-9][0-9]|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}") {
            let valid: Vec<char> = "0123456789X".chars().filter(|c| ResidentId::parse(&format!("{body}{c}")).is_ok()).collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}") {
            let _ = ResidentId::parse(&s);
        }
    }
}
