//! A hand-written reader for the commonest shapes of a worksheet's `<c>` element.
//!
//! Cells are nearly all of a sheet, and an XML event reader spends most of opening on them.
//! This reads `<c …/>`, `<c …><v>…</v></c>` and cells with a plain or shared `<f>`, with
//! unprefixed names and no comments, CDATA or character references in the cell. Anything else
//! answers `None`, and the caller reads that cell with the XML reader, so every cell is read one
//! way or the other with the same result.

use std::borrow::Cow;

/// An `<f>`'s `t`, `ref` and `si` attributes.
pub(crate) type FormulaAttrs = (Option<String>, Option<String>, Option<String>);

/// What a `<c>` element holds: `<v>`, `<is>` and `<f>` (with its `t`, `ref` and `si`).
#[derive(Default)]
pub(crate) struct CellChildren<'a> {
    pub value: Option<Cow<'a, str>>,
    pub inline: Option<String>,
    pub formula: Option<(FormulaAttrs, String)>,
}

/// A cell read by [`scan_cell`]: its `r`, `t` and `s` attributes, whether it has `cm`, and
/// its children.
pub(crate) struct ScannedCell<'a> {
    pub cell_ref: Option<&'a str>,
    pub t: Option<&'a str>,
    pub s: Option<&'a str>,
    pub cm: bool,
    pub children: CellChildren<'a>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    i
}

/// Reads the cell that starts `bytes` (after any whitespace): the number of bytes it takes
/// and the cell, or `None` when it has a shape left to the XML reader.
pub(crate) fn scan_cell(bytes: &[u8]) -> Option<(usize, ScannedCell<'_>)> {
    let start = skip_space(bytes, 0);
    let b = &bytes[start..];
    if !(b.starts_with(b"<c") && b.get(2).is_some_and(|&c| is_space(c) || c == b'>' || c == b'/')) {
        return None;
    }
    let mut cell = ScannedCell { cell_ref: None, t: None, s: None, cm: false, children: CellChildren::default() };
    let (mut i, empty) = scan_attrs(b, 2, |name, value| match name {
        b"r" if cell.cell_ref.is_none() => cell.cell_ref = Some(value),
        b"t" if cell.t.is_none() => cell.t = Some(value),
        b"s" if cell.s.is_none() => cell.s = Some(value),
        b"cm" => cell.cm = true,
        _ => {}
    })?;
    if empty {
        return Some((start + i, cell));
    }
    loop {
        let rest = &b[i..];
        if rest.starts_with(b"</c>") {
            return Some((start + i + 4, cell));
        } else if rest.starts_with(b"<v>") {
            let text_start = i + 3;
            let text_end = text_start + memchr::memchr(b'<', &b[text_start..])?;
            let text = &b[text_start..text_end];
            if text.iter().any(|&c| c == b'&' || c == b'\r') || !b[text_end..].starts_with(b"</v>") {
                return None;
            }
            cell.children.value = Some(Cow::Borrowed(std::str::from_utf8(text).ok()?));
            i = text_end + 4;
        } else if rest.starts_with(b"<f") && rest.get(2).is_some_and(|&c| is_space(c) || c == b'>' || c == b'/') {
            let (mut t, mut r, mut si) = (None, None, None);
            let (after, empty) = scan_attrs(b, i + 2, |name, value| match name {
                b"t" if t.is_none() => t = Some(value.to_string()),
                b"ref" if r.is_none() => r = Some(value.to_string()),
                b"si" if si.is_none() => si = Some(value.to_string()),
                _ => {}
            })?;
            if empty {
                cell.children.formula = Some(((t, r, si), String::new()));
                i = after;
                continue;
            }
            let text_end = after + memchr::memchr(b'<', &b[after..])?;
            if !b[text_end..].starts_with(b"</f>") {
                return None;
            }
            let text = unescape(std::str::from_utf8(&b[after..text_end]).ok()?)?;
            cell.children.formula = Some(((t, r, si), text));
            i = text_end + 4;
        } else {
            return None;
        }
    }
}

/// Reads attributes from `i` (just after the element name) to the end of the start tag,
/// handing each to `each`. Returns where the tag ends and whether it was empty (`/>`).
/// Prefixed names and values that would need unescaping or normalising answer `None`.
fn scan_attrs<'a>(b: &'a [u8], mut i: usize, mut each: impl FnMut(&[u8], &'a str)) -> Option<(usize, bool)> {
    loop {
        i = skip_space(b, i);
        match b.get(i)? {
            b'>' => return Some((i + 1, false)),
            b'/' => return (b.get(i + 1) == Some(&b'>')).then_some((i + 2, true)),
            _ => {}
        }
        let name_start = i;
        while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = &b[name_start..i];
        if name.is_empty() || name.contains(&b':') {
            return None;
        }
        i = skip_space(b, i);
        if b.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_space(b, i + 1);
        let quote = *b.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        let value_end = value_start + memchr::memchr(quote, &b[value_start..])?;
        let value = &b[value_start..value_end];
        if value.iter().any(|&c| matches!(c, b'&' | b'<' | b'\t' | b'\n' | b'\r')) {
            return None;
        }
        each(name, std::str::from_utf8(value).ok()?);
        i = value_end + 1;
    }
}

/// Formula text with XML's five named entities resolved (formulas join text with `&amp;` and
/// compare with `&lt;`/`&gt;`); a character reference or a carriage return (which the XML reader
/// normalizes) answers `None`, leaving the cell to that reader.
fn unescape(text: &str) -> Option<String> {
    if text.contains("&#") || text.contains('\r') {
        return None;
    }
    quick_xml::escape::unescape(text).ok().map(|t| t.into_owned())
}

#[cfg(test)]
mod tests {
    use super::scan_cell;

    fn scan(xml: &str) -> Option<(usize, String)> {
        scan_cell(xml.as_bytes()).map(|(n, c)| {
            let f = c.children.formula.map(|((t, r, si), text)| format!("{t:?}/{r:?}/{si:?}/{text}"));
            (n, format!("{:?} {:?} {:?} {} {:?} {f:?}", c.cell_ref, c.t, c.s, c.cm, c.children.value))
        })
    }

    #[test]
    fn reads_the_common_shapes() {
        let xml = r#"  <c r="B2" s="3" t="s"><v>12</v></c><c r="C2"/>"#;
        let (n, cell) = scan(xml).unwrap();
        assert_eq!(&xml[n..], r#"<c r="C2"/>"#);
        assert_eq!(cell, r#"Some("B2") Some("s") Some("3") false Some("12") None"#);
        let (n, cell) = scan(r#"<c r="C2"/>"#).unwrap();
        assert_eq!((n, cell.as_str()), (11, r#"Some("C2") None None false None None"#));
        let xml = r#"<c r='A1' cm="1"><f t="shared" ref="A1:A9" si="0">B1&amp;"&lt;"</f><v>x</v></c>"#;
        let (n, cell) = scan(xml).unwrap();
        assert_eq!(n, xml.len());
        assert_eq!(
            cell,
            r#"Some("A1") None None true Some("x") Some("Some(\"shared\")/Some(\"A1:A9\")/Some(\"0\")/B1&\"<\"")"#
        );
        let (_, cell) = scan(r#"<c r="A2"><f t="shared" si="0"/><v>1</v></c>"#).unwrap();
        assert!(cell.ends_with(r#"Some("Some(\"shared\")/None/Some(\"0\")/")"#), "{cell}");
    }

    #[test]
    fn leaves_other_shapes_to_the_xml_reader() {
        for xml in [
            r#"<c r="A1" t="inlineStr"><is><t>x</t></is></c>"#,
            r#"<x:c r="A1"><x:v>1</x:v></x:c>"#,
            r#"<c r="A1"><v>1&#10;</v></c>"#,
            r#"<c r="A1"><v><![CDATA[1]]></v></c>"#,
            r#"<c r="A1"> <v>1</v></c>"#,
            r#"<c r="A1"><!-- --><v>1</v></c>"#,
            r#"<c r="A&#49;"><v>1</v></c>"#,
            r#"<c x:r="A1"><v>1</v></c>"#,
            r#"<c r="A1"><f>A&#49;</f></c>"#,
            r#"<c r="A1"><v>1</v>"#,
            r#"<cfRule type="x"/>"#,
            r#"<col min="1"/>"#,
        ] {
            assert!(scan(xml).is_none(), "{xml}");
        }
    }
}
