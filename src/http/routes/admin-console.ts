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

/** The console's files: the stylesheet and its ES modules (console.js imports the others). */
const ASSETS = [
  'console.css',
  'console.js',
  'api.js',
  'ui.js',
  'dialogs.js',
  'people.js',
  'audit.js',
  'webhooks.js',
];

/** Pages and files are not JSON: outside GET /openapi.json (api/route-api.ts). */
const hidden = (why: string) => ({ config: { api: { hidden: why } } });
const consoleFile = hidden('a console file (script, CSS)');

export function adminConsoleRoutes() {
  const files = ASSETS.map((name) => ({
    name,
    body: asset(name),
    type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
  }));
  return async (app: FastifyInstance) => {
    // The strict page CSP (this origin's script and styles only, nothing inline, never framed).
    app.get('/admin', hidden('the console page (HTML)'), async (_request, reply) =>
      sendHtml(reply, ADMIN_PAGE),
    );
    for (const file of files) {
      app.get(`/admin/${file.name}`, consoleFile, async (_request, reply) =>
        reply.type(file.type).send(file.body),
      );
    }
  };
}
