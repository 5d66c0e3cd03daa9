use axum::http::StatusCode;
use civgrid::audit::Actor;
use civgrid_geo::{Datum, LngLat};
use geo::InteriorPoint;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

/// A district with its real outline and no grids, plus an admin token and a point inside it.
async fn district_only(b: Backend) -> (TestApp, String, (f64, f64)) {
    let app = TestApp::empty(b).await;
    let t = &app.state.territory;
    t.create_district(
        &Actor::system("test"),
        "440604",
        "禅城区",
        civgrid::demo::DISTRICT_GEOJSON.as_bytes(),
        Datum::Gcj02,
        None,
    )
    .await
    .expect("district");
    let staff = civgrid::staff::NewStaff {
        username: "admin".into(),
        display_name: "管理员".into(),
        password: civgrid::demo::DEMO_PASSWORD.into(),
        department_code: None,
        roles: vec![civgrid::staff::RoleGrant { role: civgrid::staff::Role::Admin, area_code: "440604".into() }],
    };
    app.state.staff.create(&Actor::system("test"), staff, None).await.expect("admin");
    let token = app.login("admin").await;
    let outline =
        civgrid_geo::import::parse_boundary(civgrid::demo::DISTRICT_GEOJSON.as_bytes(), Datum::Gcj02).expect("outline");
    let p = outline.interior_point().expect("interior");
    (app, token, (p.x(), p.y()))
}

fn square(x: f64, y: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]})
}

fn feature(code: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": format!("{code}网格"),
           "community_name": "测试社区", "subdistrict_name": "测试街道"}, "geometry": geometry})
}

fn collection(features: Vec<Value>) -> Vec<u8> {
    json!({"type": "FeatureCollection", "features": features}).to_string().into_bytes()
}

async fn import(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    app.send_raw("POST", &format!("/api/v1/admin/grids/import{query}"), Some(token), "application/geo+json", body).await
}

/// The problem codes of a refused import.
fn problem_codes(v: &Value) -> Vec<String> {
    v["error"]["details"]["problems"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn good_files_import_and_route(b: Backend) {
    let (app, token, (x, y)) = district_only(b).await;
    let body = collection(vec![
        feature("44060401000101", square(x, y, 0.002)),
        feature("44060401000102", square(x + 0.002, y, 0.002)),
    ]);
    let (s, v) = import(&app, &token, "?datum=gcj02", body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["created"].as_u64(), v["areas_created"].as_u64()), (Some(2), Some(2)));
    let (s, v) = app.get(&format!("/api/v1/locate?lng={}&lat={}&datum=gcj02", x + 0.003, y + 0.001)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["grid"]["code"], "44060401000102");
    assert_eq!(v["community"]["name"], "测试社区");
    // The shared edge between the two goes to the smaller code.
    let (_, v) = app.get(&format!("/api/v1/locate?lng={}&lat={}&datum=gcj02", x + 0.002, y + 0.001)).await;
    assert_eq!(v["grid"]["code"], "44060401000101");

    // A file in WGS-84 is converted: its square lands a few hundred metres away in GCJ-02.
    let wgs = collection(vec![feature("44060401000103", square(x, y + 0.004, 0.001))]);
    let (s, v) = import(&app, &token, "?datum=wgs84", wgs).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let centre_wgs = LngLat::new(x + 0.0005, y + 0.0045).expect("point");
    let (_, v) =
        app.get(&format!("/api/v1/locate?lng={}&lat={}&datum=wgs84", centre_wgs.lng(), centre_wgs.lat())).await;
    assert_eq!(v["grid"]["code"], "44060401000103", "{v}");
    let shifted = (v["gcj02"]["lng"].as_f64().expect("lng") - centre_wgs.lng()).abs();
    assert!(shifted > 0.001, "GCJ-02 offset applied: {shifted}");

    // Export, then redraw both original grids with replace.
    let redraw = collection(vec![
        feature("44060401000101", square(x, y, 0.0015)),
        feature("44060401000102", square(x + 0.0015, y, 0.0025)),
    ]);
    let (s, v) = import(&app, &token, "?datum=gcj02&replace=true", redraw).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["replaced"].as_u64(), Some(2));
    let (_, v) = app.get(&format!("/api/v1/locate?lng={}&lat={}&datum=gcj02", x + 0.0017, y + 0.001)).await;
    assert_eq!(v["grid"]["code"], "44060401000102");
    // The change record is the district auditor's to read (三权分立).
    let auditor = civgrid::staff::NewStaff {
        username: "auditor".into(),
        display_name: "审计员".into(),
        password: civgrid::demo::DEMO_PASSWORD.into(),
        department_code: None,
        roles: vec![civgrid::staff::RoleGrant { role: civgrid::staff::Role::Auditor, area_code: "440604".into() }],
    };
    app.state.staff.create(&Actor::system("test"), auditor, None).await.expect("auditor");
    let auditor = app.login("auditor").await;
    let (_, changes) = app.get_as("/api/v1/admin/changes?entity=grid&entity_id=44060401000101", &auditor).await;
    assert_eq!(changes["changes"][0]["action"], "grid.replace");
    assert!(changes["changes"][0]["before"]["geometry_sha256"].is_string());
}
both_backends!(good_files_import_and_route);

async fn bad_files_are_refused_whole_with_a_report(b: Backend) {
    let (app, token, (x, y)) = district_only(b).await;
    let ok = collection(vec![feature("44060401000101", square(x, y, 0.002))]);
    assert_eq!(import(&app, &token, "?datum=gcj02", ok).await.0, StatusCode::OK);
    let grids = app.count("grid").await;
    let changes = app.count("change_record").await;
    let areas = app.count("area").await;

    let bowtie = json!({"type": "Polygon", "coordinates": [[[x, y + 0.01], [x + 0.002, y + 0.012], [x + 0.002, y + 0.01], [x, y + 0.012], [x, y + 0.01]]]});
    let mut unknown = feature("44060401000105", square(x, y + 0.02, 0.001));
    unknown["properties"]["colour"] = json!("red");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("?datum=gcj02", b"{\"type\": \"FeatureCollection\", \"features\": [".to_vec(), "invalid_json"),
        ("?datum=gcj02", b"{\"type\": \"Point\", \"coordinates\": [1, 2]}".to_vec(), "not_a_feature_collection"),
        ("?datum=gcj02", collection(vec![feature("44060401000102", bowtie)]), "invalid_geometry"),
        ("?datum=gcj02", collection(vec![feature("44060401000102", square(x + 0.001, y + 0.001, 0.002))]), "overlaps_existing_grid"),
        (
            "?datum=gcj02",
            collection(vec![feature("44060401000102", square(x, y + 0.01, 0.002)), feature("44060401000103", square(x + 0.001, y + 0.01, 0.002))]),
            "grid_overlap",
        ),
        ("?datum=gcj02", collection(vec![feature("44060401000102", square(116.39, 39.9, 0.002))]), "outside_district"),
        ("?datum=gcj02", collection(vec![feature("44060501000102", square(x, y + 0.03, 0.001))]), "outside_district"),
        ("?datum=gcj02", collection(vec![unknown]), "unknown_property"),
        ("?datum=gcj02", collection(vec![feature("4406040100010", square(x, y + 0.03, 0.001))]), "wrong_code_level"),
        ("?datum=gcj02", collection(vec![feature("44060401000101", square(x, y + 0.03, 0.001))]), "grid_exists"),
        (
            "?datum=gcj02",
            collection(vec![feature("44060401000107", square(x, y + 0.03, 0.001)), feature("44060401000107", square(x, y + 0.04, 0.001))]),
            "duplicate_code",
        ),
        ("?datum=gcj02", collection(vec![feature("44060401000102", square(x, 95.0, 0.001))]), "coordinate_out_of_range"),
        ("?datum=gcj02", collection(vec![feature("44060401000102", json!({"type": "Point", "coordinates": [x, y]}))]), "unsupported_geometry"),
        (
            "?datum=gcj02",
            json!({"type": "FeatureCollection", "datum": "bd09", "features": [feature("44060401000102", square(x, y + 0.03, 0.001))]}).to_string().into_bytes(),
            "datum_mismatch",
        ),
    ];
    for (query, body, expected) in cases {
        let got = import(&app, &token, query, body).await;
        assert_eq!(got.0, StatusCode::UNPROCESSABLE_ENTITY, "{expected}: {}", got.1);
        assert_eq!(got.1["error"]["code"], "import_refused");
        let codes = problem_codes(&got.1);
        assert!(codes.iter().any(|c| c == expected), "expected {expected}, got {codes:?}: {}", got.1);
        let first = &got.1["error"]["details"]["problems"][0];
        assert!(first["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Problems name the feature they are about.
    let got = import(
        &app,
        &token,
        "?datum=gcj02",
        collection(vec![
            feature("44060401000109", square(x, y + 0.05, 0.001)),
            feature("44060401000102", square(116.39, 39.9, 0.002)),
        ]),
    )
    .await;
    assert_eq!(got.1["error"]["details"]["problems"][0]["feature"], 1, "{}", got.1);

    let got = import(&app, &token, "", collection(vec![feature("44060401000102", square(x, y + 0.03, 0.001))])).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "missing_datum");
    let got = import(&app, &token, "?datum=mars", collection(vec![])).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "unknown_datum");
    let got = app
        .send_raw("POST", "/api/v1/admin/grids/import?datum=gcj02", None, "application/geo+json", b"{}".to_vec())
        .await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthenticated");

    assert_eq!(app.count("grid").await, grids, "nothing imported");
    assert_eq!(app.count("change_record").await, changes, "nothing recorded");
    assert_eq!(app.count("area").await, areas, "no areas created");
}
both_backends!(bad_files_are_refused_whole_with_a_report);
