//! The structural spot check: in each of a spread of corpus files, insert a row in the middle of
//! every worksheet's used range, save (the loss guard runs), reopen, and compare every cell with
//! the original moved by the same shift: values equal, formulas equal to the original's text
//! with its references shifted.

use std::path::Path;

use book::address::MAX_COLS;
use book::{Axis, BookError, Edit, Shift, Workbook};
use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct StructureFigures {
    pub files_tried: u64,
    pub files_shifted: u64,
    pub sheets_shifted: u64,
    /// Sheets where the edit was refused (409 insertDeleteConflict), with the reasons' counts.
    pub sheets_refused: u64,
    pub refusals: std::collections::BTreeMap<String, u64>,
    pub cells_compared: u64,
    pub cells_wrong: u64,
    /// Formula values after the edits (the engine moving its own cells where it can) that differ
    /// from the same workbook loaded anew and calculated in full.
    pub values_compared: u64,
    pub values_differ: u64,
    pub saves_failed: u64,
    pub examples: Vec<String>,
}

/// Runs the check over `paths` (relative to `corpus`).
pub fn spot_check(corpus: &Path, paths: &[String]) -> StructureFigures {
    let mut out = StructureFigures::default();
    for path in paths {
        let Ok(bytes) = std::fs::read(corpus.join(path)) else { continue };
        let Ok(original) = Workbook::open(bytes.clone()) else { continue };
        let Ok(mut wb) = Workbook::open(bytes) else { continue };
        out.files_tried += 1;
        let mut applied: Vec<Shift> = Vec::new();
        for sheet in original.model().sheets.iter() {
            let Ok(Some(used)) = original.used_range(&sheet.name, false) else { continue };
            let at = used.first_row + (used.last_row - used.first_row).div_ceil(2);
            let shift = Shift {
                sheet: sheet.name.clone(),
                axis: Axis::Rows,
                at,
                count: 1,
                insert: true,
                band: (0, MAX_COLS - 1),
            };
            match wb.edit(Edit::ShiftCells(shift.clone())) {
                Ok(_) => {
                    out.sheets_shifted += 1;
                    applied.push(shift);
                }
                Err(BookError::StructureConflict(why)) => {
                    out.sheets_refused += 1;
                    *out.refusals.entry(refusal_kind(&why)).or_default() += 1;
                }
                Err(e) => {
                    out.cells_wrong += 1;
                    note(&mut out, format!("{path}: {}: {e}", sheet.name));
                }
            }
        }
        if applied.is_empty() {
            continue;
        }
        out.files_shifted += 1;
        let saved = match wb.save() {
            Ok(b) => b,
            Err(e) => {
                out.saves_failed += 1;
                note(&mut out, format!("{path}: save: {e}"));
                continue;
            }
        };
        compare_values(path, &wb, &saved, &mut out);
        let reopened = match Workbook::open(saved) {
            Ok(w) => w,
            Err(e) => {
                out.saves_failed += 1;
                note(&mut out, format!("{path}: reopen: {e}"));
                continue;
            }
        };
        compare(path, &original, &reopened, &applied, &mut out);
    }
    out
}

/// The live workbook's formula values against the saved file loaded and calculated in full.
fn compare_values(path: &str, live: &Workbook, saved: &[u8], out: &mut StructureFigures) {
    let Ok(mut fresh) = Workbook::open(saved.to_vec()) else { return };
    if fresh.full_recalc().is_err() {
        return;
    }
    for (si, sheet) in live.model().sheets.iter().enumerate() {
        for (&(r, c), cell) in &sheet.cells {
            let Some(f) = cell.formula.as_deref() else { continue };
            // Volatile functions differ between any two calculations.
            let upper = f.to_ascii_uppercase();
            if ["RAND", "NOW(", "TODAY(", "INFO(", "CELL("].iter().any(|v| upper.contains(v)) {
                continue;
            }
            out.values_compared += 1;
            let (a, b) = (live.value(si, r, c), fresh.value(si, r, c));
            let same = match (&a, &b) {
                (book::Value::Number(x), book::Value::Number(y)) => {
                    x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
                }
                _ => a == b,
            };
            if !same {
                out.values_differ += 1;
                note(
                    out,
                    format!(
                        "{path}: {}!{}: {f}: live {a:?}, reloaded {b:?}",
                        sheet.name,
                        book::address::cell_name(r, c)
                    ),
                );
            }
        }
    }
}

fn compare(path: &str, original: &Workbook, reopened: &Workbook, applied: &[Shift], out: &mut StructureFigures) {
    for (si, sheet) in original.model().sheets.iter().enumerate() {
        let Some(now) = reopened.model().sheets.get(si) else { continue };
        // Cells of array results (spilled or legacy) are recalculated like any formula's.
        let spills: Vec<book::Area> = sheet
            .cells
            .values()
            .filter_map(|c| match c.kind {
                book::model::FormulaKind::Array { area, .. } => Some(area),
                _ => None,
            })
            .collect();
        for (&(r, c), cell) in &sheet.cells {
            if cell.formula.is_none() && spills.iter().any(|a| a.contains(r, c)) {
                continue;
            }
            let mut at = Some((r, c));
            let mut formula = cell.formula.clone();
            for s in applied {
                if s.sheet == sheet.name {
                    at = at.and_then(|(r, c)| s.map_cell(r, c));
                }
                if let Some(f) = formula.as_deref().and_then(|f| s.formula(f, &sheet.name)) {
                    formula = Some(f);
                }
            }
            let Some(at) = at else { continue };
            out.cells_compared += 1;
            let got = now.cells.get(&at);
            let ok = match (&formula, got) {
                (Some(f), Some(g)) => g.formula.as_deref() == Some(f.as_str()),
                (None, Some(g)) => g.formula.is_none() && g.value == cell.value,
                (None, None) => cell.value.is_empty(),
                (Some(_), None) => false,
            };
            if !ok {
                out.cells_wrong += 1;
                note(
                    out,
                    format!(
                        "{path}: {}!{}: expected {:?} / {:?}, found {:?}",
                        sheet.name,
                        book::address::cell_name(at.0, at.1),
                        formula,
                        cell.value,
                        got.map(|g| (&g.formula, &g.value))
                    ),
                );
            }
        }
    }
}

/// The kind of a refusal, without the names in it.
fn refusal_kind(why: &str) -> String {
    for kind in ["drawing", "vmlDrawing", "comments", "pivotTable", "threadedComment", "slicer", "timeline"] {
        if why.contains(&format!("has a {kind} part")) {
            return format!("sheet has a {kind} part");
        }
    }
    for (needle, kind) in [
        ("/charts/", "a chart refers to the sheet"),
        ("pivotCache", "a pivot cache refers to the sheet"),
        ("externalLink", "an external link refers to the sheet"),
        ("data table", "a data table on the sheet"),
        ("merged cells", "merged cells cut apart"),
        ("array formula", "an array formula cut"),
        ("table", "a table edit not supported"),
        ("push", "cells pushed off the sheet"),
    ] {
        if why.contains(needle) {
            return kind.to_string();
        }
    }
    why.to_string()
}

fn note(out: &mut StructureFigures, text: String) {
    if out.examples.len() < 60 {
        out.examples.push(text);
    }
}
