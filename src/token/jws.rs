//! Compact JWS (RFC 7515): a token split once, each part decoded once, and its signature checked
//! with keys prepared once.
//!
//! `jsonwebtoken` reads the JWKs (`DecodingKey::from_jwk`) and names the algorithms; the check
//! itself calls aws-lc-rs, the library `jsonwebtoken` verifies with, on keys parsed when a key
//! set is fetched. `jsonwebtoken::decode` cannot be given such a key: it rebuilds the verifier,
//! and for a JWK RSA key the key itself, on every call (about 5 µs of a 27 µs RS256 check), and
//! reads the header and the claims twice (BENCHMARKS.md).

use crate::token::alg::{Alg, Family};
use crate::token::error::TokenError;
use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{AlgorithmFamily, DecodingKey, DecodingKeyKind};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A key ready to check one algorithm's signatures, parsed once and shared by every token.
pub struct SignatureKey {
    alg: Alg,
    prepared: Prepared,
}

enum Prepared {
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

impl SignatureKey {
    /// Prepares a public key (as `jsonwebtoken` decoded it from a JWK) for `alg`; `None` if the
    /// key is malformed or of another family.
    pub fn public(key: &DecodingKey, alg: Alg) -> Option<Self> {
        let family = match alg.family() {
            Family::Hmac => return None,
            Family::Rsa => AlgorithmFamily::Rsa,
            Family::P256 | Family::P384 | Family::P521 => AlgorithmFamily::Ec,
            Family::Ed25519 => AlgorithmFamily::Ed,
        };
        if key.family() != family {
            return None;
        }
        let parsed = match (key.kind(), alg.family()) {
            (DecodingKeyKind::RsaModulusExponent { n, e }, Family::Rsa) => {
                let params = rsa_parameters(alg)?;
                let n = without_leading_zeros(n);
                let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                    return None;
                }
                let e = without_leading_zeros(e);
                RsaPublicKeyComponents { n, e }
                    .to_parsed_public_key(params)
                    .ok()?
            }
            // An uncompressed point: 0x04, then x and y of the curve's coordinate size.
            (
                DecodingKeyKind::SecretOrDer(point),
                family @ (Family::P256 | Family::P384 | Family::P521),
            ) => {
                let (params, len) = match family {
                    Family::P256 => (&sig::ECDSA_P256_SHA256_FIXED, 1 + 2 * 32),
                    Family::P384 => (&sig::ECDSA_P384_SHA384_FIXED, 1 + 2 * 48),
                    _ => (&sig::ECDSA_P521_SHA512_FIXED, 1 + 2 * 66),
                };
                if point.len() != len {
                    return None;
                }
                ParsedPublicKey::new(params, point).ok()?
            }
            (DecodingKeyKind::SecretOrDer(x), Family::Ed25519) if x.len() == 32 => {
                ParsedPublicKey::new(&sig::ED25519, x).ok()?
            }
            _ => return None,
        };
        Some(SignatureKey {
            alg,
            prepared: Prepared::Public(parsed),
        })
    }

    /// Prepares a shared secret for `alg` (`HS256`, `HS384` or `HS512`).
    pub fn hmac(secret: &[u8], alg: Alg) -> Option<Self> {
        let algorithm = match alg {
            Alg::HS256 => hmac::HMAC_SHA256,
            Alg::HS384 => hmac::HMAC_SHA384,
            Alg::HS512 => hmac::HMAC_SHA512,
            _ => return None,
        };
        (!secret.is_empty()).then(|| SignatureKey {
            alg,
            prepared: Prepared::Hmac(Box::new(hmac::Key::new(algorithm, secret))),
        })
    }

    /// The one algorithm this key checks.
    pub fn algorithm(&self) -> Alg {
        self.alg
    }

    fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match &self.prepared {
            Prepared::Public(key) => key.verify_sig(signing_input, signature).is_ok(),
            Prepared::Hmac(key) => hmac::verify(key, signing_input, signature).is_ok(),
        }
    }
}

/// A public key carried in a JWS header (a DPoP proof's `jwk`, RFC 9449 §4.2), read once: the
/// key prepared for one algorithm, and its RFC 7638 thumbprint, which a DPoP-bound token names
/// in `cnf.jkt` (RFC 9449 §6.1).
pub struct EmbeddedKey {
    /// The key, prepared for the header's `alg`.
    pub key: SignatureKey,
    /// base64url(SHA-256) of the key's required members (RFC 7638 §3).
    pub thumbprint: String,
}

/// The members of an embedded JWK we read: the public ones of the three key types, and the
/// private ones only to refuse a key that has them (RFC 9449 §4.3 step 7).
#[derive(Deserialize)]
struct PublicJwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<IgnoredAny>,
    p: Option<IgnoredAny>,
    q: Option<IgnoredAny>,
    dp: Option<IgnoredAny>,
    dq: Option<IgnoredAny>,
    qi: Option<IgnoredAny>,
    k: Option<IgnoredAny>,
}

impl EmbeddedKey {
    /// Reads `jwk` (its JSON text) as a public key for `alg`: `None` when it is not JSON, has
    /// a private member (`d`, `p`, `q`, `dp`, `dq`, `qi`) or is symmetric (`k`), or is not a
    /// well-formed key of `alg`'s family and curve.
    pub fn read(jwk: &str, alg: Alg) -> Option<Self> {
        let jwk: PublicJwk = serde_json::from_str(jwk).ok()?;
        let private = [&jwk.d, &jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi, &jwk.k];
        if private.iter().any(|member| member.is_some()) {
            return None;
        }
        let curve = jwk.crv.as_deref();
        // RFC 7638 §3.2: the required members only, in lexicographic order.
        let (key, members) = match (jwk.kty.as_str(), alg.family()) {
            ("RSA", Family::Rsa) => {
                let (n, e) = (jwk.n.as_deref()?, jwk.e.as_deref()?);
                let key = DecodingKey::from_rsa_components(n, e).ok()?;
                (key, [("e", e), ("kty", "RSA"), ("n", n), ("", "")])
            }
            ("EC", family @ (Family::P256 | Family::P384 | Family::P521)) => {
                let crv = match family {
                    Family::P256 => "P-256",
                    Family::P384 => "P-384",
                    _ => "P-521",
                };
                let (x, y) = (jwk.x.as_deref()?, jwk.y.as_deref()?);
                if curve != Some(crv) {
                    return None;
                }
                let key = DecodingKey::from_ec_components(x, y).ok()?;
                (key, [("crv", crv), ("kty", "EC"), ("x", x), ("y", y)])
            }
            ("OKP", Family::Ed25519) if curve == Some("Ed25519") => {
                let x = jwk.x.as_deref()?;
                let key = DecodingKey::from_ed_components(x).ok()?;
                (
                    key,
                    [("crv", "Ed25519"), ("kty", "OKP"), ("x", x), ("", "")],
                )
            }
            _ => return None,
        };
        let mut canonical = String::with_capacity(160);
        for (name, value) in members.iter().filter(|(name, _)| !name.is_empty()) {
            canonical.push(if canonical.is_empty() { '{' } else { ',' });
            // Names are ours; values were base64url to build the key, but are escaped anyway.
            canonical.push_str(&serde_json::to_string(name).ok()?);
            canonical.push(':');
            canonical.push_str(&serde_json::to_string(value).ok()?);
        }
        canonical.push('}');
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        Some(EmbeddedKey {
            key: SignatureKey::public(&key, alg)?,
            thumbprint: URL_SAFE_NO_PAD.encode(digest),
        })
    }
}

/// RSA modulus sizes accepted: NIST SP 800-131A's floor, and aws-lc's ceiling for verification.
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

fn rsa_parameters(alg: Alg) -> Option<&'static sig::RsaParameters> {
    Some(match alg {
        Alg::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// Some key servers write `n` with a leading zero byte (a DER habit); the value is the same.
fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The protected header fields we act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The signing algorithm, one we verify (never `none`).
    pub alg: Alg,
    /// Key id.
    pub kid: Option<String>,
    /// Media type (RFC 9068 access tokens: `at+jwt`).
    pub typ: Option<String>,
    /// The JSON text of an embedded public key (RFC 7515 §4.1.3), kept only when present: a
    /// DPoP proof's key (RFC 9449 §4.2). A token's is never trusted or used.
    pub jwk: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    jwk: Option<&'a RawValue>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
    #[serde(default)]
    b64: Option<bool>,
}

/// A compact JWS with its header and claims decoded, and nothing about it trusted yet.
pub struct Jws<'t, C> {
    /// The protected header.
    pub header: Header,
    /// The payload, deserialized once into the caller's claims type.
    pub claims: C,
    signing_input: &'t str,
    signature: Vec<u8>,
}

impl<'t, C: DeserializeOwned> Jws<'t, C> {
    /// Splits and decodes a token. Refused before any decoding: a token over `max_bytes`. Then:
    /// anything but three base64url parts, a header that is not a JSON object with a string `alg`, an `alg` `jsonwebtoken` does not know (`none`
    /// in any spelling), any `crit` (we implement no extension) or `b64: false` (RFC 7797), and
    /// a payload that does not deserialize into `C`.
    pub fn parse(token: &'t str, max_bytes: usize) -> Result<Self, TokenError> {
        if token.len() > max_bytes {
            return Err(TokenError::Malformed);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| TokenError::Malformed)
        };
        let header_json = object(decode(header)?)?;
        let raw: RawHeader<'_> =
            serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;
        if raw.crit.is_some() || raw.b64 == Some(false) {
            return Err(TokenError::Malformed);
        }
        let alg = raw
            .alg
            .parse::<Alg>()
            .map_err(|_| TokenError::AlgorithmNotAllowed)?;
        let claims =
            serde_json::from_slice(&object(decode(payload)?)?).map_err(|e| match e.classify() {
                serde_json::error::Category::Data => TokenError::MalformedClaims,
                _ => TokenError::Malformed,
            })?;
        Ok(Jws {
            header: Header {
                alg,
                kid: raw.kid.map(Cow::into_owned),
                typ: raw.typ.map(Cow::into_owned),
                jwk: raw.jwk.map(|jwk| jwk.get().to_owned()),
            },
            claims,
            signing_input,
            signature: decode(signature)?,
        })
    }
}

/// Header and claims are JSON objects; serde would also fill a struct from an array.
fn object(json: Vec<u8>) -> Result<Vec<u8>, TokenError> {
    match json.trim_ascii_start().first() {
        Some(b'{') => Ok(json),
        _ => Err(TokenError::Malformed),
    }
}

impl<C> Jws<'_, C> {
    /// The payload decoded again, into another type: the claims a configuration names beyond
    /// the ones `C` reads (required claims, the principal claim). Decoded only when asked, so a
    /// deployment that names none pays nothing.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, TokenError> {
        self.segment_as(self.signing_input.split_once('.').map_or("", |(_, p)| p))
    }

    /// The protected header decoded again, every field: what a CEL rule reads as `header`
    /// (`crate::authorizer`'s rules). Decoded only when a rule may read it.
    pub fn header_as<T: DeserializeOwned>(&self) -> Result<T, TokenError> {
        self.segment_as(self.signing_input.split_once('.').map_or("", |(h, _)| h))
    }

    /// One base64url segment of the signing input, decoded into `T`.
    fn segment_as<T: DeserializeOwned>(&self, segment: &str) -> Result<T, TokenError> {
        let json = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
    }

    /// Checks the signature with each candidate key prepared for the header's `alg` (others are
    /// passed over, whatever the caller hands in) until one verifies: `UnknownKey` when there is
    /// no such key, `BadSignature` when none verifies.
    pub fn check_signature<'k>(
        &self,
        candidates: impl IntoIterator<Item = &'k SignatureKey>,
    ) -> Result<(), TokenError> {
        let mut outcome = Err(TokenError::UnknownKey);
        for key in candidates.into_iter().filter(|k| k.alg == self.header.alg) {
            if key.verifies(self.signing_input.as_bytes(), &self.signature) {
                return Ok(());
            }
            outcome = Err(TokenError::BadSignature);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn token(header: Value, claims: Value) -> String {
        format!("{}.{}.c2ln", b64(&header), b64(&claims))
    }

    fn parse(token: &str) -> Result<Jws<'_, Value>, TokenError> {
        Jws::parse(token, 16 * 1024)
    }

    #[test]
    fn reads_the_header_fields_we_act_on() {
        let t = token(
            json!({"alg": "RS256", "kid": "k1", "typ": "at+jwt", "jku": "https://evil/"}),
            json!({"sub": "u"}),
        );
        let jws = parse(&t).unwrap();
        assert_eq!(
            jws.header,
            Header {
                alg: Alg::RS256,
                kid: Some("k1".into()),
                typ: Some("at+jwt".into()),
                jwk: None,
            }
        );
        assert_eq!(jws.claims, json!({"sub": "u"}));
        assert_eq!(jws.signature, b"sig");
    }

    #[test]
    fn refuses_malformed_tokens() {
        let good_header = b64(&json!({"alg": "HS256"}));
        let good_claims = b64(&json!({}));
        for bad in [
            String::new(),
            "a.b".into(),
            format!("{good_header}.{good_claims}"),
            format!("{good_header}=.{good_claims}.c2ln"),
            format!("{good_header}.{good_claims}.c2ln="),
            format!("{good_header}.{good_claims}.c2l+"),
            format!("{good_header}.{good_claims}.c2ln.extra"),
            format!("{}.{good_claims}.c2ln", b64(&json!(["alg"]))),
            format!("{}.{good_claims}.c2ln", b64(&json!(["RS256"]))),
            format!("{good_header}.{}.c2ln", b64(&json!(["u"]))),
            format!("{}.{good_claims}.c2ln", b64(&json!({"alg": 5}))),
            format!("{}.{good_claims}.c2ln", b64(&json!({"kid": "k"}))),
            format!("{good_header}.bm90IGpzb24.c2ln"),
            token(
                json!({"alg": "HS256", "crit": ["exp"], "exp": 1}),
                json!({}),
            ),
            token(
                json!({"alg": "HS256", "crit": ["b64"], "b64": false}),
                json!({}),
            ),
            token(json!({"alg": "HS256", "b64": false}), json!({})),
        ] {
            assert!(
                matches!(parse(&bad), Err(TokenError::Malformed)),
                "{bad}: {:?}",
                parse(&bad).err()
            );
        }
        let fits = token(json!({"alg": "HS256"}), json!({}));
        assert!(Jws::<Value>::parse(&fits, fits.len()).is_ok());
        assert!(matches!(
            Jws::<Value>::parse(&fits, fits.len() - 1),
            Err(TokenError::Malformed)
        ));
    }

    #[test]
    fn unknown_algorithms_are_not_allowed() {
        for alg in ["none", "None", "", "RS1", "PS256 ", "hs256"] {
            let t = token(json!({"alg": alg}), json!({}));
            assert!(
                matches!(parse(&t), Err(TokenError::AlgorithmNotAllowed)),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn claims_of_the_wrong_shape_are_a_claim_type_error() {
        #[derive(Debug, Deserialize)]
        struct Exp {
            #[allow(dead_code)]
            exp: u64,
        }
        let t = token(json!({"alg": "HS256"}), json!({"exp": "1"}));
        assert!(matches!(
            Jws::<Exp>::parse(&t, t.len()),
            Err(TokenError::MalformedClaims)
        ));
    }

    #[test]
    fn hmac_keys_check_their_own_signatures_only() {
        let key = SignatureKey::hmac(b"0123456789abcdef0123456789abcdef", Alg::HS256).unwrap();
        let other = SignatureKey::hmac(b"another secret of thirty-two b..", Alg::HS256).unwrap();
        let signing_input = format!("{}.{}", b64(&json!({"alg": "HS256"})), b64(&json!({})));
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, b"0123456789abcdef0123456789abcdef"),
            signing_input.as_bytes(),
        );
        let t = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        let jws = parse(&t).unwrap();
        assert_eq!(jws.check_signature([&key]), Ok(()));
        assert_eq!(jws.check_signature([&other, &key]), Ok(()));
        assert_eq!(jws.check_signature([&other]), Err(TokenError::BadSignature));
        assert_eq!(jws.check_signature([]), Err(TokenError::UnknownKey));
        let hs512 = SignatureKey::hmac(b"0123456789abcdef0123456789abcdef", Alg::HS512).unwrap();
        assert_eq!(jws.check_signature([&hs512]), Err(TokenError::UnknownKey));
        assert!(SignatureKey::hmac(b"", Alg::HS256).is_none());
        assert!(SignatureKey::hmac(b"x", Alg::RS256).is_none());
    }

    /// Real keys made here with aws-lc-rs: each prepared key verifies its own algorithm's
    /// signatures and no other's, and nothing verifies a changed payload.
    #[test]
    fn public_keys_verify_exactly_their_algorithm() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, RsaKeyPair};
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = rsa.public_key();
        let rsa_public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(public);
        // A leading zero on `n`, as some key servers write it.
        let padded_n = [&[0u8][..], &rsa_public.n].concat();
        let rsa_key = DecodingKey::from_rsa_raw_components(&padded_n, &rsa_public.e);
        let ed = Ed25519KeyPair::generate().unwrap();
        let ed_key = DecodingKey::from_ed_der(ed.public_key().as_ref());
        let signing_input = format!("{}.{}", b64(&json!({"alg": "RS256"})), b64(&json!({})));
        let mut rs256 = vec![0; rsa.public_modulus_len()];
        rsa.sign(
            &sig::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut rs256,
        )
        .unwrap();
        let t = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&rs256));
        let jws = parse(&t).unwrap();
        let prepared = |key: &DecodingKey, alg| SignatureKey::public(key, alg).unwrap();
        let (rs, ps, rs512) = (
            prepared(&rsa_key, Alg::RS256),
            prepared(&rsa_key, Alg::PS256),
            prepared(&rsa_key, Alg::RS512),
        );
        assert_eq!(jws.check_signature([&ps, &rs512, &rs]), Ok(()));
        assert_eq!(
            jws.check_signature([&ps, &rs512]),
            Err(TokenError::UnknownKey)
        );
        let tampered = t.replacen(".e30.", &format!(".{}.", b64(&json!({"a": 1}))), 1);
        assert_eq!(
            parse(&tampered).unwrap().check_signature([&rs]),
            Err(TokenError::BadSignature)
        );

        let signing_input = format!("{}.{}", b64(&json!({"alg": "EdDSA"})), b64(&json!({})));
        let signature = ed.sign(signing_input.as_bytes());
        let t = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
        let eddsa = prepared(&ed_key, Alg::EdDSA);
        assert_eq!(parse(&t).unwrap().check_signature([&rs, &eddsa]), Ok(()));
        assert_eq!(
            parse(&t).unwrap().check_signature([&rs]),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn public_keys_only_serve_their_family() {
        let ed =
            DecodingKey::from_ed_components("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        assert!(SignatureKey::public(&ed, Alg::EdDSA).is_some());
        assert!(SignatureKey::public(&ed, Alg::ES256).is_none());
        assert!(SignatureKey::public(&ed, Alg::RS256).is_none());
        let short = DecodingKey::from_ed_components("AAAA").unwrap();
        assert!(SignatureKey::public(&short, Alg::EdDSA).is_none());
        let secret = DecodingKey::from_secret(&[7; 32]).unwrap();
        assert!(SignatureKey::public(&secret, Alg::EdDSA).is_none());
        let padded_1024 = [vec![0; 200], vec![0xC5; 128]].concat();
        let small = DecodingKey::from_rsa_raw_components(&padded_1024, &[1, 0, 1]);
        assert!(SignatureKey::public(&small, Alg::RS256).is_none());
        assert_eq!(without_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
    }
}
