//! Approval steps and the events of an application.

use super::*;

#[derive(Debug, Clone)]
pub struct StepRow {
    pub id: i64,
    pub application_id: i64,
    pub step_index: i64,
    pub step_name: String,
    pub department_code: String,
    pub state: String,
    /// JSON array `[{code, met, note}]` once decided.
    pub checklist: Option<String>,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

const STEP_COLUMNS: &str =
    "id, application_id, step_index, step_name, department_code, state, checklist, note, decided_by, decided_at";

fn step_from(r: &AnyRow) -> Result<StepRow, sqlx::Error> {
    Ok(StepRow {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        step_index: r.try_get("step_index")?,
        step_name: r.try_get("step_name")?,
        department_code: r.try_get("department_code")?,
        state: r.try_get("state")?,
        checklist: r.try_get("checklist")?,
        note: r.try_get("note")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
    })
}

pub async fn insert_step(
    tx: &mut Tx<'_>,
    application_id: i64,
    index: i64,
    name: &str,
    department: &str,
    state: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into service_step (application_id, step_index, step_name, department_code, state)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(application_id)
    .bind(index)
    .bind(name)
    .bind(department)
    .bind(state)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn steps_in(tx: &mut Tx<'_>, application_id: i64) -> Result<Vec<StepRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {STEP_COLUMNS} from service_step where application_id = $1 order by step_index, department_code"
    ))
    .bind(application_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(step_from).collect()
}

pub async fn steps_of(db: &Db, application_id: i64) -> Result<Vec<StepRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select {STEP_COLUMNS} from service_step where application_id = $1 order by step_index, department_code"
    ))
    .bind(application_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(step_from).collect()
}

/// Records a decision on a pending step; false when it was not pending any more.
pub async fn decide_step(
    tx: &mut Tx<'_>,
    id: i64,
    state: &str,
    checklist: &str,
    note: Option<&str>,
    by: &str,
    at: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "update service_step set state = $1, checklist = $2, note = $3, decided_by = $4, decided_at = $5
         where id = $6 and state = 'pending'",
    )
    .bind(state)
    .bind(checklist)
    .bind(note)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Moves every step of `index` from one state to another.
pub async fn set_steps_state(
    tx: &mut Tx<'_>,
    application_id: i64,
    index: Option<i64>,
    from: &str,
    to: &str,
) -> Result<u64, sqlx::Error> {
    let r = match index {
        Some(i) => {
            sqlx::query(
                "update service_step set state = $1 where application_id = $2 and step_index = $3 and state = $4",
            )
            .bind(to)
            .bind(application_id)
            .bind(i)
            .bind(from)
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query("update service_step set state = $1 where application_id = $2 and state = $3")
                .bind(to)
                .bind(application_id)
                .bind(from)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(r.rows_affected())
}

pub async fn all_decided_steps(db: &Db) -> Result<Vec<(String, StepRow)>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "select a.number as app_number, {} from service_step s join service_application a on a.id = s.application_id
         where s.decided_at is not null order by s.id",
        STEP_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get("app_number")?, step_from(r)?))).collect()
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub note: Option<String>,
}

pub async fn insert_event(
    tx: &mut Tx<'_>,
    application_id: i64,
    at: &str,
    actor: &str,
    action: &str,
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into service_event (application_id, at, actor, action, note) values ($1, $2, $3, $4, $5)")
        .bind(application_id)
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(note)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn events_of(db: &Db, application_id: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    let rows = sqlx::query("select at, actor, action, note from service_event where application_id = $1 order by id")
        .bind(application_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}
