//! The `product-api` handler: route, re-check scopes (defence in depth behind the gateway's
//! authorizer), validate input, then serve from the store.
//!
//! Checks run in a fixed order so answers are predictable: unknown route (404/405), no identity
//! (401), missing scope (403), bad input (400/413/415), then the product itself (404).

use crate::metrics::{Invocation, Metrics};
use crate::product_api::identity::{Identity, IdentityExt};
use crate::product_api::metrics::{self, StoreCall};
use crate::product_api::problem::ApiError;
use crate::product_api::products::{
    DEFAULT_PAGE, MAX_BODY_BYTES, MAX_PAGE, Precondition, Product, ProductName, ProductStore,
    StoreError,
};
use crate::reason::Reason;
use crate::routes::{Matched, Operation, Route, RouteTable};
use crate::scopes::{Requirement, ScopeNames};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The API over a store; cheap to clone, so each concurrent invocation gets its own handle.
pub struct ProductApi<S> {
    store: Arc<S>,
    scope_names: Arc<ScopeNames>,
    metrics: Metrics,
}

impl<S> Clone for ProductApi<S> {
    fn clone(&self) -> Self {
        ProductApi {
            store: Arc::clone(&self.store),
            scope_names: Arc::clone(&self.scope_names),
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Serialize)]
struct ProductList {
    products: Vec<Product>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

impl<S: ProductStore> ProductApi<S> {
    /// Wraps a store; build it once per cold start.
    pub fn new(store: S) -> Self {
        ProductApi {
            store: Arc::new(store),
            scope_names: Arc::default(),
            metrics: Metrics::off(),
        }
    }

    /// The same API for an issuer that spells the table's scopes its own way (`SCOPE_NAMES`).
    pub fn with_scope_names(mut self, names: ScopeNames) -> Self {
        self.scope_names = Arc::new(names);
        self
    }

    /// The same API, recording each answer in `metrics` (the binary's EMF on stdout).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Answers one request. Never fails: every error is an HTTP answer. Logs one line with the
    /// reason code and records the answer in the metrics, with the Lambda request and trace ids
    /// when the request came through the runtime.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let identity = request.identity();
        let mut store_call = None;
        let (route, outcome) = self
            .serve(&request, identity.as_ref(), &mut store_call)
            .await;
        let (reason, response) = match outcome {
            Ok(response) => (Reason::Served, response),
            Err(error) => (Reason::from(&error), error.into_response()),
        };
        tracing::info!(
            method = %request.method(),
            route = route.map_or("unmatched", |r| r.path),
            status = response.status().as_u16(),
            %reason,
            subject = identity.as_ref().and_then(|id| id.subject).unwrap_or("-"),
            latency_us = started.elapsed().as_micros() as u64,
            "request"
        );
        let invocation = request
            .lambda_context_ref()
            .map(Invocation::from)
            .unwrap_or_default();
        let status = response.status();
        metrics::request(&self.metrics, invocation, route, status, reason, store_call);
        response
    }

    async fn serve(
        &self,
        request: &Request,
        identity: Option<&Identity<'_>>,
        call: &mut Option<StoreCall>,
    ) -> (Option<&'static Route>, Result<Response<Body>, ApiError>) {
        match RouteTable::global().find(request.method().as_str(), routing_path(request)) {
            Ok(matched) => {
                let outcome = self.operate(&matched, request, identity, call).await;
                (Some(matched.route), outcome)
            }
            Err(error) => (None, Err(error.into())),
        }
    }

    /// A matched route: scopes first, then the operation. A route whose path names no product
    /// has a `None` name, which only the listing accepts.
    async fn operate(
        &self,
        matched: &Matched<'_, '_>,
        request: &Request,
        identity: Option<&Identity<'_>>,
        call: &mut Option<StoreCall>,
    ) -> Result<Response<Body>, ApiError> {
        let route = matched.route;
        authorize(identity, route.requirement, &self.scope_names)?;
        let name =
            || ProductName::parse(matched.name.unwrap_or_default()).map_err(ApiError::InvalidName);
        match route.operation {
            Operation::ListProducts => self.list(request, call).await,
            Operation::GetProduct => self.get(&name()?, call).await,
            Operation::PutProduct => self.put(request, &name()?, call).await,
            Operation::DeleteProduct => self.delete(request, &name()?, call).await,
        }
    }

    async fn list(
        &self,
        request: &Request,
        call: &mut Option<StoreCall>,
    ) -> Result<Response<Body>, ApiError> {
        let (limit, after) = page_request(request)?;
        let listing = self.store.list(limit, after.as_deref());
        let page = timed(call, Operation::ListProducts, listing).await?;
        let next = page.last.map(|last| URL_SAFE_NO_PAD.encode(last));
        let list = ProductList {
            products: page.products,
            next,
        };
        Ok(json(StatusCode::OK, &list))
    }

    async fn get(
        &self,
        name: &ProductName,
        call: &mut Option<StoreCall>,
    ) -> Result<Response<Body>, ApiError> {
        let found = timed(call, Operation::GetProduct, self.store.get(name)).await?;
        let found = found.ok_or(ApiError::ProductNotFound)?;
        Ok(with_etag(
            json(StatusCode::OK, &found.product),
            found.version,
        ))
    }

    async fn put(
        &self,
        request: &Request,
        name: &ProductName,
        call: &mut Option<StoreCall>,
    ) -> Result<Response<Body>, ApiError> {
        let product = product_from_body(request, name)?;
        let precondition = precondition(request)?;
        let writing = self.store.put(product.clone(), precondition);
        let written = timed(call, Operation::PutProduct, writing).await?;
        let status = if written.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(with_etag(json(status, &product), written.version))
    }

    async fn delete(
        &self,
        request: &Request,
        name: &ProductName,
        call: &mut Option<StoreCall>,
    ) -> Result<Response<Body>, ApiError> {
        let precondition = precondition(request)?;
        let deleting = self.store.delete(name, precondition);
        if timed(call, Operation::DeleteProduct, deleting).await? {
            Ok(empty(StatusCode::NO_CONTENT))
        } else {
            Err(ApiError::ProductNotFound)
        }
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

/// The re-check behind the gateway's authorizer: 401 without a validated identity, 403 without
/// the scopes; public routes need neither. Public so the local gateway's `explain` judges with
/// this very rule.
pub fn authorize(
    identity: Option<&Identity<'_>>,
    requirement: Requirement,
    names: &ScopeNames,
) -> Result<(), ApiError> {
    if requirement == Requirement::Public {
        return Ok(());
    }
    let identity = identity.ok_or(ApiError::Unauthenticated)?;
    if requirement.is_met_by(&identity.scopes, names) {
        Ok(())
    } else {
        Err(ApiError::InsufficientScope {
            required: requirement.issuer_scopes(names),
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
        .map_err(|e| ApiError::InvalidProduct(vec![json_problem(&e)]))?;
    let mut problems = product.problems();
    if product.name != name.as_str() {
        problems.insert(0, "name: must equal the name in the path".into());
    }
    if problems.is_empty() {
        Ok(product)
    } else {
        Err(ApiError::InvalidProduct(problems))
    }
}

/// serde's message without its line/column suffix, which says nothing to an API client.
fn json_problem(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    format!("body: {message}")
}

/// `limit` (1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]) and the opaque `next` cursor.
fn page_request(request: &Request) -> Result<(usize, Option<String>), ApiError> {
    let query = request.query_string_parameters_ref();
    let limit = match query.and_then(|q| q.first("limit")) {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(ApiError::invalid_limit)?,
    };
    let after = match query.and_then(|q| q.first("next")) {
        None => None,
        Some(cursor) => Some(
            URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .filter(|name| ProductName::parse(name).is_ok())
                .ok_or_else(ApiError::invalid_cursor)?,
        ),
    };
    Ok((limit, after))
}

/// `If-None-Match: *` (create only) or `If-Match: "N"` (replace version N only).
fn precondition(request: &Request) -> Result<Precondition, ApiError> {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = header(header::IF_NONE_MATCH) {
        return if value == "*" {
            Ok(Precondition::Absent)
        } else {
            Err(ApiError::if_none_match_not_star())
        };
    }
    match header(header::IF_MATCH) {
        None => Ok(Precondition::None),
        Some(value) => value
            .trim_start_matches("W/")
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.parse().ok())
            .map(Precondition::Version)
            .ok_or(ApiError::PreconditionFailed),
    }
}

fn with_etag(mut response: Response<Body>, version: u64) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Runs the request's store call in a `store` span, noting its time and whether it failed for
/// the metrics.
async fn timed<T>(
    call: &mut Option<StoreCall>,
    operation: Operation,
    store_call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, ApiError> {
    let started = Instant::now();
    let span = tracing::debug_span!("store", ?operation);
    let outcome = store_call.instrument(span).await;
    *call = Some(StoreCall {
        operation,
        took: started.elapsed(),
        failed: matches!(
            outcome,
            Err(StoreError::Unavailable(_) | StoreError::Failed(_))
        ),
    });
    outcome.map_err(store_error)
}

fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::ReadOnly => ApiError::ReadOnlyStore,
        StoreError::Conflict => ApiError::PreconditionFailed,
        StoreError::Unavailable(cause) => {
            tracing::error!(%cause, "product store unavailable");
            ApiError::StoreUnavailable
        }
        StoreError::Failed(cause) => {
            tracing::error!(%cause, "product store failed");
            ApiError::StoreFailure
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
