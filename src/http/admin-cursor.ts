import { z } from 'zod';
import { text } from './validation.js';

/**
 * The admin API's keyset cursors: opaque to clients (base64url of a small JSON key), checked
 * on the way back in. A cursor is a position, not a secret: it names the last row of a page
 * (a time and an id, or a canonical email), which the caller could already see.
 */
export const encodeCursor = (key: unknown): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/** A query-string cursor field decoding to `shape`; anything else fails validation (400 invalid_request). */
export const cursorField = <T extends z.ZodType>(shape: T) =>
  text(1000)
    .transform((value, context) => {
      try {
        return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'not a cursor this API gave out' });
        return z.NEVER;
      }
    })
    .pipe(shape);

/** Page sizes: 50 unless asked, at most 200. */
export const pageLimit = z.coerce.number().int().min(1).max(200).default(50);

/** A (time, id) position: sessions by createdAt, audit events by at. */
export const timeIdKey = z.strictObject({ t: z.number().int().min(0), id: z.string().min(1).max(64) });
export const emailKeyPosition = z.strictObject({ k: z.string().min(1).max(400) });
