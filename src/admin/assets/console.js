// Tessera admin console: a plain script (no build step), same-origin calls to the admin API
// with the login's cookie and the anti-CSRF header. Every value from the server is rendered
// with textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 2000;
let me = null;
let csrfToken = '';
let timer = null;

/** The anti-CSRF token: the script-readable cookie, or GET /auth/csrf. */
function csrfFromCookie() {
  const match = /(?:^|;\s*)__Host-tessera_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : '';
}

async function call(method, url, body, retried) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken || csrfFromCookie();
  const response = await fetch(url, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  // jwt and hybrid modes: an expired or revoked access token is renewed once with the refresh cookie.
  if (
    response.status === 401 &&
    !retried &&
    (data.error === 'token_expired' || data.error === 'token_revoked')
  ) {
    const refreshed = await fetch('/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'x-csrf-token': csrfFromCookie() },
    });
    if (refreshed.ok) return call(method, url, body, true);
  }
  if (!response.ok) {
    const error = new Error(data.message || `HTTP ${response.status}`);
    error.status = response.status;
    error.code = data.error;
    throw error;
  }
  return data;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function button(label, className, onClick) {
  const b = document.createElement('button');
  b.textContent = label;
  if (className) b.className = className;
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await onClick();
      await refresh();
    } catch (error) {
      showError(error);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function showError(error) {
  if (error.status === 401) return showLogin();
  $('console-error').textContent = error.message;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

async function refresh() {
  const [{ sessions }, { users }, { events }, { mail }] = await Promise.all([
    call('GET', '/admin/api/sessions'),
    call('GET', '/admin/api/users'),
    call('GET', '/admin/api/audit?limit=30'),
    call('GET', '/admin/api/mail/outbox?limit=30'),
  ]);
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
  $('console-error').textContent = '';
  const emails = new Map(users.map((u) => [u.id, u.email]));
  // jwt and hybrid tokens carry no email (no personal data in a readable payload): look it up.
  $('who').textContent = emails.get(me.id) ?? me.id;
  $('sessions-count').textContent = `${sessions.length} live`;
  fill(
    $('sessions'),
    sessions.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = s.id;
      tr.dataset.email = s.email ?? '';
      const actions = document.createElement('td');
      if (!s.current)
        actions.append(
          button('Revoke', 'danger', () => call('DELETE', `/admin/api/sessions/${encodeURIComponent(s.id)}`)),
        );
      else actions.append(document.createTextNode('this console'));
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
  $('users-count').textContent = `${users.length}`;
  fill(
    $('users'),
    users.map((u) => {
      const tr = document.createElement('tr');
      tr.dataset.email = u.email;
      const roles = document.createElement('td');
      for (const role of u.roles) {
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = role;
        roles.append(tag);
      }
      const status = document.createElement('td');
      if (u.lockedAt) {
        const tag = document.createElement('span');
        tag.className = 'tag locked';
        tag.textContent = 'locked';
        status.append(tag, document.createTextNode(` ${u.lockReason ?? ''}`));
      } else status.textContent = 'active';
      if (!u.emailVerified) {
        const tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = 'email unverified';
        status.append(document.createTextNode(' '), tag);
      }
      const actions = document.createElement('td');
      const id = encodeURIComponent(u.id);
      if (u.id !== me.id) {
        actions.append(
          u.lockedAt
            ? button('Unlock', '', () => call('POST', `/admin/api/users/${id}/unlock`))
            : button('Lock', 'danger', () => {
                const reason = prompt(`Why lock ${u.email}?`);
                return reason ? call('POST', `/admin/api/users/${id}/lock`, { reason }) : undefined;
              }),
        );
      }
      actions.append(
        button('Roles…', '', () => {
          const answer = prompt(`Roles of ${u.email}, comma-separated:`, u.roles.join(', '));
          if (answer === null) return undefined;
          const next = answer
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean);
          return call('PUT', `/admin/api/users/${id}/roles`, { roles: next });
        }),
        button('End sessions', '', () => call('DELETE', `/admin/api/users/${id}/sessions`)),
      );
      if (!u.emailVerified) {
        actions.append(
          button('Resend verification', '', () => call('POST', `/admin/api/users/${id}/verification`)),
        );
      }
      tr.append(cell(u.email), roles, status, actions);
      return tr;
    }),
  );
  fill(
    $('audit'),
    events.map((e) => {
      const tr = document.createElement('tr');
      tr.append(
        cell(when(e.at)),
        cell(e.type, 'mono'),
        cell(emails.get(e.userId) ?? e.userId),
        cell(e.ip, 'mono'),
        cell(JSON.stringify(e.detail), 'mono'),
      );
      return tr;
    }),
  );
  await refreshClients();
  if (me.mode !== 'session') {
    const { keys } = await call('GET', '/admin/api/keys');
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

// Third-party applications (OAuth clients): listed with every refresh, registered with prompts.
async function refreshClients() {
  const { clients } = await call('GET', '/admin/api/clients');
  $('clients-count').textContent = `${clients.length}`;
  fill(
    $('clients'),
    clients.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = c.id;
      const actions = document.createElement('td');
      actions.append(
        button('Delete', 'danger', () =>
          confirm(`Delete ${c.name}? Every token it holds stops working.`)
            ? call('DELETE', `/admin/api/clients/${encodeURIComponent(c.id)}`)
            : undefined,
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

const list = (answer) =>
  (answer ?? '')
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);

$('new-client').addEventListener('click', async () => {
  const name = prompt('Application name (users see it on the consent page):');
  if (!name) return;
  const type = prompt(
    'Type: confidential (a server with a secret) or public (SPA, native app):',
    'confidential',
  );
  if (!type) return;
  const redirectUris = list(
    prompt('Redirect URIs, exact, space-separated (empty for a service using client_credentials):', ''),
  );
  const scopes = list(prompt('Scopes it may ask for, space-separated:', 'accounts:read'));
  const audience = prompt('Audience: the resource server its tokens are for:', 'https://api.example.com');
  if (!audience) return;
  try {
    const { client, clientSecret } = await call('POST', '/admin/api/clients', {
      name,
      type,
      redirectUris,
      scopes,
      audience,
    });
    $('client-secret').textContent = clientSecret
      ? `Registered ${client.name}: client_id ${client.id}, client_secret ${clientSecret} (shown once: copy it now).`
      : `Registered ${client.name}: client_id ${client.id} (public: no secret).`;
    await refresh();
  } catch (error) {
    showError(error);
  }
});

function showLogin() {
  clearInterval(timer);
  me = null;
  $('console').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('login').hidden = false;
}

async function start() {
  try {
    const session = await call('GET', '/auth/session');
    me = {
      id: session.user.id,
      email: session.user.email,
      mode: session.session.mode,
      roles: session.user.roles,
    };
    csrfToken = (await call('GET', '/auth/csrf')).csrfToken;
  } catch (error) {
    if (error.status === 401) return showLogin();
    throw error;
  }
  $('login').hidden = true;
  $('who').textContent = me.email ?? me.id;
  $('mode').textContent = `${me.mode} mode`;
  $('sign-out').hidden = false;
  if (!me.roles.includes('admin')) {
    $('console').hidden = false;
    $('console-error').textContent = 'This account does not have the admin role.';
    return;
  }
  $('console').hidden = false;
  await refresh().catch(showError);
  clearInterval(timer);
  // "Who is logged in" stays live: a cheap poll of the admin API.
  timer = setInterval(() => refresh().catch(showError), REFRESH_MS);
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  try {
    await call('POST', '/auth/login', { email: $('email').value, password: $('password').value });
    $('password').value = '';
    await start();
  } catch (error) {
    $('login-error').textContent = error.message;
  }
});

$('sign-out').addEventListener('click', async () => {
  await call('POST', '/auth/logout').catch(() => undefined);
  showLogin();
});

$('logout-everyone').addEventListener('click', async () => {
  if (!confirm('End every login of every user, yours included?')) return;
  await call('POST', '/admin/api/logout-everyone').catch(showError);
  showLogin();
});

start().catch(showError);
