//! The caller's identity, read from what API Gateway already validated and put in the request
//! context, whichever authorizer and payload format produced it.
//!
//! | Gateway and authorizer                  | Where it sits                                  |
//! |-----------------------------------------|------------------------------------------------|
//! | HTTP API, JWT authorizer                | `authorizer.jwt.claims` (all strings), `.scopes` |
//! | HTTP API, Lambda authorizer (2.0)       | `authorizer.lambda` (our context)              |
//! | HTTP API payload 1.0, JWT authorizer    | `authorizer.claims`, `authorizer.scopes`       |
//! | REST API, Cognito authorizer            | `authorizer.claims` (all strings)              |
//! | REST API / WebSocket, Lambda authorizer | `authorizer` itself: `principalId` + context   |
//!
//! ALB, function URL and IAM-authorised requests carry no bearer identity and get none. Identity
//! never comes from request headers: only the gateway writes the request context.

use crate::scopes::{SCOPE_CLAIMS, ScopeSet};
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
    /// A JSON object of claims (Cognito on REST).
    Object(&'a Map<String, Value>),
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

    fn scopes(self) -> Result<ScopeSet, crate::scopes::ScopeError> {
        match self {
            Claim::Text(text) => ScopeSet::parse_text(text),
            Claim::Json(value) => ScopeSet::parse_value(value),
        }
    }
}

impl<'a> Claims<'a> {
    /// One claim by name.
    pub fn get(&self, name: &str) -> Option<Claim<'a>> {
        match *self {
            Claims::Strings(map) => map.get(name).map(|v| Claim::Text(v)),
            Claims::Values(map) => map.get(name).map(Claim::Json),
            Claims::Object(map) => map.get(name).map(Claim::Json),
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
        let granted = match fields.get("scopes") {
            Some(value @ Value::Array(items)) if !items.is_empty() => {
                ScopeSet::parse_value(value).ok()
            }
            _ => None,
        };
        return Some(identity(
            Claims::Object(claims),
            granted,
            Source::ClaimsAuthorizer,
        ));
    }
    if let Some(Value::Object(context)) = fields.get("lambda") {
        return Some(identity(
            Claims::Object(context),
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

fn identity<'a>(claims: Claims<'a>, scopes: Option<ScopeSet>, source: Source) -> Identity<'a> {
    let subject = claims
        .get("sub")
        .or_else(|| claims.get("principalId"))
        .and_then(Claim::as_str)
        .filter(|s| !s.is_empty());
    let scopes = scopes.unwrap_or_else(|| scopes_from_claims(&claims));
    Identity {
        subject,
        scopes,
        claims,
        source,
    }
}

/// Every scope claim present, merged: Auth0 puts RBAC grants in `permissions` beside an OIDC
/// `scope` of `openid profile`. A malformed claim grants nothing at all (and is logged by name,
/// never by value), so a broken issuer fails closed.
fn scopes_from_claims(claims: &Claims<'_>) -> ScopeSet {
    let mut granted = ScopeSet::empty();
    for name in SCOPE_CLAIMS {
        let Some(claim) = claims.get(name) else {
            continue;
        };
        match claim.scopes() {
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
