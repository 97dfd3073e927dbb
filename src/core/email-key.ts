import { domainToASCII } from 'node:url';

/**
 * The canonical key of an email address: two addresses a person could mistake for each other
 * get the same key, and the store keeps one account per key (a unique index). What the user
 * typed stays the display form. Pure and without imports from the rest of Tessera, because the
 * migration that fills the key for existing rows (store/sql/migrations.ts) uses it too.
 *
 *   local part: NFKC (fullwidth `ｂ` → `b`, ligatures, `ℓ` → `l`), lower case, then the
 *               confusable skeleton below;
 *   domain:     NFKC, lower case, IDNA to ASCII (punycode) with node:url's domainToASCII, so
 *               `bücher.de` and `xn--bcher-kva.de` are one domain.
 *
 * Dots and `+tags` are kept: whether `a.b@` and `ab@` are one mailbox is each mail provider's
 * rule, not a standard one. Changing these rules changes existing keys: ship that as a new
 * migration that recomputes them.
 */

/**
 * The confusable skeleton (Unicode TS 39, section 4), reduced to what matters once the local
 * part is NFKC-folded, lower-cased and (at registration) single-script: lower-case letters of
 * the Latin, Cyrillic, Greek and Armenian scripts that TS 39's confusables.txt (v13, "MA"
 * table) maps to a single Latin letter or digit, plus its one Latin sequence `rn` ~ `m`. The
 * full table (6,311 rows, mostly symbols and rare scripts) is not worth carrying for an
 * address field: upper case is folded away first, mixed-script local parts are refused at
 * registration, and NFKC already maps the compatibility forms (fullwidth, mathematical
 * letters, ligatures). What stays is what makes one whole-script address (`ѕсоtt` written all
 * in Cyrillic) or one Latin address (`admın` with a dotless ı) pass for another.
 *
 * One deliberate difference: TS 39 maps `0` to `O` and keeps `o`, because it is case-sensitive;
 * with case folded first, `0` → `o` (and `1` → `l`, as in TS 39). `rn` → `m` is TS 39's
 * `m` → `rn` read the other way; both make the same pairs equal.
 */
const CONFUSABLE_CHARACTERS: Readonly<Record<string, string>> = {
  // Digits and Latin look-alikes within Latin (the dotless ı of `admın`, small capitals, IPA).
  '0': 'o',
  '1': 'l',
  '|': 'l',
  ɑ: 'a',
  ᴄ: 'c',
  ɡ: 'g',
  ı: 'i',
  ɪ: 'i',
  ɩ: 'i',
  ǀ: 'l',
  ᴏ: 'o',
  ꜱ: 's',
  ᴜ: 'u',
  ʋ: 'u',
  ᴠ: 'v',
  ɯ: 'w',
  ᴡ: 'w',
  ɣ: 'y',
  ʏ: 'y',
  ᴢ: 'z',
  // Cyrillic.
  а: 'a',
  б: '6',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  ҽ: 'e',
  һ: 'h',
  і: 'i',
  ꙇ: 'i',
  ӏ: 'i',
  ј: 'j',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  г: 'r',
  ѕ: 's',
  ѵ: 'v',
  ѡ: 'w',
  ԝ: 'w',
  х: 'x',
  у: 'y',
  ү: 'y',
  // Greek.
  α: 'a',
  ι: 'i',
  ϳ: 'j',
  ο: 'o',
  σ: 'o',
  ρ: 'p',
  υ: 'u',
  ν: 'v',
  γ: 'y',
  // Armenian.
  ք: 'f',
  ց: 'g',
  հ: 'h',
  ո: 'n',
  ռ: 'n',
  օ: 'o',
  գ: 'q',
  զ: 'q',
  ս: 'u',
  ա: 'w',
};

/** TS 39's multi-character confusable among Latin letters. */
const CONFUSABLE_SEQUENCES: ReadonlyArray<[RegExp, string]> = [[/rn/g, 'm']];

/** The skeleton of a local part: equal skeletons look alike. */
export function localPartSkeleton(local: string): string {
  const folded = local
    .normalize('NFKC')
    .toLowerCase()
    // `İ`.toLowerCase() is `i` + combining dot above, which looks like a plain `i`.
    .replace(/([ij])\u0307/gu, '$1')
    .normalize('NFKC');
  let skeleton = '';
  for (const character of folded) skeleton += CONFUSABLE_CHARACTERS[character] ?? character;
  for (const [sequence, replacement] of CONFUSABLE_SEQUENCES)
    skeleton = skeleton.replace(sequence, replacement);
  return skeleton.normalize('NFC');
}

/** The domain in ASCII (IDNA/punycode), lower case; undefined when it is not a valid domain. */
export function asciiDomain(domain: string): string | undefined {
  const ascii = domainToASCII(domain.normalize('NFKC').toLowerCase());
  return ascii === '' ? undefined : ascii;
}

/**
 * The canonical key of an address that has the `local@domain` shape. A domain that IDNA
 * refuses (only possible for rows stored before the key existed) keeps its lower-cased form,
 * so every stored row still gets a key.
 */
export function canonicalEmailKey(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  return `${localPartSkeleton(local)}@${asciiDomain(domain) ?? domain.normalize('NFKC').toLowerCase()}`;
}

/**
 * The key prefix an operator's search text matches (the admin console's user search): the local
 * part's skeleton, and after an `@` the domain as far as typed. So `Ada`, `ADA@Ex` find
 * `ada@example.com`. Not exact at a split confusable sequence: `r` does not find `rn…` (key `m…`).
 */
export function emailKeyPrefix(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return localPartSkeleton(text);
  const domain = text.slice(at + 1);
  const asciiPart = domain === '' ? '' : (asciiDomain(domain) ?? domain.normalize('NFKC').toLowerCase());
  return `${localPartSkeleton(text.slice(0, at))}@${asciiPart}`;
}
