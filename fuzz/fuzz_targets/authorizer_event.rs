//! Raw event JSON into the authorizer (HMAC configuration, so no network): any bytes must give a
//! decision or an error, never a panic, and never an Allow without a valid token.
#![no_main]

#[path = "common.rs"]
mod common;

use common::{AUTHORIZER, NOW, RUNTIME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(answer) = RUNTIME.block_on(AUTHORIZER.answer_json(text, NOW)) {
        let answer = serde_json::to_value(answer).unwrap();
        assert_ne!(answer["isAuthorized"], true, "allowed without a valid token: {text}");
        let statements = answer["policyDocument"]["Statement"].as_array().cloned().unwrap_or_default();
        assert!(statements.iter().all(|s| s["Effect"] != "Allow"), "Allow without a valid token: {text}");
    }
});
