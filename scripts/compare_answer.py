#!/usr/bin/env python3
"""Compares one Lambda answer with the expected file beside its event.

    python3 scripts/compare_answer.py FUNCTION EXPECTED_FILE EXIT_STATUS < answer

product-api: statusCode equal, every expected header present with an equal value (names
case-insensitive, from headers or multiValueHeaders), body JSON equal (null: empty body).
authorizer: the whole answer equal, or for {"error": MESSAGE} a failed invocation whose output
names MESSAGE."""
import json
import sys


def compare(function: str, expected_path, status: int, raw: str):
    """None when the answer matches, else what differs."""
    expected = json.load(open(expected_path))
    if function == "authorizer" and "error" in expected:
        if status == 0 or expected["error"] not in raw:
            return f"expected the invocation to fail with {expected['error']!r}, got: {raw[:300]}"
        return None
    if status != 0:
        return f"invocation failed: {raw[:300]}"
    answer = json.loads(raw)
    if function == "authorizer":
        return None if answer == expected else f"answer differs: {raw[:300]}"
    if answer.get("statusCode") != expected["statusCode"]:
        return f"status {answer.get('statusCode')} != {expected['statusCode']}"
    # REST and ALB answers may carry headers in multiValueHeaders only; API Gateway merges both.
    headers = {k.lower(): ", ".join(v) for k, v in (answer.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (answer.get("headers") or {}).items()})
    for name, value in expected.get("headers", {}).items():
        if headers.get(name.lower()) != value:
            return f"header {name}: {headers.get(name.lower())!r} != {value!r}"
    body = answer.get("body") or ""
    if (json.loads(body) if body else None) != expected.get("body"):
        return f"body differs: {body[:300]}"
    return None


if __name__ == "__main__":
    function, expected_path, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
    problem = compare(function, expected_path, status, sys.stdin.read())
    if problem:
        print(f"  {expected_path}: {problem}", file=sys.stderr)
        sys.exit(1)
