//! Scopes as issued, end to end: a raw token's scope claims are read as the issuer wrote them
//! (RFC 6749 §3.3, RFC 8693 §4.2), never unwrapped like API Gateway's stringified `"[a b]"`; the
//! `scope` our authorizer puts in its context is read back by product-api as the very set the
//! authorizer decided with; and a bracketed scope is refused by both.

#[path = "support/sample_events.rs"]
mod sample_events;
mod support;

use jsonwebtoken::Algorithm;
use jwt_scopes_api::Authorizer;
use serde_json::{Value, json};
use support::{TestKey, authorizer, claims, decide, now};

const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";

fn hmac_authorizer(response: &str) -> Authorizer {
    authorizer(&[
        ("AUTH_ISSUER", "internal".into()),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_HMAC_SECRET", SECRET.into()),
        ("AUTH_RESPONSE", response.into()),
    ])
}

fn token(scope_claims: Value) -> String {
    TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims("internal", scope_claims))
}

/// Whether a policy allows `GET /products` and denies nothing (the authorizer's Allow).
fn allows_get_products(policy: &Value) -> bool {
    let statements = policy["policyDocument"]["Statement"].as_array().unwrap();
    let allowed = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| s["Resource"].as_array().unwrap())
        .any(|r| r.as_str().unwrap().ends_with("/GET/products"));
    allowed && !statements.iter().any(|s| s["Effect"] == "Deny")
}

/// An HTTP API payload 2.0 authorizer event for `GET /products` with this bearer token.
fn http_v2_event(token: &str) -> String {
    json!({
        "version": "2.0", "type": "REQUEST", "routeKey": "GET /products",
        "routeArn": "arn:aws:execute-api:eu-west-1:1:api/$default/GET/products",
        "identitySource": [format!("Bearer {token}")],
        "headers": {"authorization": format!("Bearer {token}")},
        "requestContext": {"http": {"method": "GET", "path": "/products"}, "stage": "$default"}
    })
    .to_string()
}

const BRACKETED: [&str; 3] = [
    r#"{"scope": "[read:products]"}"#,
    r#"{"scope": "[\"read:products\"]"}"#,
    r#"{"scp": ["[read:products]"]}"#,
];

#[tokio::test]
async fn rfc6749_a_bracketed_scope_token_is_denied_by_the_authorizer() {
    let rest = hmac_authorizer("simple");
    for claim in BRACKETED {
        let token = token(serde_json::from_str(claim).unwrap());
        let policy = decide(&rest, &token, "GET", "/products").await.unwrap();
        assert!(!allows_get_products(&policy), "{claim}: {policy}");
        assert!(
            policy["policyDocument"]["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["Effect"] == "Deny"),
            "{claim}: a valid token without the scope is a Deny (403): {policy}"
        );
        let simple = rest
            .answer_json(&http_v2_event(&token), now())
            .await
            .unwrap();
        let simple = serde_json::to_value(simple).unwrap();
        assert_eq!(simple["isAuthorized"], false, "{claim}: {simple}");
    }
    let honest = token(json!({"scp": ["read:products"]}));
    let policy = decide(&rest, &honest, "GET", "/products").await.unwrap();
    assert!(allows_get_products(&policy), "{policy}");
}

/// The context of the authorizer's answer to a REST `TOKEN` event for `GET /products`.
async fn context_for(authorizer: &Authorizer, token: &str) -> Value {
    let answer = decide(authorizer, token, "GET", "/products").await.unwrap();
    answer["context"].clone()
}

/// `events/product-api/<name>.json` with our authorizer's `context` where API Gateway puts it:
/// flattened beside `principalId` for REST, under `lambda` for HTTP API payload 2.0.
fn product_api_event(name: &str, context: &Value) -> String {
    let path = sample_events::events_dir().join(format!("{name}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let authorizer = match event.get("version").and_then(Value::as_str) {
        Some("2.0") => json!({ "lambda": context }),
        _ => {
            let mut flat = context.clone();
            flat["principalId"] = json!("user-1");
            flat["integrationLatency"] = json!(12);
            flat
        }
    };
    event["requestContext"]["authorizer"] = authorizer;
    event.to_string()
}

/// `(status, problem type)` of product-api's answer.
async fn product_api(event: &str) -> (u16, String) {
    let response = sample_events::respond(event).await.unwrap();
    let body = sample_events::body_json(&response).unwrap();
    (
        response.status().as_u16(),
        body["type"].as_str().unwrap_or_default().into(),
    )
}

const INSUFFICIENT_SCOPE: (u16, &str) = (403, "urn:jwt-scopes-api:problem:insufficient-scope");

/// Defence in depth: were a bracketed-scope context ever forwarded (a policy cached for wider
/// routes, a method left without the authorizer), product-api's own re-check reads our context
/// as written and refuses too.
#[tokio::test]
async fn rfc6749_a_bracketed_scope_is_refused_by_product_apis_recheck() {
    let authorizer = hmac_authorizer("simple");
    for claim in BRACKETED {
        let context = context_for(&authorizer, &token(serde_json::from_str(claim).unwrap())).await;
        for sample in [
            "v2-lambda-authorizer-get-product",
            "rest-lambda-authorizer-get-product",
        ] {
            let (status, kind) = product_api(&product_api_event(sample, &context)).await;
            assert_eq!(
                (status, kind.as_str()),
                INSUFFICIENT_SCOPE,
                "{claim} via {sample}: {context}"
            );
        }
    }
    // Allowed on GET by `read:products`, the same context does not carry a bracketed
    // `[write:products]` into a PUT.
    let context = context_for(
        &authorizer,
        &token(json!({"scope": "read:products [write:products]"})),
    )
    .await;
    assert_eq!(context["scope"], "read:products [write:products]");
    let put = product_api_event("rest-lambda-authorizer-put-with-read-scope-only", &context);
    let (status, kind) = product_api(&put).await;
    assert_eq!((status, kind.as_str()), INSUFFICIENT_SCOPE);
}

/// A small deterministic generator (xorshift64*), so a failure names a reproducible case.
struct Cases(u64);

impl Cases {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % below
    }
}

/// Pieces of scope names: ordinary ones, the brackets and quotes of API Gateway's renderings,
/// white space that is not ASCII (which `str::trim` would eat), control and non-ASCII characters.
const PIECES: [&str; 24] = [
    "read:products",
    "write:products",
    "a",
    "[",
    "]",
    "[read:products",
    "write:products]",
    r#"["read:products"]"#,
    "\"",
    "\\",
    ",",
    "é",
    "\u{a0}",
    "\u{2003}",
    "\u{b}",
    "\u{85}",
    "\u{1}",
    "{}",
    "*",
    "%20",
    "null",
    "🙂",
    "=",
    "products/read:products",
];

/// Our authorizer's context, read back by product-api (REST flattened and HTTP API `lambda`), is
/// exactly the set the authorizer decided with, for scope sets of odd characters in every claim
/// form: the space separated form (RFC 6749 §3.3) round-trips because a scope read as issued
/// never holds ASCII white space, and nothing is unwrapped on either side.
#[tokio::test]
async fn rfc6749_the_context_scope_reads_back_as_the_authorizers_set() {
    let authorizer = hmac_authorizer("simple");
    let mut cases = Cases(0x9E37_79B9_7F4A_7C15);
    for case in 0..300 {
        let names: Vec<String> = (0..cases.next(6))
            .map(|_| {
                (0..=cases.next(3))
                    .map(|_| PIECES[cases.next(PIECES.len())])
                    .collect()
            })
            .collect();
        let mut expected: Vec<&str> = Vec::new();
        for name in &names {
            if !expected.contains(&name.as_str()) {
                expected.push(name);
            }
        }
        let (first, second) = names.split_at(names.len() / 2);
        let scope_claims = match case % 3 {
            0 => json!({"scp": names}),
            1 => json!({"scope": names.join(" ")}),
            _ => json!({"scope": first.join(" "), "permissions": second}),
        };
        let token = token(scope_claims.clone());
        let verified = authorizer.verify_token(Some(&token), now()).await.unwrap();
        let decided: Vec<&str> = verified.scopes.iter().collect();
        assert_eq!(decided, expected, "case {case}: {scope_claims}");
        let context = context_for(&authorizer, &token).await;
        for sample in [
            "v2-lambda-authorizer-get-product",
            "rest-lambda-authorizer-get-product",
        ] {
            let event = product_api_event(sample, &context);
            let request = jwt_scopes_api::product_api::read_event(&event).unwrap();
            let request = lambda_http::Request::from(request);
            let identity = jwt_scopes_api::IdentityExt::identity(&request).unwrap();
            let read_back: Vec<&str> = identity.scopes.iter().collect();
            assert_eq!(read_back, expected, "case {case} via {sample}: {context}");
        }
    }
}
