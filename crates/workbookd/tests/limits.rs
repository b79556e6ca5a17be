//! Limits and hostile input against the real server: each gets a Graph-shaped 4xx, stored data
//! stays as it was, and the server's peak memory stays bounded.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{book, dev_token, user, Server};

/// Peak memory the server may reach in these tests, whatever the input (it idles at a few MiB).
const RSS_BOUND_MIB: u64 = 150;

/// Sends a request head and as much of a body as the server takes (stopping at `send` bytes or
/// when the server closes), then reads the answer.
fn raw(server: &Server, head: &str, chunk: &[u8], send: u64) -> (u16, String) {
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut writer = s.try_clone().unwrap();
    let chunk = chunk.to_vec();
    let sender = std::thread::spawn(move || {
        let mut sent = 0u64;
        while sent < send {
            if writer.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len() as u64;
        }
        sent
    });
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the head and body are in (the server may keep the connection open).
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    let _ = s.shutdown(std::net::Shutdown::Both);
    let sent = sender.join().unwrap();
    assert!(sent < send, "the server read the whole body before refusing it");
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn a_declared_1gb_upload_is_refused_before_it_is_read() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let head = format!(
        "PUT /v1.0/me/drive/root:/big.xlsx:/content HTTP/1.1\r\nHost: {}\r\nAuthorization: {alice}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        1u64 << 30
    );
    let (status, text) = raw(&server, &head, &[0u8; 64 * 1024], 1 << 30);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"payloadTooLarge\""), "{text}");
    let r = server.as_user(&alice, "GET", "/v1.0/me/drive/root:/big.xlsx:", None, "");
    assert_eq!(r.status, 404, "nothing was stored");
    let peak = server.peak_rss_mib();
    println!("declared 1 GiB upload: 413, server peak RSS {peak} MiB");
    assert!(peak < RSS_BOUND_MIB, "peak RSS {peak} MiB");
}

#[test]
fn a_streamed_upload_past_the_limit_stops_at_the_limit() {
    let server = Server::start(&["--max-upload-bytes", "1048576"]);
    let alice = user("alice");
    // Chunked, with no declared length: the server learns the size only by reading.
    let head = format!(
        "PUT /v1.0/me/drive/root:/big.xlsx:/content HTTP/1.1\r\nHost: {}\r\nAuthorization: {alice}\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        server.addr
    );
    let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
    chunk.extend_from_slice(&[b'x'; 64 * 1024]);
    chunk.extend_from_slice(b"\r\n");
    let (status, text) = raw(&server, &head, &chunk, 1 << 30);
    assert_eq!(status, 413, "{text}");
    let r = server.as_user(&alice, "GET", "/v1.0/me/drive/root:/big.xlsx:", None, "");
    assert_eq!(r.status, 404, "nothing was stored");
    let peak = server.peak_rss_mib();
    println!("streamed 1 GiB upload, limit 1 MiB: 413, server peak RSS {peak} MiB");
    assert!(peak < RSS_BOUND_MIB, "peak RSS {peak} MiB");
    // Under the limit is fine.
    server.upload(&alice, "small.xlsx", &book());
}

#[test]
fn oversize_json_bodies_are_413_and_change_nothing() {
    let server = Server::start(&["--max-body-bytes", "2000"]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1:A300')");
    let values: Vec<Vec<u32>> = (0..300).map(|i| vec![100_000 + i]).collect();
    let body = json!({ "values": values }).to_string();
    assert!(body.len() > 2000);
    let r = server.as_user(&alice, "PATCH", &path, None, &body);
    assert_eq!(r.error(), (413, "payloadTooLarge".into(), "payloadTooLargeUncategorized".into()));
    assert_eq!(server.download(&alice, &item), book(), "nothing was written");
}

#[test]
fn hostile_requests_get_a_4xx_in_bounded_memory() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let sheet = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1");
    // 10⁷ cells, and a whole sheet (1.7·10¹⁰ cells), asked for at once.
    for address in ["A1:J1000000", "A:XFD", "1:1048576"] {
        let r = server.as_user(&alice, "GET", &format!("{sheet}/range(address='{address}')"), None, "");
        assert_eq!((r.status, r.error().2), (400, "rangeExceedsLimit".to_string()), "{address}");
    }
    let r =
        server.as_user(&alice, "PATCH", &format!("{sheet}/range(address='A1:J1000000')"), None, r#"{"values":[[1]]}"#);
    assert_eq!(r.status, 400, "{}", r.text());
    // JSON nested 100,000 deep.
    let deep = format!("{{\"values\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let r = server.as_user(&alice, "PATCH", &format!("{sheet}/range(address='A1')"), None, &deep);
    assert_eq!(r.status, 400, "{}", r.text());
    let r = server.call(
        "POST",
        "/v1.0/$batch",
        &[("Authorization", &alice), ("Content-Type", "application/json")],
        deep.as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(server.download(&alice, &item), book(), "nothing was written");
    let peak = server.peak_rss_mib();
    println!("10^7-cell ranges and 100,000-deep JSON: 400s, server peak RSS {peak} MiB");
    assert!(peak < RSS_BOUND_MIB, "peak RSS {peak} MiB");
}

/// `book()` with one part replaced.
fn with_part(name: &str, part: &[u8]) -> Vec<u8> {
    let mut from = zip::ZipArchive::new(std::io::Cursor::new(book())).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for i in 0..from.len() {
        let mut f = from.by_index(i).unwrap();
        let entry = f.name().unwrap().to_string();
        out.start_file(entry.as_str(), deflate).unwrap();
        if entry == name {
            out.write_all(part).unwrap();
        } else {
            std::io::copy(&mut f, &mut out).unwrap();
        }
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn zip_and_entity_bombs_are_unsupported_workbooks_in_bounded_memory() {
    let server = Server::start(&[]);
    let alice = user("alice");
    // 600 MiB of spaces in the sheet: about 600 KiB compressed.
    let mut sheet =
        b"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData/>".to_vec();
    sheet.resize(sheet.len() + (600 << 20), b' ');
    sheet.extend_from_slice(b"</worksheet>");
    let zip_bomb = with_part("xl/worksheets/sheet1.xml", &sheet);
    drop(sheet);
    let entity_bomb = with_part(
        "xl/sharedStrings.xml",
        br#"<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"><!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&i;</t></si></sst>"#,
    );
    for (name, bytes) in [("zip-bomb.xlsx", &zip_bomb), ("entity-bomb.xlsx", &entity_bomb)] {
        let item = server.upload(&alice, name, bytes);
        let r =
            server.as_user(&alice, "POST", &format!("/v1.0/me/drive/items/{item}/workbook/createSession"), None, "{}");
        assert_eq!(r.error(), (400, "badRequest".into(), "unsupportedWorkbook".into()), "{name}");
        assert_eq!(&server.download(&alice, &item), bytes, "{name}: the stored file is kept as it was");
    }
    let peak = server.peak_rss_mib();
    println!(
        "zip bomb ({} KiB → 600 MiB) and entity bomb: 400 unsupportedWorkbook, server peak RSS {peak} MiB",
        zip_bomb.len() / 1024
    );
    assert!(peak < RSS_BOUND_MIB, "peak RSS {peak} MiB");
}

#[test]
fn workbooks_past_the_size_limits_are_unsupported() {
    let server = Server::start(&["--max-workbook-cells", "3"]);
    let alice = user("alice");
    // book() has four cells.
    let item = server.upload(&alice, "Book.xlsx", &book());
    let r = server.as_user(&alice, "GET", &format!("/v1.0/me/drive/items/{item}/workbook/worksheets"), None, "");
    assert_eq!(r.error(), (400, "badRequest".into(), "unsupportedWorkbook".into()));
    let server = Server::start(&["--max-workbook-bytes", "1000"]);
    let item = server.upload(&alice, "Book.xlsx", &book());
    let r = server.as_user(&alice, "GET", &format!("/v1.0/me/drive/items/{item}/workbook/worksheets"), None, "");
    assert_eq!(r.error(), (400, "badRequest".into(), "unsupportedWorkbook".into()));
    assert_eq!(server.download(&alice, &item), book());
}

#[test]
fn sessions_per_workbook_are_capped_with_retry_after() {
    let server = Server::start(&["--max-sessions-per-workbook", "3", "--persistent-session-idle", "90s"]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    let other = server.upload(&alice, "Other.xlsx", &book());
    let create = |item: &str, persist: bool| {
        server.as_user(
            &alice,
            "POST",
            &format!("/v1.0/me/drive/items/{item}/workbook/createSession"),
            None,
            &format!("{{\"persistChanges\":{persist}}}"),
        )
    };
    let sessions: Vec<String> = (0..3).map(|i| server.session(&alice, &item, i != 1)).collect();
    let r = create(&item, true);
    assert_eq!(r.error(), (429, "tooManyRequests".into(), "tooManyRequestsUncategorized".into()));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=90).contains(&wait), "Retry-After {wait}");
    assert_eq!(create(&other, true).status, 201, "another workbook has its own sessions");
    // Sessionless calls are not sessions: they still work.
    let r = server.as_user(&alice, "GET", &format!("/v1.0/me/drive/items/{item}/workbook/worksheets"), None, "");
    assert_eq!(r.status, 200);
    let r = server.as_user(
        &alice,
        "POST",
        &format!("/v1.0/me/drive/items/{item}/workbook/closeSession"),
        Some(&sessions[0]),
        "",
    );
    assert_eq!(r.status, 204);
    assert_eq!(create(&item, false).status, 201, "a closed session frees its place");
}

#[test]
fn workbooks_past_the_memory_cap_are_unloaded_and_reopened() {
    let server = Server::start(&["--max-open-workbooks", "2"]);
    let alice = user("alice");
    let items: Vec<String> = (0..5).map(|i| server.upload(&alice, &format!("b{i}.xlsx"), &book())).collect();
    let session = server.session(&alice, &items[0], true);
    for (i, item) in items.iter().enumerate() {
        let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
        let s = (i == 0).then_some(session.as_str());
        let r = server.as_user(&alice, "PATCH", &path, s, &format!(r#"{{"values":[[{}]]}}"#, 100 + i));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let open = || server.call("GET", "/_workbookd/state", &[], b"").json()["workbooks"].as_array().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(10);
    while open() > 2 {
        assert!(Instant::now() < deadline, "still {} workbooks in memory", open());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Each is opened again on demand with its writes (the session's too), A3 recalculated.
    for (i, item) in items.iter().enumerate() {
        let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1:A3')");
        let s = (i == 0).then_some(session.as_str());
        let r = server.as_user(&alice, "GET", &path, s, "");
        assert_eq!(r.json()["values"], json!([[100 + i], [2], [102 + i]]), "book {i}");
    }
}

#[test]
fn throttling_budgets_per_user_and_per_app() {
    let server = Server::start(&["--throttle-user", "3/60s", "--throttle-app", "5/60s"]);
    let token =
        |oid: &str, app: &str| dev_token(&json!({"oid": oid, "tid": "t1", "scp": "Files.ReadWrite", "azp": app}));
    let (a, b, c) = (token("a", "app1"), token("b", "app1"), token("c", "app2"));
    let get = |t: &str| server.as_user(t, "GET", "/v1.0/me/drive/root/children", None, "");
    for _ in 0..3 {
        assert_eq!(get(&a).status, 200);
    }
    let r = get(&a);
    assert_eq!(r.error(), (429, "tooManyRequests".into(), "tooManyRequestsUncategorized".into()));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    // b shares app1's budget (3 of 5 spent by a; a's refusal cost nothing).
    assert_eq!(get(&b).status, 200);
    assert_eq!(get(&b).status, 200);
    assert_eq!(get(&b).status, 429, "app1 is out of budget");
    assert_eq!(get(&c).status, 200, "app2 has its own budget");
    // A batch's items are counted one by one, each answering 429 on its own.
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/me/drive/root/children"},
        {"id": "2", "method": "GET", "url": "/me/drive/root/children"},
        {"id": "3", "method": "GET", "url": "/me/drive/root/children"},
    ]});
    let r = server.as_user(&c, "POST", "/v1.0/$batch", None, &batch.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    let statuses: Vec<u64> =
        r.json()["responses"].as_array().unwrap().iter().map(|i| i["status"].as_u64().unwrap()).collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, vec![200, 200, 429], "{statuses:?}");
    let refused = r.json()["responses"].as_array().unwrap().iter().find(|i| i["status"] == 429).unwrap().clone();
    assert!(refused["headers"]["retry-after"].as_str().is_some(), "{refused}");
    // Off by default.
    let plain = Server::start(&[]);
    for _ in 0..50 {
        assert_eq!(plain.as_user(&a, "GET", "/v1.0/me/drive/root/children", None, "").status, 200);
    }
}

/// 20,000 rows in A and B, and 200 formulas in C that each SUMPRODUCT the whole of both: an edit
/// of A1 recalculates 4 million products (about half a second here).
fn slow_book() -> Vec<u8> {
    let rows = 20_000;
    let mut wb = support::new_xlsx();
    let ws = wb.add_worksheet();
    for r in 0..rows {
        ws.write_number(r, 0, 1.0).unwrap();
        ws.write_number(r, 1, 2.0).unwrap();
    }
    for r in 0..200 {
        let f = format!("=SUMPRODUCT($A$1:$A${rows}*$B$1:$B${rows})+ROW()");
        ws.write_formula(r, 2, rust_xlsxwriter::Formula::new(f)).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_long_recalculation_blocks_only_its_own_workbook() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let server = Arc::new(Server::start(&[]));
    let alice = user("alice");
    let slow = server.upload(&alice, "slow.xlsx", &slow_book());
    let quick = server.upload(&alice, "quick.xlsx", &book());
    let range =
        |item: &str, a: &str| format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='{a}')");
    // Both loaded first, so that what follows is recalculation only.
    assert_eq!(server.as_user(&alice, "GET", &range(&slow, "C1"), None, "").status, 200);
    assert_eq!(server.as_user(&alice, "GET", &range(&quick, "A1"), None, "").status, 200);
    let done = Arc::new(AtomicBool::new(false));
    let edit = {
        let (server, alice, done, path) = (server.clone(), alice.clone(), done.clone(), range(&slow, "A1"));
        std::thread::spawn(move || {
            let r = server.as_user(&alice, "PATCH", &path, None, r#"{"values":[[3]]}"#);
            done.store(true, Ordering::SeqCst);
            r.status
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    // Reads and writes on the other workbook are served while the slow edit runs.
    for i in 0..5 {
        let r = server.as_user(&alice, "PATCH", &range(&quick, "A1"), None, &format!(r#"{{"values":[[{i}]]}}"#));
        assert_eq!(r.status, 200);
        assert_eq!(server.as_user(&alice, "GET", &range(&quick, "A3"), None, "").json()["values"], json!([[i + 2]]));
    }
    assert!(!done.load(Ordering::SeqCst), "the slow edit finished first: the book is not slow enough to show this");
    assert_eq!(edit.join().unwrap(), 200);
    let r = server.as_user(&alice, "GET", &range(&slow, "C1"), None, "");
    assert_eq!(r.json()["values"], json!([[40_005]]));
}

#[test]
fn a_timed_out_write_is_applied_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let alice = user("alice");
    let server = Server::on_disk(dir.path(), &["--request-timeout", "100ms"]);
    let slow = server.upload(&alice, "slow.xlsx", &slow_book());
    let range = |a: &str| format!("/v1.0/me/drive/items/{slow}/workbook/worksheets/Sheet1/range(address='{a}')");
    let read = |server: &Server| -> Option<serde_json::Value> {
        let r = server.as_user(&alice, "GET", &range("A1:C1"), None, "");
        match r.status {
            200 => Some(r.json()["values"].clone()),
            504 => None,
            other => panic!("{other}: {}", r.text()),
        }
    };
    // The first open takes longer than the timeout too; it completes behind the 504s.
    let deadline = Instant::now() + Duration::from_secs(60);
    while read(&server).is_none() {
        assert!(Instant::now() < deadline);
    }
    let r = server.as_user(&alice, "PATCH", &range("A1"), None, r#"{"values":[[3]]}"#);
    assert_eq!(r.error(), (504, "gatewayTimeout".into(), "gatewayTimeoutUncategorized".into()));
    let seen = loop {
        if let Some(v) = read(&server) {
            break v;
        }
        assert!(Instant::now() < deadline);
    };
    // The edit and its recalculation together, or neither.
    assert!(seen == json!([[3, 2, 40_005]]) || seen == json!([[1, 2, 40_003]]), "{seen}");
    server.kill();
    let server = Server::on_disk(dir.path(), &["--request-timeout", "100ms"]);
    let after = loop {
        if let Some(v) = read(&server) {
            break v;
        }
        assert!(Instant::now() < deadline);
    };
    assert_eq!(after, seen, "what was shown is what was journaled");
}
