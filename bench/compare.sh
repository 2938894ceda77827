#!/usr/bin/env bash
# Verifications per second, ours against the Node.js peers aws-jwt-verify and jose, in one run on
# the same tokens (RS256, ES256, EdDSA; HS256 for jose), with the ratios.
#
#   bench/compare.sh          the peer comparison (about 3 minutes after the build)
#   bench/compare.sh all      first `cargo bench` (verify + handlers, short settings) and the
#                             criterion medians and ratios, as in BENCHMARKS.md (about 5 more minutes)
#
# Needs cargo, node >= 20 and npm; installs aws-jwt-verify and jose into bench/node_modules.
# Ours and the peers run in alternating passes (PASSES, default 5) so that each ratio compares
# runs made seconds apart; ROUNDS (3), ROUND_MS (500) and WARMUP_MS (500) set each pass, on both
# sides. On a shared machine, `nice -n -10 bench/compare.sh` (as root) steadies the figures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is required" >&2; exit 1; }
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  echo "compare.sh: node >= 20 is required (found $(node --version))" >&2
  exit 1
fi

echo "== machine: $(nproc) CPU(s), $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), node $(node --version), $(rustc --version)"

if [[ -f bench/package-lock.json ]]; then
  npm ci --prefix bench --no-audit --no-fund --silent
else
  npm install --prefix bench --no-audit --no-fund --silent
fi

if [[ "${1:-}" == "all" ]]; then
  echo "== cargo bench (criterion)"
  cargo bench --bench verify -- --warm-up-time 1 --measurement-time 3 --noplot
  cargo bench --bench handlers -- --warm-up-time 1 --measurement-time 3 --noplot
  node bench/compare.mjs criterion "${CARGO_TARGET_DIR:-target}/criterion"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== building bench/verify_throughput.rs (cargo example verify_throughput, release profile)"
cargo build --release --quiet --example verify_throughput

echo "== keys and tokens (jose), one set for every verifier"
node bench/compare.mjs gen "$work"

passes="${PASSES:-5}"
for pass in $(seq 1 "$passes"); do
  echo "== pass $pass/$passes: ours (Authorizer::verify_token, warm key cache), then aws-jwt-verify, jose, node:crypto"
  "${CARGO_TARGET_DIR:-target}/release/examples/verify_throughput" "$work" "$work/ours-$pass.json"
  node bench/compare.mjs peers "$work" "$work/node-$pass.json"
done

node bench/compare.mjs report "$work"
