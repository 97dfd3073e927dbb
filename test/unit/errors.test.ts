import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ERROR_CODES,
  errorBody,
  isErrorCode,
  OAUTH_ERROR_CODES,
  oauthErrorBody,
} from '../../src/core/errors.js';
import { JwtError } from '../../src/core/jwt/errors.js';
import { OAuthError } from '../../src/core/oauth/errors.js';

/** The `| \`code\` | status | when |` rows of README.md's "Error codes" section. */
function readmeErrorCodes(): Map<string, number> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n### Error codes\n');
  expect(start, 'README.md has an "### Error codes" section').toBeGreaterThan(0);
  const end = readme.slice(start + 1).search(/\n##+ /);
  const section = readme.slice(start, end < 0 ? undefined : start + 1 + end);
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)) {
    expect(rows.has(match[1] as string), `${match[1]} is listed once`).toBe(false);
    rows.set(match[1] as string, Number(match[2]));
  }
  return rows;
}

describe('the error-code registry', () => {
  it('README lists every code of the registry with its status, and no other', () => {
    const documented = readmeErrorCodes();
    const registered = new Map(Object.entries(ERROR_CODES).map(([code, spec]) => [code, spec.status]));
    expect([...registered.keys()].filter((code) => !documented.has(code))).toEqual([]);
    expect([...documented.keys()].filter((code) => !registered.has(code))).toEqual([]);
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(registered));
  });

  it('every code is snake_case with a client-error or server-unavailable status and a sentence', () => {
    for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect([400, 401, 403, 404, 409, 413, 414, 415, 429, 500, 503]).toContain(status);
      expect(message).toMatch(/^[A-Z].*[.)]$/);
    }
  });

  it('an AuthError takes its status and default message from the registry', () => {
    const error = new AuthError('csrf_token_invalid');
    expect([error.status, error.message]).toEqual([403, ERROR_CODES.csrf_token_invalid.message]);
    const precise = new AuthError('user_not_found', 'There is no user with this id.');
    expect([precise.status, precise.message]).toEqual([404, 'There is no user with this id.']);
    expect(new JwtError('token_expired', 'The token has expired.').status).toBe(401);
    expect(new OAuthError('invalid_client', 'No.').status).toBe(401);
    expect(new OAuthError('invalid_grant', 'No.').status).toBe(400);
  });

  it('the two serializers: {error, message} and OAuth’s {error, error_description}', () => {
    expect(errorBody('not_found')).toEqual({ error: 'not_found', message: 'There is no such route.' });
    expect(errorBody('rate_limited', 'Wait.')).toEqual({ error: 'rate_limited', message: 'Wait.' });
    expect(oauthErrorBody('invalid_grant', 'Used.')).toEqual({
      error: 'invalid_grant',
      error_description: 'Used.',
    });
    expect(Object.keys(oauthErrorBody('server_error'))).toEqual(['error', 'error_description']);
  });

  it('OAuth codes are registry codes; isErrorCode knows exactly the registry', () => {
    for (const code of OAUTH_ERROR_CODES) expect(isErrorCode(code)).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('no_such_code')).toBe(false);
    expect(isErrorCode(401)).toBe(false);
    // A typo is a compile error (tsc checks this file), not a new code on the wire.
    // @ts-expect-error 'unauthorised' is not in the registry
    const typo = () => new AuthError('unauthorised');
    expect(typo).toThrow(TypeError);
  });
});
