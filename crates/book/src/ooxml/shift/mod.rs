//! A [`Shift`] applied to the XML of package parts, keeping every byte it has no reason to
//! change: a worksheet's rows and cells (renumbered, moved, dropped), the addresses of its merged
//! cells, hyperlinks, filters, conditional formats and validations, and formula text everywhere
//! (cells, rules, validations, table columns, defined names).

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::address::{cell_name, parse_cell_name, Area};
use crate::error::{BookError, Result};
use crate::ooxml::xml::{add_attr, attr_in, local_name, remove_attr, replace_attr, set_attr, RawEvents};
use crate::shift::{Axis, Change, Shift};

mod merges;
mod tables;
#[cfg(test)]
mod tests;
mod workbook_part;

pub(crate) use merges::{set_merges, TopElement};
pub(crate) use tables::{add_table_part, remove_table_part};
pub(crate) use workbook_part::remap_local_sheets;

/// What kind of part is being shifted, which decides the sheet a formula without a sheet name
/// refers to.
pub(crate) enum PartKind<'a> {
    /// A worksheet named `host`; `target` when it is the sheet that cells move on.
    Sheet { host: &'a str },
    /// A table part on sheet `host`.
    Table { host: &'a str },
    /// workbook.xml: defined names, local ones by sheet position.
    Workbook { sheets: &'a [String] },
}

/// A cell read from a row of the shifted sheet.
struct CellRec {
    row: u32,
    col: u32,
    /// The start tag as written.
    tag: Vec<u8>,
    /// Everything after the start tag up to and including the end tag (empty for `<c/>`).
    body: Vec<u8>,
}

/// A row of the shifted sheet.
struct RowRec {
    row: u32,
    tag: Vec<u8>,
    self_closing: bool,
    cells: Vec<CellRec>,
    /// Markup in the row other than cells (an `extLst`), kept after its cells.
    other: Vec<u8>,
    end_tag: Vec<u8>,
}

/// An element being written: where it started in the output, and whether it goes at its end.
struct Frame {
    start: usize,
    tag_len: usize,
    drop: bool,
    /// Children dropped (for `count` attributes), children kept.
    dropped: usize,
    kept: usize,
    counted: bool,
}

struct Capture {
    kind: TextKind,
    inner_start: usize,
    depth: usize,
    host: String,
}

#[derive(Clone, Copy, PartialEq)]
enum TextKind {
    Formula,
    Sqref,
}

/// Applies `shift` to one part. Returns `None` when nothing in it changes.
pub(crate) fn shift_part(data: &[u8], part: &str, change: &Change, kind: &PartKind<'_>) -> Result<Option<Vec<u8>>> {
    // Addresses move only on the sheet whose cells move.
    let moving = change.shift().filter(|s| match kind {
        PartKind::Sheet { host } | PartKind::Table { host } => host.eq_ignore_ascii_case(&s.sheet),
        PartKind::Workbook { .. } => false,
    });
    let target = moving.is_some();
    let inert = Shift { sheet: String::new(), axis: Axis::Rows, at: 0, count: 0, insert: true, band: (0, 0) };
    let shift = moving.unwrap_or(&inert);
    let sheet_host = match kind {
        PartKind::Sheet { host } | PartKind::Table { host } => *host,
        PartKind::Workbook { .. } => "",
    };
    let err = |e: &dyn std::fmt::Display, at: usize| BookError::corrupt(part, format!("{e} (at byte {at})"));
    let bom = data.starts_with(b"\xEF\xBB\xBF");
    let body = if bom { &data[3..] } else { data };
    let mut reader = Reader::from_reader(body);
    let cfg = reader.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = false;
    cfg.expand_empty_elements = false;

    let mut out: Vec<u8> = Vec::with_capacity(data.len() + 64);
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut changed = false;
    let mut frames: Vec<Frame> = Vec::new();
    let mut skip_to: Option<usize> = None;
    let mut capture: Option<Capture> = None;
    // The shifted sheet's rows are gathered, then written in their new order.
    let reassemble = target && matches!(kind, PartKind::Sheet { .. });
    let mut in_sheet_data = false;
    let mut rows: Vec<RowRec> = Vec::new();
    let mut row: Option<RowRec> = None;
    let mut cell: Option<CellRec> = None;
    let mut row_prefix = String::new();
    let mut last_row: Option<u32> = None;
    let mut last_col: Option<u32> = None;

    let mut pos = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| err(&e, pos))?;
        let end = reader.buffer_position() as usize;
        let raw = &body[pos..end];
        let depth = frames.len();
        // Where bytes go now: a cell's body, a row's other markup, or the output.
        macro_rules! sink {
            () => {
                if let Some(c) = cell.as_mut() {
                    &mut c.body
                } else if let Some(r) = row.as_mut() {
                    &mut r.other
                } else {
                    &mut out
                }
            };
        }
        match ev {
            Event::Eof => break,
            _ if skip_to.is_some() => match ev {
                Event::Start(_) => {
                    frames.push(Frame { start: 0, tag_len: 0, drop: true, dropped: 0, kept: 0, counted: false })
                }
                Event::End(_) => {
                    frames.pop();
                    if Some(frames.len()) == skip_to {
                        skip_to = None;
                    }
                }
                _ => {}
            },
            _ if capture.is_some() => {
                if let Event::End(_) = ev {
                    if depth == capture.as_ref().map_or(0, |c| c.depth) {
                        let cap = capture.take().expect("checked");
                        frames.pop();
                        let inner = &body[cap.inner_start..pos];
                        let new_text = std::str::from_utf8(inner)
                            .ok()
                            .filter(|s| !s.contains("<![CDATA["))
                            .and_then(|s| quick_xml::escape::unescape(s).ok())
                            .and_then(|text| match cap.kind {
                                TextKind::Formula => change.formula(&text, &cap.host),
                                TextKind::Sqref if target => shift.map_sqref(&text),
                                TextKind::Sqref => None,
                            });
                        let s = sink!();
                        match new_text {
                            Some(t) => {
                                changed = true;
                                if cap.kind == TextKind::Sqref && t.is_empty() {
                                    // Every area of an extension's rule or validation is gone: so is it.
                                    if let Some(parent) = frames.last_mut() {
                                        parent.drop = true;
                                    }
                                }
                                s.extend_from_slice(crate::ooxml::xml::escape(&t).as_bytes());
                            }
                            None => s.extend_from_slice(inner),
                        }
                        s.extend_from_slice(raw);
                    } else {
                        frames.pop();
                    }
                } else if let Event::Start(_) = ev {
                    frames.push(Frame { start: 0, tag_len: 0, drop: false, dropped: 0, kept: 0, counted: false });
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let qname = e.name();
                let name = local_name(qname.into_inner().as_bytes());
                // Rows and cells of the shifted sheet.
                if reassemble && in_sheet_data && name == b"row" {
                    let r = crate::ooxml::xml::attr_cow(e, b"r")
                        .and_then(|v| v.parse::<u32>().ok())
                        .map(|r| r.saturating_sub(1));
                    let r = r.unwrap_or_else(|| last_row.map_or(0, |l| l + 1));
                    last_row = Some(r);
                    last_col = None;
                    let rec = RowRec {
                        row: r,
                        tag: raw.to_vec(),
                        self_closing: empty,
                        cells: Vec::new(),
                        other: Vec::new(),
                        end_tag: Vec::new(),
                    };
                    if empty {
                        rows.push(rec);
                    } else {
                        row = Some(rec);
                        frames.push(Frame { start: 0, tag_len: 0, drop: false, dropped: 0, kept: 0, counted: false });
                    }
                    pos = end;
                    continue;
                }
                if reassemble && row.is_some() && cell.is_none() && name == b"c" {
                    let at = crate::ooxml::xml::attr_cow(e, b"r").and_then(|v| parse_cell_name(&v));
                    let r = row.as_ref().map_or(0, |r| r.row);
                    let c = at.map_or_else(|| last_col.map_or(0, |l| l + 1), |(_, c)| c);
                    last_col = Some(c);
                    let rec = CellRec { row: r, col: c, tag: raw.to_vec(), body: Vec::new() };
                    if empty {
                        if let Some(rw) = row.as_mut() {
                            rw.cells.push(rec);
                        }
                    } else {
                        cell = Some(rec);
                        frames.push(Frame { start: 0, tag_len: 0, drop: false, dropped: 0, kept: 0, counted: false });
                    }
                    pos = end;
                    continue;
                }
                if name == b"sheetData" && reassemble && !empty {
                    in_sheet_data = true;
                    let q = qname.into_inner().as_bytes();
                    row_prefix = match q.iter().rposition(|&b| b == b':') {
                        Some(i) => format!("{}:", String::from_utf8_lossy(&q[..i])),
                        None => String::new(),
                    };
                }
                // Attributes holding addresses on the shifted sheet.
                let mut tag: Cow<[u8]> = Cow::Borrowed(raw);
                let mut drop = false;
                if target {
                    for (attr, list) in address_attrs(name, kind) {
                        let Some(value) = crate::ooxml::xml::attr_cow(e, attr) else { continue };
                        let mapped = if *list { shift.map_sqref(&value) } else { map_one(shift, &value) };
                        match mapped {
                            Some(v) if v.is_empty() => {
                                drop = true;
                            }
                            Some(v) => {
                                tag = Cow::Owned(replace_attr(&tag, attr, &crate::ooxml::xml::escape(&v)));
                            }
                            None => {}
                        }
                    }
                    if name == b"col" && shift.axis == Axis::Cols && shift.whole() {
                        match map_cols(shift, e) {
                            Some(Some((lo, hi))) => {
                                let t = replace_attr(&tag, b"min", &(lo + 1).to_string());
                                tag = Cow::Owned(replace_attr(&t, b"max", &(hi + 1).to_string()));
                            }
                            Some(None) => drop = true,
                            None => {}
                        }
                    }
                    if name == b"dimension" && drop {
                        tag = Cow::Owned(replace_attr(&tag, b"ref", "A1"));
                        drop = false;
                    }
                    if matches!(name, b"selection" | b"pane") && drop {
                        // Nothing selected is left: the first cell is.
                        let mut t = tag.to_vec();
                        for a in [b"sqref".as_slice(), b"activeCell", b"topLeftCell"] {
                            if crate::ooxml::xml::attr_cow(e, a).is_some() {
                                t = replace_attr(&t, a, "A1");
                            }
                        }
                        tag = Cow::Owned(t);
                        drop = false;
                    }
                }
                if !matches!(tag, Cow::Borrowed(_)) || drop {
                    changed = true;
                }
                if drop {
                    if let Some(parent) = frames.last_mut() {
                        parent.dropped += 1;
                    }
                    if !empty {
                        frames.push(Frame { start: 0, tag_len: 0, drop: true, dropped: 0, kept: 0, counted: false });
                        skip_to = Some(depth);
                    }
                    pos = end;
                    continue;
                }
                if let Some(parent) = frames.last_mut() {
                    parent.kept += 1;
                }
                let s = sink!();
                let start = s.len();
                s.extend_from_slice(&tag);
                if !empty {
                    frames.push(Frame {
                        start,
                        tag_len: tag.len(),
                        drop: false,
                        dropped: 0,
                        kept: 0,
                        counted: matches!(
                            name,
                            b"mergeCells" | b"dataValidations" | b"hyperlinks" | b"conditionalFormattings"
                        ),
                    });
                    let text_kind = match (name, kind) {
                        (b"f" | b"formula" | b"formula1" | b"formula2", _) => Some(TextKind::Formula),
                        (b"calculatedColumnFormula" | b"totalsRowFormula", PartKind::Table { .. }) => {
                            Some(TextKind::Formula)
                        }
                        (b"definedName", PartKind::Workbook { .. }) => Some(TextKind::Formula),
                        (b"sqref", PartKind::Sheet { .. }) => Some(TextKind::Sqref),
                        _ => None,
                    };
                    if let Some(kind_of_text) = text_kind {
                        let host = match kind {
                            PartKind::Workbook { sheets } => crate::ooxml::xml::attr_cow(e, b"localSheetId")
                                .and_then(|v| v.parse::<usize>().ok())
                                .and_then(|i| sheets.get(i).cloned())
                                .unwrap_or_default(),
                            _ => sheet_host.to_string(),
                        };
                        capture = Some(Capture { kind: kind_of_text, inner_start: end, depth: depth + 1, host });
                    }
                }
            }
            Event::End(ref e) => {
                let qname = e.name();
                let name = local_name(qname.into_inner().as_bytes());
                if let Some(mut c) = if name == b"c" { cell.take() } else { None } {
                    frames.pop();
                    c.body.extend_from_slice(raw);
                    if let Some(r) = row.as_mut() {
                        r.cells.push(c);
                    }
                    pos = end;
                    continue;
                }
                if cell.is_none() && name == b"row" {
                    if let Some(mut r) = row.take() {
                        frames.pop();
                        r.end_tag = raw.to_vec();
                        rows.push(r);
                        pos = end;
                        continue;
                    }
                }
                if in_sheet_data && name == b"sheetData" {
                    in_sheet_data = false;
                    changed |= write_rows(&mut out, std::mem::take(&mut rows), shift, &row_prefix);
                }
                let Some(frame) = frames.pop() else {
                    sink!().extend_from_slice(raw);
                    pos = end;
                    continue;
                };
                let s = sink!();
                if frame.drop {
                    s.truncate(frame.start);
                    if let Some(parent) = frames.last_mut() {
                        parent.dropped += 1;
                        parent.kept = parent.kept.saturating_sub(1);
                    }
                } else if frame.counted && frame.dropped > 0 && frame.kept == 0 {
                    // A list left without members goes (the schema wants at least one).
                    s.truncate(frame.start);
                } else {
                    if frame.counted && frame.dropped > 0 {
                        let old_tag = s[frame.start..frame.start + frame.tag_len].to_vec();
                        if attr_in(&old_tag, b"count") {
                            let new_tag = replace_attr(&old_tag, b"count", &frame.kept.to_string());
                            s.splice(frame.start..frame.start + frame.tag_len, new_tag);
                        }
                    }
                    s.extend_from_slice(raw);
                }
            }
            _ => {
                // Whitespace between rows of the shifted sheet is not kept: rows are rewritten.
                if !(in_sheet_data && row.is_none() && cell.is_none()) {
                    sink!().extend_from_slice(raw);
                }
            }
        }
        pos = end;
    }
    Ok(changed.then_some(out))
}

/// Attributes of an element that hold one address (false) or an address list (true).
fn address_attrs(name: &[u8], kind: &PartKind<'_>) -> &'static [(&'static [u8], bool)] {
    match (name, kind) {
        (
            b"dimension" | b"mergeCell" | b"hyperlink" | b"autoFilter" | b"sortState" | b"sortCondition" | b"f",
            PartKind::Sheet { .. },
        ) => &[(b"ref", false)],
        (b"table" | b"autoFilter" | b"sortState" | b"sortCondition", PartKind::Table { .. }) => &[(b"ref", false)],
        (b"selection", PartKind::Sheet { .. }) => &[(b"activeCell", false), (b"sqref", true)],
        (b"pane", PartKind::Sheet { .. }) => &[(b"topLeftCell", false)],
        (
            b"conditionalFormatting" | b"dataValidation" | b"protectedRange" | b"ignoredError",
            PartKind::Sheet { .. },
        ) => &[(b"sqref", true)],
        _ => &[],
    }
}

/// One address mapped: `Some("")` when it is deleted, `None` when unchanged or unreadable.
fn map_one(shift: &Shift, value: &str) -> Option<String> {
    let area = Area::parse_a1(value).ok()?;
    match shift.map_area(&area) {
        Some(a) if a == area => None,
        Some(a) => Some(a.to_a1()),
        None => Some(String::new()),
    }
}

/// A `<col min max>` run under a whole-column shift: `Some(None)` when deleted.
fn map_cols(shift: &Shift, e: &quick_xml::events::BytesStart<'_>) -> Option<Option<(u32, u32)>> {
    let min: u32 = crate::ooxml::xml::attr_cow(e, b"min")?.parse().ok()?;
    let max: u32 = crate::ooxml::xml::attr_cow(e, b"max")?.parse().ok()?;
    if min == 0 || max < min {
        return None;
    }
    let area = Area::cells(0, min - 1, 0, (max - 1).min(crate::address::MAX_COLS - 1));
    let mapped = shift.map_area(&area);
    match mapped {
        Some(a) if a == area => None,
        Some(a) => Some(Some((a.first_col, a.last_col))),
        None => Some(None),
    }
}

/// Writes the gathered rows of the shifted sheet at their new places. Returns whether anything
/// moved.
fn write_rows(out: &mut Vec<u8>, rows: Vec<RowRec>, shift: &Shift, prefix: &str) -> bool {
    use std::collections::BTreeMap;
    struct NewRow {
        tag: Option<(Vec<u8>, bool)>,
        end_tag: Vec<u8>,
        cells: BTreeMap<u32, (u32, u32, CellRec)>,
        other: Vec<u8>,
    }
    let mut changed = false;
    let mut placed: BTreeMap<u32, NewRow> = BTreeMap::new();
    let rows_move_whole = shift.axis == Axis::Rows && shift.whole();
    let new_row = || NewRow { tag: None, end_tag: Vec::new(), cells: BTreeMap::new(), other: Vec::new() };
    for r in rows {
        // A row keeps its attributes (height, hidden, style) when whole rows move with it.
        let row_to = if rows_move_whole { shift.map_index(r.row) } else { Some(r.row) };
        if let Some(to) = row_to {
            let entry = placed.entry(to).or_insert_with(new_row);
            let tag = if to != r.row { replace_attr(&r.tag, b"r", &(to + 1).to_string()) } else { r.tag.clone() };
            changed |= to != r.row;
            entry.tag = Some((tag, r.self_closing));
            entry.end_tag = r.end_tag;
            entry.other = r.other;
        } else {
            changed = true;
        }
        for c in r.cells {
            match shift.map_cell(c.row, c.col) {
                Some((nr, nc)) => {
                    changed |= (nr, nc) != (c.row, c.col);
                    placed.entry(nr).or_insert_with(new_row).cells.insert(nc, (nr, nc, c));
                }
                None => changed = true,
            }
        }
    }
    for (r, row) in placed {
        let (tag, self_closing) =
            row.tag.unwrap_or_else(|| (format!("<{prefix}row r=\"{}\">", r + 1).into_bytes(), false));
        // Cells moved in or out: the row's `spans` hint may no longer hold.
        let tag = if shift.axis == Axis::Cols || !rows_move_whole { remove_attr(&tag, b"spans") } else { tag };
        if row.cells.is_empty() && row.other.is_empty() && self_closing {
            out.extend_from_slice(&tag);
            continue;
        }
        if self_closing {
            // `<row …/>` that gained cells.
            let mut t = tag.clone();
            while t.last().is_some_and(|b| *b == b'>' || *b == b'/' || b.is_ascii_whitespace()) {
                t.pop();
            }
            t.push(b'>');
            out.extend_from_slice(&t);
        } else {
            out.extend_from_slice(&tag);
        }
        for (_, (nr, nc, c)) in row.cells {
            let name = cell_name(nr, nc);
            let tag = if attr_in(&c.tag, b"r") {
                if (nr, nc) != (c.row, c.col) {
                    replace_attr(&c.tag, b"r", &name)
                } else {
                    c.tag
                }
            } else {
                add_attr(&c.tag, b"r", &name)
            };
            out.extend_from_slice(&tag);
            out.extend_from_slice(&c.body);
        }
        out.extend_from_slice(&row.other);
        if row.end_tag.is_empty() {
            out.extend_from_slice(format!("</{prefix}row>").as_bytes());
        } else {
            out.extend_from_slice(&row.end_tag);
        }
    }
    changed
}
