//! The `product-api` handler: route, re-check scopes (defence in depth behind the gateway's
//! authorizer), validate input, then serve from the store.
//!
//! Checks run in a fixed order so answers are predictable: unknown route (404/405), no identity
//! (401), missing scope (403), bad input (400/413/415), then the product itself (404).

use crate::identity::{Identity, IdentityExt};
use crate::problem::ApiError;
use crate::products::{Product, ProductName, ProductStore, StoreError};
use crate::routes::{Operation, Route, RouteTable};
use crate::scopes::Requirement;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Largest product body accepted by `PUT`, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The API over a store; cheap to clone, so each concurrent invocation gets its own handle.
pub struct ProductApi<S> {
    store: Arc<S>,
}

impl<S> Clone for ProductApi<S> {
    fn clone(&self) -> Self {
        ProductApi {
            store: Arc::clone(&self.store),
        }
    }
}

#[derive(Serialize)]
struct ProductList {
    products: Vec<Product>,
}

impl<S: ProductStore> ProductApi<S> {
    /// Wraps a store; build it once per cold start.
    pub fn new(store: S) -> Self {
        ProductApi {
            store: Arc::new(store),
        }
    }

    /// Answers one request. Never fails: every error is an HTTP answer.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let identity = request.identity();
        let (route, outcome) = self.serve(&request, identity.as_ref()).await;
        let response = outcome.unwrap_or_else(ApiError::into_response);
        tracing::info!(
            method = %request.method(),
            route = route.map_or("unmatched", |r| r.path),
            status = response.status().as_u16(),
            subject = identity.as_ref().and_then(|id| id.subject).unwrap_or("-"),
            latency_us = started.elapsed().as_micros() as u64,
            "request"
        );
        response
    }

    async fn serve(
        &self,
        request: &Request,
        identity: Option<&Identity<'_>>,
    ) -> (Option<&'static Route>, Result<Response<Body>, ApiError>) {
        let matched =
            match RouteTable::global().find(request.method().as_str(), routing_path(request)) {
                Ok(matched) => matched,
                Err(crate::routes::RouteError::NotFound) => {
                    return (None, Err(ApiError::RouteNotFound));
                }
                Err(crate::routes::RouteError::MethodNotAllowed { allow }) => {
                    return (None, Err(ApiError::MethodNotAllowed { allow }));
                }
            };
        let route = matched.route;
        let outcome = async {
            authorize(identity, route.requirement)?;
            let name = matched
                .name
                .map(ProductName::parse)
                .transpose()
                .map_err(ApiError::InvalidName);
            match (route.operation, name?) {
                (Operation::ListProducts, _) => {
                    let products = self.store.list().await.map_err(store_error)?;
                    Ok(json(StatusCode::OK, &ProductList { products }))
                }
                (Operation::GetProduct, Some(name)) => {
                    match self.store.get(&name).await.map_err(store_error)? {
                        Some(product) => Ok(json(StatusCode::OK, &product)),
                        None => Err(ApiError::ProductNotFound),
                    }
                }
                (Operation::PutProduct, Some(name)) => {
                    let product = product_from_body(request, &name)?;
                    let created = self.store.put(product.clone()).await.map_err(store_error)?;
                    let status = if created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    Ok(json(status, &product))
                }
                (Operation::DeleteProduct, Some(name)) => {
                    match self.store.delete(&name).await.map_err(store_error)? {
                        true => Ok(empty(StatusCode::NO_CONTENT)),
                        false => Err(ApiError::ProductNotFound),
                    }
                }
                (_, None) => Err(ApiError::RouteNotFound),
            }
        }
        .await;
        (Some(route), outcome)
    }
}

/// The path to route on: what the client asked for, without a stage prefix. HTTP API payload
/// 2.0 keeps a named stage in `rawPath`; payload 1.0 keeps it in `path` (which then equals
/// `requestContext.path`); REST leaves it out.
fn routing_path(request: &Request) -> &str {
    let raw = request.raw_http_path();
    let raw = if raw.is_empty() {
        request.uri().path()
    } else {
        raw
    };
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.as_deref(),
        Some(RequestContext::ApiGatewayV1(context)) if context.path.as_deref() == Some(raw) => {
            context.stage.as_deref()
        }
        _ => None,
    };
    if let Some(stage) = stage.filter(|s| *s != "$default")
        && let Some(rest) = raw.strip_prefix('/').and_then(|r| r.strip_prefix(stage))
        && rest.starts_with('/')
    {
        return rest;
    }
    raw
}

/// 401 without a validated identity, 403 without the scopes; public routes need neither.
fn authorize(identity: Option<&Identity<'_>>, requirement: Requirement) -> Result<(), ApiError> {
    if requirement == Requirement::Public {
        return Ok(());
    }
    let identity = identity.ok_or(ApiError::Unauthenticated)?;
    if requirement.is_met_by(&identity.scopes) {
        Ok(())
    } else {
        Err(ApiError::InsufficientScope {
            required: requirement.scopes().join(" "),
        })
    }
}

fn product_from_body(request: &Request, name: &ProductName) -> Result<Product, ApiError> {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let product: Product = serde_json::from_slice(body)
        .map_err(|e| ApiError::InvalidBody(format!("The body is not a valid product: {e}.")))?;
    if product.name != name.as_str() {
        return Err(ApiError::InvalidBody(
            "The body's name must equal the name in the path.".into(),
        ));
    }
    Ok(product)
}

fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::ReadOnly => ApiError::ReadOnlyStore,
        StoreError::Unavailable(cause) => {
            tracing::error!(%cause, "product store failed");
            ApiError::StoreUnavailable
        }
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).expect("products always serialize");
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}
