//! A product inventory API behind API Gateway, secured by JWT scopes, and the Lambda authorizer
//! that guards it.
//!
//! The route table ([`routes`]) is the single source of truth both binaries enforce. `product-api`
//! reads the identity API Gateway already validated ([`identity`]) and re-checks each route's
//! scopes ([`scopes`]) before serving products ([`products`]); every failure becomes an answer in
//! one place ([`problem`]).
#![warn(missing_docs)]

pub mod api;
pub mod identity;
pub mod problem;
pub mod products;
pub mod routes;
pub mod scopes;

pub use api::ProductApi;
pub use identity::{Identity, IdentityExt};
pub use products::{EmbeddedCatalog, ProductStore};
pub use routes::{ROUTES, Route, RouteTable};
pub use scopes::{Requirement, ScopeSet};
