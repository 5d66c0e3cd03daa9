//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, generated from the
//! handlers (`#[utoipa::path]` on each, registered with `utoipa_axum::routes!`, so what is routed
//! is what is documented) and their request and response types (`utoipa::ToSchema`,
//! `utoipa::IntoParams`). [`ApiDoc`] is the root: info, the security schemes, the error envelope;
//! [`ErrorResponses`] gives every operation the envelope for its 4xx and 5xx answers.
//!
//! Tests keep it honest both ways: every documented operation is routed (tests/api/ops.rs),
//! and every routed JSON-API endpoint is documented (tests/api/matrix/scan.rs), and the
//! document is snapshotted (tests/api/openapi.rs).

use std::sync::OnceLock;

use axum::Json;
use serde_json::{json, Value};
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

/// The document, generated once from the routes: every operation with its parameters, bodies,
/// answers and the error envelope.
pub fn document() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut generated) = super::api_routes().split_for_parts();
        // After the routes are merged in: the root's own modifiers run before.
        ErrorResponses.modify(&mut generated);
        serde_json::to_value(&generated).unwrap_or_else(|_| json!({}))
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
