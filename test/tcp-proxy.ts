import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a loopback port, so a test can take a service away from one client (cut),
 * break it in the ways networks break (reset, blackhole, slow) and give it back on the same
 * port (restore) without touching the service itself, which other test files share.
 */
export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones, like a service that stopped. */
  cut(): Promise<void>;
  /**
   * Sends a TCP reset to every open client connection (and drops its upstream half), like a
   * firewall or a failing load balancer; new connections are accepted as before.
   */
  reset(): void;
  /**
   * Forwards nothing, either way, on open and new connections (accepted, never refused or
   * reset), like a partition where packets are dropped. What was sent is held, not lost, and
   * delivered on restore(), as TCP retransmission would once the partition heals.
   */
  blackhole(): void;
  /** Delays every chunk, either way, by this many milliseconds (order kept), until restore(). */
  slow(delayMs: number): void;
  /** Accepts connections again on the same port and forwards at full speed (ends every fault). */
  restore(): Promise<void>;
  /** Where new connections go from now on (another server: a failover). */
  retarget(target: { host: string; port: number }): void;
  close(): Promise<void>;
}

export async function startTcpProxy(initialTarget: { host: string; port: number }): Promise<TcpProxy> {
  let target = initialTarget;
  let delayMs = 0;
  let holding = false;
  /** Writes held by a blackhole, in order, released by restore(). */
  let held: Array<() => void> = [];
  const clients = new Set<Socket>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      const write = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (holding) held.push(write);
      else if (delayMs > 0) setTimeout(write, delayMs);
      else write();
    });
  };
  const newServer = () =>
    createServer((client) => {
      const upstream = connect(target);
      track(client);
      track(upstream);
      clients.add(client);
      client.once('close', () => clients.delete(client));
      forward(client, upstream);
      forward(upstream, client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const stop = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  const release = () => {
    holding = false;
    delayMs = 0;
    for (const write of held.splice(0)) write();
    held = [];
  };
  let server: Server | undefined = newServer();
  const port = await listen(server, 0);
  return {
    port,
    async cut() {
      if (server) await stop(server);
      server = undefined;
    },
    reset() {
      held = [];
      for (const client of clients) client.resetAndDestroy();
    },
    blackhole() {
      holding = true;
    },
    slow(delay) {
      delayMs = delay;
    },
    async restore() {
      release();
      if (server) return;
      server = newServer();
      await listen(server, port);
    },
    retarget(next) {
      target = next;
    },
    async close() {
      held = [];
      holding = false;
      if (server) await stop(server);
      server = undefined;
    },
  };
}

/** host and port of a redis:// or postgres:// URL. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname || '127.0.0.1', port: Number(port) || defaultPort };
}

/**
 * A private, throwaway redis-server (no persistence) on a free loopback port, for tests that
 * need a second server (a failover target); undefined when no redis-server binary is on PATH.
 */
export async function startPrivateRedis(): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  const { spawn, spawnSync } = await import('node:child_process');
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
