//! The properties that the fuzz targets in `fuzz/` check on arbitrary input. The same functions
//! run over the committed fuzz corpora in `tests/fuzz_corpus.rs`, so an input that once broke
//! something stays a test. Each panics when its property fails.

use crate::address::{Area, SheetArea};
use crate::{Limits, Value, Workbook};

/// A1 and R1C1 addresses and formulas: parsing never panics, and a parsed A1 area written back
/// and parsed again covers the same cells, of the same kind. (The `$` of a one-cell area's second
/// corner is not kept: `$A1:A1` is written `$A1`, as Excel shows it.)
pub fn addresses(text: &str) {
    let cells = |a: &Area| (a.first_row, a.first_col, a.last_row, a.last_col, a.kind);
    if let Ok(area) = Area::parse_a1(text) {
        let again = Area::parse_a1(&area.to_a1()).unwrap_or_else(|e| panic!("{text:?} → {:?}: {e:?}", area.to_a1()));
        assert_eq!(cells(&again), cells(&area), "{text:?} → {:?}", area.to_a1());
    }
    if let Ok(sheet_area) = SheetArea::parse(text) {
        let again = SheetArea::parse(&sheet_area.to_a1()).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
        assert_eq!(cells(&again.area), cells(&sheet_area.area), "{text:?}");
        assert_eq!(again.sheet, sheet_area.sheet, "{text:?}");
    }
    for base in [(0, 0), (5, 3), (1_048_575, 16_383)] {
        if let Ok(area) = Area::parse_r1c1(text, base) {
            let _ = area.to_r1c1(base);
        }
        let _ = crate::r1c1::to_r1c1(text, base.0, base.1);
        let _ = crate::r1c1::from_r1c1(text, base.0, base.1);
    }
}

/// Number formats: any code renders any value without panicking. The first 8 bytes are the
/// number, the rest the format code.
pub fn number_format(data: &[u8]) {
    let (number, code) = data.split_at(data.len().min(8));
    let mut raw = [0u8; 8];
    raw[..number.len()].copy_from_slice(number);
    let code = String::from_utf8_lossy(code);
    for value in [f64::from_le_bytes(raw), 0.0, -1.5, 45_000.25, 1e300] {
        for date1904 in [false, true] {
            let _ = crate::numfmt::format_value(&Value::Number(value), &code, date1904);
        }
    }
    let _ = crate::numfmt::format_text("text", &code);
}

/// Any bytes as an .xlsx: opening never panics, and a workbook that opens saves into a file
/// that opens again with the same sheets.
pub fn open_and_save(bytes: &[u8]) {
    let limits = Limits { max_part_bytes: 8 << 20, max_total_bytes: 32 << 20, max_cells: 200_000, ..Limits::default() };
    let Ok(mut wb) = Workbook::open_with(bytes.to_vec(), &limits) else { return };
    let sheets: Vec<String> = wb.sheet_names().into_iter().map(str::to_string).collect();
    let Ok(saved) = wb.save() else { return };
    let reopened = Workbook::open_with(saved, &limits).expect("a saved workbook opens again");
    assert_eq!(reopened.sheet_names(), sheets);
}

/// The smallest .xlsx with one sheet, `Sheet1`, holding these cells (`("B2", "5")`: numbers as
/// numbers, anything else as text), for fuzz harnesses that need a workbook to start from.
pub fn minimal_xlsx(cells: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const DOC_RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG_RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let mut rows: std::collections::BTreeMap<u32, String> = Default::default();
    for (at, value) in cells {
        let Ok(area) = Area::parse_a1(at) else { continue };
        let cell = match value.parse::<f64>() {
            Ok(n) => format!(r#"<c r="{at}"><v>{n}</v></c>"#),
            Err(_) => format!(r#"<c r="{at}" t="inlineStr"><is><t>{value}</t></is></c>"#),
        };
        rows.entry(area.first_row + 1).or_default().push_str(&cell);
    }
    let sheet_data: String = rows.iter().map(|(r, cells)| format!(r#"<row r="{r}">{cells}</row>"#)).collect();
    let parts = [
        (
            "[Content_Types].xml",
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            format!(r#"<Relationships xmlns="{PKG_RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(r#"<Relationships xmlns="{PKG_RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ),
        ("xl/worksheets/sheet1.xml", format!(r#"<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>"#)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in parts {
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        // Writing into memory does not fail.
        let _ = zip.start_file(name, options);
        let _ = zip.write_all(text.as_bytes());
    }
    zip.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// The committed inputs of a fuzz target: its corpus (`fuzz/corpus/{target}`) and its crash
/// reproducers (`fuzz/regressions/{target}`), sorted by path. Panics when there are none: a
/// replay test must replay something.
pub fn committed_inputs(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for e in entries.flatten() {
            if !e.file_name().to_string_lossy().starts_with('.') {
                if let Ok(bytes) = std::fs::read(e.path()) {
                    out.push((e.path(), bytes));
                }
            }
        }
    }
    assert!(!out.is_empty(), "no committed fuzz inputs for {target}");
    out.sort();
    out
}

/// Runs a check over every committed input of a target; panics naming the first that fails.
pub fn replay(target: &str, mut check: impl FnMut(&[u8])) {
    for (path, bytes) in committed_inputs(target) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(result.is_ok(), "{} fails its fuzz check again", path.display());
    }
}
