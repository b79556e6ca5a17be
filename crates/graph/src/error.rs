//! Graph's error envelope, rendered in one place.

use serde_json::{json, Value};

/// An error as Graph reports it: HTTP status, top-level code, inner code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: u16,
    pub code: &'static str,
    pub inner_code: Option<&'static str>,
    pub message: String,
    /// Seconds the client should wait before trying again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl GraphError {
    pub fn new(status: u16, code: &'static str, inner_code: Option<&'static str>, message: impl Into<String>) -> Self {
        GraphError { status, code, inner_code, message: message.into(), retry_after: None }
    }

    /// The same error with a `Retry-After`, in seconds.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 429 `tooManyRequests`, as Graph throttles.
    pub fn too_many_requests(message: impl Into<String>, retry_after: u64) -> Self {
        GraphError::new(429, "tooManyRequests", Some("tooManyRequestsUncategorized"), message).retry_after(retry_after)
    }

    /// Graph's answer to a path it does not know.
    pub fn unknown_segment(segment: &str) -> Self {
        GraphError::new(400, "badRequest", None, format!("Resource not found for the segment '{segment}'."))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        GraphError::new(400, "badRequest", Some("badRequestUncategorized"), message)
    }

    /// A request argument Graph would refuse: 400, inner `invalidArgument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        GraphError::new(400, "badRequest", Some("invalidArgument"), message)
    }

    /// 503 `serviceNotAvailable` with `Retry-After`: the server is over its memory budget.
    pub fn over_memory_budget(retry_after: u64) -> Self {
        GraphError::new(
            503,
            "serviceNotAvailable",
            Some("serviceNotAvailable"),
            "The server is over its memory budget; retry after the time given.",
        )
        .retry_after(retry_after.max(1))
    }

    /// 500 for a failure inside the server (a panic): Graph's unspecified error. After it, the
    /// request's session is not to be used again.
    pub fn internal() -> Self {
        GraphError::new(
            500,
            "internalServerError",
            Some("internalServerErrorUncategorized"),
            "An unspecified error has occurred.",
        )
    }

    /// What Graph answers for a path its reference shows but its service does not route
    /// (reported for `PATCH tables/{t}/rows/{index}`): 400 with code `ApiNotFound`.
    pub fn api_not_found(message: impl Into<String>) -> Self {
        GraphError::new(400, "ApiNotFound", Some("apiNotFound"), message)
    }

    /// 404 with inner `itemNotFound`: an unknown sheet, table, column, row or name.
    pub fn item_not_found(message: impl Into<String>) -> Self {
        GraphError::new(404, "notFound", Some("itemNotFound"), message)
    }

    pub fn method_not_allowed(method: &str, operation: &str) -> Self {
        GraphError::new(
            405,
            "methodNotAllowed",
            None,
            format!("The HTTP method '{method}' is not allowed on {operation}."),
        )
    }

    /// A documented Graph operation that workbookd does not implement yet.
    pub fn not_implemented(operation: &str) -> Self {
        GraphError::new(
            501,
            "notImplemented",
            Some("notImplementedUncategorized"),
            format!("The operation '{operation}' is not implemented by workbookd yet."),
        )
    }

    /// The JSON body: `{"error":{"code","message","innerError":{"code","message","date","request-id","client-request-id"}}}`.
    pub fn envelope(&self, date: &str, request_id: &str, client_request_id: &str) -> Value {
        let mut inner = json!({
            "date": date,
            "request-id": request_id,
            "client-request-id": client_request_id,
        });
        if let Some(code) = self.inner_code {
            inner["code"] = json!(code);
            inner["message"] = json!(self.message);
        }
        json!({ "error": { "code": self.code, "message": self.message, "innerError": inner } })
    }
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for GraphError {}

#[cfg(test)]
mod tests {
    use super::GraphError;

    #[test]
    fn envelope_shape() {
        let e = GraphError::not_implemented("chart-delete");
        let v = e.envelope("2026-11-28T10:00:00", "req-1", "client-1");
        assert_eq!(e.status, 501);
        assert_eq!(v["error"]["code"], "notImplemented");
        assert_eq!(v["error"]["innerError"]["code"], "notImplementedUncategorized");
        assert_eq!(v["error"]["innerError"]["request-id"], "req-1");
        assert_eq!(v["error"]["innerError"]["client-request-id"], "client-1");
        assert_eq!(v["error"]["innerError"]["date"], "2026-11-28T10:00:00");
        assert!(v["error"]["message"].as_str().unwrap().contains("chart-delete"));
    }
}
