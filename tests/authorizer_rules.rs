//! CEL rules through whole authorizer events: the issuer rule (`AUTH_RULE`) refuses with 401,
//! a route's `x-authorizer-rule` denies with 403, on REST `TOKEN` and `REQUEST` events and HTTP
//! API payloads 1.0 and 2.0; a field the event does not carry never matches.
#![cfg(feature = "rules")]

mod support;

use jsonwebtoken::Algorithm;
use jwt_scopes_api::authorizer::Outcome;
use jwt_scopes_api::metrics::Invocation;
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::{Authorizer, AuthorizerError};
use serde_json::{Value, json};
use support::{TestKey, authorizer, claims, now, token_event};

const SECRET: &str = "an-hmac-secret-of-at-least-32-bytes!";
const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:api1234567/prod";

/// One route per tenant's orders: `orders:read` and the token's tenant must be the path's; and
/// a search whose tenant comes from the query string.
const DOCUMENT: &str = r#"{"openapi": "3.1.0",
  "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
  "paths": {
    "/tenants/{tenantId}/orders": {"get": {"security": [{"o": ["orders:read"]}],
      "x-authorizer-rule": "claims.tenant == request.pathParameters.tenantId"}},
    "/search": {"get": {"security": [{"o": ["orders:read"]}],
      "x-authorizer-rule": "request.query.tenant == claims.tenant"}},
    "/ping": {"get": {"security": [{"o": []}],
      "x-authorizer-rule": "request.sourceIp.startsWith(\"10.\")"}},
    "/products": {"get": {"security": [{"o": ["orders:read"]}]}}}}"#;

fn rules_authorizer(issuer_rule: Option<&str>) -> Authorizer {
    authorizer_answering("simple", issuer_rule)
}

/// The authorizer of [`DOCUMENT`] answering HTTP API 2.0 events in `response` form.
fn authorizer_answering(response: &str, issuer_rule: Option<&str>) -> Authorizer {
    let mut vars = vec![
        ("AUTH_ISSUER", "internal".to_owned()),
        ("AUTH_AUDIENCE", "products-api".to_owned()),
        ("AUTH_HMAC_SECRET", SECRET.to_owned()),
        ("AUTH_RESPONSE", response.to_owned()),
        ("AUTH_ROUTES", DOCUMENT.to_owned()),
    ];
    vars.extend(issuer_rule.map(|r| ("AUTH_RULE", r.to_owned())));
    authorizer(&vars)
}

fn token(extra: Value) -> String {
    let base = json!({"scope": "orders:read", "tenant": "a"});
    let mut all = base.as_object().unwrap().clone();
    all.extend(extra.as_object().unwrap().clone());
    TestKey::hmac(Algorithm::HS256, SECRET).sign(&claims("internal", Value::Object(all)))
}

/// A REST `REQUEST` event, or HTTP API payload `version` "1.0" / "2.0".
fn request_event(version: Option<&str>, token: &str, path: &str, query: Value) -> String {
    let ip = "10.0.0.7";
    let mut event = json!({
        "type": "REQUEST",
        "headers": {"Authorization": format!("Bearer {token}")},
        "queryStringParameters": query,
    });
    match version {
        Some("2.0") => {
            event["version"] = json!("2.0");
            event["routeArn"] = json!(format!("{ARN}/GET{path}"));
            event["requestContext"] = json!({"http": {"method": "GET", "sourceIp": ip}});
        }
        other => {
            if let Some(v) = other {
                event["version"] = json!(v);
            }
            event["methodArn"] = json!(format!("{ARN}/GET{path}"));
            event["requestContext"] = json!({"identity": {"sourceIp": ip}});
        }
    }
    event.to_string()
}

async fn reason(authorizer: &Authorizer, event: &str) -> (Outcome, Reason) {
    let decision = authorizer
        .decide_json(event, now(), Invocation::default())
        .await;
    (decision.outcome, decision.reason)
}

#[tokio::test]
async fn the_issuer_rule_refuses_with_401_and_its_own_reason() {
    let authorizer = rules_authorizer(Some(r#"claims.roles.exists(r, r == "admin")"#));
    let admin = token(json!({"roles": ["admin"]}));
    let user = token(json!({"roles": ["user"]}));
    let typo = token(json!({"roles": "admin"}));
    let event = |t: &str| token_event(t, "GET", "/products");
    assert_eq!(
        reason(&authorizer, &event(&admin)).await,
        (Outcome::Allow, Reason::Granted)
    );
    for refused in [&user, &typo] {
        assert_eq!(
            reason(&authorizer, &event(refused)).await,
            (Outcome::Unauthorized, Reason::IssuerRuleRefused)
        );
        let answer = authorizer.answer_json(&event(refused), now()).await;
        assert_eq!(answer.unwrap_err(), AuthorizerError::Unauthorized);
    }
}

#[tokio::test]
async fn a_path_parameter_rule_on_every_event_format() {
    let authorizer = rules_authorizer(None);
    let tenant_a = token(json!({}));
    for version in [None, Some("1.0"), Some("2.0")] {
        let event = |path: &str| request_event(version, &tenant_a, path, Value::Null);
        assert_eq!(
            reason(&authorizer, &event("/tenants/a/orders")).await,
            (Outcome::Allow, Reason::Granted),
            "{version:?}"
        );
        assert_eq!(
            reason(&authorizer, &event("/tenants/b/orders")).await,
            (Outcome::Deny, Reason::RouteRuleRefused),
            "{version:?}"
        );
    }
    // TOKEN events have path parameters too: they come from the route table's match.
    let token_a = |path: &str| token_event(&tenant_a, "GET", path);
    assert_eq!(
        reason(&authorizer, &token_a("/tenants/a/orders")).await,
        (Outcome::Allow, Reason::Granted)
    );
    assert_eq!(
        reason(&authorizer, &token_a("/tenants/b/orders")).await,
        (Outcome::Deny, Reason::RouteRuleRefused)
    );
    // Scopes first: without them the reason is the scope, not the rule.
    let unscoped = token(json!({"scope": "other"}));
    assert_eq!(
        reason(
            &authorizer,
            &token_event(&unscoped, "GET", "/tenants/a/orders")
        )
        .await,
        (Outcome::Deny, Reason::InsufficientScope)
    );
}

#[tokio::test]
async fn query_and_source_ip_rules_and_a_token_event_that_has_neither() {
    let authorizer = rules_authorizer(None);
    let tenant_a = token(json!({}));
    for version in [None, Some("1.0"), Some("2.0")] {
        let search = |query: Value| request_event(version, &tenant_a, "/search", query);
        assert_eq!(
            reason(&authorizer, &search(json!({"tenant": "a"}))).await,
            (Outcome::Allow, Reason::Granted),
            "{version:?}"
        );
        for other in [json!({"tenant": "b"}), json!({}), Value::Null] {
            assert_eq!(
                reason(&authorizer, &search(other.clone())).await,
                (Outcome::Deny, Reason::RouteRuleRefused),
                "{version:?} {other}"
            );
        }
        assert_eq!(
            reason(
                &authorizer,
                &request_event(version, &tenant_a, "/ping", Value::Null)
            )
            .await,
            (Outcome::Allow, Reason::Granted),
            "{version:?}"
        );
    }
    // A TOKEN event carries no query string and no source address: never a match.
    refused_on_token_events(&authorizer, &tenant_a, &["/search", "/ping"]).await;
}

/// `token`'s TOKEN events for each of `paths` are denied by the route's rule.
async fn refused_on_token_events(authorizer: &Authorizer, token: &str, paths: &[&str]) {
    for path in paths {
        assert_eq!(
            reason(authorizer, &token_event(token, "GET", path)).await,
            (Outcome::Deny, Reason::RouteRuleRefused),
            "TOKEN {path}"
        );
    }
}

/// The HTTP API simple response follows the rule: `isAuthorized` false on another tenant.
#[tokio::test]
async fn a_simple_response_follows_the_route_rule() {
    let authorizer = rules_authorizer(None);
    let tenant_a = token(json!({}));
    for (path, expected) in [("/tenants/a/orders", true), ("/tenants/b/orders", false)] {
        let event = request_event(Some("2.0"), &tenant_a, path, Value::Null);
        let answer =
            serde_json::to_value(authorizer.answer_json(&event, now()).await.unwrap()).unwrap();
        assert_eq!(answer["isAuthorized"], expected, "{path}");
    }
}

/// Cache safety: API Gateway caches a policy by token and reuses it on other routes (and, for a
/// TOKEN authorizer, on every path), so a tenant-A token's policy, whatever it asked for and in
/// every policy format, must never let through tenant B's path, as IAM evaluates it. Its own
/// tenant's path is allowed by that ARN only, never by `/tenants/*`.
#[tokio::test]
async fn a_tenant_a_policy_never_covers_tenant_b() {
    let iam = authorizer_answering("iam", None);
    let tenant_a = token(json!({}));
    let tenant_b = format!("{ARN}/GET/tenants/b/orders");
    for path in [
        "/tenants/a/orders",
        "/tenants/b/orders",
        "/products",
        "/search",
    ] {
        for version in [None, Some("1.0"), Some("2.0")] {
            let event = request_event(version, &tenant_a, path, json!({"tenant": "a"}));
            let policy =
                serde_json::to_value(iam.answer_json(&event, now()).await.unwrap()).unwrap();
            assert!(
                !support::iam::allows(&policy, &tenant_b),
                "{version:?} {path}: {policy}"
            );
            let own = format!("{ARN}/GET{path}");
            let expected = path != "/tenants/b/orders";
            assert_eq!(
                support::iam::allows(&policy, &own),
                expected,
                "{version:?} {path}: {policy}"
            );
        }
        let policy = iam
            .answer_json(&token_event(&tenant_a, "GET", path), now())
            .await
            .unwrap();
        let policy = serde_json::to_value(policy).unwrap();
        assert!(
            !support::iam::allows(&policy, &tenant_b),
            "TOKEN {path}: {policy}"
        );
        let resources = policy["policyDocument"]["Statement"].to_string();
        assert!(!resources.contains("/tenants/*"), "TOKEN {path}: {policy}");
    }
}

/// A route whose rule reads a header, under names lower-cased whatever case the client sent, on
/// REST `REQUEST` and HTTP API 1.0 and 2.0 events; a `TOKEN` event has no headers, so the rule
/// refuses there, negated or not: the missing field is never a match.
#[tokio::test]
async fn a_header_rule_on_request_events_and_never_on_a_token_event() {
    let document = r#"{"openapi": "3.1.0",
      "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
      "paths": {
        "/reports": {"get": {"security": [{"o": ["orders:read"]}],
          "x-authorizer-rule": "request.headers[\"x-tenant\"] == claims.tenant"}},
        "/open": {"get": {"security": [{"o": ["orders:read"]}],
          "x-authorizer-rule": "request.headers[\"x-tenant\"] != \"blocked\""}}}}"#;
    let authorizer = authorizer(&[
        ("AUTH_ISSUER", "internal".to_owned()),
        ("AUTH_AUDIENCE", "products-api".to_owned()),
        ("AUTH_HMAC_SECRET", SECRET.to_owned()),
        ("AUTH_ROUTES", document.to_owned()),
    ]);
    let tenant_a = token(json!({}));
    for version in [None, Some("1.0"), Some("2.0")] {
        let event = |path: &str, header: Option<(&str, &str)>| {
            let mut event: Value =
                serde_json::from_str(&request_event(version, &tenant_a, path, Value::Null))
                    .unwrap();
            if let Some((name, value)) = header {
                event["headers"][name] = json!(value);
            }
            event.to_string()
        };
        for name in ["X-Tenant", "x-tenant"] {
            assert_eq!(
                reason(&authorizer, &event("/reports", Some((name, "a")))).await,
                (Outcome::Allow, Reason::Granted),
                "{version:?} {name}"
            );
            assert_eq!(
                reason(&authorizer, &event("/reports", Some((name, "b")))).await,
                (Outcome::Deny, Reason::RouteRuleRefused),
                "{version:?} {name}"
            );
        }
        assert_eq!(
            reason(&authorizer, &event("/reports", None)).await,
            (Outcome::Deny, Reason::RouteRuleRefused),
            "{version:?}: no such header"
        );
        assert_eq!(
            reason(&authorizer, &event("/open", Some(("X-Tenant", "x")))).await,
            (Outcome::Allow, Reason::Granted),
            "{version:?}"
        );
    }
    refused_on_token_events(&authorizer, &tenant_a, &["/reports", "/open"]).await;
}
