//! Makes a raw HTTP event safe for `lambda_http` to turn into a request.
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

/// The path given to a request whose path cannot be part of a URL: it matches no route.
const UNROUTABLE: &str = "/.invalid-path";

/// Drops what `lambda_http` could not build a URL from.
pub fn sanitize(request: &mut LambdaRequest) {
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
        let mut request: LambdaRequest = serde_json::from_str(event).unwrap();
        sanitize(&mut request);
        request.into()
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
