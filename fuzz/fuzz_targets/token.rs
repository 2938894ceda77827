//! Raw token strings into verification: HMAC through the authorizer, RSA through a fixed key set.
//! Nothing an attacker sends may panic or verify.
#![no_main]

#[path = "common.rs"]
mod common;

use common::{AUTHORIZER, ISSUER, NOW, RUNTIME};
use jwt_scopes_api::token::{self, Jws, KeySet, Rules, TokenClaims};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

const JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"k","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw","e":"AQAB"}]}"#;

static KEYS: LazyLock<KeySet> = LazyLock::new(|| KeySet::from_jwks(JWKS.as_bytes()).unwrap());

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    assert!(RUNTIME.block_on(AUTHORIZER.verify_token(Some(token), NOW)).is_err());
    let rules = Rules {
        issuer: ISSUER.into(),
        audiences: vec!["products-api".into()],
        leeway: 60,
        token_use: None,
        typ: None,
    };
    if let Ok(jws) = Jws::<TokenClaims>::parse(token, token.len()) {
        let kid = jws.header.kid.clone();
        let candidates = KEYS.candidates(kid.as_deref(), jws.header.alg);
        let policy = token::ClaimPolicy::default();
        assert!(token::verify_with_keys(jws, candidates, &rules, &policy, NOW).is_err());
    }
});
