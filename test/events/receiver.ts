import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** When the request's body was fully read (performance.now()). */
  at: number;
  /** Standard Webhooks: the parsed payload when the signature verified, else undefined. */
  verified?: { type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * A webhook receiver over real HTTP: records every request, answers `status` (202 by default),
 * or hangs when `hang` is set (a slow receiver). With `secret`, it verifies the Standard
 * Webhooks signature with the standardwebhooks library, as a customer's receiver would, and
 * answers 401 when it does not verify.
 */
export async function startReceiver(options: { status?: number; port?: number } = {}) {
  const received: Received[] = [];
  const state = { status: options.status ?? 202, hang: false, secret: undefined as string | undefined };
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (state.hang) return; // never answers: the sender's timeout must end it
      const body = Buffer.concat(chunks).toString('utf8');
      const entry: Received = { headers: req.headers, body, at: performance.now() };
      if (state.secret) {
        try {
          entry.verified = new Webhook(state.secret).verify(
            body,
            req.headers as Record<string, string>,
          ) as Received['verified'];
        } catch {
          res.writeHead(401).end();
          received.push(entry);
          return;
        }
      }
      received.push(entry);
      res.writeHead(state.status).end('ok');
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    state,
    /** Resolves once `count` requests were answered with the current status. */
    async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} of ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
