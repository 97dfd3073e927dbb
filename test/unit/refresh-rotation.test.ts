import { beforeEach, describe, expect, it } from 'vitest';
import { RefreshRotation } from '../../src/core/refresh-rotation.js';
import { manualRuntime } from '../../src/core/runtime.js';
import { Sessions } from '../../src/core/sessions.js';
import { MemoryStores } from '../../src/store/memory/stores.js';

const GRACE_MS = 10_000;
const client = { ip: '203.0.113.7', userAgent: 'test' };

/** The routine alone: a manual clock, the memory engine, no HTTP. */
describe('RefreshRotation', () => {
  let clock: ReturnType<typeof manualRuntime>;
  let stores: MemoryStores;
  let sessions: Sessions;
  let rotation: RefreshRotation;
  let familyId: string;

  beforeEach(async () => {
    clock = manualRuntime();
    stores = new MemoryStores();
    sessions = new Sessions(stores, clock, {
      idleTimeoutMs: 3_600_000,
      absoluteTimeoutMs: 86_400_000,
    });
    rotation = new RefreshRotation({
      store: stores.refreshTokens,
      sessions,
      runtime: clock,
      graceMs: GRACE_MS,
    });
    await stores.users.createUser({
      id: 'u1',
      email: 'u1@example.com',
      emailKey: 'u1@example.com',
      passwordHash: 'hash',
      roles: [],
      lockedAt: null,
      lockReason: null,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
    familyId = (await sessions.createFamily('u1', client, 'jwt')).id;
  });

  const exchange = async (token: string) => {
    const found = await rotation.find(token);
    if (!found) throw new Error('token not found');
    return rotation.exchange(found);
  };
  const isLive = async (token: string) => (await rotation.find(token))?.record.retiredAt === null;

  it('rotates: the presented token is retired, its successor is the one live token', async () => {
    const first = await rotation.issue(familyId);
    const result = await exchange(first);
    expect(result.outcome).toBe('rotated');
    const next = (result as { refreshToken: string }).refreshToken;
    expect(next).not.toBe(first);
    expect(await isLive(first)).toBe(false);
    expect(await isLive(next)).toBe(true);
  });

  it('finds only tokens whose secret matches; never throws on junk', async () => {
    const first = await rotation.issue(familyId);
    const [id] = first.split('.');
    expect(await rotation.find(`${id}.${'A'.repeat(43)}`)).toBeUndefined();
    expect(await rotation.find('junk')).toBeUndefined();
    expect(await rotation.find('')).toBeUndefined();
    expect((await rotation.find(first))?.record.sessionId).toBe(familyId);
  });

  it('a retry within the grace window gets the same successor, not a second live token', async () => {
    const first = await rotation.issue(familyId);
    const rotated = await exchange(first);
    clock.advance(GRACE_MS);
    const retried = await exchange(first);
    expect(retried).toEqual({
      outcome: 'retried',
      refreshToken: (rotated as { refreshToken: string }).refreshToken,
    });
    expect(await stores.sessions.findSession(familyId)).toBeDefined();
  });

  it('30 racing exchanges of one token: one rotation, 29 retries, all the same successor, one live token', async () => {
    const first = await rotation.issue(familyId);
    const found = await rotation.find(first);
    if (!found) throw new Error('token not found');
    // Every request read the token while it was live, then all exchange at once.
    const results = await Promise.all(Array.from({ length: 30 }, () => rotation.exchange(found)));
    expect(results.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'retried')).toHaveLength(29);
    const successors = new Set(results.map((r) => (r as { refreshToken: string }).refreshToken));
    expect(successors.size).toBe(1);
    const successor = [...successors][0] as string;
    expect(await isLive(successor)).toBe(true);
    // Its next exchange is an ordinary rotation; the exchanged token is then spent for good.
    expect((await exchange(successor)).outcome).toBe('rotated');
  });

  it('after the grace window a retired token is reuse: the family ends', async () => {
    const first = await rotation.issue(familyId);
    const rotated = (await exchange(first)) as { refreshToken: string };
    clock.advance(GRACE_MS + 1);
    const reused = await exchange(first);
    expect(reused).toEqual({ outcome: 'reused', retiredAt: clock.now() - GRACE_MS - 1 });
    expect(await stores.sessions.findSession(familyId)).toBeUndefined();
    expect(await rotation.find(rotated.refreshToken)).toBeUndefined();
  });

  it('once the successor has been exchanged, the old token is reuse even within the window', async () => {
    const first = await rotation.issue(familyId);
    const second = (await exchange(first)) as { refreshToken: string };
    expect((await exchange(second.refreshToken)).outcome).toBe('rotated');
    expect((await exchange(first)).outcome).toBe('reused');
    expect(await stores.sessions.findSession(familyId)).toBeUndefined();
  });

  it('reissue (password change) retires every other token with no grace: a copy at once is reuse', async () => {
    const first = await rotation.issue(familyId);
    const current = (await exchange(first)) as { refreshToken: string };
    const reissued = await rotation.reissue(familyId);
    expect(await isLive(reissued)).toBe(true);
    expect(await isLive(current.refreshToken)).toBe(false);
    // No time passes: still no grace for the copy, and no fresh token for whoever holds it.
    const copy = await exchange(current.refreshToken);
    expect(copy.outcome).toBe('reused');
    expect(await stores.sessions.findSession(familyId)).toBeUndefined();
    expect(await rotation.find(reissued)).toBeUndefined();
  });

  it('a retry of a token exchanged before a reissue is reuse: the reissue retired its successor', async () => {
    const first = await rotation.issue(familyId);
    await exchange(first);
    await rotation.reissue(familyId);
    expect((await exchange(first)).outcome).toBe('reused');
    expect(await stores.sessions.findSession(familyId)).toBeUndefined();
  });

  it('a token of an ended family is not found: logout, lock and logout-all leave nothing to exchange', async () => {
    const first = await rotation.issue(familyId);
    await sessions.revoke(familyId);
    expect(await rotation.find(first)).toBeUndefined();
  });

  it('keeps the successor sealed: the store holds neither it nor anything that opens it', async () => {
    const first = await rotation.issue(familyId);
    const rotated = (await exchange(first)) as { refreshToken: string };
    const [firstId, firstSecret] = first.split('.') as [string, string];
    const stored = await stores.refreshTokens.findRefreshToken(firstId);
    const [, successorSecret] = rotated.refreshToken.split('.') as [string, string];
    const json = JSON.stringify(stored);
    expect(stored?.successor).toMatch(/^v1\./);
    expect(json).not.toContain(successorSecret);
    expect(json).not.toContain(firstSecret);
    // A wrong secret (anyone without the exchanged token) cannot open it: no retry answer.
    // Once the successor is exchanged in turn, the older token's seal is gone: a database reader
    // holding a spent token cannot follow the chain to the live one.
    await exchange(rotated.refreshToken);
    expect((await stores.refreshTokens.findRefreshToken(firstId))?.successor).toBeNull();
    const forged = { record: stored as NonNullable<typeof stored>, secret: 'A'.repeat(43) };
    expect((await rotation.exchange(forged)).outcome).toBe('reused');
  });
});
