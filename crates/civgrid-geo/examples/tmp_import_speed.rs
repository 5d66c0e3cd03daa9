use std::time::Instant;
use civgrid_geo::import::{parse_boundary, parse_grid_collection, to_geojson_geometry, check_against, ImportLimits};
use civgrid_geo::partition::partition_equal;
use civgrid_geo::measure::tiling_report;
use civgrid_geo::Datum;
fn main() {
    let d = parse_boundary(include_bytes!("../../../data/boundaries/440604.geojson"), Datum::Gcj02).unwrap();
    for n in [1046usize, 20000] {
        let t = Instant::now();
        let grids = partition_equal(&d, n);
        println!("partition {n}: {:?}", t.elapsed());
        let t = Instant::now();
        let r = tiling_report(&d, &grids);
        println!("tiling_report {n}: {:?} {r:?}", t.elapsed());
        let feats: Vec<_> = grids.iter().enumerate().map(|(i, g)| serde_json::json!({"type":"Feature","id":format!("G{i}"),"properties":{},"geometry": to_geojson_geometry(g)})).collect();
        let bytes = serde_json::to_vec(&serde_json::json!({"type":"FeatureCollection","features":feats})).unwrap();
        let t = Instant::now();
        let fs = parse_grid_collection(&bytes, Datum::Gcj02, &ImportLimits::default()).unwrap();
        println!("parse {n} ({} bytes): {:?}", bytes.len(), t.elapsed());
        let t = Instant::now();
        let p = check_against(&fs, &[], Some(&d));
        println!("check_against {n}: {:?} problems {}", t.elapsed(), p.len());
        for q in p.iter().take(3) { println!("  {q:?}"); }
    }
}
