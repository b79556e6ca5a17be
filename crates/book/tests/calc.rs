//! Recalculation that depends on more than cell values: row visibility and nested subtotals,
//! read from the file as Excel saved it.

mod common;

use book::{Value, Workbook};
use common::Fixture;

/// A1:A4 = 1, 2, 100 (row 3 hidden by hand), 4; A5 = SUBTOTAL(9,A1:A4). Every cached result is
/// 0, so only a recalculation can produce the expected numbers.
fn hidden_row_book() -> Vec<u8> {
    let formula = |cell: &str, f: &str| format!(r#"<c r="{cell}"><f>{f}</f><v>0</v></c>"#);
    let rows = [
        format!(r#"<row r="1"><c r="A1"><v>1</v></c>{}</row>"#, formula("B1", "AGGREGATE(9,1,A1:A5)")),
        format!(r#"<row r="2"><c r="A2"><v>2</v></c>{}</row>"#, formula("B2", "_xlfn.AGGREGATE(14,1,A1:A5,1)")),
        format!(r#"<row r="3" hidden="1"><c r="A3"><v>100</v></c>{}</row>"#, formula("B3", "AGGREGATE(14,4,A1:A5,1)")),
        format!(r#"<row r="4"><c r="A4"><v>4</v></c>{}</row>"#, formula("B4", "SUBTOTAL(109,A1:A4)")),
        format!(r#"<row r="5">{}{}</row>"#, formula("A5", "SUBTOTAL(9,A1:A4)"), formula("B5", "AGGREGATE(12,6,A1:A4)")),
    ];
    Fixture::one_sheet(&rows.concat(), &[]).zip()
}

#[test]
fn aggregate_and_subtotal_skip_hidden_rows_and_nested_subtotals() {
    let mut wb = Workbook::open(hidden_row_book()).unwrap();
    wb.full_recalc().unwrap();
    let number = |row: u32, col: u32| wb.cell("Sheet1", row, col).unwrap().value;
    // SUBTOTAL 9 counts a row hidden by hand; 109 does not.
    assert_eq!(number(4, 0), Value::Number(107.0));
    assert_eq!(number(3, 1), Value::Number(7.0));
    // Option 1: hidden rows and the nested SUBTOTAL in A5 are left out.
    assert_eq!(number(0, 1), Value::Number(7.0));
    // The array forms (LARGE) honour the same options; option 4 ignores nothing.
    assert_eq!(number(1, 1), Value::Number(4.0));
    assert_eq!(number(2, 1), Value::Number(107.0));
    // Option 6 ignores only errors: the median of 1, 2, 100, 4.
    assert_eq!(number(4, 1), Value::Number(3.0));
}

#[test]
fn a_run_of_hidden_rows_is_skipped_whole() {
    let row = |n: u32, hidden: bool, extra: &str| {
        let h = if hidden { r#" hidden="1""# } else { "" };
        format!(r#"<row r="{n}"{h}><c r="A{n}"><v>{n}</v></c>{extra}</row>"#)
    };
    let rows = [
        row(
            1,
            false,
            r#"<c r="B1"><f>SUBTOTAL(109,A1:A5)</f><v>0</v></c><c r="C1"><f>SUBTOTAL(9,A1:A5)</f><v>0</v></c>"#,
        ),
        row(2, true, ""),
        row(3, true, ""),
        row(4, true, ""),
        row(5, false, ""),
    ];
    let mut wb = Workbook::open(Fixture::one_sheet(&rows.concat(), &[]).zip()).unwrap();
    wb.full_recalc().unwrap();
    assert_eq!(wb.cell("Sheet1", 0, 1).unwrap().value, Value::Number(6.0));
    assert_eq!(wb.cell("Sheet1", 0, 2).unwrap().value, Value::Number(15.0));
}

#[test]
fn formulas_evaluate_against_the_book_without_changing_it() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Data").unwrap();
    for r in 0..5u32 {
        ws.write_string(r, 0, ["pear", "fig", "plum", "kiwi", "lime"][r as usize]).unwrap();
        ws.write_number(r, 1, f64::from(r + 1)).unwrap();
        ws.write_formula(r, 2, rust_xlsxwriter::Formula::new(format!("=B{}*10", r + 1))).unwrap();
    }
    let mut book = book::Workbook::open(wb.save_to_buffer().unwrap()).unwrap();
    // Freshly opened: formula cells read as calculated once the book is readied.
    assert!(!book.is_ready_for_evaluation());
    book.ready_for_evaluation().unwrap();
    let v = |f: &str| book.evaluate("Data", f).unwrap();
    assert_eq!(v("VLOOKUP(\"plum\",Data!A1:C5,3,FALSE)"), book::Value::Number(30.0));
    assert_eq!(v("MEDIAN(Data!C1:C5)"), book::Value::Number(30.0));
    assert!(matches!(v("PMT(0.01,12,1000)"), book::Value::Number(n) if (n + 88.8487886783417).abs() < 1e-9));
    assert_eq!(v("VLOOKUP(\"nope\",Data!A1:C5,3,FALSE)"), book::Value::Error(book::ErrorKind::NA));
    assert!(book::Workbook::has_function("VLOOKUP") && book::Workbook::has_function("T.DIST"));
    assert!(!book::Workbook::has_function("NOSUCHFUNCTION"));
}
