//! Black-box tests against the real server on a free port.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_workbookd"))
            .args(["serve", "--listen", "127.0.0.1:0", "--in-memory"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start workbookd");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("ready line");
        let addr = line.trim().strip_prefix("workbookd listening on http://").expect("the ready line").to_string();
        Server { child, addr }
    }

    /// One HTTP/1.1 request; returns (status, headers lowercased, body).
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let mut lines = head.lines();
        let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, headers, body.to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn health_answers_with_version() {
    let server = Server::start();
    let (status, headers, body) = server.request("GET", "/_workbookd/health", &[]);
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    assert!(body.contains("\"version\""), "{body}");
    assert!(header(&headers, "request-id").is_some());
    assert!(header(&headers, "date").is_some());
}

#[test]
fn unbuilt_operations_answer_501_naming_them() {
    let server = Server::start();
    let (status, headers, body) = server.request(
        "DELETE",
        "/v1.0/me/drive/items/01AB/workbook/worksheets/Sheet1/charts/Chart1",
        &[("client-request-id", "abc-123")],
    );
    assert_eq!(status, 501);
    assert!(body.contains("\"code\":\"notImplemented\""), "{body}");
    assert!(body.contains("chart-delete"), "{body}");
    assert!(body.contains("\"client-request-id\":\"abc-123\""), "{body}");
    assert_eq!(header(&headers, "client-request-id"), Some("abc-123"));
    let request_id = header(&headers, "request-id").expect("request-id");
    assert!(body.contains(request_id), "{body}");
}

#[test]
fn unknown_paths_answer_400_in_the_graph_envelope() {
    let server = Server::start();
    let (status, headers, body) = server.request("GET", "/v1.0/me/drive/items/1/workbook/frobnicate", &[]);
    assert_eq!(status, 400);
    assert!(body.contains("\"code\":\"badRequest\""), "{body}");
    assert!(body.contains("frobnicate"), "{body}");
    // Without a client-request-id, the request id is echoed in its place.
    assert_eq!(header(&headers, "client-request-id"), header(&headers, "request-id"));
}
