//! The HTTP face: one fallback service resolves every Graph path, answers Graph's way, and sets
//! the headers Graph sets on every response.

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::error::GraphError;
use crate::resolve::resolve;

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");

/// Identifiers of the request being answered, for error bodies.
#[derive(Clone)]
struct RequestIds {
    request_id: String,
    client_request_id: String,
}

/// The application: control plane under `/_workbookd/`, everything else through the resolver.
pub fn router() -> Router {
    Router::new()
        .route("/_workbookd/health", get(health))
        .fallback(graph_request)
        .layer(middleware::from_fn(ids_and_date))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn graph_request(method: Method, request: Request) -> Response {
    let ids = request.extensions().get::<RequestIds>().cloned();
    let result = resolve(method.as_str(), request.uri().path());
    let error = match result {
        // Nothing is served yet beyond resolution: every resolved operation is honest 501.
        Ok(resolved) => GraphError::not_implemented(resolved.operation.name()),
        Err(e) => e,
    };
    error_response(&error, ids.as_ref())
}

fn error_response(error: &GraphError, ids: Option<&RequestIds>) -> Response {
    let (request_id, client_request_id) =
        ids.map(|i| (i.request_id.as_str(), i.client_request_id.as_str())).unwrap_or(("", ""));
    let body = error.envelope(&iso_date(SystemTime::now()), request_id, client_request_id);
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
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
    request
        .extensions_mut()
        .insert(RequestIds { request_id: request_id.clone(), client_request_id: client_request_id.clone() });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        headers.insert(CLIENT_REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        headers.insert(axum::http::header::DATE, v);
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
}
