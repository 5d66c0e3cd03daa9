//! The working-day calendar that drives every time limit: Monday–Friday, minus public holidays,
//! plus make-up working days (调休), in China Standard Time (UTC+8, no daylight saving).
//!
//! Working time is 09:00–12:00 and 14:00–18:00 (7 hours a day).
//! * A limit in working **days** ends at 18:00 on the N-th working day *after* the day the
//!   clock starts (the starting day is not counted, as in administrative practice).
//! * A limit in working **hours** counts only working time from the start instant.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

/// An exception to the ordinary week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Holiday,
    Workday,
}

/// Working periods of a day, in local time.
const PERIODS: [(u32, u32); 2] = [(9, 12), (14, 18)];

use crate::periods::cst;

/// Holidays and make-up days; everything else follows the Monday–Friday week.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    overrides: HashMap<NaiveDate, DayKind>,
}

impl Calendar {
    pub fn new(overrides: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Calendar {
        Calendar { overrides: overrides.into_iter().collect() }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.overrides.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    fn local(&self, d: NaiveDate, h: u32) -> DateTime<Utc> {
        let t = NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN);
        match cst().from_local_datetime(&d.and_time(t)).single() {
            Some(dt) => dt.with_timezone(&Utc),
            None => Utc.from_utc_datetime(&d.and_time(t)),
        }
    }

    /// 18:00 local on the N-th working day after the day of `start`.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut d = start.with_timezone(&cst()).date_naive();
        let mut left = n;
        // A calendar with no working days at all would loop forever; ten years is the cap.
        for _ in 0..3660 {
            if left == 0 {
                break;
            }
            d = d.succ_opt().unwrap_or(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        self.local(d, PERIODS[1].1)
    }

    /// The instant when `n` working hours have passed since `start`.
    pub fn add_working_hours(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut left = Duration::hours(i64::from(n));
        let mut now = start;
        let mut d = start.with_timezone(&cst()).date_naive();
        for _ in 0..3660 {
            if self.is_working_day(d) {
                for (from, to) in PERIODS {
                    let (a, b) = (self.local(d, from), self.local(d, to));
                    let begin = if now > a { now } else { a };
                    if begin >= b {
                        continue;
                    }
                    let avail = b - begin;
                    if avail >= left {
                        return begin + left;
                    }
                    left -= avail;
                    now = b;
                }
            }
            d = d.succ_opt().unwrap_or(d);
        }
        now
    }

    /// Working time between two instants, in hours (for "average handling time").
    pub fn working_hours_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        if to <= from {
            return 0.0;
        }
        let mut total = Duration::zero();
        let mut d = from.with_timezone(&cst()).date_naive();
        let last = to.with_timezone(&cst()).date_naive();
        while d <= last {
            if self.is_working_day(d) {
                for (a, b) in PERIODS {
                    let (a, b) = (self.local(d, a), self.local(d, b));
                    let (s, e) = (a.max(from), b.min(to));
                    if e > s {
                        total += e - s;
                    }
                }
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        total.num_seconds() as f64 / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn national_day_2026() -> Calendar {
        // A National-Day-like week (illustrative, not the official schedule): Oct 1–7 off, with
        // Sunday Sep 27 and Saturday Oct 10 as make-up working days.
        let mut days: Vec<(NaiveDate, DayKind)> =
            (1..=7).map(|d| (NaiveDate::from_ymd_opt(2026, 10, d).unwrap(), DayKind::Holiday)).collect();
        days.push((NaiveDate::from_ymd_opt(2026, 9, 27).unwrap(), DayKind::Workday));
        days.push((NaiveDate::from_ymd_opt(2026, 10, 10).unwrap(), DayKind::Workday));
        Calendar::new(days)
    }

    #[test]
    fn working_days_skip_weekends_and_start_the_next_day() {
        let c = Calendar::default();
        // Friday 2026-11-20 15:00 CST + 1 working day → Monday 2026-11-23 18:00 CST.
        assert_eq!(c.add_working_days(at("2026-11-20T15:00:00+08:00"), 1), at("2026-11-23T18:00:00+08:00"));
        assert_eq!(c.add_working_days(at("2026-11-20T15:00:00+08:00"), 5), at("2026-11-27T18:00:00+08:00"));
    }

    #[test]
    fn holidays_and_make_up_days_count() {
        let c = national_day_2026();
        // Wednesday Sep 30 + 1 working day: Oct 1–7 are off, Thu Oct 8 is the next working day.
        assert_eq!(c.add_working_days(at("2026-09-30T10:00:00+08:00"), 1), at("2026-10-08T18:00:00+08:00"));
        // Friday Oct 9 + 1: Saturday Oct 10 is a make-up working day.
        assert_eq!(c.add_working_days(at("2026-10-09T10:00:00+08:00"), 1), at("2026-10-10T18:00:00+08:00"));
        assert!(c.is_working_day(NaiveDate::from_ymd_opt(2026, 9, 27).unwrap()));
    }

    #[test]
    fn working_hours_skip_lunch_nights_and_weekends() {
        let c = Calendar::default();
        // 11:00 + 2 h: one hour before lunch, one after → 15:00.
        assert_eq!(c.add_working_hours(at("2026-11-20T11:00:00+08:00"), 2), at("2026-11-20T15:00:00+08:00"));
        // Friday 17:00 + 2 h → Monday 10:00.
        assert_eq!(c.add_working_hours(at("2026-11-20T17:00:00+08:00"), 2), at("2026-11-23T10:00:00+08:00"));
        // Saturday night + 1 h → Monday 10:00.
        assert_eq!(c.add_working_hours(at("2026-11-21T22:00:00+08:00"), 1), at("2026-11-23T10:00:00+08:00"));
        // Friday 11–12 and 14–18, Monday 9–10.
        assert_eq!(c.working_hours_between(at("2026-11-20T11:00:00+08:00"), at("2026-11-23T10:00:00+08:00")), 6.0);
    }

    #[test]
    fn a_calendar_without_working_days_terminates() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let c = Calendar::new(
            (0..4000).filter_map(|i| start.checked_add_days(chrono::Days::new(i))).map(|d| (d, DayKind::Holiday)),
        );
        let _ = c.add_working_days(at("2026-01-01T10:00:00+08:00"), 3);
        let _ = c.add_working_hours(at("2026-01-01T10:00:00+08:00"), 3);
    }
}
