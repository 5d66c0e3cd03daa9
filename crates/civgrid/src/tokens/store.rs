//! SQL for bearer tokens (`bearer_token`: hashes only).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Bearer, Kind, TokenRow};
use crate::db::{self, now_text, Db, Tx};

/// Inserts a token with the next id of its kind (see [`super::retry_on_clash`]).
pub async fn insert(
    tx: &mut Tx<'_>,
    kind: Kind,
    name: &str,
    hash: &str,
    staff_id: Option<i64>,
    expires_ms: Option<i64>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into bearer_token (kind, id, name, token_hash, staff_id, created_at, expires_ms)
         select $1, coalesce(max(id), 0) + 1, $2, $3, $4, $5, $6 from bearer_token where kind = $1
         returning id",
    )
    .bind(kind.as_str())
    .bind(name)
    .bind(hash)
    .bind(staff_id)
    .bind(now_text())
    .bind(expires_ms)
    .fetch_one(&mut **tx)
    .await
}

pub async fn by_hash(tx: &mut Tx<'_>, kind: Kind, hash: &str) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let row = sqlx::query("select id, revoked_at from bearer_token where kind = $1 and token_hash = $2")
        .bind(kind.as_str())
        .bind(hash)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("id")?, db::at_opt(&r, "revoked_at")?.is_some()))).transpose()
}

pub async fn live(db: &Db, kind: Kind, hash: &str, now_ms: i64) -> Result<Option<Bearer>, sqlx::Error> {
    let row = sqlx::query(
        "select id, name, staff_id from bearer_token
         where kind = $1 and token_hash = $2 and revoked_at is null and (expires_ms is null or expires_ms > $3)",
    )
    .bind(kind.as_str())
    .bind(hash)
    .bind(now_ms)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| Ok(Bearer { id: r.try_get("id")?, name: r.try_get("name")?, staff_id: r.try_get("staff_id")? }))
        .transpose()
}

fn token_from(r: &AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        staff_id: r.try_get("staff_id")?,
        created_at: db::at(r, "created_at")?,
        expires_ms: r.try_get("expires_ms")?,
        revoked_at: db::at_opt(r, "revoked_at")?,
    })
}

pub async fn list(db: &Db, kind: Kind) -> Result<Vec<TokenRow>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, name, staff_id, created_at, expires_ms, revoked_at from bearer_token where kind = $1 order by id",
    )
    .bind(kind.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(token_from).collect()
}

pub async fn live_named(tx: &mut Tx<'_>, kind: Kind, name: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from bearer_token where kind = $1 and name = $2 and revoked_at is null order by id")
        .bind(kind.as_str())
        .bind(name)
        .fetch_all(&mut **tx)
        .await
}

pub async fn owner(tx: &mut Tx<'_>, kind: Kind, id: i64) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar("select staff_id from bearer_token where kind = $1 and id = $2 and revoked_at is null")
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn revoke(tx: &mut Tx<'_>, kind: Kind, id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update bearer_token set revoked_at = $1 where kind = $2 and id = $3 and revoked_at is null")
        .bind(now_text())
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}

pub async fn revoke_of_staff(tx: &mut Tx<'_>, staff_id: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("update bearer_token set revoked_at = $1 where staff_id = $2 and revoked_at is null")
        .bind(now_text())
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected())
}
