//! The calculation engine, behind a trait so that it can be replaced or complemented.
//!
//! The first implementation wraps formualizer (dependency graph, incremental recalculation).

use formualizer_common::{ExcelErrorKind, LiteralValue};
use formualizer_eval::arrow_store::IngestBuilder;
use formualizer_eval::engine::named_range::{NameScope, NamedDefinition};
use formualizer_eval::engine::RowVisibilitySource;
use formualizer_parse::parser::{ASTNode, ASTNodeType, ReferenceType};
use formualizer_workbook::{Workbook as FzWorkbook, WorkbookConfig};

use crate::address::Area;
use crate::error::{BookError, Result};
use crate::model::{BookModel, FormulaKind, SheetKind};
use crate::structured::TableInfo;
use crate::value::{ErrorKind, Value};

/// What the document core needs from a calculation engine. Rows and columns are 0-based.
pub trait CalcEngine: Send + Sync {
    fn set_value(&mut self, sheet: &str, row: u32, col: u32, value: &Value) -> Result<()>;
    /// `formula` without the leading `=`.
    fn set_formula(&mut self, sheet: &str, row: u32, col: u32, formula: &str) -> Result<()>;
    /// Recalculates what depends on changes since the last call.
    fn recalc(&mut self) -> Result<()>;
    /// The current value of a cell (a formula's result after recalculation).
    fn value(&self, sheet: &str, row: u32, col: u32) -> Value;
    /// A new, empty sheet after the others.
    fn add_sheet(&mut self, name: &str) -> Result<()>;
    /// The value of `formula` (without the leading `=`) as if it stood in a cell of `sheet`,
    /// reading the cells as they are now; nothing changes.
    fn evaluate(&self, sheet: &str, formula: &str) -> Result<Value>;
    /// Inserts whole rows or columns in the engine's own graph, its formulas and names moving
    /// with them, so that only what moved is calculated again. `Ok(false)` when this engine
    /// does not take the shift that way: the caller loads the engine anew from `model` (which
    /// already holds the shifted workbook).
    fn insert(&mut self, shift: &crate::shift::Shift, model: &BookModel) -> Result<bool>;
}

/// Loads a parsed workbook into formualizer.
pub struct Formualizer {
    wb: FzWorkbook,
    /// Upper-cased defined names that refer to other workbooks.
    external_names: std::collections::HashSet<String>,
    sheet_names: Vec<String>,
    /// Formula cells (sheet index, 1-based row, 1-based column), for the per-cell fallback.
    formula_cells: std::collections::BTreeSet<(usize, u32, u32)>,
    /// Cells whose evaluation failed in the fallback, with the error they show.
    failed: std::collections::HashMap<(usize, u32, u32), Value>,
    tables: Vec<TableInfo>,
}

/// What loading a sheet needs to know about all its cells before it starts.
struct SheetScan {
    /// Cells that an array formula fills hold Excel's cached copy of the array's values;
    /// loading them as constants would block the formula from spilling into them.
    array_fill: std::collections::HashSet<(u32, u32)>,
    /// The last row and column holding a cell.
    bounds: Option<(u32, u32)>,
    /// A fixed-extent (Ctrl+Shift+Enter) array formula is present.
    legacy_arrays: bool,
}

impl SheetScan {
    fn of(sheet: &crate::model::Sheet) -> SheetScan {
        let mut scan = SheetScan { array_fill: Default::default(), bounds: None, legacy_arrays: false };
        let mut max_col = 0;
        for (&(row, col), cell) in &sheet.cells {
            max_col = max_col.max(col);
            if let FormulaKind::Array { area, dynamic } = cell.kind {
                scan.legacy_arrays |= !dynamic;
                if area.cell_count() > 1 && area.cell_count() <= 1_000_000 {
                    for r in area.first_row..=area.last_row {
                        for c in area.first_col..=area.last_col {
                            if (r, c) != (row, col) {
                                scan.array_fill.insert((r, c));
                            }
                        }
                    }
                }
            }
        }
        // Keys are in (row, column) order: the last one has the last row.
        scan.bounds = sheet.cells.keys().next_back().map(|&(max_row, _)| (max_row, max_col));
        scan
    }
}

impl Formualizer {
    pub fn load(model: &BookModel) -> Result<Formualizer> {
        let mut config = WorkbookConfig::interactive();
        config.enable_changelog = false;
        config.eval.temporal_egress = formualizer_eval::engine::TemporalEgress::Serial;
        if model.date1904 {
            config.eval.date_system = formualizer_eval::engine::DateSystem::Excel1904;
        }
        // One pass over each sheet's cells for what loading needs before it starts.
        let scans: Vec<SheetScan> = model.sheets.iter().map(SheetScan::of).collect();
        let has_legacy_arrays = scans.iter().any(|s| s.legacy_arrays);
        if has_legacy_arrays {
            // Fixed-extent (Ctrl+Shift+Enter) arrays are only supported by per-cell evaluation.
            config.eval.family_execution = false;
        }
        let mut wb = FzWorkbook::new_with_config(config);
        crate::functions::register_all(&mut wb, model.date1904);
        for sheet in &model.sheets {
            wb.add_sheet(&sheet.name).map_err(engine_err)?;
        }
        let external_names = external_names(model);
        let mut formula_cells = std::collections::BTreeSet::new();
        let has_names = !model.names.is_empty();
        let tables = table_infos(model);
        for (sheet_index, sheet) in model.sheets.iter().enumerate().filter(|(_, s)| s.kind == SheetKind::Worksheet) {
            let SheetScan { array_fill, bounds, .. } = &scans[sheet_index];
            // Most sheets have no array formula: no hashing per cell then.
            let filled_by_array = |cell: (u32, u32)| !array_fill.is_empty() && array_fill.contains(&cell);
            // Values go in by bulk ingest, a row at a time, when the sheet is dense enough;
            // otherwise cell by cell into a store sized once (growing it cell by cell is
            // quadratic in the number of columns: a 16,384-column row took minutes).
            let value_cell = |cell: &crate::model::Cell| match (&cell.formula, &cell.kind) {
                (Some(f), _) if reads_external(f, &external_names) => true,
                (Some(_), FormulaKind::Normal | FormulaKind::Shared { .. } | FormulaKind::Array { .. }) => false,
                _ => true,
            };
            let mut values_loaded = false;
            if let Some((max_row, max_col)) = *bounds {
                let (rows, cols) = (max_row as usize + 1, max_col as usize + 1);
                if rows.saturating_mul(cols) <= 4 * sheet.cells.len() + 65_536 {
                    let date_system = wb.eval_config().date_system;
                    let mut ingest = IngestBuilder::new(&sheet.name, cols, 32 * 1024, date_system);
                    let mut row_values = vec![LiteralValue::Empty; cols];
                    let mut cells = sheet.cells.iter().peekable();
                    for r in 0..rows as u32 {
                        row_values.fill(LiteralValue::Empty);
                        while let Some((&(cr, cc), cell)) = cells.peek() {
                            if cr != r {
                                break;
                            }
                            if value_cell(cell) && !filled_by_array((cr, cc)) && !cell.value.is_empty() {
                                row_values[cc as usize] = to_literal(&cell.value);
                            }
                            cells.next();
                        }
                        ingest.append_row(&row_values).map_err(engine_err)?;
                    }
                    let built = ingest.finish();
                    let store = wb.engine_mut().sheet_store_mut();
                    match store.sheets.iter().position(|s| s.name.as_ref() == sheet.name) {
                        Some(i) => store.sheets[i] = built,
                        None => store.sheets.push(built),
                    }
                    values_loaded = true;
                } else {
                    wb.set_value(&sheet.name, max_row + 1, max_col + 1, LiteralValue::Empty).map_err(engine_err)?;
                }
            }
            for (&(row, col), cell) in &sheet.cells {
                if cell.formula.is_none() && filled_by_array((row, col)) {
                    continue;
                }
                let as_formula = match (&cell.formula, &cell.kind) {
                    // A formula that reads another workbook keeps Excel's cached result: the
                    // engine has no source for it, and Excel itself uses the cached link values
                    // until the link is refreshed.
                    (Some(f), _) if reads_external(f, &external_names) => None,
                    (Some(f), FormulaKind::Normal | FormulaKind::Shared { .. } | FormulaKind::Array { .. }) => Some(f),
                    _ => None,
                };
                match as_formula {
                    Some(f) => {
                        // A formula the engine cannot take keeps its cached value.
                        formula_cells.insert((sheet_index, row + 1, col + 1));
                        let f = crate::formula::normalize_ranges(f).unwrap_or_else(|| f.clone());
                        let f = crate::formula::for_engine(&f).unwrap_or(f);
                        let f = crate::structured::resolve(&f, &sheet.name, row, col, &tables).unwrap_or(f);
                        let f = match cell.kind {
                            FormulaKind::Normal | FormulaKind::Shared { .. } => {
                                crate::legacy::with_implicit_intersection(&f, has_names).unwrap_or(f)
                            }
                            _ => f,
                        };
                        if wb.set_formula(&sheet.name, row + 1, col + 1, &format!("={f}")).is_err() {
                            wb.set_value(&sheet.name, row + 1, col + 1, to_literal(&cell.value)).map_err(engine_err)?;
                        }
                    }
                    None if !cell.value.is_empty() && !values_loaded => {
                        wb.set_value(&sheet.name, row + 1, col + 1, to_literal(&cell.value)).map_err(engine_err)?;
                    }
                    None => {}
                }
            }
            for t in &sheet.tables {
                let a = t.area;
                let _ = wb.define_table(
                    &t.display_name,
                    &sheet.name,
                    (a.first_row + 1, a.first_col + 1, a.last_row + 1, a.last_col + 1),
                    t.columns.clone(),
                    t.header_rows > 0,
                    t.totals_rows > 0,
                );
            }
            // SUBTOTAL skips rows a filter hides; AGGREGATE and SUBTOTAL 101-111 also skip rows
            // hidden by hand. The file only says "hidden": rows under the sheet's autoFilter
            // header are taken as filtered out, the others as hidden by hand.
            // Runs of consecutive rows of one kind go in as one range.
            let source_of = |row: u32| {
                if sheet.auto_filter.is_some_and(|f| row > f.first_row && row <= f.last_row) {
                    RowVisibilitySource::Filter
                } else {
                    RowVisibilitySource::Manual
                }
            };
            let mut rows = sheet.hidden_rows.iter().copied().peekable();
            while let Some(first) = rows.next() {
                let source = source_of(first);
                let mut last = first;
                while let Some(&next) = rows.peek() {
                    if next != last + 1 || source_of(next) != source {
                        break;
                    }
                    last = next;
                    rows.next();
                }
                wb.engine_mut().set_rows_hidden(&sheet.name, first + 1, last + 1, true, source).map_err(engine_err)?;
            }
        }
        for name in &model.names {
            // Names that the engine cannot take (macros, unparsable text) are skipped: formulas
            // that use them answer #NAME?. Names over other workbooks are skipped too; the
            // formulas that use them keep their cached results (see `reads_external`).
            if external_names.contains(&name.name.to_ascii_uppercase()) {
                continue;
            }
            let scope = match name.local_sheet {
                Some(i) => match model.sheets.get(i).and_then(|s| wb.engine().sheet_id(&s.name)) {
                    Some(id) => NameScope::Sheet(id),
                    None => continue,
                },
                None => NameScope::Workbook,
            };
            // A name over cells is a reference (`SUM(Span)` sums it); the engine's formula names
            // evaluate to a value.
            let def = match reference_name(&wb, &name.formula) {
                Some(def) => def,
                None => {
                    let Ok(ast) = formualizer_parse::parser::parse(format!("={}", name.formula)) else { continue };
                    NamedDefinition::Formula { ast, dependencies: Vec::new(), range_deps: Vec::new() }
                }
            };
            let _ = wb.engine_mut().define_name(&name.name, def, scope);
        }
        declare_arrays(&mut wb, model, &external_names);
        let sheet_names = model.sheets.iter().map(|s| s.name.clone()).collect();
        Ok(Formualizer { wb, external_names, sheet_names, formula_cells, failed: Default::default(), tables })
    }
}

impl Formualizer {
    fn sheet_index(&self, name: &str) -> Option<usize> {
        self.sheet_names.iter().position(|n| n == name)
    }
}

/// Tells the engine which formulas are array formulas, as the file records them: legacy arrays
/// fill exactly their recorded extent (clipped or padded with #N/A), dynamic ones spill.
/// `Sheet1!$A$2:$B$9` or `'My Sheet'!$C$1` as the engine's cell or range name.
fn reference_name(wb: &FzWorkbook, formula: &str) -> Option<NamedDefinition> {
    use formualizer_eval::reference::{CellRef, Coord, RangeRef};
    let sa = crate::address::SheetArea::parse(formula).ok()?;
    let sheet_id = wb.engine().sheet_id(sa.sheet.as_deref()?)?;
    let a = sa.area;
    if a.kind != crate::address::AreaKind::Cells {
        return None;
    }
    let at = |r: u32, c: u32| CellRef::new(sheet_id, Coord::new(r, c, true, true));
    Some(if a.is_single_cell() {
        NamedDefinition::Cell(at(a.first_row, a.first_col))
    } else {
        NamedDefinition::Range(RangeRef::new(at(a.first_row, a.first_col), at(a.last_row, a.last_col)))
    })
}

fn declare_arrays(wb: &mut FzWorkbook, model: &BookModel, external_names: &std::collections::HashSet<String>) {
    let arrays: Vec<(&str, u32, u32, Area, bool)> = model
        .sheets
        .iter()
        .filter(|s| s.kind == SheetKind::Worksheet)
        .flat_map(|s| {
            s.cells.iter().filter_map(move |(&(r, c), cell)| match (&cell.kind, &cell.formula) {
                (FormulaKind::Array { area, dynamic }, Some(f)) if !reads_external(f, external_names) => {
                    Some((s.name.as_str(), r, c, *area, *dynamic))
                }
                _ => None,
            })
        })
        .collect();
    if arrays.is_empty() {
        return;
    }
    let engine = wb.engine_mut();
    if engine.build_graph_all().is_err() {
        return;
    }
    for (sheet, row, col, area, dynamic) in arrays {
        // A declaration the engine refuses leaves the formula as a plain (spilling) formula.
        let _ = if dynamic {
            engine.declare_dynamic_array_anchor(sheet, row + 1, col + 1)
        } else {
            let rows = area.last_row.saturating_sub(area.first_row) + 1;
            let cols = area.last_col.saturating_sub(area.first_col) + 1;
            engine.declare_fixed_array_formula(sheet, row + 1, col + 1, rows, cols)
        };
    }
}

fn table_infos(model: &BookModel) -> Vec<TableInfo> {
    model
        .sheets
        .iter()
        .flat_map(|s| {
            s.tables.iter().map(move |t| TableInfo {
                name: t.display_name.clone(),
                sheet: s.name.clone(),
                area: t.area,
                header_rows: t.header_rows,
                totals_rows: t.totals_rows,
                columns: t.columns.clone(),
            })
        })
        .collect()
}

/// Upper-cased names whose definition refers to another workbook.
fn external_names(model: &BookModel) -> std::collections::HashSet<String> {
    model
        .names
        .iter()
        .filter(|n| n.formula.contains('[') && reads_external(&n.formula, &Default::default()))
        .map(|n| n.name.to_ascii_uppercase())
        .collect()
}

/// Whether a formula reads another workbook, directly (`[1]Sheet1!A1`) or through a name.
fn reads_external(formula: &str, external_names: &std::collections::HashSet<String>) -> bool {
    let maybe_direct = formula.contains('[');
    let maybe_name = !external_names.is_empty() && {
        let upper = formula.to_ascii_uppercase();
        external_names.iter().any(|n| upper.contains(n.as_str()))
    };
    if !maybe_direct && !maybe_name {
        return false;
    }
    match formualizer_parse::parser::parse(format!("={formula}")) {
        Ok(ast) => ast_reads_external(&ast, external_names),
        Err(_) => false,
    }
}

fn ast_reads_external(node: &ASTNode, external_names: &std::collections::HashSet<String>) -> bool {
    match &node.node_type {
        ASTNodeType::Reference { reference, .. } => match reference {
            ReferenceType::External(_) => true,
            ReferenceType::NamedRange(n) => external_names.contains(&n.to_ascii_uppercase()),
            _ => false,
        },
        ASTNodeType::UnaryOp { expr, .. } => ast_reads_external(expr, external_names),
        ASTNodeType::BinaryOp { left, right, .. } => {
            ast_reads_external(left, external_names) || ast_reads_external(right, external_names)
        }
        ASTNodeType::Function { args, .. } => args.iter().any(|a| ast_reads_external(a, external_names)),
        ASTNodeType::Call { callee, args } => {
            ast_reads_external(callee, external_names) || args.iter().any(|a| ast_reads_external(a, external_names))
        }
        ASTNodeType::Array(rows) => rows.iter().flatten().any(|a| ast_reads_external(a, external_names)),
        ASTNodeType::Literal(_) | ASTNodeType::Omitted => false,
    }
}

impl CalcEngine for Formualizer {
    fn add_sheet(&mut self, name: &str) -> Result<()> {
        self.wb.add_sheet(name).map_err(engine_err)?;
        self.sheet_names.push(name.to_string());
        Ok(())
    }

    fn set_value(&mut self, sheet: &str, row: u32, col: u32, value: &Value) -> Result<()> {
        if let Some(i) = self.sheet_index(sheet) {
            self.formula_cells.remove(&(i, row + 1, col + 1));
        }
        self.wb.set_value(sheet, row + 1, col + 1, to_literal(value)).map_err(engine_err)
    }

    fn set_formula(&mut self, sheet: &str, row: u32, col: u32, formula: &str) -> Result<()> {
        if let Some(i) = self.sheet_index(sheet) {
            self.formula_cells.insert((i, row + 1, col + 1));
        }
        if reads_external(formula, &self.external_names) {
            // No linked workbook is reachable from the server: the reference cannot be resolved.
            return self.set_value(sheet, row, col, &Value::Error(ErrorKind::Ref));
        }
        let formula = crate::formula::normalize_ranges(formula).unwrap_or_else(|| formula.to_string());
        let formula = crate::formula::for_engine(&formula).unwrap_or(formula);
        let formula = crate::structured::resolve(&formula, sheet, row, col, &self.tables).unwrap_or(formula);
        self.wb.set_formula(sheet, row + 1, col + 1, &format!("={formula}")).map_err(engine_err)
    }

    fn recalc(&mut self) -> Result<()> {
        // Dynamic references (INDIRECT, OFFSET) are discovered while evaluating; the engine
        // gives up after a fixed number of re-plans per call, and a further call continues
        // from what it found.
        self.failed.clear();
        if self.wb.evaluate_all().is_ok() {
            return Ok(());
        }
        // One formula the engine cannot evaluate fails the whole pass (for example a dynamic
        // reference that does not converge); evaluate cell by cell so that only that formula
        // shows an error.
        let cells: Vec<(usize, u32, u32)> = self.formula_cells.iter().copied().collect();
        for (sheet, row, col) in cells {
            let Some(name) = self.sheet_names.get(sheet) else { continue };
            if let Err(e) = self.wb.evaluate_cell(name, row, col) {
                let shown = match &e {
                    formualizer_workbook::IoError::Engine(x) => from_literal(&LiteralValue::Error(x.clone())),
                    _ => Value::Error(ErrorKind::Value),
                };
                self.failed.insert((sheet, row, col), shown);
            }
        }
        Ok(())
    }

    fn insert(&mut self, shift: &crate::shift::Shift, model: &BookModel) -> Result<bool> {
        if !shift.insert || !shift.whole() || self.sheet_index(&shift.sheet).is_none() {
            return Ok(false);
        }
        let engine = self.wb.engine_mut();
        let done = match shift.axis {
            crate::shift::Axis::Rows => engine.insert_rows(&shift.sheet, shift.at + 1, shift.count).is_ok(),
            crate::shift::Axis::Cols => engine.insert_columns(&shift.sheet, shift.at + 1, shift.count).is_ok(),
        };
        if !done {
            return Ok(false);
        }
        // What the wrapper knows of the cells follows the model.
        self.tables = table_infos(model);
        self.failed.clear();
        let si = self.sheet_index(&shift.sheet).unwrap_or_default();
        self.formula_cells = std::mem::take(&mut self.formula_cells)
            .into_iter()
            .filter_map(|(s, r, c)| {
                if s != si {
                    return Some((s, r, c));
                }
                shift.map_cell(r - 1, c - 1).map(|(r, c)| (s, r + 1, c + 1))
            })
            .collect();
        Ok(true)
    }

    fn evaluate(&self, sheet: &str, formula: &str) -> Result<Value> {
        let ast = formualizer_parse::parser::parse(format!("={formula}"))
            .map_err(|e| BookError::InvalidEdit(format!("the formula ={formula} does not parse: {e}")))?;
        let interpreter = formualizer_eval::interpreter::Interpreter::new(self.wb.engine(), sheet);
        Ok(match interpreter.evaluate_ast(&ast) {
            Ok(v) => from_literal(&v.into_literal()),
            Err(e) => from_literal(&LiteralValue::Error(e)),
        })
    }

    fn value(&self, sheet: &str, row: u32, col: u32) -> Value {
        if !self.failed.is_empty() {
            if let Some(v) = self.sheet_index(sheet).and_then(|i| self.failed.get(&(i, row + 1, col + 1))) {
                return v.clone();
            }
        }
        self.wb.get_value(sheet, row + 1, col + 1).map(|v| from_literal(&v)).unwrap_or(Value::Empty)
    }
}

fn engine_err(e: impl std::fmt::Display) -> BookError {
    BookError::Engine(e.to_string())
}

pub fn to_literal(v: &Value) -> LiteralValue {
    match v {
        Value::Empty => LiteralValue::Empty,
        Value::Number(n) => LiteralValue::Number(*n),
        Value::Text(s) => LiteralValue::Text(s.clone()),
        Value::Bool(b) => LiteralValue::Boolean(*b),
        Value::Error(e) => LiteralValue::Error(formualizer_common::ExcelError::new(match e {
            ErrorKind::Null => ExcelErrorKind::Null,
            ErrorKind::Div0 => ExcelErrorKind::Div,
            ErrorKind::Value => ExcelErrorKind::Value,
            ErrorKind::Ref => ExcelErrorKind::Ref,
            ErrorKind::Name => ExcelErrorKind::Name,
            ErrorKind::Num => ExcelErrorKind::Num,
            ErrorKind::NA => ExcelErrorKind::Na,
            ErrorKind::Spill => ExcelErrorKind::Spill,
            ErrorKind::Calc => ExcelErrorKind::Calc,
            _ => ExcelErrorKind::Value,
        })),
    }
}

pub fn from_literal(v: &LiteralValue) -> Value {
    match v {
        LiteralValue::Int(i) => Value::Number(*i as f64),
        LiteralValue::Number(n) if n.is_finite() => Value::Number(*n),
        LiteralValue::Number(_) => Value::Error(ErrorKind::Num),
        LiteralValue::Text(s) => Value::Text(s.clone()),
        LiteralValue::Boolean(b) => Value::Bool(*b),
        LiteralValue::Empty | LiteralValue::Pending => Value::Empty,
        LiteralValue::Array(rows) => rows.first().and_then(|r| r.first()).map(from_literal).unwrap_or(Value::Empty),
        LiteralValue::Error(e) => Value::Error(match e.kind {
            ExcelErrorKind::Null => ErrorKind::Null,
            ExcelErrorKind::Ref => ErrorKind::Ref,
            ExcelErrorKind::Name => ErrorKind::Name,
            ExcelErrorKind::Value => ErrorKind::Value,
            ExcelErrorKind::Div => ErrorKind::Div0,
            ExcelErrorKind::Na => ErrorKind::NA,
            ExcelErrorKind::Num => ErrorKind::Num,
            ExcelErrorKind::Spill => ErrorKind::Spill,
            ExcelErrorKind::Calc => ErrorKind::Calc,
            // No Excel error means "not implemented" or "circular": Excel's nearest is #NAME? for
            // unknown functions and 0 for circular references; keep #NAME? so it shows.
            ExcelErrorKind::NImpl => ErrorKind::Name,
            // Without iterative calculation Excel shows a circular reference as 0.
            ExcelErrorKind::Circ => return Value::Number(0.0),
            _ => ErrorKind::Value,
        }),
        other => {
            // Dates and durations only appear with Native egress; fall back to their serial.
            Value::Text(format!("{other:?}"))
        }
    }
}
/// A cell's value as a reader sees it: the engine's result once it has calculated (`engine` is
/// then given), else what the file holds.
pub(crate) fn shown_value(model: &BookModel, engine: Option<&dyn CalcEngine>, si: usize, row: u32, col: u32) -> Value {
    let sheet = &model.sheets[si];
    let stored = sheet.cells.get(&(row, col));
    let engine = match engine {
        Some(e) if !stored.is_some_and(|c| matches!(c.kind, FormulaKind::DataTable)) => e,
        _ => return stored.map(|c| c.value.clone()).unwrap_or_default(),
    };
    let v = engine.value(&sheet.name, row, col);
    match (&v, stored) {
        // A formula whose result is an empty cell shows 0, as in Excel.
        (Value::Empty, Some(c)) if c.formula.is_some() => Value::Number(0.0),
        _ => v,
    }
}
