// The console's calls to the admin API, and what the answers mean in words.

/** Who is signed in (`me`), the server's timeouts (`settings`) and the anti-CSRF token. */
export const state = { me: null, settings: null, csrfToken: '' };

/** The anti-CSRF token: the script-readable cookie, or GET /auth/csrf. */
function csrfFromCookie() {
  const match = /(?:^|;\s*)__Host-tessera_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : '';
}

/**
 * One API call. `background`: the console's own polling, sent with `x-tessera-background: 1` so
 * the server does not count it as the admin's activity (an idle admin is signed out on time).
 */
export async function call(method, url, body, { background = false, retried = false } = {}) {
  const headers = { accept: 'application/json' };
  if (background) headers['x-tessera-background'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = state.csrfToken || csrfFromCookie();
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
    const refreshHeaders = { 'x-csrf-token': csrfFromCookie() };
    if (background) refreshHeaders['x-tessera-background'] = '1';
    const refreshed = await fetch('/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: refreshHeaders,
    });
    if (refreshed.ok) return call(method, url, body, { background, retried: true });
  }
  // A sensitive action with a stale proof: ask for a code (console.js sets the hook), step up, retry once.
  if (response.status === 401 && data.error === 'step_up_required' && !retried && stepUp.ask) {
    if (await stepUp.ask()) return call(method, url, body, { background, retried: true });
  }
  if (!response.ok) {
    const error = new Error(data.message || `HTTP ${response.status}`);
    error.status = response.status;
    error.code = data.error;
    throw error;
  }
  return data;
}

/** Set by console.js: asks the admin for a code and calls POST /auth/reauthenticate; true when done. */
export const stepUp = { ask: null };

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
export const minutes = (seconds) =>
  seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;

/**
 * What an ending means for how long the user stays signed in, in words. jwt mode cannot recall
 * an access token: the admin API says how long one may still be used (`maxDelaySeconds`).
 */
export function delayText(effect, email) {
  if (effect?.appliesAt === 'access_token_expiry') {
    return `jwt mode: an access token cannot be recalled, so ${email} may stay signed in for up to ${minutes(effect.maxDelaySeconds)} at apps that check tokens alone (Tessera's own GET /auth/session too); it cannot be renewed.`;
  }
  if (effect?.appliesAt === 'next_refresh') {
    return `jwt mode: the new roles reach ${email}'s apps at their next token refresh, within ${minutes(effect.maxDelaySeconds)}; until then their current token keeps the old roles.`;
  }
  return '';
}
