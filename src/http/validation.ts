import { z } from 'zod';
import { AuthError } from '../core/errors.js';

/**
 * A string field of at most `max` UTF-16 units that is well-formed Unicode. A lone surrogate
 * would be replaced by U+FFFD on its way to argon2 or the database, so two different inputs
 * would become the same password or email: refuse it here instead.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !/\p{Cs}/u.test(value), { message: 'must be valid Unicode text' });

/** Parses a request part with a zod schema; failures are 400 `invalid_request` naming the field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'body';
  const detail =
    issue?.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
      : `${field}: ${issue?.message ?? 'invalid'}`;
  throw new AuthError('invalid_request', `The request is invalid (${detail}).`);
}
