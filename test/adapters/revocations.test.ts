import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openRevocations } from '../../src/adapters/revocations.js';
import { createVerifier } from '../../src/adapters/verify.js';
import { newEmail, PASSWORD, post, startTessera } from '../helpers.js';
import { dropTestSchemas, serviceUrlOrSkip, testSchema } from '../services.js';

/**
 * tessera/revocations: a hybrid app in its own process opens Tessera's revocation log and bus
 * from the same TESSERA_* variables, and a logout on Tessera is refused by the app's verifier.
 * Real PostgreSQL (LISTEN/NOTIFY) and real Redis (pub/sub), each in its own schema / prefix.
 */

let pgUrl: string | undefined;
afterAll(async () => {
  if (pgUrl) await dropTestSchemas(pgUrl);
});

async function schemaUrl(url: string): Promise<string> {
  const schema = testSchema();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema "${schema}"`);
  await client.end();
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return withSchema.toString();
}

describe('tessera/revocations: a hybrid app outside Tessera’s process', () => {
  for (const bus of ['postgres', 'redis'] as const) {
    it(`${bus} bus: a logout on Tessera is refused by the app`, async () => {
      pgUrl = await serviceUrlOrSkip('postgres', `tessera/revocations over ${bus}`);
      const redisUrl =
        bus === 'redis' ? await serviceUrlOrSkip('redis', 'tessera/revocations over Redis') : '';
      if (!pgUrl || redisUrl === undefined) return;
      const env: Record<string, string> = {
        TESSERA_MODE: 'hybrid',
        TESSERA_DATABASE_URL: await schemaUrl(pgUrl),
        TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        ...(bus === 'redis'
          ? {
              TESSERA_REDIS_URL: redisUrl,
              TESSERA_REDIS_PREFIX: `tessera-test-${randomBytes(6).toString('hex')}:`,
            }
          : {}),
      };
      const server = await startTessera({ env });
      const tesseraUrl = await server.app.listen({ port: 0, host: '127.0.0.1' });
      const revocations = await openRevocations(env);
      expect(revocations.bus.engine).toBe(bus);
      const verifier = createVerifier({
        mode: 'hybrid',
        tesseraUrl,
        issuer: server.tessera.config.jwt.issuer,
        now: server.clock.now,
        revocations,
      });
      try {
        const email = newEmail();
        await server.tessera.accounts.register({ email, password: PASSWORD });
        const login = await post(server.app, '/auth/login', {
          email,
          password: PASSWORD,
          transport: 'bearer',
        });
        const headers = { authorization: `Bearer ${login.json().accessToken}` };
        expect((await verifier.authenticate(headers)).ok).toBe(true);
        const logout = await post(server.app, '/auth/logout', {}, headers);
        expect(logout.statusCode).toBe(204);
        // The bus brings it within milliseconds; the 2-second poll of the log is the fallback.
        await expect
          .poll(
            async () => {
              const result = await verifier.authenticate(headers);
              return result.ok ? 'accepted' : result.failure.code;
            },
            { timeout: 5_000 },
          )
          .toBe('token_revoked');
      } finally {
        await verifier.close();
        await revocations.close();
        await server.close();
      }
    });
  }

  it('refuses without TESSERA_DATABASE_URL, and with memory: (no other process can read it)', async () => {
    await expect(openRevocations({})).rejects.toThrow(/TESSERA_DATABASE_URL/);
    await expect(openRevocations({ TESSERA_DATABASE_URL: 'memory:' })).rejects.toThrow(/memory:/);
  });
});
