/**
 * The admin console page: static HTML, no user data in it (the scripts fill it in with
 * textContent, never innerHTML), so nothing here needs escaping and the strict CSP (scripts
 * and styles from this origin only, nothing inline) holds. Every question the console asks is
 * one of the <dialog> forms below (never window.prompt or confirm): keyboard accessible, Escape
 * cancels, focus returns to the button that opened it.
 */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera admin</title>
<link rel="stylesheet" href="/admin/console.css">
<script type="module" src="/admin/console.js"></script>
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
  <form id="mfa-form" hidden>
    <div id="mfa-enrol" hidden>
      <p>Admins sign in with a second factor. Scan this code with an authenticator app (or type the key), then enter the 6-digit code it shows.</p>
      <div id="mfa-qr" class="qr"></div>
      <p>Key: <code id="mfa-secret"></code></p>
    </div>
    <label for="mfa-code">Code from your authenticator app (or a recovery code)</label>
    <input id="mfa-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="32">
    <button class="primary" type="submit">Continue</button>
    <p class="error" id="mfa-error" role="alert"></p>
  </form>
  <div id="recovery" hidden>
    <p>Your recovery codes. Each works once if you lose your authenticator app. They are shown only now: keep them somewhere safe.</p>
    <ol id="recovery-codes" class="codes"></ol>
    <button class="primary" id="recovery-done" type="button">I have saved them</button>
  </div>
</section>
<main id="console" hidden>
  <p class="error" id="console-error" role="alert"></p>
  <p class="notice" id="notice" role="status" hidden></p>
  <section>
    <h2>Who is logged in <span class="count" id="sessions-count"></span><button class="danger" id="logout-everyone">Log everyone out…</button></h2>
    <div class="scroll"><table><thead><tr><th>User</th><th>Device</th><th>IP</th><th>Mode</th><th>Since</th><th>Last seen</th><th></th></tr></thead><tbody id="sessions"></tbody></table></div>
    <button class="more" id="sessions-more" hidden>Load more</button>
  </section>
  <section>
    <h2>Users <span class="count" id="users-count"></span></h2>
    <p><input type="search" id="users-search" placeholder="Search by email (start of the address)" aria-label="Search users by email" autocomplete="off"></p>
    <div class="scroll"><table><thead><tr><th>Email</th><th>Roles</th><th>Status</th><th>Second factor</th><th></th></tr></thead><tbody id="users"></tbody></table></div>
    <button class="more" id="users-more" hidden>Load more</button>
  </section>
  <section id="keys-section" hidden>
    <h2>Signing keys <button id="rotate-keys">Rotate</button></h2>
    <div class="scroll"><table><thead><tr><th>Key id</th><th>Algorithm</th><th>Status</th><th>Created</th></tr></thead><tbody id="keys"></tbody></table></div>
  </section>
  <section>
    <h2>Third-party applications <span class="count" id="clients-count"></span><button id="new-client">Register…</button></h2>
    <p class="muted" id="client-secret" role="status"></p>
    <div class="scroll"><table><thead><tr><th>Name</th><th>Client id</th><th>Type</th><th>Scopes</th><th>Redirect URIs</th><th>Audience</th><th></th></tr></thead><tbody id="clients"></tbody></table></div>
  </section>
  <section>
    <h2>Webhooks <span class="count" id="webhooks-count"></span><button id="new-webhook">Add endpoint…</button></h2>
    <p class="muted" id="webhook-secret" role="status"></p>
    <div class="scroll"><table><thead><tr><th>URL</th><th>Format</th><th>Events</th><th>Last delivery</th><th>Last failure</th><th></th></tr></thead><tbody id="webhooks"></tbody></table></div>
  </section>
  <section id="webhook-deliveries-section" hidden>
    <h2 id="webhook-deliveries-title">Deliveries</h2>
    <div class="scroll"><table><thead><tr><th>Created</th><th>Event</th><th>Status</th><th>Attempts</th><th>HTTP</th><th>Last error</th><th>Next attempt</th><th></th></tr></thead><tbody id="webhook-deliveries"></tbody></table></div>
  </section>
  <section>
    <h2>Email outbox <span class="count" id="outbox-count"></span></h2>
    <div class="scroll"><table><thead><tr><th>Queued</th><th>To</th><th>Kind</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead><tbody id="outbox"></tbody></table></div>
  </section>
  <section>
    <h2>Audit log <span class="count" id="audit-count"></span></h2>
    <form id="audit-filters" class="filters">
      <label>User <input id="audit-user" type="search" placeholder="email" autocomplete="off"></label>
      <label>Event <select id="audit-type"><option value="">any</option></select></label>
      <label>From <input id="audit-from" type="datetime-local"></label>
      <label>To <input id="audit-to" type="datetime-local"></label>
      <span class="actions"><button type="button" id="audit-csv">Export CSV</button><button type="button" id="audit-jsonl">Export JSON Lines</button></span>
    </form>
    <ol class="audit" id="audit"></ol>
    <button class="more" id="audit-more" hidden>Load more</button>
  </section>
</main>

<dialog id="lock-dialog" aria-labelledby="lock-title">
  <form method="dialog">
    <h2 id="lock-title">Lock <span data-slot="email"></span></h2>
    <p>Every login and API key of this account ends now, and new logins are refused until you unlock it.</p>
    <p class="delay" data-slot="delay"></p>
    <label for="lock-reason">Reason (kept in the audit log)</label>
    <textarea id="lock-reason" name="reason" required maxlength="500" rows="3"></textarea>
    <p class="error" role="alert"></p>
    <div class="buttons"><button type="button" value="cancel">Cancel</button><button class="danger" value="ok">Lock account</button></div>
  </form>
</dialog>

<dialog id="roles-dialog" aria-labelledby="roles-title">
  <form method="dialog">
    <h2 id="roles-title">Roles of <span data-slot="email"></span></h2>
    <label for="roles-input">Roles, separated by commas or spaces</label>
    <input id="roles-input" name="roles" autocomplete="off" aria-describedby="roles-help">
    <p class="muted" id="roles-help">Lower-case names like <code>admin</code> or <code>teller:read</code> (letters, digits, _ : -), at most 32.</p>
    <p class="delay" data-slot="delay"></p>
    <p class="error" role="alert"></p>
    <div class="buttons"><button type="button" value="cancel">Cancel</button><button class="primary" value="ok">Save roles</button></div>
  </form>
</dialog>

<dialog id="step-up-dialog" aria-labelledby="step-up-title">
  <form method="dialog">
    <h2 id="step-up-title">Confirm it is you</h2>
    <p>This action needs a recent proof. Enter the current code from your authenticator app.</p>
    <label for="step-up-code">Code</label>
    <input id="step-up-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="32">
    <p class="error" role="alert"></p>
    <div class="buttons"><button type="button" value="cancel">Cancel</button><button class="primary" value="ok">Confirm</button></div>
  </form>
</dialog>

<dialog id="confirm-dialog" aria-labelledby="confirm-title">
  <form method="dialog">
    <h2 id="confirm-title" data-slot="title"></h2>
    <p data-slot="body"></p>
    <p class="delay" data-slot="delay"></p>
    <p class="error" role="alert"></p>
    <div class="buttons"><button type="button" value="cancel">Cancel</button><button class="danger" value="ok" data-slot="action"></button></div>
  </form>
</dialog>

<dialog id="client-dialog" aria-labelledby="client-title">
  <form method="dialog">
    <h2 id="client-title">Register a third-party application</h2>
    <label for="client-name">Name (users see it on the consent page)</label>
    <input id="client-name" name="name" required maxlength="100" autocomplete="off">
    <fieldset><legend>Type</legend>
      <label class="inline"><input type="radio" name="type" value="confidential" checked> confidential (a server that keeps a secret)</label>
      <label class="inline"><input type="radio" name="type" value="public"> public (single-page or native app)</label>
    </fieldset>
    <label for="client-redirects">Redirect URIs, exact, one per line (none for a service using client_credentials)</label>
    <textarea id="client-redirects" name="redirectUris" rows="2" autocomplete="off"></textarea>
    <label for="client-scopes">Scopes it may ask for, separated by spaces</label>
    <input id="client-scopes" name="scopes" required autocomplete="off" value="accounts:read">
    <label for="client-audience">Audience: the resource server its tokens are for</label>
    <input id="client-audience" name="audience" required autocomplete="off" value="https://api.example.com">
    <fieldset><legend>OpenID Connect (when the scopes include openid)</legend>
      <label for="client-subject-type">Subject (sub) the app sees</label>
      <select id="client-subject-type" name="subjectType"><option value="public">public: the user id</option><option value="pairwise">pairwise: one per app, apps cannot match users</option></select>
      <label for="client-post-logout">Post-logout redirect URIs, exact, one per line</label>
      <textarea id="client-post-logout" name="postLogoutRedirectUris" rows="2" autocomplete="off"></textarea>
      <label for="client-backchannel">Back-channel logout URI (told when a login ends)</label>
      <input id="client-backchannel" name="backchannelLogoutUri" type="url" autocomplete="off">
    </fieldset>
    <p class="error" role="alert"></p>
    <div class="buttons"><button type="button" value="cancel">Cancel</button><button class="primary" value="ok">Register</button></div>
  </form>
</dialog>

<dialog id="webhook-dialog" aria-labelledby="webhook-title">
  <form method="dialog">
    <h2 id="webhook-title">Add a webhook endpoint</h2>
    <label for="webhook-url">URL (https; the receiver answers 2xx)</label>
    <input id="webhook-url" name="url" required maxlength="2000" autocomplete="off" placeholder="https://siem.example.com/tessera">
    <fieldset><legend>Format</legend>
      <label class="inline"><input type="radio" name="format" value="standard" checked> Standard Webhooks (signed JSON)</label>
      <label class="inline"><input type="radio" name="format" value="set"> Shared Signals (CAEP/RISC Security Event Tokens)</label>
    </fieldset>
    <label for="webhook-events">Events, separated by spaces</label>
    <input id="webhook-events" name="events" required autocomplete="off" value="session.revoked user.locked">
    <p class="error" role="alert"></p>
    <div class="buttons"><button type="button" value="cancel">Cancel</button><button class="primary" value="ok">Add</button></div>
  </form>
</dialog>
</body>
</html>
`;
