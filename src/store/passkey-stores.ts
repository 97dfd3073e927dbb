import { MemoryPasskeys } from './memory/passkeys.js';
import { MemoryWebAuthnChallenges } from './memory/webauthn-challenges.js';
import type { Stores } from './ports/index.js';
import type { PasskeyStore } from './ports/passkeys.js';
import type { WebAuthnChallengeStore } from './ports/webauthn-challenges.js';
import { SqlPasskeys } from './sql/passkeys.js';
import { SqlStores } from './sql/stores.js';
import { SqlWebAuthnChallenges } from './sql/webauthn-challenges.js';

/** The stores of passkeys (issue 18), one per aggregate. */
export interface PasskeyStores {
  passkeys: PasskeyStore;
  challenges: WebAuthnChallengeStore;
}

/**
 * On the SQL stores' own database (same connection, same migrations), or in memory beside
 * MemoryStores. `stores` are the database's, not the Redis-wrapped ones.
 */
export function openPasskeyStores(stores: Stores): PasskeyStores {
  if (stores instanceof SqlStores) {
    return { passkeys: new SqlPasskeys(stores.db), challenges: new SqlWebAuthnChallenges(stores.db) };
  }
  return { passkeys: new MemoryPasskeys(), challenges: new MemoryWebAuthnChallenges() };
}
