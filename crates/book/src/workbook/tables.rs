//! Tables removed: converted to a plain range (cells kept, formulas naming the table rewritten to
//! the cells they meant) or deleted (its cells cleared). The table part, its relationship, its
//! content type and the sheet's `<tablePart>` go at the save.

use super::Workbook;
use crate::address::Area;
use crate::changes::RemovedTable;
use crate::edit::{CellInput, ClearCells, TableUpdate};
use crate::error::{BookError, Result};
use crate::model::{Cell, FormulaKind, SheetKind};
use crate::structured::{rewrite_columns, ColumnFate, TableInfo};
use crate::value::Value;

impl Workbook {
    /// Renames a table (formulas naming it follow) and sets its style and style options.
    pub(crate) fn update_table(&mut self, table: &str, update: &TableUpdate) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        // The rows first: they are what can be refused, and then nothing has changed.
        if let Some(on) = update.show_totals {
            self.set_total_row(si, ti, on)?;
        }
        if let Some(on) = update.show_headers {
            self.set_header_row(si, ti, on)?;
        }
        if let Some(on) = update.show_filter_button {
            let t = &mut self.model.sheets[si].tables[ti];
            if on && t.header_rows == 0 {
                return Err(BookError::InvalidEdit(format!(
                    "table '{}' shows no header row to hold filter buttons",
                    t.display_name
                )));
            }
            if t.style.auto_filter != on {
                t.style.auto_filter = on;
                self.changes.tables_changed.insert(t.part.clone());
            }
        }
        let old = self.model.sheets[si].tables[ti].display_name.clone();
        let rename = update.name.as_deref().filter(|n| *n != old);
        if let Some(n) = rename {
            crate::defined_names::check_name_text(n)?;
            let taken_by_table = self.model.sheets.iter().flat_map(|s| s.tables.iter()).any(|t| {
                !t.display_name.eq_ignore_ascii_case(&old)
                    && (t.display_name.eq_ignore_ascii_case(n) || t.name.eq_ignore_ascii_case(n))
            });
            if taken_by_table || self.model.names.iter().any(|d| d.name.eq_ignore_ascii_case(n)) {
                return Err(BookError::NameExists(n.to_string()));
            }
        }
        if let Some(style) = &update.style {
            if style.is_empty() || style.len() > 255 {
                return Err(BookError::InvalidEdit("a table style has a name".into()));
            }
        }
        let t = &mut self.model.sheets[si].tables[ti];
        if let Some(n) = rename {
            t.display_name = n.to_string();
            t.name = n.to_string();
            for f in t.calculated.iter_mut().flatten() {
                if let Some(new) = crate::structured::rename_table(f, &old, n) {
                    *f = new;
                }
            }
        }
        let st = &mut t.style;
        if let Some(s) = &update.style {
            st.name = Some(s.clone());
        }
        for (value, field) in [
            (update.first_column, &mut st.show_first_column),
            (update.last_column, &mut st.show_last_column),
            (update.row_stripes, &mut st.show_row_stripes),
            (update.column_stripes, &mut st.show_column_stripes),
        ] {
            if let Some(v) = value {
                *field = v;
            }
        }
        self.changes.tables_changed.insert(t.part.clone());
        if let Some(n) = rename {
            for (s, sheet) in self.model.sheets.iter_mut().enumerate() {
                for (&(r, c), cell) in sheet.cells.iter_mut() {
                    let Some(f) = cell.formula.as_deref() else { continue };
                    if let Some(new) = crate::structured::rename_table(f, &old, n) {
                        cell.formula = Some(new);
                        cell.kind = crate::model::FormulaKind::Normal;
                        self.changes.touched.insert((s, r, c));
                        self.changes.formulas_changed = true;
                    }
                }
            }
            for d in &mut self.model.names {
                if let Some(new) = crate::structured::rename_table(&d.formula, &old, n) {
                    d.formula = new;
                    self.changes.names_changed = true;
                }
            }
            self.reload_engine()?;
        }
        Ok(())
    }

    pub(crate) fn remove_table(&mut self, table: &str, keep_cells: bool) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        let t = self.model.sheets[si].tables[ti].clone();
        let info = TableInfo {
            name: t.display_name.clone(),
            sheet: self.model.sheets[si].name.clone(),
            area: t.area,
            header_rows: t.header_rows,
            totals_rows: t.totals_rows,
            columns: t.columns.clone(),
        };
        let needle = format!("{}[", t.display_name.to_ascii_lowercase());
        let names_it = |f: &str| f.to_ascii_lowercase().contains(&needle);
        if !keep_cells {
            // Formulas outside the table that name it would be left dangling.
            let used = self.model.sheets.iter().enumerate().any(|(s, sheet)| {
                sheet.cells.iter().any(|(&(r, c), cell)| {
                    !(s == si && t.area.contains(r, c)) && cell.formula.as_deref().is_some_and(names_it)
                })
            });
            if used || self.model.names.iter().any(|n| names_it(&n.formula)) {
                return Err(BookError::StructureConflict(format!(
                    "formulas outside table '{}' name it; convert it to a range instead",
                    t.display_name
                )));
            }
        }
        // Formulas naming the table (and, inside it, its columns) become plain references.
        let tables = [info];
        for (s, sheet) in self.model.sheets.iter_mut().enumerate().filter(|(_, s)| s.kind == SheetKind::Worksheet) {
            let host = sheet.name.clone();
            let mut changed = Vec::new();
            for (&(r, c), cell) in sheet.cells.iter_mut() {
                let Some(f) = cell.formula.as_deref() else { continue };
                if let Some(new) = crate::structured::resolve(f, &host, r, c, &tables) {
                    cell.formula = Some(new);
                    cell.kind = crate::model::FormulaKind::Normal;
                    changed.push((r, c));
                }
            }
            for (r, c) in changed {
                self.changes.touched.insert((s, r, c));
                self.changes.formulas_changed = true;
            }
        }
        self.model.sheets[si].tables.remove(ti);
        self.changes
            .removed_tables
            .push(RemovedTable { sheet_part: self.model.sheets[si].part.clone(), part: t.part.clone() });
        self.changes.tables_changed.remove(&t.part);
        if !keep_cells {
            let a = t.area;
            self.clear_cells(&ClearCells {
                sheet: self.model.sheets[si].name.clone(),
                first_row: a.first_row,
                first_col: a.first_col,
                last_row: a.last_row,
                last_col: a.last_col,
                contents: true,
                formats: false,
            })?;
        }
        self.reload_engine()
    }
}

/// The style Excel gives a new table.
const NEW_TABLE_STYLE: &str = "TableStyleMedium2";

impl Workbook {
    /// Formulas naming table `(si, ti)`'s columns follow `fates`: cells on every sheet (bare
    /// references inside the table) and defined names now, the table part's own at the save.
    pub(crate) fn follow_column_fates(&mut self, si: usize, ti: usize, fates: &[ColumnFate]) {
        let t = &self.model.sheets[si].tables[ti];
        let (name, area, part) = (t.display_name.clone(), t.area, t.part.clone());
        for (s, sheet) in self.model.sheets.iter_mut().enumerate() {
            for (&(r, c), cell) in sheet.cells.iter_mut() {
                let Some(f) = cell.formula.as_deref() else { continue };
                let inside = s == si && area.contains(r, c);
                if let Some(new) = rewrite_columns(f, &name, inside, fates) {
                    if let FormulaKind::Shared { master: true, si: group } = cell.kind {
                        self.changes.broken_shared.insert((s, group));
                    }
                    cell.formula = Some(new);
                    cell.kind = FormulaKind::Normal;
                    self.changes.touched.insert((s, r, c));
                    self.changes.formulas_changed = true;
                }
            }
        }
        for d in &mut self.model.names {
            if let Some(new) = rewrite_columns(&d.formula, &name, false, fates) {
                d.formula = new;
                self.changes.names_changed = true;
            }
        }
        for f in self.model.sheets[si].tables[ti].calculated.iter_mut().flatten() {
            if let Some(new) = rewrite_columns(f, &name, true, fates) {
                *f = new;
            }
        }
        self.changes.column_fates.entry(part.clone()).or_default().extend(fates.iter().cloned());
        self.changes.tables_changed.insert(part);
    }

    /// Adds `count` columns to table `(si, ti)`'s model at column index `idx`, named as Excel
    /// names them (`Column1`, `Column2`, … whichever are free), and writes their names into the
    /// header cells (styled like their neighbour's) once the cells are where they belong.
    pub(crate) fn add_table_columns_to_model(&mut self, si: usize, ti: usize, idx: usize, count: u32) {
        let t = &mut self.model.sheets[si].tables[ti];
        for k in 0..count as usize {
            let name = free_column_name(&t.columns, "Column", 1);
            let id = t.column_ids.iter().copied().max().unwrap_or(0) + 1;
            t.columns.insert(idx + k, name);
            t.column_ids.insert(idx + k, id);
            if t.totals.len() >= idx + k {
                t.totals.insert(idx + k, crate::model::ColumnTotal::default());
            }
            if t.calculated.len() >= idx + k {
                t.calculated.insert(idx + k, None);
            }
        }
        self.changes.tables_changed.insert(t.part.clone());
    }

    /// Writes each header cell of table `(si, ti)` that does not hold its column's name.
    pub(crate) fn write_header_cells(&mut self, si: usize, ti: usize) {
        let t = &self.model.sheets[si].tables[ti];
        if t.header_rows == 0 {
            return;
        }
        let row = t.area.first_row;
        let first_col = t.area.first_col;
        let names = t.columns.clone();
        let sheet = &mut self.model.sheets[si];
        for (k, name) in names.iter().enumerate() {
            let col = first_col + k as u32;
            let want = Value::Text(name.clone());
            if sheet.cells.get(&(row, col)).is_some_and(|c| c.value == want && c.formula.is_none()) {
                continue;
            }
            // A new header cell looks like the one before it.
            let style =
                sheet.cells.get(&(row, col)).map(|c| c.style).filter(|&s| s != 0).unwrap_or_else(|| {
                    col.checked_sub(1).and_then(|p| sheet.cells.get(&(row, p))).map_or(0, |c| c.style)
                });
            if let Some(FormulaKind::Shared { master: true, si: group }) = sheet.cells.get(&(row, col)).map(|c| &c.kind)
            {
                self.changes.broken_shared.insert((si, *group));
            }
            sheet.cells.insert((row, col), Cell { value: want, formula: None, kind: FormulaKind::Normal, style });
            self.changes.touched.insert((si, row, col));
            self.dirty = true;
        }
    }

    /// Adds a column to a table at `index` (at the end when `None`): cells from there move right
    /// within the table's rows. `name` names it; `values` (one per row of the table, the header
    /// first) fill it, a header value naming it as writing the header cell would.
    pub(crate) fn add_table_column(
        &mut self,
        table: &str,
        index: Option<u32>,
        name: Option<&str>,
        values: Option<&Vec<Option<CellInput>>>,
    ) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        let t = &self.model.sheets[si].tables[ti];
        let ncols = t.columns.len() as u32;
        let idx = index.unwrap_or(ncols);
        if idx > ncols {
            return Err(BookError::InvalidEdit(format!("index {idx} is past the table's {ncols} columns")));
        }
        let rows = t.area.last_row - t.area.first_row + 1;
        if let Some(v) = values {
            if v.len() != rows as usize {
                return Err(BookError::InvalidEdit(format!(
                    "values has {} rows; the table's columns have {rows} (header and total rows included)",
                    v.len()
                )));
            }
            if t.header_rows > 0 {
                check_header_input(v.first().and_then(|h| h.as_ref()))?;
            }
        }
        if let Some(n) = name {
            check_column_name(n, &t.columns, None)?;
        }
        let (sheet, first_row, first_col) = (self.model.sheets[si].name.clone(), t.area.first_row, t.area.first_col);
        let at = first_col + idx;
        if at >= crate::address::MAX_COLS {
            return Err(BookError::InvalidEdit("the column would not fit on the sheet".into()));
        }
        let shift = crate::shift::Shift {
            sheet: sheet.clone(),
            axis: crate::shift::Axis::Cols,
            at,
            count: 1,
            insert: true,
            band: (t.area.first_row, t.area.last_row),
        };
        self.shift_model(&shift)?;
        // A column after the last one: the shift moved what was beside the table, which takes
        // the column in.
        if idx == ncols {
            self.model.sheets[si].tables[ti].area.last_col += 1;
            self.add_table_columns_to_model(si, ti, idx as usize, 1);
        }
        if let Some(n) = name {
            self.model.sheets[si].tables[ti].columns[idx as usize] = n.to_string();
        }
        self.write_header_cells(si, ti);
        self.reload_engine()?;
        if let Some(v) = values {
            let inputs: Vec<Vec<Option<CellInput>>> = v.iter().map(|x| vec![x.clone()]).collect();
            self.set_cells(&crate::edit::SetCells {
                sheet,
                row: first_row,
                col: at,
                rows,
                cols: 1,
                inputs: Some(inputs),
                number_formats: None,
            })?;
        }
        Ok(())
    }

    /// Deletes a table column (by name or id): cells to its right move left within the table's
    /// rows; formulas naming it get `#REF!`.
    pub(crate) fn delete_table_column(&mut self, table: &str, column: &str) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        let t = &self.model.sheets[si].tables[ti];
        let idx = column_index(t, column)
            .ok_or_else(|| BookError::InvalidEdit(format!("table '{}' has no column '{column}'", t.display_name)))?;
        if t.columns.len() == 1 {
            return Err(BookError::InvalidEdit(format!(
                "'{column}' is the only column of table '{}'; delete the table instead",
                t.display_name
            )));
        }
        let shift = crate::shift::Shift {
            sheet: self.model.sheets[si].name.clone(),
            axis: crate::shift::Axis::Cols,
            at: t.area.first_col + idx as u32,
            count: 1,
            insert: false,
            band: (t.area.first_row, t.area.last_row),
        };
        self.shift_cells(&shift)
    }

    /// Adds a table over `area` of `sheet`. With `has_headers` its first row names the columns
    /// (empty or repeated names made unique as Excel makes them); without, a header row is
    /// inserted above the data, which moves down within the area's columns. Returns its name.
    pub(crate) fn add_table(&mut self, sheet: &str, area: &Area, has_headers: bool) -> Result<String> {
        let si = self.sheet_idx(sheet)?;
        let sheet_name = self.model.sheets[si].name.clone();
        if area.last_row >= crate::address::MAX_ROWS - 1 || area.last_col >= crate::address::MAX_COLS {
            return Err(BookError::InvalidEdit("the table would not fit on the sheet".into()));
        }
        // A header row and at least one data row.
        let mut target = *area;
        if !has_headers || target.first_row == target.last_row {
            target.last_row += 1;
        }
        let s = &self.model.sheets[si];
        if let Some(t) = s.tables.iter().find(|t| crate::address::intersects(&t.area, &target)) {
            return Err(BookError::InvalidEdit(format!(
                "the range {} overlaps table '{}'",
                target.to_a1(),
                t.display_name
            )));
        }
        if let Some(m) = s.merges.iter().find(|m| crate::address::intersects(m, &target)) {
            return Err(BookError::InvalidEdit(format!("a table cannot hold the merged cells {}", m.to_a1())));
        }
        for (&(r, c), cell) in s.cells.range((target.first_row, 0)..=(target.last_row, u32::MAX)) {
            if (target.first_col..=target.last_col).contains(&c)
                && matches!(cell.kind, FormulaKind::Array { area: a, .. } if a.cell_count() > 1)
            {
                return Err(BookError::InvalidEdit(format!(
                    "a table cannot hold the array formula at {}",
                    crate::address::cell_name(r, c)
                )));
            }
        }
        if !has_headers {
            self.shift_model(&crate::shift::Shift {
                sheet: sheet_name.clone(),
                axis: crate::shift::Axis::Rows,
                at: area.first_row,
                count: 1,
                insert: true,
                band: (area.first_col, area.last_col),
            })?;
            target = Area::cells(area.first_row, area.first_col, area.last_row + 1, area.last_col);
        }
        let s = &self.model.sheets[si];
        let mut columns: Vec<String> = Vec::new();
        for c in target.first_col..=target.last_col {
            let text = if has_headers {
                s.cells.get(&(target.first_row, c)).map(|cell| header_text(&cell.value)).unwrap_or_default()
            } else {
                String::new()
            };
            let n = columns.len() as u32 + 1;
            let name = if text.is_empty() {
                free_column_name(&columns, "Column", n)
            } else if columns.iter().any(|x| x.eq_ignore_ascii_case(&text)) {
                free_column_name(&columns, &text, 2)
            } else {
                text
            };
            columns.push(name);
        }
        let all_tables = || self.model.sheets.iter().flat_map(|s| s.tables.iter());
        let id = all_tables().map(|t| t.id).max().unwrap_or(0) + 1;
        let taken = |n: &str| {
            all_tables().any(|t| t.display_name.eq_ignore_ascii_case(n) || t.name.eq_ignore_ascii_case(n))
                || self.model.names.iter().any(|d| d.name.eq_ignore_ascii_case(n))
        };
        let name = (1u32..).map(|n| format!("Table{n}")).find(|n| !taken(n)).unwrap_or_default();
        let dir = self.model.workbook_part.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
        let part_taken = |p: &str| {
            self.pkg.entry(p).is_some()
                || all_tables().any(|t| t.part.eq_ignore_ascii_case(p))
                || self.changes.removed_tables.iter().any(|t| t.part.eq_ignore_ascii_case(p))
        };
        let part = (1u32..).map(|n| format!("{dir}tables/table{n}.xml")).find(|p| !part_taken(p)).unwrap_or_default();
        let table = crate::model::Table {
            id,
            name: name.clone(),
            display_name: name.clone(),
            area: target,
            header_rows: 1,
            totals_rows: 0,
            column_ids: (1..=columns.len() as u32).collect(),
            totals: vec![crate::model::ColumnTotal::default(); columns.len()],
            calculated: vec![None; columns.len()],
            columns,
            part: part.clone(),
            style: crate::model::TableStyle {
                name: Some(NEW_TABLE_STYLE.into()),
                show_row_stripes: true,
                auto_filter: true,
                ..Default::default()
            },
        };
        self.model.sheets[si].tables.push(table);
        let ti = self.model.sheets[si].tables.len() - 1;
        self.changes.added_tables.insert(part);
        self.write_header_cells(si, ti);
        self.reload_engine()?;
        Ok(name)
    }

    /// Header cells written with new names rename their columns (formulas naming them follow),
    /// as typing over a header does in Excel; a name another column has gets a number after it.
    /// `writes` are (sheet, row, column, input) of cells about to be written.
    pub(crate) fn header_renames(&self, si: usize, writes: &[(u32, u32, &CellInput)]) -> Result<Vec<HeaderRename>> {
        let mut out = Vec::new();
        for (ti, t) in self.model.sheets[si].tables.iter().enumerate() {
            if t.header_rows == 0 {
                continue;
            }
            let mut names = t.columns.clone();
            let mut renamed = Vec::new();
            for &(r, c, input) in writes {
                if r != t.area.first_row || !(t.area.first_col..=t.area.last_col).contains(&c) {
                    continue;
                }
                check_header_input(Some(input))?;
                let k = (c - t.area.first_col) as usize;
                let text = match input {
                    CellInput::Text(s) => s.clone(),
                    CellInput::Number(n) => header_text(&Value::Number(*n)),
                    CellInput::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_string(),
                    _ => unreachable!("checked above"),
                };
                if text != names[k] {
                    names[k] = text;
                    renamed.push(k);
                }
            }
            if renamed.is_empty() {
                continue;
            }
            // Repeats get a number, as Excel gives them.
            for &k in &renamed {
                let others: Vec<String> =
                    names.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, n)| n.clone()).collect();
                if others.iter().any(|n| n.eq_ignore_ascii_case(&names[k])) {
                    names[k] = free_column_name(&others, &names[k], 2);
                }
            }
            out.push(HeaderRename { table: ti, columns: renamed.into_iter().map(|k| (k, names[k].clone())).collect() });
        }
        Ok(out)
    }

    /// Renames columns as [`Workbook::header_renames`] found, once the cells are written.
    pub(crate) fn apply_header_renames(&mut self, si: usize, renames: Vec<HeaderRename>) -> Result<()> {
        if renames.is_empty() {
            return Ok(());
        }
        for HeaderRename { table: ti, columns } in renames {
            // Through stand-ins first, so that names swapped between columns stay apart.
            let mut fates = Vec::new();
            let t = &self.model.sheets[si].tables[ti];
            for (k, _) in &columns {
                fates.push(ColumnFate::Renamed { from: t.columns[*k].clone(), to: format!("\u{1}{k}") });
            }
            for (k, to) in &columns {
                fates.push(ColumnFate::Renamed { from: format!("\u{1}{k}"), to: to.clone() });
            }
            let t = &mut self.model.sheets[si].tables[ti];
            for (k, to) in &columns {
                t.columns[*k] = to.clone();
            }
            self.follow_column_fates(si, ti, &fates);
            self.write_header_cells(si, ti);
        }
        self.reload_engine()
    }
}

impl Workbook {
    /// Shows a total row below the table (the row below is used when empty, else cells move down
    /// within the table's columns), labelled `Total` in the first column with the sum of the last,
    /// as Excel adds one; or takes it away (its cells cleared, nothing moves).
    fn set_total_row(&mut self, si: usize, ti: usize, on: bool) -> Result<()> {
        let t = self.model.sheets[si].tables[ti].clone();
        if on == (t.totals_rows > 0) {
            return Ok(());
        }
        let sheet = self.model.sheets[si].name.clone();
        if !on {
            self.refuse_special_references(si, ti, "#totals")?;
            let row = t.area.last_row;
            let t = &mut self.model.sheets[si].tables[ti];
            t.area.last_row -= 1;
            t.totals_rows = 0;
            self.changes.tables_changed.insert(t.part.clone());
            let (c1, c2) = (t.area.first_col, t.area.last_col);
            self.clear_row(&sheet, row, c1, c2)?;
            return self.reload_engine();
        }
        let row = t.area.last_row + 1;
        if row >= crate::address::MAX_ROWS {
            return Err(BookError::InvalidEdit("the total row would not fit on the sheet".into()));
        }
        if !self.row_is_empty(si, row, t.area.first_col, t.area.last_col) {
            self.shift_model(&crate::shift::Shift {
                sheet: sheet.clone(),
                axis: crate::shift::Axis::Rows,
                at: row,
                count: 1,
                insert: true,
                band: (t.area.first_col, t.area.last_col),
            })?;
        }
        let t = &mut self.model.sheets[si].tables[ti];
        t.area.last_row = row;
        t.totals_rows = 1;
        self.changes.tables_changed.insert(t.part.clone());
        let cols = t.columns.len();
        // What the table's columns say a total row holds; without a word of it, Excel's default.
        let defined = t.totals.iter().any(|d| d.label.is_some() || d.function.is_some());
        if !defined {
            t.totals = vec![crate::model::ColumnTotal::default(); cols];
            if cols > 1 {
                t.totals[0].label = Some("Total".into());
            }
            t.totals[cols - 1].function = Some("sum".into());
            self.changes.totals_added.insert(t.part.clone());
        }
        let name = t.display_name.clone();
        let inputs: Vec<Option<CellInput>> = (0..cols)
            .map(|k| {
                let def = t.totals.get(k).cloned().unwrap_or_default();
                let column = crate::structured::escape_column(&t.columns[k]);
                match (def.label, def.function.as_deref().and_then(subtotal_code)) {
                    (Some(label), _) => Some(CellInput::Text(label)),
                    (None, Some(code)) => Some(CellInput::Formula(format!("SUBTOTAL({code},{name}[{column}])"))),
                    (None, None) => None,
                }
            })
            .collect();
        let cols = cols as u32;
        self.reload_engine()?;
        self.set_cells(&crate::edit::SetCells {
            sheet,
            row,
            col: self.model.sheets[si].tables[ti].area.first_col,
            rows: 1,
            cols,
            inputs: Some(vec![inputs]),
            number_formats: None,
        })
    }

    /// Shows the header row above the table (the row above is used when empty, else the table
    /// moves down within its columns) with the column names; or hides it (its cells cleared,
    /// the filter buttons go with it).
    fn set_header_row(&mut self, si: usize, ti: usize, on: bool) -> Result<()> {
        let t = self.model.sheets[si].tables[ti].clone();
        if on == (t.header_rows > 0) {
            return Ok(());
        }
        let sheet = self.model.sheets[si].name.clone();
        if !on {
            self.refuse_special_references(si, ti, "#headers")?;
            let row = t.area.first_row;
            let t = &mut self.model.sheets[si].tables[ti];
            t.area.first_row += 1;
            t.header_rows = 0;
            t.style.auto_filter = false;
            self.changes.tables_changed.insert(t.part.clone());
            let (c1, c2) = (t.area.first_col, t.area.last_col);
            self.clear_row(&sheet, row, c1, c2)?;
            return self.reload_engine();
        }
        let free_above =
            t.area.first_row > 0 && self.row_is_empty(si, t.area.first_row - 1, t.area.first_col, t.area.last_col);
        if !free_above {
            self.shift_model(&crate::shift::Shift {
                sheet,
                axis: crate::shift::Axis::Rows,
                at: t.area.first_row,
                count: 1,
                insert: true,
                band: (t.area.first_col, t.area.last_col),
            })?;
            // The whole table moved down a row: its old first row holds the header.
            let t = &mut self.model.sheets[si].tables[ti];
            t.area.first_row -= 1;
        } else {
            self.model.sheets[si].tables[ti].area.first_row -= 1;
        }
        let t = &mut self.model.sheets[si].tables[ti];
        t.header_rows = 1;
        self.changes.tables_changed.insert(t.part.clone());
        self.write_header_cells(si, ti);
        self.reload_engine()
    }

    fn row_is_empty(&self, si: usize, row: u32, c1: u32, c2: u32) -> bool {
        self.model.sheets[si].cells.range((row, c1)..=(row, c2)).all(|(_, c)| c.value.is_empty() && c.formula.is_none())
    }

    fn clear_row(&mut self, sheet: &str, row: u32, c1: u32, c2: u32) -> Result<()> {
        self.clear_cells(&ClearCells {
            sheet: sheet.to_string(),
            first_row: row,
            first_col: c1,
            last_row: row,
            last_col: c2,
            contents: true,
            formats: false,
        })
    }

    /// A row the table loses may not be one that formulas name (`Table1[#Totals]`).
    fn refuse_special_references(&self, si: usize, ti: usize, item: &str) -> Result<()> {
        let t = &self.model.sheets[si].tables[ti];
        let needle = format!("{}[", t.display_name.to_ascii_lowercase());
        let names_it = |f: &str| {
            let f = f.to_ascii_lowercase();
            f.contains(&needle) && f.contains(item)
        };
        let used =
            self.model.sheets.iter().any(|s| s.cells.values().any(|c| c.formula.as_deref().is_some_and(names_it)))
                || self.model.names.iter().any(|n| names_it(&n.formula));
        if used {
            return Err(BookError::StructureConflict(format!(
                "formulas name the {} row of table '{}'",
                item.trim_start_matches('#'),
                t.display_name
            )));
        }
        Ok(())
    }
}

/// The SUBTOTAL function number of a total-row function (`custom` ones keep their own formula,
/// which is not modelled: their cell is left empty).
fn subtotal_code(function: &str) -> Option<u32> {
    Some(match function {
        "average" => 101,
        "countNums" => 102,
        "count" => 103,
        "max" => 104,
        "min" => 105,
        "stdDev" => 107,
        "sum" => 109,
        "var" => 110,
        _ => return None,
    })
}

/// Columns renamed by writing a table's header cells: (column index, new name).
#[derive(Debug)]
pub(crate) struct HeaderRename {
    table: usize,
    columns: Vec<(usize, String)>,
}

/// A header cell holds text: a number or logical value becomes its text; a formula or nothing
/// cannot name a column.
fn check_header_input(input: Option<&CellInput>) -> Result<()> {
    match input {
        None | Some(CellInput::Text(_) | CellInput::Number(_) | CellInput::Bool(_)) => Ok(()),
        Some(CellInput::Empty) => {
            Err(BookError::InvalidEdit("a table's header cell names its column: it cannot be empty".into()))
        }
        Some(CellInput::Formula(_)) => {
            Err(BookError::InvalidEdit("a table's header cell names its column: it cannot hold a formula".into()))
        }
    }
}

/// A new column name: not empty, not another column's (in any case).
fn check_column_name(name: &str, columns: &[String], except: Option<usize>) -> Result<()> {
    if name.trim().is_empty() || name.len() > 255 {
        return Err(BookError::InvalidEdit("a table column has a name of 1 to 255 characters".into()));
    }
    if columns.iter().enumerate().any(|(k, c)| Some(k) != except && c.eq_ignore_ascii_case(name)) {
        return Err(BookError::NameExists(name.to_string()));
    }
    Ok(())
}

/// `{base}{n}` for the first `n` from `from` that no column has.
fn free_column_name(columns: &[String], base: &str, from: u32) -> String {
    (from..)
        .map(|n| format!("{base}{n}"))
        .find(|c| !columns.iter().any(|x| x.eq_ignore_ascii_case(c)))
        .unwrap_or_default()
}

/// A column by name or by its id (Graph's column ids are the part's `id` attributes).
pub(crate) fn column_index(t: &crate::model::Table, key: &str) -> Option<usize> {
    t.columns
        .iter()
        .position(|c| c.eq_ignore_ascii_case(key))
        .or_else(|| t.column_ids.iter().position(|id| id.to_string() == key))
}

/// A header cell's value as a column name.
fn header_text(v: &Value) -> String {
    match v {
        Value::Empty => String::new(),
        Value::Text(s) => s.clone(),
        Value::Number(n) => format!("{n}"),
        Value::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_string(),
        Value::Error(e) => e.as_str().to_string(),
    }
}
