// Node.js side of bench/compare.sh.
//
//   node bench/compare.mjs gen DIR         keys, JWKS and tokens (jose), written to DIR
//   node bench/compare.mjs peers DIR OUT   time aws-jwt-verify, jose and node:crypto alone on DIR's
//                                          tokens, write OUT
//   node bench/compare.mjs report DIR      the table: every DIR/ours-N.json (bench/verify_throughput.rs)
//                                          against DIR/node-N.json, N = pass
//   node bench/compare.mjs criterion DIR   medians and ratios from criterion's DIR (target/criterion)
//
// Timing: per algorithm and verifier, WARMUP_MS of warm-up, then ROUNDS rounds of ROUND_MS each
// (same variables and defaults as the Rust side); a round's figure is its elapsed time over the
// verifications it completed. compare.sh alternates passes of ours and the peers, so a ratio is
// the median over passes of (peer / ours) within a pass: both sides of it ran within seconds of
// each other, under the same load. One thread, as on Lambda.

import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify } from "node:crypto";
import { readFileSync, writeFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const ISSUER = "https://issuer.bench.example/";
const AUDIENCE = "products-api";
const ALGS = ["RS256", "ES256", "EdDSA", "HS256"];
const envInt = (name, fallback) => Number.parseInt(process.env[name] ?? "", 10) || fallback;
const ROUNDS = envInt("ROUNDS", 3);
const ROUND_MS = envInt("ROUND_MS", 500);
const WARMUP_MS = envInt("WARMUP_MS", 500);

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const b64url = (text) => Buffer.from(text, "base64url");

async function gen(dir) {
  const jose = await import("jose");
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: "user-42", scope: "read:products write:products" };
  const keys = [];
  const tokens = {};
  for (const alg of ["RS256", "ES256", "EdDSA"]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { modulusLength: 2048 });
    const kid = `${alg.toLowerCase()}-bench`;
    keys.push({ ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" });
    tokens[alg] = await new jose.SignJWT(claims)
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
  }
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  tokens.HS256 = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(secret));
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys }));
  writeFileSync(join(dir, "tokens.json"), JSON.stringify(tokens, null, 2));
  writeFileSync(join(dir, "params.json"), JSON.stringify({ issuer: ISSUER, audience: AUDIENCE, secret }));
}

/** Median microseconds per call of `fn` (sync, or async when `isAsync`). */
async function measure(fn, isAsync) {
  const batch = 16;
  const round = async (ms) => {
    const start = performance.now();
    let n = 0;
    for (;;) {
      if (isAsync) for (let i = 0; i < batch; i++) await fn();
      else for (let i = 0; i < batch; i++) fn();
      n += batch;
      const elapsed = performance.now() - start;
      if (elapsed >= ms) return (elapsed * 1000) / n;
    }
  };
  await round(WARMUP_MS);
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(ROUND_MS));
  return { us: median(rounds), rounds };
}

/** Node's own crypto on the signature alone, key imported once: the floor for any Node verifier. */
function nodeFloor(alg, token, jwks, secret) {
  const dot = token.lastIndexOf(".");
  const message = Buffer.from(token.slice(0, dot));
  if (alg === "HS256") {
    return () => {
      const sig = b64url(token.slice(dot + 1));
      const mac = createHmac("sha256", secret).update(message).digest();
      if (!timingSafeEqual(mac, sig)) throw new Error("bad mac");
    };
  }
  const jwk = jwks.keys.find((k) => k.alg === alg);
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const [digest, options] = {
    RS256: ["sha256", key],
    ES256: ["sha256", { key, dsaEncoding: "ieee-p1363" }],
    EdDSA: [null, key],
  }[alg];
  return () => {
    if (!cryptoVerify(digest, message, options, b64url(token.slice(dot + 1)))) throw new Error("bad signature");
  };
}

async function peers(dir, out) {
  const { JwtVerifier } = await import("aws-jwt-verify");
  const jose = await import("jose");
  const jwks = readJson(join(dir, "jwks.json"));
  const tokens = readJson(join(dir, "tokens.json"));
  const { issuer, audience, secret } = readJson(join(dir, "params.json"));

  // aws-jwt-verify: the generic verifier, its cache hydrated with the JWKS (no fetch), verifySync.
  const awsVerifier = JwtVerifier.create({ issuer, audience, jwksUri: "http://127.0.0.1:9/jwks.json" });
  awsVerifier.cacheJwks(jwks);
  // jose: jwtVerify against a local JWKS (keys imported once and cached by jose), or the secret.
  const localJwks = jose.createLocalJWKSet(jwks);
  const secretKey = new TextEncoder().encode(secret);

  const results = {};
  for (const alg of ALGS) {
    const token = tokens[alg];
    const row = {};
    const floor = nodeFloor(alg, token, jwks, secret);
    floor();
    row.nodeCrypto = await measure(floor, false);
    if (alg !== "HS256") {
      const verifyAws = () => awsVerifier.verifySync(token);
      if (verifyAws().sub !== "user-42") throw new Error(`aws-jwt-verify ${alg}`);
      row.awsJwtVerify = await measure(verifyAws, false);
    }
    const key = alg === "HS256" ? secretKey : localJwks;
    const verifyJose = () => jose.jwtVerify(token, key, { issuer, audience, algorithms: [alg] });
    if ((await verifyJose()).payload.sub !== "user-42") throw new Error(`jose ${alg}`);
    row.jose = await measure(verifyJose, true);
    results[alg] = row;
    const show = (m) => (m ? m.us.toFixed(1) : "-");
    process.stderr.write(
      `peers ${alg.padStart(6)}: aws-jwt-verify ${show(row.awsJwtVerify)} us, jose ${show(row.jose)} us, node:crypto ${show(row.nodeCrypto)} us\n`,
    );
  }
  writeFileSync(out, JSON.stringify(results, null, 2));
}

function report(dir) {
  const passes = readdirSync(dir)
    .map((f) => /^ours-(\d+)\.json$/.exec(f)?.[1])
    .filter((n) => n !== undefined && existsSync(join(dir, `node-${n}.json`)))
    .sort((a, b) => a - b)
    .map((n) => ({ ours: readJson(join(dir, `ours-${n}.json`)), node: readJson(join(dir, `node-${n}.json`)) }));
  if (passes.length === 0) throw new Error(`no ours-N.json / node-N.json pairs in ${dir}`);
  const version = (name) => readJson(new URL(`./node_modules/${name}/package.json`, import.meta.url)).version;
  const rounds = (pick) => passes.flatMap((p) => pick(p)?.rounds ?? []);
  const stat = (pick) => {
    const all = rounds(pick);
    return all.length ? { us: median(all), best: Math.min(...all) } : undefined;
  };
  const cell = (m) => (m ? `${m.us.toFixed(1)} (${m.best.toFixed(1)})` : "-");
  const ratio = (peerPick, oursPick) => {
    const per = passes.map((p) => peerPick(p) && oursPick(p) && peerPick(p).us / oursPick(p).us).filter(Boolean);
    return per.length ? `**${median(per).toFixed(2)}x** (${Math.min(...per).toFixed(2)}-${Math.max(...per).toFixed(2)})` : "-";
  };
  console.log(
    `\nMicroseconds per verification on one thread: median of every round (best round in brackets), ` +
      `${passes.length} alternating passes of ${ROUNDS} rounds x ${ROUND_MS} ms per verifier; node ${process.version}, ` +
      `aws-jwt-verify ${version("aws-jwt-verify")}, jose ${version("jose")}.\n` +
      `"ours vs X" is X's time over ours (our throughput over X's): the median over passes of the ratio within a pass ` +
      `(lowest-highest pass in brackets). The issue's target is >= 2x aws-jwt-verify for RS256, ES256 and EdDSA.\n`,
  );
  console.log("| alg | ours: Authorizer::verify_token | ours /s | aws-jwt-verify verifySync | jose jwtVerify | node:crypto alone | ours vs aws-jwt-verify | ours vs jose |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const alg of ALGS) {
    const ours = (p) => p.ours[alg];
    const aws = (p) => p.node[alg]?.awsJwtVerify;
    const jose = (p) => p.node[alg]?.jose;
    const floor = (p) => p.node[alg]?.nodeCrypto;
    const o = stat(ours);
    console.log(
      `| ${alg} | ${cell(o)} | ${o ? Math.round(1e6 / o.us).toLocaleString("en-US") : "-"} | ${cell(stat(aws))} | ` +
        `${cell(stat(jose))} | ${cell(stat(floor))} | ${ratio(aws, ours)} | ${ratio(jose, ours)} |`,
    );
  }
}

/** Medians (ns) of every criterion benchmark under `dir`, keyed by its full id ("group/function/value"). */
function criterionMedians(dir) {
  const out = {};
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === "report") continue;
      const sub = join(path, entry.name);
      if (entry.name === "new" && existsSync(join(sub, "benchmark.json"))) {
        const id = readJson(join(sub, "benchmark.json")).full_id;
        out[id] = readJson(join(sub, "estimates.json")).median.point_estimate;
      } else if (entry.name !== "base" && entry.name !== "change") {
        walk(sub);
      }
    }
  };
  walk(dir);
  return out;
}

function criterion(dir) {
  const m = criterionMedians(dir);
  const us = (id) => (m[id] === undefined ? "-" : (m[id] / 1000).toFixed(2));
  const ratio = (a, b) => (m[a] === undefined || m[b] === undefined ? "-" : `${(m[a] / m[b]).toFixed(2)}x`);
  console.log("### verify (median us per token)\n");
  console.log(
    "| alg | aws-lc, key pre-parsed | bare: jsonwebtoken::crypto::verify | jsonwebtoken::decode | " +
      "**Authorizer::verify_token** | ours / bare | ours / pre-parsed |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA", "HS256"]) {
    const id = (f) => `verify/${f}/${alg}`;
    console.log(
      `| ${alg} | ${us(id("aws_lc_preparsed"))} | ${us(id("bare"))} | ${us(id("jwt_decode"))} | ` +
        `**${us(id("authorizer_verify"))}** | ` +
        `${ratio(id("authorizer_verify"), id("bare"))} | ${ratio(id("authorizer_verify"), id("aws_lc_preparsed"))} |`,
    );
  }
  console.log("\n### authorizer decision, event JSON in, response JSON out (median us)\n");
  console.log("| event | decision | bare signature check of its token | decision / bare (target <= 1.3x) |");
  console.log("|---|---:|---:|---:|");
  const events = Object.keys(m)
    .filter((id) => id.startsWith("authorizer/decision/"))
    .map((id) => id.slice("authorizer/decision/".length));
  for (const e of events) {
    console.log(`| ${e} | ${us(`authorizer/decision/${e}`)} | ${us(`authorizer/bare/${e}`)} | ${ratio(`authorizer/decision/${e}`, `authorizer/bare/${e}`)} |`);
  }
  const paired = readdirSync(dir)
    .filter((f) => f.startsWith("paired-") && f.endsWith(".json"))
    .sort();
  if (paired.length > 0) {
    console.log("\n### paired ratios (functions run in alternating ~2 ms chunks; median us, median of per-round ratios to the first)\n");
    console.log("| set | function | median us | ratio |");
    console.log("|---|---|---:|---:|");
    for (const file of paired) {
      const set = file.slice("paired-".length, -".json".length);
      for (const { name, median_ns, ratio } of readJson(join(dir, file))) {
        console.log(`| ${set} | ${name} | ${(median_ns / 1000).toFixed(2)} | ${ratio.toFixed(2)}x |`);
      }
    }
  }
  console.log("\n### everything else (median us)\n");
  console.log("| bench | median us |");
  console.log("|---|---:|");
  for (const id of Object.keys(m).sort()) {
    if (id.startsWith("verify/") || id.startsWith("authorizer/decision/") || id.startsWith("authorizer/bare/")) continue;
    console.log(`| ${id} | ${us(id)} |`);
  }
}

const [mode, dir] = process.argv.slice(2);
if (mode === "gen" && dir) await gen(dir);
else if (mode === "peers" && dir && process.argv[4]) await peers(dir, process.argv[4]);
else if (mode === "report" && dir) report(dir);
else if (mode === "criterion" && dir) criterion(dir);
else {
  console.error("usage: node bench/compare.mjs gen DIR | peers DIR OUT | report DIR | criterion TARGET/criterion");
  process.exit(2);
}
