import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualRuntime } from '../../src/core/runtime.js';
import { DestinationRefused, Destinations } from '../../src/events/destinations.js';
import { DEFAULT_HTTP_DELIVERY_POLICY, DeliveryWorker } from '../../src/events/http-delivery.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { newEmail, PASSWORD, post, startTessera, tempDir } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';
import { startReceiver } from './receiver.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

const production = new Destinations({ development: false, allowedNetworks: [] });

describe('SSRF: where deliveries may go outside development', () => {
  it.each([
    ['http://93.184.216.34/hook', /https/],
    ['https://127.0.0.1/hook', /loopback, private or reserved/],
    ['https://10.1.2.3/hook', /loopback, private or reserved/],
    ['https://172.20.0.1/hook', /loopback, private or reserved/],
    ['https://192.168.1.1/hook', /loopback, private or reserved/],
    ['https://169.254.169.254/latest/meta-data', /loopback, private or reserved/],
    ['https://100.64.0.1/hook', /loopback, private or reserved/],
    ['https://0.0.0.0/hook', /loopback, private or reserved/],
    // Other spellings of loopback: the URL parser normalises them before the check.
    ['https://2130706433/hook', /loopback, private or reserved/],
    ['https://0x7f.0.0.1/hook', /loopback, private or reserved/],
    ['https://127.1/hook', /loopback, private or reserved/],
    ['https://[::1]/hook', /loopback, private or reserved/],
    ['https://[::ffff:127.0.0.1]/hook', /loopback, private or reserved/],
    ['https://[fe80::1]/hook', /loopback, private or reserved/],
    ['https://[fd00::1]/hook', /loopback, private or reserved/],
    ['https://user:secret@example.com/hook', /credentials/],
    ['https://example.com/hook#x', /fragment/],
    ['javascript:alert(1)', /https/],
    ['not a url', /absolute URL/],
  ])('refuses %s', (url, reason) => {
    expect(() => production.checkUrl(url)).toThrow(reason);
  });

  it('accepts a public https address; a name resolving to loopback is refused at registration', async () => {
    expect(production.checkUrl('https://93.184.216.34/hook').host).toBe('93.184.216.34');
    await expect(production.check('https://localhost/hook')).rejects.toThrow(DestinationRefused);
    await expect(production.check('https://localhost/hook')).rejects.toThrow(/resolves to a loopback/);
  });

  it('TESSERA_WEBHOOK_ALLOWED_NETWORKS opens exactly the named private networks', () => {
    const siem = new Destinations({ development: false, allowedNetworks: ['10.20.0.0/16', 'fd00::/8'] });
    expect(siem.addressAllowed('10.20.3.4')).toBe(true);
    expect(siem.addressAllowed('fd00::5')).toBe(true);
    expect(siem.addressAllowed('10.21.0.1')).toBe(false);
    expect(siem.addressAllowed('127.0.0.1')).toBe(false);
  });

  it('the address is checked again when connecting (DNS rebinding): the receiver never sees the request', async () => {
    const clock = manualRuntime(Date.now());
    const stores = await openSqliteStores(join(tempDir(), 'ssrf.db'));
    open.push(stores);
    const receiver = await startReceiver();
    open.push(receiver);
    const worker = new DeliveryWorker(stores.deliveries, clock, production, DEFAULT_HTTP_DELIVERY_POLICY);
    worker.registerFormat('plain', () => ({ contentType: 'application/json', body: '{}' }));
    await stores.securityEvents.appendSecurityEvent({
      id: 'e1',
      type: 'user.locked',
      at: 1,
      userId: null,
      data: '{}',
    });
    await stores.securityEvents.claimSecurityEvents(clock.now(), 'o', clock.now() + 1_000, 1);
    // Registered when the name was public; it now resolves to loopback.
    await stores.securityEvents.completeFanout('e1', 'o', clock.now(), [
      {
        id: 'd1',
        eventId: 'e1',
        eventType: 'user.locked',
        endpointId: null,
        format: 'plain',
        url: `https://localhost:${receiver.port}/hook`,
        payload: '{}',
        status: 'pending',
        attempts: 0,
        nextAttemptAt: clock.now(),
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        lastStatus: null,
        createdAt: clock.now(),
        deliveredAt: null,
      },
    ]);
    await worker.run();
    await worker.idle();
    expect((await stores.deliveries.findDelivery('d1'))?.lastError).toMatch(
      /refused address (127\.0\.0\.1|::1) for localhost/,
    );
    expect(receiver.received).toEqual([]);
  });

  it('a production server refuses http, loopback and private webhook URLs with webhook_url_refused', async () => {
    const server = await startTessera({
      env: {
        NODE_ENV: 'production',
        TESSERA_TRUSTED_PROXIES: 'loopback',
        TESSERA_KEY_ENCRYPTION_KEY: 'ab'.repeat(32),
        TESSERA_SMTP_URL: 'smtp://127.0.0.1:9',
        TESSERA_REQUIRE_VERIFIED_EMAIL: 'off',
      },
    });
    open.push(server);
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD }, ['admin']);
    const proto = { 'x-forwarded-proto': 'https' };
    // An admin signs in with a second factor (TESSERA_MFA_REQUIRED_ROLES): enrolled at login.
    const login = await loginWithSecondFactor(
      server.app,
      { email, password: PASSWORD, transport: 'bearer' },
      undefined,
      proto,
    );
    expect(login.statusCode, login.body).toBe(200);
    const headers = { ...proto, authorization: `Bearer ${login.json().token}` };
    for (const url of [
      'http://203.0.113.10/hook',
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://10.0.0.5/x',
    ]) {
      const response = await post(
        server.app,
        '/admin/api/webhooks',
        { url, events: ['user.locked'] },
        headers,
      );
      expect([response.statusCode, response.json().error], url).toEqual([400, 'webhook_url_refused']);
    }
  });
});
