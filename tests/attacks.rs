//! The attack suite: tokens an attacker can make, each of which must be refused with the right
//! answer (`Unauthorized`, i.e. 401, for a bad token; a `Deny`, i.e. 403, for a good token
//! without the scope). `tests/authorizer.rs` holds the forged-signature and stale-claim cases;
//! SECURITY.md maps every attack to its test.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, Header};
use jwt_scopes_api::token::TokenError;
use jwt_scopes_api::{Authorizer, AuthorizerError};
use serde_json::{Value, json};
use support::{Reply, TestKey, TestServer, authorizer, claims, decide, jwks, jwks_authorizer, now};

struct Setup {
    server: TestServer,
    key: TestKey,
    authorizer: Authorizer,
}

async fn setup(alg: Algorithm, extra: &[(&str, String)]) -> Setup {
    let server = TestServer::start().await;
    let key = TestKey::generate(alg, "k1");
    server.set("/jwks", Reply::Json(jwks(&[&key])));
    Setup {
        authorizer: jwks_authorizer(&server, extra),
        server,
        key,
    }
}

impl Setup {
    fn claims(&self, extra: Value) -> Value {
        let mut all = json!({"scope": "read:products"});
        all.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims(&self.server.url("/"), all)
    }

    async fn decide(
        &self,
        token: &str,
        method: &str,
        path: &str,
    ) -> Result<Value, AuthorizerError> {
        decide(&self.authorizer, token, method, path).await
    }
}

/// A token with this header and payload and a signature of our choosing.
fn raw_token(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string()),
        B64.encode(signature)
    )
}

#[tokio::test]
async fn an_embedded_jwk_header_is_never_trusted() {
    let s = setup(Algorithm::RS256, &[]).await;
    let attacker = TestKey::generate(Algorithm::RS256, "k1");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    header.jwk = Some(serde_json::from_value(attacker.jwk.clone()).unwrap());
    let token = attacker.sign_with(&header, &s.claims(json!({})));
    assert_eq!(
        s.decide(&token, "GET", "/products").await,
        Err(AuthorizerError::Unauthorized)
    );
}

#[tokio::test]
async fn x5u_and_jku_headers_are_never_fetched() {
    let s = setup(Algorithm::RS256, &[]).await;
    let attacker = TestKey::generate(Algorithm::RS256, "evil");
    s.server.set("/evil", Reply::Json(jwks(&[&attacker])));
    for field in ["jku", "x5u"] {
        let header = json!({"alg": "RS256", "kid": "evil", field: s.server.url("/evil")});
        let mut jwt_header: Header = serde_json::from_value(header).unwrap();
        jwt_header.kid = Some("evil".into());
        let token = attacker.sign_with(&jwt_header, &s.claims(json!({})));
        assert_eq!(
            s.decide(&token, "GET", "/products").await,
            Err(AuthorizerError::Unauthorized),
            "{field}"
        );
    }
    assert_eq!(s.server.hits("/evil"), 0);
}

#[tokio::test]
async fn hostile_kid_values_are_just_unknown_keys() {
    let s = setup(
        Algorithm::RS256,
        &[("AUTH_JWKS_COOLDOWN_SECONDS", "3600".into())],
    )
    .await;
    for kid in [
        "../../../../etc/passwd",
        "' OR '1'='1",
        "k1\u{0}",
        "k1 ",
        "K1",
        "",
        "%6b1",
        "k1/../k1",
    ] {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        let token = s.key.sign_with(&header, &s.claims(json!({})));
        assert_eq!(
            s.authorizer
                .verify_token(Some(&token), now())
                .await
                .unwrap_err(),
            TokenError::UnknownKey,
            "{kid:?}"
        );
    }
    assert_eq!(
        s.server.hits("/jwks"),
        1,
        "hostile kids cause no refetch within the cooldown"
    );
}

#[tokio::test]
async fn a_psychic_ecdsa_signature_is_refused() {
    let s = setup(Algorithm::ES256, &[]).await;
    let header = json!({"alg": "ES256", "kid": "k1", "typ": "JWT"});
    for signature in [vec![0u8; 64], vec![], vec![0u8; 72]] {
        let token = raw_token(&header, &s.claims(json!({})), &signature);
        assert_eq!(
            s.decide(&token, "GET", "/products").await,
            Err(AuthorizerError::Unauthorized)
        );
    }
}

#[tokio::test]
async fn alg_confusion_and_none_in_every_spelling() {
    let s = setup(Algorithm::RS256, &[]).await;
    let payload = s.claims(json!({}));
    for alg in [
        "none", "None", "NONE", "nOnE", "HS256", "ES256", "EdDSA", "RS1", "", "PS256 ",
    ] {
        let header = json!({"alg": alg, "kid": "k1"});
        let token = raw_token(&header, &payload, b"");
        assert_eq!(
            s.decide(&token, "GET", "/products").await,
            Err(AuthorizerError::Unauthorized),
            "{alg:?}"
        );
    }
    let narrowed = setup(Algorithm::RS256, &[("AUTH_ALGORITHMS", "ES256".into())]).await;
    let token = narrowed.key.sign(&narrowed.claims(json!({})));
    assert_eq!(
        narrowed
            .authorizer
            .verify_token(Some(&token), now())
            .await
            .unwrap_err(),
        TokenError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn an_id_token_is_not_an_access_token() {
    let cognito = setup(Algorithm::RS256, &[("AUTH_TOKEN_USE", "access".into())]).await;
    let id_token = cognito
        .key
        .sign(&cognito.claims(json!({"token_use": "id"})));
    assert_eq!(
        cognito.decide(&id_token, "GET", "/products").await,
        Err(AuthorizerError::Unauthorized)
    );
    let access = cognito
        .key
        .sign(&cognito.claims(json!({"token_use": "access"})));
    assert!(cognito.decide(&access, "GET", "/products").await.is_ok());

    let rfc9068 = setup(Algorithm::RS256, &[("AUTH_REQUIRED_TYP", "at+jwt".into())]).await;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let plain = rfc9068.key.sign_with(&header, &rfc9068.claims(json!({})));
    assert_eq!(
        rfc9068.decide(&plain, "GET", "/products").await,
        Err(AuthorizerError::Unauthorized)
    );
    header.typ = Some("at+jwt".into());
    let access = rfc9068.key.sign_with(&header, &rfc9068.claims(json!({})));
    assert!(rfc9068.decide(&access, "GET", "/products").await.is_ok());
}

#[tokio::test]
async fn a_token_for_another_api_is_refused() {
    let s = setup(Algorithm::RS256, &[]).await;
    for aud in [
        json!("billing-api"),
        json!(["billing-api"]),
        json!([]),
        json!("products-api "),
    ] {
        let token = s.key.sign(&s.claims(json!({"aud": aud})));
        assert_eq!(
            s.decide(&token, "GET", "/products").await,
            Err(AuthorizerError::Unauthorized),
            "{aud}"
        );
    }
}

#[tokio::test]
async fn scope_look_alikes_get_a_deny_not_an_allow() {
    let s = setup(Algorithm::RS256, &[]).await;
    for scope in [
        json!("read:products-x"),
        json!("READ:PRODUCTS"),
        json!("read:product"),
        json!("read:productsread:products"),
        json!(["read:products-archive"]),
        json!("write:products"),
    ] {
        let token = s.key.sign(&s.claims(json!({"scope": scope})));
        let policy = s.decide(&token, "GET", "/products").await.unwrap();
        let statements = policy["policyDocument"]["Statement"].as_array().unwrap();
        let denied = statements.iter().any(|st| st["Effect"] == "Deny");
        let allowed_here = statements
            .iter()
            .filter(|st| st["Effect"] == "Allow")
            .flat_map(|st| st["Resource"].as_array().unwrap())
            .any(|r| r.as_str().unwrap().ends_with("/GET/products"));
        assert!(denied && !allowed_here, "{scope}: {policy}");
    }
}

#[tokio::test]
async fn oversized_and_malformed_tokens_are_refused_unparsed() {
    let s = setup(Algorithm::RS256, &[]).await;
    let valid = s.key.sign(&s.claims(json!({})));
    let huge_claims = s
        .key
        .sign(&s.claims(json!({"padding": "x".repeat(20_000)})));
    let nested: Value =
        serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100))).unwrap();
    let deep = raw_token(&json!({"alg": "RS256", "kid": "k1"}), &nested, b"x");
    for (name, token) in [
        ("huge claims", huge_claims),
        ("deep JSON", deep),
        ("two segments", valid.rsplit_once('.').unwrap().0.to_owned()),
        ("four segments", format!("{valid}.AAAA")),
        (
            "standard base64",
            valid.replace('-', "+").replace('_', "/") + "+/",
        ),
        ("tab inside", valid.replacen('.', ".\t", 1)),
        (
            "header not JSON",
            format!(
                "{}.{}",
                B64.encode("not json"),
                valid.split_once('.').unwrap().1
            ),
        ),
        ("unicode", format!("{valid}é")),
    ] {
        assert_eq!(
            s.decide(&token, "GET", "/products").await,
            Err(AuthorizerError::Unauthorized),
            "{name}"
        );
    }
    assert!(s.decide(&valid, "GET", "/products").await.is_ok());
}

#[tokio::test]
async fn a_jwks_with_duplicate_and_malformed_keys_still_verifies_only_real_signatures() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "dup");
    let twin = TestKey::generate(Algorithm::RS256, "dup");
    let mut document: Value = serde_json::from_str(&jwks(&[&twin, &key])).unwrap();
    let keys = document["keys"].as_array_mut().unwrap();
    keys.push(json!({"kty": "RSA", "kid": "dup", "n": "!!!", "e": "AQAB"}));
    keys.push(json!({"kty": "EC", "kid": "dup", "crv": "P-256"}));
    keys.push(json!("not a key"));
    server.set("/jwks", Reply::Json(document.to_string()));
    let authorizer = authorizer(&[
        ("AUTH_ISSUER", server.url("/")),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_JWKS_URI", server.url("/jwks")),
    ]);
    let iss = server.url("/");
    for signer in [&key, &twin] {
        let token = signer.sign(&claims(&iss, json!({"scope": "read:products"})));
        assert!(authorizer.verify_token(Some(&token), now()).await.is_ok());
    }
    let stranger = TestKey::generate(Algorithm::RS256, "dup");
    let token = stranger.sign(&claims(&iss, json!({"scope": "read:products"})));
    assert_eq!(
        authorizer
            .verify_token(Some(&token), now())
            .await
            .unwrap_err(),
        TokenError::BadSignature
    );
}

#[tokio::test]
async fn keys_rotate_during_traffic_without_a_cold_start() {
    let server = TestServer::start().await;
    let old = TestKey::generate(Algorithm::ES256, "2026-01");
    let new = TestKey::generate(Algorithm::ES256, "2026-02");
    server.set("/jwks", Reply::Json(jwks(&[&old])));
    let authorizer = authorizer(&[
        ("AUTH_ISSUER", server.url("/")),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_JWKS_URI", server.url("/jwks")),
    ]);
    let iss = server.url("/");
    let start = now();
    let traffic = |key: &TestKey| key.sign(&claims(&iss, json!({"scope": "read:products"})));
    for second in 0..30 {
        if second == 12 {
            server.set("/jwks", Reply::Json(jwks(&[&old, &new])));
        }
        if second == 25 {
            server.set("/jwks", Reply::Json(jwks(&[&new])));
        }
        let at = start + second;
        let old_result = authorizer.verify_token(Some(&traffic(&old)), at).await;
        let new_result = authorizer.verify_token(Some(&traffic(&new)), at).await;
        assert!(
            old_result.is_ok(),
            "old key keeps working until its cache expires (second {second})"
        );
        if second >= 20 {
            assert!(
                new_result.is_ok(),
                "new key picked up within one cooldown of its publication (second {second})"
            );
        }
    }
    assert!(
        server.hits("/jwks") <= 4,
        "refetches stay bounded: {}",
        server.hits("/jwks")
    );
}
