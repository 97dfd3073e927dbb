import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_CLIENT } from '../../src/core/audit.js';
import { systemRuntime } from '../../src/core/runtime.js';
import type { RevocationBus } from '../../src/store/bus.js';
import { InProcessBus } from '../../src/store/memory/in-process-bus.js';
import type { RevocationRecord } from '../../src/store/ports/index.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { newEmail, PASSWORD, startTessera, type TestServer, tempDir } from '../helpers.js';

const TOKEN = 'metrics-test-token-0123456789abcdef0123456789';
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close().catch(() => undefined);
});

/** A started Tessera listening on a real port; its base URL. */
async function serve(options: Parameters<typeof startTessera>[0] = {}) {
  const server = await startTessera(options);
  servers.push(server);
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, base: address };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format (0.0.4), strictly: every non-comment line is a sample. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = (pair[2] as string).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels`. */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(url: string, token: string | undefined = TOKEN) {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`scrape ${url}: ${response.status} ${text}`);
  return { text, samples: parsePrometheus(text) };
}

const json = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('GET /metrics: who may scrape', () => {
  it('is not there at all when neither TESSERA_METRICS_PORT nor TESSERA_METRICS_TOKEN is set', async () => {
    const { base, server } = await serve();
    expect(server.tessera.metrics).toBeUndefined();
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toBe('not_found');
  });

  it('with the token only: on the main port, 401 without it or with a wrong one (constant-time compare)', async () => {
    const { base } = await serve({ env: { TESSERA_METRICS_TOKEN: TOKEN } });
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const response = await fetch(`${base}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tessera-metrics"');
      expect(((await response.json()) as { error: string }).error).toBe('unauthenticated');
    }
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.text()).toContain('process_cpu_user_seconds_total');
  });

  it('with a port: on its own listener only (404 on the main port); with a token too, that listener asks for it', async () => {
    const port = await freePort();
    const { base } = await serve({ env: { TESSERA_METRICS_PORT: String(port) } });
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const metricsBase = `http://127.0.0.1:${port}`;
    const { samples } = await scrape(`${metricsBase}/metrics`, undefined);
    expect(sampleValue(samples, 'tessera_logins_total')).toBe(0);
    expect((await fetch(`${metricsBase}/auth/session`)).status).toBe(404);
    expect((await fetch(`${metricsBase}/metrics`, { method: 'POST' })).status).toBe(404);

    const guarded = await freePort();
    await serve({ env: { TESSERA_METRICS_PORT: String(guarded), TESSERA_METRICS_TOKEN: TOKEN } });
    expect((await fetch(`http://127.0.0.1:${guarded}/metrics`)).status).toBe(401);
    expect((await scrape(`http://127.0.0.1:${guarded}/metrics`)).samples.length).toBeGreaterThan(0);
  });

  it('a metrics port already taken fails the start, naming the variable', async () => {
    const port = await freePort();
    const { server } = await serve({ env: { TESSERA_METRICS_PORT: String(port) } });
    expect(server).toBeDefined();
    const second = await startTessera({ env: { TESSERA_METRICS_PORT: String(port) } });
    servers.push(second);
    await expect(second.app.listen({ port: 0, host: '127.0.0.1' })).rejects.toThrow(
      /^TESSERA_METRICS_PORT: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/,
    );
  });
});

describe('the counters move by exactly what a scripted scenario did', () => {
  it('logins by outcome, refreshes, reuse, revocations by cause, mail, request durations; no personal label', async () => {
    const { base, server } = await serve({ env: { TESSERA_MODE: 'jwt', TESSERA_METRICS_TOKEN: TOKEN } });
    const { tessera, clock } = server;
    const before = (await scrape(`${base}/metrics`)).samples;
    const delta = (name: string, labels: Record<string, string> = {}) =>
      scrape(`${base}/metrics`).then(
        ({ samples }) => sampleValue(samples, name, labels) - sampleValue(before, name, labels),
      );

    const email = newEmail();
    const registered = await json(base, '/auth/register', { email, password: PASSWORD });
    expect(registered.status).toBe(201);
    const userId = ((await registered.json()) as { user: { id: string } }).user.id;
    // The verification mail waits in the outbox until the worker runs.
    expect(await delta('tessera_mail_outbox_depth')).toBe(1);

    for (const password of ['wrong password 1', 'wrong password 2']) {
      expect((await json(base, '/auth/login', { email, password })).status).toBe(401);
    }
    expect((await json(base, '/auth/login', { email: newEmail(), password: PASSWORD })).status).toBe(401);
    const logins = [];
    for (let i = 0; i < 2; i++) {
      const response = await json(base, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      expect(response.status).toBe(200);
      logins.push(await response.json());
    }
    const [first, second] = logins as [
      { refreshToken: string; accessToken: string; session: { id: string } },
      { refreshToken: string; accessToken: string; session: { id: string } },
    ];

    // One refresh, then the spent token again after the grace window: reuse, the family ends.
    const refreshed = await json(base, '/auth/refresh', { refreshToken: first.refreshToken });
    expect(refreshed.status).toBe(200);
    const rotated = (await refreshed.json()) as { refreshToken: string; accessToken: string };
    clock.advance(tessera.config.jwt.refreshReuseGraceMs + 1000);
    expect((await json(base, '/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);

    // A logout, then an admin lock, then the right password on the locked account.
    expect(
      (await json(base, '/auth/logout', {}, { authorization: `Bearer ${second.accessToken}` })).status,
    ).toBe(204);
    await tessera.control.lockUser(userId, 'metrics test', { actorId: null, client: CLI_CLIENT });
    expect((await json(base, '/auth/login', { email, password: PASSWORD })).status).toBe(401);
    expect((await fetch(`${base}/no/such/path/${userId}`)).status).toBe(404);

    await tessera.email.delivery.run();

    expect(await delta('tessera_logins_total', { outcome: 'success' })).toBe(2);
    expect(await delta('tessera_logins_total', { outcome: 'failure' })).toBe(3);
    expect(await delta('tessera_logins_total', { outcome: 'locked' })).toBe(1);
    expect(await delta('tessera_logins_total', { outcome: 'rate_limited' })).toBe(0);
    expect(await delta('tessera_logins_total', { outcome: 'mfa_required' })).toBe(0);
    expect(await delta('tessera_refreshes_total')).toBe(1);
    expect(await delta('tessera_refresh_reuse_total', { kind: 'refresh_token' })).toBe(1);
    expect(await delta('tessera_revocations_total', { cause: 'refresh_reuse' })).toBe(1);
    expect(await delta('tessera_revocations_total', { cause: 'logout' })).toBe(1);
    expect(await delta('tessera_revocations_total', { cause: 'lock' })).toBe(1);
    expect(await delta('tessera_revocations_total')).toBe(3);
    expect(await delta('tessera_audit_events_total', { type: 'user.registered' })).toBe(1);
    expect(await delta('tessera_mail_deliveries_total', { outcome: 'sent' })).toBe(1);
    expect(await delta('tessera_mail_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(await delta('tessera_mail_outbox_depth')).toBe(0);
    expect(await delta('tessera_unavailable_responses_total')).toBe(0);
    expect(await delta('tessera_store_errors_total')).toBe(0);
    // Seven argon2 jobs: the registration's hash and six verifications (the process's pool, so at least).
    expect(await delta('tessera_password_hash_wait_seconds_count')).toBeGreaterThanOrEqual(7);
    const now = (await scrape(`${base}/metrics`)).samples;
    expect(sampleValue(now, 'tessera_password_hash_queue_depth')).toBe(0);

    const histogram = 'tessera_http_request_duration_seconds_count';
    expect(await delta(histogram, { method: 'POST', route: '/auth/login', status_class: '2xx' })).toBe(2);
    expect(await delta(histogram, { method: 'POST', route: '/auth/login', status_class: '4xx' })).toBe(4);
    expect(await delta(histogram, { method: 'POST', route: '/auth/refresh', status_class: '2xx' })).toBe(1);
    expect(await delta(histogram, { method: 'POST', route: '/auth/refresh', status_class: '4xx' })).toBe(1);
    expect(await delta(histogram, { route: 'unmatched', status_class: '4xx' })).toBe(1);
    // Every scrape so far (the one in `before` and each delta's) is itself a request to GET /metrics.
    expect(await delta(histogram, { method: 'GET', route: '/metrics' })).toBeGreaterThan(0);

    // No label value holds a user id, an email, a session id or a token: route patterns only.
    const { text, samples } = await scrape(`${base}/metrics`);
    const secrets = [
      email,
      userId,
      first.session.id,
      second.session.id,
      first.refreshToken,
      rotated.refreshToken,
    ];
    for (const secret of [...secrets, first.accessToken, second.accessToken])
      expect(text).not.toContain(secret);
    const routes = new Set(samples.filter((s) => s.name === histogram).map((s) => s.labels.route));
    for (const route of routes)
      expect(route === 'unmatched' || (tessera && route?.startsWith('/'))).toBe(true);
    expect([...routes].filter((route) => route?.includes('/no/such'))).toEqual([]);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    for (const value of labelValues) expect(value).not.toMatch(/@|[A-Za-z0-9_-]{20,}/);
  });

  it('rate-limited logins are counted as such (and per action)', async () => {
    const { base } = await serve({ env: { TESSERA_RATE_LIMIT: 'on', TESSERA_METRICS_TOKEN: TOKEN } });
    const email = newEmail();
    expect((await json(base, '/auth/register', { email, password: PASSWORD })).status).toBe(201);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await json(base, '/auth/login', { email, password: `nope ${i}` })).status);
    const limited = statuses.filter((s) => s === 429).length;
    expect(limited).toBeGreaterThan(0);
    const { samples } = await scrape(`${base}/metrics`);
    expect(sampleValue(samples, 'tessera_logins_total', { outcome: 'rate_limited' })).toBe(limited);
    expect(sampleValue(samples, 'tessera_logins_total', { outcome: 'failure' })).toBe(
      statuses.filter((s) => s === 401).length,
    );
    expect(sampleValue(samples, 'tessera_rate_limited_total', { action: 'login' })).toBe(limited);
  });
});

/** Passes everything through, and lets the test say "the connection dropped" as a real bus would. */
class DisconnectingBus implements RevocationBus {
  readonly engine = 'disconnecting';
  #gaps: (() => void)[] = [];
  constructor(private readonly inner: RevocationBus) {}
  publish(record: RevocationRecord) {
    return this.inner.publish(record);
  }
  subscribe(listener: (record: RevocationRecord) => void, onGap: () => void) {
    this.#gaps.push(onGap);
    return this.inner.subscribe(listener, onGap);
  }
  disconnect() {
    for (const gap of this.#gaps) gap();
  }
  async close() {}
}

describe('hybrid: revocation lag, catch-ups and bus disconnects per node', () => {
  it('a revocation on node A shows on node B as one bus delivery with its lag; a disconnect is counted', async () => {
    const dir = tempDir();
    const file = join(dir, 'shared.db');
    const bus = new InProcessBus();
    const env = {
      TESSERA_MODE: 'hybrid',
      TESSERA_DATABASE_URL: `sqlite://${file}`,
      TESSERA_METRICS_TOKEN: TOKEN,
    };
    const node = async (nodeBus: RevocationBus) =>
      serve({ env, stores: await openSqliteStores(file), bus: nodeBus, runtime: systemRuntime });
    const a = await node(bus);
    const bBus = new DisconnectingBus(bus);
    const b = await node(bBus);
    const beforeB = (await scrape(`${b.base}/metrics`)).samples;
    const deltaB = (name: string, labels: Record<string, string> = {}) =>
      scrape(`${b.base}/metrics`).then(
        ({ samples }) => sampleValue(samples, name, labels) - sampleValue(beforeB, name, labels),
      );

    const email = newEmail();
    expect((await json(a.base, '/auth/register', { email, password: PASSWORD })).status).toBe(201);
    const login = (await (
      await json(a.base, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json()) as { accessToken: string };
    expect(
      (await json(a.base, '/auth/logout', {}, { authorization: `Bearer ${login.accessToken}` })).status,
    ).toBe(204);

    expect(await deltaB('tessera_revocation_lag_seconds_count', { via: 'bus' })).toBe(1);
    expect(await deltaB('tessera_revocation_lag_seconds_bucket', { via: 'bus', le: '1' })).toBe(1);
    // Node A made it: applying its own revocation is not lag.
    const aSamples = (await scrape(`${a.base}/metrics`)).samples;
    expect(sampleValue(aSamples, 'tessera_revocation_lag_seconds_count')).toBe(0);

    bBus.disconnect();
    await b.server.tessera.revocations?.catchUp();
    expect(await deltaB('tessera_revocation_behind_total', { reason: 'bus_disconnect' })).toBe(1);
    expect(await deltaB('tessera_revocation_behind_total', { reason: 'gap' })).toBe(0);
    expect(await deltaB('tessera_revocation_catchups_total')).toBeGreaterThanOrEqual(1);
    // Nothing was missed, so the catch-up applied no record the bus had not delivered.
    expect(await deltaB('tessera_revocation_catchup_records_total')).toBe(0);

    // B's database goes away, then its bus drops: a token cannot be confirmed unrevoked, so 503.
    const live = (await (
      await json(a.base, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json()) as { accessToken: string };
    await b.server.tessera.stores.close();
    bBus.disconnect();
    const refused = await fetch(`${b.base}/auth/session`, {
      headers: { authorization: `Bearer ${live.accessToken}` },
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toBe('store_unavailable');
    expect(await deltaB('tessera_unavailable_responses_total', { code: 'store_unavailable' })).toBe(1);
    expect(await deltaB('tessera_store_errors_total', { kind: 'unavailable' })).toBe(1);
    expect(
      await deltaB('tessera_http_request_duration_seconds_count', {
        route: '/auth/session',
        status_class: '5xx',
      }),
    ).toBe(1);
  });
});

describe('the documented dashboard and alert rules', () => {
  it('name only metrics a scrape has (docs/grafana-dashboard.json, docs/DEPLOY.md "Metrics")', async () => {
    const { base } = await serve({ env: { TESSERA_MODE: 'hybrid', TESSERA_METRICS_TOKEN: TOKEN } });
    const { text } = await scrape(`${base}/metrics`);
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    JSON.parse(dashboard);
    const deploy = readFileSync(new URL('../../docs/DEPLOY.md', import.meta.url), 'utf8');
    const metricsSection = deploy.slice(deploy.indexOf('### Metrics'));
    const named = new Set(
      [...`${dashboard}\n${metricsSection}`.matchAll(/\b((?:tessera|nodejs|process)_[a-z0-9_]+)/g)]
        .map((m) => m[1] as string)
        .filter((name) => !name.endsWith('_')),
    );
    expect(named.size).toBeGreaterThan(15);
    const base_ = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
    const unknown = [...named].filter((name) => !exported.has(name) && !exported.has(base_(name)));
    expect(unknown).toEqual([]);
  });
});
