//! Soak: many concurrent sessions over many workbooks, mixed reads and writes, for a while,
//! against the real server on a real data directory. Reports requests/s, p50/p99 latency, error
//! counts and the server's RSS over time; exits non-zero on any 5xx, any failed request, or RSS
//! that keeps growing after warm-up.
//!
//! Long form (BENCHMARKS.md, docs/reliability.md):
//!   cargo build --release -p workbookd --examples
//!   target/release/examples/soak target/release/workbookd --sessions 200 --workbooks 50 --seconds 600
//! CI runs `--seconds 60`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Options {
    binary: String,
    sessions: usize,
    workbooks: usize,
    seconds: u64,
}

fn options() -> Options {
    let mut o = Options { binary: "target/release/workbookd".into(), sessions: 200, workbooks: 50, seconds: 60 };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<u64>().ok()).expect("a number after the flag");
        match a.as_str() {
            "--sessions" => o.sessions = value() as usize,
            "--workbooks" => o.workbooks = value() as usize,
            "--seconds" => o.seconds = value(),
            other if !other.starts_with("--") => o.binary = other.to_string(),
            other => panic!("unknown flag {other}"),
        }
    }
    o
}

/// A keep-alive HTTP/1.1 connection (one per client thread, as SDKs pool them).
struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        Conn { addr: addr.to_string(), stream: None }
    }

    fn call(
        &mut self,
        method: &str,
        path: &str,
        session: Option<&str>,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        // One retry on a fresh connection: the server may have closed an idle one.
        match self.try_call(method, path, session, body) {
            Ok(r) => Ok(r),
            Err(_) => {
                self.stream = None;
                self.try_call(method, path, session, body)
            }
        }
    }

    fn try_call(
        &mut self,
        method: &str,
        path: &str,
        session: Option<&str>,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(60)))?;
            self.stream = Some(BufReader::new(s));
        }
        let reader = self.stream.as_mut().expect("connected");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer soak\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.addr,
            if method == "PUT" { "application/octet-stream" } else { "application/json" },
            body.len()
        );
        if let Some(s) = session {
            head.push_str(&format!("workbook-session-id: {s}\r\n"));
        }
        head.push_str("\r\n");
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(broken)?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse().map_err(|_| broken())?;
                } else if k == "transfer-encoding" && v.contains("chunked") {
                    chunked = true;
                }
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16).map_err(|_| broken())?;
                let mut chunk = vec![0; size + 2];
                reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..size]);
            }
        } else {
            out.resize(length, 0);
            reader.read_exact(&mut out)?;
        }
        Ok((status, out))
    }
}

fn broken() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "a malformed response")
}

/// A workbook of 200 rows: quantities and prices, a line total per row, and sums below.
fn workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..200u32 {
        ws.write_number(r, 0, f64::from(r + 1)).unwrap();
        ws.write_number(r, 1, 1.5).unwrap();
        ws.write_formula(r, 2, rust_xlsxwriter::Formula::new(format!("=A{0}*B{0}", r + 1))).unwrap();
    }
    ws.write_formula(200, 2, rust_xlsxwriter::Formula::new("=SUM(C1:C200)")).unwrap();
    ws.write_formula(201, 2, rust_xlsxwriter::Formula::new("=AVERAGE(C1:C200)")).unwrap();
    wb.save_to_buffer().unwrap()
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    server_errors: AtomicU64,
    client_errors: AtomicU64,
    failed: AtomicU64,
}

fn main() {
    let o = options();
    let data = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(&o.binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn", "--data"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e} (cargo build --release -p workbookd)", o.binary));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("//").next().unwrap().to_string();
    let pid = child.id();

    let bytes = workbook();
    let mut setup = Conn::new(&addr);
    let items: Vec<String> = (0..o.workbooks)
        .map(|i| {
            let (status, body) =
                setup.call("PUT", &format!("/v1.0/me/drive/root:/soak/book{i}.xlsx:/content"), None, &bytes).unwrap();
            assert!(status == 201 || status == 200, "upload: {status}");
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    let counts = Arc::new(Counts::default());
    let latencies: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let clients: Vec<_> = (0..o.sessions)
        .map(|n| {
            let (addr, item) = (addr.clone(), items[n % items.len()].clone());
            let (counts, latencies, stop) = (counts.clone(), latencies.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::new(&addr);
                let wb = format!("/v1.0/me/drive/items/{item}/workbook");
                // Three in four sessions persist their writes; the rest work on private copies.
                let persist = n % 4 != 3;
                let body = format!("{{\"persistChanges\":{persist}}}");
                let session = match conn.call("POST", &format!("{wb}/createSession"), None, body.as_bytes()) {
                    Ok((201, b)) => {
                        serde_json::from_slice::<serde_json::Value>(&b).unwrap()["id"].as_str().unwrap().to_string()
                    }
                    other => {
                        eprintln!("createSession: {other:?}");
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
                let mut mine = Vec::with_capacity(1 << 16);
                let mut rng = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                while !stop.load(Ordering::Relaxed) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let row = rng % 200 + 1;
                    let (method, path, body, s): (&str, String, String, Option<&str>) = match rng % 20 {
                        0..=9 => (
                            "GET",
                            format!("{wb}/worksheets/Sheet1/range(address='A{row}:C{}')", row.min(190) + 10),
                            String::new(),
                            Some(&session),
                        ),
                        10..=13 => (
                            "PATCH",
                            format!("{wb}/worksheets/Sheet1/range(address='A{row}')"),
                            format!("{{\"values\":[[{}]]}}", rng % 1000),
                            Some(&session),
                        ),
                        14..=15 => (
                            "GET",
                            format!("{wb}/worksheets/Sheet1/range(address='C201:C202')"),
                            String::new(),
                            Some(&session),
                        ),
                        16 => (
                            "GET",
                            format!("{wb}/worksheets/Sheet1/usedRange?$select=address"),
                            String::new(),
                            Some(&session),
                        ),
                        17 => ("GET", format!("{wb}/worksheets"), String::new(), None),
                        18 => ("POST", format!("{wb}/refreshSession"), String::new(), Some(&session)),
                        _ => ("GET", format!("/v1.0/me/drive/items/{item}"), String::new(), None),
                    };
                    let t = Instant::now();
                    match conn.call(method, &path, s, body.as_bytes()) {
                        Ok((status, _)) => {
                            mine.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                            counts.requests.fetch_add(1, Ordering::Relaxed);
                            if status >= 500 {
                                counts.server_errors.fetch_add(1, Ordering::Relaxed);
                            } else if status >= 400 {
                                eprintln!("{method} {path}: {status}");
                                counts.client_errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(e) => {
                            eprintln!("{method} {path}: {e}");
                            counts.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let _ = conn.call("POST", &format!("{wb}/closeSession"), Some(&session), b"");
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();

    // RSS every second; printed every tenth of the run.
    let mut rss: Vec<(u64, f64)> = Vec::new();
    let mut last_requests = 0;
    let every = (o.seconds / 10).max(1);
    println!("| t (s) | requests/s (last {every} s) | server RSS (MiB) |");
    println!("|---|---|---|");
    for second in 1..=o.seconds {
        std::thread::sleep(Duration::from_secs(second).saturating_sub(started.elapsed()));
        rss.push((second, rss_mib(pid)));
        if second % every == 0 {
            let total = counts.requests.load(Ordering::Relaxed);
            println!("| {second} | {:.0} | {:.1} |", (total - last_requests) as f64 / every as f64, rss_mib(pid));
            last_requests = total;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client thread");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_unstable();
    let pct =
        |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or(0);
    let total = counts.requests.load(Ordering::Relaxed);
    let (server_errors, client_errors, failed) = (
        counts.server_errors.load(Ordering::Relaxed),
        counts.client_errors.load(Ordering::Relaxed),
        counts.failed.load(Ordering::Relaxed),
    );
    // Flat: the last quarter's peak within 25 % (and 32 MiB) of the peak at the end of the first quarter.
    let quarter = rss.len() / 4;
    let warm = rss[..quarter.max(1)].iter().map(|r| r.1).fold(0.0, f64::max);
    let late = rss[rss.len() - quarter.max(1)..].iter().map(|r| r.1).fold(0.0, f64::max);
    let flat = late <= warm * 1.25 + 32.0;
    println!();
    println!(
        "soak: {} sessions over {} workbooks, {:.0} s: {total} requests, {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, \
         max {:.1} ms; 5xx {server_errors}, 4xx {client_errors}, failed {failed}; RSS {warm:.1} MiB after warm-up, \
         {late:.1} MiB at the end ({})",
        o.sessions,
        o.workbooks,
        elapsed,
        total as f64 / elapsed,
        f64::from(pct(0.50)) / 1000.0,
        f64::from(pct(0.99)) / 1000.0,
        f64::from(lat.last().copied().unwrap_or(0)) / 1000.0,
        if flat { "flat" } else { "GROWING" }
    );
    let _ = child.kill();
    let _ = child.wait();
    if server_errors > 0 || client_errors > 0 || failed > 0 || !flat || total == 0 {
        eprintln!("soak failed");
        std::process::exit(1);
    }
}
