//! Fetching an issuer's keys over HTTP and keeping them across warm invocations.
//!
//! One [`JwksCache`] per issuer, shared by concurrent invocations. Known keys are served from
//! memory without waiting; an unknown `kid` or an expired set triggers a refetch, at once after
//! a fetch that found its key and at most once per cooldown after one that did not
//! ([`may_refetch`]), with concurrent callers joining the one fetch in flight. The
//! state lock is never held across I/O. Fetches are bounded in time and size, and a failed fetch
//! keeps serving the keys already known.

use crate::metrics::{Metrics, record_call};
use crate::token::error::TokenError;
use crate::token::jws::Jws;
use crate::token::keyset::{KeySet, LastFetch, may_refetch};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};
use tracing::Instrument;
use url::{Host, Url};

/// Redirects followed per fetch.
const MAX_REDIRECTS: usize = 3;

/// The one rule for every URL the authorizer fetches keys or token data from (`AUTH_JWKS_URI`,
/// the issuer's discovery and metadata URLs, a discovered `jwks_uri`, the secrets extension,
/// each redirect): `https`, or plain `http` to a loopback host only, decided on the host as the
/// `url` crate parses it, so `http://localhost.evil.example` and `http://127.0.0.1@evil.example`
/// are not loopback. Over plain http anyone on the path could serve their own keys, and the
/// authorizer would accept tokens signed with them (OpenID Connect Discovery §4: metadata
/// "MUST utilize TLS"; RFC 8414 §2 and §6.1 the same for OAuth metadata). Returns the parsed
/// URL, or what is wrong with it.
pub fn fetchable(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e}): {HTTPS_RULE}"))?;
    match allowed(&url) {
        true => Ok(url),
        false => Err(format!("{text:?} {HTTPS_RULE}")),
    }
}

/// [`fetchable`]'s rule on a parsed URL.
fn allowed(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// What [`fetchable`] requires, in its words.
const HTTPS_RULE: &str =
    "must be https (plain http only to a loopback host: 127.0.0.0/8, ::1 or localhost)";

/// 127.0.0.0/8, `::1` or `localhost` (RFC 6761 §6.3), exactly: no other name, however it begins.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Whether a fetch of `from` may follow a redirect to `to`: a URL [`fetchable`] accepts, and
/// never from https down to http, not even to a loopback host (a key server's own redirect
/// must not drop TLS). A loopback http server may redirect to another loopback http URL.
pub fn may_redirect(from: &Url, to: &Url) -> bool {
    allowed(to) && (from.scheme() != "https" || to.scheme() == "https")
}

/// reqwest's redirect policy for key fetches: at most [`MAX_REDIRECTS`], each [`may_redirect`].
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        // `previous` starts with the URL first asked for, which is no redirect.
        let from = attempt.previous().last().cloned();
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if from.is_some_and(|from| !may_redirect(&from, attempt.url())) {
            attempt.error("redirect refused by the https rule")
        } else {
            attempt.follow()
        }
    })
}

/// Bounds on fetching keys, shared by every issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchLimits {
    /// Whole-request timeout (connect, headers and body). Default 1500 ms, as API Gateway's.
    pub timeout: Duration,
    /// Largest JWKS or discovery document read. Default 150,000 bytes, as API Gateway's.
    pub max_bytes: usize,
    /// Least time between a fetch that did not yield the `kid` it was for (or failed) and the
    /// next fetch of that issuer's keys. Default 10 s.
    pub cooldown_secs: u64,
    /// Age after which a key set is refreshed on next use. Default 3600 s.
    pub max_age_secs: u64,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            timeout: Duration::from_millis(1500),
            max_bytes: 150_000,
            cooldown_secs: 10,
            max_age_secs: 3600,
        }
    }
}

/// Why a fetch failed; logged, never shown to callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    message: String,
    /// The server answered 404: the document is not there (discovery tries the next place).
    not_found: bool,
}

impl FetchError {
    pub(crate) fn new(message: String) -> Self {
        FetchError {
            message,
            not_found: false,
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The HTTP side: one client for the process, built on first use so a cold start that never
/// needs a key (HMAC only, or a cached policy) never pays for it. Its TLS trusts the Mozilla roots
/// compiled in ([`webpki_roots`]), the set Amazon Linux ships too: reading the OS store instead
/// (reqwest's platform verifier) cost ~3.4 ms of the first fetch, ~150 files read and parsed.
pub struct KeyFetcher {
    limits: FetchLimits,
    client: OnceLock<Result<reqwest::Client, FetchError>>,
    metrics: Metrics,
}

impl KeyFetcher {
    /// A fetcher with these bounds, recording no metrics.
    pub fn new(limits: FetchLimits) -> Self {
        KeyFetcher {
            limits,
            client: OnceLock::new(),
            metrics: Metrics::off(),
        }
    }

    /// The same fetcher, recording each key-set fetch in `metrics`.
    pub fn with_metrics(self, metrics: Metrics) -> Self {
        KeyFetcher { metrics, ..self }
    }

    /// The process's one HTTP client (key fetching, introspection).
    pub(crate) fn client(&self) -> Result<&reqwest::Client, FetchError> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(self.limits.timeout)
                    .connect_timeout(self.limits.timeout)
                    .redirect(redirect_policy())
                    .user_agent(concat!("jwt-scopes-api/", env!("CARGO_PKG_VERSION")))
                    .tls_backend_preconfigured(tls_config()?)
                    .build()
                    .map_err(|e| FetchError::new(format!("HTTP client: {e}")))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// GETs `url`, refusing a URL [`fetchable`] refuses, non-2xx answers and bodies over the
    /// size limit.
    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let checked =
            fetchable(url).map_err(|problem| FetchError::new(format!("GET {problem}")))?;
        let response = self.client()?.get(checked).send().await;
        self.body(response, &format!("GET {url}"), self.limits.max_bytes)
            .await
    }

    /// The body of `response` to `request` (`GET url`, named in errors), refusing failed
    /// requests, non-2xx answers and bodies over `max` bytes: the bounds every fetch shares.
    pub(crate) async fn body(
        &self,
        response: reqwest::Result<reqwest::Response>,
        request: &str,
        max: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let failed = |e: reqwest::Error| FetchError::new(format!("{request}: {}", without_url(&e)));
        let mut response = response.map_err(failed)?;
        if !response.status().is_success() {
            return Err(FetchError {
                message: format!("{request}: status {}", response.status()),
                not_found: response.status() == reqwest::StatusCode::NOT_FOUND,
            });
        }
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(FetchError::new(format!(
                "{request}: body larger than {max} bytes"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > max {
                return Err(FetchError::new(format!(
                    "{request}: body larger than {max} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// `issuer`'s OpenID Connect discovery document or, where that is absent (404), its RFC 8414
    /// authorization server metadata. Either document must name the issuer exactly (OpenID
    /// Connect Discovery §4.3, RFC 8414 §3.3).
    pub(crate) async fn metadata(&self, issuer: &str) -> Result<Metadata, FetchError> {
        let mut outcome = Err(FetchError::new(format!("{issuer:?}: no metadata URL")));
        for url in metadata_urls(issuer) {
            outcome = self.get(&url).await.and_then(|body| {
                let document: Metadata = serde_json::from_slice(&body)
                    .map_err(|_| FetchError::new(format!("GET {url}: not a metadata document")))?;
                if document.issuer != *issuer {
                    return Err(FetchError::new(format!(
                        "GET {url}: issuer {:?} is not {issuer:?}",
                        document.issuer
                    )));
                }
                Ok(document)
            });
            match &outcome {
                Err(error) if error.not_found => continue,
                _ => break,
            }
        }
        outcome
    }
}

/// rustls with aws-lc (as reqwest's default) and webpki's checks against the compiled-in roots.
fn tls_config() -> Result<rustls::ClientConfig, FetchError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::new(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_redirect() {
        "redirect refused (too many, or from https to a URL that is not https)"
    } else {
        "request failed"
    };
    kind.to_owned()
}

/// Where an issuer's keys come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A configured JWKS URL.
    Jwks(String),
    /// OpenID Connect discovery from the issuer URL.
    Discovery,
}

type Pending = Shared<BoxFuture<'static, Result<Arc<KeySet>, FetchError>>>;

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: u64,
    last_fetch: Option<LastFetch>,
    jwks_uri: Option<String>,
    pending: Option<Pending>,
}

struct Inner {
    issuer: String,
    source: KeySource,
    fetcher: Arc<KeyFetcher>,
    state: Mutex<State>,
}

/// One issuer's keys, cached across invocations. Cheap to clone.
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

/// The members of an issuer's metadata (discovery) document we read.
#[derive(Deserialize)]
pub(crate) struct Metadata {
    issuer: String,
    jwks_uri: Option<String>,
    /// RFC 8414 §2: where the issuer answers RFC 7662 introspection requests.
    pub(crate) introspection_endpoint: Option<String>,
}

impl JwksCache {
    /// A cache that has fetched nothing yet; the first token triggers the first fetch.
    pub fn new(issuer: String, source: KeySource, fetcher: Arc<KeyFetcher>) -> Self {
        let inner = Inner {
            issuer,
            source,
            fetcher,
            state: Mutex::new(State::default()),
        };
        JwksCache {
            inner: Arc::new(inner),
        }
    }

    /// Starts from `keys` (an `AUTH_JWKS` set) as if fetched at `now`: served without a fetch,
    /// refetched like any fetched set on an unknown `kid` or once too old.
    pub fn with_keys(self, keys: Arc<KeySet>, now: u64) -> Self {
        {
            let mut state = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.keys = Some(keys);
            state.fetched_at = now;
        }
        self
    }

    /// The key set to verify a token with `kid` at `now` (seconds since the epoch). Returns
    /// `UnknownKey` when the set lacks the `kid` and may not be refetched yet, and
    /// `KeysUnavailable` when no key set could ever be had.
    pub async fn keys_for(&self, kid: Option<&str>, now: u64) -> Result<Arc<KeySet>, TokenError> {
        let limits = &self.inner.fetcher.limits;
        let pending = {
            let mut state = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let known = state.keys.as_ref().filter(|keys| keys.knows(kid)).cloned();
            let fresh = now.saturating_sub(state.fetched_at) < limits.max_age_secs;
            match (&known, &state.pending) {
                (Some(keys), _) if fresh => return Ok(keys.clone()),
                (Some(keys), Some(_)) => return Ok(keys.clone()),
                (_, Some(pending)) => pending.clone(),
                (_, None) if may_refetch(state.last_fetch, now, limits.cooldown_secs) => {
                    state.last_fetch = Some(LastFetch {
                        at: now,
                        found: false,
                    });
                    let wanted = kid.map(str::to_owned);
                    let pending = self.clone().fetch(wanted, now).boxed().shared();
                    state.pending = Some(pending.clone());
                    pending
                }
                (Some(keys), None) => return Ok(keys.clone()),
                (None, None) if state.keys.is_some() => return Err(TokenError::UnknownKey),
                (None, None) => return Err(TokenError::KeysUnavailable),
            }
        };
        match pending.await {
            Ok(keys) if keys.knows(kid) => Ok(keys),
            Ok(_) => Err(TokenError::UnknownKey),
            Err(_) => {
                let state = self
                    .inner
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                state
                    .keys
                    .clone()
                    .filter(|keys| keys.knows(kid))
                    .ok_or(TokenError::KeysUnavailable)
            }
        }
    }

    /// Checks `jws`'s signature with this issuer's keys for its `kid` and `alg`, fetching them
    /// as [`Self::keys_for`] allows: the one signature step every verifier of JWKS keys shares.
    pub async fn check_signature<C>(&self, jws: &Jws<'_, C>, now: u64) -> Result<(), TokenError> {
        let kid = jws.header.kid.as_deref();
        let keys = self.keys_for(kid, now).await?;
        jws.check_signature(keys.candidates(kid, jws.header.alg))
    }

    /// One fetch for the key `wanted`; records its outcome in the state before the joined
    /// callers see it.
    async fn fetch(self, wanted: Option<String>, now: u64) -> Result<Arc<KeySet>, FetchError> {
        let started = Instant::now();
        let outcome = self
            .fetch_keys()
            .instrument(tracing::debug_span!("key_fetch", issuer = %self.inner.issuer))
            .await;
        let metrics = &self.inner.fetcher.metrics;
        record_fetch(
            metrics,
            &self.inner.issuer,
            started.elapsed(),
            outcome.is_err(),
        );
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        state.pending = None;
        match &outcome {
            Ok((keys, uri)) => {
                tracing::info!(issuer = %self.inner.issuer, keys = keys.len(), skipped = keys.skipped(), "fetched JWKS");
                state.keys = Some(keys.clone());
                state.fetched_at = now;
                state.last_fetch = Some(LastFetch {
                    at: now,
                    found: keys.knows(wanted.as_deref()),
                });
                state.jwks_uri = Some(uri.clone());
            }
            Err(error) => tracing::warn!(issuer = %self.inner.issuer, %error, "JWKS fetch failed"),
        }
        outcome.map(|(keys, _)| keys)
    }

    async fn fetch_keys(&self) -> Result<(Arc<KeySet>, String), FetchError> {
        let fetcher = &self.inner.fetcher;
        let known_uri = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .jwks_uri
            .clone();
        let uri = match (&self.inner.source, known_uri) {
            (KeySource::Jwks(uri), _) => uri.clone(),
            (KeySource::Discovery, Some(uri)) => uri,
            (KeySource::Discovery, None) => self.discover().await?,
        };
        let body = fetcher.get(&uri).await?;
        let keys =
            KeySet::from_jwks(&body).map_err(|e| FetchError::new(format!("GET {uri}: {e}")))?;
        Ok((Arc::new(keys), uri))
    }

    /// The issuer's `jwks_uri`, from its metadata.
    async fn discover(&self) -> Result<String, FetchError> {
        let issuer = &self.inner.issuer;
        let metadata = self.inner.fetcher.metadata(issuer).await?;
        metadata
            .jwks_uri
            .ok_or_else(|| FetchError::new(format!("{issuer:?}: metadata names no jwks_uri")))
    }
}

/// Where an issuer's metadata may be, in the order tried: OpenID Connect Discovery §4
/// (`{issuer}/.well-known/openid-configuration`), then RFC 8414 §3.1 (the well-known path
/// inserted between the host and the issuer's path).
fn metadata_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut urls = vec![format!("{trimmed}/.well-known/openid-configuration")];
    if let Ok(url) = url::Url::parse(trimmed) {
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/');
        urls.push(format!(
            "{origin}/.well-known/oauth-authorization-server{path}"
        ));
    }
    urls
}

/// Records one fetch of `issuer`'s keys that took `took` and `failed` or not: the
/// `KeyFetches`, `KeyFetchFailures` and `KeyFetchLatency` metrics of [`crate::authorizer`]'s
/// table, without dimensions.
fn record_fetch(metrics: &Metrics, issuer: &str, took: Duration, failed: bool) {
    let names = ["KeyFetches", "KeyFetchFailures", "KeyFetchLatency"];
    let properties = [("issuer", issuer)];
    record_call(metrics, names, (&[&[]], &[]), &properties, took, failed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener};

    #[test]
    fn key_urls_are_https_or_plain_http_to_a_loopback_host_by_its_parsed_host() {
        for good in [
            "https://keys.example.com/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://127.1.2.3/jwks",
            "http://[::1]:3000/.well-known/openid-configuration",
            "http://localhost:3000/jwks",
            "http://LOCALHOST/jwks",
        ] {
            assert!(fetchable(good).is_ok(), "{good}");
        }
        for bad in [
            "http://keys.example.com/jwks.json",
            "http://localhost.evil.example/jwks",
            "http://127.0.0.1.evil.example/jwks",
            "http://127.0.0.1@evil.example/jwks",
            "http://localhost:80@evil.example/jwks",
            "http://[::ffff:7f00:1]/jwks",
            "http://10.0.0.1/jwks",
            "ftp://localhost/jwks",
            "file:///etc/jwks.json",
            "local",
            "",
        ] {
            let problem = fetchable(bad).unwrap_err();
            assert!(problem.contains("must be https"), "{bad}: {problem}");
        }
    }

    #[test]
    fn redirects_never_go_from_https_to_http() {
        let url = |text: &str| Url::parse(text).unwrap();
        for (from, to, allowed) in [
            ("https://a.example/jwks", "https://b.example/jwks", true),
            ("https://a.example/jwks", "http://b.example/jwks", false),
            ("https://a.example/jwks", "http://127.0.0.1/jwks", false),
            ("https://a.example/jwks", "http://localhost/jwks", false),
            ("http://127.0.0.1:1/a", "http://localhost:2/b", true),
            ("http://127.0.0.1:1/a", "https://b.example/jwks", true),
            ("http://127.0.0.1:1/a", "http://b.example/jwks", false),
            (
                "http://127.0.0.1:1/a",
                "http://localhost.evil.example/",
                false,
            ),
            ("https://a.example/jwks", "ftp://a.example/jwks", false),
        ] {
            assert_eq!(
                may_redirect(&url(from), &url(to)),
                allowed,
                "{from} -> {to}"
            );
        }
    }

    /// A server on 127.0.0.1, on a thread of its own, answering each request with the raw
    /// HTTP/1.1 response `reply` gives for its path and the server's address.
    fn serve(reply: fn(&str, SocketAddr) -> String) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut socket in listener.incoming().map_while(Result::ok) {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let _ = socket.write_all(reply(&path, addr).as_bytes());
            }
        });
        addr
    }

    fn redirect(to: &str) -> String {
        format!(
            "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    }

    fn json(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    /// On a real server: a loopback http redirect to another loopback URL is followed; one to
    /// plain http elsewhere is refused by the redirect policy before any connection (the error
    /// is the redirect's, not a failed look-up of the name); a discovered plain-http `jwks_uri`
    /// is refused before it is fetched.
    #[tokio::test]
    async fn a_real_server_cannot_lead_the_key_fetch_to_plain_http() {
        let addr = serve(|path, addr| match path {
            "/jwks" => json(r#"{"keys": []}"#),
            "/moved" => redirect(&format!("http://{addr}/jwks")),
            "/away" => redirect("http://keys.example.com/jwks"),
            "/.well-known/openid-configuration" => json(&format!(
                r#"{{"issuer": "http://{addr}", "jwks_uri": "http://keys.example.com/jwks"}}"#
            )),
            _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
        });
        let fetcher = Arc::new(KeyFetcher::new(FetchLimits::default()));
        let body = fetcher.get(&format!("http://{addr}/moved")).await.unwrap();
        assert_eq!(body, br#"{"keys": []}"#);
        let away = fetcher
            .get(&format!("http://{addr}/away"))
            .await
            .unwrap_err();
        assert!(away.message.contains("redirect refused"), "{away}");
        let direct = fetcher
            .get("http://keys.example.com/jwks")
            .await
            .unwrap_err();
        assert!(direct.message.contains("must be https"), "{direct}");
        let cache = JwksCache::new(format!("http://{addr}"), KeySource::Discovery, fetcher);
        let Err(refused) = cache.fetch_keys().await else {
            panic!("a plain-http jwks_uri was fetched");
        };
        assert!(refused.message.contains("must be https"), "{refused}");
    }

    #[test]
    fn rfc8414_metadata_url_inserts_the_well_known_path_before_the_issuer_path() {
        assert_eq!(
            metadata_urls("https://idp.test/tenant/"),
            [
                "https://idp.test/tenant/.well-known/openid-configuration",
                "https://idp.test/.well-known/oauth-authorization-server/tenant",
            ]
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:8080"),
            [
                "http://127.0.0.1:8080/.well-known/openid-configuration",
                "http://127.0.0.1:8080/.well-known/oauth-authorization-server",
            ]
        );
    }
}
