//! SQL for Open311: API keys (hashes only) and the link from a case to the key that filed it.

use sqlx::Row;

use crate::db::{now_text, Db, Tx};

/// An API key as stored (never the key itself).
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub async fn insert_key(tx: &mut Tx<'_>, name: &str, hash: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("insert into open311_key (name, key_hash, created_at) values ($1, $2, $3) returning id")
        .bind(name)
        .bind(hash)
        .bind(now_text())
        .fetch_one(&mut **tx)
        .await
}

/// Revokes a live key; 0 when there is no live key with this id.
pub async fn revoke_key(tx: &mut Tx<'_>, id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update open311_key set revoked_at = $1 where id = $2 and revoked_at is null")
        .bind(now_text())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

/// Ids of the live keys with this name.
pub async fn live_keys_named(tx: &mut Tx<'_>, name: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from open311_key where name = $1 and revoked_at is null order by id")
        .bind(name)
        .fetch_all(&mut **tx)
        .await
}

/// (id, name, revoked?) of the key with this hash, live or not.
pub async fn key_by_hash(tx: &mut Tx<'_>, hash: &str) -> Result<Option<(i64, String, bool)>, sqlx::Error> {
    let row = sqlx::query("select id, name, revoked_at from open311_key where key_hash = $1")
        .bind(hash)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("name")?, r.try_get::<Option<String>, _>("revoked_at")?.is_some())))
        .transpose()
}

/// (id, name) of the live key with this hash.
pub async fn live_key(db: &Db, hash: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row = sqlx::query("select id, name from open311_key where key_hash = $1 and revoked_at is null")
        .bind(hash)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("name")?))).transpose()
}

pub async fn list_keys(db: &Db) -> Result<Vec<KeyRow>, sqlx::Error> {
    let rows = sqlx::query("select id, name, created_at, revoked_at from open311_key order by id")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}
