import type { z } from 'zod';

/**
 * What a route tells the OpenAPI document (GET /openapi.json), declared on the route itself in
 * its `config.api`, next to the policy (route-policy.ts), from the very zod schemas the handler
 * parses with (parseInput) and the ones its answers are built to:
 *
 *   const loginBody = z.strictObject({ email, password });
 *   app.post('/auth/login', { config: { api: { summary: 'Log in', body: loginBody,
 *     responses: { 200: loginAnswer } } } }, handler)
 *
 * A route that answers no JSON (an HTML page, a script, Prometheus text) says so with
 * `{ hidden: 'why' }`. test/http/openapi.test.ts fails naming any route that declares neither,
 * and with OPENAPI_RESPONSE_CHECK (vitest.config.ts) every JSON answer of the test suite is
 * validated against the document (test/openapi-check.ts).
 */
export interface ApiDescription {
  summary: string;
  /** Groups in the document; by default the path's first segment (auth, admin, oauth, …). */
  tags?: string[];
  /** The JSON body, as parseInput reads it (or form fields, with `form: true`). */
  body?: z.ZodType;
  /** The body is application/x-www-form-urlencoded (the OAuth endpoints), not JSON. */
  form?: boolean;
  query?: z.ZodType;
  params?: z.ZodType;
  /**
   * Each answer by status: a zod schema of its JSON body, or null for no body (204, a redirect).
   * Error answers need not be listed: every route may answer the error shape (`errors`).
   */
  responses: Record<number, z.ZodType | null>;
  /** The error body: Tessera's {error, message} (default), or OAuth's {error, error_description}. */
  errors?: 'tessera' | 'oauth';
}

/** A route outside the document, and why (it answers HTML, a script, CSS, Prometheus text). */
export interface HiddenRoute {
  hidden: string;
}

export type RouteApi = ApiDescription | HiddenRoute;

export const isHidden = (api: RouteApi): api is HiddenRoute => 'hidden' in api;

/** A route's options when its description is all it declares: `app.get(path, described(api), handler)`. */
export const described = (api: RouteApi) => ({ config: { api } });
