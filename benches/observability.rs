//! What metrics and tracing cost per warm invocation: each handler on one sample event, in four
//! set-ups timed in alternation (`common/paired.rs`, ratios to the first):
//!
//! - `bare`: no subscriber, metrics off (nothing is logged or counted);
//! - `logs`: the INFO fmt subscriber the binaries install, writing to `/dev/null` (a write
//!   syscall per line, as stdout on Lambda), metrics off; the `debug` spans are disabled here;
//! - `logs_metrics`: the same plus one EMF line per invocation to `/dev/null` (what the binaries
//!   do);
//! - `debug_metrics`: a DEBUG subscriber (`LogLevel=DEBUG`): the spans are created and entered,
//!   and their fields printed on every line inside them.
//!
//! The authorizer runs `events/authorizer/token-read-allow.json` (REST `TOKEN`, HS256, Allow),
//! product-api `events/product-api/v2-jwt-get-product.json` (200 from the embedded catalog).
//!
//! Run: `cargo bench --bench observability`.

// Shared with the other benches; `bare` (the signature-only reference) is not used here.
#[allow(dead_code)]
#[path = "common/paired.rs"]
mod paired;

use jwt_scopes_api::metrics::Metrics;
use jwt_scopes_api::product_api;
use jwt_scopes_api::{AuthConfig, Authorizer, EmbeddedCatalog, ProductApi};
use std::collections::HashMap;
use std::fs::File;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use tracing::Level;

const NOW: u64 = 1_795_839_600;

fn read(path: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn dev_null() -> File {
    File::create("/dev/null").unwrap()
}

/// A fmt subscriber like `lambda_runtime::tracing::init_default_subscriber`, to `/dev/null`, for
/// this thread until the guard drops.
fn logging(level: Level) -> tracing::subscriber::DefaultGuard {
    let subscriber = lambda_runtime::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(level)
        .with_writer(Mutex::new(dev_null()))
        .finish();
    tracing::subscriber::set_default(subscriber)
}

fn metrics() -> Metrics {
    Metrics::to("Bench", dev_null())
}

/// The four set-ups of one handler: `run(on, n)` runs it `n` times, with metrics on or off.
fn setups<'a>(run: &'a dyn Fn(bool, u64)) -> Vec<(String, paired::Body<'a>)> {
    let with = move |level: Option<Level>, counted: bool| -> paired::Body<'a> {
        Box::new(move |n| {
            let _logs = level.map(logging);
            run(counted, n)
        })
    };
    vec![
        ("bare".into(), with(None, false)),
        ("logs".into(), with(Some(Level::INFO), false)),
        ("logs_metrics".into(), with(Some(Level::INFO), true)),
        ("debug_metrics".into(), with(Some(Level::DEBUG), true)),
    ]
}

fn main() {
    if !paired::enabled() {
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let env: HashMap<String, String> = read("events/authorizer/test.env")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let config = || AuthConfig::from_lookup(|name| env.get(name).cloned()).unwrap();
    let quiet = Authorizer::new(config());
    let counted = Authorizer::with_metrics(config(), metrics());
    let event = read("events/authorizer/token-read-allow.json");
    let decide = |on: bool, n: u64| {
        let authorizer = if on { &counted } else { &quiet };
        rt.block_on(async {
            for _ in 0..n {
                let answer = authorizer
                    .answer_json(black_box(&event), NOW)
                    .await
                    .unwrap();
                black_box(serde_json::to_string(&answer).unwrap());
            }
        })
    };
    paired::measure("observability-authorizer", 300, setups(&decide));

    let quiet = ProductApi::new(EmbeddedCatalog);
    let counted = ProductApi::new(EmbeddedCatalog).with_metrics(metrics());
    let event = read("events/product-api/v2-jwt-get-product.json");
    let respond = |on: bool, n: u64| {
        let api = if on { &counted } else { &quiet };
        rt.block_on(async {
            for _ in 0..n {
                let request = product_api::read_event(black_box(&event)).unwrap();
                black_box(api.handle(request.into()).await);
            }
        })
    };
    paired::measure("observability-product-api", 300, setups(&respond));
}
