import { Secret, TOTP } from 'otpauth';
import type { SecondFactorStore } from '../../store/ports/second-factors.js';
import type { UserRecord } from '../../store/ports/users.js';
import { AuthError } from '../errors.js';
import { open, seal } from '../jwt/seal.js';
import type { Runtime } from '../runtime.js';

/** RFC 6238 as every authenticator app reads it: SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;
/** 160 bits, RFC 4226's recommended secret length. */
const SECRET_BYTES = 20;
/** One step either side: a phone clock up to ~30 s off still works; nothing looser. */
const WINDOW = 1;
const CODE = /^\d{6}$/;

/** What the user is shown once, to scan or type into an authenticator app. */
export interface TotpEnrolment {
  /** Base32, for typing in by hand. */
  secret: string;
  /** otpauth://totp/... (the QR code's content). */
  uri: string;
}

/**
 * The authenticator-app factor: enrol (pending), confirm with a first code, verify codes with
 * ±1 step tolerance, each code accepted at most once per account (the step of the last accepted
 * code is stored and only a later step passes, a compare-and-set in the store). The secret is
 * sealed with the key-encryption key (AES-256-GCM, associated data binding it to its user), so
 * a database dump alone yields no secret.
 */
export class TotpFactor {
  constructor(
    private readonly deps: {
      store: SecondFactorStore;
      runtime: Runtime;
      /** The key-encryption key; throws (503) where none can be shared across nodes. */
      kek: () => Buffer;
      /** The `issuer` authenticator apps show (the deployment's name). */
      issuer: string;
    },
  ) {}

  /** Starts (or restarts) an enrolment; refused while a confirmed app is set up. */
  async begin(user: UserRecord): Promise<TotpEnrolment> {
    const { store, runtime } = this.deps;
    const existing = await store.findTotp(user.id);
    if (existing?.confirmedAt != null) throw new AuthError('mfa_already_enrolled');
    const secret = new Secret({ buffer: toArrayBuffer(runtime.randomBytes(SECRET_BYTES)) });
    const saved = await store.savePendingTotp({
      userId: user.id,
      secretSealed: seal(
        Buffer.from(secret.base32, 'utf8'),
        this.deps.kek(),
        sealingContext(user.id),
        runtime,
      ),
      createdAt: runtime.now(),
      confirmedAt: null,
      lastUsedStep: null,
    });
    if (!saved) throw new AuthError('mfa_already_enrolled');
    return { secret: secret.base32, uri: this.#totp(user, secret).toString() };
  }

  /** Confirms the pending enrolment with a first valid code. */
  async confirm(user: UserRecord, code: unknown): Promise<void> {
    const record = await this.deps.store.findTotp(user.id);
    if (!record || record.confirmedAt !== null) throw new AuthError('mfa_not_enrolled');
    const step = this.#matchingStep(user, record.secretSealed, code);
    if (step === undefined) throw new AuthError('mfa_code_invalid');
    if (!(await this.deps.store.confirmTotp(user.id, this.deps.runtime.now(), step))) {
      throw new AuthError('mfa_not_enrolled');
    }
  }

  /** Whether the user has a confirmed authenticator app. */
  async enrolled(userId: string): Promise<boolean> {
    return (await this.deps.store.findTotp(userId))?.confirmedAt != null;
  }

  /** Checks a code; its step is then spent (a replay, even within the window, is refused). */
  async verify(user: UserRecord, code: unknown): Promise<void> {
    const record = await this.deps.store.findTotp(user.id);
    if (!record || record.confirmedAt === null) throw new AuthError('mfa_code_invalid');
    const step = this.#matchingStep(user, record.secretSealed, code);
    if (step === undefined || !(await this.deps.store.useTotpStep(user.id, step))) {
      throw new AuthError('mfa_code_invalid');
    }
  }

  remove(userId: string): Promise<boolean> {
    return this.deps.store.deleteTotp(userId);
  }

  /** The time step the code belongs to (within ±1 of now), or undefined. Malformed → undefined. */
  #matchingStep(user: UserRecord, sealed: string, code: unknown): number | undefined {
    if (typeof code !== 'string') return undefined;
    const digits = code.replace(/\s+/g, '');
    if (!CODE.test(digits)) return undefined;
    const base32 = open(sealed, this.deps.kek(), sealingContext(user.id)).toString('utf8');
    const timestamp = this.deps.runtime.now();
    const totp = this.#totp(user, Secret.fromBase32(base32));
    // otpauth compares in constant time (timingSafeEqual) across the window.
    const delta = totp.validate({ token: digits, timestamp, window: WINDOW });
    if (delta === null) return undefined;
    return totp.counter({ timestamp }) + delta;
  }

  #totp(user: UserRecord, secret: Secret): TOTP {
    return new TOTP({
      issuer: this.deps.issuer,
      label: user.email,
      algorithm: 'SHA1',
      digits: DIGITS,
      period: TOTP_PERIOD_SECONDS,
      secret,
    });
  }
}

/** Associated data: a sealed secret pasted into another user's row fails to open. */
const sealingContext = (userId: string) => `tessera-totp:${userId}`;

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
