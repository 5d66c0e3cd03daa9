//! SQL for one-window services. Plain functions over the caller's transaction (or the pool for
//! reads that need none).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::catalogue::{item_type_name, ItemSpec, ServiceItem};
use chrono::{DateTime, Utc};

use crate::db::{at_text, flag, Db, Dialect, LocalTime, Tx};

mod applicants;
mod applications;
mod catalogue;
mod materials;
mod notices;
mod ratings;
mod statistics;
mod steps;

pub use applicants::*;
pub use applications::*;
pub use catalogue::*;
pub use materials::*;
pub use notices::*;
pub use ratings::*;
pub use statistics::*;
pub use steps::*;
