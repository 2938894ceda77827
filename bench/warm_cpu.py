#!/usr/bin/env python3
"""CPU time per warm invocation, measured from outside the process: ours against the Rust runtime's
own floor (bench/hello.rs, a hello-world lambda_http) and against an authorizer written the way
Node users write it (bench/node_authorizer.mjs: aws-jwt-verify under a Runtime API loop).

Each process is driven through the local Runtime API (scripts/runtime_api.py) with a TOKEN event
signed RS256, ES256 or EdDSA by bench/loopback_issuer.py, whose keys it fetches from 127.0.0.1 (by
discovery for ours; Node's cache is hydrated with the same set, as aws-jwt-verify fetches over
https only). After WARMUP invocations the script reads the
process's utime + stime (/proc/PID/stat, clock ticks) and its threads' run time
(/proc/PID/task/*/schedstat, ns), sends INVOCATIONS more, and divides the difference. The
Runtime API emulator's own CPU is not counted. Two modes: tokio's multi-thread runtime with a worker
per CPU, and one worker (`TOKIO_WORKER_THREADS=1` for hello, `AUTH_WORKER_THREADS=1` for ours). Rounds interleave
the cases; the figures are medians over rounds.

    cargo build --release --bin authorizer --example hello
    npm ci --prefix bench
    python3 bench/warm_cpu.py [ROUNDS] [INVOCATIONS]     # default 3 rounds of 2000
    BIN_DIR=/other/target/release python3 bench/warm_cpu.py
"""
import json
import os
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
from loopback_issuer import ALGORITHMS, LoopbackIssuer  # noqa: E402
from runtime_api import RuntimeApi  # noqa: E402

RELEASE = pathlib.Path(os.environ.get("BIN_DIR", ROOT / "target" / "release"))
TICKS = os.sysconf("SC_CLK_TCK")
WARMUP = 200
# tokio's multi-thread runtime with a worker per CPU (hello's `#[tokio::main]`; ours with
# AUTH_WORKER_THREADS, as on Managed Instances), and one worker (ours: its default when one
# invocation runs at a time, the single-thread runtime).
MODES = {
    "multi-thread": {"AUTH_WORKER_THREADS": str(os.cpu_count())},
    "1 worker": {"TOKIO_WORKER_THREADS": "1", "AUTH_WORKER_THREADS": "1"},
}


def cpu(pid: int):
    """(utime + stime in µs from /proc/PID/stat, the threads' summed run time in µs)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    run = sum(int((task / "schedstat").read_text().split()[0]) for task in pathlib.Path(f"/proc/{pid}/task").iterdir())
    return ticks * 1e6 / TICKS, run / 1e3


def measure(command, event: bytes, env: dict, invocations: int):
    api = RuntimeApi()
    process = api.spawn(command[0], env) if len(command) == 1 else spawn_node(api, command, env)
    try:
        for _ in range(WARMUP):
            ok, body = api.invoke(event)
            if not ok or (b"Allow" not in body and b"hello" not in body):
                sys.exit(f"{command[-1]}: unexpected answer {body[:200]!r}")
        before = cpu(process.pid)
        for _ in range(invocations):
            api.invoke(event)
        after = cpu(process.pid)
        return tuple((a - b) / invocations for a, b in zip(after, before))
    finally:
        process.kill()
        process.wait()
        api.close()


def spawn_node(api: RuntimeApi, command, env):
    """RuntimeApi.spawn for a script: the same environment, `node SCRIPT`."""
    import subprocess

    environment = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_RUNTIME_API": api.address, **env}
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    invocations = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    issuer = LoopbackIssuer()
    hello_event = (ROOT / "events/product-api/v2-jwt-get-product.json").read_bytes()
    node = ["node", str(ROOT / "bench/node_authorizer.mjs")]
    node_env = {**issuer.env(), "AUTH_JWKS_URI": issuer.issuer + "/jwks.json", "AUTH_JWKS": issuer.jwks}
    cases = []
    for mode, mode_env in MODES.items():
        cases.append((f"hello, {mode}", [RELEASE / "examples" / "hello"], hello_event, mode_env))
        for alg in ALGORITHMS:
            cases.append((f"authorizer {alg}, {mode}", [RELEASE / "authorizer"], issuer.token_event(alg), {**issuer.env(), **mode_env}))
    for alg in ALGORITHMS:
        cases.append((f"node aws-jwt-verify {alg}", node, issuer.token_event(alg), node_env))
    samples = {name: [] for name, *_ in cases}
    for _ in range(rounds):
        for name, command, event, env in cases:
            samples[name].append(measure(command, event, env, invocations))
    issuer.close()
    results = {
        name: {
            "stat_us": statistics.median(s[0] for s in runs),
            "schedstat_us": statistics.median(s[1] for s in runs),
        }
        for name, runs in samples.items()
    }
    print(f"{'process':<32} {'utime+stime / inv':>18} {'vs hello':>9} {'schedstat / inv':>16} {'vs hello':>9}")
    for name, r in results.items():
        mode = "1 worker" if name.endswith("1 worker") else "multi-thread"
        floor = results[f"hello, {mode}"]
        print(
            f"{name:<32} {r['stat_us']:>15.1f} µs {r['stat_us'] / floor['stat_us']:>8.2f}x "
            f"{r['schedstat_us']:>13.1f} µs {r['schedstat_us'] / floor['schedstat_us']:>8.2f}x"
        )
    print(json.dumps({"rounds": rounds, "invocations": invocations, "results": results}))


if __name__ == "__main__":
    main()
