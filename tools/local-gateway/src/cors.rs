//! CORS as the deployed HTTP API does it (`CorsConfiguration` of `JwtApi` in `template.yaml`).
//!
//! The lists below are the one copy of that configuration in Rust: `template.yaml` writes the same
//! values, and `tests/cors_template.rs` fails when the two differ. Only the allowed origins vary
//! per deployment (the `CorsAllowOrigin` parameter, here `--cors-allow-origin`), in the same
//! comma-separated form.
//!
//! What API Gateway does once CORS is configured, and so what the gateway does:
//! - it answers a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) itself,
//!   **204**, for any path, without calling the authorizer or the integration; the CORS headers
//!   are there only when the origin, the method and every requested header are allowed;
//! - to every other request with an allowed `Origin` it adds `Access-Control-Allow-Origin` (the
//!   origin itself, with `Vary: Origin`; `*` when `*` is configured) and
//!   `Access-Control-Expose-Headers`, whoever answered: the integration, the authorizer's
//!   401/403 or the gateway's own 404;
//! - it drops any `Access-Control-*` header the integration sent;
//! - a request from an origin that is not allowed gets no CORS header at all; credentials are
//!   never allowed (`AllowCredentials` is not set).

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::fmt;

/// `AllowHeaders`: request headers a browser app may send.
pub const ALLOW_HEADERS: &[&str] = &["authorization", "content-type", "if-match", "if-none-match"];
/// `AllowMethods`.
pub const ALLOW_METHODS: &[&str] = &["GET", "PUT", "DELETE", "OPTIONS"];
/// `ExposeHeaders`: response headers a browser app may read besides the safelisted ones.
pub const EXPOSE_HEADERS: &[&str] = &["etag", "www-authenticate"];
/// `MaxAge`: seconds a browser may cache a preflight answer.
pub const MAX_AGE_SECS: u32 = 600;
/// The template's parameter that lists the allowed origins.
pub const ORIGINS_PARAMETER: &str = "CorsAllowOrigin";
/// The gateway's own default: pages served from any port of this machine (`cargo local` only;
/// API Gateway has no port wildcard).
pub const DEV_ALLOW_ORIGINS: &str = "http://localhost:*,http://127.0.0.1:*";

/// One entry of `AllowOrigins`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum AllowedOrigin {
    /// `*`: every origin, answered with `*`.
    Any,
    /// `https://*` or `http://*`: every origin of that scheme (the `scheme://` kept).
    Scheme(String),
    /// `scheme://host[:port]`, compared without regard to case.
    Exact(String),
    /// `scheme://host:*` (local only): that host on any port, or on none.
    AnyPort(String),
}

impl AllowedOrigin {
    fn parse(entry: &str) -> Result<AllowedOrigin, String> {
        let lower = entry.to_ascii_lowercase();
        if lower == "*" {
            return Ok(AllowedOrigin::Any);
        }
        let Some((scheme, rest)) = lower.split_once("://") else {
            return Err(format!(
                "{entry:?} is not an origin (scheme://host[:port], *, https://* or http://*)"
            ));
        };
        if scheme != "http" && scheme != "https" {
            return Err(format!("{entry:?}: only http and https origins"));
        }
        if rest == "*" {
            return Ok(AllowedOrigin::Scheme(format!("{scheme}://")));
        }
        if let Some(host) = rest.strip_suffix(":*")
            && valid_authority(host)
        {
            return Ok(AllowedOrigin::AnyPort(format!("{scheme}://{host}")));
        }
        if !valid_authority(rest) {
            return Err(format!(
                "{entry:?} is not an origin: scheme://host[:port], no path, no wildcard but a whole origin (*), a whole scheme (https://*) or, locally, a port (http://localhost:*)"
            ));
        }
        Ok(AllowedOrigin::Exact(lower))
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if this entry allows it.
    fn allows<'o>(&self, origin: &'o str) -> Option<&'o str> {
        let lower = origin.to_ascii_lowercase();
        let allowed = match self {
            AllowedOrigin::Any => return Some("*"),
            AllowedOrigin::Scheme(prefix) => {
                lower.starts_with(prefix.as_str()) && valid_authority(&lower[prefix.len()..])
            }
            AllowedOrigin::Exact(exact) => lower == *exact,
            AllowedOrigin::AnyPort(base) => match lower.strip_prefix(base.as_str()) {
                Some("") => true,
                Some(rest) => rest.strip_prefix(':').is_some_and(|port| {
                    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                }),
                None => false,
            },
        };
        allowed.then_some(origin)
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedOrigin::Any => f.write_str("*"),
            AllowedOrigin::Scheme(prefix) => write!(f, "{prefix}*"),
            AllowedOrigin::Exact(origin) => f.write_str(origin),
            AllowedOrigin::AnyPort(base) => write!(f, "{base}:*"),
        }
    }
}

/// `host[:port]` with nothing else: no path, query, user info or wildcard.
fn valid_authority(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(['/', '?', '#', '@', '*', ' ', ','])
        && hyper::http::uri::Authority::try_from(text).is_ok()
}

/// The CORS configuration of a gateway: the allowed origins, and the template's fixed lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cors {
    origins: Vec<AllowedOrigin>,
}

impl Cors {
    /// Reads a comma-separated origin list, as the `CorsAllowOrigin` parameter takes it.
    /// Blank or `none`: no CORS configuration (`Ok(None)`), as the template's empty default.
    pub fn parse(list: &str) -> Result<Option<Cors>, String> {
        let list = list.trim();
        if list.is_empty() || list.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        let origins = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(AllowedOrigin::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!origins.is_empty()).then_some(Cors { origins }))
    }

    /// The development default ([`DEV_ALLOW_ORIGINS`]).
    pub fn dev_default() -> Cors {
        Cors::parse(DEV_ALLOW_ORIGINS)
            .ok()
            .flatten()
            .expect("the development origins parse")
    }

    /// Whether an entry is a port wildcard, which API Gateway would not take.
    pub fn has_local_only_entries(&self) -> bool {
        self.origins
            .iter()
            .any(|o| matches!(o, AllowedOrigin::AnyPort(_)))
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or `None` when that
    /// origin is not allowed.
    pub fn allow_origin<'o>(&self, origin: &'o str) -> Option<&'o str> {
        self.origins.iter().find_map(|entry| entry.allows(origin))
    }

    /// Whether a request is a preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`.
    pub fn is_preflight(method: &str, headers: &HeaderMap) -> bool {
        method == "OPTIONS"
            && headers.contains_key(header::ORIGIN)
            && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// The headers of the 204 answer to a preflight: the CORS headers when the origin, the
    /// requested method and every requested header are allowed, none otherwise (the browser
    /// then refuses the call). `Err` names what was refused, for the log.
    pub fn preflight(&self, headers: &HeaderMap) -> Result<HeaderMap, &'static str> {
        let text = |name: HeaderName| {
            let values: Vec<&str> = headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            values.join(",")
        };
        let origin = text(header::ORIGIN);
        let Some(allow_origin) = self.allow_origin(&origin) else {
            return Err("origin not allowed");
        };
        let method = text(header::ACCESS_CONTROL_REQUEST_METHOD);
        if !ALLOW_METHODS
            .iter()
            .any(|m| *m == "*" || m.eq_ignore_ascii_case(method.trim()))
        {
            return Err("method not allowed");
        }
        let requested = text(header::ACCESS_CONTROL_REQUEST_HEADERS);
        let header_allowed = |name: &str| {
            ALLOW_HEADERS
                .iter()
                .any(|h| *h == "*" || h.eq_ignore_ascii_case(name))
        };
        if !requested
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .all(header_allowed)
        {
            return Err("header not allowed");
        }
        let mut out = HeaderMap::new();
        insert(&mut out, header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        insert(
            &mut out,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            &ALLOW_METHODS.join(","),
        );
        insert(
            &mut out,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            &ALLOW_HEADERS.join(","),
        );
        insert(
            &mut out,
            header::ACCESS_CONTROL_MAX_AGE,
            &MAX_AGE_SECS.to_string(),
        );
        if allow_origin != "*" {
            out.append(header::VARY, HeaderValue::from_static("origin"));
        }
        Ok(out)
    }

    /// Makes an answer's headers what API Gateway sends to a request from `origin`: the
    /// integration's own `Access-Control-*` headers dropped, then `Access-Control-Allow-Origin`,
    /// `Vary: Origin` and `Access-Control-Expose-Headers` when the origin is allowed.
    pub fn apply(&self, origin: Option<&str>, headers: &mut HeaderMap) {
        let ours: Vec<HeaderName> = headers
            .keys()
            .filter(|name| name.as_str().starts_with("access-control-"))
            .cloned()
            .collect();
        for name in ours {
            headers.remove(name);
        }
        let Some(allow_origin) = origin.and_then(|origin| self.allow_origin(origin)) else {
            return;
        };
        insert(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        insert(
            headers,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            &EXPOSE_HEADERS.join(","),
        );
        if allow_origin != "*" {
            headers.append(header::VARY, HeaderValue::from_static("origin"));
        }
    }
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

impl fmt::Display for Cors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.origins.iter().map(ToString::to_string).collect();
        f.write_str(&entries.join(","))
    }
}

/// Whether `origin` is a page of this machine (`http://localhost`, `127.0.0.0/8`, `[::1]`, any
/// port): the only origins that get CORS headers on the development issuer's endpoints, so that
/// a wide `--cors-allow-origin` never lets a web site mint tokens.
pub fn is_loopback_origin(origin: &str) -> bool {
    let lower = origin.to_ascii_lowercase();
    let Some(authority) = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
    else {
        return false;
    };
    let Ok(authority) = hyper::http::uri::Authority::try_from(authority) else {
        return false;
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(list: &str) -> Cors {
        Cors::parse(list).unwrap().unwrap()
    }

    fn request(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
        headers.get(name).map(|v| v.to_str().unwrap())
    }

    #[test]
    fn blank_or_none_is_no_configuration() {
        for list in ["", "  ", "none", "NONE", ",,"] {
            assert_eq!(Cors::parse(list), Ok(None), "{list:?}");
        }
    }

    #[test]
    fn origins_match_as_api_gateway_matches_them() {
        let table: &[(&str, &str, Option<&str>)] = &[
            (
                "https://app.example.com",
                "https://app.example.com",
                Some("https://app.example.com"),
            ),
            (
                "https://app.example.com",
                "HTTPS://APP.example.com",
                Some("HTTPS://APP.example.com"),
            ),
            ("https://app.example.com", "http://app.example.com", None),
            (
                "https://app.example.com",
                "https://app.example.com:8443",
                None,
            ),
            ("https://app.example.com", "https://evil.example.com", None),
            (
                "https://app.example.com",
                "https://app.example.com.evil.test",
                None,
            ),
            (
                "https://app.example.com,http://localhost:5173",
                "http://localhost:5173",
                Some("http://localhost:5173"),
            ),
            ("*", "https://anything.test", Some("*")),
            ("*", "null", Some("*")),
            (
                "https://*",
                "https://anything.test:9",
                Some("https://anything.test:9"),
            ),
            ("https://*", "http://anything.test", None),
            ("https://*", "null", None),
            (
                "http://localhost:*",
                "http://localhost:5173",
                Some("http://localhost:5173"),
            ),
            (
                "http://localhost:*",
                "http://localhost",
                Some("http://localhost"),
            ),
            ("http://localhost:*", "http://localhost:", None),
            ("http://localhost:*", "http://localhost:51x", None),
            ("http://localhost:*", "http://localhost.evil.test:80", None),
            ("http://localhost:*", "https://localhost:5173", None),
            ("http://localhost:*", "null", None),
        ];
        for (list, origin, expected) in table {
            assert_eq!(
                cors(list).allow_origin(origin),
                *expected,
                "{list} / {origin}"
            );
        }
    }

    #[test]
    fn malformed_entries_are_refused() {
        for list in [
            "app.example.com",
            "ftp://files.example.com",
            "https://*.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://app.example.com,https://x y",
        ] {
            assert!(Cors::parse(list).is_err(), "{list:?} should be refused");
        }
    }

    #[test]
    fn the_development_default_is_every_local_port_and_says_so() {
        let dev = Cors::dev_default();
        assert_eq!(dev.to_string(), DEV_ALLOW_ORIGINS);
        assert!(dev.has_local_only_entries());
        assert!(dev.allow_origin("http://127.0.0.1:8080").is_some());
        assert!(dev.allow_origin("http://localhost:5173").is_some());
        assert!(dev.allow_origin("https://example.com").is_none());
        assert!(!cors("https://app.example.com").has_local_only_entries());
    }

    #[test]
    fn an_allowed_preflight_gets_the_configured_lists() {
        let headers = request(&[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "Authorization, content-type,if-match",
            ),
        ]);
        assert!(Cors::is_preflight("OPTIONS", &headers));
        let out = cors("http://localhost:*").preflight(&headers).unwrap();
        assert_eq!(
            value(&out, "access-control-allow-origin"),
            Some("http://localhost:5173")
        );
        assert_eq!(
            value(&out, "access-control-allow-methods"),
            Some("GET,PUT,DELETE,OPTIONS")
        );
        assert_eq!(
            value(&out, "access-control-allow-headers"),
            Some("authorization,content-type,if-match,if-none-match")
        );
        assert_eq!(value(&out, "access-control-max-age"), Some("600"));
        assert_eq!(value(&out, "vary"), Some("origin"));
        assert!(out.get("access-control-allow-credentials").is_none());
    }

    #[test]
    fn a_refused_preflight_gets_no_cors_header() {
        let config = cors("https://app.example.com");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    ("origin", "https://evil.test"),
                    ("access-control-request-method", "GET"),
                ],
                "origin not allowed",
            ),
            (
                &[
                    ("origin", "https://app.example.com"),
                    ("access-control-request-method", "POST"),
                ],
                "method not allowed",
            ),
            (
                &[
                    ("origin", "https://app.example.com"),
                    ("access-control-request-method", "GET"),
                    ("access-control-request-headers", "authorization,x-api-key"),
                ],
                "header not allowed",
            ),
        ];
        for (pairs, why) in cases {
            assert_eq!(config.preflight(&request(pairs)), Err(*why));
        }
    }

    #[test]
    fn only_options_with_origin_and_requested_method_is_a_preflight() {
        let full = request(&[
            ("origin", "https://a.test"),
            ("access-control-request-method", "GET"),
        ]);
        assert!(Cors::is_preflight("OPTIONS", &full));
        assert!(!Cors::is_preflight("GET", &full));
        assert!(!Cors::is_preflight(
            "OPTIONS",
            &request(&[("origin", "https://a.test")])
        ));
        assert!(!Cors::is_preflight(
            "OPTIONS",
            &request(&[("access-control-request-method", "GET")])
        ));
    }

    #[test]
    fn answers_to_allowed_origins_carry_origin_vary_and_exposed_headers() {
        let mut headers = request(&[
            ("content-type", "application/problem+json"),
            ("vary", "accept"),
            ("access-control-allow-origin", "*"),
            ("access-control-allow-credentials", "true"),
        ]);
        cors("https://app.example.com").apply(Some("https://app.example.com"), &mut headers);
        assert_eq!(
            value(&headers, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            value(&headers, "access-control-expose-headers"),
            Some("etag,www-authenticate")
        );
        assert!(headers.get("access-control-allow-credentials").is_none());
        let vary: Vec<&str> = headers
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(vary, ["accept", "origin"]);
        assert_eq!(
            value(&headers, "content-type"),
            Some("application/problem+json")
        );
    }

    #[test]
    fn answers_to_other_origins_carry_no_cors_header() {
        for origin in [Some("https://evil.test"), None] {
            let mut headers = request(&[("access-control-allow-origin", "*"), ("etag", "\"1\"")]);
            cors("https://app.example.com").apply(origin, &mut headers);
            assert!(
                headers
                    .keys()
                    .all(|name| !name.as_str().starts_with("access-control-")),
                "{origin:?}: {headers:?}"
            );
            assert!(headers.get("vary").is_none());
            assert_eq!(value(&headers, "etag"), Some("\"1\""));
        }
    }

    #[test]
    fn a_star_configuration_answers_star_without_vary() {
        let mut headers = HeaderMap::new();
        cors("*").apply(Some("https://anyone.test"), &mut headers);
        assert_eq!(value(&headers, "access-control-allow-origin"), Some("*"));
        assert!(headers.get("vary").is_none());
    }

    #[test]
    fn loopback_origins_are_pages_of_this_machine() {
        for origin in [
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:3000",
            "https://LOCALHOST",
        ] {
            assert!(is_loopback_origin(origin), "{origin}");
        }
        for origin in [
            "https://example.com",
            "http://localhost.evil.test",
            "null",
            "http://10.0.0.1",
            "file://",
        ] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }
}
