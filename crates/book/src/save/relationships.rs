//! Package plumbing: relationships, content-type overrides, new worksheet parts.

use super::*;

/// A `.rels` part with no relationship yet.
pub(super) fn empty_rels() -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"{PACKAGE_REL_NS}\"></Relationships>")
}

/// `to` as a relationship target from `from`'s folder (`xl/worksheets/sheet1.xml` to
/// `xl/tables/table1.xml` is `../tables/table1.xml`).
pub(super) fn relative_target(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let from_dir = &from_dir[..from_dir.len().saturating_sub(1)];
    let to_parts: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = from_dir.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    let mut out: Vec<&str> = vec![".."; from_dir.len() - common];
    out.extend_from_slice(&to_parts[common..]);
    out.join("/")
}

/// A new, empty worksheet part.
pub(super) fn empty_worksheet(strict: bool) -> String {
    let (main, rels) = (main_ns(strict), rel_ns(strict));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"{main}\" \
         xmlns:r=\"{rels}\"><dimension ref=\"A1\"/><sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>\
         <sheetFormatPr defaultRowHeight=\"15\"/><sheetData/></worksheet>"
    )
}

pub(super) fn add_relationship(rels: &[u8], rel_type: &str, target: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(rels);
    let mut n = 1;
    while text.contains(&format!("Id=\"rIdWb{n}\"")) {
        n += 1;
    }
    let rel = format!("<Relationship Id=\"rIdWb{n}\" Type=\"{rel_type}\" Target=\"{target}\"/>");
    insert_before_last_close(&text, &rel).into_bytes()
}

pub(super) fn insert_before_last_close(text: &str, insert: &str) -> String {
    match text.rfind("</") {
        Some(p) => format!("{}{insert}{}", &text[..p], &text[p..]),
        None => format!("{text}{insert}"),
    }
}

pub(super) fn add_override(ct: &[u8], part: &str, content_type: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(ct);
    let o = format!("<Override PartName=\"/{}\" ContentType=\"{content_type}\"/>", normalize(part));
    insert_before_last_close(&text, &o).into_bytes()
}

/// Removes the element `<tag .../>` (or `<tag ...>...</tag>`) whose attribute matches.
pub(super) fn remove_element_where(
    xml: &[u8],
    tag: &[u8],
    pred: impl Fn(&quick_xml::events::BytesStart<'_>) -> bool,
) -> Vec<u8> {
    let mut reader = Reader::from_reader(xml);
    let mut out = Vec::with_capacity(xml.len());
    let mut last = 0;
    loop {
        let s = reader.buffer_position() as usize;
        let Ok(ev) = reader.read_event() else { return xml.to_vec() };
        let e_pos = reader.buffer_position() as usize;
        match ev {
            Event::Eof => break,
            Event::Empty(ref e) if crate::ooxml::xml::local(e) == tag && pred(e) => {
                out.extend_from_slice(&xml[last..s]);
                last = e_pos;
            }
            Event::Start(ref e) if crate::ooxml::xml::local(e) == tag && pred(e) => {
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

pub(super) fn remove_relationship(rels: &[u8], id: &str) -> Vec<u8> {
    remove_element_where(rels, b"Relationship", |e| attr_value(e, b"Id").as_deref() == Some(id))
}

pub(super) fn remove_override(ct: &[u8], part: &str) -> Vec<u8> {
    remove_element_where(ct, b"Override", |e| {
        attr_value(e, b"PartName").is_some_and(|p| normalize(&p).eq_ignore_ascii_case(normalize(part)))
    })
}
