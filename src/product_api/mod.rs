//! The `product-api` Lambda: the product inventory behind API Gateway.
//!
//! - [`read_event`]: events read (and guarded) before `lambda_http` builds a request from them;
//! - [`Identity`]: the caller API Gateway already validated, from every request-context shape;
//! - [`ProductApi`]: routes, re-checks scopes (defence in depth), validates input and serves;
//! - [`Product`]s, their names and the [`ProductStore`] behind the API, with the
//!   [`EmbeddedCatalog`]; [`DynamoStore`] the DynamoDB store;
//! - answers: every failure an RFC 9457 problem with its RFC 6750 challenge, in one place, its
//!   `type` named by the request's [`crate::reason::Reason`]; each answer is counted as an EMF
//!   metric.

mod dynamo;
mod event;
mod handler;
mod identity;
mod metrics;
mod problem;
mod products;

pub use dynamo::DynamoStore;
pub use event::{HttpEvent, read_event};
pub use handler::{ProductApi, authorize};
pub use identity::{Claim, Claims, Identity, IdentityExt, Source, identity_from_context};
pub use problem::{ApiError, REALM};
pub use products::{
    DEFAULT_PAGE, EmbeddedCatalog, MAX_BODY_BYTES, MAX_NAME_LEN, MAX_PAGE, MAX_PRICE_CENTS,
    MAX_SPECIFICATIONS, MAX_STOCK, NameError, Page, Precondition, Product, ProductName,
    ProductStore, StoreError, Versioned, Written,
};
