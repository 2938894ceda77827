//! Test support: keys generated at test time, tokens signed with them, and a real HTTP server on
//! 127.0.0.1 that serves a JWKS / discovery document and can misbehave on demand.
#![allow(dead_code)]

pub mod iam;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
    ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_scopes_api::{AuthConfig, Authorizer, AuthorizerError};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A signing key and its public JWK.
pub struct TestKey {
    pub alg: Algorithm,
    pub kid: String,
    pub encoding: EncodingKey,
    pub jwk: Value,
}

impl TestKey {
    /// A fresh key for `alg` (HS* keys are `secret`-based, see [`TestKey::hmac`]).
    pub fn generate(alg: Algorithm, kid: &str) -> Self {
        let encoding = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let pair =
                    aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
                let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
                EncodingKey::from_rsa_der(pkcs1_from_pkcs8(pkcs8.as_ref()))
            }
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
                EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref())
            }
            Algorithm::ES384 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).unwrap();
                EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref())
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().unwrap();
                EncodingKey::from_ed_der(pair.to_pkcs8v1().unwrap().as_ref())
            }
            other => panic!("use TestKey::hmac for {other:?}"),
        };
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&encoding, alg).unwrap()).unwrap();
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        TestKey {
            alg,
            kid: kid.into(),
            encoding,
            jwk,
        }
    }

    /// An HMAC key from a shared secret.
    pub fn hmac(alg: Algorithm, secret: &str) -> Self {
        TestKey {
            alg,
            kid: String::new(),
            encoding: EncodingKey::from_secret(secret.as_bytes()).unwrap(),
            jwk: Value::Null,
        }
    }

    /// Signs `claims` with this key, `kid` in the header unless empty.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = (!self.kid.is_empty()).then(|| self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// Signs with a header of our choosing (to forge `kid`, `typ`, `jku`...).
    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.encoding).unwrap()
    }
}

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 PrivateKeyInfo: the last OCTET STRING of the
/// outer SEQUENCE.
fn pkcs1_from_pkcs8(der: &[u8]) -> &[u8] {
    fn tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = der[0];
        let (len, header) = match der[1] {
            n if n < 0x80 => (n as usize, 2),
            n => {
                let bytes = (n & 0x7f) as usize;
                (
                    der[2..2 + bytes]
                        .iter()
                        .fold(0usize, |acc, b| acc << 8 | *b as usize),
                    2 + bytes,
                )
            }
        };
        (tag, &der[header..header + len], &der[header + len..])
    }
    let (_, mut inner, _) = tlv(der);
    loop {
        let (tag, value, rest) = tlv(inner);
        if tag == 0x04 {
            return value;
        }
        inner = rest;
    }
}

/// A key jsonwebtoken cannot sign with (ES512, `Ed25519`): signed here with aws-lc-rs.
pub enum RawKey {
    P521(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl RawKey {
    pub fn p521() -> Self {
        RawKey::P521(EcdsaKeyPair::generate(&ECDSA_P521_SHA512_FIXED_SIGNING).unwrap())
    }

    pub fn ed25519() -> Self {
        RawKey::Ed25519(Ed25519KeyPair::generate().unwrap())
    }

    /// The public JWK, with `extra` members (`alg`, `use`, `key_ops`).
    pub fn jwk(&self, kid: &str, extra: Value) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match self {
            RawKey::P521(pair) => {
                let point = pair.public_key().as_ref();
                assert_eq!(point.len(), 1 + 2 * 66, "P-521 coordinates are 66 bytes");
                json!({"kty": "EC", "crv": "P-521", "x": b64(&point[1..67]), "y": b64(&point[67..])})
            }
            RawKey::Ed25519(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
        };
        jwk["kid"] = json!(kid);
        for (name, value) in extra.as_object().unwrap() {
            jwk[name] = value.clone();
        }
        jwk
    }

    pub fn sign(&self, header: Value, claims: &Value) -> String {
        let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let input = format!("{}.{}", b64(&header), b64(claims));
        let signature = match self {
            RawKey::P521(pair) => {
                let signature = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
                assert_eq!(
                    signature.as_ref().len(),
                    132,
                    "ES512 signatures are 132 bytes"
                );
                signature.as_ref().to_vec()
            }
            RawKey::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

pub fn keys_document(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// `{"keys": [...]}` for these keys.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Standard valid claims for `issuer` and audience `products-api`, plus `extra`.
pub fn claims(issuer: &str, extra: Value) -> Value {
    let now = now();
    let claims = json!({"iss": issuer, "sub": "user-1", "aud": "products-api", "iat": now, "exp": now + 600});
    patched(claims, extra)
}

/// `value` with each member of `patch` set, or removed where `patch` has `null`.
pub fn patched(mut value: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            value.as_object_mut().unwrap().remove(k);
        } else {
            value[k] = v.clone();
        }
    }
    value
}

/// What the test server answers on a path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this JSON body.
    Json(String),
    /// This status, empty body.
    Status(u16),
    /// Wait, then 200 with this body.
    Slow(Duration, String),
    /// 200 with this many bytes of filler and no Content-Length.
    Huge(usize),
}

/// Chooses the reply to a request from its text (head and body).
pub type Responder = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A real HTTP/1.1 server on 127.0.0.1, one reply (or [`Responder`]) per path, counting hits.
#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    replies: Arc<Mutex<HashMap<String, Responder>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = TestServer {
            addr: listener.local_addr().unwrap(),
            replies: Arc::default(),
            hits: Arc::default(),
        };
        let handle = server.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let server = handle.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !complete(&request) {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    *server.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let responder = server.replies.lock().unwrap().get(&path).cloned();
                    let reply = responder.map_or(Reply::Status(404), |respond| respond(&text));
                    let _ = socket.write_all(&render(reply).await).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.respond(path, Arc::new(move |_| reply.clone()));
    }

    /// Answers requests for `path` with what `responder` makes of each.
    pub fn respond(&self, path: &str, responder: Responder) {
        self.replies.lock().unwrap().insert(path.into(), responder);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// Whether `request` holds its head and the whole body its `content-length` announces.
fn complete(request: &[u8]) -> bool {
    let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or(0);
    request.len() >= end + 4 + length
}

async fn render(reply: Reply) -> Vec<u8> {
    let ok = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    match reply {
        Reply::Json(body) => ok(&body),
        Reply::Status(code) => {
            format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .into_bytes()
        }
        Reply::Slow(delay, body) => {
            tokio::time::sleep(delay).await;
            ok(&body)
        }
        Reply::Huge(size) => {
            let mut out =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_vec();
            out.extend(std::iter::repeat_n(b' ', size));
            out
        }
    }
}

/// A REST `TOKEN` authorizer event for `GET /product/widget`.
pub fn token_event(token: &str, method: &str, path: &str) -> String {
    json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": format!("arn:aws:execute-api:eu-west-1:123456789012:api1234567/prod/{method}{path}"),
    })
    .to_string()
}

/// An authorizer configured from these variables (and nothing from the process environment).
pub fn authorizer(vars: &[(&str, String)]) -> Authorizer {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Authorizer::new(AuthConfig::from_lookup(|name| vars.get(name).cloned()).unwrap())
}

/// An authorizer trusting `server` as issuer (its root URL), keys at `/jwks`, plus `extra`.
pub fn jwks_authorizer(server: &TestServer, extra: &[(&str, String)]) -> Authorizer {
    let mut vars = vec![
        ("AUTH_ISSUER", server.url("/")),
        ("AUTH_AUDIENCE", "products-api".to_string()),
        ("AUTH_JWKS_URI", server.url("/jwks")),
        ("AUTH_JWKS_TIMEOUT_MS", "400".to_string()),
    ];
    vars.extend(extra.iter().cloned());
    authorizer(&vars)
}

/// The authorizer's answer to a REST `TOKEN` event, as JSON.
pub async fn decide(
    authorizer: &Authorizer,
    token: &str,
    method: &str,
    path: &str,
) -> Result<Value, AuthorizerError> {
    let response = authorizer
        .answer_json(&token_event(token, method, path), now())
        .await?;
    Ok(serde_json::to_value(response).unwrap())
}
