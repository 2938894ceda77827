//! What every gate in front of a route does for the server: let the request through
//! ([`Passed`]: what it hands the integration) or refuse it ([`Refusal`]: API Gateway's own
//! answer, status and challenge chosen by the gate). The HTTP API and REST API built-in JWT
//! authorizers, this project's Lambda authorizer, and [`NoAuthorizer`] on a public route each
//! implement [`Guard`], so the server only picks the guard and calls it.

use crate::event::{ApiContext, IncomingRequest};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use hyper::StatusCode;
use hyper::header::HeaderValue;
use jwt_scopes_api::routes::Route;
use serde_json::Value;

/// A request to a route, as its gate sees it.
pub struct GuardedRequest<'a> {
    /// The request as received.
    pub incoming: &'a IncomingRequest,
    /// The route it matched.
    pub route: &'a Route,
    /// The route's scopes in the issuer's spelling, as the template deploys them.
    pub scopes: Vec<String>,
    /// Account, API id, region and stage, for the events a gate sends.
    pub api: &'a ApiContext,
    /// Seconds since the epoch.
    pub now: u64,
    /// Sees the event a Lambda authorizer is invoked with, as sent.
    pub observe_authorizer_event: &'a (dyn Fn(&Value) + Sync),
}

impl GuardedRequest<'_> {
    /// The `Authorization` header, which the built-in JWT authorizers read.
    pub fn authorization(&self) -> Option<String> {
        self.incoming.header("authorization")
    }

    /// [`GuardedRequest::scopes`] borrowed, as the built-in JWT authorizers take them.
    pub fn required(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }
}

/// A request the route's gate let through.
pub struct Passed {
    /// `requestContext.authorizer` of the integration's event, if any.
    pub authorizer: Option<Value>,
    /// What the gateway logs.
    pub decision: String,
}

/// A request API Gateway answers itself, mostly because the route's gate refused it:
/// `{"message": ...}` with this status, and the `WWW-Authenticate` challenge if any.
pub struct Refusal {
    /// 401, 403 or 500 from a gate; the gateway's own are 400, 403, 404 and 413.
    pub status: StatusCode,
    /// The `message`: the status's reason phrase unless API Gateway words it otherwise.
    pub message: &'static str,
    /// The `WWW-Authenticate` header, if the gate sends one.
    pub challenge: Option<HeaderValue>,
    /// What the gateway logs.
    pub decision: String,
}

impl Refusal {
    /// A refusal with this status and no challenge.
    pub fn new(status: StatusCode, decision: String) -> Refusal {
        Refusal {
            status,
            message: status.canonical_reason().unwrap_or("Error"),
            challenge: None,
            decision,
        }
    }

    /// The same refusal with this challenge (one that is not a header value is left out).
    pub fn with_challenge(mut self, challenge: Option<String>) -> Refusal {
        self.challenge = challenge.and_then(|c| HeaderValue::from_str(&c).ok());
        self
    }

    /// The same refusal with API Gateway's wording of its `message`.
    pub fn with_message(mut self, message: &'static str) -> Refusal {
        self.message = message;
        self
    }
}

/// A gate in front of the routes: pass or refusal for one request.
pub trait Guard: Send + Sync {
    /// Decides on `request`; the future is boxed so that the server can hold any guard.
    fn admit<'a>(
        &'a self,
        request: &'a GuardedRequest<'a>,
    ) -> BoxFuture<'a, Result<Passed, Refusal>>;
}

/// A public route: API Gateway runs no authorizer, and the event has no
/// `requestContext.authorizer`.
pub struct NoAuthorizer;

impl Guard for NoAuthorizer {
    fn admit<'a>(&'a self, _: &'a GuardedRequest<'a>) -> BoxFuture<'a, Result<Passed, Refusal>> {
        let passed = Passed {
            authorizer: None,
            decision: "public route".into(),
        };
        async move { Ok(passed) }.boxed()
    }
}
