//! Metrics as CloudWatch Embedded Metric Format (EMF) lines on stdout: Lambda ships stdout to
//! CloudWatch Logs, which extracts the metrics, so recording one costs no API call and no wait.
//!
//! Written here with `serde_json` rather than with `metrics_cloudwatch_embedded` (0.10, the
//! maintained EMF crate), because that crate is built on the `metrics` facade: a process-wide
//! recorder that aggregates between flushes, with per-process properties. Under Lambda Managed
//! Instances (several invocations at once) a flush would mix invocations and their request ids,
//! tests running in parallel would share one recorder, and its Lambda layer replaces the runtime's
//! `run_concurrent`. What the handlers need is smaller: one line per invocation, written as it
//! ends, carrying its own request id, to a writer the tests can read. That is this module, about
//! a hundred lines, no dependency beyond `serde_json`.
//!
//! The metric names and dimensions themselves are documented where they are recorded
//! ([`crate::authorizer`]'s and [`crate::product_api`]'s `metrics` modules) and in docs/operating.md.

use serde::ser::{Serialize, SerializeMap, Serializer};
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "JwtScopesApi";

/// Where metrics go: nowhere, or EMF lines to a writer. Cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    sink: Option<Arc<Sink>>,
}

struct Sink {
    namespace: String,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Metrics {
    /// No metrics: the default of the library types, so the local gateway, tests and benchmarks
    /// print nothing unless asked to. A record is then never built.
    pub fn off() -> Self {
        Metrics::default()
    }

    /// EMF lines in `namespace`, each written whole to `out`.
    pub fn to(namespace: impl Into<String>, out: impl Write + Send + 'static) -> Self {
        let sink = Sink {
            namespace: namespace.into(),
            out: Mutex::new(Box::new(out)),
        };
        Metrics {
            sink: Some(Arc::new(sink)),
        }
    }

    /// What the Lambda binaries use: stdout, in `METRICS_NAMESPACE` (default
    /// [`DEFAULT_NAMESPACE`]).
    pub fn stdout_from_env() -> Self {
        let namespace = crate::env::var("METRICS_NAMESPACE");
        Metrics::to(
            namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.into()),
            std::io::stdout(),
        )
    }

    /// Whether records are written; callers skip measuring what nobody reads.
    pub fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// Writes `record` as one line. A write that fails is dropped: metrics never fail a request.
    pub fn emit(&self, record: &Record<'_>) {
        let Some(sink) = &self.sink else { return };
        let document = Document {
            namespace: &sink.namespace,
            timestamp: crate::env::now_millis(),
            record,
        };
        let Ok(mut line) = serde_json::to_vec(&document) else {
            return;
        };
        line.push(b'\n');
        let mut out = sink.out.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = out.write_all(&line).and_then(|()| out.flush());
    }
}

/// The Lambda invocation a record belongs to, written as the `requestId` and `traceId`
/// properties so a Logs Insights query finds a request's metric line next to its log lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct Invocation<'a> {
    /// The Lambda request id.
    pub request_id: Option<&'a str>,
    /// The X-Ray trace header (`Root=...;Parent=...;Sampled=...`), when Lambda gives one.
    pub trace_id: Option<&'a str>,
}

impl<'a> From<&'a lambda_runtime::Context> for Invocation<'a> {
    fn from(context: &'a lambda_runtime::Context) -> Self {
        Invocation {
            request_id: Some(context.request_id.as_str()).filter(|id| !id.is_empty()),
            trace_id: context.xray_trace_id.as_deref(),
        }
    }
}

/// The units the handlers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Events.
    Count,
    /// Durations.
    Milliseconds,
}

/// One value of one metric.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Its value.
    pub value: f64,
}

/// Metrics published under the same dimension sets.
pub struct Directive<'a> {
    /// Each set of dimension names is one series per metric; `&[]` publishes without dimensions.
    pub dimension_sets: &'static [&'static [&'static str]],
    /// The metrics.
    pub metrics: &'a [Metric],
}

/// One EMF document: directives, the values of every dimension they name, and properties that
/// are logged but not dimensions.
pub struct Record<'a> {
    /// The invocation, for its ids.
    pub invocation: Invocation<'a>,
    /// What to publish.
    pub directives: &'a [Directive<'a>],
    /// `(dimension name, value)` for every dimension a directive names.
    pub dimensions: &'a [(&'static str, &'a str)],
    /// Searchable fields that are not dimensions (a status code, an issuer).
    pub properties: &'a [(&'static str, &'a str)],
}

struct Document<'a> {
    namespace: &'a str,
    timestamp: u64,
    record: &'a Record<'a>,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.record;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("_aws", &Aws(self))?;
        for (name, value) in record.dimensions.iter().chain(record.properties) {
            map.serialize_entry(name, value)?;
        }
        for metric in record.directives.iter().flat_map(|d| d.metrics) {
            map.serialize_entry(metric.name, &metric.value)?;
        }
        let ids = [
            ("requestId", record.invocation.request_id),
            ("traceId", record.invocation.trace_id),
        ];
        for (name, value) in ids {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// The `_aws` metadata object.
struct Aws<'a>(&'a Document<'a>);

impl Serialize for Aws<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("Timestamp", &self.0.timestamp)?;
        let directives: Vec<_> = self
            .0
            .record
            .directives
            .iter()
            .map(|d| CloudWatchMetrics(self.0.namespace, d))
            .collect();
        map.serialize_entry("CloudWatchMetrics", &directives)?;
        map.end()
    }
}

struct CloudWatchMetrics<'a>(&'a str, &'a Directive<'a>);

impl Serialize for CloudWatchMetrics<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (namespace, directive) = (self.0, self.1);
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("Namespace", namespace)?;
        map.serialize_entry("Dimensions", directive.dimension_sets)?;
        let metrics: Vec<_> = directive.metrics.iter().map(MetricDefinition).collect();
        map.serialize_entry("Metrics", &metrics)?;
        map.end()
    }
}

struct MetricDefinition<'a>(&'a Metric);

impl Serialize for MetricDefinition<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("Name", self.0.name)?;
        let unit = match self.0.unit {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        };
        map.serialize_entry("Unit", unit)?;
        map.end()
    }
}

/// One line for one outgoing call (a key fetch, an introspection, a table read): its count, a
/// 1 when it failed, and how long it took, under `dimension_sets` and `dimensions`.
pub fn record_call(
    metrics: &Metrics,
    [calls, failures, latency]: [&'static str; 3],
    (dimension_sets, dimensions): (&'static [&'static [&'static str]], &[(&'static str, &str)]),
    properties: &[(&'static str, &str)],
    took: Duration,
    failed: bool,
) {
    metrics.emit(&Record {
        invocation: Invocation::default(),
        directives: &[Directive {
            dimension_sets,
            metrics: &[
                Metric {
                    name: calls,
                    unit: Unit::Count,
                    value: 1.0,
                },
                Metric {
                    name: failures,
                    unit: Unit::Count,
                    value: f64::from(u8::from(failed)),
                },
                Metric {
                    name: latency,
                    unit: Unit::Milliseconds,
                    value: took.as_secs_f64() * 1000.0,
                },
            ],
        }],
        dimensions,
        properties,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_is_one_emf_document() {
        let record = Record {
            invocation: Invocation {
                request_id: Some("r-1"),
                trace_id: None,
            },
            directives: &[
                Directive {
                    dimension_sets: &[&["Outcome"], &["Outcome", "Reason"]],
                    metrics: &[Metric {
                        name: "Decisions",
                        unit: Unit::Count,
                        value: 1.0,
                    }],
                },
                Directive {
                    dimension_sets: &[&[]],
                    metrics: &[Metric {
                        name: "Latency",
                        unit: Unit::Milliseconds,
                        value: 2.5,
                    }],
                },
            ],
            dimensions: &[("Outcome", "deny"), ("Reason", "insufficient-scope")],
            properties: &[("status", "403")],
        };
        let document = Document {
            namespace: "Test",
            timestamp: 0,
            record: &record,
        };
        assert_eq!(
            serde_json::to_value(&document).unwrap(),
            json!({
                "_aws": {"Timestamp": 0, "CloudWatchMetrics": [
                    {"Namespace": "Test", "Dimensions": [["Outcome"], ["Outcome", "Reason"]],
                     "Metrics": [{"Name": "Decisions", "Unit": "Count"}]},
                    {"Namespace": "Test", "Dimensions": [[]],
                     "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}
                ]},
                "Outcome": "deny", "Reason": "insufficient-scope", "status": "403",
                "Decisions": 1.0, "Latency": 2.5, "requestId": "r-1"
            })
        );
    }

    #[test]
    fn off_writes_nothing() {
        assert!(!Metrics::off().is_on());
    }
}
