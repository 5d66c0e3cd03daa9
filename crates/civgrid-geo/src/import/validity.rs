//! OGC validity of a grid's geometry, told so a person can find the spot: the first problem
//! with its location, degenerate rings, spikes, and an R-tree indexed crossing check for large
//! polygons (geo's own validation compares every pair of segments).

use geo::algorithm::line_intersection::{line_intersection, LineIntersection};
use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{Coord, Line, MultiPolygon, Polygon, Relate, Validation};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use crate::measure::candidate_pairs;

/// geo 0.33's polygon validation tests every pair of ring segments for intersection (a nested
/// loop), which took over half of a 100,000-grid import whose county-border grids have hundreds
/// of vertices. Polygons up to this many vertices (typical interior grids) are checked by
/// geo's `Validation` itself; larger ones by an equivalent R-tree indexed check, so a
/// 100,000-vertex feature costs milliseconds, not minutes.
const QUADRATIC_VALIDATION_LIMIT: usize = 64;

/// True when all positions of a ring lie on one line (within rounding), i.e. it encloses nothing.
pub(super) fn ring_is_degenerate(ring: &[Coord<f64>]) -> bool {
    let Some(&p0) = ring.first() else {
        return true;
    };
    let Some(&p1) = ring.iter().find(|&&p| p != p0) else {
        return true;
    };
    let (dx, dy) = (p1.x - p0.x, p1.y - p0.y);
    ring.iter().all(|p| {
        let (ex, ey) = (p.x - p0.x, p.y - p0.y);
        let cross = dx * ey - dy * ex;
        cross.abs() <= 1e-12 * (dx.hypot(dy) * ex.hypot(ey))
    })
}

fn fmt_coord(c: Coord<f64>) -> String {
    format!("({:.7}, {:.7})", c.x, c.y)
}

/// Describes the first OGC validity problem of `mp` (plus how many more there are), with a
/// location where one can be determined; `None` when valid.
pub(super) fn validity_problem(mp: &MultiPolygon<f64>) -> Option<String> {
    let vertices: usize =
        mp.0.iter().map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()).sum();
    // geo's ring check deliberately skips segments that share an endpoint, so it accepts a spike
    // (A→B→A); the indexed check below does not. Checking spikes for every size keeps the
    // verdict independent of which path a polygon takes.
    if let Some(spike) = find_spike(mp) {
        return Some(spike);
    }
    if vertices <= QUADRATIC_VALIDATION_LIMIT && mp.0.len() <= 8 {
        let errors = mp.validation_errors();
        let first = errors.first()?;
        let mut message = describe_multi(mp, first);
        if errors.len() > 1 {
            message.push_str(&format!(" ({} further validity problems)", errors.len() - 1));
        }
        return Some(message);
    }
    // Large or many-part geometries: validate each polygon, then pairs of parts whose bounding
    // boxes overlap, which is what geo's MultiPolygon validation does minus the quadratic scans.
    for (i, poly) in mp.0.iter().enumerate() {
        let n = poly.exterior().0.len() + poly.interiors().iter().map(|r| r.0.len()).sum::<usize>();
        let problem = if n <= QUADRATIC_VALIDATION_LIMIT {
            poly.validation_errors().first().map(|e| describe_polygon(poly, e))
        } else {
            indexed_polygon_problem(poly)
        };
        if let Some(p) = problem {
            return Some(if mp.0.len() > 1 { format!("polygon {i}: {p}") } else { p });
        }
    }
    let parts: Vec<MultiPolygon<f64>> = mp.0.iter().map(|p| MultiPolygon(vec![p.clone()])).collect();
    for (i, j) in candidate_pairs(parts.iter()) {
        let (Some(a), Some(b)) = (mp.0.get(i), mp.0.get(j)) else {
            continue;
        };
        let im = a.relate(b);
        if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
            return Some(format!("polygons at indices {i} and {j} overlap"));
        }
        if im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Some(format!("polygons at indices {i} and {j} touch on a line"));
        }
    }
    None
}

/// A ring that doubles back on itself (A→B→A, possibly with B far away): its two edges overlap,
/// enclosing no area but making the ring non-simple.
fn find_spike(mp: &MultiPolygon<f64>) -> Option<String> {
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
            let mut pts = ring.0.clone();
            pts.dedup();
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            let n = pts.len();
            if n < 3 {
                continue;
            }
            for i in 0..n {
                let (Some(a), Some(b), Some(c)) = (pts.get(i), pts.get((i + 1) % n), pts.get((i + 2) % n)) else {
                    continue;
                };
                let (ux, uy, vx, vy) = (b.x - a.x, b.y - a.y, c.x - b.x, c.y - b.y);
                if ux * vy - uy * vx == 0.0 && ux * vx + uy * vy < 0.0 {
                    let role =
                        if ri == 0 { "exterior ring".to_owned() } else { format!("interior ring at index {}", ri - 1) };
                    let prefix = if mp.0.len() > 1 { format!("polygon {pi}: ") } else { String::new() };
                    return Some(format!("{prefix}{role} has a spike (turns back on itself) at {}", fmt_coord(*b)));
                }
            }
        }
    }
    None
}

fn describe_multi(mp: &MultiPolygon<f64>, e: &InvalidMultiPolygon) -> String {
    match e {
        InvalidMultiPolygon::InvalidPolygon(idx, inner) => {
            let detail = mp.0.get(idx.0).map_or_else(|| inner.to_string(), |p| describe_polygon(p, inner));
            if mp.0.len() > 1 {
                format!("polygon {}: {detail}", idx.0)
            } else {
                detail
            }
        }
        other => other.to_string(),
    }
}

/// geo's description plus a location: the first offending intersection for self-intersections
/// and ring crossings, the first vertex for a hole outside its shell.
fn describe_polygon(poly: &Polygon<f64>, e: &InvalidPolygon) -> String {
    let ring_index = |role: &RingRole| match role {
        RingRole::Exterior => 0,
        RingRole::Interior(i) => i + 1,
    };
    let location = match e {
        InvalidPolygon::SelfIntersection(role) => {
            let r = ring_index(role);
            find_crossing(poly, |a, b| a == r && b == r).map(|(_, _, c)| c)
        }
        InvalidPolygon::IntersectingRingsOnALine(a, b) | InvalidPolygon::IntersectingRingsOnAnArea(a, b) => {
            let (ra, rb) = (ring_index(a), ring_index(b));
            find_crossing(poly, |x, y| (x == ra && y == rb) || (x == rb && y == ra)).map(|(_, _, c)| c)
        }
        InvalidPolygon::InteriorRingNotContainedInExteriorRing(role) => {
            let r = ring_index(role);
            r.checked_sub(1).and_then(|h| poly.interiors().get(h)).and_then(|ring| ring.0.first().copied())
        }
        _ => None,
    };
    match location {
        Some(c) => format!("{e} near {}", fmt_coord(c)),
        None => e.to_string(),
    }
}

/// Sub-quadratic validity check for very large polygons: ring self-intersections and crossings
/// between rings via an R-tree over segments, then hole containment by a point test.
fn indexed_polygon_problem(poly: &Polygon<f64>) -> Option<String> {
    let role = |r: usize| {
        if r == 0 {
            "exterior ring".to_owned()
        } else {
            format!("interior ring at index {}", r - 1)
        }
    };
    for (r, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
        let mut distinct = ring.0.clone();
        distinct.dedup();
        if distinct.len() < 4 {
            return Some(format!("{} must have at least 3 distinct points", role(r)));
        }
    }
    if let Some((a, b, c)) = find_crossing(poly, |_, _| true) {
        return Some(if a == b {
            format!("{} has a self-intersection near {}", role(a), fmt_coord(c))
        } else {
            format!("{} and {} intersect near {}", role(a), role(b), fmt_coord(c))
        });
    }
    let shell = Polygon::new(poly.exterior().clone(), vec![]);
    for (h, hole) in poly.interiors().iter().enumerate() {
        let probe = hole.0.first().copied()?;
        use geo::Intersects;
        if !shell.intersects(&geo::Point(probe)) {
            return Some(format!(
                "interior ring at index {h} is not contained within the polygon's exterior near {}",
                fmt_coord(probe)
            ));
        }
    }
    None
}

type SegBox = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// Finds the first pair of intersecting ring segments (by ring pair accepted by `rings`),
/// returning (ring a, ring b, a point of the intersection). Segments adjacent in a ring may
/// share their common vertex but not overlap; segments of different rings may touch at a point
/// (OGC allows tangent rings) but not cross or overlap.
fn find_crossing(poly: &Polygon<f64>, rings: impl Fn(usize, usize) -> bool) -> Option<(usize, usize, Coord<f64>)> {
    struct Seg {
        line: Line<f64>,
        ring: usize,
        idx: usize,
        ring_len: usize,
    }
    let mut segs: Vec<Seg> = Vec::new();
    for (r, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
        let mut pts = ring.0.clone();
        pts.dedup();
        let n = pts.len().saturating_sub(1);
        for (i, w) in pts.windows(2).enumerate() {
            if let [a, b] = w {
                segs.push(Seg { line: Line::new(*a, *b), ring: r, idx: i, ring_len: n });
            }
        }
    }
    let tree: RTree<SegBox> = RTree::bulk_load(
        segs.iter()
            .enumerate()
            .map(|(k, s)| {
                SegBox::new(Rectangle::from_corners([s.line.start.x, s.line.start.y], [s.line.end.x, s.line.end.y]), k)
            })
            .collect(),
    );
    // Segments are visited in order and the scan stops after the first segment with a hit, so
    // the answer is deterministic: the earliest offending segment pair.
    for (k, s) in segs.iter().enumerate() {
        let env = rstar::AABB::from_corners(
            [s.line.start.x.min(s.line.end.x), s.line.start.y.min(s.line.end.y)],
            [s.line.start.x.max(s.line.end.x), s.line.start.y.max(s.line.end.y)],
        );
        let mut first: Option<(usize, usize, Coord<f64>)> = None;
        for other in tree.locate_in_envelope_intersecting(env) {
            let m = other.data;
            if m <= k || first.is_some_and(|f| f.0 < m) {
                continue;
            }
            let Some(t) = segs.get(m) else { continue };
            if !rings(s.ring, t.ring) && !rings(t.ring, s.ring) {
                continue;
            }
            let Some(hit) = line_intersection(s.line, t.line) else {
                continue;
            };
            let same_ring = s.ring == t.ring;
            let adjacent = same_ring
                && (s.idx.abs_diff(t.idx) == 1
                    || (s.idx == 0 && t.idx + 1 == s.ring_len)
                    || (t.idx == 0 && s.idx + 1 == t.ring_len));
            let point = match hit {
                // Overlapping collinear segments: a spike within a ring, or rings sharing an edge.
                LineIntersection::Collinear { intersection } => {
                    (intersection.start != intersection.end).then_some(intersection.start)
                }
                LineIntersection::SinglePoint { intersection, is_proper } => {
                    (!adjacent && (same_ring || is_proper)).then_some(intersection)
                }
            };
            if let Some(p) = point {
                first = Some((m, t.ring, p));
            }
        }
        if let Some((_, other_ring, p)) = first {
            return Some((s.ring.min(other_ring), s.ring.max(other_ring), p));
        }
    }
    None
}
