import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emailLookupKey,
  isValidEmail,
  mixesScripts,
  normalizeEmail,
  parseNewEmail,
} from '../../src/core/email.js';
import { canonicalEmailKey, localPartSkeleton } from '../../src/core/email-key.js';
import { fuzzRuns } from '../helpers.js';

describe('email normalisation', () => {
  it('trims and lower-cases the domain, keeping the local part as typed', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM\t')).toBe('Ada.Lovelace@example.com');
  });

  it('accepts international addresses', () => {
    expect(normalizeEmail('jürgen@bücher.DE')).toBe('jürgen@bücher.de');
  });

  it.each([
    '',
    'plain',
    '@example.com',
    'a@b',
    'a b@example.com',
    `${'a'.repeat(250)}@example.com`,
    'a@exa%mple.com',
  ])('rejects %j with invalid_email', (input) => {
    expect(() => normalizeEmail(input)).toThrow(
      expect.objectContaining({ code: 'invalid_email', status: 400 }),
    );
    expect(isValidEmail(input)).toBe(false);
  });
});

describe('canonical email key', () => {
  it('folds case, compatibility forms and look-alikes of the local part', () => {
    const admin = canonicalEmailKey('admin@example.com');
    expect(admin).toBe('admin@example.com');
    for (const variant of [
      'ADMIN@example.com',
      'Admin@EXAMPLE.com',
      'admın@example.com', // dotless ı
      'ａｄｍｉｎ@example.com', // fullwidth
      'ADMİN@example.com', // dotted capital İ lower-cases to i + combining dot
      'adrnin@example.com', // rn looks like m
    ]) {
      expect(canonicalEmailKey(variant), variant).toBe(admin);
    }
    expect(canonicalEmailKey('ｂob@example.com')).toBe('bob@example.com');
    expect(canonicalEmailKey('b0b@example.com')).toBe('bob@example.com');
    expect(canonicalEmailKey('bi11@example.com')).toBe(canonicalEmailKey('bill@example.com'));
    // A local part written wholly in Cyrillic that looks like a Latin one.
    expect(canonicalEmailKey('ѕсо@example.com')).toBe('sco@example.com');
    expect(canonicalEmailKey('αρο@example.com')).toBe('apo@example.com');
  });

  it('puts the domain in IDNA ASCII form, so Unicode and punycode spellings are one domain', () => {
    expect(canonicalEmailKey('jürgen@Bücher.de')).toBe('jürgen@xn--bcher-kva.de');
    expect(canonicalEmailKey('jürgen@xn--bcher-kva.de')).toBe('jürgen@xn--bcher-kva.de');
    expect(canonicalEmailKey('a@ＥＸＡＭＰＬＥ.com')).toBe('a@example.com');
  });

  it('keeps what providers disagree on: dots and +tags stay distinct', () => {
    expect(canonicalEmailKey('a.b@example.com')).not.toBe(canonicalEmailKey('ab@example.com'));
    expect(canonicalEmailKey('a+x@example.com')).not.toBe(canonicalEmailKey('a@example.com'));
  });

  it('gives different keys to addresses that do not look alike', () => {
    expect(canonicalEmailKey('anna@example.com')).not.toBe(canonicalEmailKey('anne@example.com'));
    expect(canonicalEmailKey('jürgen@example.com')).not.toBe(canonicalEmailKey('jurgen@example.com'));
  });

  it('is idempotent: the key of a skeleton is the skeleton', () => {
    const alphabet = fc.constantFrom(...'aAbBiIlLmMoOrnN01ıİａ|ѕсоαρ.+-_'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { minLength: 1, maxLength: 12 }), (chars) => {
        const skeleton = localPartSkeleton(chars.join(''));
        expect(localPartSkeleton(skeleton)).toBe(skeleton);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});

describe('new addresses', () => {
  it('keep the display form as typed and carry the canonical key', () => {
    expect(parseNewEmail(' ADMIN@Example.com ')).toEqual({
      display: 'ADMIN@example.com',
      key: 'admin@example.com',
    });
    expect(emailLookupKey('ｂob@EXAMPLE.com')).toBe('bob@example.com');
  });

  it.each([
    'аdmin@example.com', // Cyrillic а, then Latin
    'pаypal@example.com',
    'admin@exаmple.com', // mixed domain label
    'αdmin@example.com', // Greek α, then Latin
  ])('refuse %j, which mixes scripts, with invalid_email', (input) => {
    expect(() => parseNewEmail(input)).toThrow(
      expect.objectContaining({
        code: 'invalid_email',
        status: 400,
        message: expect.stringMatching(/alphabets/),
      }),
    );
  });

  it('allow single-script and customary mixes (Japanese, digits, punctuation)', () => {
    for (const ok of [
      'ѕсо@example.com',
      'дмитрий@example.com',
      'γιώργος@example.gr',
      'taro.山田カナ@example.jp',
      'user_01@example.com',
    ]) {
      expect(() => parseNewEmail(ok), ok).not.toThrow();
    }
    expect(mixesScripts('ｂob')).toBe(false);
    expect(mixesScripts('bоb')).toBe(true);
  });
});
