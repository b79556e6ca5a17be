//! Server memory with non-persistent sessions: the resident set of a real workbookd after N
//! `persistChanges: false` sessions on one workbook read a range each, then after each writes a
//! cell, against the same server with the book loaded once (sessionless read) as the baseline.
//!
//!     cargo run --release -p book --example peak_rss -- generate /tmp/million.xlsx
//!     cargo build --release -p workbookd --example session_memory
//!     target/release/examples/session_memory target/release/workbookd /tmp/million.xlsx 1 5 25
//!
//! Prints one row per session count: MiB resident (VmRSS) and peak (VmHWM), and the ratio to
//! the baseline. The book's first sheet is `Data`, as peak_rss generates it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn call(addr: &str, method: &str, path: &str, session: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer dev\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(id) = session {
        req.push_str(&format!("workbook-session-id: {id}\r\nContent-Type: application/json\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn field<'a>(json: &'a str, name: &str) -> &'a str {
    let key = format!("\"{name}\":\"");
    let start = json.find(&key).map(|i| i + key.len()).expect(name);
    &json[start..start + json[start..].find('"').unwrap()]
}

/// (VmRSS, VmHWM) of a process, in MiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (kb("VmRSS:") / 1024, kb("VmHWM:") / 1024)
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(binary: &str) -> Server {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--in-memory", "--log", "warn"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start workbookd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("workbookd listening on http://").expect("ready line").to_string();
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: session_memory WORKBOOKD BOOK.xlsx N [N …]");
        std::process::exit(2);
    }
    let book = std::fs::read(&args[2]).expect("the book");
    let counts: Vec<usize> = args[3..].iter().map(|n| n.parse().expect("a count")).collect();
    // Long enough for the allocator to hand freed pages back (a load's scratch memory).
    let settle = || std::thread::sleep(Duration::from_secs(4));
    println!("| non-persistent sessions | after reading: RSS (× one book) | after each wrote a cell: RSS (× one book) | peak (VmHWM) |");
    println!("|---|---|---|---|");
    for n in counts {
        let server = Server::start(&args[1]);
        let pid = server.child.id();
        let (status, item) = call(&server.addr, "PUT", "/v1.0/me/drive/root:/Book.xlsx:/content", None, &book);
        assert!(status == 201, "upload: {status} {item}");
        let item = field(&item, "id").to_string();
        let wb = format!("/v1.0/me/drive/items/{item}/workbook");
        let range = format!("{wb}/worksheets/Data/range(address='A1:J10')");
        // The baseline: the book loaded once, as a sessionless read loads it.
        assert_eq!(call(&server.addr, "GET", &range, None, b"").0, 200);
        settle();
        assert_eq!(call(&server.addr, "GET", &range, None, b"").0, 200);
        settle();
        let (one_book, _) = memory(pid);
        let mut sessions = Vec::new();
        for _ in 0..n {
            let (status, body) =
                call(&server.addr, "POST", &format!("{wb}/createSession"), None, br#"{"persistChanges":false}"#);
            assert_eq!(status, 201, "{body}");
            sessions.push(field(&body, "id").to_string());
        }
        for id in &sessions {
            assert_eq!(call(&server.addr, "GET", &range, Some(id), b"").0, 200);
        }
        settle();
        let (reading, _) = memory(pid);
        let a1 = format!("{wb}/worksheets/Data/range(address='A1')");
        for id in &sessions {
            assert_eq!(call(&server.addr, "PATCH", &a1, Some(id), br#"{"values":[[1]]}"#).0, 200);
        }
        settle();
        let (writing, peak) = memory(pid);
        let ratio = |m: u64| m as f64 / one_book.max(1) as f64;
        println!(
            "| {n} | {reading} MiB ({:.2}×) | {writing} MiB ({:.2}×) | {peak} MiB |",
            ratio(reading),
            ratio(writing)
        );
        eprintln!("one book loaded: {one_book} MiB");
    }
}
