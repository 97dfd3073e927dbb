import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/**
 * Login must not tell an attacker which emails have accounts: unknown email, wrong password
 * and malformed email fail with the same status, the same bytes and about the same time.
 */

let server: TestServer;
let email: string;

beforeAll(async () => {
  server = await startTessera();
  email = newEmail();
  const registered = await post(server.app, '/auth/register', { email, password: PASSWORD });
  expect(registered.statusCode, registered.body).toBe(201);
});

afterAll(async () => {
  await server?.close();
});

const login = (loginEmail: string, password: string) =>
  post(server.app, '/auth/login', { email: loginEmail, password });

/** What a client can observe of a failed login, apart from time. */
const observable = (response: LightMyRequestResponse) => ({
  status: response.statusCode,
  body: response.rawPayload.toString('hex'),
  contentType: response.headers['content-type'],
  contentLength: response.headers['content-length'],
  setCookie: response.headers['set-cookie'],
});

describe('login failures look the same', () => {
  it('unknown email, wrong password and malformed email: same 401 and byte-identical body', async () => {
    const wrongPassword = await login(email, 'not the right passphrase');
    const unknownEmail = await login(newEmail(), 'not the right passphrase');
    const unknownWithRightPassword = await login(newEmail(), PASSWORD);
    const malformedEmail = await login('not-an-email', PASSWORD);
    const emptyEmail = await login('', PASSWORD);

    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.json()).toEqual({
      error: 'invalid_credentials',
      message: expect.any(String),
    });
    expect(wrongPassword.headers['set-cookie']).toBeUndefined();
    for (const other of [unknownEmail, unknownWithRightPassword, malformedEmail, emptyEmail]) {
      expect(observable(other)).toEqual(observable(wrongPassword));
    }
    // The body names neither field as the wrong one.
    expect(wrongPassword.body).not.toMatch(/not found|no such|unknown|does not exist|invalid_email/i);
  });

  it('an unknown email pays for an argon2id verification like a wrong password does', async () => {
    const timed = async (loginEmail: string) => {
      const start = performance.now();
      const response = await login(loginEmail, 'not the right passphrase');
      const elapsed = performance.now() - start;
      expect(response.statusCode).toBe(401);
      return elapsed;
    };
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] as number;
    };

    // Warm-up: the first unknown-email login also waits for the dummy hash made at start.
    await timed(newEmail());
    await timed(email);

    const unknown: number[] = [];
    const wrong: number[] = [];
    const noHash: number[] = [];
    // Interleaved, so drift in machine load hits both series alike.
    for (let round = 0; round < 5; round++) {
      unknown.push(await timed(newEmail()));
      wrong.push(await timed(email));
      // A request refused by the schema: everything a login does except the argon2 work.
      const start = performance.now();
      const refused = await post(server.app, '/auth/login', { email, password: PASSWORD, extra: 1 });
      noHash.push(performance.now() - start);
      expect(refused.statusCode).toBe(400);
    }

    const ratio = median(unknown) / median(wrong);
    const detail = `unknown ${unknown.map((t) => t.toFixed(1))} wrong ${wrong.map((t) => t.toFixed(1))} no-hash ${noHash.map((t) => t.toFixed(1))}`;
    // The measurement can tell: a password check is far costlier than everything else a
    // request does, so an unknown email answered without one would give a ratio near 0.
    expect(median(wrong), detail).toBeGreaterThan(5 * median(noHash));
    expect(ratio, detail).toBeGreaterThan(0.5);
    expect(ratio, detail).toBeLessThan(2);
  });
});

describe('email identity', () => {
  it('an email differing only in the case of its domain is a duplicate (409 email_taken) and logs in', async () => {
    const local = `Case.Sensitive.${process.pid}`;
    const first = await post(server.app, '/auth/register', {
      email: `${local}@example.com`,
      password: PASSWORD,
    });
    expect(first.statusCode, first.body).toBe(201);

    const again = await post(server.app, '/auth/register', {
      email: `${local}@EXAMPLE.Com`,
      password: PASSWORD,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'email_taken', message: expect.any(String) });

    const loggedIn = await login(`${local}@Example.COM`, PASSWORD);
    expect(loggedIn.statusCode, loggedIn.body).toBe(200);
    expect(loggedIn.json().user).toMatchObject({ id: first.json().user.id, email: `${local}@example.com` });
  });

  it('surrounding spaces and Unicode composition do not make a second account', async () => {
    const composed = `jos\u00e9.${process.pid}@example.com`;
    const decomposed = `jose\u0301.${process.pid}@example.com`;
    expect(
      (await post(server.app, '/auth/register', { email: composed, password: PASSWORD })).statusCode,
    ).toBe(201);
    const again = await post(server.app, '/auth/register', {
      email: `  ${decomposed}\t`,
      password: PASSWORD,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('email_taken');
  });
});
