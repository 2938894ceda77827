//! Verifications per second of our verifier (`Authorizer::verify_token`, warm key cache) on tokens made
//! elsewhere, for `bench/compare.sh`.
//!
//! Usage: `verify_throughput DIR [OUT]`, where `DIR` holds what `node bench/compare.mjs gen DIR`
//! wrote: `jwks.json`, `tokens.json` (`{"RS256": "<jwt>", ...}`) and `params.json` (`issuer`,
//! `audience`, `secret`). The JWKS is served once from 127.0.0.1 and cached before timing; HS256
//! uses `AUTH_HMAC_SECRET`. Writes `OUT` (default `DIR/ours.json`): per algorithm, the time per
//! verification of each of `ROUNDS` rounds (default 3) of `ROUND_MS` milliseconds (default 500),
//! after `WARMUP_MS` (default 500), and their median. One thread, a current-thread Tokio runtime,
//! as on Lambda.

#[path = "../tests/support/mod.rs"]
mod support;

use jwt_scopes_api::{AuthConfig, Authorizer};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{Reply, TestServer};

fn env_ms(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn read_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: verify_throughput DIR [OUT]"),
    );
    let out_path = std::env::args()
        .nth(2)
        .map_or_else(|| dir.join("ours.json"), PathBuf::from);
    let rounds = env_ms("ROUNDS", 3).max(1) as usize;
    let round = Duration::from_millis(env_ms("ROUND_MS", 500));
    let warmup = Duration::from_millis(env_ms("WARMUP_MS", 500));
    let jwks = std::fs::read_to_string(dir.join("jwks.json")).unwrap();
    let tokens = read_json(&dir.join("tokens.json"));
    let params = read_json(&dir.join("params.json"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestServer::start());
    server.set("/jwks", Reply::Json(jwks));
    let vars: HashMap<&str, String> = HashMap::from([
        ("AUTH_ISSUER", params["issuer"].as_str().unwrap().to_owned()),
        (
            "AUTH_AUDIENCE",
            params["audience"].as_str().unwrap().to_owned(),
        ),
        ("AUTH_JWKS_URI", server.url("/jwks")),
        (
            "AUTH_HMAC_SECRET",
            params["secret"].as_str().unwrap().to_owned(),
        ),
    ]);
    let authorizer =
        Authorizer::new(AuthConfig::from_lookup(|name| vars.get(name).cloned()).unwrap());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();

    let mut out = Map::new();
    for (alg, token) in tokens.as_object().unwrap() {
        let token = token.as_str().unwrap();
        rt.block_on(authorizer.verify_token(Some(token), now))
            .unwrap_or_else(|e| panic!("{alg}: our verifier refused the token: {e}"));
        let per_op_us: Vec<f64> = rt.block_on(async {
            let timed = |limit: Duration| {
                let authorizer = &authorizer;
                async move {
                    let start = Instant::now();
                    let mut n = 0u64;
                    loop {
                        for _ in 0..32 {
                            black_box(
                                authorizer
                                    .verify_token(Some(black_box(token)), now)
                                    .await
                                    .unwrap(),
                            );
                        }
                        n += 32;
                        let elapsed = start.elapsed();
                        if elapsed >= limit {
                            return elapsed.as_secs_f64() * 1e6 / n as f64;
                        }
                    }
                }
            };
            timed(warmup).await;
            let mut all = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                all.push(timed(round).await);
            }
            all
        });
        let mut sorted = per_op_us.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        eprintln!(
            "ours {alg:>6}: {median:8.2} us/verify  ({:>7.0} /s)  rounds {:?}",
            1e6 / median,
            sorted
                .iter()
                .map(|v| (v * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        );
        out.insert(alg.clone(), json!({"us": median, "rounds": per_op_us}));
    }
    assert_eq!(server.hits("/jwks"), 1, "the JWKS is fetched once");
    std::fs::write(
        out_path,
        serde_json::to_string_pretty(&Value::Object(out)).unwrap(),
    )
    .unwrap();
}
