//! The authorizer's answers, in the shape each event format expects.
//!
//! Policies are the same for a token whatever route it asked for: `Allow` on every route its
//! scopes permit (from the route table), plus an explicit `Deny` on the requested route when that
//! one is not permitted. API Gateway caches a REST policy by token and reuses it on other routes,
//! so a policy that only mentioned the requested route would wrongly refuse the next one.

use crate::authorizer::config::ResponseMode;
use crate::authorizer::contract::AccessTable;
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
/// an `ANY` route as each method it serves ([`crate::routes::RouteTable::methods_of`]).
pub fn permitted_resources(
    target: &ExecuteApiArn,
    scopes: &ScopeSet,
    routes: &AccessTable,
) -> Vec<String> {
    routes
        .routes()
        .iter()
        .filter(|route| route.access.is_met_by(scopes))
        .flat_map(|route| {
            routes
                .methods_of(route)
                .into_iter()
                .map(|method| target.for_route(method, &route.path))
        })
        .collect()
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

    /// The answer to a verified caller: `allowed` decides a simple response; a policy for
    /// `principal` allows every route of `routes` that `scopes` permit on the API and stage of
    /// `target` and denies `target` itself when it is not `allowed`. Simple answers build no
    /// policy (no ARNs to format).
    pub fn answer(
        self,
        allowed: bool,
        target: &ExecuteApiArn,
        scopes: &ScopeSet,
        routes: &AccessTable,
        principal: String,
        context: ContextClaims,
    ) -> AuthorizerResponse {
        if self == Shape::Simple {
            return simple(allowed, context);
        }
        let document = policy_document(
            permitted_resources(target, scopes, routes),
            (!allowed).then(|| target.as_str().to_owned()),
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
            permitted_resources(&arn(), &read, &table),
            [
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/products",
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/product/*"
            ]
        );
        let both: ScopeSet = ["read:products", "write:products"].into_iter().collect();
        assert_eq!(permitted_resources(&arn(), &both, &table).len(), 4);
        assert!(permitted_resources(&arn(), &ScopeSet::empty(), &table).is_empty());
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
                false,
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
        let simple = Shape::Simple.answer(true, &arn(), &read, &table, "u".into(), context);
        let value = serde_json::to_value(simple).unwrap();
        assert_eq!(
            value,
            json!({"isAuthorized": true, "context": {"sub": "u", "scope": "read:products"}})
        );
    }
}
