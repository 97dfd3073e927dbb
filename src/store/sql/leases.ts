import type { Kysely } from 'kysely';

/** A condition a leasable row must meet to be claimed, e.g. ['status', '=', 'pending']. */
export type LeaseCondition = readonly [column: string, op: '=' | '<=' | 'is', value: string | number | null];

/**
 * The portable compare-and-set lease every outbox here uses (mail, security events' fan-out,
 * HTTP deliveries): one UPDATE takes up to `limit` free rows (lease null or run out: a crashed
 * holder) meeting `where`, oldest by `orderBy` first, and returns them. The WHERE that tests
 * the lease is part of the UPDATE itself, so of several nodes on one database exactly one wins
 * a row: SQLite runs one writer at a time, and PostgreSQL re-checks the WHERE on a row another
 * transaction changed meanwhile (READ COMMITTED), skipping it once leased. No `SKIP LOCKED`, one
 * round trip and one commit per claim, whatever `limit` is.
 */
export async function claimLeased<Row extends { id: string }>(
  // biome-ignore lint/suspicious/noExplicitAny: one helper over several tables' kysely types
  db: Kysely<any>,
  table: string,
  claim: {
    now: number;
    owner: string;
    leaseUntil: number;
    limit: number;
    where: readonly LeaseCondition[];
    orderBy: string;
  },
): Promise<Row[]> {
  const { now } = claim;
  let candidates = db.selectFrom(table).select('id');
  for (const [column, op, value] of claim.where) candidates = candidates.where(column, op, value);
  candidates = candidates
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy(claim.orderBy)
    .limit(claim.limit);
  let update = db
    .updateTable(table)
    .set({ lease_owner: claim.owner, lease_until: claim.leaseUntil })
    .where('id', 'in', candidates);
  // Repeated on the row being updated: what makes the claim a compare-and-set.
  for (const [column, op, value] of claim.where) update = update.where(column, op, value);
  const rows = (await update
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .returningAll()
    .execute()) as Row[];
  const key = claim.orderBy as keyof Row;
  return rows.sort((a, b) => Number(a[key]) - Number(b[key]));
}
