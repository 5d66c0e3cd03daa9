//! What the trust ledger records of the case loop: every transition (report, filing, dispatch,
//! handling, verification, closing …) is an immutable row whose canonical content is logged in
//! the transition's own transaction. The same projection serves the write and `civgrid audit`,
//! so the two can never disagree about what a transition "is".

use serde_json::{json, Value};
use sqlx::Row as _;

use super::store::{self, NewTransition};
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
    let ids = store::insert_transitions(tx, ts).await?;
    let entries: Vec<(String, Value)> = ts
        .iter()
        .zip(&ids)
        .map(|(t, id)| {
            (id.to_string(), content(t.case_id, t.at, t.actor, t.role, t.action, t.from, t.to, t.note, None))
        })
        .collect();
    // One entry time for the batch: the entries' own contents carry each transition's time.
    crate::ledger::append_batch_in(tx, KIND, &entries, ts[0].at).await?;
    Ok(ids)
}

/// Every stored transition as the audit recomputes it.
pub async fn records(db: &Db) -> Result<RecordSet, sqlx::Error> {
    let rows = sqlx::query(
        "select id, case_id, at, actor, role, action, from_state, to_state, note, attachments from case_transition",
    )
    .fetch_all(db.pool())
    .await?;
    let records = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let c = content(
                r.try_get("case_id")?,
                &r.try_get::<String, _>("at")?,
                &r.try_get::<String, _>("actor")?,
                &r.try_get::<String, _>("role")?,
                &r.try_get::<String, _>("action")?,
                r.try_get::<Option<String>, _>("from_state")?.as_deref(),
                &r.try_get::<String, _>("to_state")?,
                r.try_get::<Option<String>, _>("note")?.as_deref(),
                r.try_get::<Option<String>, _>("attachments")?.as_deref(),
            );
            Ok((id.to_string(), c))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(RecordSet { kind: KIND.to_owned(), records })
}
