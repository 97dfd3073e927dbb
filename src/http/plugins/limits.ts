import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AuthError } from '../../core/errors.js';

/**
 * Size limits beyond the 16 KiB body cap (app.ts).
 *
 * Headers: 16 KiB for the request line and all headers together, set explicitly so a Node
 * upgrade cannot change it. Tessera's own cookies take under 2 KiB; more is junk or an attack
 * on parsers. Node answers 431 and closes the connection before fastify sees the request.
 *
 * JSON depth: auth bodies are flat objects (the admin API nests one level more). A body of
 * 16 KiB can still nest 8,000 arrays deep, and recursive code downstream (validation, logging,
 * serialisation) would pay for it; refusing depth > 8 costs one linear scan of at most 16 KiB.
 */
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_JSON_DEPTH = 8;

/** True when `text` opens more than `max` nested objects/arrays (strings are skipped correctly). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** Replaces the JSON parser: depth check first, then fastify's own (prototype-poisoning safe) parser. */
export function jsonLimitsPlugin() {
  return fp(
    async (app: FastifyInstance) => {
      const parseJson = app.getDefaultJsonParser('error', 'error');
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) {
          done(
            new AuthError(
              'json_too_deep',
              `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`,
            ) as unknown as Error,
            undefined,
          );
          return;
        }
        parseJson(request, body as string, done);
      });
    },
    { name: 'tessera-json-limits' },
  );
}
