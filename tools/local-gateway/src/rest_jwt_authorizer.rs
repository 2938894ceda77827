//! The REST API built-in JWT authorizer (`AuthorizationType: JWT` on REST API methods), as AWS
//! documents it (API Gateway Developer Guide, "Control access to REST APIs using JWT authorizers",
//! and the API reference's `JwtConfigurationInput`, `JwtIssuerInput`, `JwtAdditionalClaim`; what
//! is assumed where AWS is silent: docs/deploy.md, "The REST API JWT authorizer: what is assumed"):
//!
//! - the token comes from the `Authorization` header (the identity source
//!   `method.request.header.Authorization`), bare or after `Bearer `;
//! - several issuers, each with its own audiences; one list of algorithms for all of them,
//!   RS256/384/512 and ES256/384/512 only ([`REST_API_ALGORITHMS`]: no HS*, PS* or EdDSA);
//! - the header's `alg` in that list, its `kid` in the issuer's key set (discovery or a JWKS URL,
//!   refetched on an unknown `kid`) with a key of the algorithm's type; `iss` exactly a
//!   configured issuer (a trailing slash is part of it); `aud` (a string or an array) naming one
//!   of that issuer's audiences; `exp` present, a number, in the future; a future `nbf` refused;
//! - additional claims (`JwtAdditionalClaim`: `claimName`, `expectedValues`, `required`, format
//!   `SINGLE_STRING`), checked after the registered claims: `token_use` when `AUTH_TOKEN_USE` is
//!   set (as `template.yaml` configures it: required, that one value), and each issuer's
//!   required claims (`AUTH_REQUIRED_CLAIMS`, or `requiredClaims` in `AUTH_CONFIG`), read as
//!   the Lambda authorizer reads them ([`token::check_required`]): a value compared exactly,
//!   several values any-of, a present claim that is not a string refused when values are given,
//!   an absent claim refused only when `required`. AWS does not say how several values or an
//!   absent optional claim are judged (any-of is the only reading a single string can meet), nor
//!   whether `SINGLE_STRING` refuses a presence-only claim of another JSON type (here it
//!   passes, as in the Lambda authorizer). The configuration refuses the claim names AWS
//!   refuses (`iss`, `aud`, `exp`, `nbf`, `iat`, `scope`, `scp`) and `scopes`, `permissions`;
//! - the method's scopes, any of them in `scope` or `scp` (a space separated string or an array
//!   of strings); `permissions` and `scopes` count for nothing;
//! - a missing or invalid token answers 401 `{"message":"Unauthorized"}` with
//!   `WWW-Authenticate: Bearer` (the template's `RestJwtUnauthorizedResponse`), a valid token
//!   without a method scope 403 `{"message":"Forbidden"}`;
//! - an accepted token's payload goes to the integration as issued, JSON types kept, as
//!   `requestContext.authorizer.claims` of a REST (payload 1.0) event
//!   ([`crate::event::rest_api_event`]).
//!
//! Where AWS is silent, the reading that fails closed is taken: a token without `aud` is refused
//! even when its `client_id` names an audience (AWS documents `aud` only; the HTTP API falls back
//! to `client_id`); no clock leeway (`AUTH_LEEWAY_SECONDS` does not apply); a future `nbf`, and a
//! future `iat` (the library's claim check refuses both), are refused.
//!
//! Verification is the library's ([`Jws::parse`](jwt_scopes_api::token::Jws::parse),
//! [`JwksCache::check_signature`], [`token::check_rules`]); the rules above choose what it is
//! given.

use crate::event;
use crate::jwt_authorizer::{BuiltIn, JwtGrant, JwtOutcome, TokenRefusal, parse_for};
use jwt_scopes_api::AuthConfig;
use jwt_scopes_api::token::{
    self, Alg, JwksCache, KeyFetcher, RequiredClaim, Rules, TokenClaims, TokenError,
};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The algorithms a REST API JWT authorizer's `DefaultAlgorithms` may list.
pub const REST_API_ALGORITHMS: [Alg; 6] = [
    Alg::RS256,
    Alg::RS384,
    Alg::RS512,
    Alg::ES256,
    Alg::ES384,
    Alg::ES512,
];

/// One configured issuer: its claim rules (no leeway, no `typ`), its additional claims and its
/// keys.
struct Issuer {
    rules: Rules,
    required: Vec<RequiredClaim>,
    keys: JwksCache,
}

/// The built-in REST API authorizer for a configuration's issuers.
pub struct RestJwtAuthorizer {
    issuers: Vec<Issuer>,
    algorithms: Vec<Alg>,
    max_token_bytes: usize,
}

impl RestJwtAuthorizer {
    /// The authorizer of the `AUTH_*` configuration `auth`. `algorithms_listed` says whether
    /// `AUTH_ALGORITHMS` was set: a list naming an algorithm the REST API does not verify is
    /// refused, as CloudFormation refuses it in `DefaultAlgorithms`; without one, all six are
    /// accepted. An issuer with only an HMAC secret is refused: there is nothing to fetch.
    pub fn new(auth: AuthConfig, algorithms_listed: bool) -> Result<RestJwtAuthorizer, String> {
        let (algorithms, unsupported): (Vec<Alg>, Vec<Alg>) = auth
            .algorithms
            .iter()
            .partition(|alg| REST_API_ALGORITHMS.contains(alg));
        if algorithms_listed && !unsupported.is_empty() {
            let names: Vec<&str> = unsupported.iter().map(|alg| alg.name()).collect();
            return Err(format!(
                "AUTH_ALGORITHMS: a REST API JWT authorizer verifies RS256/384/512 and ES256/384/512 only, not {}; run with --authorizer lambda",
                names.join(", ")
            ));
        }
        let fetcher = Arc::new(KeyFetcher::new(auth.limits));
        let ignored = auth.sources.cookie.is_some()
            || auth.sources.query.is_some()
            || auth.issuers.iter().any(|i| i.rules.typ.is_some());
        let mut issuers = Vec::with_capacity(auth.issuers.len());
        for issuer in auth.issuers {
            let Some(source) = issuer.keys else {
                return Err(format!(
                    "issuer {:?} has only an HMAC secret: a REST API JWT authorizer verifies RS/ES tokens from a JWKS; set AUTH_JWKS_URI or run with --authorizer lambda",
                    issuer.rules.issuer
                ));
            };
            let rules = Rules {
                leeway: 0,
                typ: None,
                ..issuer.rules
            };
            let keys = JwksCache::new(rules.issuer.clone(), source, fetcher.clone());
            issuers.push(Issuer {
                rules,
                required: issuer.claims.required,
                keys,
            });
        }
        if ignored {
            tracing::warn!(
                "AUTH_TOKEN_COOKIE, AUTH_TOKEN_QUERY and AUTH_REQUIRED_TYP are ignored: the REST API JWT authorizer reads the Authorization header and checks no typ (use --authorizer lambda)"
            );
        }
        Ok(RestJwtAuthorizer {
            issuers,
            algorithms,
            max_token_bytes: auth.max_token_bytes,
        })
    }
}

/// A refusal's reason is for the log only: the REST API's answers do not carry it. Its gateway
/// responses are 401 with the template's `WWW-Authenticate: Bearer` and 403 without a
/// challenge; an accepted token's payload goes on as `claims`, JSON types kept, and nothing else
/// ([`event::rest_jwt_authorizer_context`]).
impl BuiltIn for RestJwtAuthorizer {
    const NAME: &'static str = "rest-jwt";

    fn challenge(outcome: &JwtOutcome) -> Option<String> {
        matches!(outcome, JwtOutcome::Unauthorized(_)).then(|| "Bearer".into())
    }

    fn context(grant: JwtGrant, _: bool) -> Value {
        event::rest_jwt_authorizer_context(grant.claims)
    }

    /// The token's payload as issued when every check passes; otherwise why not, with the
    /// header's algorithm once known.
    async fn verify(&self, token: &str, now: u64) -> Result<Map<String, Value>, TokenRefusal> {
        let jws = parse_for(token, self.max_token_bytes, &self.algorithms)?;
        let refuse = |error| TokenRefusal::new(error, Some(jws.header.alg));
        let claims: TokenClaims = serde_json::from_str(jws.claims.get())
            .map_err(|_| refuse(TokenError::MalformedClaims))?;
        // The issuer is chosen by the unverified `iss`; its keys then decide whether to trust it.
        let issuer = self
            .issuers
            .iter()
            .find(|i| claims.iss.as_deref() == Some(i.rules.issuer.as_str()))
            .ok_or_else(|| refuse(TokenError::UnknownIssuer))?;
        issuer
            .keys
            .check_signature(&jws, now)
            .await
            .map_err(refuse)?;
        // `check_rules` judges a token without `aud` by its `client_id`, as the HTTP API does;
        // AWS documents only `aud` here, so such a token is refused first.
        if claims.aud.is_none() {
            return Err(refuse(TokenError::WrongAudience));
        }
        token::check_rules(&claims, &issuer.rules, None, now).map_err(refuse)?;
        let payload = serde_json::from_str(jws.claims.get())
            .map_err(|_| refuse(TokenError::MalformedClaims))?;
        token::check_required(&issuer.required, &payload).map_err(refuse)?;
        Ok(payload)
    }
}
