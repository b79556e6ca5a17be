use super::*;
use crate::address::MAX_COLS;

fn sheet(rows: &str, after: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C5"/><sheetData>{rows}</sheetData>{after}</worksheet>"#
    )
}

fn shifted(xml: &str, shift: &Shift, host: &str) -> String {
    let out =
        shift_part(xml.as_bytes(), "sheet.xml", &Change::Shift(shift.clone()), &PartKind::Sheet { host }).unwrap();
    String::from_utf8(out.unwrap_or_else(|| xml.as_bytes().to_vec())).unwrap()
}

#[test]
fn inserted_rows_renumber_cells_rows_merges_and_formulas() {
    let xml = sheet(
        r#"<row r="1" spans="1:2"><c r="A1"><v>1</v></c><c r="B1"><f>A1+A3</f><v>4</v></c></row><row r="3" ht="20" customHeight="1"><c r="A3" s="2"><v>3</v></c></row>"#,
        r#"<mergeCells count="2"><mergeCell ref="A3:B3"/><mergeCell ref="C1:D1"/></mergeCells><conditionalFormatting sqref="A1:A5"><cfRule type="expression" priority="1"><formula>A3&gt;1</formula></cfRule></conditionalFormatting>"#,
    );
    let s = Shift { sheet: "S".into(), axis: Axis::Rows, at: 1, count: 2, insert: true, band: (0, MAX_COLS - 1) };
    let out = shifted(&xml, &s, "S");
    assert!(out.contains(r#"<dimension ref="A1:C7"/>"#), "{out}");
    assert!(out.contains(r#"<c r="B1"><f>A1+A5</f><v>4</v></c>"#), "{out}");
    assert!(out.contains(r#"<row r="5" ht="20" customHeight="1"><c r="A5" s="2"><v>3</v></c></row>"#), "{out}");
    assert!(out.contains(r#"<mergeCell ref="A5:B5"/><mergeCell ref="C1:D1"/>"#), "{out}");
    assert!(out.contains(r#"sqref="A1:A7""#) && out.contains("<formula>A5&gt;1</formula>"), "{out}");
    // Another sheet's formulas follow; its cells stay.
    let other = shifted(&sheet(r#"<row r="3"><c r="A3"><f>S!A3*2</f></c></row>"#, ""), &s, "T");
    assert!(other.contains(r#"<row r="3"><c r="A3"><f>S!A5*2</f></c></row>"#), "{other}");
    let elsewhere = Change::Shift(Shift { sheet: "Q".into(), ..s.clone() });
    assert_eq!(shift_part(xml.as_bytes(), "x", &elsewhere, &PartKind::Sheet { host: "T" }).unwrap(), None);
}

#[test]
fn deleted_rows_drop_cells_rows_and_lists_left_empty() {
    let xml = sheet(
        r#"<row r="2"><c r="A2"><v>2</v></c></row><row r="3"><c r="A3"><f>SUM(A1:A2)</f></c></row>"#,
        r#"<mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells><dataValidations count="2"><dataValidation sqref="A2"><formula1>1</formula1></dataValidation><dataValidation sqref="A2:A3"/></dataValidations>"#,
    );
    let s = Shift { sheet: "S".into(), axis: Axis::Rows, at: 1, count: 1, insert: false, band: (0, MAX_COLS - 1) };
    let out = shifted(&xml, &s, "S");
    assert!(!out.contains("mergeCell"), "{out}");
    assert!(out.contains(r#"<row r="2"><c r="A2"><f>SUM(A1:A1)</f></c></row>"#), "{out}");
    assert!(out.contains(r#"<dataValidations count="1"><dataValidation sqref="A2"/></dataValidations>"#), "{out}");
}

#[test]
fn a_band_moves_cells_between_rows() {
    let xml = sheet(r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>"#, "");
    let area = Area::parse_a1("B1").unwrap();
    let s = Shift::of_area("S", &area, Axis::Rows, true);
    let out = shifted(&xml, &s, "S");
    assert!(out.contains(r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="B2"><v>2</v></c></row>"#), "{out}");
}
