//! Handler behaviour the sample events do not pin down, each built by editing one sample event:
//! methods the table lacks, the body checks of `PUT`, and the order in which checks run.

#[path = "support/sample_events.rs"]
mod sample_events;

use jwt_scopes_api::ScopeNames;
use jwt_scopes_api::product_api::MAX_BODY_BYTES;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

/// `events/product-api/<name>.json`, ready to be edited.
fn event(name: &str) -> Value {
    let path = sample_events::events_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("sample events are JSON")
}

/// Sets the path of an HTTP API (payload 2.0) event, where API Gateway writes it twice.
fn set_path(event: &mut Value, path: &str) {
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
}

/// A `PUT` of `usb-c-cable-2m` by a caller holding `write:products`.
fn put() -> Value {
    event("v2-jwt-put-product-read-only-catalog")
}

/// The product in a `PUT` event's body, to edit and put back with [`set_product`].
fn product(event: &Value) -> Value {
    serde_json::from_str(event["body"].as_str().expect("a PUT has a body")).unwrap()
}

fn set_product(event: &mut Value, product: &Value) {
    event["body"] = json!(product.to_string());
}

async fn answer(event: &Value) -> Response<Body> {
    sample_events::respond(&event.to_string()).await.unwrap()
}

/// Status and problem `type` of an answer.
fn problem(response: &Response<Body>) -> (u16, String) {
    let body = sample_events::body_json(response).unwrap();
    let kind = body["type"].as_str().unwrap_or_default().to_owned();
    (response.status().as_u16(), kind)
}

#[tokio::test]
async fn head_and_options_on_a_known_path_are_not_allowed() {
    for method in ["HEAD", "OPTIONS"] {
        let mut event = event("v2-jwt-get-product");
        event["requestContext"]["http"]["method"] = json!(method);
        let response = answer(&event).await;
        assert_eq!(problem(&response), (405, "about:blank".into()), "{method}");
        assert_eq!(response.headers()["allow"], "GET, PUT, DELETE", "{method}");
    }
}

#[tokio::test]
async fn a_body_over_16_kib_is_too_large_once_the_scopes_are_checked() {
    let mut large = put();
    let mut product = product(&large);
    product["specifications"]["notes"] = json!("x".repeat(17 * 1024));
    set_product(&mut large, &product);
    assert!(large["body"].as_str().unwrap().len() > MAX_BODY_BYTES);
    let (status, kind) = problem(&answer(&large).await);
    assert_eq!(status, 413);
    assert_eq!(kind, "urn:jwt-scopes-api:problem:payload-too-large");

    let mut read_only = event("rest-lambda-authorizer-put-with-read-scope-only");
    read_only["body"] = large["body"].take();
    assert_eq!(problem(&answer(&read_only).await).0, 403);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_unsupported_media_type() {
    let mut event = put();
    event["headers"]["content-type"] = json!("text/plain");
    let (status, kind) = problem(&answer(&event).await);
    assert_eq!(status, 415);
    assert_eq!(kind, "urn:jwt-scopes-api:problem:unsupported-media-type");
}

#[tokio::test]
async fn a_body_naming_another_product_is_invalid() {
    let mut event = put();
    let mut product = product(&event);
    product["name"] = json!("hdmi-cable-1m");
    set_product(&mut event, &product);
    let response = answer(&event).await;
    assert_eq!(
        problem(&response),
        (400, "urn:jwt-scopes-api:problem:invalid-product".into())
    );
    assert_eq!(
        sample_events::body_json(&response).unwrap()["errors"],
        json!(["name: must equal the name in the path"])
    );
}

#[tokio::test]
async fn an_unknown_path_is_not_found_before_identity_is_asked_for() {
    let mut event = event("v2-no-authorizer");
    set_path(&mut event, "/orders");
    assert_eq!(problem(&answer(&event).await), (404, "about:blank".into()));
}

#[tokio::test]
async fn identity_is_asked_for_before_the_name_is_checked() {
    let mut event = event("v2-no-authorizer");
    set_path(&mut event, "/product/a b");
    let response = answer(&event).await;
    assert_eq!(
        problem(&response),
        (401, "urn:jwt-scopes-api:problem:unauthenticated".into())
    );
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"products\""
    );
}

#[tokio::test]
async fn cognito_resource_server_scopes_are_read_with_scope_names() {
    let mut event = event("rest-cognito-get-product");
    let claims = &mut event["requestContext"]["authorizer"]["claims"];
    claims["scope"] = json!("aws.cognito.signin.user.admin products/read:products");
    let cognito = ScopeNames::parse("products/{scope}").unwrap();
    let response = sample_events::respond_with(&event.to_string(), cognito.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let as_written = answer(&event).await;
    assert_eq!(
        as_written.status(),
        403,
        "without SCOPE_NAMES nothing matches"
    );
    event["requestContext"]["authorizer"]["claims"]["scope"] = json!("read:products");
    let bare = sample_events::respond_with(&event.to_string(), cognito)
        .await
        .unwrap();
    assert_eq!(
        bare.status(),
        403,
        "with SCOPE_NAMES a bare name grants nothing"
    );
    let challenge = bare.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"scope="products/read:products""#),
        "RFC 6750 §3: the challenge names the scope the client must ask for: {challenge}"
    );
}
