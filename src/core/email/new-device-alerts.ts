import { hash } from 'node:crypto';
import type { UserRecord, UserStore } from '../../store/ports/index.js';
import type { KnownDeviceStore } from '../../store/ports/known-devices.js';
import type { Audit } from '../audit.js';
import type { Control } from '../control.js';
import { deviceLabel } from '../device.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { ClientContext } from '../sessions.js';
import { NOT_ME_LOCK_REASON } from './account-email.js';
import type { EmailTokens } from './email-tokens.js';
import { type MailQueue, pageLink } from './mail-queue.js';
import { newDeviceMail } from './messages.js';

export interface NewDeviceAlertDeps {
  users: UserStore;
  devices: KnownDeviceStore;
  tokens: EmailTokens;
  mail: MailQueue;
  control: Control;
  audit: Audit;
  runtime: Runtime;
  publicUrl: string;
  enabled: boolean;
}

/**
 * The new-device sign-in alert: a login from a (device label, IP) pair the account has not
 * used before mails the owner, with a "this wasn't me" link that locks the account and ends
 * every login at once on every node (Control.lockUser: the store, and the revocation bus in
 * hybrid mode). The first login of an account alerts nobody: there is no "before" yet.
 */
export class NewDeviceAlerts {
  constructor(private readonly deps: NewDeviceAlertDeps) {}

  /** After a successful login; true when an alert was queued. */
  async noteLogin(user: UserRecord, client: ClientContext): Promise<boolean> {
    if (!this.deps.enabled) return false;
    const device = deviceLabel(client.userAgent);
    // Only a hash is kept: the table says nothing of where a user has been.
    const fingerprint = hash('sha256', `${device}\0${client.ip}`, 'base64url');
    const hadDevices = await this.deps.devices.hasKnownDevices(user.id);
    const isNew = await this.deps.devices.rememberDevice(user.id, fingerprint, this.deps.runtime.now());
    if (!isNew || !hadDevices) return false;
    const token = await this.deps.tokens.issue(user.id, 'not_me', user.email);
    const at = new Date(this.deps.runtime.now()).toUTCString();
    await this.deps.mail.enqueue(
      'new_device',
      user.email,
      user.id,
      newDeviceMail(pageLink(this.deps.publicUrl, 'not-me', token), { device, ip: client.ip, at }),
    );
    await this.deps.audit.record('login.new_device', { userId: user.id, client, detail: { device } });
    return true;
  }

  /** "This wasn't me": locks the account (every login ends, everywhere) and audits who and when. */
  async notMe(presented: string, client: ClientContext): Promise<{ revokedSessions: number }> {
    const record = await this.deps.tokens.check(presented, 'not_me');
    const user = await this.deps.users.findUserById(record.userId);
    if (!user) throw new AuthError('token_invalid', 'This link is not valid.');
    await this.deps.tokens.use(record);
    // Every other alert link of the user is spent too: one lock is enough.
    await this.deps.tokens.retireAll(user.id, 'not_me');
    const actor = { actorId: user.id, client };
    // An account an admin locked stays locked under the admin's reason (a reset must not lift
    // it); its logins end all the same.
    const revokedSessions =
      user.lockedAt !== null && user.lockReason !== NOT_ME_LOCK_REASON
        ? await this.deps.control.revokeUserSessions(user.id, actor)
        : (await this.deps.control.lockUser(user.id, NOT_ME_LOCK_REASON, actor)).revokedSessions;
    await this.deps.audit.record('account.not_me', { userId: user.id, client, detail: { revokedSessions } });
    return { revokedSessions };
  }
}
