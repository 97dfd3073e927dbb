import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { emailLookupKey } from '../../core/email.js';
import { AuthError } from '../../core/errors.js';
import { REFRESH_TOKEN_COOKIE } from '../credentials.js';
import type { RateLimitedAction } from '../route-policy.js';
import { Backoff, type BackoffPolicy, type CounterFactory, memoryCounters } from './backoff.js';
import { cookieCredentials, presentedLoginId } from './presented-login.js';
import { addRouteHook, type RouteShape } from './route-hooks.js';

/**
 * Brute-force limits on the routes that check a secret or create something: login, register,
 * refresh, password change and API-key creation (which asks for the password again; its guesses
 * count as password-change ones). Each names its action in its route config, `rateLimitAction`
 * (route-policy.ts). Each has two keys, each with exponential
 * backoff (backoff.ts):
 *
 * - **per IP** (an IPv6 client by its /64, which one subscriber usually holds whole): bounds
 *   what one machine can try across all accounts (password spraying) and the argon2 CPU it
 *   can burn. X-Forwarded-For counts only from TESSERA_TRUSTED_PROXIES (fastify trustProxy),
 *   so a client cannot pick a fresh IP per request.
 * - **per account, keyed with the IP** for login: failures against one
 *   account from one IP back off quickly (5 free, then 1 s, 2 s, 4 s … up to 15 min), and a
 *   success resets the key. An attacker failing logins from elsewhere therefore never locks the
 *   owner out: the owner's IP has its own key. (Password change keys on the login presenting
 *   the current password: guessing it needs a live login, and that login is the account's
 *   device.) Register keys on the email alone, refresh on the login family: there the owner
 *   gains nothing from a separate key.
 *
 * Each attempt is counted before it runs and refunded when the answer shows it did not try a
 * secret (a malformed body, a server error), so parallel bursts cannot overrun a count.
 * 429 `rate_limited` with Retry-After when a key is waiting. A blocked login answers the same
 * for a known and an unknown email: the counts never look at whether the account exists.
 */

export type { RateLimitedAction };

export interface KeyPolicy extends BackoffPolicy {
  /** On success: `reset` the key, `refund` this attempt, or `keep` it counted. */
  onSuccess: 'reset' | 'refund' | 'keep';
}

export interface ActionPolicy {
  ip: KeyPolicy;
  account: KeyPolicy;
}

const MINUTE = 60;
const HOUR = 3600;

export const DEFAULT_RATE_LIMITS: Readonly<Record<RateLimitedAction, ActionPolicy>> = {
  // Failed logins: 100 per hour from one IP (a shared office NAT has room for typos), then one
  // per minute doubling; 5 in a row for one account from one IP, then 1 s doubling to 15 min.
  login: {
    ip: { free: 100, baseSeconds: MINUTE, maxSeconds: HOUR, windowSeconds: HOUR, onSuccess: 'refund' },
    account: {
      free: 5,
      baseSeconds: 1,
      maxSeconds: 15 * MINUTE,
      windowSeconds: 24 * HOUR,
      onSuccess: 'reset',
    },
  },
  // Registrations (each costs an argon2 hash and a row): 20 per hour per IP; an email probed
  // (409 email_taken) 5 times in an hour backs off too.
  register: {
    ip: { free: 20, baseSeconds: MINUTE, maxSeconds: HOUR, windowSeconds: HOUR, onSuccess: 'keep' },
    account: { free: 5, baseSeconds: MINUTE, maxSeconds: HOUR, windowSeconds: HOUR, onSuccess: 'keep' },
  },
  // Refused refreshes: 60 per hour per IP. One login family refreshes every few minutes; 60 in
  // 10 minutes is a runaway client or a thief's loop.
  refresh: {
    ip: { free: 60, baseSeconds: 10, maxSeconds: HOUR, windowSeconds: HOUR, onSuccess: 'refund' },
    account: {
      free: 60,
      baseSeconds: 10,
      maxSeconds: 15 * MINUTE,
      windowSeconds: 10 * MINUTE,
      onSuccess: 'keep',
    },
  },
  // Wrong current passwords: as for login.
  password: {
    ip: { free: 20, baseSeconds: MINUTE, maxSeconds: HOUR, windowSeconds: HOUR, onSuccess: 'refund' },
    account: {
      free: 5,
      baseSeconds: 1,
      maxSeconds: 15 * MINUTE,
      windowSeconds: 24 * HOUR,
      onSuccess: 'reset',
    },
  },
  // Challenges anyone may draw (POST /auth/passkeys/login/options: one row each, 5 minutes):
  // 300 per 10 minutes from one IP (a page with conditional UI asks on every load), then 10 s
  // doubling to 10 min, so nobody fills the table. Every answered draw counts.
  challenge: {
    ip: {
      free: 300,
      baseSeconds: 10,
      maxSeconds: 10 * MINUTE,
      windowSeconds: 10 * MINUTE,
      onSuccess: 'keep',
    },
    account: {
      free: 300,
      baseSeconds: 10,
      maxSeconds: 10 * MINUTE,
      windowSeconds: 10 * MINUTE,
      onSuccess: 'keep',
    },
  },
};

/** What an answer says about the attempt: it tried a secret and failed, succeeded, or neither. */
function outcomeOf(action: RateLimitedAction, status: number): 'success' | 'failure' | 'neutral' {
  // `password` covers password changes (200 / 403 wrong current password) and API-key creation,
  // which asks for the password again (201 / 401 wrong password): one counter for both guesses.
  const expected: Record<RateLimitedAction, { success: number[]; failure: number[] }> = {
    login: { success: [200], failure: [401] },
    register: { success: [201], failure: [409] },
    refresh: { success: [200], failure: [401] },
    password: { success: [200, 201], failure: [401, 403] },
    challenge: { success: [200], failure: [] },
  };
  const { success, failure } = expected[action];
  return success.includes(status) ? 'success' : failure.includes(status) ? 'failure' : 'neutral';
}

/** The limiting key for a client address: IPv4 as is, IPv6 by its /64 prefix. */
export function ipKey(ip: string): string {
  const address = ip.split('%')[0] as string;
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros =
    tail === undefined ? [] : Array(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups].slice(0, 4);
  return `${groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * An email as a fixed-size key: its canonical key (case, look-alikes: core/email-key.ts), the
 * one the account is stored under, so every variant of an address shares one count. Text that
 * is no address is folded (case, compatibility forms) instead.
 */
function emailKey(body: unknown): string | undefined {
  const email = typeof body === 'object' && body !== null ? (body as { email?: unknown }).email : undefined;
  if (typeof email !== 'string') return undefined;
  const typed = email.slice(0, 1024);
  let folded: string;
  try {
    folded = emailLookupKey(typed);
  } catch {
    folded = typed.normalize('NFKC').trim().toLowerCase();
  }
  return createHash('sha256').update(folded).digest('base64url');
}

async function accountKey(
  action: RateLimitedAction,
  request: FastifyRequest,
  ip: string,
): Promise<string | undefined> {
  switch (action) {
    case 'login': {
      const email = emailKey(request.body);
      return email && `${email}|${ip}`;
    }
    case 'register':
      return emailKey(request.body);
    case 'password':
      return presentedLoginId(request);
    case 'refresh': {
      const body = request.body as { refreshToken?: unknown } | null | undefined;
      if (typeof body === 'object' && body !== null && typeof body.refreshToken === 'string') {
        return request.server.loginMode.refreshTokenLogin(body.refreshToken);
      }
      return (await cookieCredentials(request)).find((c) => c.cookie === REFRESH_TOKEN_COOKIE)?.loginId;
    }
    case 'challenge':
      return undefined;
  }
}

export const rateLimited = (retryAfterSeconds: number) =>
  new AuthError(
    'rate_limited',
    `Too many attempts: try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
  );

export interface RateLimitOptions {
  /** Overrides per action (tests use small numbers). */
  policy?: Partial<Record<RateLimitedAction, ActionPolicy>>;
  /** Where counts live; memory by default (see backoff.ts for Redis). */
  counters?: CounterFactory;
  /** Told each refused attempt's action (metrics: tessera_rate_limited_total, logins rate_limited). */
  onLimited?: (action: RateLimitedAction) => void;
}

interface Counted {
  backoff: Backoff;
  key: string;
  policy: KeyPolicy;
}

export function rateLimitPlugin(options: RateLimitOptions = {}) {
  const counters = options.counters ?? memoryCounters;
  const limits = Object.fromEntries(
    (Object.keys(DEFAULT_RATE_LIMITS) as RateLimitedAction[]).map((action) => {
      const policy = options.policy?.[action] ?? DEFAULT_RATE_LIMITS[action];
      return [
        action,
        {
          ip: { backoff: new Backoff(`${action}:ip`, policy.ip, counters), policy: policy.ip },
          account: {
            backoff: new Backoff(`${action}:account`, policy.account, counters),
            policy: policy.account,
          },
        },
      ];
    }),
  ) as Record<RateLimitedAction, Record<'ip' | 'account', Omit<Counted, 'key'>>>;
  const pending = new WeakMap<FastifyRequest, { action: RateLimitedAction; counted: Counted[] }>();

  const settle = async (counted: Counted[], outcome: 'success' | 'failure' | 'neutral') => {
    for (const { backoff, key, policy } of counted) {
      if (outcome === 'failure') continue;
      if (outcome === 'neutral' || policy.onSuccess === 'refund') await backoff.refund(key);
      else if (policy.onSuccess === 'reset') await backoff.reset(key);
    }
  };

  return fp(
    async (app: FastifyInstance) => {
      // preValidation: the body is parsed (login keys on its email); registered after the CSRF
      // and Origin checks, so a forged request is refused before it is counted.
      // Each limited route names its action in its config (route-policy.ts).
      const limited = ({ config }: RouteShape) => config.rateLimitAction !== undefined;
      addRouteHook(app, 'preValidation', limited, async (request: FastifyRequest, reply: FastifyReply) => {
        const action = request.routeOptions.config.rateLimitAction;
        if (!action) return;
        const ip = ipKey(request.ip);
        const account = await accountKey(action, request, ip);
        const keys: Counted[] = [{ ...limits[action].ip, key: ip }];
        if (account !== undefined) keys.push({ ...limits[action].account, key: account });
        const counted: Counted[] = [];
        for (const entry of keys) {
          const result = await entry.backoff.attempt(entry.key);
          if (!result.allowed) {
            await settle(counted, 'neutral');
            const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
            reply.header('retry-after', String(seconds));
            options.onLimited?.(action);
            throw rateLimited(seconds);
          }
          counted.push(entry);
        }
        pending.set(request, { action, counted });
      });

      addRouteHook(
        app,
        'onSend',
        limited,
        async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
          const attempt = pending.get(request);
          if (attempt) {
            pending.delete(request);
            await settle(attempt.counted, outcomeOf(attempt.action, reply.statusCode));
          }
          return payload;
        },
      );
    },
    { name: 'tessera-rate-limit' },
  );
}
