//! A [`Shift`] applied to the XML of package parts, keeping every byte it has no reason to
//! change: a worksheet's rows and cells (renumbered, moved, dropped), the addresses of its merged
//! cells, hyperlinks, filters, conditional formats and validations, and formula text everywhere
//! (cells, rules, validations, table columns, defined names).

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::address::{cell_name, parse_cell_name, Area};
use crate::error::{BookError, Result};
use crate::shift::{Axis, Change, Shift};

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

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
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
                                s.extend_from_slice(crate::xml::escape(&t).as_bytes());
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
                let name = local(qname.into_inner().as_bytes());
                // Rows and cells of the shifted sheet.
                if reassemble && in_sheet_data && name == b"row" {
                    let r =
                        crate::xml::attr_cow(e, b"r").and_then(|v| v.parse::<u32>().ok()).map(|r| r.saturating_sub(1));
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
                    let at = crate::xml::attr_cow(e, b"r").and_then(|v| parse_cell_name(&v));
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
                        let Some(value) = crate::xml::attr_cow(e, attr) else { continue };
                        let mapped = if *list { shift.map_sqref(&value) } else { map_one(shift, &value) };
                        match mapped {
                            Some(v) if v.is_empty() => {
                                drop = true;
                            }
                            Some(v) => {
                                tag = Cow::Owned(replace_attr(&tag, attr, &crate::xml::escape(&v)));
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
                            if crate::xml::attr_cow(e, a).is_some() {
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
                            PartKind::Workbook { sheets } => crate::xml::attr_cow(e, b"localSheetId")
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
                let name = local(qname.into_inner().as_bytes());
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

/// A table part following its model: `ref`, the filter, names, style, and its columns (kept
/// elements in the model's order with the model's names, new ones added, deleted ones gone);
/// the formulas it keeps follow a rename of the table and `fates` of its columns.
pub(crate) fn write_table_part(
    data: &[u8],
    part: &str,
    t: &crate::model::Table,
    fates: &[crate::structured::ColumnFate],
    totals_added: bool,
) -> Result<Vec<u8>> {
    // Whether the part has a filter of its own (not an extension's).
    let mut has_filter = false;
    let mut scan = RawEvents::new(data, part);
    let mut depth = 0usize;
    while let Some((ev, _, _)) = scan.next()? {
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                has_filter |= depth == 1 && local(e.name().into_inner().as_bytes()) == b"autoFilter";
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    // Inside an element being dropped: how deep.
    let mut skipping = 0usize;
    let mut events = RawEvents::new(data, part);
    let mut out = Vec::with_capacity(data.len() + 16);
    let area = &t.area;
    let filter = Area::cells(area.first_row, area.first_col, area.last_row - t.totals_rows.min(1), area.last_col);
    let mut old_name: Option<String> = None;
    let mut in_formula = false;
    // The column list: its start tag and element prefix, then each column's bytes by id.
    let mut columns_tag: Option<(Vec<u8>, String)> = None;
    let mut column: Option<(u32, Vec<u8>)> = None;
    let mut columns: Vec<(u32, Vec<u8>)> = Vec::new();
    let set_if = |tag: Vec<u8>, e: &quick_xml::events::BytesStart<'_>, key: &[u8], want: &str| -> Vec<u8> {
        match crate::xml::attr_cow(e, key) {
            Some(v) if v == want => tag,
            _ => set_attr(&tag, key, Some(&crate::xml::escape(want))),
        }
    };
    let set_bool = |tag: Vec<u8>, e: &quick_xml::events::BytesStart<'_>, key: &[u8], want: bool| -> Vec<u8> {
        let now = crate::xml::attr_cow(e, key).is_some_and(|v| v == "1" || v == "true");
        if now == want {
            tag
        } else {
            set_attr(&tag, key, Some(if want { "1" } else { "0" }))
        }
    };
    let count_attr = |e: &quick_xml::events::BytesStart<'_>, key: &[u8], default: u32| {
        crate::xml::attr_cow(e, key).and_then(|v| v.parse::<u32>().ok()).unwrap_or(default)
    };
    let mut depth = 0usize;
    while let Some((ev, raw, _)) = events.next()? {
        if skipping > 0 {
            match ev {
                Event::Start(_) => skipping += 1,
                Event::End(_) => skipping -= 1,
                _ => {}
            }
            continue;
        }
        let mut bytes = raw.to_vec();
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let q = e.name();
                let name = local(q.into_inner().as_bytes());
                let at_depth = depth;
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
                match name {
                    b"table" if at_depth == 0 => {
                        old_name = crate::xml::attr_cow(e, b"displayName").map(|v| v.into_owned());
                        bytes = set_if(bytes, e, b"ref", &area.to_a1());
                        bytes = set_if(bytes, e, b"name", &t.name);
                        bytes = set_if(bytes, e, b"displayName", &t.display_name);
                        if count_attr(e, b"headerRowCount", 1) != t.header_rows.min(1) {
                            bytes = set_attr(&bytes, b"headerRowCount", (t.header_rows == 0).then_some("0"));
                        }
                        if count_attr(e, b"totalsRowCount", 0) != t.totals_rows.min(1) {
                            bytes = set_attr(&bytes, b"totalsRowCount", (t.totals_rows > 0).then_some("1"));
                            if t.totals_rows > 0 {
                                bytes = set_attr(&bytes, b"totalsRowShown", None);
                            }
                        }
                        if t.style.auto_filter && !has_filter {
                            // A new filter is the table's first child.
                            let prefix =
                                q.into_inner().rsplit_once(':').map(|(p, _)| format!("{p}:")).unwrap_or_default();
                            out.extend_from_slice(&bytes);
                            out.extend_from_slice(
                                format!("<{prefix}autoFilter ref=\"{}\"/>", filter.to_a1()).as_bytes(),
                            );
                            continue;
                        }
                    }
                    b"autoFilter" if at_depth == 1 && !t.style.auto_filter => {
                        if matches!(ev, Event::Start(_)) {
                            depth -= 1;
                            skipping = 1;
                        }
                        continue;
                    }
                    b"autoFilter" => bytes = set_if(bytes, e, b"ref", &filter.to_a1()),
                    b"tableStyleInfo" => {
                        if let Some(style) = &t.style.name {
                            bytes = set_if(bytes, e, b"name", style);
                        }
                        bytes = set_bool(bytes, e, b"showFirstColumn", t.style.show_first_column);
                        bytes = set_bool(bytes, e, b"showLastColumn", t.style.show_last_column);
                        bytes = set_bool(bytes, e, b"showRowStripes", t.style.show_row_stripes);
                        bytes = set_bool(bytes, e, b"showColumnStripes", t.style.show_column_stripes);
                    }
                    b"tableColumns" if columns_tag.is_none() && matches!(ev, Event::Start(_)) => {
                        let raw_name = q.into_inner().as_bytes();
                        let prefix = raw_name
                            .iter()
                            .rposition(|&b| b == b':')
                            .map(|i| format!("{}:", String::from_utf8_lossy(&raw_name[..i])))
                            .unwrap_or_default();
                        columns_tag = Some((bytes, prefix));
                        continue;
                    }
                    b"tableColumn" if columns_tag.is_some() && column.is_none() => {
                        let id = crate::xml::attr_cow(e, b"id").and_then(|v| v.parse().ok()).unwrap_or(0);
                        if let Some(k) = t.column_ids.iter().position(|&c| c == id) {
                            // A total row added: labelled in the first column, summed in the last.
                            if totals_added && k == 0 && t.columns.len() > 1 {
                                bytes = set_attr(&bytes, b"totalsRowLabel", Some("Total"));
                                bytes = set_attr(&bytes, b"totalsRowFunction", None);
                            }
                            if totals_added && k + 1 == t.columns.len() {
                                bytes = set_attr(&bytes, b"totalsRowFunction", Some("sum"));
                                bytes = set_attr(&bytes, b"totalsRowLabel", None);
                            }
                            let now =
                                crate::xml::attr_cow(e, b"name").map(|v| crate::xml::decode_x_escapes(&v).into_owned());
                            if now.as_deref() != Some(t.columns[k].as_str()) {
                                let want = crate::xml::escape(&x_escape(&t.columns[k])).into_owned();
                                bytes = set_attr(&bytes, b"name", Some(&want));
                            }
                        }
                        if matches!(ev, Event::Empty(_)) {
                            columns.push((id, bytes));
                        } else {
                            column = Some((id, bytes));
                        }
                        continue;
                    }
                    b"calculatedColumnFormula" | b"totalsRowFormula" => in_formula = matches!(ev, Event::Start(_)),
                    _ => {}
                }
            }
            Event::Text(ref text) if in_formula => {
                let raw_text: &str = text.as_ref();
                if let Ok(plain) = quick_xml::escape::unescape(raw_text) {
                    let mut f = plain.into_owned();
                    let mut changed = false;
                    if let Some(o) = old_name.as_deref().filter(|o| *o != t.display_name) {
                        if let Some(r) = crate::structured::rename_table(&f, o, &t.display_name) {
                            f = r;
                            changed = true;
                        }
                    }
                    if let Some(r) = crate::structured::rewrite_columns(&f, &t.display_name, true, fates) {
                        f = r;
                        changed = true;
                    }
                    if changed {
                        bytes = crate::xml::escape(&f).into_owned().into_bytes();
                    }
                }
            }
            Event::End(ref e) => {
                in_formula = false;
                depth = depth.saturating_sub(1);
                let name = local(e.name().into_inner().as_bytes());
                if name == b"tableColumn" {
                    if let Some((id, mut buf)) = column.take() {
                        buf.extend_from_slice(raw);
                        columns.push((id, buf));
                        continue;
                    }
                }
                if name == b"tableColumns" && column.is_none() {
                    if let Some((tag, prefix)) = columns_tag.take() {
                        out.extend_from_slice(&set_attr(&tag, b"count", Some(&t.columns.len().to_string())));
                        for (k, id) in t.column_ids.iter().enumerate() {
                            match columns.iter().position(|(c, _)| c == id) {
                                Some(p) => out.extend_from_slice(&columns[p].1),
                                None => out.extend_from_slice(
                                    format!(
                                        "<{prefix}tableColumn id=\"{id}\" name=\"{}\"/>",
                                        crate::xml::escape(&x_escape(&t.columns[k]))
                                    )
                                    .as_bytes(),
                                ),
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        match column.as_mut() {
            Some((_, buf)) => buf.extend_from_slice(&bytes),
            None => out.extend_from_slice(&bytes),
        }
    }
    out.extend_from_slice(events.rest());
    Ok(out)
}

/// Text for an attribute the reader decodes `_xHHHH_` escapes in: a literal `_x` is guarded,
/// control characters (which attributes cannot keep) escaped.
pub(crate) fn x_escape(s: &str) -> String {
    let guarded = if s.contains("_x") { s.replace("_x", "_x005F_x") } else { s.to_string() };
    if !guarded.chars().any(char::is_control) {
        return guarded;
    }
    guarded.chars().map(|c| if c.is_control() { format!("_x{:04X}_", c as u32) } else { c.to_string() }).collect()
}

/// A new table's part, written from the model as Excel writes one.
pub(crate) fn new_table_part(t: &crate::model::Table, strict: bool) -> Vec<u8> {
    let ns = if strict {
        "http://purl.oclc.org/ooxml/spreadsheetml/main"
    } else {
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    };
    let a = &t.area;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<table xmlns=\"{ns}\" id=\"{}\" name=\"{}\" displayName=\"{}\" ref=\"{}\" totalsRowShown=\"0\">",
        t.id,
        crate::xml::escape(&t.name),
        crate::xml::escape(&t.display_name),
        a.to_a1()
    );
    if t.style.auto_filter {
        let filter = Area::cells(a.first_row, a.first_col, a.last_row - t.totals_rows.min(1), a.last_col);
        xml.push_str(&format!("<autoFilter ref=\"{}\"/>", filter.to_a1()));
    }
    xml.push_str(&format!("<tableColumns count=\"{}\">", t.columns.len()));
    for (id, name) in t.column_ids.iter().zip(&t.columns) {
        xml.push_str(&format!("<tableColumn id=\"{id}\" name=\"{}\"/>", crate::xml::escape(&x_escape(name))));
    }
    xml.push_str("</tableColumns>");
    let flag = |b: bool| if b { "1" } else { "0" };
    xml.push_str(&format!(
        "<tableStyleInfo name=\"{}\" showFirstColumn=\"{}\" showLastColumn=\"{}\" showRowStripes=\"{}\" showColumnStripes=\"{}\"/></table>",
        crate::xml::escape(t.style.name.as_deref().unwrap_or("TableStyleMedium2")),
        flag(t.style.show_first_column),
        flag(t.style.show_last_column),
        flag(t.style.show_row_stripes),
        flag(t.style.show_column_stripes),
    ));
    xml.into_bytes()
}

/// A worksheet with a `<tablePart>` for relationship `rel_id`: added to its list (`count`
/// following), or a new list where the schema puts it (before `extLst`, else at the end).
pub(crate) fn add_table_part(data: &[u8], part: &str, rel_id: &str, rel_ns: &str) -> Result<Vec<u8>> {
    let mut events = RawEvents::new(data, part);
    let mut depth = 0usize;
    let mut prefix = String::new();
    let mut root_has_r = false;
    // The existing list: its start tag's place and length, its end tag's place, its count.
    let (mut list_start, mut list_end, mut count) = (None::<(usize, usize)>, None::<usize>, 0usize);
    let mut insert_at: Option<usize> = None;
    while let Some((ev, raw, pos)) = events.next()? {
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let q = e.name();
                let raw_name = q.into_inner().as_bytes();
                let name = local(raw_name);
                if depth == 0 {
                    if let Some(i) = raw_name.iter().rposition(|&b| b == b':') {
                        prefix = format!("{}:", String::from_utf8_lossy(&raw_name[..i]));
                    }
                    root_has_r = e
                        .attributes()
                        .with_checks(false)
                        .flatten()
                        .any(|a| a.key.into_inner().as_bytes() == b"xmlns:r" && &*a.value == rel_ns);
                }
                if depth == 1 && name == b"tableParts" {
                    list_start = Some((pos, raw.len()));
                    if matches!(ev, Event::Empty(_)) {
                        list_end = Some(pos + raw.len());
                    }
                } else if depth == 2 && name == b"tablePart" && list_start.is_some() {
                    count += 1;
                } else if depth == 1 && name == b"extLst" && insert_at.is_none() {
                    insert_at = Some(pos);
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if depth == 1 && local(e.name().into_inner().as_bytes()) == b"tableParts" {
                    list_end = Some(pos);
                }
                if depth == 0 && insert_at.is_none() {
                    insert_at = Some(pos);
                }
            }
            _ => {}
        }
    }
    let ns_attr = if root_has_r { String::new() } else { format!(" xmlns:r=\"{rel_ns}\"") };
    let element = format!("<{prefix}tablePart{ns_attr} r:id=\"{}\"/>", crate::xml::escape(rel_id));
    let mut out = Vec::with_capacity(data.len() + element.len() + 64);
    match (list_start, list_end) {
        (Some((start, len)), Some(end)) if end > start + len => {
            // `<tableParts ...>...</tableParts>`: one more before its end tag.
            let tag = set_attr(&data[start..start + len], b"count", Some(&(count + 1).to_string()));
            out.extend_from_slice(&data[..start]);
            out.extend_from_slice(&tag);
            out.extend_from_slice(&data[start + len..end]);
            out.extend_from_slice(element.as_bytes());
            out.extend_from_slice(&data[end..]);
        }
        (Some((start, _)), Some(end)) => {
            // An empty `<tableParts/>`.
            out.extend_from_slice(&data[..start]);
            out.extend_from_slice(format!("<{prefix}tableParts count=\"1\">{element}</{prefix}tableParts>").as_bytes());
            out.extend_from_slice(&data[end..]);
        }
        _ => {
            let at = insert_at.ok_or_else(|| BookError::corrupt(part, "no worksheet"))?;
            out.extend_from_slice(&data[..at]);
            out.extend_from_slice(format!("<{prefix}tableParts count=\"1\">{element}</{prefix}tableParts>").as_bytes());
            out.extend_from_slice(&data[at..]);
        }
    }
    Ok(out)
}

/// workbook.xml after sheets moved or went: each local defined name's `localSheetId` renumbered
/// through `map` (its element dropped when its sheet went), the views' `activeTab` and
/// `firstSheet` too (the first sheet when theirs went).
pub(crate) fn remap_local_sheets(data: &[u8], part: &str, map: &dyn Fn(usize) -> Option<usize>) -> Result<Vec<u8>> {
    let mut events = RawEvents::new(data, part);
    let mut out = Vec::with_capacity(data.len());
    let mut skipping = false;
    while let Some((ev, raw, _)) = events.next()? {
        match ev {
            _ if skipping => {
                if let Event::End(e) = ev {
                    skipping = local(e.name().into_inner().as_bytes()) != b"definedName";
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let q = e.name();
                let name = local(q.into_inner().as_bytes());
                let mut tag = raw.to_vec();
                let attrs: &[&[u8]] = match name {
                    b"definedName" => &[b"localSheetId"],
                    b"workbookView" => &[b"activeTab", b"firstSheet"],
                    _ => &[],
                };
                let mut drop = false;
                for attr in attrs {
                    let Some(i) = crate::xml::attr_cow(e, attr).and_then(|v| v.parse::<usize>().ok()) else { continue };
                    match (map(i), name) {
                        (Some(j), _) => tag = replace_attr(&tag, attr, &j.to_string()),
                        (None, b"definedName") => drop = true,
                        (None, _) => tag = replace_attr(&tag, attr, "0"),
                    }
                }
                if drop {
                    skipping = matches!(ev, Event::Start(_));
                    continue;
                }
                out.extend_from_slice(&tag);
            }
            _ => out.extend_from_slice(raw),
        }
    }
    out.extend_from_slice(events.rest());
    Ok(out)
}

/// Elements that follow `<mergeCells>` in a worksheet, in schema order: a new list goes before
/// the first of them.
const AFTER_MERGE_CELLS: [&[u8]; 24] = [
    b"phoneticPr",
    b"conditionalFormatting",
    b"dataValidations",
    b"hyperlinks",
    b"printOptions",
    b"pageMargins",
    b"pageSetup",
    b"headerFooter",
    b"rowBreaks",
    b"colBreaks",
    b"customProperties",
    b"cellWatches",
    b"ignoredErrors",
    b"smartTags",
    b"drawing",
    b"legacyDrawing",
    b"legacyDrawingHF",
    b"drawingHF",
    b"picture",
    b"oleObjects",
    b"controls",
    b"webPublishItems",
    b"tableParts",
    b"extLst",
];

/// Where a top-level element of a worksheet is (its bytes, start tag to end tag), or where a new
/// one goes: before the first top-level element of `followers`, else before the root's end tag.
/// Also the prefix the root's elements are written with (`x:` or none).
pub(crate) struct TopElement {
    pub span: Option<(usize, usize)>,
    pub insert_at: usize,
    pub prefix: String,
}

impl TopElement {
    pub(crate) fn locate(data: &[u8], part: &str, name: &[u8], followers: &[&[u8]]) -> Result<TopElement> {
        let mut events = RawEvents::new(data, part);
        let (mut depth, mut prefix) = (0usize, String::new());
        let (mut span, mut start, mut insert_at) = (None, 0usize, None);
        while let Some((ev, raw, pos)) = events.next()? {
            let end = pos + raw.len();
            match &ev {
                Event::Start(e) | Event::Empty(e) => {
                    let q = e.name();
                    let raw_name = q.into_inner().as_bytes();
                    let local_name = local(raw_name);
                    if depth == 0 {
                        if let Some(i) = raw_name.iter().rposition(|&b| b == b':') {
                            prefix = format!("{}:", String::from_utf8_lossy(&raw_name[..i]));
                        }
                    }
                    if depth == 1 && span.is_none() {
                        if local_name == name {
                            start = pos;
                            if matches!(ev, Event::Empty(_)) {
                                span = Some((pos, end));
                            }
                        } else if insert_at.is_none() && followers.contains(&local_name) {
                            insert_at = Some(pos);
                        }
                    }
                    if matches!(ev, Event::Start(_)) {
                        depth += 1;
                    }
                }
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    if depth == 1 && span.is_none() && local(e.name().into_inner().as_bytes()) == name {
                        span = Some((start, end));
                    }
                    if depth == 0 && insert_at.is_none() {
                        insert_at = Some(pos);
                    }
                }
                _ => {}
            }
        }
        let insert_at = insert_at.ok_or_else(|| BookError::corrupt(part, "no worksheet"))?;
        Ok(TopElement { span, insert_at, prefix })
    }

    /// `data` with the element replaced by `text` (or `text` put where a new one goes).
    pub(crate) fn replace(&self, data: &[u8], text: &[u8]) -> Vec<u8> {
        let (from, to) = self.span.unwrap_or((self.insert_at, self.insert_at));
        let mut out = Vec::with_capacity(data.len() + text.len());
        out.extend_from_slice(&data[..from]);
        out.extend_from_slice(text);
        out.extend_from_slice(&data[to..]);
        out
    }
}

/// A worksheet with its `<mergeCells>` list replaced by `merges` (removed when empty).
pub(crate) fn set_merges(data: &[u8], part: &str, merges: &[Area]) -> Result<Vec<u8>> {
    let at = TopElement::locate(data, part, b"mergeCells", &AFTER_MERGE_CELLS)?;
    let prefix = &at.prefix;
    let mut list = String::new();
    if !merges.is_empty() {
        list.push_str(&format!("<{prefix}mergeCells count=\"{}\">", merges.len()));
        for m in merges {
            list.push_str(&format!("<{prefix}mergeCell ref=\"{}\"/>", m.to_a1()));
        }
        list.push_str(&format!("</{prefix}mergeCells>"));
    }
    Ok(at.replace(data, list.as_bytes()))
}

/// A worksheet without the `<tablePart>` of relationship `rel_id`; the list's `count` follows,
/// and the list goes when it is left empty.
pub(crate) fn remove_table_part(data: &[u8], part: &str, rel_id: &str) -> Result<Vec<u8>> {
    let mut events = RawEvents::new(data, part);
    let mut out = Vec::with_capacity(data.len());
    // The list's start tag: where it was written and its length; the parts kept in it.
    let mut list: Option<(usize, usize)> = None;
    let mut kept = 0usize;
    while let Some((ev, raw, _)) = events.next()? {
        match ev {
            Event::Start(ref e) if local(e.name().into_inner().as_bytes()) == b"tableParts" => {
                list = Some((out.len(), raw.len()));
                kept = 0;
                out.extend_from_slice(raw);
            }
            Event::Empty(ref e) | Event::Start(ref e) if local(e.name().into_inner().as_bytes()) == b"tablePart" => {
                if crate::xml::rel_id(e).as_deref() == Some(rel_id) {
                    continue;
                }
                kept += 1;
                out.extend_from_slice(raw);
            }
            Event::End(ref e) if local(e.name().into_inner().as_bytes()) == b"tableParts" => match list.take() {
                Some((start, _)) if kept == 0 => out.truncate(start),
                Some((start, len)) => {
                    let tag = out[start..start + len].to_vec();
                    let new = set_attr(&tag, b"count", Some(&kept.to_string()));
                    out.splice(start..start + len, new);
                    out.extend_from_slice(raw);
                }
                None => out.extend_from_slice(raw),
            },
            _ => out.extend_from_slice(raw),
        }
    }
    out.extend_from_slice(events.rest());
    Ok(out)
}

/// A part's events, each with the bytes it was written as and where they start: the rewriters
/// here copy what they do not change.
pub(crate) struct RawEvents<'a> {
    reader: Reader<&'a [u8]>,
    data: &'a [u8],
    part: &'a str,
    pos: usize,
}

impl<'a> RawEvents<'a> {
    pub(crate) fn new(data: &'a [u8], part: &'a str) -> Self {
        let mut reader = Reader::from_reader(data);
        reader.config_mut().trim_text(false);
        RawEvents { reader, data, part, pos: 0 }
    }

    /// The next event, its bytes and their offset; `None` at the end of the part.
    pub(crate) fn next(&mut self) -> Result<Option<(Event<'a>, &'a [u8], usize)>> {
        let start = self.pos;
        let ev = self.reader.read_event().map_err(|e| BookError::corrupt(self.part, e.to_string()))?;
        if matches!(ev, Event::Eof) {
            return Ok(None);
        }
        self.pos = self.reader.buffer_position() as usize;
        Ok(Some((ev, &self.data[start..self.pos], start)))
    }

    /// What follows the last event read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
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
    let min: u32 = crate::xml::attr_cow(e, b"min")?.parse().ok()?;
    let max: u32 = crate::xml::attr_cow(e, b"max")?.parse().ok()?;
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

/// The byte span of an attribute's value in a raw start tag (matched by local name).
fn attr_span(tag: &[u8], key: &[u8]) -> Option<(usize, usize, usize)> {
    let mut i = 1;
    while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
        i += 1;
    }
    loop {
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let ks = i;
        while i < tag.len() && tag[i] != b'=' && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
            i += 1;
        }
        if i == ks {
            return None;
        }
        let k = &tag[ks..i];
        while i < tag.len() && (tag[i].is_ascii_whitespace() || tag[i] == b'=') {
            i += 1;
        }
        let q = *tag.get(i)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let vs = i + 1;
        let ve = vs + tag[vs..].iter().position(|&b| b == q)?;
        if local(k) == key && !k.starts_with(b"xmlns") {
            return Some((ks, vs, ve));
        }
        i = ve + 1;
    }
}

/// The local part of an element name.
pub(crate) fn local_name(name: &[u8]) -> &[u8] {
    local(name)
}

/// The tag with an attribute set to `value` (escaped already), added when missing, removed when
/// `None`.
pub(crate) fn set_attr(tag: &[u8], key: &[u8], value: Option<&str>) -> Vec<u8> {
    match (value, attr_in(tag, key)) {
        (Some(v), true) => replace_attr(tag, key, v),
        (Some(v), false) => add_attr(tag, key, v),
        (None, true) => remove_attr(tag, key),
        (None, false) => tag.to_vec(),
    }
}

fn attr_in(tag: &[u8], key: &[u8]) -> bool {
    attr_span(tag, key).is_some()
}

/// The tag with one attribute's value replaced (`value` already escaped).
fn replace_attr(tag: &[u8], key: &[u8], value: &str) -> Vec<u8> {
    match attr_span(tag, key) {
        Some((_, vs, ve)) => {
            let mut out = Vec::with_capacity(tag.len() + value.len());
            out.extend_from_slice(&tag[..vs]);
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(&tag[ve..]);
            out
        }
        None => tag.to_vec(),
    }
}

fn remove_attr(tag: &[u8], key: &[u8]) -> Vec<u8> {
    match attr_span(tag, key) {
        Some((ks, _, ve)) => {
            let mut from = ks;
            while from > 0 && tag[from - 1].is_ascii_whitespace() {
                from -= 1;
            }
            let mut out = tag[..from].to_vec();
            out.extend_from_slice(&tag[ve + 1..]);
            out
        }
        None => tag.to_vec(),
    }
}

fn add_attr(tag: &[u8], key: &[u8], value: &str) -> Vec<u8> {
    let mut i = 1;
    while i < tag.len() && !tag[i].is_ascii_whitespace() && tag[i] != b'>' && tag[i] != b'/' {
        i += 1;
    }
    let mut out = tag[..i].to_vec();
    out.push(b' ');
    out.extend_from_slice(key);
    out.extend_from_slice(b"=\"");
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
    out.extend_from_slice(&tag[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::MAX_COLS;

    fn sheet(rows: &str, after: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C5"/><sheetData>{rows}</sheetData>{after}</worksheet>"#
        )
    }

    fn shifted(xml: &str, shift: &Shift, host: &str) -> String {
        let out =
            shift_part(xml.as_bytes(), "sheet.xml", &Change::Shift(shift.clone()), &PartKind::Sheet { host }).unwrap();
        String::from_utf8(out.unwrap_or_else(|| xml.as_bytes().to_vec())).unwrap()
    }

    #[test]
    fn inserted_rows_renumber_cells_rows_merges_and_formulas() {
        let xml = sheet(
            r#"<row r="1" spans="1:2"><c r="A1"><v>1</v></c><c r="B1"><f>A1+A3</f><v>4</v></c></row><row r="3" ht="20" customHeight="1"><c r="A3" s="2"><v>3</v></c></row>"#,
            r#"<mergeCells count="2"><mergeCell ref="A3:B3"/><mergeCell ref="C1:D1"/></mergeCells><conditionalFormatting sqref="A1:A5"><cfRule type="expression" priority="1"><formula>A3&gt;1</formula></cfRule></conditionalFormatting>"#,
        );
        let s = Shift { sheet: "S".into(), axis: Axis::Rows, at: 1, count: 2, insert: true, band: (0, MAX_COLS - 1) };
        let out = shifted(&xml, &s, "S");
        assert!(out.contains(r#"<dimension ref="A1:C7"/>"#), "{out}");
        assert!(out.contains(r#"<c r="B1"><f>A1+A5</f><v>4</v></c>"#), "{out}");
        assert!(out.contains(r#"<row r="5" ht="20" customHeight="1"><c r="A5" s="2"><v>3</v></c></row>"#), "{out}");
        assert!(out.contains(r#"<mergeCell ref="A5:B5"/><mergeCell ref="C1:D1"/>"#), "{out}");
        assert!(out.contains(r#"sqref="A1:A7""#) && out.contains("<formula>A5&gt;1</formula>"), "{out}");
        // Another sheet's formulas follow; its cells stay.
        let other = shifted(&sheet(r#"<row r="3"><c r="A3"><f>S!A3*2</f></c></row>"#, ""), &s, "T");
        assert!(other.contains(r#"<row r="3"><c r="A3"><f>S!A5*2</f></c></row>"#), "{other}");
        let elsewhere = Change::Shift(Shift { sheet: "Q".into(), ..s.clone() });
        assert_eq!(shift_part(xml.as_bytes(), "x", &elsewhere, &PartKind::Sheet { host: "T" }).unwrap(), None);
    }

    #[test]
    fn deleted_rows_drop_cells_rows_and_lists_left_empty() {
        let xml = sheet(
            r#"<row r="2"><c r="A2"><v>2</v></c></row><row r="3"><c r="A3"><f>SUM(A1:A2)</f></c></row>"#,
            r#"<mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells><dataValidations count="2"><dataValidation sqref="A2"><formula1>1</formula1></dataValidation><dataValidation sqref="A2:A3"/></dataValidations>"#,
        );
        let s = Shift { sheet: "S".into(), axis: Axis::Rows, at: 1, count: 1, insert: false, band: (0, MAX_COLS - 1) };
        let out = shifted(&xml, &s, "S");
        assert!(!out.contains("mergeCell"), "{out}");
        assert!(out.contains(r#"<row r="2"><c r="A2"><f>SUM(A1:A1)</f></c></row>"#), "{out}");
        assert!(out.contains(r#"<dataValidations count="1"><dataValidation sqref="A2"/></dataValidations>"#), "{out}");
    }

    #[test]
    fn a_band_moves_cells_between_rows() {
        let xml = sheet(r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>"#, "");
        let area = Area::parse_a1("B1").unwrap();
        let s = Shift::of_area("S", &area, Axis::Rows, true);
        let out = shifted(&xml, &s, "S");
        assert!(
            out.contains(r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="B2"><v>2</v></c></row>"#),
            "{out}"
        );
    }
}
