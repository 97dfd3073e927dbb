/**
 * The device/IP combinations a user has signed in from, for the new-device alert. Only a
 * SHA-256 fingerprint of (device label, IP) is stored: the list tells nobody where a user was.
 */
export interface KnownDeviceStore {
  /** Remembers the fingerprint; true when it was new for this user (first sign-in from there). */
  rememberDevice(userId: string, fingerprint: string, at: number): Promise<boolean>;
  /** Whether the user has signed in before at all (the very first login alerts nobody). */
  hasKnownDevices(userId: string): Promise<boolean>;
}
