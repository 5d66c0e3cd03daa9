//! Local (UTC+8) periods for counts kept as rollups: a record adds itself to the rows of its
//! local hour, day and month as it is written, and a question over `[from, to)` is answered by
//! summing the whole months inside it, the whole days around those, the whole hours around the
//! days (down to the finest grain a context keeps), and reading only the records of the partial
//! periods at its two ends. Used by the service statistics (finest grain: hour) and the case
//! indicators (finest grain: day).

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike, Utc};

/// China Standard Time: UTC+8, no daylight saving.
pub(crate) fn cst() -> FixedOffset {
    use chrono::Offset;
    // UTC+8 is a valid offset (east_opt only fails beyond ±24 h); UTC is the unreachable fallback.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The spans counts are kept over, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Grain {
    Hour,
    Day,
    Month,
}

impl Grain {
    pub(crate) const ALL: [Grain; 3] = [Grain::Hour, Grain::Day, Grain::Month];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Grain::Hour => "hour",
            Grain::Day => "day",
            Grain::Month => "month",
        }
    }

    /// Characters of the local period text: YYYY-MM-DDTHH, YYYY-MM-DD, YYYY-MM.
    pub(crate) fn width(self) -> usize {
        match self {
            Grain::Hour => 13,
            Grain::Day => 10,
            Grain::Month => 7,
        }
    }

    /// This grain and the coarser ones.
    pub(crate) fn and_coarser(self) -> impl Iterator<Item = Grain> {
        Grain::ALL.into_iter().filter(move |g| *g >= self)
    }
}

/// The local period of `grain` an instant falls in, as the rollup rows name it.
pub(crate) fn period(t: DateTime<Utc>, grain: Grain) -> String {
    t.with_timezone(&cst()).format("%Y-%m-%dT%H").to_string().chars().take(grain.width()).collect()
}

/// The start of the local period of `grain` holding `t`.
fn floor(t: DateTime<Utc>, grain: Grain) -> Option<DateTime<Utc>> {
    let local = t.with_timezone(&cst());
    let d = local.date_naive();
    let start = match grain {
        Grain::Hour => d.and_hms_opt(local.hour(), 0, 0)?,
        Grain::Day => d.and_time(chrono::NaiveTime::MIN),
        Grain::Month => d.with_day(1)?.and_time(chrono::NaiveTime::MIN),
    };
    cst().from_local_datetime(&start).single().map(|s| s.with_timezone(&Utc))
}

/// The first start of a local period of `grain` at or after `t`.
fn ceil(t: DateTime<Utc>, grain: Grain) -> Option<DateTime<Utc>> {
    let s = floor(t, grain)?;
    if s == t {
        return Some(s);
    }
    match grain {
        Grain::Hour => Some(s + chrono::Duration::hours(1)),
        Grain::Day => Some(s + chrono::Duration::days(1)),
        Grain::Month => {
            let next = s.with_timezone(&cst()).date_naive().checked_add_months(chrono::Months::new(1))?;
            cst().from_local_datetime(&next.and_time(chrono::NaiveTime::MIN)).single().map(|m| m.with_timezone(&Utc))
        }
    }
}

/// How a period is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// Partial periods of the finest grain at the ends, read from the records.
    pub(crate) ends: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Kept rows: (grain, first period, period after the last).
    pub(crate) kept: Vec<(Grain, String, String)>,
    /// The span the kept rows cover (whole periods of the finest grain).
    pub(crate) whole: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Splits `[from, to)` into the partial periods of `finest` at its ends, and between them the
/// whole months, the whole days around those, and (finest = hour) the whole hours around the days.
pub(crate) fn plan(from: DateTime<Utc>, to: DateTime<Utc>, finest: Grain) -> Plan {
    let whole = ceil(from, finest).zip(floor(to, finest)).filter(|(a, b)| a < b);
    let Some((first, last)) = whole else { return Plan { ends: vec![(from, to)], kept: vec![], whole: None } };
    let mut kept = Vec::new();
    // [a, b) is aligned to `grain`: keep the coarser periods inside it, these around them.
    fn fill(kept: &mut Vec<(Grain, String, String)>, a: DateTime<Utc>, b: DateTime<Utc>, grain: Grain) {
        let mut keep = |x: DateTime<Utc>, y: DateTime<Utc>| {
            if x < y {
                kept.push((grain, period(x, grain), period(y, grain)));
            }
        };
        let coarser = grain.and_coarser().nth(1);
        let inner = coarser.and_then(|c| ceil(a, c).zip(floor(b, c)).filter(|(x, y)| x < y).map(|s| (c, s)));
        match inner {
            Some((c, (x, y))) => {
                keep(a, x);
                keep(y, b);
                fill(kept, x, y, c);
            }
            None => keep(a, b),
        }
    }
    fill(&mut kept, first, last, finest);
    Plan {
        ends: [(from, first), (last, to)].into_iter().filter(|(a, b)| a < b).collect(),
        kept,
        whole: Some((first, last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn spans(p: &Plan) -> Vec<(&'static str, &str, &str)> {
        let mut v: Vec<_> = p.kept.iter().map(|(g, a, b)| (g.as_str(), a.as_str(), b.as_str())).collect();
        v.sort();
        v
    }

    #[test]
    fn periods_are_read_as_records_hours_days_and_months() {
        // Local midnight of 2 November 2026 is 2026-11-01T16:00Z.
        let p = plan(at("2026-11-01T16:00:00Z"), at("2026-11-04T16:00:00Z"), Grain::Hour);
        assert_eq!(p.ends, vec![]);
        assert_eq!(spans(&p), vec![("day", "2026-11-02", "2026-11-05")]);
        assert_eq!(p.whole, Some((at("2026-11-01T16:00:00Z"), at("2026-11-04T16:00:00Z"))));
        // Partial hours at both ends; whole hours up to and after the whole days.
        let p = plan(at("2026-11-01T21:10:00.001Z"), at("2026-11-04T17:30:00Z"), Grain::Hour);
        assert_eq!(
            p.ends,
            vec![
                (at("2026-11-01T21:10:00.001Z"), at("2026-11-01T22:00:00Z")),
                (at("2026-11-04T17:00:00Z"), at("2026-11-04T17:30:00Z"))
            ]
        );
        assert_eq!(
            spans(&p),
            vec![
                ("day", "2026-11-03", "2026-11-05"),
                ("hour", "2026-11-02T06", "2026-11-03T00"),
                ("hour", "2026-11-05T00", "2026-11-05T01")
            ]
        );
        // Within one hour: records only; within a day: hours.
        let (a, b) = (at("2026-11-01T17:05:00Z"), at("2026-11-01T17:55:00Z"));
        assert_eq!(plan(a, b, Grain::Hour), Plan { ends: vec![(a, b)], kept: vec![], whole: None });
        let p = plan(at("2026-11-01T17:00:00Z"), at("2026-11-02T15:00:00Z"), Grain::Hour);
        assert_eq!(spans(&p), vec![("hour", "2026-11-02T01", "2026-11-02T23")]);
        // A year: hours and days up to the first whole month, the months, days and hours after.
        let p = plan(at("2025-12-04T21:30:00Z"), at("2026-12-04T21:30:00Z"), Grain::Hour);
        assert_eq!(p.ends.len(), 2);
        assert_eq!(
            spans(&p),
            vec![
                ("day", "2025-12-06", "2026-01-01"),
                ("day", "2026-12-01", "2026-12-05"),
                ("hour", "2025-12-05T06", "2025-12-06T00"),
                ("hour", "2026-12-05T00", "2026-12-05T05"),
                ("month", "2026-01", "2026-12")
            ]
        );
        // Whole months exactly.
        let p = plan(at("2026-01-31T16:00:00Z"), at("2026-03-31T16:00:00Z"), Grain::Hour);
        assert_eq!((p.ends.clone(), spans(&p)), (vec![], vec![("month", "2026-02", "2026-04")]));
    }

    #[test]
    fn with_days_finest_the_ends_are_partial_days() {
        // 2026-11-02 10:00 local → 2027-01-05 10:00 local.
        let p = plan(at("2026-11-02T02:00:00Z"), at("2027-01-05T02:00:00Z"), Grain::Day);
        assert_eq!(
            p.ends,
            vec![
                (at("2026-11-02T02:00:00Z"), at("2026-11-02T16:00:00Z")),
                (at("2027-01-04T16:00:00Z"), at("2027-01-05T02:00:00Z"))
            ]
        );
        assert_eq!(
            spans(&p),
            vec![
                ("day", "2026-11-03", "2026-12-01"),
                ("day", "2027-01-01", "2027-01-05"),
                ("month", "2026-12", "2027-01")
            ]
        );
        assert_eq!(p.whole, Some((at("2026-11-02T16:00:00Z"), at("2027-01-04T16:00:00Z"))));
        // Shorter than a whole day: records only.
        let (a, b) = (at("2026-11-02T02:00:00Z"), at("2026-11-02T20:00:00Z"));
        assert_eq!(plan(a, b, Grain::Day), Plan { ends: vec![(a, b)], kept: vec![], whole: None });
    }

    #[test]
    fn periods_are_named_in_local_time() {
        assert_eq!(period(at("2026-11-30T17:00:00Z"), Grain::Hour), "2026-12-01T01");
        assert_eq!(period(at("2026-11-30T17:00:00Z"), Grain::Day), "2026-12-01");
        assert_eq!(period(at("2026-11-30T15:59:59Z"), Grain::Month), "2026-11");
    }
}
