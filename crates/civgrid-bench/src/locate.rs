//! `civgrid-bench locate`: point → grid lookup, civgrid against PostGIS.

use crate::machine::MachineInfo;
use crate::report::{thousands, LocateBenchReport, TargetCheck};
use anyhow::{anyhow, Context};
use civgrid_geo::{import, Datum, Locator, MultiPolygon};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

/// Runs of `Locator::build` (the median is reported).
const BUILD_RUNS: usize = 3;
/// Timed single-threaded passes over all points (median and best reported).
const LOOKUP_PASSES: usize = 5;
/// Share of points drawn uniformly in the bounding box of all grids (many fall outside every grid).
const SHARE_WIDE: f64 = 0.10;
/// Share of points that are exact grid vertices (they exercise boundary semantics).
const SHARE_VERTEX: f64 = 0.001;

/// Options of `civgrid-bench locate`.
#[derive(Debug, Clone)]
pub struct LocateBenchOptions {
    /// A GeoJSON FeatureCollection of grids in GCJ-02, each with a `code` property (or a
    /// feature `id`).
    pub grids: PathBuf,
    /// Points to look up (the same points go to PostGIS's set-based join).
    pub points: usize,
    /// e.g. `postgres://postgres@127.0.0.1:5432/test`; `None` skips PostGIS.
    pub postgis_url: Option<String>,
    /// How many points to send one-by-one to PostGIS; its rate is extrapolated from that sample.
    pub per_point_queries: usize,
    /// Seed of the deterministic point set.
    pub seed: u64,
    /// Write the Markdown report there too.
    pub markdown_out: Option<PathBuf>,
}

/// Loads the grids, times `Locator::build` and single-threaded lookups of `points`
/// deterministic points, and, with a PostGIS URL, the same lookups in PostGIS (one query per
/// point over loopback for a sample, and one set-based join of all points), comparing the
/// answers point by point. The PostGIS objects live in a fresh schema that is dropped at the end.
pub async fn locate(opts: &LocateBenchOptions) -> anyhow::Result<LocateBenchReport> {
    let machine = MachineInfo::current();
    if opts.points == 0 {
        anyhow::bail!("--points must be at least 1");
    }

    let t = Instant::now();
    let bytes = std::fs::read(&opts.grids).with_context(|| format!("reading {}", opts.grids.display()))?;
    let limits =
        import::ImportLimits { max_bytes: usize::MAX, max_features: usize::MAX, max_vertices_per_feature: usize::MAX };
    let features = import::parse_grid_collection(&bytes, Datum::Gcj02, &limits)
        .map_err(|r| anyhow!("{}: not a usable grid file: {r}", opts.grids.display()))?;
    drop(bytes);
    let mut grids = features
        .into_iter()
        .map(|f| {
            let code = match f.properties.get("code") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => f.id.clone(),
            }
            .ok_or_else(|| anyhow!("feature {} has neither a `code` nor an id", f.index))?;
            Ok((code, f.geometry))
        })
        .collect::<anyhow::Result<Vec<(String, MultiPolygon<f64>)>>>()?;
    grids.sort_by(|a, b| a.0.cmp(&b.0));
    let (codes, geoms): (Vec<String>, Vec<MultiPolygon<f64>>) = grids.into_iter().unzip();
    let parse_seconds = t.elapsed().as_secs_f64();
    if geoms.is_empty() {
        anyhow::bail!("{}: no grids", opts.grids.display());
    }
    let vertices: usize = geoms.iter().map(vertex_count).sum();

    let mut build_seconds = Vec::with_capacity(BUILD_RUNS);
    let mut locator = None;
    for _ in 0..BUILD_RUNS {
        drop(locator.take());
        let t = Instant::now();
        let l = Locator::build(black_box(&geoms));
        build_seconds.push(t.elapsed().as_secs_f64());
        locator = Some(l);
    }
    let locator = locator.ok_or_else(|| anyhow!("the Locator was not built"))?;
    let build_seconds_median = median(&build_seconds);
    let raw_coordinate_bytes = 16 * vertices;
    let locator_heap_bytes = locator.heap_bytes();
    let memory_ratio = locator_heap_bytes as f64 / raw_coordinate_bytes as f64;

    let pts = gen_points(&geoms, opts.points, opts.seed);
    let answers: Vec<Option<u32>> = pts.iter().map(|&(x, y)| locator.locate(x, y)).collect();
    let points_found = answers.iter().filter(|a| a.is_some()).count();

    let mut lookup_pass_seconds = Vec::with_capacity(LOOKUP_PASSES);
    for _ in 0..LOOKUP_PASSES {
        let t = Instant::now();
        let mut found = 0usize;
        for &(x, y) in &pts {
            if black_box(locator.locate(black_box(x), black_box(y))).is_some() {
                found += 1;
            }
        }
        lookup_pass_seconds.push(t.elapsed().as_secs_f64());
        black_box(found);
    }
    let n = pts.len() as f64;
    let pass_median = median(&lookup_pass_seconds);
    let pass_best = lookup_pass_seconds.iter().copied().fold(f64::INFINITY, f64::min);
    let lookups_per_sec_median = n / pass_median;
    let lookups_per_sec_best = n / pass_best;

    // The same points in spatial (Z-order) order: how much of a lookup is memory latency.
    let mut sorted = pts.clone();
    sort_z_order(&mut sorted);
    let mut sorted_pass_seconds = Vec::with_capacity(LOOKUP_PASSES);
    for _ in 0..LOOKUP_PASSES {
        let t = Instant::now();
        let mut found = 0usize;
        for &(x, y) in &sorted {
            if black_box(locator.locate(black_box(x), black_box(y))).is_some() {
                found += 1;
            }
        }
        sorted_pass_seconds.push(t.elapsed().as_secs_f64());
        black_box(found);
    }
    drop(sorted);
    let lookups_per_sec_spatial_order = n / median(&sorted_pass_seconds);

    let postgis = match &opts.postgis_url {
        Some(url) => Some(
            crate::postgis::run(url, &codes, &geoms, &pts, &answers, opts.per_point_queries)
                .await
                .context("PostGIS comparison")?,
        ),
        None => None,
    };

    let mut targets = vec![TargetCheck {
        target: "lookups/s on one core (stated over ≥ 100k grids)".into(),
        required: "≥ 1,000,000 /s".into(),
        measured: format!("{} /s", thousands(lookups_per_sec_median)),
        pass: Some(lookups_per_sec_median >= 1e6),
    }];
    let (join, per_point) = match &postgis {
        Some(p) => {
            let j = lookups_per_sec_median / p.join_points_per_sec;
            let q = lookups_per_sec_median / p.per_point_qps;
            ((format!("{j:.1}×"), Some(j >= 10.0)), (format!("{q:.0}×"), Some(q >= 100.0)))
        }
        None => (("—".into(), None), ("—".into(), None)),
    };
    targets.push(TargetCheck {
        target: "throughput vs PostGIS set-based join".into(),
        required: "≥ 10×".into(),
        measured: join.0,
        pass: join.1,
    });
    targets.push(TargetCheck {
        target: "throughput vs PostGIS one query per point".into(),
        required: "≥ 100×".into(),
        measured: per_point.0,
        pass: per_point.1,
    });
    targets.push(TargetCheck {
        target: "index build (stated for 100k grids)".into(),
        required: "≤ 2 s".into(),
        measured: format!("{:.1} ms", build_seconds_median * 1e3),
        pass: Some(build_seconds_median <= 2.0),
    });
    targets.push(TargetCheck {
        target: "memory vs raw coordinates".into(),
        required: "≤ 2×".into(),
        measured: format!("{memory_ratio:.2}×"),
        pass: Some(memory_ratio <= 2.0),
    });

    let report = LocateBenchReport {
        machine,
        grids_file: opts.grids.display().to_string(),
        grids: geoms.len(),
        vertices,
        raw_coordinate_bytes,
        locator_heap_bytes,
        memory_ratio,
        parse_seconds,
        build_seconds,
        build_seconds_median,
        points: pts.len(),
        seed: opts.seed,
        points_mix: format!(
            "{}: {:.1} % uniform in the bounding box of a uniformly chosen grid, {:.0} % uniform in the bounding box of all grids (+5 % margin), {:.1} % exact grid vertices",
            thousands(n),
            (1.0 - SHARE_WIDE - SHARE_VERTEX) * 100.0,
            SHARE_WIDE * 100.0,
            SHARE_VERTEX * 100.0
        ),
        points_found,
        lookup_pass_seconds,
        lookups_per_sec_median,
        lookups_per_sec_best,
        ns_per_lookup_median: pass_median / n * 1e9,
        lookups_per_sec_spatial_order,
        postgis,
        targets,
    };
    if let Some(path) = &opts.markdown_out {
        std::fs::write(path, report.to_string()).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}

pub(crate) fn vertex_count(mp: &MultiPolygon<f64>) -> usize {
    mp.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Sorts points along a Z-order (Morton) curve over their bounding box, 16 bits per axis.
fn sort_z_order(pts: &mut [(f64, f64)]) {
    let (mut lo, mut hi) = ((f64::INFINITY, f64::INFINITY), (f64::NEG_INFINITY, f64::NEG_INFINITY));
    for &(x, y) in pts.iter() {
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    let q = |v: f64, a: f64, b: f64| -> u32 {
        if b > a {
            (((v - a) / (b - a)) * 65_535.0).clamp(0.0, 65_535.0) as u32
        } else {
            0
        }
    };
    let spread = |mut v: u32| -> u32 {
        v = (v | (v << 8)) & 0x00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    pts.sort_by_cached_key(|&(x, y)| spread(q(x, lo.0, hi.0)) | (spread(q(y, lo.1, hi.1)) << 1));
}

/// Bounding box `(min_x, min_y, max_x, max_y)`.
fn bbox(mp: &MultiPolygon<f64>) -> (f64, f64, f64, f64) {
    let mut b = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in &mp.0 {
        for c in &p.exterior().0 {
            b.0 = b.0.min(c.x);
            b.1 = b.1.min(c.y);
            b.2 = b.2.max(c.x);
            b.3 = b.3.max(c.y);
        }
    }
    b
}

/// Deterministic points: mostly in the bounding box of a uniformly chosen grid, some anywhere in
/// the bounding box of all grids, and a few exact vertices.
fn gen_points(geoms: &[MultiPolygon<f64>], n: usize, seed: u64) -> Vec<(f64, f64)> {
    let boxes: Vec<_> = geoms.iter().map(bbox).collect();
    let all = boxes.iter().fold((f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY), |a, b| {
        (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3))
    });
    let (mx, my) = ((all.2 - all.0) * 0.05, (all.3 - all.1) * 0.05);
    let wide = (all.0 - mx, all.1 - my, all.2 + mx, all.3 + my);
    let mut rng = StdRng::seed_from_u64(seed);
    let uniform = |rng: &mut StdRng, b: (f64, f64, f64, f64)| {
        (b.0 + rng.gen::<f64>() * (b.2 - b.0), b.1 + rng.gen::<f64>() * (b.3 - b.1))
    };
    (0..n)
        .map(|_| {
            let r: f64 = rng.gen();
            let g = rng.gen_range(0..geoms.len());
            if r < SHARE_VERTEX {
                let polys = &geoms[g].0;
                if !polys.is_empty() {
                    let ring = &polys[rng.gen_range(0..polys.len())].exterior().0;
                    if !ring.is_empty() {
                        let c = ring[rng.gen_range(0..ring.len())];
                        return (c.x, c.y);
                    }
                }
                uniform(&mut rng, boxes[g])
            } else if r < SHARE_VERTEX + SHARE_WIDE {
                uniform(&mut rng, wide)
            } else {
                uniform(&mut rng, boxes[g])
            }
        })
        .collect()
}
