//! Graph's errors: a top-level code (whose HTTP status follows from it), an inner code, a
//! message; the mapping from the lower crates' errors; the envelope, rendered in one place.

use book::BookError;
use host::HostError;
use serde::Serialize;
use serde_json::Value;
use store::StoreError;

/// Graph's top-level error codes as workbookd answers them. Each has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BadRequest,
    InvalidRequest,
    /// What Graph answers for a path its reference shows but its service does not route.
    ApiNotFound,
    InvalidAuthenticationToken,
    Unauthenticated,
    AccessDenied,
    Forbidden,
    NotFound,
    ItemNotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    NameAlreadyExists,
    ResourceModified,
    PreconditionFailed,
    PayloadTooLarge,
    ResourceLocked,
    TooManyRequests,
    InternalServerError,
    GeneralException,
    NotImplemented,
    ServiceNotAvailable,
    GatewayTimeout,
    MaxRequestDurationExceeded,
    InsufficientStorage,
}

impl Code {
    pub const fn status(self) -> u16 {
        use Code::*;
        match self {
            BadRequest | InvalidRequest | ApiNotFound => 400,
            InvalidAuthenticationToken | Unauthenticated => 401,
            AccessDenied | Forbidden => 403,
            NotFound | ItemNotFound => 404,
            MethodNotAllowed => 405,
            RequestTimeout => 408,
            Conflict | NameAlreadyExists => 409,
            ResourceModified | PreconditionFailed => 412,
            PayloadTooLarge => 413,
            ResourceLocked => 423,
            TooManyRequests => 429,
            InternalServerError | GeneralException => 500,
            NotImplemented => 501,
            ServiceNotAvailable => 503,
            GatewayTimeout | MaxRequestDurationExceeded => 504,
            InsufficientStorage => 507,
        }
    }

    /// The code as it is written on the wire.
    pub const fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            BadRequest => "badRequest",
            InvalidRequest => "invalidRequest",
            ApiNotFound => "ApiNotFound",
            InvalidAuthenticationToken => "InvalidAuthenticationToken",
            Unauthenticated => "unauthenticated",
            AccessDenied => "accessDenied",
            Forbidden => "forbidden",
            NotFound => "notFound",
            ItemNotFound => "itemNotFound",
            MethodNotAllowed => "methodNotAllowed",
            RequestTimeout => "requestTimeout",
            Conflict => "conflict",
            NameAlreadyExists => "nameAlreadyExists",
            ResourceModified => "resourceModified",
            PreconditionFailed => "preconditionFailed",
            PayloadTooLarge => "payloadTooLarge",
            ResourceLocked => "resourceLocked",
            TooManyRequests => "tooManyRequests",
            InternalServerError => "internalServerError",
            GeneralException => "generalException",
            NotImplemented => "notImplemented",
            ServiceNotAvailable => "serviceNotAvailable",
            GatewayTimeout => "gatewayTimeout",
            MaxRequestDurationExceeded => "MaxRequestDurationExceeded",
            InsufficientStorage => "insufficientStorage",
        }
    }

    /// The status-bound code workbook calls use at the top level (decisions.md), when the status
    /// has one.
    const fn workbook_top(status: u16) -> Option<Code> {
        match status {
            400 => Some(Code::BadRequest),
            403 => Some(Code::Forbidden),
            404 => Some(Code::NotFound),
            409 => Some(Code::Conflict),
            412 => Some(Code::PreconditionFailed),
            413 => Some(Code::PayloadTooLarge),
            500 => Some(Code::InternalServerError),
            _ => None,
        }
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as Graph reports it: top-level code, inner code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub code: Code,
    pub inner_code: Option<&'static str>,
    pub message: String,
    /// Seconds the client should wait before trying again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl GraphError {
    pub fn new(code: Code, inner_code: Option<&'static str>, message: impl Into<String>) -> Self {
        GraphError { code, inner_code, message: message.into(), retry_after: None }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The error as a workbook call reports it: drive-style codes (`itemNotFound`,
    /// `nameAlreadyExists`…) move to the inner code under the status-bound top-level one.
    pub fn on_workbook(self) -> GraphError {
        match Code::workbook_top(self.status()) {
            Some(top) if top != self.code => {
                GraphError { code: top, inner_code: Some(self.inner_code.unwrap_or(self.code.as_str())), ..self }
            }
            _ => self,
        }
    }

    /// 404 `itemNotFound`: a drive item that does not exist (or that the caller may not see).
    pub fn drive_item_not_found() -> Self {
        GraphError::new(Code::ItemNotFound, None, "The resource could not be found.")
    }

    /// The same error with a `Retry-After`, in seconds.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 429 `tooManyRequests`, as Graph throttles.
    pub fn too_many_requests(message: impl Into<String>, retry_after: u64) -> Self {
        GraphError::new(Code::TooManyRequests, Some("tooManyRequestsUncategorized"), message).retry_after(retry_after)
    }

    /// Graph's answer to a path it does not know.
    pub fn unknown_segment(segment: &str) -> Self {
        GraphError::new(Code::BadRequest, None, format!("Resource not found for the segment '{segment}'."))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        GraphError::new(Code::BadRequest, Some("badRequestUncategorized"), message)
    }

    /// A request argument Graph would refuse: 400, inner `invalidArgument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        GraphError::new(Code::BadRequest, Some("invalidArgument"), message)
    }

    /// 503 `serviceNotAvailable` with `Retry-After`: the server is over its memory budget.
    pub fn over_memory_budget(retry_after: u64) -> Self {
        GraphError::new(
            Code::ServiceNotAvailable,
            Some("serviceNotAvailable"),
            "The server is over its memory budget; retry after the time given.",
        )
        .retry_after(retry_after.max(1))
    }

    /// 500 for a failure inside the server (a panic): Graph's unspecified error. After it, the
    /// request's session is not to be used again.
    pub fn internal() -> Self {
        GraphError::new(
            Code::InternalServerError,
            Some("internalServerErrorUncategorized"),
            "An unspecified error has occurred.",
        )
    }

    /// What Graph answers for a path its reference shows but its service does not route
    /// (reported for `PATCH tables/{t}/rows/{index}`): 400 with code `ApiNotFound`.
    pub fn api_not_found(message: impl Into<String>) -> Self {
        GraphError::new(Code::ApiNotFound, Some("apiNotFound"), message)
    }

    /// 404 with inner `itemNotFound`: an unknown sheet, table, column, row or name.
    pub fn item_not_found(message: impl Into<String>) -> Self {
        GraphError::new(Code::NotFound, Some("itemNotFound"), message)
    }

    pub fn method_not_allowed(method: &str, operation: &str) -> Self {
        GraphError::new(
            Code::MethodNotAllowed,
            None,
            format!("The HTTP method '{method}' is not allowed on {operation}."),
        )
    }

    /// A documented Graph operation that workbookd does not implement yet.
    pub fn not_implemented(operation: &str) -> Self {
        GraphError::new(
            Code::NotImplemented,
            Some("notImplementedUncategorized"),
            format!("The operation '{operation}' is not implemented by workbookd yet."),
        )
    }

    /// The JSON body: `{"error":{"code","message","innerError":{"code","message","date","request-id","client-request-id"}}}`.
    pub fn envelope(&self, date: &str, request_id: &str, client_request_id: &str) -> Value {
        let envelope = Envelope {
            error: Outer {
                code: self.code.as_str(),
                message: &self.message,
                inner_error: Inner {
                    code: self.inner_code,
                    message: self.inner_code.map(|_| self.message.as_str()),
                    date,
                    request_id,
                    client_request_id,
                },
            },
        };
        serde_json::to_value(envelope).unwrap_or_default()
    }
}

/// Graph's error body, as its docs show it.
#[derive(Serialize)]
struct Envelope<'a> {
    error: Outer<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Outer<'a> {
    code: &'static str,
    message: &'a str,
    inner_error: Inner<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Inner<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    date: &'a str,
    request_id: &'a str,
    client_request_id: &'a str,
}

/// A lower crate's error as a workbook call reports it (`map_err(workbook_error)`).
pub fn workbook_error(e: impl Into<GraphError>) -> GraphError {
    e.into().on_workbook()
}

impl From<StoreError> for GraphError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => GraphError::drive_item_not_found(),
            StoreError::NameExists(name) => {
                GraphError::new(Code::NameAlreadyExists, None, format!("An item named '{name}' already exists."))
            }
            StoreError::Invalid(m) => GraphError::new(Code::InvalidRequest, None, m),
            StoreError::GenerationChanged { .. } => {
                GraphError::new(Code::Conflict, Some("conflictUncategorized"), "The file changed during the request.")
            }
            StoreError::Io(m) => GraphError::new(Code::GeneralException, None, format!("Storage failed: {m}")),
            // Graph's answer when the drive has no room: nothing was written; reads and deletes work.
            StoreError::Full(m) => GraphError::new(
                Code::InsufficientStorage,
                Some("quotaLimitReached"),
                format!("There is not enough storage to complete the request: {m}"),
            ),
        }
    }
}

impl From<BookError> for GraphError {
    fn from(e: BookError) -> Self {
        match e {
            BookError::NoSuchSheet(name) => GraphError::new(
                Code::NotFound,
                Some("itemNotFound"),
                format!("The requested resource doesn't exist: no worksheet '{name}'."),
            ),
            BookError::InvalidEdit(m) => GraphError::new(Code::BadRequest, Some("invalidArgument"), m),
            BookError::SheetExists(name) => GraphError::new(
                Code::Conflict,
                Some("itemAlreadyExists"),
                format!("A worksheet named '{name}' already exists."),
            ),
            BookError::Address(a) => GraphError::new(Code::BadRequest, Some("invalidArgument"), a.to_string()),
            BookError::NameExists(name) => GraphError::new(
                Code::Conflict,
                Some("itemAlreadyExists"),
                format!("A name '{name}' already exists in that scope."),
            ),
            BookError::NoSuchName(name) => {
                GraphError::new(Code::NotFound, Some("itemNotFound"), format!("The name '{name}' was not found."))
            }
            BookError::StructureConflict(m) => GraphError::new(Code::Conflict, Some("insertDeleteConflict"), m),
            BookError::LossDetected(m) => GraphError::new(
                Code::InternalServerError,
                Some("unsupportedWorkbook"),
                format!("The workbook could not be saved without losing part of it ({m}); nothing was written."),
            ),
            other => GraphError::new(Code::InternalServerError, Some("generalException"), other.to_string()),
        }
    }
}

/// Drive-style: a workbook call adds [`GraphError::on_workbook`].
impl From<HostError> for GraphError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::SessionRecreatable => GraphError::new(
                Code::NotFound,
                Some("invalidSessionReCreatable"),
                "The session specified in the request does not exist or is invalid due to a transient error.",
            ),
            HostError::SessionFileGone => GraphError::new(
                Code::NotFound,
                Some("invalidSessionNotFound"),
                "The session specified in the request is invalid because the workbook can't be found.",
            ),
            HostError::ItemNotFound => GraphError::drive_item_not_found(),
            HostError::NotAFile => GraphError::new(Code::InvalidRequest, None, "The item is a folder, not a workbook."),
            HostError::Unopenable(b) => GraphError::new(
                Code::BadRequest,
                Some("unsupportedWorkbook"),
                format!("The workbook cannot be opened: {b}."),
            ),
            HostError::OperationNotFound => {
                GraphError::new(Code::NotFound, Some("itemNotFound"), "The requested operation doesn't exist.")
            }
            // Graph's session cap shows as throttling; a session idles out by the time given.
            HostError::TooManySessions { retry_after } => GraphError::too_many_requests(
                "The workbook has too many open sessions; close one, or retry when one has expired.",
                retry_after.as_secs_f64().ceil().max(1.0) as u64,
            ),
            HostError::Busy { retry_after } => GraphError::over_memory_budget(retry_after.as_secs()),
            HostError::Internal(_) => GraphError::internal(),
            HostError::Book(b) => b.into(),
            HostError::Store(s) => s.into(),
        }
    }
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.code, self.message)
    }
}

impl std::error::Error for GraphError {}

#[cfg(test)]
mod tests {
    use super::{Code, GraphError};

    #[test]
    fn workbook_calls_use_the_status_bound_top_level_code() {
        let e = GraphError::drive_item_not_found().on_workbook();
        assert_eq!((e.status(), e.code, e.inner_code), (404, Code::NotFound, Some("itemNotFound")));
        let e = GraphError::new(Code::NameAlreadyExists, None, "x").on_workbook();
        assert_eq!((e.status(), e.code, e.inner_code), (409, Code::Conflict, Some("nameAlreadyExists")));
        // An inner code already set stays; 401 and codes with no status-bound twin are kept.
        let e = GraphError::new(Code::GeneralException, Some("kept"), "x").on_workbook();
        assert_eq!((e.code, e.inner_code), (Code::InternalServerError, Some("kept")));
        for code in [Code::InvalidAuthenticationToken, Code::TooManyRequests, Code::InsufficientStorage] {
            assert_eq!(GraphError::new(code, None, "x").on_workbook().code, code);
        }
    }

    #[test]
    fn envelope_shape() {
        let e = GraphError::not_implemented("chart-delete");
        let v = e.envelope("2026-11-28T10:00:00", "req-1", "client-1");
        assert_eq!(e.status(), 501);
        assert_eq!(v["error"]["code"], "notImplemented");
        assert_eq!(v["error"]["innerError"]["code"], "notImplementedUncategorized");
        assert_eq!(v["error"]["innerError"]["request-id"], "req-1");
        assert_eq!(v["error"]["innerError"]["client-request-id"], "client-1");
        assert_eq!(v["error"]["innerError"]["date"], "2026-11-28T10:00:00");
        assert!(v["error"]["message"].as_str().unwrap().contains("chart-delete"));
    }
}
