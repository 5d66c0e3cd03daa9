//! SQL for the case loop.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::indicators::{next_prefix, Scope};
use super::rollup::{Cell, Counts, Filed, INTEGER_COLUMNS};
use crate::db::{at, at_opt, at_text, flag, now_text, Db, Dialect, Tx};
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
