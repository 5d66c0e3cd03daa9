//! The report of `civgrid-bench locate`: serialisable, and displayed as a Markdown section.

use crate::machine::MachineInfo;
use serde::Serialize;
use std::fmt;

/// Everything [`crate::locate`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct LocateBenchReport {
    pub machine: MachineInfo,
    /// The grid file, as given.
    pub grids_file: String,
    pub grids: usize,
    /// Vertices of all grids, closing vertices included.
    pub vertices: usize,
    /// 16 bytes (two `f64`) per vertex.
    pub raw_coordinate_bytes: usize,
    /// `Locator::heap_bytes()`.
    pub locator_heap_bytes: usize,
    /// `locator_heap_bytes / raw_coordinate_bytes`.
    pub memory_ratio: f64,
    /// Reading and validating the GeoJSON file (not part of the index build).
    pub parse_seconds: f64,
    /// `Locator::build` wall-clock seconds, each run.
    pub build_seconds: Vec<f64>,
    /// Median of `build_seconds`.
    pub build_seconds_median: f64,
    pub points: usize,
    pub seed: u64,
    /// How the points were drawn.
    pub points_mix: String,
    /// Points for which the Locator found a grid.
    pub points_found: usize,
    /// Seconds for each single-threaded pass over all points.
    pub lookup_pass_seconds: Vec<f64>,
    pub lookups_per_sec_median: f64,
    pub lookups_per_sec_best: f64,
    pub ns_per_lookup_median: f64,
    /// The same points sorted along a Z-order curve (as vehicle tracks or a sorted batch import
    /// arrive): the difference to the random order is memory latency. Informational, no target.
    pub lookups_per_sec_spatial_order: f64,
    pub postgis: Option<PostgisReport>,
    pub targets: Vec<TargetCheck>,
}

/// The PostGIS side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct PostgisReport {
    /// `server_version` and `postgis_lib_version()`.
    pub version: String,
    /// Settings that matter for the figures.
    pub settings: String,
    /// COPY of the grid polygons.
    pub load_seconds: f64,
    /// `CREATE INDEX … USING GIST`.
    pub index_seconds: f64,
    pub analyze_seconds: f64,
    /// Points sent one query each (the first `per_point_queries` points).
    pub per_point_queries: usize,
    pub per_point_seconds: f64,
    pub per_point_qps: f64,
    pub per_point: Comparison,
    /// COPY of all points into a table (not counted in the join).
    pub points_load_seconds: f64,
    /// The set-based join alone, all rows fetched: the fastest of `join_runs`.
    pub join_seconds: f64,
    pub join_points_per_sec: f64,
    /// Rows the join returned (points inside some grid's interior).
    pub join_rows: usize,
    /// Each timed run of the join, with the setting it ran under.
    pub join_runs: Vec<JoinRun>,
    pub join: Comparison,
    /// `EXPLAIN` of the join.
    pub join_plan: Vec<String>,
    /// Up to 5 points where the answers differ.
    pub disagreements: Vec<Disagreement>,
}

/// One timed run of the set-based join.
#[derive(Debug, Clone, Serialize)]
pub struct JoinRun {
    pub setting: String,
    pub seconds: f64,
    pub rows: usize,
}

/// Answers compared point by point.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Comparison {
    pub compared: usize,
    pub agree: usize,
    pub disagree: usize,
    /// Disagreements where the point lies on the boundary of one of the two grids, i.e. within
    /// civgrid's boundary tolerance (1e-9°) of an edge: `ST_Contains` excludes the boundary,
    /// civgrid includes it and gives shared boundaries to the smallest code.
    pub disagree_on_boundary: usize,
    /// Disagreements not explained by boundary semantics: these would be bugs.
    pub disagree_unexplained: usize,
}

/// One point where civgrid and PostGIS answered differently.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    /// `per-point` or `join`.
    pub mode: String,
    pub point: usize,
    pub lng: f64,
    pub lat: f64,
    pub civgrid: Option<String>,
    pub postgis: Option<String>,
    pub on_boundary: bool,
}

/// One of the targets.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub required: String,
    pub measured: String,
    /// `None` when it could not be measured (no PostGIS).
    pub pass: Option<bool>,
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.round());
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn secs(v: &[f64]) -> String {
    v.iter().map(|s| format!("{s:.3}")).collect::<Vec<_>>().join(", ")
}

fn ms(v: &[f64]) -> String {
    v.iter().map(|s| format!("{:.1}", s * 1e3)).collect::<Vec<_>>().join(", ")
}

fn code(c: &Option<String>) -> String {
    c.as_deref().map_or_else(|| "none".to_string(), |c| format!("`{c}`"))
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} compared: {} agree, {} differ ({} on a grid boundary (≤ 1e-9°), {} unexplained)",
            thousands(self.compared as f64),
            thousands(self.agree as f64),
            thousands(self.disagree as f64),
            thousands(self.disagree_on_boundary as f64),
            thousands(self.disagree_unexplained as f64)
        )
    }
}

impl fmt::Display for LocateBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.machine;
        writeln!(
            f,
            "#### `{}`: {} grids, {} points (seed {})\n",
            self.grids_file,
            thousands(self.grids as f64),
            thousands(self.points as f64),
            self.seed
        )?;
        writeln!(f, "{m}\n")?;
        writeln!(f, "| measure | value |")?;
        writeln!(f, "| --- | --- |")?;
        writeln!(f, "| grids / vertices | {} / {} |", thousands(self.grids as f64), thousands(self.vertices as f64))?;
        writeln!(f, "| GeoJSON parse + validation (not in build) | {:.2} s |", self.parse_seconds)?;
        writeln!(
            f,
            "| `Locator::build` | {:.1} ms median (runs: {} ms) |",
            self.build_seconds_median * 1e3,
            ms(&self.build_seconds)
        )?;
        writeln!(
            f,
            "| memory: Locator heap / raw coordinates (16 B × vertices) | {} / {} = {:.2}× |",
            mb(self.locator_heap_bytes),
            mb(self.raw_coordinate_bytes),
            self.memory_ratio
        )?;
        writeln!(f, "| points | {} |", self.points_mix)?;
        writeln!(f, "| points inside a grid (civgrid) | {} |", thousands(self.points_found as f64))?;
        writeln!(
            f,
            "| **civgrid lookups, 1 thread** | **{} /s** median ({:.0} ns each); best {} /s; passes: {} s |",
            thousands(self.lookups_per_sec_median),
            self.ns_per_lookup_median,
            thousands(self.lookups_per_sec_best),
            secs(&self.lookup_pass_seconds)
        )?;
        writeln!(
            f,
            "| civgrid lookups, 1 thread, same points in Z-order (no target) | {} /s median |",
            thousands(self.lookups_per_sec_spatial_order)
        )?;
        if let Some(p) = &self.postgis {
            writeln!(f, "| PostGIS | {} ({}) |", p.version, p.settings)?;
            writeln!(
                f,
                "| PostGIS load (COPY) / GiST index / ANALYZE | {:.2} s / {:.2} s / {:.2} s |",
                p.load_seconds, p.index_seconds, p.analyze_seconds
            )?;
            writeln!(
                f,
                "| **PostGIS one query per point** (loopback, first {} points) | **{} queries/s** ({:.2} s) |",
                thousands(p.per_point_queries as f64),
                thousands(p.per_point_qps),
                p.per_point_seconds
            )?;
            writeln!(
                f,
                "| **PostGIS set-based join** (all points; point COPY + ANALYZE {:.2} s not counted) | **{} points/s** (best run {:.2} s; runs: {}) |",
                p.points_load_seconds,
                thousands(p.join_points_per_sec),
                p.join_seconds,
                p.join_runs
                    .iter()
                    .map(|r| format!("{} {:.2} s, {} rows", r.setting, r.seconds, thousands(r.rows as f64)))
                    .collect::<Vec<_>>()
                    .join("; ")
            )?;
            writeln!(f, "| join plan | `{}` |", p.join_plan.join(" → "))?;
            writeln!(f, "| answers, one query per point | {} |", p.per_point)?;
            writeln!(f, "| answers, set-based join | {} |", p.join)?;
        } else {
            writeln!(f, "| PostGIS | not run (no URL given) |")?;
        }
        writeln!(f)?;
        writeln!(f, "| target | required | measured | result |")?;
        writeln!(f, "| --- | --- | --- | --- |")?;
        for t in &self.targets {
            let r = match t.pass {
                Some(true) => "PASS",
                Some(false) => "**FAIL**",
                None => "not measured",
            };
            writeln!(f, "| {} | {} | {} | {} |", t.target, t.required, t.measured, r)?;
        }
        if let Some(p) = &self.postgis {
            if !p.disagreements.is_empty() {
                writeln!(f)?;
                writeln!(f, "Disagreements (up to 5):\n")?;
                writeln!(f, "| mode | point | lng, lat (GCJ-02) | civgrid | PostGIS | on a boundary |")?;
                writeln!(f, "| --- | --- | --- | --- | --- | --- |")?;
                for d in &p.disagreements {
                    writeln!(
                        f,
                        "| {} | {} | {}, {} | {} | {} | {} |",
                        d.mode,
                        d.point,
                        d.lng,
                        d.lat,
                        code(&d.civgrid),
                        code(&d.postgis),
                        if d.on_boundary { "yes" } else { "**no**" }
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(-1234.0), "-1,234");
    }
}
