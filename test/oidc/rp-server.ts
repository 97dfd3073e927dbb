import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

export const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface AcceptedLogout {
  claims: JWTPayload & { sid?: string; events?: Record<string, unknown> };
  /** performance.now() when the relying party accepted it. */
  at: number;
}

/**
 * A relying party's back-channel logout endpoint over real HTTP, as Back-Channel Logout 1.0
 * 2.6 tells an RP to validate: form-encoded `logout_token`, signature against the provider's
 * JWKS (jose), iss, aud, iat/exp, `typ: logout+jwt`, the logout event, a sid or sub, and no
 * nonce; 200 when valid, 400 otherwise. `down` closes connections (an outage).
 */
export async function startRelyingParty(options: {
  issuer: string;
  clientId: () => string;
  now?: () => number;
  /** Default: the issuer's. */
  jwksUrl?: string;
}) {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl ?? `${options.issuer}/.well-known/jwks.json`));
  const accepted: AcceptedLogout[] = [];
  const refused: string[] = [];
  const state = { down: false };
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    if (state.down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        if (
          req.method !== 'POST' ||
          !/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')
        ) {
          throw new Error('not a form POST');
        }
        const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token') ?? '';
        const { payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.clientId(),
          typ: 'logout+jwt',
          requiredClaims: ['iat', 'exp', 'jti'],
          ...(options.now && { currentDate: new Date(options.now()) }),
        });
        const events = payload.events as Record<string, unknown> | undefined;
        if (!events || typeof events[LOGOUT_EVENT] !== 'object') throw new Error('no logout event');
        if ('nonce' in payload) throw new Error('a logout token has no nonce');
        if (typeof payload.sid !== 'string' && typeof payload.sub !== 'string')
          throw new Error('no sid nor sub');
        accepted.push({ claims: payload as AcceptedLogout['claims'], at: performance.now() });
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
        for (const wake of waiters.splice(0)) wake();
      } catch (error) {
        refused.push(String(error));
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/backchannel-logout`,
    accepted,
    refused,
    state,
    async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (accepted.length < count) {
        if (Date.now() > deadline) throw new Error(`relying party accepted ${accepted.length} of ${count}`);
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
