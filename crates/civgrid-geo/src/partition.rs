//! Cutting a territory into pieces of prescribed relative area.
//!
//! Real grid boundaries are not public, so civgrid generates demo subdistricts, communities and
//! grids (and the benchmark generates 100,000 grids) by cutting real outlines. The pieces must
//! tile the shape exactly — a gap would leave citizens' reports unassigned and an overlap would
//! make two grids responsible — and look like plausible administrative units, so the method is
//! recursive bisection with axis-parallel cuts:
//!
//! 1. split the weight list into the first ⌈n/2⌉ weights and the rest;
//! 2. cut the shape with a line across the longer side of its bounding box (east–west extent
//!    measured in ground distance, i.e. longitude scaled by the cosine of the mean latitude);
//!    the first group gets the west (or south) side;
//! 3. place the line so the west/south area is the first group's share, found by a bracketed
//!    root search on a cheap area function;
//! 4. recurse into both sides.
//!
//! The final cut of each step is done by an exact axis-parallel splitter rather than a general
//! boolean operation: geo's `BooleanOps` (i_overlay) snaps every coordinate to an integer grid
//! derived from the operands' bounding box, so the west and east halves computed by two separate
//! operations would not share bit-identical cut vertices and the parent's own vertices would
//! move. The splitter computes each crossing point once and gives it to both sides, and copies
//! every other vertex unchanged, so neighbouring pieces share identical coordinates and the
//! union of the pieces is exactly the shape. Should the splitter meet topology it cannot handle
//! (invalid input, or crossings that round into the wrong order), it falls back to `BooleanOps`
//! for that one cut. Everything is deterministic: same input, same pieces.

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rect};

use crate::measure::sin_authalic;

/// One polygon as open rings (no closing duplicate): `rings[0]` is the exterior, oriented
/// counter-clockwise, the rest are holes, clockwise. With that orientation the polygon interior
/// is always on the left of every ring, which the splitter relies on.
#[derive(Debug, Clone)]
struct Part {
    rings: Vec<Vec<[f64; 2]>>,
}

/// Cuts `shape` into `weights.len()` pieces, in the order of `weights`, whose areas are
/// proportional to the weights and which tile `shape` exactly (see the module documentation).
///
/// Weights that are not finite and positive cannot be honoured with a non-empty piece, so they
/// are treated as the smallest valid weight (or all weights as equal when none is valid). If
/// `shape` has no area or has non-finite coordinates, the result is `weights.len()` empty
/// multipolygons, since there is nothing meaningful to cut.
pub fn partition_weighted(shape: &MultiPolygon<f64>, weights: &[f64]) -> Vec<MultiPolygon<f64>> {
    let n = weights.len();
    if n == 0 {
        return Vec::new();
    }
    let parts = to_parts(shape);
    let finite = parts.iter().flat_map(|p| p.rings.iter().flatten()).all(|v| v[0].is_finite() && v[1].is_finite());
    let area = planar_area(&parts);
    if parts.is_empty() || !finite || area.is_nan() || area <= 0.0 {
        return vec![MultiPolygon(Vec::new()); n];
    }
    let weights = sanitize_weights(weights);
    let mut out = Vec::with_capacity(n);
    split_recursive(parts, &weights, &mut out);
    out
}

/// Cuts `shape` into `n` pieces of equal area; see [`partition_weighted`].
pub fn partition_equal(shape: &MultiPolygon<f64>, n: usize) -> Vec<MultiPolygon<f64>> {
    partition_weighted(shape, &vec![1.0; n])
}

fn sanitize_weights(weights: &[f64]) -> Vec<f64> {
    let valid = |w: f64| w.is_finite() && w > 0.0;
    let min_valid = weights.iter().copied().filter(|&w| valid(w)).fold(f64::INFINITY, f64::min);
    let fallback = if min_valid.is_finite() { min_valid } else { 1.0 };
    weights.iter().map(|&w| if valid(w) { w } else { fallback }).collect()
}

fn split_recursive(shape: Vec<Part>, weights: &[f64], out: &mut Vec<MultiPolygon<f64>>) {
    if weights.len() <= 1 {
        if !weights.is_empty() {
            out.push(from_parts(&shape));
        }
        return;
    }
    let k = weights.len().div_ceil(2);
    let (first, rest) = weights.split_at(k);
    let wa: f64 = first.iter().sum();
    let wb: f64 = rest.iter().sum();
    let (low, high) = bisect(&shape, wa / (wa + wb));
    drop(shape);
    split_recursive(low, first, out);
    split_recursive(high, rest, out);
}

/// Splits `shape` into (west or south, east or north) with the first side holding `frac` of the
/// area.
fn bisect(shape: &[Part], frac: f64) -> (Vec<Part>, Vec<Part>) {
    let Some(bb) = bbox(shape) else {
        return (Vec::new(), Vec::new());
    };
    let mean_lat = (bb[1] + bb[3]) / 2.0;
    let width = (bb[2] - bb[0]) * mean_lat.to_radians().cos();
    let height = bb[3] - bb[1];
    let axis = if width >= height { 0 } else { 1 };
    let (lo, hi) = if axis == 0 { (bb[0], bb[2]) } else { (bb[1], bb[3]) };

    let pre = Precomputed::new(shape, axis);
    let total = low_side_area(shape, &pre, axis, f64::INFINITY);
    let c = find_cut(|c| low_side_area(shape, &pre, axis, c) - frac * total, lo, hi, total);
    let Some(first) = split_near(shape, axis, c) else {
        return split_with_boolean_ops(shape, axis, c, &bb);
    };

    // The search measure equals `area_m2` for vertical cuts and differs from it by the
    // trapezoid rule's ~1e-10 for horizontal ones; Newton steps on `area_m2` itself (slope from
    // the search measure) guarantee the reported areas match the weights regardless.
    let geo_total = shape_area_m2(shape);
    let target = frac * geo_total;
    let h = (hi - lo) * 1e-9;
    let (mut best, mut best_err) = {
        let err = shape_area_m2(&first.0) - target;
        (first, err)
    };
    let mut c = c;
    // Usually one step suffices; a few more cover slopes that jump where the line passes a
    // vertex of a concave outline.
    for _ in 0..4 {
        if best_err.is_nan() || best_err.abs() <= 1e-10 * geo_total {
            break;
        }
        let slope = (low_side_area(shape, &pre, axis, c + h) - low_side_area(shape, &pre, axis, c - h)) / (2.0 * h)
            * (geo_total / total);
        if slope.is_nan() || slope <= 0.0 {
            break;
        }
        let next = c - best_err / slope;
        if !(next > lo && next < hi) {
            break;
        }
        let Some(candidate) = split_near(shape, axis, next) else {
            break;
        };
        let err = shape_area_m2(&candidate.0) - target;
        if err.is_nan() || err.abs() >= best_err.abs() {
            break;
        }
        (best, best_err, c) = (candidate, err, next);
    }
    best
}

/// Splits at `c` or, if a vertex lies exactly on that line or the splitter rejects it, at a line
/// a few ulps further (which changes areas by nothing measurable).
fn split_near(shape: &[Part], axis: usize, mut c: f64) -> Option<(Vec<Part>, Vec<Part>)> {
    for _ in 0..64 {
        if !shape.iter().flat_map(|p| p.rings.iter().flatten()).any(|v| v[axis] == c) {
            break;
        }
        c = next_up(c);
    }
    for _ in 0..4 {
        if let Some(result) = split_shape(shape, axis, c) {
            return Some(result);
        }
        c = next_up(next_up(c));
    }
    None
}

fn shape_area_m2(shape: &[Part]) -> f64 {
    crate::measure::area_m2(&from_parts(shape))
}

/// Bracketed root search (Illinois variant of regula falsi, falling back to bisection) for the
/// monotone function `f` on [lo, hi] with f(lo) ≤ 0 ≤ f(hi). Area grows smoothly with the line
/// position, so this typically converges in a dozen evaluations instead of ~50 for bisection.
fn find_cut(f: impl Fn(f64) -> f64, lo: f64, hi: f64, total: f64) -> f64 {
    let tol = total.abs() * 1e-13;
    let (mut a, mut b) = (lo, hi);
    let (mut fa, mut fb) = (f(a), f(b));
    let mut side = 0i8;
    for i in 0..200 {
        if a.is_nan() || b.is_nan() || b <= a {
            break;
        }
        let mut c = if fb != fa && i % 8 != 7 { (a * fb - b * fa) / (fb - fa) } else { a + (b - a) / 2.0 };
        if !(c > a && c < b) {
            c = a + (b - a) / 2.0;
            if !(c > a && c < b) {
                break; // the bracket is down to adjacent floats
            }
        }
        let fc = f(c);
        if fc.abs() <= tol {
            return c;
        }
        if fc < 0.0 {
            a = c;
            fa = fc;
            if side == -1 {
                fb /= 2.0;
            }
            side = -1;
        } else {
            b = c;
            fb = fc;
            if side == 1 {
                fa /= 2.0;
            }
            side = 1;
        }
    }
    if fa.abs() <= fb.abs() {
        a
    } else {
        b
    }
}

/// Per-vertex values reused by every evaluation of [`low_side_area`] during one search, so the
/// search costs multiplications rather than trigonometry.
struct Precomputed {
    /// Per ring, per vertex: the integration variable (see [`low_side_area`]).
    u: Vec<Vec<f64>>,
    /// Per ring, per vertex: [`integrand`].
    g: Vec<Vec<f64>>,
    /// Reference values subtracted above to keep the sums well conditioned.
    ref_lng: f64,
    ref_sin: f64,
}

impl Precomputed {
    fn new(shape: &[Part], axis: usize) -> Precomputed {
        let first = shape.first().and_then(|p| p.rings.first()).and_then(|r| r.first()).copied().unwrap_or([0.0, 0.0]);
        let ref_lng = first[0];
        let ref_sin = sin_authalic(first[1]);
        let rings = || shape.iter().flat_map(|p| p.rings.iter());
        let g = rings().map(|r| r.iter().map(|v| integrand(*v, axis, ref_lng, ref_sin)).collect()).collect();
        let u = rings().map(|r| r.iter().map(|v| variable(*v, axis)).collect()).collect();
        Precomputed { u, g, ref_lng, ref_sin }
    }
}

/// The integrand of [`low_side_area`] at a vertex: sin β − sin β_ref for vertical cuts,
/// (λ − λ_ref)·cos β for horizontal ones (β = authalic latitude).
#[inline]
fn integrand(v: [f64; 2], axis: usize, ref_lng: f64, ref_sin: f64) -> f64 {
    let s = sin_authalic(v[1]);
    if axis == 0 {
        s - ref_sin
    } else {
        (v[0] - ref_lng) * (1.0 - s * s).max(0.0).sqrt()
    }
}

/// Ellipsoidal area (up to a constant factor) of the part of `shape` with coordinate `axis` ≤ `c`.
///
/// On the authalic sphere (authalic latitude β) the area ∬cos β dλ dβ equals −∮ sin β dλ and
/// also ∮ λ cos β dβ (Green's theorem). Using the first form for a vertical cut (λ = c) and the
/// second for a horizontal one (β constant) makes the cut segment contribute nothing, so the
/// clipped area is just the sum over the clipped edge portions (trapezoid rule) — no clipped
/// polygon is built. This is exact for concave shapes and holes, and for vertical cuts it is the
/// same sum [`crate::measure::area_m2`] evaluates.
fn low_side_area(shape: &[Part], pre: &Precomputed, axis: usize, c: f64) -> f64 {
    let mut sum = 0.0;
    // Every crossing lies on the line, so its integration variable is the same for all.
    let u_cross = if c.is_finite() {
        let mut v = [c, c];
        v[1 - axis] = 0.0;
        variable(v, axis)
    } else {
        0.0
    };
    let rings = shape.iter().flat_map(|p| p.rings.iter());
    for ((ring, g), u) in rings.zip(&pre.g).zip(&pre.u) {
        let n = ring.len().min(g.len()).min(u.len());
        if n < 3 {
            continue;
        }
        let mut j = n - 1;
        for i in 0..n {
            let (p, q) = (ring[j], ring[i]);
            let (gp, gq, up, uq) = (g[j], g[i], u[j], u[i]);
            j = i;
            let (pu, qu) = (p[axis], q[axis]);
            let (start, end, g_start, g_end) = match (pu <= c, qu <= c) {
                (true, true) => (up, uq, gp, gq),
                (false, false) => continue,
                (p_low, _) => {
                    let t = (c - pu) / (qu - pu);
                    let mut cross = p;
                    cross[axis] = c;
                    cross[1 - axis] = p[1 - axis] + t * (q[1 - axis] - p[1 - axis]);
                    let gc = integrand(cross, axis, pre.ref_lng, pre.ref_sin);
                    if p_low {
                        (up, u_cross, gp, gc)
                    } else {
                        (u_cross, uq, gc, gq)
                    }
                }
            };
            sum += (end - start) * (g_start + g_end) / 2.0;
        }
    }
    if axis == 0 {
        -sum
    } else {
        sum
    }
}

/// The integration variable of [`low_side_area`]: longitude (degrees) for vertical cuts,
/// authalic latitude (radians, to pair with cos β) for horizontal ones.
#[inline]
fn variable(v: [f64; 2], axis: usize) -> f64 {
    if axis == 0 {
        v[0]
    } else {
        sin_authalic(v[1]).asin()
    }
}

/// A crossing of a ring edge with the cut line.
struct Crossing {
    point: [f64; 2],
    /// Position along the line, oriented so that the low-side piece's boundary runs towards +v
    /// (north for a vertical cut, west for a horizontal one).
    v: f64,
    /// True when the ring goes from the low side to the high side here.
    low_to_high: bool,
}

/// A maximal run of a ring on one side, from the crossing where it enters that side to the
/// crossing where it leaves.
struct Chain {
    start: usize,
    end: usize,
    low: bool,
    verts: Vec<[f64; 2]>,
}

/// Splits a shape by the line `axis == c` (no vertex may lie on it) into (low, high) sides, or
/// `None` if the crossings are not consistent with a valid polygon.
fn split_shape(shape: &[Part], axis: usize, c: f64) -> Option<(Vec<Part>, Vec<Part>)> {
    let mut low = Vec::new();
    let mut high = Vec::new();
    for part in shape {
        split_part(part, axis, c, &mut low, &mut high)?;
    }
    if low.is_empty() || high.is_empty() {
        return None;
    }
    Some((low, high))
}

fn split_part(part: &Part, axis: usize, c: f64, low_out: &mut Vec<Part>, high_out: &mut Vec<Part>) -> Option<()> {
    let along = |p: [f64; 2]| if axis == 0 { p[1] } else { -p[0] };
    let mut crossings: Vec<Crossing> = Vec::new();
    let mut chains: Vec<Chain> = Vec::new();
    // Rings wholly on one side, as (ring index, is_low).
    let mut whole: Vec<(usize, bool)> = Vec::new();

    for (ri, ring) in part.rings.iter().enumerate() {
        let n = ring.len();
        if n < 3 {
            continue;
        }
        let is_low = |i: usize| ring.get(i % n).is_some_and(|v| v[axis] < c);
        let Some(first_cross) = (0..n).find(|&i| is_low(i) != is_low(i + 1)) else {
            whole.push((ri, is_low(0)));
            continue;
        };
        let ring_first_id = crossings.len();
        // Walk once around the ring starting with the first crossing edge; each chain collects
        // the vertices after its entry crossing up to the next crossing.
        let mut current: Option<Chain> = None;
        for step in 0..n {
            let i = (first_cross + step) % n;
            let (p, q) = (ring.get(i)?, ring.get((i + 1) % n)?);
            if let Some(ch) = current.as_mut() {
                ch.verts.push(*p);
            }
            if (p[axis] < c) != (q[axis] < c) {
                let point = crossing_point(*p, *q, axis, c);
                let id = crossings.len();
                let low_to_high = p[axis] < c;
                crossings.push(Crossing { point, v: along(point), low_to_high });
                if let Some(mut ch) = current.take() {
                    ch.end = id;
                    chains.push(ch);
                }
                current = Some(Chain { start: id, end: usize::MAX, low: !low_to_high, verts: Vec::new() });
            }
        }
        // The last chain wraps around to the vertex where the walk began and ends at the ring's
        // first crossing.
        let mut ch = current?;
        ch.verts.push(*ring.get(first_cross)?);
        ch.end = ring_first_id;
        chains.push(ch);
    }

    if crossings.is_empty() {
        let part_low = whole.iter().find(|(ri, _)| *ri == 0).map(|w| w.1)?;
        if whole.iter().any(|w| w.1 != part_low) {
            return None; // a hole on the other side of its exterior: invalid input
        }
        if part_low {
            low_out.push(part.clone());
        } else {
            high_out.push(part.clone());
        }
        return Some(());
    }
    if whole.iter().any(|(ri, _)| *ri == 0) {
        return None; // holes cross the line but the exterior does not: invalid input
    }

    // Inside intervals of the line are (rank 2k, rank 2k+1) in order of v, entered low→high at
    // the bottom and high→low at the top; anything else means rounding reordered crossings.
    let mut order: Vec<usize> = (0..crossings.len()).collect();
    order.sort_by(|&a, &b| {
        let va = crossings.get(a).map_or(0.0, |c| c.v);
        let vb = crossings.get(b).map_or(0.0, |c| c.v);
        va.total_cmp(&vb)
    });
    if !order.len().is_multiple_of(2) {
        return None;
    }
    let mut rank = vec![0usize; crossings.len()];
    for (r, &id) in order.iter().enumerate() {
        *rank.get_mut(id)? = r;
        if crossings.get(id)?.low_to_high != (r % 2 == 0) {
            return None;
        }
    }
    // Ties would make the pairing ambiguous.
    for w in order.windows(2) {
        if let [a, b] = w {
            if crossings.get(*a)?.v == crossings.get(*b)?.v {
                return None;
            }
        }
    }

    let mut chain_at_start = vec![usize::MAX; crossings.len()];
    for (ci, ch) in chains.iter().enumerate() {
        *chain_at_start.get_mut(ch.start)? = ci;
    }

    for side_low in [true, false] {
        let mut exteriors: Vec<Vec<[f64; 2]>> = Vec::new();
        let mut used = vec![false; chains.len()];
        for start in 0..chains.len() {
            if used.get(start).copied().unwrap_or(true) || chains.get(start).is_none_or(|c| c.low != side_low) {
                continue;
            }
            let mut ring: Vec<[f64; 2]> = Vec::new();
            let mut ci = start;
            for _ in 0..=chains.len() {
                let ch = chains.get(ci)?;
                let seen = used.get_mut(ci)?;
                if *seen || ch.low != side_low {
                    return None;
                }
                *seen = true;
                ring.push(crossings.get(ch.start)?.point);
                ring.extend_from_slice(&ch.verts);
                ring.push(crossings.get(ch.end)?.point);
                // The low side's boundary runs towards +v along the line, the high side's
                // towards −v (interior on the left in both cases).
                let r = *rank.get(ch.end)?;
                let next_rank = if side_low { r + 1 } else { r.checked_sub(1)? };
                let next_crossing = *order.get(next_rank)?;
                ci = *chain_at_start.get(next_crossing)?;
                if ci == start {
                    break;
                }
            }
            if ci != start {
                return None;
            }
            ring.dedup();
            if ring.len() >= 3 {
                exteriors.push(ring);
            }
        }
        let holes: Vec<&Vec<[f64; 2]>> = whole
            .iter()
            .filter(|(ri, low)| *ri != 0 && *low == side_low)
            .filter_map(|(ri, _)| part.rings.get(*ri))
            .collect();
        let out = if side_low { &mut *low_out } else { &mut *high_out };
        assign_holes(exteriors, &holes, out)?;
    }
    Some(())
}

/// The point where edge p–q crosses `axis == c`, computed from the endpoint with the smaller
/// `axis` coordinate so the result does not depend on the edge's direction, and clamped to the
/// edge's extent so rounding cannot push it outside.
fn crossing_point(p: [f64; 2], q: [f64; 2], axis: usize, c: f64) -> [f64; 2] {
    let (a, b) = if p[axis] <= q[axis] { (p, q) } else { (q, p) };
    let o = 1 - axis;
    let t = (c - a[axis]) / (b[axis] - a[axis]);
    let v = a[o] + t * (b[o] - a[o]);
    let (vmin, vmax) = if a[o] <= b[o] { (a[o], b[o]) } else { (b[o], a[o]) };
    let mut out = [0.0; 2];
    out[axis] = c;
    // max/min rather than clamp: clamp panics on NaN bounds.
    out[o] = v.max(vmin).min(vmax);
    out
}

/// Gives each hole to the exterior that contains it (the smallest one, should exteriors nest),
/// then appends the resulting parts. `None` if a hole fits no exterior (invalid input).
fn assign_holes(exteriors: Vec<Vec<[f64; 2]>>, holes: &[&Vec<[f64; 2]>], out: &mut Vec<Part>) -> Option<()> {
    if exteriors.is_empty() {
        return if holes.is_empty() { Some(()) } else { None };
    }
    let mut parts: Vec<Part> = exteriors.into_iter().map(|e| Part { rings: vec![e] }).collect();
    for hole in holes {
        let target = if parts.len() == 1 {
            0
        } else {
            let probe = ring_probe(hole)?;
            parts
                .iter()
                .enumerate()
                .filter(|(_, p)| p.rings.first().is_some_and(|e| ring_contains(e, probe)))
                .min_by(|a, b| {
                    let aa = a.1.rings.first().map_or(0.0, |e| ring_signed_area(e).abs());
                    let bb = b.1.rings.first().map_or(0.0, |e| ring_signed_area(e).abs());
                    aa.total_cmp(&bb)
                })?
                .0
        };
        parts.get_mut(target)?.rings.push((*hole).clone());
    }
    out.extend(parts);
    Some(())
}

/// A point inside the hole's ring but off its vertices: the midpoint of its first edge. Holes
/// touch their exterior at most at isolated vertices, so this point lies strictly inside the
/// exterior that owns the hole.
fn ring_probe(ring: &[[f64; 2]]) -> Option<[f64; 2]> {
    let (a, b) = (ring.first()?, ring.get(1)?);
    Some([(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0])
}

fn ring_contains(ring: &[[f64; 2]], p: [f64; 2]) -> bool {
    let mut inside = false;
    let Some(&last) = ring.last() else {
        return false;
    };
    let mut prev = last;
    for &cur in ring {
        if (cur[1] > p[1]) != (prev[1] > p[1]) {
            let x = cur[0] + (p[1] - cur[1]) * (prev[0] - cur[0]) / (prev[1] - cur[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
        prev = cur;
    }
    inside
}

/// Planar shoelace area in square degrees, positive for counter-clockwise rings; used only for
/// orientation and relative comparisons, never reported.
fn ring_signed_area(ring: &[[f64; 2]]) -> f64 {
    let Some(&o) = ring.first() else { return 0.0 };
    let mut s = 0.0;
    for w in ring.windows(2) {
        s += (w[0][0] - o[0]) * (w[1][1] - o[1]) - (w[1][0] - o[0]) * (w[0][1] - o[1]);
    }
    s / 2.0
}

fn planar_area(shape: &[Part]) -> f64 {
    shape
        .iter()
        .map(|p| {
            let mut rings = p.rings.iter();
            let ext = rings.next().map_or(0.0, |r| ring_signed_area(r).abs());
            ext - rings.map(|r| ring_signed_area(r).abs()).sum::<f64>()
        })
        .sum()
}

/// Last-resort cut with geo's boolean operations when the exact splitter declines; coordinates
/// along this one cut may then differ between the sides by the overlay's snapping resolution.
fn split_with_boolean_ops(shape: &[Part], axis: usize, c: f64, bb: &[f64; 4]) -> (Vec<Part>, Vec<Part>) {
    let mp = from_parts(shape);
    // Half-planes as rectangles padded beyond the shape's bounding box.
    let pad = ((bb[2] - bb[0]) + (bb[3] - bb[1])).max(1e-9);
    let (x0, y0, x1, y1) = (bb[0] - pad, bb[1] - pad, bb[2] + pad, bb[3] + pad);
    let (low_rect, high_rect) = if axis == 0 {
        (
            Rect::new(Coord { x: x0, y: y0 }, Coord { x: c, y: y1 }),
            Rect::new(Coord { x: c, y: y0 }, Coord { x: x1, y: y1 }),
        )
    } else {
        (
            Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: c }),
            Rect::new(Coord { x: x0, y: c }, Coord { x: x1, y: y1 }),
        )
    };
    let low = mp.intersection(&low_rect.to_polygon());
    let high = mp.intersection(&high_rect.to_polygon());
    (to_parts(&low), to_parts(&high))
}

/// Converts to the internal representation: open rings without repeated vertices, exteriors
/// counter-clockwise and holes clockwise, degenerate rings dropped.
fn to_parts(mp: &MultiPolygon<f64>) -> Vec<Part> {
    let open = |ls: &LineString<f64>| -> Vec<[f64; 2]> {
        let mut r: Vec<[f64; 2]> = ls.0.iter().map(|c| [c.x, c.y]).collect();
        r.dedup();
        if r.len() > 1 && r.first() == r.last() {
            r.pop();
        }
        r
    };
    let mut parts = Vec::with_capacity(mp.0.len());
    for poly in &mp.0 {
        let mut ext = open(poly.exterior());
        if ext.len() < 3 {
            continue;
        }
        if ring_signed_area(&ext) < 0.0 {
            ext.reverse();
        }
        let mut rings = vec![ext];
        for hole in poly.interiors() {
            let mut h = open(hole);
            if h.len() < 3 {
                continue;
            }
            if ring_signed_area(&h) > 0.0 {
                h.reverse();
            }
            rings.push(h);
        }
        parts.push(Part { rings });
    }
    parts
}

fn from_parts(parts: &[Part]) -> MultiPolygon<f64> {
    let closed = |r: &Vec<[f64; 2]>| -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = r.iter().map(|v| Coord { x: v[0], y: v[1] }).collect();
        if let Some(&first) = coords.first() {
            coords.push(first);
        }
        LineString(coords)
    };
    MultiPolygon(
        parts
            .iter()
            .filter_map(|p| {
                let mut rings = p.rings.iter();
                let ext = closed(rings.next()?);
                Some(Polygon::new(ext, rings.map(closed).collect()))
            })
            .collect(),
    )
}

fn bbox(shape: &[Part]) -> Option<[f64; 4]> {
    let mut bb = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for v in shape.iter().flat_map(|p| p.rings.iter().flatten()) {
        bb = [bb[0].min(v[0]), bb[1].min(v[1]), bb[2].max(v[0]), bb[3].max(v[1])];
    }
    (bb[0] <= bb[2] && bb[1] <= bb[3]).then_some(bb)
}

/// The next representable double above `x` (`f64::next_up` needs Rust 1.86; the workspace
/// supports 1.85). Only called with finite values.
fn next_up(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let bits = x.to_bits();
    if x > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locator::Locator;
    use crate::measure::{area_m2, tiling_report};
    use geo::{polygon, Validation};

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
    }

    /// Relative tolerance on area shares: the Newton step on geodesic areas leaves errors of
    /// order (2e-4)², so 1e-6 still has a wide margin.
    const AREA_TOL: f64 = 1e-6;

    /// Checks the partition contract: count, non-empty, valid, proportional, exact tiling.
    fn check(shape: &MultiPolygon<f64>, weights: &[f64], rel_tol: f64) -> Vec<MultiPolygon<f64>> {
        let pieces = partition_weighted(shape, weights);
        assert_eq!(pieces.len(), weights.len());
        let total = area_m2(shape);
        let wsum: f64 = weights.iter().sum();
        for (piece, w) in pieces.iter().zip(weights) {
            assert!(!piece.0.is_empty());
            assert!(piece.is_valid(), "{:?}", piece.validation_errors());
            let share = area_m2(piece) / total;
            assert!((share - w / wsum).abs() < rel_tol * (w / wsum), "{share} vs {}", w / wsum);
        }
        let r = tiling_report(shape, &pieces);
        assert!(r.gap_m2 < total * 1e-9 && r.overlap_m2 < total * 1e-9, "{r:?}");
        pieces
    }

    #[test]
    fn square_into_equal_and_weighted_pieces() {
        let sq = MultiPolygon(vec![rect(113.0, 23.0, 113.01, 23.01)]);
        check(&sq, &[1.0; 4], AREA_TOL);
        check(&sq, &[5.0, 1.0, 3.0], AREA_TOL);
        let p = check(&sq, &[1.0; 37], AREA_TOL);
        // The first group is on the west side of the first (vertical) cut.
        let west = p[0].0[0].exterior().0.iter().map(|c| c.x).fold(f64::MAX, f64::min);
        assert_eq!(west, 113.0);
    }

    #[test]
    fn concave_shape_with_hole() {
        let u = Polygon::new(
            LineString::from(vec![
                (113.0, 23.0),
                (113.03, 23.0),
                (113.03, 23.03),
                (113.02, 23.03),
                (113.02, 23.01),
                (113.01, 23.01),
                (113.01, 23.03),
                (113.0, 23.03),
                (113.0, 23.0),
            ]),
            vec![LineString::from(vec![
                (113.022, 23.002),
                (113.022, 23.008),
                (113.028, 23.008),
                (113.028, 23.002),
                (113.022, 23.002),
            ])],
        );
        let shape = MultiPolygon(vec![u]);
        assert!(shape.is_valid());
        for n in [2, 3, 5, 16, 50] {
            check(&shape, &vec![1.0; n], AREA_TOL);
        }
    }

    #[test]
    fn multipolygon_and_orientation() {
        let mut a = rect(113.0, 23.0, 113.01, 23.01);
        a.exterior_mut(|r| r.0.reverse()); // clockwise input must work too
        let shape = MultiPolygon(vec![a, rect(113.02, 23.0, 113.03, 23.02)]);
        check(&shape, &[1.0, 2.0, 3.0, 4.0, 5.0], AREA_TOL);
    }

    #[test]
    fn odd_inputs() {
        let sq = MultiPolygon(vec![rect(113.0, 23.0, 113.01, 23.01)]);
        assert!(partition_weighted(&sq, &[]).is_empty());
        assert_eq!(partition_equal(&sq, 1), vec![from_parts(&to_parts(&sq))]);
        let p = partition_weighted(&sq, &[f64::NAN, 0.0, -1.0, 1.0]);
        assert_eq!(p.len(), 4);
        assert!(p.iter().all(|m| !m.0.is_empty()));
        let empty = MultiPolygon::<f64>(vec![]);
        assert_eq!(partition_equal(&empty, 3), vec![MultiPolygon(vec![]); 3]);
        let nan = MultiPolygon(vec![rect(f64::NAN, 23.0, 113.01, 23.01)]);
        assert_eq!(partition_equal(&nan, 2), vec![MultiPolygon(vec![]); 2]);
        let p = partition_weighted(&sq, &[f64::INFINITY, f64::INFINITY]);
        assert!(p.iter().all(|m| !m.0.is_empty()));
    }

    #[test]
    fn deterministic_and_locatable() {
        let sq = MultiPolygon(vec![rect(113.0, 23.0, 113.02, 23.01)]);
        let a = partition_equal(&sq, 25);
        let b = partition_equal(&sq, 25);
        assert_eq!(a, b);
        let loc = Locator::build(&a);
        for i in 0..50 {
            for j in 0..50 {
                let x = 113.0 + 0.02 * (f64::from(i) + 0.5) / 50.0;
                let y = 23.0 + 0.01 * (f64::from(j) + 0.5) / 50.0;
                assert!(loc.locate(x, y).is_some());
            }
        }
    }
}
