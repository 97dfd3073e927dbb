import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../../core/html.js';
import type { AuthorizationRequest } from '../../core/oauth/authorization.js';
import { describeScopes, formatScope } from '../../core/oauth/scopes.js';
import { htmlContentSecurityPolicy, sendHtml } from '../plugins/security-headers.js';

/**
 * The authorization endpoint's pages: sign in, consent, error. Server-rendered, every value
 * HTML-escaped, no inline script or style (the strict page CSP: this origin's script and
 * stylesheet only), never framed (security-headers.ts), so a page cannot be overlaid to trick
 * a click (clickjacking) and nothing a client sends can run as script.
 */

/**
 * `same-origin`, not the site-wide no-referrer: under no-referrer a browser sends `Origin: null`
 * with a form POST, which the Origin check (rightly) refuses. Same-origin still sends nothing to
 * other sites, the client's redirect URI included.
 */
const page = (title: string, body: string, script?: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/oauth/pages.css">
${script ? `<script src="${script}" defer></script>\n` : ''}</head>
<body><main>
${body}
</main></body>
</html>
`;

export const PAGES_CSS = `body{font:16px/1.5 system-ui,sans-serif;background:#f5f5f7;color:#1d1d1f;margin:0}
main{max-width:28rem;margin:4rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}ul{padding-left:1.2rem}li{margin:.3rem 0}.muted{color:#6e6e73;font-size:.9rem}
label{display:block;margin-top:.8rem}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
.actions{display:flex;gap:.8rem;margin-top:1.5rem}button{font:inherit;padding:.55rem 1.2rem;border-radius:8px;border:1px solid #c7c7cc;background:#fff;cursor:pointer}
button.primary{background:#0a66d8;border-color:#0a66d8;color:#fff}.error{color:#c4001d}code{word-break:break-all}
`;

/**
 * Signs the user in through POST /auth/login (with its rate limits, backoff and audit), then
 * reloads the authorization URL. A script, because /auth/login takes JSON.
 */
// The second step (a code, a recovery code or a passkey) appears in place when the login asks
// for it; the consent page (a reload of /oauth/authorize) is reached only once the login exists.
// A passkey may also sign in alone (usernameless).
export const LOGIN_SCRIPT = `'use strict';
const form = document.getElementById('login-form');
const mfa = document.getElementById('mfa-form');
const post = (path, body) =>
  fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
async function submit(event, errorId, request) {
  event.preventDefault();
  const error = document.getElementById(errorId);
  error.textContent = '';
  try {
    const response = await request();
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      error.textContent = data.message || 'Signing in failed.';
    } else if (data.mfaRequired) {
      form.hidden = true;
      mfa.hidden = false;
      // A user whose only factor is a passkey sees no code field.
      const codes = data.methods.some((m) => m !== 'passkey');
      document.getElementById('mfa-code-part').hidden = !codes;
      mfa.elements.code.required = codes;
      document.getElementById('mfa-passkey').hidden = !data.methods.includes('passkey');
      if (codes) mfa.elements.code.focus();
    } else if (data.mfaEnrollmentRequired) {
      error.textContent = 'Your account needs a second factor: set up an authenticator app first, then come back.';
    } else {
      signedIn();
    }
  } catch {
    error.textContent = 'Tessera cannot be reached.';
  }
}
// A forced sign-in (prompt=login, max_age) is now fresh: ask again without forcing it, or this
// page would come back for ever. The ID token's auth_time says when it was.
function signedIn() {
  if (!form.dataset.fresh) return location.reload();
  const url = new URL(location.href);
  const prompts = (url.searchParams.get('prompt') || '').split(' ').filter((p) => p && p !== 'login');
  if (prompts.length > 0) url.searchParams.set('prompt', prompts.join(' '));
  else url.searchParams.delete('prompt');
  if (url.searchParams.has('max_age')) url.searchParams.set('max_age', String(Math.max(60, Number(url.searchParams.get('max_age')) || 0)));
  return location.replace(url.href);
}
form.addEventListener('submit', (event) =>
  submit(event, 'login-error', () =>
    post('/auth/login', { email: form.elements.email.value, password: form.elements.password.value }),
  ),
);
mfa.addEventListener('submit', (event) => {
  const typed = mfa.elements.code.value.trim();
  const proof = /^\\d{6}$/.test(typed) ? { code: typed } : { recoveryCode: typed };
  return submit(event, 'mfa-error', () => post('/auth/mfa/verify', proof));
});
// Passkeys: alone (the sign-in form's button) or as the second step. Byte fields travel as base64url.
const toBytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const toText = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
async function passkeyRequest(optionsPath, path, field) {
  const answer = await post(optionsPath, {});
  if (!answer.ok) return answer;
  const options = await answer.json();
  let credential;
  try {
    const allow = (options.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) }));
    credential = await navigator.credentials.get({
      publicKey: { ...options, challenge: toBytes(options.challenge), allowCredentials: allow },
    });
  } catch {
    return Response.json({ message: 'No passkey was used. Try again, or use another way.' }, { status: 400 });
  }
  const r = credential.response;
  const response = { clientDataJSON: toText(r.clientDataJSON), authenticatorData: toText(r.authenticatorData),
    signature: toText(r.signature), ...(r.userHandle ? { userHandle: toText(r.userHandle) } : {}) };
  const json = { id: credential.id, rawId: toText(credential.rawId), type: credential.type, response, clientExtensionResults: {} };
  return post(path, { [field]: json });
}
document.getElementById('login-passkey').addEventListener('click', (event) =>
  submit(event, 'login-error', () => passkeyRequest('/auth/passkeys/login/options', '/auth/passkeys/login', 'response')),
);
document.getElementById('mfa-passkey').addEventListener('click', (event) =>
  submit(event, 'mfa-error', () => passkeyRequest('/auth/passkeys/mfa/options', '/auth/mfa/verify', 'passkey')),
);
`;

export function sendErrorPage(reply: FastifyReply, status: number, message: string) {
  const body = `<h1>This request cannot go on</h1>
<p class="error">${escapeHtml(message)}</p>
<p class="muted">Go back to the application you came from and try again. If this keeps happening, tell its developers.</p>`;
  return sendPage(reply.code(status), page('Authorization error', body));
}

export function sendLoginPage(
  reply: FastifyReply,
  clientName: string,
  options: { fresh?: boolean; loginHint?: string | undefined } = {},
) {
  const hint = options.loginHint ? ` value="${escapeHtml(options.loginHint)}"` : '';
  const body = `<h1>Sign in to continue to ${escapeHtml(clientName)}</h1>
${options.fresh ? '<p class="muted">The application asks you to confirm it is you: sign in again.</p>\n' : ''}<form id="login-form"${options.fresh ? ' data-fresh="1"' : ''}>
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username"${hint} required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Sign in</button><button type="button" id="login-passkey">Sign in with a passkey</button></div>
<p class="error" id="login-error" role="alert"></p>
</form>
<form id="mfa-form" hidden>
<div id="mfa-code-part"><label for="mfa-code">Code from your authenticator app (or a recovery code)</label><input id="mfa-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="32">
<div class="actions"><button class="primary" type="submit">Continue</button></div></div>
<div class="actions"><button type="button" id="mfa-passkey" hidden>Use a passkey</button></div>
<p class="error" id="mfa-error" role="alert"></p>
</form>
<noscript><p class="error">Signing in here needs JavaScript.</p></noscript>`;
  return sendPage(reply, page('Sign in', body, '/oauth/login.js'));
}

/** The consent form: the checked request travels in hidden fields and is checked again on POST. */
export function sendConsentPage(
  reply: FastifyReply,
  request: AuthorizationRequest,
  context: {
    csrfToken: string;
    /** The single-use ticket binding the answer to this page (OAuthAuthorization.issueConsentTicket). */
    consentTicket: string;
    scopes: Readonly<Record<string, string>>;
    userLabel: string;
  },
) {
  const hidden: Record<string, string | undefined> = {
    client_id: request.client.id,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    scope: formatScope(request.scopes),
    state: request.state,
    nonce: request.oidc?.nonce ?? undefined,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    csrf_token: context.csrfToken,
    consent_ticket: context.consentTicket,
  };
  const fields = Object.entries(hidden)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
  const scopes = describeScopes(request.scopes, context.scopes)
    .map((s) => `<li>${escapeHtml(s.description)} <span class="muted">(${escapeHtml(s.name)})</span></li>`)
    .join('\n');
  const host = redirectHost(request.redirectUri);
  const body = `<h1>${escapeHtml(request.client.name)} wants access to your account</h1>
<p class="muted">Signed in as ${escapeHtml(context.userLabel)}</p>
<p>If you allow it, ${escapeHtml(request.client.name)} will be able to:</p>
<ul>
${scopes}
</ul>
<p class="muted">You will be sent back to <code>${escapeHtml(host)}</code>. You can withdraw this access at any time.</p>
<form method="post" action="/oauth/authorize">
${fields}
<div class="actions"><button class="primary" type="submit" name="decision" value="approve">Allow</button><button type="submit" name="decision" value="deny">Deny</button></div>
</form>`;
  // form-action also governs where the form's POST may redirect to (Chromium enforces it): the
  // client's registered redirect URI, and nothing else, joins this origin.
  const csp = htmlContentSecurityPolicy().replace(
    "form-action 'self'",
    `form-action 'self' ${formActionSource(request.redirectUri)}`,
  );
  return sendPage(reply, page(`Allow ${request.client.name}?`, body), csp);
}

function sendPage(reply: FastifyReply, html: string, csp?: string) {
  return sendHtml(reply, html, csp === undefined ? {} : { csp });
}

/** A CSP source for a registered redirect URI: its origin (http/https) or its private-use scheme. */
function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : url.protocol;
}

function redirectHost(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.host || url.protocol;
}

/** RP-initiated logout without a matching id_token_hint: the user confirms (CSRF-safe form). */
export function sendLogoutConfirmPage(
  reply: FastifyReply,
  context: {
    csrfToken: string;
    clientName: string | undefined;
    params: { postLogoutRedirectUri?: string; state?: string; clientId?: string };
  },
) {
  const hidden: Record<string, string | undefined> = {
    post_logout_redirect_uri: context.params.postLogoutRedirectUri,
    state: context.params.state,
    client_id: context.params.clientId,
    csrf_token: context.csrfToken,
  };
  const fields = Object.entries(hidden)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('\n');
  const who = context.clientName ? `${escapeHtml(context.clientName)} asks to sign you out.` : 'Sign out?';
  const body = `<h1>${who}</h1>
<p>Signing out here ends your login on this device, and every application you signed in to with it is told.</p>
<form method="post" action="/oauth/logout">
${fields}
<div class="actions"><button class="primary" type="submit" name="decision" value="logout">Sign out</button><button type="submit" name="decision" value="stay">Stay signed in</button></div>
</form>`;
  const target = context.params.postLogoutRedirectUri;
  const csp = target
    ? htmlContentSecurityPolicy().replace(
        "form-action 'self'",
        `form-action 'self' ${formActionSource(target)}`,
      )
    : undefined;
  return sendPage(reply, page('Sign out?', body), csp);
}

export function sendSignedOutPage(reply: FastifyReply, signedOut: boolean) {
  const body = signedOut
    ? '<h1>You are signed out</h1>\n<p class="muted">You can close this page.</p>'
    : '<h1>You are still signed in</h1>\n<p class="muted">Nothing was changed. You can close this page.</p>';
  return sendPage(reply, page(signedOut ? 'Signed out' : 'Still signed in', body));
}
