//! The `authorizer` Lambda's process: its runtime, its configuration read once at cold start,
//! and the invocation loop; `src/bin/authorizer.rs` calls [`run`] and nothing else.
//!
//! Configuration is read and checked once here; a bad one fails the cold start with a message
//! naming the variable. An HMAC secret named by `AUTH_HMAC_SECRET_ARN`, and an introspection
//! client secret given as a Secrets Manager ARN, are read through the Parameters and Secrets
//! extension on the first invocation (the extension does not serve the init phase) and kept for
//! the life of the process. A key set in `AUTH_JWKS` is read here too, so the first token needs
//! no fetch; the DynamoDB client is built here when a table is configured, and only then.
//!
//! Every log line of an invocation carries its `requestId` and `xrayTraceId`: `run_concurrent`
//! wraps each invocation in the runtime's `Lambda runtime invoke` span, which the default
//! subscriber prints on every line. Metrics go to stdout as EMF (`METRICS_NAMESPACE`).

use crate::authorizer::config::{AuthConfig, ConfigError, preloaded_keys, whole_number};
use crate::authorizer::dynamodb::client_from_env as dynamodb_client;
use crate::authorizer::event::AuthorizerEvent;
use crate::authorizer::handler::{Authorizer, AuthorizerError};
use crate::authorizer::metrics::{Outcome, record_decision};
use crate::authorizer::secret::from_extension as secret_from_extension;
use crate::env::{self, var};
use crate::metrics::{Invocation, Metrics};
use crate::reason::Reason;
use crate::token::KeySet;
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
pub fn run() -> Result<(), Error> {
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
    let secrets = secret_arns();
    let pending: Vec<_> = secrets
        .iter()
        .map(|(secret, _)| (*secret, PENDING_SECRET.to_owned()))
        .collect();
    let authorizer = Arc::new(OnceCell::new());
    let checked = config(&pending)
        .and_then(|checked| {
            let keys = preloaded_keys(&checked, var)?;
            Ok((checked, keys.map(Arc::new)))
        })
        .inspect_err(|error| tracing::error!(%error, "invalid configuration"));
    let (checked, keys) = checked?;
    let metrics = Metrics::stdout_from_env();
    // Built here, once, and only when a table is configured: nothing for a deployment without.
    let dynamodb = match checked.tables.any() {
        true => Some(dynamodb_client(checked.tables.timeout).await),
        false => None,
    };
    let build = {
        let metrics = metrics.clone();
        move |config: AuthConfig| {
            let authorizer = Authorizer::with_metrics(config, metrics.clone());
            let authorizer = match &dynamodb {
                Some(client) => authorizer.with_dynamodb(client.clone()),
                None => authorizer,
            };
            seeded(authorizer, &keys)
        }
    };
    if secrets.is_empty() {
        let _ = authorizer.set(build(checked));
    }
    lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<AuthorizerEvent>| {
        let (authorizer, secrets, build, metrics) = (
            authorizer.clone(),
            secrets.clone(),
            build.clone(),
            metrics.clone(),
        );
        async move {
            let invocation = Invocation::from(&event.context);
            let authorizer = authorizer
                .get_or_try_init(|| async {
                    config(&fetch_secrets(secrets).await?).map(build)
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

/// A secret read through the extension on the first invocation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secret {
    /// The HMAC secret, named by `AUTH_HMAC_SECRET_ARN`.
    Hmac,
    /// The introspection client's, when `AUTH_INTROSPECTION_CLIENT_SECRET` holds a Secrets
    /// Manager ARN instead of the secret.
    IntrospectionClient,
}

impl Secret {
    /// The variable whose value the secret is.
    fn variable(self) -> &'static str {
        match self {
            Secret::Hmac => "AUTH_HMAC_SECRET",
            Secret::IntrospectionClient => "AUTH_INTROSPECTION_CLIENT_SECRET",
        }
    }

    /// The variable holding its ARN.
    fn named_by(self) -> &'static str {
        match self {
            Secret::Hmac => "AUTH_HMAC_SECRET_ARN",
            Secret::IntrospectionClient => "AUTH_INTROSPECTION_CLIENT_SECRET",
        }
    }
}

/// The secrets to read on the first invocation, with their ARNs.
fn secret_arns() -> Vec<(Secret, String)> {
    let hmac = var(Secret::Hmac.named_by()).map(|arn| (Secret::Hmac, arn));
    let client = Secret::IntrospectionClient;
    let introspection = var(client.named_by())
        .map(|value| value.trim().to_owned())
        .filter(|value| value.starts_with("arn:aws:secretsmanager:"))
        .map(|arn| (client, arn));
    hmac.into_iter().chain(introspection).collect()
}

/// The authorizer, its issuer's cache seeded with the preloaded keys if any.
fn seeded(authorizer: Authorizer, keys: &Option<Arc<KeySet>>) -> Authorizer {
    match keys {
        Some(keys) => authorizer.with_keys(keys.clone(), env::now()),
        None => authorizer,
    }
}

/// The environment, with each of `secrets` in place of its variable's setting.
fn config(secrets: &[(Secret, String)]) -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_lookup(|name| {
        match secrets.iter().find(|(secret, _)| secret.variable() == name) {
            Some((_, value)) => Some(value.clone()),
            None => var(name),
        }
    })
}

/// Each of `secrets` read through the extension.
async fn fetch_secrets(
    secrets: Vec<(Secret, String)>,
) -> Result<Vec<(Secret, String)>, ConfigError> {
    let port = var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT").unwrap_or_else(|| "2773".into());
    let endpoint = format!("http://localhost:{port}");
    let token = var("AWS_SESSION_TOKEN").unwrap_or_default();
    let mut fetched = Vec::with_capacity(secrets.len());
    for (secret, arn) in secrets {
        let value = secret_from_extension(&endpoint, &arn, &token)
            .await
            .map_err(|error| ConfigError {
                variable: secret.named_by(),
                ..error
            })?;
        fetched.push((secret, value));
    }
    Ok(fetched)
}
