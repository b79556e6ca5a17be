//! OData system query options of a GET: parsed once per request, checked, and applied to
//! collections in one place (`$select`, `$top`, `$skip`, `$count`, and `@odata.nextLink`).
//!
//! The `$` is optional, as on Graph's beta endpoint and some v1.0 APIs. Options nobody asked
//! workbookd to understand (`?foo=1`, `$format`) are ignored; a known option with a malformed
//! value is 400; `$filter`, `$orderby`, `$expand`, `$search` and `$apply` are not built (501)
//! rather than silently ignored, since ignoring them would hand back data the caller filtered out.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::error::{Code, GraphError};

/// The options that shape what a GET answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueryOptions {
    /// Properties to keep (annotations are always kept).
    pub select: Option<Vec<String>>,
    pub top: Option<usize>,
    pub skip: usize,
    /// `$count=true`: the collection carries `@odata.count`, its size before paging.
    pub count: bool,
}

const NOT_BUILT: &[&str] = &["filter", "orderby", "expand", "search", "apply"];

fn malformed(option: &str, value: &str, expected: &str) -> GraphError {
    GraphError::new(
        Code::BadRequest,
        Some("invalidArgument"),
        format!("Invalid value '{value}' for the query option '${option}': expected {expected}."),
    )
}

impl QueryOptions {
    /// The options of a request's query (keys lower-cased, values decoded). Only GETs read
    /// them: Graph supports system query options on GET alone.
    pub fn parse(method: &str, query: &HashMap<String, String>) -> Result<QueryOptions, GraphError> {
        let mut options = QueryOptions::default();
        // Most calls carry no query at all.
        if method != "GET" || query.is_empty() {
            return Ok(options);
        }
        let get = |name: &str| query.get(&format!("${name}")).or_else(|| query.get(name));
        for name in NOT_BUILT {
            if query.contains_key(&format!("${name}")) {
                return Err(GraphError::not_implemented(&format!("${name}")));
            }
        }
        if let Some(raw) = get("select") {
            let keys: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).collect();
            let valid = |k: &String| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '/'))
            };
            if !keys.iter().all(valid) {
                return Err(malformed("select", raw, "a comma-separated list of property names"));
            }
            options.select = Some(keys);
        }
        let number = |name: &str| -> Result<Option<usize>, GraphError> {
            match get(name) {
                None => Ok(None),
                Some(v) => {
                    v.trim().parse::<usize>().map(Some).map_err(|_| malformed(name, v, "a whole number, 0 or more"))
                }
            }
        };
        options.top = number("top")?;
        options.skip = number("skip")?.unwrap_or(0);
        if let Some(v) = get("count") {
            options.count = match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(malformed("count", v, "true or false")),
            };
        }
        Ok(options)
    }

    /// Keeps the `$select`ed properties (and OData annotations) of one resource.
    pub fn select_in(&self, mut v: Value) -> Value {
        if let (Some(keep), Some(obj)) = (&self.select, v.as_object_mut()) {
            obj.retain(|k, _| k.starts_with('@') || keep.iter().any(|s| s.eq_ignore_ascii_case(k)));
        }
        v
    }

    /// The members of a collection this request asks for: after `$skip`, at most `$top`.
    pub fn page_range(&self, total: usize) -> std::ops::Range<usize> {
        let start = self.skip.min(total);
        let end = self.top.map_or(total, |top| start.saturating_add(top).min(total));
        start..end
    }

    /// A collection's body: one page of members (`page`, already cut by [`Self::page_range`]),
    /// `$select` applied, `@odata.count` when asked, and `@odata.nextLink` when members remain
    /// after the page. `url` is the request's own URL without its query.
    pub fn collection_body(
        &self,
        context: String,
        page: Vec<Value>,
        total: usize,
        url: &str,
        raw_query: &str,
    ) -> Value {
        let shown = self.page_range(total);
        let values: Vec<Value> = page.into_iter().map(|v| self.select_in(v)).collect();
        let mut body = json!({ "@odata.context": context });
        if self.count {
            body["@odata.count"] = json!(total);
        }
        body["value"] = Value::Array(values);
        if shown.end < total && self.top.is_some() {
            body["@odata.nextLink"] = json!(next_link(url, raw_query, shown.end));
        }
        body
    }
}

/// The request's URL with `$skip` moved on to `skip`; every other option kept as sent.
fn next_link(url: &str, raw_query: &str, skip: usize) -> String {
    let mut pairs: Vec<&str> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = form_urlencoded::parse(p.as_bytes()).next().map(|(k, _)| k.to_ascii_lowercase());
            !matches!(key.as_deref(), Some("$skip" | "skip"))
        })
        .collect();
    let skip = format!("$skip={skip}");
    pairs.push(&skip);
    format!("{url}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn options_parse_with_or_without_the_dollar() {
        let o = QueryOptions::parse("GET", &query(&[("$top", "5"), ("skip", "10"), ("$select", "id, name")])).unwrap();
        assert_eq!(o.top, Some(5));
        assert_eq!(o.skip, 10);
        assert_eq!(o.select, Some(vec!["id".to_string(), "name".to_string()]));
        assert!(!o.count);
        let o = QueryOptions::parse("GET", &query(&[("$count", "TRUE"), ("foo", "bar"), ("$format", "json")])).unwrap();
        assert!(o.count);
        // Not a GET: options are not read at all.
        assert_eq!(QueryOptions::parse("PATCH", &query(&[("$top", "x")])).unwrap(), QueryOptions::default());
    }

    #[test]
    fn malformed_options_are_400_and_unbuilt_ones_501() {
        for bad in [("$top", "-1"), ("$top", "five"), ("$skip", "1.5"), ("$count", "yes"), ("$select", "a,,b")] {
            let e = QueryOptions::parse("GET", &query(&[bad])).unwrap_err();
            assert_eq!((e.status(), e.code.as_str()), (400, "badRequest"), "{bad:?}");
        }
        let e = QueryOptions::parse("GET", &query(&[("$filter", "name eq 'x'")])).unwrap_err();
        assert_eq!(e.status(), 501);
        // Without the `$`, `filter` is the caller's own parameter.
        assert!(QueryOptions::parse("GET", &query(&[("filter", "x")])).is_ok());
    }

    #[test]
    fn pages_and_next_links() {
        let o = QueryOptions { top: Some(2), skip: 1, ..QueryOptions::default() };
        assert_eq!(o.page_range(5), 1..3);
        assert_eq!(o.page_range(0), 0..0);
        let page = vec![json!({"i": 1}), json!({"i": 2})];
        let body = o.collection_body("ctx".into(), page, 5, "http://h/v1.0/x/rows", "$top=2&%24skip=1&$select=i");
        assert_eq!(body["value"], json!([{"i": 1}, {"i": 2}]));
        assert_eq!(body["@odata.nextLink"], "http://h/v1.0/x/rows?$top=2&$select=i&$skip=3");
        // The last page has no next link; neither has a collection asked for without $top.
        let last = QueryOptions { top: Some(2), skip: 3, ..QueryOptions::default() };
        assert!(last.collection_body("c".into(), vec![], 5, "u", "").get("@odata.nextLink").is_none());
        let all = QueryOptions { count: true, ..QueryOptions::default() };
        let body = all.collection_body("c".into(), vec![json!(1)], 1, "u", "");
        assert!(body.get("@odata.nextLink").is_none());
        assert_eq!(body["@odata.count"], 1);
    }
}
