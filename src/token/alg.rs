//! The JWS algorithms the authorizer can verify, named once, with the key family each needs.
//!
//! `jsonwebtoken::Algorithm` has no ES512 and no RFC 9864 fully-specified `Ed25519`, and a
//! foreign enum cannot grow variants, so the names are ours. `jsonwebtoken` still reads the JWKs
//! (`DecodingKey::from_jwk` gives the RSA components and the EC/OKP points) and signs tokens in
//! the tests and the development issuer; aws-lc-rs checks every signature ([`crate::token::jws`]).

use std::fmt;
use std::str::FromStr;

/// One JWS `alg` value (RFC 7518 §3.1, RFC 8037, RFC 9864). `none` is not one: it cannot be
/// named, so it can never be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// HMAC SHA-256.
    HS256,
    /// HMAC SHA-384.
    HS384,
    /// HMAC SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    RS512,
    /// RSASSA-PSS SHA-256.
    PS256,
    /// RSASSA-PSS SHA-384.
    PS384,
    /// RSASSA-PSS SHA-512.
    PS512,
    /// ECDSA P-256 SHA-256.
    ES256,
    /// ECDSA P-384 SHA-384.
    ES384,
    /// ECDSA P-521 SHA-512 (66-byte coordinates, 132-byte signatures).
    ES512,
    /// EdDSA, polymorphic (RFC 8037); with our keys always Ed25519.
    EdDSA,
    /// Ed25519, fully specified (RFC 9864 §2.2), the name RFC 9864 prefers to `EdDSA`.
    Ed25519,
}

/// The kind of key an algorithm verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A shared secret.
    Hmac,
    /// An RSA public key (2048 to 8192 bits).
    Rsa,
    /// An EC public key on P-256.
    P256,
    /// An EC public key on P-384.
    P384,
    /// An EC public key on P-521.
    P521,
    /// An OKP Ed25519 public key.
    Ed25519,
}

/// The RSA algorithms, the only ones API Gateway's HTTP API JWT authorizer verifies.
pub const RSA: [Alg; 6] = [
    Alg::RS256,
    Alg::RS384,
    Alg::RS512,
    Alg::PS256,
    Alg::PS384,
    Alg::PS512,
];

/// Every public-key algorithm the authorizer can verify: [`RSA`], then the elliptic-curve and
/// Edwards ones; `AUTH_ALGORITHMS` narrows it.
pub const ASYMMETRIC: [Alg; 11] = {
    let others = [Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA, Alg::Ed25519];
    let mut all = [Alg::RS256; 11];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < RSA.len() {
            RSA[i]
        } else {
            others[i - RSA.len()]
        };
        i += 1;
    }
    all
};

/// HMAC algorithms, accepted only for an issuer with a shared secret.
pub const SYMMETRIC: [Alg; 3] = [Alg::HS256, Alg::HS384, Alg::HS512];

impl Alg {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
            Alg::Ed25519 => "Ed25519",
        }
    }

    /// The key family that verifies it.
    pub fn family(self) -> Family {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => Family::Hmac,
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                Family::Rsa
            }
            Alg::ES256 => Family::P256,
            Alg::ES384 => Family::P384,
            Alg::ES512 => Family::P521,
            Alg::EdDSA | Alg::Ed25519 => Family::Ed25519,
        }
    }

    /// Whether it needs a shared secret.
    pub fn is_symmetric(self) -> bool {
        self.family() == Family::Hmac
    }
}

impl Family {
    /// The algorithms a key of this family may verify, when its JWK declares no `alg`.
    pub fn algorithms(self) -> &'static [Alg] {
        match self {
            Family::Hmac => &SYMMETRIC,
            Family::Rsa => &RSA,
            Family::P256 => &[Alg::ES256],
            Family::P384 => &[Alg::ES384],
            Family::P521 => &[Alg::ES512],
            Family::Ed25519 => &[Alg::EdDSA, Alg::Ed25519],
        }
    }
}

/// An `alg` value we do not verify (including `none` in any spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownAlg;

/// Exact, case-sensitive names (RFC 7515 §4.1.1: `alg` is case-sensitive).
impl FromStr for Alg {
    type Err = UnknownAlg;
    fn from_str(name: &str) -> Result<Self, UnknownAlg> {
        SYMMETRIC
            .iter()
            .chain(&ASYMMETRIC)
            .copied()
            .find(|alg| alg.name() == name)
            .ok_or(UnknownAlg)
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7515_names_are_exact_and_case_sensitive() {
        for alg in SYMMETRIC.iter().chain(&ASYMMETRIC) {
            assert_eq!(alg.name().parse::<Alg>(), Ok(*alg));
        }
        for name in [
            "none", "None", "rs256", "es512", "ed25519", "EDDSA", "", "ES256K",
        ] {
            assert_eq!(name.parse::<Alg>(), Err(UnknownAlg), "{name}");
        }
    }

    #[test]
    fn rfc9864_ed25519_verifies_with_the_same_keys_as_eddsa() {
        assert_eq!(Alg::Ed25519.family(), Alg::EdDSA.family());
        assert_eq!(Family::Ed25519.algorithms(), [Alg::EdDSA, Alg::Ed25519]);
    }

    #[test]
    fn each_family_lists_only_its_own_algorithms() {
        for alg in SYMMETRIC.iter().chain(&ASYMMETRIC) {
            assert!(alg.family().algorithms().contains(alg), "{alg}");
        }
        assert!(RSA.iter().all(|a| a.family() == Family::Rsa));
        assert!(!ASYMMETRIC.iter().any(|a| a.is_symmetric()));
    }
}
