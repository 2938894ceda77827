//! Tokens shaped exactly as real issuers mint them, verified by the authorizer against keys
//! generated here and served from a real JWKS server on 127.0.0.1: Cognito user-pool access and
//! ID tokens (resource-server scope names, `client_id` without `aud`), RFC 9068 `at+jwt` access
//! tokens (`aud` and `client_id`), P-521 (ES512) and RFC 9864 `Ed25519` keys, JWK `key_ops`, and
//! RFC 8414 metadata where OpenID Connect discovery is absent.

mod support;

use jsonwebtoken::{Algorithm, Header};
use jwt_scopes_api::AuthorizerError;
use jwt_scopes_api::token::TokenError;
use serde_json::{Value, json};
use support::{RawKey, Reply, TestKey, TestServer, authorizer, decide, jwks, keys_document, now};

const POOL: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";
const APP_CLIENT: &str = "4j5vbcl2tq7kacjp3gv0sr5ram";

/// A Cognito user-pool access token's claims, as Cognito writes them: no `aud`, the app client
/// in `client_id`, `token_use: access`, custom scopes named `resource-server/scope`.
fn cognito_access(scope: &str) -> Value {
    let now = now();
    json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "iss": POOL,
        "version": 2,
        "client_id": APP_CLIENT,
        "origin_jti": "bbbbbbbb-cccc-dddd-eeee-ffffffffffff",
        "event_id": "cccccccc-dddd-eeee-ffff-000000000000",
        "token_use": "access",
        "scope": scope,
        "auth_time": now - 10,
        "exp": now + 3600,
        "iat": now - 10,
        "jti": "dddddddd-eeee-ffff-0000-111111111111",
        "username": "jane"
    })
}

/// A Cognito ID token's claims: `aud` is the app client, no scope.
fn cognito_id() -> Value {
    let now = now();
    json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "email_verified": true,
        "iss": POOL,
        "cognito:username": "jane",
        "origin_jti": "bbbbbbbb-cccc-dddd-eeee-ffffffffffff",
        "aud": APP_CLIENT,
        "event_id": "cccccccc-dddd-eeee-ffff-000000000000",
        "token_use": "id",
        "auth_time": now - 10,
        "exp": now + 3600,
        "iat": now - 10,
        "jti": "eeeeeeee-ffff-0000-1111-222222222222",
        "email": "jane@example.com"
    })
}

/// The authorizer a Cognito deployment configures: the pool as issuer, the app client as
/// audience, access tokens only, scopes under the `products` resource server.
fn cognito_authorizer(server: &TestServer) -> jwt_scopes_api::Authorizer {
    authorizer(&[
        ("AUTH_ISSUER", POOL.into()),
        ("AUTH_AUDIENCE", APP_CLIENT.into()),
        ("AUTH_JWKS_URI", server.url("/jwks")),
        ("AUTH_TOKEN_USE", "access".into()),
        ("SCOPE_NAMES", "products/{scope}".into()),
    ])
}

/// A key server on 127.0.0.1 publishing one fresh RS256 key with this `kid`, and the key.
async fn issuer_with_key(kid: &str) -> (TestServer, TestKey) {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, kid);
    server.set("/jwks", Reply::Json(jwks(&[&key])));
    (server, key)
}

fn allowed(decision: &Result<Value, AuthorizerError>) -> bool {
    decision.as_ref().is_ok_and(|policy| {
        policy["policyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["Effect"] == "Allow")
    })
}

#[tokio::test]
async fn cognito_access_tokens_with_resource_server_scopes_are_allowed() {
    let (server, key) = issuer_with_key("cognito-kid").await;
    let authorizer = cognito_authorizer(&server);
    let read = key.sign(&cognito_access("products/read:products"));
    assert!(allowed(
        &decide(&authorizer, &read, "GET", "/products").await
    ));
    let policy = decide(&authorizer, &read, "PUT", "/product/widget")
        .await
        .unwrap();
    assert_eq!(policy["policyDocument"]["Statement"][1]["Effect"], "Deny");
    assert_eq!(policy["context"]["scope"], "products/read:products");

    let both = key.sign(&cognito_access(
        "products/read:products products/write:products",
    ));
    assert!(allowed(
        &decide(&authorizer, &both, "DELETE", "/product/widget").await
    ));
}

#[tokio::test]
async fn with_scope_names_set_bare_and_foreign_names_grant_nothing() {
    let (server, key) = issuer_with_key("cognito-kid").await;
    let authorizer = cognito_authorizer(&server);
    for scope in [
        "read:products",
        "billing/read:products",
        "products/read:products-archive",
    ] {
        let token = key.sign(&cognito_access(scope));
        let policy = decide(&authorizer, &token, "GET", "/products")
            .await
            .unwrap();
        assert_eq!(
            policy["policyDocument"]["Statement"][0]["Effect"], "Deny",
            "{scope}"
        );
    }
}

#[tokio::test]
async fn cognito_id_tokens_are_refused_where_access_tokens_are_required() {
    let (server, key) = issuer_with_key("cognito-kid").await;
    let authorizer = cognito_authorizer(&server);
    assert_eq!(
        authorizer
            .verify_token(Some(&key.sign(&cognito_id())), now())
            .await
            .unwrap_err(),
        TokenError::WrongTokenType
    );
}

/// An RFC 9068 access token: `typ: at+jwt`, `aud` the resource server, `client_id` the client.
fn rfc9068(aud: Value, client_id: &str, issuer: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer,
        "exp": now + 300,
        "aud": aud,
        "sub": "5ba552d67",
        "client_id": client_id,
        "iat": now,
        "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
        "scope": "openid read:products"
    })
}

#[tokio::test]
async fn rfc9068_a_token_for_another_api_is_refused_even_when_its_client_is_listed() {
    let (server, key) = issuer_with_key("op").await;
    let issuer = server.url("/");
    // A Cognito-style configuration lists the client id beside the API identifier.
    let authorizer = authorizer(&[
        ("AUTH_ISSUER", issuer.clone()),
        (
            "AUTH_AUDIENCE",
            "https://api.example.com/products,s6BhdRkqt3".into(),
        ),
        ("AUTH_JWKS_URI", server.url("/jwks")),
        ("AUTH_REQUIRED_TYP", "at+jwt".into()),
    ]);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("op".into());
    header.typ = Some("at+jwt".into());
    let sign = |claims: &Value| key.sign_with(&header, claims);

    let ours = sign(&rfc9068(
        json!("https://api.example.com/products"),
        "s6BhdRkqt3",
        &issuer,
    ));
    assert!(authorizer.verify_token(Some(&ours), now()).await.is_ok());
    let ours_among_others = sign(&rfc9068(
        json!([
            "https://billing.example.com",
            "https://api.example.com/products"
        ]),
        "other-client",
        &issuer,
    ));
    assert!(
        authorizer
            .verify_token(Some(&ours_among_others), now())
            .await
            .is_ok()
    );
    let billing = sign(&rfc9068(
        json!("https://billing.example.com"),
        "s6BhdRkqt3",
        &issuer,
    ));
    assert_eq!(
        authorizer
            .verify_token(Some(&billing), now())
            .await
            .unwrap_err(),
        TokenError::WrongAudience
    );
    let empty = sign(&rfc9068(json!([]), "s6BhdRkqt3", &issuer));
    assert_eq!(
        authorizer
            .verify_token(Some(&empty), now())
            .await
            .unwrap_err(),
        TokenError::WrongAudience
    );
    let plain_jwt = key.sign(&rfc9068(
        json!("https://api.example.com/products"),
        "s6BhdRkqt3",
        &issuer,
    ));
    assert_eq!(
        authorizer
            .verify_token(Some(&plain_jwt), now())
            .await
            .unwrap_err(),
        TokenError::WrongTokenType,
        "RFC 9068 §2.1: typ at+jwt is required when configured"
    );
}

#[tokio::test]
async fn the_same_audience_rule_holds_for_every_issuer_of_a_document() {
    let (server, key) = issuer_with_key("op").await;
    let issuer = server.url("/");
    let document = json!({"issuers": [
        {"issuer": issuer, "audiences": ["s6BhdRkqt3"], "jwksUri": server.url("/jwks")},
        {"issuer": POOL, "audiences": [APP_CLIENT], "jwksUri": server.url("/jwks")},
    ]});
    let authorizer = authorizer(&[("AUTH_CONFIG", document.to_string())]);
    let billing = key.sign(&rfc9068(
        json!("https://billing.example.com"),
        "s6BhdRkqt3",
        &issuer,
    ));
    assert_eq!(
        authorizer
            .verify_token(Some(&billing), now())
            .await
            .unwrap_err(),
        TokenError::WrongAudience
    );
    let cognito = key.sign(&cognito_access("products/read:products"));
    assert!(authorizer.verify_token(Some(&cognito), now()).await.is_ok());
}

#[tokio::test]
async fn es512_tokens_verify_with_p521_keys() {
    let server = TestServer::start().await;
    let key = RawKey::p521();
    server.set(
        "/jwks",
        Reply::Json(keys_document(&[
            key.jwk("p521", json!({"alg": "ES512", "use": "sig"}))
        ])),
    );
    let issuer = server.url("/");
    let authorizer = support::jwks_authorizer(&server, &[]);
    let claims = support::claims(&issuer, json!({"scope": "read:products"}));
    let token = key.sign(json!({"alg": "ES512", "kid": "p521"}), &claims);
    assert!(allowed(
        &decide(&authorizer, &token, "GET", "/products").await
    ));
    let mislabelled = key.sign(json!({"alg": "ES256", "kid": "p521"}), &claims);
    assert_eq!(
        authorizer
            .verify_token(Some(&mislabelled), now())
            .await
            .unwrap_err(),
        TokenError::UnknownKey,
        "a P-521 key verifies ES512 only"
    );
    let last = if token.ends_with('A') { "B" } else { "A" };
    let tampered = format!("{}{last}", &token[..token.len() - 1]);
    assert!(
        authorizer
            .verify_token(Some(&tampered), now())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn rfc9864_ed25519_is_accepted_beside_eddsa_and_can_be_chosen_alone() {
    let server = TestServer::start().await;
    let key = RawKey::ed25519();
    server.set(
        "/jwks",
        Reply::Json(keys_document(&[key.jwk("ed", json!({"alg": "Ed25519"}))])),
    );
    let issuer = server.url("/");
    let claims = support::claims(&issuer, json!({"scope": "read:products"}));
    let fully_specified = key.sign(json!({"alg": "Ed25519", "kid": "ed"}), &claims);
    let polymorphic = key.sign(json!({"alg": "EdDSA", "kid": "ed"}), &claims);
    let any = support::jwks_authorizer(&server, &[]);
    assert!(
        any.verify_token(Some(&fully_specified), now())
            .await
            .is_ok()
    );
    assert!(any.verify_token(Some(&polymorphic), now()).await.is_ok());
    let only_ed25519 = support::jwks_authorizer(&server, &[("AUTH_ALGORITHMS", "Ed25519".into())]);
    assert!(
        only_ed25519
            .verify_token(Some(&fully_specified), now())
            .await
            .is_ok()
    );
    assert_eq!(
        only_ed25519
            .verify_token(Some(&polymorphic), now())
            .await
            .unwrap_err(),
        TokenError::AlgorithmNotAllowed
    );
}

#[tokio::test]
async fn rfc7517_a_key_whose_key_ops_lack_verify_never_verifies() {
    let server = TestServer::start().await;
    let encrypting = RawKey::ed25519();
    let signing = RawKey::ed25519();
    server.set(
        "/jwks",
        Reply::Json(keys_document(&[
            encrypting.jwk("enc", json!({"key_ops": ["encrypt", "wrapKey"]})),
            signing.jwk("sig", json!({"key_ops": ["verify"]})),
        ])),
    );
    let issuer = server.url("/");
    let authorizer = support::jwks_authorizer(&server, &[]);
    let claims = support::claims(&issuer, json!({"scope": "read:products"}));
    let by_encryption_key = encrypting.sign(json!({"alg": "EdDSA", "kid": "enc"}), &claims);
    assert_eq!(
        authorizer
            .verify_token(Some(&by_encryption_key), now())
            .await
            .unwrap_err(),
        TokenError::UnknownKey
    );
    let by_signing_key = signing.sign(json!({"alg": "EdDSA", "kid": "sig"}), &claims);
    assert!(
        authorizer
            .verify_token(Some(&by_signing_key), now())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rfc8414_metadata_is_used_when_openid_discovery_is_absent() {
    let server = TestServer::start().await;
    let key = TestKey::generate(Algorithm::ES256, "as");
    let issuer = server.url("/");
    server.set("/keys", Reply::Json(jwks(&[&key])));
    server.set(
        "/.well-known/oauth-authorization-server",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": server.url("/keys")}).to_string()),
    );
    let authorizer = authorizer_for(&server);
    let token = key.sign(&support::claims(&issuer, json!({"scope": "read:products"})));
    assert!(authorizer.verify_token(Some(&token), now()).await.is_ok());
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);

    let other = TestServer::start().await;
    other.set("/keys", Reply::Json(jwks(&[&key])));
    other.set(
        "/.well-known/oauth-authorization-server",
        Reply::Json(
            json!({"issuer": "https://impostor.example/", "jwks_uri": other.url("/keys")})
                .to_string(),
        ),
    );
    let impostor = authorizer_for(&other);
    let token = key.sign(&support::claims(&other.url("/"), json!({})));
    assert_eq!(
        impostor
            .verify_token(Some(&token), now())
            .await
            .unwrap_err(),
        TokenError::KeysUnavailable,
        "the metadata must name the issuer exactly"
    );
    assert_eq!(other.hits("/keys"), 0);
}

fn authorizer_for(server: &TestServer) -> jwt_scopes_api::Authorizer {
    authorizer(&[
        ("AUTH_ISSUER", server.url("/")),
        ("AUTH_AUDIENCE", "products-api".into()),
    ])
}
