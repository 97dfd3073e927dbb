import { resolve } from 'node:path';
import { z } from 'zod';
import { JWS_ALGORITHMS, type JwsAlgorithm } from './core/jwt/algorithms.js';
import { parseKeyEncryptionKey } from './core/jwt/seal.js';

const isKeyEncryptionKey = (text: string) => {
  try {
    parseKeyEncryptionKey(text);
    return true;
  } catch {
    return false;
  }
};

/**
 * Configuration comes from TESSERA_* environment variables only, validated once at start.
 * Every option has a safe default and the reason for it beside it; a bad value stops the
 * start with one line naming the variable (ConfigError).
 */

const UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m", "12h", "90s", "7d" or a plain number of seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * (UNITS_MS[match[2] || 's'] as number);
}

const duration = (fallback: string, min: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration like 90s, 30m, 12h or 7d' });
        return z.NEVER;
      }
      if (ms < (parseDuration(min) as number)) {
        ctx.addIssue({ code: 'custom', message: `must be at least ${min}` });
        return z.NEVER;
      }
      return ms;
    });

const environmentSchema = z.object({
  TESSERA_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Loopback by default so a development instance is never exposed by accident; set
  // 0.0.0.0 (or a specific address) in a container or behind a load balancer.
  TESSERA_HOST: z.string().min(1).default('127.0.0.1'),
  TESSERA_DATABASE_URL: z
    .string()
    .default('sqlite://./data/tessera.db')
    .refine((url) => url === 'memory:' || url.startsWith('sqlite://'), {
      message: 'must be sqlite:///absolute/path.db, sqlite://./relative/path.db or memory:',
    }),
  TESSERA_MODE: z.enum(['session', 'jwt']).default('session'),
  // OWASP's session guidance: 15-30 minutes idle for high-value applications.
  TESSERA_SESSION_IDLE_TIMEOUT: duration('30m', '1m'),
  // A working day: an unattended but busy tab still has to log in again the next morning.
  TESSERA_SESSION_ABSOLUTE_TIMEOUT: duration('12h', '5m'),
  // Expired rows are harmless (validation checks expiry) but take space; 5 minutes keeps the
  // table near its live size without the sweep showing up in load.
  TESSERA_SWEEP_INTERVAL: duration('5m', '1s'),
  // Empty: X-Forwarded-For is ignored and the socket address is the client IP.
  TESSERA_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  // jwt mode: an access token cannot be revoked before it expires, so its lifetime IS the
  // revocation delay. 5 minutes is the usual compromise; the signer refuses more than an hour.
  TESSERA_ACCESS_TOKEN_TTL: duration('5m', '10s').refine((ms) => ms <= 3_600_000, 'must be at most 1h'),
  // Ed25519: small keys and signatures, deterministic, no nonce to get wrong.
  TESSERA_JWT_ALGORITHM: z.enum(JWS_ALGORITHMS).default('EdDSA'),
  // Which algorithms verification accepts; by default only the signing one. Configuration,
  // never the token's header, decides (RFC 8725 3.1).
  TESSERA_JWT_ALLOWED_ALGORITHMS: z
    .string()
    .optional()
    .transform((list) => list?.split(',').map((alg) => alg.trim()))
    .pipe(z.array(z.enum(JWS_ALGORITHMS)).min(1).optional()),
  TESSERA_ISSUER: z.url().optional(),
  TESSERA_AUDIENCE: z.string().min(1).max(200).default('tessera'),
  // 32 bytes as 64 hex digits or base64; seals private signing keys at rest.
  TESSERA_KEY_ENCRYPTION_KEY: z
    .string()
    .optional()
    .refine(
      (text) => text === undefined || isKeyEncryptionKey(text),
      'must be 32 bytes as 64 hex digits or base64',
    ),
  // Two tabs refreshing at once both present the same refresh token; the second must not look
  // like theft. Long enough for a slow network, short enough to be a poor window for a thief.
  TESSERA_REFRESH_REUSE_GRACE: duration('10s', '0s').refine((ms) => ms <= 60_000, 'must be at most 60s'),
  // Audit events are kept this long, then swept (a year covers most compliance look-backs).
  TESSERA_AUDIT_RETENTION: duration('365d', '1d'),
  TESSERA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface TesseraConfig {
  port: number;
  host: string;
  /** `memory:` or an SQLite file path (resolved to absolute). */
  database: { engine: 'memory' } | { engine: 'sqlite'; filename: string };
  mode: 'session' | 'jwt';
  session: { idleTimeoutMs: number; absoluteTimeoutMs: number };
  jwt: {
    accessTokenTtlMs: number;
    algorithm: JwsAlgorithm;
    allowedAlgorithms: JwsAlgorithm[];
    issuer: string;
    audience: string;
    refreshReuseGraceMs: number;
  };
  /** Raw TESSERA_KEY_ENCRYPTION_KEY; when absent outside production a key file is generated. */
  keyEncryptionKey: string | undefined;
  production: boolean;
  auditRetentionMs: number;
  sweepIntervalMs: number;
  trustedProxies: string[];
  logLevel: string;
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
    const got = env[variable] === undefined ? '' : ` (got ${JSON.stringify(env[variable])})`;
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
  return {
    port: e.TESSERA_PORT,
    host: e.TESSERA_HOST,
    database: parseDatabaseUrl(e.TESSERA_DATABASE_URL),
    mode: e.TESSERA_MODE,
    session: {
      idleTimeoutMs: e.TESSERA_SESSION_IDLE_TIMEOUT,
      absoluteTimeoutMs: e.TESSERA_SESSION_ABSOLUTE_TIMEOUT,
    },
    jwt: {
      accessTokenTtlMs: e.TESSERA_ACCESS_TOKEN_TTL,
      algorithm: e.TESSERA_JWT_ALGORITHM,
      allowedAlgorithms,
      issuer: e.TESSERA_ISSUER ?? `http://localhost:${e.TESSERA_PORT}`,
      audience: e.TESSERA_AUDIENCE,
      refreshReuseGraceMs: e.TESSERA_REFRESH_REUSE_GRACE,
    },
    keyEncryptionKey: e.TESSERA_KEY_ENCRYPTION_KEY,
    production,
    auditRetentionMs: e.TESSERA_AUDIT_RETENTION,
    sweepIntervalMs: e.TESSERA_SWEEP_INTERVAL,
    trustedProxies: e.TESSERA_TRUSTED_PROXIES,
    logLevel: e.TESSERA_LOG_LEVEL,
  };
}

function parseDatabaseUrl(url: string): TesseraConfig['database'] {
  if (url === 'memory:') return { engine: 'memory' };
  // sqlite:///abs/path has an empty host and an absolute path; sqlite://./rel is relative to cwd.
  const path = url.slice('sqlite://'.length);
  return { engine: 'sqlite', filename: path === ':memory:' ? path : resolve(path) };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'is invalid';
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'too_small' || issue.code === 'too_big' || issue.code === 'invalid_type') {
    return `is invalid: ${issue.message}`;
  }
  return issue.message;
}
