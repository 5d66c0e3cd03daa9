//! The endpoint list from the code (the router's `.route` calls and the `#[utoipa::path]` of the
//! handlers registered with `routes!`) and the schema check of the OpenAPI request bodies.

use super::policy::POLICY;
use super::*;

/// Checks `value` against the subset of JSON Schema the OpenAPI document uses.
pub(crate) fn conforms(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if schema.is_null() {
        errors.push(format!("{at}: no schema"));
        return;
    }
    if let Some(branches) = schema["anyOf"].as_array() {
        if !branches.iter().any(|b| {
            let mut e = Vec::new();
            conforms(b, value, at, &mut e);
            e.is_empty()
        }) {
            errors.push(format!("{at}: matches no branch of anyOf"));
        }
        return;
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            errors.push(format!("{at}: {value} is not one of {values:?}"));
        }
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        let matching = branches
            .iter()
            .filter(|b| {
                let mut e = Vec::new();
                conforms(b, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!("{at}: matches {matching} branches of oneOf"));
        }
        return;
    }
    for branch in schema["allOf"].as_array().into_iter().flatten() {
        conforms(branch, value, at, errors);
    }
    // `"type": ["string", "null"]`: any of the listed types.
    if let Some(types) = schema["type"].as_array() {
        if !types.iter().any(|t| {
            let mut e = Vec::new();
            let mut one = schema.clone();
            one["type"] = t.clone();
            conforms(&one, value, at, &mut e);
            e.is_empty()
        }) {
            errors.push(format!("{at}: {value} is none of the types {types:?}"));
        }
        return;
    }
    let fits = match schema["type"].as_str() {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("null") => value.is_null(),
        Some(other) => {
            errors.push(format!("{at}: unknown type {other}"));
            return;
        }
    };
    if !fits {
        errors.push(format!("{at}: {value} is not of type {}", schema["type"]));
        return;
    }
    if let (Some(n), Some(min)) = (value.as_f64(), schema["minimum"].as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} < minimum {min}"));
        }
    }
    if let (Some(n), Some(max)) = (value.as_f64(), schema["maximum"].as_f64()) {
        if n > max {
            errors.push(format!("{at}: {n} > maximum {max}"));
        }
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            if !schema["items"].is_null() {
                conforms(&schema["items"], item, &format!("{at}[{i}]"), errors);
            }
        }
    }
    if let Some(fields) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !fields.contains_key(required) {
                errors.push(format!("{at}: lacks required `{required}`"));
            }
        }
        for (k, v) in fields {
            let property = &schema["properties"][k];
            if !property.is_null() {
                conforms(property, v, &format!("{at}.{k}"), errors);
            } else if schema["additionalProperties"] == json!(false) {
                errors.push(format!("{at}: `{k}` is not allowed"));
            } else if schema["additionalProperties"].is_object() {
                conforms(&schema["additionalProperties"], v, &format!("{at}.{k}"), errors);
            }
        }
    }
}

/// (method, path) of every `.route("…", method(…))` call in `src/web/**/*.rs`.
pub fn routed() -> BTreeSet<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src/web") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"), &mut files);
    let mut out = BTreeSet::new();
    let mut catch_alls = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        // Handlers registered with `routes!` carry their method and path in `#[utoipa::path]`.
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[utoipa::path(") {
            rest = &rest[at + "#[utoipa::path(".len()..];
            let method: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            let Some(p) = rest.find("path = \"") else { break };
            let path = &rest[p + "path = \"".len()..];
            let Some(end) = path.find('"') else { break };
            out.insert((method, path[..end].to_owned()));
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let Some(close) = rest[open + 1..].find('"') else { break };
            let path = rest[open + 1..open + 1 + close].to_owned();
            // The method calls at the route call's own depth, up to its closing parenthesis.
            let args = &rest[open + close + 2..];
            let (mut depth, mut word) = (0i32, String::new());
            for ch in args.chars() {
                match ch {
                    '(' => {
                        if depth == 0 && ["get", "post", "put", "patch", "delete", "any"].contains(&word.as_str()) {
                            if path.contains("{*") {
                                catch_alls.insert((word.clone(), path.clone()));
                            }
                            out.insert((word.clone(), path.clone()));
                        }
                        depth += 1;
                        word.clear();
                    }
                    ')' if depth == 0 => break,
                    ')' => {
                        depth -= 1;
                        word.clear();
                    }
                    c if c.is_alphanumeric() || c == '_' => word.push(c),
                    _ => word.clear(),
                }
            }
        }
    }
    // A catch-all route (`{*rest}`) is documented by its handler's `#[utoipa::path]` under a
    // named parameter (`{tile_path}`): one endpoint, known by its routed path.
    out.retain(|(m, p)| {
        !catch_alls.iter().any(|(cm, cp)| cm == m && cp != p && !p.contains("{*") && shape(cp) == shape(p))
    });
    out
}

/// The routed path of a policy row (`/a/{id}#variant` → `/a/{id}`).
pub(crate) fn route_of(row: &str) -> &str {
    row.split('#').next().unwrap_or(row)
}

/// A path template with its parameter names dropped (`/a/{id}` and `/a/{ref}` match).
pub(crate) fn shape(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

/// Whether a path is part of what the OpenAPI document describes: the JSON API, the ledger and
/// Open311 GeoReport's resources (not pages, the certificate check page, nor GeoReport's
/// catch-all 404, which answers any method and is no operation).
pub(crate) fn in_openapi_scope(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/ledger/")
        || path == "/healthz"
        || path == "/metrics"
        || (path.starts_with("/open311/v2/") && !path.contains("{*"))
}

#[test]
pub(crate) fn every_route_has_a_policy_row_and_a_documented_operation() {
    let routes = routed();
    assert!(routes.len() > 100, "the scan found only {} routes", routes.len());
    let rows: BTreeSet<(String, String)> =
        POLICY.iter().map(|(m, p, _)| ((*m).to_owned(), route_of(p).to_owned())).collect();
    let doc = civgrid::web::openapi::document();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(p, ops)| ops.as_object().expect("ops").keys().map(move |m| (m.clone(), shape(p))))
        .collect();
    let mut missing = Vec::new();
    for (method, path) in &routes {
        if !rows.contains(&(method.clone(), path.clone())) {
            missing.push(format!("{method} {path}: no row in the matrix's POLICY"));
        }
        if in_openapi_scope(path) && !documented.contains(&(method.clone(), shape(path))) {
            missing.push(format!("{method} {path}: not in the OpenAPI document"));
        }
    }
    for (method, path) in &rows {
        if !routes.contains(&(method.clone(), path.clone())) {
            missing.push(format!("{method} {path}: a POLICY row for no route"));
        }
    }
    // And the other way: every documented operation is routed.
    let routed_shapes: BTreeSet<(String, String)> = routes.iter().map(|(m, p)| (m.clone(), shape(p))).collect();
    for (method, path) in &documented {
        if !routed_shapes.contains(&(method.clone(), path.clone())) {
            missing.push(format!("{method} {path}: documented but not routed"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The schema check used above refuses what the document refuses.
#[test]
pub(crate) fn the_request_schema_check_can_fail() {
    let schema = civgrid::web::openapi::request_body("post", "/api/v1/admin/areas").expect("documented")["content"]
        ["application/json"]["schema"]
        .clone();
    let mut errors = Vec::new();
    conforms(&schema, &json!({"code": "440604010099", "name": "新社区"}), "body", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    for bad in [
        json!({"code": "440604010099"}),
        json!({"code": 1, "name": "x"}),
        json!({"code": "1", "name": "x", "level": 2}),
    ] {
        let mut errors = Vec::new();
        conforms(&schema, &bad, "body", &mut errors);
        assert!(!errors.is_empty(), "{bad} passed");
    }
}
