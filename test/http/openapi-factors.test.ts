import { generateAuthenticationOptions, generateRegistrationOptions } from '@simplewebauthn/server';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { startTessera, type TestServer } from '../helpers.js';

/**
 * The second-factor, step-up and passkey routes in GET /openapi.json (api/factor-schemas.ts):
 * every answer the suite gets is checked against them (OPENAPI_RESPONSE_CHECK); this proves the
 * declarations are exact where they must be, so that check cannot pass by being loose.
 */
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

type Schema = Record<string, unknown>;
type Document = {
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: Schema }> }> }
    >
  >;
};

const answerSchema = (document: Document, method: string, path: string, status: number) => {
  const schema =
    document.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${method} ${path} ${status} is not declared`);
  return schema;
};

describe('GET /openapi.json: second factors, step-up, passkeys', () => {
  it('declares every route, the pending second step of a login, and the login context', async () => {
    const server = await startTessera({ env: { TESSERA_MODE: 'jwt' } });
    servers.push(server);
    const document = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
    const operations = [
      'post /auth/mfa/verify',
      'post /auth/mfa/totp',
      'post /auth/mfa/totp/confirm',
      'delete /auth/mfa/totp',
      'post /auth/mfa/recovery-codes',
      'get /auth/mfa',
      'post /auth/reauthenticate',
      'post /auth/passkeys/register/options',
      'post /auth/passkeys/register',
      'get /auth/passkeys',
      'patch /auth/passkeys/{id}',
      'delete /auth/passkeys/{id}',
      'post /auth/passkeys/reauthenticate/options',
      'post /auth/passkeys/mfa/options',
      'post /auth/passkeys/login/options',
      'post /auth/passkeys/login',
    ];
    for (const op of operations) {
      const [method, path] = op.split(' ') as [string, string];
      expect(document.paths[path]?.[method], op).toBeDefined();
    }

    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const login = ajv.compile(answerSchema(document, 'post', '/auth/login', 200));
    expect(login({ mfaRequired: true, methods: ['totp', 'recovery_code'], mfaToken: 'a.b' })).toBe(true);
    expect(login({ mfaEnrollmentRequired: true, methods: ['totp'] })).toBe(true);
    // Neither a half challenge nor a challenge with extra fields is a login answer.
    expect(login({ mfaRequired: true })).toBe(false);
    expect(login({ mfaRequired: true, methods: [], user: {} })).toBe(false);
    const at = new Date().toISOString();
    const session = { id: 's', mode: 'jwt', createdAt: at, expiresAt: at, absoluteExpiresAt: at };
    const user = { id: 'u', email: 'a@example.com', roles: [] };
    expect(login({ user, session: { ...session, authTime: at, amr: ['pwd'], acr: 'aal1' } })).toBe(true);
    // The login's context is part of every session answer.
    expect(login({ user, session })).toBe(false);
    expect(login({ user, session: { ...session, authTime: at, amr: ['pwd'], acr: 'aal9' } })).toBe(false);
  });

  it('WebAuthn options: what the library generates passes, and a field nobody declared does not', async () => {
    const server = await startTessera({ env: { TESSERA_MODE: 'session' } });
    servers.push(server);
    const document = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document;
    const ajv = new Ajv2020({ strict: false });
    const creation = ajv.compile(answerSchema(document, 'post', '/auth/passkeys/register/options', 200));
    const request = ajv.compile(answerSchema(document, 'post', '/auth/passkeys/mfa/options', 200));
    const challenge = new Uint8Array([1, 2, 3, 4]);
    const created = await generateRegistrationOptions({
      rpName: 'Bank',
      rpID: 'bank.example',
      userName: 'a@example.com',
      userID: new Uint8Array([9, 9]),
      challenge,
      attestationType: 'none',
      excludeCredentials: [{ id: 'AAAA', transports: ['usb'] }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    expect(creation(created), JSON.stringify(creation.errors)).toBe(true);
    expect(creation({ ...created, surprise: 1 })).toBe(false);
    expect(creation({ ...created, excludeCredentials: [{ id: 'not base64url!', type: 'public-key' }] })).toBe(
      false,
    );
    const requested = await generateAuthenticationOptions({
      rpID: 'bank.example',
      challenge,
      userVerification: 'preferred',
      allowCredentials: [{ id: 'AAAA', transports: ['internal'] }],
    });
    expect(request(requested), JSON.stringify(request.errors)).toBe(true);
    expect(request({ ...requested, userVerification: 'sometimes' })).toBe(false);
    expect(request({ ...requested, user: {} })).toBe(false);
  });
});
