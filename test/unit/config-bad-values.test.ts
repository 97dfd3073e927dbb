import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_VARIABLES, ConfigError, loadConfig } from '../../src/config.js';

/**
 * Every configuration variable, with bad values an operator could plausibly type. Each must stop
 * loadConfig with one ConfigError line that names the variable (the CLI prints it and exits 1:
 * test/cli-config.test.ts checks that for a handful of them in real processes). A variable
 * added to src/config.ts without a row here fails the first test.
 */
const existingFile = join(mkdtempSync(join(tmpdir(), 'tessera-config-')), 'cert.pem');
writeFileSync(existingFile, 'not checked here\n');

const BAD_VALUES: Record<string, Array<string | Record<string, string>>> = {
  TESSERA_PORT: ['abc', '70000', '-1', '3000.5'],
  TESSERA_HOST: ['', 'http://0.0.0.0', '0.0.0.0:3000', 'has space', 'bad_host!'],
  TESSERA_DATABASE_URL: ['mysql://localhost/x', 'sqlite://', 'postgres://db:99999/x', 'data/tessera.db'],
  TESSERA_DATABASE_POOL_SIZE: ['0', 'many', '1001'],
  TESSERA_REDIS_URL: ['http://localhost:6379', 'localhost:6379'],
  TESSERA_REDIS_PREFIX: ['has space', ''],
  TESSERA_MODE: ['cookies', 'JWT'],
  TESSERA_SESSION_IDLE_TIMEOUT: ['soon', '10s', '1.5h'],
  TESSERA_SESSION_ABSOLUTE_TIMEOUT: ['1m', 'forever'],
  TESSERA_SWEEP_INTERVAL: ['0s', 'often'],
  TESSERA_TRUSTED_PROXIES: ['not-an-ip', '10.0.0.0/33', '10.0.0.1,proxy.internal', '::1/129', '10.0.0.0/8/8'],
  TESSERA_WEBHOOK_ALLOWED_NETWORKS: ['10.0.0.1', '10.0.0.0/33', 'internal', '10.0.0.0/8/8'],
  TESSERA_ACCESS_TOKEN_TTL: ['2h', '5s', 'short'],
  TESSERA_JWT_ALGORITHM: ['none', 'HS512'],
  TESSERA_JWT_ALLOWED_ALGORITHMS: ['none', 'EdDSA,none', ''],
  TESSERA_ISSUER: [
    'localhost:3000',
    'ftp://auth.example.com',
    'auth.example.com',
    'https://auth.example.com/?tenant=1',
    'https://auth.example.com/#x',
    'https://user:pw@auth.example.com',
  ],
  TESSERA_AUDIENCE: ['', 'x'.repeat(201)],
  TESSERA_KEY_ENCRYPTION_KEY: ['short', 'z'.repeat(64)],
  TESSERA_REFRESH_REUSE_GRACE: ['2m', 'a while'],
  TESSERA_CLOCK_SKEW: ['0s', '5m'],
  TESSERA_AUDIT_RETENTION: ['1h', 'forever'],
  TESSERA_LOG_LEVEL: ['loud', 'INFO'],
  TESSERA_CORS_ORIGINS: ['*', 'null', 'https://app.example.com/path', 'app.example.com'],
  TESSERA_COOKIE_SAMESITE: ['none', 'Lax'],
  TESSERA_CSRF_SECRET: ['too-short'],
  TESSERA_METRICS_PORT: ['abc', '0', '70000', '9090.5', { TESSERA_METRICS_PORT: '3000' }],
  TESSERA_METRICS_TOKEN: ['too-short', `${'a'.repeat(40)} b`],
  TESSERA_RATE_LIMIT: ['maybe', 'true'],
  TESSERA_MFA_REQUIRED_ROLES: ['Admin', 'admin,bad role'],
  TESSERA_STEP_UP_MAX_AGE: ['5s', 'soon', '2d'],
  TESSERA_OAUTH_SCOPES: ['not json', '{}', '{"Bad Scope":"x"}', '{"profile":""}', '["profile"]'],
  TESSERA_PASSWORD_HASH_THREADS: ['0', 'two', '1.5', '1000'],
  TESSERA_SQLITE_SYNCHRONOUS: ['off', 'FULL', 'extra'],
  TESSERA_BREACHED_PASSWORDS: ['on', 'HIBP', 'yes'],
  TESSERA_BREACHED_PASSWORDS_URL: ['ftp://mirror.example/range/', 'not a url'],
  TESSERA_SMTP_URL: ['mail.example.com:587', 'http://mail.example.com', 'smtp://'],
  TESSERA_MAIL_FROM: ['x', 'Bank <no-reply@bank.example>\nBcc: victim@example.com'],
  TESSERA_MAIL_OUTBOX_DIR: [''],
  TESSERA_PUBLIC_URL: ['auth.example.com', 'ftp://auth.example.com'],
  TESSERA_REQUIRE_VERIFIED_EMAIL: ['yes', 'ON'],
  TESSERA_NEW_DEVICE_ALERTS: ['true', 'Off'],
  TESSERA_WEBAUTHN_RP_ID: ['https://bank.example', 'bank.example:443', '127.0.0.1', 'Bank.Example', ''],
  TESSERA_WEBAUTHN_ORIGINS: [
    '*',
    'bank.example',
    ',',
    // Another site than the RP id, and plain http off localhost: no browser would accept them.
    { TESSERA_WEBAUTHN_RP_ID: 'bank.example', TESSERA_WEBAUTHN_ORIGINS: 'https://evil.example' },
    { TESSERA_WEBAUTHN_RP_ID: 'bank.example', TESSERA_WEBAUTHN_ORIGINS: 'http://bank.example' },
    { TESSERA_ISSUER: 'http://127.0.0.1:3000', TESSERA_WEBAUTHN_ORIGINS: 'https://bank.example' },
  ],
  TESSERA_WEBAUTHN_RP_NAME: ['', 'x'.repeat(65), 'Bank\nBcc: x'],
  // The TLS pair: a file that does not exist, or one half alone.
  TESSERA_TLS_CERT: [
    { TESSERA_TLS_CERT: '/nonexistent/cert.pem', TESSERA_TLS_KEY: existingFile },
    { TESSERA_TLS_CERT: existingFile },
  ],
  TESSERA_TLS_KEY: [
    { TESSERA_TLS_CERT: existingFile, TESSERA_TLS_KEY: '/nonexistent/key.pem' },
    { TESSERA_TLS_KEY: existingFile },
  ],
};

const SECRETS = new Set(['TESSERA_KEY_ENCRYPTION_KEY', 'TESSERA_CSRF_SECRET', 'TESSERA_METRICS_TOKEN']);

function configErrorOf(env: Record<string, string>): Error {
  try {
    loadConfig(env);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('every configuration variable refuses a bad value with one line naming it', () => {
  it('has bad values for every variable loadConfig reads', () => {
    expect(Object.keys(BAD_VALUES).sort()).toEqual([...CONFIGURATION_VARIABLES].sort());
  });

  const cases = Object.entries(BAD_VALUES).flatMap(([variable, values]) =>
    values.map((value) => ({
      variable,
      env: typeof value === 'string' ? { [variable]: value } : value,
    })),
  );

  it.each(cases)('$variable: $env', ({ variable, env }) => {
    const error = configErrorOf(env);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain('\n');
    // The TLS pair's "set one without the other" line names both, the missing one first.
    if (variable.startsWith('TESSERA_TLS')) expect(error.message).toMatch(/^TESSERA_TLS_(CERT|KEY) /);
    else expect(error.message.startsWith(`${variable} `), error.message).toBe(true);
    expect(error.message).toContain(variable);
    const value = env[variable];
    // The value is echoed so the operator sees the typo, except for secrets.
    if (value !== undefined && value !== '' && !variable.startsWith('TESSERA_TLS')) {
      if (SECRETS.has(variable)) expect(error.message).not.toContain(value);
      else expect(error.message).toContain(JSON.stringify(value));
    }
  });

  it('still accepts the good forms next to the bad ones', () => {
    const config = loadConfig({
      TESSERA_HOST: '0.0.0.0',
      TESSERA_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.0/8, 10.0.0.0/255.0.0.0, fd00::/8, ::1, loopback',
      TESSERA_ISSUER: 'https://auth.example.com/tenant',
      TESSERA_DATABASE_URL: 'postgres://u:p@db.internal:5432/tessera',
    });
    expect(config.host).toBe('0.0.0.0');
    expect(config.trustedProxies).toHaveLength(6);
    expect(config.jwt.issuer).toBe('https://auth.example.com/tenant');
    expect(loadConfig({ TESSERA_HOST: 'auth-1.internal' }).host).toBe('auth-1.internal');
    expect(loadConfig({ TESSERA_HOST: '::' }).host).toBe('::');
    expect(loadConfig({ TESSERA_ISSUER: 'http://localhost:3000' }).jwt.issuer).toBe('http://localhost:3000');
    // Metrics: off unless asked for; a port, a token, or both.
    expect(loadConfig({}).metrics).toBeUndefined();
    expect(loadConfig({ TESSERA_METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, token: undefined });
    const token = 'f'.repeat(64);
    expect(loadConfig({ TESSERA_METRICS_TOKEN: token }).metrics).toEqual({ port: undefined, token });
  });
});

describe('passkeys: the relying party (config-webauthn.ts)', () => {
  it('defaults to the issuer: its host is the RP id, its origin the one origin', () => {
    expect(loadConfig({ TESSERA_ISSUER: 'https://auth.bank.example/tenant' }).webauthn).toEqual({
      rpId: 'auth.bank.example',
      rpName: 'auth.bank.example',
      origins: ['https://auth.bank.example'],
    });
  });

  it('takes a parent domain and its subdomains; an IP issuer alone turns passkeys off', () => {
    const config = loadConfig({
      TESSERA_WEBAUTHN_RP_ID: 'bank.example',
      TESSERA_WEBAUTHN_ORIGINS: 'https://bank.example, https://app.bank.example',
      TESSERA_WEBAUTHN_RP_NAME: 'Example Bank',
    });
    expect(config.webauthn).toEqual({
      rpId: 'bank.example',
      rpName: 'Example Bank',
      origins: ['https://bank.example', 'https://app.bank.example'],
    });
    expect(loadConfig({ TESSERA_ISSUER: 'http://127.0.0.1:3000' }).webauthn).toBeUndefined();
  });
});
