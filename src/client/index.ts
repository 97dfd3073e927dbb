/**
 * `tessera/client`: the browser SDK, one dependency-free ES module (dist/client/index.js).
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
const CSRF_COOKIE = '__Host-tessera_csrf'; // = CSRF_COOKIE in src/wire/credentials.ts
const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/i;
/** 401 codes a refresh can cure. */
const REFRESHABLE = ['token_expired', 'token_revoked', 'unauthenticated'];
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
/** Sentences by error code (and `logout`). A locked account is never named (attackers learn nothing). */
export const DEFAULT_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  logout: 'You logged out.',
  invalid_credentials: 'The email or password is not right, or this account cannot sign in right now.',
  unauthenticated:
    'You were signed out: your login ended. It may have expired, been ended from another device, or been ended by our staff (for example when an account is locked). Please sign in again; if you cannot, contact support.',
  token_revoked:
    'You were signed out: your login was ended, from another device or by our staff (for example when an account is locked). Please sign in again; if you cannot, contact support.',
  invalid_refresh_token: 'You were signed out: your login ended. Please sign in again.',
  token_expired: 'Your login expired. Please sign in again.',
  token_reused:
    'You were signed out to protect your account: your login was used from two places at once. Please sign in again and consider changing your password.',
  email_unverified: 'Please confirm your email address first: follow the link we sent you.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  forbidden: 'Your account is not allowed to do this.',
  csrf_token_invalid: 'This page is out of date. Please reload it and try again.',
  store_unavailable: 'Signing in is not available right now. Please try again in a moment.',
  tessera_unavailable: 'Signing in is not available right now. Please try again in a moment.',
  busy: 'Signing in is busy right now. Please try again in a moment.',
  mfa_code_invalid: 'That code is not right or was already used. Enter the current code from your app.',
  mfa_challenge_invalid: 'This sign-in took too long. Please enter your email and password again.',
  step_up_required: 'Please confirm it is you to continue.',
  mfa_required: 'This needs a sign-in with your authenticator app.',
});
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
type ClientEvent = 'logged-out' | 'logged-in' | 'refreshed' | 'step-up-required';
type Outcome = 'refreshed' | 'waited' | 'failed' | 'unavailable';
type Message =
  | { type: 'refreshing' | 'refreshed'; at: number }
  | { type: 'logged-in' }
  | { type: 'logged-out'; reason: string };
/** The browser globals used, typed here so that this file needs no DOM library to compile. */
type Channel = {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((e: { data: unknown }) => void) | null;
};
interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  request<T>(
    name: string,
    options: { ifAvailable: true },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}
const browser = globalThis as unknown as {
  document?: { cookie: string };
  location?: { href: string };
  navigator?: { locks?: Locks };
  BroadcastChannel?: new (name: string) => Channel;
};
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
    if (method === 'POST' && path !== '/auth/login' && path !== '/auth/mfa/verify') {
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

function readCookie(name: string): string | undefined {
  for (const part of (browser.document?.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
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
