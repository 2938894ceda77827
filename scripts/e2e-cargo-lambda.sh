#!/usr/bin/env bash
# End to end through the real tooling: `cargo lambda build --release` both functions and drive
# the release `bootstrap` binaries through a local Lambda Runtime API with every sample event;
# then `cargo lambda watch` on 127.0.0.1 and `cargo lambda invoke` for every sample event in
# events/. Each answer is compared with the `.expected.json` beside its event. The watcher is
# stopped by PID.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo-lambda >/dev/null 2>&1; then
    echo "installing cargo-lambda with pip" >&2
    python3 -m pip install --quiet --disable-pip-version-check cargo-lambda
    hash -r
fi

echo "== cargo lambda build --release"
cargo lambda build --release --bin product-api --bin authorizer
for bin in product-api authorizer; do
    printf '%-12s %s bytes\n' "$bin" "$(stat -c %s "target/lambda/$bin/bootstrap")"
done

echo "== release bootstraps through a local Runtime API"
python3 scripts/runtime_api.py

port="${E2E_PORT:-9311}"
log="$(mktemp)"
setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
    --env-file events/authorizer/test.env >"$log" 2>&1 &
watcher=$!
stop() { kill -TERM -- "-$watcher" 2>/dev/null || kill -TERM "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true; }
trap stop EXIT

for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    if ! kill -0 "$watcher" 2>/dev/null; then cat "$log"; echo "cargo lambda watch exited" >&2; exit 1; fi
    sleep 1
done

passed=0
failed=0
skipped=0
# Events valid only at the fixtures' instant (DPoP proofs carry `iat`): the watcher decides on the
# real clock. events/authorizer/at-fixture-time.txt says why.
at_fixture_time="$(grep -v '^#' events/authorizer/at-fixture-time.txt | sed 's|^|events/authorizer/|')"
for event in events/product-api/*.json events/authorizer/*.json; do
    case "$event" in *.expected.json) continue ;; esac
    if grep -qxF "$event" <<<"$at_fixture_time"; then
        skipped=$((skipped + 1))
        continue
    fi
    function="$(basename "$(dirname "$event")")"
    expected="${event%.json}.expected.json"
    set +e
    answer="$(cargo lambda invoke "$function" --data-file "$event" --invoke-address 127.0.0.1 \
        --invoke-port "$port" --output-format json 2>&1)"
    status=$?
    set -e
    if python3 scripts/compare_answer.py "$function" "$expected" "$status" <<<"$answer"; then
        passed=$((passed + 1))
    else
        echo "FAIL $event" >&2
        failed=$((failed + 1))
    fi
done
echo "cargo-lambda e2e: $passed passed, $failed failed, $skipped skipped (events/authorizer/at-fixture-time.txt)"
if ((failed > 0)); then
    echo "--- cargo lambda watch log ---" >&2
    tail -n 50 "$log" >&2
    exit 1
fi
