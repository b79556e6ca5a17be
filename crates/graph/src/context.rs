//! What every request carries through the layers: the server's configuration, the application
//! state (`App`), a request's context (`Ctx`), its ids, and the one place errors become
//! responses. Handlers, the batch runner and the control plane build on this; nothing here
//! knows them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use host::Host;

use crate::auth::{AuthMode, Principal};
use crate::error::{Code, GraphError};
use crate::resolve::ApiVersion;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");

pub(crate) const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// `Server: workbookd/{version}` on every response, so a client's logs show what answered.
pub(crate) const SERVER: HeaderValue = HeaderValue::from_static(concat!("workbookd/", env!("CARGO_PKG_VERSION")));

/// How the server answers, beyond what the host decides.
#[derive(Clone)]
pub struct ServerConfig {
    pub auth: AuthMode,
    /// URLs the server hands out (Location, downloadUrl) use https.
    pub https: bool,
    /// Largest upload (`PUT …/content`), in bytes. Graph's simple upload allows 250 MB.
    pub max_upload_bytes: usize,
    /// Largest JSON body of a workbook call, in bytes.
    pub max_json_bytes: usize,
    /// Most cells one range read returns (more: 400 `rangeExceedsLimit`).
    pub max_read_cells: u64,
    /// Most cells one range write changes.
    pub max_write_cells: u64,
    /// `/_workbookd/state` and `/_workbookd/reset` answer (otherwise 404): they show and drop
    /// every user's data, so they are for emulators, not shared servers.
    pub control_plane: bool,
    /// A folder and the drive owner it fills (`--seed`): seeded again after a reset.
    pub seed: Option<(std::path::PathBuf, String)>,
    /// Fault-injection rules in force at start (`--faults FILE`).
    pub faults: Vec<crate::faults::FaultRule>,
    /// How long a request may run once its body is read: then 504 `gatewayTimeout`. A write
    /// still running goes on to completion (applied fully, or not at all if it had not started).
    pub request_timeout: std::time::Duration,
    /// How long a request's body may stall (no bytes arriving): then 408 `requestTimeout`.
    pub body_timeout: std::time::Duration,
    /// Requests each user may make (Graph's throttling; off when `None`).
    pub throttle_user: Option<crate::throttle::Budget>,
    /// Requests each client application (`azp`) may make per tenant.
    pub throttle_app: Option<crate::throttle::Budget>,
    /// Host names served besides IP literals and `localhost` while tokens are not verified and
    /// on the control plane (`--allowed-host`): the guard against DNS rebinding.
    pub allowed_hosts: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            auth: AuthMode::Dev,
            https: false,
            max_upload_bytes: 250 * 1024 * 1024,
            max_json_bytes: 16 * 1024 * 1024,
            max_read_cells: crate::range::DEFAULT_MAX_READ_CELLS,
            max_write_cells: crate::range::DEFAULT_MAX_WRITE_CELLS,
            control_plane: true,
            seed: None,
            faults: Vec::new(),
            request_timeout: std::time::Duration::from_secs(120),
            body_timeout: std::time::Duration::from_secs(60),
            throttle_user: None,
            throttle_app: None,
            allowed_hosts: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct App {
    pub host: Arc<Host>,
    pub config: Arc<ServerConfig>,
    /// Signs pre-authenticated download URLs; new at every start, so old links die with it.
    pub download_key: Arc<[u8]>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub faults: Arc<crate::faults::Faults>,
    pub throttle: Arc<crate::throttle::Throttle>,
}

/// The `request-id` given to a request and the `client-request-id` echoed back (the request id
/// when the client sent none), as Graph sets them on every response.
pub(crate) struct RequestIds {
    request_id: HeaderValue,
    client_request_id: HeaderValue,
}

impl RequestIds {
    pub(crate) fn of(request: &Request) -> RequestIds {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
        let request_id = HeaderValue::from_str(text).expect("a uuid is a valid header value");
        let client_request_id = request
            .headers()
            .get(&CLIENT_REQUEST_ID)
            .filter(|v| v.to_str().is_ok_and(|v| !v.is_empty()) && v.len() <= 256)
            .cloned()
            .unwrap_or_else(|| request_id.clone());
        RequestIds { request_id, client_request_id }
    }

    /// Renders an error's body with the ids (errors are rendered here, in one place) and sets
    /// the id headers. `Date` is hyper's, which stamps every response.
    pub(crate) fn stamp(self, response: Response) -> Response {
        let mut response = match response.extensions().get::<GraphError>().cloned() {
            Some(error) => {
                let text = |v: &HeaderValue| v.to_str().unwrap_or_default().to_string();
                let body = error.envelope(
                    &iso_date(SystemTime::now()),
                    &text(&self.request_id),
                    &text(&self.client_request_id),
                );
                let (mut parts, _) = response.into_parts();
                parts.headers.remove(header::CONTENT_LENGTH);
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                Response::from_parts(parts, Body::from(bytes))
            }
            None => response,
        };
        let headers = response.headers_mut();
        headers.insert(REQUEST_ID, self.request_id);
        headers.insert(CLIENT_REQUEST_ID, self.client_request_id);
        headers.insert(header::SERVER, SERVER);
        response
    }
}

/// Everything a handler needs to know about its request.
pub(crate) struct Ctx {
    pub app: App,
    pub who: Arc<Principal>,
    pub version: ApiVersion,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub query: HashMap<String, String>,
    /// The OData options of a GET (`$select`, `$top`, …), checked.
    pub odata: crate::odata::QueryOptions,
    /// A fault rule forces createSession to answer 202.
    pub force_async: bool,
    pub body: Bytes,
}

impl Ctx {
    pub fn version_str(&self) -> &'static str {
        match self.version {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }

    /// `http://host:port`, as the client addressed us.
    pub fn base(&self) -> String {
        let (scheme, host) = self.scheme_and_host();
        format!("{scheme}://{host}")
    }

    fn scheme_and_host(&self) -> (&'static str, &str) {
        let scheme = if self.app.config.https { "https" } else { "http" };
        (scheme, self.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost"))
    }

    /// The request path, for URLs relative to it.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    }

    /// `$select=a,b` of a GET.
    pub fn select(&self) -> Option<&[String]> {
        self.odata.select.as_deref()
    }

    /// This request's URL without its query, for `@odata.nextLink`.
    pub fn url(&self) -> String {
        format!("{}{}", self.base(), self.path())
    }

    pub fn odata_context(&self, what: &str) -> String {
        let (scheme, host) = self.scheme_and_host();
        format!("{scheme}://{host}/{}/$metadata#{what}", self.version_str())
    }
}

/// DNS rebinding: a page on another site whose name now resolves to this machine reaches the
/// server with that name in `Host`. IP literals and `localhost` names cannot be rebound; other
/// names are served only when `--allowed-host` lists them.
pub(crate) fn check_host(config: &ServerConfig, headers: &HeaderMap) -> Result<(), GraphError> {
    let Some(host) = headers.get(header::HOST) else { return Ok(()) };
    let refused = |shown: &str| {
        GraphError::new(
            Code::AccessDenied,
            None,
            format!("This server does not answer to the host name '{shown}' (see --allowed-host)."),
        )
    };
    let host = host.to_str().map_err(|_| refused("?"))?.trim();
    if host.starts_with('[') {
        return Ok(()); // an IPv6 literal
    }
    let name = host.rsplit_once(':').map_or(
        host,
        |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        },
    );
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let allowed = name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
        || config.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&name));
    if allowed {
        Ok(())
    } else {
        Err(refused(&name))
    }
}

/// An error response. Its body is rendered with the request ids by `RequestIds::stamp`.
pub(crate) fn error_response(error: &GraphError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(error.envelope("", "", ""))).into_response();
    if let Some(seconds) = error.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response.extensions_mut().insert(error.clone());
    response
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, the form of Graph's `innerError.date`.
pub fn iso_date(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    #[test]
    fn iso_dates() {
        assert_eq!(super::iso_date(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_852_800);
        assert_eq!(super::iso_date(t), "2026-11-28T08:00:00");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_868_799);
        assert_eq!(super::iso_date(leap), "2000-02-29T23:59:59");
    }
}
