//! Why a token was refused, in one type below every module that refuses one ([`crate::token::jws`],
//! [`crate::token::claims`], [`crate::token::jwks`]), so none of them imports another for it.
//!
//! Each refusal is declared once, in the `token_errors!` table below: its variant (named as its [`Reason`], so
//! the compiler holds the two together), its text for logs and the words API Gateway's built-in
//! JWT authorizers use for it.

use crate::reason::Reason;
use crate::scopes::ScopeError;
use std::fmt;

/// Declares [`TokenError`] from one table. Each row: the variant's doc, its name (the [`Reason`]
/// of the same name is its code), an optional field, its log text ([`fmt::Display`]) and API
/// Gateway's description ([`TokenError::api_gateway_description`]). The texts are format
/// strings that may name the field.
macro_rules! token_errors {
    ($(
        $(#[$doc:meta])*
        $variant:ident $(($field:ident: $type:ty))?, $text:literal, $described:literal;
    )*) => {
        /// Why a token was refused. Every variant means 401 / `Unauthorized`; the variant is for
        /// logs.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum TokenError {
            $($(#[$doc])* $variant $(($type))?,)*
        }

        impl TokenError {
            /// What API Gateway's built-in JWT authorizers say about this refusal, in the
            /// `error_description` of their `WWW-Authenticate` challenge (the REST API says
            /// nothing; the local gateway logs it instead).
            pub fn api_gateway_description(&self) -> String {
                match self {
                    $(TokenError::$variant $(($field))? => {
                        $(let _ = $field;)?
                        format!($described)
                    })*
                }
            }
        }

        impl fmt::Display for TokenError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(TokenError::$variant $(($field))? => {
                        $(let _ = $field;)?
                        write!(f, $text)
                    })*
                }
            }
        }

        impl From<&TokenError> for Reason {
            fn from(error: &TokenError) -> Self {
                match error {
                    $(TokenError::$variant { .. } => Reason::$variant,)*
                }
            }
        }
    };
}

token_errors! {
    /// No token in the request.
    MissingToken, "no token", "no token";
    /// Not a compact JWS: bad segments, base64 or JSON, or too large.
    Malformed, "malformed token", "the token is malformed";
    /// `alg` not allowed, or not one the key can verify.
    AlgorithmNotAllowed, "algorithm not allowed", "the signing method is invalid";
    /// `iss` names no configured issuer.
    UnknownIssuer, "unknown issuer", "the token does not have a valid issuer";
    /// No key with the token's `kid`.
    UnknownKey, "unknown key id", "the token does not have a valid kid";
    /// The issuer's keys could not be fetched.
    KeysUnavailable, "issuer keys unavailable", "the issuer's JWKS could not be fetched";
    /// The signature does not verify.
    BadSignature, "bad signature", "the token signature is invalid";
    /// A registered claim has the wrong JSON type.
    MalformedClaims, "claim of the wrong type", "a claim of the token has the wrong type";
    /// `exp` missing.
    MissingExpiry, "no exp claim", "the token does not have an exp claim";
    /// `exp` in the past.
    Expired, "expired", "the token has expired";
    /// `nbf` or `iat` in the future.
    NotYetValid, "not yet valid", "the token is not valid yet";
    /// `aud`/`client_id` not accepted.
    WrongAudience, "audience not accepted", "the token does not have a valid audience";
    /// `iss` not the expected issuer.
    WrongIssuer, "wrong issuer", "the token does not have a valid issuer";
    /// `token_use` or `typ` not the required one.
    WrongTokenType, "wrong token type", "the token has the wrong type";
    /// A scope claim is malformed.
    MalformedScope(error: ScopeError), "{error}", "the token has a malformed scope claim";
    /// The issuer's CEL rule (`AUTH_RULE`) is not `true` for the token (the authorizer's rules).
    IssuerRuleRefused, "issuer rule refused the token", "the token is not accepted by the issuer's rule";
    /// A required claim (named here; its value is not logged) is absent or not an accepted
    /// value.
    ClaimNotAccepted(name: String), "required claim {name:?} absent or not accepted",
        "the token's {name} claim is not accepted";
    /// The issuer's introspection endpoint says the token is not active (RFC 7662 §2.2).
    Inactive, "token not active", "the token is not active";
    /// The introspection endpoint could not be asked or gave no usable answer (down, slow, an
    /// error status, garbage, too large): refused, never allowed.
    IntrospectionUnavailable, "introspection unavailable", "the token could not be introspected";
    /// The revocation table revokes the token, or every token of its subject issued by then.
    Revoked, "token revoked", "the token has been revoked";
    /// The revocation table could not be read (missing, throttled, unreachable, slow): refused,
    /// never allowed.
    RevocationUnavailable, "revocation table unavailable", "the token's revocation could not be checked";
    /// A DPoP-bound token, or the `DPoP` scheme, without a `DPoP` proof header (RFC 9449 §7.1).
    DpopProofMissing, "no DPoP proof", "the DPoP proof is missing";
    /// More than one `DPoP` header (RFC 9449 §4.3 step 1).
    DpopProofMultiple, "more than one DPoP proof", "more than one DPoP proof was sent";
    /// The proof is not a compact JWS, or lacks `jti`, `htm`, `htu` or `iat` (RFC 9449 §4.3
    /// steps 2, 4).
    DpopProofMalformed, "malformed DPoP proof", "the DPoP proof is malformed";
    /// The proof's `typ` is not `dpop+jwt` (RFC 9449 §4.3 step 4).
    DpopProofType, "DPoP proof typ not dpop+jwt", "the DPoP proof has the wrong type";
    /// The proof's `alg` is not an asymmetric algorithm we verify (RFC 9449 §4.3 step 5).
    DpopProofAlgorithm, "DPoP proof algorithm not allowed", "the DPoP proof's signing method is invalid";
    /// The proof's `jwk` is absent, private or unusable for its `alg` (RFC 9449 §4.3 step 7).
    DpopProofKey, "DPoP proof key unusable", "the DPoP proof's key is invalid";
    /// The proof's signature does not verify with its `jwk` (RFC 9449 §4.3 step 6).
    DpopProofSignature, "DPoP proof signature bad", "the DPoP proof signature is invalid";
    /// `htm` is not the request's method (RFC 9449 §4.3 step 8).
    DpopMethodMismatch, "DPoP htm not the request method", "the DPoP proof is for another method";
    /// `htu` is not a public base URL joined with the request path (RFC 9449 §4.3 step 9).
    DpopUrlMismatch, "DPoP htu not the request URI", "the DPoP proof is for another URI";
    /// `iat` outside the window (RFC 9449 §4.3 step 11).
    DpopProofStale, "DPoP proof iat outside the window", "the DPoP proof is too old or from the future";
    /// `ath` is not the token's SHA-256 (RFC 9449 §4.3 step 12).
    DpopTokenHashMismatch, "DPoP ath not the token hash", "the DPoP proof is for another token";
    /// The token's `cnf.jkt` is absent or not the proof key's thumbprint (RFC 9449 §4.3 step 12,
    /// RFC 7638).
    DpopKeyMismatch, "token not bound to the DPoP proof key", "the token is not bound to the DPoP key";
    /// The proof's `jti` was used before within the window (RFC 9449 §11.1).
    DpopReplayed, "DPoP proof replayed", "the DPoP proof was used before";
    /// The replay table could not be written (missing, throttled, unreachable, slow): refused,
    /// never allowed.
    ReplayCheckUnavailable, "replay table unavailable", "the DPoP proof's replay could not be checked";
    /// A DPoP-bound token presented with the `Bearer` scheme (RFC 9449 §7.1).
    DpopBoundAsBearer, "DPoP-bound token presented as Bearer", "the DPoP-bound token was presented as a bearer token";
    /// `AUTH_DPOP=required` and the token is not DPoP-bound.
    DpopRequired, "token not DPoP-bound", "the token is not DPoP-bound";
    /// `AUTH_DPOP=off` and the token is DPoP-bound.
    DpopOff, "DPoP-bound token while DPoP is off", "DPoP-bound tokens are not accepted";
    /// A proof to check, and no `AUTH_PUBLIC_URL` to check its `htu` against.
    DpopUnconfigured, "DPoP proof uncheckable: no AUTH_PUBLIC_URL", "the DPoP proof cannot be checked";
    /// A sender-constrained token through a `TOKEN` authorizer, whose event carries no proof or
    /// certificate.
    BindingNeedsRequestEvent, "bound token in a TOKEN event", "the bound token needs a REQUEST authorizer";
    /// A certificate-bound token (RFC 8705 §3) without a client certificate in the event.
    CertificateMissing, "no client certificate", "the token needs a client certificate";
    /// The client certificate is not the one the token's `cnf.x5t#S256` names, or unreadable
    /// (RFC 8705 §3.1).
    CertificateMismatch, "client certificate not the token's", "the token is bound to another certificate";
    /// `AUTH_MTLS=required` and the token is not certificate-bound.
    MtlsRequired, "token not certificate-bound", "the token is not certificate-bound";
    /// A `cnf` claim without `jkt` or `x5t#S256`: bound to something we cannot check (RFC 7800).
    UnsupportedConfirmation, "unsupported cnf claim", "the token is bound in a way that cannot be checked";
}
