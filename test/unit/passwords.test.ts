import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import {
  ARGON2_PARAMS,
  assertAcceptablePassword,
  hashPassword,
  needsRehash,
  normalizePassword,
  verifyPassword,
} from '../../src/core/passwords.js';

const codeOf = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('password policy', () => {
  it('accepts 8 to 1024 characters, counted as code points', () => {
    expect(codeOf(() => assertAcceptablePassword('seven77'))).toBe('password_too_short');
    expect(codeOf(() => assertAcceptablePassword('tessera8'))).toBe('ok');
    expect(codeOf(() => assertAcceptablePassword('é'.repeat(1024)))).toBe('ok');
    expect(codeOf(() => assertAcceptablePassword('é'.repeat(1025)))).toBe('password_too_long');
  });

  it('refuses breached common passwords whatever their case', () => {
    for (const common of ['password', 'PASSWORD1', 'iloveyou', 'qwertyuiop', '12345678']) {
      expect(
        codeOf(() => assertAcceptablePassword(common)),
        common,
      ).toBe('password_too_common');
    }
  });

  it('refuses the email or its local part as password', () => {
    expect(codeOf(() => assertAcceptablePassword('Ada.Lovelace', 'ada.lovelace@example.com'))).toBe(
      'password_matches_email',
    );
  });

  it('normalises with NFKC', () => {
    expect(normalizePassword('ﬁle２０２６')).toBe('file2026');
    expect(normalizePassword('e\u0301')).toBe('é');
  });
});

describe('argon2id hashing', () => {
  it('stores a PHC string with the OWASP parameters and verifies it', async () => {
    const phc = await hashPassword('tessera mosaic');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(phc, 'tessera mosaic')).toBe(true);
    expect(await verifyPassword(phc, 'tessera mosaiC')).toBe(false);
    expect(needsRehash(phc)).toBe(false);
  });

  it('flags hashes made with older parameters for re-hashing', async () => {
    const old = await hash('tessera mosaic', { ...ARGON2_PARAMS, memoryCost: 4096, timeCost: 3 });
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash('$2b$10$bcrypthashfromanotherlibrary')).toBe(true);
  });

  it('treats a corrupt stored hash as a mismatch, not a crash', async () => {
    expect(await verifyPassword('not a phc string', 'anything')).toBe(false);
  });
});
