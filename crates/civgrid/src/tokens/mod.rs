//! Bearer tokens: a secret handed out once and presented on every call. Two kinds share one
//! mechanism and one table (`bearer_token`):
//!
//! * a staff **API token** (`cgt_…`) lets another system act as a staff account, for at most a
//!   year;
//! * an **Open311 key** (`cgo_…`) lets a third-party app file service requests under a name,
//!   acting as no account, until revoked.
//!
//! A token is its kind's prefix and 32 random bytes in hex ([`generate`]); only its SHA-256
//! ([`hash`]) is stored. Verifying finds a live row: not revoked, not expired. Ids are counted
//! per kind, as they were when each kind had its own table.
//!
//! Writes take the caller's transaction, so the caller records the change (its own audit
//! action, e.g. `api_token.issue`) in the same one. Sessions (`cgs_`) and the once-shown keys
//! of citizens ([`OnceKey`]) use [`generate`]/[`hash`] too but live in their own tables.

mod store;

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::Digest;

use crate::db::{Db, Tx};

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Acts as a staff account (`staff_id`), until `expires_ms`.
    ApiToken,
    /// Files Open311 service requests under its name; no account, no expiry.
    Open311Key,
}

impl Kind {
    /// What a token of this kind starts with, so a leaked one is recognisable in logs and
    /// secret scanners.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::ApiToken => "cgt_",
            Kind::Open311Key => "cgo_",
        }
    }

    /// The `kind` column, and the entity the change record files the token under.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApiToken => "api_token",
            Kind::Open311Key => "open311_key",
        }
    }
}

/// A new secret: `prefix` and 32 random bytes in hex.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// SHA-256 (hex) of a secret handed out once (a token, a session, a reporter's photo key): all
/// that is stored of it.
pub fn hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A random secret handed to a citizen once, in an answer — a reporter's photo key, an
/// applicant's access key — with its SHA-256 ([`hash`]), which is all that is stored.
#[derive(educe::Educe, Clone)]
#[educe(Debug)]
pub(crate) struct OnceKey {
    #[educe(Debug(method(crate::secret::redacted)))]
    pub key: String,
    pub sha256: String,
}

impl OnceKey {
    pub(crate) fn new() -> OnceKey {
        let key = hex::encode(rand::random::<[u8; 16]>());
        let sha256 = hash(&key);
        OnceKey { key, sha256 }
    }
}

/// A token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub staff_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub expires_ms: Option<i64>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The live token a caller presented.
#[derive(Debug, Clone, PartialEq)]
pub struct Bearer {
    pub id: i64,
    pub name: String,
    /// The account an API token acts as.
    pub staff_id: Option<i64>,
}

/// Issues a token of `kind`: generates it, stores its hash, and returns (id, token) — the only
/// time the token is seen.
pub async fn issue(
    tx: &mut Tx<'_>,
    kind: Kind,
    name: &str,
    staff_id: Option<i64>,
    expires_ms: Option<i64>,
) -> Result<(i64, String), sqlx::Error> {
    let token = generate(kind.prefix());
    let id = store::insert(tx, kind, name, &hash(&token), staff_id, expires_ms).await?;
    Ok((id, token))
}

/// Stores a token chosen elsewhere (the demo's `--open311-key`); returns its id.
pub async fn store_given(tx: &mut Tx<'_>, kind: Kind, name: &str, token: &str) -> Result<i64, sqlx::Error> {
    store::insert(tx, kind, name, &hash(token), None, None).await
}

/// (id, revoked?) of the token of `kind` with this text, live or not.
pub async fn find(tx: &mut Tx<'_>, kind: Kind, token: &str) -> Result<Option<(i64, bool)>, sqlx::Error> {
    store::by_hash(tx, kind, &hash(token)).await
}

/// The live token behind `token`: of this kind, not revoked, not expired.
pub async fn verify(db: &Db, kind: Kind, token: &str) -> Result<Option<Bearer>, sqlx::Error> {
    if !(1..=256).contains(&token.len()) {
        return Ok(None);
    }
    store::live(db, kind, &hash(token), crate::db::now_ms()).await
}

/// Every token of `kind`, revoked and expired ones included, oldest first.
pub async fn list(db: &Db, kind: Kind) -> Result<Vec<TokenRow>, sqlx::Error> {
    store::list(db, kind).await
}

/// Ids of the live tokens of `kind` with this name.
pub async fn live_named(tx: &mut Tx<'_>, kind: Kind, name: &str) -> Result<Vec<i64>, sqlx::Error> {
    store::live_named(tx, kind, name).await
}

/// The account a live (unrevoked) token of `kind` acts as: `Some(None)` for a token acting as
/// no account, `None` when there is no such live token.
pub async fn owner(tx: &mut Tx<'_>, kind: Kind, id: i64) -> Result<Option<Option<i64>>, sqlx::Error> {
    store::owner(tx, kind, id).await
}

/// Revokes a live token; 0 when there is no live token of `kind` with this id.
pub async fn revoke(tx: &mut Tx<'_>, kind: Kind, id: i64) -> Result<u64, sqlx::Error> {
    store::revoke(tx, kind, id).await
}

/// Revokes every live token acting as `staff_id` (a new password, a deactivated account).
pub async fn revoke_of_staff(tx: &mut Tx<'_>, staff_id: i64) -> Result<u64, sqlx::Error> {
    store::revoke_of_staff(tx, staff_id).await
}

/// Runs a write that issues a token again if a parallel issue took the same id. Ids are
/// counted per kind (the next is one past the kind's highest), which SQLite's single writer
/// never hands out twice but two PostgreSQL transactions can: the second then fails on the
/// key, having written nothing, and its retry counts again.
pub(crate) async fn retry_on_clash<T, E, Fut>(
    mut attempt: impl FnMut() -> Fut,
    clash: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if tries < 4 && clash(&e) => tries += 1,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_only_the_hash_is_kept() {
        let t = generate(Kind::ApiToken.prefix());
        assert!(t.starts_with("cgt_") && t.len() == 4 + 64);
        assert_ne!(t, generate(Kind::ApiToken.prefix()));
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(generate(Kind::Open311Key.prefix()).starts_with("cgo_"));
    }
}
