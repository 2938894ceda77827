//! Authorizer input events: which of API Gateway's formats arrived, where its token is, and
//! which method and path it is for.
//!
//! | Event                          | Told apart by                 | Token from                      |
//! |--------------------------------|-------------------------------|---------------------------------|
//! | REST `TOKEN`                   | `type: TOKEN`                 | `authorizationToken`            |
//! | REST `REQUEST`, WebSocket      | `type: REQUEST`, no `version` | headers, cookie, query          |
//! | HTTP API payload 1.0           | `version: "1.0"`              | headers, cookie, query          |
//! | HTTP API payload 2.0           | `version: "2.0"`              | headers, `cookies`, query       |
//!
//! The event text is read twice: a probe that borrows two fields and skips the rest, then the
//! `aws_lambda_events` type for the format found.

use crate::config::TokenSources;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_http::http::HeaderMap;
use serde::Deserialize;
use std::borrow::Cow;

/// The event format, which decides the answer's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventFormat {
    /// REST API `TOKEN` authorizer.
    Token,
    /// REST API or WebSocket `REQUEST` authorizer.
    Request,
    /// HTTP API, payload format 1.0 (answers with an IAM policy).
    HttpV1,
    /// HTTP API, payload format 2.0.
    HttpV2,
}

/// An `execute-api` ARN: `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecuteApiArn {
    /// The ARN as received.
    arn: String,
    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}`.
    base: String,
    /// HTTP method, or a WebSocket route such as `$connect`.
    pub method: String,
    /// Resource path with its leading `/`.
    pub path: String,
}

impl ExecuteApiArn {
    /// Splits an ARN; `None` if it is not an `execute-api` method or route ARN.
    pub fn parse(arn: &str) -> Option<Self> {
        let mut fields = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(_partition),
            Some("execute-api"),
            Some(_region),
            Some(_account),
            Some(resource),
        ) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        )
        else {
            return None;
        };
        let mut parts = resource.splitn(4, '/');
        let (Some(api), Some(stage), Some(method)) = (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if api.is_empty() || stage.is_empty() || method.is_empty() {
            return None;
        }
        let path = format!("/{}", parts.next().unwrap_or_default());
        let base_len = arn.len() - resource.len() + api.len() + 1 + stage.len();
        Some(ExecuteApiArn {
            arn: arn.to_owned(),
            base: arn[..base_len].to_owned(),
            method: method.to_owned(),
            path,
        })
    }

    /// The ARN of a route of the same API and stage; `{param}` segments become `*`.
    pub fn for_route(&self, method: &str, template: &str) -> String {
        let mut arn = format!("{}/{method}", self.base);
        for segment in template.split('/').skip(1) {
            arn.push('/');
            arn.push_str(if segment.starts_with('{') {
                "*"
            } else {
                segment
            });
        }
        arn
    }

    /// The ARN as received.
    pub fn as_str(&self) -> &str {
        &self.arn
    }
}

/// What the authorizer needs from any event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizerInput {
    /// Which format arrived.
    pub format: EventFormat,
    /// The bearer token, without its scheme; `None` if the request carries none.
    pub token: Option<String>,
    /// The method or route ARN the decision is for.
    pub target: ExecuteApiArn,
}

/// Why an event could not be read. These are configuration mistakes (wrong authorizer type or
/// payload version), answered as an invocation error, never as an Allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventError {
    /// Not JSON, or not an authorizer event we know.
    UnknownShape(String),
    /// No usable `methodArn` / `routeArn`.
    NoTarget,
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventError::UnknownShape(what) => {
                write!(f, "not a supported API Gateway authorizer event: {what}")
            }
            EventError::NoTarget => {
                f.write_str("authorizer event has no valid methodArn or routeArn")
            }
        }
    }
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
}

/// Reads an authorizer event.
pub fn parse(event: &str, sources: &TokenSources) -> Result<AuthorizerInput, EventError> {
    let probe: Probe<'_> =
        serde_json::from_str(event).map_err(|e| EventError::UnknownShape(e.to_string()))?;
    let shape = |e: serde_json::Error| EventError::UnknownShape(e.to_string());
    let (format, token, arn) = match (probe.kind.as_deref(), probe.version.as_deref()) {
        (_, Some("2.0")) => {
            let event: ApiGatewayV2CustomAuthorizerV2Request =
                serde_json::from_str(event).map_err(shape)?;
            let cookie = sources
                .cookie
                .as_deref()
                .and_then(|name| event.cookies.iter().find_map(|c| cookie_value(c, name)));
            let token = from_headers(&event.headers).or(cookie).or_else(|| {
                query_value(sources, |name| {
                    event.query_string_parameters.get(name).map(String::as_str)
                })
            });
            (
                EventFormat::HttpV2,
                token.map(str::to_owned),
                event.route_arn,
            )
        }
        (Some("TOKEN"), _) => {
            let event: ApiGatewayCustomAuthorizerRequest =
                serde_json::from_str(event).map_err(shape)?;
            let token = event
                .authorization_token
                .as_deref()
                .and_then(bearer)
                .map(str::to_owned);
            (EventFormat::Token, token, event.method_arn)
        }
        (Some("REQUEST"), version @ (None | Some("1.0"))) => {
            let event: ApiGatewayCustomAuthorizerRequestTypeRequest =
                serde_json::from_str(event).map_err(shape)?;
            let cookie = sources.cookie.as_deref().and_then(|name| {
                event
                    .headers
                    .get_all("cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(|h| cookie_value(h, name))
            });
            let token = from_headers(&event.headers)
                .or(cookie)
                .or_else(|| query_value(sources, |name| event.query_string_parameters.first(name)));
            let format = if version.is_some() {
                EventFormat::HttpV1
            } else {
                EventFormat::Request
            };
            (format, token.map(str::to_owned), event.method_arn)
        }
        (kind, version) => {
            return Err(EventError::UnknownShape(format!(
                "type {kind:?}, version {version:?}"
            )));
        }
    };
    let target = arn
        .as_deref()
        .and_then(ExecuteApiArn::parse)
        .ok_or(EventError::NoTarget)?;
    Ok(AuthorizerInput {
        format,
        token,
        target,
    })
}

/// `Bearer <token>` (scheme case-insensitive) or a bare token; any other scheme is no token.
fn bearer(value: &str) -> Option<&str> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(token.trim()).filter(|t| !t.is_empty())
        }
        Some(_) => None,
        None => Some(value).filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("bearer")),
    }
}

fn from_headers(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
}

/// The value of cookie `name` in a `Cookie` header or one `cookies` entry (`a=1; b=2`).
fn cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name)
            .then_some(value.trim())
            .filter(|v| !v.is_empty())
    })
}

fn query_value<'q>(
    sources: &TokenSources,
    get: impl Fn(&str) -> Option<&'q str>,
) -> Option<&'q str> {
    sources
        .query
        .as_deref()
        .and_then(get)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_method_and_route_arns() {
        let arn = ExecuteApiArn::parse(
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/product/widget",
        )
        .unwrap();
        assert_eq!(
            (arn.method.as_str(), arn.path.as_str()),
            ("GET", "/product/widget")
        );
        assert_eq!(
            arn.for_route("GET", "/product/{name}"),
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/product/*"
        );
        assert_eq!(
            arn.for_route("GET", "/products"),
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/products"
        );
        assert_eq!(
            arn.as_str(),
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/product/widget"
        );
        let ws = ExecuteApiArn::parse("arn:aws:execute-api:us-east-1:1:ws1/dev/$connect").unwrap();
        assert_eq!((ws.method.as_str(), ws.path.as_str()), ("$connect", "/"));
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:execute-api:r:a:api",
            "arn:aws:execute-api:r:a:api/stage",
            "x:y",
        ] {
            assert_eq!(ExecuteApiArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_optional() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("BEARER abc"), Some("abc"));
        assert_eq!(bearer("abc"), Some("abc"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer(""), None);
    }

    #[test]
    fn cookies() {
        assert_eq!(cookie_value("a=1; token=xyz; b=2", "token"), Some("xyz"));
        assert_eq!(cookie_value("mytoken=1", "token"), None);
        assert_eq!(cookie_value("token=", "token"), None);
    }

    #[test]
    fn unknown_shapes_are_errors() {
        let sources = TokenSources::default();
        for event in [
            "",
            "[]",
            "{}",
            r#"{"type":"OTHER"}"#,
            r#"{"version":"3.0"}"#,
            r#"{"type":"REQUEST","version":"1.1"}"#,
        ] {
            assert!(
                matches!(parse(event, &sources), Err(EventError::UnknownShape(_))),
                "{event}"
            );
        }
        let no_arn = r#"{"type":"TOKEN","authorizationToken":"Bearer x"}"#;
        assert_eq!(parse(no_arn, &sources), Err(EventError::NoTarget));
    }
}
