//! Fault injection for client developers: rules that make matching Graph requests fail the way
//! Graph fails in production, so retry and recovery code can be tested against workbookd. Set
//! with `--faults FILE` or `PUT /_workbookd/faults`; each rule picks requests by method and path
//! pattern, then every Nth of them or a seeded share of them, at most `times` times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Code, GraphError};

/// How a matched request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// 429 `tooManyRequests` with `Retry-After` (Graph's throttling).
    Throttle,
    /// 503 `serviceNotAvailable` with `Retry-After`.
    Unavailable,
    /// 504 `gatewayTimeout` / `MaxRequestDurationExceeded`.
    Timeout,
    /// 423 `resourceLocked` (the file is locked, e.g. open for editing elsewhere).
    Locked,
    /// 403 `accessDenied` "Could not obtain a WAC access token".
    WacToken,
    /// The request's session expires now; the request then answers as any call in an expired
    /// session does (404 `invalidSessionReCreatable`). Requests without a session pass.
    SessionExpired,
    /// A createSession sent with `Prefer: respond-async` answers 202 and is polled, however
    /// quickly the workbook opens.
    AsyncSession,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    pub fault: FaultKind,
    /// `GET`, `POST`, …; any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// A path pattern, `*` matching any run of characters, compared case-insensitively with the
    /// request path (`/v1.0/me/drive/items/*/workbook/worksheets*`); any path when absent.
    #[serde(default)]
    pub path: Option<String>,
    /// Fail every Nth matching request (1: all of them).
    #[serde(default)]
    pub every: Option<u64>,
    /// Fail this share of matching requests (0 to 1), drawn from `seed`, so runs repeat.
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Fail at most this many requests.
    #[serde(default)]
    pub times: Option<u64>,
    /// Seconds in `Retry-After` (throttle and unavailable; default 1).
    #[serde(default)]
    pub retry_after: Option<u64>,
}

struct Armed {
    rule: FaultRule,
    matched: u64,
    injected: u64,
    rng: u64,
}

#[derive(Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<Armed>>,
    /// Whether any rule is set: requests skip the lock when none is.
    armed: AtomicBool,
}

/// What a matched rule does to its request.
pub(crate) enum Injected {
    /// Answer with this error (and `Retry-After`, when given) instead of serving the request.
    Answer(GraphError),
    /// End the request's session, then serve the request.
    ExpireSession,
    /// Serve the request with createSession forced to answer 202.
    ForceAsync,
}

/// Parses a rule set: `{"rules": [...]}` or a bare array.
pub fn parse_rules(text: &[u8]) -> Result<Vec<FaultRule>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Set {
        rules: Vec<FaultRule>,
    }
    let rules = match serde_json::from_slice::<Set>(text) {
        Ok(set) => set.rules,
        Err(first) => serde_json::from_slice::<Vec<FaultRule>>(text).map_err(|_| first.to_string())?,
    };
    for r in &rules {
        if r.every == Some(0) {
            return Err("every must be 1 or more".into());
        }
        if r.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability must be between 0 and 1".into());
        }
        if r.every.is_some() && r.probability.is_some() {
            return Err("give every or probability, not both".into());
        }
    }
    Ok(rules)
}

/// `*` matches any run of characters; the rest compares case-insensitively.
fn matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// xorshift64*: a small generator, so a seed gives the same faults on every run.
fn next(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

impl Faults {
    pub fn set(&self, rules: Vec<FaultRule>) {
        let armed = rules
            .into_iter()
            .map(|rule| {
                let rng = rule.seed.unwrap_or(0x9E37_79B9_7F4A_7C15) | 1;
                Armed { rule, matched: 0, injected: 0, rng }
            })
            .collect::<Vec<_>>();
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        self.armed.store(!armed.is_empty(), Ordering::Release);
        *rules = armed;
    }

    /// The rules with how many requests each matched and failed.
    pub fn view(&self) -> Value {
        let rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        json!({ "rules": rules.iter().map(|a| json!({
            "fault": format!("{:?}", a.rule.fault),
            "method": a.rule.method,
            "path": a.rule.path,
            "every": a.rule.every,
            "probability": a.rule.probability,
            "times": a.rule.times,
            "matched": a.matched,
            "injected": a.injected,
        })).collect::<Vec<_>>() })
    }

    /// The fault the first matching rule injects into this request, if any. Session expiry
    /// rules match only requests made in a session.
    pub fn check(&self, method: &str, path: &str, in_session: bool) -> Option<Injected> {
        if !self.armed.load(Ordering::Acquire) {
            return None;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        if rules.is_empty() {
            return None;
        }
        for armed in rules.iter_mut() {
            let rule = &armed.rule;
            if rule.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method))
                || rule.path.as_deref().is_some_and(|p| !matches(p, path))
                || (rule.fault == FaultKind::SessionExpired && !in_session)
            {
                continue;
            }
            // Counted even once spent, so a client's retry shows as a second match.
            armed.matched += 1;
            if rule.times.is_some_and(|t| armed.injected >= t) {
                continue;
            }
            let fire = match (rule.every, rule.probability) {
                (_, Some(p)) => next(&mut armed.rng) < p,
                (every, None) => armed.matched % every.unwrap_or(1) == 0,
            };
            if !fire {
                continue;
            }
            armed.injected += 1;
            return Some(injected(rule.fault, rule.retry_after.unwrap_or(1)));
        }
        None
    }
}

fn injected(kind: FaultKind, retry_after: u64) -> Injected {
    let error = match kind {
        FaultKind::SessionExpired => return Injected::ExpireSession,
        FaultKind::AsyncSession => return Injected::ForceAsync,
        FaultKind::Throttle => GraphError::too_many_requests("Too many requests (injected).", retry_after),
        FaultKind::Unavailable => {
            GraphError::new(Code::ServiceNotAvailable, None, "The service is not available (injected).")
                .retry_after(retry_after)
        }
        FaultKind::Timeout => GraphError::new(
            Code::MaxRequestDurationExceeded,
            Some("gatewayTimeoutUncategorized"),
            "The request took too long (injected).",
        ),
        FaultKind::Locked => GraphError::new(Code::ResourceLocked, None, "The resource is locked (injected)."),
        FaultKind::WacToken => {
            GraphError::new(Code::AccessDenied, None, "Could not obtain a WAC access token (injected).")
        }
    };
    Injected::Answer(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(json: &str) -> Faults {
        let f = Faults::default();
        f.set(parse_rules(json.as_bytes()).unwrap());
        f
    }

    #[test]
    fn patterns_match_case_insensitively() {
        assert!(matches(
            "/v1.0/me/drive/items/*/workbook/worksheets*",
            "/v1.0/me/drive/items/01A/workbook/Worksheets/S"
        ));
        assert!(!matches("/v1.0/me/drive/items/*/workbook/tables", "/v1.0/me/drive/items/01A/workbook/worksheets"));
        assert!(matches("*createSession", "/v1.0/me/drive/items/1/workbook/createsession"));
        assert!(matches("/exact", "/EXACT"));
    }

    #[test]
    fn every_nth_times_and_method() {
        let f = faults(
            r#"{"rules":[{"fault":"throttle","method":"GET","path":"*worksheets","every":2,"times":2,"retryAfter":3}]}"#,
        );
        let hits: Vec<bool> = (0..8).map(|_| f.check("GET", "/v1.0/x/worksheets", false).is_some()).collect();
        assert_eq!(hits, [false, true, false, true, false, false, false, false]);
        assert!(f.check("POST", "/v1.0/x/worksheets", false).is_none());
        let f = faults(r#"[{"fault":"throttle","retryAfter":3}]"#);
        let Some(Injected::Answer(error)) = f.check("GET", "/any", false) else { panic!("an answer") };
        assert_eq!((error.status(), error.retry_after), (429, Some(3)));
        let f = faults(r#"[{"fault":"sessionExpired"},{"fault":"asyncSession"}]"#);
        // Outside a session the expiry rule does not apply, and the next rule does.
        assert!(matches!(f.check("GET", "/x", false), Some(Injected::ForceAsync)));
        assert!(matches!(f.check("GET", "/x", true), Some(Injected::ExpireSession)));
    }

    #[test]
    fn probability_repeats_with_its_seed() {
        let rule = r#"[{"fault":"unavailable","probability":0.3,"seed":7}]"#;
        let run = || {
            let f = faults(rule);
            (0..1000).map(|_| f.check("GET", "/p", false).is_some()).collect::<Vec<_>>()
        };
        let (a, b) = (run(), run());
        assert_eq!(a, b);
        let share = a.iter().filter(|x| **x).count();
        assert!((250..350).contains(&share), "{share}");
    }

    #[test]
    fn bad_rules_are_refused() {
        for bad in [
            r#"[{"fault":"nope"}]"#,
            r#"[{"fault":"throttle","every":0}]"#,
            r#"[{"fault":"throttle","probability":2}]"#,
            r#"[{"fault":"throttle","every":2,"probability":0.5}]"#,
            r#"[{"fault":"throttle","colour":"red"}]"#,
        ] {
            assert!(parse_rules(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
