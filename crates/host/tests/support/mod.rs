//! The workbook and the edit the host tests share.
#![allow(dead_code)]

use book::{CellInput, Edit, SetCells};

/// Sheet1: A1 = 1, A2 = 2, A3 = A1+A2.
pub fn workbook_bytes() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_number(0, 0, 1.0).unwrap();
    ws.write_number(1, 0, 2.0).unwrap();
    ws.write_formula(2, 0, rust_xlsxwriter::Formula::new("=A1+A2").set_result("3")).unwrap();
    wb.save_to_buffer().unwrap()
}

/// Sheet1!A1 = n.
pub fn set_a1(n: f64) -> Edit {
    Edit::SetCells(SetCells {
        sheet: "Sheet1".into(),
        row: 0,
        col: 0,
        rows: 1,
        cols: 1,
        inputs: Some(vec![vec![Some(CellInput::Number(n))]]),
        number_formats: None,
    })
}
