//! The HTTP face: one fallback service resolves every Graph path, authenticates the caller, and
//! hands the operation to its handler; errors are rendered in one place (`context`), and every
//! response carries the headers Graph sets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use host::Host;

pub use crate::context::ServerConfig;
use crate::context::{check_host, error_response, App, Ctx};
use crate::context::{RequestIds, REQUEST_ID};

use crate::auth::{authenticate, AuthMode};
use crate::batch::Step;
use crate::error::{Code, GraphError};
use crate::faults::Injected;
use crate::resolve::{allowed_methods, resolve, Operation};

const SESSION_HEADER: &str = "workbook-session-id";

const OPERATION: HeaderName = HeaderName::from_static("x-workbookd-operation");

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
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect()
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
        let mut batch = crate::batch::Batch::parse(&ctx.body)?;
        while let Some(step) = batch.next(&ctx) {
            let response = match step {
                Step::Send(method, request) => Box::pin(serve_one(ctx.app.clone(), method, request)).await,
                Step::Answered(response) => response,
            };
            batch.record(response).await;
        }
        return Ok(batch.finish());
    }
    // After authentication: budgets are per caller. A batch's items are counted one by one.
    if ctx.app.throttle.is_on() {
        ctx.app.throttle.admit(&ctx.who)?;
    }
    // The one permission check: handlers never pick their own.
    if let Some(need) = operation.need() {
        ctx.who.check(need)?;
    }
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

#[cfg(test)]
mod tests {
    #[test]
    fn queries_are_decoded() {
        let q = super::query_map(Some("%40microsoft.graph.conflictBehavior=fail&$select=values,text"));
        assert_eq!(q["@microsoft.graph.conflictbehavior"], "fail");
        assert_eq!(q["$select"], "values,text");
    }
}
