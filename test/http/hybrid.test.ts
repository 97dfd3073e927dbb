import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import type { RevocationBus } from '../../src/store/bus.js';
import { InProcessBus } from '../../src/store/memory/in-process-bus.js';
import type { RevocationRecord } from '../../src/store/ports/index.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer, tempDir } from '../helpers.js';

/** Drops the next `n` messages it should deliver, like a subscriber that was briefly disconnected. */
class LossyBus implements RevocationBus {
  readonly engine = 'lossy';
  drop = 0;
  constructor(private readonly inner: RevocationBus) {}
  publish(record: RevocationRecord) {
    return this.inner.publish(record);
  }
  subscribe(listener: (record: RevocationRecord) => void, onGap: () => void) {
    return this.inner.subscribe((record) => {
      if (this.drop > 0) this.drop--;
      else listener(record);
    }, onGap);
  }
  async close() {}
}

const dir = tempDir();
const databaseUrl = `sqlite://${join(dir, 'shared.db')}`;
const sharedBus = new InProcessBus();
const nodes: TestServer[] = [];
afterAll(async () => {
  for (const node of nodes) await node.close().catch(() => undefined);
});

/** Another Tessera node on the same database file, with its own store connection. */
async function node(bus: RevocationBus = sharedBus): Promise<TestServer> {
  const env = { TESSERA_MODE: 'hybrid', TESSERA_DATABASE_URL: databaseUrl };
  const stores = await openSqliteStores(join(dir, 'shared.db'));
  const server = await startTessera({ env, stores, bus });
  nodes.push(server);
  return server;
}

async function loginOn(app: FastifyInstance) {
  const email = newEmail();
  await post(app, '/auth/register', { email, password: PASSWORD });
  const body = (await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })).json();
  return { headers: { authorization: `Bearer ${body.accessToken}` }, sessionId: body.session.id as string };
}
const statusOn = async (app: FastifyInstance, device: { headers: Record<string, string> }) => {
  const response = await app.inject({ method: 'GET', url: '/auth/session', headers: device.headers });
  return response.statusCode === 200 ? 200 : (response.json().error as string);
};
const logoutOn = (app: FastifyInstance, device: { headers: Record<string, string> }) =>
  app.inject({ method: 'POST', url: '/auth/logout', headers: device.headers });

describe('hybrid mode across nodes', () => {
  it('a login on one node is valid on the others, and a logout on one is refused on all at once', async () => {
    const a = await node();
    const b = await node();
    const device = await loginOn(a.app);
    expect(await statusOn(b.app, device)).toBe(200);
    expect((await logoutOn(b.app, device)).statusCode).toBe(204);
    // No waiting: the bus delivered before the logout answered.
    expect(await statusOn(a.app, device)).toBe('token_revoked');
    expect(await statusOn(b.app, device)).toBe('token_revoked');
  });

  it('a node that missed messages notices the gap and catches up from the log', async () => {
    const a = await node();
    const lossy = new LossyBus(sharedBus);
    const c = await node(lossy);
    const [first, second] = [await loginOn(a.app), await loginOn(a.app)];
    lossy.drop = 1;
    await logoutOn(a.app, first);
    // c missed it: until it learns otherwise it still accepts (its poll bounds how long).
    expect(await statusOn(c.app, first)).toBe(200);
    await logoutOn(a.app, second);
    // The next message had a gap in sequence numbers: c caught up before trusting its state.
    expect(await statusOn(c.app, second)).toBe('token_revoked');
    expect(await statusOn(c.app, first)).toBe('token_revoked');
  });

  it('the periodic poll bounds a silently lost last message', async () => {
    const a = await node();
    const lossy = new LossyBus(sharedBus);
    const c = await node(lossy);
    const device = await loginOn(a.app);
    lossy.drop = 1;
    await logoutOn(a.app, device);
    expect(await statusOn(c.app, device)).toBe(200);
    await c.tessera.revocations?.catchUp(); // what the 2-second poll does
    expect(await statusOn(c.app, device)).toBe('token_revoked');
  });

  it('a node started after a revocation reads it from the log before serving', async () => {
    const a = await node();
    const device = await loginOn(a.app);
    await logoutOn(a.app, device);
    const late = await node(new InProcessBus());
    expect(await statusOn(late.app, device)).toBe('token_revoked');
  });

  it('fails safe: a node that is behind and cannot reach the store answers 503, never accepts', async () => {
    const a = await node();
    const lossy = new LossyBus(sharedBus);
    const d = await node(lossy);
    const [first, second] = [await loginOn(a.app), await loginOn(a.app)];
    expect(await statusOn(d.app, first)).toBe(200);
    lossy.drop = 1;
    await logoutOn(a.app, first);
    await d.tessera.stores.close(); // the database goes away for d
    await logoutOn(a.app, second); // d sees a gap, tries to catch up, cannot
    const response = await d.app.inject({ method: 'GET', url: '/auth/session', headers: first.headers });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toBe('store_unavailable');
  });
});

describe('a key another node created moments ago', () => {
  it('is picked up on first sight instead of after the 5-second reload', async () => {
    const fresh = join(tempDir(), 'keys.db');
    const env = { TESSERA_MODE: 'jwt', TESSERA_DATABASE_URL: `sqlite://${fresh}` };
    const open = async () =>
      startTessera({ env, stores: await openSqliteStores(fresh), bus: new InProcessBus() });
    const a = await open();
    const b = await open();
    nodes.push(a, b);
    // Two revocations on a: its signing key is now one b has never loaded (not even as `next`).
    const keyring = a.tessera.keyring;
    for (let i = 0; i < 2; i++) {
      const active = keyring?.list().find((k) => k.status === 'active')?.kid as string;
      await keyring?.revoke(active);
    }
    const device = await loginOn(a.app);
    expect(await statusOn(b.app, device)).toBe(200);
  });
});
