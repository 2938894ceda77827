//! The reference pages in docs/ against the code they describe, so a variable added to the
//! configuration, or one dropped from it, cannot go undocumented. (The reasons table is held to
//! its declaration in `src/reason.rs`'s tests.)

use jwt_scopes_api::AuthConfig;
use jwt_scopes_api::authorizer::preloaded_keys;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Read by the `authorizer` binary itself, not by the configuration: the runtime's workers and
/// the secret fetched on the first invocation.
const READ_BY_THE_BINARY: [&str; 2] = ["AUTH_WORKER_THREADS", "AUTH_HMAC_SECRET_ARN"];

/// The first column of the table under `## Configuration` in docs/authorizer.md.
fn documented_variables() -> BTreeSet<String> {
    let page = include_str!("../docs/authorizer.md");
    page.lines()
        .skip_while(|line| *line != "## Configuration")
        .skip_while(|line| !line.starts_with("| Variable"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            line.split('|')
                .nth(1)
                .unwrap()
                .trim()
                .trim_matches('`')
                .to_owned()
        })
        .collect()
}

#[test]
fn the_configuration_table_names_every_variable_the_authorizer_reads_and_no_other() {
    let asked = Mutex::new(BTreeSet::new());
    let lookup = |name: &str| {
        asked.lock().unwrap().insert(name.to_owned());
        match name {
            "AUTH_ISSUER" => Some("https://issuer.example".to_owned()),
            "AUTH_AUDIENCE" => Some("products".to_owned()),
            _ => None,
        }
    };
    let config = AuthConfig::from_lookup(lookup).expect("a minimal configuration");
    preloaded_keys(&config, lookup).expect("no preloaded keys");
    let mut read = asked.into_inner().unwrap();
    read.extend(READ_BY_THE_BINARY.map(str::to_owned));
    assert_eq!(documented_variables(), read);
}
