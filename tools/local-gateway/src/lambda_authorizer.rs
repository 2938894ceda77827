//! The HTTP API Lambda authorizer path, as API Gateway runs it with this project's
//! [`Authorizer`]:
//!
//! - identity source `$request.header.Authorization` (plus the cookie or query parameter the
//!   authorizer is configured to read): a request carrying none of them is answered 401
//!   `{"message":"Unauthorized"}` without invoking the authorizer;
//! - otherwise the payload 2.0 `REQUEST` event goes to [`Authorizer::decide_json`], the same code the
//!   `authorizer` Lambda runs; no result caching (TTL 0);
//! - a simple response `isAuthorized: false`, or an IAM policy that does not allow the route
//!   ARN (or denies it), answers 403 `{"message":"Forbidden"}`; the error `Unauthorized` answers
//!   401; any other error 500 `{"message":"Internal Server Error"}`;
//! - allowed: the response's `context` goes to the integration as
//!   `requestContext.authorizer.lambda`.

use crate::event::{self, IncomingRequest};
use crate::guard::{Guard, GuardedRequest, Passed, Refusal};
use crate::revocation::Revocations;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use hyper::StatusCode;
use jwt_scopes_api::authorizer::TokenSources;
use jwt_scopes_api::metrics::Invocation;
use jwt_scopes_api::reason::Reason;
use jwt_scopes_api::{AuthConfig, Authorizer, AuthorizerError};
use serde_json::{Value, json};

/// The custom authorizer, as an HTTP API invokes it.
pub struct LambdaAuthorizer {
    authorizer: Authorizer,
    sources: TokenSources,
}

/// What the gateway does after the authorizer ran (or did not).
#[derive(Clone, Debug, PartialEq)]
pub enum LambdaOutcome {
    /// Invoke the integration with this context under `requestContext.authorizer.lambda`.
    Allowed {
        /// The authorizer's `context`.
        context: Value,
    },
    /// 403: `isAuthorized: false` or a policy that does not allow the route, and the
    /// authorizer's reason code.
    Denied(Reason),
    /// 401: the authorizer failed with `Unauthorized`, for this reason.
    Unauthorized(Reason),
    /// 500: the authorizer failed otherwise or answered something unreadable.
    Failed(String),
}

impl LambdaAuthorizer {
    /// The authorizer of this configuration (the `authorizer` Lambda's `AUTH_*` variables),
    /// reading revocation items from `revocations` when given.
    pub fn new(config: AuthConfig, revocations: Option<&Revocations>) -> LambdaAuthorizer {
        let sources = config.sources.clone();
        let authorizer = Authorizer::new(config);
        LambdaAuthorizer {
            authorizer: match revocations {
                Some(revocations) => revocations.attach(authorizer),
                None => authorizer,
            },
            sources,
        }
    }

    /// The `identitySource` values of a request, or `None` when it carries none of the
    /// configured sources (API Gateway then answers 401 without invoking the authorizer).
    pub fn identity_source(&self, request: &IncomingRequest) -> Option<Vec<String>> {
        let mut values = Vec::new();
        if let Some(header) = request
            .header("authorization")
            .filter(|v| !v.trim().is_empty())
        {
            values.push(header);
        }
        if let Some(name) = &self.sources.cookie
            && let Some(cookie) = request.cookies().into_iter().find(|c| {
                c.split_once('=')
                    .is_some_and(|(n, v)| n.trim() == name && !v.trim().is_empty())
            })
        {
            values.push(cookie);
        }
        if let Some(name) = &self.sources.query
            && let Some(Value::String(value)) =
                crate::event::query_parameters(&request.raw_query).and_then(|mut q| q.remove(name))
            && !value.is_empty()
        {
            values.push(value);
        }
        (!values.is_empty()).then_some(values)
    }

    /// Runs the authorizer on a `REQUEST` event for `route_arn` at `now` and applies API
    /// Gateway's reading of its answer.
    pub async fn authorize(&self, event: &Value, route_arn: &str, now: u64) -> LambdaOutcome {
        let decision = self
            .authorizer
            .decide_json(&event.to_string(), now, Invocation::default())
            .await;
        let reason = decision.reason;
        let answer = match decision.answer {
            Ok(answer) => answer,
            Err(AuthorizerError::Unauthorized) => return LambdaOutcome::Unauthorized(reason),
            Err(error) => {
                return LambdaOutcome::Failed(
                    lambda_runtime::Diagnostic::from(error).error_message,
                );
            }
        };
        let answer = match serde_json::to_value(answer) {
            Ok(answer) => answer,
            Err(error) => return LambdaOutcome::Failed(error.to_string()),
        };
        let allowed = match (answer.get("isAuthorized"), answer.get("policyDocument")) {
            (Some(Value::Bool(allowed)), _) => *allowed,
            (_, Some(policy)) => policy_allows(policy, route_arn),
            _ => return LambdaOutcome::Failed("authorizer answer has no decision".into()),
        };
        // `isAuthorized: false` is a 403 whatever the reason, as API Gateway answers it.
        if !allowed {
            return LambdaOutcome::Denied(reason);
        }
        let context = match answer.get("context") {
            Some(Value::Object(context)) => Value::Object(context.clone()),
            _ => Value::Object(Default::default()),
        };
        LambdaOutcome::Allowed { context }
    }
}

/// API Gateway's reading of the authorizer: invoked with the `REQUEST` event when the route's
/// identity source is present (without it, 401 and no invocation); an allowed caller's `context`
/// goes to the integration under `lambda`; a deny is 403, `Unauthorized` 401, any other failure
/// 500, none with a challenge.
impl Guard for LambdaAuthorizer {
    fn admit<'a>(
        &'a self,
        request: &'a GuardedRequest<'a>,
    ) -> BoxFuture<'a, Result<Passed, Refusal>> {
        async move {
            let (incoming, api) = (request.incoming, request.api);
            let Some(identity_source) = self.identity_source(incoming) else {
                let decision = format!(
                    "lambda not invoked: no identity source reason={}",
                    Reason::MissingToken
                );
                return Err(Refusal::new(StatusCode::UNAUTHORIZED, decision));
            };
            let event = event::authorizer_event(incoming, api, request.route, &identity_source);
            (request.observe_authorizer_event)(&event);
            let arn = event::route_arn(incoming, api);
            let (status, decision) = match self.authorize(&event, &arn, request.now).await {
                LambdaOutcome::Allowed { context } => {
                    let subject = context.get("sub").and_then(Value::as_str).unwrap_or("-");
                    let decision = format!("lambda allow sub={subject}");
                    let authorizer = Some(json!({ "lambda": context }));
                    return Ok(Passed {
                        authorizer,
                        decision,
                    });
                }
                LambdaOutcome::Denied(reason) => (
                    StatusCode::FORBIDDEN,
                    format!("lambda deny reason={reason}"),
                ),
                LambdaOutcome::Unauthorized(reason) => (
                    StatusCode::UNAUTHORIZED,
                    format!("lambda unauthorized reason={reason}"),
                ),
                LambdaOutcome::Failed(error) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("lambda authorizer failed: {error}"),
                ),
            };
            Err(Refusal::new(status, decision))
        }
        .boxed()
    }
}

/// Whether an IAM policy lets the caller invoke `arn`: an `Allow` statement covering it and no
/// `Deny` statement covering it (an explicit deny wins).
pub fn policy_allows(policy: &Value, arn: &str) -> bool {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(statements)) => statements.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        _ => return false,
    };
    let strings = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut allowed = false;
    for statement in statements {
        let invokes = strings(statement.get("Action"))
            .iter()
            .any(|a| glob_matches(&a.to_ascii_lowercase(), "execute-api:invoke"));
        let covers = strings(statement.get("Resource"))
            .iter()
            .any(|r| glob_matches(r, arn));
        if !(invokes && covers) {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    allowed
}

/// IAM wildcard matching: `*` any run of characters, `?` any one character.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:1:api/$default/GET/product/x";

    #[test]
    fn globs() {
        assert!(glob_matches("arn:*/GET/product/*", ARN));
        assert!(glob_matches("*", ARN));
        assert!(glob_matches(ARN, ARN));
        assert!(!glob_matches("arn:*/PUT/product/*", ARN));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
    }

    #[test]
    fn explicit_deny_wins() {
        let allow = json!({"Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": ["arn:*/GET/product/*"]});
        let deny = json!({"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": [ARN]});
        assert!(policy_allows(&json!({"Statement": [allow.clone()]}), ARN));
        assert!(!policy_allows(&json!({"Statement": [allow, deny]}), ARN));
        assert!(!policy_allows(&json!({"Statement": []}), ARN));
    }
}
