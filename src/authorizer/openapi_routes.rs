//! The authorizer's route table: the compiled-in one ([`crate::routes::ROUTES`]), or one read
//! from any API's OpenAPI 3.x document (`AUTH_ROUTES`), so the authorizer can guard an API it
//! was not built for.
//!
//! A document is read into a small model of only what decides access: each path's operations
//! and their `security`, the top-level `security`, and `components.securitySchemes`. OpenAPI's
//! rules (3.1 §4.8.10 Operation, §4.8.30 Security Requirement) map onto [`Access`]: the list is
//! alternatives (any of them), the scopes within one requirement object are all needed, an
//! operation without its own `security` takes the document's, `security: []` (or an empty object
//! `{}` among the alternatives) makes it public, and a scheme listed with no scopes asks for a
//! valid token only. Nothing is allowed by omission: an operation with no requirement at all, a
//! scheme not declared, a path the router cannot hold, or a duplicate route fails the cold start.
//!
//! API Gateway's `x-amazon-apigateway-any-method` (its catch-all `ANY`, which "catches any HTTP
//! method that wasn't explicitly declared" on the path item: AWS API Gateway developer guide,
//! OpenAPI extensions) is read as an operation like the others, with its own or the document's
//! `security`; it becomes an [`ANY`] route, which the path's declared methods take precedence
//! over.
//!
//! Paths are matched as API Gateway reports them in the method ARN: the resource path, without
//! the stage or a server's base path. A document whose `servers` carry a base path must list its
//! paths as deployed.

use crate::authorizer::rules::{Scope, SharedRule};
use crate::routes::{ANY, ROUTES, RouteKey, RouteTable, TableError, methods_served};
use crate::scopes::{Access, ScopeNames};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// One route as the authorizer needs it: method, path template, and who may call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRule {
    /// HTTP method, upper case, or [`ANY`].
    pub method: String,
    /// Path template in API Gateway syntax.
    pub path: String,
    /// What the caller's scopes must satisfy, in the issuer's spelling.
    pub access: Access,
    /// The other routes (indexes into the table) with another requirement whose requests this
    /// route's policy resource also matches. IAM's `*` crosses `/`: the resource of
    /// `GET /orders/{id}` (`.../GET/orders/*`) also matches `/orders/7/items/1`. A policy that
    /// allows this route denies those its token may not call (the authorizer's `policy` module).
    /// Empty for every route of the compiled table. Filled in when the table is built.
    pub covers: Vec<usize>,
    /// The routes whose resource matches this route's requests: the reverse of
    /// [`Self::covers`].
    pub covered_by: Vec<usize>,
    /// The operation's `x-authorizer-rule`: a CEL rule over `header`, `claims` and `request`,
    /// applied once `access` is met; a request it does not pass is denied (403). Part of the
    /// route's requirement: two routes that differ only in it cover each other like two routes
    /// with different scopes.
    pub rule: Option<SharedRule>,
}

impl RouteKey for AccessRule {
    fn method(&self) -> &str {
        &self.method
    }
    fn path(&self) -> &str {
        &self.path
    }
}

/// The table the authorizer decides and lists policies with.
pub type AccessTable = RouteTable<AccessRule>;

/// The compiled-in table, its scopes spelled as `names` says (`SCOPE_NAMES`).
pub fn compiled(names: &ScopeNames) -> AccessTable {
    let rules = ROUTES
        .iter()
        .map(|route| AccessRule {
            method: route.method.to_owned(),
            path: route.path.to_owned(),
            access: route.requirement.access(names),
            covers: Vec::new(),
            covered_by: Vec::new(),
            rule: None,
        })
        .collect();
    table(rules).expect("the compiled route table is valid")
}

/// The table of `rules`, each rule's [`AccessRule::covers`] and [`AccessRule::covered_by`]
/// filled in from the other rows with another requirement that serve one of its methods
/// ([`methods_served`]: an `ANY` row only those its path does not declare) on a path its
/// resource matches.
fn table(mut rules: Vec<AccessRule>) -> Result<AccessTable, TableError> {
    let methods: Vec<Vec<&str>> = rules
        .iter()
        .map(|row| methods_served(&rules, row))
        .collect();
    let mut pairs = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        for (j, other) in rules.iter().enumerate() {
            if (other.access != rule.access || other.rule != rule.rule)
                && methods[j].iter().any(|m| methods[i].contains(m))
                && resource_matches(&rule.path, &other.path)
            {
                pairs.push((i, j));
            }
        }
    }
    for (i, j) in pairs {
        rules[i].covers.push(j);
        rules[j].covered_by.push(i);
    }
    RouteTable::new(rules)
}

/// One segment of a path, for [`resource_matches`]: one segment (`None`: any), or any number.
#[derive(Clone, Copy, PartialEq)]
enum Segment<'a> {
    One(Option<&'a str>),
    Many,
}

/// Whether the policy resource of `template` (each `{param}` a `*`, which IAM lets match any
/// text, `/` included) matches some request path routed by `other`: its literal segments, one
/// segment per `{param}`, one or more per greedy `{proxy+}`. A parameter is taken to be able to
/// equal any literal, so the answer errs towards a match.
pub fn resource_matches(template: &str, other: &str) -> bool {
    meet(&segments(template, true), &segments(other, false))
}

/// A template's segments; `star_spans`: a parameter stands for the `*` of a policy resource,
/// one segment or more, rather than exactly one.
fn segments(path: &str, star_spans: bool) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for segment in path.split('/').skip(1) {
        if !segment.starts_with('{') {
            out.push(Segment::One(Some(segment)));
            continue;
        }
        out.push(Segment::One(None));
        if star_spans || segment.ends_with("+}") {
            out.push(Segment::Many);
        }
    }
    out
}

/// Whether two segment patterns match a common path. Paths have a handful of segments: the
/// recursion stays small.
fn meet(a: &[Segment<'_>], b: &[Segment<'_>]) -> bool {
    match (a.first(), b.first()) {
        (None, None) => true,
        (Some(Segment::Many), _) if meet(&a[1..], b) => true,
        (_, Some(Segment::Many)) if meet(a, &b[1..]) => true,
        (Some(Segment::Many), Some(Segment::One(_))) => meet(a, &b[1..]),
        (Some(Segment::One(_)), Some(Segment::Many)) => meet(&a[1..], b),
        (Some(Segment::One(x)), Some(Segment::One(y))) => {
            (x.is_none() || y.is_none() || x == y) && meet(&a[1..], &b[1..])
        }
        _ => false,
    }
}

/// Reads `AUTH_ROUTES`: an inline JSON or YAML document, or the path of one
/// ([`crate::env::inline_or_file`]).
pub fn load(value: &str) -> Result<AccessTable, String> {
    let text = crate::env::inline_or_file(value)?;
    let table = from_document(&text)?;
    log_cache_rules(&table);
    Ok(table)
}

/// Says once, at cold start, what a cached policy from a document relies on (SECURITY.md,
/// "Cached policies"): a `{param}`'s `*` also reaches paths the document does not list, and
/// routes whose resources reach each other get policies naming the requested ARN only.
fn log_cache_rules(table: &AccessTable) {
    tracing::info!(
        routes = table.routes().len(),
        "AUTH_ROUTES: the document must list every route this authorizer guards, or the \
         authorizer's cache TTL must be 0: a parameter's `*` in a cached policy also reaches \
         paths the document does not list"
    );
    let rows = table.routes();
    for row in rows
        .iter()
        .filter(|r| !r.covers.is_empty() && !r.covered_by.is_empty())
    {
        let reached = row
            .covers
            .iter()
            .map(|&j| format!("{} {}", rows[j].method, rows[j].path));
        tracing::warn!(
            route = %format!("{} {}", row.method, row.path),
            reaches = %reached.collect::<Vec<_>>().join(", "),
            "AUTH_ROUTES: this route's policy resource and others' reach each other; a token \
             that may call one but not another gets a policy naming the requested ARN only, \
             which a cache TTL above 0 reuses on that route's other paths as a 403"
        );
    }
}

/// The table of a document's operations (JSON, or YAML with the `yaml` feature).
pub fn from_document(text: &str) -> Result<AccessTable, String> {
    let document: Document = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON document: {e}"))?
    } else {
        parse_yaml(text)?
    };
    if !document.openapi.starts_with("3.") {
        return Err(format!(
            "openapi {:?}: only OpenAPI 3.x documents are read",
            document.openapi
        ));
    }
    let schemes = &document.components.security_schemes;
    for (i, (name, _)) in schemes.0.iter().enumerate() {
        if schemes.0[..i].iter().any(|(other, _)| other == name) {
            return Err(format!("security scheme {name:?} is declared twice"));
        }
    }
    let mut rules = Vec::new();
    for (path, item) in &document.paths.0 {
        if !path.starts_with('/') {
            return Err(format!("{path:?}: a path must start with /"));
        }
        if path.contains(['*', '?']) {
            return Err(format!(
                "{path}: `*` and `?` in a path would be wildcards in the policy's resources"
            ));
        }
        if item.reference.is_some() {
            return Err(format!("{path}: a path item $ref is not followed"));
        }
        for (method, operation) in item.operations() {
            let route = format!("{method} {path}");
            let security = operation
                .security
                .as_ref()
                .or(document.security.as_ref())
                .ok_or_else(|| format!("{route}: no security requirement"))?;
            let access = access(security, schemes).map_err(|e| format!("{route}: {e}"))?;
            let rule = operation.rule.as_deref().map(|source| {
                SharedRule::compile(source, Scope::Route).map_err(|e| {
                    let name = operation.operation_id.as_deref().unwrap_or(&route);
                    format!("{name}: x-authorizer-rule: {e}")
                })
            });
            rules.push(AccessRule {
                method: method.to_owned(),
                path: path.clone(),
                access,
                covers: Vec::new(),
                covered_by: Vec::new(),
                rule: rule.transpose()?,
            });
        }
    }
    if rules.is_empty() {
        return Err("the document lists no operation".into());
    }
    table(rules).map_err(|e| e.to_string())
}

#[cfg(feature = "yaml")]
fn parse_yaml(text: &str) -> Result<Document, String> {
    serde_norway::from_str(text).map_err(|e| format!("invalid YAML document: {e}"))
}

#[cfg(not(feature = "yaml"))]
fn parse_yaml(_: &str) -> Result<Document, String> {
    Err("not JSON, and this build reads no YAML (cargo feature `yaml`)".into())
}

/// One operation's `security` list as [`Access`]. A requirement object naming a scheme that is
/// not a bearer token (`apiKey`, HTTP `basic`, `mutualTLS`) is an alternative this authorizer
/// cannot check, so it never allows through it; an operation left with no alternative it can
/// check is refused at cold start rather than denied at every call.
fn access(security: &[Pairs<Vec<String>>], schemes: &Pairs<Scheme>) -> Result<Access, String> {
    if security.is_empty() {
        return Ok(Access::Public);
    }
    let mut sets = Vec::new();
    let mut public = false;
    for object in security {
        let mut all: Vec<String> = Vec::new();
        let mut checkable = true;
        for (name, scopes) in &object.0 {
            let scheme = schemes
                .get(name)
                .ok_or_else(|| format!("unknown security scheme {name:?}"))?;
            checkable &= scheme.is_bearer_token();
            for scope in scopes {
                if scope.is_empty() || scope.contains(char::is_whitespace) {
                    return Err(format!("scope {scope:?} is empty or holds white space"));
                }
                if !all.contains(scope) {
                    all.push(scope.clone());
                }
            }
        }
        public |= object.0.is_empty();
        if checkable {
            sets.push(all);
        }
    }
    if public {
        return Ok(Access::Public);
    }
    if sets.is_empty() {
        return Err("no security requirement this authorizer can check (a bearer token: oauth2, openIdConnect or http bearer)".into());
    }
    Ok(Access::AnyOf(sets))
}

/// The parts of an OpenAPI document that decide access; everything else is ignored.
#[derive(Deserialize)]
struct Document {
    openapi: String,
    #[serde(default)]
    security: Option<Vec<Pairs<Vec<String>>>>,
    #[serde(default)]
    paths: Pairs<PathItem>,
    #[serde(default)]
    components: Components,
}

#[derive(Default, Deserialize)]
struct Components {
    #[serde(default, rename = "securitySchemes")]
    security_schemes: Pairs<Scheme>,
}

#[derive(Deserialize)]
struct Scheme {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    scheme: Option<String>,
}

impl Scheme {
    /// Whether the scheme is a bearer token this authorizer verifies.
    fn is_bearer_token(&self) -> bool {
        match self.kind.as_str() {
            "oauth2" | "openIdConnect" => true,
            "http" => self
                .scheme
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer")),
            _ => false,
        }
    }
}

#[derive(Deserialize)]
struct PathItem {
    #[serde(rename = "$ref")]
    reference: Option<String>,
    get: Option<Operation>,
    put: Option<Operation>,
    post: Option<Operation>,
    delete: Option<Operation>,
    options: Option<Operation>,
    head: Option<Operation>,
    patch: Option<Operation>,
    trace: Option<Operation>,
    #[serde(rename = "x-amazon-apigateway-any-method")]
    any: Option<Operation>,
}

impl PathItem {
    fn operations(&self) -> impl Iterator<Item = (&'static str, &Operation)> {
        [
            ("GET", &self.get),
            ("PUT", &self.put),
            ("POST", &self.post),
            ("DELETE", &self.delete),
            ("OPTIONS", &self.options),
            ("HEAD", &self.head),
            ("PATCH", &self.patch),
            ("TRACE", &self.trace),
            (ANY, &self.any),
        ]
        .into_iter()
        .filter_map(|(method, operation)| operation.as_ref().map(|o| (method, o)))
    }
}

#[derive(Deserialize)]
struct Operation {
    #[serde(default)]
    security: Option<Vec<Pairs<Vec<String>>>>,
    #[serde(default, rename = "operationId")]
    operation_id: Option<String>,
    #[serde(default, rename = "x-authorizer-rule")]
    rule: Option<String>,
}

/// A JSON/YAML object kept as its entries in order, duplicates included: a map would keep only
/// the last of two equal keys, and a repeated security scheme or path must not quietly lose its
/// first entry.
struct Pairs<V>(Vec<(String, V)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<V> Pairs<V> {
    /// The first entry named `key`.
    fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Pairs(entries))
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document with one operation under `security` and the schemes `oauth` (oauth2) and
    /// `key` (apiKey).
    fn one(path: &str, operation: &str) -> Result<AccessTable, String> {
        from_document(&format!(
            r#"{{"openapi": "3.1.0",
                "components": {{"securitySchemes": {{
                    "oauth": {{"type": "oauth2", "flows": {{}}}},
                    "key": {{"type": "apiKey", "name": "x-api-key", "in": "header"}}}}}},
                "paths": {{"{path}": {{"get": {operation}}}}}}}"#
        ))
    }

    fn access_of(operation: &str) -> Result<Access, String> {
        one("/a", operation).map(|t| t.routes()[0].access.clone())
    }

    fn sets(sets: &[&[&str]]) -> Access {
        Access::AnyOf(
            sets.iter()
                .map(|s| s.iter().map(|x| x.to_string()).collect())
                .collect(),
        )
    }

    #[test]
    fn a_policy_resource_matches_the_paths_its_stars_can_cover() {
        // `*` matches across `/`: a shallower route's resource covers deeper paths.
        assert!(resource_matches(
            "/orders/{id}",
            "/orders/{id}/items/{item}"
        ));
        assert!(resource_matches("/orders/{id}", "/orders/{id}/items"));
        assert!(resource_matches("/orders/{id}", "/orders/latest"));
        assert!(resource_matches("/a/{x}/c", "/a/{y}/b/c"));
        assert!(resource_matches("/files/{proxy+}", "/files/{id}/meta"));
        assert!(resource_matches("/orders/{id}", "/orders/{proxy+}"));
        // A deeper resource never matches a shallower path, nor other literals.
        assert!(!resource_matches(
            "/orders/{id}/items/{item}",
            "/orders/{id}"
        ));
        assert!(!resource_matches("/orders/{id}", "/orders"));
        assert!(!resource_matches("/orders/{id}", "/users/{id}/orders"));
        assert!(!resource_matches("/product/{name}", "/products"));
        assert!(!resource_matches("/orders", "/orders/{id}"));
    }

    #[test]
    fn only_routes_whose_resource_reaches_another_access_carry_it() {
        let compiled = compiled(&ScopeNames::AsWritten);
        assert!(compiled.routes().iter().all(|r| r.covers.is_empty()));
        let table = from_document(
            r#"{"openapi": "3.1.0", "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
                "paths": {
                  "/orders/{id}": {"get": {"security": [{"o": ["a"]}]},
                                   "delete": {"security": [{"o": ["b"]}]}},
                  "/orders/{id}/items": {"get": {"security": [{"o": ["b"]}]},
                                         "post": {"security": [{"o": ["a"]}]}},
                  "/orders/{id}/notes": {"get": {"security": [{"o": ["a"]}]}}}}"#,
        )
        .unwrap();
        let covers = |method: &str, path: &str| {
            let rule = table.find(method, path).unwrap().route;
            let rows = rule.covers.iter().map(|&j| &table.routes()[j]);
            rows.map(|r| format!("{} {}", r.method, r.path))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            covers("GET", "/orders/1"),
            ["GET /orders/{id}/items"],
            "GET /orders/1/items needs b"
        );
        assert!(covers("DELETE", "/orders/1").is_empty(), "no other DELETE");
        assert!(covers("GET", "/orders/1/items").is_empty());
        let items = table.find("GET", "/orders/1/items").unwrap().route;
        assert_eq!(items.covered_by.len(), 1, "reached by GET /orders/{{id}}");
        assert!(covers("GET", "/orders/1/notes").is_empty());
    }

    #[test]
    fn security_lists_are_alternatives_of_all_of_sets() {
        let cases = [
            (
                r#"{"security": [{"oauth": ["a", "b"]}]}"#,
                sets(&[&["a", "b"]]),
            ),
            (
                r#"{"security": [{"oauth": ["a"]}, {"oauth": ["b"]}]}"#,
                sets(&[&["a"], &["b"]]),
            ),
            (r#"{"security": [{"oauth": []}]}"#, sets(&[&[]])),
            (r#"{"security": []}"#, Access::Public),
            (r#"{"security": [{}, {"oauth": ["a"]}]}"#, Access::Public),
            (
                r#"{"security": [{"key": []}, {"oauth": ["a"]}]}"#,
                sets(&[&["a"]]),
            ),
            (
                r#"{"security": [{"key": [], "oauth": ["a"]}, {"oauth": ["b", "c"]}]}"#,
                sets(&[&["b", "c"]]),
            ),
        ];
        for (operation, expected) in cases {
            assert_eq!(access_of(operation), Ok(expected), "{operation}");
        }
    }

    #[test]
    fn an_operation_takes_the_document_security_unless_it_has_its_own() {
        let table = from_document(
            r#"{"openapi": "3.0.3", "security": [{"bearer": ["read"]}],
                "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "Bearer"}}},
                "paths": {"/a": {"get": {}, "post": {"security": []}}}}"#,
        )
        .unwrap();
        let rules = table.routes();
        assert_eq!(
            (rules[0].method.as_str(), &rules[0].access),
            ("GET", &sets(&[&["read"]]))
        );
        assert_eq!(
            (rules[1].method.as_str(), &rules[1].access),
            ("POST", &Access::Public)
        );
    }

    #[test]
    fn every_cold_start_error_names_the_operation() {
        let cases = [
            (
                one("/orders/{id}", "{}"),
                "GET /orders/{id}: no security requirement",
            ),
            (
                one("/a", r#"{"security": [{"oath": ["a"]}]}"#),
                "GET /a: unknown security scheme \"oath\"",
            ),
            (
                one("/a", r#"{"security": [{"key": []}]}"#),
                "GET /a: no security requirement this authorizer can check",
            ),
            (
                one("/a", r#"{"security": [{"oauth": ["read write"]}]}"#),
                "GET /a: scope \"read write\" is empty or holds white space",
            ),
            (
                one("/a/{x}{y}", r#"{"security": []}"#),
                "GET /a/{x}{y}: path template the router cannot hold",
            ),
            (
                one("a", r#"{"security": []}"#),
                "\"a\": a path must start with /",
            ),
        ];
        for (outcome, expected) in cases {
            let error = outcome.unwrap_err();
            assert!(error.starts_with(expected), "{error}");
        }
        let duplicate = from_document(
            r#"{"openapi": "3.1.0", "security": [],
                "paths": {"/o/{id}": {"get": {}}, "/o/{name}": {"get": {}}}}"#,
        );
        assert_eq!(
            duplicate.unwrap_err(),
            "GET /o/{name}: duplicate route (same as GET /o/{id})"
        );
        let repeated_key = from_document(
            r#"{"openapi": "3.1.0", "security": [], "paths": {"/o": {"get": {}}, "/o": {"get": {}}}}"#,
        );
        assert!(repeated_key.unwrap_err().contains("duplicate route"));
        let any = from_document(
            r#"{"openapi": "3.1.0", "paths": {"/a": {"x-amazon-apigateway-any-method": {}}}}"#,
        );
        assert_eq!(any.unwrap_err(), "ANY /a: no security requirement");
        let empty = from_document(r#"{"openapi": "3.1.0", "paths": {}}"#);
        assert_eq!(empty.unwrap_err(), "the document lists no operation");
        let swagger = from_document(r#"{"openapi": "2.0", "paths": {}}"#);
        assert!(swagger.unwrap_err().contains("only OpenAPI 3.x"));
        let reference = from_document(
            r#"{"openapi": "3.1.0", "paths": {"/o": {"$ref": "other.json#/paths/~1o"}}}"#,
        );
        assert!(reference.unwrap_err().contains("$ref is not followed"));
        let twice = from_document(
            r#"{"openapi": "3.1.0", "paths": {}, "components": {"securitySchemes":
                {"s": {"type": "apiKey"}, "s": {"type": "oauth2"}}}}"#,
        );
        assert!(twice.unwrap_err().contains("declared twice"));
    }

    #[cfg(feature = "rules")]
    #[test]
    fn route_rules_are_compiled_and_their_errors_name_the_operation() {
        let table = one(
            "/tenants/{tenantId}/orders",
            r#"{"security": [{"oauth": []}], "x-authorizer-rule": "claims.tenant == request.pathParameters.tenantId"}"#,
        )
        .unwrap();
        let rule = table.routes()[0].rule.as_ref().unwrap();
        assert!(rule.reads_request());
        assert!(
            compiled(&ScopeNames::AsWritten)
                .routes()
                .iter()
                .all(|r| r.rule.is_none())
        );
        let bad = one(
            "/a",
            r#"{"security": [], "x-authorizer-rule": "size(claims.roles)"}"#,
        );
        assert_eq!(
            bad.unwrap_err(),
            "GET /a: x-authorizer-rule: its result is never a boolean"
        );
        let named = one(
            "/a",
            r#"{"operationId": "listA", "security": [], "x-authorizer-rule": "token.sub == 1"}"#,
        );
        assert!(
            named
                .unwrap_err()
                .starts_with("listA: x-authorizer-rule: names the unknown variable `token`")
        );
    }

    /// A rule is part of a route's requirement: `/t/{id}` (no rule) reaches `/t/{id}/orders`
    /// (same scopes, a rule), so a policy listing the first must deal with the second.
    #[cfg(feature = "rules")]
    #[test]
    fn routes_that_differ_only_in_their_rule_cover_each_other() {
        let table = from_document(
            r#"{"openapi": "3.1.0", "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
                "security": [{"o": []}],
                "paths": {"/t/{id}": {"get": {}},
                  "/t/{id}/orders": {"get": {"x-authorizer-rule": "claims.t == request.pathParameters.id"}}}}"#,
        )
        .unwrap();
        assert_eq!(table.routes()[0].covers, [1]);
        assert_eq!(table.routes()[1].covered_by, [0]);
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn reads_yaml_inline_and_refuses_unreadable_files() {
        let table = load(
            "openapi: 3.1.0\nsecurity: [{oidc: [orders:read]}]\ncomponents:\n  securitySchemes:\n    oidc: {type: openIdConnect, openIdConnectUrl: https://id.example/.well-known/openid-configuration}\npaths:\n  /orders: {get: {}}\n",
        )
        .unwrap();
        assert_eq!(table.routes()[0].access, sets(&[&["orders:read"]]));
        assert!(
            load("/nonexistent/openapi.yaml")
                .unwrap_err()
                .starts_with("cannot read")
        );
    }
}
