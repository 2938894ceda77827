//! The revocation table on a real DynamoDB-compatible server on 127.0.0.1 (`support/dynamodb.rs`:
//! `DYNAMODB_ENDPOINT`, or a `moto_server` started here; without either, the tests say so and
//! pass vacuously): a revoked token, a subject signed out before and after a token was issued,
//! and a table that is missing or unreachable, which refuses every token.

mod support;

#[path = "support/dynamodb.rs"]
mod dynamodb;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use jsonwebtoken::Algorithm;
use jwt_scopes_api::Authorizer;
use jwt_scopes_api::authorizer::Outcome;
use jwt_scopes_api::metrics::{Invocation, Metrics};
use jwt_scopes_api::reason::Reason;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{TestKey, authorizer, claims, now, token_event};

const ISSUER: &str = "https://issuer.test/";
const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";

/// What `aws dynamodb put-item` writes (docs/revocation-and-introspection.md).
async fn put(client: &Client, table: &str, pk: &str, revoked_before: Option<u64>) {
    let mut request = client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("expiresAt", AttributeValue::N((now() + 3600).to_string()));
    if let Some(before) = revoked_before {
        request = request.item("revokedBefore", AttributeValue::N(before.to_string()));
    }
    request.send().await.expect("put item");
}

fn revoking(table: &str, extra: &[(&str, String)]) -> Authorizer {
    let mut vars = vec![
        ("AUTH_ISSUER", ISSUER.to_string()),
        ("AUTH_AUDIENCE", "products-api".to_string()),
        ("AUTH_HMAC_SECRET", SECRET.to_string()),
        ("AUTH_REVOCATION_TABLE", table.to_string()),
        ("AUTH_TABLE_TIMEOUT_MS", "500".to_string()),
    ];
    vars.extend(extra.iter().cloned());
    authorizer(&vars)
}

fn token(extra: Value) -> String {
    let mut extra = extra;
    extra["scope"] = json!("read:products");
    TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims(ISSUER, extra))
}

async fn decide(authorizer: &Authorizer, token: &str) -> (Outcome, Reason) {
    let event = token_event(token, "GET", "/products");
    let decision = authorizer
        .decide_json(&event, now(), Invocation::default())
        .await;
    (decision.outcome, decision.reason)
}

#[tokio::test]
async fn a_jti_item_revokes_that_token_only() {
    let Some((_server, client, table)) = dynamodb::fresh_table("revoked", "pk").await else {
        return;
    };
    let authorizer = revoking(&table, &[]).with_dynamodb(client.clone());
    let (first, second) = (token(json!({"jti": "t-1"})), token(json!({"jti": "t-2"})));
    assert_eq!(
        decide(&authorizer, &first).await,
        (Outcome::Allow, Reason::Granted)
    );
    put(&client, &table, &format!("jti#{ISSUER}#t-1"), None).await;
    assert_eq!(
        decide(&authorizer, &first).await,
        (Outcome::Unauthorized, Reason::Revoked),
        "takes effect at the next request: \"not revoked\" is never cached"
    );
    assert_eq!(
        decide(&authorizer, &second).await,
        (Outcome::Allow, Reason::Granted)
    );
    put(&client, &table, "jti#https://other.test/#t-2", None).await;
    assert_eq!(
        decide(&authorizer, &second).await.0,
        Outcome::Allow,
        "an item names its issuer"
    );
}

#[tokio::test]
async fn a_subject_item_revokes_tokens_issued_at_or_before_it() {
    let Some((_server, client, table)) = dynamodb::fresh_table("revoked", "pk").await else {
        return;
    };
    let lines = Arc::new(Mutex::new(Vec::new()));
    let metrics = Metrics::to("Test", Sink(lines.clone()));
    let config = |vars: &[(&str, String)]| {
        let vars: std::collections::HashMap<_, _> = vars.iter().cloned().collect();
        jwt_scopes_api::AuthConfig::from_lookup(|name| vars.get(name).cloned()).unwrap()
    };
    let authorizer = Authorizer::with_metrics(
        config(&[
            ("AUTH_ISSUER", ISSUER.into()),
            ("AUTH_AUDIENCE", "products-api".into()),
            ("AUTH_HMAC_SECRET", SECRET.into()),
            ("AUTH_REVOCATION_TABLE", table.clone()),
        ]),
        metrics,
    )
    .with_dynamodb(client.clone());
    let t = now();
    let before = token(json!({"sub": "user-1", "iat": t - 100}));
    let at = token(json!({"sub": "user-1", "iat": t - 50}));
    let after = token(json!({"sub": "user-1", "iat": t - 10, "jti": "later"}));
    let no_iat = token(json!({"sub": "user-1", "iat": null}));
    let someone_else = token(json!({"sub": "user-2", "iat": t - 100}));
    put(
        &client,
        &table,
        &format!("sub#{ISSUER}#user-1"),
        Some(t - 50),
    )
    .await;
    for (name, token, outcome) in [
        ("issued before", &before, Outcome::Unauthorized),
        ("issued at", &at, Outcome::Unauthorized),
        ("issued after", &after, Outcome::Allow),
        ("no iat", &no_iat, Outcome::Unauthorized),
        ("another subject", &someone_else, Outcome::Allow),
    ] {
        assert_eq!(decide(&authorizer, token).await.0, outcome, "{name}");
    }
    let lines = lines.lock().unwrap();
    let calls: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["Dependency"] == "revocation-table")
        .collect();
    assert_eq!(calls.len(), 5, "one table call per decision");
    assert!(
        calls
            .iter()
            .all(|c| c["DependencyFailures"].as_f64() == Some(0.0))
    );
}

#[tokio::test]
async fn a_missing_or_unreachable_table_refuses_every_token() {
    let valid = token(json!({"jti": "t-1"}));
    let unreachable = dynamodb::client("http://127.0.0.1:9");
    let started = Instant::now();
    assert_eq!(
        decide(&revoking("revoked", &[]).with_dynamodb(unreachable), &valid).await,
        (Outcome::Unauthorized, Reason::RevocationUnavailable)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        decide(&revoking("revoked", &[]), &valid).await,
        (Outcome::Unauthorized, Reason::RevocationUnavailable),
        "no client given"
    );
    let Some((_server, client, _)) = dynamodb::fresh_table("revoked", "pk").await else {
        return;
    };
    let missing = revoking("no-such-table", &[]).with_dynamodb(client);
    assert_eq!(
        decide(&missing, &valid).await,
        (Outcome::Unauthorized, Reason::RevocationUnavailable)
    );
}

/// A metrics writer the test reads back, one line per record.
struct Sink(Arc<Mutex<Vec<String>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let mut lines = self.0.lock().unwrap();
        lines.extend(text.lines().map(str::to_owned));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
