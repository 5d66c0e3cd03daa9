use axum::http::StatusCode;
use civgrid::audit::Actor;
use civgrid::territory::ExistingGrids;
use civgrid_geo::Datum;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

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
