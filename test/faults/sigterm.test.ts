import { once } from 'node:events';
import { Agent } from 'node:http';
import { expect, it } from 'vitest';
import { PASSWORD } from '../helpers.js';
import { type Answer, sleep, startNode } from './node.js';

/**
 * A rolling restart behind a load balancer: SIGTERM while keep-alive clients are mid-request.
 * Every request that reached the node gets its whole answer; afterwards clients are refused a
 * new connection (nothing sent, safe to retry elsewhere), never reset mid-request.
 */
it('SIGTERM with keep-alive clients in flight: no request is reset or lost, exit 0', async () => {
  const node = await startNode({});
  const email = `sigterm.${process.pid}@example.com`;
  expect((await node.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(
    201,
  );
  const login = () =>
    node.request('POST', '/auth/login', { body: { email, password: PASSWORD, transport: 'bearer' } });
  const first = await login();
  const token = (first.body as { token: string }).token;

  let terminatedAt = Number.POSITIVE_INFINITY;
  const answers: Answer[] = [];
  /** Requests back to back on keep-alive connections, until the node refuses connections. */
  const loop = async (send: () => Promise<Answer>) => {
    for (;;) {
      const answer = await send();
      answers.push(answer);
      if (answer.error) return;
    }
  };
  const loops = [
    ...Array.from({ length: 4 }, () => loop(() => node.request('GET', '/auth/session', { token }))),
    // A password hash (tens of ms) is likely in flight when the signal lands.
    loop(login),
  ];
  // A client whose keep-alive connection is idle when the signal lands, and that uses it again
  // a moment later: it must get an answer, not a reset.
  const idleClient = new Agent({ keepAlive: true, maxSockets: 1 });
  const idleSession = () => node.request('GET', '/auth/session', { token, agent: idleClient });
  expect((await idleSession()).status).toBe(200);
  await sleep(300);
  const exited = once(node.child, 'exit');
  terminatedAt = performance.now();
  node.child.kill('SIGTERM');
  await sleep(300);
  const afterIdle = await idleSession();
  await Promise.all(loops);
  const [code] = await exited;
  idleClient.destroy();
  expect(afterIdle.status, afterIdle.error).toBe(200);
  expect(afterIdle.headers.connection).toBe('close');

  const errors = answers.filter((a) => a.error).map((a) => a.error);
  const servedAfterSignal = answers.filter((a) => !a.error && a.sentAt > terminatedAt).length;
  const inFlightAtSignal = answers.filter((a) => a.sentAt < terminatedAt && a.doneAt > terminatedAt);
  console.log(
    `[fault] SIGTERM: ${answers.length} requests, ${inFlightAtSignal.length} in flight at the signal, ${servedAfterSignal} served while draining, ending with ${JSON.stringify(errors)}`,
  );
  // Every answer is a whole one: 200 (no 503 from a closing server, no reset).
  expect(answers.filter((a) => !a.error).every((a) => a.status === 200)).toBe(true);
  // The only errors: a refused connection after the node stopped listening (nothing was sent).
  expect(
    errors.every((e) => e === 'ECONNREFUSED'),
    JSON.stringify(errors),
  ).toBe(true);
  expect(inFlightAtSignal.every((a) => a.status === 200)).toBe(true);
  expect(inFlightAtSignal.length).toBeGreaterThan(0);
  expect(code).toBe(0);
});
