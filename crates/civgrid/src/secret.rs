//! Secrets kept out of `Debug` output: a [`Secret`] value prints as `[redacted]`, and structs of
//! other contexts that hold one in a plain field print it through [`redacted`] (with `educe`).
//! Neither has `Display`, so a secret reaches a log line only through an explicit [`Secret::expose`].

use std::fmt;

/// A secret setting or credential: database URLs (they may carry a password), the Open311 demo
/// key, the webhook's HMAC secret.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

/// `Debug` of a secret field: `#[educe(Debug(method(crate::secret::redacted)))]`.
pub fn redacted<T: ?Sized>(_: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("[redacted]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let s: Secret = "hunter2-hunter2".parse().unwrap();
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2-hunter2");
        let from_toml: Secret = serde_json::from_str("\"hunter2-hunter2\"").unwrap();
        assert_eq!(from_toml, s);
    }

    /// The structs of other contexts that carry a secret in a plain field print it redacted.
    #[test]
    fn structs_holding_a_secret_print_it_redacted() {
        const SECRET: &str = "Sekret-Value-7731";
        let new_staff: crate::staff::NewStaff =
            serde_json::from_value(serde_json::json!({"username": "u", "display_name": "U", "password": SECRET}))
                .unwrap();
        let patch: crate::staff::StaffPatch = serde_json::from_value(serde_json::json!({"password": SECRET})).unwrap();
        let feedback: crate::services::ratings::FeedbackInput =
            serde_json::from_value(serde_json::json!({"access_key": SECRET, "result": "satisfied"})).unwrap();
        let once = crate::staff::OnceKey::new();
        let holder = crate::services::licences::Reader::Holder { key: SECRET };
        let url: crate::db::DatabaseUrl = format!("postgres://civ:{SECRET}@db/civ").parse().unwrap();
        let web = crate::web::WebSettings {
            request_timeout: std::time::Duration::from_secs(1),
            secure_cookies: false,
            hsts: false,
            notify: crate::notify::NotifySettings { webhook_secret: Some(SECRET.into()), ..Default::default() },
            map_tile_url: None,
            trusted_proxies: Vec::new(),
        };
        for printed in [
            format!("{new_staff:?}"),
            format!("{patch:?}"),
            format!("{feedback:?}"),
            format!("{holder:?}"),
            format!("{url:?}"),
            format!("{web:?}"),
        ] {
            assert!(!printed.contains(SECRET), "{printed}");
            assert!(printed.contains("[redacted]") || printed.contains("***"), "{printed}");
        }
        assert!(!format!("{once:?}").contains(&once.key), "{once:?}");
        assert!(format!("{new_staff:?}").contains("display_name"), "other fields still show");
    }
}
