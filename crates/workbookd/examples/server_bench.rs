//! Server benchmarks for BENCHMARKS.md, each beside its baseline from the same run:
//!
//! 1. createSession on the generated 10k-formula book and the 1M-value book (the workbook is not
//!    loaded yet: its content was just replaced), against calamine reading the same bytes.
//! 2. p50/p99 of a 1-cell PATCH + recalculation + durable acknowledgement in a persistent session.
//! 3. requests/s of a small range GET in a session, against a bare axum JSON endpoint serving the
//!    same bytes, both loaded by wrk with the same settings.
//! 4. Large ranges in a session: the `values` of 100k cells read, 10k cells written, with their
//!    sizes, the read beside a bare axum endpoint serving the same bytes; a row inserted at the
//!    top of the 10k-formula sheet (every reference shifted) over HTTP.
//!
//! Usage: cargo build --release -p workbookd && cargo run --release -p workbookd --example server_bench
//! (the server is target/release/workbookd, on a temporary data directory with real fsyncs);
//! `-- --get-only` skips the createSession runs; `-- --ranges-only` runs just part 4.

#[path = "../../book/benches/support/mod.rs"]
mod books;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;
const PATCHES: usize = 500;
const GET_ROUNDS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--get-only` runs just the range GET comparison, for quick runs while working on it.
    let get_only = args.iter().any(|a| a == "--get-only");
    let ranges_only = args.iter().any(|a| a == "--ranges-only");
    let binary =
        args.iter().find(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "target/release/workbookd".to_string());
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(&binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e} (build it with cargo build --release -p workbookd)"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("//").next().unwrap().to_string();

    println!("| benchmark | workbookd | baseline | ratio |");
    println!("|---|---|---|---|");
    let formulas = books::formulas_book();
    if ranges_only {
        large_ranges(&addr, &formulas);
        let _ = child.kill();
        let _ = child.wait();
        return;
    }
    if !get_only {
        let million = books::million_book();
        create_session(&addr, "formulas.xlsx", &formulas, "createSession, 10k-formula book");
        create_session(&addr, "million.xlsx", &million, "createSession, 1M-value book");
    }
    let (item, session) = patch_latency(&addr, &formulas);
    range_throughput(&addr, &item, &session);
    if !get_only {
        large_ranges(&addr, &formulas);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// One request on a fresh connection; returns (status, body).
fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer bench\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&raw[9..12]).parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn create_session(addr: &str, name: &str, bytes: &[u8], label: &str) {
    let (status, body) = call(addr, "PUT", &format!("/v1.0/me/drive/root:/{name}:/content"), &[], bytes);
    assert!(status == 201 || status == 200);
    let item = json(&body)["id"].as_str().unwrap().to_string();
    let mut server = Vec::new();
    for _ in 0..RUNS {
        // New content unloads the live workbook: the next createSession opens the file.
        let (status, _) = call(addr, "PUT", &format!("/v1.0/me/drive/items/{item}/content"), &[], bytes);
        assert_eq!(status, 200);
        let t = Instant::now();
        let (status, body) =
            call(addr, "POST", &format!("/v1.0/me/drive/items/{item}/workbook/createSession"), &[], b"{}");
        server.push(t.elapsed());
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    }
    let mut reader = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        calamine_read(bytes);
        reader.push(t.elapsed());
    }
    let (s, c) = (median(server), median(reader));
    println!(
        "| {label} (median of {RUNS}) | {} | calamine reading values + formulas: {} | {:.2}× |",
        ms(s),
        ms(c),
        s.as_secs_f64() / c.as_secs_f64()
    );
}

fn calamine_read(bytes: &[u8]) {
    use calamine::Reader;
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    for name in x.sheet_names() {
        std::hint::black_box(x.worksheet_range(&name).unwrap());
        std::hint::black_box(x.worksheet_formula(&name).unwrap());
    }
}

/// Uploads `bytes` as `name` and opens a persistent session on it: (item id, session id).
fn persistent_session(addr: &str, name: &str, bytes: &[u8]) -> (String, String) {
    let (_, body) = call(addr, "PUT", &format!("/v1.0/me/drive/root:/{name}:/content"), &[], bytes);
    let item = json(&body)["id"].as_str().unwrap().to_string();
    let (_, body) = call(
        addr,
        "POST",
        &format!("/v1.0/me/drive/items/{item}/workbook/createSession"),
        &[],
        br#"{"persistChanges":true}"#,
    );
    (item, json(&body)["id"].as_str().unwrap().to_string())
}

fn patch_latency(addr: &str, bytes: &[u8]) -> (String, String) {
    let (item, session) = persistent_session(addr, "patch.xlsx", bytes);
    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Data/range(address='A1')");
    let headers = [("workbook-session-id", session.as_str()), ("Content-Type", "application/json")];
    let mut times = Vec::with_capacity(PATCHES);
    for i in 0..PATCHES + 20 {
        let body = format!("{{\"values\":[[{}]]}}", i % 97);
        let t = Instant::now();
        let (status, _) = call(addr, "PATCH", &path, &headers, body.as_bytes());
        let took = t.elapsed();
        assert_eq!(status, 200);
        // The first patches recalculate everything once (formulas not yet evaluated).
        if i >= 20 {
            times.push(took);
        }
    }
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "| 1-cell PATCH + recalc + fsync'd journal, 10k-formula book, persistent session ({PATCHES} sequential) | p50 {} · p99 {} | goal: p50 ≤ 10 ms | |",
        ms(p(0.5)),
        ms(p(0.99))
    );
    (item, session)
}

fn wrk(url: &str, headers: &[(&str, &str)]) -> Option<f64> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c16", "-d5s"]);
    for (k, v) in headers {
        cmd.args(["-H", &format!("{k}: {v}")]);
    }
    let out = cmd.arg(url).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().find(|l| l.starts_with("Requests/sec:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn range_throughput(addr: &str, item: &str, session: &str) {
    let path = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Data/range(address='A1:C3')");
    let (status, body) = call(addr, "GET", &path, &[("workbook-session-id", session)], b"");
    assert_eq!(status, 200);
    let bare = bare_axum(body);
    let headers = [("Authorization", "Bearer bench"), ("workbook-session-id", session)];
    // This machine's load drifts: the two servers take turns, and each figure is a median.
    let (mut ours, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..GET_ROUNDS {
        let (Some(o), Some(b)) =
            (wrk(&format!("http://{addr}{path}"), &headers), wrk(&format!("http://{bare}/json"), &headers))
        else {
            println!("| GET range in a session | wrk not found: install it (apt-get install wrk) | | |");
            return;
        };
        ours.push(o);
        baseline.push(b);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (o, b) = (median(ours.clone()), median(baseline.clone()));
    println!(
        "| GET range(A1:C3) in a session, wrk -t2 -c16 -d5s, median of {GET_ROUNDS} alternating rounds | {o:.0} req/s | bare axum returning the same JSON: {b:.0} req/s | {:.2}× (goal ≥ 0.5×) |",
        o / b
    );
    let rounds: Vec<String> = ours.iter().zip(&baseline).map(|(o, b)| format!("{o:.0}/{b:.0}")).collect();
    println!("  rounds (workbookd/bare): {}", rounds.join(", "));
}

fn kib(n: usize) -> String {
    format!("{:.0} KiB", n as f64 / 1024.0)
}

/// Issue 4's figures: a 100k-cell read and a 10k-cell write of `values` in a persistent session,
/// and a row inserted at the top of the 10k-formula sheet, each the median of RUNS.
fn large_ranges(addr: &str, bytes: &[u8]) {
    let (item, session) = persistent_session(addr, "ranges.xlsx", bytes);
    let headers = [("workbook-session-id", session.as_str()), ("Content-Type", "application/json")];
    let sheet = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Data");

    // Read: A1:J10000, values only.
    let read = format!("{sheet}/range(address='A1:J10000')?$select=values");
    let (mut times, mut size) = (Vec::new(), 0);
    for _ in 0..RUNS {
        let t = Instant::now();
        let (status, body) = call(addr, "GET", &read, &headers, b"");
        times.push(t.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body[..body.len().min(300)]));
        size = body.len();
    }
    let bare = bare_axum(call(addr, "GET", &read, &headers, b"").1);
    let mut floor = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let (status, _) = call(&bare, "GET", "/json", &[], b"");
        floor.push(t.elapsed());
        assert_eq!(status, 200);
    }
    let (o, b) = (median(times), median(floor));
    println!(
        "| GET values of A1:J10000 (100k cells) in a session (median of {RUNS}) | {} · response {} | bare axum returning the same JSON: {} | {:.1}× |",
        ms(o),
        kib(size),
        ms(b),
        o.as_secs_f64() / b.as_secs_f64()
    );

    // Write: A1:J1000, 10k numbers, each run other values.
    let write = format!("{sheet}/range(address='A1:J1000')?$select=address");
    let (mut times, mut sent) = (Vec::new(), 0);
    for run in 0..RUNS {
        let rows: Vec<String> = (0..1000)
            .map(|r| {
                format!("[{}]", (0..10).map(|c| ((r * 10 + c + run) % 997).to_string()).collect::<Vec<_>>().join(","))
            })
            .collect();
        let body = format!("{{\"values\":[{}]}}", rows.join(","));
        sent = body.len();
        let t = Instant::now();
        let (status, answer) = call(addr, "PATCH", &write, &headers, body.as_bytes());
        times.push(t.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer[..answer.len().min(300)]));
    }
    println!(
        "| PATCH values of A1:J1000 (10k cells) + recalc + fsync'd journal in a session (median of {RUNS}) | {} · request {} | | |",
        ms(median(times)),
        kib(sent)
    );

    // Insert a row at the top: every formula's references move.
    let insert = format!("{sheet}/range(address='1:1')/insert?$select=address");
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let (status, answer) = call(addr, "POST", &insert, &headers, br#"{"shift":"Down"}"#);
        times.push(t.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
    println!(
        "| POST range(1:1)/insert (shift Down), 10k-formula sheet, in a session (median of {RUNS}) | {} | | goal ≤ 50 ms |",
        ms(median(times))
    );
}

/// A bare axum endpoint serving the same bytes, in this process, on its own runtime.
fn bare_axum(body: Vec<u8>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().to_string()).unwrap();
            let body = axum::body::Bytes::from(body);
            let app = axum::Router::new().route(
                "/json",
                axum::routing::get(move || {
                    let body = body.clone();
                    async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], body) }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}
