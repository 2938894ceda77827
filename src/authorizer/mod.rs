//! The `authorizer` Lambda: an authorizer event in, a decision out.
//!
//! - [`event`]: every authorizer event format read in one pass into what the decision needs;
//! - [`config`]: the configuration, read and checked once at cold start;
//! - [`contract`]: the route table decided on, compiled in or read from an OpenAPI document;
//! - verification: [`alg`] (the algorithm names and their key families), [`jws`] (a token split
//!   and its signature checked), [`verify`] (the claims), [`error`] (why a token is refused);
//! - keys: [`keyset`] (a JWKS turned into ready keys, the refetch rule; pure) and [`jwks`]
//!   (fetching and caching them per issuer);
//! - tokens a signature cannot judge: [`introspection`] (opaque tokens, asked of their issuer,
//!   RFC 7662) and [`revocation`] (a DynamoDB table of revoked tokens and subjects), with
//!   [`dynamodb`] (the client and bounds any table of the authorizer shares);
//! - answers: [`AuthorizerResponse`] in the shape each event format expects, policies that stay
//!   right when API Gateway caches them;
//! - [`Authorizer`] ties these together; errors become answers there and only there, each with
//!   its [`crate::reason::Reason`], logged and counted ([`metrics`]).

pub mod alg;
pub mod config;
pub mod contract;
pub mod dynamodb;
pub mod error;
pub mod event;
mod handler;
pub mod introspection;
pub mod jwks;
pub mod jws;
pub mod keyset;
pub mod metrics;
mod policy;
pub mod revocation;
mod secret;
pub mod verify;

pub use alg::Alg;
pub use config::{AuthConfig, ConfigError};
pub use error::TokenError;
pub use handler::{Authorizer, AuthorizerError, Decision};
pub use metrics::Outcome;
pub use policy::AuthorizerResponse;
pub use secret::from_extension as secret_from_extension;
