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
//!
//! `Outcome` is `allow`, `deny`, `unauthorized` (401 / `isAuthorized: false`) or `error` (no
//! decision: unreadable event, set-up not ready). `Reason` is a [`Reason`] code. `Route` is the
//! route key (`GET /product/{name}`), or `unmatched` for a path not in the table. A fetch line
//! carries the issuer as a property (searchable, not a dimension); the key fetcher
//! ([`crate::token::KeyFetcher`]) writes those lines, the authorizer's metrics switch them on.

use crate::authorizer::openapi_routes::AccessRule;
use crate::metrics::{Directive, Invocation, Metric, Metrics, Record, Unit};
use crate::reason::Reason;

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

fn count(name: &'static str, value: u32) -> Metric {
    Metric {
        name,
        unit: Unit::Count,
        value: value.into(),
    }
}
