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

use geo::{BoundingRect, Coord, LineString, MapCoords, MultiPolygon, Orient, Polygon};
use serde_json::{Map, Value};

use crate::coord::LngLat;
use crate::datum::{convert, Datum, STORAGE_DATUM};
use crate::measure::{area_m2, bbox_tree, candidate_pairs, overlap_m2, ContainerIndex};

mod validity;
use validity::{ring_is_degenerate, validity_problem};

/// At most this many problems are reported; further ones only set [`ImportReport::truncated`].
/// Two hundred is more than anyone fixes in one sitting and keeps error responses small.
pub const MAX_PROBLEMS: usize = 200;

/// Overlaps up to this many m² are tolerated: hand-digitised neighbours that share an edge
/// routinely disagree by centimetres, which is harmless for assigning cases.
pub const OVERLAP_TOLERANCE_M2: f64 = 1.0;

/// Below this area (1 mm²) a geometry is considered to enclose nothing: floating-point noise of
/// a degenerate ring, not a grid.
const EMPTY_AREA_M2: f64 = 1e-6;

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
mod tests;
