import { existsSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import { CLI, runCli } from '../cli-process.js';
import { tempDir } from '../helpers.js';
import { freePort } from './node.js';

/**
 * A node that cannot start says why in one line naming the problem (and the variable to fix
 * where there is one), exits 1, and prints no stack trace.
 */
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

async function startFails(env: Record<string, string>, cwd = tempDir()) {
  const result = await runCli(['serve'], { TESSERA_PORT: String(await freePort()), ...env }, '', cwd);
  const lines = result.stderr.trim().split('\n');
  expect(result.code, result.stderr).toBe(1);
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

/** A real, migrated database file (opened in process) with enough rows to span many pages. */
async function populatedDatabase(dir: string): Promise<string> {
  const file = join(dir, 'tessera.db');
  await (await openSqliteStores(file)).close();
  const db = new BetterSqlite3(file);
  db.exec('create table filler (x text)');
  const insert = db.prepare('insert into filler values (?)');
  for (let i = 0; i < 500; i++) insert.run('x'.repeat(400));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return file;
}

describe.concurrent('start-up faults: one line, exit 1', () => {
  it('PostgreSQL unreachable', async () => {
    const port = await freePort();
    const line = await startFails({
      TESSERA_DATABASE_URL: `postgres://tessera:secret@127.0.0.1:${port}/tessera`,
    });
    expect(line).toMatch(/^tessera: the database cannot be reached \(TESSERA_DATABASE_URL\): .*ECONNREFUSED/);
    expect(line).not.toContain('secret');
  });

  it('an SQLite file that is not a database', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'junk.db'), Buffer.alloc(64 * 1024, 0x5a));
    const line = await startFails({ TESSERA_DATABASE_URL: 'sqlite://./junk.db' }, dir);
    expect(line).toMatch(
      /^tessera: the SQLite database .*junk\.db cannot be opened: file is not a database$/,
    );
  });

  it('an SQLite file with garbage in its middle (PRAGMA quick_check)', async () => {
    const dir = tempDir();
    const file = await populatedDatabase(dir);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0xff), 0, 8192, Math.floor(statSync(file).size / 2 / 4096) * 4096);
    const line = await startFails({ TESSERA_DATABASE_URL: `sqlite://${file}` }, dir);
    expect(line).toMatch(
      /^tessera: the SQLite database .*tessera\.db is corrupt \(.+\); restore it from a backup$/,
    );
  });

  it('a missing SQLite file where one was created before (not silently a fresh install)', async () => {
    const dir = tempDir();
    const file = await populatedDatabase(dir);
    rmSync(file);
    const line = await startFails({ TESSERA_DATABASE_URL: `sqlite://${file}` }, dir);
    expect(line).toMatch(
      /^tessera: the SQLite database .*tessera\.db is missing, but .*tessera\.db\.initialised says it was created before/,
    );
    expect(existsSync(file)).toBe(false);
  });

  it('an SQLite parent path that is a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'data'), 'not a directory');
    const line = await startFails({ TESSERA_DATABASE_URL: 'sqlite://./data/tessera.db' }, dir);
    expect(line).toMatch(
      /^tessera: the SQLite database's directory .*data cannot be created: a path in it is a file/,
    );
  });

  it('the port in use', async () => {
    const busy = createServer();
    const port = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
    );
    try {
      const line = await startFails({ TESSERA_PORT: String(port) });
      expect(line).toBe(
        `tessera: cannot listen on 127.0.0.1:${port}: TESSERA_PORT ${port} is already in use on TESSERA_HOST 127.0.0.1`,
      );
    } finally {
      busy.close();
    }
  });

  it('a host name that does not resolve blames TESSERA_HOST, not the database', async () => {
    const line = await startFails({ TESSERA_HOST: 'bogus.invalid' });
    expect(line).toMatch(
      /^tessera: cannot listen on bogus\.invalid:\d+: TESSERA_HOST bogus\.invalid does not resolve/,
    );
  });

  it('a fresh directory still just starts (and marks the database as created)', async () => {
    const dir = tempDir();
    const result = await runCli(['migrate'], {}, '', dir);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'data', 'tessera.db.initialised'))).toBe(true);
  });
});
