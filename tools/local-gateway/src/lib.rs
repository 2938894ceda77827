//! A local API Gateway (HTTP API) for this project: `cargo local` (`cargo run -p local-gateway`).
//!
//! It serves the route table on `127.0.0.1`, does for each request what the deployed HTTP API
//! does (route matching, the built-in JWT authorizer or the Lambda authorizer, the payload 2.0
//! event with claims stringified the AWS way; or, with `--authorizer rest-jwt`, what a REST API
//! with its built-in JWT authorizer does, typed claims in a payload 1.0 event), then calls the same `product-api` handler code
//! with that exact event and turns its response back into HTTP. Products are kept in memory
//! (seeded from the embedded catalog), in a DynamoDB table, or read-only as the Lambda without
//! a table does.
//!
//! - [`server`]: the [`Gateway`] and [`serve`];
//! - [`guard`]: what every gate on a route does (pass or refusal), so the server only dispatches;
//! - [`cors`]: the HTTP API's CORS configuration and how it answers;
//! - [`jwt_authorizer`]: the HTTP API built-in JWT authorizer's rules;
//! - [`lambda_authorizer`]: the Lambda authorizer path around [`jwt_scopes_api::Authorizer`];
//! - [`rest_jwt_authorizer`]: the REST API built-in JWT authorizer's rules (`--authorizer
//!   rest-jwt`), in front of REST payload 1.0 events;
//! - [`event`]: requests turned into payload 2.0 and REST payload 1.0 events, claim
//!   stringification;
//! - [`dev_issuer`]: the development issuer (key pair, JWKS, discovery, JWTs and opaque tokens);
//! - [`revocation`]: the revocation store the Lambda authorizer reads (in memory or a table) and
//!   the development issuer's introspection, revocation and sign-out endpoints;
//! - [`store`]: the in-memory store and the choice of store;
//! - [`openapi`]: the API's OpenAPI 3.1 document, generated from the route table;
//! - [`explain`]: `explain`, why a token gets through each gate on each route, or not.
//!
//! See `docs/local-gateway.md`.

pub mod cors;
pub mod dev_issuer;
pub mod event;
pub mod explain;
pub mod guard;
pub mod jwt_authorizer;
pub mod lambda_authorizer;
pub mod openapi;
pub mod rest_jwt_authorizer;
pub mod revocation;
pub mod server;
pub mod store;

pub use cors::Cors;
pub use dev_issuer::{DEV_AUDIENCE, DevIssuer, MintRequest, Minted};
pub use server::{
    AuthorizerMode, EventKind, EventObserver, Gateway, GatewayConfig, GatewayError, serve,
};
pub use store::{GatewayStore, MemoryStore};

/// Largest request body, as API Gateway's 10 MB payload limit; larger ones get 413.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// Port used unless `--port` or `LOCAL_GATEWAY_PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 3000;
