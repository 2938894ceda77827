//! Opaque tokens and revocation through the local gateway, over real HTTP on 127.0.0.1: the
//! development issuer mints opaque tokens and JWTs, the Lambda authorizer introspects the first
//! (RFC 7662) and reads revocation items for the second, and the issuer's revocation (RFC 7009)
//! and sign-out endpoints write them, in memory or in a DynamoDB table (moto_server, as
//! `tests/revocation.rs` of the authorizer runs it). The reason of each 401 is read from the
//! gateway's log line. `explain` says when a token was introspected or is revoked. The authorizer answers with IAM policies (`AUTH_RESPONSE=iam`), so a
//! refused token is API Gateway's 401; with simple responses it would be `isAuthorized: false`,
//! which an HTTP API answers 403 whatever the reason.

#[path = "../../../tests/support/dynamodb.rs"]
mod dynamodb;
mod http;

use aws_sdk_dynamodb::types::AttributeValue;
use jwt_scopes_api::token::TokenError;
use local_gateway::explain::{Check, Explainer, Gate, Report, Verification};
use local_gateway::revocation::GatewayRevocations;
use local_gateway::{AuthorizerMode, Gateway, GatewayConfig, serve};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

const PRODUCT: &str = "/product/usb-c-cable-2m";
const CLIENT: (&str, &str) = ("local-authorizer", "local-authorizer-secret");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The log lines written while the test runs (the runtime is the test's one thread).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The `auth` decision of the last gateway line.
    fn last_decision(&self) -> String {
        let text = self.text();
        let line = text
            .lines()
            .rev()
            .find(|l| l.contains("auth="))
            .unwrap_or("");
        let decision = line.split("auth=").nth(1).unwrap_or("");
        decision
            .split(" request_id")
            .next()
            .unwrap_or("")
            .to_owned()
    }
}

struct Running {
    base: String,
    client: reqwest::Client,
    log: Log,
    _guard: tracing::subscriber::DefaultGuard,
}

async fn start(config: GatewayConfig) -> Running {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = lambda_runtime::tracing::subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gateway = Gateway::new(config, addr).unwrap();
    tokio::spawn(serve(listener, gateway));
    Running {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        log,
        _guard: guard,
    }
}

/// The Lambda authorizer, answering with IAM policies.
fn lambda_config() -> GatewayConfig {
    let mut config = GatewayConfig::new(AuthorizerMode::Lambda);
    config.env.insert("AUTH_RESPONSE".into(), "iam".into());
    config
}

async fn lambda_gateway() -> Running {
    start(lambda_config()).await
}

impl Running {
    /// A token from `POST /_dev/token`, as `cargo local token` asks for one.
    async fn mint(&self, request: Value) -> String {
        let url = format!("{}/_dev/token", self.base);
        let request = self.client.post(url).body(request.to_string());
        let response = request
            .header("content-type", "application/json")
            .send()
            .await;
        let response = response.unwrap();
        assert_eq!(response.status(), 200);
        let minted: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        minted["access_token"].as_str().unwrap().to_owned()
    }

    /// The product read with `token`: its status, and the gateway's decision.
    async fn call(&self, token: &str) -> (u16, String) {
        let url = format!("{}{PRODUCT}", self.base);
        let request = self.client.get(url).bearer_auth(token);
        let status = request.send().await.unwrap().status().as_u16();
        (status, self.log.last_decision())
    }

    /// A form POST to a development issuer endpoint, with `basic` credentials if given: status,
    /// JSON answer and challenge.
    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> (u16, Value, Option<String>) {
        let form: Vec<String> = form.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let body = Some(("application/x-www-form-urlencoded", form.join("&")));
        let body = body.as_ref().map(|(t, b)| (*t, b.as_str()));
        let mut request = http::request(&self.client, &self.base, "POST", path, None, body);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let (status, challenge, answer) = http::read(request.send().await.unwrap()).await;
        (status, answer, challenge)
    }

    async fn revoke(&self, token: &str) -> u16 {
        let form = [("token", token), ("token_type_hint", "access_token")];
        self.post("/_dev/revoke", &form, None).await.0
    }

    async fn introspect(&self, token: &str) -> Value {
        let (status, answer, _) = self
            .post("/_dev/introspect", &[("token", token)], Some(CLIENT))
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }
}

fn refused(reason: &str) -> (u16, String) {
    (401, format!("\"lambda unauthorized reason={reason}\""))
}

fn allowed(sub: &str) -> (u16, String) {
    (200, format!("\"lambda allow sub={sub}\""))
}

#[tokio::test]
async fn an_opaque_token_is_introspected_then_refused_once_revoked_at_the_issuer() {
    let gw = lambda_gateway().await;
    let token = gw.mint(json!({"opaque": true, "sub": "al"})).await;
    assert_eq!(token.len(), 43, "256 bits, base64url: {token}");
    assert!(!token.contains('.'), "not shaped as a JWS");
    assert_eq!(gw.call(&token).await, allowed("al"));
    assert_eq!(gw.revoke(&token).await, 200);
    assert_eq!(gw.call(&token).await, refused("inactive"));
    assert!(!gw.log.text().contains(&token), "tokens never in logs");
}

#[tokio::test]
async fn a_jwt_revoked_at_the_rfc7009_endpoint_is_refused_by_its_jti() {
    let gw = lambda_gateway().await;
    let (revoked, other) = (gw.mint(json!({})).await, gw.mint(json!({})).await);
    assert_eq!(gw.call(&revoked).await, allowed("dev-user"));
    assert_eq!(gw.revoke(&revoked).await, 200);
    assert_eq!(gw.call(&revoked).await, refused("revoked"));
    assert_eq!(gw.call(&other).await, allowed("dev-user"), "only that jti");
    // RFC 7009 §2.2: an unknown token is no error; §2.1: a request without one is.
    assert_eq!(gw.revoke("no-such-token").await, 200);
    let (status, answer, _) = gw.post("/_dev/revoke", &[], None).await;
    assert_eq!((status, &answer["error"]), (400, &json!("invalid_request")));
}

#[tokio::test]
async fn signing_out_everywhere_refuses_older_tokens_and_not_later_ones() {
    let gw = lambda_gateway().await;
    let earlier = json!({"iat": now() - 60});
    let jwt = gw.mint(json!({"sub": "bo", "claims": earlier})).await;
    let opaque = gw
        .mint(json!({"sub": "bo", "opaque": true, "claims": earlier}))
        .await;
    let someone_else = gw.mint(json!({"sub": "cy"})).await;
    assert_eq!(gw.call(&jwt).await, allowed("bo"));
    assert_eq!(gw.call(&opaque).await, allowed("bo"));
    let (status, item, _) = gw.post("/_dev/signout", &[("sub", "bo")], None).await;
    assert_eq!(status, 200, "{item}");
    let signed_out_at = item["revokedBefore"].as_u64().unwrap();
    assert_eq!(item["pk"], format!("sub#{}#bo", gw.base));
    assert_eq!(gw.call(&jwt).await, refused("revoked"));
    assert_eq!(gw.call(&opaque).await, refused("inactive"));
    assert_eq!(gw.call(&someone_else).await, allowed("cy"));
    // `iat` at `revokedBefore` is still revoked: the next login is a second later.
    while now() <= signed_out_at {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (jwt, opaque) = (
        gw.mint(json!({"sub": "bo"})).await,
        gw.mint(json!({"sub": "bo", "opaque": true})).await,
    );
    assert_eq!(gw.call(&jwt).await, allowed("bo"));
    assert_eq!(gw.call(&opaque).await, allowed("bo"));
}

#[tokio::test]
async fn the_introspection_endpoint_answers_its_client_about_its_tokens() {
    let gw = lambda_gateway().await;
    let url = format!("{}/.well-known/openid-configuration", gw.base);
    let discovery = gw.client.get(url).send().await.unwrap().text().await;
    let discovery: Value = serde_json::from_str(&discovery.unwrap()).unwrap();
    assert_eq!(
        discovery["introspection_endpoint"],
        format!("{}/_dev/introspect", gw.base)
    );
    assert_eq!(
        discovery["revocation_endpoint"],
        format!("{}/_dev/revoke", gw.base)
    );

    let token = gw
        .mint(json!({"opaque": true, "scope": "read:products write:products"}))
        .await;
    let answer = gw.introspect(&token).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "read:products write:products");
    assert_eq!(
        (
            &answer["iss"],
            &answer["aud"],
            &answer["sub"],
            &answer["client_id"]
        ),
        (
            &json!(gw.base),
            &json!("products-api"),
            &json!("dev-user"),
            &json!("local-gateway")
        )
    );
    for claim in ["exp", "iat", "jti"] {
        assert!(answer.get(claim).is_some(), "{claim}: {answer}");
    }

    // RFC 6749 §5.2: no or wrong client credentials are 401 invalid_client with a challenge.
    for basic in [None, Some((CLIENT.0, "wrong")), Some(("someone", CLIENT.1))] {
        let (status, answer, challenge) = gw
            .post("/_dev/introspect", &[("token", &token)], basic)
            .await;
        assert_eq!(
            (status, &answer["error"]),
            (401, &json!("invalid_client")),
            "{basic:?}"
        );
        assert!(challenge.unwrap().starts_with("Basic "), "{basic:?}");
    }

    // RFC 7662 §2.2: anything not active is `{"active": false}` and nothing more.
    let expired = gw.mint(json!({"opaque": true, "ttl": -60})).await;
    let jwt = gw.mint(json!({})).await;
    gw.revoke(&token).await;
    for (name, token) in [
        ("unknown", "no-such-token"),
        ("expired", &expired),
        ("revoked", &token),
        ("a JWT", &jwt),
    ] {
        assert_eq!(
            gw.introspect(token).await,
            json!({"active": false}),
            "{name}"
        );
    }
}

#[tokio::test]
async fn revocation_items_go_to_a_dynamodb_table_when_one_is_named() {
    let Some((_server, client, table)) = dynamodb::fresh_table("revoked", "pk").await else {
        return;
    };
    let mut config = lambda_config();
    config
        .env
        .insert("AUTH_REVOCATION_TABLE".into(), table.clone());
    config.dynamodb = Some(client.clone());
    let gw = start(config).await;
    let token = gw.mint(json!({"sub": "di"})).await;
    assert_eq!(gw.call(&token).await, allowed("di"));
    assert_eq!(gw.revoke(&token).await, 200);
    assert_eq!(gw.call(&token).await, refused("revoked"));
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    let [item] = items.as_slice() else {
        panic!("one item: {items:?}");
    };
    let pk = match &item["pk"] {
        AttributeValue::S(pk) => pk.clone(),
        other => panic!("{other:?}"),
    };
    assert!(pk.starts_with(&format!("jti#{}#", gw.base)), "{pk}");
    assert!(
        matches!(item["expiresAt"], AttributeValue::N(_)),
        "{item:?}"
    );

    let (status, _, _) = gw.post("/_dev/signout", &[("sub", "di")], None).await;
    assert_eq!(status, 200);
    let earlier = gw
        .mint(json!({"sub": "di", "claims": {"iat": now() - 60}}))
        .await;
    assert_eq!(
        gw.call(&earlier).await,
        refused("revoked"),
        "signed out in the table"
    );
}

#[tokio::test]
async fn explain_says_a_token_was_introspected_or_is_revoked() {
    let gw = lambda_gateway().await;
    let explainer = Explainer::new(&Default::default(), &gw.base).unwrap();
    let store = Arc::new(GatewayRevocations::new(&gw.base));
    let explainer = explainer.with_lambda(|lambda| lambda.with_revocation_items(store));
    let lambda = |report: &Report| {
        report
            .checks
            .iter()
            .find(|(g, _)| *g == Gate::Lambda)
            .unwrap()
            .1
            .clone()
    };

    let opaque = gw.mint(json!({"opaque": true, "sub": "ed"})).await;
    let report = explainer.token(&opaque, now()).await;
    let issuer = gw.base.clone();
    assert_eq!(
        report.verified,
        Verification::Introspected {
            issuer,
            active: true
        }
    );
    assert_eq!(
        (lambda(&report), &report.claims["sub"]),
        (Check::Passed, &json!("ed"))
    );
    let text = report.to_string();
    assert!(
        text.contains("opaque (not a JWT): introspected at"),
        "{text}"
    );
    let http = report
        .route("GET", "/product/{name}")
        .unwrap()
        .gate(Gate::HttpApiJwt);
    assert!(
        !http.verdict.lets_through(),
        "the built-in authorizers take JWTs only"
    );
    gw.revoke(&opaque).await;
    let report = explainer.token(&opaque, now()).await;
    assert_eq!(lambda(&report), Check::Failed(TokenError::Inactive));
    assert!(report.to_string().contains("401 inactive"), "{report}");

    let jwt = gw.mint(json!({})).await;
    assert_eq!(lambda(&explainer.token(&jwt, now()).await), Check::Passed);
    gw.revoke(&jwt).await;
    let report = explainer.token(&jwt, now()).await;
    assert_eq!(lambda(&report), Check::Failed(TokenError::Revoked));
    let http = report
        .checks
        .iter()
        .find(|(g, _)| *g == Gate::HttpApiJwt)
        .unwrap();
    assert_eq!(
        http.1,
        Check::Passed,
        "a JWT-only check cannot see a revocation"
    );
    assert!(report.to_string().contains("401 revoked"), "{report}");
}
