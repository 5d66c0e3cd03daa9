//! Areas on the ellipsoid, and checks that a set of pieces tiles a container.
//!
//! Coordinates are degrees, so planar areas would be in "square degrees" whose size in m² shrinks
//! with latitude; everything reported to people (grid sizes, overlap and gap thresholds) is
//! therefore in square metres on the WGS-84 ellipsoid. GCJ-02 offsets are smooth and tiny
//! compared with a grid, so applying the formula directly to GCJ-02 coordinates changes areas by
//! a negligible relative amount.
//!
//! # Which edges
//!
//! civgrid treats polygon edges as straight lines in longitude/latitude — as GeoJSON (RFC 7946
//! §3.1.1) specifies and as the [`Locator`](crate::Locator) tests points. Areas must use the same
//! edges: geodesic-edge areas (geo's `GeodesicArea`, PostGIS `geography`) bulge poleward on
//! east–west edges, and the bulge is not additive when an edge is split (a 3 km east–west edge
//! at 23°N differs by ~150 m² from its two halves), so a partition's pieces would not add up to
//! the whole. [`area_m2`] therefore uses geo's Chamberlain–Duquette algorithm (straight edges,
//! sphere) applied to *authalic* latitudes on the authalic sphere, which makes it an equal-area
//! computation on the ellipsoid: the sphere alone would be off by +0.5% at Foshan's latitude.

use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{
    BooleanOps, BoundingRect, ChamberlainDuquetteArea, Coord, LineString, MapCoords, MultiPolygon, Polygon, Rect,
};
use rstar::{RTree, AABB};

/// WGS-84 first eccentricity squared, from the flattening 1/298.257223563.
const WGS84_E2: f64 = (2.0 - 1.0 / 298.257_223_563) / 298.257_223_563;

/// q(φ) of the authalic-latitude formulas (Snyder, Map Projections — A Working Manual, eq. 3-12),
/// written with atanh for accuracy near the equator.
fn authalic_q(sin_phi: f64) -> f64 {
    let e = WGS84_E2.sqrt();
    (1.0 - WGS84_E2) * (sin_phi / (1.0 - WGS84_E2 * sin_phi * sin_phi) + (e * sin_phi).atanh() / e)
}

/// sin of the authalic latitude β for a geodetic latitude in degrees: the ellipsoid maps onto
/// the authalic sphere preserving area, with sin β = q(φ) / q(90°).
pub(crate) fn sin_authalic(lat_deg: f64) -> f64 {
    (authalic_q(lat_deg.to_radians().sin()) / authalic_q(1.0)).clamp(-1.0, 1.0)
}

/// Ratio of the authalic sphere's area to that of the sphere geo's Chamberlain–Duquette uses,
/// whose radius is the WGS-84 semi-major axis a: R_q² / a² = q(90°) / 2.
fn authalic_scale() -> f64 {
    authalic_q(1.0) / 2.0
}

/// Area of one ring in m², orientation ignored.
fn ring_area_m2(ring: &LineString<f64>) -> f64 {
    let authalic = ring.map_coords(|c| Coord { x: c.x, y: sin_authalic(c.y).asin().to_degrees() });
    Polygon::new(authalic, vec![]).chamberlain_duquette_unsigned_area() * authalic_scale()
}

/// Area of a multipolygon in square metres on the WGS-84 ellipsoid, holes subtracted, edges
/// straight in longitude/latitude (see the module documentation). Ring orientation is ignored
/// because GeoJSON files in the wild use both. NaN if a coordinate is not finite.
pub fn area_m2(mp: &MultiPolygon<f64>) -> f64 {
    mp.0.iter()
        .map(|p| {
            let holes: f64 = p.interiors().iter().map(ring_area_m2).sum();
            ring_area_m2(p.exterior()) - holes
        })
        .sum::<f64>()
        // Float sums start at -0.0; report an empty geometry as plain 0.
        + 0.0
}

/// Area in m² of the intersection of two multipolygons; 0 when their bounding boxes are disjoint,
/// which avoids a boolean operation for the overwhelmingly common case.
pub fn overlap_m2(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(ra), Some(rb)) if rects_overlap_with_area(&ra, &rb) => area_m2(&a.intersection(b)),
        _ => 0.0,
    }
}

/// Area in m² of the part of `a` lying outside `container`.
pub fn outside_m2(a: &MultiPolygon<f64>, container: &MultiPolygon<f64>) -> f64 {
    match (a.bounding_rect(), container.bounding_rect()) {
        (Some(ra), Some(rc)) if rects_overlap_with_area(&ra, &rc) => area_m2(&a.difference(container)),
        (Some(_), _) => area_m2(a),
        (None, _) => 0.0,
    }
}

/// How well a set of pieces tiles a container, all in m².
///
/// A perfect tiling has `gap_m2 == 0`, `overlap_m2 == 0` and `pieces_m2 == container_m2`; in
/// practice each is a few m² at most because of floating-point rounding in the boolean
/// operations, so callers compare against a tolerance.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TilingReport {
    /// Area of the container.
    pub container_m2: f64,
    /// Sum of the pieces' areas (overlapping parts counted once per piece).
    pub pieces_m2: f64,
    /// Area of the container covered by no piece.
    pub gap_m2: f64,
    /// Sum over unordered pairs of pieces of their pairwise overlap.
    pub overlap_m2: f64,
}

/// Measures gaps and overlaps of `pieces` with respect to `container`.
///
/// Overlaps are summed over pairs whose bounding boxes overlap with positive area, found with an
/// R-tree, so a tiling of n pieces costs O(n log n) boolean operations instead of n².
///
/// The gap is computed arithmetically, as container − Σ(piece ∩ container) + overlaps, where the
/// part of each piece outside the container is measured with a boolean operation only for pieces
/// that can stick out at all (a vertex outside the container, or a container vertex inside the
/// piece). That is exact when no point lies in three
/// pieces and otherwise an upper bound — the safe direction for a check. A single `unary_union`
/// of all pieces would be simpler, but i_overlay 4.5 was observed not to terminate on the union
/// of 6,000+ adjacent grids; the arithmetic route is also linear in the number of pieces. Its
/// floating-point noise is about 1e-8 of the container area (the Chamberlain–Duquette trapezoid
/// rule is not exactly additive when an edge is split), so compare against a tolerance.
pub fn tiling_report(container: &MultiPolygon<f64>, pieces: &[MultiPolygon<f64>]) -> TilingReport {
    let container_m2 = area_m2(container);
    let areas: Vec<f64> = pieces.iter().map(area_m2).collect();
    let pieces_m2 = areas.iter().sum::<f64>() + 0.0;
    let overlap_m2 = pairwise_overlap_m2(pieces);
    let index = ContainerIndex::new(container);
    let inside_m2: f64 = pieces.iter().zip(&areas).map(|(p, &a)| (a - index.outside_m2(p)).max(0.0)).sum();
    let gap_m2 = (container_m2 - inside_m2 + overlap_m2).max(0.0);
    TilingReport { container_m2, pieces_m2, gap_m2, overlap_m2 }
}

/// A container prepared for many "how much of this piece lies outside?" questions.
///
/// The part of a piece outside the container is non-empty only if some vertex of the piece lies
/// outside the container or some vertex of the container lies strictly inside the piece (an
/// extreme point of the outside region is a vertex of one of the two boundaries). Both are cheap
/// to test — the first with a [`Locator`](crate::Locator) (whose boundary tolerance absorbs cut
/// points computed on the container's edges), the second with an R-tree of container vertices —
/// so the boolean operation runs only for pieces that really cross the boundary.
pub(crate) struct ContainerIndex<'a> {
    container: &'a MultiPolygon<f64>,
    locator: crate::Locator,
    vertices: RTree<[f64; 2]>,
}

impl<'a> ContainerIndex<'a> {
    pub(crate) fn new(container: &'a MultiPolygon<f64>) -> Self {
        let vertices = container
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().map(|c| [c.x, c.y]))
            .collect();
        ContainerIndex {
            container,
            locator: crate::Locator::build(std::slice::from_ref(container)),
            vertices: RTree::bulk_load(vertices),
        }
    }

    /// Area in m² of `piece` outside the container.
    pub(crate) fn outside_m2(&self, piece: &MultiPolygon<f64>) -> f64 {
        let Some(r) = piece.bounding_rect() else {
            return 0.0;
        };
        let vertex_outside = piece
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.0.iter())
            .any(|c| self.locator.locate(c.x, c.y).is_none());
        let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        let container_vertex_inside = || {
            self.vertices.locate_in_envelope(env).any(|v| {
                let c = Coord { x: v[0], y: v[1] };
                piece.coordinate_position(&c) == CoordPos::Inside
            })
        };
        if vertex_outside || container_vertex_inside() {
            outside_m2(piece, self.container)
        } else {
            0.0
        }
    }
}

/// One indexed bounding box; the index refers to the caller's slice.
pub(crate) type IndexedBox = rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, usize>;

/// Builds an R-tree over the bounding boxes of `items`, skipping empty geometries (which cannot
/// overlap anything).
pub(crate) fn bbox_tree<'a>(items: impl Iterator<Item = &'a MultiPolygon<f64>>) -> RTree<IndexedBox> {
    let boxes = items
        .enumerate()
        .filter_map(|(i, mp)| {
            mp.bounding_rect().map(|r| {
                IndexedBox::new(
                    rstar::primitives::Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                )
            })
        })
        .collect();
    RTree::bulk_load(boxes)
}

/// Pairs (i, j), i < j, whose bounding boxes overlap with positive area. Boxes that merely touch
/// are skipped: pieces whose boxes share only an edge cannot share any area.
pub(crate) fn candidate_pairs<'a>(pieces: impl Iterator<Item = &'a MultiPolygon<f64>>) -> Vec<(usize, usize)> {
    let tree = bbox_tree(pieces);
    let mut pairs = Vec::new();
    for item in tree.iter() {
        let i = item.data;
        let env = item.geom().envelope_aabb();
        for other in tree.locate_in_envelope_intersecting(env) {
            let j = other.data;
            if j > i && aabb_overlap_with_area(&env, &other.geom().envelope_aabb()) {
                pairs.push((i, j));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

fn pairwise_overlap_m2(pieces: &[MultiPolygon<f64>]) -> f64 {
    candidate_pairs(pieces.iter())
        .into_iter()
        .filter_map(|(i, j)| Some(overlap_m2(pieces.get(i)?, pieces.get(j)?)))
        .sum::<f64>()
        + 0.0
}

trait EnvelopeAabb {
    fn envelope_aabb(&self) -> AABB<[f64; 2]>;
}

impl EnvelopeAabb for rstar::primitives::Rectangle<[f64; 2]> {
    fn envelope_aabb(&self) -> AABB<[f64; 2]> {
        AABB::from_corners(self.lower(), self.upper())
    }
}

fn aabb_overlap_with_area(a: &AABB<[f64; 2]>, b: &AABB<[f64; 2]>) -> bool {
    let (al, au, bl, bu) = (a.lower(), a.upper(), b.lower(), b.upper());
    al[0] < bu[0] && bl[0] < au[0] && al[1] < bu[1] && bl[1] < au[1]
}

pub(crate) fn rects_overlap_with_area(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x < b.max().x && b.min().x < a.max().x && a.min().y < b.max().y && b.min().y < a.max().y
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    fn square(x0: f64, y0: f64, s: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x0, y: y0), (x: x0 + s, y: y0), (x: x0 + s, y: y0 + s), (x: x0, y: y0 + s), (x: x0, y: y0)
        ]])
    }

    #[test]
    fn area_of_a_small_square_near_the_equator() {
        // 0.001° × 0.001° at the equator: 12,309.07 m² by the same closed form.
        let a = area_m2(&square(0.0, 0.0, 0.001));
        assert!((a - 12_309.072).abs() < 0.01, "{a}");
        // Orientation must not matter.
        let mut cw = square(0.0, 0.0, 0.001);
        cw.0[0].exterior_mut(|r| r.0.reverse());
        assert!((area_m2(&cw) - a).abs() < 1e-6);
    }

    #[test]
    fn area_matches_known_values_and_is_additive() {
        // The 1°×1° cell between 23° and 24°N on the WGS-84 ellipsoid is bounded by meridians
        // and parallels, so its area is exactly Δλ·a²·(q(24°) − q(23°))/2 = 11,312.085 km²
        // (evaluated independently with the logarithmic form of q).
        let cell = area_m2(&square(113.0, 23.0, 1.0));
        assert!((cell / 1e6 - 11_312.085).abs() < 0.001, "{cell}");
        // Splitting a long east–west edge must not change the total (unlike geodesic edges).
        let whole = square(113.0, 23.0, 0.03);
        let halves = [
            MultiPolygon(vec![
                polygon![(x: 113.0, y: 23.0), (x: 113.013, y: 23.0), (x: 113.013, y: 23.03), (x: 113.0, y: 23.03)],
            ]),
            MultiPolygon(vec![
                polygon![(x: 113.013, y: 23.0), (x: 113.03, y: 23.0), (x: 113.03, y: 23.03), (x: 113.013, y: 23.03)],
            ]),
        ];
        let sum: f64 = halves.iter().map(area_m2).sum();
        assert!((sum - area_m2(&whole)).abs() < 1e-6, "{sum} vs {}", area_m2(&whole));
        // A hole is subtracted whatever its orientation.
        let donut = MultiPolygon(vec![Polygon::new(
            square(113.0, 23.0, 0.03).0[0].exterior().clone(),
            vec![square(113.01, 23.01, 0.01).0[0].exterior().clone()],
        )]);
        let expected = area_m2(&whole) - area_m2(&square(113.01, 23.01, 0.01));
        assert!((area_m2(&donut) - expected).abs() < 1e-6);
    }

    #[test]
    fn overlap_and_outside() {
        let a = square(113.0, 23.0, 0.01);
        let b = square(113.005, 23.0, 0.01);
        let half = area_m2(&a) / 2.0;
        assert!((overlap_m2(&a, &b) - half).abs() < half * 1e-6);
        assert!((outside_m2(&a, &b) - half).abs() < half * 1e-6);
        let far = square(120.0, 30.0, 0.01);
        assert_eq!(overlap_m2(&a, &far), 0.0);
        assert!((outside_m2(&a, &far) - area_m2(&a)).abs() < 1e-9);
        // Touching squares share no area.
        let c = square(113.01, 23.0, 0.01);
        assert_eq!(overlap_m2(&a, &c), 0.0);
    }

    #[test]
    fn tiling_report_detects_gap_and_overlap() {
        let container = square(113.0, 23.0, 0.02);
        let perfect = vec![
            square(113.0, 23.0, 0.01),
            square(113.01, 23.0, 0.01),
            square(113.0, 23.01, 0.01),
            square(113.01, 23.01, 0.01),
        ];
        let r = tiling_report(&container, &perfect);
        assert!(r.gap_m2 < 1e-3 && r.overlap_m2 < 1e-3, "{r:?}");
        assert!((r.pieces_m2 - r.container_m2).abs() < r.container_m2 * 1e-9, "{r:?}");

        let flawed = vec![square(113.0, 23.0, 0.01), square(113.005, 23.0, 0.01)];
        let r = tiling_report(&container, &flawed);
        let q = area_m2(&square(113.0, 23.0, 0.01));
        assert!((r.overlap_m2 - q / 2.0).abs() < q * 1e-6, "{r:?}");
        assert!((r.gap_m2 - (r.container_m2 - 1.5 * q)).abs() < q * 1e-3, "{r:?}");

        // Pieces sticking out of the container do not hide a gap inside it.
        let shifted = vec![square(112.99, 23.0, 0.02), square(113.0, 23.01, 0.01)];
        let r = tiling_report(&container, &shifted);
        // Inside the container: [113.0, 113.01]×[23.0, 23.02] is covered (first square's inside
        // half plus the second square), so the east half is the gap.
        let east = area_m2(&MultiPolygon(vec![polygon![
            (x: 113.01, y: 23.0), (x: 113.02, y: 23.0), (x: 113.02, y: 23.02), (x: 113.01, y: 23.02), (x: 113.01, y: 23.0)
        ]]));
        assert!((r.gap_m2 - east).abs() < east * 1e-6, "{r:?} vs {east}");
    }
}
