//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes), always off the async
//! runtime because a hash takes tens of milliseconds of CPU.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Passwords shorter than this are refused for staff accounts (等保 level 3 reviews ask for
/// length and complexity; 10 characters of three kinds is what we hold ourselves to).
pub const MIN_LENGTH: usize = 10;
/// Of lower-case letters, upper-case letters, digits and other characters, a password holds
/// at least this many kinds.
pub const MIN_CLASSES: usize = 3;
/// Longer inputs are refused before hashing so nobody can make the server hash megabytes.
pub const MAX_LENGTH: usize = 256;

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Verifies a password. Without a stored hash (unknown user) it still spends one hash's work,
/// so response times do not reveal which usernames exist, and answers false.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => {
            let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        }
        None => {
            let salt = SaltString::generate(&mut OsRng);
            let _ = Argon2::default().hash_password(password.as_bytes(), &salt);
            Ok(false)
        }
    })
    .await?
}

/// Passwords people pick first (and their variants with digits or symbols around them): the
/// ones a guesser tries first. Compared on the letters alone, lower-cased.
const COMMON: [&str; 24] = [
    "password",
    "passw",
    "qwerty",
    "qwertyuiop",
    "asdfgh",
    "asdfghjkl",
    "zxcvbn",
    "abc",
    "abcd",
    "abcdef",
    "admin",
    "administrator",
    "root",
    "welcome",
    "letmein",
    "iloveyou",
    "woaini",
    "changeme",
    "test",
    "guest",
    "civgrid",
    "aaaaaa",
    "qazwsx",
    "pass",
];

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    Length,
    Classes,
    ContainsUsername,
    Common,
}

/// The password policy: length, kinds of characters, not the username, not a common password.
pub fn check_policy(password: &str, username: &str) -> Result<(), Weakness> {
    let n = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&n) {
        return Err(Weakness::Length);
    }
    let kinds = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < MIN_CLASSES {
        return Err(Weakness::Classes);
    }
    let lower = password.to_lowercase();
    let user = username.trim().to_lowercase();
    if user.len() >= 3 && (lower.contains(&user) || lower.contains(&user.chars().rev().collect::<String>())) {
        return Err(Weakness::ContainsUsername);
    }
    // A common password with digits and symbols around it is still that password.
    let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() || COMMON.iter().any(|c| letters == *c) {
        return Err(Weakness::Common);
    }
    Ok(())
}

/// What generated passwords are made of: letters and digits that cannot be mistaken for one
/// another when read off a screen or a sheet of paper (no 0/O, 1/l/I), and a few signs that
/// need no quoting in a shell or a CSV file.
const GENERATED_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.+=%";
/// Length of a generated password: 20 of 61 symbols, about 118 bits.
pub const GENERATED_LENGTH: usize = 20;

/// A one-time password for `username` from the operating system's generator, passing the
/// policy (drawn again in the rare case it would not, e.g. no digit among the twenty).
pub fn generate(username: &str) -> String {
    use rand::Rng;
    loop {
        let p: String = (0..GENERATED_LENGTH)
            .map(|_| char::from(GENERATED_ALPHABET[OsRng.gen_range(0..GENERATED_ALPHABET.len())]))
            .collect();
        if check_policy(&p, username).is_ok() {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_wants_length_kinds_and_no_username_or_common_word() {
        assert_eq!(check_policy("Short1!", "wang"), Err(Weakness::Length));
        assert_eq!(check_policy("alllowercaseletters", "wang"), Err(Weakness::Classes));
        assert_eq!(check_policy("lowercase-and-dash", "wang"), Err(Weakness::Classes));
        assert_eq!(check_policy("Wang.Wei-2026", "wang.wei"), Err(Weakness::ContainsUsername));
        assert_eq!(check_policy("P@ssw0rd2026!", "wang"), Ok(()), "letters `psswrd` are not `password`");
        assert_eq!(check_policy("Password2026!", "wang"), Err(Weakness::Common));
        assert_eq!(check_policy("2026!Qwerty", "wang"), Err(Weakness::Common));
        assert_eq!(check_policy("12345678901!A", "wang"), Ok(()));
        assert_eq!(check_policy("网格巡查Zm-2026", "wang"), Ok(()));
        assert_eq!(check_policy(&"Aa1!".repeat(70), "wang"), Err(Weakness::Length));
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let a = generate("sysadmin");
        assert_eq!(a.chars().count(), GENERATED_LENGTH);
        assert_eq!(check_policy(&a, "sysadmin"), Ok(()));
        assert!(a.bytes().all(|b| GENERATED_ALPHABET.contains(&b)), "{a}");
        assert_ne!(a, generate("sysadmin"));
    }
}
