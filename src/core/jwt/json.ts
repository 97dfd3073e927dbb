import { JwtError } from './errors.js';

export type JsonObject = { [member: string]: unknown };

/**
 * Fatal decoding: `Buffer#toString` would turn invalid UTF-8 into U+FFFD and let two byte
 * strings read as one JSON text (RFC 7519 7.2 step 10 wants valid UTF-8). The BOM is kept, so
 * JSON.parse refuses it instead of it vanishing silently.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a JOSE header or JWT claims set: UTF-8 JSON whose top level is an object, with no
 * member name repeated at any depth. JSON.parse keeps the last duplicate silently, and another
 * parser might keep the first, so a duplicated `alg` or `sub` is how two verifiers get told two
 * different stories (RFC 7515 4, RFC 8725 3.4); we refuse the token instead.
 */
export function parseJsonObject(bytes: Uint8Array, what: 'header' | 'payload'): JsonObject {
  let text: string;
  let value: unknown;
  try {
    text = utf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    throw new JwtError('token_malformed', `The token ${what} is not valid UTF-8 JSON.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtError('token_malformed', `The token ${what} is not a JSON object.`);
  }
  const duplicate = firstDuplicateMember(text);
  if (duplicate !== undefined) {
    throw new JwtError('token_malformed', `The token ${what} repeats the member "${duplicate}".`);
  }
  return value as JsonObject;
}

/**
 * The first member name that occurs twice in one object of a JSON text, or undefined.
 * Expects text JSON.parse has already accepted, so it only tracks strings, braces, brackets,
 * colons and commas. Names are compared decoded, so `"a"` and `"\u0061"` are the same name.
 * Iterative (an explicit stack), so hostile nesting cannot overflow the call stack.
 */
export function firstDuplicateMember(text: string): string | undefined {
  // One entry per open container: the member names seen so far, or null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = stack.at(-1) instanceof Set;
    } else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) {
          break;
        }
      }
      const names = stack.at(-1);
      if (expectName && names) {
        const raw = text.slice(start, i + 1);
        const name = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
    }
  }
  return undefined;
}
