//! Builds small .xlsx packages part by part, so that each test controls exactly what is inside.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
pub const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// A package under construction: (part name, bytes, stored uncompressed?).
#[derive(Clone)]
pub struct Fixture {
    pub parts: Vec<(String, Vec<u8>, bool)>,
}

impl Fixture {
    /// One sheet named `Sheet1` with the given `<sheetData>` content, a shared string table,
    /// styles, a comments part the document core does not model, and document properties.
    pub fn one_sheet(sheet_data: &str, shared_strings: &[&str]) -> Fixture {
        let sst_items: String = shared_strings.iter().map(|s| format!("<si><t>{s}</t></si>")).collect();
        let mut f = Fixture { parts: Vec::new() };
        f.add(
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/comments1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#,
        );
        f.add(
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#,
        );
        f.add("docProps/app.xml", r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application></Properties>"#);
        f.add(
            "xl/workbook.xml",
            &format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets><calcPr calcId="191029"/></workbook>"#),
        );
        f.add(
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
        );
        f.add(
            "xl/worksheets/sheet1.xml",
            &format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><dimension ref="A1:C3"/><sheetData>{sheet_data}</sheetData><mergeCells count="1"><mergeCell ref="E1:F1"/></mergeCells><dataValidations count="1"><dataValidation type="whole" sqref="A1"><formula1>0</formula1><formula2>100</formula2></dataValidation></dataValidations><legacyDrawing r:id="rId1"/></worksheet>"#),
        );
        f.add(
            "xl/worksheets/_rels/sheet1.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments" Target="../comments1.xml"/></Relationships>"#,
        );
        f.add(
            "xl/comments1.xml",
            &format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><comments xmlns="{MAIN_NS}"><authors><author>a</author></authors><commentList><comment ref="A1" authorId="0"><text><t>note</t></text></comment></commentList></comments>"#),
        );
        f.add(
            "xl/sharedStrings.xml",
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="{MAIN_NS}" count="{n}" uniqueCount="{n}">{sst_items}</sst>"#,
                n = shared_strings.len()
            ),
        );
        f.add(
            "xl/styles.xml",
            &format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN_NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#),
        );
        f
    }

    pub fn add(&mut self, name: &str, text: &str) {
        self.set_bytes(name, text.as_bytes().to_vec());
    }

    pub fn set_bytes(&mut self, name: &str, bytes: Vec<u8>) {
        match self.parts.iter_mut().find(|p| p.0 == name) {
            Some(p) => p.1 = bytes,
            None => self.parts.push((name.to_string(), bytes, false)),
        }
    }

    /// Stores a part without compression (so that a test can damage its bytes in place).
    pub fn store(&mut self, name: &str) {
        if let Some(p) = self.parts.iter_mut().find(|p| p.0 == name) {
            p.2 = true;
        }
    }

    pub fn zip(&self) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, stored) in &self.parts {
            let method = if *stored { CompressionMethod::Stored } else { CompressionMethod::Deflated };
            w.start_file(name.as_str(), SimpleFileOptions::default().compression_method(method)).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }
}

/// Every entry of a zip, decompressed, by name.
pub fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        out.insert(name, v);
    }
    out
}

/// An edit writing one cell.
pub fn set_cell(sheet: &str, row: u32, col: u32, input: book::CellInput) -> book::Edit {
    book::Edit::SetCells(book::SetCells {
        sheet: sheet.into(),
        row,
        col,
        rows: 1,
        cols: 1,
        inputs: Some(vec![vec![Some(input)]]),
        number_formats: None,
    })
}
