import type { TesseraConfig } from './config.js';
import { AuthError } from './core/errors.js';
import { KEY_RELOAD_INTERVAL_MS, Keyring } from './core/keyring.js';
import type { Runtime } from './core/runtime.js';
import { resolveKeyEncryptionKey } from './key-encryption-key.js';
import type { SigningKeyStore } from './store/ports/index.js';

/** The keyring over the stored signing keys, created on first use; also used by `tessera keys`. */
export async function openKeyring(
  config: TesseraConfig,
  store: SigningKeyStore,
  runtime: Runtime,
  warnings: string[] = [],
): Promise<Keyring> {
  const { kek, warning } = resolveKeyEncryptionKey(config, runtime);
  if (warning) warnings.push(warning);
  const keyring = new Keyring(store, runtime, {
    kek,
    algorithm: config.jwt.algorithm,
    allowedAlgorithms: config.jwt.allowedAlgorithms,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    accessTokenTtlMs: config.jwt.accessTokenTtlMs,
    clockSkewSeconds: Math.round(config.jwt.clockSkewMs / 1000),
  });
  await keyring.load();
  return keyring;
}

/**
 * Session mode's keyring for OAuth: opened on first use, then reloaded at most every
 * KEY_RELOAD_INTERVAL_MS as requests come (there is no background job for it), so rotations
 * by other nodes or the CLI arrive within the same bound as in jwt mode. Where a generated
 * key-encryption key cannot be shared (PostgreSQL, production) it needs TESSERA_KEY_ENCRYPTION_KEY.
 */
export function lazyKeyring(
  config: TesseraConfig,
  store: SigningKeyStore,
  runtime: Runtime,
  warnings: string[],
) {
  let opening: Promise<Keyring> | undefined;
  let loadedAt = 0;
  return async (): Promise<Keyring> => {
    if (!config.keyEncryptionKey && (config.production || config.database.engine === 'postgres')) {
      throw new AuthError('oauth_unavailable');
    }
    opening ??= openKeyring(config, store, runtime, warnings).then(
      (keyring) => {
        loadedAt = runtime.now();
        return keyring;
      },
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    );
    const keyring = await opening;
    if (runtime.now() - loadedAt >= KEY_RELOAD_INTERVAL_MS) {
      loadedAt = runtime.now();
      await keyring.reload();
    }
    return keyring;
  };
}
