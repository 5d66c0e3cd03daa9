//! Who is asking (the client's address, through trusted proxies only) and how often anonymous
//! callers may write: per-address budgets for the endpoints anyone can call without signing in.
//!
//! The budgets are kept per node, in memory (GCRA, `governor`): they bound what one address can
//! make one node do, and N nodes behind a balancer allow at most N times the budget — a flood
//! stays a trickle, and no request pays a database write to be counted. Checks that guard a
//! secret (sign-in, a reporter's contact, an application's key) are counted in the database
//! instead, so every node sees every guess.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use super::AppState;

/// The client's address: the TCP peer, or — when the peer is one of the configured trusted
/// proxies — the last address in `X-Forwarded-For` that is not itself a trusted proxy. A client
/// cannot choose its address by sending the header, since an untrusted peer's header is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The address as text for logs and counters (`unknown` for in-process callers).
    pub fn label(&self) -> String {
        self.0.map(|a| a.to_string()).unwrap_or_else(|| "unknown".into())
    }

    /// Resolves the address from the peer and the forwarding header.
    pub fn resolve(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> ClientAddr {
        let Some(peer) = peer else { return ClientAddr(None) };
        if !trusted.contains(&peer) {
            return ClientAddr(Some(peer));
        }
        // Walk from the nearest hop outwards; the first address no trusted proxy vouches for
        // is the client. Anything unparsable ends the walk at the last trusted hop.
        let mut client = peer;
        if let Some(list) = forwarded_for {
            for hop in list.rsplit(',') {
                match hop.trim().parse::<IpAddr>() {
                    Ok(ip) => {
                        client = ip;
                        if !trusted.contains(&ip) {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        ClientAddr(Some(client))
    }
}

impl<S> FromRequestParts<S> for ClientAddr
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
        // Every field line, in order: HAProxy's `option forwardfor` adds its own line after any
        // the client sent, so reading only the first would take the client's word for it.
        let lines: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let forwarded = (!lines.is_empty()).then(|| lines.join(","));
        Ok(ClientAddr::resolve(peer, forwarded.as_deref(), &state.settings.trusted_proxies))
    }
}

/// What an anonymous caller may do, per address and node.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// Reports without a session (portal, kiosk, REST): a kiosk in a busy hall shares one
    /// address, so the budget is a busy hall's, not one person's.
    AnonymousReport,
    /// Online applications without a session.
    AnonymousApplication,
    /// Lookups of an application or a case by its number and a secret.
    AnonymousLookup,
}

impl Budget {
    /// (requests per minute, burst).
    fn quota(self) -> (u32, u32) {
        match self {
            Budget::AnonymousReport => (30, 30),
            Budget::AnonymousApplication => (20, 20),
            Budget::AnonymousLookup => (60, 30),
        }
    }
}

/// The node's budgets, one keyed limiter per [`Budget`].
#[derive(Debug)]
pub struct Limits {
    reports: DefaultKeyedRateLimiter<IpAddr>,
    applications: DefaultKeyedRateLimiter<IpAddr>,
    lookups: DefaultKeyedRateLimiter<IpAddr>,
    /// Checks since the limiters last forgot idle addresses.
    checks: AtomicU32,
}

fn limiter(budget: Budget) -> DefaultKeyedRateLimiter<IpAddr> {
    let (per_minute, burst) = budget.quota();
    let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    RateLimiter::keyed(quota)
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reports: limiter(Budget::AnonymousReport),
            applications: limiter(Budget::AnonymousApplication),
            lookups: limiter(Budget::AnonymousLookup),
            checks: AtomicU32::new(0),
        }
    }
}

impl Limits {
    /// Spends one unit of `budget` for `addr`; refuses with `429 too_many_requests` (and the
    /// seconds until the next unit) when it is spent. Callers without an address (in-process)
    /// share one budget.
    pub fn spend(&self, budget: Budget, addr: ClientAddr) -> Result<(), ApiError> {
        let key = addr.0.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let limiter = match budget {
            Budget::AnonymousReport => &self.reports,
            Budget::AnonymousApplication => &self.applications,
            Budget::AnonymousLookup => &self.lookups,
        };
        // Forget addresses whose budget is whole again, now and then, so the table stays small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.reports.retain_recent();
            self.applications.retain_recent();
            self.lookups.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            ApiError::too_many_requests(wait.as_secs().max(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_forwarding_header_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.1");
        // An untrusted peer's header is ignored: a client cannot pick its address.
        assert_eq!(ClientAddr::resolve(Some(ip("203.0.113.9")), Some("1.2.3.4"), &[proxy]).0, Some(ip("203.0.113.9")));
        // Through the proxy, the nearest untrusted hop is the client, not a spoofed first hop.
        assert_eq!(
            ClientAddr::resolve(Some(proxy), Some("1.2.3.4, 198.51.100.7"), &[proxy]).0,
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            ClientAddr::resolve(Some(proxy), Some("198.51.100.7, 10.0.0.2"), &[proxy, ip("10.0.0.2")]).0,
            Some(ip("198.51.100.7"))
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(ClientAddr::resolve(Some(proxy), Some("x, 10.0.0.1"), &[proxy]).0, Some(proxy));
        assert_eq!(ClientAddr::resolve(Some(proxy), None, &[proxy]).0, Some(proxy));
        assert_eq!(ClientAddr::resolve(None, Some("1.2.3.4"), &[proxy]).0, None);
    }

    #[test]
    fn a_budget_is_spent_per_address() {
        let limits = Limits::default();
        let a = ClientAddr(Some(ip("192.0.2.1")));
        let b = ClientAddr(Some(ip("192.0.2.2")));
        let (_, burst) = Budget::AnonymousReport.quota();
        for _ in 0..burst {
            limits.spend(Budget::AnonymousReport, a).unwrap();
        }
        let refused = limits.spend(Budget::AnonymousReport, a).unwrap_err();
        assert_eq!(refused.code.as_str(), "too_many_requests");
        limits.spend(Budget::AnonymousReport, b).unwrap();
        limits.spend(Budget::AnonymousApplication, a).unwrap();
    }
}
