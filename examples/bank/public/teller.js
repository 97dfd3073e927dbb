import { api, requireUser } from '/static/common.js';

const result = document.querySelector('#result');
await requireUser();
document.querySelector('#approve').addEventListener('click', async () => {
  const answer = await api('/api/teller/approvals', { method: 'POST', body: '{}' });
  result.textContent =
    answer.status === 200
      ? `Approved transfer #${answer.body.approved}.`
      : `Refused (${answer.status} ${answer.body.error}): ${answer.body.message}`;
  result.className = answer.status === 200 ? 'ok' : 'error';
});
