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

use crate::context::{error_response, App, Ctx};
use crate::drive::{self, item_json, locate_drive, locate_item, upload_target, UploadTarget};
use crate::dto::responses::{self, to_json};
use crate::dto::{requests, Body as JsonBody, Request};
use crate::error::{workbook_error, Code, GraphError};
use crate::navigate::{self, RangeBase, RangeRef, RangeStep};
use crate::resolve::{Collection, DriveRef, ItemAddress, MemberKey, Operation, ViewPart};
use crate::{functions, items, range};

mod application;
mod drive_items;
mod function_calls;
mod names;
mod ranges;
mod respond;
mod sessions;
mod tables;
mod worksheets;

use application::*;
pub(crate) use drive_items::download;
use drive_items::*;
use function_calls::*;
use names::*;
use ranges::*;
use respond::*;
use sessions::*;
use tables::*;
use worksheets::*;

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
        Operation::WorksheetAdd(item) => worksheet_add(ctx, item, false).await,
        Operation::WorksheetCreate(item) => worksheet_add(ctx, item, true).await,
        Operation::WorksheetDelete { item, sheet } => worksheet_delete(ctx, item, sheet).await,
        Operation::WorksheetUpdate { item, sheet } => worksheet_update(ctx, item, sheet).await,
        Operation::RangeGet { item, range } => range_get(ctx, item, range).await,
        Operation::RangeUpdate { item, range } => range_update(ctx, item, range).await,
        Operation::RangeClear { item, range } => range_clear(ctx, item, range).await,
        Operation::RangeInsert { item, range } => range_shift(ctx, item, range, true).await,
        Operation::RangeDelete { item, range } => range_shift(ctx, item, range, false).await,
        Operation::TableUpdate { item, sheet, table } => table_update(ctx, item, sheet, table).await,
        Operation::TableDelete { item, sheet, table } => table_remove(ctx, item, sheet, table, false).await,
        Operation::TableConvertToRange { item, sheet, table } => table_remove(ctx, item, sheet, table, true).await,
        Operation::NameAdd { item, sheet } => name_add(ctx, item, sheet, false).await,
        Operation::NameAddFormulaLocal { item, sheet } => name_add(ctx, item, sheet, true).await,
        Operation::NameUpdate { item, sheet, name } => name_update(ctx, item, sheet, name).await,
        Operation::RangeMerge { item, range } => range_merge(ctx, item, range, true).await,
        Operation::RangeUnmerge { item, range } => range_merge(ctx, item, range, false).await,
        Operation::RangeView { item, range, part } => range_view(ctx, item, range, part).await,
        Operation::NameList { item, sheet } => name_list(ctx, item, sheet).await,
        Operation::NameGet { item, sheet, name } => name_get(ctx, item, sheet, name).await,
        Operation::TableList { item, sheet } => table_list(ctx, item, sheet).await,
        Operation::TableGet { item, sheet, table } => table_get(ctx, item, sheet, table).await,
        Operation::TableAdd { item, sheet } => table_add(ctx, item, sheet).await,
        Operation::TableColumnAdd { item, sheet, table } => column_add(ctx, item, sheet, table, false).await,
        Operation::TableColumnCreate { item, sheet, table } => column_add(ctx, item, sheet, table, true).await,
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
        Operation::TableRowAdd { item, sheet, table } => row_add(ctx, item, sheet, table, false).await,
        Operation::TableRowCreate { item, sheet, table } => row_add(ctx, item, sheet, table, true).await,
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

/// The drive item an address names (the caller's permission was checked before dispatch).
async fn find(ctx: &Ctx, address: &ItemAddress) -> Result<Item, GraphError> {
    // Metadata lookups are indexed reads that take microseconds: they run on the calling task,
    // since a hand-off to the blocking pool costs more than the lookup.
    let store = ctx.app.host.store().as_ref();
    let drive = locate_drive(store, &ctx.who, &address.drive)?;
    locate_item(store, &drive, address)
}

const SESSION_HEADER: &str = "workbook-session-id";

/// The workbook file a workbook call names, after the permission check.
async fn workbook_item(ctx: &Ctx, address: &ItemAddress) -> Result<Item, GraphError> {
    let found = find(ctx, address).await;
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

/// The request's JSON body (an empty one reads as `{}`).
fn json_body(ctx: &Ctx) -> Result<JsonBody, GraphError> {
    JsonBody::parse(&ctx.body)
}

/// The request's JSON body as the request type `T`.
fn request<T: Request>(ctx: &Ctx) -> Result<T, GraphError> {
    json_body(ctx)?.read()
}

fn prefers_async(ctx: &Ctx) -> bool {
    ctx.headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
}

/// Runs a read that may fail with a Graph error about the request (an unknown table, …).
async fn lookup<R: Send + 'static>(
    ctx: &Ctx,
    address: &ItemAddress,
    f: impl FnOnce(&book::Workbook) -> navigate::LocateResult<R> + Send + 'static,
) -> Result<R, GraphError> {
    let item = workbook_item(ctx, address).await?;
    ctx.app.host.read(ctx.who.drive_owner(), &item.id, target(ctx), f).await.map_err(workbook_error)?
}

/// The `index` of an `itemAt` call: from the URL, else from the JSON body.
fn item_index(ctx: &Ctx, from_url: Option<i64>) -> Result<i64, GraphError> {
    if let Some(i) = from_url {
        return Ok(i);
    }
    Ok(request::<requests::ItemAt>(ctx)?.index)
}
