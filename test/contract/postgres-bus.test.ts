import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { RevocationRecord } from '../../src/store/ports/index.js';
import { channelFor, PostgresRevocationBus } from '../../src/store/sql/postgres-bus.js';
import { describeWithPostgres, dropTestSchemas, testSchema } from '../services.js';

const record = (seq: number): RevocationRecord => ({
  seq,
  kind: 'user',
  subject: `user${seq}`,
  at: 1_000,
  expiresAt: 2_000,
});

await describeWithPostgres('postgres revocation bus (LISTEN/NOTIFY)', (url) => {
  const buses: PostgresRevocationBus[] = [];
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await dropTestSchemas(url);
  });

  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const newSchema = async () => {
    const schema = testSchema();
    await admin((client) => client.query(`create schema "${schema}"`));
    return schema;
  };
  const listening = async (schema: string) => {
    const bus = new PostgresRevocationBus(url, { schema });
    buses.push(bus);
    const got: RevocationRecord[] = [];
    const gaps = { count: 0 };
    await bus.subscribe(
      (r) => got.push(r),
      () => gaps.count++,
    );
    return { bus, got, gaps };
  };

  describe('delivery', () => {
    it('delivers to every node on the same schema, and not to another schema', async () => {
      const [schema, otherSchema] = [await newSchema(), await newSchema()];
      const a = await listening(schema);
      const b = await listening(schema);
      const other = await listening(otherSchema);
      await a.bus.publish(record(1));
      await expect.poll(() => b.got).toEqual([record(1)]);
      await expect.poll(() => a.got).toEqual([record(1)]);
      expect(other.got).toEqual([]);
    });

    it('a node whose connection is killed reports a gap, reconnects, reports again and hears again', async () => {
      const schema = await newSchema();
      const a = await listening(schema);
      const b = await listening(schema);
      // b connected last: the newest connection listening on this schema's channel.
      const { rowCount } = await admin((client) =>
        client.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
            where pid = (select pid from pg_stat_activity where application_name = 'tessera-bus' and query = $1
                         order by backend_start desc limit 1)`,
          [`listen "${channelFor(schema)}"`],
        ),
      );
      expect(rowCount).toBe(1);
      await expect.poll(() => b.gaps.count, { timeout: 5_000 }).toBe(2);
      expect(a.gaps.count).toBe(0);
      await a.bus.publish(record(2));
      await expect.poll(() => b.got).toEqual([record(2)]);
      await b.bus.publish(record(3));
      await expect.poll(() => a.got).toEqual([record(2), record(3)]);
    });

    it('refuses to start when the schema does not exist (a typo would split the deployment)', async () => {
      const bus = new PostgresRevocationBus(url, { schema: testSchema() });
      await expect(
        bus.subscribe(
          () => {},
          () => {},
        ),
      ).rejects.toThrow(/no schema/);
      await bus.close();
    });
  });
});
