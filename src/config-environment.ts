import { z } from 'zod';
import { isCidr, isExactOrigin, isIssuerUrl, isListenHost, isProxyAddress } from './config-checks.js';
import { mailEnvironment } from './config-mail.js';
import { webauthnEnvironment } from './config-webauthn.js';
import { JWS_ALGORITHMS } from './core/jwt/algorithms.js';
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

/** An OAuth scope name (a subset of RFC 6749's scope-token characters). */
export const SCOPE_NAME = /^[a-z][a-z0-9_.:-]{0,63}$/;

/** The scopes declared when TESSERA_OAUTH_SCOPES is not set. */
export const DEFAULT_OAUTH_SCOPES: Readonly<Record<string, string>> = Object.freeze({
  profile: 'See your email address and account id',
  'accounts:read': 'See your accounts and their activity',
  'accounts:write': 'Make changes to your accounts',
});

/** A PostgreSQL connection URL (anything else is an SQLite path or `memory:`). */
export const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** "a, b,,c" → ["a", "b", "c"]: comma-separated lists in one variable. */
const commaSeparated = (list: string) =>
  list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

export const environmentSchema = z.object({
  TESSERA_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Loopback by default so a development instance is never exposed by accident; set
  // 0.0.0.0 (or a specific address) in a container or behind a load balancer.
  TESSERA_HOST: z
    .string()
    .default('127.0.0.1')
    .refine(isListenHost, 'must be an IP address or a host name, without scheme or port (e.g. 0.0.0.0)'),
  TESSERA_DATABASE_URL: z
    .string()
    .default('sqlite://./data/tessera.db')
    .refine(
      (url) =>
        url === 'memory:' ||
        (url.startsWith('sqlite://') && url.length > 'sqlite://'.length) ||
        (POSTGRES_URL.test(url) && URL.canParse(url)),
      {
        message:
          'must be sqlite:///absolute/path.db, sqlite://./relative/path.db, postgres://user:password@host:5432/database or memory:',
      },
    ),
  // PostgreSQL connections per node. Every node's pool together must fit the server's
  // max_connections (100 by default), with room for operators' tools (docs/DEPLOY.md).
  TESSERA_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  // SQLite only. normal: a commit survives a crash of the process, but the last few seconds of
  // commits can be lost on a power cut or kernel crash; full: an fsync per commit (slower writes).
  TESSERA_SQLITE_SYNCHRONOUS: z.enum(['normal', 'full']).default('normal'),
  // Optional. Sessions are then served from Redis (the database stays the system of record),
  // rate-limit counters are shared by every node, and hybrid revocations travel by pub/sub
  // (docs/DEPLOY.md, "Redis"). redis://, rediss:// (TLS) or redis-sentinel://host:26379,…/name.
  TESSERA_REDIS_URL: z
    .string()
    .optional()
    .refine((url) => url === undefined || /^(rediss?|redis-sentinel):\/\/./.test(url), {
      message:
        'must be redis://host:6379, rediss://host:6380 or redis-sentinel://host:26379,host:26379/mymaster',
    }),
  // Every key and channel starts with this, so deployments (and test runs) sharing a Redis never collide.
  TESSERA_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : _ . -')
    .default('tessera:'),
  TESSERA_MODE: z.enum(['session', 'jwt', 'hybrid']).default('session'),
  // OWASP's session guidance: 15-30 minutes idle for high-value applications.
  TESSERA_SESSION_IDLE_TIMEOUT: duration('30m', '1m'),
  // A working day: an unattended but busy tab still has to log in again the next morning.
  TESSERA_SESSION_ABSOLUTE_TIMEOUT: duration('12h', '5m'),
  // Expired rows are harmless (validation checks expiry) but take space; 5 minutes keeps the
  // table near its live size without the sweep showing up in load.
  TESSERA_SWEEP_INTERVAL: duration('5m', '1s'),
  // Empty: X-Forwarded-For is ignored and the socket address is the client IP.
  // Entries: IP addresses, CIDR ranges (10.0.0.0/8, fd00::/8) or loopback, linklocal, uniquelocal.
  TESSERA_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform(commaSeparated)
    .pipe(
      z.array(
        z
          .string()
          .refine(
            isProxyAddress,
            'must list IP addresses or CIDR ranges (e.g. 10.0.0.1, 10.0.0.0/8) or loopback, linklocal, uniquelocal',
          ),
      ),
    ),
  // Webhook and SET deliveries in production reach public addresses only (SSRF); a bank's SIEM
  // on its own network is reached by naming that network here, explicitly, as CIDR ranges.
  TESSERA_WEBHOOK_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform(commaSeparated)
    .pipe(z.array(z.string().refine(isCidr, 'must list CIDR ranges, e.g. 10.20.0.0/16, fd00::/8'))),
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
  // The `iss` of every token and the OAuth issuer identifier (RFC 8414: https URL, no query or fragment).
  TESSERA_ISSUER: z
    .string()
    .optional()
    .refine(
      (text) => text === undefined || isIssuerUrl(text),
      'must be an http(s) URL without query or fragment, e.g. https://auth.example.com',
    ),
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
  // How far this server's clock may differ from the one that signed an access token. A token is
  // accepted until exp + this, so in jwt mode the revocation delay is the TTL plus this. Nodes
  // behind one load balancer with NTP agree within milliseconds and may set a few seconds.
  TESSERA_CLOCK_SKEW: duration('60s', '1s').refine((ms) => ms <= 60_000, 'must be at most 60s'),
  // Audit events are kept this long, then swept (a year covers most compliance look-backs).
  TESSERA_AUDIT_RETENTION: duration('365d', '1d'),
  TESSERA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Web defences (docs/SECURITY.md). Origins allowed to call with credentials from another site:
  // exact `scheme://host[:port]` strings, never `*` (a wildcard cannot carry cookies, by the spec).
  TESSERA_CORS_ORIGINS: z
    .string()
    .default('')
    .transform(commaSeparated)
    .pipe(
      z.array(
        z
          .string()
          .refine(isExactOrigin, 'must list exact origins like https://app.example.com (no *, path or null)'),
      ),
    ),
  // Lax: a link from another site to a page here arrives logged in, while cross-site POSTs,
  // fetches and frames carry no cookie. Strict also drops the cookie on those top-level links.
  TESSERA_COOKIE_SAMESITE: z.enum(['lax', 'strict']).default('lax'),
  // HMAC key for anti-CSRF tokens (at least 32 characters; openssl rand -hex 32). Every node must
  // share it; when unset it is derived from TESSERA_KEY_ENCRYPTION_KEY, or drawn at random per process.
  TESSERA_CSRF_SECRET: z.string().min(32).max(1024).optional(),
  // off only when a gateway in front already limits login attempts (and in tests).
  TESSERA_RATE_LIMIT: z.enum(['on', 'off']).default('on'),
  // OAuth scopes third-party applications and API keys may be given, each with the sentence
  // the consent page shows: a JSON object {"accounts:read": "See your accounts", …}.
  TESSERA_OAUTH_SCOPES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return DEFAULT_OAUTH_SCOPES;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of scope names and descriptions' });
        return z.NEVER;
      }
    })
    .pipe(
      z.record(
        z.string().regex(SCOPE_NAME, 'scope names are 1-64 of a-z 0-9 _ . : - starting with a letter'),
        z.string().trim().min(1).max(200),
      ),
    )
    .refine((scopes) => Object.keys(scopes).length >= 1 && Object.keys(scopes).length <= 100, {
      message: 'must declare 1 to 100 scopes',
    }),
  // Threads that hash passwords (argon2id, ~20 ms of a core each) at the lowest priority, so
  // logins never take a core from other requests. Default: one per core this process may use.
  TESSERA_PASSWORD_HASH_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  // Refuse passwords found in breaches (Have I Been Pwned range API, k-anonymity; fails open
  // with a log line when unreachable: src/breached-passwords.ts). Default: hibp in production,
  // off elsewhere, so development, tests and `npm start` never need the network.
  TESSERA_BREACHED_PASSWORDS: z.enum(['hibp', 'off']).optional(),
  // The range endpoint's base (a mirror, or a local server in tests); the SHA-1 prefix is appended.
  TESSERA_BREACHED_PASSWORDS_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://api.pwnedpasswords.com/range/'),
  // Roles whose holders must have a second factor (comma-separated; empty: nobody). Default
  // admin: the console can lock everyone out, so a stolen admin password alone must not open it.
  TESSERA_MFA_REQUIRED_ROLES: z
    .string()
    .default('admin')
    .transform((text) =>
      text
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().regex(/^[a-z][a-z0-9_:-]{0,63}$/, 'must list role names like admin,teller')).max(32),
    ),
  // How recent a proof Tessera's own sensitive actions demand (password change, factor removal,
  // email change, API keys, OAuth clients, admin lock/unlock/roles/revoke). 5 minutes, as banks do.
  TESSERA_STEP_UP_MAX_AGE: duration('5m', '30s').refine((ms) => ms <= 86_400_000, 'must be at most 1d'),
  // Built-in HTTPS: PEM certificate chain and private key files, both or neither.
  TESSERA_TLS_CERT: z.string().min(1).optional(),
  TESSERA_TLS_KEY: z.string().min(1).optional(),
  // Prometheus metrics (GET /metrics) on their own listener at this port, on TESSERA_HOST. The
  // port is meant for the scraper's network only (firewall it): then the main port has no /metrics.
  TESSERA_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  // Without TESSERA_METRICS_PORT: GET /metrics on the main port, only with this bearer token
  // (and with it, the metrics port asks for it too). Neither set: no metrics at all (404).
  TESSERA_METRICS_TOKEN: z
    .string()
    .min(32)
    .max(1024)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces (openssl rand -hex 32)')
    .optional(),
  ...mailEnvironment,
  ...webauthnEnvironment,
});

/** Every TESSERA_* variable loadConfig reads (the tests give each a bad value). */
export const CONFIGURATION_VARIABLES = Object.keys(environmentSchema.shape) as readonly string[];
