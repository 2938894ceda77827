//! A product inventory API behind API Gateway, secured by JWT scopes, and the Lambda authorizer
//! that guards it.
//!
//! One module per program, and what both share:
//!
//! - [`routes`] and [`scopes`]: the route table (the single source of truth both programs
//!   enforce) and the scopes a route requires, in every form a claim carries them;
//! - [`product_api`]: the `product-api` Lambda (event reading, identity, handler, answers, stores);
//! - [`authorizer`]: the `authorizer` Lambda (event formats, verification, key sets and fetching,
//!   configuration, answers);
//! - [`reason`]: one stable code per answer, the same in logs, metrics and problem types;
//!   [`metrics`]: the EMF writer both programs record with;
//! - [`env`]: the environment and the wall clock, read in one place.
//!
//! The local gateway (`tools/local-gateway`) is a development tool in its own package; nothing
//! of it is compiled into the Lambdas.
#![warn(missing_docs)]

pub mod authorizer;
pub mod env;
pub mod metrics;
pub mod product_api;
pub mod reason;
pub mod redact;
pub mod routes;
pub mod scopes;

pub use authorizer::{AuthConfig, Authorizer, AuthorizerError};
pub use product_api::{EmbeddedCatalog, Identity, IdentityExt, ProductApi, ProductStore};
pub use routes::{ROUTES, Route, RouteTable};
pub use scopes::{Requirement, ScopeNames, ScopeSet};
