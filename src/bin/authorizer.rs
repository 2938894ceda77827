//! `authorizer` Lambda: verifies bearer JWTs for API Gateway (REST TOKEN/REQUEST, WebSocket,
//! HTTP API payload 1.0 and 2.0) and enforces the route table's scopes.
//!
//! Configuration is read and checked once here; a bad one fails the cold start with a message
//! naming the variable. An HMAC secret named by `AUTH_HMAC_SECRET_ARN` is read through the
//! Parameters and Secrets extension on the first invocation (the extension does not serve the
//! init phase) and kept for the life of the process. A key set in `AUTH_JWKS` is read here too,
//! so the first token needs no fetch.
//!
//! Every log line of an invocation carries its `requestId` and `xrayTraceId`: `run_concurrent`
//! wraps each invocation in the runtime's `Lambda runtime invoke` span, which the default
//! subscriber prints on every line. Metrics go to stdout as EMF (`METRICS_NAMESPACE`).

use jwt_scopes_api::authorizer::{
    AuthorizerEvent, ConfigError, Outcome, preloaded_keys, record_decision, secret_from_extension,
    whole_number,
};
use jwt_scopes_api::env::{self, var};
use jwt_scopes_api::metrics::{Invocation, Metrics};
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::token::KeySet;
use jwt_scopes_api::{AuthConfig, Authorizer, AuthorizerError};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use std::sync::Arc;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::OnceCell;

/// Stands in for a secret still to be fetched, so the rest of the configuration is checked at
/// cold start; never used to verify anything.
const PENDING_SECRET: &str = "secret-fetched-on-first-invocation";

/// With several workers the runtime loop runs as a task on one of them, not on the main thread
/// that blocks on it: left there, every Runtime API answer is handed from the worker driving the
/// socket to the main thread and every request back, which cost more CPU per warm invocation
/// than the signature check (BENCHMARKS.md). With one thread, polled directly, as a task it
/// only costs more.
fn main() -> Result<(), Error> {
    let runtime = runtime()?;
    match runtime.handle().runtime_flavor() {
        RuntimeFlavor::CurrentThread => runtime.block_on(serve()),
        _ => runtime.block_on(async { tokio::spawn(serve()).await? }),
    }
}

/// One thread unless several invocations may run at once. A function that handles one invocation
/// at a time has nothing to spread over threads, and the multi-thread scheduler's wake-ups between
/// threads (futex, a second epoll) cost CPU on every invocation. Lambda Managed Instances
/// (`AWS_LAMBDA_MAX_CONCURRENCY` > 1) get tokio's default, a worker per CPU.
/// `AUTH_WORKER_THREADS` sets the number of workers instead (1: the single-thread runtime).
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    let number = |name: &'static str| whole_number(name, var(name));
    let concurrent = number("AWS_LAMBDA_MAX_CONCURRENCY")?.is_some_and(|n| n > 1);
    let workers = match number("AUTH_WORKER_THREADS")? {
        Some(0) => {
            return Err(ConfigError {
                variable: "AUTH_WORKER_THREADS",
                problem: "must be greater than 0".into(),
            }
            .into());
        }
        Some(n) => Some(n),
        None if concurrent => None,
        None => Some(1),
    };
    let mut builder = match workers {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    if let Some(n) = workers.filter(|n| *n > 1) {
        builder.worker_threads(n);
    }
    Ok(builder.enable_all().build()?)
}

async fn serve() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let secret_arn = var("AUTH_HMAC_SECRET_ARN");
    let authorizer = Arc::new(OnceCell::new());
    let checked = config(secret_arn.as_ref().map(|_| PENDING_SECRET.to_owned()))
        .and_then(|checked| {
            let keys = preloaded_keys(&checked, var)?;
            Ok((checked, keys.map(Arc::new)))
        })
        .inspect_err(|error| tracing::error!(%error, "invalid configuration"));
    let (checked, keys) = checked?;
    let metrics = Metrics::stdout_from_env();
    let build = {
        let metrics = metrics.clone();
        move |config: AuthConfig| seeded(Authorizer::with_metrics(config, metrics.clone()), &keys)
    };
    if secret_arn.is_none() {
        let _ = authorizer.set(build(checked));
    }
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<AuthorizerEvent>| {
        let (authorizer, secret_arn, build, metrics) = (
            authorizer.clone(),
            secret_arn.clone(),
            build.clone(),
            metrics.clone(),
        );
        async move {
            let invocation = Invocation::from(&event.context);
            let authorizer = authorizer
                .get_or_try_init(|| async {
                    let arn = secret_arn.as_deref().unwrap_or_default();
                    let secret = fetch_secret(arn).await?;
                    config(Some(secret)).map(build)
                })
                .await
                .map_err(|error| {
                    let reason = Reason::NotReady;
                    tracing::error!(%error, decision = Outcome::Error.code(), %reason, "authorizer not ready");
                    record_decision(&metrics, invocation, Outcome::Error, reason, None);
                    AuthorizerError::NotReady
                })?;
            let decision = authorizer.decide(event.payload, env::now(), invocation);
            decision.await.answer
        }
    }))
    .await
}

/// The authorizer, its issuer's cache seeded with the preloaded keys if any.
fn seeded(authorizer: Authorizer, keys: &Option<Arc<KeySet>>) -> Authorizer {
    match keys {
        Some(keys) => authorizer.with_keys(keys.clone(), env::now()),
        None => authorizer,
    }
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
