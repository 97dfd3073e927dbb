import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../../src/config.js';

describe('configuration', () => {
  it('has safe defaults with no environment at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      mode: 'session',
      database: { engine: 'sqlite', filename: expect.stringMatching(/data\/tessera\.db$/) },
      session: { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3_600_000 },
      trustedProxies: [],
    });
  });

  it('reads durations and database URLs', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('120')).toBe(120_000);
    expect(parseDuration('1.5h')).toBeUndefined();
    const config = loadConfig({
      TESSERA_DATABASE_URL: 'sqlite:///var/lib/tessera/x.db',
      TESSERA_SESSION_IDLE_TIMEOUT: '15m',
    });
    expect(config.database).toEqual({
      engine: 'sqlite',
      filename: '/var/lib/tessera/x.db',
      synchronous: 'normal',
    });
    expect(config.session.idleTimeoutMs).toBe(900_000);
    expect(loadConfig({ TESSERA_DATABASE_URL: 'memory:' }).database).toEqual({ engine: 'memory' });
  });

  it.each([
    ['TESSERA_PORT', 'abc'],
    ['TESSERA_PORT', '70000'],
    ['TESSERA_MODE', 'cookies'],
    ['TESSERA_DATABASE_URL', 'mysql://localhost/x'],
    ['TESSERA_DATABASE_URL', 'sqlite://'],
    ['TESSERA_SQLITE_SYNCHRONOUS', 'off'],
    ['TESSERA_SQLITE_SYNCHRONOUS', 'FULL'],
    ['TESSERA_SESSION_IDLE_TIMEOUT', 'soon'],
    ['TESSERA_SESSION_IDLE_TIMEOUT', '10s'],
    ['TESSERA_LOG_LEVEL', 'loud'],
    ['TESSERA_PASSWORD_HASH_THREADS', '0'],
    ['TESSERA_PASSWORD_HASH_THREADS', 'two'],
    ['TESSERA_PASSWORD_HASH_THREADS', '1.5'],
    ['TESSERA_PASSWORD_HASH_THREADS', '1000'],
  ])('stops on %s=%s with one line naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(variable)).toBe(true);
    expect(message).toContain(JSON.stringify(value));
    expect(message).not.toContain('\n');
  });

  it('syncs SQLite commits as TESSERA_SQLITE_SYNCHRONOUS says: normal by default, or full', () => {
    expect(loadConfig({})).toMatchObject({ database: { engine: 'sqlite', synchronous: 'normal' } });
    const full = loadConfig({ TESSERA_SQLITE_SYNCHRONOUS: 'full' });
    expect(full.database).toMatchObject({ engine: 'sqlite', synchronous: 'full' });
  });

  it('hashes passwords on one thread per available core unless TESSERA_PASSWORD_HASH_THREADS says otherwise', () => {
    expect(loadConfig({}).passwordHashThreads).toBe(availableParallelism());
    expect(loadConfig({ TESSERA_PASSWORD_HASH_THREADS: '3' }).passwordHashThreads).toBe(3);
  });

  it('refuses an absolute timeout shorter than the idle timeout', () => {
    expect(() =>
      loadConfig({ TESSERA_SESSION_IDLE_TIMEOUT: '2h', TESSERA_SESSION_ABSOLUTE_TIMEOUT: '1h' }),
    ).toThrow(/TESSERA_SESSION_ABSOLUTE_TIMEOUT/);
  });
});
