//! Request budgets like Graph's throttling: per user and per client app (per tenant), each a token
//! bucket of `requests` refilled over `per`. A request over budget answers 429 `tooManyRequests`
//! with the `Retry-After` that will let it through. Off unless configured. Items of a `$batch`
//! are counted one by one, as Graph does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Principal;
use crate::error::GraphError;

/// `requests` per `per` (`--throttle-user 100/10s`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub requests: u32,
    pub per: Duration,
}

impl std::str::FromStr for Budget {
    type Err = String;

    /// `N/DURATION`, such as `1500/10s` or `60/1m`.
    fn from_str(text: &str) -> Result<Budget, String> {
        let (n, per) =
            text.split_once('/').ok_or_else(|| format!("{text:?}: expected REQUESTS/DURATION, as 100/10s"))?;
        let requests: u32 =
            n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("{n:?}: not a positive number"))?;
        let per = crate::duration::parse_duration(per)?;
        Ok(Budget { requests, per })
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every user and app seen; full ones are forgotten when there are many.
pub struct Throttle {
    user: Option<Budget>,
    app: Option<Budget>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Buckets kept before full (idle) ones are dropped.
const PRUNE_AT: usize = 10_000;

impl Throttle {
    pub fn new(user: Option<Budget>, app: Option<Budget>) -> Throttle {
        Throttle { user, app, buckets: Mutex::new(HashMap::new()) }
    }

    /// Whether any budget is set (when none is, a request skips the throttle altogether).
    pub fn is_on(&self) -> bool {
        self.user.is_some() || self.app.is_some()
    }

    /// Takes one request from the caller's budgets, or says how long to wait. A request refused by
    /// one budget takes nothing from the other.
    pub fn admit(&self, who: &Principal) -> Result<(), GraphError> {
        self.admit_at(who, Instant::now())
    }

    fn admit_at(&self, who: &Principal, now: Instant) -> Result<(), GraphError> {
        // (whose budget, bucket key, budget)
        let mut keys: Vec<(&str, String, Budget)> = Vec::with_capacity(2);
        if let Some(b) = self.user {
            keys.push(("user", format!("user\u{0}{}", who.drive_owner()), b));
        }
        if let (Some(b), Some(app)) = (self.app, who.client_app.as_deref()) {
            keys.push(("application", format!("app\u{0}{}\u{0}{app}", who.tenant.as_deref().unwrap_or("")), b));
        }
        if keys.is_empty() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_AT {
            let budgets = (self.user, self.app);
            buckets.retain(|k, b| {
                let budget = if k.starts_with("user") { budgets.0 } else { budgets.1 };
                budget.is_some_and(|budget| refilled(b, budget, now) < f64::from(budget.requests))
            });
        }
        let mut wait = Duration::ZERO;
        let mut refused_by: Vec<&str> = Vec::new();
        for (whose, key, budget) in &keys {
            let bucket =
                buckets.entry(key.clone()).or_insert(Bucket { tokens: f64::from(budget.requests), updated: now });
            bucket.tokens = refilled(bucket, *budget, now);
            bucket.updated = now;
            if bucket.tokens < 1.0 {
                let per_token = budget.per.as_secs_f64() / f64::from(budget.requests);
                wait = wait.max(Duration::from_secs_f64((1.0 - bucket.tokens) * per_token));
                refused_by.push(whose);
            }
        }
        if !wait.is_zero() {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let whose = refused_by.join(" and ");
            return Err(GraphError::too_many_requests(
                format!("Too many requests for this {whose}; retry after {seconds} s."),
                seconds,
            ));
        }
        for (_, key, _) in &keys {
            if let Some(b) = buckets.get_mut(key) {
                b.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

fn refilled(bucket: &Bucket, budget: Budget, now: Instant) -> f64 {
    let rate = f64::from(budget.requests) / budget.per.as_secs_f64();
    let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
    (bucket.tokens + elapsed * rate).min(f64::from(budget.requests))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(user: &str, app: Option<&str>) -> Principal {
        let mut p = Principal::new(user.into(), None, Some("t1".into()), vec!["Files.ReadWrite".into()], vec![], false);
        p.client_app = app.map(str::to_string);
        p
    }

    #[test]
    fn budgets_parse() {
        assert_eq!("100/10s".parse(), Ok(Budget { requests: 100, per: Duration::from_secs(10) }));
        assert_eq!("5/1m".parse(), Ok(Budget { requests: 5, per: Duration::from_secs(60) }));
        assert_eq!("5/250ms".parse(), Ok(Budget { requests: 5, per: Duration::from_millis(250) }));
        for bad in ["", "100", "0/10s", "x/10s", "10/", "10/0s", "10/3d"] {
            assert!(bad.parse::<Budget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_user_over_budget_waits_for_the_refill() {
        let t = Throttle::new(Some("2/10s".parse().unwrap()), None);
        let (alice, bob) = (principal("alice", None), principal("bob", None));
        let now = Instant::now();
        assert!(t.admit_at(&alice, now).is_ok());
        assert!(t.admit_at(&alice, now).is_ok());
        let e = t.admit_at(&alice, now).unwrap_err();
        assert_eq!((e.status(), e.code.as_str(), e.retry_after), (429, "tooManyRequests", Some(5)));
        assert!(t.admit_at(&bob, now).is_ok(), "budgets are per user");
        assert_eq!(t.admit_at(&alice, now + Duration::from_secs(4)).unwrap_err().retry_after, Some(1));
        assert!(t.admit_at(&alice, now + Duration::from_secs(5)).is_ok());
        assert!(t.admit_at(&alice, now + Duration::from_secs(5)).is_err());
    }

    #[test]
    fn the_app_budget_is_shared_by_its_users_and_refusals_cost_nothing() {
        let t = Throttle::new(Some("2/10s".parse().unwrap()), Some("3/10s".parse().unwrap()));
        let now = Instant::now();
        let (a, b, c) = (principal("a", Some("app1")), principal("b", Some("app1")), principal("c", Some("app2")));
        assert!(t.admit_at(&a, now).is_ok());
        assert!(t.admit_at(&a, now).is_ok());
        // a is over its own budget: refused without spending app1's.
        let e = t.admit_at(&a, now).unwrap_err();
        assert!(e.message.contains("for this user;"), "{}", e.message);
        assert!(t.admit_at(&b, now).is_ok());
        // b is within its own budget; app1's is spent, and the message names that one.
        let e = t.admit_at(&b, now).unwrap_err();
        assert!(e.message.contains("for this application;"), "{}", e.message);
        assert!(t.admit_at(&c, now).is_ok(), "another app has its own budget");
        // Without a client app, only the user's budget applies.
        let none = principal("d", None);
        assert!(t.admit_at(&none, now).is_ok());
    }

    #[test]
    fn off_admits_everything() {
        let t = Throttle::new(None, None);
        assert!(!t.is_on());
        for _ in 0..1000 {
            assert!(t.admit(&principal("a", Some("x"))).is_ok());
        }
    }
}
