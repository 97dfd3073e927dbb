import { beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryRecord, SecurityEventRecord, Stores } from '../../src/store/ports/index.js';

/**
 * Security events, their fan-out lease and the HTTP delivery outbox (issue 21), on every engine.
 * Each engine's test file calls it with a factory that opens a fresh, empty store.
 */
export function eventsContract(engine: string, openStores: () => Promise<Stores>): void {
  describe(`events contract: ${engine}`, () => {
    let stores: Stores;
    let seq = 0;
    beforeEach(async () => {
      stores = await openStores();
      return () => stores.close();
    });

    const event = (overrides: Partial<SecurityEventRecord> = {}): SecurityEventRecord => ({
      id: `e${++seq}`,
      type: 'user.locked',
      at: 1_000 + seq,
      userId: 'u1',
      data: JSON.stringify({ reason: 'test' }),
      ...overrides,
    });
    const delivery = (eventId: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
      id: `d${++seq}`,
      eventId,
      eventType: 'user.locked',
      endpointId: 'wh_1',
      format: 'standard',
      url: 'https://receiver.example/hook',
      payload: '{"type":"user.locked"}',
      status: 'pending',
      attempts: 0,
      nextAttemptAt: 5_000,
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
      lastStatus: null,
      createdAt: 5_000 + seq,
      deliveredAt: null,
      ...overrides,
    });
    const user = async (id: string) =>
      stores.users.createUser({
        id,
        email: `${id}@example.com`,
        emailKey: `${id}@example.com`,
        passwordHash: 'x',
        roles: [],
        lockedAt: null,
        lockReason: null,
        createdAt: 1,
        updatedAt: 1,
      });
    const login = (id: string, userId: string, at: number, clientId?: string) =>
      stores.sessions.createSession({
        id,
        userId,
        mode: clientId ? 'oauth' : 'session',
        secretHash: '',
        createdAt: at,
        lastSeenAt: at,
        expiresAt: at + 10_000,
        authTime: at,
        amr: ['pwd'],
        acr: 'aal1',
        ip: '203.0.113.7',
        userAgent: 'ua',
        ...(clientId && { oauth: { clientId, scopes: ['read'], audience: 'https://api.example' } }),
      });
    const endingEvent = (id: string) => ({
      id,
      type: 'session.revoked',
      at: 9_000,
      userId: null,
      data: { cause: 'logout' },
    });

    it('an ending records its event with the ended logins (user, OAuth client) in the same write', async () => {
      await user('u1');
      await user('u2');
      await stores.oauthClients.createOAuthClient({
        id: 'c1',
        name: 'App',
        type: 'public',
        secretHash: null,
        redirectUris: ['https://app.example/cb'],
        scopes: ['read'],
        grantTypes: ['authorization_code'],
        audience: 'https://api.example',
        createdAt: 1,
      });
      await login('s1', 'u1', 100);
      await login('s2', 'u1', 101, 'c1');
      await login('s3', 'u2', 102);
      const ended = await stores.loginEndings.endLogins({
        target: { userId: 'u1' },
        endSessions: true,
        event: { ...endingEvent('end1'), data: { cause: 'locked' } },
      });
      expect(ended.sessions).toBe(2);
      const [recorded] = await stores.securityEvents.listSecurityEvents({ limit: 10 });
      expect(recorded).toMatchObject({
        id: 'end1',
        type: 'session.revoked',
        userId: 'u1',
        fannedOutAt: null,
      });
      const data = JSON.parse(recorded?.data ?? '{}');
      expect(data.cause).toBe('locked');
      expect(data.logins).toHaveLength(2);
      expect(data.logins).toEqual(
        expect.arrayContaining([
          { id: 's1', userId: 'u1' },
          { id: 's2', userId: 'u1', clientId: 'c1' },
        ]),
      );
      // Nothing ended: no event.
      await stores.loginEndings.endLogins({
        target: { sessionId: 'gone' },
        endSessions: true,
        event: endingEvent('end2'),
      });
      expect((await stores.securityEvents.listSecurityEvents({ limit: 10 })).map((e) => e.id)).toEqual([
        'end1',
      ]);
    });

    it('an ending that fails records no event (all or nothing)', async () => {
      await user('u1');
      await login('s1', 'u1', 100);
      // The only admin would be locked: refused, nothing written, no event.
      await stores.users.setUserRoles('u1', ['admin'], 2);
      await expect(
        stores.loginEndings.endLogins({
          target: { userId: 'u1' },
          account: { lock: { lockedAt: 5, reason: 'x' }, updatedAt: 5 },
          endSessions: true,
          keepAnAdmin: true,
          event: endingEvent('end1'),
        }),
      ).rejects.toThrow();
      expect(await stores.securityEvents.listSecurityEvents({ limit: 10 })).toEqual([]);
      expect(await stores.sessions.findSession('s1')).toBeDefined();
    });

    it('the sweep ends expired logins in bounded batches, each with its event', async () => {
      await user('u1');
      for (let i = 0; i < 5; i++) await login(`s${i}`, 'u1', 100 + i);
      const expired = { now: 50_000, idleBefore: 0, limit: 3 };
      const first = await stores.loginEndings.endLogins({
        target: { expired },
        endSessions: true,
        event: endingEvent('x1'),
      });
      const second = await stores.loginEndings.endLogins({
        target: { expired },
        endSessions: true,
        event: endingEvent('x2'),
      });
      expect([first.sessions, second.sessions]).toEqual([3, 2]);
      const events = await stores.securityEvents.listSecurityEvents({ limit: 10 });
      expect(events.map((e) => JSON.parse(e.data).logins.length).sort()).toEqual([2, 3]);
    });

    it('fan-out: one claimant per event; completion commits its deliveries once, only for the lease holder', async () => {
      await stores.securityEvents.appendSecurityEvent(event({ id: 'e-a', at: 1 }));
      await stores.securityEvents.appendSecurityEvent(event({ id: 'e-b', at: 2 }));
      const a = await stores.securityEvents.claimSecurityEvents(10, 'node-a', 1_000, 10);
      const b = await stores.securityEvents.claimSecurityEvents(10, 'node-b', 1_000, 10);
      expect(a.map((e) => e.id)).toEqual(['e-a', 'e-b']);
      expect(b).toEqual([]);
      expect(await stores.securityEvents.completeFanout('e-a', 'node-b', 20, [delivery('e-a')])).toBe(false);
      expect(
        await stores.securityEvents.completeFanout('e-a', 'node-a', 20, [delivery('e-a'), delivery('e-a')]),
      ).toBe(true);
      expect(await stores.securityEvents.completeFanout('e-a', 'node-a', 21, [delivery('e-a')])).toBe(false);
      expect(await stores.deliveries.listDeliveries({ limit: 10 })).toHaveLength(2);
      // A crashed holder's lease runs out: another node takes the event.
      const later = await stores.securityEvents.claimSecurityEvents(1_000, 'node-b', 2_000, 10);
      expect(later.map((e) => e.id)).toEqual(['e-b']);
      expect(await stores.securityEvents.deleteFannedOutEventsBefore(100)).toBe(1);
    });

    it('deliveries: leased claims, delivered, failure with backoff, final failure, replay, abandon', async () => {
      await stores.securityEvents.appendSecurityEvent(event({ id: 'e1' }));
      const [claimed] = await stores.securityEvents.claimSecurityEvents(0, 'n', 100, 1);
      const d1 = delivery('e1', { nextAttemptAt: 10 });
      const d2 = delivery('e1', { nextAttemptAt: 20 });
      const d3 = delivery('e1', { nextAttemptAt: 99_999 });
      expect(await stores.securityEvents.completeFanout(claimed?.id ?? '', 'n', 5, [d1, d2, d3])).toBe(true);
      const first = await stores.deliveries.claimDeliveries(50, 'w1', 1_000, 10);
      expect(first.map((d) => d.id)).toEqual([d1.id, d2.id]);
      expect(await stores.deliveries.claimDeliveries(50, 'w2', 1_000, 10)).toEqual([]);
      expect(await stores.deliveries.markDelivered(d1.id, 'w2', 60, 200)).toBe(false);
      expect(await stores.deliveries.markDelivered(d1.id, 'w1', 60, 202)).toBe(true);
      expect(await stores.deliveries.findDelivery(d1.id)).toMatchObject({
        status: 'delivered',
        attempts: 1,
        lastStatus: 202,
        deliveredAt: 60,
        leaseOwner: null,
      });
      await stores.deliveries.markDeliveryFailed(d2.id, 'w1', {
        attempts: 1,
        nextAttemptAt: 500,
        error: 'HTTP 500',
        status: 500,
        final: false,
      });
      expect(await stores.deliveries.claimDeliveries(100, 'w2', 1_000, 10)).toEqual([]);
      const retried = await stores.deliveries.claimDeliveries(500, 'w2', 1_500, 10);
      expect(retried.map((d) => [d.id, d.attempts, d.lastError])).toEqual([[d2.id, 1, 'HTTP 500']]);
      await stores.deliveries.markDeliveryFailed(d2.id, 'w2', {
        attempts: 2,
        nextAttemptAt: 900,
        error: 'timed out',
        status: null,
        final: true,
      });
      expect(await stores.deliveries.findDelivery(d2.id)).toMatchObject({
        status: 'failed',
        lastStatus: null,
      });
      expect(await stores.deliveries.countDeliveries()).toEqual({ pending: 1, delivered: 1, failed: 1 });
      expect(await stores.deliveries.retryDelivery(d2.id, 1_000)).toBe(true);
      expect(await stores.deliveries.retryDelivery('nope', 1_000)).toBe(false);
      expect(
        (await stores.deliveries.claimDeliveries(1_000, 'w3', 2_000, 10)).map((d) => [d.id, d.attempts]),
      ).toEqual([[d2.id, 0]]);
      expect(await stores.deliveries.abandonEndpointDeliveries('wh_1', 'deleted')).toBe(2);
      expect(
        await stores.deliveries.listDeliveries({ endpointId: 'wh_1', status: 'pending', limit: 10 }),
      ).toEqual([]);
      const page1 = await stores.deliveries.listDeliveries({ endpointId: 'wh_1', limit: 2 });
      const last = page1[1];
      const page2 = await stores.deliveries.listDeliveries({
        endpointId: 'wh_1',
        limit: 2,
        ...(last && { before: { createdAt: last.createdAt, id: last.id } }),
      });
      expect([...page1, ...page2].map((d) => d.id)).toEqual([d3.id, d2.id, d1.id]);
      expect(await stores.deliveries.deleteDeliveriesBefore(1_000_000)).toBe(3);
    });

    it('claimants racing for one outbox never share a delivery (compare-and-set in one statement)', async () => {
      await stores.securityEvents.appendSecurityEvent(event({ id: 'race' }));
      await stores.securityEvents.claimSecurityEvents(0, 'n', 100, 1);
      const rows = Array.from({ length: 60 }, (_, i) => delivery('race', { nextAttemptAt: i }));
      await stores.securityEvents.completeFanout('race', 'n', 5, rows);
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) => stores.deliveries.claimDeliveries(1_000, `w${i}`, 9_000, 25)),
      );
      const ids = claims.flat().map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(60);
      for (const [i, claim] of claims.entries()) {
        for (const d of claim) expect((await stores.deliveries.findDelivery(d.id))?.leaseOwner).toBe(`w${i}`);
      }
      // Oldest due first within a claim.
      for (const claim of claims) {
        const due = claim.map((d) => d.nextAttemptAt);
        expect(due).toEqual([...due].sort((a, b) => a - b));
      }
    });

    it('webhook endpoints: create, list, find, delete', async () => {
      const endpoint = {
        id: 'wh_a',
        url: 'https://siem.example/in',
        events: ['user.locked', 'session.revoked'],
        format: 'standard' as const,
        sealedSecret: 'v1.sealed',
        createdAt: 5,
        createdBy: 'admin-1',
      };
      await stores.webhooks.createWebhookEndpoint(endpoint);
      await stores.webhooks.createWebhookEndpoint({ ...endpoint, id: 'wh_b', format: 'set', createdAt: 6 });
      expect(await stores.webhooks.findWebhookEndpoint('wh_a')).toEqual(endpoint);
      expect((await stores.webhooks.listWebhookEndpoints()).map((e) => [e.id, e.format])).toEqual([
        ['wh_a', 'standard'],
        ['wh_b', 'set'],
      ]);
      expect(await stores.webhooks.deleteWebhookEndpoint('wh_a')).toBe(true);
      expect(await stores.webhooks.deleteWebhookEndpoint('wh_a')).toBe(false);
      expect(await stores.webhooks.findWebhookEndpoint('wh_a')).toBeUndefined();
    });
  });
}
