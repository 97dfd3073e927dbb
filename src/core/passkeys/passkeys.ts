import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { WebAuthnConfig } from '../../config-webauthn.js';
import type { PasskeyStores } from '../../store/passkey-stores.js';
import type { UserRecord, UserStore } from '../../store/ports/index.js';
import type { PasskeyRecord } from '../../store/ports/passkeys.js';
import type { Audit } from '../audit.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { ClientContext } from '../sessions.js';
import { newRandomId } from '../tokens.js';
import { passkeyAmr } from './amr.js';
import { CHALLENGE_TTL_MS, WebAuthnChallenges } from './challenges.js';

/** A bank customer has a phone, a laptop, a security key or two; 20 leaves room and bounds the list. */
export const MAX_PASSKEYS_PER_USER = 20;

/** What a verified passkey proves: who, with which passkey, and the RFC 8176 methods (amr.ts). */
export interface PasskeyProof {
  user: UserRecord;
  passkey: PasskeyRecord;
  amr: string[];
  userVerified: boolean;
}

/** A passkey used for a user already known: the second factor of a login, or a step-up. */
export type KnownUserPurpose = 'second_factor' | 'reauthenticate';

export interface PasskeysOptions {
  stores: PasskeyStores;
  users: UserStore;
  audit: Audit;
  runtime: Runtime;
  /** TESSERA_WEBAUTHN_*; undefined: passkeys are off (409 passkeys_unavailable). */
  relyingParty: WebAuthnConfig | undefined;
}

/**
 * Passkeys (WebAuthn) with @simplewebauthn/server: registration, usernameless login, and the
 * proof of a known user (second factor, step-up). Every response must answer a challenge this
 * server issued for exactly that purpose (challenges.ts), signed for one of the configured
 * origins and the RP id: what makes a passkey worthless to a phishing site.
 *
 * User verification (PIN, biometric) is required where the passkey is the only factor (a
 * passwordless login) and at registration; it is preferred, not required, where a password was
 * already checked (second factor) or the login already exists (step-up). `amr` says which happened.
 */
export class Passkeys {
  readonly #challenges: WebAuthnChallenges;

  constructor(private readonly options: PasskeysOptions) {
    this.#challenges = new WebAuthnChallenges(options.stores.challenges, options.runtime);
  }

  /** Whether TESSERA_WEBAUTHN_* (or the issuer) configured a relying party. */
  get enabled(): boolean {
    return this.options.relyingParty !== undefined;
  }

  /** Creation options for a new passkey of the user, in the login `bindingId`. */
  async registrationOptions(
    user: UserRecord,
    bindingId: string,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.#rp();
    const existing = await this.options.stores.passkeys.listPasskeys(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw new AuthError('passkey_limit_reached');
    const challenge = await this.#challenges.issue({ purpose: 'register', userId: user.id, bindingId });
    return generateRegistrationOptions({
      rpName: rp.rpName,
      rpID: rp.rpId,
      userName: user.email,
      // The user handle: the opaque user id, never the email (authenticators may show or sync it).
      userID: userHandleOf(user.id),
      challenge: bytesOf(challenge),
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      // The same authenticator twice would be one factor counted twice.
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      // Discoverable (resident) credentials: what lets a passkey sign in without an email typed.
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  /** Verifies the authenticator's answer to registrationOptions and stores the passkey. */
  async register(
    user: UserRecord,
    response: RegistrationResponseJSON,
    name: string | undefined,
    bindingId: string,
    client?: ClientContext,
  ): Promise<PasskeyRecord> {
    const rp = this.#rp();
    const challenge = await this.#challenges.take(response.response.clientDataJSON, {
      purpose: 'register',
      userId: user.id,
      bindingId,
    });
    let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
    try {
      const verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.rpId,
        requireUserVerification: true,
      });
      info = verified.verified ? verified.registrationInfo : undefined;
    } catch {
      info = undefined;
    }
    if (!info || info.credential.id !== response.id) throw new AuthError('passkey_registration_invalid');
    const existing = await this.options.stores.passkeys.listPasskeys(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) throw new AuthError('passkey_limit_reached');
    const now = this.options.runtime.now();
    const passkey: PasskeyRecord = {
      id: newRandomId(this.options.runtime),
      userId: user.id,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: response.response.transports ?? [],
      deviceType: info.credentialDeviceType,
      // simplewebauthn reads the BE flag as the device type: multi-device exactly when backup-eligible.
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
      name: name ?? `Passkey ${existing.length + 1}`,
      createdAt: now,
      lastUsedAt: null,
    };
    if (!(await this.options.stores.passkeys.createPasskey(passkey))) throw new AuthError('passkey_exists');
    await this.options.audit.record('passkey.registered', {
      userId: user.id,
      sessionId: bindingId,
      client,
      detail: { passkeyId: passkey.id, name: passkey.name, deviceType: passkey.deviceType },
    });
    return passkey;
  }

  /** Request options for a usernameless login: no credential listed, the browser offers its passkeys. */
  async loginOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.#rp();
    const challenge = await this.#challenges.issue({ purpose: 'login', userId: null, bindingId: null });
    return generateAuthenticationOptions({
      rpID: rp.rpId,
      challenge: bytesOf(challenge),
      timeout: CHALLENGE_TTL_MS,
      userVerification: 'required',
    });
  }

  /** A passwordless login: the passkey is the only factor, so user verification is required. */
  login(response: AuthenticationResponseJSON, client?: ClientContext): Promise<PasskeyProof> {
    return this.#verify(response, { purpose: 'login', userId: null, bindingId: null }, client);
  }

  /** Request options listing the user's own passkeys (second factor, step-up). */
  async optionsFor(
    userId: string,
    purpose: KnownUserPurpose,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.#rp();
    const passkeys = await this.options.stores.passkeys.listPasskeys(userId);
    // Bound to the user and the purpose: a step-up challenge cannot finish a login, nor one
    // user's challenge another user's proof. (The registry hands verify no login id to bind to.)
    const challenge = await this.#challenges.issue({ purpose, userId, bindingId: null });
    return generateAuthenticationOptions({
      rpID: rp.rpId,
      challenge: bytesOf(challenge),
      timeout: CHALLENGE_TTL_MS,
      userVerification: 'preferred',
      allowCredentials: passkeys.map((p) => ({ id: p.credentialId, transports: p.transports })),
    });
  }

  /** A passkey of this very user, answering a challenge optionsFor issued for the same purpose. */
  verifyFor(
    userId: string,
    response: AuthenticationResponseJSON,
    purpose: KnownUserPurpose,
    client?: ClientContext,
  ): Promise<PasskeyProof> {
    return this.#verify(response, { purpose, userId, bindingId: null }, client);
  }

  list(userId: string): Promise<PasskeyRecord[]> {
    return this.options.stores.passkeys.listPasskeys(userId);
  }

  async hasPasskeys(userId: string): Promise<boolean> {
    return (await this.options.stores.passkeys.listPasskeys(userId)).length > 0;
  }

  async rename(userId: string, id: string, name: string, sessionId: string, client?: ClientContext) {
    if (!(await this.options.stores.passkeys.renamePasskey(userId, id, name))) {
      throw new AuthError('passkey_not_found');
    }
    await this.options.audit.record('passkey.renamed', {
      userId,
      sessionId,
      client,
      detail: { passkeyId: id, name },
    });
  }

  async remove(userId: string, id: string, sessionId: string, client?: ClientContext): Promise<void> {
    if (!(await this.options.stores.passkeys.deletePasskey(userId, id))) {
      throw new AuthError('passkey_not_found');
    }
    await this.options.audit.record('passkey.removed', {
      actorId: userId,
      userId,
      sessionId,
      client,
      detail: { passkeyId: id },
    });
  }

  /** Every passkey of the user (an admin's factor reset); returns how many. */
  removeAll(userId: string): Promise<number> {
    return this.options.stores.passkeys.deleteUserPasskeys(userId);
  }

  sweep(): Promise<number> {
    return this.#challenges.sweep();
  }

  async #verify(
    response: AuthenticationResponseJSON,
    binding: { purpose: 'login' | KnownUserPurpose; userId: string | null; bindingId: string | null },
    client: ClientContext | undefined,
  ): Promise<PasskeyProof> {
    const rp = this.#rp();
    // First the challenge, taken whatever follows: a replayed response finds nothing.
    const challenge = await this.#challenges.take(response.response.clientDataJSON, binding);
    const { passkeys } = this.options.stores;
    const passkey =
      response.id === response.rawId ? await passkeys.findPasskeyByCredentialId(response.id) : undefined;
    if (!passkey) throw new AuthError('passkey_invalid');
    // Another user's passkey never proves this user; a user handle must name the passkey's owner.
    const handle = response.response.userHandle;
    if (binding.userId !== null && passkey.userId !== binding.userId) throw new AuthError('passkey_invalid');
    if (handle !== undefined && handle !== Buffer.from(passkey.userId, 'utf8').toString('base64url')) {
      throw new AuthError('passkey_invalid');
    }
    const requireUserVerification = binding.purpose === 'login';
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>> | undefined;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: rp.origins,
        expectedRPID: rp.rpId,
        // Counter 0 here turns the library's own counter check off: ours below runs only once
        // the signature is proven, so only the real key can raise a clone alarm.
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
          counter: 0,
        },
        requireUserVerification,
      });
    } catch {
      verified = undefined;
    }
    if (!verified?.verified) throw new AuthError('passkey_invalid');
    const { newCounter, credentialBackedUp, userVerified } = verified.authenticationInfo;
    if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) {
      // Two authenticators hold this private key: the signature is real but the counter went
      // back. Refused and audited; the owner (or an admin) decides whether to remove the passkey.
      await this.options.audit.record('passkey.clone_detected', {
        userId: passkey.userId,
        client,
        detail: { passkeyId: passkey.id, storedCounter: passkey.counter, presentedCounter: newCounter },
      });
      throw new AuthError('passkey_invalid');
    }
    const usedAt = this.options.runtime.now();
    const use = { counter: newCounter, backedUp: credentialBackedUp, usedAt };
    if (!(await passkeys.recordPasskeyUse(passkey.id, passkey.counter, use))) {
      throw new AuthError('passkey_invalid');
    }
    const user = await this.options.users.findUserById(passkey.userId);
    // A locked account signs in with nothing, and says so no differently than a wrong passkey.
    if (!user || user.lockedAt !== null) throw new AuthError('passkey_invalid');
    return {
      user,
      passkey: { ...passkey, ...use, lastUsedAt: usedAt },
      amr: passkeyAmr(passkey, userVerified),
      userVerified,
    };
  }

  #rp(): WebAuthnConfig {
    if (!this.options.relyingParty) throw new AuthError('passkeys_unavailable');
    return this.options.relyingParty;
  }
}

/** The challenge's bytes: the library base64url-encodes them into the options (a string it would UTF-8 encode first). */
function bytesOf(challenge: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(challenge, 'base64url'));
}

/** The WebAuthn user handle: the user id's bytes (opaque, at most 64 bytes, no personal data). */
function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId, 'utf8'));
}
