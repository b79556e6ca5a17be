//! workbook.xml after sheets moved or went.

use super::*;

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
                    skipping = local_name(e.name().into_inner().as_bytes()) != b"definedName";
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let q = e.name();
                let name = local_name(q.into_inner().as_bytes());
                let mut tag = raw.to_vec();
                let attrs: &[&[u8]] = match name {
                    b"definedName" => &[b"localSheetId"],
                    b"workbookView" => &[b"activeTab", b"firstSheet"],
                    _ => &[],
                };
                let mut drop = false;
                for attr in attrs {
                    let Some(i) = crate::ooxml::xml::attr_cow(e, attr).and_then(|v| v.parse::<usize>().ok()) else {
                        continue;
                    };
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
