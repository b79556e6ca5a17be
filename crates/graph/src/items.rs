//! Named items, tables, table columns and table rows as Graph shows them.

use book::address::{Area, SheetArea};
use book::model::{DefinedName, Table};
use book::{BookError, Value, Workbook};
use serde_json::{json, Value as Json};

use crate::dto::responses::{self, to_json};
use crate::error::GraphError;
use crate::navigate::{find_column, find_table, table_rows, LocateResult, TablePart};
use crate::range::find_worksheet;

/// A cell value as JSON, the way range `values` show it.
pub fn value_json(v: &Value) -> Json {
    match v {
        Value::Empty => json!(""),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => json!(*n as i64),
        Value::Number(n) => json!(n),
        Value::Text(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::Error(e) => json!(e.as_str()),
    }
}

/// The `values` of an area: a 2-D array.
fn values_of(wb: &Workbook, sheet: &str, area: &Area) -> Result<Json, BookError> {
    let rows = wb.read_range(sheet, area)?;
    Ok(Json::Array(rows.iter().map(|r| Json::Array(r.iter().map(|c| value_json(&c.value)).collect())).collect()))
}

/// A name's `type` and `value`: a reference is a `Range` shown as its address; constants are
/// their type. Other formulas are shown as their text with the type `Formula` (Excel would
/// show what they compute).
fn name_type_and_value(formula: &str) -> (&'static str, Json) {
    let text = formula.trim();
    if SheetArea::parse(text).is_ok_and(|a| a.sheet.is_some()) {
        return ("Range", json!(text));
    }
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        if !inner.replace("\"\"", "").contains('"') {
            return ("String", json!(inner.replace("\"\"", "\"")));
        }
    }
    if text.eq_ignore_ascii_case("TRUE") || text.eq_ignore_ascii_case("FALSE") {
        return ("Boolean", json!(text.eq_ignore_ascii_case("TRUE")));
    }
    if let Ok(n) = text.parse::<f64>() {
        if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
            return ("Integer", json!(n as i64));
        }
        return ("Double", json!(n));
    }
    ("Formula", json!(text))
}

pub fn name_json(n: &DefinedName) -> Json {
    let (kind, value) = name_type_and_value(&n.formula);
    let scope = match n.local_sheet {
        Some(_) => "Worksheet",
        None => "Workbook",
    };
    to_json(&responses::NamedItem {
        name: n.name.clone(),
        comment: n.comment.clone().unwrap_or_default(),
        scope,
        kind,
        value,
        visible: !n.hidden,
    })
}

/// Whether Graph lists a name: Excel's own (`_xlnm.Print_Area`, …) are not named items.
fn listed(n: &DefinedName) -> bool {
    !n.name.starts_with("_xlnm.") && !n.name.starts_with("_xlfn.")
}

/// Names of the workbook scope, or with `sheet` those scoped to that worksheet.
pub fn names_json(wb: &Workbook, sheet: Option<&str>) -> Result<Vec<Json>, BookError> {
    let scope = match sheet {
        Some(s) => {
            let name = find_worksheet(wb, s)?;
            Some(wb.model().sheet_index(&name))
        }
        None => None,
    };
    Ok(wb
        .model()
        .names
        .iter()
        .filter(|n| listed(n))
        .filter(|n| match scope {
            Some(index) => n.local_sheet.is_some() && n.local_sheet == index,
            None => n.local_sheet.is_none(),
        })
        .map(name_json)
        .collect())
}

pub fn name_get(wb: &Workbook, sheet: Option<&str>, key: &str) -> LocateResult<Json> {
    let scope = match sheet {
        Some(s) => {
            let name = find_worksheet(wb, s)?;
            wb.model().sheet_index(&name)
        }
        None => None,
    };
    let found = wb.model().names.iter().filter(|n| listed(n)).find(|n| {
        n.name.eq_ignore_ascii_case(key)
            && match sheet {
                Some(_) => n.local_sheet.is_some() && n.local_sheet == scope,
                None => n.local_sheet.is_none(),
            }
    });
    Ok(found.map(name_json).ok_or_else(|| GraphError::item_not_found(format!("The name '{key}' was not found."))))
}

pub fn table_json(t: &Table) -> Json {
    to_json(&responses::Table {
        id: t.id.to_string(),
        name: t.display_name.clone(),
        show_headers: t.header_rows > 0,
        show_totals: t.totals_rows > 0,
        style: t.style.name.clone().unwrap_or_default(),
        highlight_first_column: t.style.show_first_column,
        highlight_last_column: t.style.show_last_column,
        show_banded_rows: t.style.show_row_stripes,
        show_banded_columns: t.style.show_column_stripes,
        show_filter_button: t.style.auto_filter,
        legacy_id: t.id.to_string(),
    })
}

pub fn tables_json(wb: &Workbook, sheet: Option<&str>) -> Result<Vec<Json>, BookError> {
    let on = match sheet {
        Some(s) => Some(find_worksheet(wb, s)?),
        None => None,
    };
    Ok(wb
        .model()
        .sheets
        .iter()
        .filter(|s| on.as_deref().is_none_or(|n| n == s.name))
        .flat_map(|s| s.tables.iter())
        .map(table_json)
        .collect())
}

pub fn table_get(wb: &Workbook, sheet: Option<&str>, key: &str) -> LocateResult<Json> {
    Ok(find_table(wb, sheet, key)?.map(|(_, t)| table_json(t)))
}

fn column_json(wb: &Workbook, sheet: &str, t: &Table, i: usize) -> Result<Json, BookError> {
    let col = t.area.first_col + i as u32;
    let area = Area::cells(t.area.first_row, col, t.area.last_row, col);
    Ok(to_json(&responses::TableColumn {
        id: t.column_ids.get(i).copied().unwrap_or(i as u32 + 1).to_string(),
        index: i,
        name: t.columns[i].clone(),
        values: values_of(wb, sheet, &area)?,
    }))
}

pub fn columns_json(wb: &Workbook, sheet: Option<&str>, table: &str) -> LocateResult<Vec<Json>> {
    let (sheet_name, t) = match find_table(wb, sheet, table)? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let columns: Result<Vec<Json>, BookError> =
        (0..t.columns.len()).map(|i| column_json(wb, sheet_name, t, i)).collect();
    Ok(Ok(columns?))
}

/// A column by key (id or name) or by 0-based position.
pub fn column_get(wb: &Workbook, sheet: Option<&str>, table: &str, key: Result<&str, i64>) -> LocateResult<Json> {
    let (sheet_name, t) = match find_table(wb, sheet, table)? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let found = match key {
        Ok(k) => t.column_ids.iter().position(|id| id.to_string() == k).or_else(|| find_column(t, k)),
        Err(i) => usize::try_from(i).ok().filter(|&i| i < t.columns.len()),
    };
    let Some(i) = found else {
        let key = match key {
            Ok(k) => k.to_string(),
            Err(i) => format!("at index {i}"),
        };
        return Ok(Err(GraphError::item_not_found(format!(
            "The column {key} of table '{}' was not found.",
            t.display_name
        ))));
    };
    Ok(Ok(column_json(wb, sheet_name, t, i)?))
}

/// The data rows of a table as `workbookTableRow`s, `skip` then at most `top` of them.
/// The rows of a table that `page` picks from its row count, and that count.
pub fn rows_json(
    wb: &Workbook,
    sheet: Option<&str>,
    table: &str,
    page: impl FnOnce(usize) -> std::ops::Range<usize>,
) -> LocateResult<(Vec<Json>, usize)> {
    let (sheet_name, t) = match find_table(wb, sheet, table)? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let Some((r1, r2)) = table_rows(t, TablePart::DataBody) else { return Ok(Ok((Vec::new(), 0))) };
    let count = (r2 - r1 + 1) as usize;
    let mut out = Vec::new();
    for index in page(count) {
        let row = r1 + index as u32;
        let area = Area::cells(row, t.area.first_col, row, t.area.last_col);
        out.push(to_json(&responses::TableRow { index: index as i64, values: values_of(wb, sheet_name, &area)? }));
    }
    Ok(Ok((out, count)))
}

pub fn row_get(wb: &Workbook, sheet: Option<&str>, table: &str, index: i64) -> LocateResult<Json> {
    let (sheet_name, t) = match find_table(wb, sheet, table)? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let not_found = || GraphError::item_not_found(format!("Row {index} of table '{}' was not found.", t.display_name));
    let Some((r1, r2)) = table_rows(t, TablePart::DataBody) else { return Ok(Err(not_found())) };
    let Some(row) = u32::try_from(index).ok().and_then(|i| r1.checked_add(i)).filter(|r| *r <= r2) else {
        return Ok(Err(not_found()));
    };
    let area = Area::cells(row, t.area.first_col, row, t.area.last_col);
    Ok(Ok(to_json(&responses::TableRow { index, values: values_of(wb, sheet_name, &area)? })))
}

/// The rows of `area` that are not hidden, in order.
pub fn visible_rows(wb: &Workbook, sheet: &str, area: &Area) -> Vec<u32> {
    let hidden: &[u32] = wb.model().sheet_index(sheet).map_or(&[], |i| &wb.model().sheets[i].hidden_rows);
    (area.first_row..=area.last_row).filter(|r| hidden.binary_search(r).is_err()).collect()
}

/// A `workbookRangeView` of some rows of an area: each property a 2-D array over those rows
/// and the area's columns that are not hidden.
pub fn view_json(wb: &Workbook, sheet: &str, area: &Area, rows: &[u32], index: usize) -> Result<Json, BookError> {
    let prefix = format!("{}!", book::address::quote_sheet_name(sheet));
    let hidden_cols: &[u32] = wb.model().sheet_index(sheet).map_or(&[], |i| &wb.model().sheets[i].hidden_cols);
    let shown = |col: u32| hidden_cols.binary_search(&col).is_err();
    let mut grids: [Vec<Json>; 8] = Default::default();
    for &row in rows {
        let cells = wb.read_range(sheet, &Area::cells(row, area.first_col, row, area.last_col))?;
        let cells = cells.into_iter().next().unwrap_or_default();
        let mut lines: [Vec<Json>; 8] = Default::default();
        for (j, c) in cells.iter().enumerate() {
            let col = area.first_col + j as u32;
            if !shown(col) {
                continue;
            }
            let formula = match &c.formula {
                Some(f) => json!(f),
                None => value_json(&c.value),
            };
            let r1c1 = match &c.formula {
                Some(f) if f.starts_with('=') => json!(book::r1c1::to_r1c1(f, row, col)),
                _ => formula.clone(),
            };
            let values = [
                json!(format!("{prefix}{}", book::address::cell_name(row, col))),
                value_json(&c.value),
                formula.clone(),
                formula,
                r1c1,
                json!(c.number_format),
                json!(c.text),
                json!(c.value.value_type()),
            ];
            for (line, v) in lines.iter_mut().zip(values) {
                line.push(v);
            }
        }
        for (grid, line) in grids.iter_mut().zip(lines) {
            grid.push(Json::Array(line));
        }
    }
    let [addresses, values, formulas, formulas_local, formulas_r1c1, number_format, text, value_types] = grids;
    Ok(to_json(&responses::RangeView {
        index,
        row_count: rows.len(),
        column_count: (area.first_col..=area.last_col).filter(|&c| shown(c)).count(),
        cell_addresses: addresses,
        values,
        formulas,
        formulas_local,
        formulas_r1c1,
        number_format,
        text,
        value_types,
    }))
}
