// Webhook endpoints in the console: the list with each endpoint's latest delivery and latest
// failure, one endpoint's deliveries with a Replay button each, adding (the secret is shown
// once) and deleting. Text only, never HTML.
import { call, when } from './api.js';
import { confirmAction, runDialog } from './dialogs.js';
import { $, button, cell, fill, notify } from './ui.js';

/** The endpoint whose deliveries are shown (null: none). */
let shown = null;

const outcome = (d) =>
  d
    ? `${d.status}${d.lastStatus ? ` (HTTP ${d.lastStatus})` : ''} · ${when(d.deliveredAt ?? d.createdAt)}`
    : '—';

/** The poll's part: the endpoints, and the shown endpoint's latest deliveries. */
export async function refreshWebhooks(get) {
  const { webhooks } = await get('/admin/api/webhooks');
  if (shown && !webhooks.some((w) => w.id === shown)) shown = null;
  renderWebhooks(webhooks);
  $('webhook-deliveries-section').hidden = !shown;
  if (!shown) return;
  const { deliveries } = await get(`/admin/api/webhooks/${encodeURIComponent(shown)}/deliveries?limit=20`);
  const endpoint = webhooks.find((w) => w.id === shown);
  $('webhook-deliveries-title').textContent = `Deliveries to ${endpoint?.url ?? shown}`;
  fill(
    $('webhook-deliveries'),
    deliveries.map((d) => {
      const tr = document.createElement('tr');
      tr.dataset.sessionId = d.id;
      const actions = document.createElement('td');
      actions.append(
        button('Replay', '', async () => {
          await call(
            'POST',
            `/admin/api/webhooks/${encodeURIComponent(shown)}/deliveries/${encodeURIComponent(d.id)}/retry`,
          );
          notify(`Delivery ${d.id} goes out again (same webhook-id, so the receiver can tell).`);
        }),
      );
      tr.append(
        cell(when(d.createdAt)),
        cell(d.eventType),
        cell(d.status),
        cell(String(d.attempts)),
        cell(d.lastStatus === null ? '' : String(d.lastStatus)),
        cell(d.lastError ?? ''),
        cell(d.status === 'pending' ? when(d.nextAttemptAt) : ''),
        actions,
      );
      return tr;
    }),
  );
}

function renderWebhooks(webhooks) {
  $('webhooks-count').textContent = `${webhooks.length}`;
  fill(
    $('webhooks'),
    webhooks.map((w) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = w.id;
      const actions = document.createElement('td');
      actions.append(
        button(shown === w.id ? 'Hide deliveries' : 'Deliveries', '', async () => {
          shown = shown === w.id ? null : w.id;
        }),
        button('Delete…', 'danger', () =>
          confirmAction({
            title: `Delete the webhook endpoint ${w.url}?`,
            body: 'Its pending deliveries stop and it receives nothing more. This cannot be undone.',
            actionLabel: 'Delete endpoint',
            action: async () => {
              await call('DELETE', `/admin/api/webhooks/${encodeURIComponent(w.id)}`);
              notify(`Deleted the webhook endpoint ${w.url}.`);
            },
          }),
        ),
      );
      const failure = w.lastFailure
        ? `${when(w.lastFailure.createdAt)}: ${w.lastFailure.lastError ?? ''}`
        : '—';
      tr.append(
        cell(w.url, 'mono'),
        cell(w.format === 'set' ? 'Shared Signals (SET)' : 'Standard Webhooks'),
        cell(w.events.join(' ')),
        cell(outcome(w.lastDelivery)),
        cell(failure),
        actions,
      );
      return tr;
    }),
  );
}

/** "Add endpoint…": the dialog, then the secret once. */
export function wireWebhookDialog(afterwards) {
  $('new-webhook').addEventListener('click', async () => {
    await runDialog('webhook-dialog', {
      prepare: (form) => form.reset(),
      action: async (form) => {
        const f = form.elements;
        const { webhook, secret } = await call('POST', '/admin/api/webhooks', {
          url: f.url.value.trim(),
          format: f.format.value,
          events: f.events.value.split(/\s+/).filter(Boolean),
        });
        $('webhook-secret').textContent = secret
          ? `Added ${webhook.url}: signing secret ${secret} (shown once: copy it into the receiver now).`
          : `Added ${webhook.url}: it verifies Security Event Tokens with this server's JWKS (/.well-known/jwks.json).`;
      },
    });
    await afterwards();
  });
}
