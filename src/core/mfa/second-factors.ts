import type { UserRecord } from '../../store/ports/index.js';
import { AuthError } from '../errors.js';
import type { ClientContext } from '../sessions.js';

/**
 * A kind of second factor (TOTP, recovery codes, passkeys …) as the login challenge
 * (`POST /auth/mfa/verify`) and step-up (`POST /auth/reauthenticate`) see it. The routes know
 * no factor by name: they ask the registry which methods a user has and hand the request body
 * to the method whose `field` it carries, so a new kind of factor is one `register` call in
 * openFeatures (src/open-features.ts) and no route change.
 */
export interface SecondFactorMethod {
  /** The name listed in `methods` of an `mfaRequired` answer and by `GET /auth/mfa`, e.g. `totp`. */
  readonly name: string;
  /**
   * The body field that carries this method's proof (`code`, `recoveryCode`, `passkey`). Its
   * value is handed to `verify` as it came (unknown): the method validates its own shape.
   */
  readonly field: string;
  /** Whether the method counts as a second factor the user has set up (so a login asks for it). */
  enrolled(user: UserRecord): Promise<boolean>;
  /**
   * Checks the proof. Returns the RFC 8176 amr values it proves (e.g. ["otp"], ["hwk"]).
   * Throws AuthError `mfa_code_invalid` (401) for a wrong, reused or malformed proof, or
   * `invalid_input` (400) when the value has not even the method's shape. The caller counts a
   * failure against the account's attempt limit; the method changes nothing when it fails.
   * `purpose` tells a login's second step from a step-up (a passkey challenge may differ).
   */
  verify(
    user: UserRecord,
    proof: unknown,
    context: { client: ClientContext; purpose: 'login' | 'step-up' },
  ): Promise<string[]>;
}

/** The registry: Mfa registers TOTP and recovery codes; more kinds plug in the same way. */
export class SecondFactors {
  readonly #methods = new Map<string, SecondFactorMethod>();

  /** Adds a kind of factor; a second registration of the same name or field is a programming error. */
  register(method: SecondFactorMethod): void {
    for (const existing of this.#methods.values()) {
      if (existing.name === method.name || existing.field === method.field) {
        throw new Error(`second factor ${method.name} (${method.field}) is already registered`);
      }
    }
    this.#methods.set(method.name, method);
  }

  /** Every registered method, in registration order. */
  all(): SecondFactorMethod[] {
    return [...this.#methods.values()];
  }

  /** The body fields that may carry a proof (the routes' input schema is built from them). */
  fields(): string[] {
    return this.all().map((method) => method.field);
  }

  /** The names of the methods the user has enrolled, in registration order. */
  async enrolledMethods(user: UserRecord): Promise<string[]> {
    const enrolled = await Promise.all(this.all().map((method) => method.enrolled(user)));
    return this.all()
      .filter((_method, index) => enrolled[index])
      .map((method) => method.name);
  }

  /**
   * Finds the one method whose field the body carries and verifies it: its amr values. A body
   * with no proof, or more than one, is 400 invalid_request; a method the user has not enrolled
   * is 401 mfa_code_invalid (as a wrong code: nothing tells which factors someone lacks).
   */
  /** The one method whose field the body carries; 400 invalid_request for none or several. */
  methodFor(body: Readonly<Record<string, unknown>>): SecondFactorMethod {
    const present = this.all().filter((method) => body[method.field] !== undefined);
    if (present.length !== 1) {
      throw new AuthError('invalid_request', `Send exactly one of: ${this.fields().join(', ')}.`);
    }
    return present[0] as SecondFactorMethod;
  }

  async verify(
    user: UserRecord,
    body: Readonly<Record<string, unknown>>,
    context: { client: ClientContext; purpose: 'login' | 'step-up' },
  ): Promise<{ method: string; amr: string[] }> {
    const method = this.methodFor(body);
    if (!(await method.enrolled(user))) throw new AuthError('mfa_code_invalid');
    return { method: method.name, amr: await method.verify(user, body[method.field], context) };
  }
}
