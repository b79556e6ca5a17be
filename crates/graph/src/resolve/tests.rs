//! The resolver against request lines of the Graph reference, the SDKs and hostile input.

use super::*;
use crate::navigate::{RangeBase, RangeRef, RangeStep, TablePart};

fn op(method: &str, path: &str) -> Operation {
    resolve(method, path).unwrap_or_else(|e| panic!("{method} {path}: {e}")).operation
}

fn me(id: &str) -> ItemAddress {
    ItemAddress { drive: DriveRef::Me, item: ItemRef::Id(id.into()) }
}

#[test]
fn each_operation_names_its_permission() {
    let need = |m: &str, p: &str| op(m, p).need();
    assert_eq!(need("GET", "/v1.0/me/drive"), Some(Need::DriveRead));
    assert_eq!(need("GET", "/v1.0/me/drive/items/1/content"), Some(Need::DriveRead));
    assert_eq!(need("PUT", "/v1.0/me/drive/root:/a.xlsx:/content"), Some(Need::DriveWrite));
    assert_eq!(need("DELETE", "/v1.0/me/drive/items/1"), Some(Need::DriveWrite));
    assert_eq!(need("GET", "/v1.0/me/drive/items/1/workbook/worksheets"), Some(Need::Workbook));
    assert_eq!(need("GET", "/v1.0/me/drive/items/1/workbook/worksheets/S/charts"), Some(Need::Workbook), "a 501 too");
    assert_eq!(need("POST", "/v1.0/$batch"), None);
}

#[test]
fn sdk_path_shapes() {
    // Kiota: the whole `root:/path:` in one encoded segment, and encoded range addresses.
    assert_eq!(
        op("PUT", "/v1.0/drives/b!x/items/root%3A%2FReports%2FQ1%20data.xlsx%3A/content"),
        Operation::ContentPut(ItemAddress {
            drive: DriveRef::Drive("b!x".into()),
            item: ItemRef::Path("Reports/Q1 data.xlsx".into())
        })
    );
    assert_eq!(
        op("GET", "/v1.0/drives/d/items/01AB/workbook/worksheets/%7B0000-1%7D/range(address='A1%3AB2')"),
        Operation::RangeGet {
            item: ItemAddress { drive: DriveRef::Drive("d".into()), item: ItemRef::Id("01AB".into()) },
            range: RangeRef {
                base: RangeBase::Sheet { sheet: "{0000-1}".into(), address: Some("A1:B2".into()) },
                steps: vec![]
            }
        }
    );
    // A new file under a parent addressed by id, spelled out and encoded.
    let under = |id: &str| ItemAddress { drive: DriveRef::Me, item: ItemRef::IdPath(id.into(), "a b.xlsx".into()) };
    assert_eq!(op("PUT", "/v1.0/me/drive/items/01P:/a%20b.xlsx:/content"), Operation::ContentPut(under("01P")));
    assert_eq!(op("PUT", "/v1.0/me/drive/items/01P%3A%2Fa%20b.xlsx%3A/content"), Operation::ContentPut(under("01P")));
    assert!(resolve("PUT", "/v1.0/me/drive/items/01P:/unterminated").is_err());
    // JS 3.x: /me paths, `root:/path:` spelled out.
    assert_eq!(
        op("PUT", "/v1.0/me/drive/root:/folder/book.xlsx:/content"),
        Operation::ContentPut(ItemAddress { drive: DriveRef::Me, item: ItemRef::Path("folder/book.xlsx".into()) })
    );
    // At the end of the URL the closing colon may be left out, as on OneDrive.
    assert_eq!(
        op("GET", "/v1.0/me/drive/root:/folder/book.xlsx"),
        Operation::ItemGet(ItemAddress { drive: DriveRef::Me, item: ItemRef::Path("folder/book.xlsx".into()) })
    );
    assert_eq!(
        op("PATCH", "/beta/me/drive/items/42/workbook/worksheets('Sheet 1')/range(address='Sheet 1!A1:B2')"),
        Operation::RangeUpdate {
            item: me("42"),
            range: RangeRef {
                base: RangeBase::Sheet { sheet: "Sheet 1".into(), address: Some("Sheet 1!A1:B2".into()) },
                steps: vec![]
            }
        }
    );
    assert_eq!(op("POST", "/v1.0/me/drive/items/42/workbook/createSession"), Operation::CreateSession(me("42")));
    assert_eq!(op("GET", "/v1.0/me/drive"), Operation::DriveGet(DriveRef::Me));
    assert_eq!(op("GET", "/v1.0/drives/b%21x"), Operation::DriveGet(DriveRef::Drive("b!x".into())));
    assert_eq!(
        op("GET", "/v1.0/users/a@b.c/drive/items/42/workbook/worksheets/S/usedRange(valuesOnly=true)"),
        Operation::RangeGet {
            item: ItemAddress { drive: DriveRef::User("a@b.c".into()), item: ItemRef::Id("42".into()) },
            range: RangeRef { base: RangeBase::UsedRange { sheet: "S".into(), values_only: true }, steps: vec![] }
        }
    );
}

fn range(method: &str, path: &str) -> RangeRef {
    match op(method, &format!("/v1.0/me/drive/items/1/workbook/{path}")) {
        Operation::RangeGet { range, .. } | Operation::RangeUpdate { range, .. } => range,
        other => panic!("{path}: {other:?}"),
    }
}

#[test]
fn range_entry_points_and_navigation() {
    let r = range("GET", "worksheets/S/range(address='A1:C3')/cell(row=1,column=2)/lastRow");
    assert_eq!(r.base, RangeBase::Sheet { sheet: "S".into(), address: Some("A1:C3".into()) });
    assert_eq!(r.steps, [RangeStep::Cell { row: Some(1), col: Some(2) }, RangeStep::LastRow]);
    assert_eq!(r.doc_page(), "range-lastrow");
    // Arguments left for the body, and steps documented as POST.
    let r = range("POST", "names/N/range/row");
    assert_eq!(
        (r.base.clone(), r.steps.clone()),
        (RangeBase::Name { sheet: None, name: "N".into() }, vec![RangeStep::Row(None)])
    );
    let r = range("POST", "worksheets/S/range/resizedRange(deltaRows=2, deltaColumns=-1)");
    assert_eq!(r.steps, [RangeStep::ResizedRange { rows: Some(2), cols: Some(-1) }]);
    let r = range("GET", "worksheets('S')/cell(row=4,column=0)");
    assert_eq!(r.base, RangeBase::Cell { sheet: "S".into(), row: 4, col: 0 });
    let r = range("GET", "tables/T/columns/Qty/dataBodyRange/rowsAbove(count=2)");
    assert_eq!(
        r.base,
        RangeBase::TableColumn { sheet: None, table: "T".into(), column: "Qty".into(), part: TablePart::DataBody }
    );
    assert_eq!(r.steps, [RangeStep::RowsAbove(Some(2))]);
    let r = range("PATCH", "worksheets/S/tables/T/rows/itemAt(index=3)/range");
    assert_eq!(r.base, RangeBase::TableRow { sheet: Some("S".into()), table: "T".into(), index: 3 });
    assert_eq!(range("GET", "tables/T/headerRowRange").doc_page(), "table-headerrowrange");
    assert_eq!(range("GET", "worksheets/S/usedRange(valuesOnly=true)/entireColumn").doc_page(), "range-entirecolumn");
    // Not navigation: other operations, named.
    let named = |method: &str, path: &str| match op(method, &format!("/v1.0/me/drive/items/1/workbook/{path}")) {
        Operation::NotImplemented { operation, .. } => operation,
        other => panic!("{path}: {other:?}"),
    };
    assert_eq!(named("PATCH", "worksheets/S/range(address='A1')/format"), "rangeformat-update");
    assert!(matches!(
        op("POST", "/v1.0/me/drive/items/1/workbook/worksheets/S/range(address='A1')/insert"),
        Operation::RangeInsert { .. }
    ));
    assert!(matches!(
        op("POST", "/v1.0/me/drive/items/1/workbook/tables/T/columns/Q/range/lastRow/clear"),
        Operation::RangeClear { range: RangeRef { steps, .. }, .. } if steps == [RangeStep::LastRow]
    ));
    assert!(matches!(op("POST", "/v1.0/me/drive/items/1/workbook/tables/T/rows/add"), Operation::TableRowAdd { .. }));
    assert_eq!(named("GET", "worksheets/S/range(address='A1')/format"), "rangeformat-get");
    assert!(resolve("GET", "/v1.0/me/drive/items/1/workbook/worksheets/S/cell(row=x,column=1)").is_err());
    assert!(resolve("GET", "/v1.0/me/drive/items/1/workbook/worksheets/S/range/offsetRange(rowOffset=a)").is_err());
}

#[test]
fn names_tables_rows_columns_and_application() {
    let w = |path: &str| format!("/v1.0/me/drive/items/1/workbook/{path}");
    assert_eq!(op("GET", &w("names")), Operation::NameList { item: me("1"), sheet: None });
    assert_eq!(op("GET", &w("worksheets/S/names")), Operation::NameList { item: me("1"), sheet: Some("S".into()) });
    assert_eq!(op("GET", &w("names('N')")), Operation::NameGet { item: me("1"), sheet: None, name: "N".into() });
    assert_eq!(op("GET", &w("worksheets/S/tables")), Operation::TableList { item: me("1"), sheet: Some("S".into()) });
    assert_eq!(op("GET", &w("tables/1")), Operation::TableGet { item: me("1"), sheet: None, table: "1".into() });
    let at = |i| MemberKey::At(i);
    assert_eq!(
        op("GET", &w("tables/T/rows/itemAt(index=2)")),
        Operation::TableRowGet { item: me("1"), sheet: None, table: "T".into(), row: at(Some(2)) }
    );
    assert_eq!(
        op("GET", &w("tables/T/rows/$/itemAt(index=6)")),
        Operation::TableRowGet { item: me("1"), sheet: None, table: "T".into(), row: at(Some(6)) }
    );
    assert_eq!(
        op("POST", &w("tables/T/columns/itemAt")),
        Operation::TableColumnGet { item: me("1"), sheet: None, table: "T".into(), column: at(None) }
    );
    assert_eq!(
        op("GET", &w("tables/T/columns/Qty")),
        Operation::TableColumnGet {
            item: me("1"),
            sheet: None,
            table: "T".into(),
            column: MemberKey::Key("Qty".into())
        }
    );
    assert_eq!(op("GET", &w("application")), Operation::ApplicationGet(me("1")));
    assert_eq!(op("POST", &w("application/calculate")), Operation::ApplicationCalculate(me("1")));
    // Kiota SDKs generate a DELETE for every navigation property: not built, said so.
    assert!(matches!(op("DELETE", &w("application")), Operation::NotImplemented { .. }));
    assert_eq!(resolve("PUT", &w("application")).unwrap_err().status(), 405);
}

#[test]
fn documented_but_unbuilt_operations_are_named() {
    match op("DELETE", "/v1.0/me/drive/items/1/workbook/worksheets/S/charts/C1") {
        Operation::NotImplemented { operation, .. } => assert_eq!(operation, "chart-delete"),
        other => panic!("{other:?}"),
    }
    match op("POST", "/v1.0/me/drive/items/1/workbook/tables/T/sort/apply") {
        Operation::NotImplemented { operation, .. } => assert_eq!(operation, "tablesort-apply"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tables_and_columns_are_added_updated_and_deleted() {
    let w = |p: &str| format!("/v1.0/me/drive/items/1/workbook/{p}");
    assert_eq!(op("POST", &w("tables/add")), Operation::TableAdd { item: me("1"), sheet: None });
    let on_sheet = Operation::TableAdd { item: me("1"), sheet: Some("S".into()) };
    assert_eq!(op("POST", &w("worksheets/S/tables/add")), on_sheet);
    assert_eq!(op("POST", &w("worksheets/S/tables/7/add")), on_sheet);
    let (t, s) = ("T".to_string(), None::<String>);
    assert_eq!(
        op("POST", &w("tables/T/columns/add")),
        Operation::TableColumnAdd { item: me("1"), sheet: s.clone(), table: t.clone() }
    );
    assert_eq!(
        op("POST", &w("tables/T/columns")),
        Operation::TableColumnCreate { item: me("1"), sheet: s.clone(), table: t.clone() }
    );
    assert_eq!(
        op("PATCH", &w("tables/T/columns/Qty")),
        Operation::TableColumnUpdate { item: me("1"), sheet: s.clone(), table: t.clone(), column: "Qty".into() }
    );
    assert_eq!(
        op("DELETE", &w("worksheets/S/tables/T/columns/2")),
        Operation::TableColumnDelete { item: me("1"), sheet: Some("S".into()), table: t, column: "2".into() }
    );
}

#[test]
fn unknown_paths_and_methods() {
    let e = resolve("GET", "/v1.0/me/drive/items/1/workbook/frobnicate").unwrap_err();
    assert_eq!((e.status(), e.code.as_str()), (400, "badRequest"));
    let e = resolve("PUT", "/v1.0/me/drive/items/1/workbook/worksheets/S/charts/C1").unwrap_err();
    assert_eq!((e.status(), e.code.as_str()), (405, "methodNotAllowed"));
    assert_eq!(resolve("GET", "/v2.0/me/drive/root").unwrap_err().status(), 400);
    assert_eq!(resolve("GET", "/v1.0/me/drive/root:").unwrap_err().status(), 400);
    // A row key that is no index is a bad request, not an unbuilt operation.
    assert_eq!(resolve("PATCH", "/v1.0/me/drive/items/1/workbook/tables/T/rows/add").unwrap_err().status(), 405);
    assert_eq!(resolve("GET", "/v1.0/me/drive/items/1/workbook/tables/T/rows/add").unwrap_err().status(), 405);
    for (m, p) in [("PATCH", "rows/ad"), ("DELETE", "rows/x"), ("GET", "rows/x/range")] {
        let e = resolve(m, &format!("/v1.0/me/drive/items/1/workbook/tables/T/{p}")).unwrap_err();
        assert_eq!((e.status(), e.inner_code), (400, Some("invalidArgument")), "{m} {p}");
    }
    assert_eq!(resolve("GET", "/v1.0/me/drive/root:/").unwrap_err().status(), 400);
    assert_eq!(resolve("GET", "/v1.0/me/drive/items/%ZZ").unwrap_err().status(), 400);
}

#[test]
fn segment_arguments() {
    let seg = parse_segment(Cow::Borrowed("f( Key = 'a,b' , 'it''s', x=1,y='')")).unwrap();
    assert_eq!(seg.name, "f");
    assert_eq!(
        seg.args.unwrap(),
        vec![
            (Some(Cow::Borrowed("Key")), Cow::Borrowed("a,b")),
            (None, Cow::Owned("it's".to_string())),
            (Some(Cow::Borrowed("x")), Cow::Borrowed("1")),
            (Some(Cow::Borrowed("y")), Cow::Borrowed("")),
        ]
    );
    // A bare quoted key may hold `=`; an unbalanced quote is kept as written.
    let seg = parse_segment(Cow::Borrowed("names('a=b')")).unwrap();
    assert_eq!(seg.args.unwrap(), vec![(None, Cow::Borrowed("a=b"))]);
    let seg = parse_segment(Cow::Borrowed("f(')")).unwrap();
    assert_eq!(seg.args.unwrap(), vec![(None, Cow::Borrowed("'"))]);
    // msgraph-sdk for Python runs arguments together (its template library drops commas).
    let seg = parse_segment(Cow::Borrowed("cell(row=3column=-1)")).unwrap();
    assert_eq!((seg.arg("row"), seg.arg("column")), (Some("3"), Some("-1")));
    let seg = parse_segment(Cow::Borrowed("image(width=400height=300fittingMode='Fit')")).unwrap();
    assert_eq!((seg.arg("width"), seg.arg("height"), seg.arg("fittingMode")), (Some("400"), Some("300"), Some("Fit")));
    let seg = parse_segment(Cow::Borrowed("usedRange(valuesOnly=truex=1)")).unwrap();
    assert_eq!((seg.arg("valuesOnly"), seg.arg("x")), (Some("true"), Some("1")));
    let seg = parse_segment(Cow::Borrowed("f(a=1b='x=y')")).unwrap();
    assert_eq!((seg.arg("a"), seg.arg("b")), (Some("1"), Some("x=y")));
    // Text after a value is sliced on character boundaries only.
    assert!(parse_segment(Cow::Borrowed("f(a=27\u{7f6}x=1)")).is_ok());
    assert!(parse_segment(Cow::Borrowed("f(a=t\u{e9}rue)")).is_ok());
    let seg = parse_segment(Cow::Borrowed("range(address='A1b=2')")).unwrap();
    assert_eq!(seg.arg("address"), Some("A1b=2"));
    let empty = parse_segment(Cow::Borrowed("f()")).unwrap();
    assert_eq!((empty.args, empty.call), (None, true));
    assert!(parse_segment(Cow::Borrowed("f(a")).is_err());
    // Percent-decoded text gives the same arguments.
    let segs = segments("/worksheets('S%20''1''')/range(address='A1%3AB2')").unwrap();
    let names: Vec<&str> = segs.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(names, ["worksheets", "S '1'", "range"]);
    assert_eq!(segs[2].arg("ADDRESS"), Some("A1:B2"));
}

/// Every call shape msgraph-sdk sends reaches an operation: served, or 501 for one not built
/// yet; only the table-row shapes Graph itself refuses answer its `ApiNotFound`.
#[test]
fn every_sdk_call_shape_resolves() {
    let keys = |name: &str| match name {
        "workbookWorksheet-id" => "Sheet%201",
        "workbookTable-id" => "T1",
        "workbookTableColumn-id" => "Qty",
        "workbookTableRow-id" => "0",
        "workbookNamedItem-id" => "Total",
        "address" => "A1%3AB2",
        "anotherRange" => "C3",
        "valuesOnly" => "true",
        "key" => "k",
        "fittingMode" => "Fit",
        _ => "1",
    };
    let (mut served, mut not_built, mut refused) = (0, 0, 0);
    for (method, template, _) in SDK_SHAPES.iter() {
        let template = template.replace("%2D", "-");
        let mut path = String::from("/v1.0/drives/b%21d/items/01ITEM/workbook");
        let mut rest = template.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map(|c| open + c).expect("closed brace");
            path.push_str(&rest[..open]);
            path.push_str(keys(&rest[open + 1..close]));
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        match resolve(method, &path) {
            Ok(Resolved { operation: Operation::NotImplemented { .. }, .. }) => not_built += 1,
            Ok(_) => served += 1,
            Err(e) if e.code.as_str() == "ApiNotFound" => refused += 1,
            Err(e) => panic!("{method} {path}: {} {}", e.status(), e.message),
        }
    }
    assert_eq!(served + not_built + refused, SDK_SHAPES.len());
    assert!(SDK_SHAPES.len() > 1700, "the SDK list was read: {}", SDK_SHAPES.len());
    // Only PATCH rows/{index} and rows/{index}/range…, on both table entry points.
    assert!(refused <= 80, "{refused}");
    println!("served {served}, not built {not_built}, Graph's ApiNotFound {refused}");
}

#[test]
fn collection_functions_and_item_at() {
    let w = |path: &str| format!("/v1.0/me/drive/items/1/workbook/{path}");
    let count = |c: Collection, text: bool| Operation::CollectionCount { item: me("1"), collection: c, text };
    let rows = || Collection::TableRows { sheet: None, table: "T".into() };
    assert_eq!(op("GET", &w("tables/T/rows/count()")), count(rows(), false));
    assert_eq!(op("GET", &w("tables/T/rows/count")), count(rows(), false));
    assert_eq!(op("GET", &w("tables/T/rows/$count")), count(rows(), true));
    assert_eq!(
        op("GET", &w("tables/T/columns/count")),
        count(Collection::TableColumns { sheet: None, table: "T".into() }, false)
    );
    assert_eq!(op("GET", &w("worksheets/$count")), count(Collection::Worksheets, true));
    assert_eq!(op("GET", &w("worksheets/count()")), count(Collection::Worksheets, false));
    // A worksheet may be called "count".
    assert_eq!(op("GET", &w("worksheets/count")), Operation::WorksheetGet { item: me("1"), sheet: "count".into() });
    assert_eq!(op("GET", &w("tables/count()")), count(Collection::Tables { sheet: None }, false));
    assert_eq!(op("GET", &w("names/$count")), count(Collection::Names { sheet: None }, true));
    assert_eq!(resolve("PATCH", &w("tables/T/rows/count")).unwrap_err().status(), 405);
    // `()` on navigation is the same as without.
    assert_eq!(op("GET", &w("tables/T/range()")), op("GET", &w("tables/T/range")));
    assert_eq!(op("GET", &w("worksheets/S/usedRange()")), op("GET", &w("worksheets/S/usedRange")));
    assert_eq!(op("GET", &w("worksheets/S/range()")), op("GET", &w("worksheets/S/range")));
    assert_eq!(
        op("GET", &w("worksheets/S/range(address='A1')/rowsAbove()")),
        op("GET", &w("worksheets/S/range(address='A1')/rowsAbove"))
    );
    // Tables and columns by position.
    let at0 = navigate::item_at_key(0);
    assert_eq!(
        op("GET", &w("tables/itemAt(index=0)")),
        Operation::TableGet { item: me("1"), sheet: None, table: at0.clone() }
    );
    assert!(matches!(
        op("GET", &w("tables/itemAt(index=0)/columns/itemAt(index=1)/dataBodyRange()")),
        Operation::RangeGet { range: RangeRef { base: RangeBase::TableColumn { ref table, ref column, .. }, .. }, .. }
            if *table == at0 && *column == navigate::item_at_key(1)
    ));
    // Rows by position: read, update, delete, range; and o365's POST …/delete.
    let t = || "T".to_string();
    assert_eq!(
        op("PATCH", &w("tables/T/rows/itemAt(index=3)")),
        Operation::TableRowUpdate { item: me("1"), sheet: None, table: t(), index: 3 }
    );
    assert_eq!(
        op("DELETE", &w("tables/T/rows/itemAt(index=3)")),
        Operation::TableRowDelete { item: me("1"), sheet: None, table: t(), index: 3 }
    );
    assert_eq!(
        op("POST", &w("tables('T')/rows/itemAt(index=3)/delete")),
        Operation::TableRowDelete { item: me("1"), sheet: None, table: t(), index: 3 }
    );
    assert!(matches!(
        op("GET", &w("tables/T/rows/itemAt(index=0)/range()")),
        Operation::RangeGet { range: RangeRef { base: RangeBase::TableRow { index: 0, .. }, .. }, .. }
    ));
    assert_eq!(
        op("POST", &w("tables('T')/columns('Qty')/delete")),
        Operation::TableColumnDelete { item: me("1"), sheet: None, table: t(), column: "Qty".into() }
    );
    // Bare indexes: read and delete as documented; update and range refused as Graph does.
    assert!(matches!(op("GET", &w("tables/T/rows/2")), Operation::TableRowGet { .. }));
    assert!(matches!(op("DELETE", &w("tables/T/rows/2")), Operation::TableRowDelete { index: 2, .. }));
    for (m, p) in [("PATCH", "tables/T/rows/2"), ("GET", "tables/T/rows/2/range"), ("GET", "tables/T/rows/2/range()")] {
        let e = resolve(m, &w(p)).unwrap_err();
        assert_eq!((e.status(), e.code.as_str()), (400, "ApiNotFound"), "{m} {p}");
    }
}

#[test]
fn drives_of_an_owner() {
    assert_eq!(op("GET", "/v1.0/me/drives"), Operation::DriveList(DriveRef::Me));
    assert_eq!(op("GET", "/v1.0/drives"), Operation::DriveList(DriveRef::Me));
    assert_eq!(op("GET", "/v1.0/users/a@b.c/drives"), Operation::DriveList(DriveRef::User("a@b.c".into())));
    assert_eq!(op("GET", "/v1.0/me/drives/b!x"), Operation::DriveGet(DriveRef::Drive("b!x".into())));
    assert_eq!(
        op("GET", "/v1.0/me/drives/b!x/root:/a.xlsx:"),
        Operation::ItemGet(ItemAddress { drive: DriveRef::Drive("b!x".into()), item: ItemRef::Path("a.xlsx".into()) })
    );
    assert_eq!(
        op("GET", "/v1.0/users/u/drives/b!x/items/7/children"),
        Operation::ItemChildren(ItemAddress { drive: DriveRef::Drive("b!x".into()), item: ItemRef::Id("7".into()) })
    );
    assert_eq!(resolve("POST", "/v1.0/me/drives").unwrap_err().status(), 405);
}
