//! Claim values into the scope parser, as text (every form API Gateway stringifies to) and as
//! JSON values; also JWKS documents into the key set parser.
#![no_main]

use jwt_scopes_api::ScopeSet;
use jwt_scopes_api::token::KeySet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = KeySet::from_jwks(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(scopes) = ScopeSet::parse_text(text) {
        for scope in scopes.iter() {
            assert!(!scope.is_empty() && !scope.contains(|c: char| c.is_ascii_whitespace()), "{scope:?}");
        }
    }
    if let Ok(value) = serde_json::from_str(text) {
        let _ = ScopeSet::parse_value(&value);
    }
});
