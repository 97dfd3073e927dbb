import { client } from '/static/common.js';

const reason = new URLSearchParams(location.search).get('reason');
if (reason) {
  const notice = document.querySelector('#notice');
  // In words (the SDK's sentences, DEFAULT_MESSAGES in tessera/client), never a raw code.
  notice.textContent = client.messageFor(reason);
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
