//! Open311 GeoReport v2 intake (http://wiki.open311.org/GeoReport_v2): the API keys that
//! third-party apps file service requests with, and the mapping between GeoReport's vocabulary
//! and civgrid's cases.
//!
//! * Keys: only the SHA-256 of a key is stored; the key is shown once when issued. Issuing and
//!   revoking are recorded in the change record.
//! * Service requests are cases of channel `open311`, reported by `open311:<key name>`; the key
//!   is the case's reporter label (`open311:<key name>`); the `media_url` a client sent is kept on the case.
//! * A case is `open` or `closed` as [`State::is_open`] says; `status_notes` carries the Chinese
//!   stage label and, for refused or merged cases, why.
//!
//! Handlers and the JSON/XML rendering live in `web/open311.rs`; the key service in `keys.rs`,
//! over the one bearer-token mechanism ([`crate::tokens`]).

mod keys;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::cases::public::PublicCase;
use crate::cases::state::State;
use crate::cases::{CaseClass, NewReport, MAX_DESCRIPTION_CHARS};
use civgrid_geo::{Datum, LngLat};
pub use keys::{hash_key, ApiKey, KeyError, KeyRow, Keys, DEMO_KEY_NAME, GENERATED_DEMO_KEY_NAME};

/// GET requests: the default and widest window (days), and the most requests returned.
pub const WINDOW_DAYS: i64 = 90;
pub const MAX_REQUESTS: i64 = crate::cases::public::MAX_ROWS;
/// Most comma-separated values accepted in one filter.
const MAX_LIST: usize = 1000;

/// What went wrong, in GeoReport's terms: the HTTP status (400, 403 or 404) and a description
/// for people.
#[derive(Debug, thiserror::Error)]
pub enum Open311Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A failure on our side; the spec answers it as a 400 "general service error".
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    /// Another failure on our side (e.g. writing the ledger entry), answered like `Store`.
    #[error("{0}")]
    Internal(String),
}

impl From<KeyError> for Open311Error {
    fn from(e: KeyError) -> Open311Error {
        match e {
            KeyError::Store(s) => Open311Error::Store(s),
            other => Open311Error::BadRequest(other.to_string()),
        }
    }
}

fn bad(msg: impl Into<String>) -> Open311Error {
    Open311Error::BadRequest(msg.into())
}

/// Shortens client text quoted back in an error.
fn quote(s: &str) -> String {
    let mut q: String = s.chars().filter(|c| !c.is_control()).take(40).collect();
    if s.chars().count() > 40 {
        q.push('…');
    }
    q
}

/// Request parameters (query string and form body). GeoReport's optional arguments are treated
/// as absent when empty; a parameter given several times counts as one comma-separated list.
#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Params {
        let mut map: HashMap<String, String> = HashMap::new();
        for (k, v) in pairs {
            match map.get_mut(&k) {
                Some(existing) if !v.trim().is_empty() => {
                    if !existing.trim().is_empty() {
                        existing.push(',');
                    }
                    existing.push_str(&v);
                }
                Some(_) => {}
                None => {
                    map.insert(k, v);
                }
            }
        }
        Params(map)
    }

    /// Adds the pairs of `other` whose names are not here yet.
    pub fn fill_from(&mut self, other: Params) {
        for (k, v) in other.0 {
            self.0.entry(k).or_insert(v);
        }
    }

    /// The trimmed value, or `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A comma-separated list, trimmed, empty items dropped.
    pub fn list(&self, name: &str) -> Result<Vec<String>, Open311Error> {
        let items: Vec<String> = self
            .get(name)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if items.len() > MAX_LIST {
            return Err(bad(format!("at most {MAX_LIST} values of {name} may be given at once")));
        }
        Ok(items)
    }
}

/// A datetime for GeoReport: W3C/ISO 8601 in China Standard Time, whole seconds
/// (e.g. `2026-11-22T09:30:00+08:00`).
pub fn w3c(t: &DateTime<Utc>) -> String {
    t.with_timezone(&crate::periods::cst()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// As stored in case_record (RFC 3339, UTC, milliseconds), so text comparison orders correctly.
fn stored_text(t: DateTime<Utc>) -> String {
    crate::db::at_text(&t)
}

/// Parses a start_date/end_date: the W3C profile of ISO 8601 with a time and a timezone
/// (`2010-01-01T00:00:00Z`, `…+08:00`, fractions of a second, or minutes only). A `+` that the
/// client forgot to percent-encode arrives as a space and is read as `+`.
pub fn parse_w3c(name: &str, raw: &str) -> Result<DateTime<Utc>, Open311Error> {
    let mut s = raw.trim().to_owned();
    if let Some(t) = s.find(['T', 't']) {
        if let Some(sp) = s[t..].find(' ') {
            s.replace_range(t + sp..t + sp + 1, "+");
        }
        // hh:mm without seconds: insert them.
        let time = &s.as_bytes()[t + 1..];
        let hhmm = time.len() >= 5
            && time[..5].iter().enumerate().all(|(i, b)| if i == 2 { *b == b':' } else { b.is_ascii_digit() })
            && time.get(5) != Some(&b':');
        if hhmm {
            s.insert_str(t + 6, ":00");
        }
    }
    DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        bad(format!(
            "{name} `{}` is not a W3C datetime with a timezone, e.g. 2010-01-01T00:00:00Z or 2010-01-01T08:00:00+08:00",
            quote(raw)
        ))
    })
}

/// Which cases GET requests asks for. `known_codes`: every service code there has been (a filter
/// naming one that never existed is refused rather than silently matching nothing).
pub fn requests_filter(
    p: &Params,
    known_codes: &[String],
    now: DateTime<Utc>,
) -> Result<crate::cases::public::PublicFilter, Open311Error> {
    use crate::cases::public::PublicFilter;
    let ids = p.list("service_request_id")?;
    if !ids.is_empty() {
        // "This overrides all other arguments." Ids that cannot exist simply match nothing.
        let ids: Vec<i64> = ids.iter().filter_map(|s| s.parse::<i64>().ok()).filter(|i| *i > 0).collect();
        return Ok(PublicFilter { ids: Some(ids), limit: MAX_REQUESTS, ..PublicFilter::default() });
    }
    let codes = p.list("service_code")?;
    if let Some(unknown) = codes.iter().find(|c| !known_codes.contains(c)) {
        return Err(bad(format!("service_code `{}` is not one of this jurisdiction's services", quote(unknown))));
    }
    let mut open = None;
    for s in p.list("status")? {
        let is_open = match s.to_ascii_lowercase().as_str() {
            "open" => true,
            "closed" => false,
            _ => return Err(bad(format!("status `{}` is not open or closed", quote(&s)))),
        };
        open = match open {
            None => Some(Some(is_open)),
            Some(Some(prev)) if prev != is_open => Some(None),
            same => same,
        };
    }
    let window = Duration::days(WINDOW_DAYS);
    let start = p.get("start_date").map(|s| parse_w3c("start_date", s)).transpose()?;
    let end = p.get("end_date").map(|s| parse_w3c("end_date", s)).transpose()?;
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => {
            if e < s {
                return Err(bad("end_date is before start_date"));
            }
            if e - s > window {
                return Err(bad(format!("start_date and end_date may not span more than {WINDOW_DAYS} days")));
            }
            (s, e)
        }
        (Some(s), None) => (s, s.checked_add_signed(window).unwrap_or(s)),
        (None, Some(e)) => (e.checked_sub_signed(window).unwrap_or(e), e),
        (None, None) => (now.checked_sub_signed(window).unwrap_or(now), now),
    };
    // Datetimes are shown to the second, so a whole-second end_date includes that second.
    let before = if end.timestamp_subsec_nanos() == 0 {
        end.checked_add_signed(Duration::seconds(1)).unwrap_or(end)
    } else {
        end.checked_add_signed(Duration::milliseconds(1)).unwrap_or(end)
    };
    Ok(PublicFilter {
        ids: None,
        class_codes: codes,
        created_from: Some(stored_text(start)),
        created_before: Some(stored_text(before)),
        open: open.flatten(),
        limit: MAX_REQUESTS,
    })
}

/// Longest values accepted from a POST (beyond the case's own limits).
const MAX_MEDIA_URL: usize = crate::cases::MAX_MEDIA_URL_CHARS;
const MAX_ADDRESS: usize = 200;
const MAX_EMAIL: usize = 90;
const MAX_PHONE: usize = 32;

/// A validated POST Service Request.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub report: NewReport,
}

fn coordinate(p: &Params, name: &str, max: f64) -> Result<Option<f64>, Open311Error> {
    let Some(raw) = p.get(name) else { return Ok(None) };
    let v: f64 = raw.parse().map_err(|_| bad(format!("{name} `{}` is not a number", quote(raw))))?;
    if !v.is_finite() || v.abs() > max {
        return Err(bad(format!("{name} {} is out of range (±{max} degrees, WGS-84)", quote(raw))));
    }
    Ok(Some(v))
}

fn printable(p: &Params, name: &str, max: usize) -> Result<Option<String>, Open311Error> {
    let Some(v) = p.get(name) else { return Ok(None) };
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(bad(format!("{name} must be at most {max} printable characters")));
    }
    Ok(Some(v.to_owned()))
}

/// Checks a POST Service Request for `class` (already known to exist) and turns it into a
/// report. Nothing is written here.
pub fn new_request(p: &Params, class: &CaseClass) -> Result<NewRequest, Open311Error> {
    let lat = coordinate(p, "lat", 90.0)?;
    let lng = coordinate(p, "long", 180.0)?;
    match (lat, lng) {
        (Some(_), Some(_)) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(bad("lat and long must be sent together (WGS-84 decimal degrees)"));
        }
        (None, None) if p.get("address_string").is_some() || p.get("address_id").is_some() => {
            return Err(bad(
                "this jurisdiction routes requests by position: address_string or address_id alone cannot be \
                 located; send lat and long (WGS-84) as well",
            ));
        }
        (None, None) => {
            return Err(bad("a location is required: send lat and long (WGS-84 decimal degrees)"));
        }
    }
    let raw = p.0.get("description").map(|d| d.trim()).unwrap_or("");
    let n = raw.chars().count();
    if n > MAX_DESCRIPTION_CHARS {
        return Err(bad(format!("description is {n} characters long; at most {MAX_DESCRIPTION_CHARS} are accepted")));
    }
    if raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(bad("description may contain line breaks but no other control characters"));
    }
    // The description is optional in GeoReport; a case needs one, so the service name stands in.
    let description = if raw.is_empty() { class.minor_name.clone() } else { raw.to_owned() };
    let address = printable(p, "address_string", MAX_ADDRESS)?;
    let first = printable(p, "first_name", 32)?;
    let last = printable(p, "last_name", 32)?;
    let reporter_name = match (first, last) {
        (None, None) => None,
        (Some(f), None) => Some(f),
        (None, Some(l)) => Some(l),
        // 张 + 三 → 张三; John + Smith → John Smith.
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => Some(format!("{f} {l}")),
        (Some(f), Some(l)) => Some(format!("{l}{f}")),
    };
    let email = printable(p, "email", MAX_EMAIL)?;
    if let Some(e) = &email {
        let ok = e.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
            && !e.chars().any(char::is_whitespace);
        if !ok {
            return Err(bad(format!("email `{}` is not an email address", quote(e))));
        }
    }
    let phone = printable(p, "phone", MAX_PHONE)?;
    let reporter_contact = match (email, phone) {
        (Some(e), Some(ph)) => Some(format!("{e}; {ph}")),
        (e, ph) => e.or(ph),
    };
    let media_url = printable(p, "media_url", MAX_MEDIA_URL)?;
    if media_url.as_deref().is_some_and(|u| !crate::cases::valid_media_url(u)) {
        return Err(bad("media_url must be an http:// or https:// URL with a host and no user name or password"));
    }
    Ok(NewRequest {
        report: NewReport {
            description,
            channel: Some("open311".into()),
            class_code: Some(class.code.clone()),
            lng,
            lat,
            datum: Some(Datum::Wgs84.as_str().into()),
            address,
            reporter_name,
            reporter_contact,
            idempotency_key: None,
            media_url,
        },
    })
}

/// What GeoReport's `service_notice` says of a class: its handling time limit.
pub fn service_notice(class_name: &str, time_limit: i64, unit: &str) -> String {
    let unit = if unit == "working_hours" { "个工作小时" } else { "个工作日" };
    format!("{class_name}：派遣后 {time_limit} {unit}内处置完毕")
}

/// `keywords` of a service: names and kind, comma-separated.
pub fn keywords(class: &CaseClass) -> String {
    let kind = if class.kind == "component" { "部件" } else { "事件" };
    format!("{},{},{kind}", class.minor_name, class.major_name)
}

/// One GeoReport service request.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: Option<String>,
    pub service_notice: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    /// WGS-84.
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

/// A public case as a GeoReport service request; the stored GCJ-02 point is given in WGS-84.
pub fn service_request(c: &PublicCase) -> ServiceRequest {
    let state = State::parse(&c.state).unwrap_or(State::Received);
    let mut notes = state.label_zh().to_owned();
    match state {
        State::Merged => {
            if let Some(n) = &c.duplicate_of_number {
                notes.push_str(&format!("：与受理编号 {n} 的诉求重复，一并处理"));
            }
            if let Some(note) = c.end_note.as_deref().filter(|n| !n.trim().is_empty()) {
                notes.push_str(&format!("（{}）", note.trim()));
            }
        }
        State::Refused => {
            if let Some(note) = c.end_note.as_deref().filter(|n| !n.trim().is_empty()) {
                notes.push_str(&format!("：{}", note.trim()));
            }
        }
        _ => {}
    }
    let point = match (c.lng, c.lat) {
        (Some(x), Some(y)) => {
            LngLat::new(x, y).ok().map(|p| civgrid_geo::datum::convert(p, Datum::Gcj02, Datum::Wgs84))
        }
        _ => None,
    };
    let updated = match (state, &c.closed_at) {
        (State::Closed, Some(closed)) => closed,
        _ => &c.updated_at,
    };
    ServiceRequest {
        service_request_id: c.id.to_string(),
        status: if state.is_open() { "open" } else { "closed" },
        status_notes: notes,
        service_name: c.class_name.clone(),
        service_code: c.class_code.clone(),
        description: c.description.clone(),
        agency_responsible: c.agency.clone(),
        service_notice: service_notice(&c.class_name, c.time_limit, &c.time_limit_unit),
        requested_datetime: w3c(&c.created_at),
        updated_datetime: w3c(updated),
        expected_datetime: c.handle_deadline.as_ref().map(w3c),
        address: c.address.clone(),
        // 1e-8° is about a millimetre: enough, without float noise in the last digits.
        lat: point.map(|p| (p.lat() * 1e8).round() / 1e8),
        long: point.map(|p| (p.lng() * 1e8).round() / 1e8),
        media_url: c.media_url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    fn class() -> CaseClass {
        CaseClass {
            code: "0101".into(),
            version: 1,
            kind: "event".into(),
            major_code: "01".into(),
            major_name: "市容环境".into(),
            minor_name: "暴露垃圾".into(),
            filing_criteria: "f".into(),
            closing_criteria: "c".into(),
            time_limit: 2,
            time_limit_unit: "working_hours".into(),
            department_code: "cgj".into(),
            duplicate_radius_m: 50.0,
            duplicate_window_hours: 72,
            self_handle_allowed: false,
            active: true,
        }
    }

    #[test]
    fn datetimes_in_the_w3c_profile() {
        let t = parse_w3c("d", "2010-01-01T00:00:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2010-01-01T00:00:00+00:00");
        assert_eq!(parse_w3c("d", "2010-01-01T08:00:00+08:00").unwrap(), t);
        assert_eq!(parse_w3c("d", "2010-01-01T08:00:00 08:00").unwrap(), t, "unencoded +");
        assert_eq!(parse_w3c("d", "2010-01-01T08:00+08:00").unwrap(), t, "minutes only");
        assert_eq!(parse_w3c("d", "2010-01-01T00:00Z").unwrap(), t);
        assert!(parse_w3c("d", "2010-01-01T00:00:00.250Z").is_ok());
        for bad in ["2010-01-01", "2010-01-01T00:00:00", "yesterday", "2010-13-01T00:00:00Z", "T", "2010-01-01T0"] {
            assert!(parse_w3c("start_date", bad).is_err(), "{bad}");
        }
        assert_eq!(w3c(&parse_w3c("d", "2026-11-22T01:02:03.456Z").unwrap()), "2026-11-22T09:02:03+08:00");
    }

    #[test]
    fn filters() {
        let now = Utc::now();
        let codes = vec!["0101".to_owned(), "0102".to_owned()];
        let f = requests_filter(&params(&[]), &codes, now).unwrap();
        assert_eq!(f.created_from, Some(stored_text(now - Duration::days(90))));
        assert_eq!(f.open, None);
        let f = requests_filter(&params(&[("status", "open,closed")]), &codes, now).unwrap();
        assert_eq!(f.open, None);
        let f = requests_filter(&params(&[("status", "closed"), ("service_code", "0101, 0102")]), &codes, now).unwrap();
        assert_eq!(f.open, Some(false));
        assert_eq!(f.class_codes, codes);
        let f = requests_filter(&params(&[("service_request_id", "3,x,4"), ("status", "bogus")]), &codes, now).unwrap();
        assert_eq!(f.ids, Some(vec![3, 4]), "ids override every other argument");
        assert!(requests_filter(&params(&[("status", "pending")]), &codes, now).is_err());
        assert!(requests_filter(&params(&[("service_code", "9999")]), &codes, now).is_err());
        let span = [("start_date", "2010-01-01T00:00:00Z"), ("end_date", "2010-06-01T00:00:00Z")];
        assert!(requests_filter(&params(&span), &codes, now).is_err());
        let reversed = [("start_date", "2010-02-01T00:00:00Z"), ("end_date", "2010-01-01T00:00:00Z")];
        assert!(requests_filter(&params(&reversed), &codes, now).is_err());
        let f = requests_filter(&params(&[("end_date", "2010-04-01T00:00:00Z")]), &codes, now).unwrap();
        assert_eq!(f.created_before.as_deref(), Some("2010-04-01T00:00:01.000Z"));
        assert_eq!(f.created_from.as_deref(), Some("2010-01-01T00:00:00.000Z"));
        let empty = requests_filter(&params(&[("status", ""), ("service_code", "")]), &codes, now).unwrap();
        assert_eq!(empty.open, None, "an empty optional argument is an absent one");
    }

    #[test]
    fn post_validation() {
        let ok = params(&[("lat", "23.03"), ("long", "113.11"), ("first_name", "三"), ("last_name", "张")]);
        let r = new_request(&ok, &class()).unwrap();
        assert_eq!(r.report.description, "暴露垃圾", "the service name stands in for a missing description");
        assert_eq!(r.report.reporter_name.as_deref(), Some("张三"));
        assert_eq!(r.report.datum.as_deref(), Some("wgs84"));
        let latin = params(&[("lat", "23"), ("long", "113"), ("first_name", "John"), ("last_name", "Smith")]);
        assert_eq!(new_request(&latin, &class()).unwrap().report.reporter_name.as_deref(), Some("John Smith"));
        let long = "字".repeat(4001);
        for bad in [
            vec![("lat", "23.03")],
            vec![("address_string", "祖庙路 1 号")],
            vec![],
            vec![("lat", "abc"), ("long", "113")],
            vec![("lat", "NaN"), ("long", "113")],
            vec![("lat", "91"), ("long", "113")],
            vec![("lat", "23"), ("long", "inf")],
            vec![("lat", "23"), ("long", "113"), ("description", long.as_str())],
            vec![("lat", "23"), ("long", "113"), ("description", "a\u{7}b")],
            vec![("lat", "23"), ("long", "113"), ("email", "not-an-email")],
            vec![("lat", "23"), ("long", "113"), ("media_url", "javascript:alert(1)")],
        ] {
            assert!(new_request(&params(&bad), &class()).is_err(), "{bad:?}");
        }
        let exactly = "字".repeat(4000);
        assert!(new_request(&params(&[("lat", "23"), ("long", "113"), ("description", &exactly)]), &class()).is_ok());
    }

    #[test]
    fn repeated_parameters_join() {
        let p = params(&[("status", "open"), ("status", ""), ("status", "closed")]);
        assert_eq!(p.get("status"), Some("open,closed"));
        assert_eq!(params(&[("x", " ")]).get("x"), None);
    }
}
