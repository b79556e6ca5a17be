//! The emulator's conveniences against the real server: `--seed`, `/_workbookd/state` and
//! `/_workbookd/reset`, the server header, the request log and the Prometheus metrics.

mod support;

use std::collections::HashMap;

use serde_json::Value;
use support::{book, cell, Server};

const DEV: &str = "Bearer dev";

/// A seed folder: `Book.xlsx` at the top, `Reports/Q1.xlsx` below.
fn seed_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Book.xlsx"), book()).unwrap();
    std::fs::create_dir(dir.path().join("Reports")).unwrap();
    std::fs::write(dir.path().join("Reports").join("Q1.xlsx"), book()).unwrap();
    dir
}

fn state(server: &Server) -> Value {
    let r = server.call("GET", "/_workbookd/state", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// `path → item id` of the dev user's drive in a state view.
fn dev_items(state: &Value) -> HashMap<String, String> {
    let drive = state["drives"].as_array().unwrap().iter().find(|d| d["owner"] == "user:dev").expect("the dev drive");
    drive["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["path"].as_str().unwrap().to_string(), i["id"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn seed_state_and_reset() {
    let seed = seed_folder();
    let server = Server::start(&["--seed", seed.path().to_str().unwrap()]);

    // The seeded files are in the dev user's drive, under their paths.
    let r = server.as_user(DEV, "GET", "/v1.0/me/drive/root:/Reports/Q1.xlsx:/workbook/worksheets", None, "");
    assert_eq!(r.status, 200, "{}", r.text());
    let before = state(&server);
    let items = dev_items(&before);
    assert_eq!(
        items.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(),
        ["/Book.xlsx", "/Reports", "/Reports/Q1.xlsx"].into()
    );

    // A session, a write in it and an upload of the caller's own show in the state view.
    let book_id = &items["/Book.xlsx"];
    let session = server.session(DEV, book_id, true);
    let r = server.as_user(
        DEV,
        "PATCH",
        &format!("/v1.0/me/drive/items/{book_id}/workbook/worksheets/Sheet1/range(address='A1')"),
        Some(&session),
        r#"{"values":[[10]]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let mine = server.upload(DEV, "Mine.xlsx", &book());
    let during = state(&server);
    let sessions = during["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["id"], session.as_str());
    assert_eq!(sessions[0]["itemId"], book_id.as_str());
    assert_eq!(sessions[0]["persistChanges"], true);
    assert_eq!(sessions[0]["user"], "user:dev");
    assert!(sessions[0]["idleSeconds"].as_f64().unwrap() >= 0.0);
    assert!(during["workbooks"].as_array().unwrap().iter().any(|w| w["itemId"] == book_id.as_str()));
    let listed = during["drives"][0]["items"].as_array().unwrap();
    let book_row = listed.iter().find(|i| i["id"] == book_id.as_str()).unwrap();
    assert_eq!(book_row["pendingJournalRecords"], 1, "{book_row}");
    assert!(dev_items(&during).contains_key("/Mine.xlsx"));

    // Reset: everything is dropped, then the seed is back as new items with the original cells.
    let r = server.call("POST", "/_workbookd/reset", &[("Authorization", DEV)], b"");
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    let after = state(&server);
    assert_eq!(after["sessions"].as_array().unwrap().len(), 0);
    assert_eq!(after["workbooks"].as_array().unwrap().len(), 0);
    let items_after = dev_items(&after);
    assert_eq!(items_after.len(), 3, "{after}");
    assert!(!items_after.contains_key("/Mine.xlsx"));
    assert_ne!(&items_after["/Book.xlsx"], book_id);
    for gone in [book_id, &mine] {
        let r = server.as_user(DEV, "GET", &format!("/v1.0/me/drive/items/{gone}"), None, "");
        assert_eq!(r.error().0, 404, "{}", r.text());
    }
    let r = server.as_user(
        DEV,
        "GET",
        &format!("/v1.0/me/drive/items/{}/workbook/worksheets", items_after["/Book.xlsx"]),
        Some(&session),
        "",
    );
    assert_eq!(r.status, 404, "the old session is gone: {}", r.text());
    let bytes = server.download(DEV, &items_after["/Book.xlsx"]);
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Float(1.0), "the seeded file, not the edited one");
}

#[test]
fn seeding_again_keeps_files_already_in_the_drive() {
    let seed = seed_folder();
    let data = tempfile::tempdir().unwrap();
    let args = ["--seed", seed.path().to_str().unwrap()];
    let server = Server::on_disk(data.path(), &args);
    let item = dev_items(&state(&server))["/Book.xlsx"].clone();
    let r = server.as_user(
        DEV,
        "PATCH",
        &format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')"),
        None,
        r#"{"values":[[42]]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    server.kill();

    let server = Server::on_disk(data.path(), &args);
    let items = dev_items(&state(&server));
    assert_eq!(items["/Book.xlsx"], item, "the same item, not a new upload");
    let bytes = server.download(DEV, &item);
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Float(42.0), "the edit survives a restart with --seed");
}

#[test]
fn a_missing_seed_folder_stops_the_start() {
    let (code, stderr) = Server::refused(&["--seed", "/nonexistent/workbookd-seed"], &[]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("--seed"), "{stderr}");
}

#[test]
fn the_control_plane_can_be_turned_off() {
    let seed = seed_folder();
    let server = Server::start(&["--seed", seed.path().to_str().unwrap(), "--control-plane", "false"]);
    for (method, path) in [
        ("GET", "/_workbookd/state"),
        ("POST", "/_workbookd/reset"),
        ("GET", "/_workbookd/faults"),
        ("PUT", "/_workbookd/faults"),
    ] {
        let r = server.call(method, path, &[], b"");
        assert_eq!(r.error().0, 404, "{method} {path}: {}", r.text());
        assert_eq!(r.error().1, "itemNotFound");
    }
    // Nothing was dropped; health and metrics stay on.
    let r = server.as_user(DEV, "GET", "/v1.0/me/drive/root:/Book.xlsx", None, "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(server.call("GET", "/_workbookd/health", &[], b"").status, 200);
    assert_eq!(server.call("GET", "/_workbookd/metrics", &[], b"").status, 200);
}

#[test]
fn verified_auth_turns_the_control_plane_off_by_default() {
    let server = Server::start(&["--auth", "jwt", "--jwt-secret", "s3cret"]);
    assert_eq!(server.call("POST", "/_workbookd/reset", &[], b"").status, 404);
    assert_eq!(server.call("GET", "/_workbookd/state", &[], b"").status, 404);
}

#[test]
fn every_response_names_the_server() {
    let server = Server::start(&[]);
    let expected = format!("workbookd/{}", env!("CARGO_PKG_VERSION"));
    for (method, path) in [("GET", "/v1.0/me/drive"), ("GET", "/v1.0/nowhere"), ("GET", "/_workbookd/health")] {
        let r = server.as_user(DEV, method, path, None, "");
        assert_eq!(r.header("server"), Some(expected.as_str()), "{method} {path}");
    }
}

#[test]
fn each_request_is_logged_once_as_json() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let server = Server::on_disk_logged(&data.path().join("data"), &["--log-format", "json"], &log);
    let item = server.upload(DEV, "Book.xlsx", &book());
    let r = server.as_user(DEV, "GET", &format!("/v1.0/me/drive/items/{item}/workbook/worksheets"), None, "");
    assert_eq!(r.status, 200);
    let request_id = r.header("request-id").unwrap().to_string();
    let r = server.as_user(DEV, "GET", "/v1.0/me/drive/items/nope/workbook/tables", None, "");
    assert_eq!(r.status, 404);
    server.terminate();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let served: Vec<&Value> = lines.iter().filter(|l| l["target"] == "workbookd::request").collect();
    assert_eq!(served.len(), 3, "{text}");
    let list = served.iter().find(|l| l["request_id"] == request_id.as_str()).expect("the worksheet list's line");
    assert_eq!(list["level"], "INFO");
    assert_eq!(list["method"], "GET");
    assert_eq!(list["operation"], "worksheet-list");
    assert_eq!(list["status"], 200);
    assert!(list["ms"].as_f64().unwrap() >= 0.0);
    assert!(served.iter().any(|l| l["operation"] == "table-list" && l["status"] == 404), "{text}");
    assert!(served.iter().any(|l| l["operation"] == "driveitem-put-content" && l["status"] == 201), "{text}");
}

/// The samples of an OpenMetrics exposition: `name{labels}` → value.
fn samples(text: &str) -> HashMap<String, f64> {
    assert!(text.ends_with("# EOF\n"), "an OpenMetrics exposition ends with # EOF");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("a sample line: {l}"));
            (name.to_string(), value.parse().unwrap_or_else(|_| panic!("a number: {l}")))
        })
        .collect()
}

#[test]
fn metrics_count_requests_sessions_journal_syncs_and_recalculation() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::on_disk(data.path(), &[]);
    let item = server.upload(DEV, "Book.xlsx", &book());
    let persistent = server.session(DEV, &item, true);
    let _private = server.session(DEV, &item, false);
    let range = format!("/v1.0/me/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')");
    for value in [5, 6] {
        let r = server.as_user(DEV, "PATCH", &range, Some(&persistent), &format!(r#"{{"values":[[{value}]]}}"#));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = server.as_user(DEV, "PATCH", &range, Some(&persistent), "{not json");
    assert_eq!(r.status, 400);
    server.as_user(DEV, "GET", "/v1.0/unknown/path", None, "");

    let r = server.call("GET", "/_workbookd/metrics", &[], b"");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    let text = r.text();
    let m = samples(&text);
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("no sample {k} in\n{text}"));
    assert_eq!(get(r#"workbookd_requests_total{operation="range-update",status="200"}"#), 2.0);
    assert_eq!(get(r#"workbookd_requests_total{operation="range-update",status="400"}"#), 1.0);
    assert_eq!(get(r#"workbookd_requests_total{operation="workbook-createsession",status="201"}"#), 2.0);
    assert_eq!(get(r#"workbookd_requests_total{operation="unresolved",status="400"}"#), 1.0);
    assert_eq!(get(r#"workbookd_request_duration_seconds_count{operation="range-update"}"#), 3.0);
    assert_eq!(get(r#"workbookd_request_duration_seconds_bucket{le="+Inf",operation="range-update"}"#), 3.0);
    assert_eq!(get(r#"workbookd_sessions_open{mode="persistent"}"#), 1.0);
    assert_eq!(get(r#"workbookd_sessions_open{mode="nonpersistent"}"#), 1.0);
    assert_eq!(get("workbookd_workbooks_open"), 1.0);
    assert_eq!(get("workbookd_journal_append_duration_seconds_count"), 2.0, "two acknowledged writes, two syncs");
    assert!(get("workbookd_journal_append_duration_seconds_sum") > 0.0);
    assert_eq!(get("workbookd_recalc_duration_seconds_count"), 2.0, "each write recalculated A3");
}

#[test]
fn the_openapi_document_describes_what_is_served() {
    let server = Server::start(&[]);
    let r = server.call("GET", "/_workbookd/openapi.json", &[("Host", &server.addr)], b"");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["servers"][0]["url"], format!("http://{}/v1.0", server.addr));
    let paths = doc["paths"].as_object().unwrap();
    // Every described operation answers something other than 501 and 400 (unknown path) when
    // called with placeholder keys: it is served.
    let token = "Bearer dev";
    for (path, methods) in paths {
        for method in methods.as_object().unwrap().keys() {
            let mut concrete = path
                .replace("{item-id}", "01NOSUCHITEM")
                .replace("{item-path}", "Nope.xlsx")
                .replace("{row}", "0")
                .replace("{column}", "0")
                .replace("{address}", "A1");
            while let (Some(open), Some(close)) = (concrete.find('{'), concrete.find('}')) {
                concrete.replace_range(open..=close, "K");
            }
            let url = format!("/v1.0{concrete}");
            let r = server.as_user(token, &method.to_uppercase(), &url, None, "{}");
            assert!(![405, 501].contains(&r.status), "{method} {url} is described but not served: {}", r.text());
            let unknown = r.status == 400 && r.json()["error"]["message"].as_str().unwrap().contains("for the segment");
            assert!(!unknown, "{method} {url} is described but does not resolve: {}", r.text());
            assert!(r.status < 500, "{method} {url}: {}", r.text());
        }
    }
    // An unbuilt operation is not described.
    assert!(!paths.keys().any(|p| p.contains("/charts")));
}

#[test]
fn a_405_lists_the_allowed_methods() {
    let server = Server::start(&[]);
    let r = server.as_user(DEV, "PUT", "/v1.0/me/drive/items/01X/workbook/worksheets/Sheet1", None, "{}");
    assert_eq!(r.error().0, 405, "{}", r.text());
    assert_eq!(r.header("allow"), Some("GET, PATCH, DELETE"));
}

#[test]
fn injected_faults_fail_matching_requests_as_graph_does() {
    let seed = seed_folder();
    let rules = seed.path().join("faults.json");
    std::fs::write(&rules, r#"{"rules":[{"fault":"locked","method":"DELETE","path":"*/items/*"}]}"#).unwrap();
    let server = Server::start(&["--seed", seed.path().to_str().unwrap(), "--faults", rules.to_str().unwrap()]);
    let sheets = "/v1.0/me/drive/root:/Book.xlsx:/workbook/worksheets";
    // From --faults: deleting any item is 423, and nothing is deleted.
    let item = dev_items(&state(&server))["/Book.xlsx"].clone();
    let r = server.as_user(DEV, "DELETE", &format!("/v1.0/me/drive/items/{item}"), None, "");
    assert_eq!((r.error().0, r.error().1.as_str()), (423, "resourceLocked"));
    assert_eq!(server.as_user(DEV, "GET", sheets, None, "").status, 200);

    // Every second worksheet list is throttled, once, with Retry-After.
    let put = |body: &str| {
        server.call(
            "PUT",
            "/_workbookd/faults",
            &[("Content-Type", "application/json"), ("Authorization", DEV)],
            body.as_bytes(),
        )
    };
    let r = put(
        r#"{"rules":[{"fault":"throttle","method":"GET","path":"*/workbook/worksheets","every":2,"times":1,"retryAfter":2}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let statuses: Vec<u16> = (0..4).map(|_| server.as_user(DEV, "GET", sheets, None, "").status).collect();
    assert_eq!(statuses, [200, 429, 200, 200]);
    put(r#"{"rules":[{"fault":"throttle","path":"*/workbook/worksheets","retryAfter":2}]}"#);
    let r = server.as_user(DEV, "GET", sheets, None, "");
    assert_eq!(r.error(), (429, "tooManyRequests".to_string(), "tooManyRequestsUncategorized".to_string()));
    assert_eq!(r.header("retry-after"), Some("2"));
    assert!(r.header("request-id").is_some());
    let view = server.call("GET", "/_workbookd/faults", &[], b"").json();
    assert_eq!((view["rules"][0]["matched"].as_u64(), view["rules"][0]["injected"].as_u64()), (Some(1), Some(1)));

    // The other kinds, each as Graph answers it.
    for (kind, status, code) in [
        ("unavailable", 503, "serviceNotAvailable"),
        ("timeout", 504, "MaxRequestDurationExceeded"),
        ("wacToken", 403, "accessDenied"),
    ] {
        put(&format!(r#"[{{"fault":"{kind}","path":"*/workbook/worksheets"}}]"#));
        let r = server.as_user(DEV, "GET", sheets, None, "");
        assert_eq!((r.error().0, r.error().1.as_str()), (status, code), "{kind}");
    }
    // Bad rules are refused and leave the rules as they were; DELETE removes them all.
    assert_eq!(put(r#"[{"fault":"explode"}]"#).error().0, 400);
    assert_eq!(server.as_user(DEV, "GET", sheets, None, "").status, 403);
    assert_eq!(server.call("DELETE", "/_workbookd/faults", &[("Authorization", DEV)], b"").status, 204);
    assert_eq!(server.as_user(DEV, "GET", sheets, None, "").status, 200);
}

#[test]
fn injected_session_faults_expire_sessions_and_force_polling() {
    let server = Server::start(&[]);
    let item = server.upload(DEV, "Book.xlsx", &book());
    let session = server.session(DEV, &item, true);
    let sheets = format!("/v1.0/me/drive/items/{item}/workbook/worksheets");
    let put = |body: &str| {
        server.call(
            "PUT",
            "/_workbookd/faults",
            &[("Content-Type", "application/json"), ("Authorization", DEV)],
            body.as_bytes(),
        )
    };
    assert_eq!(put(r#"[{"fault":"sessionExpired","path":"*/workbook/worksheets","times":1}]"#).status, 200);
    // A sessionless call passes; the call in the session finds it expired, and it stays so.
    assert_eq!(server.as_user(DEV, "GET", &sheets, None, "").status, 200);
    let r = server.as_user(DEV, "GET", &sheets, Some(&session), "");
    assert_eq!(r.error(), (404, "notFound".to_string(), "invalidSessionReCreatable".to_string()));
    let r = server.as_user(DEV, "GET", &sheets, Some(&session), "");
    assert_eq!(r.error().2, "invalidSessionReCreatable", "the session really ended");
    assert_eq!(state(&server)["sessions"].as_array().unwrap().len(), 0);

    // createSession with Prefer: respond-async answers 202 and is polled to its session.
    assert_eq!(put(r#"[{"fault":"asyncSession","path":"*/createSession"}]"#).status, 200);
    let create = format!("/v1.0/me/drive/items/{item}/workbook/createSession");
    let r = server.call(
        "POST",
        &create,
        &[("Authorization", DEV), ("Content-Type", "application/json"), ("Prefer", "respond-async")],
        br#"{"persistChanges":true}"#,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let location = r.header("location").unwrap().to_string();
    let path = location.split_once(&server.addr).map(|(_, p)| p.to_string()).unwrap();
    let mut status = String::new();
    for _ in 0..100 {
        let op = server.as_user(DEV, "GET", &path, None, "").json();
        status = op["status"].as_str().unwrap_or_default().to_string();
        if status == "succeeded" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(status, "succeeded");
    // Without Prefer, createSession answers 201 as usual.
    assert_eq!(server.as_user(DEV, "POST", &create, None, r#"{"persistChanges":true}"#).status, 201);
}
