import type { Server, Socket } from 'node:net';

/**
 * How long a client may take, so a slow one cannot hold sockets (slowloris, slow POST).
 * Tessera's requests are small (16 KiB body cap, 16 KiB headers): a phone on a poor link sends
 * one in well under a second, so these bounds are generous for people and short for attackers.
 * Not configurable: no real deployment needs slower clients; fixed values keep the bound stated
 * in docs/SECURITY.md true.
 */
export const CONNECTION_TIMEOUTS = {
  /** Request line and headers must arrive within this, counted from the connection (or the previous response). */
  headersTimeoutMs: 10_000,
  /** The whole request (headers and body) must arrive within this; then Node answers 408 and closes. */
  requestTimeoutMs: 10_000,
  /**
   * Node checks the two bounds above on this interval (its default, 30 s, would stretch a
   * 10 s bound to 40 s). One cheap pass over open connections per second.
   */
  checkIntervalMs: 1_000,
  /**
   * An idle keep-alive connection is closed after this. Above the 60 s idle timeout of common
   * proxies and load balancers (nginx upstream keepalive, AWS ALB), so the proxy, never
   * Tessera, closes an idle pooled connection: the other order races a reused socket into a 502.
   */
  keepAliveTimeoutMs: 65_000,
  /** A socket with no traffic at all (neither way) for this long is destroyed, whatever its state. */
  socketIdleTimeoutMs: 70_000,
  /** Built-in HTTPS: a TLS handshake must finish within this (Node's default is 120 s). */
  tlsHandshakeTimeoutMs: 10_000,
} as const;

/**
 * Built-in HTTPS only: open connections allowed from one IP. With TLS terminated here Tessera
 * faces the internet directly, and each connection costs a socket, a TLS context and memory.
 * Browsers open at most 6 per origin over HTTP/1.1, so 64 leaves room for an office behind
 * one NAT address. Behind a proxy every connection comes from the proxy's address, so no cap
 * applies there (the proxy's own limits do that job).
 */
export const MAX_CONNECTIONS_PER_IP = 64;

/**
 * Destroys a new connection (before the TLS handshake, so it costs nothing) from an IP that
 * already holds `max` open ones. Counted on the raw TCP socket.
 */
export function capConnectionsPerIp(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const count = open.get(ip) ?? 0;
    if (count >= max) {
      socket.destroy();
      return;
    }
    open.set(ip, count + 1);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left > 0) open.set(ip, left);
      else open.delete(ip);
    });
  });
}
