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

/// What a table update changes; `None` leaves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_column: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_column: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_stripes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_stripes: Option<bool>,
}

impl Workbook {
    /// Renames a table (formulas naming it follow) and sets its style and style options.
    pub(crate) fn update_table(&mut self, table: &str, update: &TableUpdate) -> Result<()> {
        let (si, ti) = self.find_table(table)?;
        let old = self.model.sheets[si].tables[ti].display_name.clone();
        let rename = update.name.as_deref().filter(|n| *n != old);
        if let Some(n) = rename {
            crate::names::check_name_text(n)?;
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
        self.tables_changed.insert(t.part.clone());
        if let Some(n) = rename {
            for (s, sheet) in self.model.sheets.iter_mut().enumerate() {
                for (&(r, c), cell) in sheet.cells.iter_mut() {
                    let Some(f) = cell.formula.as_deref() else { continue };
                    if let Some(new) = crate::structured::rename_table(f, &old, n) {
                        cell.formula = Some(new);
                        cell.kind = crate::model::FormulaKind::Normal;
                        self.touched.insert((s, r, c));
                        self.formulas_changed = true;
                    }
                }
            }
            for d in &mut self.model.names {
                if let Some(new) = crate::structured::rename_table(&d.formula, &old, n) {
                    d.formula = new;
                    self.names_changed = true;
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
