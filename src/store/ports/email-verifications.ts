/**
 * Which address of a user has been proven by a link. One row per user: the address is stored
 * with it, so a verification never carries over to a different address.
 */
export interface EmailVerificationStore {
  /** Records that `email` is proven for the user (replaces an earlier proof). */
  markEmailVerified(userId: string, email: string, at: number): Promise<void>;
  /** The address last proven for the user, or undefined. */
  verifiedEmail(userId: string): Promise<string | undefined>;
  /** The proven addresses of many users at once (admin lists): userId → email. */
  verifiedEmails(userIds: readonly string[]): Promise<Map<string, string>>;
}
