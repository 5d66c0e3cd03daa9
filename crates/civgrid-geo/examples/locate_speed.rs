//! Measures the locator against the performance targets: ≥ 1,000,000 lookups/s on one core over
//! 100,000 grids, build ≤ 2 s, heap ≤ 2× the raw coordinates.
//!
//! Run with `cargo run --release -p civgrid-geo --example locate_speed`.
//!
//! The synthetic grid set mimics the benchmark's: copies of the real Chancheng outline, scaled
//! like counties of very different sizes and spread over China, each cut into equal-area grids
//! by the partitioner, with edges densified so grids have 10–60 vertices.

use std::time::Instant;

use civgrid_geo::import::parse_boundary;
use civgrid_geo::partition::partition_equal;
use civgrid_geo::{Datum, Locator, MultiPolygon};
use geo::{BoundingRect, Coord, LineString, MapCoords, Polygon};

struct Lcg(u64);
impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Inserts evenly spaced collinear vertices so the ring has about `target` vertices.
fn densify(ring: &LineString<f64>, target: usize) -> LineString<f64> {
    let n = ring.0.len().saturating_sub(1).max(1);
    let per_edge = target.div_ceil(n).max(1);
    let mut out = Vec::with_capacity(n * per_edge + 1);
    for w in ring.0.windows(2) {
        for k in 0..per_edge {
            let t = k as f64 / per_edge as f64;
            out.push(Coord { x: w[0].x + t * (w[1].x - w[0].x), y: w[0].y + t * (w[1].y - w[0].y) });
        }
    }
    if let Some(&first) = out.first() {
        out.push(first);
    }
    LineString(out)
}

fn main() {
    let district = parse_boundary(include_bytes!("../../../data/boundaries/440604.geojson"), Datum::Gcj02)
        .expect("district outline");
    let rect = district.bounding_rect().expect("non-empty");
    let (cx, cy) = (rect.center().x, rect.center().y);

    let mut rng = Lcg(7);
    let t = Instant::now();
    let mut grids: Vec<MultiPolygon<f64>> = Vec::with_capacity(101_000);
    // 96 "counties" of 1,031 grids each, plus the 1,046-grid demo district = 100,022 grids.
    let copies = 96;
    for k in 0..copies {
        let lng = 80.0 + 48.0 * ((k % 12) as f64 + 0.5) / 12.0;
        let lat = 22.0 + 24.0 * ((k / 12) as f64 + 0.5) / 8.0;
        let scale = 0.5 + 7.5 * rng.next_f64();
        let county = district.map_coords(|c| Coord { x: lng + (c.x - cx) * scale, y: lat + (c.y - cy) * scale });
        grids.extend(partition_equal(&county, 1031));
    }
    let demo = partition_equal(&district, 1046);
    grids.extend(demo.iter().cloned());
    let cut_time = t.elapsed();
    {
        // The demo district alone: few vertices per grid, so fixed per-grid overhead dominates.
        let v: usize = demo
            .iter()
            .flat_map(|g| g.0.iter())
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        let loc = Locator::build(&demo);
        println!(
            "demo district: {} grids, {:.1} vertices per grid, heap {:.2}× raw",
            demo.len(),
            v as f64 / demo.len() as f64,
            loc.heap_bytes() as f64 / (v * 16) as f64
        );
    }
    let grids: Vec<MultiPolygon<f64>> = grids
        .iter()
        .map(|g| {
            let target = 10 + (rng.next_f64() * 50.0) as usize;
            MultiPolygon(
                g.0.iter()
                    .map(|p| {
                        Polygon::new(
                            densify(p.exterior(), target),
                            p.interiors().iter().map(|r| densify(r, 8)).collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let vertices: usize = grids
        .iter()
        .flat_map(|g| g.0.iter())
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    println!(
        "{} grids, {} vertices ({:.1} per grid), generated in {:.2?}",
        grids.len(),
        vertices,
        vertices as f64 / grids.len() as f64,
        cut_time
    );

    let t = Instant::now();
    let locator = Locator::build(&grids);
    let build = t.elapsed();
    let raw = vertices * 16;
    println!(
        "build {:.3?}; heap {:.1} MB = {:.2}× raw coordinates ({:.1} MB)",
        build,
        locator.heap_bytes() as f64 / 1e6,
        locator.heap_bytes() as f64 / raw as f64,
        raw as f64 / 1e6
    );

    // 90% of queries near a random grid (inside its bounding box), 10% anywhere over China.
    let boxes: Vec<_> = grids.iter().filter_map(|g| g.bounding_rect()).collect();
    let n = 2_000_000;
    let mut queries = Vec::with_capacity(n);
    for _ in 0..n {
        if rng.next_f64() < 0.9 {
            let b = boxes[(rng.next_f64() * boxes.len() as f64) as usize % boxes.len()];
            queries.push((b.min().x + rng.next_f64() * b.width(), b.min().y + rng.next_f64() * b.height()));
        } else {
            queries.push((73.0 + rng.next_f64() * 62.0, 18.0 + rng.next_f64() * 36.0));
        }
    }
    for round in 0..3 {
        let t = Instant::now();
        let mut hits = 0usize;
        for &(x, y) in &queries {
            if locator.locate(x, y).is_some() {
                hits += 1;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!("round {round}: {:.0} lookups/s on one core ({} of {} hit a grid)", n as f64 / secs, hits, n);
    }
}
