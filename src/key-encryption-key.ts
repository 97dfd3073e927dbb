import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TesseraConfig } from './config.js';
import { parseKeyEncryptionKey } from './core/jwt/seal.js';
import type { Runtime } from './core/runtime.js';

/**
 * The key that seals private signing keys at rest: TESSERA_KEY_ENCRYPTION_KEY when set.
 * Outside production, so that `npm start` needs no setup, a key is generated once into a file
 * beside the database (mode 0600), with a warning: a key next to the data it protects guards
 * against little, which is why production refuses to start without the variable. An in-memory
 * store gets a key that lives as long as the process, like everything else in it.
 */
export function resolveKeyEncryptionKey(
  config: TesseraConfig,
  runtime: Runtime,
): { kek: Buffer; warning?: string } {
  if (config.keyEncryptionKey) return { kek: parseKeyEncryptionKey(config.keyEncryptionKey) };
  if (config.database.engine !== 'sqlite' || config.database.filename === ':memory:') {
    return { kek: runtime.randomBytes(32) };
  }
  const file = join(dirname(config.database.filename), 'key-encryption.key');
  if (!existsSync(file)) {
    writeFileSync(file, `${runtime.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return {
    kek: parseKeyEncryptionKey(readFileSync(file, 'utf8')),
    warning: `TESSERA_KEY_ENCRYPTION_KEY is not set: signing keys are sealed with the generated key in ${file}. Set the variable in production.`,
  };
}
