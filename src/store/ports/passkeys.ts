/**
 * The passkeys aggregate (WebAuthn credentials, issue 18): several per user. Only public material
 * is stored (the COSE public key, the signature counter, the flags the authenticator reported),
 * so a database reader learns nothing that signs in.
 */

/** RFC 8176's view of where the private key lives (core/passkeys/amr.ts). */
export type PasskeyDeviceType = 'singleDevice' | 'multiDevice';

export interface PasskeyRecord {
  /** Tessera's own id (URLs, the audit log); never the credential id. */
  id: string;
  userId: string;
  /** The WebAuthn credential id, base64url; unique across all users. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last seen (0 for authenticators that keep none). */
  counter: number;
  /** What the browser said the authenticator can be reached by (usb, internal, hybrid …). */
  transports: string[];
  deviceType: PasskeyDeviceType;
  /** BE flag: the key may be synced to other devices (a "synced passkey"). */
  backupEligible: boolean;
  /** BS flag at its last use: the key is backed up right now. */
  backedUp: boolean;
  /** The authenticator model's AAGUID (all zeros when the authenticator keeps it private). */
  aaguid: string;
  /** The user's name for it ("Work laptop"). */
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** What a verified use changes. */
export interface PasskeyUse {
  counter: number;
  backedUp: boolean;
  usedAt: number;
}

export interface PasskeyStore {
  /** false (nothing stored) when the credential id is already registered, by anyone. */
  createPasskey(passkey: PasskeyRecord): Promise<boolean>;
  findPasskeyByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined>;
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  /** false when the user has no passkey with this id. */
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>;
  /** false when the user has no passkey with this id. */
  deletePasskey(userId: string, id: string): Promise<boolean>;
  /** Every passkey of the user (a factor reset); returns how many. */
  deleteUserPasskeys(userId: string): Promise<number>;
  /**
   * Records a verified use, compare-and-set on the counter it was checked against: false when
   * another use moved the counter first (two racing assertions: only one may count).
   */
  recordPasskeyUse(id: string, expectedCounter: number, use: PasskeyUse): Promise<boolean>;
}
