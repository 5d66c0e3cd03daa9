//! Ratings (好差评) and their rectification.

use super::*;

#[derive(Debug, Clone)]
pub struct RatingRow {
    pub id: i64,
    pub target_kind: String,
    pub target_ref: String,
    pub applicant_id: String,
    pub grade: i64,
    pub comment: Option<String>,
    pub responsible_department: Option<String>,
    pub item_code: Option<String>,
    pub window_code: Option<String>,
    pub clerk: Option<String>,
    pub rated_at: DateTime<Utc>,
    pub void: bool,
}

const RATING_COLUMNS: &str = "id, target_kind, target_ref, applicant_id, grade, comment, responsible_department, \
    item_code, window_code, clerk, rated_at, void";

fn rating_from(r: &AnyRow) -> Result<RatingRow, sqlx::Error> {
    Ok(RatingRow {
        id: r.try_get("id")?,
        target_kind: r.try_get("target_kind")?,
        target_ref: r.try_get("target_ref")?,
        applicant_id: r.try_get("applicant_id")?,
        grade: r.try_get("grade")?,
        comment: r.try_get("comment")?,
        responsible_department: r.try_get("responsible_department")?,
        item_code: r.try_get("item_code")?,
        window_code: r.try_get("window_code")?,
        clerk: r.try_get("clerk")?,
        rated_at: crate::db::at(r, "rated_at")?,
        void: flag(r, "void")?,
    })
}

/// Inserts a rating; None when the target already has one.
pub async fn insert_rating(tx: &mut Tx<'_>, r: &RatingRow) -> Result<Option<RatingRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "insert into service_rating (target_kind, target_ref, applicant_id, grade, comment, responsible_department,
            item_code, window_code, clerk, rated_at, void)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0)
         on conflict (target_kind, target_ref) do nothing returning {RATING_COLUMNS}"
    ))
    .bind(&r.target_kind)
    .bind(&r.target_ref)
    .bind(&r.applicant_id)
    .bind(r.grade)
    .bind(&r.comment)
    .bind(&r.responsible_department)
    .bind(&r.item_code)
    .bind(&r.window_code)
    .bind(&r.clerk)
    .bind(at_text(&r.rated_at))
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(rating_from).transpose()
}

pub async fn find_rating(tx: &mut Tx<'_>, id: i64) -> Result<Option<RatingRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {RATING_COLUMNS} from service_rating where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(rating_from).transpose()
}

/// Voids a rating; false when it was void already.
pub async fn void_rating(tx: &mut Tx<'_>, id: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("update service_rating set void = 1 where id = $1 and void = 0")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct RectificationRow {
    pub id: i64,
    pub rating_id: i64,
    pub department_code: String,
    pub state: String,
    pub deadline: String,
    pub reply: Option<String>,
    pub callback_note: Option<String>,
    pub replied_by: Option<String>,
    pub replied_at: Option<String>,
    pub feedback_grade: Option<i64>,
    pub feedback_at: Option<String>,
    pub appeal_reason: Option<String>,
    pub appealed_by: Option<String>,
    pub appealed_at: Option<String>,
    pub appeal_decision: Option<String>,
    pub appeal_decided_by: Option<String>,
    pub appeal_decided_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const RECT_COLUMNS: &str = "id, rating_id, department_code, state, deadline, reply, callback_note, replied_by, \
    replied_at, feedback_grade, feedback_at, appeal_reason, appealed_by, appealed_at, appeal_decision, \
    appeal_decided_by, appeal_decided_at, created_at, updated_at";

fn rect_from(r: &AnyRow) -> Result<RectificationRow, sqlx::Error> {
    Ok(RectificationRow {
        id: r.try_get("id")?,
        rating_id: r.try_get("rating_id")?,
        department_code: r.try_get("department_code")?,
        state: r.try_get("state")?,
        deadline: r.try_get("deadline")?,
        reply: r.try_get("reply")?,
        callback_note: r.try_get("callback_note")?,
        replied_by: r.try_get("replied_by")?,
        replied_at: r.try_get("replied_at")?,
        feedback_grade: r.try_get("feedback_grade")?,
        feedback_at: r.try_get("feedback_at")?,
        appeal_reason: r.try_get("appeal_reason")?,
        appealed_by: r.try_get("appealed_by")?,
        appealed_at: r.try_get("appealed_at")?,
        appeal_decision: r.try_get("appeal_decision")?,
        appeal_decided_by: r.try_get("appeal_decided_by")?,
        appeal_decided_at: r.try_get("appeal_decided_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert_rectification(
    tx: &mut Tx<'_>,
    rating_id: i64,
    department: &str,
    deadline: &str,
    now: &str,
) -> Result<RectificationRow, sqlx::Error> {
    let row = sqlx::query(&format!(
        "insert into service_rectification (rating_id, department_code, state, deadline, created_at, updated_at)
         values ($1, $2, 'open', $3, $4, $4) returning {RECT_COLUMNS}"
    ))
    .bind(rating_id)
    .bind(department)
    .bind(deadline)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    rect_from(&row)
}

pub async fn find_rectification(tx: &mut Tx<'_>, id: i64) -> Result<Option<RectificationRow>, sqlx::Error> {
    let row = sqlx::query(&format!("select {RECT_COLUMNS} from service_rectification where id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(rect_from).transpose()
}

/// Writes a rectification's mutable fields, only if it is still in `expected` state.
pub async fn update_rectification(tx: &mut Tx<'_>, r: &RectificationRow, expected: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update service_rectification set state = $1, deadline = $2, reply = $3, callback_note = $4, replied_by = $5,
            replied_at = $6, feedback_grade = $7, feedback_at = $8, appeal_reason = $9, appealed_by = $10,
            appealed_at = $11, appeal_decision = $12, appeal_decided_by = $13, appeal_decided_at = $14,
            updated_at = $15
         where id = $16 and state = $17",
    )
    .bind(&r.state)
    .bind(&r.deadline)
    .bind(&r.reply)
    .bind(&r.callback_note)
    .bind(&r.replied_by)
    .bind(&r.replied_at)
    .bind(r.feedback_grade)
    .bind(&r.feedback_at)
    .bind(&r.appeal_reason)
    .bind(&r.appealed_by)
    .bind(&r.appealed_at)
    .bind(&r.appeal_decision)
    .bind(&r.appeal_decided_by)
    .bind(&r.appeal_decided_at)
    .bind(&r.updated_at)
    .bind(r.id)
    .bind(expected)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_rectifications(db: &Db, department: Option<&str>) -> Result<Vec<RectificationRow>, sqlx::Error> {
    let rows = match department {
        Some(d) => {
            sqlx::query(&format!(
                "select {RECT_COLUMNS} from service_rectification where department_code = $1 order by id desc"
            ))
            .bind(d)
            .fetch_all(db.pool())
            .await?
        }
        None => {
            sqlx::query(&format!("select {RECT_COLUMNS} from service_rectification order by id desc"))
                .fetch_all(db.pool())
                .await?
        }
    };
    rows.iter().map(rect_from).collect()
}
