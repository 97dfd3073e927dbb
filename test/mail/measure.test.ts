import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { TestSmtpServer } from './smtp.js';

/**
 * The figures in the README's email section, on this machine: how many mails the forgot-password
 * route queues per second (HTTP in-process, SQLite), and the time from the request to the SMTP
 * server's acceptance (p50/p99, one request at a time, the worker nudged by the enqueue). Printed,
 * not asserted beyond sanity: a loaded 2-core box varies too much for a timed bound.
 */

let smtp: TestSmtpServer;
let server: TestServer;
const users: string[] = [];

beforeAll(async () => {
  smtp = new TestSmtpServer();
  server = await startTessera({ env: { TESSERA_SMTP_URL: await smtp.start() }, runtime: systemRuntime });
  for (let i = 0; i < 10; i++) {
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD });
    users.push(email);
  }
});

afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

describe('email measurements', () => {
  it('mails queued per second by POST /auth/password/forgot', async () => {
    const requests = 400;
    const pending = async () =>
      (await server.tessera.email.stores.outbox.listMail({ status: 'pending', limit: 10_000 })).length;
    const before = await pending();
    const start = performance.now();
    const batch = 20;
    for (let i = 0; i < requests; i += batch) {
      await Promise.all(
        Array.from({ length: batch }, (_, j) =>
          post(server.app, '/auth/password/forgot', { email: users[(i + j) % users.length] }),
        ),
      );
    }
    while ((await pending()) - before < requests) await new Promise((resolve) => setTimeout(resolve, 5));
    const seconds = (performance.now() - start) / 1000;
    const rate = requests / seconds;
    console.log(
      `mail queued: ${requests} reset mails in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} mails/s (SQLite, in-process HTTP)`,
    );
    expect(rate).toBeGreaterThan(10);
  });

  it('request → SMTP acceptance, p50 and p99', { timeout: 120_000 }, async () => {
    server.tessera.email.delivery.start(() => undefined);
    // Drain what the previous test queued: the worker's throughput.
    const queued = smtp.received.length;
    const drainStart = performance.now();
    await server.tessera.email.delivery.run();
    const drained = smtp.received.length - queued;
    const drainSeconds = (performance.now() - drainStart) / 1000;
    console.log(
      `mail delivered: ${drained} in ${drainSeconds.toFixed(2)} s = ${(drained / drainSeconds).toFixed(0)} mails/s (one worker, one SMTP connection)`,
    );
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const email = users[i % users.length] as string;
      const count = smtp.received.length;
      const start = performance.now();
      expect((await post(server.app, '/auth/password/forgot', { email })).statusCode).toBe(202);
      const mail = await smtp.waitFor(email, /Reset your password/, count);
      latencies.push(mail.at - start);
    }
    console.log(
      `request → SMTP acceptance over ${latencies.length} mails: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(percentile(latencies, 50)).toBeLessThan(5_000);
  });
});
