import type { FastifyInstance } from 'fastify';

/**
 * One line per answered request, instead of fastify's two ("incoming request" and "request
 * completed"): half the log volume, and the line says who asked. An authenticated request
 * carries its user and login ids (never a credential: a session id alone opens nothing, and
 * is what the device list and the audit log show). Headers are never logged; the redact paths
 * in app.ts stay as a second line of defence.
 */
export function registerAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const auth = request.auth;
    request.log.info(
      {
        // Flat fields: the `req`/`res` keys would go through fastify's serializers again.
        method: request.method,
        url: request.url,
        ip: request.ip,
        statusCode: reply.statusCode,
        responseTime: reply.elapsedTime,
        ...(auth && { userId: auth.userId, sessionId: auth.sessionId }),
      },
      'request',
    );
    done();
  });
}
