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
//! The event text is read once, into `Event`: the eight fields the decision needs from any of
//! these formats, borrowed where the JSON has no escapes, everything else skipped by the parser.
//! The full `aws_lambda_events` types cost 5 to 8 µs for an HTTP API 2.0 event (a `HeaderMap`,
//! maps and strings for every field), this one pass about 1 µs (BENCHMARKS.md); a test reads
//! every sample event both ways and compares the fields.

use crate::authorizer::config::TokenSources;
use crate::redact::json_error;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt;

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

/// What the decision reads from an authorizer event, whatever its format.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    /// REST `TOKEN`.
    #[serde(borrow, default)]
    authorization_token: Option<Text<'a>>,
    /// REST `TOKEN` and `REQUEST`, HTTP API 1.0.
    #[serde(borrow, default)]
    method_arn: Option<Text<'a>>,
    /// HTTP API 2.0.
    #[serde(borrow, default)]
    route_arn: Option<Text<'a>>,
    /// Request formats; names as sent (REST) or lower case (HTTP API).
    #[serde(borrow, default)]
    headers: Pairs<'a>,
    #[serde(borrow, default)]
    query_string_parameters: Pairs<'a>,
    /// HTTP API 2.0, which sends cookies here and not in a `Cookie` header.
    #[serde(borrow, default)]
    cookies: Vec<Text<'a>>,
}

/// A JSON string, borrowed from the event unless it has escapes. serde borrows a `Cow` only
/// when it is the field itself, not inside an `Option`, a `Vec` or a map: hence this newtype.
#[derive(Debug, Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

fn text<'s>(value: &'s Option<Text<'_>>) -> Option<&'s str> {
    value.as_ref().map(|t| t.0.as_ref())
}

/// A JSON object of strings (a `null` value, or the object itself `null`, reads as absent), in
/// order, without hashing: events carry a dozen headers and we look up two.
#[derive(Debug, Default)]
struct Pairs<'a>(Vec<(Text<'a>, Text<'a>)>);

impl Pairs<'_> {
    /// Every value whose name equals `name` ignoring ASCII case (header names), in order.
    fn any_case<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> {
        self.0
            .iter()
            .filter(move |(k, _)| k.0.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.0.as_ref())
    }

    /// The value of `name`, compared exactly (query parameter names).
    fn exact(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.0 == name)
            .map(|(_, v)| v.0.as_ref())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs::default())
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((key, value)) = map.next_entry::<Text<'de>, Option<Text<'de>>>()? {
                    if let Some(value) = value {
                        pairs.push((key, value));
                    }
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_any(PairsVisitor)
    }
}

/// Reads an authorizer event.
pub fn parse(event: &str, sources: &TokenSources) -> Result<AuthorizerInput, EventError> {
    let event: Event<'_> =
        serde_json::from_str(event).map_err(|e| EventError::UnknownShape(json_error(&e)))?;
    let format = match (text(&event.kind), text(&event.version)) {
        (_, Some("2.0")) => EventFormat::HttpV2,
        (Some("TOKEN"), _) => EventFormat::Token,
        (Some("REQUEST"), None) => EventFormat::Request,
        (Some("REQUEST"), Some("1.0")) => EventFormat::HttpV1,
        (kind, version) => {
            return Err(EventError::UnknownShape(format!(
                "type {kind:?}, version {version:?}"
            )));
        }
    };
    let token = match format {
        EventFormat::Token => text(&event.authorization_token).and_then(bearer),
        _ => {
            // As API Gateway's own maps do, a repeated name (in another case) keeps the last.
            let header = event.headers.any_case("authorization").last();
            let cookie = sources.cookie.as_deref().and_then(|name| match format {
                EventFormat::HttpV2 => event.cookies.iter().find_map(|c| cookie_value(&c.0, name)),
                _ => event
                    .headers
                    .any_case("cookie")
                    .find_map(|h| cookie_value(h, name)),
            });
            let query = sources
                .query
                .as_deref()
                .and_then(|name| event.query_string_parameters.exact(name))
                .filter(|v| !v.is_empty());
            header.and_then(bearer).or(cookie).or(query)
        }
    };
    let arn = match format {
        EventFormat::HttpV2 => text(&event.route_arn),
        _ => text(&event.method_arn),
    };
    let target = arn
        .and_then(ExecuteApiArn::parse)
        .ok_or(EventError::NoTarget)?;
    Ok(AuthorizerInput {
        format,
        token: token.map(str::to_owned),
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

/// The value of cookie `name` in a `Cookie` header or one `cookies` entry (`a=1; b=2`).
fn cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name)
            .then_some(value.trim())
            .filter(|v| !v.is_empty())
    })
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

    /// Our one-pass reading of every sample event agrees, field by field, with the complete
    /// `aws_lambda_events` type for its format.
    #[test]
    fn reads_what_the_aws_lambda_events_types_read() {
        use aws_lambda_events::apigw::{
            ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
            ApiGatewayV2CustomAuthorizerV2Request,
        };
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events/authorizer");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let json = std::fs::read_to_string(&path).unwrap();
            let ours: Event<'_> = serde_json::from_str(&json).unwrap();
            let query = |get: &dyn Fn(&str) -> Option<String>| {
                for (key, value) in &ours.query_string_parameters.0 {
                    let (key, value) = (key.0.as_ref(), value.0.as_ref());
                    assert_eq!(get(key).as_deref(), Some(value), "{name}: ?{key}");
                }
            };
            let header = |headers: &lambda_http::http::HeaderMap, key: &str| {
                let theirs: Vec<_> = headers
                    .get_all(key)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                let mine: Vec<_> = ours.headers.any_case(key).map(str::to_owned).collect();
                assert_eq!(mine, theirs, "{name}: {key}");
            };
            match (text(&ours.kind), text(&ours.version)) {
                (_, Some("2.0")) => {
                    let theirs: ApiGatewayV2CustomAuthorizerV2Request =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(text(&ours.route_arn), theirs.route_arn.as_deref());
                    header(&theirs.headers, "authorization");
                    let cookies: Vec<_> = ours.cookies.iter().map(|c| c.0.as_ref()).collect();
                    assert_eq!(cookies, theirs.cookies, "{name}");
                    query(&|k| theirs.query_string_parameters.get(k).cloned());
                }
                (Some("TOKEN"), _) => {
                    let theirs: ApiGatewayCustomAuthorizerRequest =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(text(&ours.method_arn), theirs.method_arn.as_deref());
                    assert_eq!(
                        text(&ours.authorization_token),
                        theirs.authorization_token.as_deref()
                    );
                }
                _ => {
                    let theirs: ApiGatewayCustomAuthorizerRequestTypeRequest =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(text(&ours.method_arn), theirs.method_arn.as_deref());
                    header(&theirs.headers, "authorization");
                    header(&theirs.headers, "cookie");
                    query(&|k| theirs.query_string_parameters.first(k).map(str::to_owned));
                }
            }
            seen.push(name);
        }
        assert!(seen.len() >= 12, "{seen:?}");
    }

    #[test]
    fn headers_in_any_case_escaped_or_null() {
        let sources = TokenSources {
            cookie: Some("token".into()),
            query: Some("access_token".into()),
        };
        let arn = "arn:aws:execute-api:eu-west-1:1:api/prod/GET/products";
        let read = |fields: &str| {
            let event = format!(r#"{{"type":"REQUEST","methodArn":"{arn}",{fields}}}"#);
            parse(&event, &sources).map(|input| input.token)
        };
        assert_eq!(
            read(r#""headers":{"Authorization":"Bearer a\u002eb"}"#),
            Ok(Some("a.b".into()))
        );
        assert_eq!(
            read(r#""headers":{"authorization":null,"Cookie":"x=1; token=c"}"#),
            Ok(Some("c".into()))
        );
        assert_eq!(
            read(r#""headers":null,"queryStringParameters":{"access_token":"q"}"#),
            Ok(Some("q".into()))
        );
        assert_eq!(
            read(r#""multiValueHeaders":{"Authorization":["Bearer m"]}"#),
            Ok(None)
        );
        assert!(matches!(
            read(r#""headers":{"authorization":5}"#),
            Err(EventError::UnknownShape(_))
        ));
        assert!(matches!(
            read(r#""methodArn":"again""#),
            Err(EventError::UnknownShape(_))
        ));
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let event: Event<'_> = serde_json::from_str(
            r#"{"type":"REQUEST","headers":{"authorization":"Bearer a","x":"\"q\""},"cookies":["c=1"]}"#,
        )
        .unwrap();
        assert!(matches!(event.kind, Some(Text(Cow::Borrowed("REQUEST")))));
        let [(name, auth), (_, quoted)] = &event.headers.0[..] else {
            panic!("{:?}", event.headers)
        };
        assert!(matches!(
            (&name.0, &auth.0),
            (Cow::Borrowed(_), Cow::Borrowed(_))
        ));
        assert!(matches!(&quoted.0, Cow::Owned(q) if q == "\"q\""));
        assert!(matches!(event.cookies[0].0, Cow::Borrowed("c=1")));
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
