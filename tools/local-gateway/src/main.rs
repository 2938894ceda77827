//! `local-gateway`: this project's API behind a local HTTP API, with real JWT validation.
//!
//! ```text
//! cargo run --bin local-gateway                              # built-in JWT authorizer, dev issuer
//! cargo run --bin local-gateway -- --authorizer lambda       # this project's Lambda authorizer
//! cargo run --bin local-gateway -- token --scope "read:products write:products"
//! ```
//!
//! See `docs/local-gateway.md`.

use jwt_scopes_api::gateway::{
    AuthorizerMode, DEFAULT_PORT, Gateway, GatewayConfig, Minted, serve,
};
use jwt_scopes_api::routes::ROUTES;
use serde_json::json;
use std::process::ExitCode;
use tokio::net::TcpListener;

const USAGE: &str = "\
local-gateway: this API behind a local API Gateway (HTTP API), with real JWT validation

USAGE:
    local-gateway [--port PORT] [--authorizer jwt|lambda] [--print-events]
    local-gateway token [--port PORT] [--scope SCOPES] [--ttl SECONDS] [--sub SUBJECT]

OPTIONS:
    --port PORT          port on 127.0.0.1 (default 3000, or LOCAL_GATEWAY_PORT)
    --authorizer MODE    jwt: the HTTP API built-in JWT authorizer (default)
                         lambda: this project's Lambda authorizer (REQUEST, payload 2.0)
    --print-events       print every event sent to the authorizer and the handler (stderr)

token: asks the running gateway's development issuer for a token and prints it
    --scope SCOPES       space separated (default read:products)
    --ttl SECONDS        lifetime (default 3600; negative for an expired token)
    --sub SUBJECT        subject (default dev-user)

ENVIRONMENT:
    AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URI, ...   a real issuer (see docs/local-gateway.md);
                                                     unset: a development issuer on this port
    LOCAL_GATEWAY_PORT                               port, when --port is not given
";

enum Command {
    Serve {
        port: u16,
        mode: AuthorizerMode,
        print_events: bool,
    },
    Token {
        port: u16,
        scope: Option<String>,
        ttl: Option<i64>,
        sub: Option<String>,
    },
    Help,
}

fn parse(args: Vec<String>) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    let token = args.peek().is_some_and(|a| a == "token");
    if token {
        args.next();
    }
    let mut port = None;
    let mut mode = AuthorizerMode::Jwt;
    let mut print_events = false;
    let (mut scope, mut ttl, mut sub) = (None, None, None);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match (name.as_str(), token) {
            ("-h" | "--help", _) => return Ok(Command::Help),
            ("--port", _) => {
                let v = value()?;
                port = Some(
                    v.parse()
                        .map_err(|_| format!("--port {v:?} is not a port"))?,
                );
            }
            ("--authorizer", false) => mode = value()?.parse()?,
            ("--print-events", false) => print_events = true,
            ("--scope", true) => scope = Some(value()?),
            ("--ttl", true) => {
                let v = value()?;
                ttl = Some(
                    v.parse()
                        .map_err(|_| format!("--ttl {v:?} is not seconds"))?,
                );
            }
            ("--sub", true) => sub = Some(value()?),
            (other, _) => return Err(format!("unknown argument {other:?}")),
        }
    }
    let port = match port {
        Some(port) => port,
        None => match std::env::var("LOCAL_GATEWAY_PORT") {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map_err(|_| format!("LOCAL_GATEWAY_PORT {v:?} is not a port"))?,
            _ => DEFAULT_PORT,
        },
    };
    Ok(if token {
        Command::Token {
            port,
            scope,
            ttl,
            sub,
        }
    } else {
        Command::Serve {
            port,
            mode,
            print_events,
        }
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let command = match parse(std::env::args().skip(1).collect()) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("local-gateway: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command {
        Command::Help => {
            print!("{USAGE}");
            Ok(())
        }
        Command::Token {
            port,
            scope,
            ttl,
            sub,
        } => token(port, scope, ttl, sub).await,
        Command::Serve {
            port,
            mode,
            print_events,
        } => run(port, mode, print_events).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-gateway: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(port: u16, mode: AuthorizerMode, print_events: bool) -> Result<(), String> {
    lambda_runtime::tracing::init_default_subscriber();
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (try --port)"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut config = GatewayConfig::from_env(mode);
    config.print_events = print_events;
    let gateway = Gateway::new(config, addr).map_err(|e| e.to_string())?;
    banner(&gateway);
    serve(listener, gateway).await;
    Ok(())
}

fn banner(gateway: &Gateway) {
    let base = gateway.base_url();
    let authorizer = match gateway.mode() {
        AuthorizerMode::Jwt => "HTTP API built-in JWT authorizer",
        AuthorizerMode::Lambda => {
            "Lambda authorizer (REQUEST, payload 2.0, simple responses unless AUTH_RESPONSE=iam)"
        }
    };
    println!("local-gateway: HTTP API on {base}, stage $default");
    println!("  authorizer  {authorizer}");
    println!("  issuer      {}", gateway.issuer());
    println!("  audience    {}", gateway.audiences().join(", "));
    for route in ROUTES {
        println!(
            "  route       {:<28} scopes: {}",
            route.route_key(),
            route.requirement.scopes().join(" ")
        );
    }
    let Some(dev) = gateway.dev_issuer() else {
        println!("\nTry it with a token from {}:", gateway.issuer());
        println!("curl -H \"Authorization: Bearer $TOKEN\" {base}/product/usb-c-cable-2m");
        return;
    };
    println!(
        "  DEVELOPMENT ISSUER: key pair made at start-up, anyone on this machine can mint tokens"
    );
    println!("  jwks        {}", dev.jwks_uri());
    println!("  discovery   {base}/.well-known/openid-configuration");
    println!(
        "  mint        curl -s {base}/_dev/token -H 'content-type: application/json' -d '{{\"scope\":\"read:products write:products\",\"ttl\":3600}}'"
    );
    println!(
        "              cargo run --bin local-gateway -- token --port {} --scope \"read:products write:products\"",
        gateway.port()
    );
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

async fn token(
    port: u16,
    scope: Option<String>,
    ttl: Option<i64>,
    sub: Option<String>,
) -> Result<(), String> {
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
    let response = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(json!(request).to_string())
        .send()
        .await
        .map_err(|e| {
            format!(
                "no gateway answering on {url} ({e}); start it with `cargo run --bin local-gateway`"
            )
        })?;
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
