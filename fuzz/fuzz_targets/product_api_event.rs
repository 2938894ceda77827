//! Raw event JSON into the `product-api` handler, the way the binary takes it: read and guarded
//! by `product_api::read_event`, converted, handled. Any bytes must give an
//! answer or a parse error, never a panic.
#![no_main]

#[path = "common.rs"]
mod common;

use common::RUNTIME;

use jwt_scopes_api::product_api;
use jwt_scopes_api::{EmbeddedCatalog, ProductApi};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(event) = product_api::read_event(text) else { return };
    let response = RUNTIME.block_on(ProductApi::new(EmbeddedCatalog).handle(event.into()));
    assert!(response.status().as_u16() >= 200);
});
