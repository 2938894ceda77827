//! The token-verification toolkit: a JWT's signature and claims checked against keys fetched
//! from its issuer, with the clock passed in. The [`crate::authorizer`] decides with it, and the
//! local gateway emulates API Gateway's built-in JWT authorizers with the same pieces.
//!
//! - algorithms: [`Alg`] names each one once, with the key family it needs ([`RSA`],
//!   [`ASYMMETRIC`], [`SYMMETRIC`]);
//! - [`Jws`]: a compact token split once and its signature checked with a [`SignatureKey`];
//! - [`KeySet`]: a JWKS turned into ready keys (pure); [`JwksCache`] fetches and keeps one issuer's
//!   keys through a [`KeyFetcher`], refetching by rule;
//! - claims: [`TokenClaims`] read strictly, checked against [`Rules`] ([`verify_with_keys`], [`accept_checked_signature`],
//!   [`check_rules`]); [`scopes_as_issued`] reads a token's scopes; [`ContextClaims`] what reaches the
//!   API;
//! - [`TokenError`]: why a token is refused, one type for every step above.

mod alg;
mod claims;
mod error;
mod jwks;
mod jws;
mod keyset;

pub use alg::{ASYMMETRIC, Alg, RSA, SYMMETRIC};
#[cfg(test)]
pub(crate) use claims::tests as claims_tests;
pub use claims::{
    ClaimPolicy, Confirmation, ContextClaims, DEFAULT_PRINCIPAL_CLAIM, RequiredClaim, Rules,
    TokenClaims, Verified, accept_checked_signature, audience_accepted, check_required,
    check_rules, check_window, principal_of, scopes_as_issued, typ_is, verify_with_keys,
};
pub use error::TokenError;
pub use jwks::{FetchError, FetchLimits, JwksCache, KeyFetcher, KeySource, fetchable};
pub use jws::{EmbeddedKey, Jws, SignatureKey};
pub use keyset::KeySet;
