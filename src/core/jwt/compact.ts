import type { JwsAlgorithm } from './algorithms.js';
import { JwtError } from './errors.js';
import { type JsonObject, parseJsonObject } from './json.js';

/** The JOSE header after parsing: `alg` is known to be allowed, `kid` well-formed if present. */
export interface JoseHeader extends JsonObject {
  alg: JwsAlgorithm;
  kid?: string;
  typ?: string;
}

/** A compact JWS that passed every structural check and none of the crypto yet. */
export interface ParsedJws<Payload = Buffer> {
  header: JoseHeader;
  payload: Payload;
  /** ASCII(BASE64URL(header) '.' BASE64URL(payload)): the exact bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

export interface ParseOptions {
  /** The algorithms configuration allows; the header's `alg` must be one of them. */
  allowedAlgs: readonly JwsAlgorithm[];
  /** Expected `typ` (RFC 8725 3.11); when undefined the header's `typ` is not checked. */
  typ?: string;
  /** Whether a `kid` must be present (it must for access tokens: it picks the key). */
  requireKid?: boolean;
  /** Longest token accepted, in characters (default 8 KiB). */
  maxLength?: number;
}

/**
 * An RS256 token with a 3072-bit key and every claim is under 1 KiB; refusing anything past
 * 8 KiB bounds the work an anonymous caller can make us do before the first check fails.
 */
const DEFAULT_MAX_LENGTH = 8192;

/** Header members we never act on. Refused outright, so no code path can ever follow them. */
const FORBIDDEN_HEADER_MEMBERS = [
  'crit', // RFC 7515 4.1.11: we understand no extension, so any `crit` must fail
  'jku', // a URL to fetch keys from: an attacker's key server (RFC 8725 3.10)
  'x5u', // same, for certificates
  'jwk', // the token bringing its own verification key: the attacker's key
  'x5c', // same, as a certificate chain we would have to validate
  'b64', // RFC 7797 unencoded payload: changes what the signature covers
] as const;

/**
 * Short and printable with no '/', quote, space or control character: a kid is only ever a
 * Map key here, never a path, a URL or a query, and this shape keeps it that way for any
 * code that logs or stores it. Our own kids are base64url; '.', '@', ':', '+' and '=' admit
 * the usual foreign ones (RFC 7520's "bilbo.baggins@hobbiton.example").
 */
const KID_SHAPE = /^[A-Za-z0-9_.@:+=-]{1,64}$/;

/** Whether `kid` has the shape this parser accepts; keys must pass it too, or no token could name them. */
export function isKid(kid: unknown): kid is string {
  return typeof kid === 'string' && KID_SHAPE.test(kid);
}

const BASE64URL_SHAPE = /^[A-Za-z0-9_-]*$/;

/**
 * Parses a compact JWS (RFC 7515 7.1) strictly, before any crypto: exactly three segments of
 * canonical unpadded base64url, a JSON-object header without duplicate members, an allowed
 * `alg`, no forbidden header member, the expected `typ` and a well-formed `kid`. The payload is
 * returned as bytes: generic JWS payloads need not be JSON (see parseJwt for claims sets).
 */
export function parseJws(compact: string, options: ParseOptions): ParsedJws {
  if (typeof compact !== 'string' || compact.length > (options.maxLength ?? DEFAULT_MAX_LENGTH)) {
    throw new JwtError('token_malformed', 'The token is missing or too long.');
  }
  const segments = compact.split('.');
  if (segments.length !== 3) {
    throw new JwtError('token_malformed', 'A compact JWS has exactly three dot-separated segments.');
  }
  const [encodedHeader, encodedPayload, encodedSignature] = segments as [string, string, string];
  const headerBytes = decodeSegment(encodedHeader, 'header');
  const payload = decodeSegment(encodedPayload, 'payload');
  const signature = decodeSegment(encodedSignature, 'signature');
  // A stripped signature is refused here, whatever `alg` claims: nothing we accept is unsigned.
  if (signature.length === 0) throw new JwtError('token_malformed', 'The token has no signature.');
  const header = parseHeader(headerBytes, options);
  return { header, payload, signingInput: `${encodedHeader}.${encodedPayload}`, signature };
}

/** parseJws for a JWT (RFC 7519 7.2): the payload must also be a JSON object, duplicate-free. */
export function parseJwt(compact: string, options: ParseOptions): ParsedJws<JsonObject> {
  const jws = parseJws(compact, options);
  return { ...jws, payload: parseJsonObject(jws.payload, 'payload') };
}

/**
 * Canonical base64url only (RFC 7515 2): no padding, no other alphabet, no whitespace, and
 * the unused low bits of the last character zero. Node's decoder skips junk and ignores those
 * bits, so several strings would decode to the same bytes; re-encoding must give the input back.
 */
function decodeSegment(segment: string, what: string): Buffer {
  if (!BASE64URL_SHAPE.test(segment) || segment.length % 4 === 1) {
    throw new JwtError('token_malformed', `The token ${what} is not base64url.`);
  }
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) {
    throw new JwtError('token_malformed', `The token ${what} is not canonical base64url.`);
  }
  return bytes;
}

function parseHeader(bytes: Buffer, options: ParseOptions): JoseHeader {
  const header = parseJsonObject(bytes, 'header');
  const { alg, typ, kid } = header;
  if (typeof alg !== 'string') throw new JwtError('token_malformed', 'The token header has no "alg".');
  // `none` is never in an allowlist anyway; named here so no casing of it can ever slip through.
  if (alg.toLowerCase() === 'none') {
    throw new JwtError('token_alg_not_allowed', 'Unsigned tokens (alg "none") are never accepted.');
  }
  if (!(options.allowedAlgs as readonly string[]).includes(alg)) {
    throw new JwtError('token_alg_not_allowed', `The algorithm "${printable(alg)}" is not allowed here.`);
  }
  for (const member of FORBIDDEN_HEADER_MEMBERS) {
    if (Object.hasOwn(header, member)) {
      throw new JwtError('token_header_forbidden', `The header member "${member}" is not accepted.`);
    }
  }
  if (options.typ !== undefined && (typeof typ !== 'string' || !sameMediaType(typ, options.typ))) {
    throw new JwtError('token_typ_invalid', `The token is not of type "${options.typ}".`);
  }
  if (typ !== undefined && typeof typ !== 'string') {
    throw new JwtError('token_malformed', 'The header "typ" is not a string.');
  }
  if (kid === undefined ? options.requireKid : !isKid(kid)) {
    throw new JwtError('token_malformed', 'The header "kid" is missing or not 1-64 base64url characters.');
  }
  return header as JoseHeader;
}

/**
 * RFC 7515 4.1.9 and RFC 8725 3.11: media types compare case-insensitively, and a `typ`
 * without a '/' means `application/<typ>`; so `at+jwt`, `AT+JWT` and `application/at+jwt`
 * are one type (RFC 9068 2.1 names both spellings).
 */
export function sameMediaType(a: string, b: string): boolean {
  const full = (t: string) => (t.includes('/') ? t : `application/${t}`).toLowerCase();
  return full(a) === full(b);
}

/** Echoes attacker-chosen text in a message only as short, plain ASCII. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 32);
}
