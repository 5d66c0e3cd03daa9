//! Geodetic datums that coordinates arrive in, and conversion to the storage datum.
//!
//! Chinese map services use offset datums: AMap and Tencent use GCJ-02, Baidu uses BD-09, while
//! GNSS receivers and most GIS files use WGS-84 (or CGCS2000, which differs from WGS-84 by
//! centimetres and is treated as an alias). Mixing them shifts points by hundreds of metres —
//! enough to put a citizen's report in the neighbouring grid — so every input declares its datum
//! and is converted to [`STORAGE_DATUM`] before it touches stored geometry.
//!
//! The arithmetic is delegated to the `coordtransform` crate. Its forward WGS-84 → GCJ-02
//! transform is only applied inside an approximate mainland-China mask; outside it GCJ-02 equals
//! WGS-84, as in the standard algorithm. BD-09 is a fixed analytic transform of GCJ-02.

use std::fmt;
use std::str::FromStr;

use crate::coord::LngLat;

/// A horizontal datum for longitude/latitude input and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datum {
    /// WGS-84 as reported by GNSS; also used for CGCS2000 (the national datum), whose difference
    /// from WGS-84 is far below grid-assignment precision.
    Wgs84,
    /// The GCJ-02 offset datum mandated for published maps in China (AMap, Tencent); civgrid's
    /// storage datum.
    Gcj02,
    /// Baidu's BD-09, a further offset of GCJ-02.
    Bd09,
}

/// The datum of every stored civgrid geometry. The district outlines we obtain are published in
/// GCJ-02 and so are the web maps used to draw grids, so storing in GCJ-02 means the common paths
/// need no conversion at all.
pub const STORAGE_DATUM: Datum = Datum::Gcj02;

/// Returned when a datum name is not recognised; the message lists the accepted names so an API
/// client can correct the request without reading the documentation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown datum {0:?}; accepted values are \"wgs84\", \"cgcs2000\" (treated as wgs84), \"gcj02\" and \"bd09\"")]
pub struct UnknownDatum(pub String);

impl Datum {
    /// The canonical lowercase name used in APIs, configuration and serialisation.
    pub fn as_str(&self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Datum {
    type Err = UnknownDatum;

    /// Case-insensitive because clients write "WGS84" and "wgs84" interchangeably; surrounding
    /// whitespace is not trimmed, so query strings must be exact apart from case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "wgs84" | "cgcs2000" => Ok(Datum::Wgs84),
            "gcj02" => Ok(Datum::Gcj02),
            "bd09" => Ok(Datum::Bd09),
            _ => Err(UnknownDatum(s.to_owned())),
        }
    }
}

impl serde::Serialize for Datum {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Datum {
    /// Accepts the same spellings as [`FromStr`] so JSON bodies and query strings agree.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Converts a point between datums.
///
/// Conversions always go through GCJ-02 (`from` → GCJ-02 → `to`), so that converting WGS-84 to
/// BD-09 gives the same result as doing the two steps separately, including outside China where
/// WGS-84 and GCJ-02 coincide.
///
/// Accuracy: the forward transforms (WGS-84 → GCJ-02 → BD-09) are closed-form. The inverses have
/// no closed form; `coordtransform` refines an initial estimate numerically, leaving a round-trip
/// residual below 1e-9° (about 0.1 mm), far below GNSS noise. Within a few hundred metres of the
/// approximate China mask the inverse may decide "inside/outside China" differently from the
/// forward transform and be off by the full GCJ-02 offset (up to ~700 m); civgrid territory is
/// well inside the mask. Results are clamped into the valid longitude/latitude range so the
/// BD-09 offset can never produce an invalid [`LngLat`] at the antimeridian.
pub fn convert(p: LngLat, from: Datum, to: Datum) -> LngLat {
    if from == to {
        return p;
    }
    let (lng, lat) = (p.lng(), p.lat());
    let gcj = match from {
        Datum::Gcj02 => (lng, lat),
        Datum::Wgs84 => coordtransform::wgs84_to_gcj02(lng, lat),
        Datum::Bd09 => coordtransform::bd09_to_gcj02(lng, lat),
    };
    let out = match to {
        Datum::Gcj02 => gcj,
        Datum::Wgs84 => coordtransform::gcj02_to_wgs84(gcj.0, gcj.1),
        Datum::Bd09 => coordtransform::gcj02_to_bd09(gcj.0, gcj.1),
    };
    LngLat::clamped_or(out.0, out.1, p)
}

/// Converts a point from its declared datum to [`STORAGE_DATUM`]; the one conversion every input
/// path needs before locating or storing a point.
pub fn to_storage(p: LngLat, from: Datum) -> LngLat {
    convert(p, from, STORAGE_DATUM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_names() {
        assert_eq!("WGS84".parse::<Datum>(), Ok(Datum::Wgs84));
        assert_eq!("cgcs2000".parse::<Datum>(), Ok(Datum::Wgs84));
        assert_eq!("Gcj02".parse::<Datum>(), Ok(Datum::Gcj02));
        assert_eq!("bd09".parse::<Datum>(), Ok(Datum::Bd09));
        let err = "utm".parse::<Datum>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("wgs84") && msg.contains("gcj02") && msg.contains("bd09"));
        assert!(msg.contains("cgcs2000"));
        assert_eq!(Datum::Bd09.to_string(), "bd09");
    }

    #[test]
    fn serde_round_trip() {
        for d in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
            let s = serde_json::to_string(&d).unwrap();
            assert_eq!(s, format!("\"{}\"", d.as_str()));
            assert_eq!(serde_json::from_str::<Datum>(&s).unwrap(), d);
        }
        assert_eq!(serde_json::from_str::<Datum>("\"CGCS2000\"").unwrap(), Datum::Wgs84);
        assert!(serde_json::from_str::<Datum>("\"nad83\"").is_err());
    }

    #[test]
    fn known_offsets() {
        // Foshan: the GCJ-02 offset there is a few hundred metres south-east.
        let wgs = LngLat::new(113.1, 23.0).unwrap();
        let gcj = convert(wgs, Datum::Wgs84, Datum::Gcj02);
        let shift = ((gcj.lng() - wgs.lng()).powi(2) + (gcj.lat() - wgs.lat()).powi(2)).sqrt();
        assert!(shift > 0.002 && shift < 0.01, "shift {shift}");
        // Outside China the datums coincide.
        let paris = LngLat::new(2.35, 48.85).unwrap();
        assert_eq!(convert(paris, Datum::Wgs84, Datum::Gcj02), paris);
        assert_eq!(to_storage(gcj, Datum::Gcj02), gcj);
    }

    #[test]
    fn extreme_points_stay_valid() {
        for (lng, lat) in [(180.0, 90.0), (-180.0, -90.0), (180.0, 0.0), (0.0, 90.0)] {
            let p = LngLat::new(lng, lat).unwrap();
            for from in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
                for to in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
                    let q = convert(p, from, to);
                    assert!(LngLat::new(q.lng(), q.lat()).is_ok());
                }
            }
        }
    }

    proptest! {
        // The box stays well inside the mainland mask: near its edge the inverse can legitimately
        // disagree with the forward transform (see `convert`).
        #[test]
        fn round_trips_inside_china(lng in 104.0f64..116.0, lat in 26.0f64..40.0) {
            let p = LngLat::new(lng, lat).unwrap();
            for d in [Datum::Wgs84, Datum::Bd09] {
                let there = convert(p, Datum::Gcj02, d);
                let back = convert(there, d, Datum::Gcj02);
                prop_assert!((back.lng() - lng).abs() < 1e-8 && (back.lat() - lat).abs() < 1e-8);
            }
        }
    }
}
