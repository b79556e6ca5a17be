//! Shaping answers: entities with `@odata.context` and `@odata.id`, collections paged by `$top`/`$skip`.

use super::*;

pub(super) fn entity(ctx: &Ctx, context: &str, body: Value) -> Response {
    json_response(StatusCode::OK, entity_body(ctx, context, body))
}

/// An entity with its `@odata.context`, its `@odata.id` where Graph gives one, and `$select`.
pub(super) fn entity_body(ctx: &Ctx, context: &str, mut body: Value) -> Value {
    body["@odata.context"] = json!(ctx.odata_context(context));
    if let Some(set) = context.strip_suffix("/$entity") {
        if let (Some(key), Some(path)) = (entity_key(set, &body), entity_set_path(ctx.path())) {
            body["@odata.id"] = json!(odata_id(&path, &key));
        }
    }
    selected(ctx, body)
}

/// The key of a workbook entity in its set's `@odata.id`: worksheets, tables and columns go by
/// id, names by name; other sets (rows, views) get none, as on Graph.
pub(super) fn entity_key(set: &str, body: &Value) -> Option<String> {
    let field = match set {
        "worksheets" | "tables" | "columns" => "id",
        "names" => "name",
        _ => return None,
    };
    match &body[field] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The request path as the client wrote it, without its version and trailing `/`:
/// `/v1.0/me/drive/…` gives `/me/drive/…`; the base of every `@odata.id`.
pub(super) fn unversioned_path(request_path: &str) -> Option<&str> {
    let rest = request_path.trim_end_matches('/').get(1..)?;
    rest.find('/').map(|slash| &rest[slash..])
}

/// The path of the entity set an entity request addressed, as the client wrote it and without
/// the version: `…/tables/Sales`, `…/tables('Sales')` and `…/tables/add` give `…/tables`.
pub(super) fn entity_set_path(request_path: &str) -> Option<String> {
    let (parent, last) = unversioned_path(request_path)?.rsplit_once('/')?;
    Some(match last.split_once('(') {
        Some((set, _)) if ["worksheets", "tables", "names", "columns"].iter().any(|c| set.eq_ignore_ascii_case(c)) => {
            format!("{parent}/{set}")
        }
        _ => parent.to_string(),
    })
}

/// `{set}(%27{key}%27)`, the key percent-encoded, as Graph writes `@odata.id`.
pub(super) fn odata_id(set_path: &str, key: &str) -> String {
    let mut out = format!("{set_path}(%27");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str("%27)");
    out
}

/// A whole collection, paged by the request's `$top` and `$skip`; members of workbook entity
/// sets carry their `@odata.id`.
pub(super) fn collection(ctx: &Ctx, context: &str, mut values: Vec<Value>) -> Response {
    if let Some(set) = unversioned_path(ctx.path()) {
        for v in &mut values {
            if let Some(key) = entity_key(context, v) {
                v["@odata.id"] = json!(odata_id(set, &key));
            }
        }
    }
    let total = values.len();
    let shown = ctx.odata.page_range(total);
    let page: Vec<Value> = values.into_iter().skip(shown.start).take(shown.len()).collect();
    paged_collection(ctx, context, page, total)
}

/// One page of a collection of `total` members, cut by its producer (table rows are rendered
/// only for the page asked for).
pub(super) fn paged_collection(ctx: &Ctx, context: &str, page: Vec<Value>, total: usize) -> Response {
    let query = ctx.uri.query().unwrap_or("");
    let body = ctx.odata.collection_body(ctx.odata_context(context), page, total, &ctx.url(), query);
    json_response(StatusCode::OK, body)
}
