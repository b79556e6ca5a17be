//! Save by patching: every part the edits did not touch is copied byte for byte (its compressed
//! bytes included); edited sheets have only their changed `<c>` elements rewritten; shared strings
//! and styles are extended, never renumbered. A loss guard checks the result before it is returned.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Cursor, Write};

use quick_xml::events::Event;
use quick_xml::Reader;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::address::{cell_name, parse_cell_name, Area};
use crate::changes::Changes;
use crate::engine::CalcEngine;
use crate::error::{BookError, Result};
use crate::model::BookModel;
use crate::model::{self, FormulaKind, SheetKind, GUARDED_ELEMENTS};
use crate::ooxml::consts::{
    main_ns, rel_ns, relationship_type, PACKAGE_REL_NS, SHARED_STRINGS_CONTENT_TYPE, TABLE_CONTENT_TYPE,
    WORKSHEET_CONTENT_TYPE,
};
use crate::ooxml::package::{normalize, rels_part_name, Package};
use crate::ooxml::xml::escape;
use crate::value::Value;

mod loss_guard;
mod relationships;
mod shared_strings;
mod sheet_cells;
mod styles;
mod table_parts;
#[cfg(test)]
mod tests;
mod workbook_part;

use loss_guard::*;
pub use loss_guard::{verify_sheet_xml, CopiedSpan};
use relationships::*;
use shared_strings::*;
use sheet_cells::*;
use styles::*;
use workbook_part::*;

/// Which parts a save wrote anew; every other part was copied as it was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveReport {
    pub rewritten: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// What a save reads: the package as opened (or last saved), the model, what changed, and the
/// engine's results when it has calculated.
pub(crate) struct SaveInput<'a> {
    pub pkg: &'a Package,
    pub model: &'a mut BookModel,
    pub changes: &'a mut Changes,
    pub engine: Option<&'a dyn CalcEngine>,
}

impl SaveInput<'_> {
    fn is_calculated(&self) -> bool {
        self.engine.is_some()
    }

    fn value(&self, si: usize, row: u32, col: u32) -> Value {
        crate::engine::shown_value(self.model, self.engine, si, row, col)
    }

    fn shared_string(&mut self, s: &str) -> u32 {
        self.changes.shared_string(&self.model.shared_strings, s)
    }
}

pub(crate) fn save(wb: &mut SaveInput<'_>) -> Result<(Vec<u8>, SaveReport, Package)> {
    let mut replaced: HashMap<String, Vec<u8>> = HashMap::new();
    let mut removed: BTreeSet<String> = BTreeSet::new();
    let mut added: Vec<(String, Vec<u8>)> = Vec::new();

    // Cells to write, per sheet.
    let mut per_sheet: BTreeMap<usize, BTreeMap<(u32, u32), Patch>> = BTreeMap::new();
    let broken: Vec<(usize, u32)> = wb.changes.broken_shared.iter().copied().collect();
    for (si, group) in broken {
        // Followers of an edited shared-formula master are written out in full.
        let keys: Vec<(u32, u32)> = wb.model.sheets[si]
            .cells
            .iter()
            .filter(|(_, c)| matches!(c.kind, FormulaKind::Shared { si: g, master: false } if g == group))
            .map(|(k, _)| *k)
            .collect();
        for (r, c) in keys {
            if let Some(cell) = wb.model.sheets[si].cells.get_mut(&(r, c)) {
                cell.kind = FormulaKind::Normal;
            }
            wb.changes.touched.insert((si, r, c));
        }
    }
    if wb.is_calculated() {
        // Refresh cached results that recalculation changed.
        for si in 0..wb.model.sheets.len() {
            if wb.model.sheets[si].kind != SheetKind::Worksheet {
                continue;
            }
            let array_areas: Vec<Area> = wb.model.sheets[si]
                .cells
                .values()
                .filter_map(|c| if let FormulaKind::Array { area, .. } = c.kind { Some(area) } else { None })
                .filter(|a| a.cell_count() > 1 && a.cell_count() <= 1_000_000)
                .collect();
            let mut keys: BTreeSet<(u32, u32)> = wb.model.sheets[si]
                .cells
                .iter()
                .filter(|(_, c)| c.formula.is_some() || matches!(c.kind, FormulaKind::Shared { .. }))
                .map(|(k, _)| *k)
                .collect();
            for a in &array_areas {
                for r in a.first_row..=a.last_row {
                    for c in a.first_col..=a.last_col {
                        if wb.model.sheets[si].cells.contains_key(&(r, c)) {
                            keys.insert((r, c));
                        }
                    }
                }
            }
            for (r, c) in keys {
                if wb.changes.touched.contains(&(si, r, c)) {
                    continue;
                }
                let now = wb.value(si, r, c);
                let cell = wb.model.sheets[si].cells.get_mut(&(r, c)).expect("key from the map");
                if cell.value == now || (now.is_empty() && cell.formula.is_none()) {
                    continue;
                }
                cell.value = now.clone();
                let (t, v) = result_xml(&now);
                per_sheet.entry(si).or_default().insert((r, c), Patch::Refresh { t, v });
            }
        }
    }
    let touched: Vec<(usize, u32, u32)> = wb.changes.touched.iter().copied().collect();
    for (si, r, c) in touched {
        let value = if wb.model.sheets[si].cells.get(&(r, c)).is_some_and(|c| c.formula.is_some()) && wb.is_calculated()
        {
            wb.value(si, r, c)
        } else {
            wb.model.sheets[si].cells.get(&(r, c)).map(|c| c.value.clone()).unwrap_or_default()
        };
        let xml = match wb.model.sheets[si].cells.get(&(r, c)).cloned() {
            None => String::new(),
            Some(cell) => {
                if let Some(stored) = wb.model.sheets[si].cells.get_mut(&(r, c)) {
                    stored.value = value.clone();
                }
                cell_xml(wb, r, c, cell.style, cell.formula.as_deref(), &value)
            }
        };
        per_sheet.entry(si).or_default().insert((r, c), Patch::Full(xml));
    }

    // Sheets, with the rows each copied whole from its original (for the loss guard).
    let mut rewritten_sheets: Vec<usize> = Vec::new();
    let mut copied_rows: HashMap<usize, (Vec<u8>, Vec<CopiedSpan>)> = HashMap::new();
    // Sheets added since the package was opened start from an empty worksheet.
    let mut new_sheets: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for (si, sheet) in wb.model.sheets.iter().enumerate() {
        if wb.pkg.entry(&sheet.part).is_none() {
            new_sheets.insert(si, empty_worksheet(wb.model.strict).into_bytes());
        }
    }
    // Cells inserted or deleted: every part that holds addresses or formulas follows.
    let mut shifted = shift_parts(wb, &mut replaced)?;
    // Cells merged or unmerged: the sheet's `<mergeCells>` is written from the model.
    for si in wb.changes.merges_changed.clone() {
        rewrite_sheet(wb, si, &mut shifted, &mut new_sheets, |sheet, d| {
            crate::ooxml::shift::set_merges(d, &sheet.part, &sheet.merges)
        })?;
        per_sheet.entry(si).or_default();
    }
    // Rows or columns hidden or shown: the rows' `hidden` and the sheet's `<cols>` follow the model.
    for si in wb.changes.hidden_changed.clone() {
        rewrite_sheet(wb, si, &mut shifted, &mut new_sheets, |sheet, d| {
            let rows = crate::ooxml::hidden::set_hidden_rows(d, &sheet.part, &sheet.hidden_rows)?;
            crate::ooxml::hidden::set_hidden_cols(&rows, &sheet.part, &sheet.hidden_cols)
        })?;
        per_sheet.entry(si).or_default();
    }
    // Tables removed: the sheet's `<tablePart>`, its relationship, the part and its content type.
    for removed_table in wb.changes.removed_tables.clone() {
        let Some(si) = wb.model.sheets.iter().position(|s| s.part == removed_table.sheet_part) else { continue };
        let Some(rel) =
            wb.pkg.rels(&removed_table.sheet_part)?.into_iter().find(|r| !r.external && r.target == removed_table.part)
        else {
            continue;
        };
        let sheet_part = removed_table.sheet_part.clone();
        let base = match shifted.remove(&si) {
            Some(b) => b,
            None => wb.pkg.read(&sheet_part)?.ok_or_else(|| BookError::MissingPart(sheet_part.clone()))?,
        };
        let bytes = keep_bom(&base, |d| crate::ooxml::shift::remove_table_part(d, &sheet_part, &rel.id))?;
        wb.model.sheets[si].features =
            verify_sheet_xml_except(&bytes, &sheet_part, &wb.model.shared_strings, &[], &[])?;
        shifted.insert(si, bytes);
        let rels_name = rels_part_name(&sheet_part);
        let rels = current(wb.pkg, &replaced, &rels_name)?;
        replaced.insert(real_name(wb.pkg, &rels_name), keep_bom_infallible(&rels, |d| remove_relationship(d, &rel.id)));
        let ct = current(wb.pkg, &replaced, "[Content_Types].xml")?;
        replaced.insert(
            real_name(wb.pkg, "[Content_Types].xml"),
            keep_bom_infallible(&ct, |d| remove_override(d, &removed_table.part)),
        );
        if let Some(e) = wb.pkg.entry(&removed_table.part) {
            removed.insert(e.name.clone());
        }
        if let Some(e) = wb.pkg.entry(&rels_part_name(&removed_table.part)) {
            removed.insert(e.name.clone());
        }
    }
    // Tables added: their parts, a relationship from their sheet, a `<tablePart>`, a content type.
    let added_tables: Vec<(usize, crate::model::Table)> = wb
        .model
        .sheets
        .iter()
        .enumerate()
        .flat_map(|(si, s)| s.tables.iter().map(move |t| (si, t)))
        .filter(|(_, t)| wb.changes.added_tables.contains(&t.part))
        .map(|(si, t)| (si, t.clone()))
        .collect();
    for (si, t) in added_tables {
        let sheet_part = wb.model.sheets[si].part.clone();
        let rels_name = rels_part_name(&sheet_part);
        let rels = match (wb.pkg.entry(&rels_name), replaced.get(&real_name(wb.pkg, &rels_name))) {
            (_, Some(b)) => b.clone(),
            (Some(_), None) => current(wb.pkg, &replaced, &rels_name)?,
            (None, None) => added
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&rels_name))
                .map(|(_, b)| b.clone())
                .unwrap_or_else(|| empty_rels().into_bytes()),
        };
        let text = String::from_utf8_lossy(&rels).into_owned();
        let rel_id = (1u32..)
            .map(|n| format!("rIdTable{n}"))
            .find(|id| !text.contains(&format!("\"{id}\"")))
            .unwrap_or_default();
        let target = relative_target(&sheet_part, &t.part);
        let rel_type = relationship_type(wb.model.strict, "table");
        let rel = format!("<Relationship Id=\"{rel_id}\" Type=\"{rel_type}\" Target=\"{}\"/>", escape(&target));
        let rels = insert_before_last_close(&text, &rel).into_bytes();
        if wb.pkg.entry(&rels_name).is_some() {
            replaced.insert(real_name(wb.pkg, &rels_name), rels);
        } else {
            added.retain(|(n, _)| !n.eq_ignore_ascii_case(&rels_name));
            added.push((rels_name.clone(), rels));
        }
        let rel_ns = rel_ns(wb.model.strict);
        rewrite_sheet(wb, si, &mut shifted, &mut new_sheets, |sheet, d| {
            crate::ooxml::shift::add_table_part(d, &sheet.part, &rel_id, rel_ns)
        })?;
        let ct = current(wb.pkg, &replaced, "[Content_Types].xml")?;
        replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), add_override(&ct, &t.part, TABLE_CONTENT_TYPE));
        added.push((t.part.clone(), table_parts::new_table_part(&t, wb.model.strict)));
    }
    for &si in shifted.keys() {
        per_sheet.entry(si).or_default();
    }
    for (&si, patches) in &per_sheet {
        let part = wb.model.sheets[si].part.clone();
        let original = match (new_sheets.get(&si), shifted.remove(&si)) {
            (Some(empty), _) => empty.clone(),
            (None, Some(bytes)) => bytes,
            (None, None) => wb.pkg.read(&part)?.ok_or_else(|| BookError::MissingPart(part.clone()))?,
        };
        let mut spans = Vec::new();
        let patched = keep_bom(&original, |d| {
            let (bytes, copied) = patch_sheet(d, &part, patches)?;
            spans = copied;
            Ok(bytes)
        })?;
        match new_sheets.get_mut(&si) {
            Some(bytes) => *bytes = patched,
            None => {
                replaced.insert(part, patched);
            }
        }
        rewritten_sheets.push(si);
        copied_rows.insert(si, (original, spans));
    }

    // Sheets moved or deleted: local names follow their sheets.
    let new_index = |i: usize| {
        let id = wb.changes.pkg_sheet_rel_ids.get(i)?;
        wb.model.sheets.iter().position(|s| &s.rel_id == id)
    };
    if (0..wb.changes.pkg_sheet_rel_ids.len()).any(|i| new_index(i) != Some(i)) {
        let wb_part = wb.model.workbook_part.clone();
        let xml = current(wb.pkg, &replaced, &wb_part)?;
        let remapped = keep_bom(&xml, |d| crate::ooxml::shift::remap_local_sheets(d, &wb_part, &new_index))?;
        replaced.insert(real_name(wb.pkg, &wb_part), remapped);
    }
    // Names added or changed.
    if wb.changes.names_changed {
        let wb_part = wb.model.workbook_part.clone();
        let xml = current(wb.pkg, &replaced, &wb_part)?;
        let written = keep_bom(&xml, |d| crate::defined_names::write_defined_names(d, &wb_part, &wb.model.names))?;
        replaced.insert(real_name(wb.pkg, &wb_part), written);
    }
    // The sheet list: new sheets' parts, relationships and content types, and `<sheets>`.
    if wb.changes.sheets_changed {
        write_sheet_list(wb, new_sheets, &mut replaced, &mut added, &mut removed)?;
    }

    // Shared strings.
    if !wb.changes.new_strings.is_empty() {
        match wb.model.shared_strings_part.clone() {
            Some(part) => {
                let original = wb.pkg.read(&part)?.unwrap_or_default();
                let total = wb.model.shared_strings.len() + wb.changes.new_strings.len();
                replaced.insert(
                    part.clone(),
                    keep_bom(&original, |d| append_shared_strings(d, &part, &wb.changes.new_strings, total))?,
                );
            }
            None => {
                create_shared_strings(wb, &mut replaced, &mut added)?;
            }
        }
    }

    // Styles.
    if !wb.changes.new_xfs.is_empty() || !wb.changes.new_num_fmts.is_empty() {
        let part = wb.model.styles_part.clone().ok_or_else(|| BookError::MissingPart("styles".into()))?;
        let original = wb.pkg.read(&part)?.unwrap_or_default();
        let patched = keep_bom(&original, |d| patch_styles(d, &part, &wb.changes.new_num_fmts, &wb.changes.new_xfs))?;
        replaced.insert(part, patched);
    }

    // Formulas changed: calcChain goes and Excel recalculates on open.
    if wb.changes.formulas_changed {
        let wb_part = wb.model.workbook_part.clone();
        let rels = wb.pkg.rels(&wb_part)?;
        if let Some(chain) = rels.iter().find(|r| r.rel_type.ends_with("/calcChain") && !r.external) {
            if let Some(entry) = wb.pkg.entry(&chain.target) {
                removed.insert(entry.name.clone());
                let rels_name = rels_part_name(&wb_part);
                let rels_xml = current(wb.pkg, &replaced, &rels_name)?;
                replaced.insert(rels_name, keep_bom_infallible(&rels_xml, |d| remove_relationship(d, &chain.id)));
                let ct = current(wb.pkg, &replaced, "[Content_Types].xml")?;
                replaced.insert(
                    real_name(wb.pkg, "[Content_Types].xml"),
                    keep_bom_infallible(&ct, |d| remove_override(d, &entry.name)),
                );
            }
        }
        let wb_xml = current(wb.pkg, &replaced, &wb_part)?;
        replaced.insert(real_name(wb.pkg, &wb_part), keep_bom_infallible(&wb_xml, set_full_calc_on_load));
    }

    let bytes = write_package(wb.pkg, &replaced, &removed, &added)?;
    let mut all_strings = wb.model.shared_strings.clone();
    all_strings.extend(wb.changes.new_strings.iter().cloned());
    // Written parts are read through when the package reopens, except rewritten sheets: the
    // guard reads those in full anyway (the CRC is checked at the end of a read).
    let sheet_parts: BTreeSet<&str> = rewritten_sheets.iter().map(|&si| wb.model.sheets[si].part.as_str()).collect();
    let written = |name: &str| {
        !sheet_parts.contains(name) && (replaced.contains_key(name) || added.iter().any(|(n, _)| n == name))
    };
    let reopened = loss_guard(wb, &bytes, &written, &all_strings, &copied_rows, &removed)?;
    wb.model.shared_strings = all_strings;
    wb.changes.new_strings.clear();
    let mut rewritten: Vec<String> = replaced.into_keys().collect();
    rewritten.sort();
    let report = SaveReport {
        rewritten,
        added: added.into_iter().map(|(n, _)| n).collect(),
        removed: removed.into_iter().collect(),
    };
    Ok((bytes, report, reopened))
}

/// Applies the pending shifts to the worksheets (returned, for patching), the table parts and
/// workbook.xml's defined names (into `replaced`). A shifted sheet's guarded-element counts
/// become those of its shifted XML: what a deletion removed on purpose is not a loss.
fn shift_parts(wb: &mut SaveInput<'_>, replaced: &mut HashMap<String, Vec<u8>>) -> Result<BTreeMap<usize, Vec<u8>>> {
    use crate::ooxml::shift::{shift_part, PartKind};
    use crate::shift::Change;
    let mut sheets = BTreeMap::new();
    if wb.changes.pending_changes.is_empty() && wb.changes.tables_changed.is_empty() {
        return Ok(sheets);
    }
    let changes = wb.changes.pending_changes.clone();
    // The name a sheet had before the changes: renames undone, newest first.
    let first_name = |now: &str| {
        let mut name = now.to_string();
        for c in changes.iter().rev() {
            if let Change::RenameSheet { from, to } = c {
                if to.eq_ignore_ascii_case(&name) {
                    name = from.clone();
                }
            }
        }
        name
    };
    // Applies every change in order, the host sheet's name following its renames.
    let apply = |bytes: Vec<u8>, part: &str, host: Option<&str>, table: bool| -> Result<Option<Vec<u8>>> {
        let mut current = bytes;
        let mut any = false;
        let mut host_name = host.map(first_name);
        for change in &changes {
            let kind = match (&host_name, table) {
                (Some(h), false) => PartKind::Sheet { host: h },
                (Some(h), true) => PartKind::Table { host: h },
                (None, _) => PartKind::Workbook { sheets: &[] },
            };
            if let Some(next) = shift_part(&current, part, change, &kind)? {
                current = next;
                any = true;
            }
            if let (Change::RenameSheet { from, to }, Some(h)) = (change, host_name.as_mut()) {
                if h.eq_ignore_ascii_case(from) {
                    *h = to.clone();
                }
            }
        }
        Ok(any.then_some(current))
    };
    for si in 0..wb.model.sheets.len() {
        let sheet = &wb.model.sheets[si];
        if sheet.kind != SheetKind::Worksheet || wb.pkg.entry(&sheet.part).is_none() {
            continue;
        }
        let original = wb.pkg.read(&sheet.part)?.ok_or_else(|| BookError::MissingPart(sheet.part.clone()))?;
        if let Some(bytes) = apply(original, &sheet.part, Some(&sheet.name), false)? {
            let counts = verify_sheet_xml_except(&bytes, &sheet.part, &wb.model.shared_strings, &[], &[])?;
            sheets.insert(si, bytes);
            wb.model.sheets[si].features = counts;
        }
        for t in &wb.model.sheets[si].tables {
            let Some(original) = wb.pkg.read(&t.part)? else { continue };
            if let Some(bytes) = apply(original, &t.part, Some(&wb.model.sheets[si].name), true)? {
                replaced.insert(real_name(wb.pkg, &t.part), bytes);
            }
        }
    }
    // Tables that grew other than by a shift, or were renamed or restyled, follow the model.
    for part in wb.changes.tables_changed.clone() {
        if wb.changes.added_tables.contains(&part) {
            continue;
        }
        let Some(t) = wb.model.sheets.iter().flat_map(|s| s.tables.iter()).find(|t| t.part == part) else { continue };
        let xml = current(wb.pkg, replaced, &part)?;
        let fates = wb.changes.column_fates.get(&part).map_or(&[][..], Vec::as_slice);
        let totals_added = wb.changes.totals_added.contains(&part);
        let bytes = keep_bom(&xml, |d| table_parts::write_table_part(d, &part, t, fates, totals_added))?;
        replaced.insert(real_name(wb.pkg, &part), bytes);
    }
    // Defined names: local ones are read against their sheet as it was named at each change.
    let wb_part = wb.model.workbook_part.clone();
    let xml = current(wb.pkg, replaced, &wb_part)?;
    let mut names: Vec<String> = wb.changes.pkg_sheet_names.clone();
    let mut current_xml = xml;
    let mut any = false;
    for change in &changes {
        if let Some(next) = shift_part(&current_xml, &wb_part, change, &PartKind::Workbook { sheets: &names })? {
            current_xml = next;
            any = true;
        }
        if let Change::RenameSheet { from, to } = change {
            for n in names.iter_mut().filter(|n| n.eq_ignore_ascii_case(from)) {
                *n = to.clone();
            }
        }
    }
    if any {
        replaced.insert(real_name(wb.pkg, &wb_part), current_xml);
    }
    Ok(sheets)
}

/// Rewrites sheet `si` as this save has it so far (shifted, new, or as stored) and keeps the
/// result for the cell patches; its guarded-element counts become the rewritten sheet's.
fn rewrite_sheet(
    wb: &mut SaveInput<'_>,
    si: usize,
    shifted: &mut BTreeMap<usize, Vec<u8>>,
    new_sheets: &mut BTreeMap<usize, Vec<u8>>,
    rewrite: impl FnOnce(&model::Sheet, &[u8]) -> Result<Vec<u8>>,
) -> Result<()> {
    let sheet = &wb.model.sheets[si];
    let base = match (new_sheets.get(&si), shifted.remove(&si)) {
        (Some(b), _) => b.clone(),
        (None, Some(b)) => b,
        (None, None) => wb.pkg.read(&sheet.part)?.ok_or_else(|| BookError::MissingPart(sheet.part.clone()))?,
    };
    let bytes = keep_bom(&base, |d| rewrite(sheet, d))?;
    let counts = verify_sheet_xml_except(&bytes, &sheet.part, &wb.model.shared_strings, &[], &[])?;
    wb.model.sheets[si].features = counts;
    match new_sheets.get_mut(&si) {
        Some(b) => *b = bytes,
        None => {
            shifted.insert(si, bytes);
        }
    }
    Ok(())
}

/// A part's bytes as this save has them so far.
fn current(pkg: &Package, replaced: &HashMap<String, Vec<u8>>, part: &str) -> Result<Vec<u8>> {
    let name = real_name(pkg, part);
    if let Some(b) = replaced.get(&name) {
        return Ok(b.clone());
    }
    pkg.read(&name)?.ok_or_else(|| BookError::MissingPart(part.to_string()))
}

/// The entry name as stored in the zip (case and leading slash as the writer had them).
fn real_name(pkg: &Package, part: &str) -> String {
    pkg.entry(part).map(|e| e.name.clone()).unwrap_or_else(|| normalize(part).to_string())
}

fn xml_err(part: &str, e: impl std::fmt::Display) -> BookError {
    BookError::corrupt(part, e.to_string())
}

fn write_package(
    pkg: &Package,
    replaced: &HashMap<String, Vec<u8>>,
    removed: &BTreeSet<String>,
    added: &[(String, Vec<u8>)],
) -> Result<Vec<u8>> {
    let mut archive =
        ZipArchive::new(Cursor::new(&pkg.bytes()[..])).map_err(|e| BookError::NotAPackage(e.to_string()))?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(pkg.bytes().len() + 4096)));
    // Level 1: rewritten parts are a small share of most saves, and the fastest level costs a
    // few percent of size against several times the speed of the default.
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(false);
    let werr = |e: zip::result::ZipError| BookError::Engine(format!("zip write: {e}"));
    for entry in pkg.entries() {
        if removed.contains(&entry.name) {
            continue;
        }
        if let Some(data) = replaced.get(&entry.name) {
            writer.start_file(entry.name.clone(), opts).map_err(werr)?;
            writer.write_all(data).map_err(|e| BookError::Engine(e.to_string()))?;
        } else {
            let file = archive.by_index_raw(entry.index).map_err(|e| BookError::corrupt(&entry.name, e.to_string()))?;
            writer.raw_copy_file(file).map_err(werr)?;
        }
    }
    for (name, data) in added {
        writer.start_file(name.clone(), opts).map_err(werr)?;
        writer.write_all(data).map_err(|e| BookError::Engine(e.to_string()))?;
    }
    Ok(writer.finish().map_err(werr)?.into_inner())
}
