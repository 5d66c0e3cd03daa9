//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, built from one
//! table of endpoints. A test sends a request to every documented operation and fails if the
//! router does not know it, so the document cannot list endpoints that do not exist.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::AppState;

/// (method, path, tag, summary, needs a token, success status).
pub const OPERATIONS: &[(&str, &str, &str, &str, bool, u16)] = &[
    ("get", "/healthz", "ops", "Process and database health", false, 200),
    ("get", "/metrics", "ops", "Prometheus metrics", false, 200),
    (
        "get",
        "/api/v1/locate",
        "territory",
        "Which grid, community, subdistrict and district a point is in (?lng&lat&datum)",
        false,
        200,
    ),
    ("get", "/api/v1/grids.geojson", "territory", "Every grid as a GeoJSON FeatureCollection (GCJ-02)", false, 200),
    ("get", "/api/v1/areas", "territory", "The area hierarchy", false, 200),
    ("get", "/api/v1/areas/{code}", "territory", "One area", false, 200),
    ("get", "/api/v1/grids/{code}", "territory", "One grid with geometry and grid workers", false, 200),
    ("post", "/api/v1/admin/areas", "territory", "Create a subdistrict or community", true, 201),
    ("patch", "/api/v1/admin/areas/{code}", "territory", "Rename an area", true, 200),
    (
        "post",
        "/api/v1/admin/grids/import",
        "territory",
        "Import a grid FeatureCollection, all or nothing (?datum&replace)",
        true,
        200,
    ),
    ("patch", "/api/v1/admin/grids/{code}", "territory", "Rename a grid", true, 200),
    (
        "put",
        "/api/v1/admin/grids/{code}/workers/{staff_id}",
        "territory",
        "Assign a grid worker (full_time or part_time)",
        true,
        200,
    ),
    ("delete", "/api/v1/admin/grids/{code}/workers/{staff_id}", "territory", "Remove a grid worker", true, 200),
    ("get", "/api/v1/admin/changes", "audit", "The change record, newest first", true, 200),
    ("post", "/api/v1/auth/login", "auth", "Sign in; returns a session token and sets the session cookie", false, 200),
    ("post", "/api/v1/auth/logout", "auth", "End the session", false, 204),
    ("get", "/api/v1/auth/me", "auth", "The signed-in caller", true, 200),
    ("get", "/api/v1/admin/departments", "staff", "Departments", true, 200),
    ("put", "/api/v1/admin/departments/{code}", "staff", "Create or change a department", true, 200),
    ("get", "/api/v1/admin/staff", "staff", "Staff accounts", true, 200),
    ("post", "/api/v1/admin/staff", "staff", "Create a staff account with roles", true, 201),
    ("get", "/api/v1/admin/staff/{id}", "staff", "One staff account", true, 200),
    ("patch", "/api/v1/admin/staff/{id}", "staff", "Change a staff account", true, 200),
    ("delete", "/api/v1/admin/staff/{id}/sessions", "staff", "End every session of an account", true, 200),
    ("post", "/api/v1/admin/api-tokens", "staff", "Issue an API token for a system", true, 201),
    ("delete", "/api/v1/admin/api-tokens/{id}", "staff", "Revoke an API token", true, 204),
    ("get", "/api/v1/case-classes", "cases", "The catalogue of event and component classes", false, 200),
    ("put", "/api/v1/admin/case-classes/{code}", "cases", "Add a new version of a class", true, 200),
    ("get", "/api/v1/admin/calendar", "cases", "Holidays and make-up working days", true, 200),
    ("put", "/api/v1/admin/calendar/{day}", "cases", "Mark a day as holiday or workday", true, 204),
    ("delete", "/api/v1/admin/calendar/{day}", "cases", "Remove a calendar exception", true, 204),
    ("get", "/api/v1/admin/last-resort", "cases", "Owners of last resort (兜底部门) per area", true, 200),
    ("put", "/api/v1/admin/last-resort/{area}", "cases", "Set an area's owner of last resort", true, 204),
    ("delete", "/api/v1/admin/last-resort/{area}", "cases", "Clear an area's owner of last resort", true, 204),
    ("post", "/api/v1/reports", "cases", "Report a problem (Idempotency-Key header supported)", false, 201),
    ("get", "/api/v1/cases", "cases", "Cases the caller may see (?state&limit)", true, 200),
    (
        "get",
        "/api/v1/map/cases",
        "cases",
        "Live cases with a place for the command map, as rows: {fields, cases} (?limit ≤ 20000)",
        true,
        200,
    ),
    ("get", "/api/v1/cases/{id}", "cases", "One case with departments, history and next actions", true, 200),
    ("post", "/api/v1/cases/{id}/transitions", "cases", "Move a case by one action", true, 200),
    (
        "post",
        "/api/v1/public/cases/{number}/rating",
        "cases",
        "The reporter rates their closed case (评价, 1–5), proven by the contact left with the report",
        false,
        201,
    ),
    (
        "post",
        "/api/v1/public/cases/{number}/photos",
        "cases",
        "The reporter attaches a photo within 24 h of reporting, with the key the report gave (X-Photo-Key)",
        false,
        201,
    ),
    ("get", "/api/v1/cases/{id}/photos", "cases", "Photos of a case", true, 200),
    ("post", "/api/v1/cases/{id}/photos", "cases", "Attach a photo (image/jpeg|png|webp body, ≤ 5 MiB)", true, 201),
    ("get", "/api/v1/cases/{id}/photos/{photo_id}", "cases", "A photo's bytes", true, 200),
    ("get", "/api/v1/indicators", "cases", "Evaluation indicators (?scope&from&to)", true, 200),
    ("get", "/api/v1/events", "cases", "Server-sent events for the caller's cases", true, 200),
    ("get", "/ledger/checkpoint", "ledger", "Latest C2SP signed (and cosigned) checkpoint", false, 200),
    ("get", "/ledger/vkey", "ledger", "Signed-note verifier keys of the log and the certificate issuer", false, 200),
    ("get", "/ledger/trust", "ledger", "Trust file: origin, log/issuer keys, witnesses and quorum", false, 200),
    ("get", "/ledger/tile/{tile_path}", "ledger", "C2SP tlog-tiles hash tile or entry bundle", false, 200),
    ("get", "/api/v1/ledger/proof/inclusion", "ledger", "RFC 9162 inclusion proof (?index&size)", false, 200),
    ("get", "/api/v1/ledger/proof/consistency", "ledger", "RFC 9162 consistency proof (?old&new)", false, 200),
    (
        "get",
        "/api/v1/ledger/entries/{kind}/{ref}",
        "ledger",
        "Where a record sits in the log, with its proof",
        false,
        200,
    ),
    ("post", "/api/v1/certificates", "certificates", "Issue a certificate or e-licence (approver, admin)", true, 201),
    ("get", "/api/v1/certificates/{number}", "certificates", "A stored certificate (staff)", true, 200),
    ("post", "/api/v1/certificates/{number}/revoke", "certificates", "Revoke (issuing department or admin)", true, 200),
    (
        "get",
        "/api/v1/certificates/{number}/bundle",
        "certificates",
        "The verifiable bundle (signature, proof, cosigned checkpoint)",
        false,
        200,
    ),
    (
        "get",
        "/api/v1/certificates/{number}/check",
        "certificates",
        "Verify the current bundle of a number (QR target)",
        false,
        200,
    ),
    ("get", "/api/v1/certificates/{number}/qr.svg", "certificates", "QR code of the verification page", false, 200),
    ("post", "/api/v1/certificates/verify", "certificates", "Verify an uploaded bundle (≤ 1 MiB)", false, 200),
    (
        "get",
        "/api/v1/service-items",
        "services",
        "The service item catalogue (newest version of each item)",
        false,
        200,
    ),
    ("get", "/api/v1/service-items/{code}", "services", "One service item (?version)", false, 200),
    (
        "post",
        "/api/v1/admin/service-items",
        "services",
        "Add a new version of a service item (district admin)",
        true,
        201,
    ),
    (
        "post",
        "/api/v1/admin/service-deadlines/sweep",
        "services",
        "Warn and mark overdue applications now (district admin)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/service-applications",
        "services",
        "Apply: at a window (clerk token) or online (no token); accepted (201) or a missing-materials notice (200)",
        false,
        201,
    ),
    ("get", "/api/v1/service-applications", "services", "Applications the caller may see (?state&limit)", true, 200),
    (
        "get",
        "/api/v1/service-applications/{number}",
        "services",
        "An application: staff by scope, or the applicant with ?id_number",
        false,
        200,
    ),
    (
        "post",
        "/api/v1/service-applications/{number}/decisions",
        "services",
        "Decide the caller's department's step against its checklist (approver)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/service-applications/{number}/suspend",
        "services",
        "Suspend for a special step (approver)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/service-applications/{number}/resume",
        "services",
        "Resume after a special step (approver)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/service-refusals",
        "services",
        "Refuse to accept (不予受理) with a reason (window clerk)",
        true,
        201,
    ),
    (
        "get",
        "/api/v1/service-notices/{number}",
        "services",
        "A missing-materials or refusal notice as a printable HTML document (?format=json)",
        false,
        200,
    ),
    (
        "get",
        "/api/v1/applicants/{id_number}/licences",
        "services",
        "An applicant's e-licence library (service staff, or ?application_number)",
        false,
        200,
    ),
    (
        "get",
        "/api/v1/applicants/{id_number}/applications",
        "services",
        "The applicant's own applications (?application_number proves the ID number)",
        false,
        200,
    ),
    ("post", "/api/v1/service-ratings", "services", "Rate an application or a window visit (好差评, 1–5)", false, 201),
    ("get", "/api/v1/service-rectifications", "services", "Rectification tasks of bad ratings", true, 200),
    (
        "post",
        "/api/v1/service-rectifications/{id}/reply",
        "services",
        "Reply and record the callback (responsible unit)",
        true,
        200,
    ),
    ("post", "/api/v1/service-rectifications/{id}/feedback", "services", "The applicant rates the fix", false, 200),
    (
        "post",
        "/api/v1/service-rectifications/{id}/appeal",
        "services",
        "Appeal a mistaken rating (responsible unit)",
        true,
        200,
    ),
    ("post", "/api/v1/service-rectifications/{id}/appeal-decision", "services", "Decide an appeal (admin)", true, 200),
    (
        "get",
        "/api/v1/service-statistics",
        "services",
        "Statistics per item, department, window or clerk (?by&from&to&department)",
        true,
        200,
    ),
    ("get", "/api/v1/openapi.json", "ops", "This document", false, 200),
];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(document()) }))
}

/// Builds the document from [`OPERATIONS`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary, auth, status) in OPERATIONS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "tags": [tag],
            "summary": summary,
            "operationId": format!("{method}_{}", path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
            "responses": {
                status.to_string(): {"description": "success"},
                "4XX": {"description": "client error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "5XX": {"description": "server error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if *auth {
            op["security"] = json!([{"bearer": []}, {"cookie": []}]);
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "civgrid API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Grid governance, one-window services and a trust ledger for a district. Error codes: docs/API-DESIGN.md."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "session token (cgs_…) or API token (cgt_…)"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "civgrid_session"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "stable snake_case code"},
                    "message": {"type": "string"},
                    "details": {},
                }}}},
            },
        },
    })
}
