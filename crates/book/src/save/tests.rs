//! Patching sheets, shared strings, styles and workbook.xml, part by part.

use super::*;

const SHEET: &str = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row><row r="3"><c r="A3"><v>3</v></c></row><row r="4"><c r="A4"><v>4</v></c></row></sheetData></worksheet>"#;

#[test]
fn rows_without_patches_are_copied_whole_and_checked() {
    let mut patches = BTreeMap::new();
    patches.insert((1, 0), Patch::Full(r#"<c r="A2"><v>20</v></c>"#.into()));
    let (out, copied) = patch_sheet(SHEET.as_bytes(), "s.xml", &patches).unwrap();
    let out_text = String::from_utf8(out.clone()).unwrap();
    assert!(out_text.contains(r#"<c r="A2"><v>20</v></c>"#));
    // Row 1 is one copied span; rows 3 and 4 are merged into another.
    assert_eq!(copied.len(), 2);
    for span in &copied {
        assert_eq!(&out[span.out.clone()], &SHEET.as_bytes()[span.orig.clone()]);
    }
    assert!(out_text[copied[1].out.clone()].starts_with(r#"<row r="3">"#));
    assert!(out_text[copied[1].out.clone()].ends_with("</row>"));
    verify_sheet_xml_except(&out, "s.xml", &[], &copied, SHEET.as_bytes()).unwrap();
    // A copy that differs from its original is refused.
    let mut tampered = out.clone();
    let at = copied[1].out.start + 20;
    tampered[at] = b'9';
    assert!(verify_sheet_xml_except(&tampered, "s.xml", &[], &copied, SHEET.as_bytes()).is_err());
}

#[test]
fn cells_before_the_first_patched_one_are_copied_whole() {
    let sheet = SHEET.replace(
        r#"<row r="2"><c r="A2"><v>2</v></c>"#,
        r#"<row r="2"><c r="A2"><v>2</v></c><c r="B2" t="inlineStr"><is><t>x r="C2"</t></is></c><c s="1" r="C2"><v>5</v></c>"#,
    );
    let mut patches = BTreeMap::new();
    patches.insert((1, 2), Patch::Refresh { t: None, v: "6".into() });
    let (out, copied) = patch_sheet(sheet.as_bytes(), "s.xml", &patches).unwrap();
    let out_text = String::from_utf8(out.clone()).unwrap();
    // The address inside the inline string is not taken for the cell.
    assert!(
        out_text.contains(r#"<c r="B2" t="inlineStr"><is><t>x r="C2"</t></is></c><c s="1" r="C2"><v>6</v></c>"#),
        "{out_text}"
    );
    verify_sheet_xml_except(&out, "s.xml", &[], &copied, sheet.as_bytes()).unwrap();
}

#[test]
fn a_row_holding_a_comment_is_read_not_searched() {
    let sheet = SHEET.replace(r#"<row r="3">"#, r#"<row r="3"><!-- </row> -->"#);
    let mut patches = BTreeMap::new();
    patches.insert((0, 0), Patch::Full(r#"<c r="A1"><v>10</v></c>"#.into()));
    let (out, copied) = patch_sheet(sheet.as_bytes(), "s.xml", &patches).unwrap();
    let out_text = String::from_utf8(out).unwrap();
    assert!(out_text.contains(r#"<row r="3"><!-- </row> --><c r="A3"><v>3</v></c></row>"#));
    assert!(copied.iter().all(|s| !sheet[s.orig.clone()].contains("<!--")));
}
