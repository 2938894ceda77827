//! The authorizer guarding an API from its OpenAPI document (`AUTH_ROUTES`): our own generated
//! document decides exactly as the compiled-in table does; a third-party style document decides
//! as its `security` blocks say, and its policies list every route it permits; required claims
//! and the principal claim, through whole REST `TOKEN` events.

mod support;

use jsonwebtoken::Algorithm;
use jwt_scopes_api::ROUTES;
use jwt_scopes_api::{Authorizer, AuthorizerError};
use serde_json::{Value, json};
use support::{TestKey, authorizer, claims, decide};

const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";
const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:api1234567/prod";

fn hmac_vars<'a>(extra: &[(&'a str, String)]) -> Vec<(&'a str, String)> {
    let mut vars = vec![
        ("AUTH_ISSUER", "internal".to_owned()),
        ("AUTH_AUDIENCE", "products-api".to_owned()),
        ("AUTH_HMAC_SECRET", SECRET.to_owned()),
    ];
    vars.extend(extra.iter().cloned());
    vars
}

fn token(extra: Value) -> String {
    TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims("internal", extra))
}

fn scoped(scopes: &[&str]) -> String {
    token(json!({"scope": scopes.join(" ")}))
}

/// Whether the policy lets the caller invoke `method path`, as IAM evaluates it.
fn allowed(policy: &Value, method: &str, path: &str) -> bool {
    support::iam::allows(policy, &format!("{ARN}/{method}{path}"))
}

/// The resources the policy for a token with `scopes`, asking for `method path`, allows, the
/// API's ARN cut off.
async fn allowed_resources(
    authorizer: &Authorizer,
    scopes: &[&str],
    method: &str,
    path: &str,
) -> Vec<String> {
    let policy = decide(authorizer, &scoped(scopes), method, path)
        .await
        .unwrap();
    policy["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| s["Resource"].as_array().unwrap().iter())
        .map(|r| r.as_str().unwrap().trim_start_matches(ARN).to_owned())
        .collect()
}

/// An answer with each statement's resources sorted: IAM reads a `Resource` list as a set, and
/// the document lists its paths in another order than the compiled table.
fn in_any_order(mut answer: Value) -> Value {
    if let Some(statements) = answer["policyDocument"]["Statement"].as_array_mut() {
        for statement in statements {
            if let Some(resources) = statement["Resource"].as_array_mut() {
                resources.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
    }
    answer
}

#[tokio::test]
async fn our_own_document_decides_exactly_as_the_compiled_table() {
    let document = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json").to_owned();
    let compiled = authorizer(&hmac_vars(&[]));
    let from_document = authorizer(&hmac_vars(&[("AUTH_ROUTES", document)]));
    let mut requests: Vec<(&str, String)> = ROUTES
        .iter()
        .map(|r| (r.method, r.path.replace("{name}", "widget")))
        .collect();
    requests.extend([
        ("POST", "/products".to_owned()),
        ("GET", "/nowhere".to_owned()),
    ]);
    let grants: [&[&str]; 6] = [
        &[],
        &["read:products"],
        &["write:products"],
        &["read:products", "write:products"],
        &["read:products-archive", "READ:PRODUCTS"],
        &["openid"],
    ];
    let mut allows = 0;
    for scopes in grants {
        let token = scoped(scopes);
        for (method, path) in &requests {
            let expected = decide(&compiled, &token, method, path).await.unwrap();
            let actual = decide(&from_document, &token, method, path).await.unwrap();
            assert_eq!(
                in_any_order(actual.clone()),
                in_any_order(expected),
                "{method} {path} with {scopes:?}"
            );
            allows += usize::from(allowed(&actual, method, path));
        }
    }
    assert_eq!(allows, 2 + 2 + 4, "read: 2 routes, write: 2, both: 4");
}

/// Orders, as a third party would write it (YAML: read with the default feature `yaml`): three schemes, a global requirement, a public
/// operation, path parameters, an any-of, an all-of, and an alternative (an API key) this
/// authorizer cannot check.
#[cfg(feature = "yaml")]
const ORDERS: &str = r#"openapi: 3.0.3
info: {title: Orders, version: "1"}
servers: [{url: "https://api.example.com/v1"}]
security:
  - oauth: [orders:read]
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://id.example/token
          scopes: {orders:read: Read, orders:write: Write, admin: Admin}
    oidc: {type: openIdConnect, openIdConnectUrl: "https://id.example/.well-known/openid-configuration"}
    key: {type: apiKey, in: header, name: x-api-key}
paths:
  /health:
    get: {security: []}
  /orders:
    get: {summary: global requirement}
    post:
      security: [{oauth: [orders:write, orders:read]}]
  /orders/{orderId}:
    parameters: [{name: orderId, in: path, required: true, schema: {type: string}}]
    get:
      security: [{oauth: [orders:read]}, {oidc: [admin]}]
    delete:
      security: [{key: []}, {oauth: [admin]}]
  /orders/{orderId}/items/{itemId}:
    get: {security: [{oidc: []}]}
"#;

#[cfg(feature = "yaml")]
#[tokio::test]
async fn a_third_party_document_decides_as_its_security_blocks_say() {
    let path = std::env::temp_dir().join(format!("orders-{}.yaml", std::process::id()));
    std::fs::write(&path, ORDERS).unwrap();
    let from_file = authorizer(&hmac_vars(&[(
        "AUTH_ROUTES",
        path.to_string_lossy().into_owned(),
    )]));
    std::fs::remove_file(&path).unwrap();
    let inline = authorizer(&hmac_vars(&[("AUTH_ROUTES", ORDERS.to_owned())]));
    let requests = [
        ("GET", "/health"),
        ("GET", "/orders"),
        ("POST", "/orders"),
        ("GET", "/orders/o-1"),
        ("DELETE", "/orders/o-1"),
        ("GET", "/orders/o-1/items/7"),
        ("PUT", "/orders"),
        ("GET", "/v1/orders"),
    ];
    let cases: [(&[&str], [bool; 8]); 5] = [
        (&[], [true, false, false, false, false, true, false, false]),
        (
            &["orders:read"],
            [true, true, false, true, false, true, false, false],
        ),
        (
            &["orders:write"],
            [true, false, false, false, false, true, false, false],
        ),
        (
            &["orders:read", "orders:write"],
            [true, true, true, true, false, true, false, false],
        ),
        (
            &["admin"],
            [true, false, false, true, true, true, false, false],
        ),
    ];
    for authorizer in [&from_file, &inline] {
        for (scopes, expected) in &cases {
            let token = scoped(scopes);
            for ((method, path), expected) in requests.iter().zip(expected) {
                let policy = decide(authorizer, &token, method, path).await.unwrap();
                assert_eq!(
                    allowed(&policy, method, path),
                    *expected,
                    "{method} {path} with {scopes:?}"
                );
            }
        }
    }
    assert_eq!(
        allowed_resources(&inline, &["orders:read"], "GET", "/orders").await,
        [
            "/GET/health",
            "/GET/orders",
            "/GET/orders/*",
            "/GET/orders/*/items/*"
        ],
        "the cached policy lists every route of the document the token may call"
    );
}

/// A document whose schemes and global requirement frame `paths` (JSON).
fn with_paths(paths: Value) -> String {
    json!({
        "openapi": "3.0.3",
        "security": [{"oauth": ["orders:read"]}],
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}},
        "paths": paths,
    })
    .to_string()
}

/// API Gateway's catch-all `ANY` (`x-amazon-apigateway-any-method`) serves the methods its path
/// does not declare; a declared `GET` beside it keeps its own requirement, and the cached policy
/// never lets the catch-all's scopes reach the declared method.
#[tokio::test]
async fn any_method_serves_what_its_path_does_not_declare() {
    let document = with_paths(json!({
        "/orders/{orderId}": {
            "x-amazon-apigateway-any-method": {"security": [{"oauth": ["orders:write"]}]},
            "get": {},
        },
    }));
    let guarded = authorizer(&hmac_vars(&[("AUTH_ROUTES", document)]));
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let cases: [(&[&str], [bool; 7]); 4] = [
        (&[], [false; 7]),
        (
            &["orders:read"],
            [true, false, false, false, false, false, false],
        ),
        (
            &["orders:write"],
            [false, true, true, true, true, true, true],
        ),
        (&["orders:read", "orders:write"], [true; 7]),
    ];
    for (scopes, expected) in cases {
        let token = scoped(scopes);
        for (method, expected) in methods.iter().zip(expected) {
            let policy = decide(&guarded, &token, method, "/orders/o-1")
                .await
                .unwrap();
            assert_eq!(
                allowed(&policy, method, "/orders/o-1"),
                expected,
                "{method} with {scopes:?}"
            );
        }
        let policy = decide(&guarded, &token, "TRACE", "/orders/o-1")
            .await
            .unwrap();
        assert!(
            !allowed(&policy, "TRACE", "/orders/o-1"),
            "ANY is not TRACE, with {scopes:?}"
        );
    }
    assert_eq!(
        allowed_resources(&guarded, &["orders:write"], "POST", "/orders/o-1").await,
        ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map(|m| format!("/{m}/orders/*")),
        "every method ANY serves, never `*` (which would cover the declared GET)"
    );
}

/// IAM's `*` matches `/` too: `GET/orders/*` covers `/orders/o-1/items/7`. A token that may
/// read orders but not their items must never get a policy that API Gateway, having cached it
/// for the token, would apply to the items; and the same cached policy keeps serving the
/// token's other orders: the order route's resource, the items route's resource denied.
#[tokio::test]
async fn a_cached_policy_never_opens_a_deeper_route_the_token_may_not_call() {
    let document = with_paths(json!({
        "/orders/{id}": {"get": {"security": [{"oauth": ["orders:read"]}]}},
        "/orders/{id}/items/{item}": {"get": {"security": [{"oauth": ["orders:admin"]}]}}
    }));
    let guarded = authorizer(&hmac_vars(&[("AUTH_ROUTES", document)]));
    let reader = ["orders:read"];
    let token = scoped(&reader);
    for asked in [
        "/orders/o-1",
        "/orders/o-1/items/7",
        "/orders/*",
        "/orders/%2A",
    ] {
        let cached = decide(&guarded, &token, "GET", asked).await.unwrap();
        for next in ["/orders/o-1", "/orders/o-2", "/orders/*"] {
            assert!(allowed(&cached, "GET", next), "{asked} then {next}");
        }
        for next in [
            "/orders/o-1/items/7",
            "/orders/*/items/*",
            "/orders/a/b/items/c",
        ] {
            assert!(!allowed(&cached, "GET", next), "{asked} then {next}");
        }
    }
    assert_eq!(
        allowed_resources(&guarded, &reader, "GET", "/orders/o-1").await,
        ["/GET/orders/*"]
    );
    // With both scopes nothing is hidden: both resources, as wide as before.
    let both = ["orders:read", "orders:admin"];
    assert_eq!(
        allowed_resources(&guarded, &both, "GET", "/orders/o-1").await,
        ["/GET/orders/*", "/GET/orders/*/items/*"]
    );
}

/// A document of one catch-all, as an API behind a `{proxy+}` resource with `ANY` is written:
/// every method on every path, with the catch-all's requirement.
#[tokio::test]
async fn a_document_of_only_any_guards_every_method_and_path() {
    let document = with_paths(json!({"/{proxy+}": {"x-amazon-apigateway-any-method": {}}}));
    let guarded = authorizer(&hmac_vars(&[("AUTH_ROUTES", document)]));
    let (reader, other) = (scoped(&["orders:read"]), scoped(&["orders:write"]));
    for method in ["GET", "POST", "DELETE", "OPTIONS"] {
        for path in ["/orders", "/orders/o-1/items/7"] {
            let policy = decide(&guarded, &reader, method, path).await.unwrap();
            assert!(allowed(&policy, method, path), "{method} {path}");
            let policy = decide(&guarded, &other, method, path).await.unwrap();
            assert!(
                !allowed(&policy, method, path),
                "{method} {path} without orders:read"
            );
        }
    }
    assert_eq!(
        allowed_resources(&guarded, &["orders:read"], "GET", "/orders").await,
        ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].map(|m| format!("/{m}/*")),
        "every method API Gateway routes, on every path"
    );
}

#[tokio::test]
async fn required_claims_refuse_with_401_and_compare_exactly() {
    let rule = r#"[{"name": "tenant", "values": ["acme", "globex"], "required": true}]"#;
    let guarded = authorizer(&hmac_vars(&[("AUTH_REQUIRED_CLAIMS", rule.to_owned())]));
    let with = |tenant: Value| token(json!({"scope": "read:products", "tenant": tenant}));
    for accepted in [json!("acme"), json!("globex")] {
        let policy = decide(&guarded, &with(accepted.clone()), "GET", "/products")
            .await
            .unwrap();
        assert!(allowed(&policy, "GET", "/products"), "{accepted}");
    }
    for refused in [json!("ACME"), json!(["acme"]), json!(1), Value::Null] {
        let outcome = decide(&guarded, &with(refused.clone()), "GET", "/products").await;
        assert_eq!(
            outcome.unwrap_err(),
            AuthorizerError::Unauthorized,
            "{refused}"
        );
    }
    assert_eq!(
        guarded
            .verify_token(Some(&with(json!("initech"))), support::now())
            .await
            .unwrap_err(),
        jwt_scopes_api::token::TokenError::ClaimNotAccepted("tenant".into())
    );
}

#[tokio::test]
async fn the_principal_claim_names_the_policy_principal() {
    let read = |extra: Value| {
        let mut claims = json!({"scope": "read:products"});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        token(claims)
    };
    let default = authorizer(&hmac_vars(&[]));
    let machine = authorizer(&hmac_vars(&[(
        "AUTH_PRINCIPAL_CLAIM",
        "client_id".to_owned(),
    )]));
    let entra = authorizer(&hmac_vars(&[("AUTH_PRINCIPAL_CLAIM", "oid".to_owned())]));
    let cases = [
        (&default, json!({"client_id": "svc"}), "user-1"),
        (&machine, json!({"client_id": "svc"}), "svc"),
        (&machine, json!({}), "user-1"),
        (&entra, json!({"oid": "0f9c"}), "0f9c"),
        (&entra, json!({"oid": 7}), "user-1"),
        (&default, json!({"sub": null, "client_id": "svc"}), "svc"),
        (&default, json!({"sub": null}), "anonymous"),
    ];
    for (authorizer, extra, principal) in cases {
        let policy = decide(authorizer, &read(extra.clone()), "GET", "/products")
            .await
            .unwrap();
        assert_eq!(policy["principalId"], principal, "{extra}");
    }
}
