//! The caller's identity, read from what API Gateway already validated and put in the request
//! context, whichever authorizer and payload format produced it.
//!
//! | Gateway and authorizer                  | Where it sits                                  |
//! |-----------------------------------------|------------------------------------------------|
//! | HTTP API, JWT authorizer                | `authorizer.jwt.claims` (all strings), `.scopes` |
//! | HTTP API, Lambda authorizer (2.0)       | `authorizer.lambda` (our context)              |
//! | HTTP API payload 1.0, JWT authorizer    | `authorizer.claims`, `authorizer.scopes`       |
//! | REST API, Cognito authorizer            | `authorizer.claims` (all strings)              |
//! | REST API, JWT authorizer                | `authorizer.claims` (JSON types kept)          |
//! | REST API / WebSocket, Lambda authorizer | `authorizer` itself: `principalId` + context   |
//!
//! Three of these share `authorizer.claims`, and the scope claims must be read differently: the
//! REST JWT authorizer hands the token's payload over as issued (`scp` an array, `exp` a number),
//! the others stringify it (an array becomes `"[a b]"`, which must be unwrapped). A Lambda
//! authorizer cannot produce a `claims` object at all (its context values are strings, numbers
//! or booleans), so an object there was written by the gateway. Which gateway feature wrote it is
//! decided by `ClaimsShape::of` from the claims alone; anything that fits neither rule gets no
//! identity (401) rather than a guess.
//!
//! A Lambda authorizer's context is read as it was written, like a token's claims: our
//! authorizer's `scope` is its granted set, space separated, and a scope in it may itself hold
//! brackets (`[orders:admin]` is a legal RFC 6749 scope-token). Unwrapping `"[a b]"` there, as
//! for the JWT authorizer's stringified claims, would grant `orders:admin` to a token the
//! authorizer read as holding only `[orders:admin]`.
//!
//! ALB, function URL and IAM-authorised requests carry no bearer identity and get none. Identity
//! never comes from request headers: only the gateway writes the request context.

use crate::scopes::{SCOPE_CLAIMS, ScopeError, ScopeSet};
use aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Which gateway feature vouched for the caller; useful in logs and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// HTTP API built-in JWT authorizer.
    JwtAuthorizer,
    /// Cognito user pool authorizer, or a JWT authorizer on payload 1.0 (same `claims` shape).
    ClaimsAuthorizer,
    /// REST API built-in JWT authorizer: the token's claims with their JSON types.
    RestJwtAuthorizer,
    /// A Lambda authorizer, such as this project's `authorizer`.
    LambdaAuthorizer,
}

/// The claims as the gateway delivered them, borrowed from the request context.
#[derive(Clone, Copy, Debug)]
pub enum Claims<'a> {
    /// HTTP API JWT authorizer: every value stringified by API Gateway.
    Strings(&'a HashMap<String, String>),
    /// Lambda authorizer context: strings, numbers or booleans (arrays on HTTP API).
    Values(&'a HashMap<String, Value>),
    /// Lambda authorizer context as a JSON object (`authorizer.lambda` in a flattened context).
    Context(&'a Map<String, Value>),
    /// A JSON object of claims stringified by the gateway (Cognito on REST; the JWT authorizer
    /// on HTTP API payload 1.0).
    Object(&'a Map<String, Value>),
    /// The token's payload as issued, JSON types kept (REST API JWT authorizer).
    Issued(&'a Map<String, Value>),
}

/// One claim value, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Claim<'a> {
    /// A claim delivered as text.
    Text(&'a str),
    /// A claim delivered as a JSON value.
    Json(&'a Value),
}

impl<'a> Claim<'a> {
    /// The claim as text, if it is text or a JSON string.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Claim::Text(text) => Some(text),
            Claim::Json(Value::String(text)) => Some(text),
            Claim::Json(_) => None,
        }
    }
}

impl<'a> Claims<'a> {
    /// One claim by name.
    pub fn get(&self, name: &str) -> Option<Claim<'a>> {
        match *self {
            Claims::Strings(map) => map.get(name).map(|v| Claim::Text(v)),
            Claims::Values(map) => map.get(name).map(Claim::Json),
            Claims::Context(map) | Claims::Object(map) | Claims::Issued(map) => {
                map.get(name).map(Claim::Json)
            }
        }
    }

    /// One scope claim, read in every spelling this source can deliver it in; `None` when absent.
    /// Only what the gateway stringified is unwrapped; a token's claims and a Lambda authorizer's
    /// context are read as written ([`ScopeSet::parse_issued`]).
    fn scopes(&self, name: &str) -> Option<Result<ScopeSet, ScopeError>> {
        match *self {
            Claims::Issued(map) | Claims::Context(map) => map.get(name).map(ScopeSet::parse_issued),
            Claims::Values(map) => map.get(name).map(ScopeSet::parse_issued),
            _ => self.get(name).map(|claim| match claim {
                Claim::Text(text) => ScopeSet::parse_text(text),
                Claim::Json(value) => ScopeSet::parse_value(value),
            }),
        }
    }
}

/// A caller the gateway vouched for.
#[derive(Clone, Debug)]
pub struct Identity<'a> {
    /// `sub`, or `principalId` for a Lambda authorizer; absent for client-credentials tokens
    /// that carry none.
    pub subject: Option<&'a str>,
    /// The granted scopes, normalised.
    pub scopes: ScopeSet,
    /// Every claim, as delivered.
    pub claims: Claims<'a>,
    /// Which authorizer vouched.
    pub source: Source,
}

/// Reads the caller's identity from a request; `None` means nobody vouched for the caller.
pub trait IdentityExt {
    /// The validated identity, or `None` (answer 401).
    fn identity(&self) -> Option<Identity<'_>>;
}

impl IdentityExt for Request {
    fn identity(&self) -> Option<Identity<'_>> {
        self.request_context_ref().and_then(identity_from_context)
    }
}

/// Reads the identity from any request context shape; see the module table.
pub fn identity_from_context(context: &RequestContext) -> Option<Identity<'_>> {
    let authorizer = context.authorizer()?;
    match context {
        RequestContext::ApiGatewayV2(_) => from_http_api(authorizer),
        _ => from_flattened(&authorizer.fields),
    }
}

/// HTTP API payload 2.0: `jwt` for the built-in authorizer, `lambda` (here `fields`) for ours.
fn from_http_api(authorizer: &ApiGatewayRequestAuthorizer) -> Option<Identity<'_>> {
    if let Some(jwt) = &authorizer.jwt {
        let claims = Claims::Strings(&jwt.claims);
        let mut scopes = jwt
            .scopes
            .as_deref()
            .map(|s| s.iter().map(String::as_str).collect());
        if scopes.as_ref().is_some_and(ScopeSet::is_empty) {
            scopes = None;
        }
        return Some(identity(claims, scopes, Source::JwtAuthorizer));
    }
    if authorizer.fields.is_empty() {
        return None;
    }
    let claims = Claims::Values(&authorizer.fields);
    Some(identity(claims, None, Source::LambdaAuthorizer))
}

/// REST, WebSocket and HTTP API payload 1.0: the authorizer object is flattened into the context.
fn from_flattened(fields: &HashMap<String, Value>) -> Option<Identity<'_>> {
    if let Some(Value::Object(claims)) = fields.get("claims") {
        return match ClaimsShape::of(claims, fields) {
            // Any `scopes` beside typed claims is ignored: AWS does not document one for the REST
            // JWT authorizer, and a list of the method's scopes read as the token's would grant
            // all of an any-of list. The token's own scope claims are what it was granted.
            Some(ClaimsShape::Issued) => Some(identity(
                Claims::Issued(claims),
                None,
                Source::RestJwtAuthorizer,
            )),
            Some(ClaimsShape::Stringified) => {
                let granted = match fields.get("scopes") {
                    Some(value @ Value::Array(items)) if !items.is_empty() => {
                        ScopeSet::parse_value(value).ok()
                    }
                    _ => None,
                };
                Some(identity(
                    Claims::Object(claims),
                    granted,
                    Source::ClaimsAuthorizer,
                ))
            }
            None => {
                tracing::warn!("authorizer claims fit no known authorizer; no identity");
                None
            }
        };
    }
    if let Some(Value::Object(context)) = fields.get("lambda") {
        return Some(identity(
            Claims::Context(context),
            None,
            Source::LambdaAuthorizer,
        ));
    }
    if fields.contains_key("principalId") {
        return Some(identity(
            Claims::Values(fields),
            None,
            Source::LambdaAuthorizer,
        ));
    }
    None
}

/// Who wrote a flattened `authorizer.claims` object, which decides how its scope claims are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClaimsShape {
    /// REST API JWT authorizer: the payload as issued.
    Issued,
    /// REST Cognito authorizer or HTTP API payload 1.0 JWT authorizer: every value a string.
    Stringified,
}

impl ClaimsShape {
    /// The rule, on what each authorizer is known to send:
    /// - `exp` is a JSON number: the REST JWT authorizer, the only one that keeps JSON types
    ///   (Cognito writes `exp` as a date text, payload 1.0 as digits in a string). It checks `exp`,
    ///   so a token it passed carries one; whether it passes tokens without `exp` is undocumented,
    ///   and such claims fall to the next rules and, being typed, to none.
    /// - every value is a string and the context is recognisably Cognito's (a `token_use` claim,
    ///   which Cognito puts in every ID and access token) or payload 1.0's (a `scopes` key beside
    ///   the claims, `null` included): stringified claims, unwrapped as API Gateway spells them.
    /// - anything else (typed values without a numeric `exp`, or strings from neither): unknown
    ///   shape, `None`, so the request gets 401 instead of scopes read the wrong way.
    fn of(claims: &Map<String, Value>, fields: &HashMap<String, Value>) -> Option<Self> {
        if claims.get("exp").is_some_and(Value::is_number) {
            return Some(ClaimsShape::Issued);
        }
        let all_strings = claims.values().all(Value::is_string);
        let recognised = claims.contains_key("token_use") || fields.contains_key("scopes");
        (all_strings && recognised).then_some(ClaimsShape::Stringified)
    }
}

fn identity<'a>(claims: Claims<'a>, scopes: Option<ScopeSet>, source: Source) -> Identity<'a> {
    let subject = claims
        .get("sub")
        .or_else(|| claims.get("principalId"))
        .and_then(Claim::as_str)
        .filter(|s| !s.is_empty());
    let scopes = scopes.unwrap_or_else(|| scopes_in_context(&claims));
    Identity {
        subject,
        scopes,
        claims,
        source,
    }
}

/// Every scope claim present in a gateway's context ([`SCOPE_CLAIMS`], the names
/// [`crate::token::scopes_as_issued`] reads from a raw token), merged: Auth0 puts RBAC grants in `permissions` beside an OIDC
/// `scope` of `openid profile`. A malformed claim grants nothing at all (and is logged by name,
/// never by value), so a broken issuer fails closed.
fn scopes_in_context(claims: &Claims<'_>) -> ScopeSet {
    let mut granted = ScopeSet::empty();
    for name in SCOPE_CLAIMS {
        let Some(parsed) = claims.scopes(name) else {
            continue;
        };
        match parsed {
            Ok(scopes) => granted.extend(scopes.iter()),
            Err(error) => {
                tracing::warn!(claim = name, %error, "ignoring malformed scope claim");
                return ScopeSet::empty();
            }
        }
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(json: &str) -> RequestContext {
        let request = lambda_http::request::from_str(json).expect("event parses");
        request.request_context()
    }

    fn v2_with_authorizer(authorizer: &str) -> String {
        format!(
            r#"{{"version":"2.0","routeKey":"GET /products","rawPath":"/products","rawQueryString":"",
            "headers":{{}},"requestContext":{{"accountId":"1","apiId":"a","domainName":"x","domainPrefix":"x",
            "http":{{"method":"GET","path":"/products","protocol":"HTTP/1.1","sourceIp":"1.1.1.1","userAgent":"t"}},
            "requestId":"r","routeKey":"GET /products","stage":"$default","time":"t","timeEpoch":1,
            "authorizer":{authorizer}}},"isBase64Encoded":false}}"#
        )
    }

    fn v1_with_authorizer(authorizer: &str) -> String {
        format!(
            r#"{{"resource":"/products","path":"/products","httpMethod":"GET","headers":null,
            "multiValueHeaders":null,"queryStringParameters":null,"multiValueQueryStringParameters":null,
            "pathParameters":null,"stageVariables":null,"requestContext":{{"accountId":"1","apiId":"a",
            "resourceId":"r","stage":"prod","requestId":"q","identity":{{"sourceIp":"1.1.1.1"}},
            "resourcePath":"/products","httpMethod":"GET","path":"/prod/products",
            "authorizer":{authorizer}}},"body":null,"isBase64Encoded":false}}"#
        )
    }

    fn scopes(identity: &Identity<'_>) -> Vec<String> {
        identity.scopes.iter().map(str::to_owned).collect()
    }

    #[test]
    fn http_api_jwt_prefers_the_scopes_array() {
        let ctx = context(&v2_with_authorizer(
            r#"{"jwt":{"claims":{"sub":"u1","scope":"other"},"scopes":["read:products"]}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(id.subject, Some("u1"));
        assert_eq!(scopes(&id), ["read:products"]);
        assert_eq!(id.source, Source::JwtAuthorizer);
    }

    #[test]
    fn http_api_jwt_reads_stringified_claims_when_scopes_is_null() {
        for (claim, value) in [
            ("scope", "read:products write:posts"),
            ("scp", "[read:products write:posts]"),
            ("scopes", r#"[\"read:products\",\"write:posts\"]"#),
            ("permissions", "[read:products write:posts]"),
        ] {
            let ctx = context(&v2_with_authorizer(&format!(
                r#"{{"jwt":{{"claims":{{"sub":"u1","exp":"1718722804","{claim}":"{value}"}},"scopes":null}}}}"#
            )));
            let id = identity_from_context(&ctx).unwrap();
            assert_eq!(scopes(&id), ["read:products", "write:posts"], "{claim}");
            assert_eq!(
                id.claims.get("exp").and_then(Claim::as_str),
                Some("1718722804")
            );
        }
    }

    #[test]
    fn scope_claims_are_merged_when_the_gateway_gives_no_scopes() {
        let ctx = context(&v2_with_authorizer(
            r#"{"jwt":{"claims":{"permissions":"[write:products]","scope":"openid read:products"},"scopes":[]}}"#,
        ));
        assert_eq!(
            scopes(&identity_from_context(&ctx).unwrap()),
            ["openid", "read:products", "write:products"]
        );
    }

    #[test]
    fn malformed_scope_claim_grants_nothing() {
        let ctx = context(&v2_with_authorizer(
            r#"{"lambda":{"sub":"u1","scope":{"a":1}}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert!(id.scopes.is_empty());
    }

    #[test]
    fn http_api_lambda_context() {
        let ctx = context(&v2_with_authorizer(
            r#"{"lambda":{"sub":"u2","scope":"read:products","exp":1718722804,"admin":false}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(
            (id.subject, id.source),
            (Some("u2"), Source::LambdaAuthorizer)
        );
        assert_eq!(scopes(&id), ["read:products"]);
    }

    /// Our authorizer writes its granted set space separated; a scope in it that holds brackets
    /// (a legal RFC 6749 §3.3 scope-token) is read back as itself, never unwrapped.
    #[test]
    fn rfc6749_a_lambda_context_is_read_as_written_and_brackets_grant_nothing() {
        let v2 = |scope: &str| {
            v2_with_authorizer(&format!(r#"{{"lambda":{{"sub":"u2","scope":{scope}}}}}"#))
        };
        let rest =
            |scope: &str| v1_with_authorizer(&format!(r#"{{"principalId":"p1","scope":{scope}}}"#));
        let v1_lambda =
            |scope: &str| v1_with_authorizer(&format!(r#"{{"lambda":{{"scope":{scope}}}}}"#));
        for event in [v2, rest, v1_lambda] {
            for (scope, expected) in [
                (r#""[write:products]""#, &["[write:products]"][..]),
                (r#""[\"write:products\"]""#, &[r#"["write:products"]"#]),
                (
                    r#""[read:products write:products]""#,
                    &["[read:products", "write:products]"],
                ),
                (r#""[ ]""#, &["[", "]"]),
                (r#"["[write:products]"]"#, &["[write:products]"]),
            ] {
                let ctx = context(&event(scope));
                let id = identity_from_context(&ctx).unwrap();
                assert_eq!(id.source, Source::LambdaAuthorizer);
                assert_eq!(scopes(&id), expected, "{scope}");
            }
        }
    }

    #[test]
    fn http_api_without_claims_has_no_identity() {
        for authorizer in [
            "null",
            r#"{"lambda":null}"#,
            r#"{"lambda":{}}"#,
            r#"{"iam":{"accessKey":"AK"}}"#,
        ] {
            let ctx = context(&v2_with_authorizer(authorizer));
            assert!(identity_from_context(&ctx).is_none(), "{authorizer}");
        }
    }

    #[test]
    fn rest_cognito_claims() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"c1","scope":"read:products aws.cognito.signin.user.admin",
            "exp":"Tue Jun 18 15:00:04 UTC 2024","token_use":"access"}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(
            (id.subject, id.source),
            (Some("c1"), Source::ClaimsAuthorizer)
        );
        assert_eq!(
            scopes(&id),
            ["read:products", "aws.cognito.signin.user.admin"]
        );
    }

    #[test]
    fn rest_jwt_claims_keep_their_types() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"j1","scope":"openid read:products","exp":1718722804,
            "iat":1718719204,"email_verified":true,"version":"42"}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(
            (id.subject, id.source),
            (Some("j1"), Source::RestJwtAuthorizer)
        );
        assert_eq!(scopes(&id), ["openid", "read:products"]);
        assert_eq!(
            id.claims.get("exp"),
            Some(Claim::Json(&serde_json::json!(1718722804)))
        );
        assert_eq!(id.claims.get("version").and_then(Claim::as_str), Some("42"));
    }

    #[test]
    fn rest_jwt_merges_every_scope_claim_in_every_issued_form() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"j1","exp":1718722804,"scope":["read:products"],
            "scp":"write:products","permissions":["admin:products"],
            "address":{"city":"Z\u00FCrich"},"name":"Jos\u00E9"}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(
            scopes(&id),
            ["read:products", "write:products", "admin:products"]
        );
        assert_eq!(id.claims.get("name").and_then(Claim::as_str), Some("José"));
        assert_eq!(
            id.claims.get("address"),
            Some(Claim::Json(&serde_json::json!({"city": "Zürich"})))
        );
    }

    #[test]
    fn rest_jwt_does_not_unwrap_stringified_arrays_or_trust_a_scopes_field() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"j1","exp":1718722804,"scp":"[write:products]"},
            "scopes":["write:products"],"principalId":"someone-else"}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(id.source, Source::RestJwtAuthorizer);
        assert_eq!(id.subject, Some("j1"));
        assert!(!id.scopes.contains("write:products"));
    }

    #[test]
    fn rest_jwt_with_a_malformed_scope_claim_grants_nothing() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"j1","exp":1718722804,"scope":"read:products","scp":[1]}}"#,
        ));
        assert!(identity_from_context(&ctx).unwrap().scopes.is_empty());
    }

    #[test]
    fn a_cognito_token_through_the_rest_jwt_authorizer_is_read_as_issued() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"c1","token_use":"access","exp":1718722804,
            "scope":"products/read:products"}}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(id.source, Source::RestJwtAuthorizer);
        assert_eq!(scopes(&id), ["products/read:products"]);
    }

    #[test]
    fn claims_of_no_known_shape_get_no_identity() {
        for authorizer in [
            // Typed values, but `exp` is not a number: neither REST JWT nor stringified.
            r#"{"claims":{"sub":"x","exp":"1718722804","scp":["read:products"]}}"#,
            r#"{"claims":{"sub":"x","scope":"read:products","admin":true}}"#,
            // All strings, but neither Cognito's `token_use` nor payload 1.0's `scopes`.
            r#"{"claims":{"sub":"x","scope":"read:products","exp":"1718722804"}}"#,
        ] {
            let ctx = context(&v1_with_authorizer(authorizer));
            assert!(identity_from_context(&ctx).is_none(), "{authorizer}");
        }
    }

    #[test]
    fn payload_1_0_jwt_authorizer_scopes_array() {
        let ctx = context(&v1_with_authorizer(
            r#"{"claims":{"sub":"c1"},"scopes":["read:products"]}"#,
        ));
        assert_eq!(
            scopes(&identity_from_context(&ctx).unwrap()),
            ["read:products"]
        );
    }

    #[test]
    fn rest_lambda_authorizer_flattened_context() {
        let ctx = context(&v1_with_authorizer(
            r#"{"principalId":"p1","scope":"read:products","integrationLatency":451,"clientId":1}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(
            (id.subject, id.source),
            (Some("p1"), Source::LambdaAuthorizer)
        );
        assert_eq!(scopes(&id), ["read:products"]);
    }

    #[test]
    fn rest_sub_wins_over_principal_id() {
        let ctx = context(&v1_with_authorizer(
            r#"{"principalId":"p1","sub":"s1","scope":""}"#,
        ));
        let id = identity_from_context(&ctx).unwrap();
        assert_eq!(id.subject, Some("s1"));
        assert!(id.scopes.is_empty());
    }

    #[test]
    fn rest_without_authorizer_has_no_identity() {
        for authorizer in ["null", "{}", r#"{"integrationLatency":3}"#] {
            let ctx = context(&v1_with_authorizer(authorizer));
            assert!(identity_from_context(&ctx).is_none(), "{authorizer}");
        }
    }

    #[test]
    fn alb_has_no_identity() {
        let ctx = context(
            r#"{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:x"}},
            "httpMethod":"GET","path":"/products","queryStringParameters":{},
            "headers":{"authorization":"Bearer forged"},"body":"","isBase64Encoded":false}"#,
        );
        assert!(identity_from_context(&ctx).is_none());
    }
}
