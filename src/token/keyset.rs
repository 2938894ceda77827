//! A JSON Web Key Set turned into ready-to-use verification keys, once per fetch, and the rule
//! for when the set may be fetched again. Pure: no I/O, no clock (the caller passes `now`).
//!
//! Keys are filtered here so verification never has to second-guess them: encryption keys,
//! symmetric (`oct`) keys, RSA keys under 2048 bits and malformed entries are dropped (and
//! counted). Each key is parsed here, once per fetch, for each algorithm it may verify, so no
//! token pays for key parsing.

use crate::token::alg::{Alg, Family};
use crate::token::jws::SignatureKey;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

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

/// The JWK's `alg` as written: `jsonwebtoken` reads names it does not know (`ES512`,
/// `Ed25519`) as "unknown", so the declared name is read here.
#[derive(Deserialize)]
struct Declared<'a> {
    #[serde(borrow, default)]
    alg: Option<Cow<'a, str>>,
}

impl KeySet {
    /// Parses a JWKS document. Individual bad keys are skipped; a document with no usable key
    /// is an error, so a broken key server cannot silently empty the cache.
    pub fn from_jwks(document: &[u8]) -> Result<KeySet, KeySetError> {
        let document: Document<'_> =
            serde_json::from_slice(document).map_err(|_| KeySetError::NotAJwks)?;
        let mut set = KeySet::default();
        for raw in document.keys {
            let declared = serde_json::from_str::<Declared<'_>>(raw.get()).ok();
            match serde_json::from_str::<Jwk>(raw.get())
                .ok()
                .zip(declared)
                .and_then(|(jwk, declared)| prepare(&jwk, declared.alg.as_deref()))
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
        alg: Alg,
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

/// The JWK prepared for the algorithms it may verify (narrowed by its declared `alg`), or
/// `None` if it must not be used: an encryption key (`use`, or `key_ops` without `verify`,
/// RFC 7517 §4.2-4.3), a declared `alg` we do not verify or of another family, or a malformed key.
fn prepare(jwk: &Jwk, declared: Option<&str>) -> Option<VerificationKey> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    if let Some(operations) = &jwk.common.key_operations
        && !operations.contains(&KeyOperations::Verify)
    {
        return None;
    }
    let family = match &jwk.algorithm {
        // The modulus size (2048 to 8192 bits) is checked when the key is prepared.
        AlgorithmParameters::RSA(_) => Family::Rsa,
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Family::P256,
            EllipticCurve::P384 => Family::P384,
            EllipticCurve::P521 => Family::P521,
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Family::Ed25519
        }
        _ => return None,
    };
    let declared = match declared {
        None => None,
        Some(name) => Some(name.parse::<Alg>().ok().filter(|a| a.family() == family)?),
    };
    // `EdDSA` and `Ed25519` name one scheme on an Ed25519 key (RFC 9864 §2.2), so a key
    // declaring either verifies both spellings.
    let allowed = |alg: &&Alg| declared.is_none_or(|d| d == **alg || family == Family::Ed25519);
    let key = DecodingKey::from_jwk(jwk).ok()?;
    let prepared = family
        .algorithms()
        .iter()
        .filter(allowed)
        .map(|alg| SignatureKey::public(&key, *alg))
        .collect::<Option<Vec<_>>>()?;
    Some(VerificationKey {
        kid: jwk.common.key_id.clone(),
        prepared,
    })
}

/// When one issuer's keys were last fetched, and whether that fetch yielded the `kid` it was
/// started for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastFetch {
    /// Seconds since the epoch when it started.
    pub at: u64,
    /// Whether it brought the key it was asked for (false while in flight and on failure).
    pub found: bool,
}

/// Whether a fetch may start now. After a fetch that found what it was asked for, at once: an
/// issuer may rotate a new key in right after a cold start's fetch, and its tokens must not
/// wait out a cooldown. After a fetch that did not (an unknown `kid`, a failure), only once
/// `cooldown_secs` have passed, so attacker-chosen `kid`s cause at most one fetch per cooldown
/// (aws-jwt-verify's penalty box works this way).
pub fn may_refetch(last: Option<LastFetch>, now: u64, cooldown_secs: u64) -> bool {
    match last {
        None => true,
        Some(LastFetch { found: true, .. }) => true,
        Some(LastFetch { at, found: false }) => now.saturating_sub(at) >= cooldown_secs,
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
        assert_eq!(set.candidates(Some("r"), Alg::PS256).count(), 1);
        assert_eq!(set.candidates(Some("r"), Alg::ES256).count(), 0);
        assert_eq!(set.candidates(Some("ec"), Alg::ES256).count(), 1);
        assert_eq!(set.candidates(Some("ec"), Alg::ES384).count(), 0);
        assert_eq!(set.candidates(Some("ed"), Alg::EdDSA).count(), 1);
        assert_eq!(set.candidates(Some("ed"), Alg::HS256).count(), 0);
        assert_eq!(set.candidates(None, Alg::RS256).count(), 0);
    }

    #[test]
    fn a_declared_alg_narrows_the_key() {
        let set = KeySet::from_jwks(&jwks(&rsa("r", r#","alg":"RS256","use":"sig""#))).unwrap();
        assert_eq!(set.candidates(Some("r"), Alg::RS256).count(), 1);
        assert_eq!(set.candidates(Some("r"), Alg::RS512).count(), 0);
        assert_eq!(set.candidates(Some("r"), Alg::PS256).count(), 0);
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
        assert_eq!(set.candidates(Some("same"), Alg::RS256).count(), 2);
        assert!(set.knows(Some("same")));
        assert!(!set.knows(Some("other")));
    }

    #[test]
    fn refetch_waits_out_the_cooldown_only_after_a_fetch_that_missed() {
        let missed = |at| Some(LastFetch { at, found: false });
        let found = |at| Some(LastFetch { at, found: true });
        assert!(may_refetch(None, 100, 10));
        assert!(!may_refetch(missed(100), 105, 10));
        assert!(may_refetch(missed(100), 110, 10));
        assert!(
            !may_refetch(missed(100), 50, 10),
            "a clock going backwards does not open the gate"
        );
        assert!(
            may_refetch(found(100), 101, 10),
            "a key rotated in right after a successful fetch is fetched at once"
        );
    }
}
