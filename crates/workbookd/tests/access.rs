//! Access control as an attacker tries it: user B (and an application token) aims every route
//! family at user A's item id, path, drive id and session. Every attempt is refused with 403 or
//! 404, answered exactly as the same attempt at something that does not exist (so nothing is
//! revealed), and A's data stays as it was. Then the token checks of verified mode, over HTTP.

mod support;

use serde_json::json;
use support::{book, dev_token, signed_token, user, Server};

/// The route families, relative to an item's address: method, path suffix, JSON body.
const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "", ""),
    ("GET", "/content", ""),
    ("PUT", "/content", "<file>"),
    ("DELETE", "", ""),
    ("GET", "/children", ""),
    ("POST", "/workbook/createSession", r#"{"persistChanges":true}"#),
    ("POST", "/workbook/refreshSession", ""),
    ("POST", "/workbook/closeSession", ""),
    ("GET", "/workbook/worksheets", ""),
    ("POST", "/workbook/worksheets/add", r#"{"name":"Evil"}"#),
    ("GET", "/workbook/worksheets/Sheet1/range(address='A1')", ""),
    ("PATCH", "/workbook/worksheets/Sheet1/range(address='A1')", r#"{"values":[[666]]}"#),
    ("GET", "/workbook/worksheets/Sheet1/usedRange", ""),
    ("GET", "/workbook/tables", ""),
    ("POST", "/workbook/tables/add", r#"{"address":"Sheet1!A1:B2","hasHeaders":true}"#),
    ("GET", "/workbook/names", ""),
    ("POST", "/workbook/names/add", r#"{"name":"Evil","reference":"=Sheet1!$A$1"}"#),
    ("POST", "/workbook/functions/abs", r#"{"number":-1}"#),
    ("POST", "/workbook/application/calculate", r#"{"calculationType":"Full"}"#),
];

struct Victim {
    item: String,
    drive: String,
    session: String,
    bytes: Vec<u8>,
}

fn setup(server: &Server, alice: &str) -> Victim {
    let bytes = book();
    let item = server.upload(alice, "Secret.xlsx", &bytes);
    let meta = server.as_user(alice, "GET", &format!("/v1.0/me/drive/items/{item}"), None, "").json();
    let drive = meta["parentReference"]["driveId"].as_str().unwrap().to_string();
    let session = server.session(alice, &item, true);
    Victim { item, drive, session, bytes }
}

/// `(status, code, inner code)` of an attempt: what a caller can learn from it.
fn attempt(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
    session: Option<&str>,
) -> (u16, String, String) {
    let r = if body == "<file>" {
        server.call(method, path, &[("Authorization", token), ("Content-Type", "application/octet-stream")], &book())
    } else {
        server.as_user(token, method, path, session, body)
    };
    if r.status < 400 {
        return (r.status, String::new(), String::new());
    }
    r.error()
}

#[test]
fn another_user_and_an_app_reach_nothing_of_alices_and_learn_nothing() {
    let server = Server::start(&[]);
    let alice = user("alice");
    let victim = setup(&server, &alice);
    let bob = user("bob");
    let bobs_item = server.upload(&bob, "Mine.xlsx", &book());
    let app = dev_token(&json!({"oid": "daemon", "tid": "t1", "roles": ["Files.ReadWrite.All"], "idtyp": "app"}));
    let fake_item = "01FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE";
    let fake_drive = "b!ZmFrZWRyaXZlZmFrZWRyaXZlZmFrZWRyaXZl";
    let (item, drive) = (victim.item.as_str(), victim.drive.as_str());
    // Each row: how the attacker addresses Alice's file, then the same address at nothing.
    let addressings: Vec<(String, Vec<String>)> = vec![
        (format!("/v1.0/me/drive/items/{item}"), vec![format!("/v1.0/me/drive/items/{fake_item}")]),
        (
            format!("/v1.0/drives/{drive}/items/{item}"),
            vec![
                format!("/v1.0/drives/{drive}/items/{fake_item}"),
                format!("/v1.0/drives/{fake_drive}/items/{fake_item}"),
            ],
        ),
        (
            format!("/v1.0/users/alice@example.com/drive/items/{item}"),
            vec![
                format!("/v1.0/users/alice@example.com/drive/items/{fake_item}"),
                format!("/v1.0/users/nobody@example.com/drive/items/{fake_item}"),
            ],
        ),
        (format!("/v1.0/users/alice/drive/items/{item}"), vec![format!("/v1.0/users/nobody/drive/items/{fake_item}")]),
        (
            "/v1.0/users/alice@example.com/drive/root:/Secret.xlsx:".to_string(),
            vec![
                "/v1.0/users/alice@example.com/drive/root:/Nothing.xlsx:".to_string(),
                "/v1.0/users/nobody@example.com/drive/root:/Secret.xlsx:".to_string(),
            ],
        ),
        (
            format!("/v1.0/drives/{drive}/root:/Secret.xlsx:"),
            vec![
                format!("/v1.0/drives/{drive}/root:/Nothing.xlsx:"),
                format!("/v1.0/drives/{fake_drive}/root:/Secret.xlsx:"),
            ],
        ),
    ];
    let mut cells = 0;
    let mut sessions = 0;
    for (who, token) in [("bob", &bob), ("app", &app)] {
        for (real, fakes) in &addressings {
            for (method, suffix, body) in ROUTES {
                // Session routes carry Alice's session id: her session, her file.
                let session = suffix.contains("Session").then_some(victim.session.as_str());
                let got = attempt(&server, token, method, &format!("{real}{suffix}"), body, session);
                assert!(got.0 == 403 || got.0 == 404, "{who} {method} {real}{suffix}: {got:?}");
                for fake in fakes {
                    let unknown = attempt(&server, token, method, &format!("{fake}{suffix}"), body, session);
                    assert_eq!(got, unknown, "{who} {method} {real}{suffix} answers unlike {fake}{suffix}");
                }
                cells += 1;
            }
        }
    }
    // Alice's session id on Bob's own file, on every workbook route: as unknown as a made-up id.
    for (method, suffix, body) in ROUTES.iter().filter(|r| r.1.starts_with("/workbook/")) {
        let path = format!("/v1.0/me/drive/items/{bobs_item}{suffix}");
        let stolen = attempt(&server, &bob, method, &path, body, Some(&victim.session));
        let made_up = attempt(&server, &bob, method, &path, body, Some("cluster=X&session=made-up"));
        assert_eq!(stolen, made_up, "{method} {suffix} with Alice's session");
        if !suffix.contains("createSession") && !suffix.contains("functions") {
            assert_eq!((stolen.0, stolen.2.as_str()), (404, "invalidSessionReCreatable"), "{method} {suffix}");
        }
        sessions += 1;
    }
    // A $batch is no way around it.
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/drives/{drive}/items/{item}/workbook/worksheets")},
        {"id": "2", "method": "PATCH", "url": format!("/users/alice@example.com/drive/items/{item}/workbook/worksheets/Sheet1/range(address='A1')"),
         "headers": {"Content-Type": "application/json"}, "body": {"values": [[666]]}},
    ]});
    let r = server.as_user(&bob, "POST", "/v1.0/$batch", None, &batch.to_string());
    for item in r.json()["responses"].as_array().unwrap() {
        assert!(matches!(item["status"].as_u64(), Some(403 | 404)), "{item}");
    }
    // Alice's file, and her session, are as they were.
    assert_eq!(server.download(&alice, item), victim.bytes);
    let r = server.as_user(
        &alice,
        "POST",
        &format!("/v1.0/me/drive/items/{item}/workbook/refreshSession"),
        Some(&victim.session),
        "",
    );
    assert_eq!(r.status, 204, "Alice's session survived");
    let r = server.as_user(&alice, "GET", &format!("/v1.0/me/drive/items/{item}/workbook/worksheets"), None, "");
    let names: Vec<String> =
        r.json()["value"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Sheet1", "Sheet 2"]);
    println!(
        "access matrix: {cells} attempts at Alice's file refused, each answered as the same attempt at nothing; \
         {sessions} calls with her session id on Bob's file answered as a made-up id"
    );
}

#[test]
fn verified_mode_refuses_every_bad_token_with_401() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let jwks = format!("{fixtures}/jwks.json");
    let server = Server::start(&[
        "--auth",
        "jwt",
        "--jwks",
        &jwks,
        "--audience",
        "api://workbookd",
        "--issuer",
        "https://issuer.example",
    ]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = |patch: serde_json::Value| {
        let mut c = json!({"oid": "carol", "tid": "t1", "scp": "Files.ReadWrite", "aud": "api://workbookd",
                           "iss": "https://issuer.example", "exp": now + 600, "nbf": now - 60});
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let kid = jwks_kid(&jwks, "RSA");
    let good = signed_token(jsonwebtoken::Algorithm::RS256, &kid, &claims(json!({})));
    let ok = server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &good)], b"");
    assert_eq!(ok.status, 200, "{}", ok.text());
    let rsa = |c: serde_json::Value| signed_token(jsonwebtoken::Algorithm::RS256, &kid, &c);
    // The public key's modulus used as an HS256 secret under the RSA key's id (algorithm confusion).
    let jwks_json: serde_json::Value = serde_json::from_slice(&std::fs::read(&jwks).unwrap()).unwrap();
    let modulus = jwks_json["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap()["n"]
        .as_str()
        .unwrap()
        .to_string();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.clone());
    let secret = jsonwebtoken::EncodingKey::from_secret(modulus.as_bytes());
    let confused = format!("Bearer {}", jsonwebtoken::encode(&header, &claims(json!({})), &secret).unwrap());
    let parts: Vec<&str> = good.trim_start_matches("Bearer ").split('.').collect();
    // The payload changed after signing (another user), and a signature that is not the token's.
    let other = dev_token(&claims(json!({"oid": "mallory"})));
    let other_payload = other.trim_start_matches("Bearer ").split('.').nth(1).unwrap().to_string();
    let tampered = format!("Bearer {}.{other_payload}.{}", parts[0], parts[2]);
    let mut signature = parts[2].to_string();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    signature.replace_range(0..1, flipped);
    let wrong_signature = format!("Bearer {}.{}.{signature}", parts[0], parts[1]);
    let cases: Vec<(&str, String)> = vec![
        ("expired", rsa(claims(json!({"exp": now - 600})))),
        ("not yet valid", rsa(claims(json!({"nbf": now + 600})))),
        ("wrong audience", rsa(claims(json!({"aud": "api://other"})))),
        ("wrong issuer", rsa(claims(json!({"iss": "https://evil.example"})))),
        ("no expiry", rsa(claims(json!({"exp": null})))),
        ("wrong signature", wrong_signature),
        ("payload swapped", tampered),
        ("alg none", dev_token(&claims(json!({})))),
        ("unknown key id", signed_token(jsonwebtoken::Algorithm::RS256, "no-such-kid", &claims(json!({})))),
        ("opaque", "Bearer not-a-jwt".to_string()),
        ("empty", "Bearer ".to_string()),
        ("HS256 keyed with the RSA public key", confused),
    ];
    for (what, token) in &cases {
        for path in ["/v1.0/me/drive/root/children", "/v1.0/me/drive/root:/x.xlsx:/workbook/worksheets"] {
            let r = server.call("GET", path, &[("Authorization", token)], b"");
            assert_eq!(
                (r.status, r.error().1.as_str()),
                (401, "InvalidAuthenticationToken"),
                "{what} on {path}: {}",
                r.text()
            );
        }
    }
}

/// The `kid` of the first key of a kind in a JWKS file.
fn jwks_kid(path: &str, kty: &str) -> String {
    let jwks: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jwks["keys"].as_array().unwrap().iter().find(|k| k["kty"] == kty).unwrap()["kid"].as_str().unwrap().to_string()
}
