//! The authorizer's answers, in the shape each event format expects.
//!
//! Policies are the same for a token whatever route it asked for: `Allow` on every route its
//! scopes permit (from the route table), plus an explicit `Deny` on the requested route when that
//! one is not permitted. API Gateway caches a REST policy by token and reuses it on other routes,
//! so a policy that only mentioned the requested route would wrongly refuse the next one.

use crate::authorizer::event::ExecuteApiArn;
use crate::authorizer::verify::ContextClaims;
use crate::routes::ROUTES;
use crate::scopes::{ScopeNames, ScopeSet};
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

/// Resources every route the scopes permit, on the API and stage of `target`.
pub fn permitted_resources(
    target: &ExecuteApiArn,
    scopes: &ScopeSet,
    names: &ScopeNames,
) -> Vec<String> {
    ROUTES
        .iter()
        .filter(|route| route.requirement.is_met_by(scopes, names))
        .map(|route| target.for_route(route.method, route.path))
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

/// A REST-style policy answer.
pub fn policy(
    principal: String,
    document: ApiGatewayCustomAuthorizerPolicy,
    context: ContextClaims,
) -> AuthorizerResponse {
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(principal);
    response.policy_document = document;
    response.context = context;
    AuthorizerResponse::Policy(response)
}

/// An HTTP API payload 2.0 policy answer.
pub fn http_api_policy(
    principal: String,
    document: ApiGatewayCustomAuthorizerPolicy,
    context: ContextClaims,
) -> AuthorizerResponse {
    let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
    response.principal_id = Some(principal);
    response.policy_document = document;
    response.context = context;
    AuthorizerResponse::HttpApiPolicy(response)
}

/// An HTTP API payload 2.0 simple answer.
pub fn simple(is_authorized: bool, context: ContextClaims) -> AuthorizerResponse {
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    response.is_authorized = is_authorized;
    response.context = context;
    AuthorizerResponse::Simple(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arn() -> ExecuteApiArn {
        ExecuteApiArn::parse("arn:aws:execute-api:eu-west-1:123:api/prod/GET/products").unwrap()
    }

    #[test]
    fn lists_every_permitted_route() {
        let read: ScopeSet = ["read:products"].into_iter().collect();
        assert_eq!(
            permitted_resources(&arn(), &read, &ScopeNames::AsWritten),
            [
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/products",
                "arn:aws:execute-api:eu-west-1:123:api/prod/GET/product/*"
            ]
        );
        let both: ScopeSet = ["read:products", "write:products"].into_iter().collect();
        assert_eq!(
            permitted_resources(&arn(), &both, &ScopeNames::AsWritten).len(),
            4
        );
        assert!(permitted_resources(&arn(), &ScopeSet::empty(), &ScopeNames::AsWritten).is_empty());
    }

    #[test]
    fn serializes_in_the_gateway_shapes() {
        let context = ContextClaims {
            sub: Some("u".into()),
            scope: "read:products".into(),
            ..Default::default()
        };
        let document = policy_document(vec!["a".into()], Some("b".into()));
        let value = serde_json::to_value(policy("u".into(), document, context.clone())).unwrap();
        assert_eq!(value["principalId"], "u");
        assert_eq!(value["policyDocument"]["Version"], "2012-10-17");
        assert_eq!(value["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            value["policyDocument"]["Statement"][0]["Action"],
            json!(["execute-api:Invoke"])
        );
        assert_eq!(value["policyDocument"]["Statement"][1]["Effect"], "Deny");
        assert_eq!(
            value["context"],
            json!({"sub": "u", "scope": "read:products"})
        );
        let value = serde_json::to_value(simple(true, context)).unwrap();
        assert_eq!(
            value,
            json!({"isAuthorized": true, "context": {"sub": "u", "scope": "read:products"}})
        );
    }
}
