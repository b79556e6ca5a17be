//! JSON batching (`POST /v1.0/$batch`): up to 20 requests, each run through the resolver and its
//! handler as if sent alone, in an order that keeps every `dependsOn` before its dependents (so
//! requests on one workbook run in the order given). A request whose dependency failed is 424.

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::context::Ctx;
use crate::error::GraphError;

/// Graph's limit on requests in one batch.
const MAX_REQUESTS: usize = 20;

struct Item {
    id: String,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    depends_on: Vec<String>,
}

/// A batch being run. The server drives it (the batch runner sits below the server's request
/// path, which it must not call): it sends each request [`Batch::next`] hands out, in
/// `dependsOn` order, and gives the answer back to [`Batch::record`].
pub(crate) struct Batch {
    items: Vec<Item>,
    order: std::vec::IntoIter<usize>,
    current: Option<usize>,
    statuses: Vec<Option<u16>>,
    responses: Vec<Value>,
}

/// What the server does for the next item of a batch.
pub(crate) enum Step {
    /// Serve this request as the server serves any.
    Send(Method, Request<Body>),
    /// The item is answered already (it is not a valid request).
    Answered(Response),
}

impl Batch {
    pub(crate) fn parse(body: &[u8]) -> Result<Batch, GraphError> {
        let items = parse(body)?;
        let order = order(&items)?;
        let statuses = vec![None; items.len()];
        Ok(Batch {
            responses: Vec::with_capacity(items.len()),
            items,
            order: order.into_iter(),
            current: None,
            statuses,
        })
    }

    /// The next item to serve; items whose dependency failed are answered 424 on the way.
    pub(crate) fn next(&mut self, ctx: &Ctx) -> Option<Step> {
        for i in self.order.by_ref() {
            let item = &self.items[i];
            let failed = item.depends_on.iter().find(|d| {
                let k = self.items.iter().position(|x| x.id.eq_ignore_ascii_case(d)).unwrap_or(i);
                self.statuses[k].is_none_or(|s| s >= 400)
            });
            if let Some(d) = failed {
                self.statuses[i] = Some(424);
                self.responses.push(json!({
                    "id": item.id,
                    "status": 424,
                    "body": {"error": {"code": "failedDependency", "message": format!("Request '{d}' it depends on failed.")}},
                }));
                continue;
            }
            self.current = Some(i);
            return Some(match request(ctx, item) {
                Ok(request) => Step::Send(item.method.clone(), request),
                Err(e) => Step::Answered(crate::context::error_response(&e)),
            });
        }
        None
    }

    /// The answer to the item [`Batch::next`] handed out last.
    pub(crate) async fn record(&mut self, response: Response) {
        let Some(i) = self.current.take() else { return };
        self.statuses[i] = Some(response.status().as_u16());
        self.responses.push(render(&self.items[i].id, response).await);
    }

    pub(crate) fn finish(self) -> Response {
        (StatusCode::OK, axum::Json(json!({ "responses": self.responses }))).into_response()
    }
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(message)
}

fn parse(body: &[u8]) -> Result<Vec<Item>, GraphError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("The batch is not JSON: {e}.")))?;
    let requests =
        v.get("requests").and_then(Value::as_array).ok_or_else(|| bad("A batch holds a 'requests' array."))?;
    if requests.len() > MAX_REQUESTS {
        return Err(bad(format!("A batch holds at most {MAX_REQUESTS} requests, not {}.", requests.len())));
    }
    let mut items: Vec<Item> = Vec::with_capacity(requests.len());
    for r in requests {
        let text = |key: &str| r.get(key).and_then(Value::as_str).map(str::to_string);
        let id = match r.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(bad("Every request of a batch has an 'id'.")),
        };
        if items.iter().any(|x| x.id.eq_ignore_ascii_case(&id)) {
            return Err(bad(format!("The id '{id}' is used twice in the batch.")));
        }
        let method = text("method")
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .ok_or_else(|| bad(format!("Request '{id}' has no valid 'method'.")))?;
        let url = text("url").ok_or_else(|| bad(format!("Request '{id}' has no 'url'.")))?;
        let headers = match r.get("headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(h)) => h
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    other => Ok((k.clone(), other.to_string())),
                })
                .collect::<Result<_, GraphError>>()?,
            Some(_) => return Err(bad(format!("Request '{id}': 'headers' is an object."))),
        };
        // `depends_on` is how the Python SDK spells it.
        let depends_on = match r.get("dependsOn").or_else(|| r.get("depends_on")) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|d| match d {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(bad(format!("Request '{id}': 'dependsOn' lists ids."))),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad(format!("Request '{id}': 'dependsOn' is an array."))),
        };
        items.push(Item {
            id,
            method,
            url,
            headers,
            body: r.get("body").cloned().filter(|b| !b.is_null()),
            depends_on,
        });
    }
    for item in &items {
        for d in &item.depends_on {
            if !items.iter().any(|x| x.id.eq_ignore_ascii_case(d)) || d.eq_ignore_ascii_case(&item.id) {
                return Err(bad(format!(
                    "Request '{}' depends on '{d}', which is not another request of the batch.",
                    item.id
                )));
            }
        }
    }
    Ok(items)
}

/// The requests in the order given, each moved after what it depends on; a cycle is 400.
fn order(items: &[Item]) -> Result<Vec<usize>, GraphError> {
    let index = |id: &str| items.iter().position(|x| x.id.eq_ignore_ascii_case(id));
    let mut done = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    while out.len() < items.len() {
        let next = (0..items.len())
            .find(|&i| !done[i] && items[i].depends_on.iter().all(|d| index(d).is_some_and(|k| done[k])))
            .ok_or_else(|| bad("The batch's dependsOn form a cycle."))?;
        done[next] = true;
        out.push(next);
    }
    Ok(out)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// One request, with the batch's own authorization and host unless it sets its own.
fn request(ctx: &Ctx, item: &Item) -> Result<Request<Body>, GraphError> {
    let url = item.url.trim();
    // Absolute URLs name Graph, or this server as the client reached it: the Python SDK's
    // batch items carry the full URL of their request.
    let ours = [ctx.base(), "https://graph.microsoft.com".to_string()];
    let url = ours.iter().find_map(|prefix| strip_prefix_ignore_case(url, prefix)).unwrap_or(url);
    let path = if url.starts_with("/v1.0/") || url.starts_with("/beta/") {
        url.to_string()
    } else {
        format!("/{}/{}", ctx.version_str(), url.trim_start_matches('/'))
    };
    let body = match &item.body {
        None => Vec::new(),
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(v) => v.to_string().into_bytes(),
    };
    let mut builder = Request::builder().method(item.method.clone()).uri(&path);
    for name in [header::AUTHORIZATION, header::HOST] {
        if let Some(v) = ctx.headers.get(&name) {
            builder = builder.header(name, v.clone());
        }
    }
    let mut has_type = false;
    for (k, v) in &item.headers {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) else {
            return Err(bad(format!("Request '{}' has a header that is not valid: {k}.", item.id)));
        };
        has_type |= name == header::CONTENT_TYPE;
        if let Some(h) = builder.headers_mut() {
            h.insert(name, value);
        }
    }
    if !body.is_empty() && !has_type {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder.body(Body::from(body)).map_err(|e| bad(format!("Request '{}' is not valid: {e}.", item.id)))
}

/// A response as a batch item: status, headers, and the body as JSON (text when it is not).
async fn render(id: &str, response: Response) -> Value {
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (k, v) in response.headers() {
        if let Ok(v) = v.to_str() {
            headers.insert(k.as_str().to_string(), Value::String(v.to_string()));
        }
    }
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
    let mut out = json!({ "id": id, "status": status, "headers": headers });
    if !bytes.is_empty() {
        out["body"] = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    }
    out
}
