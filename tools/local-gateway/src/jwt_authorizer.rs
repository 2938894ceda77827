//! The HTTP API built-in JWT authorizer, as AWS documents it:
//!
//! - the token comes from the `Authorization` header, bare or after `Bearer `;
//! - its `kid` must be in the issuer's JWKS (found by OpenID Connect discovery from the issuer
//!   URL, or a configured JWKS URL), its signature RSA (RS256/384/512, PS256/384/512);
//! - `iss` equals the one issuer; `aud` in the audiences, or, only when there is no `aud`,
//!   `client_id` (the rule [`jwt_scopes_api::token::audience_accepted`] applies everywhere); `exp` in the
//!   future, `nbf` and `iat` in the past;
//! - the route's authorization scopes: at least one in the token's `scope` or `scp`;
//! - an invalid token answers 401 `{"message":"Unauthorized"}` with
//!   `www-authenticate: Bearer scope="" error="invalid_token" error_description="..."`, missing
//!   scopes 403 `{"message":"Forbidden"}`.
//!
//! Verification is this crate's own ([`jwt_scopes_api::token`]); only the rules above
//! are added here.

use crate::event;
use crate::guard::{Guard, GuardedRequest, Passed, Refusal};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use hyper::StatusCode;
use jwt_scopes_api::AuthConfig;
use jwt_scopes_api::authorizer;
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::token::{
    self, Alg, JwksCache, Jws, KeyFetcher, KeySource, Rules, TokenClaims, TokenError,
};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The algorithms an HTTP API JWT authorizer verifies: RSA keys only.
pub const HTTP_API_ALGORITHMS: &[Alg] = &token::RSA;

/// The built-in authorizer for one issuer.
pub struct JwtAuthorizer {
    rules: Rules,
    keys: JwksCache,
    max_token_bytes: usize,
}

/// A token the authorizer accepted for a route.
#[derive(Clone, Debug, PartialEq)]
pub struct JwtGrant {
    /// Every claim of the token, as signed (stringify them for the event).
    pub claims: Map<String, Value>,
    /// The token's scopes, from `scope` or `scp`.
    pub scopes: Vec<String>,
}

/// The authorizer's decision.
#[derive(Clone, Debug, PartialEq)]
pub enum JwtOutcome {
    /// Valid token with one of the route's scopes (or a route without scopes).
    Authorized(JwtGrant),
    /// No token (`None`), or an invalid one and why.
    Unauthorized(Option<TokenRefusal>),
    /// A valid token without any of the route's scopes.
    Forbidden {
        /// The token's subject, for the log.
        subject: Option<String>,
        /// The route's authorization scopes.
        required: Vec<String>,
    },
}

impl JwtOutcome {
    /// How the gateway logs a refusal of the token: its reason code and API Gateway's
    /// description (`expired (the token has expired)`); `None` when the token was accepted.
    pub fn refusal(&self) -> Option<String> {
        match self {
            JwtOutcome::Unauthorized(None) => Some(format!("{} (no token)", Reason::MissingToken)),
            JwtOutcome::Unauthorized(Some(refused)) => Some(format!(
                "{} ({})",
                Reason::from(&refused.error),
                refused.description()
            )),
            _ => None,
        }
    }

    /// What the gateway logs for this outcome of the gate it names (`jwt`, `rest-jwt`).
    pub fn decision(&self, gate: &str) -> String {
        match self {
            JwtOutcome::Authorized(grant) => format!(
                "{gate} allow sub={} scopes=[{}]",
                grant
                    .claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or("-"),
                grant.scopes.join(" ")
            ),
            JwtOutcome::Unauthorized(_) => format!(
                "{gate} unauthorized reason={}",
                self.refusal().unwrap_or_default()
            ),
            JwtOutcome::Forbidden { subject, required } => format!(
                "{gate} forbidden sub={} (needs any of [{}])",
                subject.as_deref().unwrap_or("-"),
                required.join(" ")
            ),
        }
    }

    /// The `www-authenticate` challenge API Gateway sends with this outcome, if any.
    pub fn challenge(&self) -> Option<String> {
        match self {
            JwtOutcome::Authorized(_) => None,
            JwtOutcome::Unauthorized(None) => Some("Bearer".into()),
            JwtOutcome::Unauthorized(Some(refused)) => Some(format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{}\"",
                refused.description()
            )),
            JwtOutcome::Forbidden { required, .. } => Some(format!(
                "Bearer scope=\"{}\" error=\"insufficient_scope\" error_description=\"the token does not have any of the route's authorization scopes\"",
                required.join(" ")
            )),
        }
    }
}

/// The token API Gateway's JWT authorizers take from an `Authorization` value: the bearer
/// credential as our authorizer reads it ([`authorizer::bearer_token`]), or, where another
/// scheme is named (`Basic x`), the whole value, which AWS then refuses as a malformed token
/// (401 `invalid_token`) where our authorizer finds no token (401). Both refuse `Basic`.
pub fn token_from_header(value: &str) -> Option<&str> {
    let value = value.trim();
    authorizer::bearer_token(value)
        .or_else(|| Some(value).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("bearer")))
}

/// The token's scopes as API Gateway reads them: `scope` (space separated) or `scp` (space
/// separated or an array of strings), in that order, without duplicates. Other claims
/// (`permissions`, `scopes`) grant nothing at the gateway.
pub fn token_scopes(claims: &Map<String, Value>) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for name in ["scope", "scp"] {
        let found: Vec<&str> = match claims.get(name) {
            Some(Value::String(text)) => text.split_whitespace().collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for scope in found {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_owned());
            }
        }
    }
    scopes
}

/// Why a built-in authorizer refused a token, with the header's algorithm once known (API
/// Gateway names it in its description).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenRefusal {
    /// The check that failed.
    pub error: TokenError,
    /// The header's `alg`, once read.
    pub alg: Option<Alg>,
}

impl TokenRefusal {
    /// `error`, found once the header named `alg` (if it was read).
    pub fn new(error: TokenError, alg: Option<Alg>) -> TokenRefusal {
        TokenRefusal { error, alg }
    }

    /// What API Gateway says about it ([`description`]).
    pub fn description(&self) -> String {
        description(&self.error, self.alg)
    }
}

/// The decision both built-in JWT authorizers (HTTP and REST API) take on an `Authorization`
/// header for a route with `required` scopes (empty: any valid token): no token, 401 without a
/// reason; a token `verify` refuses, 401 with why; a valid one without any of the
/// scopes in [`token_scopes`], 403.
pub async fn decide<'t, F>(
    authorization: Option<&'t str>,
    required: &[&str],
    verify: impl FnOnce(&'t str) -> F,
) -> JwtOutcome
where
    F: Future<Output = Result<Map<String, Value>, TokenRefusal>>,
{
    let Some(token) = authorization.and_then(token_from_header) else {
        return JwtOutcome::Unauthorized(None);
    };
    let claims = match verify(token).await {
        Ok(claims) => claims,
        Err(refused) => return JwtOutcome::Unauthorized(Some(refused)),
    };
    let scopes = token_scopes(&claims);
    if !any_granted(required, &scopes) {
        return JwtOutcome::Forbidden {
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            required: required.iter().map(|s| (*s).to_owned()).collect(),
        };
    }
    JwtOutcome::Authorized(JwtGrant { claims, scopes })
}

/// A built-in JWT authorizer (HTTP or REST API): how it verifies a token and how its API
/// answers. Reading the header and the scope rule are the same for both ([`decide`]), and so is
/// the rest of being a [`Guard`].
pub trait BuiltIn: Send + Sync {
    /// How the gateway's log names it (`jwt`, `rest-jwt`).
    const NAME: &'static str;

    /// Signature and claims at `now`: the token's every claim, or why it is refused.
    fn verify(
        &self,
        token: &str,
        now: u64,
    ) -> impl Future<Output = Result<Map<String, Value>, TokenRefusal>> + Send;

    /// The `WWW-Authenticate` header its API sends with a refusal, if any.
    fn challenge(outcome: &JwtOutcome) -> Option<String>;

    /// The `requestContext.authorizer` it passes on for an accepted token, on a route with
    /// scopes or without.
    fn context(grant: JwtGrant, route_has_scopes: bool) -> Value;

    /// Decides on the `Authorization` header of a request to a route with `required` scopes
    /// (empty: any valid token), at `now` (seconds since the epoch).
    fn authorize(
        &self,
        authorization: Option<&str>,
        required: &[&str],
        now: u64,
    ) -> impl Future<Output = JwtOutcome> + Send {
        decide(authorization, required, move |token| {
            self.verify(token, now)
        })
    }
}

/// A built-in authorizer as a gate: an accepted token passes with its [`BuiltIn::context`]; an
/// invalid one is 401, a valid one without the route's scopes 403, each with its
/// [`BuiltIn::challenge`].
impl<T: BuiltIn> Guard for T {
    fn admit<'a>(
        &'a self,
        request: &'a GuardedRequest<'a>,
    ) -> BoxFuture<'a, Result<Passed, Refusal>> {
        async move {
            let (authorization, required) = (request.authorization(), request.required());
            let outcome = self
                .authorize(authorization.as_deref(), &required, request.now)
                .await;
            let challenge = T::challenge(&outcome);
            let decision = outcome.decision(T::NAME);
            let status = match outcome {
                JwtOutcome::Authorized(grant) => {
                    let authorizer = Some(T::context(grant, !required.is_empty()));
                    return Ok(Passed {
                        authorizer,
                        decision,
                    });
                }
                JwtOutcome::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                JwtOutcome::Forbidden { .. } => StatusCode::FORBIDDEN,
            };
            Err(Refusal::new(status, decision).with_challenge(challenge))
        }
        .boxed()
    }
}

/// A token's JWS, when its header's `alg` is one of `algorithms` (what a built-in authorizer
/// checks first).
pub fn parse_for<'t>(
    token: &'t str,
    max_bytes: usize,
    algorithms: &[Alg],
) -> Result<Jws<'t, Box<RawValue>>, TokenRefusal> {
    let jws =
        Jws::<Box<RawValue>>::parse(token, max_bytes).map_err(|e| TokenRefusal::new(e, None))?;
    let alg = jws.header.alg;
    if !algorithms.contains(&alg) {
        return Err(TokenRefusal::new(
            TokenError::AlgorithmNotAllowed,
            Some(alg),
        ));
    }
    Ok(jws)
}

/// The built-in authorizers' scope rule: a route without scopes takes any valid token, one with
/// scopes needs at least one of them among the token's.
pub fn any_granted(required: &[&str], scopes: &[String]) -> bool {
    required.is_empty() || required.iter().any(|r| scopes.iter().any(|s| s == r))
}

/// What API Gateway says about a refused token, in `error_description` (the REST API says
/// nothing, and the gateway logs it instead): the library's words for each refusal, naming the
/// algorithm when it is known.
pub fn description(error: &TokenError, alg: Option<Alg>) -> String {
    match (error, alg) {
        (TokenError::AlgorithmNotAllowed, Some(alg)) => format!("signing method {alg} is invalid"),
        _ => error.api_gateway_description(),
    }
}

impl JwtAuthorizer {
    /// An authorizer for `issuer` and `audiences`, keys from `source`, claim times checked with
    /// `leeway` seconds of tolerance. No I/O until the first token.
    pub fn new(
        issuer: String,
        audiences: Vec<String>,
        leeway: u64,
        source: KeySource,
        fetcher: Arc<KeyFetcher>,
        max_token_bytes: usize,
    ) -> JwtAuthorizer {
        JwtAuthorizer {
            keys: JwksCache::new(issuer.clone(), source, fetcher),
            rules: Rules {
                issuer,
                audiences,
                leeway,
                token_use: None,
                typ: None,
            },
            max_token_bytes,
        }
    }

    /// The issuer it trusts.
    pub fn issuer(&self) -> &str {
        &self.rules.issuer
    }

    /// The audiences it accepts.
    pub fn audiences(&self) -> &[String] {
        &self.rules.audiences
    }

    /// The built-in JWT authorizer of a configuration: one issuer, keys from a JWKS. What an
    /// HTTP API cannot be configured with is refused, or ignored with a warning when the
    /// authorizer simply has no such check.
    pub fn from_config(auth: AuthConfig) -> Result<JwtAuthorizer, String> {
        let count = auth.issuers.len();
        let Some(issuer) = auth.issuers.into_iter().next().filter(|_| count == 1) else {
            return Err(format!(
                "AUTH_CONFIG: an HTTP API JWT authorizer trusts one issuer, not {count}; run with --authorizer lambda"
            ));
        };
        let Some(source) = issuer.keys else {
            return Err(
                "AUTH_HMAC_SECRET: an HTTP API JWT authorizer cannot verify HMAC tokens; set AUTH_JWKS_URI or run with --authorizer lambda".into(),
            );
        };
        if issuer.hmac_secret.is_some()
            || issuer.rules.token_use.is_some()
            || issuer.rules.typ.is_some()
        {
            tracing::warn!(
                "AUTH_HMAC_SECRET, AUTH_TOKEN_USE and AUTH_REQUIRED_TYP are ignored: the HTTP API JWT authorizer has no such checks (use --authorizer lambda)"
            );
        }
        Ok(JwtAuthorizer::new(
            issuer.rules.issuer,
            issuer.rules.audiences,
            issuer.rules.leeway,
            source,
            Arc::new(KeyFetcher::new(auth.limits)),
            auth.max_token_bytes,
        ))
    }
}

/// The HTTP API's answers: its `WWW-Authenticate` challenge on every refusal
/// ([`JwtOutcome::challenge`]); an accepted token's claims stringified, and its scopes only on a
/// route with scopes ([`event::jwt_authorizer_context`]).
impl BuiltIn for JwtAuthorizer {
    const NAME: &'static str = "jwt";

    fn challenge(outcome: &JwtOutcome) -> Option<String> {
        outcome.challenge()
    }

    fn context(grant: JwtGrant, route_has_scopes: bool) -> Value {
        let scopes = route_has_scopes.then_some(grant.scopes.as_slice());
        event::jwt_authorizer_context(&grant.claims, scopes)
    }

    async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, TokenRefusal> {
        let jws = parse_for(token, self.max_token_bytes, HTTP_API_ALGORITHMS)?;
        let refuse = |error| TokenRefusal::new(error, Some(jws.header.alg));
        self.keys.check_signature(&jws, now).await.map_err(refuse)?;
        // The same claim checks as our authorizer; its scope rules are not API Gateway's, so
        // the scopes are read by `token_scopes` instead.
        let claim_type = |_| refuse(TokenError::MalformedClaims);
        let strict: TokenClaims = serde_json::from_str(jws.claims.get()).map_err(claim_type)?;
        token::check_rules(&strict, &self.rules, jws.header.typ.as_deref(), now).map_err(refuse)?;
        serde_json::from_str(jws.claims.get()).map_err(claim_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bearer_is_optional_and_case_insensitive() {
        assert_eq!(token_from_header("Bearer abc"), Some("abc"));
        assert_eq!(token_from_header("bearer abc"), Some("abc"));
        assert_eq!(token_from_header("abc"), Some("abc"));
        assert_eq!(token_from_header("Bearer "), None);
        assert_eq!(token_from_header("Bearer"), None);
        assert_eq!(token_from_header(""), None);
        // `Basic`, one reading, two refusals: no bearer credential for our authorizer (401, no
        // token), a malformed token for API Gateway's JWT authorizers (401 `invalid_token`).
        assert_eq!(authorizer::bearer_token("Basic dXNlcg=="), None);
        assert_eq!(token_from_header("Basic dXNlcg=="), Some("Basic dXNlcg=="));
    }

    #[test]
    fn scopes_come_from_scope_then_scp_only() {
        let claims = json!({"scope": "a b", "scp": ["b", "c"], "permissions": ["d"]});
        assert_eq!(token_scopes(claims.as_object().unwrap()), ["a", "b", "c"]);
        let claims = json!({"scp": "x y", "scopes": ["z"]});
        assert_eq!(token_scopes(claims.as_object().unwrap()), ["x", "y"]);
        let claims = json!({"scope": 5});
        assert!(token_scopes(claims.as_object().unwrap()).is_empty());
    }
}
