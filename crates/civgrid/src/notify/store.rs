//! SQL for the outbox.

use sqlx::Row;

use crate::db::{Db, Tx};

#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

pub async fn enqueue(
    tx: &mut Tx<'_>,
    case_id: i64,
    channel: &str,
    recipient: &str,
    subject: &str,
    body: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into outbox (case_id, channel, recipient, subject, body, next_attempt_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(case_id)
    .bind(channel)
    .bind(recipient)
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A message that belongs to no case (`case_id` null).
pub async fn enqueue_unlinked(
    tx: &mut Tx<'_>,
    channel: &str,
    recipient: &str,
    subject: &str,
    body: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into outbox (channel, recipient, subject, body, next_attempt_at, created_at)
         values ($1, $2, $3, $4, $5, $5)",
    )
    .bind(channel)
    .bind(recipient)
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ids of messages due now and not leased by anyone.
pub async fn due(db: &Db, now: &str, limit: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select id from outbox where sent_at is null and failed_at is null and next_attempt_at <= $1
           and (claimed_until is null or claimed_until < $1) order by id limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

/// Takes a lease on one message; false if another worker got it first.
pub async fn claim(db: &Db, id: i64, now: &str, until: &str) -> Result<Option<Message>, sqlx::Error> {
    let r = sqlx::query(
        "update outbox set claimed_until = $1 where id = $2 and sent_at is null and failed_at is null
           and (claimed_until is null or claimed_until < $3)",
    )
    .bind(until)
    .bind(id)
    .bind(now)
    .execute(db.pool())
    .await?;
    if r.rows_affected() != 1 {
        return Ok(None);
    }
    let row = sqlx::query("select id, channel, recipient, subject, body, attempts from outbox where id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(Some(Message {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        attempts: row.try_get("attempts")?,
    }))
}

pub async fn mark_sent(db: &Db, id: i64, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update outbox set sent_at = $1, attempts = attempts + 1, claimed_until = null, last_error = null where id = $2")
        .bind(now)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records a failed attempt: retry at `next`, or give up when `next` is None.
pub async fn mark_failed(db: &Db, id: i64, error: &str, next: Option<&str>, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update outbox set attempts = attempts + 1, claimed_until = null, last_error = $1,
           next_attempt_at = coalesce($2, next_attempt_at), failed_at = case when $2 is null then $3 else null end
         where id = $4",
    )
    .bind(error)
    .bind(next)
    .bind(now)
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn pending(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from outbox where sent_at is null and failed_at is null")
        .fetch_one(db.pool())
        .await
}
