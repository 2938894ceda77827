//! IAM's evaluation of an authorizer policy, small enough to check by eye, for tests that ask
//! what API Gateway would do with a (cached) policy.
//!
//! AWS IAM User Guide, "IAM JSON policy elements: Resource": a resource may hold the wildcards
//! `*` (any run of characters, `/` included) and `?` (any one character). "Policy evaluation
//! logic": an explicit `Deny` overrides any `Allow`; without an `Allow` the request is denied.

use serde_json::Value;

/// Whether IAM's `pattern` (a policy resource) matches the literal `arn` (a request's ARN,
/// whose own `*` and `?` are plain characters).
pub fn matches(pattern: &[u8], arn: &[u8]) -> bool {
    match (pattern.split_first(), arn.split_first()) {
        (None, _) => arn.is_empty(),
        (Some((b'*', rest)), _) => (0..=arn.len()).any(|skip| matches(rest, &arn[skip..])),
        (Some(_), None) => false,
        (Some((&p, rest)), Some((&a, tail))) => (p == b'?' || p == a) && matches(rest, tail),
    }
}

/// Whether an authorizer answer's policy lets the caller invoke `arn`.
pub fn allows(answer: &Value, arn: &str) -> bool {
    let statements = answer["policyDocument"]["Statement"].as_array().unwrap();
    let reaches = |effect: &str| {
        statements.iter().any(|s| {
            s["Effect"] == effect
                && s["Action"]
                    .as_array()
                    .unwrap()
                    .contains(&"execute-api:Invoke".into())
                && s["Resource"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| matches(r.as_str().unwrap().as_bytes(), arn.as_bytes()))
        })
    };
    reaches("Allow") && !reaches("Deny")
}
