import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_TIMEOUTS, MAX_CONNECTIONS_PER_IP } from '../../../src/http/plugins/connections.js';
import { startTessera, type TestServer, tempDir } from '../../helpers.js';

/**
 * Slow clients (slowloris headers, a body trickled one byte at a time, a socket that never
 * speaks) are cut off within the stated bound while ordinary requests keep being answered;
 * with built-in TLS, one IP cannot hold more than MAX_CONNECTIONS_PER_IP sockets. Real sockets.
 */

/** The stated bound plus Node's check interval, plus generous slack for a loaded 2-core box. */
const CLOSE_BOUND_MS = CONNECTION_TIMEOUTS.requestTimeoutMs + CONNECTION_TIMEOUTS.checkIntervalMs + 8_000;

interface Trickle {
  socket: Socket;
  /** Resolves with the milliseconds from connect to close, and what the server sent. */
  closed: Promise<{ afterMs: number; received: string }>;
  stop(): void;
}

/** Opens a raw socket, writes `head`, then one byte of `drip` every `everyMs` until closed. */
function trickle(port: number, head: string, drip: string, everyMs: number): Trickle {
  const socket = connect({ port, host: '127.0.0.1' });
  const started = Date.now();
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  socket.on('data', (chunk) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    if (head) socket.write(head);
    let i = 0;
    if (drip)
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip[i++ % drip.length] as string);
      }, everyMs);
  });
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ afterMs: Date.now() - started, received });
    }),
  );
  return {
    socket,
    closed,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** Resolves with the value, or with 'still open' after `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'still open'>((r) => setTimeout(() => r('still open'), ms).unref())]);

describe('slow clients over plain HTTP', () => {
  let server: TestServer;
  let port: number;
  beforeAll(async () => {
    server = await startTessera();
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it('closes a trickled body, trickled headers and a silent socket within the bound; others are served meanwhile', async () => {
    const slowBody = trickle(
      port,
      'POST /auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{',
      ' ',
      1_000,
    );
    const slowHeaders = trickle(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: 1\r\n', 1_000);
    const silent = trickle(port, '', '', 0);
    const clients = [slowBody, slowHeaders, silent];

    // Ordinary requests, one every half second, while the slow ones hang on.
    let served = 0;
    let failed = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) served++;
        else failed++;
        await new Promise((r) => setTimeout(r, 500));
      }
    })();

    try {
      const outcomes = await Promise.all(clients.map((c) => within(c.closed, CLOSE_BOUND_MS)));
      for (const outcome of outcomes) expect(outcome).not.toBe('still open');
      const [body, headers] = outcomes as { afterMs: number; received: string }[];
      // Cut by the timeout (Node answers 408 Request Timeout), not by some unrelated error.
      expect(body?.received).toMatch(/^HTTP\/1\.1 408/);
      expect(headers?.received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      polling = false;
      await poller;
      for (const client of clients) client.stop();
    }
    expect(served).toBeGreaterThan(5);
    expect(failed).toBe(0);
  }, 60_000);
});

describe('built-in HTTPS: connections per IP', () => {
  let server: TestServer;
  let port: number;
  let certFile: string;
  beforeAll(async () => {
    const dir = tempDir();
    certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'],
        ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ],
      { stdio: 'pipe' },
    );
    server = await startTessera({ env: { TESSERA_TLS_CERT: certFile, TESSERA_TLS_KEY: keyFile } });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  const httpsStatus = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/healthz', ca: readFileSync(certFile), agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });

  it(`refuses connection ${MAX_CONNECTIONS_PER_IP + 1} from one IP, serves again once one closes, and ends stalled handshakes`, async () => {
    const held: Trickle[] = [];
    try {
      for (let i = 0; i < MAX_CONNECTIONS_PER_IP; i++) {
        const t = trickle(port, '', '', 0);
        held.push(t);
        await new Promise((r) => t.socket.once('connect', r));
      }
      // Give the server a moment to count them all.
      await new Promise((r) => setTimeout(r, 200));
      const extra = trickle(port, '', '', 0);
      expect(await within(extra.closed, 5_000)).not.toBe('still open');
      await expect(httpsStatus()).rejects.toThrow();
      for (const t of held.slice(0, 4)) t.stop();
      await Promise.all(held.slice(0, 4).map((t) => t.closed));
      await new Promise((r) => setTimeout(r, 200));
      expect(await httpsStatus()).toBe(200);
      // The held sockets never started a TLS handshake: the handshake timeout ends them.
      const rest = await within(
        Promise.all(held.slice(4).map((t) => t.closed)),
        CONNECTION_TIMEOUTS.tlsHandshakeTimeoutMs + 8_000,
      );
      expect(rest).not.toBe('still open');
    } finally {
      for (const t of held) t.stop();
    }
  }, 60_000);
});
