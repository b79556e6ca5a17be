//! Inserting and deleting cells on the live workbook: the model follows the [`Shift`] at once
//! (cells, formulas on every sheet, names, tables, merges, hidden rows, filters), the engine is
//! reloaded from it, and the save applies the same shifts to the package's parts.

use std::collections::{BTreeMap, HashMap};

use super::Workbook;
use crate::address::{Area, MAX_COLS, MAX_ROWS};
use crate::error::{BookError, Result};
use crate::formula;
use crate::model::{Cell, FormulaKind, SheetKind};
use crate::shift::{Axis, Shift};

/// Relationship types of a sheet whose parts anchor to cells and that a shift does not rewrite.
const ANCHORED_PARTS: [&str; 7] =
    ["/drawing", "/vmlDrawing", "/comments", "/threadedComment", "/pivotTable", "/slicer", "/timeline"];

fn conflict(msg: impl Into<String>) -> BookError {
    BookError::StructureConflict(msg.into())
}

impl Workbook {
    /// Inserts or deletes the cells `shift` names, moving the rest as Excel does.
    pub(crate) fn shift_cells(&mut self, shift: &Shift) -> Result<()> {
        self.shift_model(shift)?;
        // Whole rows inserted: the engine moves its own cells, formulas and names, and only what
        // moved is calculated again (the corpus spot check compares this with a reload).
        let si = self.sheet_idx(&shift.sheet)?;
        let shift = Shift { sheet: self.model.sheets[si].name.clone(), ..shift.clone() };
        if shift.axis == Axis::Rows && self.engine_can_insert(si) && self.engine.insert(&shift, &self.model)? {
            return self.recalc();
        }
        // Otherwise the engine is loaded anew from the shifted model: every formula reads as saved.
        self.reload_engine()
    }

    /// Whether the engine's own row insert gives what a reload would: it moves the references
    /// on the shifted sheet, but not those other sheets or defined names make to it, nor the
    /// cells of tables it holds as plain ranges (the corpus spot check compares the two ways).
    fn engine_can_insert(&self, si: usize) -> bool {
        let needle = self.model.sheets[si].name.to_lowercase();
        let names_it = |f: &str| f.contains('[') || f.to_lowercase().contains(&needle);
        let tables = self.model.sheets.iter().any(|s| !s.tables.is_empty());
        let names = self.model.names.iter().any(|n| names_it(&n.formula));
        let elsewhere = self
            .model
            .sheets
            .iter()
            .enumerate()
            .filter(|(s, _)| *s != si)
            .any(|(_, sheet)| sheet.cells.values().any(|c| c.formula.as_deref().is_some_and(names_it)));
        !(tables || names || elsewhere)
    }

    /// A table by id, name or display name: (sheet index, table index).
    pub fn find_table(&self, key: &str) -> Result<(usize, usize)> {
        for (si, sheet) in self.model.sheets.iter().enumerate() {
            for (ti, t) in sheet.tables.iter().enumerate() {
                if t.display_name.eq_ignore_ascii_case(key)
                    || t.name.eq_ignore_ascii_case(key)
                    || t.id.to_string() == key
                {
                    return Ok((si, ti));
                }
            }
        }
        Err(BookError::InvalidEdit(format!("no table '{key}'")))
    }

    /// A table's data rows: the first and one past the last.
    fn data_rows(t: &crate::model::Table) -> (u32, u32) {
        (t.area.first_row + t.header_rows.min(1), t.area.last_row + 1 - t.totals_rows.min(1))
    }

    pub(crate) fn add_table_rows(
        &mut self,
        table: &str,
        index: Option<u32>,
        count: u32,
        inputs: Option<&Vec<Vec<Option<crate::edit::CellInput>>>>,
    ) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        let t = &self.model.sheets[si].tables[ti];
        let (first, end) = Self::data_rows(t);
        let cols = t.area.last_col - t.area.first_col + 1;
        let at = match index {
            None => end,
            Some(i) if i <= end - first => first + i,
            Some(i) => {
                return Err(BookError::InvalidEdit(format!("index {i} is past the table's {} rows", end - first)))
            }
        };
        if count == 0 || u64::from(at) + u64::from(count) > u64::from(MAX_ROWS) {
            return Err(BookError::InvalidEdit("the rows would not fit on the sheet".into()));
        }
        let mut set = inputs.map(|inputs| crate::edit::SetCells {
            sheet: self.model.sheets[si].name.clone(),
            row: at,
            col: t.area.first_col,
            rows: count,
            cols,
            inputs: Some(inputs.clone()),
            number_formats: None,
        });
        if let Some(set) = &set {
            set.validate()?;
        }
        let shift = Shift {
            sheet: self.model.sheets[si].name.clone(),
            axis: Axis::Rows,
            at,
            count,
            insert: true,
            band: (t.area.first_col, t.area.last_col),
        };
        self.shift_model(&shift)?;
        // Rows added after the last one of a table without a total row: the shift moved what
        // was below, the table takes them in.
        let t = &mut self.model.sheets[si].tables[ti];
        if t.area.last_row < at + count - 1 {
            t.area.last_row = at + count - 1;
            self.changes.tables_changed.insert(t.part.clone());
        }
        // Calculated columns fill the new rows where no value was given, as in Excel.
        let t = &self.model.sheets[si].tables[ti];
        if t.calculated.iter().any(Option::is_some) {
            let calculated = t.calculated.clone();
            let first_col = t.area.first_col;
            let mut inputs = set
                .as_ref()
                .and_then(|s| s.inputs.clone())
                .unwrap_or_else(|| vec![vec![None; cols as usize]; count as usize]);
            for row in &mut inputs {
                for (k, cell) in row.iter_mut().enumerate() {
                    if let (None, Some(Some(f))) = (&cell, calculated.get(k)) {
                        *cell = Some(crate::edit::CellInput::Formula(f.clone()));
                    }
                }
            }
            set = Some(crate::edit::SetCells {
                sheet: self.model.sheets[si].name.clone(),
                row: at,
                col: first_col,
                rows: count,
                cols,
                inputs: Some(inputs),
                number_formats: None,
            });
        }
        self.reload_engine()?;
        if let Some(set) = set {
            self.set_cells(&set)?;
        }
        Ok(())
    }

    pub(crate) fn delete_table_rows(&mut self, table: &str, index: u32, count: u32) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        let t = &self.model.sheets[si].tables[ti];
        let (first, end) = Self::data_rows(t);
        if count == 0 || u64::from(index) + u64::from(count) > u64::from(end - first) {
            return Err(BookError::InvalidEdit(format!("table '{}' has {} rows", t.display_name, end - first)));
        }
        let shift = Shift {
            sheet: self.model.sheets[si].name.clone(),
            axis: Axis::Rows,
            at: first + index,
            count,
            insert: false,
            band: (t.area.first_col, t.area.last_col),
        };
        self.shift_cells(&shift)
    }

    /// The model half of [`Workbook::shift_cells`]: the engine is not reloaded.
    pub(crate) fn shift_model(&mut self, shift: &Shift) -> Result<()> {
        let si = self.sheet_idx(&shift.sheet)?;
        let shift = &Shift { sheet: self.model.sheets[si].name.clone(), ..shift.clone() };
        self.check_shift(si, shift)?;
        let added_columns = self.shift_table_columns(si, shift);

        // Cells of the sheet, at their new places.
        let old = std::mem::take(&mut self.model.sheets[si].cells);
        let mut moved: Vec<((u32, u32), Cell)> = Vec::with_capacity(old.len());
        // Shared-formula groups that moved or whose formulas changed.
        let mut changed_groups: Vec<(usize, u32)> = Vec::new();
        for ((r, c), mut cell) in old {
            let Some(to) = shift.map_cell(r, c) else { continue };
            if let FormulaKind::Array { area, dynamic } = cell.kind {
                if let Some(a) = shift.map_area(&area) {
                    cell.kind = FormulaKind::Array { area: a, dynamic };
                }
            }
            if let FormulaKind::Shared { si: g, .. } = cell.kind {
                changed_groups.push((si, g));
            }
            moved.push((to, cell));
        }
        moved.sort_unstable_by_key(|(k, _)| *k);
        self.model.sheets[si].cells = moved.into_iter().collect::<BTreeMap<_, _>>();
        self.changes.touched = std::mem::take(&mut self.changes.touched)
            .into_iter()
            .filter_map(
                |(s, r, c)| if s == si { shift.map_cell(r, c).map(|(r, c)| (s, r, c)) } else { Some((s, r, c)) },
            )
            .collect();

        // Formulas on every sheet.
        for (s, sheet) in self.model.sheets.iter_mut().enumerate() {
            if sheet.kind != SheetKind::Worksheet {
                continue;
            }
            let host = sheet.name.clone();
            for cell in sheet.cells.values_mut() {
                let Some(f) = cell.formula.as_deref() else { continue };
                if let Some(new) = shift.formula(f, &host) {
                    cell.formula = Some(new);
                    if let FormulaKind::Shared { si: g, .. } = cell.kind {
                        changed_groups.push((s, g));
                    }
                }
            }
        }
        changed_groups.sort_unstable();
        changed_groups.dedup();
        let mut by_sheet: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (s, g) in changed_groups {
            by_sheet.entry(s).or_default().push(g);
        }
        for (s, groups) in by_sheet {
            let mut members: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
            for (k, c) in &self.model.sheets[s].cells {
                if let FormulaKind::Shared { si: g, .. } = c.kind {
                    members.entry(g).or_default().push(*k);
                }
            }
            for g in groups {
                let m = members.remove(&g).unwrap_or_default();
                self.keep_or_break_group(s, m, shift);
            }
        }

        // Names, tables, merges, hidden rows, the filter.
        let names: Vec<String> = self.model.sheets.iter().map(|s| s.name.clone()).collect();
        for n in &mut self.model.names {
            let host = n.local_sheet.and_then(|i| names.get(i)).map_or("", String::as_str);
            if let Some(f) = shift.formula(&n.formula, host) {
                n.formula = f;
            }
        }
        let sheet = &mut self.model.sheets[si];
        for t in &mut sheet.tables {
            if let Some(a) = shift.map_area(&t.area) {
                t.area = a;
            }
        }
        sheet.merges = sheet.merges.iter().filter_map(|m| shift.map_area(m)).collect();
        if shift.axis == Axis::Rows && shift.whole() {
            sheet.hidden_rows = sheet.hidden_rows.iter().filter_map(|&r| shift.map_index(r)).collect();
        }
        if shift.axis == Axis::Cols && shift.whole() {
            sheet.hidden_cols = sheet.hidden_cols.iter().filter_map(|&c| shift.map_index(c)).collect();
        }
        sheet.auto_filter = sheet.auto_filter.and_then(|a| shift.map_area(&a));
        for ti in added_columns {
            self.write_header_cells(si, ti);
        }

        self.changes.pending_changes.push(crate::shift::Change::Shift(shift.clone()));
        self.changes.formulas_changed = true;
        Ok(())
    }

    /// Tables that columns are inserted into or deleted from, before the cells move: inserted
    /// columns join the model (their header cells are written once the cells moved: the tables
    /// returned), formulas naming deleted ones get `#REF!`.
    fn shift_table_columns(&mut self, si: usize, shift: &Shift) -> Vec<usize> {
        let mut added = Vec::new();
        if shift.axis != Axis::Cols {
            return added;
        }
        for ti in 0..self.model.sheets[si].tables.len() {
            let a = self.model.sheets[si].tables[ti].area;
            if a.first_row < shift.band.0 || a.last_row > shift.band.1 {
                continue;
            }
            let (lo, hi) = (a.first_col, a.last_col);
            if shift.insert {
                if shift.at > lo && shift.at <= hi {
                    self.add_table_columns_to_model(si, ti, (shift.at - lo) as usize, shift.count);
                    added.push(ti);
                }
                continue;
            }
            let end = shift.at + shift.count - 1;
            if shift.at > hi || end < lo {
                continue;
            }
            let (k1, k2) = ((shift.at.max(lo) - lo) as usize, (end.min(hi) - lo) as usize);
            let t = &self.model.sheets[si].tables[ti];
            let fates: Vec<_> =
                t.columns[k1..=k2].iter().map(|c| crate::structured::ColumnFate::Deleted(c.clone())).collect();
            self.follow_column_fates(si, ti, &fates);
            let t = &mut self.model.sheets[si].tables[ti];
            t.columns.drain(k1..=k2);
            t.column_ids.drain(k1..=k2);
            if t.totals.len() > k2 {
                t.totals.drain(k1..=k2);
            }
            if t.calculated.len() > k2 {
                t.calculated.drain(k1..=k2);
            }
        }
        added
    }

    /// A shared-formula group stays shared when each member's formula is still the master's
    /// moved by the member's offset, and the members still lie within the group's moved range;
    /// otherwise every member is written out with its own formula.
    fn keep_or_break_group(&mut self, si: usize, members: Vec<(u32, u32)>, shift: &Shift) {
        let sheet = &self.model.sheets[si];
        let master = members
            .iter()
            .filter_map(|k| sheet.cells.get(k).map(|c| (k, c)))
            .find(|(_, c)| matches!(c.kind, FormulaKind::Shared { master: true, .. }))
            .map(|(k, c)| (*k, c.formula.clone().unwrap_or_default()));
        let consistent = master.as_ref().is_some_and(|((mr, mc), text)| {
            members.iter().all(|&(r, c)| {
                let derived = formula::shift(text, i64::from(r) - i64::from(*mr), i64::from(c) - i64::from(*mc));
                sheet.cells.get(&(r, c)).and_then(|c| c.formula.as_deref()) == Some(derived.as_str())
            })
        }) && {
            // A band that cuts through the group moves some members and not others.
            let rows = members.iter().map(|m| m.0);
            let cols = members.iter().map(|m| m.1);
            match (rows.clone().min(), rows.max(), cols.clone().min(), cols.max()) {
                (Some(r1), Some(r2), Some(c1), Some(c2)) => {
                    let (lo, hi) = match shift.axis {
                        Axis::Rows => (c1, c2),
                        Axis::Cols => (r1, r2),
                    };
                    !(si == self.model.sheet_index(&shift.sheet).unwrap_or(usize::MAX)
                        && !shift.whole()
                        && (lo < shift.band.0 || hi > shift.band.1)
                        && lo <= shift.band.1
                        && hi >= shift.band.0)
                }
                _ => true,
            }
        };
        if consistent {
            return;
        }
        for (r, c) in members {
            if let Some(cell) = self.model.sheets[si].cells.get_mut(&(r, c)) {
                cell.kind = FormulaKind::Normal;
            }
            self.changes.touched.insert((si, r, c));
        }
    }

    /// Refuses a change to a sheet that charts, pivot caches or external links name: their
    /// parts are not rewritten.
    pub(crate) fn check_unmodelled_references(&self, sheet: &str) -> Result<()> {
        let needle = sheet.to_ascii_lowercase();
        for e in self.pkg.entries() {
            let n = e.name.to_ascii_lowercase();
            if !(n.contains("/charts/chart") || n.contains("pivotcachedefinition") || n.contains("/externallinks/")) {
                continue;
            }
            let Ok(Some(bytes)) = self.pkg.read(&e.name) else { continue };
            if String::from_utf8_lossy(&bytes).to_ascii_lowercase().contains(&needle) {
                return Err(conflict(format!("{} refers to sheet '{sheet}' and would have to be rewritten", e.name)));
            }
        }
        Ok(())
    }

    /// Refuses a shift Excel refuses, or one that would need parts rewritten that we do not
    /// model (drawings, comments, pivot tables, charts over the sheet).
    fn check_shift(&self, si: usize, shift: &Shift) -> Result<()> {
        let (limit, across) = match shift.axis {
            Axis::Rows => (MAX_ROWS, MAX_COLS),
            Axis::Cols => (MAX_COLS, MAX_ROWS),
        };
        if shift.count == 0
            || u64::from(shift.at) + u64::from(shift.count) > u64::from(limit)
            || shift.band.0 > shift.band.1
            || shift.band.1 >= across
        {
            return Err(BookError::InvalidEdit("the range is outside the sheet".into()));
        }
        let sheet = &self.model.sheets[si];
        let in_band = |r: u32, c: u32| match shift.axis {
            Axis::Rows => (shift.band.0..=shift.band.1).contains(&c),
            Axis::Cols => (shift.band.0..=shift.band.1).contains(&r),
        };
        if shift.insert {
            let first_lost = limit - shift.count;
            let pushed_off = sheet.cells.iter().any(|(&(r, c), cell)| {
                let along = if shift.axis == Axis::Rows { r } else { c };
                along >= first_lost && in_band(r, c) && (cell.formula.is_some() || !cell.value.is_empty())
            });
            if pushed_off {
                return Err(conflict("inserting here would push cells with content off the end of the sheet"));
            }
        }
        if sheet.cells.values().any(|c| matches!(c.kind, FormulaKind::DataTable)) {
            return Err(conflict(format!(
                "sheet '{}' holds a data table (TABLE()), which cannot move yet",
                sheet.name
            )));
        }
        // Parts anchored to the sheet's cells.
        if let Ok(rels) = self.pkg.rels(&sheet.part) {
            if let Some(r) = rels.iter().find(|r| !r.external && ANCHORED_PARTS.iter().any(|t| r.rel_type.ends_with(t)))
            {
                let kind = r.rel_type.rsplit('/').next().unwrap_or("");
                return Err(conflict(format!(
                    "sheet '{}' has a {kind} part anchored to its cells, which inserting or deleting cells would have to move",
                    sheet.name
                )));
            }
        }
        self.check_unmodelled_references(&sheet.name)?;
        // Areas that cannot be cut: merged cells, array formulas and tables reaching across
        // the band edge, and parts of arrays.
        let moving = |a: &Area| {
            let (along_hi, across_lo, across_hi) = match shift.axis {
                Axis::Rows => (a.last_row, a.first_col, a.last_col),
                Axis::Cols => (a.last_col, a.first_row, a.last_row),
            };
            along_hi >= shift.at && across_lo <= shift.band.1 && across_hi >= shift.band.0
        };
        let straddles = |a: &Area| {
            let (lo, hi) = match shift.axis {
                Axis::Rows => (a.first_col, a.last_col),
                Axis::Cols => (a.first_row, a.last_row),
            };
            moving(a) && (lo < shift.band.0 || hi > shift.band.1)
        };
        for m in &sheet.merges {
            if straddles(m) {
                return Err(conflict(format!("the merged cells {} would be cut apart", m.to_a1())));
            }
        }
        for (&(r, c), cell) in &sheet.cells {
            if let FormulaKind::Array { area, dynamic: false } = cell.kind {
                let (lo, hi) = match shift.axis {
                    Axis::Rows => (area.first_row, area.last_row),
                    Axis::Cols => (area.first_col, area.last_col),
                };
                let end = shift.at + if shift.insert { 0 } else { shift.count - 1 };
                let cuts = if shift.insert {
                    shift.at > lo && shift.at <= hi
                } else {
                    shift.at <= hi && end >= lo && !(shift.at <= lo && end >= hi)
                };
                if area.cell_count() > 1 && (straddles(&area) || (moving(&area) && cuts)) {
                    return Err(conflict(format!(
                        "cannot change part of the array formula at {}",
                        crate::address::cell_name(r, c)
                    )));
                }
            }
        }
        for t in &sheet.tables {
            let a = &t.area;
            if straddles(a) {
                return Err(conflict(format!("table '{}' would be cut apart", t.display_name)));
            }
            if !moving(a) {
                continue;
            }
            let (lo, hi) = match shift.axis {
                Axis::Rows => (a.first_row, a.last_row),
                Axis::Cols => (a.first_col, a.last_col),
            };
            let del_end = shift.at + shift.count - 1;
            match (shift.axis, shift.insert) {
                (Axis::Cols, false) if shift.at <= lo && del_end >= hi => {
                    return Err(conflict(format!(
                        "deleting every column of table '{}' would delete the table; delete the table instead",
                        t.display_name
                    )));
                }
                (Axis::Rows, false) if shift.at <= hi && del_end >= lo => {
                    let header = (t.header_rows > 0).then_some(lo);
                    let total = (t.totals_rows > 0).then_some(hi);
                    let hits = |r: Option<u32>| r.is_some_and(|r| (shift.at..=del_end).contains(&r));
                    let data_lo = lo + t.header_rows;
                    let data_hi = hi.saturating_sub(t.totals_rows);
                    let all_data = shift.at <= data_lo && del_end >= data_hi;
                    if hits(header) || hits(total) || all_data {
                        return Err(conflict(format!(
                            "deleting the header, the total row or every data row of table '{}' is not supported yet",
                            t.display_name
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
