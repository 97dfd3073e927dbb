import { escapeHtml } from '../html.js';

/**
 * What each mail says: a clear subject, a plain-text part and an HTML part, and no secret but
 * the one single-use link. Pure functions: the flows (account-email.ts) decide when to send.
 */
export type MailKind = 'verify' | 'reset' | 'change' | 'change_notice' | 'new_device' | 'mfa_notice';

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

interface Parts {
  subject: string;
  /** Paragraphs before the link. */
  lead: string[];
  action: { label: string; url: string };
  /** Paragraphs after the link. */
  after: string[];
}

function render({ subject, lead, action, after }: Parts): ComposedMail {
  const text = [...lead, `${action.label}:\n${action.url}`, ...after].join('\n\n');
  const paragraphs = (list: string[]) => list.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  const html = `<!doctype html>
<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1d1d1f">
${paragraphs(lead)}
<p><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:.6em 1.2em;background:#0a66d8;color:#fff;border-radius:8px;text-decoration:none">${escapeHtml(action.label)}</a></p>
<p style="color:#6e6e73;font-size:.9em">Or paste this address into your browser: ${escapeHtml(action.url)}</p>
${paragraphs(after)}
</body></html>
`;
  return { subject, text: `${text}\n`, html };
}

export const verifyMail = (url: string) =>
  render({
    subject: 'Confirm your email address',
    lead: ['Someone (we hope you) created an account with this email address.'],
    action: { label: 'Confirm this address', url },
    after: ['The link works once, for 24 hours. If you did not create an account, ignore this message.'],
  });

export const resetMail = (url: string) =>
  render({
    subject: 'Reset your password',
    lead: ['Someone (we hope you) asked to reset the password of the account with this email address.'],
    action: { label: 'Choose a new password', url },
    after: [
      'The link works once, for 15 minutes. Setting a new password signs out every device.',
      'If you did not ask for this, ignore this message: your password stays as it is.',
    ],
  });

export const changeMail = (url: string) =>
  render({
    subject: 'Confirm your new email address',
    lead: ['Someone (we hope you) asked to use this address for their account.'],
    action: { label: 'Confirm the new address', url },
    after: ['The link works once, for 24 hours. If you did not ask for this, ignore this message.'],
  });

export const changeNoticeMail = (url: string, newEmail: string) =>
  render({
    subject: 'Your account email address was changed',
    lead: [`The email address of your account was changed to ${newEmail}.`],
    action: { label: 'This was not me: undo the change', url },
    after: [
      'The link works once, for 7 days. Undoing the change also signs out every device; then reset your password.',
    ],
  });

export const newDeviceMail = (url: string, sighting: { device: string; ip: string; at: string }) =>
  render({
    subject: 'New sign-in to your account',
    lead: [
      'Your account was just signed in to from a device or network it has not used before:',
      `Device: ${sighting.device}. IP address: ${sighting.ip}. Time: ${sighting.at}.`,
      'If this was you, there is nothing to do.',
    ],
    action: { label: 'This was not me: lock my account', url },
    after: [
      'Locking signs out every device at once. You can then get back in by resetting your password by email.',
    ],
  });

/** A recovery code was used (issue 18): no link, no secret; what happened and what to do. */
export const recoveryCodeUsedMail = (use: { remaining: number; at: string; ip: string }) => {
  const subject = 'A recovery code was used to sign in to your account';
  const lead = [
    `One of your recovery codes was used at ${use.at} from IP address ${use.ip}. ${use.remaining} unused code${use.remaining === 1 ? '' : 's'} remain.`,
    'If this was you, consider making new codes (the old ones then stop working).',
    'If this was not you, someone has your password and a recovery code: change your password, remove and set up your authenticator app again, and make new recovery codes.',
  ];
  const html = `<!doctype html>
<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1d1d1f">
${lead.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
</body></html>
`;
  return { subject, text: `${lead.join('\n\n')}\n`, html };
};
