import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEmailKey } from '../../src/core/email-key.js';
import { fuzzRuns, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/**
 * One account per canonical address (issue 14, "look-alike accounts"): case, fullwidth and
 * confusable variants of a registered address are refused with the existing 409 email_taken,
 * a mixed-script local part is refused, and any spelling of the address logs in.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTessera();
});
afterAll(() => server.close());

const register = (email: string) => post(server.app, '/auth/register', { email, password: PASSWORD });
const login = (email: string) => post(server.app, '/auth/login', { email, password: PASSWORD });

describe('look-alike addresses', () => {
  it.each([
    [
      'admin@example.com',
      ['ADMIN@example.com', 'admın@example.com', 'ａｄｍｉｎ@example.com', 'Admin@EXAMPLE.COM'],
    ],
    ['bob@example.com', ['ｂob@example.com', 'BOB@example.com', 'b0b@example.com']],
    ['sco@example.com', ['ѕсо@example.com']], // written wholly in Cyrillic
    ['jürgen@bücher.de', ['JÜRGEN@xn--bcher-kva.de']],
  ])('%s registered: its variants get 409 email_taken', async (original, variants) => {
    expect((await register(original)).statusCode).toBe(201);
    for (const variant of variants) {
      const response = await register(variant);
      expect(response.statusCode, variant).toBe(409);
      expect(response.json().error, variant).toBe('email_taken');
    }
  });

  it('a local part mixing scripts is refused with 400 invalid_email', async () => {
    const response = await register('аdmin2@example.com'); // Cyrillic а
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: 'invalid_email',
      message: expect.stringMatching(/alphabets/),
    });
  });

  it('keeps the address as typed for display; logging in with another case (or look-alike) works', async () => {
    const created = await register('Carol.Smith@Example.com');
    expect(created.statusCode).toBe(201);
    expect(created.json().user.email).toBe('Carol.Smith@example.com');
    for (const typed of ['carol.smith@example.com', 'CAROL.SMITH@EXAMPLE.COM', 'ｃarol.smith@example.com']) {
      const response = await login(typed);
      expect(response.statusCode, typed).toBe(200);
      expect(response.json().user.email).toBe('Carol.Smith@example.com');
    }
  });

  it('property: two addresses with the same canonical form never both register', async () => {
    // Variants of a base address: each character may be upper-cased, made fullwidth, or swapped
    // for a look-alike from TS 39's table; the domain may be upper-cased.
    const lookAlikes: Record<string, string[]> = {
      a: ['а', 'ɑ'],
      e: ['е'],
      i: ['ı', 'і'],
      l: ['1', 'ǀ'],
      o: ['0', 'о', 'ο'],
      c: ['с'],
      p: ['р'],
      m: ['rn'],
    };
    const variantOf = (text: string) =>
      fc
        .array(fc.constantFrom('same', 'upper', 'fullwidth', 'lookAlike'), {
          minLength: text.length,
          maxLength: text.length,
        })
        .map((choices) =>
          [...text]
            .map((c, i) => {
              const choice = choices[i];
              if (choice === 'upper') return c.toUpperCase();
              if (choice === 'fullwidth' && /[a-z]/.test(c))
                return String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0);
              if (choice === 'lookAlike' && lookAlikes[c]) return lookAlikes[c][i % lookAlikes[c].length];
              return c;
            })
            .join(''),
        );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .stringMatching(/^[aeilocpmx]{3,8}$/)
          .chain((base) => fc.tuple(fc.constant(base), variantOf(base), variantOf(base), fc.boolean())),
        async ([base, first, second, upperDomain]) => {
          const domain = `prop${++run}.example.com`;
          const a = `${first}@${domain}`;
          const b = `${second}@${upperDomain ? domain.toUpperCase() : domain}`;
          // Both are spellings of the base: same canonical form, by construction.
          expect(canonicalEmailKey(a)).toBe(canonicalEmailKey(`${base}@${domain}`));
          expect(canonicalEmailKey(b)).toBe(canonicalEmailKey(a));
          const statuses = [(await register(a)).statusCode, (await register(b)).statusCode];
          expect(statuses.filter((s) => s === 201).length, `${a} / ${b}`).toBeLessThanOrEqual(1);
          // Refusals are the stable ones: taken, or a mixed-script spelling.
          for (const status of statuses) expect([201, 400, 409]).toContain(status);
        },
      ),
      { numRuns: fuzzRuns(25) },
    );
  }, 120_000);
});

describe('failed-login audit rows', () => {
  it('keep a valid typed address, but only a keyed hash of anything else (a password typed in the email box)', async () => {
    await login('nobody.here@example.com');
    const secretLike = 'Tr0ub4dor&3-not-an-email';
    await login(secretLike);
    const events = await server.tessera.audit.list({ type: 'login.failed' });
    const details = events.map((e) => JSON.parse(e.detail));
    expect(details).toContainEqual({ email: 'nobody.here@example.com' });
    const hashed = details.find((d) => 'emailHash' in d);
    expect(hashed?.emailHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(events)).not.toContain(secretLike);
    // The same text hashes the same way (an admin can see a repeat), and differs from another's.
    await login(secretLike);
    const again = (await server.tessera.audit.list({ type: 'login.failed' })).map((e) =>
      JSON.parse(e.detail),
    );
    expect(again.filter((d) => d.emailHash === hashed?.emailHash)).toHaveLength(2);
  });
});
