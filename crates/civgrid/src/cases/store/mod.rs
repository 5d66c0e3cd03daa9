//! SQL for the case loop.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::indicators::{next_prefix, Scope};
use super::rollup::{Cell, Counts, Filed, INTEGER_COLUMNS};
use crate::db::{flag, now_text, Db, Dialect, Tx};
use crate::periods::Grain;

mod changes;
mod classes;
mod duplicates;
mod indicators;
mod records;
mod visibility;

pub use changes::*;
pub use classes::*;
pub use duplicates::*;
pub use indicators::*;
pub use records::*;
pub use visibility::*;
