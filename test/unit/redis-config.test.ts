import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('Redis and clock-skew configuration', () => {
  it('has no Redis unless TESSERA_REDIS_URL is set; the prefix defaults to tessera:', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ TESSERA_REDIS_URL: 'redis://127.0.0.1:6379' }).redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      prefix: 'tessera:',
    });
    expect(
      loadConfig({
        TESSERA_REDIS_URL: 'redis-sentinel://s1:26379,s2:26379/main',
        TESSERA_REDIS_PREFIX: 'bank-a:',
      }).redis,
    ).toEqual({ url: 'redis-sentinel://s1:26379,s2:26379/main', prefix: 'bank-a:' });
  });

  it('refuses other URLs, naming the variable and never echoing a password', () => {
    const bad = () => loadConfig({ TESSERA_REDIS_URL: 'http://user:hunter2@cache:6379' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/^TESSERA_REDIS_URL must be redis:\/\//);
    expect(bad).not.toThrow(/hunter2/);
  });

  it('refuses a prefix that would need escaping in SCAN patterns', () => {
    expect(() => loadConfig({ TESSERA_REDIS_PREFIX: 'tessera*' })).toThrow(/^TESSERA_REDIS_PREFIX must be/);
    expect(() => loadConfig({ TESSERA_REDIS_PREFIX: '' })).toThrow(/^TESSERA_REDIS_PREFIX/);
  });

  it('TESSERA_CLOCK_SKEW: 60 s by default, 1 s to 60 s', () => {
    expect(loadConfig({}).jwt.clockSkewMs).toBe(60_000);
    expect(loadConfig({ TESSERA_CLOCK_SKEW: '2s' }).jwt.clockSkewMs).toBe(2_000);
    expect(() => loadConfig({ TESSERA_CLOCK_SKEW: '0s' })).toThrow(/^TESSERA_CLOCK_SKEW must be at least 1s/);
    expect(() => loadConfig({ TESSERA_CLOCK_SKEW: '2m' })).toThrow(/^TESSERA_CLOCK_SKEW must be at most 60s/);
  });
});
