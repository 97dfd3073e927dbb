import { readFileSync } from 'node:fs';
import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { Tessera } from '../../tessera.js';
import { openApiDocument, type RegisteredRoute } from './openapi.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, with its `config.api` (openapi-route.ts): the document's source, and the tests'. */
    apiRoutes: readonly RegisteredRoute[];
  }
}

const documentAnswer = z.looseObject({
  openapi: z.literal('3.1.0'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/**
 * Collects every route as it is added (onRoute) with its `config.api` (api/route-api.ts):
 * registered before any route, so routes added by any plugin later are in the document too.
 */
export function openApiPlugin() {
  return fp(
    async (app: FastifyInstance) => {
      const routes: RegisteredRoute[] = [];
      app.decorate('apiRoutes', routes);
      app.addHook('onRoute', (route: RouteOptions) => {
        for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
          routes.push({ method, url: route.url, api: route.config?.api });
        }
      });
    },
    { name: 'tessera-openapi' },
  );
}

/**
 * GET /openapi.json: the OpenAPI 3.1 document of every route, built once (on first request,
 * when every route is registered). Public, like the JWKS: it describes the API, never data.
 */
export function openApiRoute(tessera: Tessera) {
  return async (app: FastifyInstance) => {
    let document: string | undefined;
    const api = {
      summary: 'This document (OpenAPI 3.1)',
      tags: ['discovery'],
      responses: { 200: documentAnswer },
    };
    app.get('/openapi.json', { config: { api } }, async (_request, reply) => {
      document ??= JSON.stringify(
        openApiDocument(app.apiRoutes, { version, issuer: tessera.config.jwt.issuer }),
      );
      reply.header('cache-control', 'public, max-age=300');
      return reply.type('application/json; charset=utf-8').send(document);
    });
  };
}
