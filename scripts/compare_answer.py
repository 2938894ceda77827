#!/usr/bin/env python3
"""Compares one `cargo lambda invoke --output-format json` answer (stdin) with an expected file.

product-api: statusCode equal, every expected header present with an equal value (names
case-insensitive), body JSON equal (null: empty body).
authorizer: the whole answer equal, or for {"error": MESSAGE} a failed invocation whose output
names MESSAGE."""
import json, sys

function, expected_path, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = sys.stdin.read()
expected = json.load(open(expected_path))


def fail(why):
    print(f"  {expected_path}: {why}\n  got: {raw[:600]}", file=sys.stderr)
    sys.exit(1)


if function == "authorizer" and "error" in expected:
    if status == 0 or expected["error"] not in raw:
        fail(f"expected the invocation to fail with {expected['error']!r}")
    sys.exit(0)
if status != 0:
    fail(f"invoke exited {status}")
answer = json.loads(raw)
if function == "authorizer":
    if answer != expected:
        fail("answer differs")
    sys.exit(0)
if answer.get("statusCode") != expected["statusCode"]:
    fail(f"status {answer.get('statusCode')} != {expected['statusCode']}")
headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
for name, value in expected.get("headers", {}).items():
    if headers.get(name.lower()) != value:
        fail(f"header {name}: {headers.get(name.lower())!r} != {value!r}")
body = answer.get("body") or ""
got_body = json.loads(body) if body else None
if got_body != expected.get("body"):
    fail("body differs")
