//! The authorization matrix (issue 14): every endpoint of the router × every role (from
//! `Role::ALL`, so a role added later is attacked too) and the anonymous caller × a scope that
//! holds the record (own area, department or grid), one that does not (a foreign subdistrict or
//! department) and the whole district, asserted against the written policy table [`POLICY`].
//!
//! The endpoint list is not retyped: [`routed`] reads the `.route("…", method(…))` calls of
//! `src/web/**/*.rs`, and `every_route_has_a_policy_row` fails when a routed (path, method) has
//! no row here, or (for the JSON API) no operation in the OpenAPI document — so an endpoint
//! cannot ship without saying who may call it.
//!
//! Each cell sends a well-formed request (a valid body for writes, so a refusal is never hidden
//! behind 422) against records seeded once per backend (see [`seed`]); within a row the callers
//! that must be refused go first, so a write that is served cannot change what a refusal sees.
//! Every failing cell is collected and printed at the end, grouped by endpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use civgrid::audit::Actor;
use civgrid::identity::ResidentId;
use civgrid::staff::{NewStaff, Role, RoleGrant};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

mod fixture;
mod policy;
mod scan;

use fixture::{call, callers, seed, Call, Caller, Fixture};
use policy::{expect, Expect, Who, POLICY};
use scan::{conforms, in_openapi_scope, route_of};

/// Where each cell's request comes from: its own address, so the anonymous budgets (reports,
/// applications, look-ups), which count per address, never refuse a cell.
static PEER: AtomicU64 = AtomicU64::new(1);

/// Sends one cell's request; the body of an event stream is not read (it never ends).
async fn send(app: &TestApp, c: &Call, token: Option<&str>) -> (StatusCode, String, Option<String>) {
    let n = PEER.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    let peer = SocketAddr::from(([10, n[5], n[6], n[7]], 40000));
    let mut req = Request::builder().method(c.method.to_uppercase().as_str()).uri(&c.uri).extension(ConnectInfo(peer));
    if let Some(t) = token {
        req = req
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::COOKIE, format!("civgrid_session={t}"));
    }
    for (k, v) in &c.headers {
        req = req.header(*k, v);
    }
    let body = match &c.body {
        Some((ct, bytes)) => {
            req = req.header(header::CONTENT_TYPE, *ct);
            Body::from(bytes.clone())
        }
        None => Body::empty(),
    };
    let resp = app.router.clone().oneshot(req.body(body).expect("request")).await.expect("router never fails");
    let status = resp.status();
    let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let stream =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if stream {
        return (status, String::new(), location);
    }
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned(), location)
}

/// Why a cell's answer breaks the policy, if it does.
fn judge(e: Expect, c: &Call, fx: &Fixture, status: StatusCode, body: &str, location: Option<&str>) -> Option<String> {
    let code = status.as_u16();
    if status.is_server_error() {
        return Some(format!("server error {code}"));
    }
    let personal: Vec<&str> = fx.personal.iter().filter(|p| body.contains(p.as_str())).map(String::as_str).collect();
    let shows_record = c.marker.as_ref().is_some_and(|m| body.contains(m.as_str()));
    let hidden = status == StatusCode::OK && c.marker.is_some() && !shows_record && personal.is_empty();
    let refusal = matches!(code, 401 | 403 | 404);
    match e {
        Expect::Unauthenticated if code == 401 => None,
        Expect::Refused if matches!(code, 403 | 404) || hidden => None,
        Expect::NoProof if refusal || hidden => None,
        Expect::ToLogin if code == 401 || location.is_some_and(|l| l.starts_with("/login")) => None,
        Expect::NotFound if code == 404 && personal.is_empty() => None,
        Expect::Served | Expect::ServedNoPersonal if refusal => Some(format!("refused {code}")),
        Expect::Served | Expect::ServedNoPersonal if c.marker.is_some() && !shows_record && status.is_success() => {
            Some(format!("served {code} without the record"))
        }
        Expect::ServedNoPersonal if !personal.is_empty() => Some(format!("shows personal data {personal:?}")),
        Expect::Served | Expect::ServedNoPersonal => None,
        _ if !personal.is_empty() && status.is_success() => Some(format!("served {code} with {personal:?}")),
        _ => Some(format!("answered {code}")),
    }
}

async fn the_authorization_matrix_holds(b: Backend) {
    let app = TestApp::demo(b).await;
    let fx = seed(&app).await;
    let staff = callers(&app).await;
    // Public rows are sent by the anonymous caller and two staff members, not all of them.
    let spot: Vec<&Caller> =
        staff.iter().filter(|c| c.role == Role::Witness || c.role == Role::WindowClerk).take(2).collect();
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cells = 0;
    for (method, path, who) in POLICY {
        let everyone = !matches!(who, Who::Anyone | Who::AnyoneNoPersonal | Who::Fallback);
        let chosen: Vec<Option<&Caller>> = std::iter::once(None)
            .chain(staff.iter().filter(|c| everyone || spot.iter().any(|s| std::ptr::eq(*s, *c))).map(Some))
            .collect();
        let mut plan: Vec<(Expect, Option<&Caller>)> =
            chosen.into_iter().map(|c| (expect(*who, c.map(|c| (c.role, c.scope))), c)).collect();
        // Refusals first: a served write cannot then change what a refusal sees.
        plan.sort_by_key(|(e, c)| {
            (matches!(e, Expect::Served | Expect::ServedNoPersonal), c.map(|c| (c.role, c.scope)))
        });
        // A write that can be made once (a delete, the re-issue of a revoked e-licence): the
        // served callers after the first find it done.
        let mut done = false;
        for (e, caller) in plan {
            let c = call(&fx, method, path, caller.is_none());
            let (status, body, location) = send(&app, &c, caller.map(|c| c.token.as_str())).await;
            cells += 1;
            let (once, done_answer) = match (*method, *path) {
                ("delete", _) => (true, StatusCode::NOT_FOUND),
                (_, "/api/v1/certificates") => (true, StatusCode::CONFLICT),
                _ => (false, StatusCode::OK),
            };
            let gone = once && done && e == Expect::Served && status == done_answer;
            done |= once && status.is_success();
            if gone {
                continue;
            }
            if let Some(why) = judge(e, &c, &fx, status, &body, location.as_deref()) {
                let who = caller.map_or("anonymous".to_owned(), |c| format!("{}/{:?}", c.role.as_str(), c.scope));
                let excerpt: String = body.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(100).collect();
                failures
                    .entry(format!("{} {path}", method.to_uppercase()))
                    .or_default()
                    .push(format!("{who}: expected {e:?}, {why} — {excerpt}"));
            }
        }
    }
    // The document describes what the server accepts: every well-formed body the matrix sent
    // conforms to the operation's request schema.
    for (method, path, _) in POLICY {
        let c = call(&fx, method, path, false);
        let Some(("application/json", bytes)) = &c.body else { continue };
        let route = route_of(path);
        if !in_openapi_scope(route) {
            continue;
        }
        let schema = civgrid::web::openapi::request_body(method, route)
            .map(|b| b["content"]["application/json"]["schema"].clone())
            .unwrap_or(Value::Null);
        let body: Value = serde_json::from_slice(bytes).expect("json body");
        let mut errors = Vec::new();
        conforms(&schema, &body, "body", &mut errors);
        if !errors.is_empty() {
            failures
                .entry(format!("{} {path} (OpenAPI request schema)", method.to_uppercase()))
                .or_default()
                .extend(errors);
        }
    }
    let report: Vec<String> =
        failures.iter().map(|(ep, cells)| format!("{ep}\n    {}", cells.join("\n    "))).collect();
    assert!(
        failures.is_empty(),
        "{} of {cells} cells break the access policy:\n{}",
        failures.values().map(Vec::len).sum::<usize>(),
        report.join("\n")
    );
}
both_backends!(the_authorization_matrix_holds);
