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
    let by = |i: usize| -> Vec<&str> { r.problems.iter().filter(|p| p.feature == Some(i)).map(|p| p.code).collect() };
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
    let district = parse_boundary(include_bytes!("../../../../data/boundaries/440604.geojson"), Datum::Gcj02).unwrap();
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
