//! Statistics per item, department, window or clerk over `[from, to)` (by acceptance time for
//! applications, issue time for notices, rating time for ratings). Definitions (docs/SERVICES.md):
//! * handling time: working time (calendar of the case loop) from acceptance to conclusion,
//!   in working days of 7 hours; average and 90th percentile (nearest rank) of concluded ones;
//! * on-time rate: concluded by the promised deadline / concluded;
//! * materials reused: attached from the e-licence library or an earlier application; asked:
//!   submitted (electronic or paper);
//! * visits saved: Σ (item's maximum visits − visits made), a window acceptance being one visit
//!   and an online one none, plus one per material reused (a trip to fetch it avoided);
//! * satisfaction: ratings of 3–5 / all ratings that are not voided by an appeal.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{parse_time, store, text, ServiceError, Services};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Item,
    Department,
    Window,
    Clerk,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "item" => Some(GroupBy::Item),
            "department" => Some(GroupBy::Department),
            "window" => Some(GroupBy::Window),
            "clerk" => Some(GroupBy::Clerk),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
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
    #[serde(skip)]
    durations: Vec<f64>,
    #[serde(skip)]
    on_time: i64,
    #[serde(skip)]
    good: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Statistics {
    pub group_by: &'static str,
    pub from: String,
    pub to: String,
    pub rows: Vec<Row>,
    pub total: Row,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Row {
    fn finish(&mut self) {
        self.durations.sort_by(f64::total_cmp);
        if !self.durations.is_empty() {
            let n = self.durations.len();
            self.avg_handling_working_days = Some(round2(self.durations.iter().sum::<f64>() / n as f64));
            let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
            self.p90_handling_working_days = Some(round2(self.durations[rank - 1]));
        }
        if self.concluded > 0 {
            self.on_time_rate = Some(round2(self.on_time as f64 / self.concluded as f64));
        }
        if self.ratings > 0 {
            self.satisfaction = Some(round2(self.good as f64 / self.ratings as f64));
        }
    }
}

impl Services {
    pub async fn statistics(
        &self,
        by: GroupBy,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Statistics, ServiceError> {
        if to <= from {
            return Err(ServiceError::InvalidPeriod("`to` must be after `from`".into()));
        }
        let (f, t) = (text(from), text(to));
        let calendar = self.calendar().await?;
        let now = self.now();
        let apps = store::applications_between(&self.db, &f, &t).await?;
        let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
        for (id, source, n) in store::material_counts_between(&self.db, &f, &t).await? {
            let e = counts.entry(id).or_default();
            if matches!(source.as_str(), "licence" | "earlier") {
                e.0 += n;
            } else {
                e.1 += n;
            }
        }
        let departments: HashMap<String, String> = store::item_departments(&self.db).await?.into_iter().collect();
        let key = |item: &str, dept: Option<&str>, window: Option<&str>, clerk: Option<&str>| -> String {
            match by {
                GroupBy::Item => item.to_owned(),
                GroupBy::Department => {
                    dept.map(str::to_owned).or_else(|| departments.get(item).cloned()).unwrap_or_default()
                }
                GroupBy::Window => window.unwrap_or("online").to_owned(),
                GroupBy::Clerk => clerk.unwrap_or("online").to_owned(),
            }
        };
        let mut rows: BTreeMap<String, Row> = BTreeMap::new();
        let mut total = Row { key: "total".into(), ..Row::default() };
        for a in &apps {
            let k = key(&a.item_code, Some(&a.department_code), a.window_code.as_deref(), a.clerk.as_deref());
            let (reused, asked) = counts.get(&a.id).copied().unwrap_or_default();
            for r in [rows.entry(k.clone()).or_insert_with(|| Row { key: k.clone(), ..Row::default() }), &mut total] {
                r.accepted += 1;
                r.online += i64::from(a.channel == "online");
                r.materials_reused += reused;
                r.materials_asked += asked;
                let visits = i64::from(a.channel == "window");
                r.visits_saved += (a.max_visits - visits).max(0) + reused;
                match (a.concluded_at.as_deref().and_then(parse_time), parse_time(&a.accepted_at)) {
                    (Some(c), Some(s)) => {
                        r.concluded += 1;
                        r.approved += i64::from(a.state == "approved");
                        r.rejected += i64::from(a.state == "rejected");
                        r.durations.push(calendar.working_hours_between(s, c) / 7.0);
                        if parse_time(&a.deadline).is_some_and(|d| c <= d) {
                            r.on_time += 1;
                        }
                    }
                    _ => {
                        r.in_progress += 1;
                        if parse_time(&a.deadline).is_some_and(|d| now > d) {
                            r.overdue_open += 1;
                        }
                    }
                }
            }
        }
        for n in store::notices_between(&self.db, &f, &t).await? {
            let k = key(&n.item_code, None, n.window_code.as_deref(), Some(&n.issued_by));
            for r in [rows.entry(k.clone()).or_insert_with(|| Row { key: k.clone(), ..Row::default() }), &mut total] {
                if n.kind == "refusal" {
                    r.refusals += 1;
                } else {
                    r.missing_notices += 1;
                }
            }
        }
        for x in store::ratings_between(&self.db, &f, &t).await? {
            if x.void {
                continue;
            }
            let item = x.item_code.clone().unwrap_or_default();
            let k = key(&item, x.responsible_department.as_deref(), x.window_code.as_deref(), x.clerk.as_deref());
            for r in [rows.entry(k.clone()).or_insert_with(|| Row { key: k.clone(), ..Row::default() }), &mut total] {
                r.ratings += 1;
                r.bad_ratings += i64::from(x.grade <= 2);
                r.good += i64::from(x.grade >= 3);
            }
        }
        let mut rows: Vec<Row> = rows.into_values().collect();
        for r in &mut rows {
            r.finish();
        }
        total.finish();
        Ok(Statistics {
            group_by: match by {
                GroupBy::Item => "item",
                GroupBy::Department => "department",
                GroupBy::Window => "window",
                GroupBy::Clerk => "clerk",
            },
            from: f,
            to: t,
            rows,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p90_is_the_nearest_rank_and_rates_are_rounded() {
        let mut r = Row { durations: (1..=10).map(f64::from).collect(), concluded: 3, on_time: 2, ..Row::default() };
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
}
