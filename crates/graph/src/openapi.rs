//! The OpenAPI 3 description of the served surface, at `/_workbookd/openapi.json`. Generated from
//! the operation catalogue: every documented workbook request shape (`surface.tsv`) that the
//! resolver serves, and the drive operations around it; each path's operation id is the name the
//! resolver gives it, so the document cannot claim what the server does not do.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::resolve::{resolve, surface_templates, Operation};

/// The drive operations served outside `/workbook`, under the version root.
const DRIVE_PATHS: &[(&str, &str)] = &[
    ("GET", "/me/drive"),
    ("GET", "/me/drive/items/{item-id}"),
    ("DELETE", "/me/drive/items/{item-id}"),
    ("GET", "/me/drive/items/{item-id}/children"),
    ("GET", "/me/drive/items/{item-id}/content"),
    ("PUT", "/me/drive/items/{item-id}/content"),
    ("GET", "/me/drive/root:/{item-path}:"),
    ("PUT", "/me/drive/root:/{item-path}:/content"),
    ("POST", "/$batch"),
];

/// Where the workbook paths hang: one item of the caller's drive (the other drive and item
/// spellings of `docs/graph-compatibility.md` reach the same operations).
const WORKBOOK_ROOT: &str = "/me/drive/items/{item-id}/workbook";

/// The name of the key after a collection segment.
fn key_name(collection: &str) -> &'static str {
    match collection.to_ascii_lowercase().as_str() {
        "worksheets" => "worksheet",
        "tables" => "table",
        "names" => "name",
        "columns" => "column",
        "rows" => "row",
        "functions" => "function",
        "operations" => "operation-id",
        "comments" => "comment",
        "replies" => "reply",
        "charts" => "chart",
        "series" => "series",
        "points" => "point",
        "borders" => "border",
        "pivottables" => "pivot-table",
        _ => "key",
    }
}

/// A catalogue template (`tables/{}/rows`) as an OpenAPI path with named keys, and its
/// argument forms (`range` of a worksheet also as `range(address='{address}')`).
fn workbook_paths(template: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in template.split('/') {
        if part == "{}" {
            let name = key_name(parts.last().map_or("", String::as_str));
            parts.push(format!("{{{name}}}"));
        } else {
            // A key inside a segment: `sessionInfoResource(key='{}')`.
            parts.push(part.replace("{}", "{key}"));
        }
    }
    let path = format!("{WORKBOOK_ROOT}/{}", parts.join("/"));
    if path.ends_with("/worksheets/{worksheet}/cell") {
        return vec![format!("{path}(row={{row}},column={{column}})")];
    }
    if path.ends_with("/worksheets/{worksheet}/range") {
        return vec![path.clone(), format!("{path}(address='{{address}}')")];
    }
    vec![path]
}

/// A path template split at its `{parameter}`s: each literal run, then the parameter after it
/// (none after the last run).
fn template_parts(path: &str) -> Vec<(&str, Option<&str>)> {
    let mut parts = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        parts.push((&rest[..open], Some(&rest[open + 1..close])));
        rest = &rest[(close + 1).min(rest.len())..];
    }
    parts.push((rest, None));
    parts
}

/// A concrete request path for an OpenAPI path: every parameter given a plausible value.
pub(crate) fn sample(path: &str) -> String {
    let mut out = String::from("/v1.0");
    for (literal, parameter) in template_parts(path) {
        out.push_str(literal);
        out.push_str(match parameter {
            None => "",
            Some("row" | "column") => "0",
            Some("address") => "A1:B2",
            Some("item-path") => "Book.xlsx",
            Some(_) => "K",
        });
    }
    out
}

/// The served operation of a path and method, if any.
fn served(method: &str, path: &str) -> Option<Operation> {
    match resolve(method, &sample(path)) {
        Ok(r) if !matches!(r.operation, Operation::NotImplemented { .. }) => Some(r.operation),
        _ => None,
    }
}

fn parameters(path: &str, operation: &Operation, method: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for name in template_parts(path).into_iter().filter_map(|(_, parameter)| parameter) {
        let schema = match name {
            "row" | "column" => json!({ "type": "integer", "minimum": 0 }),
            _ => json!({ "type": "string", "minLength": 1 }),
        };
        out.push(json!({ "name": name, "in": "path", "required": true, "schema": schema }));
    }
    if path.contains("/workbook/") {
        out.push(json!({
            "name": "workbook-session-id",
            "in": "header",
            "required": false,
            "description": "A session from createSession; without it the call is sessionless.",
            "schema": { "type": "string" },
        }));
    }
    if method == "GET" {
        out.push(json!({ "name": "$select", "in": "query", "required": false, "schema": { "type": "string" } }));
        if operation.is_collection() {
            for name in ["$top", "$skip"] {
                out.push(json!({ "name": name, "in": "query", "required": false,
                    "schema": { "type": "integer", "minimum": 0 } }));
            }
            out.push(json!({ "name": "$count", "in": "query", "required": false, "schema": { "type": "boolean" } }));
        }
    }
    out
}

fn error_response() -> Value {
    json!({
        "description": "A Graph error",
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/GraphError" } } },
    })
}

fn operation_object(operation_id: String, name: &str, path: &str, method: &str, operation: &Operation) -> Value {
    let mut responses = Map::new();
    responses.insert("2XX".into(), json!({ "description": "Success, as the Graph reference page shows it" }));
    if matches!(operation, Operation::ContentGet(_)) {
        responses.insert("302".into(), json!({ "description": "Redirect to the pre-authenticated download URL" }));
    }
    responses.insert("4XX".into(), error_response());
    responses.insert("5XX".into(), error_response());
    let mut op = json!({
        "operationId": operation_id,
        "summary": name,
        "externalDocs": { "url": format!("https://learn.microsoft.com/graph/api/{name}?view=graph-rest-1.0") },
        "parameters": parameters(path, operation, method),
        "responses": responses,
    });
    let body = match (method, operation) {
        ("PUT", _) => {
            Some(json!({ "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } }))
        }
        (_, Operation::Batch) => {
            Some(json!({ "application/json": { "schema": { "$ref": "#/components/schemas/BatchRequest" } } }))
        }
        ("POST" | "PATCH", _) => Some(json!({ "application/json": { "schema": { "type": "object" } } })),
        _ => None,
    };
    if let Some(content) = body {
        // Bodies are optional where the server takes none: POSTs whose arguments are all
        // optional, and an upload of an empty file.
        op["requestBody"] = json!({ "required": method == "PATCH", "content": content });
    }
    op
}

/// The document, with `server` (`http://host:port`) as the base of its URLs.
pub fn document(server: &str) -> Value {
    let mut candidates: Vec<(&'static str, String)> = DRIVE_PATHS.iter().map(|(m, p)| (*m, p.to_string())).collect();
    for (method, template) in surface_templates() {
        // Doc quirks: an example query, or a sample table name standing for a key.
        if template.contains('?') || template.contains("Table1") {
            continue;
        }
        candidates.extend(workbook_paths(&template).into_iter().map(|p| (method, p)));
    }
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    // Each path with every method it is served under: what a 405's `Allow` header lists, since
    // the resolver serves more than the reference pages show (a PATCH on any range path).
    let mut seen = std::collections::BTreeSet::new();
    for (_, path) in candidates {
        if !seen.insert(path.clone()) {
            continue;
        }
        for method in crate::resolve::allowed_methods(&sample(&path)) {
            let Some(operation) = served(method, &path) else { continue };
            let name = operation.name().to_string();
            let n = ids.entry(name.clone()).or_insert(0);
            *n += 1;
            let id = if *n == 1 { name.clone() } else { format!("{name}_{n}") };
            let object = operation_object(id, &name, &path, method, &operation);
            paths.entry(path.clone()).or_default().insert(method.to_ascii_lowercase(), object);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "workbookd: the Microsoft Graph Excel workbook API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The served part of Graph's workbook API and the drive calls around it. \
                Every path also exists under /beta, and for /drive, /users/{id}/drive, /drives/{id}, \
                /sites/{id}/drive and /groups/{id}/drive, with items addressed by id or path.",
        },
        "servers": [{ "url": format!("{server}/v1.0") }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
            "schemas": {
                "GraphError": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "innerError"],
                            "properties": {
                                "code": { "type": "string" },
                                "message": { "type": "string" },
                                "innerError": {
                                    "type": "object",
                                    "required": ["date", "request-id", "client-request-id"],
                                    "properties": {
                                        "code": { "type": "string" },
                                        "date": { "type": "string" },
                                        "request-id": { "type": "string" },
                                        "client-request-id": { "type": "string" },
                                    },
                                },
                            },
                        },
                    },
                },
                "BatchRequest": {
                    "type": "object",
                    "required": ["requests"],
                    "properties": {
                        "requests": {
                            "type": "array",
                            "maxItems": 20,
                            "items": {
                                "type": "object",
                                "required": ["id", "method", "url"],
                                "properties": {
                                    "id": { "type": "string" },
                                    "method": { "type": "string" },
                                    "url": { "type": "string" },
                                    "headers": { "type": "object", "additionalProperties": { "type": "string" } },
                                    "body": {},
                                    "dependsOn": { "type": "array", "items": { "type": "string" } },
                                },
                            },
                        },
                    },
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_resolves_to_its_operation_and_ids_are_unique() {
        let doc = document("http://h");
        let paths = doc["paths"].as_object().unwrap();
        let mut ids = std::collections::HashSet::new();
        let mut count = 0;
        for (path, methods) in paths {
            for (method, op) in methods.as_object().unwrap() {
                count += 1;
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "{id} twice");
                let resolved = resolve(&method.to_uppercase(), &sample(path)).unwrap().operation;
                assert_eq!(resolved.name(), op["summary"], "{method} {path}");
                assert!(!matches!(resolved, Operation::NotImplemented { .. }));
                // Every `{parameter}` of the path is declared.
                let declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                assert_eq!(path.matches('{').count(), declared.len(), "{path}");
            }
        }
        assert!(count >= 90, "{count} operations");
        assert!(paths.keys().all(|p| !p.contains("{}")), "every key is named");
        for (method, path) in [
            ("post", "/me/drive/items/{item-id}/workbook/createSession"),
            ("patch", "/me/drive/items/{item-id}/workbook/worksheets/{worksheet}/range(address='{address}')"),
            ("get", "/me/drive/items/{item-id}/workbook/tables/{table}/rows"),
            ("post", "/$batch"),
            ("put", "/me/drive/root:/{item-path}:/content"),
        ] {
            assert!(paths.get(path).and_then(|m| m.get(method)).is_some(), "{method} {path} missing");
        }
        // Unbuilt operations are not described.
        assert!(paths.keys().all(|p| !p.contains("/charts")), "charts are 501");
    }
}
