//! Verified auth from an OIDC issuer: `{issuer}/.well-known/openid-configuration` names the
//! `jwks_uri`, whose keys verify tokens. A small HTTPS GET on hyper's client connection, trusting the
//! system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` point it elsewhere). Plain http is accepted only
//! for loopback issuers (a local identity provider in development).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Discovery documents and key sets are small; anything larger is not one.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The issuer's key set, located once by discovery and fetched again on demand.
pub struct IssuerKeys {
    jwks_uri: Uri,
    tls: Arc<rustls::ClientConfig>,
}

impl IssuerKeys {
    /// Reads the issuer's discovery document and checks that it speaks for that issuer.
    pub async fn discover(issuer: &str) -> Result<IssuerKeys, String> {
        let tls = Arc::new(client_config()?);
        let discovery = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let body = get(&parse_uri(&discovery)?, &tls).await?;
        let document: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("{discovery} is not JSON: {e}"))?;
        // OpenID Connect Discovery 1.0 §4.3: the document's issuer must be the one asked for.
        let named = document.get("issuer").and_then(|v| v.as_str()).unwrap_or("");
        if named != issuer {
            return Err(format!("{discovery} names the issuer {named:?}, not {issuer:?}"));
        }
        let jwks_uri =
            document.get("jwks_uri").and_then(|v| v.as_str()).ok_or_else(|| format!("{discovery} has no jwks_uri"))?;
        Ok(IssuerKeys { jwks_uri: parse_uri(jwks_uri)?, tls })
    }
}

impl graph::KeySource for IssuerKeys {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            let body = get(&self.jwks_uri, &self.tls).await?;
            String::from_utf8(body).map_err(|_| format!("{} is not UTF-8", self.jwks_uri))
        })
    }
}

fn client_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A system store can hold certificates rustls cannot use; skip those, keep the rest.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(format!("no trusted root certificates found on this system ({:?})", found.errors));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

fn parse_uri(text: &str) -> Result<Uri, String> {
    let uri: Uri = text.parse().map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if uri.host().is_none() {
        return Err(format!("{text:?} names no host"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback(bare_host(&uri)) => Ok(uri),
        _ => Err(format!("{text:?}: an issuer's documents are fetched over https (http only on loopback)")),
    }
}

/// The host without the brackets of an IPv6 literal.
fn bare_host(uri: &Uri) -> &str {
    uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']')
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// GET `uri`, expecting 200 and a body of at most [`MAX_DOCUMENT_BYTES`].
async fn get(uri: &Uri, tls: &Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    tokio::time::timeout(FETCH_TIMEOUT, get_untimed(uri, tls))
        .await
        .map_err(|_| format!("GET {uri}: no answer within {FETCH_TIMEOUT:?}"))?
        .map_err(|e| format!("GET {uri}: {e}"))
}

async fn get_untimed(uri: &Uri, tls: &Arc<rustls::ClientConfig>) -> Result<Vec<u8>, String> {
    let host = bare_host(uri);
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
    if https {
        let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let stream =
            tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await.map_err(|e| e.to_string())?;
        request(uri, stream).await
    } else {
        request(uri, tcp).await
    }
}

async fn request<S>(uri: &Uri, stream: S) -> Result<Vec<u8>, String>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::ACCEPT, "application/json")
        .header(hyper::header::USER_AGENT, concat!("workbookd/", env!("CARGO_PKG_VERSION")))
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    if response.status() != hyper::StatusCode::OK {
        return Err(format!("answered {}", response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    Ok(body.to_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_fetched_over_https_or_from_loopback() {
        assert!(parse_uri("https://login.example.com/tenant/v2.0/keys").is_ok());
        assert!(parse_uri("http://127.0.0.1:8080/keys").is_ok());
        assert!(parse_uri("http://localhost/keys").is_ok());
        assert!(parse_uri("http://[::1]:9/keys").is_ok());
        assert!(parse_uri("http://login.example.com/keys").is_err());
        assert!(parse_uri("ftp://127.0.0.1/keys").is_err());
        assert!(parse_uri("/keys").is_err());
    }
}
