import { describe, expect, it } from 'vitest';
import { MfaAttempts } from '../../src/core/mfa/attempts.js';
import { RecoveryCodes } from '../../src/core/mfa/recovery-codes.js';
import { TotpFactor } from '../../src/core/mfa/totp.js';
import { manualRuntime } from '../../src/core/runtime.js';
import { MemorySecondFactors } from '../../src/store/memory/second-factors.js';
import type { UserRecord } from '../../src/store/ports/index.js';
import { totpAt } from '../mfa-helpers.js';

const user: UserRecord = {
  id: 'u1',
  email: 'alice@example.com',
  emailKey: 'alice@example.com',
  passwordHash: 'x',
  roles: [],
  lockedAt: null,
  lockReason: null,
  createdAt: 0,
  updatedAt: 0,
};

/** A confirmed authenticator app on a manual clock that starts mid-step (step boundaries at :00 and :30). */
async function enrolled() {
  const clock = manualRuntime(Date.UTC(2026, 0, 1, 0, 0, 15));
  const store = new MemorySecondFactors();
  const kek = clock.randomBytes(32);
  const totp = new TotpFactor({ store, runtime: clock, kek: () => kek, issuer: 'bank.example' });
  const { secret, uri } = await totp.begin(user);
  await totp.confirm(user, totpAt(secret, clock.now()));
  return { clock, store, totp, secret, uri };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (e: { code?: string }) => e.code,
  );

describe('TOTP with an injected clock (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step)', () => {
  it('the URI is what authenticator apps read; the secret is sealed at rest, not stored in the clear', async () => {
    const { store, secret, uri } = await enrolled();
    expect(uri).toBe(
      `otpauth://totp/bank.example:alice%40example.com?issuer=bank.example&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
    const record = await store.findTotp(user.id);
    expect(record?.secretSealed).toMatch(/^v1\./);
    expect(record?.secretSealed).not.toContain(secret);
  });

  it('window edges: the previous and next step pass, two steps away does not', async () => {
    const { clock, totp, secret } = await enrolled();
    clock.advance(5 * 60_000); // later steps than the confirming code's
    const now = clock.now();
    expect(await refusal(totp.verify(user, totpAt(secret, now - 60_000)))).toBe('mfa_code_invalid');
    expect(await refusal(totp.verify(user, totpAt(secret, now + 60_000)))).toBe('mfa_code_invalid');
    expect(await refusal(totp.verify(user, totpAt(secret, now - 30_000)))).toBe('accepted');
    expect(await refusal(totp.verify(user, totpAt(secret, now + 30_000)))).toBe('accepted');
  });

  it('the exact step boundary: a code made 1 ms before it still counts as the previous step', async () => {
    const { clock, totp, secret } = await enrolled();
    clock.advance(60_000 - 15_000); // exactly on a boundary (00:01:00)
    const previous = totpAt(secret, clock.now() - 1);
    expect(await refusal(totp.verify(user, previous))).toBe('accepted');
    // Two steps before the boundary's step is outside the window.
    clock.advance(60_000);
    expect(await refusal(totp.verify(user, totpAt(secret, clock.now() - 30_001)))).toBe('mfa_code_invalid');
  });

  it('a code is accepted at most once, and never one older than the last accepted (replay)', async () => {
    const { clock, totp, secret } = await enrolled();
    expect(await refusal(totp.verify(user, totpAt(secret, clock.now())))).toBe('mfa_code_invalid'); // the confirming one
    clock.advance(30_000);
    const code = totpAt(secret, clock.now());
    expect(await refusal(totp.verify(user, code))).toBe('accepted');
    expect(await refusal(totp.verify(user, code))).toBe('mfa_code_invalid');
    expect(await refusal(totp.verify(user, totpAt(secret, clock.now() - 30_000)))).toBe('mfa_code_invalid');
  });

  it('malformed codes are refused without error: short, long, letters, non-strings', async () => {
    const { totp } = await enrolled();
    for (const code of [
      '',
      '12345',
      '1234567',
      'abcdef',
      '12 34 5',
      123456,
      null,
      ['123456'],
      { code: '1' },
    ]) {
      expect(await refusal(totp.verify(user, code))).toBe('mfa_code_invalid');
    }
  });

  it('the attempt limit: 5 free, then 1 s, 2 s, 4 s … waits; a success starts afresh', async () => {
    const clock = manualRuntime();
    const attempts = new MfaAttempts({
      store: new MemorySecondFactors(),
      runtime: clock,
      policy: { free: 5, baseMs: 1_000, maxMs: 15 * 60_000 },
    });
    for (let i = 0; i < 5; i++) await attempts.begin('u1');
    await attempts.begin('u1'); // the 6th runs, and makes the next wait 1 s
    expect(await refusal(attempts.begin('u1'))).toBe('rate_limited');
    const blocked = await attempts.begin('u1').catch((e: { retryAfterSeconds: number }) => e);
    expect(blocked).toMatchObject({ retryAfterSeconds: 1 });
    clock.advance(1_000);
    await attempts.begin('u1'); // the 7th: the next wait is 2 s
    clock.advance(1_999);
    expect(await refusal(attempts.begin('u1'))).toBe('rate_limited');
    clock.advance(1);
    await attempts.begin('u1');
    await attempts.succeeded('u1');
    for (let i = 0; i < 5; i++) await attempts.begin('u1');
  });

  it('recovery codes: ten, unique, single use, typed loosely; regenerating kills the old', async () => {
    const clock = manualRuntime();
    const codes = new RecoveryCodes({ store: new MemorySecondFactors(), runtime: clock });
    const first = await codes.generate('u1');
    expect(new Set(first).size).toBe(10);
    expect(await codes.use('u1', (first[0] as string).toUpperCase())).toEqual({ remaining: 9 });
    expect(await refusal(codes.use('u1', first[0]))).toBe('mfa_code_invalid');
    expect(await refusal(codes.use('u1', 'not-a-code!'))).toBe('mfa_code_invalid');
    const second = await codes.generate('u1');
    expect(await refusal(codes.use('u1', first[1]))).toBe('mfa_code_invalid');
    expect(await codes.use('u1', (second[1] as string).replace('-', ' '))).toEqual({ remaining: 9 });
  });
});
