//! Statistics per item, department, window or clerk over `[from, to)` (by acceptance time for
//! applications, issue time for notices, rating time for ratings), for the whole district or
//! one department. Definitions (docs/SERVICES.md):
//! * handling time: working time (calendar of the case loop) from acceptance to conclusion,
//!   in working days of 7 hours; average and 90th percentile (nearest rank) of concluded ones;
//! * on-time rate: concluded by the promised deadline / concluded;
//! * materials reused: attached from the e-licence library or an earlier application; asked:
//!   submitted (electronic or paper);
//! * visits saved: Σ (item's maximum visits − visits made), a window acceptance being one visit
//!   and an online one none, plus one per material reused (a trip to fetch it avoided);
//! * satisfaction: ratings of 3–5 / all ratings that are not voided by an appeal.
//!
//! **How they are kept.** Each write that changes a count adds it, in the record's own
//! transaction and one statement ([`count_in`]), to the rows of the record's key in every
//! grouping for the record's local (UTC+8) hour, day and month (`service_stat`), per department
//! and, for windows and clerks, over all departments; a conclusion also stores its working hours
//! on the application and adds them, in hundredths of a working day, to the same rows'
//! histograms (`service_stat_duration`, [`count_duration_in`]). A query ([`plan`]) sums the
//! whole months of its period, the whole days and then hours around them, reads the records of
//! the partial hours at its two ends, and counts the open applications past their deadline
//! (which depend on now) from the records. A year of a busy district is then some hundreds of
//! rows per key instead of 1.5 M applications. The handling time is fixed by the calendar at the conclusion (as the case
//! loop's handling time is). [`Services::rebuild_statistics`] recomputes everything from the
//! records (after the migration that introduced the rows, or a restore).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::store::{self, ApplicationRow, Cell, Counts, NoticeRow, RatingRow};
use super::{text, ServiceError, Services};
use crate::db::Tx;
use crate::periods::{period, plan, Grain};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Item,
    Department,
    Window,
    Clerk,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Item, GroupBy::Department, GroupBy::Window, GroupBy::Clerk];

    pub fn parse(s: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Windows and clerks serve every department: their rows are also kept over all of them.
    fn all_departments(self) -> bool {
        matches!(self, GroupBy::Window | GroupBy::Clerk)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Item => "item",
            GroupBy::Department => "department",
            GroupBy::Window => "window",
            GroupBy::Clerk => "clerk",
        }
    }
}

/// The `department` of the rows kept over all departments.
const ALL_DEPARTMENTS: &str = "*";

#[derive(Debug, Clone, Default)]
pub struct Row {
    pub key: String,
    pub accepted: i64,
    pub online: i64,
    pub concluded: i64,
    pub approved: i64,
    pub rejected: i64,
    pub in_progress: i64,
    pub overdue_open: i64,
    pub missing_notices: i64,
    pub refusals: i64,
    pub avg_handling_working_days: Option<f64>,
    pub p90_handling_working_days: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub materials_reused: i64,
    pub materials_asked: i64,
    pub visits_saved: i64,
    pub ratings: i64,
    pub bad_ratings: i64,
    pub satisfaction: Option<f64>,
    on_time: i64,
    good: i64,
    /// Σ working hours of the timed conclusions.
    hours: f64,
    /// Timed conclusions by handling time in hundredths of a working day.
    durations: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Statistics {
    pub group_by: &'static str,
    /// The one department asked about (its records as `by=department` keys them), if any.
    pub department: Option<String>,
    pub from: String,
    pub to: String,
    pub rows: Vec<Row>,
    pub total: Row,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A handling time in hundredths of a working day (7 hours), rounded as statistics report it.
/// The nearest-rank percentile of these is the rounded percentile of the exact times, since
/// rounding keeps their order.
pub(crate) fn hundredths(working_hours: f64) -> i64 {
    ((working_hours / 7.0) * 100.0).round() as i64
}

impl Row {
    fn keyed(key: &str) -> Row {
        Row { key: key.to_owned(), ..Row::default() }
    }

    fn add(&mut self, c: &Counts) {
        self.accepted += c.accepted;
        self.online += c.online;
        self.concluded += c.concluded;
        self.approved += c.approved;
        self.rejected += c.rejected;
        self.on_time += c.on_time;
        self.hours += c.handling_hours;
        self.materials_reused += c.materials_reused;
        self.materials_asked += c.materials_asked;
        self.visits_saved += c.visits_saved;
        self.missing_notices += c.missing_notices;
        self.refusals += c.refusals;
        self.ratings += c.ratings;
        self.bad_ratings += c.bad_ratings;
        self.good += c.good_ratings;
    }

    fn add_durations(&mut self, hundredths: i64, n: i64) {
        let i = usize::try_from(hundredths).unwrap_or(0);
        if self.durations.len() <= i {
            self.durations.resize(i + 1, 0);
        }
        self.durations[i] += n;
    }

    /// Nothing was counted (every application has `accepted`, every notice or rating its count).
    fn is_empty(&self) -> bool {
        self.accepted == 0 && self.missing_notices == 0 && self.refusals == 0 && self.ratings == 0
    }

    fn finish(&mut self) {
        self.in_progress = self.accepted - self.concluded;
        let n: i64 = self.durations.iter().sum();
        if n > 0 {
            self.avg_handling_working_days = Some(round2(self.hours / 7.0 / n as f64));
            let rank = ((0.9 * n as f64).ceil() as i64).clamp(1, n);
            let mut seen = 0;
            let p90 = self.durations.iter().position(|c| {
                seen += c;
                seen >= rank
            });
            self.p90_handling_working_days = p90.map(|h| h as f64 / 100.0);
        }
        if self.concluded > 0 {
            self.on_time_rate = Some(round2(self.on_time as f64 / self.concluded as f64));
        }
        if self.ratings > 0 {
            self.satisfaction = Some(round2(self.good as f64 / self.ratings as f64));
        }
    }
}

/// The rows being added up, and their total.
struct Tally {
    rows: BTreeMap<String, Row>,
    total: Row,
}

impl Tally {
    fn row(&mut self, key: &str) -> &mut Row {
        self.rows.entry(key.to_owned()).or_insert_with(|| Row::keyed(key))
    }

    fn add(&mut self, key: &str, c: &Counts) {
        self.row(key).add(c);
        self.total.add(c);
    }

    fn add_durations(&mut self, key: &str, hundredths: i64, n: i64) {
        self.row(key).add_durations(hundredths, n);
        self.total.add_durations(hundredths, n);
    }

    fn add_overdue(&mut self, key: &str, n: i64) {
        self.row(key).overdue_open += n;
        self.total.overdue_open += n;
    }
}

/// A record's key in each grouping, and its department as `by=department` keys it.
pub(crate) struct Keys {
    item: String,
    department: String,
    window: String,
    clerk: String,
}

impl Keys {
    pub(crate) fn application(a: &ApplicationRow) -> Keys {
        Keys {
            item: a.item_code.clone(),
            department: a.department_code.clone(),
            window: a.window_code.clone().unwrap_or_else(|| "online".into()),
            clerk: a.clerk.clone().unwrap_or_else(|| "online".into()),
        }
    }

    /// A notice, keyed by department as its item is.
    pub(crate) fn notice(n: &NoticeRow, item_department: &str) -> Keys {
        Keys {
            item: n.item_code.clone(),
            department: item_department.to_owned(),
            window: n.window_code.clone().unwrap_or_else(|| "online".into()),
            clerk: n.issued_by.clone(),
        }
    }

    /// A rating, keyed by department as the unit responsible for it.
    pub(crate) fn rating(r: &RatingRow) -> Keys {
        Keys {
            item: r.item_code.clone().unwrap_or_default(),
            department: r.responsible_department.clone().unwrap_or_default(),
            window: r.window_code.clone().unwrap_or_else(|| "online".into()),
            clerk: r.clerk.clone().unwrap_or_else(|| "online".into()),
        }
    }

    fn key(&self, by: GroupBy) -> &str {
        match by {
            GroupBy::Item => &self.item,
            GroupBy::Department => &self.department,
            GroupBy::Window => &self.window,
            GroupBy::Clerk => &self.clerk,
        }
    }
}

/// The local hour (YYYY-MM-DDTHH) of a time.
fn hour_of(at: DateTime<Utc>) -> String {
    period(at, Grain::Hour)
}

/// The rows a record counts in: its key in each grouping, over its local hour, day and month,
/// for its department and (windows, clerks) all departments; sorted, the order every writer
/// locks them in.
fn cells(keys: &Keys, hour: &str) -> Vec<Cell> {
    let mut out = Vec::with_capacity(18);
    for by in GroupBy::ALL {
        for grain in Grain::ALL {
            let period: String = hour.chars().take(grain.width()).collect();
            for department in [Some(keys.department.as_str()), by.all_departments().then_some(ALL_DEPARTMENTS)] {
                let Some(department) = department else { continue };
                out.push(Cell {
                    dimension: by.as_str(),
                    grain: grain.as_str(),
                    period: period.clone(),
                    key: keys.key(by).to_owned(),
                    department: department.to_owned(),
                });
            }
        }
    }
    out.sort();
    out
}

/// Adds a record's counts to its rows, in the record's transaction.
pub(crate) async fn count_in(tx: &mut Tx<'_>, keys: &Keys, at: DateTime<Utc>, c: &Counts) -> Result<(), sqlx::Error> {
    store::add_counts(tx, &cells(keys, &hour_of(at)), c).await
}

/// Adds a concluded application's handling time to the histograms of its acceptance's rows.
pub(crate) async fn count_duration_in(
    tx: &mut Tx<'_>,
    keys: &Keys,
    accepted_at: DateTime<Utc>,
    working_hours: f64,
) -> Result<(), sqlx::Error> {
    let mut updated = Vec::new();
    for (cell, bytes) in store::lock_durations(tx, &cells(keys, &hour_of(accepted_at))).await? {
        let mut h: BTreeMap<i64, i64> = BTreeMap::new();
        decode_histogram(&bytes, |v, n| *h.entry(v).or_default() += n);
        *h.entry(hundredths(working_hours)).or_default() += 1;
        updated.push((cell, encode_histogram(h)));
    }
    updated.sort();
    store::put_durations(tx, &updated).await
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// A histogram of non-negative values as bytes: for each value in increasing order, its
/// increase over the previous value and its count, as LEB128 varints.
pub(crate) fn encode_histogram(h: BTreeMap<i64, i64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(h.len() * 2);
    let mut last = 0;
    for (v, n) in h.into_iter().filter(|(v, n)| *v >= 0 && *n > 0) {
        push_varint(&mut out, (v - last) as u64);
        push_varint(&mut out, n as u64);
        last = v;
    }
    out
}

/// Calls `f(value, count)` for each entry of an encoded histogram (stopping at damage).
pub(crate) fn decode_histogram(b: &[u8], mut f: impl FnMut(i64, i64)) {
    let (mut at, mut value) = (0, 0i64);
    while at < b.len() {
        let (Some(step), Some(n)) = (read_varint(b, &mut at), read_varint(b, &mut at)) else { return };
        value = value.saturating_add(i64::try_from(step).unwrap_or(i64::MAX));
        f(value, i64::try_from(n).unwrap_or(i64::MAX));
    }
}

impl Services {
    pub async fn statistics(
        &self,
        by: GroupBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        department: Option<&str>,
    ) -> Result<Statistics, ServiceError> {
        if to <= from {
            return Err(ServiceError::InvalidPeriod("`to` must be after `from`".into()));
        }
        if !store::statistics_built(&self.db).await? {
            self.rebuild_statistics().await?;
        }
        let now = text(self.now());
        let dim = by.as_str();
        let mut tally = Tally { rows: BTreeMap::new(), total: Row::keyed("total") };
        let plan = plan(from, to, Grain::Hour);
        for (a, b) in &plan.ends {
            let (a, b) = (text(*a), text(*b));
            for (key, dept, c, overdue) in store::record_counts(&self.db, dim, &a, &b, &now).await? {
                if department.is_none_or(|d| d == dept) {
                    tally.add(&key, &c);
                    tally.add_overdue(&key, overdue);
                }
            }
            for (key, dept, hours) in store::record_durations(&self.db, dim, &a, &b).await? {
                if department.is_none_or(|d| d == dept) {
                    tally.add_durations(&key, hundredths(hours), 1);
                }
            }
        }
        // The rows kept for the department, else those over all departments where there are
        // such, else every department's.
        let kept_for = department.or(by.all_departments().then_some(ALL_DEPARTMENTS));
        for (grain, a, b) in &plan.kept {
            let grain = grain.as_str();
            for (key, c) in store::stat_counts(&self.db, dim, grain, a, b, kept_for).await? {
                tally.add(&key, &c);
            }
            for (key, histogram) in store::stat_durations(&self.db, dim, grain, a, b, kept_for).await? {
                decode_histogram(&histogram, |v, n| tally.add_durations(&key, v, n));
            }
        }
        if let Some((first, last)) = plan.whole {
            let (a, b) = (text(first), text(last));
            for (key, n) in store::overdue_open(&self.db, dim, &a, &b, &now, department).await? {
                tally.add_overdue(&key, n);
            }
        }
        // A key whose counts were all taken back (a voided rating) has nothing to show.
        let mut rows: Vec<Row> = tally.rows.into_values().filter(|r| !r.is_empty()).collect();
        for r in &mut rows {
            r.finish();
        }
        tally.total.finish();
        Ok(Statistics {
            group_by: dim,
            department: department.map(str::to_owned),
            from: text(from),
            to: text(to),
            rows,
            total: tally.total,
        })
    }

    /// Recomputes the daily statistics from the records (and stores the handling time of any
    /// concluded application that lacks it), in one transaction that keeps writers out.
    pub async fn rebuild_statistics(&self) -> Result<(), ServiceError> {
        let calendar = self.calendar().await?;
        let backend = self.db.backend();
        self.db
            .write(move |tx| {
                Box::pin(async move {
                    store::begin_rebuild(tx, backend).await?;
                    for (id, accepted, concluded) in store::untimed_conclusions(tx).await? {
                        store::set_handling_hours(tx, id, calendar.working_hours_between(accepted, concluded)).await?;
                    }
                    for by in GroupBy::ALL {
                        store::rebuild_counts(tx, backend, by.as_str(), by.all_departments()).await?;
                    }
                    let mut histograms: HashMap<Cell, BTreeMap<i64, i64>> = HashMap::new();
                    let dims: Vec<&str> = GroupBy::ALL.iter().map(|g| g.as_str()).collect();
                    for (keys, department, hour, hours) in store::timed_conclusions(tx, backend, &dims).await? {
                        let [item, _, window, clerk] = <[String; 4]>::try_from(keys).unwrap_or_default();
                        for cell in cells(&Keys { item, department, window, clerk }, &hour) {
                            *histograms.entry(cell).or_default().entry(hundredths(hours)).or_default() += 1;
                        }
                    }
                    let mut rows: Vec<(Cell, Vec<u8>)> =
                        histograms.into_iter().map(|(c, h)| (c, encode_histogram(h))).collect();
                    rows.sort();
                    for chunk in rows.chunks(500) {
                        store::put_durations(tx, chunk).await?;
                    }
                    store::finish_rebuild(tx).await?;
                    Ok::<_, ServiceError>(())
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_is_the_nearest_rank_and_rates_are_rounded() {
        let mut r = Row { concluded: 3, on_time: 2, ..Row::default() };
        for days in 1..=10 {
            r.hours += f64::from(days) * 7.0;
            r.add_durations(hundredths(f64::from(days) * 7.0), 1);
        }
        r.ratings = 3;
        r.good = 2;
        r.finish();
        assert_eq!(r.avg_handling_working_days, Some(5.5));
        assert_eq!(r.p90_handling_working_days, Some(9.0));
        assert_eq!(r.on_time_rate, Some(0.67));
        assert_eq!(r.satisfaction, Some(0.67));
        let mut empty = Row::default();
        empty.finish();
        assert_eq!((empty.avg_handling_working_days, empty.on_time_rate, empty.satisfaction), (None, None, None));
    }

    #[test]
    fn the_percentile_of_rounded_times_is_the_rounded_percentile() {
        // Exact times in working hours; the old definition: round2 of the nearest-rank p90 of
        // the times in days.
        let hours: Vec<f64> = (0..997).map(|i| f64::from(i * 37 % 1000) * 0.137 + 0.011).collect();
        let mut days: Vec<f64> = hours.iter().map(|h| h / 7.0).collect();
        days.sort_by(f64::total_cmp);
        let rank = (0.9 * days.len() as f64).ceil() as usize;
        let mut r = Row::default();
        for h in &hours {
            r.hours += h;
            r.add_durations(hundredths(*h), 1);
        }
        r.finish();
        assert_eq!(r.p90_handling_working_days, Some(round2(days[rank - 1])));
        assert_eq!(r.avg_handling_working_days, Some(round2(days.iter().sum::<f64>() / days.len() as f64)));
    }

    #[test]
    fn histograms_round_trip() {
        let h: BTreeMap<i64, i64> = [(0, 3), (1, 1), (127, 2), (128, 1), (70_000, 400)].into_iter().collect();
        let bytes = encode_histogram(h.clone());
        let mut back = BTreeMap::new();
        decode_histogram(&bytes, |v, n| {
            back.insert(v, n);
        });
        assert_eq!(back, h);
        assert_eq!(encode_histogram(BTreeMap::new()), Vec::<u8>::new());
        let mut seen = 0;
        decode_histogram(&[0x80], |_, _| seen += 1);
        assert_eq!(seen, 0, "a damaged histogram yields nothing past the damage");
    }

    #[test]
    fn a_record_counts_in_its_hour_day_and_month_for_its_department_and_all() {
        let keys = Keys { item: "i".into(), department: "d".into(), window: "w".into(), clerk: "c".into() };
        let cells = cells(&keys, &hour_of("2026-11-30T17:00:00Z".parse().unwrap()));
        assert_eq!(cells.len(), 18);
        let named = |dim: &str| cells.iter().filter(|c| c.dimension == dim).collect::<Vec<_>>();
        assert!(named("item").iter().all(|c| c.key == "i" && c.department == "d"));
        assert_eq!(named("window").iter().filter(|c| c.department == "*").count(), 3);
        assert!(cells.iter().any(|c| c.grain == "hour" && c.period == "2026-12-01T01"), "the local hour");
        assert!(cells.iter().any(|c| c.grain == "day" && c.period == "2026-12-01"));
        assert!(cells.iter().any(|c| c.grain == "month" && c.period == "2026-12"));
        assert!(cells.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
    }

    #[test]
    fn groupings_parse_and_name_themselves() {
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::parse(g.as_str()), Some(g));
        }
        assert_eq!(GroupBy::parse("planet"), None);
    }
}
