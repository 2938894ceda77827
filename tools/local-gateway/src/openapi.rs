//! The OpenAPI 3.1 document of the API, generated from the route table ([`ROUTES`]), the scope
//! descriptions ([`SCOPES`]), the product types ([`jwt_scopes_api::product_api::products`]) and the answers
//! [`ApiError`] really gives, never written by hand.
//!
//! `openapi.json` at the repository root is this document, committed; `tests/openapi.rs` fails
//! when it is stale (regenerate with `UPDATE_OPENAPI=1 cargo test -p local-gateway --test openapi`) and checks it
//! with a real OpenAPI validator. The local gateway serves it at [`DOCUMENT_PATH`].
//!
//! Only the local gateway and the tests call this module: the Lambda binaries never do, so the
//! linker leaves it (and `utoipa`'s document types) out of them.
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
use crate::jwt_authorizer::JwtOutcome;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_scopes_api::authorizer::error::TokenError;
use jwt_scopes_api::product_api::products::{
    EmbeddedCatalog, MAX_NAME_LEN, MAX_PRICE_CENTS, MAX_SPECIFICATIONS, MAX_STOCK, NameError,
};
use jwt_scopes_api::product_api::{ApiError, DEFAULT_PAGE, MAX_BODY_BYTES, MAX_PAGE};
use jwt_scopes_api::routes::{Operation as Op, ROUTES, Route, SCOPES};
use jwt_scopes_api::scopes::Requirement;
use serde_json::{Value, json};
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, ComponentsBuilder, ObjectBuilder, Ref,
    Schema, Type,
};
use utoipa::openapi::security::SecurityScheme;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityRequirement};
use utoipa::openapi::server::{ServerBuilder, ServerVariableBuilder};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{Content, OpenApi, OpenApiBuilder, RefOr, Required};

/// Where the local gateway serves the document (no authorization).
pub const DOCUMENT_PATH: &str = "/openapi.json";

/// The name of the security scheme every protected operation refers to (the template's HTTP API
/// authorizer has the same name).
pub const SECURITY_SCHEME: &str = "OAuth2";

const PROBLEM: &str = "Problem";
const GATEWAY_MESSAGE: &str = "GatewayMessage";
const PRODUCT: &str = "Product";
const PRODUCT_LIST: &str = "ProductList";
const TAG: &str = "products";
/// The `{name}` segment's rule, as [`jwt_scopes_api::product_api::products::ProductName::parse`] applies it.
const NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]*$";

/// The document of this API: [`document_for`] over [`ROUTES`].
pub fn document() -> OpenApi {
    document_for(ROUTES)
}

/// The document as committed in `openapi.json` and served at [`DOCUMENT_PATH`]: pretty JSON
/// ending in a newline.
pub fn document_json() -> String {
    let mut text = document()
        .to_pretty_json()
        .expect("an OpenAPI document always serializes");
    text.push('\n');
    text
}

/// The `security` of an operation with this requirement (see the module documentation).
pub fn security(requirement: Requirement) -> Vec<SecurityRequirement> {
    match requirement {
        Requirement::Public => Vec::new(),
        Requirement::AllOf(scopes) => vec![SecurityRequirement::new(
            SECURITY_SCHEME,
            scopes.iter().copied(),
        )],
        Requirement::AnyOf(scopes) => scopes
            .iter()
            .map(|scope| SecurityRequirement::new(SECURITY_SCHEME, [*scope]))
            .collect(),
    }
}

/// The document of an API with these routes (tests use tables with other requirements).
pub fn document_for(routes: &[Route]) -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut seen: Vec<&str> = Vec::new();
    for route in routes {
        if seen.contains(&route.path) {
            continue;
        }
        seen.push(route.path);
        let mut item = PathItemBuilder::new();
        for same_path in routes.iter().filter(|r| r.path == route.path) {
            item = item.operation(http_method(same_path.method), operation(same_path));
        }
        paths = paths.path(route.path, item.build());
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Products API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "A product inventory behind API Gateway, secured by JWT scopes. Generated from \
                     the route table (src/routes.rs) by tools/local-gateway/src/openapi.rs: do not edit by hand. Every \
                     protected route is checked twice: by the gateway's authorizer (the HTTP API \
                     JWT authorizer or this project's Lambda authorizer), whose refusals are API \
                     Gateway's `{\"message\": ...}` bodies, then by product-api itself, whose \
                     refusals are RFC 9457 problem details.",
                ))
                .license(Some(
                    LicenseBuilder::new()
                        .name("MIT OR Apache-2.0")
                        .identifier(Some("MIT OR Apache-2.0"))
                        .build(),
                ))
                .build(),
        )
        .servers(Some(servers()))
        .tags(Some([TagBuilder::new()
            .name(TAG)
            .description(Some("The product catalog."))
            .build()]))
        .paths(paths.build())
        .components(Some(components()))
        .build()
}

fn servers() -> Vec<utoipa::openapi::server::Server> {
    let variable = |description: &str, default: &str| {
        ServerVariableBuilder::new()
            .default_value(default)
            .description(Some(description))
            .build()
    };
    let deployed = |path: &str, description: &str| {
        ServerBuilder::new()
            .url(format!(
                "https://{{apiId}}.execute-api.{{region}}.amazonaws.com{path}"
            ))
            .description(Some(description))
            .parameter(
                "apiId",
                variable("The API's id, from the stack's outputs.", "apiId"),
            )
            .parameter(
                "region",
                variable("The AWS region of the stack.", "eu-west-1"),
            )
            .build()
    };
    vec![
        ServerBuilder::new()
            .url("http://127.0.0.1:3000")
            .description(Some(
                "The local gateway (`cargo run`), with its development issuer.",
            ))
            .build(),
        deployed(
            "",
            "The HTTP API with the built-in JWT authorizer (stack output JwtApiUrl).",
        ),
        deployed(
            "/prod",
            "The REST API with the Lambda TOKEN authorizer (stack output RestApiUrl).",
        ),
    ]
}

fn components() -> utoipa::openapi::schema::Components {
    let scopes = Scopes::from_iter(SCOPES.iter().copied());
    let flow = Flow::ClientCredentials(ClientCredentials::new(TOKEN_PATH, scopes));
    let scheme = OAuth2::with_description(
        [flow],
        "A JWT access token, sent as `Authorization: Bearer <token>`, from the issuer the \
         deployment trusts (AUTH_ISSUER, the template's Issuer) with its audience. Scopes are read \
         from `scope`, `scp`, `scopes` or `permissions`. The tokenUrl is the local gateway's \
         development issuer, relative to the server; against a deployed API use your issuer's \
         token endpoint (its discovery document's `token_endpoint`).",
    );
    ComponentsBuilder::new()
        .security_scheme(SECURITY_SCHEME, SecurityScheme::OAuth2(scheme))
        .schema(PRODUCT, product_schema())
        .schema(PRODUCT_LIST, product_list_schema())
        .schema(PROBLEM, problem_schema())
        .schema(GATEWAY_MESSAGE, gateway_message_schema())
        .build()
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn integer(min: u64, max: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
}

/// Text of 1 to `max` characters that is not only whitespace ([`jwt_scopes_api::product_api::products::Product::problems`]).
fn text(max: usize, description: &str) -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(r"\S"))
        .description(Some(description))
}

fn name_schema() -> ObjectBuilder {
    string()
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_LEN))
        .pattern(Some(NAME_PATTERN))
}

fn product_schema() -> Schema {
    let example =
        serde_json::to_value(&EmbeddedCatalog::products()[0]).expect("a product always serializes");
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "A product. Every field is required and no other is accepted; a PUT body failing any \
             rule is refused whole with every fault listed (invalid-product).",
        ))
        .property(
            "name",
            name_schema().description(Some("Key, equal to the `{name}` of its URL.")),
        )
        .required("name")
        .property("displayName", text(200, "Human-readable title."))
        .required("displayName")
        .property("category", text(50, "Catalog section."))
        .required("category")
        .property(
            "priceCents",
            integer(0, MAX_PRICE_CENTS).description(Some(
                "Price in minor units (cents): no float touches money.",
            )),
        )
        .required("priceCents")
        .property(
            "currency",
            string()
                .pattern(Some("^[A-Z]{3}$"))
                .description(Some("ISO 4217 code, e.g. EUR.")),
        )
        .required("currency")
        .property(
            "stock",
            integer(0, MAX_STOCK).description(Some("Units on hand.")),
        )
        .required("stock")
        .property(
            "specifications",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("Technical specification, name to value."))
                .max_properties(Some(MAX_SPECIFICATIONS))
                .property_names(Some(
                    string()
                        .min_length(Some(1))
                        .max_length(Some(64))
                        .pattern(Some(r"\S")),
                ))
                .additional_properties(Some(string().max_length(Some(500)))),
        )
        .required("specifications")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .examples([example])
        .build()
        .into()
}

fn product_list_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("One page of the catalog, in name order."))
        .property(
            "products",
            ArrayBuilder::new()
                .items(schema_ref(PRODUCT))
                .max_items(Some(MAX_PAGE)),
        )
        .required("products")
        .property(
            "next",
            string().description(Some(
                "Present when more products may follow: pass it as `next` to get the next page.",
            )),
        )
        .build()
        .into()
}

fn problem_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "An RFC 9457 problem detail (`application/problem+json`) from product-api. `type` is \
             stable and names the problem; the body never holds an internal detail or a token.",
        ))
        .property(
            "type",
            string().description(Some(
                "A URI naming the problem: `urn:jwt-scopes-api:problem:*`, or `about:blank` \
                 for a plain HTTP status.",
            )),
        )
        .required("type")
        .property("title", string())
        .required("title")
        .property("status", integer(100, 599))
        .required("status")
        .property("detail", string())
        .property(
            "errors",
            ArrayBuilder::new().items(string()).description(Some(
                "For invalid-product: every fault of the body, one `field: problem` each.",
            )),
        )
        .build()
        .into()
}

fn gateway_message_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "API Gateway's own answer: its authorizer refused the request before product-api ran. \
             An HTTP API writes `{\"message\":\"Unauthorized\"}` or `{\"message\":\"Forbidden\"}`; \
             a REST API writes `message` for 401 and `Message` for its authorizer's explicit deny.",
        ))
        .property("message", string())
        .property("Message", string())
        .min_properties(Some(1))
        .build()
        .into()
}

fn http_method(method: &str) -> HttpMethod {
    match method {
        "GET" => HttpMethod::Get,
        "PUT" => HttpMethod::Put,
        "POST" => HttpMethod::Post,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        "HEAD" => HttpMethod::Head,
        "OPTIONS" => HttpMethod::Options,
        other => panic!("route method {other} has no OpenAPI operation"),
    }
}

/// Summary, operationId and description of what an operation does.
fn describe(operation: Op) -> (&'static str, &'static str, &'static str) {
    match operation {
        Op::ListProducts => (
            "List the catalog",
            "listProducts",
            "One page of products in name order; follow `next` for the rest.",
        ),
        Op::GetProduct => (
            "Read one product",
            "getProduct",
            "The product and its version as `ETag`.",
        ),
        Op::PutProduct => (
            "Create or replace one product",
            "putProduct",
            "Creates (201) or replaces (200) the product. `If-None-Match: *` creates only, \
             `If-Match` replaces only the version named; either failing is 412. The body's `name` \
             must equal the path's.",
        ),
        Op::DeleteProduct => (
            "Remove one product",
            "deleteProduct",
            "Removes the product; `If-Match` removes only the version named (412 otherwise).",
        ),
    }
}

/// Every refusal product-api can give for this route, in the order it checks (see `api.rs`),
/// each with the name of its example.
fn refusals(route: &Route) -> Vec<(&'static str, ApiError)> {
    use ApiError::*;
    let mut refusals = Vec::new();
    if route.requirement != Requirement::Public {
        refusals.push(("unauthenticated", Unauthenticated));
        refusals.push((
            "insufficient-scope",
            InsufficientScope {
                required: route.requirement.scopes().join(" "),
            },
        ));
    }
    if route.path.contains("{name}") {
        refusals.push(("invalid-product-name", InvalidName(NameError::BadCharacter)));
    }
    let if_none_match = ApiError::if_none_match_not_star();
    match route.operation {
        Op::ListProducts => {
            refusals.push(("invalid-limit", ApiError::invalid_limit()));
            refusals.push(("invalid-cursor", ApiError::invalid_cursor()));
        }
        Op::GetProduct => refusals.push(("product-not-found", ProductNotFound)),
        Op::PutProduct => {
            refusals.push(("unsupported-media-type", UnsupportedMediaType));
            refusals.push(("payload-too-large", PayloadTooLarge));
            refusals.push((
                "invalid-product",
                InvalidProduct(vec![
                    "name: must equal the name in the path".into(),
                    "currency: must be an ISO 4217 code such as EUR".into(),
                ]),
            ));
            refusals.push(("invalid-if-none-match", if_none_match));
            refusals.push(("precondition-failed", PreconditionFailed));
            refusals.push(("read-only-catalog", ReadOnlyStore));
        }
        Op::DeleteProduct => {
            refusals.push(("invalid-if-none-match", if_none_match));
            refusals.push(("precondition-failed", PreconditionFailed));
            refusals.push(("product-not-found", ProductNotFound));
            refusals.push(("read-only-catalog", ReadOnlyStore));
        }
    }
    refusals.push(("store-unavailable", StoreUnavailable));
    refusals.push(("store-failure", StoreFailure));
    refusals
}

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let (summary, id, description) = describe(route.operation);
    let mut builder = OperationBuilder::new()
        .tag(TAG)
        .summary(Some(summary))
        .operation_id(Some(id))
        .description(Some(description));
    for parameter in parameters(route) {
        builder = builder.parameter(parameter);
    }
    if route.operation == Op::PutProduct {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(format!(
                    "The product, as `application/json` (415 otherwise), at most {} KiB (413).",
                    MAX_BODY_BYTES / 1024
                )))
                .required(Some(Required::True))
                .content("application/json", Content::new(Some(schema_ref(PRODUCT))))
                .build(),
        ));
    }
    let mut responses = ResponsesBuilder::new();
    for (status, response) in successes(route.operation) {
        responses = responses.response(status, response);
    }
    let refusals = refusals(route);
    let mut statuses: Vec<u16> = refusals
        .iter()
        .map(|(_, error)| error.status().as_u16())
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let same: Vec<&(&str, ApiError)> = refusals
            .iter()
            .filter(|(_, error)| error.status().as_u16() == status)
            .collect();
        responses = responses.response(status.to_string(), refusal_response(status, &same));
    }
    let mut operation = builder.responses(responses.build()).build();
    operation.security = Some(security(route.requirement));
    operation
}

fn parameters(route: &Route) -> Vec<utoipa::openapi::path::Parameter> {
    let mut parameters = Vec::new();
    for segment in route.path.split('/') {
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        parameters.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(
                    "The product's name: letters, digits, '.', '_' and '-', starting with a letter \
                     or digit, at most 64 characters (after percent-decoding).",
                ))
                .schema(Some(name_schema()))
                .example(Some(json!(EmbeddedCatalog::products()[0].name)))
                .build(),
        );
    }
    let header = |name: &str, description: &str, schema: ObjectBuilder| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(schema))
            .build()
    };
    match route.operation {
        Op::ListProducts => {
            parameters.push(
                ParameterBuilder::new()
                    .name("limit")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some("Most products on the page (400 outside 1 to 100)."))
                    .schema(Some(
                        integer(1, MAX_PAGE as u64).default(Some(json!(DEFAULT_PAGE))),
                    ))
                    .build(),
            );
            parameters.push(
                ParameterBuilder::new()
                    .name("next")
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(
                        "The `next` of the previous page: an opaque cursor (400 if it is not one).",
                    ))
                    .schema(Some(string()))
                    .build(),
            );
        }
        Op::GetProduct => {}
        Op::PutProduct | Op::DeleteProduct => {
            parameters.push(header(
                "If-Match",
                "Only if the product is at this version: its `ETag`, e.g. `\"3\"` (`W/` is \
                 ignored). Otherwise, or if the value is not such a tag, 412.",
                string().examples([json!("\"1\"")]),
            ));
            let none_match = if route.operation == Op::PutProduct {
                "Only `*`: create, never replace (412 if the product exists). Any other value is \
                 400. Takes precedence over `If-Match`."
            } else {
                "Only `*`, which a delete can never satisfy (412); any other value is 400. Takes \
                 precedence over `If-Match`."
            };
            parameters.push(header(
                "If-None-Match",
                none_match,
                string().enum_values(Some(["*"])),
            ));
        }
    }
    parameters
}

fn etag_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(string()))
        .description(Some(
            "The product's version, a strong entity tag such as `\"1\"`: send it back in `If-Match`.",
        ))
        .build()
}

fn successes(operation: Op) -> Vec<(&'static str, utoipa::openapi::response::Response)> {
    let product = || {
        let example = serde_json::to_value(&EmbeddedCatalog::products()[0])
            .expect("a product always serializes");
        let mut content = Content::new(Some(schema_ref(PRODUCT)));
        content.example = Some(example);
        content
    };
    let with_product = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .header("ETag", etag_header())
            .content("application/json", product())
            .build()
    };
    match operation {
        Op::ListProducts => {
            let products: Vec<Value> = EmbeddedCatalog::products()[..2]
                .iter()
                .map(|p| serde_json::to_value(p).expect("a product always serializes"))
                .collect();
            let next = URL_SAFE_NO_PAD.encode(&EmbeddedCatalog::products()[1].name);
            let mut content = Content::new(Some(schema_ref(PRODUCT_LIST)));
            content.example = Some(json!({ "products": products, "next": next }));
            vec![(
                "200",
                ResponseBuilder::new()
                    .description("A page of products (example: `limit=2`).")
                    .content("application/json", content)
                    .build(),
            )]
        }
        Op::GetProduct => vec![("200", with_product("The product."))],
        Op::PutProduct => vec![
            (
                "200",
                with_product("Replaced; the body is the product as stored."),
            ),
            (
                "201",
                with_product("Created; the body is the product as stored."),
            ),
        ],
        Op::DeleteProduct => vec![(
            "204",
            ResponseBuilder::new().description("Removed.").build(),
        )],
    }
}

/// The answer for one status: a problem whose `type` is one of those product-api gives with it
/// here, an example of each (the body [`ApiError::into_response`] really writes), and for 401
/// and 403 the gateway's own refusal and the `WWW-Authenticate` challenge.
fn refusal_response(
    status: u16,
    refusals: &[&(&str, ApiError)],
) -> utoipa::openapi::response::Response {
    let mut types: Vec<String> = Vec::new();
    let mut titles: Vec<String> = Vec::new();
    let mut examples = Vec::new();
    let mut challenge = None;
    for (name, error) in refusals {
        let response = error.clone().into_response();
        let body: Value =
            serde_json::from_slice(response.body().as_ref()).expect("problems are JSON");
        let kind = body["type"].as_str().unwrap_or_default().to_owned();
        let title = body["title"].as_str().unwrap_or_default().to_owned();
        if !types.contains(&kind) {
            types.push(kind);
        }
        if !titles.contains(&title) {
            titles.push(title.clone());
        }
        if challenge.is_none() {
            challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
        examples.push((
            name.to_string(),
            ExampleBuilder::new()
                .summary(title)
                .value(Some(body))
                .build(),
        ));
    }
    let schema = AllOfBuilder::new().item(schema_ref(PROBLEM)).item(
        ObjectBuilder::new()
            .property("type", string().enum_values(Some(types.clone())))
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .enum_values(Some([status])),
            ),
    );
    let problem = {
        let mut content = Content::new(Some(schema));
        content.examples = examples
            .into_iter()
            .map(|(name, example)| (name, RefOr::T(example)))
            .collect();
        content
    };
    let mut response = ResponseBuilder::new()
        .description(titles.join("; "))
        .content("application/problem+json", problem);
    if status == 401 || status == 403 {
        let (gateway_text, jwt_challenge, description) = if status == 401 {
            (
                "Unauthorized",
                JwtOutcome::Unauthorized(Some((TokenError::Expired, None))).challenge(),
                "A bearer challenge (RFC 6750). product-api sends `Bearer realm=\"products\"`; \
                 the HTTP API JWT authorizer `Bearer` or `Bearer scope=\"\" \
                 error=\"invalid_token\" error_description=\"...\"`; the REST API `Bearer`.",
            )
        } else {
            (
                "Forbidden",
                JwtOutcome::Forbidden {
                    subject: None,
                    required: refusals
                        .iter()
                        .find_map(|(_, e)| match e {
                            ApiError::InsufficientScope { required } => {
                                Some(required.split(' ').map(str::to_owned).collect())
                            }
                            _ => None,
                        })
                        .unwrap_or_default(),
                }
                .challenge(),
                "product-api and the HTTP API JWT authorizer send `error=\"insufficient_scope\"` \
                 with the scopes the route needs; a Lambda authorizer's Deny carries no challenge.",
            )
        };
        let mut gateway = Content::new(Some(schema_ref(GATEWAY_MESSAGE)));
        gateway.example = Some(json!({ "message": gateway_text }));
        let mut header = HeaderBuilder::new()
            .schema(Some(string()))
            .description(Some(description))
            .build();
        header.examples = [
            ("product-api", challenge),
            ("http-api-jwt-authorizer", jwt_challenge),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.map(|value| {
                (
                    name.to_owned(),
                    RefOr::T(ExampleBuilder::new().value(Some(json!(value))).build()),
                )
            })
        })
        .collect();
        response = response
            .content("application/json", gateway)
            .header("WWW-Authenticate", header);
    }
    response.build()
}
