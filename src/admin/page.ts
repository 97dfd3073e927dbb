/**
 * The admin console page: static HTML, no user data in it (the script fills it in with
 * textContent, never innerHTML), so nothing here needs escaping and the strict CSP (scripts
 * and styles from this origin only, nothing inline) holds.
 */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera admin</title>
<link rel="stylesheet" href="/admin/console.css">
<script src="/admin/console.js" defer></script>
</head>
<body>
<header><h1>Tessera admin</h1><span class="muted" id="mode"></span><span class="who" id="who"></span><button id="sign-out" hidden>Sign out</button></header>
<section id="login" hidden>
  <h2>Sign in</h2>
  <form id="login-form">
    <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
    <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    <button class="primary" type="submit">Sign in</button>
    <p class="error" id="login-error" role="alert"></p>
  </form>
</section>
<main id="console" hidden>
  <p class="error" id="console-error" role="alert"></p>
  <section>
    <h2>Who is logged in <span class="count" id="sessions-count"></span><button class="danger" id="logout-everyone">Log everyone out</button></h2>
    <table><thead><tr><th>User</th><th>Device</th><th>IP</th><th>Mode</th><th>Since</th><th>Last seen</th><th></th></tr></thead><tbody id="sessions"></tbody></table>
  </section>
  <section>
    <h2>Users <span class="count" id="users-count"></span></h2>
    <table><thead><tr><th>Email</th><th>Roles</th><th>Status</th><th></th></tr></thead><tbody id="users"></tbody></table>
  </section>
  <section id="keys-section" hidden>
    <h2>Signing keys <button id="rotate-keys">Rotate</button></h2>
    <table><thead><tr><th>Key id</th><th>Algorithm</th><th>Status</th><th>Created</th></tr></thead><tbody id="keys"></tbody></table>
  </section>
  <section>
    <h2>Third-party applications <span class="count" id="clients-count"></span><button id="new-client">Register…</button></h2>
    <p class="muted" id="client-secret" role="status"></p>
    <table><thead><tr><th>Name</th><th>Client id</th><th>Type</th><th>Scopes</th><th>Redirect URIs</th><th>Audience</th><th></th></tr></thead><tbody id="clients"></tbody></table>
  </section>
  <section>
    <h2>Email outbox <span class="count" id="outbox-count"></span></h2>
    <table><thead><tr><th>Queued</th><th>To</th><th>Kind</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead><tbody id="outbox"></tbody></table>
  </section>
  <section>
    <h2>Audit log</h2>
    <table><thead><tr><th>When</th><th>Event</th><th>User</th><th>IP</th><th>Detail</th></tr></thead><tbody id="audit"></tbody></table>
  </section>
</main>
</body>
</html>
`;
