import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { redisCounters } from '../../store/redis/rate-limit-counters.js';
import type { Tessera } from '../../tessera.js';
import { Backoff, type BackoffPolicy, memoryCounters } from './backoff.js';
import { ipKey, rateLimited } from './rate-limit.js';

/**
 * Mail bombing and link guessing: the routes that send mail (forgot password, resend
 * verification, email change) and the routes that use a mailed token are counted per IP (as
 * the other rate limits, backoff.ts, shared by every node with Redis); the sending routes are
 * also counted per recipient address. Over the IP limit the answer is 429 with Retry-After.
 * Over the address limit the answer stays the usual 202 but no mail goes out: the victim's
 * inbox is protected and the answer still says nothing about whether the address has an account.
 */
const HOUR = 3600;

export const MAIL_RATE_LIMITS: Readonly<Record<'sendIp' | 'sendAddress' | 'tokenIp', BackoffPolicy>> = {
  // 10 mails an hour from one IP, then one a minute, doubling to an hour.
  sendIp: { free: 10, baseSeconds: 60, maxSeconds: HOUR, windowSeconds: HOUR },
  // 3 mails an hour to one address, then one each 5 minutes doubling to 6 hours.
  sendAddress: { free: 3, baseSeconds: 300, maxSeconds: 6 * HOUR, windowSeconds: HOUR },
  // Links tried from one IP: 30 an hour (a person clicks a handful).
  tokenIp: { free: 30, baseSeconds: 10, maxSeconds: HOUR, windowSeconds: HOUR },
};

export interface MailRateLimits {
  /** A mail-sending request: 429 over the IP limit; false when the address has had its share. */
  sending(request: FastifyRequest, reply: FastifyReply, address: string): Promise<boolean>;
  /** A request presenting a mailed token: 429 over the IP limit. */
  usingToken(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

export function mailRateLimits(
  tessera: Tessera,
  policy: Partial<typeof MAIL_RATE_LIMITS> = {},
): MailRateLimits {
  if (!tessera.config.rateLimit) {
    return { sending: async () => true, usingToken: async () => undefined };
  }
  const counters = tessera.redis ? redisCounters(tessera.redis.client) : memoryCounters;
  const limits = { ...MAIL_RATE_LIMITS, ...policy };
  const sendIp = new Backoff('mail:ip', limits.sendIp, counters);
  const sendAddress = new Backoff('mail:address', limits.sendAddress, counters);
  const tokenIp = new Backoff('mail-token:ip', limits.tokenIp, counters);

  const byIp = async (backoff: Backoff, request: FastifyRequest, reply: FastifyReply) => {
    const result = await backoff.attempt(ipKey(request.ip));
    if (!result.allowed) {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      reply.header('retry-after', String(seconds));
      throw rateLimited(seconds);
    }
  };
  return {
    async sending(request, reply, address) {
      await byIp(sendIp, request, reply);
      // Folded like the login limit's key, so case variants share one count.
      const key = createHash('sha256')
        .update(address.slice(0, 1024).normalize('NFKC').trim().toLowerCase())
        .digest('base64url');
      return (await sendAddress.attempt(key)).allowed;
    },
    usingToken: (request, reply) => byIp(tokenIp, request, reply),
  };
}
