//! The calculation engine, behind a trait so that it can be replaced or complemented.
//!
//! The first implementation wraps formualizer (dependency graph, incremental recalculation).

use formualizer_common::{ExcelErrorKind, LiteralValue};
use formualizer_eval::engine::named_range::{NameScope, NamedDefinition};
use formualizer_workbook::{Workbook as FzWorkbook, WorkbookConfig};

use crate::error::{BookError, Result};
use crate::model::{BookModel, FormulaKind, SheetKind};
use crate::value::{ErrorKind, Value};

/// What the document core needs from a calculation engine. Rows and columns are 0-based.
pub trait CalcEngine: Send {
    fn set_value(&mut self, sheet: &str, row: u32, col: u32, value: &Value) -> Result<()>;
    /// `formula` without the leading `=`.
    fn set_formula(&mut self, sheet: &str, row: u32, col: u32, formula: &str) -> Result<()>;
    /// Recalculates what depends on changes since the last call.
    fn recalc(&mut self) -> Result<()>;
    /// The current value of a cell (a formula's result after recalculation).
    fn value(&self, sheet: &str, row: u32, col: u32) -> Value;
}

/// Loads a parsed workbook into formualizer.
pub struct Formualizer {
    wb: FzWorkbook,
}

impl Formualizer {
    pub fn load(model: &BookModel) -> Result<Formualizer> {
        crate::functions::register_all();
        let mut config = WorkbookConfig::interactive();
        config.enable_changelog = false;
        config.eval.temporal_egress = formualizer_eval::engine::TemporalEgress::Serial;
        if model.date1904 {
            config.eval.date_system = formualizer_eval::engine::DateSystem::Excel1904;
        }
        let mut wb = FzWorkbook::new_with_config(config);
        for sheet in &model.sheets {
            wb.add_sheet(&sheet.name).map_err(engine_err)?;
        }
        for sheet in model.sheets.iter().filter(|s| s.kind == SheetKind::Worksheet) {
            for (&(row, col), cell) in &sheet.cells {
                let as_formula = match (&cell.formula, &cell.kind) {
                    (Some(f), FormulaKind::Normal | FormulaKind::Shared { .. } | FormulaKind::Array { .. }) => Some(f),
                    _ => None,
                };
                match as_formula {
                    Some(f) => {
                        // A formula the engine cannot take keeps its cached value.
                        if wb.set_formula(&sheet.name, row + 1, col + 1, &format!("={f}")).is_err() {
                            wb.set_value(&sheet.name, row + 1, col + 1, to_literal(&cell.value)).map_err(engine_err)?;
                        }
                    }
                    None if !cell.value.is_empty() => {
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
        }
        for name in &model.names {
            // Names that the engine cannot take (external references, macros) are skipped:
            // formulas that use them answer #NAME?, as in Excel without the source.
            let Ok(ast) = formualizer_parse::parser::parse(format!("={}", name.formula)) else { continue };
            let scope = match name.local_sheet {
                Some(i) => match model.sheets.get(i).and_then(|s| wb.engine().sheet_id(&s.name)) {
                    Some(id) => NameScope::Sheet(id),
                    None => continue,
                },
                None => NameScope::Workbook,
            };
            let def = NamedDefinition::Formula { ast, dependencies: Vec::new(), range_deps: Vec::new() };
            let _ = wb.engine_mut().define_name(&name.name, def, scope);
        }
        Ok(Formualizer { wb })
    }
}

impl CalcEngine for Formualizer {
    fn set_value(&mut self, sheet: &str, row: u32, col: u32, value: &Value) -> Result<()> {
        self.wb.set_value(sheet, row + 1, col + 1, to_literal(value)).map_err(engine_err)
    }

    fn set_formula(&mut self, sheet: &str, row: u32, col: u32, formula: &str) -> Result<()> {
        self.wb.set_formula(sheet, row + 1, col + 1, &format!("={formula}")).map_err(engine_err)
    }

    fn recalc(&mut self) -> Result<()> {
        self.wb.evaluate_all().map(|_| ()).map_err(engine_err)
    }

    fn value(&self, sheet: &str, row: u32, col: u32) -> Value {
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
            _ => ErrorKind::Value,
        }),
        other => {
            // Dates and durations only appear with Native egress; fall back to their serial.
            Value::Text(format!("{other:?}"))
        }
    }
}
