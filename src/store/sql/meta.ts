import type { Kysely } from 'kysely';

/**
 * The `meta` table (migration 0007_meta): facts about the database itself. Kept to this file,
 * with its own table type, so the per-record stores stay untouched.
 */
interface MetaTable {
  meta: { key: string; value: string; updated_at: number };
}

export type ServedMode = 'session' | 'jwt' | 'hybrid';

/** The mode the database is served in, as the last server to start recorded it. */
export interface ServedModeRecord {
  mode: ServedMode;
  /** When that server started (ms since the epoch). */
  since: number;
}

const SERVED_MODE = 'served_mode';
const MODES: readonly string[] = ['session', 'jwt', 'hybrid'];

export async function readServedMode(db: Kysely<unknown>): Promise<ServedModeRecord | undefined> {
  const row = await (db as unknown as Kysely<MetaTable>)
    .selectFrom('meta')
    .select(['value', 'updated_at'])
    .where('key', '=', SERVED_MODE)
    .executeTakeFirst();
  if (!row || !MODES.includes(row.value)) return undefined;
  return { mode: row.value as ServedMode, since: Number(row.updated_at) };
}

export async function recordServedMode(db: Kysely<unknown>, mode: ServedMode, now: number): Promise<void> {
  await (db as unknown as Kysely<MetaTable>)
    .insertInto('meta')
    .values({ key: SERVED_MODE, value: mode, updated_at: now })
    .onConflict((conflict) => conflict.column('key').doUpdateSet({ value: mode, updated_at: now }))
    .execute();
}
