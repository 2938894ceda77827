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
//! A request with an `Authorization` header takes its token from there or has none; the cookie
//! and query parameter (when configured) are read only without the header.
//!
//! For sender-constrained tokens ([`crate::authorizer::binding`]) the request formats also give
//! what a binding is checked against ([`Evidence`]): the `Authorization` scheme (`Bearer` or
//! `DPoP`, RFC 9449 §7.1), the `DPoP` proof headers (REST and HTTP API 1.0: `headers` and
//! `multiValueHeaders`; HTTP API 2.0: `headers`, where API Gateway joins repeated headers with
//! commas), the request path as the event gives it (`path`; HTTP API 2.0: `rawPath`) and the
//! client certificate of a mutual-TLS custom domain (`requestContext.identity.clientCert`; HTTP
//! API 2.0: `requestContext.authentication.clientCert`). A `TOKEN` event carries none of these.
//!
//! The event is read once, into [`AuthorizerEvent`]: the fields the decision needs from any of
//! these formats, everything else skipped by the parser, and only the headers that can carry a
//! token kept. The full `aws_lambda_events` types cost 5 to 8 µs for an HTTP API 2.0 event (a
//! `HeaderMap`, maps and strings for every field), this one pass about 1 µs (BENCHMARKS.md); a
//! test reads every sample event both ways and compares the fields.

use crate::authorizer::config::TokenSources;
use crate::redact::json_error;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// The token, without its scheme; `None` if the request carries none.
    pub token: Option<String>,
    /// The method or route ARN the decision is for.
    pub target: ExecuteApiArn,
    /// What a route rule reads of the request besides the target.
    pub request: RequestParts,
    /// What a sender-constrained token's binding is checked against.
    pub evidence: Evidence,
}

/// What a route rule (`x-authorizer-rule`) reads of the request besides its method and path:
/// absent where the event format does not carry it, never empty in its place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestParts {
    /// The query string's single-value map; `None` for a `TOKEN` event.
    pub query: Option<Vec<(String, String)>>,
    /// The headers' single-value map, names lower-cased, when a rule reads them
    /// ([`keep_every_header`]); `None` otherwise and for a `TOKEN` event.
    pub headers: Option<Vec<(String, String)>>,
    /// The caller's address (`requestContext.identity.sourceIp`, for payload 2.0
    /// `requestContext.http.sourceIp`); `None` for a `TOKEN` event.
    pub source_ip: Option<String>,
}

/// The `Authorization` scheme a token came with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheme {
    /// `Bearer <token>`, a bare token, or a token from a cookie or the query string.
    #[default]
    Bearer,
    /// `DPoP <token>` (RFC 9449 §7.1), read only when DPoP is not off.
    DPoP,
}

/// The `DPoP` proof headers of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Proofs {
    /// None.
    #[default]
    None,
    /// Exactly one.
    One(String),
    /// More than one (RFC 9449 §4.3 allows one): repeated headers, or a value with a comma,
    /// which a compact JWS never holds.
    Several,
}

/// What a request shows besides its token, for the binding step: how the token was presented
/// and the evidence a bound token needs. Empty for a `TOKEN` event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The token's scheme.
    pub scheme: Scheme,
    /// The `DPoP` headers.
    pub proofs: Proofs,
    /// The request path as the event gives it: `path` (REST `REQUEST`, HTTP API 1.0, without
    /// the stage), `rawPath` (HTTP API 2.0).
    pub path: Option<String>,
    /// The client certificate (PEM) API Gateway passes on from a mutual-TLS custom domain.
    pub client_cert: Option<String>,
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

/// An authorizer event, read: what the decision needs from any of the formats, owned, and
/// nothing else. It is the `authorizer` binary's payload type, so `lambda_runtime` reads the
/// invocation body straight into it in one pass (a `Box<RawValue>` payload read the body once to
/// copy it, then parsed it a second time: BENCHMARKS.md). Reading it never fails: an event we
/// cannot read is kept as its error, for the decision to log and count with its reason.
#[derive(Debug)]
pub struct AuthorizerEvent(Result<Fields, EventError>);

impl<'de> Deserialize<'de> for AuthorizerEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(AuthorizerEvent(Fields::read(deserializer)))
    }
}

impl AuthorizerEvent {
    /// Reads an event from its JSON text, which must hold nothing after the event.
    pub fn from_json(event: &str) -> Self {
        let mut reader = serde_json::Deserializer::from_str(event);
        let fields = Fields::read(&mut reader)
            .and_then(|fields| reader.end().map(|()| fields).map_err(|e| unknown_shape(&e)));
        AuthorizerEvent(fields)
    }

    /// The format, the token (from where `sources` say it may be) and the target.
    pub fn input(self, sources: &TokenSources) -> Result<AuthorizerInput, EventError> {
        let event = self.0?;
        let format = match (event.kind.as_deref(), event.version.as_deref()) {
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
        let (token, scheme) = match format {
            EventFormat::Token => match event
                .authorization_token
                .as_deref()
                .and_then(|v| credential(v, sources.dpop))
            {
                Some((scheme, token)) => (Some(token), scheme),
                None => (None, Scheme::Bearer),
            },
            _ => {
                // As API Gateway's own maps do, a repeated name (in another case) keeps the last.
                let header = event.headers.any_case("authorization").last();
                let cookie = sources.cookie.as_deref().and_then(|name| match format {
                    EventFormat::HttpV2 => event.cookies.iter().find_map(|c| cookie_value(c, name)),
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
                // A present `Authorization` header decides alone, even when it holds no bearer
                // token (`Basic ...`): falling back to a cookie or query token would let a
                // policy cached under that header vouch for a token it never carried.
                match header {
                    Some(header) => match credential(header, sources.dpop) {
                        Some((scheme, token)) => (Some(token), scheme),
                        None => (None, Scheme::Bearer),
                    },
                    None => (cookie.or(query), Scheme::Bearer),
                }
            }
        };
        let arn = match format {
            EventFormat::HttpV2 => event.route_arn.as_deref(),
            _ => event.method_arn.as_deref(),
        };
        let target = arn
            .and_then(ExecuteApiArn::parse)
            .ok_or(EventError::NoTarget)?;
        let evidence = match format {
            EventFormat::Token => Evidence {
                scheme,
                ..Evidence::default()
            },
            _ => Evidence {
                scheme,
                proofs: event.proofs(),
                path: match format {
                    EventFormat::HttpV2 => event.raw_path.as_deref(),
                    _ => event.path.as_deref(),
                }
                .map(|path| match format {
                    EventFormat::Request => path.to_owned(),
                    _ => without_stage(path, event.request_context.stage.as_deref(), &target.path),
                }),
                client_cert: event.request_context.client_cert(),
            },
        };
        let token = token.map(str::to_owned);
        let request = match format {
            EventFormat::Token => RequestParts::default(),
            _ => RequestParts {
                query: Some(without_repeated(
                    event.query_string_parameters.0,
                    &event.multi_value_query_string_parameters.repeated,
                    |a, b| a == b,
                )),
                headers: KEEP_EVERY_HEADER.load(Ordering::Relaxed).then(|| {
                    let mut headers = without_repeated(
                        event.headers.0,
                        &event.multi_value_headers.repeated,
                        |a, b| a.eq_ignore_ascii_case(b),
                    );
                    headers
                        .iter_mut()
                        .for_each(|(k, _)| k.make_ascii_lowercase());
                    headers
                }),
                source_ip: event.request_context.source_ip(),
            },
        };
        Ok(AuthorizerInput {
            format,
            token,
            target,
            request,
            evidence,
        })
    }
}

/// Why an event could not be read, without the value it choked on (a header may hold a token).
fn unknown_shape(error: &impl fmt::Display) -> EventError {
    EventError::UnknownShape(json_error(error))
}

impl Fields {
    /// Reads the fields under the `read_event` span, wherever the reading happens (for the
    /// binary, inside `lambda_runtime`).
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Fields, EventError> {
        tracing::debug_span!("read_event")
            .in_scope(|| Fields::deserialize(deserializer))
            .map_err(|e| unknown_shape(&e))
    }
}

/// What the decision reads from an authorizer event, whatever its format.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    version: Option<String>,
    /// REST `TOKEN`.
    #[serde(default)]
    authorization_token: Option<String>,
    /// REST `TOKEN` and `REQUEST`, HTTP API 1.0.
    #[serde(default)]
    method_arn: Option<String>,
    /// HTTP API 2.0.
    #[serde(default)]
    route_arn: Option<String>,
    /// Request formats.
    #[serde(default)]
    headers: Pairs<TokenHeaders>,
    #[serde(default)]
    query_string_parameters: Pairs<All>,
    /// HTTP API 2.0, which sends cookies here and not in a `Cookie` header.
    #[serde(default)]
    cookies: Vec<String>,
    /// REST `REQUEST` and HTTP API 1.0: every value of a repeated header (`headers` keeps the
    /// last); only the `DPoP` ones are kept.
    #[serde(default)]
    multi_value_headers: MultiValues<DpopHeader>,
    /// REST `REQUEST` and HTTP API 1.0: the names of repeated query parameters.
    #[serde(default)]
    multi_value_query_string_parameters: MultiValues<NoName>,
    /// REST `REQUEST` and HTTP API 1.0: the request path, without the stage.
    #[serde(default)]
    path: Option<String>,
    /// HTTP API 2.0: the request path.
    #[serde(default)]
    raw_path: Option<String>,
    #[serde(default)]
    request_context: RequestContext,
}

impl Fields {
    /// The `DPoP` headers, counted over every value the event holds.
    fn proofs(&self) -> Proofs {
        let values: Vec<&str> = if self.multi_value_headers.kept.is_empty() {
            self.headers.any_case("dpop").collect()
        } else {
            self.multi_value_headers
                .kept
                .iter()
                .map(String::as_str)
                .collect()
        };
        match values.as_slice() {
            [] => Proofs::None,
            [one] if !one.contains(',') => Proofs::One(one.trim().to_owned()),
            _ => Proofs::Several,
        }
    }
}

/// The `requestContext` members the decision reads: the caller's address (route rules) and the
/// client certificate (the binding step).
#[derive(Debug, Default, Deserialize)]
struct RequestContext {
    /// REST `REQUEST` and HTTP API 1.0: the address and the certificate.
    #[serde(default)]
    identity: Option<Caller>,
    /// HTTP API 2.0: the address.
    #[serde(default)]
    http: Option<Caller>,
    /// HTTP API 2.0: the certificate.
    #[serde(default)]
    authentication: Option<Caller>,
    /// The stage, which an HTTP API's path carries in front on a named stage.
    #[serde(default)]
    stage: Option<String>,
}

/// An HTTP API path without the leading `/{stage}` segment of a named stage, so that
/// `AUTH_PUBLIC_URL` is always what the client writes before the route's path (with the stage
/// on the `execute-api` host, with the API mapping's path on a custom domain). AWS's
/// documentation does not say where the stage goes; reports (aws-powertools/powertools-lambda-python
/// issue 621, CodeGenieApp/serverless-express issue 465) say `rawPath` carries it on a named stage,
/// also through a custom domain, whose API mapping key is not forwarded. The segment is removed
/// only when what is left is the path of the route ARN (`route`), which never holds the stage:
/// a path that already is the ARN's stays as it is, so a route whose path starts with the stage's
/// name is never taken for another. `$default` has no segment; REST `path` never carries it.
fn without_stage(path: &str, stage: Option<&str>, route: &str) -> String {
    let rest = stage
        .filter(|stage| !stage.is_empty() && *stage != "$default")
        .and_then(|stage| path.strip_prefix('/')?.strip_prefix(stage))
        .filter(|rest| *rest == route || (rest.is_empty() && route == "/"));
    match rest {
        Some("") => "/".to_owned(),
        Some(rest) => rest.to_owned(),
        None => path.to_owned(),
    }
}

impl RequestContext {
    fn client_cert(&self) -> Option<String> {
        [&self.identity, &self.authentication]
            .into_iter()
            .flatten()
            .find_map(|holder| holder.client_cert.as_ref()?.client_cert_pem.clone())
    }

    fn source_ip(self) -> Option<String> {
        (self.http.and_then(|h| h.source_ip)).or(self.identity.and_then(|i| i.source_ip))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Caller {
    #[serde(default)]
    source_ip: Option<String>,
    #[serde(default)]
    client_cert: Option<ClientCert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientCert {
    #[serde(default)]
    client_cert_pem: Option<String>,
}

/// `multiValueHeaders` or `multiValueQueryStringParameters` (REST `REQUEST`, HTTP API 1.0): an
/// object of string arrays (or `null`s). Keeps the values of the names `K` keeps, in order, and
/// the names given more than once: the single-value map holds only the last of those, while an
/// integration may read the first, so no rule may read them as one value. Every other entry is
/// checked and dropped.
#[derive(Debug)]
struct MultiValues<K> {
    kept: Vec<String>,
    repeated: Vec<String>,
    keep: PhantomData<K>,
}

impl<K> Default for MultiValues<K> {
    fn default() -> Self {
        MultiValues {
            kept: Vec::new(),
            repeated: Vec::new(),
            keep: PhantomData,
        }
    }
}

impl<'de, K: Keep> Deserialize<'de> for MultiValues<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MultiValuesVisitor<K>(PhantomData<K>);
        impl<'de, K: Keep> Visitor<'de> for MultiValuesVisitor<K> {
            type Value = MultiValues<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string arrays, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(MultiValues::default())
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut multi = MultiValues::default();
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    let count = if K::keep(&name) {
                        let values = map.next_value::<Option<Vec<String>>>()?;
                        let values = values.unwrap_or_default();
                        let count = values.len();
                        multi.kept.extend(values);
                        count
                    } else {
                        map.next_value::<Count>()?.0
                    };
                    if count > 1 {
                        multi.repeated.push(name.into_owned());
                    }
                }
                Ok(multi)
            }
        }
        deserializer.deserialize_any(MultiValuesVisitor(PhantomData))
    }
}

/// How many strings an array (or `null`) holds, each checked and none kept.
struct Count(usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Count(0))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                let mut count = 0;
                while seq.next_element::<Text<'de>>()?.is_some() {
                    count += 1;
                }
                Ok(Count(count))
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

/// The `DPoP` header, in any case.
#[derive(Debug)]
struct DpopHeader;

impl Keep for DpopHeader {
    fn keep(name: &str) -> bool {
        name.eq_ignore_ascii_case("dpop")
    }
}

/// No name: only which names repeat.
#[derive(Debug)]
struct NoName;

impl Keep for NoName {
    fn keep(_: &str) -> bool {
        false
    }
}

/// `pairs` without every name given more than once, in `repeated` or in `pairs` itself
/// (compared by `same`): a rule reading such a name finds it absent and refuses, whichever of
/// the values the integration would read.
fn without_repeated(
    pairs: Vec<(String, String)>,
    repeated: &[String],
    same: impl Fn(&str, &str) -> bool,
) -> Vec<(String, String)> {
    let count = |name: &str| pairs.iter().filter(|(k, _)| same(k, name)).count();
    let once: Vec<bool> = pairs
        .iter()
        .map(|(k, _)| count(k) == 1 && !repeated.iter().any(|r| same(r, k)))
        .collect();
    pairs
        .into_iter()
        .zip(once)
        .filter_map(|(pair, once)| once.then_some(pair))
        .collect()
}

/// Which names of a JSON object of strings [`Pairs`] keeps.
trait Keep {
    fn keep(name: &str) -> bool;
}

/// Every name.
#[derive(Debug)]
struct All;

impl Keep for All {
    fn keep(_: &str) -> bool {
        true
    }
}

/// The headers that can carry a token or its DPoP proof, in any case: REST sends names as the
/// client did, HTTP API in lower case. Events carry a dozen headers or more; the others are
/// checked and dropped.
#[derive(Debug)]
struct TokenHeaders;

impl Keep for TokenHeaders {
    fn keep(name: &str) -> bool {
        ["authorization", "cookie", "dpop"]
            .iter()
            .any(|kept| name.eq_ignore_ascii_case(kept))
            || KEEP_EVERY_HEADER.load(Ordering::Relaxed)
    }
}

/// Whether events keep every header, for a route rule reading `request.headers`. Process-wide
/// because the runtime reads the event before the authorizer sees it (the payload type's
/// `Deserialize` takes no configuration); set once at cold start and never cleared. Keeping
/// more headers changes no token source: those are looked up by name.
static KEEP_EVERY_HEADER: AtomicBool = AtomicBool::new(false);

/// Makes events keep every header from now on: a route rule reads `request.headers`. Decided at
/// cold start, so a configuration without such a rule pays nothing per event.
pub fn keep_every_header() {
    KEEP_EVERY_HEADER.store(true, Ordering::Relaxed);
}

/// A JSON object of strings (a `null` value, or the object itself `null`, reads as absent), in
/// order, without hashing: the entries `K` keeps, owned; every other value is checked to be a
/// string and dropped, its name and value borrowed from the event unless escaped.
#[derive(Debug)]
struct Pairs<K>(Vec<(String, String)>, PhantomData<K>);

impl<K> Default for Pairs<K> {
    fn default() -> Self {
        Pairs(Vec::new(), PhantomData)
    }
}

impl<K> Pairs<K> {
    /// Every value whose name equals `name` ignoring ASCII case (header names), in order.
    fn any_case<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, compared exactly (query parameter names).
    fn exact(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<'de, K: Keep> Deserialize<'de> for Pairs<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<K>(PhantomData<K>);
        impl<'de, K: Keep> Visitor<'de> for PairsVisitor<K> {
            type Value = Pairs<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings, or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Pairs::default())
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut pairs = Pairs::default();
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    if !K::keep(&name) {
                        map.next_value::<Option<Text<'de>>>()?;
                    } else if let Some(value) = map.next_value::<Option<String>>()? {
                        pairs.0.push((name.into_owned(), value));
                    }
                }
                Ok(pairs)
            }
        }
        deserializer.deserialize_any(PairsVisitor(PhantomData))
    }
}

/// A JSON string, borrowed from the event unless it has escapes. serde borrows a `Cow` only
/// when it is the field itself, not inside an `Option`, a `Vec` or a map: hence this newtype.
#[derive(Debug, Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The token of an `Authorization` value: `Bearer <token>` (scheme case-insensitive) or a bare
/// token. Any other scheme (`Basic x`) is no token (RFC 6750 §2.1): the authorizer answers 401
/// and reads no cookie or query token instead. The local gateway's emulation of API Gateway's
/// JWT authorizers reads the same way and then, as AWS does, takes another scheme's whole value
/// as a malformed token (also 401).
pub fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(token.trim()).filter(|t| !t.is_empty())
        }
        Some(_) => None,
        None => Some(value).filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("bearer")),
    }
}

/// The token of an `Authorization` value and its scheme: [`bearer_token`]'s reading, and when
/// `dpop` (AUTH_DPOP is not off) also `DPoP <token>` (RFC 9449 §7.1, scheme case-insensitive).
/// Any other scheme is no token, with no fallback to a cookie or query token.
fn credential(value: &str, dpop: bool) -> Option<(Scheme, &str)> {
    let value = value.trim();
    if dpop && value.eq_ignore_ascii_case("dpop") {
        return None;
    }
    match value.split_once(' ') {
        Some((scheme, token)) if dpop && scheme.eq_ignore_ascii_case("dpop") => {
            Some((Scheme::DPoP, token.trim())).filter(|(_, t)| !t.is_empty())
        }
        _ => bearer_token(value).map(|token| (Scheme::Bearer, token)),
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
    use serde_json::json;

    /// Reads an authorizer event from its JSON text.
    fn parse(event: &str, sources: &TokenSources) -> Result<AuthorizerInput, EventError> {
        AuthorizerEvent::from_json(event).input(sources)
    }

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
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("BEARER abc"), Some("abc"));
        assert_eq!(bearer_token("abc"), Some("abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token(""), None);
    }

    /// RFC 6750 §2: a client sends its token one way per request. A present `Authorization`
    /// header that is not a bearer credential leaves the request without a token (401), and
    /// no cookie or query token is read in its place: API Gateway caches the answer under the
    /// identity source it was told to use, which here is that header.
    #[test]
    fn rfc6750_a_non_bearer_authorization_header_is_no_token_and_no_fallback() {
        let query = r#""queryStringParameters":{"access_token":"q"}"#;
        for header in ["Basic dXNlcjpwYXNz", "Bearer ", "Digest x=1", ""] {
            let fields =
                format!(r#"{query},"headers":{{"Authorization":"{header}","Cookie":"token=c"}}"#);
            assert_eq!(request_token(&fields), Ok(None), "{header:?}");
        }
        assert_eq!(
            request_token(&format!(r#"{query},"headers":{{"Cookie":"token=c"}}"#)),
            Ok(Some("c".into())),
            "without the header, the configured cookie"
        );
        assert_eq!(
            request_token(&format!(r#"{query},"headers":{{}}"#)),
            Ok(Some("q".into()))
        );
    }

    /// RFC 9449 §7.1: `Authorization: DPoP <token>`, read only while DPoP is on; otherwise it is
    /// a non-bearer scheme: no token, and no cookie or query token in its place.
    #[test]
    fn rfc9449_the_dpop_scheme_is_read_only_when_dpop_is_on() {
        let arn = "arn:aws:execute-api:eu-west-1:1:api/prod/GET/products";
        let event = format!(
            r#"{{"type":"REQUEST","methodArn":"{arn}","headers":{{"Authorization":"dpop  t.o.k ","Cookie":"token=c"}}}}"#
        );
        let mut sources = TokenSources {
            cookie: Some("token".into()),
            dpop: true,
            ..TokenSources::default()
        };
        let input = parse(&event, &sources).unwrap();
        assert_eq!(input.token.as_deref(), Some("t.o.k"));
        assert_eq!(input.evidence.scheme, Scheme::DPoP);
        sources.dpop = false;
        assert_eq!(parse(&event, &sources).unwrap().token, None);
        assert_eq!(credential("DPoP ", true), None);
        assert_eq!(credential("Bearer x", true), Some((Scheme::Bearer, "x")));
        let token =
            format!(r#"{{"type":"TOKEN","methodArn":"{arn}","authorizationToken":"DPoP x"}}"#);
        let input = parse(
            &token,
            &TokenSources {
                dpop: true,
                ..TokenSources::default()
            },
        );
        assert_eq!(
            input.unwrap().evidence,
            Evidence {
                scheme: Scheme::DPoP,
                ..Evidence::default()
            }
        );
    }

    /// RFC 9449 §4.3 step 1: one `DPoP` header. REST keeps every value in `multiValueHeaders`
    /// (`headers` holds the last); HTTP API 2.0 joins repeats with a comma.
    #[test]
    fn rfc9449_proof_headers_are_counted_over_every_value() {
        let proofs = |fields: &str| {
            let arn = "arn:aws:execute-api:eu-west-1:1:api/prod/GET/products";
            let event = format!(r#"{{"type":"REQUEST","methodArn":"{arn}",{fields}}}"#);
            parse(&event, &TokenSources::default())
                .unwrap()
                .evidence
                .proofs
        };
        assert_eq!(proofs(r#""headers":{}"#), Proofs::None);
        assert_eq!(
            proofs(r#""headers":{"DPoP":" a.b.c "}"#),
            Proofs::One("a.b.c".into())
        );
        assert_eq!(
            proofs(r#""headers":{"DPoP":"b"},"multiValueHeaders":{"dpop":["a","b"],"X":["1"]}"#),
            Proofs::Several
        );
        assert_eq!(
            proofs(r#""headers":{"DPoP":"b"},"multiValueHeaders":{"DPoP":["b"],"X":null}"#),
            Proofs::One("b".into())
        );
        assert_eq!(
            proofs(r#""headers":{"dpop":"a.b.c,d.e.f"}"#),
            Proofs::Several
        );
        assert_eq!(
            proofs(r#""headers":{"dpop":"a","DPoP":"b"}"#),
            Proofs::Several
        );
    }

    /// The path and the client certificate where each format puts them (aws-lambda-rust-runtime's
    /// fixtures `example-apigw-custom-auth-request-type-request.json` and
    /// `example-apigw-v2-custom-authorizer-v2-request.json`).
    #[test]
    fn path_and_client_certificate_by_format() {
        let sources = TokenSources::default();
        let rest = r#"{"type":"REQUEST","methodArn":"arn:aws:execute-api:r:1:a/test/GET/request",
            "path":"/request","requestContext":{"path":"/test/request","identity":{"sourceIp":"x",
            "clientCert":{"clientCertPem":"-----BEGIN CERTIFICATE-----\nMII","subjectDN":"CN=c"}}}}"#;
        let evidence = parse(rest, &sources).unwrap().evidence;
        assert_eq!(evidence.path.as_deref(), Some("/request"));
        assert_eq!(
            evidence.client_cert.as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nMII")
        );
        let v2 = r#"{"version":"2.0","type":"REQUEST","routeArn":"arn:aws:execute-api:r:1:a/$default/POST/lambda",
            "rawPath":"/lambda","path":"/ignored","requestContext":{"http":{"path":"/lambda"},
            "authentication":{"clientCert":{"clientCertPem":"CERT_CONTENT"}}}}"#;
        let evidence = parse(v2, &sources).unwrap().evidence;
        assert_eq!(evidence.path.as_deref(), Some("/lambda"));
        assert_eq!(evidence.client_cert.as_deref(), Some("CERT_CONTENT"));
        let none = r#"{"type":"REQUEST","methodArn":"arn:aws:execute-api:r:1:a/test/GET/request",
            "requestContext":{"identity":{"clientCert":null},"authentication":null}}"#;
        assert_eq!(parse(none, &sources).unwrap().evidence.client_cert, None);
    }

    /// An HTTP API's path on a named stage loses its `/{stage}` segment where it has one, so the
    /// base URL is what the client writes before the route's path; a REST path is never cut
    /// (API Gateway already leaves its stage out, and a route may start with the stage's name).
    #[test]
    fn an_http_api_path_on_a_named_stage_loses_the_stage_segment() {
        let sources = TokenSources::default();
        let v2 = |raw: &str, stage: &str, route: &str| {
            let event = json!({"version": "2.0", "type": "REQUEST", "rawPath": raw,
                "routeArn": format!("arn:aws:execute-api:r:1:a/{stage}/GET{route}"),
                "requestContext": {"stage": stage}});
            parse(&event.to_string(), &sources).unwrap().evidence.path
        };
        assert_eq!(
            v2("/dev/orders", "dev", "/orders").as_deref(),
            Some("/orders")
        );
        assert_eq!(v2("/dev", "dev", "/").as_deref(), Some("/"));
        assert_eq!(v2("/orders", "dev", "/orders").as_deref(), Some("/orders"));
        let other = v2("/development/x", "dev", "/x");
        assert_eq!(other.as_deref(), Some("/development/x"));
        let default = v2("/$default/x", "$default", "/x");
        assert_eq!(default.as_deref(), Some("/$default/x"));
        // A route whose path starts with the stage's name, where the path carries no stage:
        // kept whole, so a proof for the route `/orders` never matches it.
        assert_eq!(
            v2("/v1/orders", "v1", "/v1/orders").as_deref(),
            Some("/v1/orders")
        );
        // Neither the ARN's path nor the stage and it: kept whole, and matched as it is.
        assert_eq!(
            v2("/v1/other", "v1", "/orders").as_deref(),
            Some("/v1/other")
        );
        let v1 = json!({"version": "1.0", "type": "REQUEST", "path": "/dev/orders",
            "methodArn": "arn:aws:execute-api:r:1:a/dev/GET/orders",
            "requestContext": {"stage": "dev"}});
        let v1 = parse(&v1.to_string(), &sources).unwrap().evidence.path;
        assert_eq!(v1.as_deref(), Some("/orders"));
        let rest = json!({"type": "REQUEST", "path": "/prod/orders",
            "methodArn": "arn:aws:execute-api:r:1:a/prod/GET/prod/orders",
            "requestContext": {"stage": "prod"}});
        let rest = parse(&rest.to_string(), &sources).unwrap().evidence.path;
        assert_eq!(rest.as_deref(), Some("/prod/orders"));
    }

    /// A name given twice (REST and HTTP API 1.0 list every value in `multiValue*`; the
    /// single-value map keeps the last, an integration may read the first) is absent from what
    /// rules read, so a rule on it refuses instead of judging one value of several.
    #[test]
    fn repeated_query_parameters_and_headers_are_absent_for_rules() {
        keep_every_header();
        let sources = TokenSources::default();
        let event = json!({"type": "REQUEST", "path": "/search",
            "methodArn": "arn:aws:execute-api:r:1:a/prod/GET/search",
            "queryStringParameters": {"tenant": "mine", "q": "x"},
            "multiValueQueryStringParameters": {"tenant": ["victim", "mine"], "q": ["x"]},
            "headers": {"X-Tenant": "mine", "Accept": "*/*"},
            "multiValueHeaders": {"X-Tenant": ["victim", "mine"], "Accept": ["*/*"]}});
        let request = parse(&event.to_string(), &sources).unwrap().request;
        assert_eq!(request.query, Some(vec![("q".to_owned(), "x".to_owned())]));
        let headers = request.headers.unwrap();
        assert!(headers.iter().all(|(k, _)| k != "x-tenant"), "{headers:?}");
        assert!(headers.iter().any(|(k, _)| k == "accept"), "{headers:?}");
        // The same name twice in another case, in the single-value map itself.
        let event = json!({"version": "1.0", "type": "REQUEST", "path": "/search",
            "methodArn": "arn:aws:execute-api:r:1:a/prod/GET/search",
            "headers": {"X-Tenant": "victim", "x-tenant": "mine"}});
        let headers = parse(&event.to_string(), &sources)
            .unwrap()
            .request
            .headers
            .unwrap();
        assert!(headers.iter().all(|(k, _)| k != "x-tenant"), "{headers:?}");
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
            let ours = AuthorizerEvent::from_json(&json).0.unwrap();
            let query = |get: &dyn Fn(&str) -> Option<String>| {
                for (key, value) in &ours.query_string_parameters.0 {
                    assert_eq!(get(key).as_ref(), Some(value), "{name}: ?{key}");
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
            match (ours.kind.as_deref(), ours.version.as_deref()) {
                (_, Some("2.0")) => {
                    let theirs: ApiGatewayV2CustomAuthorizerV2Request =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(ours.route_arn, theirs.route_arn);
                    header(&theirs.headers, "authorization");
                    assert_eq!(ours.cookies, theirs.cookies, "{name}");
                    query(&|k| theirs.query_string_parameters.get(k).cloned());
                }
                (Some("TOKEN"), _) => {
                    let theirs: ApiGatewayCustomAuthorizerRequest =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(ours.method_arn, theirs.method_arn);
                    assert_eq!(ours.authorization_token, theirs.authorization_token);
                }
                _ => {
                    let theirs: ApiGatewayCustomAuthorizerRequestTypeRequest =
                        serde_json::from_str(&json).unwrap();
                    assert_eq!(ours.method_arn, theirs.method_arn);
                    header(&theirs.headers, "authorization");
                    header(&theirs.headers, "cookie");
                    query(&|k| theirs.query_string_parameters.first(k).map(str::to_owned));
                }
            }
            seen.push(name);
        }
        assert!(seen.len() >= 12, "{seen:?}");
    }

    /// The token of a REST `REQUEST` event for `GET /products` with these `fields`, read with
    /// the cookie `token` and the query parameter `access_token` as further sources.
    fn request_token(fields: &str) -> Result<Option<String>, EventError> {
        let sources = TokenSources {
            cookie: Some("token".into()),
            query: Some("access_token".into()),
            dpop: true,
        };
        let arn = "arn:aws:execute-api:eu-west-1:1:api/prod/GET/products";
        let event = format!(r#"{{"type":"REQUEST","methodArn":"{arn}",{fields}}}"#);
        parse(&event, &sources).map(|input| input.token)
    }

    #[test]
    fn headers_in_any_case_escaped_or_null() {
        let read = request_token;
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
    fn only_the_headers_that_can_carry_a_token_are_kept() {
        let event = AuthorizerEvent::from_json(
            r#"{"type":"REQUEST","headers":{"AUTHORIZATION":"Bearer a","x":"\"q\"","Cookie":"c=1","y":null}}"#,
        );
        let kept = event.0.unwrap().headers.0;
        assert_eq!(
            kept,
            [
                ("AUTHORIZATION".to_owned(), "Bearer a".to_owned()),
                ("Cookie".to_owned(), "c=1".to_owned())
            ]
        );
    }

    /// Read as the runtime reads a payload (no check for trailing text), an unreadable event
    /// still arrives, as its error, for the decision to answer and count.
    #[test]
    fn an_unreadable_event_arrives_as_its_error() {
        let mut reader = serde_json::Deserializer::from_str(r#"{"headers":{"x":5}}"#);
        let event = AuthorizerEvent::deserialize(&mut reader).unwrap();
        assert!(matches!(event.0, Err(EventError::UnknownShape(_))));
        let trailing = AuthorizerEvent::from_json(r#"{"type":"TOKEN"} {}"#);
        assert!(matches!(trailing.0, Err(EventError::UnknownShape(_))));
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
