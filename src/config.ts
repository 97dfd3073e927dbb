import { resolve } from 'node:path';
import { z } from 'zod';

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
  TESSERA_MODE: z.enum(['session']).default('session'),
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
  TESSERA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface TesseraConfig {
  port: number;
  host: string;
  /** `memory:` or an SQLite file path (resolved to absolute). */
  database: { engine: 'memory' } | { engine: 'sqlite'; filename: string };
  mode: 'session';
  session: { idleTimeoutMs: number; absoluteTimeoutMs: number };
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
  return {
    port: e.TESSERA_PORT,
    host: e.TESSERA_HOST,
    database: parseDatabaseUrl(e.TESSERA_DATABASE_URL),
    mode: e.TESSERA_MODE,
    session: {
      idleTimeoutMs: e.TESSERA_SESSION_IDLE_TIMEOUT,
      absoluteTimeoutMs: e.TESSERA_SESSION_ABSOLUTE_TIMEOUT,
    },
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
