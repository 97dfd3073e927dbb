import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/**
 * One line per answered request, instead of fastify's two ("incoming request" and "request
 * completed"): half the log volume, and the line says who asked. An authenticated request
 * carries its user and login ids (never a credential: a session id alone opens nothing, and
 * is what the device list and the audit log show). Headers are never logged; the redact paths
 * in app.ts stay as a second line of defence. Fastify's other internal lines (stream errors,
 * requests while closing) keep their defaults.
 */
/**
 * The pages mailed links open carry a single-use token in their query string: these paths are
 * logged without it, and any `token=` parameter elsewhere is masked too.
 */
const TOKEN_PAGES = /^\/auth\/(?:verify-email|reset-password|confirm-email|undo-email-change|not-me)\?/;
export function loggableUrl(url: string): string {
  if (!url.includes('token=')) return url;
  if (TOKEN_PAGES.test(url)) return url.slice(0, url.indexOf('?'));
  return url.replace(/([?&](?:[^=&]*_)?token=)[^&#]*/gi, '$1[redacted]');
}

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
