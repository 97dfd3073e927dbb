import { api, client, pollMs, requireUser } from '/static/common.js';

const $ = (selector) => document.querySelector(selector);
const main = $('main');
const money = (cents) => `€${(cents / 100).toFixed(2)}`;
let loads = 0;

async function reload() {
  const [account, devices] = await Promise.all([api('/api/account'), api('/auth/sessions')]);
  if (account.status !== 200) {
    $('#status').textContent = `account: ${account.body.error ?? account.status}`;
    return;
  }
  $('#balance').textContent = money(account.body.balance);
  const rows = (devices.body.sessions ?? []).map((device) => {
    const tr = document.createElement('tr');
    for (const text of [device.device, device.ip, new Date(device.lastSeenAt).toLocaleTimeString()]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const td = document.createElement('td');
    td.textContent = device.current ? 'this device' : '';
    tr.append(td);
    return tr;
  });
  $('#devices').replaceChildren(...rows);
  main.dataset.loads = String(++loads);
  $('#status').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

await requireUser();
await reload();
$('#reload').addEventListener('click', () => reload());
$('#transfer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = await api('/api/transfers', {
    method: 'POST',
    body: JSON.stringify({ amount: Number($('#amount').value) }),
  });
  $('#status').textContent = result.status === 200 ? 'sent' : `refused: ${result.body.error}`;
  await reload();
});
$('#logout').addEventListener('click', () => client.logout());
$('#logout-all').addEventListener('click', async () => {
  await api('/auth/logout-all', { method: 'POST' });
  await client.logout();
});
if (pollMs > 0) setInterval(() => reload().catch(() => undefined), pollMs);
