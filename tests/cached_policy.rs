//! The property a policy exists for (issue 22; SECURITY.md, "Cached policies"): API Gateway
//! caches the authorizer's policy for a token and applies it to the token's later requests on
//! every route, so no policy may let through a request the route table refuses to that token,
//! whatever the request that produced it held: `*`, `?`, their percent-encodings, empty
//! segments, a trailing slash, odd case.
//!
//! Random route tables (nested, parameterized, greedy and `ANY` routes), random scope sets,
//! random request paths, and every event format that answers with a policy (REST `TOKEN` and
//! `REQUEST`, HTTP API payload 1.0, payload 2.0 with `AUTH_RESPONSE=iam`). Each policy is
//! evaluated as IAM does ([`support::iam`]) against requests to every route of the table; the
//! table's own verdict on a request comes from the decision's reason for a payload 2.0 simple
//! answer, which holds no policy. Requests the table routes nowhere are outside the property:
//! any parameter's `*` reaches paths a document does not list (SECURITY.md, "Routes the
//! document does not list"). Routes may carry a CEL rule (`x-authorizer-rule`): one reading the
//! request (a path parameter against a claim, as for tenant isolation, or the path), decided per
//! request, or one reading only the claims, passing or failing for the token; a refusal by a rule
//! is a refusal like any other. `cargo test` runs a bounded number of cases; `scripts/fuzz.sh` runs many more
//! (`PROPTEST_CASES`).

mod support;

use jsonwebtoken::Algorithm;
use jwt_scopes_api::metrics::Invocation;
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::{AuthConfig, Authorizer};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use support::{TestKey, claims, now};

const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";
const STAGE: &str = "arn:aws:execute-api:eu-west-1:123456789012:api1234567/prod";
const SCOPES: [&str; 3] = ["s0", "s1", "s2"];
const METHODS: [&str; 3] = ["GET", "POST", "DELETE"];
/// Literal segments of route templates and of requests.
const WORDS: [&str; 3] = ["a", "b", "items"];
/// What a client can put in a path segment, besides the words.
const ODD: [&str; 8] = ["*", "?", "%2A", "%3f", "a*", "", "A", "x"];

/// One route of a random table.
#[derive(Clone, Debug)]
struct RouteSpec {
    method: &'static str,
    /// `None` a parameter, else a literal word.
    segments: Vec<Option<&'static str>>,
    greedy: bool,
    scopes: Vec<&'static str>,
    rule: Option<RuleSpec>,
}

/// A route's rule, for a token whose claim `t` is `"a"`.
#[derive(Clone, Copy, Debug)]
enum RuleSpec {
    /// Reads the request: its first parameter must be the token's `t` (the path must end in
    /// `a` when it has none).
    Request,
    /// Reads only the claims, and passes the token.
    Passing,
    /// Reads only the claims, and refuses the token.
    Failing,
}

impl RouteSpec {
    fn template(&self) -> String {
        let mut path: String = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| s.map_or_else(|| format!("/{{p{i}}}"), |w| format!("/{w}")))
            .collect();
        if self.greedy {
            path.push_str("/{rest+}");
        }
        path
    }

    /// The rule's CEL text.
    fn rule(&self) -> Option<String> {
        Some(match self.rule? {
            RuleSpec::Request => match self.segments.iter().position(Option::is_none) {
                Some(i) => format!("claims.t == request.pathParameters.p{i}"),
                None => r#"request.path.endsWith("a")"#.to_owned(),
            },
            RuleSpec::Passing => r#"claims.t == "a""#.to_owned(),
            RuleSpec::Failing => r#"claims.t == "b""#.to_owned(),
        })
    }
}

fn rule() -> impl Strategy<Value = Option<RuleSpec>> {
    prop_oneof![
        3 => Just(None),
        2 => Just(Some(RuleSpec::Request)),
        1 => Just(Some(RuleSpec::Passing)),
        1 => Just(Some(RuleSpec::Failing)),
    ]
}

fn route() -> impl Strategy<Value = RouteSpec> {
    let segment = prop_oneof![
        Just(None),
        proptest::sample::select(&WORDS[..]).prop_map(Some)
    ];
    (
        proptest::sample::select(&["GET", "POST", "ANY"][..]),
        proptest::collection::vec(segment, 1..4),
        proptest::bool::weighted(0.2),
        proptest::sample::subsequence(&SCOPES[..], 0..=2),
        rule(),
    )
        .prop_map(|(method, segments, greedy, scopes, rule)| RouteSpec {
            method,
            segments,
            greedy,
            scopes,
            rule,
        })
}

fn request_path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        proptest::sample::select(&WORDS[..]),
        proptest::sample::select(&ODD[..])
    ];
    (
        proptest::collection::vec(segment, 1..5),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(segments, slash)| {
            let mut path: String = segments.iter().map(|s| format!("/{s}")).collect();
            if slash {
                path.push('/');
            }
            path
        })
}

/// The OpenAPI document of `routes`: each route its own scopes (all of them), or any valid token
/// when it lists none.
fn document(routes: &[RouteSpec]) -> String {
    let mut paths = Map::new();
    for route in routes {
        let item = paths.entry(route.template()).or_insert_with(|| json!({}));
        let method = match route.method {
            "ANY" => "x-amazon-apigateway-any-method".to_owned(),
            method => method.to_ascii_lowercase(),
        };
        item[&method] = json!({"security": [{"oauth": route.scopes}]});
        if let Some(rule) = route.rule() {
            item[&method]["x-authorizer-rule"] = json!(rule);
        }
    }
    json!({
        "openapi": "3.1.0",
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {}}}},
        "paths": paths,
    })
    .to_string()
}

/// The authorizer for a table (`None`: the compiled one); `None` for a table the router cannot
/// hold (two templates that differ only in parameter names, say), which fails the cold start.
fn guarded(document: Option<&str>, response: &str) -> Option<Authorizer> {
    let var = |name: &str| match name {
        "AUTH_ISSUER" => Some("internal".to_owned()),
        "AUTH_AUDIENCE" => Some("products-api".to_owned()),
        "AUTH_HMAC_SECRET" => Some(SECRET.to_owned()),
        "AUTH_ROUTES" => document.map(str::to_owned),
        "AUTH_RESPONSE" => Some(response.to_owned()),
        _ => None,
    };
    AuthConfig::from_lookup(var).ok().map(Authorizer::new)
}

/// Requests to every route of a table of `templates`, each parameter plain (the token's `t` or
/// another) or a wildcard, on every method.
fn requests_to(templates: impl IntoIterator<Item = String>) -> Vec<(&'static str, String)> {
    let mut requests = Vec::new();
    for template in templates {
        for value in ["a", "x", "*", "?", "%2A"] {
            let mut path = String::new();
            for segment in template.split('/').skip(1) {
                path.push('/');
                match segment.strip_suffix("+}") {
                    Some(_) => path.push_str(&format!("{value}/items/{value}")),
                    None if segment.starts_with('{') => path.push_str(value),
                    None => path.push_str(segment),
                }
            }
            requests.extend(METHODS.map(|method| (method, path.clone())));
        }
    }
    requests
}

/// An event of `format` for `method path`, the path as API Gateway puts it into the ARN.
fn event(format: &str, token: &str, method: &str, path: &str) -> String {
    let arn = format!("{STAGE}/{method}{path}");
    let bearer = format!("Bearer {token}");
    match format {
        "TOKEN" => json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": arn}),
        "REQUEST" => json!({"type": "REQUEST", "methodArn": arn, "httpMethod": method,
            "path": path, "headers": {"Authorization": bearer}}),
        "1.0" => json!({"version": "1.0", "type": "REQUEST", "methodArn": arn,
            "identitySource": bearer, "httpMethod": method, "path": path,
            "headers": {"authorization": bearer}}),
        _ => json!({"version": "2.0", "type": "REQUEST", "routeArn": arn,
            "identitySource": [bearer], "rawPath": path, "headers": {"authorization": bearer}}),
    }
    .to_string()
}

/// The table's verdict on `method path` for `token`: granted, refused, or routed nowhere.
async fn verdict(table: &Authorizer, token: &str, method: &str, path: &str) -> Reason {
    let event = event("2.0", token, method, path);
    table
        .decide_json(&event, now(), Invocation::default())
        .await
        .reason
}

async fn answer(authorizer: &Authorizer, event: &str) -> Value {
    let answer = authorizer.answer_json(event, now()).await.unwrap();
    serde_json::to_value(answer).unwrap()
}

/// Checks the policies for `asked` against every request of `later` (and `asked`), for a token
/// holding `granted`, under the table of `document` (`None`: the compiled one).
fn check(
    document: Option<&str>,
    granted: &[&str],
    asked: &[(&'static str, String)],
    mut later: Vec<(&'static str, String)>,
) -> Result<(), TestCaseError> {
    let (Some(iam), Some(table)) = (guarded(document, "iam"), guarded(document, "simple")) else {
        return Ok(());
    };
    let document = document.unwrap_or("the compiled table");
    let token = TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims(
        "internal",
        json!({"scope": granted.join(" "), "t": "a"}),
    ));
    later.extend(asked.iter().cloned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut refused = Vec::new();
        for (method, path) in &later {
            let reason = verdict(&table, &token, method, path).await;
            refused.push([Reason::InsufficientScope, Reason::RouteRuleRefused].contains(&reason));
        }
        for (method, path) in asked {
            for format in ["TOKEN", "REQUEST", "1.0", "2.0"] {
                let policy = answer(&iam, &event(format, &token, method, path)).await;
                let own = format!("{STAGE}/{method}{path}");
                let honest = !path.contains(['*', '?']);
                let permitted = verdict(&table, &token, method, path).await == Reason::Granted;
                if honest && permitted {
                    prop_assert!(
                        support::iam::allows(&policy, &own),
                        "{format} {method} {path} is permitted but its own policy refuses it: \
                         {policy}\n{document}"
                    );
                }
                for ((next_method, next), refused) in later.iter().zip(&refused) {
                    let arn = format!("{STAGE}/{next_method}{next}");
                    prop_assert!(
                        !refused || !support::iam::allows(&policy, &arn),
                        "the policy of {format} {method} {path} with {granted:?} lets \
                         {next_method} {next} through: {policy}\n{document}"
                    );
                }
            }
        }
        Ok(())
    })
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn no_cached_policy_lets_a_token_through_a_route_the_table_refuses_it() {
    let mut runner = TestRunner::new(Config {
        cases: cases(96),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(route(), 1..6),
        proptest::sample::subsequence(&SCOPES[..], 0..=3),
        proptest::collection::vec(
            (proptest::sample::select(&METHODS[..]), request_path()),
            1..3,
        ),
        proptest::collection::vec(any::<proptest::sample::Index>(), 2),
    );
    runner
        .run(&strategy, |(routes, granted, mut asked, picks)| {
            let later = requests_to(routes.iter().map(RouteSpec::template));
            // Requests to the table's own routes too, wildcards in their parameters.
            asked.extend(picks.iter().map(|pick| pick.get(&later).clone()));
            check(Some(&document(&routes)), &granted, &asked, later)
        })
        .unwrap();
}

/// The issue's example, every event format and encoding: a token that may read orders asks for
/// `GET /orders/*`; its cached policy must not open `GET /orders/o-1/items/7`.
#[test]
fn the_reported_wildcard_request_widens_nothing() {
    let orders = |segments: Vec<Option<&'static str>>, scopes| RouteSpec {
        method: "GET",
        segments,
        greedy: false,
        scopes,
        rule: None,
    };
    let routes = [
        orders(vec![Some("a"), None], vec!["s0"]),
        orders(vec![Some("a"), None, Some("items"), None], vec!["s1"]),
    ];
    let asked = wildcards("/a/");
    let later = requests_to(routes.iter().map(RouteSpec::template));
    check(Some(&document(&routes)), &["s0"], &asked, later).unwrap();
}

/// `GET` of `prefix` followed by each wildcard and its percent-encoding, and a plain segment.
fn wildcards(prefix: &str) -> Vec<(&'static str, String)> {
    ["*", "?", "%2A", "%3F", "x*y", "x"]
        .into_iter()
        .map(|w| ("GET", format!("{prefix}{w}")))
        .collect()
}

/// The compiled table, every event format: wildcards in a product's name widen nothing, for
/// every grant.
#[test]
fn wildcards_against_the_compiled_table_widen_nothing() {
    let templates = jwt_scopes_api::ROUTES.iter().map(|r| r.path.to_owned());
    let later = requests_to(templates);
    let mut asked = wildcards("/product/");
    asked.extend(wildcards("/products/"));
    let grants: [&[&str]; 4] = [&[], &["read:products"], &["write:products"], &["openid"]];
    for granted in grants {
        check(None, granted, &asked, later.clone()).unwrap();
    }
}

/// Tenant isolation through a cached policy (issue 25): `/b/{p1}/items` is a tenant's items,
/// `claims.t == request.pathParameters.p1`, under `/b/{p1}` with the same scopes and no rule,
/// whose resource `/b/*` reaches it. A tenant-`a` token's policy, whatever it asked for (its own
/// items, another tenant's, the tenant itself, wildcards), never lets through another tenant's
/// items, and lets through its own only by their ARN.
#[cfg(feature = "rules")]
#[test]
fn a_tenant_a_policy_never_covers_tenant_b() {
    let route = |segments: Vec<Option<&'static str>>, rule| RouteSpec {
        method: "GET",
        segments,
        greedy: false,
        scopes: vec!["s0"],
        rule,
    };
    let routes = [
        route(vec![Some("b"), None], None),
        route(
            vec![Some("b"), None, Some("items")],
            Some(RuleSpec::Request),
        ),
    ];
    let mut asked = wildcards("/b/");
    asked.extend(["/b/a/items", "/b/x/items", "/b/*/items"].map(|p| ("GET", p.to_owned())));
    let later = requests_to(routes.iter().map(RouteSpec::template));
    check(Some(&document(&routes)), &["s0"], &asked, later).unwrap();
}
