//! What operators see: the EMF lines both handlers print (names, dimensions, values) for an
//! allow, a deny, every refusal reason and product-api's answers; the reason code in the log line
//! matching the metric's; and no token, whole or in part, in any log line or metric line.

mod support;

use jsonwebtoken::{Algorithm, Header};
use jwt_scopes_api::authorizer::Outcome;
use jwt_scopes_api::metrics::{Invocation, Metrics};
use jwt_scopes_api::product_api;
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::{AuthConfig, Authorizer, EmbeddedCatalog, ProductApi};
use lambda_http::RequestExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use support::{Reply, TestKey, TestServer, claims, jwks, now, token_event};

/// A shared buffer that metrics and the log subscriber write to.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// Everything written so far, one entry per line, and empties the buffer.
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Logs at every level, spans included, into `lines` for the rest of the test (this thread).
fn capture_logs(lines: &Lines) -> tracing::subscriber::DefaultGuard {
    let lines = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || lines.clone())
        .finish();
    tracing::subscriber::set_default(subscriber)
}

fn emf(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// `(metric name, dimension sets)` of each directive of an EMF line.
fn directives(line: &Value) -> Vec<(Vec<String>, Value)> {
    line["_aws"]["CloudWatchMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["Namespace"], "Test");
            let names = d["Metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["Name"].as_str().unwrap().to_owned())
                .collect();
            (names, d["Dimensions"].clone())
        })
        .collect()
}

fn config(vars: &[(&str, String)]) -> AuthConfig {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    AuthConfig::from_lookup(|name| vars.get(name).cloned()).unwrap()
}

/// What of a token must never be written: the whole token, its claims segment and its signature
/// (the header, `{"alg":...}`, is no secret). Segments too short to recognize are skipped.
fn token_parts(token: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = token.split('.').skip(1).filter(|p| p.len() >= 16).collect();
    parts.push(token);
    parts.retain(|p| !p.is_empty());
    parts
}

fn assert_no_token(lines: &[String], tokens: &[String]) {
    for line in lines {
        for token in tokens {
            for part in token_parts(token) {
                assert!(!line.contains(part), "a token part in {line}");
            }
        }
    }
}

#[tokio::test]
async fn every_decision_is_one_emf_line_with_its_outcome_reason_and_route() {
    let logs = Lines::default();
    let _guard = capture_logs(&logs);
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "k1");
    let impostor = TestKey::generate(Algorithm::RS256, "k1");
    let stranger = TestKey::generate(Algorithm::RS256, "k2");
    server.set("/jwks", Reply::Json(jwks(&[&key])));
    server.set("/broken", Reply::Status(500));
    let iss = server.url("/");
    let metrics_out = Lines::default();
    let metrics = Metrics::to("Test", metrics_out.clone());
    let base = |jwks_path: &str| {
        vec![
            ("AUTH_ISSUER", iss.clone()),
            ("AUTH_AUDIENCE", "products-api".to_string()),
            ("AUTH_JWKS_URI", server.url(jwks_path)),
            ("AUTH_JWKS_TIMEOUT_MS", "400".to_string()),
            ("AUTH_TOKEN_USE", "access".to_string()),
        ]
    };
    let authorizer = Authorizer::with_metrics(config(&base("/jwks")), metrics.clone());
    let broken = Authorizer::with_metrics(config(&base("/broken")), metrics.clone());
    let two_issuers = json!({"issuers": [
        {"issuer": iss, "audiences": ["products-api"], "jwksUri": server.url("/jwks")},
        {"issuer": "https://other.example", "audiences": ["products-api"], "jwksUri": server.url("/jwks")},
    ]});
    let multi = Authorizer::with_metrics(
        config(&[("AUTH_CONFIG", two_issuers.to_string())]),
        metrics.clone(),
    );

    let at = now();
    let token = |key: &TestKey, extra: Value| {
        let mut extra = extra;
        if extra.get("token_use").is_none() {
            extra["token_use"] = json!("access");
        }
        key.sign(&claims(&iss, extra))
    };
    let read = json!({"scope": "read:products"});
    let hs256 = TestKey::hmac(Algorithm::HS256, "an-hmac-secret-of-at-least-32-bytes!");
    let mut kid_k1 = Header::new(Algorithm::RS256);
    kid_k1.kid = Some("k1".into());
    let cases: Vec<(&Authorizer, String, &str, Outcome, Reason)> = vec![
        (
            &authorizer,
            token(&key, read.clone()),
            "/products",
            Outcome::Allow,
            Reason::Granted,
        ),
        (
            &authorizer,
            token(&key, json!({})),
            "/products",
            Outcome::Deny,
            Reason::InsufficientScope,
        ),
        (
            &authorizer,
            token(&key, read.clone()),
            "/nowhere",
            Outcome::Deny,
            Reason::RouteNotFound,
        ),
        (
            &authorizer,
            String::new(),
            "/products",
            Outcome::Unauthorized,
            Reason::MissingToken,
        ),
        (
            &authorizer,
            "not-a-jwt-at-all-but-long-enough".into(),
            "/products",
            Outcome::Unauthorized,
            Reason::Malformed,
        ),
        (
            &authorizer,
            hs256.sign(&claims(&iss, read.clone())),
            "/products",
            Outcome::Unauthorized,
            Reason::AlgorithmNotAllowed,
        ),
        (
            &authorizer,
            token(&stranger, read.clone()),
            "/products",
            Outcome::Unauthorized,
            Reason::UnknownKey,
        ),
        (
            &authorizer,
            impostor.sign_with(&kid_k1, &claims(&iss, json!({"token_use": "access"}))),
            "/products",
            Outcome::Unauthorized,
            Reason::BadSignature,
        ),
        (
            &authorizer,
            token(&key, json!({"exp": "soon"})),
            "/products",
            Outcome::Unauthorized,
            Reason::MalformedClaims,
        ),
        (
            &authorizer,
            token(&key, json!({"exp": null})),
            "/products",
            Outcome::Unauthorized,
            Reason::MissingExpiry,
        ),
        (
            &authorizer,
            token(&key, json!({"iat": at - 1200, "exp": at - 600})),
            "/products",
            Outcome::Unauthorized,
            Reason::Expired,
        ),
        (
            &authorizer,
            token(&key, json!({"nbf": at + 3600})),
            "/products",
            Outcome::Unauthorized,
            Reason::NotYetValid,
        ),
        (
            &authorizer,
            token(&key, json!({"aud": "another-api"})),
            "/products",
            Outcome::Unauthorized,
            Reason::WrongAudience,
        ),
        (
            &authorizer,
            token(&key, json!({"iss": "https://impostor.example"})),
            "/products",
            Outcome::Unauthorized,
            Reason::WrongIssuer,
        ),
        (
            &authorizer,
            token(&key, json!({"token_use": "id"})),
            "/products",
            Outcome::Unauthorized,
            Reason::WrongTokenType,
        ),
        (
            &authorizer,
            token(&key, json!({"scope": {"read:products": true}})),
            "/products",
            Outcome::Unauthorized,
            Reason::MalformedScope,
        ),
        (
            &multi,
            token(&key, json!({"iss": "https://nobody.example"})),
            "/products",
            Outcome::Unauthorized,
            Reason::UnknownIssuer,
        ),
        (
            &broken,
            token(&key, read.clone()),
            "/products",
            Outcome::Unauthorized,
            Reason::KeysUnavailable,
        ),
    ];
    let tokens: Vec<String> = cases.iter().map(|c| c.1.clone()).collect();
    for (authorizer, token, path, outcome, reason) in cases {
        let event = token_event(&token, "GET", path);
        let invocation = Invocation {
            request_id: Some("req-1"),
            trace_id: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
        };
        let decision = authorizer.decide_json(&event, now(), invocation).await;
        assert_eq!((decision.outcome, decision.reason), (outcome, reason));
        let lines = metrics_out.take();
        let decisions: Vec<Value> = lines
            .iter()
            .map(|l| emf(l))
            .filter(|l| l.get("Decisions").is_some())
            .collect();
        assert_eq!(decisions.len(), 1, "{reason}: {lines:?}");
        let line = &decisions[0];
        assert_eq!(
            directives(line),
            [(
                vec!["Decisions".to_owned()],
                json!([["Outcome"], ["Outcome", "Reason"], ["Route", "Outcome"]])
            )]
        );
        let route = if path == "/products" {
            "GET /products"
        } else {
            "unmatched"
        };
        assert_eq!(line["Decisions"], 1.0);
        assert_eq!(line["Outcome"], outcome.code(), "{reason}");
        assert_eq!(line["Reason"], reason.code());
        assert_eq!(line["Route"], route);
        assert_eq!(line["requestId"], "req-1");
        assert!(line["traceId"].as_str().unwrap().starts_with("Root=1-"));
        let logged = logs.take();
        let decision_line = logged
            .iter()
            .find(|l| l.contains("authorizer decision"))
            .unwrap_or_else(|| panic!("no decision logged: {logged:?}"));
        assert!(
            decision_line.contains(&format!("reason={reason}"))
                && decision_line.contains(&format!("decision=\"{}\"", outcome.code())),
            "{decision_line}"
        );
        assert_no_token(&logged, &tokens);
        assert_no_token(&lines, &tokens);
    }

    let invalid = authorizer
        .decide_json("{}", now(), Invocation::default())
        .await;
    assert_eq!(
        (invalid.outcome, invalid.reason),
        (Outcome::Error, Reason::InvalidEvent)
    );
    let line = emf(&metrics_out.take()[0]);
    assert_eq!(
        (&line["Outcome"], &line["Reason"], &line["Route"]),
        (
            &json!("error"),
            &json!("invalid-event"),
            &json!("unmatched")
        )
    );
    assert!(line.get("requestId").is_none());
}

#[tokio::test]
async fn key_fetches_are_counted_with_their_failures_and_latency() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "k1");
    server.set("/jwks", Reply::Json(jwks(&[&key])));
    server.set("/broken", Reply::Status(503));
    let out = Lines::default();
    for (path, failures) in [("/jwks", 0.0), ("/broken", 1.0)] {
        let authorizer = Authorizer::with_metrics(
            config(&[
                ("AUTH_ISSUER", server.url("/")),
                ("AUTH_AUDIENCE", "products-api".into()),
                ("AUTH_JWKS_URI", server.url(path)),
            ]),
            Metrics::to("Test", out.clone()),
        );
        let token = key.sign(&claims(&server.url("/"), json!({})));
        let _ = authorizer.verify_token(Some(&token), now()).await;
        let lines = out.take();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = emf(&lines[0]);
        assert_eq!(
            directives(&line),
            [(
                vec![
                    "KeyFetches".to_owned(),
                    "KeyFetchFailures".to_owned(),
                    "KeyFetchLatency".to_owned()
                ],
                json!([[]])
            )]
        );
        assert_eq!(line["KeyFetches"], 1.0);
        assert_eq!(line["KeyFetchFailures"], failures, "{path}");
        assert!(line["KeyFetchLatency"].as_f64().unwrap() > 0.0);
        assert_eq!(line["issuer"], server.url("/"));
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][2]["Unit"],
            "Milliseconds"
        );
    }
}

/// `events/product-api/<name>.json`.
fn sample_event(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("events/product-api/{name}.json"));
    std::fs::read_to_string(&path).unwrap()
}

/// A sample event answered with metrics into `out`, inside a Lambda context.
async fn answer(name: &str, out: &Lines) -> (u16, Value) {
    let text = sample_event(name);
    let mut context = lambda_http::Context::default();
    context.request_id = "req-2".into();
    context.xray_trace_id = Some("Root=1-5759e988-bd862e3fe1be46a994272793".into());
    let request = lambda_http::Request::from(product_api::read_event(&text).unwrap())
        .with_lambda_context(context);
    let api = ProductApi::new(EmbeddedCatalog).with_metrics(Metrics::to("Test", out.clone()));
    let status = api.handle(request).await.status().as_u16();
    let lines = out.take();
    assert_eq!(lines.len(), 1, "{name}: {lines:?}");
    (status, emf(&lines[0]))
}

#[tokio::test]
async fn product_api_counts_answers_by_status_class_and_route_and_times_the_store() {
    let logs = Lines::default();
    let _guard = capture_logs(&logs);
    let out = Lines::default();

    let (status, line) = answer("v2-jwt-get-product", &out).await;
    assert_eq!(status, 200);
    assert_eq!(
        directives(&line),
        [
            (
                vec!["Requests".to_owned()],
                json!([["StatusClass"], ["Route", "StatusClass"]])
            ),
            (
                vec!["StoreLatency".to_owned(), "StoreFailures".to_owned()],
                json!([[], ["Operation"]])
            ),
        ]
    );
    assert_eq!(line["Requests"], 1.0);
    assert_eq!(line["StatusClass"], "2xx");
    assert_eq!(line["Route"], "GET /product/{name}");
    assert_eq!(line["Operation"], "get");
    assert_eq!(line["StoreFailures"], 0.0);
    assert!(line["StoreLatency"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        (&line["status"], &line["reason"]),
        (&json!("200"), &json!("served"))
    );
    assert_eq!(line["requestId"], "req-2");
    assert!(line["traceId"].as_str().unwrap().starts_with("Root=1-"));

    let (status, line) = answer("v2-jwt-missing-read-scope", &out).await;
    assert_eq!(status, 403);
    assert_eq!(
        directives(&line).len(),
        1,
        "no store call, no store metrics"
    );
    assert_eq!(
        (&line["StatusClass"], &line["reason"]),
        (&json!("4xx"), &json!("insufficient-scope"))
    );

    let (status, line) = answer("v2-jwt-put-product-read-only-catalog", &out).await;
    assert_eq!(status, 501);
    assert_eq!(
        (&line["StatusClass"], &line["Operation"], &line["reason"]),
        (&json!("5xx"), &json!("put"), &json!("read-only-catalog"))
    );
    assert_eq!(
        line["StoreFailures"], 0.0,
        "the read-only catalog answered; it did not fail"
    );

    let logged = logs.take();
    let reasons: Vec<&String> = logged.iter().filter(|l| l.contains(" request ")).collect();
    assert_eq!(reasons.len(), 3, "{logged:?}");
    assert!(
        reasons[1].contains("reason=insufficient-scope"),
        "{}",
        reasons[1]
    );
    for name in [
        "v2-jwt-get-product",
        "v2-jwt-missing-read-scope",
        "v2-jwt-put-product-read-only-catalog",
    ] {
        let text = sample_event(name);
        let tokens: Vec<String> =
            serde_json::from_str::<Value>(&text).unwrap()["headers"]["authorization"]
                .as_str()
                .map(|h| h.trim_start_matches("Bearer ").to_owned())
                .into_iter()
                .collect();
        assert_no_token(&logged, &tokens);
    }
}

#[test]
fn the_operating_page_documents_every_reason_and_metric() {
    let operating =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/operating.md")).unwrap();
    for reason in jwt_scopes_api::reason::ALL {
        assert!(operating.contains(&format!("`{reason}`")), "{reason}");
    }
    for metric in [
        "Decisions",
        "KeyFetches",
        "KeyFetchFailures",
        "KeyFetchLatency",
        "Requests",
        "StoreLatency",
        "StoreFailures",
    ] {
        assert!(operating.contains(&format!("`{metric}`")), "{metric}");
    }
}
