//! `template.yaml` against the route table: the table, the code and the deployment cannot drift.
//!
//! - Every route in `jwt_scopes_api::ROUTES` is an `HttpApi` event on `JwtApi` with the same method,
//!   path and `AuthorizationScopes` (as a set equal to the requirement's scopes), an `Api`
//!   event on `RestApi` with the same method and path, and an `AWS::ApiGateway::Method` on
//!   `RestJwtApi` with the same method, path (from its chain of `AWS::ApiGateway::Resource`s) and
//!   `AuthorizationScopes`, integrated with product-api.
//! - Every `HttpApi`/`Api` event and every method in the template is a route of the table: an
//!   extra route fails.
//! - A route that needs scopes never opts out of the API's authorizer; a `Public` route must
//!   (`Auth: {Authorizer: NONE}`, `AuthorizationType: NONE`), and names no scopes.
//! - Each API's authorizer exists and is the kind we deploy: JWT on the HTTP API, the
//!   `authorizer` function on the REST API, a `JWT` authorizer from the `Issuer`, `Audience` and
//!   `RestJwtAlgorithms` parameters on the REST JWT API, whose deployment waits for every method.
//! - The `AuthorizerRoutes` parameter reaches the authorizer's `AUTH_ROUTES` (unset by default),
//!   with the layer that may hold the document.
//!
//! Both JWT authorizers read `AuthorizationScopes` as any-of. For `AnyOf` and for a one-scope
//! `AllOf` that is the table's rule exactly; for an `AllOf` of several scopes the gateway check is
//! looser and product-api's own re-check is what enforces all of them.
//!
//! The template uses CloudFormation short-form tags (`!Ref`, `!If`, ...). serde_yaml keeps them as
//! `Value::Tagged`, so the file is read as an untyped `Value` and walked.

use jwt_scopes_api::{ROUTES, Requirement, Route, ScopeNames};
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const TEMPLATE: &str = "template.yaml";
const HTTP_API: &str = "JwtApi";
const REST_API: &str = "RestApi";
const REST_JWT_API: &str = "RestJwtApi";
const REST_JWT_AUTHORIZER: &str = "RestJwtAuthorizer";
const AUTHORIZER_FUNCTION: &str = "AuthorizerFunction";
const PRODUCT_API_FUNCTION: &str = "ProductApiFunction";

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TEMPLATE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{TEMPLATE} is not valid YAML: {e}"))
}

/// `map[key]`, or `None` when `map` is not a mapping or lacks the key.
fn get<'v>(map: &'v Value, key: &str) -> Option<&'v Value> {
    map.as_mapping()?.get(key)
}

/// The logical id in `!Ref Id` or `{Ref: Id}`.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        Value::Mapping(_) => get(value, "Ref")?.as_str(),
        _ => None,
    }
}

/// The `Resource.Attribute` in `!GetAtt Resource.Attribute` or `{Fn::GetAtt: [Resource, Attribute]}`.
fn get_att(value: &Value) -> Option<String> {
    let inner = match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => &tagged.value,
        Value::Mapping(_) => get(value, "Fn::GetAtt")?,
        _ => return None,
    };
    match inner {
        Value::String(dotted) => Some(dotted.clone()),
        Value::Sequence(parts) => {
            let parts: Option<Vec<&str>> = parts.iter().map(Value::as_str).collect();
            Some(parts?.join("."))
        }
        _ => None,
    }
}

fn resources(template: &Value) -> &serde_yaml::Mapping {
    get(template, "Resources")
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("{TEMPLATE} has no Resources mapping"))
}

fn resource<'t>(template: &'t Value, id: &str) -> &'t Value {
    resources(template)
        .get(id)
        .unwrap_or_else(|| panic!("{TEMPLATE} has no resource {id}"))
}

/// Which API an event or method attaches to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Api {
    Http,
    Rest,
    RestJwt,
}

/// One route as the template declares it.
#[derive(Debug)]
struct TemplateRoute {
    /// `Function.Event` or the method's logical id, for messages.
    origin: String,
    api: Api,
    method: String,
    path: String,
    /// `AuthorizationScopes`, if present.
    scopes: Option<BTreeSet<String>>,
    /// `Auth.Authorizer` of an event or `AuthorizationType` of a method, if present (`NONE` opts
    /// out of the authorizer).
    authorizer: Option<String>,
}

/// The parameter that spells the route table's scopes the issuer's way (`SCOPE_NAMES`).
const SCOPE_PREFIX: &str = "ScopePrefix";

/// A scope as the template writes it, with `ScopePrefix` set to `prefix`: a plain string, or
/// `!Sub "${ScopePrefix}name"`.
fn scope_text(value: &Value, prefix: &str) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Tagged(tagged) if tagged.tag == "Sub" => Some(
            tagged
                .value
                .as_str()?
                .replace(&format!("${{{SCOPE_PREFIX}}}"), prefix),
        ),
        _ => None,
    }
}

/// Every `HttpApi` and `Api` event of every function and every REST JWT API method
/// ([`rest_jwt_methods`]), with problems found on the way (an event on another API, a missing
/// method or path, a scope that is not a string).
fn template_routes(template: &Value, prefix: &str) -> (Vec<TemplateRoute>, Vec<String>) {
    let mut routes = Vec::new();
    let mut problems = Vec::new();
    for (id, resource) in resources(template) {
        let id = id.as_str().unwrap_or("?");
        if get(resource, "Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(events) = get(resource, "Properties")
            .and_then(|p| get(p, "Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (name, event) in events {
            let origin = format!("{id}.Events.{}", name.as_str().unwrap_or("?"));
            let (api, api_key, expected_api) = match get(event, "Type").and_then(Value::as_str) {
                Some("HttpApi") => (Api::Http, "ApiId", HTTP_API),
                Some("Api") => (Api::Rest, "RestApiId", REST_API),
                _ => continue,
            };
            let properties = get(event, "Properties").unwrap_or(&Value::Null);
            let attached = get(properties, api_key).and_then(reference);
            if attached != Some(expected_api) {
                problems.push(format!(
                    "{origin}: {api_key} is {attached:?}, expected !Ref {expected_api} \
                     (without it SAM creates an implicit API with no authorizer)"
                ));
            }
            let text = |key: &str| {
                get(properties, key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let (Some(method), Some(path)) = (text("Method"), text("Path")) else {
                problems.push(format!(
                    "{origin}: Method and Path must both be plain strings"
                ));
                continue;
            };
            let auth = get(properties, "Auth").unwrap_or(&Value::Null);
            let scopes = authorization_scopes(auth, prefix, &origin, &mut problems);
            routes.push(TemplateRoute {
                origin,
                api,
                method: method.to_ascii_uppercase(),
                path,
                scopes,
                authorizer: get(auth, "Authorizer")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
    }
    let (methods, method_problems) = rest_jwt_methods(template, prefix);
    routes.extend(methods);
    problems.extend(method_problems);
    (routes, problems)
}

/// `AuthorizationScopes` of an event's `Auth` or of a method's properties, with `ScopePrefix` =
/// `prefix`; a problem when it is not a list of scopes as [`scope_text`] reads them.
fn authorization_scopes(
    holder: &Value,
    prefix: &str,
    origin: &str,
    problems: &mut Vec<String>,
) -> Option<BTreeSet<String>> {
    match get(holder, "AuthorizationScopes") {
        None => None,
        Some(Value::Sequence(items)) => {
            let strings: Option<BTreeSet<String>> =
                items.iter().map(|s| scope_text(s, prefix)).collect();
            if strings.is_none() {
                problems.push(format!(
                    "{origin}: AuthorizationScopes must list strings or \
                     !Sub \"${{{SCOPE_PREFIX}}}name\""
                ));
            }
            strings
        }
        Some(other) => {
            problems.push(format!(
                "{origin}: AuthorizationScopes must be a list, found {other:?}"
            ));
            None
        }
    }
}

/// The path an `AWS::ApiGateway::Resource` (or the API's root, `!GetAtt RestJwtApi.RootResourceId`)
/// stands for, followed up its `ParentId`s: `/product/{name}`.
fn resource_path(template: &Value, resource_id: &Value) -> Result<String, String> {
    let root = format!("{REST_JWT_API}.RootResourceId");
    let mut segments = Vec::new();
    let mut at = resource_id;
    // Deeper than any path in the table; a ParentId loop stops here instead of spinning.
    for _ in 0..16 {
        if get_att(at).as_deref() == Some(root.as_str()) {
            segments.reverse();
            return Ok(format!("/{}", segments.join("/")));
        }
        let id = reference(at).ok_or_else(|| {
            format!("ResourceId/ParentId {at:?} is neither !Ref to a resource nor !GetAtt {root}")
        })?;
        let node = resources(template)
            .get(id)
            .ok_or_else(|| format!("no resource {id}"))?;
        if get(node, "Type").and_then(Value::as_str) != Some("AWS::ApiGateway::Resource") {
            return Err(format!("{id} is not an AWS::ApiGateway::Resource"));
        }
        let properties = get(node, "Properties").unwrap_or(&Value::Null);
        if get(properties, "RestApiId").and_then(reference) != Some(REST_JWT_API) {
            return Err(format!("{id} does not belong to {REST_JWT_API}"));
        }
        let part = get(properties, "PathPart")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{id}: PathPart must be a plain string"))?;
        segments.push(part.to_owned());
        at = get(properties, "ParentId").unwrap_or(&Value::Null);
    }
    Err(format!("{resource_id:?}: resource chain too deep"))
}

/// Every `AWS::ApiGateway::Method` in the template, as a route of the REST JWT API, with problems
/// found on the way: a method on another API, a path that cannot be followed, a method that needs
/// scopes but does not use the JWT authorizer, an integration that is not product-api.
fn rest_jwt_methods(template: &Value, prefix: &str) -> (Vec<TemplateRoute>, Vec<String>) {
    let mut routes = Vec::new();
    let mut problems = Vec::new();
    for (id, resource) in resources(template) {
        let origin = id.as_str().unwrap_or("?").to_owned();
        if get(resource, "Type").and_then(Value::as_str) != Some("AWS::ApiGateway::Method") {
            continue;
        }
        let properties = get(resource, "Properties").unwrap_or(&Value::Null);
        let attached = get(properties, "RestApiId").and_then(reference);
        if attached != Some(REST_JWT_API) {
            problems.push(format!(
                "{origin}: RestApiId is {attached:?}, expected !Ref {REST_JWT_API}"
            ));
        }
        let authorization = get(properties, "AuthorizationType").and_then(Value::as_str);
        let authorizer = get(properties, "AuthorizerId").and_then(reference);
        match authorization {
            Some("JWT") if authorizer == Some(REST_JWT_AUTHORIZER) => {}
            Some("NONE") if authorizer.is_none() => {}
            _ => problems.push(format!(
                "{origin}: AuthorizationType {authorization:?} with AuthorizerId {authorizer:?}; \
                 expected JWT with !Ref {REST_JWT_AUTHORIZER}, or NONE for a public route"
            )),
        }
        let integration = get(properties, "Integration").unwrap_or(&Value::Null);
        let uri = match get(integration, "Uri") {
            Some(Value::Tagged(tagged)) if tagged.tag == "Sub" => tagged.value.as_str(),
            _ => None,
        };
        let function = format!("${{{PRODUCT_API_FUNCTION}.Arn}}");
        if get(integration, "Type").and_then(Value::as_str) != Some("AWS_PROXY")
            || get(integration, "IntegrationHttpMethod").and_then(Value::as_str) != Some("POST")
            || !uri.is_some_and(|uri| uri.contains(&function))
        {
            problems.push(format!(
                "{origin}: Integration must be AWS_PROXY, POST, to {function}"
            ));
        }
        let Some(method) = get(properties, "HttpMethod").and_then(Value::as_str) else {
            problems.push(format!("{origin}: HttpMethod must be a plain string"));
            continue;
        };
        let path = get(properties, "ResourceId")
            .ok_or_else(|| "no ResourceId".to_owned())
            .and_then(|resource_id| resource_path(template, resource_id));
        let path = match path {
            Ok(path) => path,
            Err(problem) => {
                problems.push(format!("{origin}: {problem}"));
                continue;
            }
        };
        let scopes = authorization_scopes(properties, prefix, &origin, &mut problems);
        routes.push(TemplateRoute {
            origin,
            api: Api::RestJwt,
            method: method.to_ascii_uppercase(),
            path,
            scopes,
            authorizer: authorization.map(str::to_owned),
        });
    }
    (routes, problems)
}

fn table_key(route: &Route) -> (String, String) {
    (route.method.to_ascii_uppercase(), route.path.to_owned())
}

#[track_caller]
fn fail_on(problems: Vec<String>, what: &str) {
    assert!(
        problems.is_empty(),
        "{TEMPLATE} does not match {what}:\n  - {}\n",
        problems.join("\n  - ")
    );
}

#[test]
fn template_parses_and_has_routes() {
    let template = template();
    let (routes, _) = template_routes(&template, "");
    for api in [Api::Http, Api::Rest, Api::RestJwt] {
        assert!(
            routes.iter().any(|r| r.api == api),
            "{TEMPLATE} declares no {api:?} routes; found {routes:#?}"
        );
    }
}

#[test]
fn every_table_route_is_in_the_template_with_its_scopes() {
    for prefix in ["", "products/", "https://api.example.com/"] {
        table_routes_are_in_the_template(prefix);
    }
}

/// With `ScopePrefix` = `prefix`, the route scopes of both JWT APIs are the table's, spelled as
/// `SCOPE_NAMES` = `{prefix}{scope}` spells them for both Lambdas.
fn table_routes_are_in_the_template(prefix: &str) {
    let names = ScopeNames::parse(&format!("{prefix}{{scope}}")).unwrap();
    let template = template();
    let (routes, mut problems) = template_routes(&template, prefix);
    let mut by_key: BTreeMap<(Api, String, String), Vec<&TemplateRoute>> = BTreeMap::new();
    for route in &routes {
        by_key
            .entry((route.api, route.method.clone(), route.path.clone()))
            .or_default()
            .push(route);
    }
    for (key, found) in &by_key {
        if found.len() > 1 {
            let origins: Vec<&str> = found.iter().map(|r| r.origin.as_str()).collect();
            problems.push(format!(
                "{} {} declared twice on {:?}: {origins:?}",
                key.1, key.2, key.0
            ));
        }
    }
    for route in ROUTES {
        let (method, path) = table_key(route);
        let wanted: BTreeSet<String> = route
            .requirement
            .scopes()
            .iter()
            .map(|s| names.issuer_name(s).into_owned())
            .collect();
        let public = route.requirement == Requirement::Public;
        for (api, api_name, event_type) in [
            (Api::Http, HTTP_API, "HttpApi event"),
            (Api::Rest, REST_API, "Api event"),
            (Api::RestJwt, REST_JWT_API, "AWS::ApiGateway::Method"),
        ] {
            let Some(found) = by_key.get(&(api, method.clone(), path.clone())) else {
                problems.push(format!(
                    "route table has {method} {path} ({:?}) but {api_name} has no {event_type} \
                     for it",
                    route.requirement
                ));
                continue;
            };
            let event = found[0];
            let opted_out = event.authorizer.as_deref() == Some("NONE");
            if public && !opted_out {
                problems.push(format!(
                    "{}: {method} {path} is Public in the table, so it needs \
                     Auth: {{Authorizer: NONE}} (AuthorizationType: NONE on a method)",
                    event.origin
                ));
            }
            if !public && opted_out {
                problems.push(format!(
                    "{}: {method} {path} needs {:?} but opts out of the authorizer",
                    event.origin, route.requirement
                ));
            }
            if api != Api::Rest {
                let declared = event.scopes.clone().unwrap_or_default();
                if declared != wanted {
                    problems.push(format!(
                        "{}: {method} {path} has AuthorizationScopes {declared:?}, \
                         the route table says {wanted:?}",
                        event.origin
                    ));
                }
            } else if let Some(scopes) = &event.scopes {
                problems.push(format!(
                    "{}: REST event carries AuthorizationScopes {scopes:?}; the Lambda \
                     authorizer enforces scopes from the table, remove them",
                    event.origin
                ));
            }
        }
    }
    fail_on(problems, "the route table (src/routes.rs)");
}

#[test]
fn no_template_route_is_missing_from_the_table() {
    let template = template();
    let (routes, _) = template_routes(&template, "");
    let table: BTreeSet<(String, String)> = ROUTES.iter().map(table_key).collect();
    let extra: Vec<String> = routes
        .iter()
        .filter(|r| !table.contains(&(r.method.clone(), r.path.clone())))
        .map(|r| {
            format!(
                "{}: {} {} is not in the route table; add it to ROUTES or remove it",
                r.origin, r.method, r.path
            )
        })
        .collect();
    fail_on(extra, "the route table (src/routes.rs)");
}

#[test]
fn each_api_defaults_to_the_intended_authorizer() {
    let template = template();
    let mut problems = Vec::new();
    let auth_of = |api: &str| {
        get(resource(&template, api), "Properties")
            .and_then(|p| get(p, "Auth"))
            .unwrap_or(&Value::Null)
    };
    let default_authorizer = |api: &str, problems: &mut Vec<String>| -> Option<Value> {
        let auth = auth_of(api);
        let Some(name) = get(auth, "DefaultAuthorizer").and_then(Value::as_str) else {
            problems.push(format!("{api}: Auth.DefaultAuthorizer is not set"));
            return None;
        };
        let found = get(auth, "Authorizers").and_then(|a| get(a, name)).cloned();
        if found.is_none() {
            problems.push(format!(
                "{api}: DefaultAuthorizer {name:?} is not defined in Auth.Authorizers"
            ));
        }
        found
    };
    if let Some(jwt) = default_authorizer(HTTP_API, &mut problems) {
        let config = get(&jwt, "JwtConfiguration");
        if config.and_then(|c| get(c, "issuer")).is_none()
            || config.and_then(|c| get(c, "audience")).is_none()
        {
            problems.push(format!(
                "{HTTP_API}: the default authorizer needs JwtConfiguration issuer and audience"
            ));
        }
        if get(&jwt, "IdentitySource").and_then(Value::as_str)
            != Some("$request.header.Authorization")
        {
            problems.push(format!(
                "{HTTP_API}: the default authorizer must read $request.header.Authorization"
            ));
        }
    }
    if let Some(lambda) = default_authorizer(REST_API, &mut problems) {
        let function = get(&lambda, "FunctionArn").and_then(get_att);
        let wanted = format!("{AUTHORIZER_FUNCTION}.Arn");
        if function.as_deref() != Some(wanted.as_str()) {
            problems.push(format!(
                "{REST_API}: the default authorizer's FunctionArn is {function:?}, expected \
                 !GetAtt {wanted}"
            ));
        }
        let payload = get(&lambda, "FunctionPayloadType").and_then(Value::as_str);
        if !matches!(payload, Some("TOKEN" | "REQUEST")) {
            problems.push(format!(
                "{REST_API}: FunctionPayloadType is {payload:?}, expected TOKEN or REQUEST"
            ));
        }
    }
    rest_jwt_authorizer_is_configured(&template, &mut problems);
    fail_on(problems, "the intended authorizers");
}

/// The REST JWT API's authorizer reads the Authorization header and trusts exactly the issuer,
/// audiences and algorithms the parameters name, the same `Issuer` and `Audience` the other two
/// APIs use.
fn rest_jwt_authorizer_is_configured(template: &Value, problems: &mut Vec<String>) {
    let authorizer = resource(template, REST_JWT_AUTHORIZER);
    if get(authorizer, "Type").and_then(Value::as_str) != Some("AWS::ApiGateway::Authorizer") {
        problems.push(format!(
            "{REST_JWT_AUTHORIZER}: must be an AWS::ApiGateway::Authorizer"
        ));
    }
    let properties = get(authorizer, "Properties").unwrap_or(&Value::Null);
    let text = |key: &str| get(properties, key).and_then(Value::as_str);
    if text("Type") != Some("JWT")
        || text("IdentitySource") != Some("method.request.header.Authorization")
        || get(properties, "RestApiId").and_then(reference) != Some(REST_JWT_API)
    {
        problems.push(format!(
            "{REST_JWT_AUTHORIZER}: must be Type JWT on !Ref {REST_JWT_API}, reading \
             method.request.header.Authorization"
        ));
    }
    let config = get(properties, "JwtConfiguration").unwrap_or(&Value::Null);
    if get(config, "DefaultAlgorithms").and_then(reference) != Some("RestJwtAlgorithms") {
        problems.push(format!(
            "{REST_JWT_AUTHORIZER}: DefaultAlgorithms must be !Ref RestJwtAlgorithms"
        ));
    }
    let issuers = get(config, "Issuers").and_then(Value::as_sequence);
    let configured = issuers.is_some_and(|issuers| {
        issuers.len() == 1
            && get(&issuers[0], "Issuer").and_then(reference) == Some("Issuer")
            && get(&issuers[0], "Audiences").and_then(reference) == Some("Audience")
    });
    if !configured {
        problems.push(format!(
            "{REST_JWT_AUTHORIZER}: Issuers must be one entry, Issuer !Ref Issuer with \
             Audiences !Ref Audience"
        ));
    }
}

/// A deployment snapshots the methods that exist when it is created, and nothing orders it after
/// them but `DependsOn`: without it the stage can go live with methods missing.
#[test]
fn the_rest_jwt_deployment_waits_for_every_method() {
    let template = template();
    let deployments: Vec<&Value> = resources(&template)
        .values()
        .filter(|r| get(r, "Type").and_then(Value::as_str) == Some("AWS::ApiGateway::Deployment"))
        .collect();
    assert_eq!(
        deployments.len(),
        1,
        "{TEMPLATE} should have one AWS::ApiGateway::Deployment, for {REST_JWT_API}"
    );
    let depends_on: BTreeSet<&str> = get(deployments[0], "DependsOn")
        .and_then(Value::as_sequence)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (methods, _) = rest_jwt_methods(&template, "");
    let missing: Vec<String> = methods
        .iter()
        .filter(|m| !depends_on.contains(m.origin.as_str()))
        .map(|m| format!("the deployment's DependsOn lacks {}", m.origin))
        .collect();
    fail_on(missing, "the REST JWT API's methods");
}

#[test]
fn functions_build_the_crate_binaries() {
    let template = template();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    for (id, binary) in [
        (PRODUCT_API_FUNCTION, "product-api"),
        (AUTHORIZER_FUNCTION, "authorizer"),
    ] {
        let metadata = get(resource(&template, id), "Metadata");
        let method = metadata
            .and_then(|m| get(m, "BuildMethod"))
            .and_then(Value::as_str);
        let named = metadata
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|p| get(p, "Binary"))
            .and_then(Value::as_str);
        if method != Some("rust-cargolambda") || named != Some(binary) {
            problems.push(format!(
                "{id}: Metadata builds {named:?} with {method:?}, expected Binary {binary:?} \
                 with rust-cargolambda"
            ));
        }
        let source = root.join("src/bin").join(format!("{binary}.rs"));
        if !source.is_file() {
            problems.push(format!(
                "{id}: binary {binary:?} has no {}",
                source.display()
            ));
        }
    }
    fail_on(problems, "the crate's binaries");
}

#[test]
fn both_functions_read_the_scope_names_the_routes_are_deployed_with() {
    let template = template();
    assert!(
        get(&template, "Parameters")
            .and_then(|p| get(p, SCOPE_PREFIX))
            .is_some(),
        "{TEMPLATE} has no {SCOPE_PREFIX} parameter"
    );
    for function in [PRODUCT_API_FUNCTION, AUTHORIZER_FUNCTION] {
        let value = get(resource(&template, function), "Properties")
            .and_then(|p| get(p, "Environment"))
            .and_then(|e| get(e, "Variables"))
            .and_then(|v| get(v, ScopeNames::VARIABLE))
            .unwrap_or_else(|| panic!("{function} sets no {}", ScopeNames::VARIABLE));
        assert_eq!(
            scope_text(value, "products/").as_deref(),
            Some("products/{scope}"),
            "{function}: {} must be !Sub \"${{{SCOPE_PREFIX}}}{{scope}}\"",
            ScopeNames::VARIABLE
        );
    }
}

/// `value` as CloudFormation deploys it with the parameters `given` (the others at their
/// defaults): `!Ref` of a parameter, `!If` and the conditions (`!Not`, `!Equals`, `!And`,
/// `!Condition`); `None` for `AWS::NoValue`, which drops the property or list item.
fn resolve(template: &Value, given: &[(&str, &str)], value: &Value) -> Option<Value> {
    let Value::Tagged(tagged) = value else {
        return Some(match value {
            Value::Sequence(items) => Value::Sequence(
                items
                    .iter()
                    .filter_map(|item| resolve(template, given, item))
                    .collect(),
            ),
            other => other.clone(),
        });
    };
    let args = tagged.value.as_sequence().map(Vec::as_slice).unwrap_or(&[]);
    let truth = |value: &Value| resolve(template, given, value).and_then(|v| v.as_bool());
    let condition = |name: &Value| {
        let name = name.as_str().expect("a condition name");
        let body = get(template, "Conditions").and_then(|c| get(c, name));
        truth(body.unwrap_or_else(|| panic!("no condition {name}"))).expect("a boolean")
    };
    let tag = tagged.tag.to_string();
    match (tag.trim_start_matches('!'), args) {
        ("Ref", _) => match tagged.value.as_str()? {
            "AWS::NoValue" => None,
            name => Some(match given.iter().find(|(n, _)| *n == name) {
                Some((_, text)) => Value::String((*text).to_owned()),
                None => get(template, "Parameters")
                    .and_then(|p| get(p, name))
                    .and_then(|p| get(p, "Default"))
                    .unwrap_or_else(|| panic!("parameter {name} has no default"))
                    .clone(),
            }),
        },
        ("If", [name, then, otherwise]) => resolve(
            template,
            given,
            if condition(name) { then } else { otherwise },
        ),
        ("Condition", _) => Some(Value::Bool(condition(&tagged.value))),
        ("Not", [inner]) => Some(Value::Bool(!truth(inner)?)),
        ("And", all) => Some(Value::Bool(all.iter().all(|c| truth(c) == Some(true)))),
        ("Or", any) => Some(Value::Bool(any.iter().any(|c| truth(c) == Some(true)))),
        ("Equals", [a, b]) => Some(Value::Bool(
            resolve(template, given, a) == resolve(template, given, b),
        )),
        (other, _) => panic!("resolve does not read !{other}"),
    }
}

/// `AuthorizerRoutes` reaches the authorizer's `AUTH_ROUTES` as given, and leaves it unset by
/// default (the compiled-in table); `AuthorizerRoutesLayerArn` attaches the layer the document
/// is read from, beside the secrets extension when that is there too; a rule stops a deployment
/// that also sets `ScopePrefix`, which the authorizer would refuse at cold start.
#[test]
fn the_authorizer_routes_parameter_reaches_auth_routes() {
    let template = template();
    let properties = get(resource(&template, AUTHORIZER_FUNCTION), "Properties").unwrap();
    let routes = |given: &[(&str, &str)]| {
        let variables = get(properties, "Environment").and_then(|e| get(e, "Variables"));
        let value = variables.and_then(|v| get(v, "AUTH_ROUTES"));
        resolve(
            &template,
            given,
            value.expect("AUTH_ROUTES is set from a parameter"),
        )
    };
    assert_eq!(routes(&[]), None, "unset by default");
    for document in ["/opt/openapi.json", r#"{"openapi": "3.1.0", "paths": {}}"#] {
        assert_eq!(
            routes(&[("AuthorizerRoutes", document)]),
            Some(Value::String(document.to_owned()))
        );
    }
    let layers = |given: &[(&str, &str)]| {
        let layers = resolve(&template, given, get(properties, "Layers").unwrap());
        layers.map(|l| serde_yaml::from_value::<Vec<String>>(l).unwrap())
    };
    let routes_layer = (
        "AuthorizerRoutesLayerArn",
        "arn:aws:lambda:eu-west-1:123456789012:layer:routes:3",
    );
    let secret = [
        (
            "HmacSecretArn",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hmac-AbCdEf",
        ),
        (
            "SecretsExtensionLayerArn",
            "arn:aws:lambda:eu-west-1:123456789012:layer:ext:12",
        ),
    ];
    assert_eq!(layers(&[]), None);
    assert_eq!(
        layers(&[routes_layer]),
        Some(vec![routes_layer.1.to_owned()])
    );
    assert_eq!(layers(&secret), Some(vec![secret[1].1.to_owned()]));
    assert_eq!(
        layers(&[secret[0], secret[1], routes_layer]),
        Some(vec![secret[1].1.to_owned(), routes_layer.1.to_owned()])
    );
    let rules = get(&template, "Rules").and_then(Value::as_mapping).unwrap();
    let holds = |given: &[(&str, &str)]| {
        rules.values().all(|rule| {
            let applies = get(rule, "RuleCondition")
                .is_none_or(|c| resolve(&template, given, c) == Some(Value::Bool(true)));
            let assertions = get(rule, "Assertions")
                .and_then(Value::as_sequence)
                .unwrap();
            !applies
                || assertions.iter().all(|a| {
                    resolve(&template, given, get(a, "Assert").unwrap()) == Some(Value::Bool(true))
                })
        })
    };
    let document = ("AuthorizerRoutes", "/opt/openapi.json");
    assert!(holds(&[document]));
    assert!(holds(&[(SCOPE_PREFIX, "products/")]));
    assert!(
        !holds(&[document, (SCOPE_PREFIX, "products/")]),
        "a rule refuses AuthorizerRoutes with a ScopePrefix"
    );
}
