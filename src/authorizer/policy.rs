//! The authorizer's answers, in the shape each event format expects.
//!
//! Policies are the same for a token whatever route it asked for: `Allow` on every route its
//! scopes permit (from the route table), plus an explicit `Deny` on the requested route when that
//! one is not permitted. API Gateway caches a REST policy by token and reuses it on other routes,
//! so a policy that only mentioned the requested route would wrongly refuse the next one. The
//! one exception keeps the cache safe rather than complete: a route whose resource pattern also
//! matches a route the token may not call is allowed by the requested ARN only
//! ([`permitted_resources`]).

use crate::authorizer::config::ResponseMode;
use crate::authorizer::contract::{AccessRule, AccessTable};
use crate::authorizer::event::{EventFormat, ExecuteApiArn};
use crate::authorizer::verify::ContextClaims;
use crate::scopes::ScopeSet;
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

/// Resources of every route of `routes` the scopes permit, on the API and stage of `target`;
/// an `ANY` route as each method it serves ([`crate::routes::RouteTable::methods_of`]). A
/// permitted route whose resource also matches requests to a route the scopes do not permit
/// ([`AccessRule::covers`]) is not listed by its resource: only the requested ARN itself is,
/// when `permitted` (the requested route, when the scopes permit it) is that route. A policy
/// cached for the token then answers 403 on that route's other paths, never 200 on another
/// route's.
pub fn permitted_resources(
    target: &ExecuteApiArn,
    scopes: &ScopeSet,
    routes: &AccessTable,
    permitted: Option<&AccessRule>,
) -> Vec<String> {
    let mut resources = Vec::new();
    for route in routes.routes() {
        if !route.access.is_met_by(scopes) {
            continue;
        }
        if route.covers.iter().all(|other| other.is_met_by(scopes)) {
            let methods = routes.methods_of(route).into_iter();
            resources.extend(methods.map(|method| target.for_route(method, &route.path)));
        } else if permitted.is_some_and(|p| std::ptr::eq(p, route)) {
            resources.push(target.as_str().to_owned());
        }
    }
    resources
}

/// The policy document: `Allow` on `allowed`, and `Deny` on `denied` if given.
pub fn policy_document(
    allowed: Vec<String>,
    denied: Option<String>,
) -> ApiGatewayCustomAuthorizerPolicy {
    let statement = |effect, resource| {
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".to_owned()];
        statement.effect = effect;
        statement.resource = resource;
        statement
    };
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some("2012-10-17".to_owned());
    if !allowed.is_empty() {
        document
            .statement
            .push(statement(IamPolicyEffect::Allow, allowed));
    }
    if let Some(denied) = denied {
        document
            .statement
            .push(statement(IamPolicyEffect::Deny, vec![denied]));
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

    /// The answer to a verified caller, `permitted` the requested route when `scopes` permit
    /// it: that decides a simple response; a policy for `principal` allows every route of
    /// `routes` that `scopes` permit on the API and stage of `target` ([`permitted_resources`])
    /// and denies `target` itself when it is not permitted. Simple answers build no policy (no
    /// ARNs to format).
    pub fn answer(
        self,
        permitted: Option<&AccessRule>,
        target: &ExecuteApiArn,
        scopes: &ScopeSet,
        routes: &AccessTable,
        principal: String,
        context: ContextClaims,
    ) -> AuthorizerResponse {
        if self == Shape::Simple {
            return simple(permitted.is_some(), context);
        }
        let document = policy_document(
            permitted_resources(target, scopes, routes, permitted),
            permitted.is_none().then(|| target.as_str().to_owned()),
        );
        let principal = Some(principal);
        if self == Shape::HttpApiPolicy {
            let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
            (
                response.principal_id,
                response.policy_document,
                response.context,
            ) = (principal, document, context);
            return AuthorizerResponse::HttpApiPolicy(response);
        }
        let mut response = ApiGatewayCustomAuthorizerResponse::default();
        (
            response.principal_id,
            response.policy_document,
            response.context,
        ) = (principal, document, context);
        AuthorizerResponse::Policy(response)
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
    use crate::authorizer::contract;
    use crate::scopes::ScopeNames;
    use serde_json::{Value, json};

    fn arn() -> ExecuteApiArn {
        ExecuteApiArn::parse("arn:aws:execute-api:eu-west-1:123:api/prod/GET/products").unwrap()
    }

    #[test]
    fn lists_every_permitted_route() {
        let table = contract::compiled(&ScopeNames::AsWritten);
        let read: ScopeSet = ["read:products"].into_iter().collect();
        assert_eq!(
            permitted_resources(&arn(), &read, &table, None),
            [
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/products",
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/product/*"
            ]
        );
        let both: ScopeSet = ["read:products", "write:products"].into_iter().collect();
        assert_eq!(permitted_resources(&arn(), &both, &table, None).len(), 4);
        assert!(permitted_resources(&arn(), &ScopeSet::empty(), &table, None).is_empty());
    }

    /// IAM's `*` crosses `/`: `GET/orders/*` also matches `/orders/7/items/1`. A cached policy
    /// must never let a token that may read orders but not items reach the items.
    #[test]
    fn a_resource_that_also_matches_a_route_the_token_may_not_call_is_never_listed() {
        let table = contract::from_document(
            r#"{"openapi": "3.1.0", "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
                "paths": {
                  "/orders/{id}": {"get": {"security": [{"o": ["orders:read"]}]}},
                  "/orders/{id}/items/{item}": {"get": {"security": [{"o": ["items:read"]}]}}}}"#,
        )
        .unwrap();
        let base = "arn:aws:execute-api:eu-west-1:123:api/prod/GET";
        let order = ExecuteApiArn::parse(&format!("{base}/orders/7")).unwrap();
        let orders: ScopeSet = ["orders:read"].into_iter().collect();
        let route = table.find("GET", "/orders/7").unwrap().route;
        // Asked for an order: that order alone, not `GET/orders/*`.
        assert_eq!(
            permitted_resources(&order, &orders, &table, Some(route)),
            [format!("{base}/orders/7")]
        );
        let item = ExecuteApiArn::parse(&format!("{base}/orders/7/items/1")).unwrap();
        assert!(permitted_resources(&item, &orders, &table, None).is_empty());
        // A token that may call both gets both resources, cacheable as before.
        let both: ScopeSet = ["orders:read", "items:read"].into_iter().collect();
        let item_route = table.find("GET", "/orders/7/items/1").unwrap().route;
        assert_eq!(
            permitted_resources(&item, &both, &table, Some(item_route)),
            [
                format!("{base}/orders/*"),
                format!("{base}/orders/*/items/*")
            ]
        );
        // The deeper route's resource matches no order, so it stays listed on its own.
        let items: ScopeSet = ["items:read"].into_iter().collect();
        assert_eq!(
            permitted_resources(&order, &items, &table, None),
            [format!("{base}/orders/*/items/*")]
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
        let table = contract::compiled(&ScopeNames::AsWritten);
        let answer = |shape: Shape| {
            let principal = "u".to_owned();
            serde_json::to_value(shape.answer(
                None,
                &arn(),
                &read,
                &table,
                principal,
                context.clone(),
            ))
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
        let route = table.find("GET", "/products").unwrap().route;
        let simple = Shape::Simple.answer(Some(route), &arn(), &read, &table, "u".into(), context);
        let value = serde_json::to_value(simple).unwrap();
        assert_eq!(
            value,
            json!({"isAuthorized": true, "context": {"sub": "u", "scope": "read:products"}})
        );
    }
}
