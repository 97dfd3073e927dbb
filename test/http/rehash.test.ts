import { hash } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARGON2_PARAMS } from '../../src/core/passwords.js';
import { PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTessera();
});
afterAll(() => server.close());

describe('password hash upgrades', () => {
  it('re-hashes a hash made with older argon2 parameters on the next successful login', async () => {
    const oldHash = await hash(PASSWORD, { ...ARGON2_PARAMS, memoryCost: 4096, timeCost: 3 });
    await server.tessera.stores.users.createUser({
      id: 'legacy-user',
      email: 'legacy@example.com',
      emailKey: 'legacy@example.com',
      passwordHash: oldHash,
      roles: [],
      lockedAt: null,
      lockReason: null,
      createdAt: 0,
      updatedAt: 0,
    });
    const wrong = await post(server.app, '/auth/login', {
      email: 'legacy@example.com',
      password: 'not it at all',
    });
    expect(wrong.statusCode).toBe(401);
    expect((await server.tessera.stores.users.findUserById('legacy-user'))?.passwordHash).toBe(oldHash);

    const login = await post(server.app, '/auth/login', { email: 'legacy@example.com', password: PASSWORD });
    expect(login.statusCode).toBe(200);
    const upgraded = (await server.tessera.stores.users.findUserById('legacy-user'))?.passwordHash;
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(
      (await post(server.app, '/auth/login', { email: 'legacy@example.com', password: PASSWORD })).statusCode,
    ).toBe(200);
  });

  it('treats a locked account exactly like a wrong password', async () => {
    await server.tessera.stores.users.createUser({
      id: 'locked-user',
      email: 'locked@example.com',
      emailKey: 'locked@example.com',
      passwordHash: await hash(PASSWORD, ARGON2_PARAMS),
      roles: [],
      lockedAt: 1,
      lockReason: 'test',
      createdAt: 0,
      updatedAt: 0,
    });
    const locked = await post(server.app, '/auth/login', { email: 'locked@example.com', password: PASSWORD });
    const unknown = await post(server.app, '/auth/login', {
      email: 'nobody@example.com',
      password: PASSWORD,
    });
    expect(locked.statusCode).toBe(401);
    expect(locked.body).toBe(unknown.body);
  });
});
