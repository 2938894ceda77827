//! CORS over real HTTP: preflights answered by the gateway alone, CORS headers on every answer to
//! an allowed origin (the authorizer's 401/403 and the gateway's 404 included), none for others.

use local_gateway::{AuthorizerMode, Cors, EventKind, Gateway, GatewayConfig, MintRequest, serve};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

const APP: &str = "http://localhost:5173";
const OTHER: &str = "https://evil.example";

struct Running {
    gateway: Arc<Gateway>,
    base: String,
    events: Arc<Mutex<Vec<EventKind>>>,
    client: reqwest::Client,
}

async fn start(mode: AuthorizerMode, origins: &str) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let events: Arc<Mutex<Vec<EventKind>>> = Arc::default();
    let sink = events.clone();
    let mut config = GatewayConfig::new(mode);
    config.cors = Cors::parse(origins).unwrap();
    config.observer = Some(Arc::new(move |kind, _: &Value| {
        sink.lock().unwrap().push(kind)
    }));
    let gateway = Gateway::new(config, addr).unwrap();
    tokio::spawn(serve(listener, gateway.clone()));
    Running {
        gateway,
        base: format!("http://{addr}"),
        events,
        client: reqwest::Client::new(),
    }
}

impl Running {
    fn token(&self, scope: &str) -> String {
        let request = MintRequest {
            scope: Some(scope.into()),
            ..MintRequest::default()
        };
        let now = jwt_scopes_api::env::now();
        let dev = self.gateway.dev_issuer().unwrap();
        dev.mint(&request, now).unwrap().access_token
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    fn events(&self) -> Vec<EventKind> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn cors_headers(response: &reqwest::Response) -> Vec<String> {
    let names = response.headers().keys();
    names
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn preflights_are_answered_by_the_gateway_without_authorizer_or_handler() {
    for mode in [AuthorizerMode::Jwt, AuthorizerMode::Lambda] {
        let gw = start(mode, APP).await;
        let preflight = [
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "authorization,content-type,if-match",
            ),
        ];
        for path in ["/product/usb-c-cable-2m", "/products", "/no/such/route"] {
            let response = gw.send("OPTIONS", path, &preflight).await;
            let context = format!("{mode} OPTIONS {path}");
            assert_eq!(response.status(), 204, "{context}");
            assert_eq!(header(&response, "access-control-allow-origin"), Some(APP));
            assert_eq!(
                header(&response, "access-control-allow-methods"),
                Some("GET,PUT,DELETE,OPTIONS")
            );
            assert_eq!(
                header(&response, "access-control-allow-headers"),
                Some("authorization,content-type,if-match,if-none-match")
            );
            assert_eq!(header(&response, "access-control-max-age"), Some("600"));
            assert_eq!(header(&response, "vary"), Some("origin"), "{context}");
            assert!(header(&response, "access-control-allow-credentials").is_none());
            assert!(header(&response, "apigw-requestid").is_some());
            assert_eq!(gw.events(), [], "{context}: nothing invoked");
        }
    }
}

#[tokio::test]
async fn refused_preflights_get_204_without_cors_headers() {
    let gw = start(AuthorizerMode::Jwt, APP).await;
    let cases: [&[(&str, &str)]; 3] = [
        &[("origin", OTHER), ("access-control-request-method", "GET")],
        &[("origin", APP), ("access-control-request-method", "POST")],
        &[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization,x-api-key"),
        ],
    ];
    for headers in cases {
        let response = gw.send("OPTIONS", "/products", headers).await;
        assert_eq!(response.status(), 204, "{headers:?}");
        assert_eq!(cors_headers(&response), Vec::<String>::new(), "{headers:?}");
    }
    assert_eq!(gw.events(), []);
}

#[tokio::test]
async fn every_answer_to_an_allowed_origin_carries_the_origin() {
    let gw = start(AuthorizerMode::Jwt, APP).await;
    let read = format!("Bearer {}", gw.token("read:products"));
    let cases: [(&str, &str, Option<&str>, u16); 5] = [
        ("GET", "/products", Some(&read), 200),
        ("GET", "/products", None, 401),
        ("DELETE", "/product/usb-c-cable-2m", Some(&read), 403),
        ("GET", "/no/such/route", Some(&read), 404),
        ("GET", "/product/no-such-product", Some(&read), 404),
    ];
    for (method, path, authorization, status) in cases {
        let context = format!("{method} {path}");
        let mut headers = vec![("origin", APP)];
        if let Some(value) = authorization {
            headers.push(("authorization", value));
        }
        let response = gw.send(method, path, &headers).await;
        assert_eq!(response.status(), status, "{context}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(APP),
            "{context}"
        );
        assert_eq!(
            header(&response, "access-control-expose-headers"),
            Some("etag,www-authenticate"),
            "{context}"
        );
        let vary: Vec<&str> = response
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(vary.contains(&"origin"), "{context}: {vary:?}");
        if status == 401 || status == 403 {
            assert!(header(&response, "www-authenticate").is_some(), "{context}");
        }
        // The same request from an origin not allowed, and from no browser: no CORS header.
        let mut others = headers.clone();
        others[0] = ("origin", OTHER);
        for headers in [&others[..], &headers[1..]] {
            let response = gw.send(method, path, headers).await;
            assert_eq!(response.status(), status, "{context}");
            assert_eq!(cors_headers(&response), Vec::<String>::new(), "{context}");
        }
    }
}

#[tokio::test]
async fn without_a_configuration_there_is_no_cors_at_all() {
    let gw = start(AuthorizerMode::Jwt, "").await;
    let preflight = [("origin", APP), ("access-control-request-method", "GET")];
    let response = gw.send("OPTIONS", "/products", &preflight).await;
    assert_eq!(response.status(), 404, "no OPTIONS route, no CORS: 404");
    let response = gw.send("GET", "/products", &[("origin", APP)]).await;
    assert_eq!(response.status(), 401);
    assert_eq!(cors_headers(&response), Vec::<String>::new());
}

#[tokio::test]
async fn star_answers_star_but_the_dev_issuer_answers_only_pages_of_this_machine() {
    let gw = start(AuthorizerMode::Jwt, "*").await;
    let response = gw.send("GET", "/products", &[("origin", OTHER)]).await;
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    assert!(header(&response, "vary").is_none());
    let mint = "/_dev/token?scope=read:products";
    let response = gw.send("GET", mint, &[("origin", OTHER)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        cors_headers(&response),
        Vec::<String>::new(),
        "a web site cannot read tokens"
    );
    let response = gw.send("GET", mint, &[("origin", APP)]).await;
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
}

#[test]
fn the_command_line_default_allows_local_pages() {
    let dev = Cors::dev_default();
    assert!(dev.allow_origin("http://localhost:5173").is_some());
    assert!(dev.allow_origin("http://127.0.0.1:8080").is_some());
    assert!(dev.allow_origin("https://example.com").is_none());
}
