import type { FastifyInstance } from 'fastify';
import { escapeHtml } from '../../core/html.js';
import { sendHtml } from '../plugins/security-headers.js';

/**
 * The pages the links in mails open. A GET changes nothing (mail scanners fetch links before
 * people do): the page shows one button, and its script POSTs the token to the JSON route. The
 * script first removes the token from the address bar (history.replaceState), so it stays out of
 * the browser history and of any Referer; the page itself is sent with Referrer-Policy:
 * no-referrer, under the strict page CSP (this origin's script and stylesheet only), and the
 * access log never records these query strings (access-log.ts).
 */
interface EmailPage {
  path: string;
  title: string;
  intro: string;
  /** The JSON route the button posts to. */
  action: string;
  button: string;
  /** Shown when the POST succeeded. */
  done: string;
  /** A new-password field (reset). */
  password?: boolean;
}

export const EMAIL_PAGES: readonly EmailPage[] = [
  {
    path: '/auth/verify-email',
    title: 'Confirm your email address',
    intro: 'Confirm that this address belongs to you.',
    action: '/auth/email/verify',
    button: 'Confirm my address',
    done: 'Your email address is confirmed. You can close this page.',
  },
  {
    path: '/auth/reset-password',
    title: 'Choose a new password',
    intro: 'Setting a new password signs out every device that is signed in to your account.',
    action: '/auth/password/reset',
    button: 'Set the new password',
    done: 'Your password has been changed and every device was signed out. Sign in again with the new password.',
    password: true,
  },
  {
    path: '/auth/confirm-email',
    title: 'Confirm your new email address',
    intro:
      'Your account will use this address from now on; the old address gets a notice with a way to undo.',
    action: '/auth/email/change/confirm',
    button: 'Use this address',
    done: 'Your account now uses this email address.',
  },
  {
    path: '/auth/undo-email-change',
    title: 'Undo the email change',
    intro: 'Your account goes back to this address and every device is signed out.',
    action: '/auth/email/change/undo',
    button: 'Undo the change',
    done: 'The change is undone and every device was signed out. Now reset your password ("Forgot password") to make sure only you can sign in.',
  },
  {
    path: '/auth/not-me',
    title: 'This was not me',
    intro: 'Lock your account now: every device is signed out at once, and nobody can sign in.',
    action: '/auth/not-me',
    button: 'Lock my account',
    done: 'Your account is locked and every device was signed out. To get back in, use "Forgot password": resetting your password by email unlocks the account.',
  },
];

export const EMAIL_PAGES_SCRIPT = `'use strict';
const form = document.getElementById('email-form');
const status = document.getElementById('email-status');
const token = new URLSearchParams(location.search).get('token') || '';
// The token leaves the address bar (history, Referer) before anything else happens.
history.replaceState(null, '', location.pathname);
if (!token) status.textContent = 'This link is incomplete: open it again from your email.';
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  status.textContent = '';
  const body = { token };
  if (form.elements.newPassword) body.newPassword = form.elements.newPassword.value;
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.action, {
      method: 'POST',
      credentials: 'omit',
      referrerPolicy: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.ok) {
      form.hidden = true;
      status.className = 'done';
      status.textContent = form.dataset.done;
      return;
    }
    status.textContent = data.message || 'This did not work.';
  } catch {
    status.textContent = 'Tessera cannot be reached.';
  }
  button.disabled = false;
});
`;

function render(page: EmailPage): string {
  const password = page.password
    ? '<label for="newPassword">New password</label><input id="newPassword" name="newPassword" type="password" autocomplete="new-password" minlength="8" required>\n'
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<link rel="stylesheet" href="/oauth/pages.css">
<script src="/auth/email-pages.js" defer></script>
</head>
<body><main>
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.intro)}</p>
<form id="email-form" data-action="${escapeHtml(page.action)}" data-done="${escapeHtml(page.done)}">
${password}<div class="actions"><button class="primary" type="submit">${escapeHtml(page.button)}</button></div>
</form>
<p class="error" id="email-status" role="alert"></p>
<noscript><p class="error">This page needs JavaScript.</p></noscript>
</main></body>
</html>
`;
}

// Pages and their script are not JSON: outside GET /openapi.json (api/route-api.ts).
const pageRoute = { config: { api: { hidden: 'a page a mailed link opens (HTML)' } } };
const scriptRoute = { config: { api: { hidden: "the email pages' script" } } };

export function emailPageRoutes() {
  return async (app: FastifyInstance) => {
    for (const page of EMAIL_PAGES) {
      const html = render(page);
      app.get(page.path, pageRoute, async (_request, reply) => {
        reply.header('referrer-policy', 'no-referrer');
        return sendHtml(reply, html);
      });
    }
    app.get('/auth/email-pages.js', scriptRoute, async (_request, reply) =>
      reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .send(EMAIL_PAGES_SCRIPT),
    );
  };
}
