import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isHidden } from '../../src/http/api/route-api.js';
import { startTessera, type TestServer, tempDir } from '../helpers.js';
import { OPENAPI_CHECK_ENV, OPENAPI_MISMATCH_FILE_ENV } from '../openapi-check.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

async function start(mode: string, env: Record<string, string> = {}) {
  const server = await startTessera({ env: { TESSERA_MODE: mode, ...env } });
  servers.push(server);
  return server;
}

interface Operation {
  requestBody?: { required: boolean; content: Record<string, { schema: Record<string, unknown> }> };
  parameters?: { name: string; in: string; required: boolean }[];
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe.each(['session', 'jwt', 'hybrid'])('GET /openapi.json in %s mode', (mode) => {
  it('is a valid OpenAPI 3.1 document, public and cacheable', async () => {
    const { app } = await start(mode);
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    const document = response.json() as Document;
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route the app registered; a route that declares nothing is named here', async () => {
    const { app } = await start(mode);
    await app.ready();
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
    const routes = app.apiRoutes.filter((r) => r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(40);
    const undeclared = routes.filter((r) => r.api === undefined).map((r) => `${r.method} ${r.url}`);
    expect(undeclared, 'routes without config.api (src/http/api/route-api.ts)').toEqual([]);
    const missing = routes
      .filter((r) => r.api && !isHidden(r.api))
      .filter((r) => !document.paths[r.url.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()])
      .map((r) => `${r.method} ${r.url}`);
    expect(missing).toEqual([]);
    // And nothing in it that the app does not serve.
    const served = new Set(
      routes.map((r) => `${r.method.toLowerCase()} ${r.url.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.filter((op) => !served.has(op))).toEqual([]);
    // Only pages, scripts, the CORS preflight and Prometheus text are left out, each saying why;
    // nothing under the JSON APIs.
    for (const route of routes) {
      if (!route.api || !isHidden(route.api)) continue;
      expect(route.api.hidden.length, route.url).toBeGreaterThan(5);
      expect(route.url).not.toMatch(/^\/(admin\/api\/|auth\/(session|login|refresh|sessions|api-keys)$)/);
    }
  });
});

describe('the document comes from the schemas the routes parse with', () => {
  it('request bodies, queries and path parameters carry the validation rules', async () => {
    const { app } = await start('jwt');
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
    const login = document.paths['/auth/login']?.post;
    const body = login?.requestBody?.content['application/json']?.schema as {
      properties: Record<string, { enum?: string[]; maxLength?: number }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(login?.requestBody?.required).toBe(true);
    expect(body.additionalProperties).toBe(false);
    expect(body.required.sort()).toEqual(['email', 'password']);
    expect(body.properties.transport?.enum).toEqual(['cookie', 'bearer']);
    expect(body.properties.email?.maxLength).toBe(320);
    // An optional body (refresh: the cookie may carry the token) is not required.
    expect(document.paths['/auth/refresh']?.post?.requestBody?.required).toBe(false);
    const users = document.paths['/admin/api/users']?.get?.parameters ?? [];
    expect(users.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      'query:q:false',
      'query:limit:false',
      'query:cursor:false',
    ]);
    const lock = document.paths['/admin/api/users/{id}/lock']?.post;
    expect(lock?.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    // Answers: the declared shape, and the error shape for everything else.
    const errorSchema = lock?.responses.default?.content?.['application/json']?.schema;
    expect(errorSchema).toMatchObject({ required: ['error', 'message'], additionalProperties: false });
    const token = document.paths['/oauth/token']?.post;
    expect(Object.keys(token?.requestBody?.content ?? {})).toEqual(['application/x-www-form-urlencoded']);
    expect(token?.responses.default?.content?.['application/json']?.schema).toMatchObject({
      required: ['error'],
    });
  });
});

describe('answers are checked against the document (OPENAPI_RESPONSE_CHECK)', () => {
  it('is on for the whole suite', () => {
    expect(process.env[OPENAPI_CHECK_ENV]).toBe('1');
    expect(process.env[OPENAPI_MISMATCH_FILE_ENV]).toBeTruthy();
  });

  it('an answer that drifts from its declared shape becomes a 500 and is recorded', async () => {
    const { app } = await start('session');
    const file = join(tempDir(), 'mismatches.txt');
    const api = { summary: 'drift', responses: { 200: z.strictObject({ count: z.number() }) } };
    app.get('/drift', { config: { api } }, async () => ({ count: 'three' }));
    app.get('/undeclared', async () => ({ ok: true }));
    app.get('/fine', { config: { api } }, async () => ({ count: 3 }));
    const saved = process.env[OPENAPI_MISMATCH_FILE_ENV];
    process.env[OPENAPI_MISMATCH_FILE_ENV] = file;
    try {
      expect((await app.inject({ method: 'GET', url: '/fine' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/drift' })).statusCode).toBe(500);
      expect((await app.inject({ method: 'GET', url: '/undeclared' })).statusCode).toBe(500);
    } finally {
      process.env[OPENAPI_MISMATCH_FILE_ENV] = saved;
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines, lines.join('\n')).toHaveLength(2);
    expect(lines[0]).toMatch(/^GET \/drift → 200: .*must be number/);
    expect(lines[1]).toMatch(/^GET \/undeclared → 200: the route declares no config\.api/);
  });
});
