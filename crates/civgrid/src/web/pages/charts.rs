//! Charts drawn on the server as inline SVG (no chart library, no script): the geometry is
//! computed here and the template writes the elements, so every label is escaped by askama.
//! Each chart stands beside a table of the same numbers (the accessible alternative).

/// A rate in `[0, 1]`, or none (a zero denominator: no rate, drawn as a gap).
pub type Rate = Option<f64>;

/// A horizontal grid line with its label.
pub struct Tick {
    pub y: f64,
    pub label: String,
}

/// A label under the x axis.
pub struct XLabel {
    pub x: f64,
    pub label: String,
}

/// One point of a line, with the text a pointer or screen reader shows for it.
pub struct Dot {
    pub x: f64,
    pub y: f64,
    pub title: String,
}

/// One line: its key (CSS class `s-{key}`), its legend label, its unbroken runs as SVG
/// `points` lists (a period without a rate breaks the line) and its dots.
pub struct Line {
    pub key: &'static str,
    pub label: &'static str,
    pub segments: Vec<String>,
    pub dots: Vec<Dot>,
}

/// Rates over periods as lines, 0–100 % on the y axis.
pub struct LineChart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub bottom: f64,
    pub ticks: Vec<Tick>,
    pub x_labels: Vec<XLabel>,
    pub lines: Vec<Line>,
}

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 30.0;

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Percentage ticks every 25 %.
fn percent_ticks(y_of: impl Fn(f64) -> f64) -> Vec<Tick> {
    (0..=4)
        .map(|i| i as f64 * 0.25)
        .map(|v| Tick { y: round1(y_of(v)), label: format!("{}%", (v * 100.0) as i64) })
        .collect()
}

/// A line chart of `series` (key, label, one rate per period) over the `periods` labels.
pub fn line_chart(periods: &[String], series: Vec<(&'static str, &'static str, Vec<Rate>)>) -> LineChart {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let n = periods.len();
    let x_of = |i: usize| if n <= 1 { (x0 + x1) / 2.0 } else { x0 + (x1 - x0) * i as f64 / (n - 1) as f64 };
    let y_of = |v: f64| y1 - (y1 - y0) * v.clamp(0.0, 1.0);
    // Every label when they fit, else every second or third.
    let every = n.div_ceil(12).max(1);
    let x_labels = periods
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == n)
        .map(|(i, p)| XLabel { x: round1(x_of(i)), label: p.clone() })
        .collect();
    let lines = series
        .into_iter()
        .map(|(key, label, values)| {
            let mut segments = Vec::new();
            let mut run: Vec<String> = Vec::new();
            let mut dots = Vec::new();
            for (i, v) in values.iter().enumerate().take(n) {
                match v {
                    Some(v) => {
                        let (x, y) = (round1(x_of(i)), round1(y_of(*v)));
                        run.push(format!("{x},{y}"));
                        dots.push(Dot { x, y, title: format!("{label} {}: {}", periods[i], pct(*v)) });
                    }
                    None => {
                        if !run.is_empty() {
                            segments.push(std::mem::take(&mut run).join(" "));
                        }
                    }
                }
            }
            if !run.is_empty() {
                segments.push(run.join(" "));
            }
            Line { key, label, segments, dots }
        })
        .collect();
    LineChart { width: W, height: H, left: x0, right: x1, bottom: y1, ticks: percent_ticks(y_of), x_labels, lines }
}

/// One bar of a group.
pub struct Bar {
    pub key: &'static str,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Where the value is written (just right of the bar).
    pub text_x: f64,
    pub text: String,
    pub title: String,
}

/// One group of bars side by side (a department), with its label.
pub struct Group {
    pub label: String,
    pub label_y: f64,
    pub bars: Vec<Bar>,
}

/// Rates of several groups as horizontal bars, one bar per series in each group.
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub top: f64,
    pub bottom: f64,
    pub ticks: Vec<XLabel>,
    pub groups: Vec<Group>,
}

const BAR: f64 = 9.0;
const BAR_GAP: f64 = 2.0;
const GROUP_GAP: f64 = 10.0;
const LABEL_W: f64 = 190.0;
const VALUE_W: f64 = 52.0;

/// Horizontal bars: for each group (label, one rate per series), the series side by side.
pub fn bar_chart(series: &[(&'static str, &'static str)], groups: Vec<(String, Vec<Rate>)>) -> BarChart {
    let per_group = series.len() as f64 * (BAR + BAR_GAP) - BAR_GAP;
    let top = 8.0;
    let (x0, x1) = (LABEL_W, W - VALUE_W);
    let x_of = |v: f64| x0 + (x1 - x0) * v.clamp(0.0, 1.0);
    let mut y = top;
    let mut out = Vec::new();
    for (label, values) in groups {
        let group_top = y;
        let bars = series
            .iter()
            .zip(values.iter().chain(std::iter::repeat(&None)))
            .enumerate()
            .map(|(k, ((key, name), v))| {
                let by = group_top + k as f64 * (BAR + BAR_GAP);
                let w = v.map_or(0.0, |v| x_of(v) - x0);
                let text = v.map_or_else(|| "—".to_owned(), pct);
                Bar {
                    key,
                    y: round1(by),
                    width: round1(w),
                    height: BAR,
                    text_x: round1(x0 + w + 4.0),
                    title: format!("{label} {name}: {text}"),
                    text,
                }
            })
            .collect();
        out.push(Group { label, label_y: round1(group_top + per_group / 2.0 + 4.0), bars });
        y += per_group + GROUP_GAP;
    }
    let bottom = y - GROUP_GAP + 6.0;
    let ticks = (0..=4)
        .map(|i| i as f64 * 0.25)
        .map(|v| XLabel { x: round1(x_of(v)), label: format!("{}%", (v * 100.0) as i64) })
        .collect();
    BarChart { width: W, height: bottom + 20.0, left: x0, top, bottom, ticks, groups: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_rate_breaks_the_line_and_rates_map_onto_the_axis() {
        let periods: Vec<String> = ["1", "2", "3", "4"].iter().map(|s| s.to_string()).collect();
        let c = line_chart(&periods, vec![("closure", "结案率", vec![Some(0.0), Some(1.0), None, Some(0.5)])]);
        let line = &c.lines[0];
        assert_eq!(line.segments.len(), 2, "{:?}", line.segments);
        assert_eq!(
            line.segments[0],
            format!("{},{} {},{}", LEFT, H - BOTTOM, round1(LEFT + (W - RIGHT - LEFT) / 3.0), TOP)
        );
        assert_eq!(line.dots.len(), 3);
        assert_eq!(line.dots[2].title, "结案率 4: 50.0%");
        assert_eq!(c.ticks.len(), 5);
        assert_eq!(c.ticks[4].label, "100%");
        assert_eq!(c.ticks[4].y, TOP);
        assert_eq!(c.x_labels.len(), 4);
    }

    #[test]
    fn bars_stand_side_by_side_per_group() {
        let series = [("closure", "结案率"), ("handling", "处置率")];
        let c = bar_chart(&series, vec![("城管".into(), vec![Some(1.0), None]), ("水务".into(), vec![Some(0.25)])]);
        assert_eq!(c.groups.len(), 2);
        assert_eq!(c.groups[0].bars[0].width, W - VALUE_W - LABEL_W);
        assert_eq!(c.groups[0].bars[1].width, 0.0);
        assert_eq!(c.groups[0].bars[1].text, "—");
        assert_eq!(c.groups[1].bars.len(), 2, "a missing value is a missing bar, not a missing slot");
        assert!(c.groups[1].bars[0].y > c.groups[0].bars[1].y);
        assert_eq!(c.groups[1].bars[0].title, "水务 结案率: 25.0%");
    }
}
