use axum::http::StatusCode;
use civgrid::audit::Actor;
use civgrid::territory::ExistingGrids;
use civgrid_geo::Datum;

use crate::both_backends;
use crate::helpers::{assert_error, Backend, TestApp};
use serde_json::json;

/// Two civgrid nodes on one database: a grid imported through one is routed by the other on
/// the very next request (no node answers from stale geometry).
async fn a_second_node_sees_changes_at_once(b: Backend) {
    let a = TestApp::demo(b).await;
    let node_b = TestApp::node(a.place.clone()).await;
    let uri = "/api/v1/locate?lng=113.0&lat=23.0&datum=gcj02";
    let (_, v) = node_b.get("/api/v1/grids/44060401000101").await;
    let before_name = v["name"].as_str().expect("name").to_owned();
    // Warm node B's index.
    let _ = node_b.get(uri).await;

    a.state.territory.rename_grid(&Actor::system("test"), "44060401000101", "改名网格", None).await.expect("rename");
    let (_, v) = a.get("/api/v1/grids/44060401000101").await;
    assert_ne!(before_name, "改名网格");
    assert_eq!(v["name"], "改名网格");
    let exported = a.state.territory.export_geojson().await.expect("export");
    let feature = exported
        .features
        .iter()
        .find(|f| f.property("code").and_then(|c| c.as_str()) == Some("44060401000101"))
        .expect("grid");
    let geometry = feature.geometry.as_ref().expect("geometry");
    let p = civgrid_geo::import::parse_boundary(geometry.to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let ip = geo::InteriorPoint::interior_point(&p).expect("point");
    let (s, v) = node_b.get(&format!("/api/v1/locate?lng={}&lat={}&datum=gcj02", ip.x(), ip.y())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["grid"]["name"], "改名网格", "node B answers with node A's change");

    // A redraw through node B is routed by node A.
    let fc = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"44060401000101","name":"重画"}},"geometry":{}}}]}}"#,
        geometry
    );
    node_b
        .state
        .territory
        .import_grids(&Actor::system("test"), fc.as_bytes(), Datum::Gcj02, ExistingGrids::Replace, None)
        .await
        .expect("replace");
    let (_, v) = a.get(&format!("/api/v1/locate?lng={}&lat={}&datum=gcj02", ip.x(), ip.y())).await;
    assert_eq!(v["grid"]["name"], "重画");
}
both_backends!(a_second_node_sees_changes_at_once);

/// A node routes reports with the territory index and the classes it holds, checking them in
/// the read each report makes anyway: a class edited or a grid redrawn through another node is
/// honoured by the very next report here.
async fn a_node_reports_with_the_catalogue_and_territory_as_last_changed(b: Backend) {
    let a = TestApp::demo(b).await;
    let node_b = TestApp::node(a.place.clone()).await;
    let report = |lng: f64, lat: f64, n: u32| json!({"description": format!("暴露垃圾 {n}"), "class_code": "0101", "lng": lng, "lat": lat, "datum": "gcj02"});

    // A point of grid 44060401000101 away from its interior point.
    let (_, g) = a.get("/api/v1/grids/44060401000101").await;
    let exported = a.state.territory.export_geojson().await.expect("export");
    let geometry = exported
        .features
        .iter()
        .find(|f| f.property("code").and_then(|c| c.as_str()) == Some("44060401000101"))
        .and_then(|f| f.geometry.clone())
        .expect("geometry");
    let shape = civgrid_geo::import::parse_boundary(geometry.to_string().as_bytes(), Datum::Gcj02).expect("shape");
    let p = geo::InteriorPoint::interior_point(&shape).expect("point");
    let mut q = None;
    for (dx, dy) in [(5e-5, 0.0), (-5e-5, 0.0), (0.0, 5e-5), (0.0, -5e-5)] {
        let (x, y) = (p.x() + dx, p.y() + dy);
        let (_, v) = a.get(&format!("/api/v1/locate?lng={x}&lat={y}&datum=gcj02")).await;
        if v["grid"]["code"] == g["code"] {
            q = Some((x, y));
            break;
        }
    }
    let (qx, qy) = q.expect("a point of the grid next to its interior point");

    // Node B routes one report, so it holds the index and class 0101.
    let (s, v) = node_b.send_json("POST", "/api/v1/reports", None, &report(qx, qy, 1)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["case"]["grid_code"], "44060401000101");
    let first_version = v["case"]["class_version"].as_i64().expect("version");

    // Node A stops class 0101: node B refuses it at once.
    let admin = "test-admin";
    let mut class =
        a.state.cases.classes().await.expect("classes").into_iter().find(|c| c.code == "0101").expect("0101");
    class.active = false;
    a.state.cases.put_class(admin, class.clone()).await.expect("stop");
    let got = node_b.send_json("POST", "/api/v1/reports", None, &report(qx, qy, 2)).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "unknown_class");
    // … and files the next report under the version that restarts it.
    class.active = true;
    class.duplicate_radius_m = 80.0;
    let restarted = a.state.cases.put_class(admin, class).await.expect("restart");
    let (s, v) = node_b.send_json("POST", "/api/v1/reports", None, &report(qx, qy, 3)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["case"]["class_version"], restarted.version);
    assert!(restarted.version > first_version);
    // The first report is suggested as a duplicate of the third (same class, metres apart).
    assert!(v["duplicates"].as_array().expect("duplicates").iter().any(|d| d["number"].is_string()), "{v}");

    // Node A redraws the grid as a square of a metre or two around its interior point: the
    // point node B's index still puts in the grid is outside the territory now.
    let d = 1e-5;
    let square = json!({"type": "Polygon", "coordinates": [[
        [p.x() - d, p.y() - d], [p.x() + d, p.y() - d], [p.x() + d, p.y() + d], [p.x() - d, p.y() + d], [p.x() - d, p.y() - d]
    ]]});
    let fc = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"44060401000101","name":"缩小"}},"geometry":{square}}}]}}"#
    );
    a.state
        .territory
        .import_grids(&Actor::system("test"), fc.as_bytes(), Datum::Gcj02, ExistingGrids::Replace, None)
        .await
        .expect("redraw");
    let before = node_b.count("case_record").await;
    let got = node_b.send_json("POST", "/api/v1/reports", None, &report(qx, qy, 4)).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "outside_territory");
    assert_eq!(node_b.count("case_record").await, before, "a refused report writes nothing");
    let (s, v) = node_b.send_json("POST", "/api/v1/reports", None, &report(p.x(), p.y(), 5)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["case"]["grid_code"], "44060401000101");
}
both_backends!(a_node_reports_with_the_catalogue_and_territory_as_last_changed);
