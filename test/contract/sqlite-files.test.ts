import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newEmail, PASSWORD, post, startTessera, tempDir } from '../helpers.js';

/** The SQLite database (and its -wal/-shm files) readable only by the account running Tessera. */

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('SQLite file modes', () => {
  it('creates the data folder 0700 and the database, -wal and -shm files 0600, with no warning', async () => {
    const folder = join(tempDir(), 'nested', 'data');
    const filename = join(folder, 'tessera.db');
    const server = await startTessera({ env: { TESSERA_DATABASE_URL: `sqlite://${filename}` } });
    try {
      // A write, so the WAL files certainly exist.
      expect(
        (await post(server.app, '/auth/register', { email: newEmail(), password: PASSWORD })).statusCode,
      ).toBe(201);
      expect(modeOf(folder)).toBe(0o700);
      for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) expect(modeOf(file)).toBe(0o600);
      expect(server.tessera.warnings.join('\n')).not.toMatch(/open to other users/);
    } finally {
      await server.close();
    }
  });

  it('warns in one line, naming each exposed path, when existing files are readable by others', async () => {
    const folder = join(tempDir(), 'data');
    const filename = join(folder, 'tessera.db');
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    writeFileSync(filename, '');
    chmodSync(filename, 0o644);
    const server = await startTessera({ env: { TESSERA_DATABASE_URL: `sqlite://${filename}` } });
    try {
      const warnings = server.tessera.warnings.filter((w) => w.includes('open to other users'));
      expect(warnings).toHaveLength(1);
      const [warning] = warnings as [string];
      expect(warning).not.toContain('\n');
      expect(warning).toContain(`${folder} (0755)`);
      expect(warning).toContain(`${filename} (0644)`);
      // SQLite gave its side files the database's (exposed) mode: named too.
      expect(warning).toContain(`${filename}-wal (0644)`);
      expect(warning).toContain('chmod 600');
      // An existing file keeps the mode its operator gave it.
      expect(modeOf(filename)).toBe(0o644);
    } finally {
      await server.close();
    }
  });
});
