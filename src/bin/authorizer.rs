//! `authorizer` Lambda: verifies bearer JWTs for API Gateway (REST TOKEN/REQUEST, WebSocket,
//! HTTP API payload 1.0 and 2.0) and enforces the route table's scopes.
//!
//! Configuration is read and checked once here; a bad one fails the cold start with a message
//! naming the variable. An HMAC secret named by `AUTH_HMAC_SECRET_ARN` is read through the
//! Parameters and Secrets extension on the first invocation (the extension does not serve the
//! init phase) and kept for the life of the process.

use jwt_scopes_api::authorizer::ConfigError;
use jwt_scopes_api::authorizer::secret_from_extension;
use jwt_scopes_api::env::{self, var};
use jwt_scopes_api::{AuthConfig, Authorizer, AuthorizerError};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Stands in for a secret still to be fetched, so the rest of the configuration is checked at
/// cold start; never used to verify anything.
const PENDING_SECRET: &str = "secret-fetched-on-first-invocation";

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let secret_arn = var("AUTH_HMAC_SECRET_ARN");
    let authorizer = Arc::new(OnceCell::new());
    let checked = config(secret_arn.as_ref().map(|_| PENDING_SECRET.to_owned()));
    let checked = checked.inspect_err(|error| tracing::error!(%error, "invalid configuration"))?;
    if secret_arn.is_none() {
        let _ = authorizer.set(Authorizer::new(checked));
    }
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let (authorizer, secret_arn) = (authorizer.clone(), secret_arn.clone());
        async move {
            let authorizer = authorizer
                .get_or_try_init(|| async {
                    let arn = secret_arn.as_deref().unwrap_or_default();
                    let secret = fetch_secret(arn).await?;
                    config(Some(secret)).map(Authorizer::new)
                })
                .await
                .map_err(|error| {
                    tracing::error!(%error, "authorizer not ready");
                    AuthorizerError::NotReady
                })?;
            authorizer.handle(event.payload.get(), env::now()).await
        }
    }))
    .await
}

/// The environment, with `AUTH_HMAC_SECRET` replaced by `secret` when given.
fn config(secret: Option<String>) -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_lookup(|name| match (name, &secret) {
        ("AUTH_HMAC_SECRET", Some(secret)) => Some(secret.clone()),
        _ => var(name),
    })
}

async fn fetch_secret(arn: &str) -> Result<String, ConfigError> {
    let port = var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT").unwrap_or_else(|| "2773".into());
    let token = var("AWS_SESSION_TOKEN").unwrap_or_default();
    secret_from_extension(&format!("http://localhost:{port}"), arn, &token).await
}
