//! Product-api's metrics: one EMF line per request ([`crate::metrics`]). Dimensions are few and
//! bounded (each combination is a billed custom metric): no subject, product name or raw path.
//!
//! | Metric | Unit | Dimension sets | Meaning |
//! |---|---|---|---|
//! | `Requests` | Count | `StatusClass`; `Route, StatusClass` | one per answer |
//! | `StoreLatency` | Milliseconds | none; `Operation` | the request's store call, if it made one |
//! | `StoreFailures` | Count | none; `Operation` | 1 when that call failed (503 or 500), else 0 |
//!
//! `StatusClass` is `2xx`, `4xx` or `5xx`; `Route` the route key (`GET /product/{name}`) or
//! `unmatched`; `Operation` one of `list`, `get`, `put`, `delete`. The line also carries the
//! `status` and the `reason` code as properties, searchable but not dimensions. A conflict (412)
//! or a write to the read-only catalog (501) is an answer, not a store failure.

use crate::metrics::{Directive, Invocation, Metric, Metrics, Record, Unit};
use crate::reason::Reason;
use crate::routes::{Operation, Route};
use lambda_http::http::StatusCode;
use std::time::Duration;

/// The one store call a request made.
#[derive(Clone, Copy, Debug)]
pub struct StoreCall {
    /// What it was for.
    pub operation: Operation,
    /// How long it took, retries included.
    pub took: Duration,
    /// Whether it failed (unavailable or failed for good).
    pub failed: bool,
}

/// Records one answer.
pub fn request(
    metrics: &Metrics,
    invocation: Invocation<'_>,
    route: Option<&Route>,
    status: StatusCode,
    reason: Reason,
    store: Option<StoreCall>,
) {
    if !metrics.is_on() {
        return;
    }
    let route = route.map(Route::route_key);
    let code = status.as_str();
    let class = match status.as_u16() {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let requests = [Metric {
        name: "Requests",
        unit: Unit::Count,
        value: 1.0,
    }];
    let store_metrics = store.map(|call| {
        [
            Metric {
                name: "StoreLatency",
                unit: Unit::Milliseconds,
                value: call.took.as_secs_f64() * 1000.0,
            },
            Metric {
                name: "StoreFailures",
                unit: Unit::Count,
                value: f64::from(u8::from(call.failed)),
            },
        ]
    });
    let mut directives = vec![Directive {
        dimension_sets: &[&["StatusClass"], &["Route", "StatusClass"]],
        metrics: &requests,
    }];
    let mut dimensions = vec![
        ("StatusClass", class),
        ("Route", route.as_deref().unwrap_or("unmatched")),
    ];
    if let (Some(call), Some(store_metrics)) = (store, &store_metrics) {
        directives.push(Directive {
            dimension_sets: &[&[], &["Operation"]],
            metrics: store_metrics,
        });
        dimensions.push(("Operation", operation_name(call.operation)));
    }
    metrics.emit(&Record {
        invocation,
        directives: &directives,
        dimensions: &dimensions,
        properties: &[("status", code), ("reason", reason.code())],
    });
}

fn operation_name(operation: Operation) -> &'static str {
    match operation {
        Operation::ListProducts => "list",
        Operation::GetProduct => "get",
        Operation::PutProduct => "put",
        Operation::DeleteProduct => "delete",
    }
}
