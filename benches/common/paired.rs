//! Paired ratios: criterion measures one function after another, so on a shared, busy machine
//! two medians taken a minute apart can differ by 30% for reasons that have nothing to do with
//! the code. Here the functions of a set run in alternating chunks of about 2 ms, many rounds,
//! and each ratio is the median of the per-round ratios: both sides of a ratio see the same load.
//!
//! Runs only under `cargo bench` (criterion's `--bench` flag) and unless `PAIRED=0`; prints a
//! table and writes `<target>/criterion/paired-<set>.json` for `bench/compare.mjs criterion`.

use jsonwebtoken::{Algorithm, DecodingKey};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The "bare" signature check every ratio divides by: jsonwebtoken's barest public call, which
/// builds its verifier (and, for a JWK RSA key, the key) from the `DecodingKey` on every call.
pub fn bare(message: &str, signature: &str, key: &DecodingKey, alg: Algorithm) -> bool {
    jsonwebtoken::crypto::verify(
        black_box(signature),
        black_box(message.as_bytes()),
        key,
        alg,
    )
    .unwrap()
}

/// A function to time: runs its body `n` times.
pub type Body<'a> = Box<dyn FnMut(u64) + 'a>;

/// Whether paired measurements should run in this invocation.
pub fn enabled() -> bool {
    std::env::args().any(|a| a == "--bench") && std::env::var("PAIRED").as_deref() != Ok("0")
}

/// Times `bodies` in alternation; the first is the reference every ratio divides by. Returns
/// per entry (name, median ns per call, median of per-round ratios to the reference).
pub fn measure(
    set: &str,
    rounds: usize,
    mut bodies: Vec<(String, Body<'_>)>,
) -> Vec<(String, f64, f64)> {
    let chunk = Duration::from_millis(2);
    // Calibrate: iterations per chunk of about 2 ms, after a short warm-up.
    let sizes: Vec<u64> = bodies
        .iter_mut()
        .map(|(_, body)| {
            let mut n = 1;
            loop {
                let start = Instant::now();
                body(black_box(n));
                if start.elapsed() >= chunk / 2 {
                    return (n * 2).max(1);
                }
                n *= 2;
            }
        })
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); bodies.len()];
    for _ in 0..rounds {
        for (i, (_, body)) in bodies.iter_mut().enumerate() {
            let start = Instant::now();
            body(black_box(sizes[i]));
            times[i].push(start.elapsed().as_nanos() as f64 / sizes[i] as f64);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let results: Vec<(String, f64, f64)> = bodies
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let ratios = times[i].iter().zip(&times[0]).map(|(t, r)| t / r).collect();
            (name.clone(), median(times[i].clone()), median(ratios))
        })
        .collect();
    println!(
        "\npaired {set} ({rounds} rounds, ratios to {}):",
        results[0].0
    );
    for (name, ns, ratio) in &results {
        println!("  {name:<40} {:>10.2} us  {ratio:>6.2}x", ns / 1000.0);
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = std::path::Path::new(&target).join("criterion");
    let json: Vec<_> = results
        .iter()
        .map(|(name, ns, ratio)| serde_json::json!({"name": name, "median_ns": ns, "ratio": ratio}))
        .collect();
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join(format!("paired-{set}.json")),
            serde_json::to_string_pretty(&json).unwrap(),
        );
    }
    results
}
