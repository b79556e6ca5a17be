//! Verified auth through an OIDC issuer: the server discovers the issuer's `jwks_uri` over HTTPS,
//! verifies tokens with its keys, and fetches the keys again when a token names a new key id.
//! The issuer here is a small HTTPS server in the test, trusted through `SSL_CERT_FILE`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use support::{book, signed_token, Server};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A test identity provider: serves a discovery document and a key set that the test can change.
struct Issuer {
    url: String,
    cert_file: tempfile::NamedTempFile,
    jwks: Arc<Mutex<Value>>,
    jwks_fetches: Arc<AtomicUsize>,
}

impl Issuer {
    /// `named_issuer` is what the discovery document claims; `None` means its own URL.
    fn start(jwks: Value, named_issuer: Option<&str>) -> Issuer {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let mut cert_file = tempfile::NamedTempFile::new().unwrap();
        cert_file.write_all(made.cert.pem().as_bytes()).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(made.signing_key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let discovery = json!({
            "issuer": named_issuer.unwrap_or(&url),
            "jwks_uri": format!("{url}/discovery/v2.0/keys"),
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        });
        let jwks = Arc::new(Mutex::new(jwks));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let (served, fetches) = (jwks.clone(), jwks_fetches.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                let Ok(connection) = rustls::ServerConnection::new(config.clone()) else { continue };
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => break,
                    }
                }
                let line = String::from_utf8_lossy(&request).lines().next().unwrap_or("").to_string();
                let (status, body) = match line.split_whitespace().nth(1) {
                    Some("/.well-known/openid-configuration") => ("200 OK", discovery.to_string()),
                    Some("/discovery/v2.0/keys") => {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        ("200 OK", served.lock().unwrap().to_string())
                    }
                    _ => ("404 Not Found", "{}".to_string()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).and_then(|_| tls.write_all(body.as_bytes()));
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        Issuer { url, cert_file, jwks, jwks_fetches }
    }

    fn trust(&self) -> (&'static str, String) {
        ("SSL_CERT_FILE", self.cert_file.path().to_string_lossy().to_string())
    }
}

/// The fixture JWKS, keeping only the keys with these ids.
fn fixture_keys(kids: &[&str]) -> Value {
    let all: Value = serde_json::from_slice(&std::fs::read(format!("{FIXTURES}/jwks.json")).unwrap()).unwrap();
    let keys: Vec<Value> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| kids.contains(&k["kid"].as_str().unwrap()))
        .cloned()
        .collect();
    json!({ "keys": keys })
}

fn sign(alg: jsonwebtoken::Algorithm, kid: &str, issuer: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({"oid": "erin", "tid": "t1", "scp": "Files.ReadWrite", "exp": now + 600, "iss": issuer, "aud": "api://workbookd"});
    signed_token(alg, kid, &claims)
}

#[test]
fn keys_come_from_the_issuers_discovery_document_and_roll_over() {
    let issuer = Issuer::start(fixture_keys(&["test-ec"]), None);
    let (k, v) = issuer.trust();
    let server = Server::start_with_env(
        &["--auth", "jwt", "--issuer", &issuer.url, "--audience", "api://workbookd"],
        &[(k, &v)],
    );
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 1, "keys are fetched once at start");

    let es256 = sign(jsonwebtoken::Algorithm::ES256, "test-ec", &issuer.url);
    let item = server.upload(&es256, "Book.xlsx", &book());
    server.session(&es256, &item, true);

    // The issuer rolls over to a new key: a token naming it makes the server fetch the keys again.
    *issuer.jwks.lock().unwrap() = fixture_keys(&["test-ec", "test-1"]);
    let rs256 = sign(jsonwebtoken::Algorithm::RS256, "test-1", &issuer.url);
    let r = server.call("GET", &format!("/v1.0/me/drive/items/{item}"), &[("Authorization", &rs256)], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 2);

    // A key id the issuer does not publish: one more fetch, then 401; asking again does not refetch.
    let unknown = sign(jsonwebtoken::Algorithm::RS256, "made-up", &issuer.url);
    for _ in 0..3 {
        let r = server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &unknown)], b"");
        assert_eq!((r.status, r.json()["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")));
    }
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 3);

    // Signature, issuer and audience are still checked on keys from discovery.
    let other_issuer = sign(jsonwebtoken::Algorithm::ES256, "test-ec", "https://elsewhere.test");
    let r = server.call("GET", "/v1.0/me/drive/root/children", &[("Authorization", &other_issuer)], b"");
    assert_eq!(r.status, 401);
}

#[test]
fn a_discovery_document_speaking_for_another_issuer_is_refused_at_start() {
    let issuer = Issuer::start(fixture_keys(&["test-ec"]), Some("https://impostor.test"));
    let (k, v) = issuer.trust();
    let (code, stderr) = Server::refused(&["--auth", "jwt", "--issuer", &issuer.url], &[(k, &v)]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("impostor.test"), "{stderr}");
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 0);
}

#[test]
fn an_issuer_whose_certificate_is_not_trusted_is_refused_at_start() {
    let issuer = Issuer::start(fixture_keys(&["test-ec"]), None);
    // Trust some other certificate only.
    let stranger = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(stranger.cert.pem().as_bytes()).unwrap();
    let path = file.path().to_string_lossy().to_string();
    let (code, stderr) = Server::refused(&["--auth", "jwt", "--issuer", &issuer.url], &[("SSL_CERT_FILE", &path)]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("openid-configuration"), "{stderr}");
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 0);
}
