import { randomBytes } from 'node:crypto';
import { PASSWORD } from '../helpers.js';
import { type Answer, sleep, type TesseraNode } from './node.js';

/**
 * Concurrent traffic against one node while a test breaks a dependency, checking on every
 * answer what an auth server must never do under faults:
 *
 * - the process never exits, and no request is reset, hangs, or gets a 5xx other than 503;
 * - no revoked credential is ever accepted (a 200 for a request sent after its revocation was
 *   acknowledged);
 * - no answer claims success for something not recorded: after recovery every acknowledged
 *   registration can log in, every acknowledged login still works, and every acknowledged
 *   revocation is still refused (verify()).
 *
 * The mix, per worker iteration: mostly validations (GET /auth/session), some listings
 * (GET /auth/sessions), revocations and new logins; plus one writer registering users.
 */
export type Mode = 'session' | 'hybrid';

interface Credential {
  token: string;
  sessionId: string;
  email: string;
  /** performance.now() when its revocation was acknowledged; undefined while live. */
  revokedAt?: number;
  /** A revocation got no clear answer (503, error): it may or may not have happened. */
  unknown?: boolean;
}

type Counts = Record<string, number>;

export class FaultLoad {
  /** Every answer the workers got, for counting by time window (countBetween). */
  readonly answers: Answer[] = [];
  readonly violations: string[] = [];
  phase = 'before';
  readonly #credentials: Credential[] = [];
  readonly #registered: string[] = [];
  #running = false;
  #reportedExit = false;
  /** sentAt of requests not answered yet. */
  readonly #inFlight = new Set<number>();
  #loops: Promise<void>[] = [];

  constructor(
    readonly node: TesseraNode,
    readonly mode: Mode,
  ) {}

  /** Registers `users` users and logs each in `loginsEach` times. */
  async prepare(users = 3, loginsEach = 3): Promise<void> {
    for (let u = 0; u < users; u++) {
      const email = newEmail();
      const registered = await this.node.request('POST', '/auth/register', {
        body: { email, password: PASSWORD },
      });
      if (registered.status !== 201)
        throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
      this.#registered.push(email);
      for (let l = 0; l < loginsEach; l++) {
        const credential = await this.#login(email);
        if (!credential) throw new Error('login failed while preparing');
      }
    }
  }

  /** Starts `workers` request loops and the registering writer. */
  start(workers = 6): void {
    this.#running = true;
    for (let w = 0; w < workers; w++) this.#loops.push(this.#work());
    this.#loops.push(this.#registerLoop());
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops.splice(0));
  }

  /** A live credential for probes (not one the workers revoke). */
  async probeCredential(): Promise<Credential> {
    const email = this.#registered[0] as string;
    for (let attempt = 0; attempt < 50; attempt++) {
      const answer = await this.node.request('POST', '/auth/login', {
        body: { email, password: PASSWORD, transport: 'bearer' },
      });
      if (answer.status === 200) return this.#credentialOf(answer, email);
      await sleep(100);
    }
    throw new Error('no probe credential');
  }

  /** Resolves once every request sent before `time` has its answer (at most 20 s). */
  async settled(time: number): Promise<void> {
    const deadline = performance.now() + 20_000;
    while ([...this.#inFlight].some((sentAt) => sentAt < time) && performance.now() < deadline)
      await sleep(20);
  }

  /**
   * Answers to requests in flight at any moment between `from` and `to` (performance.now()),
   * by status: `{status: count}`, network errors as `ERR:<code>`.
   */
  countBetween(from: number, to: number): Counts {
    const counts: Counts = {};
    for (const answer of this.answers) {
      if (answer.sentAt > to || answer.doneAt < from) continue;
      const key = answer.error ? `ERR:${answer.error}` : String(answer.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /**
   * After recovery: every acknowledged write is there. Registered users log in; live logins
   * validate; acknowledged revocations stay refused.
   */
  async verify(): Promise<void> {
    for (const credential of this.#credentials) {
      if (credential.unknown) continue;
      const answer = await this.node.request('GET', '/auth/session', { token: credential.token });
      if (credential.revokedAt !== undefined && answer.status !== 401) {
        this.violations.push(`revoked login ${credential.sessionId} answers ${answer.status} after recovery`);
      }
      if (credential.revokedAt === undefined && answer.status !== 200) {
        this.violations.push(
          `acknowledged login ${credential.sessionId} answers ${answer.status} after recovery`,
        );
      }
    }
    // A sample of the acknowledged registrations (each login costs a password hash).
    for (const email of this.#registered.slice(-4)) {
      const login = await this.node.request('POST', '/auth/login', {
        body: { email, password: PASSWORD, transport: 'bearer' },
      });
      if (login.status !== 200)
        this.violations.push(
          `acknowledged registration ${email} cannot log in: ${login.status} ${JSON.stringify(login.body)}`,
        );
    }
  }

  #check(phase: string, answer: Answer): void {
    this.answers.push(answer);
    if (answer.error)
      this.violations.push(`${phase}: network error ${answer.error} (reset, hang or dead process)`);
    else if (answer.status >= 500 && answer.status !== 503) {
      this.violations.push(`${phase}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    if (!this.node.alive() && !this.#reportedExit) {
      this.#reportedExit = true;
      this.violations.push(`${phase}: the node exited: ${this.node.stderr()}`);
    }
  }

  async #request(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Answer> {
    const phase = this.phase;
    const sentAt = performance.now();
    this.#inFlight.add(sentAt);
    const answer = await this.node.request(method, path, options);
    this.#inFlight.delete(sentAt);
    this.#check(phase, answer);
    return answer;
  }

  async #login(email: string): Promise<Credential | undefined> {
    const answer = await this.#request('POST', '/auth/login', {
      body: { email, password: PASSWORD, transport: 'bearer' },
    });
    if (answer.status !== 200) return undefined;
    const credential = this.#credentialOf(answer, email);
    this.#credentials.push(credential);
    return credential;
  }

  #credentialOf(answer: Answer, email: string): Credential {
    const body = answer.body as { token?: string; accessToken?: string; session: { id: string } };
    const token = this.mode === 'session' ? body.token : body.accessToken;
    if (!token) throw new Error(`login answered no token: ${JSON.stringify(body)}`);
    return { token, sessionId: body.session.id, email };
  }

  /** Accepting a credential whose revocation was acknowledged before the request was sent. */
  #checkAccepted(credential: Credential, answer: Answer): void {
    if (answer.status === 200 && credential.revokedAt !== undefined && answer.sentAt > credential.revokedAt) {
      this.violations.push(`${this.phase}: revoked login ${credential.sessionId} accepted`);
    }
  }

  async #work(): Promise<void> {
    while (this.#running && this.node.alive()) {
      const live = this.#credentials.filter((c) => c.revokedAt === undefined && !c.unknown);
      const revoked = this.#credentials.filter((c) => c.revokedAt !== undefined);
      const roll = Math.random();
      if (live.length < 4 || roll < 0.05) {
        await this.#login(pick(this.#registered));
      } else if (roll < 0.15 && revoked.length > 0) {
        // Replay a revoked credential: it must never be accepted again.
        const credential = pick(revoked);
        this.#checkAccepted(
          credential,
          await this.#request('GET', '/auth/session', { token: credential.token }),
        );
      } else if (roll < 0.6) {
        const credential = pick(live);
        this.#checkAccepted(
          credential,
          await this.#request('GET', '/auth/session', { token: credential.token }),
        );
      } else if (roll < 0.85) {
        const credential = pick(live);
        this.#checkAccepted(
          credential,
          await this.#request('GET', '/auth/sessions', { token: credential.token }),
        );
      } else {
        await this.#revoke(pick(live));
      }
    }
  }

  /**
   * Session mode: POST /auth/logout. Hybrid: DELETE /auth/sessions/:id, which needs the caller
   * authenticated (a revocation check that cannot be made fails it with 503).
   */
  async #revoke(credential: Credential): Promise<void> {
    if (credential.revokedAt !== undefined || credential.unknown) return;
    const answer =
      this.mode === 'session'
        ? await this.#request('POST', '/auth/logout', { token: credential.token })
        : await this.#request('DELETE', `/auth/sessions/${credential.sessionId}`, {
            token: credential.token,
          });
    if (answer.status === 204) credential.revokedAt = answer.doneAt;
    else credential.unknown = true;
  }

  async #registerLoop(): Promise<void> {
    while (this.#running && this.node.alive()) {
      const email = newEmail();
      const answer = await this.#request('POST', '/auth/register', { body: { email, password: PASSWORD } });
      if (answer.status === 201) this.#registered.push(email);
      await sleep(50);
    }
  }
}

export interface FaultResult {
  recoveryMs: number;
  /** Requests in flight at any time during the fault, by status. */
  fault: Counts;
  /** Requests in flight between the heal and recovery. */
  recovery: Counts;
}

/**
 * Breaks a dependency with `fault`, keeps the load on for `faultMs` (running `during` with a
 * live credential meanwhile), heals it with `heal`, and measures recovery: the time from the
 * heal until /healthz and a validation both answer 200.
 */
export async function runFault(
  load: FaultLoad,
  name: string,
  steps: {
    fault: () => Promise<void> | void;
    faultMs: number;
    heal: () => Promise<void> | void;
    during?: (probeToken: string) => Promise<void>;
  },
): Promise<FaultResult> {
  const probe = await load.probeCredential();
  load.phase = `${name}: fault`;
  const faultAt = performance.now();
  await steps.fault();
  await Promise.all([sleep(steps.faultMs), steps.during?.(probe.token)]);
  await steps.heal();
  const healedAt = performance.now();
  load.phase = `${name}: recovery`;
  let recoveryMs = Number.POSITIVE_INFINITY;
  while (performance.now() - healedAt < 30_000 && load.node.alive()) {
    const [health, session] = await Promise.all([
      load.node.request('GET', '/healthz', { timeoutMs: 5_000 }),
      load.node.request('GET', '/auth/session', { token: probe.token, timeoutMs: 5_000 }),
    ]);
    if (health.status === 200 && session.status === 200) {
      recoveryMs = Math.round(performance.now() - healedAt);
      break;
    }
    await sleep(25);
  }
  const recoveredAt = performance.now();
  load.phase = `${name}: after`;
  await load.settled(recoveredAt);
  const result = {
    recoveryMs,
    fault: load.countBetween(faultAt, healedAt),
    recovery: load.countBetween(healedAt, recoveredAt),
  };
  console.log(
    `[fault] ${name}: recovery ${recoveryMs} ms; requests during the fault ${JSON.stringify(result.fault)}; during recovery ${JSON.stringify(result.recovery)}`,
  );
  return result;
}

let counter = 0;
const run = randomBytes(4).toString('hex');
const newEmail = () => `fault${++counter}.${run}@example.com`;
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;
