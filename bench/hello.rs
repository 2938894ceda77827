//! The baseline for cold-start measurements: the smallest `lambda_http` function, built with the
//! same release profile as `product-api` and `authorizer` (see `bench/cold_start.py`).

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
