import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ADMIN_PAGE } from '../../admin/page.js';
import { sendHtml } from '../plugins/security-headers.js';

/**
 * The admin console: one HTML page plus its script and stylesheet, files served as they are
 * (no build step). The page reaches the admin API like any cookie client, with the CSRF header.
 * Copied next to the compiled code by `npm run build`, so the same relative path works from
 * src/ (tests) and dist/ (npm start).
 */
const asset = (name: string) => readFileSync(new URL(`../../admin/assets/${name}`, import.meta.url), 'utf8');

export function adminConsoleRoutes() {
  const script = asset('console.js');
  const styles = asset('console.css');
  return async (app: FastifyInstance) => {
    // The strict page CSP (this origin's script and styles only, nothing inline, never framed).
    app.get('/admin', async (_request, reply) => sendHtml(reply, ADMIN_PAGE));
    app.get('/admin/console.js', async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').send(script),
    );
    app.get('/admin/console.css', async (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(styles),
    );
  };
}
