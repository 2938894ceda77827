//! Why a request was answered as it was: one stable code per outcome, derived here and only here
//! from [`TokenError`], the authorizer's decision and [`ApiError`], and written the same way in log
//! lines (`reason=`), metrics (the `Reason` dimension), the product-api problem `type`
//! (`urn:jwt-scopes-api:problem:<code>`) and the local gateway's output.
//!
//! Codes are kebab-case because product-api's problem types already were (`insufficient-scope`),
//! and a problem type is part of the public API. They are stable: alarms, dashboards and Logs
//! Insights queries match on them, so a code is added, never renamed. A code says what was wrong
//! with a request, never what it carried: no token, no claim values.

use crate::authorizer::TokenError;
use crate::product_api::ApiError;

/// Every reason code, for documentation and for tests that walk them all.
pub const ALL: &[Reason] = &[
    Reason::Granted,
    Reason::MissingToken,
    Reason::Malformed,
    Reason::AlgorithmNotAllowed,
    Reason::UnknownIssuer,
    Reason::UnknownKey,
    Reason::KeysUnavailable,
    Reason::BadSignature,
    Reason::MalformedClaims,
    Reason::MissingExpiry,
    Reason::Expired,
    Reason::NotYetValid,
    Reason::WrongAudience,
    Reason::WrongIssuer,
    Reason::WrongTokenType,
    Reason::MalformedScope,
    Reason::ClaimNotAccepted,
    Reason::Inactive,
    Reason::IntrospectionUnavailable,
    Reason::Revoked,
    Reason::RevocationUnavailable,
    Reason::InsufficientScope,
    Reason::RouteNotFound,
    Reason::MethodNotAllowed,
    Reason::InvalidEvent,
    Reason::NotReady,
    Reason::Served,
    Reason::Unauthenticated,
    Reason::InvalidProductName,
    Reason::InvalidProduct,
    Reason::InvalidRequest,
    Reason::PreconditionFailed,
    Reason::PayloadTooLarge,
    Reason::UnsupportedMediaType,
    Reason::ProductNotFound,
    Reason::ReadOnlyCatalog,
    Reason::StoreUnavailable,
    Reason::StoreFailure,
];

/// Why a request was allowed, denied, refused or failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Authorizer: the token is valid and holds the route's scopes.
    Granted,
    /// Authorizer 401: [`TokenError::Missing`].
    MissingToken,
    /// Authorizer 401: [`TokenError::Malformed`].
    Malformed,
    /// Authorizer 401: [`TokenError::AlgorithmNotAllowed`].
    AlgorithmNotAllowed,
    /// Authorizer 401: [`TokenError::UnknownIssuer`].
    UnknownIssuer,
    /// Authorizer 401: [`TokenError::UnknownKey`].
    UnknownKey,
    /// Authorizer 401: [`TokenError::KeysUnavailable`].
    KeysUnavailable,
    /// Authorizer 401: [`TokenError::BadSignature`].
    BadSignature,
    /// Authorizer 401: [`TokenError::ClaimType`].
    MalformedClaims,
    /// Authorizer 401: [`TokenError::MissingExpiry`].
    MissingExpiry,
    /// Authorizer 401: [`TokenError::Expired`].
    Expired,
    /// Authorizer 401: [`TokenError::NotYetValid`].
    NotYetValid,
    /// Authorizer 401: [`TokenError::WrongAudience`].
    WrongAudience,
    /// Authorizer 401: [`TokenError::WrongIssuer`].
    WrongIssuer,
    /// Authorizer 401: [`TokenError::WrongTokenType`].
    WrongTokenType,
    /// Authorizer 401: [`TokenError::ClaimNotAccepted`] (a required claim, `AUTH_CONFIG`'s
    /// `requiredClaims`).
    ClaimNotAccepted,
    /// Authorizer 401: [`TokenError::BadScopeClaim`].
    MalformedScope,
    /// Authorizer 401: [`TokenError::Inactive`].
    Inactive,
    /// Authorizer 401: [`TokenError::IntrospectionUnavailable`].
    IntrospectionUnavailable,
    /// Authorizer 401: [`TokenError::Revoked`].
    Revoked,
    /// Authorizer 401: [`TokenError::RevocationUnavailable`].
    RevocationUnavailable,
    /// Both: a valid identity without the route's scopes (authorizer Deny, product-api 403).
    InsufficientScope,
    /// Both: no route has this path (authorizer Deny, product-api 404).
    RouteNotFound,
    /// Product-api: the path exists but not with this method (405).
    MethodNotAllowed,
    /// Authorizer: an event it cannot read (invocation error, 500).
    InvalidEvent,
    /// Authorizer: its set-up (the HMAC secret) is not available yet (invocation error, 500).
    NotReady,
    /// Product-api: a successful answer (2xx).
    Served,
    /// Product-api: no identity validated by the authorizer (401).
    Unauthenticated,
    /// Product-api: the `{name}` segment is not a valid product name (400).
    InvalidProductName,
    /// Product-api: the body is not a valid product (400).
    InvalidProduct,
    /// Product-api: a query parameter or header is invalid (400).
    InvalidRequest,
    /// Product-api: `If-Match` / `If-None-Match` does not hold (412).
    PreconditionFailed,
    /// Product-api: the body is too large (413).
    PayloadTooLarge,
    /// Product-api: the body is not JSON (415).
    UnsupportedMediaType,
    /// Product-api: no product has this name (404).
    ProductNotFound,
    /// Product-api: the embedded catalog cannot be written (501).
    ReadOnlyCatalog,
    /// Product-api: the store is throttling or unreachable (503).
    StoreUnavailable,
    /// Product-api: the store failed for good (500).
    StoreFailure,
}

impl Reason {
    /// The code, e.g. `bad-signature`.
    pub fn code(self) -> &'static str {
        self.codes().0
    }

    /// The product-api problem `type` for this reason: `urn:jwt-scopes-api:problem:<code>`.
    pub fn problem_type(self) -> &'static str {
        self.codes().1
    }

    /// The code and its problem type, written out once so both are `&'static str` (no
    /// formatting per request) and cannot drift apart.
    fn codes(self) -> (&'static str, &'static str) {
        macro_rules! code {
            ($code:literal) => {
                ($code, concat!("urn:jwt-scopes-api:problem:", $code))
            };
        }
        use Reason::*;
        match self {
            Granted => code!("granted"),
            MissingToken => code!("missing-token"),
            Malformed => code!("malformed"),
            AlgorithmNotAllowed => code!("algorithm-not-allowed"),
            UnknownIssuer => code!("unknown-issuer"),
            UnknownKey => code!("unknown-key"),
            KeysUnavailable => code!("keys-unavailable"),
            BadSignature => code!("bad-signature"),
            MalformedClaims => code!("malformed-claims"),
            MissingExpiry => code!("missing-expiry"),
            Expired => code!("expired"),
            NotYetValid => code!("not-yet-valid"),
            WrongAudience => code!("wrong-audience"),
            WrongIssuer => code!("wrong-issuer"),
            WrongTokenType => code!("wrong-token-type"),
            ClaimNotAccepted => code!("claim-not-accepted"),
            MalformedScope => code!("malformed-scope"),
            Inactive => code!("inactive"),
            IntrospectionUnavailable => code!("introspection-unavailable"),
            Revoked => code!("revoked"),
            RevocationUnavailable => code!("revocation-unavailable"),
            InsufficientScope => code!("insufficient-scope"),
            RouteNotFound => code!("route-not-found"),
            MethodNotAllowed => code!("method-not-allowed"),
            InvalidEvent => code!("invalid-event"),
            NotReady => code!("not-ready"),
            Served => code!("served"),
            Unauthenticated => code!("unauthenticated"),
            InvalidProductName => code!("invalid-product-name"),
            InvalidProduct => code!("invalid-product"),
            InvalidRequest => code!("invalid-request"),
            PreconditionFailed => code!("precondition-failed"),
            PayloadTooLarge => code!("payload-too-large"),
            UnsupportedMediaType => code!("unsupported-media-type"),
            ProductNotFound => code!("product-not-found"),
            ReadOnlyCatalog => code!("read-only-catalog"),
            StoreUnavailable => code!("store-unavailable"),
            StoreFailure => code!("store-failure"),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl From<&TokenError> for Reason {
    fn from(error: &TokenError) -> Self {
        match error {
            TokenError::Missing => Reason::MissingToken,
            TokenError::Malformed => Reason::Malformed,
            TokenError::AlgorithmNotAllowed => Reason::AlgorithmNotAllowed,
            TokenError::UnknownIssuer => Reason::UnknownIssuer,
            TokenError::UnknownKey => Reason::UnknownKey,
            TokenError::KeysUnavailable => Reason::KeysUnavailable,
            TokenError::BadSignature => Reason::BadSignature,
            TokenError::ClaimType => Reason::MalformedClaims,
            TokenError::MissingExpiry => Reason::MissingExpiry,
            TokenError::Expired => Reason::Expired,
            TokenError::NotYetValid => Reason::NotYetValid,
            TokenError::WrongAudience => Reason::WrongAudience,
            TokenError::WrongIssuer => Reason::WrongIssuer,
            TokenError::WrongTokenType => Reason::WrongTokenType,
            TokenError::BadScopeClaim(_) => Reason::MalformedScope,
            TokenError::ClaimNotAccepted(_) => Reason::ClaimNotAccepted,
            TokenError::Inactive => Reason::Inactive,
            TokenError::IntrospectionUnavailable => Reason::IntrospectionUnavailable,
            TokenError::Revoked => Reason::Revoked,
            TokenError::RevocationUnavailable => Reason::RevocationUnavailable,
        }
    }
}

impl From<&ApiError> for Reason {
    fn from(error: &ApiError) -> Self {
        match error {
            ApiError::RouteNotFound => Reason::RouteNotFound,
            ApiError::MethodNotAllowed { .. } => Reason::MethodNotAllowed,
            ApiError::Unauthenticated => Reason::Unauthenticated,
            ApiError::InsufficientScope { .. } => Reason::InsufficientScope,
            ApiError::InvalidName(_) => Reason::InvalidProductName,
            ApiError::InvalidProduct(_) => Reason::InvalidProduct,
            ApiError::BadRequest(_) => Reason::InvalidRequest,
            ApiError::PreconditionFailed => Reason::PreconditionFailed,
            ApiError::PayloadTooLarge => Reason::PayloadTooLarge,
            ApiError::UnsupportedMediaType => Reason::UnsupportedMediaType,
            ApiError::ProductNotFound => Reason::ProductNotFound,
            ApiError::ReadOnlyStore => Reason::ReadOnlyCatalog,
            ApiError::StoreUnavailable => Reason::StoreUnavailable,
            ApiError::StoreFailure => Reason::StoreFailure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_distinct_kebab_case_and_their_problem_types_follow() {
        let codes: HashSet<_> = ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), ALL.len());
        for reason in ALL {
            let code = reason.code();
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{code}"
            );
            assert_eq!(
                reason.problem_type(),
                format!("urn:jwt-scopes-api:problem:{code}")
            );
        }
    }
}
