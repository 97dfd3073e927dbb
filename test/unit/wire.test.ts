import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../src/resource-server.js';
import {
  csrfTokenFor,
  csrfTokenMatches,
  deriveCsrfKey,
  parseBearerAuthorization,
  usesBearerScheme,
} from '../../src/wire/credentials.js';

describe('parseBearerAuthorization: the one Bearer parser (RFC 6750 2.1)', () => {
  const token = 'AbC-._~+/9.x_y==';

  it('takes the scheme in any case, one space and one b64token', () => {
    expect(parseBearerAuthorization(`Bearer ${token}`)).toBe(token);
    expect(parseBearerAuthorization(`bearer ${token}`)).toBe(token);
    expect(parseBearerAuthorization(`BEARER ${token}`)).toBe(token);
  });

  it('refuses everything else', () => {
    for (const value of [
      'Bearer',
      'Bearer ',
      `Bearer  ${token}`,
      `Bearer ${token} `,
      ` Bearer ${token}`,
      `Bearer\t${token}`,
      `Bearer ${token} extra`,
      `Bearer ${token},Bearer ${token}`,
      'Bearer a=b',
      'Bearer ===',
      'Bearer tök',
      'Bearer a"b',
      `Basic ${token}`,
      `Token ${token}`,
      token,
      `Bearer ${token}\n`,
    ]) {
      expect(parseBearerAuthorization(value), JSON.stringify(value)).toBeUndefined();
    }
  });

  it('usesBearerScheme sees the scheme whether or not the rest is well-formed', () => {
    expect(usesBearerScheme('Bearer x')).toBe(true);
    expect(usesBearerScheme('bearer  !!')).toBe(true);
    expect(usesBearerScheme('Bearer')).toBe(false);
    expect(usesBearerScheme('Basic x')).toBe(false);
    expect(usesBearerScheme(undefined)).toBe(false);
  });

  it('bearerToken (resource servers) keeps its contract on top of it: absent, malformed, token', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBe('');
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
  });
});

describe('anti-CSRF tokens', () => {
  it('are bound to the key and the login, and compared exactly', () => {
    const key = deriveCsrfKey('k'.repeat(32));
    const token = csrfTokenFor(key, 'login-a');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfTokenMatches(key, 'login-a', token)).toBe(true);
    expect(csrfTokenMatches(key, 'login-b', token)).toBe(false);
    expect(csrfTokenMatches(deriveCsrfKey('j'.repeat(32)), 'login-a', token)).toBe(false);
    expect(csrfTokenMatches(key, 'login-a', `${token}x`)).toBe(false);
    expect(csrfTokenMatches(key, 'login-a', undefined)).toBe(false);
    expect(csrfTokenMatches(key, 'login-a', [token])).toBe(false);
  });
});
