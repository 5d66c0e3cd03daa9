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

use super::rollup::{self, Counts};
use super::store;
use crate::db::Db;
use crate::periods::plan;

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
#[derive(Debug, Clone, PartialEq)]
pub struct Indicators {
    pub counts: Counts,
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

impl From<Counts> for Indicators {
    fn from(c: Counts) -> Indicators {
        let average =
            (c.handling_spans > 0).then(|| (c.handling_hours / c.handling_spans as f64 * 100.0).round() / 100.0);
        Indicators {
            counts: c,
            closure_rate: rate(c.closed, c.filed),
            on_time_closure_rate: rate(c.closed_on_time, c.filed),
            handling_rate: rate(c.handled, c.dispatched),
            on_time_handling_rate: rate(c.handled_on_time, c.dispatched),
            rework_rate: rate(c.reworked, c.handled),
            dispatch_accuracy: rate(c.dispatched_without_return, c.dispatched),
            on_time_verification_rate: rate(c.verified_on_time, c.verified),
            average_handling_working_hours: average,
        }
    }
}

/// Sums the counts of the cases of `scope` filed in `[from, to)` from the records.
pub async fn scan(db: &Db, scope: &Scope, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Counts, sqlx::Error> {
    let mut total = Counts::default();
    for case in store::filed_in(db, scope, &text(from), &text(to)).await? {
        total.add(&Counts::of(&case), 1);
    }
    Ok(total)
}

/// Computes the indicators from the kept rows (whole days and months) and the records of the
/// partial days at the ends; a scope no rows are kept for (an area code of no level) is read
/// from the records alone. The rows must be built ([`rollup`](super::rollup)).
pub async fn compute(
    db: &Db,
    scope: &Scope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Indicators, sqlx::Error> {
    let Some(kept) = rollup::kept_scope(scope) else { return Ok(scan(db, scope, from, to).await?.into()) };
    let plan = plan(from, to, rollup::FINEST);
    let mut total = Counts::default();
    for (a, b) in plan.ends {
        total.add(&scan(db, scope, a, b).await?, 1);
    }
    for (grain, a, b) in &plan.kept {
        total.add(&store::stat_sum(db, &kept, *grain, a, b).await?, 1);
    }
    Ok(total.into())
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
    }

    #[test]
    fn empty_denominators_give_no_rate() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(1, 3), Some(0.3333));
    }
}
