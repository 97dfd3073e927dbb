import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStores } from '../../src/store/sql/stores.js';
import { PASSWORD } from '../helpers.js';
import {
  codeFlow,
  jsonRequest,
  type OAuthServer,
  type RegisteredClient,
  refreshWith,
  registerClient,
  signIn,
  startOAuthServer,
} from './harness.js';

/**
 * Issue 14, hole 3, for delegated access: the same rotation routine as first-party logins, so
 * racing refreshes leave one live token and an ended delegation gives no fresh token to a copy.
 * Real HTTP, oauth4webapi as the client, SQLite.
 */
let server: OAuthServer;
beforeAll(async () => {
  server = await startOAuthServer();
});
afterAll(() => server.close());

const refresh = (rc: RegisteredClient, refreshToken: string) => refreshWith(server, rc, refreshToken);

async function liveTokensOf(refreshToken: string): Promise<number> {
  const { db } = server.tessera.stores as SqlStores;
  const id = refreshToken.split('.')[0] as string;
  const { rows } = await sql<{ live: number }>`
    select count(*) as live from refresh_tokens where retired_at is null
    and session_id = (select session_id from refresh_tokens where id = ${id})`.execute(db);
  return Number(rows[0]?.live);
}

describe('oauth refresh rotation', () => {
  it('30 parallel refreshes with one token: the same successor for all, one live token', async () => {
    const rc = await registerClient(server);
    const first = await codeFlow(server, await signIn(server), rc);
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => refresh(rc, first.refresh_token as string)),
    );
    const successors = new Set(answers.map((answer) => answer.refresh_token));
    expect(successors.size).toBe(1);
    const successor = [...successors][0] as string;
    expect(successor).not.toBe(first.refresh_token);
    expect(await liveTokensOf(successor)).toBe(1);
    const next = await refresh(rc, successor);
    expect(await liveTokensOf(next.refresh_token as string)).toBe(1);
  });

  it('a password change ends the delegation: a copy of its refresh token gets no fresh token', async () => {
    const browser = await signIn(server);
    const rc = await registerClient(server);
    const tokens = await codeFlow(server, browser, rc);
    const change = await jsonRequest(server, browser, 'POST', '/auth/password', {
      currentPassword: PASSWORD,
      newPassword: 'a different passphrase',
    });
    expect(change.status).toBe(200);
    await expect(refresh(rc, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('reuse ends the delegation with no grace: the successor handed out before is dead too', async () => {
    const rc = await registerClient(server);
    const first = await codeFlow(server, await signIn(server), rc);
    const second = await refresh(rc, first.refresh_token as string);
    server.clock.advance(10_001);
    await expect(refresh(rc, first.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(refresh(rc, second.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });
});
