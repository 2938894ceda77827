//! CEL rules (Common Expression Language, cel.dev): a boolean expression per issuer
//! (`AUTH_RULE`, `"rule"` in `AUTH_CONFIG`) over the token's `header` and `claims`, and per route
//! (`x-authorizer-rule` on an `AUTH_ROUTES` operation) over those and the `request`.
//!
//! Every expression is compiled once, at cold start, and checked there: its syntax, that it
//! names no variable but its own (`request` only in a route rule), and that its result is not
//! known to be something other than a boolean (`size(claims.roles)`). A result whose type is
//! known only at run time (`claims.sub`) refuses then. Per request a rule passes only on `true`:
//! `false`, another type, or an evaluation error refuse (fail closed).
//!
//! The evaluation is cel-rust's (the `cel` crate, feature `rules`), which follows the CEL
//! specification where oidc-authorizer's older `cel-interpreter` departs from it: an error on one
//! side of `||` is absorbed by `true` on the other (and of `&&` by `false`), `in` takes a list or
//! a map only, and `size()` of a string counts code points (langdef.md, "Logical Operators" and
//! "Functions"; tests below). docs/rules.md lists the variables and the migration from
//! oidc-authorizer's `TOKEN_VALIDATION_CEL`.
//!
//! Without the `rules` feature a configuration that sets a rule fails the cold start: [`Rule`] is
//! then a type with no value, so nothing downstream needs its own `cfg`.

use serde_json::{Map, Value};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Which variables a rule may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// An issuer rule: `header` and `claims`.
    Issuer,
    /// A route rule: `header`, `claims` and `request`.
    Route,
}

/// The request a route rule reads, as `request`. Fields an event does not carry are absent, never
/// empty, so that `request.query.tenant == claims.tenant` errors (and refuses) on a `TOKEN` event
/// rather than comparing with nothing.
#[derive(Clone, Debug, Default)]
pub struct RequestFacts<'a> {
    /// The method, upper case as API Gateway reports it.
    pub method: &'a str,
    /// The resource path as the route table matches it: no stage.
    pub path: &'a str,
    /// The route's `{param}` segments and their values ([`path_parameters`]).
    pub path_parameters: Vec<(&'a str, &'a str)>,
    /// The query string's single-value map; `None` for a `TOKEN` event.
    pub query: Option<&'a [(String, String)]>,
    /// The headers' single-value map, names lower-cased; `None` for a `TOKEN` event.
    pub headers: Option<&'a [(String, String)]>,
    /// The caller's address, where the event has one.
    pub source_ip: Option<&'a str>,
}

/// What a rule reads, as JSON maps: the local gateway's `explain`, and tests. A decision reads
/// the token once for all its rules instead (`TokenFacts`).
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The token's JOSE header, every field.
    pub header: &'a Map<String, Value>,
    /// The token's claims, every one.
    pub claims: &'a Map<String, Value>,
    /// The request, for a route rule.
    pub request: Option<&'a RequestFacts<'a>>,
}

/// Why a rule refused. Says nothing of the values it read: claims stay out of the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The rule evaluated to `false`.
    False,
    /// The rule evaluated to something other than a boolean.
    NotBoolean,
    /// The evaluation failed (an absent field, a type error): the kind of error only.
    Error(&'static str),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::False => f.write_str("rule is false"),
            Refusal::NotBoolean => f.write_str("rule result is not a boolean"),
            Refusal::Error(kind) => write!(f, "rule evaluation failed: {kind}"),
        }
    }
}

/// The `{param}` segments of route `template` and their values in `path`, a path the template
/// matched; a greedy `{proxy+}` takes the rest of the path, as API Gateway's does.
pub fn path_parameters<'a>(template: &'a str, path: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut rest = path.strip_prefix('/').unwrap_or(path);
    for segment in template.split('/').skip(1) {
        let (value, tail) = rest.split_once('/').unwrap_or((rest, ""));
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(greedy) if greedy.ends_with('+') => {
                out.push((&greedy[..greedy.len() - 1], rest));
                return out;
            }
            Some(name) => out.push((name, value)),
            None => {}
        }
        rest = tail;
    }
    out
}

/// A compiled rule shared by the configuration that holds it, compared by its text: the
/// configuration types are `Clone` and `Eq`, a compiled program is neither.
#[derive(Clone, Debug)]
pub struct SharedRule(Arc<Rule>);

impl SharedRule {
    /// Compiles `source` for `scope` ([`Rule::compile`]).
    pub fn compile(source: &str, scope: Scope) -> Result<Self, String> {
        Rule::compile(source, scope).map(|rule| SharedRule(Arc::new(rule)))
    }
}

impl Deref for SharedRule {
    type Target = Rule;
    fn deref(&self) -> &Rule {
        &self.0
    }
}

impl PartialEq for SharedRule {
    fn eq(&self, other: &Self) -> bool {
        self.source() == other.source()
    }
}

impl Eq for SharedRule {}

#[cfg(feature = "rules")]
mod compiled;
#[cfg(feature = "rules")]
pub use compiled::{Needs, Rule, TokenFacts};

/// A rule: none can exist in a build without the `rules` feature.
#[cfg(not(feature = "rules"))]
#[derive(Debug)]
pub enum Rule {}

#[cfg(not(feature = "rules"))]
impl Rule {
    /// Refuses every expression: this build has no CEL.
    pub fn compile(_: &str, _: Scope) -> Result<Rule, String> {
        Err("this build has no CEL rules (cargo feature `rules`)".into())
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        match *self {}
    }

    /// Whether the rule reads `request`.
    pub fn reads_request(&self) -> bool {
        match *self {}
    }

    /// Whether the rule reads `request.query` or `request.headers`.
    pub fn reads_uncached_request(&self) -> bool {
        match *self {}
    }

    /// Whether the rule reads `request.headers`.
    pub fn reads_headers(&self) -> bool {
        match *self {}
    }

    /// Never called: there is no rule.
    pub fn check(&self, _: &Facts<'_>) -> Result<(), Refusal> {
        match *self {}
    }

    /// Never called: there is no rule.
    pub fn judge(&self, _: &TokenFacts, _: Option<&RequestFacts<'_>>) -> Result<(), Refusal> {
        match *self {}
    }
}

/// What the rules read of a token: nothing, there is no rule.
#[cfg(not(feature = "rules"))]
#[derive(Debug, Default)]
pub struct Needs {}

#[cfg(not(feature = "rules"))]
impl Needs {
    /// Never called: there is no rule.
    pub fn add(&mut self, rule: &Rule) {
        match *rule {}
    }
}

/// A token's facts: none without rules.
#[cfg(not(feature = "rules"))]
#[derive(Debug)]
pub enum TokenFacts {}

#[cfg(not(feature = "rules"))]
impl TokenFacts {
    /// Never called: no rule asks for facts.
    pub fn read(_: &str, _: &Needs) -> Result<Self, crate::token::TokenError> {
        Err(crate::token::TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_follow_the_template() {
        assert_eq!(
            path_parameters("/tenants/{tenantId}/orders/{id}", "/tenants/a/orders/7"),
            [("tenantId", "a"), ("id", "7")]
        );
        assert_eq!(
            path_parameters("/files/{proxy+}", "/files/a/b/c"),
            [("proxy", "a/b/c")]
        );
        assert!(path_parameters("/products", "/products").is_empty());
    }
}
