import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { CLI, runCli as runCliIn } from '../cli-process.js';
import { PASSWORD, startTessera, tempDir } from '../helpers.js';
import { startReceiver } from './receiver.js';

/** `tessera webhooks list|create|delete|deliveries|retry` as a real process on the server's database. */
const runCli = (args: string[], env: Record<string, string>) => runCliIn(args, env, '', tempDir());

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

describe('tessera webhooks', () => {
  it('create prints the secret once; the server signs with it; deliveries, retry, delete', async () => {
    const dir = tempDir();
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}` };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const receiver = await startReceiver();
    open.push(receiver);

    const created = await runCli(
      ['webhooks', 'create', '--url', receiver.url, '--event', 'user.locked', 'session.revoked'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const id = /created webhook (wh_\S+) \(standard\)/.exec(created.stdout)?.[1];
    const secret = /secret=(whsec_\S+)\t\(shown once/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    receiver.state.secret = secret;
    const listed = await runCli(['webhooks', 'list'], env);
    expect(listed.stdout).toContain(`${id}\tstandard\t${receiver.url}\tevents=[user.locked,session.revoked]`);
    expect(listed.stdout).not.toContain(secret);

    // A server on the same database delivers with the secret the CLI sealed.
    const server = await startTessera({ env, runtime: systemRuntime });
    open.push(server);
    const user = await server.tessera.accounts.register({
      email: 'cli-hook@example.com',
      password: PASSWORD,
    });
    await server.tessera.control.lockUser(user.id, 'cli test', {
      actorId: null,
      client: { ip: 'cli', userAgent: 'cli' },
    });
    await server.tessera.events.drain();
    await receiver.waitFor(1);
    expect(receiver.received[0]?.verified?.type).toBe('user.locked');

    const deliveries = await runCli(['webhooks', 'deliveries', id as string], env);
    expect(deliveries.code, deliveries.stderr).toBe(0);
    const deliveryId = /^(\S+)\tdelivered\tuser\.locked\tattempts=1\tcreated=\S+\thttp=202$/m.exec(
      deliveries.stdout,
    )?.[1];
    expect(deliveryId).toBe(receiver.received[0]?.headers['webhook-id']);

    expect((await runCli(['webhooks', 'retry', id as string, deliveryId as string], env)).stdout).toContain(
      'queued again',
    );
    await server.tessera.events.drain();
    await receiver.waitFor(2);
    expect(receiver.received[1]?.headers['webhook-id']).toBe(deliveryId);

    expect((await runCli(['webhooks', 'delete', id as string], env)).stdout).toContain(
      `deleted webhook ${id}`,
    );
    expect((await runCli(['webhooks', 'list'], env)).stdout).toContain('no webhook endpoints');
  });

  it('bad input: one line naming what is wrong, exit 1, nothing created', async () => {
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'tessera.db')}` };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    for (const [args, message] of [
      [
        ['--url', 'http://127.0.0.1:9/h', '--event', 'user.locked', '--format', 'xml'],
        /--format must be standard or set/,
      ],
      [
        ['--url', 'http://127.0.0.1:9/h', '--event', 'user.teleported'],
        /user\.teleported cannot be delivered/,
      ],
      [['--url', 'ftp://example.com/h', '--event', 'user.locked'], /the URL must use https/],
    ] as const) {
      const refused = await runCli(['webhooks', 'create', ...args], env);
      expect(refused.code, refused.stdout).toBe(1);
      expect(refused.stderr).toMatch(message);
    }
    expect((await runCli(['webhooks', 'delete', 'wh_nope'], env)).stderr).toMatch(
      /no webhook endpoint with id wh_nope/,
    );
    expect((await runCli(['webhooks', 'list'], env)).stdout).toContain('no webhook endpoints');
  });
});
