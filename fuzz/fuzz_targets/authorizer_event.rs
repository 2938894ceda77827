//! Raw event JSON into the authorizer (HMAC configuration, so no network): any bytes must give a
//! decision or an error, never a panic, and never an Allow without a valid token.
#![no_main]

use jwt_scopes_api::{AuthConfig, Authorizer};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().build().unwrap());

static AUTHORIZER: LazyLock<Authorizer> = LazyLock::new(|| {
    let config = AuthConfig::from_lookup(|name| match name {
        "AUTH_ISSUER" => Some("https://issuer.example.com/".into()),
        "AUTH_AUDIENCE" => Some("products-api".into()),
        "AUTH_HMAC_SECRET" => Some("fuzzing-secret-that-no-input-will-ever-guess".into()),
        "AUTH_TOKEN_COOKIE" => Some("token".into()),
        "AUTH_TOKEN_QUERY" => Some("token".into()),
        _ => None,
    });
    Authorizer::new(config.unwrap())
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(answer) = RUNTIME.block_on(AUTHORIZER.handle(text, 1_795_839_600)) {
        let answer = serde_json::to_value(answer).unwrap();
        assert_ne!(answer["isAuthorized"], true, "allowed without a valid token: {text}");
        let statements = answer["policyDocument"]["Statement"].as_array().cloned().unwrap_or_default();
        assert!(statements.iter().all(|s| s["Effect"] != "Allow"), "Allow without a valid token: {text}");
    }
});
