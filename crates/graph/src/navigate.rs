//! Which cells a range path names: an entry point (a worksheet address, the used range, a
//! cell, a named item, a table or a part of one) followed by navigation steps (`cell`, `row`,
//! `lastRow`, `offsetRange`, `boundingRect`, …), as Graph chains them in the URL.

use book::address::{Area, AreaKind, SheetArea, MAX_COLS, MAX_ROWS};
use book::model::{SheetKind, Table};
use book::{BookError, Workbook};

use crate::error::GraphError;
use crate::range::{find_worksheet, parse_area};

/// A table's rows or columns: the whole, or one of its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TablePart {
    Range,
    DataBody,
    HeaderRow,
    TotalRow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeBase {
    /// `worksheets/{w}/range(address='…')`; the whole sheet without an address.
    Sheet { sheet: String, address: Option<String> },
    /// `worksheets/{w}/usedRange(valuesOnly=…)`.
    UsedRange { sheet: String, values_only: bool },
    /// `worksheets/{w}/cell(row=,column=)`, zero-based.
    Cell { sheet: String, row: i64, col: i64 },
    /// `names/{n}/range`, or `worksheets/{w}/names/{n}/range` for a sheet-scoped name.
    Name { sheet: Option<String>, name: String },
    /// `tables/{t}/range`, `…/dataBodyRange`, `…/headerRowRange`, `…/totalRowRange`.
    Table { sheet: Option<String>, table: String, part: TablePart },
    /// `tables/{t}/columns/{c}/range` and its parts.
    TableColumn { sheet: Option<String>, table: String, column: String, part: TablePart },
    /// `tables/{t}/rows/{index}/range`.
    TableRow { sheet: Option<String>, table: String, index: i64 },
}

/// One navigation step. Arguments a step was given in the URL are `Some`; the others may
/// come from the request body (the docs show some of these as GET or POST with a JSON body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeStep {
    Cell { row: Option<i64>, col: Option<i64> },
    Row(Option<i64>),
    Column(Option<i64>),
    EntireRow,
    EntireColumn,
    LastCell,
    LastRow,
    LastColumn,
    OffsetRange { rows: Option<i64>, cols: Option<i64> },
    ResizedRange { rows: Option<i64>, cols: Option<i64> },
    RowsAbove(Option<i64>),
    RowsBelow(Option<i64>),
    ColumnsBefore(Option<i64>),
    ColumnsAfter(Option<i64>),
    UsedRange { values_only: bool },
    BoundingRect(Option<String>),
    Intersection(Option<String>),
}

impl RangeStep {
    /// The step for a path segment's name, with the URL's arguments (`None`: not a step).
    pub fn parse(name: &str, arg: &dyn Fn(&str) -> Option<String>) -> Result<Option<RangeStep>, GraphError> {
        let int = |key: &str| -> Result<Option<i64>, GraphError> {
            match arg(key) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| GraphError::invalid_argument(format!("{key} must be a whole number, not '{v}'."))),
            }
        };
        let lower = name.to_ascii_lowercase();
        Ok(Some(match lower.as_str() {
            "cell" => RangeStep::Cell { row: int("row")?, col: int("column")? },
            "row" => RangeStep::Row(int("row")?),
            "column" => RangeStep::Column(int("column")?),
            "entirerow" => RangeStep::EntireRow,
            "entirecolumn" => RangeStep::EntireColumn,
            "lastcell" => RangeStep::LastCell,
            "lastrow" => RangeStep::LastRow,
            "lastcolumn" => RangeStep::LastColumn,
            "offsetrange" => RangeStep::OffsetRange { rows: int("rowOffset")?, cols: int("columnOffset")? },
            "resizedrange" => RangeStep::ResizedRange { rows: int("deltaRows")?, cols: int("deltaColumns")? },
            "rowsabove" => RangeStep::RowsAbove(int("count")?),
            "rowsbelow" => RangeStep::RowsBelow(int("count")?),
            "columnsbefore" => RangeStep::ColumnsBefore(int("count")?),
            "columnsafter" => RangeStep::ColumnsAfter(int("count")?),
            "usedrange" => RangeStep::UsedRange { values_only: parse_bool("valuesOnly", arg("valuesOnly"))? },
            "boundingrect" => RangeStep::BoundingRect(arg("anotherRange")),
            "intersection" => RangeStep::Intersection(arg("anotherRange")),
            _ => return Ok(None),
        }))
    }

    /// Whether the step's range is never larger than the range it starts from.
    pub fn never_grows(&self) -> bool {
        matches!(
            self,
            RangeStep::Cell { .. }
                | RangeStep::Row(_)
                | RangeStep::Column(_)
                | RangeStep::LastCell
                | RangeStep::LastRow
                | RangeStep::LastColumn
                | RangeStep::OffsetRange { .. }
                | RangeStep::UsedRange { .. }
                | RangeStep::Intersection(_)
        )
    }

    /// The Graph reference page of a range read ending in this step.
    pub fn doc_page(&self) -> &'static str {
        match self {
            RangeStep::Cell { .. } => "range-cell",
            RangeStep::Row(_) => "range-row",
            RangeStep::Column(_) => "range-column",
            RangeStep::EntireRow => "range-entirerow",
            RangeStep::EntireColumn => "range-entirecolumn",
            RangeStep::LastCell => "range-lastcell",
            RangeStep::LastRow => "range-lastrow",
            RangeStep::LastColumn => "range-lastcolumn",
            RangeStep::OffsetRange { .. } => "range-offsetrange",
            RangeStep::ResizedRange { .. } => "workbookrange-resizedrange",
            RangeStep::RowsAbove(_) => "workbookrange-rowsabove",
            RangeStep::RowsBelow(_) => "workbookrange-rowsbelow",
            RangeStep::ColumnsBefore(_) => "workbookrange-columnsbefore",
            RangeStep::ColumnsAfter(_) => "workbookrange-columnsafter",
            RangeStep::UsedRange { .. } => "range-usedrange",
            RangeStep::BoundingRect(_) => "range-boundingrect",
            RangeStep::Intersection(_) => "range-intersection",
        }
    }

    /// Fills arguments the URL left out from a JSON request body (names as the docs spell
    /// them, any case).
    pub fn fill_from_body(&mut self, body: &crate::dto::Body) -> Result<(), GraphError> {
        let get = |key: &str| body.get(key);
        let int = |slot: &mut Option<i64>, key: &str| -> Result<(), GraphError> {
            if slot.is_none() {
                if let Some(v) = get(key) {
                    *slot = Some(json_int(key, v)?);
                }
            }
            Ok(())
        };
        match self {
            RangeStep::Cell { row, col } => {
                int(row, "row")?;
                int(col, "column")?;
            }
            RangeStep::Row(n) => int(n, "row")?,
            RangeStep::Column(n) => int(n, "column")?,
            RangeStep::OffsetRange { rows, cols } => {
                int(rows, "rowOffset")?;
                int(cols, "columnOffset")?;
            }
            RangeStep::ResizedRange { rows, cols } => {
                int(rows, "deltaRows")?;
                int(cols, "deltaColumns")?;
            }
            RangeStep::RowsAbove(n)
            | RangeStep::RowsBelow(n)
            | RangeStep::ColumnsBefore(n)
            | RangeStep::ColumnsAfter(n) => int(n, "count")?,
            RangeStep::BoundingRect(other) | RangeStep::Intersection(other) if other.is_none() => {
                match get("anotherRange") {
                    None => {}
                    Some(serde_json::Value::String(s)) => *other = Some(s.clone()),
                    Some(v) => {
                        return Err(GraphError::invalid_argument(format!("anotherRange must be an address, not {v}.")))
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn json_int(key: &str, v: &serde_json::Value) -> Result<i64, GraphError> {
    match v {
        serde_json::Value::Number(n) => {
            n.as_i64().ok_or_else(|| GraphError::invalid_argument(format!("{key} must be a whole number, not {n}.")))
        }
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| GraphError::invalid_argument(format!("{key} must be a whole number, not '{s}'."))),
        other => Err(GraphError::invalid_argument(format!("{key} must be a whole number, not {other}."))),
    }
}

pub fn parse_bool(key: &str, v: Option<String>) -> Result<bool, GraphError> {
    match v.as_deref() {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(GraphError::invalid_argument(format!("{key} must be true or false, not '{v}'."))),
    }
}

/// A range path: where it starts and how it moves from there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRef {
    pub base: RangeBase,
    pub steps: Vec<RangeStep>,
}

impl RangeRef {
    /// The Graph reference page of a read of this range.
    pub fn doc_page(&self) -> &'static str {
        match (self.steps.last(), &self.base) {
            (Some(step), _) => step.doc_page(),
            (None, RangeBase::Sheet { address: Some(_), .. }) => "range-get",
            (None, RangeBase::Sheet { address: None, .. }) => "worksheet-range",
            (None, RangeBase::UsedRange { .. }) => "worksheet-usedrange",
            (None, RangeBase::Cell { .. }) => "worksheet-cell",
            (None, RangeBase::Name { .. }) => "nameditem-range",
            (None, RangeBase::Table { part, .. }) => match part {
                TablePart::Range => "table-range",
                TablePart::DataBody => "table-databodyrange",
                TablePart::HeaderRow => "table-headerrowrange",
                TablePart::TotalRow => "table-totalrowrange",
            },
            (None, RangeBase::TableColumn { part, .. }) => match part {
                TablePart::Range => "tablecolumn-range",
                TablePart::DataBody => "tablecolumn-databodyrange",
                TablePart::HeaderRow => "tablecolumn-headerrowrange",
                TablePart::TotalRow => "tablecolumn-totalrowrange",
            },
            (None, RangeBase::TableRow { .. }) => "tablerow-range",
        }
    }
}

/// A range found in a workbook: its sheet's name and its cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub sheet: String,
    pub area: Area,
}

/// What locating can fail with: a Graph error about the request, or the workbook's own.
pub type LocateResult<T> = Result<Result<T, GraphError>, BookError>;

fn not_found(what: impl std::fmt::Display) -> GraphError {
    GraphError::item_not_found(format!("{what} was not found."))
}

/// The key of the member at a 0-based position, as the URL names it (`itemAt(index=2)`). No
/// table can be named so (Excel's table names hold no parentheses), so a table or column key
/// carries either a name or a position.
pub fn item_at_key(index: i64) -> String {
    format!("itemAt(index={index})")
}

/// The position an [`item_at_key`] names.
fn item_at_index(key: &str) -> Option<i64> {
    key.strip_prefix("itemAt(index=")?.strip_suffix(')')?.parse().ok()
}

/// Finds the table a key names (its id or its name, in any case, or its position in the
/// collection), on one sheet or any.
pub fn find_table<'w>(wb: &'w Workbook, sheet: Option<&str>, key: &str) -> LocateResult<(&'w str, &'w Table)> {
    let on = match sheet {
        Some(s) => Some(find_worksheet(wb, s)?),
        None => None,
    };
    let mut tables = wb
        .model()
        .sheets
        .iter()
        .filter(|s| s.kind == SheetKind::Worksheet && on.as_deref().is_none_or(|n| n == s.name))
        .flat_map(|s| s.tables.iter().map(move |t| (s.name.as_str(), t)));
    let found = match item_at_index(key) {
        Some(index) => usize::try_from(index).ok().and_then(|i| tables.nth(i)),
        None => tables.find(|(_, t)| {
            t.id.to_string() == key || t.display_name.eq_ignore_ascii_case(key) || t.name.eq_ignore_ascii_case(key)
        }),
    };
    Ok(found.ok_or_else(|| not_found(format!("The table '{key}'"))))
}

/// A table column by id (1-based, as a string), name, or 0-based position ([`item_at_key`]).
pub fn find_column(table: &Table, key: &str) -> Option<usize> {
    table.columns.iter().position(|c| c.eq_ignore_ascii_case(key)).or_else(|| {
        match item_at_index(key) {
            Some(index) => usize::try_from(index).ok(),
            None => key.parse::<usize>().ok().and_then(|i| i.checked_sub(1)),
        }
        .filter(|&i| i < table.columns.len())
    })
}

/// The rows of a table that a part covers, or `None` when the table has no such part.
pub fn table_rows(table: &Table, part: TablePart) -> Option<(u32, u32)> {
    let a = table.area;
    let first_data = a.first_row + table.header_rows.min(1);
    let last_data = a.last_row.saturating_sub(table.totals_rows.min(1));
    match part {
        TablePart::Range => Some((a.first_row, a.last_row)),
        TablePart::DataBody => (first_data <= last_data).then_some((first_data, last_data)),
        TablePart::HeaderRow => (table.header_rows > 0).then_some((a.first_row, a.first_row)),
        TablePart::TotalRow => (table.totals_rows > 0).then_some((a.last_row, a.last_row)),
    }
}

fn defined_range(wb: &Workbook, sheet: Option<&str>, name: &str) -> LocateResult<Located> {
    let model = wb.model();
    let scope = match sheet {
        Some(s) => {
            let sheet_name = find_worksheet(wb, s)?;
            model.sheet_index(&sheet_name)
        }
        None => None,
    };
    // A sheet's own name first (under `worksheets/{w}/names`), else the workbook's.
    let named = |n: &&book::model::DefinedName| n.name.eq_ignore_ascii_case(name);
    let found = scope
        .and_then(|i| model.names.iter().filter(named).find(|n| n.local_sheet == Some(i)))
        .or_else(|| model.names.iter().filter(named).find(|n| n.local_sheet.is_none()));
    let Some(defined) = found else { return Ok(Err(not_found(format!("The name '{name}'")))) };
    let reference = defined.formula.trim();
    let Ok(parsed) = SheetArea::parse(reference) else {
        return Ok(Err(GraphError::invalid_argument(format!(
            "The name '{name}' does not refer to a range: it is '{reference}'."
        ))));
    };
    let sheet_name = match (&parsed.sheet, defined.local_sheet) {
        (Some(s), _) => s.clone(),
        (None, Some(i)) => model.sheets.get(i).map(|s| s.name.clone()).unwrap_or_default(),
        (None, None) => {
            return Ok(Err(GraphError::invalid_argument(format!(
                "The name '{name}' refers to '{reference}', which names no worksheet."
            ))))
        }
    };
    let sheet_name = find_worksheet(wb, &sheet_name)?;
    Ok(Ok(Located { sheet: sheet_name, area: parsed.area }))
}

fn base_range(wb: &Workbook, base: &RangeBase) -> LocateResult<Located> {
    Ok(Ok(match base {
        RangeBase::Sheet { sheet, address } => {
            let sheet = find_worksheet(wb, sheet)?;
            match parse_area(&sheet, address.as_deref()) {
                Ok(area) => Located { sheet, area },
                Err(e) => return Ok(Err(e)),
            }
        }
        RangeBase::UsedRange { sheet, values_only } => {
            let sheet = find_worksheet(wb, sheet)?;
            // An empty sheet's used range is A1, as in Excel.
            let area = wb.used_range(&sheet, *values_only)?.unwrap_or_else(|| Area::cell(0, 0));
            Located { sheet, area }
        }
        RangeBase::Cell { sheet, row, col } => {
            let sheet = find_worksheet(wb, sheet)?;
            match cell_at(*row, *col) {
                Ok(area) => Located { sheet, area },
                Err(e) => return Ok(Err(e)),
            }
        }
        RangeBase::Name { sheet, name } => return defined_range(wb, sheet.as_deref(), name),
        RangeBase::Table { sheet, table, part } => {
            let (sheet_name, t) = match find_table(wb, sheet.as_deref(), table)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let Some((r1, r2)) = table_rows(t, *part) else {
                return Ok(Err(not_found(format!("The table '{}' has no such row, so the range", t.display_name))));
            };
            Located { sheet: sheet_name.to_string(), area: Area::cells(r1, t.area.first_col, r2, t.area.last_col) }
        }
        RangeBase::TableColumn { sheet, table, column, part } => {
            let (sheet_name, t) = match find_table(wb, sheet.as_deref(), table)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let Some(i) = find_column(t, column) else {
                return Ok(Err(not_found(format!("The column '{column}' of table '{}'", t.display_name))));
            };
            let Some((r1, r2)) = table_rows(t, *part) else {
                return Ok(Err(not_found(format!("The table '{}' has no such row, so the range", t.display_name))));
            };
            let col = t.area.first_col + i as u32;
            Located { sheet: sheet_name.to_string(), area: Area::cells(r1, col, r2, col) }
        }
        RangeBase::TableRow { sheet, table, index } => {
            let (sheet_name, t) = match find_table(wb, sheet.as_deref(), table)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let Some((r1, r2)) = table_rows(t, TablePart::DataBody) else {
                return Ok(Err(not_found(format!("Row {index} of table '{}'", t.display_name))));
            };
            let row = match u32::try_from(*index).ok().and_then(|i| r1.checked_add(i)).filter(|r| *r <= r2) {
                Some(row) => row,
                None => return Ok(Err(not_found(format!("Row {index} of table '{}'", t.display_name)))),
            };
            Located { sheet: sheet_name.to_string(), area: Area::cells(row, t.area.first_col, row, t.area.last_col) }
        }
    }))
}

fn cell_at(row: i64, col: i64) -> Result<Area, GraphError> {
    if !(0..i64::from(MAX_ROWS)).contains(&row) || !(0..i64::from(MAX_COLS)).contains(&col) {
        return Err(GraphError::invalid_argument(format!(
            "The cell at row {row}, column {col} is outside the worksheet."
        )));
    }
    Ok(Area::cell(row as u32, col as u32))
}

/// An area from signed bounds, if it lies on the worksheet.
fn area_within(r1: i64, c1: i64, r2: i64, c2: i64) -> Result<Area, GraphError> {
    let rows = 0..i64::from(MAX_ROWS);
    let cols = 0..i64::from(MAX_COLS);
    if r1 > r2 || c1 > c2 || !rows.contains(&r1) || !rows.contains(&r2) || !cols.contains(&c1) || !cols.contains(&c2) {
        return Err(GraphError::invalid_argument("The resulting range is outside the worksheet."));
    }
    Ok(Area::cells(r1 as u32, c1 as u32, r2 as u32, c2 as u32))
}

fn required(v: Option<i64>, what: &str) -> Result<i64, GraphError> {
    v.ok_or_else(|| GraphError::invalid_argument(format!("{what} is required.")))
}

fn count(v: Option<i64>) -> Result<i64, GraphError> {
    match v {
        None => Ok(1),
        Some(n) if n >= 1 => Ok(n),
        Some(n) => Err(GraphError::invalid_argument(format!("count must be 1 or more, not {n}."))),
    }
}

/// The range after one navigation step. `other` reads an `anotherRange` address on the sheet.
fn step(wb: &Workbook, at: Located, step: &RangeStep) -> LocateResult<Located> {
    let a = at.area;
    let (r1, c1, r2, c2) =
        (i64::from(a.first_row), i64::from(a.first_col), i64::from(a.last_row), i64::from(a.last_col));
    let within = |r1, c1, r2, c2| area_within(r1, c1, r2, c2);
    let result: Result<Area, GraphError> = (|| match step {
        RangeStep::Cell { row, col } => {
            let (row, col) = (required(*row, "row")?, required(*col, "column")?);
            cell_at(r1 + row, c1 + col).map_err(|_| GraphError::invalid_argument("The cell is outside the worksheet."))
        }
        RangeStep::Row(n) => {
            let n = required(*n, "row")?;
            if !(0..=r2 - r1).contains(&n) {
                return Err(GraphError::invalid_argument(format!("row {n} is not a row of the range.")));
            }
            within(r1 + n, c1, r1 + n, c2)
        }
        RangeStep::Column(n) => {
            let n = required(*n, "column")?;
            if !(0..=c2 - c1).contains(&n) {
                return Err(GraphError::invalid_argument(format!("column {n} is not a column of the range.")));
            }
            within(r1, c1 + n, r2, c1 + n)
        }
        RangeStep::EntireRow => Ok(Area { kind: AreaKind::Rows, ..within(r1, 0, r2, i64::from(MAX_COLS) - 1)? }),
        RangeStep::EntireColumn => Ok(Area { kind: AreaKind::Columns, ..within(0, c1, i64::from(MAX_ROWS) - 1, c2)? }),
        RangeStep::LastCell => within(r2, c2, r2, c2),
        RangeStep::LastRow => within(r2, c1, r2, c2),
        RangeStep::LastColumn => within(r1, c2, r2, c2),
        RangeStep::OffsetRange { rows, cols } => {
            let (dr, dc) = (required(*rows, "rowOffset")?, required(*cols, "columnOffset")?);
            within(r1 + dr, c1 + dc, r2 + dr, c2 + dc)
        }
        RangeStep::ResizedRange { rows, cols } => {
            let (dr, dc) = (required(*rows, "deltaRows")?, required(*cols, "deltaColumns")?);
            within(r1, c1, r2 + dr, c2 + dc)
        }
        RangeStep::RowsAbove(n) => {
            let n = count(*n)?;
            within(r1 - n, c1, r1 - 1, c2)
        }
        RangeStep::RowsBelow(n) => {
            let n = count(*n)?;
            within(r2 + 1, c1, r2 + n, c2)
        }
        RangeStep::ColumnsBefore(n) => {
            let n = count(*n)?;
            within(r1, c1 - n, r2, c1 - 1)
        }
        RangeStep::ColumnsAfter(n) => {
            let n = count(*n)?;
            within(r1, c2 + 1, r2, c2 + n)
        }
        // Worked out below: they read the workbook.
        RangeStep::UsedRange { .. } | RangeStep::BoundingRect(_) | RangeStep::Intersection(_) => Ok(a),
    })();
    let area = match result {
        Ok(area) => area,
        Err(e) => return Ok(Err(e)),
    };
    let area = match step {
        RangeStep::UsedRange { values_only } => {
            let used = wb.used_range(&at.sheet, *values_only)?;
            match used.and_then(|u| intersect(&u, &a)) {
                Some(area) => area,
                None => return Ok(Err(not_found("A used cell in the range"))),
            }
        }
        RangeStep::BoundingRect(other) | RangeStep::Intersection(other) => {
            let Some(other) = other else { return Ok(Err(GraphError::invalid_argument("anotherRange is required."))) };
            let b = match parse_area(&at.sheet, Some(other)) {
                Ok(b) => b,
                Err(e) => return Ok(Err(e)),
            };
            if matches!(step, RangeStep::BoundingRect(_)) {
                Area::cells(
                    a.first_row.min(b.first_row),
                    a.first_col.min(b.first_col),
                    a.last_row.max(b.last_row),
                    a.last_col.max(b.last_col),
                )
            } else {
                match intersect(&a, &b) {
                    Some(area) => area,
                    None => return Ok(Err(not_found("An intersection of the two ranges"))),
                }
            }
        }
        _ => area,
    };
    Ok(Ok(Located { sheet: at.sheet, area }))
}

fn intersect(a: &Area, b: &Area) -> Option<Area> {
    let (r1, c1) = (a.first_row.max(b.first_row), a.first_col.max(b.first_col));
    let (r2, c2) = (a.last_row.min(b.last_row), a.last_col.min(b.last_col));
    (r1 <= r2 && c1 <= c2).then(|| Area::cells(r1, c1, r2, c2))
}

/// The sheet and cells a range path names in this workbook.
pub fn locate(wb: &Workbook, range: &RangeRef) -> LocateResult<Located> {
    let mut at = match base_range(wb, &range.base)? {
        Ok(at) => at,
        Err(e) => return Ok(Err(e)),
    };
    for s in &range.steps {
        at = match step(wb, at, s)? {
            Ok(next) => next,
            Err(e) => return Ok(Err(e)),
        };
    }
    // Graph shows a range's address without `$` markers, however it was named.
    at.area.abs = [false; 4];
    Ok(Ok(at))
}
