//! `local-gateway explain`: for every route, whether a token gets through and why, under each
//! gate a deployment can put in front of an API, and then through product-api's re-check.
//!
//! "Why 403?" mostly comes down to three ways the gates differ:
//!
//! - **Where the scopes are read.** The built-in JWT authorizers of HTTP and REST APIs read
//!   `scope` and `scp` only. A Cognito user pool authorizer reads the `scope` of an access token,
//!   and wants an ID token on a method without scopes. This project's Lambda authorizer reads
//!   every form (`scope`, `scp`, `scopes`, `permissions`).
//! - **How a route's scopes combine.** A built-in authorizer holds one list of scopes per route,
//!   and any one of them lets the caller through (for a route read from an OpenAPI document:
//!   every scope its requirement names). The Lambda authorizer and product-api need every scope
//!   of a requirement.
//! - **How the token is verified.** Algorithms differ (HTTP API: RSA only; REST API: RSA and
//!   EC). So does the audience: `client_id` counts only without `aud` on an HTTP API and never on
//!   a REST API, and a Cognito authorizer checks none. Required claims differ too.
//!
//! Each verdict comes from the code the local gateway runs for that gate.
//! - **Verification**: when the token's issuer is configured, each gate's own verifier checks
//!   it ([`BuiltIn::verify`] of [`JwtAuthorizer`] and [`RestJwtAuthorizer`], [`Authorizer::verify_token`]).
//! - **Scopes**: each gate's own functions read and match them ([`token_scopes`],
//!   [`token::scopes_as_issued`], [`Access::is_met_by`]).
//! - **Rules** (Lambda authorizer only): the issuer's CEL rule refuses the token on every route
//!   (401), a route's `x-authorizer-rule` reading only `header` and `claims` is judged on the
//!   token ([`jwt_scopes_api::authorizer::Facts`]); one reading the request is decided per
//!   request, and the report says so.
//! - **product-api's re-check**: it reads the event the gate would send ([`crate::event`]) and
//!   judges with [`product_api::authorize`].
//!
//! Without a configured issuer the claims are judged unverified, and the report says so.
//!
//! An opaque token (not a JWT) is judged by our Lambda authorizer alone, by introspection (RFC
//! 7662) at the issuer, the running development issuer's included; the built-in authorizers take
//! JWTs only. A JWT revoked in the revocation store (`AUTH_REVOCATION_TABLE`, or the running
//! gateway's store in memory) fails our Lambda authorizer's check with `revoked`: the built-in
//! authorizers cannot see revocations.
//!
//! A Cognito authorizer answers every refusal with 401: AWS documents no 403 for it, and
//! reports of a missing scope all show 401. The Cognito verdicts follow that.

use crate::event::{self, ApiContext, IncomingRequest};
use crate::jwt_authorizer::{
    self, BuiltIn, JwtAuthorizer, any_granted, token_from_header, token_scopes,
};
use crate::rest_jwt_authorizer::RestJwtAuthorizer;
use crate::server::{auth_config, issuer_configured};
use hyper::HeaderMap;
use hyper::header::{HOST, HeaderValue};
use jwt_scopes_api::authorizer::{AccessRule, Facts};
use jwt_scopes_api::product_api::{self, ApiError, IdentityExt};
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::routes::{Route, RouteTable};
use jwt_scopes_api::scopes::{Access, SCOPE_CLAIMS, ScopeNames, ScopeSet};
use jwt_scopes_api::token::{self, ContextClaims, Jws, Rules, TokenClaims, TokenError};
use jwt_scopes_api::{AuthConfig, Authorizer};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

/// A gate a deployment can put in front of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// The HTTP API built-in JWT authorizer.
    HttpApiJwt,
    /// The REST API built-in JWT authorizer.
    RestApiJwt,
    /// A REST API Cognito user pool authorizer.
    Cognito,
    /// This project's Lambda authorizer.
    Lambda,
}

impl Gate {
    /// Every gate, in the order reported.
    pub const ALL: [Gate; 4] = [
        Gate::HttpApiJwt,
        Gate::RestApiJwt,
        Gate::Cognito,
        Gate::Lambda,
    ];

    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Gate::HttpApiJwt => "HTTP API JWT authorizer",
            Gate::RestApiJwt => "REST API JWT authorizer",
            Gate::Cognito => "REST API Cognito authorizer",
            Gate::Lambda => "Lambda authorizer (ours)",
        }
    }
}

/// How a gate's verification judged the token, before any route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Not verified: the token's issuer is not configured, or there is no token.
    NotChecked,
    /// Every check passed.
    Passed,
    /// This check failed.
    Failed(TokenError),
    /// The gate cannot be configured for this issuer or token.
    Unavailable(String),
}

/// One gate's answer on one route, or product-api's behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The route has no authorizer.
    Public,
    /// Let through, and why.
    Allowed(String),
    /// 401, with the reason code and why.
    Unauthorized(Reason, String),
    /// 403, with the reason code and why.
    Forbidden(Reason, String),
    /// The gate does not apply.
    Unavailable(String),
}

impl Verdict {
    /// Whether the request gets past this gate.
    pub fn lets_through(&self) -> bool {
        matches!(self, Verdict::Public | Verdict::Allowed(_))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Public => f.write_str("allow: public, no authorizer"),
            Verdict::Allowed(why) => write!(f, "allow: {why}"),
            Verdict::Unauthorized(reason, why) => write!(f, "401 {reason}: {why}"),
            Verdict::Forbidden(reason, why) => write!(f, "403 {reason}: {why}"),
            Verdict::Unavailable(why) => write!(f, "n/a: {why}"),
        }
    }
}

/// One gate on one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateReport {
    /// The gate.
    pub gate: Gate,
    /// Its answer.
    pub verdict: Verdict,
    /// product-api's re-check of the event this gate sends, when it lets the request through to
    /// one of product-api's routes.
    pub recheck: Option<Verdict>,
}

/// Every gate on one route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteReport {
    /// Method, upper case.
    pub method: String,
    /// Path template.
    pub path: String,
    /// What the route asks for, in the issuer's spelling.
    pub access: Access,
    /// One per gate, in [`Gate::ALL`] order.
    pub gates: Vec<GateReport>,
}

impl RouteReport {
    /// The report of one gate.
    pub fn gate(&self, gate: Gate) -> &GateReport {
        let found = self.gates.iter().find(|g| g.gate == gate);
        found.expect("every gate is reported")
    }
}

/// Whether the claims were verified before they were judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Verified by each gate, against these configured issuers.
    Verified {
        /// The issuers trusted.
        issuers: Vec<String>,
    },
    /// Judged unverified, and why.
    NotVerified(String),
    /// An opaque token, introspected at this issuer's endpoint; its answer's claims are judged.
    Introspected {
        /// The issuer asked.
        issuer: String,
        /// Whether it answered the token active (and acceptable).
        active: bool,
    },
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verification::Verified { issuers } => {
                write!(f, "verified against {}", issuers.join(", "))
            }
            Verification::NotVerified(why) => f.write_str(why),
            Verification::Introspected { issuer, active } => {
                let answer = match active {
                    true => "active",
                    false => "not accepted",
                };
                write!(
                    f,
                    "opaque (not a JWT): introspected at {issuer} (RFC 7662): {answer}"
                )
            }
        }
    }
}

/// The whole explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What the token was checked against, or why it was not.
    pub verified: Verification,
    /// The claims judged.
    pub claims: Map<String, Value>,
    /// Each gate's verification, in [`Gate::ALL`] order.
    pub checks: Vec<(Gate, Check)>,
    /// Every route of the authorizer's table.
    pub routes: Vec<RouteReport>,
}

impl Report {
    /// What the gates would need to see for a sender-constrained token (one with `cnf`), or
    /// `None` for a bearer token.
    pub fn binding(&self) -> Option<String> {
        let cnf = self.claims.get("cnf")?;
        let has = |member: &str| cnf.get(member).is_some();
        let mut needs = Vec::new();
        if has("jkt") {
            needs.push(
                "DPoP-bound (cnf.jkt, RFC 9449): the Lambda authorizer takes it only as \
                 `Authorization: DPoP <token>` with one `DPoP` proof signed by that key for each \
                 request, through a REQUEST authorizer, its htu one of AUTH_PUBLIC_URL joined with \
                 the path",
            );
        }
        if has("x5t#S256") {
            needs.push(
                "certificate-bound (cnf.x5t#S256, RFC 8705): the Lambda authorizer needs that \
                 client certificate in the event, from a mutual-TLS custom domain (the local \
                 gateway has no mTLS)",
            );
        }
        if needs.is_empty() {
            needs.push("bound by a cnf the Lambda authorizer cannot check: always refused");
        }
        needs.push("the built-in JWT authorizers ignore cnf and take it as a bearer token");
        Some(needs.join("; "))
    }

    /// The route with this method and path template.
    pub fn route(&self, method: &str, path: &str) -> Option<&RouteReport> {
        self.routes
            .iter()
            .find(|r| r.method == method && r.path == path)
    }
}

/// The verifiers of the configured gates.
struct Verifiers {
    jwt: Result<JwtAuthorizer, String>,
    rest: Result<RestJwtAuthorizer, String>,
    lambda: Authorizer,
}

/// Explains tokens and claims under one configuration.
pub struct Explainer {
    auth: AuthConfig,
    /// Whether `AUTH_ISSUER` / `AUTH_CONFIG` is set; otherwise `auth` is the development
    /// issuer's, which only its own tokens are verified against.
    configured: bool,
    verifiers: Verifiers,
}

impl Explainer {
    /// The gates of the `AUTH_*` variables in `env` (as the `authorizer` Lambda reads them and
    /// `template.yaml` deploys them), or, without an issuer there, the development issuer of
    /// a gateway running at `dev_issuer` (`http://127.0.0.1:PORT`). No I/O until a token.
    pub fn new(env: &BTreeMap<String, String>, dev_issuer: &str) -> Result<Explainer, String> {
        let configured = issuer_configured(env);
        let dev = (!configured).then_some(dev_issuer);
        let auth = auth_config(env, dev).map_err(|e| e.to_string())?;
        let verifiers = Verifiers {
            jwt: JwtAuthorizer::from_config(auth.clone()),
            rest: RestJwtAuthorizer::new(auth.clone(), env.contains_key("AUTH_ALGORITHMS")),
            lambda: Authorizer::new(auth.clone()),
        };
        Ok(Explainer {
            auth,
            configured,
            verifiers,
        })
    }

    /// Our Lambda authorizer's gate reading revocation items as `attach` sets it up (the
    /// table's client, or the running gateway's store).
    pub fn with_lambda(self, attach: impl FnOnce(Authorizer) -> Authorizer) -> Explainer {
        let Explainer {
            auth,
            configured,
            verifiers,
        } = self;
        let verifiers = Verifiers {
            lambda: attach(verifiers.lambda),
            ..verifiers
        };
        Explainer {
            auth,
            configured,
            verifiers,
        }
    }

    /// Explains a token (bare, or an `Authorization` header value) at `now`: verified by each
    /// gate when its issuer is configured (or is the running development issuer), then judged on
    /// every route. An opaque token is introspected when introspection is configured.
    pub async fn token(&self, token: &str, now: u64) -> Report {
        let token = token_from_header(token).unwrap_or_default();
        let parts = unverified_parts(token, self.auth.max_token_bytes);
        if parts.is_none() && self.auth.introspection.is_some() {
            return self.introspected(token, now).await;
        }
        let Some((header, claims)) = parts else {
            let malformed = Gate::ALL.map(|gate| (gate, Check::Failed(TokenError::Malformed)));
            let verified =
                Verification::NotVerified("not a compact JWS (three base64url parts)".into());
            return self.report(verified, (Map::new(), Map::new()), malformed.into());
        };
        let issuer = claims.get("iss").and_then(Value::as_str);
        let trusted = self.auth.issuers.iter().map(|i| i.rules.issuer.as_str());
        if !self.configured && !trusted.clone().any(|t| Some(t) == issuer) {
            let verified = Verification::NotVerified(format!(
                "not verified: no issuer configured (AUTH_ISSUER, AUTH_AUDIENCE, or AUTH_CONFIG), and the token's iss {} is not the development issuer at {}",
                issuer.map_or("(none)".into(), |i| format!("{i:?}")),
                trusted.collect::<Vec<_>>().join(", ")
            ));
            return self.report(verified, (header, claims), no_checks());
        }
        let v = &self.verifiers;
        let jwt = built_in_check(&v.jwt, token, now).await;
        let rest = built_in_check(&v.rest, token, now).await;
        let cognito = match is_cognito_issuer(&claims) {
            true => cognito_check(&rest, &claims, now),
            false => Check::Unavailable(COGNITO_ONLY.into()),
        };
        let lambda = match v.lambda.verify_token(Some(token), now).await {
            Ok(_) => Check::Passed,
            Err(error) => Check::Failed(error),
        };
        let issuers = trusted.map(str::to_owned).collect();
        let checks = vec![
            (Gate::HttpApiJwt, jwt),
            (Gate::RestApiJwt, rest),
            (Gate::Cognito, cognito),
            (Gate::Lambda, lambda),
        ];
        let verified = Verification::Verified { issuers };
        self.report(verified, (header, claims), checks)
    }

    /// An opaque token, as our Lambda authorizer judges it by introspection; the built-in
    /// authorizers refuse anything but a JWT.
    async fn introspected(&self, token: &str, now: u64) -> Report {
        let issuer = self.auth.issuers.first();
        let issuer = issuer.map(|i| i.rules.issuer.clone()).unwrap_or_default();
        let verified = self.verifiers.lambda.verify_token(Some(token), now).await;
        let (claims, lambda) = match verified {
            Ok(verified) => {
                let context = ContextClaims::new(verified.claims, &verified.scopes);
                match serde_json::to_value(context) {
                    Ok(Value::Object(claims)) => (claims, Check::Passed),
                    _ => (Map::new(), Check::Failed(TokenError::MalformedClaims)),
                }
            }
            Err(error) => (Map::new(), Check::Failed(error)),
        };
        let active = lambda == Check::Passed;
        let checks = Gate::ALL.map(|gate| match gate {
            Gate::Lambda => (gate, lambda.clone()),
            _ => (gate, Check::Failed(TokenError::Malformed)),
        });
        let verified = Verification::Introspected { issuer, active };
        self.report(verified, (Map::new(), claims), checks.into())
    }

    /// Explains claims without a token, as if every gate had verified them at `now`. Without
    /// an `exp`, one an hour ahead is added: every verified token has one, and the gates'
    /// events carry it.
    pub fn claims(&self, mut claims: Map<String, Value>, now: u64) -> Report {
        claims.entry("exp").or_insert_with(|| (now + 3600).into());
        let verified =
            Verification::NotVerified("not verified: claims given without a token".into());
        self.report(verified, (Map::new(), claims), no_checks())
    }

    /// Every route of the authorizer's table under every gate, for a token's `header` and
    /// `claims` (an empty header for claims given alone).
    fn report(
        &self,
        verified: Verification,
        (header, claims): (Map<String, Value>, Map<String, Value>),
        checks: Vec<(Gate, Check)>,
    ) -> Report {
        let names = &self.auth.scope_names;
        let mut readings = GateReadings::read(header, claims);
        self.issuer_rule(&mut readings);
        let routes = self
            .auth
            .routes
            .routes()
            .iter()
            .map(|rule| {
                let product_route = RouteTable::global()
                    .routes()
                    .iter()
                    .find(|r| r.method == rule.method && r.path == rule.path);
                let gates = checks
                    .iter()
                    .map(|(gate, check)| {
                        let (verdict, context) = gate_verdict(*gate, check, &readings, rule);
                        let recheck = product_route
                            .zip(context)
                            .map(|(route, context)| recheck(*gate, route, names, context));
                        GateReport {
                            gate: *gate,
                            verdict,
                            recheck,
                        }
                    })
                    .collect();
                RouteReport {
                    method: rule.method.clone(),
                    path: rule.path.clone(),
                    access: rule.access.clone(),
                    gates,
                }
            })
            .collect();
        Report {
            verified,
            claims: readings.claims,
            checks,
            routes,
        }
    }
}

impl Explainer {
    /// The Lambda authorizer's issuer rule (`AUTH_RULE`) on the claims: a refusal there is its
    /// verdict on every route, as the authorizer answers 401 before any route.
    fn issuer_rule(&self, readings: &mut GateReadings) {
        let iss = readings.claims.get("iss").and_then(Value::as_str);
        let issuer = match self.auth.issuers.as_slice() {
            [only] => Some(only),
            all => all.iter().find(|i| Some(i.rules.issuer.as_str()) == iss),
        };
        let Some(rule) = issuer.and_then(|i| i.rule.as_ref()) else {
            return;
        };
        if readings.lambda.is_ok()
            && let Err(refusal) = rule.check(&readings.facts())
        {
            let why = format!("the issuer's rule `{}`: {refusal}", rule.source());
            readings.lambda = Err(Verdict::Unauthorized(Reason::IssuerRuleRefused, why));
        }
    }
}

/// A built-in authorizer's verification, or why it cannot be configured.
async fn built_in_check(gate: &Result<impl BuiltIn, String>, token: &str, now: u64) -> Check {
    match gate {
        Ok(gate) => match gate.verify(token, now).await {
            Ok(_) => Check::Passed,
            Err(refused) => Check::Failed(refused.error),
        },
        Err(why) => Check::Unavailable(why.clone()),
    }
}

/// The header and claims of a compact JWS, unverified; `None` if it is not one.
fn unverified_parts(
    token: &str,
    max_bytes: usize,
) -> Option<(Map<String, Value>, Map<String, Value>)> {
    let jws = Jws::<Box<RawValue>>::parse(token, max_bytes).ok()?;
    Some((
        jws.header_as().ok()?,
        serde_json::from_str(jws.claims.get()).ok()?,
    ))
}

/// Every gate, its verification not run.
fn no_checks() -> Vec<(Gate, Check)> {
    Gate::ALL.map(|gate| (gate, Check::NotChecked)).into()
}

/// Why the Cognito authorizer does not apply to a token of another issuer.
const COGNITO_ONLY: &str = "a Cognito authorizer trusts only its user pools (iss https://cognito-idp.REGION.amazonaws.com/POOL)";

/// Whether `iss` is a Cognito user pool (`https://cognito-idp.REGION.amazonaws.com/POOL`): a
/// Cognito authorizer trusts nothing else.
fn is_cognito_issuer(claims: &Map<String, Value>) -> bool {
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    iss.strip_prefix("https://cognito-idp.")
        .and_then(|rest| rest.split_once(".amazonaws.com/"))
        .is_some_and(|(region, pool)| !region.is_empty() && !pool.is_empty())
}

/// The Cognito authorizer's verification, from the REST JWT authorizer's: the same keys,
/// algorithms and times, but no audience check (a Cognito access token has no `aud`), no
/// required claims, and `token_use` judged per method ([`cognito_verdict`]); where the REST check
/// failed on one of those, the claims are checked again without them.
fn cognito_check(rest: &Check, claims: &Map<String, Value>, now: u64) -> Check {
    match rest {
        Check::Failed(
            TokenError::WrongAudience
            | TokenError::WrongTokenType
            | TokenError::ClaimNotAccepted(_),
        ) => {
            let Ok(strict) = serde_json::from_value::<TokenClaims>(Value::Object(claims.clone()))
            else {
                return Check::Failed(TokenError::MalformedClaims);
            };
            let audiences = strict.aud.iter().flatten().chain(&strict.client_id);
            let rules = Rules {
                issuer: strict.iss.clone().unwrap_or_default(),
                audiences: audiences.cloned().collect(),
                leeway: 0,
                token_use: None,
                typ: None,
            };
            match token::check_rules(&strict, &rules, None, now) {
                Ok(()) | Err(TokenError::WrongAudience) => Check::Passed,
                Err(error) => Check::Failed(error),
            }
        }
        other => other.clone(),
    }
}

/// The scopes a built-in authorizer holds for a rule, any of which lets a caller through: every
/// scope the requirement names (API Gateway's one list per route). Empty when one alternative
/// names none: any valid token.
fn gate_scopes(access: &Access) -> Vec<&str> {
    let Access::AnyOf(sets) = access else {
        return Vec::new();
    };
    if sets.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    let mut scopes: Vec<&str> = Vec::new();
    for scope in sets.iter().flatten() {
        if !scopes.contains(&scope.as_str()) {
            scopes.push(scope);
        }
    }
    scopes
}

/// One gate on one rule: its verdict, and, when it lets the request through, the
/// `requestContext.authorizer` of the event it sends.
fn gate_verdict(
    gate: Gate,
    check: &Check,
    readings: &GateReadings,
    rule: &AccessRule,
) -> (Verdict, Option<Value>) {
    let claims = &readings.claims;
    if rule.access == Access::Public {
        return (Verdict::Public, None);
    }
    if gate == Gate::Cognito && !is_cognito_issuer(claims) {
        return (Verdict::Unavailable(COGNITO_ONLY.into()), None);
    }
    match check {
        Check::Failed(error) => {
            let why = match gate {
                Gate::Lambda => error.to_string(),
                _ => jwt_authorizer::description(error, None),
            };
            return (Verdict::Unauthorized(Reason::from(error), why), None);
        }
        Check::Unavailable(why) => return (Verdict::Unavailable(why.clone()), None),
        Check::NotChecked | Check::Passed => {}
    }
    match gate {
        Gate::HttpApiJwt | Gate::RestApiJwt => {
            built_in_verdict(gate, readings, &gate_scopes(&rule.access))
        }
        Gate::Cognito => cognito_verdict(claims, &gate_scopes(&rule.access)),
        Gate::Lambda => route_rule_verdict(
            lambda_verdict(&readings.lambda, &rule.access),
            readings,
            rule,
        ),
    }
}

/// The built-in JWT authorizers' scope rule: any of the route's scopes in `scope` or `scp`.
fn built_in_verdict(
    gate: Gate,
    readings: &GateReadings,
    required: &[&str],
) -> (Verdict, Option<Value>) {
    let (claims, scopes) = (&readings.claims, &readings.built_in_scopes);
    if !any_granted(required, scopes) {
        let mut why = format!(
            "needs any of [{}] in scope or scp; they hold [{}]",
            required.join(" "),
            scopes.join(" ")
        );
        why.push_str(&unread_scope_note(
            claims,
            required,
            &["scopes", "permissions"],
        ));
        return (Verdict::Forbidden(Reason::InsufficientScope, why), None);
    }
    let why = match required.iter().find(|r| scopes.iter().any(|s| s == *r)) {
        Some(scope) => format!("{scope} in scope/scp"),
        None => "a valid token (the route lists no scopes)".into(),
    };
    let context = match gate {
        Gate::HttpApiJwt => {
            event::jwt_authorizer_context(claims, (!required.is_empty()).then_some(scopes))
        }
        _ => event::rest_jwt_authorizer_context(claims.clone()),
    };
    (Verdict::Allowed(why), Some(context))
}

/// A note naming the claims a gate does not read that hold a scope it wanted, if any.
fn unread_scope_note(claims: &Map<String, Value>, required: &[&str], names: &[&str]) -> String {
    let held: Vec<String> = names
        .iter()
        .filter_map(|name| {
            let set = ScopeSet::parse_value(claims.get(*name)?).ok()?;
            let wanted: Vec<&str> = required
                .iter()
                .copied()
                .filter(|r| set.contains(r))
                .collect();
            (!wanted.is_empty()).then(|| format!("{name} holds {}", wanted.join(" ")))
        })
        .collect();
    match held.as_slice() {
        [] => String::new(),
        held => format!(" ({}, which this gate does not read)", held.join(", ")),
    }
}

/// A Cognito authorizer's rule: on a method with scopes, an access token with any of them in
/// `scope`; on one without, an ID token. Every refusal is 401.
fn cognito_verdict(claims: &Map<String, Value>, required: &[&str]) -> (Verdict, Option<Value>) {
    let token_use = claims.get("token_use").and_then(Value::as_str);
    let refuse = |why: String| (Verdict::Unauthorized(Reason::InsufficientScope, why), None);
    let context = || Some(event::cognito_authorizer_context(claims));
    if required.is_empty() {
        return match token_use {
            Some("id") => (
                Verdict::Allowed("an ID token, on a method without scopes".into()),
                context(),
            ),
            _ => refuse(format!(
                "a method without scopes takes an ID token; this one's token_use is {token_use:?}"
            )),
        };
    }
    if token_use != Some("access") {
        return refuse(format!(
            "a method with scopes takes an access token; this one's token_use is {token_use:?}"
        ));
    }
    let scope = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match required
        .iter()
        .find(|r| scope.split_whitespace().any(|s| s == **r))
    {
        Some(found) => (Verdict::Allowed(format!("{found} in scope")), context()),
        None => {
            let mut why = format!(
                "needs any of [{}] in scope; it holds [{scope}]",
                required.join(" ")
            );
            why.push_str(&unread_scope_note(
                claims,
                required,
                &["scp", "scopes", "permissions"],
            ));
            refuse(why)
        }
    }
}

/// What the gates read from the claims, read once per report, not once per route and gate.
struct GateReadings {
    /// The token's header, which rules read; empty for claims given alone.
    header: Map<String, Value>,
    claims: Map<String, Value>,
    /// `scope` and `scp`, as the built-in authorizers read them ([`token_scopes`]).
    built_in_scopes: Vec<String>,
    /// Our authorizer's reading, or its refusal of the claims.
    lambda: Result<LambdaReading, Verdict>,
}

/// The claims as this project's Lambda authorizer reads them.
struct LambdaReading {
    /// Every scope claim, merged ([`token::scopes_as_issued`]).
    scopes: ScopeSet,
    /// Which scope claims the token has, for the report.
    read_from: Vec<&'static str>,
    /// The `requestContext.authorizer` of the event it lets through.
    context: Value,
}

impl GateReadings {
    fn read(header: Map<String, Value>, claims: Map<String, Value>) -> GateReadings {
        let lambda = serde_json::from_value::<TokenClaims>(Value::Object(claims.clone()))
            .map_err(|_| {
                let why = TokenError::MalformedClaims.to_string();
                Verdict::Unauthorized(Reason::MalformedClaims, why)
            })
            .and_then(|strict| {
                let scopes = token::scopes_as_issued(&strict).map_err(|error| {
                    Verdict::Unauthorized(Reason::from(&error), error.to_string())
                })?;
                let read_from = SCOPE_CLAIMS
                    .into_iter()
                    .filter(|name| claims.contains_key(*name))
                    .collect();
                let context = serde_json::to_value(ContextClaims::new(strict, &scopes))
                    .map_err(|e| Verdict::Unavailable(e.to_string()))?;
                Ok(LambdaReading {
                    scopes,
                    read_from,
                    context: json!({ "lambda": context }),
                })
            });
        GateReadings {
            built_in_scopes: token_scopes(&claims),
            header,
            claims,
            lambda,
        }
    }

    /// What a rule reads, without a request.
    fn facts(&self) -> Facts<'_> {
        Facts {
            header: &self.header,
            claims: &self.claims,
            request: None,
        }
    }
}

/// The Lambda authorizer's `verdict` on `route` once its route rule, if any, is applied: a rule
/// reading only `header` and `claims` is judged on the token; one reading the request cannot be
/// judged for a route template, and the report says it is decided per request.
fn route_rule_verdict(
    verdict: (Verdict, Option<Value>),
    readings: &GateReadings,
    route: &AccessRule,
) -> (Verdict, Option<Value>) {
    let (Verdict::Allowed(why), context) = verdict else {
        return verdict;
    };
    let Some(rule) = &route.rule else {
        return (Verdict::Allowed(why), context);
    };
    let source = rule.source();
    if rule.reads_request() {
        let why = format!("{why}; then its rule `{source}` reads the request: decided per request");
        return (Verdict::Allowed(why), context);
    }
    match rule.check(&readings.facts()) {
        Ok(()) => (
            Verdict::Allowed(format!("{why}; its rule `{source}` is true")),
            context,
        ),
        Err(refusal) => {
            let why = format!("{why}, but its rule `{source}`: {refusal}");
            (Verdict::Forbidden(Reason::RouteRuleRefused, why), None)
        }
    }
}

/// This project's Lambda authorizer's rule: every scope claim merged, the route's requirement
/// met (all of one set, any set).
fn lambda_verdict(
    reading: &Result<LambdaReading, Verdict>,
    access: &Access,
) -> (Verdict, Option<Value>) {
    let reading = match reading {
        Ok(reading) => reading,
        Err(refused) => return (refused.clone(), None),
    };
    let scopes = &reading.scopes;
    if !access.is_met_by(scopes) {
        let read_from = match reading.read_from.as_slice() {
            [] => "no scope claim, so the token's scopes".into(),
            names => names.join(", "),
        };
        let why = format!("needs {}; {read_from} hold [{scopes}]", describe(access));
        return (Verdict::Forbidden(Reason::InsufficientScope, why), None);
    }
    let met = match access {
        Access::AnyOf(sets) => sets
            .iter()
            .find(|set| set.iter().all(|s| scopes.contains(s))),
        Access::Public => None,
    };
    let why = match met {
        Some(set) if set.is_empty() => "a valid token (the route asks no scope)".into(),
        Some(set) => format!("{} granted", set.join(" + ")),
        None => "public".into(),
    };
    (Verdict::Allowed(why), Some(reading.context.clone()))
}

/// A requirement in words: `a + b` needs both, `|` separates alternatives.
pub fn describe(access: &Access) -> String {
    match access {
        Access::Public => "nothing (public)".into(),
        Access::AnyOf(sets) if sets.is_empty() => "what no token has (no alternative)".into(),
        Access::AnyOf(sets) => {
            let sets: Vec<String> = sets
                .iter()
                .map(|set| match set.as_slice() {
                    [] => "any valid token".into(),
                    set => set.join(" + "),
                })
                .collect();
            sets.join(" | ")
        }
    }
}

/// product-api's re-check of the event `gate` sends with `context` for `route`.
fn recheck(gate: Gate, route: &Route, names: &ScopeNames, context: Value) -> Verdict {
    let request = example_request(route);
    let api = ApiContext::default();
    let event = match gate {
        Gate::HttpApiJwt | Gate::Lambda => {
            event::http_api_event(&request, &api, route, Some(context))
        }
        Gate::RestApiJwt | Gate::Cognito => {
            event::rest_api_event(&request, &api, route, Some(context))
        }
    };
    let request = match product_api::read_event(&event.to_string()) {
        Ok(request) => lambda_http::Request::from(request),
        Err(error) => return Verdict::Unavailable(format!("the event does not parse: {error}")),
    };
    let identity = request.identity();
    let read = identity
        .as_ref()
        .map_or_else(String::new, |i| i.scopes.to_string());
    match product_api::authorize(identity.as_ref(), route.requirement, names) {
        Ok(()) => Verdict::Allowed(format!(
            "{} granted",
            route.requirement.issuer_scopes(names)
        )),
        Err(ApiError::InsufficientScope { required }) => Verdict::Forbidden(
            Reason::InsufficientScope,
            format!("needs all of [{required}]; it read [{read}] from the request context"),
        ),
        Err(error) => {
            let reason = Reason::from(&error);
            Verdict::Unauthorized(reason, "no identity in the request context".into())
        }
    }
}

/// A request to `route`, each path parameter `example`.
fn example_request(route: &Route) -> IncomingRequest {
    let path: Vec<&str> = route
        .path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "example"
            } else {
                segment
            }
        })
        .collect();
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_static("localhost"));
    IncomingRequest {
        method: route.method.to_owned(),
        raw_path: path.join("/"),
        raw_query: String::new(),
        headers,
        body: Vec::new(),
        source_ip: Ipv4Addr::LOCALHOST.into(),
        server_port: crate::DEFAULT_PORT,
        request_id: "explain".into(),
        time_epoch_ms: jwt_scopes_api::env::now_millis(),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Token {}", self.verified)?;
        for name in ["iss", "sub", "aud", "client_id", "token_use", "exp"]
            .into_iter()
            .chain(SCOPE_CLAIMS)
        {
            if let Some(value) = self.claims.get(name) {
                writeln!(f, "  {name:<11} {value}")?;
            }
        }
        if let Some(binding) = self.binding() {
            writeln!(f, "  {:<11} {binding}", "bound")?;
        }
        if self.checks.iter().any(|(_, c)| *c != Check::NotChecked) {
            writeln!(f, "\nVerification")?;
            for (gate, check) in &self.checks {
                let text = match check {
                    Check::NotChecked => "not checked".into(),
                    Check::Passed => "passed".into(),
                    Check::Failed(error) => format!("401 {}: {error}", Reason::from(error)),
                    Check::Unavailable(why) => format!("n/a: {why}"),
                };
                writeln!(f, "  {:<28} {text}", gate.name())?;
            }
        }
        for route in &self.routes {
            writeln!(
                f,
                "\n{} {}  needs {}",
                route.method,
                route.path,
                describe(&route.access)
            )?;
            for report in &route.gates {
                writeln!(f, "  {:<28} {}", report.gate.name(), report.verdict)?;
                if let Some(recheck) = &report.recheck {
                    writeln!(f, "  {:<28}   then product-api: {recheck}", "")?;
                }
            }
        }
        Ok(())
    }
}
