/**
 * `tessera/client`: the browser SDK, dependency-free ES modules (dist/client/index.js, which imports
 * events.js, globals.js, messages.js and passkeys.js beside it: tessera/forward serves all five).
 * Type-checked against the DOM library by src/client/tsconfig.json.
 * - Credentials stay in Tessera's HttpOnly cookies; this code never sees a token.
 * - `client.fetch` adds `x-csrf-token` to state changes to its own origin, and on a 401 a refresh
 *   can cure (`token_expired`, `token_revoked`, `unauthenticated`) refreshes once and retries.
 * - One refresh for everyone: a shared promise per tab, the Web Lock `tessera-refresh` across
 *   tabs, announcements on a BroadcastChannel (alone when Web Locks are missing; Tessera's reuse
 *   grace window absorbs two tabs refreshing in the same instant).
 * - A refused refresh ends the login: `logged-out` here and in every other tab.
 * - A 401 `step_up_required` (RFC 9470) is no logout: `step-up-required` fires; `reauthenticate`, retry.
 * - People read sentences (DEFAULT_MESSAGES, override with `messages`), never raw codes.
 */

import { LoggedOutEvent, StepUpRequiredEvent, TesseraError } from './events.js';
import { browser, type Channel, readCookie } from './globals.js';
import { DEFAULT_MESSAGES } from './messages.js';
import { createPasskeyCredential, getPasskeyCredential, type PasskeyPrompt } from './passkeys.js';

export { LoggedOutEvent, StepUpRequiredEvent, TesseraError } from './events.js';
export { DEFAULT_MESSAGES } from './messages.js';
export {
  base64urlToBytes,
  bytesToBase64url,
  conditionalMediationAvailable,
  credentialToJSON,
  type PasskeyPrompt,
  PasskeyUnsupportedError,
} from './passkeys.js';

const CSRF_COOKIE = '__Host-tessera_csrf'; // = CSRF_COOKIE in src/wire/credentials.ts
const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/i;
/** 401 codes a refresh can cure. */
const REFRESHABLE = ['token_expired', 'token_revoked', 'unauthenticated'];
/** The routes that open a login take no anti-CSRF token (there is no login to bind one to). */
const WAY_IN =
  /^\/auth\/(login|mfa\/verify|passkeys\/login|passkeys\/login\/options|passkeys\/mfa\/options)$/;
/** Without Web Locks: how long a tab waits for another tab's announced refresh. */
const PEER_WAIT_MS = 5_000;
export interface TesseraUser {
  id: string;
  /** From Tessera's store in every mode (never from the token). */
  email: string;
  roles: string[];
}
export interface TesseraSession {
  id: string;
  mode: 'session' | 'jwt' | 'hybrid';
  expiresAt: string;
  /** When and how the user last proved who they are (RFC 8176 amr, e.g. ["mfa","otp","pwd"]). */
  authTime?: string;
  amr?: string[];
}
/** A login's answer: the login, or the second step it needs first (`verifySecondFactor`). */
export type LoginAnswer =
  | { user: TesseraUser; session: TesseraSession; mfaRequired?: undefined }
  | { mfaRequired: true; methods: string[] }
  | { mfaEnrollmentRequired: true; methods: string[] };
export interface TesseraClientOptions {
  /** Sentences by error code, over DEFAULT_MESSAGES (e.g. in another language). */
  messages?: Readonly<Record<string, string>>;
  /** Where Tessera's /auth routes are; default this page's origin (proxy them: __Host- cookies). */
  baseUrl?: string;
  /** Name of the Web Lock and BroadcastChannel; tabs with the same name share refreshes. */
  name?: string;
  fetch?: typeof fetch;
}
type ClientEvent = 'logged-out' | 'logged-in' | 'refreshed' | 'step-up-required';
type Outcome = 'refreshed' | 'waited' | 'failed' | 'unavailable';
type Message =
  | { type: 'refreshing' | 'refreshed'; at: number }
  | { type: 'logged-in' }
  | { type: 'logged-out'; reason: string };
export class TesseraClient extends EventTarget {
  readonly #base: URL;
  readonly #fetch: typeof fetch;
  readonly #lockName: string;
  readonly #channel: Channel | undefined;
  readonly #messages: Readonly<Record<string, string>>;
  #state: 'unknown' | 'in' | 'out' = 'unknown';
  #csrf: string | undefined;
  /** When this tab last knew of a completed refresh (its own or announced by another tab). */
  #refreshedAt = 0;
  #peerRefreshingSince = 0;
  #peerWaiters: Array<() => void> = [];
  #flight: Promise<Outcome> | undefined;

  constructor(options: TesseraClientOptions = {}) {
    super();
    this.#base = new URL(options.baseUrl ?? '/', browser.location?.href);
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const name = options.name ?? 'tessera';
    this.#lockName = `${name}-refresh`;
    this.#messages = { ...DEFAULT_MESSAGES, ...options.messages };
    this.#channel = browser.BroadcastChannel ? new browser.BroadcastChannel(name) : undefined;
    if (this.#channel) this.#channel.onmessage = (event) => this.#receive(event.data as Message);
  }

  /** Logs in with cookies (Tessera sets them): the login, or `{mfaRequired, methods}`; throws a TesseraError. */
  async login(email: string, password: string): Promise<LoginAnswer> {
    return this.#opened(await this.#call('POST', '/auth/login', { email, password }));
  }

  /** A login's second step: `{ code }` or `{ recoveryCode }` (or another factor's field). */
  async verifySecondFactor(proof: Record<string, unknown>): Promise<LoginAnswer> {
    return this.#opened(await this.#call('POST', '/auth/mfa/verify', proof));
  }

  /** Step-up on this login (`{ password }`, `{ code }`, …): new credentials carry the new auth_time/amr. */
  async reauthenticate(proof: Record<string, unknown>): Promise<{ authTime: string; amr: string[] }> {
    return this.#answer(await this.#call('POST', '/auth/reauthenticate', proof));
  }

  async #answer<T>(response: Response): Promise<T> {
    if (!response.ok) throw await this.#errorOf(response);
    return (await response.json()) as T;
  }

  async #opened(response: Response): Promise<LoginAnswer> {
    const answer = await this.#answer<LoginAnswer>(response);
    if (!('session' in answer)) return answer;
    this.#csrf = undefined;
    this.#refreshedAt = Date.now();
    this.#state = 'in';
    this.#post({ type: 'logged-in' });
    this.dispatchEvent(new Event('logged-in'));
    return answer;
  }

  /**
   * Signs in with a passkey alone (usernameless). `conditional`: the passkeys are offered in the
   * autofill of `<input autocomplete="username webauthn">`, not a dialog; settles on a pick.
   */
  signInWithPasskey(options: PasskeyPrompt = {}): Promise<LoginAnswer> {
    return this.#passkeyLogin('/auth/passkeys/login/options', '/auth/passkeys/login', 'response', options);
  }

  /** The second step of a password login that answered `{mfaRequired, methods: [… 'passkey']}`. */
  verifyWithPasskey(options: PasskeyPrompt = {}): Promise<LoginAnswer> {
    return this.#passkeyLogin('/auth/passkeys/mfa/options', '/auth/mfa/verify', 'passkey', options);
  }

  /** Registers a passkey on this device for the logged-in user (needs a fresh proof: step-up). */
  async registerPasskey(name?: string): Promise<{ id: string; name: string }> {
    const response = await createPasskeyCredential(await this.#json('/auth/passkeys/register/options', {}));
    return (await this.#json('/auth/passkeys/register', { response, name })).passkey as {
      id: string;
      name: string;
    };
  }

  /** Step-up with a passkey (POST /auth/reauthenticate): the login's auth_time becomes now. */
  async reauthenticateWithPasskey(options: PasskeyPrompt = {}): Promise<{ authTime: string; amr: string[] }> {
    const passkey = await getPasskeyCredential(
      await this.#json('/auth/passkeys/reauthenticate/options', {}),
      options,
    );
    return (await this.#json('/auth/reauthenticate', { passkey })) as { authTime: string; amr: string[] };
  }

  /** Ends this login (Tessera clears the cookies); every tab gets `logged-out`. */
  async logout(): Promise<void> {
    await this.#call('POST', '/auth/logout').catch(() => undefined);
    this.#loggedOut('logout', true);
  }

  /** The caller, or null when not logged in (after one refresh attempt in jwt and hybrid modes). */
  async currentUser(): Promise<TesseraUser | null> {
    const response = await this.fetch(this.#url('/auth/session'));
    if (response.status === 401) return null;
    if (!response.ok) throw await this.#errorOf(response);
    this.#state = 'in';
    return ((await response.json()) as { user: TesseraUser }).user;
  }

  /** `fetch` for this origin's API: anti-CSRF header, one shared refresh on a curable 401, one retry. */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    let sentAt = Date.now();
    let response = await this.#send(request);
    if (!this.#ours(request.url)) return response;
    for (let round = 0; round < 2 && (await curable(response)) && this.#state !== 'out'; round++) {
      const outcome = this.#refreshedAt >= sentAt ? 'waited' : await this.#refresh(sentAt, round > 0);
      if (outcome === 'failed' || outcome === 'unavailable') return response;
      sentAt = Date.now();
      response = await this.#send(request);
      if (outcome === 'refreshed') break;
    }
    const code = response.status === 401 ? await codeOf(response) : undefined;
    if (code === 'step_up_required') {
      const maxAge = /max_age=(\d+)/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
      const event = new StepUpRequiredEvent(
        request.url,
        maxAge ? Number(maxAge) : undefined,
        this.messageFor(code),
      );
      this.dispatchEvent(event);
    } else if (code !== undefined && this.#state !== 'out') this.#loggedOut(code, true);
    return response;
  }

  /** Subscribes to `logged-out`, `logged-in`, `refreshed` or `step-up-required`; returns the unsubscribe function. */
  on(type: ClientEvent, listener: (event: Event) => void): () => void {
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** The sentence for an error code (or `logout`); `fallback`, else a generic one, when none is set. */
  messageFor(code: string, fallback?: string): string {
    return (
      this.#messages[code] ?? fallback ?? `Something went wrong (${code}). Please try again in a moment.`
    );
  }

  close(): void {
    this.#channel?.close();
  }

  /** A passkey way in: its challenge, the browser's assertion, the login it opens. */
  async #passkeyLogin(optionsPath: string, path: string, field: string, prompt: PasskeyPrompt) {
    const options = await this.#answer<Record<string, unknown>>(await this.#call('POST', optionsPath, {}));
    const credential = await getPasskeyCredential(options, prompt);
    return this.#opened(await this.#call('POST', path, { [field]: credential }));
  }

  /** POST through `fetch` (anti-CSRF header, refresh): the JSON answer, or a TesseraError. */
  async #json(path: string, body: object): Promise<Record<string, unknown>> {
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
    return this.#answer(await this.fetch(this.#url(path), init));
  }

  async #errorOf(response: Response): Promise<TesseraError> {
    const body = (await response.json().catch(() => ({}))) as { error?: unknown; message?: unknown };
    const code = typeof body.error === 'string' ? body.error : `http_${response.status}`;
    const detail = typeof body.message === 'string' ? body.message : `Tessera answered ${response.status}.`;
    return new TesseraError(code, response.status, this.messageFor(code, detail), detail);
  }

  /** Sends a copy of `request` (it may be sent twice), with the anti-CSRF header when it needs one. */
  async #send(request: Request): Promise<Response> {
    const copy = request.clone();
    if (!UNSAFE.test(copy.method) || !this.#ours(copy.url)) return this.#fetch(copy);
    const headers = new Headers(copy.headers);
    const token = await this.#csrfToken();
    if (token) headers.set(CSRF_HEADER, token);
    return this.#fetch(new Request(copy, { headers }));
  }

  /** The script-readable cookie Tessera sets beside the login cookies, else GET /auth/csrf. */
  async #csrfToken(): Promise<string | undefined> {
    const fromCookie = readCookie(CSRF_COOKIE);
    if (fromCookie) return fromCookie;
    if (!this.#csrf && this.#state !== 'out') {
      const response = await this.#call('GET', '/auth/csrf').catch(() => undefined);
      if (response?.ok) this.#csrf = ((await response.json()) as { csrfToken?: string }).csrfToken;
    }
    return this.#csrf;
  }

  /** One refresh flight per tab; `force` after having only waited for another tab. */
  #refresh(sentAt: number, force: boolean): Promise<Outcome> {
    this.#flight ??= this.#coordinate(sentAt, force).finally(() => {
      this.#flight = undefined;
    });
    return this.#flight;
  }

  async #coordinate(sentAt: number, force: boolean): Promise<Outcome> {
    const locks = browser.navigator?.locks;
    if (locks) {
      if (force) return locks.request(this.#lockName, () => this.#refreshUnlessDone(sentAt));
      const mine = await locks.request(this.#lockName, { ifAvailable: true }, async (lock) =>
        lock ? this.#refreshUnlessDone(sentAt) : undefined,
      );
      if (mine) return mine;
      // Another tab holds the lock, so it is refreshing: wait for it to finish, then retry.
      await locks.request(this.#lockName, async () => undefined);
      return 'waited';
    }
    if (!force && Date.now() - this.#peerRefreshingSince < PEER_WAIT_MS) {
      await new Promise<void>((resolve) => {
        this.#peerWaiters.push(resolve);
        setTimeout(resolve, PEER_WAIT_MS);
      });
      return 'waited';
    }
    this.#post({ type: 'refreshing', at: Date.now() });
    return this.#refreshUnlessDone(sentAt);
  }

  async #refreshUnlessDone(sentAt: number): Promise<Outcome> {
    if (this.#refreshedAt >= sentAt) return 'waited';
    const response = await this.#call('POST', '/auth/refresh', {}).catch(() => undefined);
    if (response?.ok) {
      this.#refreshedAt = Date.now();
      this.#state = 'in';
      this.#post({ type: 'refreshed', at: this.#refreshedAt });
      this.dispatchEvent(new Event('refreshed'));
      return 'refreshed';
    }
    // 5xx, 429 or no network: the login may well be fine; the caller gets its original answer.
    if (!response || response.status >= 500 || response.status === 429) return 'unavailable';
    this.#loggedOut(response.status === 404 ? 'unauthenticated' : await codeOf(response), true);
    return 'failed';
  }

  /** The event fires in tabs that knew they were logged in (not on a first visit's failed check). */
  #loggedOut(reason: string, broadcast: boolean): void {
    const wasIn = this.#state === 'in';
    this.#state = 'out';
    this.#csrf = undefined;
    if (broadcast) this.#post({ type: 'logged-out', reason });
    if (wasIn) this.dispatchEvent(new LoggedOutEvent(reason, this.messageFor(reason)));
  }

  #receive(message: Message): void {
    if (message.type === 'refreshing') this.#peerRefreshingSince = message.at;
    else if (message.type === 'refreshed') {
      this.#refreshedAt = Math.max(this.#refreshedAt, message.at);
      this.#peerRefreshingSince = 0;
      this.#state = 'in';
      for (const resolve of this.#peerWaiters.splice(0)) resolve();
    } else if (message.type === 'logged-out') this.#loggedOut(message.reason, false);
    else if (message.type === 'logged-in') {
      this.#state = 'unknown';
      this.#csrf = undefined;
      this.dispatchEvent(new Event('logged-in'));
    }
  }

  #post(message: Message): void {
    this.#channel?.postMessage(message);
  }

  /** Requests to this page's origin or Tessera's get the anti-CSRF header and the refresh logic. */
  #ours(url: string): boolean {
    const origin = new URL(url).origin;
    return (
      origin === this.#base.origin || origin === new URL(browser.location?.href ?? this.#base.href).origin
    );
  }

  #url(path: string): string {
    return new URL(path, this.#base).href;
  }

  /** A request to Tessera itself, with the anti-CSRF header on POST; no refresh logic. */
  async #call(method: 'GET' | 'POST', path: string, body?: object): Promise<Response> {
    const sameOrigin = this.#base.origin === new URL(browser.location?.href ?? this.#base.href).origin;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    if (method === 'POST' && !WAY_IN.test(path)) {
      const token = await this.#csrfToken();
      if (token) headers[CSRF_HEADER] = token;
    }
    return this.#fetch(this.#url(path), {
      method,
      headers,
      credentials: sameOrigin ? 'same-origin' : 'include',
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }
}

export function createTesseraClient(options?: TesseraClientOptions): TesseraClient {
  return new TesseraClient(options);
}

async function codeOf(response: Response): Promise<string> {
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: unknown } | undefined;
  return typeof body?.error === 'string' ? body.error : `http_${response.status}`;
}

const curable = async (response: Response) =>
  response.status === 401 && REFRESHABLE.includes(await codeOf(response));
