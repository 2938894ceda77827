//! Whole handlers, from event JSON in to response JSON out, on a current-thread Tokio runtime.
//!
//! - `authorizer/*`: `Authorizer::handle(event, now)` then `serde_json::to_string`, for the sample
//!   events `events/authorizer/token-read-allow.json` (REST `TOKEN`) and `http-v2-allow.json`
//!   (HTTP API payload 2.0), configured from `events/authorizer/test.env`, at `now = 1_795_839_600`.
//!   Those tokens are HS256; the same events are also run with their token replaced by an RS256
//!   and an ES256 token carrying the same claims (keys generated at start, JWKS served once from
//!   127.0.0.1 and cached before measuring), since the 1.3x target is about asymmetric keys.
//!   `bare/*` is `jsonwebtoken::crypto::verify` on the very token each event carries, so
//!   `decision / bare` is the ratio the issue asks for, from one run.
//! - `serialize/*`: `serde_json::to_string` of the decision alone.
//! - `parse/*`: reading the event alone (`authorizer_event::parse`, and `serde_json` skipping
//!   every value as a floor).
//! - `product_api/*`: `product_api::event::read` (what the binary's payload type does) on
//!   `events/product-api/v2-jwt-get-product.json` (HTTP API 2.0 with JWT authorizer claims,
//!   `GET /product/{name}`, 200), `lambda_http`'s conversion to a `Request`, `ProductApi::handle`,
//!   then the API Gateway v2 response serialised as `lambda_http` does.
//! - `lambda_http_from_str`: the same event read by `lambda_http::request::from_str`, which tries
//!   the REST type before the 2.0 one, for comparison with `parse`.
//! - `*_logged`: the same with an INFO `tracing` fmt subscriber writing to `io::sink`, as on
//!   Lambda minus the write to stdout (the other benches run with no subscriber, so log lines cost
//!   nothing there).
//!
//! After criterion, each decision and its bare check run again in alternation
//! (`common/paired.rs`), for a `decision / bare` ratio taken under one and the same machine load.
//!
//! Run: `cargo bench --bench handlers -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/paired.rs"]
mod paired;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use jwt_scopes_api::authorizer::config::TokenSources;
use jwt_scopes_api::authorizer::event as authorizer_event;
use jwt_scopes_api::product_api::event as product_api_event;
use jwt_scopes_api::{AuthConfig, Authorizer, EmbeddedCatalog, ProductApi};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::http::HeaderMap;
use lambda_http::{Body, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use support::{Reply, TestKey, TestServer, jwks};

const NOW: u64 = 1_795_839_600;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `events/authorizer/test.env` as a map.
fn test_env() -> HashMap<String, String> {
    read(&root().join("events/authorizer/test.env"))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn authorizer(vars: &HashMap<String, String>) -> Authorizer {
    Authorizer::new(AuthConfig::from_lookup(|name| vars.get(name).cloned()).unwrap())
}

/// The bearer token inside a sample event.
fn token_of(event: &str) -> String {
    let event: Value = serde_json::from_str(event).unwrap();
    let header = event["authorizationToken"]
        .as_str()
        .or_else(|| event["headers"]["authorization"].as_str())
        .unwrap();
    header.strip_prefix("Bearer ").unwrap().to_owned()
}

/// One authorizer event, the key that verifies its token, and what it must decide.
struct Event {
    name: String,
    json: String,
    alg: Algorithm,
    key: DecodingKey,
    expect: &'static str,
}

impl Event {
    fn bare(&self) -> bool {
        let token = token_of(&self.json);
        let (message, signature) = token.rsplit_once('.').unwrap();
        paired::bare(message, signature, &self.key, self.alg)
    }
}

/// The API Gateway payload 2.0 response JSON, as `lambda_http` builds it for a v2 request.
fn v2_response_json(response: Response<Body>) -> String {
    let (parts, body) = response.into_parts();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = parts.status.as_u16() as i64;
    out.is_base64_encoded = matches!(body, Body::Binary(_));
    out.body = (!matches!(body, Body::Empty)).then_some(body);
    out.headers = parts.headers;
    out.multi_value_headers = HeaderMap::new();
    serde_json::to_string(&out).unwrap()
}

fn bench_handlers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = root().join("events/authorizer");
    let env = test_env();
    let secret = env["AUTH_HMAC_SECRET"].clone();

    // Sample events as shipped (HS256), with the test.env configuration.
    let samples = [
        ("token", "token-read-allow.json", "\"Allow\""),
        ("http_v2", "http-v2-allow.json", "\"isAuthorized\":true"),
    ];
    let mut events: Vec<Event> = samples
        .iter()
        .map(|(name, file, expect)| Event {
            name: format!("{name}_hs256"),
            json: read(&dir.join(file)),
            alg: Algorithm::HS256,
            key: DecodingKey::from_secret(secret.as_bytes()).unwrap(),
            expect,
        })
        .collect();

    // The same events, re-signed with asymmetric keys served from a local JWKS.
    let server = rt.block_on(TestServer::start());
    let keys = [
        TestKey::generate(Algorithm::RS256, "rs256-key"),
        TestKey::generate(Algorithm::ES256, "es256-key"),
    ];
    server.set("/jwks", Reply::Json(jwks(&keys.iter().collect::<Vec<_>>())));
    let mut jwks_env = env.clone();
    jwks_env.insert("AUTH_JWKS_URI".into(), server.url("/jwks"));
    let with_jwks = authorizer(&jwks_env);
    let sample_only = authorizer(&env);
    for key in &keys {
        let jwk: Jwk = serde_json::from_value(key.jwk.clone()).unwrap();
        for (name, file, expect) in samples {
            let json = read(&dir.join(file));
            let old = token_of(&json);
            let payload = old.split('.').nth(1).unwrap();
            let claims: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
            events.push(Event {
                name: format!("{name}_{}", format!("{:?}", key.alg).to_lowercase()),
                json: json.replace(&old, &key.sign(&claims)),
                alg: key.alg,
                key: DecodingKey::from_jwk(&jwk).unwrap(),
                expect,
            });
        }
    }
    let authorizer_for = |event: &Event| -> &Authorizer {
        if event.alg == Algorithm::HS256 {
            &sample_only
        } else {
            &with_jwks
        }
    };
    for event in &events {
        assert!(event.bare(), "{}: bare check", event.name);
        let answer = rt.block_on(decide(authorizer_for(event), event));
        assert!(answer.contains(event.expect), "{}: {answer}", event.name);
    }
    assert_eq!(server.hits("/jwks"), 1);

    let mut group = c.benchmark_group("authorizer");
    for event in &events {
        group.bench_function(format!("decision/{}", event.name), |b| {
            b.to_async(&rt)
                .iter(|| decide(authorizer_for(event), event))
        });
        group.bench_function(format!("bare/{}", event.name), |b| {
            let token = token_of(&event.json);
            let (message, signature) = token.rsplit_once('.').unwrap();
            b.iter(|| paired::bare(message, signature, &event.key, event.alg))
        });
    }
    let sources = TokenSources::default();
    for event in events.iter().filter(|e| e.alg == Algorithm::HS256) {
        group.bench_function(format!("parse/{}", event.name), |b| {
            b.iter(|| authorizer_event::parse(black_box(&event.json), &sources).unwrap())
        });
        let response = rt
            .block_on(authorizer_for(event).handle(&event.json, NOW))
            .unwrap();
        group.bench_function(format!("serialize/{}", event.name), |b| {
            b.iter(|| serde_json::to_string(black_box(&response)).unwrap())
        });
        group.bench_function(format!("parse_ignored_any/{}", event.name), |b| {
            b.iter(|| {
                serde_json::from_str::<serde::de::IgnoredAny>(black_box(&event.json)).unwrap()
            })
        });
    }
    {
        let _logging = logging();
        for event in events.iter().filter(|e| e.alg == Algorithm::RS256) {
            group.bench_function(format!("decision_logged/{}", event.name), |b| {
                b.to_async(&rt)
                    .iter(|| decide(authorizer_for(event), event))
            });
        }
    }
    group.finish();

    if paired::enabled() {
        for event in &events {
            let token = token_of(&event.json);
            let (message, signature) = token.rsplit_once('.').unwrap();
            let authorizer = authorizer_for(event);
            let bodies: Vec<(String, paired::Body<'_>)> = vec![
                (
                    "bare".into(),
                    Box::new(|n| {
                        for _ in 0..n {
                            assert!(paired::bare(message, signature, &event.key, event.alg));
                        }
                    }),
                ),
                (
                    "decision".into(),
                    Box::new(|n| {
                        rt.block_on(async {
                            for _ in 0..n {
                                black_box(decide(authorizer, event).await);
                            }
                        })
                    }),
                ),
            ];
            let mut bodies = bodies;
            if event.alg == Algorithm::RS256 {
                bodies.push((
                    "decision_logged".into(),
                    Box::new(|n| {
                        let _logging = logging();
                        rt.block_on(async {
                            for _ in 0..n {
                                black_box(decide(authorizer, event).await);
                            }
                        })
                    }),
                ));
            }
            paired::measure(&format!("authorizer-{}", event.name), 200, bodies);
        }
    }

    let api = ProductApi::new(EmbeddedCatalog);
    let event = read(&root().join("events/product-api/v2-jwt-get-product.json"));
    let parse =
        |event: &str| -> lambda_http::Request { product_api_event::read(event).unwrap().into() };
    let respond = || async { v2_response_json(api.handle(parse(black_box(&event))).await) };
    let answer = rt.block_on(respond());
    assert!(answer.contains("\"statusCode\":200"), "{answer}");
    let mut group = c.benchmark_group("product_api");
    group.bench_function("v2_jwt_get_product", |b| b.to_async(&rt).iter(respond));
    group.bench_function("parse/v2_jwt_get_product", |b| {
        b.iter(|| parse(black_box(&event)))
    });
    group.bench_function("lambda_http_from_str/v2_jwt_get_product", |b| {
        b.iter(|| lambda_http::request::from_str(black_box(&event)).unwrap())
    });
    {
        let _logging = logging();
        group.bench_function("v2_jwt_get_product_logged", |b| {
            b.to_async(&rt).iter(respond)
        });
    }
    group.finish();

    if paired::enabled() {
        let run = |n| {
            rt.block_on(async {
                for _ in 0..n {
                    black_box(respond().await);
                }
            })
        };
        let bodies: Vec<(String, paired::Body<'_>)> = vec![
            ("v2_jwt_get_product".into(), Box::new(run)),
            (
                "parse_only".into(),
                Box::new(|n| {
                    for _ in 0..n {
                        black_box(parse(black_box(&event)));
                    }
                }),
            ),
            (
                "lambda_http_from_str".into(),
                Box::new(|n| {
                    for _ in 0..n {
                        black_box(lambda_http::request::from_str(black_box(&event)).unwrap());
                    }
                }),
            ),
            (
                "v2_jwt_get_product_logged".into(),
                Box::new(|n| {
                    let _logging = logging();
                    run(n)
                }),
            ),
        ];
        paired::measure("product_api", 200, bodies);
    }
}

/// One whole decision: event JSON in, response JSON out.
async fn decide(authorizer: &Authorizer, event: &Event) -> String {
    let response = authorizer
        .handle(black_box(&event.json), NOW)
        .await
        .unwrap();
    serde_json::to_string(&response).unwrap()
}

/// An INFO fmt subscriber like `lambda_runtime::tracing::init_default_subscriber`, to `io::sink`,
/// for this thread until the guard drops.
fn logging() -> tracing::subscriber::DefaultGuard {
    let subscriber = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::set_default(subscriber)
}

criterion_group!(benches, bench_handlers);
criterion_main!(benches);
