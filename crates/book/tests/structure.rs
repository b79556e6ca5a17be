//! Inserting and deleting cells: the cells after them move, and references on every sheet,
//! defined names, tables, merged cells, conditional formats and validations follow. Each save
//! is reopened by the library and by calamine.

mod common;

use book::address::{MAX_COLS, MAX_ROWS};
use book::{Area, Axis, BookError, Edit, Shift, Value, Workbook};
use common::{set_cell, unzip, Fixture};
use rust_xlsxwriter::{
    ConditionalFormatCell, ConditionalFormatCellRule, DataValidation, Format, Formula, Table, TableColumn,
};

/// Data: A1:A10 = 1..10, B1:B10 = A*2, C1 = SUM(A1:A10), merged E2:F2, a rule on A1:A10, a
/// validation on B1:B10, table `Stock` over H1:I4, J1 = SUM(Stock[Qty]).
/// Other: A1 = Data!A5, A2 = SUM(Data!A1:A10), A3 = Data!A3+Data!A4, A4 = SUM(Span).
/// Span = Data!$A$2:$A$6.
fn fixture() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Data").unwrap();
    for r in 0..10u32 {
        ws.write_number(r, 0, f64::from(r + 1)).unwrap();
        ws.write_formula(r, 1, Formula::new(format!("=A{}*2", r + 1))).unwrap();
    }
    ws.write_formula(0, 2, Formula::new("=SUM(A1:A10)")).unwrap();
    ws.merge_range(1, 4, 1, 5, "merged", &Format::new()).unwrap();
    let rule = ConditionalFormatCell::new()
        .set_rule(ConditionalFormatCellRule::GreaterThan(5))
        .set_format(Format::new().set_bold());
    ws.add_conditional_format(0, 0, 9, 0, &rule).unwrap();
    ws.add_data_validation(
        0,
        1,
        9,
        1,
        &DataValidation::new().allow_whole_number(rust_xlsxwriter::DataValidationRule::Between(0, 100)),
    )
    .unwrap();
    for (i, (name, qty)) in [("pear", 3.0), ("fig", 5.0), ("plum", 7.0)].iter().enumerate() {
        ws.write_string(i as u32 + 1, 7, *name).unwrap();
        ws.write_number(i as u32 + 1, 8, *qty).unwrap();
    }
    let table = Table::new()
        .set_name("Stock")
        .set_columns(&[TableColumn::new().set_header("Fruit"), TableColumn::new().set_header("Qty")]);
    ws.add_table(0, 7, 3, 8, &table).unwrap();
    ws.write_formula(0, 9, Formula::new("=SUM(Stock[Qty])")).unwrap();
    let other = wb.add_worksheet().set_name("Other").unwrap();
    other.write_formula(0, 0, Formula::new("=Data!A5")).unwrap();
    other.write_formula(1, 0, Formula::new("=SUM(Data!A1:A10)")).unwrap();
    other.write_formula(2, 0, Formula::new("=Data!A3+Data!A4")).unwrap();
    other.write_formula(3, 0, Formula::new("=SUM(Span)")).unwrap();
    wb.define_name("Span", "=Data!$A$2:$A$6").unwrap();
    wb.define_name("Data!Local", "=Data!$B$1").unwrap();
    wb.save_to_buffer().unwrap()
}

fn open(bytes: Vec<u8>) -> Workbook {
    let mut wb = Workbook::open(bytes).unwrap();
    wb.full_recalc().unwrap();
    wb
}

fn rows(sheet: &str, at: u32, count: u32, insert: bool) -> Edit {
    Edit::ShiftCells(Shift { sheet: sheet.into(), axis: Axis::Rows, at, count, insert, band: (0, MAX_COLS - 1) })
}

fn num(wb: &Workbook, sheet: &str, a1: &str) -> Value {
    let a = Area::parse_a1(a1).unwrap();
    wb.cell(sheet, a.first_row, a.first_col).unwrap().value
}

fn formula(wb: &Workbook, sheet: &str, a1: &str) -> Option<String> {
    let a = Area::parse_a1(a1).unwrap();
    wb.cell(sheet, a.first_row, a.first_col).unwrap().formula
}

fn part(bytes: &[u8], name: &str) -> String {
    String::from_utf8(unzip(bytes).remove(name).unwrap_or_else(|| panic!("no {name}"))).unwrap()
}

/// What every check below reads: values and formulas after the edit, and again after a save.
fn check_inserted(wb: &Workbook) {
    assert_eq!(num(wb, "Data", "A5"), Value::Number(3.0));
    assert_eq!(num(wb, "Data", "A3"), Value::Empty);
    assert_eq!(formula(wb, "Data", "B5").as_deref(), Some("=A5*2"));
    assert_eq!(num(wb, "Data", "B5"), Value::Number(6.0));
    assert_eq!(formula(wb, "Data", "C1").as_deref(), Some("=SUM(A1:A12)"));
    assert_eq!(num(wb, "Data", "C1"), Value::Number(55.0));
    assert_eq!(formula(wb, "Other", "A1").as_deref(), Some("=Data!A7"));
    assert_eq!(num(wb, "Other", "A1"), Value::Number(5.0));
    assert_eq!(formula(wb, "Other", "A3").as_deref(), Some("=Data!A5+Data!A6"));
    assert_eq!(num(wb, "Other", "A3"), Value::Number(7.0));
    assert_eq!(num(wb, "Other", "A4"), Value::Number(20.0));
    let span = wb.model().names.iter().find(|n| n.name == "Span").unwrap();
    assert_eq!(span.formula, "Data!$A$2:$A$8");
    let table = &wb.model().sheets[0].tables[0];
    assert_eq!(table.area.to_a1(), "H1:I6");
    assert_eq!(num(wb, "Data", "J1"), Value::Number(15.0));
    assert_eq!(wb.model().sheets[0].merges[0].to_a1(), "E2:F2");
}

#[test]
fn inserted_rows_move_cells_and_every_reference() {
    let original = fixture();
    let mut wb = open(original.clone());
    let record = wb.edit(rows("Data", 2, 2, true)).unwrap();
    check_inserted(&wb);

    let saved = wb.save().unwrap();
    let again = open(saved.clone());
    check_inserted(&again);
    let sheet = part(&saved, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"sqref="A1:A12""#), "the rule follows: {sheet}");
    assert!(sheet.contains(r#"sqref="B1:B12""#), "the validation follows");
    assert!(sheet.contains(r#"<mergeCell ref="E2:F2"/>"#));
    assert!(part(&saved, "xl/tables/table1.xml").contains(r#"ref="H1:I6""#));
    assert!(part(&saved, "xl/workbook.xml").contains("Data!$A$2:$A$8"));
    // An independent reader sees the moved cells.
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved.clone())).unwrap();
    let data = x.worksheet_range("Data").unwrap();
    assert_eq!(data.get_value((4, 0)), Some(&calamine::Data::Float(3.0)));
    assert_eq!(data.get_value((4, 1)), Some(&calamine::Data::Float(6.0)));
    let f = x.worksheet_formula("Other").unwrap();
    assert_eq!(f.get_value((0, 0)).map(String::as_str), Some("Data!A7"));

    // The journal record replays to the same book.
    let replayed = Workbook::replay(original, &[record]).unwrap();
    check_inserted(&replayed);
}

#[test]
fn deleted_rows_shrink_ranges_and_leave_ref_errors() {
    let mut wb = open(fixture());
    wb.edit(rows("Data", 1, 2, false)).unwrap(); // rows 2 and 3
    let check = |wb: &Workbook| {
        assert_eq!(num(wb, "Data", "A2"), Value::Number(4.0));
        assert_eq!(formula(wb, "Data", "C1").as_deref(), Some("=SUM(A1:A8)"));
        assert_eq!(num(wb, "Data", "C1"), Value::Number(50.0));
        assert_eq!(formula(wb, "Other", "A1").as_deref(), Some("=Data!A3"));
        assert_eq!(formula(wb, "Other", "A3").as_deref(), Some("=Data!#REF!+Data!A2"));
        assert_eq!(num(wb, "Other", "A3"), Value::Error(book::ErrorKind::Ref));
        // Span was A2:A6; rows 2 and 3 went: A2:A4 holds 4, 5, 6.
        assert_eq!(num(wb, "Other", "A4"), Value::Number(15.0));
        assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I2");
        assert_eq!(num(wb, "Data", "J1"), Value::Number(7.0));
        // The merged cells were in row 2: gone with it.
        assert!(wb.model().sheets[0].merges.is_empty());
    };
    check(&wb);
    let saved = wb.save().unwrap();
    check(&open(saved.clone()));
    let sheet = part(&saved, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("mergeCell"), "{sheet}");
    assert!(sheet.contains(r#"sqref="A1:A8""#));
}

#[test]
fn cells_inserted_in_one_column_move_only_that_column() {
    let mut wb = open(fixture());
    // Insert B3:B4, shifting down: only column B moves.
    let shift = Shift::of_area("Data", &Area::parse_a1("B3:B4").unwrap(), Axis::Rows, true);
    wb.edit(Edit::ShiftCells(shift)).unwrap();
    let check = |wb: &Workbook| {
        assert_eq!(num(wb, "Data", "A3"), Value::Number(3.0));
        assert_eq!(num(wb, "Data", "B3"), Value::Empty);
        // B5 holds what was B3, still pointing at A3.
        assert_eq!(formula(wb, "Data", "B5").as_deref(), Some("=A3*2"));
        assert_eq!(num(wb, "Data", "B12"), Value::Number(20.0));
        assert_eq!(formula(wb, "Data", "C1").as_deref(), Some("=SUM(A1:A10)"));
    };
    check(&wb);
    check(&open(wb.save().unwrap()));
}

#[test]
fn columns_insert_and_delete() {
    let mut wb = open(fixture());
    let cols = |at, count, insert| {
        Edit::ShiftCells(Shift { sheet: "Data".into(), axis: Axis::Cols, at, count, insert, band: (0, MAX_ROWS - 1) })
    };
    wb.edit(cols(1, 1, true)).unwrap(); // before B
    assert_eq!(formula(&wb, "Data", "C3").as_deref(), Some("=A3*2"));
    assert_eq!(formula(&wb, "Data", "D1").as_deref(), Some("=SUM(A1:A10)"));
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "I1:J4");
    assert_eq!(num(&wb, "Data", "K1"), Value::Number(15.0));
    wb.edit(cols(0, 1, false)).unwrap(); // column A goes
    assert_eq!(formula(&wb, "Data", "B3").as_deref(), Some("=#REF!*2"));
    assert_eq!(formula(&wb, "Other", "A1").as_deref(), Some("=Data!#REF!"));
    let saved = wb.save().unwrap();
    let again = open(saved);
    assert_eq!(formula(&again, "Data", "B3").as_deref(), Some("=#REF!*2"));
    assert_eq!(again.model().sheets[0].tables[0].area.to_a1(), "H1:I4");
    assert_eq!(num(&again, "Data", "J1"), Value::Number(15.0));
}

/// B2:B6 share `A2*10`; C2:C6 share `A10` (pointing eight rows down).
fn shared() -> Vec<u8> {
    let mut rows = String::new();
    for r in 1..=12 {
        let b = match r {
            2 => r#"<c r="B2"><f t="shared" ref="B2:B6" si="0">A2*10</f><v>0</v></c><c r="C2"><f t="shared" ref="C2:C6" si="1">A10</f><v>0</v></c>"#.to_string(),
            3..=6 => format!(r#"<c r="B{r}"><f t="shared" si="0"/><v>0</v></c><c r="C{r}"><f t="shared" si="1"/><v>0</v></c>"#),
            _ => String::new(),
        };
        rows.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c>{b}</row>"#));
    }
    let mut f = Fixture::one_sheet(&rows, &[]);
    // Without the comments part, which would make the sheet refuse structural edits.
    let sheet =
        String::from_utf8(f.parts.iter().find(|p| p.0 == "xl/worksheets/sheet1.xml").unwrap().1.clone()).unwrap();
    f.add("xl/worksheets/sheet1.xml", &sheet.replace(r#"<legacyDrawing r:id="rId1"/>"#, ""));
    f.add(
        "xl/worksheets/_rels/sheet1.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#,
    );
    f.zip()
}

#[test]
fn shared_formulas_stay_shared_when_they_still_agree() {
    let mut wb = open(shared());
    wb.edit(rows("Sheet1", 3, 1, true)).unwrap(); // before row 4
    let check = |wb: &Workbook| {
        assert_eq!(formula(wb, "Sheet1", "B5").as_deref(), Some("=A5*10"));
        assert_eq!(num(wb, "Sheet1", "B5"), Value::Number(40.0));
        assert_eq!(formula(wb, "Sheet1", "B4"), None);
        // C2 pointed at A10, now A11; C5 (was C4) at A13: no longer one shared pattern.
        assert_eq!(formula(wb, "Sheet1", "C2").as_deref(), Some("=A11"));
        assert_eq!(formula(wb, "Sheet1", "C5").as_deref(), Some("=A13"));
        assert_eq!(num(wb, "Sheet1", "C5"), Value::Number(12.0));
    };
    check(&wb);
    let saved = wb.save().unwrap();
    let sheet = part(&saved, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<f t="shared" ref="B2:B7" si="0">A2*10</f>"#), "{sheet}");
    assert!(!sheet.contains(r#"si="1""#), "the broken group is written out: {sheet}");
    check(&open(saved));
}

#[test]
fn edits_excel_refuses_or_that_would_need_unmodelled_parts_are_refused() {
    let conflict =
        |r: Result<book::Record, BookError>| assert!(matches!(r, Err(BookError::StructureConflict(_))), "{r:?}");
    // A sheet with comments (anchored to cells in a part not modelled).
    let mut f = Fixture::one_sheet(r#"<row r="1"><c r="A1"><v>1</v></c></row>"#, &[]);
    let mut wb = Workbook::open(f.zip()).unwrap();
    conflict(wb.edit(rows("Sheet1", 0, 1, true)));
    // Cutting the merged cells E1:F1 apart with a band, pushing content off the sheet.
    f.add(
        "xl/worksheets/_rels/sheet1.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>"#,
    );
    let mut wb = Workbook::open(f.zip()).unwrap();
    conflict(wb.edit(Edit::ShiftCells(Shift::of_area("Sheet1", &Area::parse_a1("E1").unwrap(), Axis::Rows, true))));
    wb.edit(rows("Sheet1", MAX_ROWS - 1, 1, false)).unwrap();
    let mut far = Workbook::open(fixture()).unwrap();
    far.edit(set_cell("Other", MAX_ROWS - 1, 3, book::CellInput::Number(1.0))).unwrap();
    conflict(far.edit(rows("Other", 0, 1, true)));
    // Every column of a table, its header row.
    let mut wb = open(fixture());
    let cols =
        Shift { sheet: "Data".into(), axis: Axis::Cols, at: 7, count: 2, insert: false, band: (0, MAX_ROWS - 1) };
    conflict(wb.edit(Edit::ShiftCells(cols)));
    conflict(wb.edit(rows("Data", 0, 1, false)));
    // Nothing changed.
    assert_eq!(num(&wb, "Data", "A1"), Value::Number(1.0));
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I4");
}

#[test]
fn table_rows_are_added_and_deleted() {
    use book::CellInput;
    let mut wb = open(fixture());
    let row = |name: &str, qty: f64| vec![Some(CellInput::Text(name.into())), Some(CellInput::Number(qty))];
    // Appended: the table (no total row) takes the new row; J1 sums it.
    wb.edit(Edit::AddTableRows { table: "stock".into(), index: None, count: 1, inputs: Some(vec![row("kiwi", 10.0)]) })
        .unwrap();
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I5");
    assert_eq!(num(&wb, "Data", "H5"), Value::Text("kiwi".into()));
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(25.0));
    // Inserted at data row 0, two rows: the others move down within the table's columns only.
    wb.edit(Edit::AddTableRows {
        table: "Stock".into(),
        index: Some(0),
        count: 2,
        inputs: Some(vec![row("lime", 1.0), row("date", 2.0)]),
    })
    .unwrap();
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I7");
    assert_eq!(num(&wb, "Data", "H2"), Value::Text("lime".into()));
    assert_eq!(num(&wb, "Data", "H4"), Value::Text("pear".into()));
    assert_eq!(num(&wb, "Data", "A4"), Value::Number(4.0), "columns beside the table stay");
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(28.0));
    // A wrong shape or index changes nothing.
    let bad = Edit::AddTableRows { table: "Stock".into(), index: None, count: 1, inputs: Some(vec![vec![None]]) };
    assert!(wb.edit(bad).is_err());
    assert!(wb.edit(Edit::AddTableRows { table: "Stock".into(), index: Some(9), count: 1, inputs: None }).is_err());
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I7");
    // Deleted: the second and third data rows (date, pear).
    wb.edit(Edit::DeleteTableRows { table: "Stock".into(), index: 1, count: 2 }).unwrap();
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I5");
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(23.0));
    assert!(wb.edit(Edit::DeleteTableRows { table: "Stock".into(), index: 0, count: 4 }).is_err());

    let saved = wb.save().unwrap();
    let table = part(&saved, "xl/tables/table1.xml");
    assert!(table.contains(r#"ref="H1:I5""#), "{table}");
    let again = open(saved);
    assert_eq!(again.model().sheets[0].tables[0].area.to_a1(), "H1:I5");
    assert_eq!(num(&again, "Data", "H5"), Value::Text("kiwi".into()));
    assert_eq!(num(&again, "Data", "J1"), Value::Number(23.0));
}

fn update(sheet: &str, name: Option<&str>, position: Option<u32>) -> Edit {
    Edit::UpdateSheet { sheet: sheet.into(), name: name.map(String::from), position, visibility: None }
}

#[test]
fn renamed_sheets_are_named_anew_in_every_reference() {
    let mut wb = open(fixture());
    wb.edit(update("data", Some("My Data"), None)).unwrap();
    let check = |wb: &Workbook| {
        assert_eq!(wb.sheet_names(), ["My Data", "Other"]);
        assert_eq!(formula(wb, "Other", "A1").as_deref(), Some("='My Data'!A5"));
        assert_eq!(num(wb, "Other", "A1"), Value::Number(5.0));
        assert_eq!(num(wb, "Other", "A4"), Value::Number(20.0));
        let span = wb.model().names.iter().find(|n| n.name == "Span").unwrap();
        assert_eq!(span.formula, "'My Data'!$A$2:$A$6");
    };
    check(&wb);
    // Refused: a name taken (in any case), a name Excel refuses; nothing changes.
    assert!(matches!(wb.edit(update("My Data", Some("OTHER"), None)), Err(BookError::SheetExists(_))));
    assert!(matches!(wb.edit(update("My Data", Some("a/b"), None)), Err(BookError::InvalidEdit(_))));
    wb.edit(update("My Data", Some("My Data"), None)).unwrap();
    let saved = wb.save().unwrap();
    assert!(part(&saved, "xl/workbook.xml").contains(r#"name="My Data""#));
    check(&open(saved));
}

#[test]
fn moved_sheets_keep_their_local_names() {
    let mut wb = open(fixture());
    wb.edit(update("Other", None, Some(0))).unwrap();
    assert_eq!(wb.sheet_names(), ["Other", "Data"]);
    assert!(wb.edit(update("Other", None, Some(2))).is_err());
    let saved = wb.save().unwrap();
    let again = open(saved);
    assert_eq!(again.sheet_names(), ["Other", "Data"]);
    let local = again.model().names.iter().find(|n| n.name == "Local").unwrap();
    assert_eq!(local.local_sheet, Some(1), "Local belongs to Data, now the second sheet");
    assert_eq!(num(&again, "Other", "A1"), Value::Number(5.0));
}

#[test]
fn deleted_sheets_leave_ref_errors_and_take_their_parts() {
    let mut wb = open(fixture());
    wb.edit(Edit::DeleteSheet { sheet: "Data".into() }).unwrap();
    let check = |wb: &Workbook| {
        assert_eq!(wb.sheet_names(), ["Other"]);
        assert_eq!(formula(wb, "Other", "A1").as_deref(), Some("=#REF!"));
        assert_eq!(num(wb, "Other", "A1"), Value::Error(book::ErrorKind::Ref));
        assert_eq!(formula(wb, "Other", "A3").as_deref(), Some("=#REF!+#REF!"));
        assert!(wb.model().names.iter().all(|n| n.name != "Local"), "Data's own name went with it");
        assert_eq!(wb.model().names.iter().find(|n| n.name == "Span").unwrap().formula, "#REF!");
    };
    check(&wb);
    // The last visible sheet stays.
    assert!(wb.edit(Edit::DeleteSheet { sheet: "Other".into() }).is_err());
    let saved = wb.save().unwrap();
    let parts = unzip(&saved);
    assert!(!parts.contains_key("xl/worksheets/sheet1.xml") && !parts.contains_key("xl/tables/table1.xml"));
    let types = part(&saved, "[Content_Types].xml");
    assert!(!types.contains("sheet1.xml") && !types.contains("table1.xml"), "{types}");
    check(&open(saved.clone()));
    use calamine::Reader;
    let x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    assert_eq!(x.sheet_names(), ["Other"]);
}

#[test]
fn cells_are_merged_and_unmerged() {
    let mut wb = open(fixture());
    let merge = |area: &str, across: bool| Edit::Merge { sheet: "Data".into(), area: area.into(), across };
    wb.edit(merge("A1:B2", false)).unwrap();
    assert_eq!(num(&wb, "Data", "A1"), Value::Number(1.0));
    assert_eq!(formula(&wb, "Data", "B1"), None, "only the top-left cell keeps its content");
    assert_eq!(num(&wb, "Data", "C1"), Value::Number(53.0));
    wb.edit(merge("A5:B6", true)).unwrap();
    // Refused: reaching across merged cells, into a table.
    assert!(wb.edit(merge("A2:A3", false)).is_err());
    assert!(wb.edit(merge("G1:H2", false)).is_err());
    let saved = wb.save().unwrap();
    let sheet = part(&saved, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(r#"<mergeCells count="4"><mergeCell ref="E2:F2"/><mergeCell ref="A1:B2"/><mergeCell ref="A5:B5"/><mergeCell ref="A6:B6"/></mergeCells>"#),
        "{sheet}"
    );
    let mut again = open(saved);
    assert_eq!(again.model().sheets[0].merges.len(), 4);
    again.edit(Edit::Unmerge { sheet: "Data".into(), area: "A1:F6".into() }).unwrap();
    let saved = again.save().unwrap();
    assert!(!part(&saved, "xl/worksheets/sheet1.xml").contains("mergeCell"));
    assert!(open(saved).model().sheets[0].merges.is_empty());
}

#[test]
fn names_are_added_and_updated() {
    let mut wb = open(fixture());
    let add = |name: &str, sheet: Option<&str>, formula: &str| Edit::AddName {
        name: name.into(),
        sheet: sheet.map(String::from),
        formula: formula.into(),
        comment: Some("a note".into()),
    };
    wb.edit(add("Total", None, "=Data!$C$1")).unwrap();
    wb.edit(add("Pick", Some("Data"), "Data!$A$3:$A$4")).unwrap();
    wb.edit(add("Half", None, "=0.5")).unwrap();
    wb.edit(set_cell("Other", 5, 0, book::CellInput::Formula("Total*Half".into()))).unwrap();
    assert_eq!(num(&wb, "Other", "A6"), Value::Number(27.5));
    // Taken (in any case, in the same scope), or not a name Excel takes.
    assert!(matches!(wb.edit(add("total", None, "1")), Err(BookError::NameExists(_))));
    wb.edit(add("Total", Some("Other"), "2")).unwrap();
    for bad in ["A1", "R1C1", "1st", "two words", "", "C"] {
        assert!(matches!(wb.edit(add(bad, None, "1")), Err(BookError::InvalidEdit(_))), "{bad}");
    }
    assert!(wb.edit(add("Broken", None, "=SUM(")).is_err());
    wb.edit(Edit::UpdateName {
        name: "SPAN".into(),
        sheet: None,
        visible: Some(false),
        comment: Some("hidden now".into()),
    })
    .unwrap();
    assert!(matches!(
        wb.edit(Edit::UpdateName { name: "Nope".into(), sheet: None, visible: None, comment: None }),
        Err(BookError::NoSuchName(_))
    ));
    let saved = wb.save().unwrap();
    let xml = part(&saved, "xl/workbook.xml");
    assert!(xml.contains(r#"<definedName name="Total" comment="a note">Data!$C$1</definedName>"#), "{xml}");
    let again = open(saved);
    let find = |name: &str, local: Option<usize>| {
        again.model().names.iter().find(|n| n.name == name && n.local_sheet == local).cloned().unwrap()
    };
    assert_eq!(find("Pick", Some(0)).formula, "Data!$A$3:$A$4");
    assert_eq!(find("Total", Some(1)).formula, "2");
    let span = find("Span", None);
    assert!(span.hidden);
    assert_eq!(span.comment.as_deref(), Some("hidden now"));
    // On Other, its own Total (2) hides the workbook's, as in Excel.
    assert_eq!(num(&again, "Other", "A6"), Value::Number(1.0));
}

#[test]
fn a_large_write_reloads_the_engine_with_the_same_results() {
    use book::CellInput;
    let mut base = rust_xlsxwriter::Workbook::new();
    let ws = base.add_worksheet();
    ws.write_formula(0, 4, Formula::new("=SUM(A1:A1000)")).unwrap();
    ws.write_formula(1, 4, Formula::new("=SUM(C:C)")).unwrap();
    let bytes = base.save_to_buffer().unwrap();
    let row = |r: u32| {
        let f = if r == 7 { "=SUM(".to_string() } else { format!("=A{0}*B{0}", r + 1) };
        vec![Some(CellInput::Number(f64::from(r))), Some(CellInput::Number(2.0)), Some(CellInput::Formula(f))]
    };
    let set = |first: u32, count: u32| {
        Edit::SetCells(book::SetCells {
            sheet: "Sheet1".into(),
            row: first,
            col: 0,
            rows: count,
            cols: 3,
            inputs: Some((first..first + count).map(row).collect()),
            number_formats: None,
        })
    };
    let mut whole = open(bytes.clone());
    whole.edit(set(0, 1000)).unwrap(); // 3,000 cells: the engine is reloaded
    let mut pieces = open(bytes);
    for first in (0..1000).step_by(200) {
        pieces.edit(set(first, 200)).unwrap(); // 600 cells each: cell by cell
    }
    for a1 in ["E1", "E2", "C8", "C9", "C1000"] {
        assert_eq!(num(&whole, "Sheet1", a1), num(&pieces, "Sheet1", a1), "{a1}");
    }
    assert_eq!(num(&whole, "Sheet1", "E1"), Value::Number(499_500.0));
    assert!(matches!(num(&whole, "Sheet1", "C8"), Value::Error(_)), "a broken formula is an error either way");
}

#[test]
fn tables_are_converted_to_ranges_or_deleted() {
    // Converted: the cells stay, J1's structured reference becomes the cells it meant.
    let mut wb = open(fixture());
    wb.edit(Edit::RemoveTable { table: "Stock".into(), keep_cells: true }).unwrap();
    assert!(wb.model().sheets[0].tables.is_empty());
    let j1 = formula(&wb, "Data", "J1").unwrap();
    assert!(!j1.contains('['), "{j1}");
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(15.0));
    assert_eq!(num(&wb, "Data", "H2"), Value::Text("pear".into()));
    let saved = wb.save().unwrap();
    let parts = unzip(&saved);
    assert!(!parts.contains_key("xl/tables/table1.xml"));
    assert!(!part(&saved, "xl/worksheets/sheet1.xml").contains("tablePart"));
    assert!(!part(&saved, "[Content_Types].xml").contains("table1"));
    assert!(!part(&saved, "xl/worksheets/_rels/sheet1.xml.rels").contains("table1"));
    let again = open(saved);
    assert_eq!(num(&again, "Data", "J1"), Value::Number(15.0));

    // Deleted: refused while J1 names it; then its cells are cleared.
    let mut wb = open(fixture());
    let delete = || Edit::RemoveTable { table: "Stock".into(), keep_cells: false };
    assert!(matches!(wb.edit(delete()), Err(BookError::StructureConflict(_))));
    wb.edit(Edit::ClearCells(book::ClearCells {
        sheet: "Data".into(),
        first_row: 0,
        first_col: 9,
        last_row: 0,
        last_col: 9,
        contents: true,
        formats: true,
    }))
    .unwrap();
    wb.edit(delete()).unwrap();
    assert_eq!(num(&wb, "Data", "H2"), Value::Empty);
    let again = open(wb.save().unwrap());
    assert!(again.model().sheets[0].tables.is_empty());
    assert_eq!(num(&again, "Data", "I3"), Value::Empty);
}

#[test]
fn tables_are_renamed_and_restyled() {
    let mut wb = open(fixture());
    let update = |name: Option<&str>, style: Option<&str>| Edit::UpdateTable {
        table: "stock".into(),
        update: book::edit::TableUpdate {
            name: name.map(String::from),
            style: style.map(String::from),
            row_stripes: Some(false),
            ..Default::default()
        },
    };
    // A name taken by a defined name, or one Excel refuses.
    assert!(matches!(wb.edit(update(Some("Span"), None)), Err(BookError::NameExists(_))));
    assert!(matches!(wb.edit(update(Some("B2"), None)), Err(BookError::InvalidEdit(_))));
    wb.edit(update(Some("Fruit"), Some("TableStyleMedium9"))).unwrap();
    assert_eq!(formula(&wb, "Data", "J1").as_deref(), Some("=SUM(Fruit[Qty])"));
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(15.0));
    let saved = wb.save().unwrap();
    let table = part(&saved, "xl/tables/table1.xml");
    assert!(table.contains(r#"name="Fruit""#) && table.contains(r#"displayName="Fruit""#), "{table}");
    assert!(table.contains(r#"name="TableStyleMedium9""#) && table.contains(r#"showRowStripes="0""#), "{table}");
    let again = open(saved);
    let t = &again.model().sheets[0].tables[0];
    assert_eq!(
        (t.display_name.as_str(), t.style.name.as_deref(), t.style.show_row_stripes),
        ("Fruit", Some("TableStyleMedium9"), false)
    );
    assert_eq!(num(&again, "Data", "J1"), Value::Number(15.0));
}

#[test]
fn table_columns_are_added_renamed_and_deleted() {
    use book::CellInput;
    let mut wb = open(fixture());
    // K1 names the Qty column from outside; a column inserted in the middle moves Qty right.
    wb.edit(set_cell("Data", 0, 10, CellInput::Formula("MAX(Stock[Qty])".into()))).unwrap();
    let values = |h: &str, v: [f64; 3]| {
        Some(
            std::iter::once(Some(CellInput::Text(h.into())))
                .chain(v.iter().map(|n| Some(CellInput::Number(*n))))
                .collect(),
        )
    };
    wb.edit(Edit::AddTableColumn {
        table: "Stock".into(),
        index: Some(1),
        name: None,
        values: values("Price", [1.5, 2.0, 0.5]),
    })
    .unwrap();
    let t = &wb.model().sheets[0].tables[0];
    assert_eq!(t.area.to_a1(), "H1:J4");
    assert_eq!(t.columns, ["Fruit", "Price", "Qty"]);
    assert_eq!(num(&wb, "Data", "J3"), Value::Number(5.0), "Qty moved right");
    assert_eq!(formula(&wb, "Data", "K1").as_deref(), Some("=SUM(Stock[Qty])"), "J1 moved to K1");
    assert_eq!(num(&wb, "Data", "K1"), Value::Number(15.0));
    // Appended without values: named as Excel names a new column.
    wb.edit(Edit::AddTableColumn { table: "Stock".into(), index: None, name: None, values: None }).unwrap();
    assert_eq!(wb.model().sheets[0].tables[0].columns, ["Fruit", "Price", "Qty", "Column1"]);
    assert_eq!(num(&wb, "Data", "K1"), Value::Text("Column1".into()));
    assert_eq!(num(&wb, "Data", "L1"), Value::Number(15.0), "the sum beside the table moved right");
    // Writing a header renames its column; formulas naming it follow. A repeat gets a number.
    let header = |col: u32, text: &str| {
        Edit::SetCells(book::SetCells {
            sheet: "Data".into(),
            row: 0,
            col,
            rows: 1,
            cols: 1,
            inputs: Some(vec![vec![Some(CellInput::Text(text.into()))]]),
            number_formats: None,
        })
    };
    wb.edit(header(9, "Count")).unwrap();
    assert_eq!(formula(&wb, "Data", "L1").as_deref(), Some("=SUM(Stock[Count])"));
    assert_eq!(formula(&wb, "Data", "M1").as_deref(), Some("=MAX(Stock[Count])"));
    assert_eq!(num(&wb, "Data", "L1"), Value::Number(15.0));
    wb.edit(header(10, "count")).unwrap();
    assert_eq!(num(&wb, "Data", "K1"), Value::Text("count2".into()));
    // A header cannot be emptied or hold a formula; a column index past the end is refused.
    let mut bad = header(8, "x");
    if let Edit::SetCells(s) = &mut bad {
        s.inputs = Some(vec![vec![Some(CellInput::Formula("1+1".into()))]]);
    }
    assert!(wb.edit(bad).is_err());
    assert!(wb.edit(Edit::AddTableColumn { table: "Stock".into(), index: Some(9), name: None, values: None }).is_err());
    assert!(wb
        .edit(Edit::AddTableColumn { table: "Stock".into(), index: None, name: Some("FRUIT".into()), values: None })
        .is_err());
    assert_eq!(wb.model().sheets[0].tables[0].columns, ["Fruit", "Price", "Count", "count2"]);
    // Deleting Count: formulas naming it get #REF!, the columns after move left.
    wb.edit(Edit::DeleteTableColumn { table: "Stock".into(), column: "Count".into() }).unwrap();
    let t = &wb.model().sheets[0].tables[0];
    assert_eq!(t.columns, ["Fruit", "Price", "count2"]);
    assert_eq!(t.area.to_a1(), "H1:J4");
    assert_eq!(formula(&wb, "Data", "K1").as_deref(), Some("=SUM(#REF!)"));
    assert_eq!(num(&wb, "Data", "K1"), Value::Error(book::ErrorKind::Ref));

    let saved = wb.save().unwrap();
    let table = part(&saved, "xl/tables/table1.xml");
    assert!(table.contains(r#"ref="H1:J4""#), "{table}");
    assert!(table.contains(r#"<tableColumns count="3">"#), "{table}");
    for name in ["Fruit", "Price", "count2"] {
        assert!(table.contains(&format!(r#"name="{name}""#)), "{name}: {table}");
    }
    assert!(!table.contains("Qty") && !table.contains("Count\""), "{table}");
    let again = open(saved.clone());
    let t = &again.model().sheets[0].tables[0];
    assert_eq!(t.columns, ["Fruit", "Price", "count2"]);
    assert_eq!(num(&again, "Data", "I3"), Value::Number(2.0));
    assert_eq!(num(&again, "Data", "J1"), Value::Text("count2".into()));
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    let data = x.worksheet_range("Data").unwrap();
    assert_eq!(data.get_value((0, 8)), Some(&calamine::Data::String("Price".into())));
}

#[test]
fn tables_are_added_with_or_without_headers() {
    let mut wb = open(fixture());
    // With headers over Other!A1:A4 (formulas): the header becomes text, a new part is written.
    wb.edit(Edit::SetCells(book::SetCells {
        sheet: "Other".into(),
        row: 0,
        col: 2,
        rows: 3,
        cols: 2,
        inputs: Some(vec![
            vec![Some(book::CellInput::Text("Name".into())), None],
            vec![Some(book::CellInput::Text("a".into())), Some(book::CellInput::Number(1.0))],
            vec![Some(book::CellInput::Text("b".into())), Some(book::CellInput::Number(2.0))],
        ]),
        number_formats: None,
    }))
    .unwrap();
    wb.edit(Edit::AddTable { sheet: "Other".into(), area: "C1:D3".into(), has_headers: true }).unwrap();
    let t = &wb.model().sheets[1].tables[0];
    assert_eq!((t.name.as_str(), t.area.to_a1().as_str()), ("Table1", "C1:D3"));
    assert_eq!(t.columns, ["Name", "Column2"]);
    assert_eq!(num(&wb, "Other", "D1"), Value::Text("Column2".into()));
    // Without headers: a header row is inserted above, the data moves down in its columns only.
    wb.edit(Edit::AddTable { sheet: "Data".into(), area: "A1:A10".into(), has_headers: false }).unwrap();
    let t = &wb.model().sheets[0].tables[1];
    assert_eq!((t.name.as_str(), t.area.to_a1().as_str()), ("Table2", "A1:A11"));
    assert_eq!(num(&wb, "Data", "A1"), Value::Text("Column1".into()));
    assert_eq!(num(&wb, "Data", "A2"), Value::Number(1.0));
    assert_eq!(num(&wb, "Data", "B1"), Value::Number(2.0), "B moved not");
    assert_eq!(formula(&wb, "Data", "B1").as_deref(), Some("=A2*2"), "references follow the data");
    // A formula on the new table's column.
    wb.edit(set_cell("Other", 5, 0, book::CellInput::Formula("SUM(Table1[Column2])+SUM(Table2[Column1])".into())))
        .unwrap();
    assert_eq!(num(&wb, "Other", "A6"), Value::Number(58.0));
    // Overlapping another table, or past the sheet: refused, nothing changed.
    assert!(wb.edit(Edit::AddTable { sheet: "Data".into(), area: "I2:K3".into(), has_headers: true }).is_err());
    assert!(wb.edit(Edit::AddTable { sheet: "Nope".into(), area: "A1:B2".into(), has_headers: true }).is_err());
    assert_eq!(wb.model().sheets[0].tables.len(), 2);

    let saved = wb.save().unwrap();
    let files = unzip(&saved);
    let new_part = String::from_utf8(files["xl/tables/table2.xml"].clone()).unwrap();
    assert!(new_part.contains(r#"ref="C1:D3""#) && new_part.contains(r#"name="Column2""#), "{new_part}");
    let rels = String::from_utf8(files["xl/worksheets/_rels/sheet2.xml.rels"].clone()).unwrap();
    assert!(rels.contains(r#"Target="../tables/table2.xml""#), "{rels}");
    let sheet = String::from_utf8(files["xl/worksheets/sheet2.xml"].clone()).unwrap();
    assert!(sheet.contains("<tableParts count=\"1\"><tablePart"), "{sheet}");
    let data = String::from_utf8(files["xl/worksheets/sheet1.xml"].clone()).unwrap();
    assert!(data.contains("<tableParts count=\"2\">"), "{data}");
    let ct = String::from_utf8(files["[Content_Types].xml"].clone()).unwrap();
    assert!(ct.contains("/xl/tables/table3.xml"), "{ct}");
    let again = open(saved.clone());
    assert_eq!(again.model().sheets[1].tables[0].columns, ["Name", "Column2"]);
    assert_eq!(again.model().sheets[0].tables[1].area.to_a1(), "A1:A11");
    assert_eq!(num(&again, "Other", "A6"), Value::Number(58.0));
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    x.load_tables().unwrap();
    let mut names = x.table_names().into_iter().cloned().collect::<Vec<_>>();
    names.sort();
    assert_eq!(names, ["Stock", "Table1", "Table2"]);
}

#[test]
fn rows_and_columns_are_hidden_and_shown() {
    let mut wb = open(fixture());
    let hide = |axis, first, last, hidden| Edit::SetHidden { sheet: "Data".into(), axis, first, last, hidden };
    // SUBTOTAL(109) leaves hidden rows out.
    wb.edit(set_cell("Data", 0, 11, book::CellInput::Formula("SUBTOTAL(109,A1:A10)".into()))).unwrap();
    assert_eq!(num(&wb, "Data", "L1"), Value::Number(55.0));
    wb.edit(hide(Axis::Rows, 1, 2, true)).unwrap(); // rows 2-3
    assert_eq!(num(&wb, "Data", "L1"), Value::Number(50.0));
    wb.edit(hide(Axis::Rows, 11, 11, true)).unwrap(); // row 12, which has no cells
    wb.edit(hide(Axis::Cols, 3, 4, true)).unwrap(); // D:E
    wb.edit(hide(Axis::Cols, 4, 4, false)).unwrap(); // E shown again
    assert!(wb.edit(hide(Axis::Cols, 5, MAX_COLS, true)).is_err());
    let s = &wb.model().sheets[0];
    assert_eq!((s.hidden_rows.clone(), s.hidden_cols.clone()), (vec![1, 2, 11], vec![3]));

    let saved = wb.save().unwrap();
    let sheet = part(&saved, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<row hidden="1" r="2""#) || sheet.contains(r#"r="2" hidden="1""#), "{sheet}");
    assert!(sheet.contains(r#"<row r="12" hidden="1"/>"#), "{sheet}");
    assert!(sheet.contains(r#"<col min="4" max="4" width="9.140625" hidden="1"/>"#), "{sheet}");
    let again = open(saved);
    let s = &again.model().sheets[0];
    assert_eq!((s.hidden_rows.clone(), s.hidden_cols.clone()), (vec![1, 2, 11], vec![3]));
    assert_eq!(num(&again, "Data", "L1"), Value::Number(50.0));
    // Shown again: the saved sheet has no hidden row or column left.
    let mut wb = again;
    wb.edit(hide(Axis::Rows, 0, 20, false)).unwrap();
    wb.edit(hide(Axis::Cols, 0, 20, false)).unwrap();
    let sheet = part(&wb.save().unwrap(), "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("hidden"), "{sheet}");
}

#[test]
fn tables_show_and_hide_their_header_and_total_rows() {
    let update = |u: book::edit::TableUpdate| Edit::UpdateTable { table: "Stock".into(), update: u };
    let totals = |on| update(book::edit::TableUpdate { show_totals: Some(on), ..Default::default() });
    let headers = |on| update(book::edit::TableUpdate { show_headers: Some(on), ..Default::default() });
    let mut wb = open(fixture());
    // A total row in the empty row below: labelled and summed as Excel adds one.
    wb.edit(totals(true)).unwrap();
    let t = &wb.model().sheets[0].tables[0];
    assert_eq!((t.area.to_a1().as_str(), t.totals_rows), ("H1:I5", 1));
    assert_eq!(num(&wb, "Data", "H5"), Value::Text("Total".into()));
    assert_eq!(formula(&wb, "Data", "I5").as_deref(), Some("=SUBTOTAL(109,Stock[Qty])"));
    assert_eq!(num(&wb, "Data", "I5"), Value::Number(15.0));
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(15.0), "Stock[Qty] is still the data rows");
    let saved = wb.save().unwrap();
    let part_xml = part(&saved, "xl/tables/table1.xml");
    assert!(
        part_xml.contains(r#"totalsRowCount="1""#) && part_xml.contains(r#"totalsRowFunction="sum""#),
        "{part_xml}"
    );
    assert!(part_xml.contains(r#"totalsRowLabel="Total""#) && part_xml.contains(r#"ref="H1:I4""#), "{part_xml}");
    let mut wb = open(saved);
    assert_eq!(wb.model().sheets[0].tables[0].totals_rows, 1);
    // Hidden again: its cells are cleared, nothing moves.
    wb.edit(totals(false)).unwrap();
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H1:I4");
    assert_eq!(num(&wb, "Data", "I5"), Value::Empty);
    // The header row hidden: cleared, the filter buttons go; shown again in the row above.
    wb.edit(headers(false)).unwrap();
    let t = &wb.model().sheets[0].tables[0];
    assert_eq!((t.area.to_a1().as_str(), t.header_rows, t.style.auto_filter), ("H2:I4", 0, false));
    assert_eq!(num(&wb, "Data", "H1"), Value::Empty);
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(15.0));
    let saved = wb.save().unwrap();
    let part_xml = part(&saved, "xl/tables/table1.xml");
    assert!(part_xml.contains(r#"headerRowCount="0""#) && !part_xml.contains("autoFilter"), "{part_xml}");
    assert!(!part_xml.contains("totalsRowCount"), "{part_xml}");
    let mut wb = open(saved);
    assert_eq!(wb.model().sheets[0].tables[0].area.to_a1(), "H2:I4");
    // With the row above taken, the table moves down a row to make room for its header.
    wb.edit(set_cell("Data", 0, 7, book::CellInput::Text("note".into()))).unwrap();
    wb.edit(headers(true)).unwrap();
    let t = &wb.model().sheets[0].tables[0];
    assert_eq!((t.area.to_a1().as_str(), t.header_rows), ("H2:I5", 1));
    assert_eq!(
        (num(&wb, "Data", "H1"), num(&wb, "Data", "H2"), num(&wb, "Data", "I2")),
        (Value::Text("note".into()), Value::Text("Fruit".into()), Value::Text("Qty".into()))
    );
    assert_eq!(num(&wb, "Data", "J1"), Value::Number(15.0));
    let again = open(wb.save().unwrap());
    assert_eq!(again.model().sheets[0].tables[0].area.to_a1(), "H2:I5");
    assert_eq!(again.model().sheets[0].tables[0].header_rows, 1);
    // A row that formulas name is not taken away.
    let mut wb = open(fixture());
    wb.edit(totals(true)).unwrap();
    wb.edit(set_cell("Other", 5, 0, book::CellInput::Formula("Stock[[#Totals],[Qty]]".into()))).unwrap();
    assert!(matches!(wb.edit(totals(false)), Err(BookError::StructureConflict(_))));
    assert_eq!(wb.model().sheets[0].tables[0].totals_rows, 1);
}

#[test]
fn rows_added_to_a_table_get_its_calculated_columns() {
    use book::CellInput;
    let mut x = rust_xlsxwriter::Workbook::new();
    let ws = x.add_worksheet().set_name("S").unwrap();
    for (i, (q, p)) in [(2.0, 1.5), (4.0, 0.5)].iter().enumerate() {
        ws.write_number(i as u32 + 1, 0, *q).unwrap();
        ws.write_number(i as u32 + 1, 1, *p).unwrap();
    }
    let table = Table::new().set_name("Orders").set_columns(&[
        TableColumn::new().set_header("Qty"),
        TableColumn::new().set_header("Price"),
        TableColumn::new().set_header("Cost").set_formula(Formula::new("=[@Qty]*[@Price]")),
    ]);
    ws.add_table(0, 0, 2, 2, &table).unwrap();
    let mut wb = open(x.save_to_buffer().unwrap());
    assert!(wb.model().sheets[0].tables[0].calculated[2].is_some());
    let row = |q: f64, p: f64| vec![Some(CellInput::Number(q)), Some(CellInput::Number(p)), None];
    wb.edit(Edit::AddTableRows { table: "Orders".into(), index: None, count: 1, inputs: Some(vec![row(3.0, 2.0)]) })
        .unwrap();
    assert_eq!(num(&wb, "S", "C4"), Value::Number(6.0));
    assert!(formula(&wb, "S", "C4").unwrap().contains("Qty"), "{:?}", formula(&wb, "S", "C4"));
    // A value given for the calculated column wins; blank rows get the formula too.
    wb.edit(Edit::AddTableRows {
        table: "Orders".into(),
        index: Some(0),
        count: 1,
        inputs: Some(vec![vec![
            Some(CellInput::Number(1.0)),
            Some(CellInput::Number(1.0)),
            Some(CellInput::Number(99.0)),
        ]]),
    })
    .unwrap();
    assert_eq!((num(&wb, "S", "C2"), formula(&wb, "S", "C2")), (Value::Number(99.0), None));
    // Renamed through its header, the column's formula follows into the next new row.
    wb.edit(set_cell("S", 0, 0, CellInput::Text("Units".into()))).unwrap();
    wb.edit(Edit::AddTableRows { table: "Orders".into(), index: None, count: 1, inputs: Some(vec![row(5.0, 2.0)]) })
        .unwrap();
    assert_eq!(num(&wb, "S", "C6"), Value::Number(10.0));
    assert!(formula(&wb, "S", "C6").unwrap().contains("Units"), "{:?}", formula(&wb, "S", "C6"));
    let again = open(wb.save().unwrap());
    assert_eq!((num(&again, "S", "C5"), num(&again, "S", "C6")), (Value::Number(6.0), Value::Number(10.0)));
    assert!(again.model().sheets[0].tables[0].calculated[2].as_deref().unwrap().contains("Units"));
}

#[test]
fn a_table_on_a_sheet_added_in_the_same_session_is_saved_with_it() {
    let mut wb = open(fixture());
    wb.edit(Edit::AddSheet { name: "Fresh".into() }).unwrap();
    wb.edit(Edit::SetCells(book::SetCells {
        sheet: "Fresh".into(),
        row: 0,
        col: 0,
        rows: 2,
        cols: 1,
        inputs: Some(vec![vec![Some(book::CellInput::Text("N".into()))], vec![Some(book::CellInput::Number(7.0))]]),
        number_formats: None,
    }))
    .unwrap();
    wb.edit(Edit::AddTable { sheet: "Fresh".into(), area: "A1:A2".into(), has_headers: true }).unwrap();
    // A sheet added and deleted takes its new table along.
    wb.edit(Edit::AddSheet { name: "Gone".into() }).unwrap();
    wb.edit(Edit::AddTable { sheet: "Gone".into(), area: "B2:C3".into(), has_headers: false }).unwrap();
    wb.edit(Edit::DeleteSheet { sheet: "Gone".into() }).unwrap();
    let saved = wb.save().unwrap();
    let files = unzip(&saved);
    let tables: Vec<&String> = files.keys().filter(|k| k.starts_with("xl/tables/")).collect();
    assert_eq!(tables.len(), 2, "{tables:?}");
    let again = open(saved.clone());
    let fresh = again.model().sheets.iter().find(|s| s.name == "Fresh").unwrap();
    assert_eq!((fresh.tables.len(), fresh.tables[0].columns.clone()), (1, vec!["N".to_string()]));
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    x.load_tables().unwrap();
    assert_eq!(x.table_names_in_sheet("Fresh"), [&"Table1".to_string()]);
}

#[test]
fn rows_inserted_by_the_engine_calculate_as_a_reload_does() {
    // One sheet, no names or tables: the engine moves its own cells.
    let mut x = rust_xlsxwriter::Workbook::new();
    let ws = x.add_worksheet().set_name("S").unwrap();
    for r in 0..40u32 {
        ws.write_number(r, 0, f64::from(r * 3 % 17)).unwrap();
        let n = r + 1;
        let formulas = [
            format!("=A{n}*2+$A$1"),
            format!("=SUM($A$1:A{n})"),
            format!("=ROW()+ROWS(A1:A{n})"),
            format!("=IF(A{n}>8,\"big\",COUNTIF(A:A,A{n}))"),
            format!("=INDEX(A:A,{n})+MATCH(A{n},A1:A40,0)"),
        ];
        for (c, f) in formulas.iter().enumerate() {
            ws.write_formula(r, c as u16 + 1, Formula::new(f)).unwrap();
        }
    }
    let mut wb = open(x.save_to_buffer().unwrap());
    for (at, count) in [(0, 1), (10, 3), (45, 2), (20, 1)] {
        wb.edit(rows("S", at, count, true)).unwrap();
    }
    let mut fresh = Workbook::open(wb.save().unwrap()).unwrap();
    fresh.full_recalc().unwrap();
    let mut compared = 0;
    for (&(r, c), cell) in &wb.model().sheets[0].cells {
        if cell.formula.is_some() {
            assert_eq!(wb.value(0, r, c), fresh.value(0, r, c), "{}", book::address::cell_name(r, c));
            compared += 1;
        }
    }
    assert_eq!(compared, 200);
}
