//! A product inventory API behind API Gateway, secured by JWT scopes, and the Lambda authorizer
//! that guards it.
//!
//! The route table ([`routes`]) is the single source of truth both binaries enforce.
//!
//! - `product-api` reads the identity API Gateway already validated ([`identity`]), re-checks
//!   each route's scopes ([`scopes`]) and serves products ([`products`]); every failure becomes an
//!   answer in one place ([`problem`]).
//! - `authorizer` reads any authorizer event ([`authorizer_event`]), verifies the token
//!   ([`verify`]) with keys fetched and cached per issuer ([`jwks`], [`keyset`]), and answers in the
//!   format the event expects ([`policy`]); [`authorizer`] ties these together from [`config`].
#![warn(missing_docs)]

pub mod api;
pub mod authorizer;
pub mod authorizer_event;
pub mod config;
pub mod dynamo;
pub mod event_guard;
pub mod gateway;
pub mod identity;
pub mod jwks;
pub mod jws;
pub mod keyset;
pub mod openapi;
pub mod policy;
pub mod problem;
pub mod products;
pub mod routes;
pub mod scopes;
pub mod secret;
pub mod verify;

pub use api::ProductApi;
pub use authorizer::{Authorizer, AuthorizerError};
pub use config::AuthConfig;
pub use identity::{Identity, IdentityExt};
pub use products::{EmbeddedCatalog, ProductStore};
pub use routes::{ROUTES, Route, RouteTable};
pub use scopes::{Requirement, ScopeSet};
