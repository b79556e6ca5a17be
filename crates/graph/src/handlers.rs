//! One handler per operation: check the caller, find the item, call the host, shape the answer.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use book::BookError;
use host::{HostError, OperationStatus, OperationView, Outcome, SessionInfo, Target};
use serde_json::{json, Value};
use store::{Conflict, Item};

use crate::auth::Need;
use crate::drive::{self, item_json, locate_drive, locate_item, upload_target, UploadTarget};
use crate::error::{workbook_error, Code, GraphError};
use crate::http::{error_response, App, Ctx};
use crate::navigate::{self, RangeBase, RangeRef, RangeStep};
use crate::resolve::{Collection, DriveRef, ItemAddress, MemberKey, Operation, ViewPart};
use crate::{functions, items, range};

type Answer = Result<Response, GraphError>;

pub(crate) async fn dispatch(ctx: Ctx, op: Operation) -> Answer {
    match op {
        Operation::DriveGet(d) => drive_get(ctx, d).await,
        Operation::DriveList(owner) => drive_list(ctx, owner).await,
        Operation::ItemGet(a) => item_get(ctx, a).await,
        Operation::ItemDelete(a) => item_delete(ctx, a).await,
        Operation::ItemChildren(a) => item_children(ctx, a).await,
        Operation::ContentGet(a) => content_get(ctx, a).await,
        Operation::ContentPut(a) => content_put(ctx, a).await,
        Operation::CreateSession(a) => create_session(ctx, a).await,
        Operation::RefreshSession(a) => refresh_or_close(ctx, a, false).await,
        Operation::CloseSession(a) => refresh_or_close(ctx, a, true).await,
        Operation::SessionInfo { item, key } => session_info(ctx, item, key).await,
        Operation::OperationGet { item, id } => operation_get(ctx, item, id).await,
        Operation::TableRowOperationResult { item, key } => row_operation_result(ctx, item, key).await,
        Operation::WorksheetList(a) => worksheet_list(ctx, a).await,
        Operation::WorksheetGet { item, sheet } => worksheet_get(ctx, item, sheet).await,
        Operation::WorksheetAdd { item, created } => worksheet_add(ctx, item, created).await,
        Operation::WorksheetDelete { item, sheet } => worksheet_delete(ctx, item, sheet).await,
        Operation::WorksheetUpdate { item, sheet } => worksheet_update(ctx, item, sheet).await,
        Operation::RangeGet { item, range } => range_get(ctx, item, range).await,
        Operation::RangeUpdate { item, range } => range_update(ctx, item, range).await,
        Operation::RangeClear { item, range } => range_clear(ctx, item, range).await,
        Operation::RangeShift { item, range, insert } => range_shift(ctx, item, range, insert).await,
        Operation::TableUpdate { item, sheet, table } => table_update(ctx, item, sheet, table).await,
        Operation::TableRemove { item, sheet, table, keep_cells } => {
            table_remove(ctx, item, sheet, table, keep_cells).await
        }
        Operation::NameAdd { item, sheet, formula_local } => name_add(ctx, item, sheet, formula_local).await,
        Operation::NameUpdate { item, sheet, name } => name_update(ctx, item, sheet, name).await,
        Operation::RangeMerge { item, range, merge } => range_merge(ctx, item, range, merge).await,
        Operation::RangeView { item, range, part } => range_view(ctx, item, range, part).await,
        Operation::NameList { item, sheet } => name_list(ctx, item, sheet).await,
        Operation::NameGet { item, sheet, name } => name_get(ctx, item, sheet, name).await,
        Operation::TableList { item, sheet } => table_list(ctx, item, sheet).await,
        Operation::TableGet { item, sheet, table } => table_get(ctx, item, sheet, table).await,
        Operation::TableAdd { item, sheet, created } => table_add(ctx, item, sheet, created).await,
        Operation::TableColumnAdd { item, sheet, table, created } => column_add(ctx, item, sheet, table, created).await,
        Operation::TableColumnUpdate { item, sheet, table, column } => {
            column_update(ctx, item, sheet, table, column).await
        }
        Operation::TableColumnDelete { item, sheet, table, column } => {
            column_delete(ctx, item, sheet, table, column).await
        }
        Operation::TableColumnList { item, sheet, table } => column_list(ctx, item, sheet, table).await,
        Operation::TableColumnGet { item, sheet, table, column } => column_get(ctx, item, sheet, table, column).await,
        Operation::TableRowList { item, sheet, table } => row_list(ctx, item, sheet, table).await,
        Operation::TableRowGet { item, sheet, table, row } => row_get(ctx, item, sheet, table, row).await,
        Operation::TableRowUpdate { item, sheet, table, index } => row_update(ctx, item, sheet, table, index).await,
        Operation::TableRowAdd { item, sheet, table, created } => row_add(ctx, item, sheet, table, created).await,
        Operation::TableRowDelete { item, sheet, table, index } => row_delete(ctx, item, sheet, table, index).await,
        Operation::FunctionCall { item, name } => function_call(ctx, item, name).await,
        Operation::CollectionCount { item, collection, text } => collection_count(ctx, item, collection, text).await,
        // Batches are run before dispatch (`http::serve`), never from inside one.
        Operation::Batch => Err(GraphError::bad_request("A batch cannot hold another batch.")),
        Operation::ApplicationGet(item) => application_get(ctx, item).await,
        Operation::ApplicationCalculate(item) => application_calculate(ctx, item).await,
        Operation::NotImplemented { item, operation } => {
            // The caller and the item are checked first: a 501 never hides a 401, 403 or 404.
            workbook_item(&ctx, &item).await?;
            Err(GraphError::not_implemented(&operation))
        }
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// Keeps the `$select`ed properties (and OData annotations) of one resource.
fn selected(ctx: &Ctx, v: Value) -> Value {
    ctx.odata.select_in(v)
}

// ---- drive items ----

async fn find(ctx: &Ctx, address: &ItemAddress, need: Need) -> Result<Item, GraphError> {
    ctx.who.check(need)?;
    // Metadata lookups are indexed reads that take microseconds: they run on the calling task,
    // since a hand-off to the blocking pool costs more than the lookup.
    let store = ctx.app.host.store().as_ref();
    let drive = locate_drive(store, &ctx.who, &address.drive)?;
    locate_item(store, &drive, address)
}

async fn drive_get(ctx: Ctx, drive: DriveRef) -> Answer {
    ctx.who.check(Need::DriveRead)?;
    let who = ctx.who.clone();
    let d = ctx.app.host.with_store(move |s| locate_drive(s, &who, &drive)).await?;
    let mut body = drive_json(&ctx, &d);
    body["@odata.context"] = json!(ctx.odata_context("drives/$entity"));
    Ok(json_response(StatusCode::OK, selected(&ctx, body)))
}

/// List drives: an owner has one drive here (OneDrive's document library).
async fn drive_list(ctx: Ctx, owner: DriveRef) -> Answer {
    ctx.who.check(Need::DriveRead)?;
    let who = ctx.who.clone();
    let d = ctx.app.host.with_store(move |s| locate_drive(s, &who, &owner)).await?;
    let drive = selected(&ctx, drive_json(&ctx, &d));
    Ok(collection(&ctx, "drives", vec![drive]))
}

fn drive_json(ctx: &Ctx, d: &store::Drive) -> Value {
    let owner = match d.owner.split_once(':') {
        Some(("user", _)) => json!({ "user": { "id": ctx.who.user_id, "displayName": ctx.who.username } }),
        Some((kind, id)) => json!({ kind: { "id": id } }),
        None => json!({}),
    };
    json!({
        "id": d.id,
        "driveType": "business",
        "name": "OneDrive",
        "owner": owner,
    })
}

/// A short-lived pre-authenticated URL for an item's content.
fn download_url(ctx: &Ctx, item: &Item) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 3600;
    let claims = json!({ "item": item.id, "exp": exp });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&ctx.app.download_key),
    )
    .unwrap_or_default();
    format!("{}/_workbookd/download/{token}", ctx.base())
}

fn etag_header(item: &Item) -> Option<HeaderValue> {
    HeaderValue::from_str(&item.etag()).ok()
}

/// `If-Match` against the item's eTag (or cTag): a mismatch is 412.
fn check_if_match(ctx: &Ctx, item: &Item) -> Result<(), GraphError> {
    let Some(wanted) = ctx.header("if-match") else { return Ok(()) };
    let matches = entity_tags(wanted).iter().any(|t| t == "*" || *t == item.etag() || *t == item.ctag());
    if matches {
        Ok(())
    } else {
        Err(GraphError::new(Code::ResourceModified, None, "ETag does not match current item's value"))
    }
}

/// The tags of an `If-Match` list. Graph's tags hold commas (`"{GUID},1"`), so the list is
/// split only outside quotes.
fn entity_tags(list: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in list.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => tags.push(std::mem::take(&mut current).trim().to_string()),
            _ => current.push(c),
        }
    }
    tags.push(current.trim().to_string());
    tags.retain(|t| !t.is_empty());
    tags
}

async fn item_get(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = find(&ctx, &address, Need::DriveRead).await?;
    // Metadata reflects every acknowledged write: pending journal records are saved first.
    let item = flushed(&ctx, item).await?;
    let url = (!item.is_folder).then(|| download_url(&ctx, &item));
    let item2 = item.clone();
    let mut body = ctx.app.host.with_store(move |s| item_json(s, &item2, url)).await;
    body["@odata.context"] = json!(ctx.odata_context(&format!("drives('{}')/items/$entity", item.drive_id)));
    let mut response = json_response(StatusCode::OK, selected(&ctx, body));
    if let Some(v) = etag_header(&item) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

async fn flushed(ctx: &Ctx, item: Item) -> Result<Item, GraphError> {
    if item.is_folder || item.journal_len == 0 {
        return Ok(item);
    }
    match ctx.app.host.flush(&item.id).await {
        Ok(()) => {}
        // No room to fold the journal in: the metadata as stored (its size lags the journal).
        Err(HostError::Store(store::StoreError::Full(_))) => return Ok(item),
        Err(e) => return Err(GraphError::from(e)),
    }
    let id = item.id.clone();
    ctx.app
        .host
        .with_store(move |s| s.item(&id))
        .await
        .map_err(GraphError::from)?
        .ok_or_else(GraphError::drive_item_not_found)
}

async fn item_children(ctx: Ctx, address: ItemAddress) -> Answer {
    let folder = find(&ctx, &address, Need::DriveRead).await?;
    if !folder.is_folder {
        return Err(GraphError::new(Code::InvalidRequest, None, "The item is not a folder."));
    }
    // OneDrive pages children by 200 (at most 1000 with `$top`), with its own `$skiptoken`.
    let top = match ctx.odata.top {
        None => 200,
        Some(t) if (1..=1000).contains(&t) => t,
        Some(t) => return Err(GraphError::new(Code::InvalidRequest, None, format!("Invalid $top value '{t}'."))),
    };
    let skip: usize = ctx.query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let id = folder.id.clone();
    let children = ctx.app.host.with_store(move |s| s.children(&id)).await.map_err(GraphError::from)?;
    let page: Vec<Item> = children.iter().skip(skip).take(top).cloned().collect();
    let urls: Vec<Option<String>> = page.iter().map(|i| (!i.is_folder).then(|| download_url(&ctx, i))).collect();
    let values = ctx
        .app
        .host
        .with_store(move |s| page.iter().zip(urls).map(|(i, u)| item_json(s, i, u)).collect::<Vec<_>>())
        .await;
    let values: Vec<Value> = values.into_iter().map(|v| selected(&ctx, v)).collect();
    let mut body = json!({
        "@odata.context": ctx.odata_context(&format!("drives('{}')/items('{}')/children", folder.drive_id, folder.id)),
    });
    if ctx.odata.count {
        body["@odata.count"] = json!(children.len());
    }
    body["value"] = Value::Array(values);
    if skip + top < children.len() {
        body["@odata.nextLink"] = json!(format!("{}?$top={top}&$skiptoken={}", ctx.url(), skip + top));
    }
    Ok(json_response(StatusCode::OK, body))
}

/// `GET …/content`: 302 to the pre-authenticated download URL, as Graph does.
async fn content_get(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = find(&ctx, &address, Need::DriveRead).await?;
    if item.is_folder {
        return Err(GraphError::new(Code::InvalidRequest, None, "A folder has no content."));
    }
    let url = download_url(&ctx, &item);
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The pre-authenticated download: the file with every acknowledged write in it.
pub(crate) async fn download(State(app): State<App>, Path(token): Path<String>) -> Response {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    let claims =
        jsonwebtoken::decode::<Value>(&token, &jsonwebtoken::DecodingKey::from_secret(&app.download_key), &validation);
    let Some(item_id) = claims.ok().and_then(|c| c.claims["item"].as_str().map(str::to_string)) else {
        return error_response(&GraphError::new(
            Code::Unauthenticated,
            None,
            "The download URL is not valid or has expired.",
        ));
    };
    match app.host.content_bytes(&item_id).await {
        Ok(bytes) => {
            let name = app.host.with_store(move |s| s.item(&item_id)).await.ok().flatten().map(|i| i.name);
            let mime = name.as_deref().map_or("application/octet-stream", drive::mime_type);
            let mut response = Response::new(Body::from(bytes.to_vec()));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            response
        }
        Err(e) => error_response(&GraphError::from(e)),
    }
}

async fn content_put(ctx: Ctx, address: ItemAddress) -> Answer {
    ctx.who.check(Need::DriveWrite)?;
    let conflict = match ctx.query.get("@microsoft.graph.conflictbehavior").map(|s| s.to_ascii_lowercase()) {
        None => Conflict::Replace,
        Some(c) if c == "replace" => Conflict::Replace,
        Some(c) if c == "fail" => Conflict::Fail,
        Some(c) if c == "rename" => Conflict::Rename,
        Some(c) => {
            return Err(GraphError::new(Code::InvalidRequest, None, format!("Invalid conflictBehavior '{c}'.")));
        }
    };
    let (who, addr) = (ctx.who.clone(), address.clone());
    let target = ctx
        .app
        .host
        .with_store(move |s| {
            let drive = locate_drive(s, &who, &addr.drive)?;
            upload_target(s, &drive, &addr)
        })
        .await?;
    let bytes = ctx.body.to_vec();
    let (item, created) = match target {
        UploadTarget::Existing(item) => {
            check_if_match(&ctx, &item)?;
            (ctx.app.host.replace_content(&item.id, bytes).await.map_err(GraphError::from)?, false)
        }
        UploadTarget::New { parent_id, name } => {
            if ctx.header("if-match").is_some() {
                let (p, n) = (parent_id.clone(), name.clone());
                if let Some(existing) =
                    ctx.app.host.with_store(move |s| s.child(&p, &n)).await.map_err(GraphError::from)?
                {
                    check_if_match(&ctx, &existing)?;
                }
            }
            ctx.app.host.put_file(&parent_id, &name, bytes, conflict).await.map_err(GraphError::from)?
        }
    };
    let url = download_url(&ctx, &item);
    let item2 = item.clone();
    let mut body = ctx.app.host.with_store(move |s| item_json(s, &item2, Some(url))).await;
    body["@odata.context"] = json!(ctx.odata_context(&format!("drives('{}')/items/$entity", item.drive_id)));
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response = json_response(status, body);
    if let Some(v) = etag_header(&item) {
        response.headers_mut().insert(header::ETAG, v);
    }
    Ok(response)
}

async fn item_delete(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = find(&ctx, &address, Need::DriveWrite).await?;
    check_if_match(&ctx, &item)?;
    if item.parent_id.is_none() {
        return Err(GraphError::new(Code::AccessDenied, None, "The root folder cannot be deleted."));
    }
    ctx.app.host.delete(&item.id).await.map_err(GraphError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- workbook: sessions ----

const SESSION_HEADER: &str = "workbook-session-id";

/// The workbook file a workbook call names, after the permission check.
async fn workbook_item(ctx: &Ctx, address: &ItemAddress) -> Result<Item, GraphError> {
    let found = find(ctx, address, Need::Workbook).await;
    let item = match found {
        Ok(item) => item,
        // A session whose file was deleted says so, rather than "no such item".
        Err(e) if e.status() == 404 => {
            if let Some(id) = ctx.header(SESSION_HEADER) {
                if ctx.app.host.session_ended_by_delete(id) {
                    return Err(GraphError::from(HostError::SessionFileGone).on_workbook());
                }
            }
            return Err(e.on_workbook());
        }
        Err(e) => return Err(e.on_workbook()),
    };
    if item.is_folder {
        return Err(GraphError::from(HostError::NotAFile).on_workbook());
    }
    Ok(item)
}

fn target(ctx: &Ctx) -> Target<'_> {
    match ctx.header(SESSION_HEADER) {
        Some(id) => Target::Session(id),
        None => Target::Sessionless,
    }
}

/// `…/workbook`, the prefix of URLs the workbook hands out (Location, resourceLocation).
fn workbook_url(ctx: &Ctx) -> String {
    let path = ctx.path();
    let lower = path.to_ascii_lowercase();
    let end = lower.find("/workbook/").map_or(path.len(), |i| i + "/workbook".len());
    format!("{}{}", ctx.base(), &path[..end])
}

fn session_json(ctx: &Ctx, info: &SessionInfo) -> Value {
    json!({
        "@odata.context": ctx.odata_context("microsoft.graph.workbookSessionInfo"),
        "id": info.id,
        "persistChanges": info.persist_changes,
    })
}

/// An empty body, or JSON (`{}` included) whatever the Content-Type says.
fn json_body(ctx: &Ctx) -> Result<serde_json::Map<String, Value>, GraphError> {
    if ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice::<Value>(&ctx.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => {
            Err(GraphError::new(Code::BadRequest, Some("invalidArgument"), "The request body must be a JSON object."))
        }
        Err(e) => Err(GraphError::new(
            Code::BadRequest,
            Some("badRequestUncategorized"),
            format!("The request body is not valid JSON: {e}."),
        )),
    }
}

fn prefers_async(ctx: &Ctx) -> bool {
    ctx.headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
}

async fn create_session(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let persistent = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case("persistChanges")).map(|(_, v)| v) {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(GraphError::new(
                Code::BadRequest,
                Some("invalidArgument"),
                format!("persistChanges must be a boolean, not {other}."),
            ))
        }
    };
    let user = ctx.who.drive_owner();
    if !prefers_async(&ctx) {
        let info = ctx.app.host.create_session(user, &item.id, persistent).await.map_err(workbook_error)?;
        return Ok(json_response(StatusCode::CREATED, session_json(&ctx, &info)));
    }
    let op = ctx.app.host.start_create_session(user, &item.id, persistent);
    if !ctx.app.host.config().force_async_sessions && !ctx.force_async {
        let threshold = ctx.app.host.config().async_threshold;
        if let Some(view) = ctx.app.host.wait_operation(&op, threshold).await {
            match view.result {
                Some(Ok(Outcome::Session(info))) => {
                    return Ok(json_response(StatusCode::CREATED, session_json(&ctx, &info)))
                }
                Some(Ok(Outcome::Value(_))) => {}
                Some(Err(e)) => return Err(GraphError::from(e).on_workbook()),
                None => {}
            }
        }
    }
    let mut response = json_response(StatusCode::ACCEPTED, json!({}));
    if let Ok(v) = HeaderValue::from_str(&format!("{}/operations/{op}", workbook_url(&ctx))) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn refresh_or_close(ctx: Ctx, address: ItemAddress, close: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let Some(session) = ctx.header(SESSION_HEADER) else {
        return Err(GraphError::new(
            Code::BadRequest,
            Some("badRequestUncategorized"),
            format!(
                "The {SESSION_HEADER} header is required by {}.",
                if close { "closeSession" } else { "refreshSession" }
            ),
        ));
    };
    let user = ctx.who.drive_owner();
    let result = if close {
        ctx.app.host.close_session(user, &item.id, session)
    } else {
        ctx.app.host.refresh_session(user, &item.id, session)
    };
    result.map_err(workbook_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn session_info(ctx: Ctx, address: ItemAddress, key: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let info = ctx.app.host.session_info(ctx.who.drive_owner(), &item.id, &key).map_err(workbook_error)?;
    Ok(json_response(StatusCode::OK, session_json(&ctx, &info)))
}

fn operation_json(ctx: &Ctx, view: &OperationView) -> Value {
    let mut v = json!({ "id": view.id, "status": view.status.as_str() });
    match (&view.status, &view.result) {
        (OperationStatus::Succeeded, Some(Ok(Outcome::Value(_)))) => {
            v["resourceLocation"] = json!(format!("{}/tableRowOperationResult(key='{}')", workbook_url(ctx), view.id));
        }
        (OperationStatus::Succeeded, _) => {
            v["resourceLocation"] = json!(format!("{}/sessionInfoResource(key='{}')", workbook_url(ctx), view.id));
        }
        (OperationStatus::Failed, Some(Err(e))) => {
            let unopenable = matches!(e, HostError::Unopenable(_));
            let e = GraphError::from(e.clone()).on_workbook();
            v["error"] = json!({
                "code": e.code,
                "message": e.message,
                "innerError": { "code": e.inner_code.unwrap_or(e.code.as_str()), "message": e.message },
            });
            // Graph names a file that would not open one level further down.
            if unopenable {
                v["error"]["innerError"]["innerError"] =
                    json!({ "code": "GenericFileOpenError", "message": "The workbook cannot be opened." });
            }
        }
        _ => {}
    }
    v
}

async fn operation_get(ctx: Ctx, address: ItemAddress, id: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let view = ctx.app.host.operation(ctx.who.drive_owner(), &item.id, &id).map_err(workbook_error)?;
    let mut body = operation_json(&ctx, &view);
    body["@odata.context"] = json!(ctx.odata_context("microsoft.graph.workbookOperation"));
    Ok(json_response(StatusCode::OK, body))
}

/// `tableRowOperationResult(key=…)`: the row an async table row add made.
async fn row_operation_result(ctx: Ctx, address: ItemAddress, key: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let key = key.trim_matches('\'').to_string();
    let row = ctx.app.host.operation_value(ctx.who.drive_owner(), &item.id, &key).map_err(workbook_error)?;
    Ok(entity(&ctx, "microsoft.graph.workbookTableRow", row))
}

// ---- workbook: worksheets and ranges ----

async fn worksheet_list(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let sheets = ctx
        .app
        .host
        .peek(ctx.who.drive_owner(), &item.id, target(&ctx), |wb| Ok(range::worksheets_json(wb)))
        .await
        .map_err(workbook_error)?;
    Ok(collection(&ctx, "worksheets", sheets))
}

async fn worksheet_get(ctx: Ctx, address: ItemAddress, sheet: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let found = ctx
        .app
        .host
        .peek(ctx.who.drive_owner(), &item.id, target(&ctx), move |wb| {
            let name = range::find_worksheet(wb, &sheet)?;
            Ok(range::worksheets_json(wb).into_iter().find(|s| s["name"] == name.as_str()))
        })
        .await
        .map_err(workbook_error)?;
    Ok(entity(&ctx, "worksheets/$entity", found.unwrap_or_default()))
}

/// The worksheet as Graph shows it, from the workbook after an edit.
fn worksheet_after(name: String) -> impl FnOnce(&book::Workbook) -> Result<Value, BookError> + Send + 'static {
    move |wb| {
        let key = range::find_worksheet(wb, &name)?;
        Ok(range::worksheets_json(wb).into_iter().find(|s| s["name"] == key.as_str()).unwrap_or_default())
    }
}

/// `worksheets/add` (200) and `POST worksheets` (201): a new empty sheet after the others,
/// named `SheetN` (the first free N) when the body names none.
async fn worksheet_add(ctx: Ctx, address: ItemAddress, created: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let given = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case("name")).map(|(_, v)| v) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(GraphError::invalid_argument(format!("name must be a string, not {other}."))),
    };
    let user = ctx.who.drive_owner();
    let name = match given {
        Some(name) => name,
        None => ctx
            .app
            .host
            .read(user, &item.id, target(&ctx), |wb| {
                Ok((1..).map(|n| format!("Sheet{n}")).find(|n| wb.model().sheet_index(n).is_none()).unwrap_or_default())
            })
            .await
            .map_err(workbook_error)?,
    };
    let edit = book::Edit::AddSheet { name: name.clone() };
    let sheet =
        ctx.app.host.write(user, &item.id, target(&ctx), edit, worksheet_after(name)).await.map_err(workbook_error)?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(json_response(status, entity_body(&ctx, "worksheets/$entity", sheet)))
}

/// PATCH of a worksheet: `visibility` (`Visible`, `Hidden`, `VeryHidden`). Renaming and moving
/// are not built yet: a body that changes `name` or `position` answers 501 and changes nothing.
async fn worksheet_update(ctx: Ctx, address: ItemAddress, sheet: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let user = ctx.who.drive_owner();
    let current = worksheet_now(&ctx, &item.id, sheet).await?;
    let (mut visibility, mut name, mut position) = (None, None, None);
    for (k, v) in &body {
        match (k.to_ascii_lowercase().as_str(), v) {
            (_, Value::Null) => {}
            ("visibility", Value::String(s)) => {
                visibility = Some(match s.to_ascii_lowercase().as_str() {
                    "visible" => book::model::Visibility::Visible,
                    "hidden" => book::model::Visibility::Hidden,
                    "veryhidden" => book::model::Visibility::VeryHidden,
                    _ => {
                        return Err(GraphError::invalid_argument(format!(
                            "visibility must be Visible, Hidden or VeryHidden, not '{s}'."
                        )))
                    }
                })
            }
            ("name", Value::String(s)) => name = Some(s.clone()),
            ("position", v) => {
                position = Some(v.as_u64().and_then(|p| u32::try_from(p).ok()).ok_or_else(|| {
                    GraphError::invalid_argument(format!("position must be a whole number from 0, not {v}."))
                })?)
            }
            ("id", v) if current["id"] == *v => {}
            ("name", other) => {
                return Err(GraphError::invalid_argument(format!("name must be a string, not {other}.")));
            }
            (k, _) if k.starts_with('@') => {}
            _ => return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set on a worksheet."))),
        }
    }
    let sheet = current["name"].as_str().unwrap_or_default().to_string();
    let after = name.clone().unwrap_or_else(|| sheet.clone());
    let updated = if visibility.is_some() || name.is_some() || position.is_some() {
        let edit = book::Edit::UpdateSheet { sheet, name, position, visibility };
        ctx.app.host.write(user, &item.id, target(&ctx), edit, worksheet_after(after)).await
    } else {
        ctx.app.host.read(user, &item.id, target(&ctx), worksheet_after(after)).await
    }
    .map_err(workbook_error)?;
    Ok(entity(&ctx, "worksheets/$entity", updated))
}

/// A worksheet as Graph shows it now (404 when there is none of that name or id).
async fn worksheet_now(ctx: &Ctx, item_id: &str, sheet: String) -> Result<Value, GraphError> {
    ctx.app
        .host
        .read(ctx.who.drive_owner(), item_id, target(ctx), move |wb| worksheet_after(sheet)(wb))
        .await
        .map_err(workbook_error)
}

/// `DELETE worksheets/{w}`: 200 with no body, as the page says. References to the sheet
/// become `#REF!`.
async fn worksheet_delete(ctx: Ctx, address: ItemAddress, sheet: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let user = ctx.who.drive_owner();
    let current = worksheet_now(&ctx, &item.id, sheet).await?;
    let edit = book::Edit::DeleteSheet { sheet: current["name"].as_str().unwrap_or_default().to_string() };
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

fn range_response(ctx: &Ctx, read: &range::RangeRead) -> Response {
    let select = ctx.select();
    let keep = |name: &str| select.is_none_or(|s| s.iter().any(|k| k.eq_ignore_ascii_case(name)));
    let body = range::render_range(read, &ctx.odata_context("workbookRange"), &keep);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// A range read through any entry point and navigation; arguments the URL left out of the
/// last step may come from a JSON body (the docs show `offsetRange`, `row`, `boundingRect`, …
/// with one).
async fn range_get(ctx: Ctx, address: ItemAddress, mut range: RangeRef) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    if let Some(last) = range.steps.last_mut() {
        last.fill_from_body(&json_body(&ctx)?)?;
    }
    // Small reads of a fixed address run on the request's own task.
    let small = match (&range.base, range.steps.iter().all(RangeStep::never_grows)) {
        (RangeBase::Sheet { address: Some(a), .. }, true) => {
            book::SheetArea::parse(a).is_ok_and(|a| a.area.cell_count() <= range::SMALL_READ_CELLS)
        }
        (RangeBase::Cell { .. }, true) => true,
        _ => false,
    };
    let cells = range::shows_cells(ctx.select());
    let max_read = ctx.app.config.max_read_cells;
    let read = move |wb: &book::Workbook| {
        let found = match navigate::locate(wb, &range)? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if cells && found.area.cell_count() > max_read {
            return Ok(Err(range::too_large(found.area.cell_count(), max_read)));
        }
        Ok(Ok(range::RangeRead::read_if(wb, &found.sheet, found.area, cells)?))
    };
    let (user, target) = (ctx.who.drive_owner(), target(&ctx));
    let result = if small {
        ctx.app.host.peek(user, &item.id, target, read).await
    } else {
        ctx.app.host.read(user, &item.id, target, read).await
    };
    Ok(range_response(&ctx, &result.map_err(workbook_error)??))
}

/// Where a range path lies in the workbook: its sheet's real name and its cells.
async fn locate(ctx: &Ctx, item_id: &str, range: RangeRef) -> Result<navigate::Located, GraphError> {
    ctx.app
        .host
        .read(ctx.who.drive_owner(), item_id, target(ctx), move |wb| navigate::locate(wb, &range))
        .await
        .map_err(workbook_error)?
}

async fn range_update(ctx: Ctx, address: ItemAddress, range: RangeRef) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let user = ctx.who.drive_owner();
    let found = locate(&ctx, &item.id, range).await?;
    // Every part of the body is checked before anything is written: cells first, then hiding.
    let (max_read, max_write) = (ctx.app.config.max_read_cells, ctx.app.config.max_write_cells);
    let mut edits: Vec<book::Edit> =
        range::patch_edit(&found.sheet, &found.area, &body, max_write)?.into_iter().collect();
    edits.extend(range::hidden_edits(&found.sheet, &found.area, &body)?);
    let read_back = {
        let (name, area) = (found.sheet.clone(), found.area);
        move |wb: &book::Workbook| -> Result<range::RangeRead, BookError> {
            range::RangeRead::read(wb, &name, area, max_read)
        }
    };
    // One record for the whole PATCH: a crash or a timeout keeps all of it or none.
    let edit = match edits.len() {
        0 => None,
        1 => edits.pop(),
        _ => Some(book::Edit::Several { edits }),
    };
    let result = match edit {
        Some(edit) => ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await,
        None => ctx.app.host.read(user, &item.id, target(&ctx), read_back).await,
    };
    Ok(range_response(&ctx, &result.map_err(workbook_error)?))
}

/// `clear` with `applyTo` `All` (the default), `Contents` or `Formats`. Answers 204: the
/// page's prose says 200, its example 204 with no body, and no content is what there is.
async fn range_clear(ctx: Ctx, address: ItemAddress, range: RangeRef) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let apply_to = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("applyTo")).map(|(_, v)| v);
    let (contents, formats) = match apply_to {
        None | Some(Value::Null) => (true, true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("All") => (true, true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Contents") => (true, false),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Formats") => (false, true),
        Some(other) => {
            return Err(GraphError::invalid_argument(format!("applyTo must be All, Contents or Formats, not {other}.")))
        }
    };
    let user = ctx.who.drive_owner();
    let found = locate(&ctx, &item.id, range).await?;
    let a = found.area;
    let edit = book::Edit::ClearCells(book::ClearCells {
        sheet: found.sheet,
        first_row: a.first_row,
        first_col: a.first_col,
        last_row: a.last_row,
        last_col: a.last_col,
        contents,
        formats,
    });
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// PATCH of a table: `name` (formulas naming it follow), `style`, `highlightFirstColumn`,
/// `highlightLastColumn`, `showBandedRows`, `showBandedColumns`, `showHeaders`, `showTotals`,
/// `showFilterButton`.
async fn table_update(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let current = {
        let (sheet, table) = (sheet.clone(), table.clone());
        lookup(&ctx, &address, move |wb| {
            Ok(navigate::find_table(wb, sheet.as_deref(), &table)?.map(|(_, t)| items::table_json(t)))
        })
        .await?
    };
    let mut update = book::tables::TableUpdate::default();
    for (k, v) in &body {
        let flag = |v: &Value| {
            v.as_bool().ok_or_else(|| GraphError::invalid_argument(format!("{k} must be true or false, not {v}.")))
        };
        match k.to_ascii_lowercase().as_str() {
            _ if v.is_null() => {}
            "name" => {
                update.name =
                    Some(v.as_str().ok_or_else(|| GraphError::invalid_argument("name must be a string."))?.to_string())
            }
            "style" => {
                update.style =
                    Some(v.as_str().ok_or_else(|| GraphError::invalid_argument("style must be a string."))?.to_string())
            }
            "highlightfirstcolumn" => update.first_column = Some(flag(v)?),
            "highlightlastcolumn" => update.last_column = Some(flag(v)?),
            "showbandedrows" => update.row_stripes = Some(flag(v)?),
            "showbandedcolumns" => update.column_stripes = Some(flag(v)?),
            "showheaders" => update.show_headers = Some(flag(v)?),
            "showtotals" => update.show_totals = Some(flag(v)?),
            "showfilterbutton" => update.show_filter_button = Some(flag(v)?),
            "id" | "legacyid" => {}
            k if k.starts_with('@') => {}
            _ => return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set on a table."))),
        }
    }
    let display = current["name"].as_str().unwrap_or(&table).to_string();
    let after = update.name.clone().unwrap_or_else(|| display.clone());
    let edit = book::Edit::UpdateTable { table: display, update };
    let read_back = move |wb: &book::Workbook| {
        Ok(navigate::find_table(wb, sheet.as_deref(), &after)?.map(|(_, t)| items::table_json(t)))
    };
    let user = ctx.who.drive_owner();
    let json = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    Ok(entity(&ctx, "tables/$entity", json))
}

/// `DELETE tables/{t}` (200 with no body; its cells are cleared) and `convertToRange` (200 with
/// the range the table covered; formulas naming it now name its cells).
async fn table_remove(
    ctx: Ctx,
    address: ItemAddress,
    sheet: Option<String>,
    table: String,
    keep_cells: bool,
) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let (name, sheet_name, area) = lookup(&ctx, &address, move |wb| {
        Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
            .map(|(s, t)| (t.display_name.clone(), s.to_string(), t.area)))
    })
    .await?;
    let edit = book::Edit::RemoveTable { table: name, keep_cells };
    let max_read = ctx.app.config.max_read_cells;
    let read_back = move |wb: &book::Workbook| -> Result<Option<range::RangeRead>, BookError> {
        if keep_cells {
            range::RangeRead::read(wb, &sheet_name, area, max_read).map(Some)
        } else {
            Ok(None)
        }
    };
    let user = ctx.who.drive_owner();
    let read = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)?;
    match read {
        Some(read) => Ok(range_response(&ctx, &read)),
        None => Ok(StatusCode::OK.into_response()),
    }
}

/// `tables/add` (200) and `worksheets/{w}/tables/add` (201): a table over `address` (with its
/// sheet, or on the URL's worksheet; without either, the first visible worksheet), whose first
/// row names the columns when `hasHeaders` (the default: nothing moves); without headers a
/// header row is inserted above the data. Answers the table.
async fn table_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>, created: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let text = body_string(&body, "address")?.ok_or_else(|| GraphError::invalid_argument("address is required."))?;
    let has_headers = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case("hasHeaders")).map(|(_, v)| v) {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(GraphError::invalid_argument(format!("hasHeaders must be true or false, not {other}.")))
        }
    };
    let (sheet_name, area) = lookup(&ctx, &address, move |wb| {
        let parsed = match book::SheetArea::parse(&text) {
            Ok(p) => p,
            Err(e) => return Ok(Err(GraphError::invalid_argument(format!("The address '{text}' is not valid: {e}.")))),
        };
        let on = match (&sheet, &parsed.sheet) {
            (Some(s), _) => range::find_worksheet(wb, s)?,
            (None, Some(s)) => range::find_worksheet(wb, s)?,
            (None, None) => match wb.model().sheets.iter().find(|s| {
                s.kind == book::model::SheetKind::Worksheet && s.visibility == book::model::Visibility::Visible
            }) {
                Some(s) => s.name.clone(),
                None => return Ok(Err(GraphError::invalid_argument("The workbook has no visible worksheet."))),
            },
        };
        Ok(range::parse_area(&on, Some(&text)).map(|area| (on, area)))
    })
    .await?;
    let edit = book::Edit::AddTable { sheet: sheet_name, area: area.to_a1(), has_headers };
    // The new table has the highest id.
    let read_back = |wb: &book::Workbook| -> Result<Value, BookError> {
        let newest = wb.model().sheets.iter().flat_map(|s| s.tables.iter()).max_by_key(|t| t.id);
        Ok(newest.map(items::table_json).unwrap_or(Value::Null))
    };
    let user = ctx.who.drive_owner();
    let json = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)?;
    let mut response = entity(&ctx, "tables/$entity", json);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// A table column's `values` from a body: one value per row of the table (a 2-D array of one
/// column, header first), read as a range update of that shape would read them.
fn column_values(
    body: &serde_json::Map<String, Value>,
    rows: u32,
    max_write: u64,
) -> Result<Option<Vec<Option<book::CellInput>>>, GraphError> {
    let Some(v) = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("values")).map(|(_, v)| v).filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let mut one = serde_json::Map::new();
    one.insert("values".into(), v.clone());
    let block = book::Area::cells(0, 0, rows - 1, 0);
    match range::patch_edit("-", &block, &one, max_write)? {
        Some(book::Edit::SetCells(set)) => {
            Ok(set.inputs.map(|rows| rows.into_iter().map(|mut r| r.pop().flatten()).collect()))
        }
        _ => Ok(None),
    }
}

/// The table a column call names: its display name, rows, whether it has a header row.
async fn table_shape(
    ctx: &Ctx,
    address: &ItemAddress,
    sheet: &Option<String>,
    table: &str,
) -> Result<(String, u32, bool), GraphError> {
    let (sheet, table) = (sheet.clone(), table.to_string());
    lookup(ctx, address, move |wb| {
        Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
            .map(|(_, t)| (t.display_name.clone(), t.area.rows() as u32, t.header_rows > 0)))
    })
    .await
}

/// `columns/add` (200) and `POST columns` (201): `index` (null: at the end), `name` and
/// `values` (one per row of the table, header first; `name` wins over a header value).
/// Answers the new column.
async fn column_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, created: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let (table_name, rows, headers) = table_shape(&ctx, &address, &sheet, &table).await?;
    let mut index = None;
    for (k, v) in &body {
        match k.to_ascii_lowercase().as_str() {
            "index" => index = optional_index(v, "column")?,
            "name" | "values" | "id" => {}
            k if k.starts_with('@') => {}
            _ => return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set on a column."))),
        }
    }
    let name = body_string(&body, "name")?;
    let mut values = column_values(&body, rows, ctx.app.config.max_write_cells)?;
    if let (Some(v), true, true) = (values.as_mut(), name.is_some(), headers) {
        v[0] = None;
    }
    let edit = book::Edit::AddTableColumn { table: table_name.clone(), index, name, values };
    let read_back = move |wb: &book::Workbook| {
        let at = match index {
            Some(i) => i64::from(i),
            None => match navigate::find_table(wb, sheet.as_deref(), &table_name)? {
                Ok((_, t)) => t.columns.len() as i64 - 1,
                Err(e) => return Ok(Err(e)),
            },
        };
        items::column_get(wb, sheet.as_deref(), &table_name, Err(at))
    };
    let user = ctx.who.drive_owner();
    let json = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    let mut response = entity(&ctx, "columns/$entity", json);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// PATCH of a table column: its `values` (one per row, header first; a new header renames the
/// column, formulas naming it follow) and `name` (the header cell's text, winning over a header
/// value). Its `id` and `index` may be sent back as they are.
async fn column_update(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, column: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let current = {
        let (sheet, table, column) = (sheet.clone(), table.clone(), column.clone());
        lookup(&ctx, &address, move |wb| items::column_get(wb, sheet.as_deref(), &table, Ok(&column))).await?
    };
    let (table_name, rows, headers) = table_shape(&ctx, &address, &sheet, &table).await?;
    // `2` and `"2"` are the same id.
    let same = |a: &Value, b: &Value| a.to_string().trim_matches('"') == b.to_string().trim_matches('"');
    for (k, v) in &body {
        match k.to_ascii_lowercase().as_str() {
            "name" | "values" => {}
            key @ ("id" | "index") if v.is_null() || same(&current[key], v) => {}
            "id" | "index" => return Err(GraphError::invalid_argument(format!("A column's {k} cannot be changed."))),
            k if k.starts_with('@') => {}
            _ => return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set on a column."))),
        }
    }
    let name = body_string(&body, "name")?;
    if name.is_some() && !headers {
        return Err(GraphError::invalid_argument(format!(
            "Table '{table_name}' shows no header row to hold a column name."
        )));
    }
    let mut values = column_values(&body, rows, ctx.app.config.max_write_cells)?;
    if let Some(n) = &name {
        values.get_or_insert_with(|| vec![None; rows as usize])[0] = Some(book::CellInput::Text(n.clone()));
    }
    let index = current["index"].as_i64().unwrap_or_default();
    let on_sheet = sheet.clone();
    let read_back = move |wb: &book::Workbook| items::column_get(wb, sheet.as_deref(), &table_name, Err(index));
    let located = locate(
        &ctx,
        &item.id,
        RangeRef {
            base: RangeBase::TableColumn {
                sheet: on_sheet,
                table: table.clone(),
                column: current["name"].as_str().unwrap_or(&column).to_string(),
                part: navigate::TablePart::Range,
            },
            steps: vec![],
        },
    )
    .await?;
    let user = ctx.who.drive_owner();
    let result = match values {
        Some(v) => {
            let edit = book::Edit::SetCells(book::SetCells {
                sheet: located.sheet.clone(),
                row: located.area.first_row,
                col: located.area.first_col,
                rows,
                cols: 1,
                inputs: Some(v.into_iter().map(|x| vec![x]).collect()),
                number_formats: None,
            });
            ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await
        }
        None => ctx.app.host.read(user, &item.id, target(&ctx), read_back).await,
    };
    let json = result.map_err(workbook_error)??;
    Ok(entity(&ctx, "columns/$entity", json))
}

/// `DELETE columns/{c}`: the column goes, the columns after it move left; formulas naming it
/// get `#REF!`. 200 with no body.
async fn column_delete(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, column: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let (table_name, column_name) = {
        let (sheet, table, column) = (sheet.clone(), table.clone(), column.clone());
        lookup(&ctx, &address, move |wb| {
            let json = match items::column_get(wb, sheet.as_deref(), &table, Ok(&column))? {
                Ok(j) => j,
                Err(e) => return Ok(Err(e)),
            };
            Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
                .map(|(_, t)| (t.display_name.clone(), json["name"].as_str().unwrap_or_default().to_string())))
        })
        .await?
    };
    let edit = book::Edit::DeleteTableColumn { table: table_name, column: column_name };
    let user = ctx.who.drive_owner();
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

/// An `index` of a body: null (at the end) or a 0-based row or column number.
fn optional_index(v: &Value, what: &str) -> Result<Option<u32>, GraphError> {
    match v {
        Value::Null => Ok(None),
        v => v
            .as_u64()
            .and_then(|i| u32::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| GraphError::invalid_argument(format!("index must be null or a {what} number, not {v}."))),
    }
}

/// A string property of a JSON body, in any case; `Ok(None)` when absent or null.
fn body_string(body: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, GraphError> {
    match body.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(GraphError::invalid_argument(format!("{key} must be a string, not {other}."))),
    }
}

/// `names/add` (`name`, `reference`, `comment`) and `names/addFormulaLocal` (`formula` instead of
/// `reference`); under `worksheets/{w}` the name is the sheet's own. Answers the named item.
async fn name_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>, formula_local: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let name = body_string(&body, "name")?.ok_or_else(|| GraphError::invalid_argument("name is required."))?;
    let what = if formula_local { "formula" } else { "reference" };
    // A reference may come as a string or, from some clients, as a number or boolean constant.
    let formula = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case(what)).map(|(_, v)| v) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string().to_ascii_uppercase(),
        _ => return Err(GraphError::invalid_argument(format!("{what} is required."))),
    };
    let comment = body_string(&body, "comment")?;
    let sheet_name = match &sheet {
        Some(s) => {
            let key = s.clone();
            Some(lookup(&ctx, &address, move |wb| Ok(Ok(range::find_worksheet(wb, &key)?))).await?)
        }
        None => None,
    };
    let edit = book::Edit::AddName { name: name.clone(), sheet: sheet_name, formula, comment };
    let read_back = move |wb: &book::Workbook| items::name_get(wb, sheet.as_deref(), &name);
    let user = ctx.who.drive_owner();
    let named = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    Ok(entity(&ctx, "names/$entity", named))
}

/// PATCH of a named item: `visible` and `comment`; its read-only properties may be sent back
/// unchanged (the page's example does).
async fn name_update(ctx: Ctx, address: ItemAddress, sheet: Option<String>, name: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let current = {
        let (sheet, name) = (sheet.clone(), name.clone());
        lookup(&ctx, &address, move |wb| items::name_get(wb, sheet.as_deref(), &name)).await?
    };
    let (mut visible, mut comment) = (None, None);
    for (k, v) in &body {
        match (k.to_ascii_lowercase().as_str(), v) {
            ("visible", Value::Bool(b)) => visible = Some(*b),
            ("comment", Value::String(s)) => comment = Some(s.clone()),
            (_, Value::Null) => {}
            ("name" | "type" | "scope" | "value", _) => {}
            (k, _) if k.starts_with('@') => {}
            (k, v) => {
                return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set to {v} on a name.")))
            }
        }
    }
    let sheet_name = match &sheet {
        Some(s) => {
            let key = s.clone();
            Some(lookup(&ctx, &address, move |wb| Ok(Ok(range::find_worksheet(wb, &key)?))).await?)
        }
        None => None,
    };
    let real = current["name"].as_str().unwrap_or(&name).to_string();
    let edit = book::Edit::UpdateName { name: real.clone(), sheet: sheet_name, visible, comment };
    let read_back = move |wb: &book::Workbook| items::name_get(wb, sheet.as_deref(), &real);
    let user = ctx.who.drive_owner();
    let named = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    Ok(entity(&ctx, "names/$entity", named))
}

/// `merge` (`across`: each row on its own) and `unmerge`; both answer 200 with no body.
async fn range_merge(ctx: Ctx, address: ItemAddress, range: RangeRef, merge: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let across = match body.iter().find(|(k, _)| k.eq_ignore_ascii_case("across")).map(|(_, v)| v) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(GraphError::invalid_argument(format!("across must be true or false, not {other}."))),
    };
    let found = locate(&ctx, &item.id, range).await?;
    let (sheet, area) = (found.sheet, found.area.to_a1());
    let edit = if merge { book::Edit::Merge { sheet, area, across } } else { book::Edit::Unmerge { sheet, area } };
    let user = ctx.who.drive_owner();
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

/// `insert` (`shift` Down or Right; answers the inserted cells' range) and `delete` (`shift`
/// Up or Left; answers 200 with no body). References everywhere follow the moved cells.
async fn range_shift(ctx: Ctx, address: ItemAddress, range: RangeRef, insert: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let shift = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("shift")).map(|(_, v)| v);
    let choices = if insert { ["Down", "Right"] } else { ["Up", "Left"] };
    let axis = match shift {
        Some(Value::String(s)) if s.eq_ignore_ascii_case(choices[0]) => book::Axis::Rows,
        Some(Value::String(s)) if s.eq_ignore_ascii_case(choices[1]) => book::Axis::Cols,
        other => {
            let got = other.map_or_else(|| "nothing".to_string(), Value::to_string);
            return Err(GraphError::invalid_argument(format!(
                "shift must be {} or {}, not {got}.",
                choices[0], choices[1]
            )));
        }
    };
    let user = ctx.who.drive_owner();
    let found = locate(&ctx, &item.id, range).await?;
    let edit = book::Edit::ShiftCells(book::Shift::of_area(&found.sheet, &found.area, axis, insert));
    let (name, area) = (found.sheet.clone(), found.area);
    let max_read = ctx.app.config.max_read_cells;
    let read_back = move |wb: &book::Workbook| -> Result<Option<range::RangeRead>, BookError> {
        if !insert {
            return Ok(None);
        }
        range::RangeRead::read(wb, &name, area, max_read).map(Some)
    };
    let result = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)?;
    match result {
        Some(read) => Ok(range_response(&ctx, &read)),
        // The page and the catalogue: 200 with no body.
        None => Ok(StatusCode::OK.into_response()),
    }
}

/// A range's visible view: its rows that are not hidden (`visibleView`), each of them as a
/// view (`rows`, `itemAt`), or the range the view belongs to (`range`).
async fn range_view(ctx: Ctx, address: ItemAddress, range: RangeRef, part: ViewPart) -> Answer {
    enum Answered {
        View(Value),
        Views(Vec<Value>),
        Range(range::RangeRead),
    }
    let max_read = ctx.app.config.max_read_cells;
    let answer = lookup(&ctx, &address, move |wb| {
        let found = match navigate::locate(wb, &range)? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        if found.area.cell_count() > max_read {
            return Ok(Err(range::too_large(found.area.cell_count(), max_read)));
        }
        let (sheet, area) = (&found.sheet, &found.area);
        let rows = items::visible_rows(wb, sheet, area);
        Ok(Ok(match part {
            ViewPart::Whole => Answered::View(items::view_json(wb, sheet, area, &rows, 0)?),
            ViewPart::Rows => Answered::Views(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| items::view_json(wb, sheet, area, &[*r], i))
                    .collect::<Result<_, _>>()?,
            ),
            ViewPart::ItemAt(i) => match usize::try_from(i).ok().and_then(|i| rows.get(i).map(|r| (i, *r))) {
                Some((i, r)) => Answered::View(items::view_json(wb, sheet, area, &[r], i)?),
                None => return Ok(Err(GraphError::item_not_found(format!("The view has no row {i}.")))),
            },
            ViewPart::Range => Answered::Range(range::RangeRead::read(wb, sheet, *area, max_read)?),
        }))
    })
    .await?;
    Ok(match answer {
        Answered::View(v) => entity(&ctx, "workbookRangeView", v),
        Answered::Views(v) => collection(&ctx, "workbookRangeView", v),
        Answered::Range(r) => range_response(&ctx, &r),
    })
}

// ---- workbook: names, tables, application ----

/// Runs a read that may fail with a Graph error about the request (an unknown table, …).
async fn lookup<R: Send + 'static>(
    ctx: &Ctx,
    address: &ItemAddress,
    f: impl FnOnce(&book::Workbook) -> navigate::LocateResult<R> + Send + 'static,
) -> Result<R, GraphError> {
    let item = workbook_item(ctx, address).await?;
    ctx.app.host.read(ctx.who.drive_owner(), &item.id, target(ctx), f).await.map_err(workbook_error)?
}

fn entity(ctx: &Ctx, context: &str, body: Value) -> Response {
    json_response(StatusCode::OK, entity_body(ctx, context, body))
}

/// An entity with its `@odata.context`, its `@odata.id` where Graph gives one, and `$select`.
fn entity_body(ctx: &Ctx, context: &str, mut body: Value) -> Value {
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
fn entity_key(set: &str, body: &Value) -> Option<String> {
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
fn unversioned_path(request_path: &str) -> Option<&str> {
    let rest = request_path.trim_end_matches('/').get(1..)?;
    rest.find('/').map(|slash| &rest[slash..])
}

/// The path of the entity set an entity request addressed, as the client wrote it and without
/// the version: `…/tables/Sales`, `…/tables('Sales')` and `…/tables/add` give `…/tables`.
fn entity_set_path(request_path: &str) -> Option<String> {
    let (parent, last) = unversioned_path(request_path)?.rsplit_once('/')?;
    Some(match last.split_once('(') {
        Some((set, _)) if ["worksheets", "tables", "names", "columns"].iter().any(|c| set.eq_ignore_ascii_case(c)) => {
            format!("{parent}/{set}")
        }
        _ => parent.to_string(),
    })
}

/// `{set}(%27{key}%27)`, the key percent-encoded, as Graph writes `@odata.id`.
fn odata_id(set_path: &str, key: &str) -> String {
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
fn collection(ctx: &Ctx, context: &str, mut values: Vec<Value>) -> Response {
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
fn paged_collection(ctx: &Ctx, context: &str, page: Vec<Value>, total: usize) -> Response {
    let query = ctx.uri.query().unwrap_or("");
    let body = ctx.odata.collection_body(ctx.odata_context(context), page, total, &ctx.url(), query);
    json_response(StatusCode::OK, body)
}

async fn name_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>) -> Answer {
    let names = lookup(&ctx, &address, move |wb| Ok(Ok(items::names_json(wb, sheet.as_deref())?))).await?;
    Ok(collection(&ctx, "names", names))
}

async fn name_get(ctx: Ctx, address: ItemAddress, sheet: Option<String>, name: String) -> Answer {
    let found = lookup(&ctx, &address, move |wb| items::name_get(wb, sheet.as_deref(), &name)).await?;
    Ok(entity(&ctx, "names/$entity", found))
}

async fn table_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>) -> Answer {
    let tables = lookup(&ctx, &address, move |wb| Ok(Ok(items::tables_json(wb, sheet.as_deref())?))).await?;
    Ok(collection(&ctx, "tables", tables))
}

async fn table_get(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let found = lookup(&ctx, &address, move |wb| items::table_get(wb, sheet.as_deref(), &table)).await?;
    Ok(entity(&ctx, "tables/$entity", found))
}

async fn column_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let columns = lookup(&ctx, &address, move |wb| items::columns_json(wb, sheet.as_deref(), &table)).await?;
    Ok(collection(&ctx, "columns", columns))
}

/// `count()` (`{"value": n}`, an `Edm.Int32`) or `$count` (the number as plain text).
async fn collection_count(ctx: Ctx, address: ItemAddress, collection: Collection, text: bool) -> Answer {
    let count = lookup(&ctx, &address, move |wb| {
        let rows = matches!(collection, Collection::TableRows { .. });
        Ok(Ok(match collection {
            Collection::Worksheets => range::worksheets_json(wb).len(),
            Collection::Names { sheet } => items::names_json(wb, sheet.as_deref())?.len(),
            Collection::Tables { sheet } => items::tables_json(wb, sheet.as_deref())?.len(),
            Collection::TableRows { sheet, table } | Collection::TableColumns { sheet, table } => {
                match navigate::find_table(wb, sheet.as_deref(), &table)? {
                    Ok((_, t)) if rows => navigate::table_rows(t, navigate::TablePart::DataBody)
                        .map_or(0, |(first, last)| (last - first + 1) as usize),
                    Ok((_, t)) => t.columns.len(),
                    Err(e) => return Ok(Err(e)),
                }
            }
        }))
    })
    .await?;
    if text {
        let mut response = count.to_string().into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return Ok(response);
    }
    let body = json!({ "@odata.context": ctx.odata_context("Edm.Int32"), "value": count });
    Ok(json_response(StatusCode::OK, body))
}

/// The `index` of an `itemAt` call: from the URL, else from the JSON body.
fn item_index(ctx: &Ctx, from_url: Option<i64>) -> Result<i64, GraphError> {
    if let Some(i) = from_url {
        return Ok(i);
    }
    let body = json_body(ctx)?;
    match body.iter().find(|(k, _)| k.eq_ignore_ascii_case("index")).map(|(_, v)| v) {
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or_default()),
        Some(other) => Err(GraphError::invalid_argument(format!("index must be a whole number, not {other}."))),
        None => Err(GraphError::invalid_argument("itemAt needs an index.")),
    }
}

async fn column_get(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, column: MemberKey) -> Answer {
    let key = match column {
        MemberKey::Key(k) => Ok(k),
        MemberKey::At(i) => Err(item_index(&ctx, i)?),
    };
    let found = lookup(&ctx, &address, move |wb| {
        items::column_get(wb, sheet.as_deref(), &table, key.as_ref().map(String::as_str).map_err(|i| *i))
    })
    .await?;
    Ok(entity(&ctx, "columns/$entity", found))
}

async fn row_list(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String) -> Answer {
    let options = ctx.odata.clone();
    let (rows, total) = lookup(&ctx, &address, move |wb| {
        items::rows_json(wb, sheet.as_deref(), &table, |total| options.page_range(total))
    })
    .await?;
    Ok(paged_collection(&ctx, "rows", rows, total))
}

async fn row_get(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, row: MemberKey) -> Answer {
    let index = match row {
        MemberKey::Key(k) => k
            .trim()
            .parse()
            .map_err(|_| GraphError::invalid_argument(format!("A row index must be a whole number, not '{k}'.")))?,
        MemberKey::At(i) => item_index(&ctx, i)?,
    };
    let found = lookup(&ctx, &address, move |wb| items::row_get(wb, sheet.as_deref(), &table, index)).await?;
    Ok(entity(&ctx, "rows/$entity", found))
}

/// PATCH of a table row: its `values` (one row as wide as the table; `null` leaves a cell).
/// The row's `index` may be sent back as it is.
async fn row_update(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, index: i64) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let mut values = serde_json::Map::new();
    for (k, v) in &body {
        match k.to_ascii_lowercase().as_str() {
            "values" => {
                values.insert("values".to_string(), v.clone());
            }
            "index" if v.as_i64() == Some(index) || v.is_null() => {}
            k if k.starts_with('@') => {}
            _ => return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set on a table row."))),
        }
    }
    let user = ctx.who.drive_owner();
    let range =
        RangeRef { base: RangeBase::TableRow { sheet: sheet.clone(), table: table.clone(), index }, steps: vec![] };
    let found = locate(&ctx, &item.id, range).await?;
    let read_back = move |wb: &book::Workbook| items::row_get(wb, sheet.as_deref(), &table, index);
    let result = match range::patch_edit(&found.sheet, &found.area, &values, ctx.app.config.max_write_cells)? {
        Some(edit) => ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await,
        None => ctx.app.host.read(user, &item.id, target(&ctx), read_back).await,
    };
    let row = result.map_err(workbook_error)??;
    Ok(entity(&ctx, "rows/$entity", row))
}

/// `rows/add` (200) and `POST rows` (201): `index` (null: at the end) and `values`, one array
/// per row, each as long as the table is wide; no values adds one blank row. Answers the first
/// added row.
async fn row_add(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, created: bool) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let mut index: Option<u32> = None;
    let mut values: Option<Value> = None;
    for (k, v) in &body {
        match k.to_ascii_lowercase().as_str() {
            "index" => index = optional_index(v, "row")?,
            "values" => values = Some(v.clone()).filter(|v| !v.is_null()),
            k if k.starts_with('@') => {}
            _ => return Err(GraphError::invalid_argument(format!("The property '{k}' cannot be set on a table row."))),
        }
    }
    let (table_name, width) = {
        let (sheet, table) = (sheet.clone(), table.clone());
        lookup(&ctx, &address, move |wb| {
            Ok(navigate::find_table(wb, sheet.as_deref(), &table)?
                .map(|(_, t)| (t.display_name.clone(), t.area.last_col - t.area.first_col + 1)))
        })
        .await?
    };
    let count = match &values {
        Some(Value::Array(rows)) if !rows.is_empty() => rows.len(),
        Some(Value::Array(_)) => return Err(GraphError::invalid_argument("values holds no rows.")),
        Some(other) => {
            return Err(GraphError::invalid_argument(format!("values must be an array of rows, not {other}.")))
        }
        None => 1,
    };
    // The values are read as a range update over a block of the new rows' shape would be.
    let inputs = match values {
        None => None,
        Some(v) => {
            let block = book::Area::cells(0, 0, count as u32 - 1, width - 1);
            let mut one = serde_json::Map::new();
            one.insert("values".into(), v);
            match range::patch_edit("-", &block, &one, ctx.app.config.max_write_cells)? {
                Some(book::Edit::SetCells(set)) => set.inputs,
                _ => None,
            }
        }
    };
    let edit = book::Edit::AddTableRows { table: table_name.clone(), index, count: count as u32, inputs };
    let read_back = move |wb: &book::Workbook| {
        let at = match index {
            Some(i) => i64::from(i),
            // Rows were added at the end: the first of them is `count` rows from it.
            None => match items::rows_json(wb, sheet.as_deref(), &table_name, |_| 0..0)? {
                Ok((_, total)) => total as i64 - count as i64,
                Err(e) => return Ok(Err(e)),
            },
        };
        items::row_get(wb, sheet.as_deref(), &table_name, at)
    };
    let user = ctx.who.drive_owner();
    // In a session, `Prefer: respond-async` makes it an operation: 202 and where to poll.
    if let (true, Some(session)) = (prefers_async(&ctx), ctx.header(SESSION_HEADER).map(str::to_string)) {
        let (host, owner, id) = (ctx.app.host.clone(), user.to_string(), item.id.clone());
        let op = ctx.app.host.start_operation(user, &item.id, async move {
            match host.write(&owner, &id, Target::Session(&session), edit, read_back).await? {
                Ok(row) => Ok(Outcome::Value(row)),
                Err(e) => Err(HostError::Book(BookError::InvalidEdit(e.message))),
            }
        });
        let mut response = json_response(StatusCode::ACCEPTED, json!({}));
        if let Ok(v) = HeaderValue::from_str(&format!("{}/operations/{op}", workbook_url(&ctx))) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        return Ok(response);
    }
    let row = ctx.app.host.write(user, &item.id, target(&ctx), edit, read_back).await.map_err(workbook_error)??;
    let mut response = entity(&ctx, "rows/$entity", row);
    if created {
        *response.status_mut() = StatusCode::CREATED;
    }
    Ok(response)
}

/// `DELETE rows/{index}`: the row goes, the rows below move up. 200 with no body.
async fn row_delete(ctx: Ctx, address: ItemAddress, sheet: Option<String>, table: String, index: i64) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let table_name = {
        let (sheet, table) = (sheet.clone(), table.clone());
        lookup(&ctx, &address, move |wb| {
            let found = match navigate::find_table(wb, sheet.as_deref(), &table)? {
                Ok((_, t)) => t,
                Err(e) => return Ok(Err(e)),
            };
            let rows = navigate::table_rows(found, navigate::TablePart::DataBody).map_or(0, |(a, b)| b - a + 1);
            if !(0..i64::from(rows)).contains(&index) {
                return Ok(Err(GraphError::item_not_found(format!(
                    "Row {index} of table '{}' was not found.",
                    found.display_name
                ))));
            }
            Ok(Ok(found.display_name.clone()))
        })
        .await?
    };
    let edit = book::Edit::DeleteTableRows { table: table_name, index: index as u32, count: 1 };
    let user = ctx.who.drive_owner();
    ctx.app.host.write(user, &item.id, target(&ctx), edit, |_| Ok(())).await.map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

/// `POST functions/{name}`: the body's named arguments (values, `{"address": …}` ranges, arrays,
/// and for list parameters a JSON array of them) in Excel's order, evaluated over the workbook
/// as it is in the session (or as stored); nothing changes. Answers `workbookFunctionResult`.
async fn function_call(ctx: Ctx, address: ItemAddress, name: String) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let sig = functions::signature(&name).ok_or_else(|| GraphError::unknown_segment(&name))?;
    let args = functions::arguments(sig, &json_body(&ctx)?)?;
    let excel = functions::excel_name(sig);
    let user = ctx.who.drive_owner();
    let value = ctx
        .app
        .host
        .evaluate(user, &item.id, target(&ctx), move |wb| {
            if !book::Workbook::has_function(&excel) {
                return Ok(Err(GraphError::not_implemented(&format!("workbook-functions ({})", sig.name))));
            }
            // References without a sheet are on the first visible worksheet.
            let home = wb
                .model()
                .sheets
                .iter()
                .find(|s| {
                    s.kind == book::model::SheetKind::Worksheet && s.visibility == book::model::Visibility::Visible
                })
                .map(|s| s.name.clone());
            let Some(home) = home else {
                return Ok(Err(GraphError::invalid_argument("The workbook has no visible worksheet.")));
            };
            for a in &args {
                if let functions::Arg::Reference(r) = a {
                    if let Some(s) = &r.sheet {
                        if range::find_worksheet(wb, s).is_err() {
                            return Ok(Err(GraphError::item_not_found(format!("The worksheet '{s}' was not found."))));
                        }
                    }
                }
            }
            let formula = functions::formula(&excel, &args, &home);
            if formula.len() > 8192 {
                return Ok(Err(GraphError::invalid_argument(
                    "The arguments make a formula longer than Excel's 8,192 characters.",
                )));
            }
            wb.evaluate(&home, &formula).map(Ok)
        })
        .await
        .map_err(workbook_error)??;
    let (error, value) = functions::result(&value);
    // Graph names the call itself: `…/workbook/functions/vlookup()`.
    let called = unversioned_path(ctx.path());
    let body = json!({
        "@odata.context": ctx.odata_context("workbookFunctionResult"),
        "@odata.type": "#microsoft.graph.workbookFunctionResult",
        "@odata.id": called.map(|p| format!("{p}()")),
        "error": error,
        "value": value,
    });
    Ok(json_response(StatusCode::OK, body))
}

fn calculation_mode(mode: book::model::CalcMode) -> &'static str {
    match mode {
        book::model::CalcMode::Automatic => "Automatic",
        book::model::CalcMode::AutomaticNoTables => "AutomaticExceptTables",
        book::model::CalcMode::Manual => "Manual",
    }
}

async fn application_get(ctx: Ctx, address: ItemAddress) -> Answer {
    let mode = lookup(&ctx, &address, |wb| Ok(Ok(wb.calc_mode()))).await?;
    Ok(entity(&ctx, "workbookApplication", json!({ "calculationMode": calculation_mode(mode) })))
}

/// `calculate`: `Recalculate` recalculates what changed, `Full` and `FullRebuild` everything.
/// Answers 200 with no body, as the docs show.
async fn application_calculate(ctx: Ctx, address: ItemAddress) -> Answer {
    let item = workbook_item(&ctx, &address).await?;
    let body = json_body(&ctx)?;
    let kind = body.iter().find(|(k, _)| k.eq_ignore_ascii_case("calculationType")).map(|(_, v)| v);
    let full = match kind {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Recalculate") => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("Full") || s.eq_ignore_ascii_case("FullRebuild") => true,
        Some(other) => {
            return Err(GraphError::invalid_argument(format!(
                "calculationType must be Recalculate, Full or FullRebuild, not {other}."
            )))
        }
    };
    ctx.app
        .host
        .write(ctx.who.drive_owner(), &item.id, target(&ctx), book::Edit::Calculate { full }, |_| Ok(()))
        .await
        .map_err(workbook_error)?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn entity_tag_lists_keep_commas_inside_quotes() {
        assert_eq!(super::entity_tags(r#""{A},1""#), [r#""{A},1""#]);
        assert_eq!(super::entity_tags(r#""{A},1", W/"x" , *"#), [r#""{A},1""#, r#"W/"x""#, "*"]);
    }
}
