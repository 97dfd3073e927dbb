import type { FastifyError, FastifyInstance } from 'fastify';
import { AuthError, type ErrorCode, errorBody } from '../core/errors.js';
import { silentTelemetry, type Telemetry } from '../core/telemetry.js';
import type { RouteSeries } from '../metrics/request-durations.js';
import { isStoreUnavailable, StorageError, storageProblem } from '../store/errors.js';

/** Fastify's own 4xx errors, mapped to Tessera's stable codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

/**
 * Every error leaves as `{error, message}`: AuthErrors as they are, framework 4xx with a
 * stable code, anything else as a 500 whose details go to the log, never to the client.
 */
export function registerErrorHandling(
  app: FastifyInstance,
  /** 503s and store errors are counted (metrics); `unmatched`: the 404s of unknown paths' timings. */
  telemetry: Telemetry = silentTelemetry,
  unmatched?: RouteSeries,
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AuthError) {
      // A 503 AuthError (`busy`: the password-hashing queue is full) is a moment's overload.
      if (error.status === 503) {
        reply.header('retry-after', '1');
        telemetry.unavailable(error.code);
        if (error.code === 'store_unavailable') telemetry.storeError('unavailable');
      }
      // The second-factor attempt limit (core/mfa/attempts.ts) says how long the account waits.
      const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      // RFC 9470: a fresh or stronger proof is needed; the client steps up and retries.
      if (error.code === 'step_up_required') reply.header('www-authenticate', stepUpChallenge(error));
      return reply.code(error.status).send(errorBody(error.code, error.message));
    }
    // The disk under the database is full, read-only or failing: an operator must act, so it
    // logs at error level, but the client is told the truth (nothing saved, retry later).
    const problem = storageProblem(error);
    if (problem) {
      request.log.error({ err: error }, 'database storage failed');
      telemetry.storeError(problem);
      telemetry.unavailable(problem);
      reply.header('retry-after', '5');
      return reply.code(503).send({ error: problem, message: new StorageError(problem).publicMessage });
    }
    // The database or Redis is down or went away mid-request: retry later, not a bug (a 500).
    // Nothing was accepted: whatever needed the missing state was refused with it.
    if (isStoreUnavailable(error)) {
      request.log.warn({ err: error }, 'store unavailable');
      telemetry.storeError('unavailable');
      telemetry.unavailable('store_unavailable');
      reply.header('retry-after', '1');
      return reply.code(503).send(errorBody('store_unavailable'));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        FASTIFY_CODES[error.code] ?? (error instanceof SyntaxError ? 'malformed_json' : 'bad_request');
      // The framework's own status (bad_request may be any 4xx), the registry's message.
      return reply.code(status).send(errorBody(code));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody('internal_error'));
  });

  app.setNotFoundHandler((_request, reply) => {
    unmatched?.record(404, reply.elapsedTime);
    return reply.code(404).send(errorBody('not_found'));
  });
}

/** RFC 9470 3: `max_age` (seconds) when the refusal was about freshness. */
export function stepUpChallenge(error: AuthError): string {
  const maxAge = (error as { maxAgeSeconds?: unknown }).maxAgeSeconds;
  const age = typeof maxAge === 'number' ? `, max_age=${maxAge}` : '';
  return `Bearer error="insufficient_user_authentication", error_description="A fresh proof is needed: POST /auth/reauthenticate"${age}`;
}
