import { MemoryMfaChallenges } from './memory/mfa-challenges.js';
import { MemorySecondFactors } from './memory/second-factors.js';
import type { Stores } from './ports/index.js';
import type { MfaChallengeStore } from './ports/mfa-challenges.js';
import type { SecondFactorStore } from './ports/second-factors.js';
import { SqlMfaChallenges } from './sql/mfa-challenges.js';
import { SqlSecondFactors } from './sql/second-factors.js';
import { SqlStores } from './sql/stores.js';

/** The stores of second factors (issue 18), one per aggregate. */
export interface MfaStores {
  factors: SecondFactorStore;
  challenges: MfaChallengeStore;
}

// Memory: one set per MemoryStores, so several instances over one store (nodes in a test) share them.
const memory = new WeakMap<Stores, MfaStores>();

/**
 * On the SQL stores' own database (same connection, same migrations), or in memory beside
 * MemoryStores. `stores` are the database's, not the Redis-wrapped ones.
 */
export function openMfaStores(stores: Stores): MfaStores {
  if (stores instanceof SqlStores) {
    return { factors: new SqlSecondFactors(stores.db), challenges: new SqlMfaChallenges(stores.db) };
  }
  let opened = memory.get(stores);
  if (!opened) {
    opened = { factors: new MemorySecondFactors(), challenges: new MemoryMfaChallenges() };
    memory.set(stores, opened);
  }
  return opened;
}
