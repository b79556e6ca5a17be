//! The live workbook: the original package, its parsed model, the engine, and what edits changed.
//! This module is the only home of `impl Workbook`: cells and the edit loop here, sheets,
//! inserting and deleting cells, tables and names in the submodules. What the save reads is
//! `Changes` (`changes.rs`), below this module.

mod insert_delete;
mod names;
mod sheets;
mod tables;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::address::{intersects, Area};
use crate::changes::{Changes, NewXf};
use crate::edit::{CellInput, ClearCells, Edit, Record, SetCells};
use crate::engine::{CalcEngine, Formualizer};
use crate::error::{BookError, Result};
use crate::model::{BookModel, CalcMode, Cell, FormulaKind, SheetKind, Visibility};
use crate::numfmt;
use crate::ooxml::package::{Limits, Package};
use crate::value::Value;

/// Above this many cells in one write, the engine is reloaded rather than updated cell by cell.
const BULK_CELLS: usize = 2_000;

/// One cell as the Graph range resource shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct CellView {
    pub value: Value,
    /// `=...` for formula cells, else the value as entered (Graph's `formulas`).
    pub formula: Option<String>,
    pub number_format: Cow<'static, str>,
    pub text: String,
}

pub struct Workbook {
    pub(crate) pkg: Package,
    pub(crate) model: BookModel,
    pub(crate) engine: Box<dyn CalcEngine>,
    /// Engine values are current (a recalculation ran after load).
    calculated: bool,
    /// Time the engine spent calculating since [`Workbook::take_calc_time`] last read it.
    calc_time: std::time::Duration,
    /// Edits not yet recalculated.
    pub(crate) dirty: bool,
    /// What edits changed since the package was opened or saved: what the save patches.
    pub(crate) changes: Changes,
    xf_cache: HashMap<NewXf, u32>,
    seq: u64,
    last_save: crate::save::SaveReport,
}

impl std::fmt::Debug for Workbook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbook").field("sheets", &self.sheet_names()).field("seq", &self.seq).finish()
    }
}

impl Workbook {
    /// Opens a package with default limits.
    pub fn open(bytes: impl Into<Arc<[u8]>>) -> Result<Workbook> {
        Workbook::open_with(bytes, &Limits::default())
    }

    pub fn open_with(bytes: impl Into<Arc<[u8]>>, limits: &Limits) -> Result<Workbook> {
        let pkg = Package::open(bytes.into(), limits)?;
        let model = BookModel::parse(&pkg)?;
        let engine = Formualizer::load(&model)?;
        let changes = Changes::new(&model);
        Ok(Workbook {
            changes,
            pkg,
            model,
            engine: Box::new(engine),
            calculated: false,
            calc_time: std::time::Duration::ZERO,
            dirty: false,
            xf_cache: HashMap::new(),
            seq: 0,
            last_save: Default::default(),
        })
    }

    pub fn model(&self) -> &BookModel {
        &self.model
    }

    pub fn package(&self) -> &Package {
        &self.pkg
    }

    pub fn sheet_names(&self) -> Vec<&str> {
        self.model.sheets.iter().map(|s| s.name.as_str()).collect()
    }

    /// Sequence number of the last applied record.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn calc_mode(&self) -> CalcMode {
        self.model.calc_mode
    }

    pub(crate) fn sheet_idx(&self, name: &str) -> Result<usize> {
        let idx = self.model.sheet_index(name).ok_or_else(|| BookError::NoSuchSheet(name.to_string()))?;
        if self.model.sheets[idx].kind != SheetKind::Worksheet {
            return Err(BookError::NoSuchSheet(name.to_string()));
        }
        Ok(idx)
    }

    /// Applies a journal record. In automatic calculation mode dependents are recalculated.
    pub fn apply(&mut self, record: &Record) -> Result<()> {
        self.apply_edit(&record.edit)?;
        crate::fail_point::hit(crate::fail_point::BEFORE_RECALC);
        self.seq = record.seq;
        if self.dirty && self.model.calc_mode != CalcMode::Manual {
            self.recalc()?;
        }
        Ok(())
    }

    /// One edit's change, before recalculation.
    fn apply_edit(&mut self, edit: &Edit) -> Result<()> {
        match edit {
            Edit::SetCells(set) => self.set_cells(set)?,
            Edit::ClearCells(clear) => self.clear_cells(clear)?,
            Edit::AddSheet { name } => self.add_sheet(name)?,
            Edit::SetSheetVisibility { sheet, visibility } => self.set_sheet_visibility(sheet, *visibility)?,
            Edit::UpdateSheet { sheet, name, position, visibility } => {
                self.update_sheet(sheet, name.as_deref(), *position, *visibility)?
            }
            Edit::DeleteSheet { sheet } => self.delete_sheet(sheet)?,
            Edit::AddTable { sheet, area, has_headers } => {
                self.add_table(sheet, &Area::parse_a1(area)?, *has_headers)?;
            }
            Edit::AddTableColumn { table, index, name, values } => {
                self.add_table_column(table, *index, name.as_deref(), values.as_ref())?
            }
            Edit::DeleteTableColumn { table, column } => self.delete_table_column(table, column)?,
            Edit::SetHidden { sheet, axis, first, last, hidden } => {
                self.set_hidden(sheet, *axis, *first, *last, *hidden)?
            }
            Edit::Merge { sheet, area, across } => self.merge(sheet, &Area::parse_a1(area)?, *across)?,
            Edit::Unmerge { sheet, area } => self.unmerge(sheet, &Area::parse_a1(area)?)?,
            Edit::RemoveTable { table, keep_cells } => self.remove_table(table, *keep_cells)?,
            Edit::UpdateTable { table, update } => self.update_table(table, update)?,
            Edit::AddName { name, sheet, formula, comment } => {
                self.add_name(name, sheet.as_deref(), formula, comment.as_deref())?
            }
            Edit::UpdateName { name, sheet, visible, comment } => {
                self.update_name(name, sheet.as_deref(), *visible, comment.as_deref())?
            }
            Edit::ShiftCells(shift) => self.shift_cells(shift)?,
            Edit::AddTableRows { table, index, count, inputs } => {
                self.add_table_rows(table, *index, *count, inputs.as_ref())?
            }
            Edit::DeleteTableRows { table, index, count } => self.delete_table_rows(table, *index, *count)?,
            Edit::Calculate { full } => {
                if *full {
                    self.full_recalc()?;
                } else {
                    self.recalc()?;
                }
            }
            Edit::Several { edits } => {
                for edit in edits {
                    self.apply_edit(edit)?;
                }
            }
        }
        Ok(())
    }

    /// Applies an edit as the next record and returns that record (for the journal).
    pub fn edit(&mut self, edit: Edit) -> Result<Record> {
        let record = Record::new(self.seq + 1, edit);
        self.apply(&record)?;
        Ok(record)
    }

    /// Excel's rules for a sheet name: 1 to 31 characters, none of `[ ] : * ? / \`, not
    /// starting or ending with `'`, not `History`, and no other sheet of the name in any case.
    pub fn check_new_sheet_name(&self, name: &str) -> Result<()> {
        self.check_sheet_name_text(name)?;
        if self.model.sheet_index(name).is_some() {
            return Err(BookError::SheetExists(name.to_string()));
        }
        Ok(())
    }

    fn add_sheet(&mut self, name: &str) -> Result<()> {
        self.check_new_sheet_name(name)?;
        let sheet_id = self.model.sheets.iter().map(|s| s.sheet_id).max().unwrap_or(0) + 1;
        // A relationship id and a part name that nothing in the package or the model uses.
        let rels = self.pkg.rels(&self.model.workbook_part)?;
        let used_id = |id: &str| rels.iter().any(|r| r.id == id) || self.model.sheets.iter().any(|s| s.rel_id == id);
        let rel_id = (1..).map(|n| format!("rIdSheet{n}")).find(|id| !used_id(id)).unwrap_or_default();
        let dir = self.model.workbook_part.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
        let used_part =
            |p: &str| self.pkg.entry(p).is_some() || self.model.sheets.iter().any(|s| s.part.eq_ignore_ascii_case(p));
        let part = (self.model.sheets.len() + 1..)
            .map(|k| format!("{dir}worksheets/sheet{k}.xml"))
            .find(|p| !used_part(p))
            .unwrap_or_default();
        self.engine.add_sheet(name)?;
        self.model.sheets.push(crate::model::Sheet {
            name: name.to_string(),
            sheet_id,
            rel_id,
            part,
            visibility: Visibility::Visible,
            kind: SheetKind::Worksheet,
            cells: Default::default(),
            merges: Vec::new(),
            tables: Vec::new(),
            features: Default::default(),
            hidden_rows: Vec::new(),
            hidden_cols: Vec::new(),
            auto_filter: None,
        });
        self.changes.sheets_changed = true;
        Ok(())
    }

    pub(crate) fn set_sheet_visibility(&mut self, sheet: &str, visibility: Visibility) -> Result<()> {
        let si = self.sheet_idx(sheet)?;
        if visibility != Visibility::Visible {
            // Excel keeps at least one sheet visible.
            let others_visible =
                self.model.sheets.iter().enumerate().any(|(i, s)| i != si && s.visibility == Visibility::Visible);
            if !others_visible {
                return Err(BookError::InvalidEdit("a workbook keeps at least one visible sheet".into()));
            }
        }
        if self.model.sheets[si].visibility != visibility {
            self.model.sheets[si].visibility = visibility;
            self.changes.sheets_changed = true;
        }
        Ok(())
    }

    /// Merges the cells of `area` (each row on its own when `across`): only the top-left cell
    /// of each merged block keeps its content, as in Excel. Merged cells inside the area are
    /// taken in; ones reaching out of it, tables and arrays refuse.
    fn merge(&mut self, sheet: &str, area: &Area, across: bool) -> Result<()> {
        let si = self.sheet_idx(sheet)?;
        let blocks: Vec<Area> = if across {
            (area.first_row..=area.last_row).map(|r| Area::cells(r, area.first_col, r, area.last_col)).collect()
        } else {
            vec![Area::cells(area.first_row, area.first_col, area.last_row, area.last_col)]
        };
        let blocks: Vec<Area> = blocks.into_iter().filter(|b| !b.is_single_cell()).collect();
        let s = &self.model.sheets[si];
        for m in &s.merges {
            if intersects(m, area) && !contains_area(area, m) {
                return Err(BookError::InvalidEdit(format!("the merged cells {} reach out of the range", m.to_a1())));
            }
        }
        for t in &s.tables {
            if intersects(&t.area, area) && !blocks.is_empty() {
                return Err(BookError::InvalidEdit(format!("cells of table '{}' cannot be merged", t.display_name)));
            }
        }
        for (&(r, c), cell) in &s.cells {
            if let FormulaKind::Array { area: arr, .. } = cell.kind {
                if intersects(&arr, area) && !blocks.is_empty() {
                    return Err(BookError::InvalidEdit(format!(
                        "cannot merge cells of the array formula at {}",
                        crate::address::cell_name(r, c)
                    )));
                }
            }
        }
        let sheet_name = self.model.sheets[si].name.clone();
        for b in &blocks {
            // Everything but the top-left cell loses its content.
            for r in b.first_row..=b.last_row {
                let from = if r == b.first_row { b.first_col + 1 } else { b.first_col };
                if from <= b.last_col {
                    self.clear_cells(&ClearCells {
                        sheet: sheet_name.clone(),
                        first_row: r,
                        first_col: from,
                        last_row: r,
                        last_col: b.last_col,
                        contents: true,
                        formats: false,
                    })?;
                }
            }
        }
        let merges = &mut self.model.sheets[si].merges;
        merges.retain(|m| !contains_area(area, m));
        merges.extend(blocks);
        self.changes.merges_changed.insert(si);
        Ok(())
    }

    /// Unmerges every merged block that meets `area`.
    fn unmerge(&mut self, sheet: &str, area: &Area) -> Result<()> {
        let si = self.sheet_idx(sheet)?;
        let merges = &mut self.model.sheets[si].merges;
        let before = merges.len();
        merges.retain(|m| !intersects(m, area));
        if merges.len() != before {
            self.changes.merges_changed.insert(si);
        }
        Ok(())
    }

    pub(crate) fn clear_cells(&mut self, clear: &ClearCells) -> Result<()> {
        let si = self.sheet_idx(&clear.sheet)?;
        let (r1, c1, r2, c2) = (clear.first_row, clear.first_col, clear.last_row, clear.last_col);
        if r1 > r2 || c1 > c2 || r2 >= crate::address::MAX_ROWS || c2 >= crate::address::MAX_COLS {
            return Err(BookError::InvalidEdit("rectangle outside the sheet".into()));
        }
        let area = Area::cells(r1, c1, r2, c2);
        let in_area: Vec<(u32, u32)> = self.model.sheets[si]
            .cells
            .range((r1, 0)..=(r2, u32::MAX))
            .filter(|((_, c), _)| (c1..=c2).contains(c))
            .map(|(k, _)| *k)
            .collect();
        if clear.contents {
            for t in &self.model.sheets[si].tables {
                let header = t.area.first_row;
                if t.header_rows > 0 && (r1..=r2).contains(&header) && t.area.first_col <= c2 && c1 <= t.area.last_col {
                    return Err(BookError::InvalidEdit(format!(
                        "clearing the header row of table '{}' is not supported yet",
                        t.display_name
                    )));
                }
            }
            // As when writing: part of an array formula cannot be cleared, all of it can.
            for (&(r, c), cell) in &self.model.sheets[si].cells {
                if let FormulaKind::Array { area: arr, dynamic: false } = cell.kind {
                    if arr.cell_count() > 1 && intersects(&arr, &area) && !contains_area(&area, &arr) {
                        return Err(BookError::InvalidEdit(format!(
                            "cannot change part of the array formula at {}",
                            crate::address::cell_name(r, c)
                        )));
                    }
                }
            }
        }
        let sheet_name = self.model.sheets[si].name.clone();
        for (row, col) in in_area {
            let cells = &mut self.model.sheets[si].cells;
            let Some(cell) = cells.get_mut(&(row, col)) else { continue };
            let has_content =
                !cell.value.is_empty() || cell.formula.is_some() || !matches!(cell.kind, FormulaKind::Normal);
            let changes = (clear.contents && has_content) || (clear.formats && cell.style != 0);
            if !changes {
                continue;
            }
            self.changes.touched.insert((si, row, col));
            if clear.formats {
                cell.style = 0;
            }
            if clear.contents && has_content {
                if let FormulaKind::Shared { master: true, si: group } = cell.kind {
                    self.changes.broken_shared.insert((si, group));
                }
                if cell.formula.is_some() || !matches!(cell.kind, FormulaKind::Normal) {
                    self.changes.formulas_changed = true;
                }
                cell.value = Value::Empty;
                cell.formula = None;
                cell.kind = FormulaKind::Normal;
                self.engine.set_value(&sheet_name, row, col, &Value::Empty)?;
                self.dirty = true;
            }
            // A cell with nothing left goes from the sheet.
            if cell.value.is_empty() && cell.formula.is_none() && cell.style == 0 {
                cells.remove(&(row, col));
            }
        }
        Ok(())
    }

    pub(crate) fn set_cells(&mut self, set: &SetCells) -> Result<()> {
        set.validate()?;
        let si = self.sheet_idx(&set.sheet)?;
        let area = Area::cells(set.row, set.col, set.row + set.rows - 1, set.col + set.cols - 1);
        self.check_arrays(si, &area, set)?;
        // Header cells written anew rename their table's columns.
        let mut header_writes: Vec<(u32, u32, &CellInput)> = Vec::new();
        if let Some(inputs) = &set.inputs {
            for t in &self.model.sheets[si].tables {
                let hr = t.area.first_row;
                if t.header_rows == 0 || hr < set.row || hr >= set.row + set.rows {
                    continue;
                }
                let row = &inputs[(hr - set.row) as usize];
                for (c, input) in row.iter().enumerate() {
                    let col = set.col + c as u32;
                    if let (Some(input), true) = (input, (t.area.first_col..=t.area.last_col).contains(&col)) {
                        header_writes.push((hr, col, input));
                    }
                }
            }
        }
        let renames = self.header_renames(si, &header_writes)?;
        // Resolve number formats to styles first: nothing is changed if one is invalid.
        let mut styles: Vec<Vec<Option<u32>>> = Vec::new();
        if let Some(formats) = &set.number_formats {
            for (r, row) in formats.iter().enumerate() {
                let mut out = Vec::with_capacity(row.len());
                for (c, fmt) in row.iter().enumerate() {
                    out.push(match fmt {
                        Some(code) => {
                            let (rr, cc) = (set.row + r as u32, set.col + c as u32);
                            let base = self.model.sheets[si].cells.get(&(rr, cc)).map_or(0, |c| c.style);
                            Some(self.style_with_format(base, code)?)
                        }
                        None => None,
                    });
                }
                styles.push(out);
            }
        }
        let sheet_name = self.model.sheets[si].name.clone();
        // Many cells at once: the engine is loaded anew from the model afterwards, which costs
        // about one full calculation, instead of invalidating dependents cell by cell (ten
        // thousand cells that way took 350 ms on the 10k-formula book). Manual mode keeps the
        // cell-by-cell path: reloading calculates.
        let given = set.inputs.as_ref().map_or(0, |i| i.iter().flatten().filter(|c| c.is_some()).count());
        let bulk = given > BULK_CELLS && self.model.calc_mode != CalcMode::Manual;
        for r in 0..set.rows {
            for c in 0..set.cols {
                let (row, col) = (set.row + r, set.col + c);
                let input = set.inputs.as_ref().and_then(|i| i[r as usize][c as usize].clone());
                let style = styles.get(r as usize).and_then(|s| s[c as usize]);
                if input.is_none() && style.is_none() {
                    continue;
                }
                self.changes.touched.insert((si, row, col));
                let cells = &mut self.model.sheets[si].cells;
                let cell = cells.entry((row, col)).or_insert_with(|| Cell {
                    value: Value::Empty,
                    formula: None,
                    kind: FormulaKind::Normal,
                    style: 0,
                });
                if let Some(s) = style {
                    cell.style = s;
                }
                let Some(input) = input else { continue };
                let had_formula = cell.formula.is_some() || matches!(cell.kind, FormulaKind::Shared { .. });
                if let FormulaKind::Shared { master: true, si: group } = cell.kind {
                    // Followers lose their master: they are written out in full on save.
                    self.changes.broken_shared.insert((si, group));
                    self.changes.formulas_changed = true;
                }
                cell.kind = FormulaKind::Normal;
                match input {
                    CellInput::Formula(f) => {
                        let f = f.strip_prefix('=').unwrap_or(&f).to_string();
                        cell.formula = Some(f.clone());
                        self.changes.formulas_changed = true;
                        if bulk {
                            let parses = formualizer_parse::parser::parse(format!("={f}")).is_ok();
                            cell.value =
                                if parses { Value::Empty } else { Value::Error(crate::value::ErrorKind::Name) };
                        } else if self.engine.set_formula(&sheet_name, row, col, &f).is_err() {
                            // A formula the engine cannot parse shows #NAME?, as Excel would refuse it.
                            cell.value = Value::Error(crate::value::ErrorKind::Name);
                            self.engine.set_value(&sheet_name, row, col, &cell.value)?;
                        }
                    }
                    other => {
                        cell.formula = None;
                        cell.value = match other {
                            CellInput::Empty => Value::Empty,
                            CellInput::Number(n) => Value::Number(n),
                            CellInput::Text(s) => Value::Text(s),
                            CellInput::Bool(b) => Value::Bool(b),
                            CellInput::Formula(_) => unreachable!("handled above"),
                        };
                        self.changes.formulas_changed |= had_formula;
                        if !bulk {
                            self.engine.set_value(&sheet_name, row, col, &cell.value)?;
                        }
                    }
                }
                self.dirty = true;
            }
        }
        if bulk && renames.is_empty() {
            self.reload_engine()?;
        }
        self.apply_header_renames(si, renames)
    }

    /// Excel refuses to change part of an array formula; covering all of it replaces it.
    fn check_arrays(&mut self, si: usize, area: &Area, set: &SetCells) -> Result<()> {
        if set.inputs.is_none() {
            return Ok(());
        }
        let sheet = &self.model.sheets[si];
        for (&(r, c), cell) in &sheet.cells {
            if let FormulaKind::Array { area: arr, dynamic: false } = cell.kind {
                if arr.cell_count() > 1 && intersects(&arr, area) && !contains_area(area, &arr) {
                    return Err(BookError::InvalidEdit(format!(
                        "cannot change part of the array formula at {}",
                        crate::address::cell_name(r, c)
                    )));
                }
            }
        }
        Ok(())
    }

    /// A style index showing `code`, derived from `base`; reuses styles made before.
    fn style_with_format(&mut self, base: u32, code: &str) -> Result<u32> {
        if code.len() > 255 {
            return Err(BookError::InvalidEdit("number format longer than 255 characters".into()));
        }
        let num_fmt_id = self.num_fmt_id(code);
        if self.model.styles.xf_num_fmt.get(base as usize) == Some(&num_fmt_id) {
            return Ok(base);
        }
        let key = NewXf { base, num_fmt_id };
        if let Some(&idx) = self.xf_cache.get(&key) {
            return Ok(idx);
        }
        if self.model.styles_part.is_none() {
            return Err(BookError::InvalidEdit("the workbook has no styles part to hold number formats".into()));
        }
        let idx = self.changes.base_xf_count + self.changes.new_xfs.len() as u32;
        self.changes.new_xfs.push(key.clone());
        self.xf_cache.insert(key, idx);
        self.model.styles.xf_num_fmt.push(num_fmt_id);
        Ok(idx)
    }

    fn num_fmt_id(&mut self, code: &str) -> u32 {
        if code.eq_ignore_ascii_case("general") {
            return 0;
        }
        if let Some(id) = (0..=49).find(|&id| numfmt::builtin_format(id) == Some(code)) {
            return id;
        }
        if let Some((&id, _)) = self.model.styles.num_fmts.iter().find(|(_, c)| c.as_str() == code) {
            return id;
        }
        let id = self.model.styles.num_fmts.keys().copied().max().unwrap_or(163).max(163) + 1;
        self.model.styles.num_fmts.insert(id, code.to_string());
        self.changes.new_num_fmts.push((id, code.to_string()));
        id
    }

    /// Recalculates what changed since the last recalculation.
    pub fn recalc(&mut self) -> Result<()> {
        self.engine_recalc()?;
        self.calculated = true;
        self.dirty = false;
        Ok(())
    }

    /// The engine's recalculation, timed.
    fn engine_recalc(&mut self) -> Result<()> {
        let started = std::time::Instant::now();
        let done = self.engine.recalc();
        self.calc_time += started.elapsed();
        done
    }

    /// Time the engine spent calculating since the last call (for the server's metrics).
    pub fn take_calc_time(&mut self) -> std::time::Duration {
        std::mem::take(&mut self.calc_time)
    }

    /// Calculates a workbook that was just opened when its file asks for it: `fullCalcOnLoad`
    /// (written by libraries whose cached results are placeholders) in automatic mode, as Excel
    /// does when it opens such a file. Otherwise reads show the file's cached results until
    /// something changes.
    pub fn calculate_if_file_asks(&mut self) -> Result<()> {
        if self.model.full_calc_on_load && self.model.calc_mode != CalcMode::Manual && !self.calculated {
            // A freshly loaded engine has every formula dirty.
            self.recalc()?;
        }
        Ok(())
    }

    /// Recalculates every formula.
    pub fn full_recalc(&mut self) -> Result<()> {
        self.reload_engine()
    }

    /// Loads a fresh engine over the current model and calculates it (every formula is dirty in
    /// a fresh engine).
    pub(crate) fn reload_engine(&mut self) -> Result<()> {
        self.engine = Box::new(Formualizer::load(&self.model)?);
        self.engine_recalc()?;
        self.calculated = true;
        self.dirty = false;
        Ok(())
    }

    /// The current value of a cell: the engine's once it has calculated, else what the file holds.
    pub fn value(&self, si: usize, row: u32, col: u32) -> Value {
        crate::engine::shown_value(&self.model, self.calculated.then_some(self.engine.as_ref()), si, row, col)
    }

    /// One cell for the Graph range resource.
    pub fn cell(&self, sheet: &str, row: u32, col: u32) -> Result<CellView> {
        let si = self.sheet_idx(sheet)?;
        Ok(self.cell_at(si, row, col))
    }

    pub(crate) fn cell_at(&self, si: usize, row: u32, col: u32) -> CellView {
        let stored = self.model.sheets[si].cells.get(&(row, col));
        let value = self.value(si, row, col);
        let number_format = self.model.styles.format_code(stored.map_or(0, |c| c.style));
        let text = numfmt::format_value(&value, &number_format, self.model.date1904);
        let formula = stored.and_then(|c| c.formula.as_ref()).map(|f| format!("={f}"));
        CellView { value, formula, number_format, text }
    }

    /// Cells of a rectangle, row by row. The caller bounds the size (Graph's cell limits).
    pub fn read_range(&self, sheet: &str, area: &Area) -> Result<Vec<Vec<CellView>>> {
        let si = self.sheet_idx(sheet)?;
        let mut rows = Vec::with_capacity(area.rows() as usize);
        for r in area.first_row..=area.last_row {
            let mut row = Vec::with_capacity(area.cols() as usize);
            for c in area.first_col..=area.last_col {
                row.push(self.cell_at(si, r, c));
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// The smallest rectangle holding every cell with content (and formats unless `values_only`).
    pub fn used_range(&self, sheet: &str, values_only: bool) -> Result<Option<Area>> {
        let si = self.sheet_idx(sheet)?;
        let mut bounds: Option<(u32, u32, u32, u32)> = None;
        for (&(r, c), cell) in &self.model.sheets[si].cells {
            let has_value = cell.formula.is_some() || !cell.value.is_empty();
            if values_only && !has_value {
                continue;
            }
            bounds = Some(match bounds {
                None => (r, c, r, c),
                Some((r1, c1, r2, c2)) => (r1.min(r), c1.min(c), r2.max(r), c2.max(c)),
            });
        }
        Ok(bounds.map(|(r1, c1, r2, c2)| Area::cells(r1, c1, r2, c2)))
    }

    /// Replays records on a freshly opened original package.
    pub fn replay(bytes: impl Into<Arc<[u8]>>, records: &[Record]) -> Result<Workbook> {
        let mut wb = Workbook::open(bytes)?;
        for r in records {
            wb.apply(r)?;
        }
        Ok(wb)
    }

    /// Writes a new package: untouched parts byte-identical, edits patched in, then checked.
    pub fn save(&mut self) -> Result<Vec<u8>> {
        if self.dirty && self.model.calc_mode != CalcMode::Manual {
            self.recalc()?;
        }
        let mut input = crate::save::SaveInput {
            pkg: &self.pkg,
            model: &mut self.model,
            changes: &mut self.changes,
            engine: self.calculated.then_some(self.engine.as_ref()),
        };
        let (bytes, report, reopened) = crate::save::save(&mut input)?;
        self.after_save(reopened)?;
        self.last_save = report;
        Ok(bytes)
    }

    /// What the last save wrote anew (all other parts were copied byte for byte).
    pub fn last_save_report(&self) -> &crate::save::SaveReport {
        &self.last_save
    }

    /// The saved package becomes the new base: later saves patch it, not the original.
    fn after_save(&mut self, saved: Package) -> Result<()> {
        self.pkg = saved;
        for sheet in &mut self.model.sheets {
            if let Some(e) = self.pkg.entry(&sheet.part) {
                sheet.part = e.name.clone();
            }
        }
        if self.model.shared_strings_part.is_none() {
            let rels = self.pkg.rels(&self.model.workbook_part)?;
            self.model.shared_strings_part = rels
                .iter()
                .find(|r| r.rel_type.ends_with("/sharedStrings") && !r.external)
                .and_then(|r| self.pkg.entry(&r.target))
                .map(|e| e.name.clone());
        }
        self.changes.saved(&self.model);
        self.xf_cache.clear();
        Ok(())
    }

    /// Hides or shows whole rows or columns. Hidden rows change what SUBTOTAL and AGGREGATE
    /// count, so the engine is reloaded when rows change.
    pub(crate) fn set_hidden(
        &mut self,
        sheet: &str,
        axis: crate::shift::Axis,
        first: u32,
        last: u32,
        hidden: bool,
    ) -> Result<()> {
        let si = self.sheet_idx(sheet)?;
        let limit = match axis {
            crate::shift::Axis::Rows => crate::address::MAX_ROWS,
            crate::shift::Axis::Cols => crate::address::MAX_COLS,
        };
        if first > last || last >= limit {
            return Err(BookError::InvalidEdit("the rows or columns lie outside the sheet".into()));
        }
        let s = &mut self.model.sheets[si];
        let list = match axis {
            crate::shift::Axis::Rows => &mut s.hidden_rows,
            crate::shift::Axis::Cols => &mut s.hidden_cols,
        };
        let before = list.len();
        let had_all =
            list.iter().filter(|&&i| (first..=last).contains(&i)).count() as u64 == u64::from(last - first) + 1;
        if hidden {
            if had_all {
                return Ok(());
            }
            list.retain(|&i| !(first..=last).contains(&i));
            list.extend(first..=last);
            list.sort_unstable();
        } else {
            list.retain(|&i| !(first..=last).contains(&i));
            if list.len() == before {
                return Ok(());
            }
        }
        self.changes.hidden_changed.insert(si);
        if axis == crate::shift::Axis::Rows {
            self.reload_engine()?;
        }
        Ok(())
    }

    /// Readies the engine for [`Workbook::evaluate`]: a workbook opened and not calculated since
    /// shows its file's values, which the engine does not hold; it is calculated now, as Excel
    /// calculates a workbook it opens. In manual mode the cells keep showing their stale values
    /// (only the engine calculates), so evaluated formulas read what `calculate` would give.
    pub fn ready_for_evaluation(&mut self) -> Result<()> {
        if self.calculated {
            return Ok(());
        }
        if self.model.calc_mode == CalcMode::Manual {
            return self.engine_recalc();
        }
        self.recalc()
    }

    /// Whether [`Workbook::evaluate`] can run without [`Workbook::ready_for_evaluation`].
    pub fn is_ready_for_evaluation(&self) -> bool {
        self.calculated
    }

    /// The value of `formula` (without the leading `=`) as if it stood in a cell of `sheet`,
    /// over the cells' current values; the workbook does not change (Graph's workbook functions).
    pub fn evaluate(&self, sheet: &str, formula: &str) -> Result<Value> {
        let si = self.sheet_idx(sheet)?;
        self.engine.evaluate(&self.model.sheets[si].name, formula)
    }

    /// Whether the engine has the function of this (Excel, upper-case) name.
    pub fn has_function(name: &str) -> bool {
        formualizer_eval::function_registry::get("", name).is_some()
    }
}

fn contains_area(outer: &Area, inner: &Area) -> bool {
    outer.first_row <= inner.first_row
        && outer.last_row >= inner.last_row
        && outer.first_col <= inner.first_col
        && outer.last_col >= inner.last_col
}
