//! The generated OpenAPI document: a snapshot (a change to the contract shows in review as a
//! change to tests/api/snapshots/), and what every operation must declare.

use serde_json::Value;

fn document() -> Value {
    let mut doc = civgrid::web::openapi::document();
    // The version changes with every release; the contract does not.
    doc["info"]["version"] = Value::from("[version]");
    doc
}

#[test]
fn the_document_matches_its_snapshot() {
    insta::assert_json_snapshot!("openapi", document());
}

/// Every operation has a success answer and the error envelope for 4xx and 5xx, every operation
/// id is unique, and every path parameter is declared.
#[test]
fn every_operation_declares_its_answers_and_parameters() {
    let doc = document();
    let mut ids = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            let at = format!("{method} {path}");
            let responses = op["responses"].as_object().expect("responses");
            if !responses.keys().any(|k| k.starts_with('2')) {
                problems.push(format!("{at}: no success answer"));
            }
            if path.starts_with("/open311/v2/") {
                // GeoReport answers the spec's errors (a list of {code, description}, or their
                // XML form), not the envelope.
                let error = &responses["4XX"]["content"];
                if error["application/json"]["schema"]["items"]["$ref"] != "#/components/schemas/GeoReportError"
                    && error["text/xml"].is_null()
                {
                    problems.push(format!("{at}: no GeoReport error for 4XX"));
                }
                if !responses.contains_key("5XX") {
                    problems.push(format!("{at}: no answer for 5XX"));
                }
            } else {
                for range in ["4XX", "5XX"] {
                    if responses[range]["content"]["application/json"]["schema"]["$ref"] != "#/components/schemas/Error"
                    {
                        problems.push(format!("{at}: no error envelope for {range}"));
                    }
                }
            }
            if let Some(id) = op["operationId"].as_str() {
                if !ids.insert(id.to_owned()) {
                    problems.push(format!("{at}: operationId {id} twice"));
                }
            }
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for name in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
                if !declared.contains(&name) {
                    problems.push(format!("{at}: path parameter {name} undeclared"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The error envelope is one schema whose code is the list of stable codes.
#[test]
fn the_error_envelope_lists_every_code() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Error"]["required"], serde_json::json!(["error"]));
    let codes = &schemas["ErrorCode"]["enum"];
    for code in civgrid::web::error::ErrorCode::ALL {
        assert!(codes.as_array().expect("enum").contains(&Value::from(code.as_str())), "{code} missing");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["securitySchemes"]["cookie"].is_object());
}
