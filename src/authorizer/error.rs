//! Why a token was refused, in one type below every module that refuses one ([`crate::authorizer::jws`],
//! [`crate::authorizer::verify`], [`crate::authorizer::jwks`], [`crate::authorizer::introspection`],
//! [`crate::authorizer::revocation`]), so none of them imports another for it.

use crate::scopes::ScopeError;
use std::fmt;

/// Why a token was refused. Every variant means 401 / `Unauthorized`; the variant is for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// No token in the request.
    Missing,
    /// Not a compact JWS: bad segments, base64 or JSON, or too large.
    Malformed,
    /// `alg` not allowed, or not one the key can verify.
    AlgorithmNotAllowed,
    /// `iss` names no configured issuer.
    UnknownIssuer,
    /// No key with the token's `kid`.
    UnknownKey,
    /// The issuer's keys could not be fetched.
    KeysUnavailable,
    /// The signature does not verify.
    BadSignature,
    /// A claim has the wrong JSON type.
    ClaimType,
    /// `exp` missing.
    MissingExpiry,
    /// `exp` in the past.
    Expired,
    /// `nbf` or `iat` in the future.
    NotYetValid,
    /// `aud`/`client_id` not accepted.
    WrongAudience,
    /// `iss` not the expected issuer.
    WrongIssuer,
    /// `token_use` or `typ` not the required one.
    WrongTokenType,
    /// A scope claim is malformed.
    BadScopeClaim(ScopeError),
    /// A required claim (named here; its value is not logged) is absent or not an accepted
    /// value.
    ClaimNotAccepted(String),
    /// The issuer's introspection endpoint says the token is not active (RFC 7662 §2.2).
    Inactive,
    /// The introspection endpoint could not be asked or gave no usable answer (down, slow, an
    /// error status, garbage, too large): refused, never allowed.
    IntrospectionUnavailable,
    /// The revocation table revokes the token, or every token of its subject issued by then.
    Revoked,
    /// The revocation table could not be read (missing, throttled, unreachable, slow): refused,
    /// never allowed.
    RevocationUnavailable,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            TokenError::Missing => "no token",
            TokenError::Malformed => "malformed token",
            TokenError::AlgorithmNotAllowed => "algorithm not allowed",
            TokenError::UnknownIssuer => "unknown issuer",
            TokenError::UnknownKey => "unknown key id",
            TokenError::KeysUnavailable => "issuer keys unavailable",
            TokenError::BadSignature => "bad signature",
            TokenError::ClaimType => "claim of the wrong type",
            TokenError::MissingExpiry => "no exp claim",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not yet valid",
            TokenError::WrongAudience => "audience not accepted",
            TokenError::WrongIssuer => "wrong issuer",
            TokenError::WrongTokenType => "wrong token type",
            TokenError::Inactive => "token not active",
            TokenError::IntrospectionUnavailable => "introspection unavailable",
            TokenError::Revoked => "token revoked",
            TokenError::RevocationUnavailable => "revocation table unavailable",
            TokenError::BadScopeClaim(error) => return write!(f, "{error}"),
            TokenError::ClaimNotAccepted(name) => {
                return write!(f, "required claim {name:?} absent or not accepted");
            }
        };
        f.write_str(text)
    }
}
