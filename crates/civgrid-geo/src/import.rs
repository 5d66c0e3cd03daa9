//! Parsing and validating grid GeoJSON files for import.
//!
//! Grid files are drawn by hand by street offices in desktop GIS or web tools, so they contain
//! every kind of mistake. Stopping at the first one would make fixing a file an endless upload
//! loop, so [`parse_grid_collection`] collects *all* problems (up to [`MAX_PROBLEMS`]) with a
//! stable code, the feature index and id, and a message precise enough to find the spot.
//!
//! # Problem codes
//!
//! | code | meaning |
//! |------|---------|
//! | `too_large` | the file exceeds [`ImportLimits::max_bytes`] |
//! | `invalid_json` | not JSON; the message gives line and column |
//! | `not_a_feature_collection` | the top level (or a member of `features`) has the wrong shape |
//! | `too_many_features` | more than [`ImportLimits::max_features`] features |
//! | `missing_geometry` | a feature's geometry is absent or null |
//! | `unsupported_geometry` | a geometry other than Polygon/MultiPolygon (the type is named) |
//! | `ring_not_closed` | a ring's last position differs from its first |
//! | `ring_too_short` | a ring has fewer than 4 positions |
//! | `coordinate_not_finite` | a coordinate is NaN or infinite |
//! | `coordinate_out_of_range` | longitude outside [-180, 180] or latitude outside [-90, 90] (value named) |
//! | `too_many_vertices` | a feature exceeds [`ImportLimits::max_vertices_per_feature`] |
//! | `invalid_geometry` | malformed coordinates or an OGC-invalid polygon (self-intersection, crossing rings, hole outside its shell, overlapping parts), with location |
//! | `empty_geometry` | the geometry encloses (practically) zero area |
//! | `datum_mismatch` | the file's own `crs` or `datum` member contradicts the declared datum |
//! | `grid_overlap` | two features of the file overlap by more than 1 m² (both indices named) |
//! | `overlaps_existing_grid` | ([`check_against`]) a feature overlaps a stored grid by more than 1 m² |
//! | `outside_district` | ([`check_against`]) a feature extends beyond the district outline |
//!
//! Within one feature, repeated problems of the same code are reported once with a count, so one
//! file in projected metres does not use up the whole problem budget on its first feature.
//!
//! Coordinates are validated in the declared datum and then converted to GCJ-02
//! ([`crate::datum::STORAGE_DATUM`]). The whole file is parsed into a `serde_json::Value` first
//! (peak memory is several times the file size, bounded through `max_bytes`) because the foreign
//! `crs`/`datum` members must be inspected and a typed parser would abort at the first bad
//! feature instead of reporting all of them.

use std::fmt;

use geo::algorithm::line_intersection::{line_intersection, LineIntersection};
use geo::algorithm::validation::{InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{BoundingRect, Coord, Line, LineString, MapCoords, MultiPolygon, Orient, Polygon, Relate, Validation};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;
use serde_json::{Map, Value};

use crate::coord::LngLat;
use crate::datum::{convert, Datum, STORAGE_DATUM};
use crate::measure::{area_m2, bbox_tree, candidate_pairs, overlap_m2, ContainerIndex};

/// At most this many problems are reported; further ones only set [`ImportReport::truncated`].
/// Two hundred is more than anyone fixes in one sitting and keeps error responses small.
pub const MAX_PROBLEMS: usize = 200;

/// Overlaps up to this many m² are tolerated: hand-digitised neighbours that share an edge
/// routinely disagree by centimetres, which is harmless for assigning cases.
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;

/// Below this area (1 mm²) a geometry is considered to enclose nothing: floating-point noise of
/// a degenerate ring, not a grid.
const EMPTY_AREA_M2: f64 = 1e-6;

/// geo 0.33's polygon validation tests every pair of ring segments for intersection (a nested
/// loop), which took over half of a 100,000-grid import whose county-border grids have hundreds
/// of vertices. Polygons up to this many vertices (typical interior grids) are checked by
/// geo's `Validation` itself; larger ones by an equivalent R-tree indexed check, so a
/// 100,000-vertex feature costs milliseconds, not minutes.
const QUADRATIC_VALIDATION_LIMIT: usize = 64;

/// Outlines of large counties can have hundreds of thousands of vertices; a district boundary is
/// uploaded rarely and by administrators, so its vertex limit is generous.
const BOUNDARY_MAX_VERTICES: usize = 2_000_000;

/// Resource limits for one import, protecting the server from oversized or hostile files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// Maximum file size in bytes.
    pub max_bytes: usize,
    /// Maximum number of features in the collection.
    pub max_features: usize,
    /// Maximum number of positions in one feature (all rings and parts).
    pub max_vertices_per_feature: usize,
}

impl Default for ImportLimits {
    /// 64 MiB, 200,000 features, 100,000 vertices per feature: well above a whole city's grids
    /// (a district has about a thousand) while bounding memory and validation time.
    fn default() -> Self {
        ImportLimits { max_bytes: 64 * 1024 * 1024, max_features: 200_000, max_vertices_per_feature: 100_000 }
    }
}

/// One validated grid feature, geometry already converted to GCJ-02.
#[derive(Debug, Clone, PartialEq)]
pub struct GridFeature {
    /// Position in the file's `features` array, for messages and for matching back to the file.
    pub index: usize,
    /// The feature's `id` member (numbers are converted to strings), if any.
    pub id: Option<String>,
    /// The feature's properties (empty when absent or null); the application reads the grid
    /// code and name from here.
    pub properties: Map<String, Value>,
    /// Geometry in GCJ-02.
    pub geometry: MultiPolygon<f64>,
}

/// One problem found in an import, addressed to the person fixing the file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeatureProblem {
    /// Index in `features`, or `None` for file-level problems.
    pub feature: Option<usize>,
    /// The feature's `id`, when it has one, because people search their GIS by id, not index.
    pub feature_id: Option<String>,
    /// Stable machine-readable code (see the module documentation).
    pub code: &'static str,
    /// Human-readable explanation including the offending value or location.
    pub message: String,
}

/// All problems found in an import; returned as the error when there is at least one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    /// Problems in file order (file-level first), at most [`MAX_PROBLEMS`].
    pub problems: Vec<FeatureProblem>,
    /// True when more problems existed than were kept.
    pub truncated: bool,
}

impl fmt::Display for ImportReport {
    /// A one-paragraph summary for logs and plain-text clients: the count and the first few
    /// problems; API clients should use the structured fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}{} problem{} in the GeoJSON file",
            n,
            if self.truncated { "+" } else { "" },
            if n == 1 { "" } else { "s" }
        )?;
        for (i, p) in self.problems.iter().take(5).enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            match (p.feature, &p.feature_id) {
                (Some(idx), Some(id)) => write!(f, "feature {idx} (id {id:?}): ")?,
                (Some(idx), None) => write!(f, "feature {idx}: ")?,
                _ => {}
            }
            write!(f, "[{}] {}", p.code, p.message)?;
        }
        if n > 5 {
            write!(f, "; and {} more", n - 5)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportReport {}

/// Accumulates problems up to the cap.
#[derive(Default)]
struct Collector {
    problems: Vec<FeatureProblem>,
    truncated: bool,
}

impl Collector {
    fn push(&mut self, p: FeatureProblem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.truncated = true;
        }
    }

    fn file(&mut self, code: &'static str, message: String) {
        self.push(FeatureProblem { feature: None, feature_id: None, code, message });
    }

    fn into_report(self) -> ImportReport {
        ImportReport { problems: self.problems, truncated: self.truncated }
    }
}

fn single(code: &'static str, message: String) -> ImportReport {
    let mut c = Collector::default();
    c.file(code, message);
    c.into_report()
}

/// Problems of one feature, de-duplicated by code (first message plus a count).
struct FeatureIssues<'a> {
    feature: Option<usize>,
    feature_id: Option<&'a str>,
    issues: Vec<(&'static str, String, usize)>,
}

impl<'a> FeatureIssues<'a> {
    fn new(feature: Option<usize>, feature_id: Option<&'a str>) -> Self {
        FeatureIssues { feature, feature_id, issues: Vec::new() }
    }

    fn add(&mut self, code: &'static str, message: impl FnOnce() -> String) {
        if let Some(entry) = self.issues.iter_mut().find(|e| e.0 == code) {
            entry.2 += 1;
        } else {
            self.issues.push((code, message(), 1));
        }
    }

    fn is_empty(&self) -> bool {
        self.issues.is_empty()
    }

    fn flush(self, out: &mut Collector) {
        for (code, message, count) in self.issues {
            let message = if count > 1 {
                format!("{message} (and {} more like this in the feature)", count - 1)
            } else {
                message
            };
            out.push(FeatureProblem {
                feature: self.feature,
                feature_id: self.feature_id.map(str::to_owned),
                code,
                message,
            });
        }
    }
}

/// Parses a grid FeatureCollection, validating every feature and converting it from `declared`
/// to GCJ-02. Returns all features when the file is clean, otherwise every problem found.
pub fn parse_grid_collection(
    bytes: &[u8],
    declared: Datum,
    limits: &ImportLimits,
) -> Result<Vec<GridFeature>, ImportReport> {
    if bytes.len() > limits.max_bytes {
        return Err(single(
            "too_large",
            format!("the file is {} bytes; the limit is {} bytes", bytes.len(), limits.max_bytes),
        ));
    }
    let root = parse_json(bytes)?;
    let Value::Object(obj) = &root else {
        return Err(single(
            "not_a_feature_collection",
            format!("the top level is {}, expected a GeoJSON FeatureCollection object", json_kind(&root)),
        ));
    };
    let mut out = Collector::default();
    match obj.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        Some(other) => out.file(
            "not_a_feature_collection",
            format!("the top-level type is {other:?}, expected \"FeatureCollection\""),
        ),
        None => out.file(
            "not_a_feature_collection",
            "the top-level object has no \"type\"; expected \"FeatureCollection\"".into(),
        ),
    }
    check_datum(obj, declared, &mut out);
    let Some(features) = obj.get("features").and_then(Value::as_array) else {
        out.file("not_a_feature_collection", "the top-level object has no \"features\" array".into());
        return Err(out.into_report());
    };
    if features.len() > limits.max_features {
        out.file(
            "too_many_features",
            format!("the file has {} features; the limit is {}", features.len(), limits.max_features),
        );
        return Err(out.into_report());
    }

    let mut parsed = Vec::with_capacity(features.len());
    for (index, value) in features.iter().enumerate() {
        if let Some(f) = parse_feature(index, value, declared, limits, &mut out) {
            parsed.push(f);
        }
    }
    check_overlaps_within(&parsed, &mut out);

    if out.problems.is_empty() && !out.truncated {
        Ok(parsed)
    } else {
        Err(out.into_report())
    }
}

/// Parses a district (or other territory) outline: a bare Polygon/MultiPolygon geometry, a
/// Feature, or a FeatureCollection whose polygons are united. Validated like grid features and
/// converted from `declared` to GCJ-02.
pub fn parse_boundary(bytes: &[u8], declared: Datum) -> Result<MultiPolygon<f64>, ImportReport> {
    let limits = ImportLimits { max_vertices_per_feature: BOUNDARY_MAX_VERTICES, ..ImportLimits::default() };
    if bytes.len() > limits.max_bytes {
        return Err(single(
            "too_large",
            format!("the file is {} bytes; the limit is {} bytes", bytes.len(), limits.max_bytes),
        ));
    }
    let root = parse_json(bytes)?;
    let Value::Object(obj) = &root else {
        return Err(single(
            "not_a_feature_collection",
            format!("the top level is {}, expected a GeoJSON object", json_kind(&root)),
        ));
    };
    let mut out = Collector::default();
    check_datum(obj, declared, &mut out);
    let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let mut shapes: Vec<MultiPolygon<f64>> = Vec::new();
    match ty {
        "Polygon" | "MultiPolygon" => {
            let mut issues = FeatureIssues::new(None, None);
            if let Some(mp) = parse_geometry(Some(&root), limits.max_vertices_per_feature, &mut issues) {
                shapes.push(mp);
            }
            issues.flush(&mut out);
        }
        "Feature" => {
            let mut issues = FeatureIssues::new(None, None);
            if let Some(mp) = parse_geometry(obj.get("geometry"), limits.max_vertices_per_feature, &mut issues) {
                shapes.push(mp);
            }
            issues.flush(&mut out);
        }
        "FeatureCollection" => {
            let features = obj.get("features").and_then(Value::as_array);
            for (index, value) in features.into_iter().flatten().enumerate() {
                let id = value.get("id").and_then(id_string);
                let mut issues = FeatureIssues::new(Some(index), id.as_deref());
                if let Some(mp) = parse_geometry(value.get("geometry"), limits.max_vertices_per_feature, &mut issues) {
                    shapes.push(mp);
                }
                issues.flush(&mut out);
            }
            if features.is_none_or(|f| f.is_empty()) {
                out.file("missing_geometry", "the FeatureCollection has no features".into());
            }
        }
        "Point" | "MultiPoint" | "LineString" | "MultiLineString" | "GeometryCollection" => {
            out.file("unsupported_geometry", format!("a boundary must be a Polygon or MultiPolygon, not a {ty}"))
        }
        _ => out.file(
            "not_a_feature_collection",
            format!("the top-level type is {ty:?}; expected a Polygon, MultiPolygon, Feature or FeatureCollection"),
        ),
    }
    if !out.problems.is_empty() || out.truncated {
        return Err(out.into_report());
    }
    let merged = if shapes.len() == 1 {
        shapes.pop().unwrap_or_else(|| MultiPolygon(Vec::new()))
    } else {
        // unary_union takes its fill rule from the first ring's winding, so orient first.
        let oriented: Vec<MultiPolygon<f64>> =
            shapes.iter().map(|s| s.orient(geo::orient::Direction::Default)).collect();
        geo::unary_union(oriented.iter())
    };
    if area_m2(&merged) < EMPTY_AREA_M2 {
        out.file("empty_geometry", "the boundary encloses no area".into());
        return Err(out.into_report());
    }
    Ok(to_storage_datum(&merged, declared))
}

/// Checks validated features against grids already stored (by code) and, optionally, the
/// district outline. Reports `overlaps_existing_grid` for overlaps over
/// [`OVERLAP_TOLERANCE_M2`] and `outside_district` when the area outside the container exceeds
/// 1 m² or one millionth of the feature's area (whichever is smaller, so small grids are held to
/// a proportionate standard). Candidates are found with an R-tree over bounding boxes.
pub fn check_against(
    features: &[GridFeature],
    existing: &[(String, MultiPolygon<f64>)],
    container: Option<&MultiPolygon<f64>>,
) -> Vec<FeatureProblem> {
    let mut out = Collector::default();
    let tree = bbox_tree(existing.iter().map(|(_, g)| g));
    let container_index = container.map(ContainerIndex::new);
    for f in features {
        let problem =
            |code, message| FeatureProblem { feature: Some(f.index), feature_id: f.id.clone(), code, message };
        if let Some(r) = f.geometry.bounding_rect() {
            let env = rstar::AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            let mut hits: Vec<usize> = tree.locate_in_envelope_intersecting(env).map(|b| b.data).collect();
            hits.sort_unstable();
            for i in hits {
                let Some((code, geom)) = existing.get(i) else {
                    continue;
                };
                let overlap = overlap_m2(&f.geometry, geom);
                if overlap > OVERLAP_TOLERANCE_M2 {
                    out.push(problem(
                        "overlaps_existing_grid",
                        format!("overlaps existing grid {code:?} by {overlap:.1} m²"),
                    ));
                }
            }
        }
        if let Some(index) = &container_index {
            let outside = index.outside_m2(&f.geometry);
            let area = area_m2(&f.geometry);
            if outside > 1.0 || outside > 1e-6 * area {
                out.push(problem(
                    "outside_district",
                    format!(
                        "{outside:.2} m² ({:.4}% of the grid's {area:.0} m²) lies outside the district boundary",
                        if area > 0.0 { 100.0 * outside / area } else { 100.0 }
                    ),
                ));
            }
        }
    }
    out.problems
}

/// Converts a multipolygon to a GeoJSON geometry for API responses: a Polygon when there is one
/// part (what most clients expect for a grid), otherwise a MultiPolygon.
pub fn to_geojson_geometry(mp: &MultiPolygon<f64>) -> geojson::Geometry {
    match mp.0.as_slice() {
        [single] => geojson::Geometry::new(geojson::GeometryValue::from(single)),
        _ => geojson::Geometry::new(geojson::GeometryValue::from(mp)),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, ImportReport> {
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message ends with its own "at line L column C"; state it once.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let reason = full.strip_suffix(&suffix).unwrap_or(&full);
        single("invalid_json", format!("invalid JSON at line {}, column {}: {reason}", e.line(), e.column()))
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reports `datum_mismatch` when the file itself says which datum it uses and that contradicts
/// the declared one: a GeoJSON-2008 `crs` member (CRS84, EPSG:4326 and EPSG:4490/CGCS2000 mean
/// WGS-84; anything else, e.g. EPSG:3857, is a mismatch) or a top-level `datum` member.
fn check_datum(obj: &Map<String, Value>, declared: Datum, out: &mut Collector) {
    match obj.get("crs") {
        None | Some(Value::Null) => {}
        Some(crs) => {
            let name = crs.get("properties").and_then(|p| p.get("name")).and_then(Value::as_str);
            match name {
                Some(name) => {
                    let named = datum_of_crs_name(name);
                    if named != Some(declared) {
                        let meaning = named.map_or("an unsupported coordinate system".to_owned(), |d| {
                            format!("datum {d}")
                        });
                        out.file(
                            "datum_mismatch",
                            format!("the file's crs {name:?} means {meaning}, but the import was declared as {declared}"),
                        );
                    }
                }
                None => out.file(
                    "datum_mismatch",
                    "the file's crs member has no properties.name, so its datum cannot be confirmed; remove it or name the CRS".into(),
                ),
            }
        }
    }
    match obj.get("datum") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => match s.parse::<Datum>() {
            Ok(d) if d == declared => {}
            Ok(d) => out.file(
                "datum_mismatch",
                format!("the file declares datum {d}, but the import was declared as {declared}"),
            ),
            Err(e) => out.file("datum_mismatch", format!("the file's datum member: {e}")),
        },
        Some(other) => {
            out.file("datum_mismatch", format!("the file's datum member is {}, expected a string", json_kind(other)))
        }
    }
}

fn datum_of_crs_name(name: &str) -> Option<Datum> {
    let s = name.to_ascii_lowercase();
    if s.contains("crs84") {
        return Some(Datum::Wgs84);
    }
    if s.contains("epsg") {
        let digits: String =
            s.chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
        return matches!(digits.as_str(), "4326" | "4490").then_some(Datum::Wgs84);
    }
    if s.contains("gcj") {
        return Some(Datum::Gcj02);
    }
    if s.contains("bd09") || s.contains("bd-09") {
        return Some(Datum::Bd09);
    }
    s.parse().ok()
}

fn parse_feature(
    index: usize,
    value: &Value,
    declared: Datum,
    limits: &ImportLimits,
    out: &mut Collector,
) -> Option<GridFeature> {
    let Value::Object(obj) = value else {
        out.push(FeatureProblem {
            feature: Some(index),
            feature_id: None,
            code: "not_a_feature_collection",
            message: format!("features[{index}] is {}, expected a Feature object", json_kind(value)),
        });
        return None;
    };
    let id = obj.get("id").and_then(id_string);
    let mut issues = FeatureIssues::new(Some(index), id.as_deref());
    if obj.get("type").and_then(Value::as_str) != Some("Feature") {
        issues.add("not_a_feature_collection", || format!("features[{index}] does not have \"type\": \"Feature\""));
    }
    let properties = match obj.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            issues.add("not_a_feature_collection", || {
                format!("properties is {}, expected an object or null", json_kind(other))
            });
            Map::new()
        }
    };
    let geometry = parse_geometry(obj.get("geometry"), limits.max_vertices_per_feature, &mut issues);
    let ok = issues.is_empty();
    issues.flush(out);
    let geometry = geometry.filter(|_| ok)?;
    Some(GridFeature { index, id, properties, geometry: to_storage_datum(&geometry, declared) })
}

fn to_storage_datum(mp: &MultiPolygon<f64>, declared: Datum) -> MultiPolygon<f64> {
    if declared == STORAGE_DATUM {
        return mp.clone();
    }
    mp.map_coords(|c| match LngLat::new(c.x, c.y) {
        Ok(p) => {
            let q = convert(p, declared, STORAGE_DATUM);
            Coord { x: q.lng(), y: q.lat() }
        }
        // Unreachable for validated input; leaving the value unchanged is the safe choice.
        Err(_) => c,
    })
}

/// Parses and validates one geometry in the declared datum; `None` (with issues recorded) when
/// it is unusable.
fn parse_geometry(
    value: Option<&Value>,
    max_vertices: usize,
    issues: &mut FeatureIssues<'_>,
) -> Option<MultiPolygon<f64>> {
    let obj = match value {
        None | Some(Value::Null) => {
            issues.add("missing_geometry", || "the feature has no geometry".into());
            return None;
        }
        Some(Value::Object(obj)) => obj,
        Some(other) => {
            issues.add("invalid_geometry", || {
                format!("geometry is {}, expected a GeoJSON geometry object", json_kind(other))
            });
            return None;
        }
    };
    let ty = obj.get("type").and_then(Value::as_str);
    let coords = obj.get("coordinates");
    let polygons: Vec<(&Value, String)> = match (ty, coords) {
        (Some("Polygon"), Some(c)) => vec![(c, "coordinates".to_owned())],
        (Some("MultiPolygon"), Some(Value::Array(parts))) => {
            parts.iter().enumerate().map(|(i, p)| (p, format!("coordinates[{i}]"))).collect()
        }
        (Some("Polygon" | "MultiPolygon"), _) => {
            issues.add("invalid_geometry", || "geometry coordinates are missing or not an array".into());
            return None;
        }
        (Some(other), _) => {
            issues.add("unsupported_geometry", || {
                format!("geometry type {other} is not supported; grids must be Polygon or MultiPolygon")
            });
            return None;
        }
        (None, _) => {
            issues.add("unsupported_geometry", || "geometry has no type".into());
            return None;
        }
    };

    // Count positions before looking at them, so an oversized feature costs no more than this.
    let mut vertex_count = 0usize;
    for (poly, path) in &polygons {
        let Some(rings) = poly.as_array() else {
            issues.add("invalid_geometry", || format!("{path} is not an array of rings"));
            return None;
        };
        for (ri, ring) in rings.iter().enumerate() {
            let Some(ring) = ring.as_array() else {
                issues.add("invalid_geometry", || format!("{path}[{ri}] is not an array of positions"));
                return None;
            };
            vertex_count = vertex_count.saturating_add(ring.len());
        }
    }
    if vertex_count > max_vertices {
        issues.add("too_many_vertices", || {
            format!("the geometry has {vertex_count} positions; the limit is {max_vertices}")
        });
        return None;
    }

    let mut out_polys = Vec::with_capacity(polygons.len());
    for (poly, path) in &polygons {
        let rings = poly.as_array().map(Vec::as_slice).unwrap_or_default();
        if rings.is_empty() {
            issues.add("ring_too_short", || format!("{path} has no rings"));
            continue;
        }
        let mut line_strings = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.iter().enumerate() {
            let positions = ring.as_array().map(Vec::as_slice).unwrap_or_default();
            let mut coords = Vec::with_capacity(positions.len());
            for (pi, pos) in positions.iter().enumerate() {
                let xy = pos.as_array().and_then(|a| match a.as_slice() {
                    [x, y, ..] => Some((x.as_f64()?, y.as_f64()?)),
                    _ => None,
                });
                let Some((x, y)) = xy else {
                    issues.add("invalid_geometry", || {
                        format!("{path}[{ri}][{pi}] is not a position (an array of at least two numbers)")
                    });
                    continue;
                };
                if let Err(e) = LngLat::new(x, y) {
                    issues.add(e.code(), || format!("{e} at {path}[{ri}][{pi}]"));
                }
                coords.push(Coord { x, y });
            }
            if positions.len() < 4 {
                issues.add("ring_too_short", || {
                    format!(
                        "{path}[{ri}] has {} positions; a ring needs at least 4 (the first repeated at the end)",
                        positions.len()
                    )
                });
            } else if coords.len() == positions.len() && coords.first() != coords.last() {
                issues.add("ring_not_closed", || format!("{path}[{ri}] does not end with its first position"));
            }
            line_strings.push(LineString(coords));
        }
        let mut it = line_strings.into_iter();
        if let Some(exterior) = it.next() {
            out_polys.push(Polygon::new(exterior, it.collect()));
        }
    }
    if !issues.is_empty() {
        return None;
    }
    let mp = MultiPolygon(out_polys);
    // Degenerate rings are also invalid, but "encloses no area" is the more useful diagnosis;
    // the area test alone would misfire on a bow-tie, whose two lobes cancel.
    if mp.0.iter().all(|p| ring_is_degenerate(&p.exterior().0)) {
        issues.add("empty_geometry", || "the geometry encloses no area (all positions collinear or repeated)".into());
        return None;
    }
    if let Some(message) = validity_problem(&mp) {
        issues.add("invalid_geometry", || message);
        return None;
    }
    if area_m2(&mp) < EMPTY_AREA_M2 {
        issues.add("empty_geometry", || "the geometry encloses practically no area (under 1 mm²)".into());
        return None;
    }
    Some(mp)
}

/// True when all positions of a ring lie on one line (within rounding), i.e. it encloses nothing.
fn ring_is_degenerate(ring: &[Coord<f64>]) -> bool {
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
fn validity_problem(mp: &MultiPolygon<f64>) -> Option<String> {
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

/// Reports pairs of features of the same file that overlap by more than the tolerance.
fn check_overlaps_within(features: &[GridFeature], out: &mut Collector) {
    for (i, j) in candidate_pairs(features.iter().map(|f| &f.geometry)) {
        let (Some(a), Some(b)) = (features.get(i), features.get(j)) else {
            continue;
        };
        let overlap = overlap_m2(&a.geometry, &b.geometry);
        if overlap > OVERLAP_TOLERANCE_M2 {
            out.push(FeatureProblem {
                feature: Some(a.index),
                feature_id: a.id.clone(),
                code: "grid_overlap",
                message: format!(
                    "features {} and {}{} overlap by {overlap:.1} m²",
                    a.index,
                    b.index,
                    b.id.as_ref().map(|id| format!(" (id {id:?})")).unwrap_or_default()
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn square(x: f64, y: f64, s: f64) -> Value {
        json!([[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]])
    }

    fn feature(id: &str, coords: Value) -> Value {
        json!({"type": "Feature", "id": id, "properties": {"code": id},
               "geometry": {"type": "Polygon", "coordinates": coords}})
    }

    fn collection(features: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features})).unwrap()
    }

    fn codes(r: &ImportReport) -> Vec<&'static str> {
        r.problems.iter().map(|p| p.code).collect()
    }

    fn parse(bytes: &[u8]) -> Result<Vec<GridFeature>, ImportReport> {
        parse_grid_collection(bytes, Datum::Gcj02, &ImportLimits::default())
    }

    #[test]
    fn clean_file_parses() {
        let file = collection(vec![
            feature("A", square(113.0, 23.0, 0.01)),
            feature("B", square(113.01, 23.0, 0.01)),
            json!({"type": "Feature", "id": 7, "properties": null,
                   "geometry": {"type": "MultiPolygon", "coordinates": [square(113.0, 23.01, 0.01)]}}),
        ]);
        let fs = parse(&file).unwrap();
        assert_eq!(fs.len(), 3);
        assert_eq!(fs[0].id.as_deref(), Some("A"));
        assert_eq!(fs[0].properties.get("code"), Some(&json!("A")));
        assert_eq!(fs[2].id.as_deref(), Some("7"));
        assert_eq!(fs[2].index, 2);
        assert!(fs[2].properties.is_empty());
        // GCJ-02 input is stored unchanged.
        assert_eq!(fs[0].geometry.0[0].exterior().0[0], Coord { x: 113.0, y: 23.0 });
    }

    #[test]
    fn wgs84_input_is_converted() {
        let file = collection(vec![feature("A", square(113.0, 23.0, 0.01))]);
        let fs = parse_grid_collection(&file, Datum::Wgs84, &ImportLimits::default()).unwrap();
        let c = fs[0].geometry.0[0].exterior().0[0];
        let expect = convert(LngLat::new(113.0, 23.0).unwrap(), Datum::Wgs84, Datum::Gcj02);
        assert_eq!((c.x, c.y), (expect.lng(), expect.lat()));
        assert!((c.x - 113.0).abs() > 1e-3);
    }

    #[test]
    fn all_problems_are_collected() {
        let bowtie = json!([[[113.0, 23.0], [113.01, 23.01], [113.01, 23.0], [113.0, 23.01], [113.0, 23.0]]]);
        let file = collection(vec![
            feature("ok", square(113.0, 23.0, 0.01)),                     // 0
            json!({"type": "Feature", "id": "nogeom", "properties": {}}), // 1
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[113.0, 23.0], [113.1, 23.1]]}}), // 2
            feature("open", json!([[[113.0, 23.0], [113.1, 23.0], [113.1, 23.1], [113.0, 23.1]]])), // 3
            feature("short", json!([[[113.0, 23.0], [113.1, 23.0], [113.0, 23.0]]])),               // 4
            feature("range", json!([[[213.0, 23.0], [113.1, 95.0], [113.1, 23.1], [213.0, 23.0]]])), // 5
            feature("bowtie", bowtie),                                                              // 6
            feature("flat", json!([[[113.0, 23.0], [113.1, 23.0], [113.2, 23.0], [113.0, 23.0]]])), // 7
            feature("overlap", square(113.005, 23.0, 0.01)),                                        // 8
            json!("not a feature"),                                                                 // 9
            feature("badpos", json!([[[113.0], [113.1, 23.0], [113.1, 23.1], [113.0]]])),           // 10
        ]);
        let r = parse(&file).unwrap_err();
        let by =
            |i: usize| -> Vec<&str> { r.problems.iter().filter(|p| p.feature == Some(i)).map(|p| p.code).collect() };
        assert_eq!(by(1), ["missing_geometry"]);
        assert_eq!(by(2), ["unsupported_geometry"]);
        assert!(r.problems.iter().any(|p| p.feature == Some(2) && p.message.contains("LineString")));
        assert_eq!(by(3), ["ring_not_closed"]);
        assert_eq!(by(4), ["ring_too_short"]);
        assert_eq!(by(5), ["coordinate_out_of_range"]);
        let range = r.problems.iter().find(|p| p.feature == Some(5)).unwrap();
        assert!(range.message.contains("213") && range.message.contains("more like this"), "{}", range.message);
        assert_eq!(by(6), ["invalid_geometry"]);
        let bow = r.problems.iter().find(|p| p.feature == Some(6)).unwrap();
        assert!(bow.message.contains("self-intersection near (113.0050000, 23.0050000)"), "{}", bow.message);
        assert_eq!(bow.feature_id.as_deref(), Some("bowtie"));
        assert_eq!(by(7), ["empty_geometry"]);
        assert_eq!(by(9), ["not_a_feature_collection"]);
        assert_eq!(by(10), ["invalid_geometry"]);
        // The overlap is reported on the first of the pair and names both.
        let ov = r.problems.iter().find(|p| p.code == "grid_overlap").unwrap();
        assert_eq!(ov.feature, Some(0));
        assert!(ov.message.contains("features 0 and 8"), "{}", ov.message);
        assert!(!r.truncated);
        let text = r.to_string();
        assert!(text.starts_with(&format!("{} problems", r.problems.len())), "{text}");
        assert!(serde_json::to_string(&r).unwrap().contains("\"code\":\"grid_overlap\""));
    }

    #[test]
    fn file_level_problems() {
        let limits = ImportLimits { max_bytes: 10, ..ImportLimits::default() };
        let r = parse_grid_collection(b"{\"type\": \"FeatureCollection\"}", Datum::Gcj02, &limits).unwrap_err();
        assert_eq!(codes(&r), ["too_large"]);

        let r = parse(b"{\n  \"type\": \"FeatureCollection\",\n  \"features\": [,]\n}").unwrap_err();
        assert_eq!(codes(&r), ["invalid_json"]);
        assert_eq!(r.problems[0].message, "invalid JSON at line 3, column 16: expected value");

        let r = parse(b"[1, 2]").unwrap_err();
        assert_eq!(codes(&r), ["not_a_feature_collection"]);
        let r = parse(br#"{"type": "Feature", "features": []}"#).unwrap_err();
        assert_eq!(codes(&r), ["not_a_feature_collection"]);
        let r = parse(br#"{"type": "FeatureCollection"}"#).unwrap_err();
        assert_eq!(codes(&r), ["not_a_feature_collection"]);

        let limits = ImportLimits { max_features: 1, ..ImportLimits::default() };
        let file = collection(vec![feature("A", square(113.0, 23.0, 0.01)), feature("B", square(114.0, 23.0, 0.01))]);
        let r = parse_grid_collection(&file, Datum::Gcj02, &limits).unwrap_err();
        assert_eq!(codes(&r), ["too_many_features"]);

        let limits = ImportLimits { max_vertices_per_feature: 4, ..ImportLimits::default() };
        let r = parse_grid_collection(&file, Datum::Gcj02, &limits).unwrap_err();
        assert_eq!(codes(&r), ["too_many_vertices", "too_many_vertices"]);
    }

    #[test]
    fn datum_declarations_are_checked() {
        let with = |extra: Value| {
            let mut doc = json!({"type": "FeatureCollection", "features": [feature("A", square(113.0, 23.0, 0.01))]});
            if let (Value::Object(d), Value::Object(e)) = (&mut doc, extra) {
                d.extend(e);
            }
            serde_json::to_vec(&doc).unwrap()
        };
        let crs = |name: &str| json!({"crs": {"type": "name", "properties": {"name": name}}});
        let limits = ImportLimits::default();
        for ok in ["urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4490"] {
            assert!(parse_grid_collection(&with(crs(ok)), Datum::Wgs84, &limits).is_ok(), "{ok}");
        }
        let r = parse_grid_collection(&with(crs("EPSG:3857")), Datum::Wgs84, &limits).unwrap_err();
        assert_eq!(codes(&r), ["datum_mismatch"]);
        assert!(r.problems[0].message.contains("EPSG:3857"));
        let r = parse_grid_collection(&with(crs("EPSG:4326")), Datum::Gcj02, &limits).unwrap_err();
        assert_eq!(codes(&r), ["datum_mismatch"]);
        let r = parse_grid_collection(&with(json!({"datum": "bd09"})), Datum::Gcj02, &limits).unwrap_err();
        assert_eq!(codes(&r), ["datum_mismatch"]);
        assert!(parse_grid_collection(&with(json!({"datum": "GCJ02"})), Datum::Gcj02, &limits).is_ok());
        let r = parse_grid_collection(&with(json!({"datum": 4326})), Datum::Wgs84, &limits).unwrap_err();
        assert_eq!(codes(&r), ["datum_mismatch"]);
        let r = parse_grid_collection(&with(json!({"crs": {"type": "link"}})), Datum::Wgs84, &limits).unwrap_err();
        assert_eq!(codes(&r), ["datum_mismatch"]);
    }

    #[test]
    fn problems_are_capped() {
        let features = (0..300).map(|i| json!({"type": "Feature", "id": i, "geometry": null})).collect();
        let r = parse(&collection(features)).unwrap_err();
        assert_eq!(r.problems.len(), MAX_PROBLEMS);
        assert!(r.truncated);
        assert!(r.to_string().starts_with("200+ problems"));
    }

    #[test]
    fn large_rings_use_the_indexed_check() {
        // A 6,000-vertex circle, once valid and once with two vertices swapped.
        let n = 6000;
        let mut ring: Vec<Value> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                json!([113.0 + 0.01 * a.cos(), 23.0 + 0.01 * a.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        let ok = collection(vec![feature("circle", json!([ring.clone()]))]);
        assert!(parse(&ok).is_ok());
        ring.swap(100, 102);
        let bad = collection(vec![feature("circle", json!([ring]))]);
        let r = parse(&bad).unwrap_err();
        assert_eq!(codes(&r), ["invalid_geometry"]);
        assert!(r.problems[0].message.contains("self-intersection near"), "{}", r.problems[0].message);
    }

    #[test]
    fn spikes_are_invalid() {
        let spike = json!([[
            [113.0, 23.0],
            [113.01, 23.0],
            [113.01, 23.01],
            [113.02, 23.01],
            [113.01, 23.01],
            [113.0, 23.01],
            [113.0, 23.0]
        ]]);
        let r = parse(&collection(vec![feature("s", spike)])).unwrap_err();
        assert_eq!(codes(&r), ["invalid_geometry"]);
        assert!(
            r.problems[0].message.contains("spike") && r.problems[0].message.contains("(113.0200000, 23.0100000)"),
            "{}",
            r.problems[0].message
        );
    }

    #[test]
    fn hole_outside_shell_is_located() {
        let poly = json!([
            [[113.0, 23.0], [113.01, 23.0], [113.01, 23.01], [113.0, 23.01], [113.0, 23.0]],
            [[113.02, 23.0], [113.03, 23.0], [113.03, 23.01], [113.02, 23.0]]
        ]);
        let r = parse(&collection(vec![feature("h", poly)])).unwrap_err();
        assert_eq!(codes(&r), ["invalid_geometry"]);
        assert!(r.problems[0].message.contains("near (113.0200000, 23.0000000)"), "{}", r.problems[0].message);
    }

    #[test]
    fn boundary_forms() {
        let district = parse_boundary(include_bytes!("../../../data/boundaries/440604.geojson"), Datum::Gcj02).unwrap();
        assert_eq!(district.0.len(), 1);
        assert_eq!(district.0[0].exterior().0.len(), 471);

        let feature_doc = serde_json::to_vec(&feature("A", square(113.0, 23.0, 0.01))).unwrap();
        assert_eq!(parse_boundary(&feature_doc, Datum::Gcj02).unwrap().0.len(), 1);

        // Two touching squares in a collection are united into one polygon.
        let both = collection(vec![feature("A", square(113.0, 23.0, 0.01)), feature("B", square(113.01, 23.0, 0.01))]);
        let merged = parse_boundary(&both, Datum::Gcj02).unwrap();
        assert_eq!(merged.0.len(), 1);
        let expected = 2.0
            * area_m2(&MultiPolygon(vec![Polygon::new(
                LineString::from(vec![(113.0, 23.0), (113.01, 23.0), (113.01, 23.01), (113.0, 23.01), (113.0, 23.0)]),
                vec![],
            )]));
        assert!((area_m2(&merged) - expected).abs() < 1e-3 * expected);

        let line = br#"{"type": "LineString", "coordinates": [[113.0, 23.0], [113.1, 23.1]]}"#;
        assert_eq!(codes(&parse_boundary(line, Datum::Gcj02).unwrap_err()), ["unsupported_geometry"]);
        let empty = br#"{"type": "FeatureCollection", "features": []}"#;
        assert_eq!(codes(&parse_boundary(empty, Datum::Gcj02).unwrap_err()), ["missing_geometry"]);
        assert_eq!(codes(&parse_boundary(b"nope", Datum::Gcj02).unwrap_err()), ["invalid_json"]);
    }

    #[test]
    fn checks_against_existing_and_container() {
        let file = collection(vec![
            feature("inside", square(113.0, 23.0, 0.01)),
            feature("straddles", square(113.015, 23.0, 0.01)),
        ]);
        let fs = parse(&file).unwrap();
        let container = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(113.0, 23.0), (113.02, 23.0), (113.02, 23.01), (113.0, 23.01), (113.0, 23.0)]),
            vec![],
        )]);
        let existing_poly = parse(&collection(vec![feature("X", square(113.005, 23.0, 0.002))])).unwrap();
        let existing = vec![("G-001".to_owned(), existing_poly[0].geometry.clone())];
        let problems = check_against(&fs, &existing, Some(&container));
        let codes: Vec<_> = problems.iter().map(|p| (p.feature, p.code)).collect();
        assert_eq!(codes, [(Some(0), "overlaps_existing_grid"), (Some(1), "outside_district")]);
        assert!(problems[0].message.contains("\"G-001\"") && problems[0].message.contains("m²"));
        assert!(problems[1].message.contains("outside the district"), "{}", problems[1].message);
        assert!(check_against(&fs[..1], &[], Some(&container)).is_empty());
        assert!(check_against(&fs, &[], None).is_empty());
    }

    #[test]
    fn geojson_output() {
        let fs = parse(&collection(vec![feature("A", square(113.0, 23.0, 0.01))])).unwrap();
        let g = to_geojson_geometry(&fs[0].geometry);
        assert_eq!(g.value.type_name(), "Polygon");
        let two = MultiPolygon(vec![fs[0].geometry.0[0].clone(), fs[0].geometry.0[0].clone()]);
        assert_eq!(to_geojson_geometry(&two).value.type_name(), "MultiPolygon");
        let round: geo::MultiPolygon<f64> = (&to_geojson_geometry(&two).value).try_into().unwrap();
        assert_eq!(round, two);
    }

    /// Arbitrary JSON values biased towards GeoJSON-looking structure.
    fn json_ish() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
            (-200.0f64..200.0).prop_map(|f| json!(f)),
            prop_oneof![
                Just("Feature"),
                Just("FeatureCollection"),
                Just("Polygon"),
                Just("MultiPolygon"),
                Just("LineString"),
                Just("gcj02"),
                Just("EPSG:4326"),
                Just("")
            ]
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(6, 200, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec(
                    (
                        prop_oneof![
                            Just("type"),
                            Just("features"),
                            Just("geometry"),
                            Just("coordinates"),
                            Just("properties"),
                            Just("id"),
                            Just("crs"),
                            Just("datum"),
                            Just("name")
                        ],
                        inner
                    ),
                    0..6
                )
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
            let _ = parse_boundary(&bytes, Datum::Wgs84);
        }

        #[test]
        fn arbitrary_json_never_panics(v in json_ish(), datum in prop_oneof![Just(Datum::Wgs84), Just(Datum::Gcj02), Just(Datum::Bd09)]) {
            let bytes = serde_json::to_vec(&v).unwrap();
            let _ = parse_grid_collection(&bytes, datum, &ImportLimits::default());
            let _ = parse_boundary(&bytes, datum);
            let wrapped = serde_json::to_vec(&json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": v.clone()}},
                {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": v}}
            ]})).unwrap();
            let _ = parse_grid_collection(&wrapped, datum, &ImportLimits::default());
        }

        #[test]
        fn random_polygons_never_panic(pts in proptest::collection::vec((112.99f64..113.01, 22.99f64..23.01), 3..12)) {
            let mut ring: Vec<Value> = pts.iter().map(|(x, y)| json!([x, y])).collect();
            ring.push(ring[0].clone());
            let file = collection(vec![feature("r", json!([ring])), feature("s", square(113.0, 23.0, 0.005))]);
            if let Ok(fs) = parse(&file) {
                let _ = check_against(&fs, &[("x".into(), fs[0].geometry.clone())], Some(&fs[1].geometry));
            }
        }
    }
}
