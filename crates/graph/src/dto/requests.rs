//! The request bodies of the workbook API, one type per Graph page that takes a body. Cell
//! grids stay JSON here (`Value`): what a cell's JSON means is the range module's business.

use serde::Deserialize;
use serde_json::Value;

use super::body::{graph_enum, Request};

/// `createSession`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateSession {
    pub persist_changes: Option<bool>,
}
impl Request for CreateSession {
    const ENTITY: &'static str = "session";
    const OPEN: bool = true;
}

graph_enum!(
    /// `application/calculate`'s `calculationType`.
    CalculationType { Recalculate, Full, FullRebuild }
);

/// `application/calculate`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Calculate {
    pub calculation_type: Option<CalculationType>,
}
impl Request for Calculate {
    const ENTITY: &'static str = "calculation";
    const OPEN: bool = true;
}

/// A name's formula as some clients send it: text, or a number or logical constant.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FormulaText {
    Text(String),
    Number(serde_json::Number),
    Bool(bool),
}

impl FormulaText {
    /// The formula as Excel would hold it (`TRUE`, not `true`).
    pub fn into_formula(self) -> String {
        match self {
            FormulaText::Text(s) => s,
            FormulaText::Number(n) => n.to_string().to_ascii_uppercase(),
            FormulaText::Bool(b) => b.to_string().to_ascii_uppercase(),
        }
    }
}

/// `names/add` (`reference`) and `names/addFormulaLocal` (`formula`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameAdd {
    pub name: String,
    pub reference: Option<FormulaText>,
    pub formula: Option<FormulaText>,
    pub comment: Option<String>,
}
impl Request for NameAdd {
    const ENTITY: &'static str = "name";
    const OPEN: bool = true;
}

/// PATCH of a named item; its read-only properties may be sent back (the page's example does).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameUpdate {
    pub visible: Option<bool>,
    pub comment: Option<String>,
}
impl Request for NameUpdate {
    const ENTITY: &'static str = "name";
    const IGNORED: &'static [&'static str] = &["name", "type", "scope", "value"];
}

/// `worksheets/add` and `POST worksheets`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorksheetAdd {
    pub name: Option<String>,
}
impl Request for WorksheetAdd {
    const ENTITY: &'static str = "worksheet";
    const OPEN: bool = true;
}

graph_enum!(
    /// A worksheet's `visibility`.
    SheetVisibility { Visible, Hidden, VeryHidden }
);

/// PATCH of a worksheet; its `id` may be sent back as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorksheetUpdate {
    pub name: Option<String>,
    pub position: Option<u32>,
    pub visibility: Option<SheetVisibility>,
    pub id: Option<Value>,
}
impl Request for WorksheetUpdate {
    const ENTITY: &'static str = "worksheet";
}

/// `tables/add`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableAdd {
    pub address: String,
    pub has_headers: Option<bool>,
}
impl Request for TableAdd {
    const ENTITY: &'static str = "table";
    const OPEN: bool = true;
}

/// PATCH of a table.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableUpdate {
    pub name: Option<String>,
    pub style: Option<String>,
    pub highlight_first_column: Option<bool>,
    pub highlight_last_column: Option<bool>,
    pub show_banded_rows: Option<bool>,
    pub show_banded_columns: Option<bool>,
    pub show_headers: Option<bool>,
    pub show_totals: Option<bool>,
    pub show_filter_button: Option<bool>,
}
impl Request for TableUpdate {
    const ENTITY: &'static str = "table";
    const IGNORED: &'static [&'static str] = &["id", "legacyId"];
}

/// `columns/add` and `POST columns`: `values` holds one value per row of the table.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnAdd {
    pub index: Option<u32>,
    pub name: Option<String>,
    pub values: Option<Value>,
}
impl Request for ColumnAdd {
    const ENTITY: &'static str = "column";
    const IGNORED: &'static [&'static str] = &["id"];
}

/// PATCH of a table column; its `id` and `index` may be sent back as they are.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnUpdate {
    pub name: Option<String>,
    pub values: Option<Value>,
    pub id: Option<Value>,
    pub index: Option<Value>,
}
impl Request for ColumnUpdate {
    const ENTITY: &'static str = "column";
}

/// `rows/add` and `POST rows`: `values` holds one array per row.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowAdd {
    pub index: Option<u32>,
    pub values: Option<Value>,
}
impl Request for RowAdd {
    const ENTITY: &'static str = "table row";
}

/// PATCH of a table row; its `index` may be sent back as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowUpdate {
    pub values: Option<Value>,
    pub index: Option<Value>,
}
impl Request for RowUpdate {
    const ENTITY: &'static str = "table row";
}

/// The `index` of an `itemAt` call given in a body.
#[derive(Debug, Deserialize)]
pub struct ItemAt {
    pub index: i64,
}
impl Request for ItemAt {
    const ENTITY: &'static str = "itemAt call";
    const OPEN: bool = true;
}

/// PATCH of a range. Each grid is a 2-D array as large as the range, or one value for every cell.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeUpdate {
    pub values: Option<Value>,
    pub formulas: Option<Value>,
    pub formulas_local: Option<Value>,
    #[serde(rename = "formulasR1C1")]
    pub formulas_r1c1: Option<Value>,
    pub number_format: Option<Value>,
    pub number_format_local: Option<Value>,
    pub row_hidden: Option<bool>,
    pub column_hidden: Option<bool>,
}
impl Request for RangeUpdate {
    const ENTITY: &'static str = "range";
}

graph_enum!(
    /// `clear`'s `applyTo`.
    ClearApplyTo { All, Contents, Formats }
);

/// `range/clear`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeClear {
    pub apply_to: Option<ClearApplyTo>,
}
impl Request for RangeClear {
    const ENTITY: &'static str = "clear call";
    const OPEN: bool = true;
}

/// `range/merge`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeMerge {
    pub across: Option<bool>,
}
impl Request for RangeMerge {
    const ENTITY: &'static str = "merge call";
    const OPEN: bool = true;
}

graph_enum!(
    /// `insert`'s `shift`.
    InsertShift { Down, Right }
);

/// `range/insert`.
#[derive(Debug, Deserialize)]
pub struct RangeInsert {
    pub shift: InsertShift,
}
impl Request for RangeInsert {
    const ENTITY: &'static str = "insert call";
    const OPEN: bool = true;
}

graph_enum!(
    /// `delete`'s `shift`.
    DeleteShift { Up, Left }
);

/// `range/delete`.
#[derive(Debug, Deserialize)]
pub struct RangeDelete {
    pub shift: DeleteShift,
}
impl Request for RangeDelete {
    const ENTITY: &'static str = "delete call";
    const OPEN: bool = true;
}
