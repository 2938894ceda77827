//! `explain`: tokens whose answers differ between the gates, judged by each gate's own code.
//! Claims without a token; tokens verified against an issuer on 127.0.0.1 (RSA and EC keys made
//! here) and against a running gateway's development issuer; and the command line itself.

#[path = "../../../tests/support/mod.rs"]
mod support;

use jsonwebtoken::Algorithm;
use jwt_scopes_api::reason::Reason;
use local_gateway::explain::{Check, Explainer, Gate, Report, Verdict, Verification};
use local_gateway::{AuthorizerMode, Gateway, GatewayConfig, serve};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use support::{Reply, TestKey, TestServer, claims, jwks, now};
use tokio::net::TcpListener;

const NO_GATEWAY: &str = "http://127.0.0.1:9";

fn env(vars: &[(&str, String)]) -> BTreeMap<String, String> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn explain_claims(vars: &[(&str, String)], value: Value) -> Report {
    let explainer = Explainer::new(&env(vars), NO_GATEWAY).unwrap();
    explainer.claims(object(value), now())
}

fn verdict(report: &Report, route: &str, gate: Gate) -> Verdict {
    let (method, path) = route.split_once(' ').unwrap();
    let route = report.route(method, path).expect(route);
    route.gate(gate).verdict.clone()
}

fn recheck(report: &Report, route: &str, gate: Gate) -> Option<Verdict> {
    let (method, path) = route.split_once(' ').unwrap();
    report
        .route(method, path)
        .unwrap()
        .gate(gate)
        .recheck
        .clone()
}

fn forbidden(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Forbidden(Reason::InsufficientScope, _))
}

#[test]
fn scopes_only_in_permissions_get_through_our_authorizer_alone() {
    // Auth0 RBAC: the scopes are in `permissions`, `scope` holds only OIDC scopes.
    let report = explain_claims(
        &[],
        json!({"sub": "auth0|1", "scope": "openid profile", "permissions": ["read:products"]}),
    );
    assert!(
        matches!(report.verified, Verification::NotVerified(_)),
        "claims alone are not verified"
    );
    for gate in [Gate::HttpApiJwt, Gate::RestApiJwt] {
        let refused = verdict(&report, "GET /products", gate);
        assert!(forbidden(&refused), "{gate:?}: {refused}");
        let why = refused.to_string();
        assert!(
            why.contains("permissions holds read:products, which this gate does not read"),
            "{why}"
        );
        assert_eq!(recheck(&report, "GET /products", gate), None);
    }
    let ours = verdict(&report, "GET /products", Gate::Lambda);
    assert!(ours.lets_through(), "{ours}");
    let behind = recheck(&report, "GET /products", Gate::Lambda).unwrap();
    assert!(
        behind.lets_through(),
        "product-api reads our context: {behind}"
    );
    assert!(forbidden(&verdict(
        &report,
        "PUT /product/{name}",
        Gate::Lambda
    )));
    let cognito = verdict(&report, "GET /products", Gate::Cognito);
    assert!(matches!(cognito, Verdict::Unavailable(_)), "{cognito}");
}

#[test]
fn a_route_needing_two_scopes_lets_one_through_the_built_in_authorizers_only() {
    // Another API's contract: GET /orders needs both scopes (one requirement object, all-of);
    // /health is public. The built-in authorizers hold one list per route: any of it suffices.
    let document = json!({
        "openapi": "3.1.0",
        "info": {"title": "orders", "version": "1"},
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {
            "clientCredentials": {"tokenUrl": "https://idp.example/token", "scopes": {
                "orders:read": "", "orders:write": ""}}}}}},
        "paths": {
            "/orders": {"get": {"security": [{"oauth": ["orders:read", "orders:write"]}],
                "responses": {"200": {"description": "ok"}}}},
            "/health": {"get": {"security": [], "responses": {"200": {"description": "ok"}}}}
        }
    });
    let vars = [("AUTH_ROUTES", document.to_string())];
    let one = explain_claims(&vars, json!({"scope": "orders:read"}));
    for gate in [Gate::HttpApiJwt, Gate::RestApiJwt] {
        assert!(verdict(&one, "GET /orders", gate).lets_through());
        assert_eq!(
            recheck(&one, "GET /orders", gate),
            None,
            "not product-api's route"
        );
    }
    let ours = verdict(&one, "GET /orders", Gate::Lambda);
    assert!(forbidden(&ours), "{ours}");
    assert!(
        ours.to_string().contains("orders:read + orders:write"),
        "{ours}"
    );
    let both = explain_claims(&vars, json!({"scp": ["orders:read", "orders:write"]}));
    assert!(verdict(&both, "GET /orders", Gate::Lambda).lets_through());
    for gate in Gate::ALL {
        assert_eq!(verdict(&one, "GET /health", gate), Verdict::Public);
    }
}

#[test]
fn a_look_alike_scope_gets_through_no_gate() {
    let report = explain_claims(
        &[],
        json!({"scope": "read:product Read:products read:products:all products/read:products"}),
    );
    for gate in [Gate::HttpApiJwt, Gate::RestApiJwt, Gate::Lambda] {
        let refused = verdict(&report, "GET /products", gate);
        assert!(forbidden(&refused), "{gate:?}: {refused}");
    }
}

#[test]
fn cognito_wants_an_access_token_with_a_scope_and_product_api_reads_its_strings() {
    let iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E";
    let vars = [("SCOPE_NAMES", "products/{scope}".to_owned())];
    let access = explain_claims(
        &vars,
        json!({"iss": iss, "sub": "u-1", "client_id": "app", "token_use": "access",
               "scope": "openid products/read:products"}),
    );
    let allowed = verdict(&access, "GET /products", Gate::Cognito);
    assert_eq!(
        allowed,
        Verdict::Allowed("products/read:products in scope".into())
    );
    let behind = recheck(&access, "GET /products", Gate::Cognito).unwrap();
    assert!(behind.lets_through(), "{behind}");
    // Every Cognito refusal is a 401; the HTTP API answers a missing scope with 403.
    let refused = verdict(&access, "PUT /product/{name}", Gate::Cognito);
    assert!(matches!(refused, Verdict::Unauthorized(..)), "{refused}");
    assert!(forbidden(&verdict(
        &access,
        "PUT /product/{name}",
        Gate::HttpApiJwt
    )));
    let id = explain_claims(
        &vars,
        json!({"iss": iss, "sub": "u-1", "aud": "app", "token_use": "id", "email": "a@b.c"}),
    );
    let refused = verdict(&id, "GET /products", Gate::Cognito);
    assert!(
        refused.to_string().contains("takes an access token"),
        "{refused}"
    );
}

#[test]
fn the_http_api_jwt_authorizer_stringifies_claims_and_product_api_still_reads_them() {
    let report = explain_claims(&[], json!({"sub": "u", "scp": ["read:products", "other"]}));
    let behind = recheck(&report, "GET /products", Gate::HttpApiJwt).unwrap();
    assert!(behind.lets_through(), "\"[read:products other]\": {behind}");
    let behind = recheck(&report, "GET /products", Gate::RestApiJwt).unwrap();
    assert!(behind.lets_through(), "typed claims: {behind}");
}

/// An issuer on 127.0.0.1 with an RSA and an EC key, configured as `template.yaml` does.
async fn issuer() -> (TestServer, TestKey, TestKey, Explainer) {
    let idp = TestServer::start().await;
    let rsa = TestKey::generate(Algorithm::RS256, "rsa-1");
    let ec = TestKey::generate(Algorithm::ES256, "ec-1");
    idp.set("/jwks", Reply::Json(jwks(&[&rsa, &ec])));
    let vars = [
        ("AUTH_ISSUER", idp.url("")),
        ("AUTH_AUDIENCE", "products-api".to_owned()),
        ("AUTH_JWKS_URI", idp.url("/jwks")),
    ];
    let explainer = Explainer::new(&env(&vars), NO_GATEWAY).unwrap();
    (idp, rsa, ec, explainer)
}

fn checks(report: &Report) -> Vec<Check> {
    report.checks.iter().map(|(_, c)| c.clone()).collect()
}

fn failed(reason: Reason) -> impl Fn(&Check) -> bool {
    move |check| matches!(check, Check::Failed(error) if Reason::from(error) == reason)
}

#[tokio::test]
async fn each_gate_names_the_check_a_verified_token_fails() {
    let (idp, rsa, ec, explainer) = issuer().await;
    let iss = idp.url("");
    // Each report is made at the clock of its call: a token signed a second after a `now`
    // taken earlier would be "not yet valid" to the gates without leeway.

    // A Cognito-style access token: no `aud`, its `client_id` the audience. The HTTP API reads
    // `client_id` then, the REST API documents `aud` only (RFC 9068 §4 for the rule we share).
    let no_aud = rsa.sign(&claims(
        &iss,
        json!({"aud": null, "client_id": "products-api", "scope": "read:products"}),
    ));
    let report = explainer.token(&no_aud, now()).await;
    assert!(
        matches!(report.verified, Verification::Verified { .. }),
        "{:?}",
        report.verified
    );
    let [http, rest, _, ours] = checks(&report).try_into().unwrap();
    assert_eq!((http, ours), (Check::Passed, Check::Passed));
    assert!(failed(Reason::WrongAudience)(&rest), "{rest:?}");
    let refused = verdict(&report, "GET /products", Gate::RestApiJwt);
    assert!(
        matches!(refused, Verdict::Unauthorized(Reason::WrongAudience, _)),
        "{refused}"
    );
    assert!(verdict(&report, "GET /products", Gate::HttpApiJwt).lets_through());

    // ES256: the HTTP API verifies RSA only.
    let es = ec.sign(&claims(&iss, json!({"scope": "read:products"})));
    let [http, rest, _, ours] = checks(&explainer.token(&es, now()).await)
        .try_into()
        .unwrap();
    assert!(failed(Reason::AlgorithmNotAllowed)(&http), "{http:?}");
    assert_eq!((rest, ours), (Check::Passed, Check::Passed));

    // Expired, from another issuer, signed by another key under a known kid: every gate.
    let expired = rsa.sign(&claims(
        &iss,
        json!({"exp": now() - 3600, "iat": now() - 7200}),
    ));
    let other_key = TestKey::generate(Algorithm::RS256, "rsa-1");
    let cases = [
        (expired, Reason::Expired),
        (
            other_key.sign(&claims(&iss, json!({}))),
            Reason::BadSignature,
        ),
    ];
    for (token, reason) in cases {
        let report = explainer.token(&token, now()).await;
        for (gate, check) in &report.checks {
            if *gate != Gate::Cognito {
                assert!(failed(reason)(check), "{gate:?} {reason}: {check:?}");
            }
        }
        let refused = verdict(&report, "GET /products", Gate::Lambda);
        assert!(matches!(refused, Verdict::Unauthorized(r, _) if r == reason));
    }
    let report = explainer.token("not.a-token", now()).await;
    assert!(
        report
            .checks
            .iter()
            .all(|(_, c)| failed(Reason::Malformed)(c))
    );
}

/// A Cognito user pool as `template.yaml` configures it (`AUTH_TOKEN_USE=access`, scopes of
/// the resource server `products`); its keys served from 127.0.0.1.
#[tokio::test]
async fn cognito_tokens_verified_as_each_gate_would() {
    let idp = TestServer::start().await;
    let key = TestKey::generate(Algorithm::RS256, "pool-key");
    idp.set("/jwks", Reply::Json(jwks(&[&key])));
    let pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12Cd34E";
    let vars = [
        ("AUTH_ISSUER", pool.to_owned()),
        ("AUTH_AUDIENCE", "app-client".to_owned()),
        ("AUTH_JWKS_URI", idp.url("/jwks")),
        ("AUTH_TOKEN_USE", "access".to_owned()),
        ("SCOPE_NAMES", "products/{scope}".to_owned()),
    ];
    let explainer = Explainer::new(&env(&vars), NO_GATEWAY).unwrap();
    let access = key.sign(&claims(
        pool,
        json!({"aud": null, "client_id": "app-client", "token_use": "access",
               "scope": "products/read:products"}),
    ));
    let report = explainer.token(&access, now()).await;
    let [http, rest, cognito, ours] = checks(&report).try_into().unwrap();
    assert_eq!(
        [http, cognito, ours],
        [Check::Passed, Check::Passed, Check::Passed]
    );
    assert!(
        failed(Reason::WrongAudience)(&rest),
        "REST documents aud only: {rest:?}"
    );
    for gate in [Gate::HttpApiJwt, Gate::Cognito, Gate::Lambda] {
        assert!(
            verdict(&report, "GET /products", gate).lets_through(),
            "{gate:?}"
        );
        let behind = recheck(&report, "GET /products", gate).unwrap();
        assert!(behind.lets_through(), "{gate:?}: {behind}");
    }
    // An ID token: the HTTP API has no token_use check, ours and the REST API's do, and a
    // Cognito authorizer takes it only on a method without scopes.
    let id = key.sign(&claims(
        pool,
        json!({"aud": "app-client", "token_use": "id", "email": "a@example.com"}),
    ));
    let report = explainer.token(&id, now()).await;
    let [http, rest, cognito, ours] = checks(&report).try_into().unwrap();
    assert_eq!([http, cognito], [Check::Passed, Check::Passed]);
    assert!(failed(Reason::WrongTokenType)(&rest), "{rest:?}");
    assert!(failed(Reason::WrongTokenType)(&ours), "{ours:?}");
    let refused = verdict(&report, "GET /products", Gate::Cognito);
    assert!(matches!(refused, Verdict::Unauthorized(..)), "{refused}");
}

#[tokio::test]
async fn a_token_of_the_running_development_issuer_is_verified_by_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gateway = Gateway::new(GatewayConfig::new(AuthorizerMode::Jwt), addr).unwrap();
    tokio::spawn(serve(listener, gateway.clone()));
    let dev = gateway.dev_issuer().unwrap();
    let request = serde_json::from_value(json!({"scope": "read:products"})).unwrap();
    let token = dev.mint(&request, now()).unwrap().access_token;
    let explainer = Explainer::new(&BTreeMap::new(), gateway.base_url()).unwrap();
    let report = explainer.token(&format!("Bearer {token}"), now()).await;
    assert_eq!(
        report.verified,
        Verification::Verified {
            issuers: vec![gateway.base_url().to_owned()]
        }
    );
    assert_eq!(
        report.verified.to_string(),
        format!("verified against {}", gateway.base_url())
    );
    assert!(verdict(&report, "GET /products", Gate::HttpApiJwt).lets_through());
    assert!(forbidden(&verdict(
        &report,
        "DELETE /product/{name}",
        Gate::Lambda
    )));

    // Any other issuer's token is judged unverified, and the report says why.
    let stranger = TestKey::generate(Algorithm::RS256, "k");
    let token = stranger.sign(&claims(
        "https://idp.example",
        json!({"scope": "read:products"}),
    ));
    let report = explainer.token(&token, now()).await;
    let Verification::NotVerified(why) = report.verified else {
        panic!("a stranger's token is verified: {:?}", report.verified);
    };
    assert!(why.contains("no issuer configured"), "{why}");
    assert!(report.checks.iter().all(|(_, c)| *c == Check::NotChecked));
}

#[test]
fn the_command_prints_every_route_under_every_gate() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_local-gateway"))
        .args([
            "explain",
            "--claims",
            r#"{"permissions":["read:products"]}"#,
        ])
        .env_remove("AUTH_ISSUER")
        .env_remove("AUTH_CONFIG")
        .env_remove("AUTH_ROUTES")
        .env_remove("SCOPE_NAMES")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("Token not verified"), "{text}");
    for line in [
        "GET /products  needs read:products",
        "DELETE /product/{name}  needs write:products",
        "HTTP API JWT authorizer      403 insufficient-scope",
        "Lambda authorizer (ours)     allow: read:products granted",
        "then product-api: allow: read:products granted",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_local-gateway"))
        .args(["explain", "--claims", "[1]"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--claims: not a JSON object"));
}

/// The Lambda authorizer's CEL rules (issue 25): the issuer's rule refuses on every route with
/// its own reason; a route rule on the claims is judged, one on the request is said to be
/// decided per request; the built-in gates have no rules.
#[test]
fn each_rule_has_its_verdict_under_the_lambda_authorizer() {
    let document = r#"{"openapi": "3.1.0",
      "components": {"securitySchemes": {"o": {"type": "oauth2"}}},
      "paths": {
        "/gold": {"get": {"security": [{"o": ["read"]}], "x-authorizer-rule": "claims.tier == \"gold\""}},
        "/tenants/{id}": {"get": {"security": [{"o": ["read"]}],
          "x-authorizer-rule": "claims.tenant == request.pathParameters.id"}}}}"#;
    let vars = [
        ("AUTH_ISSUER", "https://issuer.example/".to_owned()),
        ("AUTH_AUDIENCE", "api".to_owned()),
        ("AUTH_ROUTES", document.to_owned()),
        (
            "AUTH_RULE",
            r#"claims.roles.exists(r, r == "admin")"#.to_owned(),
        ),
    ];
    let claims = |tier: &str, roles: Value| {
        json!({"iss": "https://issuer.example/", "sub": "u", "scope": "read", "tier": tier,
            "tenant": "a", "roles": roles})
    };
    let admin = explain_claims(&vars, claims("gold", json!(["admin"])));
    let lambda = |report: &Report, route| verdict(report, route, Gate::Lambda);
    assert!(lambda(&admin, "GET /gold").lets_through());
    let per_request = lambda(&admin, "GET /tenants/{id}");
    assert!(
        per_request.to_string().contains("decided per request"),
        "{per_request}"
    );
    let silver = explain_claims(&vars, claims("silver", json!(["admin"])));
    assert!(matches!(
        lambda(&silver, "GET /gold"),
        Verdict::Forbidden(Reason::RouteRuleRefused, _)
    ));
    assert!(verdict(&silver, "GET /gold", Gate::HttpApiJwt).lets_through());
    let user = explain_claims(&vars, claims("gold", json!(["user"])));
    for route in ["GET /gold", "GET /tenants/{id}"] {
        assert!(matches!(
            lambda(&user, route),
            Verdict::Unauthorized(Reason::IssuerRuleRefused, _)
        ));
    }
}

/// RFC 9449 / RFC 8705: a token with `cnf` is said to be bound, with what each gate would need.
#[test]
fn a_bound_token_is_explained_with_what_the_gate_needs_to_see() {
    let issuer = ("AUTH_ISSUER", "https://issuer.example.com/".to_owned());
    let audience = ("AUTH_AUDIENCE", "products-api".to_owned());
    let vars = [issuer, audience];
    let bearer = explain_claims(&vars, json!({"scope": "read:products"}));
    assert_eq!(bearer.binding(), None);
    let dpop = explain_claims(&vars, json!({"cnf": {"jkt": "abc"}}));
    let text = dpop.to_string();
    assert!(text.contains("DPoP-bound"), "{text}");
    assert!(text.contains("`Authorization: DPoP <token>`"), "{text}");
    assert!(text.contains("ignore cnf"), "{text}");
    let mtls = explain_claims(&vars, json!({"cnf": {"x5t#S256": "abc"}}));
    assert!(mtls.binding().unwrap().contains("client certificate"));
    let other = explain_claims(&vars, json!({"cnf": {"jwk": {}}}));
    assert!(other.binding().unwrap().contains("cannot check"));
}
