import type { TesseraConfig } from './config.js';
import type { Audit } from './core/audit.js';
import type { MailQueue } from './core/email/mail-queue.js';
import { AuthError } from './core/errors.js';
import { DEFAULT_MFA_ATTEMPT_POLICY, type MfaAttemptPolicy } from './core/mfa/attempts.js';
import { Mfa } from './core/mfa/mfa.js';
import type { SecondFactors } from './core/mfa/second-factors.js';
import type { Runtime } from './core/runtime.js';
import type { Sessions } from './core/sessions.js';
import { resolveKeyEncryptionKey } from './key-encryption-key.js';
import { openMfaStores } from './store/mfa-stores.js';
import type { Stores } from './store/ports/index.js';

/**
 * Second factors (issue 18), wired over the database's stores. TOTP secrets are sealed with the
 * key-encryption key, resolved on first use: where a generated key could not be shared (several
 * PostgreSQL nodes, production) and none is configured, enrolling and checking codes answer
 * 503 mfa_unavailable instead of sealing secrets no other node (and no restart) could open.
 */
export function openMfa(deps: {
  config: TesseraConfig;
  /** The database's stores (not the Redis-wrapped ones). */
  stores: Stores;
  runtime: Runtime;
  audit: Audit;
  mail: MailQueue;
  factors: SecondFactors;
  sessions: Sessions;
  attemptPolicy?: MfaAttemptPolicy;
  warnings: string[];
}): Mfa {
  const { config, runtime } = deps;
  let kek: Buffer | undefined;
  const resolveKek = () => {
    if (!config.keyEncryptionKey && (config.production || config.database.engine === 'postgres')) {
      throw new AuthError('mfa_unavailable');
    }
    if (!kek) {
      const resolved = resolveKeyEncryptionKey(config, runtime);
      kek = resolved.kek;
      if (resolved.warning && !deps.warnings.includes(resolved.warning)) deps.warnings.push(resolved.warning);
    }
    return kek;
  };
  return new Mfa({
    stores: openMfaStores(deps.stores),
    runtime,
    audit: deps.audit,
    mail: deps.mail,
    kek: resolveKek,
    issuer: new URL(config.jwt.issuer).host || 'Tessera',
    requiredRoles: config.mfa.requiredRoles,
    attemptPolicy: deps.attemptPolicy ?? DEFAULT_MFA_ATTEMPT_POLICY,
    factors: deps.factors,
    sessions: deps.sessions,
  });
}
