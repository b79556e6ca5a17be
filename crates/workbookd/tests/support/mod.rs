//! The real server as a child process on a free port, and a plain HTTP/1.1 client for it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub struct Server {
    child: Child,
    pub addr: String,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    /// `(status, error.code, error.innerError.code)`.
    pub fn error(&self) -> (u16, String, String) {
        let v = self.json();
        let code = v["error"]["code"].as_str().unwrap_or("").to_string();
        let inner = v["error"]["innerError"]["code"].as_str().unwrap_or("").to_string();
        (self.status, code, inner)
    }
}

/// A bearer token for a dev-mode server: an unsigned JWT with these claims.
pub fn dev_token(claims: &Value) -> String {
    let b64 = |bytes: &[u8]| base64url(bytes);
    format!("Bearer {}.{}.x", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(claims.to_string().as_bytes()))
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn in_memory_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--in-memory"];
    args.extend_from_slice(extra);
    args
}

/// A bearer token signed with a throwaway key of `tests/fixtures`: RS256 with `jwt-test-rsa.pem`,
/// ES256 with `jwt-test-ec.pem` (both are in `jwks.json`).
pub fn signed_token(alg: jsonwebtoken::Algorithm, kid: &str, claims: &Value) -> String {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let key = match alg {
        jsonwebtoken::Algorithm::RS256 => {
            jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(format!("{fixtures}/jwt-test-rsa.pem")).unwrap())
        }
        jsonwebtoken::Algorithm::ES256 => {
            jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(format!("{fixtures}/jwt-test-ec.pem")).unwrap())
        }
        other => panic!("no fixture key for {other:?}"),
    }
    .unwrap();
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.to_string());
    format!("Bearer {}", jsonwebtoken::encode(&header, claims, &key).unwrap())
}

pub const ALICE: &str = "alice";

/// The token of a user with Files.ReadWrite in tenant `t1`.
pub fn user(oid: &str) -> String {
    dev_token(
        &serde_json::json!({"oid": oid, "tid": "t1", "scp": "Files.ReadWrite", "preferred_username": format!("{oid}@example.com")}),
    )
}

impl Server {
    /// An in-memory server with dev auth and extra flags.
    pub fn start(extra: &[&str]) -> Server {
        Server::start_with_env(extra, &[])
    }

    /// An in-memory server with extra flags and environment variables.
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn(&in_memory_args(extra), env)
    }

    /// A server on a data directory.
    pub fn on_disk(dir: &Path, extra: &[&str]) -> Server {
        let data = dir.to_string_lossy().to_string();
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data", data.as_str()];
        args.extend_from_slice(extra);
        Server::spawn(&args, &[])
    }

    /// Runs `serve` with these flags expecting it to refuse to start; returns its exit code and stderr.
    pub fn refused(extra: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_workbookd"))
            .args(in_memory_args(extra))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.stdout.is_empty(), "it printed a ready line: {}", String::from_utf8_lossy(&out.stdout));
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    }

    /// A server on a data directory whose log (stderr) goes to a file.
    pub fn on_disk_logged(dir: &Path, extra: &[&str], log: &Path) -> Server {
        let data = dir.to_string_lossy().to_string();
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data", data.as_str()];
        args.extend_from_slice(extra);
        Server::spawn_to(&args, &[], Stdio::from(std::fs::File::create(log).expect("log file")))
    }

    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn_to(args, env, Stdio::null())
    }

    fn spawn_to(args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_workbookd"));
        command.args(args).envs(env.iter().copied()).stderr(stderr);
        Server::from_command(command)
    }

    /// The path of the server binary under test.
    pub fn binary() -> &'static str {
        env!("CARGO_BIN_EXE_workbookd")
    }

    /// A server started by a command of the caller's (a wrapper around the binary), which must
    /// print the ready line on stdout.
    pub fn from_command(mut command: Command) -> Server {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("start workbookd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
        let addr = line.trim().strip_prefix("workbookd listening on http://").expect("the ready line").to_string();
        Server { child, addr }
    }

    /// The server's peak resident memory so far (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kb / 1024
    }

    /// Ends the process at once, as a crash would (SIGKILL on Unix).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the process to stop (SIGTERM) and waits for it to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success());
        self.child.wait().expect("exit status")
    }

    /// One HTTP/1.1 request.
    pub fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        call_at(&self.addr, method, path, headers, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// A call with a bearer token and, when given, a session.
    pub fn as_user(&self, token: &str, method: &str, path: &str, session: Option<&str>, body: &str) -> Response {
        let mut headers = vec![("Authorization", token), ("Content-Type", "application/json")];
        if let Some(s) = session {
            headers.push(("workbook-session-id", s));
        }
        self.call(method, path, &headers, body.as_bytes())
    }

    /// Uploads bytes to `/me/drive/root:/{path}:/content` as the user; returns the item id.
    pub fn upload(&self, token: &str, path: &str, bytes: &[u8]) -> String {
        let r = self.call(
            "PUT",
            &format!("/v1.0/me/drive/root:/{path}:/content"),
            &[("Authorization", token), ("Content-Type", "application/octet-stream")],
            bytes,
        );
        assert!(r.status == 201 || r.status == 200, "upload: {} {}", r.status, r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// Downloads an item's content, following the redirect as clients do.
    pub fn download(&self, token: &str, item: &str) -> Vec<u8> {
        let r = self.call("GET", &format!("/v1.0/me/drive/items/{item}/content"), &[("Authorization", token)], b"");
        assert_eq!(r.status, 302, "{}", r.text());
        let location = r.header("location").unwrap().to_string();
        let path = location.split_once(&self.addr).map(|(_, p)| p.to_string()).unwrap();
        let r = self.call("GET", &path, &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        r.body
    }

    /// createSession; returns the session id.
    pub fn session(&self, token: &str, item: &str, persist: bool) -> String {
        let r = self.as_user(
            token,
            "POST",
            &format!("/v1.0/me/drive/items/{item}/workbook/createSession"),
            None,
            &format!("{{\"persistChanges\":{persist}}}"),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `addr`; an error when the connection fails or breaks before a whole
/// response arrived (the server died), as a client would see it.
pub fn call_at(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let broken = |what: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_string());
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(120)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| broken("no response head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body).ok_or_else(|| broken("a chunked body cut short"))?;
    } else if let Some(len) =
        headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok())
    {
        if body.len() < len {
            return Err(broken("a body cut short"));
        }
    }
    Ok(Response { status, headers, body })
}

/// A chunked body decoded; `None` when it stops before its last chunk.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..eol]).trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(eol + 2..eol + 2 + size)?);
        body = body.get(eol + 2 + size + 2..)?;
    }
}

/// A new rust_xlsxwriter workbook whose bytes depend only on what is written to it: the
/// library stamps the creation time in docProps/core.xml, so two builds of one fixture a second
/// apart would differ and a "nothing was written" comparison would fail by the clock.
pub fn new_xlsx() -> rust_xlsxwriter::Workbook {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2020, 1, 1).unwrap();
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    wb
}

/// Sheet1: A1 = 1, A2 = 2, A3 = A1+A2 (cached 3), B1 = "label"; Sheet 2 empty.
pub fn book() -> Vec<u8> {
    let mut wb = new_xlsx();
    let ws = wb.add_worksheet();
    ws.write_number(0, 0, 1.0).unwrap();
    ws.write_number(1, 0, 2.0).unwrap();
    ws.write_formula(2, 0, rust_xlsxwriter::Formula::new("=A1+A2").set_result("3")).unwrap();
    ws.write_string(0, 1, "label").unwrap();
    wb.add_worksheet().set_name("Sheet 2").unwrap();
    wb.save_to_buffer().unwrap()
}

/// A cell of a downloaded workbook, read by calamine (an independent reader).
pub fn cell(bytes: &[u8], sheet: &str, row: u32, col: u32) -> calamine::Data {
    use calamine::Reader;
    let mut xlsx = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
    let range = xlsx.worksheet_range(sheet).expect("the sheet");
    range.get_value((row, col)).cloned().unwrap_or(calamine::Data::Empty)
}

/// A part of a downloaded workbook, as text.
pub fn part(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut file = zip.by_name(name).expect("the part");
    let mut text = String::new();
    file.read_to_string(&mut text).expect("text");
    text
}
