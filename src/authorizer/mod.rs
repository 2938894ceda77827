//! The `authorizer` Lambda: an authorizer event in, a decision out.
//!
//! - [`AuthorizerEvent`]: every authorizer event format read in one pass into what the decision
//!   needs;
//! - [`AuthConfig`]: the configuration, read and checked once at cold start;
//! - [`AccessRule`]: the route table decided on, compiled in or read from an OpenAPI document;
//! - rules: CEL expressions per issuer and per route, compiled at cold start and judged on
//!   [`Facts`] (feature `rules`, docs/rules.md);
//! - the token itself is checked by [`crate::token`] (algorithms, JWS, key sets, claims);
//! - sender-constrained tokens: the binding step checks a DPoP proof (RFC 9449) or the client
//!   certificate (RFC 8705) against the token's `cnf`, remembering proofs against replay;
//! - tokens a signature cannot judge: introspection (opaque tokens, asked of their issuer, RFC
//!   7662) and revocation (a DynamoDB table of revoked tokens and subjects), sharing one DynamoDB
//!   client and its bounds;
//! - answers: [`AuthorizerResponse`] in the shape each event format expects, policies that stay
//!   right when API Gateway caches them;
//! - [`Authorizer`] ties these together; errors become answers there and only there, each with
//!   its [`crate::reason::Reason`], logged and counted;
//! - [`run`]: the Lambda process itself (runtime, cold start, invocation loop), all the
//!   `authorizer` binary calls.

mod binding;
mod config;
mod dynamodb;
mod event;
mod handler;
mod introspection;
mod lambda;
mod metrics;
mod openapi_routes;
mod policy;
mod revocation;
mod rules;
mod secret;

pub use binding::{
    BindingConfig, CheckedProof, DpopMode, Expected, MtlsMode, PublicUrls, Window,
    certificate_thumbprint, check_proof, token_hash,
};
pub use config::{AuthConfig, ConfigError, TokenSources, preloaded_keys};
pub use dynamodb::{TableError, client_from_env as dynamodb_client};
pub use event::{AuthorizerEvent, Evidence, Proofs, Scheme, bearer_token};
pub use handler::{Authorizer, AuthorizerError, Decision};
pub use lambda::run;
pub use metrics::Outcome;
pub use openapi_routes::AccessRule;
pub use policy::AuthorizerResponse;
pub use revocation::{
    Item as RevocationItem, KEY as REVOCATION_KEY, REVOKED_BEFORE, RevocationItems,
};
pub use rules::{Facts, Refusal};
pub use secret::from_extension as secret_from_extension;
