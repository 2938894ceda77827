//! The authorizer's DynamoDB tables: which are configured, the one SDK client they share, and a
//! call to one of them bounded by its own timeout, measured and failing closed.
//!
//! Only a deployment that names a table pays for any of it: without one no client is built,
//! no configuration is loaded, no decision waits on DynamoDB. The revocation table
//! ([`crate::authorizer::revocation`]) reads through it; a DPoP replay table would write through
//! the same client and the same [`Tables::call`].
//!
//! The endpoint, region and credentials come from the SDK's standard configuration (in Lambda,
//! the function's role), so `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) points it at a
//! local server; `DYNAMODB_ENDPOINT`, the project's setting for the local gateway and the tests,
//! does too and wins.

use crate::authorizer::config::{ConfigError, whole_number};
use crate::authorizer::metrics::{self, Dependency};
use crate::metrics::Metrics;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

/// The tables the authorizer reads, from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConfig {
    /// The revocation table (`AUTH_REVOCATION_TABLE`), if revocation is on.
    pub revocation: Option<String>,
    /// The DPoP replay table (`AUTH_REPLAY_TABLE`), if proofs are remembered across the fleet.
    pub replay: Option<String>,
    /// The bound on each call, retries included (`AUTH_TABLE_TIMEOUT_MS`, default 1500 ms, as a
    /// key fetch's): well inside the function's 5 s timeout, so a slow table is a 401, never a
    /// timed-out invocation.
    pub timeout: Duration,
}

impl TableConfig {
    /// Reads `AUTH_REVOCATION_TABLE`, `AUTH_REPLAY_TABLE` and `AUTH_TABLE_TIMEOUT_MS` through
    /// `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let name = "AUTH_TABLE_TIMEOUT_MS";
        let timeout = Duration::from_millis(whole_number(name, lookup(name))?.unwrap_or(1500));
        if timeout.is_zero() {
            return Err(ConfigError {
                variable: name,
                problem: "must be greater than 0".into(),
            });
        }
        Ok(TableConfig {
            revocation: lookup("AUTH_REVOCATION_TABLE").map(|t| t.trim().to_owned()),
            replay: lookup("AUTH_REPLAY_TABLE").map(|t| t.trim().to_owned()),
            timeout,
        })
    }

    /// Whether any table is configured, and so a client is needed.
    pub fn any(&self) -> bool {
        self.revocation.is_some() || self.replay.is_some()
    }
}

/// The SDK client for the authorizer's tables, from the standard configuration: built once per
/// cold start, and only when a table is configured. Retries (standard mode, two attempts) stay
/// inside `timeout`. Boxed: the SDK's loading future, inlined into a spawned task's, trips
/// rustc's `Send` inference ("implementation of `Send` is not general enough").
pub fn client_from_env(timeout: Duration) -> BoxFuture<'static, Client> {
    load(timeout).boxed()
}

async fn load(timeout: Duration) -> Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(timeout)
        .operation_timeout(timeout)
        .build();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(endpoint) = crate::env::var("DYNAMODB_ENDPOINT") {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// Why a table call failed; logged, never shown to callers. Every kind fails closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableError(String);

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TableError {
    /// A failure the call's own answer reveals (unprocessed keys, an unreadable item).
    pub fn new(problem: impl Into<String>) -> Self {
        TableError(problem.into())
    }
}

/// The SDK's error as a log line: the service's error code (`ResourceNotFoundException` for a
/// missing table, `ProvisionedThroughputExceededException` when throttled, ...) or the kind of
/// transport failure; never the request, which names the keys.
impl<E: ProvideErrorMetadata, R> From<SdkError<E, R>> for TableError {
    fn from(error: SdkError<E, R>) -> Self {
        TableError(match &error {
            SdkError::TimeoutError(_) => "timed out".into(),
            SdkError::DispatchFailure(_) => "unreachable".into(),
            _ => format!(
                "{}: {}",
                error.code().unwrap_or("unknown error"),
                error.message().unwrap_or("no message")
            ),
        })
    }
}

/// The client and the bounds every table call shares. Cheap to share by reference.
pub struct Tables {
    client: Client,
    timeout: Duration,
    metrics: Metrics,
}

impl Tables {
    /// Calls go through `client`, each bounded by `timeout` and recorded in `metrics`.
    pub fn new(client: Client, timeout: Duration, metrics: Metrics) -> Self {
        Tables {
            client,
            timeout,
            metrics,
        }
    }

    /// The shared client, to build a request with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs one call to `dependency` within the timeout (our own, whatever the client's
    /// configuration: a client handed in by a test or the local gateway is bounded too) and
    /// records it. A call still running at the timeout is dropped and fails.
    pub async fn call<T>(
        &self,
        dependency: Dependency,
        call: impl Future<Output = Result<T, TableError>>,
    ) -> Result<T, TableError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or_else(|_| Err(TableError::new("timed out")));
        metrics::dependency_call(
            &self.metrics,
            dependency,
            started.elapsed(),
            outcome.is_err(),
        );
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_table_no_client_and_the_timeout_is_checked() {
        let vars = |pairs: &'static [(&str, &str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let off = TableConfig::from_lookup(vars(&[])).unwrap();
        assert!(!off.any());
        assert_eq!(off.timeout, Duration::from_millis(1500));
        let on = TableConfig::from_lookup(vars(&[("AUTH_REVOCATION_TABLE", " revoked ")]));
        assert_eq!(on.unwrap().revocation.as_deref(), Some("revoked"));
        for bad in ["0", "soon"] {
            let pairs: &'static [(&str, &str)] = match bad {
                "0" => &[("AUTH_TABLE_TIMEOUT_MS", "0")],
                _ => &[("AUTH_TABLE_TIMEOUT_MS", "soon")],
            };
            let e = TableConfig::from_lookup(vars(pairs)).unwrap_err();
            assert_eq!(e.variable, "AUTH_TABLE_TIMEOUT_MS");
        }
    }
}
