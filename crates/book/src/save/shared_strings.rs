//! The shared string table: extended with the new strings, never renumbered; created when the package has none.

use super::*;

pub(super) fn append_shared_strings(original: &[u8], part: &str, new: &[String], total: usize) -> Result<Vec<u8>> {
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

pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Runs an XML rewrite on a part without its byte-order mark, then puts the mark back: the
/// rewrites slice the input by reader positions, which a BOM would shift.
pub(super) fn keep_bom(data: &[u8], rewrite: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    match data.strip_prefix(UTF8_BOM) {
        Some(rest) => {
            let mut out = UTF8_BOM.to_vec();
            out.extend(rewrite(rest)?);
            Ok(out)
        }
        None => rewrite(data),
    }
}

pub(super) fn keep_bom_infallible(data: &[u8], rewrite: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
    keep_bom(data, |d| Ok(rewrite(d))).unwrap_or_else(|_| data.to_vec())
}

pub(super) fn escape_sst(s: &str) -> String {
    crate::ooxml::xml::escape_x(s, false)
}

pub(super) fn create_shared_strings(
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
    let ns = main_ns(wb.model.strict);
    let empty = format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<sst xmlns=\"{ns}\" count=\"0\" uniqueCount=\"0\"></sst>");
    let total = wb.changes.new_strings.len();
    let xml = append_shared_strings(empty.as_bytes(), &part, &wb.changes.new_strings, total)?;
    added.push((part.clone(), xml));
    // Relationship from the workbook.
    let rels_name = rels_part_name(&wb_part);
    let rels_xml = current(wb.pkg, replaced, &rels_name)?;
    let rel_type = relationship_type(wb.model.strict, "sharedStrings");
    replaced.insert(real_name(wb.pkg, &rels_name), add_relationship(&rels_xml, &rel_type, "sharedStrings.xml"));
    let ct = current(wb.pkg, replaced, "[Content_Types].xml")?;
    replaced.insert(real_name(wb.pkg, "[Content_Types].xml"), add_override(&ct, &part, SHARED_STRINGS_CONTENT_TYPE));
    Ok(part)
}
