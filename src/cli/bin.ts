#!/usr/bin/env node
import { createRequire } from 'node:module';

/**
 * The `tessera` command. The server's heavy dependencies are optional peer dependencies of the
 * package (an app that only verifies logins with tessera/verify, /express, /fastify, /hono or
 * /client never installs them: see docs/ARCHITECTURE.md), so a server installed without them
 * gets one line naming what to install instead of a module-not-found stack trace.
 */
const SERVER_DEPENDENCIES = ['better-sqlite3', '@node-rs/argon2', 'pg', 'ioredis'] as const;

const require = createRequire(import.meta.url);
const missing = SERVER_DEPENDENCIES.filter((name) => {
  try {
    require.resolve(name);
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  console.error(
    `tessera: the server needs ${missing.join(', ')}, which this install lacks: npm install ${missing.join(' ')}`,
  );
  process.exit(1);
}
await import('./main.js');
