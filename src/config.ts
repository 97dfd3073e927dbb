import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { environmentSchema, POSTGRES_URL } from './config-environment.js';
import { type MailConfig, mailConfig } from './config-mail.js';
import { type WebAuthnConfig, webauthnConfig } from './config-webauthn.js';
import type { JwsAlgorithm } from './core/jwt/algorithms.js';

/**
 * Configuration comes from TESSERA_* environment variables only (their schema, defaults and
 * reasons: config-environment.ts), validated once at start. A bad value stops the start with
 * one line naming the variable (ConfigError).
 */
export {
  CONFIGURATION_VARIABLES,
  DEFAULT_OAUTH_SCOPES,
  parseDuration,
  SCOPE_NAME,
} from './config-environment.js';

export interface TesseraConfig {
  port: number;
  host: string;
  /** `memory:`, an SQLite file path (resolved to absolute), or a PostgreSQL URL (holds a password: never log it). */
  database:
    | { engine: 'memory' }
    | { engine: 'sqlite'; filename: string; synchronous: 'normal' | 'full' }
    | { engine: 'postgres'; url: string; poolSize: number };
  mode: 'session' | 'jwt' | 'hybrid';
  session: { idleTimeoutMs: number; absoluteTimeoutMs: number };
  jwt: {
    accessTokenTtlMs: number;
    algorithm: JwsAlgorithm;
    allowedAlgorithms: JwsAlgorithm[];
    issuer: string;
    audience: string;
    refreshReuseGraceMs: number;
    /** TESSERA_CLOCK_SKEW: tolerance for exp, iat and nbf when verifying access tokens. */
    clockSkewMs: number;
  };
  /** Raw TESSERA_KEY_ENCRYPTION_KEY; when absent outside production a key file is generated. */
  keyEncryptionKey: string | undefined;
  production: boolean;
  auditRetentionMs: number;
  sweepIntervalMs: number;
  trustedProxies: string[];
  logLevel: string;
  /** TESSERA_WEBHOOK_ALLOWED_NETWORKS: private networks webhook deliveries may reach in production. */
  webhookAllowedNetworks: string[];
  /** Exact origins allowed to make credentialed cross-origin requests (TESSERA_CORS_ORIGINS). */
  corsOrigins: string[];
  cookieSameSite: 'lax' | 'strict';
  csrfSecret: string | undefined;
  rateLimit: boolean;
  /** Built-in HTTPS: absolute paths of the PEM certificate and key. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** TESSERA_OAUTH_SCOPES: every scope an application or API key may be given, with its description. */
  oauth: { scopes: Readonly<Record<string, string>> };
  /** TESSERA_REDIS_URL (holds a password: never log it) and TESSERA_REDIS_PREFIX; undefined without Redis. */
  redis: { url: string; prefix: string } | undefined;
  /** TESSERA_PASSWORD_HASH_THREADS: password-hashing threads, by default os.availableParallelism(). */
  passwordHashThreads: number;
  /** TESSERA_BREACHED_PASSWORDS(_URL): the range endpoint to check new passwords against, or undefined (off). */
  breachedPasswords: { rangeUrl: string } | undefined;
  /** Email delivery and the account-recovery flows (config-mail.ts). */
  mail: MailConfig;
  /**
   * TESSERA_METRICS_PORT / TESSERA_METRICS_TOKEN: where GET /metrics answers (its own listener,
   * or the main port with the bearer token); undefined when neither is set (no metrics at all).
   */
  metrics: { port: number | undefined; token: string | undefined } | undefined;
  /** Second factors: roles that must have one (TESSERA_MFA_REQUIRED_ROLES), the step-up age (TESSERA_STEP_UP_MAX_AGE). */
  mfa: { requiredRoles: string[]; stepUpMaxAgeMs: number };
  /** Passkeys' relying party (config-webauthn.ts); undefined: passkeys are off. */
  webauthn: WebAuthnConfig | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TesseraConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'configuration');
    const value = env[variable];
    const got = value === undefined ? '' : ` (got ${JSON.stringify(shownValue(variable, value))})`;
    throw new ConfigError(`${variable} ${describeIssue(issue)}${got}`);
  }
  const e = parsed.data;
  if (e.TESSERA_SESSION_ABSOLUTE_TIMEOUT < e.TESSERA_SESSION_IDLE_TIMEOUT) {
    throw new ConfigError(
      'TESSERA_SESSION_ABSOLUTE_TIMEOUT must not be shorter than TESSERA_SESSION_IDLE_TIMEOUT',
    );
  }
  const allowedAlgorithms = e.TESSERA_JWT_ALLOWED_ALGORITHMS ?? [e.TESSERA_JWT_ALGORITHM];
  if (!allowedAlgorithms.includes(e.TESSERA_JWT_ALGORITHM)) {
    throw new ConfigError('TESSERA_JWT_ALLOWED_ALGORITHMS must include TESSERA_JWT_ALGORITHM');
  }
  // Private keys sealed under a key that sits next to the database protect nothing in production.
  const production = env.NODE_ENV === 'production';
  if (production && e.TESSERA_MODE !== 'session' && !e.TESSERA_KEY_ENCRYPTION_KEY) {
    throw new ConfigError(
      'TESSERA_KEY_ENCRYPTION_KEY is required in production (generate one: openssl rand -hex 32)',
    );
  }
  // A shared database is read by several nodes (and survives restarts): a key generated by one
  // process could not unseal the signing keys for any other.
  const database = parseDatabaseUrl(
    e.TESSERA_DATABASE_URL,
    e.TESSERA_DATABASE_POOL_SIZE,
    e.TESSERA_SQLITE_SYNCHRONOUS,
  );
  if (database.engine === 'postgres' && e.TESSERA_MODE !== 'session' && !e.TESSERA_KEY_ENCRYPTION_KEY) {
    throw new ConfigError(
      `TESSERA_KEY_ENCRYPTION_KEY is required with PostgreSQL in ${e.TESSERA_MODE} mode: every node must unseal the same signing keys (generate one: openssl rand -hex 32)`,
    );
  }
  if (e.TESSERA_METRICS_PORT !== undefined && e.TESSERA_METRICS_PORT === e.TESSERA_PORT) {
    throw new ConfigError(
      `TESSERA_METRICS_PORT must differ from TESSERA_PORT (got ${JSON.stringify(env.TESSERA_METRICS_PORT)})`,
    );
  }
  const tls = parseTls(e.TESSERA_TLS_CERT, e.TESSERA_TLS_KEY);
  // Cookies are Secure and passwords travel in bodies: production needs HTTPS here or at a proxy.
  if (production && !tls && e.TESSERA_TRUSTED_PROXIES.length === 0) {
    throw new ConfigError(
      'production needs HTTPS: set TESSERA_TLS_CERT and TESSERA_TLS_KEY, or TESSERA_TRUSTED_PROXIES to the TLS-terminating proxy that forwards X-Forwarded-Proto',
    );
  }
  const issuer = e.TESSERA_ISSUER ?? `http://localhost:${e.TESSERA_PORT}`;
  return {
    port: e.TESSERA_PORT,
    host: e.TESSERA_HOST,
    database,
    mode: e.TESSERA_MODE,
    session: {
      idleTimeoutMs: e.TESSERA_SESSION_IDLE_TIMEOUT,
      absoluteTimeoutMs: e.TESSERA_SESSION_ABSOLUTE_TIMEOUT,
    },
    jwt: {
      accessTokenTtlMs: e.TESSERA_ACCESS_TOKEN_TTL,
      algorithm: e.TESSERA_JWT_ALGORITHM,
      allowedAlgorithms,
      issuer,
      audience: e.TESSERA_AUDIENCE,
      refreshReuseGraceMs: e.TESSERA_REFRESH_REUSE_GRACE,
      clockSkewMs: e.TESSERA_CLOCK_SKEW,
    },
    keyEncryptionKey: e.TESSERA_KEY_ENCRYPTION_KEY,
    production,
    auditRetentionMs: e.TESSERA_AUDIT_RETENTION,
    sweepIntervalMs: e.TESSERA_SWEEP_INTERVAL,
    trustedProxies: e.TESSERA_TRUSTED_PROXIES,
    logLevel: e.TESSERA_LOG_LEVEL,
    corsOrigins: e.TESSERA_CORS_ORIGINS,
    webhookAllowedNetworks: e.TESSERA_WEBHOOK_ALLOWED_NETWORKS,
    cookieSameSite: e.TESSERA_COOKIE_SAMESITE,
    csrfSecret: e.TESSERA_CSRF_SECRET,
    rateLimit: e.TESSERA_RATE_LIMIT === 'on',
    redis:
      e.TESSERA_REDIS_URL === undefined
        ? undefined
        : { url: e.TESSERA_REDIS_URL, prefix: e.TESSERA_REDIS_PREFIX },
    tls,
    oauth: { scopes: e.TESSERA_OAUTH_SCOPES },
    passwordHashThreads: e.TESSERA_PASSWORD_HASH_THREADS ?? availableParallelism(),
    breachedPasswords:
      (e.TESSERA_BREACHED_PASSWORDS ?? (production ? 'hibp' : 'off')) === 'hibp'
        ? { rangeUrl: e.TESSERA_BREACHED_PASSWORDS_URL }
        : undefined,
    mail: mailConfig(e, production, issuer),
    metrics:
      e.TESSERA_METRICS_PORT === undefined && e.TESSERA_METRICS_TOKEN === undefined
        ? undefined
        : { port: e.TESSERA_METRICS_PORT, token: e.TESSERA_METRICS_TOKEN },
    mfa: { requiredRoles: e.TESSERA_MFA_REQUIRED_ROLES, stepUpMaxAgeMs: e.TESSERA_STEP_UP_MAX_AGE },
    webauthn: webauthnConfig(e, issuer, (message) => {
      throw new ConfigError(message);
    }),
  };
}

function parseTls(cert: string | undefined, key: string | undefined): TesseraConfig['tls'] {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined) throw new ConfigError('TESSERA_TLS_CERT must be set together with TESSERA_TLS_KEY');
  if (key === undefined) throw new ConfigError('TESSERA_TLS_KEY must be set together with TESSERA_TLS_CERT');
  for (const [variable, file] of [
    ['TESSERA_TLS_CERT', cert],
    ['TESSERA_TLS_KEY', key],
  ]) {
    if (!existsSync(resolve(file as string))) {
      throw new ConfigError(`${variable} names no readable file (got ${JSON.stringify(file)})`);
    }
  }
  return { certFile: resolve(cert), keyFile: resolve(key) };
}

function parseDatabaseUrl(
  url: string,
  poolSize: number,
  synchronous: 'normal' | 'full',
): TesseraConfig['database'] {
  if (url === 'memory:') return { engine: 'memory' };
  if (POSTGRES_URL.test(url)) return { engine: 'postgres', url, poolSize };
  // sqlite:///abs/path has an empty host and an absolute path; sqlite://./rel is relative to cwd.
  const path = url.slice('sqlite://'.length);
  return { engine: 'sqlite', filename: path === ':memory:' ? path : resolve(path), synchronous };
}

/** The URL with its password (in the authority or a `password` parameter) replaced by ***. */
export function redactDatabaseUrl(url: string): string {
  if (!URL.canParse(url)) return url.includes('@') ? '<unparsable URL, not shown>' : url;
  const parsed = new URL(url);
  if (!parsed.password && !parsed.searchParams.has('password')) return url;
  if (parsed.password) parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  return parsed.toString();
}

/** Where the store is, safe to log. */
export function describeDatabase(database: TesseraConfig['database']): string {
  if (database.engine === 'memory') return 'memory';
  return database.engine === 'sqlite' ? `sqlite ${database.filename}` : redactDatabaseUrl(database.url);
}

/** A bad value as the error may echo it: never a password or a key. */
function shownValue(variable: string, value: string): string {
  if (variable === 'TESSERA_DATABASE_URL') return redactDatabaseUrl(value);
  if (variable === 'TESSERA_REDIS_URL') return redactDatabaseUrl(value);
  if (variable === 'TESSERA_SMTP_URL') return redactDatabaseUrl(value);
  if (variable === 'TESSERA_CSRF_SECRET') return `<${value.length} characters, not shown>`;
  if (variable === 'TESSERA_KEY_ENCRYPTION_KEY') return `<${value.length} characters, not shown>`;
  if (variable === 'TESSERA_METRICS_TOKEN') return `<${value.length} characters, not shown>`;
  return value;
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'is invalid';
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_type') {
    return `is invalid: ${issue.message}`;
  }
  return issue.message;
}
