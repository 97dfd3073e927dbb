// The rows of "Who is logged in", "Users" and "Third-party applications", and the actions on
// them: each destructive one is confirmed in a dialog that names what will happen.
import { call, delayText, state, when } from './api.js';
import { confirmAction, parseRoles, runDialog } from './dialogs.js';
import { $, button, cell, fill, notify, tag } from './ui.js';

/** The API's largest page: how many of a user's logins the "End sessions" dialog counts. */
export const MAX_LIMIT = 200;

export function renderSessions(sessions) {
  $('sessions-count').textContent = `${sessions.length} live`;
  fill(
    $('sessions'),
    sessions.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = s.id;
      tr.dataset.email = s.email ?? '';
      const actions = document.createElement('td');
      if (s.current) actions.append(document.createTextNode('this console'));
      else actions.append(button('Revoke…', 'danger', () => revokeSession(s)));
      tr.append(
        cell(s.email),
        cell(s.device),
        cell(s.ip, 'mono'),
        cell(s.mode),
        cell(when(s.createdAt)),
        cell(when(s.lastSeenAt)),
        actions,
      );
      return tr;
    }),
  );
}

function revokeSession(s) {
  const email = s.email ?? s.userId;
  return confirmAction({
    title: `End this login of ${email}?`,
    body: `${email}'s login on ${s.device || 'an unknown device'} (${s.ip}) ends now; that device must sign in again. Their other logins go on.`,
    delay: delayText(state.settings.loginEnd, email),
    actionLabel: 'End this login',
    action: async () => {
      await call('DELETE', `/admin/api/sessions/${encodeURIComponent(s.id)}`);
      notify(
        [
          `Ended ${email}'s login on ${s.device || 'an unknown device'}.`,
          delayText(state.settings.loginEnd, email),
        ].join(' '),
      );
    },
  });
}

export function renderUsers(users) {
  $('users-count').textContent = `${users.length}`;
  fill(
    $('users'),
    users.map((u) => {
      const tr = document.createElement('tr');
      tr.dataset.email = u.email;
      const roles = document.createElement('td');
      roles.append(...u.roles.map((role) => tag(role)));
      const status = document.createElement('td');
      if (u.lockedAt)
        status.append(tag('locked', 'tag locked'), document.createTextNode(` ${u.lockReason ?? ''}`));
      else status.textContent = 'active';
      if (!u.emailVerified) status.append(document.createTextNode(' '), tag('email unverified'));
      const actions = document.createElement('td');
      actions.className = 'actions';
      const id = encodeURIComponent(u.id);
      if (u.id !== state.me.id) {
        actions.append(
          u.lockedAt
            ? button('Unlock', '', async () => {
                await call('POST', `/admin/api/users/${id}/unlock`);
                notify(`Unlocked ${u.email}: they can sign in again.`);
              })
            : button('Lock…', 'danger', () => lockUser(u)),
        );
      }
      actions.append(
        button('Roles…', '', () => editRoles(u)),
        button('End sessions…', '', () => endSessions(u)),
      );
      if (!u.emailVerified) {
        actions.append(
          button('Resend verification', '', async () => {
            await call('POST', `/admin/api/users/${id}/verification`);
            notify(`A new verification link is on its way to ${u.email}.`);
          }),
        );
      }
      // The user's second factors, by name only (the API never sends a secret).
      const factors = document.createElement('td');
      const names = (u.mfa ?? []).filter((m) => m !== 'recovery_code');
      if (names.length === 0) factors.textContent = 'none';
      else factors.append(...names.map((m) => tag(m === 'totp' ? 'authenticator app' : m)));
      if (names.length > 0) actions.append(button('Reset second factor…', 'danger', () => resetFactors(u)));
      tr.append(cell(u.email), roles, status, factors, actions);
      return tr;
    }),
  );
}

/** A user who lost their authenticator: every factor removed and every login ended. */
function resetFactors(u) {
  return confirmAction({
    title: `Reset the second factor of ${u.email}?`,
    body: `Their authenticator app and recovery codes are removed and every login and API key of ${u.email} ends now. They sign in again with their password${u.roles.includes('admin') ? ' and must set up a new authenticator app' : ''}. Do this only after checking who is asking.`,
    delay: delayText(state.settings.loginEnd, u.email),
    actionLabel: 'Reset second factor',
    action: async () => {
      const result = await call('POST', `/admin/api/users/${encodeURIComponent(u.id)}/mfa/reset`);
      notify(
        `Reset the second factor of ${u.email}; ${result.revokedSessions} login${result.revokedSessions === 1 ? '' : 's'} ended.`,
      );
    },
  });
}

function lockUser(u) {
  return runDialog('lock-dialog', {
    slots: { email: u.email, delay: delayText(state.settings.loginEnd, u.email) },
    prepare: (form) => form.reset(),
    action: async (form) => {
      const reason = form.elements.reason.value.trim();
      if (!reason) throw new Error('Say why: the reason is kept in the audit log.');
      const result = await call('POST', `/admin/api/users/${encodeURIComponent(u.id)}/lock`, { reason });
      const ended = `${result.revokedSessions} login${result.revokedSessions === 1 ? '' : 's'} ended`;
      notify([`Locked ${u.email} (${ended}).`, delayText(result, u.email)].join(' '));
    },
  });
}

function editRoles(u) {
  return runDialog('roles-dialog', {
    slots: {
      email: u.email,
      delay:
        state.me.mode === 'jwt'
          ? delayText(
              { appliesAt: 'next_refresh', maxDelaySeconds: state.settings.accessTokenTtlSeconds },
              u.email,
            )
          : '',
    },
    prepare: (form) => {
      form.elements.roles.value = u.roles.join(', ');
    },
    action: async (form) => {
      const roles = parseRoles(form.elements.roles.value);
      if (roles instanceof Error) throw roles;
      const result = await call('PUT', `/admin/api/users/${encodeURIComponent(u.id)}/roles`, { roles });
      notify(
        [
          `${u.email} now has ${result.roles.length ? `the roles ${result.roles.join(', ')}` : 'no roles'}.`,
          delayText(result, u.email),
        ]
          .filter(Boolean)
          .join(' '),
      );
    },
  });
}

async function endSessions(u) {
  const { sessions, next } = await call(
    'GET',
    `/admin/api/sessions?user=${encodeURIComponent(u.id)}&limit=${MAX_LIMIT}`,
  );
  const count = `${sessions.length}${next ? '+' : ''} live login${sessions.length === 1 && !next ? '' : 's'}`;
  return confirmAction({
    title: `End every login of ${u.email}?`,
    body: `${u.email}'s ${count} and all their API keys end now; they can sign in again.`,
    delay: delayText(state.settings.loginEnd, u.email),
    actionLabel: `End ${count}`,
    action: async () => {
      const result = await call('DELETE', `/admin/api/users/${encodeURIComponent(u.id)}/sessions`);
      notify(
        [
          `Ended ${result.revoked} login${result.revoked === 1 ? '' : 's'} of ${u.email}.`,
          delayText(result, u.email),
        ].join(' '),
      );
    },
  });
}

export function renderClients(clients) {
  $('clients-count').textContent = `${clients.length}`;
  fill(
    $('clients'),
    clients.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = c.id;
      const actions = document.createElement('td');
      actions.append(
        button('Delete…', 'danger', () =>
          confirmAction({
            title: `Delete the application ${c.name}?`,
            body: `Every token ${c.name} holds stops working now and its users' grants are withdrawn. This cannot be undone.`,
            actionLabel: 'Delete application',
            action: async () => {
              await call('DELETE', `/admin/api/clients/${encodeURIComponent(c.id)}`);
              notify(`Deleted ${c.name}.`);
            },
          }),
        ),
      );
      tr.append(
        cell(c.name),
        cell(c.id, 'mono'),
        cell(c.type),
        cell(c.scopes.join(' ')),
        cell(c.redirectUris.join(' '), 'mono'),
        cell(c.audience, 'mono'),
        actions,
      );
      return tr;
    }),
  );
}
