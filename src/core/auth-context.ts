/**
 * How and when a user proved who they are, recorded on every login (SessionRecord) and carried
 * by its credentials: `auth_time`, `amr` (RFC 8176 method references) and `acr` in access
 * tokens, `/auth/session`, introspection and the adapters' principal.
 */
export interface AuthContext {
  /** When the user last proved who they are on this login (ms since the epoch). */
  authTime: number;
  /** RFC 8176 values of that proof, e.g. ["pwd"], ["pwd","otp"], ["hwk"]. */
  amr: string[];
  /** The assurance level the proof reached: `aal1` or `aal2` (NIST SP 800-63B names). */
  acr: string;
}

/** The RFC 8176 values Tessera records. */
export const AMR = {
  password: 'pwd',
  /** TOTP and recovery codes are both one-time passwords. */
  otp: 'otp',
  /** A second factor was used: RFC 8176 `mfa`. */
  mfa: 'mfa',
  /** Passkeys: hardware-bound (hwk) or synced software keys (swk). */
  hardwareKey: 'hwk',
  softwareKey: 'swk',
} as const;

/** The amr values that count as a proof beyond a password (a second factor or a passkey). */
export const SECOND_FACTOR_AMR: readonly string[] = [AMR.otp, AMR.hardwareKey, AMR.softwareKey];

export const hasSecondFactor = (amr: readonly string[]): boolean =>
  amr.some((value) => SECOND_FACTOR_AMR.includes(value));

/**
 * `aal2` when the proof involved something beyond a password (an OTP with the password, or a
 * passkey, which is possession plus the device's user verification), else `aal1`.
 */
export const acrOf = (amr: readonly string[]): string => (hasSecondFactor(amr) ? 'aal2' : 'aal1');

/**
 * The context of a proof made at `at` with methods `methods`. Two or more distinct factors
 * (e.g. pwd + otp) add RFC 8176's `mfa`. Sorted and deduplicated, so equal proofs compare equal.
 */
export function authContextOf(methods: readonly string[], at: number): AuthContext {
  const values = new Set(methods.filter((m) => m !== AMR.mfa));
  const factors = [...values].filter((m) => m !== AMR.password);
  if (values.has(AMR.password) && factors.length > 0) values.add(AMR.mfa);
  const amr = [...values].sort();
  return { authTime: at, amr, acr: acrOf(amr) };
}

/** A well-formed amr list: short lowercase tokens (RFC 8176 registry style), at most 8 of them. */
export function isAmrList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length <= 8 &&
    value.every((v) => typeof v === 'string' && /^[a-z][a-z0-9_-]{0,31}$/.test(v))
  );
}
