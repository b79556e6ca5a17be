//! Hostile and unlucky input against the real server: what a web page can send cross-site,
//! unreadable session headers, writes racing a content replace, ambiguous user keys, names
//! OneDrive refuses, slow and idle connections, a full disk, and what a crash leaves on disk.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{call_at, dev_token, user, Server};

fn book(value: f64) -> Vec<u8> {
    let mut wb = support::new_xlsx();
    let ws = wb.add_worksheet();
    ws.write_number(0, 0, value).unwrap();
    wb.save_to_buffer().unwrap()
}

fn cell(server: &Server, token: &str, item: &str, session: Option<&str>) -> Value {
    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
    let r = server.as_user(token, "GET", &path, session, "");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["values"][0][0].clone()
}

fn item_count(server: &Server, token: &str) -> usize {
    let r = server.as_user(token, "GET", "/v1.0/me/drive/root/children", None, "");
    r.json()["value"].as_array().map_or(0, Vec::len)
}

/// What a browser sends for a cross-site `<form method=post enctype=text/plain>` or a
/// no-preflight `fetch`: no token, a simple content type, the attacker's Origin.
#[test]
fn control_plane_writes_are_not_reachable_cross_site() {
    let server = Server::start(&[]);
    let token = user("alice");
    server.upload(&token, "Keep.xlsx", &book(1.0));
    let cross_site = [("Origin", "http://evil.example"), ("Content-Type", "text/plain")];
    for (method, path) in
        [("POST", "/_workbookd/reset"), ("PUT", "/_workbookd/faults"), ("DELETE", "/_workbookd/faults")]
    {
        let body: &[u8] = if method == "PUT" { br#"{"rules":[{"fault":"unavailable","path":"*"}]}"# } else { b"" };
        let r = server.call(method, path, &cross_site, body);
        assert!(r.status == 401 || r.status == 403, "{method} {path}: {} {}", r.status, r.text());
        // Even with a token a page could not send, another origin is refused.
        let with_token = [("Origin", "http://evil.example"), ("Authorization", "Bearer dev")];
        assert_eq!(server.call(method, path, &with_token, body).status, 403, "{method} {path}");
        // No token at all: a simple request cannot carry one.
        assert_eq!(server.call(method, path, &[], body).status, 401, "{method} {path}");
    }
    assert_eq!(item_count(&server, &token), 1, "nothing was reset");
    let graph = server.as_user(&token, "GET", "/v1.0/me/drive/root/children", None, "");
    assert_eq!(graph.status, 200, "no fault rule was installed: {}", graph.text());
    // A test harness on this machine resets with any token, from no origin or its own.
    let own_origin = format!("http://{}", server.addr);
    let r = server.call("POST", "/_workbookd/reset", &[("Authorization", "Bearer dev"), ("Origin", &own_origin)], b"");
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(item_count(&server, &token), 0);
}

/// DNS rebinding: a page at a name the attacker points at 127.0.0.1 reaches the server with that
/// name in `Host`.
#[test]
fn host_names_other_than_local_ones_are_refused_in_dev_mode() {
    let server = Server::start(&["--allowed-host", "workbookd.test"]);
    let token = user("alice");
    server.upload(&token, "Mine.xlsx", &book(1.0));
    let as_host = |host: &str, method: &str, path: &str| {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer dev\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.split_whitespace().nth(1).unwrap_or("").to_string()
    };
    for host in ["evil.example", "evil.example:80", "rebind.attacker.test:8765"] {
        assert_eq!(as_host(host, "GET", "/v1.0/me/drive/root/children"), "403", "{host}");
        assert_eq!(as_host(host, "GET", "/_workbookd/state"), "403", "{host}");
        assert_eq!(as_host(host, "POST", "/_workbookd/reset"), "403", "{host}");
    }
    for host in ["127.0.0.1:1", "localhost:8765", "app.localhost", "[::1]:8765", "WorkbookD.test:9"] {
        assert_eq!(as_host(host, "GET", "/v1.0/me/drive/root/children"), "200", "{host}");
    }
    assert_eq!(item_count(&server, &token), 1);
}

/// A raw request with a `workbook-session-id` of arbitrary bytes.
fn raw_patch(addr: &str, path: &str, session: &[u8], body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer dev\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\nworkbook-session-id: ",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(session);
    req.extend_from_slice(b"\r\n\r\n");
    req.extend_from_slice(body.as_bytes());
    s.write_all(&req).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn an_unreadable_session_header_is_a_session_error_not_no_session() {
    let server = Server::start(&[]);
    let item = server.upload("Bearer dev", "S.xlsx", &book(1.0));
    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
    for session in [&b""[..], b"   ", b"\xff\xfe", b"\xc3("] {
        let (status, text) = raw_patch(&server.addr, &path, session, r#"{"values":[[99]]}"#);
        assert_eq!(status, 404, "{session:?}: {text}");
        assert!(text.contains("invalidSessionReCreatable"), "{text}");
    }
    // Nothing was written, durably or otherwise.
    assert_eq!(cell(&server, "Bearer dev", &item, None), json!(1));
    let saved = server.download("Bearer dev", &item);
    let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(saved)).unwrap();
    let range = calamine::Reader::worksheet_range(&mut xlsx, "Sheet1").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&calamine::Data::Float(1.0)));
}

/// Writes in a session, sent while `PUT …/content` replaces the file, land before the replace
/// (and are replaced) or after it (and answer 404): never on the new content.
#[test]
fn session_writes_racing_a_content_replace_never_reach_the_new_content() {
    let server = Arc::new(Server::start(&[]));
    let token = "Bearer dev";
    let item = server.upload(token, "Race.xlsx", &book(0.0));
    let marker = 123456.0;
    let mut landed_after = 0;
    for round in 0..12 {
        let session = server.session(token, &item, true);
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (server, session, stop, item) = (server.clone(), session.clone(), stop.clone(), item.clone());
                std::thread::spawn(move || {
                    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let body = format!(r#"{{"values":[[{}]]}}"#, w * 100_000 + n);
                        let r = server.as_user(token, "PATCH", &path, Some(&session), &body);
                        assert!(r.status == 200 || r.status == 404, "{} {}", r.status, r.text());
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(60));
        let r = server.call(
            "PUT",
            &format!("/v1.0/me/drive/items/{item}/content"),
            &[("Authorization", token), ("Content-Type", "application/octet-stream")],
            &book(marker),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(40));
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().unwrap();
        }
        let now = cell(&server, token, &item, None);
        if now.as_f64() != Some(marker) {
            landed_after += 1;
            eprintln!("round {round}: the new content shows {now}");
        }
        // The next round starts from the original content again.
        server.call(
            "PUT",
            &format!("/v1.0/me/drive/items/{item}/content"),
            &[("Authorization", token), ("Content-Type", "application/octet-stream")],
            &book(0.0),
        );
    }
    assert_eq!(landed_after, 0, "writes through an ended session reached the replacing content");
}

/// jwt mode keys a user's drive by tenant and subject: a tenantless subject `t1:alice` must not
/// get tenant t1's alice.
#[test]
fn a_subject_holding_a_colon_is_not_another_tenants_user() {
    let server = Server::start(&[]);
    let alice = dev_token(&json!({"oid": "alice", "tid": "t1", "scp": "Files.ReadWrite"}));
    let forger = dev_token(&json!({"oid": "t1:alice", "scp": "Files.ReadWrite"}));
    server.upload(&alice, "Private.xlsx", &book(7.0));
    assert_eq!(item_count(&server, &alice), 1);
    assert_eq!(item_count(&server, &forger), 0, "the forger sees alice's drive");
    let r = server.as_user(&forger, "GET", "/v1.0/me/drive/root:/Private.xlsx", None, "");
    assert_eq!(r.status, 404, "{}", r.text());
    let (a, f) = (
        server.as_user(&alice, "GET", "/v1.0/me/drive", None, "").json()["id"].clone(),
        server.as_user(&forger, "GET", "/v1.0/me/drive", None, "").json()["id"].clone(),
    );
    assert_ne!(a, f);
}

#[test]
fn names_and_paths_onedrive_refuses() {
    let server = Server::start(&[]);
    let token = "Bearer dev";
    let put = |path: &str| {
        server.call(
            "PUT",
            &format!("/v1.0/me/drive/root:/{path}:/content"),
            &[("Authorization", token), ("Content-Type", "application/octet-stream")],
            b"x",
        )
    };
    for name in [
        "con",
        "CON.xlsx",
        "aux",
        "nul",
        "com1",
        "LPT9.txt",
        "prn",
        ".lock",
        "desktop.ini",
        "~$x.xlsx",
        "a_vti_b.xlsx",
        "%20lead.xlsx",
        "trail.xlsx%20",
        "dot.",
        "a%3Fb.xlsx",
        "a%7Cb.xlsx",
    ] {
        let r = put(&format!("Folder/{name}"));
        assert_eq!(
            (r.status, r.json()["error"]["code"].clone()),
            (400, json!("invalidRequest")),
            "{name}: {}",
            r.text()
        );
    }
    let deep = vec!["d"; 3000].join("/");
    assert_eq!(put(&format!("{deep}/f.xlsx")).status, 400);
    let long = format!("{}/{}.xlsx", "a".repeat(200), "b".repeat(200));
    assert_eq!(put(&long).status, 400);
    // A refused upload leaves no folder behind.
    assert_eq!(item_count(&server, token), 0, "folders were left behind");
    // Names that are fine: a device name inside a longer name, 399 characters of path.
    for name in ["console.xlsx", "com10.xlsx", "lpt.xlsx", "vti.xlsx", "a~$b.xlsx"] {
        assert_eq!(put(name).status, 201, "{name}");
    }
    let fits = format!("{}/{}", "p".repeat(200), "q".repeat(198));
    assert_eq!(put(&fits).status, 201);
    // Names match as OneDrive matches them: ASCII case folds, the Kelvin sign is not a `k`.
    let first = put("k.xlsx").json()["id"].clone();
    let same = put("K.XLSX");
    assert_eq!((same.status, same.json()["id"].clone()), (200, first.clone()));
    let kelvin = put("%E2%84%AA.xlsx");
    assert_eq!(kelvin.status, 201, "{}", kelvin.text());
    assert_ne!(kelvin.json()["id"], first);
}

/// Reads until the server closes the connection; how long that took.
fn closed_within(mut s: TcpStream, limit: Duration) -> Option<Duration> {
    s.set_read_timeout(Some(limit)).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(started.elapsed()),
            Err(_) => return None,
        }
    }
}

#[test]
fn slow_and_idle_connections_are_closed_and_capped() {
    let server = Server::start(&["--header-timeout", "1s", "--idle-timeout", "1s", "--max-connections", "8"]);
    // Headers trickled a byte at a time: closed once the header timeout passes.
    let mut trickle = TcpStream::connect(&server.addr).unwrap();
    trickle.write_all(b"GET /v1.0/me/drive HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
    let mut clone = trickle.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        for _ in 0..40 {
            if clone.write_all(b"a").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    assert!(closed_within(trickle, Duration::from_secs(20)).is_some(), "a trickling client kept its connection");
    feeder.join().unwrap();
    // An idle keep-alive connection after one request: closed once the idle timeout passes.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    idle.write_all(b"GET /_workbookd/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(closed_within(idle, Duration::from_secs(20)).is_some(), "an idle connection was kept");
    // The cap: eight connections held open, the ninth is told 503 with Retry-After.
    let held: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(&server.addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let r = call_at(&server.addr, "GET", "/_workbookd/health", &[], b"").unwrap();
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")), "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "serviceNotAvailable");
    drop(held);
    // Their places free up as they close (or time out).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = call_at(&server.addr, "GET", "/_workbookd/health", &[], b"").unwrap();
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the cap never freed up");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_body_that_does_not_arrive_is_a_timeout() {
    let server = Server::start(&["--body-timeout", "1s"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.write_all(
        b"PUT /v1.0/me/drive/root:/b.xlsx:/content HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer dev\r\nContent-Length: 100\r\nConnection: close\r\n\r\nabc",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(out.contains("requestTimeout"), "{out}");
    assert_eq!(item_count(&server, "Bearer dev"), 0);
}

/// A server on a 4 MiB tmpfs of its own (a user and mount namespace, so no privileges needed).
fn server_on_small_disk(dir: &std::path::Path) -> Server {
    let script = format!(
        "mount -t tmpfs -o size=4m tmpfs '{d}' && exec '{bin}' serve --listen 127.0.0.1:0 --data '{d}'",
        d = dir.display(),
        bin = Server::binary()
    );
    let mut command = Command::new("unshare");
    command.args(["--user", "--map-root-user", "--mount", "sh", "-c", &script]);
    Server::from_command(command)
}

/// Incompressible bytes, so an upload takes the disk space it says.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_full_disk_answers_507_and_reads_and_deletes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_on_small_disk(dir.path());
    let token = "Bearer dev";
    let item = server.upload(token, "Book.xlsx", &book(1.0));
    let session = server.session(token, &item, true);
    let a1 = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
    assert_eq!(server.as_user(token, "PATCH", &a1, Some(&session), r#"{"values":[[2]]}"#).status, 200);
    // Fill the disk with uploads until one is refused.
    let mut fillers = Vec::new();
    let full = loop {
        let r = server.call(
            "PUT",
            &format!("/v1.0/me/drive/root:/fill{}.bin:/content", fillers.len()),
            &[("Authorization", token), ("Content-Type", "application/octet-stream")],
            &noise(256 * 1024, fillers.len() as u64),
        );
        if r.status != 201 {
            break r;
        }
        fillers.push(r.json()["id"].as_str().unwrap().to_string());
        assert!(fillers.len() < 64, "the disk never filled");
    };
    assert_eq!(full.error(), (507, "insufficientStorage".to_string(), "quotaLimitReached".to_string()));
    // Writes are refused the same way, and change nothing.
    for _ in 0..4 {
        let r = server.as_user(token, "PATCH", &a1, Some(&session), r#"{"values":[[3]]}"#);
        if r.status == 507 {
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // Reads go on, metadata and download included, and show every acknowledged write.
    let value = cell(&server, token, &item, Some(&session));
    assert!(value == json!(2) || value == json!(3), "{value}");
    let meta = server.as_user(token, "GET", &format!("/v1.0/me/drive/items/{item}"), None, "");
    assert_eq!(meta.status, 200, "{}", meta.text());
    let saved = server.download(token, &item);
    let mut xlsx: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(saved)).unwrap();
    let range = calamine::Reader::worksheet_range(&mut xlsx, "Sheet1").unwrap();
    assert_eq!(range.get_value((0, 0)).map(|d| d.to_string()), Some(value.to_string()));
    // Deleting frees space, and writes work again.
    for id in &fillers {
        let r = server.as_user(token, "DELETE", &format!("/v1.0/me/drive/items/{id}"), None, "");
        assert_eq!(r.status, 204, "{}", r.text());
    }
    let r = server.as_user(token, "PATCH", &a1, Some(&session), r#"{"values":[[4]]}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(cell(&server, token, &item, None), json!(4));
}

#[test]
fn start_up_removes_what_failed_writes_and_crashes_left() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::on_disk(dir.path(), &[]);
    let item = server.upload("Bearer dev", "Kept.xlsx", &book(5.0));
    server.kill();
    let content = dir.path().join("content");
    let item_dir = content.join(&item);
    let current: Vec<String> =
        std::fs::read_dir(&item_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    std::fs::write(item_dir.join("7.xlsx.tmp"), b"half").unwrap();
    std::fs::write(item_dir.join("99.xlsx"), b"a checkpoint the database never saw").unwrap();
    std::fs::create_dir_all(content.join("no-such-item")).unwrap();
    std::fs::write(content.join("no-such-item").join("1.xlsx.tmp"), b"orphan").unwrap();
    let server = Server::on_disk(dir.path(), &[]);
    let left: Vec<String> =
        std::fs::read_dir(&item_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert_eq!(left, current);
    assert!(!content.join("no-such-item").exists());
    assert_eq!(cell(&server, "Bearer dev", &item, None), json!(5));
}

/// Over its memory budget the server sheds and refuses work that takes memory (503 with
/// Retry-After), and goes on answering reads of what it holds and downloads.
#[test]
fn over_the_memory_budget_new_work_is_refused_not_killed() {
    // A budget below any process's size: over it from the first sample on. The file is seeded,
    // since uploads are refused too.
    let seed = tempfile::tempdir().unwrap();
    std::fs::write(seed.path().join("Big.xlsx"), book(3.0)).unwrap();
    let server = Server::start(&["--max-memory", "1MiB", "--seed", seed.path().to_str().unwrap()]);
    let token = "Bearer dev";
    let meta = server.as_user(token, "GET", "/v1.0/me/drive/root:/Big.xlsx", None, "");
    let item = meta.json()["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(1500));
    let r = server.as_user(token, "POST", &format!("/v1.0/me/drive/items/{item}/workbook/createSession"), None, "{}");
    assert_eq!(r.error(), (503, "serviceNotAvailable".to_string(), "serviceNotAvailable".to_string()), "{}", r.text());
    assert!(r.header("retry-after").is_some());
    let a1 = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
    assert_eq!(server.as_user(token, "GET", &a1, None, "").status, 503);
    let upload = server.call(
        "PUT",
        "/v1.0/me/drive/root:/More.xlsx:/content",
        &[("Authorization", token), ("Content-Type", "application/octet-stream")],
        &book(1.0),
    );
    assert_eq!(upload.status, 503, "{}", upload.text());
    // Downloads, metadata and health go on.
    assert_eq!(server.as_user(token, "GET", &format!("/v1.0/me/drive/items/{item}"), None, "").status, 200);
    assert!(!server.download(token, &item).is_empty());
    assert_eq!(server.call("GET", "/_workbookd/health", &[], b"").status, 200);
    // The same calls with room to spare work; a workbook that could not fit in the budget at
    // all (800 bytes a cell: 96 MiB takes 125,829 cells) is refused as too large, not loaded.
    let roomy = Server::start(&["--max-memory", "96MiB"]);
    let item = roomy.upload(token, "Small.xlsx", &book(3.0));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(cell(&roomy, token, &item, None), json!(3));
    let mut wb = support::new_xlsx();
    let ws = wb.add_worksheet();
    for r in 0..13_000u32 {
        for c in 0..10u16 {
            ws.write_number(r, c, 1.0).unwrap();
        }
    }
    let huge = roomy.upload(token, "Huge.xlsx", &wb.save_to_buffer().unwrap());
    let r = roomy.as_user(token, "GET", &format!("/v1.0/me/drive/items/{huge}/workbook/worksheets"), None, "");
    assert_eq!(r.error(), (400, "badRequest".to_string(), "unsupportedWorkbook".to_string()), "{}", r.text());
}

/// A panic inside an edit (forced by a fail point between the change and the recalculation):
/// Graph's 500 envelope rather than a dropped connection, and the workbook as it was before.
#[test]
fn a_panic_inside_an_edit_answers_500_and_changes_nothing() {
    let server = Server::start_with_env(&[], &[("WORKBOOKD_FAIL_POINTS", "edit.before-recalc=1")]);
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &support::book());
    let range = |a: &str| format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='{a}')");
    let r = server.as_user(&alice, "PATCH", &range("A1"), None, r#"{"values":[[50]]}"#);
    assert_eq!(r.error(), (500, "internalServerError".into(), "internalServerErrorUncategorized".into()));
    assert!(r.json()["error"]["innerError"]["request-id"].as_str().is_some_and(|id| !id.is_empty()));
    let r = server.as_user(&alice, "GET", &range("A1:A3"), None, "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["values"], json!([[1], [2], [3]]), "nothing of the panicked edit is live");
    assert_eq!(server.download(&alice, &item), support::book(), "nothing was written");
    // The fail point fired once: the same write now goes through.
    let r = server.as_user(&alice, "PATCH", &range("A1"), None, r#"{"values":[[60]]}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = server.as_user(&alice, "GET", &range("A3"), None, "");
    assert_eq!(r.json()["values"], json!([[62]]));
}
