//! What the trust ledger records of the case loop: every transition (report, filing, dispatch,
//! handling, verification, closing …) is an immutable row whose canonical content is logged in
//! the transition's own transaction. The same projection serves the write and `civgrid audit`,
//! so the two can never disagree about what a transition "is".
//!
//! Each entry also commits to the case row the transition leaves behind ([`covered`]): its
//! state, class, place, grid, lead department, deadline, rating and duplicate, and a salted
//! SHA-256 of what was reported (channel, words, address, media link, reporter's name and
//! contact, reporter) — never the contact in clear: ledger tiles are public. The audit
//! recomputes the latest transition's entry of each case from the case's *current* row, so an
//! edit of any covered column behind the loop's back is named as that transition's
//! `record_changed`. Not covered: timestamps other than the deadline, counters (returns,
//! reworks, escalation level), the supervision and extension flags, the photo key, the stored
//! handling hours, and transitions written before migration 20261207000300.

use serde_json::{json, Value};
use sqlx::Row as _;

use super::store::{self, CaseRow, NewTransition};
use super::CaseError;
use crate::db::{Db, Tx};
use crate::ledger::audit::RecordSet;

/// The ledger entry kind of case transitions.
pub const KIND: &str = "case_transition";

/// The canonical content of one transition row.
#[allow(clippy::too_many_arguments)]
fn content(
    case_id: i64,
    at: &str,
    actor: &str,
    role: &str,
    action: &str,
    from: Option<&str>,
    to: &str,
    note: Option<&str>,
    attachments: Option<&str>,
) -> Value {
    json!({
        "case_id": case_id, "at": at, "actor": actor, "role": role, "action": action,
        "from": from, "to": to, "note": note, "attachments": attachments,
    })
}

/// What a transition's entry commits to of the case it leaves behind; `salt` (random per
/// transition, kept in the stored JSON, which is not public) keeps the reporter's contact from
/// being found by hashing guesses.
pub fn covered(case: &CaseRow, salt: &str) -> Value {
    use sha2::Digest;
    let reported = json!([
        salt,
        case.channel,
        case.description,
        case.address,
        case.media_url,
        case.reporter_name,
        case.reporter_contact,
        case.reported_by
    ]);
    json!({
        "state": case.state, "class_code": case.class_code, "class_version": case.class_version,
        // As text: canonical content holds no fractional numbers (shortest round-trip form).
        "lng": case.lng.map(|v| v.to_string()), "lat": case.lat.map(|v| v.to_string()),
        "grid_code": case.grid_code,
        "lead_department": case.lead_department,
        "handle_deadline": case.handle_deadline.as_ref().map(crate::db::at_text),
        "rating": case.rating, "duplicate_of": case.duplicate_of,
        "reported_sha256": hex::encode(sha2::Sha256::digest(reported.to_string().as_bytes())),
        "salt": salt,
    })
}

/// A fresh salt for [`covered`].
pub fn new_salt() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The entry's content: the transition, and what it left of the case when that is recorded.
fn with_case(mut content: Value, after: Option<Value>) -> Value {
    if let (Some(a), Some(map)) = (after, content.as_object_mut()) {
        map.insert("case_after".into(), a);
    }
    content
}

/// Stores a transition and its ledger entry in `tx`.
pub async fn record(tx: &mut Tx<'_>, t: &NewTransition<'_>) -> Result<i64, CaseError> {
    Ok(record_all(tx, std::slice::from_ref(t)).await?.remove(0))
}

/// Stores transitions (at most one per case) and their ledger entries in `tx`, in multi-row
/// statements; their ids in the order given.
pub async fn record_all(tx: &mut Tx<'_>, ts: &[NewTransition<'_>]) -> Result<Vec<i64>, CaseError> {
    if ts.is_empty() {
        return Ok(vec![]);
    }
    // The case rows as this transaction leaves them (each transition follows its case's write):
    // as the writer holds them, and read back only for a writer that does not (escalation).
    // The intake writer holds every row it wrote, so the one writer reads nothing back.
    let unheld: Vec<i64> = ts.iter().filter(|t| matches!(t.after, store::After::ReadBack)).map(|t| t.case_id).collect();
    let read =
        if unheld.is_empty() { std::collections::HashMap::new() } else { store::cases_by_ids(tx, &unheld).await? };
    let after: Vec<Option<Value>> = ts
        .iter()
        .map(|t| match t.after {
            store::After::Row(c) => Some(covered(c, &new_salt())),
            store::After::Covered(v) => Some(v.clone()),
            store::After::ReadBack => read.get(&t.case_id).map(|c| covered(c, &new_salt())),
        })
        .collect();
    let texts: Vec<Option<String>> = after.iter().map(|a| a.as_ref().map(Value::to_string)).collect();
    let ids = store::insert_transitions(tx, ts, &texts).await?;
    let entries: Vec<(String, Value)> = ts
        .iter()
        .zip(&ids)
        .zip(after)
        .map(|((t, id), a)| {
            let c = content(t.case_id, t.at, t.actor, t.role, t.action, t.from, t.to, t.note, None);
            (id.to_string(), with_case(c, a))
        })
        .collect();
    // One entry time for the batch: the entries' own contents carry each transition's time.
    crate::ledger::append_batch_in(tx, KIND, &entries, ts[0].at).await?;
    Ok(ids)
}

/// Every stored transition as the audit recomputes it. The latest transition of each case that
/// recorded the case row is recomputed with the case's current row (salted as recorded), so a
/// covered column edited behind the loop's back changes that entry's content.
pub async fn records(db: &Db) -> Result<RecordSet, sqlx::Error> {
    let rows = sqlx::query(
        "select id, case_id, at, actor, role, action, from_state, to_state, note, attachments, case_after
         from case_transition order by id",
    )
    .fetch_all(db.pool())
    .await?;
    let cases = store::all_cases(db).await?;
    let mut latest: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for r in &rows {
        if r.try_get::<Option<String>, _>("case_after")?.is_some() {
            latest.insert(r.try_get("case_id")?, r.try_get("id")?);
        }
    }
    let records = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let case_id: i64 = r.try_get("case_id")?;
            let c = content(
                case_id,
                &r.try_get::<String, _>("at")?,
                &r.try_get::<String, _>("actor")?,
                &r.try_get::<String, _>("role")?,
                &r.try_get::<String, _>("action")?,
                r.try_get::<Option<String>, _>("from_state")?.as_deref(),
                &r.try_get::<String, _>("to_state")?,
                r.try_get::<Option<String>, _>("note")?.as_deref(),
                r.try_get::<Option<String>, _>("attachments")?.as_deref(),
            );
            // Unreadable stored JSON stands as text: its entry then no longer matches.
            let stored: Option<Value> = r
                .try_get::<Option<String>, _>("case_after")?
                .map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)));
            let (after, note) = match stored {
                Some(logged) if latest.get(&case_id) == Some(&id) => {
                    let salt = logged.get("salt").and_then(Value::as_str).unwrap_or_default().to_owned();
                    // A deleted case row leaves nothing to compare: the entry no longer matches.
                    let now = cases.get(&case_id).map_or(Value::Null, |row| covered(row, &salt));
                    let note = differences(case_id, &logged, &now);
                    (Some(now), note)
                }
                other => (other, None),
            };
            let mut content = with_case(c, after);
            if let (Some(n), Some(map)) = (note, content.as_object_mut()) {
                map.insert(crate::ledger::audit::AUDIT_NOTE.into(), Value::String(n));
            }
            Ok((id.to_string(), content))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(RecordSet { kind: KIND.to_owned(), records })
}

/// Names each covered column of case `case_id` whose current value (`now`) differs from what
/// its latest transition logged; `None` when none does.
fn differences(case_id: i64, logged: &Value, now: &Value) -> Option<String> {
    if now.is_null() {
        return Some(format!("case {case_id} was deleted"));
    }
    let mut named = Vec::new();
    for (key, value) in now.as_object()?.iter() {
        let was = logged.get(key).unwrap_or(&Value::Null);
        if was == value {
            continue;
        }
        named.push(match key.as_str() {
            // Hashed, so the values are not shown (nor are they public anywhere).
            "reported_sha256" => format!(
                "case {case_id}: what was reported (words, address, media link, reporter's name or contact) changed"
            ),
            _ => format!("case {case_id}: {key} was {was}, is now {value}"),
        });
    }
    (!named.is_empty()).then(|| named.join("; "))
}
