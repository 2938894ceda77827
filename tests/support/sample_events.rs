//! The product-api sample events: where they live, and running one through the real handler over
//! the embedded catalog. Included with `#[path]` by the tests that need it, beside `mod.rs` (keys,
//! tokens, a JWKS server) and `dynamodb.rs` (a DynamoDB server).

use jwt_scopes_api::product_api;
use jwt_scopes_api::{EmbeddedCatalog, ProductApi, ScopeNames};
use lambda_http::{Body, Response};
use serde_json::Value;
use std::path::PathBuf;

/// `events/product-api/`, the events `cargo lambda invoke --data-file` uses too.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events/product-api")
}

/// Reads an event exactly as the `product-api` binary does and answers it.
pub async fn respond(event: &str) -> Result<Response<Body>, String> {
    respond_with(event, ScopeNames::AsWritten).await
}

/// The same, for a deployment whose issuer spells the scopes as `names` says (`SCOPE_NAMES`).
pub async fn respond_with(event: &str, names: ScopeNames) -> Result<Response<Body>, String> {
    let request = product_api::read_event(event).map_err(|e| format!("event: {e}"))?;
    Ok(ProductApi::new(EmbeddedCatalog)
        .with_scope_names(names)
        .handle(request.into())
        .await)
}

/// The answer's body as JSON; `null` for an empty body.
pub fn body_json(response: &Response<Body>) -> Result<Value, String> {
    let body = response.body().as_ref();
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        format!("body is not JSON ({e}): {text}")
    })
}
