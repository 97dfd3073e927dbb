import { client } from '/static/common.js';

const reason = new URLSearchParams(location.search).get('reason');
if (reason) {
  const notice = document.querySelector('#notice');
  notice.textContent =
    reason === 'logout' ? 'You logged out.' : `You were logged out (${reason}). Please log in again.`;
  notice.hidden = false;
}

document.querySelector('#login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = document.querySelector('#error');
  error.textContent = '';
  try {
    await client.login(document.querySelector('#email').value, document.querySelector('#password').value);
    location.assign('/account');
  } catch (failure) {
    error.textContent = failure.message;
  }
});
