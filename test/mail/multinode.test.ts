import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  bearerLogin,
  call,
  credentialOf,
  type Node,
  registerAndLogin,
  schemaUrl,
  startNode,
  stopNode,
  untilRefused,
} from '../multinode/cluster.js';
import {
  deleteRedisKeys,
  dropTestSchemas,
  serviceUrlOrSkip,
  testSchema,
  uniqueRedisPrefix,
} from '../services.js';
import { linkParts, TestSmtpServer } from './smtp.js';

/**
 * Three hybrid nodes (real `tessera serve` processes) sharing PostgreSQL and Redis, each running
 * the outbox worker against one SMTP server: the reset mail is sent once, and the reset ends the
 * user's logins on all three nodes at once (the Redis revocation bus).
 */
const pgUrl = await serviceUrlOrSkip('postgres', 'email multi-node test');
const redisUrl = await serviceUrlOrSkip('redis', 'email multi-node test');
const PASSWORD = 'correct horse battery staple';
const HYBRID_BOUND_MS = 1_000;

describe.skipIf(pgUrl === undefined || redisUrl === undefined)(
  'reset by email across three hybrid nodes',
  () => {
    const nodes: Node[] = [];
    const smtp = new TestSmtpServer();
    let prefix: string;

    beforeAll(async () => {
      assertBuilt();
      prefix = uniqueRedisPrefix();
      const env = {
        TESSERA_MODE: 'hybrid',
        TESSERA_DATABASE_URL: await schemaUrl(pgUrl as string, testSchema()),
        TESSERA_REDIS_URL: redisUrl as string,
        TESSERA_REDIS_PREFIX: prefix,
        TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        TESSERA_CSRF_SECRET: randomBytes(32).toString('hex'),
        TESSERA_ISSUER: 'https://auth.example.test',
        TESSERA_RATE_LIMIT: 'off',
        TESSERA_SMTP_URL: await smtp.start(),
      };
      // The first node creates the signing keys; the others find them.
      nodes.push(await startNode('a', env));
      nodes.push(...(await Promise.all([startNode('b', env), startNode('c', env)])));
    }, 60_000);

    afterAll(async () => {
      await Promise.all(nodes.map((node) => stopNode(node)));
      await smtp.stop();
      await dropTestSchemas(pgUrl as string);
      await deleteRedisKeys(redisUrl as string, prefix);
    });

    it('one reset mail; the reset ends every login on every node within the hybrid bound', async () => {
      const [a, b, c] = nodes as [Node, Node, Node];
      const email = `reset.${process.pid}@example.com`;
      const logins = [
        await registerAndLogin(a, a, email, PASSWORD),
        await bearerLogin(b, email, PASSWORD),
        await bearerLogin(c, email, PASSWORD),
      ];
      for (const node of nodes) {
        for (const login of logins) {
          expect((await call(node, 'GET', '/auth/session', { token: credentialOf(login) })).status).toBe(200);
        }
      }
      expect((await call(b, 'POST', '/auth/password/forgot', { body: { email } })).status).toBe(202);
      const mail = await smtp.waitFor(email, /Reset your password/);
      const { token } = linkParts(mail.link);
      expect(mail.link.startsWith('https://auth.example.test/auth/reset-password?token=')).toBe(true);

      const reset = await call(c, 'POST', '/auth/password/reset', {
        body: { token, newPassword: 'a new passphrase for all' },
      });
      expect(reset.status, JSON.stringify(reset.body)).toBe(200);
      const took = await untilRefused(
        nodes,
        async (node) => {
          for (const login of logins) {
            if ((await call(node, 'GET', '/auth/session', { token: credentialOf(login) })).status !== 401)
              return false;
          }
          return true;
        },
        HYBRID_BOUND_MS,
      );
      console.log(`reset by email: every login refused on 3 nodes after ${took.toFixed(0)} ms`);
      // Three workers polled one outbox: the message went out once.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(smtp.received.filter((m) => m.to.includes(email))).toHaveLength(2);
      expect(smtp.received.filter((m) => m.to.includes(email) && /Reset/.test(m.subject))).toHaveLength(1);
      await bearerLogin(a, email, 'a new passphrase for all');
    });

    it('"this wasn\'t me" from a new-device alert locks the account and ends its logins on every node', async () => {
      const [a, b, c] = nodes as [Node, Node, Node];
      const email = `notme.${process.pid}@example.com`;
      const login = async (node: Node, userAgent: string) => {
        const response = await fetch(`${node.url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': userAgent },
          body: JSON.stringify({ email, password: PASSWORD, transport: 'bearer' }),
        });
        expect(response.status).toBe(200);
        return (await response.json()) as Record<string, unknown>;
      };
      expect((await call(a, 'POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(
        201,
      );
      const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
      const chrome =
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
      const logins = [await login(a, firefox), await login(b, firefox), await login(c, chrome)];
      const alert = await smtp.waitFor(email, /New sign-in/);
      const locked = await call(b, 'POST', '/auth/not-me', { body: { token: linkParts(alert.link).token } });
      expect(locked.status, JSON.stringify(locked.body)).toBe(200);
      const took = await untilRefused(
        nodes,
        async (node) => {
          for (const login of logins) {
            if ((await call(node, 'GET', '/auth/session', { token: credentialOf(login) })).status !== 401)
              return false;
          }
          return true;
        },
        HYBRID_BOUND_MS,
      );
      console.log(`not-me: every login refused on 3 nodes after ${took.toFixed(0)} ms`);
      expect((await call(c, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(
        401,
      );
    });
  },
);
