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
use crate::package::{normalize, rels_part_name, Package};
use crate::value::Value;
use crate::xml::escape;

const SST_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml";
const SST_REL_TYPE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings";
const SST_REL_TYPE_STRICT: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships/sharedStrings";

/// How one cell changes in the sheet XML.
enum Patch {
    /// The whole `<c>` element is replaced (empty string: removed).
    Full(String),
    /// Only the cached result changes: new `t` attribute (None = number) and `<v>` text.
    Refresh { t: Option<&'static str>, v: String },
}

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
    let mut copied_rows: HashMap<usize, (Vec<u8>, Vec<model::CopiedSpan>)> = HashMap::new();
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
            crate::shift_xml::set_merges(d, &sheet.part, &sheet.merges)
        })?;
        per_sheet.entry(si).or_default();
    }
    // Rows or columns hidden or shown: the rows' `hidden` and the sheet's `<cols>` follow the model.
    for si in wb.changes.hidden_changed.clone() {
        rewrite_sheet(wb, si, &mut shifted, &mut new_sheets, |sheet, d| {
            let rows = crate::hidden_xml::set_hidden_rows(d, &sheet.part, &sheet.hidden_rows)?;
            crate::hidden_xml::set_hidden_cols(&rows, &sheet.part, &sheet.hidden_cols)
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
        let bytes = keep_bom(&base, |d| crate::shift_xml::remove_table_part(d, &sheet_part, &rel.id))?;
        wb.model.sheets[si].features =
            model::verify_sheet_xml_except(&bytes, &sheet_part, &wb.model.shared_strings, &[], &[])?;
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
                .unwrap_or_else(|| EMPTY_RELS.as_bytes().to_vec()),
        };
        let text = String::from_utf8_lossy(&rels).into_owned();
        let rel_id = (1u32..)
            .map(|n| format!("rIdTable{n}"))
            .find(|id| !text.contains(&format!("\"{id}\"")))
            .unwrap_or_default();
        let target = relative_target(&sheet_part, &t.part);
        let rel_type = if wb.model.strict { TABLE_REL_TYPE_STRICT } else { TABLE_REL_TYPE };
        let rel = format!("<Relationship Id=\"{rel_id}\" Type=\"{rel_type}\" Target=\"{}\"/>", escape(&target));
        let rels = insert_before_last_close(&text, &rel).into_bytes();
        if wb.pkg.entry(&rels_name).is_some() {
            replaced.insert(real_name(wb.pkg, &rels_name), rels);
        } else {
            added.retain(|(n, _)| !n.eq_ignore_ascii_case(&rels_name));
            added.push((rels_name.clone(), rels));
        }
        let rel_ns = if wb.model.strict { REL_NS_STRICT } else { REL_NS };
        rewrite_sheet(wb, si, &mut shifted, &mut new_sheets, |sheet, d| {
            crate::shift_xml::add_table_part(d, &sheet.part, &rel_id, rel_ns)
        })?;
        let ct = current(wb.pkg, &replaced, "[Content_Types].xml")?;
        replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), add_override(&ct, &t.part, TABLE_CONTENT_TYPE));
        added.push((t.part.clone(), crate::shift_xml::new_table_part(&t, wb.model.strict)));
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
        let remapped = keep_bom(&xml, |d| crate::shift_xml::remap_local_sheets(d, &wb_part, &new_index))?;
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
    use crate::shift::Change;
    use crate::shift_xml::{shift_part, PartKind};
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
            let counts = model::verify_sheet_xml_except(&bytes, &sheet.part, &wb.model.shared_strings, &[], &[])?;
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
        let bytes = keep_bom(&xml, |d| crate::shift_xml::write_table_part(d, &part, t, fates, totals_added))?;
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
    let counts = model::verify_sheet_xml_except(&bytes, &sheet.part, &wb.model.shared_strings, &[], &[])?;
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

fn number_text(n: f64) -> String {
    let a = n.abs();
    if a == 0.0 || (1e-6..1e16).contains(&a) {
        format!("{n}")
    } else {
        format!("{n:E}")
    }
}

/// `t` attribute and `<v>` text for a formula result.
fn result_xml(v: &Value) -> (Option<&'static str>, String) {
    match v {
        Value::Empty => (Some("str"), String::new()),
        Value::Number(n) => (None, number_text(*n)),
        Value::Text(s) => (Some("str"), escape(s).into_owned()),
        Value::Bool(b) => (Some("b"), if *b { "1" } else { "0" }.into()),
        Value::Error(e) => (Some("e"), e.as_str().into()),
    }
}

fn cell_xml(wb: &mut SaveInput<'_>, row: u32, col: u32, style: u32, formula: Option<&str>, value: &Value) -> String {
    let r = cell_name(row, col);
    let s = if style != 0 { format!(" s=\"{style}\"") } else { String::new() };
    match formula {
        Some(f) => {
            let (t, v) = result_xml(value);
            let t = t.map(|t| format!(" t=\"{t}\"")).unwrap_or_default();
            format!("<c r=\"{r}\"{s}{t}><f>{}</f><v>{v}</v></c>", escape(f))
        }
        None => match value {
            Value::Empty if style == 0 => String::new(),
            Value::Empty => format!("<c r=\"{r}\"{s}/>"),
            Value::Number(n) => format!("<c r=\"{r}\"{s}><v>{}</v></c>", number_text(*n)),
            Value::Text(text) => {
                let idx = wb.shared_string(text);
                format!("<c r=\"{r}\"{s} t=\"s\"><v>{idx}</v></c>")
            }
            Value::Bool(b) => format!("<c r=\"{r}\"{s} t=\"b\"><v>{}</v></c>", u8::from(*b)),
            Value::Error(e) => format!("<c r=\"{r}\"{s} t=\"e\"><v>{}</v></c>", e.as_str()),
        },
    }
}

fn xml_err(part: &str, e: impl std::fmt::Display) -> BookError {
    BookError::corrupt(part, e.to_string())
}

fn attr_value<'a>(e: &'a quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<std::borrow::Cow<'a, str>> {
    crate::xml::attr_cow(e, key)
}

/// Rewrites a start tag without the named attributes, optionally appending new ones.
fn rebuild_start(raw: &[u8], drop: &[&[u8]], extra: &str, self_closing: bool) -> Vec<u8> {
    // raw is `<name attr="..." ...>` or `<name .../>`.
    let text = String::from_utf8_lossy(raw);
    let inner = text.trim_start_matches('<').trim_end_matches('>').trim_end_matches('/').trim_end();
    let (name, attrs) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let mut out = format!("<{name}");
    for (k, v) in split_attrs(attrs) {
        if drop.contains(&k.as_bytes()) {
            continue;
        }
        out.push(' ');
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
    }
    out.push_str(extra);
    out.push_str(if self_closing { "/>" } else { ">" });
    out.into_bytes()
}

/// Splits raw attribute text into (name, quoted value) pairs, values kept as written.
fn split_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[ks..i];
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'=') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let q = b[i];
        let vs = i;
        i += 1;
        while i < b.len() && b[i] != q {
            i += 1;
        }
        i += 1;
        if !key.is_empty() {
            out.push((key.to_string(), s[vs..i.min(s.len())].to_string()));
        }
    }
    out
}

/// Streams a worksheet, replacing, refreshing and inserting `<c>` elements in document order.
fn patch_sheet(
    data: &[u8],
    part: &str,
    patches: &BTreeMap<(u32, u32), Patch>,
) -> Result<(Vec<u8>, Vec<model::CopiedSpan>)> {
    // The reader starts again after each row copied without reading it; `base` is where.
    let sheet_reader = |from: usize| {
        let mut r = Reader::from_reader(&data[from..]);
        r.config_mut().trim_text(false);
        r.config_mut().check_end_names = false;
        // Restarted after a copied row, it meets the ends of elements opened before.
        r.config_mut().allow_unmatched_ends = true;
        r
    };
    let mut reader = sheet_reader(0);
    let mut base = 0usize;
    let mut copied: Vec<model::CopiedSpan> = Vec::new();
    let rows_with_patches: BTreeSet<u32> = patches.keys().map(|k| k.0).collect();
    let mut out: Vec<u8> = Vec::with_capacity(data.len() + patches.len() * 48);
    // New cells (Full patches) not yet met in the file, in (row, col) order.
    let mut pending: BTreeMap<(u32, u32), &str> = patches
        .iter()
        .filter_map(|(k, p)| if let Patch::Full(x) = p { Some((*k, x.as_str())) } else { None })
        .collect();
    let rows_with_new: BTreeSet<u32> = pending.keys().map(|k| k.0).collect();
    let mut prefix = String::new();
    let (mut close_cell, mut close_row) = (String::from("</c>"), String::from("</row>"));
    let mut in_sheet_data = false;
    let mut row: u32 = 0;
    let mut next_row: u32 = 0;
    let mut next_col: u32 = 0;
    let mut last = 0usize;
    let grown = new_dimension(data, patches);

    let flush_rows_before =
        |out: &mut Vec<u8>, pending: &mut BTreeMap<(u32, u32), &str>, limit: Option<u32>, prefix: &str| {
            // Only the rows before `limit`: this runs at every row of the sheet.
            let due = match limit {
                Some(l) => pending.range(..(l, 0)).next().is_some(),
                None => !pending.is_empty(),
            };
            if !due {
                return;
            }
            let keys: Vec<(u32, u32)> = match limit {
                Some(l) => pending.range(..(l, 0)).map(|(k, _)| *k).collect(),
                None => pending.keys().copied().collect(),
            };
            if keys.is_empty() {
                return;
            }
            let mut current: Option<u32> = None;
            let mut row_buf = String::new();
            for k in keys {
                let xml = pending.remove(&k).unwrap_or_default();
                if current != Some(k.0) {
                    if let Some(r) = current {
                        if !row_buf.is_empty() {
                            out.extend_from_slice(
                                format!("<{prefix}row r=\"{}\">{row_buf}</{prefix}row>", r + 1).as_bytes(),
                            );
                        }
                    }
                    current = Some(k.0);
                    row_buf.clear();
                }
                row_buf.push_str(&with_prefix(xml, prefix));
            }
            if let Some(r) = current {
                if !row_buf.is_empty() {
                    out.extend_from_slice(format!("<{prefix}row r=\"{}\">{row_buf}</{prefix}row>", r + 1).as_bytes());
                }
            }
        };
    let flush_cells = |out: &mut Vec<u8>,
                       pending: &mut BTreeMap<(u32, u32), &str>,
                       row: u32,
                       col_limit: Option<u32>,
                       prefix: &str| {
        // This runs at every cell: nothing to collect in the usual case.
        let first_due = pending.range((row, 0)..=(row, u32::MAX)).next().map(|(k, _)| k.1);
        if first_due.is_none_or(|c| col_limit.is_some_and(|l| c >= l)) {
            return;
        }
        let keys: Vec<(u32, u32)> = pending
            .range((row, 0)..=(row, u32::MAX))
            .map(|(k, _)| *k)
            .filter(|k| col_limit.is_none_or(|l| k.1 < l))
            .collect();
        for k in keys {
            let xml = pending.remove(&k).unwrap_or_default();
            out.extend_from_slice(with_prefix(xml, prefix).as_bytes());
        }
    };

    loop {
        let start = base + reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| xml_err(part, e))?;
        let end = base + reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                match crate::xml::local(e) {
                    b"dimension" => {
                        if let Some(area) = grown {
                            out.extend_from_slice(&data[last..start]);
                            let extra = format!(" ref=\"{}\"", area.to_a1());
                            out.extend_from_slice(&rebuild_start(&data[start..end], &[b"ref"], &extra, empty));
                            last = end;
                        }
                    }
                    b"sheetData" => {
                        let qname = e.name().into_inner().to_string();
                        prefix = qname.strip_suffix("sheetData").unwrap_or("").to_string();
                        close_cell = format!("</{prefix}c>");
                        close_row = format!("</{prefix}row>");
                        if empty {
                            out.extend_from_slice(&data[last..start]);
                            out.extend_from_slice(&rebuild_start(&data[start..end], &[], "", false));
                            flush_rows_before(&mut out, &mut pending, None, &prefix);
                            out.extend_from_slice(format!("</{prefix}sheetData>").as_bytes());
                            last = end;
                        } else {
                            in_sheet_data = true;
                        }
                    }
                    b"row" if in_sheet_data => {
                        row = match attr_value(e, b"r").and_then(|v| v.parse::<u32>().ok()) {
                            Some(n) if n >= 1 => n - 1,
                            _ => next_row,
                        };
                        next_row = row + 1;
                        next_col = 0;
                        out.extend_from_slice(&data[last..start]);
                        flush_rows_before(&mut out, &mut pending, Some(row), &prefix);
                        // A row with nothing to patch is copied whole without reading its cells
                        // (most rows of a large sheet); the loss guard checks the copy.
                        if !empty && !rows_with_patches.contains(&row) {
                            if let Some(row_end) = end_of_element(data, end, &close_row) {
                                copy_whole(&mut out, &mut copied, data, start..row_end);
                                last = row_end;
                                base = row_end;
                                reader = sheet_reader(row_end);
                                continue;
                            }
                        }
                        let has_new = rows_with_new.contains(&row);
                        if has_new {
                            // `spans` is a hint that new cells could contradict.
                            out.extend_from_slice(&rebuild_start(&data[start..end], &[b"spans"], "", false));
                            if empty {
                                flush_cells(&mut out, &mut pending, row, None, &prefix);
                                out.extend_from_slice(format!("</{prefix}row>").as_bytes());
                            }
                        } else {
                            out.extend_from_slice(&data[start..end]);
                        }
                        last = end;
                        // The cells before the row's first patched one are copied whole, found
                        // by the patched cell's address rather than read one by one.
                        if !empty && !has_new {
                            if let Some(jump) = first_patched_cell(data, end, row, patches, &prefix, &close_row) {
                                copy_whole(&mut out, &mut copied, data, end..jump);
                                last = jump;
                                base = jump;
                                reader = sheet_reader(jump);
                            }
                        }
                    }
                    b"c" if in_sheet_data => {
                        // As when reading: a missing or unreadable `r` means the next cell.
                        let (r, c) = attr_value(e, b"r").and_then(|a| parse_cell_name(&a)).unwrap_or((row, next_col));
                        next_col = c + 1;
                        out.extend_from_slice(&data[last..start]);
                        flush_cells(&mut out, &mut pending, r, Some(c), &prefix);
                        let patch = patches.get(&(r, c));
                        if patch.is_none() {
                            // A cell with nothing to patch is copied whole without reading its
                            // children; the loss guard checks the copy.
                            let cell_end = if empty { Some(end) } else { end_of_element(data, end, &close_cell) };
                            let Some(cell_end) = cell_end else {
                                // Copied as it is with what follows; its children are not ours.
                                last = start;
                                continue;
                            };
                            copy_whole(&mut out, &mut copied, data, start..cell_end);
                            last = cell_end;
                            if !empty {
                                base = cell_end;
                                reader = sheet_reader(cell_end);
                            }
                            continue;
                        }
                        let elem_end = if empty {
                            end
                        } else if let Some(cell_end) = end_of_element(data, end, &close_cell) {
                            base = cell_end;
                            reader = sheet_reader(cell_end);
                            cell_end
                        } else {
                            reader.read_to_end(e.name()).map_err(|er| xml_err(part, er))?;
                            base + reader.buffer_position() as usize
                        };
                        match patch {
                            Some(Patch::Full(_)) => {
                                if let Some(xml) = pending.remove(&(r, c)) {
                                    out.extend_from_slice(with_prefix(xml, &prefix).as_bytes());
                                }
                            }
                            Some(Patch::Refresh { t, v }) => {
                                out.extend_from_slice(&refresh_cell(
                                    &data[start..elem_end],
                                    &data[start..end],
                                    empty,
                                    *t,
                                    v,
                                    &prefix,
                                ));
                            }
                            None => out.extend_from_slice(&data[start..elem_end]),
                        }
                        last = elem_end;
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
                let lname = local_end(e.name().into_inner().as_bytes());
                if in_sheet_data && lname == b"row" {
                    out.extend_from_slice(&data[last..start]);
                    flush_cells(&mut out, &mut pending, row, None, &prefix);
                    out.extend_from_slice(&data[start..end]);
                    last = end;
                } else if lname == b"sheetData" {
                    in_sheet_data = false;
                    out.extend_from_slice(&data[last..start]);
                    flush_rows_before(&mut out, &mut pending, None, &prefix);
                    out.extend_from_slice(&data[start..end]);
                    last = end;
                }
            }
            _ => {}
        }
    }
    out.extend_from_slice(&data[last..]);
    if pending.values().any(|x| !x.is_empty()) {
        return Err(xml_err(part, "worksheet has no sheetData to hold new cells"));
    }
    Ok((out, copied))
}

/// The end of the element whose start tag ends at `from`: just past its first `close` tag
/// (`</row>`, `</c>`, with the sheet's prefix; neither element nests in itself). `None` where a
/// byte search could be misled (a CDATA section or a comment inside), so that it is read instead.
fn end_of_element(data: &[u8], from: usize, close: &str) -> Option<usize> {
    let at = from + memchr::memmem::find(&data[from..], close.as_bytes())?;
    if memchr::memmem::find(&data[from..at], b"<!").is_some() {
        return None;
    }
    Some(at + close.len())
}

/// Where the first patched cell of `row` starts, searched by its address in the row whose start
/// tag ends at `from`; `None` (read the row instead) unless it is plainly a cell start tag with
/// that `r` and nothing in the row could mislead a byte search.
fn first_patched_cell(
    data: &[u8],
    from: usize,
    row: u32,
    patches: &BTreeMap<(u32, u32), Patch>,
    prefix: &str,
    close_row: &str,
) -> Option<usize> {
    let (&(r, c), _) = patches.range((row, 0)..=(row, u32::MAX)).next()?;
    let inside = &data[from..from + memchr::memmem::find(&data[from..], close_row.as_bytes())?];
    if memchr::memmem::find(inside, b"<!").is_some() {
        return None;
    }
    let at = memchr::memmem::find(inside, format!(" r=\"{}\"", cell_name(r, c)).as_bytes())?;
    let lt = inside[..at].iter().rposition(|&b| b == b'<')?;
    let tag = format!("<{prefix}c");
    let plain_cell_tag = inside[lt..].starts_with(tag.as_bytes())
        && matches!(inside.get(lt + tag.len()), Some(b' ' | b'\t' | b'\r' | b'\n'))
        && !inside[lt..at].contains(&b'>');
    plain_cell_tag.then_some(from + lt)
}

/// Copies `data[orig]` to the output as it is and notes the copy for the loss guard, joined to
/// the previous one when it follows it on both sides.
fn copy_whole(out: &mut Vec<u8>, copied: &mut Vec<model::CopiedSpan>, data: &[u8], orig: std::ops::Range<usize>) {
    let start = out.len();
    out.extend_from_slice(&data[orig.clone()]);
    match copied.last_mut() {
        Some(c) if c.out.end == start && c.orig.end == orig.start => {
            c.out.end = out.len();
            c.orig.end = orig.end;
        }
        _ => copied.push(model::CopiedSpan { out: start..out.len(), orig }),
    }
}

fn local_end(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// New cells are written unprefixed; sheets that prefix the main namespace get the prefix.
fn with_prefix(xml: &str, prefix: &str) -> String {
    if prefix.is_empty() || xml.is_empty() {
        return xml.to_string();
    }
    xml.replace("<c ", &format!("<{prefix}c "))
        .replace("</c>", &format!("</{prefix}c>"))
        .replace("<f>", &format!("<{prefix}f>"))
        .replace("</f>", &format!("</{prefix}f>"))
        .replace("<v>", &format!("<{prefix}v>"))
        .replace("</v>", &format!("</{prefix}v>"))
}

/// The `<dimension>` a sheet needs after new cells, if it grows.
fn new_dimension(data: &[u8], patches: &BTreeMap<(u32, u32), Patch>) -> Option<Area> {
    let new_cells: Vec<(u32, u32)> =
        patches.iter().filter(|(_, p)| matches!(p, Patch::Full(x) if !x.is_empty())).map(|(k, _)| *k).collect();
    if new_cells.is_empty() {
        return None;
    }
    let mut reader = Reader::from_reader(data);
    let old: Option<Area>;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let l = crate::xml::local(&e).to_vec();
                if l == b"dimension" {
                    old = attr_value(&e, b"ref").and_then(|r| Area::parse_a1(&r).ok());
                    break;
                }
                if l == b"sheetData" {
                    return None;
                }
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
    let old = old?;
    let (mut r1, mut c1, mut r2, mut c2) = (old.first_row, old.first_col, old.last_row, old.last_col);
    // `A1` is what writers put on empty sheets.
    let was_empty = old.is_single_cell() && old.first_row == 0 && old.first_col == 0;
    if was_empty {
        (r1, c1, r2, c2) = (new_cells[0].0, new_cells[0].1, new_cells[0].0, new_cells[0].1);
    }
    for (r, c) in new_cells {
        r1 = r1.min(r);
        c1 = c1.min(c);
        r2 = r2.max(r);
        c2 = c2.max(c);
    }
    let area = Area::cells(r1, c1, r2, c2);
    (area != Area::cells(old.first_row, old.first_col, old.last_row, old.last_col)).then_some(area)
}

/// Rewrites a formula cell's `t` and `<v>`, keeping its `<f>` and every other child as written.
fn refresh_cell(elem: &[u8], start_tag: &[u8], empty: bool, t: Option<&str>, v: &str, prefix: &str) -> Vec<u8> {
    let extra = t.map(|t| format!(" t=\"{t}\"")).unwrap_or_default();
    let mut out = rebuild_start(start_tag, &[b"t"], &extra, false);
    let vtag = format!("<{prefix}v>{v}</{prefix}v>");
    if empty {
        out.extend_from_slice(vtag.as_bytes());
        out.extend_from_slice(format!("</{prefix}c>").as_bytes());
        return out;
    }
    // Children between the start tag and `</c>`: copy all but <v>, put the new <v> after <f>.
    let inner = &elem[start_tag.len()..];
    let close = inner.len() - inner.iter().rev().position(|&b| b == b'<').map_or(0, |p| p + 1);
    let children = &inner[..close];
    let mut reader = Reader::from_reader(children);
    let mut wrote_v = false;
    let mut last = 0usize;
    let mut depth = 0usize;
    loop {
        let s = reader.buffer_position() as usize;
        let Ok(ev) = reader.read_event() else { break };
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) if depth == 0 => {
                let is_empty = matches!(ev, Event::Empty(_));
                let l: &[u8] = crate::xml::local(e);
                let elem_end = if is_empty {
                    e_pos
                } else {
                    let _ = reader.read_to_end(e.name());
                    reader.buffer_position() as usize
                };
                out.extend_from_slice(&children[last..s]);
                if l == b"v" {
                    // The new value goes once: after `<f>` (already written) or here.
                    if !wrote_v {
                        out.extend_from_slice(vtag.as_bytes());
                        wrote_v = true;
                    }
                } else if l == b"is" {
                    // A formula result is never an inline string.
                } else {
                    out.extend_from_slice(&children[s..elem_end]);
                    if l == b"f" && !wrote_v {
                        out.extend_from_slice(vtag.as_bytes());
                        wrote_v = true;
                    }
                }
                last = elem_end;
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out.extend_from_slice(&children[last..]);
    if !wrote_v {
        out.extend_from_slice(vtag.as_bytes());
    }
    out.extend_from_slice(&inner[close..]);
    out
}

fn append_shared_strings(original: &[u8], part: &str, new: &[String], total: usize) -> Result<Vec<u8>> {
    // Find the root element (`<sst>` possibly prefixed, possibly self-closing) and its closing tag.
    let mut reader = Reader::from_reader(original);
    let mut root: Option<(usize, usize, bool, String)> = None;
    let mut depth = 0usize;
    let mut close_at: Option<usize> = None;
    loop {
        let s = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| xml_err(part, e))?;
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                if root.is_none() {
                    root = Some((s, e_pos, empty, e.name().into_inner().to_string()));
                    if empty {
                        break;
                    }
                    depth = 1;
                } else if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    close_at = Some(s);
                    break;
                }
            }
            _ => {}
        }
    }
    let (root_start, root_end, self_closing, root_name) = root.ok_or_else(|| xml_err(part, "no sst element"))?;
    let prefix = root_name.strip_suffix("sst").unwrap_or("");
    let mut items = String::new();
    for s in new {
        items.push_str(&format!(
            "<{prefix}si><{prefix}t xml:space=\"preserve\">{}</{prefix}t></{prefix}si>",
            escape_sst(s)
        ));
    }
    let new_tag = rebuild_start(
        &original[root_start..root_end],
        &[b"count", b"uniqueCount"],
        &format!(" count=\"{total}\" uniqueCount=\"{total}\""),
        false,
    );
    let mut out = Vec::with_capacity(original.len() + items.len() + 64);
    out.extend_from_slice(&original[..root_start]);
    out.extend_from_slice(&new_tag);
    if self_closing {
        out.extend_from_slice(items.as_bytes());
        out.extend_from_slice(format!("</{root_name}>").as_bytes());
        out.extend_from_slice(&original[root_end..]);
    } else {
        let close = close_at.ok_or_else(|| xml_err(part, "sst element is not closed"))?;
        out.extend_from_slice(&original[root_end..close]);
        out.extend_from_slice(items.as_bytes());
        out.extend_from_slice(&original[close..]);
    }
    Ok(out)
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Runs an XML rewrite on a part without its byte-order mark, then puts the mark back: the
/// rewrites slice the input by reader positions, which a BOM would shift.
fn keep_bom(data: &[u8], rewrite: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    match data.strip_prefix(UTF8_BOM) {
        Some(rest) => {
            let mut out = UTF8_BOM.to_vec();
            out.extend(rewrite(rest)?);
            Ok(out)
        }
        None => rewrite(data),
    }
}

fn keep_bom_infallible(data: &[u8], rewrite: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
    keep_bom(data, |d| Ok(rewrite(d))).unwrap_or_else(|_| data.to_vec())
}

fn escape_sst(s: &str) -> String {
    // A literal `_xHHHH_` in user text must not be read back as an escape.
    let guarded = if s.contains("_x") { s.replace("_x", "_x005F_x") } else { s.to_string() };
    escape(&guarded).into_owned()
}

fn create_shared_strings(
    wb: &mut SaveInput<'_>,
    replaced: &mut HashMap<String, Vec<u8>>,
    added: &mut Vec<(String, Vec<u8>)>,
) -> Result<String> {
    let wb_part = wb.model.workbook_part.clone();
    let dir = wb_part.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default();
    let part = if dir.is_empty() { "sharedStrings.xml".to_string() } else { format!("{dir}/sharedStrings.xml") };
    if wb.pkg.entry(&part).is_some() {
        return Err(BookError::corrupt(&part, "exists but is not the workbook's shared string table"));
    }
    let ns = if wb.model.strict {
        "http://purl.oclc.org/ooxml/spreadsheetml/main"
    } else {
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    };
    let empty = format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<sst xmlns=\"{ns}\" count=\"0\" uniqueCount=\"0\"></sst>");
    let total = wb.changes.new_strings.len();
    let xml = append_shared_strings(empty.as_bytes(), &part, &wb.changes.new_strings, total)?;
    added.push((part.clone(), xml));
    // Relationship from the workbook.
    let rels_name = rels_part_name(&wb_part);
    let rels_xml = current(wb.pkg, replaced, &rels_name)?;
    let rel_type = if wb.model.strict { SST_REL_TYPE_STRICT } else { SST_REL_TYPE };
    replaced.insert(real_name(wb.pkg, &rels_name), add_relationship(&rels_xml, rel_type, "sharedStrings.xml"));
    let ct = current(wb.pkg, replaced, "[Content_Types].xml")?;
    replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), add_override(&ct, &part, SST_CONTENT_TYPE));
    Ok(part)
}

const TABLE_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml";
const TABLE_REL_TYPE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table";
const TABLE_REL_TYPE_STRICT: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships/table";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const REL_NS_STRICT: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships";
const EMPTY_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"></Relationships>";

/// `to` as a relationship target from `from`'s folder (`xl/worksheets/sheet1.xml` to
/// `xl/tables/table1.xml` is `../tables/table1.xml`).
fn relative_target(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let from_dir = &from_dir[..from_dir.len().saturating_sub(1)];
    let to_parts: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = from_dir.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; from_dir.len() - common];
    out.extend_from_slice(&to_parts[common..]);
    out.join("/")
}

const WORKSHEET_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
const WORKSHEET_REL_TYPE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const WORKSHEET_REL_TYPE_STRICT: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships/worksheet";

/// A new, empty worksheet part.
fn empty_worksheet(strict: bool) -> String {
    let (main, rels) = if strict {
        ("http://purl.oclc.org/ooxml/spreadsheetml/main", "http://purl.oclc.org/ooxml/officeDocument/relationships")
    } else {
        (
            "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"{main}\" \
         xmlns:r=\"{rels}\"><dimension ref=\"A1\"/><sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>\
         <sheetFormatPr defaultRowHeight=\"15\"/><sheetData/></worksheet>"
    )
}

/// Adds the parts of new sheets (with their relationships from the workbook and their content
/// types) and writes workbook.xml's `<sheets>` from the model: existing `<sheet>` elements keep
/// their attributes except the ones the model changed, new ones are written like them.
fn write_sheet_list(
    wb: &SaveInput<'_>,
    new_sheets: BTreeMap<usize, Vec<u8>>,
    replaced: &mut HashMap<String, Vec<u8>>,
    added: &mut Vec<(String, Vec<u8>)>,
    removed: &mut BTreeSet<String>,
) -> Result<()> {
    let wb_part = wb.model.workbook_part.clone();
    let dir = wb_part.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
    // Deleted sheets: their parts, and the parts only they used (tables, comments), go with
    // their relationships and content types.
    for sheet in &wb.changes.deleted_sheets {
        let Some(entry) = wb.pkg.entry(&sheet.part) else { continue };
        let mut gone = vec![entry.name.clone()];
        let sheet_rels = rels_part_name(&entry.name);
        if let Some(e) = wb.pkg.entry(&sheet_rels) {
            gone.push(e.name.clone());
            for r in wb.pkg.rels(&entry.name)? {
                let own = ["/table", "/comments", "/threadedComment", "/printerSettings"];
                if !r.external && own.iter().any(|t| r.rel_type.ends_with(t)) {
                    if let Some(e) = wb.pkg.entry(&r.target) {
                        gone.push(e.name.clone());
                    }
                }
            }
        }
        let rels_name = rels_part_name(&wb_part);
        let rels = current(wb.pkg, replaced, &rels_name)?;
        replaced.insert(
            real_name(wb.pkg, &rels_name),
            keep_bom_infallible(&rels, |d| remove_relationship(d, &sheet.rel_id)),
        );
        let mut ct = current(wb.pkg, replaced, "[Content_Types].xml")?;
        for part in &gone {
            ct = keep_bom_infallible(&ct, |d| remove_override(d, part));
        }
        replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), ct);
        removed.extend(gone);
    }
    if !new_sheets.is_empty() {
        let rels_name = rels_part_name(&wb_part);
        let mut rels = String::from_utf8_lossy(&current(wb.pkg, replaced, &rels_name)?).into_owned();
        let mut ct = current(wb.pkg, replaced, "[Content_Types].xml")?;
        let rel_type = if wb.model.strict { WORKSHEET_REL_TYPE_STRICT } else { WORKSHEET_REL_TYPE };
        for (si, bytes) in new_sheets {
            let sheet = &wb.model.sheets[si];
            let target = sheet.part.strip_prefix(&dir).unwrap_or(&sheet.part);
            let rel = format!(
                "<Relationship Id=\"{}\" Type=\"{rel_type}\" Target=\"{}\"/>",
                escape(&sheet.rel_id),
                escape(target)
            );
            rels = insert_before_last_close(&rels, &rel);
            ct = add_override(&ct, &sheet.part, WORKSHEET_CONTENT_TYPE);
            added.push((sheet.part.clone(), bytes));
        }
        replaced.insert(real_name(wb.pkg, &rels_name), rels.into_bytes());
        replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), ct);
    }
    let xml = current(wb.pkg, replaced, &wb_part)?;
    let rewritten = keep_bom(&xml, |d| rewrite_sheets_element(d, &wb_part, &wb.model.sheets))?;
    replaced.insert(real_name(wb.pkg, &wb_part), rewritten);
    Ok(())
}

/// Whether a `<sheet>` start tag already says the sheet's name and visibility.
fn sheet_element_matches(raw: &str, sheet: &model::Sheet) -> bool {
    let mut reader = Reader::from_str(raw);
    let Ok(Event::Empty(e)) = reader.read_event() else { return false };
    let state = attr_value(&e, b"state");
    let visibility = match state.as_deref() {
        Some("hidden") => model::Visibility::Hidden,
        Some("veryHidden") => model::Visibility::VeryHidden,
        _ => model::Visibility::Visible,
    };
    attr_value(&e, b"name").as_deref() == Some(sheet.name.as_str()) && visibility == sheet.visibility
}

fn rewrite_sheets_element(xml: &[u8], part: &str, sheets: &[model::Sheet]) -> Result<Vec<u8>> {
    let mut reader = Reader::from_reader(xml);
    let (mut inner_start, mut inner_end) = (None, None);
    // Each existing `<sheet>`: its relationship id and its start tag, written self-closing.
    let mut existing: Vec<(String, String)> = Vec::new();
    let (mut element_name, mut rel_attr) = ("sheet".to_string(), "r:id".to_string());
    loop {
        let s = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| xml_err(part, e))?;
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Start(ref e) if crate::xml::local(e) == b"sheets" && inner_start.is_none() => {
                inner_start = Some(e_pos)
            }
            Event::End(ref e) if local_end(e.name().into_inner().as_bytes()) == b"sheets" && inner_end.is_none() => {
                inner_end = Some(s);
                break;
            }
            Event::Empty(ref e) | Event::Start(ref e) if crate::xml::local(e) == b"sheet" && inner_start.is_some() => {
                element_name = e.name().into_inner().to_string();
                for a in e.attributes().with_checks(false).flatten() {
                    let key = a.key.into_inner();
                    if key.ends_with(":id") && !key.starts_with("xmlns") {
                        rel_attr = key.to_string();
                    }
                }
                let id = crate::xml::rel_id(e).unwrap_or_default();
                existing.push((id, String::from_utf8_lossy(&xml[s..e_pos]).into_owned()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let (Some(from), Some(to)) = (inner_start, inner_end) else {
        return Err(xml_err(part, "the workbook has no <sheets> element"));
    };
    let mut inner = String::new();
    for sheet in sheets {
        let state = match sheet.visibility {
            model::Visibility::Visible => String::new(),
            model::Visibility::Hidden => " state=\"hidden\"".to_string(),
            model::Visibility::VeryHidden => " state=\"veryHidden\"".to_string(),
        };
        match existing.iter().find(|(id, _)| *id == sheet.rel_id) {
            // Unchanged: the element as it was written.
            Some((_, raw)) if raw.ends_with("/>") && sheet_element_matches(raw, sheet) => inner.push_str(raw),
            Some((_, raw)) => {
                let name = format!(" name=\"{}\"", escape(&sheet.name));
                let tag = rebuild_start(raw.as_bytes(), &[b"state", b"name"], &format!("{name}{state}"), true);
                inner.push_str(&String::from_utf8_lossy(&tag));
            }
            None => inner.push_str(&format!(
                "<{element_name} name=\"{}\" sheetId=\"{}\"{state} {rel_attr}=\"{}\"/>",
                escape(&sheet.name),
                sheet.sheet_id,
                escape(&sheet.rel_id)
            )),
        }
    }
    let mut out = Vec::with_capacity(xml.len() + inner.len());
    out.extend_from_slice(&xml[..from]);
    out.extend_from_slice(inner.as_bytes());
    out.extend_from_slice(&xml[to..]);
    Ok(out)
}

fn add_relationship(rels: &[u8], rel_type: &str, target: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(rels);
    let mut n = 1;
    while text.contains(&format!("Id=\"rIdWb{n}\"")) {
        n += 1;
    }
    let rel = format!("<Relationship Id=\"rIdWb{n}\" Type=\"{rel_type}\" Target=\"{target}\"/>");
    insert_before_last_close(&text, &rel).into_bytes()
}

fn insert_before_last_close(text: &str, insert: &str) -> String {
    match text.rfind("</") {
        Some(p) => format!("{}{insert}{}", &text[..p], &text[p..]),
        None => format!("{text}{insert}"),
    }
}

fn add_override(ct: &[u8], part: &str, content_type: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(ct);
    let o = format!("<Override PartName=\"/{}\" ContentType=\"{content_type}\"/>", normalize(part));
    insert_before_last_close(&text, &o).into_bytes()
}

/// Removes the element `<tag .../>` (or `<tag ...>...</tag>`) whose attribute matches.
fn remove_element_where(xml: &[u8], tag: &[u8], pred: impl Fn(&quick_xml::events::BytesStart<'_>) -> bool) -> Vec<u8> {
    let mut reader = Reader::from_reader(xml);
    let mut out = Vec::with_capacity(xml.len());
    let mut last = 0;
    loop {
        let s = reader.buffer_position() as usize;
        let Ok(ev) = reader.read_event() else { return xml.to_vec() };
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Empty(ref e) if crate::xml::local(e) == tag && pred(e) => {
                out.extend_from_slice(&xml[last..s]);
                last = e_pos;
            }
            Event::Start(ref e) if crate::xml::local(e) == tag && pred(e) => {
                out.extend_from_slice(&xml[last..s]);
                let _ = reader.read_to_end(e.name());
                last = reader.buffer_position() as usize;
            }
            _ => {}
        }
    }
    out.extend_from_slice(&xml[last..]);
    out
}

fn remove_relationship(rels: &[u8], id: &str) -> Vec<u8> {
    remove_element_where(rels, b"Relationship", |e| attr_value(e, b"Id").as_deref() == Some(id))
}

fn remove_override(ct: &[u8], part: &str) -> Vec<u8> {
    remove_element_where(ct, b"Override", |e| {
        attr_value(e, b"PartName").is_some_and(|p| normalize(&p).eq_ignore_ascii_case(normalize(part)))
    })
}

/// Sets `fullCalcOnLoad="1"` on `<calcPr>`, adding the element if the workbook has none.
fn set_full_calc_on_load(xml: &[u8]) -> Vec<u8> {
    let mut reader = Reader::from_reader(xml);
    let mut out = Vec::with_capacity(xml.len() + 32);
    let last = 0;
    let mut prefix = String::new();
    loop {
        let s = reader.buffer_position() as usize;
        let Ok(ev) = reader.read_event() else { return xml.to_vec() };
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let l: &[u8] = crate::xml::local(e);
                if l == b"workbook" {
                    let q = e.name().into_inner().to_string();
                    prefix = q.strip_suffix("workbook").unwrap_or("").to_string();
                }
                if l == b"calcPr" {
                    out.extend_from_slice(&xml[last..s]);
                    out.extend_from_slice(&rebuild_start(
                        &xml[s..e_pos],
                        &[b"fullCalcOnLoad"],
                        " fullCalcOnLoad=\"1\"",
                        matches!(ev, Event::Empty(_)),
                    ));
                    out.extend_from_slice(&xml[e_pos..]);
                    return out;
                }
            }
            Event::End(ref e) => {
                let n = e.name().into_inner().as_bytes().to_vec();
                let l = local_end(&n);
                // calcPr sits after definedNames and before oleSize/customWorkbookViews/...; placing it
                // just before the first of those that follow sheets keeps schema order.
                if l == b"workbook" {
                    out.extend_from_slice(&xml[last..s]);
                    out.extend_from_slice(format!("<{prefix}calcPr fullCalcOnLoad=\"1\"/>").as_bytes());
                    out.extend_from_slice(&xml[s..]);
                    return insert_calc_pr_in_order(out, &prefix);
                }
            }
            _ => {}
        }
        let _ = e_pos;
    }
    out.extend_from_slice(&xml[last..]);
    out
}

/// Moves a calcPr appended at the end of workbook.xml to its schema position.
fn insert_calc_pr_in_order(xml: Vec<u8>, prefix: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(&xml).into_owned();
    let calc = format!("<{prefix}calcPr fullCalcOnLoad=\"1\"/>");
    let Some(pos) = text.rfind(&calc) else { return xml };
    let without = format!("{}{}", &text[..pos], &text[pos + calc.len()..]);
    // Elements that must come after calcPr (CT_Workbook sequence).
    for after in [
        "oleSize",
        "customWorkbookViews",
        "pivotCaches",
        "smartTagPr",
        "smartTagTypes",
        "webPublishing",
        "fileRecoveryPr",
        "webPublishObjects",
        "extLst",
    ] {
        if let Some(p) = without.find(&format!("<{prefix}{after}")) {
            return format!("{}{calc}{}", &without[..p], &without[p..]).into_bytes();
        }
    }
    xml
}

fn patch_styles(
    original: &[u8],
    part: &str,
    num_fmts: &[(u32, String)],
    xfs: &[crate::changes::NewXf],
) -> Result<Vec<u8>> {
    // Raw text of each cellXfs <xf>, to clone the base style.
    let mut reader = Reader::from_reader(original);
    let mut xf_raw: Vec<(usize, usize, bool)> = Vec::new();
    let mut in_cell_xfs = false;
    let mut cell_xfs_start: Option<(usize, usize, bool)> = None;
    let mut cell_xfs_close: Option<usize> = None;
    let mut num_fmts_start: Option<(usize, usize, bool)> = None;
    let mut num_fmts_close: Option<usize> = None;
    let mut stylesheet_start_end: Option<usize> = None;
    let mut prefix = String::new();
    loop {
        let s = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| xml_err(part, e))?;
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let l = crate::xml::local(e).to_vec();
                match l.as_slice() {
                    b"styleSheet" => {
                        let q = e.name().into_inner().to_string();
                        prefix = q.strip_suffix("styleSheet").unwrap_or("").to_string();
                        stylesheet_start_end = Some(e_pos);
                    }
                    b"numFmts" => num_fmts_start = Some((s, e_pos, empty)),
                    b"cellXfs" => {
                        cell_xfs_start = Some((s, e_pos, empty));
                        in_cell_xfs = !empty;
                    }
                    b"xf" if in_cell_xfs => {
                        let end = if empty {
                            e_pos
                        } else {
                            let _ = reader.read_to_end(e.name());
                            reader.buffer_position() as usize
                        };
                        xf_raw.push((s, end, empty));
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
                let n = e.name().into_inner().as_bytes().to_vec();
                match local_end(&n) {
                    b"cellXfs" => {
                        in_cell_xfs = false;
                        cell_xfs_close = Some(s);
                    }
                    b"numFmts" => num_fmts_close = Some(s),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let (cxs, cxe, cx_empty) = cell_xfs_start.ok_or_else(|| xml_err(part, "no cellXfs"))?;
    let mut new_xf_xml = String::new();
    for x in xfs {
        let base = xf_raw.get(x.base as usize).or(xf_raw.first());
        let cloned = match base {
            Some(&(s, e, empty)) => {
                let raw = &original[s..e];
                // Start tag of the xf: up to the first '>'.
                let tag_end = raw.iter().position(|&b| b == b'>').map_or(raw.len(), |p| p + 1);
                let mut tag = rebuild_start(&raw[..tag_end], &[b"numFmtId", b"applyNumberFormat"], &format!(" numFmtId=\"{}\" applyNumberFormat=\"1\"", x.num_fmt_id), empty);
                if !empty {
                    tag.extend_from_slice(&raw[tag_end..]);
                }
                String::from_utf8_lossy(&tag).into_owned()
            }
            None => format!("<{prefix}xf numFmtId=\"{}\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>", x.num_fmt_id),
        };
        new_xf_xml.push_str(&cloned);
    }
    let mut num_fmt_xml = String::new();
    for (id, code) in num_fmts {
        num_fmt_xml.push_str(&format!("<{prefix}numFmt numFmtId=\"{id}\" formatCode=\"{}\"/>", escape(code)));
    }
    let total_xfs = xf_raw.len() + xfs.len();
    // Splice from the end backwards so earlier offsets stay valid.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let cx_tag = String::from_utf8_lossy(&rebuild_start(
        &original[cxs..cxe],
        &[b"count"],
        &format!(" count=\"{total_xfs}\""),
        false,
    ))
    .into_owned();
    if cx_empty {
        edits.push((cxs, cxe, format!("{cx_tag}{new_xf_xml}</{prefix}cellXfs>")));
    } else {
        edits.push((cxs, cxe, cx_tag));
        let close = cell_xfs_close.ok_or_else(|| xml_err(part, "unclosed cellXfs"))?;
        edits.push((close, close, new_xf_xml));
    }
    if !num_fmts.is_empty() {
        match num_fmts_start {
            Some((s, e, empty)) => {
                let existing = {
                    let mut r = Reader::from_reader(original);
                    let mut n = 0;
                    while let Ok(ev) = r.read_event() {
                        match ev {
                            Event::Eof => break,
                            Event::Start(ref x) | Event::Empty(ref x) if crate::xml::local(x) == b"numFmt" => n += 1,
                            _ => {}
                        }
                    }
                    n
                };
                let tag = String::from_utf8_lossy(&rebuild_start(
                    &original[s..e],
                    &[b"count"],
                    &format!(" count=\"{}\"", existing + num_fmts.len()),
                    false,
                ))
                .into_owned();
                if empty {
                    edits.push((s, e, format!("{tag}{num_fmt_xml}</{prefix}numFmts>")));
                } else {
                    edits.push((s, e, tag));
                    let close = num_fmts_close.ok_or_else(|| xml_err(part, "unclosed numFmts"))?;
                    edits.push((close, close, num_fmt_xml));
                }
            }
            None => {
                let at = stylesheet_start_end.ok_or_else(|| xml_err(part, "no styleSheet"))?;
                edits.push((
                    at,
                    at,
                    format!("<{prefix}numFmts count=\"{}\">{num_fmt_xml}</{prefix}numFmts>", num_fmts.len()),
                ));
            }
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    let mut out = original.to_vec();
    for (s, e, text) in edits {
        out.splice(s..e, text.into_bytes());
    }
    Ok(out)
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

/// Compares the saved package with the original: every part is still there (but those this
/// save removed on purpose), and every rewritten sheet keeps its guarded features.
fn loss_guard(
    wb: &SaveInput<'_>,
    saved: &[u8],
    written: &dyn Fn(&str) -> bool,
    strings: &[String],
    rewritten: &HashMap<usize, (Vec<u8>, Vec<model::CopiedSpan>)>,
    dropped: &BTreeSet<String>,
) -> Result<Package> {
    // Parts this save wrote are read through; copied parts are the original's compressed bytes.
    let new_pkg = Package::open_written(saved.to_vec().into(), wb.pkg.limits(), written)
        .map_err(|e| BookError::LossDetected(format!("the saved package does not reopen: {e}")))?;
    let mut lost = Vec::new();
    for entry in wb.pkg.entries() {
        if dropped.contains(&entry.name) {
            continue;
        }
        if new_pkg.entry(&entry.name).is_none() {
            lost.push(entry.name.clone());
        }
    }
    for (&si, (original, copied)) in rewritten {
        let sheet = &wb.model.sheets[si];
        let data = new_pkg.read(&sheet.part)?.ok_or_else(|| BookError::LossDetected(sheet.part.clone()))?;
        let original = original.strip_prefix(UTF8_BOM).unwrap_or(original);
        let features = model::verify_sheet_xml_except(&data, &sheet.part, strings, copied, original)
            .map_err(|e| BookError::LossDetected(format!("{} no longer parses: {e}", sheet.part)))?;
        for key in GUARDED_ELEMENTS {
            let before = sheet.features.0.get(key).copied().unwrap_or(0);
            let after = features.0.get(key).copied().unwrap_or(0);
            if after < before {
                lost.push(format!("{} {key} ({before} -> {after})", sheet.name));
            }
        }
    }
    if lost.is_empty() {
        Ok(new_pkg)
    } else {
        Err(BookError::LossDetected(lost.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHEET: &str = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row><row r="3"><c r="A3"><v>3</v></c></row><row r="4"><c r="A4"><v>4</v></c></row></sheetData></worksheet>"#;

    #[test]
    fn rows_without_patches_are_copied_whole_and_checked() {
        let mut patches = BTreeMap::new();
        patches.insert((1, 0), Patch::Full(r#"<c r="A2"><v>20</v></c>"#.into()));
        let (out, copied) = patch_sheet(SHEET.as_bytes(), "s.xml", &patches).unwrap();
        let out_text = String::from_utf8(out.clone()).unwrap();
        assert!(out_text.contains(r#"<c r="A2"><v>20</v></c>"#));
        // Row 1 is one copied span; rows 3 and 4 are merged into another.
        assert_eq!(copied.len(), 2);
        for span in &copied {
            assert_eq!(&out[span.out.clone()], &SHEET.as_bytes()[span.orig.clone()]);
        }
        assert!(out_text[copied[1].out.clone()].starts_with(r#"<row r="3">"#));
        assert!(out_text[copied[1].out.clone()].ends_with("</row>"));
        model::verify_sheet_xml_except(&out, "s.xml", &[], &copied, SHEET.as_bytes()).unwrap();
        // A copy that differs from its original is refused.
        let mut tampered = out.clone();
        let at = copied[1].out.start + 20;
        tampered[at] = b'9';
        assert!(model::verify_sheet_xml_except(&tampered, "s.xml", &[], &copied, SHEET.as_bytes()).is_err());
    }

    #[test]
    fn cells_before_the_first_patched_one_are_copied_whole() {
        let sheet = SHEET.replace(
            r#"<row r="2"><c r="A2"><v>2</v></c>"#,
            r#"<row r="2"><c r="A2"><v>2</v></c><c r="B2" t="inlineStr"><is><t>x r="C2"</t></is></c><c s="1" r="C2"><v>5</v></c>"#,
        );
        let mut patches = BTreeMap::new();
        patches.insert((1, 2), Patch::Refresh { t: None, v: "6".into() });
        let (out, copied) = patch_sheet(sheet.as_bytes(), "s.xml", &patches).unwrap();
        let out_text = String::from_utf8(out.clone()).unwrap();
        // The address inside the inline string is not taken for the cell.
        assert!(
            out_text.contains(r#"<c r="B2" t="inlineStr"><is><t>x r="C2"</t></is></c><c s="1" r="C2"><v>6</v></c>"#),
            "{out_text}"
        );
        model::verify_sheet_xml_except(&out, "s.xml", &[], &copied, sheet.as_bytes()).unwrap();
    }

    #[test]
    fn a_row_holding_a_comment_is_read_not_searched() {
        let sheet = SHEET.replace(r#"<row r="3">"#, r#"<row r="3"><!-- </row> -->"#);
        let mut patches = BTreeMap::new();
        patches.insert((0, 0), Patch::Full(r#"<c r="A1"><v>10</v></c>"#.into()));
        let (out, copied) = patch_sheet(sheet.as_bytes(), "s.xml", &patches).unwrap();
        let out_text = String::from_utf8(out).unwrap();
        assert!(out_text.contains(r#"<row r="3"><!-- </row> --><c r="A3"><v>3</v></c></row>"#));
        assert!(copied.iter().all(|s| !sheet[s.orig.clone()].contains("<!--")));
    }
}
