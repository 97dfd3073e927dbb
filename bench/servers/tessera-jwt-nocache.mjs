// Tessera in jwt mode with the verified-token cache turned off: every request parses the token,
// checks its signature and its claims. The library has no switch for this (the Keyring builds
// its verifier with the default cache), so this server does what `tessera serve` does, then
// replaces keyring.verify with a verifier built from the same keys with cacheSize 0.
// Needs TESSERA_KEY_ENCRYPTION_KEY (to open an HS256 secret the same way the keyring does).
import { loadConfig } from '../../dist/config.js';
import { verificationKeyOf } from '../../dist/core/jwt/keys.js';
import { parseKeyEncryptionKey } from '../../dist/core/jwt/seal.js';
import { createAccessTokenVerifier } from '../../dist/core/jwt/verifier.js';
import { buildApp } from '../../dist/http/app.js';
import { createTessera } from '../../dist/tessera.js';

const config = loadConfig();
if (config.mode === 'session' || !config.keyEncryptionKey) {
  throw new Error('tessera-jwt-nocache needs TESSERA_MODE=jwt (or hybrid) and TESSERA_KEY_ENCRYPTION_KEY');
}
const tessera = await createTessera(config);
const { keyring } = tessera;
const kek = parseKeyEncryptionKey(config.keyEncryptionKey);
const verifier = createAccessTokenVerifier({
  keys: keyring.list().map((stored) =>
    verificationKeyOf(
      {
        kid: stored.kid,
        alg: stored.alg,
        status: stored.status,
        createdAt: stored.createdAt,
        ...(stored.publicJwk ? { publicJwk: JSON.parse(stored.publicJwk) } : {}),
        privateKeyEncrypted: stored.privateKeyEncrypted,
      },
      kek,
    ),
  ),
  allowedAlgs: config.jwt.allowedAlgorithms,
  issuer: config.jwt.issuer,
  audience: config.jwt.audience,
  now: tessera.runtime.now,
  cacheSize: 0,
});
// An own property shadows Keyring.prototype.verify; authenticate() calls tessera.keyring.verify.
// Counted, so a change in src that stops calling it cannot silently turn this row into "cached".
let calls = 0;
keyring.verify = (token) => {
  calls++;
  return verifier.verify(token);
};

const app = await buildApp(tessera);
tessera.startBackgroundJobs((error) => app.log.error({ err: error }, 'background job failed'));
process.once('SIGTERM', async () => {
  if (calls === 0) {
    console.error('tessera-jwt-nocache: keyring.verify was never called, so this server measured nothing');
    process.exitCode = 3;
  }
  await app.close();
  await tessera.close();
});
await app.listen({ port: config.port, host: config.host });
