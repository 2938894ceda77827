#!/usr/bin/env python3
"""A minimal AWS Lambda Runtime API on 127.0.0.1, to drive the real release `bootstrap` binaries
the way Lambda does: `GET /2018-06-01/runtime/invocation/next` hands out one event at a time,
`POST .../response` or `.../error` takes the answer back.

    python3 scripts/runtime_api.py               # every sample event through target/lambda/<function>/bootstrap
    python3 scripts/runtime_api.py target/debug  # ... through target/debug/<function> instead

Used by scripts/e2e-cargo-lambda.sh (after `cargo lambda build --release`) and bench/cold_start.py.
Answers are compared with the `.expected.json` beside each event by scripts/compare_answer.py.
"""
import os
import pathlib
import queue
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_env() -> dict:
    """The test-only authorizer configuration the sample events are signed for."""
    lines = (ROOT / "events/authorizer/test.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


class RuntimeApi:
    """Serves events to one process at a time; `invoke` returns (ok, body) for each event."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_next = None
        self.answered_at = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            # Answers go out in two writes (headers, body): with Nagle on, a keep-alive client waits
            # ~40 ms for a delayed ACK before the second arrives.
            disable_nagle_algorithm = True
            # Keep-alive, as Lambda's Runtime API: with HTTP/1.0 every `next` and every answer
            # opened a new connection, whose connect and close were counted as the function's CPU.
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except ConnectionResetError:  # the process was stopped with its connection open
                    pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                if api.first_next is None:
                    api.first_next = time.perf_counter()
                event = api.events.get()
                if event is None:  # no more events: hold the connection until the process is stopped
                    time.sleep(60)
                    return
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", "req-1")
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:f")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(event)))
                self.end_headers()
                self.wfile.write(event)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api.answered_at = time.perf_counter()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if "/runtime/init/error" in self.path:
                    api.answers.put((False, b"init error: " + body))
                else:
                    api.answers.put(("/error" not in self.path, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def spawn(self, binary, env=None):
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_LAMBDA_RUNTIME_API": self.address,
            "AWS_LAMBDA_FUNCTION_NAME": pathlib.Path(binary).parent.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "WARN",
            "AWS_REGION": "eu-west-1",
            **(env or {}),
        }
        self.first_next = None
        return subprocess.Popen([str(binary)], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def invoke(self, event: bytes, timeout=30):
        self.events.put(event)
        return self.answers.get(timeout=timeout)

    def close(self):
        self.events.put(None)
        self.server.shutdown()


def fixture_time_events():
    """The events whose answer holds only at the fixtures' instant (DPoP proofs carry `iat`),
    as paths relative to the repository: the real binaries decide on the real clock."""
    listing = ROOT / "events" / "authorizer" / "at-fixture-time.txt"
    names = [line.strip() for line in listing.read_text().splitlines()]
    return {pathlib.Path("events/authorizer") / name for name in names if name and not name.startswith("#")}


def main():
    sys.path.insert(0, str(ROOT / "scripts"))
    from compare_answer import compare

    passed = failed = skipped = 0
    at_fixture_time = fixture_time_events()
    for function, env in [("product-api", {}), ("authorizer", test_env())]:
        binary = ROOT / sys.argv[1] / function if len(sys.argv) > 1 else ROOT / "target/lambda" / function / "bootstrap"
        api = RuntimeApi()
        process = api.spawn(binary, env)
        try:
            for event in sorted((ROOT / "events" / function).glob("*.json")):
                if event.name.endswith(".expected.json"):
                    continue
                if event.relative_to(ROOT) in at_fixture_time:
                    skipped += 1
                    continue
                ok, body = api.invoke(event.read_bytes())
                expected = event.with_name(event.name[: -len(".json")] + ".expected.json")
                problem = compare(function, expected, 0 if ok else 1, body.decode())
                if problem:
                    print(f"FAIL {event.relative_to(ROOT)}: {problem}", file=sys.stderr)
                    failed += 1
                else:
                    passed += 1
        finally:
            process.kill()
            process.wait()
            api.close()
    print(
        f"bootstrap binaries via the Runtime API: {passed} passed, {failed} failed, "
        f"{skipped} skipped (valid only at the fixtures' instant: events/authorizer/at-fixture-time.txt)"
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
