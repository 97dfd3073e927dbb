// What tessera/client hands an app when Tessera refuses or a login changes (index.ts re-exports
// them); served beside the SDK like passkeys.js.

/** A refusal from Tessera: its stable error code, HTTP status, a sentence for a person, Tessera's own. */
export class TesseraError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Tessera's message (for developers: it may name fields). */
    readonly detail: string = message,
  ) {
    super(message);
    this.name = 'TesseraError';
  }
}
/** `logged-out`: the login ended (`reason`: Tessera's error code, or `logout`; `message`: in words). */
export class LoggedOutEvent extends Event {
  constructor(
    readonly reason: string,
    readonly message: string,
  ) {
    super('logged-out');
  }
}
/** `step-up-required`: `url` needs a fresher (`maxAgeSeconds`) or stronger proof: `reauthenticate`, then retry. */
export class StepUpRequiredEvent extends Event {
  constructor(
    readonly url: string,
    readonly maxAgeSeconds: number | undefined,
    readonly message: string,
  ) {
    super('step-up-required');
  }
}
