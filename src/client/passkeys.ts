/**
 * The WebAuthn half of tessera/client, no dependencies: Tessera's options (JSON, byte fields as
 * base64url) into what navigator.credentials.create/get take (ArrayBuffers), and the
 * credential they return back into JSON for Tessera. Loaded by index.ts (served beside it as
 * `passkeys.js`). Browser globals are reached through `globalThis`, so this file also compiles
 * with the server's types; the DOM-typed check is src/client/tsconfig.json.
 */

type Json = Record<string, unknown>;

/** How a passkey is asked for: `conditional` (autofill, not a dialog), `signal` to abort. */
export interface PasskeyPrompt {
  conditional?: boolean;
  signal?: AbortSignal;
}

interface CredentialLike {
  id: string;
  rawId: ArrayBuffer;
  type: string;
  authenticatorAttachment?: string | null;
  response: {
    clientDataJSON: ArrayBuffer;
    attestationObject?: ArrayBuffer;
    authenticatorData?: ArrayBuffer;
    signature?: ArrayBuffer;
    userHandle?: ArrayBuffer | null;
    getTransports?(): string[];
    getAuthenticatorData?(): ArrayBuffer;
    getPublicKey?(): ArrayBuffer | null;
    getPublicKeyAlgorithm?(): number;
  };
  getClientExtensionResults?(): Json;
}

interface CredentialsContainer {
  create(options: Json): Promise<CredentialLike | null>;
  get(options: Json): Promise<CredentialLike | null>;
}

const browser = globalThis as unknown as {
  navigator?: { credentials?: CredentialsContainer };
  PublicKeyCredential?: {
    isConditionalMediationAvailable?(): Promise<boolean>;
  };
};

export function bytesToBase64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64urlToBytes(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

const withIds = (list: unknown) =>
  Array.isArray(list) ? list.map((c: Json) => ({ ...c, id: base64urlToBytes(c.id as string) })) : list;

/** POST /auth/passkeys/register/options's JSON → navigator.credentials.create's `publicKey`. */
export function creationOptionsFromJSON(json: Json): Json {
  const user = json.user as Json;
  return {
    ...json,
    challenge: base64urlToBytes(json.challenge as string),
    user: { ...user, id: base64urlToBytes(user.id as string) },
    ...(json.excludeCredentials ? { excludeCredentials: withIds(json.excludeCredentials) } : {}),
  };
}

/** A login (or second factor, step-up) options JSON → navigator.credentials.get's `publicKey`. */
export function requestOptionsFromJSON(json: Json): Json {
  return {
    ...json,
    challenge: base64urlToBytes(json.challenge as string),
    ...(json.allowCredentials ? { allowCredentials: withIds(json.allowCredentials) } : {}),
  };
}

/** A PublicKeyCredential (from create or get) → the JSON Tessera takes as `response`. */
export function credentialToJSON(credential: CredentialLike): Json {
  const r = credential.response;
  const response: Json = { clientDataJSON: bytesToBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bytesToBase64url(r.attestationObject);
    const transports = r.getTransports?.();
    if (transports) response.transports = transports;
    const authenticatorData = r.getAuthenticatorData?.();
    if (authenticatorData) response.authenticatorData = bytesToBase64url(authenticatorData);
    const publicKey = r.getPublicKey?.();
    if (publicKey) response.publicKey = bytesToBase64url(publicKey);
    const algorithm = r.getPublicKeyAlgorithm?.();
    if (typeof algorithm === 'number') response.publicKeyAlgorithm = algorithm;
  } else {
    response.authenticatorData = bytesToBase64url(r.authenticatorData as ArrayBuffer);
    response.signature = bytesToBase64url(r.signature as ArrayBuffer);
    if (r.userHandle) response.userHandle = bytesToBase64url(r.userHandle);
  }
  // Only JSON-safe extension outputs (credProps); binary ones (prf) are not Tessera's business.
  const extensions = credential.getClientExtensionResults?.() ?? {};
  return {
    id: credential.id,
    rawId: bytesToBase64url(credential.rawId),
    type: credential.type,
    response,
    ...(credential.authenticatorAttachment
      ? { authenticatorAttachment: credential.authenticatorAttachment }
      : {}),
    clientExtensionResults: extensions.credProps ? { credProps: extensions.credProps } : {},
  };
}

function credentials(): CredentialsContainer {
  const container = browser.navigator?.credentials;
  if (!container || !browser.PublicKeyCredential) throw new PasskeyUnsupportedError();
  return container;
}

/** navigator.credentials.create for Tessera's creation options; the JSON to send back. */
export async function createPasskeyCredential(options: Json, signal?: AbortSignal): Promise<Json> {
  const credential = await credentials().create({ publicKey: creationOptionsFromJSON(options), signal });
  if (!credential) throw new PasskeyUnsupportedError('The browser returned no passkey.');
  return credentialToJSON(credential);
}

/**
 * navigator.credentials.get for Tessera's request options; `conditional`: the browser offers
 * passkeys in the autofill of an `<input autocomplete="username webauthn">` instead of a dialog,
 * and the promise settles only once the user picks one (abort it with `signal`).
 */
export async function getPasskeyCredential(
  options: Json,
  { conditional = false, signal }: PasskeyPrompt = {},
): Promise<Json> {
  const credential = await credentials().get({
    publicKey: requestOptionsFromJSON(options),
    ...(conditional ? { mediation: 'conditional' } : {}),
    signal,
  });
  if (!credential) throw new PasskeyUnsupportedError('The browser returned no passkey.');
  return credentialToJSON(credential);
}

/** Whether this browser offers passkeys in autofill (conditional mediation). */
export async function conditionalMediationAvailable(): Promise<boolean> {
  return (await browser.PublicKeyCredential?.isConditionalMediationAvailable?.().catch(() => false)) ?? false;
}

/** No WebAuthn here (an old browser, an insecure context): offer the password instead. */
export class PasskeyUnsupportedError extends Error {
  constructor(message = 'This browser cannot use passkeys here.') {
    super(message);
    this.name = 'PasskeyUnsupportedError';
  }
}
