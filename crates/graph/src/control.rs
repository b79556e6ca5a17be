//! The emulator's control plane under `/_workbookd/`: health, metrics, OpenAPI, the state view
//! and reset.
//! Not Graph. Reads ask for no token; writes (reset, faults) ask for a bearer token, since a
//! browser can send a tokenless POST from any web page. State, reset and faults are on only when
//! the server says so (by default with dev auth), since they show and drop every user's data.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::context::{error_response, App};
use crate::error::{Code, GraphError};

/// Most items the state view lists; beyond it the view says it is truncated.
const STATE_MAX_ITEMS: usize = 10_000;

pub(crate) async fn health(State(app): State<App>) -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "sessions": app.host.session_count() }))
}

pub(crate) async fn metrics(State(app): State<App>) -> Response {
    let text = app.metrics.render(&app.host.state());
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE));
    response
}

/// The OpenAPI description of the served surface, its server URL the one the client used.
pub(crate) async fn openapi(State(app): State<App>, headers: axum::http::HeaderMap) -> Json<Value> {
    let scheme = if app.config.https { "https" } else { "http" };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    Json(crate::openapi::document(&format!("{scheme}://{host}")))
}

/// Layer over state, reset and faults: 404 when the control plane is off; the host name
/// checked (DNS rebinding); and writes, which drop or break every user's data, only from a
/// caller with a token and never cross-site.
pub(crate) async fn when_enabled(
    State(app): State<App>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !app.config.control_plane {
        return error_response(&GraphError::new(
            Code::ItemNotFound,
            None,
            "The control plane is off (it is on by default with dev auth; see --control-plane).",
        ));
    }
    if let Err(e) = crate::context::check_host(&app.config, request.headers()) {
        return error_response(&e);
    }
    if request.method() != axum::http::Method::GET {
        if let Err(e) = write_allowed(&app, request.headers()).await {
            return error_response(&e);
        }
    }
    next.run(request).await
}

/// A browser sends a cross-site form or `fetch` POST with a simple content type and no
/// preflight, but never with an `Authorization` header (that needs a preflight, which this
/// server does not grant): a control-plane write needs a bearer token the server's auth mode
/// accepts (any, in dev mode), and an `Origin`, when sent, naming this server.
async fn write_allowed(app: &App, headers: &axum::http::HeaderMap) -> Result<(), GraphError> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest).trim_end_matches('/');
        if origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(GraphError::new(
                Code::AccessDenied,
                None,
                format!("Control-plane writes are not accepted from another origin ('{origin}')."),
            ));
        }
    }
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    crate::auth::authenticate(auth, &app.config.auth).await.map(|_| ())
}

/// Drops every drive, item, session and live workbook, then seeds the drive `--seed` filled at
/// start again: the server is as it was when it started on an empty data directory.
pub(crate) async fn reset(State(app): State<App>) -> Response {
    let failed = |e: String| error_response(&GraphError::new(Code::GeneralException, None, e));
    if let Err(e) = app.host.reset().await {
        return failed(format!("The reset failed: {e}"));
    }
    if let Some((dir, owner)) = app.config.seed.clone() {
        let seeded = app.host.with_store(move |s| host::seed::seed(s, &dir, &owner)).await;
        if let Err(e) = seeded {
            return failed(format!("The reset dropped everything, but seeding again failed: {e}"));
        }
    }
    tracing::info!(target: "workbookd", "reset: every drive, item and session dropped");
    StatusCode::NO_CONTENT.into_response()
}

/// Drives with their items, open sessions and live workbooks.
pub(crate) async fn state(State(app): State<App>) -> Response {
    let host = app.host.state();
    let drives = app.host.with_store(drives_and_items).await;
    let drives = match drives {
        Ok(d) => d,
        Err(e) => return error_response(&GraphError::new(Code::GeneralException, None, e.to_string())),
    };
    let secs = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    let sessions: Vec<Value> = host
        .sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "user": s.user,
                "itemId": s.item_id,
                "persistChanges": s.persistent,
                "idleSeconds": secs(s.idle),
            })
        })
        .collect();
    let workbooks: Vec<Value> =
        host.books.iter().map(|b| json!({ "itemId": b.item_id, "idleSeconds": secs(b.idle) })).collect();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "drives": drives.0,
        "truncated": drives.1,
        "sessions": sessions,
        "workbooks": workbooks,
    }))
    .into_response()
}

/// Every drive with its items (paths from the root), up to [`STATE_MAX_ITEMS`] items in all.
fn drives_and_items(store: &dyn store::DriveStore) -> store::Result<(Vec<Value>, bool)> {
    let mut drives = store.drives()?;
    drives.sort_by(|a, b| a.owner.cmp(&b.owner));
    let mut listed = 0usize;
    let mut truncated = false;
    let mut out = Vec::new();
    for drive in drives {
        let mut items = Vec::new();
        // Depth first from the root, folders before their contents.
        let mut pending = vec![(drive.root_id.clone(), String::new())];
        while let Some((folder, path)) = pending.pop() {
            for child in store.children(&folder)?.into_iter().rev() {
                if listed == STATE_MAX_ITEMS {
                    truncated = true;
                    break;
                }
                listed += 1;
                let child_path = format!("{path}/{}", child.name);
                items.push(json!({
                    "id": child.id,
                    "path": child_path,
                    "folder": child.is_folder,
                    "size": child.size,
                    "pendingJournalRecords": child.journal_len,
                }));
                if child.is_folder {
                    pending.push((child.id, child_path));
                }
            }
        }
        items.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        out.push(json!({ "id": drive.id, "owner": drive.owner, "items": items }));
    }
    Ok((out, truncated))
}

/// The fault-injection rules in force, with how many requests each matched and failed.
pub(crate) async fn faults_get(State(app): State<App>) -> Response {
    Json(app.faults.view()).into_response()
}

/// Replaces the fault-injection rules (`{"rules": [...]}`); 400 names what is wrong.
pub(crate) async fn faults_put(State(app): State<App>, body: axum::body::Bytes) -> Response {
    match crate::faults::parse_rules(&body) {
        Ok(rules) => {
            tracing::info!(target: "workbookd", "fault injection: {} rules", rules.len());
            app.faults.set(rules);
            Json(app.faults.view()).into_response()
        }
        Err(e) => error_response(&GraphError::invalid_argument(format!("The fault rules are not valid: {e}"))),
    }
}

/// Removes every fault-injection rule.
pub(crate) async fn faults_delete(State(app): State<App>) -> Response {
    app.faults.set(Vec::new());
    StatusCode::NO_CONTENT.into_response()
}
