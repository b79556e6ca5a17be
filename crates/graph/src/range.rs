//! Worksheets and ranges as Graph shows them, and range PATCH bodies as edits.

use book::address::{quote_sheet_name, Area, SheetArea, MAX_COLS, MAX_ROWS};
use book::model::{SheetKind, Visibility};
use book::{BookError, CellInput, CellView, Edit, SetCells, Value, Workbook};
use serde_json::Value as Json;

use crate::dto::requests::RangeUpdate;
use crate::dto::responses::{self, to_json};
use crate::error::{Code, GraphError};

/// Most cells a range read returns, unless configured otherwise.
pub const DEFAULT_MAX_READ_CELLS: u64 = 5_000_000;
/// Reads up to this many cells are quick enough to run on the request's own task.
pub const SMALL_READ_CELLS: u64 = 4096;
/// Most cells one PATCH writes, unless configured otherwise: a whole column.
pub const DEFAULT_MAX_WRITE_CELLS: u64 = MAX_ROWS as u64;

/// A worksheet's Graph id: stable, derived from its sheetId.
pub fn worksheet_id(sheet_id: u32) -> String {
    format!("{{00000000-{:04X}-0000-0000-000000000000}}", sheet_id & 0xFFFF)
}

/// The name of the worksheet a key (name, case-insensitively, or id) names.
pub fn find_worksheet(wb: &Workbook, key: &str) -> Result<String, BookError> {
    wb.model()
        .sheets
        .iter()
        .filter(|s| s.kind == SheetKind::Worksheet)
        .find(|s| s.name.eq_ignore_ascii_case(key) || worksheet_id(s.sheet_id).eq_ignore_ascii_case(key))
        .map(|s| s.name.clone())
        .ok_or_else(|| BookError::NoSuchSheet(key.to_string()))
}

pub fn worksheets_json(wb: &Workbook) -> Vec<Json> {
    wb.model()
        .sheets
        .iter()
        .filter(|s| s.kind == SheetKind::Worksheet)
        .enumerate()
        .map(|(position, s)| {
            let visibility = match s.visibility {
                Visibility::Visible => "Visible",
                Visibility::Hidden => "Hidden",
                Visibility::VeryHidden => "VeryHidden",
            };
            to_json(&responses::Worksheet { id: worksheet_id(s.sheet_id), name: s.name.clone(), position, visibility })
        })
        .collect()
}

/// The area a `range(address=…)` names on a worksheet; the whole sheet without an address.
pub fn parse_area(sheet: &str, address: Option<&str>) -> Result<Area, GraphError> {
    let Some(address) = address else { return Ok(Area::whole_sheet()) };
    let parsed = SheetArea::parse(address).map_err(|e| {
        GraphError::new(
            Code::BadRequest,
            Some("invalidArgument"),
            format!("The address '{address}' is not valid: {e}."),
        )
    })?;
    if let Some(other) = &parsed.sheet {
        if !other.eq_ignore_ascii_case(sheet) {
            return Err(GraphError::new(
                Code::BadRequest,
                Some("invalidArgument"),
                format!("The address '{address}' names another worksheet."),
            ));
        }
    }
    Ok(parsed.area)
}

/// A range read from a workbook, rendered to JSON after the workbook is released.
pub struct RangeRead {
    pub sheet: String,
    pub area: Area,
    /// Every row (column) of the range is hidden.
    pub row_hidden: bool,
    pub column_hidden: bool,
    /// `None` when the range is too large to show its cells (a PATCH of a whole column).
    pub cells: Option<Vec<Vec<CellView>>>,
}

impl RangeRead {
    /// Reads the range, its cells when there are at most `max_cells`.
    pub fn read(wb: &Workbook, sheet: &str, area: Area, max_cells: u64) -> Result<RangeRead, BookError> {
        RangeRead::read_if(wb, sheet, area, area.cell_count() <= max_cells)
    }

    /// Reads the cells only when `cells` says the response shows them.
    pub fn read_if(wb: &Workbook, sheet: &str, area: Area, cells: bool) -> Result<RangeRead, BookError> {
        let cells = if !cells { None } else { Some(wb.read_range(sheet, &area)?) };
        let (row_hidden, column_hidden) = match wb.model().sheet_index(sheet).map(|i| &wb.model().sheets[i]) {
            Some(s) => (
                all_in(&s.hidden_rows, area.first_row, area.last_row),
                all_in(&s.hidden_cols, area.first_col, area.last_col),
            ),
            None => (false, false),
        };
        Ok(RangeRead { sheet: sheet.to_string(), area, row_hidden, column_hidden, cells })
    }
}

/// The range properties that show cells, one 2-D array each.
const GRID_PROPERTIES: [&str; 7] =
    ["values", "formulas", "formulasLocal", "formulasR1C1", "text", "valueTypes", "numberFormat"];

/// Whether a response with this `$select` shows any cell (a read of `address` alone does not
/// need to read a million cells).
pub fn shows_cells(select: Option<&[String]>) -> bool {
    select.is_none_or(|keys| keys.iter().any(|k| GRID_PROPERTIES.iter().any(|p| p.eq_ignore_ascii_case(k))))
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most cell text needs no escaping: copy it between quotes.
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn write_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Empty => out.extend_from_slice(b"\"\""),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 => write_int(out, *n as i64),
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Value::Text(s) => write_str(out, s),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Error(e) => write_str(out, e.as_str()),
    }
}

/// The workbookRange resource, written straight to JSON bytes (a range response is the hot path:
/// building a `serde_json::Value` tree first cost more than everything else in the request).
/// `keep` says which properties `$select` asked for.
pub fn render_range(r: &RangeRead, context: &str, keep: &dyn Fn(&str) -> bool) -> Vec<u8> {
    let cells = r.cells.as_deref().unwrap_or(&[]);
    let mut out = Vec::with_capacity(512 + cells.len() * cells.first().map_or(0, Vec::len) * 96);
    out.extend_from_slice(b"{\"@odata.context\":");
    write_str(&mut out, context);
    out.extend_from_slice(b",\"@odata.type\":\"#microsoft.graph.workbookRange\"");
    let mut address = quote_sheet_name(&r.sheet).into_owned();
    address.push('!');
    r.area.write_a1(&mut address);
    let field = |out: &mut Vec<u8>, name: &str, write: &dyn Fn(&mut Vec<u8>)| {
        if keep(name) {
            out.push(b',');
            write_str(out, name);
            out.push(b':');
            write(out);
        }
    };
    field(&mut out, "address", &|o| write_str(o, &address));
    field(&mut out, "addressLocal", &|o| write_str(o, &address));
    let numbers = [
        ("cellCount", r.area.cell_count()),
        ("columnCount", r.area.cols()),
        ("rowCount", r.area.rows()),
        ("columnIndex", u64::from(r.area.first_col)),
        ("rowIndex", u64::from(r.area.first_row)),
    ];
    for (name, n) in numbers {
        field(&mut out, name, &|o| write_int(o, n));
    }
    let flags =
        [("columnHidden", r.column_hidden), ("rowHidden", r.row_hidden), ("hidden", r.row_hidden || r.column_hidden)];
    for (name, on) in flags {
        field(&mut out, name, &|o| o.extend_from_slice(if on { b"true" } else { b"false" }));
    }
    if r.cells.is_some() {
        let formula = |o: &mut Vec<u8>, c: &CellView| match &c.formula {
            Some(f) => write_str(o, f),
            None => write_value(o, &c.value),
        };
        field(&mut out, "values", &|o| write_grid(o, cells, |o, c| write_value(o, &c.value)));
        field(&mut out, "formulas", &|o| write_grid(o, cells, formula));
        field(&mut out, "formulasLocal", &|o| write_grid(o, cells, formula));
        let (first_row, first_col) = (r.area.first_row, r.area.first_col);
        field(&mut out, "formulasR1C1", &|o| {
            write_grid_at(o, cells, |o, row, col, c| match &c.formula {
                Some(f) if f.starts_with('=') => {
                    write_str(o, &book::r1c1::to_r1c1(f, first_row + row as u32, first_col + col as u32))
                }
                _ => formula(o, c),
            })
        });
        field(&mut out, "text", &|o| write_grid(o, cells, |o, c| write_str(o, &c.text)));
        field(&mut out, "valueTypes", &|o| write_grid(o, cells, |o, c| write_str(o, c.value.value_type())));
        field(&mut out, "numberFormat", &|o| write_grid(o, cells, |o, c| write_str(o, &c.number_format)));
    }
    out.push(b'}');
    out
}

/// As `write_grid`, the writer also told each cell's place in the range.
fn write_grid_at(o: &mut Vec<u8>, cells: &[Vec<CellView>], cell: impl Fn(&mut Vec<u8>, usize, usize, &CellView)) {
    o.push(b'[');
    for (i, row) in cells.iter().enumerate() {
        o.extend_from_slice(if i == 0 { b"[" } else { b",[" });
        for (j, c) in row.iter().enumerate() {
            if j > 0 {
                o.push(b',');
            }
            cell(o, i, j, c);
        }
        o.push(b']');
    }
    o.push(b']');
}

/// A 2-D array of one property of the cells (generic, so each cell's writer is inlined).
fn write_grid(o: &mut Vec<u8>, cells: &[Vec<CellView>], cell: impl Fn(&mut Vec<u8>, &CellView)) {
    write_grid_at(o, cells, |o, _, _, c| cell(o, c));
}

pub fn too_large(cells: u64, limit: u64) -> GraphError {
    GraphError::new(
        Code::BadRequest,
        Some("rangeExceedsLimit"),
        format!("The range has {cells} cells; at most {limit} are supported in one request."),
    )
}

fn invalid(message: impl Into<String>) -> GraphError {
    GraphError::new(Code::BadRequest, Some("invalidArgument"), message)
}

/// What a user typed into a cell, as Excel reads typed input: `=…` is a formula, numbers and
/// TRUE/FALSE are values, a leading `'` keeps the rest as text.
pub fn typed_input(s: &str) -> CellInput {
    if s.is_empty() {
        return CellInput::Empty;
    }
    if let Some(f) = s.strip_prefix('=').filter(|f| !f.is_empty()) {
        return CellInput::Formula(f.to_string());
    }
    if let Some(text) = s.strip_prefix('\'') {
        return CellInput::Text(text.to_string());
    }
    let t = s.trim();
    let numeric = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && t.chars().any(|c| c.is_ascii_digit());
    if numeric {
        if let Ok(n) = t.parse::<f64>() {
            if n.is_finite() {
                return CellInput::Number(n);
            }
        }
    }
    if t.eq_ignore_ascii_case("true") {
        return CellInput::Bool(true);
    }
    if t.eq_ignore_ascii_case("false") {
        return CellInput::Bool(false);
    }
    CellInput::Text(s.to_string())
}

fn cell_input(v: &Json, property: &str) -> Result<Option<CellInput>, GraphError> {
    Ok(match v {
        Json::Null => None,
        Json::Bool(b) => Some(CellInput::Bool(*b)),
        Json::Number(n) => Some(CellInput::Number(
            n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| invalid(format!("{property}: {n} is not a number")))?,
        )),
        Json::String(s) => Some(typed_input(s)),
        other => return Err(invalid(format!("{property}: a cell cannot hold {other}"))),
    })
}

/// A 2-D property of a PATCH body, checked against the range's shape. A single value (not an
/// array) is applied to every cell, as Excel does.
fn grid<T: Clone>(
    v: &Json,
    property: &str,
    rows: usize,
    cols: usize,
    cell: impl Fn(&Json) -> Result<Option<T>, GraphError>,
) -> Result<Vec<Vec<Option<T>>>, GraphError> {
    let Json::Array(outer) = v else {
        let one = cell(v)?;
        return Ok(vec![vec![one; cols]; rows]);
    };
    let mismatch = || {
        invalid(format!(
            "The number of rows or columns in {property} doesn't match the size of the range ({rows} x {cols})."
        ))
    };
    if outer.len() != rows {
        return Err(mismatch());
    }
    outer
        .iter()
        .map(|row| match row {
            Json::Array(r) if r.len() == cols => r.iter().map(&cell).collect(),
            Json::Array(_) => Err(mismatch()),
            _ => Err(invalid(format!("{property} must be a two-dimensional array"))),
        })
        .collect()
}

/// A range PATCH body as one edit. Returns `None` when it changes nothing.
pub fn patch_edit(sheet: &str, area: &Area, body: &RangeUpdate, max_cells: u64) -> Result<Option<Edit>, GraphError> {
    let (rows, cols) = (area.rows(), area.cols());
    if rows * cols > max_cells {
        return Err(too_large(rows * cols, max_cells));
    }
    let (rows, cols) = (rows as usize, cols as usize);
    let mut inputs: Option<Vec<Vec<Option<CellInput>>>> = None;
    let mut formats: Option<Vec<Vec<Option<String>>>> = None;
    let mut merge = |layer: Vec<Vec<Option<CellInput>>>| match &mut inputs {
        None => inputs = Some(layer),
        Some(base) => {
            for (brow, lrow) in base.iter_mut().zip(layer) {
                for (b, l) in brow.iter_mut().zip(lrow) {
                    if l.is_some() {
                        *b = l;
                    }
                }
            }
        }
    };
    // Values first; formulas given for the same cell win.
    let layers = [
        ("values", &body.values),
        ("formulas", &body.formulas),
        ("formulasLocal", &body.formulas_local),
        ("formulasR1C1", &body.formulas_r1c1),
    ];
    for (key, given) in layers {
        if let Some(v) = given {
            let mut layer = grid(v, key, rows, cols, |c| cell_input(c, key))?;
            if key == "formulasR1C1" {
                // Each formula's references are relative to its own cell.
                for (r, row) in layer.iter_mut().enumerate() {
                    for (c, input) in row.iter_mut().enumerate() {
                        if let Some(CellInput::Formula(f)) = input {
                            let (at_row, at_col) = (area.first_row + r as u32, area.first_col + c as u32);
                            *f = book::r1c1::from_r1c1(f, at_row, at_col)
                                .map_err(|e| invalid(format!("formulasR1C1: {e}")))?;
                        }
                    }
                }
            }
            merge(layer);
        }
    }
    for (key, given) in [("numberFormat", &body.number_format), ("numberFormatLocal", &body.number_format_local)] {
        if let Some(v) = given {
            formats = Some(grid(v, key, rows, cols, |c| match c {
                Json::Null => Ok(None),
                Json::String(s) => Ok(Some(s.clone())),
                other => Err(invalid(format!("{key}: {other} is not a number format"))),
            })?);
        }
    }
    if inputs.is_none() && formats.is_none() {
        return Ok(None);
    }
    if area.last_row >= MAX_ROWS || area.last_col >= MAX_COLS {
        return Err(invalid("The range is outside the worksheet."));
    }
    Ok(Some(Edit::SetCells(SetCells {
        sheet: sheet.to_string(),
        row: area.first_row,
        col: area.first_col,
        rows: rows as u32,
        cols: cols as u32,
        inputs,
        number_formats: formats,
    })))
}

/// `rowHidden` and `columnHidden` of a range PATCH: the range's whole rows (columns) hidden or
/// shown, as Excel does.
pub fn hidden_edits(sheet: &str, area: &Area, body: &RangeUpdate) -> Vec<Edit> {
    let axes = [
        (body.row_hidden, book::Axis::Rows, area.first_row, area.last_row),
        (body.column_hidden, book::Axis::Cols, area.first_col, area.last_col),
    ];
    axes.into_iter()
        .filter_map(|(hidden, axis, first, last)| {
            Some(Edit::SetHidden { sheet: sheet.to_string(), axis, first, last, hidden: hidden? })
        })
        .collect()
}

/// Whether every index of `first..=last` is in `sorted`.
fn all_in(sorted: &[u32], first: u32, last: u32) -> bool {
    let lo = sorted.partition_point(|&i| i < first);
    let hi = sorted.partition_point(|&i| i <= last);
    (hi - lo) as u64 == u64::from(last - first) + 1
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn typed_input_is_read_as_excel_reads_typing() {
        assert_eq!(typed_input("=A1+1"), CellInput::Formula("A1+1".into()));
        assert_eq!(typed_input("42"), CellInput::Number(42.0));
        assert_eq!(typed_input("-1.5e3"), CellInput::Number(-1500.0));
        assert_eq!(typed_input("'42"), CellInput::Text("42".into()));
        assert_eq!(typed_input("TRUE"), CellInput::Bool(true));
        assert_eq!(typed_input("inf"), CellInput::Text("inf".into()));
        assert_eq!(typed_input("NaN"), CellInput::Text("NaN".into()));
        assert_eq!(typed_input("="), CellInput::Text("=".into()));
        assert_eq!(typed_input(""), CellInput::Empty);
    }

    /// A PATCH body read as the server reads it, then made an edit of B2:C3.
    fn patch(body: Json) -> Result<Option<Edit>, GraphError> {
        let update: RangeUpdate = crate::dto::Body::parse(body.to_string().as_bytes())?.read()?;
        patch_edit("S", &Area::parse_a1("B2:C3").unwrap(), &update, DEFAULT_MAX_WRITE_CELLS)
    }

    #[test]
    fn patch_bodies_become_edits() {
        let body = json!({"values": [[1, null], ["x", true]], "formulas": [[null, "=B2*2"], [null, null]]});
        let Some(Edit::SetCells(set)) = patch(body).unwrap() else { panic!() };
        assert_eq!((set.row, set.col, set.rows, set.cols), (1, 1, 2, 2));
        let inputs = set.inputs.unwrap();
        assert_eq!(inputs[0], vec![Some(CellInput::Number(1.0)), Some(CellInput::Formula("B2*2".into()))]);
        assert_eq!(inputs[1], vec![Some(CellInput::Text("x".into())), Some(CellInput::Bool(true))]);
        // A scalar fills the range.
        let Some(Edit::SetCells(set)) = patch(json!({"NumberFormat": "0.00"})).unwrap() else { panic!() };
        assert_eq!(set.number_formats.unwrap(), vec![vec![Some("0.00".to_string()); 2]; 2]);
        for bad in [
            json!({"values": [[1]]}),
            json!({"values": [1, 2]}),
            json!({"values": [[{}, 1], [1, 1]]}),
            json!({"bogus": 1}),
            json!({"rowHidden": "yes"}),
        ] {
            let e = patch(bad.clone()).unwrap_err();
            assert_eq!((e.status(), e.inner_code), (400, Some("invalidArgument")), "{bad}");
        }
        assert_eq!(patch(json!({"rowHidden": true})).unwrap(), None);
        let update = RangeUpdate { row_hidden: Some(true), ..RangeUpdate::default() };
        assert_eq!(hidden_edits("S", &Area::parse_a1("B2:C3").unwrap(), &update).len(), 1);
        assert!(patch(json!({})).unwrap().is_none());
    }

    #[test]
    fn ranges_render_as_json_with_select() {
        let cell = |value: Value, formula: Option<&str>, text: &str| CellView {
            value,
            formula: formula.map(str::to_string),
            number_format: "General".into(),
            text: text.into(),
        };
        let r = RangeRead {
            sheet: "My Sheet".into(),
            area: Area::parse_a1("B2:C2").unwrap(),
            row_hidden: true,
            column_hidden: false,
            cells: Some(vec![vec![
                cell(Value::Number(1.5), None, "1.5"),
                cell(Value::Text("a\"b".into()), Some("=X"), "a\"b"),
            ]]),
        };
        let all: Json = serde_json::from_slice(&render_range(&r, "ctx", &|_| true)).unwrap();
        assert_eq!(all["address"], "'My Sheet'!B2:C2");
        assert_eq!(
            (all["rowIndex"].as_u64(), all["columnIndex"].as_u64(), all["cellCount"].as_u64()),
            (Some(1), Some(1), Some(2))
        );
        assert_eq!(all["values"], json!([[1.5, "a\"b"]]));
        assert_eq!(all["formulas"], json!([[1.5, "=X"]]));
        assert_eq!(all["valueTypes"], json!([["Double", "String"]]));
        assert_eq!(all["@odata.context"], "ctx");
        assert_eq!(
            (all["rowHidden"].clone(), all["columnHidden"].clone(), all["hidden"].clone()),
            (json!(true), json!(false), json!(true))
        );
        let some: Json = serde_json::from_slice(&render_range(&r, "ctx", &|k| k == "values")).unwrap();
        assert_eq!(some.as_object().unwrap().keys().filter(|k| !k.starts_with('@')).count(), 1);
    }

    #[test]
    fn numbers_are_written_like_excel() {
        let written = |v: Value| {
            let mut out = Vec::new();
            write_value(&mut out, &v);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(written(Value::Number(3.0)), "3");
        assert_eq!(written(Value::Number(-0.5)), "-0.5");
        assert_eq!(written(Value::Error(book::ErrorKind::Div0)), "\"#DIV/0!\"");
        assert_eq!(written(Value::Empty), "\"\"");
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in ["", "plain", "a\"b", "back\\slash", "tab\there", "nl\n", "\u{1}", "é ü 日本", "\u{7f}", "</script>"]
        {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }
}
