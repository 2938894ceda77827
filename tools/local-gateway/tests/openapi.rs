//! The OpenAPI document (`tools/local-gateway/src/openapi.rs`): the committed `openapi.json` is what the code
//! generates, a real validator accepts it, every operation's `security` is its route's
//! requirement, and the local gateway serves it without a token.
//!
//! Regenerate `openapi.json` after changing routes, scopes or product types:
//! `UPDATE_OPENAPI=1 cargo test -p local-gateway --test openapi`.

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use jwt_scopes_api::routes::{Operation, ROUTES, Route, SCOPES};
use jwt_scopes_api::scopes::Requirement;
use local_gateway::openapi::{self, SECURITY_SCHEME};
use local_gateway::{AuthorizerMode, Gateway, GatewayConfig};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi.json")
}

fn generated() -> Value {
    serde_json::from_str(&openapi::document_json()).unwrap()
}

/// The `security` OpenAPI must show for a requirement, written out independently of the
/// generator: alternatives are a list, all scopes of one object are needed.
fn expected_security(requirement: Requirement) -> Value {
    match requirement {
        Requirement::Public => json!([]),
        Requirement::AllOf(scopes) => json!([{ SECURITY_SCHEME: scopes }]),
        Requirement::AnyOf(scopes) => Value::Array(
            scopes
                .iter()
                .map(|scope| json!({ SECURITY_SCHEME: [scope] }))
                .collect(),
        ),
    }
}

fn operation<'a>(document: &'a Value, route: &Route) -> &'a Value {
    let operation = &document["paths"][route.path][route.method.to_ascii_lowercase()];
    assert!(
        operation.is_object(),
        "{} is missing from the document",
        route.route_key()
    );
    operation
}

#[test]
fn committed_document_is_current() {
    let path = committed_path();
    let fresh = openapi::document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "openapi.json is stale (or missing): it no longer matches what tools/local-gateway/src/openapi.rs generates \
         from the route table and the product types. Regenerate it with\n\n    \
         UPDATE_OPENAPI=1 cargo test -p local-gateway --test openapi\n\nand commit it."
    );
}

/// Runs `openapi-spec-validator` (PyPI) on a document. `.ci/run` installs it, so under CI a
/// missing validator fails; on a developer machine without it the check is skipped, loudly.
fn validate(document: &str, what: &str) {
    let dir = std::env::temp_dir().join(format!("openapi-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{what}.json"));
    std::fs::write(&file, document).unwrap();
    let script = r#"
import sys
try:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename
except ImportError:
    sys.exit(3)
spec, _ = read_from_filename(sys.argv[1])
assert spec["openapi"].startswith("3.1."), spec["openapi"]
validate(spec)
print("valid OpenAPI", spec["openapi"])
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let in_ci = std::env::var_os("CI").is_some();
    let missing = match &output {
        Err(error) => Some(format!("python3 could not run: {error}")),
        Ok(out) if out.status.code() == Some(3) => {
            Some("the Python module openapi_spec_validator is not installed".into())
        }
        Ok(_) => None,
    };
    if let Some(why) = missing {
        assert!(!in_ci, "CI must validate the OpenAPI document, but {why}");
        eprintln!(
            "SKIPPED OpenAPI validation of {what}: {why} (python3 -m pip install openapi-spec-validator)"
        );
        return;
    }
    let out = output.unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses the {what} document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn document_is_valid_openapi_3_1() {
    validate(&openapi::document_json(), "generated");
}

/// A table with the requirements our own table does not use yet, so their spelling is checked
/// by the validator too.
static OTHER_TABLE: &[Route] = &[
    Route {
        method: "GET",
        path: "/products",
        requirement: Requirement::AnyOf(&["read:products", "write:products"]),
        operation: Operation::ListProducts,
    },
    Route {
        method: "GET",
        path: "/product/{name}",
        requirement: Requirement::Public,
        operation: Operation::GetProduct,
    },
    Route {
        method: "PUT",
        path: "/product/{name}",
        requirement: Requirement::AllOf(&["read:products", "write:products"]),
        operation: Operation::PutProduct,
    },
];

#[test]
fn every_requirement_kind_is_valid_and_written_as_openapi_means_it() {
    let document = openapi::document_for(OTHER_TABLE);
    let text = serde_json::to_string_pretty(&document).unwrap();
    validate(&text, "other-table");
    let document: Value = serde_json::from_str(&text).unwrap();
    // Each kind spelled out, independently of `expected_security`.
    let any_of = operation(&document, &OTHER_TABLE[0]);
    assert_eq!(
        any_of["security"],
        json!([{"OAuth2": ["read:products"]}, {"OAuth2": ["write:products"]}])
    );
    let all_of = operation(&document, &OTHER_TABLE[2]);
    assert_eq!(
        all_of["security"],
        json!([{"OAuth2": ["read:products", "write:products"]}])
    );
    let public = operation(&document, &OTHER_TABLE[1]);
    assert_eq!(public["security"], json!([]));
    assert!(public["responses"].get("401").is_none());
    assert!(public["responses"].get("403").is_none());
    assert!(document.get("security").is_none(), "no global default");
}

#[test]
fn each_operation_security_is_its_route_requirement() {
    let document = generated();
    let paths = document["paths"].as_object().unwrap().values();
    let operations: usize = paths.map(|item| item.as_object().unwrap().len()).sum();
    assert_eq!(
        operations,
        ROUTES.len(),
        "one operation per route, no other"
    );
    for route in ROUTES {
        let operation = operation(&document, route);
        assert_eq!(
            operation["security"],
            expected_security(route.requirement),
            "{}",
            route.route_key()
        );
        if route.requirement != Requirement::Public {
            let required = route.requirement.scopes().join(" ");
            let challenge = &operation["responses"]["403"]["headers"]["WWW-Authenticate"];
            assert_eq!(
                challenge["examples"]["product-api"]["value"],
                format!(
                    "Bearer realm=\"products\", error=\"insufficient_scope\", scope=\"{required}\""
                ),
                "{}",
                route.route_key()
            );
            assert!(operation["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
        }
    }
}

/// Every `$ref` points at something the document has (the validator stops at its first error).
#[test]
fn every_reference_resolves() {
    fn walk(node: &Value, document: &Value, count: &mut usize) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let pointer = target.strip_prefix('#').expect("local references only");
                    assert!(document.pointer(pointer).is_some(), "dangling {target}");
                    *count += 1;
                }
                map.values().for_each(|v| walk(v, document, count));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, document, count)),
            _ => {}
        }
    }
    let document = generated();
    let mut count = 0;
    walk(&document, &document, &mut count);
    assert!(count > 10, "only {count} references");
}

#[test]
fn the_scheme_declares_every_scope_with_its_description() {
    let document = generated();
    let scheme = &document["components"]["securitySchemes"][SECURITY_SCHEME];
    assert_eq!(scheme["type"], "oauth2");
    let declared = scheme["flows"]["clientCredentials"]["scopes"]
        .as_object()
        .unwrap();
    assert_eq!(declared.len(), SCOPES.len());
    for (scope, description) in SCOPES {
        assert_eq!(declared[*scope], *description);
    }
    for route in ROUTES {
        for scope in route.requirement.scopes() {
            assert!(
                SCOPES.iter().any(|(s, _)| s == scope),
                "{} needs {scope}, which routes::SCOPES does not describe",
                route.route_key()
            );
        }
    }
}

#[test]
fn bodies_headers_and_parameters_are_described() {
    let document = generated();
    let paths = &document["paths"];
    let list = &paths["/products"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["limit", "next"]);
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ProductList"
    );
    let get = &paths["/product/{name}"]["get"];
    assert!(get["responses"]["200"]["headers"]["ETag"].is_object());
    let put = &paths["/product/{name}"]["put"];
    for header in ["If-Match", "If-None-Match"] {
        assert!(
            put["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == header && p["in"] == "header"),
            "{header}"
        );
    }
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Product"
    );
    for status in [
        "200", "201", "400", "401", "403", "412", "413", "415", "501",
    ] {
        assert!(put["responses"][status].is_object(), "PUT {status}");
    }
    let types = &put["responses"]["400"]["content"]["application/problem+json"]["schema"]["allOf"]
        [1]["properties"]["type"]["enum"];
    assert_eq!(
        types,
        &json!([
            "urn:jwt-scopes-api:problem:invalid-product-name",
            "urn:jwt-scopes-api:problem:invalid-product",
            "urn:jwt-scopes-api:problem:invalid-request"
        ])
    );
    let product = &document["components"]["schemas"]["Product"];
    assert_eq!(product["additionalProperties"], false);
    assert_eq!(product["required"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn the_local_gateway_serves_it_without_a_token() {
    let addr = "127.0.0.1:3999".parse().unwrap();
    let gateway = Gateway::new(GatewayConfig::new(AuthorizerMode::Jwt), addr).unwrap();
    let request = hyper::Request::get("/openapi.json")
        .header("host", "127.0.0.1:3999")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = gateway.handle(request, addr).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, openapi::document_json().as_bytes());
}

/// Method, path and query, token scope (none: no token), headers, body.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    String,
);

/// The answers the local gateway really gives (its JWT authorizer, then product-api on the
/// embedded catalog) are each documented on their operation: status, media type, problem `type`,
/// and the `ETag` / `WWW-Authenticate` headers.
#[tokio::test]
async fn real_answers_are_documented() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gateway = Gateway::new(GatewayConfig::new(AuthorizerMode::Jwt), addr).unwrap();
    tokio::spawn(local_gateway::serve(listener, gateway.clone()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |scope: &str| {
        let request = local_gateway::MintRequest {
            scope: Some(scope.into()),
            ..Default::default()
        };
        let dev = gateway.dev_issuer().unwrap();
        dev.mint(&request, now).unwrap().access_token
    };
    let product = serde_json::to_string(&jwt_scopes_api::EmbeddedCatalog::products()[0]).unwrap();
    let name = jwt_scopes_api::EmbeddedCatalog::products()[0].name.clone();
    let one = format!("/product/{name}");
    let json_type = ("content-type", "application/json");
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("GET", "/products", None, vec![], String::new()),
        ("GET", "/products", Some("write:products"), vec![], String::new()),
        ("GET", "/products", Some("read:products"), vec![], String::new()),
        ("GET", "/products?limit=0", Some("read:products"), vec![], String::new()),
        ("GET", "/products?next=%21", Some("read:products"), vec![], String::new()),
        ("GET", &one, Some("read:products"), vec![], String::new()),
        ("GET", "/product/nope", Some("read:products"), vec![], String::new()),
        ("GET", "/product/.bad", Some("read:products"), vec![], String::new()),
        ("PUT", &one, Some("write:products"), vec![("content-type", "text/plain")], product.clone()),
        ("PUT", &one, Some("write:products"), vec![json_type], product.clone()),
        ("PUT", &one, Some("write:products"), vec![json_type], "{}".into()),
        ("PUT", &one, Some("write:products"), vec![json_type, ("if-none-match", "x")], product.clone()),
        ("PUT", &one, Some("write:products"), vec![json_type], "x".repeat(17 * 1024)),
        ("PUT", &one, Some("read:products"), vec![json_type], product.clone()),
        ("DELETE", &one, Some("write:products"), vec![], String::new()),
        ("DELETE", &one, None, vec![], String::new()),
    ];
    let document = generated();
    let client = reqwest::Client::new();
    let mut seen = std::collections::BTreeSet::new();
    for (method, target, scope, headers, body) in cases {
        let url = format!("http://{addr}{target}");
        let mut request = client.request(method.parse().unwrap(), &url).body(body);
        if let Some(scope) = scope {
            request = request.bearer_auth(token(scope));
        }
        for (header, value) in headers {
            request = request.header(header, value);
        }
        let response = request.send().await.unwrap();
        let what = format!("{method} {target} ({scope:?})");
        let status = response.status().as_u16().to_string();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let media = header("content-type").map(|v| v.split(';').next().unwrap().to_owned());
        let (etag, challenge) = (header("etag"), header("www-authenticate"));
        let text = response.text().await.unwrap();
        let path = target.split('?').next().unwrap();
        let route = jwt_scopes_api::RouteTable::global()
            .find(method, path)
            .unwrap()
            .route;
        let documented = &operation(&document, route)["responses"][&status];
        assert!(documented.is_object(), "{what}: {status} is not documented");
        if !text.is_empty() {
            let media = media.unwrap_or_default();
            let content = &documented["content"][&media];
            assert!(
                content.is_object(),
                "{what}: {status} {media} is not documented"
            );
            if media == "application/problem+json" {
                let body: Value = serde_json::from_str(&text).unwrap();
                let types = &content["schema"]["allOf"][1]["properties"]["type"]["enum"];
                assert!(
                    types.as_array().unwrap().contains(&body["type"]),
                    "{what}: {status} {} is not documented",
                    body["type"]
                );
                seen.insert(body["type"].as_str().unwrap().to_owned());
            }
        }
        if etag.is_some() {
            assert!(documented["headers"]["ETag"].is_object(), "{what}: ETag");
        }
        if challenge.is_some() {
            assert!(
                documented["headers"]["WWW-Authenticate"].is_object(),
                "{what}: WWW-Authenticate"
            );
        }
    }
    assert!(seen.len() >= 6, "too few problem types seen: {seen:?}");
}
