//! What revocation and introspection add to a warm decision (issue 23), on a current-thread Tokio
//! runtime, for a REST `TOKEN` event (`GET /product/widget`) and an HS256 token with `jti` and
//! `sub`:
//!
//! - `revocation/off`: the decision as deployed without `AUTH_REVOCATION_TABLE`;
//! - `revocation/on`: the same with the table, read on every decision by one `BatchGetItem`
//!   against a DynamoDB-compatible server on 127.0.0.1 (`DYNAMODB_ENDPOINT`, else a
//!   `moto_server` started here, as the tests do; without either the set is skipped);
//! - `introspection/cache_hit`: an opaque token whose answer the introspection cache holds (one
//!   call made before measuring, to a server on 127.0.0.1), against `introspection/jwt`, the same
//!   authorizer deciding on a JWT with the same claims.
//!
//! After criterion, `off` and `on`, then `jwt` and `cache_hit`, run again in alternation
//! (`common/paired.rs`) for ratios taken under one machine load.
//!
//! Run: `cargo bench --bench revocation -- --warm-up-time 1 --measurement-time 3 --noplot`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/support/dynamodb.rs"]
mod dynamodb;

#[allow(dead_code)]
#[path = "common/paired.rs"]
mod paired;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use jwt_scopes_api::Authorizer;
use serde_json::json;
use std::hint::black_box;
use support::{Reply, TestKey, TestServer, authorizer, claims, now, token_event};

const ISSUER: &str = "https://issuer.test/";
const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";

/// The variables of every authorizer here, plus `extra`.
fn configured(issuer: &str, extra: &[(&str, String)]) -> Authorizer {
    let mut vars = vec![
        ("AUTH_ISSUER", issuer.to_string()),
        ("AUTH_AUDIENCE", "products-api".to_string()),
        ("AUTH_HMAC_SECRET", SECRET.to_string()),
    ];
    vars.extend(extra.iter().cloned());
    authorizer(&vars)
}

/// One decision on `event` at the time of the call; asserts it allows.
async fn allow(authorizer: &Authorizer, event: &str) {
    let answer = authorizer.answer_json(black_box(event), now()).await;
    let answer = serde_json::to_string(&answer.unwrap()).unwrap();
    assert!(answer.contains("\"Allow\""), "{answer}");
}

/// `authorizer` deciding on `event` `n` times per call, for `paired::measure`.
fn repeated<'a>(
    rt: &'a tokio::runtime::Runtime,
    authorizer: &'a Authorizer,
    event: &'a str,
) -> paired::Body<'a> {
    Box::new(move |n| {
        rt.block_on(async {
            for _ in 0..n {
                allow(authorizer, event).await;
            }
        })
    })
}

fn bench_revocation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let scope = json!({"scope": "read:products", "jti": "t-1"});
    let jwt = TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims(ISSUER, scope.clone()));
    let event = token_event(&jwt, "GET", "/product/widget");

    if let Some((_server, client, table)) = rt.block_on(dynamodb::fresh_table("revoked", "pk")) {
        let off = configured(ISSUER, &[]);
        let on = configured(ISSUER, &[("AUTH_REVOCATION_TABLE", table)]).with_dynamodb(client);
        rt.block_on(allow(&on, &event));
        let mut group = c.benchmark_group("revocation");
        group.bench_function("off", |b| b.to_async(&rt).iter(|| allow(&off, &event)));
        group.bench_function("on", |b| b.to_async(&rt).iter(|| allow(&on, &event)));
        group.finish();
        if paired::enabled() {
            let bodies = vec![
                ("off".to_string(), repeated(&rt, &off, &event)),
                ("on".to_string(), repeated(&rt, &on, &event)),
            ];
            paired::measure("revocation", 100, bodies);
        }
    }

    let server = rt.block_on(TestServer::start());
    let issuer = server.url("/");
    let answer = claims(&issuer, json!({"active": true, "scope": "read:products"}));
    server.set("/introspect", Reply::Json(answer.to_string()));
    let jwt = TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims(&issuer, scope));
    let jwt_event = token_event(&jwt, "GET", "/product/widget");
    let opaque_event = token_event("an-opaque-token-0123456789", "GET", "/product/widget");
    let introspecting = configured(
        &issuer,
        &[
            ("AUTH_INTROSPECTION_CLIENT_ID", "products-api".into()),
            ("AUTH_INTROSPECTION_CLIENT_SECRET", "secret".into()),
            ("AUTH_INTROSPECTION_URL", server.url("/introspect")),
            ("AUTH_INTROSPECTION_CACHE_SECONDS", "3600".into()),
        ],
    );
    rt.block_on(allow(&introspecting, &opaque_event));
    let mut group = c.benchmark_group("introspection");
    let a = &introspecting;
    group.bench_function("jwt", |b| b.to_async(&rt).iter(|| allow(a, &jwt_event)));
    group.bench_function("cache_hit", |b| {
        b.to_async(&rt).iter(|| allow(a, &opaque_event))
    });
    group.finish();
    assert_eq!(
        server.hits("/introspect"),
        1,
        "every decision above hit the cache"
    );
    if paired::enabled() {
        let bodies = vec![
            ("jwt".to_string(), repeated(&rt, a, &jwt_event)),
            ("cache_hit".to_string(), repeated(&rt, a, &opaque_event)),
        ];
        paired::measure("introspection", 200, bodies);
    }
}

criterion_group!(benches, bench_revocation);
criterion_main!(benches);
