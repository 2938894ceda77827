//! `local-gateway`: this project's API behind a local HTTP API, with real JWT validation.
//!
//! ```text
//! cargo local                                        # built-in JWT authorizer, dev issuer, in-memory store
//! cargo local --authorizer lambda                    # this project's Lambda authorizer
//! cargo local --authorizer rest-jwt                  # a REST API's built-in JWT authorizer
//! cargo local --table products                       # a DynamoDB table (AWS_ENDPOINT_URL / --dynamodb-endpoint)
//! cargo local token --scope "read:products write:products"
//! cargo local token --opaque                         # an opaque token, judged by introspection
//! cargo local --authorizer lambda --revocation-table revoked   # revocation items in DynamoDB
//! cargo local explain "$(cargo local token --scope read:products)"   # why each gate lets it through, or not
//! ```
//!
//! `cargo local` is the alias of `cargo run -p local-gateway --` (`.cargo/config.toml`). See
//! `docs/local-gateway.md`.

use clap::{Args, Parser, Subcommand};
use jwt_scopes_api::authorizer::dynamodb_client;
use jwt_scopes_api::product_api::DynamoStore;
use jwt_scopes_api::routes::ROUTES;
use jwt_scopes_api::{EmbeddedCatalog, ProductStore};
use local_gateway::cors::DEV_ALLOW_ORIGINS;
use local_gateway::dev_issuer::{
    INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET, INTROSPECTION_PATH, REVOCATION_PATH,
    SIGN_OUT_PATH,
};
use local_gateway::explain::Explainer;
use local_gateway::revocation::GatewayRevocations;
use local_gateway::server::{auth_config, issuer_configured};
use local_gateway::{
    AuthorizerMode, Cors, DEFAULT_PORT, DevIssuer, Gateway, GatewayConfig, GatewayStore, Minted,
    serve,
};
use serde_json::json;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::net::TcpListener;

/// This API behind a local API Gateway (HTTP API), with real JWT validation.
#[derive(Debug, Parser)]
#[command(
    name = "local-gateway",
    version,
    after_help = "\
ENVIRONMENT:
  AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI, ...  a real issuer (see docs/local-gateway.md);
                                                  unset: a development issuer on this port
  SCOPE_NAMES                                     how the issuer spells the route scopes
  CORS_ALLOW_ORIGIN                               as --cors-allow-origin
  AUTH_REVOCATION_TABLE                           as --revocation-table
  AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE, ...  the DynamoDB client of --table and --revocation-table
  RUST_LOG                                        log level (default info)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
    /// Port on 127.0.0.1
    #[arg(
        long,
        global = true,
        env = "LOCAL_GATEWAY_PORT",
        default_value_t = DEFAULT_PORT,
        value_parser = port
    )]
    port: u16,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// jwt: the HTTP API built-in JWT authorizer; lambda: this project's Lambda authorizer
    /// (REQUEST, payload 2.0); rest-jwt: a REST API with its built-in JWT authorizer (RS/ES,
    /// typed claims in payload 1.0 events, stage prod)
    #[arg(long, value_name = "jwt|lambda|rest-jwt", default_value = "jwt")]
    authorizer: AuthorizerMode,
    /// Print every event sent to the authorizer and the handler (stderr)
    #[arg(long)]
    print_events: bool,
    /// Keep products in this DynamoDB table instead of in memory (create and seed it with
    /// `cargo run --example seed -- NAME`)
    #[arg(long, value_name = "NAME", conflicts_with = "read_only")]
    table: Option<String>,
    /// Revocation items in this DynamoDB table (string key `pk`) instead of in memory: the
    /// Lambda authorizer reads it, the development issuer's revocation endpoints write it
    #[arg(long, value_name = "NAME", env = "AUTH_REVOCATION_TABLE")]
    revocation_table: Option<String>,
    /// With --table or --revocation-table: the DynamoDB endpoint, e.g. DynamoDB Local or moto
    /// (default: the SDK's, which reads AWS_ENDPOINT_URL)
    #[arg(long, value_name = "URL", env = "DYNAMODB_ENDPOINT")]
    dynamodb_endpoint: Option<String>,
    /// Serve the embedded catalog read-only, as the Lambda does without PRODUCTS_TABLE (writes
    /// answer 501)
    #[arg(long)]
    read_only: bool,
    /// Browser origins allowed by CORS, comma separated, as the template's CorsAllowOrigin
    /// (https://app.example.com, *, https://*; locally also a port wildcard, http://localhost:*);
    /// '' or none: no CORS configuration
    #[arg(
        long,
        value_name = "ORIGINS",
        env = "CORS_ALLOW_ORIGIN",
        default_value = DEV_ALLOW_ORIGINS,
        value_parser = cors_origins
    )]
    cors_allow_origin: CorsSetting,
}

/// `--cors-allow-origin`, parsed (a wrapper: clap reads `Option<T>` as an optional flag).
#[derive(Clone, Debug)]
struct CorsSetting(Option<Cors>);

fn cors_origins(value: &str) -> Result<CorsSetting, String> {
    Cors::parse(value).map(CorsSetting)
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ask the running gateway's development issuer for a token and print it
    Token(TokenArgs),
    /// Explain, for every route and every gate (HTTP API JWT, REST API JWT, Cognito, our Lambda
    /// authorizer, then product-api's re-check), whether a token gets through and why
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
The token is verified against the AUTH_* issuer when one is set (each gate names the check it
fails: issuer, audience, expiry, signature, algorithm, key), or against the development issuer of a
gateway running on --port when the token is its own; otherwise its claims are judged unverified.

  cargo local explain \"$(cargo local token --scope read:products)\"
  cargo local explain --claims '{\"permissions\":[\"read:products\"]}'")]
struct ExplainArgs {
    /// The token, bare or as an Authorization header value; '-' reads it from stdin
    #[arg(
        value_name = "TOKEN",
        required_unless_present_any = ["scope", "claims"],
        conflicts_with_all = ["scope", "claims"]
    )]
    token: Option<String>,
    /// No token: explain these scopes, space separated, as a `scope` claim
    #[arg(long, value_name = "SCOPES", conflicts_with = "claims")]
    scope: Option<String>,
    /// No token: explain these claims, a JSON object (e.g. scopes in `permissions` or `scp`)
    #[arg(long, value_name = "JSON")]
    claims: Option<String>,
}

#[derive(Debug, Args)]
struct TokenArgs {
    /// Scopes, space separated [default: read:products]
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,
    /// Lifetime in seconds; negative for an expired token [default: 3600]
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    ttl: Option<i64>,
    /// Subject [default: dev-user]
    #[arg(long, value_name = "SUBJECT")]
    sub: Option<String>,
    /// An opaque token (held by the development issuer, judged by introspection) instead of a JWT
    #[arg(long)]
    opaque: bool,
}

/// A port, spaces around it allowed; blank (an empty `LOCAL_GATEWAY_PORT`) is the default.
fn port(value: &str) -> Result<u16, String> {
    match value.trim() {
        "" => Ok(DEFAULT_PORT),
        port => port.parse().map_err(|_| format!("{value:?} is not a port")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Token(args)) => token(cli.port, args).await,
        Some(Command::Explain(args)) => explain(cli.port, args).await,
        None => run(cli.port, cli.serve).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-gateway: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The store the flags choose; a table is read once so a missing one is reported at start-up.
async fn store(args: &ServeArgs) -> Result<GatewayStore, String> {
    if args.read_only {
        return Ok(GatewayStore::Catalog(EmbeddedCatalog));
    }
    let Some(table) = &args.table else {
        return Ok(GatewayStore::default());
    };
    let store = DynamoStore::from_env(table.clone()).await;
    let client = at_endpoint(store.client(), args.dynamodb_endpoint.as_deref());
    let store = DynamoStore::new(client, table.clone());
    if let Err(error) = store.list(1, None).await {
        return Err(format!(
            "cannot read the DynamoDB table {table:?}: {error:?} (create and seed it with `cargo run --example seed -- {table}`; region, credentials and AWS_ENDPOINT_URL as for the AWS CLI)"
        ));
    }
    Ok(GatewayStore::Dynamo(store))
}

/// `client`, at `--dynamodb-endpoint` when given.
fn at_endpoint(
    client: &aws_sdk_dynamodb::Client,
    endpoint: Option<&str>,
) -> aws_sdk_dynamodb::Client {
    match endpoint {
        Some(endpoint) => {
            let config = client.config().to_builder().endpoint_url(endpoint);
            aws_sdk_dynamodb::Client::from_conf(config.build())
        }
        None => client.clone(),
    }
}

/// The client of the authorizer's tables (`AUTH_REVOCATION_TABLE`), built as the `authorizer`
/// Lambda builds it at cold start; none without a table.
async fn tables_client(
    config: &GatewayConfig,
    addr: std::net::SocketAddr,
    endpoint: Option<&str>,
) -> Result<Option<aws_sdk_dynamodb::Client>, String> {
    let dev = (!issuer_configured(&config.env)).then(|| format!("http://{addr}"));
    let tables = auth_config(&config.env, dev.as_deref())
        .map_err(|e| e.to_string())?
        .tables;
    if tables.revocation.is_none() {
        return Ok(None);
    }
    let client = dynamodb_client(tables.timeout).await;
    Ok(Some(at_endpoint(&client, endpoint)))
}

async fn run(port: u16, args: ServeArgs) -> Result<(), String> {
    lambda_runtime::tracing::init_default_subscriber();
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (try --port)"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut config = GatewayConfig::from_env(args.authorizer);
    config.print_events = args.print_events;
    config.store = store(&args).await?;
    config.cors = args.cors_allow_origin.0.clone();
    if let Some(table) = &args.revocation_table {
        config
            .env
            .insert("AUTH_REVOCATION_TABLE".into(), table.clone());
    }
    let endpoint = args.dynamodb_endpoint.as_deref();
    config.dynamodb = tables_client(&config, addr, endpoint).await?;
    let products = match &args.table {
        Some(table) => format!("DynamoDB table {table}"),
        None if args.read_only => "embedded catalog, read-only (writes answer 501)".into(),
        None => "in memory, seeded from data/products.json (lost on exit)".into(),
    };
    let gateway = Gateway::new(config, addr).map_err(|e| e.to_string())?;
    banner(&gateway, &products);
    serve(listener, gateway).await;
    Ok(())
}

fn banner(gateway: &Gateway, products: &str) {
    let base = gateway.base_url();
    let (api, authorizer) = match gateway.mode() {
        AuthorizerMode::Jwt => ("HTTP API", "HTTP API built-in JWT authorizer"),
        AuthorizerMode::Lambda => (
            "HTTP API",
            "Lambda authorizer (REQUEST, payload 2.0, simple responses unless AUTH_RESPONSE=iam)",
        ),
        AuthorizerMode::RestJwt => (
            "REST API",
            "REST API built-in JWT authorizer (RS/ES, any-of scope/scp, payload 1.0 events with typed claims)",
        ),
    };
    // The REST API's stage is only in the events: locally it is served at the root too.
    let stage = match gateway.mode() {
        AuthorizerMode::RestJwt => local_gateway::event::REST_STAGE,
        _ => "$default",
    };
    println!("local-gateway: {api} on {base}, stage {stage}");
    println!("  authorizer  {authorizer}");
    println!("  issuer      {}", gateway.issuer());
    println!("  audience    {}", gateway.audiences().join(", "));
    println!("  products    {products}");
    if let Some(revocations) = gateway.revocations() {
        let read = match gateway.mode() {
            AuthorizerMode::Lambda => "read by the Lambda authorizer",
            _ => "read by --authorizer lambda only",
        };
        println!("  revocation  {}, {read}", revocations.describe());
    }
    match gateway.cors() {
        Some(cors) => {
            println!("  cors        origins {cors}; preflights answered by the gateway");
            if cors.has_local_only_entries() {
                println!(
                    "              (a port wildcard is local only: CorsAllowOrigin in template.yaml takes exact origins, * or https://*)"
                );
            }
        }
        None => println!("  cors        none (browser pages on other origins cannot call it)"),
    }
    for route in ROUTES {
        println!(
            "  route       {:<28} scopes: {}",
            route.route_key(),
            route.requirement.scopes().join(" ")
        );
    }
    match gateway.dev_issuer() {
        Some(dev) => dev_issuer_banner(gateway, dev),
        None => {
            println!("\nTry it with a token from {}:", gateway.issuer());
            println!("curl -H \"Authorization: Bearer $TOKEN\" {base}/product/usb-c-cable-2m");
        }
    }
}

/// How to get a token from the development issuer, and one to start with.
fn dev_issuer_banner(gateway: &Gateway, dev: &DevIssuer) {
    let base = gateway.base_url();
    println!(
        "  DEVELOPMENT ISSUER: key pair made at start-up, anyone on this machine can mint tokens"
    );
    println!("  jwks        {}", dev.jwks_uri());
    println!("  discovery   {base}/.well-known/openid-configuration");
    println!(
        "  mint        curl -s {base}/_dev/token -H 'content-type: application/json' -d '{{\"scope\":\"read:products write:products\",\"ttl\":3600}}'"
    );
    println!(
        "              cargo local token --port {} --scope \"read:products write:products\"",
        gateway.port()
    );
    println!(
        "  opaque      cargo local token --port {} --opaque   (introspected by the Lambda authorizer)",
        gateway.port()
    );
    println!(
        "  introspect  curl -s -u {INTROSPECTION_CLIENT_ID}:{INTROSPECTION_CLIENT_SECRET} {base}{INTROSPECTION_PATH} -d token=$TOKEN"
    );
    println!("  revoke      curl -s {base}{REVOCATION_PATH} -d token=$TOKEN");
    println!("  sign out    curl -s {base}{SIGN_OUT_PATH} -d sub=dev-user");
    match dev.mint(&Default::default(), jwt_scopes_api::env::now()) {
        Ok(minted) => {
            println!(
                "\nReady. This token (scope {}) is valid for 1 hour:",
                minted.scope
            );
            println!(
                "curl -H \"Authorization: Bearer {}\" {base}/product/usb-c-cable-2m",
                minted.access_token
            );
        }
        Err(error) => eprintln!("local-gateway: could not mint a token: {error}"),
    }
}

async fn token(port: u16, args: TokenArgs) -> Result<(), String> {
    let TokenArgs {
        scope,
        ttl,
        sub,
        opaque,
    } = args;
    let url = format!("http://127.0.0.1:{port}/_dev/token");
    let mut request = serde_json::Map::new();
    if let Some(scope) = scope {
        request.insert("scope".into(), scope.into());
    }
    if let Some(ttl) = ttl {
        request.insert("ttl".into(), ttl.into());
    }
    if let Some(sub) = sub {
        request.insert("sub".into(), sub.into());
    }
    if opaque {
        request.insert("opaque".into(), true.into());
    }
    let response = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(json!(request).to_string())
        .send()
        .await
        .map_err(|e| format!("no gateway answering on {url} ({e}); start it with `cargo local`"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "{url} answered {status}: {text} (a gateway with a real issuer mints nothing)"
        ));
    }
    let minted: Minted =
        serde_json::from_str(&text).map_err(|e| format!("unexpected answer {text:?}: {e}"))?;
    println!("{}", minted.access_token);
    Ok(())
}

async fn explain(port: u16, args: ExplainArgs) -> Result<(), String> {
    let config = GatewayConfig::from_env(AuthorizerMode::Jwt);
    let base = format!("http://127.0.0.1:{port}");
    let explainer = Explainer::new(&config.env, &base)?;
    // Revocation items where the running gateway's authorizer reads them: the table, or, with
    // the development issuer, that gateway's store in memory.
    let addr = ([127, 0, 0, 1], port).into();
    let explainer = match tables_client(&config, addr, None).await? {
        Some(client) => explainer.with_lambda(|lambda| lambda.with_dynamodb(client)),
        None if !issuer_configured(&config.env) => explainer.with_lambda(|lambda| {
            lambda.with_revocation_items(Arc::new(GatewayRevocations::new(&base)))
        }),
        None => explainer,
    };
    let now = jwt_scopes_api::env::now();
    let report = match (args.token, args.scope, args.claims) {
        (Some(token), ..) => {
            let token = match token.as_str() {
                "-" => std::io::read_to_string(std::io::stdin()).map_err(|e| e.to_string())?,
                _ => token,
            };
            explainer.token(token.trim(), now).await
        }
        (None, Some(scope), _) => {
            let mut claims = serde_json::Map::new();
            claims.insert("scope".into(), scope.into());
            explainer.claims(claims, now)
        }
        (None, None, Some(claims)) => {
            let claims = serde_json::from_str(&claims)
                .map_err(|e| format!("--claims: not a JSON object: {e}"))?;
            explainer.claims(claims, now)
        }
        (None, None, None) => return Err("give a token, --scope or --claims".into()),
    };
    // A reader that stops early (`| head`) is no error.
    match write!(std::io::stdout().lock(), "{report}") {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.to_string()),
        _ => Ok(()),
    }
}
