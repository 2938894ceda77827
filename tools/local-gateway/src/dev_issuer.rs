//! The development issuer: an RSA key pair made at start-up, its JWKS and OpenID Connect
//! discovery document, and tokens minted on request: JWTs, or opaque tokens held in memory with
//! their claims and judged by its introspection endpoint (RFC 7662), revoked through its
//! revocation endpoint (RFC 7009, [`crate::revocation`]). **Development only**: anyone who can
//! reach the gateway can mint any scope, which is why the gateway refuses to run it on anything
//! but a loopback address. The key and the tokens live in memory and die with the process.
//! A token request with a `DPoP` proof (RFC 9449 §5) gets a token bound to the proof's key
//! (`cnf.jkt`).

use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, RsaEncoding};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_scopes_api::authorizer::{Expected, PublicUrls, Window, check_proof};
use jwt_scopes_api::routes::ROUTES;
use jwt_scopes_api::token::{Alg, Jws, KeySet};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// The audience of development tokens, as `template.yaml` configures the deployed API.
pub const DEV_AUDIENCE: &str = "products-api";
/// The `client_id` claim of development tokens.
pub const DEV_CLIENT_ID: &str = "local-gateway";
/// Subject of a minted token unless one is asked for.
pub const DEFAULT_SUBJECT: &str = "dev-user";
/// Scope of a minted token unless one is asked for.
pub const DEFAULT_SCOPE: &str = "read:products";
/// Lifetime of a minted token unless one is asked for, in seconds.
pub const DEFAULT_TTL_SECS: i64 = 3600;
/// Longest lifetime a token may be minted with (a negative one mints an expired token).
pub const MAX_TTL_SECS: i64 = 30 * 24 * 3600;
/// Where the JWKS is served.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Where the discovery document is served.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Where tokens are minted.
pub const TOKEN_PATH: &str = "/_dev/token";
/// The introspection endpoint (RFC 7662).
pub const INTROSPECTION_PATH: &str = "/_dev/introspect";
/// The revocation endpoint (RFC 7009).
pub const REVOCATION_PATH: &str = "/_dev/revoke";
/// Where a subject is signed out everywhere.
pub const SIGN_OUT_PATH: &str = "/_dev/signout";
/// Where `explain` reads the revocation items the gateway holds in memory.
pub const ITEMS_PATH: &str = "/_dev/revocations";
/// Every path the development issuer answers.
pub const PATHS: [&str; 7] = [
    JWKS_PATH,
    DISCOVERY_PATH,
    TOKEN_PATH,
    INTROSPECTION_PATH,
    REVOCATION_PATH,
    SIGN_OUT_PATH,
    ITEMS_PATH,
];
/// The client the Lambda authorizer introspects as (`client_secret_basic`, RFC 6749 §2.3.1).
pub const INTROSPECTION_CLIENT_ID: &str = "local-authorizer";
/// Its secret: fixed and printed, as anyone on this machine can mint tokens anyway.
pub const INTROSPECTION_CLIENT_SECRET: &str = "local-authorizer-secret";
/// Random bytes in an opaque token: 256 bits.
pub const OPAQUE_TOKEN_BYTES: usize = 32;

/// The signing key of a development issuer, and the opaque tokens it minted.
pub struct DevIssuer {
    issuer: String,
    kid: String,
    key: KeyPair,
    jwk: Value,
    /// Its own public key, to tell its JWTs from others' on revocation.
    keys: KeySet,
    /// Opaque tokens by token: their claims, and whether they were revoked.
    opaque: Mutex<HashMap<String, Opaque>>,
    /// Subjects signed out everywhere, and when: their opaque tokens issued at or before are
    /// inactive.
    signed_out: Mutex<HashMap<String, u64>>,
}

struct Opaque {
    claims: Map<String, Value>,
    revoked: bool,
}

/// Why a key could not be made or a token not signed or minted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevIssuerError(pub String);

impl fmt::Display for DevIssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DevIssuerError {}

/// What a caller may ask of `POST /_dev/token` (JSON body) or `GET /_dev/token?...` (query).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MintRequest {
    /// Space separated scopes for the `scope` claim; default `read:products`; empty for none.
    pub scope: Option<String>,
    /// Lifetime in seconds; default 3600; negative mints an already expired token.
    pub ttl: Option<i64>,
    /// Subject; default `dev-user`.
    pub sub: Option<String>,
    /// Signing algorithm: RS256 (default), RS384, RS512, PS256, PS384 or PS512.
    pub alg: Option<String>,
    /// Extra claims, added last (overriding the defaults); a null removes a default claim.
    pub claims: Map<String, Value>,
    /// An opaque token (random, held by the issuer, judged by introspection) instead of a JWT.
    pub opaque: bool,
}

impl MintRequest {
    /// Reads the query string form: `scope=...&ttl=...&sub=...&alg=...`.
    pub fn from_query(query: &str) -> Result<MintRequest, DevIssuerError> {
        let mut request = MintRequest::default();
        let Some(parameters) = crate::event::query_parameters(query) else {
            return Ok(request);
        };
        for (name, value) in parameters {
            let value = value.as_str().unwrap_or_default().to_owned();
            match name.as_str() {
                "scope" => request.scope = Some(value),
                "sub" => request.sub = Some(value),
                "alg" => request.alg = Some(value),
                "opaque" => {
                    request.opaque = value.trim().parse().map_err(|_| {
                        DevIssuerError(format!("opaque {value:?} is not true or false"))
                    })?
                }
                "ttl" => {
                    request.ttl = Some(value.trim().parse().map_err(|_| {
                        DevIssuerError(format!("ttl {value:?} is not a whole number of seconds"))
                    })?)
                }
                other => {
                    return Err(DevIssuerError(format!(
                        "unknown parameter {other:?}: use scope, ttl, sub, alg or opaque"
                    )));
                }
            }
        }
        Ok(request)
    }
}

/// A minted token, in the shape of an OAuth 2.0 token response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Minted {
    /// The signed JWT, or the opaque token.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to a proof's key.
    pub token_type: String,
    /// Seconds until `exp`.
    pub expires_in: i64,
    /// The `scope` claim.
    pub scope: String,
}

fn rsa_encoding(alg: Alg) -> Option<&'static dyn RsaEncoding> {
    Some(match alg {
        Alg::RS256 => &signature::RSA_PKCS1_SHA256,
        Alg::RS384 => &signature::RSA_PKCS1_SHA384,
        Alg::RS512 => &signature::RSA_PKCS1_SHA512,
        Alg::PS256 => &signature::RSA_PSS_SHA256,
        Alg::PS384 => &signature::RSA_PSS_SHA384,
        Alg::PS512 => &signature::RSA_PSS_SHA512,
        _ => return None,
    })
}

fn random_bytes(bytes: usize) -> Result<Vec<u8>, DevIssuerError> {
    let mut buffer = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buffer).map_err(|_| DevIssuerError("no randomness".into()))?;
    Ok(buffer)
}

fn random_hex(bytes: usize) -> Result<String, DevIssuerError> {
    Ok(random_bytes(bytes)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl DevIssuer {
    /// A fresh 2048-bit RSA key for `issuer` (e.g. `http://127.0.0.1:3000`), with a random `kid`.
    pub fn generate(issuer: impl Into<String>) -> Result<DevIssuer, DevIssuerError> {
        let kid = format!("dev-{}", random_hex(8)?);
        DevIssuer::generate_with_kid(issuer, &kid)
    }

    /// A fresh key with a chosen `kid` (tests use it to forge a token under a known `kid`).
    pub fn generate_with_kid(
        issuer: impl Into<String>,
        kid: &str,
    ) -> Result<DevIssuer, DevIssuerError> {
        let key = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| DevIssuerError("RSA key generation failed".into()))?;
        let public = key.public_key();
        let jwk = json!({
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        });
        let keys = KeySet::from_jwks(json!({ "keys": [jwk] }).to_string().as_bytes())
            .map_err(|e| DevIssuerError(format!("its own key: {e}")))?;
        Ok(DevIssuer {
            issuer: issuer.into(),
            kid: kid.to_owned(),
            key,
            jwk,
            keys,
            opaque: Mutex::default(),
            signed_out: Mutex::default(),
        })
    }

    /// The `iss` of its tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of its key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The URL of its JWKS.
    pub fn jwks_uri(&self) -> String {
        format!("{}{JWKS_PATH}", self.issuer.trim_end_matches('/'))
    }

    /// `{"keys": [the public key]}`; no `alg`, so the key verifies RS* and PS* alike.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// The OpenID Connect discovery document, as API Gateway fetches it from the issuer URL.
    pub fn discovery(&self) -> Value {
        let base = self.issuer.trim_end_matches('/');
        let mut scopes: Vec<&str> = ROUTES
            .iter()
            .flat_map(|r| r.requirement.scopes().iter().copied())
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        json!({
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri(),
            "token_endpoint": format!("{base}{TOKEN_PATH}"),
            "introspection_endpoint": format!("{base}{INTROSPECTION_PATH}"),
            "revocation_endpoint": format!("{base}{REVOCATION_PATH}"),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "response_types_supported": ["token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
            "scopes_supported": scopes,
        })
    }

    /// Signs `claims` (any JSON object) with `alg`, `kid` in the header.
    pub fn sign(&self, alg: Alg, claims: &Value) -> Result<String, DevIssuerError> {
        let encoding = rsa_encoding(alg)
            .ok_or_else(|| DevIssuerError(format!("{alg:?} is not an RSA algorithm")))?;
        let header = json!({"alg": alg.name(), "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                encoding,
                &aws_lc_rs::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| DevIssuerError("signing failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The claims a mint request stands for, at `now` (seconds since the epoch).
    pub fn claims(&self, request: &MintRequest, now: u64) -> Result<Value, DevIssuerError> {
        let ttl = request.ttl.unwrap_or(DEFAULT_TTL_SECS);
        if !(-MAX_TTL_SECS..=MAX_TTL_SECS).contains(&ttl) || ttl == 0 {
            return Err(DevIssuerError(format!(
                "ttl must be a non-zero number of seconds between -{MAX_TTL_SECS} and {MAX_TTL_SECS}"
            )));
        }
        let now = now as i64;
        let scope = request.scope.as_deref().unwrap_or(DEFAULT_SCOPE);
        let scope = scope.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut claims = json!({
            "iss": self.issuer,
            "sub": request.sub.as_deref().unwrap_or(DEFAULT_SUBJECT),
            "aud": DEV_AUDIENCE,
            "client_id": DEV_CLIENT_ID,
            "iat": now.min(now + ttl),
            "exp": now + ttl,
            "jti": random_hex(12)?,
        });
        let object = claims.as_object_mut().expect("a JSON object");
        if !scope.is_empty() {
            object.insert("scope".into(), scope.into());
        }
        for (name, value) in &request.claims {
            if value.is_null() {
                object.remove(name);
            } else {
                object.insert(name.clone(), value.clone());
            }
        }
        Ok(claims)
    }

    /// The RFC 7638 thumbprint of the key that signed `proof`, the `DPoP` header of a token
    /// request made with `method` at `now`, once the proof passes the checks a token endpoint
    /// makes (RFC 9449 §4.3, without `ath`: no token yet; `htu` this issuer's token URL), by
    /// the authorizer's own code.
    pub fn proof_thumbprint(
        &self,
        proof: &str,
        method: &str,
        now: u64,
    ) -> Result<String, DevIssuerError> {
        let url = format!("{}{TOKEN_PATH}", self.issuer.trim_end_matches('/'));
        let urls = PublicUrls::parse(&url).map_err(DevIssuerError)?;
        let expected = Expected {
            urls: &urls,
            method,
            path: Some(""),
            token: None,
            jkt: None,
        };
        let window = Window {
            max_age: 60,
            leeway: 60,
        };
        check_proof(proof, &expected, window, now)
            .map(|checked| checked.thumbprint)
            .map_err(|error| DevIssuerError(format!("DPoP proof refused: {error}")))
    }

    /// Mints a token for a mint request at `now`: `token_type` `DPoP` when its claims bind it to
    /// a key (`cnf.jkt`, RFC 9449 §5), else `Bearer`.
    pub fn mint(&self, request: &MintRequest, now: u64) -> Result<Minted, DevIssuerError> {
        if request.opaque {
            return self.mint_opaque(request, now);
        }
        let alg = match request.alg.as_deref().map(str::trim) {
            None | Some("") => Alg::RS256,
            Some(name) => name
                .parse::<Alg>()
                .ok()
                .filter(|alg| rsa_encoding(*alg).is_some())
                .ok_or_else(|| {
                    DevIssuerError(format!(
                        "alg {name:?} is not one of RS256, RS384, RS512, PS256, PS384, PS512"
                    ))
                })?,
        };
        let claims = self.claims(request, now)?;
        let expires_in = claims["exp"].as_i64().unwrap_or_default() - now as i64;
        let scope = claims["scope"].as_str().unwrap_or_default().to_owned();
        let bound = claims.get("cnf").and_then(|cnf| cnf.get("jkt")).is_some();
        Ok(Minted {
            access_token: self.sign(alg, &claims)?,
            token_type: if bound { "DPoP" } else { "Bearer" }.into(),
            expires_in,
            scope,
        })
    }

    /// An opaque token (256 random bits, base64url) standing for the request's claims, held
    /// until it expires; tokens already expired are dropped first, so the map stays small.
    fn mint_opaque(&self, request: &MintRequest, now: u64) -> Result<Minted, DevIssuerError> {
        if request.alg.is_some() {
            return Err(DevIssuerError(
                "alg applies to JWTs, not opaque tokens".into(),
            ));
        }
        let Value::Object(claims) = self.claims(request, now)? else {
            return Err(DevIssuerError("claims are not an object".into()));
        };
        let token = URL_SAFE_NO_PAD.encode(random_bytes(OPAQUE_TOKEN_BYTES)?);
        let minted = Minted {
            access_token: token.clone(),
            token_type: "Bearer".into(),
            expires_in: claims["exp"].as_i64().unwrap_or_default() - now as i64,
            scope: claims["scope"].as_str().unwrap_or_default().to_owned(),
        };
        let mut opaque = lock(&self.opaque);
        opaque.retain(|_, held| expiry(&held.claims).is_none_or(|exp| exp > now as i64));
        let revoked = false;
        opaque.insert(token, Opaque { claims, revoked });
        Ok(minted)
    }

    /// The introspection answer for `token` at `now` (RFC 7662 §2.2): its claims with
    /// `active: true` while it is one of this issuer's opaque tokens, unexpired, not revoked and
    /// its subject not signed out since it was issued; otherwise `active: false` and nothing
    /// else. JWTs are judged by their signature, not here: they are inactive too.
    pub fn introspect(&self, token: &str, now: u64) -> Value {
        let inactive = json!({ "active": false });
        let opaque = lock(&self.opaque);
        let Some(held) = opaque.get(token) else {
            return inactive;
        };
        let claims = &held.claims;
        let expired = expiry(claims).is_none_or(|exp| exp <= now as i64);
        let signed_out = claims
            .get("sub")
            .and_then(Value::as_str)
            .is_some_and(|sub| {
                let before = lock(&self.signed_out).get(sub).copied();
                let iat = claims.get("iat").and_then(Value::as_i64);
                before.is_some_and(|before| iat.is_none_or(|iat| iat <= before as i64))
            });
        if held.revoked || expired || signed_out {
            return inactive;
        }
        let mut answer = claims.clone();
        answer.insert("active".into(), true.into());
        answer.insert("token_type".into(), "Bearer".into());
        Value::Object(answer)
    }

    /// Revokes `token` if it is one of its opaque tokens; whether it was.
    pub fn revoke_opaque(&self, token: &str) -> bool {
        let mut opaque = lock(&self.opaque);
        opaque
            .get_mut(token)
            .map(|held| held.revoked = true)
            .is_some()
    }

    /// The claims of `token` if it is a JWT this issuer signed (the signature alone decides: an
    /// expired token can still be revoked, harmlessly).
    pub fn own_jwt_claims(&self, token: &str) -> Option<Map<String, Value>> {
        let jws = Jws::<Map<String, Value>>::parse(token, token.len()).ok()?;
        let candidates = self
            .keys
            .candidates(jws.header.kid.as_deref(), jws.header.alg);
        jws.check_signature(candidates).ok()?;
        Some(jws.claims)
    }

    /// Signs `sub` out everywhere at `now`: its opaque tokens issued at or before are inactive.
    /// (Its JWTs are revoked by the `sub#…` item in the revocation store.)
    pub fn sign_out(&self, sub: &str, now: u64) {
        lock(&self.signed_out).insert(sub.to_owned(), now);
    }

    /// Whether an `Authorization` header value carries the introspection client's credentials
    /// (`client_secret_basic`: Basic, id and secret form-urlencoded, RFC 6749 §2.3.1).
    pub fn is_introspection_client(&self, authorization: Option<&str>) -> bool {
        let Some((scheme, credentials)) = authorization.and_then(|v| v.trim().split_once(' '))
        else {
            return false;
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return false;
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        scheme.eq_ignore_ascii_case("basic")
            && decode(id) == INTROSPECTION_CLIENT_ID
            && aws_lc_rs::constant_time::verify_slices_are_equal(
                decode(secret).as_bytes(),
                INTROSPECTION_CLIENT_SECRET.as_bytes(),
            )
            .is_ok()
    }
}

/// `exp` of claims, in whole seconds.
fn expiry(claims: &Map<String, Value>) -> Option<i64> {
    claims
        .get("exp")
        .and_then(Value::as_f64)
        .map(|exp| exp as i64)
}

/// A lock on the issuer's maps: a panic elsewhere leaves them usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_scopes_api::token::KeySet;

    #[test]
    fn its_jwks_verifies_its_tokens_with_every_rsa_algorithm() {
        let issuer = DevIssuer::generate("http://127.0.0.1:3000").unwrap();
        let keys = KeySet::from_jwks(issuer.jwks().to_string().as_bytes()).unwrap();
        for &alg in &jwt_scopes_api::token::RSA {
            let token = issuer.sign(alg, &json!({"sub": "x"})).unwrap();
            let jws = jwt_scopes_api::token::Jws::<Value>::parse(&token, token.len()).unwrap();
            assert_eq!(jws.header.alg, alg);
            assert_eq!(
                jws.check_signature(keys.candidates(Some(issuer.kid()), alg)),
                Ok(()),
                "{alg:?}"
            );
            assert_eq!(jws.claims["sub"], "x", "{alg:?}");
        }
        assert!(issuer.sign(Alg::HS256, &json!({})).is_err());
    }

    #[test]
    fn mint_requests() {
        let issuer = DevIssuer::generate("http://127.0.0.1:3000").unwrap();
        let request =
            MintRequest::from_query("scope=read:products+write:products&ttl=60&sub=al").unwrap();
        let claims = issuer.claims(&request, 1000).unwrap();
        assert_eq!(claims["scope"], "read:products write:products");
        assert_eq!(
            (claims["exp"].as_i64(), claims["sub"].as_str()),
            (Some(1060), Some("al"))
        );
        assert!(MintRequest::from_query("ttl=x").is_err());
        assert!(MintRequest::from_query("other=1").is_err());
        let expired = MintRequest {
            ttl: Some(-120),
            ..MintRequest::default()
        };
        let claims = issuer.claims(&expired, 1000).unwrap();
        assert_eq!(
            (claims["iat"].as_i64(), claims["exp"].as_i64()),
            (Some(880), Some(880))
        );
        let none = MintRequest {
            scope: Some(String::new()),
            ..MintRequest::default()
        };
        assert!(issuer.claims(&none, 1000).unwrap().get("scope").is_none());
    }
}
