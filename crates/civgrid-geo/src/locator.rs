//! Point-to-grid lookup: which grid polygon contains a coordinate.
//!
//! This is on the hot path of every case report and of bulk imports of historical data, and it
//! is benchmarked against PostGIS, so the layout is chosen for speed and memory:
//!
//! * all vertices live in one flat `Vec<[f64; 2]>` (closing vertex not repeated) with a ring
//!   offset table and one small record per polygon part, so there is no per-polygon allocation
//!   and a point-in-polygon test reads memory sequentially;
//! * an adaptive cell index over the bounding box of every polygon *part* finds the few
//!   candidates: a uniform grid sized to the data, whose crowded cells (dense city districts
//!   next to sparse prefectures) are recursively replaced by finer grids. A lookup is two
//!   multiplications per level instead of an R-tree descent (lookups measured 1.6× faster than
//!   with a bulk-loaded `rstar` tree at 100,000 grids); and because each cell lists its parts in
//!   id order, the first part that contains the point is the answer (smallest id), so the scan
//!   stops early;
//! * each candidate part is tested with the crossing-number (even–odd) rule over all its rings,
//!   which honours holes. Multipolygon parts are indexed separately so that distant islands do
//!   not make a whole bounding box a candidate.
//!
//! # Boundary semantics
//!
//! Containment is *closed*: a point on a polygon's boundary (exterior or hole) belongs to it.
//! When several polygons contain a point — a shared edge or vertex of a tiling, or overlapping
//! input — the smallest id wins. Callers build the locator from grids sorted by code, so the
//! documented rule is "a point on a shared boundary belongs to the grid with the smallest code".
//!
//! "On the boundary" means within [`BOUNDARY_TOLERANCE_DEG`] (1e-9°, about 0.1 mm) of an edge.
//! An exact on-segment test is not enough: two neighbours traverse their shared edge in opposite
//! directions, so their crossing tests round differently and a point a few ulps from the edge
//! could be inside both or — worse — inside neither. The tolerance band is many orders of
//! magnitude wider than that rounding (~1e-14°) yet far below any survey precision, so every
//! point of a tiling resolves to exactly one grid, and a point on a shared edge to the smaller id.

use geo::{LineString, MultiPolygon};

/// Distance, in degrees, within which a point counts as lying on a polygon's boundary; see the
/// module documentation for why this is not zero.
pub const BOUNDARY_TOLERANCE_DEG: f64 = 1e-9;

const EPS2: f64 = BOUNDARY_TOLERANCE_DEG * BOUNDARY_TOLERANCE_DEG;

/// An immutable index answering "which polygon contains this point" for a fixed set of
/// polygons. Build it once when the grid set changes and share it (it is `Send + Sync`).
///
/// `Debug` prints a summary rather than the contents, which run to tens of megabytes.
pub struct Locator {
    /// Ring vertices of all polygons, each ring without its closing duplicate.
    verts: Vec<[f64; 2]>,
    /// `verts[ring_start[r]..ring_start[r + 1]]` is ring `r`.
    ring_start: Vec<u32>,
    /// One record per polygon part.
    parts: Vec<PartRec>,
    /// Number of input polygons, including empty ones that can never match.
    len: usize,
    index: CellIndex,
}

/// Everything a lookup needs about one part in one cache line: its bounding box (in `f32`
/// rounded outwards: half the size of `f64` and still a safe filter) and, inline, the exterior's
/// vertex range, so the common single-ring grid needs no `ring_start` lookup.
#[derive(Debug, Clone, Copy)]
struct PartRec {
    lo: [f32; 2],
    hi: [f32; 2],
    /// The polygon (input slice index) the part belongs to.
    poly: u32,
    /// `verts[ext_start..ext_end]` is the exterior ring.
    ext_start: u32,
    ext_end: u32,
    /// Rings `holes_first..holes_end` (indices into `ring_start`) are the holes.
    holes_first: u32,
    holes_end: u32,
}

impl std::fmt::Debug for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator")
            .field("polygons", &self.len)
            .field("parts", &self.parts.len())
            .field("vertices", &self.verts.len())
            .field("index_cells", &self.index.cells.len())
            .field("heap_bytes", &self.heap_bytes())
            .finish()
    }
}

impl Locator {
    /// Builds the index; the position of each multipolygon in `polygons` is its id.
    ///
    /// Empty parts and rings with fewer than three distinct positions are skipped since they
    /// enclose nothing. Coordinates are not validated here (import does that); non-finite
    /// vertices simply never match.
    pub fn build(polygons: &[MultiPolygon<f64>]) -> Locator {
        let total_verts: usize = polygons
            .iter()
            .flat_map(|mp| mp.0.iter())
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| r.0.len())
            .sum();
        let total_parts: usize = polygons.iter().map(|mp| mp.0.len()).sum();
        let total_rings: usize = polygons.iter().flat_map(|mp| mp.0.iter()).map(|p| 1 + p.interiors().len()).sum();

        let mut verts: Vec<[f64; 2]> = Vec::with_capacity(total_verts);
        let mut ring_start: Vec<u32> = Vec::with_capacity(total_rings + 1);
        let mut parts: Vec<PartRec> = Vec::with_capacity(total_parts);
        let mut boxes: Vec<[f64; 4]> = Vec::with_capacity(total_parts);
        ring_start.push(0);

        // Ids and offsets are u32 to halve the offset tables; input beyond that (over four
        // billion vertices, i.e. 64 GB of coordinates) cannot be indexed and is left out
        // rather than wrapping around.
        'polys: for (id, mp) in polygons.iter().enumerate() {
            let Ok(id) = u32::try_from(id) else { break };
            for poly in &mp.0 {
                let rings_before = ring_start.len();
                let verts_before = verts.len();
                let mut lo = [f64::INFINITY; 2];
                let mut hi = [f64::NEG_INFINITY; 2];
                for (k, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
                    let before = verts.len();
                    push_ring(&mut verts, ring);
                    if verts.len() - before < 3 {
                        verts.truncate(before);
                        if k == 0 {
                            break; // an exterior enclosing nothing makes the part empty
                        }
                        continue;
                    }
                    if k == 0 {
                        for v in verts.get(before..).unwrap_or_default() {
                            lo = [lo[0].min(v[0]), lo[1].min(v[1])];
                            hi = [hi[0].max(v[0]), hi[1].max(v[1])];
                        }
                    }
                    let Ok(end) = u32::try_from(verts.len()) else {
                        verts.truncate(verts_before);
                        ring_start.truncate(rings_before);
                        break 'polys;
                    };
                    ring_start.push(end);
                }
                let usable = ring_start.len() > rings_before && lo[0] <= hi[0] && lo[1] <= hi[1];
                let rec = ring_start.get(rings_before - 1..).and_then(|r| {
                    let t = BOUNDARY_TOLERANCE_DEG;
                    Some(PartRec {
                        lo: [f32_down(lo[0] - t), f32_down(lo[1] - t)],
                        hi: [f32_up(hi[0] + t), f32_up(hi[1] + t)],
                        poly: id,
                        ext_start: *r.first()?,
                        ext_end: *r.get(1)?,
                        holes_first: u32::try_from(rings_before).ok()?,
                        holes_end: u32::try_from(ring_start.len() - 1).ok()?,
                    })
                });
                match rec {
                    Some(rec) if usable => {
                        parts.push(rec);
                        let t = BOUNDARY_TOLERANCE_DEG;
                        boxes.push([lo[0] - t, lo[1] - t, hi[0] + t, hi[1] + t]);
                    }
                    // Nothing usable, or the exterior was all NaN: drop what was pushed.
                    _ => {
                        ring_start.truncate(rings_before);
                        verts.truncate(verts_before);
                    }
                }
            }
        }

        verts.shrink_to_fit();
        ring_start.shrink_to_fit();
        parts.shrink_to_fit();
        let index = CellIndex::build(&boxes);
        Locator { verts, ring_start, parts, len: polygons.len(), index }
    }

    /// The id of the polygon containing the point (closed semantics, smallest id on shared
    /// boundaries — see the module documentation), or `None` if no polygon contains it or the
    /// input is not finite.
    pub fn locate(&self, lng: f64, lat: f64) -> Option<u32> {
        if !lng.is_finite() || !lat.is_finite() {
            return None;
        }
        let candidates = self.index.candidates(lng, lat)?;
        // Parts are listed in increasing id order, so the first containing part has the
        // smallest id. Rounding the point to f32 keeps the box test conservative because the
        // boxes were rounded outwards and rounding is monotone.
        let (x, y) = (lng as f32, lat as f32);
        candidates.iter().find_map(|&part| {
            let rec = self.parts.get(part as usize)?;
            if x < rec.lo[0] || x > rec.hi[0] || y < rec.lo[1] || y > rec.hi[1] {
                return None;
            }
            self.part_contains(rec, lng, lat).then_some(rec.poly)
        })
    }

    /// Number of polygons the locator was built from (ids are `0..len`).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when built from no polygons; every lookup then returns `None`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Estimated heap memory held, in bytes, so operators can size servers and the benchmark can
    /// compare against raw coordinate size: every vector's capacity times its element size.
    pub fn heap_bytes(&self) -> usize {
        self.verts.capacity() * std::mem::size_of::<[f64; 2]>()
            + self.ring_start.capacity() * std::mem::size_of::<u32>()
            + self.parts.capacity() * std::mem::size_of::<PartRec>()
            + self.index.heap_bytes()
    }

    /// Closed point-in-part test: true if the point is within the boundary tolerance of any ring
    /// edge, otherwise the even–odd crossing parity over all rings (so holes are excluded).
    fn part_contains(&self, rec: &PartRec, x: f64, y: f64) -> bool {
        let mut inside = false;
        let ext = self.verts.get(rec.ext_start as usize..rec.ext_end as usize);
        if ring_crossings(ext.unwrap_or_default(), x, y, &mut inside) {
            return true;
        }
        for r in rec.holes_first as usize..rec.holes_end as usize {
            let (Some(&s), Some(&e)) = (self.ring_start.get(r), self.ring_start.get(r + 1)) else {
                continue;
            };
            let ring = self.verts.get(s as usize..e as usize).unwrap_or_default();
            if ring_crossings(ring, x, y, &mut inside) {
                return true;
            }
        }
        inside
    }
}

/// Toggles `inside` for every edge of `ring` crossed by the ray from (x, y) towards +x, and
/// returns true as soon as the point is found within the tolerance of an edge.
#[inline]
fn ring_crossings(ring: &[[f64; 2]], x: f64, y: f64, inside: &mut bool) -> bool {
    let Some(&last) = ring.last() else {
        return false;
    };
    let mut prev = last;
    for &cur in ring {
        let ([xi, yi], [xj, yj]) = (cur, prev);
        prev = cur;
        // Only edges whose (tolerance-grown) y-range contains the point can be close to it or
        // cross its horizontal ray, so this cheap test filters almost every edge.
        let (ylo, yhi) = if yi < yj { (yi, yj) } else { (yj, yi) };
        if y < ylo - BOUNDARY_TOLERANCE_DEG || y > yhi + BOUNDARY_TOLERANCE_DEG {
            continue;
        }
        if near_segment(x, y, xi, yi, xj, yj) {
            return true;
        }
        if (yi > y) != (yj > y) {
            let xc = xi + (y - yi) * (xj - xi) / (yj - yi);
            if x < xc {
                *inside = !*inside;
            }
        }
    }
    false
}

/// Marks a cell that has been replaced by a finer grid.
const NO_CHILD: u32 = u32::MAX;

/// Crowded cells (more parts than this) are refined into a finer grid.
const LEAF_TARGET: usize = 8;

/// Refinement depth limit; with each level dividing a cell into up to 16×16, eight levels span
/// more than any ratio of extents that occurs on Earth.
const MAX_DEPTH: u32 = 8;

/// One uniform grid (the root, or the refinement of a crowded cell).
#[derive(Debug, Clone, Copy)]
struct GridNode {
    x0: f64,
    y0: f64,
    /// Cells per degree, horizontally and vertically.
    sx: f64,
    sy: f64,
    nx: u32,
    ny: u32,
    /// Index of this grid's first cell in [`CellIndex::cells`].
    first_cell: u32,
}

impl GridNode {
    /// Cell coordinates for a point; the same monotone formula is used for building and
    /// querying, so a point inside a part's box always maps to a cell that lists the part.
    #[inline]
    fn cell_of(&self, x: f64, y: f64) -> (u32, u32) {
        // Truncation equals floor for the non-negative offsets that matter and, unlike
        // `f64::floor` on baseline x86-64, is not a library call; `as` saturates (NaN → 0) and
        // the clamp keeps rounding at the edges inside the grid.
        let cx = (((x - self.x0) * self.sx) as i64).clamp(0, i64::from(self.nx) - 1) as u32;
        let cy = (((y - self.y0) * self.sy) as i64).clamp(0, i64::from(self.ny) - 1) as u32;
        (cx, cy)
    }
}

/// Adaptive grid index from points to candidate parts (see the module documentation).
#[derive(Debug, Default)]
struct CellIndex {
    /// Bounds of all parts; points outside are rejected without a lookup.
    bounds: [f64; 4],
    nodes: Vec<GridNode>,
    /// Per cell, plus a final sentinel whose `start` ends the last list.
    cells: Vec<Cell>,
    /// Part ids, grouped by cell, increasing within each cell.
    items: Vec<u32>,
}

/// A grid cell: either refined into the child grid `child`, or a leaf whose candidates are
/// `items[start..next cell's start]`. Both fields sit together so a lookup costs one cache miss.
#[derive(Debug, Clone, Copy)]
struct Cell {
    child: u32,
    start: u32,
}

type Queue = std::collections::VecDeque<(u32, Vec<u32>, u32)>;

impl CellIndex {
    fn build(boxes: &[[f64; 4]]) -> CellIndex {
        let mut bounds = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        for b in boxes {
            bounds = [bounds[0].min(b[0]), bounds[1].min(b[1]), bounds[2].max(b[2]), bounds[3].max(b[3])];
        }
        let mut index = CellIndex { bounds, ..CellIndex::default() };
        if boxes.is_empty() || !(bounds[0] <= bounds[2] && bounds[1] <= bounds[3]) {
            return index;
        }
        let Ok(n) = u32::try_from(boxes.len()) else {
            return index;
        };
        let all: Vec<u32> = (0..n).collect();
        // Refinement may add list entries only up to this budget, so memory stays linear in the
        // number of parts whatever their shapes.
        let mut budget = boxes.len().saturating_mul(4).saturating_add(1 << 16);
        // Breadth-first, so cells (and their item lists) are laid out in creation order.
        let mut queue = Queue::new();
        let (nx, ny, _) = choose_grid(bounds, &all, boxes, (boxes.len() / 2).max(1), true).unwrap_or((1, 1, all.len()));
        index.push_node(bounds, nx, ny, all, 0, &mut queue);
        while let Some((node, parts, depth)) = queue.pop_front() {
            index.fill_node(node, &parts, depth, boxes, &mut budget, &mut queue);
        }
        index.cells.push(Cell { child: NO_CHILD, start: to_u32(index.items.len()) });
        index.nodes.shrink_to_fit();
        index.cells.shrink_to_fit();
        index.items.shrink_to_fit();
        index
    }

    /// Appends an `nx`×`ny` grid over `area` and queues it for filling with `parts`.
    fn push_node(
        &mut self,
        area: [f64; 4],
        nx: u32,
        ny: u32,
        parts: Vec<u32>,
        depth: u32,
        queue: &mut Queue,
    ) -> Option<u32> {
        let w = (area[2] - area[0]).max(f64::MIN_POSITIVE);
        let h = (area[3] - area[1]).max(f64::MIN_POSITIVE);
        let first_cell = u32::try_from(self.cells.len()).ok()?;
        let id = u32::try_from(self.nodes.len()).ok()?;
        self.nodes.push(GridNode {
            x0: area[0],
            y0: area[1],
            sx: f64::from(nx) / w,
            sy: f64::from(ny) / h,
            nx,
            ny,
            first_cell,
        });
        let total = (nx as usize) * (ny as usize);
        self.cells.extend(std::iter::repeat_n(Cell { child: NO_CHILD, start: 0 }, total));
        queue.push_back((id, parts, depth));
        Some(id)
    }

    /// Distributes `parts` over the cells of `node`, refining crowded cells when a finer grid
    /// actually separates the parts (it does not when they all cover the whole cell).
    fn fill_node(
        &mut self,
        node: u32,
        parts: &[u32],
        depth: u32,
        boxes: &[[f64; 4]],
        budget: &mut usize,
        queue: &mut Queue,
    ) {
        let Some(g) = self.nodes.get(node as usize).copied() else {
            return;
        };
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); (g.nx as usize) * (g.ny as usize)];
        for &p in parts {
            let Some(b) = boxes.get(p as usize) else {
                continue;
            };
            let (cx0, cy0) = g.cell_of(b[0], b[1]);
            let (cx1, cy1) = g.cell_of(b[2], b[3]);
            for cy in cy0..=cy1 {
                for cx in cx0..=cx1 {
                    if let Some(l) = lists.get_mut((cy * g.nx + cx) as usize) {
                        l.push(p);
                    }
                }
            }
        }
        for (k, list) in lists.into_iter().enumerate() {
            let cell = g.first_cell as usize + k;
            let start = to_u32(self.items.len());
            if let Some(c) = self.cells.get_mut(cell) {
                c.start = start;
            }
            if list.len() > LEAF_TARGET && depth < MAX_DEPTH {
                let (cx, cy) = (k as u32 % g.nx, k as u32 / g.nx);
                let area = [
                    g.x0 + f64::from(cx) / g.sx,
                    g.y0 + f64::from(cy) / g.sy,
                    g.x0 + f64::from(cx + 1) / g.sx,
                    g.y0 + f64::from(cy + 1) / g.sy,
                ];
                let want = list.len().div_ceil(2);
                if let Some((nx, ny, entries)) = choose_grid(area, &list, boxes, want, false) {
                    if entries <= *budget {
                        *budget -= entries;
                        if let Some(child) = self.push_node(area, nx, ny, list.clone(), depth + 1, queue) {
                            if let Some(c) = self.cells.get_mut(cell) {
                                c.child = child;
                            }
                            continue;
                        }
                    }
                }
            }
            self.items.extend_from_slice(&list);
        }
    }

    /// The parts whose (tolerance-grown) bounding box may contain the point, in increasing id
    /// order; `None` outside all parts' bounds.
    #[inline]
    fn candidates(&self, x: f64, y: f64) -> Option<&[u32]> {
        let b = &self.bounds;
        if !(x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]) {
            return None;
        }
        let mut node = *self.nodes.first()?;
        loop {
            let (cx, cy) = node.cell_of(x, y);
            let cell = node.first_cell as usize + (cy * node.nx + cx) as usize;
            let c = *self.cells.get(cell)?;
            if c.child != NO_CHILD {
                node = *self.nodes.get(c.child as usize)?;
                continue;
            }
            let end = self.cells.get(cell + 1)?.start;
            return self.items.get(c.start as usize..end as usize);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<GridNode>()
            + self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.items.capacity() * std::mem::size_of::<u32>()
    }
}

/// Largest `f32` not above `x`, so boxes only ever grow when narrowed to `f32`.
fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) > x {
        next_f32_toward_neg_inf(f)
    } else {
        f
    }
}

/// Smallest `f32` not below `x`.
fn f32_up(x: f64) -> f32 {
    let f = x as f32;
    if f64::from(f) < x {
        -next_f32_toward_neg_inf(-f)
    } else {
        f
    }
}

/// `f32::next_down` (stable only since Rust 1.86; the workspace supports 1.85).
fn next_f32_toward_neg_inf(f: f32) -> f32 {
    if f.is_nan() || f == f32::NEG_INFINITY {
        f
    } else if f == 0.0 {
        -f32::from_bits(1)
    } else if f > 0.0 {
        f32::from_bits(f.to_bits() - 1)
    } else {
        f32::from_bits(f.to_bits() + 1)
    }
}

/// Picks grid dimensions for `area` with at most about `max_cells` roughly square cells such that
/// the parts' boxes, clipped to the area, create at most three list entries per part plus one per
/// cell; fewer cells are tried while that fails. Returns (nx, ny, expected entries), or `None`
/// when even a 2×2 grid would not separate the parts (unless `always`, for the root grid, which
/// then falls back to a single cell).
fn choose_grid(
    area: [f64; 4],
    parts: &[u32],
    boxes: &[[f64; 4]],
    max_cells: usize,
    always: bool,
) -> Option<(u32, u32, usize)> {
    let w = (area[2] - area[0]).max(f64::MIN_POSITIVE);
    let h = (area[3] - area[1]).max(f64::MIN_POSITIVE);
    let mut cells = max_cells.clamp(1, 1 << 22);
    loop {
        let c = cells as f64;
        let nx = (c * w / h).sqrt().round().clamp(1.0, 4096.0);
        let ny = (c / nx).round().clamp(1.0, 4096.0);
        let (sx, sy) = (nx / w, ny / h);
        let mut entries = 0.0;
        for b in parts.iter().filter_map(|&p| boxes.get(p as usize)) {
            let bw = (b[2].min(area[2]) - b[0].max(area[0])).max(0.0);
            let bh = (b[3].min(area[3]) - b[1].max(area[1])).max(0.0);
            entries += (bw * sx + 1.0).min(nx) * (bh * sy + 1.0).min(ny);
        }
        let total_cells = nx * ny;
        if entries <= 3.0 * parts.len() as f64 + total_cells {
            // `max(1)`: a NaN extent would otherwise turn into a zero-sized grid.
            return Some(((nx as u32).max(1), (ny as u32).max(1), entries as usize + total_cells as usize));
        }
        if cells <= 4 {
            return always.then_some((1, 1, parts.len()));
        }
        cells /= 4;
    }
}

/// Offsets are stored as u32 to halve the index; the entry budget keeps them far below the
/// limit, and saturating rather than wrapping can at worst hide candidates, never panic.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends a ring's vertices without the closing duplicate (GeoJSON and geo repeat the first
/// vertex at the end) and without consecutive duplicates, which carry no information.
fn push_ring(verts: &mut Vec<[f64; 2]>, ring: &LineString<f64>) {
    let start = verts.len();
    for c in &ring.0 {
        let v = [c.x, c.y];
        if verts.len() > start && verts.last() == Some(&v) {
            continue;
        }
        verts.push(v);
    }
    if verts.len() > start + 1 && verts.get(start) == verts.last() {
        verts.pop();
    }
}

/// Whether (x, y) is within the boundary tolerance of segment (x1, y1)–(x2, y2).
#[inline]
fn near_segment(x: f64, y: f64, x1: f64, y1: f64, x2: f64, y2: f64) -> bool {
    let (xlo, xhi) = if x1 < x2 { (x1, x2) } else { (x2, x1) };
    if x < xlo - BOUNDARY_TOLERANCE_DEG || x > xhi + BOUNDARY_TOLERANCE_DEG {
        return false;
    }
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((x - x1) * dx + (y - y1) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let (ex, ey) = (x1 + t * dx - x, y1 + t * dy - y);
    ex * ex + ey * ey <= EPS2
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, Polygon};
    use proptest::prelude::*;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
    }

    fn mp(p: Polygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon(vec![p])
    }

    #[test]
    fn single_square_closed() {
        let loc = Locator::build(&[mp(rect(0.0, 0.0, 1.0, 1.0))]);
        assert_eq!(loc.len(), 1);
        assert!(!loc.is_empty());
        assert_eq!(loc.locate(0.5, 0.5), Some(0));
        assert_eq!(loc.locate(0.0, 0.0), Some(0), "corner");
        assert_eq!(loc.locate(1.0, 0.3), Some(0), "edge");
        assert_eq!(loc.locate(0.3, 1.0), Some(0), "top edge");
        assert_eq!(loc.locate(1.0 + 1e-6, 0.5), None);
        assert_eq!(loc.locate(-0.5, 0.5), None);
        assert_eq!(loc.locate(f64::NAN, 0.5), None);
        assert_eq!(loc.locate(0.5, f64::INFINITY), None);
    }

    #[test]
    fn shared_edges_and_vertices_go_to_smallest_id() {
        // 2×2 tiling, ids in reading order but deliberately shuffled in space.
        let polys = vec![
            mp(rect(1.0, 1.0, 2.0, 2.0)), // 0: top right
            mp(rect(0.0, 0.0, 1.0, 1.0)), // 1: bottom left
            mp(rect(1.0, 0.0, 2.0, 1.0)), // 2: bottom right
            mp(rect(0.0, 1.0, 1.0, 2.0)), // 3: top left
        ];
        let loc = Locator::build(&polys);
        assert_eq!(loc.locate(1.0, 1.0), Some(0), "vertex shared by all four");
        assert_eq!(loc.locate(0.5, 1.0), Some(1), "edge between 1 and 3");
        assert_eq!(loc.locate(1.0, 0.5), Some(1), "edge between 1 and 2");
        assert_eq!(loc.locate(1.5, 1.0), Some(0), "edge between 0 and 2");
        assert_eq!(loc.locate(1.0, 1.5), Some(0), "edge between 0 and 3");
        assert_eq!(loc.locate(0.25, 1.75), Some(3));
        assert_eq!(loc.locate(1.75, 0.25), Some(2));
        assert_eq!(loc.locate(2.0, 2.0), Some(0));
        assert_eq!(loc.locate(2.5, 2.0), None);
    }

    #[test]
    fn holes_are_honoured() {
        let donut = Polygon::new(
            rect(0.0, 0.0, 4.0, 4.0).exterior().clone(),
            vec![rect(1.0, 1.0, 3.0, 3.0).exterior().clone()],
        );
        let filler = rect(1.0, 1.0, 3.0, 3.0);
        let loc = Locator::build(&[mp(donut.clone()), mp(filler)]);
        assert_eq!(loc.locate(0.5, 0.5), Some(0));
        assert_eq!(loc.locate(2.0, 2.0), Some(1), "inside the hole");
        assert_eq!(loc.locate(1.0, 2.0), Some(0), "hole boundary belongs to both");
        let alone = Locator::build(&[mp(donut)]);
        assert_eq!(alone.locate(2.0, 2.0), None);
        assert_eq!(alone.locate(3.0, 3.0), Some(0));
    }

    #[test]
    fn multipolygons_and_degenerate_input() {
        let islands = MultiPolygon(vec![rect(0.0, 0.0, 1.0, 1.0), rect(10.0, 10.0, 11.0, 11.0)]);
        let degenerate = MultiPolygon(vec![polygon![(x: 5.0, y: 5.0), (x: 6.0, y: 6.0), (x: 5.0, y: 5.0)]]);
        let empty = MultiPolygon::<f64>(vec![]);
        let nan = mp(rect(f64::NAN, 0.0, 1.0, 1.0));
        let loc = Locator::build(&[empty, degenerate, islands, nan]);
        assert_eq!(loc.len(), 4);
        assert_eq!(loc.locate(10.5, 10.5), Some(2));
        assert_eq!(loc.locate(0.5, 0.5), Some(2));
        assert_eq!(loc.locate(5.5, 5.5), None);
        assert_eq!(loc.locate(5.0, 5.0), None);
        assert_eq!(loc.locate(5.0, 0.5), None);
        let none = Locator::build(&[]);
        assert!(none.is_empty());
        assert_eq!(none.locate(0.0, 0.0), None);
        assert!(none.heap_bytes() < 1024);
    }

    #[test]
    fn concave_polygon() {
        // A "U": the notch between the arms is outside.
        let u = polygon![
            (x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 3.0), (x: 2.0, y: 3.0),
            (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 3.0), (x: 0.0, y: 3.0), (x: 0.0, y: 0.0)
        ];
        let loc = Locator::build(&[mp(u)]);
        assert_eq!(loc.locate(1.5, 2.0), None);
        assert_eq!(loc.locate(0.5, 2.0), Some(0));
        assert_eq!(loc.locate(2.5, 2.9), Some(0));
        assert_eq!(loc.locate(1.5, 1.0), Some(0), "bottom of the notch is boundary");
        assert_eq!(loc.locate(1.5, 0.5), Some(0));
    }

    #[test]
    fn heap_bytes_is_plausible() {
        let polys: Vec<_> = (0..1000)
            .map(|i| {
                let x = f64::from(i % 40);
                let y = f64::from(i / 40);
                mp(rect(x, y, x + 1.0, y + 1.0))
            })
            .collect();
        let loc = Locator::build(&polys);
        let raw = 1000 * 5 * 16;
        assert!(loc.heap_bytes() > 1000 * 4 * 16);
        assert!(loc.heap_bytes() < 2 * raw, "{}", loc.heap_bytes());
    }

    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn locator_is_send_sync() {
        assert_send_sync::<Locator>();
        let loc = Locator::build(&[mp(rect(0.0, 0.0, 1.0, 1.0))]);
        let text = format!("{loc:?}");
        assert!(text.starts_with("Locator { polygons: 1, parts: 1, vertices: 4"), "{text}");
    }

    /// Cells of a k×m tiling of [0, W]×[0, H] with irregular column/row boundaries; id is
    /// row-major.
    fn tiling(xs: &[f64], ys: &[f64]) -> Vec<MultiPolygon<f64>> {
        let mut out = Vec::new();
        for r in 0..ys.len() - 1 {
            for c in 0..xs.len() - 1 {
                out.push(mp(rect(xs[c], ys[r], xs[c + 1], ys[r + 1])));
            }
        }
        out
    }

    fn cuts(n: usize) -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(0.05f64..1.0, n).prop_map(|steps| {
            let mut acc = 113.0;
            let mut v = vec![acc];
            for s in steps {
                acc += s * 0.01;
                v.push(acc);
            }
            v
        })
    }

    proptest! {
        #[test]
        fn random_tilings_resolve_to_the_geometric_cell(
            (xs, ys) in (1usize..8, 1usize..8).prop_flat_map(|(k, m)| (cuts(k), cuts(m))),
            fx in proptest::collection::vec(0.0f64..1.0, 32),
            fy in proptest::collection::vec(0.0f64..1.0, 32),
        ) {
            let polys = tiling(&xs, &ys);
            let loc = Locator::build(&polys);
            let cols = xs.len() - 1;
            let (x0, x1) = (xs[0], xs[xs.len() - 1]);
            let (y0, y1) = (ys[0], ys[ys.len() - 1]);
            for (a, b) in fx.iter().zip(&fy) {
                let x = x0 + a * (x1 - x0);
                let y = y0 + b * (y1 - y0);
                // The containing cell, found by brute force; points strictly inside one cell.
                let c = xs.windows(2).position(|w| w[0] <= x && x <= w[1]).unwrap();
                let r = ys.windows(2).position(|w| w[0] <= y && y <= w[1]).unwrap();
                let on_edge = xs.iter().any(|&e| (e - x).abs() <= 1e-9) || ys.iter().any(|&e| (e - y).abs() <= 1e-9);
                if !on_edge {
                    prop_assert_eq!(loc.locate(x, y), Some((r * cols + c) as u32));
                }
                // Points on internal vertical edges resolve to the smaller (left) cell, on
                // horizontal edges to the lower row (smaller id).
                for (ci, &ex) in xs.iter().enumerate().skip(1).take(cols.saturating_sub(1)) {
                    prop_assert_eq!(loc.locate(ex, y), Some((r * cols + ci - 1) as u32));
                }
                for (ri, &ey) in ys.iter().enumerate().skip(1).take(ys.len().saturating_sub(2)) {
                    prop_assert_eq!(loc.locate(x, ey), Some(((ri - 1) * cols + c) as u32));
                }
            }
            prop_assert_eq!(loc.locate(x0 - 1e-6, y0), None);
            prop_assert_eq!(loc.locate(x1, y1 + 1e-6), None);
        }
    }
}
