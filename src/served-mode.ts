import type { Kysely } from 'kysely';
import type { TesseraConfig } from './config.js';
import type { Runtime } from './core/runtime.js';
import type { Stores } from './store/ports/index.js';
import { readServedMode, recordServedMode, type ServedModeRecord } from './store/sql/meta.js';
import { SqlStores } from './store/sql/stores.js';

/**
 * Which mode the deployment runs is stored in the database (SQL stores; undefined otherwise):
 * the CLI reads it, and a server (`record`) that starts in another mode says so, then records
 * its own. Returns what the database said before this call.
 */
export async function checkServedMode(
  stores: Stores,
  mode: TesseraConfig['mode'],
  options: { record: boolean; runtime: Runtime; warnings: string[] },
): Promise<ServedModeRecord | undefined> {
  if (!(stores instanceof SqlStores)) return undefined;
  const db = stores.db as Kysely<unknown>;
  const stored = await readServedMode(db);
  if (options.record) await recordedMode(db, stored, mode, options.runtime, options.warnings);
  return stored;
}

/**
 * Records the mode this server runs in, warning when the database was served in another. A
 * server does not refuse to start on a mismatch: changing a deployment's mode (restart every
 * node with the new TESSERA_MODE) is legitimate and, node by node, passes through a mismatch.
 * The warning names both modes so that a node forgotten in the old mode is found.
 */
async function recordedMode(
  db: Kysely<unknown>,
  stored: ServedModeRecord | undefined,
  mode: TesseraConfig['mode'],
  runtime: Runtime,
  warnings: string[],
): Promise<void> {
  if (stored && stored.mode !== mode) {
    warnings.push(
      `this database was served in ${stored.mode} mode (since ${new Date(stored.since).toISOString()}); this node serves ${mode} mode. Every node sharing the database must run the same TESSERA_MODE: restart the others with TESSERA_MODE=${mode}, or this one with TESSERA_MODE=${stored.mode}.`,
    );
  }
  await recordServedMode(db, mode, runtime.now());
}
