import type { MfaStores } from '../../store/mfa-stores.js';
import type { UserRecord } from '../../store/ports/users.js';
import type { Audit } from '../audit.js';
import { AMR, hasSecondFactor } from '../auth-context.js';
import type { MailQueue } from '../email/mail-queue.js';
import { recoveryCodeUsedMail } from '../email/messages.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { ClientContext, Sessions } from '../sessions.js';
import { type MfaAttemptPolicy, MfaAttempts } from './attempts.js';
import { MfaChallenges } from './challenges.js';
import { RecoveryCodes } from './recovery-codes.js';
import type { SecondFactorMethod, SecondFactors } from './second-factors.js';
import { TotpFactor } from './totp.js';

export const TOTP_METHOD = 'totp';
export const RECOVERY_CODE_METHOD = 'recovery_code';

export interface MfaDeps {
  stores: MfaStores;
  runtime: Runtime;
  audit: Audit;
  mail: MailQueue;
  /** The key-encryption key (throws 503 mfa_unavailable where none can be shared). */
  kek: () => Buffer;
  issuer: string;
  /** TESSERA_MFA_REQUIRED_ROLES: a user with one of these roles must have a second factor. */
  requiredRoles: readonly string[];
  attemptPolicy: MfaAttemptPolicy;
  /** The registry, created by openFeatures so other kinds of factor can be registered too. */
  factors: SecondFactors;
  /** An operator's reset ends the user's logins through the one ending (Sessions.endUserLogins). */
  sessions: Pick<Sessions, 'endUserLogins'>;
}

/** What a user sees of their factors: never a secret. */
export interface MfaStatus {
  methods: string[];
  totp: { enrolled: boolean; pending: boolean; since: number | null };
  recoveryCodes: { remaining: number };
}

/**
 * Second factors, wired: the registry (TOTP and recovery codes registered here; passkeys and
 * others by `factors.register`), the per-account attempt limit every proof goes through, the
 * login challenges, and the policy of roles that must have a factor.
 */
export class Mfa {
  readonly factors: SecondFactors;
  readonly totp: TotpFactor;
  readonly recoveryCodes: RecoveryCodes;
  readonly attempts: MfaAttempts;
  readonly challenges: MfaChallenges;

  constructor(private readonly deps: MfaDeps) {
    const { stores, runtime } = deps;
    this.factors = deps.factors;
    this.totp = new TotpFactor({ store: stores.factors, runtime, kek: deps.kek, issuer: deps.issuer });
    this.recoveryCodes = new RecoveryCodes({ store: stores.factors, runtime });
    this.attempts = new MfaAttempts({ store: stores.factors, runtime, policy: deps.attemptPolicy });
    this.challenges = new MfaChallenges({ store: stores.challenges, runtime });
    this.factors.register(this.#totpMethod());
    this.factors.register(this.#recoveryMethod());
  }

  /** The second factors the user has (names, registration order); recovery codes alone do not count. */
  async methodsOf(user: UserRecord): Promise<string[]> {
    return this.factors.enrolledMethods(user);
  }

  /** Whether the user has a real second factor (not just leftover recovery codes). */
  async hasFactor(user: UserRecord): Promise<boolean> {
    return (await this.methodsOf(user)).some((method) => method !== RECOVERY_CODE_METHOD);
  }

  /** TESSERA_MFA_REQUIRED_ROLES: the user holds a role that needs a second factor. */
  requiredFor(user: Pick<UserRecord, 'roles'>): boolean {
    return user.roles.some((role) => this.deps.requiredRoles.includes(role));
  }

  /** A login (its amr) that a role's policy accepts: a second factor, or no policy for the roles. */
  satisfiesPolicy(user: Pick<UserRecord, 'roles'>, amr: readonly string[]): boolean {
    return !this.requiredFor(user) || hasSecondFactor(amr);
  }

  /**
   * Checks a second-factor proof in `body` (whichever registered method's field it carries)
   * under the account's attempt limit: counted first, reset on success; a failure is audited
   * and changes nothing else. The amr values proven.
   */
  async prove(
    user: UserRecord,
    body: Readonly<Record<string, unknown>>,
    context: { client: ClientContext; purpose: 'login' | 'step-up' },
  ): Promise<{ method: string; amr: string[] }> {
    // A body of the wrong shape (no proof, two proofs) is refused before it is counted.
    this.factors.methodFor(body);
    await this.attempts.begin(user.id);
    try {
      const proven = await this.factors.verify(user, body, context);
      await this.attempts.succeeded(user.id);
      return proven;
    } catch (error) {
      if (error instanceof AuthError && error.status < 500) {
        await this.deps.audit.record('mfa.failed', {
          userId: user.id,
          client: context.client,
          detail: { purpose: context.purpose, code: error.code },
        });
      }
      throw error;
    }
  }

  /** A code from the pending app confirms it; ten recovery codes are made and shown once. */
  async confirmTotp(user: UserRecord, code: unknown, client: ClientContext): Promise<string[]> {
    await this.attempts.begin(user.id);
    try {
      await this.totp.confirm(user, code);
    } catch (error) {
      if (error instanceof AuthError && error.code === 'mfa_code_invalid') {
        await this.deps.audit.record('mfa.failed', { userId: user.id, client, detail: { purpose: 'enrol' } });
      }
      throw error;
    }
    await this.attempts.succeeded(user.id);
    const codes = await this.recoveryCodes.generate(user.id);
    await this.deps.audit.record('mfa.totp_enrolled', { userId: user.id, client });
    return codes;
  }

  async status(user: UserRecord): Promise<MfaStatus> {
    const totp = await this.deps.stores.factors.findTotp(user.id);
    return {
      methods: await this.methodsOf(user),
      totp: {
        enrolled: totp?.confirmedAt != null,
        pending: totp !== undefined && totp.confirmedAt === null,
        since: totp?.confirmedAt ?? null,
      },
      recoveryCodes: { remaining: await this.recoveryCodes.remaining(user.id) },
    };
  }

  /** Removes the app; with no other factor left, the recovery codes go too (they back up a factor). */
  async removeTotp(user: UserRecord, client: ClientContext): Promise<void> {
    if (!(await this.totp.remove(user.id))) throw new AuthError('mfa_not_enrolled');
    if (!(await this.hasFactor(user))) await this.recoveryCodes.remove(user.id);
    await this.deps.audit.record('mfa.totp_removed', { userId: user.id, client });
  }

  /** New recovery codes (the old die); only for a user with a factor to back up. */
  async regenerateRecoveryCodes(user: UserRecord, client: ClientContext): Promise<string[]> {
    if (!(await this.hasFactor(user))) throw new AuthError('mfa_not_enrolled');
    const codes = await this.recoveryCodes.generate(user.id);
    await this.deps.audit.record('mfa.recovery_codes_regenerated', { userId: user.id, client });
    return codes;
  }

  /**
   * Every factor of the user removed (an admin's reset, `tessera users mfa-reset`): the app,
   * the recovery codes, pending challenges and the attempt count. Ending the user's logins is
   * the caller's (Control), in the logins' one transaction. Other kinds of factor (passkeys)
   * register a `reset` through `onReset`.
   */
  async resetAll(userId: string): Promise<{ totp: boolean; recoveryCodes: number }> {
    const totp = await this.totp.remove(userId);
    const recoveryCodes = await this.recoveryCodes.remove(userId);
    await this.challenges.endAllOf(userId);
    for (const reset of this.#resets) await reset(userId);
    return { totp, recoveryCodes };
  }

  /**
   * An operator's reset (admin API, `tessera users mfa-reset`): every factor removed, then every
   * login and API key of the user ended through the logins' one transaction (Sessions), audited.
   * Whoever held the account with the lost factor is out; the owner logs in with the password
   * and (if the policy says so) enrols again.
   */
  async resetByOperator(
    userId: string,
    actor: { actorId: string | null; client?: ClientContext },
  ): Promise<{ totp: boolean; recoveryCodes: number; revokedSessions: number }> {
    const removed = await this.resetAll(userId);
    const ended = await this.deps.sessions.endUserLogins(userId);
    await this.deps.audit.record('mfa.reset', {
      userId,
      actorId: actor.actorId,
      ...(actor.client && { client: actor.client }),
      detail: { ...removed, revokedSessions: ended.sessions, revokedApiKeys: ended.apiKeys },
    });
    return { ...removed, revokedSessions: ended.sessions };
  }

  readonly #resets: Array<(userId: string) => Promise<unknown>> = [];

  /** Another kind of factor's removal, run by resetAll (passkeys: delete the user's credentials). */
  onReset(reset: (userId: string) => Promise<unknown>): void {
    this.#resets.push(reset);
  }

  #totpMethod(): SecondFactorMethod {
    return {
      name: TOTP_METHOD,
      field: 'code',
      enrolled: (user) => this.totp.enrolled(user.id),
      verify: async (user, proof) => {
        await this.totp.verify(user, proof);
        return [AMR.otp];
      },
    };
  }

  #recoveryMethod(): SecondFactorMethod {
    return {
      name: RECOVERY_CODE_METHOD,
      field: 'recoveryCode',
      enrolled: async (user) => (await this.recoveryCodes.remaining(user.id)) > 0,
      verify: async (user, proof, { client }) => {
        const { remaining } = await this.recoveryCodes.use(user.id, proof);
        await this.deps.audit.record('mfa.recovery_code_used', {
          userId: user.id,
          client,
          detail: { remaining },
        });
        // The owner hears of every use: a thief with the paper cannot use it quietly.
        await this.deps.mail.enqueue(
          'mfa_notice',
          user.email,
          user.id,
          recoveryCodeUsedMail({
            remaining,
            at: new Date(this.deps.runtime.now()).toUTCString(),
            ip: client.ip,
          }),
        );
        return [AMR.otp];
      },
    };
  }
}
