import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabase, loadConfig, redactDatabaseUrl } from '../../src/config.js';

const messageOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('PostgreSQL configuration', () => {
  it('accepts postgres:// and postgresql:// URLs, with a pool size', () => {
    const url = 'postgres://tessera:hunter2@db.internal:5432/tessera?sslmode=require';
    expect(loadConfig({ TESSERA_DATABASE_URL: url }).database).toEqual({
      engine: 'postgres',
      url,
      poolSize: 10,
    });
    expect(
      loadConfig({ TESSERA_DATABASE_URL: 'postgresql:///tessera', TESSERA_DATABASE_POOL_SIZE: '25' })
        .database,
    ).toEqual({ engine: 'postgres', url: 'postgresql:///tessera', poolSize: 25 });
    expect(messageOf({ TESSERA_DATABASE_URL: url, TESSERA_DATABASE_POOL_SIZE: '0' })).toMatch(
      /^TESSERA_DATABASE_POOL_SIZE /,
    );
  });

  it('refuses a malformed URL naming the variable, never echoing its password', () => {
    const message = messageOf({ TESSERA_DATABASE_URL: 'postgres://tessera:hunter2@db:99999/tessera' });
    expect(message).toMatch(/^TESSERA_DATABASE_URL must be .*postgres:\/\//);
    expect(message).not.toContain('hunter2');
    expect(messageOf({ TESSERA_DATABASE_URL: 'mysql://root:hunter2@db/x' })).not.toContain('hunter2');
  });

  it('needs a shared key-encryption key for jwt mode on PostgreSQL', () => {
    const url = 'postgres://tessera:hunter2@db/tessera';
    const message = messageOf({ TESSERA_DATABASE_URL: url, TESSERA_MODE: 'jwt' });
    expect(message).toMatch(/^TESSERA_KEY_ENCRYPTION_KEY is required with PostgreSQL/);
    expect(message).not.toContain('hunter2');
    const kek = 'ab'.repeat(32);
    expect(
      loadConfig({ TESSERA_DATABASE_URL: url, TESSERA_MODE: 'jwt', TESSERA_KEY_ENCRYPTION_KEY: kek }).mode,
    ).toBe('jwt');
  });

  it('never echoes a bad key-encryption key either', () => {
    const message = messageOf({ TESSERA_KEY_ENCRYPTION_KEY: 'ab'.repeat(31) });
    expect(message).toMatch(/^TESSERA_KEY_ENCRYPTION_KEY /);
    expect(message).not.toContain('abab');
  });

  it('redacts passwords wherever the URL is shown', () => {
    expect(redactDatabaseUrl('postgres://tessera:hunter2@db:5432/tessera')).toBe(
      'postgres://tessera:***@db:5432/tessera',
    );
    expect(redactDatabaseUrl('postgres://db/tessera?user=t&password=hunter2')).toBe(
      'postgres://db/tessera?user=t&password=***',
    );
    expect(redactDatabaseUrl('postgres://tessera@db/tessera')).toBe('postgres://tessera@db/tessera');
    expect(describeDatabase({ engine: 'postgres', url: 'postgresql://u:p%40ss@h/d', poolSize: 10 })).toBe(
      'postgresql://u:***@h/d',
    );
    expect(describeDatabase({ engine: 'memory' })).toBe('memory');
  });
});
