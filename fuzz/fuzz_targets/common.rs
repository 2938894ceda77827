//! What the fuzz targets share: one runtime, and an authorizer with an HMAC configuration so no
//! input can make it reach the network. Each target uses a part of it.
#![allow(dead_code)]

use jwt_scopes_api::{AuthConfig, Authorizer};
use std::sync::LazyLock;

/// Issuer of the fuzzing configuration.
pub const ISSUER: &str = "https://issuer.example.com/";
/// A time inside every plausible token's validity window.
pub const NOW: u64 = 1_795_839_600;

/// One current-thread runtime for the whole fuzzing process.
pub static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().build().unwrap());

/// The authorizer under test.
pub static AUTHORIZER: LazyLock<Authorizer> = LazyLock::new(|| {
    let config = AuthConfig::from_lookup(|name| match name {
        "AUTH_ISSUER" => Some(ISSUER.into()),
        "AUTH_AUDIENCE" => Some("products-api".into()),
        "AUTH_HMAC_SECRET" => Some("fuzzing-secret-that-no-input-will-ever-guess".into()),
        "AUTH_TOKEN_COOKIE" | "AUTH_TOKEN_QUERY" => Some("token".into()),
        _ => None,
    });
    Authorizer::new(config.unwrap())
});
