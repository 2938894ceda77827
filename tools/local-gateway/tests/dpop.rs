//! The DPoP flow through `cargo local --authorizer lambda`, over real HTTP on 127.0.0.1: a token
//! request with a proof (RFC 9449 §5) gets a DPoP-bound token from the development issuer; the
//! gateway passes the `DPoP` header into the authorizer event; the project's authorizer accepts
//! the token with a fresh proof and refuses it as a bearer token, with a replayed proof or with
//! a proof for another URL. Proofs are signed here with the `jsonwebtoken` crate.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local_gateway::{AuthorizerMode, EventKind, Gateway, GatewayConfig, serve};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

struct ProofKey {
    encoding: EncodingKey,
    jwk: Jwk,
}

impl ProofKey {
    fn generate() -> Self {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let encoding = EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref());
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap();
        ProofKey { encoding, jwk }
    }

    /// A proof for `method` `htu`, with `ath` when it comes with `token`.
    fn proof(&self, method: &str, htu: &str, token: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        let mut jti = [0u8; 12];
        aws_lc_rs::rand::fill(&mut jti).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims =
            json!({"jti": URL_SAFE_NO_PAD.encode(jti), "htm": method, "htu": htu, "iat": now});
        if let Some(token) = token {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(digest));
        }
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

#[tokio::test]
async fn rfc9449_the_lambda_authorizer_flow_from_token_request_to_api_call() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let events: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = events.clone();
    let mut config = GatewayConfig::new(AuthorizerMode::Lambda);
    config.observer = Some(Arc::new(move |kind, event: &Value| {
        if kind == EventKind::AuthorizerRequest {
            sink.lock().unwrap().push(event.clone());
        }
    }));
    let gateway = Gateway::new(config, addr).unwrap();
    tokio::spawn(serve(listener, gateway.clone()));
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let key = ProofKey::generate();

    // RFC 9449 §5: the token request carries a proof for the token endpoint.
    let token_url = format!("{base}/_dev/token");
    let minted = client
        .post(&token_url)
        .header("DPoP", key.proof("POST", &token_url, None))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let minted: Value = serde_json::from_str(&minted).unwrap();
    assert_eq!(minted["token_type"], "DPoP");
    let token = minted["access_token"].as_str().unwrap().to_owned();
    let thumbprint = key.jwk.thumbprint(ThumbprintHash::SHA256).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["cnf"]["jkt"], json!(thumbprint));
    let refused = client
        .post(&token_url)
        .header(
            "DPoP",
            key.proof("POST", &format!("{base}/elsewhere"), None),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "a bad proof mints nothing");

    let url = format!("{base}/products");
    let call = |authorization: String, proof: Option<String>| {
        let mut request = client.get(&url).header("Authorization", authorization);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let proof = key.proof("GET", &url, Some(&token));
    assert_eq!(
        call(format!("DPoP {token}"), Some(proof.clone())).await,
        200
    );
    let event = events.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        event["headers"]["dpop"],
        json!(proof),
        "the proof reaches the authorizer"
    );
    assert!(
        event["requestContext"].get("authentication").is_none(),
        "no mTLS locally"
    );
    // Refusals: `isAuthorized: false` (simple responses), which API Gateway answers 403.
    assert_eq!(
        call(format!("DPoP {token}"), Some(proof)).await,
        403,
        "replayed"
    );
    assert_eq!(
        call(format!("Bearer {token}"), None).await,
        403,
        "as a bearer token"
    );
    let elsewhere = key.proof("GET", &format!("{base}/product/x"), Some(&token));
    assert_eq!(call(format!("DPoP {token}"), Some(elsewhere)).await, 403);
    let fresh = key.proof("GET", &url, Some(&token));
    assert_eq!(call(format!("DPoP {token}"), Some(fresh)).await, 200);
}
