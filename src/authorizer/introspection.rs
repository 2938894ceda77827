//! Opaque tokens, judged by their issuer: OAuth 2.0 Token Introspection (RFC 7662).
//!
//! On when `AUTH_INTROSPECTION_CLIENT_ID` and `AUTH_INTROSPECTION_CLIENT_SECRET` are set (one
//! issuer only: an opaque token does not say who issued it). A token that is not shaped as a
//! compact JWS (three dot-separated parts) is then POSTed to the issuer's introspection endpoint
//! (`AUTH_INTROSPECTION_URL`, else the `introspection_endpoint` of its metadata, RFC 8414 §2),
//! authenticated with `client_secret_basic` (RFC 6749 §2.3.1).
//!
//! - [`parse`] and [`accept`] judge an answer with the clock passed in (pure): `active` must be
//!   the JSON boolean `true`; when present, `iss` must be the issuer, `exp` / `nbf` / `iat` hold
//!   with the leeway, and `aud` follows the JWT rule (RFC 9068 §4: `aud` decides, else
//!   `client_id`); scopes come from `scope`. A sender-constrained token's `cnf` (`jkt`,
//!   `x5t#S256`) goes on with the claims to the binding step, as a JWT's does; a `token_type`
//!   `DPoP` without `cnf.jkt` is refused.
//! - [`Cache`] keeps answers per token (under the SHA-256 of the token, never the token) for at
//!   most `AUTH_INTROSPECTION_CACHE_SECONDS` (default 60, 0 = ask every time) and never past
//!   `exp`, bounded in entries; concurrent requests for one token share one call.
//! - [`Introspector`] makes the call: its own timeout (`AUTH_INTROSPECTION_TIMEOUT_MS`, default
//!   1500 ms, as a key fetch's), a bound on the answer's size, through the process's one HTTP
//!   client. Down, slow, an error status (a 401 to our client included), garbage or too large:
//!   the token is refused (`introspection-unavailable`), never allowed, and the failure is not
//!   cached.

use crate::authorizer::config::{ConfigError, IssuerConfig, whole_number};
use crate::authorizer::metrics::{self, Dependency};
use crate::metrics::Metrics;
use crate::scopes::ScopeSet;
use crate::token::{
    self, ClaimPolicy, FetchError, KeyFetcher, Rules, TokenClaims, TokenError, Verified,
    audience_accepted, check_window, fetchable,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Largest introspection answer read, in bytes: an answer is a few hundred bytes of claims.
pub const MAX_ANSWER_BYTES: usize = 65_536;

/// Most answers cached at once: a flood of made-up tokens evicts answers, it cannot grow memory.
pub const CACHE_ENTRIES: usize = 10_000;

/// How to introspect, from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct IntrospectionConfig {
    /// Our client at the issuer (`AUTH_INTROSPECTION_CLIENT_ID`).
    pub client_id: String,
    /// Its secret (`AUTH_INTROSPECTION_CLIENT_SECRET`; the `authorizer` binary reads a Secrets
    /// Manager ARN there through the extension, as `AUTH_HMAC_SECRET_ARN`). Never logged.
    pub client_secret: String,
    /// The endpoint (`AUTH_INTROSPECTION_URL`), or `None` to read it from the issuer's metadata.
    pub url: Option<String>,
    /// Longest an answer is reused (`AUTH_INTROSPECTION_CACHE_SECONDS`, default 60; 0: never).
    pub cache_secs: u64,
    /// The bound on one call (`AUTH_INTROSPECTION_TIMEOUT_MS`, default 1500 ms).
    pub timeout: Duration,
}

impl fmt::Debug for IntrospectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"…")
            .field("url", &self.url)
            .field("cache_secs", &self.cache_secs)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl IntrospectionConfig {
    /// Reads the `AUTH_INTROSPECTION_*` variables through `lookup`: `None` when the client is
    /// not set; an error when half of it is, or when `issuers` is not exactly one.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        issuers: &[IssuerConfig],
    ) -> Result<Option<Self>, ConfigError> {
        let error = |variable, problem: &str| ConfigError {
            variable,
            problem: problem.into(),
        };
        let (client_id, client_secret) = match (
            lookup("AUTH_INTROSPECTION_CLIENT_ID"),
            lookup("AUTH_INTROSPECTION_CLIENT_SECRET"),
        ) {
            (None, None) => return Ok(None),
            (Some(id), Some(secret)) => (id.trim().to_owned(), secret),
            (Some(_), None) => {
                return Err(error("AUTH_INTROSPECTION_CLIENT_SECRET", "is not set"));
            }
            (None, Some(_)) => return Err(error("AUTH_INTROSPECTION_CLIENT_ID", "is not set")),
        };
        if issuers.len() != 1 {
            return Err(error(
                "AUTH_INTROSPECTION_CLIENT_ID",
                "needs exactly one issuer: an opaque token does not say who issued it",
            ));
        }
        let url = lookup("AUTH_INTROSPECTION_URL").map(|u| u.trim().to_owned());
        if let Some(url) = &url {
            fetchable(url).map_err(|problem| error("AUTH_INTROSPECTION_URL", &problem))?;
        }
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            Ok(whole_number(name, lookup(name))?.unwrap_or(default))
        };
        let timeout = Duration::from_millis(number("AUTH_INTROSPECTION_TIMEOUT_MS", 1500)?);
        if timeout.is_zero() {
            return Err(error(
                "AUTH_INTROSPECTION_TIMEOUT_MS",
                "must be greater than 0",
            ));
        }
        Ok(Some(IntrospectionConfig {
            client_id,
            client_secret,
            url,
            cache_secs: number("AUTH_INTROSPECTION_CACHE_SECONDS", 60)?,
            timeout,
        }))
    }
}

/// Whether `token` is to be introspected: anything not shaped as a compact JWS (RFC 7515 §7.1:
/// three parts). A token that is shaped as one is a JWT, judged by its signature.
pub fn is_opaque(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() != 2
}

/// An introspection answer, read once.
#[derive(Clone, Debug)]
pub struct Answer {
    active: bool,
    claims: TokenClaims,
    members: Map<String, Value>,
}

/// Reads an answer (RFC 7662 §2.2): a JSON object whose `active` is a boolean and whose
/// registered members have their JWT types. Anything else is no answer.
pub fn parse(body: &[u8]) -> Result<Answer, &'static str> {
    let members: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| "not a JSON object")?;
    let active = match members.get("active") {
        Some(Value::Bool(active)) => *active,
        Some(_) => return Err("active is not a boolean"),
        None => return Err("no active member"),
    };
    let claims = if active {
        serde_json::from_value(Value::Object(members.clone()))
            .map_err(|_| "a member has the wrong type")?
    } else {
        TokenClaims::default()
    };
    Ok(Answer {
        active,
        claims,
        members,
    })
}

impl Answer {
    /// `exp`, when the answer has one: no answer is used past it.
    fn expiry(&self) -> Option<u64> {
        self.claims.exp.map(|exp| exp.max(0.0) as u64)
    }
}

/// Accepts the token `answer` describes if it is active and meets `rules` and `policy` at `now`
/// (seconds since the epoch): the checks of a JWT's claims that an answer can carry, each only
/// when its member is present (RFC 7662 §2.2 requires only `active`), except the audience,
/// which must be named by `aud` or, without it, `client_id`, as for a JWT.
pub fn accept(
    answer: &Answer,
    rules: &Rules,
    policy: &ClaimPolicy,
    now: u64,
) -> Result<Verified, TokenError> {
    if !answer.active {
        return Err(TokenError::Inactive);
    }
    let claims = &answer.claims;
    // A `cnf` member (RFC 9449 §6.2, RFC 8705 §3.2) is read into the claims and checked by
    // the binding step like a JWT's; a `DPoP` token type without the key it is bound to could
    // not be.
    let dpop_without_key = answer
        .members
        .get("token_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("DPoP"))
        && claims.cnf.as_ref().is_none_or(|cnf| cnf.jkt.is_none());
    if dpop_without_key {
        return Err(TokenError::WrongTokenType);
    }
    if claims.iss.as_deref().is_some_and(|iss| iss != rules.issuer) {
        return Err(TokenError::WrongIssuer);
    }
    check_window(claims, rules.leeway, now)?;
    if !audience_accepted(claims, &rules.audiences) {
        return Err(TokenError::WrongAudience);
    }
    token::check_required(&policy.required, &answer.members)?;
    let scopes = match &claims.scope {
        Some(scope) => ScopeSet::parse_issued(scope).map_err(TokenError::MalformedScope)?,
        None => ScopeSet::empty(),
    };
    let mut claims = claims.clone();
    claims.iss = Some(rules.issuer.clone());
    Ok(Verified {
        principal: token::principal_of(&answer.members, &claims, policy),
        claims,
        scopes,
    })
}

/// The cache key: the token's SHA-256, so the cache never holds a token.
pub type TokenDigest = [u8; 32];

/// The digest of `token`.
pub fn digest(token: &str) -> TokenDigest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

type Call = Shared<BoxFuture<'static, Result<Arc<Answer>, TokenError>>>;

enum Entry {
    Asking(Call),
    Answered { answer: Arc<Answer>, until: u64 },
}

/// What the cache holds for a token.
pub enum Cached {
    /// An answer to reuse.
    Answer(Arc<Answer>),
    /// A call in flight to join.
    Asking(Call),
    /// Nothing: ask.
    Nothing,
}

/// Answers per token digest, each until its time, at most [`CACHE_ENTRIES`] of them; calls in
/// flight, so that concurrent requests for one token join one call. The clock is passed in.
pub struct Cache {
    entries: HashMap<TokenDigest, Entry>,
    capacity: usize,
    ttl: u64,
}

impl Cache {
    /// An empty cache keeping answers `ttl` seconds, at most `capacity` of them.
    pub fn new(ttl: u64, capacity: usize) -> Self {
        Cache {
            entries: HashMap::new(),
            capacity,
            ttl,
        }
    }

    /// What is held for `key` at `now`; an answer whose time has come is dropped.
    pub fn get(&mut self, key: &TokenDigest, now: u64) -> Cached {
        match self.entries.get(key) {
            Some(Entry::Asking(call)) => Cached::Asking(call.clone()),
            Some(Entry::Answered { answer, until }) if now < *until => {
                Cached::Answer(answer.clone())
            }
            Some(Entry::Answered { .. }) => {
                self.entries.remove(key);
                Cached::Nothing
            }
            None => Cached::Nothing,
        }
    }

    /// Records `call` as the one in flight for `key`.
    pub fn asking(&mut self, key: TokenDigest, call: Call) {
        self.make_room();
        self.entries.insert(key, Entry::Asking(call));
    }

    /// Ends the call for `key` with `outcome` at `now`: an answer is kept for the TTL, never past
    /// its `exp`; a failure is not kept, so the next request asks again.
    pub fn answered(
        &mut self,
        key: TokenDigest,
        outcome: &Result<Arc<Answer>, TokenError>,
        now: u64,
    ) {
        let until = match outcome {
            Ok(answer) => {
                let until = now.saturating_add(self.ttl);
                answer.expiry().map_or(until, |exp| until.min(exp))
            }
            Err(_) => now,
        };
        match outcome {
            Ok(answer) if until > now => {
                let answer = answer.clone();
                self.entries.insert(key, Entry::Answered { answer, until });
            }
            _ => {
                self.entries.remove(&key);
            }
        }
    }

    /// How many entries are held.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Below capacity before an insert: the answer due soonest goes (the one least worth
    /// keeping); calls in flight stay, their callers are waiting on them.
    fn make_room(&mut self) {
        while self.entries.len() >= self.capacity {
            let soonest = self
                .entries
                .iter()
                .filter_map(|(key, entry)| match entry {
                    Entry::Answered { until, .. } => Some((*until, *key)),
                    Entry::Asking(_) => None,
                })
                .min();
            match soonest {
                Some((_, key)) => self.entries.remove(&key),
                None => return,
            };
        }
    }
}

/// The introspection client for the one issuer, with its cache. Cheap to clone.
#[derive(Clone)]
pub struct Introspector {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    configured_url: Option<String>,
    endpoint: tokio::sync::OnceCell<String>,
    /// `Basic …` for our client, computed once.
    authorization: String,
    timeout: Duration,
    fetcher: Arc<KeyFetcher>,
    cache: Mutex<Cache>,
    metrics: Metrics,
}

impl Introspector {
    /// A client for `issuer`'s endpoint, sharing `fetcher`'s HTTP client, recording calls in
    /// `metrics`. No I/O until the first opaque token.
    pub fn new(
        config: IntrospectionConfig,
        issuer: String,
        fetcher: Arc<KeyFetcher>,
        metrics: Metrics,
    ) -> Self {
        let encode =
            |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let credentials = format!(
            "{}:{}",
            encode(&config.client_id),
            encode(&config.client_secret)
        );
        let inner = Inner {
            issuer,
            configured_url: config.url,
            endpoint: tokio::sync::OnceCell::new(),
            authorization: format!("Basic {}", STANDARD.encode(credentials)),
            timeout: config.timeout,
            fetcher,
            cache: Mutex::new(Cache::new(config.cache_secs, CACHE_ENTRIES)),
            metrics,
        };
        Introspector {
            inner: Arc::new(inner),
        }
    }

    /// Verifies opaque `token` at `now` by its issuer's answer, from the cache or asked.
    pub async fn verify(
        &self,
        token: &str,
        rules: &Rules,
        policy: &ClaimPolicy,
        now: u64,
    ) -> Result<Verified, TokenError> {
        let answer = self.answer(token, now).await?;
        accept(&answer, rules, policy, now)
    }

    async fn answer(&self, token: &str, now: u64) -> Result<Arc<Answer>, TokenError> {
        let key = digest(token);
        let call = {
            let mut cache = self.lock();
            match cache.get(&key, now) {
                Cached::Answer(answer) => return Ok(answer),
                Cached::Asking(call) => call,
                Cached::Nothing => {
                    let call = self
                        .clone()
                        .ask(token.to_owned(), key, now)
                        .boxed()
                        .shared();
                    cache.asking(key, call.clone());
                    call
                }
            }
        };
        call.await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// One call, its outcome recorded in the cache before the joined callers see it.
    async fn ask(
        self,
        token: String,
        key: TokenDigest,
        now: u64,
    ) -> Result<Arc<Answer>, TokenError> {
        let started = Instant::now();
        let outcome = self.post(&token).await.map_err(|error| {
            tracing::warn!(issuer = %self.inner.issuer, %error, "introspection failed");
            TokenError::IntrospectionUnavailable
        });
        metrics::dependency_call(
            &self.inner.metrics,
            Dependency::Introspection,
            started.elapsed(),
            outcome.is_err(),
        );
        self.lock().answered(key, &outcome, now);
        outcome
    }

    async fn post(&self, token: &str) -> Result<Arc<Answer>, FetchError> {
        let inner = &self.inner;
        let endpoint = self.endpoint().await?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("token_type_hint", "access_token")
            .finish();
        let request = format!("POST {endpoint}");
        // The client's credentials and the token travel in this request: https only, as for keys.
        let checked =
            fetchable(endpoint).map_err(|problem| FetchError::new(format!("POST {problem}")))?;
        let call = async {
            let response = inner
                .fetcher
                .client()?
                .post(checked)
                .timeout(inner.timeout)
                .header("authorization", &inner.authorization)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(form)
                .send()
                .await;
            inner
                .fetcher
                .body(response, &request, MAX_ANSWER_BYTES)
                .await
        };
        let body = tokio::time::timeout(inner.timeout, call)
            .await
            .map_err(|_| FetchError::new(format!("{request}: timed out")))??;
        parse(&body)
            .map(Arc::new)
            .map_err(|problem| FetchError::new(format!("{request}: {problem}")))
    }

    /// The configured endpoint, or the one the issuer's metadata names, found once.
    async fn endpoint(&self) -> Result<&str, FetchError> {
        let inner = &self.inner;
        let endpoint = inner
            .endpoint
            .get_or_try_init(|| async {
                if let Some(url) = &inner.configured_url {
                    return Ok(url.clone());
                }
                let issuer = &inner.issuer;
                let metadata = tokio::time::timeout(inner.timeout, inner.fetcher.metadata(issuer))
                    .await
                    .map_err(|_| FetchError::new(format!("{issuer:?} metadata: timed out")))??;
                metadata.introspection_endpoint.ok_or_else(|| {
                    FetchError::new(format!(
                        "{issuer:?}: metadata names no introspection_endpoint"
                    ))
                })
            })
            .await?;
        Ok(endpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims_tests::{patched, rules};
    use serde_json::json;

    fn answer(value: Value) -> Answer {
        parse(value.to_string().as_bytes()).unwrap()
    }

    fn judge(value: Value, now: u64) -> Result<Verified, TokenError> {
        accept(&answer(value), &rules(), &ClaimPolicy::default(), now)
    }

    fn active(patch: Value) -> Value {
        let answer = json!({"active": true, "iss": "https://issuer.test/", "aud": "products-api",
            "sub": "u1", "client_id": "app", "scope": "read:products openid", "exp": 2000, "iat": 1000});
        patched(answer, patch)
    }

    #[test]
    fn rfc7662_active_must_be_the_boolean_true() {
        let verified = judge(active(json!({})), 1500).unwrap();
        assert_eq!(verified.principal, "u1");
        assert_eq!(verified.scopes.to_string(), "read:products openid");
        assert_eq!(
            judge(json!({"active": false}), 1500).unwrap_err(),
            TokenError::Inactive
        );
        for garbage in [
            json!({"active": "true"}),
            json!({"active": 1}),
            json!({}),
            json!([true]),
        ] {
            assert!(parse(garbage.to_string().as_bytes()).is_err(), "{garbage}");
        }
        assert!(parse(b"<html>").is_err());
        assert!(parse(active(json!({"exp": "2000"})).to_string().as_bytes()).is_err());
    }

    #[test]
    fn present_members_are_checked_as_a_jwt_claims_are() {
        let cases = [
            (
                json!({"iss": "https://evil.test/"}),
                TokenError::WrongIssuer,
            ),
            (json!({"aud": "other-api"}), TokenError::WrongAudience),
            (
                json!({"aud": null, "client_id": "other"}),
                TokenError::WrongAudience,
            ),
            (json!({"exp": 1400}), TokenError::Expired),
            (json!({"nbf": 1600}), TokenError::NotYetValid),
            (json!({"token_type": "DPoP"}), TokenError::WrongTokenType),
            (
                json!({"token_type": "DPoP", "cnf": {"x5t#S256": "x"}}),
                TokenError::WrongTokenType,
            ),
            (
                json!({"scope": 5}),
                TokenError::MalformedScope(crate::scopes::ScopeError::WrongType),
            ),
        ];
        for (patch, error) in cases {
            assert_eq!(
                judge(active(patch.clone()), 1500).unwrap_err(),
                error,
                "{patch}"
            );
        }
        // RFC 9449 §6.2: a bound token's `cnf` goes on to the binding step, as a JWT's does.
        let bound = judge(
            active(json!({"token_type": "DPoP", "cnf": {"jkt": "x"}})),
            1500,
        )
        .unwrap();
        assert_eq!(bound.claims.cnf.unwrap().jkt.as_deref(), Some("x"));
        let minimal = judge(json!({"active": true, "client_id": "products-api"}), 1500).unwrap();
        assert_eq!(minimal.principal, "products-api");
        assert_eq!(minimal.claims.iss.as_deref(), Some("https://issuer.test/"));
        assert!(minimal.scopes.is_empty());
        assert!(
            judge(active(json!({"exp": 1450})), 1500).is_ok(),
            "within the leeway"
        );
    }

    #[test]
    fn answers_are_kept_for_the_ttl_and_never_past_exp() {
        let key = digest("token-a");
        let mut cache = Cache::new(60, 10);
        let long = Ok(Arc::new(answer(active(json!({"exp": 5000})))));
        cache.answered(key, &long, 1000);
        assert!(matches!(cache.get(&key, 1059), Cached::Answer(_)));
        assert!(matches!(cache.get(&key, 1060), Cached::Nothing));
        assert!(cache.is_empty(), "an answer past its time is dropped");
        let short = Ok(Arc::new(answer(active(json!({"exp": 1010})))));
        cache.answered(key, &short, 1000);
        assert!(matches!(cache.get(&key, 1009), Cached::Answer(_)));
        assert!(
            matches!(cache.get(&key, 1010), Cached::Nothing),
            "never past exp"
        );
        cache.answered(key, &Err(TokenError::IntrospectionUnavailable), 1000);
        assert!(
            matches!(cache.get(&key, 1000), Cached::Nothing),
            "failures are not kept"
        );
        let mut off = Cache::new(0, 10);
        off.answered(key, &long, 1000);
        assert!(off.is_empty(), "TTL 0 keeps nothing");
    }

    #[test]
    fn the_cache_is_bounded_and_drops_the_answer_due_soonest() {
        let mut cache = Cache::new(60, 3);
        let answer = |exp: u64| Ok(Arc::new(answer(active(json!({"exp": exp})))));
        for (token, exp) in [("a", 1030), ("b", 1010), ("c", 1050)] {
            cache.answered(digest(token), &answer(exp), 1000);
        }
        let call: Call = futures_util::future::pending().boxed().shared();
        cache.asking(digest("d"), call);
        assert_eq!(cache.len(), 3);
        assert!(matches!(cache.get(&digest("b"), 1001), Cached::Nothing));
        assert!(matches!(cache.get(&digest("a"), 1001), Cached::Answer(_)));
        assert!(matches!(cache.get(&digest("d"), 1001), Cached::Asking(_)));
    }

    #[test]
    fn only_tokens_not_shaped_as_a_jws_are_introspected() {
        assert!(is_opaque("2YotnFZFEjr1zCsicMWpAA"));
        assert!(is_opaque("a.b.c.d.e"), "a JWE is not ours to decrypt");
        assert!(!is_opaque("eyJ.eyJ.sig"));
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let config = IntrospectionConfig {
            client_id: "api".into(),
            client_secret: "s3cret".into(),
            url: None,
            cache_secs: 60,
            timeout: Duration::from_secs(1),
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
