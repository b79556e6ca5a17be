//! The properties that the fuzz targets in `fuzz/` check on arbitrary input, also run over the
//! committed fuzz corpora by `tests/fuzz_corpus.rs`. Each panics when its property fails.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

use crate::server::{router, ServerConfig};

const METHODS: [&str; 6] = ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"];

/// The resolver: any method and path resolve to an operation or an error, never a panic. The
/// first byte picks the method, the rest is the path.
pub fn resolve(data: &[u8]) {
    let Some((&m, path)) = data.split_first() else { return };
    let path = String::from_utf8_lossy(path);
    if let Ok(r) = crate::resolve::resolve(METHODS[usize::from(m) % METHODS.len()], &path) {
        let _ = r.operation.name();
    }
}

/// Workbook calls whose JSON bodies the fuzzer writes, on a workbook with a table and a name.
const TARGETS: [(&str, &str); 16] = [
    ("PATCH", "worksheets/Sheet1/range(address='A1:B2')"),
    ("PATCH", "worksheets/Sheet1/range(address='C3')"),
    ("POST", "worksheets/add"),
    ("PATCH", "worksheets/Sheet1"),
    ("POST", "tables/add"),
    ("POST", "tables/T/rows/add"),
    ("PATCH", "tables/T"),
    ("POST", "tables/T/columns/add"),
    ("PATCH", "tables/T/rows/itemAt(index=0)"),
    ("POST", "names/add"),
    ("POST", "functions/sum"),
    ("POST", "functions/vlookup"),
    ("POST", "worksheets/Sheet1/range(address='A1:B2')/insert"),
    ("POST", "worksheets/Sheet1/range(address='A1:B2')/clear"),
    ("POST", "createSession"),
    ("POST", "application/calculate"),
];

/// The whole server in-process (in-memory store), driven request by request.
pub struct Server {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    item: String,
    served: u64,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    pub fn new() -> Server {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let mut server = Server { runtime, app: axum::Router::new(), item: String::new(), served: 0 };
        server.reset();
        server
    }

    /// A fresh store with one workbook: Sheet1 A1:B3 a table `T` (Name, Qty), a name `Total`.
    fn reset(&mut self) {
        let host = host::Host::new(Arc::new(store::MemoryStore::new()), host::Config::default());
        self.app = router(host, ServerConfig::default());
        let upload = self.send("PUT", "/v1.0/me/drive/root:/fuzz.xlsx:/content", book_bytes());
        let item: serde_json::Value = serde_json::from_slice(&upload.1).expect("the upload answers JSON");
        self.item = item["id"].as_str().expect("an item id").to_string();
        for (path, body) in [
            ("tables/add", r#"{"address":"Sheet1!A1:B3","hasHeaders":true}"#),
            ("tables/Table1", r#"{"name":"T"}"#),
            ("names/add", r#"{"name":"Total","reference":"=Sheet1!$B$2:$B$3"}"#),
        ] {
            let method = if path == "tables/Table1" { "PATCH" } else { "POST" };
            let uri = format!("/v1.0/me/drive/items/{}/workbook/{path}", self.item);
            let (status, body) = self.send(method, &uri, body.as_bytes().to_vec());
            assert!(status < 300, "setting up: {status} {}", String::from_utf8_lossy(&body));
        }
    }

    fn send(&self, method: &str, uri: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "localhost")
            .header("authorization", "Bearer fuzz")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("a request");
        let app = self.app.clone();
        self.runtime.block_on(async move {
            let response = app.oneshot(request).await.expect("the router answers");
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
            (status, bytes.to_vec())
        })
    }

    /// One workbook call with a fuzzed body (the first byte picks the call): never a panic, never
    /// a 500, and the answer is JSON.
    pub fn workbook_call(&mut self, data: &[u8]) {
        let Some((&pick, body)) = data.split_first() else { return };
        // Every few hundred calls the workbook starts again, so it does not grow without end.
        self.served += 1;
        if self.served.is_multiple_of(300) {
            self.reset();
        }
        let (method, target) = TARGETS[usize::from(pick) % TARGETS.len()];
        let uri = format!("/v1.0/me/drive/items/{}/workbook/{target}", self.item);
        let (status, answer) = self.send(method, &uri, body.to_vec());
        assert_ne!(
            status,
            500,
            "{method} {target} {:?}: {}",
            String::from_utf8_lossy(body),
            String::from_utf8_lossy(&answer)
        );
        if !answer.is_empty() {
            serde_json::from_slice::<serde_json::Value>(&answer).expect("the answer is JSON");
        }
    }
}

/// Sheet1: a header row (Name, Qty) and two rows, as a minimal .xlsx written here (no writer
/// dependency in the library).
fn book_bytes() -> Vec<u8> {
    book::fuzz_checks::minimal_xlsx(&[
        ("A1", "Name"),
        ("B1", "Qty"),
        ("A2", "a"),
        ("B2", "1"),
        ("A3", "b"),
        ("B3", "2"),
    ])
}
