// The audit log as a person reads it: each event as a sentence (who did what to whom), its
// facts as labelled fields, filters by user, event and time, and an export (CSV or JSON Lines)
// of exactly the events shown. Every value is rendered with textContent, never as HTML.

/** Each event type in words. `a` is who acted, `s` whom it concerns, `d` the event's detail. */
const SENTENCES = {
  'user.registered': ({ s }) => `${s} registered`,
  'login.succeeded': ({ s }) => `${s} signed in`,
  'login.failed': ({ s, d }) =>
    `A sign-in failed${d.email ? ` for ${d.email}` : s !== 'nobody' ? ` for ${s}` : ''}`,
  logout: ({ s }) => `${s} signed out`,
  'logout.all': ({ a, s, same }) =>
    same ? `${s} signed out on every device` : `${a} ended every login of ${s}`,
  'session.revoked': ({ a, s }) => (s === 'nobody' ? `${a} ended a login` : `${a} ended a login of ${s}`),
  'password.changed': ({ s }) => `${s} changed their password`,
  'password.breach_check_skipped': ({ s }) =>
    `The breached-password check could not run for ${s}; the password was accepted`,
  'token.refreshed': ({ s }) => `${s}'s login was renewed (token refresh)`,
  'token.reuse_detected': ({ s }) => `An old refresh token of ${s} came back: that login was ended`,
  'key.rotated': ({ a }) => `${a} rotated the signing keys`,
  'key.revoked': ({ a, d }) => `${a} revoked signing key ${d.kid ?? ''}`.trim(),
  'user.locked': ({ a, s }) => `${a} locked ${s}`,
  'user.unlocked': ({ a, s }) => `${a} unlocked ${s}`,
  'user.roles_changed': ({ a, s }) => `${a} changed the roles of ${s}`,
  'logout.everyone': ({ a }) => `${a} logged everyone out`,
  'oauth.client_created': ({ a, d }) => `${a} registered the application ${d.name ?? ''}`.trim(),
  'oauth.client_deleted': ({ a, d }) => `${a} deleted the application ${d.name ?? ''}`.trim(),
  'oauth.consent_granted': ({ s }) => `${s} gave an application access`,
  'oauth.consent_denied': ({ s }) => `${s} refused an application access`,
  'oauth.code_exchanged': ({ s }) => `An application exchanged ${s}'s authorization code for tokens`,
  'oauth.code_reused': ({ s }) => `An authorization code of ${s} was used twice: its login was ended`,
  'oauth.token_reused': ({ s }) =>
    `An old application refresh token of ${s} came back: that access was ended`,
  'oauth.token_revoked': ({ s }) => `An application token of ${s} was revoked`,
  'oauth.grant_revoked': ({ a, s, same }) =>
    same ? `${s} withdrew an application's access` : `${a} withdrew an application's access for ${s}`,
  'api_key.created': ({ s }) => `${s} created an API key`,
  'api_key.revoked': ({ a, s, same }) =>
    same ? `${s} revoked an API key` : `${a} revoked an API key of ${s}`,
  'email.verification_sent': ({ s }) => `A verification email was sent to ${s}`,
  'email.verified': ({ s }) => `${s} proved their email address`,
  'password.reset_requested': ({ s }) => `A password reset was requested for ${s}`,
  'password.reset': ({ s }) => `${s} reset their password`,
  'email.change_requested': ({ s }) => `${s} asked to change their email address`,
  'email.changed': ({ s }) => `${s} changed their email address`,
  'email.change_undone': ({ s }) => `An email change of ${s} was undone`,
  'login.new_device': ({ s }) => `${s} signed in from a new device`,
  'account.not_me': ({ s }) => `${s} said a sign-in was not theirs: their logins were ended`,
  'mail.failed': ({ s }) => `A message to ${s} could not be delivered`,
  'webhook.created': ({ a, d }) => `${a} added the webhook endpoint ${d.url ?? ''}`.trim(),
  'webhook.deleted': ({ a, d }) => `${a} deleted the webhook endpoint ${d.url ?? ''}`.trim(),
  'webhook.replayed': ({ a }) => `${a} sent a webhook delivery again`,
  'delivery.failed': ({ d }) =>
    `An event (${d.eventType ?? 'unknown'}) could not be delivered to ${d.host ?? 'its receiver'} for 24 hours`,
  'login.mfa_challenged': ({ s }) => `${s} entered their password and was asked for a second factor`,
  'mfa.failed': ({ s }) => `A second-factor code for ${s} was refused`,
  'mfa.totp_enrolled': ({ s }) => `${s} set up an authenticator app`,
  'mfa.totp_removed': ({ s }) => `${s} removed their authenticator app`,
  'mfa.recovery_code_used': ({ s }) => `${s} used a recovery code`,
  'mfa.recovery_codes_regenerated': ({ s }) => `${s} made new recovery codes`,
  'mfa.reset': ({ a, s }) => `${a} reset the second factors of ${s}`,
  'login.step_up': ({ s }) => `${s} confirmed who they are again (step-up)`,
  'passkey.registered': ({ s, d }) => `${s} added a passkey${d.name ? ` (${d.name})` : ''}`,
  'passkey.renamed': ({ s }) => `${s} renamed a passkey`,
  'passkey.removed': ({ a, s, same }) => (same ? `${s} removed a passkey` : `${a} removed a passkey of ${s}`),
  'passkey.clone_detected': ({ s }) =>
    `A passkey of ${s} was refused: its counter went back, so the key may have been copied`,
};

/** The event types the console knows, for the filter. */
export const EVENT_TYPES = Object.keys(SENTENCES);

/** Labels of the detail fields; others are shown with their own name. */
const LABELS = {
  reason: 'Reason',
  revokedSessions: 'Logins ended',
  revoked: 'Logins ended',
  revokedApiKeys: 'API keys ended',
  revokedLogins: 'Logins ended',
  from: 'Roles before',
  to: 'Roles after',
  kid: 'Key id',
  email: 'Email typed',
  emailHash: 'Text typed (keyed hash: not an address)',
  clientId: 'Application id',
  name: 'Name',
  type: 'Type',
  scopes: 'Scopes',
  keyId: 'API key id',
  device: 'Device',
  refreshTokenId: 'Refresh token id',
  retiredAt: 'Retired at',
  unlocked: 'Unlocked',
  endpointId: 'Webhook endpoint id',
  deliveryId: 'Delivery id',
  eventType: 'Event type',
  url: 'URL',
  host: 'Receiver',
  attempts: 'Attempts',
  error: 'Last error',
  events: 'Events',
  format: 'Format',
};

const personOf = (email, id, none) => email ?? (id ? `deleted user ${id}` : none);

/** The event as a sentence, with the acting admin and the subject by email. */
export function describe(event) {
  const s = personOf(event.userEmail, event.userId, 'nobody');
  const a = personOf(event.actorEmail, event.actorId, 'the command line');
  const same = event.actorId !== null && event.actorId === event.userId;
  const sentence = SENTENCES[event.type];
  return sentence ? sentence({ a, s, d: event.detail ?? {}, same }) : event.type;
}

const show = (value) => {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.length ? value.join(', ') : 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
};

/** The detail object as label/value pairs. */
export function detailFields(event) {
  return Object.entries(event.detail ?? {}).map(([key, value]) => [LABELS[key] ?? key, show(value)]);
}

const element = (tag, text, className) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
};

/** One event as a list item: time, sentence, who and from where, then the details. */
export function eventItem(event, when) {
  const li = element('li');
  li.dataset.type = event.type;
  const head = element('div', undefined, 'head');
  const time = element('time', when(event.at));
  time.dateTime = event.at;
  head.append(time, element('strong', describe(event)), element('span', event.type, 'mono muted'));
  const facts = element('dl');
  const pairs = [
    ['By', personOf(event.actorEmail, event.actorId, 'the command line or the system')],
    ['Subject', personOf(event.userEmail, event.userId, '—')],
    ['IP', event.ip || '—'],
    ...detailFields(event),
  ];
  for (const [label, value] of pairs) facts.append(element('dt', label), element('dd', value));
  li.append(head, facts);
  return li;
}

/** The filters' state read from the form; `from`/`to` are local times. */
export function readFilters() {
  const value = (id) => document.getElementById(id).value.trim();
  const time = (id) => (value(id) ? new Date(value(id)).getTime() : undefined);
  return {
    user: value('audit-user').toLowerCase(),
    type: value('audit-type'),
    from: time('audit-from'),
    to: time('audit-to'),
  };
}

/** Client-side filtering over what the API returned (the API already applied type and user). */
export function matches(event, filters) {
  const at = Date.parse(event.at);
  if (filters.from !== undefined && at < filters.from) return false;
  if (filters.to !== undefined && at > filters.to) return false;
  if (filters.type && event.type !== filters.type) return false;
  if (filters.user) {
    const who = [event.actorEmail, event.userEmail, event.detail?.email, event.actorId, event.userId];
    if (!who.some((w) => typeof w === 'string' && w.toLowerCase().includes(filters.user))) return false;
  }
  return true;
}

const CSV_COLUMNS = [
  ['at', (e) => e.at],
  ['event', (e) => e.type],
  ['description', (e) => describe(e)],
  ['actor_email', (e) => e.actorEmail],
  ['actor_id', (e) => e.actorId],
  ['subject_email', (e) => e.userEmail],
  ['subject_id', (e) => e.userId],
  ['session_id', (e) => e.sessionId],
  ['ip', (e) => e.ip],
  ['user_agent', (e) => e.userAgent],
  ['detail', (e) => JSON.stringify(e.detail ?? {})],
];

/** One CSV field: quoted, and never a formula when a spreadsheet opens it (=, +, -, @ prefixed). */
function csvField(value) {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export function toCsv(events) {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const e of events) lines.push(CSV_COLUMNS.map(([, get]) => csvField(get(e))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function toJsonLines(events) {
  return events.map((e) => `${JSON.stringify({ ...e, description: describe(e) })}\n`).join('');
}

/** Saves text as a file (a same-page download: no server round trip, no inline script). */
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
