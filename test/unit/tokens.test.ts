import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { hashSecret, issueToken, parseToken, secretMatches } from '../../src/core/tokens.js';

describe('opaque id.secret tokens', () => {
  it('carry a 128-bit id and a 256-bit secret, and only the hash of the secret is kept', () => {
    const { id, token, secretHash } = issueToken(systemRuntime);
    const parsed = parseToken(token);
    expect(parsed?.id).toBe(id);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    expect(Buffer.from(parsed?.secret as string, 'base64url')).toHaveLength(32);
    expect(secretHash).toBe(hashSecret(parsed?.secret as string));
    expect(secretHash).not.toContain(parsed?.secret);
  });

  it('never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => issueToken(systemRuntime).token));
    expect(tokens.size).toBe(1000);
  });

  it('match only their own secret', () => {
    const a = issueToken(systemRuntime);
    const b = issueToken(systemRuntime);
    expect(secretMatches(parseToken(a.token)?.secret as string, a.secretHash)).toBe(true);
    expect(secretMatches(parseToken(b.token)?.secret as string, a.secretHash)).toBe(false);
    expect(secretMatches('x', 'not-hex')).toBe(false);
  });

  it('parse only the exact issued shape', () => {
    const { token } = issueToken(systemRuntime);
    for (const bad of [
      '',
      '.',
      token.replace('.', ''),
      `${token}x`,
      ` ${token}`,
      `${token}.x`,
      token.replace(/.$/, '='),
    ]) {
      expect(parseToken(bad), bad).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (input) => {
        const parsed = parseToken(input);
        if (parsed) expect(`${parsed.id}.${parsed.secret}`).toBe(input);
      }),
    );
  });
});
