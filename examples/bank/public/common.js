// Shared by the pages: one SDK client per tab, and a JSON helper on top of its fetch wrapper.
import { createTesseraClient } from '/sdk.js';

export const client = createTesseraClient();
export const pollMs = Number(document.querySelector('main')?.dataset.pollMs ?? 0);

// Any tab that learns the login ended (here or in another tab) goes back to the login page.
client.on('logged-out', (event) => {
  location.replace(`/login?reason=${encodeURIComponent(event.reason)}`);
});

/** client.fetch + JSON; resolves to {status, body}. */
export async function api(path, init = {}) {
  const headers = init.body ? { 'content-type': 'application/json' } : {};
  const response = await client.fetch(path, { ...init, headers });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, body };
}

/** The signed-in user, or a trip to the login page. */
export async function requireUser() {
  const user = await client.currentUser();
  if (!user) {
    location.replace('/login');
    return new Promise(() => {});
  }
  document.querySelector('#who').textContent = user.email;
  document.querySelector('#roles').textContent = user.roles.length ? `(${user.roles.join(', ')})` : '';
  return user;
}
