#!/usr/bin/env python3
"""Cold start, first answer, peak memory and size of the release Lambda binaries, against a
minimal lambda_http hello-world built with the same profile.

A small Lambda Runtime API on 127.0.0.1 (scripts/runtime_api.py) times each process from spawn to
its first `GET /2018-06-01/runtime/invocation/next` (the cold start as it used to be reported) and
from spawn to the POST of its first answer (what a cold invocation costs: Lambda bills the init
phase too). It then reads the CPU time the process used up to that answer (its threads' run time
from /proc/PID/task/*/schedstat) and its peak RSS (VmHWM), and stops it. The cases run interleaved, one spawn of
each per round, so that a busy moment on the machine hits them all alike.

The authorizer runs twice: with the HMAC sample configuration (no key to fetch) and with an RS256
token whose issuer's keys come by OpenID Connect discovery from a loopback server
(bench/loopback_issuer.py): discovery, JWKS, then the decision; and once more with that key set
preloaded in `AUTH_JWKS`, so no fetch at all.

    cargo build --release --bin product-api --bin authorizer --example hello
    python3 bench/cold_start.py [RUNS]        # default 30 rounds; prints medians, ratios
    BIN_DIR=/some/other/target/release python3 bench/cold_start.py   # other binaries (before/after)
    DYNAMODB_ENDPOINT=http://127.0.0.1:5055 python3 bench/cold_start.py   # also product-api with PRODUCTS_TABLE

Run by `bench/compare.sh all`; figures go to BENCHMARKS.md.
"""
import json
import os
import pathlib
import statistics
import sys
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from loopback_issuer import LoopbackIssuer  # noqa: E402
from runtime_api import RuntimeApi, test_env  # noqa: E402

RELEASE = pathlib.Path(os.environ.get("BIN_DIR", ROOT / "target" / "release"))


def cases(issuer: LoopbackIssuer):
    """(name, binary, event bytes, environment); the issuer's keys are fetched on every cold start."""
    v2 = (ROOT / "events/product-api/v2-jwt-get-product.json").read_bytes()
    token = (ROOT / "events/authorizer/token-read-allow.json").read_bytes()
    return [
        ("hello", RELEASE / "examples" / "hello", v2, {}),
        ("product-api", RELEASE / "product-api", v2, {}),
        ("authorizer", RELEASE / "authorizer", token, test_env()),
        ("authorizer+discovery", RELEASE / "authorizer", issuer.token_event("RS256"), issuer.env()),
        ("authorizer+AUTH_JWKS", RELEASE / "authorizer", issuer.token_event("RS256"), {**issuer.env(), "AUTH_JWKS": issuer.jwks}),
    ]


def dynamodb_case():
    """With DYNAMODB_ENDPOINT (e.g. a moto_server), product-api with PRODUCTS_TABLE set, so the
    SDK's configuration is loaded at cold start; the table is created empty (the event gets 404)."""
    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint:
        return []
    table = "cold-start-products"
    create = {
        "TableName": table,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "name", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "name", "KeyType": "HASH"}],
    }
    request = urllib.request.Request(
        endpoint,
        data=json.dumps(create).encode(),
        headers={
            "X-Amz-Target": "DynamoDB_20120810.CreateTable",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    try:
        urllib.request.urlopen(request)
    except urllib.error.HTTPError:
        pass  # already there
    env = {
        "PRODUCTS_TABLE": table,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
    }
    return [("product-api+ddb", RELEASE / "product-api", (ROOT / "events/product-api/v2-jwt-get-product.json").read_bytes(), env)]


def peak_rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_ms(pid: int) -> float:
    """CPU time of the process so far, in ms: the sum of its threads' run time from
    /proc/PID/task/*/schedstat (nanoseconds; /proc/PID/stat's utime + stime count 10 ms ticks, too
    coarse for one cold start). No thread of these binaries exits before the first answer."""
    total = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def run_once(binary: pathlib.Path, event: bytes, env: dict):
    """Spawn to first `next` (ms), spawn to first answer (ms), CPU time to the answer (ms), peak
    RSS after one answered event (KiB)."""
    api = RuntimeApi()
    started = time.perf_counter()
    process = api.spawn(binary, env)
    try:
        ok, body = api.invoke(event)
        if not ok:
            sys.exit(f"{binary.name} ({env.get('AUTH_ISSUER')}) answered with an error: {body[:200]!r}")
        cpu = cpu_ms(process.pid)
        return (api.first_next - started) * 1000, (api.answered_at - started) * 1000, cpu, peak_rss_kib(process.pid)
    finally:
        process.kill()
        process.wait()
        api.close()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    issuer = LoopbackIssuer()
    all_cases = cases(issuer) + dynamodb_case()
    for _, binary, _, _ in all_cases:
        if not binary.exists():
            sys.exit(f"{binary} is missing: cargo build --release --bin product-api --bin authorizer --example hello")
    for _, binary, event, env in all_cases:
        run_once(binary, event, env)  # warm the page cache
    samples = {name: [] for name, _, _, _ in all_cases}
    for _ in range(runs):
        for name, binary, event, env in all_cases:
            samples[name].append(run_once(binary, event, env))
    results = {}
    for name, binary, _, _ in all_cases:
        column = lambda i: sorted(sample[i] for sample in samples[name])  # noqa: E731
        results[name] = {
            "cold_ms_median": statistics.median(column(0)),
            "answer_ms_median": statistics.median(column(1)),
            "answer_ms_p90": column(1)[int(0.9 * (runs - 1))],
            "cpu_ms_mean": statistics.mean(column(2)),
            "peak_rss_mib": statistics.median(column(3)) / 1024,
            "size_bytes": binary.stat().st_size,
        }
    issuer.close()
    hello = results["hello"]
    print(
        f"{'binary':<22} {'first next':>11} {'vs hello':>9} {'first answer':>13} {'p90':>9} {'vs hello':>9} "
        f"{'CPU to answer':>14} {'peak RSS':>10} {'size':>12}"
    )
    for name, r in results.items():
        print(
            f"{name:<22} {r['cold_ms_median']:>8.2f} ms {r['cold_ms_median'] / hello['cold_ms_median']:>8.2f}x "
            f"{r['answer_ms_median']:>10.2f} ms {r['answer_ms_p90']:>6.2f} ms {r['answer_ms_median'] / hello['answer_ms_median']:>8.2f}x "
            f"{r['cpu_ms_mean']:>11.2f} ms {r['peak_rss_mib']:>6.1f} MiB {r['size_bytes']:>12,}"
        )
    print(json.dumps({"runs": runs, "results": results}))


if __name__ == "__main__":
    main()
