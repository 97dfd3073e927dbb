/**
 * `tessera/client`: the browser SDK. No dependencies; bundle it or load dist/client/index.js as
 * an ES module. Type-checked against the DOM library by src/client/tsconfig.json; browser-only
 * globals are reached through `globalThis` so this file also compiles with the server's types.
 *
 * - Credentials stay in Tessera's HttpOnly cookies. This code never sees, stores or sends a
 *   token itself: nothing here is worth stealing by an injected script beyond the anti-CSRF
 *   token, which is useless without the cookies.
 * - `client.fetch` adds `x-csrf-token` to state-changing requests to its own origin, and on a 401
 *   that a refresh can cure (`token_expired`, `token_revoked`, or `unauthenticated` once the
 *   access cookie's Max-Age has dropped it) refreshes once and retries.
 * - One refresh for everyone: concurrent callers in a tab share one promise; tabs share the Web
 *   Lock `tessera-refresh` (a tab that finds it held waits for the holder, then retries without
 *   refreshing), and announce refreshes on a BroadcastChannel. Without Web Locks the channel
 *   alone coordinates (a tab that hears "refreshing" waits for "refreshed"); two tabs starting
 *   in the same instant may then both refresh, which Tessera's reuse grace window accepts.
 * - A refresh Tessera refuses (`token_reused`, `invalid_refresh_token`, a revoked or locked
 *   login; 404 in session mode, which has no refresh) ends the login: a `logged-out` event here
 *   and in every other tab.
 * - What a person reads is a sentence, never a raw code: `TesseraError.message` and
 *   `LoggedOutEvent.message` come from DEFAULT_MESSAGES (override with the `messages` option);
 *   codes without a sentence there keep Tessera's own message.
 */

import { browser, type Channel, readCookie } from './globals.js';
import { DEFAULT_MESSAGES } from './messages.js';
import { createPasskeyCredential, getPasskeyCredential, type PasskeyPrompt } from './passkeys.js';

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
}

export interface TesseraClientOptions {
  /** Sentences by error code, over DEFAULT_MESSAGES (e.g. in another language). */
  messages?: Readonly<Record<string, string>>;
  /** Where Tessera's /auth routes are; default this page's origin (proxy them: __Host- cookies). */
  baseUrl?: string;
  /** Name of the Web Lock and BroadcastChannel; tabs with the same name share refreshes. */
  name?: string;
  fetch?: typeof fetch;
}

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

type Outcome = 'refreshed' | 'waited' | 'failed' | 'unavailable';
type Message =
  | { type: 'refreshing'; at: number }
  | { type: 'refreshed'; at: number }
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

  /** Logs in with cookies (Tessera sets them); resolves to the user, or throws a TesseraError. */
  async login(email: string, password: string): Promise<{ user: TesseraUser; session: TesseraSession }> {
    return this.#loggedIn(await this.#call('POST', '/auth/login', { email, password }));
  }

  /**
   * Signs in with a passkey alone (usernameless). `conditional`: the passkeys are offered in the
   * autofill of `<input autocomplete="username webauthn">`, not a dialog; settles on a pick.
   */
  signInWithPasskey(options: PasskeyPrompt = {}): Promise<{ user: TesseraUser; session: TesseraSession }> {
    return this.#passkeyLogin('/auth/passkeys/login/options', '/auth/passkeys/login', 'response', options);
  }

  /** The second step of a password login that answered `{mfaRequired, methods: [… 'passkey']}`. */
  verifyWithPasskey(options: PasskeyPrompt = {}): Promise<{ user: TesseraUser; session: TesseraSession }> {
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
    if (response.status === 401 && this.#state !== 'out') {
      this.#loggedOut(await codeOf(response), true);
    }
    return response;
  }

  /** Subscribes to `logged-out`, `logged-in` or `refreshed`; returns the unsubscribe function. */
  on(type: 'logged-out' | 'logged-in' | 'refreshed', listener: (event: Event) => void): () => void {
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
    const challenge = await this.#call('POST', optionsPath, {});
    if (!challenge.ok) throw await this.#errorOf(challenge);
    const credential = await getPasskeyCredential(
      (await challenge.json()) as Record<string, unknown>,
      prompt,
    );
    return this.#loggedIn(await this.#call('POST', path, { [field]: credential }));
  }

  /** POST through `fetch` (anti-CSRF header, refresh): the JSON answer, or a TesseraError. */
  async #json(path: string, body: object): Promise<Record<string, unknown>> {
    const headers = { 'content-type': 'application/json' };
    const response = await this.fetch(this.#url(path), {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await this.#errorOf(response);
    return (await response.json()) as Record<string, unknown>;
  }

  /** A way in answered: on success this tab (and every other) is logged in. */
  async #loggedIn(response: Response): Promise<{ user: TesseraUser; session: TesseraSession }> {
    if (!response.ok) throw await this.#errorOf(response);
    this.#csrf = undefined;
    this.#refreshedAt = Date.now();
    this.#state = 'in';
    this.#post({ type: 'logged-in' });
    this.dispatchEvent(new Event('logged-in'));
    return (await response.json()) as { user: TesseraUser; session: TesseraSession };
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
