//! Reads a raw HTTP event and makes it safe for `lambda_http` to turn into a request.
//!
//! Reading: `lambda_http`'s own `LambdaRequest` tries each event type in turn, REST first, and a
//! payload 2.0 event (the HTTP API, our main path) fails the REST type only after most of it was
//! built: 36 µs where [`read_event`] takes 26 (BENCHMARKS.md). [`read_event`] looks at `version` first and
//! reads a `"2.0"` event as payload 2.0 (the one event this could change is a 2.0 event that also
//! carries REST's top-level `httpMethod`, which API Gateway never sends); every other event still
//! goes through `LambdaRequest` and its order of trial.
//!
//! `lambda_http` 1.3 builds the request URI from the `Host` header (or the context's
//! `domainName`), `X-Forwarded-Proto`, the stage and the path, and panics when the result does not
//! parse as a URL. An ALB passes the client's `Host` through, so `Host: a b` would abort the
//! invocation (found by the `product_api_event` fuzz target). Values that cannot be part of a URL
//! are dropped here, before the conversion: the request then routes to no route (404) or is
//! refused for want of identity (401), like any other bad input.

use lambda_http::http::HeaderMap;
use lambda_http::http::uri::{Authority, Uri};
use lambda_http::request::LambdaRequest;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The path given to a request whose path cannot be part of a URL: it matches no route.
const UNROUTABLE: &str = "/.invalid-path";

/// An HTTP event, read by [`read_event`]: the `product-api` function's payload type. The runtime logs
/// an event it cannot read, so the error says where reading failed, not the value there (a
/// header may hold a token).
#[derive(Debug)]
pub struct HttpEvent(pub LambdaRequest);

impl<'de> Deserialize<'de> for HttpEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        tracing::debug_span!("read_event")
            .in_scope(|| read_event(raw.get()))
            .map(HttpEvent)
            .map_err(|e| D::Error::custom(crate::redact::json_error(&e)))
    }
}

/// Reads an HTTP event as `lambda_http` would, payload 2.0 straight into its type, then
// sanitizes it (drops what `lambda_http` could not build a URL from).
pub fn read_event(event: &str) -> Result<LambdaRequest, serde_json::Error> {
    #[derive(Deserialize)]
    struct Version<'a> {
        #[serde(borrow, default)]
        version: Option<Cow<'a, str>>,
    }
    let version_2 = serde_json::from_str::<Version<'_>>(event)
        .is_ok_and(|probe| probe.version.as_deref() == Some("2.0"));
    let mut request = match version_2 {
        true => serde_json::from_str(event)
            .map(LambdaRequest::ApiGatewayV2)
            .or_else(|_| serde_json::from_str(event))?,
        false => serde_json::from_str(event)?,
    };
    sanitize(&mut request);
    Ok(request)
}

/// Drops what `lambda_http` could not build a URL from.
fn sanitize(request: &mut LambdaRequest) {
    match request {
        LambdaRequest::ApiGatewayV1(event) => {
            let context = &mut event.request_context;
            clean(
                &mut event.headers,
                &mut context.domain_name,
                context.stage.as_deref(),
                &mut event.path,
            );
        }
        LambdaRequest::ApiGatewayV2(event) => {
            let context = &mut event.request_context;
            clean(
                &mut event.headers,
                &mut context.domain_name,
                context.stage.as_deref(),
                &mut event.raw_path,
            );
        }
        LambdaRequest::Alb(event) => clean(&mut event.headers, &mut None, None, &mut event.path),
        LambdaRequest::WebSocket(event) => {
            let context = &mut event.request_context;
            clean(
                &mut event.headers,
                &mut context.domain_name,
                context.stage.as_deref(),
                &mut event.path,
            );
        }
        _ => {}
    }
}

/// Whether `lambda_http` can turn this URL into an `http::Uri`: it parses with `url` and
/// unwraps, then hands the result to `http`, which is stricter.
fn buildable(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|url| url.as_str().parse::<Uri>().is_ok())
}

fn clean(
    headers: &mut HeaderMap,
    domain: &mut Option<String>,
    stage: Option<&str>,
    path: &mut Option<String>,
) {
    let stage_ok = stage.is_none_or(|s| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"$-_".contains(&b))
    });
    let path_ok = path
        .as_deref()
        .is_none_or(|p| p.starts_with('/') && buildable(&format!("http://localhost{p}")));
    if !(stage_ok && path_ok) {
        *path = Some(UNROUTABLE.to_owned());
    }
    let proto_ok = headers.get("x-forwarded-proto").is_none_or(|v| {
        v.to_str()
            .is_ok_and(|v| v.eq_ignore_ascii_case("http") || v.eq_ignore_ascii_case("https"))
    });
    if !proto_ok {
        headers.remove("x-forwarded-proto");
    }
    let host_ok = |host: &str| {
        !host.is_empty()
            && !host.contains(['/', '?', '#', '@', '\\'])
            && host.parse::<Authority>().is_ok()
            && buildable(&format!("https://{host}/"))
    };
    if headers
        .get("host")
        .is_some_and(|v| !v.to_str().is_ok_and(host_ok))
    {
        headers.remove("host");
    }
    if domain.as_deref().is_some_and(|d| !host_ok(d)) {
        *domain = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(event: &str) -> lambda_http::Request {
        read_event(event).unwrap().into()
    }

    const ALB: &str = r#"{"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:x"}},
        "httpMethod":"GET","path":"PATH","queryStringParameters":{},"headers":{"host":"HOST",
        "x-forwarded-proto":"PROTO"},"body":"","isBase64Encoded":false}"#;

    fn alb(host: &str, proto: &str, path: &str) -> lambda_http::Request {
        convert(
            &ALB.replace("HOST", host)
                .replace("PROTO", proto)
                .replace("PATH", path),
        )
    }

    #[test]
    fn hosts_protocols_and_paths_that_break_urls_are_dropped() {
        assert_eq!(
            alb("example.com ", "https", "/products").uri().path(),
            "/products"
        );
        assert_eq!(alb("a b", "https", "/products").uri().path(), "/products");
        assert_eq!(alb("evil.com/x?", "https", "/products").uri().host(), None);
        assert_eq!(
            alb("example.com", "ht tp", "/products").uri().scheme_str(),
            Some("https")
        );
        assert_eq!(
            alb("example.com", "https", ":99999").uri().path(),
            UNROUTABLE
        );
        assert_eq!(
            alb("example.com:99999", "https", "/products").uri().host(),
            None
        );
    }

    /// `read_event` takes a shortcut to the payload 2.0 type; every sample event must still come out
    /// as the type `lambda_http`'s own trial order picks.
    #[test]
    fn reads_every_sample_event_as_lambda_http_does() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events/product-api");
        let mut kinds = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let event = std::fs::read_to_string(&path).unwrap();
            let theirs: LambdaRequest = serde_json::from_str(&event).unwrap();
            let ours = read_event(&event).unwrap();
            let kind = format!("{:?}", ours.request_origin());
            assert_eq!(kind, format!("{:?}", theirs.request_origin()), "{name}");
            let (ours, theirs) = (
                lambda_http::Request::from(ours),
                lambda_http::Request::from(theirs),
            );
            assert_eq!(ours.uri(), theirs.uri(), "{name}");
            assert_eq!(ours.headers(), theirs.headers(), "{name}");
            kinds.insert(kind);
        }
        assert!(kinds.len() >= 3, "{kinds:?}");
        assert!(read_event(r#"{"version":"2.0","rawPath":5}"#).is_err());
        assert!(read_event("[]").is_err());
    }

    #[test]
    fn fuzz_crashes_stay_fixed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/regressions");
        for entry in std::fs::read_dir(dir).unwrap() {
            let event = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let _ = convert(&event);
        }
    }

    #[test]
    fn ordinary_events_are_untouched() {
        let request = alb("api.example.com", "https", "/product/usb-c-cable-2m");
        assert_eq!(
            request.uri().to_string(),
            "https://api.example.com/product/usb-c-cable-2m"
        );
    }
}
