//! Bearer tokens to a [`Principal`], and the permission table of `decisions.md`.
//!
//! - Dev mode (the default on loopback): any bearer token is accepted. A JWT's claims are used
//!   unverified; an opaque token is the one dev user with `Files.ReadWrite`.
//! - Verified mode: HS256 with a shared secret, or RS256/ES256 keys from a JWKS file or an OIDC
//!   issuer's `jwks_uri` (see [`KeySource`]); `exp`, `nbf`, and, when configured, `aud` and `iss`
//!   are checked.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::{Code, GraphError};

/// The tenant id of personal Microsoft accounts.
pub const PERSONAL_ACCOUNTS_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// The one user an opaque dev token stands for.
pub const DEV_USER: &str = "dev";

#[derive(Clone)]
pub enum AuthMode {
    Dev,
    Verified(Arc<Verifier>),
}

/// Where a verifier's public keys come from when they can change: an OIDC issuer's `jwks_uri`.
/// The server fetches it again when a token names a key id it has not seen (keys roll over).
pub trait KeySource: Send + Sync {
    /// The JWKS document, as text.
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
}

/// One verification key, with the algorithm it verifies and its key id when the JWKS gives one.
struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

pub struct Verifier {
    keys: RwLock<Arc<Vec<Key>>>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    source: Option<Arc<dyn KeySource>>,
    /// Key ids recently looked for and not found, so an unknown `kid` refetches at most once a minute;
    /// the lock also makes concurrent refetches wait for one another.
    misses: tokio::sync::Mutex<HashMap<String, Instant>>,
    /// Tokens verified lately. A client sends the same token on every call, and checking an RS256
    /// or ES256 signature costs tens of microseconds; an entry holds while the keys that verified
    /// it are still the current ones and its `exp` (with the leeway) has not passed.
    accepted: Mutex<HashMap<String, Accepted>>,
}

struct Accepted {
    principal: Arc<Principal>,
    /// Unix seconds after which the token is expired, leeway included.
    until: u64,
    keys: Arc<Vec<Key>>,
}

/// Most tokens remembered; beyond it expired ones are dropped, then all.
const ACCEPTED_MAX: usize = 4096;
/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY: u64 = 30;

/// How long an unknown key id is not looked for again.
const UNKNOWN_KID_RETRY: Duration = Duration::from_secs(60);

impl Verifier {
    fn with_keys(keys: Vec<Key>, audience: Option<String>, issuer: Option<String>) -> Verifier {
        Verifier {
            keys: RwLock::new(Arc::new(keys)),
            audience,
            issuer,
            source: None,
            misses: tokio::sync::Mutex::new(HashMap::new()),
            accepted: Mutex::new(HashMap::new()),
        }
    }

    fn remembered(&self, token: &str, keys: &Arc<Vec<Key>>, now: u64) -> Option<Arc<Principal>> {
        let accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        let a = accepted.get(token)?;
        (now <= a.until && Arc::ptr_eq(&a.keys, keys)).then(|| a.principal.clone())
    }

    fn remember(&self, token: &str, principal: Arc<Principal>, exp: u64, keys: Arc<Vec<Key>>, now: u64) {
        let mut accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        if accepted.len() >= ACCEPTED_MAX {
            accepted.retain(|_, a| now <= a.until && Arc::ptr_eq(&a.keys, &keys));
            if accepted.len() >= ACCEPTED_MAX {
                accepted.clear();
            }
        }
        accepted.insert(token.to_string(), Accepted { principal, until: exp.saturating_add(LEEWAY), keys });
    }

    pub fn hs256(secret: &[u8], audience: Option<String>, issuer: Option<String>) -> Verifier {
        let key = Key { kid: None, alg: Algorithm::HS256, key: DecodingKey::from_secret(secret) };
        Verifier::with_keys(vec![key], audience, issuer)
    }

    /// Keys from a JWKS document (`{"keys":[…]}`): RSA keys verify RS256, EC P-256 keys ES256.
    pub fn from_jwks(jwks: &str, audience: Option<String>, issuer: Option<String>) -> Result<Verifier, String> {
        Ok(Verifier::with_keys(parse_jwks(jwks)?, audience, issuer))
    }

    /// Keys fetched from `source` now, and again whenever a token names an unknown key id.
    pub async fn from_source(
        source: Arc<dyn KeySource>,
        audience: Option<String>,
        issuer: Option<String>,
    ) -> Result<Verifier, String> {
        let keys = parse_jwks(&source.fetch().await?)?;
        let mut verifier = Verifier::with_keys(keys, audience, issuer);
        verifier.source = Some(source);
        Ok(verifier)
    }

    /// Fetches the keys again (a periodic refresh drops keys the issuer has retired).
    /// On failure the keys in hand stay.
    pub async fn refresh(&self) -> Result<usize, String> {
        let Some(source) = &self.source else { return Ok(self.current_keys().len()) };
        let keys = parse_jwks(&source.fetch().await?)?;
        let count = keys.len();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        Ok(count)
    }

    fn current_keys(&self) -> Arc<Vec<Key>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Refetches the keys for a key id not among them, unless it was looked for lately.
    async fn look_for(&self, kid: &str) {
        if self.source.is_none() {
            return;
        }
        let mut misses = self.misses.lock().await;
        // Another request may have fetched it while this one waited.
        if self.current_keys().iter().any(|k| k.kid.as_deref() == Some(kid)) {
            return;
        }
        let now = Instant::now();
        if misses.get(kid).is_some_and(|at| now.duration_since(*at) < UNKNOWN_KID_RETRY) {
            return;
        }
        misses.retain(|_, at| now.duration_since(*at) < UNKNOWN_KID_RETRY);
        if misses.len() >= 1024 {
            return; // a flood of made-up key ids must not turn into a flood of fetches
        }
        misses.insert(kid.to_string(), now);
        if let Err(e) = self.refresh().await {
            eprintln!("workbookd: refetching the issuer's keys failed: {e}");
        }
    }
}

fn parse_jwks(jwks: &str) -> Result<Vec<Key>, String> {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks).map_err(|e| format!("JWKS: {e}"))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let alg = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
            _ => continue,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key: {e}"))?;
        keys.push(Key { kid: jwk.common.key_id.clone(), alg, key });
    }
    if keys.is_empty() {
        return Err("the JWKS holds no RSA or EC key".into());
    }
    Ok(keys)
}

/// Who is calling, from the token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `oid`, else `sub`.
    pub user_id: String,
    /// `preferred_username`, else `upn`.
    pub username: Option<String>,
    pub tenant: Option<String>,
    pub scopes: Vec<String>,
    pub roles: Vec<String>,
    /// An application token (client credentials) rather than a user's.
    pub app: bool,
    /// The client application the token was issued to (`azp`, else `appid`): throttling's
    /// per-app budget.
    pub client_app: Option<String>,
    /// The owner key of the caller's own drive (`user:{tenant}:{id}`), made once.
    owner: String,
}

/// What an operation needs of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read drive items and content.
    DriveRead,
    /// Upload or delete drive items.
    DriveWrite,
    /// Any workbook call (reads included: sessions are write-scoped in Graph).
    Workbook,
}

#[derive(Debug, Default, Deserialize)]
struct Claims {
    oid: Option<String>,
    sub: Option<String>,
    preferred_username: Option<String>,
    upn: Option<String>,
    unique_name: Option<String>,
    tid: Option<String>,
    scp: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    idtyp: Option<String>,
    azp: Option<String>,
    appid: Option<String>,
    exp: Option<u64>,
}

impl Claims {
    fn into_principal(self) -> Result<Principal, GraphError> {
        let user_id = self
            .oid
            .or(self.sub)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid_token("The token names no subject (oid or sub)."))?;
        let scopes: Vec<String> = self.scp.as_deref().unwrap_or("").split_whitespace().map(str::to_string).collect();
        let app = self.idtyp.as_deref() == Some("app") || (scopes.is_empty() && !self.roles.is_empty());
        let mut principal = Principal::new(
            user_id,
            self.preferred_username.or(self.upn).or(self.unique_name),
            self.tid,
            scopes,
            self.roles,
            app,
        );
        principal.client_app = self.azp.or(self.appid).filter(|a| !a.is_empty());
        Ok(principal)
    }
}

fn invalid_token(message: impl Into<String>) -> GraphError {
    GraphError::new(Code::InvalidAuthenticationToken, None, message)
}

/// The caller of a request, from its `Authorization` header.
pub async fn authenticate(authorization: Option<&str>, mode: &AuthMode) -> Result<Arc<Principal>, GraphError> {
    let header = authorization.ok_or_else(|| invalid_token("Access token is empty."))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_token("The Authorization header is not a bearer token."))?;
    match mode {
        AuthMode::Dev => dev_principal(token),
        // Boxed: its state (a possible key refetch) would otherwise enlarge every request's future.
        AuthMode::Verified(v) => Box::pin(verified_principal(token, v)).await,
    }
}

/// The user an opaque dev token stands for, made once.
static DEV_PRINCIPAL: LazyLock<Arc<Principal>> = LazyLock::new(|| {
    Arc::new(Principal::new(
        DEV_USER.to_string(),
        Some(format!("{DEV_USER}@workbookd.local")),
        None,
        vec!["Files.ReadWrite".to_string()],
        Vec::new(),
        false,
    ))
});

fn dev_principal(token: &str) -> Result<Arc<Principal>, GraphError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Ok(DEV_PRINCIPAL.clone());
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| invalid_token("The token is a malformed JWT: its payload is not base64url."))?;
    let claims: Claims = serde_json::from_slice(&payload)
        .map_err(|e| invalid_token(format!("The token is a malformed JWT: its payload is not JSON claims ({e}).")))?;
    claims.into_principal().map(Arc::new)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

async fn verified_principal(token: &str, v: &Verifier) -> Result<Arc<Principal>, GraphError> {
    let now = unix_now();
    if let Some(known) = v.remembered(token, &v.current_keys(), now) {
        return Ok(known);
    }
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| invalid_token(format!("The token is malformed: {e}.")))?;
    let fits = |k: &Key| k.alg == header.alg && (header.kid.is_none() || k.kid.is_none() || k.kid == header.kid);
    let mut keys = v.current_keys();
    if !keys.iter().any(fits) {
        if let Some(kid) = &header.kid {
            v.look_for(kid).await;
            keys = v.current_keys();
        }
    }
    let candidates: Vec<&Key> = keys.iter().filter(|k| fits(k)).collect();
    if candidates.is_empty() {
        return Err(invalid_token(format!("No key verifies {:?} tokens with this key id.", header.alg)));
    }
    let mut last = None;
    for Key { alg, key, .. } in candidates {
        let mut validation = Validation::new(*alg);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        match &v.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &v.issuer {
            validation.set_issuer(&[iss]);
        }
        match jsonwebtoken::decode::<Claims>(token, key, &validation) {
            Ok(data) => {
                // `exp` is a required claim: decoding checked it is there.
                let exp = data.claims.exp.unwrap_or(now);
                let principal = Arc::new(data.claims.into_principal()?);
                v.remember(token, principal.clone(), exp, keys.clone(), now);
                return Ok(principal);
            }
            Err(e) => last = Some(e),
        }
    }
    let reason = match last.as_ref().map(|e| e.kind()) {
        Some(jsonwebtoken::errors::ErrorKind::ExpiredSignature) => "Lifetime validation failed, the token is expired.",
        Some(jsonwebtoken::errors::ErrorKind::ImmatureSignature) => "The token is not valid yet (nbf).",
        Some(jsonwebtoken::errors::ErrorKind::InvalidAudience) => "Invalid audience.",
        Some(jsonwebtoken::errors::ErrorKind::InvalidIssuer) => "Invalid issuer.",
        Some(jsonwebtoken::errors::ErrorKind::InvalidSignature) => "Invalid signature.",
        Some(jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_)) => "The token lacks a required claim (exp).",
        _ => "The token could not be validated.",
    };
    Err(invalid_token(reason))
}

/// The owner key of a user's drive (`user:{tenant}:{id}`, or `user:{id}` without a tenant), as
/// their tokens resolve it: `--seed` fills that drive. `%` and `:` inside the tenant and the id
/// are percent-escaped, so no two (tenant, id) pairs share a key (a tenantless subject
/// `t1:alice` is not tenant t1's alice); keys of ids without them are as they always were.
pub fn drive_owner_of(user_id: &str, tenant: Option<&str>) -> String {
    let escape = |s: &str| s.replace('%', "%25").replace(':', "%3A");
    match tenant {
        Some(t) => format!("user:{}:{}", escape(t), escape(user_id)),
        None => format!("user:{}", escape(user_id)),
    }
}

#[cfg(test)]
mod owner_keys {
    use super::drive_owner_of;

    #[test]
    fn owner_keys_are_unambiguous() {
        assert_eq!(drive_owner_of("alice", Some("t1")), "user:t1:alice");
        assert_eq!(drive_owner_of("dev", None), "user:dev");
        assert_ne!(drive_owner_of("t1:alice", None), drive_owner_of("alice", Some("t1")));
        assert_ne!(drive_owner_of("b", Some("a:x")), drive_owner_of("x:b", Some("a")));
        assert_ne!(drive_owner_of("a%3Ab", None), drive_owner_of("a:b", None));
    }
}

impl Principal {
    pub fn new(
        user_id: String,
        username: Option<String>,
        tenant: Option<String>,
        scopes: Vec<String>,
        roles: Vec<String>,
        app: bool,
    ) -> Principal {
        let owner = drive_owner_of(&user_id, tenant.as_deref());
        Principal { user_id, username, tenant, scopes, roles, app, client_app: None, owner }
    }

    /// The owner key of this caller's own drive; also who owns the caller's sessions.
    pub fn drive_owner(&self) -> &str {
        &self.owner
    }

    /// Whether `/users/{key}` names this caller (by id or username, case-insensitively).
    pub fn is(&self, key: &str) -> bool {
        self.user_id.eq_ignore_ascii_case(key) || self.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(key))
    }

    fn has_scope(&self, prefix_any: &[&str]) -> bool {
        self.scopes.iter().any(|s| prefix_any.iter().any(|p| s.eq_ignore_ascii_case(p)))
    }

    /// The seed's permission table.
    pub fn check(&self, need: Need) -> Result<(), GraphError> {
        let workbook = need == Need::Workbook;
        let denied = |message: &str| {
            if workbook {
                GraphError::new(Code::Forbidden, Some("accessDenied"), message)
            } else {
                GraphError::new(Code::AccessDenied, None, message)
            }
        };
        if self.tenant.as_deref() == Some(PERSONAL_ACCOUNTS_TENANT) && workbook {
            return Err(denied("Personal Microsoft accounts are not supported"));
        }
        if self.app {
            return Err(denied("Application permissions are not supported for this API"));
        }
        let write = self.has_scope(&["Files.ReadWrite", "Files.ReadWrite.All", "Sites.ReadWrite.All"]);
        let read = write || self.has_scope(&["Files.Read", "Files.Read.All", "Sites.Read.All"]);
        match need {
            Need::DriveRead if read => Ok(()),
            Need::DriveWrite | Need::Workbook if write => Ok(()),
            _ => Err(denied("The token's scopes do not allow this operation (Files.ReadWrite is needed).")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_now(authorization: Option<&str>, mode: &AuthMode) -> Result<Arc<Principal>, GraphError> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(authenticate(authorization, mode))
    }

    fn jwt(claims: &serde_json::Value) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.sig", e.encode(br#"{"alg":"none"}"#), e.encode(claims.to_string()))
    }

    #[test]
    fn dev_mode_reads_claims_unverified() {
        let p = auth_now(Some("Bearer anything"), &AuthMode::Dev).unwrap();
        assert_eq!(p.user_id, DEV_USER);
        assert!(p.check(Need::Workbook).is_ok());
        let t = jwt(&serde_json::json!({"oid": "u1", "tid": "t", "scp": "Files.Read", "preferred_username": "a@b.c"}));
        let p = auth_now(Some(&format!("Bearer {t}")), &AuthMode::Dev).unwrap();
        assert_eq!((p.user_id.as_str(), p.is("A@B.C")), ("u1", true));
        assert!(p.check(Need::DriveRead).is_ok());
        let e = p.check(Need::Workbook).unwrap_err();
        assert_eq!((e.status(), e.code.as_str(), e.inner_code), (403, "forbidden", Some("accessDenied")));
        assert_eq!(p.check(Need::DriveWrite).unwrap_err().code.as_str(), "accessDenied");
    }

    #[test]
    fn apps_and_personal_accounts_are_refused_on_workbooks() {
        let app = jwt(&serde_json::json!({"oid": "a", "roles": ["Files.ReadWrite.All"]}));
        let p = auth_now(Some(&format!("Bearer {app}")), &AuthMode::Dev).unwrap();
        assert!(p.app);
        assert_eq!(
            p.check(Need::Workbook).unwrap_err().message,
            "Application permissions are not supported for this API"
        );
        let msa = jwt(&serde_json::json!({"oid": "m", "tid": PERSONAL_ACCOUNTS_TENANT, "scp": "Files.ReadWrite"}));
        let p = auth_now(Some(&format!("Bearer {msa}")), &AuthMode::Dev).unwrap();
        assert_eq!(p.check(Need::Workbook).unwrap_err().message, "Personal Microsoft accounts are not supported");
    }

    #[test]
    fn missing_or_garbled_tokens_are_401() {
        for h in [None, Some("Basic abc"), Some("Bearer "), Some("Bearer a.!!!.c"), Some("Bearer a.e30.c")] {
            let e = auth_now(h, &AuthMode::Dev).unwrap_err();
            assert_eq!((e.status(), e.code.as_str()), (401, "InvalidAuthenticationToken"), "{h:?}");
        }
    }

    #[test]
    fn verified_mode_checks_signature_expiry_audience_issuer() {
        let secret = b"s3cret";
        let v = AuthMode::Verified(Arc::new(Verifier::hs256(secret, Some("api://wb".into()), Some("iss".into()))));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let sign = |claims: serde_json::Value, key: &[u8]| {
            let t = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(Algorithm::HS256),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(key),
            )
            .unwrap();
            format!("Bearer {t}")
        };
        let good = serde_json::json!({"oid": "u", "scp": "Files.ReadWrite", "exp": now + 600, "aud": "api://wb", "iss": "iss"});
        assert_eq!(auth_now(Some(&sign(good.clone(), secret)), &v).unwrap().user_id, "u");
        let cases = [
            (sign(good.clone(), b"other"), "Invalid signature."),
            (
                sign(serde_json::json!({"oid": "u", "exp": now - 600, "aud": "api://wb", "iss": "iss"}), secret),
                "expired",
            ),
            (sign(serde_json::json!({"oid": "u", "exp": now + 600, "aud": "x", "iss": "iss"}), secret), "audience"),
            (sign(serde_json::json!({"oid": "u", "exp": now + 600, "aud": "api://wb", "iss": "x"}), secret), "issuer"),
            ("Bearer opaque".to_string(), "malformed"),
        ];
        for (token, expect) in cases {
            let e = auth_now(Some(&token), &v).unwrap_err();
            assert_eq!(e.status(), 401);
            assert!(e.message.contains(expect), "{} vs {expect}", e.message);
        }
    }

    #[test]
    fn verified_tokens_are_remembered_until_expiry_or_new_keys() {
        let v = Arc::new(Verifier::hs256(b"k1", None, None));
        let mode = AuthMode::Verified(v.clone());
        let now = unix_now();
        let claims = serde_json::json!({"oid": "u", "scp": "Files.ReadWrite", "exp": now + 600});
        let header = jsonwebtoken::Header::new(Algorithm::HS256);
        let token = jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(b"k1")).unwrap();
        let bearer = format!("Bearer {token}");
        let first = auth_now(Some(&bearer), &mode).unwrap();
        assert!(Arc::ptr_eq(&first, &auth_now(Some(&bearer), &mode).unwrap()), "the second call is a cache hit");
        let keys = v.current_keys();
        assert!(v.remembered(&token, &keys, now + 600 + LEEWAY).is_some());
        assert!(v.remembered(&token, &keys, now + 600 + LEEWAY + 1).is_none(), "expired, leeway included");
        // New keys (a JWKS refresh) forget what the old ones verified.
        let other = Key { kid: None, alg: Algorithm::HS256, key: DecodingKey::from_secret(b"k2") };
        *v.keys.write().unwrap() = Arc::new(vec![other]);
        assert!(v.remembered(&token, &v.current_keys(), now).is_none());
        assert_eq!(auth_now(Some(&bearer), &mode).unwrap_err().message, "Invalid signature.");
    }
}
