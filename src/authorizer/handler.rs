//! The Lambda authorizer: event in, decision out. Errors are mapped to answers here and only
//! here: a token problem is `Unauthorized` (401) or `isAuthorized: false`; a valid token without
//! the route's scopes, or a route not in the table, is a `Deny` (403); an event we cannot read is
//! an invocation error (500), never an Allow.

use crate::authorizer::binding::{Binding, Presented};
use crate::authorizer::config::{AuthConfig, ResponseMode, TokenSources};
use crate::authorizer::dynamodb::{TableConfig, Tables};
use crate::authorizer::event::{
    self, AuthorizerEvent, AuthorizerInput, EventError, EventFormat, Evidence, ExecuteApiArn,
    RequestParts,
};
use crate::authorizer::introspection::{self, Introspector};
use crate::authorizer::metrics::{self, Outcome};
use crate::authorizer::openapi_routes::{AccessRule, AccessTable};
use crate::authorizer::policy::{self, AuthorizerResponse, Requested, Shape, Standing};
use crate::authorizer::revocation::{RevocationItems, RevocationStore};
use crate::authorizer::rules::{self, Needs, Refusal, RequestFacts, SharedRule, TokenFacts};
use crate::metrics::{Invocation, Metrics};
use crate::reason::Reason;
use crate::token::{
    self, Alg, ClaimPolicy, ContextClaims, JwksCache, Jws, KeyFetcher, KeySet, Rules, SYMMETRIC,
    SignatureKey, TokenClaims, TokenError, Verified,
};
use lambda_runtime::Diagnostic;
use std::sync::Arc;
use tracing::Instrument;

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
    /// Its CEL rule: a token it does not pass is refused (401).
    rule: Option<SharedRule>,
}

/// What the rules step found: the token's header and claims when a rule reads them (read once
/// for every rule of the decision), and
/// whether the requested route's rule refused this request.
struct Ruling {
    facts: Option<Result<TokenFacts, TokenError>>,
    route_refused: bool,
}

impl Ruling {
    /// Whether `rule` passes this token and `request` (none for an issuer rule, or to judge a
    /// route rule that reads only `header` and `claims`). Refuses a token whose header and
    /// claims could not be read (an opaque token).
    fn passes(&self, rule: &SharedRule, request: Option<&RequestFacts<'_>>) -> Result<(), Refusal> {
        match &self.facts {
            Some(Ok(facts)) => rule.judge(facts, request),
            _ => Err(Refusal::Error("no JWT header and claims")),
        }
    }
}

/// One decision: what the authorizer answers, and why.
#[derive(Debug)]
pub struct Decision {
    /// Allow, deny, unauthorized, or no decision at all.
    pub outcome: Outcome,
    /// The stable reason code, as logged and counted.
    pub reason: Reason,
    /// The answer for API Gateway.
    pub answer: Result<AuthorizerResponse, AuthorizerError>,
}

/// The authorizer, built once per cold start and shared by concurrent invocations.
pub struct Authorizer {
    issuers: Vec<Issuer>,
    algorithms: Vec<Alg>,
    response: ResponseMode,
    sources: TokenSources,
    max_token_bytes: usize,
    routes: AccessTable,
    /// Whether a route of `routes` has a rule, so a decision reads the token's facts.
    route_rules: bool,
    /// What every rule, the issuers' and the routes', reads of a token, read once per decision.
    needs: Needs,
    metrics: Metrics,
    /// Opaque tokens, when introspection is configured.
    introspection: Option<Introspector>,
    /// Sender-constrained tokens: DPoP proofs and client certificates.
    binding: Binding,
    /// Checked for every verified JWT, when a revocation table is configured or items given.
    revocation: Option<RevocationStore>,
    /// The tables' client once given ([`Self::with_dynamodb`]), and their bounds.
    tables: Option<Tables>,
    table_config: TableConfig,
}

impl Authorizer {
    /// Prepares the HMAC keys of a checked configuration. No I/O: public keys are fetched on
    /// first use. Records no metrics.
    pub fn new(config: AuthConfig) -> Self {
        Self::with_metrics(config, Metrics::off())
    }

    /// The same, recording decisions and key fetches in `metrics`.
    pub fn with_metrics(config: AuthConfig, metrics: Metrics) -> Self {
        let fetcher = Arc::new(KeyFetcher::new(config.limits).with_metrics(metrics.clone()));
        let introspection = match (config.introspection, config.issuers.as_slice()) {
            (Some(introspection), [issuer]) => Some(Introspector::new(
                introspection,
                issuer.rules.issuer.clone(),
                fetcher.clone(),
                metrics.clone(),
            )),
            _ => None,
        };
        let issuers: Vec<Issuer> = config
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
                rule: issuer.rule,
            })
            .collect();
        let route_rules = config.routes.routes().iter().any(|r| r.rule.is_some());
        let needs = token_needs(&issuers, &config.routes);
        warn_of_uncached_rules(&config.routes);
        let rules = config
            .routes
            .routes()
            .iter()
            .filter_map(|r| r.rule.as_ref());
        if rules.into_iter().any(|rule| rule.reads_headers()) {
            event::keep_every_header();
        }
        Authorizer {
            issuers,
            algorithms: config.algorithms,
            response: config.response,
            sources: config.sources,
            max_token_bytes: config.max_token_bytes,
            routes: config.routes,
            route_rules,
            needs,
            metrics,
            introspection,
            binding: Binding::new(config.binding, config.tables.replay.clone()),
            revocation: config.tables.revocation.clone().map(RevocationStore::Table),
            tables: None,
            table_config: config.tables,
        }
    }

    /// Reads the configured tables through `client` (one for the process:
    /// `dynamodb::client_from_env` at cold start, or a test's). Without
    /// it, a configured table refuses every token it would be asked about.
    pub fn with_dynamodb(mut self, client: aws_sdk_dynamodb::Client) -> Self {
        if self.table_config.any() {
            let timeout = self.table_config.timeout;
            self.tables = Some(Tables::new(client, timeout, self.metrics.clone()));
        }
        self
    }

    /// Checks every verified JWT against `items` instead of a table: the local gateway's
    /// revocation store in memory. Revocation stays off unless a table or this turns it on.
    pub fn with_revocation_items(mut self, items: Arc<dyn RevocationItems>) -> Self {
        self.revocation = Some(RevocationStore::Items(items));
        self
    }

    /// Seeds the only issuer's key cache with `keys` (from [`crate::authorizer::preloaded_keys`],
    /// which checks there is exactly one issuer with a key source), as if fetched at `now`.
    pub fn with_keys(mut self, keys: Arc<KeySet>, now: u64) -> Self {
        if let [issuer] = self.issuers.as_mut_slice()
            && let Some(jwks) = issuer.jwks.take()
        {
            issuer.jwks = Some(jwks.with_keys(keys, now));
        }
        self
    }

    /// Decides on one event (its JSON text) at `now`, seconds since the epoch, outside a Lambda
    /// invocation (tests, the local gateway): [`Self::decide_json`] without request ids.
    pub async fn answer_json(
        &self,
        event: &str,
        now: u64,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        self.decide_json(event, now, Invocation::default())
            .await
            .answer
    }

    /// Decides on one event (its JSON text) at `now` for `invocation`: [`Self::decide`].
    pub async fn decide_json(&self, event: &str, now: u64, invocation: Invocation<'_>) -> Decision {
        let event = AuthorizerEvent::from_json(event);
        self.decide(event, now, invocation).await
    }

    /// Decides on one event at `now` for `invocation`: logs the decision with its reason, records
    /// it in the metrics, and returns the answer with its outcome and reason (which the local
    /// gateway prints). The token, its signature and its claims are never logged; the subject is.
    ///
    /// The steps: the credential and the target read from the event, the token verified, its
    /// binding to the presenter checked, the revocation table read, the rules (the issuer's,
    /// then the requested route's once its scopes are met), the route found, the answer shaped
    /// for the event's format.
    pub async fn decide(
        &self,
        event: AuthorizerEvent,
        now: u64,
        invocation: Invocation<'_>,
    ) -> Decision {
        let AuthorizerInput {
            format,
            token,
            target,
            request,
            evidence,
        } = match event.input(&self.sources) {
            Ok(input) => input,
            Err(error) => return self.unreadable(error, invocation),
        };
        let presented = Presented {
            format,
            method: &target.method,
            evidence: &evidence,
        };
        let verified = self
            .accept(token.as_deref(), &presented, now)
            .instrument(tracing::debug_span!("verify"))
            .await;
        let matched = self.routes.find(&target.method, &target.path).ok();
        let route = matched.as_ref().map(|m| m.route);
        let shape = Shape::of(format, self.response);
        let verified = verified.and_then(|verified| {
            let token = token.as_deref().unwrap_or_default();
            let ruling = self.rules(
                token,
                &verified,
                matched.as_ref().map(|m| m.route),
                &target,
                &request,
            )?;
            Ok((verified, ruling))
        });
        let (decision, subject) = match verified {
            Err(error) => (refused(shape, &error), None),
            Ok((verified, ruling)) => tracing::debug_span!("decide").in_scope(|| {
                let requested = matched.map(|m| Requested {
                    index: m.index,
                    permitted: m.route.access.is_met_by(&verified.scopes) && !ruling.route_refused,
                });
                let subject = verified.principal.clone();
                (
                    self.answer(shape, requested, &target, verified, &ruling),
                    Some(subject),
                )
            }),
        };
        tracing::info!(
            method = %target.method,
            route = route.map_or("unmatched", |r| r.path.as_str()),
            subject = subject.as_deref().unwrap_or("-"),
            decision = decision.outcome.code(),
            reason = %decision.reason,
            "authorizer decision"
        );
        let (outcome, reason) = (decision.outcome, decision.reason);
        metrics::record_decision(&self.metrics, invocation, outcome, reason, route);
        decision
    }

    /// An event we cannot read: an invocation error, logged and counted without a route.
    fn unreadable(&self, error: EventError, invocation: Invocation<'_>) -> Decision {
        let reason = Reason::InvalidEvent;
        tracing::error!(%error, decision = Outcome::Error.code(), %reason, "unreadable authorizer event");
        metrics::record_decision(&self.metrics, invocation, Outcome::Error, reason, None);
        Decision {
            outcome: Outcome::Error,
            reason,
            answer: Err(AuthorizerError::InvalidEvent(error)),
        }
    }

    /// The rules step: the issuer's rule on the token (refused: 401), then, once the token's
    /// scopes meet the `route` asked for, that route's rule on the token and the request
    /// (refused: Deny). The token's header and claims are read again, once for both, only when
    /// a rule may read them, and only the fields the rules name. Why a rule refused is logged at debug level, never the values it read.
    fn rules(
        &self,
        token: &str,
        verified: &Verified,
        route: Option<&AccessRule>,
        target: &ExecuteApiArn,
        request: &RequestParts,
    ) -> Result<Ruling, TokenError> {
        let issuer_rule = self
            .issuer_of(&verified.claims)
            .ok()
            .and_then(|i| i.rule.as_ref());
        let mut ruling = Ruling {
            facts: (issuer_rule.is_some() || self.route_rules)
                .then(|| TokenFacts::read(token, &self.needs)),
            route_refused: false,
        };
        if let Some(rule) = issuer_rule
            && let Err(refusal) = ruling.passes(rule, None)
        {
            tracing::debug!(%refusal, "the issuer's rule refused the token");
            return Err(TokenError::IssuerRuleRefused);
        }
        let Some((route, rule)) = route
            .filter(|r| r.access.is_met_by(&verified.scopes))
            .and_then(|r| Some((r, r.rule.as_ref()?)))
        else {
            return Ok(ruling);
        };
        let request = RequestFacts {
            method: &target.method,
            path: &target.path,
            path_parameters: rules::path_parameters(&route.path, &target.path),
            query: request.query.as_deref(),
            headers: request.headers.as_deref(),
            source_ip: request.source_ip.as_deref(),
        };
        if let Err(refusal) = ruling.passes(rule, Some(&request)) {
            tracing::debug!(%refusal, "the route's rule refused the request");
            ruling.route_refused = true;
        }
        Ok(ruling)
    }

    /// The answer for a verified token: Allow when the `requested` route permits it and the
    /// policy allows the request, otherwise Deny naming why.
    fn answer(
        &self,
        shape: Shape,
        requested: Option<Requested>,
        target: &ExecuteApiArn,
        verified: Verified,
        ruling: &Ruling,
    ) -> Decision {
        let Verified {
            claims,
            scopes,
            principal,
        } = verified;
        // A bound token passed the binding step for this request's proof or certificate only.
        let bound = claims.cnf.is_some();
        let standing = || {
            let standing =
                policy::standings(&self.routes, &scopes, |r| ruling.passes(r, None).is_ok());
            match bound {
                true => standing
                    .into_iter()
                    .map(Standing::for_this_request_only)
                    .collect(),
                false => standing,
            }
        };
        let context = ContextClaims::new(claims, &scopes);
        let answer = shape.answer(
            requested,
            target,
            standing,
            &self.routes,
            principal,
            context,
        );
        let (outcome, reason) = match requested {
            None => (Outcome::Deny, Reason::RouteNotFound),
            Some(_) if answer.allows_request => (Outcome::Allow, Reason::Granted),
            Some(r) if r.permitted => (Outcome::Deny, Reason::WildcardPath),
            Some(_) if ruling.route_refused => (Outcome::Deny, Reason::RouteRuleRefused),
            Some(_) => (Outcome::Deny, Reason::InsufficientScope),
        };
        Decision {
            outcome,
            reason,
            answer: Ok(answer.response),
        }
    }

    /// Verifies a token presented as a bearer token, in a request with nothing else (no proof,
    /// no certificate): [`Self::decide`]'s verification, binding and revocation steps, so a
    /// sender-constrained token is refused here.
    pub async fn verify_token(
        &self,
        token: Option<&str>,
        now: u64,
    ) -> Result<Verified, TokenError> {
        let bearer = Presented {
            format: EventFormat::Request,
            method: "GET",
            evidence: &Evidence::default(),
        };
        self.accept(token, &bearer, now).await
    }

    /// The token steps of a decision: verification, binding, revocation.
    async fn accept(
        &self,
        token: Option<&str>,
        presented: &Presented<'_>,
        now: u64,
    ) -> Result<Verified, TokenError> {
        let token = token.ok_or(TokenError::MissingToken)?;
        let verified = self.verify(token, now).await?;
        self.binding
            .check(
                self.tables.as_ref(),
                presented,
                token,
                &verified.claims,
                now,
            )
            .await?;
        // Opaque tokens are revoked at their issuer, which introspection asks.
        if let Some(revocation) = &self.revocation
            && !self.is_introspected(token)
        {
            revocation
                .check(self.tables.as_ref(), &verified.claims)
                .await?;
        }
        Ok(verified)
    }

    /// Whether `token` is judged by introspection rather than by its signature.
    fn is_introspected(&self, token: &str) -> bool {
        self.introspection.is_some() && introspection::is_opaque(token)
    }

    /// Verifies a token: an opaque one by introspection when it is on, a JWT against the
    /// configured issuers.
    async fn verify(&self, token: &str, now: u64) -> Result<Verified, TokenError> {
        if let Some(introspector) = &self.introspection
            && introspection::is_opaque(token)
        {
            if token.len() > self.max_token_bytes {
                return Err(TokenError::Malformed);
            }
            let [issuer] = self.issuers.as_slice() else {
                return Err(TokenError::UnknownIssuer);
            };
            return introspector
                .verify(token, &issuer.rules, &issuer.claims, now)
                .await;
        }
        self.verify_jwt(token, now).await
    }

    /// Verifies a JWT against the configured issuers.
    async fn verify_jwt(&self, token: &str, now: u64) -> Result<Verified, TokenError> {
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
            return token::verify_with_keys(jws, &issuer.hmac, &issuer.rules, &issuer.claims, now);
        }
        let jwks = issuer
            .jwks
            .as_ref()
            .ok_or(TokenError::AlgorithmNotAllowed)?;
        jwks.check_signature(&jws, now).await?;
        token::accept_checked_signature(jws, &issuer.rules, &issuer.claims, now)
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

/// What the issuers' and the routes' rules read of a token, gathered once at cold start.
fn token_needs(issuers: &[Issuer], routes: &AccessTable) -> Needs {
    let mut needs = Needs::default();
    let issuer_rules = issuers.iter().filter_map(|i| i.rule.as_ref());
    for rule in issuer_rules.chain(routes.routes().iter().filter_map(|r| r.rule.as_ref())) {
        needs.add(rule);
    }
    needs
}

/// Warns, once at cold start, of each route rule reading what API Gateway's cache key leaves
/// out unless it is an identity source: the query, headers or source address. API Gateway
/// caches a decision by its identity sources only (REST API developer guide, "Configure a
/// Lambda authorizer"; HTTP API, "Working with AWS Lambda authorizers": caching), so such a
/// rule is judged on the first request's values for as long as the cache holds.
fn warn_of_uncached_rules(routes: &AccessTable) {
    let uncached = routes.routes().iter().filter(|r| {
        r.rule
            .as_ref()
            .is_some_and(|rule| rule.reads_uncached_request())
    });
    for route in uncached {
        tracing::warn!(
            method = %route.method,
            route = %route.path,
            "x-authorizer-rule reads request.query, request.headers or request.sourceIp: make \
             them identity sources, or set the authorizer's cache TTL to 0 (docs/rules.md, \
             Caching)"
        );
    }
}

/// A token refused: `Unauthorized` (401), or `isAuthorized: false` where the simple response
/// can say it.
fn refused(shape: Shape, error: &TokenError) -> Decision {
    Decision {
        outcome: Outcome::Unauthorized,
        reason: Reason::from(error),
        answer: shape.unauthorized().ok_or(AuthorizerError::Unauthorized),
    }
}
