// Micro-benchmark, run on core 0 by run.mjs: verifying one access token, per library and algorithm.
// Prints JSON. Usage: node bench/lib/jwt-micro.mjs <seconds per measurement> <rounds>
// Each library verifies the same token (signed once by fast-jwt, shaped like Tessera's: typ
// at+jwt, kid, iss/aud/sub/sid/jti/iat/exp/roles), signature and expiry checked, no cache.
// Tessera's own verifier (strict parser + claims rules around fast-jwt) is measured too.
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { importSPKI, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { verificationKey } from '../../dist/core/jwt/key-objects.js';
import { createAccessTokenVerifier } from '../../dist/core/jwt/verifier.js';

const seconds = Number(process.argv[2] ?? 1);
const rounds = Number(process.argv[3] ?? 3);
const issuer = 'http://localhost:3000';
const audience = 'tessera';
const kid = randomBytes(16).toString('base64url');

function keysFor(alg) {
  if (alg === 'HS256') {
    const secret = randomBytes(32);
    return { sign: secret, verify: secret, keyObject: null, secret };
  }
  const pair =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    sign: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    verify: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyObject: pair.publicKey,
  };
}

async function verifiersFor(alg) {
  const keys = keysFor(alg);
  const now = Math.floor(Date.now() / 1000);
  const token = createSigner({ key: keys.sign, algorithm: alg, kid, header: { alg, typ: 'at+jwt', kid } })({
    iss: issuer,
    aud: audience,
    sub: 'kMdkNZWWXF_cw37t_F-usw',
    sid: 'rewaa_hi3yXi0owz-3nsmw',
    jti: randomBytes(16).toString('base64url'),
    iat: now,
    exp: now + 3600,
    roles: [],
  });
  const fast = createVerifier({ key: keys.verify, algorithms: [alg], cache: false });
  const joseKey = alg === 'HS256' ? new Uint8Array(keys.secret) : await importSPKI(keys.verify, alg);
  // Each library gets its key in the form it verifies fastest with: a KeyObject for jsonwebtoken
  // (given a PEM or secret it first tries createPublicKey on every call), a CryptoKey for jose.
  const jwtKey = keys.keyObject ?? createSecretKey(keys.secret);
  const tesseraKey = verificationKey(kid, alg, jwtKey);
  const tesseraOptions = { keys: [tesseraKey], allowedAlgs: [alg], issuer, audience, now: Date.now };
  const tesseraNoCache = createAccessTokenVerifier({ ...tesseraOptions, cacheSize: 0 });
  const tesseraCache = createAccessTokenVerifier(tesseraOptions);
  const verifiers = {
    'fast-jwt': () => fast(token),
    jose: () => jwtVerify(token, joseKey, { algorithms: [alg], issuer, audience }),
    // jsonwebtoken 9 has no EdDSA.
    ...(alg === 'EdDSA'
      ? {}
      : { jsonwebtoken: () => jsonwebtoken.verify(token, jwtKey, { algorithms: [alg], issuer, audience }) }),
    'tessera verifier, no cache': () => tesseraNoCache.verify(token),
    'tessera verifier, cache hit': () => tesseraCache.verify(token),
  };
  // Every verifier must accept the token before it is timed.
  for (const verify of Object.values(verifiers)) await verify();
  return verifiers;
}

/** Calls per second, sequentially (one call at a time, awaiting the async ones). */
async function measure(verify, ms) {
  const isAsync = verify() instanceof Promise;
  let calls = 0;
  const start = performance.now();
  const end = start + ms;
  if (isAsync) {
    while (performance.now() < end) {
      for (let i = 0; i < 50; i++) await verify();
      calls += 50;
    }
  } else {
    while (performance.now() < end) {
      for (let i = 0; i < 200; i++) verify();
      calls += 200;
    }
  }
  return calls / ((performance.now() - start) / 1000);
}

const results = [];
const algs = ['EdDSA', 'ES256', 'HS256'];
const all = {};
for (const alg of algs) all[alg] = await verifiersFor(alg);
// Warm-up, then interleaved rounds: every (alg, library) once per round.
for (const alg of algs) for (const verify of Object.values(all[alg])) await measure(verify, 100);
for (let round = 0; round < rounds; round++) {
  for (const alg of algs) {
    for (const [library, verify] of Object.entries(all[alg])) {
      results.push({ alg, library, round, opsPerSecond: await measure(verify, seconds * 1000) });
    }
  }
}
process.stdout.write(JSON.stringify(results));
