import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/core/email.js';

describe('email normalisation', () => {
  it('trims and lower-cases the domain, keeping the local part as typed', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM\t')).toBe('Ada.Lovelace@example.com');
  });

  it('accepts international addresses', () => {
    expect(normalizeEmail('jürgen@bücher.DE')).toBe('jürgen@bücher.de');
  });

  it.each(['', 'plain', '@example.com', 'a@b', 'a b@example.com', `${'a'.repeat(250)}@example.com`])(
    'rejects %j with invalid_email',
    (input) => {
      expect(() => normalizeEmail(input)).toThrow(
        expect.objectContaining({ code: 'invalid_email', status: 400 }),
      );
    },
  );
});
