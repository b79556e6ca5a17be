//! A sheet's changed cells patched into its XML: only the `<c>` elements edits touched are rewritten; the rows between are copied whole (and recorded for the loss guard).

use super::*;

/// How one cell changes in the sheet XML.
pub(super) enum Patch {
    /// The whole `<c>` element is replaced (empty string: removed).
    Full(String),
    /// Only the cached result changes: new `t` attribute (None = number) and `<v>` text.
    Refresh { t: Option<&'static str>, v: String },
}

pub(super) fn number_text(n: f64) -> String {
    let a = n.abs();
    if a == 0.0 || (1e-6..1e16).contains(&a) {
        format!("{n}")
    } else {
        format!("{n:E}")
    }
}

/// `t` attribute and `<v>` text for a formula result.
pub(super) fn result_xml(v: &Value) -> (Option<&'static str>, String) {
    match v {
        Value::Empty => (Some("str"), String::new()),
        Value::Number(n) => (None, number_text(*n)),
        Value::Text(s) => (Some("str"), escape(s).into_owned()),
        Value::Bool(b) => (Some("b"), if *b { "1" } else { "0" }.into()),
        Value::Error(e) => (Some("e"), e.as_str().into()),
    }
}

pub(super) fn cell_xml(
    wb: &mut SaveInput<'_>,
    row: u32,
    col: u32,
    style: u32,
    formula: Option<&str>,
    value: &Value,
) -> String {
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

pub(super) fn attr_value<'a>(
    e: &'a quick_xml::events::BytesStart<'_>,
    key: &[u8],
) -> Option<std::borrow::Cow<'a, str>> {
    crate::ooxml::xml::attr_cow(e, key)
}

/// Rewrites a start tag without the named attributes, optionally appending new ones.
pub(super) fn rebuild_start(raw: &[u8], drop: &[&[u8]], extra: &str, self_closing: bool) -> Vec<u8> {
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
pub(super) fn split_attrs(s: &str) -> Vec<(String, String)> {
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
pub(super) fn patch_sheet(
    data: &[u8],
    part: &str,
    patches: &BTreeMap<(u32, u32), Patch>,
) -> Result<(Vec<u8>, Vec<CopiedSpan>)> {
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
    let mut copied: Vec<CopiedSpan> = Vec::new();
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
                match crate::ooxml::xml::local(e) {
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
pub(super) fn end_of_element(data: &[u8], from: usize, close: &str) -> Option<usize> {
    let at = from + memchr::memmem::find(&data[from..], close.as_bytes())?;
    if memchr::memmem::find(&data[from..at], b"<!").is_some() {
        return None;
    }
    Some(at + close.len())
}

/// Where the first patched cell of `row` starts, searched by its address in the row whose start
/// tag ends at `from`; `None` (read the row instead) unless it is plainly a cell start tag with
/// that `r` and nothing in the row could mislead a byte search.
pub(super) fn first_patched_cell(
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
pub(super) fn copy_whole(out: &mut Vec<u8>, copied: &mut Vec<CopiedSpan>, data: &[u8], orig: std::ops::Range<usize>) {
    let start = out.len();
    out.extend_from_slice(&data[orig.clone()]);
    match copied.last_mut() {
        Some(c) if c.out.end == start && c.orig.end == orig.start => {
            c.out.end = out.len();
            c.orig.end = orig.end;
        }
        _ => copied.push(CopiedSpan { out: start..out.len(), orig }),
    }
}

pub(super) fn local_end(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// New cells are written unprefixed; sheets that prefix the main namespace get the prefix.
pub(super) fn with_prefix(xml: &str, prefix: &str) -> String {
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
pub(super) fn new_dimension(data: &[u8], patches: &BTreeMap<(u32, u32), Patch>) -> Option<Area> {
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
                let l = crate::ooxml::xml::local(&e).to_vec();
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
pub(super) fn refresh_cell(
    elem: &[u8],
    start_tag: &[u8],
    empty: bool,
    t: Option<&str>,
    v: &str,
    prefix: &str,
) -> Vec<u8> {
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
                let l: &[u8] = crate::ooxml::xml::local(e);
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
