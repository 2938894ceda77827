//! The `product-api` Lambda: the product inventory behind API Gateway.
//!
//! - [`event`]: events read (and guarded) before `lambda_http` builds a request from them;
//! - [`identity`]: the caller API Gateway already validated, from every request-context shape;
//! - [`ProductApi`]: routes, re-checks scopes (defence in depth), validates input and serves;
//! - [`products`]: products, names and the [`ProductStore`] behind the API, with the embedded
//!   catalog; [`dynamo`] the DynamoDB store;
//! - answers: every failure an RFC 9457 problem with its RFC 6750 challenge, in one place, its
//!   `type` named by the request's [`crate::reason::Reason`]; [`metrics`] counts the answers.

pub mod dynamo;
pub mod event;
mod handler;
pub mod identity;
pub mod metrics;
mod problem;
pub mod products;

pub use handler::{ProductApi, authorize};
pub use identity::{Identity, IdentityExt};
pub use problem::{ApiError, REALM};
pub use products::{DEFAULT_PAGE, EmbeddedCatalog, MAX_BODY_BYTES, MAX_PAGE, ProductStore};
