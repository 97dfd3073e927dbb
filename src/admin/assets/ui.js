// Small DOM helpers shared by the console's sections; text only, never HTML.

export const $ = (id) => document.getElementById(id);

/** Set by console.js: what runs after a row action (refresh the lists), and how errors show. */
export const hooks = { afterAction: async () => {}, onError: (_error) => {} };

export function notify(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

export function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

export function tag(text, className = 'tag') {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

/** A row button: runs `onClick` (which may open a dialog), then refreshes the lists. */
export function button(label, className, onClick) {
  const b = document.createElement('button');
  b.textContent = label;
  if (className) b.className = className;
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      try {
        await onClick();
      } finally {
        b.disabled = false;
      }
      await hooks.afterAction();
    } catch (error) {
      hooks.onError(error);
    }
  });
  return b;
}

/**
 * Replaces a table's rows. Each cell gets its column's name (data-label): on a phone the rows
 * are shown as cards and the stylesheet prints the name beside each value.
 */
export function fill(tbody, rows) {
  const labels = [...tbody.closest('table').querySelectorAll('thead th')].map((th) => th.textContent);
  for (const row of rows) {
    [...row.children].forEach((td, i) => {
      if (labels[i]) td.dataset.label = labels[i];
    });
    // A stable name per button, so a dialog can give focus back to the same button after the
    // poll has re-rendered its row.
    const rowKey = row.dataset.sessionId ?? row.dataset.clientId ?? row.dataset.email ?? '';
    for (const b of row.querySelectorAll('button')) b.dataset.key = `${rowKey}|${b.textContent}`;
  }
  // The poll re-renders every 2 s: a keyboard user keeps their place on the same button.
  const focused = tbody.contains(document.activeElement) ? document.activeElement.dataset.key : undefined;
  tbody.replaceChildren(...rows);
  if (focused) tbody.querySelector(`button[data-key="${CSS.escape(focused)}"]`)?.focus();
}
