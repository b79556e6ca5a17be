//! Request paths to Graph operations.
//!
//! Graph paths do not fit route templates: `range(address='A1:B2')`, `worksheets('{id}')` and
//! `root:/folder/file.xlsx:` (which the Kiota SDKs send as one percent-encoded segment) are parsed
//! here from small segment parsers. Every workbook operation of the Graph reference is recognised
//! (`surface.tsv`); the ones workbookd serves get their own `Operation` variant, the others resolve
//! to `Operation::NotImplemented` with their name.

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::auth::Need;
use crate::error::GraphError;
use crate::navigate::{self, parse_bool, RangeBase, RangeRef, RangeStep, TablePart};

mod catalogue;
mod drive_path;
mod segment;
#[cfg(test)]
mod tests;
mod workbook_path;

pub(crate) use catalogue::surface_templates;
use catalogue::*;
use drive_path::*;
use segment::*;
use workbook_path::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    Beta,
}

/// Whose drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriveRef {
    /// `/me/drive` (and `/drive`, the caller's own).
    Me,
    User(String),
    Drive(String),
    Site(String),
    Group(String),
}

/// Which item of the drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef {
    Root,
    Id(String),
    /// A path below the root, without leading or trailing `/` (`Reports/Q1 data.xlsx`).
    Path(String),
    /// A path below the item with this id (`items/{parent-id}:/{filename}:`).
    IdPath(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemAddress {
    pub drive: DriveRef,
    pub item: ItemRef,
}

/// One variant per Graph operation workbookd serves; everything else documented is `NotImplemented`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    DriveGet(DriveRef),
    /// `GET /me/drives`, `/users/{id}/drives` (and of groups and sites): the drives of an owner.
    DriveList(DriveRef),
    ItemGet(ItemAddress),
    ItemDelete(ItemAddress),
    ItemChildren(ItemAddress),
    ContentGet(ItemAddress),
    ContentPut(ItemAddress),
    CreateSession(ItemAddress),
    RefreshSession(ItemAddress),
    CloseSession(ItemAddress),
    SessionInfo {
        item: ItemAddress,
        key: String,
    },
    OperationGet {
        item: ItemAddress,
        id: String,
    },
    /// The row an async table row add made (the key is its operation id).
    TableRowOperationResult {
        item: ItemAddress,
        key: String,
    },
    WorksheetList(ItemAddress),
    WorksheetGet {
        item: ItemAddress,
        sheet: String,
    },
    /// `worksheets/add` (200).
    WorksheetAdd(ItemAddress),
    /// `POST worksheets` (201).
    WorksheetCreate(ItemAddress),
    WorksheetUpdate {
        item: ItemAddress,
        sheet: String,
    },
    WorksheetDelete {
        item: ItemAddress,
        sheet: String,
    },
    /// A read of any range path: a worksheet address, the used range, a cell, a name, a table
    /// or a part of one, then any navigation (`cell`, `lastRow`, `offsetRange`, …).
    RangeGet {
        item: ItemAddress,
        range: RangeRef,
    },
    /// PATCH of any range path.
    RangeUpdate {
        item: ItemAddress,
        range: RangeRef,
    },
    /// `…/visibleView` of any range path, its `rows`, `itemAt(index=n)` or `range`.
    RangeView {
        item: ItemAddress,
        range: RangeRef,
        part: ViewPart,
    },
    /// `POST …/clear` on any range path.
    RangeClear {
        item: ItemAddress,
        range: RangeRef,
    },
    /// `POST …/merge` on any range path.
    RangeMerge {
        item: ItemAddress,
        range: RangeRef,
    },
    /// `POST …/unmerge` on any range path.
    RangeUnmerge {
        item: ItemAddress,
        range: RangeRef,
    },
    /// `POST …/insert` on any range path.
    RangeInsert {
        item: ItemAddress,
        range: RangeRef,
    },
    /// `POST …/delete` on any range path.
    RangeDelete {
        item: ItemAddress,
        range: RangeRef,
    },
    /// Defined names: the workbook's, or with `sheet` those scoped to that worksheet.
    NameList {
        item: ItemAddress,
        sheet: Option<String>,
    },
    /// `names/add` (`reference`), under a worksheet for its scope.
    NameAdd {
        item: ItemAddress,
        sheet: Option<String>,
    },
    /// `names/addFormulaLocal` (`formula`), under a worksheet for its scope.
    NameAddFormulaLocal {
        item: ItemAddress,
        sheet: Option<String>,
    },
    /// PATCH of a name: `visible`, `comment`.
    NameUpdate {
        item: ItemAddress,
        sheet: Option<String>,
        name: String,
    },
    NameGet {
        item: ItemAddress,
        sheet: Option<String>,
        name: String,
    },
    /// Tables: the workbook's, or with `sheet` that worksheet's.
    TableList {
        item: ItemAddress,
        sheet: Option<String>,
    },
    TableGet {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// PATCH of a table: `name`, `style` and the style options.
    TableUpdate {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// `DELETE tables/{t}`.
    TableDelete {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// `POST tables/{t}/convertToRange`.
    TableConvertToRange {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// `POST tables/add` (200) or `POST worksheets/{w}/tables/add` (201, as worksheet-post-tables
    /// documents it).
    TableAdd {
        item: ItemAddress,
        sheet: Option<String>,
    },
    /// `POST tables/{t}/columns/add` (200).
    TableColumnAdd {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// `POST tables/{t}/columns` (201).
    TableColumnCreate {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// PATCH `tables/{t}/columns/{c}`: its `values` and `name`.
    TableColumnUpdate {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
        column: String,
    },
    TableColumnDelete {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
        column: String,
    },
    TableColumnList {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// One column by id or name (`columns/{c}`), or by 0-based position (`columns/itemAt`,
    /// with `index` from the URL or the body).
    TableColumnGet {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
        column: MemberKey,
    },
    TableRowList {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    TableRowGet {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
        row: MemberKey,
    },
    /// `POST tables/{t}/rows/add` (200).
    TableRowAdd {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// `POST tables/{t}/rows` (201).
    TableRowCreate {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
    },
    /// `DELETE tables/{t}/rows/{index}` or `…/rows/$/itemAt(index=n)`.
    TableRowDelete {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
        index: i64,
    },
    /// PATCH `tables/{t}/rows/{index}`: the row's `values`.
    TableRowUpdate {
        item: ItemAddress,
        sheet: Option<String>,
        table: String,
        index: i64,
    },
    /// `POST functions/{name}`: an Excel function over the body's named arguments.
    FunctionCall {
        item: ItemAddress,
        name: String,
    },
    /// `…/count()` (`text` false: `{"value": n}`) or `…/$count` (the number as text) of a
    /// collection workbookd serves.
    CollectionCount {
        item: ItemAddress,
        collection: Collection,
        text: bool,
    },
    /// `POST /$batch`: JSON batching, each request answered as if sent alone.
    Batch,
    ApplicationGet(ItemAddress),
    ApplicationCalculate(ItemAddress),
    /// A documented workbook operation not built yet: answered 501 with its name.
    NotImplemented {
        item: ItemAddress,
        operation: String,
    },
}

impl Operation {
    /// Whether the operation answers a collection (`value`, paged by `$top` and `$skip`).
    pub fn is_collection(&self) -> bool {
        matches!(
            self,
            Operation::ItemChildren(_)
                | Operation::DriveList(_)
                | Operation::WorksheetList(_)
                | Operation::NameList { .. }
                | Operation::TableList { .. }
                | Operation::TableColumnList { .. }
                | Operation::TableRowList { .. }
                | Operation::RangeView { part: ViewPart::Rows, .. }
        )
    }

    /// The permission the operation needs, checked in one place before its handler runs; a
    /// batch needs none itself (each of its requests is checked).
    pub fn need(&self) -> Option<Need> {
        Some(match self {
            Operation::Batch => return None,
            Operation::DriveGet(_)
            | Operation::DriveList(_)
            | Operation::ItemGet(_)
            | Operation::ItemChildren(_)
            | Operation::ContentGet(_) => Need::DriveRead,
            Operation::ContentPut(_) | Operation::ItemDelete(_) => Need::DriveWrite,
            _ => Need::Workbook,
        })
    }

    /// The Graph reference page of the operation (`workbook-createsession`, `range-update`, …).
    pub fn name(&self) -> &str {
        match self {
            Operation::DriveGet(_) => "drive-get",
            Operation::DriveList(_) => "drive-list",
            Operation::ItemGet(_) => "driveitem-get",
            Operation::ItemDelete(_) => "driveitem-delete",
            Operation::ItemChildren(_) => "driveitem-list-children",
            Operation::ContentGet(_) => "driveitem-get-content",
            Operation::ContentPut(_) => "driveitem-put-content",
            Operation::CreateSession(_) => "workbook-createsession",
            Operation::RefreshSession(_) => "workbook-refreshsession",
            Operation::CloseSession(_) => "workbook-closesession",
            Operation::SessionInfo { .. } => "workbook-sessioninforesource",
            Operation::OperationGet { .. } => "workbookoperation-get",
            Operation::TableRowOperationResult { .. } => "workbook-tablerowoperationresult",
            Operation::WorksheetList(_) => "worksheet-list",
            Operation::WorksheetGet { .. } => "worksheet-get",
            Operation::WorksheetAdd(_) | Operation::WorksheetCreate(_) => "worksheetcollection-add",
            Operation::WorksheetUpdate { .. } => "worksheet-update",
            Operation::WorksheetDelete { .. } => "worksheet-delete",
            Operation::RangeGet { range, .. } => range.doc_page(),
            Operation::RangeUpdate { .. } => "range-update",
            Operation::RangeClear { .. } => "range-clear",
            Operation::RangeMerge { .. } => "range-merge",
            Operation::RangeUnmerge { .. } => "range-unmerge",
            Operation::RangeInsert { .. } => "range-insert",
            Operation::RangeDelete { .. } => "range-delete",
            Operation::RangeView { part: ViewPart::Whole, .. } => "workbookrange-visibleview",
            Operation::RangeView { part: ViewPart::Rows, .. } => "workbookrangeview-list-rows",
            Operation::RangeView { part: ViewPart::ItemAt(_), .. } => "workbookrangeview-itemat",
            Operation::RangeView { part: ViewPart::Range, .. } => "workbookrangeview-range",
            Operation::NameList { sheet: None, .. } => "nameditem-list",
            Operation::NameList { sheet: Some(_), .. } => "worksheet-list-names",
            Operation::NameGet { .. } => "nameditem-get",
            Operation::NameAdd { .. } => "nameditem-add",
            Operation::NameAddFormulaLocal { .. } => "nameditem-addformulalocal",
            Operation::NameUpdate { .. } => "nameditem-update",
            Operation::TableList { sheet: None, .. } => "table-list",
            Operation::TableList { sheet: Some(_), .. } => "worksheet-list-tables",
            Operation::TableGet { .. } => "table-get",
            Operation::TableUpdate { .. } => "table-update",
            Operation::TableDelete { .. } => "table-delete",
            Operation::TableConvertToRange { .. } => "table-converttorange",
            Operation::TableAdd { sheet: Some(_), .. } => "worksheet-post-tables",
            Operation::TableAdd { sheet: None, .. } => "tablecollection-add",
            Operation::TableColumnAdd { .. } => "tablecolumncollection-add",
            Operation::TableColumnCreate { .. } => "table-post-columns",
            Operation::TableColumnUpdate { .. } => "tablecolumn-update",
            Operation::TableColumnDelete { .. } => "tablecolumn-delete",
            Operation::TableColumnList { .. } => "tablecolumn-list",
            Operation::TableColumnGet { column: MemberKey::Key(_), .. } => "tablecolumn-get",
            Operation::TableColumnGet { column: MemberKey::At(_), .. } => "tablecolumncollection-itemat",
            Operation::TableRowList { .. } => "tablerow-list",
            Operation::TableRowGet { row: MemberKey::Key(_), .. } => "tablerow-get",
            Operation::TableRowGet { row: MemberKey::At(_), .. } => "tablerowcollection-itemat",
            Operation::TableRowUpdate { .. } => "tablerow-update",
            Operation::TableRowAdd { .. } => "tablerowcollection-add",
            Operation::TableRowCreate { .. } => "table-post-rows",
            Operation::TableRowDelete { .. } => "tablerow-delete",
            Operation::FunctionCall { .. } => "workbook-functions",
            Operation::CollectionCount { collection, .. } => match collection {
                Collection::Worksheets => "worksheetcollection-count",
                Collection::Names { .. } => "nameditemcollection-count",
                Collection::Tables { .. } => "tablecollection-count",
                Collection::TableRows { .. } => "tablerowcollection-count",
                Collection::TableColumns { .. } => "tablecolumncollection-count",
            },
            Operation::Batch => "json-batching",
            Operation::ApplicationGet(_) => "workbookapplication-get",
            Operation::ApplicationCalculate(_) => "workbookapplication-calculate",
            Operation::NotImplemented { operation, .. } => operation,
        }
    }
}

/// A workbook collection that can be counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collection {
    Worksheets,
    Names { sheet: Option<String> },
    Tables { sheet: Option<String> },
    TableRows { sheet: Option<String>, table: String },
    TableColumns { sheet: Option<String>, table: String },
}

/// A member of a table's rows or columns: by its key, or by 0-based position (`itemAt`, the
/// index from the URL or, when `None`, from the request body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberKey {
    Key(String),
    At(Option<i64>),
}

/// What of a range's visible view a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewPart {
    Whole,
    Rows,
    ItemAt(i64),
    Range,
}

/// A resolved request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub version: ApiVersion,
    pub operation: Operation,
}

/// Resolves a request's method and path (without the query string).
pub fn resolve(method: &str, path: &str) -> Result<Resolved, GraphError> {
    let segs = segments(path)?;
    let version = match segs.first() {
        Some(s) if s.is("v1.0") => ApiVersion::V1,
        Some(s) if s.is("beta") => ApiVersion::Beta,
        Some(s) => return Err(GraphError::unknown_segment(&s.name)),
        None => return Err(GraphError::unknown_segment("")),
    };
    let rest = &segs[1..];
    if let [one] = rest {
        if one.name == "$batch" && one.args.is_none() {
            return match method {
                m if m.eq_ignore_ascii_case("POST") => Ok(Resolved { version, operation: Operation::Batch }),
                _ => Err(GraphError::method_not_allowed(method, "json-batching")),
            };
        }
    }
    if let Some(owner) = drives_of(rest) {
        return match method {
            m if m.eq_ignore_ascii_case("GET") => Ok(Resolved { version, operation: Operation::DriveList(owner) }),
            _ => Err(GraphError::method_not_allowed(method, "drives")),
        };
    }
    let (drive, after_drive) = drive_ref(rest)?;
    if after_drive == rest.len() {
        // The drive itself (`GET /me/drive`): Kiota clients ask for it to learn the drive id.
        return match method {
            m if m.eq_ignore_ascii_case("GET") => Ok(Resolved { version, operation: Operation::DriveGet(drive) }),
            _ => Err(GraphError::method_not_allowed(method, "drive")),
        };
    }
    let (item, after_item) = item_ref(&rest[after_drive..])?;
    let tail = &rest[after_drive + after_item..];
    let address = ItemAddress { drive, item };
    let operation = item_operation(method, address, tail)?;
    Ok(Resolved { version, operation })
}

/// The methods a path is served under (the `Allow` header of a 405; the OpenAPI document lists
/// the same).
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| resolve(m, path).is_ok_and(|r| !matches!(r.operation, Operation::NotImplemented { .. })))
        .collect()
}
