import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { SESSION_COOKIE } from '../../../src/http/credentials.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer, tempDir } from '../../helpers.js';

/**
 * Built-in HTTPS with a self-signed certificate made here by openssl (node:crypto cannot make
 * X.509), and the production rule: no start without TLS or a trusted TLS proxy.
 */

let certFile: string;
let keyFile: string;
let server: TestServer;
let address: string;

beforeAll(async () => {
  const dir = tempDir();
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  server = await startTessera({ env: { TESSERA_TLS_CERT: certFile, TESSERA_TLS_KEY: keyFile } });
  address = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  protocol: string | null;
}

function httpsRequest(path: string, options: { method?: string; body?: object; ca?: Buffer | null } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const url = new URL(path, address);
    const body = options.body ? JSON.stringify(options.body) : undefined;
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ...(options.ca === null ? {} : { ca: options.ca ?? readFileSync(certFile) }),
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        const protocol = (res.socket as TLSSocket).getProtocol() ?? null;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            protocol,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('built-in HTTPS', () => {
  it('serves over TLS 1.2+ with HSTS, and the __Host- cookie flow works end to end', async () => {
    expect(address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsRequest('/healthz');
    expect(health.status).toBe(200);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(health.protocol);
    expect(health.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');

    const email = newEmail();
    expect(
      (await httpsRequest('/auth/register', { method: 'POST', body: { email, password: PASSWORD } })).status,
    ).toBe(201);
    const login = await httpsRequest('/auth/login', { method: 'POST', body: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    const setCookie = [login.headers['set-cookie'] ?? []].flat();
    expect(setCookie.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && /;\s*Secure/i.test(c))).toBe(true);
  });

  it('a client that does not trust the certificate is refused by TLS itself', async () => {
    await expect(httpsRequest('/healthz', { ca: null })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('plain HTTP to the TLS port gets no answer from the app', async () => {
    const plain = address.replace('https:', 'http:');
    const outcome = await fetch(`${plain}/healthz`).then(
      (r) => r.status,
      () => 'failed',
    );
    expect(outcome).not.toBe(200);
  });
});

describe('configuration', () => {
  const base = { TESSERA_DATABASE_URL: 'memory:' };

  it('production refuses to start without TLS or a trusted proxy, with one line saying how to fix it', () => {
    let error: unknown;
    try {
      loadConfig({ ...base, NODE_ENV: 'production' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/TESSERA_TLS_CERT/);
    expect(message).toMatch(/TESSERA_TLS_KEY/);
    expect(message).toMatch(/TESSERA_TRUSTED_PROXIES/);
  });

  it('production starts with built-in TLS, or behind a trusted proxy', () => {
    const tls = loadConfig({
      ...base,
      NODE_ENV: 'production',
      TESSERA_TLS_CERT: certFile,
      TESSERA_TLS_KEY: keyFile,
    });
    expect(tls.tls).toEqual({ certFile, keyFile });
    expect(
      loadConfig({ ...base, NODE_ENV: 'production', TESSERA_TRUSTED_PROXIES: '10.0.0.1' }).tls,
    ).toBeUndefined();
    // Outside production plain HTTP is fine (development).
    expect(loadConfig(base).tls).toBeUndefined();
  });

  it('a certificate without a key (or the reverse), or a missing file, stops the start naming the variable', () => {
    expect(() => loadConfig({ ...base, TESSERA_TLS_CERT: certFile })).toThrow(/^TESSERA_TLS_KEY must be set/);
    expect(() => loadConfig({ ...base, TESSERA_TLS_KEY: keyFile })).toThrow(/^TESSERA_TLS_CERT must be set/);
    expect(() =>
      loadConfig({ ...base, TESSERA_TLS_CERT: '/no/such/cert.pem', TESSERA_TLS_KEY: keyFile }),
    ).toThrow(/^TESSERA_TLS_CERT names no readable file/);
  });
});

describe('SameSite and the other new variables', () => {
  it('are validated with one line naming the variable', () => {
    expect(() => loadConfig({ TESSERA_COOKIE_SAMESITE: 'none' })).toThrow(
      /^TESSERA_COOKIE_SAMESITE must be one of lax, strict/,
    );
    expect(() => loadConfig({ TESSERA_RATE_LIMIT: 'maybe' })).toThrow(
      /^TESSERA_RATE_LIMIT must be one of on, off/,
    );
    expect(() => loadConfig({ TESSERA_CSRF_SECRET: 'short' })).toThrow(/^TESSERA_CSRF_SECRET .*not shown/);
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      cookieSameSite: 'lax',
      rateLimit: true,
      csrfSecret: undefined,
      corsOrigins: [],
    });
  });
});

// A session started over inject on the TLS server also works: the app is the same.
describe('inject on a TLS-configured app', () => {
  it('answers like any other', async () => {
    const email = newEmail();
    expect((await post(server.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(201);
  });
});
