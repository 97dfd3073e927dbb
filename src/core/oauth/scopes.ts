import { OAuthError } from './errors.js';

/**
 * Scopes (RFC 6749 3.3): a space-delimited list in requests and tokens, a set everywhere else.
 * Only scopes declared in TESSERA_OAUTH_SCOPES exist; a client or an API key gets a subset.
 */
const MAX_SCOPE_LENGTH = 2_000;

/** The scopes of a `scope` parameter, de-duplicated in order; invalid_scope for anything odd. */
export function parseScope(text: string, declared: Readonly<Record<string, string>>): string[] {
  if (text.length > MAX_SCOPE_LENGTH) throw new OAuthError('invalid_scope', 'The scope is too long.');
  const scopes = [...new Set(text.split(' ').filter((s) => s.length > 0))];
  if (scopes.length === 0) throw new OAuthError('invalid_scope', 'Ask for at least one scope.');
  const unknown = scopes.find((s) => !Object.hasOwn(declared, s));
  if (unknown !== undefined) {
    throw new OAuthError('invalid_scope', `There is no scope named ${JSON.stringify(unknown.slice(0, 64))}.`);
  }
  return scopes;
}

export const formatScope = (scopes: readonly string[]) => scopes.join(' ');

/** Whether every scope in `wanted` is in `allowed`. */
export const isSubset = (wanted: readonly string[], allowed: readonly string[]) =>
  wanted.every((s) => allowed.includes(s));

/** Scopes in words, for the consent page and the grants list. */
export const describeScopes = (scopes: readonly string[], declared: Readonly<Record<string, string>>) =>
  scopes.map((name) => ({ name, description: declared[name] ?? name }));
