//! The Lambda authorizer: event in, decision out. Errors are mapped to answers here and only
//! here: a token problem is `Unauthorized` (401) or `isAuthorized: false`; a valid token without
//! the route's scopes, or a route not in the table, is a `Deny` (403); an event we cannot read is
//! an invocation error (500), never an Allow.

use crate::authorizer::alg::{Alg, SYMMETRIC};
use crate::authorizer::config::{AuthConfig, ResponseMode, TokenSources};
use crate::authorizer::contract::AccessTable;
use crate::authorizer::error::TokenError;
use crate::authorizer::event::{self, AuthorizerInput, EventError};
use crate::authorizer::jwks::{JwksCache, KeyFetcher};
use crate::authorizer::jws::{Jws, SignatureKey};
use crate::authorizer::keyset::KeySet;
use crate::authorizer::policy::{AuthorizerResponse, Shape};
use crate::authorizer::verify::{self, ClaimPolicy, ContextClaims, Rules, TokenClaims, Verified};
use lambda_runtime::Diagnostic;
use std::sync::Arc;

/// An invocation that ends without a decision document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerError {
    /// The token is missing or invalid: API Gateway answers 401 for exactly this message.
    Unauthorized,
    /// The event is not one we can read; API Gateway answers 500.
    InvalidEvent(EventError),
    /// The authorizer could not finish its set-up (the HMAC secret could not be read); API
    /// Gateway answers 500 and the next invocation tries again.
    NotReady,
}

impl From<AuthorizerError> for Diagnostic {
    fn from(error: AuthorizerError) -> Diagnostic {
        match error {
            AuthorizerError::Unauthorized => Diagnostic {
                error_type: "Unauthorized".into(),
                error_message: "Unauthorized".into(),
            },
            AuthorizerError::InvalidEvent(e) => Diagnostic {
                error_type: "InvalidEvent".into(),
                error_message: e.to_string(),
            },
            AuthorizerError::NotReady => Diagnostic {
                error_type: "NotReady".into(),
                error_message: "authorizer configuration unavailable".into(),
            },
        }
    }
}

struct Issuer {
    rules: Rules,
    claims: ClaimPolicy,
    jwks: Option<JwksCache>,
    /// The shared secret prepared for each HMAC algorithm; empty without a secret.
    hmac: Vec<SignatureKey>,
}

/// The authorizer, built once per cold start and shared by concurrent invocations.
pub struct Authorizer {
    issuers: Vec<Issuer>,
    algorithms: Vec<Alg>,
    response: ResponseMode,
    sources: TokenSources,
    max_token_bytes: usize,
    /// Boxed: a router is a few hundred bytes, and an `Authorizer` is held by value in enums
    /// beside much smaller variants (the local gateway's guards).
    routes: Box<AccessTable>,
}

impl Authorizer {
    /// Prepares the HMAC keys of a checked configuration. No I/O: public keys are fetched on
    /// first use.
    pub fn new(config: AuthConfig) -> Self {
        let fetcher = Arc::new(KeyFetcher::new(config.limits));
        let issuers = config
            .issuers
            .into_iter()
            .map(|issuer| Issuer {
                jwks: issuer.keys.map(|source| {
                    JwksCache::new(issuer.rules.issuer.clone(), source, fetcher.clone())
                }),
                hmac: issuer
                    .hmac_secret
                    .as_deref()
                    .map_or_else(Vec::new, |secret| {
                        SYMMETRIC
                            .iter()
                            .filter_map(|alg| SignatureKey::hmac(secret, *alg))
                            .collect()
                    }),
                rules: issuer.rules,
                claims: issuer.claims,
            })
            .collect();
        Authorizer {
            issuers,
            algorithms: config.algorithms,
            response: config.response,
            sources: config.sources,
            max_token_bytes: config.max_token_bytes,
            routes: Box::new(config.routes),
        }
    }

    /// Seeds the only issuer's key cache with `keys` (from [`crate::config::preloaded_keys`],
    /// which checks there is exactly one issuer with a key source), as if fetched at `now`.
    pub fn with_keys(mut self, keys: Arc<KeySet>, now: u64) -> Self {
        if let [issuer] = self.issuers.as_mut_slice()
            && let Some(jwks) = issuer.jwks.take()
        {
            issuer.jwks = Some(jwks.with_keys(keys, now));
        }
        self
    }

    /// Decides on one event (its JSON text) at `now`, seconds since the epoch.
    pub async fn handle(
        &self,
        event: &str,
        now: u64,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        let input = event::parse(event, &self.sources).map_err(|error| {
            tracing::error!(%error, "unreadable authorizer event");
            AuthorizerError::InvalidEvent(error)
        })?;
        let AuthorizerInput {
            format,
            token,
            target,
        } = input;
        let route = self
            .routes
            .find(&target.method, &target.path)
            .ok()
            .map(|m| m.route);
        let route_name = route.map_or("unmatched", |r| r.path.as_str());
        let shape = Shape::of(format, self.response);
        let verified = match self.verify(token.as_deref(), now).await {
            Ok(verified) => verified,
            Err(reason) => {
                tracing::info!(method = %target.method, route = route_name, decision = "unauthorized", %reason, "authorizer decision");
                return shape.unauthorized().ok_or(AuthorizerError::Unauthorized);
            }
        };
        let allowed = route.is_some_and(|r| r.access.is_met_by(&verified.scopes));
        let Verified {
            claims,
            scopes,
            principal,
        } = verified;
        let context = ContextClaims::new(claims, &scopes);
        tracing::info!(
            method = %target.method,
            route = route_name,
            subject = %principal,
            decision = if allowed { "allow" } else { "deny" },
            reason = if route.is_none() { "route not in table" } else if allowed { "scopes granted" } else { "insufficient scope" },
            "authorizer decision"
        );
        Ok(shape.answer(allowed, &target, &scopes, &self.routes, principal, context))
    }

    /// Verifies a bearer token against the configured issuers.
    pub async fn verify(&self, token: Option<&str>, now: u64) -> Result<Verified, TokenError> {
        let token = token.ok_or(TokenError::Missing)?;
        let jws = Jws::<TokenClaims>::parse(token, self.max_token_bytes)?;
        let alg = jws.header.alg;
        if !self.algorithms.contains(&alg) {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        let issuer = self.issuer_of(&jws.claims)?;
        if alg.is_symmetric() {
            if issuer.hmac.is_empty() {
                return Err(TokenError::AlgorithmNotAllowed);
            }
            return verify::verify(jws, &issuer.hmac, &issuer.rules, &issuer.claims, now);
        }
        let jwks = issuer
            .jwks
            .as_ref()
            .ok_or(TokenError::AlgorithmNotAllowed)?;
        jwks.check_signature(&jws, now).await?;
        verify::accept(jws, &issuer.rules, &issuer.claims, now)
    }

    /// The issuer whose keys verify this token: the only one, or the one its `iss` names.
    fn issuer_of(&self, claims: &TokenClaims) -> Result<&Issuer, TokenError> {
        if let [only] = self.issuers.as_slice() {
            return Ok(only);
        }
        let claimed = claims.iss.as_deref().ok_or(TokenError::UnknownIssuer)?;
        self.issuers
            .iter()
            .find(|i| i.rules.issuer == claimed)
            .ok_or(TokenError::UnknownIssuer)
    }
}
