//! Broken and hostile packages get a typed error, in bounded time and memory, never a panic.

mod common;

use book::{BookError, Limits, Workbook};
use common::Fixture;
use proptest::prelude::*;

fn plain() -> Fixture {
    Fixture::one_sheet(r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>A1+1</f><v>2</v></c></row>"#, &[])
}

fn open_err(bytes: Vec<u8>) -> BookError {
    refused(Workbook::open(bytes))
}

fn refused(result: Result<Workbook, BookError>) -> BookError {
    match result {
        Ok(_) => panic!("the package must be refused"),
        Err(e) => e,
    }
}

#[test]
fn not_a_zip() {
    assert!(matches!(open_err(b"hello, this is not a workbook".to_vec()), BookError::NotAPackage(_)));
    assert!(matches!(open_err(Vec::new()), BookError::NotAPackage(_)));
}

#[test]
fn truncated_zip() {
    let bytes = plain().zip();
    let cut = bytes[..bytes.len() / 2].to_vec();
    assert!(matches!(open_err(cut), BookError::NotAPackage(_) | BookError::Corrupt { .. }));
}

#[test]
fn encrypted_workbook() {
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend(std::iter::repeat_n(0u8, 4096));
    assert_eq!(open_err(ole), BookError::Encrypted);
}

#[test]
fn bad_crc() {
    let mut f = plain();
    f.store("xl/worksheets/sheet1.xml");
    let mut bytes = f.zip();
    // Change one digit of the stored sheet: the data no longer matches its CRC.
    let at = bytes.windows(8).position(|w| w == b"<v>1</v>").expect("stored sheet text") + 3;
    bytes[at] = b'7';
    assert!(matches!(open_err(bytes), BookError::Corrupt { .. }));
}

#[test]
fn compression_bomb() {
    let mut f = plain();
    // 8 MiB of spaces inside the sheet compresses about a thousand to one.
    let padding = " ".repeat(8 << 20);
    f.add(
        "xl/worksheets/sheet1.xml",
        &format!("<worksheet xmlns=\"{}\"><sheetData/>{padding}</worksheet>", common::MAIN_NS),
    );
    let limits = Limits { max_ratio: 100, ..Limits::default() };
    let err = refused(Workbook::open_with(f.zip(), &limits));
    assert!(matches!(err, BookError::Hostile(_)), "{err:?}");
    let small = Limits { max_part_bytes: 1 << 20, ..Limits::default() };
    let err = refused(Workbook::open_with(f.zip(), &small));
    assert!(matches!(err, BookError::Hostile(_) | BookError::TooLarge(_)), "{err:?}");
}

#[test]
fn entity_expansion() {
    let mut f = plain();
    f.add(
        "xl/sharedStrings.xml",
        &format!(
            r#"<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><sst xmlns="{}"><si><t>&b;</t></si></sst>"#,
            common::MAIN_NS
        ),
    );
    assert!(matches!(open_err(f.zip()), BookError::Hostile(_)));
}

#[test]
fn deeply_nested_xml() {
    let mut f = plain();
    let depth = 100_000;
    let xml = format!(
        "<worksheet xmlns=\"{}\"><sheetData/><extLst>{}{}</extLst></worksheet>",
        common::MAIN_NS,
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    );
    f.add("xl/worksheets/sheet1.xml", &xml);
    // Either refused, or opened without the nesting costing a stack overflow.
    match Workbook::open(f.zip()) {
        Ok(_) => {}
        Err(e) => assert!(matches!(e, BookError::Hostile(_) | BookError::Corrupt { .. }), "{e:?}"),
    }
}

#[test]
fn too_many_cells() {
    let row: String = (1..=2000).map(|r| format!("<row r=\"{r}\"><c r=\"A{r}\"><v>{r}</v></c></row>")).collect();
    let f = Fixture::one_sheet(&row, &[]);
    let limits = Limits { max_cells: 1000, ..Limits::default() };
    let err = refused(Workbook::open_with(f.zip(), &limits));
    assert!(matches!(err, BookError::TooLarge(_) | BookError::Hostile(_)), "{err:?}");
}

#[test]
fn far_corner_cell_opens_in_bounded_memory() {
    // One cell at the last row and column of the sheet: valid, and must not allocate the grid.
    let f = Fixture::one_sheet(r#"<row r="1048576"><c r="XFD1048576"><v>5</v></c></row>"#, &[]);
    let wb = Workbook::open(f.zip()).unwrap();
    assert_eq!(wb.cell("Sheet1", 1_048_575, 16_383).unwrap().value, book::Value::Number(5.0));
}

#[test]
fn missing_parts() {
    let mut f = plain();
    f.parts.retain(|p| p.0 != "xl/worksheets/sheet1.xml");
    assert!(matches!(open_err(f.zip()), BookError::MissingPart(_)));
    let mut f = plain();
    f.parts.retain(|p| p.0 != "[Content_Types].xml");
    assert!(matches!(open_err(f.zip()), BookError::MissingPart(_)));
    let mut f = plain();
    f.parts.retain(|p| p.0 != "xl/workbook.xml");
    assert!(matches!(open_err(f.zip()), BookError::MissingPart(_) | BookError::NotAPackage(_)));
}

#[test]
fn malformed_xml_and_values() {
    let mut f = plain();
    f.add("xl/worksheets/sheet1.xml", &format!("<worksheet xmlns=\"{}\"><sheetData><row", common::MAIN_NS));
    assert!(matches!(open_err(f.zip()), BookError::Corrupt { .. }));
    let f = Fixture::one_sheet(r#"<row r="1"><c r="A1" t="s"><v>99</v></c></row>"#, &[]);
    assert!(matches!(open_err(f.zip()), BookError::Corrupt { .. }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any damage to a valid package is reported as an error or opened, never a panic.
    #[test]
    fn damaged_bytes_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = plain().zip();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(mut wb) = Workbook::open(bytes) {
            let _ = wb.full_recalc();
            let _ = wb.save();
        }
    }
}
