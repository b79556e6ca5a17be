//! styles.xml: new number formats and cell formats appended, never renumbered.

use super::*;

pub(super) fn patch_styles(
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
                let l = crate::ooxml::xml::local(e).to_vec();
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
                            Event::Start(ref x) | Event::Empty(ref x) if crate::ooxml::xml::local(x) == b"numFmt" => {
                                n += 1
                            }
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
