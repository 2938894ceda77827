//! The HTTP side: one [`Gateway`] answering requests the way an HTTP API does, and [`serve`]
//! running it on a listener.
//!
//! Per request: read the body (at most [`MAX_REQUEST_BYTES`]), match a route of the table (none:
//! 404 `{"message":"Not Found"}`), run the route's authorizer, build the payload 2.0 event,
//! parse it with `lambda_http` and call [`ProductApi::handle`], then send its response back.
//! In `rest-jwt` mode the gateway is a REST API instead: no resource answers 403
//! `{"message":"Missing Authentication Token"}`, and the event is payload 1.0 (stage `prod`).
//! One log line per request: method, path, status, latency and the authorization decision.
//! `GET /openapi.json` answers the API's OpenAPI document ([`crate::openapi`]), without auth.
//! With a CORS configuration ([`crate::cors`]), preflights are answered before any of that, and
//! every answer gets the CORS headers its `Origin` is due.

use crate::cors::{self, Cors};
use crate::dev_issuer::{
    self, DISCOVERY_PATH, DevIssuer, DevIssuerError, INTROSPECTION_CLIENT_ID,
    INTROSPECTION_CLIENT_SECRET, INTROSPECTION_PATH, ITEMS_PATH, JWKS_PATH, MintRequest,
    REVOCATION_PATH, SIGN_OUT_PATH, TOKEN_PATH,
};
use crate::event::{self, ApiContext, IncomingRequest};
use crate::guard::{Guard, GuardedRequest, NoAuthorizer, Refusal};
use crate::jwt_authorizer::JwtAuthorizer;
use crate::lambda_authorizer::LambdaAuthorizer;
use crate::rest_jwt_authorizer::RestJwtAuthorizer;
use crate::revocation::{self, MemoryRevocations, Revocations};
use crate::store::GatewayStore;
use crate::{DEV_AUDIENCE, MAX_REQUEST_BYTES};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::FutureExt as _;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Body, Bytes};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use jwt_scopes_api::authorizer::ConfigError;
use jwt_scopes_api::product_api;
use jwt_scopes_api::routes::{Route, RouteTable};
use jwt_scopes_api::scopes::ScopeNames;
use jwt_scopes_api::{AuthConfig, ProductApi, Requirement};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Which authorizer guards the routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizerMode {
    /// The HTTP API built-in JWT authorizer (default).
    Jwt,
    /// This project's Lambda authorizer, as an HTTP API `REQUEST` authorizer (payload 2.0).
    Lambda,
    /// The REST API built-in JWT authorizer, in front of REST (payload 1.0) events.
    RestJwt,
}

impl FromStr for AuthorizerMode {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "jwt" => Ok(AuthorizerMode::Jwt),
            "lambda" | "custom" => Ok(AuthorizerMode::Lambda),
            "rest-jwt" => Ok(AuthorizerMode::RestJwt),
            other => Err(format!(
                "unknown authorizer {other:?}: use jwt, lambda or rest-jwt"
            )),
        }
    }
}

impl fmt::Display for AuthorizerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthorizerMode::Jwt => "jwt",
            AuthorizerMode::Lambda => "lambda",
            AuthorizerMode::RestJwt => "rest-jwt",
        })
    }
}

/// Which event an observer is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The payload 2.0 `REQUEST` event sent to the Lambda authorizer.
    AuthorizerRequest,
    /// The event sent to `product-api` (payload 1.0 in `rest-jwt` mode, 2.0 otherwise).
    Integration,
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EventKind::AuthorizerRequest => "authorizer request",
            EventKind::Integration => "integration",
        })
    }
}

/// Sees every event the gateway sends, exactly as sent (tests capture them with it).
pub type EventObserver = Arc<dyn Fn(EventKind, &Value) + Send + Sync>;

/// How to run the gateway.
#[derive(Clone)]
pub struct GatewayConfig {
    /// The authorizer on the routes.
    pub authorizer: AuthorizerMode,
    /// The `AUTH_*` variables (as the `authorizer` Lambda reads them). Without `AUTH_ISSUER`
    /// and `AUTH_CONFIG`, the development issuer is used.
    pub env: BTreeMap<String, String>,
    /// Print every event to stderr.
    pub print_events: bool,
    /// Sees every event.
    pub observer: Option<EventObserver>,
    /// Account, API id, region and stage written into events.
    pub api: ApiContext,
    /// Where products are kept (default: in memory, seeded from the embedded catalog).
    pub store: GatewayStore,
    /// The HTTP API's CORS configuration; `None` (the default, as the template's empty
    /// `CorsAllowOrigin`): none, so preflights get 404 and answers no CORS header.
    pub cors: Option<Cors>,
    /// The DynamoDB client of the authorizer's tables, needed when `env` names
    /// `AUTH_REVOCATION_TABLE` (built as the `authorizer` Lambda builds it:
    /// `jwt_scopes_api::authorizer::dynamodb_client`).
    pub dynamodb: Option<aws_sdk_dynamodb::Client>,
}

impl GatewayConfig {
    /// A configuration with the development issuer, no observer and a fresh in-memory store.
    pub fn new(authorizer: AuthorizerMode) -> GatewayConfig {
        GatewayConfig {
            authorizer,
            env: BTreeMap::new(),
            print_events: false,
            observer: None,
            api: ApiContext::default(),
            store: GatewayStore::default(),
            cors: None,
            dynamodb: None,
        }
    }

    /// A configuration reading the `AUTH_*` variables of the process environment.
    pub fn from_env(authorizer: AuthorizerMode) -> GatewayConfig {
        let mut config = GatewayConfig::new(authorizer);
        config.env = std::env::vars()
            .filter(|(name, value)| {
                (name.starts_with("AUTH_") || name == ScopeNames::VARIABLE)
                    && !value.trim().is_empty()
            })
            .collect();
        config
    }
}

/// Why the gateway cannot start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayError(pub String);

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GatewayError {}

impl From<DevIssuerError> for GatewayError {
    fn from(error: DevIssuerError) -> Self {
        GatewayError(format!("development issuer: {error}"))
    }
}

/// A local HTTP API in front of `product-api`.
pub struct Gateway {
    base_url: String,
    port: u16,
    mode: AuthorizerMode,
    dev: Option<DevIssuer>,
    issuer: String,
    audiences: Vec<String>,
    /// The gate on protected routes, as [`AuthorizerMode`] chose it.
    guard: Box<dyn Guard>,
    api: ProductApi<GatewayStore>,
    /// How the issuer spells the table's scopes, as the template's route scopes do.
    scope_names: ScopeNames,
    context: ApiContext,
    print_events: bool,
    observer: Option<EventObserver>,
    cors: Option<Cors>,
    /// Revocation items: in memory with the development issuer, or `AUTH_REVOCATION_TABLE`.
    revocations: Option<Revocations>,
}

/// A response, and the decision to log with it.
struct Answer {
    response: Response<Full<Bytes>>,
    decision: String,
}

impl Answer {
    fn new(response: Response<Full<Bytes>>, decision: &str) -> Answer {
        Answer {
            response,
            decision: decision.to_owned(),
        }
    }

    /// A refusal, as API Gateway answers it: `{"message": ...}` and the challenge if any.
    fn refused(refusal: Refusal, request_id: &str) -> Answer {
        let mut response = message(refusal.status, refusal.message, request_id);
        if let Some(challenge) = refusal.challenge {
            let headers = response.headers_mut();
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        Answer {
            response,
            decision: refusal.decision,
        }
    }
}

/// A request id in API Gateway's form (`ZKx4pgP9FiAEMpw=`).
fn request_id() -> String {
    let mut bytes = [0u8; 11];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&jwt_scopes_api::env::now_millis().to_be_bytes());
    }
    STANDARD.encode(bytes)
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("apigw-requestid", id);
    }
    response
}

/// API Gateway's own answers: `{"message":"..."}`.
fn message(status: StatusCode, text: &str, request_id: &str) -> Response<Full<Bytes>> {
    let body = json!({ "message": text }).to_string();
    respond(status, "application/json", body, request_id)
}

fn json_response(value: &Value, request_id: &str) -> Response<Full<Bytes>> {
    let mut response = respond(
        StatusCode::OK,
        "application/json",
        value.to_string(),
        request_id,
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl Gateway {
    /// A gateway that will listen on `addr`. The development issuer (when no `AUTH_ISSUER` or
    /// `AUTH_CONFIG` is set) is `http://{addr}` and refuses any address but a loopback one.
    pub fn new(config: GatewayConfig, addr: SocketAddr) -> Result<Arc<Gateway>, GatewayError> {
        let base_url = format!("http://{addr}");
        let env = &config.env;
        let dev_active = !issuer_configured(env);
        let dev = if dev_active {
            if !addr.ip().is_loopback() {
                return Err(GatewayError(format!(
                    "the development issuer mints tokens for anyone who asks; it only runs on a loopback address, not {addr}"
                )));
            }
            Some(DevIssuer::generate(base_url.clone())?)
        } else {
            None
        };
        let dev_issuer = dev_active.then_some(base_url.as_str());
        let auth = auth_config(env, dev_issuer).map_err(|e| GatewayError(e.to_string()))?;
        let first = auth
            .issuers
            .first()
            .ok_or_else(|| GatewayError("no issuer configured".into()))?;
        let issuer = first.rules.issuer.clone();
        let audiences = first.rules.audiences.clone();
        let scope_names = auth.scope_names.clone();
        let revocations = match (auth.tables.revocation.clone(), config.dynamodb) {
            (Some(table), Some(client)) => Some(Revocations::Table { client, table }),
            (Some(_), None) => {
                return Err(GatewayError(
                    "AUTH_REVOCATION_TABLE needs a DynamoDB client (GatewayConfig::dynamodb)"
                        .into(),
                ));
            }
            (None, _) if dev_active => {
                Some(Revocations::Memory(Arc::new(MemoryRevocations::default())))
            }
            (None, _) => None,
        };
        let guard: Box<dyn Guard> = match config.authorizer {
            AuthorizerMode::Jwt => {
                Box::new(JwtAuthorizer::from_config(auth).map_err(GatewayError)?)
            }
            AuthorizerMode::Lambda => Box::new(LambdaAuthorizer::new(auth, revocations.as_ref())),
            AuthorizerMode::RestJwt => Box::new(
                RestJwtAuthorizer::new(auth, env.contains_key("AUTH_ALGORITHMS"))
                    .map_err(GatewayError)?,
            ),
        };
        Ok(Arc::new(Gateway {
            base_url,
            port: addr.port(),
            mode: config.authorizer,
            dev,
            issuer,
            audiences,
            guard,
            api: ProductApi::new(config.store).with_scope_names(scope_names.clone()),
            scope_names,
            context: config.api,
            print_events: config.print_events,
            observer: config.observer,
            cors: config.cors,
            revocations,
        }))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The authorizer on the routes.
    pub fn mode(&self) -> AuthorizerMode {
        self.mode
    }

    /// The development issuer, when no issuer is configured.
    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.dev.as_ref()
    }

    /// The (first) trusted issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Its audiences.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The CORS configuration, if any.
    pub fn cors(&self) -> Option<&Cors> {
        self.cors.as_ref()
    }

    /// Where revocation items are kept, when anything revokes.
    pub fn revocations(&self) -> Option<&Revocations> {
        self.revocations.as_ref()
    }

    fn observe(&self, kind: EventKind, event: &Value) {
        if self.print_events {
            let text = serde_json::to_string_pretty(event).unwrap_or_default();
            eprintln!("--- {kind} event ---\n{text}");
        }
        if let Some(observer) = &self.observer {
            observer(kind, event);
        }
    }

    /// Answers one request from `peer`, and logs it.
    pub async fn handle<B>(&self, request: Request<B>, peer: SocketAddr) -> Response<Full<Bytes>>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let request_id = request_id();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let Answer { response, decision } = match &self.cors {
            Some(cors) if Cors::is_preflight(method.as_str(), request.headers()) => {
                preflight(cors, request.headers(), &request_id)
            }
            Some(cors) => {
                let origin = request.headers().get(header::ORIGIN).cloned();
                let mut answer = self.answer(request, peer, &request_id).await;
                let origin = origin.as_ref().and_then(|v| v.to_str().ok());
                // The development issuer's endpoints answer pages of this machine only, whatever
                // the configuration allows.
                let dev_path = self.dev.is_some() && dev_issuer::PATHS.contains(&path.as_str());
                let origin = origin.filter(|o| !dev_path || cors::is_loopback_origin(o));
                cors.apply(origin, answer.response.headers_mut());
                answer
            }
            None => self.answer(request, peer, &request_id).await,
        };
        tracing::info!(
            method = %method,
            path = %path,
            status = response.status().as_u16(),
            latency_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
            auth = ?decision,
            request_id = %request_id,
            "gateway"
        );
        response
    }

    /// Reads the request, then dispatches: the development issuer, the document, or a route,
    /// whose guard lets it through to the integration or refuses it.
    async fn answer<B>(&self, request: Request<B>, peer: SocketAddr, request_id: &str) -> Answer
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let incoming = match self.read(request, peer, request_id).await {
            Ok(incoming) => incoming,
            Err(refusal) => return Answer::refused(refusal, request_id),
        };
        if let Some(answer) = self.dev_endpoint(&incoming).await {
            return answer;
        }
        if incoming.raw_path == crate::openapi::DOCUMENT_PATH && incoming.method == "GET" {
            let document = crate::openapi::document_json();
            let response = respond(StatusCode::OK, "application/json", document, request_id);
            return Answer::new(response, "openapi document");
        }
        let route = match self.route(&incoming) {
            Ok(route) => route,
            Err(refusal) => return Answer::refused(refusal, request_id),
        };
        let guard: &dyn Guard = match route.requirement {
            Requirement::Public => &NoAuthorizer,
            _ => self.guard.as_ref(),
        };
        let guarded = GuardedRequest {
            incoming: &incoming,
            route,
            scopes: self.route_scopes(route),
            api: &self.context,
            now: incoming.time_epoch_ms / 1000,
            observe_authorizer_event: &|event| self.observe(EventKind::AuthorizerRequest, event),
        };
        match guard.admit(&guarded).await {
            Ok(passed) => {
                let response = self.integrate(&incoming, route, passed.authorizer).await;
                Answer::new(response, &passed.decision)
            }
            Err(refusal) => Answer::refused(refusal, request_id),
        }
    }

    /// The request with its body (at most [`MAX_REQUEST_BYTES`]: larger is API Gateway's 413).
    async fn read<B>(
        &self,
        request: Request<B>,
        peer: SocketAddr,
        request_id: &str,
    ) -> Result<IncomingRequest, Refusal>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let too_large = || {
            let refusal = Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "body too large".into());
            refusal.with_message("Request Entity Too Large")
        };
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_REQUEST_BYTES as u64) {
            return Err(too_large());
        }
        let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<LengthLimitError>() => return Err(too_large()),
            Err(_) => {
                let decision = "unreadable body".into();
                return Err(Refusal::new(StatusCode::BAD_REQUEST, decision));
            }
        };
        Ok(IncomingRequest {
            method: parts.method.as_str().to_owned(),
            raw_path: parts.uri.path().to_owned(),
            raw_query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body: body.to_vec(),
            source_ip: peer.ip(),
            server_port: self.port,
            request_id: request_id.to_owned(),
            time_epoch_ms: jwt_scopes_api::env::now_millis(),
        })
    }

    /// The route the request matches, or API Gateway's answer when there is none (an HTTP API's
    /// 404, a REST API's 403) or the `Host` header is not an authority (400).
    fn route(&self, incoming: &IncomingRequest) -> Result<&'static Route, Refusal> {
        let decoded = incoming.decoded_path();
        let route = match RouteTable::global().find(&incoming.method, &decoded) {
            Ok(matched) if matched.route.method == incoming.method => matched.route,
            // A REST API answers a path or method it has no resource for this way.
            _ if self.mode == AuthorizerMode::RestJwt => {
                let refusal = Refusal::new(StatusCode::FORBIDDEN, "no resource".into());
                return Err(refusal.with_message("Missing Authentication Token"));
            }
            _ => return Err(Refusal::new(StatusCode::NOT_FOUND, "no route".into())),
        };
        if let Some(host) = incoming.header("host")
            && hyper::http::uri::Authority::from_str(&host).is_err()
        {
            let decision = "invalid host header".into();
            return Err(Refusal::new(StatusCode::BAD_REQUEST, decision));
        }
        Ok(route)
    }

    /// The integration: the event of this gateway's kind (REST payload 1.0 in `rest-jwt` mode,
    /// payload 2.0 otherwise) with the guard's `authorizer`, sent to product-api.
    async fn integrate(
        &self,
        incoming: &IncomingRequest,
        route: &Route,
        authorizer: Option<Value>,
    ) -> Response<Full<Bytes>> {
        let (event, text) = match self.mode {
            AuthorizerMode::RestJwt => {
                let event = event::rest_api_event(incoming, &self.context, route, authorizer);
                let text = event::ascii_json(&event);
                (event, text)
            }
            _ => {
                let event = event::http_api_event(incoming, &self.context, route, authorizer);
                let text = event.to_string();
                (event, text)
            }
        };
        self.observe(EventKind::Integration, &event);
        self.invoke(&text, &incoming.request_id).await
    }

    /// The route's scopes as the template deploys them: in the issuer's spelling.
    fn route_scopes(&self, route: &Route) -> Vec<String> {
        let scopes = route.requirement.scopes().iter();
        scopes
            .map(|scope| self.scope_names.issuer_name(scope).into_owned())
            .collect()
    }

    /// Parses the event text as the Lambda runtime would and calls the handler; a failure is API
    /// Gateway's 500.
    async fn invoke(&self, event: &str, request_id: &str) -> Response<Full<Bytes>> {
        let failed = |what: &str| {
            tracing::error!(request_id, "integration failed: {what}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                request_id,
            )
        };
        // The same path as the Lambda: its payload type (`HttpEvent`) reads and guards with
        // `read`, then converts.
        let request = match product_api::read_event(event) {
            Ok(request) => lambda_http::Request::from(request),
            Err(error) => return failed(&format!("event does not parse: {error}")),
        };
        let response = match AssertUnwindSafe(self.api.handle(request))
            .catch_unwind()
            .await
        {
            Ok(response) => response,
            Err(_) => return failed("the handler panicked"),
        };
        let (parts, body) = response.into_parts();
        let mut out = Response::new(Full::new(Bytes::copy_from_slice(body.as_ref())));
        *out.status_mut() = parts.status;
        *out.headers_mut() = parts.headers;
        if let Ok(id) = HeaderValue::from_str(request_id) {
            out.headers_mut().insert("apigw-requestid", id);
        }
        out
    }

    /// The development issuer's endpoints, when it is active.
    async fn dev_endpoint(&self, incoming: &IncomingRequest) -> Option<Answer> {
        let dev = self.dev.as_ref()?;
        let post = incoming.method == Method::POST.as_str();
        let now = incoming.time_epoch_ms / 1000;
        let revocations = self.revocations.as_ref()?;
        let answered = match incoming.raw_path.as_str() {
            INTROSPECTION_PATH if post => {
                let authorization = incoming.header("authorization");
                revocation::introspect(dev, authorization.as_deref(), &incoming.body, now)
            }
            REVOCATION_PATH if post => {
                revocation::revoke(dev, revocations, &incoming.body, now).await
            }
            SIGN_OUT_PATH if post => {
                revocation::sign_out(dev, revocations, &incoming.body, now).await
            }
            ITEMS_PATH if post => revocation::items(revocations, &incoming.body),
            _ => return self.dev_token_endpoint(dev, incoming),
        };
        let mut response = json_response(&answered.body, &incoming.request_id);
        *response.status_mut() = answered.status;
        if answered.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a 401 `invalid_client` names the scheme the client should use.
            let challenge = HeaderValue::from_static("Basic realm=\"local-gateway\"");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        Some(Answer::new(response, &answered.decision))
    }

    /// The development issuer's keys, discovery document and minting.
    fn dev_token_endpoint(&self, dev: &DevIssuer, incoming: &IncomingRequest) -> Option<Answer> {
        let request_id = &incoming.request_id;
        let get = incoming.method == Method::GET.as_str();
        let post = incoming.method == Method::POST.as_str();
        let answer = |response, decision: &str| Some(Answer::new(response, decision));
        match incoming.raw_path.as_str() {
            JWKS_PATH if get => answer(json_response(&dev.jwks(), request_id), "dev jwks"),
            DISCOVERY_PATH if get => {
                answer(json_response(&dev.discovery(), request_id), "dev discovery")
            }
            TOKEN_PATH if get || post => {
                // JSON when it looks like JSON (`curl -d '{...}'` says form-urlencoded),
                // otherwise the form or query string.
                let body = String::from_utf8_lossy(&incoming.body);
                let request = if post && body.trim_start().starts_with('{') {
                    serde_json::from_str::<MintRequest>(&body)
                        .map_err(|e| DevIssuerError(format!("invalid mint request: {e}")))
                } else if post && !body.trim().is_empty() {
                    MintRequest::from_query(body.trim())
                } else {
                    MintRequest::from_query(&incoming.raw_query)
                };
                let now = incoming.time_epoch_ms / 1000;
                // RFC 9449 §5: a token request with a `DPoP` proof gets a token bound to its key.
                let minted = request.and_then(|mut r| {
                    if let Some(proof) = incoming.header("dpop") {
                        let jkt = dev.proof_thumbprint(&proof, &incoming.method, now)?;
                        r.claims.insert("cnf".into(), json!({ "jkt": jkt }));
                    }
                    Ok((r.opaque, dev.mint(&r, now)?))
                });
                match minted {
                    Ok((opaque, minted)) => {
                        let value = serde_json::to_value(&minted).unwrap_or_default();
                        let kind = if opaque { "opaque" } else { "jwt" };
                        let decision = format!("dev {kind} token minted scope=[{}]", minted.scope);
                        answer(json_response(&value, request_id), &decision)
                    }
                    Err(error) => answer(
                        message(StatusCode::BAD_REQUEST, &error.0, request_id),
                        "dev token refused",
                    ),
                }
            }
            _ => None,
        }
    }
}

/// API Gateway's own answer to a preflight: 204, with the CORS headers when it is allowed.
fn preflight(cors: &Cors, headers: &hyper::HeaderMap, request_id: &str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let decision = match cors.preflight(headers) {
        Ok(allowed) => {
            response.headers_mut().extend(allowed);
            "cors preflight allowed".to_owned()
        }
        Err(why) => format!("cors preflight refused ({why})"),
    };
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    Answer { response, decision }
}

/// Whether `env` names an issuer (`AUTH_ISSUER` or `AUTH_CONFIG`); without one the gateway runs
/// its development issuer.
pub fn issuer_configured(env: &BTreeMap<String, String>) -> bool {
    env.contains_key("AUTH_ISSUER") || env.contains_key("AUTH_CONFIG")
}

/// The authorizer configuration of the `AUTH_*` variables in `env`, or, with `dev_issuer` (the
/// gateway's base URL), of the development issuer there: its URL, its audience, keys by
/// discovery, `AUTH_PUBLIC_URL` the gateway's unless set; the other variables (scope names,
/// routes, leeway, ...) still apply.
pub fn auth_config(
    env: &BTreeMap<String, String>,
    dev_issuer: Option<&str>,
) -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_lookup(|name| {
        if let Some(issuer) = dev_issuer {
            match name {
                "AUTH_ISSUER" => return Some(issuer.to_owned()),
                "AUTH_AUDIENCE" => return Some(DEV_AUDIENCE.to_owned()),
                "AUTH_JWKS_URI" | "AUTH_HMAC_SECRET" | "AUTH_CONFIG" => return None,
                // Opaque tokens are introspected at the development issuer (endpoint by
                // discovery), answers not cached unless asked for, so a revocation shows at once.
                "AUTH_INTROSPECTION_CLIENT_ID" => return Some(INTROSPECTION_CLIENT_ID.to_owned()),
                "AUTH_INTROSPECTION_CLIENT_SECRET" => {
                    return Some(INTROSPECTION_CLIENT_SECRET.to_owned());
                }
                "AUTH_INTROSPECTION_URL" => return None,
                "AUTH_INTROSPECTION_CACHE_SECONDS" => {
                    return Some(env.get(name).cloned().unwrap_or_else(|| "0".into()));
                }
                // DPoP proofs name the URL the client called: the gateway's own.
                "AUTH_PUBLIC_URL" => return env.get(name).cloned().or(Some(issuer.to_owned())),
                _ => {}
            }
        }
        env.get(name).cloned()
    })
}

/// Serves `gateway` on `listener` until the process ends, one task per connection (HTTP/1.1,
/// keep-alive, 30 s to send the request head).
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(gateway.handle(request, peer).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended");
            }
        });
    }
}
