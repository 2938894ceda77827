//! The authorizer's configuration, read and checked once at cold start. Every error names the
//! variable and what is wrong with it, and becomes an init error rather than a bad decision later.
//!
//! The simple form is one issuer in `AUTH_ISSUER` / `AUTH_AUDIENCE` / `AUTH_JWKS_URI` /
//! `AUTH_HMAC_SECRET`; `AUTH_CONFIG` (JSON, inline or a file path) lists several issuers instead.

use crate::authorizer::binding::{BindingConfig, DpopMode};
use crate::authorizer::dynamodb::TableConfig;
use crate::authorizer::introspection::IntrospectionConfig;
use crate::authorizer::openapi_routes::{self, AccessTable};
use crate::authorizer::rules::{Scope, SharedRule};
use crate::scopes::ScopeNames;
use crate::token::{
    ASYMMETRIC, Alg, ClaimPolicy, DEFAULT_PRINCIPAL_CLAIM, FetchLimits, KeySet, KeySource,
    RequiredClaim, Rules, SYMMETRIC, fetchable,
};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Shortest shared secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
const MIN_SECRET_BYTES: usize = 32;

/// One trusted issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerConfig {
    /// Claim checks for this issuer's tokens.
    pub rules: Rules,
    /// Where its public keys come from; `None` for an HMAC-only issuer.
    pub keys: Option<KeySource>,
    /// Its shared secret for HS256/384/512, if it signs that way.
    pub hmac_secret: Option<Vec<u8>>,
    /// Required claims and the principal claim for its tokens.
    pub claims: ClaimPolicy,
    /// Its CEL rule over `header` and `claims` (`AUTH_RULE`, `"rule"` in `AUTH_CONFIG`): a
    /// token it does not pass is refused (401).
    pub rule: Option<SharedRule>,
}

/// Which answer an HTTP API (payload 2.0) authorizer gives; must match `EnableSimpleResponses`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    /// `{"isAuthorized": bool, "context": {...}}`. Default.
    Simple,
    /// An IAM policy, as for REST.
    Iam,
}

/// Where a token may be found besides the `Authorization` header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenSources {
    /// Cookie holding the bare token (`AUTH_TOKEN_COOKIE`).
    pub cookie: Option<String>,
    /// Query parameter holding the bare token (`AUTH_TOKEN_QUERY`).
    pub query: Option<String>,
    /// Whether `Authorization: DPoP <token>` is read (`AUTH_DPOP` not `off`); when not, the
    /// scheme is no token, as any other non-bearer scheme.
    pub dpop: bool,
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Trusted issuers, at least one, distinct `iss`.
    pub issuers: Vec<IssuerConfig>,
    /// Algorithms accepted. Default: all asymmetric ones, plus HS* when a secret is configured.
    pub algorithms: Vec<Alg>,
    /// Payload 2.0 answer form (`AUTH_RESPONSE`: `simple` or `iam`).
    pub response: ResponseMode,
    /// Extra token sources.
    pub sources: TokenSources,
    /// Key fetching bounds.
    pub limits: FetchLimits,
    /// Largest token accepted, in bytes (`AUTH_MAX_TOKEN_BYTES`, default 8192).
    pub max_token_bytes: usize,
    /// How the issuer spells the route table's scopes (`SCOPE_NAMES`, as product-api reads it).
    pub scope_names: ScopeNames,
    /// The routes decided on: the document at `AUTH_ROUTES`, else the compiled-in table with
    /// its scopes spelled by `scope_names`.
    pub routes: AccessTable,
    /// Opaque tokens by introspection (`AUTH_INTROSPECTION_*`), off by default.
    pub introspection: Option<IntrospectionConfig>,
    /// The DynamoDB tables read (`AUTH_REVOCATION_TABLE`, `AUTH_REPLAY_TABLE`), none by default.
    pub tables: TableConfig,
    /// Sender-constrained tokens (`AUTH_DPOP*`, `AUTH_PUBLIC_URL`, `AUTH_MTLS`).
    pub binding: BindingConfig,
}

/// A configuration error, naming the variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn error(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// `AUTH_CONFIG` document: `{"issuers": [{"issuer", "audiences", "jwksUri"?, "hmacSecret"?, ...}]}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Document {
    issuers: Vec<IssuerEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IssuerEntry {
    issuer: String,
    audiences: Vec<String>,
    jwks_uri: Option<String>,
    hmac_secret: Option<String>,
    token_use: Option<String>,
    typ: Option<String>,
    required_claims: Option<Vec<RequiredClaimEntry>>,
    principal_claim: Option<String>,
    rule: Option<String>,
}

/// One of `requiredClaims` (`AUTH_REQUIRED_CLAIMS`): `{"name", "values"?, "required"?}`, API
/// Gateway's `JwtAdditionalClaim` (`claimName`, `expectedValues`, `required`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequiredClaimEntry {
    name: String,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    required: bool,
}

/// The whole number in `value`, the setting of variable `name` (spaces around it allowed), or
/// `None` when unset.
pub fn whole_number<N: std::str::FromStr>(
    name: &'static str,
    value: Option<String>,
) -> Result<Option<N>, ConfigError> {
    value
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| error(name, format!("{v:?} is not a whole number")))
        })
        .transpose()
}

impl AuthConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(crate::env::var)
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    /// Each setting is read and checked in turn; the first error fails the cold start.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let leeway = number(&lookup, "AUTH_LEEWAY_SECONDS", 60)?;
        let issuers = issuers(&lookup, leeway)?;
        let any_secret = issuers.iter().any(|i| i.hmac_secret.is_some());
        let algorithms = match lookup("AUTH_ALGORITHMS") {
            None => ASYMMETRIC
                .iter()
                .chain(any_secret.then_some(&SYMMETRIC).into_iter().flatten())
                .copied()
                .collect(),
            Some(list) => algorithms(&list, any_secret)?,
        };
        let response = response_mode(&lookup)?;
        let limits = fetch_limits(&lookup)?;
        let scope_names = match lookup(ScopeNames::VARIABLE) {
            None => ScopeNames::default(),
            Some(text) => {
                ScopeNames::parse(&text).map_err(|problem| error(ScopeNames::VARIABLE, problem))?
            }
        };
        let routes = routes(&lookup, &scope_names)?;
        let introspection = IntrospectionConfig::from_lookup(&lookup, &issuers)?;
        let tables = TableConfig::from_lookup(&lookup)?;
        let binding = BindingConfig::from_lookup(&lookup, leeway)?;
        Ok(AuthConfig {
            introspection,
            tables,
            issuers,
            algorithms,
            response,
            sources: TokenSources {
                cookie: lookup("AUTH_TOKEN_COOKIE"),
                query: lookup("AUTH_TOKEN_QUERY"),
                dpop: binding.dpop != DpopMode::Off,
            },
            binding,
            limits,
            max_token_bytes: number(&lookup, "AUTH_MAX_TOKEN_BYTES", 8192)? as usize,
            scope_names,
            routes,
        })
    }
}

/// The whole number in variable `name`, or `default` when it is unset.
fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    Ok(whole_number(name, lookup(name))?.unwrap_or(default))
}

/// The issuers, from `AUTH_CONFIG` or the single-issuer variables, each checked, none twice.
fn issuers(
    lookup: &impl Fn(&str) -> Option<String>,
    leeway: u64,
) -> Result<Vec<IssuerConfig>, ConfigError> {
    let (entries, origin) = match lookup("AUTH_CONFIG") {
        Some(document) => (issuers_from_document(&document)?, Origin::Document),
        None => (vec![single_issuer(lookup)?], Origin::Variables),
    };
    let principal = lookup("AUTH_PRINCIPAL_CLAIM").map(|c| c.trim().to_owned());
    let mut issuers = Vec::with_capacity(entries.len());
    for entry in entries {
        issuers.push(issuer(entry, leeway, principal.as_deref(), origin)?);
    }
    for (i, issuer) in issuers.iter().enumerate() {
        if issuers[..i]
            .iter()
            .any(|other| other.rules.issuer == issuer.rules.issuer)
        {
            return Err(error(
                "AUTH_CONFIG",
                format!("issuer {:?} is listed twice", issuer.rules.issuer),
            ));
        }
    }
    Ok(issuers)
}

/// `AUTH_RESPONSE`: simple responses unless `iam` is asked for.
fn response_mode(lookup: &impl Fn(&str) -> Option<String>) -> Result<ResponseMode, ConfigError> {
    match lookup("AUTH_RESPONSE").as_deref().map(str::trim) {
        None | Some("simple") => Ok(ResponseMode::Simple),
        Some("iam") => Ok(ResponseMode::Iam),
        Some(other) => Err(error(
            "AUTH_RESPONSE",
            format!("{other:?} is neither \"simple\" nor \"iam\""),
        )),
    }
}

/// The `AUTH_JWKS_*` limits on key fetches, each defaulting to [`FetchLimits::default`].
fn fetch_limits(lookup: &impl Fn(&str) -> Option<String>) -> Result<FetchLimits, ConfigError> {
    let defaults = FetchLimits::default();
    let limits = FetchLimits {
        timeout: Duration::from_millis(number(
            lookup,
            "AUTH_JWKS_TIMEOUT_MS",
            defaults.timeout.as_millis() as u64,
        )?),
        max_bytes: number(lookup, "AUTH_JWKS_MAX_BYTES", defaults.max_bytes as u64)? as usize,
        cooldown_secs: number(lookup, "AUTH_JWKS_COOLDOWN_SECONDS", defaults.cooldown_secs)?,
        max_age_secs: number(lookup, "AUTH_JWKS_MAX_AGE_SECONDS", defaults.max_age_secs)?,
    };
    if limits.timeout.is_zero() {
        return Err(error("AUTH_JWKS_TIMEOUT_MS", "must be greater than 0"));
    }
    Ok(limits)
}

/// The route table: the compiled-in one under `scope_names`, or `AUTH_ROUTES`'s document.
fn routes(
    lookup: &impl Fn(&str) -> Option<String>,
    scope_names: &ScopeNames,
) -> Result<AccessTable, ConfigError> {
    // A document's scopes are the issuer's names as written: SCOPE_NAMES spells the
    // compiled table's, and applying it to a document as well would leave a reader unsure
    // which names a route needs.
    match lookup("AUTH_ROUTES") {
        None => Ok(openapi_routes::compiled(scope_names)),
        Some(_) if *scope_names != ScopeNames::AsWritten => Err(error(
            "AUTH_ROUTES",
            "is read with the scope names as written; unset SCOPE_NAMES and write the issuer's names in the document",
        )),
        Some(value) => {
            openapi_routes::load(&value).map_err(|problem| error("AUTH_ROUTES", problem))
        }
    }
}

/// `AUTH_JWKS`: the issuer's key set to start from, inline JSON or a file path (as the
/// oidc-authorizer project offers it), so that a cold start verifies its first token without a
/// fetch. It only seeds the cache: an unknown `kid` or the set's age still refetches from
/// `AUTH_JWKS_URI` or by discovery, so the issuer must have one. Read by the same code as a
/// fetched set, so the same keys are dropped.
pub fn preloaded_keys(
    config: &AuthConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<KeySet>, ConfigError> {
    let Some(value) = lookup("AUTH_JWKS") else {
        return Ok(None);
    };
    if !matches!(config.issuers.as_slice(), [only] if only.keys.is_some()) {
        return Err(error(
            "AUTH_JWKS",
            "needs exactly one issuer, with AUTH_JWKS_URI or a discoverable issuer to refresh from",
        ));
    }
    let document = crate::env::inline_or_file(&value).map_err(|e| error("AUTH_JWKS", e))?;
    KeySet::from_jwks(document.as_bytes())
        .map(Some)
        .map_err(|e| error("AUTH_JWKS", e.to_string()))
}

fn single_issuer(lookup: &impl Fn(&str) -> Option<String>) -> Result<IssuerEntry, ConfigError> {
    let issuer = lookup("AUTH_ISSUER")
        .ok_or_else(|| error("AUTH_ISSUER", "is not set (or set AUTH_CONFIG)"))?;
    let audiences = lookup("AUTH_AUDIENCE")
        .map(|list| {
            list.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(IssuerEntry {
        issuer,
        audiences,
        jwks_uri: lookup("AUTH_JWKS_URI"),
        hmac_secret: lookup("AUTH_HMAC_SECRET"),
        token_use: lookup("AUTH_TOKEN_USE"),
        typ: lookup("AUTH_REQUIRED_TYP"),
        required_claims: lookup("AUTH_REQUIRED_CLAIMS")
            .map(|text| {
                serde_json::from_str(&text).map_err(|e| {
                    error(
                        "AUTH_REQUIRED_CLAIMS",
                        format!("not a JSON list of {{\"name\", \"values\", \"required\"}}: {e}"),
                    )
                })
            })
            .transpose()?,
        principal_claim: None,
        rule: lookup("AUTH_RULE"),
    })
}

fn issuers_from_document(value: &str) -> Result<Vec<IssuerEntry>, ConfigError> {
    let text = crate::env::inline_or_file(value).map_err(|e| error("AUTH_CONFIG", e))?;
    let document: Document = serde_json::from_str(&text)
        .map_err(|e| error("AUTH_CONFIG", format!("invalid JSON document: {e}")))?;
    if document.issuers.is_empty() {
        return Err(error("AUTH_CONFIG", "lists no issuer"));
    }
    Ok(document.issuers)
}

/// Where the issuers were read from, so that an error about one of its URLs names the variable
/// to fix.
#[derive(Clone, Copy)]
enum Origin {
    /// `AUTH_ISSUER`, `AUTH_JWKS_URI`, ...
    Variables,
    /// `AUTH_CONFIG`.
    Document,
}

impl Origin {
    /// The variable holding a setting that the single-issuer form reads from `single`.
    fn variable(self, single: &'static str) -> &'static str {
        match self {
            Origin::Variables => single,
            Origin::Document => "AUTH_CONFIG",
        }
    }
}

fn issuer(
    mut entry: IssuerEntry,
    leeway: u64,
    principal: Option<&str>,
    origin: Origin,
) -> Result<IssuerConfig, ConfigError> {
    let variable = "AUTH_ISSUER / AUTH_CONFIG";
    if entry.issuer.trim().is_empty() {
        return Err(error(variable, "issuer is empty"));
    }
    if entry.audiences.is_empty() {
        return Err(error(
            "AUTH_AUDIENCE",
            format!(
                "no audience for issuer {:?}: list the API identifiers or client ids to accept",
                entry.issuer
            ),
        ));
    }
    check_key_urls(&entry, origin)?;
    if let Some(secret) = &entry.hmac_secret
        && secret.len() < MIN_SECRET_BYTES
    {
        return Err(error(
            "AUTH_HMAC_SECRET",
            format!("is shorter than {MIN_SECRET_BYTES} bytes"),
        ));
    }
    let keys = match (&entry.jwks_uri, &entry.hmac_secret) {
        (Some(uri), _) => Some(KeySource::Jwks(uri.clone())),
        (None, Some(_)) => None,
        (None, None) => Some(KeySource::Discovery),
    };
    let claims = claim_policy(
        &entry.issuer,
        entry.required_claims.take().unwrap_or_default(),
        entry.principal_claim.as_deref().or(principal),
    )?;
    let rule = entry.rule.as_deref().map(|source| {
        SharedRule::compile(source, Scope::Issuer).map_err(|problem| {
            let issuer = &entry.issuer;
            error(
                origin.variable("AUTH_RULE"),
                format!("issuer {issuer:?}: {problem}"),
            )
        })
    });
    Ok(IssuerConfig {
        rule: rule.transpose()?,
        rules: Rules {
            issuer: entry.issuer,
            audiences: entry.audiences,
            leeway,
            token_use: entry.token_use,
            typ: entry.typ,
        },
        keys,
        hmac_secret: entry.hmac_secret.map(String::into_bytes),
        claims,
    })
}

/// Every URL keys will be fetched from passes the one https rule ([`fetchable`]), or the cold
/// start fails naming the variable (or the document's issuer and field) to fix.
fn check_key_urls(entry: &IssuerEntry, origin: Origin) -> Result<(), ConfigError> {
    let url_error = |single, field, problem: String| {
        let problem = match origin {
            Origin::Variables => problem,
            Origin::Document => format!("issuer {:?}: {field} {problem}", entry.issuer),
        };
        error(origin.variable(single), problem)
    };
    if let Some(uri) = &entry.jwks_uri {
        fetchable(uri).map_err(|problem| url_error("AUTH_JWKS_URI", "jwksUri", problem))?;
    }
    if entry.jwks_uri.is_none() && entry.hmac_secret.is_none() {
        fetchable(&entry.issuer).map_err(|problem| {
            let problem =
                format!("{problem}: its keys are discovered from it, or set AUTH_JWKS_URI");
            url_error("AUTH_ISSUER", "issuer", problem)
        })?;
    }
    Ok(())
}

/// The issuer's required claims, and the claim its principal is read from: `principal` (the
/// issuer's own, else `AUTH_PRINCIPAL_CLAIM`), else [`DEFAULT_PRINCIPAL_CLAIM`].
fn claim_policy(
    issuer: &str,
    required: Vec<RequiredClaimEntry>,
    principal: Option<&str>,
) -> Result<ClaimPolicy, ConfigError> {
    Ok(ClaimPolicy {
        required: required_claims(issuer, required)?,
        principal: match principal {
            Some("") => return Err(error("AUTH_PRINCIPAL_CLAIM", "names no claim")),
            Some(claim) => claim.to_owned(),
            None => DEFAULT_PRINCIPAL_CLAIM.to_owned(),
        },
    })
}

/// Claims other checks own cannot be required here, as API Gateway refuses them too; each
/// claim is named once per issuer; a rule must check something.
fn required_claims(
    issuer: &str,
    entries: Vec<RequiredClaimEntry>,
) -> Result<Vec<RequiredClaim>, ConfigError> {
    let variable = "AUTH_REQUIRED_CLAIMS / AUTH_CONFIG requiredClaims";
    let mut claims: Vec<RequiredClaim> = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = entry.name;
        let problem = if ["iss", "aud", "exp", "nbf", "iat"].contains(&name.as_str())
            || crate::scopes::SCOPE_CLAIMS.contains(&name.as_str())
        {
            Some("is checked by the authorizer itself")
        } else if name.is_empty() {
            Some("names no claim")
        } else if claims.iter().any(|c| c.name == name) {
            Some("is listed twice")
        } else if entry.values.is_empty() && !entry.required {
            Some("checks nothing: give values or \"required\": true")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(error(
                variable,
                format!("issuer {issuer:?}: claim {name:?} {problem}"),
            ));
        }
        claims.push(RequiredClaim {
            name,
            values: entry.values,
            required: entry.required,
        });
    }
    Ok(claims)
}

fn algorithms(list: &str, any_secret: bool) -> Result<Vec<Alg>, ConfigError> {
    let mut chosen = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let alg = name.parse::<Alg>().map_err(|_| {
            error(
                "AUTH_ALGORITHMS",
                format!("{name:?} is not a supported algorithm"),
            )
        })?;
        if alg.is_symmetric() && !any_secret {
            return Err(error(
                "AUTH_ALGORITHMS",
                format!("{name} needs AUTH_HMAC_SECRET"),
            ));
        }
        chosen.push(alg);
    }
    if chosen.is_empty() {
        return Err(error("AUTH_ALGORITHMS", "lists no algorithm"));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AuthConfig::from_lookup(|name| vars.get(name).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn single_issuer_with_discovery_and_defaults() {
        let c = config(&[
            ("AUTH_ISSUER", "https://tenant.auth0.com/"),
            ("AUTH_AUDIENCE", "api, other"),
        ])
        .unwrap();
        assert_eq!(c.issuers.len(), 1);
        assert_eq!(c.issuers[0].keys, Some(KeySource::Discovery));
        assert_eq!(c.issuers[0].rules.audiences, ["api", "other"]);
        assert_eq!(c.issuers[0].rules.leeway, 60);
        assert_eq!(c.algorithms, ASYMMETRIC);
        assert_eq!(c.response, ResponseMode::Simple);
        assert_eq!(c.limits, FetchLimits::default());
    }

    #[test]
    fn hmac_secret_enables_hs_algorithms_only_with_a_secret() {
        let c = config(&[
            ("AUTH_ISSUER", "local"),
            ("AUTH_AUDIENCE", "api"),
            ("AUTH_HMAC_SECRET", SECRET),
        ])
        .unwrap();
        assert_eq!(c.issuers[0].keys, None);
        assert!(c.algorithms.contains(&Alg::HS256));
        let e = config(&[
            ("AUTH_ISSUER", "https://i/"),
            ("AUTH_AUDIENCE", "a"),
            ("AUTH_ALGORITHMS", "HS256"),
        ]);
        assert_eq!(e.unwrap_err().variable, "AUTH_ALGORITHMS");
        let short = config(&[
            ("AUTH_ISSUER", "local"),
            ("AUTH_AUDIENCE", "api"),
            ("AUTH_HMAC_SECRET", "short"),
        ]);
        assert_eq!(short.unwrap_err().variable, "AUTH_HMAC_SECRET");
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 7] = [
            (&[], "AUTH_ISSUER"),
            (&[("AUTH_ISSUER", "https://i/")], "AUTH_AUDIENCE"),
            (
                &[
                    ("AUTH_ISSUER", "https://i/"),
                    ("AUTH_AUDIENCE", "a"),
                    ("AUTH_ALGORITHMS", "none"),
                ],
                "AUTH_ALGORITHMS",
            ),
            (
                &[
                    ("AUTH_ISSUER", "https://i/"),
                    ("AUTH_AUDIENCE", "a"),
                    ("AUTH_RESPONSE", "x"),
                ],
                "AUTH_RESPONSE",
            ),
            (
                &[
                    ("AUTH_ISSUER", "https://i/"),
                    ("AUTH_AUDIENCE", "a"),
                    ("AUTH_LEEWAY_SECONDS", "-1"),
                ],
                "AUTH_LEEWAY_SECONDS",
            ),
            (
                &[
                    ("AUTH_ISSUER", "https://i/"),
                    ("AUTH_AUDIENCE", "a"),
                    ("AUTH_JWKS_URI", "file:///x"),
                ],
                "AUTH_JWKS_URI",
            ),
            (&[("AUTH_CONFIG", "{\"issuers\": []}")], "AUTH_CONFIG"),
        ];
        for (vars, variable) in cases {
            let e = config(vars).unwrap_err();
            assert_eq!(e.variable, variable, "{e}");
            assert!(e.to_string().starts_with(variable));
        }
    }

    /// OpenID Connect Discovery §4 and RFC 8414 §6.1: keys and metadata over TLS; plain http
    /// only to a loopback host, decided on the parsed host. A bad URL fails the cold start
    /// naming the variable.
    #[test]
    fn key_urls_must_be_https_or_loopback_at_cold_start() {
        let refused = |vars: &[(&str, &str)], variable: &str| {
            let e = config(vars).unwrap_err();
            assert_eq!(e.variable, variable, "{e}");
            assert!(e.problem.contains("must be https"), "{e}");
            e
        };
        refused(
            &[
                ("AUTH_ISSUER", "https://i/"),
                ("AUTH_AUDIENCE", "a"),
                ("AUTH_JWKS_URI", "http://keys.example.com/jwks.json"),
            ],
            "AUTH_JWKS_URI",
        );
        for issuer in [
            "http://localhost.evil.example",
            "http://127.0.0.1@evil.example/",
            "http://idp.example.com/",
            "local",
        ] {
            let e = refused(
                &[("AUTH_ISSUER", issuer), ("AUTH_AUDIENCE", "a")],
                "AUTH_ISSUER",
            );
            assert!(e.problem.contains("AUTH_JWKS_URI"), "{e}");
        }
        let document = |entry: &str| format!(r#"{{"issuers": [{entry}]}}"#);
        let e = refused(
            &[(
                "AUTH_CONFIG",
                &document(
                    r#"{"issuer": "https://a/", "audiences": ["x"], "jwksUri": "http://keys.example.com/jwks"}"#,
                ),
            )],
            "AUTH_CONFIG",
        );
        assert!(
            e.problem.starts_with("issuer \"https://a/\": jwksUri"),
            "{e}"
        );
        refused(
            &[(
                "AUTH_CONFIG",
                &document(r#"{"issuer": "http://idp.example.com/", "audiences": ["x"]}"#),
            )],
            "AUTH_CONFIG",
        );
        for (issuer, jwks_uri) in [
            ("http://127.0.0.1:3000", None),
            ("http://[::1]:3000/", None),
            ("http://localhost:3000", None),
            (
                "https://idp.example.com/",
                Some("https://keys.example.com/jwks.json"),
            ),
            // Never fetched from: an issuer with its own key URL is only compared with `iss`.
            ("http://idp.example.com/", Some("http://127.0.0.1:1/jwks")),
        ] {
            let mut vars = vec![("AUTH_ISSUER", issuer), ("AUTH_AUDIENCE", "a")];
            vars.extend(jwks_uri.map(|uri| ("AUTH_JWKS_URI", uri)));
            assert!(config(&vars).is_ok(), "{issuer} {jwks_uri:?}");
        }
    }

    #[test]
    fn several_issuers_from_a_document() {
        let document = format!(
            r#"{{"issuers": [
              {{"issuer": "https://a.test/", "audiences": ["api"], "jwksUri": "http://127.0.0.1:1/jwks"}},
              {{"issuer": "https://cognito-idp.eu-west-1.amazonaws.com/pool", "audiences": ["client"], "tokenUse": "access"}},
              {{"issuer": "internal", "audiences": ["api"], "hmacSecret": "{SECRET}"}}
            ]}}"#
        );
        let c = config(&[("AUTH_CONFIG", &document), ("AUTH_RESPONSE", "iam")]).unwrap();
        assert_eq!(c.issuers.len(), 3);
        assert_eq!(
            c.issuers[0].keys,
            Some(KeySource::Jwks("http://127.0.0.1:1/jwks".into()))
        );
        assert_eq!(c.issuers[1].rules.token_use.as_deref(), Some("access"));
        assert_eq!(c.issuers[2].hmac_secret.as_deref(), Some(SECRET.as_bytes()));
        assert_eq!(c.response, ResponseMode::Iam);
        let twice = r#"{"issuers": [{"issuer": "https://a/", "audiences": ["x"]}, {"issuer": "https://a/", "audiences": ["y"]}]}"#;
        assert_eq!(
            config(&[("AUTH_CONFIG", twice)]).unwrap_err().variable,
            "AUTH_CONFIG"
        );
        let unknown =
            r#"{"issuers": [{"issuer": "https://a/", "audiences": ["x"], "audience": "typo"}]}"#;
        assert_eq!(
            config(&[("AUTH_CONFIG", unknown)]).unwrap_err().variable,
            "AUTH_CONFIG"
        );
    }

    #[test]
    fn auth_routes_is_checked_at_cold_start() {
        let base = [("AUTH_ISSUER", "https://i/"), ("AUTH_AUDIENCE", "a")];
        let with = |extra: &[(&str, &str)]| {
            let vars: Vec<_> = base.iter().chain(extra).copied().collect();
            config(&vars)
        };
        assert_eq!(
            with(&[]).unwrap().routes.routes().len(),
            crate::ROUTES.len()
        );
        let missing = r#"{"openapi": "3.1.0", "paths": {"/orders/{id}": {"get": {}}}}"#;
        assert_eq!(
            with(&[("AUTH_ROUTES", missing)]).unwrap_err().to_string(),
            "AUTH_ROUTES: GET /orders/{id}: no security requirement"
        );
        let public = r#"{"openapi": "3.1.0", "security": [], "paths": {"/a": {"get": {}}}}"#;
        assert_eq!(
            with(&[("AUTH_ROUTES", public)])
                .unwrap()
                .routes
                .routes()
                .len(),
            1
        );
        let renamed = with(&[("AUTH_ROUTES", public), ("SCOPE_NAMES", "p/{scope}")]);
        assert_eq!(renamed.unwrap_err().variable, "AUTH_ROUTES");
        let file = with(&[("AUTH_ROUTES", "/nonexistent/openapi.json")]);
        assert!(file.unwrap_err().problem.starts_with("cannot read"));
    }

    #[test]
    fn required_and_principal_claims_per_issuer() {
        let document = r#"{"issuers": [
          {"issuer": "https://a/", "audiences": ["x"], "principalClaim": "oid",
           "requiredClaims": [{"name": "tenant", "values": ["acme"], "required": true}]},
          {"issuer": "https://b/", "audiences": ["x"]}]}"#;
        let c = config(&[
            ("AUTH_CONFIG", document),
            ("AUTH_PRINCIPAL_CLAIM", "client_id"),
        ])
        .unwrap();
        let tenant = RequiredClaim {
            name: "tenant".into(),
            values: vec!["acme".into()],
            required: true,
        };
        assert_eq!(c.issuers[0].claims.required, std::slice::from_ref(&tenant));
        assert_eq!(c.issuers[0].claims.principal, "oid");
        assert_eq!(
            c.issuers[1].claims,
            ClaimPolicy {
                required: Vec::new(),
                principal: "client_id".into()
            }
        );
        let single = |claims: &str| {
            config(&[
                ("AUTH_ISSUER", "https://i/"),
                ("AUTH_AUDIENCE", "a"),
                ("AUTH_REQUIRED_CLAIMS", claims),
            ])
        };
        let c = single(r#"[{"name": "tenant", "values": ["acme"], "required": true}]"#).unwrap();
        assert_eq!(c.issuers[0].claims.required, [tenant]);
        assert_eq!(c.issuers[0].claims.principal, "sub");
        for bad in [
            r#"[{"name": "aud", "values": ["x"]}]"#,
            r#"[{"name": "scp", "required": true}]"#,
            r#"[{"name": "tenant"}]"#,
            r#"[{"name": "t", "required": true}, {"name": "t", "required": true}]"#,
            r#"[{"name": "t", "value": "typo"}]"#,
            r#"{"name": "t"}"#,
        ] {
            let e = single(bad).unwrap_err();
            assert!(e.variable.starts_with("AUTH_REQUIRED_CLAIMS"), "{bad}: {e}");
        }
    }

    #[test]
    fn preloaded_keys_are_checked_at_cold_start() {
        let preload = |vars: &[(&str, &str)]| {
            let vars: HashMap<&str, &str> = vars.iter().copied().collect();
            let lookup = |name: &str| vars.get(name).map(|v| v.to_string());
            preloaded_keys(&AuthConfig::from_lookup(lookup)?, lookup)
        };
        let discovered = [("AUTH_ISSUER", "https://i/"), ("AUTH_AUDIENCE", "a")];
        assert!(preload(&discovered).unwrap().is_none());
        let cases: [&[(&str, &str)]; 4] = [
            &[("AUTH_JWKS", "{\"keys\": []}")],
            &[("AUTH_JWKS", "{not json")],
            &[("AUTH_JWKS", "/nonexistent/jwks.json")],
            &[
                ("AUTH_HMAC_SECRET", SECRET),
                ("AUTH_JWKS", "{\"keys\": []}"),
            ],
        ];
        for extra in cases {
            let vars: Vec<_> = discovered.iter().chain(extra).copied().collect();
            let e = preload(&vars).err().unwrap();
            assert_eq!(e.variable, "AUTH_JWKS", "{e}");
        }
        let hmac_only = [
            ("AUTH_ISSUER", "local"),
            ("AUTH_AUDIENCE", "a"),
            ("AUTH_HMAC_SECRET", SECRET),
            ("AUTH_JWKS", "{\"keys\": []}"),
        ];
        assert!(
            preload(&hmac_only)
                .err()
                .unwrap()
                .problem
                .contains("exactly one issuer")
        );
    }

    #[cfg(feature = "rules")]
    #[test]
    fn issuer_rules_are_compiled_at_cold_start_and_errors_name_the_variable() {
        let base = [("AUTH_ISSUER", "https://i/"), ("AUTH_AUDIENCE", "a")];
        let with = |rule: &str| {
            let vars: Vec<_> = base.iter().copied().chain([("AUTH_RULE", rule)]).collect();
            config(&vars)
        };
        let c = with("claims.email_verified == true").unwrap();
        let rule = c.issuers[0].rule.as_ref().unwrap();
        assert_eq!(rule.source(), "claims.email_verified == true");
        assert!(config(&base).unwrap().issuers[0].rule.is_none());
        for bad in [
            "claims.sub ==",
            "token.sub == \"u\"",
            "size(claims.roles)",
            "request.path == \"/\"",
        ] {
            let e = with(bad).unwrap_err();
            assert!(e.to_string().starts_with("AUTH_RULE"), "{bad}: {e}");
        }
        let document = r#"{"issuers": [
          {"issuer": "https://a/", "audiences": ["x"], "rule": "\"admin\" in claims.roles"},
          {"issuer": "https://b/", "audiences": ["x"], "rule": "token.admin"}]}"#;
        let e = config(&[("AUTH_CONFIG", document)]).unwrap_err();
        assert!(
            e.to_string().starts_with("AUTH_CONFIG")
                && e.problem.contains("\"https://b/\"")
                && e.problem.contains("`token`"),
            "{e}"
        );
    }

    #[cfg(not(feature = "rules"))]
    #[test]
    fn a_rule_fails_the_cold_start_of_a_build_without_rules() {
        let e = config(&[
            ("AUTH_ISSUER", "https://i/"),
            ("AUTH_AUDIENCE", "a"),
            ("AUTH_RULE", "true"),
        ])
        .unwrap_err();
        assert!(e.problem.contains("cargo feature `rules`"), "{e}");
    }
}
