//! Typed reading of the columns the Any driver cannot carry as their own type: flags stored as
//! 0/1 and timestamps stored as RFC 3339 text. Stores read them here, so domain code sees
//! `bool` and `DateTime<Utc>`, never the text.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A flag column (`integer`/`bigint` 0 or 1 on both backends, since the Any driver decodes no
/// SQLite boolean), or a flag computed by a query, as a `bool`: any value but 0 is true, as in
/// SQL's own `case when x then …`.
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// A timestamp column (RFC 3339 text on both backends, as [`at_text`] writes it).
pub fn at(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    parse_at(column, &text)
}

/// A nullable timestamp column.
pub fn at_opt(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| parse_at(column, &t)).transpose()
}

/// Stored timestamp text as a time; a value no writer of ours produces is a decode error
/// naming the column, never a default.
pub fn parse_at(column: &str, text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("not an RFC 3339 timestamp ({e}): {text:?}").into(),
    })
}

/// A time as every table stores it: RFC 3339 UTC with milliseconds, so text order is time order.
pub fn at_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_bad_text_names_its_column() {
        let t = parse_at("created_at", "2026-12-07T10:11:12.345Z").unwrap();
        assert_eq!(at_text(&t), "2026-12-07T10:11:12.345Z");
        // Another offset is the same instant, stored back in UTC.
        let t = parse_at("created_at", "2026-12-07T18:11:12.345+08:00").unwrap();
        assert_eq!(at_text(&t), "2026-12-07T10:11:12.345Z");
        let e = parse_at("closed_at", "yesterday").unwrap_err().to_string();
        assert!(e.contains("closed_at") && e.contains("yesterday"), "{e}");
    }
}
