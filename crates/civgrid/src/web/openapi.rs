//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, generated from the
//! handlers (`#[utoipa::path]` on each, registered with `utoipa_axum::routes!`, so what is routed
//! is what is documented) and their request and response types (`utoipa::ToSchema`,
//! `utoipa::IntoParams`). [`ApiDoc`] is the root: info, the security schemes, the error envelope;
//! [`ErrorResponses`] gives every operation the envelope for its 4xx and 5xx answers.
//!
//! Contexts not yet moved onto generated operations are still described by the table
//! [`OPERATIONS`] below; [`document`] adds them for the paths the generated part lacks.
//!
//! Tests keep it honest both ways: every documented operation is routed (tests/api/ops.rs),
//! and every routed JSON-API endpoint is documented (tests/api/matrix/scan.rs), and the
//! document is snapshotted (tests/api/openapi.rs).

use std::sync::OnceLock;

use axum::Json;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::ErrorEnvelope;

/// The root of the generated document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "civgrid API",
        description = "Grid governance, one-window services and a trust ledger for a district. Error codes: docs/API-DESIGN.md."
    ),
    components(schemas(ErrorEnvelope)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// `bearer` (session or API token) and `cookie` (the session cookie), as operations name them.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("session token (cgs_…) or API token (cgt_…)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(super::extract::SESSION_COOKIE))),
        );
    }
}

/// Every operation answers its errors with the one envelope ([`ErrorEnvelope`]); the codes and
/// their statuses are [`super::error::ErrorCode`].
pub struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let envelope =
            || ContentBuilder::new().schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Error")))).build();
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for op in ops.into_iter().flatten() {
                for (range, description) in [("4XX", "client error"), ("5XX", "server error")] {
                    op.responses.responses.entry(range.to_owned()).or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/json", envelope())
                                .build(),
                        )
                    });
                }
            }
        }
    }
}

/// The document: the generated operations, then the table's for paths not generated yet.
pub fn document() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut generated) = super::api_routes().split_for_parts();
        // After the routes are merged in: the root's own modifiers run before.
        ErrorResponses.modify(&mut generated);
        let mut doc = serde_json::to_value(&generated).unwrap_or_else(|_| json!({}));
        let legacy = legacy_document();
        let paths = doc["paths"].as_object_mut().map(std::mem::take).unwrap_or_default();
        let mut paths = paths;
        for (path, ops) in legacy["paths"].as_object().into_iter().flatten() {
            let entry = paths.entry(path.clone()).or_insert_with(|| json!({}));
            for (method, op) in ops.as_object().into_iter().flatten() {
                if entry.get(method).is_none() {
                    entry[method] = op.clone();
                }
            }
        }
        doc["paths"] = Value::Object(paths);
        doc
    })
    .clone()
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops", summary = "This document",
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Json<Value> {
    Json(document())
}

/// The request body schema of an operation, with every `$ref` replaced by its schema (for the
/// tests' schema check).
pub fn request_body(method: &str, path: &str) -> Option<Value> {
    let doc = document();
    let body = doc["paths"][path][method].get("requestBody")?.clone();
    Some(inline(&body, &doc["components"]["schemas"], 0))
}

fn inline(v: &Value, schemas: &Value, depth: usize) -> Value {
    match v {
        Value::Object(o) => {
            if let (Some(r), true) = (o.get("$ref").and_then(Value::as_str), depth < 32) {
                let name = r.trim_start_matches("#/components/schemas/");
                return inline(&schemas[name], schemas, depth + 1);
            }
            Value::Object(o.iter().map(|(k, v)| (k.clone(), inline(v, schemas, depth))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inline(v, schemas, depth)).collect()),
        other => other.clone(),
    }
}

/// (method, path, tag, summary, needs a token, success status).
pub const OPERATIONS: &[(&str, &str, &str, &str, bool, u16)] = &[
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
    (
        "get",
        "/api/v1/admin/changes",
        "audit",
        "The change record, newest first (the auditor of a district-level area)",
        true,
        200,
    ),
    (
        "get",
        "/api/v1/admin/access-records",
        "audit",
        "Who read which personal data (查阅留痕), newest first (the auditor of a district-level area)",
        true,
        200,
    ),
    ("post", "/api/v1/auth/login", "auth", "Sign in; returns a session token and sets the session cookie", false, 200),
    (
        "post",
        "/api/v1/auth/password",
        "auth",
        "Change one's own password with the old one, without a session (throttled as a sign-in; ends every session and API token)",
        false,
        204,
    ),
    ("post", "/api/v1/auth/logout", "auth", "End the session", false, 204),
    ("get", "/api/v1/auth/me", "auth", "The signed-in caller", true, 200),
    ("get", "/api/v1/admin/departments", "staff", "Departments (system and security admins)", true, 200),
    ("put", "/api/v1/admin/departments/{code}", "staff", "Create or change a department (system admin)", true, 200),
    ("get", "/api/v1/admin/staff", "staff", "Staff accounts of the caller's areas (system and security admins)", true, 200),
    (
        "post",
        "/api/v1/admin/staff",
        "staff",
        "Create a staff account without password or roles (system admin; the security admin gives those)",
        true,
        201,
    ),
    ("get", "/api/v1/admin/staff/{id}", "staff", "One staff account (system and security admins)", true, 200),
    (
        "patch",
        "/api/v1/admin/staff/{id}",
        "staff",
        "Change an account: name, department, active, grids (system admin); roles, one-time password (security admin)",
        true,
        200,
    ),
    (
        "delete",
        "/api/v1/admin/staff/{id}/sessions",
        "staff",
        "End every session of an account (security admin)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/admin/api-tokens",
        "staff",
        "Issue an API token for a system, valid 1–365 days (security admin)",
        true,
        201,
    ),
    ("delete", "/api/v1/admin/api-tokens/{id}", "staff", "Revoke an API token (security admin)", true, 204),
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
    ("get", "/ledger/tile/{tile_path}", "ledger", "C2SP tlog-tiles hash tile or entry bundle", false, 200),
    (
        "post",
        "/api/v1/certificates",
        "certificates",
        "Issue (again, after a revocation) the e-licence of an approved application (approver of the item's department)",
        true,
        201,
    ),
    (
        "get",
        "/api/v1/certificates/{number}",
        "certificates",
        "A stored certificate: the issuing department, or the holder with the application's access key (X-Access-Key)",
        false,
        200,
    ),
    (
        "post",
        "/api/v1/certificates/{number}/revoke",
        "certificates",
        "Revoke (issuing department, or an admin of its area)",
        true,
        200,
    ),
    (
        "get",
        "/api/v1/certificates/{number}/bundle",
        "certificates",
        "The verifiable bundle (signature, proof, cosigned checkpoint): the issuing department, or the holder with X-Access-Key",
        false,
        200,
    ),
    (
        "get",
        "/api/v1/certificates/{number}/check",
        "certificates",
        "Verify the current bundle of a number (QR target): validity only, nothing about the holder",
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
        "Apply: at a window (clerk token) or online (no token); accepted (201, with the access key, shown once) or a missing-materials notice (200)",
        false,
        201,
    ),
    ("get", "/api/v1/service-applications", "services", "Applications the caller may see (?state&limit)", true, 200),
    (
        "get",
        "/api/v1/service-applications/{number}",
        "services",
        "An application: staff by scope, or the applicant with the access key (X-Access-Key)",
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
        "An applicant's e-licence library by ID number (window clerks; recorded)",
        true,
        200,
    ),
    (
        "get",
        "/api/v1/applicants/{id_number}/applications",
        "services",
        "An applicant's applications by ID number (window clerks; recorded)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/service-ratings",
        "services",
        "Rate an application (with its access key) or a window visit (with the ID number) (好差评, 1–5)",
        false,
        201,
    ),
    ("get", "/api/v1/service-rectifications", "services", "Rectification tasks of bad ratings", true, 200),
    (
        "post",
        "/api/v1/service-rectifications/{id}/reply",
        "services",
        "Reply and record the callback (responsible unit)",
        true,
        200,
    ),
    (
        "post",
        "/api/v1/service-rectifications/{id}/feedback",
        "services",
        "The applicant rates the fix (proven as the rating was)",
        false,
        200,
    ),
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
];

/// The part of the document still built from [`OPERATIONS`].
fn legacy_document() -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary, auth, status) in OPERATIONS {
        let params = parameters(method, path);
        let mut op = json!({
            "tags": [tag],
            "summary": summary,
            "operationId": format!("{method}_{}", path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
            "responses": responses(method, path, *status),
        });
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(body) = legacy_request_body(method, path) {
            op["requestBody"] = body;
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

/// A JSON schema of an object with these required and optional properties; `closed` when the
/// server denies unknown fields (`#[serde(deny_unknown_fields)]` on the request type).
fn object(required: &[(&str, Value)], optional: &[(&str, Value)], closed: bool) -> Value {
    let mut props = Map::new();
    for (k, v) in required.iter().chain(optional) {
        props.insert((*k).to_owned(), v.clone());
    }
    let mut o = json!({"type": "object", "properties": props, "required": required.iter().map(|(k, _)| *k).collect::<Vec<_>>()});
    if closed {
        o["additionalProperties"] = json!(false);
    }
    o
}

fn string() -> Value {
    json!({"type": "string"})
}

fn nullable(v: Value) -> Value {
    json!({"anyOf": [v, {"type": "null"}]})
}

fn integer() -> Value {
    json!({"type": "integer", "format": "int64"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

fn roles() -> Value {
    json!({"type": "string", "enum": crate::staff::Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>()})
}

fn role_grants() -> Value {
    json!({"type": "array", "items": object(&[("role", roles()), ("area_code", string())], &[], true)})
}

fn applicant() -> Value {
    object(&[("id_number", string()), ("name", string())], &[("contact", nullable(string()))], true)
}

fn materials() -> Value {
    json!({"type": "array", "items": object(
        &[("code", string())],
        &[("medium", nullable(one_of(&["electronic", "paper", "either"]))), ("format", nullable(one_of(&["pdf", "jpg", "png", "ofd"]))),
          ("content_base64", nullable(json!({"type": "string", "contentEncoding": "base64"}))),
          ("copies", nullable(integer()))],
        true,
    )})
}

/// A path parameter: ids are integers; everything else is text.
fn path_parameter(name: &str) -> Value {
    let schema = match name {
        "id" | "staff_id" | "photo_id" => json!({"type": "integer", "format": "int64"}),
        "day" => json!({"type": "string", "format": "date"}),
        _ => string(),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

/// The path and query parameters of an operation (the handlers' `ApiQuery` types deny unknown
/// parameters: `400 invalid_query`).
fn parameters(method: &str, path: &str) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(path_parameter)
        .collect();
    let datum = one_of(&["wgs84", "cgcs2000", "gcj02", "bd09"]);
    let day_or_time = json!({"type": "string", "description": "YYYY-MM-DD (00:00 UTC+8) or RFC 3339"});
    let query: Vec<(&str, bool, Value)> = match (method, path) {
        ("get", "/api/v1/locate") => vec![
            ("lng", true, json!({"type": "number", "minimum": -180, "maximum": 180})),
            ("lat", true, json!({"type": "number", "minimum": -90, "maximum": 90})),
            ("datum", false, datum),
        ],
        ("post", "/api/v1/admin/grids/import") => vec![("datum", false, datum), ("replace", false, boolean())],
        ("get", "/api/v1/admin/changes") => vec![
            ("entity", false, string()),
            ("entity_id", false, string()),
            ("before_id", false, integer()),
            ("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 1000})),
        ],
        ("get", "/api/v1/admin/access-records") => vec![
            ("subject_kind", false, string()),
            ("subject", false, string()),
            ("actor", false, string()),
            ("before_id", false, integer()),
            ("limit", false, json!({"type": "integer", "minimum": 1, "maximum": 1000})),
        ],
        ("get", "/api/v1/cases" | "/api/v1/service-applications") => {
            vec![("state", false, string()), ("limit", false, integer())]
        }
        ("get", "/api/v1/map/cases") => vec![("limit", false, integer())],
        ("get", "/api/v1/indicators") => vec![
            ("scope", true, json!({"type": "string", "description": "area:CODE, department:CODE or person:STAFF_ID"})),
            ("from", true, day_or_time.clone()),
            ("to", true, day_or_time),
        ],
        ("get", "/api/v1/ledger/proof/inclusion") => {
            vec![
                ("index", true, json!({"type": "integer", "minimum": 0})),
                ("size", false, json!({"type": "integer", "minimum": 0})),
            ]
        }
        ("get", "/api/v1/ledger/proof/consistency") => {
            vec![
                ("old", true, json!({"type": "integer", "minimum": 0})),
                ("new", false, json!({"type": "integer", "minimum": 0})),
            ]
        }
        ("get", "/api/v1/service-items/{code}") => vec![("version", false, integer())],
        ("get", "/api/v1/service-notices/{number}") => vec![("format", false, one_of(&["json", "html"]))],
        ("get", "/api/v1/service-statistics") => vec![
            ("by", true, one_of(&["item", "department", "window", "clerk"])),
            ("from", true, day_or_time.clone()),
            ("to", true, day_or_time),
            ("department", false, json!({"type": "string", "maxLength": 32})),
        ],
        _ => vec![],
    };
    out.extend(
        query.into_iter().map(
            |(name, required, schema)| json!({"name": name, "in": "query", "required": required, "schema": schema}),
        ),
    );
    // The applicant's proof travels in a header, never in the address (which logs keep).
    if matches!(
        (method, path),
        (
            "get",
            "/api/v1/service-applications/{number}"
                | "/api/v1/certificates/{number}"
                | "/api/v1/certificates/{number}/bundle"
        )
    ) {
        out.push(json!({"name": "X-Access-Key", "in": "header", "required": false, "schema": string(),
                        "description": "the access key the application's acceptance handed out (once)"}));
    }
    if (method, path) == ("post", "/api/v1/public/cases/{number}/photos") {
        out.push(json!({"name": "X-Photo-Key", "in": "header", "required": true, "schema": string(),
                        "description": "the photo key the report answered"}));
    }
    out
}

/// What an operation's handler reads from the body, if anything.
fn legacy_request_body(method: &str, path: &str) -> Option<Value> {
    let json_body =
        |schema: Value| Some(json!({"required": true, "content": {"application/json": {"schema": schema}}}));
    let name = || object(&[("name", string())], &[], true);
    let photo = || {
        let binary = json!({"schema": {"type": "string", "format": "binary"}});
        Some(json!({"required": true, "content": {"image/jpeg": binary, "image/png": binary, "image/webp": binary}}))
    };
    match (method, path) {
        ("post", "/api/v1/admin/areas") => json_body(object(&[("code", string()), ("name", string())], &[], true)),
        ("patch", "/api/v1/admin/areas/{code}" | "/api/v1/admin/grids/{code}") => json_body(name()),
        ("post", "/api/v1/admin/grids/import") => Some(json!({"required": true, "content": {
            "application/geo+json": {"schema": {"type": "object", "description": "a GeoJSON FeatureCollection of grids"}},
            "application/json": {"schema": {"type": "object", "description": "a GeoJSON FeatureCollection of grids"}},
        }})),
        ("put", "/api/v1/admin/grids/{code}/workers/{staff_id}") => {
            json_body(object(&[("kind", one_of(&["full_time", "part_time"]))], &[], true))
        }
        ("post", "/api/v1/auth/login") => {
            json_body(object(&[("username", string()), ("password", string())], &[], true))
        }
        ("post", "/api/v1/auth/password") => json_body(object(
            &[
                ("username", string()),
                ("old_password", string()),
                ("new_password", json!({"type": "string", "minLength": 10})),
            ],
            &[],
            true,
        )),
        ("put", "/api/v1/admin/departments/{code}") => {
            json_body(object(&[("name", string()), ("area_code", string())], &[], true))
        }
        // No password or roles: the security admin gives those (a body carrying them is refused).
        ("post", "/api/v1/admin/staff") => json_body(object(
            &[("username", string()), ("display_name", string())],
            &[("department_code", nullable(string())), ("area_code", nullable(string()))],
            true,
        )),
        ("patch", "/api/v1/admin/staff/{id}") => json_body(object(
            &[],
            &[
                ("display_name", string()),
                ("department_code", nullable(string())),
                ("active", boolean()),
                ("password", json!({"type": "string", "minLength": 10})),
                ("roles", role_grants()),
                (
                    "grids",
                    json!({"type": "array", "items": object(&[("code", string()), ("kind", one_of(&["full_time", "part_time"]))], &[], true)}),
                ),
            ],
            true,
        )),
        ("post", "/api/v1/admin/api-tokens") => json_body(object(
            &[
                ("staff_id", integer()),
                ("name", string()),
                ("valid_days", json!({"type": "integer", "minimum": 1, "maximum": 365})),
            ],
            &[],
            true,
        )),
        ("put", "/api/v1/admin/case-classes/{code}") => json_body(object(
            &[
                ("kind", one_of(&["event", "component"])),
                ("major_code", string()),
                ("major_name", string()),
                ("minor_name", string()),
                ("filing_criteria", string()),
                ("closing_criteria", string()),
                ("time_limit", json!({"type": "integer", "minimum": 1})),
                ("time_limit_unit", one_of(&["working_hours", "working_days"])),
                ("department_code", string()),
                ("duplicate_radius_m", json!({"type": "number", "minimum": 0})),
                ("duplicate_window_hours", json!({"type": "integer", "minimum": 0})),
                ("self_handle_allowed", boolean()),
                ("active", boolean()),
            ],
            &[],
            true,
        )),
        ("put", "/api/v1/admin/calendar/{day}") => {
            json_body(object(&[("kind", one_of(&["holiday", "workday"]))], &[("note", string())], true))
        }
        ("put", "/api/v1/admin/last-resort/{area}") => json_body(object(&[("department_code", string())], &[], true)),
        ("post", "/api/v1/reports") => {
            let channels = ["web", "app", "open311", "hotline", "wechat", "sms", "patrol", "sensor"];
            json_body(object(
                &[("description", string())],
                &[
                    ("channel", nullable(one_of(&channels))),
                    ("class_code", nullable(string())),
                    ("lng", nullable(json!({"type": "number", "minimum": -180, "maximum": 180}))),
                    ("lat", nullable(json!({"type": "number", "minimum": -90, "maximum": 90}))),
                    ("datum", nullable(one_of(&["wgs84", "cgcs2000", "gcj02", "bd09"]))),
                    ("address", nullable(string())),
                    ("reporter_name", nullable(string())),
                    ("reporter_contact", nullable(string())),
                    ("idempotency_key", nullable(string())),
                    ("media_url", nullable(json!({"type": "string", "format": "uri"}))),
                ],
                true,
            ))
        }
        ("post", "/api/v1/cases/{id}/transitions") => {
            let actions: Vec<Value> =
                crate::cases::state::Action::ALL.iter().filter_map(|a| serde_json::to_value(a).ok()).collect();
            json_body(object(
                &[],
                &[
                    ("action", json!({"type": "string", "enum": actions})),
                    ("note", nullable(string())),
                    ("class_code", nullable(string())),
                    ("lng", nullable(json!({"type": "number"}))),
                    ("lat", nullable(json!({"type": "number"}))),
                    ("datum", nullable(string())),
                    ("lead_department", nullable(string())),
                    ("owner_unknown", boolean()),
                    ("assist_departments", json!({"type": "array", "items": string()})),
                    ("duplicate_of", nullable(integer())),
                    ("approve", nullable(boolean())),
                    ("extension_days", nullable(json!({"type": "integer", "minimum": 0, "maximum": 4294967295u64}))),
                    ("rating", nullable(integer())),
                ],
                true,
            ))
        }
        ("post", "/api/v1/public/cases/{number}/rating") => json_body(object(
            &[("rating", json!({"type": "integer", "minimum": 1, "maximum": 5})), ("contact", string())],
            &[("comment", nullable(string()))],
            true,
        )),
        ("post", "/api/v1/public/cases/{number}/photos" | "/api/v1/cases/{id}/photos") => photo(),
        ("post", "/api/v1/certificates") => json_body(object(&[("application_number", string())], &[], true)),
        ("post", "/api/v1/certificates/{number}/revoke") => json_body(object(&[("reason", string())], &[], true)),
        ("post", "/api/v1/certificates/verify") => Some(json!({"required": true, "content": {
            "application/json": {"schema": {"type": "object", "description": "a civgrid certificate bundle (≤ 1 MiB)"}}}})),
        ("post", "/api/v1/admin/service-items") => json_body(object(
            &[
                ("item_type", string()),
                ("main_item", string()),
                ("department_code", string()),
                ("name", string()),
                ("legal_basis", string()),
                ("applicant_type", one_of(&["person", "entity"])),
                ("materials", json!({"type": "array", "items": {"type": "object"}})),
                ("legal_limit_days", integer()),
                ("promised_limit_days", integer()),
                ("max_visits", integer()),
                ("steps", json!({"type": "array", "items": {"type": "object"}})),
            ],
            &[
                ("result", nullable(json!({"type": "object"}))),
                ("sub_item", string()),
                ("conditions", json!({"type": "array", "items": string()})),
                ("eligibility", json!({"type": "object"})),
                ("special_steps", json!({"type": "array", "items": {"type": "object"}})),
                ("fees", json!({"type": "array", "items": {"type": "object"}})),
                ("active", boolean()),
            ],
            true,
        )),
        ("post", "/api/v1/service-applications") => json_body(object(
            &[("item_code", string()), ("applicant", applicant())],
            &[("materials", materials()), ("window", nullable(string()))],
            true,
        )),
        ("post", "/api/v1/service-applications/{number}/decisions") => json_body(object(
            &[
                ("step", json!({"type": "integer", "minimum": 0})),
                ("decision", one_of(&["approve", "reject"])),
                (
                    "checklist",
                    json!({"type": "array", "items": object(&[("code", string()), ("met", boolean())], &[("note", nullable(string()))], true)}),
                ),
            ],
            &[("note", nullable(string()))],
            true,
        )),
        ("post", "/api/v1/service-applications/{number}/suspend") => {
            json_body(object(&[("special_step", string())], &[("note", nullable(string()))], true))
        }
        ("post", "/api/v1/service-refusals") => json_body(object(
            &[("item_code", string()), ("applicant", applicant()), ("reason", string()), ("window", string())],
            &[],
            true,
        )),
        // An application is proven by its access key, a window visit by the ID number.
        ("post", "/api/v1/service-ratings") => json_body(object(
            &[
                ("target", one_of(&["application", "visit"])),
                ("number", string()),
                ("grade", json!({"type": "integer", "minimum": 1, "maximum": 5})),
            ],
            &[("access_key", nullable(string())), ("id_number", nullable(string())), ("comment", nullable(string()))],
            true,
        )),
        ("post", "/api/v1/service-rectifications/{id}/reply") => {
            json_body(object(&[("reply", string()), ("callback_note", string())], &[], true))
        }
        ("post", "/api/v1/service-rectifications/{id}/feedback") => json_body(object(
            &[("result", one_of(&["satisfied", "basically_satisfied", "unsatisfied"]))],
            &[("access_key", nullable(string())), ("id_number", nullable(string()))],
            true,
        )),
        ("post", "/api/v1/service-rectifications/{id}/appeal") => json_body(object(&[("reason", string())], &[], true)),
        ("post", "/api/v1/service-rectifications/{id}/appeal-decision") => {
            json_body(object(&[("upheld", boolean()), ("note", string())], &[], true))
        }
        ("post", "/api/v1/admin/open311-keys") => json_body(name()),
        _ => None,
    }
}

/// What an operation answers: its success status(es) with their media type, and the error
/// envelope for every 4xx and 5xx.
fn responses(method: &str, path: &str, status: u16) -> Value {
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
    let media = match (method, path) {
        ("get", "/api/v1/grids.geojson") => Some("application/geo+json"),
        ("get", "/ledger/checkpoint" | "/ledger/vkey" | "/ledger/trust") => Some("text/plain"),
        ("get", "/ledger/tile/{tile_path}") => Some("application/octet-stream"),
        ("get", "/api/v1/certificates/{number}/qr.svg") => Some("image/svg+xml"),
        ("get", "/api/v1/cases/{id}/photos/{photo_id}") => Some("image/*"),
        ("get", "/api/v1/service-notices/{number}") => Some("text/html"),
        ("get", "/api/v1/events") => Some("text/event-stream"),
        _ if status == 204 => None,
        _ => Some("application/json"),
    };
    let success = |code: u16| match media {
        Some(m) => (code.to_string(), json!({"description": "success", "content": {m: {}}})),
        None => (code.to_string(), json!({"description": "success"})),
    };
    let mut out = Map::new();
    let (k, v) = success(status);
    out.insert(k, v);
    // Answered with 200 too: a retried report (same idempotency key), a missing-materials
    // notice, a notice as JSON.
    if matches!((method, path), ("post", "/api/v1/reports" | "/api/v1/service-applications")) {
        let (k, v) = success(200);
        out.insert(k, v);
    }
    if path == "/api/v1/service-notices/{number}" {
        out.insert(
            "200".into(),
            json!({"description": "success", "content": {"text/html": {}, "application/json": {}}}),
        );
    }
    out.insert("4XX".into(), json!({"description": "client error", "content": error}));
    out.insert("5XX".into(), json!({"description": "server error", "content": error}));
    Value::Object(out)
}
