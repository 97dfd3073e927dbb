import type { PasskeyRecord } from '../../store/ports/passkeys.js';

/**
 * The RFC 8176 authentication methods a passkey use proves (the login's `amr`):
 *
 * - `hwk` (proof of possession of a hardware-secured key) for a device-bound credential: the
 *   authenticator said it is not backup-eligible (BE flag clear), so the private key never
 *   leaves that device (a security key, a platform authenticator without sync).
 * - `swk` (proof of possession of a software-secured key) for a synced passkey (BE set): the key
 *   is copied through a cloud keychain, so its security is that of the account holding the
 *   keychain, not of one piece of hardware. Apps that must know "this very device" demand `hwk`.
 * - `user` when the authenticator verified the user (UV flag: PIN, fingerprint, face): RFC
 *   8176 has no single value for "the authenticator checked a PIN or a biometric", and does
 *   not let us say which one; `user` says a user was tested, on top of possession.
 *
 * BE is fixed when the credential is made, so the same passkey always proves the same method.
 */
export function passkeyAmr(passkey: Pick<PasskeyRecord, 'backupEligible'>, userVerified: boolean): string[] {
  return [passkey.backupEligible ? 'swk' : 'hwk', ...(userVerified ? ['user'] : [])];
}
