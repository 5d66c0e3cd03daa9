//! Evaluation indicators (GB/T 30428.4 / CJ/T 292 family) for an area, a department or a person
//! over a period. Definitions (also in docs/INDICATORS.md):
//!
//! The population is the cases **filed (立案) in the period** `[from, to)` within the scope:
//! * area — the case's grid lies in the area;
//! * department — the case's lead department (主办) is the department;
//! * person — the person took at least one action on the case.
//!
//! | indicator | numerator | denominator |
//! |---|---|---|
//! | 结案率 closure rate | closed | filed |
//! | 按期结案率 on-time closure rate | closed, and handled by the handling deadline | filed |
//! | 处置率 handling rate | handled (feedback given) | dispatched |
//! | 按期处置率 on-time handling rate | handled by the handling deadline | dispatched |
//! | 返工率 rework rate | handled cases sent back for rework at least once | handled |
//! | 派遣准确率 dispatch accuracy | dispatched cases never returned by a department | dispatched |
//! | 按时核查率 on-time verification rate | latest verification within 4 working hours of the feedback | verified |
//! | 平均处置时长 average handling time | Σ working hours from dispatch to (latest) feedback | handled |
//!
//! A rate with a zero denominator is reported as `null`, never as 0 or 100 %. The handling
//! deadline counts extensions granted by the dispatcher.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::calendar::Calendar;
use crate::db::Db;

/// Whose performance is measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Area(String),
    Department(String),
    Person(i64),
}

impl Scope {
    /// Parses `area:CODE`, `department:CODE` or `person:STAFF_ID`.
    pub fn parse(s: &str) -> Option<Scope> {
        let (kind, value) = s.split_once(':')?;
        match kind {
            "area" if !value.is_empty() && value.len() <= 14 && value.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Scope::Area(value.to_owned()))
            }
            "department" if !value.is_empty() && value.len() <= 32 => Some(Scope::Department(value.to_owned())),
            "person" => value.parse().ok().map(Scope::Person),
            _ => None,
        }
    }
}

/// Counts and rates for one scope and period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Indicators {
    pub filed: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub dispatched: i64,
    pub handled: i64,
    pub handled_on_time: i64,
    pub reworked: i64,
    pub dispatched_without_return: i64,
    pub verified: i64,
    pub verified_on_time: i64,
    pub closure_rate: Option<f64>,
    pub on_time_closure_rate: Option<f64>,
    pub handling_rate: Option<f64>,
    pub on_time_handling_rate: Option<f64>,
    pub rework_rate: Option<f64>,
    pub dispatch_accuracy: Option<f64>,
    pub on_time_verification_rate: Option<f64>,
    pub average_handling_working_hours: Option<f64>,
}

fn rate(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The first code after every code that starts with `prefix` (all digits): `440604` → `440605`,
/// `4406049` → `440605` (trailing nines carry: the shortest such bound); `None` for all nines
/// (no upper bound needed).
pub fn next_prefix(prefix: &str) -> Option<String> {
    let mut digits: Vec<u8> = prefix.bytes().collect();
    while let Some(last) = digits.pop() {
        if last < b'9' {
            digits.push(last + 1);
            return String::from_utf8(digits).ok();
        }
    }
    None
}

/// The scope as an SQL condition on `case_record` with its bound values as `$3` (and `$4`).
/// An area is a range of grid codes (not `like 'code%'`), so that an index on the grid code
/// serves it on both backends.
fn scope_sql(scope: &Scope) -> (&'static str, Vec<String>) {
    match scope {
        Scope::Area(code) => match next_prefix(code) {
            Some(end) => ("grid_code >= $3 and grid_code < $4", vec![code.clone(), end]),
            None => ("grid_code >= $3", vec![code.clone()]),
        },
        Scope::Department(code) => ("lead_department = $3", vec![code.clone()]),
        Scope::Person(id) => (
            "exists (select 1 from case_transition t where t.case_id = case_record.id and (t.actor like $3 or t.actor like '%:' || $3))",
            vec![format!("staff:{id}:%")],
        ),
    }
}

/// Computes the indicators. Timestamps are UTC RFC 3339 text of one fixed format, so
/// comparing them as text compares instants, on both backends.
pub async fn compute(
    db: &Db,
    calendar: &Calendar,
    scope: &Scope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Indicators, sqlx::Error> {
    let (cond, values) = scope_sql(scope);
    let sql = format!(
        "select count(*) as filed,
           coalesce(sum(case when closed_at is not null then 1 else 0 end), 0) as closed,
           coalesce(sum(case when closed_at is not null and handled_at <= handle_deadline then 1 else 0 end), 0) as closed_on_time,
           coalesce(sum(case when dispatched_at is not null then 1 else 0 end), 0) as dispatched,
           coalesce(sum(case when dispatched_at is not null and handled_at is not null then 1 else 0 end), 0) as handled,
           coalesce(sum(case when dispatched_at is not null and handled_at <= handle_deadline then 1 else 0 end), 0) as handled_on_time,
           coalesce(sum(case when handled_at is not null and rework_count > 0 then 1 else 0 end), 0) as reworked,
           coalesce(sum(case when dispatched_at is not null and return_count = 0 then 1 else 0 end), 0) as dispatched_right,
           coalesce(sum(case when verified_at is not null then 1 else 0 end), 0) as verified,
           coalesce(sum(case when verified_at is not null and verified_at <= verify_deadline then 1 else 0 end), 0) as verified_on_time,
           coalesce(sum(case when dispatched_at is not null and handled_at is not null then handling_working_hours end), 0.0) as stored_hours,
           coalesce(sum(case when dispatched_at is not null and handled_at is not null and handling_working_hours is not null then 1 else 0 end), 0) as stored_spans,
           coalesce(sum(case when dispatched_at is not null and handled_at is not null and handling_working_hours is null then 1 else 0 end), 0) as legacy_spans
         from case_record where filed_at >= $1 and filed_at < $2 and {cond}"
    );
    let (from_t, to_t) = (text(from), text(to));
    let mut q = sqlx::query(&sql).bind(&from_t).bind(&to_t);
    for v in &values {
        q = q.bind(v);
    }
    let row = q.fetch_one(db.pool()).await?;
    let get = |k: &str| row.try_get::<i64, _>(k);
    let (filed, closed, closed_on_time, dispatched, handled) =
        (get("filed")?, get("closed")?, get("closed_on_time")?, get("dispatched")?, get("handled")?);
    let (handled_on_time, reworked, right, verified, verified_on_time) = (
        get("handled_on_time")?,
        get("reworked")?,
        get("dispatched_right")?,
        get("verified")?,
        get("verified_on_time")?,
    );

    // Handling spans are stored by the feedback (a sum above); rows handled before that column
    // existed are walked on the calendar here.
    let mut sum: f64 = row.try_get("stored_hours")?;
    let mut spans_counted: i64 = row.try_get("stored_spans")?;
    let legacy = format!(
        "select dispatched_at, handled_at from case_record
         where filed_at >= $1 and filed_at < $2 and {cond} and dispatched_at is not null and handled_at is not null
           and handling_working_hours is null"
    );
    let mut q = sqlx::query(&legacy).bind(&from_t).bind(&to_t);
    for v in &values {
        q = q.bind(v);
    }
    let legacy_rows = if row.try_get::<i64, _>("legacy_spans")? > 0 { q.fetch_all(db.pool()).await? } else { vec![] };
    for r in &legacy_rows {
        let (a, b): (String, String) = (r.try_get("dispatched_at")?, r.try_get("handled_at")?);
        if let (Ok(a), Ok(b)) = (DateTime::parse_from_rfc3339(&a), DateTime::parse_from_rfc3339(&b)) {
            sum += calendar.working_hours_between(a.with_timezone(&Utc), b.with_timezone(&Utc));
            spans_counted += 1;
        }
    }
    let average = (spans_counted > 0).then(|| (sum / spans_counted as f64 * 100.0).round() / 100.0);
    Ok(Indicators {
        filed,
        closed,
        closed_on_time,
        dispatched,
        handled,
        handled_on_time,
        reworked,
        dispatched_without_return: right,
        verified,
        verified_on_time,
        closure_rate: rate(closed, filed),
        on_time_closure_rate: rate(closed_on_time, filed),
        handling_rate: rate(handled, dispatched),
        on_time_handling_rate: rate(handled_on_time, dispatched),
        rework_rate: rate(reworked, handled),
        dispatch_accuracy: rate(right, dispatched),
        on_time_verification_rate: rate(verified_on_time, verified),
        average_handling_working_hours: average,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(Scope::parse("area:440604010"), Some(Scope::Area("440604010".into())));
        assert_eq!(Scope::parse("department:cgj"), Some(Scope::Department("cgj".into())));
        assert_eq!(Scope::parse("person:12"), Some(Scope::Person(12)));
        for bad in ["area:", "area:44x", "person:x", "grid:1", "nothing"] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn area_prefixes_become_code_ranges() {
        assert_eq!(next_prefix("440604"), Some("440605".into()));
        assert_eq!(next_prefix("4406049"), Some("440605".into()));
        assert!("44060499999999" < "440605" && "44060500000001" >= "440605");
        assert_eq!(next_prefix("44060401000199"), Some("440604010002".into()));
        assert_eq!(next_prefix("999"), None);
        let (cond, values) = scope_sql(&Scope::Area("440604010".into()));
        assert_eq!(cond, "grid_code >= $3 and grid_code < $4");
        assert_eq!(values, vec!["440604010".to_owned(), "440604011".to_owned()]);
    }

    #[test]
    fn empty_denominators_give_no_rate() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(1, 3), Some(0.3333));
    }
}
