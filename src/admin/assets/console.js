// Tessera admin console: plain ES modules (no build step), same-origin calls to the admin API
// with the login's cookie and the anti-CSRF header. Every value from the server is rendered
// with textContent, never as HTML. Questions are asked in dialogs (dialogs.js); the lists and
// their actions are in people.js, the audit log in audit.js.
import { call, delayText, minutes, state, stepUp, when } from './api.js';
import * as audit from './audit.js';
import { confirmAction, runDialog } from './dialogs.js';
import { MAX_LIMIT, renderClients, renderSessions, renderUsers } from './people.js';
import { $, cell, fill, hooks, notify } from './ui.js';
import { refreshWebhooks, wireWebhookDialog } from './webhooks.js';

const REFRESH_MS = 2000;
/** Rows asked per page: lists send `?limit=`; when the API answers a `next` cursor, "Load more" asks for the next page. */
const PAGE = 100;
let timer = null;
const pages = { sessions: 1, users: 1, audit: 1 };
let auditEvents = [];
let emails = new Map();

function showError(error) {
  if (error.status === 401) {
    if (!state.me) return; // already signed out (a poll that was under way)
    return showLogin(
      `You were signed out (${state.settings ? `after ${minutes(state.settings.sessionIdleTimeoutSeconds)} without activity, or ` : ''}your login was ended): sign in again.`,
    );
  }
  $('console-error').textContent = error.message;
}

/**
 * Every page the admin has loaded of one list, kept fresh by each poll: the first page, then
 * the next ones by following the API's `next` cursor ("Load more" adds one). "Load more" shows
 * while the API answers a `next` cursor. Each request reads one page (at most MAX_LIMIT rows).
 */
async function loadPages(list, url, key, get) {
  let rows = [];
  let next = null;
  for (let page = 0; page < pages[list]; page += 1) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (next) params.set('cursor', next);
    const data = await get(`${url}${url.includes('?') ? '&' : '?'}${params}`);
    rows = rows.concat(data[key]);
    next = data.next ?? null;
    if (!next) break;
  }
  $(`${list}-more`).hidden = !next;
  return rows;
}

function renderAudit() {
  const filters = audit.readFilters();
  const shown = auditEvents.filter((e) => audit.matches(e, filters));
  $('audit-count').textContent = `${shown.length} shown of ${auditEvents.length} loaded`;
  $('audit').replaceChildren(...shown.map((e) => audit.eventItem(e, when)));
  return shown;
}

/** The audit query: the API's own filters (event type; user when it is a known address), the rest client-side. */
function auditUrl() {
  const { user, type } = audit.readFilters();
  const params = new URLSearchParams();
  if (type) params.set('type', type);
  if (user && [...emails.values()].some((e) => e.toLowerCase() === user)) params.set('user', user);
  return `/admin/api/audit?${params}`;
}

async function refresh({ background = false } = {}) {
  const get = (url) => call('GET', url, undefined, { background });
  const search = $('users-search').value.trim();
  const [sessions, users, events, { mail }, { clients }] = await Promise.all([
    loadPages('sessions', '/admin/api/sessions', 'sessions', get),
    loadPages(
      'users',
      `/admin/api/users${search ? `?${new URLSearchParams({ q: search })}` : ''}`,
      'users',
      get,
    ),
    loadPages('audit', auditUrl(), 'events', get),
    get('/admin/api/mail/outbox?limit=30'),
    get('/admin/api/clients'),
  ]);
  $('console-error').textContent = '';
  // Addresses the console knows: the loaded users', and the sessions' owners'.
  emails = new Map([...sessions, ...users].map((u) => [u.userId ?? u.id, u.email]));
  $('who').textContent = state.me.email ?? emails.get(state.me.id) ?? state.me.id;
  renderSessions(sessions);
  renderUsers(users);
  auditEvents = events;
  renderAudit();
  // The outbox: what was sent, what waits, and why a message failed (never its link).
  $('outbox-count').textContent = `${mail.filter((m) => m.status !== 'sent').length} not sent`;
  fill(
    $('outbox'),
    mail.map((m) => {
      const tr = document.createElement('tr');
      tr.append(
        cell(when(m.createdAt)),
        cell(m.to),
        cell(m.kind),
        cell(m.status),
        cell(String(m.attempts)),
        cell(m.lastError ?? ''),
      );
      return tr;
    }),
  );
  renderClients(clients);
  await refreshWebhooks(get);
  if (state.me.mode !== 'session') {
    const { keys } = await get('/admin/api/keys');
    $('keys-section').hidden = false;
    fill(
      $('keys'),
      keys.map((k) => {
        const tr = document.createElement('tr');
        tr.append(cell(k.kid, 'mono'), cell(k.alg), cell(k.status), cell(when(k.createdAt)));
        return tr;
      }),
    );
  }
}

const words = (text) => text.split(/\s+/).filter(Boolean);

$('new-client').addEventListener('click', async () => {
  await runDialog('client-dialog', {
    prepare: (form) => form.reset(),
    action: async (form) => {
      const f = form.elements;
      const scopes = words(f.scopes.value);
      const backchannel = f.backchannelLogoutUri.value.trim();
      // OpenID Connect settings only for a relying party (the API refuses them on other clients).
      const oidc = scopes.includes('openid')
        ? {
            subjectType: f.subjectType.value,
            postLogoutRedirectUris: words(f.postLogoutRedirectUris.value),
            ...(backchannel && { backchannelLogoutUri: backchannel }),
          }
        : {};
      const { client, clientSecret } = await call('POST', '/admin/api/clients', {
        name: f.name.value.trim(),
        type: f.type.value,
        redirectUris: words(f.redirectUris.value),
        scopes,
        audience: f.audience.value.trim(),
        ...oidc,
      });
      $('client-secret').textContent = clientSecret
        ? `Registered ${client.name}: client_id ${client.id}, client_secret ${clientSecret} (shown once: copy it now).`
        : `Registered ${client.name}: client_id ${client.id} (public: no secret).`;
    },
  });
  await refresh().catch(showError);
});

wireWebhookDialog(() => refresh().catch(showError));

$('rotate-keys').addEventListener('click', async () => {
  await call('POST', '/admin/api/keys/rotate')
    .then(() => notify('Rotated the signing keys: the next key signs from now on.'))
    .catch(showError);
  await refresh().catch(showError);
});

for (const list of ['sessions', 'users', 'audit']) {
  $(`${list}-more`).addEventListener('click', () => {
    pages[list] += 1;
    refresh().catch(showError);
  });
}

// User search: a prefix of the address (case and look-alikes folded by the API), from page one.
$('users-search').addEventListener('input', () => {
  pages.users = 1;
  refresh().catch(showError);
});

// Audit filters: the time and the user filter apply at once to what is loaded; the event type
// (and a known user's address) also go to the API, so older matching events are fetched too.
for (const id of ['audit-user', 'audit-type', 'audit-from', 'audit-to']) {
  $(id).addEventListener('input', () => renderAudit());
  $(id).addEventListener('change', () => refresh().catch(showError));
}
$('audit-filters').addEventListener('submit', (event) => event.preventDefault());
$('audit-type').append(
  ...audit.EVENT_TYPES.map((type) => {
    const option = document.createElement('option');
    option.value = type;
    option.textContent = type;
    return option;
  }),
);
const stamp = () => new Date().toISOString().replaceAll(':', '-').slice(0, 19);
$('audit-csv').addEventListener('click', () =>
  audit.download(`tessera-audit-${stamp()}.csv`, 'text/csv', audit.toCsv(renderAudit())),
);
$('audit-jsonl').addEventListener('click', () =>
  audit.download(`tessera-audit-${stamp()}.jsonl`, 'application/x-ndjson', audit.toJsonLines(renderAudit())),
);

function showLogin(message = '') {
  clearInterval(timer);
  resetLoginForms();
  state.me = null;
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  $('console').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('login-error').textContent = message;
  $('login').hidden = false;
}

async function start() {
  try {
    const session = await call('GET', '/auth/session');
    state.me = {
      id: session.user.id,
      email: session.user.email,
      mode: session.session.mode,
      roles: session.user.roles,
    };
    state.csrfToken = (await call('GET', '/auth/csrf')).csrfToken;
  } catch (error) {
    if (error.status === 401) return showLogin();
    throw error;
  }
  $('login').hidden = true;
  $('who').textContent = state.me.email ?? state.me.id;
  $('mode').textContent = `${state.me.mode} mode`;
  $('sign-out').hidden = false;
  $('console').hidden = false;
  if (!state.me.roles.includes('admin')) {
    $('console-error').textContent = 'This account does not have the admin role.';
    return;
  }
  state.settings = await call('GET', '/admin/api/settings');
  await refresh().catch(showError);
  clearInterval(timer);
  // "Who is logged in" stays live: a cheap poll, marked as background so it is not activity.
  // Paused while a dialog is open: the rows do not move under a question, and a poll cannot
  // race the action the dialog is taking.
  timer = setInterval(() => {
    if (!document.querySelector('dialog[open]')) refresh({ background: true }).catch(showError);
  }, REFRESH_MS);
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    const answer = await call('POST', '/auth/login', {
      email: $('email').value,
      password: $('password').value,
    });
    $('password').value = '';
    if (answer.mfaRequired || answer.mfaEnrollmentRequired) return await secondStep(answer);
    await start();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

/** What the code field holds: six digits are a code, anything else a recovery code. */
const proofOf = (text) =>
  /^\d{6}$/.test(text.trim()) ? { code: text.trim() } : { recoveryCode: text.trim() };

/**
 * The login's second step: a code (or recovery code) for an admin with an authenticator app; or,
 * for one without (TESSERA_MFA_REQUIRED_ROLES), enrolment first: the QR code (SVG drawn by
 * Tessera, parsed as SVG, never as HTML), the key, a first code, then the recovery codes once.
 */
async function secondStep(answer) {
  let enrolment = false;
  if (answer.mfaEnrollmentRequired) {
    const { secret, qrSvg } = await call('POST', '/auth/mfa/totp', {});
    const svg = new DOMParser().parseFromString(qrSvg, 'image/svg+xml').documentElement;
    $('mfa-qr').replaceChildren(document.importNode(svg, true));
    $('mfa-secret').textContent = secret;
    enrolment = true;
  }
  $('mfa-enrol').hidden = !enrolment;
  $('login-form').hidden = true;
  $('mfa-form').hidden = false;
  $('mfa-code').value = '';
  $('mfa-code').focus();
  $('mfa-form').onsubmit = async (event) => {
    event.preventDefault();
    $('mfa-error').textContent = '';
    try {
      const typed = $('mfa-code').value;
      if (!enrolment) await call('POST', '/auth/mfa/verify', proofOf(typed));
      else {
        const { recoveryCodes } = await call('POST', '/auth/mfa/totp/confirm', { code: typed.trim() });
        $('recovery-codes').replaceChildren(
          ...recoveryCodes.map((code) => Object.assign(document.createElement('li'), { textContent: code })),
        );
        $('recovery').hidden = false;
        $('mfa-form').hidden = true;
        await new Promise((resolve) => {
          $('recovery-done').onclick = resolve;
        });
      }
      resetLoginForms();
      await start();
    } catch (error) {
      $('mfa-error').textContent = error.message;
    }
  };
}

function resetLoginForms() {
  $('mfa-form').hidden = true;
  $('recovery').hidden = true;
  $('login-form').hidden = false;
  $('mfa-qr').replaceChildren();
  $('mfa-secret').textContent = '';
  $('recovery-codes').replaceChildren();
}

// A sensitive action with a stale proof (401 step_up_required): the admin types a code, the
// login steps up (POST /auth/reauthenticate), and the action is retried once.
stepUp.ask = async () => {
  const done = await runDialog('step-up-dialog', {
    prepare: (form) => {
      form.elements.code.value = '';
    },
    action: async (form) => call('POST', '/auth/reauthenticate', proofOf(form.elements.code.value)),
  });
  return done !== undefined;
};

$('sign-out').addEventListener('click', async () => {
  await call('POST', '/auth/logout').catch(() => undefined);
  showLogin();
});

$('logout-everyone').addEventListener('click', async () => {
  const { sessions, next } = await call('GET', `/admin/api/sessions?limit=${MAX_LIMIT}`).catch(() => ({
    sessions: [],
  }));
  const count = `${sessions.length}${next ? '+' : ''}`;
  const done = await confirmAction({
    title: 'Log everyone out?',
    body: `Every login of every user ends now (${count} live, yours included) and every API key stops working. Everyone, you too, must sign in again. For the day a key or the database leaks.`,
    delay: delayText(state.settings.loginEnd, 'each user'),
    actionLabel: `Log out all ${count} logins`,
    action: async () => (await call('POST', '/admin/api/logout-everyone')) ?? {},
  });
  if (done) showLogin(`Logged everyone out: ${done.revoked} logins ended. Sign in again.`);
});

hooks.afterAction = () => refresh();
hooks.onError = showError;

start().catch(showError);
