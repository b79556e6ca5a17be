//! A worksheet's `<mergeCells>` list.

use super::*;

/// Elements that follow `<mergeCells>` in a worksheet, in schema order: a new list goes before
/// the first of them.
pub(super) const AFTER_MERGE_CELLS: [&[u8]; 24] = [
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
                    let local_name = local_name(raw_name);
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
                    if depth == 1 && span.is_none() && local_name(e.name().into_inner().as_bytes()) == name {
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
