//! `authorizer` Lambda: verifies bearer JWTs for API Gateway (REST TOKEN/REQUEST, WebSocket,
//! HTTP API payload 1.0 and 2.0) and enforces the route table's scopes.
//!
//! All of it is wiring, in the library ([`jwt_scopes_api::authorizer::run`]): configuration is
//! read and checked once at cold start; a bad one fails the cold start with a message
//! naming the variable. An HMAC secret named by `AUTH_HMAC_SECRET_ARN`, and an introspection
//! client secret given as a Secrets Manager ARN, are read through the Parameters and Secrets
//! extension on the first invocation (the extension does not serve the init phase) and kept for
//! the life of the process. A key set in `AUTH_JWKS` is read here too, so the first token needs
//! no fetch; the DynamoDB client is built here when a table is configured, and only then.
//!
//! Every log line of an invocation carries its `requestId` and `xrayTraceId`: `run_concurrent`
//! wraps each invocation in the runtime's `Lambda runtime invoke` span, which the default
//! subscriber prints on every line. Metrics go to stdout as EMF (`METRICS_NAMESPACE`).

fn main() -> Result<(), lambda_runtime::Error> {
    jwt_scopes_api::authorizer::run()
}
