import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';

/**
 * The admin APIs' user lookup (`?user=`, by id or email): an address that names no one is 404,
 * a database that does not answer is 503, never "no such user".
 */
let server: TestServer;
let admin: Record<string, string>;
let customer: { id: string; email: string };
beforeAll(async () => {
  server = await startTessera();
  const adminEmail = newEmail();
  await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
  // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
  const login = await loginWithSecondFactor(server.app, {
    email: adminEmail,
    password: PASSWORD,
    transport: 'bearer',
  });
  admin = { authorization: `Bearer ${login.json().token}` };
  const email = newEmail();
  customer = { id: (await server.tessera.accounts.register({ email, password: PASSWORD })).id, email };
});
afterAll(() => server.close());

const get = (url: string) => server.app.inject({ method: 'GET', url, headers: admin });
const lookups = (user: string) => [
  `/admin/api/sessions?user=${encodeURIComponent(user)}`,
  `/admin/api/api-keys?user=${encodeURIComponent(user)}`,
];

describe('admin user lookup', () => {
  it('finds a user by id or by email on both APIs', async () => {
    for (const user of [customer.id, customer.email]) {
      for (const url of lookups(user)) expect((await get(url)).statusCode, url).toBe(200);
    }
  });

  it('answers 404 user_not_found for an unknown id or address, 400 invalid_email for an invalid one', async () => {
    for (const user of ['no-such-id', newEmail()]) {
      for (const url of lookups(user)) {
        const response = await get(url);
        expect(response.statusCode, url).toBe(404);
        expect(response.json().error).toBe('user_not_found');
      }
    }
    for (const url of lookups('not an address@')) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error).toBe('invalid_email');
    }
  });

  it('answers 503 when the database cannot look the address up, never 404', async () => {
    const users = server.tessera.stores.users;
    const original = users.findUserByEmailKey;
    // The outage hits only this read: the admin's own check (by id) still answers.
    users.findUserByEmailKey = () => Promise.reject(new StoreUnavailableError('store'));
    try {
      for (const url of lookups(customer.email)) {
        const response = await get(url);
        expect(response.statusCode, url).toBe(503);
        expect(response.json().error).toBe('store_unavailable');
      }
    } finally {
      users.findUserByEmailKey = original;
    }
  });
});
