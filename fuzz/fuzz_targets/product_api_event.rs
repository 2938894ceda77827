//! Raw event JSON into the `product-api` handler, the way the binary takes it: deserialized as
//! `lambda_http` does, passed through `event_guard`, converted, handled. Any bytes must give an
//! answer or a parse error, never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

use common::RUNTIME;

use jwt_scopes_api::{EmbeddedCatalog, ProductApi, event_guard};
use lambda_http::request::LambdaRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut event) = serde_json::from_slice::<LambdaRequest>(data) else { return };
    event_guard::sanitize(&mut event);
    let response = RUNTIME.block_on(ProductApi::new(EmbeddedCatalog).handle(event.into()));
    assert!(response.status().as_u16() >= 200);
});
