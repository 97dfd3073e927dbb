import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { TotpFactor } from '../../src/core/mfa/totp.js';
import { manualRuntime } from '../../src/core/runtime.js';
import { MemorySecondFactors } from '../../src/store/memory/second-factors.js';
import type { UserRecord } from '../../src/store/ports/index.js';
import { newEmail, PASSWORD, post, startTessera } from '../helpers.js';
import { totpAt } from '../mfa-helpers.js';

/**
 * The figures in the closing note of issue 18, on this machine: TOTP verifications per second
 * (core: unseal the secret, HMAC over the ±1 window, the step's compare-and-set; and over HTTP:
 * POST /auth/reauthenticate on SQLite, attempt counter and login write included). Codes are made
 * before timing, one per 30-second step of the manual clock (a code works once). Printed, not
 * asserted beyond sanity: a loaded 2-core box varies too much for a timed bound.
 */
describe('TOTP measurements', () => {
  it('verifications per second in core (memory store)', async () => {
    const clock = manualRuntime();
    const store = new MemorySecondFactors();
    const kek = clock.randomBytes(32);
    const totp = new TotpFactor({ store, runtime: clock, kek: () => kek, issuer: 'measure' });
    const user = { id: 'u1', email: 'm@example.com' } as UserRecord;
    const { secret } = await totp.begin(user);
    await totp.confirm(user, totpAt(secret, clock.now()));
    const runs = 5_000;
    const codes = Array.from({ length: runs }, (_, i) => totpAt(secret, clock.now() + (i + 1) * 30_000));
    const started = performance.now();
    for (const code of codes) {
      clock.advance(30_000);
      await totp.verify(user, code);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `TOTP verify (core): ${Math.round(runs / seconds)}/s, ${((seconds / runs) * 1e6).toFixed(1)} µs each`,
    );
    expect(runs / seconds).toBeGreaterThan(100);
  });

  it('step-ups per second over HTTP (POST /auth/reauthenticate {code}, SQLite, session mode)', async () => {
    const server = await startTessera({ env: { TESSERA_MODE: 'session' } });
    try {
      const email = newEmail();
      await server.tessera.accounts.register({ email, password: PASSWORD });
      const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      let headers = { authorization: `Bearer ${login.json().token}` };
      const { secret } = (await server.app.inject({ method: 'POST', url: '/auth/mfa/totp', headers })).json();
      const code = totpAt(secret, server.clock.now());
      await server.app.inject({ method: 'POST', url: '/auth/mfa/totp/confirm', headers, payload: { code } });
      const runs = 300;
      const codes = Array.from({ length: runs }, (_, i) =>
        totpAt(secret, server.clock.now() + (i + 1) * 30_000),
      );
      const started = performance.now();
      for (const next of codes) {
        server.clock.advance(30_000);
        const stepped = await server.app.inject({
          method: 'POST',
          url: '/auth/reauthenticate',
          headers,
          payload: { code: next },
        });
        if (stepped.statusCode !== 200) throw new Error(stepped.body);
        headers = { authorization: `Bearer ${stepped.json().token}` };
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `TOTP step-up (HTTP, SQLite): ${Math.round(runs / seconds)}/s, ${((seconds / runs) * 1000).toFixed(2)} ms each`,
      );
      expect(runs / seconds).toBeGreaterThan(5);
    } finally {
      await server.close();
    }
  });
});
