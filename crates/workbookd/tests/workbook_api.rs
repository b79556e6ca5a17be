//! The everyday workbook API against the real server: range entry points and navigation,
//! named items, tables with their columns and rows, and the application.

mod support;

use rust_xlsxwriter::{Formula, Table, TableColumn, TableFunction};
use serde_json::{json, Value};
use support::{user, Server};

/// Sheet1: a table `Sales` over A1:C5 (header, three rows, a total row), a formula over a
/// structured reference in E1, names of every kind. Sheet 2: one value.
fn fixture() -> Vec<u8> {
    let mut wb = support::new_xlsx();
    let ws = wb.add_worksheet();
    let rows = [("pear", 3.0, 1.5), ("fig", 5.0, 2.0), ("plum", 7.0, 0.5)];
    for (i, (name, qty, price)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, *name).unwrap();
        ws.write_number(r, 1, *qty).unwrap();
        ws.write_number(r, 2, *price).unwrap();
    }
    let table = Table::new().set_name("Sales").set_total_row(true).set_columns(&[
        TableColumn::new().set_header("Fruit").set_total_label("Total"),
        TableColumn::new().set_header("Qty").set_total_function(TableFunction::Sum),
        TableColumn::new().set_header("Price"),
    ]);
    ws.add_table(0, 0, 4, 2, &table).unwrap();
    ws.write_formula(0, 4, Formula::new("=SUM(Sales[Qty])*2")).unwrap();
    ws.write_number(0, 5, 0.25).unwrap();
    let other = wb.add_worksheet().set_name("Sheet 2").unwrap();
    other.write_number(2, 1, 9.0).unwrap();
    wb.define_name("Rate", "=Sheet1!$F$1").unwrap();
    wb.define_name("Fruits", "=Sheet1!$A$2:$A$4").unwrap();
    wb.define_name("Tax", "=0.2").unwrap();
    wb.define_name("Sheet1!Local", "=Sheet1!$B$2:$C$3").unwrap();
    // The same name scoped to a sheet and to the workbook.
    wb.define_name("Sheet1!Twice", "=Sheet1!$A$2").unwrap();
    wb.define_name("Twice", "=Sheet1!$A$3").unwrap();
    wb.save_to_buffer().unwrap()
}

struct Book {
    server: Server,
    token: String,
    item: String,
    base: String,
}

impl Book {
    fn new() -> Book {
        let server = Server::start(&[]);
        let token = user("alice");
        let item = server.upload(&token, "Fixture.xlsx", &fixture());
        let base = format!("/v1.0/me/drive/items/{item}/workbook");
        Book { server, token, item, base }
    }

    fn call(&self, method: &str, path: &str, body: &str) -> support::Response {
        self.server.as_user(&self.token, method, &format!("{}/{path}", self.base), None, body)
    }

    fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let r = self.call(method, path, body);
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
        r.json()
    }

    fn address(&self, path: &str) -> String {
        let select = if path.contains('?') { "&$select=address" } else { "?$select=address" };
        let r = self.ok("GET", &format!("{path}{select}"), "");
        assert!(r.get("values").is_none(), "$select=address reads no cells");
        r["address"].as_str().unwrap_or_default().to_string()
    }

    fn error(&self, method: &str, path: &str, body: &str) -> (u16, String, String) {
        self.call(method, path, body).error()
    }
}

#[test]
fn ranges_navigate_from_every_entry_point() {
    let b = Book::new();
    let s = "worksheets/Sheet1";
    let r = "worksheets/Sheet1/range(address='B2:D4')";
    assert_eq!(b.address(&format!("{r}/cell(row=1,column=1)")), "Sheet1!C3");
    assert_eq!(b.address(&format!("{r}/cell(row=5,column=0)")), "Sheet1!B7", "a cell may lie outside the range");
    assert_eq!(b.address(&format!("{r}/column(column=2)")), "Sheet1!D2:D4");
    assert_eq!(b.address(&format!("{r}/entireRow")), "Sheet1!2:4");
    assert_eq!(b.address(&format!("{r}/entireColumn")), "Sheet1!B:D");
    assert_eq!(b.address(&format!("{r}/lastCell")), "Sheet1!D4");
    assert_eq!(b.address(&format!("{r}/lastRow")), "Sheet1!B4:D4");
    assert_eq!(b.address(&format!("{r}/lastColumn")), "Sheet1!D2:D4");
    assert_eq!(b.address(&format!("{r}/offsetRange(rowOffset=1,columnOffset=-1)")), "Sheet1!A3:C5");
    assert_eq!(b.address(&format!("{r}/rowsAbove")), "Sheet1!B1:D1");
    assert_eq!(b.address(&format!("{r}/rowsBelow(count=2)")), "Sheet1!B5:D6");
    assert_eq!(b.address(&format!("{r}/columnsBefore(count=1)")), "Sheet1!A2:A4");
    assert_eq!(b.address(&format!("{r}/columnsAfter(count=3)")), "Sheet1!E2:G4");
    assert_eq!(b.address(&format!("{r}/boundingRect(anotherRange='F9')")), "Sheet1!B2:F9");
    assert_eq!(b.address(&format!("{r}/intersection(anotherRange='A1:C3')")), "Sheet1!B2:C3");
    assert_eq!(b.address(&format!("{s}/range(address='A1:Z50')/usedRange")), "Sheet1!A1:F5");
    // Chains, and the used range's own navigation.
    assert_eq!(b.address(&format!("{s}/usedRange/lastRow/cell(row=0,column=1)")), "Sheet1!B5");
    assert_eq!(b.address(&format!("{s}/cell(row=2,column=1)")), "Sheet1!B3");
    // The docs' other call styles: arguments in a JSON body, POST for `row` and `resizedRange`.
    assert_eq!(b.ok("POST", &format!("{r}/row"), r#"{"row":2}"#)["address"], "Sheet1!B4:D4");
    assert_eq!(
        b.ok("GET", &format!("{r}/offsetRange"), r#"{"rowOffset":3,"columnOffset":5}"#)["address"],
        "Sheet1!G5:I7"
    );
    assert_eq!(b.ok("GET", &format!("{r}/boundingRect"), r#"{"anotherRange":"A1"}"#)["address"], "Sheet1!A1:D4");
    assert_eq!(b.ok("POST", &format!("{r}/resizedRange(deltaRows=1,deltaColumns=-2)"), "")["address"], "Sheet1!B2:B5");
    // Values come with the navigated range.
    let cell = b.ok("GET", &format!("{s}/range(address='A1:C5')/cell(row=2,column=1)"), "");
    assert_eq!(cell["values"], json!([[5]]));
    assert_eq!(cell["valueTypes"], json!([["Double"]]));

    // Bad navigation: the documented inner codes, nothing else.
    let bad = |path: &str| b.error("GET", &format!("{r}/{path}"), "");
    assert_eq!(bad("offsetRange(rowOffset=-5,columnOffset=0)"), (400, "badRequest".into(), "invalidArgument".into()));
    assert_eq!(bad("row(row=3)"), (400, "badRequest".into(), "invalidArgument".into()));
    assert_eq!(bad("rowsAbove(count=0)"), (400, "badRequest".into(), "invalidArgument".into()));
    assert_eq!(bad("offsetRange"), (400, "badRequest".into(), "invalidArgument".into()), "arguments are required");
    assert_eq!(bad("intersection(anotherRange='Z90')"), (404, "notFound".into(), "itemNotFound".into()));
    assert_eq!(bad("boundingRect(anotherRange='Sheet%202!A1')").1, "badRequest");
    assert_eq!(b.error("GET", "worksheets/Sheet1/cell(row=-1,column=0)", "").0, 400);
    assert_eq!(b.error("GET", "worksheets/Nope/range(address='A1')/lastCell", "").2, "itemNotFound");
    // Operations on a range that are not built yet answer 501 naming them, from any entry point.
    let e = b.call("PATCH", &format!("{r}/format"), r#"{"columnWidth":20}"#);
    assert_eq!(e.error().0, 501);
    assert!(e.text().contains("rangeformat-update"), "{}", e.text());
    assert!(b.call("GET", "tables/Sales/range/format", "").text().contains("rangeformat-get"));
}

#[test]
fn named_items_list_get_and_give_their_ranges() {
    let b = Book::new();
    let names = b.ok("GET", "names", "");
    let listed: Vec<&str> = names["value"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["Fruits", "Rate", "Tax", "Twice"], "workbook scope only");
    // A name in both scopes: the workbook's under names/, the sheet's under the worksheet.
    assert_eq!(b.ok("GET", "names/Twice/range", "")["values"], json!([["fig"]]));
    assert_eq!(b.ok("GET", "worksheets/Sheet1/names/Twice/range", "")["values"], json!([["pear"]]));
    let rate = b.ok("GET", "names/Rate", "");
    assert_eq!(
        (rate["type"].clone(), rate["value"].clone(), rate["scope"].clone(), rate["visible"].clone()),
        (json!("Range"), json!("Sheet1!$F$1"), json!("Workbook"), json!(true))
    );
    let tax = b.ok("GET", "names('tax')", "");
    assert_eq!((tax["type"].clone(), tax["value"].clone()), (json!("Double"), json!(0.2)));
    let local = b.ok("GET", "worksheets/Sheet1/names", "");
    assert_eq!(local["value"][0]["name"], "Local");
    assert_eq!(local["value"][0]["scope"], "Worksheet");
    assert_eq!(b.ok("GET", "worksheets/Sheet1/names/Local", "")["value"], "Sheet1!$B$2:$C$3");

    let fruits = b.ok("GET", "names/Fruits/range", "");
    assert_eq!(fruits["address"], "Sheet1!A2:A4");
    assert_eq!(fruits["values"], json!([["pear"], ["fig"], ["plum"]]));
    assert_eq!(b.address("names/Fruits/range/lastCell"), "Sheet1!A4");
    assert_eq!(b.address("worksheets/Sheet1/names/Local/range/column(column=1)"), "Sheet1!C2:C3");
    assert_eq!(b.ok("GET", "names/Rate/range", "")["values"], json!([[0.25]]));

    assert_eq!(b.error("GET", "names/Nope", ""), (404, "notFound".into(), "itemNotFound".into()));
    assert_eq!(b.error("GET", "names/Local", "").2, "itemNotFound", "a sheet's name is not the workbook's");
    assert_eq!(b.error("GET", "names/Tax/range", "").2, "invalidArgument", "a constant has no range");

    // A range reached through a name is written like any other, with recalculation.
    let patched = b.ok("PATCH", "names/Rate/range", r#"{"values":[[0.5]]}"#);
    assert_eq!(patched["values"], json!([[0.5]]));
}

#[test]
fn tables_columns_and_rows_read_as_graph_shows_them() {
    let b = Book::new();
    let tables = b.ok("GET", "tables", "");
    assert_eq!(tables["value"].as_array().unwrap().len(), 1);
    let t = &tables["value"][0];
    assert_eq!(
        (t["name"].clone(), t["showHeaders"].clone(), t["showTotals"].clone()),
        (json!("Sales"), json!(true), json!(true))
    );
    assert_eq!(t["style"], "TableStyleMedium9");
    assert_eq!(t["showBandedRows"], true);
    assert_eq!(t["showFilterButton"], true);
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(b.ok("GET", &format!("tables/{id}"), "")["name"], "Sales");
    assert_eq!(b.ok("GET", "worksheets/Sheet1/tables", "")["value"][0]["name"], "Sales");
    assert_eq!(b.ok("GET", "worksheets('Sheet%202')/tables", "")["value"], json!([]));

    // Ranges of the table and its parts.
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C5");
    assert_eq!(b.address("tables/sales/headerRowRange"), "Sheet1!A1:C1");
    assert_eq!(b.address("tables/Sales/dataBodyRange"), "Sheet1!A2:C4");
    assert_eq!(b.address("tables/Sales/totalRowRange"), "Sheet1!A5:C5");
    assert_eq!(b.address("tables/Sales/columns/Qty/dataBodyRange"), "Sheet1!B2:B4");
    assert_eq!(b.address("worksheets/Sheet1/tables/Sales/columns/3/range"), "Sheet1!C1:C5");
    assert_eq!(b.address("tables/Sales/rows/itemAt(index=1)/range"), "Sheet1!A3:C3");
    assert_eq!(b.address("tables/Sales/dataBodyRange/lastRow"), "Sheet1!A4:C4");

    // Columns: by name, id and position, with every value of the column.
    let columns = b.ok("GET", "tables/Sales/columns", "");
    let names: Vec<&str> = columns["value"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Fruit", "Qty", "Price"]);
    let qty = b.ok("GET", "tables/Sales/columns/Qty", "");
    assert_eq!((qty["id"].clone(), qty["index"].clone()), (json!("2"), json!(1)));
    assert_eq!(qty["values"], json!([["Qty"], [3], [5], [7], [15]]));
    assert_eq!(b.ok("GET", "tables/Sales/columns/3", "")["name"], "Price");
    assert_eq!(b.ok("POST", "tables/Sales/columns/itemAt", r#"{"index":0}"#)["name"], "Fruit");
    assert_eq!(b.ok("GET", "tables/Sales/columns/itemAt(index=2)", "")["name"], "Price");
    assert_eq!(b.ok("GET", "tables/Sales/columns?$top=1&$skip=1", "")["value"][0]["name"], "Qty");

    // Rows: data rows by 0-based index.
    let rows = b.ok("GET", "tables/Sales/rows", "");
    assert_eq!(rows["value"].as_array().unwrap().len(), 3);
    assert_eq!(rows["value"][2], json!({"index": 2, "values": [["plum", 7, 0.5]]}));
    assert_eq!(
        b.ok("GET", "tables/Sales/rows?$skip=1&$top=1", "")["value"],
        json!([{"index": 1, "values": [["fig", 5, 2]]}])
    );
    assert_eq!(b.ok("GET", "tables/Sales/rows/0", "")["values"], json!([["pear", 3, 1.5]]));
    assert_eq!(b.ok("POST", "tables/Sales/rows/itemAt", r#"{"index":1}"#)["values"][0][0], "fig");
    assert_eq!(b.ok("GET", "tables/Sales/rows/$/itemAt(index=2)", "")["index"], 2);

    // Unknown members and bad indexes.
    let not_found = (404, "notFound".to_string(), "itemNotFound".to_string());
    assert_eq!(b.error("GET", "tables/Nope", ""), not_found);
    assert_eq!(b.error("GET", "tables/Sales/columns/Nope", ""), not_found);
    assert_eq!(b.error("GET", "tables/Sales/rows/3", ""), not_found);
    assert_eq!(b.error("GET", "tables/Sales/rows/itemAt(index=-1)/range", ""), not_found);
    assert_eq!(b.error("POST", "tables/Sales/rows/itemAt", r#"{"index":"x"}"#).2, "invalidArgument");
    assert_eq!(b.error("GET", "tables/Sales/columns?$top=x", "").2, "invalidArgument");

    // A header cell holds its column's name: writing another renames the column (formulas
    // naming it follow), clearing it is refused, the same name changes nothing.
    b.ok("PATCH", "tables/Sales/headerRowRange", r#"{"values":[[null,"Count",null]]}"#);
    assert_eq!(b.ok("GET", "tables/Sales/columns/2", "")["name"], "Count");
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='E1')", "")["formulas"], json!([["=SUM(Sales[Count])*2"]]));
    assert_eq!(b.error("POST", "tables/Sales/range/clear", "{}").2, "invalidArgument");
    assert_eq!(
        b.ok("PATCH", "tables/Sales/headerRowRange", r#"{"values":[["Fruit","Qty",null]]}"#)["values"][0],
        json!(["Fruit", "Qty", "Price"])
    );
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='E1')", "")["formulas"], json!([["=SUM(Sales[Qty])*2"]]));

    // A row is written by its values; the total and formulas over the table follow.
    // (By position, as Graph takes it: `PATCH rows/{index}` is refused there with ApiNotFound.)
    let row = b.ok("PATCH", "tables/Sales/rows/itemAt(index=1)", r#"{"index":1,"values":[["date",null,4]]}"#);
    assert_eq!(row, json!({"@odata.context": row["@odata.context"], "index": 1, "values": [["date", 5, 4]]}));
    let at = "tables/Sales/rows/itemAt(index=1)";
    assert_eq!(b.error("PATCH", at, r#"{"values":[["a","b"]]}"#).2, "invalidArgument");
    assert_eq!(
        b.error("PATCH", "tables/Sales/rows/itemAt(index=9)", r#"{"values":[["a","b","c"]]}"#).2,
        "itemNotFound"
    );
    assert_eq!(b.error("PATCH", at, r#"{"index":2}"#).2, "invalidArgument");
    let refused = (400, "ApiNotFound".to_string(), "apiNotFound".to_string());
    assert_eq!(b.error("PATCH", "tables/Sales/rows/1", r#"{"values":[["a","b","c"]]}"#), refused);
    assert_eq!(b.error("GET", "tables/Sales/rows/1/range", ""), refused);
    assert_eq!(b.ok("GET", "tables/Sales/rows/1", "")["values"], json!([["date", 5, 4]]));

    // Writing through a table column's range recalculates formulas over the table.
    let patched = b.ok("PATCH", "tables/Sales/columns/Qty/dataBodyRange", r#"{"values":[[10],[20],[30]]}"#);
    assert_eq!(patched["values"], json!([[10], [20], [30]]));
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='E1')", "")["values"], json!([[120]]));
}

/// The fixture with its workbook part saying `calcMode="manual"`.
fn manual_fixture() -> Vec<u8> {
    use std::io::{Read, Write};
    let bytes = fixture();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name == "xl/workbook.xml" {
            let text = String::from_utf8(data).unwrap();
            assert!(text.contains("<calcPr "), "{text}");
            data = text.replace("<calcPr ", r#"<calcPr calcMode="manual" "#).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn application_reports_and_runs_calculation() {
    let b = Book::new();
    assert_eq!(b.ok("GET", "application", "")["calculationMode"], "Automatic");
    // A file written by a library asks to be calculated when opened: its placeholders are
    // not shown.
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='E1')", "")["values"], json!([[30]]));
    for kind in ["Recalculate", "Full", "FullRebuild"] {
        let r = b.call("POST", "application/calculate", &format!(r#"{{"calculationType":"{kind}"}}"#));
        assert_eq!(r.status, 200, "{kind}: {}", r.text());
        assert!(r.body.is_empty(), "no body");
    }
    assert_eq!(b.error("POST", "application/calculate", r#"{"calculationType":"Sometimes"}"#).2, "invalidArgument");

    // In manual mode, values stay as they are until calculate, as in Excel.
    let token = user("bob");
    let item = b.server.upload(&token, "Manual.xlsx", &manual_fixture());
    let base = format!("/v1.0/me/drive/items/{item}/workbook");
    let call =
        |method: &str, path: &str, body: &str| b.server.as_user(&token, method, &format!("{base}/{path}"), None, body);
    assert_eq!(call("GET", "application", "").json()["calculationMode"], "Manual");
    let e1 = || call("GET", "worksheets/Sheet1/range(address='E1')", "").json()["values"].clone();
    assert_eq!(e1(), json!([[0]]), "the file's cached result");
    assert_eq!(
        call("PATCH", "tables/Sales/columns/Qty/dataBodyRange", r#"{"values":[[10],[null],[null]]}"#).status,
        200
    );
    assert_eq!(e1(), json!([[0]]), "not recalculated in manual mode");
    assert_eq!(call("POST", "application/calculate", r#"{"calculationType":"Recalculate"}"#).status, 200);
    assert_eq!(e1(), json!([[44]]));
}

#[test]
fn ranges_clear_contents_formats_or_all() {
    let b = Book::new();
    let s = "worksheets/Sheet1";
    let values = |addr: &str| b.ok("GET", &format!("{s}/range(address='{addr}')"), "")["values"].clone();
    b.ok("PATCH", &format!("{s}/range(address='G1:G2')"), r#"{"values":[[4],[5]],"numberFormat":[["0.00"],["0.00"]]}"#);
    b.ok("PATCH", &format!("{s}/range(address='H1')"), r#"{"formulas":[["=G1+G2"]]}"#);

    // Contents: values go, formats stay, dependents recalculate.
    let r = b.call("POST", &format!("{s}/range(address='G1')/clear"), r#"{"applyTo":"Contents"}"#);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(values("G1:H1"), json!([["", 5]]));
    assert_eq!(b.ok("GET", &format!("{s}/range(address='G1')"), "")["numberFormat"], json!([["0.00"]]));
    // Formats: the value stays, shown as General.
    assert_eq!(b.call("POST", &format!("{s}/range(address='G2')/clear"), r#"{"applyTo":"Formats"}"#).status, 204);
    let g2 = b.ok("GET", &format!("{s}/range(address='G2')"), "");
    assert_eq!((g2["values"].clone(), g2["numberFormat"].clone()), (json!([[5]]), json!([["General"]])));
    // All (the default), through navigation: a whole column.
    assert_eq!(b.call("POST", &format!("{s}/range(address='H5')/entireColumn/clear"), "").status, 204);
    assert_eq!(values("H1"), json!([[""]]));
    // Through a table column: the data go, the total recalculates.
    assert_eq!(b.call("POST", "tables/Sales/columns/Qty/dataBodyRange/clear", r#"{"applyTo":"contents"}"#).status, 204);
    assert_eq!(values("B2:B5"), json!([[""], [""], [""], [0]]));
    // The file holds the cleared cells (read by an independent reader).
    let bytes = b.server.download(&b.token, &b.item);
    assert_eq!(support::cell(&bytes, "Sheet1", 1, 1), calamine::Data::Empty);
    assert_eq!(support::cell(&bytes, "Sheet1", 0, 6), calamine::Data::Empty);
    assert_eq!(support::cell(&bytes, "Sheet1", 1, 6), calamine::Data::Float(5.0));

    // Bad applyTo: nothing changes.
    assert_eq!(
        b.error("POST", &format!("{s}/range(address='G2')/clear"), r#"{"applyTo":"Everything"}"#).2,
        "invalidArgument"
    );
    assert_eq!(values("G2"), json!([[5]]));
    assert_eq!(b.error("POST", &format!("{s}/range(address='G2')/clear"), "{not json").0, 400);
}

#[test]
fn formulas_read_and_write_in_r1c1_style() {
    let b = Book::new();
    let s = "worksheets/Sheet1";
    // One R1C1 formula filled down a column means the same thing in every cell.
    let r = b.ok("PATCH", &format!("{s}/range(address='D2:D4')"), r#"{"formulasR1C1":"=RC[-2]*RC[-1]"}"#);
    assert_eq!(r["formulas"], json!([["=B2*C2"], ["=B3*C3"], ["=B4*C4"]]));
    assert_eq!(r["values"], json!([[4.5], [10], [3.5]]));
    assert_eq!(r["formulasR1C1"], json!([["=RC[-2]*RC[-1]"], ["=RC[-2]*RC[-1]"], ["=RC[-2]*RC[-1]"]]));
    // Absolute references, and values beside formulas.
    let r = b.ok("PATCH", &format!("{s}/range(address='G1:H1')"), r#"{"formulasR1C1":[["=R1C6*2", 7]]}"#);
    assert_eq!(r["formulas"], json!([["=$F$1*2", 7]]));
    assert_eq!(r["values"], json!([[0.5, 7]]));
    assert_eq!(b.ok("GET", &format!("{s}/range(address='E1')"), "")["formulasR1C1"], json!([["=SUM(Sales[Qty])*2"]]));
    // Off the sheet: #REF!, as Excel writes it.
    let r = b.ok("PATCH", &format!("{s}/range(address='A7')"), r#"{"formulasR1C1":[["=R[-7]C+1"]]}"#);
    assert_eq!(r["formulas"], json!([["=#REF!+1"]]));
    assert_eq!(
        b.error("PATCH", &format!("{s}/range(address='A8')"), r#"{"formulasR1C1":[["=\"open"]]}"#).2,
        "invalidArgument"
    );
    assert_eq!(b.ok("GET", &format!("{s}/range(address='A8')"), "")["values"], json!([[""]]));
}

#[test]
fn worksheets_are_added_and_hidden() {
    let b = Book::new();
    let added = b.ok("POST", "worksheets/add", r#"{"name":"Plan B"}"#);
    assert_eq!(
        (added["name"].clone(), added["position"].clone(), added["visibility"].clone()),
        (json!("Plan B"), json!(2), json!("Visible"))
    );
    let r = b.call("POST", "worksheets", "{}");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["name"], "Sheet2", "the first free SheetN");
    let names: Vec<String> = b.ok("GET", "worksheets", "")["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Sheet1", "Sheet 2", "Plan B", "Sheet2"]);
    // The new sheet takes values and formulas, and other sheets can refer to it.
    b.ok("PATCH", "worksheets('Plan%20B')/range(address='A1')", r#"{"values":[[6]]}"#);
    let f = b.ok("PATCH", "worksheets/Sheet1/range(address='J1')", r#"{"formulas":[["='Plan B'!A1*7"]]}"#);
    assert_eq!(f["values"], json!([[42]]));

    // Names that exist (in any case) or that Excel refuses; nothing is added.
    assert_eq!(
        b.error("POST", "worksheets/add", r#"{"name":"plan b"}"#),
        (409, "conflict".into(), "itemAlreadyExists".into())
    );
    assert_eq!(b.error("POST", "worksheets/add", r#"{"name":"a/b"}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "worksheets/add", r#"{"name":7}"#).2, "invalidArgument");
    assert_eq!(b.ok("GET", "worksheets", "")["value"].as_array().unwrap().len(), 4);

    // Visibility.
    let hidden = b.ok("PATCH", "worksheets/Sheet2", r#"{"visibility":"Hidden"}"#);
    assert_eq!(hidden["visibility"], "Hidden");
    assert_eq!(b.ok("GET", "worksheets/Sheet2", "")["visibility"], "Hidden");
    assert_eq!(
        b.ok("PATCH", "worksheets/Sheet2", r#"{"visibility":"veryHidden","name":"Sheet2"}"#)["visibility"],
        "VeryHidden"
    );
    assert_eq!(b.error("PATCH", "worksheets/Sheet2", r#"{"visibility":"Gone"}"#).2, "invalidArgument");
    for sheet in ["Sheet%202", "Plan%20B"] {
        b.ok("PATCH", &format!("worksheets/{sheet}"), r#"{"visibility":"Hidden"}"#);
    }
    assert_eq!(
        b.error("PATCH", "worksheets/Sheet1", r#"{"visibility":"Hidden"}"#).2,
        "invalidArgument",
        "one sheet stays visible"
    );
    // Each refusal leaves the sheet as it was, the name too.
    let refused = b.error("PATCH", "worksheets/Sheet1", r#"{"name":"Main","visibility":"Hidden"}"#);
    assert_eq!(refused.2, "invalidArgument");
    assert_eq!(b.error("PATCH", "worksheets/Sheet1", r#"{"position":9}"#).2, "invalidArgument");
    assert_eq!(b.error("PATCH", "worksheets/Sheet1", r#"{"name":"sheet 2"}"#).2, "itemAlreadyExists");
    assert_eq!(b.error("PATCH", "worksheets/Sheet1", r#"{"name":"a:b"}"#).2, "invalidArgument");
    assert_eq!(b.ok("GET", "worksheets/Sheet1", "")["visibility"], "Visible");

    // The file has the sheets, hidden where hidden, read by an independent reader.
    let bytes = b.server.download(&b.token, &b.item);
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let sheets: Vec<(String, calamine::SheetVisible)> =
        x.sheets_metadata().iter().map(|s| (s.name.clone(), s.visible)).collect();
    assert_eq!(
        sheets,
        [
            ("Sheet1".to_string(), calamine::SheetVisible::Visible),
            ("Sheet 2".to_string(), calamine::SheetVisible::Hidden),
            ("Plan B".to_string(), calamine::SheetVisible::Hidden),
            ("Sheet2".to_string(), calamine::SheetVisible::VeryHidden),
        ]
    );
    assert_eq!(x.worksheet_range("Plan B").unwrap().get_value((0, 0)), Some(&calamine::Data::Float(6.0)));
    assert_eq!(support::cell(&bytes, "Sheet1", 0, 9), calamine::Data::Float(42.0));
}

#[test]
fn visible_views_leave_hidden_rows_out() {
    let mut wb = support::new_xlsx();
    let ws = wb.add_worksheet();
    for r in 0..4u32 {
        ws.write_number(r, 0, f64::from(r + 1)).unwrap();
        ws.write_formula(r, 1, Formula::new(format!("=A{}*10", r + 1))).unwrap();
    }
    ws.set_row_hidden(1).unwrap();
    let server = Server::start(&[]);
    let token = user("carol");
    let item = server.upload(&token, "Hidden.xlsx", &wb.save_to_buffer().unwrap());
    let get = |path: &str| {
        let r = server.as_user(
            &token,
            "GET",
            &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/{path}"),
            None,
            "",
        );
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.json()
    };
    let view = get("range(address='A1:B4')/visibleView");
    assert_eq!(
        (view["rowCount"].clone(), view["columnCount"].clone(), view["index"].clone()),
        (json!(3), json!(2), json!(0))
    );
    assert_eq!(view["values"], json!([[1, 10], [3, 30], [4, 40]]));
    assert_eq!(view["cellAddresses"][1], json!(["Sheet1!A3", "Sheet1!B3"]));
    assert_eq!(view["formulas"][2][1], "=A4*10");
    assert_eq!(view["formulasR1C1"][2][1], "=RC[-1]*10");
    assert_eq!(view["valueTypes"][0], json!(["Double", "Double"]));
    let rows = get("range(address='A1:B4')/visibleView/rows");
    assert_eq!(rows["value"].as_array().unwrap().len(), 3);
    assert_eq!(rows["value"][1]["values"], json!([[3, 30]]));
    assert_eq!(rows["value"][1]["index"], 1);
    assert_eq!(get("range(address='A1:B4')/visibleView/itemAt(index=2)")["values"], json!([[4, 40]]));
    assert_eq!(get("range(address='A1:B4')/visibleView/range")["address"], "Sheet1!A1:B4");
    let missing = server.as_user(
        &token,
        "GET",
        &format!(
            "/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1:B4')/visibleView/itemAt(index=3)"
        ),
        None,
        "",
    );
    assert_eq!(missing.error().2, "itemNotFound");
}

#[test]
fn ranges_insert_and_delete_move_cells_tables_and_names() {
    let b = Book::new();
    let s1 = "worksheets/Sheet1";
    // Whole row 3 (inside the table and the name Fruits): both grow, E1 follows its table.
    let inserted = b.ok("POST", &format!("{s1}/range(address='3:3')/insert"), r#"{"shift":"Down"}"#);
    assert_eq!(inserted["address"], "Sheet1!3:3");
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C6");
    assert_eq!(b.address("names/Fruits/range"), "Sheet1!A2:A5");
    assert_eq!(b.ok("GET", &format!("{s1}/range(address='A4')"), "")["values"], json!([["fig"]]));
    assert_eq!(b.ok("GET", &format!("{s1}/range(address='E1')"), "")["values"], json!([[30]]));
    // Cells of one column of another sheet, moving right; the answer is the inserted cells.
    let r = b.ok("POST", "worksheets('Sheet%202')/range(address='B3')/insert", r#"{"shift":"Right"}"#);
    assert_eq!(r["address"], "'Sheet 2'!B3");
    assert_eq!(r["values"], json!([[""]]));
    assert_eq!(b.ok("GET", "worksheets('Sheet%202')/range(address='C3')", "")["values"], json!([[9]]));

    // Delete the inserted row again: 200 with no body, the table back to A1:C5.
    let r = b.call("POST", &format!("{s1}/range(address='3:3')/delete"), r#"{"shift":"Up"}"#);
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C5");
    assert_eq!(b.ok("GET", &format!("{s1}/range(address='A3')"), "")["values"], json!([["fig"]]));

    // Refusals change nothing: a bad shift, a table's header row, a table cut apart.
    let bad = b.error("POST", &format!("{s1}/range(address='A2')/insert"), r#"{"shift":"Up"}"#);
    assert_eq!(bad, (400, "badRequest".into(), "invalidArgument".into()));
    let bad = b.error("POST", &format!("{s1}/range(address='A2')/delete"), "{}");
    assert_eq!(bad, (400, "badRequest".into(), "invalidArgument".into()));
    let conflict = (409, "conflict".into(), "insertDeleteConflict".into());
    assert_eq!(b.error("POST", &format!("{s1}/range(address='1:1')/delete"), r#"{"shift":"Up"}"#), conflict);
    assert_eq!(b.error("POST", &format!("{s1}/range(address='B2')/insert"), r#"{"shift":"Down"}"#), conflict);
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C5");

    // The saved file: the other sheet's cell moved, the table part says A1:C5.
    let saved = b.server.download(&b.token, &b.item);
    assert_eq!(support::cell(&saved, "Sheet 2", 2, 2), calamine::Data::Float(9.0));
    assert_eq!(support::cell(&saved, "Sheet1", 2, 0), calamine::Data::String("fig".into()));
}

#[test]
fn table_rows_are_added_and_deleted() {
    let b = Book::new();
    // At the end (before the total row): 200, the row as Graph shows it; the total follows.
    let row = b.ok("POST", "tables/Sales/rows/add", r#"{"index":null,"values":[["kiwi",4,1]]}"#);
    assert_eq!(row["index"], 3);
    assert_eq!(row["values"], json!([["kiwi", 4, 1]]));
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C6");
    assert_eq!(b.ok("GET", "tables/Sales/totalRowRange", "")["values"], json!([["Total", 19, ""]]));
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='E1')", "")["values"], json!([[38]]));
    // POST rows: 201; at index 0, two rows.
    let r = b.call("POST", "tables/Sales/rows", r#"{"index":0,"values":[["lime",1,1],["date",2,2]]}"#);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["values"], json!([["lime", 1, 1]]));
    let rows = b.ok("GET", "tables/Sales/rows", "");
    let fruits: Vec<&str> =
        rows["value"].as_array().unwrap().iter().map(|r| r["values"][0][0].as_str().unwrap()).collect();
    assert_eq!(fruits, ["lime", "date", "pear", "fig", "plum", "kiwi"]);
    // Bad input changes nothing.
    let bad = (400, "badRequest".to_string(), "invalidArgument".to_string());
    assert_eq!(b.error("POST", "tables/Sales/rows/add", r#"{"values":[["too","short"]]}"#), bad);
    assert_eq!(b.error("POST", "tables/Sales/rows/add", r#"{"values":"x"}"#), bad);
    assert_eq!(b.error("POST", "tables/Sales/rows/add", r#"{"index":99,"values":[["a",1,1]]}"#), bad);
    assert_eq!(b.error("POST", "tables/Nope/rows/add", r#"{}"#).0, 404);
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C8");
    // Delete by index and through itemAt: 200 without a body.
    let r = b.call("DELETE", "tables/Sales/rows/1", "");
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    let r = b.call("DELETE", "tables/Sales/rows/$/itemAt(index=0)", "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(b.error("DELETE", "tables/Sales/rows/9", "").0, 404);
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C6");
    // Saved: the table part and the cells agree.
    let saved = b.server.download(&b.token, &b.item);
    assert_eq!(support::cell(&saved, "Sheet1", 4, 0), calamine::Data::String("kiwi".into()));
    assert_eq!(support::cell(&saved, "Sheet1", 5, 1), calamine::Data::Float(19.0));
}

#[test]
fn table_rows_added_asynchronously_in_a_session() {
    let b = Book::new();
    let session = b.server.session(&b.token, &b.item, true);
    let r = b.server.call(
        "POST",
        &format!("{}/tables/Sales/rows/add", b.base),
        &[
            ("Authorization", b.token.as_str()),
            ("Prefer", "respond-async"),
            ("workbook-session-id", &session),
            ("Content-Type", "application/json"),
        ],
        br#"{"values":[["kiwi",4,1]]}"#,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let path = r.header("location").unwrap().split_once(&b.server.addr).unwrap().1.to_string();
    let mut op = Value::Null;
    for _ in 0..200 {
        op = b.server.as_user(&b.token, "GET", &path, None, "").json();
        if op["status"] == "succeeded" || op["status"] == "failed" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(op["status"], "succeeded", "{op}");
    let resource = op["resourceLocation"].as_str().unwrap();
    assert!(resource.contains("/tableRowOperationResult(key='"), "{resource}");
    let row = b.server.as_user(&b.token, "GET", resource.split_once(&b.server.addr).unwrap().1, None, "");
    assert_eq!(row.status, 200, "{}", row.text());
    assert_eq!(row.json()["values"], json!([["kiwi", 4, 1]]));
    assert_eq!(row.json()["index"], 3);
    // Written in the session (persistent): visible to a sessionless read as well.
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C6");
}

#[test]
fn worksheets_are_renamed_moved_and_deleted() {
    let b = Book::new();
    // Sheet 2 holds B3 = 9; a formula on Sheet1 reads it.
    b.ok("PATCH", "worksheets/Sheet1/range(address='G1')", r#"{"formulas":[["='Sheet 2'!B3*2"]]}"#);
    let renamed = b.ok("PATCH", "worksheets/Sheet%202", r#"{"name":"Stock"}"#);
    assert_eq!((renamed["name"].as_str(), renamed["position"].as_i64()), (Some("Stock"), Some(1)));
    let g1 = b.ok("GET", "worksheets/Sheet1/range(address='G1')", "");
    assert_eq!((g1["formulas"].clone(), g1["values"].clone()), (json!([["=Stock!B3*2"]]), json!([[18]])));
    // Moved to the front: positions follow.
    let moved = b.ok("PATCH", "worksheets/Stock", r#"{"position":0}"#);
    assert_eq!(moved["position"], 0);
    let names: Vec<String> = b.ok("GET", "worksheets", "")["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Stock", "Sheet1"]);
    // Deleted: 200 with no body; the formula reading it is #REF!.
    let r = b.call("DELETE", "worksheets/Stock", "");
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    let g1 = b.ok("GET", "worksheets/Sheet1/range(address='G1')", "");
    assert_eq!((g1["formulas"].clone(), g1["values"].clone()), (json!([["=#REF!*2"]]), json!([["#REF!"]])));
    assert_eq!(b.error("DELETE", "worksheets/Stock", "").0, 404);
    assert_eq!(b.error("DELETE", "worksheets/Sheet1", "").2, "invalidArgument", "the last sheet stays");
    // The file: one sheet, the table and names still there.
    let saved = b.server.download(&b.token, &b.item);
    use calamine::Reader;
    let x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    assert_eq!(x.sheet_names(), ["Sheet1"]);
    assert_eq!(b.address("tables/Sales/range"), "Sheet1!A1:C5");
}

#[test]
fn ranges_merge_and_unmerge() {
    let b = Book::new();
    let s2 = "worksheets('Sheet%202')";
    b.ok("PATCH", &format!("{s2}/range(address='A1:B2')"), r#"{"values":[[1,2],[3,4]]}"#);
    let r = b.call("POST", &format!("{s2}/range(address='A1:B2')/merge"), r#"{"across":false}"#);
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    assert_eq!(b.ok("GET", &format!("{s2}/range(address='A1:B2')"), "")["values"], json!([[1, ""], ["", ""]]));
    let r = b.call("POST", &format!("{s2}/range(address='D1:E3')/merge"), r#"{"across":true}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    // Into a table, or across merged cells: 400, nothing changes.
    assert_eq!(b.error("POST", "tables/Sales/range/merge", "{}").2, "invalidArgument");
    assert_eq!(b.error("POST", &format!("{s2}/range(address='B2:C3')/merge"), "{}").2, "invalidArgument");
    assert_eq!(b.error("POST", &format!("{s2}/range(address='A1')/merge"), r#"{"across":"yes"}"#).2, "invalidArgument");
    let merged = |bytes: Vec<u8>| {
        use calamine::Reader;
        let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let mut m: Vec<String> = x
            .merge_cells_by_sheet_name("Sheet 2")
            .unwrap()
            .iter()
            .map(|d| format!("{:?}-{:?}", d.start, d.end))
            .collect();
        m.sort();
        m
    };
    assert_eq!(
        merged(b.server.download(&b.token, &b.item)),
        ["(0, 0)-(1, 1)", "(0, 3)-(0, 4)", "(1, 3)-(1, 4)", "(2, 3)-(2, 4)"]
    );
    let r = b.call("POST", &format!("{s2}/range(address='A1:D2')/unmerge"), "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(merged(b.server.download(&b.token, &b.item)), ["(2, 3)-(2, 4)"]);
}

#[test]
fn names_are_added_and_updated() {
    let b = Book::new();
    let added = b.ok("POST", "names/add", r#"{"name":"Prices","reference":"=Sheet1!$C$2:$C$4","comment":"per kg"}"#);
    assert_eq!(added["name"], "Prices");
    assert_eq!((added["type"].as_str(), added["value"].as_str()), (Some("Range"), Some("Sheet1!$C$2:$C$4")));
    assert_eq!((added["comment"].as_str(), added["scope"].as_str()), (Some("per kg"), Some("Workbook")));
    assert_eq!(b.address("names/Prices/range"), "Sheet1!C2:C4");
    let local = b.ok("POST", "worksheets/Sheet1/names/addFormulaLocal", r#"{"name":"Double","formula":"=Rate*2"}"#);
    assert_eq!((local["scope"].as_str(), local["type"].as_str()), (Some("Worksheet"), Some("Formula")));
    b.ok("PATCH", "worksheets/Sheet1/range(address='H1')", r#"{"formulas":[["=SUM(Prices)+Double"]]}"#);
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='H1')", "")["values"], json!([[4.5]]));
    // Taken in the scope, badly named, not a formula: nothing added.
    assert_eq!(b.error("POST", "names/add", r#"{"name":"prices","reference":"=1"}"#).2, "itemAlreadyExists");
    assert_eq!(b.error("POST", "names/add", r#"{"name":"B2","reference":"=1"}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "names/add", r#"{"name":"X"}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "names/add", r#"{"name":"X","reference":"=SUM("}"#).2, "invalidArgument");
    // Update: visible and comment; read-only properties sent back are ignored.
    let updated =
        b.ok("PATCH", "names/Prices", r#"{"visible":false,"comment":"hidden","type":"Range","scope":"Workbook"}"#);
    assert_eq!((updated["visible"].as_bool(), updated["comment"].as_str()), (Some(false), Some("hidden")));
    assert_eq!(b.error("PATCH", "names/Nope", r#"{"visible":false}"#).0, 404);
    assert_eq!(b.error("PATCH", "names/Prices", r#"{"visible":"no"}"#).2, "invalidArgument");
    // The file has them: reopened by the server from the downloaded bytes.
    let saved = b.server.download(&b.token, &b.item);
    let again = b.server.upload(&b.token, "Again.xlsx", &saved);
    let names =
        b.server.as_user(&b.token, "GET", &format!("/v1.0/me/drive/items/{again}/workbook/names"), None, "").json();
    let prices = names["value"].as_array().unwrap().iter().find(|n| n["name"] == "Prices").unwrap().clone();
    assert_eq!((prices["visible"].as_bool(), prices["comment"].as_str()), (Some(false), Some("hidden")));
}

#[test]
fn tables_are_converted_to_ranges_and_deleted() {
    let b = Book::new();
    // E1 reads Sales[Qty]: deleting the table is refused, converting keeps E1's value.
    assert_eq!(b.error("DELETE", "tables/Sales", "").2, "insertDeleteConflict");
    let range = b.ok("POST", "tables/Sales/convertToRange", "");
    assert_eq!(range["address"], "Sheet1!A1:C5");
    assert_eq!(range["values"][1], json!(["pear", 3, 1.5]));
    assert_eq!(b.error("GET", "tables/Sales", "").0, 404);
    let e1 = b.ok("GET", "worksheets/Sheet1/range(address='E1')", "");
    assert_eq!(e1["values"], json!([[30]]));
    assert!(!e1["formulas"][0][0].as_str().unwrap().contains('['), "{e1}");
    let saved = b.server.download(&b.token, &b.item);
    assert!(!String::from_utf8_lossy(&saved).contains("table1.xml"), "the table part left the package");
    assert_eq!(support::cell(&saved, "Sheet1", 1, 0), calamine::Data::String("pear".into()));
    assert_eq!(b.error("DELETE", "tables/Sales", "").0, 404);

    // Once nothing names it: deleted with its cells; 200 with no body.
    let b = Book::new();
    b.ok("PATCH", "worksheets/Sheet1/range(address='E1')", r#"{"values":[[""]]}"#);
    let r = b.call("DELETE", "tables/Sales", "");
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='A2:C2')", "")["values"], json!([["", "", ""]]));
    assert_eq!(b.ok("GET", "tables", "")["value"], json!([]));
}

#[test]
fn tables_are_renamed_and_restyled() {
    let b = Book::new();
    let t = b.ok(
        "PATCH",
        "tables/Sales",
        r#"{"name":"Fruit","style":"TableStyleMedium2","showBandedRows":false,"showTotals":true}"#,
    );
    assert_eq!(
        (t["name"].as_str(), t["style"].as_str(), t["showBandedRows"].as_bool()),
        (Some("Fruit"), Some("TableStyleMedium2"), Some(false))
    );
    let e1 = b.ok("GET", "worksheets/Sheet1/range(address='E1')", "");
    assert_eq!((e1["formulas"].clone(), e1["values"].clone()), (json!([["=SUM(Fruit[Qty])*2"]]), json!([[30]])));
    assert_eq!(b.error("GET", "tables/Sales", "").0, 404);
    // Taken, refused, or not built yet: nothing changes.
    assert_eq!(b.error("PATCH", "tables/Fruit", r#"{"name":"Rate"}"#).2, "itemAlreadyExists");
    assert_eq!(b.error("PATCH", "tables/Fruit", r#"{"name":"A1"}"#).2, "invalidArgument");
    assert_eq!(b.error("PATCH", "tables/Fruit", r#"{"showBandedRows":"no"}"#).2, "invalidArgument");
    assert_eq!(b.ok("GET", "tables/Fruit", "")["showTotals"], true);
}

#[test]
fn tables_show_and_hide_header_and_total_rows() {
    let b = Book::new();
    // The total row hidden: the table ends above it, its cells are cleared.
    let t = b.ok("PATCH", "tables/Sales", r#"{"showTotals":false}"#);
    assert_eq!(t["showTotals"], false);
    assert_eq!(b.ok("GET", "tables/Sales/range", "")["address"], "Sheet1!A1:C4");
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='A5:B5')", "")["values"], json!([["", ""]]));
    // Shown again in the empty row below, as the table's columns define it (a label, a sum).
    b.ok("PATCH", "tables/Sales", r#"{"showTotals":true}"#);
    let total = b.ok("GET", "tables/Sales/totalRowRange", "");
    assert_eq!(
        (total["address"].clone(), total["values"].clone()),
        (json!("Sheet1!A5:C5"), json!([["Total", 15, ""]]))
    );
    assert_eq!(total["formulas"][0][1], "=SUBTOTAL(109,Sales[Qty])");
    // The header row and its filter buttons.
    let t = b.ok("PATCH", "tables/Sales", r#"{"showHeaders":false}"#);
    assert_eq!((t["showHeaders"].clone(), t["showFilterButton"].clone()), (json!(false), json!(false)));
    assert_eq!(b.error("PATCH", "tables/Sales", r#"{"showFilterButton":true}"#).2, "invalidArgument");
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='E1')", "")["values"], json!([[30]]));
    let t = b.ok("PATCH", "tables/Sales", r#"{"showHeaders":true,"showFilterButton":true}"#);
    assert_eq!((t["showHeaders"].clone(), t["showFilterButton"].clone()), (json!(true), json!(true)));
    assert_eq!(b.ok("GET", "tables/Sales/headerRowRange", "")["values"], json!([["Fruit", "Qty", "Price"]]));
    assert_eq!(b.error("PATCH", "tables/Sales", r#"{"showTotals":"no"}"#).2, "invalidArgument");
    // The saved file opens with the table as it now is.
    let saved = b.server.download(&b.token, &b.item);
    let table = support::part(&saved, "xl/tables/table1.xml");
    assert!(
        table.contains(r#"ref="A1:C5""#) && table.contains("autoFilter") && table.contains(r#"totalsRowCount="1""#),
        "{table}"
    );
}

#[test]
fn tables_are_added_over_ranges() {
    let b = Book::new();
    b.ok(
        "PATCH",
        "worksheets('Sheet%202')/range(address='D1:E3')",
        r#"{"values":[["City","Pop"],["Oslo",7],["Rome",3]]}"#,
    );
    // With headers, on the worksheet: 201 and the new table.
    let r = b.call("POST", "worksheets/Sheet%202/tables/add", r#"{"address":"D1:E3","hasHeaders":true}"#);
    assert_eq!(r.status, 201, "{}", r.text());
    let t = r.json();
    assert_eq!(
        (t["name"].as_str(), t["showHeaders"].as_bool(), t["showTotals"].as_bool()),
        (Some("Table1"), Some(true), Some(false))
    );
    assert_eq!(b.ok("GET", "tables/Table1/range", "")["address"], "'Sheet 2'!D1:E3");
    assert_eq!(
        b.ok("GET", "tables/Table1/columns", "")["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect::<Vec<_>>(),
        [json!("City"), json!("Pop")]
    );
    // Without headers, from the workbook with the sheet in the address: 200, a header row is
    // inserted above the data.
    let t = b.ok("POST", "tables/add", r#"{"address":"'Sheet 2'!G1:G2","hasHeaders":false}"#);
    assert_eq!(t["name"], "Table2");
    let range = b.ok("GET", "tables/Table2/range", "");
    assert_eq!(
        (range["address"].clone(), range["values"].clone()),
        (json!("'Sheet 2'!G1:G3"), json!([["Column1"], [""], [""]]))
    );
    // A formula over the new table calculates.
    let f = b.ok("PATCH", "worksheets('Sheet%202')/range(address='A1')", r#"{"formulas":[["=SUM(Table1[Pop])"]]}"#);
    assert_eq!(f["values"], json!([[10]]));
    // Overlapping a table, bad addresses, unknown sheets: nothing changes.
    assert_eq!(b.error("POST", "tables/add", r#"{"address":"Sheet1!B2:F3","hasHeaders":true}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "tables/add", r#"{"address":"nonsense!!","hasHeaders":true}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "tables/add", r#"{"hasHeaders":true}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "worksheets/Nope/tables/add", r#"{"address":"A1:B2"}"#).2, "itemNotFound");
    assert_eq!(b.ok("GET", "tables", "")["value"].as_array().unwrap().len(), 3);
    // The saved file holds real table parts that another reader opens.
    let saved = b.server.download(&b.token, &b.item);
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    x.load_tables().unwrap();
    let mut names = x.table_names().into_iter().cloned().collect::<Vec<_>>();
    names.sort();
    assert_eq!(names, ["Sales", "Table1", "Table2"]);
    let pop = x.table_by_name("Table1").unwrap();
    assert_eq!(pop.columns(), ["City", "Pop"]);
}

#[test]
fn table_columns_are_added_updated_and_deleted() {
    let b = Book::new();
    // Added at index 1 with a name and values (the header's value gives way to the name): 200.
    let c = b.ok(
        "POST",
        "tables/Sales/columns/add",
        r#"{"index":1,"name":"Origin","values":[["x"],["NO"],["IT"],["ES"],[null]]}"#,
    );
    assert_eq!((c["index"].clone(), c["name"].clone()), (json!(1), json!("Origin")));
    assert_eq!(c["values"], json!([["Origin"], ["NO"], ["IT"], ["ES"], [""]]));
    assert_eq!(b.ok("GET", "tables/Sales/range", "")["address"], "Sheet1!A1:D5");
    // E1 (now F1) still sums Qty, which moved right.
    let f1 = b.ok("GET", "worksheets/Sheet1/range(address='F1')", "");
    assert_eq!((f1["formulas"].clone(), f1["values"].clone()), (json!([["=SUM(Sales[Qty])*2"]]), json!([[30]])));
    // POST columns: 201, at the end when no index, named as Excel names new columns.
    let r = b.call("POST", "tables/Sales/columns", "{}");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!((r.json()["index"].clone(), r.json()["name"].clone()), (json!(4), json!("Column1")));
    // PATCH: a new name renames it (formulas follow), values fill it.
    let c = b.ok("PATCH", "tables/Sales/columns/Qty", r#"{"name":"Count","values":[[null],[1],[2],[3],[null]]}"#);
    assert_eq!((c["name"].clone(), c["values"][1].clone()), (json!("Count"), json!([1])));
    let g1 = b.ok("GET", "worksheets/Sheet1/range(address='G1')", "");
    assert_eq!((g1["formulas"].clone(), g1["values"].clone()), (json!([["=SUM(Sales[Count])*2"]]), json!([[12]])));
    // Bad input changes nothing.
    assert_eq!(b.error("PATCH", "tables/Sales/columns/Count", r#"{"values":[[1],[2]]}"#).2, "invalidArgument");
    assert_eq!(b.error("PATCH", "tables/Sales/columns/Count", r#"{"index":0}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "tables/Sales/columns/add", r#"{"index":9}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "tables/Sales/columns/add", r#"{"name":"fruit"}"#).2, "itemAlreadyExists");
    assert_eq!(b.error("DELETE", "tables/Sales/columns/Nope", "").2, "itemNotFound");
    assert_eq!(b.ok("GET", "tables/Sales/columns", "")["value"].as_array().unwrap().len(), 5);
    // Deleted: 200 with no body; the formula naming it gets #REF!, the columns after move left.
    let r = b.call("DELETE", "tables/Sales/columns/Count", "");
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    let f1 = b.ok("GET", "worksheets/Sheet1/range(address='F1')", "");
    assert_eq!((f1["formulas"].clone(), f1["values"].clone()), (json!([["=SUM(#REF!)*2"]]), json!([["#REF!"]])));
    let names: Vec<Value> = b.ok("GET", "tables/Sales/columns", "")["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, [json!("Fruit"), json!("Origin"), json!("Price"), json!("Column1")]);
    let saved = b.server.download(&b.token, &b.item);
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(saved)).unwrap();
    x.load_tables().unwrap();
    assert_eq!(x.table_by_name("Sales").unwrap().columns(), ["Fruit", "Origin", "Price", "Column1"]);
}

#[test]
fn workbook_functions_evaluate_named_arguments() {
    let b = Book::new();
    let before = b.server.download(&b.token, &b.item);
    // The documented vlookup body (`Address` capitalised), over the table's cells.
    let r = b.ok(
        "POST",
        "functions/vlookup",
        r#"{"lookupValue":"fig","tableArray":{"Address":"Sheet1!A2:C4"},"colIndexNum":2,"rangeLookup":false}"#,
    );
    assert_eq!((r["error"].clone(), r["value"].clone()), (json!(null), json!(5)));
    assert_eq!(r["@odata.type"], "#microsoft.graph.workbookFunctionResult");
    // A list of ranges; a formula cell (E1 = SUM(Sales[Qty])*2) read freshly opened.
    let r = b.ok("POST", "functions/median", r#"{"values":[{"address":"Sheet1!B2:B4"},{"address":"E1"}]}"#);
    assert_eq!(r["value"], json!(6));
    let r = b.ok("POST", "functions/pmt", r#"{"rate":0.01,"nper":12,"pv":1000}"#);
    assert!((r["value"].as_f64().unwrap() + 88.848_788_678_341_7).abs() < 1e-9, "{r}");
    let r = b.ok("POST", "functions/t_Dist_2T", r#"{"x":2,"degFreedom":10}"#);
    assert!((r["value"].as_f64().unwrap() - 0.073_388).abs() < 1e-5, "{r}");
    assert_eq!(b.ok("POST", "functions/upper", r#"{"text":"pear"}"#)["value"], "PEAR");
    // An Excel error is the result's error.
    let r = b.ok(
        "POST",
        "functions/vlookup",
        r#"{"lookupValue":"nope","tableArray":{"address":"A2:C4"},"colIndexNum":2,"rangeLookup":false}"#,
    );
    assert_eq!((r["error"].clone(), r["value"].clone()), (json!("#N/A"), json!(null)));
    // In a session, over its unsaved writes.
    let session = b.server.session(&b.token, &b.item, false);
    let path = format!("{}/worksheets/Sheet1/range(address='B2')", b.base);
    assert_eq!(b.server.as_user(&b.token, "PATCH", &path, Some(&session), r#"{"values":[[100]]}"#).status, 200);
    let fpath = format!("{}/functions/sum", b.base);
    let r = b.server.as_user(&b.token, "POST", &fpath, Some(&session), r#"{"values":[{"address":"B2:B4"}]}"#).json();
    assert_eq!(r["value"], json!(112));
    assert_eq!(b.ok("POST", "functions/sum", r#"{"values":[{"address":"B2:B4"}]}"#)["value"], json!(15));
    // Bad calls: unknown functions, parameters, addresses and sheets.
    assert_eq!(b.error("POST", "functions/nosuchthing", "{}").0, 400);
    assert_eq!(b.error("POST", "functions/abs", r#"{"num":1}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "functions/abs", r#"{"number":{"address":"A1:"}}"#).2, "invalidArgument");
    assert_eq!(b.error("POST", "functions/abs", r#"{"number":{"address":"Nope!A1"}}"#).2, "itemNotFound");
    assert_eq!(b.error("POST", "functions/abs", "not json").0, 400);
    // Nothing was written.
    assert_eq!(b.server.download(&b.token, &b.item), before);
}

#[test]
fn every_graph_function_is_evaluated_or_named_as_not_built() {
    let b = Book::new();
    let table = include_str!("../../graph/src/functions.tsv");
    let mut missing = Vec::new();
    let mut total = 0;
    for name in table.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).filter_map(|l| l.split('\t').next()) {
        total += 1;
        let r = b.call("POST", &format!("functions/{name}"), "{}");
        match r.status {
            200 => {}
            501 => missing.push(name.to_string()),
            other => panic!("{name}: {other} {}", r.text()),
        }
    }
    eprintln!("{} of {total} functions evaluate; not built: {}", total - missing.len(), missing.join(", "));
    assert_eq!(total, 366);
    // 337 evaluate today (BENCHMARKS/compatibility notes); the figure only goes up.
    assert!(missing.len() <= 29, "{} not built: {missing:?}", missing.len());
    let e = b.call("POST", "functions/vdb", "{}");
    if e.status == 501 {
        assert!(e.text().contains("workbook-functions (vdb)"), "{}", e.text());
    }
}

#[test]
fn rows_and_columns_are_hidden_through_ranges() {
    let b = Book::new();
    let r = b.ok("PATCH", "worksheets/Sheet1/range(address='B3:C4')", r#"{"rowHidden":true,"values":[[8,9],[10,11]]}"#);
    assert_eq!(
        (r["rowHidden"].clone(), r["columnHidden"].clone(), r["hidden"].clone()),
        (json!(true), json!(false), json!(true))
    );
    assert_eq!(r["values"], json!([[8, 9], [10, 11]]));
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='A2:A3')", "")["rowHidden"], false, "row 2 shows");
    // The total row's SUBTOTAL(109) leaves the hidden rows out.
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='B5')", "")["values"], json!([[3]]));
    let r = b.ok("PATCH", "worksheets/Sheet1/range(address='C:C')", r#"{"columnHidden":true}"#);
    assert_eq!(r["columnHidden"], true);
    // The visible view leaves hidden rows and columns out.
    let view = b.ok("GET", "worksheets/Sheet1/range(address='A1:C5')/visibleView", "");
    assert_eq!(view["values"], json!([["Fruit", "Qty"], ["pear", 3], ["Total", 3]]));
    assert_eq!(view["columnCount"], 2);
    assert_eq!(
        b.error("PATCH", "worksheets/Sheet1/range(address='C:C')", r#"{"columnHidden":"yes"}"#).2,
        "invalidArgument"
    );
    // Saved: the rows and the column are hidden in the file; shown again, they are not.
    let saved = b.server.download(&b.token, &b.item);
    let sheet = support::part(&saved, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"hidden="1""#) && sheet.contains(r#"min="3" max="3""#), "{sheet}");
    b.ok("PATCH", "worksheets/Sheet1/range(address='A1:C5')", r#"{"rowHidden":false,"columnHidden":false}"#);
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='B5')", "")["values"], json!([[21]]));
    let sheet = support::part(&b.server.download(&b.token, &b.item), "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains(r#"hidden="1""#), "{sheet}");
}

#[test]
fn range_cell_limits_are_configurable() {
    let server = Server::start(&["--max-read-cells", "6", "--max-write-cells", "4"]);
    let token = user("alice");
    let item = server.upload(&token, "Fixture.xlsx", &fixture());
    let path = |a: &str| format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='{a}')");
    let call = |m: &str, a: &str, body: &str| server.as_user(&token, m, &path(a), None, body);
    assert_eq!(call("GET", "A1:C2", "").status, 200);
    let e = call("GET", "A1:C3", "").error();
    assert_eq!((e.0, e.2.as_str()), (400, "rangeExceedsLimit"));
    assert_eq!(call("PATCH", "G1:H2", r#"{"values":[[1,2],[3,4]]}"#).status, 200);
    let e = call("PATCH", "G1:I2", r#"{"values":[[1,2,3],[4,5,6]]}"#).error();
    assert_eq!((e.0, e.2.as_str()), (400, "rangeExceedsLimit"));
    assert_eq!(call("GET", "G1:I1", "").json()["values"], json!([[1, 2, ""]]), "the refused write changed nothing");
}

#[test]
fn json_batches_run_each_request_in_dependency_order() {
    let b = Book::new();
    // A session that keeps its writes to itself.
    let session = b.server.session(&b.token, &b.item, false);
    let wb = format!("/me/drive/items/{}/workbook", b.item);
    let batch = json!({"requests": [
        // Listed before what it depends on: it runs after.
        {"id": "read", "method": "GET", "url": format!("{wb}/worksheets/Sheet1/range(address='B2')"),
         "headers": {"workbook-session-id": session}, "dependsOn": ["write"]},
        {"id": "write", "method": "PATCH", "url": format!("/v1.0{wb}/worksheets/Sheet1/range(address='B2')"),
         "headers": {"workbook-session-id": session, "Content-Type": "application/json"}, "body": {"values": [[40]]}},
        {"id": "bad", "method": "GET", "url": format!("{wb}/worksheets/Nope")},
        {"id": "after-bad", "method": "GET", "url": format!("{wb}/worksheets"), "depends_on": ["bad"]},
        {"id": "sum", "method": "POST", "url": format!("{wb}/functions/sum"), "body": {"values": [1, 2]}},
        // Absolute URLs on this server (the Python SDK sends them) and on Graph.
        {"id": "here", "method": "GET", "url": format!("http://{}/v1.0{wb}/worksheets", b.server.addr)},
        {"id": "graph", "method": "GET", "url": format!("https://graph.microsoft.com/v1.0{wb}/worksheets")},
        {"id": "elsewhere", "method": "GET", "url": format!("https://example.com/v1.0{wb}/worksheets")},
    ]});
    let r = b.server.as_user(&b.token, "POST", "/v1.0/$batch", None, &batch.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    let responses = r.json()["responses"].as_array().unwrap().clone();
    let by_id = |id: &str| responses.iter().find(|x| x["id"] == id).unwrap().clone();
    let order: Vec<&str> = responses.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert!(order.iter().position(|&x| x == "write") < order.iter().position(|&x| x == "read"), "{order:?}");
    assert_eq!(by_id("write")["status"], 200);
    assert_eq!(by_id("read")["body"]["values"], json!([[40]]));
    assert_eq!(by_id("read")["headers"]["content-type"], "application/json");
    let bad = by_id("bad");
    assert_eq!(
        (bad["status"].clone(), bad["body"]["error"]["innerError"]["code"].clone()),
        (json!(404), json!("itemNotFound"))
    );
    assert!(bad["headers"]["request-id"].as_str().is_some_and(|id| !id.is_empty()), "{bad}");
    assert_eq!(by_id("after-bad")["status"], 424);
    assert_eq!(by_id("sum")["body"]["value"], 3);
    assert_eq!((by_id("here")["status"].clone(), by_id("graph")["status"].clone()), (json!(200), json!(200)));
    assert_eq!(by_id("elsewhere")["status"], 400, "another host is no path of ours");
    // The write went into the session, not the stored file.
    assert_eq!(b.ok("GET", "worksheets/Sheet1/range(address='B2')", "")["values"], json!([[3]]));
    // Malformed batches are refused whole.
    let too_many = json!({"requests": (0..21).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me/drive"})).collect::<Vec<_>>()});
    let twice = json!({"requests": [{"id": "a", "method": "GET", "url": "/me/drive"}, {"id": "A", "method": "GET", "url": "/me/drive"}]});
    let unknown = json!({"requests": [{"id": "a", "method": "GET", "url": "/me/drive", "dependsOn": ["z"]}]});
    let cycle = json!({"requests": [{"id": "a", "method": "GET", "url": "/me/drive", "dependsOn": ["b"]}, {"id": "b", "method": "GET", "url": "/me/drive", "dependsOn": ["a"]}]});
    for bad in [too_many, twice, unknown, cycle, json!({"nope": 1})] {
        let r = b.server.as_user(&b.token, "POST", "/v1.0/$batch", None, &bad.to_string());
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    // No batch within a batch; beta too.
    let nested = json!({"requests": [{"id": "n", "method": "POST", "url": "/$batch", "body": {"requests": []}}]});
    let r = b.server.as_user(&b.token, "POST", "/beta/$batch", None, &nested.to_string());
    assert_eq!(r.json()["responses"][0]["status"], 400);
}

/// Follows `@odata.nextLink`s from `first` (a path under the workbook), as SDK page iterators
/// do; returns every member and the links followed.
fn all_pages(b: &Book, first: &str) -> (Vec<Value>, Vec<String>) {
    let (mut members, mut links) = (Vec::new(), Vec::new());
    let mut page = b.ok("GET", first, "");
    loop {
        members.extend(page["value"].as_array().unwrap().iter().cloned());
        let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) else { break };
        links.push(next.to_string());
        let path = next.split_once(&b.server.addr).map(|(_, p)| p.to_string()).expect("an absolute link to us");
        let r = b.server.as_user(&b.token, "GET", &path, None, "");
        assert_eq!(r.status, 200, "{next}: {}", r.text());
        page = r.json();
        assert!(links.len() < 20, "paging does not end");
    }
    (members, links)
}

#[test]
fn collections_page_with_top_skip_and_next_links() {
    let b = Book::new();
    for i in 0..4 {
        b.ok("POST", "tables/Sales/rows/add", &format!(r#"{{"values":[["extra{i}",{i},1]]}}"#));
    }
    // Seven rows, three a page: three pages, the links carrying the other options along.
    let (rows, links) = all_pages(&b, "tables/Sales/rows?$top=3&$select=index,values");
    assert_eq!(rows.len(), 7);
    assert_eq!(rows.iter().map(|r| r["index"].as_u64().unwrap()).collect::<Vec<_>>(), (0..7).collect::<Vec<_>>());
    assert_eq!(rows[6]["values"][0][0], "extra3");
    assert_eq!(links.len(), 2);
    assert!(links[0].ends_with("/rows?$top=3&$select=index,values&$skip=3"), "{}", links[0]);
    assert!(links[1].ends_with("&$skip=6"), "{}", links[1]);
    // `$skip` alone, and past the end.
    let r = b.ok("GET", "tables/Sales/rows?$skip=5", "");
    assert_eq!(r["value"].as_array().unwrap().len(), 2);
    assert!(r.get("@odata.nextLink").is_none());
    assert_eq!(b.ok("GET", "tables/Sales/rows?$skip=50", "")["value"], json!([]));
    // `$count` gives the size before paging; without `$`, as Graph's beta accepts.
    let r = b.ok("GET", "tables/Sales/rows?top=2&$count=true", "");
    assert_eq!((r["@odata.count"].as_u64(), r["value"].as_array().unwrap().len()), (Some(7), 2));

    // Every workbook collection pages the same way.
    let (names, links) = all_pages(&b, "names?$top=2");
    assert_eq!(names.len(), b.ok("GET", "names", "")["value"].as_array().unwrap().len());
    assert!(!links.is_empty());
    let (columns, _) = all_pages(&b, "tables/Sales/columns?$top=1");
    let names_of = |v: &[Value]| v.iter().map(|c| c["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names_of(&columns), ["Fruit", "Qty", "Price"]);
    let (sheets, _) = all_pages(&b, "worksheets?$top=1&$select=name");
    assert_eq!(names_of(&sheets), ["Sheet1", "Sheet 2"]);
    assert!(sheets.iter().all(|s| s.get("position").is_none()), "$select kept only the name");
    let r = b.ok("GET", "worksheets?$count=true", "");
    assert_eq!(r["@odata.count"], 2);
}

#[test]
fn query_options_are_checked_and_unknown_ones_ignored() {
    let b = Book::new();
    // A range with `$select`: only what was asked for.
    let r = b.ok("GET", "worksheets/Sheet1/range(address='B2:C3')?$select=values,address", "");
    let keys: std::collections::BTreeSet<&str> =
        r.as_object().unwrap().keys().map(String::as_str).filter(|k| !k.starts_with('@')).collect();
    assert_eq!(keys, ["address", "values"].into());
    // Options workbookd does not know are the caller's business; the SDKs add some.
    let r = b.call("GET", "worksheets?foo=bar&$format=json&api-version=2", "");
    assert_eq!(r.status, 200, "{}", r.text());
    for bad in [
        "tables/Sales/rows?$top=-1",
        "tables/Sales/rows?$skip=x",
        "worksheets?$count=maybe",
        "worksheets?$select=name,,id",
    ] {
        let (status, code, inner) = b.error("GET", bad, "");
        assert_eq!((status, code.as_str(), inner.as_str()), (400, "badRequest", "invalidArgument"), "{bad}");
    }
    // Filtering and ordering are not built: 501, not an unfiltered answer.
    let (status, code, _) = b.error("GET", "tables/Sales/rows?$filter=index%20eq%201", "");
    assert_eq!((status, code.as_str()), (501, "notImplemented"));
    assert_eq!(b.error("GET", "worksheets?$orderby=name", "").0, 501);
    // Only GETs read system options.
    let r = b.call("PATCH", "worksheets/Sheet1/range(address='F1')?$top=oops", r#"{"values":[[1]]}"#);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn workbook_entities_carry_an_odata_id_that_reads_them_back() {
    let b = Book::new();
    let prefix = format!("/me/drive/items/{}/workbook", b.item);
    let read_back = |id: &str| {
        let r = b.server.as_user(&b.token, "GET", &format!("/v1.0{id}"), None, "");
        assert_eq!(r.status, 200, "{id}: {}", r.text());
        r.json()
    };
    // Collection members, as Graph lists worksheets: the key quoted and percent-encoded.
    let sheets = b.ok("GET", "worksheets", "");
    let first = &sheets["value"][0];
    let id = first["@odata.id"].as_str().unwrap();
    assert_eq!(id, format!("{prefix}/worksheets(%27%7B00000000-0001-0000-0000-000000000000%7D%27)"));
    assert_eq!(read_back(id)["name"], first["name"]);
    let names = b.ok("GET", "names", "");
    let rate = names["value"].as_array().unwrap().iter().find(|n| n["name"] == "Rate").unwrap();
    assert_eq!(rate["@odata.id"], format!("{prefix}/names(%27Rate%27)"));
    assert_eq!(read_back(rate["@odata.id"].as_str().unwrap())["value"], rate["value"]);
    let columns = b.ok("GET", "tables/Sales/columns", "");
    let qty = &columns["value"][1];
    assert_eq!(read_back(qty["@odata.id"].as_str().unwrap())["name"], "Qty");

    // Single entities: read, added, by a parenthesised key.
    let table = b.ok("GET", "tables('Sales')", "");
    let table_id = table["@odata.id"].as_str().unwrap();
    assert!(table_id.starts_with(&format!("{prefix}/tables(%27")), "{table_id}");
    assert_eq!(read_back(table_id)["name"], "Sales");
    let added = b.ok("POST", "names/add", r#"{"name":"test5","reference":"=Sheet1!$F$15:$N$27"}"#);
    assert_eq!(added["@odata.id"], format!("{prefix}/names(%27test5%27)"));
    // A function result names the call; rows and ranges have none, as on Graph.
    let f = b.ok("POST", "functions/abs", r#"{"number":-2}"#);
    assert_eq!(f["@odata.id"], format!("{prefix}/functions/abs()"));
    assert!(b.ok("GET", "tables/Sales/rows/0", "").get("@odata.id").is_none());
    // `$select` keeps it, like every annotation.
    assert!(b.ok("GET", "worksheets?$select=name", "")["value"][0].get("@odata.id").is_some());
}
