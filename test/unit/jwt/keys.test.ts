import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALGORITHM, type JwsAlgorithm } from '../../../src/core/jwt/algorithms.js';
import { JwtKeyError } from '../../../src/core/jwt/errors.js';
import { importVerificationJwk, publicJwkOf, publicJwks } from '../../../src/core/jwt/jwk.js';
import {
  signingKey,
  verificationKey,
  verificationKeyFromSigningKey,
} from '../../../src/core/jwt/key-objects.js';
import {
  generateSigningKey,
  openSigningKey,
  type SigningKeyRecord,
  verificationKeyOf,
} from '../../../src/core/jwt/keys.js';
import { parseKeyEncryptionKey } from '../../../src/core/jwt/seal.js';
import { manualRuntime } from '../../../src/core/runtime.js';
import { ALL_ALGS } from './fixtures.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const kek = randomBytes(32);
const runtime = manualRuntime();

/** Every member name anywhere in a JSON-able value. */
function memberNames(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) memberNames(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      memberNames(v, into);
    }
  }
  return into;
}

function keyErrorCode(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof JwtKeyError) return error.code;
    throw error;
  }
}

const records = Object.fromEntries(
  await Promise.all(
    ALL_ALGS.map(
      async (alg) => [alg, await generateSigningKey(alg, { kek, runtime, modulusLength: 2048 })] as const,
    ),
  ),
) as Record<JwsAlgorithm, SigningKeyRecord>;

describe('generateSigningKey', () => {
  it.each(ALL_ALGS)(
    '%s: a record with kid, alg, status, createdAt, publicJwk and a sealed private key',
    (alg) => {
      const record = records[alg];
      expect(record.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(record.alg).toBe(alg);
      expect(record.status).toBe('active');
      expect(record.createdAt).toBe(runtime.now());
      expect(record.privateKeyEncrypted).toMatch(
        /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/,
      );
      expect(Object.keys(record).sort()).toEqual(
        [
          'alg',
          'createdAt',
          'kid',
          'privateKeyEncrypted',
          'status',
          ...(alg === 'HS256' ? [] : ['publicJwk']),
        ].sort(),
      );
    },
  );

  it.each(ALL_ALGS)('%s: no private JWK member appears anywhere in the record', (alg) => {
    const names = memberNames(JSON.parse(JSON.stringify(records[alg])));
    for (const member of PRIVATE_MEMBERS) expect(names.has(member)).toBe(false);
  });

  it.each(ALL_ALGS)('%s: the plaintext key never appears in the record', (alg) => {
    const { key } = openSigningKey(records[alg], kek);
    const raw = key.type === 'secret' ? key.export() : key.export({ format: 'der', type: 'pkcs8' });
    const stored = JSON.stringify(records[alg]);
    for (const encoding of ['base64url', 'base64', 'hex'] as const) {
      expect(stored).not.toContain(raw.toString(encoding).slice(0, 24));
    }
    if (key.type !== 'secret') {
      const d = key.export({ format: 'jwk' }).d as string;
      expect(stored).not.toContain(d);
    }
  });

  it('publishes exactly the public members, with kid, alg and use "sig"', () => {
    expect(Object.keys(records.EdDSA.publicJwk ?? {}).sort()).toEqual([
      'alg',
      'crv',
      'kid',
      'kty',
      'use',
      'x',
    ]);
    expect(Object.keys(records.ES256.publicJwk ?? {}).sort()).toEqual([
      'alg',
      'crv',
      'kid',
      'kty',
      'use',
      'x',
      'y',
    ]);
    expect(Object.keys(records.RS256.publicJwk ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(records.ES256.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(records.EdDSA.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(records.RS256.publicJwk?.kid).toBe(records.RS256.kid);
  });

  it('makes RS256 keys of 3072 bits by default and refuses fewer than 2048', async () => {
    const record = await generateSigningKey('RS256', { kek, runtime });
    const { key } = openSigningKey(record, kek);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(3072);
    await expect(generateSigningKey('RS256', { kek, runtime, modulusLength: 1024 })).rejects.toThrow(
      JwtKeyError,
    );
  });

  it('makes HS256 keys of 256 random bits; EdDSA is the default; unknown algs are refused', async () => {
    expect(openSigningKey(records.HS256, kek).key.symmetricKeySize).toBe(32);
    expect(DEFAULT_ALGORITHM).toBe('EdDSA');
    const record = await generateSigningKey(DEFAULT_ALGORITHM, { kek, runtime, status: 'next' });
    expect(record).toMatchObject({ alg: 'EdDSA', status: 'next' });
    await expect(generateSigningKey('none' as JwsAlgorithm, { kek, runtime })).rejects.toThrow(JwtKeyError);
  });
});

describe('private keys at rest (AES-256-GCM under the KEK)', () => {
  it('opens with the right KEK, into a key bound to the record alg', () => {
    for (const alg of ALL_ALGS)
      expect(openSigningKey(records[alg], kek)).toMatchObject({ alg, kid: records[alg].kid });
  });

  it('refuses a wrong KEK', () => {
    expect(keyErrorCode(() => openSigningKey(records.EdDSA, randomBytes(32)))).toBe('key_decrypt_failed');
  });

  it('refuses a ciphertext moved to another kid (kid is associated data)', () => {
    const moved = { ...records.ES256, kid: records.EdDSA.kid };
    expect(keyErrorCode(() => openSigningKey(moved, kek))).toBe('key_decrypt_failed');
  });

  it('refuses a record relabelled with another alg (alg is associated data too)', () => {
    const relabelled = { ...records.RS256, alg: 'ES256' as const };
    expect(keyErrorCode(() => openSigningKey(relabelled, kek))).toBe('key_decrypt_failed');
  });

  it('refuses any flipped bit in iv, ciphertext or tag, and unknown formats', () => {
    const sealed = records.EdDSA.privateKeyEncrypted;
    for (const part of [1, 2, 3]) {
      const parts = sealed.split('.');
      const bytes = Buffer.from(parts[part] as string, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      parts[part] = bytes.toString('base64url');
      const tampered = { ...records.EdDSA, privateKeyEncrypted: parts.join('.') };
      expect(keyErrorCode(() => openSigningKey(tampered, kek))).toBe('key_decrypt_failed');
    }
    for (const bad of [sealed.replace(/^v1/, 'v2'), `${sealed}.x`, 'v1.a.b']) {
      expect(keyErrorCode(() => openSigningKey({ ...records.EdDSA, privateKeyEncrypted: bad }, kek))).toBe(
        'key_decrypt_failed',
      );
    }
  });

  it('uses a fresh IV each time', async () => {
    const a = await generateSigningKey('HS256', { kek, runtime });
    const b = await generateSigningKey('HS256', { kek, runtime });
    expect(a.privateKeyEncrypted.split('.')[1]).not.toBe(b.privateKeyEncrypted.split('.')[1]);
  });

  it('reads TESSERA_KEY_ENCRYPTION_KEY as 64 hex digits or base64(url) of 32 bytes, nothing else', () => {
    const raw = randomBytes(32);
    expect(parseKeyEncryptionKey(raw.toString('hex'))).toEqual(raw);
    expect(parseKeyEncryptionKey(raw.toString('base64'))).toEqual(raw);
    expect(parseKeyEncryptionKey(` ${raw.toString('base64url')}\n`)).toEqual(raw);
    for (const bad of [
      '',
      'correct horse battery staple',
      raw.subarray(0, 16).toString('hex'),
      randomBytes(48).toString('base64'),
    ]) {
      expect(keyErrorCode(() => parseKeyEncryptionKey(bad))).toBe('key_invalid');
    }
  });
});

describe('verification keys', () => {
  it('come from the public JWK alone for asymmetric keys, and need the KEK for HS256', () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
      const key = verificationKeyOf(records[alg]);
      expect(key.key.type).toBe('public');
      expect(key.alg).toBe(alg);
    }
    expect(keyErrorCode(() => verificationKeyOf(records.HS256))).toBe('key_invalid');
    expect(verificationKeyOf(records.HS256, kek).key.type).toBe('secret');
  });

  it('refuses an RSA or EC public key labelled HS256 (algorithm confusion)', () => {
    const rsaPublic = verificationKeyOf(records.RS256).key;
    const ecPublic = verificationKeyOf(records.ES256).key;
    expect(keyErrorCode(() => verificationKey('k', 'HS256', rsaPublic))).toBe('key_invalid');
    expect(keyErrorCode(() => verificationKey('k', 'HS256', ecPublic))).toBe('key_invalid');
  });

  it('refuses keys of the wrong kind or size for their alg, private keys, and odd kids', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const ed = generateKeyPairSync('ed25519');
    expect(keyErrorCode(() => verificationKey('k', 'ES256', p384))).toBe('key_invalid');
    expect(keyErrorCode(() => verificationKey('k', 'RS256', rsa1024))).toBe('key_invalid');
    expect(keyErrorCode(() => verificationKey('k', 'ES256', ed.publicKey))).toBe('key_invalid');
    expect(keyErrorCode(() => verificationKey('k', 'EdDSA', ed.privateKey))).toBe('key_invalid');
    expect(keyErrorCode(() => verificationKey('k', 'HS256', createSecretKey(randomBytes(31))))).toBe(
      'key_invalid',
    );
    expect(keyErrorCode(() => verificationKey('a/b', 'EdDSA', ed.publicKey))).toBe('key_invalid');
    expect(keyErrorCode(() => signingKey('k', 'EdDSA', ed.publicKey))).toBe('key_invalid');
    expect(verificationKeyFromSigningKey(signingKey('k', 'EdDSA', ed.privateKey)).key.type).toBe('public');
  });
});

describe('JWK export and import', () => {
  it('publicJwkOf a private key exports only public members', () => {
    for (const alg of ['EdDSA', 'ES256', 'RS256'] as const) {
      const { key, kid } = openSigningKey(records[alg], kek);
      const jwk = publicJwkOf(key, kid, alg);
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
    expect(keyErrorCode(() => publicJwkOf(openSigningKey(records.HS256, kek).key, 'k', 'HS256'))).toBe(
      'key_invalid',
    );
  });

  it('publicJwks lists every asymmetric key, never HS256, and drops members smuggled into a record', () => {
    const tampered: SigningKeyRecord = {
      ...records.EdDSA,
      status: 'retired',
      publicJwk: {
        ...(records.EdDSA.publicJwk as NonNullable<SigningKeyRecord['publicJwk']>),
        d: 'secret',
      } as never,
    };
    const { keys } = publicJwks([tampered, records.ES256, records.RS256, records.HS256]);
    expect(keys.map((k) => k.alg)).toEqual(['EdDSA', 'ES256', 'RS256']);
    const names = memberNames(keys);
    for (const member of PRIVATE_MEMBERS) expect(names.has(member)).toBe(false);
  });

  it('importVerificationJwk honours use, key_ops and alg, and reads only public members', () => {
    const { key, kid } = openSigningKey(records.ES256, kek);
    const privateJwk = { ...key.export({ format: 'jwk' }), kid, alg: 'ES256' };
    expect(importVerificationJwk(privateJwk).key.type).toBe('public');
    expect(keyErrorCode(() => importVerificationJwk({ ...privateJwk, use: 'enc' }))).toBe('key_invalid');
    expect(keyErrorCode(() => importVerificationJwk({ ...privateJwk, key_ops: ['encrypt'] }))).toBe(
      'key_invalid',
    );
    expect(importVerificationJwk({ ...privateJwk, key_ops: ['verify'] }).alg).toBe('ES256');
    expect(keyErrorCode(() => importVerificationJwk(privateJwk, { alg: 'RS256' }))).toBe('key_invalid');
    expect(keyErrorCode(() => importVerificationJwk({ ...privateJwk, alg: undefined }))).toBe(
      'key_unsupported',
    );
    expect(importVerificationJwk({ ...privateJwk, alg: undefined }, { alg: 'ES256' }).alg).toBe('ES256');
    expect(keyErrorCode(() => importVerificationJwk({ ...privateJwk, alg: 'ES384' }))).toBe(
      'key_unsupported',
    );
    expect(keyErrorCode(() => importVerificationJwk({ ...privateJwk, x: 'AAAA' }))).toBe('key_invalid');
    expect(keyErrorCode(() => importVerificationJwk({ kty: 'oct', k: 'AAAA', kid, alg: 'HS256' }))).toBe(
      'key_invalid',
    );
  });
});
