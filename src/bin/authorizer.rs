//! `authorizer` Lambda: verifies bearer JWTs for API Gateway (REST TOKEN/REQUEST, WebSocket,
//! HTTP API payload 1.0 and 2.0) and enforces the route table's scopes.
//!
//! Configuration is read and checked once here; a bad one fails the cold start with a message
//! naming the variable.

use jwt_scopes_api::{AuthConfig, Authorizer};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = AuthConfig::from_env()
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
