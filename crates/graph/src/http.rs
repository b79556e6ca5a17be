//! The HTTP face: one fallback service resolves every Graph path, authenticates the caller, and
//! hands the operation to its handler; errors are rendered in one place, and every response
//! carries the headers Graph sets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use host::Host;

use crate::auth::{authenticate, AuthMode, Principal};
use crate::error::{Code, GraphError};
use crate::faults::Injected;
use crate::resolve::{resolve, ApiVersion, Operation};

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
const SESSION_HEADER: &str = "workbook-session-id";
const OPERATION: HeaderName = HeaderName::from_static("x-workbookd-operation");
/// `Server: workbookd/{version}` on every response, so a client's logs show what answered.
const SERVER: HeaderValue = HeaderValue::from_static(concat!("workbookd/", env!("CARGO_PKG_VERSION")));

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
struct RequestIds {
    request_id: HeaderValue,
    client_request_id: HeaderValue,
}

impl RequestIds {
    fn of(request: &Request) -> RequestIds {
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
    fn stamp(self, response: Response) -> Response {
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

/// The application: control plane under `/_workbookd/`, everything else through the resolver.
pub fn router(host: Arc<Host>, config: ServerConfig) -> Router {
    let key: Vec<u8> = uuid::Uuid::new_v4().as_bytes().iter().chain(uuid::Uuid::new_v4().as_bytes()).copied().collect();
    let metrics = Arc::new(crate::metrics::Metrics::new(host.stats()));
    let faults = Arc::new(crate::faults::Faults::default());
    faults.set(config.faults.clone());
    let throttle = Arc::new(crate::throttle::Throttle::new(config.throttle_user, config.throttle_app));
    let app = App { host, config: Arc::new(config), download_key: Arc::from(key), metrics, faults, throttle };
    // Graph requests stamp their ids themselves (the hot path skips a middleware's boxing);
    // the control plane's few routes get them from a layer.
    use crate::control;
    // State, reset and faults show and change every user's data: only with the control plane on.
    let emulator_only = Router::new()
        .route("/_workbookd/state", get(control::state))
        .route("/_workbookd/reset", post(control::reset))
        .route("/_workbookd/faults", get(control::faults_get).put(control::faults_put).delete(control::faults_delete))
        .route_layer(middleware::from_fn_with_state(app.clone(), control::when_enabled));
    Router::new()
        .route("/_workbookd/health", get(control::health))
        .route("/_workbookd/metrics", get(control::metrics))
        .route("/_workbookd/openapi.json", get(control::openapi))
        .merge(emulator_only)
        .route("/_workbookd/download/{token}", get(crate::handlers::download))
        .route_layer(middleware::from_fn(with_ids))
        .fallback(graph_request)
        .with_state(app)
}

/// Ids, the server header and the log line for the control plane's routes.
async fn with_ids(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let ids = RequestIds::of(&request);
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = ids.stamp(next.run(request).await);
    log_request(&method, &path, "control-plane", &response, started);
    response
}

/// One info line per request: method, path, operation, status, time and request id.
fn log_request(method: &Method, path: &str, operation: &str, response: &Response, started: Instant) {
    let request_id = response.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
    tracing::info!(
        target: "workbookd::request",
        method = method.as_str(),
        path,
        operation,
        status = response.status().as_u16(),
        ms = (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        request_id,
        "served"
    );
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
    // Any token is taken in dev mode: a page whose name was rebound to this machine must not
    // reach the data with its own name in `Host`.
    if matches!(app.config.auth, AuthMode::Dev) {
        if let Err(e) = check_host(&app.config, request.headers()) {
            let ids = RequestIds::of(&request);
            return ids.stamp(error_response(&e));
        }
    }
    serve_logged(app, method, request, false).await
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

/// One request of a `$batch` through the resolver and its handler, errors rendered; a batch
/// inside a batch is refused.
pub(crate) async fn serve_one(app: App, method: Method, request: Request) -> Response {
    serve_logged(app, method, request, true).await
}

/// A Graph request served, stamped with its ids, counted in the metrics and logged.
async fn serve_logged(app: App, method: Method, request: Request, in_batch: bool) -> Response {
    let started = Instant::now();
    let ids = RequestIds::of(&request);
    let path = request.uri().path().to_string();
    let metrics = app.metrics.clone();
    let mut operation_name = None;
    let mut force_async = false;
    let session = request.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()).map(str::trim);
    let answer = match app.faults.check(method.as_str(), &path, session.is_some_and(|s| !s.is_empty())) {
        Some(Injected::Answer(error)) => Some(error),
        Some(Injected::ExpireSession) => {
            if let Some(session) = session {
                app.host.expire_session(session);
            }
            None
        }
        Some(Injected::ForceAsync) => {
            force_async = true;
            None
        }
        None => None,
    };
    let mut response = match answer {
        Some(error) => {
            operation_name = resolve(method.as_str(), &path).ok().map(|r| r.operation.name().to_string());
            ids.stamp(error_response(&error))
        }
        None => {
            let serving = serve(app, method.clone(), request, in_batch, force_async, &mut operation_name);
            let served = crate::catch_panic::CatchPanic(Box::pin(serving)).await.and_then(|answer| answer);
            ids.stamp(served.unwrap_or_else(|e| error_response(&e)))
        }
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        // RFC 9110: a 405 lists the methods the resource takes.
        if let Ok(allow) = HeaderValue::from_str(&allowed_methods(&path).join(", ")) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    let operation = operation_name.as_deref().unwrap_or("unresolved");
    // Which operation the path resolved to (its Graph reference page), for a client's logs and
    // for tests that tell a routing failure from an operation's own answer.
    if let Ok(v) = HeaderValue::from_str(operation) {
        if operation_name.is_some() {
            response.headers_mut().insert(OPERATION, v);
        }
    }
    metrics.observe(operation, response.status().as_u16(), started.elapsed());
    log_request(&method, &path, operation, &response, started);
    response
}

async fn serve(
    app: App,
    method: Method,
    request: Request,
    in_batch: bool,
    force_async: bool,
    operation_name: &mut Option<String>,
) -> Result<Response, GraphError> {
    let resolved = resolve(method.as_str(), request.uri().path())?;
    *operation_name = Some(resolved.operation.name().to_string());
    // Over the memory budget an upload is refused before its body is read.
    if matches!(resolved.operation, Operation::ContentPut(_)) && app.host.over_memory_budget() {
        return Err(GraphError::over_memory_budget(5));
    }
    let (mut ctx, operation) = prepare(app, resolved, request).await?;
    ctx.force_async = force_async;
    if operation == Operation::Batch {
        if in_batch {
            return Err(GraphError::bad_request("A batch cannot hold another batch."));
        }
        return Box::pin(crate::batch::run(ctx)).await;
    }
    // After authentication: budgets are per caller. A batch's items are counted one by one.
    ctx.app.throttle.admit(&ctx.who)?;
    let timeout = ctx.app.config.request_timeout;
    // Boxed: the handlers' futures are large, and this one is moved through the layers above.
    match tokio::time::timeout(timeout, Box::pin(crate::handlers::dispatch(ctx, operation))).await {
        Ok(answer) => answer,
        // The host's blocking work is not cancelled by this: an edit that started is applied and
        // journaled in full; one still queued for its workbook is dropped unapplied.
        Err(_) => Err(GraphError::new(
            Code::GatewayTimeout,
            Some("gatewayTimeoutUncategorized"),
            format!("The request did not complete within {} s.", timeout.as_secs_f64()),
        )),
    }
}

/// The methods a path is served under (the `Allow` header of a 405; the OpenAPI document lists
/// the same).
pub(crate) fn allowed_methods(path: &str) -> Vec<&'static str> {
    ["GET", "POST", "PUT", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| resolve(m, path).is_ok_and(|r| !matches!(r.operation, Operation::NotImplemented { .. })))
        .collect()
}

/// A resolved request's caller authenticated and its body read.
async fn prepare(
    app: App,
    resolved: crate::resolve::Resolved,
    request: Request,
) -> Result<(Ctx, Operation), GraphError> {
    let auth = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let who = authenticate(auth, &app.config.auth).await?;
    check_session_header(&resolved.operation, request.headers())?;
    let query = query_map(request.uri().query());
    let odata = crate::odata::QueryOptions::parse(request.method().as_str(), &query)?;
    let limit = match &resolved.operation {
        Operation::ContentPut(_) => app.config.max_upload_bytes,
        _ => app.config.max_json_bytes,
    };
    let (parts, body) = request.into_parts();
    let (headers, uri) = (parts.headers, parts.uri);
    let too_large = || {
        GraphError::new(
            Code::PayloadTooLarge,
            Some("payloadTooLargeUncategorized"),
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    };
    let hint = axum::body::HttpBody::size_hint(&body);
    // Most calls (GETs) carry no body: nothing to collect. A declared length over the limit is
    // refused before a byte of it is read.
    let body = if hint.exact() == Some(0) {
        Bytes::new()
    } else if hint.lower() > limit as u64 {
        return Err(too_large());
    } else {
        read_body(body, limit, app.config.body_timeout).await.map_err(|e| match e {
            BodyError::Stalled => GraphError::new(
                Code::RequestTimeout,
                None,
                format!("The request body stalled for {} s.", app.config.body_timeout.as_secs_f64()),
            ),
            BodyError::TooLarge => too_large(),
            BodyError::Broken(e) => GraphError::bad_request(format!("The request body could not be read: {e}.")),
        })?
    };
    let ctx = Ctx { app, who, version: resolved.version, uri, headers, query, odata, force_async: false, body };
    Ok((ctx, resolved.operation))
}

enum BodyError {
    /// No bytes for the body timeout: a client that stopped sending.
    Stalled,
    TooLarge,
    Broken(String),
}

/// A request body of at most `limit` bytes. The timeout is for each wait between chunks, not
/// the whole body, so a large upload on a slow link goes on while it makes progress.
async fn read_body(mut body: Body, limit: usize, stall: std::time::Duration) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt;
    let mut out = Vec::new();
    loop {
        let frame = tokio::time::timeout(stall, body.frame()).await.map_err(|_| BodyError::Stalled)?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// A `workbook-session-id` that is sent but empty, blank or not text names no session: the
/// call is refused as for an unknown session, never run without one (a write would be made
/// durable that its sender meant to keep in a session).
fn check_session_header(operation: &Operation, headers: &HeaderMap) -> Result<(), GraphError> {
    let drive_call = matches!(
        operation,
        Operation::DriveGet(_)
            | Operation::DriveList(_)
            | Operation::ItemGet(_)
            | Operation::ItemDelete(_)
            | Operation::ItemChildren(_)
            | Operation::ContentGet(_)
            | Operation::ContentPut(_)
            | Operation::CreateSession(_)
            | Operation::Batch
    );
    if drive_call {
        return Ok(());
    }
    let mut sent = headers.get_all(SESSION_HEADER).iter();
    let Some(first) = sent.next() else { return Ok(()) };
    let usable = sent.next().is_none() && first.to_str().is_ok_and(|v| !v.trim().is_empty());
    if usable {
        Ok(())
    } else {
        Err(GraphError::new(
            Code::NotFound,
            Some("invalidSessionReCreatable"),
            "The session specified in the request does not exist or is invalid due to a transient error.",
        ))
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
