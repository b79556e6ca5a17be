//! The HTTP face: one fallback service resolves every Graph path, authenticates the caller, and
//! hands the operation to its handler; errors are rendered in one place, and every response
//! carries the headers Graph sets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use host::Host;
use serde_json::json;

use crate::auth::{authenticate, AuthMode, Principal};
use crate::error::GraphError;
use crate::resolve::{resolve, ApiVersion, Operation};

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            auth: AuthMode::Dev,
            https: false,
            max_upload_bytes: 250 * 1024 * 1024,
            max_json_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub(crate) struct App {
    pub host: Arc<Host>,
    pub config: Arc<ServerConfig>,
    /// Signs pre-authenticated download URLs; new at every start, so old links die with it.
    pub download_key: Arc<[u8]>,
}

/// Identifiers of the request being answered, for error bodies.
#[derive(Clone)]
struct RequestIds {
    request_id: String,
    client_request_id: String,
}

/// Everything a handler needs to know about its request.
pub(crate) struct Ctx {
    pub app: App,
    pub who: Principal,
    pub version: ApiVersion,
    /// `http://host:port`, as the client addressed us.
    pub base: String,
    /// The request path, for URLs relative to it.
    pub path: String,
    pub headers: HeaderMap,
    pub query: HashMap<String, String>,
    pub body: Bytes,
}

impl Ctx {
    pub fn version_str(&self) -> &'static str {
        match self.version {
            ApiVersion::V1 => "v1.0",
            ApiVersion::Beta => "beta",
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    }

    /// `$select=a,b` (the `$` is optional, as on Graph's v1 endpoint).
    pub fn select(&self) -> Option<Vec<String>> {
        let raw = self.query.get("$select").or_else(|| self.query.get("select"))?;
        Some(raw.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    }

    pub fn odata_context(&self, what: &str) -> String {
        format!("{}/{}/$metadata#{what}", self.base, self.version_str())
    }
}

/// The application: control plane under `/_workbookd/`, everything else through the resolver.
pub fn router(host: Arc<Host>, config: ServerConfig) -> Router {
    let key: Vec<u8> = uuid::Uuid::new_v4().as_bytes().iter().chain(uuid::Uuid::new_v4().as_bytes()).copied().collect();
    let app = App { host, config: Arc::new(config), download_key: Arc::from(key) };
    Router::new()
        .route("/_workbookd/health", get(health))
        .route("/_workbookd/download/{token}", get(crate::handlers::download))
        .fallback(graph_request)
        .with_state(app)
        .layer(middleware::from_fn(ids_and_date))
}

async fn health(State(app): State<App>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "sessions": app.host.session_count() }))
}

fn query_map(query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| crate::resolve::decode_query_component(s);
        out.insert(decode(k).to_ascii_lowercase(), decode(v));
    }
    out
}

async fn graph_request(State(app): State<App>, method: Method, request: Request) -> Response {
    match serve(app, method, request).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

async fn serve(app: App, method: Method, request: Request) -> Result<Response, GraphError> {
    let resolved = resolve(method.as_str(), request.uri().path())?;
    let auth = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let who = authenticate(auth, &app.config.auth).await?;
    let scheme = if app.config.https { "https" } else { "http" };
    let host_header = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let base = format!("{scheme}://{host_header}");
    let path = request.uri().path().to_string();
    let query = query_map(request.uri().query());
    let limit = match &resolved.operation {
        Operation::ContentPut(_) => app.config.max_upload_bytes,
        _ => app.config.max_json_bytes,
    };
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        GraphError::new(
            413,
            "payloadTooLarge",
            Some("payloadTooLargeUncategorized"),
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    })?;
    let ctx = Ctx { app, who, version: resolved.version, base, path, headers, query, body };
    crate::handlers::dispatch(ctx, resolved.operation).await
}

/// An error response. Its body is rendered with the request ids by the middleware, in one place.
pub(crate) fn error_response(error: &GraphError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(error.envelope("", "", ""))).into_response();
    response.extensions_mut().insert(error.clone());
    response
}

fn finish_error(response: Response, ids: &RequestIds) -> Response {
    let Some(error) = response.extensions().get::<GraphError>().cloned() else { return response };
    let body = error.envelope(&iso_date(SystemTime::now()), &ids.request_id, &ids.client_request_id);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(bytes))
}

/// Gives every request a `request-id`, echoes `client-request-id` (or repeats the request id),
/// and stamps `Date`, as Graph does on every response.
async fn ids_and_date(mut request: Request<Body>, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = request
        .headers()
        .get(&CLIENT_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let ids = RequestIds { request_id: request_id.clone(), client_request_id: client_request_id.clone() };
    request.extensions_mut().insert(ids.clone());
    let response = next.run(request).await;
    let mut response = finish_error(response, &ids);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        headers.insert(CLIENT_REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        headers.insert(header::DATE, v);
    }
    response
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, the form of Graph's `innerError.date`.
pub fn iso_date(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
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

    #[test]
    fn queries_are_decoded() {
        let q = super::query_map(Some("%40microsoft.graph.conflictBehavior=fail&$select=values,text"));
        assert_eq!(q["@microsoft.graph.conflictbehavior"], "fail");
        assert_eq!(q["$select"], "values,text");
    }
}
