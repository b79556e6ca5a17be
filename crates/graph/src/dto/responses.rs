//! The workbook entities Graph answers with, one type each, in Graph's property names. Handlers
//! turn them into JSON (`to_json`) so `$select` and the OData annotations apply alike to all.

use serde::Serialize;
use serde_json::Value;

/// An entity as JSON. Plain structs of strings, numbers and JSON values always serialize.
pub fn to_json(entity: &impl Serialize) -> Value {
    serde_json::to_value(entity).unwrap_or_default()
}

/// `workbookSessionInfo`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    #[serde(rename = "@odata.context")]
    pub odata_context: String,
    pub id: String,
    pub persist_changes: bool,
}

/// `workbookApplication`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub calculation_mode: &'static str,
}

/// The answer of a `count()` function (`Edm.Int32`).
#[derive(Debug, Serialize)]
pub struct Count {
    #[serde(rename = "@odata.context")]
    pub odata_context: String,
    pub value: usize,
}

/// `workbookWorksheet`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Worksheet {
    pub id: String,
    pub name: String,
    pub position: usize,
    pub visibility: &'static str,
}

/// `workbookNamedItem`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedItem {
    pub name: String,
    pub comment: String,
    pub scope: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: Value,
    pub visible: bool,
}

/// `workbookTable`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub id: String,
    pub name: String,
    pub show_headers: bool,
    pub show_totals: bool,
    pub style: String,
    pub highlight_first_column: bool,
    pub highlight_last_column: bool,
    pub show_banded_rows: bool,
    pub show_banded_columns: bool,
    pub show_filter_button: bool,
    pub legacy_id: String,
}

/// `workbookTableColumn`: `values` holds its cells, header first.
#[derive(Debug, Serialize)]
pub struct TableColumn {
    pub id: String,
    pub index: usize,
    pub name: String,
    pub values: Value,
}

/// `workbookTableRow`.
#[derive(Debug, Serialize)]
pub struct TableRow {
    pub index: i64,
    pub values: Value,
}

/// `workbookRangeView`: each grid over the view's rows and the columns that are not hidden.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeView {
    pub index: usize,
    pub row_count: usize,
    pub column_count: usize,
    pub cell_addresses: Vec<Value>,
    pub values: Vec<Value>,
    pub formulas: Vec<Value>,
    pub formulas_local: Vec<Value>,
    #[serde(rename = "formulasR1C1")]
    pub formulas_r1c1: Vec<Value>,
    pub number_format: Vec<Value>,
    pub text: Vec<Value>,
    pub value_types: Vec<Value>,
}

/// `workbookOperation`: a long-running operation's status, where its result is once it succeeded,
/// and its error once it failed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationError>,
}

/// `workbookOperationError`, nested as Graph nests it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_error: Option<Box<OperationError>>,
}

/// `workbookFunctionResult`.
#[derive(Debug, Serialize)]
pub struct FunctionResult {
    #[serde(rename = "@odata.context")]
    pub odata_context: String,
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    #[serde(rename = "@odata.id")]
    pub odata_id: Option<String>,
    pub error: Value,
    pub value: Value,
}

/// `drive`; its `owner` is an `identitySet` keyed by the kind of owner (`user`, `group`, …).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drive {
    pub id: String,
    pub drive_type: &'static str,
    pub name: &'static str,
    pub owner: Value,
}

/// `driveItem`, with the facets workbookd has: `file` or `folder` (and `root`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveItem {
    pub id: String,
    pub name: String,
    pub size: u64,
    pub e_tag: String,
    pub created_date_time: String,
    pub last_modified_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileFacet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<FolderFacet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<Value>,
    #[serde(rename = "@microsoft.graph.downloadUrl", skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    pub parent_reference: ItemReference,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFacet {
    pub mime_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderFacet {
    pub child_count: usize,
}

/// `itemReference`: the drive an item is in, and its parent folder when it has one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReference {
    pub drive_id: String,
    pub drive_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}
