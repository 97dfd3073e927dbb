import type { z } from 'zod';
import { AuthError } from '../core/errors.js';

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
  throw new AuthError('invalid_request', 400, `The request is invalid (${detail}).`);
}
