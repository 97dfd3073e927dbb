import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { fuzzRuns, newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';
import { startReceiver } from './receiver.js';

/** The admin API of webhooks (README "Webhooks and Shared Signals"), SET deliveries verified with jose. */
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function start(mode: 'session' | 'jwt' | 'hybrid' = 'session', env: Record<string, string> = {}) {
  const server = await startTessera({ runtime: systemRuntime, env: { TESSERA_MODE: mode, ...env } });
  open.push(server);
  return server;
}

async function bearer(server: TestServer, roles: string[] = []) {
  const email = newEmail();
  await server.tessera.accounts.register({ email, password: PASSWORD }, roles);
  // Admins sign in with a second factor (TESSERA_MFA_REQUIRED_ROLES): enrolled at login.
  const response = await loginWithSecondFactor(server.app, {
    email,
    password: PASSWORD,
    transport: 'bearer',
  });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return {
    userId: body.user.id as string,
    sessionId: body.session.id as string,
    headers: { authorization: `Bearer ${body.token ?? body.accessToken}` },
  };
}

const call = (
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  headers: object,
  payload?: object,
) => app.inject({ method, url, headers: headers as Record<string, string>, ...(payload && { payload }) });

describe('admin API: /admin/api/webhooks', () => {
  it('create (secret once), list with the latest delivery, deliveries, replay, delete', async () => {
    const server = await start();
    const admin = await bearer(server, ['admin']);
    const receiver = await startReceiver();
    open.push(receiver);
    const created = await call(server.app, 'POST', '/admin/api/webhooks', admin.headers, {
      url: receiver.url,
      events: ['user.locked', 'session.revoked'],
      format: 'standard',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { webhook, secret } = created.json();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhook).toMatchObject({
      url: receiver.url,
      events: ['user.locked', 'session.revoked'],
      format: 'standard',
    });
    receiver.state.secret = secret;

    const customer = await bearer(server);
    const locked = await call(server.app, 'POST', `/admin/api/users/${customer.userId}/lock`, admin.headers, {
      reason: 'card stolen',
    });
    expect(locked.statusCode, locked.body).toBe(200);
    await server.tessera.events.drain();
    await receiver.waitFor(2);
    const byType = Object.fromEntries(receiver.received.map((r) => [r.verified?.type, r.verified?.data]));
    expect(byType['user.locked']).toMatchObject({ userId: customer.userId, actorId: admin.userId });
    expect(byType['session.revoked']).toMatchObject({
      cause: 'locked',
      logins: [{ id: customer.sessionId, userId: customer.userId }],
    });

    const listed = await call(server.app, 'GET', '/admin/api/webhooks', admin.headers);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(secret);
    expect(listed.body).not.toContain('v1.');
    const [entry] = listed.json().webhooks;
    expect(entry).toMatchObject({
      id: webhook.id,
      lastDelivery: { status: 'delivered', lastStatus: 202 },
      lastFailure: null,
    });

    const deliveries = await call(
      server.app,
      'GET',
      `/admin/api/webhooks/${webhook.id}/deliveries?limit=1`,
      admin.headers,
    );
    expect(deliveries.statusCode).toBe(200);
    const page = deliveries.json();
    expect(page.deliveries).toHaveLength(1);
    const next = await call(
      server.app,
      'GET',
      `/admin/api/webhooks/${webhook.id}/deliveries?limit=1&cursor=${page.nextCursor}`,
      admin.headers,
    );
    expect(next.json().deliveries).toHaveLength(1);
    expect(next.json().deliveries[0].id).not.toBe(page.deliveries[0].id);

    // Replay: the same delivery (same webhook-id) once more.
    const replayed = page.deliveries[0].id;
    const retry = await call(
      server.app,
      'POST',
      `/admin/api/webhooks/${webhook.id}/deliveries/${replayed}/retry`,
      admin.headers,
    );
    expect(retry.statusCode, retry.body).toBe(202);
    await server.tessera.events.drain();
    await receiver.waitFor(3);
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === replayed)).toHaveLength(2);
    const audit = await server.tessera.audit.list({ type: 'webhook.replayed' });
    expect(audit[0]?.actorId).toBe(admin.userId);

    const gone = await call(server.app, 'DELETE', `/admin/api/webhooks/${webhook.id}`, admin.headers);
    expect(gone.statusCode).toBe(204);
    expect(
      (await call(server.app, 'DELETE', `/admin/api/webhooks/${webhook.id}`, admin.headers)).json().error,
    ).toBe('webhook_not_found');
    expect((await call(server.app, 'GET', '/admin/api/webhooks', admin.headers)).json().webhooks).toEqual([]);
  });

  it('bad input is a 4xx with a stable code; non-admins get 403', async () => {
    const server = await start();
    const admin = await bearer(server, ['admin']);
    const someone = await bearer(server);
    const create = (body: object, headers: object = admin.headers) =>
      call(server.app, 'POST', '/admin/api/webhooks', headers, body);
    const url = 'http://127.0.0.1:9/hook';
    expect((await create({ url, events: ['user.locked'] }, someone.headers)).statusCode).toBe(403);
    expect((await call(server.app, 'GET', '/admin/api/webhooks', {})).statusCode).toBe(401);
    for (const [body, code] of [
      [{ events: ['user.locked'] }, 'invalid_request'],
      [{ url, events: [] }, 'invalid_request'],
      [{ url, events: ['user.teleported'] }, 'invalid_request'],
      [{ url, events: ['login.failed'], format: 'set' }, 'invalid_request'],
      [{ url, events: ['user.locked'], format: 'xml' }, 'invalid_request'],
      [{ url, events: ['user.locked'], secret: 'mine' }, 'invalid_request'],
      [{ url: 'not a url', events: ['user.locked'] }, 'webhook_url_refused'],
      [{ url: 'ftp://example.com/x', events: ['user.locked'] }, 'webhook_url_refused'],
      [{ url: 'https://user:pw@example.com/x', events: ['user.locked'] }, 'webhook_url_refused'],
    ] as const) {
      const response = await create(body);
      expect([response.statusCode, response.json().error], JSON.stringify(body)).toEqual([400, code]);
    }
    const missing = await call(server.app, 'GET', '/admin/api/webhooks/wh_nope/deliveries', admin.headers);
    expect([missing.statusCode, missing.json().error]).toEqual([404, 'webhook_not_found']);
    const made = (await create({ url, events: ['user.locked'] })).json().webhook;
    const noDelivery = await call(
      server.app,
      'POST',
      `/admin/api/webhooks/${made.id}/deliveries/d_nope/retry`,
      admin.headers,
    );
    expect([noDelivery.statusCode, noDelivery.json().error]).toEqual([404, 'delivery_not_found']);
    const hmac = await start('jwt', { TESSERA_JWT_ALGORITHM: 'HS256' });
    const hmacAdmin = await bearer(hmac, ['admin']);
    const refused = await call(hmac.app, 'POST', '/admin/api/webhooks', hmacAdmin.headers, {
      url,
      events: ['session.revoked'],
      format: 'set',
    });
    expect([refused.statusCode, refused.json().error, refused.json().message]).toEqual([
      400,
      'invalid_request',
      expect.stringMatching(/public keys/),
    ]);
    const badCursor = await call(
      server.app,
      'GET',
      `/admin/api/webhooks/${made.id}/deliveries?cursor=xyz`,
      admin.headers,
    );
    expect([badCursor.statusCode, badCursor.json().error]).toEqual([400, 'invalid_request']);
  });
});

describe('hostile input to the webhook routes', () => {
  it('any body, id and query from an admin: always a 4xx or a success, never a 5xx', async () => {
    const server = await start();
    const admin = await bearer(server, ['admin']);
    const made = await call(server.app, 'POST', '/admin/api/webhooks', admin.headers, {
      url: 'http://127.0.0.1:9/hook',
      events: ['user.locked'],
    });
    const id = made.json().webhook.id as string;
    const segment = fc.oneof(
      fc.constant(id),
      fc.string({ maxLength: 80 }),
      fc.string({ minLength: 60, maxLength: 200 }),
    );
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          url: fc.oneof(
            fc.string(),
            fc.webUrl(),
            fc.constantFrom('https://[::1]/', 'http://0/', 'https://a:b@c/', 'file:///etc/passwd'),
          ),
          events: fc.oneof(
            fc.array(fc.constantFrom('user.locked', 'session.revoked', 'x', '')),
            fc.anything(),
          ),
          format: fc.oneof(fc.constantFrom('standard', 'set'), fc.anything()),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE'),
        fc.constantFrom('list', 'one', 'deliveries', 'retry'),
        segment,
        segment,
        fc.string({ maxLength: 60 }),
        body,
        async (method, route, a, b, query, payload) => {
          const path = {
            list: '/admin/api/webhooks',
            one: `/admin/api/webhooks/${encodeURIComponent(a)}`,
            deliveries: `/admin/api/webhooks/${encodeURIComponent(a)}/deliveries?${query}`,
            retry: `/admin/api/webhooks/${encodeURIComponent(a)}/deliveries/${encodeURIComponent(b)}/retry`,
          }[route];
          const response = await server.app.inject({
            method: method as 'GET',
            url: path,
            headers: admin.headers,
            ...(method === 'POST' && { payload: payload as object }),
          });
          expect(response.statusCode, `${method} ${path} ${response.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
  }, 60_000);
});

describe('Shared Signals: SETs (RFC 8417) pushed per RFC 8935, verified with jose against the JWKS', () => {
  it.each(['session', 'hybrid'] as const)(
    '%s mode: a lock is a CAEP session-revoked and a RISC account-disabled',
    async (mode) => {
      const server = await start(mode);
      const admin = await bearer(server, ['admin']);
      const receiver = await startReceiver();
      open.push(receiver);
      const created = await call(server.app, 'POST', '/admin/api/webhooks', admin.headers, {
        url: receiver.url,
        events: ['session.revoked', 'user.locked', 'password.changed'],
        format: 'set',
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().secret).toBeUndefined();
      const customer = await bearer(server);
      await call(server.app, 'POST', `/admin/api/users/${customer.userId}/lock`, admin.headers, {
        reason: 'fraud',
      });
      await server.tessera.events.drain();
      await receiver.waitFor(2);
      const jwks = await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(jwks.statusCode).toBe(200);
      const keys = createLocalJWKSet(jwks.json());
      const issuer = server.tessera.config.jwt.issuer;
      const verified = [];
      for (const request of receiver.received) {
        expect(request.headers['content-type']).toBe('application/secevent+jwt');
        expect(decodeProtectedHeader(request.body).typ).toBe('secevent+jwt');
        const { payload } = await jwtVerify(request.body, keys, {
          issuer,
          audience: receiver.url,
          typ: 'secevent+jwt',
        });
        verified.push(payload);
      }
      const revoked = verified.find(
        (p) => 'https://schemas.openid.net/secevent/caep/event-type/session-revoked' in (p.events as object),
      );
      expect(revoked).toMatchObject({
        sub_id: {
          format: 'complex',
          user: { format: 'iss_sub', iss: issuer, sub: customer.userId },
          session: { format: 'opaque', id: customer.sessionId },
        },
        events: {
          'https://schemas.openid.net/secevent/caep/event-type/session-revoked': {
            initiating_entity: 'admin',
            reason_admin: { en: 'locked' },
          },
        },
      });
      const disabled = verified.find(
        (p) => 'https://schemas.openid.net/secevent/risc/event-type/account-disabled' in (p.events as object),
      );
      expect(disabled?.sub_id).toEqual({ format: 'iss_sub', iss: issuer, sub: customer.userId });
      // jti is the delivery id: stable across retries, so a receiver drops a duplicate by it.
      const endpointId = created.json().webhook.id;
      const deliveries = await server.tessera.events.webhooks.deliveries(endpointId, { limit: 10 });
      expect(new Set(verified.map((p) => p.jti))).toEqual(new Set(deliveries.map((d) => d.id)));
    },
  );
});
