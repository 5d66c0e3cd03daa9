//! Typed reading of the columns the Any driver cannot carry as their own type.

use sqlx::any::AnyRow;
use sqlx::Row;

/// A flag column (`integer`/`bigint` 0 or 1 on both backends, since the Any driver decodes no
/// SQLite boolean), or a flag computed by a query, as a `bool`: any value but 0 is true, as in
/// SQL's own `case when x then …`.
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}
