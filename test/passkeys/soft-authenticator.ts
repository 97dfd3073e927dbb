import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A WebAuthn authenticator in node:crypto (ES256, "none" attestation), written from the spec
 * and independent of @simplewebauthn, so HTTP tests can make real registrations and
 * assertions, and bad ones on purpose: another origin, another RP id, no user verification, a
 * counter that goes back. The browser tests use Chromium's virtual authenticator instead.
 */

type Json = Record<string, unknown>;

/** Minimal CBOR (RFC 8949) encoder: unsigned/negative integers, byte and text strings, maps. */
function cbor(value: unknown): Buffer {
  const head = (major: number, n: number) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    if (n < 65536) return Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value as Buffer]);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Map) {
    const parts: Buffer[] = [head(5, value.size)];
    for (const [k, v] of value) parts.push(cbor(k), cbor(v));
    return Buffer.concat(parts);
  }
  throw new Error(`cbor: unsupported ${typeof value}`);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (data: Buffer) => data.toString('base64url');

export interface SoftAuthenticatorOptions {
  origin: string;
  rpId: string;
  /** BE flag: a synced passkey (amr swk) rather than a device-bound one (hwk). */
  backupEligible?: boolean;
  /** UV flag. */
  userVerified?: boolean;
  /** Start counter; 0 keeps it at 0 forever (as synced passkeys usually do) unless `counting`. */
  counting?: boolean;
}

export interface AssertOptions {
  /** Sign for another origin (a phishing page) or RP id than the authenticator's own. */
  origin?: string;
  rpId?: string;
  userVerified?: boolean;
  /** Use this counter value (a cloned key's). */
  counter?: number;
  type?: string;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  #counter = 0;
  userHandle: string | undefined;

  constructor(readonly options: SoftAuthenticatorOptions) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = pair.privateKey;
    this.#publicKey = pair.publicKey;
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  #flags(userVerified: boolean, attested: boolean): number {
    const be = this.options.backupEligible ? 0x08 | 0x10 : 0;
    return 0x01 | (userVerified ? 0x04 : 0) | be | (attested ? 0x40 : 0);
  }

  #authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  #clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** navigator.credentials.create() for these creation options (JSON), as toJSON() gives it. */
  register(options: object, overrides: AssertOptions = {}) {
    const creation = options as Json;
    const challenge = creation.challenge as string;
    this.userHandle = (creation.user as { id: string }).id;
    const jwk = this.#publicKey.export({ format: 'jwk' });
    const coseKey = cbor(
      new Map<number, unknown>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, coseKey]);
    const counter = this.options.counting ? ++this.#counter : 0;
    const authData = this.#authData(
      overrides.rpId ?? this.options.rpId,
      this.#flags(overrides.userVerified ?? this.options.userVerified ?? true, true),
      counter,
      attested,
    );
    const attestationObject = cbor(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    const clientData = this.#clientData(
      overrides.type ?? 'webauthn.create',
      challenge,
      overrides.origin ?? this.options.origin,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientData),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get() for these request options (JSON). */
  assert(options: object, overrides: AssertOptions = {}) {
    const request = options as Json;
    const counter = overrides.counter ?? (this.options.counting ? ++this.#counter : 0);
    const authData = this.#authData(
      overrides.rpId ?? this.options.rpId,
      this.#flags(overrides.userVerified ?? this.options.userVerified ?? true, false),
      counter,
    );
    const clientData = this.#clientData(
      overrides.type ?? 'webauthn.get',
      request.challenge as string,
      overrides.origin ?? this.options.origin,
    );
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientData),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }
}
