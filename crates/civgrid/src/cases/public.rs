//! The public view of cases, for citizens' channels such as Open311 GeoReport: only structured
//! cases (those with a class), only fields that may be shown to anyone — never the reporter's
//! name or contact — and the class, department and reason texts resolved for display.
//!
//! Free text (description, address, closing note) is published with the personal numbers typed
//! into it masked ([`super::mask`]).
//!
//! Its own SQL, read-only; the state list behind `open`/`closed` comes from [`State::is_open`],
//! so the transition table stays the one source of truth.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::state::State;
use crate::db::Db;

/// Most rows one query may return (Open311's default page).
pub const MAX_ROWS: i64 = 1000;

/// One case as the public may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicCase {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub description: String,
    pub class_code: String,
    /// The minor class name (e.g. 暴露垃圾) of the version the case was filed under.
    pub class_name: String,
    /// The major class name (e.g. 市容环境).
    pub group_name: String,
    pub time_limit: i64,
    pub time_limit_unit: String,
    /// Stored point, GCJ-02.
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
    pub media_url: Option<String>,
    /// Name of the lead department, once dispatched.
    pub agency: Option<String>,
    pub handle_deadline: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// For refused or merged cases: the note of the transition that ended the case.
    pub end_note: Option<String>,
    /// For merged cases: the number of the case this one duplicates.
    pub duplicate_of_number: Option<String>,
    /// Whether the case has its rating (回访/评价) — not the rating itself.
    pub rated: bool,
    /// Whether the reporter left a contact (the contact is never read here): only such a
    /// reporter can rate the case from the portal.
    pub reporter_reachable: bool,
}

/// Which cases to list. Every condition is optional; an empty `Vec` means "any".
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    /// When given, only these ids; every other condition is ignored.
    pub ids: Option<Vec<i64>>,
    pub class_codes: Vec<String>,
    /// Inclusive lower bound on `created_at` (RFC 3339 UTC text, as stored).
    pub created_from: Option<String>,
    /// Exclusive upper bound on `created_at`.
    pub created_before: Option<String>,
    /// `Some(true)`: open cases only; `Some(false)`: closed (refused, merged, closed) only.
    pub open: Option<bool>,
    /// Capped at [`MAX_ROWS`].
    pub limit: i64,
}

const SELECT: &str =
    "select c.id, c.number, c.state, c.description, c.class_code, c.lng, c.lat, c.address, c.media_url, \
       c.handle_deadline, c.created_at, c.updated_at, c.closed_at, \
       k.minor_name, k.major_name, k.time_limit, k.time_limit_unit, \
       d.name as agency, dup.number as duplicate_of_number, \
       cast(case when c.rating is null then 0 else 1 end as bigint) as rated, \
       cast(case when c.reporter_contact is null then 0 else 1 end as bigint) as reporter_reachable, \
       case when c.state in ('refused', 'merged') then \
         (select t.note from case_transition t where t.case_id = c.id and t.to_state = c.state \
          order by t.id desc limit 1) end as end_note \
     from case_record c \
     join case_class k on k.code = c.class_code and k.version = c.class_version \
     left join department d on d.code = c.lead_department \
     left join case_record dup on dup.id = c.duplicate_of";

fn public_from(r: &AnyRow) -> Result<PublicCase, sqlx::Error> {
    use super::mask::mask_personal_numbers as masked;
    let masked_opt = |s: Option<String>| s.as_deref().map(masked);
    Ok(PublicCase {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        state: r.try_get("state")?,
        description: masked(&r.try_get::<String, _>("description")?),
        class_code: r.try_get("class_code")?,
        class_name: r.try_get("minor_name")?,
        group_name: r.try_get("major_name")?,
        time_limit: r.try_get("time_limit")?,
        time_limit_unit: r.try_get("time_limit_unit")?,
        lng: r.try_get("lng")?,
        lat: r.try_get("lat")?,
        address: masked_opt(r.try_get("address")?),
        media_url: r.try_get("media_url")?,
        agency: r.try_get("agency")?,
        handle_deadline: crate::db::at_opt(r, "handle_deadline")?,
        created_at: crate::db::at(r, "created_at")?,
        updated_at: crate::db::at(r, "updated_at")?,
        closed_at: crate::db::at_opt(r, "closed_at")?,
        end_note: masked_opt(r.try_get("end_note")?),
        duplicate_of_number: r.try_get("duplicate_of_number")?,
        rated: crate::db::flag(r, "rated")?,
        reporter_reachable: crate::db::flag(r, "reporter_reachable")?,
    })
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Public cases matching the filter, newest first.
pub async fn list(db: &Db, f: &PublicFilter) -> Result<Vec<PublicCase>, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    if let Some(ids) = &f.ids {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        conditions.push(format!("c.id in ({})", placeholders(binds.len() + 1, ids.len())));
        binds.extend(ids.iter().map(|i| Bind::Int(*i)));
    } else {
        if !f.class_codes.is_empty() {
            conditions.push(format!("c.class_code in ({})", placeholders(binds.len() + 1, f.class_codes.len())));
            binds.extend(f.class_codes.iter().cloned().map(Bind::Text));
        }
        if let Some(from) = &f.created_from {
            conditions.push(format!("c.created_at >= ${}", binds.len() + 1));
            binds.push(Bind::Text(from.clone()));
        }
        if let Some(before) = &f.created_before {
            conditions.push(format!("c.created_at < ${}", binds.len() + 1));
            binds.push(Bind::Text(before.clone()));
        }
        if let Some(open) = f.open {
            let closed: Vec<&str> = State::ALL.into_iter().filter(|s| !s.is_open()).map(State::as_str).collect();
            let not = if open { "not " } else { "" };
            conditions.push(format!("c.state {not}in ({})", placeholders(binds.len() + 1, closed.len())));
            binds.extend(closed.into_iter().map(|s| Bind::Text(s.to_owned())));
        }
    }
    let mut sql = SELECT.to_owned();
    if !conditions.is_empty() {
        sql.push_str(" where ");
        sql.push_str(&conditions.join(" and "));
    }
    sql.push_str(&format!(" order by c.created_at desc, c.id desc limit ${}", binds.len() + 1));
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(i),
            Bind::Text(t) => q.bind(t),
        };
    }
    let rows = q.bind(f.limit.clamp(1, MAX_ROWS)).fetch_all(db.pool()).await?;
    rows.iter().map(public_from).collect()
}

/// One public case by id.
pub async fn find(db: &Db, id: i64) -> Result<Option<PublicCase>, sqlx::Error> {
    let row = sqlx::query(&format!("{SELECT} where c.id = $1")).bind(id).fetch_optional(db.pool()).await?;
    row.as_ref().map(public_from).transpose()
}

/// The id of the public case with this number (受理编号).
pub async fn id_by_number(db: &Db, number: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from case_record where number = $1 and class_code is not null")
        .bind(number)
        .fetch_optional(db.pool())
        .await
}
