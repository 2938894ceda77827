#!/usr/bin/env python3
"""Writes the sample authorizer events with HS256 tokens signed by Python's standard library:
an implementation independent of the `jsonwebtoken` crate the authorizer verifies with.

Run from the repository root: python3 events/authorizer/make_events.py
The secret, issuer and audience are the test-only ones in events/authorizer/test.env."""
import base64, hashlib, hmac, json, pathlib

HERE = pathlib.Path(__file__).parent
ENV = dict(l.split("=", 1) for l in (HERE / "test.env").read_text().splitlines() if l and not l.startswith("#"))
ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod"
EXP, IAT = 4102444800, 1767225600  # 2100-01-01, 2026-01-01


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(alg="HS256", **claims) -> str:
    body = {"iss": ENV["AUTH_ISSUER"], "sub": "user-42", "aud": ENV["AUTH_AUDIENCE"], "iat": IAT, "exp": EXP}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    signing_input = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + b64(json.dumps(body).encode())
    digest = {"HS256": hashlib.sha256}[alg]
    return signing_input + "." + b64(hmac.new(ENV["AUTH_HMAC_SECRET"].encode(), signing_input.encode(), digest).digest())


def rest_token(tok, method, path):
    return {"type": "TOKEN", "authorizationToken": f"Bearer {tok}", "methodArn": f"{ARN}/{method}{path}"}


def rest_request(tok, method, path, resource):
    return {
        "type": "REQUEST", "methodArn": f"{ARN}/{method}{path}", "resource": resource, "path": path,
        "httpMethod": method, "headers": {"Authorization": f"Bearer {tok}", "Host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Authorization": [f"Bearer {tok}"]}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": {"name": path.rsplit("/", 1)[-1]}, "stageVariables": None,
        "requestContext": {"path": f"/prod{path}", "accountId": "123456789012", "resourceId": "x1y2z3", "stage": "prod",
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
                           "resourcePath": resource, "httpMethod": method, "apiId": "a1b2c3d4e5"},
    }


def basic_with_fallbacks(tok):
    event = rest_request(tok, "GET", "/products", "/products")
    basic = "Basic dXNlcjpwYXNz"
    event["headers"].update({"Authorization": basic, "Cookie": f"{ENV['AUTH_TOKEN_COOKIE']}={tok}"})
    event["multiValueHeaders"] = {"Authorization": [basic], "Cookie": [event["headers"]["Cookie"]]}
    event["queryStringParameters"] = {ENV["AUTH_TOKEN_QUERY"]: tok}
    event["multiValueQueryStringParameters"] = {ENV["AUTH_TOKEN_QUERY"]: [tok]}
    return event


def http_v1(tok, method, path, resource):
    event = rest_request(tok, method, path, resource)
    event.update({"version": "1.0", "identitySource": f"Bearer {tok}", "authorizationToken": f"Bearer {tok}"})
    return event


def http_v2(tok, method, path, route):
    headers = {"host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "user-agent": "curl/8.5.0"}
    if tok is not None:
        headers["authorization"] = f"Bearer {tok}"
    return {
        "version": "2.0", "type": "REQUEST", "routeArn": f"{ARN}/{method}{path}",
        "identitySource": [f"Bearer {tok}"] if tok is not None else None, "routeKey": f"{method} {route}",
        "rawPath": f"/prod{path}", "rawQueryString": "", "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "a1b2c3d4e5", "domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
                           "domainPrefix": "a1b2c3d4e5", "http": {"method": method, "path": f"/prod{path}", "protocol": "HTTP/1.1",
                           "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"}, "requestId": "JKJaXmPLvHcESHA=",
                           "routeKey": f"{method} {route}", "stage": "prod", "time": "29/Nov/2026:04:20:00 +0000", "timeEpoch": 1795839600000},
        "pathParameters": {"name": path.rsplit("/", 1)[-1]} if "{name}" in route else {}, "stageVariables": {},
    }


def websocket(tok):
    return {
        "type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:w1s2o3c4k5/prod/$connect",
        "headers": {"Authorization": f"Bearer {tok}", "Host": "w1s2o3c4k5.execute-api.eu-west-1.amazonaws.com",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {"Authorization": [f"Bearer {tok}"]}, "queryStringParameters": {}, "multiValueQueryStringParameters": {},
        "stageVariables": {},
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "extendedRequestId": "X1", "requestTime": "29/Nov/2026:04:20:00 +0000",
                           "messageDirection": "IN", "stage": "prod", "connectedAt": 1795839600000, "requestTimeEpoch": 1795839600000,
                           "identity": {"sourceIp": "203.0.113.7"}, "requestId": "X1", "domainName": "w1s2o3c4k5.execute-api.eu-west-1.amazonaws.com",
                           "connectionId": "abc=", "apiId": "w1s2o3c4k5"},
    }


READ = token(scope="read:products")
WRITE = token(permissions=["read:products", "write:products"], sub="admin-7")
EVENTS = {
    "token-read-allow": rest_token(READ, "GET", "/product/usb-c-cable-2m"),
    "token-write-deny": rest_token(READ, "PUT", "/product/usb-c-cable-2m"),
    "token-unknown-route-deny": rest_token(READ, "GET", "/admin"),
    "token-expired": rest_token(token(scope="read:products", exp=1767229200), "GET", "/products"),
    "token-wrong-audience": rest_token(token(scope="read:products", aud="another-api"), "GET", "/products"),
    "token-basic-scheme": {**rest_token("x", "GET", "/products"), "authorizationToken": "Basic dXNlcjpwYXNz"},
    "token-lookalike-scope": rest_token(token(scope="read:products-archive READ:PRODUCTS"), "GET", "/products"),
    # A raw token's claim is as issued: "[read:products]" is one opaque scope (RFC 6749 section 3.3), not read:products.
    "token-bracketed-scope-deny": rest_token(token(scope="[read:products]"), "GET", "/products"),
    "http-v1-bracketed-scp-item-deny": http_v1(token(scp=["[read:products]"]), "GET", "/products", "/products"),
    "request-permissions-allow": rest_request(WRITE, "PUT", "/product/usb-c-cable-2m", "/product/{name}"),
    # A present Authorization header that is not Bearer is no token: the cookie and query token are not read.
    "request-basic-scheme-with-cookie-and-query-token": basic_with_fallbacks(READ),
    "http-v1-scp-allow": http_v1(token(scp=["read:products"]), "GET", "/products", "/products"),
    "http-v2-allow": http_v2(READ, "GET", "/product/usb-c-cable-2m", "/product/{name}"),
    "http-v2-scope-deny": http_v2(READ, "DELETE", "/product/usb-c-cable-2m", "/product/{name}"),
    "http-v2-invalid-signature": http_v2(READ[:-4] + "AAAA", "GET", "/products", "/products"),
    "http-v2-no-token": http_v2(None, "GET", "/products", "/products"),
    "websocket-connect-deny": websocket(READ),
}

for name, event in EVENTS.items():
    (HERE / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
print(f"wrote {len(EVENTS)} events")
