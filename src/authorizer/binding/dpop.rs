//! A DPoP proof checked (RFC 9449 §4.3), pure: the request, the token and the clock passed in.
//!
//! The proof is parsed once ([`Jws`]: header, claims and signature decoded once), its key read
//! once ([`EmbeddedKey`]: the key prepared for the proof's `alg` and its RFC 7638 thumbprint),
//! and its signature checked by the same aws-lc-rs code that checks tokens.

use crate::token::{ASYMMETRIC, EmbeddedKey, Jws, TokenError, typ_is};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use url::Url;

/// Largest proof read, in bytes: a proof with an RSA-4096 key is under 2 KiB.
pub const MAX_PROOF_BYTES: usize = 8192;

/// Longest `jti` accepted, in bytes: RFC 9449 §4.2 asks for 96 random bits; a bound keeps the
/// replay set's input small.
pub const MAX_JTI_BYTES: usize = 256;

/// The API's public base URLs (`AUTH_PUBLIC_URL`): a proof's `htu` must be one of them joined
/// with the request's path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicUrls(Vec<String>);

impl PublicUrls {
    /// Reads a comma-separated list of `http(s)` URLs without query or fragment; a trailing
    /// `/` is dropped, as the path joined to it starts with one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut urls = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let url = Url::parse(entry).map_err(|e| format!("{entry:?} is not a URL: {e}"))?;
            if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
                return Err(format!("{entry:?} is not an http(s) URL with a host"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!("{entry:?} has a query or fragment"));
            }
            urls.push(entry.trim_end_matches('/').to_owned());
        }
        if urls.is_empty() {
            return Err("lists no URL".into());
        }
        Ok(PublicUrls(urls))
    }

    /// Whether none is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `htu` is one of the base URLs joined with `path`, compared after RFC 3986 §6.2.2
    /// and §6.2.3 normalisation (scheme and host case-insensitive, default ports dropped, dot
    /// segments and percent-encoding normalised), ignoring `htu`'s query and fragment (RFC 9449
    /// §4.3 step 9).
    pub fn matches(&self, htu: &str, path: &str) -> bool {
        if !(path.is_empty() || path.starts_with('/')) || rewritten_by_url_parsing(path) {
            return false;
        }
        let Ok(htu) = Url::parse(htu) else {
            return false;
        };
        self.0.iter().any(|base| {
            Url::parse(&format!("{base}{path}")).is_ok_and(|expected| {
                expected.scheme() == htu.scheme()
                    && expected.username() == htu.username()
                    && expected.password() == htu.password()
                    && expected.host_str() == htu.host_str()
                    && expected.port_or_known_default() == htu.port_or_known_default()
                    && expected.path() == htu.path()
            })
        })
    }
}

/// Whether parsing `path` as part of a URL would change which resource it names, so that a
/// proof for another URL could match it: a `?` or `#` (the path would end there), a `\\`
/// (read as `/`), an ASCII control character (dropped), or a `.` or `..` segment, percent-encoded
/// or not (removed with the segment before it). API Gateway routes the path as it came, so such
/// a path matches no `htu` (RFC 9449 §4.3 step 9 normalises the `htu`, never the request).
fn rewritten_by_url_parsing(path: &str) -> bool {
    let dot_segment = |segment: &str| {
        let segment = segment.to_ascii_lowercase().replace("%2e", ".");
        segment == "." || segment == ".."
    };
    path.contains(['?', '#', '\\'])
        || path.chars().any(|c| c.is_ascii_control())
        || path.split('/').any(dot_segment)
}

/// How old and how new a proof may be: `iat` at most `max_age` seconds ago and not in the
/// future, each with `leeway` seconds of clock skew (RFC 9449 §11.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// `AUTH_DPOP_MAX_AGE_SECONDS`.
    pub max_age: u64,
    /// `AUTH_LEEWAY_SECONDS`.
    pub leeway: u64,
}

impl Window {
    /// Whether a proof issued at `iat` is acceptable at `now`.
    fn admits(self, iat: u64, now: u64) -> bool {
        iat.saturating_add(self.max_age.saturating_add(self.leeway)) >= now
            && iat <= now.saturating_add(self.leeway)
    }

    /// The first second a proof issued at `iat` is no longer acceptable: until then its `jti`
    /// is remembered.
    pub fn until(self, iat: u64) -> u64 {
        iat.saturating_add(self.max_age.saturating_add(self.leeway).saturating_add(1))
    }
}

/// What a proof must match.
pub struct Expected<'a> {
    /// The base URLs its `htu` may start with.
    pub urls: &'a PublicUrls,
    /// The request's method, for `htm`.
    pub method: &'a str,
    /// The request's path as the event gives it, joined to a base URL for `htu`.
    pub path: Option<&'a str>,
    /// The access token it comes with, for `ath`; `None` for a token request (RFC 9449 §5),
    /// where neither `ath` nor a binding is checked.
    pub token: Option<&'a str>,
    /// The token's `cnf.jkt`, which must be the proof key's thumbprint.
    pub jkt: Option<&'a str>,
}

/// A proof that passed every check: what replay protection remembers it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedProof {
    /// The RFC 7638 thumbprint of its key (a token request binds the token to it).
    pub thumbprint: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `iat`, seconds since the epoch.
    pub iat: u64,
}

/// The claims of a proof we check; `nonce` is not among them: a Lambda authorizer cannot send
/// a `DPoP-Nonce` challenge.
#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<f64>,
    ath: Option<String>,
}

/// Checks `proof` against `expected` at `now`, in the order of RFC 9449 §4.3: a compact JWS
/// (step 2) of `typ` `dpop+jwt` (4), an asymmetric `alg` we verify (5), signed (6) by the
/// public `jwk` of its header (7); `jti`, `htm`, `htu` and `iat` present (4), `htm` the method
/// (8), `htu` the URI (9), `iat` in the `window` (11), `ath` the token's hash and the token's
/// `cnf.jkt` the key's thumbprint (12). Without `AUTH_PUBLIC_URL` nothing can be checked.
pub fn check_proof(
    proof: &str,
    expected: &Expected<'_>,
    window: Window,
    now: u64,
) -> Result<CheckedProof, TokenError> {
    if expected.urls.is_empty() {
        return Err(TokenError::DpopUnconfigured);
    }
    let jws = Jws::<ProofClaims>::parse(proof, MAX_PROOF_BYTES).map_err(|error| match error {
        TokenError::AlgorithmNotAllowed => TokenError::DpopProofAlgorithm,
        _ => TokenError::DpopProofMalformed,
    })?;
    if !typ_is(jws.header.typ.as_deref(), "dpop+jwt") {
        return Err(TokenError::DpopProofType);
    }
    let alg = jws.header.alg;
    if !ASYMMETRIC.contains(&alg) {
        return Err(TokenError::DpopProofAlgorithm);
    }
    let key = jws
        .header
        .jwk
        .as_deref()
        .and_then(|jwk| EmbeddedKey::read(jwk, alg))
        .ok_or(TokenError::DpopProofKey)?;
    jws.check_signature([&key.key])
        .map_err(|_| TokenError::DpopProofSignature)?;
    let ProofClaims {
        jti,
        htm,
        htu,
        iat,
        ath,
    } = jws.claims;
    let (Some(jti), Some(htm), Some(htu), Some(iat)) = (jti, htm, htu, iat) else {
        return Err(TokenError::DpopProofMalformed);
    };
    if jti.is_empty() || jti.len() > MAX_JTI_BYTES || !iat.is_finite() || iat < 0.0 {
        return Err(TokenError::DpopProofMalformed);
    }
    if htm != expected.method {
        return Err(TokenError::DpopMethodMismatch);
    }
    if !expected
        .path
        .is_some_and(|path| expected.urls.matches(&htu, path))
    {
        return Err(TokenError::DpopUrlMismatch);
    }
    let iat = iat as u64;
    if !window.admits(iat, now) {
        return Err(TokenError::DpopProofStale);
    }
    if let Some(token) = expected.token {
        if ath.as_deref() != Some(token_hash(token).as_str()) {
            return Err(TokenError::DpopTokenHashMismatch);
        }
        if expected.jkt != Some(key.thumbprint.as_str()) {
            return Err(TokenError::DpopKeyMismatch);
        }
    }
    Ok(CheckedProof {
        thumbprint: key.thumbprint,
        jti,
        iat,
    })
}

/// `ath`: base64url(SHA-256(the token's ASCII)) (RFC 9449 §4.2).
pub fn token_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9449_htu_compares_normalised_uris_without_query_or_fragment() {
        let urls = PublicUrls::parse(
            "https://API.example.com/, https://abc.execute-api.eu-west-1.amazonaws.com/prod",
        )
        .unwrap();
        for htu in [
            "https://api.example.com/products",
            "HTTPS://api.EXAMPLE.com:443/products",
            "https://api.example.com/products?x=1#f",
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod/products",
        ] {
            assert!(urls.matches(htu, "/products"), "{htu}");
        }
        for htu in [
            "http://api.example.com/products",
            "https://api.example.com:8443/products",
            "https://api.example.com/products/",
            "https://api.example.com/other",
            "https://abc.execute-api.eu-west-1.amazonaws.com/products",
            "https://evil.example/products",
            "not a url",
        ] {
            assert!(!urls.matches(htu, "/products"), "{htu}");
        }
        assert!(!urls.matches("https://api.example.com/products", "products"));
    }

    /// A request path the URL parser would rewrite never matches: a captured proof for
    /// `/b` must not pass for `/a/%2e%2e/b`, which API Gateway routes as it came.
    #[test]
    fn rfc9449_a_request_path_url_parsing_would_rewrite_matches_no_htu() {
        let urls = PublicUrls::parse("https://api.example.com").unwrap();
        let htu = "https://api.example.com/b";
        assert!(urls.matches(htu, "/b"));
        for path in [
            "/a/../b",
            "/a/%2e%2e/b",
            "/a/%2E./b",
            "/./b",
            "/a\\..\\b",
            "/b\t",
            "/b?x",
            "/b#x",
        ] {
            assert!(!urls.matches(htu, path), "{path:?}");
        }
        assert!(urls.matches("https://api.example.com/a/..b", "/a/..b"));
    }

    #[test]
    fn public_urls_are_checked_at_cold_start() {
        for bad in [
            "",
            " , ",
            "ftp://x/",
            "https://x/?q=1",
            "https://x/#f",
            "/path",
        ] {
            assert!(PublicUrls::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            PublicUrls::parse("http://127.0.0.1:3000/").unwrap(),
            PublicUrls(vec!["http://127.0.0.1:3000".into()])
        );
    }

    #[test]
    fn rfc9449_the_window_is_max_age_back_and_leeway_ahead() {
        let window = Window {
            max_age: 60,
            leeway: 5,
        };
        assert!(window.admits(1000, 1065));
        assert!(!window.admits(1000, 1066));
        assert!(window.admits(1005, 1000));
        assert!(!window.admits(1006, 1000));
        assert_eq!(window.until(1000), 1066);
    }

    /// RFC 9449 §7.1's example: the `ath` of the token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
    #[test]
    fn rfc9449_ath_example() {
        assert_eq!(
            token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
