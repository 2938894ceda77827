#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS each, default 600), two at a
# time, on nightly. Not part of every CI run. The corpus lives in fuzz/corpus/<target> (kept in
# git, minimised); crashes land in fuzz/artifacts/<target> and become regression tests.
#
#   bash scripts/fuzz.sh                 # all targets, 10 minutes each
#   FUZZ_SECONDS=60 bash scripts/fuzz.sh token scopes
#
# With no targets named it also runs the cached-policy property (tests/cached_policy.rs) for
# POLICY_CASES random tables (default 20000; `cargo test` runs 96).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
seconds="${FUZZ_SECONDS:-600}"
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(product_api_event authorizer_event token scopes)
    PROPTEST_CASES="${POLICY_CASES:-20000}" cargo test --release --test cached_policy
fi

cargo +nightly fuzz build "${targets[@]/#/}" 2>/dev/null || for t in "${targets[@]}"; do cargo +nightly fuzz build "$t"; done
mkdir -p fuzz/logs
run() {
    local target=$1
    mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
    cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 -print_final_stats=1 \
        >"fuzz/logs/$target.log" 2>&1
    echo "$target: $(grep -E '^stat::number_of_executed_units' "fuzz/logs/$target.log" | awk '{print $2}') executions, $(grep -oE 'cov: [0-9]+' "fuzz/logs/$target.log" | tail -1)"
}
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    run "${targets[i]}" & first=$!
    if ((i + 1 < ${#targets[@]})); then run "${targets[i + 1]}" & second=$!; wait "$second" || status=1; fi
    wait "$first" || status=1
done
for t in "${targets[@]}"; do cargo +nightly fuzz cmin "$t" "fuzz/corpus/$t" >/dev/null 2>&1 || true; done
ls fuzz/artifacts/*/crash-* 2>/dev/null && { echo "crashes found: see fuzz/artifacts" >&2; status=1; }
exit "$status"
