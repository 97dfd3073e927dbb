import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * Query parameters whose values the log keeps: ones that say what was asked and never carry a
 * secret or personal data. Every other parameter (OAuth `state`, `code`, `code_challenge`,
 * `redirect_uri`, an admin's `user=<email>` search, anything a client invents) is dropped,
 * name and value: a URL is the place credentials leak into logs by accident.
 */
const LOGGED_QUERY_PARAMETERS = new Set(['client_id', 'response_type', 'scope', 'limit', 'type']);

/** The path, and only the allowlisted query parameters. */
export function loggableUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const kept = new URLSearchParams();
  for (const [name, value] of new URLSearchParams(url.slice(mark + 1))) {
    if (LOGGED_QUERY_PARAMETERS.has(name)) kept.append(name, value);
  }
  const query = kept.toString();
  return query ? `${url.slice(0, mark)}?${query}` : url.slice(0, mark);
}

/**
 * One line per answered request, instead of fastify's two ("incoming request" and "request
 * completed"): half the log volume, and the line says who asked. An authenticated request
 * carries its user and login ids (never a credential: a session id alone opens nothing, and
 * is what the device list and the audit log show). Query strings keep only allowlisted
 * parameters (loggableUrl), so the single-use token of a mailed link (`/auth/reset-password?token=…`)
 * never reaches the log. Headers are never logged; the redact paths
 * in app.ts stay as a second line of defence. Fastify's other internal lines (stream errors,
 * requests while closing) keep their defaults.
 */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const auth = request.auth;
    // Flat fields: `req`/`res` keys would go through fastify's serializers again.
    const line = {
      method: request.method,
      url: loggableUrl(request.url),
      ip: request.ip,
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime,
      ...(auth && { userId: auth.userId, sessionId: auth.sessionId }),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request');
  }
}
