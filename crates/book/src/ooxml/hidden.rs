//! A worksheet's hidden rows and columns written from the model: each `<row>`'s `hidden`
//! attribute (an empty `<row hidden="1"/>` where a hidden row had none) and the `<cols>` list
//! (elements split where hiding changes inside them, new ones for hidden columns without one).
//! Everything else keeps its bytes.

use quick_xml::events::Event;

use crate::error::Result;
use crate::ooxml::shift::TopElement;
use crate::ooxml::xml::{local_name, set_attr, RawEvents};

/// The width of a column Excel has not sized, in its units (Calibri 11).
const STANDARD_WIDTH: &str = "9.140625";

fn prefix_of(raw_name: &[u8]) -> String {
    raw_name
        .iter()
        .rposition(|&b| b == b':')
        .map(|i| format!("{}:", String::from_utf8_lossy(&raw_name[..i])))
        .unwrap_or_default()
}

/// Each row's `hidden` as `hidden` (0-based, ascending) says.
pub(crate) fn set_hidden_rows(data: &[u8], part: &str, hidden: &[u32]) -> Result<Vec<u8>> {
    let mut events = RawEvents::new(data, part);
    let mut out = Vec::with_capacity(data.len() + hidden.len() * 24);
    let (mut depth, mut in_data, mut next_row, mut pending) = (0usize, false, 0u32, 0usize);
    let mut prefix = String::new();
    let new_rows = |out: &mut Vec<u8>, prefix: &str, pending: &mut usize, below: u32| {
        while *pending < hidden.len() && hidden[*pending] < below {
            out.extend_from_slice(format!("<{prefix}row r=\"{}\" hidden=\"1\"/>", hidden[*pending] + 1).as_bytes());
            *pending += 1;
        }
    };
    while let Some((ev, raw, _)) = events.next()? {
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let q = e.name();
                let name = local_name(q.into_inner().as_bytes());
                let empty = matches!(ev, Event::Empty(_));
                if depth == 1 && name == b"sheetData" {
                    prefix = prefix_of(q.into_inner().as_bytes());
                    if empty {
                        // `<sheetData/>`: opened to take the hidden rows.
                        let open = &raw[..raw.len() - 2];
                        out.extend_from_slice(open);
                        out.push(b'>');
                        new_rows(&mut out, &prefix, &mut pending, u32::MAX);
                        out.extend_from_slice(format!("</{prefix}sheetData>").as_bytes());
                        continue;
                    }
                    in_data = true;
                } else if in_data && depth == 2 && name == b"row" {
                    let row = crate::ooxml::xml::attr_cow(e, b"r")
                        .and_then(|v| v.parse::<u32>().ok())
                        .map_or(next_row, |r| r.saturating_sub(1));
                    next_row = row + 1;
                    new_rows(&mut out, &prefix, &mut pending, row);
                    let want = hidden.binary_search(&row).is_ok();
                    if want && pending < hidden.len() && hidden[pending] == row {
                        pending += 1;
                    }
                    let now = crate::ooxml::xml::attr_cow(e, b"hidden").is_some_and(|v| v == "1" || v == "true");
                    let tag = if now == want { raw.to_vec() } else { set_attr(raw, b"hidden", want.then_some("1")) };
                    out.extend_from_slice(&tag);
                    if !empty {
                        depth += 1;
                    }
                    continue;
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if in_data && depth == 1 && local_name(e.name().into_inner().as_bytes()) == b"sheetData" {
                    new_rows(&mut out, &prefix, &mut pending, u32::MAX);
                    in_data = false;
                }
            }
            _ => {}
        }
        out.extend_from_slice(raw);
    }
    out.extend_from_slice(events.rest());
    Ok(out)
}

/// The `<cols>` list with `hidden` as `hidden` (0-based, ascending) says.
pub(crate) fn set_hidden_cols(data: &[u8], part: &str, hidden: &[u32]) -> Result<Vec<u8>> {
    let at = TopElement::locate(data, part, b"cols", &[b"sheetData"])?;
    let prefix = at.prefix.clone();
    // The existing `<col>` elements: min, max (0-based) and their bytes.
    let mut cols: Vec<(u32, u32, Vec<u8>)> = Vec::new();
    if let Some((from, to)) = at.span {
        let mut events = RawEvents::new(&data[from..to], part);
        while let Some((ev, raw, _)) = events.next()? {
            let (Event::Start(e) | Event::Empty(e)) = &ev else { continue };
            if local_name(e.name().into_inner().as_bytes()) != b"col" {
                continue;
            }
            let bound = |k: &[u8]| crate::ooxml::xml::attr_cow(e, k).and_then(|v| v.parse::<u32>().ok());
            if let (Some(lo), Some(hi)) = (bound(b"min"), bound(b"max")) {
                if lo >= 1 && hi >= lo {
                    cols.push((lo - 1, hi - 1, raw.to_vec()));
                }
            }
        }
    }
    let is_hidden = |c: u32| hidden.binary_search(&c).is_ok();
    let mut segments: Vec<(u32, Vec<u8>)> = Vec::new();
    // Existing elements, split where hiding changes inside them.
    for (lo, hi, raw) in &cols {
        let mut start = *lo;
        while start <= *hi {
            let h = is_hidden(start);
            let mut stop = start;
            while stop < *hi && is_hidden(stop + 1) == h {
                stop += 1;
            }
            let mut tag = raw.clone();
            if (start, stop) != (*lo, *hi) {
                tag = set_attr(&tag, b"min", Some(&(start + 1).to_string()));
                tag = set_attr(&tag, b"max", Some(&(stop + 1).to_string()));
            }
            let now = tag_hidden(&tag);
            if now != h {
                tag = set_attr(&tag, b"hidden", h.then_some("1"));
            }
            segments.push((start, tag));
            start = stop + 1;
        }
    }
    // Hidden columns no element covers.
    let covered = |c: u32| cols.iter().any(|(lo, hi, _)| (*lo..=*hi).contains(&c));
    let mut i = 0;
    while i < hidden.len() {
        if covered(hidden[i]) {
            i += 1;
            continue;
        }
        let start = hidden[i];
        let mut stop = start;
        while i + 1 < hidden.len() && hidden[i + 1] == stop + 1 && !covered(stop + 1) {
            i += 1;
            stop += 1;
        }
        let tag = format!(
            "<{prefix}col min=\"{}\" max=\"{}\" width=\"{STANDARD_WIDTH}\" hidden=\"1\"/>",
            start + 1,
            stop + 1
        );
        segments.push((start, tag.into_bytes()));
        i += 1;
    }
    segments.sort_by_key(|(start, _)| *start);
    let mut text = Vec::new();
    if !segments.is_empty() {
        text.extend_from_slice(format!("<{prefix}cols>").as_bytes());
        for (_, tag) in &segments {
            text.extend_from_slice(tag);
        }
        text.extend_from_slice(format!("</{prefix}cols>").as_bytes());
    }
    Ok(at.replace(data, &text))
}

fn tag_hidden(tag: &[u8]) -> bool {
    let mut reader = quick_xml::Reader::from_reader(tag);
    match reader.read_event() {
        Ok(Event::Empty(e)) | Ok(Event::Start(e)) => {
            crate::ooxml::xml::attr_cow(&e, b"hidden").is_some_and(|v| v == "1" || v == "true")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHEET: &str = r#"<worksheet xmlns="m"><sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="4" width="12" customWidth="1"/><col min="6" max="6" width="3" hidden="1"/></cols><sheetData><row r="2" spans="1:2"><c r="A2"><v>1</v></c></row><row r="5" hidden="1"><c r="A5"><v>2</v></c></row></sheetData></worksheet>"#;

    fn text(b: Vec<u8>) -> String {
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn rows_are_hidden_and_shown() {
        let out = text(set_hidden_rows(SHEET.as_bytes(), "s", &[0, 1, 6]).unwrap());
        assert!(
            out.contains(r#"<sheetData><row r="1" hidden="1"/><row hidden="1" r="2" spans="1:2"><c r="A2">"#),
            "{out}"
        );
        assert!(out.contains(r#"<row r="5"><c r="A5">"#), "row 5 shown: {out}");
        assert!(out.contains(r#"</row><row r="7" hidden="1"/></sheetData>"#), "{out}");
        let empty = r#"<worksheet><sheetData/></worksheet>"#;
        assert_eq!(
            text(set_hidden_rows(empty.as_bytes(), "s", &[2]).unwrap()),
            r#"<worksheet><sheetData><row r="3" hidden="1"/></sheetData></worksheet>"#
        );
        // Nothing to change: the same bytes.
        assert_eq!(text(set_hidden_rows(SHEET.as_bytes(), "s", &[4]).unwrap()), SHEET);
    }

    #[test]
    fn columns_are_split_hidden_and_shown() {
        let out = text(set_hidden_cols(SHEET.as_bytes(), "s", &[1, 2, 7]).unwrap());
        assert!(
            out.contains(concat!(
                r#"<cols><col min="1" max="1" width="12" customWidth="1"/>"#,
                r#"<col hidden="1" min="2" max="3" width="12" customWidth="1"/>"#,
                r#"<col min="4" max="4" width="12" customWidth="1"/>"#,
                r#"<col min="6" max="6" width="3"/>"#,
                r#"<col min="8" max="8" width="9.140625" hidden="1"/></cols>"#
            )),
            "{out}"
        );
        // A sheet without `<cols>` gets one before its data; none hidden and none left: it goes.
        let bare = r#"<worksheet><sheetData/></worksheet>"#;
        assert_eq!(
            text(set_hidden_cols(bare.as_bytes(), "s", &[0]).unwrap()),
            r#"<worksheet><cols><col min="1" max="1" width="9.140625" hidden="1"/></cols><sheetData/></worksheet>"#
        );
        let only = r#"<worksheet><cols><col min="2" max="2" hidden="1"/></cols><sheetData/></worksheet>"#;
        assert!(text(set_hidden_cols(only.as_bytes(), "s", &[]).unwrap())
            .contains(r#"<cols><col min="2" max="2"/></cols>"#));
    }
}
