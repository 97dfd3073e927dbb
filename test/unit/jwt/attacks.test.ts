import { createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JwsAlgorithm } from '../../../src/core/jwt/algorithms.js';
import { JwtError, JwtKeyError } from '../../../src/core/jwt/errors.js';
import type { AccessTokenVerifier } from '../../../src/core/jwt/verifier.js';
import { createAccessTokenVerifier } from '../../../src/core/jwt/verifier.js';
import { manualRuntime } from '../../../src/core/runtime.js';
import { issueToken } from '../../../src/core/tokens.js';
import {
  ALL_ALGS,
  AUDIENCE,
  b64u,
  claimsAt,
  forge,
  ISSUER,
  type KeyPair,
  keysForAllAlgs,
} from './fixtures.js';
import { verifyJws } from './reference-verifier.js';

/**
 * Every attack named in the jwt-mode issue, each its own test, against the access-token
 * verifier with the widest configuration: all four algorithms allowed and a key of each in the
 * keyring, so only per-key binding (not a narrow allowlist) stands between attacker and success.
 */
let keys: Record<JwsAlgorithm, KeyPair>;
let verifier: AccessTokenVerifier;
const runtime = manualRuntime();

beforeAll(async () => {
  keys = await keysForAllAlgs();
  verifier = createAccessTokenVerifier({
    keys: ALL_ALGS.map((alg) => keys[alg].verification),
    allowedAlgs: ALL_ALGS,
    issuer: ISSUER,
    audience: AUDIENCE,
    now: runtime.now,
    cacheSize: 0, // each attack must meet the full check, not a cache entry
  });
});

function rejection(token: string): string {
  try {
    verifier.verify(token);
    return 'accepted';
  } catch (error) {
    if (error instanceof JwtError) return error.code;
    throw error;
  }
}

const header = (alg: JwsAlgorithm | string, extra: object = {}) => ({
  alg,
  typ: 'at+jwt',
  kid: keys[(ALL_ALGS.includes(alg as JwsAlgorithm) ? alg : 'EdDSA') as JwsAlgorithm].signing.kid,
  ...extra,
});
const legit = (alg: JwsAlgorithm, claims: object = claimsAt(runtime.now()), extra: object = {}) =>
  forge(header(alg, extra), claims, keys[alg].signing);

describe('attacks on the access-token verifier', () => {
  it.each(ALL_ALGS)('control: a well-formed %s token is accepted', (alg) => {
    expect(rejection(legit(alg))).toBe('accepted');
  });

  describe('alg "none", in any casing, signed or not', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('%s with an empty signature', (alg) => {
      expect(rejection(forge(header(alg), claimsAt(runtime.now())))).toBe('token_malformed');
    });
    it.each(['none', 'None', 'NONE', 'nOnE'])('%s with a non-empty signature', (alg) => {
      const token = forge(header(alg), claimsAt(runtime.now()), undefined, Buffer.alloc(64, 1));
      expect(rejection(token)).toBe('token_alg_not_allowed');
    });
  });

  it.each(ALL_ALGS)('stripped signature (%s token with its signature removed)', (alg) => {
    const token = legit(alg);
    expect(rejection(token.slice(0, token.lastIndexOf('.') + 1))).toBe('token_malformed');
    expect(rejection(token.slice(0, token.lastIndexOf('.')))).toBe('token_malformed');
  });

  describe('HS256 signed with a public key as the HMAC secret (algorithm confusion)', () => {
    for (const victim of ['RS256', 'ES256', 'EdDSA'] as const) {
      it(`the ${victim} public key, as PEM, DER and JWK text, under the ${victim} kid`, () => {
        const publicKey = createPublicKey(keys[victim].signing.key);
        const secrets = [
          Buffer.from(publicKey.export({ format: 'pem', type: 'spki' })),
          publicKey.export({ format: 'der', type: 'spki' }),
          Buffer.from(JSON.stringify(publicKey.export({ format: 'jwk' }))),
        ];
        for (const secret of secrets) {
          const token = forge(header('HS256', { kid: keys[victim].signing.kid }), claimsAt(runtime.now()), {
            alg: 'HS256',
            key: secret,
          });
          expect(rejection(token)).toBe('token_alg_not_allowed');
        }
      });
    }

    it('a hand-made keyring entry labelling a public key HS256 is refused, not trusted', () => {
      const rsaPublic = createPublicKey(keys.RS256.signing.key);
      const handMade = { kid: 'hand-made', alg: 'HS256' as const, key: rsaPublic };
      const base = { allowedAlgs: ALL_ALGS, issuer: ISSUER, audience: AUDIENCE, now: runtime.now };
      expect(() => createAccessTokenVerifier({ ...base, keys: [handMade] })).toThrow(JwtKeyError);
      const pem = Buffer.from(rsaPublic.export({ format: 'pem', type: 'spki' }));
      const token = forge({ alg: 'HS256', kid: 'hand-made' }, { sub: 'u' }, { alg: 'HS256', key: pem });
      expect(() => verifyJws(token, handMade, { allowedAlgs: ALL_ALGS })).toThrow(JwtKeyError);
    });

    it('the same forgery under the HS256 kid fails the HMAC', () => {
      const pem = Buffer.from(
        createPublicKey(keys.RS256.signing.key).export({ format: 'pem', type: 'spki' }),
      );
      const token = forge(header('HS256'), claimsAt(runtime.now()), { alg: 'HS256', key: pem });
      expect(rejection(token)).toBe('token_invalid_signature');
    });
  });

  describe('ES256 signature of zeros (CVE-2022-21449, "psychic signatures")', () => {
    it('64 zero bytes', () => {
      const token = forge(header('ES256'), claimsAt(runtime.now()), undefined, Buffer.alloc(64));
      expect(rejection(token)).toBe('token_invalid_signature');
    });
    it('r = 0 or s = 0 alone, r or s = n, and a DER-encoded signature', () => {
      const good = Buffer.from(legit('ES256').split('.')[2] as string, 'base64url');
      const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
      const variants = [
        Buffer.concat([Buffer.alloc(32), good.subarray(32)]),
        Buffer.concat([good.subarray(0, 32), Buffer.alloc(32)]),
        Buffer.concat([n, good.subarray(32)]),
        Buffer.concat([good.subarray(0, 32), n]),
        Buffer.concat([
          Buffer.from([0x30, 0x44, 0x02, 0x20]),
          good.subarray(0, 32),
          Buffer.from([0x02, 0x20]),
          good.subarray(32),
        ]),
      ];
      for (const signature of variants) {
        expect(rejection(forge(header('ES256'), claimsAt(runtime.now()), undefined, signature))).toBe(
          'token_invalid_signature',
        );
      }
    });
  });

  it.each(ALL_ALGS)('a tampered payload under a genuine %s signature', (alg) => {
    const [h, , s] = legit(alg).split('.');
    const escalated = b64u(JSON.stringify({ ...claimsAt(runtime.now()), roles: ['admin'] }));
    expect(rejection(`${h}.${escalated}.${s}`)).toBe('token_invalid_signature');
  });

  describe('time', () => {
    const now = () => runtime.now();
    it('expired: exp in the past by more than the 60 s skew', () => {
      const iat = Math.floor(now() / 1000) - 400;
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat, exp: iat + 300 })))).toBe('token_expired');
    });
    it('expired within the skew is still accepted (exp 59 s ago), at 60 s it is not', () => {
      const nowS = Math.floor(now() / 1000);
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat: nowS - 359, exp: nowS - 59 })))).toBe(
        'accepted',
      );
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat: nowS - 360, exp: nowS - 60 })))).toBe(
        'token_expired',
      );
    });
    it('not yet valid: nbf beyond the skew', () => {
      const nowS = Math.floor(now() / 1000);
      expect(rejection(legit('EdDSA', claimsAt(now(), { nbf: nowS + 61 })))).toBe('token_not_yet_valid');
      expect(rejection(legit('EdDSA', claimsAt(now(), { nbf: nowS + 60 })))).toBe('accepted');
    });
    it('a validly signed token living longer than the issuer issues (a leaked key minting for a year)', () => {
      const iat = Math.floor(now() / 1000);
      const year = 365 * 24 * 3600;
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat, exp: iat + year })))).toBe(
        'token_claims_invalid',
      );
      // Default cap: the longest lifetime Tessera issues (1 h), plus the 60 s skew.
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat, exp: iat + 3660 })))).toBe('accepted');
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat, exp: iat + 3661 })))).toBe(
        'token_claims_invalid',
      );
      // A verifier told the configured TTL caps there.
      const fiveMinutes = createAccessTokenVerifier({
        keys: [keys.EdDSA.verification],
        allowedAlgs: ['EdDSA'],
        issuer: ISSUER,
        audience: AUDIENCE,
        now: runtime.now,
        maxLifetimeSeconds: 300,
        cacheSize: 0,
      });
      expect(fiveMinutes.verify(legit('EdDSA', claimsAt(now(), { iat, exp: iat + 360 }))).sub).toBe('user-1');
      expect(() => fiveMinutes.verify(legit('EdDSA', claimsAt(now(), { iat, exp: iat + 361 })))).toThrow(
        expect.objectContaining({ code: 'token_claims_invalid' }),
      );
    });
    it('not yet valid: iat in the future beyond the skew', () => {
      const iat = Math.floor(now() / 1000) + 61;
      expect(rejection(legit('EdDSA', claimsAt(now(), { iat, exp: iat + 300 })))).toBe('token_not_yet_valid');
    });
  });

  describe('wrong iss, aud, typ', () => {
    it('iss of another issuer', () => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now(), { iss: 'https://evil.example' })))).toBe(
        'token_claims_invalid',
      );
    });
    it('aud of another service (string or array)', () => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now(), { aud: 'https://other.example' })))).toBe(
        'token_claims_invalid',
      );
      expect(rejection(legit('EdDSA', claimsAt(runtime.now(), { aud: ['https://other.example'] })))).toBe(
        'token_claims_invalid',
      );
      expect(
        rejection(legit('EdDSA', claimsAt(runtime.now(), { aud: ['https://other.example', AUDIENCE] }))),
      ).toBe('accepted');
    });
    it.each(['JWT', 'id_token+jwt', 'rt+jwt', 'dpop+jwt'])('typ "%s", validly signed', (typ) => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now()), { typ }))).toBe('token_typ_invalid');
    });
    it('no typ at all', () => {
      const { typ: _, ...noTyp } = header('EdDSA');
      expect(rejection(forge(noTyp, claimsAt(runtime.now()), keys.EdDSA.signing))).toBe('token_typ_invalid');
    });
  });

  it('a refresh token presented as an access token', () => {
    const refresh = issueToken(runtime).token; // opaque <id>.<secret>, as refresh tokens are
    expect(rejection(refresh)).toBe('token_malformed');
    expect(rejection(`Bearer ${legit('EdDSA')}`)).toBe('token_malformed');
  });

  it('duplicate JSON members, validly signed (header alg, payload sub)', () => {
    const claims = JSON.stringify(claimsAt(runtime.now()));
    const dupSub = `${claims.slice(0, -1)},"sub":"admin"}`;
    expect(rejection(forge(header('EdDSA'), dupSub, keys.EdDSA.signing))).toBe('token_malformed');
    const kid = keys.EdDSA.signing.kid;
    const dupAlg = `{"alg":"HS256","typ":"at+jwt","kid":"${kid}","alg":"EdDSA"}`;
    expect(rejection(forge(dupAlg, claimsAt(runtime.now()), keys.EdDSA.signing))).toBe('token_malformed');
  });

  it('non-canonical base64url, validly signed over the non-canonical text', () => {
    // Padding and a non-zero unused bit change the text but not the decoded bytes; the
    // signature covers the text, so the attacker can re-sign only if they hold the key: we check
    // that even then (a key holder producing a non-canonical token) the parser refuses it.
    const h = b64u(JSON.stringify(header('HS256')));
    const p = b64u(JSON.stringify(claimsAt(runtime.now())));
    const padded = `${h}.${p}${'='.repeat((4 - (p.length % 4)) % 4 || 1)}`;
    const sigPadded = forge(header('HS256'), claimsAt(runtime.now()), keys.HS256.signing).split(
      '.',
    )[2] as string;
    expect(rejection(`${padded}.${sigPadded}`)).toBe('token_malformed');
    const good = legit('HS256');
    const sig = good.split('.')[2] as string; // 32 bytes -> 43 chars, 2 unused bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(sig.at(-1) as string) ^ 1] as string;
    expect(rejection(`${good.slice(0, -1)}${twin}`)).toBe('token_malformed');
  });

  describe('key-fetching headers, validly signed', () => {
    it.each([
      ['jku', { jku: 'https://attacker.example/jwks.json' }],
      ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
      ['jwk', { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'attacker' } }],
      ['x5c', { x5c: ['MIIBattacker'] }],
      ['crit', { crit: ['exp'] }],
    ])('%s', (_, extra) => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now()), extra))).toBe('token_header_forbidden');
    });
  });

  describe('odd kid', () => {
    it.each([
      '../../../dev/null',
      "x' UNION SELECT k FROM keys --",
      'https://attacker.example/k',
      '',
      'k'.repeat(65),
    ])('kid %j is refused before any lookup', (kid) => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now()), { kid }))).toBe('token_malformed');
    });
    it('a well-formed kid nobody knows', () => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now()), { kid: 'unknown-key' }))).toBe(
        'token_unknown_key',
      );
    });
    it("another key's kid (EdDSA token naming the ES256 key)", () => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now()), { kid: keys.ES256.signing.kid }))).toBe(
        'token_alg_not_allowed',
      );
    });
  });

  describe('missing or malformed claims', () => {
    it.each(['sub', 'sid', 'jti', 'iat', 'exp', 'iss', 'aud'])('without %s', (claim) => {
      const { [claim as 'sub']: _, ...claims } = claimsAt(runtime.now());
      expect(rejection(legit('EdDSA', claims))).toBe('token_claims_invalid');
    });
    it.each([
      ['sub as a number', { sub: 42 }],
      ['empty sid', { sid: '' }],
      ['exp as a string', { exp: '9999999999' }],
      ['fractional iat', { iat: 1.5 }],
      ['exp before iat', { exp: 1 }],
      ['roles as a string', { roles: 'admin' }],
      ['roles with a non-string', { roles: ['admin', 1] }],
    ])('%s', (_, override) => {
      expect(rejection(legit('EdDSA', claimsAt(runtime.now(), override)))).toBe('token_claims_invalid');
    });
  });

  it('a key outside the allowlist is refused when the verifier is built', () => {
    expect(() =>
      createAccessTokenVerifier({
        keys: [keys.HS256.verification],
        allowedAlgs: ['EdDSA'],
        issuer: ISSUER,
        audience: AUDIENCE,
        now: runtime.now,
      }),
    ).toThrow(/allowlist/);
    expect(() =>
      createAccessTokenVerifier({
        keys: [],
        allowedAlgs: ['none' as JwsAlgorithm],
        issuer: ISSUER,
        audience: AUDIENCE,
        now: runtime.now,
      }),
    ).toThrow(/not a JWS algorithm/);
  });
});
