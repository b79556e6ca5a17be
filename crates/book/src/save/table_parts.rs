//! Table parts written from the model: an existing part rewritten (kept bytes where nothing
//! changed), or a new one as Excel writes it.

use super::*;
use crate::ooxml::xml::{escape_x, local_name, set_attr, RawEvents};

/// A table part following its model: `ref`, the filter, names, style, and its columns (kept
/// elements in the model's order with the model's names, new ones added, deleted ones gone);
/// the formulas it keeps follow a rename of the table and `fates` of its columns.
pub(super) fn write_table_part(
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
                has_filter |= depth == 1 && local_name(e.name().into_inner().as_bytes()) == b"autoFilter";
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
        match crate::ooxml::xml::attr_cow(e, key) {
            Some(v) if v == want => tag,
            _ => set_attr(&tag, key, Some(&crate::ooxml::xml::escape(want))),
        }
    };
    let set_bool = |tag: Vec<u8>, e: &quick_xml::events::BytesStart<'_>, key: &[u8], want: bool| -> Vec<u8> {
        let now = crate::ooxml::xml::attr_cow(e, key).is_some_and(|v| v == "1" || v == "true");
        if now == want {
            tag
        } else {
            set_attr(&tag, key, Some(if want { "1" } else { "0" }))
        }
    };
    let count_attr = |e: &quick_xml::events::BytesStart<'_>, key: &[u8], default: u32| {
        crate::ooxml::xml::attr_cow(e, key).and_then(|v| v.parse::<u32>().ok()).unwrap_or(default)
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
                let name = local_name(q.into_inner().as_bytes());
                let at_depth = depth;
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
                match name {
                    b"table" if at_depth == 0 => {
                        old_name = crate::ooxml::xml::attr_cow(e, b"displayName").map(|v| v.into_owned());
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
                        let id = crate::ooxml::xml::attr_cow(e, b"id").and_then(|v| v.parse().ok()).unwrap_or(0);
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
                            let now = crate::ooxml::xml::attr_cow(e, b"name")
                                .map(|v| crate::ooxml::xml::decode_x_escapes(&v).into_owned());
                            if now.as_deref() != Some(t.columns[k].as_str()) {
                                let want = escape_x(&t.columns[k], true);
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
                        bytes = crate::ooxml::xml::escape(&f).into_owned().into_bytes();
                    }
                }
            }
            Event::End(ref e) => {
                in_formula = false;
                depth = depth.saturating_sub(1);
                let name = local_name(e.name().into_inner().as_bytes());
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
                                        escape_x(&t.columns[k], true)
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

/// A new table's part, written from the model as Excel writes one.
pub(super) fn new_table_part(t: &crate::model::Table, strict: bool) -> Vec<u8> {
    let ns = crate::ooxml::consts::main_ns(strict);
    let a = &t.area;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<table xmlns=\"{ns}\" id=\"{}\" name=\"{}\" displayName=\"{}\" ref=\"{}\" totalsRowShown=\"0\">",
        t.id,
        crate::ooxml::xml::escape(&t.name),
        crate::ooxml::xml::escape(&t.display_name),
        a.to_a1()
    );
    if t.style.auto_filter {
        let filter = Area::cells(a.first_row, a.first_col, a.last_row - t.totals_rows.min(1), a.last_col);
        xml.push_str(&format!("<autoFilter ref=\"{}\"/>", filter.to_a1()));
    }
    xml.push_str(&format!("<tableColumns count=\"{}\">", t.columns.len()));
    for (id, name) in t.column_ids.iter().zip(&t.columns) {
        xml.push_str(&format!("<tableColumn id=\"{id}\" name=\"{}\"/>", escape_x(name, true)));
    }
    xml.push_str("</tableColumns>");
    let flag = |b: bool| if b { "1" } else { "0" };
    xml.push_str(&format!(
        "<tableStyleInfo name=\"{}\" showFirstColumn=\"{}\" showLastColumn=\"{}\" showRowStripes=\"{}\" showColumnStripes=\"{}\"/></table>",
        crate::ooxml::xml::escape(t.style.name.as_deref().unwrap_or("TableStyleMedium2")),
        flag(t.style.show_first_column),
        flag(t.style.show_last_column),
        flag(t.style.show_row_stripes),
        flag(t.style.show_column_stripes),
    ));
    xml.into_bytes()
}
