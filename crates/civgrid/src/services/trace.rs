//! What one-window services write to the trust ledger, and the record sets the audit
//! recomputes. Each content is a projection of stored rows, built by the same function at write
//! time and in the audit (integers and strings only, as canonical JSON requires).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::store::{self, ApplicationRow, MaterialRow, StepRow};
use crate::db::Db;
use crate::ledger::audit::RecordSet;

/// Ledger entry kinds.
pub const ACCEPTANCE_KIND: &str = "service_acceptance";
pub const DECISION_KIND: &str = "service_decision";
pub const CONCLUSION_KIND: &str = "service_conclusion";

/// An acceptance: who applied for which item version, where, and with which materials (each
/// by its digest, e-licence number or the earlier material it reuses).
pub fn acceptance_content(a: &ApplicationRow, materials: &[MaterialRow]) -> Value {
    let m: Vec<Value> = materials
        .iter()
        .map(|m| {
            json!({
                "code": m.code,
                "source": m.source,
                "sha256": m.sha256,
                "licence_number": m.licence_number,
                "reused_from": m.reused_from,
            })
        })
        .collect();
    let mut content = json!({
        "number": a.number,
        "item_code": a.item_code,
        "item_version": a.item_version,
        "applicant_id": a.applicant_id,
        "channel": a.channel,
        "window_code": a.window_code,
        "clerk": a.clerk,
        "accepted_at": crate::db::at_text(&a.accepted_at),
        "materials": m,
    });
    // The entry is public and holds this content's hash: the access key's hash (random, never
    // shown) salts it, so nobody can confirm an ID number by hashing guesses. Acceptances from
    // before access keys keep their original content, so the audit still recomputes them.
    if let (Some(h), Some(o)) = (&a.access_key_hash, content.as_object_mut()) {
        o.insert("salt".into(), json!(h));
    }
    content
}

/// The reference of a decision: `application number:step:department`.
pub fn decision_ref(number: &str, s: &StepRow) -> String {
    format!("{number}:{}:{}", s.step_index, s.department_code)
}

/// A department's decision on a step, criterion by criterion.
pub fn decision_content(number: &str, s: &StepRow) -> Value {
    let checklist: Value = s.checklist.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    json!({
        "application": number,
        "step_index": s.step_index,
        "step_name": s.step_name,
        "department": s.department_code,
        "decision": s.state,
        "checklist": checklist,
        "note": s.note,
        "decided_by": s.decided_by,
        "decided_at": s.decided_at,
    })
}

/// The conclusion (办结): the result and the e-licence issued, if any.
pub fn conclusion_content(a: &ApplicationRow) -> Value {
    json!({
        "number": a.number,
        "result": a.state,
        "concluded_at": a.concluded_at.as_ref().map(crate::db::at_text),
        "licence_number": a.licence_number,
    })
}

/// Acceptances, decisions and conclusions as the audit recomputes them.
pub async fn records(db: &Db) -> Result<Vec<RecordSet>, sqlx::Error> {
    let apps = store::all_applications(db).await?;
    let mut by_app: HashMap<i64, Vec<MaterialRow>> = HashMap::new();
    for m in store::all_materials(db).await? {
        by_app.entry(m.application_id).or_default().push(m);
    }
    let mut acceptances = Vec::with_capacity(apps.len());
    let mut conclusions = Vec::new();
    for a in &apps {
        let materials = by_app.remove(&a.id).unwrap_or_default();
        acceptances.push((a.number.clone(), acceptance_content(a, &materials)));
        if a.concluded_at.is_some() {
            conclusions.push((a.number.clone(), conclusion_content(a)));
        }
    }
    let decisions = store::all_decided_steps(db)
        .await?
        .into_iter()
        .map(|(number, s)| (decision_ref(&number, &s), decision_content(&number, &s)))
        .collect();
    Ok(vec![
        RecordSet { kind: ACCEPTANCE_KIND.to_owned(), records: acceptances },
        RecordSet { kind: DECISION_KIND.to_owned(), records: decisions },
        RecordSet { kind: CONCLUSION_KIND.to_owned(), records: conclusions },
    ])
}
