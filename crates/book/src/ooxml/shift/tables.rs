//! A worksheet's `<tableParts>` list: a part added or removed.

use super::*;

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
                let name = local_name(raw_name);
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
                if depth == 1 && local_name(e.name().into_inner().as_bytes()) == b"tableParts" {
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
    let element = format!("<{prefix}tablePart{ns_attr} r:id=\"{}\"/>", crate::ooxml::xml::escape(rel_id));
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
            Event::Start(ref e) if local_name(e.name().into_inner().as_bytes()) == b"tableParts" => {
                list = Some((out.len(), raw.len()));
                kept = 0;
                out.extend_from_slice(raw);
            }
            Event::Empty(ref e) | Event::Start(ref e)
                if local_name(e.name().into_inner().as_bytes()) == b"tablePart" =>
            {
                if crate::ooxml::xml::rel_id(e).as_deref() == Some(rel_id) {
                    continue;
                }
                kept += 1;
                out.extend_from_slice(raw);
            }
            Event::End(ref e) if local_name(e.name().into_inner().as_bytes()) == b"tableParts" => match list.take() {
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
