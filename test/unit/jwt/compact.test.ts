import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JwsAlgorithm } from '../../../src/core/jwt/algorithms.js';
import { parseJws, parseJwt, sameMediaType } from '../../../src/core/jwt/compact.js';
import { JwtError } from '../../../src/core/jwt/errors.js';
import { firstDuplicateMember } from '../../../src/core/jwt/json.js';
import { b64u } from './fixtures.js';

const allowedAlgs: readonly JwsAlgorithm[] = ['EdDSA', 'ES256'];
const options = { allowedAlgs, typ: 'at+jwt', requireKid: true };
const HEADER = { alg: 'EdDSA', typ: 'at+jwt', kid: 'key-1' };
const SIG = b64u(Buffer.alloc(64, 7));
const token = (header: object | string, payload: object | string = { sub: 'u' }, sig = SIG) =>
  `${[header, payload].map((p) => b64u(typeof p === 'string' ? p : JSON.stringify(p))).join('.')}.${sig}`;

/** The code a parse fails with, or 'ok'. */
function outcome(compact: string, opts = options): string {
  try {
    parseJwt(compact, opts);
    return 'ok';
  } catch (error) {
    if (error instanceof JwtError) return error.code;
    throw error;
  }
}

describe('parseJws / parseJwt', () => {
  it('returns header, payload, signing input and signature bytes', () => {
    const compact = token(HEADER);
    const parsed = parseJwt(compact, options);
    expect(parsed.header).toEqual(HEADER);
    expect(parsed.payload).toEqual({ sub: 'u' });
    expect(parsed.signingInput).toBe(compact.slice(0, compact.lastIndexOf('.')));
    expect(parsed.signature).toEqual(Buffer.alloc(64, 7));
  });

  it('keeps a generic JWS payload as bytes (it need not be JSON)', () => {
    const compact = `${b64u(JSON.stringify({ alg: 'ES256' }))}.${b64u('foo')}.${SIG}`;
    expect(parseJws(compact, { allowedAlgs }).payload.toString()).toBe('foo');
    expect(outcome(compact, { allowedAlgs, typ: undefined as unknown as string, requireKid: false })).toBe(
      'token_malformed',
    );
  });

  it.each([
    ['two segments', `${b64u('{}')}.${b64u('{}')}`],
    ['four segments', `${token(HEADER)}.${SIG}`],
    ['JWE-like five segments', `${token(HEADER)}.a.b`],
    ['empty string', ''],
    ['stripped signature', token(HEADER, { sub: 'u' }, '')],
    ['header is an array', token('[1]')],
    ['header is null', token('null')],
    ['payload is an array', token(HEADER, '["sub"]')],
    ['payload is a string', token(HEADER, '"sub"')],
    ['payload is null', token(HEADER, 'null')],
    ['payload is not JSON', token(HEADER, 'foo')],
    ['header has trailing garbage', token(`${JSON.stringify(HEADER)}x`)],
    ['alg is not a string', token({ ...HEADER, alg: ['EdDSA'] })],
    ['alg is missing', token({ typ: 'at+jwt', kid: 'key-1' })],
    ['too long', token(HEADER, { sub: 'x'.repeat(9000) })],
  ])('refuses %s as token_malformed', (_, compact) => {
    expect(outcome(compact)).toBe('token_malformed');
  });

  describe('canonical unpadded base64url only', () => {
    const good = token(HEADER);
    const [h, p, s] = good.split('.') as [string, string, string];
    it.each([
      ['padding', `${h}.${p}.${s}==`],
      ['standard-alphabet characters', `${h}.${p.replace(/-|_|$/, '+')}.${s}`],
      ['a space', `${h} .${p}.${s}`],
      ['a newline', `${h}.${p}\n.${s}`],
      ['an invalid character', `${h}.${p}.${s}?`],
      ['an impossible length (4n+1)', `${h}.${p}.${s}AAA`],
    ])('refuses %s', (_, compact) => {
      expect(outcome(compact)).toBe('token_malformed');
    });

    it('refuses non-zero unused bits in the last character (non-canonical)', () => {
      // 64 bytes -> 86 chars, the last carrying 2 unused bits; "Hw" and "Hx" decode alike.
      expect(s.length % 4).toBe(2);
      const last = s.at(-1) as string;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const twin = alphabet[alphabet.indexOf(last) + 1] as string;
      const nonCanonical = `${h}.${p}.${s.slice(0, -1)}${twin}`;
      expect(Buffer.from(nonCanonical.split('.')[2] as string, 'base64url')).toEqual(
        Buffer.from(s, 'base64url'),
      );
      expect(outcome(nonCanonical)).toBe('token_malformed');
    });

    it('property: a re-encoding that decodes to the same bytes but differs in text is refused', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 70 }),
          fc.integer({ min: 1, max: 3 }),
          (bytes, bump) => {
            const canonical = Buffer.from(bytes).toString('base64url');
            const unused = [0, 0, 4, 2][canonical.length % 4] as number; // unused bits in the last char
            if (unused === 0) return;
            const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
            const last = alphabet.indexOf(canonical.at(-1) as string);
            const variant = `${canonical.slice(0, -1)}${alphabet[last + (bump % 2 ** unused || 1)]}`;
            expect(outcome(`${h}.${p}.${variant}`)).toBe('token_malformed');
          },
        ),
      );
    });
  });

  describe('duplicate members (JSON.parse would keep the last)', () => {
    it.each([
      ['alg in the header', token('{"alg":"ES256","alg":"EdDSA","typ":"at+jwt","kid":"key-1"}')],
      ['kid in the header', token('{"alg":"EdDSA","typ":"at+jwt","kid":"a","kid":"key-1"}')],
      ['sub in the payload', token(HEADER, '{"sub":"admin","sub":"u"}')],
      ['an escaped twin ("\\u0073ub")', token(HEADER, '{"sub":"admin","\\u0073ub":"u"}')],
      ['a nested object member', token(HEADER, '{"sub":"u","ctx":{"a":1,"b":[{"x":1}],"a":2}}')],
    ])('refuses a duplicated %s', (_, compact) => {
      expect(outcome(compact)).toBe('token_malformed');
    });

    it('accepts the same name in different objects, and names inside strings', () => {
      expect(
        outcome(token(HEADER, '{"sub":"u","a":{"sub":1},"b":[{"sub":2},{"sub":3}],"c":"\\"sub\\":"}')),
      ).toBe('ok');
    });

    it('finds duplicates and only duplicates (against a reference on random objects)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', '\u00e9', 'a"b', '\\'), fc.jsonValue())),
          (members) => {
            const text = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
            const names = members.map(([k]) => k);
            const expectDuplicate = new Set(names).size !== names.length;
            // Nested values come from JSON.stringify of real objects, so they are duplicate-free.
            expect(firstDuplicateMember(text) !== undefined).toBe(expectDuplicate);
          },
        ),
      );
    });
  });

  describe('alg', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg "%s" (with or without a signature)', (alg) => {
      expect(outcome(token({ ...HEADER, alg }))).toBe('token_alg_not_allowed');
      expect(outcome(token({ ...HEADER, alg }, { sub: 'u' }, ''))).toBe('token_malformed');
    });

    it.each(['RS256', 'HS256', 'eddsa', 'ES256 ', 'PS256', 'ES384'])(
      'refuses "%s" when not in the allowlist',
      (alg) => {
        expect(outcome(token({ ...HEADER, alg }))).toBe('token_alg_not_allowed');
      },
    );
  });

  describe('header members never honoured', () => {
    it.each([
      ['crit', { crit: ['exp'], exp: 1 }],
      ['jku', { jku: 'https://attacker.example/jwks.json' }],
      ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
      ['jwk', { jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }],
      ['x5c', { x5c: ['MIIB'] }],
      ['b64', { b64: false }],
      ['jku even when null', { jku: null }],
    ])('refuses %s', (_, extra) => {
      expect(outcome(token({ ...HEADER, ...extra }))).toBe('token_header_forbidden');
    });
  });

  describe('typ', () => {
    it.each(['at+jwt', 'AT+JWT', 'At+Jwt', 'application/at+jwt', 'APPLICATION/AT+JWT'])(
      'accepts "%s"',
      (typ) => {
        expect(outcome(token({ ...HEADER, typ }))).toBe('ok');
      },
    );

    it.each(['JWT', 'jwt', 'rt+jwt', 'at+jwt ', 'text/at+jwt', 'application/jwt', ''])(
      'refuses "%s"',
      (typ) => {
        expect(outcome(token({ ...HEADER, typ }))).toBe('token_typ_invalid');
      },
    );

    it('refuses a missing or non-string typ', () => {
      expect(outcome(token({ alg: 'EdDSA', kid: 'key-1' }))).toBe('token_typ_invalid');
      expect(outcome(token({ ...HEADER, typ: ['at+jwt'] }))).toBe('token_typ_invalid');
    });

    it('compares media types per RFC 7515 4.1.9', () => {
      expect(sameMediaType('at+JWT', 'application/AT+jwt')).toBe(true);
      expect(sameMediaType('at+jwt', 'example/at+jwt')).toBe(false);
    });
  });

  describe('kid', () => {
    it.each([
      ['a path', '../../etc/passwd'],
      ['SQL', "' OR 1=1 --"],
      ['a URL', 'https://attacker.example/key'],
      ['empty', ''],
      ['65 characters', 'k'.repeat(65)],
      ['a NUL byte', 'key\u0000'],
      ['non-ASCII', 'k\u00e9y'],
      ['a number', 7],
      ['null', null],
      ['an object', { $ne: null }],
    ])('refuses a kid that is %s', (_, kid) => {
      expect(outcome(token({ ...HEADER, kid }))).toBe('token_malformed');
    });

    it('requires a kid for access tokens, and accepts 64 base64url characters', () => {
      expect(outcome(token({ alg: 'EdDSA', typ: 'at+jwt' }))).toBe('token_malformed');
      expect(outcome(token({ ...HEADER, kid: 'aZ09-_'.repeat(10).slice(0, 64) }))).toBe('ok');
    });
  });

  it('refuses invalid UTF-8 and a byte-order mark', () => {
    const badUtf8 = Buffer.concat([Buffer.from('{"sub":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(outcome(`${b64u(JSON.stringify(HEADER))}.${b64u(badUtf8)}.${SIG}`)).toBe('token_malformed');
    expect(outcome(token(HEADER, '\ufeff{"sub":"u"}'))).toBe('token_malformed');
  });

  it('never throws anything but a JwtError, whatever the input (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .array(
              fc.oneof(
                fc.string(),
                fc.base64String().map((s) => s.replace(/=+$/, '')),
              ),
              { maxLength: 4 },
            )
            .map((parts) => parts.join('.')),
          fc.tuple(fc.json(), fc.json()).map(([a, b]) => token(a, b)),
        ),
        (input) => {
          expect(['ok', ...codes]).toContain(outcome(input));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

const codes = ['token_malformed', 'token_alg_not_allowed', 'token_header_forbidden', 'token_typ_invalid'];
