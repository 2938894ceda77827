//! Every sample event in `events/authorizer/` through the real authorizer, configured from
//! `events/authorizer/test.env`, compared with the `.expected.json` beside it: the response
//! document, or `{"error": "<message>"}` for an invocation that fails.
//!
//! The events' tokens are HS256, signed by `make_events.py` with Python's standard library.

use jwt_scopes_api::{AuthConfig, Authorizer, AuthorizerError};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

fn authorizer(dir: &Path) -> Authorizer {
    let env = std::fs::read_to_string(dir.join("test.env")).unwrap();
    let vars: HashMap<&str, &str> = env
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    Authorizer::new(AuthConfig::from_lookup(|name| vars.get(name).map(|v| v.to_string())).unwrap())
}

fn answer(
    result: Result<jwt_scopes_api::authorizer::AuthorizerResponse, AuthorizerError>,
) -> Value {
    match result {
        Ok(response) => serde_json::to_value(response).unwrap(),
        Err(error) => json!({"error": Diagnostic::from(error).error_message}),
    }
}

#[tokio::test]
async fn every_sample_event_gives_its_expected_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/authorizer");
    let authorizer = authorizer(&dir);
    let now = 1_795_839_600; // 2026-11-29, inside the sample tokens' validity
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".expected.json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 12,
        "expected a dozen sample events, found {}",
        names.len()
    );
    let mut failures = Vec::new();
    for name in &names {
        let event = std::fs::read_to_string(dir.join(name)).unwrap();
        let got = answer(authorizer.answer_json(&event, now).await);
        let expected_path = dir.join(name.replace(".json", ".expected.json"));
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&got).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            failures.push(format!("{name}: no {}", expected_path.display()));
            continue;
        };
        let expected: Value = serde_json::from_str(&expected).unwrap();
        if got != expected {
            failures.push(format!("{name}:\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} events differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
