#!/usr/bin/env python3
"""Cold start, peak memory and size of the release Lambda binaries, against a minimal lambda_http
hello-world built with the same profile.

A small Lambda Runtime API on 127.0.0.1 (this script) times each process from spawn to its first
`GET /2018-06-01/runtime/invocation/next` (the cold start), hands it one sample event, waits for
the answer, then reads the process's peak RSS (VmHWM) before stopping it.

    cargo build --release --bin product-api --bin authorizer --example hello
    python3 bench/cold_start.py [RUNS]        # default 30 runs per binary; prints medians, ratios
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
from runtime_api import RuntimeApi, test_env  # noqa: E402

RELEASE = ROOT / "target" / "release"
CASES = [
    ("hello", RELEASE / "examples" / "hello", ROOT / "events/product-api/v2-jwt-get-product.json", {}),
    ("product-api", RELEASE / "product-api", ROOT / "events/product-api/v2-jwt-get-product.json", {}),
    ("authorizer", RELEASE / "authorizer", ROOT / "events/authorizer/token-read-allow.json", test_env()),
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
    return [("product-api+ddb", RELEASE / "product-api", ROOT / "events/product-api/v2-jwt-get-product.json", env)]


def peak_rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_once(binary: pathlib.Path, event: bytes, env: dict):
    """Spawn to first `next` (ms), peak RSS after one answered event (KiB)."""
    api = RuntimeApi()
    started = time.perf_counter()
    process = api.spawn(binary, env)
    try:
        ok, body = api.invoke(event)
        if not ok:
            sys.exit(f"{binary.name} answered with an error: {body[:200]!r}")
        return (api.first_next - started) * 1000, peak_rss_kib(process.pid)
    finally:
        process.kill()
        process.wait()
        api.close()


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    results = {}
    for name, binary, event_file, env in CASES + dynamodb_case():
        if not binary.exists():
            sys.exit(f"{binary} is missing: cargo build --release --bin product-api --bin authorizer --example hello")
        event = event_file.read_bytes()
        run_once(binary, event, env)  # warm the page cache
        samples = [run_once(binary, event, env) for _ in range(runs)]
        colds = sorted(cold for cold, _ in samples)
        results[name] = {
            "cold_ms_median": statistics.median(colds),
            "cold_ms_p90": colds[int(0.9 * (len(colds) - 1))],
            "peak_rss_mib": statistics.median(rss for _, rss in samples) / 1024,
            "size_bytes": binary.stat().st_size,
        }
    hello = results["hello"]["cold_ms_median"]
    print(f"{'binary':<12} {'cold start (median)':>20} {'p90':>8} {'vs hello':>9} {'peak RSS':>10} {'size':>12}")
    for name, r in results.items():
        print(
            f"{name:<12} {r['cold_ms_median']:>17.2f} ms {r['cold_ms_p90']:>5.2f} ms {r['cold_ms_median'] / hello:>8.2f}x "
            f"{r['peak_rss_mib']:>6.1f} MiB {r['size_bytes']:>12,}"
        )
    print(json.dumps({"runs": runs, "results": results}))


if __name__ == "__main__":
    main()
