//! `--authorizer rest-jwt` over real HTTP: the captured `events/product-api/rest-jwt-*` cases
//! replayed with tokens from the development issuer, two configured issuers signing with an RSA
//! and an EC key made here, the algorithms and claims the REST API's JWT authorizer refuses, and
//! the REST payload 1.0 event the handler receives.

mod http;
#[path = "../../../tests/support/mod.rs"]
mod support;

use jsonwebtoken::{Algorithm, Header};
use jwt_scopes_api::EmbeddedCatalog;
use jwt_scopes_api::product_api::{Source, identity_from_context};
use jwt_scopes_api::token::Alg;
use lambda_http::RequestExt as _;
use local_gateway::{AuthorizerMode, EventKind, Gateway, GatewayConfig, GatewayStore, serve};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::{TestKey, TestServer, claims, jwks, now};
use tokio::net::TcpListener;

const READ: &str = "read:products";

/// A gateway in `rest-jwt` mode and the integration events it sent.
struct Rest {
    gateway: Arc<Gateway>,
    base: String,
    events: Arc<Mutex<Vec<Value>>>,
}

/// Status, `WWW-Authenticate` and body of an answer.
struct Answer {
    status: u16,
    challenge: Option<String>,
    body: Value,
}

async fn start(env: &[(&str, String)], store: GatewayStore) -> Rest {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let events: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = events.clone();
    let mut config = GatewayConfig::new(AuthorizerMode::RestJwt);
    config.env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    config.store = store;
    config.observer = Some(Arc::new(move |kind, event: &Value| {
        assert_eq!(kind, EventKind::Integration, "no authorizer is invoked");
        sink.lock().unwrap().push(event.clone());
    }));
    let gateway = Gateway::new(config, addr).unwrap();
    tokio::spawn(serve(listener, gateway.clone()));
    Rest {
        gateway,
        base: format!("http://{addr}"),
        events,
    }
}

impl Rest {
    /// A token of the development issuer: its default claims patched with `patch` (null
    /// removes), signed with `alg`.
    fn dev_token(&self, alg: Alg, patch: Value) -> String {
        let dev = self.gateway.dev_issuer().expect("development issuer");
        let mut claims = claims(dev.issuer(), json!({"scope": READ}));
        for (name, value) in patch.as_object().unwrap() {
            match value {
                Value::Null => claims.as_object_mut().unwrap().remove(name),
                value => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone()),
            };
        }
        dev.sign(alg, &claims).unwrap()
    }

    async fn call(&self, method: &str, path: &str, authorization: Option<&str>) -> Answer {
        self.send(method, path, authorization, None).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        body: Option<(&str, &str)>,
    ) -> Answer {
        let client = reqwest::Client::new();
        let request = http::request(&client, &self.base, method, path, authorization, body);
        let (status, challenge, body) = http::read(request.send().await.unwrap()).await;
        Answer {
            status,
            challenge,
            body,
        }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(&format!("Bearer {token}")))
            .await
    }

    fn take_events(&self) -> Vec<Value> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

/// The REST API's 401: the template's gateway response, with its `WWW-Authenticate: Bearer`.
fn assert_unauthorized(answer: &Answer, context: &str) {
    assert_eq!(answer.status, 401, "{context}: {}", answer.body);
    assert_eq!(answer.body, json!({"message": "Unauthorized"}), "{context}");
    assert_eq!(answer.challenge.as_deref(), Some("Bearer"), "{context}");
}

/// The REST API's 403 for a valid token without any of the method's scopes.
fn assert_forbidden(answer: &Answer, context: &str) {
    assert_eq!(answer.status, 403, "{context}: {}", answer.body);
    assert_eq!(answer.body, json!({"message": "Forbidden"}), "{context}");
    assert_eq!(answer.challenge, None, "{context}");
}

fn keys(value: &Value) -> Vec<&String> {
    value.as_object().unwrap().keys().collect()
}

fn load(path: &str) -> Value {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let text = std::fs::read_to_string(format!("{root}/{path}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_captured_rest_jwt_events_replayed_with_development_tokens() {
    let api = start(&[], GatewayStore::Catalog(EmbeddedCatalog)).await;
    let dev = api.gateway.dev_issuer().unwrap();
    let now = now();
    for case in [
        "rest-jwt-get-product",
        "rest-jwt-put-with-read-scope-only",
        "rest-jwt-unusual-claim-types-list-products",
        "rest-jwt-scp-string-delete-read-only-catalog",
    ] {
        let sample = load(&format!("events/product-api/{case}.json"));
        let expected = load(&format!("events/product-api/{case}.expected.json"));
        // The captured payload, re-issued by the development issuer for this gateway.
        let mut payload = sample["requestContext"]["authorizer"]["claims"].clone();
        payload["iss"] = json!(dev.issuer());
        payload["aud"] = json!("products-api");
        payload["iat"] = json!(now);
        payload["exp"] = json!(now + 600);
        let token = dev.sign(Alg::RS256, &payload).unwrap();
        let method = sample["httpMethod"].as_str().unwrap();
        let path = sample["path"].as_str().unwrap();
        let body = sample["body"]
            .as_str()
            .map(|body| ("application/json", body));
        let answer = api
            .send(method, path, Some(&format!("Bearer {token}")), body)
            .await;
        let events = api.take_events();
        if case == "rest-jwt-put-with-read-scope-only" {
            // The method's any-of scopes stop it at the gateway, before product-api's re-check.
            assert_forbidden(&answer, case);
            assert!(events.is_empty(), "{case}: the integration was not invoked");
            continue;
        }
        assert_eq!(
            answer.status, expected["statusCode"],
            "{case}: {}",
            answer.body
        );
        assert_eq!(answer.body, expected["body"], "{case}");
        let [event] = events.as_slice() else {
            panic!("{case}: one integration event, not {}", events.len());
        };
        let context = &event["requestContext"];
        assert_eq!(
            context["authorizer"],
            json!({"claims": payload}),
            "{case}: the payload as issued, JSON types kept, and nothing else"
        );
        assert_eq!(keys(event), keys(&sample), "{case}: event fields");
        assert_eq!(keys(context), keys(&sample["requestContext"]), "{case}");
        assert_eq!(
            keys(&context["identity"]),
            keys(&sample["requestContext"]["identity"]),
            "{case}"
        );
        for field in ["resource", "path", "httpMethod", "pathParameters"] {
            assert_eq!(event[field], sample[field], "{case}: {field}");
        }
        for field in ["stage", "path", "resourcePath", "httpMethod"] {
            assert_eq!(
                context[field], sample["requestContext"][field],
                "{case}: {field}"
            );
        }
        let request: lambda_http::Request =
            jwt_scopes_api::product_api::read_event(&event.to_string())
                .unwrap()
                .into();
        let context = request.request_context();
        let identity = identity_from_context(&context).expect("an identity");
        assert_eq!(identity.source, Source::RestJwtAuthorizer, "{case}");
    }
}

#[tokio::test]
async fn typed_claims_reach_the_integration_as_issued() {
    let api = start(&[], GatewayStore::default()).await;
    let token = api.dev_token(
        Alg::RS256,
        json!({"scope": null, "scp": [READ, "openid"], "name": "Jos\u{e9} M\u{fc}ller",
               "version": "42", "ratio": 1.5, "admin": true, "address": {"locality": "Z\u{fc}rich"}}),
    );
    let answer = api.get("/products", &token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let events = api.take_events();
    let claims = &events[0]["requestContext"]["authorizer"]["claims"];
    assert!(claims["exp"].is_u64() && claims["iat"].is_u64(), "{claims}");
    assert_eq!(claims["scp"], json!([READ, "openid"]));
    assert_eq!(claims["name"], "Jos\u{e9} M\u{fc}ller");
    assert_eq!(claims["version"], "42");
    assert_eq!(claims["ratio"], 1.5);
    assert_eq!(claims["admin"], true);
    assert_eq!(claims["address"], json!({"locality": "Z\u{fc}rich"}));
}

#[tokio::test]
async fn an_rsa_and_an_ec_issuer_each_with_their_own_audiences() {
    let idp = TestServer::start().await;
    let rsa = TestKey::generate(Algorithm::RS256, "rsa-1");
    let ps = TestKey::generate(Algorithm::PS256, "ps-1");
    let ec = TestKey::generate(Algorithm::ES256, "ec-1");
    let ed = TestKey::generate(Algorithm::EdDSA, "ed-1");
    idp.set("/rsa/jwks", support::Reply::Json(jwks(&[&rsa, &ps])));
    idp.set("/ec/jwks", support::Reply::Json(jwks(&[&ec, &ed])));
    // A trailing slash is part of an issuer: the EC issuer has one, the RSA issuer none.
    let (rsa_iss, ec_iss) = (idp.url("/rsa"), idp.url("/ec/"));
    let config = json!({"issuers": [
        {"issuer": rsa_iss, "audiences": ["products-api"], "jwksUri": idp.url("/rsa/jwks")},
        {"issuer": ec_iss, "audiences": ["shop-api", "products-ec"], "jwksUri": idp.url("/ec/jwks")},
    ]});
    let api = start(
        &[("AUTH_CONFIG", config.to_string())],
        GatewayStore::default(),
    )
    .await;
    assert!(api.gateway.dev_issuer().is_none());
    let rsa_claims = claims(&rsa_iss, json!({"scope": READ}));
    let ec_claims = claims(
        &ec_iss,
        json!({"aud": ["other", "products-ec"], "scp": [READ]}),
    );
    let ok = [
        ("RS256 from the RSA issuer", rsa.sign(&rsa_claims)),
        ("ES256 from the EC issuer", ec.sign(&ec_claims)),
    ];
    for (context, token) in ok {
        let answer = api.get("/product/usb-c-cable-2m", &token).await;
        assert_eq!(answer.status, 200, "{context}: {}", answer.body);
    }
    let mut es_under_rsa_kid = Header::new(Algorithm::ES256);
    es_under_rsa_kid.kid = Some("rsa-1".into());
    let hs = TestKey::hmac(Algorithm::HS256, "an-hmac-secret-of-at-least-32-bytes!");
    let refused = [
        ("PS256 (RSA-PSS is not offered)", ps.sign(&rsa_claims)),
        ("EdDSA", ed.sign(&ec_claims)),
        ("HS256", hs.sign(&rsa_claims)),
        (
            "ES256 under the RSA key's kid",
            ec.sign_with(&es_under_rsa_kid, &rsa_claims),
        ),
        (
            "the other issuer's audience",
            ec.sign(&claims(
                &ec_iss,
                json!({"aud": "products-api", "scp": READ}),
            )),
        ),
        (
            "the EC issuer without its trailing slash",
            ec.sign(&claims(
                ec_iss.trim_end_matches('/'),
                json!({"aud": "products-ec", "scp": READ}),
            )),
        ),
        (
            "signed by the other issuer's key",
            rsa.sign(&claims(&ec_iss, json!({"aud": "products-ec", "scp": READ}))),
        ),
        (
            "client_id naming the audience, no aud",
            rsa.sign(&claims(
                &rsa_iss,
                json!({"aud": null, "client_id": "products-api", "scope": READ}),
            )),
        ),
    ];
    for (context, token) in refused {
        let answer = api.get("/product/usb-c-cable-2m", &token).await;
        assert_unauthorized(&answer, context);
    }
    // A key the issuer published after the first fetch: the unknown kid refetches its JWKS.
    let rotated = TestKey::generate(Algorithm::RS512, "rsa-2");
    idp.set("/rsa/jwks", support::Reply::Json(jwks(&[&rsa, &rotated])));
    let answer = api.get("/products", &rotated.sign(&rsa_claims)).await;
    assert_eq!(answer.status, 200, "rotated key: {}", answer.body);
    assert_eq!(idp.hits("/rsa/jwks"), 2);
}

#[tokio::test]
async fn tokens_and_claims_the_rest_jwt_authorizer_refuses() {
    let api = start(&[], GatewayStore::default()).await;
    let path = "/product/usb-c-cable-2m";
    assert_unauthorized(&api.call("GET", path, None).await, "no header");
    assert_unauthorized(&api.call("GET", path, Some("Bearer ")).await, "empty");
    assert_unauthorized(
        &api.call("GET", path, Some("Bearer x.y.z")).await,
        "garbage",
    );
    let bare = api.dev_token(Alg::RS256, json!({}));
    assert_eq!(
        api.call("GET", path, Some(&bare)).await.status,
        200,
        "bare token"
    );
    let now = now();
    let unauthorized = [
        // The development key has no `alg`: only the algorithm list refuses RSA-PSS.
        ("PS256 from the development key", Alg::PS256, json!({})),
        (
            "expired a moment ago (no leeway)",
            Alg::RS256,
            json!({"exp": now - 5}),
        ),
        (
            "not before a moment from now",
            Alg::RS256,
            json!({"nbf": now + 5}),
        ),
        (
            "exp as a string",
            Alg::RS256,
            json!({"exp": (now + 600).to_string()}),
        ),
        ("no exp", Alg::RS256, json!({"exp": null})),
        (
            "no aud, only client_id",
            Alg::RS256,
            json!({"aud": null, "client_id": "products-api"}),
        ),
        ("another audience", Alg::RS256, json!({"aud": "orders-api"})),
    ];
    for (context, alg, patch) in unauthorized {
        assert_unauthorized(&api.get(path, &api.dev_token(alg, patch)).await, context);
    }
    let forbidden = [
        (
            "permissions only",
            json!({"scope": null, "permissions": [READ]}),
        ),
        ("scopes only", json!({"scope": null, "scopes": [READ]})),
        ("another scope", json!({"scope": "write:products"})),
        (
            "a look-alike scope",
            json!({"scope": null, "scp": ["read:products-archive"]}),
        ),
    ];
    for (context, patch) in forbidden {
        assert_forbidden(
            &api.get(path, &api.dev_token(Alg::RS256, patch)).await,
            context,
        );
    }
    let granted = [
        json!({"scope": format!("openid {READ}")}),
        json!({"scope": [READ]}),
        json!({"scope": null, "scp": READ}),
        json!({"scope": null, "scp": ["openid", READ]}),
    ];
    for patch in granted {
        let answer = api
            .get(path, &api.dev_token(Alg::RS256, patch.clone()))
            .await;
        assert_eq!(answer.status, 200, "{patch}: {}", answer.body);
    }
    let missing = api.call("GET", "/orders", None).await;
    assert_eq!(missing.status, 403, "a REST API without the resource");
    assert_eq!(
        missing.body,
        json!({"message": "Missing Authentication Token"})
    );
}

#[tokio::test]
async fn a_configured_token_use_is_a_required_claim() {
    let api = start(
        &[("AUTH_TOKEN_USE", "access".into())],
        GatewayStore::default(),
    )
    .await;
    let path = "/products";
    let access = api.dev_token(Alg::RS256, json!({"token_use": "access"}));
    assert_eq!(api.get(path, &access).await.status, 200);
    for patch in [
        json!({}),
        json!({"token_use": "id"}),
        json!({"token_use": "Access"}),
    ] {
        let answer = api
            .get(path, &api.dev_token(Alg::RS256, patch.clone()))
            .await;
        assert_unauthorized(&answer, &patch.to_string());
    }
}

/// `AUTH_REQUIRED_CLAIMS` as the REST JWT authorizer's `AdditionalClaims`: exact values,
/// several any-of, `required` refusing an absent claim, an optional claim still checked when
/// present; a refusal is 401 and comes before the scope check (403).
#[tokio::test]
async fn required_claims_are_the_rest_jwt_authorizers_additional_claims() {
    let rules = json!([
        {"name": "tenant", "values": ["acme", "globex"], "required": true},
        {"name": "plan", "values": ["pro"]},
        {"name": "email_verified", "required": true},
    ]);
    let api = start(
        &[("AUTH_REQUIRED_CLAIMS", rules.to_string())],
        GatewayStore::default(),
    )
    .await;
    let path = "/products";
    let with = |patch: Value| {
        let mut claims = json!({"tenant": "acme", "email_verified": true});
        claims
            .as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        api.dev_token(Alg::RS256, claims)
    };
    for patch in [
        json!({}),
        json!({"tenant": "globex", "plan": "pro"}),
        json!({"email_verified": "yes"}),
    ] {
        let answer = api.get(path, &with(patch.clone())).await;
        assert_eq!(answer.status, 200, "{patch}: {}", answer.body);
    }
    for patch in [
        json!({"tenant": null}),
        json!({"tenant": "ACME"}),
        json!({"tenant": ["acme"]}),
        json!({"plan": "free"}),
        json!({"plan": 1}),
        json!({"email_verified": null}),
        json!({"tenant": "initech", "scope": "write:products"}),
    ] {
        assert_unauthorized(
            &api.get(path, &with(patch.clone())).await,
            &patch.to_string(),
        );
    }
    assert_forbidden(
        &api.get(path, &with(json!({"scope": "write:products"})))
            .await,
        "claims accepted, scope missing",
    );
}

#[test]
fn configurations_the_rest_jwt_mode_refuses() {
    let local = "127.0.0.1:3000".parse().unwrap();
    let gateway = |env: &[(&str, &str)]| {
        let mut config = GatewayConfig::new(AuthorizerMode::RestJwt);
        config.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Gateway::new(config, local).map(|_| ()).map_err(|e| e.0)
    };
    let error = gateway(&[("AUTH_ALGORITHMS", "RS256, PS256")]).unwrap_err();
    assert!(
        error.starts_with("AUTH_ALGORITHMS") && error.contains("PS256"),
        "{error}"
    );
    assert!(gateway(&[("AUTH_ALGORITHMS", "ES256, RS512")]).is_ok());
    let hmac = gateway(&[
        ("AUTH_ISSUER", "internal"),
        ("AUTH_AUDIENCE", "products-api"),
        ("AUTH_HMAC_SECRET", "an-hmac-secret-of-at-least-32-bytes!"),
    ])
    .unwrap_err();
    assert!(hmac.contains("HMAC"), "{hmac}");
    assert_eq!(
        "rest-jwt".parse::<AuthorizerMode>(),
        Ok(AuthorizerMode::RestJwt)
    );
    assert_eq!(AuthorizerMode::RestJwt.to_string(), "rest-jwt");
}
