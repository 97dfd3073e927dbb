import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/adapters/verify.js';
import { InProcessBus } from '../../src/store/memory/in-process-bus.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/** The verifier's own behaviour: JWKS caching and refetch, the session cache, hybrid revocation. */

const servers: TestServer[] = [];
const verifiers: Verifier[] = [];
afterAll(async () => {
  for (const verifier of verifiers) await verifier.close();
  for (const server of servers) await server.close();
});

async function tessera(mode: 'session' | 'jwt' | 'hybrid', bus = new InProcessBus()) {
  const server = await startTessera({ env: { TESSERA_MODE: mode }, bus });
  servers.push(server);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls++;
    return fetch(input, init);
  };
  const verifierOf = (extra: Partial<VerifierOptions> = {}) => {
    const verifier = createVerifier({
      mode,
      tesseraUrl: url,
      issuer: server.tessera.config.jwt.issuer,
      now: server.clock.now,
      fetch: counting,
      ...(mode === 'hybrid' ? { revocations: { store: server.tessera.stores.revocations, bus } } : {}),
      ...extra,
    });
    verifiers.push(verifier);
    return verifier;
  };
  return { server, url, verifierOf, calls: () => calls };
}

async function loginToken(server: TestServer, roles: string[] = []) {
  const email = newEmail();
  const user = await server.tessera.accounts.register({ email, password: PASSWORD }, roles);
  const body = (
    await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
  ).json();
  return { token: (body.token ?? body.accessToken) as string, userId: user.id };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The same token with another `kid` in its header: the verifier must look that key up. */
function withKid(token: string, kid: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const decoded = JSON.parse(Buffer.from(header, 'base64url').toString());
  return [Buffer.from(JSON.stringify({ ...decoded, kid })).toString('base64url'), payload, signature].join(
    '.',
  );
}

describe('jwt: the JWKS', () => {
  let t: Awaited<ReturnType<typeof tessera>>;
  beforeAll(async () => {
    t = await tessera('jwt');
  });

  it('is fetched once and reused; an unknown kid refetches at most once a minute', async () => {
    const verifier = t.verifierOf();
    const { token } = await loginToken(t.server);
    for (let i = 0; i < 5; i++) expect((await verifier.authenticate(bearer(token))).ok).toBe(true);
    expect(t.calls()).toBe(1);

    const unknown = async (kid: string) => {
      const result = await verifier.authenticate(bearer(withKid(token, kid)));
      return result.ok ? 'ok' : result.failure.code;
    };
    await expect(unknown('made-up-1')).resolves.toBe('token_unknown_key');
    expect(t.calls()).toBe(2);
    for (let i = 0; i < 20; i++) await unknown(`made-up-${i}`);
    expect(t.calls()).toBe(2);
    t.server.clock.advance(60_000);
    await unknown('made-up-after-a-minute');
    expect(t.calls()).toBe(3);
  });

  it('picks up a key rotated in after its fetch (two rotations: a kid it has never seen)', async () => {
    const verifier = t.verifierOf();
    await verifier.ready();
    const keyring = t.server.tessera.keyring;
    await keyring?.rotate();
    await keyring?.rotate();
    const { token } = await loginToken(t.server);
    const result = await verifier.authenticate(bearer(token));
    expect(result.ok).toBe(true);
  });

  it('503 tessera_unavailable when the keys cannot be fetched, never a pass', async () => {
    const verifier = createVerifier({
      mode: 'jwt',
      tesseraUrl: 'http://127.0.0.1:9',
      now: t.server.clock.now,
    });
    const { token } = await loginToken(t.server);
    const result = await verifier.authenticate(bearer(token));
    expect(result).toMatchObject({ ok: false, failure: { code: 'tessera_unavailable', status: 503 } });
  });
});

describe('session: asking Tessera', () => {
  it('caches successes only, for at most the configured time, and shares concurrent checks', async () => {
    const t = await tessera('session');
    const verifier = t.verifierOf({ sessionCacheMs: 1_000 });
    const { token } = await loginToken(t.server);
    const results = await Promise.all(Array.from({ length: 10 }, () => verifier.authenticate(bearer(token))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(t.calls()).toBe(1);
    t.server.clock.advance(1_000);
    await verifier.authenticate(bearer(token));
    expect(t.calls()).toBe(2);

    for (let i = 0; i < 3; i++) await verifier.authenticate(bearer('wrong.token'));
    expect(t.calls()).toBe(5);

    expect(() => t.verifierOf({ sessionCacheMs: 10_000 })).toThrow(RangeError);
  });

  it('503 when Tessera does not answer', async () => {
    const verifier = createVerifier({ mode: 'session', tesseraUrl: 'http://127.0.0.1:9' });
    const result = await verifier.authenticate(bearer('a.b'));
    expect(result).toMatchObject({ ok: false, failure: { code: 'tessera_unavailable', status: 503 } });
  });
});

describe('hybrid: revocations reach the app at once', () => {
  it('lock and role change refuse the old token on the next request', async () => {
    const t = await tessera('hybrid');
    const verifier = t.verifierOf();
    const actor = { actorId: null, client: { ip: '127.0.0.1', userAgent: 'test' } };
    const teller = await loginToken(t.server, ['teller']);
    const principal = await verifier.authenticate(bearer(teller.token));
    expect(principal).toMatchObject({ ok: true, principal: { roles: ['teller'], mode: 'hybrid' } });
    await t.server.tessera.control.setRoles(teller.userId, [], actor);
    expect(await verifier.authenticate(bearer(teller.token))).toMatchObject({
      ok: false,
      failure: { code: 'token_revoked', status: 401 },
    });

    const customer = await loginToken(t.server);
    expect((await verifier.authenticate(bearer(customer.token))).ok).toBe(true);
    await t.server.tessera.control.lockUser(customer.userId, 'fraud', actor);
    expect(await verifier.authenticate(bearer(customer.token))).toMatchObject({
      ok: false,
      failure: { code: 'token_revoked' },
    });
  });

  it('needs the revocation log and bus', () => {
    expect(() => createVerifier({ mode: 'hybrid', tesseraUrl: 'http://127.0.0.1:3000' })).toThrow(
      /revocations/,
    );
  });
});
