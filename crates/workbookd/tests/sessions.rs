//! The session lifecycle against the real server: every row of the issue's Sessions section and
//! of decisions.md's Sessions table, one test each.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{book, cell, user, Server};

fn wb(item: &str) -> String {
    format!("/v1.0/me/drive/items/{item}/workbook")
}

fn setup(server: &Server) -> (String, String) {
    let alice = user("alice");
    let item = server.upload(&alice, "Book.xlsx", &book());
    (alice, item)
}

fn patch_a1(server: &Server, token: &str, item: &str, session: Option<&str>, n: i64) -> u16 {
    let body = format!("{{\"values\":[[{n}]]}}");
    server
        .as_user(token, "PATCH", &format!("{}/worksheets/Sheet1/range(address='A1')", wb(item)), session, &body)
        .status
}

fn read_a3(server: &Server, token: &str, item: &str, session: Option<&str>) -> Value {
    let r = server.as_user(token, "GET", &format!("{}/worksheets/Sheet1/range(address='A3')", wb(item)), session, "");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["values"][0][0].clone()
}

#[test]
fn create_session_answers_201_with_session_info() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    for persist in [true, false] {
        let r = server.as_user(
            &alice,
            "POST",
            &format!("{}/createSession", wb(&item)),
            None,
            &format!("{{\"persistChanges\":{persist}}}"),
        );
        assert_eq!(r.status, 201);
        let v = r.json();
        assert_eq!(v["persistChanges"], persist);
        assert!(v["@odata.context"].as_str().unwrap().ends_with("/v1.0/$metadata#microsoft.graph.workbookSessionInfo"));
        assert!(v["id"].is_string());
    }
}

#[test]
fn empty_body_braces_or_no_persist_changes_make_a_persistent_session() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    for (body, content_type) in
        [("", None), ("{}", Some("application/json")), ("{ }", None), (r#"{"other":1}"#, Some("Application/Json"))]
    {
        let mut headers = vec![("Authorization", alice.as_str())];
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        let r = server.call("POST", &format!("{}/createSession", wb(&item)), &headers, body.as_bytes());
        assert_eq!((r.status, r.json()["persistChanges"].as_bool()), (201, Some(true)), "{body:?}");
    }
}

#[test]
fn persist_changes_must_be_a_boolean() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    for body in [r#"{"persistChanges":"yes"}"#, r#"{"persistChanges":1}"#, r#"{"persistChanges":"true"}"#] {
        let r = server.as_user(&alice, "POST", &format!("{}/createSession", wb(&item)), None, body);
        assert_eq!(r.error(), (400, "badRequest".into(), "invalidArgument".into()), "{body}");
    }
    assert_eq!(server.call("GET", "/_workbookd/health", &[], b"").json()["sessions"], 0);
}

#[test]
fn session_ids_are_opaque_url_safe_and_random() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let a = server.session(&alice, &item, true);
    let b = server.session(&alice, &item, true);
    assert_ne!(a, b);
    assert!(a.len() >= 32 && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)), "{a}");
    assert!(!a.contains("alice") && !a.contains(&item));
}

#[test]
fn respond_async_answers_201_when_the_workbook_opens_quickly() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let r = server.call(
        "POST",
        &format!("{}/createSession", wb(&item)),
        &[("Authorization", &alice), ("Prefer", "respond-async"), ("Content-Type", "application/json")],
        br#"{"persistChanges":true}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json()["id"].is_string());
}

#[test]
fn forced_async_answers_202_and_the_operation_leads_to_the_session() {
    let server = Server::start(&["--force-async-sessions"]);
    let (alice, item) = setup(&server);
    let r = server.call(
        "POST",
        &format!("{}/createSession", wb(&item)),
        &[("Authorization", &alice), ("Prefer", "respond-async"), ("Content-Type", "application/json")],
        br#"{"persistChanges":false}"#,
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let location = r.header("location").expect("Location").to_string();
    let path = location.split_once(&server.addr).unwrap().1.to_string();
    assert!(path.starts_with(&format!("{}/operations/", wb(&item))), "{path}");
    let mut op = Value::Null;
    for _ in 0..100 {
        let poll = server.as_user(&alice, "GET", &path, None, "");
        assert_eq!(poll.status, 200);
        op = poll.json();
        let status = op["status"].as_str().unwrap().to_string();
        assert!(["notStarted", "running", "succeeded", "failed"].contains(&status.as_str()), "{status}");
        if status == "succeeded" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(op["status"], "succeeded");
    let resource = op["resourceLocation"].as_str().unwrap();
    assert!(resource.contains("/workbook/sessionInfoResource(key='"), "{resource}");
    let info = server.as_user(&alice, "GET", resource.split_once(&server.addr).unwrap().1, None, "");
    assert_eq!(info.status, 200, "{}", info.text());
    let info = info.json();
    assert_eq!(info["persistChanges"], false);
    assert_ne!(info["id"], op["id"], "the operation id is not the session id");
    let session = info["id"].as_str().unwrap();
    let refresh = server.as_user(&alice, "POST", &format!("{}/refreshSession", wb(&item)), Some(session), "");
    assert_eq!(refresh.status, 204);
    // Without Prefer the same server answers 201 at once.
    assert!(!server.session(&alice, &item, true).is_empty());
}

#[test]
fn refresh_and_close_take_no_body_an_empty_body_or_braces() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    for (op, body, ct) in [
        ("refreshSession", "", None),
        ("refreshSession", "{}", Some("application/json")),
        ("refreshSession", "{}", None),
        ("closeSession", "{ }", Some("application/json")),
    ] {
        let s = server.session(&alice, &item, true);
        let mut headers = vec![("Authorization", alice.as_str()), ("workbook-session-id", s.as_str())];
        if let Some(ct) = ct {
            headers.push(("Content-Type", ct));
        }
        let r = server.call("POST", &format!("{}/{op}", wb(&item)), &headers, body.as_bytes());
        assert_eq!((r.status, r.body.len()), (204, 0), "{op} {body:?} {ct:?}");
    }
}

#[test]
fn refresh_and_close_without_the_header_are_400_naming_it() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    for op in ["refreshSession", "closeSession"] {
        let r = server.as_user(&alice, "POST", &format!("{}/{op}", wb(&item)), None, "{}");
        assert_eq!(r.error(), (400, "badRequest".into(), "badRequestUncategorized".into()));
        assert!(r.json()["error"]["message"].as_str().unwrap().contains("workbook-session-id"));
    }
}

#[test]
fn the_session_header_is_case_insensitive() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let s = server.session(&alice, &item, false);
    let body = br#"{"values":[[50]]}"#;
    let r = server.call(
        "PATCH",
        &format!("{}/worksheets/Sheet1/range(address='A1')", wb(&item)),
        &[("Authorization", &alice), ("WORKBOOK-SESSION-ID", &s), ("Content-Type", "application/json")],
        body,
    );
    assert_eq!(r.status, 200);
    // The write went to the non-persistent session, so the header was read.
    assert_eq!(read_a3(&server, &alice, &item, Some(&s)), 52);
    assert_eq!(read_a3(&server, &alice, &item, None), 3);
}

#[test]
fn unknown_expired_or_closed_ids_are_404_recreatable_on_any_call() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let calls = ["refreshSession", "closeSession"];
    for op in calls {
        let r = server.as_user(&alice, "POST", &format!("{}/{op}", wb(&item)), Some("no-such-session"), "");
        assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionReCreatable".into()), "{op}");
    }
    let r = server.as_user(&alice, "GET", &format!("{}/worksheets", wb(&item)), Some("no-such-session"), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionReCreatable".into()));
    assert_eq!(patch_a1(&server, &alice, &item, Some("no-such-session"), 9), 404);
    assert_eq!(read_a3(&server, &alice, &item, None), 3, "a refused write changed nothing");
}

#[test]
fn another_users_session_or_another_file_is_the_same_404() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let other_item = server.upload(&alice, "Other.xlsx", &book());
    let bob = user("bob");
    let bob_item = server.upload(&bob, "Book.xlsx", &book());
    let s = server.session(&alice, &item, true);
    let r = server.as_user(&bob, "POST", &format!("{}/refreshSession", wb(&bob_item)), Some(&s), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionReCreatable".into()));
    let r = server.as_user(&alice, "POST", &format!("{}/refreshSession", wb(&other_item)), Some(&s), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionReCreatable".into()));
    // The session itself is unharmed.
    assert_eq!(server.as_user(&alice, "POST", &format!("{}/refreshSession", wb(&item)), Some(&s), "").status, 204);
}

#[test]
fn close_twice_is_204_then_404() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let s = server.session(&alice, &item, true);
    let close = || server.as_user(&alice, "POST", &format!("{}/closeSession", wb(&item)), Some(&s), "");
    assert_eq!(close().status, 204);
    assert_eq!(close().error(), (404, "notFound".into(), "invalidSessionReCreatable".into()));
}

#[test]
fn deleting_the_file_ends_its_sessions_as_not_found() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let s = server.session(&alice, &item, true);
    let del = server.call("DELETE", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &alice)], b"");
    assert_eq!(del.status, 204);
    let r = server.as_user(&alice, "GET", &format!("{}/worksheets", wb(&item)), Some(&s), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionNotFound".into()));
    let r = server.as_user(&alice, "POST", &format!("{}/refreshSession", wb(&item)), Some(&s), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionNotFound".into()));
}

#[test]
fn replacing_the_content_ends_its_sessions_as_recreatable() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let s = server.session(&alice, &item, true);
    assert_eq!(patch_a1(&server, &alice, &item, Some(&s), 100), 200);
    let put =
        server.call("PUT", &format!("/v1.0/me/drive/items/{item}/content"), &[("Authorization", &alice)], &book());
    assert_eq!(put.status, 200);
    let r = server.as_user(&alice, "GET", &format!("{}/worksheets", wb(&item)), Some(&s), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionReCreatable".into()));
    // The new content is what a new session sees.
    let s2 = server.session(&alice, &item, true);
    assert_eq!(read_a3(&server, &alice, &item, Some(&s2)), 3);
}

#[test]
fn idle_sessions_expire_sliding_and_persistent_ones_lose_nothing() {
    let server = Server::start(&["--persistent-session-idle", "2s", "--nonpersistent-session-idle", "2s"]);
    let (alice, item) = setup(&server);
    let kept = server.session(&alice, &item, true);
    let idle = server.session(&alice, &item, true);
    assert_eq!(patch_a1(&server, &alice, &item, Some(&idle), 40), 200);
    // Activity on `kept` (requests and refreshes) keeps it alive past the idle time.
    for i in 0..6 {
        std::thread::sleep(Duration::from_millis(500));
        if i % 2 == 0 {
            assert_eq!(
                server.as_user(&alice, "POST", &format!("{}/refreshSession", wb(&item)), Some(&kept), "").status,
                204
            );
        } else {
            read_a3(&server, &alice, &item, Some(&kept));
        }
    }
    let r = server.as_user(&alice, "POST", &format!("{}/refreshSession", wb(&item)), Some(&idle), "");
    assert_eq!(r.error(), (404, "notFound".into(), "invalidSessionReCreatable".into()));
    assert_eq!(read_a3(&server, &alice, &item, Some(&kept)), 42, "the expired session's write is kept");
    let bytes = server.download(&alice, &item);
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Float(40.0));
}

#[test]
fn expired_non_persistent_sessions_are_discarded() {
    let server = Server::start(&["--nonpersistent-session-idle", "1s"]);
    let (alice, item) = setup(&server);
    let before = server.download(&alice, &item);
    let s = server.session(&alice, &item, false);
    assert_eq!(patch_a1(&server, &alice, &item, Some(&s), 99), 200);
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(patch_a1(&server, &alice, &item, Some(&s), 98), 404);
    assert_eq!(server.download(&alice, &item), before, "the stored file never changed");
}

#[test]
fn non_persistent_sessions_never_reach_the_stored_file() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let before = server.download(&alice, &item);
    let s = server.session(&alice, &item, false);
    assert_eq!(patch_a1(&server, &alice, &item, Some(&s), 5), 200);
    assert_eq!(read_a3(&server, &alice, &item, Some(&s)), 7);
    assert_eq!(server.as_user(&alice, "POST", &format!("{}/closeSession", wb(&item)), Some(&s), "").status, 204);
    assert_eq!(server.download(&alice, &item), before);
}

#[test]
fn persistent_sessions_and_sessionless_calls_share_one_workbook() {
    let server = Server::start(&[]);
    let (alice, item) = setup(&server);
    let s = server.session(&alice, &item, true);
    let private = server.session(&alice, &item, false);
    assert_eq!(patch_a1(&server, &alice, &item, Some(&s), 20), 200);
    assert_eq!(read_a3(&server, &alice, &item, None), 22, "sessionless sees the persistent session's write");
    assert_eq!(patch_a1(&server, &alice, &item, None, 30), 200);
    assert_eq!(read_a3(&server, &alice, &item, Some(&s)), 32, "and the other way round");
    assert_eq!(read_a3(&server, &alice, &item, Some(&private)), 3, "a copy taken before sees neither");
    let bytes = server.download(&alice, &item);
    assert_eq!(cell(&bytes, "Sheet1", 0, 0), calamine::Data::Float(30.0));
}

#[test]
fn operation_ids_of_other_users_are_not_found() {
    let server = Server::start(&["--force-async-sessions"]);
    let (alice, item) = setup(&server);
    let r = server.call(
        "POST",
        &format!("{}/createSession", wb(&item)),
        &[("Authorization", &alice), ("Prefer", "respond-async")],
        b"",
    );
    let path = r.header("location").unwrap().split_once(&server.addr).unwrap().1.to_string();
    let bob = user("bob");
    // Bob cannot even reach Alice's item through his own drive.
    let other = server.as_user(&bob, "GET", &path, None, "");
    assert_eq!(other.error().0, 404);
    let unknown = server.as_user(
        &alice,
        "GET",
        &format!("{}/operations/00000000-0000-0000-0000-000000000000", wb(&item)),
        None,
        "",
    );
    assert_eq!(unknown.error(), (404, "notFound".into(), "itemNotFound".into()));
}
