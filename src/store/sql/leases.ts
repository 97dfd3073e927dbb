import type { Kysely } from 'kysely';

/** A condition a leasable row must meet to be claimed, e.g. ['status', '=', 'pending']. */
export type LeaseCondition = readonly [column: string, op: '=' | '<=' | 'is', value: string | number | null];

/**
 * The portable compare-and-set lease every outbox here uses (mail, security events' fan-out,
 * HTTP deliveries): select up to `limit` candidate ids, then take each with an UPDATE whose WHERE
 * repeats the test, so of several nodes on one database exactly one wins a row, on SQLite and
 * PostgreSQL alike (no `SKIP LOCKED`). A row is free when its lease is null or ran out (a crashed
 * holder). Returns the ids this owner now holds, in `orderBy` order.
 */
export async function claimLeasedIds(
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
): Promise<string[]> {
  const { now } = claim;
  let select = db.selectFrom(table).select('id');
  for (const [column, op, value] of claim.where) select = select.where(column, op, value);
  const due = await select
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy(claim.orderBy)
    .limit(claim.limit)
    .execute();
  const claimed: string[] = [];
  for (const { id } of due as Array<{ id: string }>) {
    // Another node may have leased it since the select: the WHERE repeats the test.
    let update = db
      .updateTable(table)
      .set({ lease_owner: claim.owner, lease_until: claim.leaseUntil })
      .where('id', '=', id);
    for (const [column, op, value] of claim.where) update = update.where(column, op, value);
    const result = await update
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) claimed.push(id);
  }
  return claimed;
}
