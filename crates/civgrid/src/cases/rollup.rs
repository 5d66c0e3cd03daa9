//! The evaluation indicators kept as rollups. A filed case adds its share of every count
//! ([`Counts::of`], the definitions of docs/INDICATORS.md) to the rows of the local day and
//! month it was filed in, for each area that holds its grid (province, city, district,
//! subdistrict, community and grid), its lead department and each person who acted on it. When
//! a transition changes the case, [`count_in`] moves the case's share from the rows of its old
//! state to those of its new one in the transition's transaction, in one statement. A question
//! over `[from, to)` then sums a few hundred rows at most (months, days) and reads only the
//! cases filed in the partial days at its two ends.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::calendar::Calendar;
use super::indicators::Scope;
use super::store::{self, CaseRow};
use crate::db::{Backend, Tx};
use crate::periods::{period, Grain};

/// The grains the indicators are kept at; a question reads partial days from the records.
pub(crate) const FINEST: Grain = Grain::Day;

/// Code lengths of the area levels a case is counted in (GB/T 2260 province, city, district;
/// subdistrict, community, grid). A scope of another length is answered from the records.
const AREA_LEVELS: [usize; 6] = [2, 4, 6, 9, 12, 14];

/// The numerators and denominators of the indicators (docs/INDICATORS.md), as the API shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
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
    /// Σ working hours from dispatch to the latest feedback, over `handling_spans` cases.
    pub handling_hours: f64,
    pub handling_spans: i64,
}

/// The integer columns of `case_stat`, in the order of [`Counts::integers`].
pub(crate) const INTEGER_COLUMNS: [&str; 11] = [
    "filed",
    "closed",
    "closed_on_time",
    "dispatched",
    "handled",
    "handled_on_time",
    "reworked",
    "dispatched_right",
    "verified",
    "verified_on_time",
    "handling_spans",
];

/// What of a case the indicators read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filed {
    pub filed_at: Option<DateTime<Utc>>,
    pub grid_code: Option<String>,
    pub lead_department: Option<String>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub handled_at: Option<DateTime<Utc>>,
    pub handle_deadline: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verify_deadline: Option<DateTime<Utc>>,
    pub rework_count: i64,
    pub return_count: i64,
    pub handling_working_hours: Option<f64>,
}

impl From<&CaseRow> for Filed {
    fn from(c: &CaseRow) -> Filed {
        Filed {
            filed_at: c.filed_at,
            grid_code: c.grid_code.clone(),
            lead_department: c.lead_department.clone(),
            dispatched_at: c.dispatched_at,
            handled_at: c.handled_at,
            handle_deadline: c.handle_deadline,
            closed_at: c.closed_at,
            verified_at: c.verified_at,
            verify_deadline: c.verify_deadline,
            rework_count: c.rework_count,
            return_count: c.return_count,
            handling_working_hours: c.handling_working_hours,
        }
    }
}

/// `at <= deadline`; false when either is missing.
fn by(at: &Option<DateTime<Utc>>, deadline: &Option<DateTime<Utc>>) -> bool {
    matches!((at, deadline), (Some(a), Some(d)) if a <= d)
}

impl Counts {
    /// One case's share: nothing unless it was filed (立案).
    pub fn of(c: &Filed) -> Counts {
        if c.filed_at.is_none() {
            return Counts::default();
        }
        let one = |b: bool| i64::from(b);
        let dispatched = c.dispatched_at.is_some();
        let handled = dispatched && c.handled_at.is_some();
        let hours = if handled { c.handling_working_hours } else { None };
        Counts {
            filed: 1,
            closed: one(c.closed_at.is_some()),
            closed_on_time: one(c.closed_at.is_some() && by(&c.handled_at, &c.handle_deadline)),
            dispatched: one(dispatched),
            handled: one(handled),
            handled_on_time: one(dispatched && by(&c.handled_at, &c.handle_deadline)),
            reworked: one(c.handled_at.is_some() && c.rework_count > 0),
            dispatched_without_return: one(dispatched && c.return_count == 0),
            verified: one(c.verified_at.is_some()),
            verified_on_time: one(by(&c.verified_at, &c.verify_deadline)),
            handling_hours: hours.unwrap_or(0.0),
            handling_spans: one(hours.is_some()),
        }
    }

    pub(crate) fn integers(&self) -> [i64; 11] {
        [
            self.filed,
            self.closed,
            self.closed_on_time,
            self.dispatched,
            self.handled,
            self.handled_on_time,
            self.reworked,
            self.dispatched_without_return,
            self.verified,
            self.verified_on_time,
            self.handling_spans,
        ]
    }

    pub(crate) fn from_integers(v: [i64; 11], handling_hours: f64) -> Counts {
        let [filed, closed, closed_on_time, dispatched, handled, handled_on_time, reworked, dispatched_without_return, verified, verified_on_time, handling_spans] =
            v;
        Counts {
            filed,
            closed,
            closed_on_time,
            dispatched,
            handled,
            handled_on_time,
            reworked,
            dispatched_without_return,
            verified,
            verified_on_time,
            handling_hours,
            handling_spans,
        }
    }

    /// Adds `sign` × `other`.
    pub(crate) fn add(&mut self, other: &Counts, sign: i64) {
        let mut v = self.integers();
        for (a, b) in v.iter_mut().zip(other.integers()) {
            *a += sign * b;
        }
        *self = Counts::from_integers(v, self.handling_hours + sign as f64 * other.handling_hours);
    }

    fn is_zero(&self) -> bool {
        self.integers().iter().all(|v| *v == 0) && self.handling_hours == 0.0
    }
}

/// The `case_stat` scope of an indicator scope, when one is kept for it.
pub(crate) fn kept_scope(scope: &Scope) -> Option<String> {
    match scope {
        Scope::Area(code) => AREA_LEVELS.contains(&code.len()).then(|| format!("area:{code}")),
        Scope::Department(code) => Some(format!("department:{code}")),
        Scope::Person(id) => Some(format!("person:{id}")),
    }
}

/// The scopes a filed case counts in.
fn scopes(c: &Filed, persons: &BTreeSet<i64>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(g) = &c.grid_code {
        out.extend(AREA_LEVELS.iter().filter(|n| **n <= g.len()).map(|n| format!("area:{}", &g[..*n])));
    }
    if let Some(d) = &c.lead_department {
        out.push(format!("department:{d}"));
    }
    out.extend(persons.iter().map(|p| format!("person:{p}")));
    out
}

/// One row of `case_stat`: (scope, grain, period).
pub(crate) type Cell = (String, Grain, String);

fn filed_time(c: &Filed) -> Option<DateTime<Utc>> {
    c.filed_at
}

/// Adds `sign` × the case's share to every row it counts in.
pub(crate) fn tally(into: &mut BTreeMap<Cell, Counts>, c: &Filed, persons: &BTreeSet<i64>, sign: i64) {
    let counts = Counts::of(c);
    let Some(at) = filed_time(c).filter(|_| !counts.is_zero()) else { return };
    for grain in FINEST.and_coarser() {
        let p = period(at, grain);
        for scope in scopes(c, persons) {
            into.entry((scope, grain, p.clone())).or_default().add(&counts, sign);
        }
    }
}

/// Moves a case's share from the rows of `before` (with the people who had acted on it) to
/// those of `after` (with `actor` too, whose transition is about to be recorded), in the
/// caller's transaction. Call it before recording the transition. Rows are written in key
/// order, the order every writer locks them in.
pub(crate) async fn count_in(
    tx: &mut Tx<'_>,
    case_id: i64,
    before: &Filed,
    after: &Filed,
    actor: Option<i64>,
) -> Result<(), sqlx::Error> {
    let unfiled = before.filed_at.is_none() && after.filed_at.is_none();
    if unfiled || (before == after && actor.is_none()) {
        return Ok(());
    }
    let persons_before: BTreeSet<i64> = store::case_staff(tx, case_id).await?.into_iter().collect();
    let mut persons_after = persons_before.clone();
    persons_after.extend(actor);
    if before == after && persons_after == persons_before {
        return Ok(());
    }
    let mut moved = BTreeMap::new();
    tally(&mut moved, before, &persons_before, -1);
    tally(&mut moved, after, &persons_after, 1);
    moved.retain(|_, c| !c.is_zero());
    store::add_stats(tx, &moved.into_iter().collect::<Vec<_>>()).await
}

/// Recomputes every row from the records (and stores the handling time of any handled case
/// that lacks it), in one transaction that keeps the rows' writers out.
pub(crate) async fn rebuild(tx: &mut Tx<'_>, backend: Backend, calendar: &Calendar) -> Result<(), sqlx::Error> {
    store::begin_stats_rebuild(tx, backend).await?;
    for (id, dispatched, handled) in store::untimed_feedback(tx).await? {
        store::set_handling_hours(tx, id, calendar.working_hours_between(dispatched, handled)).await?;
    }
    let mut persons: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    store::each_case_staff(tx, |case_id, staff_id| {
        persons.entry(case_id).or_default().insert(staff_id);
    })
    .await?;
    let nobody = BTreeSet::new();
    let mut rows = BTreeMap::new();
    store::each_filed(tx, |id, case| tally(&mut rows, &case, persons.get(&id).unwrap_or(&nobody), 1)).await?;
    rows.retain(|_, c| !c.is_zero());
    store::add_stats(tx, &rows.into_iter().collect::<Vec<_>>()).await?;
    store::finish_stats_rebuild(tx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 time")
    }

    fn case(filed: &str) -> Filed {
        Filed {
            filed_at: Some(t(filed)),
            grid_code: Some("44060401000101".into()),
            lead_department: Some("cgj".into()),
            ..Filed::default()
        }
    }

    #[test]
    fn an_unfiled_case_counts_nowhere() {
        let mut c = case("2026-11-16T01:00:00.000Z");
        c.filed_at = None;
        c.closed_at = Some(t("2026-11-17T01:00:00.000Z"));
        assert_eq!(Counts::of(&c), Counts::default());
        let mut rows = BTreeMap::new();
        tally(&mut rows, &c, &BTreeSet::from([6]), 1);
        assert!(rows.is_empty());
    }

    #[test]
    fn the_definitions_case_by_case() {
        let mut c = case("2026-11-16T01:00:00.000Z");
        c.dispatched_at = Some(t("2026-11-16T02:00:00.000Z"));
        c.handle_deadline = Some(t("2026-11-18T10:00:00.000Z"));
        c.handled_at = Some(t("2026-11-18T10:00:00.000Z"));
        c.handling_working_hours = Some(12.5);
        c.verified_at = Some(t("2026-11-18T15:00:00.000Z"));
        c.verify_deadline = Some(t("2026-11-18T14:00:00.000Z"));
        c.closed_at = Some(t("2026-11-18T16:00:00.000Z"));
        c.rework_count = 1;
        let k = Counts::of(&c);
        // Handled exactly at the deadline is on time; verified an hour late is not.
        assert_eq!(
            (k.filed, k.closed, k.closed_on_time, k.dispatched, k.handled, k.handled_on_time),
            (1, 1, 1, 1, 1, 1)
        );
        assert_eq!((k.reworked, k.dispatched_without_return, k.verified, k.verified_on_time), (1, 1, 1, 0));
        assert_eq!((k.handling_hours, k.handling_spans), (12.5, 1));
        // Returned once, handled late, never dispatched: each changes its own counts only.
        c.return_count = 1;
        c.handled_at = Some(t("2026-11-18T10:00:00.001Z"));
        let k = Counts::of(&c);
        assert_eq!((k.closed_on_time, k.handled_on_time, k.dispatched_without_return), (0, 0, 0));
        c.dispatched_at = None;
        let k = Counts::of(&c);
        assert_eq!((k.dispatched, k.handled, k.handling_spans, k.reworked), (0, 0, 0, 1));
    }

    #[test]
    fn a_case_counts_in_its_areas_department_and_people_for_its_local_day_and_month() {
        // 2026-11-30T17:00Z is 1 December, 01:00 local.
        let c = case("2026-11-30T17:00:00.000Z");
        let mut rows = BTreeMap::new();
        tally(&mut rows, &c, &BTreeSet::from([6, 9]), 1);
        let scopes: BTreeSet<&str> = rows.keys().map(|(s, _, _)| s.as_str()).collect();
        assert_eq!(
            scopes,
            BTreeSet::from([
                "area:44",
                "area:4406",
                "area:440604",
                "area:440604010",
                "area:440604010001",
                "area:44060401000101",
                "department:cgj",
                "person:6",
                "person:9"
            ])
        );
        assert_eq!(rows.len(), 2 * 9);
        assert!(rows.contains_key(&("person:6".to_owned(), Grain::Day, "2026-12-01".to_owned())));
        assert!(rows.contains_key(&("area:440604".to_owned(), Grain::Month, "2026-12".to_owned())));
        // Taking the same share back leaves nothing.
        tally(&mut rows, &c, &BTreeSet::from([6, 9]), -1);
        assert!(rows.values().all(Counts::is_zero));
    }

    #[test]
    fn kept_scopes_are_the_area_levels_departments_and_people() {
        assert_eq!(kept_scope(&Scope::Area("440604010".into())).as_deref(), Some("area:440604010"));
        assert_eq!(kept_scope(&Scope::Area("4406040".into())), None);
        assert_eq!(kept_scope(&Scope::Person(6)).as_deref(), Some("person:6"));
        assert_eq!(kept_scope(&Scope::Department("cgj".into())).as_deref(), Some("department:cgj"));
    }
}
