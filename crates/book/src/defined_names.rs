//! Defined names: Excel's rules for their text, and their `<definedName>` elements in
//! workbook.xml (changed ones rewritten with their other attributes kept, new ones appended).

use quick_xml::events::Event;

use crate::address::Area;
use crate::error::{BookError, Result};
use crate::model::DefinedName;
use crate::ooxml::xml::escape;

/// Excel's rules for a defined name: a letter, `_` or `\` first, then letters, digits, `_`, `.`,
/// `\` and `?`; at most 255 characters; not `R` or `C`, and nothing that reads as a cell
/// reference (`A1`, `R1C1`).
pub fn check_name_text(name: &str) -> Result<()> {
    let bad = |why: &str| Err(BookError::InvalidEdit(format!("'{name}' cannot be a name: {why}")));
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return bad("a name is not empty") };
    if name.chars().count() > 255 {
        return bad("a name has at most 255 characters");
    }
    if !(first.is_alphabetic() || first == '_' || first == '\\') {
        return bad("a name starts with a letter, _ or \\");
    }
    if !chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '\\' | '?')) {
        return bad("a name holds letters, digits, _ . \\ and ? only");
    }
    if name.eq_ignore_ascii_case("R") || name.eq_ignore_ascii_case("C") {
        return bad("R and C are reserved");
    }
    if Area::parse_a1(name).is_ok() || Area::parse_r1c1(name, (0, 0)).is_ok() {
        return bad("it reads as a cell reference");
    }
    Ok(())
}

/// workbook.xml with its `<definedName>` elements matching `names`: each element's `hidden` and
/// `comment` and its text taken from the model (its other attributes kept), names the file lacks
/// appended. Elements for names the model does not have are left as they are.
pub(crate) fn write_defined_names(data: &[u8], part: &str, names: &[DefinedName]) -> Result<Vec<u8>> {
    let mut events = crate::ooxml::xml::RawEvents::new(data, part);
    let mut out = Vec::with_capacity(data.len() + 256);
    let mut written = vec![false; names.len()];
    let mut prefix = String::new();
    // While inside a rewritten `<definedName>`: skip to its end.
    let mut skipping = false;
    let mut depth = 0usize;
    let mut list_end: Option<usize> = None;
    let mut insert_before: Option<usize> = None;
    let key = |n: &DefinedName| (n.local_sheet, n.name.to_ascii_lowercase());
    while let Some((ev, raw, _)) = events.next()? {
        match ev {
            _ if skipping => {
                if let Event::End(_) = ev {
                    skipping = false;
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let q = e.name();
                let raw_name = q.into_inner().as_bytes();
                let name = crate::ooxml::xml::local_name(raw_name);
                if depth == 0 {
                    if let Some(i) = raw_name.iter().rposition(|&b| b == b':') {
                        prefix = format!("{}:", String::from_utf8_lossy(&raw_name[..i]));
                    }
                }
                if depth == 1 && insert_before.is_none() && list_end.is_none() && AFTER_DEFINED_NAMES.contains(&name) {
                    insert_before = Some(out.len());
                }
                if name == b"definedName" {
                    let local = crate::ooxml::xml::attr_cow(e, b"localSheetId").and_then(|v| v.parse::<usize>().ok());
                    let n = crate::ooxml::xml::attr_cow(e, b"name").unwrap_or_default().to_ascii_lowercase();
                    if let Some(i) = names.iter().position(|m| key(m) == (local, n.clone())) {
                        written[i] = true;
                        let m = &names[i];
                        let mut tag = crate::ooxml::xml::set_attr(raw, b"hidden", m.hidden.then_some("1"));
                        tag =
                            crate::ooxml::xml::set_attr(&tag, b"comment", m.comment.as_deref().map(escape).as_deref());
                        let open = tag.strip_suffix(b"/>").map_or(tag.clone(), |t| [t, b">"].concat());
                        out.extend_from_slice(&open);
                        out.extend_from_slice(escape(&m.formula).as_bytes());
                        out.extend_from_slice(format!("</{prefix}definedName>").as_bytes());
                        skipping = matches!(ev, Event::Start(_));
                        continue;
                    }
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
                out.extend_from_slice(raw);
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let q = e.name();
                let name = crate::ooxml::xml::local_name(q.into_inner().as_bytes());
                if depth == 1 && name == b"definedNames" {
                    list_end = Some(out.len());
                }
                if depth == 0 && insert_before.is_none() {
                    insert_before = Some(out.len());
                }
                out.extend_from_slice(raw);
            }
            _ => out.extend_from_slice(raw),
        }
    }
    let mut new = String::new();
    for (n, done) in names.iter().zip(&written) {
        if *done {
            continue;
        }
        new.push_str(&format!("<{prefix}definedName name=\"{}\"", escape(&n.name)));
        if let Some(c) = &n.comment {
            new.push_str(&format!(" comment=\"{}\"", escape(c)));
        }
        if let Some(i) = n.local_sheet {
            new.push_str(&format!(" localSheetId=\"{i}\""));
        }
        if n.hidden {
            new.push_str(" hidden=\"1\"");
        }
        new.push_str(&format!(">{}</{prefix}definedName>", escape(&n.formula)));
    }
    if new.is_empty() {
        return Ok(out);
    }
    let (at, text) = match (list_end, insert_before) {
        (Some(at), _) => (at, new),
        (None, Some(at)) => (at, format!("<{prefix}definedNames>{new}</{prefix}definedNames>")),
        (None, None) => return Err(BookError::corrupt(part, "no workbook element")),
    };
    out.splice(at..at, text.into_bytes());
    Ok(out)
}

/// Elements that follow `<definedNames>` in workbook.xml, in schema order.
const AFTER_DEFINED_NAMES: [&[u8]; 10] = [
    b"calcPr",
    b"oleSize",
    b"customWorkbookViews",
    b"pivotCaches",
    b"smartTagPr",
    b"smartTagTypes",
    b"webPublishing",
    b"fileRecoveryPr",
    b"webPublishObjects",
    b"extLst",
];
