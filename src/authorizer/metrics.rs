//! The authorizer's metrics, one EMF line per decision and one per key-set fetch
//! ([`crate::metrics`]). Dimensions are few and bounded, since each combination is a billed
//! custom metric: no issuer, subject, method or path ever becomes one.
//!
//! | Metric | Unit | Dimension sets | Meaning |
//! |---|---|---|---|
//! | `Decisions` | Count | `Outcome`; `Outcome, Reason`; `Route, Outcome` | one per invocation |
//! | `KeyFetches` | Count | none | one per fetch of a key set (discovery included) |
//! | `KeyFetchFailures` | Count | none | 1 when that fetch failed, else 0 |
//! | `KeyFetchLatency` | Milliseconds | none | how long that fetch took, failed or not |
//! | `DependencyCalls` | Count | `Dependency` | one per call a decision makes to another service |
//! | `DependencyFailures` | Count | `Dependency` | 1 when that call failed (the decision is a 401) |
//! | `DependencyLatency` | Milliseconds | `Dependency` | how long that call took, failed or not |
//!
//! `Outcome` is `allow`, `deny`, `unauthorized` (401 / `isAuthorized: false`) or `error` (no
//! decision: unreadable event, set-up not ready). `Reason` is a [`Reason`] code. `Route` is the
//! route key (`GET /product/{name}`), or `unmatched` for a path not in the table. A fetch line
//! carries the issuer as a property (searchable, not a dimension); the key fetcher
//! ([`crate::token::KeyFetcher`]) writes those lines, the authorizer's metrics switch them on.

use crate::authorizer::openapi_routes::AccessRule;
use crate::metrics::{Directive, Invocation, Metric, Metrics, Record, Unit, record_call};
use crate::reason::Reason;
use std::time::Duration;

/// What a decision came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A policy allowing the route, or `isAuthorized: true`.
    Allow,
    /// A valid token that may not call the route.
    Deny,
    /// A missing or invalid token.
    Unauthorized,
    /// No decision: the invocation failed.
    Error,
}

impl Outcome {
    /// The `Outcome` dimension's value, also the log line's `decision`.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Error => "error",
        }
    }
}

/// The `Route` dimension of a request whose method and path are not in the table.
const UNMATCHED: &str = "unmatched";

/// Records one decision.
pub fn record_decision(
    metrics: &Metrics,
    invocation: Invocation<'_>,
    outcome: Outcome,
    reason: Reason,
    route: Option<&AccessRule>,
) {
    if !metrics.is_on() {
        return;
    }
    let route = route.map(|r| format!("{} {}", r.method, r.path));
    metrics.emit(&Record {
        invocation,
        directives: &[Directive {
            dimension_sets: &[&["Outcome"], &["Outcome", "Reason"], &["Route", "Outcome"]],
            metrics: &[count("Decisions", 1)],
        }],
        dimensions: &[
            ("Outcome", outcome.code()),
            ("Reason", reason.code()),
            ("Route", route.as_deref().unwrap_or(UNMATCHED)),
        ],
        properties: &[],
    });
}

/// A service a decision may call, the `Dependency` dimension: a bounded set, one per feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dependency {
    /// The issuer's RFC 7662 introspection endpoint (a cache miss).
    Introspection,
    /// The DynamoDB revocation table (`AUTH_REVOCATION_TABLE`).
    RevocationTable,
    /// The DynamoDB DPoP replay table (`AUTH_REPLAY_TABLE`).
    ReplayTable,
}

impl Dependency {
    /// The dimension's value.
    pub fn code(self) -> &'static str {
        match self {
            Dependency::Introspection => "introspection",
            Dependency::RevocationTable => "revocation-table",
            Dependency::ReplayTable => "replay-table",
        }
    }
}

/// Records one call to `dependency` that took `took` and `failed` or not; the template's alarm
/// on a table's failures reads these.
pub fn dependency_call(metrics: &Metrics, dependency: Dependency, took: Duration, failed: bool) {
    let names = ["DependencyCalls", "DependencyFailures", "DependencyLatency"];
    let dimensions = [("Dependency", dependency.code())];
    record_call(
        metrics,
        names,
        (&[&["Dependency"]], &dimensions),
        &[],
        took,
        failed,
    );
}

fn count(name: &'static str, value: u32) -> Metric {
    Metric {
        name,
        unit: Unit::Count,
        value: value.into(),
    }
}
