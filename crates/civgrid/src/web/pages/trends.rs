//! `GET /workbench/trends`: the commander's indicators as charts — 结案率, 按期结案率 and 处置率
//! of an area per month (or week) over the last year (or quarter), and the subdistricts (街道)
//! and the departments side by side over the same span. Each number comes from
//! `Cases::indicators`, one call per period, per subdistrict and per department (the kept
//! monthly and daily rows answer them); nothing here reads SQL.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use serde::Deserialize;

use super::charts::{bar_chart, line_chart, BarChart, LineChart, Rate};
use super::{error_page, frame, html, not_yours, staff_only, Frame, Opt, Tr};
use crate::cases::indicators::{Indicators, Scope};
use crate::staff::{Principal, Role};
use crate::web::error::ApiError;
use crate::web::AppState;

/// The roles that read indicators of an area (as `GET /api/v1/indicators` allows).
const SUPERVISORY: [Role; 5] = [Role::Commander, Role::Admin, Role::Auditor, Role::ShiftLeader, Role::Dispatcher];

/// The rates charted, with their label keys.
const RATES: [(&str, &str); 3] = [
    ("closure", "command.closure_rate"),
    ("on_time_closure", "command.on_time_closure_rate"),
    ("handling", "command.handling_rate"),
];

fn rates_of(i: &Indicators) -> [Rate; 3] {
    [i.closure_rate, i.on_time_closure_rate, i.handling_rate]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Month,
    Week,
}

/// Local (UTC+8) periods ending with the one `now` is in (which ends at `now`): 12 months or
/// 13 weeks (Monday to Monday). Each is (label, from, to).
pub fn periods(grain: Grain, now: DateTime<Utc>) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let cst = crate::periods::cst();
    let local = now.with_timezone(&cst);
    let midnight = |d: chrono::NaiveDate| {
        cst.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)).single().map(|t| t.with_timezone(&Utc))
    };
    let mut starts: Vec<(String, DateTime<Utc>)> = Vec::new();
    match grain {
        Grain::Month => {
            let (y, m) = (local.year(), local.month0() as i32);
            for k in (0..12).rev() {
                let months = y * 12 + m - k;
                let (yy, mm) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
                if let Some(t) = chrono::NaiveDate::from_ymd_opt(yy, mm, 1).and_then(midnight) {
                    starts.push((format!("{yy}-{mm:02}"), t));
                }
            }
        }
        Grain::Week => {
            let monday = local.date_naive() - Duration::days(i64::from(local.weekday().num_days_from_monday()));
            for k in (0..13).rev() {
                let d = monday - Duration::weeks(k);
                if let Some(t) = midnight(d) {
                    starts.push((d.format("%m-%d").to_string(), t));
                }
            }
        }
    }
    let ends: Vec<DateTime<Utc>> = starts.iter().skip(1).map(|(_, t)| *t).chain(std::iter::once(now)).collect();
    starts.into_iter().zip(ends).map(|((label, from), to)| (label, from, to.min(now).max(from))).collect()
}

/// One row of the table beside the trend chart.
pub struct PeriodRow {
    pub label: String,
    pub filed: i64,
    pub closed: i64,
    pub rates: Vec<String>,
}

/// One row of the table beside a side-by-side chart (a subdistrict or a department).
pub struct SideRow {
    pub code: String,
    pub name: String,
    pub filed: i64,
    pub rates: Vec<String>,
}

#[derive(Template)]
#[template(path = "trends.html")]
struct TrendsPage {
    l: Tr,
    page: Frame,
    areas: Vec<Opt>,
    area: String,
    area_name: String,
    month: bool,
    /// The legend: (series key, label).
    legend: Vec<(&'static str, &'static str)>,
    trend: LineChart,
    rows: Vec<PeriodRow>,
    span: String,
    /// The subdistricts the reader may read side by side; none when there are none.
    areas_side: Option<SideBySide>,
    /// The departments side by side; none when the reader may not read every department's.
    departments: Option<SideBySide>,
}

/// Subdistricts or departments side by side: the chart and its table.
pub struct SideBySide {
    pub chart: BarChart,
    pub table: Vec<SideRow>,
}

/// Each scope's rates over `[from, to)`, as the grouped bars and their table.
async fn side_by_side(
    state: &AppState,
    legend: &[(&'static str, &'static str)],
    scopes: Vec<(Scope, String, String)>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<SideBySide, ApiError> {
    let mut groups = Vec::with_capacity(scopes.len());
    let mut table = Vec::with_capacity(scopes.len());
    for (scope, code, name) in scopes {
        let ind = state.cases.indicators(&scope, from, to).await?;
        let rates = rates_of(&ind);
        groups.push((name.clone(), rates.to_vec()));
        table.push(SideRow { code, name, filed: ind.counts.filed, rates: rates.iter().map(|r| shown(*r)).collect() });
    }
    Ok(SideBySide { chart: bar_chart(legend, groups), table })
}

#[derive(Debug, Deserialize)]
pub(super) struct TrendQuery {
    grain: Option<String>,
    area: Option<String>,
}

fn shown(r: Rate) -> String {
    r.map_or_else(|| "—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// Whether the reader may read every department's indicators (a supervisory role over a
/// whole district, as the API demands).
fn reads_departments(p: &Principal) -> bool {
    p.roles.iter().any(|g| SUPERVISORY.contains(&g.role) && g.area_code.len() == 6)
}

pub(super) async fn trends_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    q: Query<TrendQuery>,
) -> Response {
    let (l, p) = match staff_only(&state, &headers, &uri).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if ![Role::Commander, Role::Admin, Role::Auditor].iter().any(|r| p.has_role(*r)) {
        return not_yours(l, &uri, &p);
    }
    let grain = if q.grain.as_deref() == Some("week") { Grain::Week } else { Grain::Month };
    let run = async {
        // The areas the reader may read: the district and subdistricts their roles cover.
        let readable: Vec<_> = state
            .territory
            .areas()
            .await?
            .into_iter()
            .filter(|a| a.level == "district" || a.level == "subdistrict")
            .filter(|a| SUPERVISORY.iter().any(|r| p.can(*r, &a.code)))
            .collect();
        let subdistricts: Vec<(Scope, String, String)> = readable
            .iter()
            .filter(|a| a.level == "subdistrict")
            .map(|a| (Scope::Area(a.code.clone()), a.code.clone(), a.name.clone()))
            .collect();
        let areas: Vec<Opt> = readable.into_iter().map(|a| Opt { code: a.code, label: a.name }).collect();
        let chosen = match q.area.as_deref() {
            Some(code) => match areas.iter().find(|a| a.code == code) {
                Some(a) => a,
                None => return Err(ApiError::forbidden("reading these indicators")),
            },
            None => match areas.first() {
                Some(a) => a,
                None => return Err(ApiError::forbidden("reading these indicators")),
            },
        };
        let now = Utc::now();
        let spans = periods(grain, now);
        let mut rows = Vec::with_capacity(spans.len());
        let mut series: Vec<Vec<Rate>> = vec![Vec::new(); RATES.len()];
        let scope = Scope::Area(chosen.code.clone());
        for (label, from, to) in &spans {
            let ind = state.cases.indicators(&scope, *from, *to).await?;
            let rates = rates_of(&ind);
            for (s, r) in series.iter_mut().zip(rates) {
                s.push(r);
            }
            rows.push(PeriodRow {
                label: label.clone(),
                filed: ind.counts.filed,
                closed: ind.counts.closed,
                rates: rates.iter().map(|r| shown(*r)).collect(),
            });
        }
        let labels: Vec<String> = spans.iter().map(|(label, _, _)| label.clone()).collect();
        let legend: Vec<(&'static str, &'static str)> = RATES.iter().map(|(k, key)| (*k, l.t(key))).collect();
        let trend = line_chart(&labels, legend.iter().zip(series).map(|((k, label), s)| (*k, *label, s)).collect());
        let (from, to) = (spans.first().map_or(now, |s| s.1), now);
        let areas_side = if subdistricts.is_empty() {
            None
        } else {
            Some(side_by_side(&state, &legend, subdistricts, (from, to)).await?)
        };
        let departments = if reads_departments(&p) {
            let scopes = state
                .staff
                .departments()
                .await?
                .into_iter()
                .map(|d| (Scope::Department(d.code.clone()), d.code, d.name))
                .collect();
            Some(side_by_side(&state, &legend, scopes, (from, to)).await?)
        } else {
            None
        };
        let span = format!(
            "{} – {}",
            from.with_timezone(&crate::periods::cst()).format("%Y-%m-%d"),
            to.with_timezone(&crate::periods::cst()).format("%Y-%m-%d")
        );
        Ok::<_, ApiError>(TrendsPage {
            l,
            page: frame(l, &uri, Some(&p)),
            area: chosen.code.clone(),
            area_name: chosen.label.clone(),
            areas: areas.iter().map(|a| Opt { code: a.code.clone(), label: a.label.clone() }).collect(),
            month: grain == Grain::Month,
            legend,
            trend,
            rows,
            span,
            areas_side,
            departments,
        })
    };
    match run.await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(e) => error_page(l, &uri, Some(&p), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn months_and_weeks_are_local_and_end_now() {
        // 2026-12-06 01:00 in Beijing is still 5 December in UTC.
        let now = at("2026-12-05T17:00:00Z");
        let m = periods(Grain::Month, now);
        assert_eq!(m.len(), 12);
        assert_eq!(m[0].0, "2026-01");
        assert_eq!(m[0].1, at("2025-12-31T16:00:00Z"));
        assert_eq!(m[11].0, "2026-12");
        assert_eq!((m[11].1, m[11].2), (at("2026-11-30T16:00:00Z"), now));
        assert_eq!(m[10].2, m[11].1, "periods meet");
        let w = periods(Grain::Week, now);
        assert_eq!(w.len(), 13);
        // Sunday 6 December (local): the week began on Monday 30 November.
        assert_eq!(w[12].0, "11-30");
        assert_eq!(w[12].1, at("2026-11-29T16:00:00Z"));
        assert_eq!(w[0].1, at("2026-11-29T16:00:00Z") - Duration::weeks(12));
    }
}
