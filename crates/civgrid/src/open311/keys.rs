//! Open311 API keys: a third-party app's key to file service requests, through the one
//! bearer-token mechanism ([`crate::tokens`], kind [`Kind::Open311Key`]): only its SHA-256 is
//! stored, it is shown once when issued, and issuing and revoking are recorded in the change
//! record (`open311_key.issue`, `open311_key.revoke`).

use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::db::{BoxFuture, Db, Tx};
use crate::tokens::{self, Kind, TokenRow};

/// Name of the key set with `civgrid demo --open311-key KEY`.
pub const DEMO_KEY_NAME: &str = "demo";
/// Name of the key the demo generates when no key is given.
pub const GENERATED_DEMO_KEY_NAME: &str = "demo-generated";

/// An API key as stored (never the key itself).
pub type KeyRow = TokenRow;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("name must be 1–64 printable characters")]
    InvalidName,
    #[error("an Open311 API key must be 8–128 printable ASCII characters without spaces")]
    InvalidKey,
    #[error("Open311 key {0} does not exist or is already revoked")]
    NotFound(i64),
    #[error("this Open311 API key was revoked; choose another one")]
    Revoked,
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

impl KeyError {
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::InvalidName => "invalid_name",
            KeyError::InvalidKey => "invalid_key",
            KeyError::NotFound(_) => "open311_key_not_found",
            KeyError::Revoked => "open311_key_revoked",
            KeyError::Store(_) => "internal",
        }
    }

    fn is_clash(&self) -> bool {
        matches!(self, KeyError::Store(e) if crate::db::is_unique_violation(e))
    }
}

/// A live key that authenticated a request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
}

impl ApiKey {
    /// Who the case is reported by.
    pub fn reporter(&self) -> String {
        format!("open311:{}", self.name)
    }
}

/// SHA-256 (hex) of a key: all that is stored of it.
pub fn hash_key(key: &str) -> String {
    tokens::hash(key)
}

fn valid_name(name: &str) -> Result<String, KeyError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(KeyError::InvalidName);
    }
    Ok(n.to_owned())
}

/// Issues a key in `tx` and records it; returns (id, key).
async fn issue_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    name: &str,
    request_id: Option<&str>,
) -> Result<(i64, String), KeyError> {
    let (id, key) = tokens::issue(tx, Kind::Open311Key, name, None, None).await?;
    record_issued(tx, actor, id, name, request_id).await?;
    Ok((id, key))
}

async fn record_issued(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: i64,
    name: &str,
    request_id: Option<&str>,
) -> Result<(), KeyError> {
    audit::record(
        tx,
        Change {
            actor,
            action: "open311_key.issue",
            entity: Kind::Open311Key.as_str(),
            entity_id: &id.to_string(),
            before: None,
            after: Some(json!({"name": name})),
            request_id,
        },
    )
    .await?;
    Ok(())
}

/// Revokes a live key in `tx` and records it; `NotFound` when there is none with this id.
async fn revoke_in(tx: &mut Tx<'_>, actor: &Actor, id: i64, request_id: Option<&str>) -> Result<(), KeyError> {
    if tokens::revoke(tx, Kind::Open311Key, id).await? == 0 {
        return Err(KeyError::NotFound(id));
    }
    audit::record(
        tx,
        Change {
            actor,
            action: "open311_key.revoke",
            entity: Kind::Open311Key.as_str(),
            entity_id: &id.to_string(),
            before: Some(json!({"revoked": false})),
            after: Some(json!({"revoked": true})),
            request_id,
        },
    )
    .await?;
    Ok(())
}

/// The Open311 key service.
#[derive(Debug, Clone)]
pub struct Keys {
    db: Db,
}

impl Keys {
    pub fn new(db: Db) -> Keys {
        Keys { db }
    }

    /// Issues a key; the key is returned here only.
    pub async fn issue(&self, actor: &Actor, name: &str, request_id: Option<&str>) -> Result<(i64, String), KeyError> {
        let name = valid_name(name)?;
        let request_id = request_id.map(str::to_owned);
        tokens::retry_on_clash(
            || {
                let (actor, name, request_id) = (actor.clone(), name.clone(), request_id.clone());
                self.db.write(move |tx| -> BoxFuture<'_, Result<(i64, String), KeyError>> {
                    Box::pin(async move { issue_in(tx, &actor, &name, request_id.as_deref()).await })
                })
            },
            KeyError::is_clash,
        )
        .await
    }

    pub async fn revoke(&self, actor: &Actor, id: i64, request_id: Option<&str>) -> Result<(), KeyError> {
        let (actor, request_id) = (actor.clone(), request_id.map(str::to_owned));
        self.db
            .write(move |tx| -> BoxFuture<'_, Result<(), KeyError>> {
                Box::pin(async move { revoke_in(tx, &actor, id, request_id.as_deref()).await })
            })
            .await
    }

    /// Every key, revoked ones included.
    pub async fn list(&self) -> Result<Vec<KeyRow>, KeyError> {
        Ok(tokens::list(&self.db, Kind::Open311Key).await?)
    }

    /// The live key behind `key`, if any.
    pub async fn verify(&self, key: &str) -> Result<Option<ApiKey>, KeyError> {
        Ok(tokens::verify(&self.db, Kind::Open311Key, key).await?.map(|b| ApiKey { id: b.id, name: b.name }))
    }

    /// The demo's key. Given one (`--open311-key`), stores its hash unless already there, so a
    /// restart changes nothing. Without one, generates a key (to print), revoking the key the
    /// previous start generated, which nobody can know any more.
    pub async fn ensure_demo_key(&self, given: Option<&str>) -> Result<String, KeyError> {
        if let Some(k) = given {
            let ok = (8..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(KeyError::InvalidKey);
            }
        }
        let given = given.map(str::to_owned);
        tokens::retry_on_clash(
            || {
                let given = given.clone();
                self.db.write(move |tx| -> BoxFuture<'_, Result<String, KeyError>> {
                    Box::pin(async move { demo_key_in(tx, given).await })
                })
            },
            KeyError::is_clash,
        )
        .await
    }
}

async fn demo_key_in(tx: &mut Tx<'_>, given: Option<String>) -> Result<String, KeyError> {
    let actor = Actor::system("demo");
    match given {
        Some(k) => {
            match tokens::find(tx, Kind::Open311Key, &k).await? {
                Some((_, true)) => return Err(KeyError::Revoked),
                Some((_, false)) => return Ok(k),
                None => {}
            }
            let id = tokens::store_given(tx, Kind::Open311Key, DEMO_KEY_NAME, &k).await?;
            record_issued(tx, &actor, id, DEMO_KEY_NAME, None).await?;
            Ok(k)
        }
        None => {
            for id in tokens::live_named(tx, Kind::Open311Key, GENERATED_DEMO_KEY_NAME).await? {
                revoke_in(tx, &actor, id, None).await?;
            }
            let (_, key) = issue_in(tx, &actor, GENERATED_DEMO_KEY_NAME, None).await?;
            Ok(key)
        }
    }
}
