import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JwsAlgorithm } from '../../../src/core/jwt/algorithms.js';
import { VerifiedTokenCache } from '../../../src/core/jwt/cache.js';
import { JwtError } from '../../../src/core/jwt/errors.js';
import { createAccessTokenSigner } from '../../../src/core/jwt/signer.js';
import { createAccessTokenVerifier } from '../../../src/core/jwt/verifier.js';
import { manualRuntime } from '../../../src/core/runtime.js';
import { ALL_ALGS, AUDIENCE, accessTokenSetup, ISSUER, type KeyPair, keysForAllAlgs } from './fixtures.js';
import { verifyJws } from './reference-verifier.js';

let keys: Record<JwsAlgorithm, KeyPair>;
beforeAll(async () => {
  keys = await keysForAllAlgs();
});

const decode = (segment: string) =>
  JSON.parse(Buffer.from(segment, 'base64url').toString()) as Record<string, unknown>;

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof JwtError) return error.code;
    throw error;
  }
}

describe('sign then verify', () => {
  it.each(ALL_ALGS)('%s: round trip, exact header and claims', (alg) => {
    const { sign, verifier, runtime } = accessTokenSetup(keys[alg]);
    const { token, claims } = sign({ sub: 'user-1', sid: 'session-1', roles: ['admin', 'member'] });
    expect(verifier.verify(token)).toEqual(claims);
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(decode(h)).toEqual({ alg, typ: 'at+jwt', kid: keys[alg].signing.kid });
    expect(Object.keys(decode(p)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub']);
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, iat: Math.floor(runtime.now() / 1000) });
    expect(claims.exp - claims.iat).toBe(300);
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const expectedSigBytes = { EdDSA: 64, ES256: 64, RS256: 256, HS256: 32 }[alg];
    expect(Buffer.from(s, 'base64url').length).toBe(expectedSigBytes);
    // The generic path agrees on the same token.
    expect(verifyJws(token, keys[alg].verification, { allowedAlgs: [alg], typ: 'at+jwt' }).header.kid).toBe(
      keys[alg].signing.kid,
    );
  });

  it.each(ALL_ALGS)('%s: each token has a fresh jti', (alg) => {
    const { sign } = accessTokenSetup(keys[alg]);
    const jtis = new Set(Array.from({ length: 50 }, () => sign({ sub: 'u', sid: 's' }).claims.jti));
    expect(jtis.size).toBe(50);
  });

  it('a token from one key does not verify under another key of the same alg', async () => {
    const other = await keysForAllAlgs();
    for (const alg of ALL_ALGS) {
      const { sign } = accessTokenSetup(keys[alg]);
      const { verifier } = accessTokenSetup({
        ...other[alg],
        verification: { ...other[alg].verification, kid: keys[alg].signing.kid },
      });
      expect(outcome(() => verifier.verify(sign({ sub: 'u', sid: 's' }).token))).toBe(
        'token_invalid_signature',
      );
    }
  });

  it('refuses to sign with bad input or lifetimes', () => {
    const runtime = manualRuntime();
    const base = { key: keys.EdDSA.signing, issuer: ISSUER, audience: AUDIENCE, runtime };
    expect(() => createAccessTokenSigner({ ...base, lifetimeSeconds: 0 })).toThrow(RangeError);
    expect(() => createAccessTokenSigner({ ...base, lifetimeSeconds: 86_400 })).toThrow(RangeError);
    const sign = createAccessTokenSigner(base);
    expect(() => sign({ sub: '', sid: 's' })).toThrow(TypeError);
    expect(() => sign({ sub: 'u', sid: 's', roles: [''] })).toThrow(TypeError);
  });

  it('lives 5 minutes, plus at most 60 s of skew', () => {
    const { sign, verifier, runtime } = accessTokenSetup(keys.EdDSA);
    const { token } = sign({ sub: 'u', sid: 's' });
    runtime.advance(300_000 + 59_000);
    expect(outcome(() => verifier.verify(token))).toBe('accepted');
    runtime.advance(1_000);
    expect(outcome(() => verifier.verify(token))).toBe('token_expired');
  });

  it('rejects a clock skew above 60 s at construction', () => {
    const base = { keys: [], allowedAlgs: ALL_ALGS, issuer: ISSUER, audience: AUDIENCE, now: Date.now };
    expect(() => createAccessTokenVerifier({ ...base, clockSkewSeconds: 61 })).toThrow(RangeError);
    expect(() => createAccessTokenVerifier({ ...base, clockSkewSeconds: -1 })).toThrow(RangeError);
  });
});

describe('verified-token cache', () => {
  it('serves a repeat from the cache, frozen, and never past exp', () => {
    const { sign, verifier, runtime } = accessTokenSetup(keys.ES256);
    const { token, claims } = sign({ sub: 'u', sid: 's', roles: ['member'] });
    const first = verifier.verify(token);
    expect(verifier.cache.size).toBe(1);
    expect(verifier.verify(token)).toBe(first); // same object: a hit
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true);
    runtime.advance((claims.exp - claims.iat) * 1000 - 1);
    expect(verifier.verify(token)).toBe(first); // 1 ms before exp: still a hit
    runtime.advance(1);
    const again = verifier.verify(token); // at exp: the entry is gone; the full check runs (skew)
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    expect(verifier.cache.size).toBe(0); // and is not cached again past exp
    runtime.advance(60_000);
    expect(outcome(() => verifier.verify(token))).toBe('token_expired');
  });

  it('is bounded, evicting the least recently used', () => {
    const cache = new VerifiedTokenCache<number>(3);
    for (const [i, t] of ['a', 'b', 'c'].entries()) cache.set(t, i, 0, 1000, 0);
    expect(cache.get('a', 1)).toBe(0); // a is now the most recent
    cache.set('d', 3, 0, 1000, 1);
    expect(cache.size).toBe(3);
    expect(cache.get('b', 1)).toBeUndefined(); // b was the least recent
    expect([cache.get('a', 1), cache.get('c', 1), cache.get('d', 1)]).toEqual([0, 2, 3]);
  });

  it('keeps the tokens in use through a flood of new ones, and stays within its bound', () => {
    const cache = new VerifiedTokenCache<string>(4);
    cache.set('busy', 'b', 0, 10_000, 0);
    for (let i = 0; i < 1_000; i++) {
      expect(cache.get('busy', i)).toBe('b'); // a client that keeps calling
      cache.set(`flood-${i}`, 'x', 0, 10_000, i); // and a stream of one-off tokens
      expect(cache.size).toBeLessThanOrEqual(4);
    }
    expect(cache.get('flood-0', 1_000)).toBeUndefined();
    expect(cache.get('flood-999', 1_000)).toBe('x');
  });

  it('drops expired entries as it goes, serves nothing outside [validFrom, validUntil), caches nothing when size is 0', () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set('old', 'x', 0, 100, 0);
    cache.set('new', 'y', 0, 1000, 200); // 'old' is expired at 200 and is dropped on this insert
    expect(cache.size).toBe(1);
    expect(cache.get('new', 999)).toBe('y');
    expect(cache.get('new', 1000)).toBeUndefined();
    cache.set('future', 'z', 500, 1000, 0);
    expect(cache.get('future', 499)).toBeUndefined();
    cache.set('dead', 'w', 0, 100, 100);
    expect(cache.size).toBe(0);
    const off = new VerifiedTokenCache<string>(0);
    off.set('t', 'v', 0, 1000, 0);
    expect(off.size).toBe(0);
  });

  it('in the verifier, holds at most cacheSize tokens', () => {
    const runtime = manualRuntime();
    const sign = createAccessTokenSigner({
      key: keys.HS256.signing,
      issuer: ISSUER,
      audience: AUDIENCE,
      runtime,
    });
    const verifier = createAccessTokenVerifier({
      keys: [keys.HS256.verification],
      allowedAlgs: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      now: runtime.now,
      cacheSize: 5,
    });
    for (let i = 0; i < 20; i++) verifier.verify(sign({ sub: `u${i}`, sid: 's' }).token);
    expect(verifier.cache.size).toBe(5);
  });

  it('a failed token is never cached, and a cached token is not a key to other tokens', () => {
    const { sign, verifier } = accessTokenSetup(keys.EdDSA);
    const { token } = sign({ sub: 'u', sid: 's' });
    verifier.verify(token);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(outcome(() => verifier.verify(tampered))).not.toBe('accepted');
    expect(verifier.cache.size).toBe(1);
  });
});

describe('the two signature paths agree (verifyJws with node:crypto, the verifier with fast-jwt)', () => {
  it.each(ALL_ALGS)('%s: on every one-character mutation fast-check tries', (alg) => {
    const { sign, verifier } = accessTokenSetup(keys[alg]);
    const { token } = sign({ sub: 'u', sid: 's', roles: ['r'] });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.nat(alphabet.length - 1), (at, c) => {
        const mutated = token.slice(0, at) + alphabet[c] + token.slice(at + 1);
        const generic = outcome(() =>
          verifyJws(mutated, keys[alg].verification, { allowedAlgs: ALL_ALGS, typ: 'at+jwt' }),
        );
        const access = outcome(() => verifier.verify(mutated));
        if (generic === 'accepted') {
          // verifyJws stops at the signature; only claims can still fail on the access path.
          expect(['accepted', 'token_claims_invalid', 'token_expired', 'token_not_yet_valid']).toContain(
            access,
          );
        } else if (access === 'token_malformed') {
          // parseJwt also refuses a payload that is not a JSON object, which verifyJws keeps as
          // bytes and then refuses at the signature.
          expect(['token_malformed', 'token_invalid_signature']).toContain(generic);
        } else {
          expect(access).toBe(generic);
        }
      }),
      { numRuns: alg === 'RS256' ? 300 : 1000 },
    );
  });
});
