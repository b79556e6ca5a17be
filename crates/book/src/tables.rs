//! Tables removed: converted to a plain range (cells kept, formulas naming the table rewritten to
//! the cells they meant) or deleted (its cells cleared). The table part, its relationship, its
//! content type and the sheet's `<tablePart>` go at the save.

use crate::edit::ClearCells;
use crate::error::{BookError, Result};
use crate::model::SheetKind;
use crate::structured::TableInfo;
use crate::workbook::Workbook;

/// A table taken out of the model, whose part the save removes.
#[derive(Debug, Clone)]
pub(crate) struct RemovedTable {
    /// The part of the sheet that held it.
    pub sheet_part: String,
    pub part: String,
}

impl Workbook {
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
                self.touched.insert((s, r, c));
                self.formulas_changed = true;
            }
        }
        self.model.sheets[si].tables.remove(ti);
        self.removed_tables.push(RemovedTable { sheet_part: self.model.sheets[si].part.clone(), part: t.part.clone() });
        self.tables_changed.remove(&t.part);
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
