//! The local gateway end to end, over real HTTP on 127.0.0.1: every route with and without its
//! scopes, invalid tokens of every kind, the development issuer's endpoints, the Lambda
//! authorizer path, a "real" issuer found by discovery, hostile input, and the events the
//! handler receives compared field for field with the captured HTTP API events in `events/`.

mod http;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_scopes_api::EmbeddedCatalog;
use jwt_scopes_api::product_api::identity_from_context;
use jwt_scopes_api::token::Alg;
use lambda_http::RequestExt as _;
use local_gateway::{
    AuthorizerMode, DevIssuer, EventKind, Gateway, GatewayConfig, GatewayStore, MintRequest, serve,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const READ: &str = "read:products";
const WRITE: &str = "write:products";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A file of the Lambda package (the repository root), e.g. `events/...`.
fn load(path: &str) -> Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let text =
        std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

type Events = Arc<Mutex<Vec<(EventKind, Value)>>>;

struct Running {
    gateway: Arc<Gateway>,
    base: String,
    addr: String,
    events: Events,
    client: reqwest::Client,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{:?}: {e}", self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn start(mode: AuthorizerMode, env: &[(&str, String)]) -> Running {
    start_with(mode, env, GatewayStore::default()).await
}

async fn start_with(mode: AuthorizerMode, env: &[(&str, String)], store: GatewayStore) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let events: Events = Arc::default();
    let sink = events.clone();
    let mut config = GatewayConfig::new(mode);
    config.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    config.observer = Some(Arc::new(move |kind, event: &Value| {
        sink.lock().unwrap().push((kind, event.clone()));
    }));
    config.store = store;
    let gateway = Gateway::new(config, addr).unwrap();
    tokio::spawn(serve(listener, gateway.clone()));
    Running {
        gateway,
        base: format!("http://{addr}"),
        addr: addr.to_string(),
        events,
        client: reqwest::Client::new(),
    }
}

impl Running {
    fn dev(&self) -> &DevIssuer {
        self.gateway.dev_issuer().expect("development issuer")
    }

    /// A token from the development issuer with these scopes.
    fn token(&self, scope: &str) -> String {
        let request = MintRequest {
            scope: Some(scope.into()),
            ..MintRequest::default()
        };
        self.dev().mint(&request, now()).unwrap().access_token
    }

    /// A token from the development issuer, default claims patched with `patch` (null removes).
    fn token_with(&self, alg: Alg, patch: Value) -> String {
        let request = MintRequest {
            scope: Some(READ.into()),
            claims: patch.as_object().unwrap().clone(),
            ..MintRequest::default()
        };
        let claims = self.dev().claims(&request, now()).unwrap();
        self.dev().sign(alg, &claims).unwrap()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<(&str, &str)>,
    ) -> Reply {
        let request = http::request(&self.client, &self.base, method, path, authorization, body);
        self.send(request.header("accept", "application/json"))
            .await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.unwrap();
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        }
    }

    /// Sends the request a captured event stands for ([`replay_request`]) with this token.
    async fn replay(&self, sample: &Value, token: &str) -> Reply {
        let (method, path, body) = replay_request(sample);
        let body = body
            .as_ref()
            .map(|(content_type, body)| (content_type.as_str(), body.as_str()));
        self.call(&method, &path, Some(&format!("Bearer {token}")), body)
            .await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.call("GET", path, Some(&format!("Bearer {token}")), None)
            .await
    }

    fn take_events(&self) -> Vec<(EventKind, Value)> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }

    fn integration_events(&self) -> Vec<Value> {
        self.take_events()
            .into_iter()
            .filter(|(kind, _)| *kind == EventKind::Integration)
            .map(|(_, event)| event)
            .collect()
    }

    /// Sends raw bytes and reads until the server closes.
    async fn raw(&self, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(&self.addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn assert_gateway_message(reply: &Reply, status: u16, message: &str, context: &str) {
    assert_eq!(reply.status, status, "{context}: {}", reply.text);
    assert_eq!(reply.json(), json!({ "message": message }), "{context}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{context}"
    );
    assert!(reply.header("apigw-requestid").is_some(), "{context}");
}

fn invalid_token_challenge(reply: &Reply, description: &str, context: &str) {
    assert_gateway_message(reply, 401, "Unauthorized", context);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(r#"Bearer scope="" error="invalid_token" error_description=""#),
        "{context}: {challenge}"
    );
    assert!(challenge.contains(description), "{context}: {challenge}");
}

/// The sample's expected handler answer (`*.expected.json`) against ours.
fn assert_matches_expected(reply: &Reply, expected_path: &str) {
    let expected = load(expected_path);
    assert_eq!(
        u64::from(reply.status),
        expected["statusCode"].as_u64().unwrap(),
        "{expected_path}: {}",
        reply.text
    );
    for (name, value) in expected["headers"].as_object().unwrap() {
        assert_eq!(
            reply.header(name),
            value.as_str(),
            "{expected_path}: header {name}"
        );
    }
    match &expected["body"] {
        Value::Null => assert!(reply.text.is_empty(), "{expected_path}"),
        Value::String(text) => assert_eq!(&reply.text, text, "{expected_path}"),
        body => assert_eq!(&reply.json(), body, "{expected_path}"),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares the shape of our event with a captured one: the same keys in every object (except
/// the open-ended `headers` and `claims` maps, whose values must all be strings) and the same
/// JSON type for every value (`scopes` may be null or an array of strings in both).
fn compare_shape(sample: &Value, ours: &Value, at: &str, faults: &mut Vec<String>) {
    let open_map = at.ends_with(".headers") || at.ends_with(".claims");
    match (sample, ours) {
        (_, Value::Object(ours)) if open_map => {
            for (name, value) in ours {
                if !value.is_string() {
                    faults.push(format!("{at}.{name} is {}, not a string", kind(value)));
                }
                if at.ends_with(".headers") && *name != name.to_ascii_lowercase() {
                    faults.push(format!("{at}.{name} is not lower case"));
                }
            }
        }
        (Value::Object(sample), Value::Object(ours)) => {
            let expected: BTreeSet<&String> = sample.keys().collect();
            let got: BTreeSet<&String> = ours.keys().collect();
            if expected != got {
                faults.push(format!(
                    "{at}: keys {got:?}, captured event has {expected:?}"
                ));
            }
            for name in expected.intersection(&got) {
                compare_shape(
                    &sample[*name],
                    &ours[*name],
                    &format!("{at}.{name}"),
                    faults,
                );
            }
        }
        (Value::Array(sample), Value::Array(ours)) => {
            if let Some(first) = sample.first() {
                for (i, item) in ours.iter().enumerate() {
                    compare_shape(first, item, &format!("{at}[{i}]"), faults);
                }
            }
        }
        (Value::Null | Value::Array(_), Value::Null | Value::Array(_))
            if at.ends_with(".scopes") => {}
        (sample, ours) if kind(sample) != kind(ours) => faults.push(format!(
            "{at} is {} ({ours}), captured event has {} ({sample})",
            kind(ours),
            kind(sample)
        )),
        _ => {}
    }
}

fn assert_same_shape(sample: &Value, ours: &Value, context: &str) {
    let mut faults = Vec::new();
    compare_shape(sample, ours, "event", &mut faults);
    assert!(
        faults.is_empty(),
        "{context}:\n{}\nour event: {ours:#}",
        faults.join("\n")
    );
}

/// The request a captured event stands for, replayed over HTTP: method, path (re-encoded),
/// query, body and content type.
fn replay_request(sample: &Value) -> (String, String, Option<(String, String)>) {
    let method = sample["requestContext"]["http"]["method"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut path = sample["rawPath"].as_str().unwrap().replace(' ', "%20");
    let query = sample["rawQueryString"].as_str().unwrap_or_default();
    if !query.is_empty() {
        path = format!("{path}?{query}");
    }
    let body = sample["body"].as_str().map(|body| {
        let content_type = sample["headers"]["content-type"]
            .as_str()
            .unwrap_or("application/json");
        (content_type.to_owned(), body.to_owned())
    });
    (method, path, body)
}

#[tokio::test]
async fn every_route_with_and_without_its_scopes() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let read = gw.token(READ);
    let write = gw.token(WRITE);
    let other = gw.token("openid profile");
    let put_body = load("events/product-api/v2-jwt-put-product-read-only-catalog.json")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = Some(("application/json", put_body.as_str()));
    let cases = [
        ("GET", "/products", READ, &read, &write, None, 200),
        (
            "GET",
            "/product/usb-c-cable-2m",
            READ,
            &read,
            &write,
            None,
            200,
        ),
        (
            "PUT",
            "/product/usb-c-cable-2m",
            WRITE,
            &write,
            &read,
            body,
            200,
        ),
        (
            "DELETE",
            "/product/usb-c-cable-2m",
            WRITE,
            &write,
            &read,
            None,
            204,
        ),
    ];
    for (method, path, scope, granted, refused, body, status) in cases {
        let context = format!("{method} {path}");
        let ok = gw
            .call(method, path, Some(&format!("Bearer {granted}")), body)
            .await;
        assert_eq!(ok.status, status, "{context} with {scope}: {}", ok.text);
        assert!(ok.header("apigw-requestid").is_some());
        let events = gw.integration_events();
        assert_eq!(events.len(), 1, "{context}: the handler ran once");
        assert_eq!(
            events[0]["requestContext"]["authorizer"]["jwt"]["scopes"],
            json!([scope])
        );

        for (what, token) in [("other scope", &other), ("wrong scope", refused)] {
            let reply = gw
                .call(method, path, Some(&format!("Bearer {token}")), body)
                .await;
            assert_gateway_message(&reply, 403, "Forbidden", &format!("{context} {what}"));
            let challenge = reply.header("www-authenticate").unwrap_or_default();
            assert!(
                challenge.contains(r#"error="insufficient_scope""#)
                    && challenge.contains(&format!(r#"scope="{scope}""#)),
                "{challenge}"
            );
        }

        let missing = gw.call(method, path, None, body).await;
        assert_gateway_message(
            &missing,
            401,
            "Unauthorized",
            &format!("{context} no token"),
        );
        assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
        let empty = gw.call(method, path, Some("Bearer "), body).await;
        assert_gateway_message(&empty, 401, "Unauthorized", &format!("{context} empty"));
        assert!(
            gw.integration_events().is_empty(),
            "{context}: a refused request never reaches the handler"
        );
    }
    // Both scopes: any-of, as `AuthorizationScopes`.
    let both = gw.token("read:products write:products");
    assert_eq!(gw.get("/products", &both).await.status, 200);
}

#[tokio::test]
async fn invalid_tokens_are_refused_with_the_gateway_challenge() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let issuer = gw.dev().issuer().to_owned();
    let now = now() as i64;
    let foreign = DevIssuer::generate(issuer.clone()).unwrap();
    let forged = DevIssuer::generate_with_kid(issuer.clone(), gw.dev().kid()).unwrap();
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": issuer, "aud": "products-api", "exp": now + 600, "scope": READ}),
        &EncodingKey::from_secret(b"an-hmac-secret-of-at-least-32-bytes!").unwrap(),
    )
    .unwrap();
    let read_token = |issuer: &DevIssuer| {
        let request = MintRequest {
            scope: Some(READ.into()),
            ..MintRequest::default()
        };
        issuer.mint(&request, now as u64).unwrap().access_token
    };
    let (foreign_token, forged_token) = (read_token(&foreign), read_token(&forged));
    let cases = [
        (
            "expired",
            gw.token_with(Alg::RS256, json!({"exp": now - 3600, "iat": now - 7200})),
            "expired",
        ),
        (
            "expired by the mint endpoint's negative ttl",
            gw.dev()
                .mint(
                    &MintRequest {
                        ttl: Some(-120),
                        ..MintRequest::default()
                    },
                    now as u64,
                )
                .unwrap()
                .access_token,
            "expired",
        ),
        (
            "not yet valid",
            gw.token_with(Alg::RS256, json!({"nbf": now + 3600})),
            "not valid yet",
        ),
        (
            "issued in the future",
            gw.token_with(Alg::RS256, json!({"iat": now + 3600})),
            "not valid yet",
        ),
        (
            "no exp",
            gw.token_with(Alg::RS256, json!({"exp": null})),
            "exp",
        ),
        ("foreign key", foreign_token, "kid"),
        ("another key under our kid", forged_token, "signature"),
        (
            "wrong audience",
            gw.token_with(Alg::RS256, json!({"aud": "another-api"})),
            "the token does not have a valid audience",
        ),
        (
            "aud wins over a matching client_id",
            gw.token_with(
                Alg::RS256,
                json!({"aud": "another-api", "client_id": "products-api"}),
            ),
            "audience",
        ),
        (
            "no aud and a foreign client_id",
            gw.token_with(Alg::RS256, json!({"aud": null, "client_id": "x"})),
            "audience",
        ),
        (
            "wrong issuer",
            gw.token_with(Alg::RS256, json!({"iss": "https://evil.example/"})),
            "issuer",
        ),
        (
            "issuer with a trailing slash",
            gw.token_with(Alg::RS256, json!({"iss": format!("{issuer}/")})),
            "issuer",
        ),
        ("HS256", hs256, "signing method HS256 is invalid"),
        ("garbage", "not-a-jwt".to_owned(), "malformed"),
        (
            "tampered payload",
            {
                let token = gw.token(READ);
                let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
                parts[1] = gw.token(WRITE).split('.').nth(1).unwrap().to_owned();
                parts.join(".")
            },
            "signature",
        ),
        ("oversized", "a".repeat(20_000), "malformed"),
    ];
    for (what, token, description) in &cases {
        let reply = gw.get("/product/usb-c-cable-2m", token).await;
        invalid_token_challenge(&reply, description, what);
    }
    let basic = gw
        .call("GET", "/products", Some("Basic dXNlcjpwYXNzd29yZA=="), None)
        .await;
    invalid_token_challenge(&basic, "malformed", "Basic scheme");
    assert!(gw.integration_events().is_empty());

    // What the HTTP API accepts (header values as sent).
    let bearer = |token: String| format!("Bearer {token}");
    let accepted = [
        ("bare token", gw.token(READ)),
        ("lower-case scheme", format!("bearer {}", gw.token(READ))),
        ("PS256", bearer(gw.token_with(Alg::PS256, json!({})))),
        ("RS512", bearer(gw.token_with(Alg::RS512, json!({})))),
        (
            "client_id when there is no aud",
            bearer(gw.token_with(
                Alg::RS256,
                json!({"aud": null, "client_id": "products-api"}),
            )),
        ),
        (
            "aud array",
            bearer(gw.token_with(Alg::RS256, json!({"aud": ["other", "products-api"]}))),
        ),
        (
            "scp array instead of scope",
            bearer(gw.token_with(Alg::RS256, json!({"scope": null, "scp": [READ]}))),
        ),
        (
            "a malformed claim the gateway does not read",
            bearer(gw.token_with(Alg::RS256, json!({"permissions": 5}))),
        ),
    ];
    for (what, header) in &accepted {
        let reply = gw
            .call("GET", "/product/usb-c-cable-2m", Some(header), None)
            .await;
        assert_eq!(reply.status, 200, "{what}: {}", reply.text);
    }
    // The HTTP API reads `scope` and `scp` only: Auth0 `permissions` grant nothing at the gateway.
    let permissions = gw.token_with(
        Alg::RS256,
        json!({"scope": "openid", "permissions": [READ]}),
    );
    let reply = gw.get("/products", &permissions).await;
    assert_gateway_message(&reply, 403, "Forbidden", "permissions only");
}

#[tokio::test]
async fn the_handler_receives_the_event_api_gateway_sends() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let token = gw.token_with(
        Alg::RS256,
        json!({
            "scope": "read:products write:products",
            "groups": ["admin", "poweruser"],
            "email_verified": true,
            "realm_access": {"roles": ["offline_access"]},
            "nickname": null,
            "auth_time": 1718719144,
        }),
    );
    let claims: Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
    let reply = gw.get("/product/nvme-ssd-1tb", &token).await;
    assert_matches_expected(
        &reply,
        "events/product-api/v2-jwt-get-product.expected.json",
    );
    let events = gw.integration_events();
    let event = &events[0];
    let sample = load("events/product-api/v2-jwt-get-product.json");
    assert_same_shape(&sample, event, "v2-jwt-get-product");

    // Same values wherever the request is the same.
    for pointer in [
        "/version",
        "/routeKey",
        "/rawPath",
        "/rawQueryString",
        "/pathParameters",
        "/isBase64Encoded",
        "/headers/accept",
        "/headers/user-agent",
        "/requestContext/routeKey",
        "/requestContext/stage",
        "/requestContext/http/method",
        "/requestContext/http/path",
        "/requestContext/http/protocol",
        "/requestContext/http/userAgent",
        "/requestContext/authorizer/jwt/scopes",
    ] {
        assert_eq!(event.pointer(pointer), sample.pointer(pointer), "{pointer}");
    }
    let context = &event["requestContext"];
    assert_eq!(context["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(event["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(event["headers"]["authorization"], format!("Bearer {token}"));
    assert!(
        event["headers"]["x-amzn-trace-id"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-")
    );
    assert_eq!(
        reply.header("apigw-requestid"),
        context["requestId"].as_str()
    );
    let time = context["time"].as_str().unwrap();
    assert!(time.len() == 26 && time.ends_with(" +0000"), "{time}");
    let epoch = context["timeEpoch"].as_u64().unwrap();
    assert!(epoch.abs_diff(now() * 1000) < 60_000);

    // Claims stringified the AWS way.
    let jwt_claims = &context["authorizer"]["jwt"]["claims"];
    assert_eq!(jwt_claims["exp"], claims["exp"].to_string());
    assert_eq!(jwt_claims["iat"], claims["iat"].to_string());
    assert_eq!(jwt_claims["auth_time"], "1718719144");
    assert_eq!(jwt_claims["groups"], "[admin poweruser]");
    assert_eq!(jwt_claims["email_verified"], "true");
    assert_eq!(
        jwt_claims["realm_access"],
        r#"{"roles":["offline_access"]}"#
    );
    assert_eq!(jwt_claims["scope"], "read:products write:products");
    assert_eq!(jwt_claims["iss"], gw.dev().issuer());
    assert_eq!(jwt_claims["aud"], "products-api");
    assert!(
        jwt_claims.get("nickname").is_none(),
        "null claims are left out"
    );
    let names: BTreeSet<&String> = jwt_claims.as_object().unwrap().keys().collect();
    let signed: BTreeSet<&String> = claims
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(names, signed, "every non-null claim is passed");

    // And the handler reads it as it would in Lambda.
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let identity = identity_from_context(request.request_context_ref().unwrap()).unwrap();
    assert_eq!(identity.subject, Some("dev-user"));
    assert!(identity.scopes.contains(READ) && identity.scopes.contains(WRITE));
}

/// A product body for `PUT /product/{name}`.
fn product_body(name: &str, stock: u64) -> String {
    json!({
        "name": name, "displayName": "Test cable", "category": "cables", "priceCents": 990,
        "currency": "EUR", "stock": stock, "specifications": {"length": "1 m"}
    })
    .to_string()
}

#[tokio::test]
async fn writes_work_right_after_start_in_memory() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let (read, write) = (gw.token(READ), gw.token(WRITE));
    let (bearer_read, bearer_write) = (format!("Bearer {read}"), format!("Bearer {write}"));
    let path = "/product/test-cable-1m";
    let body = product_body("test-cable-1m", 5);

    let created = gw
        .call(
            "PUT",
            path,
            Some(&bearer_write),
            Some(("application/json", &body)),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("etag"), Some("\"1\""));
    let got = gw.get(path, &read).await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json(), serde_json::from_str::<Value>(&body).unwrap());
    assert_eq!(got.header("etag"), Some("\"1\""));
    let listed = gw.get("/products?limit=100", &read).await.json();
    let names: Vec<&str> = listed["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"test-cable-1m") && names.contains(&"usb-c-cable-2m"));

    let deleted = gw.call("DELETE", path, Some(&bearer_write), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(gw.get(path, &read).await.status, 404);
    let again = gw.call("DELETE", path, Some(&bearer_write), None).await;
    assert_eq!(again.status, 404, "{}", again.text);
    // Reading never writes, writing needs write:products.
    let refused = gw
        .call(
            "DELETE",
            "/product/usb-c-cable-2m",
            Some(&bearer_read),
            None,
        )
        .await;
    assert_gateway_message(&refused, 403, "Forbidden", "read scope cannot delete");
}

#[tokio::test]
async fn conditional_writes_in_memory_answer_412_on_a_stale_version() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let bearer = format!("Bearer {}", gw.token(WRITE));
    let url = format!("{}/product/usb-c-cable-2m", gw.base);
    let put = |if_match: &str, stock: u64| {
        gw.client
            .put(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .header("if-match", if_match)
            .body(product_body("usb-c-cable-2m", stock))
    };
    // The seeded catalog is at version 1.
    let replaced = gw.send(put("\"1\"", 7)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.header("etag"), Some("\"2\""));
    let stale = gw.send(put("\"1\"", 8)).await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let read = gw.get("/product/usb-c-cable-2m", &gw.token(READ)).await;
    assert_eq!(
        (read.json()["stock"].as_u64(), read.header("etag")),
        (Some(7), Some("\"2\""))
    );

    let create_only = gw
        .client
        .put(format!("{}/product/usb-c-cable-2m", gw.base))
        .header("authorization", &bearer)
        .header("content-type", "application/json")
        .header("if-none-match", "*")
        .body(product_body("usb-c-cable-2m", 9));
    assert_eq!(gw.send(create_only).await.status, 412);
    let delete_stale = gw
        .client
        .delete(&url)
        .header("authorization", &bearer)
        .header("if-match", "\"1\"");
    assert_eq!(gw.send(delete_stale).await.status, 412);
    let delete_current = gw
        .client
        .delete(&url)
        .header("authorization", &bearer)
        .header("if-match", "\"2\"");
    assert_eq!(gw.send(delete_current).await.status, 204);
}

#[tokio::test]
async fn captured_events_replayed_over_http_give_the_same_event_and_answer() {
    // The samples were captured from a deployment without a table: writes answer 501.
    let read_only = GatewayStore::Catalog(EmbeddedCatalog);
    let gw = start_with(AuthorizerMode::Jwt, &[], read_only).await;
    let token = gw.token("read:products write:products");
    for name in [
        "v2-jwt-get-product",
        "v2-jwt-bad-name-decoded-space",
        "v2-jwt-delete-product-read-only-catalog",
        "v2-jwt-put-product-read-only-catalog",
        "v2-jwt-scope-claim-list-products",
        "v2-jwt-unknown-product",
    ] {
        let sample = load(&format!("events/product-api/{name}.json"));
        let reply = gw.replay(&sample, &token).await;
        assert_matches_expected(&reply, &format!("events/product-api/{name}.expected.json"));
        let events = gw.integration_events();
        assert_eq!(events.len(), 1, "{name}");
        let event = &events[0];
        assert_same_shape(&sample, event, name);
        for pointer in [
            "/routeKey",
            "/rawPath",
            "/rawQueryString",
            "/pathParameters",
            "/body",
            "/isBase64Encoded",
            "/requestContext/routeKey",
            "/requestContext/http/method",
            "/requestContext/http/path",
            "/headers/content-type",
        ] {
            assert_eq!(
                event.pointer(pointer),
                sample.pointer(pointer),
                "{name} {pointer}"
            );
        }
    }
    // Where the deployed gateway answers before the handler, so does this one.
    for (name, status, message) in [
        ("v2-jwt-unknown-path", 404, "Not Found"),
        ("v2-jwt-post-method-not-allowed", 404, "Not Found"),
    ] {
        let sample = load(&format!("events/product-api/{name}.json"));
        let reply = gw.replay(&sample, &token).await;
        assert_gateway_message(&reply, status, message, name);
    }
    let lookalike = gw.token("read:products-archive READ:PRODUCTS");
    let reply = gw.get("/product/nvme-ssd-1tb", &lookalike).await;
    assert_gateway_message(&reply, 403, "Forbidden", "look-alike scopes");
    assert!(gw.integration_events().is_empty());
}

#[tokio::test]
async fn query_cookies_and_bodies_reach_the_event_like_api_gateway_passes_them() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let token = gw.token("read:products write:products");
    let mut request = gw
        .client
        .get(format!("{}/products?limit=5&q=a%20b&q=c+d", gw.base))
        .header("authorization", format!("Bearer {token}"))
        .header("cookie", "session=abc; theme=dark")
        .header("x-custom", "one")
        .header("X-Forwarded-For", "198.51.100.7");
    request = request.header("x-custom", "two");
    let reply = request.send().await.unwrap();
    assert!(reply.status().as_u16() < 500);
    let event = gw.integration_events().remove(0);
    assert_eq!(event["rawQueryString"], "limit=5&q=a%20b&q=c+d");
    assert_eq!(
        event["queryStringParameters"],
        json!({"limit": "5", "q": "a b,c d"})
    );
    assert_eq!(event["cookies"], json!(["session=abc", "theme=dark"]));
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(event["headers"]["x-custom"], "one,two");
    assert_eq!(
        event["headers"]["x-forwarded-for"],
        "198.51.100.7, 127.0.0.1"
    );

    // A JSON body as text, anything else base64.
    let put = "/product/usb-c-cable-2m";
    let product = r#"{"name":"usb-c-cable-2m"}"#;
    gw.call(
        "PUT",
        put,
        Some(&format!("Bearer {token}")),
        Some(("application/json", product)),
    )
    .await;
    let event = gw.integration_events().remove(0);
    assert_eq!(
        (&event["body"], &event["isBase64Encoded"]),
        (&json!(product), &json!(false))
    );
    let reply = gw
        .call(
            "PUT",
            put,
            Some(&format!("Bearer {token}")),
            Some(("application/octet-stream", "\u{1}\u{2}binary")),
        )
        .await;
    assert_eq!(reply.status, 415, "{}", reply.text);
    let event = gw.integration_events().remove(0);
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AQJiaW5hcnk=");

    // Paths are decoded once, as HTTP APIs do.
    let reply = gw.get("/product/nvme%2Dssd%2D1tb", &token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let event = gw.integration_events().remove(0);
    assert_eq!(event["rawPath"], "/product/nvme-ssd-1tb");
    assert_eq!(event["pathParameters"]["name"], "nvme-ssd-1tb");
}

#[tokio::test]
async fn unknown_routes_are_not_found() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let token = gw.token("read:products write:products");
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/orders"),
        ("GET", "/products/"),
        ("GET", "/product/a/b"),
        ("GET", "/product/a%2Fb"),
        ("POST", "/products"),
        ("PATCH", "/product/x"),
        ("get", "/products"),
        ("GET", "/PRODUCTS"),
        ("GET", "/_dev/nothing"),
    ] {
        for authorization in [None, Some(format!("Bearer {token}"))] {
            let reply = gw.call(method, path, authorization.as_deref(), None).await;
            assert_gateway_message(&reply, 404, "Not Found", &format!("{method} {path}"));
        }
    }
    assert!(gw.take_events().is_empty());
}

#[tokio::test]
async fn the_development_issuer_serves_keys_discovery_and_tokens() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let jwks = gw.call("GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks.status, 200);
    let keys = jwks.json()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["kid"], gw.dev().kid());
    assert!(keys[0].get("d").is_none(), "never the private key");
    let discovery = gw
        .call("GET", "/.well-known/openid-configuration", None, None)
        .await
        .json();
    assert_eq!(discovery["issuer"], gw.base);
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/.well-known/jwks.json", gw.base)
    );

    let minted = gw
        .call(
            "POST",
            "/_dev/token",
            None,
            Some((
                "application/json",
                r#"{"scope": "write:products", "ttl": 120, "sub": "alice", "claims": {"groups": ["a", "b"]}}"#,
            )),
        )
        .await;
    assert_eq!(minted.status, 200, "{}", minted.text);
    assert_eq!(minted.header("cache-control"), Some("no-store"));
    let minted = minted.json();
    assert_eq!(
        (
            &minted["token_type"],
            &minted["expires_in"],
            &minted["scope"]
        ),
        (&json!("Bearer"), &json!(120), &json!(WRITE))
    );
    let token = minted["access_token"].as_str().unwrap();
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap();
    assert_eq!(
        (&claims["sub"], &claims["iss"]),
        (&json!("alice"), &json!(gw.base))
    );
    assert_eq!(gw.get("/products", token).await.status, 403);
    let reply = gw.call("DELETE", "/product/x", Some(token), None).await;
    assert_eq!(reply.status, 404, "the handler's answer: {}", reply.text);
    let event = gw.integration_events().remove(0);
    assert_eq!(
        event["requestContext"]["authorizer"]["jwt"]["claims"]["groups"],
        "[a b]"
    );

    let from_query = gw
        .call(
            "GET",
            "/_dev/token?scope=read:products&alg=PS384&sub=bob",
            None,
            None,
        )
        .await
        .json();
    let token = from_query["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().alg,
        Algorithm::PS384
    );
    assert_eq!(gw.get("/products", token).await.status, 200);
    // `curl -d` sends JSON labelled as a form; a real form works too.
    for body in [
        r#"{"scope": "write:products"}"#,
        "scope=write:products&ttl=60",
    ] {
        let reply = gw
            .call(
                "POST",
                "/_dev/token",
                None,
                Some(("application/x-www-form-urlencoded", body)),
            )
            .await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.text);
        assert_eq!(reply.json()["scope"], WRITE, "{body}");
    }
    let default = gw.call("POST", "/_dev/token", None, None).await.json();
    assert_eq!(default["scope"], READ);
    gw.take_events();

    for bad in [
        "/_dev/token?ttl=soon",
        "/_dev/token?ttl=0",
        "/_dev/token?alg=HS256",
        "/_dev/token?alg=none",
        "/_dev/token?admin=1",
    ] {
        let reply = gw.call("GET", bad, None, None).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text);
        assert!(reply.json()["message"].is_string());
    }
    let reply = gw
        .call("POST", "/_dev/token", None, Some(("application/json", "{")))
        .await;
    assert_eq!(reply.status, 400);
    assert!(gw.take_events().is_empty(), "minting sends no event");
}

#[tokio::test]
async fn hostile_input_never_takes_the_gateway_down() {
    let gw = start(AuthorizerMode::Jwt, &[]).await;
    let token = gw.token(READ);
    let host = format!("Host: {}\r\n", gw.addr);
    let too_large = gw
        .raw(
            format!(
                "PUT /product/usb-c-cable-2m HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                10 * 1024 * 1024 + 1
            )
            .as_bytes(),
        )
        .await;
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    assert!(too_large.ends_with(r#"{"message":"Request Entity Too Large"}"#));
    let bad_host = gw
        .raw(
            format!(
                "GET /products HTTP/1.1\r\nHost: bad host\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await;
    assert!(bad_host.starts_with("HTTP/1.1 400"), "{bad_host}");
    let garbage = gw.raw(b"\x00\x01NOT HTTP\r\n\r\n").await;
    assert!(!garbage.starts_with("HTTP/1.1 2"), "{garbage}");
    // A body just under the limit is read and handed on.
    let big = "x".repeat(10 * 1024 * 1024 - 10);
    let reply = gw
        .call(
            "PUT",
            "/product/usb-c-cable-2m",
            Some(&format!("Bearer {}", gw.token(WRITE))),
            Some(("application/json", &big)),
        )
        .await;
    assert_eq!(reply.status, 413, "the handler's own limit: {}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    for path in [
        "/product/a%23b",
        "/product/a%3Fb",
        "/product/%FF%FE",
        "/product/%00",
        "/product/%",
        "/product/..%2F..%2Fetc",
        "/product/%E2%80%AE",
    ] {
        let reply = gw.get(path, &token).await;
        assert!(
            [400, 404, 500].contains(&reply.status),
            "{path}: {} {}",
            reply.status,
            reply.text
        );
    }
    let weird_headers = gw
        .client
        .get(format!("{}/products", gw.base))
        .header("authorization", format!("Bearer {token}"))
        .header("x-forwarded-proto", "not a scheme")
        .header(
            "x-bin",
            reqwest::header::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(weird_headers.status().as_u16(), 200);
    assert_eq!(
        gw.get("/products", &token).await.status,
        200,
        "still serving"
    );
}

#[tokio::test]
async fn the_lambda_authorizer_path_runs_the_projects_authorizer() {
    let gw = start(AuthorizerMode::Lambda, &[]).await;
    let read = gw.token(READ);
    let reply = gw.get("/product/gan-charger-65w", &read).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let events = gw.take_events();
    assert_eq!(
        events.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        [EventKind::AuthorizerRequest, EventKind::Integration]
    );
    let (request, integration) = (&events[0].1, &events[1].1);
    assert_same_shape(
        &load("events/authorizer/http-v2-allow.json"),
        request,
        "authorizer request",
    );
    assert_eq!(
        request["routeArn"],
        "arn:aws:execute-api:us-east-1:123456789012:localgw001/$default/GET/product/gan-charger-65w"
    );
    assert_eq!(request["identitySource"], json!([format!("Bearer {read}")]));
    assert_eq!(request["routeKey"], "GET /product/{name}");

    let sample = load("events/product-api/v2-lambda-authorizer-get-product.json");
    let lambda = &integration["requestContext"]["authorizer"]["lambda"];
    for (name, value) in sample["requestContext"]["authorizer"]["lambda"]
        .as_object()
        .unwrap()
    {
        assert_eq!(kind(&lambda[name]), kind(value), "context {name}");
    }
    assert_eq!(
        (&lambda["sub"], &lambda["scope"]),
        (&json!("dev-user"), &json!(READ))
    );
    let mut without_context = integration.clone();
    let mut sample_without = sample.clone();
    for event in [&mut without_context, &mut sample_without] {
        event["requestContext"]["authorizer"]["lambda"] = json!({});
    }
    assert_same_shape(&sample_without, &without_context, "integration event");

    // Refusals, as an HTTP API with simple responses gives them.
    let reply = gw.call("GET", "/products", None, None).await;
    assert_gateway_message(&reply, 401, "Unauthorized", "no identity source");
    assert!(gw.take_events().is_empty(), "the authorizer is not invoked");
    let expired = gw.token_with(Alg::RS256, json!({"exp": now() - 3600}));
    let foreign = DevIssuer::generate(gw.dev().issuer())
        .unwrap()
        .mint(&MintRequest::default(), now())
        .unwrap()
        .access_token;
    for (what, token) in [
        ("expired", &expired),
        ("foreign", &foreign),
        ("garbage", &"x".to_owned()),
    ] {
        let reply = gw.get("/products", token).await;
        assert_gateway_message(&reply, 403, "Forbidden", what);
    }
    let reply = gw
        .call(
            "DELETE",
            "/product/x",
            Some(&format!("Bearer {read}")),
            None,
        )
        .await;
    assert_gateway_message(&reply, 403, "Forbidden", "read token on DELETE");
    let write = gw.token(WRITE);
    let reply = gw
        .call(
            "DELETE",
            "/product/x",
            Some(&format!("Bearer {write}")),
            None,
        )
        .await;
    assert_eq!(reply.status, 404, "the handler's answer: {}", reply.text);
    let kinds: Vec<EventKind> = gw.take_events().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::Integration)
            .count(),
        1,
        "only the allowed request reached the handler"
    );

    // IAM policy responses: Deny is 403, the error Unauthorized is 401.
    let iam = start(AuthorizerMode::Lambda, &[("AUTH_RESPONSE", "iam".into())]).await;
    let read = iam.token(READ);
    assert_eq!(iam.get("/product/gan-charger-65w", &read).await.status, 200);
    let reply = iam
        .call("PUT", "/product/x", Some(&format!("Bearer {read}")), None)
        .await;
    assert_gateway_message(&reply, 403, "Forbidden", "iam deny");
    let expired = iam.token_with(Alg::RS256, json!({"exp": now() - 3600}));
    let reply = iam.get("/products", &expired).await;
    assert_gateway_message(&reply, 401, "Unauthorized", "iam unauthorized");
}

#[tokio::test]
async fn a_configured_issuer_is_found_by_discovery_and_its_tokens_validated() {
    // Gateway A plays the identity provider; B is configured with it as AUTH_ISSUER.
    let idp = start(AuthorizerMode::Jwt, &[]).await;
    let env = [
        ("AUTH_ISSUER", idp.base.clone()),
        ("AUTH_AUDIENCE", "products-api, other-api".to_owned()),
    ];
    for mode in [AuthorizerMode::Jwt, AuthorizerMode::Lambda] {
        let api = start(mode, &env).await;
        assert!(api.gateway.dev_issuer().is_none());
        assert_eq!(api.gateway.issuer(), idp.base);
        let token = idp.token(READ);
        let reply = api.get("/product/usb-c-cable-2m", &token).await;
        assert_eq!(reply.status, 200, "{mode}: {}", reply.text);
        let minted = api.call("POST", "/_dev/token", None, None).await;
        assert_gateway_message(&minted, 404, "Not Found", "no minting with a real issuer");
        let jwks = api.call("GET", "/.well-known/jwks.json", None, None).await;
        assert_eq!(jwks.status, 404);
    }
    let with_jwks_uri = start(
        AuthorizerMode::Jwt,
        &[
            ("AUTH_ISSUER", idp.base.clone()),
            ("AUTH_AUDIENCE", "products-api".to_owned()),
            (
                "AUTH_JWKS_URI",
                format!("{}/.well-known/jwks.json", idp.base),
            ),
        ],
    )
    .await;
    assert_eq!(
        with_jwks_uri
            .get("/products", &idp.token(READ))
            .await
            .status,
        200
    );
    let no_token = with_jwks_uri.call("GET", "/products", None, None).await;
    assert_gateway_message(&no_token, 401, "Unauthorized", "no token");
}

#[test]
fn configurations_the_gateway_refuses() {
    let addr = "0.0.0.0:3000".parse().unwrap();
    let error = Gateway::new(GatewayConfig::new(AuthorizerMode::Jwt), addr)
        .err()
        .unwrap();
    assert!(error.0.contains("loopback"), "{error}");
    let mut hmac = GatewayConfig::new(AuthorizerMode::Jwt);
    hmac.env = [
        ("AUTH_ISSUER", "internal"),
        ("AUTH_AUDIENCE", "products-api"),
        ("AUTH_HMAC_SECRET", "an-hmac-secret-of-at-least-32-bytes!"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let local = "127.0.0.1:3000".parse().unwrap();
    let error = Gateway::new(hmac.clone(), local).err().unwrap();
    assert!(error.0.contains("HMAC"), "{error}");
    hmac.authorizer = AuthorizerMode::Lambda;
    assert!(
        Gateway::new(hmac, local).is_ok(),
        "the Lambda authorizer can"
    );
    let mut missing = GatewayConfig::new(AuthorizerMode::Jwt);
    missing
        .env
        .insert("AUTH_ISSUER".into(), "https://a.example/".into());
    let error = Gateway::new(missing, local).err().unwrap();
    assert!(error.0.starts_with("AUTH_AUDIENCE"), "{error}");
}
