import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/adapters/fastify.js';
import { newEmail, PASSWORD, post } from '../helpers.js';
import { API, type OAuthServer, registerResourceServer, startOAuthServer } from '../oauth/harness.js';

/** An app as an OAuth resource server: API keys and delegated tokens through the same requireAuth. */
describe('third-party credentials in the app middleware', () => {
  let server: OAuthServer;
  let apiKey: string;
  let app: FastifyInstance;
  let close: () => Promise<void>;

  beforeAll(async () => {
    server = await startOAuthServer();
    const rs = await registerResourceServer(server);
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = (
      await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const created = await server.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: { authorization: `Bearer ${login.token}` },
      payload: { name: 'nightly export', scopes: ['accounts:read'], expiresIn: '30d', password: PASSWORD },
    });
    expect(created.statusCode, created.body).toBe(201);
    apiKey = created.json().key;

    const auth = createAuth({
      mode: 'session',
      tesseraUrl: server.url,
      issuer: server.url,
      delegated: {
        audience: API,
        introspection: {
          endpoint: `${server.url}/oauth/introspect`,
          clientId: rs.client.client_id,
          clientSecret: rs.secret as string,
        },
      },
    });
    close = auth.close;
    app = Fastify();
    app.get(
      '/accounts',
      { preHandler: auth.requireAuth({ scopes: ['accounts:read'] }) },
      async (request) => ({
        scopes: request.principal.scopes,
      }),
    );
    app.post('/accounts', { preHandler: auth.requireAuth({ scopes: ['accounts:write'] }) }, async () => ({
      ok: true,
    }));
  });
  afterAll(async () => {
    await app?.close();
    await close?.();
    await server?.close();
  });

  it('accepts an API key for its scopes and refuses a write it was not granted (403 insufficient_scope)', async () => {
    const headers = { authorization: `Bearer ${apiKey}` };
    const read = await app.inject({ method: 'GET', url: '/accounts', headers });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toEqual({ scopes: ['accounts:read'] });
    const write = await app.inject({ method: 'POST', url: '/accounts', headers });
    expect(write.statusCode).toBe(403);
    expect(write.headers['www-authenticate']).toContain('insufficient_scope');
  });

  it('refuses a forged API key with 401 invalid_token', async () => {
    const forged = `${apiKey.slice(0, -4)}AAAA`;
    const response = await app.inject({
      method: 'GET',
      url: '/accounts',
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toContain('invalid_token');
  });
});
