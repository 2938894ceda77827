//! `authorizer` Lambda: verifies bearer JWTs for API Gateway (REST TOKEN/REQUEST, WebSocket,
//! HTTP API payload 1.0 and 2.0) and enforces the route table's scopes.
//!
//! Configuration is read and checked once here; a bad one fails the cold start with a message
//! naming the variable.

use jwt_scopes_api::{AuthConfig, Authorizer, secret};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::env;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = load_config()
        .await
        .inspect_err(|error| tracing::error!(%error, "invalid configuration"))?;
    let authorizer = Arc::new(Authorizer::new(config));
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let authorizer = authorizer.clone();
        async move {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            authorizer.handle(event.payload.get(), now).await
        }
    }))
    .await
}

/// The environment, with `AUTH_HMAC_SECRET` fetched from Secrets Manager when
/// `AUTH_HMAC_SECRET_ARN` names it.
async fn load_config() -> Result<AuthConfig, jwt_scopes_api::config::ConfigError> {
    let var = |name: &str| env::var(name).ok().filter(|v| !v.trim().is_empty());
    let fetched = match var("AUTH_HMAC_SECRET_ARN") {
        Some(arn) => {
            let port =
                var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT").unwrap_or_else(|| "2773".into());
            let token = var("AWS_SESSION_TOKEN").unwrap_or_default();
            Some(secret::from_extension(&format!("http://localhost:{port}"), &arn, &token).await?)
        }
        None => None,
    };
    AuthConfig::from_lookup(|name| match (name, &fetched) {
        ("AUTH_HMAC_SECRET", Some(secret)) => Some(secret.clone()),
        _ => var(name),
    })
}
