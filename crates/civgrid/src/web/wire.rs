//! Shapes shared by every context's request and response types: times on the wire.
//!
//! Times leave the server as RFC 3339 UTC with milliseconds (`2026-12-07T10:11:12.345Z`), the
//! text the tables store, so a client sees one format everywhere. Times arrive as RFC 3339 or as
//! a date meaning its local (China Standard Time) midnight.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serializer;

use super::error::{ApiError, ApiResult, ErrorCode};

/// `#[serde(serialize_with = "wire::at")]` on a `DateTime<Utc>` response field.
pub fn at<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::db::at_text(t))
}

/// `#[serde(serialize_with = "wire::at_opt")]` on an `Option<DateTime<Utc>>` response field.
pub fn at_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => at(t, s),
        None => s.serialize_none(),
    }
}

/// A query parameter that names an instant: RFC 3339, or `YYYY-MM-DD` meaning 00:00 China
/// Standard Time (UTC+8) that day. `name` is the parameter, for the error message.
pub fn instant(text: &str, name: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(ErrorCode::InvalidQuery, format!("`{name}` must be YYYY-MM-DD or RFC 3339"))
    })?;
    crate::periods::cst()
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::bad_request(ErrorCode::InvalidQuery, format!("`{name}` is not a local date")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_its_local_midnight_and_other_text_is_refused() {
        let t = instant("2026-11-01", "from").unwrap();
        assert_eq!(crate::db::at_text(&t), "2026-10-31T16:00:00.000Z");
        let t = instant("2026-11-01T08:00:00+08:00", "from").unwrap();
        assert_eq!(crate::db::at_text(&t), "2026-11-01T00:00:00.000Z");
        assert!(instant("2026-13-01", "to").is_err());
        assert!(instant("", "to").is_err());
    }
}
