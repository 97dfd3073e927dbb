import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalEmailKey } from '../../src/core/email-key.js';
import { newEmail, PASSWORD, startTessera, type TestServer, tempDir } from '../helpers.js';
import { loginWithSecondFactor } from '../mfa-helpers.js';

/**
 * The admin API with a large store: 200,000 sessions and 20,000 users seeded straight into
 * SQLite. A page reads one indexed page (the paged store method, with the limit), never every
 * session or user, and the `next` cursors chain through the rows without repeats.
 */
const SESSIONS = 200_000;
const USERS = 20_000;

let server: TestServer;
let headers: Record<string, string>;
let adminUserId: string;
const seedEmail = (i: number) => `seed${String(i).padStart(5, '0')}@bulk.test`;

beforeAll(async () => {
  const file = join(tempDir(), 'tessera.db');
  server = await startTessera({ env: { TESSERA_MODE: 'session', TESSERA_DATABASE_URL: `sqlite://${file}` } });
  const adminEmail = newEmail();
  await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
  // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
  const login = await loginWithSecondFactor(server.app, {
    email: adminEmail,
    password: PASSWORD,
    transport: 'bearer',
  });
  expect(login.statusCode, login.body).toBe(200);
  headers = { authorization: `Bearer ${login.json().token}` };
  adminUserId = login.json().user.id;

  // One transaction of prepared inserts on the server's own database file (WAL: it reads along).
  const started = performance.now();
  const db = new Database(file);
  const now = server.clock.now();
  const insertUser = db.prepare(
    `insert into users (id, email, email_key, password_hash, roles, locked_at, lock_reason, created_at, updated_at)
     values (?, ?, ?, 'not-a-real-hash', '[]', null, null, ?, ?)`,
  );
  const insertSession = db.prepare(
    `insert into sessions (id, user_id, mode, secret_hash, created_at, last_seen_at, expires_at, ip, user_agent)
     values (?, ?, 'session', '', ?, ?, ?, '203.0.113.9', 'curl/8.5.0')`,
  );
  db.transaction(() => {
    for (let i = 0; i < USERS; i++) {
      insertUser.run(`seed-u${i}`, seedEmail(i), canonicalEmailKey(seedEmail(i)), now - 1, now - 1);
    }
    // Every 7th pair of sessions shares a createdAt, so the id must break ties at page boundaries.
    for (let i = 0; i < SESSIONS; i++) {
      insertSession.run(
        `seed-s${i}`,
        `seed-u${i % USERS}`,
        now - 10_000 - (i - (i % 2)),
        now,
        now + 86_400_000,
      );
    }
  })();
  db.close();
  console.log(
    `seeded ${SESSIONS} sessions and ${USERS} users in ${Math.round(performance.now() - started)} ms`,
  );
}, 120_000);

afterAll(async () => {
  await server?.close();
});

const get = (url: string) => server.app.inject({ method: 'GET', url, headers });

describe('admin API paging on a large store', () => {
  it('answers one page of sessions through the paged store method, never the full list', async () => {
    const sessions = server.tessera.stores.sessions;
    const paged = vi.spyOn(sessions, 'listSessionsPage');
    const everySession = vi.spyOn(sessions, 'listSessions');
    const everyUser = vi.spyOn(server.tessera.stores.users, 'listUsers');
    try {
      const pageStarted = performance.now();
      const response = await get('/admin/api/sessions?limit=50');
      const pageMs = performance.now() - pageStarted;
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().sessions).toHaveLength(50);
      expect(paged).toHaveBeenCalledTimes(1);
      expect(paged).toHaveBeenCalledWith(expect.objectContaining({ limit: 50 }));
      expect(everySession).not.toHaveBeenCalled();
      expect(everyUser).not.toHaveBeenCalled();

      // What the old route did on every poll: read every session (and every user).
      const scanStarted = performance.now();
      expect((await sessions.listSessions()).length).toBe(SESSIONS + 1);
      const scanMs = performance.now() - scanStarted;
      // A deep page (150,000 rows in) starts at its cursor in the index: as fast as the first.
      const deepCursor = Buffer.from(
        JSON.stringify({ t: server.clock.now() - 10_000 - 150_000, id: 'seed-s150000' }),
      ).toString('base64url');
      const deepStarted = performance.now();
      const deep = await get(`/admin/api/sessions?limit=50&cursor=${deepCursor}`);
      const deepMs = performance.now() - deepStarted;
      // Ties go by id, descending: 150001 came before 150000; next is the pair 150002/150003.
      expect(deep.json().sessions[0].id).toBe('seed-s150003');
      console.log(
        `one page of 50 sessions: ${pageMs.toFixed(1)} ms (150,000 rows in: ${deepMs.toFixed(1)} ms); reading every session: ${scanMs.toFixed(0)} ms`,
      );
      // Generous for a loaded box: the page is typically a hundred times faster.
      expect(pageMs).toBeLessThan(scanMs / 3);
      expect(deepMs).toBeLessThan(scanMs / 3);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('chains sessions pages by the next cursor: full pages, newest first, no row twice, emails joined', async () => {
    const seen = new Set<string>();
    let previous = Number.POSITIVE_INFINITY;
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const response = await get(`/admin/api/sessions?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as {
        sessions: { id: string; createdAt: string; email: string | null }[];
        next: string | null;
      };
      expect(body.sessions).toHaveLength(200);
      for (const s of body.sessions) {
        expect(seen.has(s.id)).toBe(false);
        seen.add(s.id);
        const at = Date.parse(s.createdAt);
        expect(at).toBeLessThanOrEqual(previous);
        previous = at;
        expect(s.email).toMatch(/@(bulk\.test|example\.com)$/);
      }
      expect(body.next).toEqual(expect.any(String));
      cursor = body.next;
    }
    expect(seen.size).toBe(1000);
    // One user's sessions: 10 each (200,000 over 20,000 users), all on one page, no next page.
    const mine = await get('/admin/api/sessions?user=seed-u7&limit=50');
    expect(
      mine
        .json()
        .sessions.map((s: { id: string }) => s.id)
        .sort(),
    ).toEqual(Array.from({ length: 10 }, (_, k) => `seed-s${7 + k * USERS}`).sort());
    expect(mine.json().next).toBeNull();
  });

  it('pages users by address and searches by its start, case folded, through the paged method', async () => {
    const everyUser = vi.spyOn(server.tessera.stores.users, 'listUsers');
    try {
      const first = await get('/admin/api/users');
      expect(first.statusCode).toBe(200);
      expect(first.json().users).toHaveLength(50);
      const second = await get(`/admin/api/users?cursor=${first.json().next}`);
      const emails = [...first.json().users, ...second.json().users].map((u: { email: string }) => u.email);
      expect(new Set(emails).size).toBe(100);
      const search = await get('/admin/api/users?q=SEED0123&limit=200');
      expect(
        search
          .json()
          .users.map((u: { email: string }) => u.email)
          .sort(),
      ).toEqual(Array.from({ length: 10 }, (_, k) => seedEmail(1230 + k)));
      expect(search.json().next).toBeNull();
      expect(everyUser).not.toHaveBeenCalled();
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('pages the audit log with a cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await server.tessera.audit.record('user.locked', { actorId: adminUserId, userId: `seed-u${i}` });
    }
    const first = await get('/admin/api/audit?limit=3&type=user.locked');
    expect(first.json().events).toHaveLength(3);
    const rest = await get(`/admin/api/audit?limit=3&type=user.locked&cursor=${first.json().next}`);
    const ids = [...first.json().events, ...rest.json().events].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(5);
    expect(rest.json().next).toBeNull();
  });

  it.each([
    '/admin/api/sessions?limit=0',
    '/admin/api/sessions?limit=201',
    '/admin/api/sessions?limit=ten',
    '/admin/api/sessions?cursor=%%%',
    `/admin/api/sessions?cursor=${Buffer.from('{"k":"x"}').toString('base64url')}`,
    '/admin/api/users?cursor=bm90IGpzb24',
    '/admin/api/users?limit=-1',
    `/admin/api/audit?cursor=${Buffer.from('{"t":-1,"id":"e"}').toString('base64url')}`,
  ])('refuses %s with 400 invalid_request', async (url) => {
    const response = await get(url);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error).toBe('invalid_request');
  });
});
