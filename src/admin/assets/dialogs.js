// The console's questions: the <dialog> forms in the page, opened modal. Enter submits, Escape
// or Cancel closes, focus goes to the first field (Cancel in a confirmation, so Enter never
// destroys by accident) and back to the opening button afterwards. The action runs while the
// dialog stays open: an API refusal (409 last_admin, 400 invalid_roles …) is shown in it, in
// words, and the admin can correct and retry.

const $ = (id) => document.getElementById(id);

// The button that opened a dialog (its handler disables it, which moves the focus away, so
// document.activeElement no longer names it): recorded before any button's own handler runs.
let lastPressed = null;
document.addEventListener(
  'click',
  (event) => {
    lastPressed = event.target instanceof Element ? event.target.closest('button') : null;
  },
  true,
);

/** Fills `[data-slot=name]` elements of a dialog with text (never HTML). */
export function fillSlots(dialog, slots) {
  for (const [name, text] of Object.entries(slots)) {
    const element = dialog.querySelector(`[data-slot="${name}"]`);
    if (!element) continue;
    element.textContent = text ?? '';
    element.hidden = !text;
  }
}

/**
 * Opens dialog `id` and resolves with the action's result once it succeeded, or undefined when
 * the admin cancelled. `action(form)` may throw: its message is shown in the dialog.
 * `prepare(form)` resets or pre-fills the fields before the dialog shows.
 */
export function runDialog(id, { slots = {}, prepare, action, focus }) {
  const dialog = $(id);
  const form = dialog.querySelector('form');
  const error = dialog.querySelector('.error');
  const opener = lastPressed ?? document.activeElement;
  fillSlots(dialog, slots);
  error.textContent = '';
  prepare?.(form);
  return new Promise((resolve) => {
    let result;
    let busy = false;
    // Escape while the action runs would hide its outcome: the dialog stays until it is known.
    const onEscape = (event) => {
      if (busy) event.preventDefault();
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const buttons = [...form.querySelectorAll('button')];
      for (const b of buttons) b.disabled = true;
      busy = true;
      error.textContent = '';
      try {
        result = { value: await action(form) };
        dialog.close();
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        busy = false;
        for (const b of buttons) b.disabled = false;
      }
    };
    // Cancel is a plain button, so Enter in a field submits (the form's first submit button).
    const onCancel = (event) => {
      if (event.target.closest('button[value=cancel]')) dialog.close();
    };
    const onClose = () => {
      form.removeEventListener('submit', onSubmit);
      form.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onEscape);
      dialog.removeEventListener('close', onClose);
      resolve(result?.value);
      // After the opener's click handler has run on (it re-enables its button), focus it again.
      setTimeout(() => {
        const back =
          opener instanceof HTMLElement && !opener.isConnected && opener.dataset.key
            ? document.querySelector(`button[data-key="${CSS.escape(opener.dataset.key)}"]`)
            : opener;
        if (back instanceof HTMLElement) back.focus();
      });
    };
    form.addEventListener('submit', onSubmit);
    form.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onEscape);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    (focus ? form.querySelector(focus) : form.querySelector('input, textarea, select'))?.focus();
  });
}

/** A destructive action, confirmed in a dialog that says what will happen. */
export function confirmAction({ title, body, delay, actionLabel, action }) {
  return runDialog('confirm-dialog', {
    slots: { title, body, delay, action: actionLabel },
    action: () => action(),
    focus: 'button[value=cancel]',
  });
}

// Role names as the API checks them (core/control.ts checkedRoles).
const ROLE_NAME = /^[a-z][a-z0-9_:-]{0,63}$/;
const MAX_ROLES = 32;

/** The roles typed in the roles dialog, or an Error saying what is wrong with them. */
export function parseRoles(text) {
  const roles = [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((r) => r.trim())
        .filter(Boolean),
    ),
  ];
  const bad = roles.filter((r) => !ROLE_NAME.test(r));
  if (bad.length > 0) {
    return new Error(
      `Not a role name: ${bad.join(', ')}. Roles are lower-case names like "admin" or "teller:read".`,
    );
  }
  if (roles.length > MAX_ROLES) return new Error(`At most ${MAX_ROLES} roles.`);
  return roles;
}
