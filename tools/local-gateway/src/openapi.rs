//! The OpenAPI 3.1 document of the API, generated from the route table ([`ROUTES`]), the scope
//! descriptions ([`SCOPES`]), the product types ([`jwt_scopes_api::product_api::Product`]) and
//! the answers [`ApiError`] really gives, never written by hand: a JSON template per part, filled
//! in from those.
//!
//! `openapi.json` at the repository root is this document, committed; `tests/openapi.rs` fails
//! when it is stale (regenerate with `UPDATE_OPENAPI=1 cargo test -p local-gateway --test
//! openapi`) and checks it with a real OpenAPI validator. The local gateway serves it at
//! [`DOCUMENT_PATH`]. Its keys are in alphabetical order: `serde_json` keeps insertion order only
//! with its `preserve_order` feature, which would reach the Lambdas' `serde_json` too whenever
//! the workspace is built as one.
//!
//! # Security
//!
//! One scheme, [`SECURITY_SCHEME`], of type `oauth2`, because only an OAuth2 scheme can declare
//! scopes with descriptions (an `openIdConnect` scheme takes its scopes from discovery, and `http`
//! bearer has none). Every protected operation carries the bearer JWT in `Authorization`, as both
//! gateways read it. The flow is `clientCredentials`: OpenAPI requires one flow with a `tokenUrl`,
//! and the real token endpoint belongs to whichever issuer a deployment trusts (`AUTH_ISSUER`, the
//! template's `Issuer`), so it cannot be known here. The `tokenUrl` given is therefore the
//! local gateway's development issuer (relative to the server, as OpenAPI allows), and the
//! scheme's description says so: against a deployed API, use your issuer's `token_endpoint`.
//!
//! How a [`Requirement`] is written: OpenAPI's `security` is a list of alternatives, and within
//! one requirement object every listed scope is needed. So `AllOf([a, b])` is one object
//! `{"OAuth2": [a, b]}`, `AnyOf([a, b])` is two, `[{"OAuth2": [a]}, {"OAuth2": [b]}]`, and
//! `Public` is `security: []`, written out so that no global default can apply.

use crate::dev_issuer::TOKEN_PATH;
use crate::jwt_authorizer::{JwtOutcome, TokenRefusal};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_scopes_api::product_api::{
    ApiError, DEFAULT_PAGE, EmbeddedCatalog, MAX_BODY_BYTES, MAX_NAME_LEN, MAX_PAGE,
    MAX_PRICE_CENTS, MAX_SPECIFICATIONS, MAX_STOCK, NameError,
};
use jwt_scopes_api::routes::{Operation as Op, ROUTES, Route, SCOPES};
use jwt_scopes_api::scopes::Requirement;
use jwt_scopes_api::token::TokenError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Where the local gateway serves the document (no authorization).
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// The name of the security scheme every protected operation refers to (the template's HTTP API
/// authorizer has the same name).
pub const SECURITY_SCHEME: &str = "OAuth2";

/// The document of this API: [`document_for`] over [`ROUTES`].
pub fn document() -> Value {
    document_for(ROUTES)
}

/// The document as committed in `openapi.json` and served at [`DOCUMENT_PATH`]: pretty JSON
/// ending in a newline.
pub fn document_json() -> String {
    format!("{:#}\n", document())
}

/// The `security` of an operation with this requirement (see the module documentation).
pub fn security(requirement: Requirement) -> Value {
    match requirement {
        Requirement::Public => json!([]),
        Requirement::AllOf(scopes) => json!([{ SECURITY_SCHEME: scopes }]),
        Requirement::AnyOf(scopes) => (scopes.iter())
            .map(|scope| json!({ SECURITY_SCHEME: [scope] }))
            .collect(),
    }
}

/// The document of an API with these routes (tests use tables with other requirements).
pub fn document_for(routes: &[Route]) -> Value {
    let mut paths = json!({});
    for route in routes {
        paths[route.path][route.method.to_ascii_lowercase()] = operation(route);
    }
    let aws = |path: &str, description: &str| {
        json!({
            "url": format!("https://{{apiId}}.execute-api.{{region}}.amazonaws.com{path}"),
            "description": description,
            "variables": {
                "apiId": { "default": "apiId", "description": "The API's id, from the stack's outputs." },
                "region": { "default": "eu-west-1", "description": "The AWS region of the stack." },
            },
        })
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Products API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A product inventory behind API Gateway, secured by JWT scopes. Generated \
                from the route table (src/routes.rs) by tools/local-gateway/src/openapi.rs: do not edit \
                by hand. Every protected route is checked twice: by the gateway's authorizer (the HTTP \
                API JWT authorizer or this project's Lambda authorizer), whose refusals are API \
                Gateway's `{\"message\": ...}` bodies, then by product-api itself, whose refusals are \
                RFC 9457 problem details.",
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" },
        },
        "servers": [
            { "url": "http://127.0.0.1:3000",
              "description": "The local gateway (`cargo run`), with its development issuer." },
            aws("", "The HTTP API with the built-in JWT authorizer (stack output JwtApiUrl)."),
            aws("/prod", "The REST API with the Lambda TOKEN authorizer (stack output RestApiUrl)."),
        ],
        "tags": [{ "name": "products", "description": "The product catalog." }],
        "paths": paths,
        "components": { "schemas": schemas(), "securitySchemes": { SECURITY_SCHEME: {
            "type": "oauth2",
            "description": "A JWT access token, sent as `Authorization: Bearer <token>`, from the \
                issuer the deployment trusts (AUTH_ISSUER, the template's Issuer) with its audience. \
                Scopes are read from `scope`, `scp`, `scopes` or `permissions`. The tokenUrl is the \
                local gateway's development issuer, relative to the server; against a deployed API \
                use your issuer's token endpoint (its discovery document's `token_endpoint`).",
            "flows": { "clientCredentials": {
                "tokenUrl": TOKEN_PATH,
                "scopes": SCOPES.iter().map(|(s, d)| (s.to_string(), json!(d))).collect::<Map<_, _>>(),
            } },
        } } },
    })
}

/// A reference to one of the [`schemas`].
fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A product's name, in its URL and its body: what `ProductName::parse` accepts.
fn name_schema() -> Value {
    let pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
    json!({ "type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": pattern })
}

/// A product, as [`jwt_scopes_api::product_api::Product::problems`] checks it.
fn product_schema() -> Value {
    // Text of 1 to `max` characters that is not only whitespace.
    let text = |max: usize, description: &str| {
        json!({
            "type": "string", "minLength": 1, "maxLength": max, "pattern": r"\S",
            "description": description,
        })
    };
    let mut name = name_schema();
    name["description"] = json!("Key, equal to the `{name}` of its URL.");
    json!({
        "type": "object",
        "description": "A product. Every field is required and no other is accepted; a PUT body \
            failing any rule is refused whole with every fault listed (invalid-product).",
        "properties": {
            "name": name,
            "displayName": text(200, "Human-readable title."),
            "category": text(50, "Catalog section."),
            "priceCents": { "type": "integer", "minimum": 0, "maximum": MAX_PRICE_CENTS,
                "description": "Price in minor units (cents): no float touches money." },
            "currency": { "type": "string", "pattern": "^[A-Z]{3}$",
                "description": "ISO 4217 code, e.g. EUR." },
            "stock": { "type": "integer", "minimum": 0, "maximum": MAX_STOCK,
                "description": "Units on hand." },
            "specifications": {
                "type": "object",
                "description": "Technical specification, name to value.",
                "maxProperties": MAX_SPECIFICATIONS,
                "propertyNames": { "type": "string", "minLength": 1, "maxLength": 64, "pattern": r"\S" },
                "additionalProperties": { "type": "string", "maxLength": 500 },
            },
        },
        "required": ["name", "displayName", "category", "priceCents", "currency", "stock",
            "specifications"],
        "additionalProperties": false,
        "examples": [&EmbeddedCatalog::products()[0]],
    })
}

/// The schemas the operations refer to.
fn schemas() -> Value {
    json!({
        "Product": product_schema(),
        "ProductList": {
            "type": "object",
            "description": "One page of the catalog, in name order.",
            "properties": {
                "products": { "type": "array", "items": schema("Product"), "maxItems": MAX_PAGE },
                "next": { "type": "string", "description": "Present when more products may follow: \
                    pass it as `next` to get the next page." },
            },
            "required": ["products"],
        },
        "Problem": {
            "type": "object",
            "description": "An RFC 9457 problem detail (`application/problem+json`) from product-api. \
                `type` is stable and names the problem; the body never holds an internal detail or a \
                token.",
            "properties": {
                "type": { "type": "string", "description": "A URI naming the problem: \
                    `urn:jwt-scopes-api:problem:*`, or `about:blank` for a plain HTTP status." },
                "title": { "type": "string" },
                "status": { "type": "integer", "minimum": 100, "maximum": 599 },
                "detail": { "type": "string" },
                "errors": { "type": "array", "items": { "type": "string" }, "description":
                    "For invalid-product: every fault of the body, one `field: problem` each." },
            },
            "required": ["type", "title", "status"],
        },
        "GatewayMessage": {
            "type": "object",
            "description": "API Gateway's own answer: its authorizer refused the request before \
                product-api ran. An HTTP API writes `{\"message\":\"Unauthorized\"}` or \
                `{\"message\":\"Forbidden\"}`; a REST API writes `message` for 401 and `Message` for \
                its authorizer's explicit deny.",
            "properties": { "message": { "type": "string" }, "Message": { "type": "string" } },
            "minProperties": 1,
        },
    })
}

/// One route's operation: [`what_it_does`], the `{name}` parameter when its path has one, its
/// refusals and its `security`.
fn operation(route: &Route) -> Value {
    let mut operation = what_it_does(route.operation);
    operation["tags"] = json!(["products"]);
    operation["security"] = security(route.requirement);
    if route.path.contains("{name}") {
        let name = json!({
            "name": "name", "in": "path", "required": true, "schema": name_schema(),
            "description": format!("The product's name: letters, digits, '.', '_' and '-', starting \
                with a letter or digit, at most {MAX_NAME_LEN} characters (after percent-decoding)."),
            "example": EmbeddedCatalog::products()[0].name,
        });
        if let Some(parameters) = operation["parameters"].as_array_mut() {
            parameters.insert(0, name);
        }
    }
    let mut by_status: BTreeMap<u16, Vec<(&str, ApiError)>> = BTreeMap::new();
    for (name, error) in refusals(route) {
        by_status
            .entry(error.status().as_u16())
            .or_default()
            .push((name, error));
    }
    for (status, refusals) in by_status {
        operation["responses"][status.to_string()] = refusal_response(route, status, refusals);
    }
    operation
}

/// What an operation does: its summary, id, description, other parameters, body and successes.
fn what_it_does(operation: Op) -> Value {
    match operation {
        Op::ListProducts => json!({
            "summary": "List the catalog",
            "operationId": "listProducts",
            "description": "One page of products in name order; follow `next` for the rest.",
            "parameters": [
                { "name": "limit", "in": "query", "required": false,
                  "description": format!("Most products on the page (400 outside 1 to {MAX_PAGE})."),
                  "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                      "default": DEFAULT_PAGE } },
                { "name": "next", "in": "query", "required": false, "schema": { "type": "string" },
                  "description": "The `next` of the previous page: an opaque cursor (400 if it is \
                      not one)." },
            ],
            "responses": { "200": {
                "description": "A page of products (example: `limit=2`).",
                "content": { "application/json": { "schema": schema("ProductList"), "example": {
                    "products": &EmbeddedCatalog::products()[..2],
                    "next": URL_SAFE_NO_PAD.encode(&EmbeddedCatalog::products()[1].name),
                } } },
            } },
        }),
        Op::GetProduct => json!({
            "summary": "Read one product",
            "operationId": "getProduct",
            "description": "The product and its version as `ETag`.",
            "parameters": [],
            "responses": { "200": with_product("The product.") },
        }),
        Op::PutProduct => json!({
            "summary": "Create or replace one product",
            "operationId": "putProduct",
            "description": "Creates (201) or replaces (200) the product. `If-None-Match: *` creates only, \
                `If-Match` replaces only the version named; either failing is 412. The body's `name` \
                must equal the path's.",
            "parameters": preconditions("Only `*`: create, never replace (412 if the product exists). \
                Any other value is 400. Takes precedence over `If-Match`."),
            "requestBody": {
                "description": format!("The product, as `application/json` (415 otherwise), at most {} \
                    KiB (413).", MAX_BODY_BYTES / 1024),
                "required": true,
                "content": { "application/json": { "schema": schema("Product") } },
            },
            "responses": {
                "200": with_product("Replaced; the body is the product as stored."),
                "201": with_product("Created; the body is the product as stored."),
            },
        }),
        Op::DeleteProduct => json!({
            "summary": "Remove one product",
            "operationId": "deleteProduct",
            "description": "Removes the product; `If-Match` removes only the version named (412 \
                otherwise).",
            "parameters": preconditions("Only `*`, which a delete can never satisfy (412); any other \
                value is 400. Takes precedence over `If-Match`."),
            "responses": { "204": { "description": "Removed." } },
        }),
    }
}

/// A success answer with the product and its `ETag`.
fn with_product(description: &str) -> Value {
    json!({
        "description": description,
        "headers": { "ETag": { "schema": { "type": "string" }, "description": "The product's version, \
            a strong entity tag such as `\"1\"`: send it back in `If-Match`." } },
        "content": { "application/json": {
            "schema": schema("Product"),
            "example": &EmbeddedCatalog::products()[0],
        } },
    })
}

/// The conditional headers of a write, `If-None-Match` as `if_none_match` says.
fn preconditions(if_none_match: &str) -> Value {
    json!([
        { "name": "If-Match", "in": "header", "required": false,
          "description": "Only if the product is at this version: its `ETag`, e.g. `\"3\"` (`W/` is \
            ignored). Otherwise, or if the value is not such a tag, 412.",
          "schema": { "type": "string", "examples": ["\"1\""] } },
        { "name": "If-None-Match", "in": "header", "required": false, "description": if_none_match,
          "schema": { "type": "string", "enum": ["*"] } },
    ])
}

/// Every refusal product-api can give for this route, in the order it checks (see `api.rs`),
/// each with the name of its example.
fn refusals(route: &Route) -> Vec<(&'static str, ApiError)> {
    use ApiError::*;
    let mut refusals = Vec::new();
    if route.requirement != Requirement::Public {
        let required = route.requirement.scopes().join(" ");
        refusals.push(("unauthenticated", Unauthenticated));
        refusals.push(("insufficient-scope", InsufficientScope { required }));
    }
    if route.path.contains("{name}") {
        refusals.push(("invalid-product-name", InvalidName(NameError::BadCharacter)));
    }
    let if_none_match = || ("invalid-if-none-match", ApiError::if_none_match_not_star());
    let faults = [
        "name: must equal the name in the path",
        "currency: must be an ISO 4217 code such as EUR",
    ];
    refusals.extend(match route.operation {
        Op::ListProducts => vec![
            ("invalid-limit", ApiError::invalid_limit()),
            ("invalid-cursor", ApiError::invalid_cursor()),
        ],
        Op::GetProduct => vec![("product-not-found", ProductNotFound)],
        Op::PutProduct => vec![
            ("unsupported-media-type", UnsupportedMediaType),
            ("payload-too-large", PayloadTooLarge),
            (
                "invalid-product",
                InvalidProduct(faults.map(String::from).into()),
            ),
            if_none_match(),
            ("precondition-failed", PreconditionFailed),
            ("read-only-catalog", ReadOnlyStore),
        ],
        Op::DeleteProduct => vec![
            if_none_match(),
            ("precondition-failed", PreconditionFailed),
            ("product-not-found", ProductNotFound),
            ("read-only-catalog", ReadOnlyStore),
        ],
    });
    refusals.push(("store-unavailable", StoreUnavailable));
    refusals.push(("store-failure", StoreFailure));
    refusals
}

/// The answer for one status: a problem whose `type` is one of those product-api gives with it
/// here, an example of each (the body [`ApiError::into_response`] really writes), and for 401
/// and 403 the gateway's own refusal and the `WWW-Authenticate` challenges.
fn refusal_response(route: &Route, status: u16, refusals: Vec<(&str, ApiError)>) -> Value {
    let (mut types, mut titles, mut examples) = (Vec::new(), Vec::<String>::new(), Map::new());
    let mut challenge = None;
    for (name, error) in refusals {
        let response = error.into_response();
        let body: Value = serde_json::from_slice(response.body()).expect("problems are JSON");
        let title = body["title"].as_str().unwrap_or_default().to_owned();
        if !types.contains(&body["type"]) {
            types.push(body["type"].clone());
        }
        if !titles.contains(&title) {
            titles.push(title.clone());
        }
        let header = response.headers().get("www-authenticate");
        challenge = challenge.or_else(|| Some(header?.to_str().ok()?.to_owned()));
        examples.insert(name.into(), json!({ "summary": title, "value": body }));
    }
    let this_status = json!({ "type": "object", "properties": {
        "type": { "type": "string", "enum": types },
        "status": { "type": "integer", "enum": [status] },
    } });
    let mut response = json!({
        "description": titles.join("; "),
        "content": { "application/problem+json": {
            "schema": { "allOf": [schema("Problem"), this_status] },
            "examples": examples,
        } },
    });
    let scopes = route.requirement.scopes();
    let (message, jwt_authorizer, description) = match status {
        401 => (
            "Unauthorized",
            JwtOutcome::Unauthorized(Some(TokenRefusal::new(TokenError::Expired, None))),
            "A bearer challenge (RFC 6750). product-api sends `Bearer realm=\"products\"`; the HTTP \
             API JWT authorizer `Bearer` or `Bearer scope=\"\" error=\"invalid_token\" \
             error_description=\"...\"`; the REST API `Bearer`.",
        ),
        403 => (
            "Forbidden",
            JwtOutcome::Forbidden {
                subject: None,
                required: scopes.iter().map(|s| s.to_string()).collect(),
            },
            "product-api and the HTTP API JWT authorizer send `error=\"insufficient_scope\"` with \
             the scopes the route needs; a Lambda authorizer's Deny carries no challenge.",
        ),
        _ => return response,
    };
    let challenges = [
        ("product-api", challenge),
        ("http-api-jwt-authorizer", jwt_authorizer.challenge()),
    ];
    let challenges: Map<String, Value> = (challenges.into_iter())
        .filter_map(|(name, value)| Some((name.to_owned(), json!({ "value": value? }))))
        .collect();
    response["content"]["application/json"] =
        json!({ "schema": schema("GatewayMessage"), "example": { "message": message } });
    response["headers"] = json!({ "WWW-Authenticate": {
        "schema": { "type": "string" }, "description": description, "examples": challenges,
    } });
    response
}
