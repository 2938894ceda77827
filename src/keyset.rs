//! A JSON Web Key Set turned into ready-to-use verification keys, once per fetch, and the rule
//! for when the set may be fetched again. Pure: no I/O, no clock (the caller passes `now`).
//!
//! Keys are filtered here so verification never has to second-guess them: encryption keys,
//! symmetric (`oct`) keys, RSA keys under 2048 bits and malformed entries are dropped (and
//! counted). Each key is parsed here, once per fetch, for each algorithm it may verify, so no
//! token pays for key parsing.

use crate::config::ASYMMETRIC;
use crate::jws::SignatureKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::value::RawValue;

/// One JWK, prepared for each algorithm it may verify.
pub struct VerificationKey {
    kid: Option<String>,
    prepared: Vec<SignatureKey>,
}

/// The usable keys of one JWKS document.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
    skipped: usize,
}

/// Why a JWKS document was refused as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySetError {
    /// Not a JSON object with a `keys` array.
    NotAJwks,
    /// Valid JSON, but no key in it can verify a signature.
    NoUsableKeys,
}

impl std::fmt::Display for KeySetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySetError::NotAJwks => "response is not a JWKS document",
            KeySetError::NoUsableKeys => "JWKS has no usable signing key",
        })
    }
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow)]
    keys: Vec<&'a RawValue>,
}

/// The algorithms an RSA key can verify: the first six of [`ASYMMETRIC`].
pub const RSA_ALGORITHMS: &[Algorithm] = ASYMMETRIC.split_at(6).0;

impl KeySet {
    /// Parses a JWKS document. Individual bad keys are skipped; a document with no usable key
    /// is an error, so a broken key server cannot silently empty the cache.
    pub fn from_jwks(document: &[u8]) -> Result<KeySet, KeySetError> {
        let document: Document<'_> =
            serde_json::from_slice(document).map_err(|_| KeySetError::NotAJwks)?;
        let mut set = KeySet::default();
        for raw in document.keys {
            match serde_json::from_str::<Jwk>(raw.get())
                .ok()
                .and_then(|jwk| prepare(&jwk))
            {
                Some(key) => set.keys.push(key),
                None => set.skipped += 1,
            }
        }
        if set.keys.is_empty() {
            return Err(KeySetError::NoUsableKeys);
        }
        Ok(set)
    }

    /// Keys that may verify a token with this `kid` and `alg`. A token without `kid` only
    /// matches keys without one.
    pub fn candidates<'s>(
        &'s self,
        kid: Option<&'s str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'s SignatureKey> {
        self.keys
            .iter()
            .filter(move |k| k.kid.as_deref() == kid)
            .flat_map(|k| &k.prepared)
            .filter(move |k| k.algorithm() == alg)
    }

    /// Whether any key carries this `kid` (whatever its algorithm); decides whether an unknown
    /// `kid` is worth a refetch.
    pub fn knows(&self, kid: Option<&str>) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == kid)
    }

    /// Usable keys in the set.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty (only a default set is).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Entries dropped as unusable, for the fetch log line.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

/// The JWK prepared for the algorithms it may verify (narrowed by its `alg`), or `None` if it
/// must not be used.
fn prepare(jwk: &Jwk) -> Option<VerificationKey> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let family: &'static [Algorithm] = match &jwk.algorithm {
        // The modulus size (2048 to 8192 bits) is checked when the key is prepared.
        AlgorithmParameters::RSA(_) => RSA_ALGORITHMS,
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family,
        Some(declared) => {
            let declared = Algorithm::try_from(declared).ok()?;
            let i = family.iter().position(|a| *a == declared)?;
            &family[i..=i]
        }
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let prepared = algorithms
        .iter()
        .map(|alg| SignatureKey::public(&key, *alg))
        .collect::<Option<Vec<_>>>()?;
    Some(VerificationKey {
        kid: jwk.common.key_id.clone(),
        prepared,
    })
}

/// Whether a fetch may start now: never more than once per `cooldown_secs`, whatever the
/// callers ask for, so a flood of unknown `kid`s cannot hammer the issuer.
pub fn may_refetch(last_attempt: Option<u64>, now: u64, cooldown_secs: u64) -> bool {
    match last_attempt {
        None => true,
        Some(at) => now.saturating_sub(at) >= cooldown_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn jwks(keys: &str) -> Vec<u8> {
        format!(r#"{{"keys":[{keys}]}}"#).into_bytes()
    }

    fn rsa(kid: &str, extra: &str) -> String {
        format!(r#"{{"kty":"RSA","kid":"{kid}","n":"{RSA_N}","e":"AQAB"{extra}}}"#)
    }

    #[test]
    fn keeps_each_key_family_with_its_algorithms() {
        let ec =
            format!(r#"{{"kty":"EC","kid":"ec","crv":"P-256","x":"{P256_X}","y":"{P256_Y}"}}"#);
        let ed = format!(r#"{{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"{ED_X}"}}"#);
        let set = KeySet::from_jwks(&jwks(&[rsa("r", ""), ec, ed].join(","))).unwrap();
        assert_eq!(set.len(), 3);
        assert_eq!(set.candidates(Some("r"), Algorithm::PS256).count(), 1);
        assert_eq!(set.candidates(Some("r"), Algorithm::ES256).count(), 0);
        assert_eq!(set.candidates(Some("ec"), Algorithm::ES256).count(), 1);
        assert_eq!(set.candidates(Some("ec"), Algorithm::ES384).count(), 0);
        assert_eq!(set.candidates(Some("ed"), Algorithm::EdDSA).count(), 1);
        assert_eq!(set.candidates(Some("ed"), Algorithm::HS256).count(), 0);
        assert_eq!(set.candidates(None, Algorithm::RS256).count(), 0);
    }

    #[test]
    fn a_declared_alg_narrows_the_key() {
        let set = KeySet::from_jwks(&jwks(&rsa("r", r#","alg":"RS256","use":"sig""#))).unwrap();
        assert_eq!(set.candidates(Some("r"), Algorithm::RS256).count(), 1);
        assert_eq!(set.candidates(Some("r"), Algorithm::RS512).count(), 0);
        assert_eq!(set.candidates(Some("r"), Algorithm::PS256).count(), 0);
        let mismatched = KeySet::from_jwks(&jwks(&format!(
            "{},{}",
            rsa("bad", r#","alg":"ES256""#),
            rsa("ok", "")
        )));
        assert_eq!(mismatched.unwrap().skipped(), 1);
    }

    #[test]
    fn drops_unusable_keys_and_refuses_a_set_without_any() {
        let small = r#"{"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"}"#;
        let oct = r#"{"kty":"oct","kid":"h","k":"c2VjcmV0"}"#;
        let enc = rsa("enc", r#","use":"enc""#);
        let garbage = r#"{"kty":"RSA","kid":"g"}"#;
        let p521 = r#"{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}"#;
        let all_bad = [small, oct, &enc, garbage, p521, "42", "null"].join(",");
        assert_eq!(
            KeySet::from_jwks(&jwks(&all_bad)).err(),
            Some(KeySetError::NoUsableKeys)
        );
        let set = KeySet::from_jwks(&jwks(&format!("{all_bad},{}", rsa("ok", "")))).unwrap();
        assert_eq!((set.len(), set.skipped()), (1, 7));
    }

    #[test]
    fn refuses_what_is_not_a_jwks() {
        for doc in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"keys":{}}"#,
            "<html>",
            r#"{"keys":[}"#,
        ] {
            assert_eq!(
                KeySet::from_jwks(doc.as_bytes()).err(),
                Some(KeySetError::NotAJwks),
                "{doc}"
            );
        }
        assert_eq!(
            KeySet::from_jwks(br#"{"keys":[]}"#).err(),
            Some(KeySetError::NoUsableKeys)
        );
    }

    #[test]
    fn duplicate_kids_are_all_candidates() {
        let set =
            KeySet::from_jwks(&jwks(&format!("{},{}", rsa("same", ""), rsa("same", "")))).unwrap();
        assert_eq!(set.candidates(Some("same"), Algorithm::RS256).count(), 2);
        assert!(set.knows(Some("same")));
        assert!(!set.knows(Some("other")));
    }

    #[test]
    fn refetch_is_limited_by_the_cooldown() {
        assert!(may_refetch(None, 100, 10));
        assert!(!may_refetch(Some(100), 105, 10));
        assert!(may_refetch(Some(100), 110, 10));
        assert!(
            !may_refetch(Some(100), 50, 10),
            "a clock going backwards does not open the gate"
        );
    }
}
