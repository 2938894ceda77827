//! The authorizer against keys generated here and a real JWKS server on 127.0.0.1: every
//! algorithm, every scope claim form, key rotation, the refetch cooldown, single-flight fetches,
//! key-server faults, and the rejections a security boundary owes.

mod support;

use jsonwebtoken::{Algorithm, Header};
use jwt_scopes_api::AuthorizerError;
use jwt_scopes_api::authorizer::AuthorizerResponse;
use jwt_scopes_api::token::TokenError;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Reply, TestKey, TestServer, authorizer, claims, decide, jwks, jwks_authorizer, now};

const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";

fn effects(policy: &Value) -> Vec<(String, usize)> {
    policy["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Effect"].as_str().unwrap().to_owned(),
                s["Resource"].as_array().unwrap().len(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies_with_keys_from_the_jwks() {
    let server = TestServer::start().await;
    let algs = [
        Algorithm::RS256,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];
    let keys: Vec<TestKey> = algs
        .iter()
        .map(|alg| TestKey::generate(*alg, &format!("{alg:?}")))
        .collect();
    server.set("/jwks", Reply::Json(jwks(&keys.iter().collect::<Vec<_>>())));
    let authorizer = jwks_authorizer(&server, &[]);
    for key in &keys {
        let token = key.sign(&claims(&server.url("/"), json!({"scope": "read:products"})));
        let policy = decide(&authorizer, &token, "GET", "/products")
            .await
            .unwrap();
        assert_eq!(effects(&policy), [("Allow".to_owned(), 2)], "{:?}", key.alg);
        assert_eq!(policy["context"]["scope"], "read:products");
        assert_eq!(policy["principalId"], "user-1");
    }
    assert_eq!(
        server.hits("/jwks"),
        1,
        "one fetch serves every later token"
    );
}

#[tokio::test]
async fn hmac_tokens_need_the_configured_secret() {
    let with_secret = authorizer(&[
        ("AUTH_ISSUER", "internal".into()),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_HMAC_SECRET", SECRET.into()),
    ]);
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let token =
            TestKey::hmac(alg, SECRET).sign(&claims("internal", json!({"scope": "read:products"})));
        assert!(
            decide(&with_secret, &token, "GET", "/products")
                .await
                .is_ok(),
            "{alg:?}"
        );
    }
    let forged = TestKey::hmac(Algorithm::HS256, "another-secret-of-at-least-32-bytes!!");
    let token = forged.sign(&claims("internal", json!({"scope": "read:products"})));
    assert_eq!(
        decide(&with_secret, &token, "GET", "/products").await,
        Err(AuthorizerError::Unauthorized)
    );
}

#[tokio::test]
async fn every_scope_claim_form_is_understood() {
    let authorizer = authorizer(&[
        ("AUTH_ISSUER", "internal".into()),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_HMAC_SECRET", SECRET.into()),
    ]);
    let key = TestKey::hmac(Algorithm::HS256, SECRET);
    for (extra, (effect, resources)) in [
        (json!({"scope": "openid read:products"}), ("Allow", 2)),
        (json!({"scp": ["read:products"]}), ("Allow", 2)),
        (json!({"scp": "read:products"}), ("Allow", 2)),
        (
            json!({"scopes": ["read:products", "write:posts"]}),
            ("Allow", 2),
        ),
        (json!({"permissions": ["read:products"]}), ("Allow", 2)),
        (
            json!({"scope": "read:products-archive READ:PRODUCTS"}),
            ("Deny", 1),
        ),
        (json!({}), ("Deny", 1)),
        (json!({"permissions": []}), ("Deny", 1)),
    ] {
        let token = key.sign(&claims("internal", extra.clone()));
        let policy = decide(&authorizer, &token, "GET", "/product/x")
            .await
            .unwrap();
        assert_eq!(
            effects(&policy),
            [(effect.to_owned(), resources)],
            "{extra}"
        );
    }
    let malformed = key.sign(&claims(
        "internal",
        json!({"scope": {"read:products": true}}),
    ));
    assert_eq!(
        decide(&authorizer, &malformed, "GET", "/products").await,
        Err(AuthorizerError::Unauthorized)
    );
}

#[tokio::test]
async fn a_key_rotated_in_right_after_a_fetch_is_fetched_at_once() {
    let server = TestServer::start().await;
    let old = TestKey::generate(Algorithm::RS256, "old");
    let new = TestKey::generate(Algorithm::RS256, "new");
    server.set("/jwks", Reply::Json(jwks(&[&old])));
    let authorizer = jwks_authorizer(&server, &[("AUTH_JWKS_COOLDOWN_SECONDS", "30".into())]);
    let iss = server.url("/");
    let at = now();
    let old_token = old.sign(&claims(&iss, json!({"scope": "read:products"})));
    assert!(authorizer.verify_token(Some(&old_token), at).await.is_ok());

    server.set("/jwks", Reply::Json(jwks(&[&old, &new])));
    let new_token = new.sign(&claims(&iss, json!({"scope": "read:products"})));
    assert!(
        authorizer
            .verify_token(Some(&new_token), at + 2)
            .await
            .is_ok(),
        "the cold start's fetch found its key, so a new kid two seconds later is fetched at once"
    );
    assert!(
        authorizer
            .verify_token(Some(&old_token), at + 2)
            .await
            .is_ok()
    );
    assert_eq!(server.hits("/jwks"), 2);
}

#[tokio::test]
async fn attacker_chosen_kids_cause_at_most_one_fetch_per_cooldown() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "k");
    server.set("/jwks", Reply::Json(jwks(&[&key])));
    let authorizer = jwks_authorizer(&server, &[("AUTH_JWKS_COOLDOWN_SECONDS", "30".into())]);
    let iss = server.url("/");
    let at = now();
    let token = key.sign(&claims(&iss, json!({"scope": "read:products"})));
    assert!(authorizer.verify_token(Some(&token), at).await.is_ok());
    let attacker = |kid: usize| {
        TestKey::generate(Algorithm::RS256, &format!("attacker-{kid}"))
            .sign(&claims(&iss, json!({"scope": "read:products"})))
    };
    let forged: Vec<String> = (0..20).map(attacker).collect();
    for (i, token) in forged.iter().enumerate() {
        assert_eq!(
            authorizer
                .verify_token(Some(token), at + 1 + i as u64)
                .await
                .unwrap_err(),
            TokenError::UnknownKey
        );
    }
    assert_eq!(
        server.hits("/jwks"),
        2,
        "the first unknown kid is fetched for; the fetch misses, so the rest wait out the cooldown"
    );
    assert!(
        authorizer.verify_token(Some(&token), at + 25).await.is_ok(),
        "known keys are still served"
    );
    assert_eq!(
        authorizer
            .verify_token(Some(&forged[0]), at + 31)
            .await
            .unwrap_err(),
        TokenError::UnknownKey
    );
    assert_eq!(
        server.hits("/jwks"),
        3,
        "one more fetch once the cooldown is over"
    );
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::ES256, "k");
    server.set(
        "/jwks",
        Reply::Slow(Duration::from_millis(150), jwks(&[&key])),
    );
    let authorizer = jwks_authorizer(&server, &[]);
    let token = key.sign(&claims(&server.url("/"), json!({"scope": "read:products"})));
    let at = now();
    let results =
        futures_util::future::join_all((0..16).map(|_| authorizer.verify_token(Some(&token), at)))
            .await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.hits("/jwks"), 1);
}

#[tokio::test]
async fn keys_are_discovered_from_the_issuer() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::PS384, "d");
    let issuer = server.url("/");
    server.set(
        "/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": server.url("/keys")}).to_string()),
    );
    server.set("/keys", Reply::Json(jwks(&[&key])));
    let authorizer = authorizer(&[
        ("AUTH_ISSUER", issuer.clone()),
        ("AUTH_AUDIENCE", "products-api".into()),
    ]);
    let token = key.sign(&claims(&issuer, json!({"scope": "read:products"})));
    assert!(authorizer.verify_token(Some(&token), now()).await.is_ok());
}

#[tokio::test]
async fn key_server_faults_fail_closed_quickly_and_recover() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "k");
    let iss = server.url("/");
    let token = key.sign(&claims(&iss, json!({"scope": "read:products"})));
    let good = jwks(&[&key]);
    let faults = [
        Reply::Status(500),
        Reply::Status(404),
        Reply::Json("<html>oops</html>".into()),
        Reply::Json(r#"{"keys":[{"kty":"RSA","kid":"k"}]}"#.into()),
        Reply::Slow(Duration::from_secs(3), good.clone()),
        Reply::Huge(10 * 1024 * 1024),
    ];
    for fault in faults {
        server.set("/jwks", fault.clone());
        let authorizer = jwks_authorizer(&server, &[]);
        let at = now();
        let started = Instant::now();
        assert_eq!(
            authorizer.verify_token(Some(&token), at).await.unwrap_err(),
            TokenError::KeysUnavailable,
            "{fault:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{fault:?} took {:?}",
            started.elapsed()
        );
        server.set("/jwks", Reply::Json(good.clone()));
        assert_eq!(
            authorizer
                .verify_token(Some(&token), at + 1)
                .await
                .unwrap_err(),
            TokenError::KeysUnavailable
        );
        assert!(
            authorizer.verify_token(Some(&token), at + 10).await.is_ok(),
            "recovers after {fault:?}"
        );
    }
    let unreachable = authorizer(&[
        ("AUTH_ISSUER", iss.clone()),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_JWKS_URI", "http://127.0.0.1:9/jwks".into()),
    ]);
    assert_eq!(
        unreachable
            .verify_token(Some(&token), now())
            .await
            .unwrap_err(),
        TokenError::KeysUnavailable
    );
}

#[tokio::test]
async fn forged_stale_and_foreign_tokens_are_unauthorized() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "k");
    let attacker = TestKey::generate(Algorithm::RS256, "k");
    server.set("/jwks", Reply::Json(jwks(&[&key])));
    let authorizer = jwks_authorizer(&server, &[]);
    let iss = server.url("/");
    let scoped = |extra: Value| {
        let mut all = json!({"scope": "read:products"});
        all.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims(&iss, all)
    };
    let t = now();
    let public_pem_as_secret = TestKey::hmac(Algorithm::HS256, &key.jwk["n"].to_string());
    let mut jku = Header::new(Algorithm::RS256);
    jku.kid = Some("k".into());
    jku.jku = Some(server.url("/attacker-jwks"));
    let none_header = |alg: &str| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(format!(r#"{{"alg":"{alg}","kid":"k"}}"#)),
            b64.encode(scoped(json!({})).to_string())
        )
    };
    let valid = key.sign(&scoped(json!({})));
    let cases: Vec<(&str, String)> = vec![
        ("another key, same kid", attacker.sign(&scoped(json!({})))),
        (
            "HS256 with the RSA public key",
            public_pem_as_secret.sign(&scoped(json!({}))),
        ),
        (
            "jku pointing elsewhere",
            attacker.sign_with(&jku, &scoped(json!({}))),
        ),
        ("alg none", none_header("none")),
        ("alg NONE", none_header("NONE")),
        ("expired", key.sign(&scoped(json!({"exp": t - 120})))),
        ("not yet valid", key.sign(&scoped(json!({"nbf": t + 600})))),
        (
            "wrong audience",
            key.sign(&scoped(json!({"aud": "another-api"}))),
        ),
        (
            "wrong issuer",
            key.sign(&scoped(json!({"iss": "https://evil.example/"}))),
        ),
        (
            "exp as a string",
            key.sign(&scoped(json!({"exp": "9999999999"}))),
        ),
        ("aud as a number", key.sign(&scoped(json!({"aud": 7})))),
        ("no exp", key.sign(&scoped(json!({"exp": null})))),
        ("truncated", valid[..valid.len() - 10].to_owned()),
        ("extra segment", format!("{valid}.e30")),
        ("padding", format!("{valid}==")),
        ("whitespace", format!("{} ", valid.replacen('.', ". ", 1))),
        ("oversized", format!("{valid}{}", "A".repeat(9000))),
        ("not base64", "!!!.???.***".into()),
        ("empty", String::new()),
    ];
    for (name, token) in cases {
        assert_eq!(
            decide(&authorizer, &token, "GET", "/products").await,
            Err(AuthorizerError::Unauthorized),
            "{name}"
        );
    }
    assert_eq!(
        server.hits("/attacker-jwks"),
        0,
        "a jku header is never followed"
    );
    assert!(
        decide(&authorizer, &valid, "GET", "/products")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn several_issuers_each_with_its_own_keys() {
    let server = TestServer::start().await;
    let rsa = TestKey::generate(Algorithm::RS256, "a");
    server.set("/a/jwks", Reply::Json(jwks(&[&rsa])));
    let config = json!({"issuers": [
        {"issuer": "https://a.example/", "audiences": ["products-api"], "jwksUri": server.url("/a/jwks")},
        {"issuer": "internal", "audiences": ["svc"], "hmacSecret": SECRET},
    ]});
    let authorizer = authorizer(&[("AUTH_CONFIG", config.to_string())]);
    let a = rsa.sign(&claims(
        "https://a.example/",
        json!({"scope": "read:products"}),
    ));
    let internal = TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims(
        "internal",
        json!({"aud": "svc", "scope": "read:products"}),
    ));
    assert!(authorizer.verify_token(Some(&a), now()).await.is_ok());
    assert!(
        authorizer
            .verify_token(Some(&internal), now())
            .await
            .is_ok()
    );
    let crossed = TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims(
        "https://a.example/",
        json!({"scope": "read:products"}),
    ));
    assert_eq!(
        authorizer
            .verify_token(Some(&crossed), now())
            .await
            .unwrap_err(),
        TokenError::AlgorithmNotAllowed
    );
    let unknown = rsa.sign(&claims("https://b.example/", json!({})));
    assert_eq!(
        authorizer
            .verify_token(Some(&unknown), now())
            .await
            .unwrap_err(),
        TokenError::UnknownIssuer
    );
}

/// An HMAC authorizer answering payload 2.0 in `mode` that also reads the token from the
/// cookie `access_token` and the query parameter `token`.
fn sourced_authorizer(mode: &str) -> jwt_scopes_api::Authorizer {
    authorizer(&[
        ("AUTH_ISSUER", "internal".to_string()),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_HMAC_SECRET", SECRET.into()),
        ("AUTH_RESPONSE", mode.into()),
        ("AUTH_TOKEN_COOKIE", "access_token".into()),
        ("AUTH_TOKEN_QUERY", "token".into()),
    ])
}

/// A token of [`sourced_authorizer`]'s issuer granting `read:products`.
fn read_token() -> String {
    TestKey::hmac(Algorithm::HS256, SECRET)
        .sign(&claims("internal", json!({"scope": "read:products"})))
}

#[tokio::test]
async fn http_api_answers_simple_or_iam_and_tokens_come_from_configured_sources() {
    let token = read_token();
    let event = |cookie: bool| {
        let mut event = json!({
            "version": "2.0", "type": "REQUEST", "routeKey": "GET /products",
            "routeArn": "arn:aws:execute-api:eu-west-1:1:api/$default/GET/products",
            "headers": {}, "queryStringParameters": {},
            "requestContext": {"http": {"method": "GET", "path": "/products"}, "stage": "$default"}
        });
        if cookie {
            event["cookies"] = json!([format!("theme=dark; access_token={token}")]);
        } else {
            event["queryStringParameters"] = json!({ "token": token });
        }
        event.to_string()
    };
    let simple = sourced_authorizer("simple");
    for cookie in [true, false] {
        let answer =
            serde_json::to_value(simple.answer_json(&event(cookie), now()).await.unwrap()).unwrap();
        assert_eq!(answer["isAuthorized"], true, "cookie: {cookie}");
    }
    let iam = sourced_authorizer("iam");
    let answer = iam.answer_json(&event(true), now()).await.unwrap();
    assert!(matches!(answer, AuthorizerResponse::HttpApiPolicy(_)));
    assert_eq!(
        effects(&serde_json::to_value(answer).unwrap()),
        [("Allow".to_owned(), 2)]
    );
}

/// RFC 6750 §2: one way per request. With the header present but not a bearer credential,
/// every request format is refused as unauthenticated (REST and payload 1.0: `Unauthorized`, a
/// 401; payload 2.0: `isAuthorized: false`), though a valid token sits in the configured cookie
/// and query parameter: the gateway caches the answer under the header.
#[tokio::test]
async fn rfc6750_a_basic_authorization_header_is_refused_without_falling_back_to_cookie_or_query() {
    let token = read_token();
    let arn = "arn:aws:execute-api:eu-west-1:1:api/prod/GET/products";
    let event = |format: &str, authorization: Option<&str>| {
        let mut event = json!({
            "type": "REQUEST", "methodArn": arn, "routeArn": arn,
            "headers": {"Cookie": format!("access_token={token}")},
            "queryStringParameters": {"token": token},
            "cookies": [format!("access_token={token}")],
        });
        if format != "REQUEST" {
            event["version"] = json!(format);
        }
        if let Some(value) = authorization {
            event["headers"]["Authorization"] = json!(value);
        }
        event.to_string()
    };
    for mode in ["simple", "iam"] {
        let authorizer = sourced_authorizer(mode);
        for format in ["REQUEST", "1.0", "2.0"] {
            let answer = authorizer
                .answer_json(&event(format, Some("Basic dXNlcjpwYXNz")), now())
                .await;
            match (format, mode) {
                ("2.0", "simple") => {
                    let answer = serde_json::to_value(answer.unwrap()).unwrap();
                    assert_eq!(answer["isAuthorized"], false, "{format} {mode}");
                }
                _ => assert_eq!(
                    answer.err(),
                    Some(AuthorizerError::Unauthorized),
                    "{format} {mode}"
                ),
            }
            let without_header = authorizer.answer_json(&event(format, None), now()).await;
            assert!(
                without_header.is_ok(),
                "{format} {mode}: the cookie is read"
            );
        }
    }
}

#[tokio::test]
async fn the_hmac_secret_is_read_through_the_secrets_extension() {
    use jwt_scopes_api::authorizer::secret_from_extension;
    let server = TestServer::start().await;
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hmac-AbCdEf";
    let path = "/secretsmanager/get?secretId=arn%3Aaws%3Asecretsmanager%3Aeu%2Dwest%2D1%3A123456789012%3Asecret%3Ahmac%2DAbCdEf";
    server.set(
        path,
        Reply::Json(json!({"ARN": arn, "Name": "hmac", "SecretString": SECRET}).to_string()),
    );
    let endpoint = server.url("");
    assert_eq!(
        secret_from_extension(&endpoint, arn, "session")
            .await
            .unwrap(),
        SECRET
    );
    let missing = secret_from_extension(&endpoint, "other", "session")
        .await
        .unwrap_err();
    assert_eq!(missing.variable, "AUTH_HMAC_SECRET_ARN");
    let down = secret_from_extension("http://127.0.0.1:9", arn, "session")
        .await
        .unwrap_err();
    assert!(down.problem.contains("extension"), "{down}");
    let elsewhere = secret_from_extension("http://localhost:9@evil.example", arn, "session")
        .await
        .unwrap_err();
    assert!(elsewhere.problem.contains("must be https"), "{elsewhere}");
}

#[tokio::test]
async fn preloaded_keys_answer_without_a_fetch_and_an_unknown_kid_still_refetches() {
    use jwt_scopes_api::Authorizer;
    use jwt_scopes_api::authorizer::{AuthConfig, preloaded_keys};
    use jwt_scopes_api::token::KeySet;
    use std::collections::HashMap;
    use std::sync::Arc;
    let server = TestServer::start().await;
    let old = TestKey::generate(Algorithm::RS256, "old");
    let new = TestKey::generate(Algorithm::EdDSA, "new");
    server.set("/jwks", Reply::Json(jwks(&[&old, &new])));
    let vars: HashMap<&str, String> = HashMap::from([
        ("AUTH_ISSUER", server.url("/")),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_JWKS_URI", server.url("/jwks")),
        ("AUTH_JWKS", jwks(&[&old])),
    ]);
    let lookup = |name: &str| vars.get(name).cloned();
    let config = AuthConfig::from_lookup(lookup).unwrap();
    let keys: KeySet = preloaded_keys(&config, lookup).unwrap().unwrap();
    let at = now();
    let authorizer = Authorizer::new(config).with_keys(Arc::new(keys), at);
    let iss = server.url("/");
    let old_token = old.sign(&claims(&iss, json!({"scope": "read:products"})));
    assert!(authorizer.verify_token(Some(&old_token), at).await.is_ok());
    assert_eq!(server.hits("/jwks"), 0, "a preloaded key needs no fetch");
    let forged = TestKey::generate(Algorithm::RS256, "old")
        .sign(&claims(&iss, json!({"scope": "read:products"})));
    assert_eq!(
        authorizer
            .verify_token(Some(&forged), at)
            .await
            .unwrap_err(),
        TokenError::BadSignature
    );
    let new_token = new.sign(&claims(&iss, json!({"scope": "read:products"})));
    assert!(
        authorizer.verify_token(Some(&new_token), at).await.is_ok(),
        "an unknown kid fetches the issuer's keys"
    );
    assert_eq!(server.hits("/jwks"), 1);
}
