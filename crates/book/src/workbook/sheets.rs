//! Worksheets renamed, moved and deleted. References follow as in Excel: a renamed sheet's
//! references say its new name, a deleted sheet's become `#REF!`; names scoped to a deleted
//! sheet go with it.

use std::collections::BTreeSet;

use super::Workbook;
use crate::error::{BookError, Result};
use crate::model::{SheetKind, Visibility};
use crate::shift::Change;

impl Workbook {
    /// Graph's worksheet update: any of a new name, a new position among the worksheets, a new
    /// visibility. Everything is checked before anything changes.
    pub(crate) fn update_sheet(
        &mut self,
        sheet: &str,
        name: Option<&str>,
        position: Option<u32>,
        visibility: Option<Visibility>,
    ) -> Result<()> {
        let si = self.sheet_idx(sheet)?;
        let old = self.model.sheets[si].name.clone();
        let rename = name.filter(|n| *n != old);
        if let Some(n) = rename {
            if n.eq_ignore_ascii_case(&old) {
                // Only the case changes: the name is the sheet's own.
                self.check_sheet_name_text(n)?;
            } else {
                self.check_new_sheet_name(n)?;
            }
            self.check_unmodelled_references(&old)?;
        }
        let worksheets = self.model.sheets.iter().filter(|s| s.kind == SheetKind::Worksheet).count();
        if let Some(p) = position {
            if p as usize >= worksheets {
                return Err(BookError::InvalidEdit(format!(
                    "position {p} is past the last of the {worksheets} worksheets"
                )));
            }
        }
        if let Some(v) = visibility {
            self.set_sheet_visibility(&old, v)?;
        }
        if let Some(n) = rename {
            self.rename_sheet(si, n)?;
        }
        if let Some(p) = position {
            self.move_sheet(si, p as usize);
        }
        Ok(())
    }

    fn rename_sheet(&mut self, si: usize, to: &str) -> Result<()> {
        let from = self.model.sheets[si].name.clone();
        let change = Change::RenameSheet { from: from.clone(), to: to.to_string() };
        self.rewrite_formulas(&change);
        self.model.sheets[si].name = to.to_string();
        self.changes.pending_changes.push(change);
        self.changes.sheets_changed = true;
        self.reload_engine()
    }

    /// Moves a sheet to be the `position`-th worksheet.
    fn move_sheet(&mut self, si: usize, position: usize) {
        let sheet = self.model.sheets.remove(si);
        let to = self
            .model
            .sheets
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == SheetKind::Worksheet)
            .nth(position)
            .map_or(self.model.sheets.len(), |(i, _)| i);
        self.model.sheets.insert(to, sheet);
        if to == si {
            return;
        }
        // Indices into the sheet list: old index -> new index.
        let map = |i: usize| -> usize {
            if i == si {
                to
            } else {
                let after_removal = if i > si { i - 1 } else { i };
                if after_removal >= to {
                    after_removal + 1
                } else {
                    after_removal
                }
            }
        };
        self.remap_sheet_indices(|i| Some(map(i)));
        self.changes.sheets_changed = true;
    }

    /// Deletes a worksheet: its cells, its names, references to it (`#REF!`).
    pub(crate) fn delete_sheet(&mut self, sheet: &str) -> Result<()> {
        let si = self.sheet_idx(sheet)?;
        let name = self.model.sheets[si].name.clone();
        let others_visible = self
            .model
            .sheets
            .iter()
            .enumerate()
            .any(|(i, s)| i != si && s.visibility == Visibility::Visible && s.kind == SheetKind::Worksheet);
        if !others_visible {
            return Err(BookError::InvalidEdit("a workbook keeps at least one visible worksheet".into()));
        }
        self.check_unmodelled_references(&name)?;
        // Tables on the sheet that formulas elsewhere name would leave those formulas dangling.
        for t in &self.model.sheets[si].tables {
            let needle = format!("{}[", t.display_name.to_ascii_lowercase());
            let used = self.model.sheets.iter().enumerate().filter(|(i, _)| *i != si).any(|(_, s)| {
                s.cells.values().any(|c| c.formula.as_ref().is_some_and(|f| f.to_ascii_lowercase().contains(&needle)))
            });
            if used {
                return Err(BookError::StructureConflict(format!(
                    "formulas on other sheets use table '{}' on sheet '{name}'",
                    t.display_name
                )));
            }
        }
        let change = Change::DeleteSheet { name: name.clone() };
        self.rewrite_formulas(&change);
        let removed = self.model.sheets.remove(si);
        self.model.names.retain(|n| n.local_sheet != Some(si));
        self.remap_sheet_indices(|i| match i.cmp(&si) {
            std::cmp::Ordering::Less => Some(i),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(i - 1),
        });
        self.changes.deleted_sheets.push(removed);
        self.changes.pending_changes.push(change);
        self.changes.sheets_changed = true;
        self.changes.formulas_changed = true;
        self.reload_engine()
    }

    /// Rewrites every cell formula and defined name through `change` (no cells move).
    fn rewrite_formulas(&mut self, change: &Change) {
        for sheet in self.model.sheets.iter_mut().filter(|s| s.kind == SheetKind::Worksheet) {
            let host = sheet.name.clone();
            for cell in sheet.cells.values_mut() {
                if let Some(new) = cell.formula.as_deref().and_then(|f| change.formula(f, &host)) {
                    cell.formula = Some(new);
                    self.changes.formulas_changed = true;
                }
            }
        }
        let names: Vec<String> = self.model.sheets.iter().map(|s| s.name.clone()).collect();
        for n in &mut self.model.names {
            let host = n.local_sheet.and_then(|i| names.get(i)).map_or("", String::as_str);
            if let Some(f) = change.formula(&n.formula, host) {
                n.formula = f;
            }
        }
    }

    /// Renumbers what holds a sheet index after sheets moved or went (`None`: gone).
    fn remap_sheet_indices(&mut self, map: impl Fn(usize) -> Option<usize>) {
        for n in &mut self.model.names {
            n.local_sheet = n.local_sheet.and_then(&map);
        }
        self.changes.touched = std::mem::take(&mut self.changes.touched)
            .into_iter()
            .filter_map(|(s, r, c)| map(s).map(|s| (s, r, c)))
            .collect::<BTreeSet<_>>();
        self.changes.broken_shared = std::mem::take(&mut self.changes.broken_shared)
            .into_iter()
            .filter_map(|(s, g)| map(s).map(|s| (s, g)))
            .collect();
        self.changes.merges_changed =
            std::mem::take(&mut self.changes.merges_changed).into_iter().filter_map(&map).collect();
        self.changes.hidden_changed =
            std::mem::take(&mut self.changes.hidden_changed).into_iter().filter_map(&map).collect();
    }

    /// Excel's rules for the characters of a sheet name (without the uniqueness check).
    pub(crate) fn check_sheet_name_text(&self, name: &str) -> Result<()> {
        let bad = |why: &str| Err(BookError::InvalidEdit(format!("'{name}' cannot name a sheet: {why}")));
        if name.is_empty() || name.chars().count() > 31 {
            return bad("a sheet name has 1 to 31 characters");
        }
        if name.contains(['[', ']', ':', '*', '?', '/', '\\']) || name.chars().any(char::is_control) {
            return bad("it holds one of [ ] : * ? / \\");
        }
        if name.starts_with('\'') || name.ends_with('\'') {
            return bad("it starts or ends with an apostrophe");
        }
        if name.eq_ignore_ascii_case("History") {
            return bad("Excel reserves it");
        }
        Ok(())
    }
}
