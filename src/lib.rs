// The crate documentation is docs/architecture.md, the one module map. Its links point at the
// source files for readers on GitHub; the definitions below come first, so rustdoc (where the
// first definition of a label wins) resolves the same labels to the modules instead.
//! [`routes`]: crate::routes
//! [`scopes`]: crate::scopes
//! [`product_api`]: crate::product_api
//! [`authorizer`]: crate::authorizer
//! [`token`]: crate::token
//! [`reason`]: crate::reason
//! [`metrics`]: crate::metrics
//! [`mod@env`]: mod@crate::env
#![doc = include_str!("../docs/architecture.md")]
#![warn(missing_docs)]

pub mod authorizer;
pub mod env;
pub mod metrics;
pub mod product_api;
pub mod reason;
mod redact;
pub mod routes;
pub mod scopes;
pub mod token;

pub use authorizer::{AuthConfig, Authorizer, AuthorizerError};
pub use product_api::{EmbeddedCatalog, Identity, IdentityExt, ProductApi, ProductStore};
pub use routes::{ROUTES, Route, RouteTable};
pub use scopes::{Requirement, ScopeNames, ScopeSet};
