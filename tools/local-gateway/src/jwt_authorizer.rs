//! The HTTP API built-in JWT authorizer, as AWS documents it:
//!
//! - the token comes from the `Authorization` header, bare or after `Bearer `;
//! - its `kid` must be in the issuer's JWKS (found by OpenID Connect discovery from the issuer
//!   URL, or a configured JWKS URL), its signature RSA (RS256/384/512, PS256/384/512);
//! - `iss` equals the one issuer; `aud` in the audiences, or, only when there is no `aud`,
//!   `client_id` (the rule [`jwt_scopes_api::authorizer::verify::audience_accepted`] applies everywhere); `exp` in the
//!   future, `nbf` and `iat` in the past;
//! - the route's authorization scopes: at least one in the token's `scope` or `scp`;
//! - an invalid token answers 401 `{"message":"Unauthorized"}` with
//!   `www-authenticate: Bearer scope="" error="invalid_token" error_description="..."`, missing
//!   scopes 403 `{"message":"Forbidden"}`.
//!
//! Verification is this crate's own ([`jwt_scopes_api::authorizer::verify`], [`jwt_scopes_api::authorizer::jwks`]); only the rules above
//! are added here.

use jwt_scopes_api::AuthConfig;
use jwt_scopes_api::authorizer::alg::{self, Alg};
use jwt_scopes_api::authorizer::error::TokenError;
use jwt_scopes_api::authorizer::jwks::{JwksCache, KeyFetcher, KeySource};
use jwt_scopes_api::authorizer::jws::Jws;
use jwt_scopes_api::authorizer::verify::{self, Rules, TokenClaims};
use jwt_scopes_api::reason::Reason;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The algorithms an HTTP API JWT authorizer verifies: RSA keys only.
pub const HTTP_API_ALGORITHMS: &[Alg] = &alg::RSA;

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
    Unauthorized(Option<Refused>),
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
            JwtOutcome::Unauthorized(Some((error, alg))) => Some(format!(
                "{} ({})",
                Reason::from(error),
                description(error, *alg)
            )),
            _ => None,
        }
    }

    /// The `www-authenticate` challenge API Gateway sends with this outcome, if any.
    pub fn challenge(&self) -> Option<String> {
        match self {
            JwtOutcome::Authorized(_) => None,
            JwtOutcome::Unauthorized(None) => Some("Bearer".into()),
            JwtOutcome::Unauthorized(Some((error, alg))) => Some(format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{}\"",
                description(error, *alg)
            )),
            JwtOutcome::Forbidden { required, .. } => Some(format!(
                "Bearer scope=\"{}\" error=\"insufficient_scope\" error_description=\"the token does not have any of the route's authorization scopes\"",
                required.join(" ")
            )),
        }
    }
}

/// The token in an `Authorization` header value: bare, or after `Bearer ` (any case).
pub fn token_from_header(value: &str) -> Option<&str> {
    let value = value.trim();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
        _ => value,
    };
    (!token.is_empty() && !token.eq_ignore_ascii_case("bearer")).then_some(token)
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
pub type Refused = (TokenError, Option<Alg>);

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
    F: Future<Output = Result<Map<String, Value>, Refused>>,
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

/// A built-in JWT authorizer (HTTP or REST API): how it verifies a token. Reading the header
/// and the scope rule are the same for both ([`decide`]).
pub trait BuiltIn {
    /// Signature and claims at `now`: the token's every claim, or why it is refused.
    fn verify(
        &self,
        token: &str,
        now: u64,
    ) -> impl Future<Output = Result<Map<String, Value>, Refused>>;

    /// Decides on the `Authorization` header of a request to a route with `required` scopes
    /// (empty: any valid token), at `now` (seconds since the epoch).
    fn authorize(
        &self,
        authorization: Option<&str>,
        required: &[&str],
        now: u64,
    ) -> impl Future<Output = JwtOutcome> {
        decide(authorization, required, move |token| {
            self.verify(token, now)
        })
    }
}

/// A token's JWS, when its header's `alg` is one of `algorithms` (what a built-in authorizer
/// checks first).
pub fn parse_for<'t>(
    token: &'t str,
    max_bytes: usize,
    algorithms: &[Alg],
) -> Result<Jws<'t, Box<RawValue>>, Refused> {
    let jws = Jws::<Box<RawValue>>::parse(token, max_bytes).map_err(|e| (e, None))?;
    let alg = jws.header.alg;
    if !algorithms.contains(&alg) {
        return Err((TokenError::AlgorithmNotAllowed, Some(alg)));
    }
    Ok(jws)
}

/// The built-in authorizers' scope rule: a route without scopes takes any valid token, one with
/// scopes needs at least one of them among the token's.
pub fn any_granted(required: &[&str], scopes: &[String]) -> bool {
    required.is_empty() || required.iter().any(|r| scopes.iter().any(|s| s == r))
}

/// What API Gateway says about a refused token, in `error_description` (the REST API says
/// nothing, and the gateway logs it instead).
pub fn description(error: &TokenError, alg: Option<Alg>) -> String {
    match error {
        TokenError::Missing => "no token".into(),
        TokenError::Malformed => "the token is malformed".into(),
        TokenError::AlgorithmNotAllowed => match alg {
            Some(alg) => format!("signing method {alg} is invalid"),
            None => "the signing method is invalid".into(),
        },
        TokenError::UnknownIssuer | TokenError::WrongIssuer => {
            "the token does not have a valid issuer".into()
        }
        TokenError::UnknownKey => "the token does not have a valid kid".into(),
        TokenError::KeysUnavailable => "the issuer's JWKS could not be fetched".into(),
        TokenError::BadSignature => "the token signature is invalid".into(),
        TokenError::ClaimType => "a claim of the token has the wrong type".into(),
        TokenError::MissingExpiry => "the token does not have an exp claim".into(),
        TokenError::Expired => "the token has expired".into(),
        TokenError::NotYetValid => "the token is not valid yet".into(),
        TokenError::WrongAudience => "the token does not have a valid audience".into(),
        TokenError::WrongTokenType => "the token has the wrong type".into(),
        TokenError::BadScopeClaim(_) => "the token has a malformed scope claim".into(),
        TokenError::ClaimNotAccepted(name) => format!("the token's {name} claim is not accepted"),
        // The Lambda authorizer's own checks (introspection, revocation); no built-in one makes them.
        TokenError::Inactive
        | TokenError::IntrospectionUnavailable
        | TokenError::Revoked
        | TokenError::RevocationUnavailable => error.to_string(),
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

impl BuiltIn for JwtAuthorizer {
    async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, Refused> {
        let jws = parse_for(token, self.max_token_bytes, HTTP_API_ALGORITHMS)?;
        let refuse = |error| (error, Some(jws.header.alg));
        self.keys.check_signature(&jws, now).await.map_err(refuse)?;
        // The same claim checks as our authorizer; its scope rules are not API Gateway's, so
        // the scopes are read by `token_scopes` instead.
        let claim_type = |_| refuse(TokenError::ClaimType);
        let strict: TokenClaims = serde_json::from_str(jws.claims.get()).map_err(claim_type)?;
        verify::check_claims(&strict, &self.rules, jws.header.typ.as_deref(), now)
            .map_err(refuse)?;
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
