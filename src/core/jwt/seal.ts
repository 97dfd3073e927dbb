import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Runtime } from '../runtime.js';
import { JwtKeyError } from './errors.js';

/**
 * Private signing keys at rest are sealed with AES-256-GCM under the key-encryption key (KEK,
 * TESSERA_KEY_ENCRYPTION_KEY). GCM authenticates as well as encrypts, so a tampered record
 * fails to open instead of yielding a wrong key; the associated data ties each ciphertext to
 * its own record, so one key's ciphertext cannot be pasted into another record.
 */
const KEK_BYTES = 32;
/** 96-bit random IV, GCM's native size; at a few keys per year a collision is out of reach. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Versioned so a later format (or KEK rotation scheme) can be told apart from this one. */
const VERSION = 'v1';

/**
 * Reads TESSERA_KEY_ENCRYPTION_KEY: 32 bytes, as 64 hex digits or as base64/base64url.
 * Anything else is refused rather than stretched, so a weak passphrase cannot pass for a key.
 */
export function parseKeyEncryptionKey(text: string): Buffer {
  const trimmed = text.trim();
  const kek = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed.replace(/=$/, ''), 'base64url')
      : undefined;
  if (kek?.length !== KEK_BYTES) {
    throw new JwtKeyError(
      'key_invalid',
      'The key-encryption key must be 32 bytes, as 64 hex digits or base64.',
    );
  }
  return kek;
}

/** Encrypts `plaintext` under the KEK: `v1.<iv>.<ciphertext>.<tag>`, each part base64url. */
export function seal(plaintext: Buffer, kek: Buffer, associatedData: string, runtime: Runtime): string {
  assertKek(kek);
  const iv = runtime.randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const parts = [iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString('base64url'));
  return [VERSION, ...parts].join('.');
}

/** Decrypts what `seal` produced; any tampering, wrong KEK or wrong associated data throws. */
export function open(sealed: string, kek: Buffer, associatedData: string): Buffer {
  assertKek(kek);
  const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
  if (
    version !== VERSION ||
    iv === undefined ||
    ciphertext === undefined ||
    tag === undefined ||
    rest.length
  ) {
    throw new JwtKeyError('key_decrypt_failed', 'The sealed key is not in the v1 format.');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new JwtKeyError(
      'key_decrypt_failed',
      'The sealed key does not open: wrong KEK or tampered record.',
    );
  }
}

function assertKek(kek: Buffer): void {
  if (kek.length !== KEK_BYTES)
    throw new JwtKeyError('key_invalid', 'The key-encryption key must be 32 bytes.');
}
