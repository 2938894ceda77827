//! Token verification, per algorithm, at four depths, so the cost of each layer shows as a ratio:
//!
//! | bench                | what it measures                                                          |
//! |----------------------|---------------------------------------------------------------------------|
//! | `aws_lc_preparsed`   | the signature alone with the public key parsed once (aws-lc-rs            |
//! |                      | `ParsedPublicKey::verify_sig`, `hmac::verify` with a prebuilt `hmac::Key`), |
//! |                      | base64url of the signature included: the floor any verifier could reach.  |
//! | `bare`               | `jsonwebtoken::crypto::verify(signature, message, key, alg)`: the barest  |
//! |                      | public jsonwebtoken API; it builds a verifier from the `DecodingKey` (and |
//! |                      | so parses the key) on every call.                                         |
//! | `jwt_decode`         | `jsonwebtoken::decode::<verify::TokenClaims>`, claim checks off: header +       |
//! |                      | signature + claims, what `src/verify.rs` called before `src/jws.rs`.      |
//! | `authorizer_verify`  | `Authorizer::verify_token` with a warm key cache: everything our code does      |
//! |                      | (header, signature with keys parsed once per key set, claims once,        |
//! |                      | claim checks, scopes).                                                    |
//!
//! After criterion, the same functions run again in alternation (`common/paired.rs`) so that the
//! ratios come from one moment of the machine's load, not from benches a minute apart.
//!
//! Keys are generated at start with aws-lc-rs (`tests/support`), the JWKS is served once by an
//! in-process HTTP server on 127.0.0.1 and fetched before measuring; HS256 uses
//! `AUTH_HMAC_SECRET`. Run: `cargo bench --bench verify -- --warm-up-time 1 --measurement-time 3`.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/paired.rs"]
mod paired;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_scopes_api::token::TokenClaims;
use jwt_scopes_api::{AuthConfig, Authorizer};
use serde_json::json;
use std::collections::HashMap;
use std::hint::black_box;
use support::{Reply, TestKey, TestServer, jwks};

const SECRET: &str = "bench-only-hmac-secret-of-at-least-32-bytes";
const ALGS: [Algorithm; 5] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

/// The signature check with the key parsed once: the floor.
enum Floor {
    Public(ParsedPublicKey),
    Hmac(Box<aws_lc_rs::hmac::Key>),
}

impl Floor {
    fn verify(&self, token: &str) -> bool {
        let (message, signature) = token.rsplit_once('.').unwrap();
        self.verify_parts(message, signature)
    }

    fn verify_parts(&self, message: &str, signature: &str) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        match self {
            Floor::Public(key) => key.verify_sig(message.as_bytes(), &signature).is_ok(),
            Floor::Hmac(key) => {
                aws_lc_rs::hmac::verify(key, message.as_bytes(), &signature).is_ok()
            }
        }
    }
}

/// One algorithm's token and the keys every depth needs.
struct Case {
    alg: Algorithm,
    token: String,
    decoding: DecodingKey,
    floor: Floor,
}

/// jsonwebtoken's validation with every claim check off: the signature and `alg` only, as
/// `src/verify.rs` used it before keys were prepared once (`src/jws.rs`).
fn signature_only(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation
}

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn floor_key(alg: Algorithm, jwk: &Jwk) -> Floor {
    let rsa = |params, rsa: &jsonwebtoken::jwk::RSAKeyParameters| {
        let (n, e) = (b64(&rsa.n), b64(&rsa.e));
        sig::RsaPublicKeyComponents { n: &n, e: &e }
            .to_parsed_public_key(params)
            .unwrap()
    };
    let (algorithm, bytes): (&'static dyn VerificationAlgorithm, Vec<u8>) =
        match (&jwk.algorithm, alg) {
            (AlgorithmParameters::RSA(key), Algorithm::RS256) => {
                return Floor::Public(rsa(&sig::RSA_PKCS1_2048_8192_SHA256, key));
            }
            (AlgorithmParameters::RSA(key), Algorithm::PS256) => {
                return Floor::Public(rsa(&sig::RSA_PSS_2048_8192_SHA256, key));
            }
            (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                let mut point = vec![0x04];
                point.extend(b64(&ec.x));
                point.extend(b64(&ec.y));
                (&sig::ECDSA_P256_SHA256_FIXED, point)
            }
            (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
                (&sig::ED25519, b64(&okp.x))
            }
            other => panic!("no floor key for {other:?}"),
        };
    Floor::Public(ParsedPublicKey::new(algorithm, bytes).unwrap())
}

/// A runtime, a JWKS server on 127.0.0.1 acting as the issuer, and the claims every token carries.
struct Setup {
    rt: tokio::runtime::Runtime,
    server: TestServer,
    issuer: String,
    now: u64,
    claims: serde_json::Value,
}

impl Setup {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(TestServer::start());
        let issuer = server.url("/");
        let now = support::now();
        let claims = json!({
            "iss": issuer, "sub": "user-42", "aud": "products-api",
            "iat": now, "exp": now + 86_400, "scope": "read:products write:products",
        });
        Setup {
            rt,
            server,
            issuer,
            now,
            claims,
        }
    }
}

fn bench_verify(c: &mut Criterion) {
    let Setup {
        rt,
        server,
        issuer,
        now,
        claims,
    } = Setup::new();

    let signing: Vec<TestKey> = ALGS
        .iter()
        .filter(|alg| **alg != Algorithm::HS256)
        .map(|alg| TestKey::generate(*alg, &format!("{alg:?}-key")))
        .collect();
    server.set(
        "/jwks",
        Reply::Json(jwks(&signing.iter().collect::<Vec<_>>())),
    );
    let mut cases: Vec<Case> = signing
        .iter()
        .map(|key| {
            let jwk: Jwk = serde_json::from_value(key.jwk.clone()).unwrap();
            Case {
                alg: key.alg,
                token: key.sign(&claims),
                decoding: DecodingKey::from_jwk(&jwk).unwrap(),
                floor: floor_key(key.alg, &jwk),
            }
        })
        .collect();
    let hmac = TestKey::hmac(Algorithm::HS256, SECRET);
    cases.push(Case {
        alg: Algorithm::HS256,
        token: hmac.sign(&claims),
        decoding: DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        floor: Floor::Hmac(Box::new(aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA256,
            SECRET.as_bytes(),
        ))),
    });

    let vars: HashMap<&str, String> = HashMap::from([
        ("AUTH_ISSUER", issuer.clone()),
        ("AUTH_AUDIENCE", "products-api".into()),
        ("AUTH_JWKS_URI", server.url("/jwks")),
        ("AUTH_HMAC_SECRET", SECRET.into()),
    ]);
    let authorizer =
        Authorizer::new(AuthConfig::from_lookup(|name| vars.get(name).cloned()).unwrap());

    // Every depth must accept every token before anything is timed; this also warms the cache.
    for case in &cases {
        let (message, signature) = case.token.rsplit_once('.').unwrap();
        assert!(case.floor.verify(&case.token), "{:?} floor", case.alg);
        assert!(
            paired::bare(message, signature, &case.decoding, case.alg),
            "{:?} bare",
            case.alg
        );
        jsonwebtoken::decode::<TokenClaims>(&case.token, &case.decoding, &signature_only(case.alg))
            .unwrap();
        let verified = rt
            .block_on(authorizer.verify_token(Some(&case.token), now))
            .unwrap_or_else(|e| panic!("{:?}: {e}", case.alg));
        assert_eq!(verified.scopes.to_string(), "read:products write:products");
    }
    assert_eq!(
        server.hits("/jwks"),
        1,
        "the JWKS is fetched once, then cached"
    );

    let mut group = c.benchmark_group("verify");
    for case in &cases {
        let alg = format!("{:?}", case.alg);
        let (message, signature) = case.token.rsplit_once('.').unwrap();
        group.bench_function(BenchmarkId::new("aws_lc_preparsed", &alg), |b| {
            b.iter(|| assert!(case.floor.verify(black_box(&case.token))))
        });
        group.bench_function(BenchmarkId::new("bare", &alg), |b| {
            b.iter(|| paired::bare(message, signature, &case.decoding, case.alg))
        });
        let validation = signature_only(case.alg);
        group.bench_function(BenchmarkId::new("jwt_decode", &alg), |b| {
            b.iter(|| {
                jsonwebtoken::decode::<TokenClaims>(
                    black_box(&case.token),
                    &case.decoding,
                    &validation,
                )
                .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("authorizer_verify", &alg), |b| {
            b.to_async(&rt).iter(|| async {
                authorizer
                    .verify_token(Some(black_box(&case.token)), now)
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();

    if paired::enabled() {
        for case in &cases {
            let alg = format!("{:?}", case.alg);
            let (message, signature) = case.token.rsplit_once('.').unwrap();
            let validation = signature_only(case.alg);
            let bodies: Vec<(String, paired::Body<'_>)> = vec![
                (
                    "bare".into(),
                    Box::new(|n| {
                        for _ in 0..n {
                            assert!(paired::bare(message, signature, &case.decoding, case.alg));
                        }
                    }),
                ),
                (
                    "aws_lc_preparsed".into(),
                    Box::new(|n| {
                        for _ in 0..n {
                            assert!(case.floor.verify(black_box(&case.token)));
                        }
                    }),
                ),
                (
                    "jwt_decode".into(),
                    Box::new(|n| {
                        for _ in 0..n {
                            black_box(
                                jsonwebtoken::decode::<TokenClaims>(
                                    black_box(&case.token),
                                    &case.decoding,
                                    &validation,
                                )
                                .unwrap(),
                            );
                        }
                    }),
                ),
                (
                    "authorizer_verify".into(),
                    Box::new(|n| {
                        rt.block_on(async {
                            for _ in 0..n {
                                black_box(
                                    authorizer
                                        .verify_token(Some(black_box(&case.token)), now)
                                        .await
                                        .unwrap(),
                                );
                            }
                        })
                    }),
                ),
            ];
            paired::measure(&format!("verify-{alg}"), 150, bodies);
        }
    }
    assert_eq!(server.hits("/jwks"), 1, "no refetch while measuring");
}

/// ES512 (P-521) beside ES256 (P-256), the two ECDSA curves issuers publish most. jsonwebtoken
/// has no ES512, so only two depths exist for it: the floor (aws-lc-rs with the key parsed once)
/// and `Authorizer::verify_token`; ES256 is measured the same two ways here for the side-by-side.
fn bench_ecdsa_curves(c: &mut Criterion) {
    let Setup {
        rt,
        server,
        issuer,
        now,
        claims,
    } = Setup::new();
    let p256 = TestKey::generate(Algorithm::ES256, "p256");
    let p521 = support::RawKey::p521();
    let p521_jwk = p521.jwk("p521", json!({"alg": "ES512"}));
    server.set(
        "/jwks",
        Reply::Json(support::keys_document(&[
            p256.jwk.clone(),
            p521_jwk.clone(),
        ])),
    );
    let authorizer = Authorizer::new(
        AuthConfig::from_lookup(|name| match name {
            "AUTH_ISSUER" => Some(issuer.clone()),
            "AUTH_AUDIENCE" => Some("products-api".into()),
            "AUTH_JWKS_URI" => Some(server.url("/jwks")),
            _ => None,
        })
        .unwrap(),
    );
    let point = |jwk: &serde_json::Value| {
        let mut point = vec![0x04];
        point.extend(b64(jwk["x"].as_str().unwrap()));
        point.extend(b64(jwk["y"].as_str().unwrap()));
        point
    };
    let cases = [
        (
            "ES256",
            p256.sign(&claims),
            ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point(&p256.jwk)).unwrap(),
        ),
        (
            "ES512",
            p521.sign(json!({"alg": "ES512", "kid": "p521"}), &claims),
            ParsedPublicKey::new(&sig::ECDSA_P521_SHA512_FIXED, point(&p521_jwk)).unwrap(),
        ),
    ];
    let mut group = c.benchmark_group("ecdsa");
    for (alg, token, key) in &cases {
        let floor = Floor::Public(key.clone());
        assert!(floor.verify(token), "{alg} floor");
        rt.block_on(authorizer.verify_token(Some(token), now))
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        group.bench_function(BenchmarkId::new("aws_lc_preparsed", alg), |b| {
            b.iter(|| assert!(floor.verify(black_box(token))))
        });
        group.bench_function(BenchmarkId::new("authorizer_verify", alg), |b| {
            b.to_async(&rt).iter(|| async {
                authorizer
                    .verify_token(Some(black_box(token)), now)
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify, bench_ecdsa_curves);
criterion_main!(benches);
