//! The authorizer's answers, in the shape each event format expects.
//!
//! Policies are the same for a token whatever route it asked for: `Allow` on every route its
//! scopes permit (from the route table), an explicit `Deny` on each route it may not call that
//! one of those resources also reaches (IAM's `*` crosses `/`), and a `Deny` on the requested
//! route when that one is not permitted. API Gateway caches a REST policy by token and reuses it
//! on other routes, so a policy that only mentioned the requested route would wrongly refuse the
//! next one, and one that named the request's own path could carry the client's `*` or `?`
//! into a resource ([`policy_resources`]; SECURITY.md, "Cached policies"). A route whose CEL
//! rule reads the request is decided per request: it is never allowed by its resource, only by
//! the requested ARN (SECURITY.md, "Rules and cached policies").

use crate::authorizer::config::ResponseMode;
use crate::authorizer::event::{EventFormat, ExecuteApiArn};
use crate::authorizer::openapi_routes::AccessTable;
use crate::authorizer::rules::SharedRule;
use crate::scopes::ScopeSet;
use crate::token::ContextClaims;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::Serialize;

/// Any answer the authorizer gives.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum AuthorizerResponse {
    /// REST, WebSocket and HTTP API payload 1.0: an IAM policy with a principal.
    Policy(ApiGatewayCustomAuthorizerResponse<ContextClaims>),
    /// HTTP API payload 2.0, simple responses.
    Simple(ApiGatewayV2CustomAuthorizerSimpleResponse<ContextClaims>),
    /// HTTP API payload 2.0 with `AUTH_RESPONSE=iam`.
    HttpApiPolicy(ApiGatewayV2CustomAuthorizerIamPolicyResponse<ContextClaims>),
}

/// The route the table found for a request, and whether the token may call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requested {
    /// Index of the route in the table.
    pub index: usize,
    /// Whether the scopes meet its requirement and its rule, if any, passes this request.
    pub permitted: bool,
}

/// How a token stands on one route, as far as a policy cached for the token may say: the same
/// answer for every request of the token, or one per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The scopes meet the route, and its rule, if any, reads only `header` and `claims` and
    /// passes: every request of the token to the route is permitted.
    Granted,
    /// The scopes do not meet the route, or its token-wide rule refuses: no request of the token
    /// to the route is.
    Refused,
    /// The scopes meet the route and its rule reads `request`: each request is judged on its
    /// own, so the route's resource is never allowed.
    PerRequest,
}

impl Standing {
    /// The standing of a sender-constrained token (`cnf`): its proof or certificate was checked
    /// for this request only, so no route is allowed by its resource, only the requested ARN
    /// (SECURITY.md, "Sender-constrained tokens").
    pub fn for_this_request_only(self) -> Self {
        match self {
            Standing::Granted => Standing::PerRequest,
            other => other,
        }
    }
}

/// Each route's [`Standing`] for a token holding `scopes`. A rule reading only `header` and
/// `claims` gives one answer for the token, asked of `passes` (its verdict on this token), so
/// its route may be listed by resource: the token's next request there works from the cache.
pub fn standings(
    routes: &AccessTable,
    scopes: &ScopeSet,
    mut passes: impl FnMut(&SharedRule) -> bool,
) -> Vec<Standing> {
    let standing = |row: &crate::authorizer::AccessRule| match &row.rule {
        _ if !row.access.is_met_by(scopes) => Standing::Refused,
        None => Standing::Granted,
        Some(rule) if rule.reads_request() => Standing::PerRequest,
        Some(rule) if passes(rule) => Standing::Granted,
        Some(_) => Standing::Refused,
    };
    routes.routes().iter().map(standing).collect()
}

/// An answer, and whether it lets the request itself through.
#[derive(Debug)]
pub struct Answer {
    /// What API Gateway receives.
    pub response: AuthorizerResponse,
    /// Whether `response` allows the request it answers. A permitted route is not allowed when
    /// its policy cannot name it without a wildcard of the client's ([`policy_resources`]).
    pub allows_request: bool,
}

/// The resources of a policy: what it allows and what it explicitly denies.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// `Allow` statement resources.
    pub allowed: Vec<String>,
    /// `Deny` statement resources; IAM's explicit deny wins over any allow.
    pub denied: Vec<String>,
    /// Whether the statements allow the requested ARN itself.
    pub allows_request: bool,
}

/// Whether an ARN holds a character IAM reads as a wildcard. API Gateway puts the request path
/// into the method or route ARN, and `*` and `?` are legal path characters (RFC 3986
/// sub-delims, or decoded from `%2A`/`%3F`): such an ARN is never written into a policy, where
/// it would match other requests ("IAM JSON policy elements: Resource", wildcards).
pub fn has_wildcard(arn: &str) -> bool {
    arn.contains(['*', '?'])
}

/// The resources of the policy for a token whose [`standings`] on the routes are `standing`,
/// asking for `target`, which the table routes to `requested` (if any). The policy is cached
/// for the token and reused on every route, so it must be right for every request, not only
/// this one:
///
/// - every route [`Standing::Granted`] is allowed by its resource (`{param}` as `*`), on each
///   method it serves;
/// - IAM's `*` crosses `/`, so a granted route's resource can also match requests to a route
///   that is not granted ([`AccessRule::covers`]): each such route is denied by its own
///   resource, and the explicit deny wins;
/// - where that deny would also shut a route that must stay open (a granted one, or the
///   requested one when it is decided per request and this request passed), the granted route
///   that reaches it is not listed by its resource: only the requested ARN itself is, when it is
///   that route and holds no wildcard;
/// - a route decided per request ([`Standing::PerRequest`]) is never listed by its resource:
///   when it is the requested route and this request passed, only the requested ARN is allowed,
///   when that holds no wildcard;
/// - a request the token may not make is denied by its own ARN when that holds no wildcard.
///
/// Resources come from the route table or, literally, from an ARN without wildcards: never does
/// text of the client's making widen a statement. A request that would need one (a permitted
/// route that cannot be listed, asked with `*` or `?` in its path) gets no `Allow` (403).
///
/// [`AccessRule::covers`]: crate::authorizer::AccessRule::covers
pub fn policy_resources(
    target: &ExecuteApiArn,
    standing: &[Standing],
    routes: &AccessTable,
    requested: Option<Requested>,
) -> Resources {
    let rows = routes.routes();
    let granted = |i: usize| standing[i] == Standing::Granted;
    // Routes no request may reach through a resource: denying their resource must not shut
    // `open` ones, the granted routes and the requested route when this request passes.
    let open = |i: usize| granted(i) || requested.is_some_and(|r| r.index == i && r.permitted);
    // A route to keep shut whose own resource cannot be denied without shutting an open route.
    let entangled = |v: usize| !granted(v) && (open(v) || rows[v].covers.iter().any(|&w| open(w)));
    let listed = |u: usize| granted(u) && !rows[u].covers.iter().any(|&v| entangled(v));
    let denied_by_route = |i: usize| !open(i) && rows[i].covered_by.iter().any(|&u| listed(u));
    let requested = requested.map(|r| r.index);
    let mut resources = Resources::default();
    let literal = (!has_wildcard(target.as_str())).then(|| target.as_str().to_owned());
    for (i, row) in rows.iter().enumerate() {
        let of_row = || {
            let methods = routes.methods_of(row).into_iter();
            methods.map(|method| target.for_route(method, &row.path))
        };
        if listed(i) {
            resources.allowed.extend(of_row());
            resources.allows_request |= requested == Some(i);
        } else if open(i) {
            if requested == Some(i) {
                resources.allowed.extend(literal.clone());
                resources.allows_request = literal.is_some();
            }
        } else if denied_by_route(i) {
            resources.denied.extend(of_row());
        }
    }
    if requested.is_none_or(|i| !open(i) && !denied_by_route(i)) {
        // A route decided per request is not denied by its resource: that would shut the
        // token's next request there, which its rule may pass, for as long as the cache holds.
        let own = match requested {
            _ if literal.is_some() => literal,
            Some(i) if !entangled(i) && standing[i] != Standing::PerRequest => {
                Some(target.for_route(&target.method, &rows[i].path))
            }
            _ => None,
        };
        if let Some(own) = own.filter(|own| !resources.denied.contains(own)) {
            resources.denied.push(own);
        }
    }
    // Nothing to name without a wildcard of the client's, and nothing to allow: the whole
    // stage is refused, so a policy is never empty.
    if resources.allowed.is_empty() && resources.denied.is_empty() {
        resources.denied.push(target.for_route("*", ""));
    }
    resources
}

/// The policy document: `Allow` on the allowed resources, `Deny` on the denied ones, each
/// statement only when it has resources.
pub fn policy_document(resources: Resources) -> ApiGatewayCustomAuthorizerPolicy {
    let statement = |effect, resource| {
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".to_owned()];
        statement.effect = effect;
        statement.resource = resource;
        statement
    };
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some("2012-10-17".to_owned());
    for (effect, resource) in [
        (IamPolicyEffect::Allow, resources.allowed),
        (IamPolicyEffect::Deny, resources.denied),
    ] {
        if !resource.is_empty() {
            document.statement.push(statement(effect, resource));
        }
    }
    document
}

/// The form of answer an event expects, decided once per invocation from its format and
/// `AUTH_RESPONSE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// REST `TOKEN`/`REQUEST`, WebSocket and HTTP API payload 1.0: an IAM policy with a principal.
    Policy,
    /// HTTP API payload 2.0 with `AUTH_RESPONSE=iam`: the same policy in the 2.0 response type.
    HttpApiPolicy,
    /// HTTP API payload 2.0 simple response: `isAuthorized`, no policy.
    Simple,
}

impl Shape {
    /// The shape for an event `format` under `mode`.
    pub fn of(format: EventFormat, mode: ResponseMode) -> Shape {
        match (format, mode) {
            (EventFormat::HttpV2, ResponseMode::Simple) => Shape::Simple,
            (EventFormat::HttpV2, ResponseMode::Iam) => Shape::HttpApiPolicy,
            _ => Shape::Policy,
        }
    }

    /// The answer to a missing or invalid token: `isAuthorized: false` for a simple response,
    /// `None` where API Gateway expects the `Unauthorized` error (401).
    pub fn unauthorized(self) -> Option<AuthorizerResponse> {
        (self == Shape::Simple).then(|| simple(false, ContextClaims::default()))
    }

    /// The answer to a verified caller whose request the table routes to `requested` (an index
    /// into `routes`), `permitted` when the token may make it: that decides a simple response;
    /// a policy for `principal` holds [`policy_resources`] on the API and stage of `target`,
    /// from the token's `standing` on every route. Simple answers build no policy (no ARNs to
    /// format, no standing to judge).
    #[allow(clippy::too_many_arguments)]
    pub fn answer(
        self,
        requested: Option<Requested>,
        target: &ExecuteApiArn,
        standing: impl FnOnce() -> Vec<Standing>,
        routes: &AccessTable,
        principal: String,
        context: ContextClaims,
    ) -> Answer {
        if self == Shape::Simple {
            let permitted = requested.is_some_and(|r| r.permitted);
            let response = simple(permitted, context);
            return Answer {
                response,
                allows_request: permitted,
            };
        }
        let resources = policy_resources(target, &standing(), routes, requested);
        let allows_request = resources.allows_request;
        let document = policy_document(resources);
        let principal = Some(principal);
        if self == Shape::HttpApiPolicy {
            let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
            (
                response.principal_id,
                response.policy_document,
                response.context,
            ) = (principal, document, context);
            let response = AuthorizerResponse::HttpApiPolicy(response);
            return Answer {
                response,
                allows_request,
            };
        }
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        (
            response.principal_id,
            response.policy_document,
            response.context,
        ) = (principal, document, context);
        let response = AuthorizerResponse::Policy(response);
        Answer {
            response,
            allows_request,
        }
    }
}

/// An HTTP API payload 2.0 simple answer.
fn simple(is_authorized: bool, context: ContextClaims) -> AuthorizerResponse {
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = is_authorized;
    response.context = context;
    AuthorizerResponse::Simple(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorizer::openapi_routes;
    use crate::scopes::ScopeNames;
    use serde_json::{Value, json};

    fn arn() -> ExecuteApiArn {
        ExecuteApiArn::parse("arn:aws:execute-api:eu-west-1:123:api/prod/GET/products").unwrap()
    }

    fn allowed(scopes: &[&str], table: &AccessTable, target: &ExecuteApiArn) -> Resources {
        let scopes: ScopeSet = scopes.iter().copied().collect();
        let requested = table.find(&target.method, &target.path).ok();
        let requested = requested.map(|m| Requested {
            index: m.index,
            permitted: m.route.access.is_met_by(&scopes),
        });
        let standing = standings(table, &scopes, |_| unreachable!("no rules"));
        policy_resources(target, &standing, table, requested)
    }

    #[test]
    fn lists_every_permitted_route() {
        let table = openapi_routes::compiled(&ScopeNames::AsWritten);
        assert_eq!(
            allowed(&["read:products"], &table, &arn()).allowed,
            [
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/products",
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/product/*"
            ]
        );
        let both = allowed(&["read:products", "write:products"], &table, &arn());
        assert_eq!((both.allowed.len(), both.denied.len()), (4, 0));
        let none = allowed(&[], &table, &arn());
        assert!(none.allowed.is_empty());
        assert_eq!(none.denied, [arn().as_str()]);
    }

    fn orders() -> AccessTable {
        openapi_routes::from_document(
            r#"{"openapi": "3.1.0", "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
                "paths": {
                  "/orders/{id}": {"get": {"security": [{"o": ["orders:read"]}]}},
                  "/orders/{id}/items/{item}": {"get": {"security": [{"o": ["items:read"]}]}}}}"#,
        )
        .unwrap()
    }

    const BASE: &str = "arn:aws:execute-api:eu-west-1:123:api/prod/GET";

    fn get(path: &str) -> ExecuteApiArn {
        ExecuteApiArn::parse(&format!("{BASE}{path}")).unwrap()
    }

    /// IAM's `*` crosses `/`: `GET/orders/*` also matches `/orders/7/items/1`. A cached policy
    /// must never let a token that may read orders but not items reach the items, and must keep
    /// serving the token's next order from the cache: the order route's resource, with the item
    /// route's resource denied (an explicit deny wins).
    #[test]
    fn a_route_reached_by_a_permitted_resource_is_denied_by_its_own() {
        let table = orders();
        let reader = allowed(&["orders:read"], &table, &get("/orders/7"));
        assert_eq!(reader.allowed, [format!("{BASE}/orders/*")]);
        assert_eq!(reader.denied, [format!("{BASE}/orders/*/items/*")]);
        // Asked for an item: the same statements, the item denied by its route's resource.
        let item = allowed(&["orders:read"], &table, &get("/orders/7/items/1"));
        assert_eq!(
            (&item.allowed, &item.denied),
            (&reader.allowed, &reader.denied)
        );
        assert!(reader.allows_request && !item.allows_request);
        // A token that may call both gets both resources and no deny.
        let both = allowed(&["orders:read", "items:read"], &table, &get("/orders/7"));
        assert_eq!(
            both.allowed,
            [
                format!("{BASE}/orders/*"),
                format!("{BASE}/orders/*/items/*")
            ]
        );
        assert!(both.denied.is_empty());
        // The deeper route's resource matches no order: listed on its own, the order denied.
        let items = allowed(&["items:read"], &table, &get("/orders/7"));
        assert_eq!(items.allowed, [format!("{BASE}/orders/*/items/*")]);
        assert_eq!(items.denied, [format!("{BASE}/orders/7")]);
    }

    /// `*` and `?` are path characters a client may send (RFC 3986 sub-delims); in a resource
    /// IAM reads them as wildcards. They reach no statement, allowed or denied.
    #[test]
    fn a_wildcard_in_the_request_path_never_reaches_a_resource() {
        let table = orders();
        for path in [
            "/orders/*",
            "/orders/?",
            "/orders/*/items/*",
            "/orders/a?/items/*",
        ] {
            for scopes in [&["orders:read"][..], &["items:read"], &[]] {
                let resources = allowed(scopes, &table, &get(path));
                let all = resources.allowed.iter().chain(&resources.denied);
                for resource in all {
                    let from_table = resource
                        .strip_prefix(BASE)
                        .is_some_and(|p| ["/orders/*", "/orders/*/items/*"].contains(&p));
                    assert!(from_table, "{path} {scopes:?}: {resource}");
                }
            }
        }
        // A forbidden route asked with a wildcard is denied by its route's resource, unless
        // that resource reaches a permitted route: then by nothing (no `Allow` matches it).
        let denied = allowed(&["items:read"], &table, &get("/orders/*"));
        assert_eq!(denied.allowed, [format!("{BASE}/orders/*/items/*")]);
        assert!(denied.denied.is_empty() && !denied.allows_request);
        let compiled = openapi_routes::compiled(&ScopeNames::AsWritten);
        let product = allowed(&[], &compiled, &get("/product/*"));
        assert!(product.allowed.is_empty());
        assert_eq!(product.denied, [format!("{BASE}/product/*")]);
    }

    /// Two routes whose resources reach each other (`/{a}/x` as `/*/x` matches `/x/x`, and
    /// `/x/{b}` as `/x/*` matches `/y/x`... and `/x/x`): denying the forbidden one would shut the
    /// permitted one, so the permitted one is allowed by the requested ARN only, and never when
    /// that ARN holds a wildcard.
    #[test]
    fn entangled_routes_fall_back_to_the_requested_arn_without_wildcards() {
        let table = openapi_routes::from_document(
            r#"{"openapi": "3.1.0", "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
                "paths": {
                  "/{a}/x": {"get": {"security": [{"o": ["files:read"]}]}},
                  "/x/{b}": {"get": {"security": [{"o": ["files:admin"]}]}}}}"#,
        )
        .unwrap();
        let reader = allowed(&["files:read"], &table, &get("/y/x"));
        assert_eq!(reader.allowed, [format!("{BASE}/y/x")]);
        assert!(reader.denied.is_empty());
        let wild = allowed(&["files:read"], &table, &get("/*/x"));
        assert!(wild.allowed.is_empty());
        assert_eq!(
            wild.denied,
            ["arn:aws:execute-api:eu-west-1:123:api/prod/*"]
        );
    }

    #[test]
    fn serializes_in_the_gateway_shapes() {
        let context = ContextClaims {
            sub: Some("u".into()),
            scope: "read:products".into(),
            ..Default::default()
        };
        let read: ScopeSet = ["read:products"].into_iter().collect();
        let table = openapi_routes::compiled(&ScopeNames::AsWritten);
        let standing = || standings(&table, &read, |_| true);
        let answer = |shape: Shape| {
            let principal = "u".to_owned();
            serde_json::to_value(
                shape
                    .answer(None, &arn(), standing, &table, principal, context.clone())
                    .response,
            )
            .unwrap()
        };
        let value = answer(Shape::Policy);
        assert_eq!(value["principalId"], "u");
        assert_eq!(value["policyDocument"]["Version"], "2012-10-17");
        assert_eq!(value["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(value["usageIdentifierKey"], Value::Null);
        let http_api = answer(Shape::HttpApiPolicy);
        assert_eq!(http_api["policyDocument"], value["policyDocument"]);
        assert!(http_api.get("usageIdentifierKey").is_none());
        assert_eq!(
            value["policyDocument"]["Statement"][0]["Action"],
            json!(["execute-api:Invoke"])
        );
        assert_eq!(value["policyDocument"]["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            value["context"],
            json!({"sub": "u", "scope": "read:products"})
        );
        let index = table.find("GET", "/products").unwrap().index;
        let simple = Shape::Simple.answer(
            Some(Requested {
                index,
                permitted: true,
            }),
            &arn(),
            standing,
            &table,
            "u".into(),
            context,
        );
        let value = serde_json::to_value(simple.response).unwrap();
        assert_eq!(
            value,
            json!({"isAuthorized": true, "context": {"sub": "u", "scope": "read:products"}})
        );
    }
}
