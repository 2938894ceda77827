"""A test issuer on 127.0.0.1 for the process-level benchmarks: fresh RS256, ES256 and EdDSA keys
(Python's `cryptography`, independent of the crates under test), TOKEN events signed with them,
and an HTTP server answering OpenID Connect discovery and the JWKS.

The server sends each answer in one write with Nagle's algorithm off (see the toolchain notes):
otherwise a keep-alive client waits ~40 ms for a delayed ACK and the figures measure the stall.
Used by bench/cold_start.py and bench/warm_cpu.py.
"""
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

AUDIENCE = "products-api"
ALGORITHMS = ("RS256", "ES256", "EdDSA")
ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/product/usb-c-cable-2m"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int, size: int) -> str:
    return b64(value.to_bytes(size, "big"))


class LoopbackIssuer:
    """Keys, tokens and the discovery/JWKS server; `issuer` is `http://127.0.0.1:PORT`."""

    def __init__(self):
        self.requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real issuer: both fetches on one connection
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                issuer.requests += 1
                if self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": issuer.issuer, "jwks_uri": issuer.issuer + "/jwks.json"})
                elif self.path == "/jwks.json":
                    body = issuer.jwks
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                head = (
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
                ).encode()
                self.wfile.write(head + data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.keys = {
            "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ES256": ec.generate_private_key(ec.SECP256R1()),
            "EdDSA": ed25519.Ed25519PrivateKey.generate(),
        }
        self.jwks = json.dumps({"keys": [self._jwk(alg) for alg in ALGORITHMS]})

    def _jwk(self, alg: str) -> dict:
        public = self.keys[alg].public_key()
        common = {"kid": f"{alg.lower()}-bench", "alg": alg, "use": "sig"}
        if alg == "RS256":
            numbers = public.public_numbers()
            return {**common, "kty": "RSA", "n": _uint(numbers.n, 256), "e": _uint(numbers.e, 3)}
        if alg == "ES256":
            numbers = public.public_numbers()
            return {**common, "kty": "EC", "crv": "P-256", "x": _uint(numbers.x, 32), "y": _uint(numbers.y, 32)}
        raw = public.public_bytes_raw()
        return {**common, "kty": "OKP", "crv": "Ed25519", "x": b64(raw)}

    def token(self, alg: str, scope="read:products") -> str:
        now = int(time.time())
        header = {"alg": alg, "typ": "JWT", "kid": f"{alg.lower()}-bench"}
        claims = {"iss": self.issuer, "sub": "user-42", "aud": AUDIENCE, "iat": now, "exp": now + 3600, "scope": scope}
        signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
        key = self.keys[alg]
        if alg == "RS256":
            signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "ES256":
            r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = key.sign(signing_input)
        return signing_input.decode() + "." + b64(signature)

    def token_event(self, alg: str) -> bytes:
        """A REST TOKEN event for `GET /product/{name}` with a `read:products` token: an Allow."""
        return json.dumps({"type": "TOKEN", "authorizationToken": f"Bearer {self.token(alg)}", "methodArn": ARN}).encode()

    def env(self) -> dict:
        """Authorizer configuration: this issuer, keys by discovery."""
        return {"AUTH_ISSUER": self.issuer, "AUTH_AUDIENCE": AUDIENCE}

    def close(self):
        self.server.shutdown()
