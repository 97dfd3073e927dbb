import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { registerAndLogin, startTessera, type TestServer, withSession } from '../helpers.js';
import { describeWithPostgres, dropTestSchemas, testSchema } from '../services.js';
import { hostPort, startTcpProxy, type TcpProxy } from '../tcp-proxy.js';

/**
 * PostgreSQL going away and coming back, tested through a TCP proxy the test cuts and restores
 * (the shared server other test files use is never touched).
 */
await describeWithPostgres('PostgreSQL faults', (url) => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    await dropTestSchemas(url);
  });

  async function proxiedTessera(): Promise<{ server: TestServer; proxy: TcpProxy }> {
    const schema = testSchema();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    await admin.end();
    const proxy = await startTcpProxy(hostPort(url, 5432));
    cleanup.push(() => proxy.close());
    const target = new URL(url);
    target.host = `127.0.0.1:${proxy.port}`;
    target.searchParams.set('options', `-c search_path=${schema}`);
    const server = await startTessera({ env: { TESSERA_DATABASE_URL: target.toString() } });
    cleanup.push(() => server.close());
    return { server, proxy };
  }

  it('the database stops: clean 503s, never a 500 or an accepted credential; it comes back by itself, nothing lost', async () => {
    const { server, proxy } = await proxiedTessera();
    const { app } = server;
    const { token } = await registerAndLogin(app);
    const whoAmI = () => app.inject({ method: 'GET', url: '/auth/session', headers: withSession(token) });
    expect((await whoAmI()).statusCode).toBe(200);

    await proxy.cut(); // in-flight and new connections die, as in a restart
    for (const response of [
      await whoAmI(),
      await app.inject({ method: 'GET', url: '/healthz' }),
      await app.inject({ method: 'POST', url: '/auth/logout', headers: withSession(token) }),
    ]) {
      expect(response.statusCode).toBe(503);
      expect(response.json().error).toBe('store_unavailable');
    }

    await proxy.restore();
    // The pool replaces its dead connections; what was committed before the cut is still there.
    let answer = await whoAmI();
    for (let attempt = 0; attempt < 20 && answer.statusCode !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await whoAmI();
    }
    expect(answer.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
