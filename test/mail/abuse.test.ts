import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { TestSmtpServer } from './smtp.js';

/**
 * Forgot-password and resend answers say nothing about whether an address has an account (bytes
 * and time); mail-sending routes are limited per IP and per address; bad tokens change nothing.
 */

let smtp: TestSmtpServer;
let server: TestServer;
let known: string;

beforeAll(async () => {
  smtp = new TestSmtpServer();
  server = await startTessera({ env: { TESSERA_SMTP_URL: await smtp.start(), TESSERA_MODE: 'hybrid' } });
  server.tessera.email.delivery.start(() => undefined);
  known = newEmail();
  expect((await post(server.app, '/auth/register', { email: known, password: PASSWORD })).statusCode).toBe(
    201,
  );
});

afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

const observable = (response: LightMyRequestResponse) => ({
  status: response.statusCode,
  body: response.rawPayload.toString('hex'),
  headers: Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name)),
  ),
});

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

describe('no enumeration', () => {
  it('forgot password: known, unknown and malformed addresses get byte-identical 202 answers', async () => {
    const answers = [
      await post(server.app, '/auth/password/forgot', { email: known }),
      await post(server.app, '/auth/password/forgot', { email: newEmail() }),
      await post(server.app, '/auth/password/forgot', { email: 'not-an-address' }),
    ];
    expect(answers[0]?.statusCode).toBe(202);
    expect(answers[0]?.body).toBe('{}');
    for (const other of answers.slice(1))
      expect(observable(other)).toEqual(observable(answers[0] as LightMyRequestResponse));
    await smtp.waitFor(known, /Reset your password/);
  });

  it('resend verification without a login: the same 202 for known and unknown addresses', async () => {
    const a = await post(server.app, '/auth/email/verify/resend', { email: known });
    const b = await post(server.app, '/auth/email/verify/resend', { email: newEmail() });
    expect(a.statusCode).toBe(202);
    expect(observable(b)).toEqual(observable(a));
  });

  it('forgot password takes the same time for known and unknown addresses (the bound the login test uses)', async () => {
    const timed = async (email: string) => {
      // The mail a known address causes is written and sent after the answer; let it finish so
      // it does not slow the next request (which would measure the machine, not the route).
      await new Promise((resolve) => setTimeout(resolve, 20));
      await server.tessera.email.delivery.idle();
      const start = performance.now();
      const response = await post(server.app, '/auth/password/forgot', { email });
      expect(response.statusCode).toBe(202);
      return performance.now() - start;
    };
    await timed(known);
    await timed(newEmail());
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let round = 0; round < 9; round++) {
      knownTimes.push(await timed(known));
      unknownTimes.push(await timed(newEmail()));
    }
    const ratio = median(unknownTimes) / median(knownTimes);
    const detail = `known ${knownTimes.map((t) => t.toFixed(2))} unknown ${unknownTimes.map((t) => t.toFixed(2))}`;
    expect(ratio, detail).toBeGreaterThan(0.5);
    expect(ratio, detail).toBeLessThan(2);
  });
});

describe('bad tokens change nothing', () => {
  it('forged, truncated, wrong-purpose and unknown tokens: 400 token_invalid on every token route', async () => {
    const count = smtp.received.length;
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const verifyToken = new URL(
      (await smtp.waitFor(email, /Confirm your email/, count)).link,
    ).searchParams.get('token') as string;
    const [id, secret] = verifyToken.split('.') as [string, string];
    const forged = [
      `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`,
      verifyToken.slice(0, 30),
      `${'A'.repeat(22)}.${secret}`,
      `${id}.${secret}.extra`,
      '',
    ];
    for (const route of [
      '/auth/email/verify',
      '/auth/email/change/confirm',
      '/auth/email/change/undo',
      '/auth/not-me',
    ]) {
      for (const token of [...forged, ...(route === '/auth/email/verify' ? [] : [verifyToken])]) {
        const response = await post(server.app, route, { token });
        expect(response.statusCode, `${route} ${token}`).toBe(400);
        expect(response.json().error, `${route} ${token}`).toBe('token_invalid');
      }
    }
    const reset = await post(server.app, '/auth/password/reset', {
      token: verifyToken,
      newPassword: 'a fine new passphrase',
    });
    expect(reset.json().error).toBe('token_invalid');
    // None of that used the real link.
    expect((await post(server.app, '/auth/email/verify', { token: verifyToken })).statusCode).toBe(200);
    for (const body of [{}, { token: 5 }, { token: 'x'.repeat(201) }, { token: verifyToken, extra: 1 }]) {
      const response = await post(server.app, '/auth/email/verify', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe('invalid_request');
    }
  });
});

describe('mail bombing', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTessera({
      env: { TESSERA_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, TESSERA_RATE_LIMIT: 'on' },
    });
    limited.tessera.email.delivery.start(() => undefined);
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('per address: 3 free an hour, then one per backoff wait (5 min doubling); the answer stays 202', async () => {
    const email = newEmail();
    await post(limited.app, '/auth/register', { email, password: PASSWORD });
    await smtp.waitFor(email, /Confirm your email/);
    for (let i = 0; i < 6; i++) {
      const response = await post(limited.app, '/auth/password/forgot', { email });
      expect(response.statusCode).toBe(202);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await limited.tessera.email.delivery.run();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const resets = smtp.received.filter((m) => m.to.includes(email) && /Reset/.test(m.subject));
    // 3 free and the one that opened the first 5-minute wait; the other two were dropped.
    expect(resets).toHaveLength(4);
  });

  it('per IP: past 10 an hour, 429 rate_limited with Retry-After', async () => {
    const statuses: number[] = [];
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 12; i++) {
      const response = await post(limited.app, '/auth/password/forgot', { email: newEmail() });
      statuses.push(response.statusCode);
      last = response;
    }
    expect(statuses).toContain(429);
    expect(last?.json().error).toBe('rate_limited');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
  });
});
