//! `product-api` Lambda: the product inventory behind API Gateway.
//!
//! Runs several invocations at once on Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`), one
//! at a time elsewhere.

use jwt_scopes_api::{EmbeddedCatalog, ProductApi};
use lambda_http::{Error, service_fn};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let api = ProductApi::new(EmbeddedCatalog);
    lambda_http::run_concurrent(service_fn(move |request| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(api.handle(request).await) }
    }))
    .await
}
