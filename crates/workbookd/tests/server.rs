//! Black-box tests against the real server on a free port: drive items, ranges, errors and
//! headers, auth, and durability across a crash.

mod support;

use serde_json::json;
use support::{book, cell, dev_token, signed_token, user, Server};

#[test]
fn health_answers_with_version() {
    let server = Server::start(&[]);
    let r = server.call("GET", "/_workbookd/health", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    assert!(r.json()["version"].is_string());
    assert!(r.header("request-id").is_some());
    assert!(r.header("date").is_some());
}

#[test]
fn every_response_carries_request_ids_and_date() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let ok = server.call(
        "GET",
        &format!("/v1.0/me/drive/items/{item}"),
        &[("Authorization", &alice), ("client-request-id", "abc-123")],
        b"",
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("client-request-id"), Some("abc-123"));
    assert!(ok.header("request-id").is_some() && ok.header("date").is_some());
    // Errors carry them in the body as well; without a client-request-id the request id is echoed.
    let err = server.call("GET", "/v1.0/me/drive/items/1/workbook/frobnicate", &[("Authorization", &alice)], b"");
    assert_eq!(err.error().0, 400);
    assert_eq!(err.json()["error"]["code"], "badRequest");
    let request_id = err.header("request-id").unwrap();
    assert_eq!(err.header("client-request-id"), Some(request_id));
    assert_eq!(err.json()["error"]["innerError"]["request-id"], request_id);
    assert_eq!(err.json()["error"]["innerError"]["client-request-id"], request_id);
    let date = err.json()["error"]["innerError"]["date"].as_str().unwrap().to_string();
    assert_eq!(date.len(), 19, "{date}");
}

#[test]
fn unbuilt_operations_answer_501_naming_them() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let r = server.call(
        "DELETE",
        &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/charts/Chart1"),
        &[("Authorization", &alice)],
        b"",
    );
    assert_eq!(r.error(), (501, "notImplemented".into(), "notImplementedUncategorized".into()));
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("chart-delete"));
    // A 501 never hides a missing item.
    let r = server.call(
        "DELETE",
        "/v1.0/me/drive/items/01NOPE/workbook/worksheets/Sheet1/charts/Chart1",
        &[("Authorization", &alice)],
        b"",
    );
    assert_eq!(r.error(), (404, "notFound".into(), "itemNotFound".into()));
}

#[test]
fn upload_metadata_children_and_conflicts() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let bytes = book();
    // Missing folders are created; the Kiota form (one encoded segment) works too.
    let r = server.call(
        "PUT",
        "/v1.0/me/drive/items/root%3A%2FReports%2FQ1%20data.xlsx%3A/content",
        &[("Authorization", &alice)],
        &bytes,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let item = r.json();
    assert_eq!(item["name"], "Q1 data.xlsx");
    assert_eq!(item["size"], bytes.len());
    assert_eq!(item["file"]["mimeType"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(item["parentReference"]["path"], "/drive/root:/Reports");
    for key in ["id", "eTag", "cTag", "createdDateTime", "lastModifiedDateTime", "@microsoft.graph.downloadUrl"] {
        assert!(item[key].is_string(), "{key} in {item}");
    }
    let id = item["id"].as_str().unwrap();

    let got = server.call("GET", "/v1.0/me/drive/root:/Reports/Q1%20data.xlsx:", &[("Authorization", &alice)], b"");
    assert_eq!(got.json()["id"], id);
    let children = server.call("GET", "/v1.0/me/drive/root:/Reports:/children", &[("Authorization", &alice)], b"");
    assert_eq!(children.json()["value"][0]["id"], id);
    let root = server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &alice)], b"");
    assert_eq!(root.json()["value"][0]["folder"]["childCount"], 1);

    let put = |query: &str| {
        server.call(
            "PUT",
            &format!("/v1.0/me/drive/root:/Reports/Q1%20data.xlsx:/content{query}"),
            &[("Authorization", &alice)],
            &bytes,
        )
    };
    let fail = put("?@microsoft.graph.conflictBehavior=fail");
    assert_eq!((fail.status, fail.json()["error"]["code"].as_str()), (409, Some("nameAlreadyExists")));
    let renamed = put("?@microsoft.graph.conflictBehavior=rename");
    assert_eq!((renamed.status, renamed.json()["name"].as_str()), (201, Some("Q1 data 1.xlsx")));
    let replaced = put("");
    assert_eq!((replaced.status, replaced.json()["id"].as_str()), (200, Some(id)));
    assert_ne!(replaced.json()["cTag"], item["cTag"]);
    assert_eq!(server.download(&alice, id), bytes);
    // A new file under a parent addressed by id.
    let parent = got.json()["parentReference"]["id"].as_str().unwrap().to_string();
    let under = server.call(
        "PUT",
        &format!("/v1.0/me/drive/items/{parent}:/Other.xlsx:/content"),
        &[("Authorization", &alice)],
        &bytes,
    );
    assert_eq!((under.status, under.json()["parentReference"]["id"].as_str()), (201, Some(parent.as_str())));
}

#[test]
fn etags_change_with_writes_and_if_match_guards() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let meta =
        |s: &Server| s.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &alice)], b"").json();
    let before = meta(&server);
    let r = server.as_user(
        &alice,
        "PATCH",
        &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='C1')"),
        None,
        r#"{"values":[[5]]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let after = meta(&server);
    assert_ne!(before["eTag"], after["eTag"]);
    assert_ne!(before["cTag"], after["cTag"]);
    assert_ne!(before["size"], after["size"], "metadata shows the saved file at once");
    let stale = before["eTag"].as_str().unwrap();
    let del = server.call(
        "DELETE",
        &format!("/v1.0/me/drive/items/{item}"),
        &[("Authorization", &alice), ("If-Match", stale)],
        b"",
    );
    assert_eq!((del.status, del.json()["error"]["code"].as_str()), (412, Some("resourceModified")));
    let put = server.call(
        "PUT",
        &format!("/v1.0/me/drive/items/{item}/content"),
        &[("Authorization", &alice), ("If-Match", stale)],
        &book(),
    );
    assert_eq!(put.status, 412);
    let current = after["eTag"].as_str().unwrap();
    let del = server.call(
        "DELETE",
        &format!("/v1.0/me/drive/items/{item}"),
        &[("Authorization", &alice), ("If-Match", current)],
        b"",
    );
    assert_eq!(del.status, 204, "{current} {}", del.text());
    assert_eq!(
        server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &alice)], b"").status,
        404
    );
}

#[test]
fn ranges_read_and_write_with_recalculation() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let sheet = format!("/v1.0/me/drive/items/{item}/workbook/worksheets");
    let list = server.as_user(&alice, "GET", &sheet, None, "").json();
    assert_eq!(list["value"][0]["name"], "Sheet1");
    assert_eq!(list["value"][1]["name"], "Sheet 2");
    assert_eq!(list["value"][1]["position"], 1);
    let id = list["value"][0]["id"].as_str().unwrap();
    let by_id =
        server.as_user(&alice, "GET", &format!("{sheet}/{}", id.replace('{', "%7B").replace('}', "%7D")), None, "");
    assert_eq!(by_id.json()["name"], "Sheet1");

    let r = server.as_user(&alice, "GET", &format!("{sheet}/Sheet1/range(address='A1:B3')"), None, "").json();
    assert_eq!(r["address"], "Sheet1!A1:B3");
    assert_eq!(
        (r["rowCount"].as_u64(), r["columnCount"].as_u64(), r["cellCount"].as_u64()),
        (Some(3), Some(2), Some(6))
    );
    assert_eq!((r["rowIndex"].as_u64(), r["columnIndex"].as_u64()), (Some(0), Some(0)));
    assert_eq!(r["values"], json!([[1, "label"], [2, ""], [3, ""]]));
    assert_eq!(r["formulas"], json!([[1, "label"], [2, ""], ["=A1+A2", ""]]));
    assert_eq!(r["valueTypes"], json!([["Double", "String"], ["Double", "Empty"], ["Double", "Empty"]]));
    assert_eq!(r["text"][2][0], "3");
    assert_eq!(r["numberFormat"][0][0], "General");

    // null leaves a cell unchanged; the dependent formula shows its new value in the response.
    let patched = server.as_user(
        &alice,
        "PATCH",
        &format!("{sheet}/Sheet1/range(address='A1:A3')"),
        None,
        r#"{"values":[[10],[null],[null]],"numberFormat":[[null],[null],["0.00"]]}"#,
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    let p = patched.json();
    assert_eq!(p["values"], json!([[10], [2], [12]]));
    assert_eq!(p["text"][2][0], "12.00");
    assert_eq!(p["formulas"][2][0], "=A1+A2");
    let used =
        server.as_user(&alice, "GET", &format!("{sheet}/Sheet1/usedRange?$select=address,values"), None, "").json();
    assert_eq!(used["address"], "Sheet1!A1:B3");
    assert!(used.get("text").is_none(), "$select keeps only what was asked");
    let empty = server.as_user(&alice, "GET", &format!("{sheet}('Sheet%202')/usedRange"), None, "").json();
    assert_eq!(empty["address"], "'Sheet 2'!A1");

    // Formulas entered through `formulas` and through `values` alike.
    let f = server.as_user(
        &alice,
        "PATCH",
        &format!("{sheet}/Sheet1/range(address='C1:D1')"),
        None,
        r#"{"formulas":[["=A3*2","=C1+1"]]}"#,
    );
    assert_eq!(f.json()["values"], json!([[24, 25]]));
    let v = server.as_user(
        &alice,
        "PATCH",
        &format!("{sheet}/Sheet1/range(address='E1')"),
        None,
        r#"{"values":[["=SUM(A1:A2)"]]}"#,
    );
    assert_eq!(v.json()["values"], json!([[12]]));

    // The download holds every acknowledged write, read by an independent reader.
    let bytes = server.download(&alice, &item);
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Float(10.0));
    assert_eq!(cell(&bytes, "Sheet1", 2, 0), calamine::Data::Float(12.0));
    assert_eq!(cell(&bytes, "Sheet1", 0, 3), calamine::Data::Float(25.0));
}

#[test]
fn bad_range_requests_leave_the_file_unchanged() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let bytes = book();
    let item = server.upload(&alice, "Book.xlsx", &bytes);
    let sheet = format!("/v1.0/me/drive/items/{item}/workbook/worksheets");
    // (method, path under worksheets/, body, expected (status, code, inner code))
    type Case<'a> = (&'a str, &'a str, &'a str, (u16, &'a str, &'a str));
    let cases: &[Case] = &[
        ("PATCH", "Sheet1/range(address='A1:B2')", r#"{"values":[[1]]}"#, (400, "badRequest", "invalidArgument")),
        ("PATCH", "Sheet1/range(address='A1')", r#"{"values":"#, (400, "badRequest", "badRequestUncategorized")),
        ("PATCH", "Sheet1/range(address='A1')", r#"[1]"#, (400, "badRequest", "invalidArgument")),
        ("PATCH", "Sheet1/range(address='A1')", r#"{"values":[[{"a":1}]]}"#, (400, "badRequest", "invalidArgument")),
        ("PATCH", "Sheet1/range(address='A1')", r#"{"address":"B2"}"#, (400, "badRequest", "invalidArgument")),
        ("GET", "Sheet1/range(address='A0')", "", (400, "badRequest", "invalidArgument")),
        ("GET", "Sheet1/range(address='XFE1')", "", (400, "badRequest", "invalidArgument")),
        ("GET", "Sheet1/range(address='Other!A1')", "", (400, "badRequest", "invalidArgument")),
        ("GET", "Nope/range(address='A1')", "", (404, "notFound", "itemNotFound")),
        ("GET", "Sheet1/range", "", (400, "badRequest", "rangeExceedsLimit")),
        // A bad part after a good one: nothing of the body is written.
        (
            "PATCH",
            "Sheet1/range(address='A1')",
            r#"{"values":[[5]],"rowHidden":"yes"}"#,
            (400, "badRequest", "invalidArgument"),
        ),
    ];
    for (method, path, body, expect) in cases {
        let r = server.as_user(&alice, method, &format!("{sheet}/{path}"), None, body);
        assert_eq!(r.error(), (expect.0, expect.1.to_string(), expect.2.to_string()), "{method} {path} {body}");
    }
    assert_eq!(server.download(&alice, &item), bytes, "nothing was written");
}

#[test]
fn files_that_are_not_workbooks_are_refused_on_workbook_calls() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let item = server.upload(&alice, "junk.xlsx", b"PK\x03\x04 not really a zip");
    let r = server.as_user(&alice, "POST", &format!("/v1.0/me/drive/items/{item}/workbook/createSession"), None, "{}");
    assert_eq!(r.error(), (400, "badRequest".into(), "unsupportedWorkbook".into()));
    let r = server.as_user(&alice, "GET", &format!("/v1.0/me/drive/items/{item}/workbook/worksheets"), None, "");
    assert_eq!(r.error().2, "unsupportedWorkbook");
    assert_eq!(server.download(&alice, &item), b"PK\x03\x04 not really a zip");
}

// ---- auth: the seed's permission table ----

#[test]
fn files_readwrite_is_allowed() {
    let server = Server::start(&[]);
    let t = dev_token(&json!({"oid": "u", "scp": "User.Read Files.ReadWrite.All"}));
    let item = server.upload(&t, "Book.xlsx", &book());
    server.session(&t, &item, true);
}

#[test]
fn read_only_scopes_read_drive_items_only() {
    let server = Server::start(&[]);
    let rw = dev_token(&json!({"oid": "u", "scp": "Files.ReadWrite"}));
    let ro = dev_token(&json!({"oid": "u", "scp": "Files.Read"}));
    let item = server.upload(&rw, "Book.xlsx", &book());
    assert_eq!(server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &ro)], b"").status, 200);
    assert_eq!(server.download(&ro, &item), server.download(&rw, &item));
    let wb = server.as_user(&ro, "POST", &format!("/v1.0/me/drive/items/{item}/workbook/createSession"), None, "{}");
    assert_eq!(wb.error(), (403, "forbidden".into(), "accessDenied".into()));
    let put = server.call("PUT", "/v1.0/me/drive/root:/New.xlsx:/content", &[("Authorization", &ro)], &book());
    assert_eq!((put.status, put.json()["error"]["code"].as_str()), (403, Some("accessDenied")));
    let del = server.call("DELETE", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &ro)], b"");
    assert_eq!(del.status, 403);
}

#[test]
fn application_tokens_are_refused_on_workbook_calls() {
    let server = Server::start(&[]);
    let app = dev_token(&json!({"oid": "app", "roles": ["Files.ReadWrite.All"], "idtyp": "app"}));
    let r = server.as_user(&app, "GET", "/v1.0/users/alice/drive/items/01X/workbook/worksheets", None, "");
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["message"], "Application permissions are not supported for this API");
}

#[test]
fn personal_accounts_are_refused_on_workbook_calls() {
    let server = Server::start(&[]);
    let msa = dev_token(&json!({"oid": "p", "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "scp": "Files.ReadWrite"}));
    let item = server.upload(&msa, "Book.xlsx", &book());
    let r = server.as_user(&msa, "POST", &format!("/v1.0/me/drive/items/{item}/workbook/createSession"), None, "");
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["message"], "Personal Microsoft accounts are not supported");
}

#[test]
fn missing_or_garbled_tokens_are_401() {
    let server = Server::start(&[]);
    for auth in [None, Some("Basic dTpw"), Some("Bearer a.%%%.c")] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", *a)).collect();
        let r = server.call("GET", "/v1.0/me/drive/root/children", &headers, b"");
        assert_eq!(
            (r.status, r.json()["error"]["code"].as_str()),
            (401, Some("InvalidAuthenticationToken")),
            "{auth:?}"
        );
    }
}

#[test]
fn dev_mode_maps_opaque_tokens_to_one_user_and_jwts_to_theirs() {
    let server = Server::start(&[]);
    let item = server.upload("Bearer opaque-1", "Book.xlsx", &book());
    // Another opaque token is the same dev user.
    assert_eq!(
        server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", "Bearer other")], b"").status,
        200
    );
    // A JWT's oid is another user, whose /me drive does not hold the item.
    let bob = user("bob");
    assert_eq!(
        server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &bob)], b"").status,
        404
    );
}

#[test]
fn another_users_drive_is_403() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let bob = user("bob");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let drive = server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &alice)], b"").json()
        ["parentReference"]["driveId"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        format!("/v1.0/drives/{drive}/items/{item}"),
        format!("/v1.0/users/alice@example.com/drive/items/{item}"),
        format!("/v1.0/drives/{drive}/items/{item}/workbook/worksheets"),
    ] {
        let r = server.call("GET", &path, &[("Authorization", &bob)], b"");
        assert_eq!(r.status, 403, "{path}: {}", r.text());
    }
    // Alice reaches her drive every way.
    for path in
        [format!("/v1.0/drives/{drive}/items/{item}"), format!("/beta/users/ALICE@example.com/drive/items/{item}")]
    {
        assert_eq!(server.call("GET", &path, &[("Authorization", &alice)], b"").status, 200, "{path}");
    }
}

#[test]
fn verified_mode_accepts_tokens_from_workbookd_token_only() {
    let server = Server::start(&["--auth", "jwt", "--jwt-secret", "s3cret", "--audience", "api://workbookd"]);
    let mint = |secret: &str, ttl: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_workbookd"))
            .args(["token", "--user", "carol@example.com", "--tenant", "t1", "--secret", secret, "--ttl", ttl])
            .args(["--audience", "api://workbookd"])
            .output()
            .unwrap();
        assert!(out.status.success());
        format!("Bearer {}", String::from_utf8(out.stdout).unwrap().trim())
    };
    let good = mint("s3cret", "1h");
    let item = server.upload(&good, "Book.xlsx", &book());
    server.session(&good, &item, true);
    let forged = mint("other", "1h");
    let r = server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &forged)], b"");
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")));
    let unsigned = dev_token(&json!({"oid": "carol@example.com", "scp": "Files.ReadWrite"}));
    assert_eq!(server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &unsigned)], b"").status, 401);
    assert_eq!(
        server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", "Bearer opaque")], b"").status,
        401
    );
}

// ---- durability ----

#[test]
fn an_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let alice = user("alice");
    let server = Server::on_disk(dir.path(), &[]);
    let item = server.upload(&alice, "Book.xlsx", &book());
    let session = server.session(&alice, &item, true);
    let r = server.as_user(
        &alice,
        "PATCH",
        &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')"),
        Some(&session),
        r#"{"values":[[777]]}"#,
    );
    assert_eq!(r.status, 200);
    // Killed right after the acknowledgement: no graceful shutdown, no save.
    server.kill();
    let server = Server::on_disk(dir.path(), &[]);
    let bytes = server.download(&alice, &item);
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Float(777.0));
    assert_eq!(cell(&bytes, "Sheet1", 2, 0), calamine::Data::Float(779.0));
}

#[test]
fn acknowledged_structural_edits_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let alice = user("alice");
    let server = Server::on_disk(dir.path(), &[]);
    let item = server.upload(&alice, "Book.xlsx", &book());
    let session = server.session(&alice, &item, true);
    let wb = format!("/v1.0/me/drive/items/{item}/workbook");
    let post = |server: &Server, path: &str, body: &str| {
        let r = server.as_user(&alice, "POST", &format!("{wb}/{path}"), Some(&session), body);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    };
    // A row inserted above everything, a sheet renamed, a name added, cells merged.
    post(&server, "worksheets/Sheet1/range(address='1:1')/insert", r#"{"shift":"Down"}"#);
    let r =
        server.as_user(&alice, "PATCH", &format!("{wb}/worksheets/Sheet%202"), Some(&session), r#"{"name":"Notes"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    post(&server, "names/add", r#"{"name":"Total","reference":"=Sheet1!$A$4"}"#);
    post(&server, "worksheets/Notes/range(address='A1:B1')/merge", "{}");
    // A table added, a column added to it, a row hidden.
    post(&server, "tables/add", r#"{"address":"Notes!C1:D2","hasHeaders":false}"#);
    post(&server, "tables/Table1/columns/add", r#"{"name":"Extra"}"#);
    let r = server.as_user(
        &alice,
        "PATCH",
        &format!("{wb}/worksheets/Sheet1/range(address='2:2')"),
        Some(&session),
        r#"{"rowHidden":true}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    server.kill();
    let server = Server::on_disk(dir.path(), &[]);
    let bytes = server.download(&alice, &item);
    assert_eq!(cell(&bytes, "Sheet1", 3, 0), calamine::Data::Float(3.0), "the formula moved to A4");
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Empty);
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(x.sheet_names(), ["Sheet1", "Notes"]);
    assert_eq!(x.worksheet_formula("Sheet1").unwrap().get_value((3, 0)).map(String::as_str), Some("A2+A3"));
    assert_eq!(x.merge_cells_by_sheet_name("Notes").unwrap().len(), 1);
    let names: Vec<String> = x.defined_names().iter().map(|(n, _)| n.clone()).collect();
    assert!(names.contains(&"Total".to_string()), "{names:?}");
    x.load_tables().unwrap();
    assert_eq!(x.table_by_name("Table1").unwrap().columns(), ["Column1", "Column2", "Extra"]);
    let sheet = support::part(&server.download(&alice, &item), "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"hidden="1""#), "{sheet}");
}

#[test]
fn verified_mode_checks_rs256_and_es256_tokens_against_a_jwks_file() {
    let jwks = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwks.json");
    let server = Server::start(&["--auth", "jwt", "--jwks", jwks, "--issuer", "https://issuer.test/"]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let sign = |claims: serde_json::Value, kid: &str| signed_token(jsonwebtoken::Algorithm::RS256, kid, &claims);
    let claims = |exp: u64, iss: &str| json!({"oid": "dana", "scp": "Files.ReadWrite", "exp": exp, "iss": iss});
    let good = sign(claims(now + 600, "https://issuer.test/"), "test-1");
    let item = server.upload(&good, "Book.xlsx", &book());
    server.session(&good, &item, true);
    // The P-256 key of the same JWKS verifies ES256 tokens.
    let es256 = signed_token(jsonwebtoken::Algorithm::ES256, "test-ec", &claims(now + 600, "https://issuer.test/"));
    assert_eq!(
        server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &es256)], b"").status,
        200
    );
    for (token, why) in [
        (sign(claims(now - 600, "https://issuer.test/"), "test-1"), "expired"),
        (sign(claims(now + 600, "https://other.test/"), "test-1"), "issuer"),
        (sign(claims(now + 600, "https://issuer.test/"), "unknown-kid"), "key id"),
    ] {
        let r = server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &token)], b"");
        assert_eq!((r.status, r.json()["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")), "{why}");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_saves_journals_into_the_files_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let alice = user("alice");
    let server = Server::on_disk(dir.path(), &[]);
    let item = server.upload(&alice, "Book.xlsx", &book());
    let r = server.as_user(
        &alice,
        "PATCH",
        &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A2')"),
        None,
        r#"{"values":[[5]]}"#,
    );
    assert_eq!(r.status, 200);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    // The journal was folded into a new content generation on the way out.
    let files: Vec<String> = std::fs::read_dir(dir.path().join("content").join(&item))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".xlsx"), "{files:?}");
    let bytes = std::fs::read(dir.path().join("content").join(&item).join(&files[0])).unwrap();
    assert_eq!(cell(&bytes, "Sheet1", 2, 0), calamine::Data::Float(6.0));
}
