//! `product-api` Lambda: the product inventory behind API Gateway.
//!
//! Serves the embedded catalog, or the DynamoDB table named by `PRODUCTS_TABLE`. Runs several
//! invocations at once on Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY`), one at a time
//! elsewhere. Events are read by `product_api::event` before `lambda_http` turns them into requests.
//! Every log line carries the invocation's `requestId` and `xrayTraceId` (the runtime's span);
//! metrics go to stdout as EMF (`METRICS_NAMESPACE`).

use jwt_scopes_api::metrics::Metrics;
use jwt_scopes_api::product_api::{DynamoStore, HttpEvent};
use jwt_scopes_api::{EmbeddedCatalog, ProductApi, ProductStore, ScopeNames};
use lambda_http::{Adapter, Error, LambdaEvent, Request, Service, service_fn};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let names = ScopeNames::from_env()
        .inspect_err(|error| tracing::error!(%error, "invalid configuration"))?;
    match jwt_scopes_api::env::var("PRODUCTS_TABLE") {
        Some(table) => run(ProductApi::new(DynamoStore::from_env(table).await), names).await,
        None => run(ProductApi::new(EmbeddedCatalog), names).await,
    }
}

async fn run<S: ProductStore>(api: ProductApi<S>, names: ScopeNames) -> Result<(), Error> {
    let api = api
        .with_scope_names(names)
        .with_metrics(Metrics::stdout_from_env());
    let handler = service_fn(move |request: Request| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(api.handle(request).await) }
    });
    let adapter = Adapter::from(handler);
    lambda_http::lambda_runtime::run_concurrent(service_fn(move |event: LambdaEvent<HttpEvent>| {
        adapter
            .clone()
            .call(LambdaEvent::new(event.payload.0, event.context))
    }))
    .await
}
