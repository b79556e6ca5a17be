//! The benchmark books, generated with rust_xlsxwriter (also the write baseline).
#![allow(dead_code)]

use rust_xlsxwriter::{Formula, Workbook};

pub const ROWS: u32 = 10_000;
pub const COLS: u16 = 10;

/// 100k values (10,000 rows × A:J) and 10k formulas: 8,000 arithmetic (L), 1,000 row SUMs (M),
/// 900 VLOOKUPs over the 10,000 rows (N) and 100 column SUMs (O).
pub fn formulas_book() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Data").unwrap();
    for r in 0..ROWS {
        for c in 0..COLS {
            ws.write_number(r, c, f64::from(r * 10 + u32::from(c)) + 0.5).unwrap();
        }
    }
    for r in 0..8_000u32 {
        let n = r + 1;
        ws.write_formula(r, 11, Formula::new(format!("=A{n}*B{n}+C{n}"))).unwrap();
    }
    for r in 0..1_000u32 {
        let n = r + 1;
        ws.write_formula(r, 12, Formula::new(format!("=SUM(A{n}:J{n})"))).unwrap();
    }
    for r in 0..900u32 {
        let key = (r * 11 % ROWS) + 1;
        ws.write_formula(r, 13, Formula::new(format!("=VLOOKUP(A{key},$A$1:$J${ROWS},3,FALSE)"))).unwrap();
    }
    for r in 0..100u32 {
        let col = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"][(r % 10) as usize];
        ws.write_formula(r, 14, Formula::new(format!("=SUM({col}1:{col}{ROWS})"))).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// One million values: 100,000 rows × A:J.
pub fn million_book() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Data").unwrap();
    for r in 0..100_000u32 {
        for c in 0..COLS {
            ws.write_number(r, c, f64::from(r) * 0.25 + f64::from(c)).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}
