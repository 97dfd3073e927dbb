import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRemoteJWKSet } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerTokenError, verifyAccessToken } from '../../src/resource-server.js';
import { PASSWORD, tempDir } from '../helpers.js';
import {
  API,
  adminSignIn,
  type Browser,
  codeFlow,
  insecure,
  introspectWith,
  jsonRequest,
  type OAuthServer,
  REDIRECT_URI,
  type RegisteredClient,
  registerResourceServer,
  signIn,
  startOAuthServer,
} from './harness.js';

/** Managing third-party access: API keys, clients through the admin API and the CLI, scopes. */
let server: OAuthServer;
let jwks: ReturnType<typeof createRemoteJWKSet>;
beforeAll(async () => {
  server = await startOAuthServer();
  jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
});
afterAll(() => server.close());

const resourceServer = () => registerResourceServer(server);
const introspect = (rs: RegisteredClient, token: string) => introspectWith(server, rs, token);
const json = (browser: Browser, method: string, path: string, body?: unknown) =>
  jsonRequest(server, browser, method, path, body);

describe('API keys', () => {
  it('are shown once, stored hashed, scoped, checked by the resource-server helper, and revocable by user and admin', async () => {
    const browser = await signIn(server);
    const rs = await resourceServer();
    const created = await json(browser, 'POST', '/auth/api-keys', {
      name: 'nightly export',
      scopes: ['accounts:read'],
      expiresIn: '30d',
      password: PASSWORD,
    });
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as {
      key: string;
      apiKey: { id: string; expiresAt: string };
    };
    expect(key).toMatch(/^tsr_[\w-]{22}\.[\w-]{43}$/);
    expect(Date.parse(apiKey.expiresAt) - server.clock.now()).toBe(30 * 86_400_000);
    const stored = await server.tessera.stores.apiKeys.findApiKey(apiKey.id);
    expect(JSON.stringify(stored)).not.toContain(key.split('.')[1]);
    const listed = await (await json(browser, 'GET', '/auth/api-keys')).text();
    expect(listed).toContain('nightly export');
    expect(listed).not.toContain(key.slice(4));

    const options = {
      issuer: server.url,
      audience: API,
      jwks,
      introspection: {
        endpoint: server.as.introspection_endpoint as string,
        clientId: rs.client.client_id,
        clientSecret: rs.secret as string,
      },
    };
    expect(await verifyAccessToken(key, { ...options, scopes: ['accounts:read'] })).toMatchObject({
      kind: 'api_key',
      userId: browser.userId,
      scopes: ['accounts:read'],
    });
    await expect(verifyAccessToken(key, { ...options, scopes: ['accounts:write'] })).rejects.toMatchObject({
      status: 403,
      error: 'insufficient_scope',
    });
    expect((await json(browser, 'DELETE', `/auth/api-keys/${apiKey.id}`)).status).toBe(204);
    await expect(verifyAccessToken(key, options)).rejects.toMatchObject({
      status: 401,
      error: 'invalid_token',
    });
    expect((await json(browser, 'DELETE', `/auth/api-keys/${apiKey.id}`)).status).toBe(404);

    // The admin sees every key (never a secret) and can revoke one.
    // An admin: enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
    const admin = await adminSignIn(server);
    server.clock.advance(1_000);
    const second = (await (
      await json(browser, 'POST', '/auth/api-keys', { name: 'ci', scopes: ['profile'], password: PASSWORD })
    ).json()) as {
      key: string;
      apiKey: { id: string };
    };
    const all = await (
      await json(admin, 'GET', `/admin/api/api-keys?user=${encodeURIComponent(browser.email)}`)
    ).json();
    expect(all).toMatchObject({
      apiKeys: [
        { id: second.apiKey.id, status: 'active' },
        { id: apiKey.id, status: 'revoked' },
      ],
    });
    expect((await json(admin, 'DELETE', `/admin/api/api-keys/${second.apiKey.id}`)).status).toBe(204);
    await expect(verifyAccessToken(second.key, options)).rejects.toBeInstanceOf(BearerTokenError);
  });
});

describe('admin: clients', () => {
  it('creates a client (secret shown once), lists it without secrets, deletes it with all its tokens', async () => {
    // An admin: enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
    const admin = await adminSignIn(server);
    const created = await json(admin, 'POST', '/admin/api/clients', {
      name: 'Ledger',
      type: 'confidential',
      redirectUris: ['https://ledger.example/cb'],
      scopes: ['accounts:read'],
      audience: API,
    });
    expect(created.status).toBe(201);
    const { client, clientSecret } = (await created.json()) as {
      client: { id: string };
      clientSecret: string;
    };
    expect(clientSecret).toMatch(/^[\w-]{43}$/);
    const listed = await (await json(admin, 'GET', '/admin/api/clients')).text();
    expect(listed).toContain('Ledger');
    expect(listed).not.toContain(clientSecret);

    const rc = {
      client: { client_id: client.id },
      auth: oauth.ClientSecretPost(clientSecret),
      secret: clientSecret,
      redirectUri: 'https://ledger.example/cb',
    };
    const rs = await resourceServer();
    const browser = await signIn(server);
    const tokens = await codeFlow(server, browser, rc);
    expect((await json(admin, 'DELETE', `/admin/api/clients/${client.id}`)).status).toBe(204);
    expect(await introspect(rs, tokens.access_token)).toEqual({ active: false });
    const gone = await oauth.refreshTokenGrantRequest(
      server.as,
      rc.client,
      rc.auth,
      tokens.refresh_token as string,
      insecure,
    );
    expect(gone.status).toBe(401);

    const refusedBody = {
      name: 'X',
      type: 'public',
      redirectUris: ['http://evil.example/cb'],
      scopes: ['profile'],
      audience: API,
    };
    expect((await json(admin, 'POST', '/admin/api/clients', refusedBody)).status).toBe(400);
    expect(
      (
        await json(admin, 'POST', '/admin/api/clients', {
          ...refusedBody,
          redirectUris: ['https://a.example/cb'],
          audience: 'tessera',
        })
      ).status,
    ).toBe(400);
    expect((await json(browser, 'GET', '/admin/api/clients')).status).toBe(403);
  });
  // Every answer here is also checked against /openapi.json (OPENAPI_RESPONSE_CHECK): the OIDC
  // fields of a client and the back-channel logout list are declared, exactly.
  it('registers a relying party with its OpenID settings, shows them, and lists its back-channel logouts', async () => {
    const admin = await adminSignIn(server);
    const created = await json(admin, 'POST', '/admin/api/clients', {
      name: 'Ledger RP',
      type: 'confidential',
      redirectUris: ['https://rp.example/cb'],
      scopes: ['openid'],
      audience: API,
      subjectType: 'pairwise',
      postLogoutRedirectUris: ['https://rp.example/bye'],
      backchannelLogoutUri: 'https://rp.example/backchannel',
      backchannelLogoutSessionRequired: true,
    });
    expect(created.status).toBe(201);
    const { client } = (await created.json()) as { client: Record<string, unknown> & { id: string } };
    const oidc = {
      subjectType: 'pairwise',
      idTokenSignedResponseAlg: 'EdDSA',
      postLogoutRedirectUris: ['https://rp.example/bye'],
      backchannelLogoutUri: 'https://rp.example/backchannel',
      backchannelLogoutSessionRequired: true,
    };
    expect(client).toMatchObject(oidc);
    const { clients } = (await (await json(admin, 'GET', '/admin/api/clients')).json()) as {
      clients: Array<Record<string, unknown>>;
    };
    expect(clients.find((c) => c.id === client.id)).toMatchObject(oidc);
    // A client that may not ask for openid has none of them.
    expect(clients.find((c) => !(c.scopes as string[]).includes('openid'))).not.toHaveProperty('subjectType');

    const logouts = await json(admin, 'GET', `/admin/api/clients/${client.id}/backchannel-logouts`);
    expect(logouts.status).toBe(200);
    expect(await logouts.json()).toEqual({ deliveries: [] });
    const missing = await json(admin, 'GET', '/admin/api/clients/nope/backchannel-logouts');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    expect((await json(admin, 'DELETE', `/admin/api/clients/${client.id}`)).status).toBe(204);
  });
});

describe('tessera clients (CLI)', () => {
  it('creates (secret printed once), lists (no secret) and deletes clients', async () => {
    const cli = resolve('dist/cli/main.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
    const dir = tempDir();
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_'))),
      TESSERA_DATABASE_URL: `sqlite://${join(dir, 'cli.db')}`,
    };
    // Only serve and migrate create a database; clients commands refuse a missing one.
    expect(spawnSync(process.execPath, [cli, 'migrate'], { env, cwd: dir }).status).toBe(0);
    const run = (...args: string[]) => {
      const result = spawnSync(process.execPath, [cli, 'clients', ...args], {
        env,
        cwd: dir,
        encoding: 'utf8',
      });
      return { code: result.status, out: result.stdout, err: result.stderr };
    };
    const created = run(
      'create',
      '--name',
      'Budget',
      '--redirect-uri',
      REDIRECT_URI,
      '--scope',
      'accounts:read',
      '--audience',
      API,
    );
    expect(created.code, created.err).toBe(0);
    const id = /client_id=(\S+)/.exec(created.out)?.[1] as string;
    const secret = /client_secret=(\S+)/.exec(created.out)?.[1] as string;
    expect(secret).toMatch(/^[\w-]{43}$/);
    const listed = run('list');
    expect(listed.out).toContain(`${id}\tBudget\tconfidential`);
    expect(listed.out).not.toContain(secret);
    const refused = run(
      'create',
      '--name',
      'X',
      '--type',
      'public',
      '--redirect-uri',
      'http://evil.example/cb',
      '--scope',
      'profile',
      '--audience',
      API,
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('plain http is allowed for loopback addresses only');
    // An OpenID Connect relying party: its settings checked like redirect URIs, then listed.
    const rpArgs = [
      'create',
      '--name',
      'Ledger Lens',
      '--redirect-uri',
      REDIRECT_URI,
      '--scope',
      'openid',
      'email',
    ];
    const badLogout = run(...rpArgs, '--audience', API, '--backchannel-logout-uri', 'http://rp.example/bc');
    expect(badLogout.code).toBe(1);
    expect(badLogout.err).toContain('Back-channel logout URI');
    const rp = run(
      ...rpArgs,
      '--audience',
      API,
      '--subject-type',
      'pairwise',
      '--post-logout-redirect-uri',
      'https://app.example/bye',
      '--backchannel-logout-uri',
      'https://app.example/backchannel-logout',
    );
    expect(rp.code, rp.err).toBe(0);
    expect(run('list').out).toContain(
      'subject_type=pairwise\tbackchannel_logout_uri=https://app.example/backchannel-logout\tpost_logout_redirect_uris=[https://app.example/bye]',
    );
    expect(run('delete', id).code).toBe(0);
    expect(run('list').out).not.toContain(id);
    expect(run('delete', id).code).toBe(1);
  });
});

describe('TESSERA_OAUTH_SCOPES', () => {
  it('declares scopes with descriptions; a bad value stops the start naming the variable', async () => {
    const { loadConfig, ConfigError, DEFAULT_OAUTH_SCOPES } = await import('../../src/config.js');
    expect(loadConfig({}).oauth.scopes).toEqual(DEFAULT_OAUTH_SCOPES);
    const custom = loadConfig({ TESSERA_OAUTH_SCOPES: '{"claims:read":"See your claims"}' });
    expect(custom.oauth.scopes).toEqual({ 'claims:read': 'See your claims' });
    for (const bad of ['not json', '{}', '{"Bad Name":"x"}', '{"ok":""}', '["a"]']) {
      expect(() => loadConfig({ TESSERA_OAUTH_SCOPES: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ TESSERA_OAUTH_SCOPES: bad })).toThrow(/^TESSERA_OAUTH_SCOPES /);
    }
  });
});
