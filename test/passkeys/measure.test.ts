import { performance } from 'node:perf_hooks';
import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { Audit } from '../../src/core/audit.js';
import { Passkeys } from '../../src/core/passkeys/passkeys.js';
import { systemRuntime } from '../../src/core/runtime.js';
import { MemoryStores } from '../../src/store/memory/stores.js';
import { openPasskeyStores } from '../../src/store/passkey-stores.js';
import { SoftAuthenticator } from './soft-authenticator.js';

/**
 * The WebAuthn figure in README's "Passkeys": the time to verify one passkey assertion (ES256,
 * the algorithm platform authenticators use), median and p99 over 1,000 verifications, (a)
 * @simplewebauthn/server's verifyAuthenticationResponse alone on one real assertion (a
 * node:crypto authenticator, soft-authenticator.ts), and (b) Tessera's whole passwordless check
 * (Passkeys.login: the challenge taken from the store, the credential looked up, verified, the
 * counter compared and recorded, the user read) on memory stores, a fresh challenge each time.
 * Printed, not asserted beyond sanity: a loaded 2-core box varies too much for a timed bound.
 */

const RP = { rpId: 'bank.example', rpName: 'Bank', origins: ['https://bank.example'] };
const RUNS = 1_000;

const stats = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { median: at(0.5), p99: at(0.99) };
};
const ms = (value: number) => `${value.toFixed(3)} ms`;

describe('WebAuthn assertion verification time', () => {
  it(`median over ${RUNS} verifications (ES256)`, async () => {
    const stores = new MemoryStores();
    const passkeyStores = openPasskeyStores(stores);
    const passkeys = new Passkeys({
      stores: passkeyStores,
      users: stores.users,
      audit: new Audit(stores.audit, systemRuntime),
      runtime: systemRuntime,
      relyingParty: RP,
    });
    const user = {
      id: 'user-measure-1',
      email: 'ada@bank.example',
      emailKey: 'ada@bank.example',
      passwordHash: 'x',
      roles: [],
      lockedAt: null,
      lockReason: null,
      createdAt: 1,
      updatedAt: 1,
    };
    await stores.users.createUser(user);
    const authenticator = new SoftAuthenticator({ origin: RP.origins[0] as string, rpId: RP.rpId });
    const creation = await passkeys.registrationOptions(user, 'login-1');
    await passkeys.register(user, authenticator.register(creation) as never, 'measure', 'login-1');
    const [stored] = await passkeys.list(user.id);
    if (!stored) throw new Error('no passkey stored');

    // (a) the library alone, one assertion verified again and again.
    const options = await passkeys.loginOptions();
    const assertion = authenticator.assert(options) as AuthenticationResponseJSON;
    const credential = {
      id: stored.credentialId,
      publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')),
      counter: 0,
    };
    const library: number[] = [];
    for (let i = 0; i < RUNS + 50; i++) {
      const start = performance.now();
      const result = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: options.challenge,
        expectedOrigin: RP.origins,
        expectedRPID: RP.rpId,
        credential,
      });
      const took = performance.now() - start;
      if (!result.verified) throw new Error('not verified');
      if (i >= 50) library.push(took); // the first 50 warm the JIT
    }

    // (b) Tessera's whole passwordless check, a fresh challenge and assertion each time.
    const whole: number[] = [];
    for (let i = 0; i < RUNS + 50; i++) {
      const response = authenticator.assert(await passkeys.loginOptions()) as AuthenticationResponseJSON;
      const start = performance.now();
      const proof = await passkeys.login(response);
      const took = performance.now() - start;
      expect(proof.user.id).toBe(user.id);
      if (i >= 50) whole.push(took);
    }

    const a = stats(library);
    const b = stats(whole);
    console.log(
      `WebAuthn assertion verification (ES256, ${RUNS} runs): verifyAuthenticationResponse median ${ms(a.median)}, p99 ${ms(a.p99)}; ` +
        `Passkeys.login (challenge + lookup + verify + counter, memory stores) median ${ms(b.median)}, p99 ${ms(b.p99)}`,
    );
    expect(a.median).toBeGreaterThan(0);
    expect(b.median).toBeGreaterThan(0);
  }, 120_000);
});
