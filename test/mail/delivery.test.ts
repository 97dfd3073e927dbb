import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Audit } from '../../src/core/audit.js';
import { MailQueue } from '../../src/core/email/mail-queue.js';
import { systemRuntime } from '../../src/core/runtime.js';
import { DEFAULT_DELIVERY_POLICY, MailDelivery } from '../../src/mail/delivery.js';
import { SmtpTransport } from '../../src/mail/transports.js';
import { openEmailStores } from '../../src/store/email-stores.js';
import { openPostgresStores } from '../../src/store/sql/postgres.js';
import { openSqliteStores } from '../../src/store/sql/sqlite.js';
import type { SqlStores } from '../../src/store/sql/stores.js';
import { newEmail, PASSWORD, post, startTessera, tempDir } from '../helpers.js';
import { dropTestSchemas, serviceUrlOrSkip, testSchema } from '../services.js';
import { TestSmtpServer } from './smtp.js';

/**
 * The outbox and its delivery worker against a real SMTP server that refuses, goes away and
 * comes back: retries with backoff, failures visible, nothing lost across a restart, and
 * several workers on one database sending each message exactly once.
 */

const servers: TestSmtpServer[] = [];
afterAll(async () => {
  for (const server of servers.splice(0)) await server.stop().catch(() => undefined);
});

async function smtpServer(port = 0) {
  const server = new TestSmtpServer();
  servers.push(server);
  return { server, url: await server.start(port) };
}

describe('retries', () => {
  it('a refused message (451 at RCPT) is retried with backoff and delivered once the server accepts', async () => {
    const { server: smtp, url } = await smtpServer();
    const server = await startTessera({ env: { TESSERA_SMTP_URL: url } });
    try {
      const { delivery, stores } = server.tessera.email;
      smtp.refuse = true;
      const email = newEmail();
      expect((await post(server.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(201);
      await delivery.run();
      let [mail] = await stores.outbox.listMail({ limit: 10 });
      expect(mail).toMatchObject({ status: 'pending', attempts: 1, to: email });
      expect(mail?.lastError).toMatch(/451/);
      // Not due yet: a pass before the backoff ends sends nothing.
      await delivery.run();
      expect(smtp.received).toHaveLength(0);
      smtp.refuse = false;
      server.clock.advance(DEFAULT_DELIVERY_POLICY.baseBackoffMs);
      await delivery.run();
      await smtp.waitFor(email, /Confirm your email/);
      [mail] = await stores.outbox.listMail({ limit: 10 });
      expect(mail).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
    } finally {
      await server.close();
    }
  });

  it('a server that is down is retried; after the last attempt the message is failed, logged, audited and listed for admins', async () => {
    const { server: smtp, url } = await smtpServer();
    await smtp.stop();
    const server = await startTessera({ env: { TESSERA_SMTP_URL: url } });
    try {
      const { delivery, stores } = server.tessera.email;
      const email = newEmail();
      await post(server.app, '/auth/register', { email, password: PASSWORD });
      for (let attempt = 1; attempt <= DEFAULT_DELIVERY_POLICY.maxAttempts; attempt++) {
        await delivery.run();
        server.clock.advance(DEFAULT_DELIVERY_POLICY.maxBackoffMs);
      }
      const [mail] = await stores.outbox.listMail({ limit: 10 });
      expect(mail).toMatchObject({ status: 'failed', attempts: DEFAULT_DELIVERY_POLICY.maxAttempts });
      expect(mail?.lastError).toMatch(/ECONNREFUSED/);
      const audited = await server.tessera.audit.list({ type: 'mail.failed' });
      expect(audited).toHaveLength(1);
      // Given up: the link it held is gone from the table too.
      const row = await (server.tessera.stores as SqlStores).db
        .selectFrom('mail_outbox' as never)
        .selectAll()
        .executeTakeFirst();
      expect(row).toMatchObject({ body_text: '', body_html: '' });
    } finally {
      await server.close();
    }
  });

  it('nothing is lost across a restart: mail queued while SMTP is down is sent by the next process', async () => {
    const { server: smtp, url } = await smtpServer();
    const port = smtp.port;
    await smtp.stop();
    const database = `sqlite://${join(tempDir(), 'restart.db')}`;
    const email = newEmail();
    const first = await startTessera({ env: { TESSERA_SMTP_URL: url, TESSERA_DATABASE_URL: database } });
    await post(first.app, '/auth/register', { email, password: PASSWORD });
    await post(first.app, '/auth/password/forgot', { email });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.tessera.email.delivery.run();
    await first.close();

    const { server: back } = await smtpServer(port);
    const second = await startTessera({ env: { TESSERA_SMTP_URL: url, TESSERA_DATABASE_URL: database } });
    try {
      second.clock.advance(DEFAULT_DELIVERY_POLICY.baseBackoffMs);
      await second.tessera.email.delivery.run();
      await back.waitFor(email, /Confirm your email/);
      await back.waitFor(email, /Reset your password/);
      expect(back.received).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});

describe('the request never waits for SMTP', () => {
  it('register and forgot answer at once while the SMTP server takes 3 s to accept each recipient', async () => {
    const slow = new TestSmtpServer({
      onRcptTo: (_address, _session, callback) => {
        setTimeout(() => callback(), 3_000);
      },
    });
    servers.push(slow);
    const server = await startTessera({ env: { TESSERA_SMTP_URL: await slow.start() } });
    server.tessera.email.delivery.start(() => undefined);
    try {
      const email = newEmail();
      const started = performance.now();
      expect((await post(server.app, '/auth/register', { email, password: PASSWORD })).statusCode).toBe(201);
      expect((await post(server.app, '/auth/password/forgot', { email })).statusCode).toBe(202);
      const answered = performance.now() - started;
      // Two argon2 hashes dominate; the 3 s SMTP wait must not be in it.
      expect(answered).toBeLessThan(2_500);
      await slow.waitFor(email, /Confirm your email/);
      await slow.waitFor(email, /Reset your password/);
    } finally {
      await server.close();
    }
  }, 30_000);
});

/** Two workers (two nodes) on one database, each with its own connection: every message arrives once. */
async function sendsEachOnce(open: () => Promise<SqlStores>) {
  const { server: smtp, url } = await smtpServer();
  const stores = [await open(), await open()];
  try {
    const workers = stores.map((store) => {
      const email = openEmailStores(store);
      const delivery = new MailDelivery(
        email.outbox,
        new SmtpTransport(url, 'Tessera <t@example.com>'),
        systemRuntime,
        new Audit(store.audit, systemRuntime),
        {
          ...DEFAULT_DELIVERY_POLICY,
          batchSize: 5,
        },
      );
      return { delivery, queue: new MailQueue(email.outbox, systemRuntime) };
    });
    const count = 40;
    for (let i = 0; i < count; i++) {
      await workers[i % 2]?.queue.enqueue('verify', `n${i}@example.com`, null, {
        subject: `message ${i}`,
        text: `body ${i}`,
        html: `<p>body ${i}</p>`,
      });
    }
    await Promise.all(workers.flatMap((w) => [w.delivery.run(), w.delivery.run()]));
    await Promise.all(workers.map((w) => w.delivery.run()));
    const left = await openEmailStores(stores[0] as SqlStores).outbox.listMail({
      status: 'pending',
      limit: 100,
    });
    expect(left.map((m) => m.lastError)).toEqual([]);
    const subjects = smtp.received.map((m) => m.subject).sort();
    expect(subjects).toHaveLength(count);
    expect(new Set(subjects).size).toBe(count);
    for (const w of workers) await w.delivery.close();
  } finally {
    for (const store of stores) await store.close();
  }
}

describe('several nodes, one outbox', () => {
  it("SQLite: two processes' workers never send a message twice", async () => {
    const file = join(tempDir(), 'shared.db');
    await sendsEachOnce(() => openSqliteStores(file));
  });

  it("PostgreSQL: two nodes' workers never send a message twice", async () => {
    const url = await serviceUrlOrSkip('postgres', 'PostgreSQL outbox lease test');
    if (!url) return;
    const schema = testSchema();
    try {
      await sendsEachOnce(() => openPostgresStores(url, { poolSize: 4, schema }));
    } finally {
      await dropTestSchemas(url);
    }
  });
});
