//! Sender-constrained tokens in tests: the fixtures `tests/fixtures/sender_constrained/make.py`
//! wrote with joserfc and cryptography (`cases.json`), events of each request format carrying a
//! token, `DPoP` headers and a client certificate where API Gateway puts them, and DPoP proofs
//! signed at test time with the `jsonwebtoken` crate. Shared by tests/dpop.rs and tests/mtls.rs
//! (`#[path]`).
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_scopes_api::authorizer::Outcome;
use jwt_scopes_api::metrics::Invocation;
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::{AuthConfig, Authorizer};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The fixtures, read once per test binary.
pub fn fixtures() -> &'static Value {
    static FIXTURES: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(|| {
        let text = include_str!("../fixtures/sender_constrained/cases.json");
        serde_json::from_str(text).unwrap()
    })
}

/// The `now` the fixtures' proofs were issued at.
pub fn fixture_now() -> u64 {
    fixtures()["now"].as_u64().unwrap()
}

/// The path of every fixture request.
pub fn fixture_path() -> &'static str {
    fixtures()["path"].as_str().unwrap()
}

/// The sample events' configuration (`events/authorizer/test.env`: issuer, audience, HMAC
/// secret, `AUTH_PUBLIC_URL`) with `extra` on top.
pub fn authorizer(extra: &[(&str, &str)]) -> Authorizer {
    Authorizer::new(AuthConfig::from_lookup(|name| sample_vars(extra).remove(name)).unwrap())
}

/// The same without `AUTH_PUBLIC_URL`: no DPoP proof can be checked.
pub fn authorizer_without_public_url() -> Authorizer {
    let lookup = |name: &str| match name {
        "AUTH_PUBLIC_URL" => None,
        _ => sample_vars(&[]).remove(name),
    };
    Authorizer::new(AuthConfig::from_lookup(lookup).unwrap())
}

fn sample_vars(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let env = include_str!("../../events/authorizer/test.env");
    env.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The HMAC secret the fixtures' tokens are signed with.
pub fn secret() -> &'static str {
    let env = include_str!("../../events/authorizer/test.env");
    env.lines()
        .find_map(|l| l.strip_prefix("AUTH_HMAC_SECRET="))
        .unwrap()
}

/// The request formats a proof or a certificate can arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Rest,
    HttpV1,
    HttpV2,
}

pub const FORMATS: [Format; 3] = [Format::Rest, Format::HttpV1, Format::HttpV2];

/// What a request carries besides its method and path.
#[derive(Clone, Debug, Default)]
pub struct Carried<'a> {
    /// The `Authorization` header's value.
    pub authorization: Option<String>,
    /// Each `DPoP` header, as the client sent them.
    pub proofs: Vec<&'a str>,
    /// The client certificate (PEM).
    pub cert: Option<&'a str>,
}

impl<'a> Carried<'a> {
    /// `DPoP <token>` with one proof.
    pub fn dpop(token: &str, proof: &'a str) -> Self {
        Carried {
            authorization: Some(format!("DPoP {token}")),
            proofs: vec![proof],
            cert: None,
        }
    }

    /// `Bearer <token>`.
    pub fn bearer(token: &str) -> Self {
        Carried {
            authorization: Some(format!("Bearer {token}")),
            ..Carried::default()
        }
    }
}

/// An event of `format` for `method` `path` carrying `carried`, shaped as the aws_lambda_events
/// fixtures (REST `example-apigw-custom-auth-request-type-request.json`, HTTP API
/// `example-apigw-v2-custom-authorizer-v1-request.json` and `...-v2-request.json`): REST keeps
/// every `DPoP` value in `multiValueHeaders` and the last in `headers`; HTTP API events have only
/// `headers`, repeats joined with a comma (2.0 on `$default`: `rawPath` without a stage).
pub fn event(format: Format, method: &str, path: &str, carried: &Carried<'_>) -> String {
    let mut headers = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    let cert = carried.cert.map(|pem| {
        json!({"clientCert": {"clientCertPem": pem, "subjectDN": "CN=client", "issuerDN": "CN=ca",
            "serialNumber": "1", "validity": {"notBefore": "Jan  1 00:00:00 2026 GMT", "notAfter": "Jan  1 00:00:00 2100 GMT"}}})
    });
    let (authorization, dpop) = match format {
        Format::HttpV2 => ("authorization", "dpop"),
        _ => ("Authorization", "DPoP"),
    };
    if let Some(value) = &carried.authorization {
        headers.insert(authorization.into(), json!(value));
        multi.insert(authorization.into(), json!([value]));
    }
    match (format, carried.proofs.as_slice()) {
        (_, []) => {}
        (Format::HttpV1 | Format::HttpV2, proofs) => {
            headers.insert(dpop.into(), json!(proofs.join(",")));
        }
        (Format::Rest, proofs) => {
            headers.insert(dpop.into(), json!(proofs.last()));
            multi.insert(dpop.into(), json!(proofs));
        }
    }
    let rest_arn =
        format!("arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/{method}{path}");
    let event = match format {
        Format::Rest | Format::HttpV1 => {
            let mut identity = json!({"sourceIp": "203.0.113.7"});
            if let Some(cert) = cert {
                identity["clientCert"] = cert["clientCert"].clone();
            }
            let mut event = json!({
                "type": "REQUEST", "methodArn": rest_arn, "resource": path, "path": path,
                "httpMethod": method, "headers": headers,
                "requestContext": {"path": format!("/prod{path}"), "stage": "prod", "identity": identity,
                    "httpMethod": method, "apiId": "a1b2c3d4e5"},
            });
            if format == Format::Rest {
                event["multiValueHeaders"] = json!(multi);
            } else {
                event["version"] = json!("1.0");
            }
            event
        }
        Format::HttpV2 => {
            let mut context = json!({"apiId": "h1t2t3p4v2", "stage": "$default",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1"}});
            if let Some(cert) = cert {
                context["authentication"] = cert;
            }
            json!({
                "version": "2.0", "type": "REQUEST",
                "routeArn": format!("arn:aws:execute-api:eu-west-1:123456789012:h1t2t3p4v2/$default/{method}{path}"),
                "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "",
                "headers": headers, "requestContext": context,
            })
        }
    };
    event.to_string()
}

/// A REST `TOKEN` event whose `authorizationToken` is `authorization`.
pub fn token_event(authorization: &str, path: &str) -> String {
    json!({"type": "TOKEN", "authorizationToken": authorization,
        "methodArn": format!("arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET{path}")})
    .to_string()
}

/// The decision's outcome and reason for `event` at `now`.
pub async fn decide(authorizer: &Authorizer, event: &str, now: u64) -> (Outcome, Reason) {
    let decision = authorizer
        .decide_json(event, now, Invocation::default())
        .await;
    (decision.outcome, decision.reason)
}

/// `Outcome::Allow` with `granted`, or `Unauthorized` with `reason`.
pub fn expected(reason: Reason) -> (Outcome, Reason) {
    match reason {
        Reason::Granted => (Outcome::Allow, Reason::Granted),
        other => (Outcome::Unauthorized, other),
    }
}

/// The reason named by its code.
pub fn reason(code: &str) -> Reason {
    *jwt_scopes_api::reason::ALL
        .iter()
        .find(|r| r.code() == code)
        .unwrap_or_else(|| panic!("no reason {code}"))
}

/// A DPoP key signed with by `jsonwebtoken` at test time, and its RFC 7638 thumbprint as
/// `jsonwebtoken` computes it.
pub struct ProofKey {
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub jwk: Jwk,
    pub thumbprint: String,
}

impl ProofKey {
    /// A fresh key for `alg` (ES256, ES384, EdDSA or an RSA algorithm).
    pub fn generate(alg: Algorithm) -> Self {
        let key = crate::support::TestKey::generate(alg, "");
        let jwk = Jwk::from_encoding_key(&key.encoding, alg).unwrap();
        let thumbprint = jwk.thumbprint(ThumbprintHash::SHA256).unwrap();
        ProofKey {
            alg,
            encoding: key.encoding,
            jwk,
            thumbprint,
        }
    }

    /// A proof for `token` (its `ath`), `method` and `htu`, issued at `iat`, with a fresh `jti`;
    /// `patch` changes or removes (`null`) claims.
    pub fn proof(&self, token: &str, method: &str, htu: &str, iat: u64, patch: Value) -> String {
        let mut header = Header::new(self.alg);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).unwrap();
        let claims = json!({"jti": URL_SAFE_NO_PAD.encode(jti), "htm": method, "htu": htu,
            "iat": iat, "ath": ath(token)});
        let claims = crate::support::patched(claims, patch);
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

/// `ath`: base64url(SHA-256(token)), computed here with aws-lc-rs.
pub fn ath(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// An HS256 token of the sample issuer, valid for an hour after `now`, with `extra` claims
/// (`cnf`).
pub fn token(now: u64, extra: Value) -> String {
    let env = include_str!("../../events/authorizer/test.env");
    let issuer = env
        .lines()
        .find_map(|l| l.strip_prefix("AUTH_ISSUER="))
        .unwrap();
    let claims = crate::support::patched(
        json!({"iss": issuer, "sub": "user-1", "aud": "products-api", "iat": now,
            "exp": now + 3600, "scope": "read:products"}),
        extra,
    );
    crate::support::TestKey::hmac(Algorithm::HS256, secret()).sign(&claims)
}

/// The URL a client calls for `path` on the REST API of the sample events.
pub fn rest_url(path: &str) -> String {
    format!("{}{path}", fixtures()["rest_base"].as_str().unwrap())
}
