//! Why a request was answered as it was: one stable code per outcome, declared here once with who
//! answers with it and what it means (each authorizer refusal,
//! [`TokenError`](crate::token::TokenError), bears the name of its code), and written the
//! same way in log lines (`reason=`), metrics (the `Reason` dimension), the product-api problem
//! `type` (`urn:jwt-scopes-api:problem:<code>`) and the local gateway's output.
//!
//! Codes are kebab-case because product-api's problem types already were (`insufficient-scope`),
//! and a problem type is part of the public API. They are stable: alarms, dashboards and Logs
//! Insights queries match on them, so a code is added, never renamed. A code says what was wrong
//! with a request, never what it carried: no token, no claim values.

use crate::product_api::ApiError;

/// Declares [`Reason`] from one table: each variant with its code, who answers with it, the
/// answer, and what it means. The enum, [`ALL`], the codes, the problem types and the variant
/// docs are generated from it, and a test holds docs/operating.md's table to it, so none can
/// drift from another.
macro_rules! reasons {
    ($($variant:ident = $code:literal, $who:literal, $answer:literal, $meaning:literal;)*) => {
        /// Why a request was allowed, denied, refused or failed.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Reason {
            $(
                #[doc = concat!("`", $code, "` (", $who, ", ", $answer, "): ", $meaning, ".")]
                $variant,
            )*
        }

        /// Every reason code, in the order of the documentation's table.
        pub const ALL: &[Reason] = &[$(Reason::$variant),*];

        impl Reason {
            /// The code, e.g. `bad-signature`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Reason::$variant => $code,)*
                }
            }

            /// The product-api problem `type` for this reason: `urn:jwt-scopes-api:problem:<code>`,
            /// written out at compile time (no formatting per request).
            pub fn problem_type(self) -> &'static str {
                match self {
                    $(Reason::$variant => concat!("urn:jwt-scopes-api:problem:", $code),)*
                }
            }

            /// Its row in docs/operating.md's table: code, who, answer, meaning.
            #[cfg(test)]
            fn row(self) -> [&'static str; 4] {
                match self {
                    $(Reason::$variant => [$code, $who, $answer, $meaning],)*
                }
            }
        }
    };
}

reasons! {
    Granted = "granted", "authorizer", "allow", "valid token with the route's scopes";
    InsufficientScope = "insufficient-scope", "both", "deny / 403", "valid token without the route's scopes";
    RouteRuleRefused = "route-rule-refused", "authorizer", "deny", "the route's CEL rule (`x-authorizer-rule`) is not `true` for this token and request ([rules.md](rules.md))";
    RouteNotFound = "route-not-found", "both", "deny / 404", "no route has this path";
    WildcardPath = "wildcard-path", "authorizer", "deny", "a permitted route the policy could name only by the request's own path, which holds `*` or `?` (SECURITY.md, \"Cached policies\")";
    MissingToken = "missing-token", "authorizer", "401", "no bearer token in the request";
    Malformed = "malformed", "authorizer", "401", "not a compact JWS (segments, base64, JSON, size)";
    AlgorithmNotAllowed = "algorithm-not-allowed", "authorizer", "401", "`alg` not allowed, or no key of that kind";
    UnknownIssuer = "unknown-issuer", "authorizer", "401", "`iss` names no configured issuer (several issuers)";
    UnknownKey = "unknown-key", "authorizer", "401", "no key with the token's `kid`, even after a refetch";
    KeysUnavailable = "keys-unavailable", "authorizer", "401", "the issuer's keys could not be fetched";
    BadSignature = "bad-signature", "authorizer", "401", "the signature does not verify";
    MalformedClaims = "malformed-claims", "authorizer", "401", "a registered claim has the wrong JSON type";
    MissingExpiry = "missing-expiry", "authorizer", "401", "no `exp`";
    Expired = "expired", "authorizer", "401", "`exp` in the past (after the leeway)";
    NotYetValid = "not-yet-valid", "authorizer", "401", "`nbf` or `iat` in the future";
    WrongAudience = "wrong-audience", "authorizer", "401", "`aud` / `client_id` not accepted";
    WrongIssuer = "wrong-issuer", "authorizer", "401", "`iss` not the expected issuer";
    WrongTokenType = "wrong-token-type", "authorizer", "401", "`token_use` / `typ` not the required one";
    ClaimNotAccepted = "claim-not-accepted", "authorizer", "401", "a required claim (`requiredClaims`, `AUTH_REQUIRED_CLAIMS`) absent or not an accepted value";
    MalformedScope = "malformed-scope", "authorizer", "401", "a scope claim is malformed";
    IssuerRuleRefused = "issuer-rule-refused", "authorizer", "401", "the issuer's CEL rule (`AUTH_RULE`, `rule` in `AUTH_CONFIG`) is not `true` for the token ([rules.md](rules.md))";
    Inactive = "inactive", "authorizer", "401", "the issuer's introspection endpoint says the opaque token is not active";
    IntrospectionUnavailable = "introspection-unavailable", "authorizer", "401", "the introspection endpoint is down, slow, refused our client or answered garbage";
    Revoked = "revoked", "authorizer", "401", "the revocation table revokes the token or its subject ([revocation-and-introspection.md](revocation-and-introspection.md))";
    RevocationUnavailable = "revocation-unavailable", "authorizer", "401", "the revocation table is missing, throttled, unreachable or slow";
    DpopProofMissing = "dpop-proof-missing", "authorizer", "401", "a DPoP-bound token, or the `DPoP` scheme, without a `DPoP` proof header";
    DpopProofMultiple = "dpop-proof-multiple", "authorizer", "401", "more than one `DPoP` header (or one holding a comma: HTTP API joins repeats)";
    DpopProofMalformed = "dpop-proof-malformed", "authorizer", "401", "the proof is not a compact JWS, or lacks `jti`, `htm`, `htu` or `iat`";
    DpopProofType = "dpop-proof-type", "authorizer", "401", "the proof's `typ` is not `dpop+jwt`";
    DpopProofAlgorithm = "dpop-proof-algorithm", "authorizer", "401", "the proof's `alg` is not an asymmetric algorithm we verify";
    DpopProofKey = "dpop-proof-key", "authorizer", "401", "the proof's `jwk` is absent, has private members or does not fit its `alg`";
    DpopProofSignature = "dpop-proof-signature", "authorizer", "401", "the proof's signature does not verify with its `jwk`";
    DpopMethodMismatch = "dpop-method-mismatch", "authorizer", "401", "`htm` is not the request's method";
    DpopUrlMismatch = "dpop-url-mismatch", "authorizer", "401", "`htu` is no `AUTH_PUBLIC_URL` joined with the request's path";
    DpopProofStale = "dpop-proof-stale", "authorizer", "401", "the proof's `iat` is older than `AUTH_DPOP_MAX_AGE_SECONDS` or in the future (after the leeway)";
    DpopTokenHashMismatch = "dpop-token-hash-mismatch", "authorizer", "401", "`ath` is absent or not the SHA-256 of the token";
    DpopKeyMismatch = "dpop-key-mismatch", "authorizer", "401", "the token's `cnf.jkt` is absent or not the thumbprint of the proof's key";
    DpopReplayed = "dpop-replayed", "authorizer", "401", "the proof's `jti` was used before within the window";
    ReplayCheckUnavailable = "replay-check-unavailable", "authorizer", "401", "the replay table is missing, throttled, unreachable or slow, or the in-memory set is full";
    DpopBoundAsBearer = "dpop-bound-as-bearer", "authorizer", "401", "a DPoP-bound token presented with the `Bearer` scheme";
    DpopRequired = "dpop-required", "authorizer", "401", "`AUTH_DPOP=required` and the token is not DPoP-bound";
    DpopOff = "dpop-off", "authorizer", "401", "`AUTH_DPOP=off` and the token is DPoP-bound";
    DpopUnconfigured = "dpop-unconfigured", "authorizer", "401", "a DPoP proof to check and no `AUTH_PUBLIC_URL`";
    BindingNeedsRequestEvent = "binding-needs-request-event", "authorizer", "401", "a DPoP- or certificate-bound token through a TOKEN authorizer, whose event carries neither proof nor certificate";
    CertificateMissing = "certificate-missing", "authorizer", "401", "a certificate-bound token and no client certificate in the event";
    CertificateMismatch = "certificate-mismatch", "authorizer", "401", "the client certificate is not the one the token's `cnf.x5t#S256` names, or unreadable";
    MtlsRequired = "mtls-required", "authorizer", "401", "`AUTH_MTLS=required` and the token is not certificate-bound";
    UnsupportedConfirmation = "unsupported-confirmation", "authorizer", "401", "a `cnf` claim with neither `jkt` nor `x5t#S256`, a binding we cannot check";
    InvalidEvent = "invalid-event", "authorizer", "500", "an event it cannot read";
    NotReady = "not-ready", "authorizer", "500", "the HMAC secret could not be read yet";
    Served = "served", "product-api", "2xx", "answered";
    Unauthenticated = "unauthenticated", "product-api", "401", "no identity validated by the gateway";
    MethodNotAllowed = "method-not-allowed", "product-api", "405", "the path exists, not with this method";
    InvalidProductName = "invalid-product-name", "product-api", "400", "bad `{name}`";
    InvalidProduct = "invalid-product", "product-api", "400", "bad body";
    InvalidRequest = "invalid-request", "product-api", "400", "bad query parameter or header";
    PreconditionFailed = "precondition-failed", "product-api", "412", "`If-Match` / `If-None-Match` does not hold";
    PayloadTooLarge = "payload-too-large", "product-api", "413", "body too large";
    UnsupportedMediaType = "unsupported-media-type", "product-api", "415", "body not JSON";
    ProductNotFound = "product-not-found", "product-api", "404", "no such product";
    ReadOnlyCatalog = "read-only-catalog", "product-api", "501", "write to the embedded catalog";
    StoreUnavailable = "store-unavailable", "product-api", "503", "DynamoDB throttling or unreachable";
    StoreFailure = "store-failure", "product-api", "500", "DynamoDB failed for good (e.g. no table)";
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
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

    /// docs/operating.md's table is this declaration, row for row: a code added, renamed or
    /// described differently in one place fails here until the other follows.
    #[test]
    fn the_docs_table_is_the_declaration() {
        let page = include_str!("../docs/operating.md");
        let documented: Vec<&str> = page
            .lines()
            .skip_while(|line| *line != "| Code | Who | Answer | Meaning |")
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .collect();
        let declared: Vec<String> = ALL
            .iter()
            .map(|reason| {
                let [code, who, answer, meaning] = reason.row();
                format!("| `{code}` | {who} | {answer} | {meaning} |")
            })
            .collect();
        assert_eq!(
            documented,
            declared,
            "docs/operating.md's reasons table, as declared:\n{}",
            declared.join("\n")
        );
    }
}
