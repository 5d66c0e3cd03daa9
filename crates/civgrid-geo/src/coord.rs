//! Validated longitude/latitude pairs.
//!
//! Coordinates arrive from phones, GeoJSON files and query strings; validating them once into a
//! [`LngLat`] means every later computation (datum shifts, point location) can rely on finite,
//! in-range values instead of re-checking or, worse, silently producing NaN.

/// A longitude/latitude pair in degrees that is known to be finite and in range.
///
/// The fields are private so that an out-of-range value can never be constructed; the datum is
/// deliberately not part of the type because the same pair is reinterpreted while converting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LngLat {
    lng: f64,
    lat: f64,
}

/// Why a coordinate was rejected; the variants map to the stable API error codes in [`CoordError::code`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoordError {
    /// NaN or infinity: usually a client-side parsing bug, so the message says so plainly.
    #[error("coordinate is not a finite number")]
    NotFinite,
    /// Longitude outside [-180, 180]; a common cause is swapped longitude and latitude.
    #[error("longitude {0} is outside the range [-180, 180]")]
    LngOutOfRange(f64),
    /// Latitude outside [-90, 90]; a common cause is swapped longitude and latitude.
    #[error("latitude {0} is outside the range [-90, 90]")]
    LatOutOfRange(f64),
}

impl CoordError {
    /// Machine-readable code that API clients can match on; stable across releases, unlike the
    /// message.
    pub fn code(&self) -> &'static str {
        match self {
            CoordError::NotFinite => "coordinate_not_finite",
            CoordError::LngOutOfRange(_) | CoordError::LatOutOfRange(_) => "coordinate_out_of_range",
        }
    }
}

impl LngLat {
    /// Validates a pair: both finite, longitude in [-180, 180], latitude in [-90, 90] (bounds
    /// inclusive, because the antimeridian and the poles are legitimate positions).
    pub fn new(lng: f64, lat: f64) -> Result<LngLat, CoordError> {
        if !lng.is_finite() || !lat.is_finite() {
            return Err(CoordError::NotFinite);
        }
        if !(-180.0..=180.0).contains(&lng) {
            return Err(CoordError::LngOutOfRange(lng));
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(CoordError::LatOutOfRange(lat));
        }
        Ok(LngLat { lng, lat })
    }

    /// Longitude in degrees, east positive.
    pub fn lng(&self) -> f64 {
        self.lng
    }

    /// Latitude in degrees, north positive.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Builds a pair from arbitrary finite-or-not values by clamping into range, for results of
    /// datum formulas that may step a hair over the antimeridian or a pole; non-finite values
    /// fall back to `fallback` so a conversion can never produce an invalid [`LngLat`].
    pub(crate) fn clamped_or(lng: f64, lat: f64, fallback: LngLat) -> LngLat {
        if !lng.is_finite() || !lat.is_finite() {
            return fallback;
        }
        LngLat { lng: lng.clamp(-180.0, 180.0), lat: lat.clamp(-90.0, 90.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_and_messages() {
        assert_eq!(LngLat::new(f64::NAN, 0.0).unwrap_err().code(), "coordinate_not_finite");
        let e = LngLat::new(0.0, 91.0).unwrap_err();
        assert_eq!(e.code(), "coordinate_out_of_range");
        assert_eq!(e.to_string(), "latitude 91 is outside the range [-90, 90]");
        let e = LngLat::new(-180.5, 0.0).unwrap_err();
        assert_eq!(e.to_string(), "longitude -180.5 is outside the range [-180, 180]");
        assert!(LngLat::new(180.0, -90.0).is_ok());
        assert!(LngLat::new(f64::INFINITY, 0.0).is_err());
    }

    proptest! {
        #[test]
        fn new_accepts_exactly_the_valid_range(lng in proptest::num::f64::ANY, lat in proptest::num::f64::ANY) {
            let valid = lng.is_finite() && lat.is_finite()
                && (-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat);
            match LngLat::new(lng, lat) {
                Ok(p) => {
                    prop_assert!(valid);
                    prop_assert_eq!(p.lng().to_bits(), lng.to_bits());
                    prop_assert_eq!(p.lat().to_bits(), lat.to_bits());
                }
                Err(_) => prop_assert!(!valid),
            }
        }

        #[test]
        fn new_in_range_is_accepted(lng in -180.0f64..=180.0, lat in -90.0f64..=90.0) {
            prop_assert!(LngLat::new(lng, lat).is_ok());
        }
    }
}
