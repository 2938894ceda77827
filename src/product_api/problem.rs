//! Every way a request to `product-api` can fail, and the one place each becomes an HTTP answer:
//! an RFC 9457 `application/problem+json` body, plus the RFC 6750 `WWW-Authenticate` challenge
//! for 401 and 403. Bodies carry a stable `type`, the URN of the request's
//! [`Reason`](crate::reason::Reason) code, and never an internal detail or a token.

use crate::product_api::products::{MAX_BODY_BYTES, MAX_PAGE, NameError};
use crate::reason::Reason;
use crate::routes::RouteError;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use std::borrow::Cow;

/// The realm in every bearer challenge.
pub const REALM: &str = "products";

/// A request that cannot be served, in the order the handler checks them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// No route has this path.
    RouteNotFound,
    /// The path exists but not with this method.
    MethodNotAllowed {
        /// Methods the path does have, for the `Allow` header.
        allow: String,
    },
    /// No identity validated by the gateway.
    Unauthenticated,
    /// An identity without the route's scopes.
    InsufficientScope {
        /// The scopes the route needs, space separated, for the challenge.
        required: String,
    },
    /// The `{name}` segment is not a valid product name.
    InvalidName(NameError),
    /// The request body is not a valid product: one `field: problem` line per fault.
    InvalidProduct(Vec<String>),
    /// A query parameter or header is invalid; the text says which and what is allowed.
    BadRequest(Cow<'static, str>),
    /// `If-Match` / `If-None-Match` does not hold: someone else wrote first.
    PreconditionFailed,
    /// The body is larger than a product can be.
    PayloadTooLarge,
    /// The body's content type is not JSON.
    UnsupportedMediaType,
    /// No product has this name.
    ProductNotFound,
    /// The store is the read-only embedded catalog.
    ReadOnlyStore,
    /// The store is throttling or unreachable; the cause was logged where it happened.
    StoreUnavailable,
    /// The store failed for good (e.g. a missing table); the cause was logged.
    StoreFailure,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    errors: &'a [String],
}

impl From<RouteError> for ApiError {
    fn from(error: RouteError) -> Self {
        match error {
            RouteError::NotFound => ApiError::RouteNotFound,
            RouteError::MethodNotAllowed { allow } => ApiError::MethodNotAllowed { allow },
        }
    }
}

impl ApiError {
    /// `limit` outside 1 to [`MAX_PAGE`].
    pub fn invalid_limit() -> Self {
        ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_PAGE}.").into())
    }

    /// A `next` cursor no page gave out.
    pub fn invalid_cursor() -> Self {
        ApiError::BadRequest("next must be a cursor from a previous page.".into())
    }

    /// `If-None-Match` with anything but `*` (the only form a create-only write needs).
    pub fn if_none_match_not_star() -> Self {
        ApiError::BadRequest("If-None-Match supports only *.".into())
    }

    /// The status and the problem's `title` (RFC 9457 §3.1.3): the same for every error of a kind.
    fn status_and_title(&self) -> (StatusCode, &'static str) {
        use ApiError::*;
        match self {
            RouteNotFound => (StatusCode::NOT_FOUND, "Not Found"),
            MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            Unauthenticated => (StatusCode::UNAUTHORIZED, "Authentication required"),
            InsufficientScope { .. } => (StatusCode::FORBIDDEN, "Insufficient scope"),
            InvalidName(_) => (StatusCode::BAD_REQUEST, "Invalid product name"),
            InvalidProduct(_) => (StatusCode::BAD_REQUEST, "Invalid product"),
            BadRequest(_) => (StatusCode::BAD_REQUEST, "Invalid request"),
            PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "Precondition failed"),
            PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Payload too large"),
            UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
            ProductNotFound => (StatusCode::NOT_FOUND, "Product not found"),
            ReadOnlyStore => (StatusCode::NOT_IMPLEMENTED, "Catalog is read-only"),
            StoreUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "Product store unavailable"),
            StoreFailure => (StatusCode::INTERNAL_SERVER_ERROR, "Product store failure"),
        }
    }

    /// The problem's `detail` (RFC 9457 §3.1.4): what this occurrence adds, if anything.
    fn detail(&self) -> Option<Cow<'_, str>> {
        use ApiError::*;
        match self {
            Unauthenticated => Some(Cow::Borrowed(
                "The request carries no identity validated by the API's authorizer.",
            )),
            InsufficientScope { .. } => Some(Cow::Borrowed(
                "The access token does not grant the scope this route requires.",
            )),
            InvalidName(error) => Some(error.detail()),
            InvalidProduct(_) => Some(Cow::Borrowed(
                "The body is not a valid product; see errors.",
            )),
            BadRequest(detail) => Some(Cow::Borrowed(detail.as_ref())),
            PreconditionFailed => Some(Cow::Borrowed(
                "The product changed since you read it (or already exists); read it again and retry.",
            )),
            PayloadTooLarge => Some(Cow::Owned(format!(
                "A product body may be at most {} KiB.",
                MAX_BODY_BYTES / 1024
            ))),
            UnsupportedMediaType => Some(Cow::Borrowed("Send the product as application/json.")),
            ReadOnlyStore => Some(Cow::Borrowed(
                "This deployment serves the embedded catalog; writes need a DynamoDB table (PRODUCTS_TABLE).",
            )),
            StoreUnavailable => Some(Cow::Borrowed("Try again later.")),
            RouteNotFound | MethodNotAllowed { .. } | ProductNotFound | StoreFailure => None,
        }
    }

    /// The problem `type`: the reason's URN, or `about:blank` for the plain HTTP 404 / 405, whose
    /// status says it all (RFC 9457 §4.2.1). The reason code is logged and counted either way.
    fn problem_type(&self) -> &'static str {
        match self {
            ApiError::RouteNotFound | ApiError::MethodNotAllowed { .. } => "about:blank",
            _ => Reason::from(self).problem_type(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status_and_title().0
    }

    /// The full answer: status, problem body, and the headers RFC 6750 / RFC 9110 require.
    pub fn into_response(self) -> Response<Body> {
        let (status, title) = self.status_and_title();
        let detail = self.detail();
        let body = serde_json::to_string(&Problem {
            kind: self.problem_type(),
            title,
            status: status.as_u16(),
            detail,
            errors: match &self {
                ApiError::InvalidProduct(errors) => errors,
                _ => &[],
            },
        })
        .expect("a problem always serializes");
        let mut response = Response::new(Body::Text(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let challenge = match &self {
            ApiError::Unauthenticated => Some(format!("Bearer realm=\"{REALM}\"")),
            ApiError::InsufficientScope { required } => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{required}\""
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let ApiError::MethodNotAllowed { allow } = &self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            headers.insert(header::ALLOW, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn unauthenticated_is_401_with_a_bare_challenge() {
        let response = ApiError::Unauthenticated.into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"products\""
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(body(&response)["status"], 401);
    }

    #[test]
    fn insufficient_scope_names_the_scope() {
        let response = ApiError::InsufficientScope {
            required: "read:products".into(),
        }
        .into_response();
        assert_eq!(response.status(), 403);
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"products\", error=\"insufficient_scope\", scope=\"read:products\""
        );
        assert_eq!(
            body(&response)["type"],
            "urn:jwt-scopes-api:problem:insufficient-scope"
        );
    }

    #[test]
    fn method_not_allowed_lists_methods() {
        let response = ApiError::MethodNotAllowed {
            allow: "GET, PUT".into(),
        }
        .into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, PUT");
        assert!(response.headers().get("www-authenticate").is_none());
    }
}
