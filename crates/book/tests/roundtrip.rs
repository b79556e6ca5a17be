//! Open, edit, recalculate, save and reopen generated workbooks; what was not edited must come
//! back byte for byte.

mod common;

use book::{CellInput, Edit, Record, SetCells, Value, Workbook};
use common::{unzip, Fixture};

/// A1 = 21, B1 = A1*2 (cached 42), A2 = "apple" (shared string), C1 = a date serial with the
/// custom date format, and B2:B3 a shared formula B2 = A2&"!" / B3 = A3&"!".
fn sample() -> Vec<u8> {
    Fixture::one_sheet(
        r#"<row r="1"><c r="A1"><v>21</v></c><c r="B1"><f>A1*2</f><v>42</v></c><c r="C1" s="1"><v>45292</v></c></row><row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="str"><f t="shared" ref="B2:B3" si="0">A2&amp;"!"</f><v>apple!</v></c></row><row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3" t="str"><f t="shared" si="0"/><v>pear!</v></c></row>"#,
        &["apple", "pear"],
    )
    .zip()
}

fn set(sheet: &str, row: u32, col: u32, input: CellInput) -> Edit {
    common::set_cell(sheet, row, col, input)
}

#[test]
fn reads_values_formulas_and_text() {
    let wb = Workbook::open(sample()).unwrap();
    let b1 = wb.cell("Sheet1", 0, 1).unwrap();
    assert_eq!(b1.value, Value::Number(42.0));
    assert_eq!(b1.formula.as_deref(), Some("=A1*2"));
    assert_eq!(wb.cell("Sheet1", 1, 0).unwrap().value, Value::Text("apple".into()));
    // The shared formula's follower has its own shifted text.
    assert_eq!(wb.cell("Sheet1", 2, 1).unwrap().formula.as_deref(), Some("=A3&\"!\""));
    let c1 = wb.cell("Sheet1", 0, 2).unwrap();
    assert_eq!(c1.number_format, "yyyy\\-mm\\-dd");
    assert_eq!(c1.text, "2024-01-01");
}

#[test]
fn edit_recalculates_dependents_and_save_keeps_the_rest() {
    let original = sample();
    let mut wb = Workbook::open(original.clone()).unwrap();
    wb.edit(set("Sheet1", 0, 0, CellInput::Number(50.0))).unwrap();
    wb.edit(set("Sheet1", 2, 0, CellInput::Text("plum".into()))).unwrap();
    wb.edit(set("Sheet1", 5, 3, CellInput::Formula("SUM(A1,B1)".into()))).unwrap();
    assert_eq!(wb.cell("Sheet1", 0, 1).unwrap().value, Value::Number(100.0));
    assert_eq!(wb.cell("Sheet1", 2, 1).unwrap().value, Value::Text("plum!".into()));
    assert_eq!(wb.cell("Sheet1", 5, 3).unwrap().value, Value::Number(150.0));

    let saved = wb.save().unwrap();
    let before = unzip(&original);
    let after = unzip(&saved);
    // Parts the edits did not touch are identical; the unmodelled comments part is among them.
    for untouched in ["docProps/app.xml", "xl/comments1.xml", "xl/worksheets/_rels/sheet1.xml.rels", "_rels/.rels"] {
        assert_eq!(before[untouched], after[untouched], "{untouched} changed");
    }
    // The new string is appended to the table, not renumbered.
    let sst = String::from_utf8(after["xl/sharedStrings.xml"].clone()).unwrap();
    assert!(sst.contains("<si><t>apple</t></si><si><t>pear</t></si>"), "{sst}");
    assert!(sst.contains("plum"), "{sst}");
    // The sheet keeps what the document core does not model.
    let sheet = String::from_utf8(after["xl/worksheets/sheet1.xml"].clone()).unwrap();
    for kept in
        ["<mergeCell ref=\"E1:F1\"/>", "<dataValidation type=\"whole\" sqref=\"A1\">", "<legacyDrawing r:id=\"rId1\"/>"]
    {
        assert!(sheet.contains(kept), "lost {kept}");
    }
    // A refreshed formula cell holds one cached value (two `<v>` make Excel repair the file).
    assert!(sheet.contains(r#"<f>A1*2</f><v>100</v></c>"#), "{sheet}");
    assert!(sheet.contains(r#"<f t="shared" si="0"/><v>plum!</v></c>"#), "{sheet}");
    // Excel recalculates on open because formulas changed.
    let workbook_xml = String::from_utf8(after["xl/workbook.xml"].clone()).unwrap();
    assert!(workbook_xml.contains("fullCalcOnLoad=\"1\""));

    // Reopened, the file holds the new values as cached results.
    let re = Workbook::open(saved).unwrap();
    assert_eq!(re.cell("Sheet1", 0, 1).unwrap().value, Value::Number(100.0));
    assert_eq!(re.cell("Sheet1", 2, 1).unwrap().value, Value::Text("plum!".into()));
    assert_eq!(re.cell("Sheet1", 5, 3).unwrap().formula.as_deref(), Some("=SUM(A1,B1)"));
    assert_eq!(re.cell("Sheet1", 5, 3).unwrap().value, Value::Number(150.0));
}

#[test]
fn number_formats_are_added_to_styles_and_render() {
    let mut wb = Workbook::open(sample()).unwrap();
    wb.edit(Edit::SetCells(SetCells {
        sheet: "Sheet1".into(),
        row: 0,
        col: 0,
        rows: 1,
        cols: 2,
        inputs: Some(vec![vec![Some(CellInput::Number(0.125)), Some(CellInput::Number(2.5))]]),
        number_formats: Some(vec![vec![Some("0.00%".into()), Some("0.000 \"kg\"".into())]]),
    }))
    .unwrap();
    assert_eq!(wb.cell("Sheet1", 0, 0).unwrap().text, "12.50%");
    assert_eq!(wb.cell("Sheet1", 0, 1).unwrap().text, "2.500 kg");
    let saved = wb.save().unwrap();
    let styles = String::from_utf8(unzip(&saved)["xl/styles.xml"].clone()).unwrap();
    // A built-in format is referred to by its id; a custom one is appended after 164.
    assert!(styles.contains("numFmtId=\"10\""), "{styles}");
    assert!(styles.contains("<numFmt numFmtId=\"165\" formatCode=\"0.000 &quot;kg&quot;\"/>"), "{styles}");
    // Existing cell styles keep their indexes: new ones are appended.
    assert!(styles.contains("<cellXfs count=\"4\">"), "{styles}");
    let re = Workbook::open(saved).unwrap();
    assert_eq!(re.cell("Sheet1", 0, 0).unwrap().text, "12.50%");
    assert_eq!(re.cell("Sheet1", 0, 1).unwrap().text, "2.500 kg");
}

#[test]
fn journal_replay_gives_the_same_book() {
    let original = sample();
    let mut wb = Workbook::open(original.clone()).unwrap();
    let records: Vec<Record> = vec![
        wb.edit(set("Sheet1", 0, 0, CellInput::Number(7.0))).unwrap(),
        wb.edit(set("Sheet1", 3, 0, CellInput::Formula("B1+1".into()))).unwrap(),
    ];
    let stored: Vec<Vec<u8>> = records.iter().map(Record::to_bytes).collect();
    let back: Vec<Record> = stored.iter().map(|b| Record::from_bytes(b).unwrap()).collect();
    let replayed = Workbook::replay(original, &back).unwrap();
    for (r, c) in [(0, 0), (0, 1), (3, 0)] {
        assert_eq!(replayed.cell("Sheet1", r, c).unwrap(), wb.cell("Sheet1", r, c).unwrap());
    }
    assert_eq!(replayed.cell("Sheet1", 3, 0).unwrap().value, Value::Number(15.0));
}

#[test]
fn byte_order_marks_and_prefixed_namespaces_survive_edits() {
    let mut f = Fixture::one_sheet(r#"<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>"#, &[]);
    let sheet = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><x:worksheet xmlns:x=\"{}\"><x:sheetData><x:row r=\"1\"><x:c r=\"A1\"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>",
        common::MAIN_NS
    );
    f.add("xl/worksheets/sheet1.xml", &sheet);
    f.add("xl/sharedStrings.xml", &format!("<?xml version=\"1.0\"?><sst xmlns=\"{}\"/>", common::MAIN_NS));
    let mut wb = Workbook::open(f.zip()).unwrap();
    wb.edit(set("Sheet1", 4, 1, CellInput::Text("new".into()))).unwrap();
    let saved = wb.save().unwrap();
    let re = Workbook::open(saved).unwrap();
    assert_eq!(re.cell("Sheet1", 0, 0).unwrap().value, Value::Number(1.0));
    assert_eq!(re.cell("Sheet1", 4, 1).unwrap().value, Value::Text("new".into()));
}

#[test]
fn future_journal_versions_are_refused() {
    let mut r = Record::new(1, Edit::Calculate { full: false });
    r.version = 99;
    assert!(Record::from_bytes(&r.to_bytes()).is_err());
}

#[test]
fn the_loss_guard_refuses_a_cell_with_two_values() {
    let sheet =
        br#"<worksheet><sheetData><row r="1"><c r="A1"><f>1+1</f><v>2</v><v>2</v></c></row></sheetData></worksheet>"#;
    let e = book::save::verify_sheet_xml(sheet, "xl/worksheets/sheet1.xml", &[]).unwrap_err();
    assert!(e.to_string().contains("two values"), "{e}");
    let fine = br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>1.5</v></c></row></sheetData></worksheet>"#;
    assert!(book::save::verify_sheet_xml(fine, "p", &["a".into()]).is_ok());
    let bad_index = br#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>3</v></c></row></sheetData></worksheet>"#;
    assert!(book::save::verify_sheet_xml(bad_index, "p", &["a".into()]).is_err());
    let bad_number = br#"<worksheet><sheetData><row r="1"><c r="A1"><v>1.5.5</v></c></row></sheetData></worksheet>"#;
    assert!(book::save::verify_sheet_xml(bad_number, "p", &[]).is_err());
}

fn clear(first: (u32, u32), last: (u32, u32), contents: bool, formats: bool) -> Edit {
    Edit::ClearCells(book::ClearCells {
        sheet: "Sheet1".into(),
        first_row: first.0,
        first_col: first.1,
        last_row: last.0,
        last_col: last.1,
        contents,
        formats,
    })
}

#[test]
fn clearing_contents_formats_or_both() {
    let mut wb = Workbook::open(sample()).unwrap();
    // Contents: the value goes, the dependent recalculates, the date format stays.
    wb.edit(clear((0, 0), (0, 0), true, false)).unwrap();
    assert_eq!(wb.cell("Sheet1", 0, 0).unwrap().value, Value::Empty);
    assert_eq!(wb.cell("Sheet1", 0, 1).unwrap().value, Value::Number(0.0));
    wb.edit(clear((0, 2), (0, 2), true, false)).unwrap();
    assert_eq!(wb.cell("Sheet1", 0, 2).unwrap().value, Value::Empty);
    assert_eq!(wb.cell("Sheet1", 0, 2).unwrap().number_format, "yyyy\\-mm\\-dd");
    // Formats: the value stays, shown as General.
    wb.edit(set("Sheet1", 0, 2, CellInput::Number(45292.0))).unwrap();
    wb.edit(clear((0, 2), (0, 2), false, true)).unwrap();
    let c1 = wb.cell("Sheet1", 0, 2).unwrap();
    assert_eq!(
        (c1.value.clone(), c1.number_format.as_ref(), c1.text.as_str()),
        (Value::Number(45292.0), "General", "45292")
    );
    // Both, over a shared formula's master and follower (a whole-column clear).
    wb.edit(Edit::ClearCells(book::ClearCells {
        sheet: "Sheet1".into(),
        first_row: 0,
        first_col: 1,
        last_row: book::address::MAX_ROWS - 1,
        last_col: 1,
        contents: true,
        formats: true,
    }))
    .unwrap();
    assert_eq!(wb.cell("Sheet1", 1, 1).unwrap().value, Value::Empty);
    assert_eq!(wb.cell("Sheet1", 2, 1).unwrap().formula, None);
    assert!(wb.used_range("Sheet1", false).unwrap().is_some_and(|a| a.last_col == 2));

    // Saved and read back by the library and by calamine.
    let saved = wb.save().unwrap();
    let again = Workbook::open(saved.clone()).unwrap();
    assert_eq!(again.cell("Sheet1", 0, 0).unwrap().value, Value::Empty);
    assert_eq!(again.cell("Sheet1", 2, 1).unwrap().value, Value::Empty);
    assert_eq!(again.cell("Sheet1", 0, 2).unwrap().number_format, "General");
    assert_eq!(again.cell("Sheet1", 1, 0).unwrap().value, Value::Text("apple".into()));
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    let range = x.worksheet_range("Sheet1").unwrap();
    assert_eq!(range.get_value((0, 2)), Some(&calamine::Data::Float(45292.0)));
    assert!(matches!(range.get_value((2, 1)), None | Some(calamine::Data::Empty)));
    // Rectangles off the sheet are refused.
    assert!(wb.edit(clear((5, 5), (4, 5), true, true)).is_err());
}

#[test]
fn sheets_are_added_and_hidden_and_saved_as_real_parts() {
    use book::model::Visibility;
    let original = sample();
    let mut wb = Workbook::open(original.clone()).unwrap();
    let records = vec![
        wb.edit(Edit::AddSheet { name: "Plan B".into() }).unwrap(),
        wb.edit(set("Plan B", 1, 1, CellInput::Number(4.0))).unwrap(),
        wb.edit(set("Sheet1", 9, 0, CellInput::Formula("'Plan B'!B2*10".into()))).unwrap(),
        wb.edit(Edit::AddSheet { name: "Empty".into() }).unwrap(),
        wb.edit(Edit::SetSheetVisibility { sheet: "Empty".into(), visibility: Visibility::Hidden }).unwrap(),
    ];
    assert_eq!(wb.cell("Sheet1", 9, 0).unwrap().value, Value::Number(40.0));
    // Names Excel refuses, a name taken in another case, the last visible sheet hidden.
    for bad in ["", "a[b", "x/y", "'quoted'", "History", &"n".repeat(32)] {
        assert!(matches!(wb.edit(Edit::AddSheet { name: bad.into() }), Err(book::BookError::InvalidEdit(_))), "{bad}");
    }
    assert_eq!(
        wb.edit(Edit::AddSheet { name: "plan b".into() }).unwrap_err(),
        book::BookError::SheetExists("plan b".into())
    );
    assert_eq!(wb.sheet_names(), ["Sheet1", "Plan B", "Empty"]);

    let saved = wb.save().unwrap();
    let report = wb.last_save_report().clone();
    assert_eq!(report.added.len(), 2, "{report:?}");
    let again = Workbook::open(saved.clone()).unwrap();
    assert_eq!(again.sheet_names(), ["Sheet1", "Plan B", "Empty"]);
    assert_eq!(again.model().sheets[2].visibility, Visibility::Hidden);
    assert_eq!(again.cell("Plan B", 1, 1).unwrap().value, Value::Number(4.0));
    assert_eq!(again.cell("Sheet1", 9, 0).unwrap().value, Value::Number(40.0));
    // The parts nobody touched are the original's bytes.
    let (before, after) = (unzip(&original), unzip(&saved));
    assert_eq!(before["xl/comments1.xml"], after["xl/comments1.xml"]);
    // An independent reader sees the sheets, the hidden one hidden.
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved.clone())).unwrap();
    let names: Vec<String> = x.sheet_names().to_vec();
    assert_eq!(names, ["Sheet1", "Plan B", "Empty"]);
    let meta = x.sheets_metadata().to_vec();
    assert_eq!(meta[2].visible, calamine::SheetVisible::Hidden);
    assert_eq!(x.worksheet_range("Plan B").unwrap().get_value((1, 1)), Some(&calamine::Data::Float(4.0)));

    // Saving again patches the saved package; a sheet added after the first save joins it.
    wb.edit(Edit::AddSheet { name: "Third".into() }).unwrap();
    wb.edit(Edit::SetSheetVisibility { sheet: "Empty".into(), visibility: Visibility::Visible }).unwrap();
    let third = Workbook::open(wb.save().unwrap()).unwrap();
    assert_eq!(third.sheet_names(), ["Sheet1", "Plan B", "Empty", "Third"]);
    assert_eq!(third.model().sheets[2].visibility, Visibility::Visible);

    // The journal replays to the same book.
    let replayed = Workbook::replay(original, &records).unwrap();
    assert_eq!(replayed.sheet_names(), ["Sheet1", "Plan B", "Empty"]);
    assert_eq!(replayed.cell("Sheet1", 9, 0).unwrap().value, Value::Number(40.0));
}

#[test]
fn the_last_visible_sheet_stays_visible() {
    let mut wb = Workbook::open(sample()).unwrap();
    let hide =
        |sheet: &str| Edit::SetSheetVisibility { sheet: sheet.into(), visibility: book::model::Visibility::Hidden };
    assert!(matches!(wb.edit(hide("Sheet1")), Err(book::BookError::InvalidEdit(_))));
    wb.edit(Edit::AddSheet { name: "Other".into() }).unwrap();
    wb.edit(hide("Sheet1")).unwrap();
    assert!(wb.edit(hide("Other")).is_err());
}
