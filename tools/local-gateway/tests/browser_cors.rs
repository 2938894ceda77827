//! A browser app against the local API, in a real headless Chromium driven over CDP
//! (chromiumoxide): pages served from other origins on 127.0.0.1 call the gateway with `fetch`,
//! and the test asserts on what the pages saw.
//!
//! - From the allowed origin, the page mints a token from the development issuer (a form
//!   `POST /_dev/token`, which needs no preflight), reads `GET /products` (200 and the body),
//!   sends `PUT` with that read-only token (403: the page reads the status and the
//!   `WWW-Authenticate` challenge, an exposed header), `PUT` with a write token (200 and the
//!   `ETag`), and `GET` without a token (401 and its challenge).
//! - From an origin that is not allowed, the same calls reject in the browser.
//!
//! Chromium: `/usr/bin/chromium` (Debian's package; `.ci/run` installs it) or `$CHROMIUM`. Without
//! it the test is skipped with a message, except under CI (`CI` set), where it fails.

use chromiumoxide::browser::{Browser, BrowserConfig};
use futures_util::StreamExt as _;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use local_gateway::{AuthorizerMode, Cors, Gateway, GatewayConfig, MintRequest, serve};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// The page's script. `API` and `TOKEN` are set by the page before it; it leaves what it saw in
/// `window.results` (and in the page, for a person looking at it).
const SCRIPT: &str = r#"
async function call(name, url, init) {
  try {
    const response = await fetch(API + url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch (_) {}
    return {
      status: response.status,
      wwwAuthenticate: response.headers.get("www-authenticate"),
      etag: response.headers.get("etag"),
      body,
    };
  } catch (error) {
    return { rejected: String(error) };
  }
}
async function mint(scope) {
  const minted = await call("mint", "/_dev/token", {
    method: "POST",
    body: new URLSearchParams({ scope, ttl: "600" }),
  });
  return minted;
}
async function run() {
  const results = {};
  results.mint = await mint("read:products");
  const read = results.mint.body ? results.mint.body.access_token : TOKEN;
  const bearer = (token) => ({ authorization: "Bearer " + token });
  results.list = await call("list", "/products", { headers: bearer(read) });
  const product = JSON.stringify(PRODUCT);
  const json = { "content-type": "application/json" };
  results.putReadOnly = await call("put", "/product/" + PRODUCT.name, {
    method: "PUT", headers: { ...bearer(read), ...json }, body: product,
  });
  if (results.mint.body) {
    const write = (await mint("write:products")).body.access_token;
    results.putWrite = await call("put", "/product/" + PRODUCT.name, {
      method: "PUT", headers: { ...bearer(write), ...json }, body: product,
    });
  }
  results.anonymous = await call("anonymous", "/products", {});
  window.results = results;
  document.getElementById("out").textContent = JSON.stringify(results, null, 2);
}
run();
"#;

fn page(api: &str, token: &str, product: &Value) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>CORS check</title></head>\
         <body><pre id=\"out\">running</pre><script>const API = {api}; const TOKEN = {token}; \
         const PRODUCT = {product};</script><script>{SCRIPT}</script></body></html>",
        api = json!(api),
        token = json!(token),
    )
}

/// A tiny server answering every request on `listener` with `html`: the page's own origin.
fn serve_pages(listener: TcpListener, html: String) {
    tokio::spawn(async move {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_page(stream, html.clone()));
            }
        }
    });
}

async fn serve_page(stream: tokio::net::TcpStream, html: String) {
    let service = service_fn(move |_: Request<hyper::body::Incoming>| {
        let mut response = Response::new(Full::new(Bytes::from(html.clone())));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        async move { Ok::<_, Infallible>(response) }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Debian's Chromium, or `$CHROMIUM`; `None` (after saying why) when the test should skip.
fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from));
    for path in candidates {
        if path.is_file() {
            return Some(path);
        }
    }
    let message = "Chromium not found (/usr/bin/chromium or $CHROMIUM): \
                   apt-get install -y chromium, as .ci/run does";
    if std::env::var_os("CI").is_some() {
        panic!("{message}");
    }
    eprintln!("SKIPPED browser_cors: {message}");
    None
}

/// Opens `url` in `browser` and waits for the page's `window.results`.
async fn results_of(browser: &Browser, url: &str) -> Value {
    let page = browser.new_page(url).await.unwrap();
    let started = Instant::now();
    loop {
        let seen: String = page
            .evaluate("JSON.stringify(window.results ?? null)")
            .await
            .unwrap()
            .into_value()
            .unwrap();
        let seen: Value = serde_json::from_str(&seen).unwrap();
        if !seen.is_null() {
            let _ = page.close().await;
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{url}: the page left no results"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_app_on_another_origin_uses_the_local_api() {
    let Some(executable) = chromium() else {
        return;
    };

    // Two pages, two origins (same host, other port); the gateway allows the first one only, as
    // an exact origin like the template's CorsAllowOrigin.
    let allowed_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let allowed = format!("http://{}", allowed_listener.local_addr().unwrap());
    let refused = format!("http://{}", refused_listener.local_addr().unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = GatewayConfig::new(AuthorizerMode::Jwt);
    config.cors = Cors::parse(&allowed).unwrap();
    let gateway = Gateway::new(config, addr).unwrap();
    // Minted here for the page on the refused origin, which cannot mint its own.
    let request = MintRequest {
        scope: Some("read:products".into()),
        ..MintRequest::default()
    };
    let now = jwt_scopes_api::env::now();
    let token = gateway.dev_issuer().unwrap().mint(&request, now).unwrap();
    tokio::spawn(serve(listener, gateway));
    let product = json!({
        "name": "usb-c-cable-2m", "displayName": "USB-C to USB-C cable, 2 m", "category": "cables",
        "priceCents": 1490, "currency": "EUR", "stock": 260,
        "specifications": {"length": "2 m"}
    });
    let html = page(&format!("http://{addr}"), &token.access_token, &product);
    serve_pages(allowed_listener, html.clone());
    serve_pages(refused_listener, html);

    let profile = std::env::temp_dir().join(format!(
        "local-gateway-chromium-{}-{}",
        std::process::id(),
        addr.port()
    ));
    let config = BrowserConfig::builder()
        .chrome_executable(executable)
        .no_sandbox()
        .user_data_dir(&profile)
        .args([
            "disable-gpu",
            "disable-quic",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
        .launch_timeout(Duration::from_secs(60))
        .request_timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let (mut browser, mut handler) = Browser::launch(config).await.unwrap();
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });

    let seen = results_of(&browser, &format!("{allowed}/app.html")).await;
    let other = results_of(&browser, &format!("{refused}/app.html")).await;

    let _ = browser.close().await;
    let _ = browser.wait().await;
    events.abort();
    let _ = std::fs::remove_dir_all(&profile);

    // The allowed origin: every answer readable, refusals included.
    assert_eq!(seen["mint"]["status"], 200, "{seen:#}");
    assert_eq!(seen["mint"]["body"]["scope"], "read:products");
    assert_eq!(seen["list"]["status"], 200, "{seen:#}");
    let names: Vec<&str> = seen["list"]["body"]["products"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of products: {seen:#}"))
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"usb-c-cable-2m"), "{names:?}");
    assert_eq!(seen["putReadOnly"]["status"], 403, "{seen:#}");
    let challenge = seen["putReadOnly"]["wwwAuthenticate"]
        .as_str()
        .unwrap_or_default();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("write:products"),
        "the page reads the 403 challenge: {challenge:?}"
    );
    assert_eq!(seen["putWrite"]["status"], 200, "{seen:#}");
    assert!(
        seen["putWrite"]["etag"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the page reads the ETag: {seen:#}"
    );
    assert_eq!(seen["anonymous"]["status"], 401, "{seen:#}");
    assert_eq!(seen["anonymous"]["wwwAuthenticate"], "Bearer");

    // Another origin: the browser refuses every answer to the page (the token was put in the
    // page, so the calls that need one are made with a valid token all the same).
    for call in ["mint", "list", "putReadOnly", "anonymous"] {
        let rejected = other[call]["rejected"].as_str();
        assert!(
            rejected.is_some_and(|e| e.contains("Failed to fetch")),
            "{call} from {refused} should reject: {other:#}"
        );
    }
}
