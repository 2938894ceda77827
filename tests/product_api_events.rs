//! Every sample event in `events/product-api/` through the real handler, against the
//! `<case>.expected.json` beside it: `{"statusCode": 403, "headers": {...}, "body": ...}`.
//!
//! An answer matches when:
//! - its status equals `statusCode`;
//! - every header in `headers` is present with an equal value (names are case-insensitive; headers
//!   the answer has beyond these are allowed);
//! - its body, parsed as JSON, equals `body`; `null` stands for an empty body.
//!
//! New events are picked up from the directory; each needs its expected file.

#[path = "support/sample_events.rs"]
mod sample_events;

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Fewer cases than this means events went missing.
const MIN_CASES: usize = 15;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Expected {
    status_code: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

/// What differs between the answer to `event` and its expected file; empty when they match.
async fn check(event: &Path) -> Result<Vec<String>, String> {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{path:?}: {e}"));
    let expected: Expected = serde_json::from_str(&read(&event.with_extension("expected.json"))?)
        .map_err(|e| format!("expected file: {e}"))?;
    let response = sample_events::respond(&read(event)?).await?;

    let mut mismatches = Vec::new();
    if response.status() != expected.status_code {
        let status = response.status().as_u16();
        mismatches.push(format!(
            "status {status}, expected {}",
            expected.status_code
        ));
    }
    for (name, want) in &expected.headers {
        // `HeaderMap` lookups are case-insensitive.
        let got = response.headers().get(name.as_str());
        if got.is_none_or(|value| value != want.as_str()) {
            mismatches.push(format!("header {name}: {got:?}, expected {want:?}"));
        }
    }
    let body = sample_events::body_json(&response)?;
    if body != expected.body {
        mismatches.push(format!("body {body}, expected {}", expected.body));
    }
    Ok(mismatches)
}

#[tokio::test]
async fn every_sample_event_gets_its_expected_answer() {
    let mut events: Vec<_> = std::fs::read_dir(sample_events::events_dir())
        .expect("events/product-api exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".json") && !name.ends_with(".expected.json")
        })
        .collect();
    events.sort();
    assert!(
        events.len() >= MIN_CASES,
        "only {} sample events, expected at least {MIN_CASES}",
        events.len()
    );

    let mut failures = Vec::new();
    for event in &events {
        let name = event.file_name().unwrap().to_string_lossy();
        match check(event).await {
            Ok(mismatches) => failures.extend(mismatches.iter().map(|m| format!("{name}: {m}"))),
            Err(error) => failures.push(format!("{name}: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatch(es) across {} events:\n{}",
        failures.len(),
        events.len(),
        failures.join("\n")
    );
}
