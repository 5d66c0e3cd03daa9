//! The change record (留痕): every change that matters is written here, in the same
//! transaction as the change itself, with who made it, when, and the state before and after.
//! The trust ledger (issue 4) will chain these rows into its Merkle log.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::{at, now_text, Db, Tx};

/// Who is acting: a staff member, an API token, the command line, or the platform itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    label: String,
}

impl Actor {
    pub fn staff(id: i64, username: &str) -> Actor {
        Actor { label: format!("staff:{id}:{username}") }
    }
    pub fn api_token(token_id: i64, staff_id: i64, username: &str) -> Actor {
        Actor { label: format!("token:{token_id}:staff:{staff_id}:{username}") }
    }
    /// An operator at the command line (the OS user when known).
    pub fn cli(user: &str) -> Actor {
        Actor { label: format!("cli:{user}") }
    }
    pub fn system(what: &str) -> Actor {
        Actor { label: format!("system:{what}") }
    }
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The staff member a label names: `staff:ID:…` ([`Actor::staff`]), `token:T:staff:ID:…`
    /// ([`Actor::api_token`]) or another label carrying `:staff:ID:` (the demo seeder acting in
    /// a staff member's name).
    pub fn staff_id_of(label: &str) -> Option<i64> {
        let parts: Vec<&str> = label.split(':').collect();
        let at = parts.iter().position(|p| *p == "staff")?;
        let id = parts.get(at + 1).filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))?;
        parts.get(at + 2)?;
        id.parse().ok()
    }
}

/// One change to record.
#[derive(Debug)]
pub struct Change<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<&'a str>,
}

/// Writes one change record inside the caller's transaction.
pub async fn record(tx: &mut Tx<'_>, change: Change<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into change_record (at, actor, action, entity, entity_id, before_json, after_json, request_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_text())
    .bind(change.actor.label())
    .bind(change.action)
    .bind(change.entity)
    .bind(change.entity_id)
    .bind(change.before.map(|v| v.to_string()))
    .bind(change.after.map(|v| v.to_string()))
    .bind(change.request_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A change record as read back.
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

/// Filter for listing change records, newest first.
#[derive(Debug, Default)]
pub struct ChangeFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn list(db: &Db, f: &ChangeFilter) -> Result<Vec<ChangeRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, at, actor, action, entity, entity_id, before_json, after_json, request_id
         from change_record
         where ($1 is null or entity = $1) and ($2 is null or entity_id = $2) and ($3 is null or id < $3)
         order by id desc limit $4",
    )
    .bind(f.entity.as_deref())
    .bind(f.entity_id.as_deref())
    .bind(f.before_id)
    .bind(f.limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
            Ok(ChangeRecord {
                id: r.try_get("id")?,
                at: at(r, "at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                entity: r.try_get("entity")?,
                entity_id: r.try_get("entity_id")?,
                before: parse(r.try_get("before_json")?),
                after: parse(r.try_get("after_json")?),
                request_id: r.try_get("request_id")?,
            })
        })
        .collect()
}

/// One read of personal data to record (查阅留痕): who read, why, which records.
#[derive(Debug)]
pub struct Access<'a> {
    pub actor: &'a Actor,
    /// What the read was for, named after its use (`case.read`, `licences.read`, …).
    pub purpose: &'a str,
    /// The kind of record read (`case`, `applicant`, `application`, `certificate`).
    pub subject_kind: &'a str,
    /// The records read: one access row each, so a person's trail is found by subject.
    pub subjects: Vec<String>,
    pub request_id: Option<&'a str>,
}

/// Most rows one multi-row INSERT of access records carries.
const ACCESS_ROWS_PER_INSERT: usize = 200;

/// Records a read inside the caller's transaction.
pub async fn record_access_in(tx: &mut Tx<'_>, access: &Access<'_>) -> Result<(), sqlx::Error> {
    let dialect = crate::db::Dialect::of(tx);
    let at = now_text();
    for chunk in access.subjects.chunks(ACCESS_ROWS_PER_INSERT) {
        let sql = format!(
            "insert into access_record (at, actor, purpose, subject_kind, subject, request_id) values {}",
            dialect.values(chunk.len(), 6)
        );
        let mut q = sqlx::query(&sql);
        for subject in chunk {
            q = q
                .bind(at.clone())
                .bind(access.actor.label().to_owned())
                .bind(access.purpose.to_owned())
                .bind(access.subject_kind.to_owned())
                .bind(subject.clone())
                .bind(access.request_id.map(str::to_owned));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records a read before its answer leaves: durable first (through the one writer on SQLite),
/// so no read of personal data goes unrecorded. Nothing is written for an empty read.
pub async fn record_access(db: &Db, access: Access<'_>) -> Result<(), sqlx::Error> {
    if access.subjects.is_empty() {
        return Ok(());
    }
    let actor = access.actor.clone();
    let purpose = access.purpose.to_owned();
    let subject_kind = access.subject_kind.to_owned();
    let subjects = access.subjects;
    let request_id = access.request_id.map(str::to_owned);
    db.write(move |tx| -> crate::db::BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(async move {
            let access = Access {
                actor: &actor,
                purpose: &purpose,
                subject_kind: &subject_kind,
                subjects,
                request_id: request_id.as_deref(),
            };
            record_access_in(tx, &access).await
        })
    })
    .await
}

/// An access record as read back.
#[derive(Debug, Clone)]
pub struct AccessRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub purpose: String,
    pub subject_kind: String,
    pub subject: String,
    pub request_id: Option<String>,
}

/// Filter for listing access records, newest first.
#[derive(Debug, Default)]
pub struct AccessFilter {
    pub subject_kind: Option<String>,
    pub subject: Option<String>,
    pub actor: Option<String>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

pub async fn list_access(db: &Db, f: &AccessFilter) -> Result<Vec<AccessRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "select id, at, actor, purpose, subject_kind, subject, request_id
         from access_record
         where ($1 is null or subject_kind = $1) and ($2 is null or subject = $2)
           and ($3 is null or actor = $3) and ($4 is null or id < $4)
         order by id desc limit $5",
    )
    .bind(f.subject_kind.as_deref())
    .bind(f.subject.as_deref())
    .bind(f.actor.as_deref())
    .bind(f.before_id)
    .bind(f.limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccessRecord {
                id: r.try_get("id")?,
                at: at(r, "at")?,
                actor: r.try_get("actor")?,
                purpose: r.try_get("purpose")?,
                subject_kind: r.try_get("subject_kind")?,
                subject: r.try_get("subject")?,
                request_id: r.try_get("request_id")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_staff_member_is_read_back_from_the_labels_that_name_one() {
        assert_eq!(Actor::staff_id_of(Actor::staff(6, "handler_cg").label()), Some(6));
        assert_eq!(Actor::staff_id_of(Actor::api_token(3, 12, "gw").label()), Some(12));
        assert_eq!(Actor::staff_id_of(Actor::system("demo-seed:staff:7:gw").label()), Some(7));
        for other in [
            Actor::cli("staff").label(),
            Actor::system("escalation").label(),
            "citizen",
            "staff:x:y",
            "token:1:cli:2:x",
        ] {
            assert_eq!(Actor::staff_id_of(other), None, "{other}");
        }
    }
}
