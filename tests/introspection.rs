//! Opaque tokens against a real RFC 7662 introspection endpoint on 127.0.0.1: what an answer
//! must say to allow, every way the endpoint can fail (each a 401, quickly), and the cache.

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::Algorithm;
use jwt_scopes_api::Authorizer;
use jwt_scopes_api::authorizer::Outcome;
use jwt_scopes_api::metrics::Invocation;
use jwt_scopes_api::reason::Reason;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Reply, TestKey, TestServer, authorizer, claims, now, patched, token_event};

const CLIENT_ID: &str = "products-api";
const CLIENT_SECRET: &str = "introspection secret: with & and =";
const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";

/// An issuer at `server`'s root whose `/introspect` answers each known token with its answer
/// (inactive for the rest), and 401 to a client without our credentials (RFC 7662 §2.1).
fn issuer(server: &TestServer, answers: HashMap<&'static str, Value>) {
    let encode = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
    let expected = format!(
        "authorization: basic {}",
        STANDARD.encode(format!("{}:{}", encode(CLIENT_ID), encode(CLIENT_SECRET)))
    )
    .to_ascii_lowercase();
    server.respond(
        "/introspect",
        Arc::new(move |request: &str| {
            let authorized = request
                .lines()
                .any(|line| line.to_ascii_lowercase() == expected);
            if !authorized || !request.starts_with("POST ") {
                return Reply::Status(401);
            }
            let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
            let token = url::form_urlencoded::parse(body.as_bytes())
                .find(|(name, _)| name == "token")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            let answer = answers
                .get(token.as_str())
                .cloned()
                .unwrap_or(json!({"active": false}));
            Reply::Json(answer.to_string())
        }),
    );
}

/// An active answer from `server`'s issuer for the `products-api` audience, plus `extra`.
fn active(server: &TestServer, extra: Value) -> Value {
    let answer = claims(
        &server.url("/"),
        json!({"active": true, "scope": "read:products", "client_id": "web"}),
    );
    patched(answer, extra)
}

fn introspecting(server: &TestServer, extra: &[(&str, String)]) -> Authorizer {
    let mut vars = vec![
        ("AUTH_ISSUER", server.url("/")),
        ("AUTH_AUDIENCE", "products-api".to_string()),
        ("AUTH_HMAC_SECRET", SECRET.to_string()),
        ("AUTH_INTROSPECTION_CLIENT_ID", CLIENT_ID.to_string()),
        (
            "AUTH_INTROSPECTION_CLIENT_SECRET",
            CLIENT_SECRET.to_string(),
        ),
        ("AUTH_INTROSPECTION_URL", server.url("/introspect")),
        ("AUTH_INTROSPECTION_TIMEOUT_MS", "300".to_string()),
    ];
    for (name, value) in extra {
        vars.retain(|(n, _)| n != name);
        if !value.is_empty() {
            vars.push((name, value.clone()));
        }
    }
    authorizer(&vars)
}

/// The decision on `token` for `GET /products` at `at`: its outcome and reason.
async fn decide_at(authorizer: &Authorizer, token: &str, at: u64) -> (Outcome, Reason) {
    let event = token_event(token, "GET", "/products");
    let decision = authorizer
        .decide_json(&event, at, Invocation::default())
        .await;
    (decision.outcome, decision.reason)
}

async fn decide(authorizer: &Authorizer, token: &str) -> (Outcome, Reason) {
    decide_at(authorizer, token, now()).await
}

#[tokio::test]
async fn rfc7662_an_active_answer_for_us_allows_and_every_other_answer_refuses() {
    let server = TestServer::start().await;
    let answers = HashMap::from([
        ("active", active(&server, json!({}))),
        ("no-scope", active(&server, json!({"scope": null}))),
        ("inactive", json!({"active": false, "sub": "user-1"})),
        ("active-as-text", json!({"active": "true"})),
        ("expired", active(&server, json!({"exp": now() - 120}))),
        (
            "wrong-issuer",
            active(&server, json!({"iss": "https://evil.test/"})),
        ),
        (
            "wrong-audience",
            active(&server, json!({"aud": "billing-api"})),
        ),
        (
            "dpop-bound",
            active(&server, json!({"token_type": "DPoP", "cnf": {"jkt": "x"}})),
        ),
    ]);
    issuer(&server, answers);
    let authorizer = introspecting(&server, &[]);
    let cases = [
        ("active", Outcome::Allow, Reason::Granted),
        ("no-scope", Outcome::Deny, Reason::InsufficientScope),
        ("inactive", Outcome::Unauthorized, Reason::Inactive),
        (
            "unknown-to-the-issuer",
            Outcome::Unauthorized,
            Reason::Inactive,
        ),
        (
            "active-as-text",
            Outcome::Unauthorized,
            Reason::IntrospectionUnavailable,
        ),
        ("expired", Outcome::Unauthorized, Reason::Expired),
        ("wrong-issuer", Outcome::Unauthorized, Reason::WrongIssuer),
        (
            "wrong-audience",
            Outcome::Unauthorized,
            Reason::WrongAudience,
        ),
        // Its `cnf.jkt` goes to the binding step (tests/dpop.rs), which a TOKEN event, holding
        // no proof, cannot pass.
        (
            "dpop-bound",
            Outcome::Unauthorized,
            Reason::BindingNeedsRequestEvent,
        ),
    ];
    for (token, outcome, reason) in cases {
        assert_eq!(
            decide(&authorizer, token).await,
            (outcome, reason),
            "{token}"
        );
    }
    let jwt = TestKey::hmac(Algorithm::HS256, SECRET)
        .sign(&claims(&server.url("/"), json!({"scope": "read:products"})));
    assert_eq!(
        decide(&authorizer, &jwt).await,
        (Outcome::Allow, Reason::Granted),
        "a JWT is still verified by its signature"
    );
    assert_eq!(
        server.hits("/introspect"),
        cases.len(),
        "JWTs are never introspected"
    );
}

#[tokio::test]
async fn the_answer_feeds_the_principal_and_context_as_a_jwt_claims_do() {
    let server = TestServer::start().await;
    issuer(
        &server,
        HashMap::from([("active", active(&server, json!({})))]),
    );
    let answer = introspecting(&server, &[])
        .answer_json(&token_event("active", "GET", "/products"), now())
        .await
        .unwrap();
    let answer = serde_json::to_value(answer).unwrap();
    assert_eq!(answer["principalId"], "user-1");
    assert_eq!(answer["context"]["sub"], "user-1");
    assert_eq!(answer["context"]["client_id"], "web");
    assert_eq!(answer["context"]["scope"], "read:products");
    assert_eq!(answer["context"]["iss"], server.url("/"));
}

#[tokio::test]
async fn the_endpoint_is_found_in_the_issuers_metadata() {
    let server = TestServer::start().await;
    issuer(
        &server,
        HashMap::from([("active", active(&server, json!({})))]),
    );
    let metadata =
        json!({"issuer": server.url("/"), "introspection_endpoint": server.url("/introspect")});
    server.set(
        "/.well-known/openid-configuration",
        Reply::Json(metadata.to_string()),
    );
    let authorizer = introspecting(&server, &[("AUTH_INTROSPECTION_URL", String::new())]);
    assert_eq!(decide(&authorizer, "active").await.0, Outcome::Allow);
    assert_eq!(
        decide(&authorizer, "another").await.0,
        Outcome::Unauthorized
    );
    assert_eq!(
        server.hits("/.well-known/openid-configuration"),
        1,
        "found once"
    );
}

#[tokio::test]
async fn endpoint_faults_fail_closed_within_the_timeout() {
    let server = TestServer::start().await;
    let answer = active(&server, json!({})).to_string();
    let faults = [
        ("/down", None),
        ("/slow", Some(Reply::Slow(Duration::from_secs(3), answer))),
        (
            "/garbage",
            Some(Reply::Json("<html>try later</html>".into())),
        ),
        ("/error", Some(Reply::Status(503))),
        ("/oversized", Some(Reply::Huge(200_000))),
    ];
    for (path, reply) in faults {
        let url = match reply {
            Some(reply) => {
                server.set(path, reply);
                server.url(path)
            }
            None => "http://127.0.0.1:9/introspect".into(),
        };
        let authorizer = introspecting(&server, &[("AUTH_INTROSPECTION_URL", url)]);
        let started = Instant::now();
        assert_eq!(
            decide(&authorizer, "active").await,
            (Outcome::Unauthorized, Reason::IntrospectionUnavailable),
            "{path}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{path}: {:?}",
            started.elapsed()
        );
    }
    issuer(&server, HashMap::new());
    let wrong_secret = introspecting(
        &server,
        &[("AUTH_INTROSPECTION_CLIENT_SECRET", "not ours".into())],
    );
    assert_eq!(
        decide(&wrong_secret, "active").await,
        (Outcome::Unauthorized, Reason::IntrospectionUnavailable),
        "a 401 to our client"
    );
}

#[tokio::test]
async fn answers_are_cached_for_the_ttl_and_never_past_exp() {
    let server = TestServer::start().await;
    let t = now();
    issuer(
        &server,
        HashMap::from([
            ("long", active(&server, json!({"exp": t + 3600}))),
            ("short", active(&server, json!({"exp": t + 5}))),
        ]),
    );
    let authorizer = introspecting(&server, &[]);
    for at in [t, t + 1, t + 59] {
        assert_eq!(decide_at(&authorizer, "long", at).await.0, Outcome::Allow);
    }
    assert_eq!(server.hits("/introspect"), 1, "hits within the TTL");
    assert_eq!(
        decide_at(&authorizer, "long", t + 60).await.0,
        Outcome::Allow
    );
    assert_eq!(
        server.hits("/introspect"),
        2,
        "asked again once the TTL is over"
    );

    assert_eq!(decide_at(&authorizer, "short", t).await.0, Outcome::Allow);
    assert_eq!(
        decide_at(&authorizer, "short", t + 4).await.0,
        Outcome::Allow
    );
    assert_eq!(server.hits("/introspect"), 3);
    decide_at(&authorizer, "short", t + 5).await;
    assert_eq!(server.hits("/introspect"), 4, "never reused past exp");

    let uncached = introspecting(&server, &[("AUTH_INTROSPECTION_CACHE_SECONDS", "0".into())]);
    for _ in 0..3 {
        assert_eq!(decide_at(&uncached, "long", t).await.0, Outcome::Allow);
    }
    assert_eq!(server.hits("/introspect"), 7, "TTL 0 asks every time");
}

#[tokio::test]
async fn concurrent_requests_for_one_token_share_one_call() {
    let server = TestServer::start().await;
    let answer = active(&server, json!({})).to_string();
    server.set(
        "/introspect",
        Reply::Slow(Duration::from_millis(150), answer),
    );
    let authorizer = introspecting(&server, &[]);
    let decisions =
        futures_util::future::join_all((0..8).map(|_| decide(&authorizer, "opaque-token"))).await;
    assert!(
        decisions.iter().all(|d| d.0 == Outcome::Allow),
        "{decisions:?}"
    );
    assert_eq!(server.hits("/introspect"), 1);
}

#[test]
fn introspection_settings_are_checked_at_cold_start() {
    let config = |vars: &[(&str, &str)]| {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        jwt_scopes_api::AuthConfig::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
    };
    let base = [
        ("AUTH_ISSUER", "https://issuer.test/"),
        ("AUTH_AUDIENCE", "api"),
    ];
    let with =
        |extra: &[(&str, &str)]| config(&base.iter().chain(extra).copied().collect::<Vec<_>>());
    assert!(with(&[]).unwrap().introspection.is_none(), "off by default");
    let on = with(&[
        ("AUTH_INTROSPECTION_CLIENT_ID", "api"),
        ("AUTH_INTROSPECTION_CLIENT_SECRET", "s"),
    ])
    .unwrap()
    .introspection
    .unwrap();
    assert_eq!((on.url, on.cache_secs), (None, 60));
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("AUTH_INTROSPECTION_CLIENT_ID", "api")],
            "AUTH_INTROSPECTION_CLIENT_SECRET",
        ),
        (
            &[("AUTH_INTROSPECTION_CLIENT_SECRET", "s")],
            "AUTH_INTROSPECTION_CLIENT_ID",
        ),
        (
            &[
                ("AUTH_INTROSPECTION_CLIENT_ID", "api"),
                ("AUTH_INTROSPECTION_CLIENT_SECRET", "s"),
                ("AUTH_INTROSPECTION_URL", "ftp://x"),
            ],
            "AUTH_INTROSPECTION_URL",
        ),
        (
            &[
                ("AUTH_INTROSPECTION_CLIENT_ID", "api"),
                ("AUTH_INTROSPECTION_CLIENT_SECRET", "s"),
                ("AUTH_INTROSPECTION_CACHE_SECONDS", "a minute"),
            ],
            "AUTH_INTROSPECTION_CACHE_SECONDS",
        ),
    ];
    for (extra, variable) in cases {
        assert_eq!(with(extra).unwrap_err().variable, variable);
    }
    let two = r#"{"issuers": [{"issuer": "https://a/", "audiences": ["x"]}, {"issuer": "https://b/", "audiences": ["x"]}]}"#;
    let several = config(&[
        ("AUTH_CONFIG", two),
        ("AUTH_INTROSPECTION_CLIENT_ID", "api"),
        ("AUTH_INTROSPECTION_CLIENT_SECRET", "s"),
    ]);
    assert_eq!(
        several.unwrap_err().variable,
        "AUTH_INTROSPECTION_CLIENT_ID"
    );
}
