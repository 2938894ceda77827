// A Lambda authorizer the way Node users write one: aws-jwt-verify's generic JwtVerifier (keys
// fetched from AUTH_JWKS_URI on first use and cached), an IAM policy for the method ARN, under a
// Runtime API loop on node:http with a keep-alive agent (what the Node runtime itself does).
// The peer for bench/warm_cpu.py; not part of the product.
import { JwtVerifier } from "aws-jwt-verify";
import http from "node:http";

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const verifier = JwtVerifier.create({
  issuer: process.env.AUTH_ISSUER,
  audience: process.env.AUTH_AUDIENCE,
  jwksUri: process.env.AUTH_JWKS_URI,
});
verifier.cacheJwks(JSON.parse(process.env.AUTH_JWKS));

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port, method, path: `/2018-06-01/runtime${path}`, agent }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

function policy(principalId, effect, resource, context) {
  return {
    principalId,
    policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] },
    context,
  };
}

async function handle(event) {
  const token = (event.authorizationToken ?? "").replace(/^Bearer /, "");
  const payload = await verifier.verify(token); // throws on any invalid token: "Unauthorized"
  const scopes = (payload.scope ?? "").split(" ");
  const effect = scopes.includes("read:products") ? "Allow" : "Deny";
  return policy(payload.sub, effect, event.methodArn, { sub: payload.sub, scope: payload.scope });
}

for (;;) {
  const next = await call("GET", "/invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    const answer = await handle(JSON.parse(next.body));
    await call("POST", `/invocation/${id}/response`, JSON.stringify(answer));
  } catch {
    await call("POST", `/invocation/${id}/error`, JSON.stringify({ errorType: "Unauthorized", errorMessage: "Unauthorized" }));
  }
}
