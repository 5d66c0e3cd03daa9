use axum::http::StatusCode;
use civgrid_geo::datum::convert;
use civgrid_geo::{Datum, LngLat, MultiPolygon};
use geo::{Coord, InteriorPoint, Intersects, Point};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};

/// The demo grids as exported: (code, geometry).
async fn exported_grids(app: &TestApp) -> Vec<(String, MultiPolygon<f64>)> {
    let (s, v) = app.get("/api/v1/grids.geojson").await;
    assert_eq!(s, StatusCode::OK);
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let code = f["properties"]["code"].as_str().expect("code").to_owned();
            let geom = civgrid_geo::import::parse_boundary(f["geometry"].to_string().as_bytes(), Datum::Gcj02)
                .expect("geometry");
            (code, geom)
        })
        .collect()
}

async fn locate(app: &TestApp, lng: f64, lat: f64, datum: &str) -> (StatusCode, Value) {
    app.get(&format!("/api/v1/locate?lng={lng}&lat={lat}&datum={datum}")).await
}

async fn demo_export_has_every_grid_with_code_and_name(b: Backend) {
    let app = TestApp::demo(b).await;
    let (_, v) = app.get("/api/v1/grids.geojson").await;
    assert_eq!(v["type"], "FeatureCollection");
    let features = v["features"].as_array().expect("features");
    assert_eq!(features.len(), 1046);
    for f in features {
        assert_eq!(f["properties"]["code"].as_str().map(str::len), Some(14));
        assert!(f["properties"]["name"].as_str().is_some_and(|n| n.ends_with("号网格")));
    }
    let (_, areas) = app.get("/api/v1/areas").await;
    let areas = areas["areas"].as_array().expect("areas");
    let level = |l: &str| areas.iter().filter(|a| a["level"] == l).count();
    assert_eq!((level("district"), level("subdistrict"), level("community")), (1, 4, 85));
    let names: Vec<&str> =
        areas.iter().filter(|a| a["level"] == "subdistrict").filter_map(|a| a["name"].as_str()).collect();
    for n in ["祖庙街道", "石湾镇街道", "张槎街道", "南庄镇"] {
        assert!(names.contains(&n), "{names:?}");
    }
}
both_backends!(demo_export_has_every_grid_with_code_and_name);

async fn every_grid_is_found_from_inside_in_every_datum(b: Backend) {
    let app = TestApp::demo(b).await;
    let grids = exported_grids(&app).await;
    // Every 7th grid, in each datum: the answer must be the grid the point is inside.
    for (code, shape) in grids.iter().step_by(7) {
        let p = shape.interior_point().expect("interior point");
        let gcj = LngLat::new(p.x(), p.y()).expect("in range");
        for datum in [Datum::Gcj02, Datum::Wgs84, Datum::Bd09] {
            let q = convert(gcj, Datum::Gcj02, datum);
            let (s, v) = locate(&app, q.lng(), q.lat(), datum.as_str()).await;
            assert_eq!(s, StatusCode::OK, "{code} via {datum}: {v}");
            assert_eq!(v["grid"]["code"], code.as_str(), "{datum}: {v}");
            assert_eq!(v["community"]["code"], &code[..12]);
            assert_eq!(v["subdistrict"]["code"], &code[..9]);
            assert_eq!(v["district"]["code"], "440604");
            assert_eq!(v["district"]["name"], "禅城区");
        }
    }
}
both_backends!(every_grid_is_found_from_inside_in_every_datum);

async fn a_point_on_a_shared_edge_goes_to_the_smallest_code(b: Backend) {
    let app = TestApp::demo(b).await;
    let grids = exported_grids(&app).await;
    let mut checked = 0;
    'grids: for (_, shape) in grids.iter().step_by(50) {
        let Some(poly) = shape.0.first() else { continue };
        for line in poly.exterior().lines() {
            let mid = Coord { x: (line.start.x + line.end.x) / 2.0, y: (line.start.y + line.end.y) / 2.0 };
            let holders: Vec<&String> =
                grids.iter().filter(|(_, g)| g.intersects(&Point::from(mid))).map(|(c, _)| c).collect();
            if holders.len() >= 2 {
                let smallest = holders.iter().min().expect("non-empty");
                let (s, v) = locate(&app, mid.x, mid.y, "gcj02").await;
                assert_eq!(s, StatusCode::OK, "{v}");
                assert_eq!(v["grid"]["code"], smallest.as_str(), "holders {holders:?}");
                checked += 1;
                continue 'grids;
            }
        }
    }
    assert!(checked >= 10, "found only {checked} shared edges");
}
both_backends!(a_point_on_a_shared_edge_goes_to_the_smallest_code);

async fn bad_points_get_precise_errors(b: Backend) {
    let app = TestApp::demo(b).await;
    // Beijing is a real place, just not ours.
    assert_error(&locate(&app, 116.397, 39.909, "gcj02").await, StatusCode::UNPROCESSABLE_ENTITY, "outside_territory");
    assert_error(&locate(&app, 113.1, 91.0, "wgs84").await, StatusCode::BAD_REQUEST, "coordinate_out_of_range");
    assert_error(&locate(&app, 181.0, 23.0, "wgs84").await, StatusCode::BAD_REQUEST, "coordinate_out_of_range");
    assert_error(&app.get("/api/v1/locate?lng=NaN&lat=23").await, StatusCode::BAD_REQUEST, "coordinate_not_finite");
    assert_error(&locate(&app, 113.1, 23.0, "utm").await, StatusCode::BAD_REQUEST, "unknown_datum");
    assert_error(&app.get("/api/v1/locate?lng=abc&lat=23").await, StatusCode::BAD_REQUEST, "invalid_query");
    assert_error(&app.get("/api/v1/locate?lng=113.1").await, StatusCode::BAD_REQUEST, "invalid_query");
    assert_error(&app.get("/api/v1/locate?lng=113.1&lat=23&radius=5").await, StatusCode::BAD_REQUEST, "invalid_query");
    assert_error(&app.get("/api/v1/grids/4406040100010").await, StatusCode::BAD_REQUEST, "wrong_code_level");
    assert_error(&app.get("/api/v1/grids/44060401000199").await, StatusCode::NOT_FOUND, "grid_not_found");
    assert_error(&app.get("/api/v1/areas/44060x").await, StatusCode::BAD_REQUEST, "invalid_code");
}
both_backends!(bad_points_get_precise_errors);

async fn an_empty_installation_says_so(b: Backend) {
    let app = TestApp::empty(b).await;
    assert_error(&locate(&app, 113.1, 23.0, "gcj02").await, StatusCode::SERVICE_UNAVAILABLE, "no_territory");
}
both_backends!(an_empty_installation_says_so);
