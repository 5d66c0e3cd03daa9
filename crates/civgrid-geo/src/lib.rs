//! Pure geometry for civgrid.
//!
//! Everything here is free of I/O and of the database so that the web application, the importer
//! and the benchmark share one definition of what a valid grid is, which grid a point belongs to
//! and how a district outline is cut into grids.
//!
//! All stored geometry uses the GCJ-02 datum ([`datum::STORAGE_DATUM`]) with longitude/latitude
//! in degrees; inputs in other datums are converted at the boundary ([`datum::to_storage`]).

pub mod coord;
pub mod datum;
pub mod import;
pub mod locator;
pub mod measure;
pub mod partition;

pub use coord::{CoordError, LngLat};
pub use datum::Datum;
pub use geo::{MultiPolygon, Polygon};
pub use locator::Locator;
