//! Requests as API Gateway hands them to Lambda: the HTTP API payload 2.0 integration event, the
//! payload 2.0 `REQUEST` authorizer event, and JWT claims stringified the way the built-in JWT
//! authorizer does it.
//!
//! What HTTP APIs do to a request before the function sees it, and this module reproduces:
//!
//! - `rawPath`, `requestContext.http.path` and `pathParameters` are percent-decoded;
//!   `rawQueryString` stays as sent, `queryStringParameters` are decoded, repeated names joined
//!   with `,`;
//! - header names are lower-cased, repeated headers joined with `,`; the `cookie` header is moved
//!   to `cookies` (one entry per cookie); `x-forwarded-for` / `-port` / `-proto` and
//!   `x-amzn-trace-id` are set by the gateway;
//! - a text body is passed as is, anything else base64-encoded with `isBase64Encoded: true`;
//! - JWT claims: every value a string (`"exp": "1718722804"`, `"true"`, arrays as `"[a b]"`,
//!   objects as JSON text), null claims left out.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::HeaderMap;
use jwt_scopes_api::routes::Route;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};
use std::net::IpAddr;

/// The API a request arrived on: the identifiers API Gateway writes into every event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiContext {
    /// AWS account id, `requestContext.accountId`.
    pub account_id: String,
    /// API id, `requestContext.apiId`, and the API part of route ARNs.
    pub api_id: String,
    /// Region, in route ARNs.
    pub region: String,
    /// Stage name; HTTP APIs serve `$default` at the root.
    pub stage: String,
}

impl Default for ApiContext {
    fn default() -> Self {
        ApiContext {
            account_id: "123456789012".into(),
            api_id: "localgw001".into(),
            region: "us-east-1".into(),
            stage: "$default".into(),
        }
    }
}

/// One request as the gateway received it, before any transformation.
#[derive(Clone, Debug)]
pub struct IncomingRequest {
    /// Method, as sent (HTTP API route keys are upper case).
    pub method: String,
    /// The path as sent, still percent-encoded.
    pub raw_path: String,
    /// The query string as sent, without `?`.
    pub raw_query: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The whole body (bounded by the server).
    pub body: Vec<u8>,
    /// The client's address.
    pub source_ip: IpAddr,
    /// The port the gateway listens on, for `x-forwarded-port`.
    pub server_port: u16,
    /// API Gateway's request id, also sent back as `apigw-requestid`.
    pub request_id: String,
    /// When the request arrived, milliseconds since the epoch.
    pub time_epoch_ms: u64,
}

impl IncomingRequest {
    /// The path HTTP APIs route on and pass as `rawPath`: percent-decoded once.
    pub fn decoded_path(&self) -> String {
        percent_decode_str(&self.raw_path)
            .decode_utf8_lossy()
            .into_owned()
    }

    /// One header's values joined with `,`, as API Gateway passes repeated headers.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    /// Each cookie of the `Cookie` header(s), trimmed: the payload 2.0 `cookies` array.
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(hyper::header::COOKIE)
            .iter()
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The host the client addressed, without port: `requestContext.domainName`.
    pub fn domain_name(&self) -> String {
        let host = self.header("host").unwrap_or_default();
        let host = host.split(',').next().unwrap_or_default().trim();
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        if name.is_empty() {
            "localhost".into()
        } else {
            name.to_owned()
        }
    }
}

/// The path parameters of `route` in a decoded path: each `{param}` segment of the template
/// paired with the path's segment at the same place.
pub fn path_parameters(route: &Route, decoded_path: &str) -> Map<String, Value> {
    route
        .path
        .split('/')
        .zip(decoded_path.split('/'))
        .filter_map(|(template, segment)| {
            let name = template.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), Value::String(segment.to_owned())))
        })
        .collect()
}

/// The query string's `name=value` pairs in order, names and values percent-decoded (`+` as
/// space), as both payload formats read them.
fn query_pairs(raw_query: &str) -> impl Iterator<Item = (String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(move |pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
}

/// `queryStringParameters`: names and values percent-decoded (`+` as space), repeated names
/// joined with `,`; `None` for an empty query, which API Gateway leaves out.
pub fn query_parameters(raw_query: &str) -> Option<Map<String, Value>> {
    let mut parameters = Map::new();
    for (name, value) in query_pairs(raw_query) {
        match parameters.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                parameters.insert(name, Value::String(value));
            }
        }
    }
    (!parameters.is_empty()).then_some(parameters)
}

/// The headers object: lower-case names, repeated headers joined with `,`, no `cookie` (it goes
/// to `cookies`), and the headers the gateway itself sets.
pub fn event_headers(request: &IncomingRequest) -> Map<String, Value> {
    let mut headers = Map::new();
    for name in request.headers.keys() {
        if name == hyper::header::COOKIE {
            continue;
        }
        if let Some(value) = request.header(name.as_str()) {
            headers.insert(name.as_str().to_ascii_lowercase(), Value::String(value));
        }
    }
    let forwarded_for = match request.header("x-forwarded-for") {
        Some(chain) => format!("{chain}, {}", request.source_ip),
        None => request.source_ip.to_string(),
    };
    headers.insert("x-forwarded-for".into(), forwarded_for.into());
    headers.insert(
        "x-forwarded-port".into(),
        request.server_port.to_string().into(),
    );
    headers.insert("x-forwarded-proto".into(), "http".into());
    if !headers.contains_key("x-amzn-trace-id") {
        let seconds = request.time_epoch_ms / 1000;
        let id: String = request
            .request_id
            .bytes()
            .chain(std::iter::repeat(0))
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect();
        headers.insert(
            "x-amzn-trace-id".into(),
            format!("Root=1-{seconds:08x}-{id}").into(),
        );
    }
    headers
}

/// Whether a body of this content type reaches Lambda as text; anything else is base64.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("/json")
        || mime.ends_with("+json")
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || mime.ends_with("/javascript")
        || mime == "application/x-www-form-urlencoded"
}

/// `body` and `isBase64Encoded` for a request body; no `body` key when it is empty.
fn body_fields(request: &IncomingRequest, event: &mut Map<String, Value>) {
    let mut encoded = false;
    if !request.body.is_empty() {
        let content_type = request.header("content-type");
        match std::str::from_utf8(&request.body) {
            Ok(text) if is_text(content_type.as_deref()) => {
                event.insert("body".into(), text.into());
            }
            _ => {
                event.insert("body".into(), STANDARD.encode(&request.body).into());
                encoded = true;
            }
        }
    }
    event.insert("isBase64Encoded".into(), encoded.into());
}

/// `requestContext` without `authorizer`.
fn request_context(request: &IncomingRequest, api: &ApiContext, route_key: &str) -> Value {
    let domain_name = request.domain_name();
    let domain_prefix = domain_name.split('.').next().unwrap_or_default().to_owned();
    json!({
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": domain_name,
        "domainPrefix": domain_prefix,
        "http": {
            "method": request.method,
            "path": request.decoded_path(),
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip.to_string(),
            "userAgent": request.header("user-agent").unwrap_or_default(),
        },
        "requestId": request.request_id,
        "routeKey": route_key,
        "stage": api.stage,
        "time": format_time(request.time_epoch_ms),
        "timeEpoch": request.time_epoch_ms,
    })
}

/// The fields both payload 2.0 events share, in API Gateway's order.
fn common_fields(request: &IncomingRequest, route: &Route, event: &mut Map<String, Value>) {
    event.insert("routeKey".into(), route.route_key().into());
    event.insert("rawPath".into(), request.decoded_path().into());
    event.insert("rawQueryString".into(), request.raw_query.clone().into());
    let cookies = request.cookies();
    if !cookies.is_empty() {
        event.insert("cookies".into(), cookies.into());
    }
    event.insert("headers".into(), event_headers(request).into());
    if let Some(query) = query_parameters(&request.raw_query) {
        event.insert("queryStringParameters".into(), query.into());
    }
}

/// The payload 2.0 event API Gateway sends the integration for `request` on `route`, with
/// `authorizer` (`{"jwt": ...}` or `{"lambda": ...}`) in the request context, if any.
pub fn http_api_event(
    request: &IncomingRequest,
    api: &ApiContext,
    route: &Route,
    authorizer: Option<Value>,
) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), "2.0".into());
    common_fields(request, route, &mut event);
    let parameters = path_parameters(route, &request.decoded_path());
    if !parameters.is_empty() {
        event.insert("pathParameters".into(), parameters.into());
    }
    let mut context = request_context(request, api, &route.route_key());
    if let (Some(authorizer), Value::Object(context)) = (authorizer, &mut context) {
        context.insert("authorizer".into(), authorizer);
    }
    event.insert("requestContext".into(), context);
    body_fields(request, &mut event);
    Value::Object(event)
}

/// The route ARN an HTTP API passes its Lambda authorizer:
/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{path}`.
pub fn route_arn(request: &IncomingRequest, api: &ApiContext) -> String {
    format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
        api.region,
        api.account_id,
        api.api_id,
        api.stage,
        request.method,
        request.decoded_path()
    )
}

/// The payload 2.0 `REQUEST` event an HTTP API sends its Lambda authorizer.
pub fn authorizer_event(
    request: &IncomingRequest,
    api: &ApiContext,
    route: &Route,
    identity_source: &[String],
) -> Value {
    let mut event = Map::new();
    event.insert("version".into(), "2.0".into());
    event.insert("type".into(), "REQUEST".into());
    event.insert("routeArn".into(), route_arn(request, api).into());
    event.insert("identitySource".into(), identity_source.into());
    common_fields(request, route, &mut event);
    event.insert(
        "requestContext".into(),
        request_context(request, api, &route.route_key()),
    );
    let parameters = path_parameters(route, &request.decoded_path());
    if !parameters.is_empty() {
        event.insert("pathParameters".into(), parameters.into());
    }
    event.insert("stageVariables".into(), Value::Object(Map::new()));
    Value::Object(event)
}

/// The stage `template.yaml` deploys `RestJwtApi` to: REST APIs have no `$default` stage, and
/// the stage name is part of `requestContext.path`.
pub const REST_STAGE: &str = "prod";

/// The REST API (payload 1.0) proxy event API Gateway sends the integration for `request` on
/// `route`, shaped as `rest()` in `events/product-api/make_events.py` writes the captured ones,
/// with `authorizer` as `requestContext.authorizer`. Where it differs from payload 2.0:
///
/// - `path` is the path as sent (still percent-encoded); `pathParameters` are decoded, a segment
///   that does not decode to UTF-8 kept as sent (`%FF` stays `%FF`), `null` without any;
/// - `headers` and `queryStringParameters` hold the last value of a repeated name,
///   `multiValueHeaders` and `multiValueQueryStringParameters` every value, `null` when empty;
///   the `Cookie` header stays a header. Names arrive lower-cased (hyper does not keep the
///   client's spelling), the gateway's own `X-Forwarded-*` in API Gateway's;
/// - `requestContext` carries `resourcePath`, the stage in `path` (`/prod/products`), a UUID
///   `requestId` beside the `extendedRequestId`, and the caller in `identity`.
pub fn rest_api_event(
    request: &IncomingRequest,
    api: &ApiContext,
    route: &Route,
    authorizer: Option<Value>,
) -> Value {
    let (headers, multi_headers) = rest_headers(request);
    let (query, multi_query) = rest_query(&request.raw_query);
    let parameters: Map<String, Value> = path_parameters(route, &request.raw_path)
        .into_iter()
        .map(|(name, raw)| {
            let raw = raw.as_str().unwrap_or_default();
            let decoded = percent_decode_str(raw)
                .decode_utf8()
                .map_or(raw.into(), |d| d);
            (name, Value::String(decoded.into_owned()))
        })
        .collect();
    let domain_name = request.domain_name();
    let domain_prefix = domain_name.split('.').next().unwrap_or_default().to_owned();
    let mut context = json!({
        "resourceId": resource_id(route.path),
        "resourcePath": route.path,
        "httpMethod": request.method,
        "extendedRequestId": request.request_id,
        "requestTime": format_time(request.time_epoch_ms),
        "path": format!("/{REST_STAGE}{}", request.raw_path),
        "accountId": api.account_id,
        "protocol": "HTTP/1.1",
        "stage": REST_STAGE,
        "domainPrefix": domain_prefix,
        "requestTimeEpoch": request.time_epoch_ms,
        "requestId": uuid(),
        "identity": {
            "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null,
            "caller": null, "sourceIp": request.source_ip.to_string(), "principalOrgId": null,
            "accessKey": null, "cognitoAuthenticationType": null,
            "cognitoAuthenticationProvider": null, "userArn": null,
            "userAgent": request.header("user-agent"), "user": null,
        },
        "domainName": domain_name,
        "apiId": api.api_id,
    });
    if let (Some(authorizer), Value::Object(context)) = (authorizer, &mut context) {
        context.insert("authorizer".into(), authorizer);
    }
    let non_empty = |map: Map<String, Value>| (!map.is_empty()).then_some(Value::Object(map));
    let mut event = Map::new();
    event.insert("resource".into(), route.path.into());
    event.insert("path".into(), request.raw_path.clone().into());
    event.insert("httpMethod".into(), request.method.clone().into());
    event.insert("headers".into(), headers.into());
    event.insert("multiValueHeaders".into(), multi_headers.into());
    event.insert("queryStringParameters".into(), non_empty(query).into());
    event.insert(
        "multiValueQueryStringParameters".into(),
        non_empty(multi_query).into(),
    );
    event.insert("pathParameters".into(), non_empty(parameters).into());
    event.insert("stageVariables".into(), Value::Null);
    event.insert("requestContext".into(), context);
    event.insert("body".into(), Value::Null);
    body_fields(request, &mut event);
    Value::Object(event)
}

/// `headers` (last value of each name) and `multiValueHeaders` (every value), with the headers
/// API Gateway sets itself in its spelling, replacing any the client sent.
fn rest_headers(request: &IncomingRequest) -> (Map<String, Value>, Map<String, Value>) {
    let own = event_headers(request);
    let mut multi = Map::new();
    for name in request.headers.keys() {
        if own.contains_key(name.as_str()) && name.as_str().starts_with("x-") {
            continue;
        }
        let values = request.headers.get_all(name).iter();
        let values: Vec<Value> = values
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned().into())
            .collect();
        multi.insert(name.as_str().to_owned(), values.into());
    }
    for (name, spelled) in [
        ("x-amzn-trace-id", "X-Amzn-Trace-Id"),
        ("x-forwarded-for", "X-Forwarded-For"),
        ("x-forwarded-port", "X-Forwarded-Port"),
        ("x-forwarded-proto", "X-Forwarded-Proto"),
    ] {
        if let Some(value) = own.get(name) {
            multi.insert(spelled.into(), vec![value.clone()].into());
        }
    }
    (last_values(&multi), multi)
}

/// `queryStringParameters` (last value of each name) and `multiValueQueryStringParameters`
/// (every value), names and values decoded as [`query_parameters`] decodes them.
fn rest_query(raw_query: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut multi = Map::new();
    for (name, value) in query_pairs(raw_query) {
        let values = multi
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push(value.into());
        }
    }
    (last_values(&multi), multi)
}

/// The single-value map of a multi-value one: the last value of each name, as REST APIs do.
fn last_values(multi: &Map<String, Value>) -> Map<String, Value> {
    multi
        .iter()
        .filter_map(|(name, values)| Some((name.clone(), values.as_array()?.last()?.clone())))
        .collect()
}

/// A stable `resourceId` for a resource path: six lower-case letters and digits, as API Gateway
/// gives each resource (FNV-1a of the path, so it stays the same across runs).
fn resource_id(path: &str) -> String {
    let mut hash = path.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (0..6)
        .map(|_| {
            let digit = (hash % 36) as u32;
            hash /= 36;
            char::from_digit(digit, 36).unwrap_or('0')
        })
        .collect()
}

/// A random version 4 UUID: REST APIs' `requestId` has this form.
fn uuid() -> String {
    let mut bytes = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&jwt_scopes_api::env::now_millis().to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The event as the text REST APIs send it: JSON with every non-ASCII character written as a
/// `\uXXXX` escape (upper-case hex, UTF-16 surrogate pairs beyond the BMP), as the REST JWT
/// authorizer's claims arrive; serde_json would write them as UTF-8. Outside strings serde_json
/// writes only ASCII, so escaping every non-ASCII character of the text escapes exactly the
/// strings' ones.
pub fn ascii_json(event: &Value) -> String {
    let text = event.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        for unit in c.encode_utf16(&mut [0; 2]) {
            out.push_str(&format!("\\u{unit:04X}"));
        }
    }
    out
}

/// `requestContext.authorizer` of an HTTP API JWT authorizer's payload 2.0 event: every claim
/// stringified, and the token's scopes when the route has scopes (`null` otherwise, as API
/// Gateway does).
pub fn jwt_authorizer_context(claims: &Map<String, Value>, scopes: Option<&[String]>) -> Value {
    let scopes = scopes.map_or(Value::Null, |scopes| scopes.into());
    json!({"jwt": {"claims": stringify_claims(claims), "scopes": scopes}})
}

/// `requestContext.authorizer` of a REST API JWT authorizer's event: the token's payload as
/// issued, JSON types kept.
pub fn rest_jwt_authorizer_context(claims: Map<String, Value>) -> Value {
    json!({ "claims": claims })
}

/// `requestContext.authorizer` of a REST API Cognito user pool authorizer's event: every claim
/// as a string.
pub fn cognito_authorizer_context(claims: &Map<String, Value>) -> Value {
    json!({ "claims": stringify_claims(claims) })
}

/// Every claim of a verified token as the HTTP API JWT authorizer passes it: all strings, nulls
/// left out.
pub fn stringify_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), Value::String(stringify_claim(value)?))))
        .collect()
}

/// One claim as API Gateway renders it: strings as they are, numbers in their JSON text
/// (`1718722804`), booleans `true`/`false`, arrays as `[a b]` (brackets, space separated,
/// elements rendered the same way), objects as JSON text; `None` for null.
pub fn stringify_claim(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|item| stringify_claim(item).unwrap_or_else(|| "<nil>".into()))
                .collect();
            Some(format!("[{}]", items.join(" ")))
        }
        Value::Object(_) => Some(value.to_string()),
    }
}

/// `requestContext.time`: `18/Jun/2024:14:05:12 +0000`.
pub fn format_time(epoch_ms: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = epoch_ms / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_stringified_like_api_gateway() {
        let claims = json!({
            "exp": 1718722804, "ratio": 1.5, "admin": true, "off": false,
            "groups": ["admin", "poweruser"], "nested": {"roles": ["a"]}, "gone": null,
            "sub": "u", "mixed": [1, true, "x"]
        });
        let out = stringify_claims(claims.as_object().unwrap());
        assert_eq!(
            Value::Object(out),
            json!({
                "exp": "1718722804", "ratio": "1.5", "admin": "true", "off": "false",
                "groups": "[admin poweruser]", "nested": "{\"roles\":[\"a\"]}",
                "sub": "u", "mixed": "[1 true x]"
            })
        );
    }

    #[test]
    fn time_is_formatted_like_the_request_context() {
        assert_eq!(format_time(1_718_719_512_345), "18/Jun/2024:14:05:12 +0000");
        assert_eq!(format_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(format_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    }

    #[test]
    fn non_ascii_is_escaped_as_rest_apis_send_it() {
        let event = json!({"name": "Jos\u{e9}", "emoji": "\u{1F600}", "plain": "a\"b"});
        let text = ascii_json(&event);
        assert!(text.is_ascii(), "{text}");
        assert!(text.contains(r#""Jos\u00E9""#), "{text}");
        assert!(text.contains(r#""\uD83D\uDE00""#), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), event);
    }

    #[test]
    fn rest_events_keep_the_path_and_every_value() {
        let mut headers = HeaderMap::new();
        headers.append("accept", "a".parse().unwrap());
        headers.append("accept", "b".parse().unwrap());
        headers.append("cookie", "c=1".parse().unwrap());
        let request = IncomingRequest {
            method: "GET".into(),
            raw_path: "/product/a%20b".into(),
            raw_query: "x=1&x=2&y=%FF".into(),
            headers,
            body: Vec::new(),
            source_ip: "127.0.0.1".parse().unwrap(),
            server_port: 3000,
            request_id: "ZKx4pgP9FiAEMpw=".into(),
            time_epoch_ms: 1_718_719_512_345,
        };
        let route = &jwt_scopes_api::ROUTES[1];
        let event = rest_api_event(&request, &ApiContext::default(), route, None);
        assert_eq!(event["path"], "/product/a%20b");
        assert_eq!(event["pathParameters"], json!({"name": "a b"}));
        assert_eq!(event["headers"]["accept"], "b");
        assert_eq!(event["multiValueHeaders"]["accept"], json!(["a", "b"]));
        assert_eq!(event["headers"]["cookie"], "c=1");
        assert_eq!(event["queryStringParameters"]["x"], "2");
        assert_eq!(
            event["multiValueQueryStringParameters"]["x"],
            json!(["1", "2"])
        );
        assert_eq!(event["body"], Value::Null);
        let context = &event["requestContext"];
        assert_eq!(context["path"], "/prod/product/a%20b");
        assert_eq!(context["resourcePath"], "/product/{name}");
        assert_eq!(context["requestId"].as_str().unwrap().len(), 36);
        assert!(context.get("authorizer").is_none());
        assert_eq!(resource_id("/products"), resource_id("/products"));
        assert_ne!(resource_id("/products"), resource_id("/product/{name}"));
    }

    #[test]
    fn query_parameters_are_decoded_and_joined() {
        let q = query_parameters("a=1&a=2&b=x%20y&c=p+q&flag").unwrap();
        assert_eq!(
            Value::Object(q),
            json!({"a": "1,2", "b": "x y", "c": "p q", "flag": ""})
        );
        assert_eq!(query_parameters(""), None);
    }
}
